/*
 * eio.h: Engine.IO v4, pure C (DESIGN.md, layer 1).
 *
 * Bytes in, structs out, and back.  Nothing here does I/O, logs, allocates
 * or keeps state between calls: every function works on the caller's
 * buffers and returns EIO_OK, a length, or a negative enum eio_result.
 *
 * Wire forms (socketio/engine.io-protocol README, engine.io-parser 5.x):
 *   packet, text form      "4hello", "2probe", "6"   (type digit + data)
 *   binary message         WebSocket: the frame bytes as they are;
 *                          long-polling: 'b' + base64 ("bAQIDBA==")
 *   long-polling payload   packets joined by 0x1e    ("4hello\x1e2")
 */
#ifndef SGW_EIO_H
#define SGW_EIO_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* Packet types.  On the wire the type is the digit '0' + type. */
enum eio_type {
	EIO_OPEN = 0,
	EIO_CLOSE,
	EIO_PING,
	EIO_PONG,
	EIO_MESSAGE,
	EIO_UPGRADE,
	EIO_NOOP
};
#define EIO_TYPE_LAST		EIO_NOOP

#define EIO_SEPARATOR		0x1e	/* between packets in a payload */
#define EIO_BINARY_PREFIX	'b'	/* base64 binary message, polling */

/*
 * Results.  Every function returns one of these (or a length >= 0);
 * eio_strerror() gives each a short stable name for logs and counters.
 */
enum eio_result {
	EIO_DONE = 1,			/* payload iterator: no more packets */
	EIO_OK = 0,
	EIO_ERR_EMPTY = -1,		/* no type byte, or an empty payload */
	EIO_ERR_TYPE = -2,		/* unknown packet type */
	EIO_ERR_TOO_BIG = -3,		/* over maxPayload */
	EIO_ERR_BASE64 = -4,		/* invalid base64 after 'b' */
	EIO_ERR_MALFORMED = -5,		/* 0x1e inside a text packet */
	EIO_ERR_NOSPACE = -6,		/* caller's buffer too small */
	EIO_ERR_INVAL = -7,		/* caller passed an invalid argument */
	EIO_ERR_TRANSPORT = -8,		/* handshake: transport unknown */
	EIO_ERR_SID = -9,		/* handshake: sid bad or unknown */
	EIO_ERR_METHOD = -10,		/* handshake: not a GET */
	EIO_ERR_BAD_REQUEST = -11,	/* handshake: misused transport */
	EIO_ERR_FORBIDDEN = -12,	/* handshake: refused by policy */
	EIO_ERR_VERSION = -13,		/* handshake: EIO is not 4 */
	EIO_ERR_ABSENT = -14		/* query parameter not present */
};

/*
 * One packet.  Zero-copy: data points into the caller's input (text
 * packets, binary WebSocket frames) or into the caller's scratch buffer
 * (base64 binary messages), so it lives as long as those.  binary is only
 * ever true for EIO_MESSAGE.
 */
struct eio_packet {
	enum eio_type	 type;
	bool		 binary;
	const uint8_t	*data;
	size_t		 len;
};

/* eio_packet.c: one packet, text form or WebSocket frame. */
const char	*eio_strerror(int);
const char	*eio_packet_type_name(enum eio_type);
int		 eio_packet_decode(struct eio_packet *, const uint8_t *, size_t,
		     uint8_t *, size_t);
int		 eio_packet_decode_frame(struct eio_packet *, const uint8_t *,
		     size_t, bool, size_t, uint8_t *, size_t);
size_t		 eio_packet_encoded_len(const struct eio_packet *);
ptrdiff_t	 eio_packet_encode(const struct eio_packet *, uint8_t *,
		     size_t);

/*
 * eio_payload.c: long-polling payloads, and the base64 they need.
 *
 * Decoding is an iterator over a POST body:
 *
 *	struct eio_payload it;
 *	struct eio_packet pkt;
 *
 *	if (eio_payload_begin(&it, body, len, max, scratch, cap) != EIO_OK)
 *		... 413 for EIO_ERR_TOO_BIG, else 400 ...
 *	while ((r = eio_payload_next(&it, &pkt)) == EIO_OK)
 *		... use pkt ...
 *	if (r != EIO_DONE)
 *		... 400, close the session ...
 *
 * Binary packets are decoded one after the other into scratch, so every
 * packet stays valid until the scratch buffer is reused;
 * eio_payload_scratch_len(len) bytes are always enough.
 */
