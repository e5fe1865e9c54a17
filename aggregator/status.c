/*
 * status.c - healthy, degraded, unhealthy, misconfigured, unknown, paused.
 *
 * The rules, in order (docs/aggregation.md, "Status"), with the reason:
 *   1 paused         the directory slot has VIGIL_PF_PAUSED;
 *   2 unknown        no answer in the 15-minute window; or our network
 *                    fails (reason network: vantage.c says "ours");
 *   3 exhausted      the newest answer is quota (reason quota);
 *     misconfigured  the newest answer is auth or client_error (reason
 *                    auth, client_error); these three need a human;
 *   4 throttled      the newest answer is rate_limited (rate_limited);
 *   5 unhealthy      error-rate level critical (errors), or down_after
 *                    failures in a row, or the circuit is open (outage);
 *   6 degraded       the newest answer is model_missing (model_missing,
 *                    needs a human), error-rate level warning (errors),
 *                    latency level warning (slow), or the circuit is
 *                    half_open (outage: recovering);
 *   7 healthy        otherwise (no reason).
 * errors and outage read overloaded when the newest failure was.
 * Answers about us (vigil_outcome_counts() 0) are not in the rates.
 * Rates are judged on the shortest window holding min_samples samples.
 * Hysteresis: a level is entered at its threshold and left only once the
 * value is below STATUS_HYST (90%) of it, so a rate hovering at 50%
 * enters "degraded" once and stays until it drops below 45%.
 * The circuit decides routing and the status must not contradict it: an
 * open circuit keeps the provider out of the routing order, so it is not
 * healthy even once its window's error rate has fallen (recovery after
 * an outage: the window still holds the outage, the circuit waits for
 * its cool-down); a half_open one is tried last, so at best degraded.
 */
#include "status.h"

static int	status_needs_human(uint8_t);

/*
 * The shortest window (1m, 5m, 15m) holding at least min_samples samples,
 * or -1.  At the default 30 s interval the 1-minute window holds two
 * samples, so a rate is judged on 5 minutes there and on 1 minute at
 * fast intervals.
 */
int
status_window(const struct vigil_window *win, uint32_t min_samples)
{
	int i;

	if (min_samples == 0)
		min_samples = 1;
	for (i = 0; i < VIGIL_NWINDOWS; i++)
		if (win[i].samples >= min_samples)
			return i;
	return -1;
}

/*
 * The level (0 none, 1 warning, 2 critical) of value v against the
 * thresholds warn and crit, given the previous level: entering needs
 * v >= threshold, staying needs v >= STATUS_HYST x threshold.
 */
int
status_level(int prev, double v, double warn, double crit)
{
	if (v >= crit || (prev >= 2 && v >= crit * STATUS_HYST))
		return 2;
	if (v >= warn || (prev >= 1 && v >= warn * STATUS_HYST))
		return 1;
	return 0;
}

/* Answers in window w: those that count, and those about us. */
static uint32_t
status_answers(const struct vigil_window *w)
{
	uint32_t n = 0;
	int i;

	for (i = 0; i < VIGIL_OUT_COUNT; i++)
		n += w->by_outcome[i];
	return n;
}

/*
 * May a router send now (docs/aggregation.md, "Usable")?  The same rule
 * decides who is in the routing order (route_order), so the two cannot
 * disagree: a circuit that is not open, on a provider that is healthy,
 * degraded or unhealthy (the circuit is the judge of "down"); a throttled
 * one from usable_at on; never one unknown, paused, misconfigured or
 * exhausted.
 */
int
status_usable(unsigned status, int circuit, uint64_t usable_at,
    uint64_t now_wall)
{
	switch (status) {
	case VIGIL_ST_HEALTHY:
	case VIGIL_ST_DEGRADED:
	case VIGIL_ST_UNHEALTHY:
		return circuit != VIGIL_CB_OPEN;
	case VIGIL_ST_THROTTLED:
		return usable_at != 0 && now_wall >= usable_at;
	default:
		return 0;
	}
}

/*
 * The provider's models (aggregator/models.c): one that is not well
 * makes a healthy provider degraded, with that model's reason (and needs
 * a human when the reason does), never worse: its other models work.
 * worst is the worst model's status (models_worst).  Returns 1 if st
 * changed.
 */
int
status_models_floor(struct status_state *st, unsigned worst, uint8_t reason)
{
	if (st->status != VIGIL_ST_HEALTHY || worst == VIGIL_ST_HEALTHY ||
	    worst == VIGIL_ST_UNKNOWN || worst == VIGIL_ST_PAUSED)
		return 0;
	st->status = VIGIL_ST_DEGRADED;
	st->reason = reason;
	st->needs_human = (uint8_t)status_needs_human(reason);
	return 1;
}

/* Reasons that do not go away by themselves: our credit, our key, our
 * request, a model gone. */
static int
status_needs_human(uint8_t reason)
{
	return reason == VIGIL_RS_QUOTA || reason == VIGIL_RS_AUTH ||
	    reason == VIGIL_RS_CLIENT_ERROR || reason == VIGIL_RS_MODEL_MISSING;
}

