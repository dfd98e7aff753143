/*
 * The bus between the workers of one gateway (see bus.h).
 *
 * Why not nng bus0.  bus0 gives each peer a 16-message queue and drops,
 * silently, what does not fit; its socket queue is unbuffered, so a
 * NONBLOCK send right after another fails with EAGAIN unless SENDBUF is
 * set.  Measured (4 processes on 2 cores, ipc, 16-byte records, each
 * process sending to the 3 others, share of records lost):
 *
 *	records per iteration, total	bus0	bus0+SENDBUF	this mesh
 *	1 per message, 20,000		99.5%	99.5%		-
 *	2,000, 20,000 (10 msgs)		23-37%	0%		0%
 *	1, 20,000 (20,000 msgs)		-	88-98%		0%
 *	10, 200,000			-	98-99%		0%
 *	100, 200,000			-	95-97%		0%
 *	2,000, 1,000,000		-	5-19%		0%
 *
 * Coalescing a loop iteration into one message makes a burst cheap, but
 * nothing pushes back on a bus0 sender that stays busy for many iterations.
 * A mesh of pair1 sockets (per-pair addresses) was as lossless and as fast.
 *
 * So each worker listens with one pull socket on <dir>/bus-<wid>.ipc and
 * has one push socket per peer, dialing the peer's address: one connection
 * per direction (the "dial only lower ids" rule was for bus0).  Sends are
 * NONBLOCK; what nng does not take waits in a per-peer backlog, retried
 * when the socket's SENDFD turns readable.  An iteration's records join the
 * backlog's last message when it has room, so a slow peer gets fewer,
 * larger messages.  A backlog is bounded (BUS_BACKLOG_MAX): past it batches
 * are dropped and counted, and the receiver counts the sequence gap.
 *
 * The batch is flushed by an ev_prepare at EV_MINPRI: prepares run once
 * per iteration, after every callback of the previous one and before the
 * loop blocks; the lowest priority runs after the other prepares.  ev_check
 * runs before the I/O callbacks (too early); ev_idle never runs while the
 * loop is busy (unbounded delay).
 *
 * Pipe events come from nng threads: pipe_cb() queues them under a mutex
 * and wakes the loop with an ev_async.  An outgoing pipe is the peer's by
 * its socket (one push socket per peer).  An incoming pipe is learnt from
 * its first message (nng_msg_get_pipe), which comes at once: a link that
 * comes up with nothing queued sends an empty message.
 *
 * nng 1.5.2 needs workarounds: a watchdog that restarts a dead listener
 * (nng#1518), a graveyard that closes a push socket only once it has
 * settled, and never closing a live incoming pipe (the ipc twin of
 * nng#1636), for which a peer that joins the set after its records were
 * ignored is asked, by a flag in our first message to it, to send again
 * what a new peer gets.  bus_nng15.c has them and says why; the places
 * here that call them are marked "nng 1.5.2".
 *
 * The wire format and its checks are bus_wire.c.
 */
#include <sys/queue.h>
#include <sys/random.h>

#include <errno.h>
#include <ev.h>
#include <nng/nng.h>
#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/pipeline0/push.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "bus.h"
#include "bus_nng15.h"
#include "bus_wire.h"
#include "log.h"

#define RECV_BUDGET	256		/* messages per readable event */
#define EVQ_LEN		256		/* pipe events between two wakeups */
#define RECONN_MIN	100		/* ms, doubling up to RECONN_MAX */
#define RECONN_MAX	1000
#define BATCH_KEEP	(64u * 1024)	/* keep a batch buffer this big */

struct qmsg {
	nng_msg			*m;
	TAILQ_ENTRY(qmsg)	 entry;
};
TAILQ_HEAD(qmsgs, qmsg);

struct peer {
	struct bus	*bus;
	int		 wid;
	nng_socket	 sock;		/* push, dialing the peer */
	ev_io		 wio;		/* SENDFD, while the backlog waits */
	struct qmsgs	 backlog;
	size_t		 backlog_len;
	uint32_t	 chan;
	uint32_t	 seq;
	uint32_t	 pipe;		/* outgoing pipe while up, else 0 */
	int		 resync;	/* flag our next message */
	ev_tstamp	 up_at;
	int		 sealed;	/* a batch was dropped after the tail */
	int		 full;		/* dropping: warned once */
};

