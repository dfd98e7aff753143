/*
 * Cross-worker long-polling (see relay.h).  Each worker listens on a unix
 * stream socket in the instance's run_dir, named after its worker id, and
 * connects to a peer the first time it must relay to it.  Only the
 * gateway's own workers may be at either end (unixsock_sibling).  Messages are
 * a fixed header and a payload:
 *
 *	REQ	id, method, then the 20-byte sid and the POST body
 *	RESP	id, status, content type, then the body
 *	CANCEL	id: the client of a relayed request went away; a GET
 *		still waiting closes its session, as a local one does
 *
 * The owner treats a relayed GET like a local one (one per session; its
 * answer is built when data is queued) and keeps the packets queued until
 * the answer is written, so a cancelled poll loses nothing.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <ev.h>
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "eio.h"
#include "log.h"
#include "relay.h"
#include "session.h"
#include "sid.h"
#include "transport.h"
#include "unixsock.h"

#define MSG_REQ		1
#define MSG_RESP	2
#define MSG_CANCEL	3
#define MSG_MAX		(64u * 1024 * 1024)

static const char *const ctypes[] = { "text/plain; charset=UTF-8",
    "application/json", "text/html" };

struct hdr {
	uint32_t	len;		/* payload bytes after the header */
	uint32_t	id;
	uint8_t		type;
	uint8_t		method;
	uint16_t	status;
	uint8_t		ctype;
	uint8_t		pad[3];
};

struct relay_peer {
	struct relay	*r;
	ev_io		 io;
	int		 worker;	/* -1: a peer that connected to us */
	struct buf	 in, out;	/* read, and queued to write */
	struct relay_peer	*next;
};

struct pending {
	uint32_t	 id;
	int		 worker;	/* the peer it waits for */
	struct lws	*wsi;
	struct conn	*c;
	struct pending	*next;
};

struct relay {
	struct transport	*t;
	char			 dir[256];
	ev_io			 accept_io;
	ev_idle			 flush;
	struct relay_peer		*peers;
	struct pending		*pending;
	uint32_t		 next_id;
	struct session		**ready;
	size_t			 nready, capready;
};

static struct relay_peer *peer_add(struct relay *, int, int);
static void	 peer_close(struct relay_peer *, int);
static struct relay_peer *peer_to(struct relay *, int);
static int	 peer_send(struct relay_peer *, const struct hdr *, const void *,
		    size_t, const void *, size_t);
static void	 on_peer(struct ev_loop *, ev_io *, int);
static void	 on_accept(struct ev_loop *, ev_io *, int);
static void	 on_flush(struct ev_loop *, ev_idle *, int);
static void	 handle(struct relay_peer *, const struct hdr *, const uint8_t *);
static void	 handle_req(struct relay_peer *, const struct hdr *,
		    const uint8_t *);
static void	 handle_resp(struct relay *, const struct hdr *,
		    const uint8_t *);
static int	 ctype_index(const char *);
static void	 answer(struct relay_peer *, uint32_t, int, const char *,
		    const void *, size_t);
static void	 fail_pending(struct relay *, int);

struct relay *
relay_new(struct transport *t, const char *dir)
{
	struct relay		*r;
	struct sockaddr_un	 sun;
	socklen_t		 len;
	int			 fd;

	unixsock_trust_init();
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->t = t;
	if (strlen(dir) >= sizeof(r->dir) ||
	    (len = unixsock_addr(dir, "relay", t->wid, &sun)) == 0) {
		log_error("relay: run_dir %s is too long for a socket path",
		    dir);
		free(r);
		return NULL;
	}
	snprintf(r->dir, sizeof(r->dir), "%s", dir);
	/* A dead worker of the same id may have left it; run_dir is ours. */
	if ((fd = unixsock_bind(&sun, len, SOCK_STREAM)) == -1) {
		log_error("relay: cannot listen on %s: %s", sun.sun_path,
		    strerror(errno));
		free(r);
		return NULL;
	}
	ev_io_init(&r->accept_io, on_accept, fd, EV_READ);
	ev_io_start(t->loop, &r->accept_io);
	ev_idle_init(&r->flush, on_flush);
	return r;
}

