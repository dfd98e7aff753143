/*
 * test_frame.c: frame.c's queue: outq_unshift (issue 16: a ping goes
 * before the frames queued) keeps the order of what was queued, whether
 * the ring is empty, full, wrapped around or grows afterwards; checked
 * against a model through random pushes, unshifts and shifts, with the
 * queue's bytes and the process's outq_total().
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "frame.h"

#define MODEL_MAX	4096

/* A frame of len bytes whose first byte is tag. */
static struct frame *
tagged(uint8_t tag, size_t len)
{
	struct frame	*f = frame_new(len, false);

	assert_non_null(f);
	memset(FRAME_DATA(f), tag, len);
	return f;
}

/* q holds the tags of want[0..n), in order, and their bytes. */
static void
same(const struct outq *q, const uint8_t *want, size_t n, size_t bytes)
{
	size_t	i;

	assert_int_equal(q->n, n);
	assert_int_equal(q->bytes, bytes);
	for (i = 0; i < n; i++)
		assert_int_equal(FRAME_DATA(outq_peek(q, (uint32_t)i))[0],
		    want[i]);
	assert_null(outq_peek(q, (uint32_t)n));
}

static void
test_unshift_first(void **state)
{
	struct outq	q = { 0 };
	uint8_t		want[] = { 'p', 'a', 'b', 'c' };

	(void)state;
	assert_int_equal(outq_push(&q, tagged('a', 10)), 0);
	assert_int_equal(outq_push(&q, tagged('b', 20)), 0);
	assert_int_equal(outq_push(&q, tagged('c', 30)), 0);
	assert_int_equal(outq_unshift(&q, tagged('p', 1)), 0);
	/* The ring was 3 of 4: the ping took the last slot, before head. */
	assert_int_equal(q.cap, 4);
	same(&q, want, 4, 61);
	assert_int_equal(outq_total(), 61);
	outq_clear(&q);
	assert_int_equal(outq_total(), 0);
}

static void
test_unshift_empty_and_grow(void **state)
{
	struct outq	 q = { 0 };
	struct frame	*f;
	uint8_t		 want[] = { 'q', 'p', 'a', 'b', 'c', 'd', 'e' };

	(void)state;
	assert_int_equal(outq_unshift(&q, tagged('p', 1)), 0);
	assert_int_equal(outq_unshift(&q, tagged('q', 1)), 0);
	assert_int_equal(outq_push(&q, tagged('a', 1)), 0);
	assert_int_equal(outq_push(&q, tagged('b', 1)), 0);
	/* Full (4 of 4) and wrapped: growing must keep the order. */
	assert_int_equal(outq_push(&q, tagged('c', 1)), 0);
	assert_int_equal(outq_push(&q, tagged('d', 1)), 0);
	assert_int_equal(outq_push(&q, tagged('e', 1)), 0);
	same(&q, want, 7, 7);
	f = outq_shift(&q);
	assert_int_equal(FRAME_DATA(f)[0], 'q');
	frame_unref(f);
	same(&q, want + 1, 6, 6);
	outq_clear(&q);
	assert_int_equal(outq_total(), 0);
}

/* Random operations against an array model of the queue. */
static void
test_model(void **state)
{
	struct outq	 q = { 0 };
	struct frame	*f;
	uint8_t		*m;
	size_t		 n = 0, bytes = 0, len, i;
	unsigned	 seed = 16;
	int		 op, step;

	(void)state;
	m = malloc(MODEL_MAX);
	assert_non_null(m);
	for (step = 0; step < 20000; step++) {
		op = rand_r(&seed) % 5;
		len = 1 + (size_t)(rand_r(&seed) % 50);
		if ((op <= 1 || n == 0) && n < MODEL_MAX) {	/* push */
			assert_int_equal(outq_push(&q, tagged(
			    (uint8_t)step, len)), 0);
			m[n++] = (uint8_t)step;
			bytes += len;
		} else if (op == 2 && n < MODEL_MAX) {	/* unshift */
			assert_int_equal(outq_unshift(&q, tagged(
			    (uint8_t)step, len)), 0);
			memmove(m + 1, m, n++);
			m[0] = (uint8_t)step;
			bytes += len;
		} else {				/* shift */
			f = outq_shift(&q);
			assert_non_null(f);
			assert_int_equal(FRAME_DATA(f)[0], m[0]);
			bytes -= f->len;
			frame_unref(f);
			memmove(m, m + 1, --n);
		}
		if (step % 97 == 0)
			same(&q, m, n, bytes);
		assert_int_equal(outq_total(), bytes);
	}
	for (i = 0; i < n; i++)
		assert_int_equal(FRAME_DATA(outq_peek(&q, (uint32_t)i))[0],
		    m[i]);
	outq_clear(&q);
	assert_int_equal(outq_total(), 0);
	free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unshift_first),
		cmocka_unit_test(test_unshift_empty_and_grow),
		cmocka_unit_test(test_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
