/*
 * sched.h - when the next check runs.  Pure functions of their inputs
 * (the random word included), so every rule is unit-tested.  Whether a
 * check confirms, and a rate-limited prober's wait, are prober/check.c's.
 */
#ifndef VIGIL_PROBER_SCHED_H
#define VIGIL_PROBER_SCHED_H

#include <stdint.h>

#define SCHED_JITTER_PCT	5	/* +-5% of the interval */
#define SCHED_CONFIRM_MAX_MS	1000	/* confirmation probe at most after */
#define SCHED_CONFIRM_PAR	4	/* requests of one confirmation, at most */
#define SCHED_MIN_MS		50	/* never closer than this */

struct sched_in {
	uint32_t	interval_ms;	/* configured interval */
	uint32_t	fast_percent;	/* interval % while circuit not closed */
	int		circuit_closed;	/* 1: closed (or unknown) */
	int		confirming;	/* the next check confirms a failure */
	uint32_t	rnd;		/* a random word */
};

uint32_t	sched_jitter(uint32_t, uint32_t);
uint32_t	sched_first_ms(uint32_t, uint32_t);
uint32_t	sched_next_ms(const struct sched_in *);

#endif /* VIGIL_PROBER_SCHED_H */
