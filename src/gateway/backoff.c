/*
 * backoff: which failed calls are tried again, after how long, and the
 * retry budget that bounds them (backoff.h).  Pure: the caller brings the
 * random bits; nothing here reads a clock, logs or allocates.
 *
 * Why the budget is a token bucket and not a rolling ratio: the rule "at
 * most p % of calls are retries" is R <= p/100 * (F + R) for F first tries
 * and R retries, that is R * (100 - p) <= F * p.  A bucket that each first
 * try fills by p and each retry empties by 100 - p keeps exactly that, in
 * integers, with two numbers of memory and no clock: nothing to age out,
 * and nothing for a caller to get wrong about time (gRPC's retry
 * throttling and Finagle's RetryBudget are buckets too).  A rolling ratio
 * would need a window of buckets like the breaker's, and would forget the
 * retries of a storm that began just before the window.
 *
 * The bucket holds at most `burst` retries' worth and starts full: a
 * service called rarely, or a gateway just started, can still retry a few
 * calls (Envoy's min_retry_concurrency and Finagle's minRetriesPerSec exist
 * for the same reason), while a long calm spell cannot save up enough to
 * let a storm of retries through.  Over any stretch of calls, retries are
 * at most p % of them plus `burst`.
 */
#include "backoff.h"

/* The policy, which the configuration keys default to. */
void
backoff_defaults(struct backoff_conf *c)
{
	c->base = BACKOFF_BASE;
	c->cap = BACKOFF_CAP;
	c->tries = BACKOFF_TRIES;
	c->budget = BACKOFF_BUDGET;
	c->burst = BACKOFF_BURST;
}

/*
 * May a call that failed after `made` tries be tried again?  Only if it is
 * safe to repeat (idempotent: a GET, or a POST carrying its idempotency
 * key) and it has not had its tries.  The budget is asked separately, last,
 * because asking it spends it.
 */
bool
backoff_may_retry(const struct backoff_conf *c, bool idempotent,
    long long made)
{
	return idempotent && made < c->tries;
}

/*
 * The wait before retry n (0 for the first retry), in ms: full jitter,
 * uniform over 0..min(cap, base * 2^n), both ends included.  r is 32
 * random bits (randpool_get()); (ceiling + 1) * r / 2^32 maps them onto
 * the range evenly, without floating point and without the modulo's bias
 * towards small delays.  The doubling stops at the cap, so a large n cannot
 * overflow.
 */
long long
backoff_delay(const struct backoff_conf *c, long long n, uint32_t r)
{
	long long	ceiling = c->base;

	if (ceiling <= 0)
		return 0;
	while (n-- > 0 && ceiling < c->cap)
		ceiling *= 2;
	if (ceiling > c->cap)
		ceiling = c->cap;
	if (ceiling <= 0)
		return 0;
	return (long long)(((uint64_t)ceiling + 1) * r >> 32);
}

/*
 * A full budget for one service: burst retries' worth, and room for at
 * least one retry, so that a burst of 0 still lets retries go as the calls
 * earn them.
 */
void
backoff_budget_init(struct backoff_budget *b, const struct backoff_conf *c)
{
	b->percent = c->budget;
	if (b->percent < 0)
		b->percent = 0;
	if (b->percent > 100)
		b->percent = 100;
	b->balance = (c->burst > 0 ? c->burst : 0) * (100 - b->percent);
	b->limit = (c->burst > 1 ? c->burst : 1) * (100 - b->percent);
	b->calls = 0;
	b->retries = 0;
	b->refused = 0;
}

/* A first try went out: it earns the budget p/100 of a retry. */
void
backoff_budget_call(struct backoff_budget *b)
{
	b->calls++;
	b->balance += b->percent;
	if (b->balance > b->limit)
		b->balance = b->limit;
}

/*
 * May a retry go out?  If so it is spent and counted; if not, it is counted
 * as refused, for /metrics.  A budget of 0 % refuses every retry, the
 * burst included: 0 turns retries off.
 */
bool
backoff_budget_retry(struct backoff_budget *b)
{
	long long	cost = 100 - b->percent;

	if (b->percent == 0 || b->balance < cost) {
		b->refused++;
		return false;
	}
	b->balance -= cost;
	b->retries++;
	return true;
}
