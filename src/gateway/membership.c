/*
 * membership: who may use a group (group_membership, issue 13).  A
 * join_room of a group, a group message and a group typing event pass
 * membership_gate() first:
 *	open	anyone passes (the seed's behaviour);
 *	token	the token's groups claim says (gs->groups, grouplist.h);
 *	service	the chat service says (GET chat_groups_path/<group>/members/
 *		<user>), remembered per worker in mcache.h for
 *		membership_cache_ttl (membership_negative_ttl for "not a
 *		member").
 * A cached answer costs one hash lookup.  Without one, the event is held
 * until the answer: the socket's events from then on queue behind it
 * (struct mqueue, in arrival order, so a join's message cannot overtake
 * the join), and run when the answer comes, through the callback
 * handlers.c gave.  Checks of the same (user, group) share one call.
 *
 * What is kept across the call is the event's own data (name, arguments,
 * ack id) and the session's id, never a pointer to it: the answer looks
 * the session up again (session_find) and a socket gone meanwhile is
 * skipped.  Every wait ends by chat_service_timeout; a chat service that is
 * down, slow or answers nonsense fails closed: the event is refused
 * (MEMBERSHIP_DOWN) and counted.  Held events are bounded per socket and
 * per worker (membership_wait_per_socket, membership_wait_max).
 */
#include <stdlib.h>
#include <string.h>

#include "gateway.h"
#include "grouplist.h"
#include "htab.h"
#include "log.h"
#include "mcache.h"
#include "roomname.h"
#include "services.h"
#include "session.h"
#include "stats.h"
#include "transport.h"
#include "urlesc.h"

#define KEY_SIZE	(AUTH_USER_MAX + 1 + ROOMNAME_ID_MAX)
#define UNKNOWN		3	/* lookup(): none of MEMBERSHIP_* */

/* One event waiting, with what it takes to run it later. */
struct mheld {
	struct mheld	*next;
	json_t		*arg;		/* a reference of our own */
	int64_t		 ack;
	size_t		 nlen;
	char		 name[];
};

/* A socket's held events, in arrival order; the first waits for wait. */
struct mqueue {
	struct mheld	*head, **tail;
	size_t		 n;
	uint64_t	 wait;		/* the head's check; 0: none */
	int		 running;	/* drain() runs the head */
};

/* One call to the chat service, and the sockets waiting for it. */
struct mcheck {
	uint32_t	 hash;		/* first: HTAB_HASH */
	uint64_t	 id;
	struct gateway	*g;
	ev_timer	 deadline;	/* chat_service_timeout */
	int		 orphan;	/* settled by the deadline: the call's
					   answer only frees it */
	struct mcheck	*next;		/* orphans */
	char		(*sids)[SID_LEN];
	size_t		 nsids, cap;
	size_t		 klen;
	char		 key[];		/* user, NUL, group */
};

struct membership {
	membership_run	 run;
	struct mcache	*cache;
	struct htab	 checks;	/* pending, by key */
	struct mcheck	*orphans;
	uint64_t	 next_id;
	size_t		 held;		/* events held in this worker */
	/* The answer being carried out (settle()): it rules its key. */
	const char	*akey;
	size_t		 aklen;
	int		 averdict;
	/* Figures for /metrics. */
	uint64_t	 hits, misses, calls, refused, unavailable, busy;
	uint64_t	 truncated;
};

struct probe {
	const char	*key;
	size_t		 klen;
};

static size_t	 make_key(const struct gw_socket *, const char *, size_t,
		    char *);
static bool	 check_eq(const void *, const void *);
static int	 lookup(struct gateway *, const char *, size_t);
static int	 ask(struct gateway *, struct session *, struct gw_socket *,
		    const char *, size_t, const char *, size_t, json_t *,
		    int64_t);
static struct mcheck *start(struct gateway *, const char *, size_t,
		    const char *, size_t);
static int	 enqueue(struct gateway *, struct gw_socket *, const char *,
		    size_t, json_t *, int64_t);
static void	 on_answer(int, const struct httpc_result *, void *);
static void	 on_deadline(struct ev_loop *, ev_timer *, int);
static int	 verdict(int, const struct httpc_result *);
static void	 settle(struct gateway *, struct mcheck *, int, int);
static void	 drain(struct gateway *, struct session *, struct gw_socket *);
static void	 check_free(struct gateway *, struct mcheck *);

