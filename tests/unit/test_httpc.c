/*
 * test_httpc.c: the HTTP client (httpc.c) on a real libev loop against a
 * real HTTP/1.1 server on 127.0.0.1.
 *
 * Each test forks a small server (plain sockets and poll, keep-alive,
 * several connections at once) on a port the kernel picks, and drives a
 * client in the cmocka process until its callbacks have run.  Paths:
 *	/ok	200 {"ok":true}
 *	/fail	500 {"error":"boom"}
 *	/echo	200, the request as received (head and body), as text
 *	/big	200 with BIG_LEN bytes
 *	/stream	200 with BIG_LEN bytes, chunked: no Content-Length to check
 *	/conns	200 {"connections":N}, the connections accepted so far
 *	/hang	no answer, ever
 * Run under ASan as well: the pinning tests free requests and the client
 * from inside callbacks.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <ev.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>

#include "httpc.h"

#define NCONN		32
#define CONN_BUF	65536
#define BIG_LEN		(100 * 1024)

/* ---- the server, in a child process ---- */

struct sconn {
	int	fd;
	char	buf[CONN_BUF];
	size_t	len;
};

static void
write_all(int fd, const char *p, size_t n)
{
	ssize_t	w;

	while (n > 0) {
		if ((w = write(fd, p, n)) <= 0) {
			if (w < 0 && errno == EINTR)
				continue;
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

static void
reply(int fd, int status, const char *type, const char *body, size_t len)
{
	char	head[256];
	int	n;

	n = snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\n"
	    "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n", status,
	    status == 200 ? "OK" : "Internal Server Error", type, len);
	write_all(fd, head, (size_t)n);
	write_all(fd, body, len);
}

/* BIG_LEN bytes in chunks of 4 KB. */
static void
reply_chunked(int fd)
{
	static const char	head[] = "HTTP/1.1 200 OK\r\n"
	    "Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n";
	char			chunk[4096 + 16];
	size_t			sent, n;
	int			h;

	write_all(fd, head, sizeof head - 1);
	for (sent = 0; sent < BIG_LEN; sent += n) {
		n = BIG_LEN - sent < 4096 ? BIG_LEN - sent : 4096;
		h = snprintf(chunk, sizeof chunk, "%zx\r\n", n);
		memset(chunk + h, 'y', n);
		memcpy(chunk + h + n, "\r\n", 2);
		write_all(fd, chunk, (size_t)h + n + 2);
	}
	write_all(fd, "0\r\n\r\n", 5);
}

/* One complete request in c->buf: answer it; 0 if none is complete yet. */
static int
serve_one(struct sconn *c, int *nconns)
{
	char	*end, *cl, *big, path[64], out[64];
	size_t	 hlen, blen = 0, total;

	c->buf[c->len] = '\0';
	if ((end = strstr(c->buf, "\r\n\r\n")) == NULL)
		return 0;
	hlen = (size_t)(end - c->buf) + 4;
	if ((cl = strcasestr(c->buf, "\r\nContent-Length:")) != NULL &&
	    cl < end)
		blen = strtoul(cl + 17, NULL, 10);
	total = hlen + blen;
	if (c->len < total)
		return 0;
	if (sscanf(c->buf, "%*s %63s", path) != 1)
		path[0] = '\0';
	if (strcmp(path, "/ok") == 0)
		reply(c->fd, 200, "application/json", "{\"ok\":true}", 11);
	else if (strcmp(path, "/fail") == 0)
		reply(c->fd, 500, "application/json", "{\"error\":\"boom\"}",
		    16);
	else if (strcmp(path, "/echo") == 0)
		reply(c->fd, 200, "text/plain", c->buf, total);
	else if (strcmp(path, "/conns") == 0) {
		snprintf(out, sizeof out, "{\"connections\":%d}", *nconns);
		reply(c->fd, 200, "application/json", out, strlen(out));
	} else if (strcmp(path, "/big") == 0) {
		big = malloc(BIG_LEN);
		memset(big, 'x', BIG_LEN);
		reply(c->fd, 200, "text/plain", big, BIG_LEN);
		free(big);
	} else if (strcmp(path, "/stream") == 0)
		reply_chunked(c->fd);
	/* /hang: nothing. */
	memmove(c->buf, c->buf + total, c->len - total);
	c->len -= total;
	return 1;
}

static void
server_run(int lfd)
{
	static struct sconn	conns[NCONN];
	struct pollfd		pfd[NCONN + 1];
	int			i, n, fd, nconns = 0;
	ssize_t			r;

	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < NCONN; i++)
		conns[i].fd = -1;
	for (;;) {
		pfd[0].fd = lfd;
		pfd[0].events = POLLIN;
		for (i = 0; i < NCONN; i++) {
			pfd[i + 1].fd = conns[i].fd;
			pfd[i + 1].events = POLLIN;
		}
		if ((n = poll(pfd, NCONN + 1, -1)) < 0)
			continue;
		if (pfd[0].revents & POLLIN) {
			if ((fd = accept(lfd, NULL, NULL)) >= 0) {
				for (i = 0; i < NCONN && conns[i].fd != -1; i++)
					;
				if (i == NCONN)
					close(fd);
				else {
					conns[i].fd = fd;
					conns[i].len = 0;
					nconns++;
				}
			}
		}
		for (i = 0; i < NCONN; i++) {
			if (conns[i].fd == -1 || pfd[i + 1].revents == 0)
				continue;
			r = read(conns[i].fd, conns[i].buf + conns[i].len,
			    CONN_BUF - 1 - conns[i].len);
			if (r <= 0) {
				close(conns[i].fd);
				conns[i].fd = -1;
				continue;
			}
			conns[i].len += (size_t)r;
			while (serve_one(&conns[i], &nconns))
				;
		}
	}
}

/* A listening socket on 127.0.0.1, port chosen by the kernel. */
static int
listen_any(int *port, int do_listen)
{
	struct sockaddr_in	sin;
	socklen_t		sl = sizeof sin;
	int			fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	if (do_listen)
		assert_int_equal(listen(fd, 64), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

/* ---- the client side ---- */

struct fix {
	pid_t		 pid;
	int		 port;
	char		 base[64];
	struct ev_loop	*loop;
};

/* What a callback saw. */
struct seen {
	int		 calls;
	int		 error;
	long		 status;
	char		 body[512];
	size_t		 len;
	double		 elapsed;
	/* pinning tests */
	struct httpc_req **victim;	/* cancel this one on completion */
	struct httpc	*client;	/* free this client on completion */
	struct seen	*heap;		/* free this on completion */
};

static int
setup(void **state)
{
	struct fix	*f;
	int		 lfd;

	f = calloc(1, sizeof *f);
	assert_non_null(f);
	lfd = listen_any(&f->port, 1);
	if ((f->pid = fork()) == 0) {
		server_run(lfd);
		_exit(0);
	}
	assert_true(f->pid > 0);
	close(lfd);
	snprintf(f->base, sizeof f->base, "http://127.0.0.1:%d", f->port);
	f->loop = ev_loop_new(EVFLAG_AUTO);
	assert_non_null(f->loop);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fix	*f = *state;
	int		 st;

	kill(f->pid, SIGKILL);
	waitpid(f->pid, &st, 0);
	ev_loop_destroy(f->loop);
	free(f);
	return 0;
}

static void
on_done(const struct httpc_result *res, void *arg)
{
	struct seen	*s = arg;

	s->calls++;
	s->error = res->error;
	s->status = res->status;
	s->len = res->len;
	s->elapsed = res->elapsed;
	snprintf(s->body, sizeof s->body, "%s", res->body);
	assert_true(strlen(res->body) == res->len || res->len >= 512);
	if (s->victim != NULL && *s->victim != NULL) {
		httpc_cancel(*s->victim);
		*s->victim = NULL;
	}
	if (s->client != NULL)
		httpc_free(s->client);
	free(s->heap);
}

static void
on_guard(struct ev_loop *loop, ev_timer *w, int revents)
{
	ev_break(loop, EVBREAK_ALL);
}

/* Run the loop until *n callbacks have run or secs have passed. */
static void
run_until(struct fix *f, int *n, int want, double secs)
{
	ev_timer	guard;
	double		end = ev_time() + secs;

	ev_timer_init(&guard, on_guard, secs, 0.);
	ev_timer_start(f->loop, &guard);
	while (*n < want && ev_time() < end)
		ev_run(f->loop, EVRUN_ONCE);
	ev_timer_stop(f->loop, &guard);
}

/* Start a call to path with a seen as its argument. */
static int
call(struct httpc *c, enum httpc_method m, const char *path, double timeout,
    struct seen *s, struct httpc_req **reqp)
{
	struct httpc_call	hc;

	memset(&hc, 0, sizeof hc);
	hc.method = m;
	hc.path = path;
	hc.timeout = timeout;
	hc.cb = on_done;
	hc.arg = s;
	return httpc_request(c, &hc, reqp);
}

static void
test_ok_json(void **state)
{
	struct fix	*f = *state;
	struct httpc	*c = httpc_new(f->loop, f->base, 4);
	struct seen	 s = { 0 };

	assert_non_null(c);
	assert_int_equal(call(c, HTTPC_GET, "/ok", 2, &s, NULL), HTTPC_OK);
	assert_int_equal(s.calls, 0);		/* never from inside */
	assert_int_equal(httpc_inflight(c), 1);
	run_until(f, &s.calls, 1, 5);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.error, HTTPC_OK);
	assert_int_equal(s.status, 200);
	assert_string_equal(s.body, "{\"ok\":true}");
	assert_int_equal(s.len, 11);
	assert_true(s.elapsed >= 0 && s.elapsed < 2);
	assert_int_equal(httpc_inflight(c), 0);
	httpc_free(c);
}

/* Method, path joining, body, the client's and the call's headers. */
static void
test_post_headers(void **state)
{
	struct fix		*f = *state;
	char			 base[80];
	struct httpc		*c;
	struct seen		 s = { 0 };
	struct httpc_call	 hc;
	const char		*hdrs[] = { "Idempotency-Key: m-42", NULL };
	const char		*bad[] = { "X-A: 1\r\nX-B: 2", NULL };
	char			 body[] = "{\"to\":\"bob\",\"text\":\"hi\"}";

	snprintf(base, sizeof base, "%s/", f->base);	/* trailing '/' */
	c = httpc_new(f->loop, base, 4);
	assert_non_null(c);
	assert_int_equal(httpc_header(c, "Authorization: Bearer s3rv1ce"),
	    HTTPC_OK);
	assert_int_equal(httpc_header(c, "Bad\nHeader: x"), HTTPC_ERR_INVALID);
	memset(&hc, 0, sizeof hc);
	hc.method = HTTPC_PUT;
	hc.path = "echo";
	hc.body = body;
	hc.len = strlen(body);
	hc.headers = bad;
	hc.cb = on_done;
	hc.arg = &s;
	assert_int_equal(httpc_request(c, &hc, NULL), HTTPC_ERR_INVALID);
	hc.headers = hdrs;
	assert_int_equal(httpc_request(c, &hc, NULL), HTTPC_OK);
	memset(body, 'Z', sizeof body - 1);		/* it was copied */
	run_until(f, &s.calls, 1, 5);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.status, 200);
	assert_non_null(strstr(s.body, "PUT /echo HTTP/1.1\r\n"));
	assert_non_null(strstr(s.body,
	    "\r\nAuthorization: Bearer s3rv1ce\r\n"));
	assert_non_null(strstr(s.body, "\r\nIdempotency-Key: m-42\r\n"));
	assert_non_null(strstr(s.body,
	    "\r\nContent-Type: application/json\r\n"));
	assert_null(strcasestr(s.body, "Expect:"));
	assert_non_null(strstr(s.body,
	    "\r\n\r\n{\"to\":\"bob\",\"text\":\"hi\"}"));
	/* A POST without a body sends Content-Length: 0. */
	hc.method = HTTPC_POST;
	hc.body = NULL;
	hc.headers = NULL;
	assert_int_equal(httpc_request(c, &hc, NULL), HTTPC_OK);
	run_until(f, &s.calls, 2, 5);
	assert_int_equal(s.calls, 2);
	assert_non_null(strstr(s.body, "POST /echo HTTP/1.1\r\n"));
	assert_non_null(strcasestr(s.body, "\r\nContent-Length: 0\r\n"));
	httpc_free(c);
}

static void
test_500(void **state)
{
	struct fix	*f = *state;
	struct httpc	*c = httpc_new(f->loop, f->base, 4);
	struct seen	 s = { 0 };

	assert_int_equal(call(c, HTTPC_POST, "/fail", 2, &s, NULL), HTTPC_OK);
	run_until(f, &s.calls, 1, 5);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.error, HTTPC_OK);	/* an answer: the caller judges */
	assert_int_equal(s.status, 500);
	assert_string_equal(s.body, "{\"error\":\"boom\"}");
	httpc_free(c);
}

