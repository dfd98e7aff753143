/*
 * gateway: the application the transport runs (struct app): it sets up a
 * worker's struct gateway, authenticates at the Socket.IO CONNECT, greets
 * the socket with `connected` and `online_users`, hands the client's
 * events to handlers.c, and takes the other workers' bus records to the
 * files they are for.  The top of the gateway's files (gateway.h).
 */
#include <sys/random.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "auth.h"
#include "bus.h"
#include "doorbell.h"
#include "events.h"
#include "gateway.h"
#include "grouplist.h"
#include "isotime.h"
#include "log.h"
#include "presence.h"
#include "roomname.h"
#include "rooms.h"
#include "session.h"
#include "sio.h"
#include "socketio.h"
#include "stats.h"
#include "transport.h"

/* "/admin": the Admin UI's (issue 18, admin.c); refused when admin off. */
static const char *const nsps[] = { "/", "/admin", NULL };
#define NSP_ADMIN	1

/* The settings, handed over before the worker starts (gw_init). */
static const struct gateway_conf *configured;

static int	gw_init(struct transport *);
static int	gw_connect(struct session *, unsigned, json_t *,
		    const char **);
static void	gw_connected(struct session *, unsigned, json_t *);
static void	gw_accepting(struct session *, unsigned, json_t *);
static void	gw_verified(struct gateway *, struct session *, unsigned,
		    const struct auth_result *, const char *);
static void	gw_taken(struct gateway *, struct session *,
		    struct gw_socket *);
static void	answer(struct session *, unsigned);
static void	release(struct gw_socket *);
static void	gw_resumed(struct gateway *, struct session *, unsigned,
		    struct auth_result *);
static int	gw_event_raw(struct session *, unsigned,
		    const struct evscan *, int64_t);
static void	gw_packet(struct session *, unsigned, struct sio_packet *,
		    const struct sio_attachment *, unsigned);
static void	gw_disconnect(struct session *, unsigned, const char *);
static void	gw_peers(struct transport *, const int32_t *, size_t);
static void	gw_stats(struct transport *, struct worker_stats *);
static void	gw_fini(struct transport *);
static void	gw_upgraded(struct session *);
static int	cluster_init(struct gateway *, const char *);
static void	bus_recv(void *, int, uint8_t, const void *, size_t);
static void	bell_cb(void *);
static void	bus_peer_up(void *, int);
static void	bus_peer_down(void *, int);

const struct app gateway_app = {
	.nsps = nsps,
	.init = gw_init,
	.connect = gw_connect,
	.connected = gw_connected,
	.packet = gw_packet,
	.disconnect = gw_disconnect,
	.peers = gw_peers,
	.stats = gw_stats,
	.fini = gw_fini,
	.accepting = gw_accepting,
	.event_raw = gw_event_raw,
	.upgraded = gw_upgraded,
};

static const struct bus_ops ops = { bus_recv, bus_peer_up, bus_peer_down };

/* The settings, before the worker starts: gw_init() reads them. */
void
gateway_configure(const struct gateway_conf *c)
{
	configured = c;
}

/*
 * Once per worker: this worker's struct gateway, kept in the transport's
 * app_data, where every callback of gateway_app finds it.
 */
