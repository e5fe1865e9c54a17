/*
 * ratelimit.c - vigil-sim's rate limits.
 *
 * A fixed window per provider: the first request after the last window
 * ended opens one of window_s seconds; each answered request spends one
 * request and request_tokens tokens; a request that finds either spent
 * gets a 429 (the kind's rate-limit body) with Retry-After until the
 * window ends, in the form retry_after_form says.  Every answer of an
 * OpenAI-style kind (openai, deepseek, qwen) carries x-ratelimit-*,
 * every answer of anthropic anthropic-ratelimit-*: limit, remaining
 * (after this request), reset (OpenAI: a duration, "6m0s"; Anthropic:
 * RFC 3339).  Other kinds get the 429 and Retry-After only.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cJSON.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "ratelimit.h"
#include "sim.h"

#define RL_MAX_COUNT	1000000000000L	/* requests, tokens: 10^12 */
#define RL_MAX_WINDOW_S	86400

static const char *const ra_names[SIM_RA_COUNT] = {
	"seconds", "date", "ms", "none"
};

static const struct {
	const char	*name;
	size_t		 off;
	long		 min, max;
} rl_flds[] = {
	{ "requests", offsetof(struct sim_rl_conf, requests), 0,
	    RL_MAX_COUNT },
	{ "tokens", offsetof(struct sim_rl_conf, tokens), 0, RL_MAX_COUNT },
	{ "request_tokens", offsetof(struct sim_rl_conf, request_tokens), 0,
	    RL_MAX_COUNT },
	{ "window_s", offsetof(struct sim_rl_conf, window_s), 1,
	    RL_MAX_WINDOW_S },
};
#define RL_NFLDS	(sizeof(rl_flds) / sizeof(rl_flds[0]))

static int	rl_conf_parse(const cJSON *, struct sim_rl_conf *, char *,
		    size_t);
static void	rl_resource(struct evkeyvalq *, const char *const[3],
		    const char *, long, long, const char *);

/* Is name a rate-limit header (x-ratelimit-*, anthropic-ratelimit-*)? */
int
sim_rl_header(const char *name)
{
	return strncasecmp(name, "x-ratelimit-", 12) == 0 ||
	    strncasecmp(name, "anthropic-ratelimit-", 20) == 0;
}

/* Is name one of the fault fields this file parses? */
int
sim_rl_field(const char *name)
{
	return strcmp(name, "ratelimit") == 0 ||
	    strcmp(name, "retry_after_form") == 0;
}

/*
 * "ratelimit": {"requests": N, "tokens": N, "request_tokens": N,
 * "window_s": S} replaces the whole setting: requests 0 (or null, or {})
 * turns it off; window_s defaults to 60, request_tokens to 10.
 */
static int
rl_conf_parse(const cJSON *o, struct sim_rl_conf *c, char *err,
    size_t errlen)
{
	struct sim_rl_conf t;
	const cJSON *v;
	size_t i;
	double x;

	memset(&t, 0, sizeof(t));
	if (cJSON_IsNull(o)) {
		*c = t;
		return 0;
	}
	if (!cJSON_IsObject(o)) {
		snprintf(err, errlen, "ratelimit: expected an object");
		return -1;
	}
	t.window_s = 60;
	t.request_tokens = 10;
	cJSON_ArrayForEach(v, o) {
		for (i = 0; i < RL_NFLDS; i++)
			if (v->string != NULL &&
			    strcmp(v->string, rl_flds[i].name) == 0)
				break;
		if (i == RL_NFLDS) {
			snprintf(err, errlen, "ratelimit: unknown field "
			    "'%.40s'", v->string != NULL ? v->string : "");
			return -1;
		}
		x = cJSON_IsNumber(v) ? v->valuedouble : -1;
		if (x != (double)(long)x || x < (double)rl_flds[i].min ||
		    x > (double)rl_flds[i].max) {
			snprintf(err, errlen, "ratelimit.%s: expected an "
			    "integer in %ld..%ld", rl_flds[i].name,
			    rl_flds[i].min, rl_flds[i].max);
			return -1;
		}
		*(long *)(void *)((char *)&t + rl_flds[i].off) = (long)x;
	}
	if (t.requests == 0)
		memset(&t, 0, sizeof(t));
	*c = t;
	return 0;
}

/*
 * The fault field v (sim_rl_field says it is ours) into *c or *form.
 * Returns 0, or -1 with err naming the field; nothing changes then.
 */
