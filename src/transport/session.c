/*
 * Engine.IO sessions: the sid table, the heartbeat, the output queue and
 * the close sequence.  ws.c and polling.c call in here with what arrives;
 * everything leaves through session_send().
 *
 * Writing: on a WebSocket with nothing queued and nothing half-written, a
 * frame is written at once, straight from the caller (no writable callback,
 * no epoll_ctl pair per frame: ../shared/NOTES.md).  Otherwise it is queued
 * and the WRITEABLE callback drains the queue.  A queue over
 * output_queue_limit bytes means the client does not read: it is cut off.
 *
 * Lifetime: a closed session is freed when neither its WebSocket nor a
 * pending poll refers to it any more and no caller holds it (pins), and
 * never at once: from the loop (reap()), after the callback that let it go
 * has returned.  A close asked for inside a send (a slow reader, a failed
 * write) is put off the same way.  So whoever walks t->all, a room or any
 * other list of sessions while sending, closing or detaching never holds
 * a freed session or reads a freed next pointer.
 */
#include <ev.h>
#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "client.h"
#include "eio.h"
#include "log.h"
#include "origin.h"
#include "session.h"
#include "sid.h"
#include "randpool.h"
#include "transport.h"

_Static_assert(FRAME_PRE == LWS_PRE, "FRAME_PRE must equal LWS_PRE");

static unsigned	 hash(const char *, size_t);
static void	 on_heartbeat(struct ev_loop *, ev_timer *, int);
static void	 send_first(struct session *, struct frame *);
static void	 on_deadline(struct ev_loop *, ev_timer *, int);
static void	 maybe_free(struct session *);
static bool	 freeable(const struct session *);
static void	 reap_later(struct session *);
static void	 reap(struct ev_loop *, ev_prepare *, int);
static int	 ws_write(struct session *, struct frame *);
static int	 ws_write_batch(struct session *);

#define BATCH_MAX	(64 * 1024)	/* bytes of frames in one write */
/* awaiting_pong: a ping is out; ... and the client sent something since */
#define PONG_AWAITED	1
#define PONG_HEARD	2
static struct frame *ping_frame(void);

/* Sessions to close or free once the loop is back (one loop a process). */
static struct session	*reap_list;
static ev_prepare	 reaper;

static unsigned
hash(const char *sid, size_t len)
{
	unsigned	h = 2166136261u;
	size_t		i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)sid[i]) * 16777619u;
	return h % TRANSPORT_BUCKETS;
}

/* One "2" frame for every ping of the process. */
static struct frame *
ping_frame(void)
{
	static struct frame	*ping;

	if (ping == NULL && (ping = frame_text("2", 1)) == NULL)
		return NULL;
	return frame_ref(ping);
}

/* The loop's clock in ms, wrapping: only differences are used. */
static uint32_t
loop_ms(struct ev_loop *loop)
{
	return (uint32_t)(uint64_t)(ev_now(loop) * 1000.0);
}

/*
 * Seconds left before a Socket.IO session must have sent its CONNECT
 * (0 when that time is past).  The deadline is fixed at the handshake:
 * an upgrade probe, lapsed or done, does not move it.
 */
double
session_connect_left(const struct session *s)
{
	int32_t	left = (int32_t)(s->connect_by - loop_ms(s->t->loop));

	return left > 0 ? (double)left / 1000.0 : 0;
}

/*
 * No namespace joined any more: the session must CONNECT again within
 * secs or be closed (left its last namespace: connect_timeout, as a new
 * one; disconnected by the server: a moment to read why, then closed).
 */
void
session_connect_within(struct session *s, double secs)
{
	struct transport	*t = s->t;

	if (t->app->eio_message != NULL || s->state == SESSION_CLOSED)
		return;
	s->connect_by = loop_ms(t->loop) + (uint32_t)(secs * 1000.0);
	if (s->state == SESSION_UPGRADING)
		return;		/* on_deadline re-arms it after the upgrade */
	ev_timer_stop(t->loop, &s->deadline);
	ev_timer_set(&s->deadline, secs, 0);
	ev_timer_start(t->loop, &s->deadline);
}

