/*
 * authsvc: the auth service (issue 13), token verification delegated to
 * it (auth_mode service, or both: after the local check).
 *
 * Verification: POST auth_verify_path {"token"} answers 200 {"valid":
 * true, "user_id", "exp"?}; 401, 403 or {"valid": false} refuse.  Each
 * answer is cached (authcache.c, keyed by the token's SHA-256) until the
 * token's expiry, a refusal for auth_negative_ttl.  A miss starts one
 * call per distinct token (a flight); the CONNECTs that miss while it is
 * in the air wait on it (at most auth_pending_max per worker), each as
 * its session's id, looked up again when the answer comes: the session
 * may be gone.  A flight's wait ends at auth_service_timeout: its waiters
 * hear "auth service unavailable" (fail closed), and the call, if it answers
 * later, still fills the cache.
 *
 * Gateway-wide, one call per distinct token: each token has an owner
 * worker, picked by its hash among the live workers (the master's list).
 * A worker that misses a token another worker owns does not call: it asks
 * the owner over the bus (GW_BUS_AUTH_ASK, the token with it: the bus is
 * between our own workers, through sockets in run_dir), and waits as for
 * a call of its own.  Every worker broadcasts each answer it gets
 * (GW_BUS_AUTH_ANSWER: the hash, the user, the expiry; never the token),
 * and every worker caches it.  A lost record costs its waiters a refusal
 * at the deadline (fail closed), never a wrong answer.  Without a bus or
 * a list of workers, each worker calls for itself.
 *
 * The users' status is authstatus.c's.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "authcache.h"
#include "bus.h"
#include "gateway.h"
#include "log.h"
#include "roomname.h"
#include "services.h"
#include "session.h"
#include "sid.h"
#include "stats.h"
#include "transport.h"

#define UNAVAILABLE	"auth service unavailable"
#define REFUSED		"Invalid authentication token"

struct waiter {
	char		 sid[SID_LEN + 1];
	unsigned	 nsp;
	struct waiter	*next;
};

struct flight {
	struct authsvc	*as;
	uint8_t		 key[AUTHCACHE_KEY_LEN];
	int64_t		 jwt_exp;	/* the token's own, unverified */
	int		 remote;	/* asked the owner, no call of ours */
	struct waiter	*waiters;
	ev_timer	 deadline;
	struct flight	*prev, *next;
};

struct authsvc {
	struct gateway	*g;
	authsvc_done	 done;
	struct authcache *cache;
	struct flight	*flights;
	long long	 waiting;	/* waiters, all flights */
	uint64_t	 hits, misses, coalesced, unavailable, busy;
	int32_t		 peers[GW_SYNC_MAX];	/* live workers, sorted */
	size_t		 npeers;
};

/* GW_BUS_AUTH_ANSWER's outcome byte. */
#define OUT_REFUSED	0
#define OUT_VALID	1
#define OUT_DOWN	2	/* no answer: not cached */

/* GW_BUS_AUTH_ASK: owner wid (i32), the key, then the token. */
#define ASK_HDR		(4 + AUTHCACHE_KEY_LEN)
/* GW_BUS_AUTH_ANSWER: the key, outcome, exp, until (i64), then the user. */
#define ANSWER_HDR	(AUTHCACHE_KEY_LEN + 1 + 8 + 8)

static void	on_verified(int, const struct httpc_result *, void *);
static void	on_deadline(struct ev_loop *, ev_timer *, int);
static void	answer_all(struct flight *, const struct authcache_entry *,
		    const char *);
static void	flight_free(struct flight *);
static void	publish(struct authsvc *, const uint8_t *, int,
		    const struct authcache_entry *, int64_t);
static struct flight *flight_new(struct authsvc *, const uint8_t *,
		    const char *);

int
authsvc_init(struct gateway *g, authsvc_done done, uint64_t seed)
{
	struct authsvc	*as;

	if ((as = calloc(1, sizeof(*as))) == NULL)
		return -1;
	if ((as->cache = authcache_new((size_t)g->conf->auth_cache_size,
	    seed)) == NULL) {
		free(as);
		return -1;
	}
	as->g = g;
	as->done = done;
	g->authsvc = as;
	return 0;
}

