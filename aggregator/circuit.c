/*
 * circuit.c - closed, open, half_open; and the routing order.
 *
 * Transitions (docs/aggregation.md, "Circuit breaker"):
 *   closed -> open       circuit_failures consecutive failures, or a
 *                        failure while the error rate is at least
 *                        critical_error_rate over at least min_samples
 *                        samples (the rate counts only samples since the
 *                        circuit last closed, so the failures that opened
 *                        it once do not reopen it the moment it closes);
 *   open -> half_open    after the cool-down: circuit_cooldown_ms, doubled
 *                        on every open since the last close, capped at
 *                        circuit_cooldown_max_ms;
 *   half_open -> closed  circuit_successes consecutive successes;
 *   half_open -> open    any failure (the cool-down doubles).
 * Samples that arrive while open change nothing.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "circuit.h"

static void	circuit_open(struct circuit *, uint64_t,
		    const struct conf *, int, double, double);
static int	route_cmp(const void *, const void *);

void
circuit_init(struct circuit *cb)
{
	memset(cb, 0, sizeof(*cb));
	cb->state = VIGIL_CB_CLOSED;
}

/* The cool-down after the n-th open in a row (n >= 1), in ns. */
uint64_t
circuit_cooldown_ns(uint32_t n, const struct conf *c)
{
	uint64_t ms = c->circuit_cooldown_ms, max = c->circuit_cooldown_max_ms;

	if (max < ms)
		max = ms;
	while (n-- > 1 && ms < max)
		ms *= 2;
	if (ms > max)
		ms = max;
	return ms * 1000000u;
}

/* Open at now, by (enum circuit_by) value reaching threshold. */
static void
circuit_open(struct circuit *cb, uint64_t now, const struct conf *c,
    int by, double value, double threshold)
{
	cb->state = VIGIL_CB_OPEN;
	cb->by = (uint8_t)by;
	cb->open_value = value;
	cb->open_threshold = threshold;
	cb->opens++;
	cb->streak++;
	cb->successes = 0;
	cb->since_ns = now;
	cb->until_ns = now + circuit_cooldown_ns(cb->streak, c);
}

/*
 * Feed one sample (ok or not) taken at now; windowed: it is in the
 * windows too (a confirmation's extra requests are not, and count only as
 * failures in a row).  w is the window the status judges rates on
 * (status_window), or NULL.  Returns 1 if the state changed.  O(1).
 */
int
circuit_sample(struct circuit *cb, int ok, int windowed,
    const struct vigil_window *w, uint64_t now, const struct conf *c)
{
	uint32_t n, f;

	if (ok) {
		cb->failures = 0;
	} else if (cb->failures < UINT32_MAX)
		cb->failures++;

	switch (cb->state) {
	case VIGIL_CB_CLOSED:
		if (windowed) {
			cb->sc_samples++;
			if (!ok)
				cb->sc_failures++;
		}
		if (ok)
			return 0;
		if (c->circuit_failures > 0 &&
		    cb->failures >= c->circuit_failures) {
			circuit_open(cb, now, c, CIRCUIT_BY_FAILURES,
			    (double)cb->failures,
			    (double)c->circuit_failures);
			return 1;
		}
		/* The window once it holds only samples since the close. */
		n = cb->sc_samples;
		f = cb->sc_failures;
		if (w != NULL && w->samples <= n) {
			n = w->samples;
			f = w->samples - w->ok;
		}
		if (n > 0 && n >= c->min_samples && (double)f * 100.0 >=
		    (double)c->critical_error_rate * n) {
			circuit_open(cb, now, c, CIRCUIT_BY_RATE,
			    (double)f / n, c->critical_error_rate / 100.0);
			return 1;
		}
		return 0;
	case VIGIL_CB_HALF_OPEN:
		/* A trial allows no failure: 1 in a row against 1. */
		if (!ok) {
			circuit_open(cb, now, c, CIRCUIT_BY_FAILURES,
			    (double)cb->failures, 1.0);
			return 1;
		}
		if (++cb->successes >= c->circuit_successes) {
			cb->state = VIGIL_CB_CLOSED;
			cb->streak = 0;
			cb->successes = 0;
			cb->sc_samples = cb->sc_failures = 0;
			cb->since_ns = now;
			return 1;
		}
		return 0;
	default:
		return 0;
	}
}

/* Time passes: open -> half_open once the cool-down is over. */
int
circuit_tick(struct circuit *cb, uint64_t now)
{
	if (cb->state == VIGIL_CB_OPEN && now >= cb->until_ns) {
		cb->state = VIGIL_CB_HALF_OPEN;
		cb->successes = 0;
		cb->since_ns = now;
		return 1;
	}
	return 0;
}

/*
 * The figure of the circuit_open alert into *value and *threshold, in
 * its units: while not closed, what opened it (failures in a row against
 * circuit_failures, or the error rate since the last close, a fraction,
 * against critical_error_rate / 100); once closed, the same figure now
 * (0 failures in a row, or the rate since the close), for the resolved.
 */
void
circuit_figure(const struct circuit *cb, const struct conf *c,
    double *value, double *threshold)
{
	if (cb->state != VIGIL_CB_CLOSED) {
		*value = cb->open_value;
		*threshold = cb->open_threshold;
	} else if (cb->by == CIRCUIT_BY_RATE) {
		*value = cb->sc_samples > 0 ? (double)cb->sc_failures /
		    cb->sc_samples : 0.0;
		*threshold = c->critical_error_rate / 100.0;
	} else {
		*value = (double)cb->failures;
		*threshold = (double)c->circuit_failures;
	}
}

/*
 * The routing score, lower is better: p95 latency in ms, inflated by the
 * error rate, score = p95_ms x (1 + 10 x error_rate) + 1000 x error_rate.
 * A provider failing 10% of checks thus counts as twice as slow plus one
 * second; one with no latency yet scores 1e9.
 */
double
circuit_score(double p95_ms, double error_rate)
{
	if (!(p95_ms > 0.0) || isnan(error_rate))
		return 1e9;
	return p95_ms * (1.0 + 10.0 * error_rate) + 1000.0 * error_rate;
}

static int
route_cmp(const void *a, const void *b)
{
	const struct route_cand *x = a, *y = b;
	int hx = x->circuit == VIGIL_CB_HALF_OPEN;
	int hy = y->circuit == VIGIL_CB_HALF_OPEN;

	if (hx != hy)
		return hx - hy;
	if (x->score < y->score)
		return -1;
	if (x->score > y->score)
		return 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/*
 * Sort the n candidates into the routing order and write their indexes
 * to out; returns how many were written.  Left out: every provider that
 * is not usable (status_usable(): open circuits; unknown, paused,
 * misconfigured, exhausted; throttled until usable_at).  Closed
 * circuits come before half-open ones; then by score, then by index.
 * O(n log n).
 */
size_t
route_order(struct route_cand *cand, size_t n, uint32_t *out)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (!cand[i].usable)
			continue;
		cand[k++] = cand[i];
	}
	qsort(cand, k, sizeof(*cand), route_cmp);
	for (i = 0; i < k; i++)
		out[i] = cand[i].idx;
	return k;
}
