/*
 * test_status.c - status rules, thresholds and hysteresis.
 */
#include <stdint.h>

#include "t.h"
#include "../../aggregator/status.h"

static struct conf C;

/* Windows where every one holds n samples at error rate r, p95 p. */
static void
mkwin(struct vigil_window *w, uint32_t n, double r, double p95)
{
	int k;

	memset(w, 0, sizeof(*w) * VIGIL_NWINDOWS);
	for (k = 0; k < VIGIL_NWINDOWS; k++) {
		w[k].samples = n;
		w[k].ok = (uint32_t)(n - (uint32_t)(r * n + 0.5));
		w[k].error_rate = n ? (double)(n - w[k].ok) / n : 0;
		w[k].uptime = 1 - w[k].error_rate;
		w[k].p95_ms = p95;
		w[k].by_outcome[VIGIL_OUT_OK] = w[k].ok;
		w[k].by_outcome[VIGIL_OUT_TIMEOUT] = n - w[k].ok;
	}
}

static int
eval(struct status_state *st, uint32_t n, double r, double p95, int last,
    uint32_t cf)
{
	struct vigil_window w[VIGIL_NWINDOWS];
	struct status_input in;

	mkwin(w, n, r, p95);
	memset(&in, 0, sizeof(in));
	in.win = w;
	in.last_outcome = last;
	in.consecutive_failures = cf;
	status_eval(st, &in, &C);
	return st->status;
}

static void
test_thresholds(void)
{
	struct status_state st;

	memset(&st, 0, sizeof(st));
	T_CHECK(eval(&st, 0, 0, 0, -1, 0) == VIGIL_ST_UNKNOWN);
	T_CHECK(eval(&st, 100, 0.0, 100, VIGIL_OUT_OK, 0) ==
	    VIGIL_ST_HEALTHY);
	T_CHECK(eval(&st, 100, 0.49, 100, VIGIL_OUT_OK, 0) ==
	    VIGIL_ST_HEALTHY);
	T_CHECK(eval(&st, 100, 0.50, 100, VIGIL_OUT_OK, 0) ==
	    VIGIL_ST_DEGRADED);
	T_CHECK(st.er_level == 1);
	T_CHECK(eval(&st, 100, 0.79, 100, VIGIL_OUT_OK, 0) ==
	    VIGIL_ST_DEGRADED);
	T_CHECK(eval(&st, 100, 0.80, 100, VIGIL_OUT_OK, 0) ==
	    VIGIL_ST_UNHEALTHY);
	T_CHECK(st.er_level == 2);
	memset(&st, 0, sizeof(st));
	/* Latency: p95 at the warning is degraded, not unhealthy. */
	T_CHECK(eval(&st, 100, 0.0, 1999, VIGIL_OUT_OK, 0) ==
	    VIGIL_ST_HEALTHY);
	T_CHECK(eval(&st, 100, 0.0, 2000, VIGIL_OUT_OK, 0) ==
	    VIGIL_ST_DEGRADED);
	T_CHECK(st.lat_level == 1);
	T_CHECK(eval(&st, 100, 0.0, 4000, VIGIL_OUT_OK, 0) ==
	    VIGIL_ST_DEGRADED);
	T_CHECK(st.lat_level == 2);
}

static void
test_outcomes(void)
{
	struct status_state st;

	memset(&st, 0, sizeof(st));
	T_CHECK(eval(&st, 100, 0.01, 100, VIGIL_OUT_AUTH, 1) ==
	    VIGIL_ST_MISCONFIGURED);
	T_CHECK(st.reason == VIGIL_RS_AUTH && st.needs_human && !st.usable);
	T_CHECK(eval(&st, 100, 0.01, 100, VIGIL_OUT_RATE_LIMITED, 1) ==
	    VIGIL_ST_THROTTLED);
	T_CHECK(st.reason == VIGIL_RS_RATE_LIMITED && !st.needs_human);
	/* rate limited is not "down", even many in a row */
	T_CHECK(eval(&st, 100, 0.03, 100, VIGIL_OUT_RATE_LIMITED, 3) ==
	    VIGIL_ST_THROTTLED);
	T_CHECK(eval(&st, 100, 0.03, 100, VIGIL_OUT_TIMEOUT, 3) ==
	    VIGIL_ST_HEALTHY);
	T_CHECK(eval(&st, 100, 0.03, 100, VIGIL_OUT_TIMEOUT, 4) ==
	    VIGIL_ST_UNHEALTHY);
	T_CHECK(st.reason == VIGIL_RS_OUTAGE && st.usable);
	memset(&st, 0, sizeof(st));
	{
		struct vigil_window w[VIGIL_NWINDOWS];
		struct status_input in;

		mkwin(w, 10, 0, 100);
		memset(&in, 0, sizeof(in));
		in.win = w;
		in.last_outcome = VIGIL_OUT_OK;
		in.paused = 1;
		status_eval(&st, &in, &C);
		T_CHECK(st.status == VIGIL_ST_PAUSED);
	}
}

