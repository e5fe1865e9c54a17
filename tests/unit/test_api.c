/*
 * test_api.c - vigil-api's pure functions (api/util.c): percent-decoding,
 * query parsing and checking, RFC 3339 parse/format, steps, the cleaning
 * of the segment's strings, Prometheus, DOT and CSV escaping.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "t.h"
#include "../../api/api.h"

static void
test_pct_decode(void)
{
	char out[32];

	T_CHECK(api_pct_decode("a%20b", 5, out, sizeof(out), 0) == 3);
	T_CHECK(strcmp(out, "a b") == 0);
	T_CHECK(api_pct_decode("a+b", 3, out, sizeof(out), 1) == 3);
	T_CHECK(strcmp(out, "a b") == 0);
	T_CHECK(api_pct_decode("a+b", 3, out, sizeof(out), 0) == 3);
	T_CHECK(strcmp(out, "a+b") == 0);
	T_CHECK(api_pct_decode("%4", 2, out, sizeof(out), 0) == -1);
	T_CHECK(api_pct_decode("%", 1, out, sizeof(out), 0) == -1);
	T_CHECK(api_pct_decode("%zz", 3, out, sizeof(out), 0) == -1);
	T_CHECK(api_pct_decode("%00", 3, out, sizeof(out), 0) == -1);
	T_CHECK(api_pct_decode("a%0a", 4, out, sizeof(out), 0) == -1);
	T_CHECK(api_pct_decode("%41%42", 6, out, sizeof(out), 0) == 2);
	T_CHECK(strcmp(out, "AB") == 0);
	/* Exactly fitting and one byte too long. */
	T_CHECK(api_pct_decode("abc", 3, out, 4, 0) == 3);
	T_CHECK(api_pct_decode("abcd", 4, out, 4, 0) == -1);
	/* len is honoured: no read past it. */
	T_CHECK(api_pct_decode("ab%41", 3, out, sizeof(out), 0) == -1);
}

static void
test_query_parse(void)
{
	struct api_query q;
	char bad[40];
	const char *b;
	static const char *const allowed[] = { "a", "step", NULL };
	char big[API_QVAL_MAX + 10];
	int i;

	T_CHECK(api_query_parse("a=1&step=5m&&flag", &q, bad,
	    sizeof(bad)) == 0);
	T_CHECK(q.n == 3);
	T_CHECK(strcmp(api_query_get(&q, "a"), "1") == 0);
	T_CHECK(strcmp(api_query_get(&q, "step"), "5m") == 0);
	T_CHECK(strcmp(api_query_get(&q, "flag"), "") == 0);
	T_CHECK(api_query_get(&q, "nope") == NULL);
	T_CHECK(api_query_check(&q, allowed, &b) == API_QUERY_UNKNOWN &&
	    strcmp(b, "flag") == 0);
	T_CHECK(api_query_parse("from=2026-11-28T15%3A04%3A05Z", &q, bad,
	    sizeof(bad)) == 0);
	T_CHECK(strcmp(api_query_get(&q, "from"), "2026-11-28T15:04:05Z") ==
	    0);
	T_CHECK(api_query_parse("since=%zz", &q, bad, sizeof(bad)) == -1);
	T_CHECK(strcmp(bad, "since") == 0);
	T_CHECK(api_query_parse("%zz=1", &q, bad, sizeof(bad)) == -1);
	T_CHECK(strcmp(bad, "query") == 0);
	memset(big, 'x', sizeof(big));
	memcpy(big, "v=", 2);
	big[sizeof(big) - 1] = '\0';
	T_CHECK(api_query_parse(big, &q, bad, sizeof(bad)) == -1);
	T_CHECK(strcmp(bad, "v") == 0);
	big[0] = '\0';
	for (i = 0; i <= API_QUERY_MAX; i++)
		strcat(big, "k=1&");
	T_CHECK(api_query_parse(big, &q, bad, sizeof(bad)) == -1);
	T_CHECK(api_query_parse(NULL, &q, bad, sizeof(bad)) == 0 && q.n == 0);
	T_CHECK(api_query_parse("", &q, bad, sizeof(bad)) == 0 && q.n == 0);
}

