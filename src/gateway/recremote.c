/*
 * recremote: connection state recovery across hosts (issue 15), on the
 * host the client comes back to.  Its CONNECT names an offset of another
 * host's log: with Redis, the CONNECT waits (APP_CONNECT_PENDING, after
 * the token is checked) while this worker asks every gateway on
 * "<key>-gw#rec" (recwire.h); the host that held the session answers
 * (recanswer.c) with its sid, rooms and the frames it missed up to the
 * ask.  Past recovery_remote_timeout without an answer: a new socket,
 * counted (recovery_failed_remote).
 *
 * The cut, with no loss and no duplicate.  Redis hands every subscriber
 * the messages in one order, and this worker hears its own ask too: that
 * is the cut.  What was published before the ask is in the answer; what
 * after, this host delivers from its own log, in one loop callback with
 * the answer (recremote_accepting()): of the frames this worker appended
 * from Redis (worker = its wid), those appended after the cut; of this
 * host's own (worker -1, published by the worker that appended them,
 * after the append, in its log's order), those of each worker past the
 * last of its broadcasts this worker had heard back at the cut: the
 * others went out before the ask, and the answer has them.  Our own
 * frames appended before the CONNECT come in only from RR_BACK_MS
 * before it (one that left its worker later than that is counted as
 * sent before: see the README's limits).  Then the rooms are joined and
 * the CONNECT answered; what comes later, the rooms deliver.
 *
 * Bounds: recovery_remote_pending CONNECTs wait per worker (more are
 * refused their recovery: a new socket, counted); an answer is at most
 * RECWIRE_MAX bytes and recovery_max_replay frames.  Nothing costs on
 * the hot path but the note of the last broadcast heard back from each
 * worker of this host (adapter.c).
 */
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "gateway.h"
#include "grouplist.h"
#include "log.h"
#include "reclog.h"
#include "recremote.h"
#include "redis.h"
#include "roomname.h"
#include "rooms.h"
#include "session.h"
#include "socketio.h"
#include "stats.h"
#include "transport.h"

#define RR_BACK_MS	1000	/* our frames before the CONNECT looked at */
#define RR_BACK_N	65536	/* ... at most so many entries back */
#define RR_SETTLE_MS	2000	/* and none before this worker heard Redis */

struct rr_heard {
	int		 wid;
	uint64_t	 seq1;		/* adapter_own_heard() at the cut */
};

struct rr_pend {
	struct rr_pend		*prev, *next;
	struct gateway		*g;
	uint64_t		 id;
	char			 esid[SID_LEN + 1];	/* looked up again */
	unsigned		 nsp;
	struct auth_result	 r;	/* the token's user, attached later */
	struct recovery_ask	 ask;
	ev_timer		 deadline;
	uint64_t		 h_c, t_c_ms;	/* the log at the CONNECT */
	int			 cut;		/* our ask heard back */
	uint64_t		 h_cut;
	struct rr_heard		*heard;
	size_t			 nheard;
	int			 why;		/* -1 recovered, else reason */
	struct recwire_ans	 ans;
};

struct part {
	struct gateway		*g;
	struct rr_pend		*p;
	struct reclog_sess	 rs;
	char			 uroom[ROOMNAME_SIZE];
	size_t			 ulen;
	struct rr_frames	 fr;
};

static void	 on_message(struct gateway *, const char *, size_t,
		    const void *, size_t);
static void	 on_deadline(struct ev_loop *, ev_timer *, int);

static void
pend_free(struct gateway *g, struct rr_pend *p)
{
	ev_timer_stop(g->t->loop, &p->deadline);
	grouplist_free(p->r.groups);
	free(p->heard);
	recwire_ans_free(&p->ans);
	free(p);
}

static void
unlink_pend(struct gw_recremote *rr, struct rr_pend *p)
{
	if (p->prev != NULL)
		p->prev->next = p->next;
	else
		rr->first = p->next;
	if (p->next != NULL)
		p->next->prev = p->prev;
	p->prev = p->next = NULL;
	rr->n--;
}

