/*
 * test_trend.c - degrading, stable, improving from short vs long windows;
 * the p95 floor, the minimum counts and the hysteresis.
 */
#include "t.h"
#include "../../aggregator/trend.h"

#define S	UINT64_C(1000000000)

static struct conf C;

static void
set(struct vigil_window *w, uint32_t n, double r, double p95)
{
	memset(w, 0, sizeof(*w));
	w->samples = n;
	w->ok = n - (uint32_t)(r * n + 0.5);
	w->error_rate = r;
	w->p95_ms = p95;
}

/* A fresh state each time: the rules without hysteresis. */
static int
eval(const struct vigil_window *w)
{
	struct trend_state st;

	memset(&st, 0, sizeof(st));
	return trend_eval(&st, w, &C, S);
}

static void
test_trend(void)
{
	struct vigil_window w[VIGIL_NWINDOWS];

	set(&w[0], 10, 0.30, 100);
	set(&w[1], 50, 0.10, 100);
	set(&w[2], 150, 0.05, 100);
	T_CHECK(eval(w) == VIGIL_TR_DEGRADING);
	set(&w[0], 10, 0.14, 100);	/* +9 points: not enough */
	T_CHECK(eval(w) == VIGIL_TR_STABLE);
	set(&w[0], 10, 0.15, 100);	/* +10 points */
	T_CHECK(eval(w) == VIGIL_TR_DEGRADING);
	set(&w[0], 10, 0.0, 300);	/* p95 3 x, +200 ms */
	T_CHECK(eval(w) == VIGIL_TR_DEGRADING);
	set(&w[0], 10, 0.0, 140);
	T_CHECK(eval(w) == VIGIL_TR_STABLE);
	set(&w[2], 150, 0.40, 100);
	set(&w[0], 10, 0.0, 100);
	T_CHECK(eval(w) == VIGIL_TR_IMPROVING);
	set(&w[2], 150, 0.0, 300);
	T_CHECK(eval(w) == VIGIL_TR_IMPROVING);
	/* Too few samples in the short windows: stable. */
	set(&w[0], 2, 1.0, 0);
	set(&w[1], 4, 1.0, 0);
	set(&w[2], 150, 0.0, 100);
	T_CHECK(eval(w) == VIGIL_TR_STABLE);
	/* 1m too small: 5m is the short window. */
	set(&w[1], 40, 0.5, 100);
	T_CHECK(eval(w) == VIGIL_TR_DEGRADING);
	/* Long window holding no more than the short: same data, stable. */
	set(&w[0], 10, 1.0, 0);
	set(&w[2], 10, 0.0, 100);
	T_CHECK(eval(w) == VIGIL_TR_STABLE);
}

/*
 * The floor: a ratio of 2 on a sub-millisecond provider, or 1.6 on a
 * fast one, is jitter; the rise must also be max(50 ms, 5% of
 * latency_warning), 100 ms by default.  And the counts: one failure is
 * no trend, nor a p95 over fewer than 10 ok samples.
 */
