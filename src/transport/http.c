/*
 * Plain HTTP on the client port: routing, replies, CORS, and the health
 * endpoint.  A reply is queued in the connection and written from the
 * WRITEABLE callback, headers and body together.
 */
#include <sys/socket.h>

#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allow.h"
#include "eio.h"
#include "log.h"
#include "metrics.h"
#include "transport.h"

#define HDR_ROOM	1024

static int	origin_allowed(const struct transport_conf *, const char *);
static int	add_cors(struct transport *, struct lws *, unsigned char **,
		    unsigned char *);
static int	preflight(struct transport *, struct lws *, struct conn *);
static int	status_allowed(struct transport *, struct lws *);

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

	/*
	 * The answer depends on the Origin (which is echoed, or not): a
	 * cache between us and browsers must keep one per Origin.
	 */
	if (lws_add_http_header_by_name(wsi, (const unsigned char *)"vary:",
	    (const unsigned char *)"Origin", 6, p, end) != 0)
		return -1;
	if (lws_hdr_copy(wsi, origin, sizeof(origin), WSI_TOKEN_ORIGIN) <= 0)
		return 0;
	if (!origin_allowed(c, origin))
		return 0;
	allow = c->ncors_origin == 1 && strcmp(c->cors_origin[0], "*") == 0 &&
	    !c->cors_credentials ? "*" : origin;
	if (lws_add_http_header_by_name(wsi, (const unsigned char *)
	    "access-control-allow-origin:", (const unsigned char *)allow,
	    (int)strlen(allow), p, end) != 0)
		return -1;
	if (c->cors_credentials && lws_add_http_header_by_name(wsi,
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
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = 0;
	if (len > 0) {
		if ((c->buf = malloc(len)) == NULL)
			return -1;
		memcpy(c->buf, body, len);
	}
	c->len = len;
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
	    c->len, &p, end) != 0 || add_cors(t, wsi, &p, end) != 0)
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
	if (c->len > 0) {
		uint8_t *b = malloc(LWS_PRE + c->len);

		if (b == NULL)
			return -1;
		memcpy(b + LWS_PRE, c->buf, c->len);
		if (lws_write(wsi, b + LWS_PRE, c->len,
		    LWS_WRITE_HTTP_FINAL) != (int)c->len) {
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

/*
 * A request line or header that lws cut at its token limit (transport.c
 * sets HDR_TOKEN_LIMIT for each): 414 for the URI, 431 for a header, else
 * 0.  lws truncates such a token and reads on, where running out of the
 * whole buffer would close the connection without a word.
 */
static int
too_long(const struct transport *t, struct lws *wsi)
{
	int	limit = HDR_TOKEN_LIMIT(t->conf->max_header_size), tok, i, n;

	for (tok = 0; tok < WSI_TOKEN_COUNT; tok++)
		for (i = 0; i < 64 && (n = lws_hdr_fragment_length(wsi,
		    (enum lws_token_indexes)tok, i)) > 0; i++)
			if (n >= limit)
				return tok == WSI_TOKEN_GET_URI ||
				    tok == WSI_TOKEN_POST_URI ||
				    tok == WSI_TOKEN_OPTIONS_URI ||
				    tok == WSI_TOKEN_HTTP_URI_ARGS ? 414 : 431;
	return 0;
}

/* Append to the connection's buffer (a POST body, a fragmented message). */
int
conn_append(struct conn *c, const void *in, size_t len)
{
	size_t	 ncap;
	uint8_t	*nb;

	if (len == 0)
		return 0;	/* an empty body: c->buf may be NULL */
	if (c->len + len > c->cap) {
		for (ncap = c->cap == 0 ? 512 : c->cap; ncap < c->len + len;)
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

void
http_conn_free(struct conn *c)
{
	polling_body_stop(c);
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = 0;
}

static int
preflight(struct transport *t, struct lws *wsi, struct conn *c)
{
	(void)t;
	return http_reply(wsi, c, 204, "text/plain", NULL, 0);
}

/*
 * status_allow: may this client see /health and /metrics?  The list is
 * parsed once per configuration (conf_check() has refused a bad one).  A
 * connection that came through the TLS front arrives over a unix socket
 * and has no client address here: refused when there is a list.
 */
static int
status_allowed(struct transport *t, struct lws *wsi)
{
	static const char		*parsed;
	static struct allow		 list;
	struct sockaddr_storage		 ss;
	socklen_t			 len = sizeof(ss);
	char				 err[160];
	int				 fd;

	if (t->conf->status_allow[0] == '\0')
		return 1;
	if (parsed != t->conf->status_allow) {
		if (allow_parse(t->conf->status_allow, &list, err,
		    sizeof(err)) != 0)
			return 0;
		parsed = t->conf->status_allow;
	}
	if ((fd = lws_get_socket_fd(wsi)) < 0 ||
	    getpeername(fd, (struct sockaddr *)&ss, &len) != 0)
		return 0;
	return allow_match(&list, (struct sockaddr *)&ss);
}

/* LWS_CALLBACK_HTTP: route one request by path and method. */
int
http_request(struct transport *t, struct lws *wsi, struct conn *c,
    const char *path)
{
	char	*uri;
	int	 ulen, m;
	size_t	 plen = strlen(t->path);

	m = lws_http_get_uri_and_method(wsi, &uri, &ulen);
	c->method = m == LWSHUMETH_GET ? CONN_GET : m == LWSHUMETH_POST ?
	    CONN_POST : m == LWSHUMETH_OPTIONS ? CONN_OPTIONS : CONN_OTHER;
	if ((m = too_long(t, wsi)) != 0) {
		t->stats.header_overflows++;
		c->closing = 1;		/* and any body unread */
		return http_reply(wsi, c, m, "application/json",
		    "{\"code\":3,\"message\":\"Bad request\"}", 34);
	}
	if (c->method == CONN_OPTIONS)
		return preflight(t, wsi, c);
	if (strncmp(path, t->path, plen) == 0 ||
	    (strncmp(path, t->path, plen - 1) == 0 && path[plen - 1] == '\0'))
		return polling_request(t, wsi, c, path);
	if ((strcmp(path, "/health") == 0 || strcmp(path, "/metrics") == 0) &&
	    !status_allowed(t, wsi)) {
		t->stats.status_refused++;
		return http_reply(wsi, c, 403, "application/json",
		    "{\"error\":\"forbidden\"}", 21);
	}
	if (strcmp(path, "/health") == 0)
		return metrics_health(t, wsi, c);
	if (strcmp(path, "/metrics") == 0)
		return metrics_reply(t, wsi, c);
	return http_reply(wsi, c, 404, "application/json",
	    "{\"error\":\"not found\"}", 21);
}
