/*
 * doorbell: a unix datagram socket per worker, <dir>/bell-<wid>, that
 * peers ring with one byte (doorbell.h).
 *
 * Why not the bus.  With the host's recovery log every frame to a room
 * goes through shared memory, and the bus only wakes the other workers
 * (GW_BUS_LOGWAKE).  Through nng 1.5.2 a wake is the sender's
 * nng_sendmsg (an aio, a futex hand-over to nng's ipc thread, its
 * write), then on the peer nng's reader thread, the pollfd it signals,
 * nng_recvmsg, and the bus's header and sequence checks: measured on 2
 * workers with direct messages at 300/s under callgrind, about 20,000
 * instructions per wake and, under strace, 4 futex calls, a getrandom and
 * 3 more reads and writes per message.  A bell is one sendto() on the
 * sender, and one recv() in the peer's own loop: no thread.
 *
 * A ring that finds no bell (a peer that has not bound it yet, or could
 * not) is counted and says so to the caller, which then wakes that way
 * too by the bus.  A full bell (EAGAIN: the peer has not read its rings)
 * is a ring heard already.  Anyone on the host who may write to the run
 * directory can ring: a ring only makes a worker read the log's head.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "doorbell.h"

#define DRAIN_MAX	64	/* rings read per wake of the loop */

struct doorbell {
	struct ev_loop		*loop;
	ev_io			 io;
	int			 fd;
	int			 wid;
	char			 dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct sockaddr_un	 self;
	doorbell_fn		*fn;
	void			*arg;
	struct sockaddr_un	*peers;
	size_t			 npeers;
	struct doorbell_stats	 st;
};

static int	 bell_path(const char *, int, struct sockaddr_un *);
static void	 io_cb(struct ev_loop *, ev_io *, int);

/* <dir>/bell-<wid> into a; -1 when it does not fit. */
static int
bell_path(const char *dir, int wid, struct sockaddr_un *a)
{
	int	n;

	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	n = snprintf(a->sun_path, sizeof(a->sun_path), "%s/bell-%d", dir,
	    wid);
	return (n < 0 || (size_t)n >= sizeof(a->sun_path)) ? -1 : 0;
}

/*
 * Bind <dir>/bell-<wid> (a stale one, left by a dead worker of this id,
 * is removed first) and watch it on loop; fn(arg) at each wake.
 */
struct doorbell *
doorbell_new(struct ev_loop *loop, const char *dir, int wid, doorbell_fn *fn,
    void *arg)
{
	struct doorbell	*d;

	if (wid < 0 || (d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	if (strlen(dir) >= sizeof(d->dir) ||
	    bell_path(dir, wid, &d->self) != 0 ||
	    (d->peers = calloc(DOORBELL_PEERS_MAX, sizeof(*d->peers))) ==
	    NULL) {
		free(d);
		return NULL;
	}
	memcpy(d->dir, dir, strlen(dir) + 1);
	d->loop = loop;
	d->wid = wid;
	d->fn = fn;
	d->arg = arg;
	d->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	(void)unlink(d->self.sun_path);
	if (d->fd < 0 || bind(d->fd, (struct sockaddr *)&d->self,
	    sizeof(d->self)) != 0) {
		if (d->fd >= 0)
			close(d->fd);
		free(d->peers);
		free(d);
		return NULL;
	}
	ev_io_init(&d->io, io_cb, d->fd, EV_READ);
	d->io.data = d;
	ev_io_start(loop, &d->io);
	ev_unref(loop);		/* it only listens: not a reason to run */
	return d;
}

void
doorbell_free(struct doorbell *d)
{
	if (d == NULL)
		return;
	ev_ref(d->loop);
	ev_io_stop(d->loop, &d->io);
	close(d->fd);
	(void)unlink(d->self.sun_path);
	free(d->peers);
	free(d);
}

/* The workers to ring: wids, ours left out; -1 past DOORBELL_PEERS_MAX. */
int
doorbell_set_peers(struct doorbell *d, const int *wids, size_t n)
{
	size_t	i;

	d->npeers = 0;
	for (i = 0; i < n; i++) {
		if (wids[i] == d->wid || wids[i] < 0)
			continue;
		if (d->npeers == DOORBELL_PEERS_MAX)
			return -1;
		if (bell_path(d->dir, wids[i], &d->peers[d->npeers]) == 0)
			d->npeers++;
	}
	return 0;
}

/* Ring every peer; returns how many had no bell to ring. */
size_t
doorbell_ring(struct doorbell *d)
{
	size_t	i, missed = 0;

	for (i = 0; i < d->npeers; i++) {
		if (sendto(d->fd, "w", 1, MSG_DONTWAIT | MSG_NOSIGNAL,
		    (struct sockaddr *)&d->peers[i],
		    sizeof(d->peers[i])) == 1 || errno == EAGAIN ||
		    errno == EWOULDBLOCK)
			d->st.rung++;
		else {
			d->st.missed++;
			missed++;
		}
	}
	return missed;
}

/* The peers a ring goes to. */
size_t
doorbell_npeers(const struct doorbell *d)
{
	return d->npeers;
}

void
doorbell_stats(const struct doorbell *d, struct doorbell_stats *st)
{
	*st = d->st;
}

/* Rung: read what came (bounded), then one call, however many rang. */
static void
io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct doorbell	*d = w->data;
	char		 buf[16];
	int		 i;

	(void)loop;
	(void)revents;
	for (i = 0; i < DRAIN_MAX; i++)
		if (recv(d->fd, buf, sizeof(buf), MSG_DONTWAIT) < 0)
			break;
	if (i == 0)
		return;
	d->st.heard++;
	d->fn(d->arg);
}