struct session *
session_new(struct transport *t, enum session_kind kind)
{
	struct session	*s;
	uint8_t		 rnd[SID_RANDOM_BYTES];
	unsigned	 h;

	if (randpool_get(rnd, sizeof(rnd)) != 0) {
		log_warn("getrandom");
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	if (sid_encode(rnd, (unsigned)t->wid, s->sid) != 0) {
		free(s);
		return NULL;
	}
	s->t = t;
	s->kind = (uint8_t)kind;
	ev_init(&s->heartbeat, on_heartbeat);
	s->heartbeat.data = s;
	ev_init(&s->deadline, on_deadline);
	s->deadline.data = s;
	h = hash(s->sid, SID_LEN);
	s->hnext = t->buckets[h];
	t->buckets[h] = s;
	s->next = t->all;
	if (t->all != NULL)
		t->all->prev = s;
	t->all = s;
	t->stats.sessions++;
	t->stats.sessions_total++;
	if (t->app->eio_message == NULL) {
		/* Socket.IO: a CONNECT must come within connect_timeout. */
		s->connect_by = loop_ms(t->loop) +
		    (uint32_t)t->conf->connect_timeout;
		ev_timer_set(&s->deadline,
		    (double)t->conf->connect_timeout / 1000.0, 0);
		ev_timer_start(t->loop, &s->deadline);
	}
	return s;
}

struct session *
session_find(struct transport *t, const char *sid, size_t len)
{
	struct session	*s;

	if (len != SID_LEN)
		return NULL;
	for (s = t->buckets[hash(sid, len)]; s != NULL; s = s->hnext)
		if (memcmp(s->sid, sid, SID_LEN) == 0)
			return s;
	return NULL;
}

/*
 * May this session open the Admin UI's namespace (issue 18)?  Its first
 * request had no Origin (not a browser), the gateway's own (the UI it
 * served), or one in admin_origins (empty: any).
 */
static uint8_t
admin_origin(const struct transport *t, struct lws *wsi)
{
	char	origin[256], host[256];

	if (!t->conf->admin)
		return 0;
	if (t->conf->admin_origins[0] == '\0' ||
	    lws_hdr_copy(wsi, origin, sizeof(origin), WSI_TOKEN_ORIGIN) <= 0)
		return 1;
	if (origin_listed(t->conf->admin_origins, origin))
		return 1;
	return lws_hdr_copy(wsi, host, sizeof(host), WSI_TOKEN_HOST) > 0 &&
	    origin_same(origin, host);
}

/*
 * A token given with the handshake request rather than in the Socket.IO
 * CONNECT: an "Authorization: Bearer" header or a token= query parameter
 * (the seed's clients used both).  Kept until the CONNECT, which may come
 * on a later request.  And whether the session may open /admin.
 */
void
session_take_token(struct session *s, struct lws *wsi)
{
	const char	*v;
	char		 buf[7 + 8192 + 1];	/* "Bearer ", auth.c's longest */
	int		 n;

	s->admin_origin = admin_origin(s->t, wsi);
	n = lws_hdr_copy(wsi, buf, sizeof(buf), WSI_TOKEN_HTTP_AUTHORIZATION);
	if (n > 7 && strncasecmp(buf, "Bearer ", 7) == 0) {
		s->hs_token = strdup(buf + 7);
		return;
	}
	if ((v = lws_get_urlarg_by_name(wsi, "token=", buf,
	    sizeof(buf))) != NULL && *v != '\0')
		s->hs_token = strdup(v);
}

/* The OPEN packet: upgrades are offered to polling sessions only. */
size_t
session_open_packet(struct session *s, uint8_t *buf, size_t cap)
{
	const struct transport_conf *c = s->t->conf;
	struct eio_open		 o;
	ptrdiff_t		 n;

	memset(&o, 0, sizeof(o));
	o.sid = s->sid;
	o.sidlen = SID_LEN;
	o.upgrade = s->kind == SESSION_POLLING;
	o.ping_interval = (uint32_t)c->ping_interval;
	o.ping_timeout = (uint32_t)c->ping_timeout;
	o.max_payload = (uint64_t)c->max_payload;
	n = eio_handshake_open(&o, buf, cap);
	return n < 0 ? 0 : (size_t)n;
}

/* Arm the next ping, pingInterval from now. */
void
session_start_heartbeat(struct session *s)
{
	s->awaiting_pong = 0;
	ev_timer_stop(s->t->loop, &s->heartbeat);
	ev_timer_set(&s->heartbeat, (double)s->t->conf->ping_interval /
	    1000.0, 0);
	ev_timer_start(s->t->loop, &s->heartbeat);
}

static void
on_heartbeat(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct session	*s = w->data;
	struct frame	*ping;

	(void)revents;
	if (s->awaiting_pong == PONG_HEARD) {
		/*
		 * No pong yet, but the client sent something since the ping:
		 * it is alive, only behind (issue 16: a slow link reading a
		 * long queue).  Wait another ping_timeout for the pong.
		 */
		s->awaiting_pong = PONG_AWAITED;
		s->t->stats.pongs_late++;
		ev_timer_set(w, (double)s->t->conf->ping_timeout / 1000.0, 0);
		ev_timer_start(loop, w);
		return;
	}
	if (s->awaiting_pong) {
		s->t->stats.ping_timeouts++;
		session_close(s, "ping timeout");
		return;
	}
	s->awaiting_pong = PONG_AWAITED;
	ev_timer_set(w, (double)s->t->conf->ping_timeout / 1000.0, 0);
	ev_timer_start(loop, w);
	if ((ping = ping_frame()) != NULL)
		send_first(s, ping);
}

/*
 * A ping goes before whatever is queued (issue 16): behind megabytes of
 * queued events it would reach the client after the client's own
 * pingInterval + pingTimeout, and the server's pong wait would lapse
 * too.  The queue holds whole frames (a frame half written is lws's), so
 * the ping never lands inside one; over long-polling it is the first
 * packet of the next payload.
 */
static void
send_first(struct session *s, struct frame *f)
{
	if (s->q.n == 0 || s->state == SESSION_CLOSED || s->draining ||
	    s->doom != NULL) {
		session_send(s, f);
		return;
	}
	if (outq_unshift(&s->q, f) != 0) {
		frame_unref(f);
		session_close_soon(s, "out of memory");
		return;
	}
	s->t->stats.pings_ahead++;
	if (s->kind == SESSION_WEBSOCKET && s->ws != NULL) {
		if (!s->corked)
			lws_callback_on_writable(s->ws);
	} else
		session_wake_poll(s);
}

/* No Socket.IO CONNECT in time, or an upgrade left half done. */
static void
on_deadline(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct session	*s = w->data;

	(void)revents;
	if (s->state == SESSION_UPGRADING) {
		s->state = SESSION_OPEN;
		log_debug("upgrade of %s timed out", s->sid);
		if (s->ws != NULL) {
			s->ws_closing = 1;
			lws_callback_on_writable(s->ws);
		}
		/* The probe held the connect deadline's timer: re-arm it. */
		if (s->nsp_mask == 0 && s->t->app->eio_message == NULL) {
			ev_timer_set(w, session_connect_left(s), 0);
			ev_timer_start(loop, w);
		}
		return;
	}
	session_close(s, "connect timeout");
}

/* Write one frame on the WebSocket now; -1 when the socket failed. */
static int
ws_write(struct session *s, struct frame *f)
{
	int	n;

	n = lws_write(s->ws, FRAME_DATA(f), f->len, f->binary ?
	    LWS_WRITE_BINARY : LWS_WRITE_TEXT);
	s->t->stats.frames_out++;
	return n < (int)f->len ? -1 : 0;
}

/*
 * Write every queued frame at once (up to BATCH_MAX bytes): the WebSocket
 * headers are made here and the frames go out back to back in one
 * LWS_WRITE_RAW, which lws passes to the socket as it is (no extensions
 * are negotiated, and server frames are not masked).  One system call
 * instead of one per frame, whenever frames queue together.  Returns 0
 * when it wrote, 1 when the plain path should (fewer than two frames fit),
 * -1 when the socket failed.
 */
static int
ws_write_batch(struct session *s)
{
	static uint8_t	 buf[LWS_PRE + BATCH_MAX];
	uint8_t		*p = buf + LWS_PRE;
	struct frame	*f;
	size_t		 used = 0, hl;
	uint32_t	 n = 0;

	while (n < s->q.n) {
		f = outq_peek(&s->q, n);
		hl = f->len < 126 ? 2 : f->len < 65536 ? 4 : 10;
		if (used + hl + f->len > BATCH_MAX)
			break;
		p[used] = f->binary ? 0x82 : 0x81;
		if (hl == 2)
			p[used + 1] = (uint8_t)f->len;
		else if (hl == 4) {
			p[used + 1] = 126;
			p[used + 2] = (uint8_t)(f->len >> 8);
			p[used + 3] = (uint8_t)f->len;
		} else {
			p[used + 1] = 127;
			memset(p + used + 2, 0, 4);
			p[used + 6] = (uint8_t)(f->len >> 24);
			p[used + 7] = (uint8_t)(f->len >> 16);
			p[used + 8] = (uint8_t)(f->len >> 8);
			p[used + 9] = (uint8_t)f->len;
		}
		memcpy(p + used + hl, FRAME_DATA(f), f->len);
		used += hl + f->len;
		n++;
	}
	if (n < 2)
		return 1;
	if (lws_write(s->ws, p, used, LWS_WRITE_RAW) < (int)used)
		return -1;
	s->t->stats.frames_out += n;
	while (n-- > 0)
		frame_unref(outq_shift(&s->q));
	return 0;
}

/*
 * Hold frames back while a burst is being produced (the replies to a
 * CONNECT), then write them together.
 */
void
session_cork(struct session *s)
{
	s->corked = 1;
}

void
session_uncork(struct session *s)
{
	s->corked = 0;
	if (s->kind == SESSION_WEBSOCKET && s->ws != NULL && s->q.n > 0 &&
	    s->state != SESSION_CLOSED && !lws_partial_buffered(s->ws))
		session_ws_writable(s);
	if (s->ws != NULL && s->ws_closing)
		lws_callback_on_writable(s->ws);
}

/*
 * Send a frame; takes over the caller's reference.  Before the upgrade
 * completes everything goes through the polling queue, as engine.io does.
 */
void
session_send(struct session *s, struct frame *f)
{
	bool	ws = s->kind == SESSION_WEBSOCKET && s->ws != NULL;

	if (s->state == SESSION_CLOSED || s->draining || s->doom != NULL) {
		frame_unref(f);
		return;
	}
	if (ws && !s->corked && s->q.n == 0 && !lws_partial_buffered(s->ws)) {
		if (ws_write(s, f) != 0) {
			frame_unref(f);
			session_close_soon(s, "transport error");
			return;
		}
		frame_unref(f);
		return;
	}
	if (outq_push(&s->q, f) != 0) {
		frame_unref(f);
		session_close_soon(s, "out of memory");
		return;
	}
	if (s->q.bytes > (size_t)s->t->conf->output_queue_limit) {
		s->t->stats.slow_readers++;
		log_info("client %s does not read: %zu bytes queued, over "
		    "output_queue_limit; disconnecting", s->sid, s->q.bytes);
		outq_clear(&s->q);
		session_close_soon(s, "slow reader");
		return;
	}
	if (ws && !s->corked)
		lws_callback_on_writable(s->ws);
	else if (!ws)
		session_wake_poll(s);
}

/*
 * Nothing waits to be written: the queue is out and lws holds no part of
 * a frame (issue 16: presence catches up with a client then).
 */
bool
session_drained(const struct session *s)
{
	if (s->q.n > 0)
		return false;
	return s->ws == NULL || s->kind != SESSION_WEBSOCKET ||
	    !lws_partial_buffered(s->ws);
}

/* A waiting poll, local or relayed, has something to answer. */
void
session_wake_poll(struct session *s)
{
	if (s->poll != NULL)
		lws_callback_on_writable(s->poll);
	else if (s->rpeer != NULL)
		s->t->up->relay_wake(s);
}

/* A copy of text as a frame of its own. */
int
session_send_text(struct session *s, const char *text, size_t len)
{
	struct frame	*f;

	if ((f = frame_text(text, len)) == NULL)
		return -1;
	session_send(s, f);
	return 0;
}

/* WRITEABLE on the WebSocket: drain what is queued, then maybe close. */
void
session_ws_writable(struct session *s)
{
	struct frame	*f;
	int		 rc;

	while (s->q.n > 0 && !lws_partial_buffered(s->ws)) {
		if ((rc = ws_write_batch(s)) == 0)
			continue;
		if (rc < 0) {
			outq_clear(&s->q);
			s->ws_closing = 1;
			break;
		}
		f = outq_shift(&s->q);
		if (ws_write(s, f) != 0) {
			frame_unref(f);
			outq_clear(&s->q);
			s->ws_closing = 1;
			break;
		}
		frame_unref(f);
	}
	if (s->q.n > 0 || lws_partial_buffered(s->ws))
		lws_callback_on_writable(s->ws);
}

/* What a client sent, one Engine.IO packet at a time. */
void
session_receive(struct session *s, const struct eio_packet *p)
{
	s->t->stats.frames_in++;
	if (s->doom != NULL)
		return;		/* being closed: what it says no longer counts */
	/* Any packet proves the client alive, if not the pong itself. */
	if (s->awaiting_pong)
		s->awaiting_pong = PONG_HEARD;
	switch (p->type) {
	case EIO_PONG:
		if (s->awaiting_pong)
			session_start_heartbeat(s);
		break;
	case EIO_MESSAGE:
		if (s->t->app->eio_message != NULL)
			s->t->app->eio_message(s, p);
		else
			s->t->up->sio_receive(s, p);
		break;
	case EIO_CLOSE:
		s->poll_noop = 1;
		session_close(s, "transport close");
		break;
	default:
		/* ping, open, upgrade, noop: nothing to do in v4 */
		break;
	}
}

/*
 * Close a session once: stop its timers, drop it from the table (its sid is
 * unknown from now on), tell the layers above, and release the transports.
 */
void
session_close(struct session *s, const char *reason)
{
	struct transport	*t = s->t;
	struct session		**pp;

	if (s->state == SESSION_CLOSED)
		return;
	s->state = SESSION_CLOSED;
	ev_timer_stop(t->loop, &s->heartbeat);
	ev_timer_stop(t->loop, &s->deadline);
	for (pp = &t->buckets[hash(s->sid, SID_LEN)]; *pp != NULL;
	    pp = &(*pp)->hnext)
		if (*pp == s) {
			*pp = s->hnext;
			break;
		}
	t->stats.sessions--;
	session_unhold(s);
	log_debug("session %s closed: %s", s->sid, reason);
	t->up->sio_closed(s, reason);
	if (t->app->closed != NULL)
		t->app->closed(s, reason);
	session_wake_poll(s);
	if (s->ws != NULL) {
		s->ws_closing = 1;
		lws_callback_on_writable(s->ws);
	}
	maybe_free(s);
}

/*
 * A close asked for from inside a send: the caller may be walking a list
 * of sessions (a broadcast to every socket, the token expiry sweep, a
 * room) that the close would change under it, through the application's
 * disconnect.  So the session only stops taking frames and input now, and
 * reap() closes it once the loop is back.
 */
void
session_close_soon(struct session *s, const char *reason)
{
	if (s->state == SESSION_CLOSED || s->doom != NULL)
		return;
	s->doom = reason;
	reap_later(s);
}

static bool
freeable(const struct session *s)
{
	return s->state == SESSION_CLOSED && s->ws == NULL && s->poll == NULL &&
	    s->rpeer == NULL && s->pins == 0;
}

static void
maybe_free(struct session *s)
{
	if (freeable(s))
		reap_later(s);
}

static void
reap_later(struct session *s)
{
	if (s->reap_queued)
		return;
	s->reap_queued = 1;
	s->reap_next = reap_list;
	reap_list = s;
	if (!ev_is_active(&reaper)) {
		ev_prepare_init(&reaper, reap);
		ev_prepare_start(s->t->loop, &reaper);
	}
}

/*
 * Before the loop waits again, every callback of this iteration done:
 * close the sessions a send gave up on, free those nobody refers to.  A
 * close here may queue more (the application tells other sockets).
 */
static void
reap(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct transport	*t;
	struct session		*s;

	(void)revents;
	while ((s = reap_list) != NULL) {
		reap_list = s->reap_next;
		s->reap_queued = 0;
		if (s->state != SESSION_CLOSED && s->doom != NULL) {
			session_close(s, s->doom);	/* queues it again */
			continue;
		}
		if (!freeable(s))
			continue;	/* a later maybe_free queues it */
		t = s->t;
		if (s->prev != NULL)
			s->prev->next = s->next;
		else
			t->all = s->next;
		if (s->next != NULL)
			s->next->prev = s->prev;
		outq_clear(&s->q);
		free(s->hs_token);
		free(s);
		t->up->gone(t);
	}
	ev_prepare_stop(loop, w);
}

void
session_detach_ws(struct session *s)
{
	s->ws = NULL;
	if (s->state == SESSION_CLOSED) {
		maybe_free(s);
		return;
	}
	s->ws_closing = 0;
	if (s->kind == SESSION_WEBSOCKET)
		session_close(s, "transport close");	/* reap() frees it */
	else if (s->state == SESSION_UPGRADING)
		s->state = SESSION_OPEN;
}

/* Keep a session alive across calls that may close it. */
void
session_pin(struct session *s)
{
	s->pins++;
}

void
session_unpin(struct session *s)
{
	s->pins--;
	maybe_free(s);
}

void
session_detach_poll(struct session *s)
{
	maybe_free(s);
}

/* The client sent "5" on the probed WebSocket: switch to it. */
bool
session_upgrade_done(struct session *s)
{
	if (s->state != SESSION_UPGRADING)
		return false;
	s->state = SESSION_OPEN;
	s->kind = SESSION_WEBSOCKET;
	ev_timer_stop(s->t->loop, &s->deadline);
	if (s->nsp_mask == 0 && s->t->app->eio_message == NULL) {
		ev_timer_set(&s->deadline, session_connect_left(s), 0);
		ev_timer_start(s->t->loop, &s->deadline);
	}
	if (s->poll != NULL || s->rpeer != NULL) {
		s->poll_noop = 1;
		session_wake_poll(s);
	}
	session_flush_ws(s);
	if (s->t->app->upgraded != NULL)
		s->t->app->upgraded(s);
	return true;
}

/* Move whatever queued while polling onto the WebSocket. */
void
session_flush_ws(struct session *s)
{
	if (s->ws != NULL && s->q.n > 0)
		lws_callback_on_writable(s->ws);
}

/* No longer a session without a CONNECT for its address's limit. */
void
session_unhold(struct session *s)
{
	client_unhold(s->t, s->held);
	s->held = NULL;
}

/*
 * The client's address as text, while one of its connections is here (a
 * WebSocket or a waiting long-poll): its length; 0 when unknown (a poll
 * that another worker relays).  For the handshake other servers ask for.
 */
size_t
session_address(const struct session *s, char *buf, size_t cap)
{
	struct lws	*wsi = s->ws != NULL ? s->ws : s->poll;

	if (cap == 0)
		return 0;
	buf[0] = '\0';
	if (wsi == NULL || lws_get_peer_simple(wsi, buf, cap) == NULL) {
		buf[0] = '\0';
		return 0;
	}
	buf[cap - 1] = '\0';
	return strlen(buf);
}
