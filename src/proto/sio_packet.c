/*
 * Socket.IO v5 packets: decode what a client sends, encode what the
 * gateway sends.  Pure: no I/O, no logging; jansson for the payload.
 *
 * Decoding follows socket.io-parser's decodeString() and isPayloadValid(),
 * and is stricter where the parser relies on JavaScript's loose Number():
 *  - the type is one digit 0-6 (the parser reads "" and " " as CONNECT);
 *  - attachments and ack ids are ASCII digits only; an ack id above 2^53-1
 *    (beyond what a JS client holds exactly) is refused;
 *  - EVENT, ACK and their BINARY forms must carry a payload, as the
 *    protocol README says (the parser skips the check when it is absent);
 *  - CONNECT_ERROR must carry its object or string;
 *  - a namespace is at most SIO_NSP_MAX bytes of UTF-8 without controls.
 * The JSON itself goes through jsonlimit first (our depth, size and count
 * limits), then jansson, which refuses a few things JSON.parse takes: lone
 * UTF-16 surrogates, \u0000 in keys and integers beyond 64 bits.
 */
#include <string.h>

#include "bw.h"
#include "jsonlimit.h"
#include "jsonwrite.h"
#include "sio.h"

static int	decode_attachments(const char **, const char *,
		    const struct sio_limits *, struct sio_packet *);
static int	decode_nsp(const char **, const char *, struct sio_packet *);
static int	decode_ack(const char **, const char *, struct sio_packet *);
static int	decode_head(const char **, size_t,
		    const struct sio_limits *, struct sio_packet *);
static int	decode_payload(const char *, size_t,
		    const struct sio_limits *, struct sio_packet *);
static void	payload_limits(const struct sio_limits *, struct jsonlimit *);
static int	payload_error(int);
static int	check_payload(const struct sio_packet *);
static int	check_event(const json_t *);
static bool	nsp_ok(const char *);
static void	put_uint(struct bw *, uint64_t);
static int	put_header(struct bw *, bool, enum sio_type, unsigned,
		    const char *, int64_t);
static int	put_json(struct bw *, const json_t *);
static void	put_jstring(struct bw *, const char *);

/* What a peer may send unless configured otherwise. */
const struct sio_limits sio_limits_default = {
	.max_bytes = 1000000,		/* Engine.IO maxPayload default */
	.max_depth = 32,
	.max_attachments = 10,		/* socket.io-parser's default */
	.max_elements = 10000
};

/* Event names socket.io-parser refuses: they mean something locally. */
static const char *const reserved_events[] = {
	"connect", "connect_error", "disconnect", "disconnecting",
	"newListener", "removeListener"
};

void
sio_packet_init(struct sio_packet *p)
{
	memset(p, 0, sizeof(*p));
	p->type = SIO_CONNECT;
	p->nsp[0] = '/';
	p->nsp_len = 1;
	p->ack_id = -1;
}

void
sio_packet_clear(struct sio_packet *p)
{
	if (p->data != NULL)
		json_decref(p->data);
	sio_packet_init(p);
}

/*
 * Decode one Socket.IO packet (the Engine.IO message data, without its
 * '4').  On success p holds the packet and owns its data; on failure p is
 * empty and the result says why.
 */
int
sio_packet_decode(const char *buf, size_t len, const struct sio_limits *lim,
    struct sio_packet *p)
{
	const char	*s = buf;
	int		 rc;

	if (lim == NULL)
		lim = &sio_limits_default;
	rc = decode_head(&s, len, lim, p);
	if (rc == 0 && s < buf + len)
		rc = decode_payload(s, (size_t)(buf + len - s), lim, p);
	if (rc == 0)
		rc = check_payload(p);
	if (rc != 0)
		sio_packet_clear(p);
	return (rc);
}

/*
 * The same in two steps (issue 16): here the header, and the payload
 * scanned within the limits into ev (evscan.h), its text left in p->raw
 * (buf's, so valid as long as buf is); then, unless the caller could do
 * without, sio_packet_decode_tree() makes p->data and checks it.  An error
 * is the one sio_packet_decode() would give, but for the few only jansson
 * sees (SIO_ERR_NUMBER: a payload with numbers needs the tree).
 */