void
relay_free(struct relay *r)
{
	struct pending		*p;
	struct sockaddr_un	 sun;

	if (r == NULL)
		return;
	if (unixsock_addr(r->dir, "relay", r->t->wid, &sun) != 0)
		unlink(sun.sun_path);
	while ((p = r->pending) != NULL) {
		r->pending = p->next;
		free(p);
	}
	while (r->peers != NULL)
		peer_close(r->peers, 0);
	ev_io_stop(r->t->loop, &r->accept_io);
	close(r->accept_io.fd);
	ev_idle_stop(r->t->loop, &r->flush);
	free(r->ready);
	free(r);
}

static struct relay_peer *
peer_add(struct relay *r, int fd, int worker)
{
	struct relay_peer	*p;

	if ((p = calloc(1, sizeof(*p))) == NULL) {
		close(fd);
		return NULL;
	}
	p->r = r;
	p->worker = worker;
	ev_io_init(&p->io, on_peer, fd, EV_READ);
	ev_io_start(r->t->loop, &p->io);
	p->next = r->peers;
	r->peers = p;
	return p;
}

/*
 * Requests relayed to worker w, which will not answer now: 503, and the
 * client retries (its session may be gone with the worker, then the
 * retry gets 400 and the client reconnects).
 */
static void
fail_pending(struct relay *r, int worker)
{
	struct pending	**pp, *p;

	for (pp = &r->pending; (p = *pp) != NULL;) {
		if (p->worker != worker) {
			pp = &p->next;
			continue;
		}
		*pp = p->next;
		p->c->relay_id = 0;
		http_reply(p->wsi, p->c, 503, "application/json", http_bad_request,
		    HTTP_BAD_REQUEST_LEN);
		free(p);
	}
}

/*
 * Drop a peer: relayed requests it was waiting for are answered 503 (the
 * client retries), and sessions it was polling for forget the poll.  When
 * the peer's connection broke (dropped: the worker that relayed exited,
 * and its clients' connections with it) those sessions close as a
 * dropped local GET's does; not at our own exit (relay_free).
 */
static void
peer_close(struct relay_peer *p, int dropped)
{
	struct relay	 *r = p->r;
	struct relay_peer	**pp;
	struct session	 *s, *sn;

	for (pp = &r->peers; *pp != NULL; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	for (s = r->t->all; s != NULL; s = sn) {
		session_pin(s);
		if (s->rpeer == p) {
			s->rpeer = NULL;
			if (dropped)
				polling_dropped(s);
		}
		sn = s->next;
		session_unpin(s);
	}
	if (p->worker >= 0)
		fail_pending(r, p->worker);
	ev_io_stop(r->t->loop, &p->io);
	close(p->io.fd);
	buf_free(&p->in);
	buf_free(&p->out);
	free(p);
}

/* The connection to worker w, made now if there is none. */
static struct relay_peer *
peer_to(struct relay *r, int worker)
{
	struct sockaddr_un	 sun;
	struct relay_peer		*p;
	struct ucred		 uc;
	socklen_t		 len;
	int			 fd;

	for (p = r->peers; p != NULL; p = p->next)
		if (p->worker == worker)
			return p;
	if ((len = unixsock_addr(r->dir, "relay", worker, &sun)) == 0)
		return NULL;
	if ((fd = unixsock_connect(&sun, len)) == -1) {
		log_debug("relay: worker %d: %s", worker, strerror(errno));
		return NULL;
	}
	/* Whoever listens there gets clients' requests: a worker only. */
	if (unixsock_peercred(fd, &uc) != 0 ||
	    !unixsock_sibling(uc.pid, uc.uid)) {
		r->t->stats.peers_refused++;
		unixsock_refused("relay", uc.pid, uc.uid, ev_now(r->t->loop));
		close(fd);
		return NULL;
	}
	return peer_add(r, fd, worker);
}

/* Queue one message; it leaves when the socket takes it. */
static int
peer_send(struct relay_peer *p, const struct hdr *h, const void *a, size_t alen,
    const void *b, size_t blen)
{
	if (buf_reserve(&p->out, sizeof(*h) + alen + blen, BUF_NOMAX) != 0)
		return -1;
	/* Room is reserved for all three: no append can fail. */
	buf_append(&p->out, h, sizeof(*h));
	buf_append(&p->out, a, alen);
	buf_append(&p->out, b, blen);
	if (!(p->io.events & EV_WRITE)) {
		ev_io_stop(p->r->t->loop, &p->io);
		ev_io_set(&p->io, p->io.fd, EV_READ | EV_WRITE);
		ev_io_start(p->r->t->loop, &p->io);
	}
	return 0;
}

static void
on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	struct relay	*r = (struct relay *)((char *)w -
	    offsetof(struct relay, accept_io));
	struct ucred	 uc;
	int		 fd;

	(void)loop;
	(void)revents;
	while ((fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) != -1) {
		/* Not a byte is read from anyone but a sibling worker. */
		if (unixsock_peercred(fd, &uc) != 0 ||
		    !unixsock_sibling(uc.pid, uc.uid)) {
			r->t->stats.peers_refused++;
			unixsock_refused("relay", uc.pid, uc.uid,
			    ev_now(r->t->loop));
			close(fd);
			continue;
		}
		peer_add(r, fd, -1);
	}
}

