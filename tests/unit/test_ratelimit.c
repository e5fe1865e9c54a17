/*
 * test_ratelimit.c - prober/ratelimit.c: every header form a provider
 * uses to say how long to wait and how much is left, and garbage in each;
 * and vigil-sim's side (tests/sim/ratelimit.c): its window, and that
 * what it writes the prober reads back.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <vigil/vigil.h>

#include "../../prober/ratelimit.h"
#include "../sim/sim.h"
#include "t.h"

/* 1700000000 is Tue, 14 Nov 2023 22:13:20 GMT. */
#define T0_S	1700000000LL
#define T0_NS	((uint64_t)T0_S * 1000000000ull)

static uint32_t
count(const char *v, int *rc)
{
	uint32_t n = 777;

	*rc = rl_parse_count(v, &n);
	return n;
}

static void
test_count(void)
{
	int rc;

	T_CHECK(count("5000", &rc) == 5000 && rc == 0);
	T_CHECK(count(" 42 \t", &rc) == 42 && rc == 0);
	T_CHECK(count("0", &rc) == 0 && rc == 0);
	T_CHECK(count("007", &rc) == 7 && rc == 0);
	T_CHECK(count("4294967295", &rc) == UINT32_MAX && rc == 0);
	/* Saturate, never wrap. */
	T_CHECK(count("4294967296", &rc) == UINT32_MAX && rc == 0);
	T_CHECK(count("99999999999999999999999999", &rc) == UINT32_MAX &&
	    rc == 0);
	/* Garbage is refused, not guessed at (Azure sends -1). */
	count("", &rc);
	T_CHECK(rc == -1);
	count("-1", &rc);
	T_CHECK(rc == -1);
	count("+5", &rc);
	T_CHECK(rc == -1);
	count("1.5", &rc);
	T_CHECK(rc == -1);
	count("12a", &rc);
	T_CHECK(rc == -1);
	count("1 2", &rc);
	T_CHECK(rc == -1);
	count("0x10", &rc);
	T_CHECK(rc == -1);
}

static int
dur(const char *v, uint64_t want)
{
	uint64_t ms = 12345;

	if (rl_parse_duration(v, &ms) != 0) {
		fprintf(stderr, "  duration %s: refused\n", v);
		return 0;
	}
	if (ms != want)
		fprintf(stderr, "  duration %s: %llu, want %llu\n", v,
		    (unsigned long long)ms, (unsigned long long)want);
	return ms == want;
}

static int
dur_bad(const char *v)
{
	uint64_t ms = 12345;

	return rl_parse_duration(v, &ms) == -1 && ms == 12345;
}

/* OpenAI's x-ratelimit-reset-*: Go durations. */
static void
test_duration(void)
{
	T_CHECK(dur("12ms", 12));
	T_CHECK(dur("1s", 1000));
	T_CHECK(dur("1m30s", 90000));
	T_CHECK(dur("6m0s", 360000));
	T_CHECK(dur("2h3m4.5s", 7384500));
	T_CHECK(dur("0.5s", 500));
	T_CHECK(dur("20.002s", 20002));
	T_CHECK(dur(".5s", 500));
	T_CHECK(dur("0", 0));
	T_CHECK(dur("0s", 0));
	T_CHECK(dur(" 1s ", 1000));
	/* Rounded up: a reset not yet due is not due at 0 ms. */
	T_CHECK(dur("1.0001s", 1001));
	T_CHECK(dur("500us", 1));
	T_CHECK(dur("1\xc2\xb5s", 1));
	T_CHECK(dur("1\xce\xbcs", 1));
	T_CHECK(dur("999999ns", 1));
	T_CHECK(dur("1000000ns", 1));
	T_CHECK(dur("1.5ms", 2));
	T_CHECK(dur("1h1h", 7200000));
	/* Saturate at UINT32_MAX ms. */
	T_CHECK(dur("99999999999h", UINT32_MAX));
	T_CHECK(dur("1193h3m", UINT32_MAX));
	T_CHECK(dur("99999999999999999999999999s", UINT32_MAX));
	T_CHECK(dur("1.99999999999999999999s", 2000));

	T_CHECK(dur_bad(""));
	T_CHECK(dur_bad("5"));		/* no unit */
	T_CHECK(dur_bad("1m30"));
	T_CHECK(dur_bad("-1s"));
	T_CHECK(dur_bad("+1s"));
	T_CHECK(dur_bad("s"));
	T_CHECK(dur_bad("1x"));
	T_CHECK(dur_bad("1.5.3s"));
	T_CHECK(dur_bad("1 s"));
	T_CHECK(dur_bad("1s 2s"));
	T_CHECK(dur_bad("."));
	T_CHECK(dur_bad(".s"));
	T_CHECK(dur_bad("1d"));
	T_CHECK(dur_bad("2024-05-01T12:00:31Z"));
}

