/*
 * test_evscan.c: evscan.c (issue 16): a Socket.IO event's name and first
 * argument picked out of its text in jsonlimit's one pass: the spans, the
 * decoded lengths and the string flags; and the scan's verdict on hostile
 * text the same as jsonlimit_scan()'s (depth, size, count, bad UTF-8,
 * NUL, bad escapes), so nothing the tree path refuses gets through.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "evscan.h"
#include "jsonlimit.h"

static const struct jsonlimit lim = { 0, 32, 10000, JSONLIMIT_ALLOW_NUL };

static int
scan(const char *text, struct evscan *ev)
{
	return (evscan_scan(text, strlen(text), &lim, ev));
}

/* The text of v, as a NUL-terminated copy (static: one at a time). */
static const char *
text(const struct evscan_value *v)
{
	static char	 buf[256];
	size_t		 n = (size_t)(v->end - v->start);

	assert_true(n < sizeof(buf));
	memcpy(buf, v->start, n);
	buf[n] = '\0';
	return (buf);
}

static void
test_fields(void **state)
{
	struct evscan	 ev;

	(void)state;
	assert_int_equal(scan(" [ \"send_message\" , {\"receiver_id\":\"bob\","
	    " \"content\" : \"hi\\n\", \"x\":[1,{\"y\":2}], \"n\":null} ,3]",
	    &ev), 0);
	assert_true(ev.array);
	assert_int_equal(ev.nelems, 3);
	assert_true(evscan_is(&ev.name, "send_message", 12));
	assert_false(evscan_is(&ev.name, "send_messag", 11));
	assert_int_equal(ev.arg.type, JSONLIMIT_T_OBJECT);
	assert_int_equal(ev.arg.start[0], '{');
	assert_int_equal(ev.arg.end[-1], '}');
	assert_int_equal(ev.nmembers, 4);
	assert_int_equal(ev.numbers, 3);
	assert_string_equal(text(&ev.member[0].key), "\"receiver_id\"");
	assert_string_equal(text(&ev.member[0].value), "\"bob\"");
	assert_int_equal(ev.member[0].value.len, 3);
	assert_string_equal(text(&ev.member[1].value), "\"hi\\n\"");
	assert_int_equal(ev.member[1].value.len, 3);
	assert_int_equal(ev.member[1].value.flags, JSONLIMIT_S_ESCAPED);
	assert_int_equal(ev.member[2].value.type, JSONLIMIT_T_ARRAY);
	assert_string_equal(text(&ev.member[2].value), "[1,{\"y\":2}]");
	assert_int_equal(ev.member[3].value.type, JSONLIMIT_T_LITERAL);
	assert_string_equal(text(&ev.member[3].value), "null");

	/* Not an object, not an array, empty containers. */
	assert_int_equal(scan("[\"a\",\"b\"]", &ev), 0);
	assert_int_equal(ev.arg.type, JSONLIMIT_T_STRING);
	assert_int_equal(ev.nmembers, 0);
	assert_int_equal(scan("{\"a\":1}", &ev), 0);
	assert_false(ev.array);
	assert_int_equal(ev.nelems, 0);
	assert_int_equal(scan("[\"a\",{}]", &ev), 0);
	assert_int_equal(ev.arg.type, JSONLIMIT_T_OBJECT);
	assert_string_equal(text(&ev.arg), "{}");
	assert_int_equal(scan("[[],{\"k\":{}}]", &ev), 0);
	assert_int_equal(ev.name.type, JSONLIMIT_T_ARRAY);
	assert_int_equal(ev.nmembers, 1);
	assert_string_equal(text(&ev.member[0].value), "{}");
	/* Members of a later element are not the argument's. */
	assert_int_equal(scan("[\"a\",1,{\"k\":\"v\"}]", &ev), 0);
	assert_int_equal(ev.nmembers, 0);
}

