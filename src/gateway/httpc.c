/*
 * httpc: libcurl's multi-socket API on a worker's libev loop (httpc.h).
 *
 * libcurl says which sockets to watch (on_socket: one ev_io per socket,
 * found again through curl_multi_assign) and when to wake it (on_timer:
 * one ev_timer per client).  Each watcher calls curl_multi_socket_action,
 * then finished() drains curl_multi_info_read and calls back.  NOTES.md:
 * curl_multi_socket_action may not be called from inside the timer
 * function (CURLM_RECURSIVE_API_CALL), so a 0 ms timeout arms a 0 s
 * ev_timer; an active ev_io is stopped before its events change.
 *
 * Callbacks run only from finished(), never from inside a libcurl
 * callback nor from httpc_request(), and the request is taken apart
 * (its easy handle removed and cleaned up, unlinked, freed) before its
 * callback runs: a callback may then cancel any other request or free
 * the client, and nothing freed is touched after it returns.
 */
#include <sys/queue.h>

#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "httpc.h"

struct sock {
	ev_io			 io;
	struct httpc		*c;
	curl_socket_t		 fd;
	LIST_ENTRY(sock)	 entry;
};

struct httpc_req {
	struct httpc		*c;
	CURL			*easy;
	struct curl_slist	*hdrs;
	char			*body;		/* the response so far */
	size_t			 len;
	size_t			 size;		/* allocated */
	size_t			 max;
	int			 toobig;	/* on_data cut the body */
	int			 nomem;
	double			 start;		/* monotonic s */
	httpc_cb		 cb;
	void			*arg;
	char			 err[CURL_ERROR_SIZE];
	TAILQ_ENTRY(httpc_req)	 entry;
};

struct httpc {
	struct ev_loop		*loop;
	CURLM			*multi;
	ev_timer		 timer;
	char			*base;		/* without a trailing '/' */
	int			 tls;		/* base is https: */
	char			*headers[HTTPC_HEADERS_MAX];
	unsigned int		 nheaders;
	unsigned int		 max_inflight;
	unsigned int		 inflight;
	int			 depth;		/* finished() on the stack */
	int			 dying;		/* httpc_free() inside it */
	TAILQ_HEAD(, httpc_req)	 reqs;
	LIST_HEAD(, sock)	 socks;
};

static const char *const methods[] = {
	"GET", "POST", "PUT", "PATCH", "DELETE"
};

static int	on_socket(CURL *, curl_socket_t, int, void *, void *);
static int	on_timer(CURLM *, long, void *);
static void	on_io(struct ev_loop *, ev_io *, int);
static void	on_wake(struct ev_loop *, ev_timer *, int);
static size_t	on_data(char *, size_t, size_t, void *);
static void	finished(struct httpc *);
static void	destroy(struct httpc *);
static void	req_free(struct httpc_req *);

/* Seconds on the monotonic clock, for elapsed times. */
static double
mono(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * A header line is "Name: value" with a non-empty name and no CR or LF
 * anywhere: a value from outside must not add headers of its own.
 */
static int
header_valid(const char *h)
{
	const char	*colon;

	if (h == NULL || (colon = strchr(h, ':')) == NULL || colon == h)
		return 0;
	return strpbrk(h, "\r\n") == NULL;
}

/*
 * A client for the service at base, on loop, with at most max_inflight
 * requests at a time.  libcurl is initialised on the first call in the
 * process (workers are single-threaded).  NULL on a bad argument or
 * without memory.
 */
struct httpc *
httpc_new(struct ev_loop *loop, const char *base, unsigned int max_inflight)
{
	static int	 inited;
	struct httpc	*c;
	size_t		 n;

	if (loop == NULL || base == NULL || max_inflight == 0)
		return NULL;
	if (!inited) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return NULL;
		inited = 1;
	}
	if ((c = calloc(1, sizeof *c)) == NULL)
		return NULL;
	c->loop = loop;
	c->max_inflight = max_inflight;
	TAILQ_INIT(&c->reqs);
	LIST_INIT(&c->socks);
	ev_init(&c->timer, on_wake);
	c->timer.data = c;
	if ((c->base = strdup(base)) == NULL ||
	    (c->multi = curl_multi_init()) == NULL) {
		free(c->base);
		free(c);
		return NULL;
	}
	n = strlen(c->base);
	while (n > 0 && c->base[n - 1] == '/')
		c->base[--n] = '\0';
	c->tls = strncasecmp(c->base, "https:", 6) == 0;
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	/* Keep as many idle connections as there may be requests. */
	curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, (long)max_inflight);
	return c;
}