static int
date3339(const char *v, int64_t want)
{
	int64_t ms = 12345;

	if (rl_parse_rfc3339(v, &ms) != 0) {
		fprintf(stderr, "  rfc3339 %s: refused\n", v);
		return 0;
	}
	if (ms != want)
		fprintf(stderr, "  rfc3339 %s: %lld, want %lld\n", v,
		    (long long)ms, (long long)want);
	return ms == want;
}

static int
date3339_bad(const char *v)
{
	int64_t ms = 12345;

	return rl_parse_rfc3339(v, &ms) == -1 && ms == 12345;
}

/* Anthropic's anthropic-ratelimit-*-reset. */
static void
test_rfc3339(void)
{
	int64_t t0 = T0_S * 1000;

	T_CHECK(date3339("2023-11-14T22:13:20Z", t0));
	T_CHECK(date3339("2023-11-14T22:13:20.5Z", t0 + 500));
	T_CHECK(date3339("2023-11-14T22:13:20.123Z", t0 + 123));
	T_CHECK(date3339("2023-11-14T22:13:20.1230Z", t0 + 123));
	/* Finer than a millisecond: rounded up. */
	T_CHECK(date3339("2023-11-14T22:13:20.123456Z", t0 + 124));
	T_CHECK(date3339("2023-11-14T22:13:20.000001Z", t0 + 1));
	T_CHECK(date3339("2023-11-14T23:13:20+01:00", t0));
	T_CHECK(date3339("2023-11-14T21:43:20-00:30", t0));
	T_CHECK(date3339("2023-11-15T04:13:20.250+06:00", t0 + 250));
	T_CHECK(date3339("2023-11-14t22:13:20z", t0));
	T_CHECK(date3339(" 2023-11-14T22:13:20Z ", t0));
	T_CHECK(date3339("1970-01-01T00:00:00Z", 0));
	T_CHECK(date3339("1969-12-31T23:59:59Z", -1000));
	/* A leap second is the next second. */
	T_CHECK(date3339("2016-12-31T23:59:60Z", 1483228800000LL));
	T_CHECK(date3339("2024-02-29T00:00:00Z", 1709164800000LL));

	T_CHECK(date3339_bad(""));
	T_CHECK(date3339_bad("2023-02-29T00:00:00Z"));	/* not a leap year */
	T_CHECK(date3339_bad("2023-11-31T00:00:00Z"));
	T_CHECK(date3339_bad("2023-13-01T00:00:00Z"));
	T_CHECK(date3339_bad("2023-11-14T24:00:00Z"));
	T_CHECK(date3339_bad("2023-11-14T22:60:00Z"));
	T_CHECK(date3339_bad("2023-11-14T22:13:61Z"));
	T_CHECK(date3339_bad("2023-11-14 22:13:20Z"));
	T_CHECK(date3339_bad("2023-11-14T22:13:20"));	/* no zone */
	T_CHECK(date3339_bad("2023-11-14T22:13:20.Z"));
	T_CHECK(date3339_bad("2023-11-14T22:13:20Zjunk"));
	T_CHECK(date3339_bad("2023-11-14T22:13:20+24:00"));
	T_CHECK(date3339_bad("2023-11-14T22:13:20+01:60"));
	T_CHECK(date3339_bad("2023-11-14T22:13:20+0100"));
	T_CHECK(date3339_bad("2023-11-14T22:13:20+01"));
	T_CHECK(date3339_bad("2023-1-14T22:13:20Z"));
	T_CHECK(date3339_bad("+2023-11-14T22:13:20Z"));
	T_CHECK(date3339_bad("2023-11-14T 2:13:20Z"));
	T_CHECK(date3339_bad("Tue, 14 Nov 2023 22:13:20 GMT"));
	T_CHECK(date3339_bad("1700000000"));
}

