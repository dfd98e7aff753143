/*
 * libFuzzer harness for authcache.c (issue 13): the two things it reads
 * that come from outside, a token's payload (authcache_jwt_exp, before
 * any signature is checked) and the auth service's answer
 * (authcache_parse).  Checked, beyond memory safety:
 *  - an answer taken as valid names a user the gateway accepts as an id,
 *    and one that is not valid leaves no user behind;
 *  - a JWT's exp is never negative;
 *  - the input's key, put in a cache of one, is found again until its
 *    deadline, and a second key pushes it out.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "authcache.h"
#include "roomname.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct authcache_entry	 e, got;
	struct authcache	*c;
	uint8_t			 k[AUTHCACHE_KEY_LEN], k2[AUTHCACHE_KEY_LEN];
	char			*s;
	int			 rc;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (authcache_jwt_exp(s) < 0)
		abort();
	rc = authcache_parse((const char *)data, size, &e);
	if (rc == 1 && (!e.valid || !roomname_id_valid(e.user,
	    strlen(e.user))))
		abort();
	if (rc != 1 && (e.valid || e.user[0] != '\0'))
		abort();
	if ((c = authcache_new(1, size)) != NULL) {
		authcache_key((const char *)data, size, k);
		authcache_key("another", 7, k2);
		if (authcache_put(c, k, &e, 100, 10) == 0) {
			if (!authcache_get(c, k, 99, &got) ||
			    memcmp(&got, &e, sizeof(e)) != 0 ||
			    authcache_get(c, k, 100, &got))
				abort();
			if (authcache_put(c, k, &e, 100, 10) != 0 ||
			    authcache_put(c, k2, &e, 100, 10) != 0 ||
			    authcache_count(c) != 1 ||
			    (memcmp(k, k2, sizeof(k)) != 0 &&
			    authcache_get(c, k, 50, &got)))
				abort();
		}
		authcache_free(c);
	}
	free(s);
	return 0;
}
