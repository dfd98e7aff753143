/*
 * Unit tests for jsonwrite.c: the JSON.stringify()-identical writer
 * (numbers, escapes, short buffers, invalid UTF-8 from C, cycles).  The
 * input side is test_jsonlimit.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "jsonlimit.h"
#include "jsonwrite.h"

static void	 check_dump(const char *, const char *);

static void
check_dump(const char *in, const char *want)
{
	json_t	*j;
	char	 buf[256];
	size_t	 n;

	assert_int_equal(jsonlimit_load(in, strlen(in), NULL, &j),
	    JSONLIMIT_OK);
	n = jsonwrite_dump(j, buf, sizeof(buf));
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
	n = jsonwrite_dump(j, NULL, 0);
	assert_int_equal(n, strlen("{\"key\":[42,\"v\"]}"));
	memset(buf, 'X', sizeof(buf));
	assert_int_equal(jsonwrite_dump(j, buf, 5), n);
	assert_memory_equal(buf, "{\"key", 5);
	assert_int_equal(buf[5], 'X');
	/* Exactly n bytes fit, but not the NUL. */
	memset(buf, 'X', sizeof(buf));
	assert_int_equal(jsonwrite_dump(j, buf, n), n);
	assert_int_equal(buf[n], 'X');
	assert_int_equal(jsonwrite_dump(j, buf, n + 1), n);
	assert_string_equal(buf, "{\"key\":[42,\"v\"]}");
	json_decref(j);
	assert_int_equal(jsonwrite_dump(NULL, buf, sizeof(buf)), 0);
}

/* Strings from C may hold anything: the output stays valid UTF-8. */
static void
test_dump_string(void **state)
{
	char	 buf[64];

	(void)state;
	assert_int_equal(jsonwrite_string("a\xff" "b\xc3", 4, buf,
	    sizeof(buf)), 10);
	assert_string_equal(buf, "\"a\xef\xbf\xbd" "b\xef\xbf\xbd\"");
	assert_int_equal(jsonwrite_string("a\0b", 3, buf, sizeof(buf)),
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
	assert_int_equal(jsonwrite_dump(a, buf, sizeof(buf)), 0);
	json_array_clear(b);
	json_decref(b);
	json_decref(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dump_js),
		cmocka_unit_test(test_dump_cap),
		cmocka_unit_test(test_dump_string),
		cmocka_unit_test(test_dump_cycle),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
