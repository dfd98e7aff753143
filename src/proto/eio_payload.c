/*
 * eio_payload.c: Engine.IO v4 long-polling payloads, and base64.
 *
 * A payload is packets in text form joined by the record separator 0x1e;
 * a binary message travels as 'b' + base64 ("4hello\x1ebAQIDBA==").  The
 * client POSTs one, the server answers a GET with one.  An empty record
 * (empty body, "\x1e\x1e", a trailing 0x1e) is an error, as in the
 * reference parser, and so is a record with an unknown type.
 *
 * Base64 is the standard alphabet with padding, decoded strictly: any
 * other byte, missing or misplaced '=', or non-zero bits after the last
 * byte are refused.  Every clean encoder (Node's Buffer, btoa, Java's and
 * Python's base64) produces exactly that form, and strictness makes
 * encode(decode(x)) == x for every payload we accept.
 *
 * The base64 functions keep the eio_ prefix rather than eio_payload_:
 * eio_packet.c uses them too.  They are core's base64.c with Engine.IO's
 * error codes.
 */

#include <stdint.h>
#include <string.h>

#include "base64.h"
#include "eio.h"

static int	payload_fail(struct eio_payload *, int);

/* Length of the padded base64 of n bytes. */
size_t
eio_base64_encoded_len(size_t n)
{
	return (base64_encoded_len(n, BASE64_STD));
}

/*
 * Standard base64 with padding (base64.c).  Writes exactly
 * eio_base64_encoded_len(len) bytes, no NUL.  Returns that length,
 * EIO_ERR_NOSPACE or EIO_ERR_TOO_BIG.
 */
ptrdiff_t
eio_base64_encode(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	ptrdiff_t	n;

	n = base64_encode(in, len, (char *)out, cap, BASE64_STD);
	if (n == BASE64_ENOSPACE)
		return (EIO_ERR_NOSPACE);
	return (n < 0 ? EIO_ERR_TOO_BIG : n);
}

/*
 * Strict base64 decode into out.  Returns the decoded length,
 * EIO_ERR_BASE64 for input that is not canonical padded base64, or
 * EIO_ERR_NOSPACE when it is but does not fit (out may be NULL if cap is 0).
 */
ptrdiff_t
eio_base64_decode(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	ptrdiff_t	n;

	n = base64_decode((const char *)in, len, out, cap, BASE64_STD);
	if (n == BASE64_ENOSPACE)
		return (EIO_ERR_NOSPACE);
	return (n < 0 ? EIO_ERR_BASE64 : n);
}

/* Scratch bytes that always hold every binary packet of a len-byte body. */
size_t
eio_payload_scratch_len(size_t len)
{
	return (len / 4 * 3);
}

/* Record the first error; the iterator keeps returning it. */
static int
payload_fail(struct eio_payload *p, int err)
{
	p->error = err;
	return (err);
}

/*
 * Start decoding a POST body of len bytes.  A body over max (the
 * announced maxPayload; the reference server answers 413) or an empty
 * one is refused here.  scratch receives the binary packets' bytes.
 */
int
eio_payload_begin(struct eio_payload *p, const uint8_t *buf, size_t len,
    size_t max, uint8_t *scratch, size_t scratchcap)
{
	memset(p, 0, sizeof(*p));
	p->buf = buf;
	p->len = len;
	p->scratch = scratch;
	p->scratchcap = scratch == NULL ? 0 : scratchcap;
	if (len > max)
		return (payload_fail(p, EIO_ERR_TOO_BIG));
	if (len == 0)
		return (payload_fail(p, EIO_ERR_EMPTY));
	return (EIO_OK);
}

/*
 * Next packet of the payload: EIO_OK and *pkt, EIO_DONE after the last
 * one, or a negative eio_result (then again on every later call).  The
 * packets already returned stay valid: the caller may act on them before
 * finding that a later one is bad, as the reference server does.
 */