/* A header sent with every request of c, e.g. "Authorization: Bearer x". */
int
httpc_header(struct httpc *c, const char *line)
{
	if (!header_valid(line) || c->nheaders == HTTPC_HEADERS_MAX)
		return HTTPC_ERR_INVALID;
	if ((c->headers[c->nheaders] = strdup(line)) == NULL)
		return HTTPC_ERR_NOMEM;
	c->nheaders++;
	return HTTPC_OK;
}

/*
 * Free c and every pending request; no callback runs.  Called from a
 * callback, the requests go at once and the rest when finished() returns.
 */
void
httpc_free(struct httpc *c)
{
	struct httpc_req	*r;

	if (c == NULL)
		return;
	while ((r = TAILQ_FIRST(&c->reqs)) != NULL)
		httpc_cancel(r);
	if (c->depth > 0) {
		c->dying = 1;
		return;
	}
	destroy(c);
}

/* The end of a client, outside finished(). */
static void
destroy(struct httpc *c)
{
	struct sock	*s;
	unsigned int	 i;

	/* Closing the cached connections may call on_socket: let it. */
	curl_multi_cleanup(c->multi);
	while ((s = LIST_FIRST(&c->socks)) != NULL) {
		ev_io_stop(c->loop, &s->io);
		LIST_REMOVE(s, entry);
		free(s);
	}
	ev_timer_stop(c->loop, &c->timer);
	for (i = 0; i < c->nheaders; i++)
		free(c->headers[i]);
	free(c->base);
	free(c);
}

/* The request's headers: the client's, the call's, then ours. */
static struct curl_slist *
headers_build(struct httpc *c, const struct httpc_call *call)
{
	struct curl_slist	*l = NULL, *n;
	const char *const	*h;
	const char		*add[4];
	unsigned int		 i, na = 0;
	int			 ctype = 0;

	for (i = 0; i < c->nheaders; i++) {
		if ((n = curl_slist_append(l, c->headers[i])) == NULL)
			goto fail;
		l = n;
	}
	for (h = call->headers; h != NULL && *h != NULL; h++) {
		if (strncasecmp(*h, "Content-Type:", 13) == 0)
			ctype = 1;
		if ((n = curl_slist_append(l, *h)) == NULL)
			goto fail;
		l = n;
	}
	if (call->body != NULL && !ctype)
		add[na++] = "Content-Type: application/json";
	add[na++] = "Accept: application/json";
	add[na++] = "Expect:";		/* no 100-continue round trip */
	for (i = 0; i < na; i++) {
		if ((n = curl_slist_append(l, add[i])) == NULL)
			goto fail;
		l = n;
	}
	return l;
fail:
	curl_slist_free_all(l);
	return NULL;
}

/* Check a call before anything is allocated for it. */
static int
call_check(const struct httpc_call *call)
{
	const char *const	*h;
	unsigned int		 n = 0;

	if (call == NULL || call->path == NULL || call->cb == NULL ||
	    (unsigned int)call->method > HTTPC_DELETE ||
	    (call->method == HTTPC_GET && call->body != NULL) ||
	    call->timeout < 0 || call->timeout > 86400)
		return HTTPC_ERR_INVALID;
	for (h = call->headers; h != NULL && *h != NULL; h++) {
		if (!header_valid(*h) || ++n > HTTPC_HEADERS_MAX)
			return HTTPC_ERR_INVALID;
	}
	return HTTPC_OK;
}

