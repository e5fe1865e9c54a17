/*
 * test_trend.c - degrading, stable, improving from short vs long windows.
 */
#include "t.h"
#include "../../aggregator/trend.h"

static void
set(struct vigil_window *w, uint32_t n, double r, double p95)
{
	memset(w, 0, sizeof(*w));
	w->samples = n;
	w->ok = n - (uint32_t)(r * n + 0.5);
	w->error_rate = r;
	w->p95_ms = p95;
}

static void
test_trend(void)
{
	struct vigil_window w[VIGIL_NWINDOWS];

	set(&w[0], 10, 0.30, 100);
	set(&w[1], 50, 0.10, 100);
	set(&w[2], 150, 0.05, 100);
	T_CHECK(trend_eval(w, 5) == VIGIL_TR_DEGRADING);
	set(&w[0], 10, 0.14, 100);	/* +9 points: not enough */
	T_CHECK(trend_eval(w, 5) == VIGIL_TR_STABLE);
	set(&w[0], 10, 0.15, 100);	/* +10 points */
	T_CHECK(trend_eval(w, 5) == VIGIL_TR_DEGRADING);
	set(&w[0], 10, 0.0, 160);	/* p95 1.6 x */
	T_CHECK(trend_eval(w, 5) == VIGIL_TR_DEGRADING);
	set(&w[0], 10, 0.0, 140);
	T_CHECK(trend_eval(w, 5) == VIGIL_TR_STABLE);
	set(&w[2], 150, 0.40, 100);
	set(&w[0], 10, 0.0, 100);
	T_CHECK(trend_eval(w, 5) == VIGIL_TR_IMPROVING);
	set(&w[2], 150, 0.0, 300);
	T_CHECK(trend_eval(w, 5) == VIGIL_TR_IMPROVING);
	/* Too few samples in the short windows: stable. */
	set(&w[0], 2, 1.0, 0);
	set(&w[1], 4, 1.0, 0);
	set(&w[2], 150, 0.0, 100);
	T_CHECK(trend_eval(w, 5) == VIGIL_TR_STABLE);
	/* 1m too small: 5m is the short window. */
	set(&w[1], 40, 0.5, 100);
	T_CHECK(trend_eval(w, 5) == VIGIL_TR_DEGRADING);
	/* Long window holding no more than the short: same data, stable. */
	set(&w[0], 10, 1.0, 0);
	set(&w[2], 10, 0.0, 100);
	T_CHECK(trend_eval(w, 5) == VIGIL_TR_STABLE);
}

int
main(void)
{
	T_RUN(test_trend);
	return t_done();
}
