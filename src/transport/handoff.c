/*
 * Connection hand-off (see handoff.h).  Each worker binds a unix datagram
 * socket in run_dir; a datagram carrying one fd is atomic, so there is no
 * framing to get wrong (fdpass.h).  Every datagram comes with its sender's
 * credentials (SO_PASSCRED): a descriptor from anyone but a sibling worker
 * is closed unread, since it would be served as a client, or, for kind
 * 'P', as a TLS connection already decrypted (issue 11.16).
 *
 * The owner's socket takes only net.unix.max_dgram_qlen datagrams (10 by
 * default) that it has not read yet, and a busy owner (a burst of
 * connections, a loaded machine) falls behind: sendmsg then says EAGAIN.
 * Serving such a connection here instead is right for long-polling (the
 * relay reaches the owner) but fails a WebSocket upgrade, which only its
 * owner can take, and the client stays on polling for good.  So a socket
 * the owner cannot take yet waits here, still counted as ours, and is
 * sent again on a timer backing off from RETRY_MIN to RETRY_MAX; only an
 * owner that takes nothing for HANDOFF_WAIT, or refuses outright (gone),
 * leaves the connection to be served here (handoff_failures).
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
#include "transport.h"
#include "unixsock.h"

#define RETRY_MIN	0.002	/* s: the owner reads its socket soon */
#define RETRY_MAX	0.1	/* s: ... or is busy for a while */
#define HANDOFF_WAIT	5.0	/* s: then the owner is hung: serve it here */

/* A socket whose owner's hand-off socket was full. */
struct later {
	int		 fd;
	int		 wid;
	char		 kind;
	ev_tstamp	 since;
	struct later	*next;
};

struct handoff {
	struct transport	*t;
	char			 dir[256];
	ev_io			 in;
	ev_timer		 retry;		/* while later is not empty */
	double			 delay;		/* the retry's, backing off */
	struct later		*later, **tail;	/* oldest first */
};

static int	 send_fd(struct handoff *, int, int, char);
static void	 serve_here(struct handoff *, int, char);
static void	 on_retry(struct ev_loop *, ev_timer *, int);
static void	 on_receive(struct ev_loop *, ev_io *, int);