int
sio_packet_decode_scan(const char *buf, size_t len,
    const struct sio_limits *lim, struct sio_packet *p, struct evscan *ev)
{
	struct jsonlimit	 jl;
	const char		*s = buf;
	int			 rc;

	if (lim == NULL)
		lim = &sio_limits_default;
	ev->array = false;
	ev->nelems = 0;
	ev->nmembers = 0;
	ev->numbers = 0;
	rc = decode_head(&s, len, lim, p);
	if (rc == 0 && s < buf + len) {
		p->raw = s;
		p->rawlen = (size_t)(buf + len - s);
		payload_limits(lim, &jl);
		rc = payload_error(evscan_scan(p->raw, p->rawlen, &jl, ev));
	}
	if (rc != 0)
		sio_packet_clear(p);
	return (rc);
}

/* The second step: jansson's tree of the scanned payload, checked. */
int
sio_packet_decode_tree(struct sio_packet *p, const struct sio_limits *lim)
{
	struct jsonlimit	 jl;
	int			 rc = 0;

	if (lim == NULL)
		lim = &sio_limits_default;
	if (p->raw != NULL && p->data == NULL) {
		payload_limits(lim, &jl);
		rc = payload_error(jsonlimit_parse(p->raw, p->rawlen, &jl,
		    &p->data));
	}
	if (rc == 0)
		rc = check_payload(p);
	if (rc != 0)
		sio_packet_clear(p);
	return (rc);
}

/* Type, attachments, namespace and ack id; *sp is left on the payload. */
static int
decode_head(const char **sp, size_t len, const struct sio_limits *lim,
    struct sio_packet *p)
{
	const char	*s = *sp, *end = *sp + len;
	int		 rc;

	sio_packet_init(p);
	if (lim->max_bytes != 0 && len > lim->max_bytes)
		return (SIO_ERR_TOO_BIG);
	if (len == 0 || *s < '0' || *s > '0' + SIO_BINARY_ACK)
		return (SIO_ERR_TYPE);
	p->type = (enum sio_type)(*s++ - '0');
	rc = 0;
	if (p->type == SIO_BINARY_EVENT || p->type == SIO_BINARY_ACK)
		rc = decode_attachments(&s, end, lim, p);
	if (rc == 0 && s < end && *s == '/')
		rc = decode_nsp(&s, end, p);
	if (rc == 0 && s < end && *s >= '0' && *s <= '9')
		rc = decode_ack(&s, end, p);
	*sp = s;
	return (rc);
}

/* "<n>-": 1 to max_attachments, digits only. */
static int
decode_attachments(const char **sp, const char *end,
    const struct sio_limits *lim, struct sio_packet *p)
{
	const char	*s = *sp;
	uint64_t	 n = 0;

	if (s == end || *s < '0' || *s > '9')
		return (SIO_ERR_ATTACHMENTS);
	while (s < end && *s >= '0' && *s <= '9') {
		n = n * 10 + (uint64_t)(*s++ - '0');
		if (n > lim->max_attachments)
			return (SIO_ERR_ATTACHMENTS);
	}
	if (s == end || *s != '-' || n < 1)
		return (SIO_ERR_ATTACHMENTS);
	p->attachments = (unsigned)n;
	*sp = s + 1;
	return (0);
}

/* "/name," or "/name" up to the end of the packet. */
static int
decode_nsp(const char **sp, const char *end, struct sio_packet *p)
{
	const char	*s = *sp, *comma;
	size_t		 n, i;

	comma = memchr(s, ',', (size_t)(end - s));
	n = (size_t)((comma != NULL ? comma : end) - s);
	if (n > SIO_NSP_MAX || !jsonlimit_utf8_valid(s, n))
		return (SIO_ERR_NSP);
	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return (SIO_ERR_NSP);
	}
	memcpy(p->nsp, s, n);
	p->nsp[n] = '\0';
	p->nsp_len = n;
	*sp = comma != NULL ? comma + 1 : end;
	return (0);
}

/* Ack id digits, at most SIO_ACK_MAX. */
static int
decode_ack(const char **sp, const char *end, struct sio_packet *p)
{
	const char	*s = *sp;
	int64_t		 id = 0, d;

	while (s < end && *s >= '0' && *s <= '9') {
		d = *s++ - '0';
		if (id > (SIO_ACK_MAX - d) / 10)
			return (SIO_ERR_ACK);
		id = id * 10 + d;
	}
	p->ack_id = id;
	*sp = s;
	return (0);
}

