/*
 * mcache: (user, group) -> member or not, with an expiry, bounded (mcache.h).
 * A hash table (htab.h, SipHash keyed by the worker's seed: the keys are
 * ids a client names) over a list in insertion order, oldest first: the
 * entry pushed out at the bound, and the expired ones dropped on a put,
 * are at its head.  A get of an expired entry drops it too.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "htab.h"
#include "mcache.h"

struct entry {
	uint32_t	 hash;		/* first: HTAB_HASH */
	int		 member;
	double		 expires;
	struct entry	*prev, *next;	/* insertion order */
	size_t		 klen;
	char		 key[];
};

struct mcache {
	struct htab	 h;
	struct entry	*head, *tail;
	size_t		 max;
};

struct probe {
	const char	*key;
	size_t		 klen;
};

static bool	 eq(const void *, const void *);
static struct entry *find(struct mcache *, const char *, size_t, size_t *);
static void	 drop(struct mcache *, struct entry *, size_t);
static void	 unlink_entry(struct mcache *, struct entry *);
static void	 append(struct mcache *, struct entry *);

struct mcache *
mcache_new(size_t max, uint64_t seed)
{
	struct mcache	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if (htab_init(&c->h, seed) != 0) {
		free(c);
		return NULL;
	}
	c->max = max > 0 ? max : 1;
	return c;
}

void
mcache_free(struct mcache *c)
{
	struct entry	*e, *next;

	if (c == NULL)
		return;
	for (e = c->head; e != NULL; e = next) {
		next = e->next;
		free(e);
	}
	htab_free(&c->h);
	free(c);
}

static bool
eq(const void *entry, const void *arg)
{
	const struct entry	*e = entry;
	const struct probe	*p = arg;

	return e->klen == p->klen && memcmp(e->key, p->key, p->klen) == 0;
}

static struct entry *
find(struct mcache *c, const char *key, size_t klen, size_t *idx)
{
	struct probe	p = { key, klen };

	return htab_find(&c->h, htab_hash(&c->h, key, klen), eq, &p, idx);
}

static void
unlink_entry(struct mcache *c, struct entry *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		c->head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		c->tail = e->prev;
	e->prev = e->next = NULL;
}

static void
append(struct mcache *c, struct entry *e)
{
	e->prev = c->tail;
	e->next = NULL;
	if (c->tail != NULL)
		c->tail->next = e;
	else
		c->head = e;
	c->tail = e;
}

/* Out of the table (its slot idx) and the list, and freed. */
static void
drop(struct mcache *c, struct entry *e, size_t idx)
{
	htab_remove(&c->h, idx);
	unlink_entry(c, e);
	free(e);
}

/* 1 member, 0 not, MCACHE_MISS unknown or expired at now. */
int
mcache_get(struct mcache *c, const char *key, size_t klen, double now)
{
	struct entry	*e;
	size_t		 idx;

	if ((e = find(c, key, klen, &idx)) == NULL)
		return MCACHE_MISS;
	if (e->expires <= now) {
		drop(c, e, idx);
		return MCACHE_MISS;
	}
	return e->member;
}

/*
 * Remember an answer until expires; it replaces what was known.  The
 * entries at the head expired at now go first, then the oldest while full.
 * 0, or -1 out of memory (nothing is known then).
 */
int
mcache_put(struct mcache *c, const char *key, size_t klen, int member,
    double now, double expires)
{
	struct entry	*e;
	size_t		 idx;

	if ((e = find(c, key, klen, &idx)) != NULL) {
		e->member = member != 0;
		e->expires = expires;
		unlink_entry(c, e);
		append(c, e);
		return 0;
	}
	while (c->head != NULL && (c->head->expires <= now ||
	    c->h.n >= c->max)) {
		find(c, c->head->key, c->head->klen, &idx);
		drop(c, c->head, idx);
	}
	if ((e = malloc(sizeof(*e) + klen)) == NULL)
		return -1;
	e->hash = htab_hash(&c->h, key, klen);
	e->member = member != 0;
	e->expires = expires;
	e->klen = klen;
	memcpy(e->key, key, klen);
	if (htab_insert(&c->h, e) != 0) {
		free(e);
		return -1;
	}
	append(c, e);
	return 0;
}

size_t
mcache_count(const struct mcache *c)
{
	return c->h.n;
}
