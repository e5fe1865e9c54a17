/*
 * check.h - the prober's check/confirmation state machine: what each
 * published sample changes, and when the next check runs with how many
 * requests.  Pure: samples, the time and a random word go in, decisions
 * come out, so every rule is unit-tested (tests/unit/test_check.c)
 * without a network or a clock.
 *
 * A check is one request, or for a confirmation several at once
 * (prober/main.c runs them); each gives a sample, fed to check_sample in
 * publication order between check_begin and check_decide.
 */
#ifndef VIGIL_PROBER_CHECK_H
#define VIGIL_PROBER_CHECK_H

#include <stdint.h>

#include <vigil/vigil.h>

#define CHECK_RETRY_MIN_MS	1000	/* a provider's wait at least this,
					   or the interval if shorter */

struct check_conf {
	uint32_t	interval_ms;	/* configured interval */
	uint32_t	fast_percent;	/* interval % while circuit is not
					   closed */
	uint32_t	confirm_max;	/* confirm quickly up to this many */
	uint32_t	retry_max_ms;	/* retry_after_max: the longest wait */
};

struct check {
	/* Across checks. */
	uint32_t	fails;		/* failures in a row that count */
	uint32_t	backoff;	/* 429s without a hint in a row */
	uint64_t	hold_mono_ns;	/* no check before (rate limited) */
	int		rq_known;	/* the newest requests headroom: */
	uint32_t	rq_remaining;
	uint64_t	rq_until_mono_ns; /* good until its reset (0: none) */
	/* The check running. */
	uint32_t	nsamples;
	int		any_ok;
	int		rule;		/* outcome that rules when none is ok */
};

struct check_next {
	uint32_t	delay_ms;	/* from now */
	uint32_t	count;		/* requests made at once */
	int		confirming;
};

void		check_init(struct check *);
void		check_begin(struct check *);
void		check_sample(struct check *, const struct check_conf *,
		    struct vigil_sample *, int, uint32_t);
void		check_decide(const struct check *, const struct check_conf *,
		    int, uint64_t, uint32_t, struct check_next *);
uint32_t	check_hold_ms(const struct check *, uint64_t);
uint32_t	check_headroom(const struct check *, uint64_t);
int		check_step_aside(uint64_t, uint64_t, uint32_t);

#endif /* VIGIL_PROBER_CHECK_H */
