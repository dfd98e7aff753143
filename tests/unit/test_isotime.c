/*
 * test_isotime.c: ISO 8601 UTC with milliseconds (isotime.c), as
 * JavaScript's toISOString(): fixed instants, the range's ends, and
 * gmtime_r over random instants.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "isotime.h"

static void
test_format(void **state)
{
	char		 buf[ISOTIME_SIZE], want[64];
	struct tm	 tm;
	time_t		 t;
	int64_t		 ms;
	unsigned	 x = 1;
	int		 i;

	(void)state;
	assert_int_equal(isotime_format(0, buf), 0);
	assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
	assert_int_equal(isotime_format(INT64_C(1771324200000), buf), 0);
	assert_string_equal(buf, "2026-02-17T10:30:00.000Z");
	isotime_format(INT64_C(951782400123), buf);
	assert_string_equal(buf, "2000-02-29T00:00:00.123Z");
	isotime_format(INT64_C(1709251199999), buf);
	assert_string_equal(buf, "2024-02-29T23:59:59.999Z");
	isotime_format(INT64_C(4107542400000), buf);
	assert_string_equal(buf, "2100-03-01T00:00:00.000Z");
	assert_int_equal(isotime_format(INT64_C(253402300799999), buf), 0);
	assert_string_equal(buf, "9999-12-31T23:59:59.999Z");
	assert_int_equal(strlen(buf) + 1, ISOTIME_SIZE);
	assert_int_equal(isotime_format(INT64_C(253402300800000), buf), -1);
	assert_int_equal(isotime_format(-1, buf), -1);
	/* Against gmtime_r over random instants. */
	for (i = 0; i < 20000; i++) {
		x = x * 1103515245 + 12345;
		ms = (int64_t)x * 977 + (int64_t)(x >> 3) * 131072;
		ms %= INT64_C(253402300800000);
		t = (time_t)(ms / 1000);
		gmtime_r(&t, &tm);
		snprintf(want, sizeof(want),
		    "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
		    tm.tm_sec, (int)(ms % 1000));
		isotime_format(ms, buf);
		assert_string_equal(buf, want);
	}
}

static void
test_now(void **state)
{
	char	buf[ISOTIME_SIZE];
	int64_t	ms;

	(void)state;
	ms = isotime_now_ms();
	assert_true(ms > INT64_C(1700000000000));	/* after 2023 */
	isotime_now(buf);
	assert_int_equal(strlen(buf) + 1, ISOTIME_SIZE);
	assert_int_equal(buf[ISOTIME_SIZE - 2], 'Z');
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_now),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
