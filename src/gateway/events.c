/*
 * events: validation of the client->server events and construction of the
 * server->client payloads (events.h).  Pure: no I/O, no logging.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "events.h"

const char	EVENTS_E_UNKNOWN_EVENT[] = "unknown_event";
const char	EVENTS_E_INVALID_PAYLOAD[] = "invalid_payload";
const char	EVENTS_E_MISSING_FIELD[] = "missing_field";
const char	EVENTS_E_INVALID_FIELD[] = "invalid_field";
const char	EVENTS_E_FIELD_TOO_LONG[] = "field_too_long";
const char	EVENTS_E_CONFLICTING_FIELDS[] = "conflicting_fields";
const char	EVENTS_E_INVALID_MESSAGE_TYPE[] = "invalid_message_type";
const char	EVENTS_E_INVALID_STATUS[] = "invalid_status";
const char	EVENTS_E_INVALID_ROOM[] = "invalid_room";

/* What an event needs, checked in this order. */
#define NEED_ROOM	0x01	/* exactly one of room, group_id */
#define NEED_TARGET	0x02	/* exactly one of receiver_id, group_id */
#define NEED_GROUP	0x04	/* group_id */
#define NEED_MESSAGE	0x08	/* message_id */
#define NEED_SENDER	0x10	/* sender_id (the original sender) */
#define NEED_STATUS	0x20	/* status */
#define NEED_CONTENT	0x40	/* content, message_type?, client_msg_id? */

static const struct {
	const char	*name;
	int		 need;
} table[EVENTS_NTYPES] = {
	{ "send_message",	 NEED_TARGET | NEED_CONTENT },
	{ "send_group_message",	 NEED_GROUP | NEED_CONTENT },
	{ "join_room",		 NEED_ROOM },
	{ "leave_room",		 NEED_ROOM },
	{ "typing",		 NEED_TARGET },
	{ "stop_typing",	 NEED_TARGET },
	{ "message_read",	 NEED_MESSAGE | NEED_SENDER },
	{ "message_delivered",	 NEED_MESSAGE | NEED_SENDER },
	{ "message_read_status", NEED_MESSAGE | NEED_SENDER | NEED_STATUS },
	{ "delete_message",	 NEED_MESSAGE | NEED_TARGET },
};

static const char *const message_types[] = {
	"text", "image", "file", "audio", "video", "system", NULL
};
static const char *const statuses[] = { "delivered", "read", NULL };

#define ID_RULE		"id (a string of 1..128 bytes without ':' or " \
			    "control characters, or a non-negative integer)"
#define TYPE_RULE	"one of text, image, file, audio, video, system " \
			    "(default text)"
#define STATUS_RULE	"one of delivered, read"
#define ROOM_RULE	"room name user:<id>, group:<id> or chat:<a>:<b> " \
			    "(ids sorted and different)"

enum slot { NUM_RECEIVER, NUM_GROUP, NUM_MESSAGE, NUM_SENDER };

static int		 fail(struct events_error *, const char *,
			    const char *, ...)
			    __attribute__((format(printf, 3, 4)));
static const char	*got(const json_t *);
static const json_t	*field(const json_t *, const char *);
static int		 get_id(const json_t *, const char *, bool, char *,
			    struct events_str *, struct events_error *);
static int		 get_string(const json_t *, const char *, bool,
			    size_t, bool, struct events_str *,
			    struct events_error *);
static int		 get_enum(const json_t *, const char *, bool,
			    const char *const *, const char *, const char *,
			    struct events_str *, struct events_error *);
static int		 one_of(const json_t *, const char *, const char *,
			    const char *, struct events_error *);
static int		 get_room(const json_t *, struct events_event *,
			    struct events_error *);
static int		 put(json_t *, const char *, const char *);

static int
fail(struct events_error *err, const char *code, const char *fmt, ...)
{
	va_list	ap;

	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return (-1);
}

