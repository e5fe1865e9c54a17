/*
 * circuit.h - the per-provider circuit breaker and the routing score.
 */
#ifndef VIGIL_AGG_CIRCUIT_H
#define VIGIL_AGG_CIRCUIT_H

#include <stddef.h>
#include <stdint.h>

#include <vigil/vigil.h>

#include "settings.h"

/* What opened the circuit: the figure of its circuit_open alert. */
enum circuit_by {
	CIRCUIT_BY_FAILURES = 0,	/* failures in a row */
	CIRCUIT_BY_RATE			/* error rate since it closed */
};

struct circuit {
	uint8_t state;		/* enum vigil_circuit */
	uint8_t by;		/* enum circuit_by, of the last open */
	double open_value;	/* the figure when it opened ... */
	double open_threshold;	/* ... and the threshold it reached */
	uint32_t opens;		/* opens since start (stats.circuit_opens) */
	uint32_t streak;	/* opens since the circuit last closed */
	uint32_t failures;	/* consecutive failures */
	uint32_t successes;	/* consecutive successes in half_open */
	uint64_t since_ns;	/* CLOCK_MONOTONIC of the last transition */
	uint64_t until_ns;	/* open: when half_open is due */
	uint32_t sc_samples;	/* samples since the circuit last closed */
	uint32_t sc_failures;	/* ... and failures among them */
};

/* A candidate for the routing order. */
struct route_cand {
	uint32_t idx;
	uint8_t circuit;
	uint8_t status;
	uint8_t usable;			/* status_usable() */
	double score;
};

void		circuit_init(struct circuit *);
uint64_t	circuit_cooldown_ns(uint32_t, const struct conf *);
int		circuit_sample(struct circuit *, int, int,
		    const struct vigil_window *, uint64_t,
		    const struct conf *);
int		circuit_tick(struct circuit *, uint64_t);
void		circuit_figure(const struct circuit *, const struct conf *,
		    double *, double *);
double		circuit_score(double, double);
size_t		route_order(struct route_cand *, size_t, uint32_t *);

#endif /* VIGIL_AGG_CIRCUIT_H */
