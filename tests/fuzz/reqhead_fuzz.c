/*
 * reqhead_fuzz.c: libFuzzer harness for the head of a first request
 * (reqhead.c), as peeked from a socket: not NUL-terminated, any bytes.
 *
 * Input: one byte choosing the header buffer's size (64 to 16384), then
 * the bytes.  The answers must be consistent: a head whole and fitting
 * stays so with more bytes after it, a refusal never turns into a fit,
 * and routing never names an impossible worker.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reqhead.h"
#include "sid.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t	 max, len;
	char	*buf;
	int	 r, r2, w;

	if (size < 1)
		return 0;
	max = 64 + ((size_t)data[0] << 6);
	len = size - 1;
	/* An exact-size copy, so that ASan sees any read past len. */
	if ((buf = malloc(len == 0 ? 1 : len)) == NULL)
		abort();
	memcpy(buf, data + 1, len);
	r = reqhead_check(buf, len, max);
	if (r != 0 && r != 414 && r != 431 && r != REQHEAD_MORE)
		abort();
	if (r == REQHEAD_MORE && len >= max)
		abort();
	if (len > 0) {
		r2 = reqhead_check(buf, len - 1, max);
		/* Fewer bytes: a refusal cannot become a fit. */
		if (r2 == 0 && r != 0)
			abort();
	}
	w = reqhead_route(buf, len, 0);
	if (w != -1 && w != REQHEAD_MORE && (w < 1 || w > SID_WORKER_MAX))
		abort();
	free(buf);
	return 0;
}
