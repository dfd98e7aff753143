/*
 * test_breaker.c: breaker.c, the circuit breaker of issue 13 ("Resilience"):
 * every transition (closed -> open by the failure rate and by failures in
 * a row, open -> half-open after the open time, half-open -> closed on the
 * trial's success and -> open for twice as long on its failure, up to the
 * cap), the rolling window forgetting old answers, min_calls, late answers,
 * a lost trial, and the counters /metrics shows.  Time is played in ms.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "breaker.h"

/* A breaker with the defaults: 50 %, 10 s, 20 calls, 5 in a row, 30 s, 5 m. */
static void
fresh(struct breaker *b)
{
	struct breaker_conf	c;

	breaker_defaults(&c);
	breaker_init(b, &c);
}

/* One call at now, answered at once; returns its verdict. */
static enum breaker_verdict
call(struct breaker *b, int64_t now, int ok)
{
	enum breaker_verdict	v;

	v = breaker_allow(b, now);
	if (v != BREAKER_REJECT)
		breaker_record(b, now, v, ok);
	return v;
}

/* Answers that alternate, failure first, so that no two fail in a row. */
static void
alternate(struct breaker *b, int64_t now, int n)
{
	int	i;

	for (i = 0; i < n; i++)
		assert_int_equal(call(b, now, i % 2), BREAKER_ALLOW);
}

/* Opened by five failures in a row at t. */
static void
trip_at(struct breaker *b, int64_t t)
{
	int	i;

	for (i = 0; i < 5; i++)
		call(b, t, 0);
	assert_int_equal(breaker_state(b), BREAKER_OPEN);
}

static void
test_defaults(void **state)
{
	struct breaker_conf	c;
	struct breaker		b;

	(void)state;
	breaker_defaults(&c);
	assert_int_equal(c.failure_rate, 50);
	assert_int_equal(c.window, 10000);
	assert_int_equal(c.min_calls, 20);
	assert_int_equal(c.consecutive, 5);
	assert_int_equal(c.cooldown, 30000);
	assert_int_equal(c.max_cooldown, 300000);
	breaker_init(&b, &c);
	assert_int_equal(breaker_state(&b), BREAKER_CLOSED);
	assert_int_equal(breaker_next_trial(&b), -1);
	assert_int_equal(b.width, 1000);
	assert_string_equal(breaker_state_name(BREAKER_CLOSED), "closed");
	assert_string_equal(breaker_state_name(BREAKER_OPEN), "open");
	assert_string_equal(breaker_state_name(BREAKER_HALF_OPEN),
	    "half_open");
	/* A closed breaker lets everything through. */
	assert_int_equal(breaker_allow(&b, 0), BREAKER_ALLOW);
	assert_int_equal(breaker_allow(&b, 1), BREAKER_ALLOW);
}

/* Closed -> open after 5 failures in a row; a success starts them over. */
static void
test_consecutive(void **state)
{
	struct breaker	b;
	int		i;

	(void)state;
	fresh(&b);
	for (i = 0; i < 4; i++)
		call(&b, 1000 + i, 0);
	assert_int_equal(breaker_state(&b), BREAKER_CLOSED);
	call(&b, 1010, 1);
	for (i = 0; i < 4; i++)
		call(&b, 1020 + i, 0);
	assert_int_equal(breaker_state(&b), BREAKER_CLOSED);
	call(&b, 1030, 0);
	assert_int_equal(breaker_state(&b), BREAKER_OPEN);
	assert_int_equal(b.openings, 1);
	assert_int_equal(breaker_next_trial(&b), 1030 + 30000);
	/* Open: refused at once, and counted. */
	assert_int_equal(breaker_allow(&b, 1031), BREAKER_REJECT);
	assert_int_equal(breaker_allow(&b, 20000), BREAKER_REJECT);
	assert_int_equal(b.rejections, 2);
}