static struct rr_pend *
by_id(struct gw_recremote *rr, uint64_t id)
{
	struct rr_pend	*p;

	for (p = rr->first; p != NULL && p->id != id; p = p->next)
		;
	return p;
}

static void
subscribe(struct gateway *g, const char *ch, size_t n)
{
	if (redis_subscribe(g->redis_sub, "SUBSCRIBE", ch, n) != 0)
		log_warnx("redis: cannot subscribe to %.*s", (int)n, ch);
}

/* With Redis and the recovery log: the channels, resume the callback. */
int
recremote_init(struct gateway *g, void (*resume)(struct gateway *,
    struct session *, unsigned, struct auth_result *))
{
	struct gw_recremote	*rr;
	int			 a, b;

	/*
	 * Sharded, a worker hears only the rooms it has sockets in: it
	 * cannot tell which of its host's frames went out before an ask.
	 */
	if (g->redis == NULL || g->logdel == NULL || g->recovery == NULL ||
	    g->conf->redis_adapter != GW_REDIS_CLASSIC)
		return 0;
	if ((rr = calloc(1, sizeof(*rr))) == NULL)
		return -1;
	a = snprintf(rr->ask_chan, sizeof(rr->ask_chan), "%s-gw#rec",
	    g->conf->redis_key_prefix);
	b = snprintf(rr->ans_chan, sizeof(rr->ans_chan), "%s-gw#rec#%s",
	    g->conf->redis_key_prefix, g->redis_uid);
	if (a < 0 || b < 0 || (size_t)b >= sizeof(rr->ans_chan)) {
		free(rr);
		log_warnx("recovery across hosts: redis_key_prefix too long");
		return 0;
	}
	rr->ask_len = (size_t)a;
	rr->ans_len = (size_t)b;
	rr->resume = resume;
	rr->init_ms = reclog_now_ms();
	g->recremote = rr;
	g->redis_rec_message = on_message;
	subscribe(g, rr->ask_chan, rr->ask_len);
	subscribe(g, rr->ans_chan, rr->ans_len);
	return 0;
}

void
recremote_free(struct gateway *g)
{
	struct gw_recremote	*rr = g->recremote;
	struct rr_pend		*p;

	if (rr == NULL)
		return;
	while ((p = rr->first) != NULL) {
		unlink_pend(rr, p);
		pend_free(g, p);
	}
	g->redis_rec_message = NULL;
	free(rr);
	g->recremote = NULL;
}

void
recremote_peers(struct gateway *g, const int32_t *wids, size_t n)
{
	struct gw_recremote	*rr = g->recremote;

	if (rr == NULL)
		return;
	if (n > GW_SYNC_MAX)
		n = GW_SYNC_MAX;
	memcpy(rr->peers, wids, n * sizeof(*wids));
	rr->npeers = n;
}

/*
 * A CONNECT whose token is good (r, whose groups this takes when it
 * returns true): true when its auth names an offset of another host's
 * log and this worker asked for it (the caller answers the CONNECT
 * later, through resume); false: as any CONNECT.
 */
