/*
 * The gateway application: authentication at the Socket.IO CONNECT and the
 * seed's events.  One instance per worker process.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "auth.h"
#include "conf.h"
#include "gateway.h"
#include "log.h"
#include "session.h"
#include "sio.h"
#include "socketio.h"
#include "transport.h"

static const char *const nsps[] = { "/", NULL };

struct gw_socket {
	struct auth_result	 who;
};

static struct auth	*auth;

static int	gw_init(struct transport *);
static int	gw_connect(struct session *, unsigned, json_t *,
		    const char **);
static void	gw_connected(struct session *, unsigned, json_t *);
static void	gw_packet(struct session *, unsigned, struct sio_packet *,
		    const struct sio_attachment *, unsigned);
static void	gw_closed(struct session *, const char *);

const struct app gateway_app = {
	.nsps = nsps,
	.init = gw_init,
	.connect = gw_connect,
	.connected = gw_connected,
	.packet = gw_packet,
	.closed = gw_closed,
};

static int
gw_init(struct transport *t)
{
	char	err[256];

	if ((auth = auth_new(t->conf, err, sizeof(err))) == NULL) {
		log_error("authentication: %s", err);
		return -1;
	}
	return 0;
}

/* The token comes from the handshake's auth.token. */
static int
gw_connect(struct session *s, unsigned nsp, json_t *hs, const char **why)
{
	struct gw_socket	*g;
	struct auth_result	 r;
	const char		*token;

	(void)nsp;
	token = json_string_value(json_object_get(hs, "token"));
	if (token == NULL)
		token = s->hs_token;
	if (auth_verify(auth, token, time(NULL), &r, why) != 0)
		return -1;
	if ((g = calloc(1, sizeof(*g))) == NULL) {
		*why = "Server out of memory";
		return -1;
	}
	g->who = r;
	s->app_data = g;
	return 0;
}

static void
gw_connected(struct session *s, unsigned nsp, json_t *hs)
{
	struct gw_socket	*g = s->app_data;
	json_t			*args;

	(void)hs;
	args = json_pack("[{s:s,s:s}]", "socket_id", s->sid, "user_id",
	    g->who.user);
	socketio_emit(s, nsp, "connected", args);
	json_decref(args);
	args = json_pack("[[s]]", g->who.user);
	socketio_emit(s, nsp, "online_users", args);
	json_decref(args);
}

static void
gw_packet(struct session *s, unsigned nsp, struct sio_packet *p,
    const struct sio_attachment *att, unsigned natt)
{
	const char	*name;
	size_t		 len;
	json_t		*err, *args;

	(void)att;
	(void)natt;
	if (p->type != SIO_EVENT && p->type != SIO_BINARY_EVENT)
		return;
	if ((name = sio_event_name(p, &len)) == NULL)
		name = "", len = 0;
	err = json_pack("{s:s,s:s,s:s#}", "code", "unknown_event",
	    "message", "this event is not handled", "event", name, len);
	if (p->ack_id >= 0) {
		args = json_pack("[{s:b,s:O}]", "ok", 0, "error", err);
		socketio_ack(s, nsp, p->ack_id, args);
		json_decref(args);
	}
	args = json_pack("[o]", err);
	socketio_emit(s, nsp, "error", args);
	json_decref(args);
}

static void
gw_closed(struct session *s, const char *reason)
{
	(void)reason;
	free(s->app_data);
	s->app_data = NULL;
}
