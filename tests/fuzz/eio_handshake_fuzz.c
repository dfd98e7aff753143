/*
 * eio_handshake_fuzz.c: libFuzzer harness for what a client controls in a
 * handshake: the query string (eio_handshake.c) and the sid (sid.c).
 *
 * The whole input is a query string.  It is parsed and judged for every
 * method/upgrade combination; a sid it carries, if JSON-safe, goes into an
 * OPEN packet that jansson must read back with the same sid; every
 * parameter name found in it is looked up; and the input is read as a sid.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "eio.h"
#include "sid.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	check_query(const char *, size_t);
static void	check_open(const struct eio_query *);
static void	check_params(const char *, size_t);
static void	check_sid(const uint8_t *, size_t);

static void
check_query(const char *qs, size_t len)
{
	struct eio_query	q;
	int			r, get, up;

	eio_handshake_query(&q, qs, len);
	if (q.sid[EIO_SID_MAX] != '\0' || q.sidlen > EIO_SID_MAX ||
	    strlen(q.sid) > q.sidlen || (q.sid_bad && !q.has_sid) ||
	    q.version < -1 || q.version > 999)
		abort();
	for (get = 0; get < 2; get++) {
		for (up = 0; up < 2; up++) {
			r = eio_handshake_verify(&q, get, up);
			if (r != EIO_OK && eio_handshake_code(r) < 0)
				abort();
			if (r == EIO_OK && !q.has_sid && q.version != 4)
				abort();
		}
	}
	check_open(&q);
}

/* An accepted sid makes an OPEN packet that is valid JSON. */
static void
check_open(const struct eio_query *q)
{
	struct eio_open	 o = { q->sid, q->sidlen, true, 25000, 20000, 1000000 };
	uint8_t		 out[512];
	ptrdiff_t	 n;
	json_t		*j;
	const char	*sid;

	n = eio_handshake_open(&o, out, sizeof(out));
	if (n < 0) {
		if (n != EIO_ERR_INVAL || eio_handshake_open_len(&o) != 0)
			abort();
		return;
	}
	if ((size_t)n != eio_handshake_open_len(&o) || out[0] != '0')
		abort();
	if ((j = json_loadb((const char *)out + 1, (size_t)n - 1, 0, NULL)) ==
	    NULL)
		abort();
	sid = json_string_value(json_object_get(j, "sid"));
	if (sid == NULL || strlen(sid) != q->sidlen ||
	    memcmp(sid, q->sid, q->sidlen) != 0)
		abort();
	json_decref(j);
}

/* Look up each key of the query; the answer fits the cap given. */
static void
check_params(const char *qs, size_t len)
{
	char		name[16], *out;
	const char	*p, *end;
	size_t		i;
	ptrdiff_t	n;

	if ((out = malloc(len + 1)) == NULL)
		abort();
	p = qs;
	end = qs + len;
	while (p < end) {
		for (i = 0; p < end && *p != '=' && *p != '&' &&
		    i < sizeof(name) - 1; p++)
			name[i++] = *p;
		name[i] = '\0';
		n = eio_handshake_param(qs, len, name, out, len + 1);
		if (n != EIO_ERR_ABSENT && (n < 0 || (size_t)n > len ||
		    out[n] != '\0'))
			abort();
		while (p < end && *p++ != '&')
			;
	}
	n = eio_handshake_unescape(qs, len, out, len + 1);
	if (n < 0 || (size_t)n > len)
		abort();
	free(out);
}

static void
check_sid(const uint8_t *data, size_t len)
{
	char	sid[SID_LEN + 1];
	int	w;

	w = sid_worker((const char *)data, len);
	if ((w >= 0) != sid_valid((const char *)data, len) ||
	    w > SID_WORKER_MAX)
		abort();
	if (len < SID_RANDOM_BYTES + 2)
		return;
	w = (data[SID_RANDOM_BYTES] << 8 | data[SID_RANDOM_BYTES + 1]) & 0xfff;
	if (sid_encode(data, (unsigned)w, sid) != 0 || strlen(sid) != SID_LEN ||
	    !sid_valid(sid, SID_LEN) || sid_worker(sid, SID_LEN) != w)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_query((const char *)data, size);
	check_params((const char *)data, size);
	check_sid(data, size);
	return (0);
}
