/*
 * presence: the gateway-wide presence table of one worker (presence.h);
 * the digest's wire format is presence_digest.c.  Pure: no I/O, no
 * logging.  Memory is allocated only when a user or a second worker for a
 * user appears, never on lookup.
 */
#include <stdlib.h>
#include <string.h>

#include "htab.h"
#include "jsonlimit.h"
#include "presence.h"
#include "presence_digest.h"

/* One other worker's sockets of a user. */
struct pw {
	uint32_t	 count;
	uint32_t	 mark;		/* wstate.mark of the last digest */
	uint16_t	 wid;
};

/*
 * Every worker keeps a record of every user of the host, so its size is
 * paid once per worker per connection (issue 16: 14 workers for 250,000
 * connections).  32 bytes before the name: the pairs inline or an array,
 * never both; the name's length is where its NUL is.
 */
struct puser {
	uint32_t	 hash;		/* first, for htab */
	uint32_t	 local;		/* this worker's sockets */
	uint32_t	 total;		/* everyone's sockets */
	uint16_t	 nw;		/* pairs in use */
	uint16_t	 capw;		/* 0: the pair is ws.one */
	union {
		struct pw	 one;
		struct pw	*arr;	/* capw pairs */
	}		 ws;
	char		 name[];
};

/* What this worker knows of another worker's digest in progress. */
struct wstate {
	uint32_t	 id;		/* digest id */
	uint32_t	 mark;		/* bumped at each first part */
	uint16_t	 next;		/* part index expected */
	uint8_t		 active;	/* whole and in order so far */
	uint8_t		 ask;		/* its summary differed: ask it */
	struct presence_sum sum;	/* what we hold of that worker */
};

struct presence {
	struct htab	 users;
	unsigned	 self;
	size_t		 nlocal;	/* users with local > 0 */
	uint64_t	 gen;		/* bumped when a record comes or goes */
	uint32_t	 digest_seq;
	struct wstate	*ws;		/* PRESENCE_WID_MAX + 1 */
	struct presence_sum lsum;	/* this worker's local sockets */
};

struct key {
	const char	*s;
	size_t		 len;
};

/* Context of a sweep over one worker's pairs. */
struct sweep {
	struct presence	*p;
	unsigned	 wid;
	bool		 all;		/* drop every pair of wid */
	uint32_t	 mark;		/* else keep those with this mark */
	presence_cb	*cb;
	void		*arg;
	int		 gone;
};

static bool		 user_valid(const char *, size_t *);
static bool		 user_eq(const void *, const void *);
static struct puser	*user_find(const struct presence *, const char *,
			    size_t, size_t *);
static struct puser	*user_get(struct presence *, const char *, size_t,
			    bool *);
static void		 user_drop(struct presence *, struct puser *, size_t);
static void		 user_free(struct puser *);
static struct pw	*pws(struct puser *);
static struct pw	*pw_find(struct puser *, unsigned);
static struct pw	*pw_add(struct puser *, unsigned);
static void		 pw_del(struct puser *, struct pw *);
static bool		 sweep_one(void *, void *);
static bool		 wid_ok(const struct presence *, unsigned);
static void		 sum_move(struct presence_sum *, const struct puser *,
			    int64_t);

struct presence *
presence_new(unsigned self, uint64_t seed)
{
	struct presence	*p;

	if (self > PRESENCE_WID_MAX)
		return (NULL);
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return (NULL);
	p->self = self;
	p->ws = calloc(PRESENCE_WID_MAX + 1, sizeof(*p->ws));
	if (p->ws == NULL || htab_init(&p->users, seed) != 0) {
		free(p->ws);
		free(p);
		return (NULL);
	}
	return (p);
}

void
presence_free(struct presence *p)
{
	size_t	i;

	if (p == NULL)
		return;
	for (i = 0; i < p->users.cap; i++) {
		if (p->users.slot[i] != NULL)
			user_free(p->users.slot[i]);
	}
	htab_free(&p->users);
	free(p->ws);
	free(p);
}

