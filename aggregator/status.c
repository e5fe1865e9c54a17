/*
 * status.c - healthy, degraded, unhealthy, misconfigured, unknown, paused.
 *
 * The rules, in order (docs/aggregation.md, "Status"):
 *   paused         the directory slot has VIGIL_PF_PAUSED;
 *   unknown        no sample in the 15-minute window;
 *   misconfigured  the newest sample's outcome is auth (401/403);
 *   unhealthy      error-rate level critical, or down_after consecutive
 *                  failures while the newest is not rate_limited, or the
 *                  circuit is open;
 *   degraded       error-rate or latency level warning (or more), or the
 *                  newest sample is rate_limited, or the circuit is
 *                  half_open;
 *   healthy        otherwise.
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

/*
 * Evaluate st from in and the thresholds of c; st holds the previous
 * levels on entry (zeroed for a new provider).  Returns 1 if the status
 * changed.  O(1).
 */
int
status_eval(struct status_state *st, const struct status_input *in,
    const struct conf *c)
{
	const struct vigil_window *w;
	uint8_t old = st->status;
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

	if (in->paused)
		st->status = VIGIL_ST_PAUSED;
	else if (in->last_outcome < 0 || in->win[VIGIL_WIN_15M].samples == 0)
		st->status = VIGIL_ST_UNKNOWN;
	else if (in->last_outcome == VIGIL_OUT_AUTH)
		st->status = VIGIL_ST_MISCONFIGURED;
	else if (st->er_level >= 2 || (c->down_after > 0 &&
	    in->consecutive_failures >= c->down_after &&
	    in->last_outcome != VIGIL_OUT_RATE_LIMITED) ||
	    in->circuit == VIGIL_CB_OPEN)
		st->status = VIGIL_ST_UNHEALTHY;
	else if (st->er_level >= 1 || st->lat_level >= 1 ||
	    in->last_outcome == VIGIL_OUT_RATE_LIMITED ||
	    in->circuit == VIGIL_CB_HALF_OPEN)
		st->status = VIGIL_ST_DEGRADED;
	else
		st->status = VIGIL_ST_HEALTHY;
	return st->status != old;
}
