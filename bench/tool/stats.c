/*
 * Latency histograms: log-linear buckets (HdrHistogram's idea, reduced).
 * A value v < 2 * HIST_SUB goes to bucket v; above, with e = msb(v) -
 * HIST_BITS, to HIST_SUB + e * HIST_SUB + (v >> e) - HIST_SUB, so every
 * power of two is cut into HIST_SUB buckets: 1.6% relative resolution,
 * enough for p99.9, and merging is adding arrays.
 */
#include <string.h>

#include "bench.h"

static unsigned
bucket(uint64_t v)
{
	unsigned	msb, e;

	if (v < 2 * HIST_SUB)
		return (unsigned)v;
	msb = 63 - (unsigned)__builtin_clzll(v);
	e = msb - HIST_BITS;
	return HIST_SUB + e * HIST_SUB + (unsigned)((v >> e) - HIST_SUB);
}

/* The highest value bucket i holds. */
static uint64_t
bucket_high(unsigned i)
{
	unsigned	e;
	uint64_t	m;

	if (i < 2 * HIST_SUB)
		return i;
	e = (i - HIST_SUB) / HIST_SUB;
	m = (i - HIST_SUB) % HIST_SUB + HIST_SUB;
	return ((m + 1) << e) - 1;
}

void
hist_init(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

void
hist_add(struct hist *h, uint64_t v)
{
	unsigned	i = bucket(v);

	if (i >= HIST_N)
		i = HIST_N - 1;
	h->b[i]++;
	h->count++;
	h->sum += v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

void
hist_merge(struct hist *to, const struct hist *from)
{
	unsigned	i;

	if (from->count == 0)
		return;
	for (i = 0; i < HIST_N; i++)
		to->b[i] += from->b[i];
	to->count += from->count;
	to->sum += from->sum;
	if (from->min < to->min)
		to->min = from->min;
	if (from->max > to->max)
		to->max = from->max;
}

/* The value at quantile q (0..1): the upper edge of its bucket, <= max. */
uint64_t
hist_quantile(const struct hist *h, double q)
{
	uint64_t	want, seen = 0, v;
	unsigned	i;

	if (h->count == 0)
		return 0;
	want = (uint64_t)(q * (double)h->count + 0.5);
	if (want < 1)
		want = 1;
	if (want > h->count)
		want = h->count;
	for (i = 0; i < HIST_N; i++) {
		seen += h->b[i];
		if (seen >= want) {
			v = bucket_high(i);
			return v > h->max ? h->max : v < h->min ? h->min : v;
		}
	}
	return h->max;
}

double
hist_mean(const struct hist *h)
{
	return h->count ? (double)h->sum / (double)h->count : 0;
}
