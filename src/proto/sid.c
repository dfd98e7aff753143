/*
 * sid.c: session ids carrying their worker's id (layout in sid.h).  Pure:
 * the random bytes come from the caller.
 */

#include <stdint.h>
#include <string.h>

#include "base64.h"
#include "sid.h"

#define WORKER_CHARS	2

/*
 * Write the sid of a new session of worker (0..SID_WORKER_MAX) into out,
 * NUL-terminated, from SID_RANDOM_BYTES random bytes.  Returns 0, or -1
 * if worker is out of range.
 */
int
sid_encode(const uint8_t rnd[SID_RANDOM_BYTES], unsigned worker,
    char out[SID_LEN + 1])
{
	uint32_t	acc;
	size_t		i, o;
	unsigned	bits;

	if (worker > SID_WORKER_MAX)
		return (-1);
	out[0] = base64_digit(worker >> 6, BASE64_URL);
	out[1] = base64_digit(worker & 0x3f, BASE64_URL);
	acc = 0;
	bits = 0;
	for (i = 0, o = WORKER_CHARS; o < SID_LEN; o++) {
		if (bits < 6) {
			acc = (acc << 8 | rnd[i++]) & 0xffff;
			bits += 8;
		}
		bits -= 6;
		out[o] = base64_digit((acc >> bits) & 0x3f, BASE64_URL);
	}
	out[SID_LEN] = '\0';
	return (0);
}

/* Is sid (len bytes, no NUL needed) shaped like one of ours? */
bool
sid_valid(const char *sid, size_t len)
{
	size_t	i;

	if (sid == NULL || len != SID_LEN)
		return (false);
	for (i = 0; i < len; i++) {
		if (base64_value((unsigned char)sid[i], BASE64_URL) < 0)
			return (false);
	}
	return (true);
}

/*
 * The worker that owns sid, or -1 if sid is not one of ours.  Only the
 * shape is checked: whether the session exists is the worker's business.
 */
int
sid_worker(const char *sid, size_t len)
{
	if (!sid_valid(sid, len))
		return (-1);
	return (base64_value((unsigned char)sid[0], BASE64_URL) << 6 |
	    base64_value((unsigned char)sid[1], BASE64_URL));
}