static void
test_refused(void **state)
{
	struct fix	*f = *state;
	char		 base[64];
	struct httpc	*c;
	struct seen	 s = { 0 };
	int		 fd, port;

	/* Bound, not listening: the port is ours and refuses. */
	fd = listen_any(&port, 0);
	snprintf(base, sizeof base, "http://127.0.0.1:%d", port);
	c = httpc_new(f->loop, base, 4);
	assert_int_equal(call(c, HTTPC_GET, "/ok", 2, &s, NULL), HTTPC_OK);
	run_until(f, &s.calls, 1, 5);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.error, HTTPC_ERR_CONNECT);
	assert_int_equal(s.status, 0);
	assert_true(s.elapsed < 1);
	httpc_free(c);
	close(fd);
}

static void
test_timeout(void **state)
{
	struct fix	*f = *state;
	struct httpc	*c = httpc_new(f->loop, f->base, 4);
	struct seen	 s = { 0 };

	assert_int_equal(call(c, HTTPC_GET, "/hang", 0.3, &s, NULL), HTTPC_OK);
	run_until(f, &s.calls, 1, 5);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.error, HTTPC_ERR_TIMEOUT);
	assert_true(s.elapsed >= 0.29 && s.elapsed < 1.5);
	assert_int_equal(httpc_inflight(c), 0);
	httpc_free(c);
}

