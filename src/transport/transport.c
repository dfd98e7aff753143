/*
 * The lws context of one worker.  lws runs as a foreign loop on our libev
 * loop (LWS_SERVER_OPTION_LIBEV); its vhost listens on nothing, since the
 * worker accepts on the master's sockets and adopts each fd.  lws's own
 * timers fire late under libev (NOTES.md), so a 1 s ev_timer nudges it with
 * lws_cancel_service, and the protocol's timers are our own ev_timers.
 * One protocol serves HTTP and WebSocket: Socket.IO clients name none.
 */
#include <ev.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>

#include "accept.h"
#include "app.h"
#include "client.h"
#include "handoff.h"
#include "relay.h"
#include "log.h"
#include "session.h"
#include "socketio.h"
#include "tlsfront.h"
#include "transport.h"

#define RX_BUFFER	256	/* small: it is per connection (NOTES.md) */
#define FRONT_BUFFER	16384	/* a TLS record's worth per copy */
#define DRAIN_LINGER	1.0	/* s: see drained() */
#define DRAIN_GRACE	2.0	/* s: see drain_now() */
#define LWS_LOG_WINDOW	10	/* s: see lws_log() */
#define LWS_LOG_BURST	20

/* Requests lws closed: they did not fit max_header_size (see lws_log). */
static uint64_t	header_fails;
static struct lws_token_limits	token_limits;

static int	callback(struct lws *, enum lws_callback_reasons, void *,
		    void *, size_t);
static void	on_nudge(struct ev_loop *, ev_timer *, int);
static void	lws_log(int, const char *);
static void	on_drain(struct ev_loop *, ev_timer *, int);
static void	maybe_done(struct transport *);
static uint64_t	current_rss(void);

/* Resident memory now (not the peak getrusage gives): /proc/self/statm. */
static uint64_t
current_rss(void)
{
	FILE		*f;
	unsigned long	 size, res = 0;

	if ((f = fopen("/proc/self/statm", "r")) == NULL)
		return 0;
	if (fscanf(f, "%lu %lu", &size, &res) != 2)
		res = 0;
	fclose(f);
	return (uint64_t)res * (uint64_t)sysconf(_SC_PAGESIZE);
}

static int
front_tls(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	(void)user;
	/* The client's fd, still open: no longer counted (its peer). */
	if (reason == LWS_CALLBACK_RAW_CLOSE)
		client_untrack(lws_context_user(lws_get_context(wsi)),
		    lws_get_socket_fd(wsi));
	return tlsfront_callback(wsi, (int)reason, in, len, 1);
}

static int
front_pipe(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	(void)user;
	return tlsfront_callback(wsi, (int)reason, in, len, 0);
}

/* The calls up the order (transport.h): every one ends above session.c. */
static const struct transport_calls calls = {
	.sio_receive = socketio_receive,
	.sio_closed = socketio_closed,
	.relay_wake = relay_schedule,
	.relay_forward = relay_forward,
	.relay_cancel = relay_cancel,
	.gone = maybe_done
};

