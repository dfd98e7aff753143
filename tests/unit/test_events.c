/*
 * test_events.c: events.c: every event of DESIGN.md accepted in its
 * shapes, every rule refused with its exact code and message, and the
 * server->client payloads, acks and timestamps built exactly.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "events.h"

#define ID_RULE	"id (a string of 1..128 bytes without ':' or control " \
		    "characters, or a non-negative integer)"
#define TYPES	"one of text, image, file, audio, video, system " \
		    "(default text)"
#define ROOM	"room name user:<id>, group:<id> or chat:<a>:<b> (ids " \
		    "sorted and different)"

static json_t *
load(const char *text)
{
	json_error_t	 e;
	json_t		*j;

	if (text == NULL)
		return (NULL);
	j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
	if (j == NULL)
		fail_msg("bad test JSON %s: %s", text, e.text);
	return (j);
}

/* Parses text as the payload of event name; the JSON is kept in *j. */
static int
run(const char *name, const char *text, size_t max, struct events_event *ev,
    struct events_error *err, json_t **j)
{
	*j = load(text);
	return (events_parse(name, strlen(name), *j, max, ev, err));
}

static void
expect_error(const char *name, const char *text, const char *code,
    const char *message)
{
	struct events_event	 ev;
	struct events_error	 err;
	json_t			*j;

	if (run(name, text, 0, &ev, &err, &j) != -1)
		fail_msg("%s %s: accepted", name, text);
	assert_string_equal(err.code, code);
	assert_string_equal(err.message, message);
	json_decref(j);
}

static void
expect_str(const struct events_str *s, const char *want)
{
	if (want == NULL) {
		assert_null(s->ptr);
		assert_int_equal(s->len, 0);
		return;
	}
	assert_non_null(s->ptr);
	assert_int_equal(s->len, strlen(want));
	assert_string_equal(s->ptr, want);
}

static void
test_lookup(void **state)
{
	static const char *const names[] = {
		"send_message", "send_group_message", "join_room",
		"leave_room", "typing", "stop_typing", "message_read",
		"message_delivered", "message_read_status", "delete_message",
	};
	int	i;

	(void)state;
	for (i = 0; i < EVENTS_NTYPES; i++) {
		assert_int_equal(events_lookup(names[i], strlen(names[i])), i);
		assert_string_equal(events_name((enum events_type)i),
		    names[i]);
	}
	assert_null(events_name(EVENTS_NTYPES));
	assert_int_equal(events_lookup("typing_x", 6), EVENTS_TYPING);
	assert_int_equal(events_lookup("typing", 5), -1);
	assert_int_equal(events_lookup("Typing", 6), -1);
	assert_int_equal(events_lookup("", 0), -1);
	assert_int_equal(events_lookup(NULL, 0), -1);
	assert_int_equal(events_lookup("typing\0", 7), -1);
}

static void
test_unknown_and_payload(void **state)
{
	static const char *const events[] = {
		"send_message", "send_group_message", "join_room",
		"leave_room", "typing", "stop_typing", "message_read",
		"message_delivered", "message_read_status", "delete_message",
	};
	static const struct {
		const char	*text;
		const char	*got;
	} bad[] = {
		{ NULL, "nothing" }, { "null", "null" },
		{ "[1]", "an array" }, { "\"x\"", "a string" },
		{ "7", "an integer" }, { "7.5", "a number with a fraction "
		    "or exponent" }, { "true", "a boolean" },
		{ "false", "a boolean" },
	};
	char	msg[256];
	size_t	i, k;

	(void)state;
	expect_error("chat_message", "{}", "unknown_event", "unknown event, "
	    "expected one of send_message, send_group_message, join_room, "
	    "leave_room, typing, stop_typing, message_read, "
	    "message_delivered, message_read_status, delete_message");
	expect_error("", NULL, "unknown_event", "unknown event, "
	    "expected one of send_message, send_group_message, join_room, "
	    "leave_room, typing, stop_typing, message_read, "
	    "message_delivered, message_read_status, delete_message");
	for (k = 0; k < sizeof(events) / sizeof(events[0]); k++) {
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			snprintf(msg, sizeof(msg), "%s: payload must be an "
			    "object, got %s", events[k], bad[i].got);
			expect_error(events[k], bad[i].text, "invalid_payload",
			    msg);
		}
	}
}

