/*
 * sched.c - check scheduling: jitter, the confirmation delay, fast
 * probing while the circuit is not closed.
 *
 * Checks never overlap: the next one is scheduled when the current one
 * ends (all its requests, for a confirmation), so a delay here counts
 * from the end of a check.  Whether the next check confirms, and how
 * long a rate-limited prober waits, prober/check.c decides.
 */
#include <stdlib.h>

#include "sched.h"

/*
 * base_ms spread by +-SCHED_JITTER_PCT percent, chosen by rnd, so that
 * probers started together drift apart.  Never below SCHED_MIN_MS.
 */
uint32_t
sched_jitter(uint32_t base_ms, uint32_t rnd)
{
	uint64_t spread = (uint64_t)base_ms * SCHED_JITTER_PCT / 100;
	uint64_t d;

	d = (uint64_t)base_ms - spread + rnd % (2 * spread + 1);
	if (d < SCHED_MIN_MS)
		d = SCHED_MIN_MS;
	return d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}

/* The first check's delay: random in [0, min(interval, 1 s)). */
uint32_t
sched_first_ms(uint32_t interval_ms, uint32_t rnd)
{
	uint32_t lim = interval_ms < 1000 ? interval_ms : 1000;

	return lim == 0 ? 0 : rnd % lim;
}

/*
 * Delay before the next check, given the one that just ended:
 *  - the interval, or fast_percent of it while the circuit is not closed,
 *    jittered;
 *  - a confirmation (check.c says when: a failure that is the provider's,
 *    until confirm_max of them in a row) after min(interval / 8, 1 s), so
 *    that a blip is cleared and an outage confirmed (status unhealthy,
 *    circuit open: the aggregator's down_after and circuit_failures)
 *    within about an eighth of an interval instead of confirm_max
 *    intervals.
 */
uint32_t
sched_next_ms(const struct sched_in *in)
{
	uint64_t base = in->interval_ms, confirm;
	uint32_t d;

	if (!in->circuit_closed && in->fast_percent > 0 &&
	    in->fast_percent < 100)
		base = base * in->fast_percent / 100;
	d = sched_jitter(base > UINT32_MAX ? UINT32_MAX : (uint32_t)base,
	    in->rnd);

	if (in->confirming) {
		confirm = in->interval_ms / 8;
		if (confirm > SCHED_CONFIRM_MAX_MS)
			confirm = SCHED_CONFIRM_MAX_MS;
		if (confirm < SCHED_MIN_MS)
			confirm = SCHED_MIN_MS;
		if (confirm < d)
			d = (uint32_t)confirm;
	}
	return d;
}
