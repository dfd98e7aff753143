/*
 * Unit tests for jsonlimit.c: the validating pre-scan (syntax, strings,
 * limits at their boundaries) and the scan-then-jansson loader.  The
 * writer's tests are in test_jsonwrite.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "jsonlimit.h"

static int	scan(const char *, const struct jsonlimit *);
static char	*nested(unsigned, const char *, const char *);

static int
scan(const char *s, const struct jsonlimit *lim)
{
	return (jsonlimit_scan(s, strlen(s), lim, NULL));
}

/* n opening brackets, a core, n closing ones. */
static char *
nested(unsigned n, const char *open, const char *close)
{
	size_t	 lo = strlen(open), lc = strlen(close);
	char	*s, *p;
	unsigned i;

	s = p = malloc(n * (lo + lc) + 2);
	assert_non_null(s);
	for (i = 0; i < n; i++, p += lo)
		memcpy(p, open, lo);
	*p++ = '1';
	for (i = 0; i < n; i++, p += lc)
		memcpy(p, close, lc);
	*p = '\0';
	return (s);
}

static void
test_valid(void **state)
{
	static const char *const ok[] = {
		"0", "-0", "1", "-12.5e+3", "1E-2", "0.0", "true", "false",
		"null", "\"\"", "[]", "{}", " [ 1 , 2 ] ", "\t\r\n{}\n",
		"{\"a\":{\"b\":[null,true,{}]}}",
		"[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]",
		"\"\\u00e9\\uD83D\\uDE00\"",
		"\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"",
		"[[],[[]],{\"\":[]}]", "{\"a\":1,\"a\":2}", "\"\x7f\"",
		NULL
	};
	int	 i;

	(void)state;
	for (i = 0; ok[i] != NULL; i++) {
		if (scan(ok[i], NULL) != JSONLIMIT_OK)
			fail_msg("refused %s", ok[i]);
	}
}

static void
test_syntax(void **state)
{
	static const char *const bad[] = {
		"", " ", "[", "]", "[1,]", "[,1]", "{\"a\":1,}", "{,}", "01",
		"-", "-a", "1.", ".5", "1e", "1e+", "+1", "[1 2]", "{\"a\" 1}",
		"{1:2}", "{\"a\"}", "[}", "{]", "[1]]", "1 2", "tru", "truee",
		"nul", "True", "NaN", "Infinity", "'a'", "[1]x", "{\"a\":}",
		"\"abc", "[\"a\"", "0x10", "1.e5", "--1",
		NULL
	};
	int	 i, rc;

	(void)state;
	for (i = 0; bad[i] != NULL; i++) {
		rc = scan(bad[i], NULL);
		if (rc != JSONLIMIT_ERR_SYNTAX && rc != JSONLIMIT_ERR_STRING)
			fail_msg("%s: got %d", bad[i], rc);
	}
	assert_int_equal(jsonlimit_scan("1\0", 2, NULL, NULL),
	    JSONLIMIT_ERR_SYNTAX);
	assert_int_equal(jsonlimit_scan(NULL, 0, NULL, NULL),
	    JSONLIMIT_ERR_SYNTAX);
}

static void
test_strings(void **state)
{
	static const char *const bad[] = {
		"\"\\x\"", "\"\\u12\"", "\"\\u12g4\"", "\"\\uD800\"",
		"\"\\uDC00\"", "\"\\uD800\\u0041\"", "\"\\uD800x\"",
		"\"\\u0000\"", "\"a\tb\"", "\"\x01\"", "\"\xc0\x80\"",
		"\"\xc3\"", "\"\xe0\x80\x80\"", "\"\xed\xa0\x80\"",
		"\"\xf4\x90\x80\x80\"", "\"\xf5\x80\x80\x80\"", "\"\x80\"",
		"\"\xff\"", "\"\\", "{\"\\u0000\":1}",
		NULL
	};
	struct jsonlimit	 nul = { 0, 0, 0, JSONLIMIT_ALLOW_NUL };
	int			 i;

	(void)state;
	for (i = 0; bad[i] != NULL; i++) {
		if (scan(bad[i], NULL) != JSONLIMIT_ERR_STRING)
			fail_msg("accepted %s", bad[i]);
	}
	assert_int_equal(scan("\"a\\u0000b\"", &nul), JSONLIMIT_OK);
	assert_int_equal(scan("{\"a\":\"\\u0000\"}", &nul), JSONLIMIT_OK);
	/* jansson cannot hold a NUL in a key, flag or not. */
	assert_int_equal(scan("{\"\\u0000\":1}", &nul), JSONLIMIT_ERR_STRING);
	assert_int_equal(jsonlimit_scan("\"a\0b\"", 5, &nul, NULL),
	    JSONLIMIT_ERR_STRING);
}

