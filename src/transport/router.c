/*
 * The HTTP router: one request, by path and method, to Engine.IO
 * long-polling (polling.c), /health and /metrics (metrics.c), the Admin
 * UI's files (uifiles.c, issue 18), a CORS preflight or a 404.  Above the files it routes to, which never call it.
 */
#include <sys/socket.h>

#include <libwebsockets.h>
#include <string.h>

#include "allow.h"
#include "metrics.h"
#include "transport.h"

static int	preflight(struct transport *, struct lws *, struct conn *);
static int	status_allowed(struct transport *, struct lws *);
static int	too_long(const struct transport *, struct lws *);

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
router_request(struct transport *t, struct lws *wsi, struct conn *c,
    const char *path)
{
	char	*uri;
	int	 ulen, m;
	size_t	 plen = strlen(t->path);

	m = lws_http_get_uri_and_method(wsi, &uri, &ulen);
	c->method = m == LWSHUMETH_GET ? CONN_GET : m == LWSHUMETH_POST ?
	    CONN_POST : m == LWSHUMETH_OPTIONS ? CONN_OPTIONS :
	    m == LWSHUMETH_HEAD ? CONN_HEAD : CONN_OTHER;
	if ((m = too_long(t, wsi)) != 0) {
		t->stats.header_overflows++;
		c->closing = 1;		/* and any body unread */
		return http_reply(wsi, c, m, "application/json",
		    http_bad_request, HTTP_BAD_REQUEST_LEN);
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
	if (uifiles_match(t, path))
		return uifiles_request(t, wsi, c, path);
	return http_reply(wsi, c, 404, "application/json",
	    "{\"error\":\"not found\"}", 21);
}
