/*
 * breaker: a circuit breaker per downstream service (breaker.h): closed,
 * open and half-open, a rolling window of fixed buckets, and an open time
 * that doubles on each re-opening.  Pure: the time comes in as ms, nothing
 * here reads a clock, logs or allocates.
 */
#include <string.h>

#include "breaker.h"

static int64_t	epoch_slot(int64_t);
static void	window_add(struct breaker *, int64_t, int);
static void	window_clear(struct breaker *);
static void	trip(struct breaker *, int64_t, int64_t);
static void	closed_record(struct breaker *, int64_t, int);

/* The thresholds, which the configuration keys default to. */
void
breaker_defaults(struct breaker_conf *c)
{
	c->failure_rate = BREAKER_FAILURE_RATE;
	c->window = BREAKER_WINDOW;
	c->min_calls = BREAKER_MIN_CALLS;
	c->consecutive = BREAKER_CONSECUTIVE;
	c->cooldown = BREAKER_COOLDOWN;
	c->max_cooldown = BREAKER_MAX_COOLDOWN;
}

/*
 * A closed breaker with no history.  The settings are copied, and the few
 * that would make no sense (a checked configuration never has them) are
 * brought into range, so that no input makes the breaker divide by zero or
 * stay open for ever.
 */
void
breaker_init(struct breaker *b, const struct breaker_conf *c)
{
	memset(b, 0, sizeof(*b));
	b->conf = *c;
	if (b->conf.failure_rate < 1)
		b->conf.failure_rate = 1;
	if (b->conf.failure_rate > 100)
		b->conf.failure_rate = 100;
	if (b->conf.min_calls < 1)
		b->conf.min_calls = 1;
	if (b->conf.consecutive < 1)
		b->conf.consecutive = 1;
	if (b->conf.cooldown < 1)
		b->conf.cooldown = 1;
	if (b->conf.max_cooldown < b->conf.cooldown)
		b->conf.max_cooldown = b->conf.cooldown;
	b->width = b->conf.window / BREAKER_BUCKETS;
	if (b->width < 1)
		b->width = 1;
	b->state = BREAKER_CLOSED;
	b->open_for = b->conf.cooldown;
}

/* The bucket an epoch (a bucket-sized slice of time) lives in. */
static int64_t
epoch_slot(int64_t epoch)
{
	return ((epoch % BREAKER_BUCKETS) + BREAKER_BUCKETS) % BREAKER_BUCKETS;
}

/*
 * One answer into the window.  A bucket still holding an older slice of
 * time is emptied first: that is how the window forgets.
 */
static void
window_add(struct breaker *b, int64_t now, int ok)
{
	struct breaker_bucket	*k;
	int64_t			 epoch = now / b->width;

	k = &b->bucket[epoch_slot(epoch)];
	if (k->epoch != epoch) {
		k->epoch = epoch;
		k->calls = 0;
		k->failures = 0;
	}
	k->calls++;
	if (!ok)
		k->failures++;
}

static void
window_clear(struct breaker *b)
{
	memset(b->bucket, 0, sizeof(b->bucket));
}

/*
 * The answers and failures of the window that ends now: the buckets of the
 * last BREAKER_BUCKETS slices, the current one included.  A bucket from
 * the future (a clock that went back) is not counted.
 */
void
breaker_window(const struct breaker *b, int64_t now, uint64_t *calls,
    uint64_t *failures)
{
	const struct breaker_bucket	*k;
	int64_t				 epoch = now / b->width;
	size_t				 i;

	*calls = 0;
	*failures = 0;
	for (i = 0; i < BREAKER_BUCKETS; i++) {
		k = &b->bucket[i];
		if (k->calls == 0 || k->epoch > epoch ||
		    epoch - k->epoch >= BREAKER_BUCKETS)
			continue;
		*calls += k->calls;
		*failures += k->failures;
	}
}

