/*
 * HTTP long-polling (Engine.IO v4).  A GET without a sid opens a session
 * and answers the OPEN packet; a GET with one waits until there is
 * something to send (lws would kill it after 5 s without the timeout set
 * below); a POST carries packets from the client and is answered "ok".
 * Errors follow the reference server: an unknown sid is 400 code 1, a
 * second GET while one waits closes the session, a malformed body closes
 * it too.  A request for a session another worker owns is relayed to it
 * (relay.c), which runs the same functions below on its side.
 */
#include <ev.h>
#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "eio.h"
#include "log.h"
#include "session.h"
#include "sid.h"
#include "transport.h"

#define QUERY_MAX	(8192 + 1024)	/* a token= of auth.c's longest fits */
#define POLL_HOLD	3600	/* seconds; the heartbeat ends it sooner */

static const char	TEXT[] = "text/plain; charset=UTF-8";
static const char	JSON[] = "application/json";
/* A handshake past max_unconnected_per_address. */
static const char	UNCONNECTED[] = "{\"code\":5,\"message\":"
    "\"Too many sessions without a CONNECT from this address\"}";
static const char	LENGTH_REQUIRED[] = "{\"code\":3,\"message\":"
    "\"Content-Length required\"}";

static int	open_session(struct transport *, struct lws *, struct conn *);
static int	post_packets(struct transport *, struct session *,
		    const uint8_t *, size_t);
static int	check_session(struct session *, int);
static int	body_begin(struct transport *, struct lws *, struct conn *);
static int	relay_hold(const struct transport *);
static size_t	payload(struct session *, uint8_t **);
static size_t	error_body(int, uint8_t *, size_t, int *);

static int
open_session(struct transport *t, struct lws *wsi, struct conn *c)
{
	struct session	*s;
	struct peer	*held;
	uint8_t		 open[256];
	size_t		 n;

	if (client_hold(t, lws_get_socket_fd(wsi), &held) != 0)
		return http_reply(wsi, c, 503, JSON, UNCONNECTED,
		    sizeof(UNCONNECTED) - 1);
	/*
	 * While draining (a reload) a handshake that still reaches us is
	 * served, not refused: a later drain batch closes it and the client
	 * reconnects to the new generation.  Refusing would fail it.
	 */
	if ((s = session_new(t, SESSION_POLLING)) == NULL) {
		client_unhold(t, held);
		return http_reply(wsi, c, 500, JSON, http_bad_request,
		    HTTP_BAD_REQUEST_LEN);
	}
	s->held = held;
	n = session_open_packet(s, open, sizeof(open));
	session_take_token(s, wsi);
	session_start_heartbeat(s);
	return http_reply(wsi, c, 200, TEXT, open, n);
}

/* The reference's status and JSON body for an error result. */
static size_t
error_body(int err, uint8_t *out, size_t cap, int *status)
{
	ptrdiff_t	n;
	int		code;

	if ((code = eio_handshake_code(err)) < 0)
		code = EIO_CODE_BAD_REQUEST;
	*status = eio_handshake_status(code);
	n = eio_handshake_error(code, out, cap);
	return n < 0 ? 0 : (size_t)n;
}

/*
 * How long a relayed request may wait for its owner's answer: a poll is
 * answered within a heartbeat (a ping), a POST at once.  A dead owner is
 * answered 503 by relay.c before that; this is for one that hangs.
 */
static int
relay_hold(const struct transport *t)
{
	return (int)((t->conf->ping_interval + t->conf->ping_timeout) / 1000) +
	    10;
}

/* Can this session take a polling request?  EIO_OK or the error. */
static int
check_session(struct session *s, int method)
{
	if (s == NULL || s->state == SESSION_CLOSED)
		return EIO_ERR_SID;
	if (s->kind != SESSION_POLLING)
		return EIO_ERR_BAD_REQUEST;
	if (method == RELAY_GET && (s->poll != NULL || s->rpeer != NULL)) {
		/* Overlapping polls: the reference closes the session. */
		session_close(s, "overlapping poll");
		return EIO_ERR_BAD_REQUEST;
	}
	return EIO_OK;
}

