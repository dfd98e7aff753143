/*
 * htab: open addressing with linear probing and backward-shift deletion
 * (see htab.h).  Pure: no I/O, no logging.
 */
#include <stdlib.h>
#include <string.h>

#include "htab.h"

#define ROTL(x, b)	(uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND do {							\
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);	\
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;				\
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;				\
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);	\
} while (0)

static int	resize(struct htab *, size_t);
static void	place(void **, size_t, void *);
static void	remove_at(struct htab *, size_t);

int
htab_init(struct htab *t, uint64_t seed)
{
	memset(t, 0, sizeof(*t));
	if ((t->slot = calloc(HTAB_MIN, sizeof(*t->slot))) == NULL)
		return (-1);
	t->cap = HTAB_MIN;
	/* Two different 64-bit halves of the key from one seed. */
	t->k0 = seed;
	t->k1 = (seed ^ 0x9e3779b97f4a7c15ULL) * 0xbf58476d1ce4e5b9ULL;
	return (0);
}

/* Frees the slot array only: the records belong to the caller. */
void
htab_free(struct htab *t)
{
	free(t->slot);
	t->slot = NULL;
	t->cap = t->n = 0;
}

/*
 * SipHash-1-3 (the variant Rust and Python use for their hash tables),
 * truncated to 32 bits: keyed, so colliding keys cannot be precomputed.
 */
uint32_t
htab_hash(const struct htab *t, const void *data, size_t len)
{
	const unsigned char	*p = data;
	uint64_t		 v0, v1, v2, v3, m, b;
	size_t			 i, j;

	v0 = t->k0 ^ 0x736f6d6570736575ULL;
	v1 = t->k1 ^ 0x646f72616e646f6dULL;
	v2 = t->k0 ^ 0x6c7967656e657261ULL;
	v3 = t->k1 ^ 0x7465646279746573ULL;
	for (i = 0; i + 8 <= len; i += 8) {
		m = 0;
		for (j = 0; j < 8; j++)
			m |= (uint64_t)p[i + j] << (8 * j);
		v3 ^= m;
		SIPROUND;
		v0 ^= m;
	}
	b = (uint64_t)len << 56;
	for (j = 0; i + j < len; j++)
		b |= (uint64_t)p[i + j] << (8 * j);
	v3 ^= b;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	m = v0 ^ v1 ^ v2 ^ v3;
	return ((uint32_t)(m ^ (m >> 32)));
}

/* Pointers are not chosen by clients: a keyed splitmix64 finaliser. */
uint32_t
htab_hash_ptr(const struct htab *t, const void *ptr)
{
	uint64_t	x = (uint64_t)(uintptr_t)ptr ^ t->k0;

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return ((uint32_t)x);
}

/*
 * The record with this hash for which eq(record, key) holds, or NULL.  Its
 * slot index goes to *idx (for htab_remove) when idx is not NULL.
 */
void *
htab_find(const struct htab *t, uint32_t hash,
    bool (*eq)(const void *, const void *), const void *key, size_t *idx)
{
	size_t	 mask = t->cap - 1, i;
	void	*e;

	for (i = hash & mask; (e = t->slot[i]) != NULL; i = (i + 1) & mask) {
		if (HTAB_HASH(e) == hash && eq(e, key)) {
			if (idx != NULL)
				*idx = i;
			return (e);
		}
	}
	return (NULL);
}

static void
place(void **slot, size_t cap, void *e)
{
	size_t	mask = cap - 1, i;

	for (i = HTAB_HASH(e) & mask; slot[i] != NULL; i = (i + 1) & mask)
		;
	slot[i] = e;
}

static int
resize(struct htab *t, size_t cap)
{
	void	**slot;
	size_t	  i;

	if ((slot = calloc(cap, sizeof(*slot))) == NULL)
		return (-1);
	for (i = 0; i < t->cap; i++) {
		if (t->slot[i] != NULL)
			place(slot, cap, t->slot[i]);
	}
	free(t->slot);
	t->slot = slot;
	t->cap = cap;
	return (0);
}

/* The caller has checked that no equal record is present. */
int
htab_insert(struct htab *t, void *e)
{
	if ((t->n + 1) * 4 > t->cap * 3) {
		if (t->cap > SIZE_MAX / 2 / sizeof(*t->slot) ||
		    resize(t, t->cap * 2) != 0)
			return (-1);
	}
	place(t->slot, t->cap, e);
	t->n++;
	return (0);
}

/*
 * Backward-shift deletion: move each later record of the probe run into
 * the hole when its home slot does not lie cyclically in (hole, record].
 * Only slots after idx, up to the next free slot, ever move.
 */
static void
remove_at(struct htab *t, size_t i)
{
	size_t	mask = t->cap - 1, j, k;

	t->slot[i] = NULL;
	t->n--;
	for (j = (i + 1) & mask; t->slot[j] != NULL; j = (j + 1) & mask) {
		k = HTAB_HASH(t->slot[j]) & mask;
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		t->slot[i] = t->slot[j];
		t->slot[j] = NULL;
		i = j;
	}
}

/* Removes the record at idx (from htab_find); the caller frees it. */
void
htab_remove(struct htab *t, size_t idx)
{
	remove_at(t, idx);
	if (t->sweeping == 0 && t->cap > HTAB_MIN && t->n * 8 < t->cap)
		(void)resize(t, t->cap / 2);	/* if it fails, stay big */
}

/*
 * Calls fn(arg, record) once for every record; when fn returns true the
 * record is removed (fn may already have freed it).  The walk goes
 * downwards from a free slot: a removal only pulls records from slots after
 * the hole, all already visited, so none is skipped or seen twice.  fn must
 * not insert into or remove from the table itself.
 */
void
htab_sweep(struct htab *t, bool (*fn)(void *, void *), void *arg)
{
	size_t	mask = t->cap - 1, start, i, left;

	for (start = 0; t->slot[start] != NULL; start++)
		;	/* load <= 3/4: there is a free slot */
	t->sweeping++;
	i = start;
	for (left = t->cap - 1; left > 0; left--) {
		i = (i - 1) & mask;
		if (t->slot[i] != NULL && fn(arg, t->slot[i]))
			remove_at(t, i);
	}
	t->sweeping--;
	if (t->sweeping == 0 && t->cap > HTAB_MIN && t->n * 8 < t->cap) {
		left = t->cap;
		while (left > HTAB_MIN && t->n * 8 < left)
			left /= 2;
		(void)resize(t, left);
	}
}