/* Closed -> open at 50 % of at least 20 answers in the window. */
static void
test_rate(void **state)
{
	struct breaker	b;

	(void)state;
	/* 10 failures of 20, the last answer a success: exactly 50 %. */
	fresh(&b);
	alternate(&b, 5000, 19);
	assert_int_equal(breaker_state(&b), BREAKER_CLOSED);
	call(&b, 5000, 1);
	assert_int_equal(breaker_state(&b), BREAKER_OPEN);
	assert_int_equal(b.calls, 20);
	assert_int_equal(b.failures, 10);

	/* 9 of 20 is below; 10 of 21 too; 11 of 22 is 50 % again. */
	fresh(&b);
	alternate(&b, 5000, 18);		/* 9 of 18 */
	call(&b, 5000, 1);
	call(&b, 5000, 1);			/* 9 of 20 */
	assert_int_equal(breaker_state(&b), BREAKER_CLOSED);
	call(&b, 5000, 0);			/* 10 of 21 */
	assert_int_equal(breaker_state(&b), BREAKER_CLOSED);
	call(&b, 5000, 0);			/* 11 of 22 */
	assert_int_equal(breaker_state(&b), BREAKER_OPEN);
	assert_int_equal(b.openings, 1);
}

/* Below min_calls no rate opens it, however bad. */
static void
test_min_calls(void **state)
{
	struct breaker_conf	c;
	struct breaker		b;
	int			i;

	(void)state;
	breaker_defaults(&c);
	c.consecutive = 1000;		/* only the rate may open it */
	breaker_init(&b, &c);
	for (i = 0; i < 19; i++)
		call(&b, 100 * i, 0);
	assert_int_equal(breaker_state(&b), BREAKER_CLOSED);
	call(&b, 1900, 0);
	assert_int_equal(breaker_state(&b), BREAKER_OPEN);

	/* min_calls 1 and 100 %: the first failure opens it. */
	c.min_calls = 1;
	c.failure_rate = 100;
	breaker_init(&b, &c);
	call(&b, 0, 1);
	assert_int_equal(breaker_state(&b), BREAKER_CLOSED);
	call(&b, 0, 0);
	assert_int_equal(breaker_state(&b), BREAKER_CLOSED);	/* 1 of 2 */
	breaker_init(&b, &c);
	call(&b, 0, 0);
	assert_int_equal(breaker_state(&b), BREAKER_OPEN);
}

/* The window is the last 10 buckets of 1 s; older answers are forgotten. */
static void
test_window_forgets(void **state)
{
	struct breaker	b;
	uint64_t	calls, failures;

	(void)state;
	fresh(&b);
	alternate(&b, 0, 18);			/* 9 failures of 18 at t=0 */
	breaker_window(&b, 0, &calls, &failures);
	assert_int_equal(calls, 18);
	assert_int_equal(failures, 9);
	/* Still in the window at 9.999 s, gone at 10 s. */
	breaker_window(&b, 9999, &calls, &failures);
	assert_int_equal(calls, 18);
	breaker_window(&b, 10000, &calls, &failures);
	assert_int_equal(calls, 0);
	assert_int_equal(failures, 0);

	/*
	 * Four more at 10.5 s: with the old 18 they would make 11 of 22, but
	 * those are gone, so 2 of 4 is below min_calls.
	 */
	alternate(&b, 10500, 4);
	assert_int_equal(breaker_state(&b), BREAKER_CLOSED);
	breaker_window(&b, 10500, &calls, &failures);
	assert_int_equal(calls, 4);
	assert_int_equal(failures, 2);

	/* Spread over the window, they all count: 1 s apart, 22 answers. */
	fresh(&b);
	alternate(&b, 0, 2);
	alternate(&b, 1000, 2);
	alternate(&b, 2000, 2);
	alternate(&b, 3000, 2);
	alternate(&b, 4000, 2);
	alternate(&b, 5000, 2);
	alternate(&b, 6000, 2);
	alternate(&b, 7000, 2);
	alternate(&b, 8000, 2);
	breaker_window(&b, 9000, &calls, &failures);
	assert_int_equal(calls, 18);
	alternate(&b, 9000, 1);			/* 10 of 19 */
	assert_int_equal(breaker_state(&b), BREAKER_CLOSED);
	/* At 10 s the bucket of 0 s is reused: 9 of 18 left, and 1 more. */
	call(&b, 10000, 1);
	breaker_window(&b, 10000, &calls, &failures);
	assert_int_equal(calls, 18);
	assert_int_equal(failures, 9);
	assert_int_equal(breaker_state(&b), BREAKER_CLOSED);
	call(&b, 10000, 0);
	call(&b, 10000, 1);			/* 10 of 20 */
	assert_int_equal(breaker_state(&b), BREAKER_OPEN);

	/* A long silence: every bucket is stale. */
	fresh(&b);
	alternate(&b, 0, 19);
	breaker_window(&b, 3600000, &calls, &failures);
	assert_int_equal(calls, 0);
	call(&b, 3600000, 0);
	assert_int_equal(breaker_state(&b), BREAKER_CLOSED);
}