/* Retry-After: delta-seconds and the three HTTP-date forms. */
static void
test_retry_after(void)
{
	struct rl_when w;

	memset(&w, 0, sizeof(w));
	T_CHECK(rl_parse_retry_after("5", &w) == 0 && !w.abs && w.ms == 5000);
	T_CHECK(rl_parse_retry_after(" 30 \r", &w) == 0 && !w.abs &&
	    w.ms == 30000);
	T_CHECK(rl_parse_retry_after("0", &w) == 0 && !w.abs && w.ms == 0);
	T_CHECK(rl_parse_retry_after("99999999999999999999", &w) == 0 &&
	    !w.abs && w.ms == (int64_t)UINT32_MAX * 1000);
	T_CHECK(rl_parse_retry_after("Tue, 14 Nov 2023 22:13:50 GMT", &w) ==
	    0 && w.abs && w.ms == (T0_S + 30) * 1000);
	T_CHECK(rl_parse_retry_after("Tuesday, 14-Nov-23 22:13:50 GMT", &w)
	    == 0 && w.abs && w.ms == (T0_S + 30) * 1000);
	T_CHECK(rl_parse_retry_after("Tue Nov 14 22:13:50 2023", &w) == 0 &&
	    w.abs && w.ms == (T0_S + 30) * 1000);

	/* A year curl reads but no clock reaches: saturated, not wrapped
	 * (fuzz_headers found it). */
	T_CHECK(rl_parse_retry_after("Tue, 14 Nov 777777778 22:13:50 GMT",
	    &w) == 0 && w.abs && w.ms == INT64_MAX &&
	    rl_when_ms(&w, T0_NS, 10) == UINT32_MAX);

	T_CHECK(rl_parse_retry_after("", &w) == -1);
	T_CHECK(rl_parse_retry_after("soon", &w) == -1);
	T_CHECK(rl_parse_retry_after("Tue", &w) == -1);
	T_CHECK(rl_parse_retry_after("-5", &w) == -1);
	T_CHECK(rl_parse_retry_after("5s", &w) == -1);
	T_CHECK(rl_parse_retry_after("1.5", &w) == -1);
	T_CHECK(rl_parse_retry_after("5, 6", &w) == -1);
	T_CHECK(rl_parse_retry_after("2023-11-14T22:13:50Z", &w) == -1);

	/* retry-after-ms */
	T_CHECK(rl_parse_retry_after_ms("1500", &w) == 0 && !w.abs &&
	    w.ms == 1500);
	T_CHECK(rl_parse_retry_after_ms("19.5", &w) == 0 && w.ms == 20);
	T_CHECK(rl_parse_retry_after_ms("19.000", &w) == 0 && w.ms == 19);
	T_CHECK(rl_parse_retry_after_ms("0", &w) == 0 && w.ms == 0);
	T_CHECK(rl_parse_retry_after_ms("99999999999999999999", &w) == 0 &&
	    w.ms == UINT32_MAX);
	T_CHECK(rl_parse_retry_after_ms("", &w) == -1);
	T_CHECK(rl_parse_retry_after_ms("1e3", &w) == -1);
	T_CHECK(rl_parse_retry_after_ms("-1", &w) == -1);
	T_CHECK(rl_parse_retry_after_ms("1s", &w) == -1);
	T_CHECK(rl_parse_retry_after_ms(".", &w) == -1);
}

/* A moment as ms after the sample's start. */
static void
test_when(void)
{
	struct rl_when w;

	w.abs = 0;
	w.ms = 5000;
	T_CHECK(rl_when_ms(&w, T0_NS, 120) == 5120);
	w.ms = (int64_t)UINT32_MAX * 1000;
	T_CHECK(rl_when_ms(&w, T0_NS, 120) == UINT32_MAX);
	w.abs = 1;
	w.ms = (T0_S + 30) * 1000;
	T_CHECK(rl_when_ms(&w, T0_NS, 120) == 30000);
	T_CHECK(rl_when_ms(&w, T0_NS + 500000000ull, 120) == 29500);
	w.ms = (T0_S - 30) * 1000;	/* in the past: due now */
	T_CHECK(rl_when_ms(&w, T0_NS, 120) == 0);
	w.ms = INT64_MAX;
	T_CHECK(rl_when_ms(&w, T0_NS, 120) == UINT32_MAX);
}