static void
test_send_message(void **state)
{
	struct events_event	 ev;
	struct events_error	 err;
	json_t			*j;

	(void)state;
	/* The seed's own example: its sender_id is ignored. */
	assert_int_equal(run("send_message", "{\"sender_id\":\"user123\","
	    "\"receiver_id\":\"user456\",\"content\":\"Hello!\","
	    "\"message_type\":\"text\"}", 0, &ev, &err, &j), 0);
	assert_int_equal(ev.type, EVENTS_SEND_MESSAGE);
	assert_string_equal(ev.name, "send_message");
	expect_str(&ev.receiver_id, "user456");
	expect_str(&ev.group_id, NULL);
	expect_str(&ev.content, "Hello!");
	expect_str(&ev.message_type, "text");
	expect_str(&ev.client_msg_id, NULL);
	expect_str(&ev.sender_id, NULL);
	/* Borrowed from the JSON, not copied. */
	assert_ptr_equal(ev.content.ptr,
	    json_string_value(json_object_get(j, "content")));
	json_decref(j);

	/* Integer group id, default type, client_msg_id, extras, nulls. */
	assert_int_equal(run("send_message", "{\"receiver_id\":null,"
	    "\"group_id\":9007199254740993,\"content\":\"a\\u0000b\","
	    "\"client_msg_id\":\"c-1\",\"extra\":{\"x\":[1]},"
	    "\"message_type\":null}", 0, &ev, &err, &j), 0);
	expect_str(&ev.receiver_id, NULL);
	expect_str(&ev.group_id, "9007199254740993");
	assert_int_equal(ev.content.len, 3);
	assert_memory_equal(ev.content.ptr, "a\0b", 3);
	expect_str(&ev.message_type, "text");
	expect_str(&ev.client_msg_id, "c-1");
	json_decref(j);

	assert_int_equal(run("send_message", "{\"receiver_id\":0,"
	    "\"content\":\"x\",\"message_type\":\"system\"}", 0, &ev, &err,
	    &j), 0);
	expect_str(&ev.receiver_id, "0");
	expect_str(&ev.message_type, "system");
	json_decref(j);

	expect_error("send_message", "{\"content\":\"x\"}", "missing_field",
	    "send_message: exactly one of receiver_id or group_id is "
	    "required, got neither");
	expect_error("send_message", "{\"receiver_id\":null,\"group_id\":"
	    "null,\"content\":\"x\"}", "missing_field", "send_message: "
	    "exactly one of receiver_id or group_id is required, got neither");
	expect_error("send_message", "{\"receiver_id\":\"a\",\"group_id\":"
	    "\"b\",\"content\":\"x\"}", "conflicting_fields", "send_message: "
	    "exactly one of receiver_id or group_id is required, got both");
	expect_error("send_message", "{\"receiver_id\":\"a\"}",
	    "missing_field",
	    "content: required string of 1..65536 bytes, got nothing");
	expect_error("send_message", "{\"receiver_id\":\"a\",\"content\":5}",
	    "invalid_field",
	    "content: required string of 1..65536 bytes, got an integer");
	expect_error("send_message", "{\"receiver_id\":\"a\",\"content\":"
	    "\"\"}", "invalid_field",
	    "content: required string of 1..65536 bytes, got an empty string");
	expect_error("send_message", "{\"receiver_id\":\"a\",\"content\":"
	    "[\"x\"]}", "invalid_field",
	    "content: required string of 1..65536 bytes, got an array");
	expect_error("send_message", "{\"receiver_id\":\"a\",\"content\":"
	    "\"x\",\"message_type\":\"gif\"}", "invalid_message_type",
	    "message_type: optional, " TYPES ", got another string");
	expect_error("send_message", "{\"receiver_id\":\"a\",\"content\":"
	    "\"x\",\"message_type\":\"Text\"}", "invalid_message_type",
	    "message_type: optional, " TYPES ", got another string");
	expect_error("send_message", "{\"receiver_id\":\"a\",\"content\":"
	    "\"x\",\"message_type\":\"text\\u0000\"}", "invalid_message_type",
	    "message_type: optional, " TYPES ", got another string");
	expect_error("send_message", "{\"receiver_id\":\"a\",\"content\":"
	    "\"x\",\"message_type\":1}", "invalid_field",
	    "message_type: optional, " TYPES ", got an integer");
	expect_error("send_message", "{\"receiver_id\":\"a\",\"content\":"
	    "\"x\",\"client_msg_id\":\"\"}", "invalid_field",
	    "client_msg_id: optional string of 1..128 bytes, got an empty "
	    "string");
	expect_error("send_message", "{\"receiver_id\":\"a\",\"content\":"
	    "\"x\",\"client_msg_id\":12}", "invalid_field",
	    "client_msg_id: optional string of 1..128 bytes, got an integer");
	expect_error("send_message", "{\"receiver_id\":\"a\",\"content\":"
	    "\"x\",\"client_msg_id\":\"a\\u0000\"}", "invalid_field",
	    "client_msg_id: optional string of 1..128 bytes, got a NUL byte");
}

