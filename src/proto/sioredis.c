/*
 * sioredis: decoding the socket.io Redis adapters' messages (sioredis.h;
 * the encoders are sior_encode.c).  Pure: no I/O, no logging.
 *
 * A message becomes one jansson tree with JavaScript's meaning
 * (sior_unpack.c for msgpack, jsonlimit for JSON, then sior_js_fix()),
 * and the fields are read from the tree as the adapters read them, with
 * types checked where the adapters would throw or misbehave:
 *  - a room is a string, or a number taken as its decimal text (what
 *    String(room) gives the channel name); anything else refuses the
 *    message, since dropping it could widen "these rooms" to "all";
 *  - rooms that are not arrays, a packet or opts that is not an object,
 *    an EVENT whose data a client's parser would refuse: refused;
 *  - a string with invalid UTF-8 reads as Node reads it (U+FFFD);
 *  - an unknown or response type decodes as IGNORE, as the adapters skip;
 *  - a packet with binaries and a placeholder of its own (which a
 *    client's parser would fail on, or take as an attachment): refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonwrite.h"
#include "sio.h"
#include "sior_js.h"

struct priv {
	struct sior_tree	 tree;	/* root: the message */
	uint8_t			*copy;	/* msgpack bytes: att[] point here */
};

static int	 load(const uint8_t *, size_t, struct priv *);
static int	 classic(json_t *, struct sior_msg *, struct priv *);
static int	 classic_request(json_t *, struct sior_msg *, struct priv *);
static int	 classic_one(json_t *, struct sior_msg *);
static int	 sharded(json_t *, struct sior_msg *, struct priv *);
static int	 sharded_data(json_t *, struct sior_msg *, struct priv *);
static int	 get_str(json_t *, const char *, struct sior_str *);
static int	 room(json_t *, size_t, struct sior_str *);
static int	 rooms(json_t *, struct sior_str *, unsigned *);
static int	 opts(json_t *, struct sior_msg *);
static int	 packet(json_t *, json_t *, struct sior_msg *, struct priv *);
static int	 count_ph(json_t *, unsigned, void *);
static int	 event_text(json_t *, struct sior_msg *, struct priv *, bool);
static int	 type_of(json_t *);

/* Decode one message; 0, or -1 (msg is then empty, nothing to free). */
int
sior_decode(int format, const void *buf, size_t len, struct sior_msg *msg)
{
	struct priv	*pv;
	int		 rc;

	memset(msg, 0, sizeof(*msg));
	if (len == 0 || len > SIOR_MSG_MAX || buf == NULL ||
	    (format != SIOR_CLASSIC && format != SIOR_SHARDED))
		return (-1);
	if ((pv = calloc(1, sizeof(*pv))) == NULL)
		return (-1);
	msg->priv_ = pv;
	msg->format = format;
	msg->type = -1;
	msg->nsp.p = "/";
	msg->nsp.len = 1;
	msg->uid.p = msg->request_id.p = msg->sid.p = "";
	rc = load(buf, len, pv);
	if (rc == 0 && format == SIOR_CLASSIC)
		rc = classic(pv->tree.root, msg, pv);
	else if (rc == 0)
		rc = sharded(pv->tree.root, msg, pv);
	/* The gateway serves "/" only; another namespace is not ours. */
	if (rc == 0 && (msg->nsp.len != 1 || msg->nsp.p[0] != '/'))
		msg->op = SIOR_OP_IGNORE;
	if (rc != 0)
		sior_free(msg);
	return (rc);
}

void
sior_free(struct sior_msg *msg)
{
	struct priv	*pv = msg->priv_;

	if (pv != NULL) {
		sior_tree_free(&pv->tree);
		free(pv->copy);
		free(pv);
	}
	free(msg->text);
	memset(msg, 0, sizeof(*msg));
}