static void
test_too_big(void **state)
{
	struct fix		*f = *state;
	struct httpc		*c = httpc_new(f->loop, f->base, 4);
	struct seen		 s = { 0 };
	struct httpc_call	 hc;

	memset(&hc, 0, sizeof hc);
	hc.method = HTTPC_GET;
	hc.path = "/big";
	hc.max_body = 1000;
	hc.cb = on_done;
	hc.arg = &s;
	assert_int_equal(httpc_request(c, &hc, NULL), HTTPC_OK);
	run_until(f, &s.calls, 1, 5);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.error, HTTPC_ERR_TOOBIG);	/* Content-Length */
	assert_int_equal(s.status, 200);
	assert_true(s.len <= 1000);
	/* No length announced: cut at the bound as it arrives. */
	hc.path = "/stream";
	assert_int_equal(httpc_request(c, &hc, NULL), HTTPC_OK);
	run_until(f, &s.calls, 2, 5);
	assert_int_equal(s.calls, 2);
	assert_int_equal(s.error, HTTPC_ERR_TOOBIG);
	assert_int_equal(s.len, 1000);
	assert_int_equal(strspn(s.body, "y"), 511);	/* s.body's size */
	/* A bound as large as the body takes all of it, both ways. */
	hc.max_body = BIG_LEN;
	assert_int_equal(httpc_request(c, &hc, NULL), HTTPC_OK);
	run_until(f, &s.calls, 3, 5);
	assert_int_equal(s.error, HTTPC_OK);
	assert_int_equal(s.len, BIG_LEN);
	hc.path = "/big";
	assert_int_equal(httpc_request(c, &hc, NULL), HTTPC_OK);
	run_until(f, &s.calls, 4, 5);
	assert_int_equal(s.error, HTTPC_OK);
	assert_int_equal(s.len, BIG_LEN);
	httpc_free(c);
}

