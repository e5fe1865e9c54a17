/*
 * segfill - a populated vigil segment without vigild, probers or the
 * aggregator, for vigil-api's tests and for poking at the API by hand.
 *
 *	segfill --shm NAME [--providers N] [--beat-ms MS] [--recent]
 *	    [--models N]
 *
 * Creates segment NAME with N providers, 1 to 4096 (openai anthropic google
 * deepseek qwen cursor, then pN...; bench/bench_api.sh uses 1,000), fills directory slots, stats blocks, sample
 * rings, history rings and the alert ring with deterministic data (the
 * formulas are below and mirrored in tests/e2e/test_api.py), prints
 * "ready t0=SECONDS" (the first history record's Unix time) and then
 * beats the aggregator and prober heartbeats every MS (default 200), and
 * after every command that changed something (the aggregator's publish:
 * its beat follows what it wrote).
 * --recent ends the history now instead of in the previous hour (t0 is
 * then not hour-aligned), so that the dashboard's 15-minute sparklines
 * have data, and varies its latency per provider: for screenshots.
 * --models N (1 to 64) gives every provider N models (mfill(): the names
 * of model_names[], then "-K" suffixed past them, a budget of 20000
 * tokens, and windows, statuses and totals by formulas mirrored in the
 * tests); without it no provider has models until the commands below
 * name some.
 *
 * Commands on stdin, one per line, each answered "ok" or "error: ...":
 *	status NAME healthy|degraded|unhealthy|misconfigured|unknown|paused
 *					(paused also sets the directory's
 *					 paused flag, any other clears it, as
 *					 vigild and the aggregator do)
 *	circuit NAME closed|open|half_open
 *	trend NAME stable|degrading|improving
 *	alert NAME KIND LEVEL		(kind: error_rate latency down ...)
 *	burst NAME N			(N warning alerts at once, N <= 512:
 *					 a flood of events for slow clients)
 *	sample NAME OUTCOME LATENCY_MS [RETRY_AFTER_MS]
 *	judge NAME STATUS REASON USABLE HUMAN [AT_S]
 *					(what the aggregator publishes for a
 *					 router, in one write: status as
 *					 above, reason or none, usable and
 *					 needs_human 0|1, usable_at AT_S
 *					 seconds from now, 0 or absent: none)
 *	ratelimit NAME RESOURCE LIMIT REMAINING RESET_S
 *					(requests tokens input_tokens
 *					 output_tokens; resets RESET_S from
 *					 now, 0: not reported; LIMIT 0
 *					 forgets the resource)
 *	hist NAME OUTCOME STATUS REASON	(a history record now)
 *	beat on|off			(the aggregator heartbeat)
 *	hostile NAME keep|rename	(strings no config allows: see
 *					 hostile() for the bytes)
 *	models NAME BUDGET [M1,M2...]	(vigild's model block: the names
 *					 in order, "-" or none: no models,
 *					 and gen_budget; a renamed slot's
 *					 stats start empty, as the
 *					 aggregator's)
 *	model NAME MODEL STATUS REASON USABLE LISTED
 *					(the aggregator's judgement of a
 *					 model (MODEL: a name, or #K for
 *					 slot K): status, reason or none,
 *					 usable 0|1, listed 1 yes, 0 no,
 *					 2 unknown)
 *	mwin NAME MODEL TTFT_MS ERR SAMPLES TOKENS_S
 *					(every window of the model: TTFT
 *					 p50 TTFT_MS, p95 1.5x, p99 2x, error
 *					 rate ERR, SAMPLES, tokens/s)
 *	mcheck NAME MODEL OUTCOME IN OUT [ERROR]
 *					(a generation check of the model:
 *					 its sample, its totals, the
 *					 provider's tokens of the day)
 *	quit
 * Model commands publish the provider's stats block too, as the
 * aggregator writes a provider's models with its stats.
 * EOF on stdin, SIGTERM or SIGINT: unlink the segment and exit.
 */
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <vigil/vigil.h>

#include "ring.h"
#include "segment.h"

#define MAXP	VIGIL_MAX_PROVIDERS
#define BURST_MAX	512

static const char *const base_names[] = { "openai", "anthropic", "google",
    "deepseek", "qwen", "cursor" };
static const int base_kinds[] = { VIGIL_KIND_OPENAI, VIGIL_KIND_ANTHROPIC,
    VIGIL_KIND_GOOGLE, VIGIL_KIND_DEEPSEEK, VIGIL_KIND_QWEN,
    VIGIL_KIND_CURSOR };
/* Initial status / circuit / trend by index % 6. */
static const int st0[6] = { VIGIL_ST_HEALTHY, VIGIL_ST_DEGRADED,
    VIGIL_ST_UNHEALTHY, VIGIL_ST_HEALTHY, VIGIL_ST_MISCONFIGURED,
    VIGIL_ST_PAUSED };
static const int cb0[6] = { VIGIL_CB_CLOSED, VIGIL_CB_CLOSED, VIGIL_CB_OPEN,
    VIGIL_CB_CLOSED, VIGIL_CB_HALF_OPEN, VIGIL_CB_CLOSED };
/* What a router reads, by index % 6: reason, usable, needs_human. */
static const int rs0[6] = { VIGIL_RS_NONE, VIGIL_RS_SLOW, VIGIL_RS_OUTAGE,
    VIGIL_RS_NONE, VIGIL_RS_AUTH, VIGIL_RS_NONE };
