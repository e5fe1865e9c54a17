/*
 * trend.h - degrading, stable or improving: short windows against 15m.
 */
#ifndef VIGIL_AGG_TREND_H
#define VIGIL_AGG_TREND_H

#include <stdint.h>

#include <vigil/vigil.h>

#include "settings.h"

#define TREND_RATE_DELTA	0.10	/* enter: 10 points of error rate */
#define TREND_RATE_STAY		0.05	/* stay: 5 points */
#define TREND_MIN_FAILS		2	/* failures in the short window */
#define TREND_P95_RATIO		1.5	/* enter: p95 half again as slow */
#define TREND_P95_STAY		1.25	/* stay: a quarter as slow */
#define TREND_MIN_OK		10	/* ok samples for a p95 to compare */
#define TREND_FLOOR_MS		50.0	/* the p95 rise, at least ... */
#define TREND_FLOOR_FRAC	0.05	/* ... and 5% of latency_warning */
#define TREND_CALM_NS		UINT64_C(60000000000) /* 60 s to leave */
#define TREND_EPS		1e-9

/* Which figure made the trend degrading (the alert's value, threshold). */
enum trend_fig {
	TREND_FIG_NONE = 0,
	TREND_FIG_RATE,		/* short error rate, fraction 0..1 */
	TREND_FIG_P95		/* short p95, ms */
};

struct trend_state {
	uint8_t trend;		/* enum vigil_trend */
	uint8_t fig;		/* enum trend_fig, while degrading */
	uint64_t calm_since;	/* degrading: when the stay rule first
				   failed (CLOCK_MONOTONIC), 0 not yet */
	double value;		/* the figure now ... */
	double threshold;	/* ... and the threshold it entered at */
};

double	trend_floor_ms(const struct conf *);
int	trend_eval(struct trend_state *, const struct vigil_window *,
	    const struct conf *, uint64_t);

#endif /* VIGIL_AGG_TREND_H */
