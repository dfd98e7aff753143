/*
 * logdeliver: the frames the gateway sends to a room or to one socket go
 * through the host's recovery log (issue 15, cluster/reclog.h), and every
 * worker delivers them from it, in its order, with a cursor of its own.
 * That order is the offsets' order, so every socket receives its frames
 * by increasing offset and "everything after offset X" is exactly what a
 * socket missed: with the bus delivering, two workers' frames could reach
 * one socket in another order than their offsets.
 *
 * The origin encodes a frame once, with a RECLOG_OFF_LEN placeholder as
 * its last argument (emit.c); logdeliver_put() appends it (reclog_append
 * writes the offset into the frame and the log's copy), then reads the
 * log to its head at once: the entries of other workers that came before
 * are delivered first, and its own one, when the reader gets to it, from
 * the frame in memory (no copy), by the origin's own rule when it has one
 * (a Redis broadcast's rooms and excepts, presence's "all but the user's
 * sockets").  Once per loop iteration in which it appended it wakes the
 * others, and they read the log to its head: by their doorbells
 * (doorbell.c, issue 16: no nng thread in the way), or GW_BUS_LOGWAKE on
 * the bus for a peer without one; not at all for a user's room whose
 * sockets are all here (elsewhere()).  A wake lost costs at most
 * LOGDEL_TICK (a timer reads what the head says is there).  Entries
 * with worker >= 0 are that worker's alone (frames from Redis, which
 * every worker hears, a socket's own events, and presence, which every
 * worker computes itself); worker -1 entries
 * (deliver_room) are delivered by every worker to its members.
 *
 * RECLOG_TO_ROOM LOGDEL_ALL is every connected socket (presence in mode
 * "all"); except names the one socket left out by its Socket.IO id.
 * A reader that falls behind the log's tail loses entries: counted
 * (recovery_log_lost) and /health says so for a minute.
 */
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "doorbell.h"
#include "frame.h"
#include "gateway.h"
#include "log.h"
#include "presence.h"
#include "reclog.h"
#include "roomname.h"
#include "rooms.h"
#include "session.h"
#include "sid.h"
#include "stats.h"
#include "transport.h"

#define LOGDEL_TICK	0.1	/* s: a dropped wake is caught by then */
#define LOGDEL_SLICES	6	/* recovery_log_lost_recent: 6 x 10 s */

struct logdel {
	struct reclog_cursor	 cur;
	ev_check		 check;	/* an iteration starts: may wake again */
	ev_prepare		 prep;	/* it ends: catch up */
	ev_timer		 tick;
	int			 woke;	/* a wake owed or sent this iteration */
	int			 ring_due; /* ... owed: at the iteration's end */
	int			 reading;
	/* The origin's entry, delivered from memory when reached. */
	uint64_t		 own_seq;
	struct frame		*own_f;
	struct session		*own_s;	/* its target socket, RECLOG_TO_SOCKET */
	logdel_fn		*own_fn;
	void			*own_arg;
	int			 own_done;
	/* cur.lost at the start of each of the last slices */
	uint64_t		 lost_at[LOGDEL_SLICES];
	ev_tstamp		 slice_t;
	unsigned		 slice;
};

struct fanout {
	struct gateway	*g;
	struct frame	*f;
	const char	*except;	/* a Socket.IO id; NULL: none */
	size_t		 elen;
};

static void	 on_check(struct ev_loop *, ev_check *, int);
static void	 on_prep(struct ev_loop *, ev_prepare *, int);
static void	 on_tick(struct ev_loop *, ev_timer *, int);
static bool	 elsewhere(struct gateway *, const char *, size_t);

static int
live(const struct session *s)
{
	return s->state != SESSION_CLOSED && s->nsp_mask != 0;
}

static int
is_except(const struct fanout *fo, const struct session *s)
{
	return fo->except != NULL && fo->elen == SID_LEN &&
	    memcmp(s->sio_sid, fo->except, SID_LEN) == 0;
}

static void
fan(void *arg, void *sock)
{
	struct fanout		*fo = arg;
	struct gw_socket	*gs = sock;

	if (is_except(fo, gs->s))
		return;
	session_send(gs->s, frame_ref(fo->f));
	fo->g->messages++;
}