static const int us0[6] = { 1, 1, 0, 1, 0, 0 };
static const int nh0[6] = { 0, 0, 0, 0, 1, 0 };
/* --models: the first names of a provider's models. */
static const char *const model_names[] = { "gpt-4o-mini",
    "claude-sonnet-4-5", "gemini-2.5-flash", "deepseek-chat", "qwen-plus" };
#define NMODEL_NAMES	(sizeof(model_names) / sizeof(model_names[0]))

static volatile sig_atomic_t	stop;
static struct segment		seg;
static struct vigil_provider_info info[MAXP];
static struct vigil_stats	stats[MAXP];
static struct ring_writer	samples[MAXP], history[MAXP], alerts;
static int			nprov = 6;
static uint64_t			alert_id;
static int			recent;
static int			nmodels;	/* --models */
/* Provider p's models: names and stats of slot m at [p * mcap + m]. */
static uint32_t			 mcap;
static uint32_t			 mcount[MAXP];
static uint64_t			 mbudget[MAXP];
static char			(*mnames)[VIGIL_MODEL_MAX];
static struct vigil_model_stats	*mstats;

static void	on_signal(int);
static int	find(const char *);
static int	lookup(const char *, const char *(*)(unsigned), unsigned);
static void	fill(uint64_t);
static void	push_alert(int, int, int, uint64_t);
static int	command(char *);
static void	hostile(int, int);
static int	set_status(int, const char *);
static int	reason_of(const char *);
static int	judge(int, int, char **);
static int	ratelimit(int, char **);
static int	hist(int, char **);
static void	rl_fill(struct vigil_stats *, int, uint64_t);
static void	models_publish(int);
static void	model_publish(int, uint32_t);
static void	mfill(int, uint64_t);
static int	find_model(int, const char *);
static int	cmd_models(int, int, char **);
static int	cmd_model(int, int, char **);
static int	cmd_mwin(int, int, char **);
static int	cmd_mcheck(int, int, char **);

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int
find(const char *name)
{
	int i;

	for (i = 0; i < nprov; i++)
		if (strcmp(info[i].name, name) == 0)
			return i;
	return -1;
}

static int
lookup(const char *s, const char *(*namef)(unsigned), unsigned count)
{
	unsigned i;

	for (i = 0; i < count; i++)
		if (strcmp(s, namef(i)) == 0)
			return (int)i;
	return -1;
}

static void
push_alert(int p, int kind, int level, uint64_t wall)
{
	struct vigil_alert a;

	memset(&a, 0, sizeof(a));
	a.id = ++alert_id;
	a.wall_ns = wall;
	a.mono_ns = now_mono_ns();
	a.value = 0.5 + (double)alert_id;
	a.threshold = 0.5;
	snprintf(a.provider, sizeof(a.provider), "%s", info[p].name);
	a.provider_idx = (uint32_t)p;
	a.kind = (uint8_t)kind;
	a.level = (uint8_t)level;
	ring_push(&alerts, &a, VIGIL_WORDS(struct vigil_alert));
}

/*
 * The deterministic data.  t0 = the start of the hour before the current
 * one, so every history record is in the past and buckets are aligned.
 */