/* The hand-off socket of worker t->wid in run_dir dir. */
struct handoff *
handoff_new(struct transport *t, const char *dir)
{
	struct handoff		*h;
	struct sockaddr_un	 sun;
	socklen_t		 len = 0;
	int			 fd;

	unixsock_trust_init();
	if (strlen(dir) >= sizeof(h->dir) ||
	    (len = unixsock_addr(dir, "handoff", t->wid, &sun)) == 0) {
		log_error("handoff: run_dir %s is too long for a socket path",
		    dir);
		return NULL;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->t = t;
	snprintf(h->dir, sizeof(h->dir), "%s", dir);
	/* A dead worker's is removed first; run_dir is ours. */
	if ((fd = unixsock_bind(&sun, len, SOCK_DGRAM)) == -1) {
		log_error("handoff: cannot bind %s: %s", sun.sun_path,
		    strerror(errno));
		free(h);
		return NULL;
	}
	ev_io_init(&h->in, on_receive, fd, EV_READ);
	ev_io_start(t->loop, &h->in);
	ev_timer_init(&h->retry, on_retry, RETRY_MIN, 0);
	h->tail = &h->later;
	return h;
}

void
handoff_free(struct handoff *h)
{
	struct sockaddr_un	 sun;
	struct later		*l;

	if (h == NULL)
		return;
	while ((l = h->later) != NULL) {
		h->later = l->next;
		client_untrack(h->t, l->fd);
		close(l->fd);
		free(l);
	}
	ev_timer_stop(h->t->loop, &h->retry);
	if (unixsock_addr(h->dir, "handoff", h->t->wid, &sun) != 0)
		unlink(sun.sun_path);
	ev_io_stop(h->t->loop, &h->in);
	close(h->in.fd);
	free(h);
}

/*
 * Send the socket to worker wid and close it here: 0 when it went; 1
 * when the owner cannot take it yet (EAGAIN: its socket is full), -1 on
 * any other error.
 */
static int
send_fd(struct handoff *h, int fd, int wid, char kind)
{
	struct sockaddr_un	sun;
	socklen_t		len;

	if ((len = unixsock_addr(h->dir, "handoff", wid, &sun)) == 0)
		return -1;
	if (fdpass_send(h->in.fd, &sun, len, kind, fd) != 0) {
		log_debug("handoff to worker %d: %s", wid, strerror(errno));
		return errno == EAGAIN || errno == EWOULDBLOCK ? 1 : -1;
	}
	client_untrack(h->t, fd);	/* the owner counts it now */
	close(fd);
	h->t->stats.handed_off++;
	return 0;
}

/* The owner could not take it after all: served as if it had stayed. */
static void
serve_here(struct handoff *h, int fd, char kind)
{
	h->t->stats.handoff_failures++;
	if (kind == 'P')
		client_adopt_plain(h->t, fd);
	else
		client_adopt(h->t, fd);
}

/*
 * Pass the socket to worker wid; 0 when it went or will go (see the top:
 * it may wait here for the owner), and the caller no longer has it.
 * kind 'F': a client's socket, unread; 'P': the plain end of a TLS front
 * (tlsfront.h).  Without a hand-off (h NULL: no siblings) nothing goes.
 * The wait is bounded by HANDOFF_WAIT, and the number waiting by the
 * worker's share of max_connections, whose count they stay in.
 */
int
handoff_pass(struct handoff *h, int fd, int wid, char kind)
{
	struct later	*l;
	int		 rc;

	if (h == NULL)
		return -1;
	/* Behind those already waiting for the same owner: in order. */
	for (l = h->later; l != NULL; l = l->next)
		if (l->wid == wid)
			break;
	if (l == NULL && (rc = send_fd(h, fd, wid, kind)) <= 0) {
		if (rc < 0)
			h->t->stats.handoff_failures++;
		return rc;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		h->t->stats.handoff_failures++;
		return -1;
	}
	l->fd = fd;
	l->wid = wid;
	l->kind = kind;
	l->since = ev_now(h->t->loop);
	*h->tail = l;
	h->tail = &l->next;
	h->t->stats.handoff_waits++;
	if (!ev_is_active(&h->retry)) {
		h->delay = RETRY_MIN;
		ev_timer_set(&h->retry, h->delay, 0);
		ev_timer_start(h->t->loop, &h->retry);
	}
	return 0;
}

/* Sockets waiting here for their owner: not yet served anywhere. */
int
handoff_waiting(const struct handoff *h)
{
	return h != NULL && h->later != NULL;
}

/* Send what waits again, oldest first. */
static void
on_retry(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct handoff	*h = (struct handoff *)((char *)w -
	    offsetof(struct handoff, retry));
	struct later	**pp, *l;
	int		  rc;

	(void)revents;
	for (pp = &h->later; (l = *pp) != NULL;) {
		if ((rc = send_fd(h, l->fd, l->wid, l->kind)) == 1 &&
		    ev_now(loop) - l->since < HANDOFF_WAIT) {
			pp = &l->next;
			continue;
		}
		if (rc != 0) {
			log_warn("handoff to worker %d: %s; served here",
			    l->wid, rc == 1 ? "its socket stayed full" :
			    "failed");
			serve_here(h, l->fd, l->kind);
		}
		*pp = l->next;
		free(l);
	}
	h->tail = pp;
	if (h->later == NULL) {
		h->t->up->gone(h->t);	/* a drain may have waited for them */
		return;
	}
	if ((h->delay *= 2) > RETRY_MAX)
		h->delay = RETRY_MAX;
	ev_timer_set(w, h->delay, 0);
	ev_timer_start(loop, w);
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