int
membership_init(struct gateway *g, membership_run run, uint64_t seed)
{
	const struct gateway_conf	*c = g->conf;
	struct membership		*m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return -1;
	m->run = run;
	m->next_id = 1;
	g->membership = m;
	if (c->membership != GW_MEMBERSHIP_SERVICE)
		return 0;	/* no cache, no calls: nothing to set up */
	if ((m->cache = mcache_new((size_t)c->membership_cache_size,
	    seed)) == NULL || htab_init(&m->checks, seed ^ 0x9e3779b9) != 0)
		return -1;
	return 0;
}

/* At the worker's end, after services_free(): no answer will come. */
void
membership_free(struct gateway *g)
{
	struct membership	*m = g->membership;
	struct mcheck		*c;
	size_t			 i;

	if (m == NULL)
		return;
	if (m->cache != NULL) {
		for (i = 0; i < m->checks.cap; i++)
			if ((c = m->checks.slot[i]) != NULL) {
				ev_timer_stop(g->t->loop, &c->deadline);
				free(c->sids);
				free(c);
			}
		htab_free(&m->checks);
	}
	while ((c = m->orphans) != NULL) {
		m->orphans = c->next;
		free(c->sids);
		free(c);
	}
	mcache_free(m->cache);
	free(m);
	g->membership = NULL;
}

/* Has this socket events waiting?  Then its next ones queue behind. */
int
membership_waiting(const struct gw_socket *gs)
{
	return gs->held != NULL && gs->held->head != NULL;
}

/* The key: user, NUL, group. */
static size_t
make_key(const struct gw_socket *gs, const char *group, size_t glen,
    char *key)
{
	memcpy(key, gs->user, gs->ulen);
	key[gs->ulen] = '\0';
	memcpy(key + gs->ulen + 1, group, glen);
	return gs->ulen + 1 + glen;
}

static bool
check_eq(const void *entry, const void *arg)
{
	const struct mcheck	*c = entry;
	const struct probe	*p = arg;

	return c->klen == p->klen && memcmp(c->key, p->key, p->klen) == 0;
}

/*
 * What is known of a key now: the answer being carried out (which may be
 * MEMBERSHIP_DOWN), else the cache; UNKNOWN when neither knows.
 */
static int
lookup(struct gateway *g, const char *key, size_t klen)
{
	struct membership	*m = g->membership;
	int			 v;

	if (m->akey != NULL && m->aklen == klen &&
	    memcmp(m->akey, key, klen) == 0)
		return m->averdict;
	v = mcache_get(m->cache, key, klen, ev_now(g->t->loop));
	if (v == MCACHE_MISS)
		return UNKNOWN;
	m->hits++;
	return v ? MEMBERSHIP_YES : MEMBERSHIP_NO;
}

/*
 * May gs use the group (glen bytes)?  MEMBERSHIP_YES, _NO, _DOWN, _BUSY,
 * or _HELD: the event (name, arg, ack) is held and will run again, from
 * the answer, through the run callback.
 */
int
membership_gate(struct gateway *g, struct session *s, struct gw_socket *gs,
    const char *group, size_t glen, const char *name, size_t nlen,
    json_t *arg, int64_t ack)
{
	struct membership	*m = g->membership;
	char			 key[KEY_SIZE];
	size_t			 klen;
	int			 v;

	if (g->conf->membership == GW_MEMBERSHIP_OPEN)
		return MEMBERSHIP_YES;
	if (m == NULL)
		v = MEMBERSHIP_DOWN;
	else if (g->conf->membership == GW_MEMBERSHIP_TOKEN)
		v = grouplist_has(gs->groups, group, glen) ? MEMBERSHIP_YES :
		    MEMBERSHIP_NO;
	else if (glen > ROOMNAME_ID_MAX)
		v = MEMBERSHIP_NO;	/* events.c lets none through */
	else {
		klen = make_key(gs, group, glen, key);
		if ((v = lookup(g, key, klen)) == UNKNOWN)
			v = ask(g, s, gs, key, klen, name, nlen, arg, ack);
	}
	if (m != NULL && v == MEMBERSHIP_NO)
		m->refused++;
	else if (m != NULL && v == MEMBERSHIP_DOWN)
		m->unavailable++;
	else if (m != NULL && v == MEMBERSHIP_BUSY)
		m->busy++;
	return v;
}

