/*
 * hist.c - log-linear histogram buckets, quantiles by nearest rank.
 *
 * Bucket of v >= 128 with top bit e (7..31): the 6 bits below the top
 * bit pick one of 64 sub-buckets, so bucket = 128 + (e - 7) * 64 + sub.
 * The layout is that of HdrHistogram with 2 significant digits, cut down
 * to what a uint32_t of microseconds (71 minutes) needs: 1728 buckets.
 */
#include <string.h>

#include "hist.h"

void
hist_init(struct hist *h)
{
	memset(h, 0, sizeof(*h));
}

/* The bucket holding v.  O(1): one count-leading-zeros. */
uint32_t
hist_bucket(uint32_t v)
{
	uint32_t e;

	if (v < HIST_LINEAR)
		return v;
	e = 31 - (uint32_t)__builtin_clz(v);
	return HIST_LINEAR + (e - HIST_SUB_BITS - 1) * HIST_SUB +
	    ((v >> (e - HIST_SUB_BITS)) & (HIST_SUB - 1));
}

/*
 * The value bucket b stands for: itself below HIST_LINEAR, else the
 * midpoint of its span [lo, lo + w), which is within w / 2 <= lo / 128
 * of anything in it.  Out-of-range b gives the largest bucket's value.
 */
uint32_t
hist_value(uint32_t b)
{
	uint64_t e, sub, lo, w;

	if (b < HIST_LINEAR)
		return b;
	if (b >= HIST_N)
		b = HIST_N - 1;
	e = HIST_SUB_BITS + 1 + (b - HIST_LINEAR) / HIST_SUB;
	sub = (b - HIST_LINEAR) % HIST_SUB;
	w = UINT64_C(1) << (e - HIST_SUB_BITS);
	lo = (HIST_SUB + sub) * w;
	lo += w / 2;
	return lo > UINT32_MAX ? UINT32_MAX : (uint32_t)lo;
}

void
hist_add(struct hist *h, uint32_t v)
{
	h->b[hist_bucket(v)]++;
	h->n++;
}

/* Remove a value added before (a sliding window's leaving sample).  A
 * value that is not there is ignored rather than wrapping a counter. */
void
hist_del(struct hist *h, uint32_t v)
{
	uint32_t i = hist_bucket(v);

	if (h->b[i] == 0 || h->n == 0)
		return;
	h->b[i]--;
	h->n--;
}

/* dst += src.  O(HIST_N). */
void
hist_merge(struct hist *dst, const struct hist *src)
{
	uint32_t i;

	for (i = 0; i < HIST_N; i++)
		dst->b[i] += src->b[i];
	dst->n += src->n;
}

/* Nearest rank of quantile q among n values: ceil(q * n), in 1..n. */
uint64_t
hist_rank(uint64_t n, double q)
{
	double r = q * (double)n;
	uint64_t k;

	if (!(r > 0.0))
		return 1;
	if (r >= (double)n)
		return n;
	k = (uint64_t)r;
	if ((double)k < r)
		k++;
	return k < 1 ? 1 : k;
}

/*
 * The q-quantile (0 <= q <= 1) by nearest rank: the ceil(q*n)-th smallest
 * value, as its bucket's value.  0 when empty.  O(HIST_N).
 */
uint32_t
hist_quantile(const struct hist *h, double q)
{
	uint32_t v;

	hist_quantiles(h, &q, 1, &v);
	return v;
}

/*
 * Several quantiles in one pass; qs[] must be ascending.  out[i] is 0
 * for an empty histogram.  O(HIST_N + nq).
 */
void
hist_quantiles(const struct hist *h, const double *qs, size_t nq,
    uint32_t *out)
{
	uint64_t seen = 0;
	uint32_t i;
	size_t j = 0;

	if (h->n == 0) {
		for (j = 0; j < nq; j++)
			out[j] = 0;
		return;
	}
	for (i = 0; i < HIST_N && j < nq; i++) {
		if (h->b[i] == 0)
			continue;
		seen += h->b[i];
		while (j < nq && seen >= hist_rank(h->n, qs[j]))
			out[j++] = hist_value(i);
	}
	/* Counts that do not add up to n (never, unless corrupted). */
	for (; j < nq; j++)
		out[j] = hist_value(HIST_N - 1);
}
