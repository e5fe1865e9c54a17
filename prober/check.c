/*
 * check.c - the prober's check/confirmation state machine.
 *
 * Per sample (check_sample, in publication order):
 *   - failures in a row: an ok ends them; a failure that is the
 *     provider's (vigil_outcome_counts) adds one; an answer about us
 *     (rate_limited, quota, auth, model_missing, client_error) ends them
 *     too, as the aggregator counts them: the provider answered;
 *   - the requests headroom: the newest rl[VIGIL_RL_REQUESTS] reported,
 *     good until its reset;
 *   - a rate-limited answer's wait (check_wait, the rule is there), kept
 *     as the hold: no check before it, until another answer.
 * Per check (check_decide): what rules it when no request was ok (a 429;
 * else an answer about us; else the last failure), then the next
 * check's delay and its number of requests: a confirmation only after a
 * failure that is the provider's, never after an answer about us
 * (asking again changes nothing, and after a 429 it is rude), and never
 * more requests than the provider says we have left.
 */
#include <string.h>

#include <vigil/vigil.h>

#include "check.h"
#include "sched.h"

#define NS_MS	1000000ull

static uint32_t	check_wait(struct check *, const struct check_conf *,
		    struct vigil_sample *, uint32_t);

void
check_init(struct check *c)
{
	memset(c, 0, sizeof(*c));
	c->rule = VIGIL_OUT_OK;
}

/* A check starts: forget what the one before it gathered. */
void
check_begin(struct check *c)
{
	c->nsamples = 0;
	c->any_ok = 0;
	c->rule = VIGIL_OUT_OK;
}

/*
 * How long a rate-limited prober waits before its next check, in ms
 * after the sample's start (docs/aggregation.md, "Throttled"):
 *  - the provider's hint, when its headers gave one (probe.c puts it in
 *    s->retry_after_ms with VIGIL_SF_RETRY_HINT: the earliest of
 *    Retry-After, retry-after-ms and the reset of what ran out), even
 *    when shorter than the interval: the provider says when it takes
 *    requests again, and the router reads that moment as usable_at;
 *    but never under min(interval, CHECK_RETRY_MIN_MS), so a provider
 *    that says "0" over and over is not asked in a loop;
 *  - else an exponential backoff from the interval: interval, 2x, 4x ...
 *    for each 429 without a hint in a row (jittered like the interval),
 *    until an answer that is not rate limited resets it;
 *  - either capped by retry_after_max: a provider asking for a day must
 *    not silence us for a day.
 * The wait goes into s->retry_after_ms; VIGIL_SF_RETRY_HINT stays set
 * when it came from the headers.
 */
static uint32_t
check_wait(struct check *c, const struct check_conf *cf,
    struct vigil_sample *s, uint32_t rnd)
{
	uint64_t w, floor = cf->interval_ms < CHECK_RETRY_MIN_MS ?
	    cf->interval_ms : CHECK_RETRY_MIN_MS;
	uint32_t k;

	if (s->flags & VIGIL_SF_RETRY_HINT) {
		w = s->retry_after_ms;
		if (w < floor)
			w = floor;
	} else {
		k = c->backoff < 32 ? c->backoff : 32;
		w = (uint64_t)cf->interval_ms << k;
		if (w > cf->retry_max_ms)
			w = cf->retry_max_ms;
		w = sched_jitter(w > UINT32_MAX ? UINT32_MAX : (uint32_t)w,
		    rnd);
		c->backoff++;
	}
	if (w > cf->retry_max_ms)
		w = cf->retry_max_ms;
	if (w < SCHED_MIN_MS)
		w = SCHED_MIN_MS;
	s->retry_after_ms = (uint32_t)w;
	return s->retry_after_ms;
}

/*
 * A sample was published: count it.  in_check: one of the running
 * check's requests (a generation check's sample is not: it changes the
 * headroom, the backoff and the hold, not the failures in a row).  s is
 * changed: a rate-limited answer gets its wait (check_wait), any other
 * none.
 */
void
check_sample(struct check *c, const struct check_conf *cf,
    struct vigil_sample *s, int in_check, uint32_t rnd)
{
	const struct vigil_rl_sample *rq = &s->rl[VIGIL_RL_REQUESTS];
	int o = s->outcome;

	if (rq->limit > 0) {
		c->rq_known = 1;
		c->rq_remaining = rq->remaining;
		c->rq_until_mono_ns = rq->reset_ms == 0 ? 0 :
		    s->mono_ns + rq->reset_ms * NS_MS;
	}
	/* The provider's newest answer says whether to wait: a 429 sets
	 * the hold, any other answer lifts it (an ok to a probe_now during
	 * the wait); a failure without an answer says nothing. */
	if (o == VIGIL_OUT_RATE_LIMITED)
		c->hold_mono_ns = s->mono_ns +
		    check_wait(c, cf, s, rnd) * NS_MS;
	else {
		s->retry_after_ms = 0;
		s->flags &= (uint8_t)~VIGIL_SF_RETRY_HINT;
		if (s->http_status != 0) {
			c->backoff = 0;
			c->hold_mono_ns = 0;
		}
	}
	if (!in_check)
		return;