/* The JSON payload: limits first (jsonlimit), then jansson. */
static int
decode_payload(const char *s, size_t n, const struct sio_limits *lim,
    struct sio_packet *p)
{
	struct jsonlimit	 jl;

	payload_limits(lim, &jl);
	return (payload_error(jsonlimit_load(s, n, &jl, &p->data)));
}

static void
payload_limits(const struct sio_limits *lim, struct jsonlimit *jl)
{
	memset(jl, 0, sizeof(*jl));
	jl->max_depth = lim->max_depth;
	jl->max_elements = lim->max_elements;
	jl->flags = JSONLIMIT_ALLOW_NUL;
}

/* A jsonlimit result as the packet's. */
static int
payload_error(int rc)
{
	switch (rc) {
	case JSONLIMIT_OK:
		return (0);
	case JSONLIMIT_ERR_TOO_BIG:
		return (SIO_ERR_TOO_BIG);
	case JSONLIMIT_ERR_DEPTH:
		return (SIO_ERR_DEPTH);
	case JSONLIMIT_ERR_ELEMENTS:
		return (SIO_ERR_ELEMENTS);
	case JSONLIMIT_ERR_NUMBER:
		return (SIO_ERR_NUMBER);
	case JSONLIMIT_ERR_NOMEM:
		return (SIO_ERR_NOMEM);
	default:
		return (SIO_ERR_JSON);
	}
}

/* socket.io-parser's isPayloadValid(), payloads required where needed. */
static int
check_payload(const struct sio_packet *p)
{
	const json_t	*d = p->data;

	switch (p->type) {
	case SIO_CONNECT:
		return (d == NULL || json_is_object(d) ? 0 : SIO_ERR_PAYLOAD);
	case SIO_DISCONNECT:
		return (d == NULL ? 0 : SIO_ERR_PAYLOAD);
	case SIO_CONNECT_ERROR:
		return (json_is_object(d) || json_is_string(d) ? 0 :
		    SIO_ERR_PAYLOAD);
	case SIO_EVENT:
	case SIO_BINARY_EVENT:
		return (check_event(d));
	case SIO_ACK:
	case SIO_BINARY_ACK:
		return (json_is_array(d) ? 0 : SIO_ERR_PAYLOAD);
	}
	return (SIO_ERR_TYPE);
}

/* An array whose first element is a number or a non-reserved name. */
static int
check_event(const json_t *d)
{
	const json_t	*name;

	if (!json_is_array(d) || (name = json_array_get(d, 0)) == NULL)
		return (SIO_ERR_PAYLOAD);
	if (json_is_number(name))
		return (0);
	if (!json_is_string(name))
		return (SIO_ERR_PAYLOAD);
	if (sio_event_reserved(json_string_value(name),
	    json_string_length(name)))
		return (SIO_ERR_RESERVED);
	return (0);
}

bool
sio_event_reserved(const char *name, size_t len)
{
	size_t	 i;

	for (i = 0; i < sizeof(reserved_events) / sizeof(*reserved_events);
	    i++) {
		if (strlen(reserved_events[i]) == len &&
		    memcmp(reserved_events[i], name, len) == 0)
			return (true);
	}
	return (false);
}

/*
 * The event name of an EVENT or BINARY_EVENT, and its length (it may hold
 * a NUL).  NULL for other packets and for numeric names, which the parser
 * allows but no handler of ours can match.
 */
const char *
sio_event_name(const struct sio_packet *p, size_t *lenp)
{
	const json_t	*name;

	if (p->type != SIO_EVENT && p->type != SIO_BINARY_EVENT)
		return (NULL);
	if ((name = json_array_get(p->data, 0)) == NULL ||
	    !json_is_string(name))
		return (NULL);
	if (lenp != NULL)
		*lenp = json_string_length(name);
	return (json_string_value(name));
}

/* Argument i of an event (after its name) or an ack; NULL if none. */
json_t *
sio_event_arg(const struct sio_packet *p, size_t i)
{
	switch (p->type) {
	case SIO_EVENT:
	case SIO_BINARY_EVENT:
		return (json_array_get(p->data, i + 1));
	case SIO_ACK:
	case SIO_BINARY_ACK:
		return (json_array_get(p->data, i));
	default:
		return (NULL);
	}
}