static void
test_message_types(void **state)
{
	static const char *const types[] = {
		"text", "image", "file", "audio", "video", "system"
	};
	struct events_event	 ev;
	struct events_error	 err;
	char			 text[128];
	json_t			*j;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		snprintf(text, sizeof(text), "{\"group_id\":\"g\",\"content\":"
		    "\"x\",\"message_type\":\"%s\"}", types[i]);
		assert_int_equal(run("send_group_message", text, 0, &ev, &err,
		    &j), 0);
		expect_str(&ev.message_type, types[i]);
		json_decref(j);
	}
}

/* Limits: ids 128, client_msg_id 128, content content_max. */
static void
test_lengths(void **state)
{
	struct events_event	 ev;
	struct events_error	 err;
	json_t			*o;
	char			*big;

	(void)state;
	big = malloc(EVENTS_CONTENT_MAX + 2);
	memset(big, 'x', EVENTS_CONTENT_MAX + 1);
	big[EVENTS_CONTENT_MAX + 1] = '\0';

	o = json_pack("{s:s#,s:s#,s:s#}", "receiver_id", big, (int)128,
	    "content", big, (int)EVENTS_CONTENT_MAX, "client_msg_id", big,
	    (int)128);
	assert_int_equal(events_parse("send_message", 12, o, 0, &ev, &err),
	    0);
	assert_int_equal(ev.receiver_id.len, 128);
	assert_int_equal(ev.content.len, EVENTS_CONTENT_MAX);
	assert_int_equal(ev.client_msg_id.len, 128);

	json_object_set_new(o, "content", json_string(big));
	assert_int_equal(events_parse("send_message", 12, o, 0, &ev, &err),
	    -1);
	assert_string_equal(err.code, "field_too_long");
	assert_string_equal(err.message,
	    "content: required string of 1..65536 bytes, got 65537 bytes");
	json_object_set_new(o, "content", json_string("0123456789"));
	assert_int_equal(events_parse("send_message", 12, o, 10, &ev, &err),
	    0);
	json_object_set_new(o, "content", json_string("0123456789a"));
	assert_int_equal(events_parse("send_message", 12, o, 10, &ev, &err),
	    -1);
	assert_string_equal(err.message,
	    "content: required string of 1..10 bytes, got 11 bytes");

	json_object_set_new(o, "content", json_string("x"));
	json_object_set_new(o, "client_msg_id", json_stringn(big, 129));
	assert_int_equal(events_parse("send_message", 12, o, 0, &ev, &err),
	    -1);
	assert_string_equal(err.code, "field_too_long");
	assert_string_equal(err.message,
	    "client_msg_id: optional string of 1..128 bytes, got 129 bytes");

	json_object_del(o, "client_msg_id");
	json_object_set_new(o, "receiver_id", json_stringn(big, 129));
	assert_int_equal(events_parse("send_message", 12, o, 0, &ev, &err),
	    -1);
	assert_string_equal(err.code, "field_too_long");
	assert_string_equal(err.message,
	    "receiver_id: required " ID_RULE ", got 129 bytes");
	json_decref(o);
	free(big);
}