/* What the client sent instead, for the error message. */
static const char *
got(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return ("an object");
	case JSON_ARRAY:
		return ("an array");
	case JSON_STRING:
		return ("a string");
	case JSON_INTEGER:
		return ("an integer");
	case JSON_REAL:
		return ("a number with a fraction or exponent");
	case JSON_TRUE:
	case JSON_FALSE:
		return ("a boolean");
	default:
		return ("null");
	}
}

/* A field's value; null counts as absent. */
static const json_t *
field(const json_t *obj, const char *name)
{
	const json_t	*v = json_object_get(obj, name);

	return (json_is_null(v) ? NULL : v);
}

int
events_lookup(const char *name, size_t len)
{
	int	i;

	if (name == NULL)
		return (-1);
	for (i = 0; i < EVENTS_NTYPES; i++) {
		if (strlen(table[i].name) == len &&
		    memcmp(table[i].name, name, len) == 0)
			return (i);
	}
	return (-1);
}

const char *
events_name(enum events_type t)
{
	return ((unsigned)t < EVENTS_NTYPES ? table[t].name : NULL);
}

/*
 * An id: a string that can be part of a room name, or a non-negative
 * integer written in decimal into num (EVENTS_INT_SIZE bytes).
 */
static int
get_id(const json_t *obj, const char *name, bool required, char *num,
    struct events_str *out, struct events_error *err)
{
	const json_t	*v = field(obj, name);
	const char	*s;
	size_t		 len, i;
	json_int_t	 n;

	out->ptr = NULL;
	out->len = 0;
	if (v == NULL) {
		if (!required)
			return (0);
		return (fail(err, EVENTS_E_MISSING_FIELD,
		    "%s: required " ID_RULE ", got nothing", name));
	}
	if (json_is_integer(v)) {
		if ((n = json_integer_value(v)) < 0)
			return (fail(err, EVENTS_E_INVALID_FIELD,
			    "%s: required " ID_RULE ", got a negative integer",
			    name));
		snprintf(num, EVENTS_INT_SIZE, "%" JSON_INTEGER_FORMAT, n);
		out->ptr = num;
		out->len = strlen(num);
		return (0);
	}
	if (!json_is_string(v))
		return (fail(err, EVENTS_E_INVALID_FIELD,
		    "%s: required " ID_RULE ", got %s", name, got(v)));
	s = json_string_value(v);
	len = json_string_length(v);
	if (len == 0)
		return (fail(err, EVENTS_E_INVALID_FIELD,
		    "%s: required " ID_RULE ", got an empty string", name));
	if (len > EVENTS_ID_MAX)
		return (fail(err, EVENTS_E_FIELD_TOO_LONG,
		    "%s: required " ID_RULE ", got %zu bytes", name, len));
	for (i = 0; i < len; i++) {
		if (s[i] == ':')
			return (fail(err, EVENTS_E_INVALID_FIELD,
			    "%s: required " ID_RULE ", got a ':'", name));
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return (fail(err, EVENTS_E_INVALID_FIELD,
			    "%s: required " ID_RULE
			    ", got a control character", name));
	}
	out->ptr = s;
	out->len = len;
	return (0);
}

/* A string of 1..max bytes; NUL bytes only if nul_ok (content). */
static int
get_string(const json_t *obj, const char *name, bool required, size_t max,
    bool nul_ok, struct events_str *out, struct events_error *err)
{
	const json_t	*v = field(obj, name);
	const char	*what = required ? "required" : "optional";
	size_t		 len;

	out->ptr = NULL;
	out->len = 0;
	if (v == NULL) {
		if (!required)
			return (0);
		return (fail(err, EVENTS_E_MISSING_FIELD,
		    "%s: required string of 1..%zu bytes, got nothing",
		    name, max));
	}
	if (!json_is_string(v))
		return (fail(err, EVENTS_E_INVALID_FIELD,
		    "%s: %s string of 1..%zu bytes, got %s", name, what, max,
		    got(v)));
	if ((len = json_string_length(v)) == 0)
		return (fail(err, EVENTS_E_INVALID_FIELD,
		    "%s: %s string of 1..%zu bytes, got an empty string",
		    name, what, max));
	if (len > max)
		return (fail(err, EVENTS_E_FIELD_TOO_LONG,
		    "%s: %s string of 1..%zu bytes, got %zu bytes", name,
		    what, max, len));
	if (!nul_ok && memchr(json_string_value(v), '\0', len) != NULL)
		return (fail(err, EVENTS_E_INVALID_FIELD,
		    "%s: %s string of 1..%zu bytes, got a NUL byte", name,
		    what, max));
	out->ptr = json_string_value(v);
	out->len = len;
	return (0);
}