/* The easy handle's options for one call. */
static int
req_setup(struct httpc_req *r, const struct httpc_call *call)
{
	struct httpc	*c = r->c;
	CURL		*e = r->easy;
	char		*url;
	size_t		 n;
	double		 timeout;
	long		 ms;
	int		 bad = 0;

	n = strlen(c->base) + strlen(call->path) + 2;
	if ((url = malloc(n)) == NULL)
		return HTTPC_ERR_NOMEM;
	snprintf(url, n, "%s%s%s", c->base,
	    call->path[0] == '/' || call->path[0] == '\0' ? "" : "/",
	    call->path);
	bad |= curl_easy_setopt(e, CURLOPT_URL, url) != CURLE_OK;
	free(url);			/* libcurl copied it */

	timeout = call->timeout > 0 ? call->timeout : HTTPC_TIMEOUT_DEFAULT;
	ms = (long)(timeout * 1000);
	if (ms < 1)
		ms = 1;
#if LIBCURL_VERSION_NUM >= 0x075500
	bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") !=
	    CURLE_OK;
#else
	bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS,
	    (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS)) != CURLE_OK;
#endif
	bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, ms) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_PRIVATE, r) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->err) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, r) != CURLE_OK;
	/* A Content-Length past the bound fails before the body comes. */
	bad |= curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)r->max) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->hdrs) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_USERAGENT, "socket-gateway") !=
	    CURLE_OK;
	/* Over TLS, wait to learn whether the connection multiplexes (h2). */
	if (c->tls)
		bad |= curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L) != CURLE_OK;

	if (call->method == HTTPC_GET)
		bad |= curl_easy_setopt(e, CURLOPT_HTTPGET, 1L) != CURLE_OK;
	else if (call->method == HTTPC_POST)
		bad |= curl_easy_setopt(e, CURLOPT_POST, 1L) != CURLE_OK;
	else
		bad |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST,
		    methods[call->method]) != CURLE_OK;
	if (call->body != NULL || call->method == HTTPC_POST) {
		/* The size first: COPYPOSTFIELDS then copies that many. */
		bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)(call->body != NULL ? call->len : 0)) !=
		    CURLE_OK;
		bad |= curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS,
		    call->body != NULL ? call->body : "") != CURLE_OK;
	}
	return bad ? HTTPC_ERR_INVALID : HTTPC_OK;
}

/*
 * Start a call.  HTTPC_OK and, if reqp is not NULL, the handle to cancel
 * it with; or an error at once, and the callback never runs:
 * HTTPC_ERR_BUSY when max_inflight requests are in flight.
 */
int
httpc_request(struct httpc *c, const struct httpc_call *call,
    struct httpc_req **reqp)
{
	struct httpc_req	*r;
	int			 rc;

	if (reqp != NULL)
		*reqp = NULL;
	if (c->dying || (rc = call_check(call)) != HTTPC_OK)
		return HTTPC_ERR_INVALID;
	if (c->inflight >= c->max_inflight)
		return HTTPC_ERR_BUSY;
	if ((r = calloc(1, sizeof *r)) == NULL)
		return HTTPC_ERR_NOMEM;
	r->c = c;
	r->max = call->max_body > 0 ? call->max_body : HTTPC_BODY_MAX_DEFAULT;
	r->cb = call->cb;
	r->arg = call->arg;
	r->start = mono();
	if ((r->easy = curl_easy_init()) == NULL ||
	    (r->hdrs = headers_build(c, call)) == NULL) {
		rc = HTTPC_ERR_NOMEM;
		goto fail;
	}
	if ((rc = req_setup(r, call)) != HTTPC_OK)
		goto fail;
	if (curl_multi_add_handle(c->multi, r->easy) != CURLM_OK) {
		rc = HTTPC_ERR_NOMEM;
		goto fail;
	}
	TAILQ_INSERT_TAIL(&c->reqs, r, entry);
	c->inflight++;
	if (reqp != NULL)
		*reqp = r;
	return HTTPC_OK;
fail:
	if (r->easy != NULL)
		curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->hdrs);
	free(r);
	return rc;
}