/* A POST body's packets; EIO_OK or the error that closed the session. */
static int
post_packets(struct transport *t, struct session *s, const uint8_t *body,
    size_t len)
{
	struct eio_payload	 it;
	struct eio_packet	 pkt;
	uint8_t			*scratch;
	size_t			 cap = eio_payload_scratch_len(len) + 1;
	int			 rc;

	if ((scratch = malloc(cap)) == NULL)
		return EIO_ERR_BAD_REQUEST;
	rc = eio_payload_begin(&it, body, len, (size_t)t->conf->max_payload,
	    scratch, cap);
	session_pin(s);
	while (rc == EIO_OK && s->state != SESSION_CLOSED &&
	    (rc = eio_payload_next(&it, &pkt)) == EIO_OK)
		session_receive(s, &pkt);
	free(scratch);
	if (rc != EIO_DONE && rc != EIO_OK) {
		t->stats.parse_errors++;
		session_close(s, rc == EIO_ERR_TOO_BIG ? "payload too large" :
		    "parse error");
		rc = EIO_ERR_BAD_REQUEST;
	} else
		rc = EIO_OK;
	session_unpin(s);
	return rc;
}

/*
 * A request for one of our sessions, arriving here or relayed from another
 * worker.  Returns 0 for a GET that now waits, else the HTTP status with
 * the body in out.
 */
int
polling_relayed(struct transport *t, struct session *s, int method,
    const uint8_t *body, size_t len, uint8_t *out, size_t cap,
    size_t *outlen, const char **ctype)
{
	int	rc, status;

	*ctype = JSON;
	if ((rc = check_session(s, method)) == EIO_OK && method == RELAY_POST)
		rc = post_packets(t, s, body, len);
	if (rc != EIO_OK) {
		*outlen = error_body(rc, out, cap, &status);
		return status;
	}
	if (method == RELAY_GET) {
		if (s->state == SESSION_UPGRADING)
			s->poll_noop = 1;	/* upgrade under way: noop */
		return 0;
	}
	*ctype = "text/html";
	memcpy(out, "ok", 2);
	*outlen = 2;
	return 200;
}

/* LWS_CALLBACK_HTTP on the Engine.IO path. */
int
polling_request(struct transport *t, struct lws *wsi, struct conn *c,
    const char *path)
{
	struct eio_query	 q;
	struct session		*s;
	char			 args[QUERY_MAX];
	uint8_t			 out[128];
	const char		*ctype;
	size_t			 outlen, n;
	int			 rc, owner, status, relayed;

	(void)path;
	/* A query cut short could lose its sid and open a new session. */
	if ((n = http_query(wsi, args, sizeof(args))) + 1 >= sizeof(args))
		return http_error(wsi, c, EIO_ERR_BAD_REQUEST);
	eio_handshake_query(&q, args, n);
	rc = eio_handshake_verify(&q, c->method == CONN_GET, false);
	if (rc != EIO_OK)
		return http_error(wsi, c, rc);
	if (!q.has_sid)
		return open_session(t, wsi, c);
	if (c->method != CONN_GET && c->method != CONN_POST)
		return http_error(wsi, c, EIO_ERR_BAD_REQUEST);
	owner = sid_worker(q.sid, q.sidlen);
	relayed = owner >= 0 && owner != t->wid && t->relay != NULL;
	if (c->method == CONN_POST) {
		/*
		 * Only the sid is kept while the body comes: the session may
		 * close meanwhile (timeouts, a close packet, a drain), so
		 * polling_body_done() looks it up again.  An error answered now
		 * leaves the body unread: the connection closes after it.
		 */
		if (!relayed && (rc = check_session(session_find(t, q.sid,
		    q.sidlen), RELAY_POST)) != EIO_OK) {
			c->closing = 1;
			return http_error(wsi, c, rc);
		}
		memcpy(c->sid, q.sid, SID_LEN);
		c->owner = relayed ? owner + 1 : 0;
		return body_begin(t, wsi, c);
	}
	if (relayed) {
		memcpy(c->sid, q.sid, SID_LEN);
		c->owner = owner + 1;
		if (t->up->relay_forward(t->relay, wsi, c, owner, RELAY_GET,
		    c->sid, NULL, 0) != 0)
			return http_error(wsi, c, EIO_ERR_SID);
		lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT,
		    relay_hold(t));
		hup_watch(t, wsi, c);	/* its close cancels it at the owner */
		return 0;
	}
	s = session_find(t, q.sid, q.sidlen);
	status = polling_relayed(t, s, RELAY_GET, NULL, 0, out, sizeof(out),
	    &outlen, &ctype);
	if (status != 0)
		return http_reply(wsi, c, status, ctype, out, outlen);
	s->poll = wsi;
	c->s = s;
	c->is_poll = 1;
	lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, POLL_HOLD);
	hup_watch(t, wsi, c);		/* its close closes the session */
	if (s->q.n > 0 || s->poll_noop)
		lws_callback_on_writable(wsi);
	return 0;
}