/*
 * A repeated parameter is refused by name, known or not (an unknown one
 * is reported as unknown first); the same value twice too; a key with no
 * value counts.
 */
static void
test_query_check(void)
{
	struct api_query q;
	char bad[40];
	const char *b = NULL;
	static const char *const allowed[] = { "provider", "step", NULL };
	static const char *const none[] = { NULL };

	T_CHECK(api_query_parse("provider=a&step=1m", &q, bad,
	    sizeof(bad)) == 0);
	T_CHECK(api_query_check(&q, allowed, &b) == 0);
	T_CHECK(api_query_check(&q, none, &b) == API_QUERY_UNKNOWN &&
	    strcmp(b, "provider") == 0);
	T_CHECK(api_query_parse("provider=a&step=1m&provider=b", &q, bad,
	    sizeof(bad)) == 0);
	T_CHECK(api_query_check(&q, allowed, &b) == API_QUERY_REPEATED &&
	    strcmp(b, "provider") == 0);
	T_CHECK(api_query_parse("step=1m&step=1m", &q, bad, sizeof(bad)) == 0);
	T_CHECK(api_query_check(&q, allowed, &b) == API_QUERY_REPEATED &&
	    strcmp(b, "step") == 0);
	T_CHECK(api_query_parse("provider=a&provider", &q, bad,
	    sizeof(bad)) == 0);
	T_CHECK(api_query_check(&q, allowed, &b) == API_QUERY_REPEATED);
	/* Percent-encoding does not hide a repeat. */
	T_CHECK(api_query_parse("provider=a&%70rovider=b", &q, bad,
	    sizeof(bad)) == 0);
	T_CHECK(api_query_check(&q, allowed, &b) == API_QUERY_REPEATED);
	T_CHECK(api_query_parse("x=1&x=2", &q, bad, sizeof(bad)) == 0);
	T_CHECK(api_query_check(&q, allowed, &b) == API_QUERY_UNKNOWN &&
	    strcmp(b, "x") == 0);
	T_CHECK(api_query_parse("", &q, bad, sizeof(bad)) == 0);
	T_CHECK(api_query_check(&q, none, &b) == 0);
}

/* Clean s (a copy in a buffer of size bytes); compare with want. */
static int
cleaned(const char *s, size_t size, const char *want, size_t nbad)
{
	char buf[64];
	size_t n;

	memset(buf, 'Z', sizeof(buf));
	memcpy(buf, s, strlen(s) + 1 < size ? strlen(s) + 1 : size);
	n = api_text_clean(buf, size);
	if (strcmp(buf, want) != 0 || n != nbad) {
		fprintf(stderr, "  clean: got \"%s\" (%zu), want \"%s\" (%zu)\n",
		    buf, n, want, nbad);
		return 0;
	}
	return 1;
}

