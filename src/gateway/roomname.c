/*
 * roomname: the gateway's room-name rules (roomname.h): build, parse, and
 * who may join or leave.  Pure: no I/O, no logging.
 */
#include <string.h>

#include "roomname.h"
#include "rooms.h"

/* Every name built or parsed here fits the index. */
_Static_assert(ROOMNAME_MAX <= ROOMS_NAME_MAX,
    "a room name would not fit the room index");

static int	id_cmp(const char *, size_t, const char *, size_t);

/* An id of a room name: 1..128 bytes, no ':', no control character. */
bool
roomname_id_valid(const char *id, size_t len)
{
	size_t	i;

	if (id == NULL || len == 0 || len > ROOMNAME_ID_MAX)
		return (false);
	for (i = 0; i < len; i++) {
		if ((unsigned char)id[i] < 0x20 || id[i] == 0x7f ||
		    id[i] == ':')
			return (false);
	}
	return (true);
}

/* Bytewise, then shorter first: the order of chat:<a>:<b>. */
static int
id_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int	c;

	c = memcmp(a, b, alen < blen ? alen : blen);
	if (c != 0)
		return (c);
	return (alen < blen ? -1 : alen > blen);
}

/*
 * The name builders write a NUL-terminated name into buf (at least
 * ROOMNAME_SIZE bytes) and return its length, or -1 for an invalid id.
 */
int
roomname_user(const char *id, size_t len, char *buf)
{
	if (!roomname_id_valid(id, len))
		return (-1);
	memcpy(buf, "user:", 5);
	memcpy(buf + 5, id, len);
	buf[5 + len] = '\0';
	return ((int)(5 + len));
}

int
roomname_group(const char *id, size_t len, char *buf)
{
	if (!roomname_id_valid(id, len))
		return (-1);
	memcpy(buf, "group:", 6);
	memcpy(buf + 6, id, len);
	buf[6 + len] = '\0';
	return ((int)(6 + len));
}

/* The two ids in either order; the same id twice is not a conversation. */
int
roomname_chat(const char *a, size_t alen, const char *b, size_t blen,
    char *buf)
{
	const char	*t;
	size_t		 tlen;
	int		 c;

	if (!roomname_id_valid(a, alen) || !roomname_id_valid(b, blen) ||
	    (c = id_cmp(a, alen, b, blen)) == 0)
		return (-1);
	if (c > 0) {
		t = a, a = b, b = t;
		tlen = alen, alen = blen, blen = tlen;
	}
	memcpy(buf, "chat:", 5);
	memcpy(buf + 5, a, alen);
	buf[5 + alen] = ':';
	memcpy(buf + 6 + alen, b, blen);
	buf[6 + alen + blen] = '\0';
	return ((int)(6 + alen + blen));
}

/* 0 and *ref filled, or ROOMNAME_ERR_INVALID. */
int
roomname_parse(const char *name, size_t len, struct roomname_ref *ref)
{
	const char	*colon;

	memset(ref, 0, sizeof(*ref));
	if (name == NULL || len > ROOMNAME_MAX)
		return (ROOMNAME_ERR_INVALID);
	if (len > 5 && memcmp(name, "user:", 5) == 0) {
		ref->kind = ROOMNAME_USER;
		ref->a = name + 5;
		ref->alen = len - 5;
	} else if (len > 6 && memcmp(name, "group:", 6) == 0) {
		ref->kind = ROOMNAME_GROUP;
		ref->a = name + 6;
		ref->alen = len - 6;
	} else if (len > 9 && memcmp(name, "presence:", 9) == 0) {
		ref->kind = ROOMNAME_PRESENCE;
		ref->a = name + 9;
		ref->alen = len - 9;
	} else if (len > 5 && memcmp(name, "chat:", 5) == 0 &&
	    (colon = memchr(name + 5, ':', len - 5)) != NULL) {
		ref->kind = ROOMNAME_CHAT;
		ref->a = name + 5;
		ref->alen = (size_t)(colon - ref->a);
		ref->b = colon + 1;
		ref->blen = len - 5 - ref->alen - 1;
		if (!roomname_id_valid(ref->b, ref->blen) ||
		    id_cmp(ref->a, ref->alen, ref->b, ref->blen) >= 0)
			goto bad;
	} else
		goto bad;
	if (roomname_id_valid(ref->a, ref->alen))
		return (ROOMNAME_OK);
bad:
	memset(ref, 0, sizeof(*ref));
	return (ROOMNAME_ERR_INVALID);
}

/*
 * May this user ask to join the room?  user:* never (the gateway joins a
 * user's sockets itself), chat:a:b only a or b, group:* yes here (the
 * chat service may still say no).
 */
int
roomname_may_join(const struct roomname_ref *ref, const char *user,
    size_t len)
{
	if (ref == NULL || ref->kind == 0)
		return (ROOMNAME_ERR_INVALID);
	switch (ref->kind) {
	case ROOMNAME_USER:
		return (ROOMNAME_ERR_PERSONAL);
	case ROOMNAME_CHAT:
		if (user != NULL && ((len == ref->alen &&
		    memcmp(user, ref->a, len) == 0) || (len == ref->blen &&
		    memcmp(user, ref->b, len) == 0)))
			return (ROOMNAME_OK);
		return (ROOMNAME_ERR_NOT_PARTICIPANT);
	default:
		return (ROOMNAME_OK);
	}
}

/* Leaving is always allowed but for user:*, which the gateway manages. */
int
roomname_may_leave(const struct roomname_ref *ref, const char *user,
    size_t len)
{
	(void)user;
	(void)len;
	if (ref == NULL || ref->kind == 0)
		return (ROOMNAME_ERR_INVALID);
	return (ref->kind == ROOMNAME_USER ? ROOMNAME_ERR_PERSONAL :
	    ROOMNAME_OK);
}

const char *
roomname_strerror(int e)
{
	switch (e) {
	case ROOMNAME_OK:
		return ("ok");
	case ROOMNAME_ERR_PERSONAL:
		return ("user rooms are joined and left by the gateway only");
	case ROOMNAME_ERR_NOT_PARTICIPANT:
		return ("only the two participants may join a chat room");
	case ROOMNAME_ERR_INVALID:
		return ("not a room name: expected user:<id>, group:<id> or "
		    "chat:<a>:<b>");
	default:
		return ("unknown error");
	}
}
