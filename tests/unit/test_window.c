/*
 * test_window.c - rolling windows against a hand-made timeline.
 *
 * Samples at known CLOCK_MONOTONIC times; the windows are moved forward
 * slice by slice and every count, rate and percentile is compared with
 * a brute-force computation over the samples the window should hold
 * (docs/aggregation.md: window k at newest slice c holds the slices
 * c - span_k + 1 .. c), at the slice edges in particular.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "t.h"
#include "hist.h"
#include "../../aggregator/window.h"

#define S	UINT64_C(1000000000)
#define T0	(UINT64_C(100000) * S)	/* slice-aligned start */
#define MAXS	400

struct tl {
	uint64_t mono[MAXS];
	uint8_t outcome[MAXS];
	uint32_t lat[MAXS];
	size_t n;
};

static struct window *
win_new(void)
{
	struct window *w = malloc(sizeof(*w));

	window_init(w);
	return w;
}

static void
add(struct window *w, struct tl *t, uint64_t mono, int outcome,
    uint32_t lat)
{
	struct vigil_sample s;

	memset(&s, 0, sizeof(s));
	s.mono_ns = mono;
	s.outcome = (uint8_t)outcome;
	s.latency_us = lat;
	T_CHECK(window_add(w, &s) == 0);
	t->mono[t->n] = mono;
	t->outcome[t->n] = (uint8_t)outcome;
	t->lat[t->n] = lat;
	t->n++;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Compare window k at time now with brute force over the timeline. */
static int
check(const struct window *w, const struct tl *t, uint64_t now, int k)
{
	struct vigil_window got;
	uint64_t c = now / WIN_SLICE_NS, sid;
	uint32_t lat[MAXS], n = 0, ok = 0, by[VIGIL_OUT_COUNT], max = 0;
	uint64_t sum = 0;
	size_t i;
	int fails = t_child_failures;
	static const double qs[3] = { 0.5, 0.95, 0.99 };
	double gotq[3];

	memset(by, 0, sizeof(by));
	for (i = 0; i < t->n; i++) {
		sid = t->mono[i] / WIN_SLICE_NS;
		if (sid > c || c - sid >= window_span[k])
			continue;
		/* Answers about us are counted by class only. */
		if (vigil_outcome_counts(t->outcome[i]))
			n++;
		by[t->outcome[i]]++;
		if (t->outcome[i] == VIGIL_OUT_OK) {
			lat[ok++] = t->lat[i];
			sum += t->lat[i];
			if (t->lat[i] > max)
				max = t->lat[i];
		}
	}
	window_get(w, k, &got);
	T_CHECKF(got.samples == n, "k %d now %llu: samples %u want %u", k,
	    (unsigned long long)((now - T0) / S), got.samples, n);
	T_CHECK(got.ok == ok);
	T_CHECK(memcmp(got.by_outcome, by, sizeof(by)) == 0);
	if (n > 0) {
		T_CHECK(fabs(got.error_rate - (double)(n - ok) / n) < 1e-12);
		T_CHECK(fabs(got.uptime - (double)ok / n) < 1e-12);
	} else
		T_CHECK(got.error_rate == 0.0 && got.uptime == 0.0);
	if (ok == 0) {
		T_CHECK(got.p50_ms == 0.0 && got.max_ms == 0.0);
		return t_child_failures == fails;
	}
	qsort(lat, ok, sizeof(lat[0]), cmp_u32);
	gotq[0] = got.p50_ms;
	gotq[1] = got.p95_ms;
	gotq[2] = got.p99_ms;
	for (i = 0; i < 3; i++) {
		double exact = lat[hist_rank(ok, qs[i]) - 1] / 1000.0;

		T_CHECKF(fabs(gotq[i] - exact) <= exact * 0.01, "k %d q %g: "
		    "%g want %g", k, qs[i], gotq[i], exact);
	}
	T_CHECK(fabs(got.mean_ms - (double)sum / ok / 1000.0) < 1e-9);
	T_CHECKF(got.max_ms == max / 1000.0, "max %g want %g", got.max_ms,
	    max / 1000.0);
	return t_child_failures == fails;
}

/* One sample, watched as it leaves each window at its exact edge. */
static void
test_edges(void)
{
	struct window *w = win_new();
	struct vigil_window g;
	static struct tl t;

	add(w, &t, T0 + 3 * S, VIGIL_OUT_OK, 150000);	/* slice 0 */
	window_advance(w, T0 + 59 * S);		/* slice 5: still in 1m */
	window_get(w, VIGIL_WIN_1M, &g);
	T_CHECK(g.samples == 1 &&
	    fabs(g.p50_ms - 150.0) < 1.5);
	window_advance(w, T0 + 60 * S);		/* slice 6: out of 1m */
	window_get(w, VIGIL_WIN_1M, &g);
	T_CHECK(g.samples == 0 && g.max_ms == 0.0);
	window_get(w, VIGIL_WIN_5M, &g);
	T_CHECK(g.samples == 1);
	window_advance(w, T0 + 299 * S);
	window_get(w, VIGIL_WIN_5M, &g);
	T_CHECK(g.samples == 1);
	window_advance(w, T0 + 300 * S);
	window_get(w, VIGIL_WIN_5M, &g);
	T_CHECK(g.samples == 0);
	window_get(w, VIGIL_WIN_15M, &g);
	T_CHECK(g.samples == 1 && g.ok == 1);
	window_advance(w, T0 + 899 * S + S - 1);
	window_get(w, VIGIL_WIN_15M, &g);
	T_CHECK(g.samples == 1);
	window_advance(w, T0 + 900 * S);
	window_get(w, VIGIL_WIN_15M, &g);
	T_CHECK(g.samples == 0 && g.ok == 0 && g.p99_ms == 0.0);
	/* Time going back changes nothing. */
	window_advance(w, T0);
	window_get(w, VIGIL_WIN_15M, &g);
	T_CHECK(g.samples == 0);
	window_free(w);
	free(w);
}

/*
 * A dense timeline (every 3 s for 20 minutes, mixed outcomes and
 * latencies, some bursts), then the clock walks on in 1 s steps until
 * everything has expired; every window is checked at every step.
 */
static void
test_timeline(void)
{
	struct window *w = win_new();
	static struct tl t;
	uint64_t now;
	int i, k, bad = 0;

	for (i = 0; i < 400; i++) {
		int out = VIGIL_OUT_OK;
		uint32_t lat = 50000 + (uint32_t)((i * 7919) % 2000) * 1000;

		if (i % 7 == 3)
			out = VIGIL_OUT_TIMEOUT;
		else if (i % 11 == 5)
			out = VIGIL_OUT_HTTP_5XX;
		else if (i % 13 == 0)
			out = VIGIL_OUT_RATE_LIMITED;
		else if (i % 17 == 2)
			out = VIGIL_OUT_QUOTA;
		else if (i % 19 == 4)
			out = VIGIL_OUT_OVERLOADED;
		now = T0 + (uint64_t)i * 3 * S + (uint64_t)(i % 3) * S / 3;
		add(w, &t, now, out, lat);
		for (k = 0; k < VIGIL_NWINDOWS; k++)
			if (!check(w, &t, now, k) && bad++ > 5)
				goto out;
	}
	for (; now < T0 + 2400 * S; now += S) {
		window_advance(w, now);
		for (k = 0; k < VIGIL_NWINDOWS; k++)
			if (!check(w, &t, now, k) && bad++ > 5)
				goto out;
	}
	for (k = 0; k < VIGIL_NWINDOWS; k++)
		T_CHECK(w->acc[k].samples == 0 && w->acc[k].h.n == 0);
out:
	T_CHECK(bad == 0);
	window_free(w);
	free(w);
}

/* Out of order: into its own slice; older than 15 minutes: dropped. */
static void
test_late_and_gap(void)
{
	struct window *w = win_new();
	static struct tl t;
	struct vigil_sample s;
	uint64_t now = T0 + 1000 * S;
	int k;

	add(w, &t, now, VIGIL_OUT_OK, 100000);
	add(w, &t, now - 45 * S, VIGIL_OUT_OK, 900000);	/* late, in 1m */
	add(w, &t, now - 200 * S, VIGIL_OUT_DNS, 0);	/* late, 5m */
	memset(&s, 0, sizeof(s));
	s.mono_ns = now - 900 * S;			/* too old */
	T_CHECK(window_add(w, &s) == -1);
	T_CHECK(w->dropped == 1);
	for (k = 0; k < VIGIL_NWINDOWS; k++)
		check(w, &t, now, k);
	/* A jump past every window empties them all at once. */
	now += 5000 * S;
	window_advance(w, now);
	for (k = 0; k < VIGIL_NWINDOWS; k++)
		check(w, &t, now, k);
	add(w, &t, now, VIGIL_OUT_OK, 42000);
	for (k = 0; k < VIGIL_NWINDOWS; k++)
		check(w, &t, now, k);
	window_free(w);
	free(w);
}

static void
test_prom_bucket(void)
{
	T_CHECK(window_prom_bucket(0) == 0);
	T_CHECK(window_prom_bucket(25000) == 0);	/* <= 0.025 s */
	T_CHECK(window_prom_bucket(25001) == 1);
	T_CHECK(window_prom_bucket(1000000) == 5);
	T_CHECK(window_prom_bucket(60000000) == 10);
	T_CHECK(window_prom_bucket(60000001) == VIGIL_PROM_BUCKETS - 1);
}

int
main(void)
{
	T_RUN(test_edges);
	T_RUN(test_timeline);
	T_RUN(test_late_and_gap);
	T_RUN(test_prom_bucket);
	return t_done();
}