/* Ids go into JSON (online_users, user_connected): UTF-8, no NUL. */
static bool
user_valid(const char *user, size_t *len)
{
	if (user == NULL)
		return (false);
	*len = strnlen(user, PRESENCE_USER_MAX + 1);
	return (*len >= 1 && *len <= PRESENCE_USER_MAX &&
	    jsonlimit_utf8_valid(user, *len));
}

static bool
user_eq(const void *e, const void *k)
{
	const struct puser	*u = e;
	const struct key	*key = k;

	/* strncmp stops at the record's NUL: no read past a shorter name. */
	return (strncmp(u->name, key->s, key->len) == 0 &&
	    u->name[key->len] == '\0');
}

static struct puser *
user_find(const struct presence *p, const char *s, size_t len, size_t *idx)
{
	struct key	key = { s, len };

	return (htab_find(&p->users, htab_hash(&p->users, s, len), user_eq,
	    &key, idx));
}

/* The user's record, created (with no socket) if need be. */
static struct puser *
user_get(struct presence *p, const char *s, size_t len, bool *created)
{
	struct puser	*u;

	*created = false;
	if ((u = user_find(p, s, len, NULL)) != NULL)
		return (u);
	if ((u = calloc(1, sizeof(*u) + len + 1)) == NULL)
		return (NULL);
	u->hash = htab_hash(&p->users, s, len);
	memcpy(u->name, s, len);
	if (htab_insert(&p->users, u) != 0) {
		free(u);
		return (NULL);
	}
	p->gen++;
	*created = true;
	return (u);
}

static void
user_drop(struct presence *p, struct puser *u, size_t idx)
{
	htab_remove(&p->users, idx);
	user_free(u);
	p->gen++;
}

static void
user_free(struct puser *u)
{
	if (u->capw != 0)
		free(u->ws.arr);
	free(u);
}

static struct pw *
pws(struct puser *u)
{
	return (u->capw != 0 ? u->ws.arr : &u->ws.one);
}

static struct pw *
pw_find(struct puser *u, unsigned wid)
{
	struct pw	*w = pws(u);
	uint16_t	 i;

	for (i = 0; i < u->nw; i++) {
		if (w[i].wid == wid)
			return (&w[i]);
	}
	return (NULL);
}

/* A new pair for wid, count 0: inline for the first, then an array. */
static struct pw *
pw_add(struct puser *u, unsigned wid)
{
	struct pw	*w;
	uint16_t	 cap;

	if (u->nw == 1 && u->capw == 0) {
		if ((w = malloc(4 * sizeof(*w))) == NULL)
			return (NULL);
		w[0] = u->ws.one;
		u->ws.arr = w;
		u->capw = 4;
	} else if (u->capw != 0 && u->nw == u->capw) {
		cap = u->capw * 2;
		if ((w = realloc(u->ws.arr, cap * sizeof(*w))) == NULL)
			return (NULL);
		u->ws.arr = w;
		u->capw = cap;
	}
	w = &pws(u)[u->nw++];
	memset(w, 0, sizeof(*w));
	w->wid = (uint16_t)wid;
	return (w);
}

/* Swap-remove; back to the inline pair when one is left. */
static void
pw_del(struct puser *u, struct pw *w)
{
	struct pw	*arr;

	*w = pws(u)[--u->nw];
	if (u->capw != 0 && u->nw <= 1) {
		arr = u->ws.arr;
		if (u->nw == 1)
			u->ws.one = arr[0];
		free(arr);
		u->capw = 0;
	}
}

static bool
wid_ok(const struct presence *p, unsigned wid)
{
	return (wid <= PRESENCE_WID_MAX && wid != p->self);
}

/*
 * The summaries (presence.h): n sockets of u more (or fewer) in sum.  The
 * user's hash is FNV-1a 64 of its name, the same in every worker (unlike
 * the table's, which is seeded per worker).
 */
