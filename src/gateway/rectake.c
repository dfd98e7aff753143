/*
 * rectake: a live session taken over by a CONNECT that carries its pid
 * (issue 15).  A phone that loses its network sends no FIN: the gateway
 * serves its socket until the heartbeat gives up (ping_interval +
 * ping_timeout), and the client, back within seconds with {pid, offset},
 * would find its session live.  The pid is a secret given only to that
 * socket's client, so a CONNECT that holds it, authenticated as the
 * session's user (the same check as a parked take), is that client: its
 * old socket is closed where it is served, as a recoverable close
 * ("forced close": no DISCONNECT to it, its slot parked, its user kept
 * online by a ghost), and the CONNECT, held meanwhile (APP_CONNECT_PENDING,
 * at most recovery_takeover_max per worker), then recovers the session
 * as any other (recovery.c): every frame after its offset, the same sid.
 * What the old socket had queued and not written is lost to it but is in
 * the log after that offset, which is the last event the client's
 * application saw (socket.io-client keeps the offset of each event it
 * hands on): the replay covers it.
 *
 * The old socket may be on any worker of the host: GW_BUS_TAKEOVER names
 * it (worker, pid, sid) and that worker looks it up again when the
 * record arrives (it may be gone).  The asker learns that the slot is
 * parked by reading it on a short timer, which also sees the slot parked
 * by a heartbeat, a worker's death or the reclog's repair; a bus answer
 * could be lost with its worker.  Past TAKE_WAIT it answers anyway: the
 * take finds the session live (recovery_failed_live), counted.
 *
 * Races: two takeovers of one pid both close the old socket (the second
 * record finds nothing) and both answer when it is parked: reclog's take
 * lets one win, the other finds it live.  A record must not close the
 * winner's new socket, which has the same sid and pid: a socket whose
 * slot went live after the record was asked (live_ms, the host's
 * monotonic clock) is not the one the asker saw.
 */
#include <stdlib.h>
#include <string.h>

#include "be.h"
#include "bus.h"
#include "gateway.h"
#include "log.h"
#include "reclog.h"
#include "session.h"
#include "stats.h"
#include "transport.h"

#define TAKE_WAIT	3.0	/* s: the old socket's worker closes it */
#define TAKE_POLL	0.01	/* s: the slot read again */
#define TAKE_REC_LEN	(4 + 4 + 8 + RECLOG_PID_LEN + RECLOG_SID_LEN)

/*
 * A CONNECT held until the session it takes over is parked.  Its socket
 * waits here, not in s->app_data: nothing may reach a socket that is not
 * connected yet (a broadcast to every socket, the token sweep).
 */
struct take {
	struct session	*s;		/* pinned */
	struct gw_socket *gs;		/* attached at the answer */
	json_t		*auth;		/* the CONNECT's (s->pending_auth) */
	char		 pid[RECLOG_PID_LEN + 1];
	char		 sid[RECLOG_SID_LEN + 1];	/* the session's */
	int		 worker;	/* serving it when asked */
	double		 due;		/* loop time */
	struct take	*next;
};

struct rectake {
	rectake_done	 done;
	struct take	*first;
	size_t		 n;
	ev_timer	 tick;
	uint64_t	 asked, ok, failed;
};

static int	 live_for(struct gateway *, struct gw_socket *, json_t *,
		    struct reclog_sess *);
static void	 close_old(struct gateway *, const char *, const char *,
		    uint64_t, int);
static int	 ask(struct gateway *, const struct reclog_sess *, uint64_t);
static bool	 held(const struct rectake *, const struct session *);
static bool	 ready(struct gateway *, const struct take *);
static void	 finish(struct gateway *, struct take *, bool);
static void	 on_tick(struct ev_loop *, ev_timer *, int);

int
rectake_init(struct gateway *g, rectake_done done)
{
	struct rectake	*rt;

	if (g->recovery == NULL)
		return 0;
	if ((rt = calloc(1, sizeof(*rt))) == NULL)
		return -1;
	rt->done = done;
	ev_timer_init(&rt->tick, on_tick, TAKE_POLL, TAKE_POLL);
	rt->tick.data = g;
	g->rectake = rt;
	return 0;
}

/*
 * The worker ends: a held CONNECT's session ends with it, and done()
 * releases what it made for the CONNECT.
 */