/* Failing or erring: overloaded when that is what it said last. */
static uint8_t
status_fail_reason(const struct status_input *in, uint8_t otherwise)
{
	return in->last_failure == VIGIL_OUT_OVERLOADED ?
	    VIGIL_RS_OVERLOADED : otherwise;
}

/*
 * The status and reason of what the windows say: unhealthy, degraded or
 * healthy (the rules 5 to 7 of the header comment).
 */
static void
status_from_windows(struct status_state *st, const struct status_input *in,
    const struct conf *c)
{
	int down = c->down_after > 0 &&
	    in->consecutive_failures >= c->down_after;

	if (st->er_level >= 2 || down || in->circuit == VIGIL_CB_OPEN) {
		st->status = VIGIL_ST_UNHEALTHY;
		st->reason = status_fail_reason(in, down ||
		    in->circuit == VIGIL_CB_OPEN ? VIGIL_RS_OUTAGE :
		    VIGIL_RS_ERRORS);
	} else if (in->last_outcome == VIGIL_OUT_MODEL_MISSING) {
		st->status = VIGIL_ST_DEGRADED;
		st->reason = VIGIL_RS_MODEL_MISSING;
	} else if (st->er_level >= 1) {
		st->status = VIGIL_ST_DEGRADED;
		st->reason = status_fail_reason(in, VIGIL_RS_ERRORS);
	} else if (st->lat_level >= 1) {
		st->status = VIGIL_ST_DEGRADED;
		st->reason = VIGIL_RS_SLOW;
	} else if (in->circuit == VIGIL_CB_HALF_OPEN) {
		st->status = VIGIL_ST_DEGRADED;
		st->reason = VIGIL_RS_OUTAGE;	/* recovering from it */
	} else {
		st->status = VIGIL_ST_HEALTHY;
		st->reason = VIGIL_RS_NONE;
	}
}

/*
 * Evaluate st from in and the thresholds of c; st holds the previous
 * levels on entry (zeroed for a new provider).  Returns 1 if the status,
 * the reason or usable changed.  O(1).
 */
int
status_eval(struct status_state *st, const struct status_input *in,
    const struct conf *c)
{
	const struct vigil_window *w;
	uint8_t old = st->status, oreason = st->reason, ousable = st->usable;
	double lw;

	st->win = status_window(in->win, c->min_samples);
	if (st->win >= 0) {
		w = &in->win[st->win];
		st->rate = w->error_rate;
		st->p95_ms = w->ok > 0 ? w->p95_ms : 0.0;
		st->er_level = (uint8_t)status_level(st->er_level,
		    st->rate * 100.0, (double)c->warning_error_rate,
		    (double)c->critical_error_rate);
		lw = (double)c->latency_warning_ms;
		st->lat_level = lw > 0 && w->ok > 0 ? (uint8_t)status_level(
		    st->lat_level, st->p95_ms, lw, lw * STATUS_LAT_CRIT) : 0;
	} else {
		st->rate = 0.0;
		st->p95_ms = 0.0;
		st->er_level = 0;
		st->lat_level = 0;
	}

	st->reason = VIGIL_RS_NONE;
	st->vantage = in->paused ? VANTAGE_NONE :
	    (uint8_t)vantage_provider(in->vt, in->net_since, in->now_wall);
	if (in->paused)
		st->status = VIGIL_ST_PAUSED;
	else if (in->last_outcome < 0 ||
	    status_answers(&in->win[VIGIL_WIN_15M]) == 0)
		st->status = VIGIL_ST_UNKNOWN;
	else if (st->vantage == VANTAGE_OURS) {
		/* Not the provider's failure: we cannot tell how it is. */
		st->status = VIGIL_ST_UNKNOWN;
		st->reason = VIGIL_RS_NETWORK;
	} else if (in->last_outcome == VIGIL_OUT_QUOTA) {
		st->status = VIGIL_ST_EXHAUSTED;
		st->reason = VIGIL_RS_QUOTA;
	} else if (in->last_outcome == VIGIL_OUT_AUTH ||
	    in->last_outcome == VIGIL_OUT_CLIENT_ERROR) {
		st->status = VIGIL_ST_MISCONFIGURED;
		st->reason = in->last_outcome == VIGIL_OUT_AUTH ?
		    VIGIL_RS_AUTH : VIGIL_RS_CLIENT_ERROR;
	} else if (in->last_outcome == VIGIL_OUT_RATE_LIMITED) {
		st->status = VIGIL_ST_THROTTLED;
		st->reason = VIGIL_RS_RATE_LIMITED;
	} else
		status_from_windows(st, in, c);
	st->needs_human = (uint8_t)status_needs_human(st->reason);
	st->usable = (uint8_t)status_usable(st->status, in->circuit,
	    in->usable_at, in->now_wall);
	return st->status != old || st->reason != oreason ||
	    st->usable != ousable;
}
