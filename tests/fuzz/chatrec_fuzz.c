/*
 * libFuzzer harness for chatrec.c.  The input is a spool record's payload,
 * as a crash, another version or a bad disk may leave it.  Checked, beyond
 * memory safety:
 *  - a record chatrec_decode() accepts is written again byte for byte by
 *    chatrec_encode(), and its fields lie inside the input;
 *  - chatrec_path() of its id leaves only RFC 3986 unreserved bytes and
 *    %XX escapes in the segment, which decode back to the id, and fails
 *    rather than overflow a small buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chatrec.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
unhex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void
check_path(const struct chatrec *r)
{
	char	 out[3 * CHATREC_FIELD_MAX + 16], small[40];
	char	 back[CHATREC_FIELD_MAX];
	size_t	 i, n = 0;
	int	 len;

	len = chatrec_path("/b", r->id, r->idlen, "/s", out, sizeof(out));
	if (len < 5 || memcmp(out, "/b/", 3) != 0 ||
	    memcmp(out + len - 2, "/s", 3) != 0)
		abort();
	for (i = 3; i < (size_t)len - 2; i++) {
		if (out[i] == '%') {
			if (unhex(out[i + 1]) < 0 || unhex(out[i + 2]) < 0)
				abort();
			back[n++] = (char)(unhex(out[i + 1]) << 4 |
			    unhex(out[i + 2]));
			i += 2;
		} else if (strchr("-._~", out[i]) != NULL ||
		    (out[i] >= 'A' && out[i] <= 'Z') ||
		    (out[i] >= 'a' && out[i] <= 'z') ||
		    (out[i] >= '0' && out[i] <= '9'))
			back[n++] = out[i];
		else
			abort();
	}
	if (n != r->idlen || memcmp(back, r->id, n) != 0)
		abort();
	len = chatrec_path("/b", r->id, r->idlen, "/s", small, sizeof(small));
	if (len >= (int)sizeof(small) || (len >= 0 && small[len] != '\0'))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct chatrec	 r;
	uint8_t		*again;
	const char	*lo = (const char *)data, *hi = lo + size;

	if (chatrec_decode(data, size, &r) != 0)
		return 0;
	if (r.id < lo || r.id + r.idlen > hi || r.key < lo ||
	    r.key + r.keylen > hi || r.body < lo || r.body + r.blen != hi)
		abort();
	if (chatrec_size(&r) != size || (again = malloc(size)) == NULL)
		abort();
	if (chatrec_encode(&r, again, size) != size ||
	    memcmp(again, data, size) != 0)
		abort();
	free(again);
	check_path(&r);
	return 0;
}
