/*
 * sid.c: session ids carrying their worker's id (layout in sid.h).  Pure:
 * the random bytes come from the caller.
 */

#include <stdint.h>
#include <string.h>

#include "sid.h"

#define WORKER_CHARS	2

static int	b64url_value(char);

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Value of a base64url digit, or -1. */
static int
b64url_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return (c - 'A');
	if (c >= 'a' && c <= 'z')
		return (c - 'a' + 26);
	if (c >= '0' && c <= '9')
		return (c - '0' + 52);
	if (c == '-')
		return (62);
	if (c == '_')
		return (63);
	return (-1);
}

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
	out[0] = b64url[worker >> 6];
	out[1] = b64url[worker & 0x3f];
	acc = 0;
	bits = 0;
	for (i = 0, o = WORKER_CHARS; o < SID_LEN; o++) {
		if (bits < 6) {
			acc = (acc << 8 | rnd[i++]) & 0xffff;
			bits += 8;
		}
		bits -= 6;
		out[o] = b64url[(acc >> bits) & 0x3f];
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
		if (b64url_value(sid[i]) < 0)
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
	return (b64url_value(sid[0]) << 6 | b64url_value(sid[1]));
}
