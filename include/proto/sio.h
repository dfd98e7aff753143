/*
 * sio: Socket.IO v5 packets (socketio/socket.io-protocol), pure C.
 *
 * A Socket.IO packet travels as the data of an Engine.IO "message" packet:
 *
 *	<type>[<attachments>-][<nsp>,][<ack id>][<JSON payload>]
 *
 * sio_packet_decode() takes the bytes after the Engine.IO '4' and accepts
 * and refuses what socket.io-parser does (see sio_packet.c for the few
 * places where we are stricter).  The sio_encode_*() helpers write the
 * final wire bytes, Engine.IO '4' included, e.g. 42["ev",{"a":1}], so a
 * broadcast is encoded once and the same bytes go to every recipient.
 *
 * Binary attachments (sio_binary.c): a BINARY_EVENT or BINARY_ACK header
 * holds {"_placeholder":true,"num":k} objects and is followed by that many
 * binary Engine.IO messages.  We never turn placeholders into something
 * else: a binary inside a json_t IS a placeholder, and the attachments
 * travel beside it in a struct sio_attachment list, index k.  Relaying is
 * then: take the placeholders and the list from the assembler, build the
 * outgoing payload, sio_binary_deconstruct() it (renumber, pick buffers),
 * encode the header, send the buffers.
 */
#ifndef SGW_SIO_H
#define SGW_SIO_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include <jansson.h>

#include "evscan.h"

enum sio_type {
	SIO_CONNECT = 0,
	SIO_DISCONNECT,
	SIO_EVENT,
	SIO_ACK,
	SIO_CONNECT_ERROR,
	SIO_BINARY_EVENT,
	SIO_BINARY_ACK
};

#define SIO_NSP_MAX		255	/* bytes of a namespace name */
#define SIO_ACK_MAX		9007199254740991LL /* 2^53-1, JS-exact */

/* Results: SIO_OK, SIO_NEED_MORE, or a negative reason (sio_strerror). */
#define SIO_OK			  0
#define SIO_NEED_MORE		  1	/* attachments are due */
#define SIO_ERR_TYPE		 -1	/* unknown packet type */
#define SIO_ERR_ATTACHMENTS	 -2	/* bad or too many attachments */
#define SIO_ERR_NSP		 -3	/* bad namespace */
#define SIO_ERR_ACK		 -4	/* bad ack id */
#define SIO_ERR_JSON		 -5	/* payload is not JSON */
#define SIO_ERR_PAYLOAD		 -6	/* wrong payload for type */
#define SIO_ERR_RESERVED	 -7	/* reserved event name */
#define SIO_ERR_TOO_BIG		 -8	/* packet/attachment size */
#define SIO_ERR_DEPTH		 -9	/* JSON nested too deep */
#define SIO_ERR_ELEMENTS	-10	/* too many JSON values */
#define SIO_ERR_NUMBER		-11	/* JSON number out of range */
#define SIO_ERR_PLACEHOLDER	-12	/* bad binary placeholder */
#define SIO_ERR_UNEXPECTED	-13	/* attachment nobody waits for */
#define SIO_ERR_NOMEM		-14	/* out of memory */

/*
 * Limits on what a peer may send.  max_bytes bounds a whole packet (and
 * each binary attachment); max_depth counts JSON containers, the payload
 * array included ([{"a":1}] is 2); max_elements counts JSON values and
 * keys.  0 means "no limit" except for max_depth (0: jansson's 2048) and
 * max_attachments (0: no binary packet is accepted).  A NULL limits
 * pointer means sio_limits_default.
 */
struct sio_limits {
	size_t		 max_bytes;
	unsigned	 max_depth;
	unsigned	 max_attachments;
	size_t		 max_elements;
};

extern const struct sio_limits sio_limits_default;

/*
 * A decoded packet.  nsp is a copy, NUL-terminated ("/" when absent), so a
 * packet outlives the buffer it came from.  data is owned by the packet
 * (NULL: no payload); sio_packet_clear() releases it.
 */
