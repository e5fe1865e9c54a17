/*
 * trend.h - degrading, stable or improving: short windows against 15m.
 */
#ifndef VIGIL_AGG_TREND_H
#define VIGIL_AGG_TREND_H

#include <stdint.h>

#include <vigil/vigil.h>

#define TREND_RATE_DELTA	0.10	/* 10 points of error rate */
#define TREND_P95_RATIO		1.5	/* p95 half again as slow */
#define TREND_EPS		1e-9

int	trend_eval(const struct vigil_window *, uint32_t);

#endif /* VIGIL_AGG_TREND_H */