/* The id rule, through receiver_id, group_id, message_id, sender_id. */
static void
test_ids(void **state)
{
	static const struct {
		const char	*value;
		const char	*code;
		const char	*got;
	} bad[] = {
		{ "\"\"", "invalid_field", "an empty string" },
		{ "\"a:b\"", "invalid_field", "a ':'" },
		{ "\"chat:a:b\"", "invalid_field", "a ':'" },
		{ "\"a\\nb\"", "invalid_field", "a control character" },
		{ "\"a\\u0000\"", "invalid_field", "a control character" },
		{ "\"\\u007f\"", "invalid_field", "a control character" },
		{ "-1", "invalid_field", "a negative integer" },
		{ "1.0", "invalid_field",
		    "a number with a fraction or exponent" },
		{ "1e3", "invalid_field",
		    "a number with a fraction or exponent" },
		{ "true", "invalid_field", "a boolean" },
		{ "{}", "invalid_field", "an object" },
		{ "[\"a\"]", "invalid_field", "an array" },
	};
	static const struct {
		const char	*event, *field, *pre, *post;
	} where[] = {
		{ "typing", "receiver_id", "{\"receiver_id\":", "}" },
		{ "stop_typing", "group_id", "{\"group_id\":", "}" },
		{ "send_group_message", "group_id", "{\"group_id\":",
		    ",\"content\":\"x\"}" },
		{ "message_read", "message_id", "{\"message_id\":",
		    ",\"sender_id\":\"s\"}" },
		{ "message_delivered", "sender_id",
		    "{\"message_id\":\"m\",\"sender_id\":", "}" },
		{ "join_room", "group_id", "{\"group_id\":", "}" },
		{ "delete_message", "receiver_id",
		    "{\"message_id\":\"m\",\"receiver_id\":", "}" },
	};
	char	text[256], msg[256];
	size_t	i, k;

	(void)state;
	for (k = 0; k < sizeof(where) / sizeof(where[0]); k++) {
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			snprintf(text, sizeof(text), "%s%s%s", where[k].pre,
			    bad[i].value, where[k].post);
			snprintf(msg, sizeof(msg), "%s: required " ID_RULE
			    ", got %s", where[k].field, bad[i].got);
			expect_error(where[k].event, text, bad[i].code, msg);
		}
	}
	/* Non-ASCII and spaces are fine. */
	expect_error("message_read", "{\"message_id\":\"m \\u00e9\"}",
	    "missing_field", "sender_id: required " ID_RULE ", got nothing");
	expect_error("message_read", "{\"sender_id\":\"s\"}",
	    "missing_field", "message_id: required " ID_RULE ", got nothing");
}