/* Open, for open_for ms from now. */
static void
trip(struct breaker *b, int64_t now, int64_t open_for)
{
	b->state = BREAKER_OPEN;
	b->opened = now;
	b->open_for = open_for;
	b->in_row = 0;
	b->openings++;
}

/*
 * An answer while closed: into the window, and into the count of failures
 * in a row; either rule may open the breaker.  The ratio is checked after
 * a success too (the 20th call may be the one that makes 10 of 20), and
 * in integers, failures * 100 >= rate * calls, so 10 of 20 is 50 % exactly.
 */
static void
closed_record(struct breaker *b, int64_t now, int ok)
{
	uint64_t	calls, failures;

	window_add(b, now, ok);
	b->in_row = ok ? 0 : b->in_row + 1;
	if (b->in_row >= b->conf.consecutive) {
		trip(b, now, b->conf.cooldown);
		return;
	}
	breaker_window(b, now, &calls, &failures);
	if (calls >= (uint64_t)b->conf.min_calls &&
	    failures * 100 >= (uint64_t)b->conf.failure_rate * calls)
		trip(b, now, b->conf.cooldown);
}

/*
 * May a call go now?  An open breaker whose open time is over turns
 * half-open and lets this call through as the trial.  While the trial is
 * out every other call is refused; a trial that has not been recorded
 * after a whole open time is taken as lost (its answer dropped by the
 * caller) and the next call becomes the trial, so that a breaker can never
 * stay half-open for ever.
 */
enum breaker_verdict
breaker_allow(struct breaker *b, int64_t now)
{
	switch (b->state) {
	case BREAKER_CLOSED:
		return BREAKER_ALLOW;
	case BREAKER_OPEN:
		if (now - b->opened < b->open_for)
			break;
		b->state = BREAKER_HALF_OPEN;
		b->trial_at = now;
		return BREAKER_TRIAL;
	case BREAKER_HALF_OPEN:
		if (now - b->trial_at < b->open_for)
			break;
		b->trial_at = now;
		return BREAKER_TRIAL;
	}
	b->rejections++;
	return BREAKER_REJECT;
}

/*
 * The answer to a call breaker_allow() let through, with its verdict; ok
 * is nonzero for a success.  Every answer is counted.  The trial's answer
 * decides a half-open breaker: a success closes it with an empty window
 * and the open time back at cooldown, a failure opens it again for twice
 * the last open time, at most max_cooldown.  Any other answer counts only
 * while the breaker is closed: one that comes back while it is open or
 * half-open was sent before it opened, and says nothing of now.
 */
void
breaker_record(struct breaker *b, int64_t now, enum breaker_verdict v, int ok)
{
	int64_t	next;

	if (v == BREAKER_REJECT)
		return;
	b->calls++;
	if (!ok)
		b->failures++;
	if (v == BREAKER_TRIAL && b->state == BREAKER_HALF_OPEN) {
		if (ok) {
			b->state = BREAKER_CLOSED;
			b->open_for = b->conf.cooldown;
			b->in_row = 0;
			window_clear(b);
			return;
		}
		next = b->open_for > b->conf.max_cooldown / 2 ?
		    b->conf.max_cooldown : b->open_for * 2;
		trip(b, now, next);
		return;
	}
	if (b->state == BREAKER_CLOSED)
		closed_record(b, now, ok);
}

/* The state for /metrics, as the last call left it. */
enum breaker_state
breaker_state(const struct breaker *b)
{
	return b->state;
}

/* The state's name, as /metrics and /health print it. */
const char *
breaker_state_name(enum breaker_state s)
{
	switch (s) {
	case BREAKER_CLOSED:
		return "closed";
	case BREAKER_OPEN:
		return "open";
	case BREAKER_HALF_OPEN:
		return "half_open";
	}
	return "unknown";
}

/*
 * When an open breaker lets its trial through, for a caller that wants to
 * wake then (the spool's replay); -1 when it is not open.
 */
int64_t
breaker_next_trial(const struct breaker *b)
{
	if (b->state != BREAKER_OPEN)
		return -1;
	return b->opened + b->open_for;
}
