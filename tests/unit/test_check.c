/*
 * test_check.c - prober/check.c, the check/confirmation state machine:
 * outcomes in, decisions out (delay, requests at once, a 429's wait),
 * on a clock the test moves by hand.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <vigil/vigil.h>

#include "../../prober/check.h"
#include "../../prober/sched.h"
#include "t.h"

#define MS	1000000ull

static struct check_conf cf;
static uint64_t now;		/* the test's monotonic clock, ns */

static void
setup(uint32_t interval_ms)
{
	memset(&cf, 0, sizeof(cf));
	cf.interval_ms = interval_ms;
	cf.fast_percent = 25;
	cf.confirm_max = 5;
	cf.retry_max_ms = 15 * 60 * 1000;
	now = 1000 * MS;
}

static struct vigil_sample
smp(int outcome, uint16_t status)
{
	struct vigil_sample s;

	memset(&s, 0, sizeof(s));
	s.outcome = (uint8_t)outcome;
	s.http_status = status;
	s.mono_ns = now;
	s.wall_ns = now;
	return s;
}

/* A rate-limited sample whose headers gave a hint of ms. */
static struct vigil_sample
hinted(uint32_t ms)
{
	struct vigil_sample s = smp(VIGIL_OUT_RATE_LIMITED, 429);

	s.retry_after_ms = ms;
	s.flags |= VIGIL_SF_RETRY_HINT;
	return s;
}

/* One check of one request with sample s, 10 ms long; the decision. */
static struct check_next
one(struct check *c, struct vigil_sample s)
{
	struct check_next nx;

	check_begin(c);
	now += 10 * MS;
	check_sample(c, &cf, &s, 1, 0);
	check_decide(c, &cf, 1, now, 0, &nx);
	return nx;
}

/* Like one(), and the sample as check_sample left it. */
static struct check_next
one_s(struct check *c, struct vigil_sample *s)
{
	struct check_next nx;

	check_begin(c);
	now += 10 * MS;
	check_sample(c, &cf, s, 1, 0);
	check_decide(c, &cf, 1, now, 0, &nx);
	return nx;
}

/* The interval, jittered +-5%. */
static int
plain(const struct check_next *nx, uint32_t interval)
{
	return !nx->confirming && nx->count == 1 &&
	    nx->delay_ms >= interval - interval / 20 &&
	    nx->delay_ms <= interval + interval / 20;
}

