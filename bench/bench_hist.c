/*
 * bench_hist.c - histogram insert and quantile against the exact way.
 *
 * Baseline, measured in the same run: keep every sample in an array and
 * qsort it for the percentiles (what a naive window would do on every
 * read).  Prints ns per operation and the ratio baseline / histogram.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hist.h"

#define N	100000		/* samples per round */
#define ROUNDS	20

static uint64_t rs = UINT64_C(88172645463325252);

static uint32_t
rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return (uint32_t)(50000 + (rs % 3000000));
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int
main(void)
{
	static const double qs[3] = { 0.5, 0.95, 0.99 };
	static uint32_t v[N], w[N];
	struct hist *h = malloc(sizeof(*h));
	volatile uint64_t sink = 0;
	double t0, t_ins, t_q, t_sort, t_copy;
	uint32_t out[3];
	size_t i;
	int r;

	for (i = 0; i < N; i++)
		v[i] = rnd();

	/* Insert: histogram vs appending to an array. */
	t0 = now_s();
	for (r = 0; r < ROUNDS; r++) {
		hist_init(h);
		for (i = 0; i < N; i++)
			hist_add(h, v[i]);
		sink += h->n;
	}
	t_ins = (now_s() - t0) / ((double)ROUNDS * N);
	t0 = now_s();
	for (r = 0; r < ROUNDS; r++) {
		for (i = 0; i < N; i++)
			w[i] = v[i];
		sink += w[N / 2];
	}
	t_copy = (now_s() - t0) / ((double)ROUNDS * N);

	/* p50/p95/p99 of N samples: one histogram pass vs qsort. */
	t0 = now_s();
	for (r = 0; r < ROUNDS * 100; r++) {
		hist_quantiles(h, qs, 3, out);
		sink += out[r % 3];
	}
	t_q = (now_s() - t0) / (ROUNDS * 100.0);
	t0 = now_s();
	for (r = 0; r < ROUNDS; r++) {
		memcpy(w, v, sizeof(w));
		qsort(w, N, sizeof(w[0]), cmp);
		sink += w[(size_t)(0.99 * N)];
	}
	t_sort = (now_s() - t0) / ROUNDS;

	printf("hist insert:        %8.2f ns/sample (array append %.2f ns)\n",
	    t_ins * 1e9, t_copy * 1e9);
	printf("hist p50/p95/p99:   %8.2f us per read of %d samples\n",
	    t_q * 1e6, N);
	printf("qsort p50/p95/p99:  %8.2f us per read of %d samples\n",
	    t_sort * 1e6, N);
	printf("ratio quantile read qsort/hist: %.1fx\n", t_sort / t_q);
	printf("ratio per sample (insert + one read) qsort/hist: %.1fx\n",
	    (t_copy * N + t_sort) / (t_ins * N + t_q));
	printf("hist size: %zu bytes, fixed (sink %llu)\n", sizeof(*h),
	    (unsigned long long)(sink & 1));
	free(h);
	return 0;
}
