/*
 * test_backoff.c: backoff.c, the retry policy of issue 13 ("Resilience"):
 * only calls that are safe to repeat, at most 3 tries; full jitter
 * random(0, min(cap, base * 2^n)) within its bounds and even over many
 * draws; and the retry budget, at most 20 % of calls plus a small burst.
 */

#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backoff.h"

/* xorshift32: the same draws on every run. */
static uint32_t
next(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void
test_defaults(void **state)
{
	struct backoff_conf	c;

	(void)state;
	backoff_defaults(&c);
	assert_int_equal(c.base, 100);
	assert_int_equal(c.cap, 2000);
	assert_int_equal(c.tries, 3);
	assert_int_equal(c.budget, 20);
	assert_int_equal(c.burst, 10);
}

/* Only an idempotent call is retried, and 3 tries is the most. */
static void
test_may_retry(void **state)
{
	struct backoff_conf	c;

	(void)state;
	backoff_defaults(&c);
	assert_false(backoff_may_retry(&c, false, 1));
	assert_false(backoff_may_retry(&c, false, 0));
	assert_true(backoff_may_retry(&c, true, 1));
	assert_true(backoff_may_retry(&c, true, 2));
	assert_false(backoff_may_retry(&c, true, 3));
	assert_false(backoff_may_retry(&c, true, 4));
	c.tries = 1;			/* service_retries 0 */
	assert_false(backoff_may_retry(&c, true, 1));
	c.tries = 11;
	assert_true(backoff_may_retry(&c, true, 10));
	assert_false(backoff_may_retry(&c, true, 11));
}

/* The ends of the range: 0 and min(cap, base * 2^n), no overflow. */
static void
test_delay_bounds(void **state)
{
	static const long long	 want[] = { 100, 200, 400, 800, 1600, 2000,
	    2000, 2000 };
	struct backoff_conf	 c;
	size_t			 n;

	(void)state;
	backoff_defaults(&c);
	for (n = 0; n < sizeof(want) / sizeof(want[0]); n++) {
		assert_int_equal(backoff_delay(&c, n, 0), 0);
		assert_int_equal(backoff_delay(&c, n, UINT32_MAX), want[n]);
		assert_int_equal(backoff_delay(&c, n, 0x80000000u),
		    (want[n] + 1) / 2);
	}
	assert_int_equal(backoff_delay(&c, 62, UINT32_MAX), 2000);
	assert_int_equal(backoff_delay(&c, LLONG_MAX, UINT32_MAX), 2000);
	assert_int_equal(backoff_delay(&c, -1, UINT32_MAX), 100);
	/* A cap below the base wins; a zero base means no wait. */
	c.cap = 50;
	assert_int_equal(backoff_delay(&c, 0, UINT32_MAX), 50);
	c.base = 0;
	assert_int_equal(backoff_delay(&c, 5, UINT32_MAX), 0);
	/* The largest settings the configuration allows. */
	c.base = 60000;
	c.cap = 600000;
	assert_int_equal(backoff_delay(&c, 40, UINT32_MAX), 600000);
}

/*
 * Many draws: each within [0, ceiling], both ends reached, and spread
 * evenly (full jitter, not "half the ceiling plus jitter"): each tenth of
 * the range holds 10 % of 100000 draws, give or take 1 %.
 */
static void
test_delay_spread(void **state)
{
	struct backoff_conf	c;
	uint32_t		s = 2463534242u;
	long long		d, n, lo, hi, ceiling;
	int			bins[10], i, j;
	double			sum;

	(void)state;
	backoff_defaults(&c);
	for (n = 0; n < 8; n++) {
		ceiling = n < 5 ? 100LL << n : 2000;
		memset(bins, 0, sizeof(bins));
		lo = LLONG_MAX;
		hi = -1;
		sum = 0;
		for (i = 0; i < 100000; i++) {
			d = backoff_delay(&c, n, next(&s));
			assert_true(d >= 0 && d <= ceiling);
			lo = d < lo ? d : lo;
			hi = d > hi ? d : hi;
			sum += d;
			j = (int)(d * 10 / (ceiling + 1));
			bins[j]++;
		}
		assert_int_equal(lo, 0);
		assert_int_equal(hi, ceiling);
		assert_true(sum / 100000 > ceiling * 0.49 &&
		    sum / 100000 < ceiling * 0.51);
		for (j = 0; j < 10; j++)
			assert_true(bins[j] > 9000 && bins[j] < 11000);
	}
}

/* A new budget lets a burst of 10 retries go, then 1 per 4 calls. */
static void
test_budget_burst(void **state)
{
	struct backoff_conf	c;
	struct backoff_budget	b;
	int			i;

	(void)state;
	backoff_defaults(&c);
	backoff_budget_init(&b, &c);
	for (i = 0; i < 10; i++)
		assert_true(backoff_budget_retry(&b));
	assert_false(backoff_budget_retry(&b));
	for (i = 0; i < 3; i++)
		backoff_budget_call(&b);
	assert_false(backoff_budget_retry(&b));
	backoff_budget_call(&b);
	assert_true(backoff_budget_retry(&b));		/* 4 calls, 1 retry */
	assert_false(backoff_budget_retry(&b));
	assert_int_equal(b.calls, 4);
	assert_int_equal(b.retries, 11);
	assert_int_equal(b.refused, 3);

	/* A long calm saves up no more than the burst. */
	for (i = 0; i < 100000; i++)
		backoff_budget_call(&b);
	for (i = 0; i < 10; i++)
		assert_true(backoff_budget_retry(&b));
	assert_false(backoff_budget_retry(&b));
}

/*
 * A storm: a service that fails every call, each call wanting its 2
 * retries.  Of 10000 calls, the retries are 20 % of all tries, plus the
 * burst: 10000 first tries earn 2500 retries.
 */
static void
test_budget_storm(void **state)
{
	struct backoff_conf	c;
	struct backoff_budget	b;
	long long		tries = 0, retries = 0, made;
	int			i;

	(void)state;
	backoff_defaults(&c);
	backoff_budget_init(&b, &c);
	for (i = 0; i < 10000; i++) {
		backoff_budget_call(&b);
		tries++;
		for (made = 1; backoff_may_retry(&c, true, made) &&
		    backoff_budget_retry(&b); made++) {
			tries++;
			retries++;
		}
	}
	assert_true(retries <= 2500 + 10);
	assert_true(retries >= 2500);
	assert_true(retries * 100 <= 20 * tries + 10 * 100);
	assert_int_equal(b.retries, retries);
	assert_int_equal(b.calls, 10000);
	/* Every call wanted 2 retries: at most retries / 2 had both. */
	assert_true((long long)b.refused >= 10000 - retries / 2);

	/* In the long run the ratio is the budget: 20 %, within 0.1 %. */
	for (i = 0; i < 1000000; i++) {
		backoff_budget_call(&b);
		tries++;
		if (backoff_budget_retry(&b)) {
			tries++;
			retries++;
		}
	}
	assert_true(retries * 1000 <= 201 * tries);
	assert_true(retries * 1000 >= 199 * tries);
}

/* 0 % turns retries off, burst and all; 100 % never refuses. */
static void
test_budget_ends(void **state)
{
	struct backoff_conf	c;
	struct backoff_budget	b;
	int			i;

	(void)state;
	backoff_defaults(&c);
	c.budget = 0;
	backoff_budget_init(&b, &c);
	for (i = 0; i < 100; i++)
		backoff_budget_call(&b);
	assert_false(backoff_budget_retry(&b));
	assert_int_equal(b.refused, 1);
	c.budget = 100;
	backoff_budget_init(&b, &c);
	for (i = 0; i < 1000; i++)
		assert_true(backoff_budget_retry(&b));
	/* 50 % and no burst: a retry per call, none saved up. */
	c.budget = 50;
	c.burst = 0;
	backoff_budget_init(&b, &c);
	assert_false(backoff_budget_retry(&b));
	backoff_budget_call(&b);
	assert_true(backoff_budget_retry(&b));
	assert_false(backoff_budget_retry(&b));
	backoff_budget_call(&b);
	backoff_budget_call(&b);
	assert_true(backoff_budget_retry(&b));
	assert_false(backoff_budget_retry(&b));
	/* Out of range settings are clamped. */
	c.budget = 150;
	c.burst = -3;
	backoff_budget_init(&b, &c);
	assert_int_equal(b.percent, 100);
	assert_true(backoff_budget_retry(&b));
	c.budget = -1;
	backoff_budget_init(&b, &c);
	assert_int_equal(b.percent, 0);
	assert_false(backoff_budget_retry(&b));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_may_retry),
		cmocka_unit_test(test_delay_bounds),
		cmocka_unit_test(test_delay_spread),
		cmocka_unit_test(test_budget_burst),
		cmocka_unit_test(test_budget_storm),
		cmocka_unit_test(test_budget_ends),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