/* ok, ok, a failure: confirmed quickly with the failures still missing. */
static void
test_confirm(void)
{
	struct check c;
	struct check_next nx;
	int i;

	setup(1000);
	check_init(&c);
	nx = one(&c, smp(VIGIL_OUT_OK, 200));
	T_CHECK(plain(&nx, 1000));
	nx = one(&c, smp(VIGIL_OUT_HTTP_5XX, 500));
	T_CHECK(nx.confirming && nx.count == 4 && nx.delay_ms == 125);
	/* The confirmation: four requests, all failing. */
	check_begin(&c);
	for (i = 0; i < 4; i++) {
		struct vigil_sample s = smp(VIGIL_OUT_TIMEOUT, 0);

		s.flags = i ? VIGIL_SF_CONFIRM : 0;
		check_sample(&c, &cf, &s, 1, 0);
	}
	check_decide(&c, &cf, 1, now, 0, &nx);
	T_CHECK(c.fails == 5 && plain(&nx, 1000));
	/* Circuit open: fast probing, no confirmation. */
	check_decide(&c, &cf, 0, now, 0, &nx);
	T_CHECK(!nx.confirming && nx.count == 1 && nx.delay_ms >= 237 &&
	    nx.delay_ms <= 263);
	/* An ok among a confirmation's requests ends it. */
	c.fails = 1;
	check_begin(&c);
	for (i = 0; i < 3; i++) {
		struct vigil_sample s = smp(i == 1 ? VIGIL_OUT_OK :
		    VIGIL_OUT_CONNECT, i == 1 ? 200 : 0);

		check_sample(&c, &cf, &s, 1, 0);
	}
	check_decide(&c, &cf, 1, now, 0, &nx);
	T_CHECK(c.fails == 1 && plain(&nx, 1000));

	/* Overloaded is the provider's fault: confirmed. */
	check_init(&c);
	nx = one(&c, smp(VIGIL_OUT_OVERLOADED, 529));
	T_CHECK(nx.confirming && nx.count == 4);
	/* At most SCHED_CONFIRM_PAR; a long run ends in the interval. */
	cf.confirm_max = 100;
	check_init(&c);
	nx = one(&c, smp(VIGIL_OUT_HTTP_5XX, 503));
	T_CHECK(nx.count == SCHED_CONFIRM_PAR);
	c.fails = 97;
	nx = one(&c, smp(VIGIL_OUT_HTTP_5XX, 503));
	T_CHECK(nx.confirming && nx.count == 2);
	nx = one(&c, smp(VIGIL_OUT_HTTP_5XX, 503));
	T_CHECK(nx.confirming && nx.count == 1);
	nx = one(&c, smp(VIGIL_OUT_HTTP_5XX, 503));
	T_CHECK(c.fails == 100 && plain(&nx, 1000));
	/* confirm_max 0 or 1: nothing to confirm. */
	cf.confirm_max = 1;
	check_init(&c);
	nx = one(&c, smp(VIGIL_OUT_HTTP_5XX, 500));
	T_CHECK(plain(&nx, 1000));
	cf.confirm_max = 0;
	check_init(&c);
	nx = one(&c, smp(VIGIL_OUT_HTTP_5XX, 500));
	T_CHECK(plain(&nx, 1000));
}

/* Answers about us are never confirmed, and end a run of failures. */
static void
test_no_confirm_about_us(void)
{
	static const int about_us[] = { VIGIL_OUT_QUOTA, VIGIL_OUT_AUTH,
	    VIGIL_OUT_MODEL_MISSING, VIGIL_OUT_CLIENT_ERROR };
	static const uint16_t st[] = { 402, 401, 404, 400 };
	struct check c;
	struct check_next nx;
	size_t i;

	setup(30000);
	for (i = 0; i < sizeof(about_us) / sizeof(about_us[0]); i++) {
		check_init(&c);
		nx = one(&c, smp(VIGIL_OUT_HTTP_5XX, 500));
		T_CHECK(nx.confirming && c.fails == 1);
		nx = one(&c, smp(about_us[i], st[i]));
		T_CHECKF(plain(&nx, 30000) && c.fails == 0, "%s",
		    vigil_outcome_name((unsigned)about_us[i]));
	}
	/* Rate limited: never confirmed either. */
	check_init(&c);
	nx = one(&c, smp(VIGIL_OUT_RATE_LIMITED, 429));
	T_CHECK(!nx.confirming && nx.count == 1 && c.fails == 0);
	/* A confirmation with an answer about us among failures: that
	 * rules, nothing more is asked. */
	check_init(&c);
	check_begin(&c);
	{
		struct vigil_sample a = smp(VIGIL_OUT_HTTP_5XX, 500);
		struct vigil_sample b = smp(VIGIL_OUT_AUTH, 401);
		struct vigil_sample d = smp(VIGIL_OUT_HTTP_5XX, 500);

		check_sample(&c, &cf, &a, 1, 0);
		check_sample(&c, &cf, &b, 1, 0);
		check_sample(&c, &cf, &d, 1, 0);
	}
	check_decide(&c, &cf, 1, now, 0, &nx);
	T_CHECK(c.rule == VIGIL_OUT_AUTH && c.fails == 1 && plain(&nx, 30000));
}