/* Open -> half-open after the open time: one trial, the rest refused. */
static void
test_half_open(void **state)
{
	struct breaker	b;

	(void)state;
	fresh(&b);
	trip_at(&b, 1000);
	assert_int_equal(breaker_allow(&b, 1000 + 29999), BREAKER_REJECT);
	assert_int_equal(breaker_state(&b), BREAKER_OPEN);
	assert_int_equal(breaker_allow(&b, 1000 + 30000), BREAKER_TRIAL);
	assert_int_equal(breaker_state(&b), BREAKER_HALF_OPEN);
	assert_int_equal(breaker_next_trial(&b), -1);
	/* While the trial is out, nothing else goes. */
	assert_int_equal(breaker_allow(&b, 1000 + 30001), BREAKER_REJECT);
	assert_int_equal(breaker_allow(&b, 1000 + 40000), BREAKER_REJECT);
	assert_int_equal(b.rejections, 3);
}

/* Half-open -> closed on the trial's success; the history is gone. */
static void
test_trial_success(void **state)
{
	struct breaker	b;
	uint64_t	calls, failures;
	int		i;

	(void)state;
	fresh(&b);
	trip_at(&b, 0);
	assert_int_equal(breaker_allow(&b, 30000), BREAKER_TRIAL);
	breaker_record(&b, 30100, BREAKER_TRIAL, 1);
	assert_int_equal(breaker_state(&b), BREAKER_CLOSED);
	breaker_window(&b, 30100, &calls, &failures);
	assert_int_equal(calls, 0);
	assert_int_equal(breaker_allow(&b, 30101), BREAKER_ALLOW);
	/* Failures in a row start from zero. */
	for (i = 0; i < 4; i++)
		call(&b, 30200, 0);
	assert_int_equal(breaker_state(&b), BREAKER_CLOSED);
	call(&b, 30200, 0);
	assert_int_equal(breaker_state(&b), BREAKER_OPEN);
	/* And the open time is back at 30 s. */
	assert_int_equal(breaker_next_trial(&b), 30200 + 30000);
}

/*
 * Half-open -> open on the trial's failure, for twice as long each time:
 * 30 s, 60, 120, 240, then the 5 minute cap; a success resets it.
 */
static void
test_trial_failure_doubles(void **state)
{
	static const int64_t	 want[] = { 60000, 120000, 240000, 300000,
	    300000, 300000 };
	struct breaker		 b;
	int64_t			 t = 0;
	size_t			 i;

	(void)state;
	fresh(&b);
	trip_at(&b, t);
	t = breaker_next_trial(&b);
	assert_int_equal(t, 30000);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(breaker_allow(&b, t - 1), BREAKER_REJECT);
		assert_int_equal(breaker_allow(&b, t), BREAKER_TRIAL);
		breaker_record(&b, t + 50, BREAKER_TRIAL, 0);
		assert_int_equal(breaker_state(&b), BREAKER_OPEN);
		assert_int_equal(breaker_next_trial(&b), t + 50 + want[i]);
		t = breaker_next_trial(&b);
	}
	assert_int_equal(b.openings, 1 + 6);
	assert_int_equal(breaker_allow(&b, t), BREAKER_TRIAL);
	breaker_record(&b, t, BREAKER_TRIAL, 1);
	assert_int_equal(breaker_state(&b), BREAKER_CLOSED);
	trip_at(&b, t + 1);
	assert_int_equal(breaker_next_trial(&b), t + 1 + 30000);
	/* The first re-opening after that doubles from 30 s again. */
	t = breaker_next_trial(&b);
	assert_int_equal(breaker_allow(&b, t), BREAKER_TRIAL);
	breaker_record(&b, t, BREAKER_TRIAL, 0);
	assert_int_equal(breaker_next_trial(&b), t + 60000);
}