	if (o == VIGIL_OUT_OK || !vigil_outcome_counts((unsigned)o))
		c->fails = 0;
	else
		c->fails++;
	c->nsamples++;
	if (o == VIGIL_OUT_OK)
		c->any_ok = 1;
	else if (c->rule != VIGIL_OUT_RATE_LIMITED &&
	    (vigil_outcome_counts((unsigned)c->rule) ||
	    !vigil_outcome_counts((unsigned)o)))
		c->rule = o;	/* ok (counts 1) or a failure gives way */
}

/* How long the provider still wants us to wait, from now_mono_ns. */
uint32_t
check_hold_ms(const struct check *c, uint64_t now_mono_ns)
{
	uint64_t d;

	if (c->hold_mono_ns <= now_mono_ns)
		return 0;
	d = (c->hold_mono_ns - now_mono_ns + NS_MS - 1) / NS_MS;
	return d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}

/* Requests the provider last said we have left: UINT32_MAX if unknown
 * or reset since. */
uint32_t
check_headroom(const struct check *c, uint64_t now_mono_ns)
{
	if (!c->rq_known || (c->rq_until_mono_ns != 0 &&
	    now_mono_ns >= c->rq_until_mono_ns))
		return UINT32_MAX;
	return c->rq_remaining;
}

/*
 * The check is over (every sample fed): when the next one runs, and how
 * many requests it makes at once.
 *  - rate limited (no request ok, one a 429): when the hold ends;
 *  - else sched_next_ms, with a confirmation when the ruling outcome is
 *    the provider's failure, fewer than confirm_max in a row, and the
 *    requests headroom is not 0; never sooner than a hold (a generation
 *    check's 429) allows;
 *  - a confirmation makes as many requests as the failures still
 *    missing to confirm_max, at most SCHED_CONFIRM_PAR, at most the
 *    headroom.  Made in parallel, on fresh connections (main.c), they
 *    take one confirmation delay where as many checks in a row would
 *    take as many delays; each is a sample, so a provider hard down
 *    reaches down_after and circuit_failures failures in a row one
 *    confirmation after its first failure.  A random error rate e must
 *    fail all of them too (e to the power of the count), as in a row.
 */
void
check_decide(const struct check *c, const struct check_conf *cf,
    int circuit_closed, uint64_t now_mono_ns, uint32_t rnd,
    struct check_next *nx)
{
	struct sched_in in;
	uint32_t hold = check_hold_ms(c, now_mono_ns), room, n;
	int rule = c->any_ok ? VIGIL_OUT_OK : c->rule;

	memset(nx, 0, sizeof(*nx));
	nx->count = 1;
	if (c->nsamples > 0 && rule == VIGIL_OUT_RATE_LIMITED) {
		nx->delay_ms = hold > SCHED_MIN_MS ? hold : SCHED_MIN_MS;
		return;
	}
	room = check_headroom(c, now_mono_ns);
	memset(&in, 0, sizeof(in));
	in.interval_ms = cf->interval_ms;
	in.fast_percent = cf->fast_percent;
	in.circuit_closed = circuit_closed;
	in.rnd = rnd;
	in.confirming = c->nsamples > 0 && rule != VIGIL_OUT_OK &&
	    vigil_outcome_counts((unsigned)rule) &&
	    c->fails < cf->confirm_max && room > 0;
	nx->delay_ms = sched_next_ms(&in);
	if (hold > nx->delay_ms)
		nx->delay_ms = hold;
	if (!in.confirming)
		return;
	nx->confirming = 1;
	n = cf->confirm_max - c->fails;
	if (n > SCHED_CONFIRM_PAR)
		n = SCHED_CONFIRM_PAR;
	if (n > room)
		n = room;
	nx->count = n > 0 ? n : 1;
}

/*
 * probe_when_idle: may a scheduled check (of a provider, or of one
 * model) step aside for traffic last reported at monotonic time
 * last_ns (0: never), at now_ns, with checks every interval_ms?  1 while
 * that traffic is newer than an interval: it tells more than the check
 * would, at no cost.  The time comes from the segment, which every
 * prober may write: one more than a second ahead of now is no time we
 * have had, and is not believed.
 */
int
check_step_aside(uint64_t now_ns, uint64_t last_ns, uint32_t interval_ms)
{
	if (last_ns == 0 || last_ns > now_ns + NS_MS * 1000)
		return 0;
	return last_ns > now_ns || now_ns - last_ns < interval_ms * NS_MS;
}
