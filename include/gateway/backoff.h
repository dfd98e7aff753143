/*
 * backoff: when a failed downstream call is tried again (issue 13,
 * "Resilience").  Pure C: no I/O, no clock, no logging; the randomness
 * comes in as a value, so that a test can choose it.
 *
 *	retries		only for a call that is safe to repeat (a GET, or a
 *			POST made idempotent by its key, the message id), and
 *			at most `tries` tries in all, the first one included
 *			(resilience4j's maxAttempts).
 *	delay		full jitter (AWS, "Exponential Backoff And Jitter"):
 *			random(0, min(cap, base * 2^n)) ms before retry n,
 *			n = 0 for the first retry.
 *	budget		at most `budget` % of the calls to a service are
 *			retries (Envoy's and Finagle's retry budgets), so that
 *			retries cannot multiply the load on a service that is
 *			already failing.  A token bucket: see backoff.c.
 */
#ifndef SGW_BACKOFF_H
#define SGW_BACKOFF_H

#include <stdbool.h>
#include <stdint.h>

/* The policy, one configuration key each but burst (conf_table.c). */
struct backoff_conf {
	long long	 base;		/* ms */
	long long	 cap;		/* ms, the longest delay */
	long long	 tries;		/* at most, the first one included */
	long long	 budget;	/* percent of calls that may be retries */
	long long	 burst;		/* retries the budget can save up */
};

/* The defaults of the issue: 100 ms, 2 s, 3 tries, 20 %; burst 10. */
#define BACKOFF_BASE		100
#define BACKOFF_CAP		2000
#define BACKOFF_TRIES		3
#define BACKOFF_BUDGET		20
#define BACKOFF_BURST		10

/* A service's retry budget. */
struct backoff_budget {
	long long	 percent;	/* budget, 0..100 */
	long long	 balance;	/* in 1/100 of a call: see backoff.c */
	long long	 limit;		/* the most balance may hold */
	uint64_t	 calls;		/* first tries */
	uint64_t	 retries;	/* retries the budget let go */
	uint64_t	 refused;	/* retries it refused */
};

/* backoff.c */
void		 backoff_defaults(struct backoff_conf *);
bool		 backoff_may_retry(const struct backoff_conf *, bool,
		     long long);
long long	 backoff_delay(const struct backoff_conf *, long long,
		     uint32_t);
void		 backoff_budget_init(struct backoff_budget *,
		     const struct backoff_conf *);
void		 backoff_budget_call(struct backoff_budget *);
bool		 backoff_budget_retry(struct backoff_budget *);

#endif /* SGW_BACKOFF_H */