static const struct lws_protocols protocols[] = {
	{ "engine.io", callback, sizeof(struct conn), RX_BUFFER, 0, NULL, 0 },
	{ TLSFRONT_PROTOCOL, front_tls, 0, FRONT_BUFFER, 0, NULL, 0 },
	{ TLSFRONT_PIPE_PROTOCOL, front_pipe, 0, FRONT_BUFFER, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

/*
 * lws logs through ours, at warn and above, at most LWS_LOG_BURST lines
 * per LWS_LOG_WINDOW seconds: a client can make it log (a bad request is
 * an error line to lws), so a flood of them must not flood the log.  A
 * request too long for the header buffer is the client's doing, counted
 * (header_overflows) and logged at debug: a token over its limit is cut
 * (and answered 414 or 431 by router.c), and a request over the whole of
 * max_header_size is closed by lws without an answer (it gives no
 * callback where one could be written).
 */
static void
lws_log(int level, const char *line)
{
	static time_t	 window;
	static unsigned	 lines, dropped;
	size_t		 len = strlen(line);
	time_t		 now = time(NULL);

	while (len > 0 && line[len - 1] == '\n')
		len--;
	if (strstr(line, "Ran out of header data space") != NULL ||
	    strstr(line, "exceeds limit") != NULL) {
		if (line[0] == 'R')
			header_fails++;
		log_debug("libwebsockets: %.*s", (int)len, line);
		return;
	}
	if (now - window >= LWS_LOG_WINDOW) {
		if (dropped > 0)
			log_warn("libwebsockets: %u more lines in %d s not "
			    "logged", dropped, LWS_LOG_WINDOW);
		window = now;
		lines = dropped = 0;
	}
	if (++lines > LWS_LOG_BURST) {
		dropped++;
		return;
	}
	log_emit(level == LLL_ERR ? LOG_LEVEL_ERROR : LOG_LEVEL_WARN, NULL,
	    "libwebsockets: %.*s", (int)len, line);
}

static void
on_nudge(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct transport	*t = w->data;

	(void)loop;
	(void)revents;
	lws_cancel_service(t->ctx);
}

static int
callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct lws_context	*ctx = lws_get_context(wsi);
	struct transport	*t = ctx != NULL ? lws_context_user(ctx) : NULL;
	struct conn		*c = user;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		/*
		 * lws 4.1.6 holds a pipelined request until the one before is
		 * answered (hostile-polling.test.mjs): should it not, a poll
		 * still waiting in c lets go of its session and relay first.
		 */
		polling_closed(t, c, 0);
		http_conn_free(c);
		memset(c, 0, sizeof(*c));
		return router_request(t, wsi, c, in) != 0 ? -1 : 0;
	case LWS_CALLBACK_HTTP_BODY:
		return polling_body(t, wsi, c, in, len);
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		return polling_body_done(t, wsi, c) != 0 ? -1 : 0;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		if (c->hung_up)
			return -1;	/* hup.c: lws closes it */
		return polling_writeable(t, wsi, c);
	case LWS_CALLBACK_CLOSED_HTTP:
		if (c != NULL) {
			polling_closed(t, c, 1);
			http_conn_free(c);
		}
		break;
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		return ws_confirm(t, wsi);
	case LWS_CALLBACK_ESTABLISHED:
		return ws_established(t, wsi, c);
	case LWS_CALLBACK_RECEIVE:
		return ws_receive(t, wsi, c, in, len);
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return ws_writeable(t, wsi, c);
	case LWS_CALLBACK_CLOSED:
		ws_closed(c);
		break;
	case LWS_CALLBACK_WSI_CREATE:
		if (t != NULL)
			t->stats.conns++;
		break;

	case LWS_CALLBACK_WSI_DESTROY:
		/*
		 * Every wsi's (protocols[0] hears them all), after lws closed
		 * the fd: ours carry it in their opaque data (see adopt).
		 */
		if (t != NULL && lws_get_protocol(wsi) != NULL &&
		    lws_get_protocol(wsi)->callback == callback &&
		    lws_get_opaque_user_data(wsi) != NULL)
			client_untrack(t, (int)((intptr_t)
			    lws_get_opaque_user_data(wsi) - 1));
		if (t != NULL) {
			t->stats.conns--;
			maybe_done(t);
		}
		break;
	default:
		break;
	}
	return 0;
}

