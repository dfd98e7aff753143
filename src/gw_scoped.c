/*
 * Scoped presence (presence_mode scoped): a user's presence reaches the
 * users who share a room with it (group:*, chat:*) and the sockets that
 * subscribed to it (presence:<user>, gw_cluster.c's announce()), nobody
 * else, so that a connection storm costs the size of the rooms, not the
 * square of the gateway.
 *
 * No worker knows a room's members on the other workers, so each piece is
 * done where the knowledge is:
 *   - X's socket joins room R: R hears user_connected X (every worker,
 *     gw_deliver), and X hears user_connected for each user online in R:
 *     from this worker at once, from the others in answer to a
 *     GW_BUS_ROSTER record, each for its own members;
 *   - X goes offline (its last socket anywhere closes): every worker tells
 *     the rooms that X's sockets were in there (the closing socket's, and
 *     those of X's sockets that closed before, kept in g->owed until then).
 * The same event may come twice: a user with sockets in R on two workers
 * is announced by both, and a user that joins R while another's join is
 * still on its way hears of that one from its announcement and from the
 * roster.  Clients should treat presence events as idempotent (the seed's
 * "all" mode never repeats one).
 */
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "conf.h"
#include "events.h"
#include "frame.h"
#include "gateway.h"
#include "htab.h"
#include "log.h"
#include "presence.h"
#include "rooms.h"
#include "session.h"
#include "transport.h"

struct owed {				/* rooms to tell when user goes */
	uint32_t	 hash;		/* first: htab */
	char		*user;
	size_t		 ulen;
	char		**rooms;	/* NUL-terminated names */
	size_t		 n;
};

struct ukey {
	const char	*s;
	size_t		 len;
};

struct roster {				/* the users of a room's sockets */
	struct ukey	*users;
	size_t		 n, cap;
	int		 oom;
};

static int	 shared(const char *, size_t);
static void	 tell(struct gateway *, const char *, const char *, size_t,
		    const char *, size_t, struct session *);

int
gw_scoped_init(struct gateway *g, uint64_t seed)
{
	return htab_init(&g->owed, seed);
}

static bool
owed_free_one(void *e, void *arg)
{
	struct owed	*o = e;
	size_t		 i;

	(void)arg;
	for (i = 0; i < o->n; i++)
		free(o->rooms[i]);
	free(o->rooms);
	free(o->user);
	free(o);
	return true;
}

void
gw_scoped_free(struct gateway *g)
{
	htab_sweep(&g->owed, owed_free_one, NULL);
	htab_free(&g->owed);
}

/* The user's own room and the presence rooms are not shared rooms. */
static int
shared(const char *room, size_t len)
{
	return !(len > 5 && memcmp(room, "user:", 5) == 0) &&
	    !(len > 9 && memcmp(room, "presence:", 9) == 0);
}

/* event {user_id: user} to room R on every worker, except one socket. */
static void
tell(struct gateway *g, const char *event, const char *user, size_t ulen,
    const char *room, size_t rlen, struct session *except)
{
	struct frame	*f;
	json_t		*o;

	o = json_pack("{s:s%}", "user_id", user, ulen);
	f = gw_frame(event, o);
	json_decref(o);
	if (f != NULL)
		gw_deliver(g, room, rlen, f, except);
}

static void
add_member(void *arg, void *sock)
{
	struct roster		*r = arg;
	struct gw_socket	*gs = sock;
	struct ukey		*nu;

	if (r->n == r->cap) {
		if ((nu = realloc(r->users, (r->cap == 0 ? 16 : 2 * r->cap) *
		    sizeof(*nu))) == NULL) {
			r->oom = 1;
			return;
		}
		r->users = nu;
		r->cap = r->cap == 0 ? 16 : 2 * r->cap;
	}
	r->users[r->n].s = gs->user;
	r->users[r->n++].len = gs->ulen;
}

static int
ukey_cmp(const void *a, const void *b)
{
	const struct ukey	*x = a, *y = b;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->s, y->s, x->len);
}

/*
 * Tell user (each of its sockets, every worker) who of this worker's
 * members of room is online: one user_connected per distinct user (sorted,
 * so that a big room costs n log n, not n squared).
 */
static void
roster_reply(struct gateway *g, const char *room, size_t rlen,
    const char *user, size_t ulen)
{
	struct roster	 r = { NULL, 0, 0, 0 };
	struct ukey	 self = { user, ulen };
	char		 to[ROOMS_NAME_SIZE];
	size_t		 i;
	int		 n;

	rooms_members(g->rooms, room, rlen, add_member, &r);
	if (r.oom)
		log_warnx("scoped presence: out of memory for a roster");
	if (r.n > 1)
		qsort(r.users, r.n, sizeof(*r.users), ukey_cmp);
	if ((n = rooms_name_user(user, ulen, to)) > 0)
		for (i = 0; i < r.n; i++)
			if (ukey_cmp(&r.users[i], &self) != 0 && (i == 0 ||
			    ukey_cmp(&r.users[i], &r.users[i - 1]) != 0))
				tell(g, "user_connected", r.users[i].s,
				    r.users[i].len, to, (size_t)n, NULL);
	free(r.users);
}