/* Read whole messages, write what is queued. */
static void
on_peer(struct ev_loop *loop, ev_io *w, int revents)
{
	struct relay_peer	*p = (struct relay_peer *)((char *)w - offsetof(struct relay_peer,
	    io));
	struct hdr	 h;
	ssize_t		 n;
	size_t		 off = 0;

	if (revents & EV_WRITE) {
		n = write(w->fd, p->out.p, p->out.len);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			peer_close(p, 1);
			return;
		}
		if (n > 0)
			buf_consume(&p->out, (size_t)n);
		if (p->out.len == 0) {
			ev_io_stop(loop, w);
			ev_io_set(w, w->fd, EV_READ);
			ev_io_start(loop, w);
		}
	}
	if (!(revents & EV_READ))
		return;
	if (buf_reserve(&p->in, 65536, BUF_NOMAX) != 0) {
		peer_close(p, 1);
		return;
	}
	n = read(w->fd, p->in.p + p->in.len, p->in.cap - p->in.len);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		peer_close(p, 1);
		return;
	}
	if (n < 0)
		return;
	p->in.len += (size_t)n;
	while (p->in.len - off >= sizeof(h)) {
		memcpy(&h, p->in.p + off, sizeof(h));
		if (h.len > MSG_MAX) {
			log_error("relay: message of %u bytes; dropping peer",
			    h.len);
			peer_close(p, 1);
			return;
		}
		if (p->in.len - off < sizeof(h) + h.len)
			break;
		handle(p, &h, p->in.p + off + sizeof(h));
		off += sizeof(h) + h.len;
	}
	buf_consume(&p->in, off);
}

static void
handle(struct relay_peer *p, const struct hdr *h, const uint8_t *body)
{
	struct session	*s;

	switch (h->type) {
	case MSG_REQ:
		handle_req(p, h, body);
		break;
	case MSG_RESP:
		handle_resp(p->r, h, body);
		break;
	case MSG_CANCEL:
		/* Its connection closed: as for a local GET (polling.c). */
		for (s = p->r->t->all; s != NULL; s = s->next)
			if (s->rpeer == p && s->rpoll_id == h->id) {
				session_pin(s);
				s->rpeer = NULL;
				polling_dropped(s);
				session_unpin(s);
				break;
			}
		break;
	default:
		log_debug("relay: message of unknown type %u", h->type);
		break;
	}
}

/* An answer to the peer's request id. */
static void
answer(struct relay_peer *p, uint32_t id, int status, const char *ctype,
    const void *body, size_t len)
{
	struct hdr	r;

	memset(&r, 0, sizeof(r));
	r.type = MSG_RESP;
	r.id = id;
	r.status = (uint16_t)status;
	r.ctype = (uint8_t)ctype_index(ctype);
	r.len = (uint32_t)len;
	peer_send(p, &r, body, len, NULL, 0);
}

/* A request another worker received for one of our sessions. */
static void
handle_req(struct relay_peer *p, const struct hdr *h, const uint8_t *body)
{
	struct transport	*t = p->r->t;
	struct session		*s;
	int			 status;
	const char		*ctype;
	uint8_t			 out[128];
	size_t			 outlen;

	/* A malformed request is answered too: its client waits. */
	if (h->len < SID_LEN ||
	    (h->method != RELAY_GET && h->method != RELAY_POST)) {
		log_debug("relay: malformed request from a peer");
		answer(p, h->id, 400, ctypes[1], http_bad_request,
		    HTTP_BAD_REQUEST_LEN);
		return;
	}
	s = session_find(t, (const char *)body, SID_LEN);
	status = polling_relayed(t, s, h->method, body + SID_LEN,
	    h->len - SID_LEN, out, sizeof(out), &outlen, &ctype);
	if (status == 0) {
		/* A GET that waits: answered by relay_answer(). */
		s->rpeer = p;
		s->rpoll_id = h->id;
		if (s->q.n > 0 || s->poll_noop || s->state == SESSION_CLOSED)
			relay_schedule(s);
		return;
	}
	answer(p, h->id, status, ctype, out, outlen);
}

