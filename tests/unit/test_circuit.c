/*
 * test_circuit.c - circuit transitions, cool-down growth, routing order.
 */
#include <math.h>

#include "t.h"
#include "../../aggregator/circuit.h"
#include "../../aggregator/status.h"

#define S	UINT64_C(1000000000)

static struct conf C;

static void
test_consecutive(void)
{
	struct circuit cb;
	uint64_t t = 1000 * S;
	int i;

	circuit_init(&cb);
	/* Successes first, so that the error rate stays below critical
	 * and only the consecutive count can open it. */
	for (i = 0; i < 20; i++)
		circuit_sample(&cb, 1, 1, NULL, t - S, &C);
	for (i = 0; i < 4; i++)
		T_CHECK(circuit_sample(&cb, 0, 1, NULL, t + i * S, &C) == 0);
	T_CHECK(cb.state == VIGIL_CB_CLOSED);
	T_CHECK(circuit_sample(&cb, 1, 1, NULL, t + 4 * S, &C) == 0);
	for (i = 0; i < 4; i++)		/* the success reset the count */
		circuit_sample(&cb, 0, 1, NULL, t + (5 + i) * S, &C);
	T_CHECK(cb.state == VIGIL_CB_CLOSED);
	T_CHECK(circuit_sample(&cb, 0, 1, NULL, t + 9 * S, &C) == 1);
	T_CHECK(cb.state == VIGIL_CB_OPEN && cb.opens == 1);
	T_CHECK(cb.until_ns == t + 9 * S + 30 * S);
	/* Open ignores samples, until the cool-down is over. */
	T_CHECK(circuit_sample(&cb, 1, 1, NULL, t + 10 * S, &C) == 0);
	T_CHECK(circuit_tick(&cb, t + 38 * S) == 0);
	T_CHECK(cb.state == VIGIL_CB_OPEN);
	T_CHECK(circuit_tick(&cb, t + 39 * S) == 1);
	T_CHECK(cb.state == VIGIL_CB_HALF_OPEN);
	/* half_open: M = 2 successes close it. */
	T_CHECK(circuit_sample(&cb, 1, 1, NULL, t + 40 * S, &C) == 0);
	T_CHECK(cb.state == VIGIL_CB_HALF_OPEN);
	T_CHECK(circuit_sample(&cb, 1, 1, NULL, t + 41 * S, &C) == 1);
	T_CHECK(cb.state == VIGIL_CB_CLOSED && cb.streak == 0);
}

/* Each reopen from half_open doubles the cool-down, up to the cap. */
static void
test_cooldown_growth(void)
{
	struct circuit cb;
	uint64_t t = 1000 * S, want = 30 * S;
	int i;

	circuit_init(&cb);
	for (i = 0; i < 5; i++)
		circuit_sample(&cb, 0, 1, NULL, t, &C);
	T_CHECK(cb.state == VIGIL_CB_OPEN);
	for (i = 0; i < 8; i++) {
		T_CHECKF(cb.until_ns - t == want, "open %d: %llu s", i + 1,
		    (unsigned long long)((cb.until_ns - t) / S));
		t = cb.until_ns;
		T_CHECK(circuit_tick(&cb, t) == 1);
		T_CHECK(cb.state == VIGIL_CB_HALF_OPEN);
		T_CHECK(circuit_sample(&cb, 0, 1, NULL, t, &C) == 1);
		T_CHECK(cb.state == VIGIL_CB_OPEN);
		want *= 2;
		if (want > 600 * S)
			want = 600 * S;
	}
	T_CHECK(cb.opens == 9 && cb.streak == 9);
	T_CHECK(circuit_cooldown_ns(1, &C) == 30 * S);
	T_CHECK(circuit_cooldown_ns(2, &C) == 60 * S);
	T_CHECK(circuit_cooldown_ns(6, &C) == 600 * S);
	T_CHECK(circuit_cooldown_ns(1000, &C) == 600 * S);
	/* Closing resets the growth. */
	t = cb.until_ns;
	circuit_tick(&cb, t);
	circuit_sample(&cb, 1, 1, NULL, t, &C);
	circuit_sample(&cb, 1, 1, NULL, t, &C);
	T_CHECK(cb.state == VIGIL_CB_CLOSED);
	for (i = 0; i < 5; i++)
		circuit_sample(&cb, 0, 1, NULL, t, &C);
	T_CHECK(cb.state == VIGIL_CB_OPEN && cb.until_ns - t == 30 * S);
}

