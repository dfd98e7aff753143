/*
 * eio_packet.c: one Engine.IO v4 packet, as a WebSocket frame or one
 * record of a long-polling payload carries it.  Pure: no I/O, no
 * allocation, no state.
 *
 * Text form: a type digit '0'..'6', then the data ("4hello", "2probe").
 * A text packet starting with 'b' is a binary message in base64; the
 * reference parser (engine.io-parser decodePacket) accepts that form in a
 * WebSocket text frame too, and so do we.  A binary WebSocket frame is a
 * message whose data is the whole frame: v4 puts no type byte in front.
 */

#include <stdint.h>
#include <string.h>

#include "eio.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

static int	decode_base64(struct eio_packet *, const uint8_t *, size_t,
		    uint8_t *, size_t);

static const char *const type_names[] = {
	"open", "close", "ping", "pong", "message", "upgrade", "noop"
};

/* Short, stable names: they are log fields and metric labels. */
static const struct {
	int		 err;
	const char	*name;
} errors[] = {
	{ EIO_DONE,		"done" },
	{ EIO_OK,		"ok" },
	{ EIO_ERR_EMPTY,	"empty_packet" },
	{ EIO_ERR_TYPE,		"unknown_packet_type" },
	{ EIO_ERR_TOO_BIG,	"payload_too_large" },
	{ EIO_ERR_BASE64,	"invalid_base64" },
	{ EIO_ERR_MALFORMED,	"malformed_packet" },
	{ EIO_ERR_NOSPACE,	"buffer_too_small" },
	{ EIO_ERR_INVAL,	"invalid_argument" },
	{ EIO_ERR_TRANSPORT,	"transport_unknown" },
	{ EIO_ERR_SID,		"session_id_unknown" },
	{ EIO_ERR_METHOD,	"bad_handshake_method" },
	{ EIO_ERR_BAD_REQUEST,	"bad_request" },
	{ EIO_ERR_FORBIDDEN,	"forbidden" },
	{ EIO_ERR_VERSION,	"unsupported_protocol_version" },
	{ EIO_ERR_ABSENT,	"parameter_absent" },
};

/* Name of a result code; never NULL. */
const char *
eio_strerror(int err)
{
	size_t	i;

	for (i = 0; i < nitems(errors); i++) {
		if (errors[i].err == err)
			return (errors[i].name);
	}
	return ("unknown_error");
}

/* Name of a packet type as the reference implementation spells it. */
const char *
eio_packet_type_name(enum eio_type type)
{
	if ((unsigned)type > EIO_TYPE_LAST)
		return ("unknown");
	return (type_names[type]);
}

/* The 'b' form: base64 after the prefix, decoded into scratch. */
static int
decode_base64(struct eio_packet *pkt, const uint8_t *b64, size_t len,
    uint8_t *scratch, size_t scratchcap)
{
	ptrdiff_t	n;

	n = eio_base64_decode(b64, len, scratch, scratchcap);
	if (n < 0)
		return ((int)n);
	pkt->type = EIO_MESSAGE;
	pkt->binary = true;
	pkt->data = scratch;
	pkt->len = (size_t)n;
	return (EIO_OK);
}

/*
 * Decode one packet in text form.  Text data is not copied: pkt->data
 * points into buf.  A 'b' packet is decoded into scratch, which may be
 * NULL (then only an empty binary message fits, and anything longer gives
 * EIO_ERR_NOSPACE).  On error *pkt is zeroed.
 */
int
eio_packet_decode(struct eio_packet *pkt, const uint8_t *buf, size_t len,
    uint8_t *scratch, size_t scratchcap)
{
	int	r;

	memset(pkt, 0, sizeof(*pkt));
	if (len == 0)
		return (EIO_ERR_EMPTY);
	if (buf[0] == EIO_BINARY_PREFIX) {
		r = decode_base64(pkt, buf + 1, len - 1, scratch, scratchcap);
		if (r != EIO_OK)
			memset(pkt, 0, sizeof(*pkt));
		return (r);
	}
	if (buf[0] < '0' || buf[0] > '0' + EIO_TYPE_LAST)
		return (EIO_ERR_TYPE);
	pkt->type = (enum eio_type)(buf[0] - '0');
	pkt->data = buf + 1;
	pkt->len = len - 1;
	return (EIO_OK);
}

/*
 * Decode one WebSocket frame of at most max bytes (the maxPayload the
 * OPEN packet announced; the reference server closes on anything longer).
 * A binary frame is a binary message, as is; a text frame is a packet in
 * text form.
 */
int
eio_packet_decode_frame(struct eio_packet *pkt, const uint8_t *buf,
    size_t len, bool binary, size_t max, uint8_t *scratch, size_t scratchcap)
{
	memset(pkt, 0, sizeof(*pkt));
	if (len > max)
		return (EIO_ERR_TOO_BIG);
	if (!binary)
		return (eio_packet_decode(pkt, buf, len, scratch, scratchcap));
	pkt->type = EIO_MESSAGE;
	pkt->binary = true;
	pkt->data = buf;
	pkt->len = len;
	return (EIO_OK);
}

/* Bytes eio_packet_encode() writes for pkt. */
size_t
eio_packet_encoded_len(const struct eio_packet *pkt)
{
	return (pkt->binary ? pkt->len : pkt->len + 1);
}

/*
 * Encode pkt as one WebSocket frame's payload: the type digit and the data
 * for text (send as a text frame), the data alone for a binary message
 * (send as a binary frame).  Writes exactly eio_packet_encoded_len(pkt)
 * bytes to out; the caller chooses where out is, so it can leave headroom
 * (LWS_PRE) in front.  Returns the length or a negative eio_result.
 */
ptrdiff_t
eio_packet_encode(const struct eio_packet *pkt, uint8_t *out, size_t cap)
{
	size_t	need;

	if ((unsigned)pkt->type > EIO_TYPE_LAST)
		return (EIO_ERR_TYPE);
	if (pkt->binary && pkt->type != EIO_MESSAGE)
		return (EIO_ERR_INVAL);
	if (pkt->len >= PTRDIFF_MAX)
		return (EIO_ERR_TOO_BIG);
	need = eio_packet_encoded_len(pkt);
	if (need > cap)
		return (EIO_ERR_NOSPACE);
	if (!pkt->binary)
		*out++ = (uint8_t)('0' + pkt->type);
	if (pkt->len > 0)
		memcpy(out, pkt->data, pkt->len);
	return ((ptrdiff_t)need);
}