/* A 429 with a hint: the next check when the provider said. */
static void
test_retry_hint(void)
{
	struct check c;
	struct check_next nx;
	struct vigil_sample s;

	setup(30000);
	check_init(&c);
	s = hinted(3000);
	nx = one_s(&c, &s);
	/* From the sample's start: 3000, less the 10 ms it took. */
	T_CHECKF(nx.count == 1 && !nx.confirming && nx.delay_ms == 2990,
	    "%u", nx.delay_ms);
	T_CHECK(s.retry_after_ms == 3000 && (s.flags & VIGIL_SF_RETRY_HINT));
	/* Capped by retry_after_max. */
	s = hinted(3600000);
	nx = one_s(&c, &s);
	T_CHECK(s.retry_after_ms == 900000 && nx.delay_ms == 899990 &&
	    (s.flags & VIGIL_SF_RETRY_HINT));
	/* Never under min(interval, 1 s): "0" over and over is no loop. */
	s = hinted(0);
	nx = one_s(&c, &s);
	T_CHECK(s.retry_after_ms == CHECK_RETRY_MIN_MS &&
	    nx.delay_ms == CHECK_RETRY_MIN_MS - 10);
	setup(200);
	check_init(&c);
	s = hinted(0);
	nx = one_s(&c, &s);
	T_CHECK(s.retry_after_ms == 200 && nx.delay_ms == 190);
	/* A hint longer than the interval at a short interval. */
	s = hinted(5000);
	nx = one_s(&c, &s);
	T_CHECK(s.retry_after_ms == 5000 && nx.delay_ms == 4990);
	/* A wait that is already over by the end of the check. */
	s = hinted(5);
	check_begin(&c);
	check_sample(&c, &cf, &s, 1, 0);
	now += 500 * MS;
	check_decide(&c, &cf, 1, now, 0, &nx);
	T_CHECK(nx.delay_ms == SCHED_MIN_MS);
}

/* A 429 without a hint: interval, 2x, 4x ..., capped; an answer that is
 * not rate limited starts over, a failure without one does not. */
static void
test_backoff(void)
{
	static const uint32_t want[] = { 10000, 20000, 40000, 80000, 160000,
	    320000, 600000, 600000 };
	struct check c;
	struct check_next nx;
	struct vigil_sample s;
	size_t i;

	setup(10000);
	cf.retry_max_ms = 600000;
	check_init(&c);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		s = smp(VIGIL_OUT_RATE_LIMITED, 429);
		nx = one_s(&c, &s);
		/* rnd 0 is the low end of the jitter, capped after. */
		T_CHECKF(s.retry_after_ms == (want[i] == 600000 ? 570000 :
		    want[i] - want[i] / 20), "%zu: %u", i, s.retry_after_ms);
		T_CHECK(!(s.flags & VIGIL_SF_RETRY_HINT));
		T_CHECK(nx.delay_ms == s.retry_after_ms - 10 && nx.count == 1);
	}
	/* A timeout (no answer) keeps the backoff... */
	nx = one(&c, smp(VIGIL_OUT_TIMEOUT, 0));
	s = smp(VIGIL_OUT_RATE_LIMITED, 429);
	nx = one_s(&c, &s);
	T_CHECK(s.retry_after_ms == 570000);
	/* ...a hinted 429 too... */
	s = hinted(2000);
	nx = one_s(&c, &s);
	T_CHECK(s.retry_after_ms == 2000);
	s = smp(VIGIL_OUT_RATE_LIMITED, 429);
	nx = one_s(&c, &s);
	T_CHECK(s.retry_after_ms == 570000);
	/* ...an answer ends it. */
	nx = one(&c, smp(VIGIL_OUT_HTTP_5XX, 502));
	s = smp(VIGIL_OUT_RATE_LIMITED, 429);
	nx = one_s(&c, &s);
	T_CHECK(s.retry_after_ms == 9500);
	nx = one(&c, smp(VIGIL_OUT_OK, 200));
	s = smp(VIGIL_OUT_RATE_LIMITED, 429);
	nx = one_s(&c, &s);
	T_CHECK(s.retry_after_ms == 9500);
	/* A sample that is not rate limited carries no wait. */
	s = smp(VIGIL_OUT_OK, 200);
	s.retry_after_ms = 77;
	s.flags |= VIGIL_SF_RETRY_HINT;
	nx = one_s(&c, &s);
	T_CHECK(s.retry_after_ms == 0 && !(s.flags & VIGIL_SF_RETRY_HINT));
}