static void
fill(uint64_t t0)
{
	uint64_t now = now_wall_ns();
	int i, j, w;

	for (i = 0; i < nprov; i++) {
		struct vigil_provider_info *pi = &info[i];
		struct vigil_stats *st = &stats[i];
		double p50 = 100.0 + 10 * i;

		memset(pi, 0, sizeof(*pi));
		if (i < 6)
			snprintf(pi->name, sizeof(pi->name), "%s",
			    base_names[i]);
		else
			snprintf(pi->name, sizeof(pi->name), "p%d", i);
		snprintf(pi->host, sizeof(pi->host), "api.%.31s.example",
		    pi->name);
		pi->kind = (uint8_t)(i < 6 ? base_kinds[i] : VIGIL_KIND_HTTP);
		pi->flags = VIGIL_PF_IN_USE | VIGIL_PF_ENABLED |
		    (st0[i % 6] == VIGIL_ST_PAUSED ? VIGIL_PF_PAUSED : 0);
		pi->interval_ms = 1000;
		pi->timeout_ms = 500;
		pi->generation = 1;
		pi->restarts = (uint32_t)i;
		pi->added_wall_ns = now;
		seqlock_write(seg_dir_slot(&seg, (uint32_t)i), pi,
		    VIGIL_WORDS(struct vigil_provider_info));

		ring_writer_init(&samples[i], seg_sample_ring(&seg,
		    (uint32_t)i), seg.hdr->sample_cap, seg.hdr->sample_entry);
		ring_writer_init(&history[i], seg_history_ring(&seg,
		    (uint32_t)i), seg.hdr->history_cap,
		    seg.hdr->history_entry);
		for (j = 0; j < 100; j++) {
			struct vigil_sample s;

			memset(&s, 0, sizeof(s));
			s.wall_ns = now - (uint64_t)(100 - j) * 10000000000ull;
			s.latency_us = (uint32_t)((100 + i * 10 + j % 7) * 1000);
			s.ttfb_us = s.latency_us / 2;
			s.http_status = j % 10 == 9 ? 503 : 200;
			s.outcome = j % 10 == 9 ? VIGIL_OUT_HTTP_5XX :
			    VIGIL_OUT_OK;
			ring_push(&samples[i], &s,
			    VIGIL_WORDS(struct vigil_sample));
		}
		for (j = 0; j < 200; j++) {
			struct vigil_history h;

			memset(&h, 0, sizeof(h));
			h.wall_ns = t0 + (uint64_t)j * 10000000000ull;
			h.latency_us = (uint32_t)((100 + j % 10) * 1000);
			if (recent)
				h.latency_us = (uint32_t)((80 + 25 * (i % 6) +
				    (j * 7 + i * 13) % 23 + (j % 37 == 36 ?
				    180 : 0)) * 1000);
			h.outcome = j % 10 == 9 ? VIGIL_OUT_HTTP_5XX :
			    VIGIL_OUT_OK;
			h.http_status = j % 10 == 9 ? 503 : 200;
			h.status = j % 10 == 9 ? VIGIL_ST_DEGRADED :
			    VIGIL_ST_HEALTHY;
			h.reason = j % 10 == 9 ? VIGIL_RS_ERRORS :
			    VIGIL_RS_NONE;
			h.p50_us = 100000;
			h.p95_us = 108000;
			h.p99_us = 109000;
			h.error_ppm = 100000;
			h.uptime_ppm = 900000;
			h.samples_1m = 6;
			ring_push(&history[i], &h,
			    VIGIL_WORDS(struct vigil_history));
		}

		memset(st, 0, sizeof(*st));
		st->updated_wall_ns = st0[i % 6] == VIGIL_ST_UNKNOWN ? 0 : now;
		st->since_wall_ns = t0;
		for (w = 0; w < VIGIL_NWINDOWS; w++) {
			struct vigil_window *win = &st->win[w];

			win->samples = w == 0 ? 6 : w == 1 ? 30 : 90;
			win->ok = win->samples - (uint32_t)(i < 6 ? i : 5);
			win->by_outcome[VIGIL_OUT_OK] = win->ok;
			win->by_outcome[VIGIL_OUT_TIMEOUT] = win->samples -
			    win->ok;
			win->error_rate = (double)(win->samples - win->ok) /
			    win->samples;
			win->uptime = 1.0 - win->error_rate;
			win->p50_ms = p50;
			win->p95_ms = p50 * 1.5;
			win->p99_ms = p50 * 2;
			win->mean_ms = p50 * 1.1;
			win->max_ms = p50 * 3;
		}
		st->checks_total[VIGIL_OUT_OK] = 1000 + (uint64_t)i;
		st->checks_total[VIGIL_OUT_TIMEOUT] = (uint64_t)i;
		for (j = 0; j < VIGIL_PROM_BUCKETS; j++)
			st->lat_bucket[j] = (uint64_t)j + 1;
		st->lat_sum_s = 12.5;
		st->samples_total = 1000 + 2 * (uint64_t)i;
		st->samples_lost = (uint64_t)i;
		st->alerts_total = (uint64_t)i;
		st->uptime_total = 0.99;
		st->score = 1.5 * i;
		st->last.wall_ns = now - 1000000000ull;
		st->last.latency_us = (uint32_t)(150000 + 1000 * i);
		st->last.outcome = st0[i % 6] == VIGIL_ST_UNHEALTHY ?
		    VIGIL_OUT_TIMEOUT : VIGIL_OUT_OK;
		st->last.http_status = st0[i % 6] == VIGIL_ST_UNHEALTHY ? 0 :
		    200;
		if (i > 0) {
			st->last_error_wall_ns = now - 5000000000ull;
			st->last_error_outcome = VIGIL_OUT_TIMEOUT;
			snprintf(st->last_error, sizeof(st->last_error),
			    "curl:28");
		}
		st->consecutive_failures = st0[i % 6] == VIGIL_ST_UNHEALTHY ?
		    7 : 0;
		st->circuit_opens = (uint32_t)i;
		st->status = (uint8_t)st0[i % 6];
		st->circuit = (uint8_t)cb0[i % 6];
		st->trend = st0[i % 6] == VIGIL_ST_DEGRADED ?
		    VIGIL_TR_DEGRADING : VIGIL_TR_STABLE;
		st->route_rank = st->circuit == VIGIL_CB_OPEN ? UINT32_MAX :
		    (uint32_t)i;
		st->usable = (uint8_t)us0[i % 6];
		st->reason = (uint8_t)rs0[i % 6];
		st->needs_human = (uint8_t)nh0[i % 6];
		st->reason_since_wall_ns = rs0[i % 6] != VIGIL_RS_NONE ?
		    t0 : 0;
		rl_fill(st, i, now);
		if (nmodels > 0)
			mfill(i, now);
		seqlock_write(seg_stats(&seg, (uint32_t)i), st,
		    VIGIL_WORDS(struct vigil_stats));
	}
	ring_writer_init(&alerts, seg_alert_ring(&seg), seg.hdr->alert_cap,
	    seg.hdr->alert_entry);
	for (j = 0; j < 10; j++)
		push_alert(j % nprov, j % VIGIL_AK_COUNT, j % VIGIL_AL_COUNT,
		    t0 + (uint64_t)j * 60000000000ull);
	atomic_fetch_add_explicit(&seg.hdr->dir_gen, 1, memory_order_release);
}

/*
 * Rate-limit headroom as the newest answers reported it: openai its
 * requests and tokens, anthropic its requests and input and output
 * tokens (each resetting a minute after start), the others nothing.
 */
