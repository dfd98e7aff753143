/*
 * recanswer: this host held a session whose client came back to another
 * host (issue 15, across hosts; recremote.c is the other side).  Every
 * worker of every gateway hears the ask; on the host whose log's epoch
 * the pid names, exactly one answers: the worker that served the session
 * when it is alive, else the lowest live one.  Why that one: the frames
 * heard from Redis are in the log once per worker, and only the serving
 * worker's copies are the ones the client was getting; and that worker
 * heard, in Redis's one order, every frame published before the ask and
 * none after, so its copies up to now are exactly what went out before
 * the ask.  Of this host's own frames (every worker's, worker -1), the
 * answer takes those published before the ask: each worker appends,
 * then publishes, in its log's order, so the ones out are those up to
 * the last of that worker's broadcasts heard back (adapter_own_heard()).
 * The rest the asker hears after its ask, and delivers itself.
 *
 * The answer is the session's sid, rooms and the frames after the
 * client's offset (at most recovery_max_replay, at most RECWIRE_MAX
 * bytes), or the reason there is none.  The session leaves this host:
 * its slot is dropped.  Its ghost here (the user counted online) goes at
 * its due time, when the other host counts the user already.
 */
#include <stdlib.h>
#include <string.h>

#include "gateway.h"
#include "log.h"
#include "reclog.h"
#include "recremote.h"
#include "redis.h"
#include "roomname.h"
#include "transport.h"

struct scan {
	struct gateway		*g;
	const struct reclog_sess *rs;
	int			 old;
	char			 uroom[ROOMNAME_SIZE];
	size_t			 ulen;
	struct rr_frames	 fr;
};

/* A reclog error as the reason the answer gives (GW_REC_*). */
static int
rr_reason(int rc)
{
	static const struct {
		int	rc, why;
	} map[] = {
		{ RECLOG_E_EXPIRED, GW_REC_EXPIRED },
		{ RECLOG_E_LIVE, GW_REC_LIVE },
		{ RECLOG_E_USER, GW_REC_USER },
		{ RECLOG_E_GONE, GW_REC_GONE },
		{ RECLOG_E_FULL, GW_REC_FULL },
		{ RECLOG_E_ROOMS, GW_REC_ROOMS },
		{ RECLOG_E_TOOMANY, GW_REC_TOOMANY },
	};
	size_t	i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i].rc == rc)
			return map[i].why;
	return GW_REC_NOSESSION;
}

/* PUBLISH on channel ch: 0, or -1. */
int
rr_publish(struct gateway *g, const char *ch, size_t clen, const char *data,
    size_t len)
{
	const char	*argv[3] = { "PUBLISH", ch, data };
	size_t		 lens[3] = { 7, clen, len };

	return redis_command(g->redis, NULL, NULL, 3, argv, lens);
}

/* The epoch a pid names (its 8 hex), against this log's. */
static bool
our_pid(struct gateway *g, const char *pid)
{
	uint32_t	e = 0;
	int		i;

	if (!recovery_pid_valid(pid, strlen(pid)))
		return false;
	for (i = 0; i < 8; i++)
		e = e << 4 | (uint32_t)(pid[i] <= '9' ? pid[i] - '0' :
		    pid[i] - 'a' + 10);
	return e == reclog_epoch(g->conf->reclog);
}

static bool
alive(const struct gateway *g, int wid)
{
	const struct gw_recremote	*rr = g->recremote;
	size_t				 i;

	if (wid == g->t->wid)
		return true;
	for (i = 0; i < rr->npeers; i++)
		if (rr->peers[i] == wid)
			return true;
	return false;
}

/* The lowest live wid: the answerer when the serving worker is gone. */
static int
lowest(const struct gateway *g)
{
	const struct gw_recremote	*rr = g->recremote;
	int				 w = g->t->wid;
	size_t				 i;

	for (i = 0; i < rr->npeers; i++)
		if (rr->peers[i] < w)
			w = rr->peers[i];
	return w;
}

/* reclog_scan()'s callback: e, if the session missed it and it went out. */
static int
collect(void *arg, const struct reclog_ent *e)
{
	struct scan	*sc = arg;

	if (!recovery_wants(sc->rs, sc->old, sc->uroom, sc->ulen, e))
		return 0;
	/* Ours, not yet heard back: the asker gets it after its cut. */
	if (e->worker == -1 && e->seq + 1 > adapter_own_heard(sc->g,
	    e->origin))
		return 0;
	return rr_keep(&sc->fr, e);
}