static void
test_floor(void)
{
	struct vigil_window w[VIGIL_NWINDOWS];
	struct conf c = C;

	T_CHECK(trend_floor_ms(&C) == 100.0);
	c.latency_warning_ms = 0;	/* latency judgement off */
	T_CHECK(trend_floor_ms(&c) == 50.0);
	set(&w[0], 60, 0.0, 0.9);
	set(&w[1], 300, 0.0, 0.5);
	set(&w[2], 900, 0.0, 0.4);
	T_CHECK(eval(w) == VIGIL_TR_STABLE);
	set(&w[0], 60, 0.0, 160);	/* 1.6 x, +60 ms */
	set(&w[2], 900, 0.0, 100);
	T_CHECK(eval(w) == VIGIL_TR_STABLE);
	set(&w[0], 60, 0.0, 199);	/* +99 ms */
	T_CHECK(eval(w) == VIGIL_TR_STABLE);
	set(&w[0], 60, 0.0, 200);	/* +100 ms, 2 x */
	T_CHECK(eval(w) == VIGIL_TR_DEGRADING);
	set(&w[0], 60, 0.0, 1500);	/* the real one */
	set(&w[2], 900, 0.0, 200);
	T_CHECK(eval(w) == VIGIL_TR_DEGRADING);
	/* 9 ok samples in 1m and 5m: no p95 compared. */
	set(&w[0], 9, 0.0, 1500);
	set(&w[1], 9, 0.0, 1500);
	T_CHECK(eval(w) == VIGIL_TR_STABLE);
	/* 10 in 5m: that is the short window for p95. */
	set(&w[1], 10, 0.0, 1500);
	T_CHECK(eval(w) == VIGIL_TR_DEGRADING);
	/* One failure in five: 20 points, but a blip. */
	set(&w[0], 5, 0.2, 100);
	set(&w[1], 5, 0.2, 100);
	set(&w[2], 900, 0.0, 100);
	T_CHECK(eval(w) == VIGIL_TR_STABLE);
	set(&w[0], 10, 0.2, 100);	/* two */
	T_CHECK(eval(w) == VIGIL_TR_DEGRADING);
}

/*
 * Hysteresis: entered at 1.5 x (+floor), kept down to 1.25 x (+floor/2),
 * and left only after 60 s below that.  The figure is the one that
 * entered, in its units.
 */
static void
test_hysteresis(void)
{
	struct vigil_window w[VIGIL_NWINDOWS];
	struct trend_state st;
	uint64_t t = 1000 * S;
	int i, flips = 0, prev;

	memset(&st, 0, sizeof(st));
	set(&w[1], 300, 0.0, 200);
	set(&w[2], 900, 0.0, 200);
	set(&w[0], 60, 0.0, 1500);
	T_CHECK(trend_eval(&st, w, &C, t) == VIGIL_TR_DEGRADING);
	T_CHECK(st.fig == TREND_FIG_P95);
	T_CHECK(st.value == 1500.0 && st.threshold == 300.0);
	set(&w[0], 60, 0.0, 260);	/* 1.3 x, +60 ms: stays */
	T_CHECK(trend_eval(&st, w, &C, t += S) == VIGIL_TR_DEGRADING);
	set(&w[0], 60, 0.0, 240);	/* 1.2 x: the calm starts */
	T_CHECK(trend_eval(&st, w, &C, t += S) == VIGIL_TR_DEGRADING);
	T_CHECK(trend_eval(&st, w, &C, t + 59 * S) == VIGIL_TR_DEGRADING);
	T_CHECK(trend_eval(&st, w, &C, t + 60 * S) == VIGIL_TR_STABLE);
	/* Kept for the resolved alert: 240 ms against 300 ms. */
	T_CHECK(st.fig == TREND_FIG_P95 && st.value == 240.0 &&
	    st.threshold == 300.0);
	t += 60 * S;
	/* A p95 hovering at the ratio (290, 310, ...) enters once. */
	prev = trend_eval(&st, w, &C, t);
	for (i = 0; i < 600; i++) {
		int tr;

		set(&w[0], 60, 0.0, i % 2 ? 290 : 310);
		tr = trend_eval(&st, w, &C, t += S);
		if (tr != prev)
			flips++;
		prev = tr;
	}
	T_CHECK(flips == 1 && prev == VIGIL_TR_DEGRADING);
	/* An error-rate figure: a fraction, long + 0.10. */
	memset(&st, 0, sizeof(st));
	set(&w[0], 60, 0.30, 200);
	set(&w[2], 900, 0.02, 200);
	T_CHECK(trend_eval(&st, w, &C, t) == VIGIL_TR_DEGRADING);
	T_CHECK(st.fig == TREND_FIG_RATE && st.value == 0.30 &&
	    st.threshold > 0.1199 && st.threshold < 0.1201);
}

int
main(void)
{
	settings_defaults(&C);
	T_RUN(test_trend);
	T_RUN(test_floor);
	T_RUN(test_hysteresis);
	return t_done();
}
