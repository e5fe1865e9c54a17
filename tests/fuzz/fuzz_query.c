/*
 * fuzz_query.c - libFuzzer target for vigil-api's request parsing:
 * percent-decoding of a path, the query-string parser and the check of
 * a query against a route's parameters (unknown, repeated), the RFC 3339 /
 * Unix-seconds time parser, the step parser, and the cleaning and CSV
 * quoting of segment strings.  Invariants checked: no crash, decoded
 * output NUL-terminated within its buffer, a parsed time formats and
 * re-parses to the same second, a cleaned string is clean.
 *
 *	clang -g -O1 -fsanitize=fuzzer,address,undefined -std=c11 \
 *	    -D_GNU_SOURCE -Iinclude -Icommon tests/fuzz/fuzz_query.c \
 *	    api/util.c -lm -o fuzz_query
 *	./fuzz_query -max_total_time=60
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../api/api.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
static void	check_query(const struct api_query *);
static void	check_clean(const uint8_t *, size_t);

/*
 * api_text_clean on the input as a segment string (a fixed array, not
 * terminated): the result is terminated within the array, no longer
 * than before, free of control bytes, and clean (a second pass changes
 * nothing).
 */
static void
check_clean(const uint8_t *data, size_t size)
{
	char buf[64];
	size_t n = size < sizeof(buf) ? size : sizeof(buf), i, len;

	memcpy(buf, data, n);
	(void)api_text_clean(buf, n);
	if (n == 0)
		return;
	if ((len = strnlen(buf, n)) == n)
		abort();
	for (i = 0; i < len; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			abort();
	if (api_text_clean(buf, n) != 0 || strlen(buf) != len)
		abort();
}

/*
 * api_query_check's verdict agrees with a plain reading of q: unknown
 * means *bad is a key of q outside the list, repeated means *bad is a
 * key of q that occurs twice, 0 means neither exists.
 */
static void
check_query(const struct api_query *q)
{
	static const char *const allowed[] = { "provider", "from", "to",
	    "step", "format", NULL };
	const char *bad = NULL;
	size_t i, j, seen;
	int unknown = 0, repeated = 0, rc;

	for (i = 0; i < q->n; i++) {
		for (j = 0; allowed[j] != NULL; j++)
			if (strcmp(q->kv[i].key, allowed[j]) == 0)
				break;
		unknown |= allowed[j] == NULL;
		for (j = 0; j < i; j++)
			repeated |= strcmp(q->kv[i].key, q->kv[j].key) == 0;
	}
	rc = api_query_check(q, allowed, &bad);
	if (rc == API_QUERY_UNKNOWN ? !unknown : rc == API_QUERY_REPEATED ?
	    unknown || !repeated : rc != 0 || unknown || repeated)
		abort();
	if (rc != 0) {
		for (i = 0, seen = 0; i < q->n; i++)
			seen += strcmp(q->kv[i].key, bad) == 0;
		if (seen == 0 || (rc == API_QUERY_REPEATED && seen < 2))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct api_query q;
	char *s, out[512], bad[64], fmt[32];
	uint64_t ns, ns2;
	uint32_t step;
	size_t i;
	int n;

	/* Exact-size copy (no terminator) for the length-bounded decoder. */
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	n = api_pct_decode(s, size, out, sizeof(out), size & 1);
	if (n >= 0 && ((size_t)n >= sizeof(out) || out[n] != '\0'))
		abort();
	s[size] = '\0';
	if (api_query_parse(s, &q, bad, sizeof(bad)) == 0) {
		if (q.n > API_QUERY_MAX)
			abort();
		for (i = 0; i < q.n; i++)
			if (api_query_get(&q, q.kv[i].key) == NULL)
				abort();
		check_query(&q);
	}
	if (api_time_parse(s, &ns) == 0 && ns < 16725225600ull *
	    1000000000ull) {
		if (api_time_format(ns, fmt, sizeof(fmt)) == 0 ||
		    api_time_parse(fmt, &ns2) != 0 ||
		    ns2 / 1000000000ull != ns / 1000000000ull)
			abort();
	}
	(void)api_step_parse(s, &step);
	api_prom_escape(s, out, sizeof(out));
	check_clean(data, size);
	if (api_csv_field(s, out, sizeof(out)) >= sizeof(out) ||
	    memchr(out, '\0', sizeof(out)) == NULL ||
	    (out[0] == '"' && (strlen(out) < 2 || out[strlen(out) - 1] != '"')))
		abort();
	free(s);
	return 0;
}
