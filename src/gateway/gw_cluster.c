/*
 * What crosses workers: delivery to a room, and presence.
 *
 * Delivery: a frame for room R is written to R's local members at once and
 * sent once on the bus; every other worker writes it to its own members of
 * R.  Nobody keeps a gateway-wide membership table: each worker knows only
 * its sockets, and the frame is encoded once at the origin and sent
 * unchanged to every recipient.
 *
 * Presence: each worker sends a delta when a socket of a user opens or
 * closes here; each worker keeps the gateway-wide table (presence.c) and
 * tells its own sockets when a user comes online or goes offline anywhere.
 * Digests every presence_digest_interval repair lost deltas, and a worker
 * that dies (the master's peer list, or its bus link) has its users
 * dropped at once.
 */
#include <sys/random.h>

#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "events.h"
#include "frame.h"
#include "gateway.h"
#include "log.h"
#include "presence.h"
#include "roomname.h"
#include "rooms.h"
#include "session.h"
#include "socketio.h"
#include "transport.h"

#define DIGEST_PART	(64 * 1024)

struct fanout {
	struct gateway	*g;
	struct frame	*f;
	struct session	*except;
};

static void	 fan(void *, void *);
static void	 announce(struct gateway *, const char *, const char *,
		    struct session *);
static void	 on_online(void *, const char *);
static void	 on_offline(void *, const char *);
static void	 send_digest(struct gateway *);
static void	 on_digest(struct ev_loop *, ev_timer *, int);
static void	 bus_recv(void *, int, uint8_t, const void *, size_t);
static void	 bus_peer_up(void *, int);
static void	 bus_peer_down(void *, int);
static void	 everyone(struct gateway *, struct frame *, struct session *);

static const struct bus_ops ops = { bus_recv, bus_peer_up, bus_peer_down };