/* One of a fixed list of words; code is the error for another word. */
static int
get_enum(const json_t *obj, const char *name, bool required,
    const char *const *words, const char *rule, const char *code,
    struct events_str *out, struct events_error *err)
{
	const json_t	*v = field(obj, name);
	const char	*what = required ? "required" : "optional";
	size_t		 i;

	out->ptr = NULL;
	out->len = 0;
	if (v == NULL) {
		if (!required)
			return (0);
		return (fail(err, EVENTS_E_MISSING_FIELD,
		    "%s: required, %s, got nothing", name, rule));
	}
	if (!json_is_string(v))
		return (fail(err, EVENTS_E_INVALID_FIELD,
		    "%s: %s, %s, got %s", name, what, rule, got(v)));
	for (i = 0; words[i] != NULL; i++) {
		if (json_string_length(v) == strlen(words[i]) &&
		    strcmp(json_string_value(v), words[i]) == 0) {
			out->ptr = words[i];
			out->len = strlen(words[i]);
			return (0);
		}
	}
	return (fail(err, code, "%s: %s, %s, got another string", name, what,
	    rule));
}

/* Exactly one of fields a and b present: 0 (a), 1 (b) or -1. */
static int
one_of(const json_t *obj, const char *ev, const char *a, const char *b,
    struct events_error *err)
{
	bool	ha = field(obj, a) != NULL, hb = field(obj, b) != NULL;

	if (ha && hb)
		return (fail(err, EVENTS_E_CONFLICTING_FIELDS,
		    "%s: exactly one of %s or %s is required, got both", ev,
		    a, b));
	if (!ha && !hb)
		return (fail(err, EVENTS_E_MISSING_FIELD,
		    "%s: exactly one of %s or %s is required, got neither",
		    ev, a, b));
	return (ha ? 0 : 1);
}

/* join_room / leave_room: {room} or {group_id}, parsed into ev->ref. */
static int
get_room(const json_t *obj, struct events_event *ev,
    struct events_error *err)
{
	const json_t	*v;
	int		 n, which;

	if ((which = one_of(obj, ev->name, "room", "group_id", err)) < 0)
		return (-1);
	if (which == 1) {
		if (get_id(obj, "group_id", true, ev->num[NUM_GROUP],
		    &ev->group_id, err) != 0)
			return (-1);
		if ((n = roomname_group(ev->group_id.ptr, ev->group_id.len,
		    ev->roombuf)) < 0)
			return (fail(err, EVENTS_E_INVALID_FIELD,
			    "group_id: required " ID_RULE));
		ev->room.ptr = ev->roombuf;
		ev->room.len = (size_t)n;
	} else {
		v = field(obj, "room");
		if (!json_is_string(v))
			return (fail(err, EVENTS_E_INVALID_FIELD,
			    "room: required " ROOM_RULE ", got %s", got(v)));
		ev->room.ptr = json_string_value(v);
		ev->room.len = json_string_length(v);
	}
	if (roomname_parse(ev->room.ptr, ev->room.len, &ev->ref) != ROOMNAME_OK)
		return (fail(err, EVENTS_E_INVALID_ROOM,
		    "room: required " ROOM_RULE ", got an invalid name"));
	return (0);
}