static void
test_text_clean(void)
{
	struct vigil_provider p;
	struct vigil_alert a;
	struct vigil_sample sm;

	T_CHECK(cleaned("openai", 32, "openai", 0));
	T_CHECK(cleaned("", 32, "", 0));
	/* Valid UTF-8 of 2, 3 and 4 bytes stays. */
	T_CHECK(cleaned("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 32,
	    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 0));
	/* Control characters: C0, DEL, C1 (U+0085 as UTF-8). */
	T_CHECK(cleaned("a\nb\tc\x01" "d\x7f" "e\xc2\x85", 32, "a?b?c?d?e??",
	    6));
	/* Quotes and backslashes are the formats' business: kept. */
	T_CHECK(cleaned("a\"b\\c,d", 32, "a\"b\\c,d", 0));
	/* Invalid: stray continuation, 0xff, overlong NUL and '/',
	 * surrogate, above U+10FFFF, cut short at the end and mid-string. */
	T_CHECK(cleaned("\x80" "a\xff", 32, "?a?", 2));
	T_CHECK(cleaned("\xc0\x80\xe0\x80\xaf", 32, "?????", 5));
	T_CHECK(cleaned("\xed\xa0\x80", 32, "???", 3));
	T_CHECK(cleaned("\xf4\x90\x80\x80", 32, "????", 4));
	T_CHECK(cleaned("ok\xe2\x82", 32, "ok??", 2));
	T_CHECK(cleaned("\xe2\x82x", 32, "??x", 2));
	T_CHECK(cleaned("\xf0\x9f\x98", 32, "???", 3));
	/* Bound: unterminated in its array, cut at size - 1; a character
	 * cut by the bound is invalid. */
	T_CHECK(cleaned("abcdefgh", 5, "abcd", 0));
	T_CHECK(cleaned("abc\xc3\xa9", 5, "abc?", 1));
	/* The segment's structures: every string field. */
	memset(&p, 0xff, sizeof(p));
	api_clean_provider(&p);
	T_CHECK(strlen(p.info.name) == sizeof(p.info.name) - 1 &&
	    strspn(p.info.name, "?") == sizeof(p.info.name) - 1);
	T_CHECK(strspn(p.info.host, "?") == sizeof(p.info.host) - 1);
	T_CHECK(strspn(p.stats.last_error, "?") ==
	    sizeof(p.stats.last_error) - 1);
	T_CHECK(strspn(p.stats.last.error, "?") ==
	    sizeof(p.stats.last.error) - 1);
	memset(&a, '\n', sizeof(a));
	api_clean_alert(&a);
	T_CHECK(strspn(a.provider, "?") == sizeof(a.provider) - 1);
	memset(&sm, 0x9f, sizeof(sm));
	api_clean_sample(&sm);
	T_CHECK(strspn(sm.error, "?") == sizeof(sm.error) - 1);
}

static void
test_dot_csv_escape(void)
{
	char out[32];

	T_CHECK(api_dot_escape("ev\"il\\n", out, sizeof(out)) == 9);
	T_CHECK(strcmp(out, "ev\\\"il\\\\n") == 0);
	T_CHECK(api_csv_field("openai", out, sizeof(out)) == 6);
	T_CHECK(strcmp(out, "openai") == 0);
	T_CHECK(api_csv_field("a,b", out, sizeof(out)) == 5);
	T_CHECK(strcmp(out, "\"a,b\"") == 0);
	T_CHECK(api_csv_field("say \"hi\"\r\n", out, sizeof(out)) == 14);
	T_CHECK(strcmp(out, "\"say \"\"hi\"\"\r\n\"") == 0);
	/* Cut to fit, still one closed field, never half a quote pair. */
	T_CHECK(api_csv_field("ab\"cd,", out, 6) == 4);
	T_CHECK(strcmp(out, "\"ab\"") == 0);
	T_CHECK(api_csv_field("x", out, 2) == 0);
}

static void
test_time_parse(void)
{
	uint64_t ns;

	T_CHECK(api_time_parse("1970-01-01T00:00:00Z", &ns) == 0 && ns == 0);
	T_CHECK(api_time_parse("2026-11-28T15:04:05Z", &ns) == 0);
	T_CHECK(ns == 1795878245ull * 1000000000ull);
	T_CHECK(api_time_parse("2026-11-28t15:04:05z", &ns) == 0);
	T_CHECK(api_time_parse("2026-11-28T16:04:05+01:00", &ns) == 0 &&
	    ns == 1795878245ull * 1000000000ull);
	T_CHECK(api_time_parse("2026-11-28T14:34:05-00:30", &ns) == 0 &&
	    ns == 1795878245ull * 1000000000ull);
	T_CHECK(api_time_parse("2026-11-28T15:04:05.25Z", &ns) == 0 &&
	    ns == 1795878245ull * 1000000000ull + 250000000ull);
	T_CHECK(api_time_parse("2024-02-29T00:00:00Z", &ns) == 0);
	T_CHECK(api_time_parse("2023-02-29T00:00:00Z", &ns) == -1);
	T_CHECK(api_time_parse("2026-13-01T00:00:00Z", &ns) == -1);
	T_CHECK(api_time_parse("2026-11-28T24:00:00Z", &ns) == -1);
	T_CHECK(api_time_parse("2026-11-28T15:04:05", &ns) == -1);
	T_CHECK(api_time_parse("2026-11-28T15:04:05Zjunk", &ns) == -1);
	T_CHECK(api_time_parse("2026-11-28T15:04:05.Z", &ns) == -1);
	T_CHECK(api_time_parse("1795878245", &ns) == 0 &&
	    ns == 1795878245ull * 1000000000ull);
	T_CHECK(api_time_parse("1795878245.5", &ns) == 0 &&
	    ns == 1795878245ull * 1000000000ull + 500000000ull);
	T_CHECK(api_time_parse("17958x", &ns) == -1);
	T_CHECK(api_time_parse("", &ns) == -1);
	T_CHECK(api_time_parse("-5", &ns) == -1);
	T_CHECK(api_time_parse("99999999999", &ns) == -1);
	T_CHECK(api_time_parse("9999-01-01T00:00:00Z", &ns) == -1);
	T_CHECK(api_time_parse("yesterday", &ns) == -1);
	T_CHECK(api_time_parse("1970-01-01T00:00:00+01:00", &ns) == -1);
}