int
sim_rl_parse(const cJSON *v, struct sim_rl_conf *c, int *form, char *err,
    size_t errlen)
{
	int i;

	if (strcmp(v->string, "ratelimit") == 0)
		return rl_conf_parse(v, c, err, errlen);
	for (i = 0; i < SIM_RA_COUNT; i++)
		if (cJSON_IsString(v) && strcmp(v->valuestring,
		    ra_names[i]) == 0) {
			*form = i;
			return 0;
		}
	snprintf(err, errlen, "retry_after_form: expected \"seconds\", "
	    "\"date\", \"ms\" or \"none\"");
	return -1;
}

/* Both fields into o, as sim_rl_parse reads them back. */
void
sim_rl_json(cJSON *o, const struct sim_rl_conf *c, int form)
{
	cJSON *r;
	size_t i;

	if (c->requests == 0)
		cJSON_AddNullToObject(o, "ratelimit");
	else if ((r = cJSON_AddObjectToObject(o, "ratelimit")) != NULL)
		for (i = 0; i < RL_NFLDS; i++)
			cJSON_AddNumberToObject(r, rl_flds[i].name, (double)
			    *(const long *)(const void *)((const char *)c +
			    rl_flds[i].off));
	cJSON_AddStringToObject(o, "retry_after_form",
	    ra_names[form >= 0 && form < SIM_RA_COUNT ? form : 0]);
}

/* The window now, for GET /_sim/NAME; NULL when off. */
cJSON *
sim_rl_state_json(const struct sim_rl_state *st, const struct sim_rl_conf *c,
    uint64_t now_ms)
{
	cJSON *o;
	uint64_t end;
	int open;

	if (c->requests == 0 || (o = cJSON_CreateObject()) == NULL)
		return NULL;
	end = st->start_ms + (uint64_t)c->window_s * 1000;
	open = st->start_ms != 0 && now_ms < end &&
	    memcmp(&st->conf, c, sizeof(*c)) == 0;
	cJSON_AddNumberToObject(o, "requests_remaining", (double)(open ?
	    c->requests - st->used_requests : c->requests));
	if (c->tokens > 0)
		cJSON_AddNumberToObject(o, "tokens_remaining", (double)(open ?
		    c->tokens - st->used_tokens : c->tokens));
	cJSON_AddNumberToObject(o, "reset_ms", open ? (double)(end - now_ms) :
	    0);
	return o;
}

/*
 * One request at now_ms (monotonic): open a window if none is, spend
 * one request and request_tokens tokens, or find them spent.  Fills *a
 * for the answer's headers; returns 1 when the answer is a 429.
 */
int
sim_rl_take(struct sim_rl_state *st, const struct sim_rl_conf *c,
    uint64_t now_ms, struct sim_rl_ans *a)
{
	uint64_t win = (uint64_t)c->window_s * 1000;

	memset(a, 0, sizeof(*a));
	if (c->requests == 0)
		return 0;
	if (memcmp(&st->conf, c, sizeof(*c)) != 0 || st->start_ms == 0 ||
	    now_ms >= st->start_ms + win) {
		memset(st, 0, sizeof(*st));
		st->conf = *c;
		st->start_ms = now_ms > 0 ? now_ms : 1;
	}
	a->on = 1;
	if (st->used_requests >= c->requests || (c->tokens > 0 &&
	    st->used_tokens + c->request_tokens > c->tokens))
		a->limited = 1;
	else {
		st->used_requests++;
		if (c->tokens > 0)
			st->used_tokens += c->request_tokens;
	}
	a->req_limit = c->requests;
	a->req_rem = c->requests - st->used_requests;
	a->tok_limit = c->tokens;
	a->tok_rem = c->tokens - st->used_tokens;
	a->reset_ms = (long)(st->start_ms + win - now_ms);
	return a->limited;
}