/* After services_free(): no call can answer any more. */
void
authsvc_free(struct gateway *g)
{
	struct authsvc	*as = g->authsvc;

	if (as == NULL)
		return;
	while (as->flights != NULL)
		flight_free(as->flights);
	authcache_free(as->cache);
	free(as);
	g->authsvc = NULL;
}

static void
flight_free(struct flight *f)
{
	struct authsvc	*as = f->as;
	struct waiter	*w;

	ev_timer_stop(as->g->t->loop, &f->deadline);
	while ((w = f->waiters) != NULL) {
		f->waiters = w->next;
		as->waiting--;
		free(w);
	}
	if (f->prev != NULL)
		f->prev->next = f->next;
	else
		as->flights = f->next;
	if (f->next != NULL)
		f->next->prev = f->prev;
	free(f);
}

/* A cached answer as the caller's result: 0 accepted, -1 refused. */
static int
from_entry(const struct authcache_entry *e, struct auth_result *r,
    const char **why)
{
	memset(r, 0, sizeof(*r));
	if (!e->valid) {
		*why = REFUSED;
		return -1;
	}
	memcpy(r->user, e->user, sizeof(r->user));
	r->exp = (time_t)e->exp;
	return 0;
}

/*
 * The token's answer from the cache: 1 and *r (or -1 and *why for a
 * refusal), 0 when it is not there.  No call is made.
 */
int
authsvc_cached(struct gateway *g, const char *token, struct auth_result *r,
    const char **why)
{
	struct authsvc		*as = g->authsvc;
	struct authcache_entry	 e;
	uint8_t			 key[AUTHCACHE_KEY_LEN];

	if (as == NULL || token == NULL || *token == '\0')
		return 0;
	authcache_key(token, strlen(token), key);
	if (!authcache_get(as->cache, key, (int64_t)time(NULL), &e))
		return 0;
	return from_entry(&e, r, why) == 0 ? 1 : -1;
}

static struct flight *
flight_find(struct authsvc *as, const uint8_t *key)
{
	struct flight	*f;

	for (f = as->flights; f != NULL; f = f->next)
		if (memcmp(f->key, key, AUTHCACHE_KEY_LEN) == 0)
			return f;
	return NULL;
}

/* Wait on f: 0, or -1 past auth_pending_max. */
static int
wait_on(struct flight *f, struct session *s, unsigned nsp)
{
	struct authsvc	*as = f->as;
	struct waiter	*w;

	if (as->waiting >= as->g->conf->auth_pending_max ||
	    (w = calloc(1, sizeof(*w))) == NULL) {
		as->busy++;
		return -1;
	}
	memcpy(w->sid, s->sid, sizeof(w->sid));
	w->nsp = nsp;
	w->next = f->waiters;
	f->waiters = w;
	as->waiting++;
	return 0;
}

/* A flight for key, its deadline running, on the list. */
static struct flight *
flight_new(struct authsvc *as, const uint8_t *key, const char *token)
{
	struct flight	*f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	f->as = as;
	memcpy(f->key, key, AUTHCACHE_KEY_LEN);
	f->jwt_exp = authcache_jwt_exp(token);
	ev_timer_init(&f->deadline, on_deadline,
	    (double)services_timeout(&as->g->conf->services, STATS_SVC_AUTH) /
	    1000.0, 0.);
	f->deadline.data = f;
	ev_timer_start(as->g->t->loop, &f->deadline);
	if ((f->next = as->flights) != NULL)
		f->next->prev = f;
	as->flights = f;
	return f;
}

/* One call for this token: a new flight, or NULL (unavailable). */
static struct flight *
flight_start(struct authsvc *as, const char *token, const uint8_t *key)
{
	struct gateway		*g = as->g;
	struct services_call	 sc;
	struct flight		*f;
	char			*body;
	json_t			*o;
	int			 rc;

	o = json_pack("{s:s}", "token", token);
	body = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (body == NULL || (f = flight_new(as, key, token)) == NULL) {
		free(body);
		return NULL;
	}
	memset(&sc, 0, sizeof(sc));
	sc.method = HTTPC_POST;
	sc.path = g->conf->auth_verify_path;
	sc.body = body;
	sc.len = strlen(body);
	sc.idempotent = true;		/* a question: safe to ask again */
	sc.cb = on_verified;
	sc.arg = f;
	rc = services_call(g->services, STATS_SVC_AUTH, &sc);
	memset(body, 0, sc.len);	/* the token: not left in the heap */
	free(body);
	if (rc != SERVICES_SENT) {
		flight_free(f);
		return NULL;
	}
	return f;
}