/* Decoded lengths and what JSON.stringify would have written. */
static void
test_strings(void **state)
{
	static const struct {
		const char	*json;
		size_t		 len;
		unsigned	 flags;
	} t[] = {
		{ "\"\"", 0, 0 },
		{ "\"abc\"", 3, 0 },
		{ "\"\xc3\xa9t\xc3\xa9\"", 5, 0 },
		{ "\"\\\"\\\\\\b\\f\\n\\r\\t\"", 7, JSONLIMIT_S_ESCAPED },
		{ "\"\\u001f\\u0001\"", 2, JSONLIMIT_S_ESCAPED },
		{ "\"\\u0000\"", 1, JSONLIMIT_S_ESCAPED | JSONLIMIT_S_NUL },
		{ "\"\\u001F\"", 1, JSONLIMIT_S_ESCAPED | JSONLIMIT_S_NONCANON },
		{ "\"\\u000a\"", 1, JSONLIMIT_S_ESCAPED | JSONLIMIT_S_NONCANON },
		{ "\"\\/\"", 1, JSONLIMIT_S_ESCAPED | JSONLIMIT_S_NONCANON },
		{ "\"\\u0041\"", 1, JSONLIMIT_S_ESCAPED | JSONLIMIT_S_NONCANON },
		{ "\"\\u00e9\"", 2, JSONLIMIT_S_ESCAPED | JSONLIMIT_S_NONCANON },
		{ "\"\\u20ac\"", 3, JSONLIMIT_S_ESCAPED | JSONLIMIT_S_NONCANON },
		{ "\"\\ud83d\\ude00\"", 4,
		    JSONLIMIT_S_ESCAPED | JSONLIMIT_S_NONCANON },
	};
	struct evscan	 ev;
	char		 buf[128];
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(buf, sizeof(buf), "[\"e\",{\"k\":%s}]", t[i].json);
		assert_int_equal(scan(buf, &ev), 0);
		assert_int_equal(ev.nmembers, 1);
		assert_int_equal(ev.member[0].value.len, t[i].len);
		assert_int_equal(ev.member[0].value.flags, t[i].flags);
		assert_string_equal(text(&ev.member[0].value), t[i].json);
	}
	/* A key's escapes are seen too (a key may spell a field's name). */
	assert_int_equal(scan("[\"e\",{\"\\u0063ontent\":\"x\"}]", &ev), 0);
	assert_int_equal(ev.member[0].key.len, 7);
	assert_true(ev.member[0].key.flags & JSONLIMIT_S_ESCAPED);
}

/* Past EVSCAN_MEMBERS, members are counted, not kept. */
static void
test_many(void **state)
{
	struct evscan	 ev;
	char		 buf[1024];
	size_t		 n, i;

	(void)state;
	n = (size_t)snprintf(buf, sizeof(buf), "[\"e\",{");
	for (i = 0; i < EVSCAN_MEMBERS + 4; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s\"k%zu\":"
		    "\"v%zu\"", i > 0 ? "," : "", i, i);
	snprintf(buf + n, sizeof(buf) - n, "}]");
	assert_int_equal(scan(buf, &ev), 0);
	assert_int_equal(ev.nmembers, EVSCAN_MEMBERS + 4);
	assert_string_equal(text(&ev.member[EVSCAN_MEMBERS - 1].value),
	    "\"v15\"");
}

/* Hostile text: the same verdict as jsonlimit_scan(), and as early. */
static void
test_hostile(void **state)
{
	static const char *const t[] = {
		"[\"send_message\",{\"content\":\"a\xff\"}]",
		"[\"send_message\",{\"content\":\"\xc0\xaf\"}]",
		"[\"send_message\",{\"content\":\"\xed\xa0\x80\"}]",
		"[\"send_message\",{\"content\":\"\\ud800\"}]",
		"[\"send_message\",{\"content\":\"\\udc00x\"}]",
		"[\"send_message\",{\"\\u0000\":\"x\"}]",
		"[\"send_message\",{\"content\":\"a\tb\"}]",
		"[\"send_message\",{\"content\":\"\\x\"}]",
		"[\"send_message\",{\"content\":\"abc}]",
		"[\"send_message\",{\"content\" \"abc\"}]",
		"[\"send_message\",{\"a\":1,\"a\":2}]",
		"[\"send_message\",{\"a\":01}]",
		"[\"send_message\",{}] x",
		"[\"send_message\",{},]",
		"",
	};
	struct jsonlimit_stat	 st;
	struct evscan		 ev;
	char			 deep[200], big[20101];
	size_t			 i;
	int			 rc;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		rc = jsonlimit_scan(t[i], strlen(t[i]), &lim, &st);
		assert_int_equal(scan(t[i], &ev), rc);
	}
	memset(deep, '[', sizeof(deep) - 1);
	deep[sizeof(deep) - 1] = '\0';
	assert_int_equal(scan(deep, &ev), JSONLIMIT_ERR_DEPTH);
	big[0] = '[';
	for (i = 1; i + 2 < sizeof(big); i += 2)
		memcpy(big + i, "1,", 2);
	big[i - 1] = ']';
	big[i] = '\0';
	assert_int_equal(scan(big, &ev), JSONLIMIT_ERR_ELEMENTS);
	/* A NUL escape in a value is allowed only by the limits' flag. */
	assert_int_equal(evscan_scan("[\"e\",\"\\u0000\"]", 14, NULL, &ev),
	    JSONLIMIT_ERR_STRING);
	assert_int_equal(scan("[\"e\",\"\\u0000\"]", &ev), 0);
	/* A raw NUL byte is a control character. */
	assert_int_equal(evscan_scan("[\"e\",\"a\0\"]", 9, &lim, &ev),
	    JSONLIMIT_ERR_STRING);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_hostile),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