bool
recremote_connect(struct gateway *g, struct session *s, unsigned nsp,
    json_t *auth, struct auth_result *r)
{
	struct gw_recremote	*rr = g->recremote;
	struct recovery_ask	 a;
	struct recwire_ask	 w;
	struct rr_pend		*p;
	uint64_t		 seq;
	char			*text;
	size_t			 len;

	if (rr == NULL || nsp != 0 || s->app_data != NULL ||
	    recovery_ask(auth, &a) != RECOVERY_ASK ||
	    reclog_parse_off(g->conf->reclog, a.off, RECLOG_OFF_LEN, &seq) ==
	    0 || strlen(r->user) > RECWIRE_USER_MAX)
		return false;	/* none, or this log's: recovery.c's */
	if (rr->n >= (size_t)g->conf->recovery_remote_pending) {
		rr->refused++;
		return false;	/* counted again as not recovered */
	}
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return false;
	memset(&w, 0, sizeof(w));
	w.id = p->id = ++rr->next_id;
	snprintf(w.uid, sizeof(w.uid), "%s", g->redis_uid);
	memcpy(w.pid, a.pid, sizeof(w.pid));
	memcpy(w.off, a.off, sizeof(w.off));
	snprintf(w.user, sizeof(w.user), "%s", r->user);
	/* Before the ask goes: nothing of ours is published after it yet. */
	p->h_c = reclog_head(g->conf->reclog);
	p->t_c_ms = reclog_now_ms();
	if ((text = recwire_ask_encode(&w, &len)) == NULL ||
	    rr_publish(g, rr->ask_chan, rr->ask_len, text, len) != 0) {
		free(text);
		free(p);
		return false;
	}
	free(text);
	rr->asked++;
	p->g = g;
	memcpy(p->esid, s->sid, sizeof(p->esid));
	p->nsp = nsp;
	p->r = *r;
	r->groups = NULL;
	p->ask = a;
	p->why = GW_REC_REMOTE;
	ev_timer_init(&p->deadline, on_deadline,
	    (double)g->conf->recovery_remote_timeout / 1000.0, 0);
	p->deadline.data = p;
	ev_timer_start(g->t->loop, &p->deadline);
	p->next = rr->first;
	if (rr->first != NULL)
		rr->first->prev = p;
	rr->first = p;
	rr->n++;
	return true;
}

/*
 * p is answered (or out of time): its CONNECT goes on, through resume
 * (the gateway attaches the user and accepts, and recremote_accepting()
 * takes p in the same callback), unless its session is gone.
 */
static void
finish(struct gateway *g, struct rr_pend *p)
{
	struct gw_recremote	*rr = g->recremote;
	struct session		*s;

	unlink_pend(rr, p);
	ev_timer_stop(g->t->loop, &p->deadline);
	s = session_find(g->t, p->esid, SID_LEN);
	if (s != NULL && s->state != SESSION_CLOSED && s->app_data == NULL) {
		rr->current = p;
		rr->resume(g, s, p->nsp, &p->r);
		if (rr->current != p)
			return;	/* recremote_accepting() took it, freed it */
		rr->current = NULL;
		p->r.groups = NULL;	/* attach() took them, or freed them */
	}
	pend_free(g, p);
}

static void
on_deadline(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct rr_pend	*p = w->data;
	uint64_t	 n = ++p->g->recremote->timeouts;

	(void)loop;
	(void)revents;
	/* A client may name any pid: counted, logged 1, 2, 4... times. */
	if ((n & (n - 1)) == 0)
		log_info("recovery: no host answered for a session in time "
		    "(recovery_remote_timeout): a new socket (%llu times)",
		    (unsigned long long)n);
	finish(p->g, p);
}

/* Our ask heard back: the cut (see the head comment). */
static void
cut(struct gateway *g, struct rr_pend *p)
{
	size_t	n = 0;
	int	w;

	if (p->cut)
		return;
	p->cut = 1;
	p->h_cut = reclog_head(g->conf->reclog);
	for (w = 0; w <= BUS_WID_MAX; w++)
		n += adapter_own_heard(g, w) != 0;
	if (n > 0 && (p->heard = calloc(n, sizeof(*p->heard))) == NULL) {
		p->cut = 0;	/* cannot tell: the answer is not used */
		return;
	}
	for (w = 0; w <= BUS_WID_MAX && p->nheard < n; w++)
		if (adapter_own_heard(g, w) != 0) {
			p->heard[p->nheard].wid = w;
			p->heard[p->nheard++].seq1 = adapter_own_heard(g, w);
		}
}

