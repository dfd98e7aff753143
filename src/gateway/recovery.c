/*
 * recovery: connection state recovery (issue 15), socket.io 4.6's, with
 * the host's log in shared memory (cluster/reclog.h) so that a client may
 * come back to any worker, after a reload or a worker's SIGKILL.
 *
 * A CONNECT whose auth has {pid, offset} (the client's last one) is
 * authenticated as any other first (an expired token is refused before
 * this file sees it), then its session is taken from the log (same user,
 * parked, not older than max_disconnection_duration).  Then, in this one
 * loop callback: the worker delivers the log to its head for everybody
 * (its cursor), collects from the scan of (offset, that head) what the
 * session missed (its sid, its rooms, its user's room, minus the except;
 * of frames from Redis the old worker's copies), sends them, rejoins the
 * rooms, and answers with the old sid and the same pid.  Nothing can
 * come between: what is appended later, the next read delivers through
 * the rooms.  Any failure makes a new socket (recovered false on the
 * client), its reason counted.
 *
 * Presence does not flap: a socket closed for a reason its client may
 * recover from stays counted for its user (a ghost) until the session is
 * recovered anywhere on the host (the recovering worker, once it counted
 * the new socket, sends GW_BUS_RECOVERED; the ghost's worker drops it, the
 * user online all along) or until max_disconnection_duration and a grace
 * have passed (the normal offline, once).  Ghosts are bounded by the
 * slots (recovery_sessions): a ghost is kept only for a parked slot.  A
 * drain keeps none: the worker goes, and its users with it.
 */
#include <stdlib.h>
#include <string.h>

#include "be.h"
#include "bus.h"
#include "gateway.h"
#include "log.h"
#include "reclog.h"
#include "roomname.h"
#include "rooms.h"
#include "session.h"
#include "socketio.h"
#include "stats.h"
#include "transport.h"

/* After max_disconnection_duration, a RECOVERED on its way still counts. */
#define GHOST_GRACE	2.0	/* s */

struct gw_ghost {
	uint32_t		 hash;		/* first: htab */
	char			 pid[RECLOG_PID_LEN + 1];
	struct gw_socket	*gs;		/* no session: gs->s NULL */
	double			 due;		/* loop time */
	struct gw_ghost		*prev, *next;
};

/* The frames a recovering session missed, copied out of the log. */
struct replay {
	const struct reclog_sess *rs;
	int			 old;
	char			 uroom[ROOMNAME_SIZE];
	size_t			 ulen;
	size_t			 max;
	size_t			 n, cap;
	char			**f;
	size_t			*flen;
	int			 over;
	int			 oom;
};

static int	 recover(struct gateway *, struct session *, struct gw_socket *,
		    const struct recovery_ask *);
static int	 reason_of(int);
static int	 collect(void *, const struct reclog_ent *);
static void	 replay_free(struct replay *);
static void	 rejoin(struct gateway *, struct gw_socket *,
		    const struct reclog_sess *);
static void	 ghost_drop(struct gateway *, struct gw_ghost *);
static bool	 ghost_eq(const void *, const void *);
static bool	 same_ptr(const void *, const void *);
static struct gw_ghost *ghost_find(struct gateway *, const char *);
static void	 on_due(struct ev_loop *, ev_timer *, int);
static void	 arm(struct gateway *);

int
recovery_init(struct gateway *g, uint64_t seed)
{
	struct gw_recovery	*r;

	if (g->conf->reclog == NULL)
		return 0;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return -1;
	if (htab_init(&r->ghosts, seed) != 0) {
		free(r);
		return -1;
	}
	ev_timer_init(&r->due, on_due, 0, 0);
	r->due.data = g;
	g->recovery = r;
	return 0;
}

/* The worker ends: its ghosts go with it (the others drop its users). */
void
recovery_free(struct gateway *g)
{
	struct gw_recovery	*r = g->recovery;
	struct gw_ghost		*gh;

	if (r == NULL)
		return;
	ev_timer_stop(g->t->loop, &r->due);
	while ((gh = r->first) != NULL) {
		r->first = gh->next;
		free(gh->gs->user);
		free(gh->gs);
		free(gh);
	}
	htab_free(&r->ghosts);
	free(r);
	g->recovery = NULL;
}