static void
rl_fill(struct vigil_stats *st, int i, uint64_t now)
{
	static const uint32_t lim[2][VIGIL_RL_COUNT] = {
		{ 500, 200000, 0, 0 }, { 50, 0, 40000, 8000 } };
	static const uint32_t rem[2][VIGIL_RL_COUNT] = {
		{ 450, 150000, 0, 0 }, { 49, 0, 39000, 7990 } };
	int k;

	if (i > 1)
		return;
	for (k = 0; k < VIGIL_RL_COUNT; k++) {
		if (lim[i][k] == 0)
			continue;
		st->ratelimit[k].limit = lim[i][k];
		st->ratelimit[k].remaining = rem[i][k];
		st->ratelimit[k].reset_wall_ns = now + 60000000000ull;
	}
}

/* vigild's model block of provider p: its names and budget. */
static void
models_publish(int p)
{
	size_t words = seg_models_words(&seg);
	struct vigil_models_head *h;
	uint64_t *blk;

	if ((blk = calloc(words, sizeof(uint64_t))) == NULL)
		abort();
	h = (struct vigil_models_head *)(void *)blk;
	h->count = mcount[p];
	h->token_budget = mbudget[p];
	h->generation = info[p].generation;
	memcpy(h + 1, mnames[(size_t)p * mcap], (size_t)mcap *
	    VIGIL_MODEL_MAX);
	seqlock_write(seg_models(&seg, (uint32_t)p), blk, words);
	free(blk);
}

/* The aggregator's stats block of provider p's model m. */
static void
model_publish(int p, uint32_t m)
{
	struct vigil_model_stats *ms = &mstats[(size_t)p * mcap + m];

	ms->updated_wall_ns = now_wall_ns();
	seqlock_write(seg_model_stats(&seg, (uint32_t)p, m), ms,
	    VIGIL_WORDS(struct vigil_model_stats));
}

/*
 * --models: provider i's nmodels models, a budget of 20000 and 1234
 * tokens used today.  Model k: TTFT p50 300 + 50k + 10 (i % 6) ms (p95
 * 1.5x, p99 2x), error rate 0.01k, 5/15/45 samples, 40 + 5k tokens/s,
 * 50 + k checks, 1000 (k + 1) tokens in and 100 (k + 1) out, listed,
 * healthy and usable; but anthropic's (i % 6 == 1) model 1 is degraded,
 * slow, and google's (i % 6 == 2) model 0 is unhealthy, model_missing,
 * not listed, its last check a 404.
 */
static void
mfill(int i, uint64_t now)
{
	uint32_t k, w;

	mcount[i] = (uint32_t)nmodels;
	mbudget[i] = 20000;
	stats[i].probe_tokens_today = 1234;
	stats[i].probe_tokens_day = now / (86400ull * 1000000000ull);
	for (k = 0; k < mcount[i]; k++) {
		struct vigil_model_stats *ms = &mstats[(size_t)i * mcap + k];
		char *name = mnames[(size_t)i * mcap + k];
		double ttft = 300 + 50 * k + 10 * (i % 6);

		if (k < NMODEL_NAMES)
			snprintf(name, VIGIL_MODEL_MAX, "%s", model_names[k]);
		else
			snprintf(name, VIGIL_MODEL_MAX, "%s-%u",
			    model_names[k % NMODEL_NAMES], k);
		memset(ms, 0, sizeof(*ms));
		for (w = 0; w < VIGIL_NWINDOWS; w++) {
			struct vigil_model_window *mw = &ms->win[w];

			mw->samples = w == 0 ? 5 : w == 1 ? 15 : 45;
			mw->error_rate = 0.01 * k;
			mw->ok = mw->samples - (uint32_t)(mw->samples *
			    mw->error_rate + 0.5);
			mw->ttft_p50_ms = ttft;
			mw->ttft_p95_ms = ttft * 1.5;
			mw->ttft_p99_ms = ttft * 2;
			mw->tokens_per_s = 40 + 5 * k;
		}
		ms->checks_total = 50 + k;
		ms->tokens_in_total = 1000 * (k + 1);
		ms->tokens_out_total = 100 * (k + 1);
		ms->last_wall_ns = now - (uint64_t)k * 1000000000ull;
		ms->last_http_status = 200;
		ms->listed = 1;
		ms->status = VIGIL_ST_HEALTHY;
		ms->usable = 1;
		if (i % 6 == 1 && k == 1) {
			ms->status = VIGIL_ST_DEGRADED;
			ms->reason = VIGIL_RS_SLOW;
		}
		if (i % 6 == 2 && k == 0) {
			ms->status = VIGIL_ST_UNHEALTHY;
			ms->reason = VIGIL_RS_MODEL_MISSING;
			ms->usable = 0;
			ms->listed = 0;
			ms->last_outcome = VIGIL_OUT_MODEL_MISSING;
			ms->last_http_status = 404;
			snprintf(ms->last_error, sizeof(ms->last_error),
			    "http:404 model_not_found");
		}
		model_publish(i, k);
	}
	models_publish(i);
}

/*
 * What a less trusted writer of the segment could leave in provider p's
 * strings: quotes, backslashes, a comma, control characters (C0, DEL,
 * C1), invalid UTF-8 (0xff, an overlong NUL, a surrogate, a sequence cut
 * short) and one valid "\u00e9" that must survive.  The host, the last
 * error and a new sample's error always; the name too with rename (then
 * the provider is no longer addressable by its old name).  An alert
 * carries the provider's (new) name.  When p has models, its first
 * takes the name's bytes as its name and the error's as its last error
 * (then it is addressable as #0 only).
 * tests/e2e/test_api.py expects exactly these bytes.
 */