/* Evaluate with every input given. */
static int
eval_in(struct status_state *st, int last, int last_failure, int circuit,
    uint64_t usable_at, uint64_t now, double r)
{
	struct vigil_window w[VIGIL_NWINDOWS];
	struct status_input in;

	mkwin(w, 100, r, 100);
	memset(&in, 0, sizeof(in));
	in.win = w;
	in.last_outcome = last;
	in.last_failure = last_failure;
	in.circuit = circuit;
	in.usable_at = usable_at;
	in.now_wall = now;
	status_eval(st, &in, &C);
	return st->status;
}

/*
 * Issue 16's table: what each answer about us makes of a provider, with
 * its reason, usable and needs_human; overloaded names the failure.
 */
static void
test_reasons(void)
{
	static const struct {
		int last, last_failure, circuit;
		uint64_t usable_at, now;
		double rate;
		int status, reason, usable, human;
	} tl[] = {
		{ VIGIL_OUT_QUOTA, -1, VIGIL_CB_CLOSED, 0, 5, 0,
		    VIGIL_ST_EXHAUSTED, VIGIL_RS_QUOTA, 0, 1 },
		{ VIGIL_OUT_AUTH, -1, VIGIL_CB_CLOSED, 0, 5, 0,
		    VIGIL_ST_MISCONFIGURED, VIGIL_RS_AUTH, 0, 1 },
		{ VIGIL_OUT_CLIENT_ERROR, -1, VIGIL_CB_CLOSED, 0, 5, 0,
		    VIGIL_ST_MISCONFIGURED, VIGIL_RS_CLIENT_ERROR, 0, 1 },
		{ VIGIL_OUT_MODEL_MISSING, -1, VIGIL_CB_CLOSED, 0, 5, 0,
		    VIGIL_ST_DEGRADED, VIGIL_RS_MODEL_MISSING, 1, 1 },
		/* throttled: usable from usable_at on */
		{ VIGIL_OUT_RATE_LIMITED, -1, VIGIL_CB_CLOSED, 10, 9, 0,
		    VIGIL_ST_THROTTLED, VIGIL_RS_RATE_LIMITED, 0, 0 },
		{ VIGIL_OUT_RATE_LIMITED, -1, VIGIL_CB_CLOSED, 10, 10, 0,
		    VIGIL_ST_THROTTLED, VIGIL_RS_RATE_LIMITED, 1, 0 },
		/* quota wins over an open circuit from before */
		{ VIGIL_OUT_QUOTA, VIGIL_OUT_TIMEOUT, VIGIL_CB_OPEN, 0, 5, 1.0,
		    VIGIL_ST_EXHAUSTED, VIGIL_RS_QUOTA, 0, 1 },
		{ VIGIL_OUT_OVERLOADED, VIGIL_OUT_OVERLOADED, VIGIL_CB_OPEN, 0,
		    5, 1.0, VIGIL_ST_UNHEALTHY, VIGIL_RS_OVERLOADED, 0, 0 },
		{ VIGIL_OUT_HTTP_5XX, VIGIL_OUT_HTTP_5XX, VIGIL_CB_OPEN, 0, 5,
		    1.0, VIGIL_ST_UNHEALTHY, VIGIL_RS_OUTAGE, 0, 0 },
		{ VIGIL_OUT_OK, VIGIL_OUT_OVERLOADED, VIGIL_CB_CLOSED, 0, 5,
		    0.6, VIGIL_ST_DEGRADED, VIGIL_RS_OVERLOADED, 1, 0 },
		{ VIGIL_OUT_OK, VIGIL_OUT_TIMEOUT, VIGIL_CB_CLOSED, 0, 5, 0.6,
		    VIGIL_ST_DEGRADED, VIGIL_RS_ERRORS, 1, 0 },
		{ VIGIL_OUT_OK, VIGIL_OUT_TIMEOUT, VIGIL_CB_HALF_OPEN, 0, 5, 0,
		    VIGIL_ST_DEGRADED, VIGIL_RS_OUTAGE, 1, 0 },
		{ VIGIL_OUT_OK, -1, VIGIL_CB_CLOSED, 0, 5, 0,
		    VIGIL_ST_HEALTHY, VIGIL_RS_NONE, 1, 0 },
	};
	struct status_state st;
	size_t i;

	for (i = 0; i < sizeof(tl) / sizeof(tl[0]); i++) {
		memset(&st, 0, sizeof(st));
		eval_in(&st, tl[i].last, tl[i].last_failure, tl[i].circuit,
		    tl[i].usable_at, tl[i].now, tl[i].rate);
		T_CHECKF(st.status == tl[i].status && st.reason ==
		    tl[i].reason && st.usable == tl[i].usable &&
		    st.needs_human == tl[i].human, "row %zu: %s %s usable %d "
		    "human %d", i, vigil_status_name(st.status),
		    vigil_reason_name(st.reason) ? vigil_reason_name(
		    st.reason) : "none", st.usable, st.needs_human);
	}
	/* usable turning true is a change the caller must write */
	memset(&st, 0, sizeof(st));
	eval_in(&st, VIGIL_OUT_RATE_LIMITED, -1, VIGIL_CB_CLOSED, 10, 9, 0);
	{
		struct vigil_window w[VIGIL_NWINDOWS];
		struct status_input in;

		mkwin(w, 100, 0, 100);
		memset(&in, 0, sizeof(in));
		in.win = w;
		in.last_outcome = VIGIL_OUT_RATE_LIMITED;
		in.last_failure = -1;
		in.usable_at = 10;
		in.now_wall = 10;
		T_CHECK(status_eval(&st, &in, &C) == 1 && st.usable);
	}
}

