/*
 * presfeed: presence to this worker's sockets in mode "all", for clients
 * that keep up and for clients behind on reading (issue 16).
 *
 * Presence is state, not a message log.  In a storm (10,000 users
 * connecting) every socket would be queued one user_connected per user:
 * megabytes a socket, 50 million frames, pings behind them.  So each
 * worker numbers the changes it announces (a version) and remembers the
 * last presence_coalesce_max of them in a ring; a socket's queue over
 * presence_behind bytes, or all queues together over this worker's share
 * of output_queue_budget, and the socket is not queued the change: it is
 * marked stale at the version it had.  A sweep (SWEEP_S, only while some
 * socket is stale) finds the stale sockets whose queue is empty and sends
 * each what changed since its version: the net change per user (a user
 * who came and went is not mentioned), or one fresh online_users when its
 * version left the ring or more than presence_coalesce_max changed.
 * Memory: the ring (users), a version and a flag per socket; never users
 * x sockets.
 *
 * Batches: a storm announces many changes in one loop iteration (each
 * CONNECT read in it), and one write per change per socket is a system
 * call, and a loopback delivery, per frame: 82% of a worker's CPU at
 * 6,000 sockets.  So a change is queued, the socket corked, and every
 * socket corked is written once, all its changes together, when the
 * iteration ends (an ev_prepare, as bus.c's batch), and not sooner than
 * FLUSH_S, or twice what the last flush took, after it: the first change
 * after a quiet spell goes at once, a storm's go a batch a write (at
 * 10,000 sockets the writes, not the changes, are the worker's cost),
 * and the flushes take at most a third of the worker: the rest serves
 * the handshakes of those connecting, which would otherwise wait a whole
 * flush for each of their steps.
 *
 * Offsets (issue 15): a change a socket keeps up with goes through the
 * recovery log as before (LOGDEL_ALL, this worker's entry).  A catch-up
 * is not put in the log: its frames carry no offset, so the client's
 * offset stays the last logged frame it read, and a recovery from it
 * replays this worker's presence entries after it, in order: a view that
 * ends right.  Except when the client read a later logged frame (a
 * message queued after the held changes) and not the catch-up: then the
 * changes held are before its offset and would not be replayed.  So a
 * socket that was ever stale and is parked for recovery gets one fresh
 * online_users appended to the log for its sid as it closes; a recovery
 * replays it after everything the client read, and the presence entries
 * after it.  Catch-ups outside the log keep storms out of it: a fresh
 * online_users per socket per catch-up would evict everybody's packets.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "events.h"
#include "frame.h"
#include "gateway.h"
#include "log.h"
#include "presence.h"
#include "reclog.h"
#include "session.h"
#include "stats.h"
#include "transport.h"

#define SWEEP_S		0.05	/* s between looks at the stale sockets */
#define FLUSH_S		0.05	/* s at least between two presence writes */

struct pf_change {
	uint64_t	 ver;
	uint8_t		 online;
	char		 user[PRESENCE_USER_MAX + 1];
};

struct presfeed {
	uint64_t		 ver;		/* the last change's */
	struct pf_change	*ring;		/* version v at (v - 1) % cap */
	size_t			 cap;
	size_t			 budget;	/* this worker's share, bytes */
	ev_timer		 sweep;
	ev_prepare		 flush;		/* sockets corked: write them */
	ev_timer		 flush_later;	/* ... FLUSH_S after the last */
	ev_tstamp		 flushed;	/* the last flush ended */
	ev_tstamp		 flush_cost;	/* ... and took this long */
	bool			 corked;
	struct frame		*roster;	/* online_users at roster_ver */
	uint64_t		 roster_ver;
	uint64_t		 stale;		/* sockets stale now */
	uint64_t		 held, coalesced, refreshed, over_budget;
};

struct pf_fan {
	struct presfeed		*pf;
	const struct session	*except;
};