static void
test_time_format(void)
{
	char buf[32];
	uint64_t ns, t;

	T_CHECK(api_time_format(0, buf, sizeof(buf)) == 20);
	T_CHECK(strcmp(buf, "1970-01-01T00:00:00Z") == 0);
	T_CHECK(api_time_format(1795878245ull * 1000000000ull + 999, buf,
	    sizeof(buf)) == 20);
	T_CHECK(strcmp(buf, "2026-11-28T15:04:05Z") == 0);
	T_CHECK(api_time_format(0, buf, 20) == 0);
	/* Round trip over many days, leap years included. */
	for (t = 0; t < 4102444800ull; t += 86400ull * 37 + 3661) {
		api_time_format(t * 1000000000ull, buf, sizeof(buf));
		T_CHECKF(api_time_parse(buf, &ns) == 0 &&
		    ns == t * 1000000000ull, "%s", buf);
	}
}

static void
test_step_parse(void)
{
	uint32_t s;

	T_CHECK(api_step_parse("raw", &s) == 0 && s == 0);
	T_CHECK(api_step_parse("1m", &s) == 0 && s == 60);
	T_CHECK(api_step_parse("5m", &s) == 0 && s == 300);
	T_CHECK(api_step_parse("15m", &s) == 0 && s == 900);
	T_CHECK(api_step_parse("1h", &s) == 0 && s == 3600);
	T_CHECK(api_step_parse("2m", &s) == -1);
	T_CHECK(api_step_parse("", &s) == -1);
	T_CHECK(api_step_parse("1H", &s) == -1);
}

static void
test_prom_escape(void)
{
	char out[32];

	T_CHECK(api_prom_escape("openai", out, sizeof(out)) == 6);
	T_CHECK(strcmp(out, "openai") == 0);
	T_CHECK(api_prom_escape("a\"b\\c\nd", out, sizeof(out)) == 10);
	T_CHECK(strcmp(out, "a\\\"b\\\\c\\nd") == 0);
	/* Truncation never leaves half an escape. */
	T_CHECK(api_prom_escape("ab\"", out, 4) == 2);
	T_CHECK(strcmp(out, "ab") == 0);
}

static void
test_names_and_ranks(void)
{
	struct vigil_provider p;

	T_CHECK(api_name_valid("openai"));
	T_CHECK(api_name_valid("my-provider_2.eu"));
	T_CHECK(!api_name_valid(""));
	T_CHECK(!api_name_valid("bad name"));
	T_CHECK(!api_name_valid("../etc"));
	T_CHECK(!api_name_valid("abcdefghijabcdefghijabcdefghijab"));
	memset(&p, 0, sizeof(p));
	p.stats.status = VIGIL_ST_DEGRADED;
	p.stats.updated_wall_ns = 1;
	T_CHECK(api_provider_up(&p));
	p.stats.circuit = VIGIL_CB_OPEN;
	T_CHECK(!api_provider_up(&p));
	p.stats.circuit = VIGIL_CB_CLOSED;
	p.info.flags = VIGIL_PF_PAUSED;	/* paused before the aggregator saw it */
	T_CHECK(!api_provider_up(&p));
	T_CHECK(api_round3(182.40000001) == 182.4);
}