struct sender {				/* what comes from one wid */
	uint32_t	chan;
	uint32_t	seq;		/* last one seen, 0: none yet */
	uint32_t	pipe;		/* incoming pipe, 0: none */
};

struct pipe_ev {
	int		sock;
	uint32_t	pipe;
	int		up;
};

struct bus {
	struct ev_loop		*loop;
	struct bus_ops		 ops;
	void			*arg;
	int			 wid;
	char			 dir[232];
	char			 path[256];
	nng_socket		 pull;
	nng_listener		 listener;
	ev_io			 rio;
	ev_prepare		 prep;
	ev_async		 async;
	ev_timer		 watchdog;	/* nng 1.5.2 */
	struct bus_nng15	 nng15;
	struct peer		**peers;
	size_t			 npeers;
	uint8_t			 member[(BUS_WID_MAX + 1) / 8];
	struct sender		 senders[BUS_WID_MAX + 1];
	struct buf		 batch;		/* records, no header */
	uint32_t		 batchn;
	uint32_t		 chan_next;
	pthread_mutex_t		 evmtx;
	struct pipe_ev		 evq[EVQ_LEN];
	size_t			 nev;
	int			 evlost;
	struct bus_stats	 st;
};

static int	is_member(const struct bus *, int);
static void	set_member(uint8_t *, int, int);
static int	relisten(struct bus *);
static struct peer *peer_open(struct bus *, int);
static void	peer_close(struct bus *, struct peer *);
static void	peer_discard(struct bus *, struct peer *);
static void	peer_enqueue(struct bus *, struct peer *);
static void	peer_kick(struct bus *, struct peer *);
static void	peer_gone(struct bus *, int);
static void	link_event(struct bus *, const struct pipe_ev *);
static void	flush_batch(struct bus *);
static void	pipe_cb(nng_pipe, nng_pipe_ev, void *);
static void	async_cb(struct ev_loop *, ev_async *, int);
static void	prep_cb(struct ev_loop *, ev_prepare *, int);
static void	wio_cb(struct ev_loop *, ev_io *, int);
static void	rio_cb(struct ev_loop *, ev_io *, int);
static void	watchdog_cb(struct ev_loop *, ev_timer *, int);
static int	msg_check(struct bus *, const uint8_t *, size_t, uint32_t,
		    struct bus_wire_hdr *);
static void	msg_deliver(struct bus *, const uint8_t *,
		    const struct bus_wire_hdr *);

static int
is_member(const struct bus *b, int wid)
{
	return (b->member[wid / 8] >> (wid % 8)) & 1;
}

static void
set_member(uint8_t *set, int wid, int on)
{
	if (on)
		set[wid / 8] |= 1 << (wid % 8);
	else
		set[wid / 8] &= ~(1 << (wid % 8));
}

/*
 * Listen on <dir>/bus-<wid>.ipc.  A stale file left by a dead worker of
 * the same id does not get in the way (nng removes it); a live one does.
 */