struct eio_payload {
	const uint8_t	*buf;
	size_t		 len;
	size_t		 off;		/* next packet; len + 1 when done */
	uint8_t		*scratch;
	size_t		 scratchcap;
	size_t		 scratchused;
	int		 error;		/* sticky: the first error */
};

size_t		 eio_payload_scratch_len(size_t);
int		 eio_payload_begin(struct eio_payload *, const uint8_t *,
		     size_t, size_t, uint8_t *, size_t);
int		 eio_payload_next(struct eio_payload *, struct eio_packet *);
size_t		 eio_payload_packet_len(const struct eio_packet *);
ptrdiff_t	 eio_payload_append(uint8_t *, size_t, size_t,
		     const struct eio_packet *);
size_t		 eio_payload_encoded_len(const struct eio_packet *, size_t);
ptrdiff_t	 eio_payload_encode(const struct eio_packet *, size_t,
		     uint8_t *, size_t);
size_t		 eio_base64_encoded_len(size_t);
ptrdiff_t	 eio_base64_encode(const uint8_t *, size_t, uint8_t *, size_t);
ptrdiff_t	 eio_base64_decode(const uint8_t *, size_t, uint8_t *, size_t);

/*
 * eio_handshake.c: the /socket.io/ query string, the OPEN packet and the
 * reference server's error replies (engine.io Server.errors).
 */
enum eio_transport {
	EIO_TRANSPORT_NONE = 0,		/* no transport= in the query */
	EIO_TRANSPORT_UNKNOWN,		/* anything but the two below */
	EIO_TRANSPORT_POLLING,
	EIO_TRANSPORT_WEBSOCKET
};

/* Error codes of the JSON body {"code":N,"message":"..."}. */
enum eio_code {
	EIO_CODE_UNKNOWN_TRANSPORT = 0,		/* "Transport unknown" */
	EIO_CODE_UNKNOWN_SID = 1,		/* "Session ID unknown" */
	EIO_CODE_BAD_HANDSHAKE_METHOD = 2,	/* "Bad handshake method" */
	EIO_CODE_BAD_REQUEST = 3,		/* "Bad request" */
	EIO_CODE_FORBIDDEN = 4,			/* "Forbidden" */
	/* "Unsupported protocol version" */
	EIO_CODE_UNSUPPORTED_PROTOCOL_VERSION = 5
};
#define EIO_CODE_LAST		EIO_CODE_UNSUPPORTED_PROTOCOL_VERSION

#define EIO_SID_MAX		64	/* longest sid kept from a query */

/* What the query string of an Engine.IO request says. */
struct eio_query {
	int			 version;	/* EIO=; 0 absent, -1 bad */
	enum eio_transport	 transport;
	bool			 has_sid;	/* a non-empty sid= was given */
	bool			 sid_bad;	/* too long or repeated */
	char			 sid[EIO_SID_MAX + 1]; /* decoded, NUL-ended */
	size_t			 sidlen;
};

/* The OPEN packet's fields, in the order the reference server sends them. */
struct eio_open {
	const char	*sid;
	size_t		 sidlen;
	bool		 upgrade;	/* "upgrades":["websocket"], else [] */
	uint32_t	 ping_interval;	/* ms */
	uint32_t	 ping_timeout;	/* ms */
	uint64_t	 max_payload;	/* bytes */
};

ptrdiff_t	 eio_handshake_unescape(const char *, size_t, char *, size_t);
ptrdiff_t	 eio_handshake_param(const char *, size_t, const char *,
		     char *, size_t);
void		 eio_handshake_query(struct eio_query *, const char *, size_t);
int		 eio_handshake_verify(const struct eio_query *, bool, bool);
size_t		 eio_handshake_open_len(const struct eio_open *);
ptrdiff_t	 eio_handshake_open(const struct eio_open *, uint8_t *, size_t);
int		 eio_handshake_code(int);
int		 eio_handshake_status(int);
const char	*eio_handshake_message(int);
ptrdiff_t	 eio_handshake_error(int, uint8_t *, size_t);

#endif /* SGW_EIO_H */
