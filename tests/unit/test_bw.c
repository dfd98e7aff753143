/*
 * test_bw.c: the bounded writer (bw.c): it never writes past the buffer,
 * counts what did not fit as snprintf(3) does, and says so.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bw.h"

static void
test_fits(void **state)
{
	char		 buf[32];
	struct bw	 w;

	(void)state;
	bw_init(&w, buf, sizeof(buf));
	bw_puts(&w, "STATUS=");
	bw_printf(&w, "%d workers", 4);
	bw_putc(&w, '.');
	bw_append(&w, "", 0);
	assert_false(bw_truncated(&w));
	assert_int_equal(bw_finish(&w), strlen("STATUS=4 workers."));
	assert_string_equal(buf, "STATUS=4 workers.");
	assert_int_equal(bw_room(&w), sizeof(buf) - w.len);
	assert_ptr_equal(bw_tail(&w), buf + w.len);
}

static void
test_truncates(void **state)
{
	char		 buf[8 + 4];
	struct bw	 w;

	(void)state;
	memset(buf, '#', sizeof(buf));
	bw_init(&w, buf, 8);
	bw_append(&w, "abcdef", 6);
	bw_append(&w, "ghijkl", 6);	/* two fit */
	assert_true(bw_truncated(&w));
	assert_int_equal(w.len, 12);	/* counted all the same */
	assert_memory_equal(buf, "abcdefgh", 8);
	assert_memory_equal(buf + 8, "####", 4);	/* never past cap */
	assert_int_equal(bw_room(&w), 0);
	assert_null(bw_tail(&w));
	bw_putc(&w, 'x');
	bw_printf(&w, "%s", "more");
	assert_int_equal(w.len, 17);
	assert_int_equal(bw_finish(&w), 17);	/* no room for a NUL */
	assert_memory_equal(buf + 8, "####", 4);
	/* Exactly full: the text fits, its NUL does not. */
	bw_init(&w, buf, 8);
	bw_append(&w, "12345678", 8);
	assert_true(bw_truncated(&w));
	bw_init(&w, buf, 8);
	bw_append(&w, "1234567", 7);
	assert_false(bw_truncated(&w));
	bw_finish(&w);
	assert_string_equal(buf, "1234567");
}

static void
test_printf_cut(void **state)
{
	char		 buf[8 + 4];
	struct bw	 w;
	size_t		 mark;

	(void)state;
	memset(buf, '#', sizeof(buf));
	bw_init(&w, buf, 8);
	bw_printf(&w, "%s", "abc");
	mark = w.len;
	bw_printf(&w, ",\"%s\":%d", "key", 12345);
	assert_true(bw_truncated(&w));
	assert_int_equal(w.len, 3 + strlen(",\"key\":12345"));
	assert_memory_equal(buf, "abc,\"ke", 7);
	assert_int_equal(buf[7], '\0');	/* vsnprintf's NUL at the end */
	assert_memory_equal(buf + 8, "####", 4);
	w.len = mark;			/* drop the field that did not fit */
	assert_false(bw_truncated(&w));
	bw_finish(&w);
	assert_string_equal(buf, "abc");
}

static void
test_count_only(void **state)
{
	struct bw	 w;

	(void)state;
	bw_init(&w, NULL, 100);		/* no buffer: only count */
	assert_int_equal(w.cap, 0);
	bw_puts(&w, "hello");
	bw_printf(&w, " %d", 42);
	bw_advance(&w, 3);
	assert_int_equal(bw_finish(&w), 11);
	assert_true(bw_truncated(&w));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fits),
		cmocka_unit_test(test_truncates),
		cmocka_unit_test(test_printf_cut),
		cmocka_unit_test(test_count_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
