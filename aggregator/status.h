/*
 * status.h - a provider's status from its windows, with hysteresis.
 */
#ifndef VIGIL_AGG_STATUS_H
#define VIGIL_AGG_STATUS_H

#include <stdint.h>

#include <vigil/vigil.h>

#include "settings.h"
#include "vantage.h"

/* A level is left only once its value is below STATUS_HYST x threshold. */
#define STATUS_HYST		0.9
/* Latency is critical at this multiple of latency_warning_ms. */
#define STATUS_LAT_CRIT		2.0

struct status_input {
	const struct vigil_window *win;	/* [VIGIL_NWINDOWS] */
	uint32_t consecutive_failures;
	int last_outcome;		/* -1: no sample yet */
	int last_failure;		/* newest failure that counts, -1 none */
	int paused;
	int circuit;			/* enum vigil_circuit: a floor */
	uint64_t usable_at;		/* throttled: back at (wall ns), 0 ? */
	uint64_t now_wall;		/* the instant judged, wall ns */
	const struct vantage *vt;	/* the vantage verdict, NULL: none */
	uint64_t net_since;		/* network failures since, wall; 0 */
};

struct status_state {
	uint8_t status;		/* enum vigil_status */
	uint8_t er_level;	/* 0 none, 1 warning, 2 critical */
	uint8_t lat_level;	/* 0 none, 1 warning, 2 critical */
	uint8_t reason;		/* enum vigil_reason */
	uint8_t usable;		/* may a router send now */
	uint8_t needs_human;	/* only a human brings it back */
	uint8_t vantage;	/* enum vantage_word: outage alerts held */
	int win;		/* window judged, -1: none trusted */
	double rate;		/* its error rate, 0..1 */
	double p95_ms;		/* its p95 */
};

int	status_window(const struct vigil_window *, uint32_t);
int	status_level(int, double, double, double);
int	status_eval(struct status_state *, const struct status_input *,
	    const struct conf *);
int	status_usable(unsigned, int, uint64_t, uint64_t);
int	status_models_floor(struct status_state *, unsigned, uint8_t);

#endif /* VIGIL_AGG_STATUS_H */