/*
 * A model's read model (api/util.c): unknown until the aggregator wrote
 * its block or for a value out of range, usable only when said and
 * known, listed unknown in a zeroed block, last_outcome meaningful only
 * once checked; the tokens of the day only in their day; a model's
 * strings cleaned.
 */
static void
test_model_rules(void)
{
	const uint64_t day = 86400ull * 1000000000ull;
	struct vigil_model_stats s;
	struct vigil_stats st;
	struct api_model am;

	memset(&s, 0, sizeof(s));
	T_CHECK(vigil_model_effective_status(&s) == VIGIL_ST_UNKNOWN);
	T_CHECK(vigil_model_listed(&s) == -1);	/* zeroed: not "no" */
	T_CHECK(!vigil_model_checked(&s));
	s.usable = 1;
	s.status = VIGIL_ST_HEALTHY;
	T_CHECK(!vigil_model_usable(&s));		/* never written */
	s.updated_wall_ns = 1;
	T_CHECK(vigil_model_effective_status(&s) == VIGIL_ST_HEALTHY);
	T_CHECK(vigil_model_usable(&s));
	T_CHECK(vigil_model_listed(&s) == 0);
	s.listed = 1;
	T_CHECK(vigil_model_listed(&s) == 1);
	s.listed = 2;
	T_CHECK(vigil_model_listed(&s) == -1);
	s.status = VIGIL_ST_COUNT;
	T_CHECK(vigil_model_effective_status(&s) == VIGIL_ST_UNKNOWN);
	T_CHECK(!vigil_model_usable(&s));
	s.checks_total = 1;
	T_CHECK(!vigil_model_checked(&s));
	s.last_wall_ns = 5;
	T_CHECK(vigil_model_checked(&s));

	memset(&st, 0, sizeof(st));
	st.probe_tokens_today = 40;
	st.probe_tokens_day = 20000;
	T_CHECK(vigil_probe_tokens_today(&st, 20000 * day) == 40);
	T_CHECK(vigil_probe_tokens_today(&st, 20001 * day - 1) == 40);
	T_CHECK(vigil_probe_tokens_today(&st, 20001 * day) == 0);

	memset(&am, 'x', sizeof(am.name));	/* unterminated */
	memcpy(am.s.last_error, "a\x01\xc3\xa9\xff", 6);
	api_clean_model(&am);
	T_CHECK(strlen(am.name) == sizeof(am.name) - 1);
	T_CHECK(strcmp(am.s.last_error, "a?\xc3\xa9?") == 0);
}

/* api_fmt_fixed against printf's "%.*f" with trailing zeros trimmed. */
static void
fixed_ref(double v, unsigned prec, char *out, size_t len)
{
	size_t n;

	snprintf(out, len, "%.*f", (int)prec, v);
	if (strchr(out, '.') != NULL) {
		n = strlen(out);
		while (out[n - 1] == '0')
			out[--n] = '\0';
		if (out[n - 1] == '.')
			out[--n] = '\0';
	}
	if (strcmp(out, "-0") == 0)
		strcpy(out, "0");
}

