/*
 * The gateway application: authentication at the Socket.IO CONNECT, the
 * `connected` and `online_users` greeting, presence, and the dispatch of
 * the client's events (gw_events.c).  One instance per worker process.
 */
#include <sys/random.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "auth.h"
#include "bus.h"
#include "events.h"
#include "frame.h"
#include "gateway.h"
#include "jsonwrite.h"
#include "log.h"
#include "presence.h"
#include "rooms.h"
#include "session.h"
#include "sio.h"
#include "socketio.h"
#include "stats.h"
#include "transport.h"

static const char *const nsps[] = { "/", NULL };

struct gateway	gw;

static int	gw_init(struct transport *);
static int	gw_connect(struct session *, unsigned, json_t *,
		    const char **);
static void	gw_connected(struct session *, unsigned, json_t *);
static void	gw_packet(struct session *, unsigned, struct sio_packet *,
		    const struct sio_attachment *, unsigned);
static void	gw_disconnect(struct session *, unsigned, const char *);
static void	gw_stats(struct transport *, struct worker_stats *);
static void	add_user(void *, const char *);
static void	on_expiry(struct ev_loop *, ev_timer *, int);
static int	auth_attempt(struct session *, const char **);

const struct app gateway_app = {
	.nsps = nsps,
	.init = gw_init,
	.connect = gw_connect,
	.connected = gw_connected,
	.packet = gw_packet,
	.disconnect = gw_disconnect,
	.peers = gw_peers,
	.stats = gw_stats,
};

/* The settings, before the worker starts: gw_init() reads them. */
void
gateway_configure(const struct gateway_conf *c)
{
	gw.conf = c;
}

static int
gw_init(struct transport *t)
{
	const struct gateway_conf	*c = gw.conf;
	char				 err[256];

	if (c == NULL) {
		log_error("the gateway has no settings (gateway_configure)");
		return -1;
	}
	memset(&gw, 0, sizeof(gw));
	gw.conf = c;
	gw.t = t;
	if ((gw.auth = auth_new(&gw.conf->auth, err, sizeof(err))) == NULL) {
		log_error("authentication: %s", err);
		return -1;
	}
	if (gw_cluster_init(&gw, t->relay != NULL ? gw.conf->run_dir : NULL)
	    != 0) {
		log_error("cannot set up presence and rooms");
		return -1;
	}
	ev_timer_init(&gw.expiry, on_expiry, 1.0, 1.0);
	ev_timer_start(t->loop, &gw.expiry);
	return 0;
}

/*
 * The events' arguments are serialized once, as JavaScript would, and the
 * whole packet encoded once into a frame every recipient shares.
 */
struct frame *
gw_frame(const char *event, json_t *arg)
{
	char		 small[1024], *json = small, *out;
	const char	*args[1];
	size_t		 jlen, n;
	struct frame	*f = NULL;

	jlen = jsonwrite_dump(arg, small, sizeof(small));
	if (jlen >= sizeof(small)) {
		if ((json = malloc(jlen + 1)) == NULL)
			return NULL;
		jsonwrite_dump(arg, json, jlen + 1);
	}
	args[0] = json;
	n = sio_encode_event(NULL, 0, NULL, event, args, &jlen, 1, -1);
	if (n > 0 && (f = frame_new(n, false)) != NULL) {
		out = (char *)FRAME_DATA(f);
		/* The encoder NUL-terminates when it has room; it has not. */
		if (sio_encode_event(out, n, NULL, event, args, &jlen, 1, -1)
		    != n) {
			frame_unref(f);
			f = NULL;
		}
	}
	if (json != small)
		free(json);
	return f;
}

/* One event with one argument to one session. */
void
gw_emit(struct session *s, const char *event, json_t *arg)
{
	struct frame	*f;

	if ((f = gw_frame(event, arg)) != NULL) {
		session_send(s, f);
		gw.messages++;
	}
}

