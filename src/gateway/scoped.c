/*
 * Scoped presence (presence_mode scoped): a user's presence reaches the
 * users who share a room with it (group:*, chat:*) and the sockets that
 * subscribed to it (presence:<user>, online.c's announce()), nobody
 * else, so that a connection storm costs the size of the rooms, not the
 * square of the gateway.
 *
 * No worker knows a room's members on the other workers, so each piece is
 * done where the knowledge is:
 *   - X's socket joins room R: R hears user_connected X (every worker,
 *     deliver_room).  X learns who is online by subscribing to them
 *     (presence:<user>, whose ack says it): pushing every online member
 *     of R to every joiner would make a room of n members cost n squared
 *     at a connection storm (measured: 10,000 clients in 100 groups of
 *     100 took 2 s of p99 latency to absorb it on 2 workers);
 *   - X goes offline (its last socket anywhere closes): every worker tells
 *     the rooms that X's sockets were in there: the closing socket's, and
 *     those of X's sockets that closed before while X stayed online
 *     elsewhere, kept in g->owed until then.
 * A user with sockets in R on two workers is announced by both: the same
 * event may come twice, and clients should treat presence events as
 * idempotent (the seed's "all" mode never repeats one).
 */
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "frame.h"
#include "gateway.h"
#include "htab.h"
#include "log.h"
#include "rooms.h"
#include "session.h"
#include "transport.h"

struct oroom {
	uint32_t	 hash;		/* first: htab */
	size_t		 len;
	char		 name[];
};

/*
 * Rooms to tell when the user goes, each once: a set (a socket may be in
 * many rooms, up to max_rooms_per_socket, and a scan per room would make
 * a close cost their square).
 */
struct owed {
	uint32_t	 hash;		/* first: htab */
	char		*user;
	size_t		 ulen;
	struct htab	 set;		/* of struct oroom */
	struct oroom	**rooms;
	size_t		 n, cap;
};

struct ukey {
	const char	*s;
	size_t		 len;
};

static int	 shared(const char *, size_t);
static void	 tell(struct gateway *, const char *, const char *, size_t,
		    const char *, size_t, struct session *);

int
scoped_init(struct gateway *g, uint64_t seed)
{
	return htab_init(&g->owed, seed);
}

static bool
owed_free_one(void *arg, void *e)
{
	struct owed	*o = e;
	size_t		 i;

	(void)arg;
	for (i = 0; i < o->n; i++)
		free(o->rooms[i]);
	free(o->rooms);
	htab_free(&o->set);
	free(o->user);
	free(o);
	return true;
}

void
scoped_free(struct gateway *g)
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
	f = emit_frame(event, o);
	json_decref(o);
	if (f != NULL)
		deliver_room(g, room, rlen, f, except);
}

/* A socket of gs's user joined the shared room here: the room hears it. */
void
scoped_joined(struct gateway *g, struct gw_socket *gs, const char *room,
    size_t len)
{
	if (g->conf->presence_mode != 1 || !shared(room, len))
		return;
	tell(g, "user_connected", gs->user, gs->ulen, room, len, gs->s);
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
	if (htab_init(&o->set, g->owed.k0 ^ h) != 0) {
		free(o->user);
		free(o);
		return NULL;
	}
	o->hash = h;
	memcpy(o->user, user, ulen);
	o->ulen = ulen;
	if (htab_insert(&g->owed, o) != 0) {
		htab_free(&o->set);
		free(o->user);
		free(o);
		return NULL;
	}
	return o;
}

static bool
oroom_eq(const void *e, const void *k)
{
	const struct oroom	*r = e;
	const struct ukey	*key = k;

	return r->len == key->len && memcmp(r->name, key->s, key->len) == 0;
}

static void
owe_one(void *arg, const char *room, size_t len)
{
	struct owed	 *o = arg;
	struct oroom	**nr, *r;
	struct ukey	  key = { room, len };
	uint32_t	  h;
	size_t		  cap;

	if (!shared(room, len))
		return;
	h = htab_hash(&o->set, room, len);
	if (htab_find(&o->set, h, oroom_eq, &key, NULL) != NULL)
		return;
	if (o->n == o->cap) {
		cap = o->cap == 0 ? 8 : o->cap * 2;
		if ((nr = realloc(o->rooms, cap * sizeof(*nr))) == NULL)
			goto nomem;
		o->rooms = nr;
		o->cap = cap;
	}
	if ((r = malloc(sizeof(*r) + len + 1)) == NULL)
		goto nomem;
	r->hash = h;
	r->len = len;
	memcpy(r->name, room, len);
	r->name[len] = '\0';
	if (htab_insert(&o->set, r) != 0) {
		free(r);
		goto nomem;
	}
	o->rooms[o->n++] = r;
	return;
nomem:
	log_warnx("scoped presence: out of memory for a room");
}

/*
 * A socket of gs's user closes here and the user stays online elsewhere:
 * its rooms hear when the user goes.
 */
void
scoped_owe(struct gateway *g, struct gw_socket *gs)
{
	struct owed	*o;
	size_t		 idx;

	if (g->conf->presence_mode != 1)
		return;
	if ((o = owed_get(g, gs->user, gs->ulen, 1, &idx)) == NULL) {
		log_warnx("scoped presence: out of memory for a user");
		return;
	}
	rooms_of(g->rooms, gs, owe_one, o);
}

struct gone {
	struct gateway		*g;
	struct gw_socket	*gs;
};

static void
tell_gone(void *arg, const char *room, size_t len)
{
	struct gone	*gn = arg;

	if (shared(room, len))
		tell(gn->g, "user_disconnected", gn->gs->user, gn->gs->ulen,
		    room, len, gn->gs->s);
}

/*
 * The user is offline gateway-wide: the rooms owed here hear it, once
 * each, and so do the rooms of gs, its last socket, if it closed here.
 */
void
scoped_offline(struct gateway *g, const char *user, size_t ulen,
    struct gw_socket *gs)
{
	struct gone	 gn = { g, gs };
	struct owed	*o;
	size_t		 i, idx;

	if (g->conf->presence_mode != 1)
		return;
	if ((o = owed_get(g, user, ulen, 0, &idx)) == NULL) {
		if (gs != NULL)		/* the usual case: nothing to keep */
			rooms_of(g->rooms, gs, tell_gone, &gn);
		return;
	}
	if (gs != NULL)
		rooms_of(g->rooms, gs, owe_one, o);
	htab_remove(&g->owed, idx);
	for (i = 0; i < o->n; i++)
		tell(g, "user_disconnected", user, ulen, o->rooms[i]->name,
		    o->rooms[i]->len, NULL);
	owed_free_one(NULL, o);
}
