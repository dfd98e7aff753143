/*
 * Plain HTTP on the client port: routing, replies, CORS, and the health
 * endpoint.  A reply is queued in the connection and written from the
 * WRITEABLE callback, headers and body together.
 */
#include <sys/socket.h>

#include <ev.h>
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eio.h"
#include "log.h"
#include "origin.h"
#include "transport.h"

#define HDR_ROOM	1024

static int	origin_allowed(const struct transport_conf *, const char *);
/* The body of the reference server's 400, and of our other refusals. */
const char	http_bad_request[] = "{\"code\":3,\"message\":\"Bad request\"}";
_Static_assert(sizeof(http_bad_request) - 1 == HTTP_BAD_REQUEST_LEN,
    "HTTP_BAD_REQUEST_LEN");

/* A POST body's deadline (body_timeout), only while the body comes. */
struct body_wait {
	ev_timer		 w;		/* first: the callback's cast */
	struct transport	*t;
	struct lws		*wsi;
	struct conn		*c;
};

static int	add_cors(struct transport *, struct lws *, unsigned char **,
		    unsigned char *);
static void	body_late(struct ev_loop *, ev_timer *, int);

static int
origin_allowed(const struct transport_conf *c, const char *origin)
{
	size_t	i;

	for (i = 0; i < c->ncors_origin; i++)
		if (strcmp(c->cors_origin[i], "*") == 0 ||
		    strcmp(c->cors_origin[i], origin) == 0)
			return 1;
	return 0;
}

/*
 * CORS as the socket.io server's cors option does it: an allowed Origin is
 * echoed (or * when any origin is allowed without credentials).
 */
static int
add_cors(struct transport *t, struct lws *wsi, unsigned char **p,
    unsigned char *end)
{
	const struct transport_conf *c = t->conf;
	char			 origin[256];
	const char		*allow;
	bool			 admin;

	/*
	 * The answer depends on the Origin (which is echoed, or not): a
	 * cache between us and browsers must keep one per Origin.
	 */
	if (lws_add_http_header_by_name(wsi, (const unsigned char *)"vary:",
	    (const unsigned char *)"Origin", 6, p, end) != 0)
		return -1;
	if (lws_hdr_copy(wsi, origin, sizeof(origin), WSI_TOKEN_ORIGIN) <= 0)
		return 0;
	/* The Admin UI's origins (issue 18): its client sends credentials. */
	admin = c->admin && c->admin_origins[0] != '\0' &&
	    origin_listed(c->admin_origins, origin);
	if (!origin_allowed(c, origin) && !admin)
		return 0;
	allow = c->ncors_origin == 1 && strcmp(c->cors_origin[0], "*") == 0 &&
	    !c->cors_credentials && !admin ? "*" : origin;
	if (lws_add_http_header_by_name(wsi, (const unsigned char *)
	    "access-control-allow-origin:", (const unsigned char *)allow,
	    (int)strlen(allow), p, end) != 0)
		return -1;
	if ((c->cors_credentials || admin) && lws_add_http_header_by_name(wsi,
	    (const unsigned char *)"access-control-allow-credentials:",
	    (const unsigned char *)"true", 4, p, end) != 0)
		return -1;
	return 0;
}

/*
 * The query string, its fragments joined by '&' again (lws stores each
 * name=value apart).  Returns its length.
 */
size_t
http_query(struct lws *wsi, char *buf, size_t len)
{
	size_t	off = 0;
	int	n, i;

	buf[0] = '\0';
	for (i = 0; off + 1 < len; i++) {
		n = lws_hdr_copy_fragment(wsi, buf + off, (int)(len - off),
		    WSI_TOKEN_HTTP_URI_ARGS, i);
		if (n < 0)
			break;
		off += (size_t)n;
		if (off + 1 < len)
			buf[off++] = '&';
	}
	if (off > 0 && buf[off - 1] == '&')
		off--;
	buf[off] = '\0';
	return off;
}

/* Queue a reply (copied) for the WRITEABLE callback. */
int
http_reply(struct lws *wsi, struct conn *c, int status, const char *ctype,
    const void *body, size_t len)
{
	hup_stop(c);		/* answered: the client may close now */
	buf_free(&c->buf);
	if (buf_append(&c->buf, body, len) != 0)
		return -1;
	c->status = status;
	c->ctype = ctype;
	lws_callback_on_writable(wsi);
	return 0;
}

