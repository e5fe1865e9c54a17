/*
 * ratelimit.h - what a provider's answer says about its rate limits:
 * Retry-After in every form, OpenAI's and Anthropic's rate-limit headers.
 *
 * A transfer captures the few headers named here, each value bounded
 * (rl_capture_line: a provider can send anything, we keep at most
 * RL_VAL_MAX bytes of each of RLH_COUNT names), then rl_parse turns them
 * into the sample's rl[] and the provider's retry hint.  Pure functions
 * of their inputs: unit-tested (tests/unit/test_ratelimit.c) and fuzzed
 * (tests/fuzz/fuzz_headers.c).
 */
#ifndef VIGIL_PROBER_RATELIMIT_H
#define VIGIL_PROBER_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#include <vigil/vigil.h>

#define RL_VAL_MAX	64	/* a longer value is garbage, not cut */

/* The headers we read; every other one is dropped unseen. */
enum rl_hdr {
	RLH_RETRY_AFTER = 0,		/* seconds or HTTP-date */
	RLH_RETRY_AFTER_MS,		/* retry-after-ms: milliseconds */
	/* Anthropic, resource r: RLH_ANT + 3 * r + {0 limit, 1 remaining,
	 * 2 reset (RFC 3339)} */
	RLH_ANT,
	/* OpenAI, requests and tokens only: RLH_OAI + 3 * r + {0, 1, 2
	 * (a duration: "6m0s")} */
	RLH_OAI = RLH_ANT + 3 * VIGIL_RL_COUNT,
	RLH_COUNT = RLH_OAI + 3 * 2
};

#define RL_FIELD_LIMIT		0
#define RL_FIELD_REMAINING	1
#define RL_FIELD_RESET		2

struct rl_capture {
	char	v[RLH_COUNT][RL_VAL_MAX];	/* NUL-terminated */
	uint8_t	state[RLH_COUNT];		/* RLC_* */
};
#define RLC_NONE	0	/* not seen */
#define RLC_SET		1	/* v holds the value */
#define RLC_BAD		2	/* too long: ignored */

/* A moment a header names: ms after the answer arrived, or a wall time. */
struct rl_when {
	int	 abs;		/* 1: ms is a wall time (ms since the epoch) */
	int64_t	 ms;		/* else ms after the answer's headers */
};

/* What one answer said. */
struct rl_result {
	struct vigil_rl_sample rl[VIGIL_RL_COUNT];
	uint32_t retry_ms;	/* earliest Retry-After form, ms after the
				   sample's start */
	int	 retry_set;	/* 0: none, or garbage */
};

void	rl_capture_reset(struct rl_capture *);
void	rl_capture_line(struct rl_capture *, const char *, size_t);
void	rl_parse(const struct rl_capture *, uint64_t, uint32_t,
	    struct rl_result *);
int	rl_hint(const struct rl_result *, uint32_t *);

int	rl_parse_count(const char *, uint32_t *);
int	rl_parse_duration(const char *, uint64_t *);
int	rl_parse_rfc3339(const char *, int64_t *);
int	rl_parse_retry_after(const char *, struct rl_when *);
int	rl_parse_retry_after_ms(const char *, struct rl_when *);
uint32_t rl_when_ms(const struct rl_when *, uint64_t, uint32_t);

#endif /* VIGIL_PROBER_RATELIMIT_H */