/* Take a request out of libcurl and of its client, and free it. */
static void
req_free(struct httpc_req *r)
{
	struct httpc	*c = r->c;

	/* May call on_socket and on_timer, never a user callback. */
	curl_multi_remove_handle(c->multi, r->easy);
	curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->hdrs);
	TAILQ_REMOVE(&c->reqs, r, entry);
	c->inflight--;
	free(r->body);
	free(r);
}

/*
 * Cancel a pending request: it is freed and its callback never runs.  Not
 * for a request whose callback has started (it is gone already).
 */
void
httpc_cancel(struct httpc_req *r)
{
	if (r != NULL)
		req_free(r);
}

/* Requests in flight on c. */
unsigned int
httpc_inflight(const struct httpc *c)
{
	return c->inflight;
}

/* Words for an HTTPC_* code. */
const char *
httpc_strerror(int e)
{
	switch (e) {
	case HTTPC_OK:
		return "ok";
	case HTTPC_ERR_CONNECT:
		return "cannot connect";
	case HTTPC_ERR_TIMEOUT:
		return "timed out";
	case HTTPC_ERR_TOOBIG:
		return "response body too large";
	case HTTPC_ERR_TRANSPORT:
		return "transport error";
	case HTTPC_ERR_BUSY:
		return "too many requests in flight";
	case HTTPC_ERR_INVALID:
		return "invalid request";
	case HTTPC_ERR_NOMEM:
		return "out of memory";
	}
	return "unknown error";
}

/*
 * Response bytes, kept up to the request's bound.  Past it the body is
 * cut there and the transfer fails (a short count is a write error).
 */
static size_t
on_data(char *p, size_t size, size_t nmemb, void *arg)
{
	struct httpc_req	*r = arg;
	size_t			 n = size * nmemb, take, want;
	char			*nb;

	take = n <= r->max - r->len ? n : r->max - r->len;
	if (r->len + take + 1 > r->size) {
		want = r->size < 1024 ? 1024 : r->size * 2;
		if (want < r->len + take + 1)
			want = r->len + take + 1;
		if (want > r->max + 1)
			want = r->max + 1;
		if ((nb = realloc(r->body, want)) == NULL) {
			r->nomem = 1;
			return 0;
		}
		r->body = nb;
		r->size = want;
	}
	memcpy(r->body + r->len, p, take);
	r->len += take;
	r->body[r->len] = '\0';
	if (take < n) {
		r->toobig = 1;
		return take;
	}
	return n;
}

/* libcurl's result as an HTTPC_* code. */
static int
result_code(const struct httpc_req *r, CURLcode code)
{
	if (r->toobig || code == CURLE_FILESIZE_EXCEEDED)
		return HTTPC_ERR_TOOBIG;
	switch (code) {
	case CURLE_OK:
		return HTTPC_OK;
	case CURLE_OPERATION_TIMEDOUT:
		return HTTPC_ERR_TIMEOUT;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return HTTPC_ERR_CONNECT;
	default:
		return HTTPC_ERR_TRANSPORT;
	}
}

/*
 * A finished transfer: everything the callback needs is copied out and
 * the request freed first, then the callback runs, then its body goes.
 */
