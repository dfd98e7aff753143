/*
 * recmatch: the pure parts of connection state recovery (recovery.h).
 * A pid is the log's epoch (8 lowercase hex) and 16 base64url random
 * characters: a pid of an earlier log (a restart) names no session here,
 * and the random part is not guessable.  What a client sends back in its
 * CONNECT auth is anybody's string: only our exact shapes pass.
 */
#include <openssl/evp.h>
#include <string.h>

#include "base64.h"
#include "recovery.h"

#define EPOCH_HEX	8

static bool	 lower_hex(const char *, size_t);
static bool	 in_rooms(const struct reclog_sess *, const char *, size_t);

static bool
lower_hex(const char *p, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') ||
		    (p[i] >= 'a' && p[i] <= 'f')))
			return false;
	return true;
}

/* A new pid for a log of this epoch, from the caller's random bytes. */
void
recovery_pid_make(uint32_t epoch, const uint8_t rnd[RECOVERY_PID_RANDOM],
    char pid[RECLOG_PID_LEN + 1])
{
	static const char	hex[] = "0123456789abcdef";
	int			i;

	for (i = EPOCH_HEX - 1; i >= 0; i--, epoch >>= 4)
		pid[i] = hex[epoch & 15];
	(void)base64_encode(rnd, RECOVERY_PID_RANDOM, pid + EPOCH_HEX,
	    RECLOG_PID_LEN - EPOCH_HEX + 1, BASE64_URL);
	pid[RECLOG_PID_LEN] = '\0';
}

/* Is this a pid's shape (not: a pid of ours, which the log says)? */
bool
recovery_pid_valid(const char *p, size_t n)
{
	size_t	i;

	if (p == NULL || n != RECLOG_PID_LEN || !lower_hex(p, EPOCH_HEX))
		return false;
	for (i = EPOCH_HEX; i < n; i++)
		if (base64_value((unsigned char)p[i], BASE64_URL) < 0)
			return false;
	return true;
}

/*
 * What a CONNECT's auth asks: socket.io's client sends {pid, offset}
 * (strings) beside its own auth once it has a pid, and only an offset it
 * heard.  Without both strings it is a new socket, as in socket.io; with
 * both, each must have our exact shape (the offset's epoch and place in
 * the log are reclog_parse_off()'s and reclog_scan()'s to judge).
 */
int
recovery_ask(json_t *auth, struct recovery_ask *a)
{
	json_t	*pid, *off;
	size_t	 pn, on;

	memset(a, 0, sizeof(*a));
	if (!json_is_object(auth))
		return RECOVERY_ASK_NONE;
	pid = json_object_get(auth, "pid");
	off = json_object_get(auth, "offset");
	if (!json_is_string(pid) || !json_is_string(off))
		return RECOVERY_ASK_NONE;
	pn = json_string_length(pid);
	on = json_string_length(off);
	if (!recovery_pid_valid(json_string_value(pid), pn) ||
	    on != RECLOG_OFF_LEN || !lower_hex(json_string_value(off), on))
		return RECOVERY_ASK_BAD;
	memcpy(a->pid, json_string_value(pid), pn);
	memcpy(a->off, json_string_value(off), on);
	return RECOVERY_ASK;
}

/*
 * The first RECLOG_USER_HASH bytes of the user id's SHA-256: the slot
 * holds no user id, and a recovery needs the same one.  0, or -1.
 */
int
recovery_user_hash(const char *user, size_t len,
    uint8_t out[RECLOG_USER_HASH])
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	n = 0;

	if (EVP_Digest(user, len, md, &n, EVP_sha256(), NULL) != 1 ||
	    n < RECLOG_USER_HASH)
		return -1;
	memcpy(out, md, RECLOG_USER_HASH);
	return 0;
}

void
recovery_rooms_clear(struct reclog_sess *s)
{
	s->rooms_len = 0;
	memset(s->rooms, 0, sizeof(s->rooms));
}

/*
 * One more room in the slot ("a\0b\0"): 0, or RECLOG_E_ROOMS when it
 * does not fit (the session is then not recoverable: its rooms would
 * not all come back).
 */
int
recovery_rooms_add(struct reclog_sess *s, const char *room, size_t len)
{
	if (len == 0 || memchr(room, '\0', len) != NULL ||
	    len + 1 > sizeof(s->rooms) - s->rooms_len)
		return RECLOG_E_ROOMS;
	memcpy(s->rooms + s->rooms_len, room, len);
	s->rooms[s->rooms_len + len] = '\0';
	s->rooms_len += len + 1;
	return 0;
}

static bool
in_rooms(const struct reclog_sess *s, const char *room, size_t len)
{
	size_t	at = 0, n;

	while (at < s->rooms_len && at < sizeof(s->rooms)) {
		n = strnlen(s->rooms + at, sizeof(s->rooms) - at);
		if (n == len && memcmp(s->rooms + at, room, len) == 0)
			return true;
		at += n + 1;
	}
	return false;
}

/*
 * Did session s miss entry e?  Its own sid, its rooms, its user's room
 * (userroom, derived: not kept), every socket (RECOVERY_ROOM_ALL), but
 * not when it was the except; and of
 * a frame every worker appended for itself (from Redis: worker >= 0),
 * only the copy of the worker that served it (old), or it would come as
 * many times as there are workers.
 */
bool
recovery_wants(const struct reclog_sess *s, int old, const char *userroom,
    size_t ulen, const struct reclog_ent *e)
{
	size_t	sl = strnlen(s->sid, sizeof(s->sid));

	if (e->worker >= 0 && e->worker != old)
		return false;
	if (e->except != NULL && e->elen == sl &&
	    memcmp(e->except, s->sid, sl) == 0)
		return false;
	if (e->rlen == sl && memcmp(e->room, s->sid, sl) == 0)
		return true;	/* to its sid, as a socket or as a room */
	if (e->to != RECLOG_TO_ROOM)
		return false;
	if (userroom != NULL && e->rlen == ulen &&
	    memcmp(e->room, userroom, ulen) == 0)
		return true;
	if (e->rlen == sizeof(RECOVERY_ROOM_ALL) - 1 &&
	    memcmp(e->room, RECOVERY_ROOM_ALL, e->rlen) == 0)
		return true;
	return in_rooms(s, e->room, e->rlen);
}