static void
test_rooms_events(void **state)
{
	struct events_event	 ev;
	struct events_error	 err;
	json_t			*j;

	(void)state;
	assert_int_equal(run("join_room", "{\"room\":\"chat:alice:bob\"}", 0,
	    &ev, &err, &j), 0);
	assert_int_equal(ev.type, EVENTS_JOIN_ROOM);
	expect_str(&ev.room, "chat:alice:bob");
	assert_int_equal(ev.ref.kind, ROOMNAME_CHAT);
	assert_int_equal(ev.ref.alen, 5);
	json_decref(j);

	assert_int_equal(run("leave_room", "{\"group_id\":77}", 0, &ev, &err,
	    &j), 0);
	assert_int_equal(ev.type, EVENTS_LEAVE_ROOM);
	expect_str(&ev.room, "group:77");
	expect_str(&ev.group_id, "77");
	assert_int_equal(ev.ref.kind, ROOMNAME_GROUP);
	assert_memory_equal(ev.ref.a, "77", 2);
	json_decref(j);

	/* Syntax only: who may join user:* is roomname_may_join()'s job. */
	assert_int_equal(run("join_room", "{\"room\":\"user:me\","
	    "\"group_id\":null}", 0, &ev, &err, &j), 0);
	assert_int_equal(ev.ref.kind, ROOMNAME_USER);
	json_decref(j);

	expect_error("join_room", "{}", "missing_field", "join_room: "
	    "exactly one of room or group_id is required, got neither");
	expect_error("leave_room", "{\"room\":\"group:1\",\"group_id\":\"1\"}",
	    "conflicting_fields", "leave_room: exactly one of room or "
	    "group_id is required, got both");
	expect_error("join_room", "{\"room\":5}", "invalid_field",
	    "room: required " ROOM ", got an integer");
	expect_error("join_room", "{\"room\":\"lobby\"}", "invalid_room",
	    "room: required " ROOM ", got an invalid name");
	expect_error("join_room", "{\"room\":\"chat:bob:alice\"}",
	    "invalid_room", "room: required " ROOM ", got an invalid name");
	expect_error("join_room", "{\"room\":\"chat:a:a\"}", "invalid_room",
	    "room: required " ROOM ", got an invalid name");
	expect_error("join_room", "{\"room\":\"\"}", "invalid_room",
	    "room: required " ROOM ", got an invalid name");
	expect_error("join_room", "{\"room\":\"group:a\\u0000\"}",
	    "invalid_room", "room: required " ROOM ", got an invalid name");
	expect_error("leave_room", "{\"group_id\":\"\"}", "invalid_field",
	    "group_id: required " ID_RULE ", got an empty string");
}

static void
test_typing(void **state)
{
	struct events_event	 ev;
	struct events_error	 err;
	json_t			*j;

	(void)state;
	assert_int_equal(run("typing", "{\"receiver_id\":\"b\"}", 0, &ev,
	    &err, &j), 0);
	expect_str(&ev.receiver_id, "b");
	json_decref(j);
	assert_int_equal(run("stop_typing", "{\"group_id\":\"g\","
	    "\"user_id\":\"spoof\"}", 0, &ev, &err, &j), 0);
	assert_int_equal(ev.type, EVENTS_STOP_TYPING);
	expect_str(&ev.group_id, "g");
	json_decref(j);
	expect_error("typing", "{}", "missing_field", "typing: exactly one "
	    "of receiver_id or group_id is required, got neither");
	expect_error("stop_typing", "{\"receiver_id\":\"a\",\"group_id\":1}",
	    "conflicting_fields", "stop_typing: exactly one of receiver_id "
	    "or group_id is required, got both");
}