/* Frame f to this worker's part of an entry's target. */
static void
deliver(struct gateway *g, struct frame *f, int to, const char *room,
    size_t rlen, const char *except, size_t elen, struct session *s)
{
	struct fanout		 fo = { g, f, except, elen };
	struct gw_socket	*gs;

	if (to == RECLOG_TO_SOCKET) {
		if (s == NULL && (gs = sockindex_find(g, room, rlen)) != NULL)
			s = gs->s;
		if (s != NULL && live(s)) {
			session_send(s, frame_ref(f));
			g->messages++;
		}
		return;
	}
	if (rlen == sizeof(LOGDEL_ALL) - 1 &&
	    memcmp(room, LOGDEL_ALL, rlen) == 0) {
		for (s = g->t->all; s != NULL; s = s->next)
			if (live(s) && !is_except(&fo, s)) {
				session_send(s, frame_ref(f));
				g->messages++;
			}
		return;
	}
	rooms_members(g->rooms, room, rlen, fan, &fo);
}

/* An entry the reader got to. */
static int
on_entry(void *arg, const struct reclog_ent *e)
{
	struct gateway	*g = arg;
	struct logdel	*ld = g->logdel;
	struct frame	*f;

	if (ld->own_f != NULL && e->seq == ld->own_seq) {
		ld->own_done = 1;
		if (ld->own_fn != NULL)
			ld->own_fn(g, ld->own_f, ld->own_arg);
		else
			deliver(g, ld->own_f, e->to, e->room, e->rlen,
			    e->except, e->elen, ld->own_s);
		return 0;
	}
	/* Another worker's own, or a dead predecessor's with our wid. */
	if (e->worker != -1)
		return 0;
	if ((f = frame_text(e->frame, e->flen)) == NULL) {
		log_warnx("recovery log: a frame lost: out of memory");
		return 0;
	}
	deliver(g, f, e->to, e->room, e->rlen, e->except, e->elen, NULL);
	frame_unref(f);
	return 0;
}

/*
 * Deliver the log to its head as it is now (what is appended meanwhile,
 * the next call delivers: a busy log does not hold the loop); the seq the
 * cursor reads next.
 */
uint64_t
logdeliver_catch_up(struct gateway *g)
{
	struct logdel	*ld = g->logdel;
	uint64_t	 lost, head;

	if (ld == NULL)
		return 0;
	if (ld->reading)
		return ld->cur.next;
	ld->reading = 1;
	lost = ld->cur.lost;
	head = reclog_head(g->conf->reclog);
	while (ld->cur.next < head &&
	    reclog_read(g->conf->reclog, &ld->cur, 4096, on_entry, g) > 0)
		;
	ld->reading = 0;
	if (ld->cur.lost != lost)
		log_warnx("recovery log: this worker fell %llu packets behind "
		    "its tail: its sockets missed them (recovery_log_size)",
		    (unsigned long long)(ld->cur.lost - lost));
	return ld->cur.next;
}

/* Does f end with the placeholder emit.c leaves: ,"xxx...x"] */
static bool
has_placeholder(const struct frame *f)
{
	const char	*p = (const char *)FRAME_DATA(f);
	size_t		 n = f->len, i;

	if (f->binary || n < RECLOG_OFF_LEN + 5 || p[n - 1] != ']' ||
	    p[n - 2] != '"' || p[n - 3 - RECLOG_OFF_LEN] != '"' ||
	    p[n - 4 - RECLOG_OFF_LEN] != ',')
		return false;
	for (i = n - 2 - RECLOG_OFF_LEN; i < n - 2; i++)
		if (p[i] != 'x')
			return false;
	return true;
}

/* f without its placeholder (a new reference; f's own if it has none). */
struct frame *
logdeliver_strip(struct frame *f)
{
	struct frame	*s;
	size_t		 n;

	if (!has_placeholder(f))
		return frame_ref(f);
	n = f->len - RECLOG_OFF_LEN - 3;
	if ((s = frame_new(n, false)) == NULL)
		return frame_ref(f);
	memcpy(FRAME_DATA(s), FRAME_DATA(f), n - 1);
	FRAME_DATA(s)[n - 1] = ']';
	return s;
}

