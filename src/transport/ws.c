/*
 * WebSocket (Engine.IO v4).  Without a sid the WebSocket is a session of its
 * own and the OPEN packet is its first frame; with one it is an upgrade
 * probe for a polling session: "2probe" is answered "3probe", the waiting
 * poll is released with a noop, and "5" switches the session over.
 * Messages may arrive in fragments; they are rebuilt up to max_payload.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "client.h"
#include "eio.h"
#include "log.h"
#include "session.h"
#include "transport.h"

#define QUERY_MAX	1024

static int	query(struct lws *, struct eio_query *);
static int	write_now(struct lws *, const char *, size_t);
static int	probe_packet(struct session *, struct lws *,
		    const struct eio_packet *);
static int	message(struct transport *, struct lws *, struct conn *,
		    const uint8_t *, size_t, bool);

static int
query(struct lws *wsi, struct eio_query *q)
{
	char	args[QUERY_MAX];

	eio_handshake_query(q, args, http_query(wsi, args, sizeof(args)));
	return eio_handshake_verify(q, true, true);
}

/* A small text frame straight to the socket (OPEN, 3probe). */
static int
write_now(struct lws *wsi, const char *text, size_t len)
{
	uint8_t	buf[LWS_PRE + 512];

	if (len > sizeof(buf) - LWS_PRE)
		return -1;
	memcpy(buf + LWS_PRE, text, len);
	return lws_write(wsi, buf + LWS_PRE, len, LWS_WRITE_TEXT) <
	    (int)len ? -1 : 0;
}

/* LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: refuse what the reference refuses. */
int
ws_confirm(struct transport *t, struct lws *wsi)
{
	struct eio_query	 q;
	char			 uri[256];
	size_t			 plen = strlen(t->path);
	int			 rc;

	/* lws would close an upgrade without a key (RFC 6455 4.2.1) mute. */
	if (lws_hdr_total_length(wsi, WSI_TOKEN_KEY) <= 0 ||
	    lws_hdr_total_length(wsi, WSI_TOKEN_VERSION) <= 0)
		rc = EIO_ERR_BAD_REQUEST;
	else if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) <= 0 ||
	    (strncmp(uri, t->path, plen) != 0 &&
	    !(strncmp(uri, t->path, plen - 1) == 0 && uri[plen - 1] == '\0')))
		rc = EIO_ERR_BAD_REQUEST;
	else if ((rc = query(wsi, &q)) == EIO_OK && q.has_sid) {
		/*
		 * A session that is upgrading or upgraded is refused after
		 * the handshake, at ESTABLISHED, as the reference does.
		 */
		if (session_find(t, q.sid, q.sidlen) == NULL)
			rc = EIO_ERR_SID;
	} else if (rc == EIO_OK && client_full(t, lws_get_socket_fd(wsi))) {
		/* A new session past max_unconnected_per_address. */
		lws_return_http_status(wsi, 503,
		    "Too many sessions without a CONNECT from this address");
		return 1;
	}
	if (rc == EIO_OK)
		return 0;
	lws_return_http_status(wsi, (unsigned)eio_handshake_status(
	    eio_handshake_code(rc) < 0 ? EIO_CODE_BAD_REQUEST :
	    eio_handshake_code(rc)), eio_handshake_message(
	    eio_handshake_code(rc) < 0 ? EIO_CODE_BAD_REQUEST :
	    eio_handshake_code(rc)));
	return 1;
}

/*
 * What the kernel may hold unsent for this client (issue 16).  Over
 * loopback it would take 4 MB a connection: a client behind on reading
 * then has megabytes in the kernel that no ping can pass and presence
 * cannot coalesce, and the gateway never sees its queue grow.  With the
 * bound, the backlog waits in the session's queue.  Not a TCP socket (a
 * TLS front's): nothing to bound, the error is ignored.
 */
static void
bound_unsent(struct transport *t, struct lws *wsi)
{
	int	v = (int)t->conf->socket_unsent_max, fd;

	if (v > 0 && (fd = lws_get_socket_fd(wsi)) >= 0)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &v,
		    sizeof(v));
}

/* LWS_CALLBACK_ESTABLISHED: a new session, or a probe for one. */
int
ws_established(struct transport *t, struct lws *wsi, struct conn *c)
{
	struct eio_query	 q;
	struct session		*s;
	struct peer		*held;
	uint8_t			 open[256];
	size_t			 n;

	memset(c, 0, sizeof(*c));
	c->is_ws = 1;
	if (query(wsi, &q) != EIO_OK)
		return -1;
	bound_unsent(t, wsi);
	if (q.has_sid) {
		s = session_find(t, q.sid, q.sidlen);
		if (s == NULL || s->kind != SESSION_POLLING || s->ws != NULL ||
		    s->state != SESSION_OPEN)
			return -1;
		s->ws = wsi;
		c->s = s;
		return 0;
	}
	if (client_hold(t, lws_get_socket_fd(wsi), &held) != 0)
		return -1;
	if ((s = session_new(t, SESSION_WEBSOCKET)) == NULL) {
		client_unhold(t, held);
		return -1;
	}
	s->held = held;
	s->ws = wsi;
	c->s = s;
	session_take_token(s, wsi);
	n = session_open_packet(s, open, sizeof(open));
	if (n == 0 || write_now(wsi, (const char *)open, n) != 0)
		return -1;
	session_start_heartbeat(s);
	return 0;
}