static void
sum_move(struct presence_sum *sum, const struct puser *u, int64_t n)
{
	uint64_t	 h = 1469598103934665603ULL;
	const char	*c;

	for (c = u->name; *c != '\0'; c++)
		h = (h ^ (uint8_t)*c) * 1099511628211ULL;
	sum->hash += h * (uint64_t)n;
	sum->sockets += (uint64_t)n;
}

int
presence_local_add(struct presence *p, const char *user)
{
	struct puser	*u;
	size_t		 len;
	bool		 created;

	if (!user_valid(user, &len))
		return (-1);
	if ((u = user_get(p, user, len, &created)) == NULL)
		return (-1);
	if (u->local == UINT32_MAX || u->total == UINT32_MAX)
		return (-1);
	if (u->local++ == 0)
		p->nlocal++;
	sum_move(&p->lsum, u, 1);
	return (u->total++ == 0 ? PRESENCE_ONLINE : PRESENCE_NOCHANGE);
}

/* A local socket closing that was never added is the caller's bug: -1. */
int
presence_local_del(struct presence *p, const char *user)
{
	struct puser	*u;
	size_t		 len, idx;

	if (!user_valid(user, &len))
		return (-1);
	if ((u = user_find(p, user, len, &idx)) == NULL || u->local == 0)
		return (-1);
	if (--u->local == 0)
		p->nlocal--;
	sum_move(&p->lsum, u, -1);
	if (--u->total == 0) {
		user_drop(p, u, idx);
		return (PRESENCE_OFFLINE);
	}
	return (PRESENCE_NOCHANGE);
}

/*
 * Deltas from worker wid.  Any delta from wid in the middle of its digest
 * cancels that digest's final removal (presence.h).
 */
int
presence_remote_add(struct presence *p, unsigned wid, const char *user)
{
	struct puser	*u;
	struct pw	*w;
	size_t		 len, idx;
	bool		 created;

	if (!wid_ok(p, wid) || !user_valid(user, &len))
		return (-1);
	p->ws[wid].active = 0;
	if ((u = user_get(p, user, len, &created)) == NULL)
		return (-1);
	if ((w = pw_find(u, wid)) == NULL && (w = pw_add(u, wid)) == NULL) {
		if (created && user_find(p, user, len, &idx) != NULL)
			user_drop(p, u, idx);
		return (-1);
	}
	if (w->count == UINT32_MAX || u->total == UINT32_MAX)
		return (-1);
	w->count++;
	sum_move(&p->ws[wid].sum, u, 1);
	return (u->total++ == 0 ? PRESENCE_ONLINE : PRESENCE_NOCHANGE);
}

/* A del for a socket we never heard of (its add was lost) changes nothing. */
int
presence_remote_del(struct presence *p, unsigned wid, const char *user)
{
	struct puser	*u;
	struct pw	*w;
	size_t		 len, idx;

	if (!wid_ok(p, wid) || !user_valid(user, &len))
		return (-1);
	p->ws[wid].active = 0;
	if ((u = user_find(p, user, len, &idx)) == NULL ||
	    (w = pw_find(u, wid)) == NULL)
		return (PRESENCE_NOCHANGE);
	sum_move(&p->ws[wid].sum, u, -1);
	if (--w->count == 0)
		pw_del(u, w);
	if (--u->total == 0) {
		user_drop(p, u, idx);
		return (PRESENCE_OFFLINE);
	}
	return (PRESENCE_NOCHANGE);
}

/* htab_sweep callback: drop wid's pair (all, or unmarked ones). */
static bool
sweep_one(void *arg, void *e)
{
	struct sweep	*s = arg;
	struct puser	*u = e;
	struct pw	*w;

	if ((w = pw_find(u, s->wid)) == NULL ||
	    (!s->all && w->mark == s->mark))
		return (false);
	u->total -= w->count;
	sum_move(&s->p->ws[s->wid].sum, u, -(int64_t)w->count);
	pw_del(u, w);
	if (u->total != 0)
		return (false);
	if (s->cb != NULL)
		s->cb(s->arg, u->name);
	user_free(u);
	s->p->gen++;
	s->gone++;
	return (true);
}