/* A reclog error as the reason counted. */
static int
reason_of(int rc)
{
	switch (rc) {
	case RECLOG_E_EXPIRED:
		return GW_REC_EXPIRED;
	case RECLOG_E_LIVE:
		return GW_REC_LIVE;
	case RECLOG_E_USER:
		return GW_REC_USER;
	case RECLOG_E_GONE:
		return GW_REC_GONE;
	case RECLOG_E_FULL:
		return GW_REC_FULL;
	case RECLOG_E_ROOMS:
		return GW_REC_ROOMS;
	case RECLOG_E_TOOMANY:
		return GW_REC_TOOMANY;
	default:
		return GW_REC_NOSESSION;
	}
}

/* reclog_scan()'s callback: keep e if the session missed it. */
static int
collect(void *arg, const struct reclog_ent *e)
{
	struct replay	*rp = arg;
	size_t		 cap;
	char		*c;
	void		*p;

	if (!recovery_wants(rp->rs, rp->old, rp->uroom, rp->ulen, e))
		return 0;
	if (rp->n >= rp->max) {
		rp->over = 1;
		return 1;
	}
	if (rp->n == rp->cap) {
		cap = rp->cap == 0 ? 16 : rp->cap * 2;
		if ((p = realloc(rp->f, cap * sizeof(*rp->f))) == NULL)
			goto oom;
		rp->f = p;
		if ((p = realloc(rp->flen, cap * sizeof(*rp->flen))) == NULL)
			goto oom;
		rp->flen = p;
		rp->cap = cap;
	}
	if ((c = malloc(e->flen)) == NULL)
		goto oom;
	memcpy(c, e->frame, e->flen);
	rp->f[rp->n] = c;
	rp->flen[rp->n++] = e->flen;
	return 0;
oom:
	rp->oom = 1;
	return 1;
}

static void
replay_free(struct replay *rp)
{
	size_t	i;

	for (i = 0; i < rp->n; i++)
		free(rp->f[i]);
	free(rp->f);
	free(rp->flen);
}

/* The recovered socket is in its rooms again (no presence: it never left). */
static void
rejoin(struct gateway *g, struct gw_socket *gs, const struct reclog_sess *rs)
{
	size_t	at = 0, n;

	while (at < rs->rooms_len && at < sizeof(rs->rooms)) {
		n = strnlen(rs->rooms + at, sizeof(rs->rooms) - at);
		if (n > 0 && rooms_join(g->rooms, rs->rooms + at, n, gs) ==
		    ROOMS_JOIN_FULL)
			g->rooms_refused++;
		at += n + 1;
	}
}

/*
 * The recovery proper, in this one callback: -1 when recovered, else the
 * reason it was not (the session, if taken, is dropped: its client gets
 * a new one).
 */