void
rectake_free(struct gateway *g)
{
	struct rectake	*rt = g->rectake;
	struct take	*tk;

	if (rt == NULL)
		return;
	ev_timer_stop(g->t->loop, &rt->tick);
	while ((tk = rt->first) != NULL) {
		rt->first = tk->next;
		rt->n--;
		session_close(tk->s, "server shutting down");
		finish(g, tk, false);
	}
	free(rt);
	g->rectake = NULL;
}

/*
 * The live session the CONNECT's auth names, if this socket's user may
 * take it over: 0 and *rs, else -1 (the recovery decides, and counts).
 */
static int
live_for(struct gateway *g, struct gw_socket *gs, json_t *auth,
    struct reclog_sess *rs)
{
	struct reclog		*rl = g->conf->reclog;
	struct recovery_ask	 a;
	uint64_t		 off;
	uint8_t			 uh[RECLOG_USER_HASH];

	if (recovery_ask(auth, &a) != RECOVERY_ASK ||
	    reclog_parse_off(rl, a.off, RECLOG_OFF_LEN, &off) != 0 ||
	    reclog_sess_get(rl, a.pid, rs) != 0 || rs->state != RECLOG_LIVE ||
	    recovery_user_hash(gs->user, gs->ulen, uh) != 0 ||
	    memcmp(uh, rs->user, sizeof(uh)) != 0)
		return -1;
	return 0;
}

/*
 * Close this worker's socket sid if it is the session pid's and its slot
 * was live before asked (else it is a newer socket: a takeover that won).
 * A recoverable close: no DISCONNECT, the slot parked, the user's ghost.
 */
static void
close_old(struct gateway *g, const char *sid, const char *pid,
    uint64_t asked, int by)
{
	struct gw_socket	*gs;

	if ((gs = sockindex_find(g, sid, RECLOG_SID_LEN)) == NULL ||
	    gs->s == NULL || gs->s->state == SESSION_CLOSED ||
	    memcmp(gs->pid, pid, RECLOG_PID_LEN) != 0 || gs->live_ms > asked)
		return;
	log_info("socket %s: taken over by a CONNECT with its pid on worker "
	    "%d (its client is back, its old connection silent)", sid, by);
	session_close(gs->s, "forced close");
}

/* GW_BUS_TAKEOVER: close the socket it names, if it is still here. */
void
rectake_recv(struct gateway *g, const void *data, size_t len)
{
	const uint8_t	*p = data;
	char		 pid[RECLOG_PID_LEN + 1], sid[RECLOG_SID_LEN + 1];

	if (g->rectake == NULL || len != TAKE_REC_LEN ||
	    (int)be_get32(p) != g->t->wid)
		return;
	memcpy(pid, p + 16, RECLOG_PID_LEN);
	pid[RECLOG_PID_LEN] = '\0';
	memcpy(sid, p + 16 + RECLOG_PID_LEN, RECLOG_SID_LEN);
	sid[RECLOG_SID_LEN] = '\0';
	close_old(g, sid, pid, be_get64(p + 8), (int)be_get32(p + 4));
}

/* Close rs's socket: here at once, else by its worker.  0, or -1. */
static int
ask(struct gateway *g, const struct reclog_sess *rs, uint64_t now)
{
	uint8_t	rec[TAKE_REC_LEN];

	if (rs->worker == g->t->wid) {
		close_old(g, rs->sid, rs->pid, now, g->t->wid);
		return 0;
	}
	if (g->bus == NULL)
		return -1;
	be_put32(rec, (uint32_t)rs->worker);
	be_put32(rec + 4, (uint32_t)g->t->wid);
	be_put64(rec + 8, now);
	memcpy(rec + 16, rs->pid, RECLOG_PID_LEN);
	memcpy(rec + 16 + RECLOG_PID_LEN, rs->sid, RECLOG_SID_LEN);
	return bus_send(g->bus, GW_BUS_TAKEOVER, rec, sizeof(rec));
}

/*
 * Has s a CONNECT held already (one that a DISCONNECT ended, until the
 * next tick): one at a time, each pins s (a byte's count).
 */
static bool
held(const struct rectake *rt, const struct session *s)
{
	const struct take	*tk;

	for (tk = rt->first; tk != NULL; tk = tk->next)
		if (tk->s == s)
			return true;
	return false;
}

/*
 * An authenticated CONNECT (s's socket attached, not yet answered) whose
 * auth names a live session of its user: its old socket is closed and
 * the CONNECT held with its socket detached, 1 (the caller answers
 * APP_CONNECT_PENDING; done() attaches and answers it later).  0: not a
 * takeover, answer as always.
 */
