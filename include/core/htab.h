/*
 * htab: the open-addressing hash table under presence.c and rooms.c, pure C.
 *
 * A table of pointers to the caller's records.  Each record starts with a
 * uint32_t hash (HTAB_HASH reads it), so growing and deleting never call
 * back into the caller.  Linear probing, load at most 3/4, deletion by
 * backward shift (no tombstones: a table full of churn stays fast).  The
 * table never allocates on lookup.
 *
 * Keys a client can choose (room names) are hashed with SipHash-1-3 keyed
 * by a seed the worker draws at startup, so nobody can build a set of names
 * that collide (hash flooding); the seed is passed in to keep this pure.
 */
#ifndef SGW_HTAB_H
#define SGW_HTAB_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define HTAB_HASH(e)	(*(const uint32_t *)(const void *)(e))

struct htab {
	void		**slot;		/* cap pointers, NULL: free */
	size_t		  cap;		/* a power of two, >= HTAB_MIN */
	size_t		  n;		/* records */
	uint64_t	  k0, k1;	/* SipHash key */
	unsigned	  sweeping;	/* no shrink during htab_sweep */
};

#define HTAB_MIN	16

/* htab.c */
int		 htab_init(struct htab *, uint64_t);
void		 htab_free(struct htab *);
uint32_t	 htab_hash(const struct htab *, const void *, size_t);
uint32_t	 htab_hash_ptr(const struct htab *, const void *);
void		*htab_find(const struct htab *, uint32_t,
		     bool (*)(const void *, const void *), const void *,
		     size_t *);
int		 htab_insert(struct htab *, void *);
void		 htab_remove(struct htab *, size_t);
void		 htab_sweep(struct htab *, bool (*)(void *, void *), void *);

#endif /* SGW_HTAB_H */
