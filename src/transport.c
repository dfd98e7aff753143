/*
 * The lws context of one worker.  lws runs as a foreign loop on our libev
 * loop (LWS_SERVER_OPTION_LIBEV); its vhost listens on nothing, since the
 * worker accepts on the master's sockets and adopts each fd.  lws's own
 * timers fire late under libev (NOTES.md), so a 1 s ev_timer nudges it with
 * lws_cancel_service, and the protocol's timers are our own ev_timers.
 */
#include <ev.h>
#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "log.h"
#include "transport.h"
#include "worker.h"

struct transport {
	struct ev_loop		*loop;
	const struct conf	*conf;
	struct lws_context	*ctx;
	struct lws_vhost	*vhost;
	ev_timer		 nudge;
	unsigned long		 conns;
	int			 draining;
};

struct http_session {
	char	 body[512];
	size_t	 len;
	int	 status;
};

static int	cb_http(struct lws *, enum lws_callback_reasons, void *, void *,
		    size_t);
static void	on_nudge(struct ev_loop *, ev_timer *, int);
static void	lws_log(int, const char *);
static int	http_reply(struct lws *, struct http_session *, int,
		    const char *, size_t);

static const struct lws_protocols protocols[] = {
	{ "http", cb_http, sizeof(struct http_session), 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

/* lws logs through ours, at warn and above. */
static void
lws_log(int level, const char *line)
{
	size_t	len = strlen(line);

	while (len > 0 && line[len - 1] == '\n')
		len--;
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

/* Queue a complete response; it is written when the socket is writable. */
static int
http_reply(struct lws *wsi, struct http_session *s, int status,
    const char *body, size_t len)
{
	uint8_t	 buf[LWS_PRE + 512], *start = buf + LWS_PRE, *p = start;
	uint8_t	*end = buf + sizeof(buf) - 1;

	if (len > sizeof(s->body))
		len = sizeof(s->body);
	memcpy(s->body, body, len);
	s->len = len;
	if (lws_add_http_common_headers(wsi, (unsigned)status,
	    "application/json", len, &p, end) != 0 ||
	    lws_finalize_write_http_header(wsi, start, &p, end) != 0)
		return 1;
	lws_callback_on_writable(wsi);
	return 0;
}

static int
cb_http(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct transport	*t = lws_context_user(lws_get_context(wsi));
	struct http_session	*s = user;
	uint8_t			 buf[LWS_PRE + 512];
	char			 body[256];
	int			 n;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		if (strcmp((const char *)in, "/health") == 0) {
			n = snprintf(body, sizeof(body), "{\"status\":\"%s\","
			    "\"service\":\"socket-gateway\",\"connections\":"
			    "%lu}", t->draining ? "draining" : "ok", t->conns);
			return http_reply(wsi, s, t->draining ? 503 : 200,
			    body, (size_t)n);
		}
		n = snprintf(body, sizeof(body), "{\"error\":\"not found\"}");
		return http_reply(wsi, s, 404, body, (size_t)n);
	case LWS_CALLBACK_HTTP_WRITEABLE:
		memcpy(buf + LWS_PRE, s->body, s->len);
		if (lws_write(wsi, buf + LWS_PRE, s->len,
		    LWS_WRITE_HTTP_FINAL) != (int)s->len)
			return 1;
		return lws_http_transaction_completed(wsi) ? -1 : 0;
	case LWS_CALLBACK_WSI_CREATE:
		t->conns++;
		break;
	case LWS_CALLBACK_WSI_DESTROY:
		t->conns--;
		if (t->draining && t->conns == 0)
			ev_break(t->loop, EVBREAK_ALL);
		break;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

struct transport *
transport_new(struct ev_loop *loop, const struct worker_args *args)
{
	struct lws_context_creation_info	 info;
	struct transport			*t;
	void					*loops[1] = { loop };

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->loop = loop;
	t->conf = args->conf;
	lws_set_log_level(LLL_ERR | LLL_WARN, lws_log);
	memset(&info, 0, sizeof(info));
	info.options = LWS_SERVER_OPTION_LIBEV |
	    LWS_SERVER_OPTION_DISABLE_IPV6;
	info.foreign_loops = loops;
	info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
	info.protocols = protocols;
	info.vhost_name = "default";
	info.user = t;
	info.fd_limit_per_thread = 0;
	if ((t->ctx = lws_create_context(&info)) == NULL) {
		log_error("lws_create_context failed (is the package "
		    "libwebsockets-evlib-ev installed?)");
		free(t);
		return NULL;
	}
	if ((t->vhost = lws_get_vhost_by_name(t->ctx, "default")) == NULL) {
		log_error("libwebsockets has no default vhost");
		lws_context_destroy(t->ctx);
		free(t);
		return NULL;
	}
	ev_timer_init(&t->nudge, on_nudge, 1.0, 1.0);
	t->nudge.data = t;
	ev_timer_start(loop, &t->nudge);
	return t;
}

/* Hand an accepted socket to lws; lws closes it if adoption fails. */
int
transport_adopt(struct transport *t, int fd)
{
	if (lws_adopt_socket_vhost(t->vhost, fd) == NULL) {
		log_warnx("could not adopt a connection");
		return -1;
	}
	return 0;
}

void
transport_drain(struct transport *t)
{
	t->draining = 1;
	if (t->conns == 0)
		ev_break(t->loop, EVBREAK_ALL);
}

/* Tear down as the lws foreign-loop example does; returns the exit code. */
int
transport_free(struct transport *t)
{
	ev_timer_stop(t->loop, &t->nudge);
	lws_context_destroy(t->ctx);
	ev_run(t->loop, EVRUN_NOWAIT);
	free(t);
	return 0;
}
