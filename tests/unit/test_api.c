/*
 * test_api.c - vigil-api's pure functions (api/util.c): percent-decoding,
 * query parsing, RFC 3339 parse/format, steps, Prometheus escaping.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

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
	T_CHECK(api_query_only(&q, allowed, &b) == -1 &&
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
	struct vigil_stats st;

	T_CHECK(api_name_valid("openai"));
	T_CHECK(api_name_valid("my-provider_2.eu"));
	T_CHECK(!api_name_valid(""));
	T_CHECK(!api_name_valid("bad name"));
	T_CHECK(!api_name_valid("../etc"));
	T_CHECK(!api_name_valid("abcdefghijabcdefghijabcdefghijab"));
	T_CHECK(api_status_rank(VIGIL_ST_UNHEALTHY) >
	    api_status_rank(VIGIL_ST_DEGRADED));
	T_CHECK(api_status_rank(VIGIL_ST_PAUSED) <
	    api_status_rank(VIGIL_ST_UNKNOWN));
	memset(&st, 0, sizeof(st));
	st.status = VIGIL_ST_DEGRADED;
	T_CHECK(api_provider_up(&st));
	st.circuit = VIGIL_CB_OPEN;
	T_CHECK(!api_provider_up(&st));
	T_CHECK(api_round3(182.40000001) == 182.4);
}

int
main(void)
{
	T_RUN(test_pct_decode);
	T_RUN(test_query_parse);
	T_RUN(test_time_parse);
	T_RUN(test_time_format);
	T_RUN(test_step_parse);
	T_RUN(test_prom_escape);
	T_RUN(test_names_and_ranks);
	return t_done();
}