static int
gw_init(struct transport *t)
{
	struct gateway	*g;
	char		 err[256];
	uint64_t	 seed;

	if (configured == NULL) {
		log_error("the gateway has no settings (gateway_configure)");
		return -1;
	}
	if ((g = calloc(1, sizeof(*g))) == NULL) {
		log_error("the gateway: out of memory");
		return -1;
	}
	g->conf = configured;
	g->t = t;
	t->app_data = g;
	/* auth_mode service verifies no token here: there is no key. */
	if (g->conf->auth_mode != GW_AUTH_SERVICE &&
	    (g->auth = auth_new(&g->conf->auth, err, sizeof(err))) == NULL) {
		log_error("authentication: %s", err);
		return -1;
	}
	if (cluster_init(g, t->relay != NULL ? g->conf->run_dir : NULL)
	    != 0) {
		log_error("cannot set up presence and rooms");
		return -1;
	}
	token_init(g);
	/* Frames through the recovery log (issue 15), offsets in them. */
	if (logdeliver_init(g) != 0) {
		log_error("the recovery log's reader: out of memory");
		return -1;
	}
	/* Its wakes, without nng's threads (issue 16). */
	if (g->logdel != NULL && g->bus != NULL && (g->bell =
	    doorbell_new(t->loop, g->conf->run_dir, t->wid, bell_cb, g)) ==
	    NULL)
		log_warnx("no doorbell in %s: the recovery log's wakes go by "
		    "the bus", g->conf->run_dir);
	emit_offsets(g->logdel != NULL);
	if ((g->services = services_new(t->loop, &g->conf->services,
	    &g->conf->breaker, &g->conf->retry)) == NULL) {
		log_error("the downstream services: out of memory");
		return -1;
	}
	if (engines_init(g) != 0) {
		log_error("the engines' batches: out of memory");
		return -1;
	}
	if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed) ||
	    chat_init(g, seed) != 0) {
		log_error("the chat service: out of memory");
		return -1;
	}
	if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed) ||
	    handlers_init(g, seed) != 0) {
		log_error("group membership: cannot set up");
		return -1;
	}
	if (redislink_init(g) != 0 || adapter_init(g) != 0)
		return -1;
	if (authsvc_init(g, gw_verified, (uint64_t)ev_time() ^
	    (uint64_t)(uintptr_t)g) != 0) {
		log_error("the auth service's cache: out of memory");
		return -1;
	}
	if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed) ||
	    hostpres_init(g, seed) != 0) {
		log_error("presence across hosts: cannot set up");
		return -1;
	}
	if (admin_init(g) != 0) {
		log_error("the Admin UI: out of memory");
		return -1;
	}
	if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed) ||
	    sockindex_init(g, seed) != 0 || recovery_init(g, seed ^
	    (uint64_t)(uintptr_t)g) != 0 || rectake_init(g, gw_taken) != 0 ||
	    recremote_init(g, gw_resumed) != 0) {
		log_error("connection state recovery: out of memory");
		return -1;
	}
	return 0;
}

/* The worker is done serving: its calls to the services end here. */
static void
gw_fini(struct transport *t)
{
	struct gateway	*g = t->app_data;

	if (g == NULL)
		return;
	rectake_free(g);	/* first: its CONNECTs' answers need the rest */
	chat_free(g);	/* spools what is in memory, before the calls go */
	engines_free(g);
	services_free(g->services);
	g->services = NULL;
	membership_free(g);	/* after: no answer comes now */
	authsvc_free(g);
	adapter_free(g);
	recremote_free(g);
	hostpres_free(g);	/* first: the answers redislink_free() ends */
	redislink_free(g);
	recovery_free(g);
	admin_free(g);
	doorbell_free(g->bell);
	g->bell = NULL;
}

/*
 * The tables and the bus: the presence table and the room index, scoped
 * presence, the bus to the other workers (in the run directory dir; none
 * when NULL), the digests, and the wait for the other workers' presence.
 */