/* Critical error rate with at least min_samples opens it. */
static void
test_error_rate(void)
{
	struct circuit cb;
	struct vigil_window w;
	uint64_t t = 1000 * S;

	circuit_init(&cb);
	memset(&w, 0, sizeof(w));
	/* Alternating: never 5 in a row; 80% over 10 samples. */
	w.samples = 4;
	w.ok = 0;
	circuit_sample(&cb, 1, 1, &w, t, &C);
	circuit_sample(&cb, 0, 1, &w, t, &C);
	circuit_sample(&cb, 0, 1, &w, t, &C);
	circuit_sample(&cb, 0, 1, &w, t, &C);
	T_CHECK(cb.state == VIGIL_CB_CLOSED);	/* 4 samples < min 5 */
	w.samples = 5;
	w.ok = 1;
	T_CHECK(circuit_sample(&cb, 0, 1, &w, t, &C) == 1);	/* 4/5 = 80% */
	T_CHECK(cb.state == VIGIL_CB_OPEN);
	/* Back to closed: the old failures in the window do not reopen. */
	circuit_tick(&cb, cb.until_ns);
	circuit_sample(&cb, 1, 1, &w, t, &C);
	circuit_sample(&cb, 1, 1, &w, t, &C);
	T_CHECK(cb.state == VIGIL_CB_CLOSED);
	w.samples = 20;
	w.ok = 2;
	T_CHECK(circuit_sample(&cb, 0, 1, &w, t, &C) == 0);
	T_CHECK(cb.state == VIGIL_CB_CLOSED);
	/* A success in half_open then a failure: back to open. */
	circuit_init(&cb);
	cb.state = VIGIL_CB_HALF_OPEN;
	circuit_sample(&cb, 1, 1, NULL, t, &C);
	T_CHECK(circuit_sample(&cb, 0, 1, NULL, t, &C) == 1);
	T_CHECK(cb.state == VIGIL_CB_OPEN);
}

static void
test_route(void)
{
	static const struct {
		uint8_t circuit, status;
		double p95, rate;
	} in[8] = {
		{ VIGIL_CB_CLOSED, VIGIL_ST_HEALTHY, 300, 0 },
		{ VIGIL_CB_OPEN, VIGIL_ST_UNHEALTHY, 50, 1 },
		{ VIGIL_CB_CLOSED, VIGIL_ST_HEALTHY, 100, 0 },
		{ VIGIL_CB_HALF_OPEN, VIGIL_ST_DEGRADED, 10, 0 },
		{ VIGIL_CB_CLOSED, VIGIL_ST_DEGRADED, 100, 0.2 },
		{ VIGIL_CB_CLOSED, VIGIL_ST_UNKNOWN, 0, 0 },
		{ VIGIL_CB_CLOSED, VIGIL_ST_EXHAUSTED, 20, 0 },
		{ VIGIL_CB_CLOSED, VIGIL_ST_THROTTLED, 20, 0 },
	};
	struct route_cand c[8];
	uint32_t out[8];
	size_t n, i;

	memset(c, 0, sizeof(c));
	for (i = 0; i < 8; i++) {
		c[i].idx = (uint32_t)i;
		c[i].circuit = in[i].circuit;
		c[i].status = in[i].status;
		c[i].score = circuit_score(in[i].p95, in[i].rate);
		/* Throttled with no usable_at yet: out, like exhausted. */
		c[i].usable = (uint8_t)status_usable(in[i].status,
		    in[i].circuit, 0, 1000);
	}
	n = route_order(c, 8, out);
	T_CHECK(n == 4);
	T_CHECK(out[0] == 2 && out[1] == 0 && out[2] == 4 && out[3] == 3);
	T_CHECK(circuit_score(0, 0) == 1e9);
	T_CHECK(fabs(circuit_score(100, 0.1) - (200 + 100)) < 1e-9);
	/* Throttled is usable from usable_at on, not before. */
	T_CHECK(!status_usable(VIGIL_ST_THROTTLED, VIGIL_CB_CLOSED, 2000,
	    1999));
	T_CHECK(status_usable(VIGIL_ST_THROTTLED, VIGIL_CB_CLOSED, 2000,
	    2000));
	T_CHECK(!status_usable(VIGIL_ST_MISCONFIGURED, VIGIL_CB_CLOSED, 0,
	    0));
	T_CHECK(!status_usable(VIGIL_ST_PAUSED, VIGIL_CB_CLOSED, 0, 0));
	T_CHECK(status_usable(VIGIL_ST_UNHEALTHY, VIGIL_CB_CLOSED, 0, 0));
}

