/*
 * sior_encode: what we publish in the socket.io Redis adapters' formats
 * (sioredis.h): a broadcast, its channel, and the answers to requests.
 * Pure: no I/O, no logging.  The bytes are the ones a Node.js server with
 * @socket.io/redis-adapter 8.3 publishes for the same call (key order
 * included), checked against it in tests/unit/test_sioredis.c.
 */
#include <stdlib.h>
#include <string.h>

#include "bw.h"
#include "jsonwrite.h"
#include "sior_js.h"

#define ARGS_DEPTH_MAX	32	/* as a client's payload (sio_limits) */

static json_t	*load_args(const struct sior_bcast *);
static json_t	*str_array(const struct sior_str *, unsigned);
static json_t	*flags_object(unsigned, const char *);
static json_t	*opts_object(const struct sior_bcast *);
static int	 classic_bcast(const struct sior_bcast *, json_t *,
		    uint8_t **, size_t *);
static json_t	*sharded_bcast(const struct sior_bcast *, json_t *);
static char	*dump(const json_t *, size_t *);
static bool	 looks_like_sid(const struct sior_str *);

/* args as JSON.parse() gives them: an array, within a client's bounds. */
static json_t *
load_args(const struct sior_bcast *b)
{
	json_t	*a;

	if (b->args == NULL ||
	    sior_js_load(b->args, b->argslen, ARGS_DEPTH_MAX, &a) != 0)
		return (NULL);
	if (!json_is_array(a) || json_array_size(a) == 0) {
		json_decref(a);
		return (NULL);
	}
	return (a);
}

static json_t *
str_array(const struct sior_str *s, unsigned n)
{
	json_t		*a;
	unsigned	 i;

	if (n > SIOR_ROOMS_MAX || (n > 0 && s == NULL) ||
	    (a = json_array()) == NULL)
		return (NULL);
	for (i = 0; i < n; i++) {
		if (json_array_append_new(a, json_stringn(s[i].p,
		    s[i].len)) != 0) {
			json_decref(a);
			return (NULL);
		}
	}
	return (a);
}

/*
 * BroadcastOperator's flags: {volatile: true} and {compress: true}; and
 * a gateway's own broadcast's origin (sioredis.h), a key socket.io's
 * adapters do not read.
 */
static json_t *
flags_object(unsigned flags, const char *origin)
{
	json_t	*f = json_object();

	if (f == NULL)
		return (NULL);
	if (((flags & SIOR_F_VOLATILE) != 0 &&
	    json_object_set_new(f, "volatile", json_true()) != 0) ||
	    ((flags & SIOR_F_COMPRESS) != 0 &&
	    json_object_set_new(f, "compress", json_true()) != 0) ||
	    (origin != NULL && json_object_set_new(f, SIOR_ORIGIN_KEY,
	    json_string(origin)) != 0)) {
		json_decref(f);
		return (NULL);
	}
	return (f);
}

/* {rooms, except, flags} */
static json_t *
opts_object(const struct sior_bcast *b)
{
	json_t	*o = json_object();

	if (o == NULL || json_object_set_new(o, "rooms",
	    str_array(b->rooms, b->nrooms)) != 0 ||
	    json_object_set_new(o, "except",
	    str_array(b->except, b->nexcept)) != 0 ||
	    json_object_set_new(o, "flags", flags_object(b->flags, b->origin)) != 0) {
		json_decref(o);
		return (NULL);
	}
	return (o);
}

/*
 * Encode broadcast b: classic msgpack [uid, {type, data, nsp}, {rooms,
 * except, flags}], sharded JSON {type: 3, data: {packet: {type, data},
 * opts}, uid, nsp}.  A LOCAL broadcast never leaves its server: -1.
 */
int
sior_encode_bcast(int format, const struct sior_bcast *b, uint8_t **out,
    size_t *lenp)
{
	json_t	*args, *m;
	int	 rc = -1;

	*out = NULL;
	*lenp = 0;
	if (b == NULL || b->uid == NULL || (b->flags & SIOR_F_LOCAL) != 0 ||
	    (format != SIOR_CLASSIC && format != SIOR_SHARDED) ||
	    (args = load_args(b)) == NULL)
		return (-1);
	if (format == SIOR_CLASSIC)
		rc = classic_bcast(b, args, out, lenp);
	else if ((m = sharded_bcast(b, args)) != NULL) {
		*out = (uint8_t *)dump(m, lenp);
		rc = *out != NULL ? 0 : -1;
		json_decref(m);
	}
	json_decref(args);
	return (rc);
}

static int
classic_bcast(const struct sior_bcast *b, json_t *args, uint8_t **out,
    size_t *lenp)
{
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	json_t		*m;
	const char	*nsp = b->nsp != NULL ? b->nsp : "/";

	m = json_pack("[s,{s:i,s:O,s:s},o]", b->uid, "type", 2, "data", args,
	    "nsp", nsp, opts_object(b));
	if (m == NULL)
		return (-1);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	if (sior_pack(&pk, m) != 0) {
		msgpack_sbuffer_destroy(&sb);
		json_decref(m);
		return (-1);
	}
	json_decref(m);
	*lenp = sb.size;
	*out = (uint8_t *)msgpack_sbuffer_release(&sb);
	return (*out != NULL ? 0 : -1);
}