static void
feed(struct rl_capture *c, const char *line)
{
	rl_capture_line(c, line, strlen(line));
}

/* Only the names we read, each bounded; a status line starts over. */
static void
test_capture(void)
{
	struct rl_capture c;
	char big[200];

	memset(&c, 0xa5, sizeof(c));
	rl_capture_reset(&c);
	feed(&c, "HTTP/1.1 429 Too Many Requests\r\n");
	feed(&c, "Content-Type: application/json\r\n");
	feed(&c, "Retry-After: 7\r\n");
	feed(&c, "X-RateLimit-Remaining-Requests:0\r\n");
	feed(&c, "retry-after-msx: 1\r\n");	/* not ours */
	feed(&c, "no colon at all\r\n");
	T_CHECK(c.state[RLH_RETRY_AFTER] == RLC_SET &&
	    strcmp(c.v[RLH_RETRY_AFTER], "7") == 0);
	T_CHECK(c.state[RLH_OAI + 1] == RLC_SET &&
	    strcmp(c.v[RLH_OAI + 1], "0") == 0);
	T_CHECK(c.state[RLH_RETRY_AFTER_MS] == RLC_NONE);

	/* Over RL_VAL_MAX: bad, never cut to a shorter value. */
	memset(big, '9', sizeof(big));
	memcpy(big, "retry-after: ", 13);
	rl_capture_line(&c, big, sizeof(big));
	T_CHECK(c.state[RLH_RETRY_AFTER] == RLC_BAD);
	/* A control character (a NUL) makes it bad too. */
	rl_capture_line(&c, "retry-after-ms: 5\0" "000\r\n",
	    sizeof("retry-after-ms: 5\0" "000\r\n") - 1);
	T_CHECK(c.state[RLH_RETRY_AFTER_MS] == RLC_BAD);
	/* The last of repeated names wins. */
	feed(&c, "retry-after: 3\r\n");
	T_CHECK(c.state[RLH_RETRY_AFTER] == RLC_SET &&
	    strcmp(c.v[RLH_RETRY_AFTER], "3") == 0);
	/* An interim response's headers are forgotten. */
	feed(&c, "HTTP/2 200\r\n");
	T_CHECK(c.state[RLH_RETRY_AFTER] == RLC_NONE &&
	    c.state[RLH_OAI + 1] == RLC_NONE);
	feed(&c, "\r\n");
	feed(&c, ":\r\n");
	feed(&c, "retry-after:\r\n");
	T_CHECK(c.state[RLH_RETRY_AFTER] == RLC_SET &&
	    c.v[RLH_RETRY_AFTER][0] == '\0');
}