/* The reference server's JSON error for an Engine.IO request. */
int
http_error(struct lws *wsi, struct conn *c, int err)
{
	uint8_t		body[128];
	ptrdiff_t	n;
	int		code;

	if ((code = eio_handshake_code(err)) < 0)
		code = EIO_CODE_BAD_REQUEST;
	n = eio_handshake_error(code, body, sizeof(body));
	if (n < 0)
		n = 0;
	return http_reply(wsi, c, eio_handshake_status(code),
	    "application/json", body, (size_t)n);
}

/* Headers and body in one go, then keep-alive or close. */
int
http_writeable(struct transport *t, struct lws *wsi, struct conn *c)
{
	unsigned char	 hdr[LWS_PRE + HDR_ROOM], *start = hdr + LWS_PRE;
	unsigned char	*p = start, *end = hdr + sizeof(hdr) - 1;
	int		 status = c->status, close_after, closing = c->closing;
	char		 conn[64];

	if (status == 0)
		return 0;
	c->status = 0;
	if (lws_add_http_common_headers(wsi, (unsigned)status, c->ctype,
	    c->buf.len, &p, end) != 0 || add_cors(t, wsi, &p, end) != 0)
		return -1;
	if (c->method == CONN_OPTIONS && (lws_add_http_header_by_name(wsi,
	    (const unsigned char *)"access-control-allow-methods:",
	    (const unsigned char *)"GET,POST,OPTIONS", 16, &p, end) != 0 ||
	    lws_add_http_header_by_name(wsi, (const unsigned char *)
	    "access-control-allow-headers:", (const unsigned char *)
	    "content-type,authorization", 26, &p, end) != 0))
		return -1;
	/*
	 * lws closes after a request that said "Connection: close" but does
	 * not say so; Node's keep-alive agent then reuses the closed socket.
	 * A draining worker closes after every answer, and says so, so that
	 * the client's next request goes to a worker that stays.  A reply
	 * sent before its request's body was read (c->closing) closes too:
	 * the rest of the body must not be read as the next request.
	 */
	close_after = t->draining || closing || (lws_hdr_copy(wsi, conn,
	    sizeof(conn), WSI_TOKEN_CONNECTION) > 0 &&
	    strcasestr(conn, "close") != NULL);
	if (close_after && lws_add_http_header_by_token(wsi,
	    WSI_TOKEN_CONNECTION, (const unsigned char *)"close", 5, &p,
	    end) != 0)
		return -1;
	if (lws_finalize_write_http_header(wsi, start, &p, end) != 0)
		return -1;
	if (c->buf.len > 0 && c->method != CONN_HEAD) {
		uint8_t *b = malloc(LWS_PRE + c->buf.len);

		if (b == NULL)
			return -1;
		memcpy(b + LWS_PRE, c->buf.p, c->buf.len);
		if (lws_write(wsi, b + LWS_PRE, c->buf.len,
		    LWS_WRITE_HTTP_FINAL) != (int)c->buf.len) {
			free(b);
			return -1;
		}
		free(b);
	}
	http_conn_free(c);
	if (t->draining || closing)
		return -1;
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

void
http_conn_free(struct conn *c)
{
	http_body_stop(c);
	hup_stop(c);
	buf_free(&c->buf);
}

/*
 * Give a request's body body_timeout to arrive whole, however it
 * trickles; 0, or -1 without memory.
 */
int
http_body_wait(struct transport *t, struct lws *wsi, struct conn *c)
{
	struct body_wait	*bw;

	if ((bw = calloc(1, sizeof(*bw))) == NULL)
		return -1;
	bw->t = t;
	bw->wsi = wsi;
	bw->c = c;
	ev_timer_init(&bw->w, body_late,
	    (double)t->conf->body_timeout / 1000.0, 0);
	ev_timer_start(t->loop, &bw->w);
	c->bw = bw;
	return 0;
}

/* body_timeout passed before the body was whole: 408, then close. */
static void
body_late(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct body_wait	*bw = (struct body_wait *)w;
	struct lws		*wsi = bw->wsi;
	struct conn		*c = bw->c;

	(void)loop;
	(void)revents;
	bw->t->stats.body_timeouts++;
	log_debug("polling: a request body took longer than body_timeout");
	http_body_stop(c);
	c->post = 0;
	c->closing = 1;
	if (http_reply(wsi, c, 408, "application/json", http_bad_request,
	    HTTP_BAD_REQUEST_LEN) != 0)
		lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT,
		    LWS_TO_KILL_ASYNC);
}

/* The body is whole, or its connection is gone: no deadline any more. */
void
http_body_stop(struct conn *c)
{
	struct body_wait	*bw = c->bw;

	if (bw == NULL)
		return;
	ev_timer_stop(bw->t->loop, &bw->w);
	free(bw);
	c->bw = NULL;
}