/* Below min_samples no rate is trusted: 4 failures of 4 are not 100%. */
static void
test_min_samples(void)
{
	struct status_state st;
	struct vigil_window w[VIGIL_NWINDOWS];
	struct status_input in;

	memset(&st, 0, sizeof(st));
	T_CHECK(eval(&st, 4, 1.0, 0, VIGIL_OUT_TIMEOUT, 1) ==
	    VIGIL_ST_HEALTHY);
	T_CHECK(st.win == -1 && st.er_level == 0);
	T_CHECK(eval(&st, 5, 1.0, 0, VIGIL_OUT_TIMEOUT, 1) ==
	    VIGIL_ST_UNHEALTHY);
	T_CHECK(st.win == VIGIL_WIN_1M);
	/* The shortest window holding enough samples is judged. */
	mkwin(w, 3, 1.0, 0);
	w[1].samples = 20;
	w[1].ok = 20;
	w[1].error_rate = 0;
	T_CHECK(status_window(w, 5) == VIGIL_WIN_5M);
	memset(&in, 0, sizeof(in));
	in.win = w;
	in.last_outcome = VIGIL_OUT_TIMEOUT;
	in.consecutive_failures = 1;
	memset(&st, 0, sizeof(st));
	status_eval(&st, &in, &C);
	T_CHECK(st.status == VIGIL_ST_HEALTHY && st.rate == 0.0);
}

/*
 * A rate hovering at the warning threshold (49%, 51%, ...) enters
 * degraded once and stays; it leaves only below 90% of the threshold.
 */
