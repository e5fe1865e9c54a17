/*
 * trend.c - the direction a provider is going.
 *
 * Short window: 1m when it holds min_samples samples, else 5m.  Long
 * window: 15m.  Both need min_samples samples, and the long one must hold
 * more samples than the short one (else they are the same data): without
 * that the trend is stable.
 *   degrading  short error rate >= long + 0.10, or short p95 >= 1.5 x
 *              long p95 (both windows with ok samples);
 *   improving  short error rate <= long - 0.10, or short p95 <= long p95
 *              / 1.5, and not degrading;
 *   stable     otherwise.
 * A ramp of the error rate 0% -> 30% shows as degrading (30 points above
 * a 15-minute window still mostly clean) well before the 50% warning.
 */
#include "trend.h"

/* The trend of win[VIGIL_NWINDOWS] (enum vigil_trend).  O(1). */
int
trend_eval(const struct vigil_window *win, uint32_t min_samples)
{
	const struct vigil_window *s, *l = &win[VIGIL_WIN_15M];
	int lat;

	if (min_samples == 0)
		min_samples = 1;
	s = win[VIGIL_WIN_1M].samples >= min_samples ? &win[VIGIL_WIN_1M] :
	    &win[VIGIL_WIN_5M];
	if (s->samples < min_samples || l->samples <= s->samples)
		return VIGIL_TR_STABLE;
	lat = s->ok > 0 && l->ok > 0 && l->p95_ms > 0.0;
	/* TREND_EPS: 0.05 + 0.10 is not >= 0.15 in binary floating point. */
	if (s->error_rate + TREND_EPS >= l->error_rate + TREND_RATE_DELTA ||
	    (lat && s->p95_ms >= l->p95_ms * TREND_P95_RATIO))
		return VIGIL_TR_DEGRADING;
	if (s->error_rate <= l->error_rate - TREND_RATE_DELTA + TREND_EPS ||
	    (lat && s->p95_ms * TREND_P95_RATIO <= l->p95_ms))
		return VIGIL_TR_IMPROVING;
	return VIGIL_TR_STABLE;
}
