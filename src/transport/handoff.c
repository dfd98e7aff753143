/*
 * Connection hand-off (see handoff.h).  Each worker binds a unix datagram
 * socket in run_dir; a datagram carrying one fd is atomic, so there is no
 * framing to get wrong.  Every datagram comes with its sender's
 * credentials (SO_PASSCRED): a descriptor from anyone but a sibling worker
 * is closed unread, since it would be served as a client, or, for kind
 * 'P', as a TLS connection already decrypted (issue 11.16).  A connection whose request line has not arrived
 * waits, unread, on an ev_io of its own for at most PEEK_WAIT seconds; one
 * that never says anything useful is served here.  Once part of the line
 * is in, the socket stays readable (we only peek), so the ev_io would fire
 * on every loop iteration: it is stopped and the peek retried on a timer
 * that backs off from PEEK_RETRY_MIN to PEEK_RETRY_MAX instead.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "fdpass.h"
#include "handoff.h"
#include "log.h"
#include "reqhead.h"
#include "sid.h"
#include "tlsfront.h"
#include "transport.h"
#include "unixsock.h"

#define PEEK_WAIT	2.0	/* seconds to wait for the request line */
#define PEEK_RETRY_MIN	0.01	/* s: a line split over two segments */
#define PEEK_RETRY_MAX	0.25	/* s: a client that stalls mid-line */

struct waiting {
	ev_io		 io;
	ev_timer	 retry;		/* part of the line is in: see above */
	double		 delay;		/* the retry's, backing off */
	ev_tstamp	 since;
	struct handoff	*h;
	struct waiting	*prev, *next;
};

struct handoff {
	struct transport	*t;
	char			 dir[256];	/* "": no socket, one worker */
	char			*peek;		/* max_header_size bytes */
	size_t			 peeklen;
	ev_io			 in;
	ev_timer		 sweep;
	struct waiting		*waiting;
};

static int	 decide(struct handoff *, int);
static void	 refuse(struct handoff *, int, int);
static int	 pass(struct handoff *, int, int, char);
static void	 on_receive(struct ev_loop *, ev_io *, int);
static void	 on_readable(struct ev_loop *, ev_io *, int);
static void	 on_retry(struct ev_loop *, ev_timer *, int);
static void	 on_sweep(struct ev_loop *, ev_timer *, int);
static void	 unwait(struct waiting *);

/*
 * dir NULL: a worker without siblings, whose first requests are still
 * checked (reqhead_check) but never passed on.
 */