static void
done(struct httpc_req *r, CURLcode code)
{
	struct httpc_result	 res;
	char			 detail[CURL_ERROR_SIZE];
	char			*body;
	httpc_cb		 cb = r->cb;
	void			*arg = r->arg;
	long			 status = 0;

	memset(&res, 0, sizeof res);
	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	res.status = status;
	res.error = result_code(r, code);
	res.elapsed = mono() - r->start;
	detail[0] = '\0';
	if (r->nomem)
		snprintf(detail, sizeof detail, "out of memory");
	else if (code != CURLE_OK)
		snprintf(detail, sizeof detail, "%s", r->err[0] != '\0' ?
		    r->err : curl_easy_strerror(code));
	res.detail = detail;
	body = r->body;
	res.len = r->len;
	res.body = body != NULL ? body : "";
	r->body = NULL;
	req_free(r);
	cb(&res, arg);
	free(body);
}

/*
 * Every transfer libcurl has finished, one callback each.  A callback may
 * cancel requests (libcurl drops their messages with their handles) or
 * free the client: then the rest of the client goes when the outermost
 * finished() returns, and its caller must not touch c again.
 */
static void
finished(struct httpc *c)
{
	CURLMsg			*m;
	struct httpc_req	*r;
	CURLcode		 code;
	char			*p;
	int			 left;

	c->depth++;
	while (!c->dying &&
	    (m = curl_multi_info_read(c->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		code = m->data.result;
		if (curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE,
		    &p) != CURLE_OK || p == NULL)
			continue;
		r = (struct httpc_req *)(void *)p;
		done(r, code);
	}
	if (--c->depth == 0 && c->dying)
		destroy(c);
}

/*
 * libcurl's socket function: watch fd for what libcurl asks, or stop.
 * Each socket has one ev_io, found again through curl_multi_assign.
 */
static int
on_socket(CURL *e, curl_socket_t fd, int what, void *arg, void *sockp)
{
	struct httpc	*c = arg;
	struct sock	*s = sockp;
	int		 events = 0;

	if (what == CURL_POLL_REMOVE) {
		if (s != NULL) {
			ev_io_stop(c->loop, &s->io);
			LIST_REMOVE(s, entry);
			free(s);
		}
		return 0;
	}
	if (s == NULL) {
		if ((s = calloc(1, sizeof *s)) == NULL)
			return -1;
		s->c = c;
		s->fd = fd;
		ev_init(&s->io, on_io);
		s->io.data = s;
		LIST_INSERT_HEAD(&c->socks, s, entry);
		curl_multi_assign(c->multi, fd, s);
	} else
		ev_io_stop(c->loop, &s->io);
	if (what & CURL_POLL_IN)
		events |= EV_READ;
	if (what & CURL_POLL_OUT)
		events |= EV_WRITE;
	ev_io_set(&s->io, fd, events);
	ev_io_start(c->loop, &s->io);
	return 0;
}

/*
 * libcurl's timer function: wake it after ms, or never (-1).  It may not
 * be called back from here, so even 0 ms goes through the loop.
 */
static int
on_timer(CURLM *m, long ms, void *arg)
{
	struct httpc	*c = arg;

	ev_timer_stop(c->loop, &c->timer);
	if (ms >= 0) {
		ev_timer_set(&c->timer, (double)ms / 1000.0, 0.0);
		ev_timer_start(c->loop, &c->timer);
	}
	return 0;
}

/* A watched socket is ready.  s may be freed inside the action. */
static void
on_io(struct ev_loop *loop, ev_io *w, int revents)
{
	struct sock	*s = w->data;
	struct httpc	*c = s->c;
	int		 flags = 0, running;

	if (revents & EV_READ)
		flags |= CURL_CSELECT_IN;
	if (revents & EV_WRITE)
		flags |= CURL_CSELECT_OUT;
	if (revents & EV_ERROR)
		flags |= CURL_CSELECT_ERR;
	curl_multi_socket_action(c->multi, s->fd, flags, &running);
	finished(c);
}

/* libcurl's timeout. */
static void
on_wake(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct httpc	*c = w->data;
	int		 running;

	curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	finished(c);
}
