/*
 * chat-stub: the fast stub chat service of the dm-persist benchmark
 * (issue 13).  It answers what the gateway and the anchor ask of a chat
 * service as cheaply as possible, so that the benchmark measures them and
 * not the stub: one process, raw epoll, HTTP/1.1 keep-alive, no JSON
 * parser.
 *
 *  - POST <messages path> (/api/messages): 200 {"ok":true}, counted; one
 *    without an Idempotency-Key header is counted apart (both the gateway
 *    and the anchor must send one).
 *  - GET /count: {"messages":N,"no_key":N,"requests":N,
 *    "connections":N} (connections accepted: keep-alive at work), read by
 *    socket-gateway-bench --stub at the edges of its measured window
 *    (HTTP/1.0, Connection: close: the connection is closed after it).
 *  - anything else: 200 {"ok":true}, counted in requests only.
 *
 * Bodies are read by Content-Length and skipped (chunked bodies are not
 * spoken: such a connection is closed); "Expect: 100-continue" is
 * answered.  On SIGTERM or SIGINT it prints its counts on stderr and
 * exits.
 *
 * usage: chat-stub [-a address] [-p port] [-m messages-path]
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define BUF_SIZE	65536		/* a request's head must fit */
#define OK_BODY		"{\"ok\":true}"
#define OK_REPLY	"HTTP/1.1 200 OK\r\nContent-Type: application/json" \
			"\r\nContent-Length: 11\r\n\r\n" OK_BODY

struct sconn {
	int		 fd;
	char		 buf[BUF_SIZE];
	size_t		 len;
	size_t		 skip;		/* body bytes still to drop */
	char		*out;		/* replies the socket did not take */
	size_t		 outlen, outcap;
	int		 closing;	/* close once out is written */
};

static volatile sig_atomic_t	 stop;
static unsigned long long	 nmessages, nnokey, nrequests, nconns;
static const char		*mpath = "/api/messages";

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
drop(int ep, struct sconn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->out);
	free(c);
}