/*
 * A worker died: forget its sockets.  cb (may be NULL) hears of each user
 * now offline; it must not change the table.  Returns how many went
 * offline, or -1 for a bad wid.  O(users), and rare.
 */
int
presence_drop_worker(struct presence *p, unsigned wid, presence_cb *cb,
    void *arg)
{
	struct sweep	s = { p, wid, true, 0, cb, arg, 0 };

	if (!wid_ok(p, wid))
		return (-1);
	p->ws[wid].active = 0;
	htab_sweep(&p->users, sweep_one, &s);
	memset(&p->ws[wid].sum, 0, sizeof(p->ws[wid].sum));
	p->ws[wid].ask = 0;
	return (s.gone);
}

bool
presence_online(const struct presence *p, const char *user)
{
	size_t	len;

	return (user_valid(user, &len) &&
	    user_find(p, user, len, NULL) != NULL);
}

uint32_t
presence_local_count(const struct presence *p, const char *user)
{
	struct puser	*u;
	size_t		 len;

	if (!user_valid(user, &len) ||
	    (u = user_find(p, user, len, NULL)) == NULL)
		return (0);
	return (u->local);
}

uint64_t
presence_total_count(const struct presence *p, const char *user)
{
	struct puser	*u;
	size_t		 len;

	if (!user_valid(user, &len) ||
	    (u = user_find(p, user, len, NULL)) == NULL)
		return (0);
	return (u->total);
}

size_t
presence_count(const struct presence *p)
{
	return (p->users.n);
}

size_t
presence_local_users(const struct presence *p)
{
	return (p->nlocal);
}

/* Every online user, in no particular order; cb must not change p. */
void
presence_list(const struct presence *p, presence_cb *cb, void *arg)
{
	struct puser	*u;
	size_t		 i;

	for (i = 0; i < p->users.cap; i++) {
		if ((u = p->users.slot[i]) != NULL)
			cb(arg, u->name);
	}
}

void
presence_digest_begin(struct presence *p, struct presence_digest_cursor *c)
{
	memset(c, 0, sizeof(*c));
	c->gen = p->gen;
	c->id = ++p->digest_seq;
}

/*
 * Writes the next part of this worker's digest (its local users and their
 * counts) into buf, at most cap bytes (cap >= PRESENCE_DIGEST_MIN), and its
 * size to *len.  Returns 1 if more parts follow, 0 after the last part, -1
 * if cap is too small, the cursor is spent, or users came or went since
 * presence_digest_begin(): build all parts in one go, then send them.
 */
int
presence_digest(struct presence *p, struct presence_digest_cursor *c,
    uint8_t *buf, size_t cap, size_t *len)
{
	struct presence_digest_hdr	 h;
	struct puser			*u;
	size_t				 off = PRESENCE_DIGEST_HDR, nlen;
	uint32_t			 n = 0;

	if (c->done || cap < PRESENCE_DIGEST_MIN || c->gen != p->gen)
		return (-1);
	for (; c->slot < p->users.cap; c->slot++) {
		if ((u = p->users.slot[c->slot]) == NULL || u->local == 0)
			continue;
		nlen = strlen(u->name);	/* at most PRESENCE_USER_MAX */
		if (off + presence_digest_entry_size(u->local, nlen) > cap)
			break;
		off += presence_digest_encode_entry(buf + off, u->local,
		    u->name, nlen);
		n++;
	}
	if (c->slot == p->users.cap)
		c->done = true;
	else if (c->part == UINT16_MAX)
		return (-1);
	h.flags = c->done ? PRESENCE_DIGEST_LAST : 0;
	h.wid = (uint16_t)p->self;
	h.id = c->id;
	h.part = c->part;
	h.n = n;
	presence_digest_encode_hdr(buf, &h);
	c->part++;
	*len = off;
	return (c->done ? 0 : 1);
}