/* A packet on a probing WebSocket of a polling session. */
static int
probe_packet(struct session *s, struct lws *wsi, const struct eio_packet *p)
{
	struct transport	*t = s->t;
	double			 after;

	if (p->type == EIO_PING && p->len == 5 &&
	    memcmp(p->data, "probe", 5) == 0 && s->state == SESSION_OPEN) {
		if (write_now(wsi, "3probe", 6) != 0)
			return -1;
		s->state = SESSION_UPGRADING;
		/*
		 * One timer for both deadlines: the upgrade's, but never past
		 * the CONNECT's (on_deadline re-arms that one if the upgrade
		 * lapses).
		 */
		after = (double)t->conf->upgrade_timeout / 1000.0;
		if (s->nsp_mask == 0 && t->app->eio_message == NULL &&
		    session_connect_left(s) < after)
			after = session_connect_left(s);
		ev_timer_stop(t->loop, &s->deadline);
		ev_timer_set(&s->deadline, after, 0);
		ev_timer_start(t->loop, &s->deadline);
		if (s->poll != NULL || s->rpeer != NULL) {
			s->poll_noop = 1;
			session_wake_poll(s);
		}
		return 0;
	}
	if (p->type == EIO_UPGRADE && session_upgrade_done(s))
		return 0;
	/* Anything else is not an upgrade: drop the probe, keep polling. */
	return -1;
}

/* One whole message: decode it and hand it to the session. */
static int
message(struct transport *t, struct lws *wsi, struct conn *c,
    const uint8_t *data, size_t len, bool binary)
{
	struct session		*s = c->s;
	struct eio_packet	 p;
	int			 rc;

	rc = eio_packet_decode_frame(&p, data, len, binary,
	    (size_t)t->conf->max_payload, NULL, 0);
	if (rc != EIO_OK) {
		t->stats.parse_errors++;
		log_debug("session %s: bad frame: %s", s->sid,
		    eio_strerror(rc));
		session_close(s, "parse error");
		return 0;
	}
	if (s->kind == SESSION_POLLING)
		return probe_packet(s, wsi, &p);
	session_receive(s, &p);
	return 0;
}

/* LWS_CALLBACK_RECEIVE: a fragment; whole messages go to message(). */
int
ws_receive(struct transport *t, struct lws *wsi, struct conn *c,
    const void *in, size_t len)
{
	size_t	 max = (size_t)t->conf->max_payload;
	bool	 first = lws_is_first_fragment(wsi), last;
	int	 rc;

	if (c->s == NULL || c->s->state == SESSION_CLOSED)
		return 0;
	last = lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi)
	    == 0;
	if (first && last && c->buf.len == 0)
		return message(t, wsi, c, in, len,
		    lws_frame_is_binary(wsi) != 0);
	if (first && c->buf.len == 0)
		c->rx_binary = lws_frame_is_binary(wsi) != 0;
	if (c->buf.len + len > max) {
		t->stats.parse_errors++;
		lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, NULL,
		    0);
		session_close(c->s, "message too large");
		return -1;
	}
	if (buf_append(&c->buf, in, len) != 0)
		return -1;
	if (!last)
		return 0;
	rc = message(t, wsi, c, c->buf.p, c->buf.len, c->rx_binary);
	buf_free(&c->buf);
	return rc;
}

/* LWS_CALLBACK_SERVER_WRITEABLE: the queue, then a pending close. */
int
ws_writeable(struct transport *t, struct lws *wsi, struct conn *c)
{
	struct session	*s = c->s;

	(void)t;
	if (s == NULL)
		return -1;
	if (s->kind == SESSION_WEBSOCKET && s->ws == wsi)
		session_ws_writable(s);
	if (s->ws_closing && (s->q.n == 0 || s->kind != SESSION_WEBSOCKET ||
	    s->ws != wsi) && !lws_partial_buffered(wsi)) {
		lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
		return -1;
	}
	return 0;
}

/* LWS_CALLBACK_CLOSED: the WebSocket is gone. */
void
ws_closed(struct conn *c)
{
	struct session	*s = c->s;

	c->s = NULL;
	buf_free(&c->buf);
	if (s != NULL && s->ws != NULL)
		session_detach_ws(s);
}