static json_t *
sharded_bcast(const struct sior_bcast *b, json_t *args)
{
	return (json_pack("{s:i,s:{s:{s:i,s:O},s:o},s:s,s:s}", "type", 3,
	    "data", "packet", "type", 2, "data", args, "opts", opts_object(b),
	    "uid", b->uid, "nsp", b->nsp != NULL ? b->nsp : "/"));
}

/* j as JSON.stringify() writes it, malloc'd and NUL-terminated. */
static char *
dump(const json_t *j, size_t *lenp)
{
	char	*s;
	size_t	 n;

	if ((n = jsonwrite_dump(j, NULL, 0)) == 0 ||
	    (s = malloc(n + 1)) == NULL)
		return (NULL);
	jsonwrite_dump(j, s, n + 1);
	*lenp = n;
	return (s);
}

/*
 * The sharded adapter's looksLikeASocketId(): 20 UTF-16 code units (a
 * socket id never gets a channel of its own).
 */
static bool
looks_like_sid(const struct sior_str *r)
{
	size_t	 i, units = 0;
	uint8_t	 c;

	for (i = 0; i < r->len; i++) {
		c = (uint8_t)r->p[i];
		if (c >= 0xf0)
			units += 2;
		else if (c < 0x80 || c >= 0xc0)
			units++;
	}
	return (units == 20);
}

/*
 * The channel for b: <key>#<nsp># and, when exactly one room is the
 * target, <room># after it (sharded: unless it looks like a socket id).
 * Its length, NUL-terminated in buf, or -1 if cap is short.
 */
int
sior_channel_bcast(int format, const char *key, const char *nsp,
    const struct sior_bcast *b, char *buf, size_t cap)
{
	struct bw	 o;
	size_t		 n;

	if (key == NULL || b == NULL || buf == NULL)
		return (-1);
	bw_init(&o, buf, cap);
	bw_printf(&o, "%s#%s#", key, nsp != NULL ? nsp : "/");
	if (b->nrooms == 1 && b->rooms != NULL && (format == SIOR_CLASSIC ||
	    !looks_like_sid(&b->rooms[0]))) {
		bw_append(&o, b->rooms[0].p, b->rooms[0].len);
		bw_append(&o, "#", 1);
	}
	n = bw_finish(&o);
	return (n >= cap || n > INT32_MAX ? -1 : (int)n);
}

/* The wire type of the answer to req: -1 when it has none. */
static int
response_type(int format, const struct sior_msg *req)
{
	switch (req->op) {
	case SIOR_OP_SERVER_EMIT:
		return (format == SIOR_CLASSIC ? 6 : 10);
	case SIOR_OP_BROADCAST:		/* the client count of an ack */
		return (format == SIOR_CLASSIC ? 8 : 11);
	case SIOR_OP_FETCH:
		return (format == SIOR_CLASSIC ? 0 : 8);
	case SIOR_OP_SOCKETS:
	case SIOR_OP_ALL_ROOMS:
	case SIOR_OP_JOIN:
	case SIOR_OP_LEAVE:
	case SIOR_OP_DISCONNECT:
		return (format == SIOR_CLASSIC ? 0 : -1);
	default:
		return (-1);
	}
}

/*
 * The answer to req, body's members after the requestId (body is not
 * taken; NULL is {}): classic {requestId, ...}, with type first for
 * SERVER_EMIT (6) and a broadcast's client count (8); sharded {type,
 * data: {requestId, ...}, uid, nsp}, where SERVER_EMIT's "data" is
 * written "packet" as the cluster adapter names it.  NULL: no memory, or
 * nothing to answer (no requestId, or a request without an answer).
 */
char *
sior_response(int format, const char *uid, const char *nsp,
    const struct sior_msg *req, json_t *body, size_t *lenp)
{
	json_t		*r, *d, *v;
	const char	*key, *name;
	char		*s = NULL;
	int		 type = response_type(format, req);

	if (req == NULL || req->request_id.len == 0 || type < 0 ||
	    (body != NULL && !json_is_object(body)) ||
	    (d = json_object()) == NULL)
		return (NULL);
	r = format == SIOR_CLASSIC ? json_incref(d) : json_object();
	if (r == NULL || (type > 0 && format == SIOR_CLASSIC &&
	    json_object_set_new(d, "type", json_integer(type)) != 0) ||
	    json_object_set_new(d, "requestId", json_stringn(req->request_id.p,
	    req->request_id.len)) != 0)
		goto out;
	json_object_foreach(body, key, v) {
		name = key;
		if (format == SIOR_SHARDED &&
		    req->op == SIOR_OP_SERVER_EMIT && strcmp(key, "data") == 0)
			name = "packet";
		if (json_object_set(d, name, v) != 0)
			goto out;
	}
	if (format == SIOR_SHARDED && (uid == NULL ||
	    json_object_set_new(r, "type", json_integer(type)) != 0 ||
	    json_object_set(r, "data", d) != 0 ||
	    json_object_set_new(r, "uid", json_string(uid)) != 0 ||
	    json_object_set_new(r, "nsp", json_string(nsp != NULL ? nsp :
	    "/")) != 0))
		goto out;
	s = dump(r, lenp);
out:
	json_decref(r);
	json_decref(d);
	return (s);
}