/* An OpenAI 200's headers, as the API sends them. */
static void
test_parse_openai(void)
{
	struct rl_capture c;
	struct rl_result r;
	uint32_t ms;

	rl_capture_reset(&c);
	feed(&c, "HTTP/2 200\r\n");
	feed(&c, "x-ratelimit-limit-requests: 5000\r\n");
	feed(&c, "x-ratelimit-limit-tokens: 160000\r\n");
	feed(&c, "x-ratelimit-remaining-requests: 4999\r\n");
	feed(&c, "x-ratelimit-remaining-tokens: 159976\r\n");
	feed(&c, "x-ratelimit-reset-requests: 12ms\r\n");
	feed(&c, "x-ratelimit-reset-tokens: 6m0s\r\n");
	feed(&c, "x-ratelimit-remaining-tokens_usage_based: 1\r\n");
	rl_parse(&c, T0_NS, 100, &r);
	T_CHECK(r.rl[VIGIL_RL_REQUESTS].limit == 5000 &&
	    r.rl[VIGIL_RL_REQUESTS].remaining == 4999 &&
	    r.rl[VIGIL_RL_REQUESTS].reset_ms == 112);
	T_CHECK(r.rl[VIGIL_RL_TOKENS].limit == 160000 &&
	    r.rl[VIGIL_RL_TOKENS].remaining == 159976 &&
	    r.rl[VIGIL_RL_TOKENS].reset_ms == 360100);
	T_CHECK(r.rl[VIGIL_RL_INPUT_TOKENS].limit == 0 &&
	    r.rl[VIGIL_RL_OUTPUT_TOKENS].limit == 0);
	T_CHECK(!r.retry_set && rl_hint(&r, &ms) == 0);

	/* A 429 with both Retry-After forms: the earliest. */
	feed(&c, "HTTP/2 429\r\n");
	feed(&c, "retry-after: 20\r\n");
	feed(&c, "retry-after-ms: 19582\r\n");
	feed(&c, "x-ratelimit-limit-requests: 5000\r\n");
	feed(&c, "x-ratelimit-remaining-requests: 0\r\n");
	feed(&c, "x-ratelimit-reset-requests: 1m30s\r\n");
	rl_parse(&c, T0_NS, 100, &r);
	T_CHECK(r.retry_set && r.retry_ms == 19682);
	T_CHECK(rl_hint(&r, &ms) == 1 && ms == 19682);
	/* Without Retry-After: the reset of what ran out. */
	rl_capture_reset(&c);
	feed(&c, "x-ratelimit-limit-requests: 5000\r\n");
	feed(&c, "x-ratelimit-remaining-requests: 0\r\n");
	feed(&c, "x-ratelimit-reset-requests: 1m30s\r\n");
	feed(&c, "x-ratelimit-limit-tokens: 1000\r\n");
	feed(&c, "x-ratelimit-remaining-tokens: 10\r\n");
	feed(&c, "x-ratelimit-reset-tokens: 5s\r\n");
	rl_parse(&c, T0_NS, 100, &r);
	T_CHECK(rl_hint(&r, &ms) == 1 && ms == 90100);
	/* Both ran out: both must be back, the later reset. */
	feed(&c, "x-ratelimit-remaining-tokens: 0\r\n");
	feed(&c, "x-ratelimit-reset-tokens: 2m\r\n");
	rl_parse(&c, T0_NS, 100, &r);
	T_CHECK(rl_hint(&r, &ms) == 1 && ms == 120100);
	/* A Retry-After earlier than that wins. */
	feed(&c, "retry-after: 1\r\n");
	rl_parse(&c, T0_NS, 100, &r);
	T_CHECK(rl_hint(&r, &ms) == 1 && ms == 1100);
}

/* An Anthropic answer: RFC 3339 resets, four resources. */
static void
test_parse_anthropic(void)
{
	static const char *res[] = { "requests", "tokens", "input-tokens",
	    "output-tokens" };
	struct rl_capture c;
	struct rl_result r;
	char line[128];
	uint32_t ms;
	int i;

	rl_capture_reset(&c);
	feed(&c, "HTTP/1.1 200 OK\r\n");
	for (i = 0; i < 4; i++) {
		snprintf(line, sizeof(line), "anthropic-ratelimit-%s-limit: "
		    "%d\r\n", res[i], (i + 1) * 1000);
		feed(&c, line);
		snprintf(line, sizeof(line), "Anthropic-RateLimit-%s-Remaining:"
		    " %d\r\n", res[i], (i + 1) * 100);
		feed(&c, line);
		snprintf(line, sizeof(line), "anthropic-ratelimit-%s-reset: "
		    "2023-11-14T22:13:%02d.5Z\r\n", res[i], 21 + i);
		feed(&c, line);
	}
	rl_parse(&c, T0_NS, 40, &r);
	for (i = 0; i < VIGIL_RL_COUNT; i++)
		T_CHECKF(r.rl[i].limit == (uint32_t)(i + 1) * 1000 &&
		    r.rl[i].remaining == (uint32_t)(i + 1) * 100 &&
		    r.rl[i].reset_ms == 1500u + 1000u * (uint32_t)i,
		    "%d: %u %u %u", i, r.rl[i].limit, r.rl[i].remaining,
		    r.rl[i].reset_ms);
	T_CHECK(rl_hint(&r, &ms) == 0);

	/* A 429: retry-after in seconds and the exhausted reset. */
	feed(&c, "HTTP/1.1 429 Too Many Requests\r\n");
	feed(&c, "retry-after: 3\r\n");
	feed(&c, "anthropic-ratelimit-requests-limit: 50\r\n");
	feed(&c, "anthropic-ratelimit-requests-remaining: 0\r\n");
	feed(&c, "anthropic-ratelimit-requests-reset: "
	    "2023-11-14T22:13:25Z\r\n");
	rl_parse(&c, T0_NS, 40, &r);
	T_CHECK(r.rl[VIGIL_RL_REQUESTS].reset_ms == 5000);
	T_CHECK(rl_hint(&r, &ms) == 1 && ms == 3040);
	/* A reset due already (our clock ahead) is reported, as 1 ms. */
	feed(&c, "anthropic-ratelimit-requests-reset: "
	    "2023-11-14T22:13:00Z\r\n");
	feed(&c, "retry-after: 9\r\n");
	rl_parse(&c, T0_NS, 40, &r);
	T_CHECK(r.rl[VIGIL_RL_REQUESTS].reset_ms == 1);
	T_CHECK(rl_hint(&r, &ms) == 1 && ms == 1);
}