struct transport *
transport_new(struct ev_loop *loop, const struct transport_conf *conf,
    int wid, const struct app *app, const char *path)
{
	struct lws_context_creation_info	 info;
	struct transport			*t;
	ev_timer				*nudge;
	void					*loops[1] = { loop };
	int					 i;

	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (nudge = calloc(1, sizeof(*nudge))) == NULL ||
	    (t->drainer = calloc(1, sizeof(ev_timer))) == NULL) {
		if (t != NULL)
			free(t->drainer);
		free(t);
		return NULL;
	}
	t->loop = loop;
	t->started = time(NULL);
	t->conf = conf;
	t->app = app;
	t->up = &calls;
	t->wid = wid;
	t->path = path;
	t->nudge = nudge;
	lws_set_log_level(LLL_ERR | LLL_WARN, lws_log);
	memset(&info, 0, sizeof(info));
	info.options = LWS_SERVER_OPTION_LIBEV |
	    LWS_SERVER_OPTION_DISABLE_IPV6;
	info.foreign_loops = loops;
	info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
	info.protocols = protocols;
	info.vhost_name = "default";
	info.user = t;
	/*
	 * Room for a request's line and headers (a Bearer token of 8 KB must
	 * fit).  lws allocates it per request, not per connection: it is
	 * freed once a request is answered and on a WebSocket upgrade.
	 */
	info.max_http_header_data2 = (unsigned)t->conf->max_header_size;
	for (i = 0; i < WSI_TOKEN_COUNT; i++)
		token_limits.token_limit[i] = (unsigned short)HDR_TOKEN_LIMIT(
		    t->conf->max_header_size);
	info.token_limits = &token_limits;
	if (t->conf->tls_cert[0] != '\0') {
		/* Every adopted socket then starts with a TLS handshake. */
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		info.ssl_cert_filepath = t->conf->tls_cert;
		info.ssl_private_key_filepath = t->conf->tls_key;
	}
	info.timeout_secs = 20;
	if ((t->ctx = lws_create_context(&info)) == NULL) {
		if (t->conf->tls_cert[0] != '\0')
			log_error("cannot start libwebsockets with tls_cert %s "
			    "and tls_key %s: the lines above say why",
			    t->conf->tls_cert, t->conf->tls_key);
		else
			log_error("lws_create_context failed (is the package "
			    "libwebsockets-evlib-ev installed?)");
		free(nudge);
		free(t);
		return NULL;
	}
	if ((t->vhost = lws_get_vhost_by_name(t->ctx, "default")) == NULL) {
		log_error("libwebsockets has no default vhost");
		lws_context_destroy(t->ctx);
		free(nudge);
		free(t);
		return NULL;
	}
	ev_timer_init(nudge, on_nudge, 1.0, 1.0);
	nudge->data = t;
	ev_timer_start(loop, nudge);
	client_limits(t);
	return t;
}

/*
 * Drained: every session gone, no connection waiting in the hand-off, no
 * TLS front carrying one for another worker, and none open in lws either,
 * or none for DRAIN_LINGER seconds since the last session went.  A
 * connection this worker accepted just before it stopped accepting has
 * its request answered (with "Connection: close") instead of being reset
 * by our exit; an idle keep-alive connection holds the exit no longer.
 */
static int
drained(struct transport *t)
{
	if (!t->draining || t->all != NULL) {
		t->sessions_gone = 0;
		return 0;
	}
	if (accept_waiting(t->acceptq) || t->fronts > 0 ||
	    handoff_waiting(t->handoff))
		return 0;
	if (t->stats.conns == 0)
		return 1;
	if (t->sessions_gone == 0)
		t->sessions_gone = ev_now(t->loop);
	return ev_now(t->loop) - t->sessions_gone >= DRAIN_LINGER;
}

/* Called when a session or a connection goes: the loop may end. */
static void
maybe_done(struct transport *t)
{
	if (drained(t))
		ev_break(t->loop, EVBREAK_ALL);
}

/*
 * A drain batch closes this session now?  Not a Socket.IO session that
 * has not finished its CONNECT, for its first DRAIN_GRACE seconds: its
 * client is still being set up, and a close now would fail its attempt
 * to connect (one that takes longer is closed).  Not a long-polling
 * session between two GETs either, in the drain's first DRAIN_GRACE
 * seconds: what it has queued and the close packet go out with its next
 * GET, which the session must still be there to answer (a client whose
 * GET does not come by then has gone: a relayed GET whose worker exited,
 * say).  A later batch closes them.
 */
static int
drain_now(const struct transport *t, struct session *s)
{
	double	age;

	if (s->state == SESSION_CLOSED)
		return 0;
	if (s->nsp_mask == 0 && t->app->eio_message == NULL &&
	    ev_is_active(&s->deadline)) {
		age = (double)t->conf->connect_timeout / 1000.0 -
		    ev_timer_remaining(t->loop, &s->deadline);
		return age >= DRAIN_GRACE;
	}
	return s->kind != SESSION_POLLING || s->poll != NULL ||
	    s->rpeer != NULL ||
	    ev_now(t->loop) - t->drain_started >= DRAIN_GRACE;
}