size_t
sio_event_nargs(const struct sio_packet *p)
{
	size_t	 n = json_array_size(p->data);

	switch (p->type) {
	case SIO_EVENT:
	case SIO_BINARY_EVENT:
		return (n > 0 ? n - 1 : 0);
	case SIO_ACK:
	case SIO_BINARY_ACK:
		return (n);
	default:
		return (0);
	}
}

static void
put_uint(struct bw *o, uint64_t v)
{
	char	 buf[24];
	size_t	 i = sizeof(buf);

	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	bw_append(o, buf + i, sizeof(buf) - i);
}

/* A namespace we may write: "/..." without a comma (NULL is "/"). */
static bool
nsp_ok(const char *nsp)
{
	return (nsp == NULL || (nsp[0] == '/' && strchr(nsp, ',') == NULL));
}

/* [4]<type>[<n>-][<nsp>,][<id>]; a binary type needs n >= 1. */
static int
put_header(struct bw *o, bool eio, enum sio_type type, unsigned nattach,
    const char *nsp, int64_t ack_id)
{
	bool	 binary = type == SIO_BINARY_EVENT || type == SIO_BINARY_ACK;
	char	 c;

	if ((unsigned)type > SIO_BINARY_ACK || !nsp_ok(nsp) ||
	    ack_id < -1 || ack_id > SIO_ACK_MAX || (binary && nattach == 0))
		return (-1);
	if (eio)
		bw_append(o, "4", 1);
	c = (char)('0' + type);
	bw_append(o, &c, 1);
	if (binary) {
		put_uint(o, nattach);
		bw_append(o, "-", 1);
	}
	if (nsp != NULL && strcmp(nsp, "/") != 0) {
		bw_append(o, nsp, strlen(nsp));
		bw_append(o, ",", 1);
	}
	if (ack_id >= 0)
		put_uint(o, (uint64_t)ack_id);
	return (0);
}

static int
put_json(struct bw *o, const json_t *j)
{
	size_t	 n;

	n = jsonwrite_dump(j, bw_tail(o), bw_room(o));
	if (n == 0)
		return (-1);
	bw_advance(o, n);
	return (0);
}

static void
put_jstring(struct bw *o, const char *s)
{
	bw_advance(o, jsonwrite_string(s, strlen(s), bw_tail(o),
	    bw_room(o)));
}

/*
 * Encode p as socket.io-parser's encodeAsString() would (payload through
 * jsonwrite_dump(), i.e. JSON.stringify()); SIO_ENCODE_EIO adds the
 * Engine.IO '4'.  Returns the length as the sio_encode_*() helpers do.
 */
size_t
sio_packet_encode(const struct sio_packet *p, int flags, char *out,
    size_t cap)
{
	struct bw	 o;

	bw_init(&o, out, cap);
	if (put_header(&o, (flags & SIO_ENCODE_EIO) != 0, p->type,
	    p->attachments, p->nsp, p->ack_id) != 0)
		return (0);
	if (p->data != NULL && put_json(&o, p->data) != 0)
		return (0);
	return (bw_finish(&o));
}

/*
 * The broadcast encoder: 4<type>[<n>-][<nsp>,][<id>][<"event">,<args>...]
 * from pre-serialized JSON arguments, so an event is encoded once and the
 * same bytes go to every recipient.  event NULL writes no name (acks).
 */
size_t
sio_encode_args(char *out, size_t cap, enum sio_type type, unsigned nattach,
    const char *nsp, int64_t ack_id, const char *event,
    const char *const *args, const size_t *args_len, size_t nargs)
{
	struct bw	 o;
	size_t		 i;

	bw_init(&o, out, cap);
	if (type != SIO_EVENT && type != SIO_ACK && type != SIO_BINARY_EVENT &&
	    type != SIO_BINARY_ACK)
		return (0);
	if ((nargs != 0 && args == NULL) ||
	    put_header(&o, true, type, nattach, nsp, ack_id) != 0)
		return (0);
	bw_append(&o, "[", 1);
	if (event != NULL)
		put_jstring(&o, event);
	for (i = 0; i < nargs; i++) {
		if (i > 0 || event != NULL)
			bw_append(&o, ",", 1);
		bw_append(&o, args[i], args_len != NULL ? args_len[i] :
		    strlen(args[i]));
	}
	bw_append(&o, "]", 1);
	return (bw_finish(&o));
}