struct bus *
bus_new(struct ev_loop *loop, const char *dir, int wid,
    const struct bus_ops *ops, void *arg)
{
	struct bus	*b;
	int		 fd;

	if (wid < 0 || wid > BUS_WID_MAX || strlen(dir) >= sizeof(b->dir) ||
	    (b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	b->loop = loop;
	b->ops = *ops;
	b->arg = arg;
	b->wid = wid;
	memcpy(b->dir, dir, strlen(dir) + 1);
	snprintf(b->path, sizeof(b->path), "%s/bus-%d.ipc", dir, wid);
	bus_nng15_init(&b->nng15, loop, b->path, wid);
	if (getrandom(&b->chan_next, sizeof(b->chan_next), 0) !=
	    sizeof(b->chan_next))
		b->chan_next = (uint32_t)getpid() << 12 ^ (uint32_t)ev_time();
	pthread_mutex_init(&b->evmtx, NULL);
	/* Before any nng socket: pipe callbacks wake it. */
	ev_async_init(&b->async, async_cb);
	b->async.data = b;
	ev_async_start(loop, &b->async);
	ev_unref(loop);		/* it only watches: not a reason to run */
	if (nng_pull0_open(&b->pull) != 0 ||
	    nng_socket_set_size(b->pull, NNG_OPT_RECVMAXSZ,
	    2 * BUS_MSG_MAX) != 0 ||
	    nng_pipe_notify(b->pull, NNG_PIPE_EV_REM_POST, pipe_cb, b) != 0 ||
	    nng_socket_get_int(b->pull, NNG_OPT_RECVFD, &fd) != 0 ||
	    relisten(b) != 0) {
		nng_close(b->pull);
		ev_ref(loop);
		ev_async_stop(loop, &b->async);
		pthread_mutex_destroy(&b->evmtx);
		free(b);
		return NULL;
	}
	ev_io_init(&b->rio, rio_cb, fd, EV_READ);
	b->rio.data = b;
	ev_io_start(loop, &b->rio);
	ev_prepare_init(&b->prep, prep_cb);
	ev_set_priority(&b->prep, EV_MINPRI);
	b->prep.data = b;
	ev_prepare_start(loop, &b->prep);
	ev_unref(loop);
	ev_timer_init(&b->watchdog, watchdog_cb, 1., 1.);
	b->watchdog.data = b;
	ev_timer_start(loop, &b->watchdog);
	ev_unref(loop);
	return b;
}

/*
 * Close everything without calling back.  nng_close() returns only once
 * the socket's pipe callbacks are done, so nothing can touch the event
 * queue afterwards.  What nng was still writing is lost: a draining
 * worker waits for bus_stats().backlog to reach 0 first.
 */
void
bus_free(struct bus *b)
{
	size_t	i;

	if (b == NULL)
		return;
	for (i = 0; i < b->npeers; i++)
		peer_close(b, b->peers[i]);
	free(b->peers);
	bus_nng15_graves_close(&b->nng15, 1);
	ev_io_stop(b->loop, &b->rio);
	nng_close(b->pull);
	ev_ref(b->loop);
	ev_prepare_stop(b->loop, &b->prep);
	ev_ref(b->loop);
	ev_async_stop(b->loop, &b->async);
	ev_ref(b->loop);
	ev_timer_stop(b->loop, &b->watchdog);
	bus_nng15_free(&b->nng15);
	if (unlink(b->path) == -1 && errno != ENOENT)
		log_warn("bus: unlink %s", b->path);
	pthread_mutex_destroy(&b->evmtx);
	buf_free(&b->batch);
	free(b);
}

/* (Re)start the listener; closing it also closes the incoming pipes. */
static int
relisten(struct bus *b)
{
	char	url[300];
	int	rv;

	if (nng_listener_id(b->listener) > 0)
		nng_listener_close(b->listener);
	snprintf(url, sizeof(url), "ipc://%s", b->path);
	if ((rv = nng_listen(b->pull, url, &b->listener, 0)) != 0) {
		log_warnx("bus: listen on %s: %s", url, nng_strerror(rv));
		return -1;
	}
	return 0;
}

/*
 * The master's list of live workers.  A peer that left is closed, and
 * peer_down is called (once the new set is in place) if it had a link to
 * us.  A peer that joins is dialed; if it already had a link to us, whose
 * records we ignored, our first message asks it to send again what it
 * sends on peer_up (see the top).  Our own wid is ignored.
 */
int
bus_set_peers(struct bus *b, const int *wids, size_t n)
{
	uint8_t		  want[sizeof(b->member)];
	struct peer	**np, *p;
	int		 *gone, w, rv = 0;
	size_t		  i, k, ngone = 0;

	for (i = 0; i < n; i++)
		if (wids[i] < 0 || wids[i] > BUS_WID_MAX)
			return -1;
	np = calloc(n + 1, sizeof(*np));
	gone = calloc(b->npeers + 1, sizeof(*gone));
	if (np == NULL || gone == NULL) {
		free(np);
		free(gone);
		return -1;
	}
	memset(want, 0, sizeof(want));
	for (i = 0; i < n; i++)
		set_member(want, wids[i], wids[i] != b->wid);
	for (i = k = 0; i < b->npeers; i++) {
		p = b->peers[i];
		if ((want[p->wid / 8] >> (p->wid % 8)) & 1) {
			set_member(want, p->wid, 0);	/* kept */
			np[k++] = p;
			continue;
		}
		if (b->senders[p->wid].pipe != 0)
			gone[ngone++] = p->wid;
		peer_close(b, p);
	}
	for (i = 0; i < n; i++) {
		w = wids[i];
		if (((want[w / 8] >> (w % 8)) & 1) == 0)
			continue;	/* ours, kept, or a duplicate */
		set_member(want, w, 0);
		if ((np[k] = peer_open(b, w)) == NULL)
			rv = -1;
		else
			np[k++]->resync = b->senders[w].pipe != 0;
	}
	free(b->peers);
	b->peers = np;
	b->npeers = k;
	memset(b->member, 0, sizeof(b->member));
	for (i = 0; i < k; i++)
		set_member(b->member, np[i]->wid, 1);
	for (i = 0; i < ngone; i++)
		peer_gone(b, gone[i]);
	free(gone);
	return rv;
}

/* Append one record to this iteration's batch. */
int
bus_send(struct bus *b, uint8_t type, const void *data, size_t len)
{
	size_t	 need;

	if (len > BUS_RECORD_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	if (b->npeers == 0)
		return 0;
	need = BUS_REC_HDR_LEN + len;
	if (b->batch.len + need > BUS_MSG_MAX - BUS_HDR_LEN)
		flush_batch(b);
	if (buf_reserve(&b->batch, need, BUS_MSG_MAX) != 0)
		return -1;
	b->batch.len += bus_wire_put_record(b->batch.p + b->batch.len, type,
	    data, len);
	b->batchn++;
	return 0;
}

/* Send the batch now rather than at the end of the iteration. */
void
bus_flush(struct bus *b)
{
	flush_batch(b);
}

void
bus_stats(const struct bus *b, struct bus_stats *st)
{
	size_t	i;

	*st = b->st;
	st->backlog = b->batch.len;
	for (i = 0; i < b->npeers; i++)
		st->backlog += b->peers[i]->backlog_len;
}

/*
 * A push socket dialing the peer.  nng redials by itself when the peer
 * restarts, from RECONN_MIN up to RECONN_MAX between tries.
 */
static struct peer *
peer_open(struct bus *b, int wid)
{
	struct peer	*p;
	char		 url[300];
	int		 fd, rv;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->bus = b;
	p->wid = wid;
	p->chan = b->chan_next++;
	TAILQ_INIT(&p->backlog);
	snprintf(url, sizeof(url), "ipc://%s/bus-%d.ipc", b->dir, wid);
	if ((rv = nng_push0_open(&p->sock)) != 0 ||
	    (rv = nng_socket_set_ms(p->sock, NNG_OPT_RECONNMINT,
	    RECONN_MIN)) != 0 ||
	    (rv = nng_socket_set_ms(p->sock, NNG_OPT_RECONNMAXT,
	    RECONN_MAX)) != 0 ||
	    (rv = nng_pipe_notify(p->sock, NNG_PIPE_EV_ADD_POST, pipe_cb,
	    b)) != 0 ||
	    (rv = nng_pipe_notify(p->sock, NNG_PIPE_EV_REM_POST, pipe_cb,
	    b)) != 0 ||
	    (rv = nng_socket_get_int(p->sock, NNG_OPT_SENDFD, &fd)) != 0 ||
	    (rv = nng_dial(p->sock, url, NULL, NNG_FLAG_NONBLOCK)) != 0) {
		log_warnx("bus: dial %s: %s", url, nng_strerror(rv));
		nng_close(p->sock);
		free(p);
		return NULL;
	}
	ev_io_init(&p->wio, wio_cb, fd, EV_READ);
	p->wio.data = p;
	return p;
}

/*
 * Its SENDFD watcher stops (in peer_discard) before nng closes the fd.
 * nng 1.5.2: the socket goes to the graveyard (bus_nng15.c).
 */
static void
peer_close(struct bus *b, struct peer *p)
{
	peer_discard(b, p);
	bus_nng15_bury(&b->nng15, p->sock);
	free(p);
}

/*
 * Forget what waits for this peer: its link is gone, and what its next
 * link needs comes after peer_up.  A new channel tells the receiver not
 * to count the discarded messages as lost.
 */
static void
peer_discard(struct bus *b, struct peer *p)
{
	struct qmsg	*q;

	if (ev_is_active(&p->wio))
		ev_io_stop(b->loop, &p->wio);
	while ((q = TAILQ_FIRST(&p->backlog)) != NULL) {
		TAILQ_REMOVE(&p->backlog, q, entry);
		nng_msg_free(q->m);
		free(q);
		b->st.discarded++;
	}
	p->backlog_len = 0;
	p->chan = b->chan_next++;
	p->seq = 0;
	p->sealed = p->full = 0;
}

/* What wid told us is void: its link closed, or it left the set. */
static void
peer_gone(struct bus *b, int wid)
{
	if (b->ops.peer_down != NULL)
		b->ops.peer_down(b->arg, wid);
}

/*
 * Put the batch in the peer's backlog: into the last message if it has
 * room (one message instead of many for a peer that is behind), else in
 * a new one.  A batch that does not fit under BUS_BACKLOG_MAX is dropped
 * but takes a sequence number, so the receiver counts it.
 */
static void
peer_enqueue(struct bus *b, struct peer *p)
{
	struct qmsg	*q;
	uint8_t		*h;
	size_t		 len, cap;

	q = TAILQ_LAST(&p->backlog, qmsgs);
	if (p->backlog_len + BUS_HDR_LEN + b->batch.len > BUS_BACKLOG_MAX)
		goto drop;
	if (q != NULL && !p->sealed &&
	    (len = nng_msg_len(q->m)) + b->batch.len <= BUS_MSG_MAX) {
		/* nng grows a message to the exact size: double it here. */
		if ((cap = 2 * nng_msg_capacity(q->m)) > BUS_MSG_MAX)
			cap = BUS_MSG_MAX;
		if (cap < len + b->batch.len)
			cap = len + b->batch.len;
		if (nng_msg_reserve(q->m, cap) != 0 ||
		    nng_msg_append(q->m, b->batch.p, b->batch.len) != 0)
			goto drop;
		bus_wire_add_count(nng_msg_body(q->m), b->batchn);
		p->backlog_len += b->batch.len;
		return;
	}
	len = BUS_HDR_LEN + b->batch.len;
	if ((q = malloc(sizeof(*q))) == NULL)
		goto drop;
	if (nng_msg_alloc(&q->m, len) != 0) {
		free(q);
		goto drop;
	}
	h = nng_msg_body(q->m);
	bus_wire_put_hdr(h, b->wid, p->chan, ++p->seq, b->batchn);
	if (b->batch.len > 0)
		memcpy(h + BUS_HDR_LEN, b->batch.p, b->batch.len);
	TAILQ_INSERT_TAIL(&p->backlog, q, entry);
	p->backlog_len += len;
	p->sealed = 0;
	return;
drop:
	if (!p->full)
		log_warnx("bus: worker %d is %zu bytes behind, dropping",
		    p->wid, p->backlog_len);
	p->full = p->sealed = 1;
	p->seq++;
	b->st.dropped++;
}

/* Hand nng what it takes now; wait for SENDFD for the rest. */
static void
peer_kick(struct bus *b, struct peer *p)
{
	struct qmsg	*q;
	size_t		 len;
	int		 rv;

	while ((q = TAILQ_FIRST(&p->backlog)) != NULL) {
		len = nng_msg_len(q->m);
		if (p->resync)
			bus_wire_set_resync(nng_msg_body(q->m));
		if ((rv = nng_sendmsg(p->sock, q->m, NNG_FLAG_NONBLOCK)) ==
		    NNG_EAGAIN)
			break;
		if (rv != 0) {
			log_warnx("bus: send to worker %d: %s", p->wid,
			    nng_strerror(rv));
			nng_msg_free(q->m);
			b->st.discarded++;
		} else {
			p->resync = 0;
			b->st.sent_msgs++;
			b->st.sent_bytes += len;
		}
		TAILQ_REMOVE(&p->backlog, q, entry);
		free(q);
		p->backlog_len -= len;
	}
	if (q != NULL && !ev_is_active(&p->wio))
		ev_io_start(b->loop, &p->wio);
	else if (q == NULL && ev_is_active(&p->wio))
		ev_io_stop(b->loop, &p->wio);
	if (q == NULL)
		p->full = 0;
}

static void
flush_batch(struct bus *b)
{
	size_t	i;

	if (b->batchn == 0)
		return;
	b->st.batches++;
	b->st.sent_records += b->batchn;
	for (i = 0; i < b->npeers; i++) {
		peer_enqueue(b, b->peers[i]);
		peer_kick(b, b->peers[i]);
	}
	b->batch.len = 0;
	b->batchn = 0;
	buf_release(&b->batch, BATCH_KEEP);
}

/*
 * On an nng thread: queue the event for the loop.  Events are rare (a
 * link comes or goes), so a full queue means something is badly wrong;
 * it is reported, not grown.
 */
static void
pipe_cb(nng_pipe pipe, nng_pipe_ev ev, void *arg)
{
	struct bus	*b = arg;

	pthread_mutex_lock(&b->evmtx);
	if (b->nev < EVQ_LEN) {
		b->evq[b->nev].sock = nng_socket_id(nng_pipe_socket(pipe));
		b->evq[b->nev].pipe = pipe.id;
		b->evq[b->nev].up = ev == NNG_PIPE_EV_ADD_POST;
		b->nev++;
	} else
		b->evlost = 1;
	pthread_mutex_unlock(&b->evmtx);
	ev_async_send(b->loop, &b->async);
}

static void
async_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	struct bus	*b = w->data;
	struct pipe_ev	 evq[EVQ_LEN];
	size_t		 i, n;
	int		 lost;

	pthread_mutex_lock(&b->evmtx);
	n = b->nev;
	memcpy(evq, b->evq, n * sizeof(evq[0]));
	lost = b->evlost;
	b->nev = 0;
	b->evlost = 0;
	pthread_mutex_unlock(&b->evmtx);
	if (lost)
		log_warnx("bus: pipe events lost");
	for (i = 0; i < n; i++)
		link_event(b, &evq[i]);
	(void)loop;
	(void)revents;
}

/*
 * On the loop.  Our link to a peer came up: it gets its backlog, or an
 * empty message so that it learns which pipe is ours, then peer_up.  It
 * went down: what waits for it is discarded.  A link from a peer closed:
 * peer_down.
 */
static void
link_event(struct bus *b, const struct pipe_ev *ev)
{
	struct peer	*p = NULL;
	size_t		 i;
	int		 w;

	if (ev->sock == nng_socket_id(b->pull)) {
		for (w = 0; w <= BUS_WID_MAX; w++)
			if (b->senders[w].pipe == ev->pipe)
				break;
		if (w <= BUS_WID_MAX) {
			b->senders[w].pipe = 0;
			if (is_member(b, w))
				peer_gone(b, w);
		}
		return;
	}
	for (i = 0; i < b->npeers && p == NULL; i++)
		if (nng_socket_id(b->peers[i]->sock) == ev->sock)
			p = b->peers[i];
	if (p == NULL)
		return;		/* closed since */
	if (ev->up && p->pipe == 0) {
		p->pipe = ev->pipe;
		p->up_at = ev_now(b->loop);
		if (TAILQ_EMPTY(&p->backlog) && b->batchn == 0)
			peer_enqueue(b, p);	/* the empty batch */
		peer_kick(b, p);
		if (b->ops.peer_up != NULL)
			b->ops.peer_up(b->arg, p->wid);
	} else if (!ev->up && p->pipe == ev->pipe) {
		p->pipe = 0;
		peer_discard(b, p);
	}
}

static void
prep_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	flush_batch(w->data);
	(void)loop;
	(void)revents;
}

static void
wio_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct peer	*p = w->data;

	peer_kick(p->bus, p);
	(void)loop;
	(void)revents;
}

