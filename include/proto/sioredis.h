/*
 * sioredis: the wire format of socket.io's Redis adapters (layer 2,
 * proto), so that gateways, Node.js servers with @socket.io/redis-adapter
 * 8.x and @socket.io/redis-emitter 5.x form one cluster.  Pure C over
 * msgpack-c and jansson: bytes in, structs out; no I/O, no logging.
 * Every byte decoded came from Redis, that is from any process that can
 * publish there: it is checked as a client's would be (sizes, types,
 * depth, counts), and a message that does not fit is refused whole.
 *
 * Two formats, one per adapter (gateway.h's redis_adapter):
 *
 * SIOR_CLASSIC, createAdapter (index.js) and the emitter:
 *   broadcast on <key>#<nsp>#, or <key>#<nsp>#<room># when exactly one
 *   room is targeted: msgpack [uid, packet, {rooms, except, flags}],
 *   packet = {type, data, nsp}; the emitter's uid is "emitter".
 *   requests on <key>-request#<nsp>#: JSON (msgpack only for type 7,
 *   BROADCAST with an ack), {uid, requestId, type 0..9, ...}.
 *   responses on <key>-response#<nsp># (or <key>-response#<nsp>#<uid>#
 *   with publishOnSpecificResponseChannel): JSON {requestId, ...}.
 *
 * SIOR_SHARDED, createShardedAdapter (socket.io-adapter's ClusterAdapter):
 *   every message {uid, nsp, type, data}, JSON unless it carries binary
 *   (then msgpack), on <key>#<nsp># or, for a broadcast to one room that
 *   is not a socket id, <key>#<nsp>#<room>#; responses to the requester
 *   on <key>#<nsp>#<uid>#.
 *
 * Both decode into one struct sior_msg whose op says what to do, so the
 * caller (gateway/adapter.c) has one switch for both adapters.
 */
#ifndef SGW_SIOREDIS_H
#define SGW_SIOREDIS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIOR_CLASSIC	0
#define SIOR_SHARDED	1

#define SIOR_MSG_MAX	(1024u * 1024)	/* a larger message is refused */
#define SIOR_ROOMS_MAX	256		/* rooms or except rooms in one */
#define SIOR_ATT_MAX	16		/* binary attachments in a packet */

/* opts.flags we read; SIOR_F_LOCAL never leaves its server. */
#define SIOR_F_VOLATILE	0x1
#define SIOR_F_LOCAL	0x2
#define SIOR_F_COMPRESS	0x4

/*
 * A gateway's own broadcast carries, in opts.flags, its origin: the
 * offset its host's recovery log gave it (24 lowercase hex, reclog.h),
 * which a gateway of the same host uses to tell which of its frames went
 * out before a recovery's request (issue 15, recremote.c).  socket.io's
 * adapters pass flags on and read only the keys they know.
 */
#define SIOR_ORIGIN_KEY	"sgwOrigin"
#define SIOR_ORIGIN_LEN	24

/* What a decoded message asks of us, whichever format carried it. */
enum sior_op {
	SIOR_OP_IGNORE = 0,	/* heartbeats, responses, closes: nothing */
	SIOR_OP_BROADCAST,	/* packet to rooms minus except */
	SIOR_OP_SOCKETS,	/* classic 0: ids of sockets in rooms */
	SIOR_OP_ALL_ROOMS,	/* classic 1: our rooms' names */
	SIOR_OP_JOIN,		/* socketsJoin: target joins targets[] */
	SIOR_OP_LEAVE,		/* socketsLeave */
	SIOR_OP_DISCONNECT,	/* disconnectSockets(close) */
	SIOR_OP_FETCH,		/* fetchSockets: {id, handshake, rooms, data} */
	SIOR_OP_SERVER_EMIT	/* serverSideEmit: data[] to the server */
};

/* A view of bytes inside the decoded message (valid until sior_free). */
struct sior_str {
	const char	*p;
	size_t		 len;
};