static struct vigil_sample
with_room(int outcome, uint16_t status, uint32_t remaining,
    uint32_t reset_ms)
{
	struct vigil_sample s = smp(outcome, status);

	s.rl[VIGIL_RL_REQUESTS].limit = 100;
	s.rl[VIGIL_RL_REQUESTS].remaining = remaining;
	s.rl[VIGIL_RL_REQUESTS].reset_ms = reset_ms;
	return s;
}

/* Never more confirmation requests than the provider says are left. */
static void
test_headroom(void)
{
	struct check c;
	struct check_next nx;

	setup(1000);
	check_init(&c);
	T_CHECK(check_headroom(&c, now) == UINT32_MAX);
	nx = one(&c, with_room(VIGIL_OUT_OK, 200, 2, 60000));
	T_CHECK(check_headroom(&c, now) == 2);
	nx = one(&c, smp(VIGIL_OUT_HTTP_5XX, 500));	/* no headers */
	T_CHECK(nx.confirming && nx.count == 2);
	/* The failure itself said 1 left. */
	check_init(&c);
	nx = one(&c, with_room(VIGIL_OUT_HTTP_5XX, 500, 1, 60000));
	T_CHECK(nx.confirming && nx.count == 1 && nx.delay_ms == 125);
	/* None left: no confirmation at all, the plain interval. */
	check_init(&c);
	nx = one(&c, with_room(VIGIL_OUT_HTTP_5XX, 500, 0, 60000));
	T_CHECK(plain(&nx, 1000));
	/* After its reset the headroom is unknown again: full count. */
	check_init(&c);
	nx = one(&c, with_room(VIGIL_OUT_OK, 200, 0, 500));
	now += 600 * MS;
	T_CHECK(check_headroom(&c, now) == UINT32_MAX);
	nx = one(&c, smp(VIGIL_OUT_HTTP_5XX, 500));
	T_CHECK(nx.confirming && nx.count == 4);
	/* Without a reset it holds until told otherwise. */
	check_init(&c);
	nx = one(&c, with_room(VIGIL_OUT_OK, 200, 3, 0));
	now += 3600000 * MS;
	T_CHECK(check_headroom(&c, now) == 3);
}

/* A generation check's 429 holds the checks; it does not count into the
 * failures in a row. */
static void
test_generation(void)
{
	struct check c;
	struct check_next nx;
	struct vigil_sample f, g;

	setup(1000);
	check_init(&c);
	check_begin(&c);
	f = smp(VIGIL_OUT_HTTP_5XX, 500);
	check_sample(&c, &cf, &f, 1, 0);
	g = hinted(20000);
	check_sample(&c, &cf, &g, 0, 0);
	T_CHECK(c.fails == 1 && c.nsamples == 1 && g.retry_after_ms == 20000);
	T_CHECK(check_hold_ms(&c, now) == 20000);
	/* The confirmation waits for the hold. */
	check_decide(&c, &cf, 1, now, 0, &nx);
	T_CHECK(nx.confirming && nx.count == 4 && nx.delay_ms == 20000);
	now += 20000 * MS;
	T_CHECK(check_hold_ms(&c, now) == 0);
	nx = one(&c, smp(VIGIL_OUT_HTTP_5XX, 500));
	T_CHECK(nx.confirming && nx.count == 3 && nx.delay_ms == 125);
	/* Another answer lifts a hold (a probe_now during the wait). */
	g = hinted(20000);
	check_sample(&c, &cf, &g, 0, 0);
	T_CHECK(check_hold_ms(&c, now) == 20000);
	f = smp(VIGIL_OUT_OK, 200);
	check_sample(&c, &cf, &f, 0, 0);
	T_CHECK(check_hold_ms(&c, now) == 0);
	/* A failure without an answer does not. */
	g = hinted(20000);
	check_sample(&c, &cf, &g, 0, 0);
	f = smp(VIGIL_OUT_TIMEOUT, 0);
	check_sample(&c, &cf, &f, 0, 0);
	T_CHECK(check_hold_ms(&c, now) == 20000);
}