static int
recover(struct gateway *g, struct session *s, struct gw_socket *gs,
    const struct recovery_ask *a)
{
	struct reclog		*rl = g->conf->reclog;
	struct reclog_sess	 rs;
	struct replay		 rp;
	uint64_t		 after, upto;
	size_t			 i;
	int			 rc, n;

	if (reclog_parse_off(rl, a->off, RECLOG_OFF_LEN, &after) != 0)
		return GW_REC_GONE;	/* our shape, another log's epoch */
	if (recovery_user_hash(gs->user, gs->ulen, gs->uhash) != 0)
		return GW_REC_USER;
	if ((rc = reclog_sess_take(rl, a->pid, gs->uhash, g->t->wid,
	    (uint64_t)g->conf->max_disconnection_ms, &rs)) != 0)
		return reason_of(rc);
	memset(&rp, 0, sizeof(rp));
	rp.rs = &rs;
	rp.old = rs.worker;
	n = roomname_user(gs->user, gs->ulen, rp.uroom);
	rp.ulen = n > 0 ? (size_t)n : 0;
	rp.max = (size_t)g->conf->recovery_max_replay;
	/* The log to its head for everybody: what follows, the next read. */
	upto = logdeliver_catch_up(g);
	rc = upto > 0 ? reclog_scan(rl, after, upto - 1, collect, &rp) :
	    RECLOG_E_GONE;
	if (rc < 0 || rp.over || rp.oom ||
	    socketio_set_ids(s, rs.sid, a->pid) != 0) {
		replay_free(&rp);
		(void)reclog_sess_drop(rl, a->pid);
		return rc < 0 ? reason_of(rc) : rp.over ? GW_REC_TOOMANY :
		    GW_REC_NOSESSION;
	}
	for (i = 0; i < rp.n; i++)
		session_send_text(s, rp.f[i], rp.flen[i]);
	g->recovery->replayed += rp.n;
	replay_free(&rp);
	rejoin(g, gs, &rs);
	memcpy(gs->pid, a->pid, sizeof(gs->pid));
	gs->rec_old = rp.old;
	log_debug("socket %s recovered from worker %d: %zu packets replayed",
	    rs.sid, rp.old, i);
	return -1;
}

/*
 * A CONNECT accepted, its answer not yet sent (struct app's accepting):
 * recover the session its auth names, or give the socket a new one.
 */
void
recovery_accepting(struct gateway *g, struct session *s, json_t *auth)
{
	struct gw_socket	*gs = s->app_data;
	struct recovery_ask	 a;
	int			 rc, why;

	if (g->recovery == NULL || gs == NULL)
		return;
	gs->rec_old = -1;
	if ((rc = recovery_ask(auth, &a)) != RECOVERY_ASK_NONE) {
		g->recovery->attempts++;
		why = rc == RECOVERY_ASK_BAD ? GW_REC_MALFORMED :
		    (why = recremote_accepting(g, s, gs)) != RECREMOTE_NONE ?
		    why : recover(g, s, gs, &a);
		if (why < 0) {
			g->recovery->ok++;
			return;
		}
		g->recovery->failed[why]++;
		log_debug("session %s: not recovered (reason %d): a new "
		    "socket", s->sid, why);
	}
	recslot_new(g, s, gs);
}

/*
 * A recovered socket is counted for its user (online_join()): its ghost
 * can go, with no presence event.  Here, or by the ghost's worker.
 */
void
recovery_connected(struct gateway *g, struct gw_socket *gs)
{
	struct gw_ghost	*gh;
	uint8_t		 rec[4 + RECLOG_PID_LEN];

	if (g->recovery == NULL || gs->rec_old < 0)
		return;
	if (gs->rec_old == g->t->wid) {
		if ((gh = ghost_find(g, gs->pid)) != NULL)
			ghost_drop(g, gh);
	} else if (g->bus != NULL) {
		be_put32(rec, (uint32_t)gs->rec_old);
		memcpy(rec + 4, gs->pid, RECLOG_PID_LEN);
		bus_send(g->bus, GW_BUS_RECOVERED, rec, sizeof(rec));
	}
	gs->rec_old = -1;
}

/* GW_BUS_RECOVERED: a session this worker served lives elsewhere now. */
void
recovery_recv(struct gateway *g, const void *data, size_t len)
{
	struct gw_ghost	*gh;
	char		 pid[RECLOG_PID_LEN + 1];

	if (g->recovery == NULL || len != 4 + RECLOG_PID_LEN ||
	    (int)be_get32(data) != g->t->wid)
		return;
	memcpy(pid, (const uint8_t *)data + 4, RECLOG_PID_LEN);
	pid[RECLOG_PID_LEN] = '\0';
	if ((gh = ghost_find(g, pid)) != NULL)
		ghost_drop(g, gh);
}

/*
 * gs's socket closed for reason: true when gs stays as a ghost (the
 * caller leaves its presence as it is and keeps gs, its session gone),
 * false when the caller ends it as always.  Its slot is parked or
 * dropped here.
 */
