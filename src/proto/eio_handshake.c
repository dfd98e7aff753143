/*
 * eio_handshake.c: what an Engine.IO v4 request's query string says, the
 * OPEN packet a new session gets, and the reference server's error replies.
 * Pure: the transport hands us the query string and the method, and sends
 * what we encode.
 *
 * The checks follow engine.io's Server.verify() and handshake(), in their
 * order: an unknown transport first (code 0); then, with a sid, only that
 * the sid is plausible (the transport looks the session up, code 1, and
 * checks that the transport did not change without an upgrade, code 3);
 * without a sid, a GET (code 2), no WebSocket without an upgrade (code 3)
 * and EIO=4 (code 5).  As in the reference, EIO is not checked on requests
 * of an existing session.
 *
 * Query strings are read like Node's querystring.parse(): fields split on
 * '&', key and value on the first '=', '+' is a space, %XX is decoded and
 * a malformed escape is kept as it is.  A key given twice is an array to
 * Node, which then matches no valid value; here too.
 */

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "eio.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

#define OPEN_MAX	256	/* the OPEN packet with a sid of EIO_SID_MAX */
#define ERROR_MAX	64	/* the longest JSON error body */
#define KEY_MAX		64	/* longest query key we compare */

struct field {
	const char	*key;
	size_t		 keylen;
	const char	*val;
	size_t		 vallen;
};

static int	hex_value(char);
static bool	next_field(const char **, const char *, struct field *);
static bool	key_is(const struct field *, const char *);
static int	parse_version(const struct field *);
static enum eio_transport parse_transport(const struct field *);
static void	parse_sid(struct eio_query *, const struct field *);
static bool	sid_json_safe(const char *, size_t);
static int	open_format(const struct eio_open *, char *, size_t);

/* engine.io Server.errorMessages, indexed by enum eio_code. */
static const char *const code_messages[] = {
	"Transport unknown",
	"Session ID unknown",
	"Bad handshake method",
	"Bad request",
	"Forbidden",
	"Unsupported protocol version",
};

/* Value of a hex digit, or -1. */
static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/*
 * URL-decode len bytes of a query key or value into out, NUL-terminated:
 * '+' becomes a space, %XX its byte; a '%' not followed by two hex digits
 * stays as it is (Node's querystring.unescape).  Returns the decoded
 * length, or EIO_ERR_NOSPACE if it and the NUL do not fit in cap.
 */