/*
 * A confirmation's extra requests (not windowed) count as failures in a
 * row but not into the error rate since the close, which parallels the
 * window.
 */
static void
test_unwindowed(void)
{
	struct circuit cb;
	struct conf c = C;
	uint64_t t = 1000 * S;
	int i;

	c.circuit_failures = 0;		/* only the error rate opens it */
	circuit_init(&cb);
	for (i = 0; i < 4; i++)
		circuit_sample(&cb, 1, 1, NULL, t + i * S, &c);
	for (i = 0; i < 20; i++)
		T_CHECK(circuit_sample(&cb, 0, 0, NULL, t + 5 * S, &c) == 0);
	T_CHECK(cb.failures == 20 && cb.sc_samples == 4 &&
	    cb.sc_failures == 0);
	T_CHECK(cb.state == VIGIL_CB_CLOSED);
	/* The same failures, windowed: 20 of 24 is over 80%. */
	T_CHECK(circuit_sample(&cb, 0, 1, NULL, t + 6 * S, &c) == 0);
	for (i = 0; i < 19 && cb.state == VIGIL_CB_CLOSED; i++)
		circuit_sample(&cb, 0, 1, NULL, t + 6 * S, &c);
	T_CHECKF(cb.state == VIGIL_CB_OPEN && i < 19, "%d", i);
}

/*
 * The circuit_open alert's figure: what opened it, in its units, while
 * not closed; the same figure now once closed (for the resolved).
 */
static void
test_figure(void)
{
	struct circuit cb;
	uint64_t t = 1000 * S;
	double v, th;
	int i;

	circuit_init(&cb);
	for (i = 0; i < 20; i++)
		circuit_sample(&cb, 1, 1, NULL, t, &C);
	for (i = 0; i < 5; i++)
		circuit_sample(&cb, 0, 1, NULL, t + (uint64_t)i * S, &C);
	T_CHECK(cb.state == VIGIL_CB_OPEN && cb.by == CIRCUIT_BY_FAILURES);
	circuit_figure(&cb, &C, &v, &th);
	T_CHECKF(v == 5.0 && th == 5.0, "%g %g", v, th);
	/* A failed half-open trial: 1 in a row against the 1 it allows. */
	circuit_tick(&cb, t + 60 * S);
	T_CHECK(cb.state == VIGIL_CB_HALF_OPEN);
	circuit_sample(&cb, 1, 1, NULL, t + 61 * S, &C);
	circuit_sample(&cb, 0, 1, NULL, t + 62 * S, &C);
	circuit_figure(&cb, &C, &v, &th);
	T_CHECKF(cb.state == VIGIL_CB_OPEN && v == 1.0 && th == 1.0,
	    "%g %g", v, th);
	circuit_tick(&cb, t + 200 * S);
	circuit_sample(&cb, 1, 1, NULL, t + 201 * S, &C);
	circuit_sample(&cb, 1, 1, NULL, t + 202 * S, &C);
	T_CHECK(cb.state == VIGIL_CB_CLOSED);
	circuit_figure(&cb, &C, &v, &th);
	T_CHECKF(v == 0.0 && th == 5.0, "%g %g", v, th);
	/* Opened by the rate: 4 of 5 since the close, a fraction. */
	circuit_init(&cb);
	for (i = 0; i < 5; i++)
		circuit_sample(&cb, i == 2, 1, NULL, t + (uint64_t)i * S, &C);
	T_CHECK(cb.state == VIGIL_CB_OPEN && cb.by == CIRCUIT_BY_RATE);
	circuit_figure(&cb, &C, &v, &th);
	T_CHECKF(fabs(v - 0.8) < 1e-9 && fabs(th - 0.8) < 1e-9, "%g %g", v,
	    th);
}

int
main(void)
{
	settings_defaults(&C);
	T_RUN(test_consecutive);
	T_RUN(test_cooldown_growth);
	T_RUN(test_error_rate);
	T_RUN(test_route);
	T_RUN(test_unwindowed);
	T_RUN(test_figure);
	return t_done();
}