static void
hostile(int p, int rename)
{
	static const char name[] = "ev\"il\\,\n\x01\xff\xc0\x80\xed\xa0\x80"
	    "\xc3\xa9\xe2\x82";
	static const char host[] = "h\"o\\st,\r\n\x7f\xfe\xc2\x9f.example";
	static const char error[] = "e\"r\\,\x07\xf8r\xe2\x82";
	struct vigil_sample s;

	if (rename)
		memcpy(info[p].name, name, sizeof(name));
	memcpy(info[p].host, host, sizeof(host));
	info[p].generation++;
	seqlock_write(seg_dir_slot(&seg, (uint32_t)p), &info[p],
	    VIGIL_WORDS(struct vigil_provider_info));
	atomic_fetch_add_explicit(&seg.hdr->dir_gen, 1, memory_order_release);
	memset(&s, 0, sizeof(s));
	s.wall_ns = now_wall_ns();
	s.mono_ns = now_mono_ns();
	s.latency_us = 1000;
	s.outcome = VIGIL_OUT_OTHER;
	memcpy(s.error, error, sizeof(error));
	ring_push(&samples[p], &s, VIGIL_WORDS(struct vigil_sample));
	stats[p].last = s;
	stats[p].last_error_wall_ns = s.wall_ns;
	stats[p].last_error_outcome = VIGIL_OUT_OTHER;
	memcpy(stats[p].last_error, error, sizeof(error));
	push_alert(p, VIGIL_AK_DOWN, VIGIL_AL_CRITICAL, s.wall_ns);
	stats[p].alerts_total++;
	if (mcount[p] > 0) {
		struct vigil_model_stats *ms = &mstats[(size_t)p * mcap];

		memcpy(mnames[(size_t)p * mcap], name, sizeof(name));
		memcpy(ms->last_error, error, sizeof(error));
		models_publish(p);
		model_publish(p, 0);
	}
}

/*
 * Status s for provider p, as vigild and the aggregator leave it: the
 * directory's paused flag follows, and unknown means never written.
 */
static int
set_status(int p, const char *s)
{
	int v;

	if ((v = lookup(s, vigil_status_name, VIGIL_ST_COUNT)) == -1)
		return -1;
	stats[p].status = (uint8_t)v;
	stats[p].updated_wall_ns = v == VIGIL_ST_UNKNOWN ? 0 : now_wall_ns();
	if (((info[p].flags & VIGIL_PF_PAUSED) != 0) !=
	    (v == VIGIL_ST_PAUSED)) {
		info[p].flags ^= VIGIL_PF_PAUSED;
		seqlock_write(seg_dir_slot(&seg, (uint32_t)p), &info[p],
		    VIGIL_WORDS(struct vigil_provider_info));
	}
	return 0;
}

/* A reason by name, "none" for VIGIL_RS_NONE; -1 if unknown. */
static int
reason_of(const char *s)
{
	unsigned i;

	if (strcmp(s, "none") == 0)
		return VIGIL_RS_NONE;
	for (i = 1; i < VIGIL_RS_COUNT; i++)
		if (strcmp(s, vigil_reason_name(i)) == 0)
			return (int)i;
	return -1;
}

/* judge NAME STATUS REASON USABLE HUMAN [AT_S]: one seqlock write, so a
 * reader sees all of it change at once, as the aggregator writes it. */
static int
judge(int p, int argc, char **argv)
{
	double at = argc > 6 ? atof(argv[6]) : 0;
	uint64_t now = now_wall_ns();
	int rs;

	if (argc < 6 || (rs = reason_of(argv[3])) == -1 || at < 0 ||
	    set_status(p, argv[2]) == -1)
		return -1;
	if (stats[p].reason != rs)
		stats[p].reason_since_wall_ns = rs != VIGIL_RS_NONE ? now : 0;
	stats[p].reason = (uint8_t)rs;
	stats[p].usable = (uint8_t)(atoi(argv[4]) != 0);
	stats[p].needs_human = (uint8_t)(atoi(argv[5]) != 0);
	stats[p].usable_at_wall_ns = at > 0 ? now + (uint64_t)(at * 1e9) : 0;
	return 0;
}

/* ratelimit NAME RESOURCE LIMIT REMAINING RESET_S */
static int
ratelimit(int argc, char **argv)
{
	struct vigil_ratelimit *r;
	double reset;
	int p, k;

	if (argc != 6 || (p = find(argv[1])) == -1 ||
	    (k = lookup(argv[2], vigil_rl_name, VIGIL_RL_COUNT)) == -1 ||
	    (reset = atof(argv[5])) < 0)
		return -1;
	r = &stats[p].ratelimit[k];
	memset(r, 0, sizeof(*r));
	r->limit = (uint32_t)strtoul(argv[3], NULL, 10);
	if (r->limit == 0)
		return p;
	r->remaining = (uint32_t)strtoul(argv[4], NULL, 10);
	r->reset_wall_ns = reset > 0 ? now_wall_ns() + (uint64_t)(reset *
	    1e9) : 0;
	return p;
}