static void	 on_sweep(struct ev_loop *, ev_timer *, int);
static void	 on_flush(struct ev_loop *, ev_prepare *, int);
static void	 on_flush_later(struct ev_loop *, ev_timer *, int);

static bool
live(const struct session *s)
{
	return s->state != SESSION_CLOSED && s->nsp_mask != 0 &&
	    s->doom == NULL && s->app_data != NULL;
}

int
presfeed_init(struct gateway *g)
{
	struct presfeed	*pf;
	long		 n = (long)g->t->conf->workers;

	if ((pf = calloc(1, sizeof(*pf))) == NULL)
		return -1;
	pf->cap = (size_t)g->conf->presence_coalesce_max;
	if ((pf->ring = calloc(pf->cap, sizeof(*pf->ring))) == NULL) {
		free(pf);
		return -1;
	}
	if (n <= 0 && (n = sysconf(_SC_NPROCESSORS_ONLN)) < 1)
		n = 1;
	pf->budget = (size_t)(g->conf->output_queue_budget / n);
	ev_timer_init(&pf->sweep, on_sweep, SWEEP_S, SWEEP_S);
	pf->sweep.data = g;
	ev_prepare_init(&pf->flush, on_flush);
	ev_set_priority(&pf->flush, EV_MINPRI);
	pf->flush.data = g;
	ev_timer_init(&pf->flush_later, on_flush_later, 0, 0);
	pf->flush_later.data = g;
	g->presfeed = pf;
	return 0;
}

void
presfeed_free(struct gateway *g)
{
	struct presfeed	*pf = g->presfeed;

	if (pf == NULL)
		return;
	ev_timer_stop(g->t->loop, &pf->sweep);
	ev_prepare_stop(g->t->loop, &pf->flush);
	ev_timer_stop(g->t->loop, &pf->flush_later);
	frame_unref(pf->roster);
	free(pf->ring);
	free(pf);
	g->presfeed = NULL;
}

/* Over the queue bound or the budget: hold presence for s. */
static bool
behind(struct gateway *g, const struct session *s)
{
	struct presfeed	*pf = g->presfeed;

	if (s->q.bytes >= (size_t)g->conf->presence_behind)
		return true;
	if (outq_total() >= pf->budget) {
		pf->over_budget++;
		return true;
	}
	return false;
}

static void
mark_stale(struct gateway *g, struct gw_socket *gs, uint64_t had)
{
	struct presfeed	*pf = g->presfeed;

	gs->pres_stale = 1;
	gs->pres_owed = 1;
	gs->pres_ver = had;
	pf->stale++;
	if (!ev_is_active(&pf->sweep))
		ev_timer_start(g->t->loop, &pf->sweep);
}

/* logdeliver's delivery of a change: each socket keeping up, or held. */
static void
fan(struct gateway *g, struct frame *f, void *arg)
{
	struct pf_fan		*a = arg;
	struct session		*s;
	struct gw_socket	*gs;

	for (s = g->t->all; s != NULL; s = s->next) {
		if (s == a->except || !live(s))
			continue;
		gs = s->app_data;
		if (gs->pres_stale) {
			a->pf->held++;
			continue;
		}
		if (behind(g, s)) {
			a->pf->held++;
			mark_stale(g, gs, a->pf->ver - 1);
			continue;
		}
		if (!s->corked) {
			session_cork(s);
			gs->pres_corked = 1;
			if (!a->pf->corked) {
				a->pf->corked = true;
				ev_prepare_start(g->t->loop, &a->pf->flush);
			}
		}
		session_send(s, frame_ref(f));
		g->messages++;
	}
}

/* Each socket corked writes its changes at once. */
static void
flush(struct gateway *g)
{
	struct session		*s;
	struct gw_socket	*gs;
	ev_tstamp		 t0 = ev_time();

	g->presfeed->corked = false;
	for (s = g->t->all; s != NULL; s = s->next) {
		if ((gs = s->app_data) == NULL || !gs->pres_corked)
			continue;
		gs->pres_corked = 0;
		session_uncork(s);
	}
	g->presfeed->flushed = ev_time();
	g->presfeed->flush_cost = g->presfeed->flushed - t0;
}