/* A confirmation's requests with a 429 among them: the 429 rules. */
static void
test_burst_rules(void)
{
	struct check c;
	struct check_next nx;
	struct vigil_sample a, b, d;

	setup(1000);
	check_init(&c);
	check_begin(&c);
	a = smp(VIGIL_OUT_HTTP_5XX, 500);
	b = hinted(4000);
	d = smp(VIGIL_OUT_TIMEOUT, 0);
	check_sample(&c, &cf, &a, 1, 0);
	check_sample(&c, &cf, &b, 1, 0);
	check_sample(&c, &cf, &d, 1, 0);
	check_decide(&c, &cf, 1, now, 0, &nx);
	T_CHECK(c.rule == VIGIL_OUT_RATE_LIMITED && nx.count == 1 &&
	    nx.delay_ms == 4000);
	/* An ok among them: the interval, but not before the hold. */
	check_begin(&c);
	a = smp(VIGIL_OUT_OK, 200);
	b = hinted(4000);
	check_sample(&c, &cf, &a, 1, 0);
	check_sample(&c, &cf, &b, 1, 0);
	check_decide(&c, &cf, 1, now, 0, &nx);
	T_CHECK(!nx.confirming && nx.count == 1 && nx.delay_ms == 4000);
	/* No sample at all (nothing started): the interval. */
	check_init(&c);
	check_begin(&c);
	check_decide(&c, &cf, 1, now, 0, &nx);
	T_CHECK(plain(&nx, 1000));
}

/*
 * probe_when_idle (check_step_aside): a check, a provider's or a
 * model's generation check, steps aside while traffic is newer than
 * its interval; never without traffic; and not for a time from the
 * future the segment might hold.
 */
static void
test_step_aside(void)
{
	uint64_t t = UINT64_C(5000) * 1000000000u, ms = 1000000u;

	T_CHECK(check_step_aside(t, 0, 30000) == 0);	/* never heard */
	T_CHECK(check_step_aside(t, t, 30000) == 1);
	T_CHECK(check_step_aside(t, t - 29999 * ms, 30000) == 1);
	T_CHECK(check_step_aside(t, t - 30000 * ms, 30000) == 0);
	T_CHECK(check_step_aside(t, t - 30001 * ms, 30000) == 0);
	/* A generation interval: 10 minutes. */
	T_CHECK(check_step_aside(t, t - 599 * 1000 * ms, 600000) == 1);
	T_CHECK(check_step_aside(t, t - 601 * 1000 * ms, 600000) == 0);
	/* A report stamped by another process a little ahead of ours. */
	T_CHECK(check_step_aside(t, t + 5 * ms, 30000) == 1);
	T_CHECK(check_step_aside(t, t + 1000 * ms, 30000) == 1);
	T_CHECK(check_step_aside(t, t + 1001 * ms, 30000) == 0);
	T_CHECK(check_step_aside(t, UINT64_MAX, 30000) == 0);
	/* An interval of 0 never steps aside for past traffic. */
	T_CHECK(check_step_aside(t, t - 1, 0) == 0);
}

int
main(void)
{
	T_RUN(test_confirm);
	T_RUN(test_no_confirm_about_us);
	T_RUN(test_retry_hint);
	T_RUN(test_backoff);
	T_RUN(test_headroom);
	T_RUN(test_generation);
	T_RUN(test_burst_rules);
	T_RUN(test_step_aside);
	return t_done();
}
