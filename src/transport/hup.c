/*
 * The client's end of a request that waits for its answer: a long-poll
 * GET, here or relayed to its session's owner.  lws 4.1.6 reads nothing
 * of a connection while its request is unanswered (a pipelined request
 * waits in the socket), so a client that closes it then goes unnoticed
 * until the answer is written: for a long-poll, at the session's
 * heartbeat, 45 s on.  The reference server hears the close at once and
 * closes the session ("poll connection closed prematurely"), which a
 * reconnecting client can then recover.  So the waiting connections'
 * sockets are in an epoll set of their own that asks for the peer's
 * hangup only (EPOLLRDHUP: a pipelined request's bytes wake nothing and
 * stay for lws), read through one ev_io; a hangup has lws close the
 * connection, whose LWS_CALLBACK_CLOSED_HTTP tells polling.c (a session
 * served here closes; a relayed GET's owner hears a cancel).  The set
 * holds at most one socket per connection (max_connections).  One loop a
 * process, as session.c's reaper: the set is static, made on first use
 * (in the worker, after the fork).
 */
#include <sys/epoll.h>

#include <errno.h>
#include <ev.h>
#include <libwebsockets.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "transport.h"

#define HUP_BATCH	64

static int		 hup_fd = -1;	/* the epoll set */
static ev_io		 hup_io;
static struct ev_loop	*hup_loop;

static int	hup_open(struct ev_loop *);
static void	on_hup(struct ev_loop *, ev_io *, int);

static int
hup_open(struct ev_loop *loop)
{
	if (hup_fd >= 0)
		return 0;
	if ((hup_fd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return -1;
	hup_loop = loop;
	ev_io_init(&hup_io, on_hup, hup_fd, EV_READ);
	ev_io_start(loop, &hup_io);
	return 0;
}

/*
 * Watch the connection of c's waiting request until hup_stop().  When it
 * cannot be (no memory, or the kernel's fs.epoll.max_user_watches), the
 * request waits unwatched, as before this file: counted, logged at the
 * 1st, 2nd, 4th... time.
 */
void
hup_watch(struct transport *t, struct lws *wsi, struct conn *c)
{
	struct epoll_event	ev;
	int			fd = lws_get_socket_fd(wsi);
	uint64_t		n;

	if (c->hup_fd != 0)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLRDHUP;
	ev.data.ptr = wsi;
	if (fd >= 0 && hup_open(t->loop) == 0 &&
	    epoll_ctl(hup_fd, EPOLL_CTL_ADD, fd, &ev) == 0) {
		c->hup_fd = fd + 1;
		return;
	}
	n = ++t->stats.polls_unwatched;
	if ((n & (n - 1)) == 0)
		log_warnx("polling: a waiting request's connection cannot be "
		    "watched (%s, %llu times): a client that closes it is "
		    "noticed at its session's heartbeat only", strerror(errno),
		    (unsigned long long)n);
}

/* c's request is answered, or its connection closes: no watch now. */
void
hup_stop(struct conn *c)
{
	struct epoll_event	ev;

	if (c->hup_fd == 0)
		return;
	memset(&ev, 0, sizeof(ev));
	epoll_ctl(hup_fd, EPOLL_CTL_DEL, c->hup_fd - 1, &ev);
	c->hup_fd = 0;
}

/*
 * Clients that hung up: lws closes their connections in its own service
 * (not from here, where a close could free what lws is using): their
 * WRITEABLE callback refuses (transport.c), which lws answers by closing.
 * A timeout (LWS_TO_KILL_ASYNC) would not do: lws 4.1.6 on a foreign
 * libev loop does not serve one set from outside its callbacks.
 */
static void
on_hup(struct ev_loop *loop, ev_io *w, int revents)
{
	struct epoll_event	 evs[HUP_BATCH];
	struct lws		*wsi;
	struct conn		*c;
	int			 n, i;

	(void)loop;
	(void)revents;
	do {
		n = epoll_wait(w->fd, evs, HUP_BATCH, 0);
		for (i = 0; i < n; i++) {
			wsi = evs[i].data.ptr;
			c = lws_wsi_user(wsi);
			hup_stop(c);
			c->hung_up = 1;
			lws_callback_on_writable(wsi);
		}
	} while (n == HUP_BATCH);
}

/* After lws_context_destroy(): its closes called hup_stop(). */
void
hup_free(void)
{
	if (hup_fd < 0)
		return;
	ev_io_stop(hup_loop, &hup_io);
	close(hup_fd);
	hup_fd = -1;
}