/* The iteration is over: flush, or FLUSH_S after the last flush. */
static void
on_flush(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct gateway	*g = w->data;
	struct presfeed	*pf = g->presfeed;
	ev_tstamp	 wait = pf->flushed - ev_now(loop) +
	    (2 * pf->flush_cost > FLUSH_S ? 2 * pf->flush_cost : FLUSH_S);

	(void)revents;
	ev_prepare_stop(loop, w);
	if (wait > 0) {
		ev_timer_set(&pf->flush_later, wait, 0);
		ev_timer_start(loop, &pf->flush_later);
		return;
	}
	flush(g);
}

static void
on_flush_later(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	flush(w->data);
}

/*
 * user went online (1) or offline (0), as this worker's sockets are to
 * hear it: every socket but except.
 */
void
presfeed_announce(struct gateway *g, const char *user, int online,
    struct session *except)
{
	struct presfeed		*pf = g->presfeed;
	struct pf_change	*c;
	struct pf_fan		 a = { pf, except };
	struct frame		*f, *d;
	json_t			*o;

	pf->ver++;
	c = &pf->ring[(pf->ver - 1) % pf->cap];
	c->ver = pf->ver;
	c->online = (uint8_t)(online != 0);
	strncpy(c->user, user, sizeof(c->user) - 1);
	c->user[sizeof(c->user) - 1] = '\0';
	o = events_user_json(user);
	f = emit_frame(online ? "user_connected" : "user_disconnected", o);
	json_decref(o);
	if (f == NULL)
		return;
	if (logdeliver_put(g, RECLOG_TO_ROOM, false, LOGDEL_ALL,
	    sizeof(LOGDEL_ALL) - 1, except != NULL ? except->sio_sid : NULL,
	    f, NULL, fan, &a) != 0) {
		d = logdeliver_strip(f);
		fan(g, d, &a);
		frame_unref(d);
	}
	frame_unref(f);
}

static void
add_user(void *arg, const char *user)
{
	json_array_append_new(arg, json_string(user));
}

/* online_users now, as a frame (with emit.c's placeholder, if any). */
static struct frame *
roster(struct gateway *g)
{
	struct frame	*f;
	json_t		*o = json_array();

	if (o == NULL)
		return NULL;
	presence_list(g->presence, add_user, o);
	f = emit_frame("online_users", o);
	json_decref(o);
	return f;
}

/*
 * online_users now, outside the log (no offset): encoded once a version,
 * whichever of the sockets behind asks (a reference for the caller).
 */
static struct frame *
roster_plain(struct gateway *g)
{
	struct presfeed	*pf = g->presfeed;
	struct frame	*f;

	if (pf->roster == NULL || pf->roster_ver != pf->ver) {
		if ((f = roster(g)) == NULL)
			return NULL;
		frame_unref(pf->roster);
		pf->roster = logdeliver_strip(f);
		frame_unref(f);
		pf->roster_ver = pf->ver;
	}
	return frame_ref(pf->roster);
}

/* A frame outside the log (no offset) to s. */
static void
send_plain(struct gateway *g, struct session *s, struct frame *f)
{
	struct frame	*d;

	if (f == NULL)
		return;
	d = logdeliver_strip(f);
	frame_unref(f);
	session_send(s, d);
	g->messages++;
}

static int
by_user(const void *a, const void *b)
{
	const struct pf_change	*x = *(const struct pf_change *const *)a;
	const struct pf_change	*y = *(const struct pf_change *const *)b;
	int			 c = strcmp(x->user, y->user);

	if (c != 0)
		return c;
	return x->ver < y->ver ? -1 : x->ver > y->ver;
}

/*
 * The net change per user since version had: a user with an even number
 * of changes is where the client last saw it.  -1: out of memory.
 */
