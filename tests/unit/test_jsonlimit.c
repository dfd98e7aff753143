/*
 * Unit tests for jsonlimit.c: the validating pre-scan (syntax, strings,
 * limits at their boundaries), the scan-then-jansson loader, and the
 * JSON.stringify()-identical writer.
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
static void	 check_dump(const char *, const char *);

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
check_dump(const char *in, const char *want)
{
	json_t	*j;
	char	 buf[256];
	size_t	 n;

	assert_int_equal(jsonlimit_load(in, strlen(in), NULL, &j),
	    JSONLIMIT_OK);
	n = jsonlimit_dump(j, buf, sizeof(buf));
	json_decref(j);
	assert_int_equal(n, strlen(want));
	assert_string_equal(buf, want);
}

/* What JSON.stringify(JSON.parse(in)) gives in Node.js. */
static void
test_dump_js(void **state)
{
	(void)state;
	check_dump("[0.1,1.0,-0.0,1e21,1e20,1e-7,0.000001,123e-20]",
	    "[0.1,1,0,1e+21,100000000000000000000,1e-7,0.000001,1.23e-18]");
	check_dump("[1.5e300,-2.5,3.14159,5e-324,1.7976931348623157e308]",
	    "[1.5e+300,-2.5,3.14159,5e-324,1.7976931348623157e+308]");
	check_dump("[0.30000000000000004,123456789012.5,-1e-7,1.25e21]",
	    "[0.30000000000000004,123456789012.5,-1e-7,1.25e+21]");
	check_dump("[9007199254740993,-9223372036854775808,0,-0]",
	    "[9007199254740993,-9223372036854775808,0,0]");
	check_dump(" { \"b\" : 1 , \"a\" : [ true , false , null , { } ,"
	    " [ ] ] } ",
	    "{\"b\":1,\"a\":[true,false,null,{},[]]}");
	check_dump("\"\\u0001\\u001F\\b\\f\\n\\r\\t\\\"\\\\\\/\\u007f\\u2028\"",
	    "\"\\u0001\\u001f\\b\\f\\n\\r\\t\\\"\\\\/\x7f\xe2\x80\xa8\"");
	check_dump("\"\\u00e9\\ud83d\\ude00\"", "\"\xc3\xa9\xf0\x9f\x98\x80\"");
	check_dump("{\"\\n\":\"\"}", "{\"\\n\":\"\"}");
}

static void
test_dump_cap(void **state)
{
	json_t	*j = json_pack("{s:[i,s]}", "key", 42, "v");
	char	 buf[32];
	size_t	 n;

	(void)state;
	n = jsonlimit_dump(j, NULL, 0);
	assert_int_equal(n, strlen("{\"key\":[42,\"v\"]}"));
	memset(buf, 'X', sizeof(buf));
	assert_int_equal(jsonlimit_dump(j, buf, 5), n);
	assert_memory_equal(buf, "{\"key", 5);
	assert_int_equal(buf[5], 'X');
	/* Exactly n bytes fit, but not the NUL. */
	memset(buf, 'X', sizeof(buf));
	assert_int_equal(jsonlimit_dump(j, buf, n), n);
	assert_int_equal(buf[n], 'X');
	assert_int_equal(jsonlimit_dump(j, buf, n + 1), n);
	assert_string_equal(buf, "{\"key\":[42,\"v\"]}");
	json_decref(j);
	assert_int_equal(jsonlimit_dump(NULL, buf, sizeof(buf)), 0);
}

/* Strings from C may hold anything: the output stays valid UTF-8. */
static void
test_dump_string(void **state)
{
	char	 buf[64];

	(void)state;
	assert_int_equal(jsonlimit_dump_string("a\xff" "b\xc3", 4, buf,
	    sizeof(buf)), 10);
	assert_string_equal(buf, "\"a\xef\xbf\xbd" "b\xef\xbf\xbd\"");
	assert_int_equal(jsonlimit_dump_string("a\0b", 3, buf, sizeof(buf)),
	    10);
	assert_string_equal(buf, "\"a\\u0000b\"");
	assert_true(jsonlimit_utf8_valid(buf, strlen(buf)));
	assert_true(jsonlimit_utf8_valid("\xf0\x9f\x98\x80", 4));
	assert_false(jsonlimit_utf8_valid("\xf0\x9f\x98", 3));
	assert_false(jsonlimit_utf8_valid("\xed\xb0\x80", 3));
}

/* A cycle is refused, not followed forever. */
static void
test_dump_cycle(void **state)
{
	json_t	*a = json_array(), *b = json_array();
	char	 buf[16];

	(void)state;
	json_array_append(a, b);
	json_array_append(b, a);
	assert_int_equal(jsonlimit_dump(a, buf, sizeof(buf)), 0);
	json_array_clear(b);
	json_decref(b);
	json_decref(a);
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
		cmocka_unit_test(test_dump_js),
		cmocka_unit_test(test_dump_cap),
		cmocka_unit_test(test_dump_string),
		cmocka_unit_test(test_dump_cycle),
		cmocka_unit_test(test_strerror),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