static void
test_receipts(void **state)
{
	struct events_event	 ev;
	struct events_error	 err;
	json_t			*j;

	(void)state;
	assert_int_equal(run("message_read", "{\"message_id\":123,"
	    "\"sender_id\":456}", 0, &ev, &err, &j), 0);
	expect_str(&ev.message_id, "123");
	expect_str(&ev.sender_id, "456");
	json_decref(j);
	assert_int_equal(run("message_delivered", "{\"message_id\":\"m1\","
	    "\"sender_id\":\"alice\"}", 0, &ev, &err, &j), 0);
	assert_int_equal(ev.type, EVENTS_MESSAGE_DELIVERED);
	expect_str(&ev.sender_id, "alice");
	json_decref(j);

	assert_int_equal(run("message_read_status", "{\"message_id\":\"m\","
	    "\"sender_id\":\"s\",\"status\":\"read\"}", 0, &ev, &err, &j), 0);
	expect_str(&ev.status, "read");
	json_decref(j);
	assert_int_equal(run("message_read_status", "{\"message_id\":\"m\","
	    "\"sender_id\":\"s\",\"status\":\"delivered\"}", 0, &ev, &err,
	    &j), 0);
	expect_str(&ev.status, "delivered");
	json_decref(j);
	expect_error("message_read_status", "{\"message_id\":\"m\","
	    "\"sender_id\":\"s\"}", "missing_field",
	    "status: required, one of delivered, read, got nothing");
	expect_error("message_read_status", "{\"message_id\":\"m\","
	    "\"sender_id\":\"s\",\"status\":\"seen\"}", "invalid_status",
	    "status: required, one of delivered, read, got another string");
	expect_error("message_read_status", "{\"message_id\":\"m\","
	    "\"sender_id\":\"s\",\"status\":\"deleted\"}", "invalid_status",
	    "status: required, one of delivered, read, got another string");
	expect_error("message_read_status", "{\"message_id\":\"m\","
	    "\"sender_id\":\"s\",\"status\":true}", "invalid_field",
	    "status: required, one of delivered, read, got a boolean");
}

static void
test_delete(void **state)
{
	struct events_event	 ev;
	struct events_error	 err;
	json_t			*j;

	(void)state;
	assert_int_equal(run("delete_message", "{\"message_id\":\"m\","
	    "\"group_id\":\"g\"}", 0, &ev, &err, &j), 0);
	expect_str(&ev.message_id, "m");
	expect_str(&ev.group_id, "g");
	json_decref(j);
	expect_error("delete_message", "{\"receiver_id\":\"r\"}",
	    "missing_field", "message_id: required " ID_RULE ", got nothing");
	expect_error("delete_message", "{\"message_id\":\"m\"}",
	    "missing_field", "delete_message: exactly one of receiver_id or "
	    "group_id is required, got neither");
}

/* Every error message must fit its buffer whole. */
static void
test_message_fits(void **state)
{
	struct events_event	 ev;
	struct events_error	 err;
	json_t			*j;

	(void)state;
	assert_int_equal(run("send_message", "{\"receiver_id\":\"a\","
	    "\"content\":\"x\",\"message_type\":7}", 0, &ev, &err, &j), -1);
	assert_true(strlen(err.message) < sizeof(err.message) - 1);
	json_decref(j);
	assert_int_equal(run("delete_message", "{\"message_id\":\"m\","
	    "\"receiver_id\":1.5}", 0, &ev, &err, &j), -1);
	assert_true(strlen(err.message) < sizeof(err.message) - 1);
	json_decref(j);
}

static void
expect_json(json_t *got, const char *want)
{
	json_t	*w = load(want);
	char	*s;

	assert_non_null(got);
	if (!json_equal(got, w)) {
		s = json_dumps(got, JSON_SORT_KEYS);
		fail_msg("got %s, want %s", s, want);
	}
	json_decref(got);
	json_decref(w);
}