bool
recovery_closed(struct gateway *g, struct gw_socket *gs, const char *reason)
{
	struct gw_recovery	*r = g->recovery;
	struct gw_ghost		*gh;

	if (recslot_close(g, gs, reason) == 0 ||
	    strcmp(reason, "server shutting down") == 0)
		return false;
	if ((gh = calloc(1, sizeof(*gh))) == NULL)
		return false;
	memcpy(gh->pid, gs->pid, sizeof(gh->pid));
	gh->hash = htab_hash(&r->ghosts, gh->pid, RECLOG_PID_LEN);
	if (htab_insert(&r->ghosts, gh) != 0) {
		free(gh);
		return false;
	}
	gh->gs = gs;
	gh->due = ev_now(g->t->loop) + GHOST_GRACE +
	    (double)g->conf->max_disconnection_ms / 1000.0;
	gh->prev = r->last;
	if (r->last != NULL)
		r->last->next = gh;
	else
		r->first = gh;
	r->last = gh;
	if (!ev_is_active(&r->due))
		arm(g);
	return true;
}

static bool
ghost_eq(const void *e, const void *k)
{
	return memcmp(((const struct gw_ghost *)e)->pid, k, RECLOG_PID_LEN) ==
	    0;
}

static bool
same_ptr(const void *e, const void *k)
{
	return e == k;
}

static struct gw_ghost *
ghost_find(struct gateway *g, const char *pid)
{
	struct htab	*h = &g->recovery->ghosts;

	return htab_find(h, htab_hash(h, pid, RECLOG_PID_LEN), ghost_eq, pid,
	    NULL);
}

/*
 * The ghost goes: its socket's presence ends as any socket's (its user
 * may be online elsewhere: then no event).
 */
static void
ghost_drop(struct gateway *g, struct gw_ghost *gh)
{
	struct gw_recovery	*r = g->recovery;
	size_t			 at;

	if (htab_find(&r->ghosts, gh->hash, same_ptr, gh, &at) != NULL)
		htab_remove(&r->ghosts, at);
	if (gh->prev != NULL)
		gh->prev->next = gh->next;
	else
		r->first = gh->next;
	if (gh->next != NULL)
		gh->next->prev = gh->prev;
	else
		r->last = gh->prev;
	online_leave(g, gh->gs, 1);
	free(gh->gs->user);
	free(gh->gs);
	free(gh);
}

/* The timer for the first ghost due. */
static void
arm(struct gateway *g)
{
	struct gw_recovery	*r = g->recovery;
	double			 in;

	ev_timer_stop(g->t->loop, &r->due);
	if (r->first == NULL)
		return;
	in = r->first->due - ev_now(g->t->loop);
	ev_timer_set(&r->due, in > 0 ? in : 0, 0);
	ev_timer_start(g->t->loop, &r->due);
}

/* Ghosts whose clients did not come back in time: offline now. */
static void
on_due(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct gateway	*g = w->data;
	struct gw_ghost	*gh;

	(void)revents;
	while ((gh = g->recovery->first) != NULL && gh->due <= ev_now(loop))
		ghost_drop(g, gh);
	arm(g);
}

void
recovery_stats(const struct gateway *g, struct worker_stats *st)
{
	const struct gw_recovery	*r = g->recovery;

	if (r == NULL)
		return;
	st->recovery_attempts = r->attempts;
	st->recovery_ok = r->ok;
	st->recovery_failed_nosession = r->failed[GW_REC_NOSESSION];
	st->recovery_failed_expired = r->failed[GW_REC_EXPIRED];
	st->recovery_failed_gone = r->failed[GW_REC_GONE];
	st->recovery_failed_toomany = r->failed[GW_REC_TOOMANY];
	st->recovery_failed_user = r->failed[GW_REC_USER];
	st->recovery_failed_live = r->failed[GW_REC_LIVE];
	st->recovery_failed_rooms = r->failed[GW_REC_ROOMS];
	st->recovery_failed_full = r->failed[GW_REC_FULL];
	st->recovery_failed_malformed = r->failed[GW_REC_MALFORMED];
	st->recovery_replayed = r->replayed;
	st->recovery_parked = r->ghosts.n;
}