static void
test_hysteresis(void)
{
	struct status_state st;
	int i, changes = 0, prev;

	memset(&st, 0, sizeof(st));
	prev = eval(&st, 100, 0.40, 100, VIGIL_OUT_OK, 0);
	T_CHECK(prev == VIGIL_ST_HEALTHY);
	for (i = 0; i < 100; i++) {
		int s = eval(&st, 100, i % 2 ? 0.49 : 0.51, 100, VIGIL_OUT_OK,
		    0);

		if (s != prev)
			changes++;
		prev = s;
	}
	T_CHECK(changes == 1);
	T_CHECK(prev == VIGIL_ST_DEGRADED);
	T_CHECK(eval(&st, 100, 0.46, 100, VIGIL_OUT_OK, 0) ==
	    VIGIL_ST_DEGRADED);
	T_CHECK(eval(&st, 100, 0.44, 100, VIGIL_OUT_OK, 0) ==
	    VIGIL_ST_HEALTHY);
	/* Same at the critical threshold. */
	changes = 0;
	prev = eval(&st, 100, 0.70, 100, VIGIL_OUT_OK, 0);
	for (i = 0; i < 100; i++) {
		int s = eval(&st, 100, i % 2 ? 0.79 : 0.81, 100, VIGIL_OUT_OK,
		    0);

		if (s != prev)
			changes++;
		prev = s;
	}
	T_CHECK(changes == 1 && prev == VIGIL_ST_UNHEALTHY);
	/* Latency too: 1900 ms after 2100 ms stays degraded. */
	memset(&st, 0, sizeof(st));
	T_CHECK(eval(&st, 100, 0, 2100, VIGIL_OUT_OK, 0) ==
	    VIGIL_ST_DEGRADED);
	T_CHECK(eval(&st, 100, 0, 1900, VIGIL_OUT_OK, 0) ==
	    VIGIL_ST_DEGRADED);
	T_CHECK(eval(&st, 100, 0, 1700, VIGIL_OUT_OK, 0) ==
	    VIGIL_ST_HEALTHY);
	T_CHECK(status_level(0, 49.9, 50, 80) == 0);
	T_CHECK(status_level(1, 45.0, 50, 80) == 1);
	T_CHECK(status_level(1, 44.9, 50, 80) == 0);
	T_CHECK(status_level(2, 72.0, 50, 80) == 2);
	T_CHECK(status_level(2, 71.9, 50, 80) == 1);
}

/*
 * The contradiction: after an outage the circuit is still open
 * (or half_open) while the window's error rate has dropped below the
 * warning.  Status must not say healthy while the circuit keeps the
 * provider out of the routing order: open is unhealthy, half_open at
 * least degraded; only a closed circuit lets it be healthy again.
 * Timeline, 1 s samples: the 1m window's error rate falls 100% -> 32%
 * -> 10% -> 0% as the outage leaves it.
 */
static void
test_circuit_floor(void)
{
	static const struct {
		double rate;
		int circuit;
		int last;
		uint32_t cf;
		int want;
	} tl[] = {
		{ 1.00, VIGIL_CB_OPEN, VIGIL_OUT_TIMEOUT, 30, VIGIL_ST_UNHEALTHY },
		{ 0.32, VIGIL_CB_OPEN, VIGIL_OUT_OK, 0, VIGIL_ST_UNHEALTHY },
		{ 0.25, VIGIL_CB_OPEN, VIGIL_OUT_OK, 0, VIGIL_ST_UNHEALTHY },
		{ 0.10, VIGIL_CB_HALF_OPEN, VIGIL_OUT_OK, 0, VIGIL_ST_DEGRADED },
		{ 0.10, VIGIL_CB_CLOSED, VIGIL_OUT_OK, 0, VIGIL_ST_HEALTHY },
		{ 0.00, VIGIL_CB_CLOSED, VIGIL_OUT_OK, 0, VIGIL_ST_HEALTHY },
		/* still only a floor: worse findings stand */
		{ 0.90, VIGIL_CB_HALF_OPEN, VIGIL_OUT_OK, 0, VIGIL_ST_UNHEALTHY },
		{ 0.00, VIGIL_CB_OPEN, VIGIL_OUT_AUTH, 1,
		    VIGIL_ST_MISCONFIGURED },
	};
	struct vigil_window w[VIGIL_NWINDOWS];
	struct status_state st;
	struct status_input in;
	size_t i;

	memset(&st, 0, sizeof(st));
	for (i = 0; i < sizeof(tl) / sizeof(tl[0]); i++) {
		mkwin(w, 60, tl[i].rate, 200);
		memset(&in, 0, sizeof(in));
		in.win = w;
		in.last_outcome = tl[i].last;
		in.consecutive_failures = tl[i].cf;
		in.circuit = tl[i].circuit;
		status_eval(&st, &in, &C);
		T_CHECKF(st.status == tl[i].want, "step %zu: rate %.2f "
		    "circuit %s: status %s, want %s", i, tl[i].rate,
		    vigil_circuit_name((unsigned)tl[i].circuit),
		    vigil_status_name(st.status),
		    vigil_status_name((unsigned)tl[i].want));
	}
}

int
main(void)
{
	settings_defaults(&C);
	T_RUN(test_thresholds);
	T_RUN(test_outcomes);
	T_RUN(test_reasons);
	T_RUN(test_min_samples);
	T_RUN(test_hysteresis);
	T_RUN(test_circuit_floor);
	return t_done();
}