/*
 * Not known: the event waits for the chat service's answer, on the call
 * already asking for this key or a new one.
 */
static int
ask(struct gateway *g, struct session *s, struct gw_socket *gs,
    const char *key, size_t klen, const char *name, size_t nlen,
    json_t *arg, int64_t ack)
{
	struct membership	*m = g->membership;
	struct probe		 p = { key, klen };
	struct mcheck		*c;
	int			 running;
	void			*sids;

	running = gs->held != NULL && gs->held->running;
	m->misses++;
	/* The event runs from the queue already (drain): it stays its head. */
	if (!running && (gs->held != NULL && gs->held->n > 0))
		return MEMBERSHIP_BUSY;	/* handlers_event queues those */
	if (!running && (m->held >= (size_t)g->conf->membership_wait_max))
		return MEMBERSHIP_BUSY;
	c = htab_find(&m->checks, htab_hash(&m->checks, key, klen), check_eq,
	    &p, NULL);
	if (c == NULL && (c = start(g, key, klen, gs->user, gs->ulen)) ==
	    NULL)
		return MEMBERSHIP_DOWN;
	if (c->nsids == c->cap) {
		if ((sids = reallocarray(c->sids, c->cap ? 2 * c->cap : 4,
		    SID_LEN)) == NULL)
			return MEMBERSHIP_DOWN;
		c->sids = sids;
		c->cap = c->cap ? 2 * c->cap : 4;
	}
	if (!running && enqueue(g, gs, name, nlen, arg, ack) != 0)
		return MEMBERSHIP_DOWN;
	memcpy(c->sids[c->nsids++], s->sid, SID_LEN);
	gs->held->wait = c->id;
	return MEMBERSHIP_HELD;
}

/*
 * A call for key: GET <chat_groups_path>/<group>/members/<user>, ids
 * escaped.  NULL when it cannot be sent (breaker open, shed, ...): the
 * chat service is unavailable.
 */
static struct mcheck *
start(struct gateway *g, const char *key, size_t klen, const char *user,
    size_t ulen)
{
	struct membership	*m = g->membership;
	struct services_call	 sc;
	struct mcheck		*c;
	char			 path[256 + 2 * URLESC_SIZE(ROOMNAME_ID_MAX) +
				     32], *p;
	size_t			 plen;
	ssize_t			 n;
	int			 rc;

	plen = strlen(g->conf->groups_path);
	if (plen > 256)
		return NULL;
	memcpy(path, g->conf->groups_path, plen);
	while (plen > 0 && path[plen - 1] == '/')
		plen--;
	p = path + plen;
	*p++ = '/';
	if ((n = urlesc_segment(key + ulen + 1, klen - ulen - 1, p,
	    URLESC_SIZE(ROOMNAME_ID_MAX) + 1)) < 0)
		return NULL;
	p += n;
	memcpy(p, "/members/", 9);
	p += 9;
	if (urlesc_segment(user, ulen, p, URLESC_SIZE(ROOMNAME_ID_MAX) + 1) <
	    0)
		return NULL;
	if ((c = calloc(1, sizeof(*c) + klen)) == NULL)
		return NULL;
	c->g = g;
	c->id = m->next_id++;
	c->klen = klen;
	memcpy(c->key, key, klen);
	c->hash = htab_hash(&m->checks, key, klen);
	memset(&sc, 0, sizeof(sc));
	sc.method = HTTPC_GET;
	sc.path = path;
	sc.idempotent = true;
	sc.cb = on_answer;
	sc.arg = c;
	if (htab_insert(&m->checks, c) != 0) {
		free(c);
		return NULL;
	}
	if ((rc = services_call(g->services, STATS_SVC_CHAT, &sc)) !=
	    SERVICES_SENT) {
		log_debug("membership check not sent: %d", rc);
		check_free(g, c);
		return NULL;
	}
	m->calls++;
	ev_timer_init(&c->deadline, on_deadline,
	    (double)services_timeout(&g->conf->services, STATS_SVC_CHAT) /
	    1000.0, 0);
	c->deadline.data = c;
	ev_timer_start(g->t->loop, &c->deadline);
	return c;
}