/*
 * f as logdeliver_put() left it (its offset in place of the placeholder),
 * without that offset, which goes to off (RECLOG_OFF_LEN chars, no NUL);
 * NULL when f has no such end or no memory.
 */
struct frame *
logdeliver_unpatch(const struct frame *f, char *off)
{
	const char	*p = (const char *)FRAME_DATA(f);
	struct frame	*s;
	size_t		 n = f->len, i;

	if (f->binary || n < RECLOG_OFF_LEN + 5 || p[n - 1] != ']' ||
	    p[n - 2] != '"' || p[n - 3 - RECLOG_OFF_LEN] != '"' ||
	    p[n - 4 - RECLOG_OFF_LEN] != ',')
		return NULL;
	for (i = n - 2 - RECLOG_OFF_LEN; i < n - 2; i++)
		if (!((p[i] >= '0' && p[i] <= '9') ||
		    (p[i] >= 'a' && p[i] <= 'f')))
			return NULL;
	memcpy(off, p + n - 2 - RECLOG_OFF_LEN, RECLOG_OFF_LEN);
	n -= RECLOG_OFF_LEN + 3;
	if ((s = frame_new(n, false)) == NULL)
		return NULL;
	memcpy(FRAME_DATA(s), p, n - 1);
	FRAME_DATA(s)[n - 1] = ']';
	return s;
}

/*
 * May another worker have a member of room?  Only a user's sockets join
 * its room, so when presence says they are all here, no other worker has
 * anything to deliver and none is woken (issue 16: the wake, through
 * nng's threads, cost the peer more than the message itself).  Presence
 * hears of a socket on another worker a bus hop late: in that window its
 * frame waits for that worker's next iteration or LOGDEL_TICK, never
 * lost.  Any other room: perhaps.
 */
static bool
elsewhere(struct gateway *g, const char *room, size_t rlen)
{
	struct roomname_ref	 ref;
	char			 user[ROOMNAME_SIZE];

	if (room == NULL || roomname_parse(room, rlen, &ref) != ROOMNAME_OK ||
	    ref.kind != ROOMNAME_USER || ref.alen >= sizeof(user))
		return true;
	memcpy(user, ref.a, ref.alen);
	user[ref.alen] = '\0';
	return presence_total_count(g->presence, user) >
	    presence_local_count(g->presence, user);
}

/*
 * Append frame f (with emit.c's placeholder) for to/room/except, for
 * every worker (worker -1) or this one, and deliver the log to its head:
 * f itself by fn(g, f, arg) when fn is set, else by the entry's rule (s:
 * the RECLOG_TO_SOCKET target, when the caller has it).  0: delivered;
 * -1: not in the log (no log, no placeholder, too large, or called from a
 * delivery): the caller delivers logdeliver_strip(f) as without a log.
 * The caller keeps its reference.
 */
int
logdeliver_put(struct gateway *g, int to, bool everyone, const char *room,
    size_t rlen, const char *except, struct frame *f, struct session *s,
    logdel_fn *fn, void *arg)
{
	struct logdel		*ld = g->logdel;
	struct reclog_put	 p;
	uint64_t		 seq;

	if (ld == NULL || ld->reading || !has_placeholder(f))
		return -1;
	memset(&p, 0, sizeof(p));
	p.to = to;
	p.worker = everyone ? -1 : g->t->wid;
	p.origin = g->t->wid;
	p.room = room;
	p.rlen = rlen;
	p.except = except;
	p.elen = except != NULL ? strlen(except) : 0;
	p.frame = (char *)FRAME_DATA(f);
	p.flen = f->len;
	p.patch = (long)(f->len - 2 - RECLOG_OFF_LEN);
	if (reclog_append(g->conf->reclog, &p, &seq) != 0)
		return -1;
	ld->own_seq = seq;
	ld->own_f = f;
	ld->own_s = s;
	ld->own_fn = fn;
	ld->own_arg = arg;
	ld->own_done = 0;
	logdeliver_catch_up(g);
	ld->own_f = NULL;
	if (!ld->own_done) {
		/* Evicted before this worker read it: f is still here. */
		if (fn != NULL)
			fn(g, f, arg);
		else
			deliver(g, f, to, room, rlen, except, p.elen, s);
	}
	if (everyone && !ld->woke && g->bus != NULL &&
	    (g->bell == NULL || doorbell_npeers(g->bell) > 0) &&
	    elsewhere(g, room, rlen)) {
		ld->woke = 1;
		ld->ring_due = 1;	/* on_prep rings */
	}
	return 0;
}

