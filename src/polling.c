/*
 * HTTP long-polling (Engine.IO v4).  A GET without a sid opens a session
 * and answers the OPEN packet; a GET with one waits until there is
 * something to send (lws would kill it after 5 s without the timeout set
 * below); a POST carries packets from the client and is answered "ok".
 * Errors follow the reference server: an unknown sid is 400 code 1, a
 * second GET while one waits closes the session, a malformed body closes
 * it too.
 */
#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "eio.h"
#include "log.h"
#include "session.h"
#include "transport.h"

#define QUERY_MAX	1024
#define POLL_HOLD	3600	/* seconds; the heartbeat ends it sooner */

static const char	TEXT[] = "text/plain; charset=UTF-8";

static int	open_session(struct transport *, struct lws *, struct conn *);
static int	poll_get(struct transport *, struct lws *, struct conn *,
		    struct session *);
static size_t	payload(struct session *, uint8_t **);

static int
open_session(struct transport *t, struct lws *wsi, struct conn *c)
{
	struct session	*s;
	uint8_t		 open[256];
	size_t		 n;

	if (t->draining)
		return http_reply(wsi, c, 503, "application/json",
		    "{\"code\":4,\"message\":\"Forbidden\"}", 32);
	if ((s = session_new(t, SESSION_POLLING)) == NULL)
		return http_reply(wsi, c, 500, "application/json",
		    "{\"code\":3,\"message\":\"Bad request\"}", 34);
	n = session_open_packet(s, open, sizeof(open));
	session_start_heartbeat(s);
	return http_reply(wsi, c, 200, TEXT, open, n);
}

/* A GET on a session: answer now if something waits, else hold it. */
static int
poll_get(struct transport *t, struct lws *wsi, struct conn *c,
    struct session *s)
{
	if (s->poll != NULL) {
		/* Overlapping polls: the reference closes the session. */
		session_close(s, "overlapping poll");
		return http_error(wsi, c, EIO_ERR_BAD_REQUEST);
	}
	s->poll = wsi;
	c->s = s;
	c->is_poll = 1;
	lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, POLL_HOLD);
	if (s->state == SESSION_UPGRADING)
		s->poll_noop = 1;	/* the upgrade is under way: noop */
	if (s->q.n > 0 || s->poll_noop)
		lws_callback_on_writable(wsi);
	(void)t;
	return 0;
}

/* LWS_CALLBACK_HTTP on the Engine.IO path. */
int
polling_request(struct transport *t, struct lws *wsi, struct conn *c,
    const char *path)
{
	struct eio_query	 q;
	struct session		*s;
	char			 args[QUERY_MAX];
	int			 rc;

	(void)path;
	eio_handshake_query(&q, args, http_query(wsi, args, sizeof(args)));
	rc = eio_handshake_verify(&q, c->method == CONN_GET, false);
	if (rc != EIO_OK)
		return http_error(wsi, c, rc);
	if (!q.has_sid)
		return open_session(t, wsi, c);
	s = session_find(t, q.sid, q.sidlen);
	if (s == NULL || s->state == SESSION_CLOSED)
		return http_error(wsi, c, EIO_ERR_SID);
	if (s->kind != SESSION_POLLING)
		return http_error(wsi, c, EIO_ERR_BAD_REQUEST);
	if (c->method == CONN_GET)
		return poll_get(t, wsi, c, s);
	if (c->method != CONN_POST)
		return http_error(wsi, c, EIO_ERR_BAD_REQUEST);
	c->s = s;	/* the body follows */
	return 0;
}

/* LWS_CALLBACK_HTTP_BODY: collect at most max_payload bytes. */
int
polling_body(struct transport *t, struct lws *wsi, struct conn *c,
    const void *in, size_t len)
{
	size_t	 max = (size_t)t->conf->max_payload;
	uint8_t	*nb;

	(void)wsi;
	if (c->s == NULL || c->status != 0)
		return 0;
	if (c->len + len > max) {
		c->len = 0;
		c->status = -1;		/* too big: answered at completion */
		return 0;
	}
	if (c->len + len > c->cap) {
		size_t ncap = c->cap == 0 ? 512 : c->cap;

		while (ncap < c->len + len)
			ncap *= 2;
		if ((nb = realloc(c->buf, ncap)) == NULL)
			return -1;
		c->buf = nb;
		c->cap = ncap;
	}
	memcpy(c->buf + c->len, in, len);
	c->len += len;
	return 0;
}

/* LWS_CALLBACK_HTTP_BODY_COMPLETION: the packets, then "ok". */
int
polling_body_done(struct transport *t, struct lws *wsi, struct conn *c)
{
	struct session		*s = c->s;
	struct eio_payload	 it;
	struct eio_packet	 pkt;
	uint8_t			*scratch;
	int			 rc;

	c->s = NULL;
	if (s == NULL)
		return 0;
	if (c->status == -1 || s->state == SESSION_CLOSED) {
		c->status = 0;
		if (s->state != SESSION_CLOSED) {
			t->stats.parse_errors++;
			session_close(s, "payload too large");
		}
		return http_reply(wsi, c, 413, "application/json",
		    "{\"code\":3,\"message\":\"Bad request\"}", 34);
	}
	if ((scratch = malloc(eio_payload_scratch_len(c->len) + 1)) == NULL)
		return -1;
	rc = eio_payload_begin(&it, c->buf, c->len,
	    (size_t)t->conf->max_payload, scratch,
	    eio_payload_scratch_len(c->len) + 1);
	session_pin(s);
	while (rc == EIO_OK && s->state != SESSION_CLOSED &&
	    (rc = eio_payload_next(&it, &pkt)) == EIO_OK)
		session_receive(s, &pkt);
	free(scratch);
	if (rc != EIO_DONE && rc != EIO_OK) {
		t->stats.parse_errors++;
		session_close(s, "parse error");
		session_unpin(s);
		return http_error(wsi, c, EIO_ERR_BAD_REQUEST);
	}
	session_unpin(s);
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

/* The waiting GET can be answered: with the queue, "6" or "1". */
int
polling_writeable(struct transport *t, struct lws *wsi, struct conn *c)
{
	struct session	*s = c->s;
	uint8_t		*body;
	size_t		 n;
	int		 rc;

	if (!c->is_poll || s == NULL)
		return http_writeable(t, wsi, c);
	if (c->status != 0)
		return http_writeable(t, wsi, c);
	c->is_poll = 0;
	c->s = NULL;
	s->poll = NULL;
	if (s->poll_noop || s->kind == SESSION_WEBSOCKET) {
		s->poll_noop = 0;
		rc = http_reply(wsi, c, 200, TEXT, "6", 1);
	} else if (s->state == SESSION_CLOSED)
		rc = http_reply(wsi, c, 200, TEXT, "1", 1);
	else if ((n = payload(s, &body)) > 0) {
		rc = http_reply(wsi, c, 200, TEXT, body, n);
		free(body);
	} else {
		/* Woken with nothing to say: keep waiting. */
		s->poll = wsi;
		c->s = s;
		c->is_poll = 1;
		return 0;
	}
	session_detach_poll(s);
	if (rc != 0)
		return -1;
	return http_writeable(t, wsi, c);
}

/* The connection of a waiting GET went away. */
void
polling_closed(struct conn *c)
{
	struct session	*s = c->s;

	c->s = NULL;
	if (s != NULL && c->is_poll && s->poll != NULL) {
		c->is_poll = 0;
		session_detach_poll(s);
	}
}