/* Sequential requests, each started after the last: one connection. */
static void
test_keepalive(void **state)
{
	struct fix	*f = *state;
	struct httpc	*c = httpc_new(f->loop, f->base, 4);
	struct seen	 s = { 0 };
	int		 i;

	for (i = 0; i < 5; i++) {
		assert_int_equal(call(c, i % 2 ? HTTPC_POST : HTTPC_GET,
		    i % 2 ? "/fail" : "/ok", 2, &s, NULL), HTTPC_OK);
		run_until(f, &s.calls, i + 1, 5);
		assert_int_equal(s.calls, i + 1);
	}
	assert_int_equal(call(c, HTTPC_GET, "/conns", 2, &s, NULL), HTTPC_OK);
	run_until(f, &s.calls, 6, 5);
	assert_int_equal(s.calls, 6);
	assert_string_equal(s.body, "{\"connections\":1}");
	httpc_free(c);
}

/* A callback that starts the next request, as a retry would. */
struct chain {
	struct httpc	*c;
	int		 left;
	int		 calls;
	int		 ok;
};

static void
on_chain(const struct httpc_result *res, void *arg)
{
	struct chain		*ch = arg;
	struct httpc_call	 hc;

	ch->calls++;
	ch->ok += res->error == HTTPC_OK && res->status == 200;
	if (ch->left-- > 0) {
		memset(&hc, 0, sizeof hc);
		hc.method = HTTPC_GET;
		hc.path = "/ok";
		hc.cb = on_chain;
		hc.arg = ch;
		assert_int_equal(httpc_request(ch->c, &hc, NULL), HTTPC_OK);
	}
}