/* Out of the table of pending checks, and freed. */
static void
check_free(struct gateway *g, struct mcheck *c)
{
	struct membership	*m = g->membership;
	struct probe		 p = { c->key, c->klen };
	size_t			 idx;

	if (htab_find(&m->checks, c->hash, check_eq, &p, &idx) == c)
		htab_remove(&m->checks, idx);
	ev_timer_stop(g->t->loop, &c->deadline);
	free(c->sids);
	free(c);
}

/* Append an event to gs's queue (made if need be); -1 out of memory. */
static int
enqueue(struct gateway *g, struct gw_socket *gs, const char *name,
    size_t nlen, json_t *arg, int64_t ack)
{
	struct mheld	*e;

	if (gs->held == NULL) {
		if ((gs->held = calloc(1, sizeof(*gs->held))) == NULL)
			return -1;
		gs->held->tail = &gs->held->head;
	}
	if ((e = malloc(sizeof(*e) + nlen + 1)) == NULL)
		return -1;
	e->next = NULL;
	e->arg = json_incref(arg);
	e->ack = ack;
	e->nlen = nlen;
	memcpy(e->name, name, nlen);
	e->name[nlen] = '\0';
	*gs->held->tail = e;
	gs->held->tail = &e->next;
	gs->held->n++;
	g->membership->held++;
	return 0;
}

/*
 * An event behind held ones waits its turn; 0, or -1 past
 * membership_wait_per_socket or membership_wait_max (refused, counted).
 */
int
membership_hold(struct gateway *g, struct session *s, struct gw_socket *gs,
    const char *name, size_t nlen, json_t *arg, int64_t ack)
{
	struct membership	*m = g->membership;

	(void)s;
	if (gs->held->n >= (size_t)g->conf->membership_wait_per_socket ||
	    m->held >= (size_t)g->conf->membership_wait_max ||
	    enqueue(g, gs, name, nlen, arg, ack) != 0) {
		m->busy++;
		return -1;
	}
	return 0;
}

/* 2xx {"member": true|false}; 404: not a member; anything else: down. */
static int
verdict(int outcome, const struct httpc_result *r)
{
	json_t	*o, *v;
	int	 rc = MEMBERSHIP_DOWN;

	if (r == NULL)
		return MEMBERSHIP_DOWN;
	if (r->error == HTTPC_OK && r->status == 404)
		return MEMBERSHIP_NO;
	if (outcome != SERVICES_OK || r->body == NULL)
		return MEMBERSHIP_DOWN;
	if ((o = json_loadb(r->body, r->len, 0, NULL)) == NULL)
		return MEMBERSHIP_DOWN;
	if (json_is_boolean(v = json_object_get(o, "member")))
		rc = json_is_true(v) ? MEMBERSHIP_YES : MEMBERSHIP_NO;
	json_decref(o);
	return rc;
}

/* The chat service's answer, or no answer at all (r NULL). */
static void
on_answer(int outcome, const struct httpc_result *r, void *arg)
{
	struct mcheck		*c = arg;
	struct gateway		*g = c->g;
	struct membership	*m = g->membership;
	const struct gateway_conf *cf = g->conf;
	struct mcheck		**pp;
	double			 now = ev_now(g->t->loop);
	int			 v = verdict(outcome, r);

	if (v == MEMBERSHIP_DOWN)
		log_debug("membership check: chat service unavailable "
		    "(status %ld)", r != NULL ? r->status : 0L);
	/* Known now, even when the deadline came first. */
	if (v == MEMBERSHIP_YES)
		mcache_put(m->cache, c->key, c->klen, 1, now, now +
		    (double)cf->membership_ttl / 1000.0);
	else if (v == MEMBERSHIP_NO && cf->membership_negative_ttl > 0)
		mcache_put(m->cache, c->key, c->klen, 0, now, now +
		    (double)cf->membership_negative_ttl / 1000.0);
	if (c->orphan) {
		for (pp = &m->orphans; *pp != c; pp = &(*pp)->next)
			;
		*pp = c->next;
		free(c);
		return;
	}
	settle(g, c, v, 0);
}

/*
 * No answer within chat_service_timeout: the waiting events are refused now;
 * the call's answer, when it comes, only fills the cache.
 */
static void
on_deadline(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct mcheck	*c = w->data;
	struct gateway	*g = c->g;

	(void)loop;
	(void)revents;
	settle(g, c, MEMBERSHIP_DOWN, 1);
}