/* Garbage in any field: that field is ignored, nothing is guessed. */
static void
test_parse_garbage(void)
{
	struct rl_capture c;
	struct rl_result r;
	uint32_t ms;

	rl_capture_reset(&c);
	feed(&c, "x-ratelimit-limit-requests: -1\r\n");	/* Azure */
	feed(&c, "x-ratelimit-remaining-requests: -1\r\n");
	feed(&c, "x-ratelimit-reset-requests: 0\r\n");
	feed(&c, "x-ratelimit-limit-tokens: 0\r\n");	/* 0: not reported */
	feed(&c, "x-ratelimit-remaining-tokens: 0\r\n");
	feed(&c, "anthropic-ratelimit-input-tokens-limit: 100\r\n");
	/* remaining missing: not reported */
	feed(&c, "anthropic-ratelimit-output-tokens-limit: 100\r\n");
	feed(&c, "anthropic-ratelimit-output-tokens-remaining: 7\r\n");
	feed(&c, "anthropic-ratelimit-output-tokens-reset: tomorrow\r\n");
	feed(&c, "retry-after: soon\r\n");
	feed(&c, "retry-after-ms: 1e3\r\n");
	rl_parse(&c, T0_NS, 40, &r);
	T_CHECK(r.rl[VIGIL_RL_REQUESTS].limit == 0 &&
	    r.rl[VIGIL_RL_TOKENS].limit == 0 &&
	    r.rl[VIGIL_RL_INPUT_TOKENS].limit == 0);
	/* A bad reset leaves the rest of the resource. */
	T_CHECK(r.rl[VIGIL_RL_OUTPUT_TOKENS].limit == 100 &&
	    r.rl[VIGIL_RL_OUTPUT_TOKENS].remaining == 7 &&
	    r.rl[VIGIL_RL_OUTPUT_TOKENS].reset_ms == 0);
	T_CHECK(!r.retry_set && rl_hint(&r, &ms) == 0);
	/* A resource that ran out without a reset is no hint. */
	feed(&c, "anthropic-ratelimit-output-tokens-remaining: 0\r\n");
	rl_parse(&c, T0_NS, 40, &r);
	T_CHECK(rl_hint(&r, &ms) == 0);
	/* One good form among bad ones is kept. */
	feed(&c, "retry-after-ms: 250\r\n");
	rl_parse(&c, T0_NS, 40, &r);
	T_CHECK(r.retry_set && r.retry_ms == 290 && rl_hint(&r, &ms) == 1 &&
	    ms == 290);
	/* Saturated counts. */
	feed(&c, "anthropic-ratelimit-tokens-limit: 99999999999\r\n");
	feed(&c, "anthropic-ratelimit-tokens-remaining: 99999999999\r\n");
	rl_parse(&c, T0_NS, 40, &r);
	T_CHECK(r.rl[VIGIL_RL_TOKENS].limit == UINT32_MAX &&
	    r.rl[VIGIL_RL_TOKENS].remaining == UINT32_MAX);
}