int
gw_cluster_init(struct gateway *g, const char *dir)
{
	uint64_t	seed[2];

	if (getrandom(seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
		return -1;
	if ((g->presence = presence_new((unsigned)g->t->wid, seed[0])) ==
	    NULL || (g->rooms = rooms_new(seed[1])) == NULL ||
	    gw_scoped_init(g, seed[0] ^ seed[1]) != 0)
		return -1;
	rooms_set_max(g->rooms, (size_t)g->conf->max_rooms_per_socket);
	if (dir != NULL && (g->bus = bus_new(g->t->loop, dir, g->t->wid,
	    &ops, g)) == NULL)
		log_error("no bus: this worker's users and rooms stay local; "
		    "/health reports this worker as isolated");
	ev_timer_init(&g->digest, on_digest,
	    (double)g->conf->presence_digest_interval / 1000.0,
	    (double)g->conf->presence_digest_interval / 1000.0);
	g->digest.data = g;
	ev_timer_start(g->t->loop, &g->digest);
	g->nwant = -1;
	gw_sync_init(g);
	return 0;
}

void
gw_cluster_free(struct gateway *g)
{
	ev_timer_stop(g->t->loop, &g->digest);
	gw_sync_free(g);
	gw_scoped_free(g);
	if (g->bus != NULL)
		bus_free(g->bus);
	rooms_free(g->rooms);
	presence_free(g->presence);
}

static void
fan(void *arg, void *sock)
{
	struct fanout		*fo = arg;
	struct gw_socket	*gs = sock;

	if (gs->s == fo->except)
		return;
	session_send(gs->s, frame_ref(fo->f));
	fo->g->messages++;
}

/*
 * Deliver a frame to room R on every worker, except one session (the
 * sender's, for group messages).  Takes over the caller's reference.
 */
void
gw_deliver(struct gateway *g, const char *room, size_t rlen, struct frame *f,
    struct session *except)
{
	struct fanout	 fo = { g, f, except };
	uint8_t		*rec;
	uint16_t	 n = (uint16_t)rlen;
	size_t		 len = 2 + rlen + f->len;

	rooms_members(g->rooms, room, rlen, fan, &fo);
	if (g->bus != NULL && len > BUS_RECORD_MAX) {
		/* max_payload keeps this from happening; say so if it does. */
		log_warnx("a %zu-byte frame for %.*s is too large for the bus; "
		    "only this worker's sockets got it", len, (int)rlen, room);
		g->bus_too_big++;
	} else if (g->bus != NULL && (rec = malloc(len)) != NULL) {
		memcpy(rec, &n, 2);
		memcpy(rec + 2, room, rlen);
		memcpy(rec + 2 + rlen, FRAME_DATA(f), f->len);
		bus_send(g->bus, GW_BUS_EMIT, rec, len);
		free(rec);
	}
	frame_unref(f);
}

/* A frame to every local session but one (presence in mode "all"). */
static void
everyone(struct gateway *g, struct frame *f, struct session *except)
{
	struct session	*s;

	for (s = g->t->all; s != NULL; s = s->next)
		if (s != except && s->nsp_mask != 0 &&
		    s->state != SESSION_CLOSED) {
			session_send(s, frame_ref(f));
			g->messages++;
		}
}

/*
 * Tell this worker's sockets that user went online or offline.  Mode
 * "all" (the seed's): every socket.  Mode "scoped": the sockets that
 * subscribed to the user with join_room presence:<user>.
 */
static void
announce(struct gateway *g, const char *event, const char *user,
    struct session *except)
{
	struct frame	*f;
	json_t		*o;
	char		 room[ROOMNAME_SIZE + 16];
	int		 n;

	o = events_user_json(user);
	f = gw_frame(event, o);
	json_decref(o);
	if (f == NULL)
		return;
	if (g->conf->presence_mode == 0)
		everyone(g, f, except);
	else {
		struct fanout fo = { g, f, except };

		n = snprintf(room, sizeof(room), "presence:%s", user);
		rooms_members(g->rooms, room, (size_t)n, fan, &fo);
	}
	frame_unref(f);
}

static void
on_online(void *arg, const char *user)
{
	announce(arg, "user_connected", user, NULL);
}

/* A user went offline elsewhere: its subscribers, the rooms owed here. */
static void
on_offline(void *arg, const char *user)
{
	announce(arg, "user_disconnected", user, NULL);
	gw_scoped_offline(arg, user, strlen(user), NULL);
}

/* A socket of this user opened here. */
void
gw_presence_join(struct gateway *g, struct gw_socket *gs)
{
	if (presence_local_add(g->presence, gs->user) == PRESENCE_ONLINE)
		announce(g, "user_connected", gs->user, gs->s);
	if (g->bus != NULL)
		bus_send(g->bus, GW_BUS_ONLINE, gs->user, gs->ulen);
}

/* A socket of this user closed here. */
void
gw_presence_leave(struct gateway *g, struct gw_socket *gs, int tell)
{
	if (presence_local_del(g->presence, gs->user) != PRESENCE_OFFLINE)
		gw_scoped_owe(g, gs);
	else if (tell) {
		announce(g, "user_disconnected", gs->user, gs->s);
		gw_scoped_offline(g, gs->user, gs->ulen, gs);
	}
	if (g->bus != NULL)
		bus_send(g->bus, GW_BUS_OFFLINE, gs->user, gs->ulen);
}

/* Every part of this worker's digest, all in this loop iteration. */
static void
send_digest(struct gateway *g)
{
	struct presence_digest_cursor	 c;
	static uint8_t			 buf[DIGEST_PART];
	size_t				 len;
	int				 more;

	if (g->bus == NULL)
		return;
	presence_digest_begin(g->presence, &c);
	do {
		more = presence_digest(g->presence, &c, buf, sizeof(buf),
		    &len);
		if (more < 0)
			return;
		bus_send(g->bus, GW_BUS_DIGEST, buf, len);
	} while (more == 1);
}

static void
on_digest(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	send_digest(w->data);
}

static void
bus_recv(void *arg, int from, uint8_t type, const void *data, size_t len)
{
	struct gateway	*g = arg;
	struct frame	*f;
	const uint8_t	*p = data;
	char		 user[PRESENCE_USER_MAX + 1];
	uint16_t	 rlen;
	int		 rc;

	switch (type) {
	case GW_BUS_EMIT:
		if (len < 2)
			return;
		memcpy(&rlen, p, 2);
		if ((size_t)rlen + 2 > len ||
		    (f = frame_text(p + 2 + rlen, len - 2 - rlen)) == NULL)
			return;
		{
			struct fanout fo = { g, f, NULL };

			rooms_members(g->rooms, (const char *)p + 2, rlen,
			    fan, &fo);
		}
		frame_unref(f);
		break;
	case GW_BUS_ONLINE:
	case GW_BUS_OFFLINE:
		if (len == 0 || len > PRESENCE_USER_MAX)
			return;
		memcpy(user, data, len);
		user[len] = '\0';
		rc = type == GW_BUS_ONLINE ?
		    presence_remote_add(g->presence, (unsigned)from, user) :
		    presence_remote_del(g->presence, (unsigned)from, user);
		if (rc == PRESENCE_ONLINE)
			on_online(g, user);
		else if (rc == PRESENCE_OFFLINE)
			on_offline(g, user);
		break;
	case GW_BUS_DIGEST:
		if (presence_apply_digest(g->presence, (unsigned)from, data,
		    len, on_online, on_offline, g) < 0)
			log_debug("bad presence digest from worker %d", from);
		else
			gw_sync_digest(g, from);
		break;
	}
}

/* A new peer hears what we have at once. */
static void
bus_peer_up(void *arg, int wid)
{
	(void)wid;
	send_digest(arg);
}

/* A worker is gone: its users are offline unless they are elsewhere. */
static void
bus_peer_down(void *arg, int wid)
{
	struct gateway	*g = arg;
	int		 n;

	n = presence_drop_worker(g->presence, (unsigned)wid, on_offline, g);
	log_debug("worker %d gone: %d users offline", wid, n);
}

/* The master's list of live workers. */
void
gw_peers(struct transport *t, const int32_t *wids, size_t n)
{
	int	v[512];
	size_t	i;

	(void)t;
	if (gw.bus == NULL)
		return;
	for (i = 0; i < n && i < 512; i++)
		v[i] = wids[i];
	bus_set_peers(gw.bus, v, i);
	gw_sync_peers(&gw, wids, n);
}