static int
cluster_init(struct gateway *g, const char *dir)
{
	uint64_t	seed[2];

	if (getrandom(seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
		return -1;
	if ((g->presence = presence_new((unsigned)g->t->wid, seed[0])) ==
	    NULL || (g->rooms = rooms_new(seed[1])) == NULL ||
	    scoped_init(g, seed[0] ^ seed[1]) != 0)
		return -1;
	rooms_set_max(g->rooms, (size_t)g->conf->max_rooms_per_socket);
	if (dir != NULL && (g->bus = bus_new(g->t->loop, dir, g->t->wid,
	    &ops, g)) == NULL)
		log_error("no bus: this worker's users and rooms stay local; "
		    "/health reports this worker as isolated");
	if (presfeed_init(g) != 0)
		return -1;
	online_init(g);
	sync_init(g);
	return 0;
}

/*
 * What gw_init() and cluster_init() set up.  Nothing calls it today: a
 * worker's gateway lives until the worker exits.
 */
void
gateway_free(struct gateway *g)
{
	online_free(g);
	presfeed_free(g);
	sync_free(g);
	scoped_free(g);
	logdeliver_free(g);
	if (g->bus != NULL)
		bus_free(g->bus);
	rooms_free(g->rooms);
	presence_free(g->presence);
}

/*
 * The verified user becomes the session's socket: 0, or -1 and *why.
 * r's groups (group_membership token) go to the socket, or are freed.
 */
static int
attach(struct gateway *g, struct session *s, struct auth_result *r,
    const char **why)
{
	struct gw_socket	*gs;

	if (!roomname_id_valid(r->user, strlen(r->user))) {
		g->auth_failures++;
		grouplist_free(r->groups);
		*why = "Authentication token names an invalid user id";
		return -1;
	}
	if ((gs = calloc(1, sizeof(*gs))) == NULL ||
	    (gs->user = strdup(r->user)) == NULL) {
		free(gs);
		grouplist_free(r->groups);
		*why = "Server out of memory";
		return -1;
	}
	gs->s = s;
	gs->ulen = strlen(gs->user);
	gs->exp = (int64_t)r->exp;
	gs->tokens = (double)g->conf->event_burst;
	gs->refilled = ev_now(g->t->loop);
	gs->issued = isotime_now_ms();
	membership_token(g, gs, r);	/* token mode: r's groups */
	s->app_data = gs;
	token_track(g, gs);
	free(s->hs_token);
	s->hs_token = NULL;
	return 0;
}

/*
 * The token: handshake auth.token, else the Bearer header or ?token=.
 * auth_mode local checks it here; service asks the auth service (at once
 * from its cache, else APP_CONNECT_PENDING and gw_verified() later);
 * both checks it here first.  A groups claim is read only with
 * group_membership token, which conf_check.c allows with auth_mode local
 * only: the service's answer carries no groups.
 */
static int
gw_connect(struct session *s, unsigned nsp, json_t *hs, const char **why)
{
	struct gateway		*g = s->t->app_data;
	struct auth_result	 r;
	const char		*token;
	int			 rc;

	if (nsp == NSP_ADMIN)
		return admin_connect(g, s, hs, why);
	if (s->app_data != NULL)
		return 0;		/* already authenticated */
	token = json_string_value(json_object_get(hs, "token"));
	if (token == NULL)
		token = s->hs_token;
	if (token_attempt(g, s, why) != 0)
		return -1;
	if (g->conf->auth_mode != GW_AUTH_SERVICE &&
	    auth_verify(g->auth, token, time(NULL), &r, why) != 0) {
		g->auth_failures++;
		return -1;
	}
	if (g->conf->auth_mode != GW_AUTH_LOCAL) {
		if (g->conf->auth_mode == GW_AUTH_BOTH)
			grouplist_free(r.groups);
		rc = authsvc_verify(g, s, nsp, token, &r, why);
		if (rc == AUTHSVC_PENDING)
			return APP_CONNECT_PENDING;
		if (rc != 0) {
			g->auth_failures++;
			return -1;
		}
	}
	/* Another host's session (issue 15): its answer first. */
	if (recremote_connect(g, s, nsp, hs, &r))
		return APP_CONNECT_PENDING;
	if (attach(g, s, &r, why) != 0)
		return -1;
	/* A live session of its user taken over: answered when released. */
	return rectake_begin(g, s, hs) != 0 ? APP_CONNECT_PENDING : 0;
}

/*
 * The auth service's answer to a CONNECT that waited (authsvc.c): s is
 * live (looked up again by its id), r the user or NULL with why.
 */
static void
gw_verified(struct gateway *g, struct session *s, unsigned nsp,
    const struct auth_result *r, const char *why)
{
	struct auth_result	 mine;

	if (r == NULL || s->app_data != NULL) {
		if (r == NULL)
			g->auth_failures++;
		(void)socketio_connect_answer(s, nsp, r == NULL ? why :
		    NULL, NULL);
		return;
	}
	mine = *r;
	mine.groups = NULL;		/* the service's answer has none */
	if (recremote_connect(g, s, nsp, s->pending_auth, &mine))
		return;			/* gw_resumed() answers */
	if (attach(g, s, &mine, &why) != 0) {
		(void)socketio_connect_answer(s, nsp, why, NULL);
		return;
	}
	if (nsp == s->pending_nsp && rectake_begin(g, s, s->pending_auth) != 0)
		return;		/* gw_taken() answers */
	answer(s, nsp);
}

/*
 * A CONNECT that took a live session over (rectake.c), the session
 * released: gs is its socket again; s NULL: the CONNECT is over.
 */
static void
gw_taken(struct gateway *g, struct session *s, struct gw_socket *gs)
{
	(void)g;
	if (s == NULL) {
		release(gs);
		return;
	}
	s->app_data = gs;
	answer(s, 0);
}

/* Accept a pending CONNECT of an attached socket, or release the socket. */
static void
answer(struct session *s, unsigned nsp)
{
	struct gw_socket	*gs = s->app_data;

	if (socketio_connect_answer(s, nsp, NULL, NULL) == 0)
		return;
	/* The client left the namespace meanwhile, or the session. */
	s->app_data = NULL;
	release(gs);
}

static void
release(struct gw_socket *gs)
{
	grouplist_free(gs->groups);
	free(gs->user);
	free(gs);
}

/*
 * The answer of another host to a CONNECT that waited for it (issue 15,
 * recremote.c): s is live, r its token's user.  Accepting it runs the
 * recovery (recovery_accepting()).
 */
static void
gw_resumed(struct gateway *g, struct session *s, unsigned nsp,
    struct auth_result *r)
{
	const char		*why;

	if (attach(g, s, r, &why) != 0) {
		(void)socketio_connect_answer(s, nsp, why, NULL);
		return;
	}
	answer(s, nsp);
}

/* `connected`, `online_users`; the user's room; presence. */
static void
gw_connected(struct session *s, unsigned nsp, json_t *hs)
{
	struct gateway		*g = s->t->app_data;
	struct gw_socket	*gs = s->app_data;
	char			 room[ROOMNAME_SIZE];
	json_t			*o;
	int			 n;

	if (nsp == NSP_ADMIN) {
		admin_connected(g, s, hs);
		return;
	}
	if ((n = roomname_user(gs->user, gs->ulen, room)) > 0)
		rooms_join(g->rooms, room, (size_t)n, gs);
	online_join(g, gs);
	sockindex_add(g, gs);
	recovery_connected(g, gs);	/* counted: its ghost may go */
	o = events_connected_json(s->sio_sid, gs->user);
	emit_to(g, s, "connected", o);
	json_decref(o);
	sync_greet(g, s, gs);
	admin_socket_connected(g, gs);
}

/* Accepted, not yet answered: a recovery, or a new recoverable socket. */
static void
gw_accepting(struct session *s, unsigned nsp, json_t *auth)
{
	(void)nsp;
	/* Its slot goes live now: a takeover asked before is not for it. */
	if (s->app_data != NULL)
		((struct gw_socket *)s->app_data)->live_ms = reclog_now_ms();
	recovery_accepting(s->t->app_data, s, auth);
}

static void
gw_packet(struct session *s, unsigned nsp, struct sio_packet *p,
    const struct sio_attachment *att, unsigned natt)
{
	const char	*name;
	size_t		 len;

	(void)att;
	(void)natt;
	if (p->type != SIO_EVENT && p->type != SIO_BINARY_EVENT)
		return;		/* acks: the gateway asks for none */
	if (nsp == NSP_ADMIN) {
		admin_packet(s->t->app_data, s, p);
		return;
	}
	if ((name = sio_event_name(p, &len)) == NULL) {
		name = "";
		len = 0;
	}
	handlers_event(s->t->app_data, s, s->app_data, name, len,
	    sio_event_arg(p, 0), p->ack_id);
}

/* Another worker appended to the recovery log and rang (doorbell.h). */
static void
bell_cb(void *arg)
{
	logdeliver_recv(arg);
}

/* An EVENT before its tree (issue 16): handlers.c may take it. */
static int
gw_event_raw(struct session *s, unsigned nsp, const struct evscan *sc,
    int64_t ack)
{
	if (nsp == NSP_ADMIN)
		return 0;	/* gw_packet() */
	return handlers_event_raw(s->t->app_data, s, s->app_data, sc, ack);
}

/* The socket left: its rooms, its presence. */
static void
gw_disconnect(struct session *s, unsigned nsp, const char *reason)
{
	struct gateway		*g = s->t->app_data;
	struct gw_socket	*gs = s->app_data;
	bool			 ghost;

	if (nsp == NSP_ADMIN) {
		admin_disconnect(g, s);
		return;
	}
	if (gs == NULL)
		return;
	admin_socket_gone(g, gs, reason);
	/*
	 * A close its client may recover from keeps the user online, gs a
	 * ghost (recovery.c); its rooms are owed the user's offline.
	 * A drain closes sockets whose clients reconnect at once to another
	 * worker: announcing each as offline to everybody is a storm of
	 * events about users who are not leaving.  The table still learns it.
	 */
	ghost = recovery_closed(g, gs, reason);
	presfeed_closed(g, gs, ghost);
	if (ghost)
		scoped_owe(g, gs);
	else
		online_leave(g, gs, strcmp(reason, "server shutting down") !=
		    0);
	/* (presence told gs's rooms above: only now leave them) */
	rooms_leave_all(g->rooms, gs);
	membership_gone(g, gs);
	sockindex_del(g, gs);
	grouplist_free(gs->groups);
	gs->groups = NULL;
	s->app_data = NULL;
	if (ghost) {
		gs->s = NULL;
		return;
	}
	free(gs->user);
	free(gs);
}

/* Upgraded to WebSocket: the Admin UI shows each socket's transport. */
static void
gw_upgraded(struct session *s)
{
	if (s->app_data != NULL && (s->nsp_mask & 1))
		admin_socket_upgraded(s->t->app_data, s->app_data);
}

/* The master's list of live workers. */
static void
gw_peers(struct transport *t, const int32_t *wids, size_t n)
{
	struct gateway	*g = t->app_data;
	int		 v[512];
	size_t		 i;

	chat_peers(g, wids, n);
	admin_peers(g, wids, n);
	if (g->bus == NULL)
		return;
	for (i = 0; i < n && i < 512; i++)
		v[i] = wids[i];
	bus_set_peers(g->bus, v, i);
	if (g->bell != NULL)
		(void)doorbell_set_peers(g->bell, v, i);
	sync_peers(g, wids, n);
	authsvc_peers(g, wids, n);
	recremote_peers(g, wids, n);
}

static void
gw_stats(struct transport *t, struct worker_stats *st)
{
	struct gateway		*g = t->app_data;
	struct bus_stats	 bs;

	st->users_online = presence_count(g->presence);
	presfeed_stats(g, st);
	st->messages = g->messages;
	st->auth_failures = g->auth_failures;
	st->rooms_refused = g->rooms_refused;
	st->events_rate_limited = g->rate_warnings;
	st->rate_limit_disconnects = g->rate_disconnects;
	st->messages_spliced = g->spliced;
	if (g->bell != NULL) {
		struct doorbell_stats	 ds;

		doorbell_stats(g->bell, &ds);
		st->doorbell_rung = ds.rung;
		st->doorbell_missed = ds.missed;
		st->doorbell_heard = ds.heard;
	}
	st->auth_attempts_refused = g->auth_refused;
	services_stats(g->services, st->services);
	chat_stats(g, &st->services[STATS_SVC_CHAT]);
	membership_stats(g, st);
	authsvc_stats(g, st);
	redislink_stats(g, st);
	adapter_stats(g, st);
	hostpres_stats(g, st);
	logdeliver_stats(g, st);
	recovery_stats(g, st);
	online_stats(g, st);
	rectake_stats(g, st);
	recremote_stats(g, st);
	admin_stats(g, st);
	/* A bus was wanted (there is a relay: we have siblings) and is not. */
	if (t->relay != NULL && g->bus == NULL)
		st->isolated = 1;
	if (g->bus != NULL) {
		bus_stats(g->bus, &bs);
		st->bus_sent = bs.sent_records;
		st->bus_received = bs.recv_records;
		st->bus_lost = bs.gaps + g->bus_too_big; /* "dropped" = gaps */
	}
}

/* A record from another worker, to the file that sent it there. */
static void
bus_recv(void *arg, int from, uint8_t type, const void *data, size_t len)
{
	struct gateway	*g = arg;

	switch (type) {
	case GW_BUS_EMIT:
		deliver_recv(g, data, len);
		break;
	case GW_BUS_ONLINE:
	case GW_BUS_OFFLINE:
		online_recv(g, from, type, data, len);
		break;
	case GW_BUS_DIGEST:
		if (online_digest_recv(g, from, data, len) == 0)
			sync_digest(g, from);
		break;
	case GW_BUS_PSUM:
		online_summary_recv(g, from, data, len);
		break;
	case GW_BUS_AUTH_ASK:
	case GW_BUS_AUTH_ANSWER:
		authsvc_recv(g, type, data, len);
		break;
	case GW_BUS_LOGWAKE:
		logdeliver_recv(g);
		break;
	case GW_BUS_RECOVERED:
		recovery_recv(g, data, len);
		break;
	case GW_BUS_TAKEOVER:
		rectake_recv(g, data, len);
		break;
	case GW_BUS_ADMIN:
		admin_recv(g, data, len);
		break;
	}
}

/* A new peer hears what we have at once. */
static void
bus_peer_up(void *arg, int wid)
{
	(void)wid;
	online_digest_send(arg);
}

/* A worker is gone: its users are offline unless they are elsewhere. */
static void
bus_peer_down(void *arg, int wid)
{
	online_drop_worker(arg, wid);
}
