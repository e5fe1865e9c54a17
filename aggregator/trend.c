/*
 * trend.c - the direction a provider is going.
 *
 * Two figures, each a short window against the 15-minute one
 * (docs/aggregation.md, "Trend"):
 *   error rate  short: 1m when it holds min_samples samples, else 5m;
 *               both need min_samples, the long one more than the short;
 *   p95         short: 1m when it holds TREND_MIN_OK ok samples, else
 *               5m; both need that many, the long one more than the short.
 * Enter degrading when
 *   short rate >= long rate + 0.10, with at least 2 failures in the short
 *   window (one failure in five samples is a blip, not a direction); or
 *   short p95 >= 1.5 x long p95 and short p95 >= long p95 + floor, the
 *   floor max(50 ms, 5% of latency_warning): a ratio alone turns a
 *   sub-millisecond provider's jitter (0.4 ms -> 0.8 ms, 2 x) into a
 *   warning (issue 15), and no one routes around 0.4 ms.
 * Hysteresis: degrading stays while short rate >= long + 0.05 (2 failures)
 * or short p95 >= 1.25 x long and >= long + floor / 2; once neither holds
 * it is left only after TREND_CALM_NS (60 s) of that, so a figure
 * hovering at the threshold does not flap the trend, nor its alert.
 *   improving  short rate <= long - 0.10, or short p95 <= long p95 / 1.5
 *              and <= long p95 - floor; and not degrading;
 *   stable     otherwise.
 * A ramp of the error rate 0% -> 30% shows as degrading (30 points above
 * a 15-minute window still mostly clean) well before the 50% warning.
 */
#include "trend.h"

static int	trend_rate_pair(const struct vigil_window *, uint32_t,
		    const struct vigil_window **);
static int	trend_p95_pair(const struct vigil_window *, uint32_t,
		    const struct vigil_window **);
static int	trend_rate_up(const struct vigil_window *,
		    const struct vigil_window *, double);
static int	trend_p95_up(const struct vigil_window *,
		    const struct vigil_window *, double, double);
static void	trend_figure(struct trend_state *, const struct vigil_window *,
		    const struct vigil_window *, const struct vigil_window *,
		    double);

/* The smallest rise of p95 that is a trend: max(50 ms, 5% of warning). */
double
trend_floor_ms(const struct conf *c)
{
	double f = TREND_FLOOR_FRAC * (double)c->latency_warning_ms;

	return f > TREND_FLOOR_MS ? f : TREND_FLOOR_MS;
}

/* The short window for the error rate into *s; 0 if none is usable. */
static int
trend_rate_pair(const struct vigil_window *win, uint32_t min,
    const struct vigil_window **s)
{
	*s = win[VIGIL_WIN_1M].samples >= min ? &win[VIGIL_WIN_1M] :
	    &win[VIGIL_WIN_5M];
	return (*s)->samples >= min &&
	    win[VIGIL_WIN_15M].samples > (*s)->samples;
}

/*
 * The short window for p95 into *s; 0 if none is usable.  It counts ok
 * samples (failures carry no latency) and wants TREND_MIN_OK of them:
 * below that a p95 is the window's slowest answer.
 */
static int
trend_p95_pair(const struct vigil_window *win, uint32_t min,
    const struct vigil_window **s)
{
	if (min < TREND_MIN_OK)
		min = TREND_MIN_OK;
	*s = win[VIGIL_WIN_1M].ok >= min ? &win[VIGIL_WIN_1M] :
	    &win[VIGIL_WIN_5M];
	return (*s)->ok >= min && win[VIGIL_WIN_15M].ok > (*s)->ok &&
	    win[VIGIL_WIN_15M].p95_ms > 0.0;
}

/* Short error rate at least delta above the long one, 2 failures. */
static int
trend_rate_up(const struct vigil_window *s, const struct vigil_window *l,
    double delta)
{
	/* TREND_EPS: 0.05 + 0.10 is not >= 0.15 in binary floating point. */
	return s != NULL && s->samples - s->ok >= TREND_MIN_FAILS &&
	    s->error_rate + TREND_EPS >= l->error_rate + delta;
}