/* 42[<nsp>,][<id>]["event",args...] */
size_t
sio_encode_event(char *out, size_t cap, const char *nsp, const char *event,
    const char *const *args, const size_t *args_len, size_t nargs,
    int64_t ack_id)
{
	if (event == NULL)
		return (0);
	return (sio_encode_args(out, cap, SIO_EVENT, 0, nsp, ack_id, event,
	    args, args_len, nargs));
}

/* 43[<nsp>,]<id>[args...] */
size_t
sio_encode_ack(char *out, size_t cap, const char *nsp, int64_t ack_id,
    const char *const *args, const size_t *args_len, size_t nargs)
{
	if (ack_id < 0)
		return (0);
	return (sio_encode_args(out, cap, SIO_ACK, 0, nsp, ack_id, NULL,
	    args, args_len, nargs));
}

/* 40[<nsp>,]{"sid":"..."}: the namespace connection is granted. */
size_t
sio_encode_connect(char *out, size_t cap, const char *nsp, const char *sid)
{
	return (sio_encode_connect_pid(out, cap, nsp, sid, NULL));
}

/*
 * 40[<nsp>,]{"sid":"...","pid":"..."}: the answer of a server keeping
 * connection state (socket.io 4.6): the client sends pid back, with the
 * last offset it saw, to recover.  pid NULL: no pid, the plain answer.
 */
size_t
sio_encode_connect_pid(char *out, size_t cap, const char *nsp,
    const char *sid, const char *pid)
{
	struct bw	 o;

	bw_init(&o, out, cap);
	if (sid == NULL || put_header(&o, true, SIO_CONNECT, 0, nsp, -1) != 0)
		return (0);
	bw_append(&o, "{\"sid\":", 7);
	put_jstring(&o, sid);
	if (pid != NULL) {
		bw_append(&o, ",\"pid\":", 7);
		put_jstring(&o, pid);
	}
	bw_append(&o, "}", 1);
	return (bw_finish(&o));
}

/* 44[<nsp>,]{"message":"..."}: the namespace connection is refused. */
size_t
sio_encode_connect_error(char *out, size_t cap, const char *nsp,
    const char *message)
{
	struct bw	 o;

	bw_init(&o, out, cap);
	if (message == NULL ||
	    put_header(&o, true, SIO_CONNECT_ERROR, 0, nsp, -1) != 0)
		return (0);
	bw_append(&o, "{\"message\":", 11);
	put_jstring(&o, message);
	bw_append(&o, "}", 1);
	return (bw_finish(&o));
}

/* 41[<nsp>,]: the server leaves a namespace. */
size_t
sio_encode_disconnect(char *out, size_t cap, const char *nsp)
{
	struct bw	 o;

	bw_init(&o, out, cap);
	if (put_header(&o, true, SIO_DISCONNECT, 0, nsp, -1) != 0)
		return (0);
	return (bw_finish(&o));
}

const char *
sio_type_name(enum sio_type type)
{
	static const char *const names[] = {
		"CONNECT", "DISCONNECT", "EVENT", "ACK", "CONNECT_ERROR",
		"BINARY_EVENT", "BINARY_ACK"
	};

	if ((unsigned)type > SIO_BINARY_ACK)
		return ("UNKNOWN");
	return (names[type]);
}

/* Stable short reasons: the server logs them and counts them by name. */
const char *
sio_strerror(int rc)
{
	switch (rc) {
	case SIO_OK:
		return ("ok");
	case SIO_NEED_MORE:
		return ("need more attachments");
	case SIO_ERR_TYPE:
		return ("unknown packet type");
	case SIO_ERR_ATTACHMENTS:
		return ("bad attachment count");
	case SIO_ERR_NSP:
		return ("bad namespace");
	case SIO_ERR_ACK:
		return ("bad ack id");
	case SIO_ERR_JSON:
		return ("malformed json");
	case SIO_ERR_PAYLOAD:
		return ("invalid payload");
	case SIO_ERR_RESERVED:
		return ("reserved event name");
	case SIO_ERR_TOO_BIG:
		return ("packet too big");
	case SIO_ERR_DEPTH:
		return ("json too deep");
	case SIO_ERR_ELEMENTS:
		return ("too many json elements");
	case SIO_ERR_NUMBER:
		return ("json number out of range");
	case SIO_ERR_PLACEHOLDER:
		return ("bad binary placeholder");
	case SIO_ERR_UNEXPECTED:
		return ("unexpected attachment");
	case SIO_ERR_NOMEM:
		return ("out of memory");
	default:
		return ("unknown error");
	}
}
