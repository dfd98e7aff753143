/*
 * test_buf.c: the growing byte buffer (buf.c): appends that grow it, the
 * maximum a caller gives, printf, consuming from the front and giving the
 * memory back.
 */

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"

static void
test_append(void **state)
{
	struct buf	 b = { NULL, 0, 0 };
	uint8_t		 chunk[1000];
	size_t		 i;

	(void)state;
	assert_int_equal(buf_append(&b, "", 0), 0);
	assert_null(b.p);
	for (i = 0; i < sizeof(chunk); i++)
		chunk[i] = (uint8_t)i;
	for (i = 0; i < 100; i++)
		assert_int_equal(buf_append(&b, chunk, sizeof(chunk)), 0);
	assert_int_equal(b.len, 100 * sizeof(chunk));
	assert_true(b.cap >= b.len);
	for (i = 0; i < 100; i++)
		assert_memory_equal(b.p + i * sizeof(chunk), chunk,
		    sizeof(chunk));
	buf_free(&b);
	assert_null(b.p);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
}

static void
test_reserve_max(void **state)
{
	struct buf	 b = { NULL, 0, 0 };

	(void)state;
	assert_int_equal(buf_reserve(&b, 100, 1000), 0);
	assert_true(b.cap >= 100 && b.cap <= 1000);
	b.len = 900;
	assert_int_equal(buf_reserve(&b, 100, 1000), 0);
	assert_int_equal(b.cap, 1000);		/* clamped at the maximum */
	errno = 0;
	assert_int_equal(buf_reserve(&b, 101, 1000), -1);
	assert_int_equal(errno, EMSGSIZE);
	assert_int_equal(b.cap, 1000);
	assert_int_equal(b.len, 900);
	errno = 0;
	assert_int_equal(buf_reserve(&b, SIZE_MAX, BUF_NOMAX), -1);
	assert_int_equal(errno, EMSGSIZE);
	/* Room already there: nothing moves. */
	b.len = 0;
	assert_int_equal(buf_reserve(&b, 1000, 1000), 0);
	assert_int_equal(b.cap, 1000);
	buf_free(&b);
}

static void
test_printf(void **state)
{
	struct buf	 b = { NULL, 0, 0 };
	char		 want[64];
	int		 i;

	(void)state;
	assert_int_equal(buf_printf(&b, "%s", ""), 0);
	assert_int_equal(b.len, 0);
	for (i = 0; i < 1000; i++)
		assert_int_equal(buf_printf(&b, "line %d\n", i), 0);
	assert_true(b.len < b.cap);	/* room for a NUL after it */
	b.p[b.len] = '\0';
	assert_memory_equal(b.p, "line 0\nline 1\n", 14);
	snprintf(want, sizeof(want), "line %d\n", 999);
	assert_string_equal((char *)b.p + b.len - strlen(want), want);
	/* One piece bigger than the whole buffer. */
	memset(want, 'x', sizeof(want) - 1);
	want[sizeof(want) - 1] = '\0';
	buf_free(&b);
	for (i = 0; i < 20; i++)
		assert_int_equal(buf_printf(&b, "%s", want), 0);
	assert_int_equal(b.len, 20 * (sizeof(want) - 1));
	buf_free(&b);
}

static void
test_consume_release(void **state)
{
	struct buf	 b = { NULL, 0, 0 };

	(void)state;
	assert_int_equal(buf_append(&b, "abcdef", 6), 0);
	buf_consume(&b, 2);
	assert_int_equal(b.len, 4);
	assert_memory_equal(b.p, "cdef", 4);
	buf_consume(&b, 4);
	assert_int_equal(b.len, 0);
	buf_release(&b, 1 << 20);	/* small: kept */
	assert_non_null(b.p);
	assert_int_equal(buf_reserve(&b, 100000, BUF_NOMAX), 0);
	buf_release(&b, 65536);		/* big and empty: given back */
	assert_null(b.p);
	assert_int_equal(b.cap, 0);
	assert_int_equal(buf_append(&b, "x", 1), 0);
	buf_release(&b, 0);		/* not empty: kept */
	assert_non_null(b.p);
	buf_free(&b);
	buf_free(&b);			/* twice is harmless */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append),
		cmocka_unit_test(test_reserve_max),
		cmocka_unit_test(test_printf),
		cmocka_unit_test(test_consume_release),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