struct sio_packet {
	enum sio_type	 type;
	char		 nsp[SIO_NSP_MAX + 1];
	size_t		 nsp_len;
	int64_t		 ack_id;	/* -1: none */
	unsigned	 attachments;	/* BINARY_* only */
	json_t		*data;
	/* sio_packet_decode_scan(): the payload's text, not yet in data */
	const char	*raw;
	size_t		 rawlen;
};

/* sio_packet_encode() flags */
#define SIO_ENCODE_EIO		0x1	/* prefix Engine.IO's '4' */

/* sio_packet.c */
void		 sio_packet_init(struct sio_packet *);
void		 sio_packet_clear(struct sio_packet *);
int		 sio_packet_decode(const char *, size_t,
		     const struct sio_limits *, struct sio_packet *);
int		 sio_packet_decode_scan(const char *, size_t,
		     const struct sio_limits *, struct sio_packet *,
		     struct evscan *);
int		 sio_packet_decode_tree(struct sio_packet *,
		     const struct sio_limits *);
size_t		 sio_packet_encode(const struct sio_packet *, int, char *,
		     size_t);
const char	*sio_event_name(const struct sio_packet *, size_t *);
json_t		*sio_event_arg(const struct sio_packet *, size_t);
size_t		 sio_event_nargs(const struct sio_packet *);
bool		 sio_event_reserved(const char *, size_t);
const char	*sio_type_name(enum sio_type);
const char	*sio_strerror(int);

/*
 * Wire encoders.  Each writes at most cap bytes to out, then a NUL if there
 * is room, and returns the full length: a result >= cap means "buffer too
 * small, call again with result + 1 bytes"; 0 means invalid arguments (a
 * namespace not starting with '/' or holding a ',', a bad ack id).  nsp
 * NULL means "/".  args are n pre-serialized JSON texts (args_len NULL:
 * NUL-terminated), written unchanged: no jansson work on the hot path.
 */
size_t		 sio_encode_args(char *, size_t, enum sio_type, unsigned,
		     const char *, int64_t, const char *, const char *const *,
		     const size_t *, size_t);
size_t		 sio_encode_event(char *, size_t, const char *,
		     const char *, const char *const *, const size_t *, size_t,
		     int64_t);
size_t		 sio_encode_ack(char *, size_t, const char *, int64_t,
		     const char *const *, const size_t *, size_t);
size_t		 sio_encode_connect(char *, size_t, const char *,
		     const char *);
size_t		 sio_encode_connect_pid(char *, size_t, const char *,
		     const char *, const char *);
size_t		 sio_encode_connect_error(char *, size_t, const char *,
		     const char *);
size_t		 sio_encode_disconnect(char *, size_t, const char *);

/* One binary attachment: bytes and length. */
struct sio_attachment {
	const uint8_t	*data;
	size_t		 len;
};

/*
 * Reassembles a binary packet: the header's placeholders stay in pkt.data
 * and attachment k lands in att[k] (copies, owned by the assembler).
 */
struct sio_binary {
	struct sio_packet	 pkt;
	struct sio_attachment	*att;
	unsigned		 nrecv;
	size_t			 max_len;
};

/* sio_binary.c */
void		 sio_binary_init(struct sio_binary *);
int		 sio_binary_start(struct sio_binary *, struct sio_packet *,
		     const struct sio_limits *);
int		 sio_binary_add(struct sio_binary *, const void *, size_t);
bool		 sio_binary_pending(const struct sio_binary *);
bool		 sio_binary_complete(const struct sio_binary *);
void		 sio_binary_clear(struct sio_binary *);
int		 sio_binary_placeholder_num(const json_t *, unsigned *);
json_t		*sio_binary_placeholder(unsigned);
int		 sio_binary_walk(json_t *,
		     int (*)(json_t *, unsigned, void *), void *);
int		 sio_binary_deconstruct(json_t *,
		     const struct sio_attachment *, unsigned,
		     struct sio_attachment *, unsigned *);

#endif /* SGW_SIO_H */