/* hist NAME OUTCOME STATUS REASON: one history record, now. */
static int
hist(int p, char **argv)
{
	struct vigil_history h;
	int o, st, rs;

	if ((o = lookup(argv[2], vigil_outcome_name, VIGIL_OUT_COUNT)) == -1 ||
	    (st = lookup(argv[3], vigil_status_name, VIGIL_ST_COUNT)) == -1 ||
	    (rs = reason_of(argv[4])) == -1)
		return -1;
	memset(&h, 0, sizeof(h));
	h.wall_ns = now_wall_ns();
	h.mono_ns = now_mono_ns();
	h.latency_us = 123000;
	h.outcome = (uint8_t)o;
	h.http_status = o == VIGIL_OUT_OK ? 200 : 429;
	h.status = (uint8_t)st;
	h.reason = (uint8_t)rs;
	h.samples_1m = 6;
	ring_push(&history[p], &h, VIGIL_WORDS(struct vigil_history));
	return 0;
}

/* Provider p's model called name, or "#K" for slot K: its slot, or -1. */
static int
find_model(int p, const char *name)
{
	uint32_t k;

	if (name[0] == '#') {
		k = (uint32_t)strtoul(name + 1, NULL, 10);
		return k < mcount[p] ? (int)k : -1;
	}
	for (k = 0; k < mcount[p]; k++)
		if (strcmp(mnames[(size_t)p * mcap + k], name) == 0)
			return (int)k;
	return -1;
}

/*
 * models NAME BUDGET [M1,M2...]: as vigild publishes a reload.  A slot
 * whose name changed starts empty (never judged), as the aggregator
 * resets it, and the block of a slot past the new count is cleared.
 */
static int
cmd_models(int p, int argc, char **argv)
{
	char list[512], *save = NULL, *t;
	uint32_t k, n = 0;

	if (argc != 3 && argc != 4)
		return -1;
	snprintf(list, sizeof(list), "%s", argc == 4 ? argv[3] : "-");
	for (t = strtok_r(list, ",", &save); t != NULL && strcmp(t, "-") != 0;
	    t = strtok_r(NULL, ",", &save)) {
		char *name = mnames[(size_t)p * mcap + n];

		if (n == mcap || strlen(t) >= VIGIL_MODEL_MAX)
			return -1;
		if (n >= mcount[p] || strcmp(name, t) != 0) {
			snprintf(name, VIGIL_MODEL_MAX, "%s", t);
			memset(&mstats[(size_t)p * mcap + n], 0,
			    sizeof(*mstats));
			mstats[(size_t)p * mcap + n].listed = 2;
			seqlock_write(seg_model_stats(&seg, (uint32_t)p, n),
			    &mstats[(size_t)p * mcap + n],
			    VIGIL_WORDS(struct vigil_model_stats));
		}
		n++;
	}
	for (k = n; k < mcount[p]; k++) {
		memset(mnames[(size_t)p * mcap + k], 0, VIGIL_MODEL_MAX);
		memset(&mstats[(size_t)p * mcap + k], 0, sizeof(*mstats));
		seqlock_write(seg_model_stats(&seg, (uint32_t)p, k),
		    &mstats[(size_t)p * mcap + k],
		    VIGIL_WORDS(struct vigil_model_stats));
	}
	mcount[p] = n;
	mbudget[p] = strtoull(argv[2], NULL, 10);
	info[p].generation++;
	models_publish(p);
	seqlock_write(seg_dir_slot(&seg, (uint32_t)p), &info[p],
	    VIGIL_WORDS(struct vigil_provider_info));
	atomic_fetch_add_explicit(&seg.hdr->dir_gen, 1, memory_order_release);
	return 0;
}

/* model NAME MODEL STATUS REASON USABLE LISTED */
static int
cmd_model(int p, int argc, char **argv)
{
	struct vigil_model_stats *ms;
	int m, st, rs;

	if (argc != 7 || (m = find_model(p, argv[2])) == -1 ||
	    (st = lookup(argv[3], vigil_status_name, VIGIL_ST_COUNT)) == -1 ||
	    (rs = reason_of(argv[4])) == -1)
		return -1;
	ms = &mstats[(size_t)p * mcap + (uint32_t)m];
	ms->status = (uint8_t)st;
	ms->reason = (uint8_t)rs;
	ms->usable = (uint8_t)(atoi(argv[5]) != 0);
	ms->listed = (uint8_t)(atoi(argv[6]) > 1 ? 2 : atoi(argv[6]) != 0);
	model_publish(p, (uint32_t)m);
	return 0;
}

/* mwin NAME MODEL TTFT_MS ERR SAMPLES TOKENS_S */
static int
cmd_mwin(int p, int argc, char **argv)
{
	struct vigil_model_stats *ms;
	double ttft, err;
	uint32_t w, n;
	int m;

	if (argc != 7 || (m = find_model(p, argv[2])) == -1 ||
	    (ttft = atof(argv[3])) < 0 || (err = atof(argv[4])) < 0 ||
	    err > 1)
		return -1;
	ms = &mstats[(size_t)p * mcap + (uint32_t)m];
	n = (uint32_t)strtoul(argv[5], NULL, 10);
	for (w = 0; w < VIGIL_NWINDOWS; w++) {
		struct vigil_model_window *mw = &ms->win[w];

		mw->samples = n;
		mw->ok = n - (uint32_t)(n * err + 0.5);
		mw->error_rate = err;
		mw->ttft_p50_ms = ttft;
		mw->ttft_p95_ms = ttft * 1.5;
		mw->ttft_p99_ms = ttft * 2;
		mw->tokens_per_s = atof(argv[6]);
	}
	model_publish(p, (uint32_t)m);
	return 0;
}

/*
 * mcheck NAME MODEL OUTCOME IN OUT [ERROR]: what a generation check
 * leaves: its sample in the ring (model m + 1, generation), the model's
 * totals and newest check, and the provider's tokens of the UTC day.
 */
