/*
 * fuzz_headers.c - libFuzzer target for the prober's rate-limit header
 * parsers (prober/ratelimit.c).
 *
 * The input is a response's header block: each line (split at '\n',
 * handed over with its exact length, no NUL) goes to rl_capture_line as
 * curl would hand it; then rl_parse and rl_hint.  Each line, as a
 * NUL-terminated heap copy, also goes through every value parser.
 * Invariants checked: no crash, no read past a value; a value kept is
 * under RL_VAL_MAX and NUL-terminated; a resource reported has a limit,
 * none reported has zeroes; a hint comes from a Retry-After form or a
 * resource that ran out.
 *
 *	make SAN=fuzz build/fuzz/fuzz/fuzz_headers
 *	build/fuzz/fuzz/fuzz_headers -max_total_time=60 \
 *	    tests/fuzz/corpus/fuzz_headers
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vigil/vigil.h>

#include "../../prober/ratelimit.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* 1700000000 s: Tue, 14 Nov 2023 22:13:20 GMT. */
#define WALL_NS	(1700000000ull * 1000000000ull)

static void
values(const uint8_t *p, size_t n)
{
	struct rl_when w;
	uint64_t d;
	int64_t t;
	uint32_t c;
	char *v;

	/* An exact-size copy, so ASan sees any read past the NUL. */
	if ((v = malloc(n + 1)) == NULL)
		return;
	memcpy(v, p, n);
	v[n] = '\0';
	(void)rl_parse_count(v, &c);
	if (rl_parse_duration(v, &d) == 0 && d > UINT32_MAX)
		abort();
	(void)rl_parse_rfc3339(v, &t);
	if (rl_parse_retry_after(v, &w) == 0)
		(void)rl_when_ms(&w, WALL_NS, 10);
	if (rl_parse_retry_after_ms(v, &w) == 0 && (w.abs || w.ms < 0))
		abort();
	free(v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rl_capture cap;
	struct rl_result res;
	const uint8_t *p = data, *nl;
	uint8_t *line;
	size_t n, i;
	uint32_t ms;
	int r, ran_out = 0;

	rl_capture_reset(&cap);
	while (p < data + size) {
		nl = memchr(p, '\n', (size_t)(data + size - p));
		n = nl != NULL ? (size_t)(nl - p) + 1 : (size_t)(data + size -
		    p);
		/* Exact size, no terminator: the capture must honour n. */
		if ((line = malloc(n ? n : 1)) == NULL)
			return 0;
		memcpy(line, p, n);
		rl_capture_line(&cap, (const char *)line, n);
		values(line, n);
		free(line);
		p += n;
	}
	for (i = 0; i < RLH_COUNT; i++)
		if (cap.state[i] == RLC_SET &&
		    memchr(cap.v[i], '\0', RL_VAL_MAX) == NULL)
			abort();
	rl_parse(&cap, WALL_NS, 10, &res);
	for (r = 0; r < VIGIL_RL_COUNT; r++) {
		if (res.rl[r].limit == 0 && (res.rl[r].remaining != 0 ||
		    res.rl[r].reset_ms != 0))
			abort();
		if (res.rl[r].limit > 0 && res.rl[r].remaining == 0 &&
		    res.rl[r].reset_ms > 0)
			ran_out = 1;
	}
	if (rl_hint(&res, &ms) != (res.retry_set || ran_out))
		abort();
	return 0;
}