/* What vigil-sim writes, the prober reads to the same moment. */
static void
test_sim_forms(void)
{
	static const long durs[] = { 0, 1, 12, 999, 1000, 1500, 20002, 59999,
	    60000, 90000, 360000, 3599999, 3600000, 7384500, 86400000 };
	char buf[64];
	uint64_t ms;
	int64_t t;
	struct rl_when w;
	size_t i;

	for (i = 0; i < sizeof(durs) / sizeof(durs[0]); i++) {
		T_CHECK(sim_rl_duration(durs[i], buf, sizeof(buf)) == 0);
		T_CHECKF(rl_parse_duration(buf, &ms) == 0 &&
		    ms == (uint64_t)durs[i], "%ld -> %s", durs[i], buf);
	}
	T_CHECK(sim_rl_duration(90000, buf, sizeof(buf)) == 0 &&
	    strcmp(buf, "1m30s") == 0);
	T_CHECK(sim_rl_duration(360000, buf, sizeof(buf)) == 0 &&
	    strcmp(buf, "6m0s") == 0);
	T_CHECK(sim_rl_duration(12, buf, sizeof(buf)) == 0 &&
	    strcmp(buf, "12ms") == 0);
	T_CHECK(sim_rl_duration(1500, buf, sizeof(buf)) == 0 &&
	    strcmp(buf, "1.5s") == 0);
	T_CHECK(sim_rl_rfc3339(T0_S, buf, sizeof(buf)) == 0 &&
	    strcmp(buf, "2023-11-14T22:13:20Z") == 0 &&
	    rl_parse_rfc3339(buf, &t) == 0 && t == T0_S * 1000);
	T_CHECK(sim_rl_httpdate(T0_S + 30, buf, sizeof(buf)) == 0 &&
	    strcmp(buf, "Tue, 14 Nov 2023 22:13:50 GMT") == 0 &&
	    rl_parse_retry_after(buf, &w) == 0 && w.abs &&
	    w.ms == (T0_S + 30) * 1000);
}

/* The sim's window: counts down, 429 when spent, resets. */
static void
test_sim_window(void)
{
	struct sim_rl_conf c;
	struct sim_rl_state st;
	struct sim_rl_ans a;
	uint64_t now = 5000;

	memset(&c, 0, sizeof(c));
	memset(&st, 0, sizeof(st));
	T_CHECK(sim_rl_take(&st, &c, now, &a) == 0 && !a.on);
	c.requests = 2;
	c.tokens = 25;
	c.request_tokens = 10;
	c.window_s = 10;
	T_CHECK(sim_rl_take(&st, &c, now, &a) == 0 && a.on &&
	    a.req_rem == 1 && a.tok_rem == 15 && a.reset_ms == 10000);
	T_CHECK(sim_rl_take(&st, &c, now + 4000, &a) == 0 &&
	    a.req_rem == 0 && a.tok_rem == 5 && a.reset_ms == 6000);
	T_CHECK(sim_rl_take(&st, &c, now + 5000, &a) == 1 && a.limited &&
	    a.req_rem == 0 && a.reset_ms == 5000);
	/* The window is over: a new one. */
	T_CHECK(sim_rl_take(&st, &c, now + 10000, &a) == 0 &&
	    a.req_rem == 1 && a.reset_ms == 10000);
	/* Tokens run out before requests. */
	c.requests = 100;
	T_CHECK(sim_rl_take(&st, &c, now + 11000, &a) == 0 &&
	    a.req_rem == 99 && a.reset_ms == 10000);	/* new settings */
	T_CHECK(sim_rl_take(&st, &c, now + 11000, &a) == 0 && a.tok_rem == 5);
	T_CHECK(sim_rl_take(&st, &c, now + 11000, &a) == 1 && a.req_rem == 98);
}

int
main(void)
{
	T_RUN(test_count);
	T_RUN(test_duration);
	T_RUN(test_rfc3339);
	T_RUN(test_retry_after);
	T_RUN(test_when);
	T_RUN(test_capture);
	T_RUN(test_parse_openai);
	T_RUN(test_parse_anthropic);
	T_RUN(test_parse_garbage);
	T_RUN(test_sim_forms);
	T_RUN(test_sim_window);
	return t_done();
}