static void
test_depth(void **state)
{
	struct jsonlimit	 lim = { 0, 3, 0, 0 };
	struct jsonlimit_stat	 st;
	char			*s;

	(void)state;
	assert_int_equal(scan("[[[1]]]", &lim), JSONLIMIT_OK);
	assert_int_equal(scan("[[[[1]]]]", &lim), JSONLIMIT_ERR_DEPTH);
	assert_int_equal(scan("{\"a\":[{}]}", &lim), JSONLIMIT_OK);
	assert_int_equal(scan("{\"a\":[{\"b\":[]}]}", &lim),
	    JSONLIMIT_ERR_DEPTH);
	assert_int_equal(scan("[[[]],[[]],[[]]]", &lim), JSONLIMIT_OK);
	lim.max_depth = 1;
	assert_int_equal(scan("1", &lim), JSONLIMIT_OK);
	assert_int_equal(scan("[]", &lim), JSONLIMIT_OK);
	assert_int_equal(scan("[[]]", &lim), JSONLIMIT_ERR_DEPTH);

	/* 0 means jansson's own limit, and more is clamped to it. */
	lim.max_depth = 0;
	s = nested(JSONLIMIT_DEPTH_MAX, "[", "]");
	assert_int_equal(jsonlimit_scan(s, strlen(s), &lim, &st),
	    JSONLIMIT_OK);
	assert_int_equal(st.depth, JSONLIMIT_DEPTH_MAX);
	free(s);
	s = nested(JSONLIMIT_DEPTH_MAX + 1, "{\"k\":", "}");
	assert_int_equal(scan(s, &lim), JSONLIMIT_ERR_DEPTH);
	lim.max_depth = 100000;
	assert_int_equal(scan(s, &lim), JSONLIMIT_ERR_DEPTH);
	free(s);

	/* The error offset points at the bracket too many. */
	lim.max_depth = 2;
	assert_int_equal(jsonlimit_scan("[[[", 3, &lim, &st),
	    JSONLIMIT_ERR_DEPTH);
	assert_int_equal(st.offset, 2);
}

static void
test_elements(void **state)
{
	struct jsonlimit	 lim = { 0, 0, 5, 0 };
	struct jsonlimit_stat	 st;

	(void)state;
	assert_int_equal(jsonlimit_scan("{\"a\":[1,2]}", 11, &lim, &st),
	    JSONLIMIT_OK);
	assert_int_equal(st.elements, 5);
	assert_int_equal(st.depth, 2);
	assert_int_equal(st.offset, 11);
	lim.max_elements = 4;
	assert_int_equal(scan("{\"a\":[1,2]}", &lim), JSONLIMIT_ERR_ELEMENTS);
	assert_int_equal(scan("[1,2,3,4]", &lim), JSONLIMIT_ERR_ELEMENTS);
	assert_int_equal(scan("[1,2,3]", &lim), JSONLIMIT_OK);
	assert_int_equal(scan("[[[[]]]]", &lim), JSONLIMIT_OK);
}

static void
test_bytes(void **state)
{
	struct jsonlimit	 lim = { 7, 0, 0, 0 };

	(void)state;
	assert_int_equal(scan("[1,2,3]", &lim), JSONLIMIT_OK);
	assert_int_equal(scan("[1,2,30]", &lim), JSONLIMIT_ERR_TOO_BIG);
	/* The size is refused before a byte is looked at. */
	assert_int_equal(scan("xxxxxxxx", &lim), JSONLIMIT_ERR_TOO_BIG);
}

static void
test_load(void **state)
{
	struct jsonlimit	 lim = { 0, 2, 0, JSONLIMIT_ALLOW_NUL };
	json_t			*j;

	(void)state;
	assert_int_equal(jsonlimit_load("[1,{\"a\":\"x\\u0000y\"}]", 20, &lim,
	    &j), JSONLIMIT_OK);
	assert_non_null(j);
	assert_int_equal(json_string_length(json_object_get(
	    json_array_get(j, 1), "a")), 3);
	json_decref(j);
	assert_int_equal(jsonlimit_load("[[[1]]]", 7, &lim, &j),
	    JSONLIMIT_ERR_DEPTH);
	assert_null(j);
	assert_int_equal(jsonlimit_load("99999999999999999999", 20, &lim, &j),
	    JSONLIMIT_ERR_NUMBER);
	assert_null(j);
	assert_int_equal(jsonlimit_load("[1e400]", 7, &lim, &j),
	    JSONLIMIT_ERR_NUMBER);
	assert_int_equal(jsonlimit_load("\"s\"", 3, NULL, &j), JSONLIMIT_OK);
	assert_string_equal(json_string_value(j), "s");
	json_decref(j);
	assert_int_equal(jsonlimit_load("\"\\u0000\"", 8, NULL, &j),
	    JSONLIMIT_ERR_STRING);
}

static void
test_strerror(void **state)
{
	int	 rc;

	(void)state;
	for (rc = JSONLIMIT_ERR_PARSE; rc <= JSONLIMIT_OK; rc++)
		assert_string_not_equal(jsonlimit_strerror(rc),
		    "unknown error");
	assert_string_equal(jsonlimit_strerror(-100), "unknown error");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_elements),
		cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_strerror),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