/*
 * Carry out the answer v for every socket that waits for c: each one
 * still there runs its held events, in order, the answer ruling c's key
 * meanwhile.  Then c is done, or an orphan if its call is still out.
 */
static void
settle(struct gateway *g, struct mcheck *c, int v, int out)
{
	struct membership	*m = g->membership;
	struct probe		 p = { c->key, c->klen };
	struct session		*s;
	struct gw_socket	*gs;
	size_t			 i, idx;

	ev_timer_stop(g->t->loop, &c->deadline);
	/* Out of the table first: a new miss of this key asks anew. */
	if (htab_find(&m->checks, c->hash, check_eq, &p, &idx) == c)
		htab_remove(&m->checks, idx);
	m->akey = c->key;
	m->aklen = c->klen;
	m->averdict = v;
	for (i = 0; i < c->nsids; i++) {
		if ((s = session_find(g->t, c->sids[i], SID_LEN)) == NULL ||
		    (gs = s->app_data) == NULL || gs->held == NULL ||
		    gs->held->wait != c->id)
			continue;	/* gone, or waits for another */
		gs->held->wait = 0;
		drain(g, s, gs);
	}
	m->akey = NULL;
	free(c->sids);
	c->sids = NULL;
	c->nsids = c->cap = 0;
	if (out) {
		/* The deadline: the call is still out, and owns c. */
		c->orphan = 1;
		c->next = m->orphans;
		m->orphans = c;
	} else
		free(c);
}

/* Run gs's held events in order, until one waits again. */
static void
drain(struct gateway *g, struct session *s, struct gw_socket *gs)
{
	struct membership	*m = g->membership;
	struct mqueue		*q = gs->held;
	struct mheld		*e;
	char			 sid[SID_LEN];

	memcpy(sid, s->sid, SID_LEN);
	while ((e = q->head) != NULL) {
		q->running = 1;
		m->run(g, s, gs, e->name, e->nlen, e->arg, e->ack);
		/* An event never closes its own socket; if one did: stop. */
		if (session_find(g->t, sid, SID_LEN) != s || s->app_data != gs)
			return;
		q->running = 0;
		if (q->wait != 0)
			return;		/* the head waits for another key */
		if ((q->head = e->next) == NULL)
			q->tail = &q->head;
		q->n--;
		m->held--;
		json_decref(e->arg);
		free(e);
	}
	free(q);
	gs->held = NULL;
}

/* The socket is closing: its held events go with it, unanswered. */
void
membership_gone(struct gateway *g, struct gw_socket *gs)
{
	struct mqueue	*q = gs->held;
	struct mheld	*e;

	if (q == NULL)
		return;
	while ((e = q->head) != NULL) {
		q->head = e->next;
		json_decref(e->arg);
		free(e);
		if (g->membership != NULL)
			g->membership->held--;
	}
	free(q);
	gs->held = NULL;
}

/*
 * group_membership token: the groups of a token just verified (r) become
 * gs's, in place of those of its last token.  A claim past
 * membership_token_groups was cut: said in the log and counted.
 */
void
membership_token(struct gateway *g, struct gw_socket *gs,
    struct auth_result *r)
{
	struct membership	*m = g->membership;
	struct logf		 f;

	grouplist_free(gs->groups);
	gs->groups = r->groups;
	r->groups = NULL;
	if (gs->groups == NULL || r->groups_claimed <= gs->groups->n)
		return;
	if (m != NULL)
		m->truncated++;
	memset(&f, 0, sizeof(f));
	logf_str(&f, "user", gs->user);
	logf_int(&f, "claimed", (long long)r->groups_claimed);
	logf_int(&f, "kept", (long long)gs->groups->n);
	log_emit(LOG_LEVEL_WARN, &f, "the token's groups claim is longer "
	    "than membership_token_groups: the other groups are refused");
}

void
membership_stats(struct gateway *g, struct worker_stats *st)
{
	struct membership	*m = g->membership;

	if (m == NULL)
		return;
	st->membership_hits = m->hits;
	st->membership_misses = m->misses;
	st->membership_calls = m->calls;
	st->membership_refused = m->refused;
	st->membership_unavailable = m->unavailable;
	st->membership_busy = m->busy;
	st->membership_entries = m->cache != NULL ? mcache_count(m->cache) : 0;
	st->membership_held = m->held;
	st->membership_groups_truncated = m->truncated;
}