/*
 * The live worker (the master's list) in charge of what hashes to h: the
 * same one on every worker that has the same list.  Ourselves without a
 * bus or a list.
 */
int32_t
authsvc_owner(const struct gateway *g, uint32_t h)
{
	const struct authsvc	*as = g->authsvc;

	if (as == NULL || g->bus == NULL || as->npeers == 0)
		return g->t->wid;
	return as->peers[h % as->npeers];
}

/* The worker that calls for key: by the key's hash. */
static int32_t
owner(const struct authsvc *as, const uint8_t *key)
{
	uint32_t	h;

	memcpy(&h, key + 4, sizeof(h));
	return authsvc_owner(as->g, h);
}

/* Ask worker wid to call for the token: a remote flight, or NULL. */
static struct flight *
flight_ask(struct authsvc *as, int32_t wid, const char *token,
    const uint8_t *key)
{
	struct flight	*f;
	uint8_t		*rec;
	size_t		 tlen = strlen(token);

	if ((rec = malloc(ASK_HDR + tlen)) == NULL)
		return NULL;
	memcpy(rec, &wid, 4);
	memcpy(rec + 4, key, AUTHCACHE_KEY_LEN);
	memcpy(rec + ASK_HDR, token, tlen);
	if ((f = flight_new(as, key, token)) != NULL) {
		f->remote = 1;
		if (bus_send(as->g->bus, GW_BUS_AUTH_ASK, rec, ASK_HDR + tlen)
		    != 0) {
			flight_free(f);
			f = NULL;
		}
	}
	memset(rec, 0, ASK_HDR + tlen);
	free(rec);
	return f;
}

/*
 * Verify token with the auth service for session s's CONNECT to nsp:
 * 0 with *r from the cache, AUTHSVC_PENDING when the answer comes later
 * (through the done callback), -1 with *why.
 */
int
authsvc_verify(struct gateway *g, struct session *s, unsigned nsp,
    const char *token, struct auth_result *r, const char **why)
{
	struct authsvc		*as = g->authsvc;
	struct authcache_entry	 e;
	struct flight		*f;
	uint8_t			 key[AUTHCACHE_KEY_LEN];
	int32_t			 wid;

	if (token == NULL || *token == '\0' || strlen(token) > 8192) {
		*why = token == NULL || *token == '\0' ?
		    "Authentication token required" : REFUSED;
		return -1;
	}
	authcache_key(token, strlen(token), key);
	if (authcache_get(as->cache, key, (int64_t)time(NULL), &e)) {
		as->hits++;
		return from_entry(&e, r, why);
	}
	as->misses++;
	if (as->waiting >= g->conf->auth_pending_max) {
		as->busy++;		/* before a flight is made for nobody */
		*why = "auth service busy";
		return -1;
	}
	if ((f = flight_find(as, key)) != NULL)
		as->coalesced++;
	else if ((wid = owner(as, key)) != g->t->wid)
		f = flight_ask(as, wid, token, key);
	else
		f = flight_start(as, token, key);
	if (f == NULL) {
		as->unavailable++;
		*why = UNAVAILABLE;
		return -1;
	}
	if (wait_on(f, s, nsp) != 0) {
		*why = "auth service busy";
		return -1;
	}
	return AUTHSVC_PENDING;
}

/*
 * The service's answer as an entry: 1 valid, 0 refused, -1 no answer
 * one can trust (the service is not well: fail closed).
 */
static int
parse_answer(int outcome, const struct httpc_result *r,
    struct authcache_entry *e)
{
	memset(e, 0, sizeof(*e));
	if (r == NULL || r->error != HTTPC_OK)
		return -1;
	if (r->status == 401 || r->status == 403)
		return 0;
	if (outcome != SERVICES_OK)
		return -1;
	return authcache_parse(r->body, r->len, e);
}

