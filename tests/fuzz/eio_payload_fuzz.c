/*
 * eio_payload_fuzz.c: libFuzzer harness for long-polling payloads and
 * base64 (eio_payload.c).
 *
 * Input: one flag byte (bit 0: maxPayload is half the body), then a POST
 * body.  A body that decodes to the end must encode back to itself; one
 * that fails must have yielded packets that encode to the body up to the
 * bad record.  The body is also run through base64 both ways.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eio.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	check_payload(const uint8_t *, size_t, size_t);
static void	check_base64(const uint8_t *, size_t);

/* Decode, then re-encode what was decoded and compare with the body. */
static void
check_payload(const uint8_t *body, size_t len, size_t max)
{
	struct eio_payload	 it;
	struct eio_packet	*pkts, pkt;
	uint8_t			*scratch, *out;
	size_t			 cap, n, need;
	ptrdiff_t		 m;
	int			 r;

	cap = eio_payload_scratch_len(len);
	scratch = cap == 0 ? NULL : malloc(cap);
	if ((pkts = calloc(len + 1, sizeof(*pkts))) == NULL)
		abort();
	n = 0;
	if ((r = eio_payload_begin(&it, body, len, max, scratch, cap)) ==
	    EIO_OK) {
		while ((r = eio_payload_next(&it, &pkt)) == EIO_OK) {
			if (n > len)
				abort();
			pkts[n++] = pkt;
		}
	}
	if (r != EIO_DONE && (r >= 0 || eio_payload_next(&it, &pkt) != r))
		abort();
	/* The promised scratch always suffices. */
	if (r == EIO_ERR_NOSPACE || (r == EIO_DONE && (n == 0 || len > max)))
		abort();

	need = eio_payload_encoded_len(pkts, n);
	if ((r == EIO_DONE && need != len) || need > len)
		abort();
	if ((out = malloc(need + 1)) == NULL)
		abort();
	if (n > 0) {
		m = eio_payload_encode(pkts, n, out, need);
		if (m != (ptrdiff_t)need || memcmp(out, body, need) != 0)
			abort();
		if (need < len && body[need] != EIO_SEPARATOR)
			abort();
	}
	free(out);
	free(pkts);
	free(scratch);
}

/* decode(x) succeeds only on canonical base64: encode(decode(x)) == x. */
static void
check_base64(const uint8_t *in, size_t len)
{
	uint8_t		*dec, *enc;
	size_t		 enclen;
	ptrdiff_t	 n, m;

	enclen = eio_base64_encoded_len(len);
	dec = malloc(len + 1);
	enc = malloc(enclen + 1);
	if (dec == NULL || enc == NULL)
		abort();
	n = eio_base64_decode(in, len, dec, len / 4 * 3);
	if (n >= 0) {
		m = eio_base64_encode(dec, (size_t)n, enc, enclen);
		if (m != (ptrdiff_t)len || memcmp(enc, in, len) != 0)
			abort();
	} else if (n != EIO_ERR_BASE64)
		abort();
	m = eio_base64_encode(in, len, enc, enclen);
	if (m != (ptrdiff_t)enclen)
		abort();
	n = eio_base64_decode(enc, enclen, dec, len);
	if (n != (ptrdiff_t)len || (len > 0 && memcmp(dec, in, len) != 0))
		abort();
	free(enc);
	free(dec);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t	max;

	if (size < 1)
		return (0);
	max = (data[0] & 1) ? (size - 1) / 2 : size - 1;
	check_payload(data + 1, size - 1, max);
	check_base64(data + 1, size - 1);
	return (0);
}