ptrdiff_t
eio_handshake_unescape(const char *in, size_t len, char *out, size_t cap)
{
	size_t	i, o;
	int	hi, lo;
	char	c;

	for (i = 0, o = 0; i < len; i++) {
		c = in[i];
		if (c == '+')
			c = ' ';
		else if (c == '%' && i + 2 < len &&
		    (hi = hex_value(in[i + 1])) >= 0 &&
		    (lo = hex_value(in[i + 2])) >= 0) {
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		if (o + 1 >= cap)
			return (EIO_ERR_NOSPACE);
		out[o++] = c;
	}
	if (cap == 0)
		return (EIO_ERR_NOSPACE);
	out[o] = '\0';
	return ((ptrdiff_t)o);
}

/* Split the next "key=value" field off the query; false at its end. */
static bool
next_field(const char **cur, const char *end, struct field *f)
{
	const char	*p, *amp, *eq;

	p = *cur;
	if (p >= end)
		return (false);
	amp = memchr(p, '&', (size_t)(end - p));
	if (amp == NULL)
		amp = end;
	eq = memchr(p, '=', (size_t)(amp - p));
	f->key = p;
	f->keylen = (size_t)((eq != NULL ? eq : amp) - p);
	f->val = eq != NULL ? eq + 1 : amp;
	f->vallen = (size_t)(amp - f->val);
	*cur = amp < end ? amp + 1 : end;
	return (true);
}

/* Does the field's decoded key equal name exactly? */
static bool
key_is(const struct field *f, const char *name)
{
	char		key[KEY_MAX];
	ptrdiff_t	n;

	n = eio_handshake_unescape(f->key, f->keylen, key, sizeof(key));
	return (n >= 0 && (size_t)n == strlen(name) &&
	    memcmp(key, name, (size_t)n) == 0);
}

/*
 * Value of query parameter name (its first occurrence), decoded into out
 * as eio_handshake_unescape() does.  For the parameters the gateway reads
 * itself, such as a token.  Returns the length, EIO_ERR_ABSENT or
 * EIO_ERR_NOSPACE.
 */
ptrdiff_t
eio_handshake_param(const char *qs, size_t len, const char *name, char *out,
    size_t cap)
{
	const char	*cur, *end;
	struct field	 f;

	if (qs == NULL || len == 0)
		return (EIO_ERR_ABSENT);
	if (qs[0] == '?') {
		qs++;
		len--;
	}
	cur = qs;
	end = qs + len;
	while (next_field(&cur, end, &f)) {
		if (key_is(&f, name))
			return (eio_handshake_unescape(f.val, f.vallen, out,
			    cap));
	}
	return (EIO_ERR_ABSENT);
}

/* EIO=: "4" is 4, another plain decimal is itself, anything else -1. */
static int
parse_version(const struct field *f)
{
	char		buf[8];
	ptrdiff_t	n, i;
	int		v;

	n = eio_handshake_unescape(f->val, f->vallen, buf, sizeof(buf));
	if (n <= 0 || n > 3 || buf[0] == '0')
		return (-1);
	for (i = 0, v = 0; i < n; i++) {
		if (buf[i] < '0' || buf[i] > '9')
			return (-1);
		v = v * 10 + (buf[i] - '0');
	}
	return (v);
}

/* transport=: the two we serve, or unknown (WebTransport included). */
static enum eio_transport
parse_transport(const struct field *f)
{
	char		buf[16];
	ptrdiff_t	n;

	n = eio_handshake_unescape(f->val, f->vallen, buf, sizeof(buf));
	if (n == 7 && memcmp(buf, "polling", 7) == 0)
		return (EIO_TRANSPORT_POLLING);
	if (n == 9 && memcmp(buf, "websocket", 9) == 0)
		return (EIO_TRANSPORT_WEBSOCKET);
	return (EIO_TRANSPORT_UNKNOWN);
}

/* sid=: an empty one means none (the reference tests it for truth). */
static void
parse_sid(struct eio_query *q, const struct field *f)
{
	ptrdiff_t	n;

	n = eio_handshake_unescape(f->val, f->vallen, q->sid, sizeof(q->sid));
	if (n < 0) {
		q->sid[0] = '\0';
		q->has_sid = true;
		q->sid_bad = true;
		return;
	}
	q->sidlen = (size_t)n;
	q->has_sid = n > 0;
}

/*
 * Read the query string (after the '?'; a leading '?' is skipped) of an
 * Engine.IO request into *q.  Never fails: what is missing or wrong shows
 * in *q, and eio_handshake_verify() judges it.
 */
void
eio_handshake_query(struct eio_query *q, const char *qs, size_t len)
{
	const char	*cur, *end;
	struct field	 f;
	unsigned	 neio = 0, ntransport = 0, nsid = 0;

	memset(q, 0, sizeof(*q));
	if (qs == NULL || len == 0)
		return;
	if (qs[0] == '?') {
		qs++;
		len--;
	}
	cur = qs;
	end = qs + len;
	while (next_field(&cur, end, &f)) {
		if (key_is(&f, "EIO"))
			q->version = neio++ == 0 ? parse_version(&f) : -1;
		else if (key_is(&f, "transport"))
			q->transport = ntransport++ == 0 ?
			    parse_transport(&f) : EIO_TRANSPORT_UNKNOWN;
		else if (key_is(&f, "sid")) {
			if (nsid++ == 0)
				parse_sid(q, &f);
			else {
				q->has_sid = true;
				q->sid_bad = true;
			}
		}
	}
}

/*
 * Judge a request as the reference server does, but for what needs the
 * session table or a policy (see the top of this file).  get: the method
 * is GET; upgrade: it is a WebSocket upgrade.  Returns EIO_OK or the
 * EIO_ERR_* that eio_handshake_code() turns into the reply.
 */
int
eio_handshake_verify(const struct eio_query *q, bool get, bool upgrade)
{
	if (q->transport != EIO_TRANSPORT_POLLING &&
	    q->transport != EIO_TRANSPORT_WEBSOCKET)
		return (EIO_ERR_TRANSPORT);
	if (q->has_sid && q->sid_bad)
		return (EIO_ERR_SID);
	if (upgrade && q->transport != EIO_TRANSPORT_WEBSOCKET)
		return (EIO_ERR_BAD_REQUEST);
	if (q->has_sid)
		return (EIO_OK);
	if (!get)
		return (EIO_ERR_METHOD);
	if (q->transport == EIO_TRANSPORT_WEBSOCKET && !upgrade)
		return (EIO_ERR_BAD_REQUEST);
	if (q->version != 4)
		return (EIO_ERR_VERSION);
	return (EIO_OK);
}

/* A sid we put between JSON quotes as it is: printable, no '"' or '\'. */
static bool
sid_json_safe(const char *sid, size_t len)
{
	size_t	i;

	if (sid == NULL || len == 0 || len > EIO_SID_MAX)
		return (false);
	for (i = 0; i < len; i++) {
		if (sid[i] <= ' ' || sid[i] > '~' || sid[i] == '"' ||
		    sid[i] == '\\')
			return (false);
	}
	return (true);
}

/* The OPEN packet, keys in engine.io Socket.onOpen()'s order. */
static int
open_format(const struct eio_open *o, char *buf, size_t size)
{
	return (snprintf(buf, size, "0{\"sid\":\"%.*s\",\"upgrades\":[%s],"
	    "\"pingInterval\":%" PRIu32 ",\"pingTimeout\":%" PRIu32 ","
	    "\"maxPayload\":%" PRIu64 "}", (int)o->sidlen, o->sid,
	    o->upgrade ? "\"websocket\"" : "", o->ping_interval,
	    o->ping_timeout, o->max_payload));
}

/* Length of the OPEN packet for o, or 0 if o's sid is unusable. */
size_t
eio_handshake_open_len(const struct eio_open *o)
{
	char	buf[OPEN_MAX];
	int	n;

	if (!sid_json_safe(o->sid, o->sidlen))
		return (0);
	n = open_format(o, buf, sizeof(buf));
	return (n < 0 ? 0 : (size_t)n);
}

/*
 * Encode the OPEN packet in text form, e.g.
 * 0{"sid":"...","upgrades":["websocket"],"pingInterval":25000,
 * "pingTimeout":20000,"maxPayload":1000000}, byte for byte what the
 * reference server sends.  upgrades is ["websocket"] for a polling
 * session and [] for a WebSocket one.  No NUL is written.
 */
ptrdiff_t
eio_handshake_open(const struct eio_open *o, uint8_t *out, size_t cap)
{
	char	buf[OPEN_MAX];
	int	n;

	if (!sid_json_safe(o->sid, o->sidlen))
		return (EIO_ERR_INVAL);
	n = open_format(o, buf, sizeof(buf));
	if (n < 0 || (size_t)n >= sizeof(buf))
		return (EIO_ERR_INVAL);
	if ((size_t)n > cap)
		return (EIO_ERR_NOSPACE);
	memcpy(out, buf, (size_t)n);
	return (n);
}

/* The reply code of a handshake error, or -1 for any other result. */
int
eio_handshake_code(int err)
{
	switch (err) {
	case EIO_ERR_TRANSPORT:
		return (EIO_CODE_UNKNOWN_TRANSPORT);
	case EIO_ERR_SID:
		return (EIO_CODE_UNKNOWN_SID);
	case EIO_ERR_METHOD:
		return (EIO_CODE_BAD_HANDSHAKE_METHOD);
	case EIO_ERR_BAD_REQUEST:
		return (EIO_CODE_BAD_REQUEST);
	case EIO_ERR_FORBIDDEN:
		return (EIO_CODE_FORBIDDEN);
	case EIO_ERR_VERSION:
		return (EIO_CODE_UNSUPPORTED_PROTOCOL_VERSION);
	default:
		return (-1);
	}
}

/* HTTP status for a reply code: 403 for Forbidden, else 400. */
int
eio_handshake_status(int code)
{
	return (code == EIO_CODE_FORBIDDEN ? 403 : 400);
}

/* The reference message for a reply code, or NULL if there is none. */
const char *
eio_handshake_message(int code)
{
	if (code < 0 || (size_t)code >= nitems(code_messages))
		return (NULL);
	return (code_messages[code]);
}

/*
 * The JSON body of a refused request, {"code":3,"message":"Bad request"},
 * as the reference's abortRequest() writes it.  A refused WebSocket
 * upgrade gets the bare message instead (abortUpgrade()).
 */
ptrdiff_t
eio_handshake_error(int code, uint8_t *out, size_t cap)
{
	char		 buf[ERROR_MAX];
	const char	*msg;
	int		 n;

	if ((msg = eio_handshake_message(code)) == NULL)
		return (EIO_ERR_INVAL);
	n = snprintf(buf, sizeof(buf), "{\"code\":%d,\"message\":\"%s\"}",
	    code, msg);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return (EIO_ERR_INVAL);
	if ((size_t)n > cap)
		return (EIO_ERR_NOSPACE);
	memcpy(out, buf, (size_t)n);
	return (n);
}
