/*
 * eio_packet_fuzz.c: libFuzzer harness for one Engine.IO packet as a
 * WebSocket frame carries it (eio_packet.c).
 *
 * Input: one flag byte (bit 0: binary frame; bit 1: maxPayload is half the
 * frame, so the size limit is hit too), then the frame.  Whatever decodes
 * must encode back to the same bytes: the text form for a text packet,
 * the bytes alone for a binary frame, 'b' + base64 for a base64 message
 * (which proves the base64 was canonical).
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eio.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_error(int r, const struct eio_packet *pkt)
{
	if (r >= 0 || strcmp(eio_strerror(r), "unknown_error") == 0)
		abort();
	/* The scratch eio_payload_scratch_len() promises always suffices. */
	if (r == EIO_ERR_NOSPACE)
		abort();
	if (pkt->data != NULL || pkt->len != 0 || pkt->binary)
		abort();
}

static void
check_round_trip(const struct eio_packet *pkt, const uint8_t *frame,
    size_t len, bool binary)
{
	uint8_t		*out;
	ptrdiff_t	 n;

	if ((out = malloc(len + 1)) == NULL)
		abort();
	if (!binary && pkt->binary) {
		/* 'b' + base64 in a text frame: the payload form. */
		if (eio_payload_packet_len(pkt) != len)
			abort();
		n = eio_payload_append(out, len, 0, pkt);
	} else {
		if (eio_packet_encoded_len(pkt) != len)
			abort();
		n = eio_packet_encode(pkt, out, len);
		/* One byte less never fits. */
		if (len > 0 &&
		    eio_packet_encode(pkt, out, len - 1) != EIO_ERR_NOSPACE)
			abort();
	}
	if (n != (ptrdiff_t)len || memcmp(out, frame, len) != 0)
		abort();
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct eio_packet	 pkt;
	uint8_t			*scratch;
	size_t			 cap, max;
	bool			 binary;
	int			 r;

	if (size < 1)
		return (0);
	binary = data[0] & 1;
	data++;
	size--;
	max = (data[-1] & 2) ? size / 2 : size;

	/* Exactly the scratch the payload layer promises is enough. */
	cap = eio_payload_scratch_len(size);
	scratch = cap == 0 ? NULL : malloc(cap);
	r = eio_packet_decode_frame(&pkt, data, size, binary, max, scratch,
	    cap);
	if (r != EIO_OK)
		check_error(r, &pkt);
	else {
		if ((unsigned)pkt.type > EIO_TYPE_LAST ||
		    (pkt.binary && pkt.type != EIO_MESSAGE) || size > max)
			abort();
		if (binary && (!pkt.binary || pkt.data != data))
			abort();
		check_round_trip(&pkt, data, size, binary);
	}
	free(scratch);
	return (0);
}