/*
 * A token check costs a signature verification, and RS and ES ones are
 * expensive: one connection may ask for auth_attempts of them (CONNECT
 * and refresh_token together) in a minute.  Past that the attempt is
 * refused unchecked (the connect deadline still closes a socket that
 * never connects).
 */
static int
auth_attempt(struct session *s, const char **why)
{
	uint32_t	now = (uint32_t)ev_now(gw.t->loop);

	if (now - s->auth_since >= 60) {
		s->auth_since = now;
		s->auth_tries = 0;
	}
	if (s->auth_tries >= gw.conf->auth_attempts) {
		gw.auth_refused++;
		*why = "Too many authentication attempts";
		return -1;
	}
	s->auth_tries++;
	return 0;
}

/* The token: handshake auth.token, else the Bearer header or ?token=. */
static int
gw_connect(struct session *s, unsigned nsp, json_t *hs, const char **why)
{
	struct gw_socket	*g;
	struct auth_result	 r;
	const char		*token;

	(void)nsp;
	if (s->app_data != NULL)
		return 0;		/* already authenticated */
	token = json_string_value(json_object_get(hs, "token"));
	if (token == NULL)
		token = s->hs_token;
	if (auth_attempt(s, why) != 0)
		return -1;
	if (auth_verify(gw.auth, token, time(NULL), &r, why) != 0) {
		gw.auth_failures++;
		return -1;
	}
	if (!rooms_id_valid(r.user, strlen(r.user))) {
		gw.auth_failures++;
		*why = "Authentication token names an invalid user id";
		return -1;
	}
	if ((g = calloc(1, sizeof(*g))) == NULL ||
	    (g->user = strdup(r.user)) == NULL) {
		free(g);
		*why = "Server out of memory";
		return -1;
	}
	g->s = s;
	g->ulen = strlen(g->user);
	g->exp = (int64_t)r.exp;
	g->tokens = (double)gw.conf->event_burst;
	g->refilled = ev_now(gw.t->loop);
	s->app_data = g;
	free(s->hs_token);
	s->hs_token = NULL;
	return 0;
}

/*
 * A token's expiry holds on a live connection too.  Once a second: a
 * socket whose token runs out within GW_EXPIRY_NOTICE seconds hears
 * `token_expiring` {expires_at, expires_in} and may answer with
 * `refresh_token` {token}; past exp (and jwt_leeway) it is disconnected.
 */
static void
on_expiry(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct session		*s, *next;
	struct gw_socket	*g;
	int64_t			 now = (int64_t)time(NULL);
	int64_t			 leeway = gw.conf->auth.leeway / 1000;
	char			 at[32];
	json_t			*o;

	(void)loop;
	(void)w;
	(void)revents;
	for (s = gw.t->all; s != NULL; s = next) {
		next = s->next;
		if ((g = s->app_data) == NULL || g->exp == 0)
			continue;
		/* exp is the token's, up to INT64_MAX: no sum with it. */
		if (now - leeway > g->exp) {
			o = json_pack("{s:s,s:s,s:s}", "code", "token_expired",
			    "message", "the authentication token expired",
			    "event", "");
			gw_emit(s, "error", o);
			json_decref(o);
			/*
			 * Leave the session open for the client to hear
			 * why (a polling client reads it at its next poll);
			 * the connect deadline closes it if it stays.
			 */
			socketio_disconnect(s, 0);
			session_connect_within(s, 5.0);
		} else if (!g->warned && now >= g->exp - GW_EXPIRY_NOTICE) {
			g->warned = 1;
			events_time(g->exp * 1000, at);
			o = json_pack("{s:s,s:I}", "expires_at", at,
			    "expires_in", (json_int_t)(g->exp - now));
			gw_emit(s, "token_expiring", o);
			json_decref(o);
		}
	}
}

/*
 * refresh_token {token}: a fresh token for the same user, verified here.
 * -2: not checked, past auth_attempts.
 */