/*
 * A POST's body is awaited: refused at once when its Content-Length is
 * over max_payload (nothing of it is read), else given body_timeout to
 * arrive whole, however it trickles.
 */
static int
body_begin(struct transport *t, struct lws *wsi, struct conn *c)
{
	struct session		*s;
	char			 cl[24], *end;
	unsigned long long	 n;

	/*
	 * Engine.IO clients always say how long a body is; lws 4.1 cannot
	 * read a chunked one, which would wait for body_timeout in vain.
	 */
	if (lws_hdr_copy(wsi, cl, sizeof(cl),
	    WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0) {
		c->closing = 1;
		return http_reply(wsi, c, 411, JSON, LENGTH_REQUIRED,
		    sizeof(LENGTH_REQUIRED) - 1);
	}
	n = strtoull(cl, &end, 10);
	if (end == cl || *end != '\0') {
		c->closing = 1;
		return http_reply(wsi, c, 400, JSON, http_bad_request,
		    HTTP_BAD_REQUEST_LEN);
	}
	if (n > (unsigned long long)t->conf->max_payload) {
		if (c->owner == 0 && (s = session_find(t, c->sid,
		    SID_LEN)) != NULL) {
			t->stats.parse_errors++;
			session_close(s, "payload too large");
		}
		c->closing = 1;
		return http_reply(wsi, c, 413, JSON, http_bad_request,
		    HTTP_BAD_REQUEST_LEN);
	}
	if (http_body_wait(t, wsi, c) != 0)
		return -1;
	c->post = 1;
	return 0;
}

/* LWS_CALLBACK_HTTP_BODY: collect at most max_payload bytes. */
int
polling_body(struct transport *t, struct lws *wsi, struct conn *c,
    const void *in, size_t len)
{
	size_t	 max = (size_t)t->conf->max_payload;

	(void)wsi;
	if (!c->post || c->too_big)
		return 0;
	if (c->buf.len + len > max) {
		c->too_big = 1;		/* answered at completion */
		return 0;
	}
	return buf_append(&c->buf, in, len);
}

/*
 * LWS_CALLBACK_HTTP_BODY_COMPLETION: the packets, then "ok".  The session
 * is looked up again by its sid: the one there was when the headers came
 * may be closed and freed by now.
 */
int
polling_body_done(struct transport *t, struct lws *wsi, struct conn *c)
{
	struct session	*s;
	int		 rc;

	http_body_stop(c);
	if (!c->post)
		return 0;		/* answered already */
	c->post = 0;
	s = c->owner == 0 ? session_find(t, c->sid, SID_LEN) : NULL;
	if (c->too_big) {
		if (s != NULL && s->state != SESSION_CLOSED) {
			t->stats.parse_errors++;
			session_close(s, "payload too large");
		}
		return http_reply(wsi, c, 413, JSON, http_bad_request,
		    HTTP_BAD_REQUEST_LEN);
	}
	if (c->owner != 0) {
		rc = t->up->relay_forward(t->relay, wsi, c, c->owner - 1,
		    RELAY_POST, c->sid, c->buf.p, c->buf.len);
		http_conn_free(c);
		if (rc != 0)
			return http_error(wsi, c, EIO_ERR_SID);
		lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT,
		    relay_hold(t));
		return 0;
	}
	if ((rc = check_session(s, RELAY_POST)) == EIO_OK)
		rc = post_packets(t, s, c->buf.p, c->buf.len);
	if (rc != EIO_OK)
		return http_error(wsi, c, rc);
	return http_reply(wsi, c, 200, "text/html", "ok", 2);
}