struct handoff *
handoff_new(struct transport *t, const char *dir)
{
	struct handoff		*h;
	struct sockaddr_un	 sun;
	socklen_t		 len = 0;
	int			 fd = -1;

	unixsock_trust_init();
	if (dir != NULL && (strlen(dir) >= sizeof(h->dir) ||
	    (len = unixsock_addr(dir, "handoff", t->wid, &sun)) == 0)) {
		log_error("handoff: run_dir %s is too long for a socket path",
		    dir);
		return NULL;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->t = t;
	h->peeklen = (size_t)t->conf->max_header_size;
	if ((h->peek = malloc(h->peeklen)) == NULL) {
		free(h);
		return NULL;
	}
	if (dir != NULL) {
		snprintf(h->dir, sizeof(h->dir), "%s", dir);
		/* A dead worker's is removed first; run_dir is ours. */
		if ((fd = unixsock_bind(&sun, len, SOCK_DGRAM)) == -1) {
			log_error("handoff: cannot bind %s: %s", sun.sun_path,
			    strerror(errno));
			free(h->peek);
			free(h);
			return NULL;
		}
	}
	ev_io_init(&h->in, on_receive, fd, EV_READ);
	if (fd != -1)
		ev_io_start(t->loop, &h->in);
	ev_timer_init(&h->sweep, on_sweep, PEEK_WAIT, PEEK_WAIT);
	ev_timer_start(t->loop, &h->sweep);
	return h;
}

void
handoff_free(struct handoff *h)
{
	struct sockaddr_un	sun;

	if (h == NULL)
		return;
	if (h->dir[0] != '\0' && unixsock_addr(h->dir, "handoff", h->t->wid,
	    &sun) != 0)
		unlink(sun.sun_path);
	while (h->waiting != NULL) {
		client_untrack(h->t, h->waiting->io.fd);
		close(h->waiting->io.fd);
		unwait(h->waiting);
	}
	ev_io_stop(h->t->loop, &h->in);
	ev_timer_stop(h->t->loop, &h->sweep);
	if (h->in.fd != -1)
		close(h->in.fd);
	free(h->peek);
	free(h);
}

/*
 * Send the socket to worker wid; 0 when it went.  kind 'F': a client's
 * socket, unread; 'P': the plain end of a TLS front (tlsfront.h).
 */
static int
pass(struct handoff *h, int fd, int wid, char kind)
{
	struct sockaddr_un	sun;
	socklen_t		len;

	if (h->dir[0] == '\0')
		return -1;	/* no siblings */
	if ((len = unixsock_addr(h->dir, "handoff", wid, &sun)) == 0)
		return -1;
	if (fdpass_send(h->in.fd, &sun, len, kind, fd) != 0) {
		log_debug("handoff to worker %d: %s", wid, strerror(errno));
		return -1;
	}
	client_untrack(h->t, fd);	/* the owner counts it now */
	close(fd);
	h->t->stats.handed_off++;
	return 0;
}

/*
 * Peek and act: 1 decided (served, passed or refused), 0 wait for more.
 * The whole head must be in: a head too long for the header buffer is
 * answered here, since libwebsockets would close it without a word.
 */
static int
decide(struct handoff *h, int fd)
{
	ssize_t	n;
	int	w;

	n = recv(fd, h->peek, h->peeklen, MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		client_untrack(h->t, fd);
		close(fd);		/* closed or failed before a byte */
		return 1;
	}
	/*
	 * A TLS ClientHello (record type 22) cannot be read here: this worker
	 * terminates TLS and routes by the request line in clear.
	 */
	if ((unsigned char)h->peek[0] == 0x16 &&
	    h->t->conf->tls_cert[0] != '\0') {
		tlsfront_adopt(h->t, fd);
		return 1;
	}
	switch (w = reqhead_check(h->peek, (size_t)n, h->peeklen)) {
	case REQHEAD_MORE:
		return 0;
	case 0:
		break;
	default:
		refuse(h, fd, w);
		return 1;
	}
	w = reqhead_route(h->peek, (size_t)n, h->t->wid);
	if (w < 0 || pass(h, fd, w, 'F') != 0)
		client_adopt(h->t, fd);
	return 1;
}

/*
 * Answer 414 or 431 and close.  What the client sent is read and dropped
 * first (up to a bound), so that the close does not reset the connection
 * before the client reads the answer.
 */
static void
refuse(struct handoff *h, int fd, int status)
{
	static const char	 body414[] = "{\"code\":3,\"message\":"
	    "\"Request line too long\"}";
	static const char	 body431[] = "{\"code\":3,\"message\":"
	    "\"Request headers too large\"}";
	const char		*body = status == 414 ? body414 : body431;
	char			 head[256];
	int			 len, i;

	len = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\n"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n"
	    "Connection: close\r\n\r\n%s", status, status == 414 ?
	    "URI Too Long" : "Request Header Fields Too Large", strlen(body),
	    body);
	for (i = 0; i < 16 && recv(fd, h->peek, h->peeklen, MSG_DONTWAIT) > 0;
	    i++)
		;
	(void)send(fd, head, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL);
	shutdown(fd, SHUT_WR);
	client_untrack(h->t, fd);
	close(fd);
	h->t->stats.header_overflows++;
}

/* The plain end of a TLS front, for the worker that owns the session. */
int
handoff_pass_plain(struct handoff *h, int fd, int wid)
{
	return h == NULL ? -1 : pass(h, fd, wid, 'P');
}

