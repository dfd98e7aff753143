/*
 * test_msgsplice.c: msgsplice.c (issue 16): a send_message taken from its
 * scan only when events_parse() takes it with the same fields, and the
 * message it writes byte for byte the one events_message_json() and
 * jsonwrite_dump() write (the tree path), with and without its status;
 * everything unusual left to events_parse(), whose errors stay the same.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "events.h"
#include "evscan.h"
#include "jsonlimit.h"
#include "jsonwrite.h"
#include "msgsplice.h"

static const struct jsonlimit lim = { 0, 32, 10000, JSONLIMIT_ALLOW_NUL };

#define SENDER	"al\"ice\\\xc3\xa9"

/* The tree path: jansson, events_parse(), the builder, the writer. */
static size_t
tree(const char *text, size_t len, size_t max, const char *status,
    char *out, size_t cap)
{
	struct events_event	 ev;
	struct events_error	 err;
	struct events_message	 m;
	json_t			*j, *o;
	size_t			 n = 0;

	j = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	assert_non_null(j);
	assert_int_equal(events_parse(json_string_value(json_array_get(j, 0)),
	    json_string_length(json_array_get(j, 0)), json_array_get(j, 1),
	    max, &ev, &err), 0);
	memset(&m, 0, sizeof(m));
	m.id = "ID";
	m.sender_id = SENDER;
	m.receiver_id = ev.receiver_id.ptr;
	m.content = ev.content.ptr;
	m.content_len = ev.content.len;
	m.message_type = ev.message_type.ptr;
	m.created_at = "2026-12-07T00:00:00.000Z";
	m.client_msg_id = ev.client_msg_id.ptr;
	m.status = status;
	if ((o = events_message_json(&m)) != NULL)
		n = jsonwrite_dump(o, out, cap);
	json_decref(o);
	json_decref(j);
	return (n);
}

/* Taken, and written as the tree path writes it. */
static void
same(const char *text, size_t max)
{
	struct evscan		 ev;
	struct msgsplice	 m;
	char			 a[4096], b[4096];
	size_t			 len = strlen(text), n;
	const char		*status[] = { NULL, "sent" };
	int			 i;

	assert_int_equal(evscan_scan(text, len, &lim, &ev), 0);
	if (msgsplice_parse(&ev, max, &m) != 0)
		fail_msg("declined: %s", text);
	for (i = 0; i < 2; i++) {
		n = msgsplice_json(&m, "ID", SENDER, strlen(SENDER),
		    "2026-12-07T00:00:00.000Z", status[i], a, sizeof(a));
		assert_true(n < sizeof(a));
		assert_int_equal(tree(text, len, max, status[i], b, sizeof(b)),
		    n);
		assert_memory_equal(a, b, n);
	}
	/* Too small: counted, then written whole with the room it asked. */
	n = msgsplice_json(&m, "ID", SENDER, strlen(SENDER),
	    "2026-12-07T00:00:00.000Z", NULL, a, 10);
	assert_true(n >= 10);
	assert_int_equal(msgsplice_json(&m, "ID", SENDER, strlen(SENDER),
	    "2026-12-07T00:00:00.000Z", NULL, a, n + 1), n);
	assert_int_equal(a[n], '\0');
}

/* Left to events_parse(). */
static void
declined(const char *text, size_t max)
{
	struct evscan		 ev;
	struct msgsplice	 m;

	assert_int_equal(evscan_scan(text, strlen(text), &lim, &ev), 0);
	if (msgsplice_parse(&ev, max, &m) == 0)
		fail_msg("taken: %s", text);
}

static void
test_taken(void **state)
{
	(void)state;
	same("[\"send_message\",{\"receiver_id\":\"bob\",\"content\":\"hi\"}]",
	    0);
	same("[\"send_message\",{\"content\":\"hi\",\"receiver_id\":\"bob\","
	    "\"message_type\":\"image\",\"client_msg_id\":\"c-1\"}]", 0);
	same("[\"send_message\",{\"receiver_id\":\"b\xc3\xb6" "b\",\"content\":"
	    "\"\\\"q\\\" \\\\ \\b\\f\\n\\r\\t \\u0000\\u001f \xe2\x82\xac\","
	    "\"sender_id\":\"mallory\",\"extra\":[true,{\"a\":null}]}]", 0);
	same("[\"send_message\",{\"receiver_id\":\"bob\",\"group_id\":null,"
	    "\"content\":\"x\",\"message_type\":null,\"client_msg_id\":null}]",
	    0);
	same(" [ \"send_message\" , { \"receiver_id\" : \"bob\" , \"content\""
	    " : \"x\" } , \"more\" ] ", 0);
	same("[\"send_message\",{\"receiver_id\":\"bob\",\"content\":\"abcd\"}]",
	    4);
	same("[\"send_message\",{\"receiver_id\":\"b\",\"content\":"
	    "\"\x7f\"}]", 0);
}

