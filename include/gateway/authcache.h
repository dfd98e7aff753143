/*
 * authcache: the tokens the auth service verified (or refused), per
 * worker, so that a storm of reconnects is not one call per connection
 * (issue 13).  Pure C: no loop, no I/O; the caller passes the time.
 *
 * A token is never kept: its key is the SHA-256 of its bytes.  An entry
 * lives until its own deadline (the token's expiry, or a short TTL), the
 * table holds at most max entries: past it the expired ones go first, then
 * the oldest.
 */
#ifndef SGW_AUTHCACHE_H
#define SGW_AUTHCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "auth.h"

#define AUTHCACHE_KEY_LEN	32	/* SHA-256 */

struct authcache;

/* A cached answer. */
struct authcache_entry {
	int	 valid;			/* 0: refused (negative entry) */
	char	 user[AUTH_USER_MAX + 1];
	int64_t	 exp;			/* the token's expiry; 0: none */
};

/* authcache.c */
void		 authcache_key(const char *, size_t,
		    uint8_t [AUTHCACHE_KEY_LEN]);
int64_t		 authcache_jwt_exp(const char *);
int		 authcache_parse(const char *, size_t,
		    struct authcache_entry *);
struct authcache *authcache_new(size_t, uint64_t);
void		 authcache_free(struct authcache *);
int		 authcache_get(struct authcache *, const uint8_t *, int64_t,
		    struct authcache_entry *);
int		 authcache_put(struct authcache *, const uint8_t *,
		    const struct authcache_entry *, int64_t, int64_t);
size_t		 authcache_count(const struct authcache *);

#endif /* SGW_AUTHCACHE_H */