/*
 * Applies one digest part from worker wid: each listed user has exactly
 * that many sockets on wid; after the last part of a digest received whole,
 * users on wid that the digest did not list are removed.  online_cb and
 * offline_cb (either may be NULL) hear of users whose gateway-wide state
 * changed; they must not change the table.  Garbage, a digest from another
 * worker than wid, or from this worker itself: -1 and nothing changed.
 * Out of memory midway: -1 with the part half applied (consistent, and the
 * next digest completes it).
 */
int
presence_apply_digest(struct presence *p, unsigned wid, const uint8_t *d,
    size_t len, presence_cb *online_cb, presence_cb *offline_cb, void *arg)
{
	struct presence_digest_hdr	 h;
	struct wstate			*ws;
	struct sweep			 s;
	struct puser			*u;
	struct pw			*w;
	size_t				 off = PRESENCE_DIGEST_HDR, idx;
	uint32_t			 i, count = 0;
	bool				 created;
	const char			*name;
	uint8_t				 nlen;

	if (!wid_ok(p, wid) || presence_digest_decode(d, len, &h) != 0 ||
	    h.wid != wid)
		return (-1);
	ws = &p->ws[wid];
	if (h.part == 0) {
		ws->id = h.id;
		ws->mark++;
		ws->next = 1;
		ws->active = 1;
	} else if (ws->active && ws->id == h.id && ws->next == h.part)
		ws->next++;
	else
		ws->active = 0;

	for (i = 0; i < h.n; i++) {
		off = presence_digest_decode_entry(d, len, off, &count, &name,
		    &nlen);
		if ((u = user_get(p, name, nlen, &created)) == NULL)
			goto nomem;
		if ((w = pw_find(u, wid)) == NULL &&
		    (w = pw_add(u, wid)) == NULL) {
			if (created && user_find(p, name, nlen, &idx) != NULL)
				user_drop(p, u, idx);
			goto nomem;
		}
		if ((uint64_t)u->total - w->count + count > UINT32_MAX)
			continue;	/* garbage: no total wraps */
		u->total = u->total - w->count + count;
		sum_move(&ws->sum, u, (int64_t)count - (int64_t)w->count);
		w->count = count;
		w->mark = ws->mark;
		if (created && online_cb != NULL)
			online_cb(arg, u->name);
	}
	if ((h.flags & PRESENCE_DIGEST_LAST) && ws->active) {
		memset(&s, 0, sizeof(s));
		s.p = p;
		s.wid = wid;
		s.mark = ws->mark;
		s.cb = offline_cb;
		s.arg = arg;
		htab_sweep(&p->users, sweep_one, &s);
	}
	if (h.flags & PRESENCE_DIGEST_LAST)
		ws->active = 0;
	return (0);
nomem:
	ws->active = 0;
	return (-1);
}

/* This worker's summary, as it sends it. */
void
presence_summary(const struct presence *p, struct presence_sum *out)
{
	*out = p->lsum;
}

/*
 * Worker wid's summary: 0 if it is what this table holds of wid, 1 if not
 * (wid is then due to be asked for a whole digest: presence_asks()), -1
 * for a bad wid.  Costs nothing but the compare: the table keeps its view
 * of each worker's sum as deltas and digests come.
 */
int
presence_check_summary(struct presence *p, unsigned wid,
    const struct presence_sum *sum)
{
	if (!wid_ok(p, wid))
		return (-1);
	if (p->ws[wid].sum.hash == sum->hash &&
	    p->ws[wid].sum.sockets == sum->sockets)
		return (0);
	p->ws[wid].ask = 1;
	return (1);
}

/* The workers to ask for a whole digest, at most cap; forgotten here. */
size_t
presence_asks(struct presence *p, uint16_t *out, size_t cap)
{
	size_t		n = 0;
	unsigned	wid;

	for (wid = 0; wid <= PRESENCE_WID_MAX && n < cap; wid++)
		if (p->ws[wid].ask) {
			p->ws[wid].ask = 0;
			out[n++] = (uint16_t)wid;
		}
	return (n);
}