/*
 * Validates event name (namelen bytes) with arg, the first argument of the
 * Socket.IO event (NULL if there was none).  content_max 0 means
 * EVENTS_CONTENT_MAX.  0 and *ev filled, or -1 and *err filled.
 */
int
events_parse(const char *name, size_t namelen, const json_t *arg,
    size_t content_max, struct events_event *ev, struct events_error *err)
{
	int	t, need, which;

	memset(ev, 0, sizeof(*ev));
	err->code = NULL;
	err->message[0] = '\0';
	if (content_max == 0)
		content_max = EVENTS_CONTENT_MAX;
	if ((t = events_lookup(name, namelen)) < 0)
		return (fail(err, EVENTS_E_UNKNOWN_EVENT, "unknown event, "
		    "expected one of send_message, send_group_message, "
		    "join_room, leave_room, typing, stop_typing, "
		    "message_read, message_delivered, message_read_status, "
		    "delete_message"));
	ev->type = (enum events_type)t;
	ev->name = table[t].name;
	need = table[t].need;
	if (!json_is_object(arg))
		return (fail(err, EVENTS_E_INVALID_PAYLOAD,
		    "%s: payload must be an object, got %s", ev->name,
		    arg == NULL ? "nothing" : got(arg)));

	if ((need & NEED_ROOM) && get_room(arg, ev, err) != 0)
		return (-1);
	if (need & NEED_TARGET) {
		if ((which = one_of(arg, ev->name, "receiver_id", "group_id",
		    err)) < 0)
			return (-1);
		if (which == 0 && get_id(arg, "receiver_id", true,
		    ev->num[NUM_RECEIVER], &ev->receiver_id, err) != 0)
			return (-1);
		if (which == 1 && get_id(arg, "group_id", true,
		    ev->num[NUM_GROUP], &ev->group_id, err) != 0)
			return (-1);
	}
	if ((need & NEED_GROUP) && get_id(arg, "group_id", true,
	    ev->num[NUM_GROUP], &ev->group_id, err) != 0)
		return (-1);
	if ((need & NEED_MESSAGE) && get_id(arg, "message_id", true,
	    ev->num[NUM_MESSAGE], &ev->message_id, err) != 0)
		return (-1);
	if ((need & NEED_SENDER) && get_id(arg, "sender_id", true,
	    ev->num[NUM_SENDER], &ev->sender_id, err) != 0)
		return (-1);
	if ((need & NEED_STATUS) && get_enum(arg, "status", true, statuses,
	    STATUS_RULE, EVENTS_E_INVALID_STATUS, &ev->status, err) != 0)
		return (-1);
	if (need & NEED_CONTENT) {
		if (get_string(arg, "content", true, content_max, true,
		    &ev->content, err) != 0 ||
		    get_enum(arg, "message_type", false, message_types,
		    TYPE_RULE, EVENTS_E_INVALID_MESSAGE_TYPE,
		    &ev->message_type, err) != 0 ||
		    get_string(arg, "client_msg_id", false,
		    EVENTS_CLIENT_MSG_ID_MAX, false, &ev->client_msg_id,
		    err) != 0)
			return (-1);
		if (ev->message_type.ptr == NULL) {
			ev->message_type.ptr = message_types[0];
			ev->message_type.len = strlen(message_types[0]);
		}
	}
	return (0);
}

/* message_type's word for n bytes of s, or NULL when it is none. */
const char *
events_message_type(const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; message_types[i] != NULL; i++)
		if (strlen(message_types[i]) == n &&
		    memcmp(message_types[i], s, n) == 0)
			return (message_types[i]);
	return (NULL);
}

/* Sets key to the string s unless s is NULL; -1 if not UTF-8 or no memory. */
static int
put(json_t *o, const char *key, const char *s)
{
	if (s == NULL)
		return (0);
	return (json_object_set_new(o, key, json_string(s)));
}

/*
 * The builders return a new object, or NULL if a required string is
 * missing or not valid UTF-8, or memory ran out.
 */
