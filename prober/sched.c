/*
 * sched.c - check scheduling: jitter, confirmation, Retry-After, fast
 * probing while the circuit is not closed.
 *
 * Checks never overlap: the next one is scheduled when the current one
 * ends (all its requests, for a confirmation), so a delay here counts
 * from the end of a check.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include <vigil/vigil.h>

#include "sched.h"

static int	sched_confirming(const struct sched_in *);

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

/* The check that just ended failed, and the next one confirms it. */
static int
sched_confirming(const struct sched_in *in)
{
	return in->outcome != VIGIL_OUT_OK && in->fails < in->confirm_max &&
	    in->outcome != VIGIL_OUT_RATE_LIMITED &&
	    in->outcome != VIGIL_OUT_AUTH;
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
 *  - a failure, until confirm_max of them in a row: a confirmation after
 *    min(interval / 8, 1 s), so that a blip is cleared and an outage
 *    confirmed (status unhealthy, circuit open: the aggregator's
 *    down_after and circuit_failures) within about an eighth of an
 *    interval instead of confirm_max intervals (sched_next_count says
 *    how many requests it makes).  Not for auth (our key: asking again
 *    quickly changes nothing) nor rate_limited (asking again is rude);
 *  - a 429 with Retry-After: at least that long, capped at 10 intervals
 *    (a provider asking for an hour must not silence us for an hour).
 */
uint32_t
sched_next_ms(const struct sched_in *in)
{
	uint64_t base = in->interval_ms, confirm, retry;
	uint32_t d;

	if (!in->circuit_closed && in->fast_percent > 0 &&
	    in->fast_percent < 100)
		base = base * in->fast_percent / 100;
	d = sched_jitter(base > UINT32_MAX ? UINT32_MAX : (uint32_t)base,
	    in->rnd);

	if (sched_confirming(in)) {
		confirm = in->interval_ms / 8;
		if (confirm > SCHED_CONFIRM_MAX_MS)
			confirm = SCHED_CONFIRM_MAX_MS;
		if (confirm < SCHED_MIN_MS)
			confirm = SCHED_MIN_MS;
		if (confirm < d)
			d = (uint32_t)confirm;
	}
	if (in->outcome == VIGIL_OUT_RATE_LIMITED && in->retry_after_ms > 0) {
		retry = in->retry_after_ms;
		if (retry > (uint64_t)in->interval_ms * SCHED_RETRY_CAP)
			retry = (uint64_t)in->interval_ms * SCHED_RETRY_CAP;
		if (retry > d)
			d = retry > UINT32_MAX ? UINT32_MAX : (uint32_t)retry;
	}
	return d;
}

/*
 * Requests the next check makes at once: 1, or for a confirmation as
 * many as the failures still missing to confirm_max, at most
 * SCHED_CONFIRM_PAR.  Made in parallel, on fresh connections, they take
 * one confirmation delay where as many checks in a row would take as
 * many delays; each is a sample, so a provider hard down reaches
 * down_after and circuit_failures failures in a row one confirmation
 * after its first failure.  A random error rate e must fail all of them
 * too (e to the power of the count), as it would in a row.
 */
uint32_t
sched_next_count(const struct sched_in *in)
{
	uint32_t n;

	if (!sched_confirming(in))
		return 1;
	n = in->confirm_max - in->fails;
	return n > SCHED_CONFIRM_PAR ? SCHED_CONFIRM_PAR : n;
}

/*
 * Parse a Retry-After value (RFC 9110: delta-seconds or an HTTP-date)
 * into milliseconds from now.  A date in the past gives 0.  Returns 0,
 * or -1 for a value that is neither.  Seconds saturate at one day: the
 * caller caps far below that anyway.
 */
int
sched_parse_retry_after(const char *v, time_t now, uint32_t *ms)
{
	char buf[128];
	size_t n;
	time_t t;
	unsigned long long s = 0;
	const char *p;

	while (*v == ' ' || *v == '\t')
		v++;
	n = strlen(v);
	while (n > 0 && isspace((unsigned char)v[n - 1]))
		n--;
	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, v, n);
	buf[n] = '\0';

	if (isdigit((unsigned char)buf[0])) {
		for (p = buf; *p != '\0'; p++) {
			if (!isdigit((unsigned char)*p))
				goto date;
			if (s < 86400)
				s = s * 10 + (unsigned)(*p - '0');
		}
		if (s > 86400)
			s = 86400;
		*ms = (uint32_t)(s * 1000);
		return 0;
	}
date:
	if ((t = curl_getdate(buf, NULL)) == -1)
		return -1;
	if (t <= now) {
		*ms = 0;
		return 0;
	}
	s = (unsigned long long)(t - now);
	if (s > 86400)
		s = 86400;
	*ms = (uint32_t)(s * 1000);
	return 0;
}