static void
test_encoders(void **state)
{
	struct events_message	m;
	json_t			*f;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.id = "m1";
	m.sender_id = "alice";
	m.receiver_id = "bob";
	m.content = "hi\0there";
	m.content_len = 8;
	m.message_type = "text";
	m.created_at = "2026-02-17T10:30:00.000Z";
	expect_json(events_message_json(&m), "{\"id\":\"m1\",\"sender_id\":"
	    "\"alice\",\"receiver_id\":\"bob\",\"content\":\"hi\\u0000there\","
	    "\"message_type\":\"text\",\"created_at\":"
	    "\"2026-02-17T10:30:00.000Z\"}");
	m.receiver_id = NULL;
	m.group_id = "g";
	m.client_msg_id = "c1";
	m.status = "queued";
	m.content_len = 2;
	expect_json(events_message_json(&m), "{\"id\":\"m1\",\"sender_id\":"
	    "\"alice\",\"group_id\":\"g\",\"content\":\"hi\","
	    "\"message_type\":\"text\",\"created_at\":"
	    "\"2026-02-17T10:30:00.000Z\",\"client_msg_id\":\"c1\","
	    "\"status\":\"queued\"}");
	m.receiver_id = "bob";
	assert_null(events_message_json(&m));	/* both targets */
	m.receiver_id = m.group_id = NULL;
	assert_null(events_message_json(&m));	/* neither */
	m.group_id = "g";
	m.content = "\xff";
	m.content_len = 1;
	assert_null(events_message_json(&m));	/* not UTF-8 */
	m.content = "x";
	m.created_at = NULL;
	assert_null(events_message_json(&m));

	expect_json(events_typing_json("a", "b", NULL),
	    "{\"user_id\":\"a\",\"receiver_id\":\"b\"}");
	expect_json(events_typing_json("a", NULL, "g"),
	    "{\"user_id\":\"a\",\"group_id\":\"g\"}");
	assert_null(events_typing_json("a", NULL, NULL));
	assert_null(events_typing_json("a", "b", "g"));
	assert_null(events_typing_json(NULL, "b", NULL));
	expect_json(events_read_receipt_json("m", "r", "t"),
	    "{\"message_id\":\"m\",\"reader_id\":\"r\",\"read_at\":\"t\"}");
	expect_json(events_status_update_json("m", "deleted", "u", "t"),
	    "{\"message_id\":\"m\",\"status\":\"deleted\",\"user_id\":\"u\","
	    "\"at\":\"t\"}");
	assert_null(events_status_update_json("m", NULL, "u", "t"));
	expect_json(events_user_json("u"), "{\"user_id\":\"u\"}");
	expect_json(events_connected_json("sid", "u"),
	    "{\"socket_id\":\"sid\",\"user_id\":\"u\"}");
	expect_json(events_error_json("invalid_field", "content: x",
	    "send_message", 12), "{\"code\":\"invalid_field\",\"message\":"
	    "\"content: x\",\"event\":\"send_message\"}");
	expect_json(events_error_json("unknown_event", "m", "a\0b", 3),
	    "{\"code\":\"unknown_event\",\"message\":\"m\",\"event\":"
	    "\"a\\u0000b\"}");
	expect_json(events_error_json("c", "m", "\xc3", 1),
	    "{\"code\":\"c\",\"message\":\"m\",\"event\":\"\"}");
	expect_json(events_error_json("c", "m", NULL, 0),
	    "{\"code\":\"c\",\"message\":\"m\",\"event\":\"\"}");

	expect_json(events_ack_ok(NULL), "{\"ok\":true}");
	f = json_pack("{s:s,s:b}", "message_id", "m1", "ok", 0);
	expect_json(events_ack_ok(f), "{\"ok\":true,\"message_id\":\"m1\"}");
	expect_json(events_ack_ok(json_string("ignored")), "{\"ok\":true}");
	expect_json(events_ack_error("invalid_room", "room: bad"),
	    "{\"ok\":false,\"error\":{\"code\":\"invalid_room\","
	    "\"message\":\"room: bad\"}}");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_unknown_and_payload),
		cmocka_unit_test(test_send_message),
		cmocka_unit_test(test_message_types),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_rooms_events),
		cmocka_unit_test(test_typing),
		cmocka_unit_test(test_receipts),
		cmocka_unit_test(test_delete),
		cmocka_unit_test(test_message_fits),
		cmocka_unit_test(test_encoders),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