/* Everything queued, as one payload; *out is malloc'd. */
static size_t
payload(struct session *s, uint8_t **out)
{
	struct eio_packet	*pk;
	struct frame		*f;
	size_t			 n = s->q.n, i, len;
	uint8_t			*buf;
	ptrdiff_t		 r;

	*out = NULL;
	if ((pk = calloc(n, sizeof(*pk))) == NULL)
		return 0;
	for (i = 0; i < n; i++) {
		f = outq_peek(&s->q, (uint32_t)i);
		if (f->binary) {
			pk[i].type = EIO_MESSAGE;
			pk[i].binary = true;
			pk[i].data = FRAME_DATA(f);
			pk[i].len = f->len;
		} else if (eio_packet_decode(&pk[i], FRAME_DATA(f), f->len,
		    NULL, 0) != EIO_OK) {
			free(pk);
			return 0;
		}
	}
	len = eio_payload_encoded_len(pk, n);
	if ((buf = malloc(len + 1)) == NULL ||
	    (r = eio_payload_encode(pk, n, buf, len + 1)) < 0) {
		free(buf);
		free(pk);
		return 0;
	}
	free(pk);
	while (s->q.n > 0)
		frame_unref(outq_shift(&s->q));
	*out = buf;
	return (size_t)r;
}

/*
 * The answer for a waiting poll, if it has one: a noop after an upgrade
 * or a client's close, every queued packet, and a close packet for a
 * closed session (after what was queued: a drain may close a session
 * whose CONNECT answer still waits).  The result is malloc'd; NULL means
 * keep waiting.
 */
uint8_t *
polling_take(struct session *s, size_t *len)
{
	uint8_t	*body = NULL, *nb;
	char	 one;

	if (s->state == SESSION_CLOSED && !s->poll_noop &&
	    s->kind != SESSION_WEBSOCKET && s->q.n > 0 &&
	    (*len = payload(s, &body)) > 0) {
		if ((nb = realloc(body, *len + 2)) == NULL) {
			free(body);
			return NULL;
		}
		nb[(*len)++] = 0x1e;	/* the payload separator */
		nb[(*len)++] = '1';
		return nb;
	}
	if (s->poll_noop || s->kind == SESSION_WEBSOCKET ||
	    s->state == SESSION_CLOSED) {
		one = s->poll_noop || s->kind == SESSION_WEBSOCKET ? '6' : '1';
		s->poll_noop = 0;
		if ((body = malloc(1)) != NULL) {
			body[0] = (uint8_t)one;
			*len = 1;
		}
		return body;
	}
	if (s->q.n > 0 && (*len = payload(s, &body)) > 0)
		return body;
	return NULL;
}

/* The waiting GET can be answered, or a plain reply is ready. */
int
polling_writeable(struct transport *t, struct lws *wsi, struct conn *c)
{
	struct session	*s = c->s;
	uint8_t		*body;
	size_t		 n;
	int		 rc;

	if (!c->is_poll || s == NULL || c->status != 0)
		return http_writeable(t, wsi, c);
	if ((body = polling_take(s, &n)) == NULL)
		return 0;		/* woken with nothing: keep waiting */
	c->is_poll = 0;
	c->s = NULL;
	s->poll = NULL;
	rc = http_reply(wsi, c, 200, TEXT, body, n);
	free(body);
	session_detach_poll(s);
	if (rc != 0)
		return -1;
	return http_writeable(t, wsi, c);
}

/*
 * The connection of the session's waiting GET closed before the GET was
 * answered (the caller has let go of the poll and pinned s): the client's
 * transport failed, so the session closes now, as the reference server's
 * does ("poll connection closed prematurely", a transport error, which
 * recovery takes for recoverable), rather than at the heartbeat 45 s on:
 * until then the client's reconnect would find it live.  Not a poll to be
 * answered with a noop (an upgrade under way or done: the session lives on
 * its WebSocket), nor a session closed already.
 */
void
polling_dropped(struct session *s)
{
	if (s->kind != SESSION_POLLING || s->state != SESSION_OPEN ||
	    s->poll_noop)
		return;
	s->t->stats.polls_dropped++;
	log_debug("session %s: its waiting poll's connection closed", s->sid);
	session_close(s, "transport error");
}

/*
 * The connection of a waiting GET, local or relayed, went away (dropped),
 * or carries a next request (lws 4.1.6 holds one until the GET is
 * answered, so none is seen while a GET waits).  A relayed GET's owner
 * hears it as a cancel and closes the session too (relay.c).
 */
void
polling_closed(struct transport *t, struct conn *c, int dropped)
{
	struct session	*s = c->s;

	t->up->relay_cancel(t->relay, c);
	c->s = NULL;
	if (s != NULL && c->is_poll && s->poll != NULL) {
		c->is_poll = 0;
		session_pin(s);
		s->poll = NULL;
		if (dropped)
			polling_dropped(s);
		session_unpin(s);
	}
}