/* A copy of e's frame in fr: 0, or 1 (past its bounds, or no memory). */
int
rr_keep(struct rr_frames *fr, const struct reclog_ent *e)
{
	size_t	 cap;
	void	*p;

	if (fr->n >= fr->max || fr->bytes + e->flen > RECWIRE_MAX) {
		fr->over = 1;
		return 1;
	}
	if (fr->n == fr->cap) {
		cap = fr->cap == 0 ? 16 : fr->cap * 2;
		if ((p = reallocarray(fr->f, cap, sizeof(*fr->f))) == NULL)
			goto oom;
		fr->f = p;
		if ((p = reallocarray(fr->flen, cap, sizeof(*fr->flen))) ==
		    NULL)
			goto oom;
		fr->flen = p;
		fr->cap = cap;
	}
	if ((fr->f[fr->n] = malloc(e->flen)) == NULL)
		goto oom;
	memcpy(fr->f[fr->n], e->frame, e->flen);
	fr->flen[fr->n++] = e->flen;
	fr->bytes += e->flen;
	return 0;
oom:
	fr->over = 1;
	return 1;
}

void
rr_frames_free(struct rr_frames *fr)
{
	size_t	i;

	for (i = 0; i < fr->n; i++)
		free(fr->f[i]);
	free(fr->f);
	free(fr->flen);
	memset(fr, 0, sizeof(*fr));
}

/* The session, taken and scanned: -1 and sc filled, or a reason. */
static int
take(struct gateway *g, const struct recwire_ask *a, struct reclog_sess *rs,
    struct scan *sc)
{
	struct reclog	*rl = g->conf->reclog;
	uint8_t		 uh[RECLOG_USER_HASH];
	uint64_t	 after, upto;
	int		 rc, n;

	if (!roomname_id_valid(a->user, strlen(a->user)) ||
	    recovery_user_hash(a->user, strlen(a->user), uh) != 0)
		return GW_REC_USER;
	if ((rc = reclog_sess_take(rl, a->pid, uh, g->t->wid,
	    (uint64_t)g->conf->max_disconnection_ms, rs)) != 0)
		return rr_reason(rc);
	memset(sc, 0, sizeof(*sc));
	sc->g = g;
	sc->rs = rs;
	sc->old = rs->worker;
	n = roomname_user(a->user, strlen(a->user), sc->uroom);
	sc->ulen = n > 0 ? (size_t)n : 0;
	sc->fr.max = (size_t)g->conf->recovery_max_replay;
	upto = logdeliver_catch_up(g);
	if (reclog_parse_off(rl, a->off, RECLOG_OFF_LEN, &after) != 0 ||
	    upto == 0)
		rc = RECLOG_E_GONE;
	else
		rc = reclog_scan(rl, after, upto - 1, collect, sc);
	(void)reclog_sess_drop(rl, a->pid);	/* it leaves this host */
	if (rc < 0 || sc->fr.over) {
		rr_frames_free(&sc->fr);
		return rc < 0 ? rr_reason(rc) : GW_REC_TOOMANY;
	}
	return -1;
}

/* Another host's ask: answered here if the session is ours to give. */
void
recanswer_ask(struct gateway *g, const struct recwire_ask *a)
{
	struct reclog_sess	 rs;
	struct scan		 sc;
	char			 ch[RR_CHAN_MAX], *text;
	size_t			 len;
	int			 why, n, who;

	if (!our_pid(g, a->pid))
		return;		/* another host's, or nobody's */
	who = reclog_sess_get(g->conf->reclog, a->pid, &rs) == 0 &&
	    alive(g, rs.worker) ? rs.worker : lowest(g);
	if (who != g->t->wid)
		return;
	n = snprintf(ch, sizeof(ch), "%s#%s", g->recremote->ask_chan, a->uid);
	if (n < 0 || (size_t)n >= sizeof(ch))
		return;
	if ((why = take(g, a, &rs, &sc)) < 0) {
		text = recwire_ans_encode(a->id, -1, rs.sid, rs.rooms,
		    rs.rooms_len, sc.fr.f, sc.fr.flen, sc.fr.n, &len);
		rr_frames_free(&sc.fr);
		if (text == NULL)	/* past RECWIRE_MAX once escaped */
			why = GW_REC_TOOMANY;
	}
	if (why >= 0)
		text = recwire_ans_encode(a->id, why, NULL, NULL, 0, NULL,
		    NULL, 0, &len);
	if (text != NULL && rr_publish(g, ch, (size_t)n, text, len) == 0)
		g->recremote->answered++;
	log_debug("recovery: session %s asked by %s: %s", a->pid, a->uid,
	    why < 0 ? "given" : "not given");
	free(text);
}