/*
 * nng 1.5.2: once a second, settled sockets are closed and, if a peer we
 * have reached for BUS_NNG15_WATCHDOG seconds has no link to us, our
 * listener is tested (bus_nng15_watch()).  A dead one is restarted, which
 * closes every incoming link; each peer sees its link drop and comes back
 * with peer_up.
 */
static void
watchdog_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct bus	*b = w->data;
	struct peer	*p;
	size_t		 i;
	int		 unreached = 0;

	for (i = 0; i < b->npeers && !unreached; i++) {
		p = b->peers[i];
		unreached = p->pipe != 0 && b->senders[p->wid].pipe == 0 &&
		    ev_now(loop) - p->up_at >= BUS_NNG15_WATCHDOG;
	}
	if (bus_nng15_watch(&b->nng15, unreached, &b->chan_next) == 1) {
		b->st.relistens++;
		relisten(b);
		for (i = 0; i < b->npeers; i++)
			b->peers[i]->up_at = ev_now(loop);
	}
	(void)revents;
}

/*
 * Take what nng has received, up to RECV_BUDGET messages so that a busy
 * peer cannot starve this worker's clients; the fd stays readable and the
 * loop comes back.  Never read the fd itself.
 */
static void
rio_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct bus	*b = w->data;
	struct bus_wire_hdr	 h;
	nng_msg			*m;
	size_t			 i, len;
	int			 rv;

	for (i = 0; i < RECV_BUDGET; i++) {
		if ((rv = nng_recvmsg(b->pull, &m, NNG_FLAG_NONBLOCK)) != 0) {
			if (rv != NNG_EAGAIN) {
				log_warnx("bus: receive: %s", nng_strerror(rv));
				ev_io_stop(loop, w);
			}
			break;
		}
		len = nng_msg_len(m);
		b->st.recv_msgs++;
		b->st.recv_bytes += len;
		if (msg_check(b, nng_msg_body(m), len,
		    nng_msg_get_pipe(m).id, &h) == 0)
			msg_deliver(b, nng_msg_body(m), &h);
		nng_msg_free(m);
	}
	(void)revents;
}