/* The tree: JSON if it starts with '{' (the adapters' test), else msgpack. */
static int
load(const uint8_t *buf, size_t len, struct priv *pv)
{
	if (buf[0] == '{')
		return (sior_js_load((const char *)buf, len, SIOR_DEPTH_MAX,
		    &pv->tree.root));
	if ((pv->copy = malloc(len)) == NULL)
		return (-1);
	memcpy(pv->copy, buf, len);
	if (sior_unpack(pv->copy, len, &pv->tree) != 0 ||
	    pv->tree.root == pv->tree.undef)
		return (-1);
	return (sior_js_fix(pv->tree.root, pv->tree.undef));
}

/* The type as the adapters' switch sees it: -1 when not a number. */
static int
type_of(json_t *j)
{
	int64_t	 t;

	if (j == NULL || !sior_js_int(j, &t) || t < 0 || t > 1000)
		return (-1);
	return ((int)t);
}

/* A string member, "" when absent; -1 when of another type. */
static int
get_str(json_t *o, const char *key, struct sior_str *s)
{
	json_t	*v = json_object_get(o, key);

	if (v == NULL)
		return (0);
	if (!json_is_string(v))
		return (-1);
	s->p = json_string_value(v);
	s->len = json_string_length(v);
	return (0);
}

/* Element i of array a as a room name (a number becomes its text). */
static int
room(json_t *a, size_t i, struct sior_str *s)
{
	json_t	*v = json_array_get(a, i), *str;
	char	 buf[40];
	size_t	 n;

	if (json_is_number(v)) {
		n = jsonwrite_dump(v, buf, sizeof(buf));
		if (n == 0 || n >= sizeof(buf) ||
		    (str = json_stringn(buf, n)) == NULL ||
		    json_array_set_new(a, i, str) != 0)
			return (-1);
		v = json_array_get(a, i);
	}
	if (!json_is_string(v))
		return (-1);
	s->p = json_string_value(v);
	s->len = json_string_length(v);
	return (0);
}

/* An array of rooms (absent: none), at most SIOR_ROOMS_MAX. */
static int
rooms(json_t *a, struct sior_str *out, unsigned *n)
{
	size_t	 i;

	*n = 0;
	if (a == NULL || json_is_null(a))
		return (0);
	if (!json_is_array(a) || json_array_size(a) > SIOR_ROOMS_MAX)
		return (-1);
	for (i = 0; i < json_array_size(a); i++) {
		if (room(a, i, &out[i]) != 0)
			return (-1);
	}
	*n = (unsigned)i;
	return (0);
}

/* {rooms, except, flags}: which sockets, and how. */
static int
opts(json_t *o, struct sior_msg *msg)
{
	json_t	*flags, *origin;

	if (!json_is_object(o) ||
	    rooms(json_object_get(o, "rooms"), msg->rooms, &msg->nrooms) != 0 ||
	    rooms(json_object_get(o, "except"), msg->except,
	    &msg->nexcept) != 0)
		return (-1);
	flags = json_object_get(o, "flags");
	if (flags != NULL && !json_is_object(flags) && !json_is_null(flags))
		return (-1);
	if (sior_js_truthy(json_object_get(flags, "volatile")))
		msg->flags |= SIOR_F_VOLATILE;
	if (sior_js_truthy(json_object_get(flags, "local")))
		msg->flags |= SIOR_F_LOCAL;
	if (sior_js_truthy(json_object_get(flags, "compress")))
		msg->flags |= SIOR_F_COMPRESS;
	origin = json_object_get(flags, SIOR_ORIGIN_KEY);
	if (json_is_string(origin) &&
	    json_string_length(origin) == SIOR_ORIGIN_LEN) {
		msg->origin.p = json_string_value(origin);
		msg->origin.len = SIOR_ORIGIN_LEN;
	}
	return (0);
}

static int
count_ph(json_t *ph, unsigned num, void *arg)
{
	(void)ph;
	(void)num;
	(*(unsigned *)arg)++;
	return (0);
}

/*
 * data (an event's array) as text: "2[...]", "2/nsp,[...]", or with
 * binaries "5<n>-..." and att[]; bare JSON when !packet (SERVER_EMIT).
 * An EVENT must be what a client's parser takes: an array whose first
 * element is a number or a name that is not reserved.
 */