/* Short p95 at least ratio times and floor_ms ms above the long one. */
static int
trend_p95_up(const struct vigil_window *s, const struct vigil_window *l,
    double ratio, double floor_ms)
{
	return s != NULL && s->p95_ms >= l->p95_ms * ratio &&
	    s->p95_ms - l->p95_ms + TREND_EPS >= floor_ms;
}

/*
 * The alert's figure for st->fig, in its own units: the short window's
 * value against the threshold that enters degrading now.  Left as it
 * was when the windows do not allow it.
 */
static void
trend_figure(struct trend_state *st, const struct vigil_window *sr,
    const struct vigil_window *sp, const struct vigil_window *l,
    double floor_ms)
{
	double t;

	if (st->fig == TREND_FIG_RATE && sr != NULL) {
		st->value = sr->error_rate;
		st->threshold = l->error_rate + TREND_RATE_DELTA;
	} else if (st->fig == TREND_FIG_P95 && sp != NULL) {
		t = l->p95_ms * TREND_P95_RATIO;
		st->value = sp->p95_ms;
		st->threshold = t > l->p95_ms + floor_ms ? t :
		    l->p95_ms + floor_ms;
	}
}

/*
 * The trend of win[VIGIL_NWINDOWS] at monotonic time now (enum
 * vigil_trend), from and into st (zeroed for a new provider).  st->fig,
 * value and threshold say which figure made it degrading, in the units
 * of that figure; they are kept after it leaves, for the resolved
 * alert.  O(1).
 */
int
trend_eval(struct trend_state *st, const struct vigil_window *win,
    const struct conf *c, uint64_t now)
{
	const struct vigil_window *sr, *sp, *l = &win[VIGIL_WIN_15M];
	double floor_ms = trend_floor_ms(c);
	int stay_r, stay_p;

	if (!trend_rate_pair(win, c->min_samples ? c->min_samples : 1, &sr))
		sr = NULL;
	if (!trend_p95_pair(win, c->min_samples, &sp))
		sp = NULL;
	if (st->trend == VIGIL_TR_DEGRADING) {
		/* The entry rules imply these: checking them is enough. */
		stay_r = trend_rate_up(sr, l, TREND_RATE_STAY);
		stay_p = trend_p95_up(sp, l, TREND_P95_STAY, floor_ms / 2);
		if (!(st->fig == TREND_FIG_RATE && stay_r) &&
		    !(st->fig == TREND_FIG_P95 && stay_p))
			st->fig = stay_r ? TREND_FIG_RATE : stay_p ?
			    TREND_FIG_P95 : st->fig;
		trend_figure(st, sr, sp, l, floor_ms);
		if (stay_r || stay_p) {
			st->calm_since = 0;
			return st->trend;
		}
		/* A late sample's time may be older: it starts the calm. */
		if (st->calm_since == 0 || now < st->calm_since)
			st->calm_since = now;
		if (now - st->calm_since < TREND_CALM_NS)
			return st->trend;
	} else if (trend_rate_up(sr, l, TREND_RATE_DELTA) ||
	    trend_p95_up(sp, l, TREND_P95_RATIO, floor_ms)) {
		st->fig = trend_rate_up(sr, l, TREND_RATE_DELTA) ?
		    TREND_FIG_RATE : TREND_FIG_P95;
		st->calm_since = 0;
		trend_figure(st, sr, sp, l, floor_ms);
		return st->trend = VIGIL_TR_DEGRADING;
	}
	st->calm_since = 0;
	trend_figure(st, sr, sp, l, floor_ms);
	if ((sr != NULL && sr->error_rate <= l->error_rate - TREND_RATE_DELTA +
	    TREND_EPS) || (sp != NULL && sp->p95_ms * TREND_P95_RATIO <=
	    l->p95_ms && l->p95_ms - sp->p95_ms + TREND_EPS >= floor_ms))
		return st->trend = VIGIL_TR_IMPROVING;
	return st->trend = VIGIL_TR_STABLE;
}