static int
cmd_mcheck(int p, int argc, char **argv)
{
	struct vigil_model_stats *ms;
	struct vigil_sample s;
	uint64_t day;
	int m, o;

	if ((argc != 6 && argc != 7) || (m = find_model(p, argv[2])) == -1 ||
	    (o = lookup(argv[3], vigil_outcome_name, VIGIL_OUT_COUNT)) == -1)
		return -1;
	memset(&s, 0, sizeof(s));
	s.wall_ns = now_wall_ns();
	s.mono_ns = now_mono_ns();
	s.latency_us = 900000;
	s.ttfb_us = 300000;
	s.outcome = (uint8_t)o;
	s.http_status = o == VIGIL_OUT_OK ? 200 : o == VIGIL_OUT_MODEL_MISSING ?
	    404 : 500;
	s.flags = VIGIL_SF_GENERATION;
	s.tokens_in = (uint32_t)strtoul(argv[4], NULL, 10);
	s.tokens_out = (uint32_t)strtoul(argv[5], NULL, 10);
	s.model = (uint16_t)(m + 1);
	if (o != VIGIL_OUT_OK)
		snprintf(s.error, sizeof(s.error), "%s", argc == 7 ? argv[6] :
		    "http:500");
	ring_push(&samples[p], &s, VIGIL_WORDS(struct vigil_sample));
	ms = &mstats[(size_t)p * mcap + (uint32_t)m];
	ms->checks_total++;
	ms->tokens_in_total += s.tokens_in;
	ms->tokens_out_total += s.tokens_out;
	ms->last_wall_ns = s.wall_ns;
	ms->last_http_status = s.http_status;
	ms->last_outcome = (uint8_t)o;
	if (o != VIGIL_OUT_OK)
		memcpy(ms->last_error, s.error, sizeof(ms->last_error));
	model_publish(p, (uint32_t)m);
	day = s.wall_ns / (86400ull * 1000000000ull);
	if (stats[p].probe_tokens_day != day) {
		stats[p].probe_tokens_day = day;
		stats[p].probe_tokens_today = 0;
	}
	stats[p].probe_tokens_today += (uint64_t)s.tokens_in + s.tokens_out;
	return 0;
}