int
rectake_begin(struct gateway *g, struct session *s, json_t *auth)
{
	struct rectake		*rt = g->rectake;
	struct reclog_sess	 rs;
	struct take		*tk;
	uint64_t		 n;

	if (rt == NULL || s->app_data == NULL ||
	    live_for(g, s->app_data, auth, &rs) != 0)
		return 0;
	if (held(rt, s)) {
		rt->failed++;
		return 0;
	}
	if (rt->n >= (size_t)g->conf->recovery_takeover_max ||
	    (tk = calloc(1, sizeof(*tk))) == NULL) {
		n = ++rt->failed;
		if ((n & (n - 1)) == 0)
			log_warnx("a CONNECT cannot take its live session over: "
			    "%zu wait already (recovery_takeover_max; %llu "
			    "times)", rt->n, (unsigned long long)n);
		return 0;
	}
	if (ask(g, &rs, reclog_now_ms()) != 0) {
		free(tk);
		rt->failed++;
		return 0;
	}
	rt->asked++;
	session_pin(s);
	tk->s = s;
	tk->gs = s->app_data;
	s->app_data = NULL;
	tk->auth = json_incref(auth);
	memcpy(tk->pid, rs.pid, sizeof(tk->pid));
	memcpy(tk->sid, rs.sid, sizeof(tk->sid));
	tk->worker = rs.worker;
	tk->due = ev_now(g->t->loop) + TAKE_WAIT;
	tk->next = rt->first;
	rt->first = tk;
	rt->n++;
	if (!ev_is_active(&rt->tick)) {
		ev_timer_set(&rt->tick, 0, TAKE_POLL);	/* here: parked now */
		ev_timer_start(g->t->loop, &rt->tick);
	}
	return 1;
}

/*
 * Is tk's CONNECT still waiting: its session not closed, the namespace
 * pending for this CONNECT (a DISCONNECT and another CONNECT meanwhile
 * are not it: tk holds a reference, the pointer is not reused).
 */
static bool
waiting(const struct take *tk)
{
	const struct session	*s = tk->s;

	return s->state != SESSION_CLOSED && (s->nsp_pending & 1u) &&
	    s->pending_auth == tk->auth && s->app_data == NULL;
}

/* May tk's CONNECT be answered: its session released, or it is over. */
static bool
ready(struct gateway *g, const struct take *tk)
{
	struct reclog_sess	rs;

	if (!waiting(tk))
		return true;
	if (reclog_sess_get(g->conf->reclog, tk->pid, &rs) != 0 ||
	    rs.state != RECLOG_LIVE || rs.worker != tk->worker)
		return true;	/* parked (or gone, or another took it) */
	return false;
}

/*
 * Answer tk's CONNECT (the recovery takes the session, or counts why), or
 * have its socket released when the CONNECT is over.
 */
static void
finish(struct gateway *g, struct take *tk, bool late)
{
	struct rectake	*rt = g->rectake;
	struct session	*s = tk->s;
	bool		 still = waiting(tk);

	rt->done(g, still ? s : NULL, tk->gs);
	json_decref(tk->auth);
	if (still && s->state != SESSION_CLOSED && (s->nsp_mask & 1u) &&
	    memcmp(s->sio_sid, tk->sid, RECLOG_SID_LEN) == 0)
		rt->ok++;
	else {
		rt->failed++;
		if (late)
			log_info("socket %s: its session was not released in "
			    "%.0f s: the CONNECT that took it over gets a new "
			    "socket", tk->sid, TAKE_WAIT);
	}
	session_unpin(s);
	free(tk);
}

/* The held CONNECTs whose session is parked, or whose wait is over. */
static void
on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct gateway	*g = w->data;
	struct rectake	*rt = g->rectake;
	struct take	**pp, *tk;
	bool		 late;

	(void)revents;
	for (pp = &rt->first; (tk = *pp) != NULL;) {
		late = false;
		if (!ready(g, tk) && !(late = ev_now(loop) >= tk->due)) {
			pp = &tk->next;
			continue;
		}
		*pp = tk->next;	/* off the list before done() runs */
		rt->n--;
		finish(g, tk, late);
	}
	if (rt->first == NULL)
		ev_timer_stop(loop, w);
}

void
rectake_stats(const struct gateway *g, struct worker_stats *st)
{
	const struct rectake	*rt = g->rectake;

	if (rt == NULL)
		return;
	st->recovery_takeovers = rt->asked;
	st->recovery_takeovers_ok = rt->ok;
	st->recovery_takeovers_failed = rt->failed;
	st->recovery_takeovers_waiting = rt->n;
}