static int
ctype_index(const char *ctype)
{
	int	i;

	for (i = 0; i < 3; i++)
		if (strcmp(ctypes[i], ctype) == 0)
			return i;
	return 0;
}

/* The owner answered: write it to the client that is waiting. */
static void
handle_resp(struct relay *r, const struct hdr *h, const uint8_t *body)
{
	struct pending	**pp, *p;

	for (pp = &r->pending; (p = *pp) != NULL; pp = &p->next)
		if (p->id == h->id)
			break;
	if (p == NULL)
		return;
	*pp = p->next;
	p->c->relay_id = 0;
	http_reply(p->wsi, p->c, h->status, ctypes[h->ctype < 3 ? h->ctype :
	    0], body, h->len);
	free(p);
}

/*
 * Send a client's request to the worker that owns its session.  The
 * connection then waits for the answer like a local long-poll.
 */
int
relay_forward(struct relay *r, struct lws *wsi, struct conn *c, int worker,
    int method, const char *sid, const void *body, size_t len)
{
	struct pending	*p;
	struct relay_peer	*peer;
	struct hdr	 h;

	if (r == NULL || (peer = peer_to(r, worker)) == NULL)
		return -1;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return -1;
	if (++r->next_id == 0)
		r->next_id = 1;
	p->id = r->next_id;
	p->worker = worker;
	p->wsi = wsi;
	p->c = c;
	memset(&h, 0, sizeof(h));
	h.type = MSG_REQ;
	h.id = p->id;
	h.method = (uint8_t)method;
	h.len = (uint32_t)(SID_LEN + len);
	if (peer_send(peer, &h, sid, SID_LEN, body, len) != 0) {
		free(p);
		return -1;
	}
	p->next = r->pending;
	r->pending = p;
	c->relay_id = p->id;
	r->t->stats.relayed++;
	return 0;
}

/* The client of a relayed request closed its connection. */
void
relay_cancel(struct relay *r, struct conn *c)
{
	struct pending	**pp, *p;
	struct relay_peer	 *peer;
	struct hdr	  h;

	if (r == NULL || c->relay_id == 0)
		return;
	for (pp = &r->pending; (p = *pp) != NULL; pp = &p->next)
		if (p->id == c->relay_id)
			break;
	c->relay_id = 0;
	if (p == NULL)
		return;
	*pp = p->next;
	memset(&h, 0, sizeof(h));
	h.type = MSG_CANCEL;
	h.id = p->id;
	for (peer = r->peers; peer != NULL; peer = peer->next)
		peer_send(peer, &h, NULL, 0, NULL, 0);
	free(p);
}

/* A session with a relayed poll has something to say: answer soon. */
void
relay_schedule(struct session *s)
{
	struct relay	 *r = s->t->relay;
	struct session	**nv;
	size_t		  i;

	for (i = 0; i < r->nready; i++)
		if (r->ready[i] == s)
			return;
	if (r->nready == r->capready) {
		nv = realloc(r->ready, (r->capready + 16) * sizeof(*nv));
		if (nv == NULL)
			return;
		r->ready = nv;
		r->capready += 16;
	}
	session_pin(s);
	r->ready[r->nready++] = s;
	ev_idle_start(s->t->loop, &r->flush);
}

/* After this loop iteration's work: answer every relayed poll that can. */
static void
on_flush(struct ev_loop *loop, ev_idle *w, int revents)
{
	struct relay	*r = (struct relay *)((char *)w - offsetof(struct relay,
	    flush));
	struct session	*s;
	struct hdr	 h;
	uint8_t		*body;
	size_t		 i, len;

	(void)revents;
	ev_idle_stop(loop, w);
	for (i = 0; i < r->nready; i++) {
		s = r->ready[i];
		if (s->rpeer != NULL &&
		    (body = polling_take(s, &len)) != NULL) {
			memset(&h, 0, sizeof(h));
			h.type = MSG_RESP;
			h.id = s->rpoll_id;
			h.status = 200;
			h.len = (uint32_t)len;
			peer_send(s->rpeer, &h, body, len, NULL, 0);
			free(body);
			s->rpeer = NULL;
			session_detach_poll(s);
		}
		session_unpin(s);
	}
	r->nready = 0;
}