/* The call's answer: cached, and told to whoever still waits. */
static void
on_verified(int outcome, const struct httpc_result *r, void *arg)
{
	struct flight		*f = arg;
	struct authsvc		*as = f->as;
	const struct gateway_conf *c = as->g->conf;
	struct authcache_entry	 e;
	int64_t			 now = (int64_t)time(NULL), until;
	int			 rc;

	rc = parse_answer(outcome, r, &e);
	if (rc == 1) {
		/* Until the token's expiry, the sooner of the two said. */
		if (e.exp == 0 || (f->jwt_exp != 0 && f->jwt_exp < e.exp))
			e.exp = f->jwt_exp;
		until = e.exp != 0 ? e.exp : now + c->auth_cache_ttl / 1000;
		(void)authcache_put(as->cache, f->key, &e, until, now);
		publish(as, f->key, OUT_VALID, &e, until);
	} else if (rc == 0) {
		until = now + c->auth_negative_ttl / 1000;
		(void)authcache_put(as->cache, f->key, &e, until, now);
		publish(as, f->key, OUT_REFUSED, &e, until);
	} else {
		publish(as, f->key, OUT_DOWN, &e, 0);
		log_warn("auth service: no usable answer to a verification "
		    "(%s, status %ld)", r != NULL ? httpc_strerror(r->error) :
		    "not sent", r != NULL ? r->status : 0L);
		if (f->waiters != NULL)
			as->unavailable++;
	}
	answer_all(f, rc >= 0 ? &e : NULL, rc == 0 ? REFUSED : UNAVAILABLE);
	flight_free(f);
}

/*
 * The wait is over (auth_service_timeout): fail closed.  Our own call goes on
 * (its answer still fills the cache); a remote flight ends here.
 */
static void
on_deadline(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct flight	*f = w->data;

	(void)loop;
	(void)revents;
	if (f->waiters != NULL)
		f->as->unavailable++;
	answer_all(f, NULL, UNAVAILABLE " (timeout)");
	if (f->remote)
		flight_free(f);
}

/* The live workers (the master's list): the tokens' owners. */
void
authsvc_peers(struct gateway *g, const int32_t *wids, size_t n)
{
	struct authsvc	*as = g->authsvc;
	size_t		 i, j;
	int32_t		 v;

	if (as == NULL)
		return;
	for (i = 0; i < n && i < GW_SYNC_MAX; i++) {
		v = wids[i];
		for (j = i; j > 0 && as->peers[j - 1] > v; j--)
			as->peers[j] = as->peers[j - 1];
		as->peers[j] = v;
	}
	as->npeers = i;
}

/* Tell every worker the answer for key (never the token). */
static void
publish(struct authsvc *as, const uint8_t *key, int outcome,
    const struct authcache_entry *e, int64_t until)
{
	uint8_t	rec[ANSWER_HDR + AUTH_USER_MAX];
	size_t	ulen = outcome == OUT_VALID ? strlen(e->user) : 0;

	if (as->g->bus == NULL)
		return;
	memcpy(rec, key, AUTHCACHE_KEY_LEN);
	rec[AUTHCACHE_KEY_LEN] = (uint8_t)outcome;
	memcpy(rec + AUTHCACHE_KEY_LEN + 1, &e->exp, 8);
	memcpy(rec + AUTHCACHE_KEY_LEN + 9, &until, 8);
	memcpy(rec + ANSWER_HDR, e->user, ulen);
	(void)bus_send(as->g->bus, GW_BUS_AUTH_ANSWER, rec, ANSWER_HDR + ulen);
}

/*
 * Another worker asks us, the owner, to verify a token: from the cache,
 * or with the flight for it (ours, or a new call); the answer goes to
 * every worker.
 */