int
gw_refresh(struct gw_socket *g, json_t *arg, const char **why)
{
	struct auth_result	r;

	if (auth_attempt(g->s, why) != 0)
		return -2;
	if (auth_verify(gw.auth, json_string_value(json_object_get(arg,
	    "token")), time(NULL), &r, why) != 0)
		return -1;
	if (strcmp(r.user, g->user) != 0) {
		*why = "the new token names another user";
		return -1;
	}
	g->exp = (int64_t)r.exp;
	g->warned = 0;
	return 0;
}

static void
add_user(void *arg, const char *user)
{
	json_array_append_new(arg, json_string(user));
}

/* `connected`, `online_users`; the user's room; presence. */
static void
gw_connected(struct session *s, unsigned nsp, json_t *hs)
{
	struct gw_socket	*g = s->app_data;
	char			 room[ROOMS_NAME_SIZE];
	json_t			*o;
	int			 n;

	(void)nsp;
	(void)hs;
	if ((n = rooms_name_user(g->user, g->ulen, room)) > 0)
		rooms_join(gw.rooms, room, (size_t)n, g);
	gw_presence_join(&gw, g);
	o = events_connected_json(s->sio_sid, g->user);
	gw_emit(s, "connected", o);
	json_decref(o);
	if (gw_sync_ready(&gw))
		gw_online_users(s, g);
	else
		g->greet = 1;
}

/* Who is online, for a new socket (in scoped mode: only its user). */
void
gw_online_users(struct session *s, struct gw_socket *g)
{
	json_t	*o = json_array();

	if (gw.conf->presence_mode == 0)
		presence_list(gw.presence, add_user, o);
	else
		json_array_append_new(o, json_string(g->user));
	gw_emit(s, "online_users", o);
	json_decref(o);
}

static void
gw_packet(struct session *s, unsigned nsp, struct sio_packet *p,
    const struct sio_attachment *att, unsigned natt)
{
	const char	*name;
	size_t		 len;

	(void)nsp;
	(void)att;
	(void)natt;
	if (p->type != SIO_EVENT && p->type != SIO_BINARY_EVENT)
		return;		/* acks: the gateway asks for none */
	if ((name = sio_event_name(p, &len)) == NULL) {
		name = "";
		len = 0;
	}
	gw_event(s, s->app_data, name, len, sio_event_arg(p, 0), p->ack_id);
}

/* The socket left: its rooms, its presence. */
static void
gw_disconnect(struct session *s, unsigned nsp, const char *reason)
{
	struct gw_socket	*g = s->app_data;

	(void)nsp;
	if (g == NULL)
		return;
	/*
	 * A drain closes sockets whose clients reconnect at once to another
	 * worker: announcing each as offline to everybody is a storm of
	 * events about users who are not leaving.  The table still learns it.
	 */
	gw_presence_leave(&gw, g, strcmp(reason, "server shutting down") != 0);
	/* (presence told g's rooms above: only now leave them) */
	rooms_leave_all(gw.rooms, g);
	s->app_data = NULL;
	free(g->user);
	free(g);
}

static void
gw_stats(struct transport *t, struct worker_stats *st)
{
	struct bus_stats	bs;

	st->users_online = presence_count(gw.presence);
	st->messages = gw.messages;
	st->auth_failures = gw.auth_failures;
	st->rooms_refused = gw.rooms_refused;
	st->events_rate_limited = gw.rate_warnings;
	st->rate_limit_disconnects = gw.rate_disconnects;
	st->auth_attempts_refused = gw.auth_refused;
	/* A bus was wanted (there is a relay: we have siblings) and is not. */
	if (t->relay != NULL && gw.bus == NULL)
		st->isolated = 1;
	if (gw.bus != NULL) {
		bus_stats(gw.bus, &bs);
		st->bus_sent = bs.sent_records;
		st->bus_received = bs.recv_records;
		st->bus_lost = bs.gaps + gw.bus_too_big; /* "dropped" = gaps */
	}
}