/*
 * Accept a message only if it is framed exactly (every record inside,
 * nothing after), comes from a peer of the set, and is the next of its
 * channel; count the messages it skipped.  Remember its pipe as the
 * sender's link, even from outside the set.  0: deliver it.
 */
static int
msg_check(struct bus *b, const uint8_t *p, size_t len, uint32_t pipe,
    struct bus_wire_hdr *h)
{
	struct sender	*s;

	if (bus_wire_decode(p, len, h) != 0)
		goto bad;
	s = &b->senders[h->from];
	if (h->from == b->wid) {
		/* nng 1.5.2: our listener's test (bus_nng15.c). */
		if (!bus_nng15_canary_seen(&b->nng15, h->chan))
			b->st.foreign++;
		return -1;
	}
	s->pipe = pipe;
	if (!is_member(b, h->from)) {
		b->st.foreign++;
		return -1;
	}
	if (s->seq != 0 && s->chan == h->chan) {
		if (h->seq <= s->seq)
			goto bad;	/* replayed */
		b->st.gaps += h->seq - s->seq - 1;
	}
	s->chan = h->chan;
	s->seq = h->seq;
	return 0;
bad:
	b->st.malformed++;
	log_debug("bus: malformed message of %zu bytes dropped", len);
	return -1;
}

/*
 * One recv call per record; stop if a callback dropped the sender.  Then
 * a sender that asks for it (BUS_WIRE_RESYNC) hears what a new peer hears.
 */
static void
msg_deliver(struct bus *b, const uint8_t *p, const struct bus_wire_hdr *h)
{
	const uint8_t	*data;
	size_t		 off, rlen;
	uint32_t	 i;
	uint8_t		 type;

	for (i = 0, off = BUS_HDR_LEN; i < h->count && is_member(b, h->from);
	    i++) {
		off = bus_wire_record(p, off, &type, &data, &rlen);
		b->st.recv_records++;
		b->ops.recv(b->arg, h->from, type, data, rlen);
	}
	if ((h->flags & BUS_WIRE_RESYNC) && is_member(b, h->from) &&
	    b->ops.peer_up != NULL)
		b->ops.peer_up(b->arg, h->from);
}
