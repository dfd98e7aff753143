/*
 * breaker: a circuit breaker for one downstream service (issue 13,
 * "Resilience").  Pure C: no I/O, no event loop, no logging; the caller
 * passes the time as milliseconds of a monotonic clock (the loop's time),
 * so that a test can play any history.
 *
 * The states, as opossum, resilience4j and Envoy have them:
 *	closed		every call goes through; answers are counted in a
 *			rolling window.  It opens when, over the window, at
 *			least min_calls were answered and failure_rate % or
 *			more of them failed, or when `consecutive` answers in
 *			a row failed.
 *	open		every call is refused at once, for the open time:
 *			cooldown the first time, doubled on each re-opening
 *			up to max_cooldown.
 *	half-open	the open time is over: one trial call goes through,
 *			the others are refused.  Its success closes the
 *			breaker and resets the open time to cooldown; its
 *			failure opens it again, for twice as long.
 *
 * Use: v = breaker_allow(b, now); if v is BREAKER_REJECT, fail the call at
 * once; else make it and, when it is answered (or times out), call
 * breaker_record(b, now, v, ok) with the same v.  Passing v back lets a
 * late answer to a call made before the breaker opened count in the
 * counters without deciding the trial.
 *
 * The window is BREAKER_BUCKETS fixed buckets of window / BREAKER_BUCKETS
 * ms each (10 x 1 s by default), so memory is bounded whatever the rate.
 */
#ifndef SGW_BREAKER_H
#define SGW_BREAKER_H

#include <stdint.h>

#define BREAKER_BUCKETS		10

/* The thresholds, one configuration key each (conf_table.c). */
struct breaker_conf {
	long long	 failure_rate;	/* percent, 1..100; opens at or above */
	long long	 window;	/* ms, the rolling window */
	long long	 min_calls;	/* answers in the window for the rate */
	long long	 consecutive;	/* failures in a row that open it */
	long long	 cooldown;	/* ms, the first open time */
	long long	 max_cooldown;	/* ms, where the doubling stops */
};

/* The defaults of the issue: 50 %, 10 s, 20 calls, 5 in a row, 30 s, 5 m. */
#define BREAKER_FAILURE_RATE	50
#define BREAKER_WINDOW		10000
#define BREAKER_MIN_CALLS	20
#define BREAKER_CONSECUTIVE	5
#define BREAKER_COOLDOWN	30000
#define BREAKER_MAX_COOLDOWN	300000

enum breaker_state {
	BREAKER_CLOSED = 0,
	BREAKER_OPEN,
	BREAKER_HALF_OPEN
};

/* What breaker_allow() says of one call. */
enum breaker_verdict {
	BREAKER_REJECT = 0,	/* fail it at once: do not call */
	BREAKER_ALLOW,		/* call, and record the answer */
	BREAKER_TRIAL		/* call: the half-open trial; record it */
};

struct breaker_bucket {
	int64_t		 epoch;		/* now / width when it was filled */
	uint64_t	 calls;
	uint64_t	 failures;
};

struct breaker {
	struct breaker_conf conf;
	int64_t		 width;		/* ms per bucket */
	enum breaker_state state;
	int64_t		 opened;	/* when it last opened, ms */
	int64_t		 open_for;	/* this opening's open time, ms */
	int64_t		 trial_at;	/* half-open: when the trial went */
	long long	 in_row;	/* failures in a row, closed */
	struct breaker_bucket bucket[BREAKER_BUCKETS];

	/* For /metrics; they only grow. */
	uint64_t	 calls;		/* answers recorded */
	uint64_t	 failures;	/* of which failed */
	uint64_t	 rejections;	/* calls refused while open/half-open */
	uint64_t	 openings;	/* times it opened, re-openings too */
};

/* breaker.c */
void		 breaker_defaults(struct breaker_conf *);
void		 breaker_init(struct breaker *, const struct breaker_conf *);
enum breaker_verdict breaker_allow(struct breaker *, int64_t);
void		 breaker_record(struct breaker *, int64_t,
		     enum breaker_verdict, int);
enum breaker_state breaker_state(const struct breaker *);
const char	*breaker_state_name(enum breaker_state);
int64_t		 breaker_next_trial(const struct breaker *);
void		 breaker_window(const struct breaker *, int64_t, uint64_t *,
		     uint64_t *);

#endif /* SGW_BREAKER_H */
