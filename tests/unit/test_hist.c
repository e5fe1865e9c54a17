/*
 * test_hist.c - the latency histogram against an exact computation.
 *
 * Random samples from several distributions (deterministic generator),
 * sorted for the exact nearest-rank quantile, compared with the
 * histogram's for every quantile 0.001 .. 1.000: within 1%.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "t.h"
#include "hist.h"

#define NSAMP	20000

static uint64_t rng_state = UINT64_C(0x9e3779b97f4a7c15);

static uint64_t
rng(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

static double
unif(void)
{
	return ((rng() >> 11) + 0.5) / 9007199254740992.0;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static uint32_t
clampv(double v)
{
	if (v < 0)
		return 0;
	if (v > 4e9)
		return 4000000000u;
	return (uint32_t)v;
}

/* Fill v[] from distribution d. */
static void
gen(int d, uint32_t *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		switch (d) {
		case 0:		/* uniform 1 us .. 5 s */
			v[i] = clampv(1 + unif() * 5e6);
			break;
		case 1:		/* exponential, mean 200 ms */
			v[i] = clampv(-log(unif()) * 200000.0);
			break;
		case 2:		/* lognormal around 150 ms, heavy tail */
			v[i] = clampv(exp(log(150000.0) + 1.2 *
			    sqrt(-2 * log(unif())) * cos(6.283185307 *
			    unif())));
			break;
		case 3:		/* bimodal: 90% ~80 ms, 10% ~2.5 s */
			v[i] = clampv(unif() < 0.9 ? 70000 + unif() * 20000 :
			    2000000 + unif() * 1000000);
			break;
		case 4:		/* tiny values, the exact range */
			v[i] = (uint32_t)(rng() % 200);
			break;
		default:	/* the whole uint32 range */
			v[i] = (uint32_t)rng();
			break;
		}
	}
}

static void
test_quantiles_vs_exact(void)
{
	static uint32_t v[NSAMP];
	struct hist *h = malloc(sizeof(*h));
	int d, k, bad = 0;

	T_CHECK(h != NULL);
	for (d = 0; d < 6; d++) {
		size_t i;

		gen(d, v, NSAMP);
		hist_init(h);
		for (i = 0; i < NSAMP; i++)
			hist_add(h, v[i]);
		T_CHECK(h->n == NSAMP);
		qsort(v, NSAMP, sizeof(v[0]), cmp_u32);
		for (k = 1; k <= 1000; k++) {
			double q = k / 1000.0;
			uint32_t exact = v[hist_rank(NSAMP, q) - 1];
			uint32_t got = hist_quantile(h, q);
			double rel = exact ? fabs((double)got - exact) / exact :
			    (double)got;

			if (rel > 0.01 && bad++ < 10)
				T_CHECKF(rel <= 0.01, "dist %d q %.3f exact %u "
				    "got %u", d, q, exact, got);
		}
		/* q = 0 is the minimum, q = 1 the maximum. */
		T_CHECK(fabs((double)hist_quantile(h, 0.0) - v[0]) <=
		    v[0] / 100.0);
		T_CHECK(fabs((double)hist_quantile(h, 1.0) - v[NSAMP - 1]) <=
		    v[NSAMP - 1] / 100.0);
	}
	T_CHECK(bad == 0);
	free(h);
}

/* The batch form agrees with the single form. */
static void
test_quantiles_batch(void)
{
	static const double qs[5] = { 0.1, 0.5, 0.9, 0.95, 0.999 };
	static uint32_t v[NSAMP];
	struct hist *h = malloc(sizeof(*h));
	uint32_t out[5];
	size_t i;

	hist_init(h);
	gen(2, v, NSAMP);
	for (i = 0; i < NSAMP; i++)
		hist_add(h, v[i]);
	hist_quantiles(h, qs, 5, out);
	for (i = 0; i < 5; i++)
		T_CHECK(out[i] == hist_quantile(h, qs[i]));
	free(h);
}

/* Every value maps to a bucket whose value is within 1/128 of it. */
static void
test_bucket_bound(void)
{
	uint64_t v;
	uint32_t b, prev = 0;

	for (v = 0; v <= UINT32_MAX; v = v < 4096 ? v + 1 : v + v / 997 + 1) {
		b = hist_bucket((uint32_t)v);
		T_CHECK(b < HIST_N);
		T_CHECK(b >= prev);		/* monotonic */
		prev = b;
		if (v < HIST_LINEAR)
			T_CHECK(hist_value(b) == v);
		else
			T_CHECKF(fabs((double)hist_value(b) - (double)v) <=
			    (double)v / 128.0, "v %llu", (unsigned long long)v);
		T_CHECK(hist_bucket(hist_value(b)) == b);
	}
	T_CHECK(hist_bucket(UINT32_MAX) == HIST_N - 1);
}

/* Merging two halves gives the histogram of the whole; del undoes add. */
static void
test_merge_del(void)
{
	struct hist *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b)),
	    *all = malloc(sizeof(*all));
	static uint32_t v[NSAMP];
	size_t i;

	hist_init(a);
	hist_init(b);
	hist_init(all);
	gen(1, v, NSAMP);
	for (i = 0; i < NSAMP; i++) {
		hist_add(i % 2 ? a : b, v[i]);
		hist_add(all, v[i]);
	}
	hist_merge(a, b);
	T_CHECK(memcmp(a, all, sizeof(*a)) == 0);
	for (i = 0; i < NSAMP; i++)
		hist_del(all, v[i]);
	T_CHECK(all->n == 0);
	hist_init(b);
	T_CHECK(memcmp(all, b, sizeof(*b)) == 0);
	hist_del(all, 12345);		/* not there: ignored */
	T_CHECK(all->n == 0 && all->b[hist_bucket(12345)] == 0);
	free(a);
	free(b);
	free(all);
}

static void
test_empty(void)
{
	struct hist h;
	uint32_t out[2];
	static const double qs[2] = { 0.5, 0.99 };

	hist_init(&h);
	T_CHECK(hist_quantile(&h, 0.5) == 0);
	hist_quantiles(&h, qs, 2, out);
	T_CHECK(out[0] == 0 && out[1] == 0);
	hist_add(&h, 1000000);
	T_CHECK(fabs(hist_quantile(&h, 0.01) - 1e6) <= 1e4);
	T_CHECK(hist_rank(10, 0.5) == 5 && hist_rank(10, 0.51) == 6);
	T_CHECK(hist_rank(10, 0.0) == 1 && hist_rank(10, 1.0) == 10);
	T_CHECK(sizeof(struct hist) == 8 + HIST_N * 4);
}

int
main(void)
{
	T_RUN(test_quantiles_vs_exact);
	T_RUN(test_quantiles_batch);
	T_RUN(test_bucket_bound);
	T_RUN(test_merge_del);
	T_RUN(test_empty);
	return t_done();
}