static int
event_text(json_t *data, struct sior_msg *msg, struct priv *pv, bool pkt)
{
	json_t		*name = json_array_get(data, 0);
	char		 head[SIO_NSP_MAX + 32];
	size_t		 hlen = 0, n;
	unsigned	 nph = 0;

	if (!json_is_array(data) || name == NULL)
		return (-1);
	if (!json_is_number(name) && (!json_is_string(name) ||
	    (pkt && sio_event_reserved(json_string_value(name),
	    json_string_length(name)))))
		return (-1);
	sior_js_placeholders(data, &pv->tree, msg->att, &msg->natt);
	if (msg->natt > 0 && (sio_binary_walk(data, count_ph, &nph) != 0 ||
	    nph != msg->natt))
		return (-1);	/* a forged placeholder would break clients */
	if (pkt) {
		if (msg->natt > 0)
			hlen = (size_t)snprintf(head, sizeof(head), "5%u-",
			    msg->natt);
		else
			head[hlen++] = '2';
		if (msg->nsp.len != 1) {
			memcpy(head + hlen, msg->nsp.p, msg->nsp.len);
			hlen += msg->nsp.len;
			head[hlen++] = ',';
		}
	}
	if ((n = jsonwrite_dump(data, NULL, 0)) == 0 ||
	    (msg->text = malloc(hlen + n + 1)) == NULL)
		return (-1);
	memcpy(msg->text, head, hlen);
	jsonwrite_dump(data, msg->text + hlen, n + 1);
	msg->textlen = hlen + n;
	return (0);
}

/*
 * The packet {type, data, nsp} and its opts.  A namespace is one a
 * client's parser reads back: "/...", no comma, no controls.  A packet
 * that is not an EVENT (2) is ignored.
 */
static int
packet(json_t *p, json_t *o, struct sior_msg *msg, struct priv *pv)
{
	size_t	 i;

	if (!json_is_object(p) || opts(o, msg) != 0 ||
	    msg->nsp.len > SIO_NSP_MAX || msg->nsp.p[0] != '/')
		return (-1);
	for (i = 0; i < msg->nsp.len; i++) {
		if ((unsigned char)msg->nsp.p[i] < 0x20 ||
		    msg->nsp.p[i] == ',' || msg->nsp.p[i] == 0x7f)
			return (-1);
	}
	if (type_of(json_object_get(p, "type")) != SIO_EVENT)
		return (0);
	msg->op = SIOR_OP_BROADCAST;
	return (event_text(json_object_get(p, "data"), msg, pv, true));
}

/* Classic: [uid, packet, opts] is a broadcast, an object a request. */
static int
classic(json_t *root, struct sior_msg *msg, struct priv *pv)
{
	json_t	*uid, *p;

	if (json_is_object(root))
		return (classic_request(root, msg, pv));
	if (!json_is_array(root))
		return (-1);
	uid = json_array_get(root, 0);
	p = json_array_get(root, 1);
	if (!json_is_string(uid) || !json_is_object(p) ||
	    get_str(p, "nsp", &msg->nsp) != 0 || msg->nsp.len == 0)
		return (-1);
	msg->uid.p = json_string_value(uid);
	msg->uid.len = json_string_length(uid);
	return (packet(p, json_array_get(root, 2), msg, pv));
}