static void
test_fmt_numbers(void)
{
	char buf[API_FMT_MAX], ref[64];
	uint64_t x;
	double v;
	unsigned prec;
	int i;

	T_CHECK(api_fmt_u64(0, buf) == 1 && strcmp(buf, "0") == 0);
	T_CHECK(api_fmt_u64(7, buf) == 1 && strcmp(buf, "7") == 0);
	T_CHECK(api_fmt_u64(1000, buf) == 4 && strcmp(buf, "1000") == 0);
	T_CHECK(api_fmt_u64(UINT64_MAX, buf) == 20 &&
	    strcmp(buf, "18446744073709551615") == 0);
	T_CHECK(api_fmt_i64(-1, buf) == 2 && strcmp(buf, "-1") == 0);
	T_CHECK(api_fmt_i64(INT64_MIN, buf) == 20 &&
	    strcmp(buf, "-9223372036854775808") == 0);
	T_CHECK(api_fmt_i64(INT64_MAX, buf) == 19 &&
	    strcmp(buf, "9223372036854775807") == 0);
	/* Every power of ten and its neighbours against printf. */
	for (x = 1; x < UINT64_MAX / 10; x *= 10) {
		uint64_t c[3] = { x - 1, x, x + 1 };

		for (i = 0; i < 3; i++) {
			snprintf(ref, sizeof(ref), "%llu",
			    (unsigned long long)c[i]);
			api_fmt_u64(c[i], buf);
			T_CHECKF(strcmp(buf, ref) == 0, "%s != %s", buf, ref);
		}
	}

	T_CHECK(api_fmt_fixed(182.4, 3, buf, sizeof(buf)) == 5 &&
	    strcmp(buf, "182.4") == 0);
	T_CHECK(api_fmt_fixed(0.15, 6, buf, sizeof(buf)) == 4 &&
	    strcmp(buf, "0.15") == 0);
	T_CHECK(api_fmt_fixed(3.0, 6, buf, sizeof(buf)) == 1 &&
	    strcmp(buf, "3") == 0);
	T_CHECK(api_fmt_fixed(0.0005, 3, buf, sizeof(buf)) == 5 &&
	    strcmp(buf, "0.001") == 0);	/* half away from zero */
	T_CHECK(api_fmt_fixed(-2.5, 0, buf, sizeof(buf)) == 2 &&
	    strcmp(buf, "-3") == 0);
	T_CHECK(api_fmt_fixed(-0.0001, 3, buf, sizeof(buf)) == 1 &&
	    strcmp(buf, "0") == 0);	/* no "-0" */
	T_CHECK(api_fmt_fixed(-0.0, 3, buf, sizeof(buf)) == 1 &&
	    strcmp(buf, "0") == 0);
	T_CHECK(api_fmt_fixed(0.999999, 3, buf, sizeof(buf)) == 1 &&
	    strcmp(buf, "1") == 0);	/* the carry reaches the integer */
	T_CHECK(api_fmt_fixed(-1.05, 6, buf, sizeof(buf)) == 5 &&
	    strcmp(buf, "-1.05") == 0);
	T_CHECK(api_fmt_fixed(0.000001, 6, buf, sizeof(buf)) == 8 &&
	    strcmp(buf, "0.000001") == 0);	/* leading zeros kept */
	T_CHECK(api_fmt_fixed(NAN, 6, buf, sizeof(buf)) == 3 &&
	    strcmp(buf, "NaN") == 0);
	T_CHECK(api_fmt_fixed(INFINITY, 6, buf, sizeof(buf)) == 4 &&
	    strcmp(buf, "+Inf") == 0);
	T_CHECK(api_fmt_fixed(-INFINITY, 6, buf, sizeof(buf)) == 4 &&
	    strcmp(buf, "-Inf") == 0);
	/* Too large to scale: "%.17g", still exact. */
	T_CHECK(api_fmt_fixed(1e300, 6, buf, sizeof(buf)) > 0 &&
	    strtod(buf, NULL) == 1e300);
	T_CHECK(api_fmt_fixed(-9e12, 6, buf, sizeof(buf)) > 0 &&
	    strcmp(buf, "-9000000000000") == 0);
	/* Refusals: a short buffer, a precision past 9. */
	T_CHECK(api_fmt_fixed(1.0, 3, buf, API_FMT_MAX - 1) == 0);
	T_CHECK(api_fmt_fixed(1.0, 10, buf, sizeof(buf)) == 0);
	/*
	 * Against printf where no rounding happens (k / 128 has at most 7
	 * decimals, exact in binary): both must agree to the digit.  Ties
	 * are checked above: printf rounds them to even, we away from 0.
	 */
	for (i = -20000; i <= 20000; i += 3) {
		v = i / 128.0;
		for (prec = 7; prec <= 9; prec++) {
			api_fmt_fixed(v, prec, buf, sizeof(buf));
			fixed_ref(v, prec, ref, sizeof(ref));
			T_CHECKF(strcmp(buf, ref) == 0, "%.17g prec %u: %s != %s",
			    v, prec, buf, ref);
		}
		/* and integers at every precision */
		for (prec = 0; prec <= 9; prec++) {
			api_fmt_fixed((double)i, prec, buf, sizeof(buf));
			snprintf(ref, sizeof(ref), "%d", i);
			T_CHECKF(strcmp(buf, ref) == 0, "%d prec %u: %s", i,
			    prec, buf);
		}
	}
	/* Pseudo-random values: parse back within half a unit. */
	x = 88172645463325252ull;
	for (i = 0; i < 100000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		v = (double)(int64_t)(x % 2000000000000ull - 1000000000000ull) /
		    (double)(1 + x % 1000000);
		prec = (unsigned)(x % 10);
		T_CHECK(api_fmt_fixed(v, prec, buf, sizeof(buf)) > 0);
		T_CHECKF(fabs(strtod(buf, NULL) - v) <= 0.5000001 *
		    pow(10, -(double)prec) + fabs(v) * 1e-15,
		    "%.17g prec %u: %s", v, prec, buf);
	}
}