/*
 * Answers to calls made before the breaker opened count in the counters
 * but decide nothing: a late failure does not prolong the open time, a
 * late success does not close a half-open breaker.
 */
static void
test_late_answers(void **state)
{
	struct breaker	b;
	uint64_t	calls, failures;
	int		i;

	(void)state;
	fresh(&b);
	for (i = 0; i < 3; i++)
		assert_int_equal(breaker_allow(&b, 0), BREAKER_ALLOW);
	trip_at(&b, 10);
	breaker_record(&b, 5000, BREAKER_ALLOW, 0);
	assert_int_equal(breaker_state(&b), BREAKER_OPEN);
	assert_int_equal(breaker_next_trial(&b), 10 + 30000);
	assert_int_equal(b.openings, 1);
	assert_int_equal(breaker_allow(&b, 30010), BREAKER_TRIAL);
	breaker_record(&b, 30020, BREAKER_ALLOW, 1);
	assert_int_equal(breaker_state(&b), BREAKER_HALF_OPEN);
	breaker_record(&b, 30030, BREAKER_ALLOW, 0);
	assert_int_equal(breaker_state(&b), BREAKER_HALF_OPEN);
	assert_int_equal(b.calls, 5 + 3);
	assert_int_equal(b.failures, 5 + 2);
	/* The trial decides. */
	breaker_record(&b, 30040, BREAKER_TRIAL, 1);
	assert_int_equal(breaker_state(&b), BREAKER_CLOSED);
	breaker_window(&b, 30040, &calls, &failures);
	assert_int_equal(calls, 0);
	/* A refused call has no answer to record: it changes nothing. */
	breaker_record(&b, 30050, BREAKER_REJECT, 0);
	assert_int_equal(b.calls, 9);
}

/*
 * A trial whose answer never comes (the caller dropped it) is taken as
 * lost after a whole open time, and the next call is the trial.
 */
static void
test_lost_trial(void **state)
{
	struct breaker	b;

	(void)state;
	fresh(&b);
	trip_at(&b, 0);
	assert_int_equal(breaker_allow(&b, 30000), BREAKER_TRIAL);
	assert_int_equal(breaker_allow(&b, 59999), BREAKER_REJECT);
	assert_int_equal(breaker_allow(&b, 60000), BREAKER_TRIAL);
	assert_int_equal(breaker_state(&b), BREAKER_HALF_OPEN);
	breaker_record(&b, 60100, BREAKER_TRIAL, 1);
	assert_int_equal(breaker_state(&b), BREAKER_CLOSED);
	/* The first trial's answer, late, counts as a closed answer. */
	breaker_record(&b, 60200, BREAKER_TRIAL, 0);
	assert_int_equal(breaker_state(&b), BREAKER_CLOSED);
	assert_int_equal(b.in_row, 1);
}