/* A classic request, RequestType 0..9 (index.js onrequest()). */
static int
classic_request(json_t *r, struct sior_msg *msg, struct priv *pv)
{
	json_t	*o = json_object_get(r, "opts");

	if (get_str(r, "uid", &msg->uid) != 0 ||
	    get_str(r, "requestId", &msg->request_id) != 0)
		return (-1);
	msg->type = type_of(json_object_get(r, "type"));
	/* A response (no uid, a requestId) on a channel it should not be on. */
	if (msg->uid.len == 0 && msg->request_id.len != 0)
		return (0);
	switch (msg->type) {
	case 0:
		msg->op = SIOR_OP_SOCKETS;
		return (rooms(json_object_get(r, "rooms"), msg->rooms,
		    &msg->nrooms));
	case 1:
		msg->op = SIOR_OP_ALL_ROOMS;
		return (0);
	case 2:
	case 3:
		msg->op = msg->type == 2 ? SIOR_OP_JOIN : SIOR_OP_LEAVE;
		if (!sior_js_truthy(o))
			return (classic_one(r, msg));
		if (!json_is_array(json_object_get(r, "rooms")))
			return (-1);
		return (opts(o, msg) != 0 ? -1 : rooms(json_object_get(r,
		    "rooms"), msg->targets, &msg->ntargets));
	case 4:
		msg->op = SIOR_OP_DISCONNECT;
		msg->close = sior_js_truthy(json_object_get(r, "close"));
		return (sior_js_truthy(o) ? opts(o, msg) : classic_one(r, msg));
	case 5:
		msg->op = SIOR_OP_FETCH;
		return (opts(o, msg));
	case 6:
		msg->op = SIOR_OP_SERVER_EMIT;
		msg->with_ack = msg->request_id.len != 0;
		return (event_text(json_object_get(r, "data"), msg, pv,
		    false));
	case 7:
		msg->with_ack = true;
		return (packet(json_object_get(r, "packet"), o, msg, pv));
	}
	return (0);
}

/*
 * The single-socket form older adapters send (remoteJoin(id, room)...):
 * sid, and for a join or leave the room in rooms[0] and targets[0].
 */
static int
classic_one(json_t *r, struct sior_msg *msg)
{
	json_t	*a;
	int	 rc;

	if (get_str(r, "sid", &msg->sid) != 0 || msg->sid.len == 0)
		return (-1);
	if (msg->op == SIOR_OP_DISCONNECT)
		return (0);
	if ((a = json_array()) == NULL ||
	    json_array_append(a, json_object_get(r, "room")) != 0 ||
	    json_object_set_new(r, "room", a) != 0) {
		json_decref(a);
		return (-1);
	}
	rc = rooms(a, msg->rooms, &msg->nrooms);
	if (rc != 0 || msg->nrooms != 1)
		return (-1);
	msg->targets[0] = msg->rooms[0];
	msg->ntargets = 1;
	return (0);
}

/* Sharded: {uid, nsp, type, data} (socket.io-adapter's ClusterAdapter). */
static int
sharded(json_t *m, struct sior_msg *msg, struct priv *pv)
{
	json_t	*data = json_object_get(m, "data");

	if (!json_is_object(m) || get_str(m, "uid", &msg->uid) != 0 ||
	    !json_is_string(json_object_get(m, "nsp")) ||
	    get_str(m, "nsp", &msg->nsp) != 0)
		return (-1);
	msg->type = type_of(json_object_get(m, "type"));
	if (msg->type < 3 || msg->type > 9 || msg->type == 8)
		return (0);		/* heartbeats, responses, close */
	if (!json_is_object(data) ||
	    get_str(data, "requestId", &msg->request_id) != 0)
		return (-1);
	return (sharded_data(data, msg, pv));
}

/* MessageType 3..9 but 8: the requests. */
static int
sharded_data(json_t *data, struct sior_msg *msg, struct priv *pv)
{
	json_t	*o = json_object_get(data, "opts");

	switch (msg->type) {
	case 3:
		msg->with_ack = msg->request_id.len != 0;
		return (packet(json_object_get(data, "packet"), o, msg, pv));
	case 4:
	case 5:
		msg->op = msg->type == 4 ? SIOR_OP_JOIN : SIOR_OP_LEAVE;
		if (!json_is_array(json_object_get(data, "rooms")))
			return (-1);
		return (opts(o, msg) != 0 ? -1 : rooms(json_object_get(data,
		    "rooms"), msg->targets, &msg->ntargets));
	case 6:
		msg->op = SIOR_OP_DISCONNECT;
		msg->close = sior_js_truthy(json_object_get(data, "close"));
		return (opts(o, msg));
	case 7:
		msg->op = SIOR_OP_FETCH;
		return (opts(o, msg));
	case 9:
		msg->op = SIOR_OP_SERVER_EMIT;
		msg->with_ack = msg->request_id.len != 0;
		return (event_text(json_object_get(data, "packet"), msg, pv,
		    false));
	}
	return (0);
}