static void
test_declined(void **state)
{
	char	 buf[2048];
	size_t	 n, i;

	(void)state;
	/* Not a direct message, or not this event. */
	declined("[\"send_message\",{\"group_id\":\"g\",\"content\":\"x\"}]",
	    0);
	declined("[\"send_group_message\",{\"group_id\":\"g\",\"content\":"
	    "\"x\"}]", 0);
	declined("[\"typing\",{\"receiver_id\":\"bob\"}]", 0);
	declined("[\"send\\u005fmessage\",{\"receiver_id\":\"b\",\"content\":"
	    "\"x\"}]", 0);
	declined("[\"send_message\"]", 0);
	declined("[\"send_message\",[\"receiver_id\",\"content\"]]", 0);
	declined("{\"send_message\":{}}", 0);
	/* Refused by events_parse: it says why. */
	declined("[\"send_message\",{\"receiver_id\":\"b\"}]", 0);
	declined("[\"send_message\",{\"content\":\"x\"}]", 0);
	declined("[\"send_message\",{\"receiver_id\":\"\",\"content\":\"x\"}]",
	    0);
	declined("[\"send_message\",{\"receiver_id\":\"a:b\",\"content\":"
	    "\"x\"}]", 0);
	declined("[\"send_message\",{\"receiver_id\":\"b\x7f\",\"content\":"
	    "\"x\"}]", 0);
	declined("[\"send_message\",{\"receiver_id\":\"b\",\"content\":\"\"}]",
	    0);
	declined("[\"send_message\",{\"receiver_id\":\"b\",\"content\":"
	    "\"abcde\"}]", 4);
	declined("[\"send_message\",{\"receiver_id\":\"b\",\"content\":7}]", 0);
	declined("[\"send_message\",{\"receiver_id\":\"b\",\"content\":\"x\","
	    "\"message_type\":\"TEXT\"}]", 0);
	declined("[\"send_message\",{\"receiver_id\":\"b\",\"content\":\"x\","
	    "\"client_msg_id\":\"\"}]", 0);
	declined("[\"send_message\",{\"receiver_id\":\"b\",\"content\":\"x\","
	    "\"client_msg_id\":\"a\\u0000\"}]", 0);
	declined("[\"send_message\",{\"receiver_id\":\"b\",\"content\":\"x\","
	    "\"client_msg_id\":true}]", 0);
	/* Fine, but not as JSON.stringify writes it, or ambiguous. */
	declined("[\"send_message\",{\"receiver_id\":7,\"content\":\"x\"}]", 0);
	declined("[\"send_message\",{\"receiver_id\":\"b\",\"content\":\"x\","
	    "\"n\":1.5}]", 0);
	declined("[\"send_message\",{\"receiver_id\":\"b\\u0062\",\"content\":"
	    "\"x\"}]", 0);
	declined("[\"send_message\",{\"receiver_id\":\"b\",\"content\":"
	    "\"\\u00e9\"}]", 0);
	declined("[\"send_message\",{\"receiver_id\":\"b\",\"content\":"
	    "\"a\\/b\"}]", 0);
	declined("[\"send_message\",{\"receiver_id\":\"b\",\"content\":\"x\","
	    "\"content\":\"y\"}]", 0);
	declined("[\"send_message\",{\"receiver_id\":\"b\",\"\\u0063ontent\":"
	    "\"x\"}]", 0);
	declined("[\"send_message\",{\"receiver_id\":\"b\",\"content\":\"x\","
	    "\"client_msg_id\":\"a\\nb\"}]", 0);
	/* More members than the scan keeps. */
	n = (size_t)snprintf(buf, sizeof(buf), "[\"send_message\",{"
	    "\"receiver_id\":\"b\",\"content\":\"x\"");
	for (i = 0; i < EVSCAN_MEMBERS; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, ",\"k%zu\":\"v\"",
		    i);
	snprintf(buf + n, sizeof(buf) - n, "}]");
	declined(buf, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_taken),
		cmocka_unit_test(test_declined),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