/*
 * A socket of gs's user joined the shared room here: the room hears the
 * user, and the user hears the room's online users (ours now, the other
 * workers' in answer to the roster record: u16 room length, room, user).
 */
void
gw_scoped_joined(struct gateway *g, struct gw_socket *gs, const char *room,
    size_t len)
{
	uint8_t		rec[2 + ROOMS_NAME_MAX + PRESENCE_USER_MAX];
	uint16_t	rlen = (uint16_t)len;

	if (g->t->conf->presence_mode != 1 || !shared(room, len))
		return;
	tell(g, "user_connected", gs->user, gs->ulen, room, len, gs->s);
	roster_reply(g, room, len, gs->user, gs->ulen);
	if (g->bus == NULL || len > ROOMS_NAME_MAX ||
	    gs->ulen > PRESENCE_USER_MAX)
		return;
	memcpy(rec, &rlen, 2);
	memcpy(rec + 2, room, len);
	memcpy(rec + 2 + len, gs->user, gs->ulen);
	bus_send(g->bus, GW_BUS_ROSTER, rec, 2 + len + gs->ulen);
}

/* GW_BUS_ROSTER from another worker. */
void
gw_scoped_roster(struct gateway *g, const void *data, size_t len)
{
	const uint8_t	*p = data;
	uint16_t	 rlen;

	if (len < 2)
		return;
	memcpy(&rlen, p, 2);
	if ((size_t)rlen + 2 >= len || len - 2 - rlen > PRESENCE_USER_MAX)
		return;
	roster_reply(g, (const char *)p + 2, rlen, (const char *)p + 2 + rlen,
	    len - 2 - rlen);
}

static bool
owed_eq(const void *e, const void *k)
{
	const struct owed	*o = e;
	const struct ukey	*key = k;

	return o->ulen == key->len && memcmp(o->user, key->s, key->len) == 0;
}

static struct owed *
owed_get(struct gateway *g, const char *user, size_t ulen, int create,
    size_t *idx)
{
	struct owed	*o;
	struct ukey	 key = { user, ulen };
	uint32_t	 h = htab_hash(&g->owed, user, ulen);

	if ((o = htab_find(&g->owed, h, owed_eq, &key, idx)) != NULL ||
	    !create)
		return o;
	if ((o = calloc(1, sizeof(*o))) == NULL ||
	    (o->user = malloc(ulen)) == NULL) {
		free(o);
		return NULL;
	}
	o->hash = h;
	memcpy(o->user, user, ulen);
	o->ulen = ulen;
	if (htab_insert(&g->owed, o) != 0) {
		free(o->user);
		free(o);
		return NULL;
	}
	return o;
}

static void
owe_one(void *arg, const char *room, size_t len)
{
	struct owed	*o = arg;
	char		**nr, *name;
	size_t		 i;

	if (!shared(room, len))
		return;
	for (i = 0; i < o->n; i++)
		if (strlen(o->rooms[i]) == len &&
		    memcmp(o->rooms[i], room, len) == 0)
			return;
	if ((nr = realloc(o->rooms, (o->n + 1) * sizeof(*nr))) == NULL ||
	    (name = strndup(room, len)) == NULL) {
		if (nr != NULL)
			o->rooms = nr;
		log_warnx("scoped presence: out of memory for a room");
		return;
	}
	o->rooms = nr;
	o->rooms[o->n++] = name;
}

/* A socket of gs's user closes here: its rooms hear when the user goes. */
void
gw_scoped_owe(struct gateway *g, struct gw_socket *gs)
{
	struct owed	*o;
	size_t		 idx;

	if (g->t->conf->presence_mode != 1)
		return;
	if ((o = owed_get(g, gs->user, gs->ulen, 1, &idx)) == NULL) {
		log_warnx("scoped presence: out of memory for a user");
		return;
	}
	rooms_of(g->rooms, gs, owe_one, o);
}

/* The user is offline gateway-wide: the rooms owed hear it, once each. */
void
gw_scoped_offline(struct gateway *g, const char *user, size_t ulen)
{
	struct owed	*o;
	size_t		 i, idx;

	if (g->t->conf->presence_mode != 1 ||
	    (o = owed_get(g, user, ulen, 0, &idx)) == NULL)
		return;
	htab_remove(&g->owed, idx);
	for (i = 0; i < o->n; i++)
		tell(g, "user_disconnected", user, ulen, o->rooms[i],
		    strlen(o->rooms[i]), NULL);
	owed_free_one(o, NULL);
}