/*
 * Bursts of concurrent requests all succeed, and the connections of the
 * first burst are kept for the second: the server sees no new ones.
 */
static void
test_concurrent(void **state)
{
	struct fix		*f = *state;
	struct httpc		*c = httpc_new(f->loop, f->base, 8);
	struct chain		 ch[8];
	struct seen		 s = { 0 };
	int			 i, burst, total = 0, conns, first = 0;

	for (burst = 0; burst < 2; burst++) {
		memset(ch, 0, sizeof ch);
		for (i = 0; i < 8; i++) {
			ch[i].c = c;
			ch[i].left = 3;	/* the first call is ours */
			on_chain(&(struct httpc_result){ .error = -1 }, &ch[i]);
		}
		assert_int_equal(httpc_inflight(c), 8);
		for (i = 0; i < 8; i++) {
			run_until(f, &ch[i].calls, 4, 5);
			assert_int_equal(ch[i].calls, 4);
			assert_int_equal(ch[i].ok, 3);
		}
		assert_int_equal(call(c, HTTPC_GET, "/conns", 2, &s, NULL),
		    HTTPC_OK);
		run_until(f, &s.calls, ++total, 5);
		assert_int_equal(s.calls, total);
		conns = atoi(strchr(s.body, ':') + 1);
		assert_true(conns >= 1 && conns <= 8);
		if (burst == 0)
			first = conns;
		else
			assert_int_equal(conns, first);
	}
	httpc_free(c);
}

static void
test_inflight_bound(void **state)
{
	struct fix		*f = *state;
	struct httpc		*c = httpc_new(f->loop, f->base, 2);
	struct seen		 s[4];
	struct httpc_req	*r[4];

	memset(s, 0, sizeof s);
	assert_int_equal(call(c, HTTPC_GET, "/hang", 60, &s[0], &r[0]),
	    HTTPC_OK);
	assert_int_equal(call(c, HTTPC_GET, "/hang", 60, &s[1], &r[1]),
	    HTTPC_OK);
	assert_int_equal(call(c, HTTPC_GET, "/ok", 5, &s[2], &r[2]),
	    HTTPC_ERR_BUSY);
	assert_null(r[2]);
	assert_string_equal(httpc_strerror(HTTPC_ERR_BUSY),
	    "too many requests in flight");
	assert_int_equal(httpc_inflight(c), 2);
	/* A cancel makes room. */
	httpc_cancel(r[0]);
	assert_int_equal(httpc_inflight(c), 1);
	assert_int_equal(call(c, HTTPC_GET, "/ok", 5, &s[2], &r[2]),
	    HTTPC_OK);
	run_until(f, &s[2].calls, 1, 5);
	assert_int_equal(s[2].status, 200);
	assert_int_equal(s[0].calls + s[1].calls, 0);
	assert_int_equal(httpc_inflight(c), 1);
	httpc_free(c);				/* frees the hung one */
	assert_int_equal(s[1].calls, 0);
}

