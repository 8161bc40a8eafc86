/*
 * Log-linear histogram, as HdrHistogram lays it out: values below 2*SUB
 * have a bucket each; above, every power of two is split into SUB equal
 * buckets, so any value is known to within 1/SUB (< 0.8%) of itself, in a
 * fixed array that can be recorded into without allocating or sorting.
 */
#include <string.h>

#include "bench.h"

void
bench_hist_reset(struct bench_hist *h)
{
	memset(h, 0, sizeof(*h));
}

static unsigned
bucket(uint64_t v)
{
	unsigned mag;

	if (v < 2 * BH_SUB)
		return (unsigned)v;
	mag = 63u - (unsigned)__builtin_clzll(v); /* >= BH_SUB_BITS + 1 */
	if (mag > BH_MAX_MAG)
		return BH_BUCKETS - 1;
	return 2 * BH_SUB + (mag - BH_SUB_BITS - 1) * BH_SUB +
	       (unsigned)((v >> (mag - BH_SUB_BITS)) - BH_SUB);
}

/* The middle of bucket i. */
static uint64_t
value_of(unsigned i)
{
	unsigned mag, shift;

	if (i < 2 * BH_SUB)
		return i;
	mag = (i - 2 * BH_SUB) / BH_SUB + BH_SUB_BITS + 1;
	shift = mag - BH_SUB_BITS;
	return (((uint64_t)((i - 2 * BH_SUB) % BH_SUB) + BH_SUB) << shift) +
	       ((1ull << shift) >> 1);
}

void
bench_hist_add(struct bench_hist *h, uint64_t ns)
{
	if (h->count == 0 || ns < h->min)
		h->min = ns;
	if (ns > h->max)
		h->max = ns;
	h->count++;
	h->b[bucket(ns)]++;
}

uint64_t
bench_hist_quantile(const struct bench_hist *h, double q)
{
	uint64_t want, seen = 0, v;

	if (h->count == 0)
		return 0;
	if (q >= 1.0)
		return h->max;
	want = (uint64_t)(q * (double)h->count);
	if ((double)want < q * (double)h->count || want == 0)
		want++;
	for (unsigned i = 0; i < BH_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= want) {
			v = value_of(i);
			return v < h->min ? h->min : v > h->max ? h->max : v;
		}
	}
	return h->max;
}