/* "<key>-gw#rec" (asks) and "<key>-gw#rec#<our uid>" (our answers). */
static void
on_message(struct gateway *g, const char *ch, size_t clen, const void *data,
    size_t len)
{
	struct gw_recremote	*rr = g->recremote;
	struct recwire_ask	 a;
	struct recwire_ans	 ans;
	struct rr_pend		*p;

	if (clen == rr->ask_len && memcmp(ch, rr->ask_chan, clen) == 0) {
		if (recwire_ask_decode(data, len, &a) != 0) {
			rr->malformed++;
			return;
		}
		if (strcmp(a.uid, g->redis_uid) != 0)
			recanswer_ask(g, &a);
		else if ((p = by_id(rr, a.id)) != NULL)
			cut(g, p);
		return;
	}
	if (clen != rr->ans_len || memcmp(ch, rr->ans_chan, clen) != 0)
		return;
	if (recwire_ans_decode(data, len, RECWIRE_MAX, &ans) != 0) {
		rr->malformed++;
		return;
	}
	if ((p = by_id(rr, ans.id)) == NULL || !p->cut) {
		recwire_ans_free(&ans);
		return;		/* too late, or not ours to take */
	}
	p->ans = ans;
	p->why = ans.why < 0 ? -1 : ans.why < GW_REC_REASONS ? ans.why :
	    GW_REC_NOSESSION;
	finish(g, p);
}

/* seq1 of wid at the cut; 0: none heard. */
static uint64_t
heard_at_cut(const struct rr_pend *p, int wid)
{
	size_t	i;

	for (i = 0; i < p->nheard; i++)
		if (p->heard[i].wid == wid)
			return p->heard[i].seq1;
	return 0;
}

/* reclog_scan()'s callback: e, if it is ours to give after the cut. */
static int
after_cut(void *arg, const struct reclog_ent *e)
{
	struct part	*pt = arg;
	struct rr_pend	*p = pt->p;
	uint64_t	 since = pt->g->recremote->init_ms + RR_SETTLE_MS;

	if (!recovery_wants(&pt->rs, pt->g->t->wid, pt->uroom, pt->ulen, e))
		return 0;
	if (e->worker >= 0) {
		if (e->seq < p->h_cut)
			return 0;	/* heard before our ask: answered */
	} else if (e->seq + 1 <= heard_at_cut(p, e->origin) ||
	    (e->seq < p->h_c && (e->ms + RR_BACK_MS < p->t_c_ms ||
	    e->ms < since)))
		return 0;		/* out before our ask: answered */
	return rr_keep(&pt->fr, e);
}

/* This host's part: into pt->fr; 0, or a reason. */
static int
our_part(struct gateway *g, struct rr_pend *p, struct part *pt)
{
	struct reclog		*rl = g->conf->reclog;
	struct reclog_stats	 st;
	uint64_t		 upto, tail, from;
	size_t			 max;
	int			 n, rc;

	memset(pt, 0, sizeof(*pt));
	pt->g = g;
	pt->p = p;
	memcpy(pt->rs.sid, p->ans.sid, sizeof(pt->rs.sid));
	memcpy(pt->rs.rooms, p->ans.rooms, sizeof(pt->rs.rooms));
	pt->rs.rooms_len = p->ans.rooms_len;
	n = roomname_user(p->r.user, strlen(p->r.user), pt->uroom);
	pt->ulen = n > 0 ? (size_t)n : 0;
	max = (size_t)g->conf->recovery_max_replay > p->ans.n ?
	    (size_t)g->conf->recovery_max_replay - p->ans.n : 0;
	pt->fr.max = max;
	upto = logdeliver_catch_up(g);
	reclog_stats(rl, &st);
	tail = upto > st.entries ? upto - st.entries : 1;
	from = p->h_c > RR_BACK_N ? p->h_c - RR_BACK_N : 1;
	if (from < tail)
		from = tail;
	if (from > p->h_c)
		return GW_REC_GONE;	/* the cut left the log already */
	rc = upto > from ? reclog_scan(rl, from - 1, upto - 1, after_cut,
	    pt) : 0;
	if (rc == RECLOG_E_GONE && from < p->h_c && !pt->fr.over) {
		/* The tail passed from meanwhile: from the CONNECT on. */
		rr_frames_free(&pt->fr);
		pt->fr.max = max;
		rc = upto > p->h_c ? reclog_scan(rl, p->h_c - 1, upto - 1,
		    after_cut, pt) : 0;
	}
	if (rc < 0 || pt->fr.over) {
		rr_frames_free(&pt->fr);
		return rc < 0 ? GW_REC_GONE : GW_REC_TOOMANY;
	}
	return -1;
}