int
eio_payload_next(struct eio_payload *p, struct eio_packet *pkt)
{
	const uint8_t	*rec, *sep;
	uint8_t		*scratch;
	size_t		 reclen, left;
	int		 r;

	memset(pkt, 0, sizeof(*pkt));
	if (p->error != EIO_OK)
		return (p->error);
	if (p->off > p->len)
		return (EIO_DONE);
	rec = p->buf + p->off;
	left = p->len - p->off;
	sep = left == 0 ? NULL : memchr(rec, EIO_SEPARATOR, left);
	reclen = sep == NULL ? left : (size_t)(sep - rec);
	scratch = p->scratch == NULL ? NULL : p->scratch + p->scratchused;
	r = eio_packet_decode(pkt, rec, reclen, scratch,
	    p->scratchcap - p->scratchused);
	if (r != EIO_OK)
		return (payload_fail(p, r));
	if (pkt->binary)
		p->scratchused += pkt->len;
	p->off += reclen + 1;
	return (EIO_OK);
}

/* Bytes pkt takes in a payload, without the separator. */
size_t
eio_payload_packet_len(const struct eio_packet *pkt)
{
	if (pkt->binary)
		return (1 + eio_base64_encoded_len(pkt->len));
	return (1 + pkt->len);
}

/*
 * Append pkt to the payload of used bytes in out, with a separator first
 * unless used is 0, so a transport can fill a GET response packet by
 * packet.  A text packet holding 0x1e cannot be framed and is refused.
 * Returns the new used length or a negative eio_result; out is unchanged
 * beyond used on error.
 */
ptrdiff_t
eio_payload_append(uint8_t *out, size_t cap, size_t used,
    const struct eio_packet *pkt)
{
	size_t		 need;
	ptrdiff_t	 n;

	if ((unsigned)pkt->type > EIO_TYPE_LAST)
		return (EIO_ERR_TYPE);
	if (pkt->binary && pkt->type != EIO_MESSAGE)
		return (EIO_ERR_INVAL);
	if (used > cap)
		return (EIO_ERR_INVAL);
	if (pkt->len >= PTRDIFF_MAX / 2)
		return (EIO_ERR_TOO_BIG);
	if (!pkt->binary && pkt->len > 0 &&
	    memchr(pkt->data, EIO_SEPARATOR, pkt->len) != NULL)
		return (EIO_ERR_MALFORMED);
	need = eio_payload_packet_len(pkt) + (used > 0);
	if (need > cap - used)
		return (EIO_ERR_NOSPACE);
	out += used;
	if (used > 0)
		*out++ = EIO_SEPARATOR;
	if (pkt->binary) {
		*out++ = EIO_BINARY_PREFIX;
		n = eio_base64_encode(pkt->data, pkt->len, out,
		    eio_base64_encoded_len(pkt->len));
		if (n < 0)
			return (n);
	} else {
		*out++ = (uint8_t)('0' + pkt->type);
		if (pkt->len > 0)
			memcpy(out, pkt->data, pkt->len);
	}
	return ((ptrdiff_t)(used + need));
}

/* Exact length of the payload of n packets (0 for none). */
size_t
eio_payload_encoded_len(const struct eio_packet *pkts, size_t n)
{
	size_t	i, len;

	if (n == 0)
		return (0);
	len = n - 1;
	for (i = 0; i < n; i++)
		len += eio_payload_packet_len(&pkts[i]);
	return (len);
}

/*
 * Encode n packets as one payload, the body of a GET response.  Writes
 * exactly eio_payload_encoded_len(pkts, n) bytes.  An empty payload is not
 * valid Engine.IO (the client reads it as a parse error): n must be > 0.
 */
ptrdiff_t
eio_payload_encode(const struct eio_packet *pkts, size_t n, uint8_t *out,
    size_t cap)
{
	size_t		 i;
	ptrdiff_t	 used;

	if (n == 0)
		return (EIO_ERR_EMPTY);
	used = 0;
	for (i = 0; i < n; i++) {
		used = eio_payload_append(out, cap, (size_t)used, &pkts[i]);
		if (used < 0)
			return (used);
	}
	return (used);
}
