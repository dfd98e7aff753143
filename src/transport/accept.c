/*
 * The accept decision (see accept.h).  A connection whose request line has
 * not arrived waits, unread, on an ev_io of its own for at most PEEK_WAIT
 * seconds; one that never says anything useful is served here.  Once part
 * of the line is in, the socket stays readable (we only peek), so the
 * ev_io would fire on every loop iteration: it is stopped and the peek
 * retried on a timer that backs off from PEEK_RETRY_MIN to PEEK_RETRY_MAX
 * instead.
 */
#include <sys/socket.h>

#include <errno.h>
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accept.h"
#include "client.h"
#include "handoff.h"
#include "reqhead.h"
#include "tlsfront.h"
#include "transport.h"

#define PEEK_WAIT	2.0	/* seconds to wait for the request line */
#define PEEK_RETRY_MIN	0.01	/* s: a line split over two segments */
#define PEEK_RETRY_MAX	0.25	/* s: a client that stalls mid-line */

struct waiting {
	ev_io		 io;
	ev_timer	 retry;		/* part of the line is in: see above */
	double		 delay;		/* the retry's, backing off */
	ev_tstamp	 since;
	struct acceptq	*a;
	struct waiting	*prev, *next;
};

struct acceptq {
	struct transport	*t;
	char			*peek;		/* max_header_size bytes */
	size_t			 peeklen;
	ev_timer		 sweep;
	struct waiting		*waiting;
};

static int	 decide(struct acceptq *, int);
static void	 refuse(struct acceptq *, int, int);
static void	 on_readable(struct ev_loop *, ev_io *, int);
static void	 on_retry(struct ev_loop *, ev_timer *, int);
static void	 on_sweep(struct ev_loop *, ev_timer *, int);
static void	 unwait(struct waiting *);

/*
 * The first requests of t's connections are checked (reqhead_check), and
 * passed to their session's worker when t has a hand-off (t->handoff).
 */
struct acceptq *
accept_new(struct transport *t)
{
	struct acceptq	*a;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	a->t = t;
	a->peeklen = (size_t)t->conf->max_header_size;
	if ((a->peek = malloc(a->peeklen)) == NULL) {
		free(a);
		return NULL;
	}
	ev_timer_init(&a->sweep, on_sweep, PEEK_WAIT, PEEK_WAIT);
	ev_timer_start(t->loop, &a->sweep);
	return a;
}

/* Connections still waiting for their request line are closed. */
void
accept_free(struct acceptq *a)
{
	if (a == NULL)
		return;
	while (a->waiting != NULL) {
		client_untrack(a->t, a->waiting->io.fd);
		close(a->waiting->io.fd);
		unwait(a->waiting);
	}
	ev_timer_stop(a->t->loop, &a->sweep);
	free(a->peek);
	free(a);
}

/*
 * Peek and act: 1 decided (served, passed or refused), 0 wait for more.
 * The whole head must be in: a head too long for the header buffer is
 * answered here, since libwebsockets would close it without a word.
 */
static int
decide(struct acceptq *a, int fd)
{
	ssize_t	n;
	int	w;

	n = recv(fd, a->peek, a->peeklen, MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		client_untrack(a->t, fd);
		close(fd);		/* closed or failed before a byte */
		return 1;
	}
	/*
	 * A TLS ClientHello (record type 22) cannot be read here: this worker
	 * terminates TLS and routes by the request line in clear.
	 */
	if ((unsigned char)a->peek[0] == 0x16 &&
	    a->t->conf->tls_cert[0] != '\0') {
		tlsfront_adopt(a->t, fd);
		return 1;
	}
	switch (w = reqhead_check(a->peek, (size_t)n, a->peeklen)) {
	case REQHEAD_MORE:
		return 0;
	case 0:
		break;
	default:
		refuse(a, fd, w);
		return 1;
	}
	w = reqhead_route(a->peek, (size_t)n, a->t->wid);
	if (w < 0 || handoff_pass(a->t->handoff, fd, w, 'F') != 0)
		client_adopt(a->t, fd);
	return 1;
}

/*
 * Answer 414 or 431 and close.  What the client sent is read and dropped
 * first (up to a bound), so that the close does not reset the connection
 * before the client reads the answer.
 */
static void
refuse(struct acceptq *a, int fd, int status)
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
	for (i = 0; i < 16 && recv(fd, a->peek, a->peeklen, MSG_DONTWAIT) > 0;
	    i++)
		;
	(void)send(fd, head, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL);
	shutdown(fd, SHUT_WR);
	client_untrack(a->t, fd);
	close(fd);
	a->t->stats.header_overflows++;
}

/* A new connection: route it now, or once its request line is in. */
void
accept_conn(struct acceptq *a, struct transport *t, int fd)
{
	struct waiting	*wt;

	if (a == NULL) {
		client_adopt(t, fd);
		return;
	}
	if (decide(a, fd))
		return;
	if ((wt = calloc(1, sizeof(*wt))) == NULL) {
		client_adopt(t, fd);
		return;
	}
	wt->a = a;
	wt->since = ev_now(t->loop);
	ev_io_init(&wt->io, on_readable, fd, EV_READ);
	ev_io_start(t->loop, &wt->io);
	ev_timer_init(&wt->retry, on_retry, PEEK_RETRY_MIN, 0);
	wt->next = a->waiting;
	if (a->waiting != NULL)
		a->waiting->prev = wt;
	a->waiting = wt;
}

/* Connections accepted whose request line has not come: not yet lws's. */
int
accept_waiting(const struct acceptq *a)
{
	return a != NULL && a->waiting != NULL;
}

static void
unwait(struct waiting *wt)
{
	struct acceptq	*a = wt->a;

	ev_io_stop(a->t->loop, &wt->io);
	ev_timer_stop(a->t->loop, &wt->retry);
	if (wt->prev != NULL)
		wt->prev->next = wt->next;
	else
		a->waiting = wt->next;
	if (wt->next != NULL)
		wt->next->prev = wt->prev;
	free(wt);
}

static void
on_readable(struct ev_loop *loop, ev_io *w, int revents)
{
	struct waiting	*wt = (struct waiting *)w;

	(void)revents;
	if (decide(wt->a, w->fd)) {
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
	if (decide(wt->a, wt->io.fd)) {
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
	struct acceptq	*a = (struct acceptq *)((char *)w -
	    offsetof(struct acceptq, sweep));
	struct waiting	*wt, *next;
	int		 fd;

	(void)revents;
	for (wt = a->waiting; wt != NULL; wt = next) {
		next = wt->next;
		if (ev_now(loop) - wt->since < PEEK_WAIT)
			continue;
		fd = wt->io.fd;
		unwait(wt);
		client_adopt(a->t, fd);
	}
}
