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
 * When the serving worker died (SIGKILL), its copies stop at its death,
 * and a successor of the same wid copies only from its start: a worker
 * that lived on answers, or lends its copies, and those of its copies
 * whose key (the frame without its offset, the room, the except) the
 * dead one has not fill the gap.
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

#define GAP_BACK	65536	/* entries before the offset a key is looked at */
#define TAIL_LEN	(RECLOG_OFF_LEN + 4)	/* ,"<offset>"] */

struct scan {
	struct gateway		*g;
	const struct reclog_sess *rs;
	int			 old;
	char			 uroom[ROOMNAME_SIZE];
	size_t			 ulen;
	struct rr_frames	 fr;
	/*
	 * The serving worker died: its copies of what Redis carried stop at
	 * its death (and its successor's, of the same wid, start later).
	 * Those of fill, a worker that lived on, fill the gap: the ones
	 * whose key (frame without its offset, room, except) old has not.
	 */
	int			 fill;		/* -1: none */
	uint64_t		*keys;		/* old's, sorted */
	size_t			 nkeys, capkeys;
	int			 nomem;
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

/* A copy of a frame from Redis, as every worker made it: FNV-1a. */
static uint64_t
key_of(const struct reclog_ent *e)
{
	const unsigned char	*p[3] = { (const unsigned char *)e->frame,
				    (const unsigned char *)e->room,
				    (const unsigned char *)e->except };
	size_t			 n[3] = { e->flen > TAIL_LEN ?
				    e->flen - TAIL_LEN : e->flen, e->rlen,
				    e->except != NULL ? e->elen : 0 };
	uint64_t		 h = 14695981039346656037ULL;
	size_t			 i, k;

	for (k = 0; k < 3; k++) {
		for (i = 0; i < n[k]; i++)
			h = (h ^ p[k][i]) * 1099511628211ULL;
		h = (h ^ 0xff) * 1099511628211ULL;
	}
	return h;
}

/* reclog_scan()'s callback, first pass: the keys of old's copies. */
static int
old_keys(void *arg, const struct reclog_ent *e)
{
	struct scan	*sc = arg;
	size_t		 cap;
	void		*p;

	if (e->worker != sc->old)
		return 0;
	if (sc->nkeys == sc->capkeys) {
		cap = sc->capkeys == 0 ? 256 : sc->capkeys * 2;
		if ((p = reallocarray(sc->keys, cap, sizeof(*sc->keys))) ==
		    NULL) {
			sc->nomem = 1;
			return 1;
		}
		sc->keys = p;
		sc->capkeys = cap;
	}
	sc->keys[sc->nkeys++] = key_of(e);
	return 0;
}

static int
cmp_key(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Is e fill's copy of a frame old never copied (the gap)? */
static bool
gap_frame(struct scan *sc, const struct reclog_ent *e)
{
	uint64_t	k;

	if (sc->fill < 0 || e->worker != sc->fill ||
	    !recovery_wants(sc->rs, sc->fill, sc->uroom, sc->ulen, e))
		return false;
	k = key_of(e);
	return bsearch(&k, sc->keys, sc->nkeys, sizeof(k), cmp_key) == NULL;
}

/* reclog_scan()'s callback: e, if the session missed it and it went out. */
static int
collect(void *arg, const struct reclog_ent *e)
{
	struct scan	*sc = arg;

	if (gap_frame(sc, e))
		return rr_keep(&sc->fr, e);
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

/*
 * A worker that lived on while the serving one died, or -1 when it did
 * not die: it is gone, or it is this worker's wid but the session was
 * parked before this worker started (its predecessor's).
 */
static int
filler(struct gateway *g, const struct reclog_sess *rs)
{
	const struct gw_recremote	*rr = g->recremote;
	size_t				 i;

	if (rs->worker != g->t->wid)
		return alive(g, rs->worker) ? -1 : g->t->wid;
	if (rs->since_ms >= rr->init_ms)
		return -1;
	for (i = 0; i < rr->npeers; i++)
		if (rr->peers[i] != g->t->wid)
			return rr->peers[i];
	return -1;
}

/* The keys of old's copies, from GAP_BACK before the offset: 0, or -1. */
static int
gap_keys(struct gateway *g, struct scan *sc, uint64_t after, uint64_t upto)
{
	struct reclog_stats	st;
	uint64_t		from;

	reclog_stats(g->conf->reclog, &st);
	from = after > GAP_BACK ? after - GAP_BACK : 1;
	if (upto > st.entries && from < upto - st.entries)
		from = upto - st.entries;
	if (reclog_scan(g->conf->reclog, from > 0 ? from - 1 : 0, upto - 1,
	    old_keys, sc) < 0 || sc->nomem)
		return -1;
	qsort(sc->keys, sc->nkeys, sizeof(*sc->keys), cmp_key);
	return 0;
}

/* The session, taken and scanned: -1 and sc filled, or a reason. */
static int
take(struct gateway *g, const struct recwire_ask *a, int fill,
    struct reclog_sess *rs, struct scan *sc)
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
	sc->fill = fill;
	n = roomname_user(a->user, strlen(a->user), sc->uroom);
	sc->ulen = n > 0 ? (size_t)n : 0;
	sc->fr.max = (size_t)g->conf->recovery_max_replay;
	if (sc->fr.max > RECWIRE_FRAMES_MAX)	/* what the asker takes */
		sc->fr.max = RECWIRE_FRAMES_MAX;
	upto = logdeliver_catch_up(g);
	if (reclog_parse_off(rl, a->off, RECLOG_OFF_LEN, &after) != 0 ||
	    upto == 0)
		rc = RECLOG_E_GONE;
	else if (fill >= 0 && gap_keys(g, sc, after, upto) != 0)
		rc = RECLOG_E_GONE;
	else
		rc = reclog_scan(rl, after, upto - 1, collect, sc);
	free(sc->keys);
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
	int			 why, n, who, fill = -1;

	if (!our_pid(g, a->pid))
		return;		/* another host's, or nobody's */
	if (reclog_sess_get(g->conf->reclog, a->pid, &rs) != 0)
		who = lowest(g);
	else if ((who = alive(g, rs.worker) ? rs.worker : lowest(g)) ==
	    g->t->wid)
		fill = filler(g, &rs);
	if (who != g->t->wid)
		return;
	if (fill >= 0)
		log_debug("recovery: session %s: its worker %d died; worker "
		    "%d's copies fill the gap", a->pid, rs.worker, fill);
	n = snprintf(ch, sizeof(ch), "%s#%s", g->recremote->ask_chan, a->uid);
	if (n < 0 || (size_t)n >= sizeof(ch))
		return;
	if ((why = take(g, a, fill, &rs, &sc)) < 0) {
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