static void
on_check(struct ev_loop *loop, ev_check *w, int revents)
{
	struct gateway	*g = w->data;

	(void)loop;
	(void)revents;
	g->logdel->woke = 0;
}

/*
 * Before the loop sleeps: the wake this iteration owes, then what others
 * appended meanwhile.  The wake waits for the iteration's end (issue 16):
 * with the workers on one CPU a peer woken mid-iteration preempted this
 * one, and each message that crossed cost two task switches, the most of
 * what crossing cost; rung as this worker is about to sleep, the peer
 * runs when it would have anyway, and every frame of the iteration goes
 * with one ring.
 */
static void
on_prep(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct gateway	*g = w->data;

	(void)loop;
	(void)revents;
	if (g->logdel->ring_due) {
		g->logdel->ring_due = 0;
		/* The bell; the bus for a peer that has none (doorbell.c). */
		if (g->bell == NULL || doorbell_ring(g->bell) != 0)
			(void)bus_send(g->bus, GW_BUS_LOGWAKE, "w", 1);
	}
	if (reclog_head(g->conf->reclog) != g->logdel->cur.next)
		logdeliver_catch_up(g);
}

static void
on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct gateway	*g = w->data;

	(void)loop;
	(void)revents;
	if (reclog_head(g->conf->reclog) != g->logdel->cur.next)
		logdeliver_catch_up(g);
}

/* GW_BUS_LOGWAKE: another worker appended. */
void
logdeliver_recv(struct gateway *g)
{
	if (g->logdel != NULL)
		logdeliver_catch_up(g);
}

int
logdeliver_init(struct gateway *g)
{
	struct logdel	*ld;

	if (g->conf->reclog == NULL)
		return 0;
	if ((ld = calloc(1, sizeof(*ld))) == NULL)
		return -1;
	g->logdel = ld;
	reclog_cursor_init(g->conf->reclog, &ld->cur);
	ev_check_init(&ld->check, on_check);
	ld->check.data = g;
	ev_check_start(g->t->loop, &ld->check);
	ev_prepare_init(&ld->prep, on_prep);
	ld->prep.data = g;
	ev_prepare_start(g->t->loop, &ld->prep);
	ev_timer_init(&ld->tick, on_tick, LOGDEL_TICK, LOGDEL_TICK);
	ld->tick.data = g;
	ev_timer_start(g->t->loop, &ld->tick);
	ev_unref(g->t->loop);	/* the loop may end with these running */
	ev_unref(g->t->loop);
	ev_unref(g->t->loop);
	ld->slice_t = ev_now(g->t->loop);
	return 0;
}

void
logdeliver_free(struct gateway *g)
{
	struct logdel	*ld = g->logdel;

	if (ld == NULL)
		return;
	ev_ref(g->t->loop);
	ev_ref(g->t->loop);
	ev_ref(g->t->loop);
	ev_check_stop(g->t->loop, &ld->check);
	ev_prepare_stop(g->t->loop, &ld->prep);
	ev_timer_stop(g->t->loop, &ld->tick);
	free(ld);
	g->logdel = NULL;
}

/* Every second, with the worker's report. */
void
logdeliver_stats(struct gateway *g, struct worker_stats *st)
{
	struct logdel	*ld = g->logdel;
	ev_tstamp	 now;
	unsigned	 i;

	if (ld == NULL)
		return;
	now = ev_now(g->t->loop);
	if (now - ld->slice_t >= 10.0) {
		ld->slice = (ld->slice + 1) % LOGDEL_SLICES;
		ld->lost_at[ld->slice] = ld->cur.lost;
		ld->slice_t = now;
	}
	/* The oldest slice's start: about a minute ago. */
	i = (ld->slice + 1) % LOGDEL_SLICES;
	st->recovery_log_lost = ld->cur.lost;
	st->recovery_log_lost_recent = ld->cur.lost - ld->lost_at[i];
}