/* The rooms of the answer, and its slot here. */
static void
rejoin(struct gateway *g, struct gw_socket *gs, const struct rr_pend *p)
{
	const struct recwire_ans	*a = &p->ans;
	size_t				 at = 0, n;

	while (at < a->rooms_len) {
		n = strnlen(a->rooms + at, a->rooms_len - at);
		if (n > 0 && rooms_join(g->rooms, a->rooms + at, n, gs) ==
		    ROOMS_JOIN_FULL)
			g->rooms_refused++;
		at += n + 1;
	}
	memcpy(gs->pid, p->ask.pid, sizeof(gs->pid));
	if (recovery_user_hash(gs->user, gs->ulen, gs->uhash) == 0)
		recslot_rooms(g, gs);
	else
		gs->pid[0] = '\0';
}

/*
 * struct app's accepting, before recovery.c's own: RECREMOTE_NONE when s
 * waited for no answer; -1 when recovered here, in this one callback
 * (the answer's frames, then ours after the cut, the rooms, the same sid
 * and pid); else the reason it was not (the caller makes it a new socket).
 */
int
recremote_accepting(struct gateway *g, struct session *s,
    struct gw_socket *gs)
{
	struct gw_recremote	*rr = g->recremote;
	struct rr_pend		*p;
	struct part		 pt;
	size_t			 i;
	int			 why;

	if (rr == NULL || (p = rr->current) == NULL ||
	    memcmp(p->esid, s->sid, SID_LEN) != 0)
		return RECREMOTE_NONE;
	rr->current = NULL;
	why = p->why;
	if (why < 0 && (why = our_part(g, p, &pt)) < 0) {
		if (socketio_set_ids(s, p->ans.sid, p->ask.pid) != 0) {
			rr_frames_free(&pt.fr);
			why = GW_REC_NOSESSION;
		}
	}
	if (why >= 0) {
		pend_free(g, p);
		return why;
	}
	for (i = 0; i < p->ans.n; i++)
		session_send_text(s, p->ans.f[i], p->ans.flen[i]);
	for (i = 0; i < pt.fr.n; i++)
		session_send_text(s, pt.fr.f[i], pt.fr.flen[i]);
	g->recovery->replayed += p->ans.n + pt.fr.n;
	log_debug("socket %s recovered from another host: %zu + %zu packets "
	    "replayed", p->ans.sid, p->ans.n, pt.fr.n);
	rr_frames_free(&pt.fr);
	rejoin(g, gs, p);
	pend_free(g, p);
	return -1;
}

void
recremote_stats(const struct gateway *g, struct worker_stats *st)
{
	const struct gw_recremote	*rr = g->recremote;

	if (rr == NULL)
		return;
	st->recovery_remote_asked = rr->asked;
	st->recovery_remote_answered = rr->answered;
	st->recovery_remote_pending = rr->n;
	st->recovery_remote_refused = rr->refused;
	st->recovery_remote_malformed = rr->malformed;
	st->recovery_failed_remote = g->recovery->failed[GW_REC_REMOTE];
}