/*
 * One batch of the drain: close up to drain_batch sessions (each client
 * hears "transport close" and reconnects, to another worker or host), so
 * that they do not all reconnect at once (Phoenix's drainer).  Past
 * shutdown_timeout whatever is left is closed by tearing down the context.
 */
static void
on_drain(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct transport	*t = w->data;
	struct session		*s, *sn;
	long long		 n = 0;
	double			 next, left;

	(void)revents;
	for (s = t->all; s != NULL && n < t->conf->drain_batch; s = sn) {
		session_pin(s);
		if (drain_now(t, s)) {
			session_close(s, "server shutting down");
			n++;
		}
		sn = s->next;
		session_unpin(s);
	}
	if (drained(t)) {
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	if ((ev_now(loop) - t->drain_started) * 1000.0 >=
	    (double)t->conf->shutdown_timeout) {
		log_warnx("drain: shutdown_timeout reached with %llu sessions; "
		    "closing them", (unsigned long long)t->stats.sessions);
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	/* A full batch: wait.  Else poll for late CONNECTs and the linger. */
	next = n >= t->conf->drain_batch ? (double)t->conf->drain_interval /
	    1000.0 : 0.05;
	left = (double)t->conf->shutdown_timeout / 1000.0 -
	    (ev_now(loop) - t->drain_started);
	ev_timer_set(w, next < left ? next : left > 0 ? left : 0, 0);
	ev_timer_start(loop, w);
}

/* Stop taking sessions and close the ones there are, in batches. */
void
transport_drain(struct transport *t)
{
	ev_timer	*w = t->drainer;

	if (t->draining)
		return;
	t->draining = 1;
	t->drain_started = ev_now(t->loop);
	ev_timer_init(w, on_drain, 0, 0);
	w->data = t;
	ev_timer_start(t->loop, w);
}

/* This worker's transport figures. */
void
transport_stats(const struct transport *t, struct worker_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->wid = t->wid;
	st->pid = (int32_t)getpid();
	st->sessions = t->stats.sessions;
	st->sessions_total = t->stats.sessions_total;
	st->slow_readers = t->stats.slow_readers;
	st->parse_errors = t->stats.parse_errors;
	st->ping_timeouts = t->stats.ping_timeouts;
	st->frames_in = t->stats.frames_in;
	st->frames_out = t->stats.frames_out;
	st->relayed = t->stats.relayed;
	st->handed_off = t->stats.handed_off;
	st->conns_refused = t->stats.conns_refused;
	st->conns_refused_addr = t->stats.conns_refused_addr;
	st->fd_exhausted = t->stats.fd_exhausted;
	st->sessions_refused_addr = t->stats.sessions_refused_addr;
	st->body_timeouts = t->stats.body_timeouts;
	st->header_overflows = t->stats.header_overflows + header_fails;
	st->handoff_waits = t->stats.handoff_waits;
	st->handoff_failures = t->stats.handoff_failures;
	st->polls_dropped = t->stats.polls_dropped;
	st->polls_unwatched = t->stats.polls_unwatched;
	st->pings_ahead = t->stats.pings_ahead;
	st->pongs_late = t->stats.pongs_late;
	st->admin_files = t->stats.admin_files;
	st->admin_files_refused = t->stats.admin_files_refused;
	st->output_queued_bytes = outq_total();
	st->started = (uint64_t)t->started;
	st->rss = current_rss();
}

/* Tear down as the lws foreign-loop example does; returns the exit code. */
int
transport_free(struct transport *t)
{
	ev_timer_stop(t->loop, (ev_timer *)t->nudge);
	ev_timer_stop(t->loop, (ev_timer *)t->drainer);
	free(t->drainer);
	lws_context_destroy(t->ctx);
	ev_run(t->loop, EVRUN_NOWAIT);
	hup_free();
	client_free(t);
	free(t->nudge);
	free(t);
	return 0;
}
