/*
 * Connection hand-off (see handoff.h).  Each worker binds a unix datagram
 * socket in run_dir; a datagram carrying one fd is atomic, so there is no
 * framing to get wrong (fdpass.h).  Every datagram comes with its sender's
 * credentials (SO_PASSCRED): a descriptor from anyone but a sibling worker
 * is closed unread, since it would be served as a client, or, for kind
 * 'P', as a TLS connection already decrypted (issue 11.16).
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

struct handoff {
	struct transport	*t;
	char			 dir[256];
	ev_io			 in;
};

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
	return h;
}

void
handoff_free(struct handoff *h)
{
	struct sockaddr_un	sun;

	if (h == NULL)
		return;
	if (unixsock_addr(h->dir, "handoff", h->t->wid, &sun) != 0)
		unlink(sun.sun_path);
	ev_io_stop(h->t->loop, &h->in);
	close(h->in.fd);
	free(h);
}

/*
 * Send the socket to worker wid and close it here; 0 when it went.  kind
 * 'F': a client's socket, unread; 'P': the plain end of a TLS front
 * (tlsfront.h).  Without a hand-off (h NULL: no siblings) nothing goes.
 */
int
handoff_pass(struct handoff *h, int fd, int wid, char kind)
{
	struct sockaddr_un	sun;
	socklen_t		len;

	if (h == NULL)
		return -1;
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
