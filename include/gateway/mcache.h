/*
 * mcache: the group membership cache of one worker (issue 13), pure C.
 * A key (the user id, a NUL, the group id) maps to what the chat service
 * said: member or not, until an expiry time.  At most max entries: a new
 * one past that pushes out the oldest.  Time is the caller's (the loop's
 * clock), so this stays pure and testable.
 */
#ifndef SGW_MCACHE_H
#define SGW_MCACHE_H

#include <stddef.h>
#include <stdint.h>

struct mcache;

#define MCACHE_MISS	-1	/* mcache_get: not known, or expired */

/* mcache.c */
struct mcache	*mcache_new(size_t, uint64_t);
void		 mcache_free(struct mcache *);
int		 mcache_get(struct mcache *, const char *, size_t, double);
int		 mcache_put(struct mcache *, const char *, size_t, int, double,
		     double);
size_t		 mcache_count(const struct mcache *);

#endif /* SGW_MCACHE_H */