/* One stdin command; 0 ok, -1 error, 1 quit. */
static int
command(char *line)
{
	char *argv[8], *save = NULL, *t;
	int argc = 0, p, v, v2;

	for (t = strtok_r(line, " \t\r\n", &save); t != NULL && argc < 8;
	    t = strtok_r(NULL, " \t\r\n", &save))
		argv[argc++] = t;
	if (argc == 0)
		return -1;
	if (strcmp(argv[0], "quit") == 0)
		return 1;
	if (strcmp(argv[0], "beat") == 0 && argc == 2)
		return 0;	/* handled by the caller */
	if (strcmp(argv[0], "ratelimit") == 0) {
		if ((p = ratelimit(argc, argv)) == -1)
			return -1;
		goto publish;
	}
	if (argc < 3 || (p = find(argv[1])) == -1)
		return -1;
	if (strcmp(argv[0], "status") == 0) {
		if (set_status(p, argv[2]) == -1)
			return -1;
	} else if (strcmp(argv[0], "judge") == 0) {
		if (judge(p, argc, argv) == -1)
			return -1;
	} else if (strcmp(argv[0], "hist") == 0 && argc == 5) {
		return hist(p, argv);
	} else if (strcmp(argv[0], "circuit") == 0) {
		if ((v = lookup(argv[2], vigil_circuit_name, VIGIL_CB_COUNT)) ==
		    -1)
			return -1;
		stats[p].circuit = (uint8_t)v;
	} else if (strcmp(argv[0], "trend") == 0) {
		if ((v = lookup(argv[2], vigil_trend_name, VIGIL_TR_COUNT)) ==
		    -1)
			return -1;
		stats[p].trend = (uint8_t)v;
	} else if (strcmp(argv[0], "alert") == 0 && argc == 4) {
		if ((v = lookup(argv[2], vigil_alert_kind_name,
		    VIGIL_AK_COUNT)) == -1 || (v2 = lookup(argv[3],
		    vigil_alert_level_name, VIGIL_AL_COUNT)) == -1)
			return -1;
		push_alert(p, v, v2, now_wall_ns());
		stats[p].alerts_total++;
	} else if (strcmp(argv[0], "burst") == 0) {
		if ((v = atoi(argv[2])) < 1 || v > BURST_MAX)
			return -1;
		while (v-- > 0)
			push_alert(p, VIGIL_AK_DOWN, VIGIL_AL_WARNING,
			    now_wall_ns());
	} else if (strcmp(argv[0], "models") == 0) {
		if (cmd_models(p, argc, argv) == -1)
			return -1;
	} else if (strcmp(argv[0], "model") == 0) {
		if (cmd_model(p, argc, argv) == -1)
			return -1;
	} else if (strcmp(argv[0], "mwin") == 0) {
		if (cmd_mwin(p, argc, argv) == -1)
			return -1;
	} else if (strcmp(argv[0], "mcheck") == 0) {
		if (cmd_mcheck(p, argc, argv) == -1)
			return -1;
	} else if (strcmp(argv[0], "hostile") == 0) {
		if (strcmp(argv[2], "keep") != 0 &&
		    strcmp(argv[2], "rename") != 0)
			return -1;
		hostile(p, strcmp(argv[2], "rename") == 0);
	} else if (strcmp(argv[0], "sample") == 0 &&
	    (argc == 4 || argc == 5)) {
		struct vigil_sample s;

		if ((v = lookup(argv[2], vigil_outcome_name,
		    VIGIL_OUT_COUNT)) == -1)
			return -1;
		memset(&s, 0, sizeof(s));
		s.wall_ns = now_wall_ns();
		s.mono_ns = now_mono_ns();
		s.latency_us = (uint32_t)(atof(argv[3]) * 1000);
		s.outcome = (uint8_t)v;
		s.http_status = v == VIGIL_OUT_OK ? 200 : 0;
		if (argc == 5) {
			s.retry_after_ms = (uint32_t)strtoul(argv[4], NULL, 10);
			s.flags |= VIGIL_SF_RETRY_HINT;
		}
		ring_push(&samples[p], &s, VIGIL_WORDS(struct vigil_sample));
		stats[p].last = s;
	} else
		return -1;
publish:
	seqlock_write(seg_stats(&seg, (uint32_t)p), &stats[p],
	    VIGIL_WORDS(struct vigil_stats));
	return 0;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "shm", required_argument, NULL, 's' },
		{ "providers", required_argument, NULL, 'n' },
		{ "beat-ms", required_argument, NULL, 'b' },
		{ "recent", no_argument, NULL, 'r' },
		{ "models", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 }
	};
	struct seg_caps caps = { 64, 256, 256, 1024, 0 };
	struct pollfd pfd = { 0, POLLIN, 0 };
	const char *name = NULL;
	char err[256], line[512];
	size_t used = 0;
	uint64_t t0;
	int ch, beat_ms = 200, beating = 1, i, rc;
	ssize_t n;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			name = optarg;
			break;
		case 'n':
			nprov = atoi(optarg);
			break;
		case 'b':
			beat_ms = atoi(optarg);
			break;
		case 'r':
			recent = 1;
			break;
		case 'm':
			nmodels = atoi(optarg);
			break;
		default:
			goto usage;
		}
	}
	if (name == NULL || nprov < 1 || nprov > MAXP || beat_ms < 10 ||
	    nmodels < 0 || nmodels > VIGIL_MAX_MODELS) {
usage:
		fprintf(stderr, "usage: segfill --shm NAME [--providers N] "
		    "[--beat-ms MS] [--recent] [--models N]\n");
		return 2;
	}
	if (nprov > 64)
		caps.providers = (uint32_t)nprov;
	if (nmodels > SEG_MODELS)
		caps.models = (uint32_t)nmodels;
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	if (seg_create(&seg, name, &caps, 0600, err, sizeof(err)) == -1) {
		fprintf(stderr, "segfill: %s\n", err);
		return 1;
	}
	mcap = seg.hdr->model_cap;
	mnames = calloc((size_t)nprov * mcap, VIGIL_MODEL_MAX);
	mstats = calloc((size_t)nprov * mcap, sizeof(*mstats));
	if (mnames == NULL || mstats == NULL) {
		fprintf(stderr, "segfill: out of memory\n");
		return 1;
	}
	t0 = (now_wall_ns() / 1000000000ull / 3600 * 3600 - 3600) *
	    1000000000ull;
	if (recent)
		t0 = (now_wall_ns() / 1000000000ull - 1995) * 1000000000ull;
	fill(t0);
	atomic_store_explicit(&seg.hdr->aggregator_beat_ns, now_mono_ns(),
	    memory_order_release);
	printf("ready t0=%llu\n", (unsigned long long)(t0 / 1000000000ull));
	fflush(stdout);

	while (!stop) {
		if (beating)
			atomic_store_explicit(&seg.hdr->aggregator_beat_ns,
			    now_mono_ns(), memory_order_release);
		for (i = 0; i < nprov; i++)
			ring_beat(&samples[i], now_mono_ns());
		rc = poll(&pfd, 1, beat_ms);
		if (rc <= 0 || !(pfd.revents & (POLLIN | POLLHUP)))
			continue;
		n = read(0, line + used, sizeof(line) - 1 - used);
		if (n <= 0)
			break;
		used += (size_t)n;
		line[used] = '\0';
		for (;;) {
			char *nl = strchr(line, '\n'), cmd[512];

			if (nl == NULL) {
				if (used == sizeof(line) - 1)
					used = 0;	/* overlong: drop */
				break;
			}
			*nl = '\0';
			snprintf(cmd, sizeof(cmd), "%s", line);
			memmove(line, nl + 1, used - (size_t)(nl + 1 - line) +
			    1);
			used -= (size_t)(nl + 1 - line);
			if (strncmp(cmd, "beat ", 5) == 0)
				beating = strstr(cmd, "on") != NULL;
			rc = command(cmd);
			if (rc == 1) {
				stop = 1;
				break;
			}
			/*
			 * Publish as the aggregator does (agg_flush): the
			 * beat after the blocks, so that a reader keyed on
			 * it (vigil-api's cache) sees the change at once.
			 */
			if (rc == 0 && beating)
				atomic_store_explicit(
				    &seg.hdr->aggregator_beat_ns,
				    now_mono_ns(), memory_order_release);
			printf(rc == 0 ? "ok\n" : "error: bad command\n");
			fflush(stdout);
		}
	}
	shm_unlink(name);
	seg_close(&seg);
	free(mnames);
	free(mstats);
	return 0;
}
