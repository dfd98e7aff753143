/*
 * A per-process pool of kernel randomness (see randpool.h).  Bytes are
 * handed out once and wiped, so no two ids share any; after fork() each
 * worker starts empty (the pool is filled on first use in the worker).
 */
#include <sys/random.h>

#include <string.h>

#include "randpool.h"

#define POOL	4096

static unsigned char	pool[POOL];
static size_t		avail;

/* Fill out with n random bytes; -1 if the kernel gave none. */
int
randpool_get(void *out, size_t n)
{
	unsigned char	*o = out;
	size_t		 k;

	while (n > 0) {
		if (avail == 0) {
			if (getrandom(pool, sizeof(pool), 0) !=
			    (ssize_t)sizeof(pool))
				return -1;
			avail = sizeof(pool);
		}
		k = n < avail ? n : avail;
		memcpy(o, pool + sizeof(pool) - avail, k);
		memset(pool + sizeof(pool) - avail, 0, k);
		avail -= k;
		o += k;
		n -= k;
	}
	return 0;
}