/* The writer: chunk boundaries, JSON escaping, times, numbers. */
static void
test_wbuf(void)
{
	struct api_wbuf w;
	struct evbuffer *eb = evbuffer_new();
	char *p, big[1000];
	size_t i, n;

	T_CHECK(eb != NULL);
	api_wb_begin(&w, eb);
	api_wb_jstr(&w, "a\"b\\c\nd\x01" "e");
	api_wb_lit(&w, " ");
	api_wb_jtime(&w, 0);
	api_wb_lit(&w, " ");
	api_wb_jtime(&w, 1795878245ull * 1000000000ull);
	api_wb_lit(&w, " ");
	api_wb_jnum(&w, NAN);
	api_wb_lit(&w, " ");
	api_wb_jnum(&w, 182.4);
	api_wb_lit(&w, " ");
	api_wb_i64(&w, -42);
	api_wb_lit(&w, " ");
	api_wb_fixed(&w, INFINITY, 6);
	T_CHECK(api_wb_end(&w) == 0);
	n = evbuffer_get_length(eb);
	p = (char *)evbuffer_pullup(eb, -1);
	T_CHECKF(n == strlen("\"a\\\"b\\\\c\\nd\\u0001e\" null "
	    "\"2026-11-28T15:04:05Z\" 0 182.4 -42 +Inf") &&
	    memcmp(p, "\"a\\\"b\\\\c\\nd\\u0001e\" null "
	    "\"2026-11-28T15:04:05Z\" 0 182.4 -42 +Inf", n) == 0, "%.*s",
	    (int)n, p);
	evbuffer_drain(eb, n);
	/* 2 MB in 1,000-byte pieces crosses several reserved chunks. */
	for (i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	api_wb_begin(&w, eb);
	for (i = 0; i < 2000; i++)
		api_wb_mem(&w, big, sizeof(big));
	T_CHECK(api_wb_end(&w) == 0);
	T_CHECK(evbuffer_get_length(eb) == 2000 * sizeof(big));
	p = (char *)evbuffer_pullup(eb, -1);
	for (i = 0; i < 2000; i++)
		if (memcmp(p + i * sizeof(big), big, sizeof(big)) != 0)
			break;
	T_CHECK(i == 2000);
	evbuffer_free(eb);
}

int
main(void)
{
	T_RUN(test_pct_decode);
	T_RUN(test_query_parse);
	T_RUN(test_query_check);
	T_RUN(test_text_clean);
	T_RUN(test_dot_csv_escape);
	T_RUN(test_time_parse);
	T_RUN(test_time_format);
	T_RUN(test_step_parse);
	T_RUN(test_prom_escape);
	T_RUN(test_names_and_ranks);
	T_RUN(test_model_rules);
	T_RUN(test_fmt_numbers);
	T_RUN(test_wbuf);
	return t_done();
}