/* Queue bytes for the peer; write what the socket takes now. */
static int
put(int ep, struct sconn *c, const char *p, size_t n)
{
	struct epoll_event	 ev;
	ssize_t			 w;

	if (c->outlen == 0) {
		w = write(c->fd, p, n);
		if (w == (ssize_t)n)
			return 0;
		if (w == -1 && errno != EAGAIN)
			return -1;
		if (w > 0) {
			p += w;
			n -= (size_t)w;
		}
	}
	if (c->outlen + n > c->outcap) {
		c->outcap = (c->outlen + n) * 2;
		if ((c->out = realloc(c->out, c->outcap)) == NULL)
			abort();
	}
	memcpy(c->out + c->outlen, p, n);
	c->outlen += n;
	ev.events = EPOLLIN | EPOLLOUT;
	ev.data.ptr = c;
	return epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static int
flush_out(int ep, struct sconn *c)
{
	struct epoll_event	 ev;
	ssize_t			 w;

	w = write(c->fd, c->out, c->outlen);
	if (w == -1)
		return errno == EAGAIN ? 0 : -1;
	memmove(c->out, c->out + w, c->outlen - (size_t)w);
	c->outlen -= (size_t)w;
	if (c->outlen > 0)
		return 0;
	if (c->closing)
		return -1;
	ev.events = EPOLLIN;
	ev.data.ptr = c;
	return epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* A header's value (after "\r\nname:"), in the head [p, end); or NULL. */
static const char *
header(const char *p, const char *end, const char *name)
{
	size_t	 n = strlen(name);

	for (; (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++) {
		if ((size_t)(end - p) > n + 1 &&
		    strncasecmp(p + 1, name, n) == 0 && p[n + 1] == ':') {
			for (p += n + 2; p < end && *p == ' '; p++)
				;
			return p;
		}
	}
	return NULL;
}

/*
 * One request whose head is [p, p + hlen) (the blank line included):
 * answer it; how many body bytes follow, or -1 to close.
 */
static long
request(int ep, struct sconn *c, const char *p, size_t hlen)
{
	const char	*end = p + hlen, *v, *eol;
	char		 json[160], reply[320];
	long		 body = 0;
	int		 n;

	nrequests++;
	eol = memchr(p, '\r', hlen);
	if ((eol != NULL && eol - p >= 8 && memcmp(eol - 8, "HTTP/1.0", 8) ==
	    0) || ((v = header(p, end, "connection")) != NULL &&
	    strncasecmp(v, "close", 5) == 0))
		c->closing = 1;
	if ((v = header(p, end, "transfer-encoding")) != NULL &&
	    strncasecmp(v, "chunked", 7) == 0)
		return -1;
	if ((v = header(p, end, "content-length")) != NULL)
		body = strtol(v, NULL, 10);
	if (body < 0)
		return -1;
	if ((v = header(p, end, "expect")) != NULL &&
	    strncasecmp(v, "100-continue", 12) == 0 &&
	    put(ep, c, "HTTP/1.1 100 Continue\r\n\r\n", 25) != 0)
		return -1;
	if (strncmp(p, "POST ", 5) == 0 &&
	    strncmp(p + 5, mpath, strlen(mpath)) == 0 &&
	    (p[5 + strlen(mpath)] == ' ' || p[5 + strlen(mpath)] == '?')) {
		nmessages++;
		if (header(p, end, "idempotency-key") == NULL)
			nnokey++;
	} else if (strncmp(p, "GET /count ", 11) == 0) {
		n = snprintf(json, sizeof(json), "{\"messages\":%llu,"
		    "\"no_key\":%llu,\"requests\":%llu,\"connections\":%llu}",
		    nmessages, nnokey, nrequests, nconns);
		n = snprintf(reply, sizeof(reply), "HTTP/1.1 200 OK\r\n"
		    "Content-Type: application/json\r\nContent-Length: %d\r\n"
		    "\r\n%s", n, json);
		return put(ep, c, reply, (size_t)n) == 0 ? body : -1;
	}
	return put(ep, c, OK_REPLY, sizeof(OK_REPLY) - 1) == 0 ? body : -1;
}

/* Readable: every whole request in the buffer, answered in order. */
static int
on_read(int ep, struct sconn *c)
{
	ssize_t		 r;
	size_t		 off, k;
	long		 body;
	char		*e;

	r = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
	if (r == 0 || (r == -1 && errno != EAGAIN && errno != EINTR))
		return -1;
	if (r == -1)
		return 0;
	c->len += (size_t)r;
	off = 0;
	for (;;) {
		if (c->skip > 0) {
			k = c->len - off < c->skip ? c->len - off : c->skip;
			off += k;
			c->skip -= k;
			if (c->skip > 0)
				break;
		}
		e = memmem(c->buf + off, c->len - off, "\r\n\r\n", 4);
		if (e == NULL)
			break;
		body = request(ep, c, c->buf + off, (size_t)(e + 4 - c->buf) -
		    off);
		if (body < 0)
			return -1;
		off = (size_t)(e + 4 - c->buf);
		c->skip = (size_t)body;
	}
	if (off == 0 && c->len == sizeof(c->buf))
		return -1;		/* a head larger than the buffer */
	if (c->closing && c->outlen == 0)
		return -1;		/* answered; the peer asked to close */
	memmove(c->buf, c->buf + off, c->len - off);
	c->len -= off;
	return 0;
}

int
main(int argc, char *argv[])
{
	struct sockaddr_in	 sin;
	struct epoll_event	 ev, evs[256];
	struct sigaction	 sa;
	struct sconn		*c;
	const char		*addr = "127.0.0.1";
	int			 ch, ep, lfd, fd, n, i, one = 1, port = 3004;

	while ((ch = getopt(argc, argv, "a:m:p:")) != -1) {
		switch (ch) {
		case 'a':
			addr = optarg;
			break;
		case 'm':
			mpath = optarg;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: chat-stub [-a address] "
			    "[-p port] [-m messages-path]\n");
			return 2;
		}
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
		fprintf(stderr, "chat-stub: %s: not an IPv4 address\n", addr);
		return 2;
	}
	if ((lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(lfd, 1024) == -1 || (ep = epoll_create1(0)) == -1) {
		perror("chat-stub");
		return 1;
	}
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	fprintf(stderr, "chat-stub: listening on %s:%d, messages at %s\n",
	    addr, port, mpath);

	while (!stop) {
		n = epoll_wait(ep, evs, 256, 1000);
		for (i = 0; i < n; i++) {
			c = evs[i].data.ptr;
			if (c == NULL) {
				while ((fd = accept4(lfd, NULL, NULL,
				    SOCK_NONBLOCK)) != -1) {
					setsockopt(fd, IPPROTO_TCP, TCP_NODELAY,
					    &one, sizeof(one));
					if ((c = calloc(1, sizeof(*c))) == NULL)
						abort();
					c->fd = fd;
					nconns++;
					ev.events = EPOLLIN;
					ev.data.ptr = c;
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
				}
				continue;
			}
			if (((evs[i].events & EPOLLOUT) &&
			    flush_out(ep, c) != 0) ||
			    ((evs[i].events & (EPOLLIN | EPOLLHUP |
			    EPOLLERR)) && on_read(ep, c) != 0))
				drop(ep, c);
		}
	}
	fprintf(stderr, "chat-stub: %llu messages (%llu without an "
	    "Idempotency-Key), %llu requests on %llu connections\n", nmessages,
	    nnokey, nrequests, nconns);
	return 0;
}