/* Every threshold comes from the settings. */
static void
test_settings(void **state)
{
	struct breaker_conf	c;
	struct breaker		b;
	int64_t			t;

	(void)state;
	c.failure_rate = 20;
	c.window = 1000;		/* 10 buckets of 100 ms */
	c.min_calls = 5;
	c.consecutive = 3;
	c.cooldown = 100;
	c.max_cooldown = 250;
	breaker_init(&b, &c);
	assert_int_equal(b.width, 100);
	/* 1 failure of 5 is 20 %. */
	call(&b, 0, 1);
	call(&b, 0, 1);
	call(&b, 0, 1);
	call(&b, 0, 0);
	assert_int_equal(breaker_state(&b), BREAKER_CLOSED);
	call(&b, 0, 1);
	assert_int_equal(breaker_state(&b), BREAKER_OPEN);
	assert_int_equal(breaker_next_trial(&b), 100);
	/* 100 ms, 200, then the 250 cap. */
	t = 100;
	assert_int_equal(breaker_allow(&b, t), BREAKER_TRIAL);
	breaker_record(&b, t, BREAKER_TRIAL, 0);
	assert_int_equal(breaker_next_trial(&b), t + 200);
	t += 200;
	assert_int_equal(breaker_allow(&b, t), BREAKER_TRIAL);
	breaker_record(&b, t, BREAKER_TRIAL, 0);
	assert_int_equal(breaker_next_trial(&b), t + 250);
	t += 250;
	assert_int_equal(breaker_allow(&b, t), BREAKER_TRIAL);
	breaker_record(&b, t, BREAKER_TRIAL, 1);
	/* 3 in a row, below min_calls. */
	assert_int_equal(breaker_state(&b), BREAKER_CLOSED);
	call(&b, t, 0);
	call(&b, t, 0);
	assert_int_equal(breaker_state(&b), BREAKER_CLOSED);
	call(&b, t, 0);
	assert_int_equal(breaker_state(&b), BREAKER_OPEN);
	assert_int_equal(breaker_next_trial(&b), t + 100);
	/* The window of 1 s forgets in 1 s: 2 of 6 would open it. */
	breaker_init(&b, &c);
	call(&b, 0, 0);
	call(&b, 0, 0);
	call(&b, 1000, 1);
	call(&b, 1000, 1);
	call(&b, 1000, 1);
	call(&b, 1000, 1);
	call(&b, 1000, 1);
	assert_int_equal(breaker_state(&b), BREAKER_CLOSED);	/* 0 of 5 */
}

/* Nonsense settings are brought into range: no division by zero. */
static void
test_init_clamps(void **state)
{
	struct breaker_conf	c;
	struct breaker		b;

	(void)state;
	memset(&c, 0, sizeof(c));
	breaker_init(&b, &c);
	assert_int_equal(b.width, 1);
	assert_int_equal(b.conf.consecutive, 1);
	assert_int_equal(b.conf.min_calls, 1);
	assert_int_equal(b.conf.failure_rate, 1);
	call(&b, 0, 0);
	assert_int_equal(breaker_state(&b), BREAKER_OPEN);
	assert_int_equal(breaker_allow(&b, 1), BREAKER_TRIAL);
	breaker_record(&b, 1, BREAKER_TRIAL, 0);
	assert_int_equal(breaker_next_trial(&b), 2);	/* max = cooldown */
	c.failure_rate = 1000;
	c.max_cooldown = 5;
	c.cooldown = 10;
	breaker_init(&b, &c);
	assert_int_equal(b.conf.failure_rate, 100);
	assert_int_equal(b.conf.max_cooldown, 10);
	assert_string_equal(breaker_state_name((enum breaker_state)3),
	    "unknown");
}

/* The counters /metrics shows, over a whole story. */
static void
test_counters(void **state)
{
	struct breaker	b;

	(void)state;
	fresh(&b);
	alternate(&b, 0, 10);			/* 10 calls, 5 failures */
	trip_at(&b, 100);			/* 5 calls, 5 failures */
	breaker_allow(&b, 200);
	breaker_allow(&b, 300);			/* 2 rejections */
	call(&b, 30100, 0);			/* trial fails: reopens */
	call(&b, 30200, 1);			/* rejected */
	call(&b, 90100, 1);			/* trial succeeds */
	assert_int_equal(b.calls, 17);
	assert_int_equal(b.failures, 11);
	assert_int_equal(b.rejections, 3);
	assert_int_equal(b.openings, 2);
	assert_int_equal(breaker_state(&b), BREAKER_CLOSED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_consecutive),
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_min_calls),
		cmocka_unit_test(test_window_forgets),
		cmocka_unit_test(test_half_open),
		cmocka_unit_test(test_trial_success),
		cmocka_unit_test(test_trial_failure_doubles),
		cmocka_unit_test(test_late_answers),
		cmocka_unit_test(test_lost_trial),
		cmocka_unit_test(test_settings),
		cmocka_unit_test(test_init_clamps),
		cmocka_unit_test(test_counters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