json_t *
events_message_json(const struct events_message *m)
{
	json_t	*o;

	if (m->id == NULL || m->sender_id == NULL || m->content == NULL ||
	    m->message_type == NULL || m->created_at == NULL ||
	    (m->receiver_id == NULL) == (m->group_id == NULL))
		return (NULL);
	if ((o = json_object()) == NULL)
		return (NULL);
	if (put(o, "id", m->id) != 0 ||
	    put(o, "sender_id", m->sender_id) != 0 ||
	    put(o, "receiver_id", m->receiver_id) != 0 ||
	    put(o, "group_id", m->group_id) != 0 ||
	    json_object_set_new(o, "content",
	    json_stringn(m->content, m->content_len)) != 0 ||
	    put(o, "message_type", m->message_type) != 0 ||
	    put(o, "created_at", m->created_at) != 0 ||
	    put(o, "client_msg_id", m->client_msg_id) != 0 ||
	    put(o, "status", m->status) != 0) {
		json_decref(o);
		return (NULL);
	}
	return (o);
}

/* user_typing / user_stop_typing: {user_id, receiver_id | group_id}. */
json_t *
events_typing_json(const char *user_id, const char *receiver_id,
    const char *group_id)
{
	if (user_id == NULL || (receiver_id == NULL) == (group_id == NULL))
		return (NULL);
	if (receiver_id != NULL)
		return (json_pack("{s:s,s:s}", "user_id", user_id,
		    "receiver_id", receiver_id));
	return (json_pack("{s:s,s:s}", "user_id", user_id, "group_id",
	    group_id));
}

json_t *
events_read_receipt_json(const char *message_id, const char *reader_id,
    const char *read_at)
{
	return (json_pack("{s:s,s:s,s:s}", "message_id", message_id,
	    "reader_id", reader_id, "read_at", read_at));
}

json_t *
events_status_update_json(const char *message_id, const char *status,
    const char *user_id, const char *at)
{
	return (json_pack("{s:s,s:s,s:s,s:s}", "message_id", message_id,
	    "status", status, "user_id", user_id, "at", at));
}

/* user_connected / user_disconnected: {user_id}. */
json_t *
events_user_json(const char *user_id)
{
	return (json_pack("{s:s}", "user_id", user_id));
}

json_t *
events_connected_json(const char *socket_id, const char *user_id)
{
	return (json_pack("{s:s,s:s}", "socket_id", socket_id, "user_id",
	    user_id));
}

/*
 * The error event: {code, message, event}.  The event name is the
 * client's (eventlen bytes), so an unknown one is echoed as sent; a name
 * that is not UTF-8 (it came from JSON, so it cannot be) becomes "".
 */
json_t *
events_error_json(const char *code, const char *message, const char *event,
    size_t eventlen)
{
	json_t	*ev;

	if (event == NULL)
		event = "", eventlen = 0;
	if ((ev = json_stringn(event, eventlen)) == NULL &&
	    (ev = json_string("")) == NULL)
		return (NULL);
	/* "o" hands ev over, even when json_pack fails (jansson >= 2.11). */
	return (json_pack("{s:s,s:s,s:o}", "code", code, "message", message,
	    "event", ev));
}

/*
 * {ok: true, ...fields}: fields (an object, or NULL) is consumed; it
 * cannot override ok.
 */
json_t *
events_ack_ok(json_t *fields)
{
	json_t	*o;

	if ((o = json_object()) == NULL) {
		json_decref(fields);
		return (NULL);
	}
	if ((json_is_object(fields) && json_object_update(o, fields) != 0) ||
	    json_object_set_new(o, "ok", json_true()) != 0) {
		json_decref(o);
		o = NULL;
	}
	json_decref(fields);
	return (o);
}

/* {ok: false, error: {code, message}}. */
json_t *
events_ack_error(const char *code, const char *message)
{
	return (json_pack("{s:b,s:{s:s,s:s}}", "ok", 0, "error", "code", code,
	    "message", message));
}