static void
on_ask(struct authsvc *as, const uint8_t *data, size_t len)
{
	struct authcache_entry	 e;
	uint8_t			 key[AUTHCACHE_KEY_LEN];
	char			*token;
	int32_t			 wid;

	memcpy(&wid, data, 4);
	if (wid != as->g->t->wid || len <= ASK_HDR || len - ASK_HDR > 8192)
		return;
	if ((token = malloc(len - ASK_HDR + 1)) == NULL)
		return;
	memcpy(token, data + ASK_HDR, len - ASK_HDR);
	token[len - ASK_HDR] = '\0';
	/* The key is ours to compute: a record is not trusted with it. */
	authcache_key(token, strlen(token), key);
	memset(&e, 0, sizeof(e));
	if (authcache_get(as->cache, key, (int64_t)time(NULL), &e))
		publish(as, key, e.valid ? OUT_VALID : OUT_REFUSED, &e,
		    e.valid && e.exp != 0 ? e.exp : (int64_t)time(NULL) +
		    (e.valid ? as->g->conf->auth_cache_ttl :
		    as->g->conf->auth_negative_ttl) / 1000);
	else if (flight_find(as, key) == NULL &&
	    flight_start(as, token, key) == NULL)
		publish(as, key, OUT_DOWN, &e, 0);
	memset(token, 0, len - ASK_HDR);
	free(token);
}

/* An answer another worker got: cached here, told to our waiters. */
static void
on_answer(struct authsvc *as, const uint8_t *data, size_t len)
{
	struct authcache_entry	 e;
	struct flight		*f;
	int64_t			 until, now = (int64_t)time(NULL);
	int			 outcome;

	if (len < ANSWER_HDR || len - ANSWER_HDR > AUTH_USER_MAX)
		return;
	memset(&e, 0, sizeof(e));
	outcome = data[AUTHCACHE_KEY_LEN];
	memcpy(&e.exp, data + AUTHCACHE_KEY_LEN + 1, 8);
	memcpy(&until, data + AUTHCACHE_KEY_LEN + 9, 8);
	memcpy(e.user, data + ANSWER_HDR, len - ANSWER_HDR);
	e.valid = outcome == OUT_VALID;
	if (outcome == OUT_VALID && !roomname_id_valid(e.user, strlen(e.user)))
		return;
	if (outcome != OUT_DOWN)
		(void)authcache_put(as->cache, data, &e, until, now);
	if ((f = flight_find(as, data)) == NULL)
		return;
	if (outcome == OUT_DOWN && f->waiters != NULL)
		as->unavailable++;
	answer_all(f, outcome != OUT_DOWN ? &e : NULL, outcome == OUT_REFUSED ?
	    REFUSED : UNAVAILABLE);
	if (f->remote)
		flight_free(f);
}

/* A GW_BUS_AUTH_ASK or GW_BUS_AUTH_ANSWER record from another worker. */
void
authsvc_recv(struct gateway *g, uint8_t type, const void *data, size_t len)
{
	struct authsvc	*as = g->authsvc;

	if (as == NULL || g->conf->auth_mode == GW_AUTH_LOCAL)
		return;
	if (type == GW_BUS_AUTH_ASK && len >= ASK_HDR)
		on_ask(as, data, len);
	else if (type == GW_BUS_AUTH_ANSWER)
		on_answer(as, data, len);
}

/* Every waiter of f still there hears e (NULL: refused with why). */
static void
answer_all(struct flight *f, const struct authcache_entry *e,
    const char *why)
{
	struct authsvc		*as = f->as;
	struct auth_result	 r;
	struct waiter		*w;
	struct session		*s;
	const char		*refusal = why;

	while ((w = f->waiters) != NULL) {
		f->waiters = w->next;
		as->waiting--;
		s = session_find(as->g->t, w->sid, SID_LEN);
		if (s != NULL && s->state != SESSION_CLOSED) {
			if (e != NULL && from_entry(e, &r, &refusal) == 0)
				as->done(as->g, s, w->nsp, &r, NULL);
			else
				as->done(as->g, s, w->nsp, NULL, refusal);
		}
		free(w);
	}
}

/* This worker's figures (stats.h). */
void
authsvc_stats(const struct gateway *g, struct worker_stats *st)
{
	const struct authsvc	*as = g->authsvc;

	if (as == NULL)
		return;
	st->auth_cache_hits = as->hits;
	st->auth_cache_misses = as->misses;
	st->auth_cache_entries = authcache_count(as->cache);
	st->auth_coalesced = as->coalesced;
	st->auth_unavailable = as->unavailable;
	st->auth_pending_refused = as->busy;
}