/* CLOCK_MONOTONIC (the windows) or CLOCK_REALTIME (the dates), in ms. */
uint64_t
sim_rl_now_ms(int clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * ms as Go's time.Duration prints it, which OpenAI's resets are:
 * "12ms", "1s", "1.5s", "1m30s", "6m0s", "1h0m0s".
 */
int
sim_rl_duration(long ms, char *buf, size_t size)
{
	char sec[32];
	long h, m, s, f;
	int n;

	if (ms < 0)
		ms = 0;
	if (ms == 0)
		return snprintf(buf, size, "0s") >= (int)size ? -1 : 0;
	if (ms < 1000)
		return snprintf(buf, size, "%ldms", ms) >= (int)size ? -1 : 0;
	h = ms / 3600000;
	m = ms / 60000 % 60;
	s = ms / 1000 % 60;
	f = ms % 1000;
	if (f == 0)
		snprintf(sec, sizeof(sec), "%lds", s);
	else if (f % 100 == 0)
		snprintf(sec, sizeof(sec), "%ld.%lds", s, f / 100);
	else if (f % 10 == 0)
		snprintf(sec, sizeof(sec), "%ld.%02lds", s, f / 10);
	else
		snprintf(sec, sizeof(sec), "%ld.%03lds", s, f);
	if (h > 0)
		n = snprintf(buf, size, "%ldh%ldm%s", h, m, sec);
	else if (m > 0)
		n = snprintf(buf, size, "%ldm%s", m, sec);
	else
		n = snprintf(buf, size, "%s", sec);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* "2023-11-14T22:13:20Z", as Anthropic writes its resets. */
int
sim_rl_rfc3339(time_t t, char *buf, size_t size)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return -1;
	return 0;
}

/* IMF-fixdate: "Tue, 14 Nov 2023 22:13:20 GMT" (C locale names). */
int
sim_rl_httpdate(time_t t, char *buf, size_t size)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	    "Fri", "Sat" };
	static const char *const mons[] = { "Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;
	int n;

	if (gmtime_r(&t, &tm) == NULL)
		return -1;
	n = snprintf(buf, size, "%s, %02d %s %04d %02d:%02d:%02d GMT",
	    days[tm.tm_wday], tm.tm_mday, mons[tm.tm_mon], tm.tm_year + 1900,
	    tm.tm_hour, tm.tm_min, tm.tm_sec);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* One resource's three headers: fmt[] names them with one %s (the
 * resource), the reset already written in the kind's form. */
static void
rl_resource(struct evkeyvalq *h, const char *const fmt[3], const char *what,
    long limit, long remaining, const char *reset)
{
	char k[80], num[32];

	snprintf(k, sizeof(k), fmt[0], what);
	snprintf(num, sizeof(num), "%ld", limit);
	evhttp_add_header(h, k, num);
	snprintf(k, sizeof(k), fmt[1], what);
	snprintf(num, sizeof(num), "%ld", remaining);
	evhttp_add_header(h, k, num);
	snprintf(k, sizeof(k), fmt[2], what);
	evhttp_add_header(h, k, reset);
}

/*
 * The headers of one answer: the kind's rate-limit headers (a->on), and
 * Retry-After in form: until the window ends for the limiter's 429,
 * else retry_after_s (the `retry_after` fault of an injected 429/503,
 * 0 = none).  now_ms: the wall clock, for the dates, which name the
 * second the moment falls in, rounded up: never before it.
 */
void
sim_rl_headers(struct evkeyvalq *h, int kind, const struct sim_rl_ans *a,
    long retry_after_s, int form, uint64_t now_ms)
{
	static const char *const oai[3] = { "x-ratelimit-limit-%s",
	    "x-ratelimit-remaining-%s", "x-ratelimit-reset-%s" };
	static const char *const ant[3] = { "anthropic-ratelimit-%s-limit",
	    "anthropic-ratelimit-%s-remaining",
	    "anthropic-ratelimit-%s-reset" };
	const char *const *fmt = NULL;
	char v[64];
	long ms = a->limited ? a->reset_ms : retry_after_s * 1000;

	if (kind == SIM_KIND_OPENAI || kind == SIM_KIND_DEEPSEEK ||
	    kind == SIM_KIND_QWEN) {
		fmt = oai;
		sim_rl_duration(a->reset_ms, v, sizeof(v));
	} else if (kind == SIM_KIND_ANTHROPIC) {
		fmt = ant;
		sim_rl_rfc3339((time_t)((now_ms + (uint64_t)a->reset_ms +
		    999) / 1000), v, sizeof(v));
	}
	if (a->on && fmt != NULL) {
		rl_resource(h, fmt, "requests", a->req_limit, a->req_rem, v);
		if (a->tok_limit > 0)
			rl_resource(h, fmt, "tokens", a->tok_limit, a->tok_rem,
			    v);
	}
	if (ms <= 0 && !a->limited)
		return;
	switch (form) {
	case SIM_RA_DATE:
		if (sim_rl_httpdate((time_t)((now_ms + (uint64_t)ms + 999) /
		    1000), v, sizeof(v)) == 0)
			evhttp_add_header(h, "Retry-After", v);
		break;
	case SIM_RA_MS:
		snprintf(v, sizeof(v), "%ld", ms);
		evhttp_add_header(h, "retry-after-ms", v);
		break;
	case SIM_RA_NONE:
		break;
	default:
		snprintf(v, sizeof(v), "%ld", (ms + 999) / 1000);
		evhttp_add_header(h, "Retry-After", v);
		break;
	}
}