static int
coalesce(struct gateway *g, struct session *s, uint64_t had)
{
	struct presfeed		*pf = g->presfeed;
	struct pf_change	**v, *last;
	size_t			 n = (size_t)(pf->ver - had), i, j;
	json_t			*o;

	if ((v = malloc(n * sizeof(*v))) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		v[i] = &pf->ring[(had + i) % pf->cap];
	qsort(v, n, sizeof(*v), by_user);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && strcmp(v[j]->user, v[i]->user) == 0;
		    j++)
			;
		if ((j - i) % 2 == 0)
			continue;	/* came and went, or went and came */
		last = v[j - 1];
		o = events_user_json(last->user);
		send_plain(g, s, emit_frame(last->online ? "user_connected" :
		    "user_disconnected", o));
		json_decref(o);
	}
	free(v);
	return 0;
}

/* What s missed since it went stale: the net changes, or a roster. */
static void
catch_up(struct gateway *g, struct session *s, struct gw_socket *gs)
{
	struct presfeed	*pf = g->presfeed;
	uint64_t	 gap = pf->ver - gs->pres_ver;
	struct frame	*f;
	bool		 corked = s->corked;

	gs->pres_stale = 0;
	pf->stale--;
	if (gap == 0)
		return;
	/* The catch-up's frames in one write, not a system call each. */
	if (!corked)
		session_cork(s);
	if (gap <= pf->cap && coalesce(g, s, gs->pres_ver) == 0)
		pf->coalesced++;
	else if ((f = roster_plain(g)) != NULL) {
		session_send(s, f);
		g->messages++;
		pf->refreshed++;
	}
	gs->pres_ver = pf->ver;
	if (!corked)
		session_uncork(s);
}

/* The stale sockets whose queues are out, while the budget allows. */
static void
on_sweep(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct gateway		*g = w->data;
	struct presfeed		*pf = g->presfeed;
	struct session		*s;
	struct gw_socket	*gs;

	(void)revents;
	for (s = g->t->all; s != NULL && pf->stale > 0; s = s->next) {
		if (!live(s) || !((struct gw_socket *)s->app_data)->pres_stale ||
		    !session_drained(s))
			continue;
		if (outq_total() >= pf->budget) {
			pf->over_budget++;
			return;
		}
		gs = s->app_data;
		catch_up(g, s, gs);
	}
	if (pf->stale == 0)
		ev_timer_stop(loop, w);
}

/*
 * gs's socket closed (parked: kept for its client's recovery).  A socket
 * that was ever stale and is parked leaves a fresh online_users in the
 * log for its sid: see the head comment.
 */
void
presfeed_closed(struct gateway *g, struct gw_socket *gs, bool parked)
{
	struct presfeed	*pf = g->presfeed;
	struct frame	*f;

	if (pf == NULL)
		return;
	if (gs->pres_corked) {
		gs->pres_corked = 0;
		if (gs->s != NULL)
			session_uncork(gs->s);
	}
	if (gs->pres_stale) {
		gs->pres_stale = 0;
		pf->stale--;
	}
	if (!parked || !gs->pres_owed || gs->s == NULL ||
	    (f = roster(g)) == NULL)
		return;
	(void)logdeliver_put(g, RECLOG_TO_SOCKET, false, gs->s->sio_sid,
	    strlen(gs->s->sio_sid), NULL, f, NULL, presfeed_nowhere, NULL);
	frame_unref(f);
}

/* A log entry for a socket that is gone: nothing to deliver here. */
void
presfeed_nowhere(struct gateway *g, struct frame *f, void *arg)
{
	(void)g;
	(void)f;
	(void)arg;
}

void
presfeed_stats(struct gateway *g, struct worker_stats *st)
{
	struct presfeed	*pf = g->presfeed;

	st->output_queue_budget = pf != NULL ? pf->budget : 0;
	if (pf == NULL)
		return;
	st->presence_stale = pf->stale;
	st->presence_held = pf->held;
	st->presence_coalesced = pf->coalesced;
	st->presence_refreshed = pf->refreshed;
	st->presence_over_budget = pf->over_budget;
}