struct sior_msg {
	enum sior_op	 op;
	int		 format;	/* SIOR_CLASSIC or SIOR_SHARDED */
	int		 type;		/* the wire's type; -1: none (classic bcast) */
	struct sior_str	 uid;		/* the sender; "" when none */
	struct sior_str	 nsp;		/* "/" when the packet had none */
	struct sior_str	 request_id;	/* "" when none: nothing to answer */
	/* Which sockets: in any of rooms (none: all) and in none of except. */
	struct sior_str	 rooms[SIOR_ROOMS_MAX];
	unsigned	 nrooms;
	struct sior_str	 except[SIOR_ROOMS_MAX];
	unsigned	 nexcept;
	unsigned	 flags;		/* SIOR_F_* */
	/*
	 * One socket (classic REMOTE_JOIN/LEAVE/DISCONNECT without opts):
	 * sid is its id, rooms[0] its room for a join or leave.
	 */
	struct sior_str	 sid;
	/* JOIN and LEAVE: the rooms the sockets join or leave. */
	struct sior_str	 targets[SIOR_ROOMS_MAX];
	unsigned	 ntargets;
	bool		 close;		/* DISCONNECT: close the transport */
	/*
	 * BROADCAST: the packet, encoded as this gateway writes it to a
	 * client, Socket.IO text without the Engine.IO "4": "2[...]" or
	 * "2/chat,[...]" for an EVENT, "51-[...{"_placeholder":true,
	 * "num":0}...]" for one with binary, whose attachments follow.
	 * SERVER_EMIT: text is the JSON array of its arguments.  A
	 * broadcast with_ack has no ack id in text: the caller puts its
	 * own after the type (and namespace), as a Node.js server does.
	 */
	char		*text;
	size_t		 textlen;
	struct sior_str	 att[SIOR_ATT_MAX];
	unsigned	 natt;
	bool		 with_ack;	/* a broadcast that wants acks */
	void		*priv_;		/* the decoder's; sior_free() frees */
	/* A gateway's broadcast: its origin (SIOR_ORIGIN_KEY); else "". */
	struct sior_str	 origin;
};

/* What we publish: a broadcast of an event packet to rooms. */
struct sior_bcast {
	const char		*uid;		/* ours */
	const char		*nsp;		/* "/" */
	const char		*args;		/* JSON array: ["event",arg,...] */
	size_t			 argslen;
	const struct sior_str	*rooms;		/* none: everybody */
	unsigned		 nrooms;
	const struct sior_str	*except;	/* socket ids or rooms */
	unsigned		 nexcept;
	unsigned		 flags;		/* SIOR_F_* */
	const char		*origin;	/* SIOR_ORIGIN_LEN chars; NULL */
};

/*
 * sior_decode(format, bytes, len, msg): 0, or -1 for a message refused
 * whole (msg then needs no sior_free).  Classic: a msgpack array is a
 * broadcast, a JSON object or msgpack map a request.  A broadcast of
 * another namespace than "/" (the gateway's only one: its text is still
 * made), or a packet that is not an EVENT, decodes with its nsp and op
 * IGNORE.  The emitter's uid is "emitter" on broadcasts and absent ("")
 * on its requests.  A room that is a number is its decimal text.
 * sior_encode_bcast(format, b, &out, &len): classic msgpack
 * [uid, {type: 2, data, nsp}, {rooms, except, flags: {}}]; sharded JSON
 * {uid, nsp, type: 3, data: {packet, opts}}.  out is malloc'd.
 * sior_channel_bcast(format, key, nsp, b, buf, cap): the channel b goes
 * on (one room: that room's; sharded, not for a socket id); its length,
 * or -1 if cap is short.
 * sior_response(format, our uid, nsp, request, body, &len): the answer to
 * a request, body's members merged in (sockets, rooms, data; body is not
 * taken, NULL is {}): classic JSON {requestId, ...} ({type: 6, requestId,
 * data} for SERVER_EMIT, {type: 8, requestId, clientCount} for a
 * BROADCAST with ack), sharded {type: 8, 10 or 11, data: {requestId,
 * ...}, uid, nsp} (SERVER_EMIT's "data" is written "packet" there), in
 * the adapters' key order.  malloc'd text; NULL: no memory, or nothing to
 * answer (no requestId, or no answer in that format).
 */

/* sioredis.c */
int	 sior_decode(int, const void *, size_t, struct sior_msg *);
void	 sior_free(struct sior_msg *);
int	 sior_encode_bcast(int, const struct sior_bcast *, uint8_t **,
	    size_t *);
int	 sior_channel_bcast(int, const char *, const char *,
	    const struct sior_bcast *, char *, size_t);
char	*sior_response(int, const char *, const char *,
	    const struct sior_msg *, json_t *, size_t *);

#endif /* SGW_SIOREDIS_H */