/* A new connection: route it now, or once its request line is in. */
void
handoff_accept(struct handoff *h, struct transport *t, int fd)
{
	struct waiting	*wt;

	if (h == NULL) {
		client_adopt(t, fd);
		return;
	}
	if (decide(h, fd))
		return;
	if ((wt = calloc(1, sizeof(*wt))) == NULL) {
		client_adopt(t, fd);
		return;
	}
	wt->h = h;
	wt->since = ev_now(t->loop);
	ev_io_init(&wt->io, on_readable, fd, EV_READ);
	ev_io_start(t->loop, &wt->io);
	ev_timer_init(&wt->retry, on_retry, PEEK_RETRY_MIN, 0);
	wt->next = h->waiting;
	if (h->waiting != NULL)
		h->waiting->prev = wt;
	h->waiting = wt;
}

/* Connections accepted whose request line has not come: not yet lws's. */
int
handoff_waiting(const struct handoff *h)
{
	return h != NULL && h->waiting != NULL;
}

static void
unwait(struct waiting *wt)
{
	struct handoff	*h = wt->h;

	ev_io_stop(h->t->loop, &wt->io);
	ev_timer_stop(h->t->loop, &wt->retry);
	if (wt->prev != NULL)
		wt->prev->next = wt->next;
	else
		h->waiting = wt->next;
	if (wt->next != NULL)
		wt->next->prev = wt->prev;
	free(wt);
}

static void
on_readable(struct ev_loop *loop, ev_io *w, int revents)
{
	struct waiting	*wt = (struct waiting *)w;

	(void)revents;
	if (decide(wt->h, w->fd)) {
		unwait(wt);
		return;
	}
	/* Readable and not decided: part of the line; peek again later. */
	ev_io_stop(loop, w);
	wt->delay = PEEK_RETRY_MIN;
	ev_timer_set(&wt->retry, wt->delay, 0);
	ev_timer_start(loop, &wt->retry);
}

static void
on_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct waiting	*wt = (struct waiting *)((char *)w -
	    offsetof(struct waiting, retry));

	(void)revents;
	if (decide(wt->h, wt->io.fd)) {
		unwait(wt);
		return;
	}
	if ((wt->delay *= 2) > PEEK_RETRY_MAX)
		wt->delay = PEEK_RETRY_MAX;
	ev_timer_set(w, wt->delay, 0);
	ev_timer_start(loop, w);
}

/* Connections silent for PEEK_WAIT are served here (lws times them out). */
static void
on_sweep(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct handoff	*h = (struct handoff *)((char *)w -
	    offsetof(struct handoff, sweep));
	struct waiting	*wt, *next;
	int		 fd;

	(void)revents;
	for (wt = h->waiting; wt != NULL; wt = next) {
		next = wt->next;
		if (ev_now(loop) - wt->since < PEEK_WAIT)
			continue;
		fd = wt->io.fd;
		unwait(wt);
		client_adopt(h->t, fd);
	}
}

/* A socket from another worker: serve it as if we had accepted it. */
static void
on_receive(struct ev_loop *loop, ev_io *w, int revents)
{
	struct handoff	*h = (struct handoff *)((char *)w -
	    offsetof(struct handoff, in));
	struct fdpass_msg	 m;
	size_t			 i;

	(void)loop;
	(void)revents;
	while (fdpass_recv(w->fd, &m) == 0) {
		if (!m.has_cred || !unixsock_sibling(m.cred.pid,
		    m.cred.uid)) {
			h->t->stats.peers_refused++;
			unixsock_refused("handoff", m.cred.pid, m.cred.uid,
			    ev_now(h->t->loop));
			for (i = 0; i < m.nfds; i++)
				close(m.fds[i]);
			continue;
		}
		/* A sibling sends one descriptor and its kind, always. */
		for (i = 1; i < m.nfds; i++)
			close(m.fds[i]);
		if (m.nfds == 0)
			continue;
		if (m.n != 1 || (m.kind != 'F' && m.kind != 'P') ||
		    m.truncated) {
			close(m.fds[0]);
			continue;
		}
		if (m.kind == 'P')		/* draining: served too */
			client_adopt_plain(h->t, m.fds[0]);
		else
			client_adopt(h->t, m.fds[0]);
	}
}
