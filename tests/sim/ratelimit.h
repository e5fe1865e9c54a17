/*
 * ratelimit.h - vigil-sim's rate limits: a per-provider window of
 * requests (and tokens) that counts down with each answer and resets,
 * the headers that tell it (OpenAI's x-ratelimit-*, Anthropic's
 * anthropic-ratelimit-*), a 429 when it runs out, and Retry-After in
 * the form asked for (seconds, HTTP-date, retry-after-ms).
 * See tests/sim/README.md, "Rate limits".
 */
#ifndef VIGIL_SIM_RATELIMIT_H
#define VIGIL_SIM_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cJSON.h>

struct evkeyvalq;

/* Retry-After forms (fault field retry_after_form). */
enum sim_ra_form {
	SIM_RA_SECONDS = 0,	/* Retry-After: 3 */
	SIM_RA_DATE,		/* Retry-After: Tue, 14 Nov 2023 22:13:23 GMT */
	SIM_RA_MS,		/* retry-after-ms: 3000 */
	SIM_RA_NONE,		/* no header: only the reset headers tell */
	SIM_RA_COUNT
};

/* The fault field "ratelimit"; requests 0 = off. */
struct sim_rl_conf {
	long	requests;	/* per window */
	long	tokens;		/* per window, 0 = no token limit */
	long	request_tokens;	/* tokens one request spends */
	long	window_s;
};

/* A provider's window. */
struct sim_rl_state {
	struct sim_rl_conf conf;	/* the settings it counts for */
	uint64_t	start_ms;	/* monotonic; 0: no window yet */
	long		used_requests;
	long		used_tokens;
};

/* What one answer says (taken when the request came). */
struct sim_rl_ans {
	int	on;
	int	limited;	/* answer 429 */
	long	req_limit, req_rem;
	long	tok_limit, tok_rem;
	long	reset_ms;	/* until the window ends */
};

int	sim_rl_field(const char *);
int	sim_rl_header(const char *);
int	sim_rl_parse(const cJSON *, struct sim_rl_conf *, int *, char *,
	    size_t);
void	sim_rl_json(cJSON *, const struct sim_rl_conf *, int);
cJSON	*sim_rl_state_json(const struct sim_rl_state *,
	    const struct sim_rl_conf *, uint64_t);
int	sim_rl_take(struct sim_rl_state *, const struct sim_rl_conf *,
	    uint64_t, struct sim_rl_ans *);
void	sim_rl_headers(struct evkeyvalq *, int, const struct sim_rl_ans *,
	    long, int, uint64_t);
uint64_t sim_rl_now_ms(int);
int	sim_rl_duration(long, char *, size_t);
int	sim_rl_rfc3339(time_t, char *, size_t);
int	sim_rl_httpdate(time_t, char *, size_t);

#endif /* VIGIL_SIM_RATELIMIT_H */