/* A cancelled request's callback never runs. */
static void
test_cancel(void **state)
{
	struct fix		*f = *state;
	struct httpc		*c = httpc_new(f->loop, f->base, 4);
	struct seen		 a = { 0 }, b = { 0 };
	struct httpc_req	*ra, *rb;

	assert_int_equal(call(c, HTTPC_GET, "/ok", 2, &a, &ra), HTTPC_OK);
	assert_int_equal(call(c, HTTPC_GET, "/hang", 0.3, &b, &rb), HTTPC_OK);
	httpc_cancel(ra);			/* before it even connects */
	run_until(f, &b.calls, 1, 1);
	httpc_cancel(NULL);
	assert_int_equal(a.calls, 0);
	assert_int_equal(b.calls, 1);		/* the other one went on */
	/* Cancelled while the answer is being awaited. */
	memset(&b, 0, sizeof b);
	assert_int_equal(call(c, HTTPC_GET, "/hang", 0.2, &b, &rb), HTTPC_OK);
	run_until(f, &a.calls, 1, 0.1);
	httpc_cancel(rb);
	run_until(f, &b.calls, 1, 0.5);
	assert_int_equal(b.calls, 0);
	assert_int_equal(httpc_inflight(c), 0);
	httpc_free(c);
}

/*
 * A callback that frees another pending request, and what the other
 * request's user pointer points to.  Two requests time out in the same
 * libcurl action, so the second one's result is already queued when the
 * first one's callback cancels it.
 */
static void
test_callback_frees_other(void **state)
{
	struct fix		*f = *state;
	struct httpc		*c = httpc_new(f->loop, f->base, 4);
	struct seen		 a = { 0 }, b = { 0 }, ok = { 0 };
	struct httpc_req	*ra, *rb;
	int			 calls;

	a.victim = &rb;
	b.victim = &ra;
	assert_int_equal(call(c, HTTPC_GET, "/hang", 0.2, &a, &ra), HTTPC_OK);
	assert_int_equal(call(c, HTTPC_GET, "/hang", 0.2, &b, &rb), HTTPC_OK);
	calls = 0;
	run_until(f, &calls, 1, 1);		/* let both time out */
	assert_int_equal(a.calls + b.calls, 1);
	assert_int_equal(httpc_inflight(c), 0);

	/* A fast answer whose callback cancels a hung request. */
	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	ok.victim = &rb;
	assert_int_equal(call(c, HTTPC_GET, "/hang", 60, &b, &rb), HTTPC_OK);
	assert_int_equal(call(c, HTTPC_GET, "/ok", 5, &ok, NULL), HTTPC_OK);
	run_until(f, &ok.calls, 1, 5);
	assert_int_equal(ok.calls, 1);
	assert_null(rb);
	run_until(f, &b.calls, 1, 0.3);
	assert_int_equal(b.calls, 0);
	assert_int_equal(httpc_inflight(c), 0);
	httpc_free(c);
}

/* A callback that frees its user data and the client itself. */
static void
test_callback_frees_client(void **state)
{
	struct fix		*f = *state;
	struct httpc		*c = httpc_new(f->loop, f->base, 4);
	struct seen		*heap, a = { 0 };
	struct httpc_req	*rh;

	heap = calloc(1, sizeof *heap);
	assert_non_null(heap);
	heap->heap = heap;			/* the callback frees it */
	assert_int_equal(call(c, HTTPC_GET, "/ok", 2, heap, NULL), HTTPC_OK);
	/* Its timeout is past every wait below, even on a loaded machine. */
	assert_int_equal(call(c, HTTPC_GET, "/hang", 60, &a, &rh), HTTPC_OK);
	/* The first /ok frees its seen; then a second /ok frees c. */
	run_until(f, &a.calls, 1, 0.3);
	{
		struct seen	killer = { 0 };

		killer.client = c;
		assert_int_equal(call(c, HTTPC_GET, "/ok", 2, &killer, NULL),
		    HTTPC_OK);
		run_until(f, &killer.calls, 1, 5);
		assert_int_equal(killer.calls, 1);
	}
	/* c is gone and so is the hung request, without a callback. */
	run_until(f, &a.calls, 1, 0.3);
	assert_int_equal(a.calls, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ok_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_post_headers, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_500, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_big, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keepalive, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_concurrent, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_inflight_bound, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_callback_frees_other,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_callback_frees_client,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
