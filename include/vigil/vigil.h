/*
 * vigil.h - the public, header-only client of vigil's shared-memory segment.
 *
 * A local service (an LLM router, say) includes this header, opens the
 * segment read-only and reads provider health, circuit state and routing
 * order without a system call per read.  vigil-api reads through the same
 * code.  The segment layout below is ABI v2: see docs/segment.md.
 *
 * Compiles with -std=c99 (and later) and as C++.  In C the shared words are
 * C11 _Atomic objects; C++ before C++23 has no _Atomic, so there the same
 * words are plain integers accessed with the GCC/Clang __atomic builtins,
 * which have the same layout and the same memory-order semantics.
 *
 * Protocol summary (writers live in common/, readers here):
 *   - sample, history and alert rings: record n goes to entry n & (cap - 1);
 *     the writer stores seq = 2n+1, a release fence, the payload words
 *     (relaxed), seq = 2n+2 (release), then head = n+1 (release).  A reader
 *     accepts record n only if it saw seq == 2n+2 before and after copying.
 *   - stats blocks, directory slots and the routing block: seqlocks.  Odd
 *     means "being written"; readers retry a bounded number of times, then
 *     report VIGIL_EBUSY rather than spin (a writer may be dead).
 *   - the layout (offsets, strides, capacities, entry sizes) is copied
 *     once at open, validated, and used from that private copy: the
 *     header is writable by vigil's service uid, so a change to it is
 *     reported (vigil_layout_changed), never followed.
 *
 * What is promised is the segment layout (ABI v2, below).  The client
 * structs are compiled into the caller with this header; struct
 * vigil_client gained its private layout as its last member.
 */
#ifndef VIGIL_VIGIL_H
#define VIGIL_VIGIL_H

/*
 * shm_open, clock_gettime and O_CLOEXEC are POSIX.1-2008.  Under a strict
 * -std=c99 nothing declares them unless asked, so ask, when the includer
 * has not chosen a feature set itself (include this header first).
 */
#if !defined(_POSIX_C_SOURCE) && !defined(_GNU_SOURCE) && \
    !defined(_DEFAULT_SOURCE) && !defined(_XOPEN_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef __cplusplus
#define VIGIL_A64 uint64_t
#define VIGIL_LOAD_ACQ(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define VIGIL_LOAD_RLX(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define VIGIL_FENCE_ACQ() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define VIGIL_STATIC_ASSERT(c, m) static_assert(c, m)
extern "C" {
#else
#include <stdatomic.h>
#define VIGIL_A64 _Atomic uint64_t
#define VIGIL_LOAD_ACQ(p) atomic_load_explicit((p), memory_order_acquire)
#define VIGIL_LOAD_RLX(p) atomic_load_explicit((p), memory_order_relaxed)
#define VIGIL_FENCE_ACQ() atomic_thread_fence(memory_order_acquire)
#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define VIGIL_STATIC_ASSERT(c, m) _Static_assert(c, m)
#else
/* C99: a negative array size stops the build just as well. */
#define VIGIL_SA_CAT2(a, b) a##b
#define VIGIL_SA_CAT(a, b) VIGIL_SA_CAT2(a, b)
#define VIGIL_STATIC_ASSERT(c, m) \
	typedef char VIGIL_SA_CAT(vigil_static_assert_, __LINE__)[(c) ? 1 : -1]
#endif
#endif

/* ------------------------------------------------------------------ */
/* Constants                                                            */
/* ------------------------------------------------------------------ */

#define VIGIL_MAGIC		UINT64_C(0x314745534c474956)	/* "VIGLSEG1" */
#define VIGIL_ABI_MAJOR		3u
#define VIGIL_ABI_MINOR		0u
#define VIGIL_DEFAULT_SHM	"/vigil"

#define VIGIL_NAME_MAX		32	/* provider name, NUL included */
#define VIGIL_HOST_MAX		64	/* endpoint host, NUL included */
#define VIGIL_ERR_MAX		32	/* short error code, NUL included */
#define VIGIL_NWINDOWS		3	/* 1, 5, 15 minutes */
#define VIGIL_PROM_BUCKETS	12	/* latency histogram for /metrics */
#define VIGIL_CACHELINE		64
#define VIGIL_READ_RETRIES	64	/* seqlock retries before VIGIL_EBUSY */
#define VIGIL_MAX_PROVIDERS	4096	/* upper bound on provider_cap */
#define VIGIL_MODEL_MAX		64	/* model name, NUL included */
#define VIGIL_SP_NAME_MAX	96	/* status-page incident name, NUL incl. */
#define VIGIL_SP_STATUS_MAX	24	/* its status word, NUL included */
#define VIGIL_MAX_MODELS	64	/* upper bound on model_cap */

/* Return codes of the client functions: 0 or a negative VIGIL_E*. */
enum {
	VIGIL_OK = 0,
	VIGIL_ESYS = -1,	/* a system call failed; errno is kept */
	VIGIL_EMAGIC = -2,	/* not a vigil segment */
	VIGIL_EABI = -3,	/* an ABI major this header does not know */
	VIGIL_ECORRUPT = -4,	/* offsets or sizes point outside the segment */
	VIGIL_EBUSY = -5,	/* writer mid-update for every retry */
	VIGIL_ENOENT = -6,	/* no such provider */
	VIGIL_ERANGE = -7	/* index or argument out of range */
};

/* Outcome of one probe (DESIGN.md, "Outcomes, status, circuit"). */
enum vigil_outcome {
	VIGIL_OUT_OK = 0,
	VIGIL_OUT_TIMEOUT,
	VIGIL_OUT_DNS,
	VIGIL_OUT_CONNECT,
	VIGIL_OUT_TLS,
	VIGIL_OUT_HTTP_5XX,
	VIGIL_OUT_RATE_LIMITED,
	VIGIL_OUT_AUTH,
	VIGIL_OUT_BAD_RESPONSE,
	VIGIL_OUT_OTHER,
	/* ABI 2: what an LLM provider's error body means. */
	VIGIL_OUT_QUOTA,		/* out of credit, spend cap: a human */
	VIGIL_OUT_OVERLOADED,		/* the provider's capacity: its fault */
	VIGIL_OUT_MODEL_MISSING,	/* the model does not exist (any more) */
	VIGIL_OUT_CLIENT_ERROR,		/* our request is wrong: other 4xx */
	VIGIL_OUT_COUNT
};

enum vigil_status {
	VIGIL_ST_UNKNOWN = 0,
	VIGIL_ST_HEALTHY,
	VIGIL_ST_DEGRADED,
	VIGIL_ST_UNHEALTHY,
	VIGIL_ST_MISCONFIGURED,
	VIGIL_ST_PAUSED,
	/* ABI 2 */
	VIGIL_ST_THROTTLED,	/* rate limited now, back by itself */
	VIGIL_ST_EXHAUSTED,	/* quota or billing: a human must act */
	VIGIL_ST_COUNT
};

/*
 * Why a provider is not usable, or why it is degraded (docs/aggregation.md,
 * "Reason"); VIGIL_RS_NONE when healthy.
 */
enum vigil_reason {
	VIGIL_RS_NONE = 0,
	VIGIL_RS_OUTAGE,		/* failing: down, circuit open */
	VIGIL_RS_OVERLOADED,		/* answering "overloaded" */
	VIGIL_RS_ERRORS,		/* error rate over a threshold */
	VIGIL_RS_SLOW,			/* latency over a threshold */
	VIGIL_RS_RATE_LIMITED,
	VIGIL_RS_QUOTA,
	VIGIL_RS_AUTH,
	VIGIL_RS_MODEL_MISSING,
	VIGIL_RS_CLIENT_ERROR,
	VIGIL_RS_NETWORK,		/* our network, not the provider: the
					   vantage self-check said "ours" */
	VIGIL_RS_COUNT
};

/* Rate-limit resources a provider reports in its answers' headers. */
enum vigil_rl_resource {
	VIGIL_RL_REQUESTS = 0,
	VIGIL_RL_TOKENS,
	VIGIL_RL_INPUT_TOKENS,
	VIGIL_RL_OUTPUT_TOKENS,
	VIGIL_RL_COUNT
};

enum vigil_circuit {
	VIGIL_CB_CLOSED = 0,
	VIGIL_CB_OPEN,
	VIGIL_CB_HALF_OPEN,
	VIGIL_CB_COUNT
};

enum vigil_trend {
	VIGIL_TR_STABLE = 0,
	VIGIL_TR_DEGRADING,
	VIGIL_TR_IMPROVING,
	VIGIL_TR_COUNT
};

enum vigil_kind {
	VIGIL_KIND_HTTP = 0,
	VIGIL_KIND_OPENAI,
	VIGIL_KIND_ANTHROPIC,
	VIGIL_KIND_GOOGLE,
	VIGIL_KIND_DEEPSEEK,
	VIGIL_KIND_QWEN,
	VIGIL_KIND_CURSOR,
	VIGIL_KIND_COUNT
};

enum vigil_alert_kind {
	VIGIL_AK_ERROR_RATE = 0,
	VIGIL_AK_LATENCY,
	VIGIL_AK_DOWN,
	VIGIL_AK_CIRCUIT_OPEN,
	VIGIL_AK_MISCONFIGURED,
	VIGIL_AK_DEGRADING,
	/* ABI 2 */
	VIGIL_AK_QUOTA,			/* critical, needs a human */
	VIGIL_AK_AUTH,			/* critical, needs a human */
	VIGIL_AK_THROTTLED,		/* warning after throttled_warning */
	VIGIL_AK_RATELIMIT_LOW,		/* warning under ratelimit_warning */
	VIGIL_AK_MODEL_MISSING,		/* critical: a model is gone */
	VIGIL_AK_VANTAGE,		/* critical: the failure is ours (our
					   network), provider "*" */
	VIGIL_AK_INCIDENT,		/* critical: providers failing together,
					   provider "*" */
	VIGIL_AK_COUNT
};

enum vigil_alert_level {
	VIGIL_AL_WARNING = 0,
	VIGIL_AL_CRITICAL,
	VIGIL_AL_RESOLVED,
	VIGIL_AL_COUNT
};

/* A status page's indicator (Statuspage's status.indicator), worst last
 * but maintenance, which is planned and not an outage. */
enum vigil_sp_indicator {
	VIGIL_SPI_NONE = 0,
	VIGIL_SPI_MINOR,
	VIGIL_SPI_MAJOR,
	VIGIL_SPI_CRITICAL,
	VIGIL_SPI_MAINTENANCE,
	VIGIL_SPI_COUNT
};

/* Status-page block flags. */
#define VIGIL_SPF_CONFIGURED	0x01u	/* the provider has a status_page */
#define VIGIL_SPF_OK		0x02u	/* the last fetch parsed */

/* Directory slot flags. */
#define VIGIL_PF_IN_USE		0x01u	/* slot holds a provider */
#define VIGIL_PF_ENABLED	0x02u	/* a prober is meant to run */
#define VIGIL_PF_PAUSED		0x04u	/* operator paused it */
#define VIGIL_PF_CANARY		0x08u	/* not a provider: a canary of the
					   vantage self-check (`canary =`),
					   named canary-N; never alerts,
					   never routed */

/* Sample flags. */
#define VIGIL_SF_MANUAL		0x01u	/* probe_now, not the schedule */
#define VIGIL_SF_GENERATION	0x02u	/* generation check: ttfb is TTFT */
#define VIGIL_SF_CONFIRM	0x04u	/* a confirmation's extra request (new
					   connection): counted, not windowed */
#define VIGIL_SF_RETRY_HINT	0x08u	/* retry_after_ms came from the
					   provider's headers, not a backoff */
#define VIGIL_SF_CATALOGUE	0x10u	/* not a request: the models-list
					   check's verdict on model `model`:
					   outcome ok = listed, model_missing
					   = not listed */
#define VIGIL_SF_TRAFFIC	0x20u	/* not a probe: a report of real
					   traffic (issue 18, "Reporter") */

/* Alert flags. */
#define VIGIL_ALF_SILENCED	0x01u	/* recorded, not delivered */

/* Sources of samples, in the order of vigil_stats.source[]. */
#define VIGIL_SRC_PROBE		0
#define VIGIL_SRC_TRAFFIC	1
#define VIGIL_SRC_COUNT		2

/* Windows, in the order of vigil_stats.win[]. */
#define VIGIL_WIN_1M	0
#define VIGIL_WIN_5M	1
#define VIGIL_WIN_15M	2

/* ------------------------------------------------------------------ */
/* Records: plain structs, copied in and out of the segment as u64      */
/* words, so every size is a multiple of 8 and checked below.           */
/* ------------------------------------------------------------------ */

/*
 * One rate-limit resource as an answer's headers reported it.  limit 0:
 * not reported.  Counts saturate at UINT32_MAX.
 */
struct vigil_rl_sample {
	uint32_t limit;
	uint32_t remaining;
	uint32_t reset_ms;		/* resets this long after the sample's
					   wall_ns; 0: not reported */
};

/* One probe.  Written by the provider's prober. */
struct vigil_sample {
	uint64_t wall_ns;		/* CLOCK_REALTIME at the start */
	uint64_t mono_ns;		/* CLOCK_MONOTONIC at the start */
	uint32_t latency_us;		/* total */
	uint32_t dns_us;		/* phases, each from the start */
	uint32_t connect_us;
	uint32_t tls_us;
	uint32_t ttfb_us;		/* first byte (first token if GENERATION) */
	uint32_t bytes;			/* body bytes read */
	uint32_t retry_after_ms;	/* the prober waits this long after the
					   start before its next check (rate
					   limited); 0: its schedule */
	uint16_t http_status;		/* 0 when no response */
	uint8_t outcome;		/* enum vigil_outcome */
	uint8_t flags;			/* VIGIL_SF_* */
	struct vigil_rl_sample rl[VIGIL_RL_COUNT];
	uint32_t tokens_in;		/* usage the answer reported (a */
	uint32_t tokens_out;		/* generation check); 0: none */
	uint16_t model;			/* the provider's model m + 1 that a
					   generation check asked; 0: none */
	uint16_t pad16;
	uint32_t pad32;
	char error[VIGIL_ERR_MAX];	/* short code, e.g. "curl:28" */
};

/* One check cycle's summary.  Written by the aggregator. */
struct vigil_history {
	uint64_t wall_ns;
	uint64_t mono_ns;
	uint32_t latency_us;		/* this sample */
	uint32_t p50_us;		/* 1-minute window */
	uint32_t p95_us;
	uint32_t p99_us;
	uint32_t error_ppm;		/* 1-minute error rate, parts per million */
	uint32_t uptime_ppm;		/* 1-minute uptime */
	uint32_t samples_1m;
	uint16_t http_status;
	uint8_t outcome;
	uint8_t status;
	uint8_t circuit;
	uint8_t trend;
	uint8_t reason;			/* enum vigil_reason (ABI 2) */
	uint8_t pad[5];
};

/* One alert.  Written by the aggregator into the single alert ring. */
struct vigil_alert {
	uint64_t id;			/* increasing, unique per segment */
	uint64_t wall_ns;
	uint64_t mono_ns;
	double value;			/* what was measured ... */
	double threshold;		/* ... against what */
	char provider[VIGIL_NAME_MAX];	/* by name: the slot may be retired */
	uint32_t provider_idx;
	uint8_t kind;			/* enum vigil_alert_kind */
	uint8_t level;			/* enum vigil_alert_level */
	uint8_t flags;			/* VIGIL_ALF_* */
	uint8_t pad;
	uint64_t incident_id;		/* the incident this alert belongs to
					   (its number, which the incident
					   alert carries too); 0: none */
};

/* One directory slot's content.  Written by the supervisor. */
struct vigil_provider_info {
	char name[VIGIL_NAME_MAX];
	char host[VIGIL_HOST_MAX];	/* endpoint host only, never a secret */
	uint64_t added_wall_ns;
	uint32_t interval_ms;
	uint32_t timeout_ms;
	uint32_t generation;		/* bumped on every config change */
	uint32_t writer_epoch;		/* bumped on every prober (re)start */
	uint32_t restarts;		/* prober restarts since vigild start */
	uint32_t pid;			/* current prober, 0 if none */
	uint8_t kind;			/* enum vigil_kind */
	uint8_t flags;			/* VIGIL_PF_* */
	uint8_t pad[6];
};

/* A rolling window.  Latencies in milliseconds, rates 0..1. */
struct vigil_window {
	uint32_t samples;
	uint32_t ok;
	uint32_t by_outcome[VIGIL_OUT_COUNT];
	double error_rate;
	double uptime;
	double p50_ms;
	double p95_ms;
	double p99_ms;
	double mean_ms;
	double max_ms;
};

/* Per-provider judgement.  Written by the aggregator under a seqlock. */
struct vigil_stats {
	uint64_t updated_wall_ns;	/* 0: never written (status unknown) */
	uint64_t updated_mono_ns;
	uint64_t since_wall_ns;		/* first sample seen */
	uint64_t samples_total;
	uint64_t samples_lost;		/* overwritten before aggregated */
	uint64_t checks_total[VIGIL_OUT_COUNT];
	uint64_t lat_bucket[VIGIL_PROM_BUCKETS]; /* per bucket, not cumulative */
	double lat_sum_s;
	uint64_t alerts_total;
	uint64_t last_ok_wall_ns;
	uint64_t last_error_wall_ns;
	uint64_t circuit_since_wall_ns;
	uint64_t silenced_until_wall_ns;
	double uptime_total;		/* ok / samples since start */
	double score;			/* routing score, lower is better */
	struct vigil_window win[VIGIL_NWINDOWS];
	struct vigil_sample last;	/* the newest sample */
	char last_error[VIGIL_ERR_MAX];	/* newest failing sample's code */
	uint32_t consecutive_failures;
	uint32_t consecutive_successes;
	uint32_t circuit_opens;
	uint32_t route_rank;		/* 0 best; UINT32_MAX excluded */
	uint8_t status;			/* enum vigil_status */
	uint8_t circuit;		/* enum vigil_circuit */
	uint8_t trend;			/* enum vigil_trend */
	uint8_t last_error_outcome;
	/* ABI 2: what a router acts on (docs/aggregation.md, "Usable"). */
	uint8_t usable;			/* 1: a router may send now */
	uint8_t reason;			/* enum vigil_reason */
	uint8_t needs_human;		/* 1: it will not come back by itself */
	uint8_t pad;
	uint64_t usable_at_wall_ns;	/* expected back (throttled); 0: not
					   known, or only a human can say */
	uint64_t reason_since_wall_ns;	/* when reason took its value */
	struct vigil_ratelimit {
		uint64_t reset_wall_ns;	/* 0: not reported */
		uint32_t limit;		/* 0: not reported */
		uint32_t remaining;
	} ratelimit[VIGIL_RL_COUNT];	/* from the newest answer reporting it */
	uint64_t probe_tokens_today;	/* generation checks' tokens (in +
					   out) in the UTC day below */
	uint64_t probe_tokens_day;	/* that day: days since 1970-01-01 */
	uint64_t reserved[7];		/* 1024 bytes to here */
	/*
	 * Issue 18: what each source saw (VIGIL_SRC_*): the prober's checks
	 * and the traffic local services reported (see "Reporter").
	 */
	struct vigil_source_stats {
		uint64_t samples_total;	/* since start */
		uint64_t errors_total;	/* failures that count against the
					   provider (vigil_outcome_counts) */
		uint32_t samples_1m;	/* the last minute */
		uint32_t errors_1m;
		uint64_t last_mono_ns;	/* newest sample of this source;
					   0: none (CLOCK_MONOTONIC) */
	} source[2];
	uint32_t traffic_clients_1m;	/* reporter slots heard in the last
					   minute */
	uint32_t hedge_after_us;	/* the 5-minute p95 latency: a
					   router's hedge delay (a model's
					   TTFT one is in its model stats);
					   0: fewer than min_samples */
	uint64_t traffic_last_wall_ns;	/* newest traffic report */
	uint64_t reserved_tail[6];	/* 1152 bytes in all */
};

/*
 * The models a provider's platform routes to (`models = a, b` in its
 * section).  One block per provider, written by the supervisor under a
 * seqlock: the names, in configuration order (model m is names[m]), and
 * the daily token budget of its billed generation checks.
 */
struct vigil_model_info {
	char name[VIGIL_MODEL_MAX];
};

struct vigil_models_head {
	uint32_t count;			/* names in use, <= model_cap */
	uint32_t pad;
	uint64_t token_budget;		/* gen_budget tokens a UTC day; 0 none */
	uint64_t generation;		/* bumped when the list changes */
	/* then struct vigil_model_info names[model_cap] */
};

/* One model's window of generation checks.  TTFT: the first content
 * token (ms); tokens_per_s over the answers that reported usage. */
struct vigil_model_window {
	uint32_t samples;		/* checks that count */
	uint32_t ok;
	double error_rate;		/* 0..1 */
	double ttft_p50_ms;
	double ttft_p95_ms;
	double ttft_p99_ms;
	double tokens_per_s;		/* output tokens per second; 0 none */
};

/*
 * One (provider, model)'s judgement.  Written by the aggregator under a
 * seqlock, one block per model slot of each provider.
 */
struct vigil_model_stats {
	uint64_t updated_wall_ns;	/* 0: never written */
	uint64_t last_wall_ns;		/* newest check of this model */
	uint64_t checks_total;
	uint64_t tokens_in_total;	/* probe tokens, since start (and
					   checks_total: probes; traffic is
					   in the windows only) */
	uint64_t tokens_out_total;
	struct vigil_model_window win[VIGIL_NWINDOWS];
	uint16_t last_http_status;
	uint8_t status;			/* enum vigil_status */
	uint8_t reason;			/* enum vigil_reason */
	uint8_t usable;
	uint8_t last_outcome;		/* enum vigil_outcome */
	uint8_t listed;			/* in the provider's models list at its
					   last check: 1 yes, 0 no, 2 unknown */
	uint8_t pad;
	char last_error[VIGIL_ERR_MAX];
	uint32_t hedge_after_us;	/* issue 18: the 5-minute p95 TTFT, a
					   router's hedge delay; 0: not known */
	uint32_t pad2;
	uint64_t traffic_last_mono_ns;	/* newest traffic report naming this
					   model (CLOCK_MONOTONIC); 0: none.
					   probe_when_idle reads it */
	uint64_t reserved[2];
};

/*
 * What a provider's own status page says (`status_page = URL`, the
 * Atlassian Statuspage /api/v2/summary.json).  One block per provider
 * slot, written by vigil-statuspage only, under a seqlock.  provider
 * names the provider the block was written for: a reader shows it only
 * for the slot's current provider (a slot is reused after a reload).
 * Nothing here changes the provider's own status (docs/http-api.md,
 * "Status pages").
 */
struct vigil_status_page {
	uint64_t updated_wall_ns;	/* last fetch, ok or not; 0: never */
	uint64_t fetched_wall_ns;	/* last fetch that parsed; 0: never */
	uint64_t page_updated_wall_ns;	/* the page's own page.updated_at */
	uint64_t incident_created_wall_ns; /* newest open incident's
					   created_at; 0: none open */
	uint64_t fetches_total;
	uint64_t errors_total;
	uint32_t incidents_open;	/* incidents not resolved/postmortem */
	uint32_t changes;		/* bumped when indicator, incident
					   or error changes (the events) */
	uint8_t indicator;		/* enum vigil_sp_indicator */
	uint8_t incident_impact;	/* same scale; none when no incident */
	uint8_t flags;			/* VIGIL_SPF_* */
	uint8_t pad[5];
	char provider[VIGIL_NAME_MAX];
	char error[VIGIL_ERR_MAX];	/* last fetch's error, "" when ok */
	char incident_status[VIGIL_SP_STATUS_MAX]; /* "investigating" */
	char incident_name[VIGIL_SP_NAME_MAX];	/* truncated */
};

/* Upper bounds, in seconds, of the Prometheus latency buckets; +Inf last. */
static const double vigil_prom_bounds[VIGIL_PROM_BUCKETS - 1] = {
	0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0
};

#define VIGIL_WORDS(T) (sizeof(T) / sizeof(uint64_t))

VIGIL_STATIC_ASSERT(sizeof(struct vigil_rl_sample) == 12, "rl layout");
VIGIL_STATIC_ASSERT(offsetof(struct vigil_sample, rl) == 48,
    "sample layout");
VIGIL_STATIC_ASSERT(offsetof(struct vigil_sample, tokens_in) == 96,
    "sample layout");
VIGIL_STATIC_ASSERT(sizeof(struct vigil_sample) == 144, "sample layout");
VIGIL_STATIC_ASSERT(sizeof(struct vigil_history) == 56, "history layout");
VIGIL_STATIC_ASSERT(sizeof(struct vigil_alert) == 88, "alert layout");
VIGIL_STATIC_ASSERT(sizeof(struct vigil_provider_info) == 136,
    "provider info layout");
VIGIL_STATIC_ASSERT(sizeof(struct vigil_window) == 120, "window layout");
VIGIL_STATIC_ASSERT(offsetof(struct vigil_stats, win) == 312,
    "stats layout");
VIGIL_STATIC_ASSERT(offsetof(struct vigil_stats, source) == 1024,
    "stats layout");
VIGIL_STATIC_ASSERT(sizeof(struct vigil_stats) == 1152, "stats layout");
VIGIL_STATIC_ASSERT(sizeof(struct vigil_models_head) == 24,
    "models layout");
VIGIL_STATIC_ASSERT(sizeof(struct vigil_model_window) == 48,
    "model window layout");
VIGIL_STATIC_ASSERT(sizeof(struct vigil_model_stats) == 256,
    "model stats layout");
VIGIL_STATIC_ASSERT(sizeof(struct vigil_status_page) % 8 == 0 &&
    sizeof(struct vigil_status_page) == 248, "status page layout");

/* ------------------------------------------------------------------ */
/* Segment layout                                                       */
/* ------------------------------------------------------------------ */

/*
 * The header.  Everything before the first atomic is written once by the
 * supervisor before the segment is published (magic is stored last) and
 * read-only afterwards.  Offsets are from the start of the segment; each
 * region's entries are "stride" bytes apart, so the layout can grow.
 */
struct vigil_header {
	uint64_t magic;			/* VIGIL_MAGIC */
	uint32_t abi_major;
	uint32_t abi_minor;
	uint64_t size;			/* whole segment, bytes */
	uint64_t created_wall_ns;
	uint32_t provider_cap;		/* directory slots */
	uint32_t sample_cap;		/* entries per sample ring, power of 2 */
	uint32_t history_cap;		/* entries per history ring, power of 2 */
	uint32_t alert_cap;		/* entries in the alert ring, power of 2 */

	uint64_t dir_off;		/* provider_cap slots */
	uint64_t dir_stride;
	uint64_t samples_off;		/* provider_cap sample rings */
	uint64_t samples_stride;
	uint64_t stats_off;		/* provider_cap stats blocks */
	uint64_t stats_stride;
	uint64_t history_off;		/* provider_cap history rings */
	uint64_t history_stride;
	uint64_t alerts_off;		/* one alert ring */
	uint64_t route_off;		/* the routing block */
	uint32_t sample_entry;		/* bytes per ring entry, seq included */
	uint32_t history_entry;
	uint32_t alert_entry;
	uint32_t supervisor_pid;
	uint32_t history_keep;		/* records a reader is shown per */
	uint32_t alert_keep;		/* ring (history_retention,
					   alert_retention): <= the cap */
	uint64_t models_off;		/* provider_cap model blocks */
	uint64_t models_stride;
	uint64_t model_stats_off;	/* provider_cap x model_cap blocks */
	uint64_t model_stats_stride;	/* one model's block */
	uint32_t model_cap;		/* model slots per provider */
	uint32_t pad0;
	uint64_t statuspage_off;	/* provider_cap status-page blocks */
	uint64_t statuspage_stride;
	uint64_t reserved0[6];		/* 256 bytes to here */

	/* Written by the supervisor. */
	VIGIL_A64 dir_gen;		/* bumped on any directory change */
	VIGIL_A64 supervisor_beat_ns;	/* CLOCK_MONOTONIC */
	uint64_t reserved1[6];

	/* Written by the aggregator; its own cache line. */
	VIGIL_A64 aggregator_beat_ns;	/* CLOCK_MONOTONIC */
	VIGIL_A64 aggregator_pid;
	VIGIL_A64 vantage_state;	/* 0 ok or unknown, 1 ours (our
					   network fails: vigil_vantage) */
	VIGIL_A64 vantage_since_wall_ns; /* when it took its value; 0 never */
	uint64_t reserved2[4];

	/* Written by the aggregator: the reports segment as it read it
	 * (issue 18, "Reporter"); its own cache line. */
	VIGIL_A64 reports_accepted;	/* records that became samples */
	VIGIL_A64 reports_invalid;	/* failed a check: dropped */
	VIGIL_A64 reports_rate_dropped;	/* over report_rate_max: dropped */
	VIGIL_A64 reports_lost;		/* torn, or never finished */
	VIGIL_A64 reports_full;		/* clients' own drops (ring full),
					   as their slots say */
	VIGIL_A64 reports_slots;	/* slots claimed now */
	uint64_t reserved4[2];

	uint64_t reserved3[40];		/* room to grow: 768 bytes in all */
};

VIGIL_STATIC_ASSERT(offsetof(struct vigil_header, dir_gen) == 256,
    "header layout");
VIGIL_STATIC_ASSERT(offsetof(struct vigil_header, aggregator_beat_ns) == 320,
    "header layout");
VIGIL_STATIC_ASSERT(offsetof(struct vigil_header, reports_accepted) == 384,
    "header layout");
VIGIL_STATIC_ASSERT(sizeof(struct vigil_header) == 768, "header layout");

/*
 * The layout of a segment: every header field that decides where a reader
 * looks or how far it goes.  A reader copies it once from the header,
 * validates the copy and addresses the segment through the copy only:
 * the header lives in memory that every prober and the aggregator map
 * read-write, and a field rewritten there after validation must not move
 * anyone's reads out of the mapping (docs/segment.md, "Trust").
 */
struct vigil_layout {
	uint64_t magic;
	uint64_t size;
	uint64_t dir_off;
	uint64_t dir_stride;
	uint64_t samples_off;
	uint64_t samples_stride;
	uint64_t stats_off;
	uint64_t stats_stride;
	uint64_t history_off;
	uint64_t history_stride;
	uint64_t alerts_off;
	uint64_t route_off;
	uint32_t abi_major;
	uint32_t provider_cap;
	uint32_t sample_cap;
	uint32_t history_cap;
	uint32_t alert_cap;
	uint32_t sample_entry;
	uint32_t history_entry;
	uint32_t alert_entry;
	uint32_t history_keep;
	uint32_t alert_keep;
	uint64_t models_off;
	uint64_t models_stride;
	uint64_t model_stats_off;
	uint64_t model_stats_stride;
	uint32_t model_cap;
	uint64_t statuspage_off;
	uint64_t statuspage_stride;
};

/*
 * A seqlocked block: a sequence word, then the payload as u64 words.
 * Directory slots, stats blocks and the routing block are all this shape.
 */
struct vigil_seqblock {
	VIGIL_A64 seq;
	VIGIL_A64 w[1];		/* really as many as the payload needs */
};

/*
 * The control block at the start of every ring, one cache line.  Written
 * by the ring's single writer only.
 */
struct vigil_ring_ctl {
	VIGIL_A64 head;			/* records ever published */
	VIGIL_A64 beat_ns;		/* writer heartbeat, CLOCK_MONOTONIC */
	VIGIL_A64 epoch;		/* writer_epoch the writer started with */
	uint64_t reserved[5];
};

VIGIL_STATIC_ASSERT(sizeof(struct vigil_ring_ctl) == VIGIL_CACHELINE,
    "ring control layout");

/* A ring entry: a sequence word, then the record as u64 words. */
struct vigil_ring_entry {
	VIGIL_A64 seq;
	VIGIL_A64 w[1];
};

/* The routing block's payload: provider indexes, best first. */
struct vigil_route_head {
	uint32_t count;
	uint32_t pad;
	uint64_t computed_wall_ns;
	/* then uint32_t idx[provider_cap], padded to a multiple of 8 bytes */
};

/* ------------------------------------------------------------------ */
/* Names                                                                */
/* ------------------------------------------------------------------ */

static inline const char *
vigil_outcome_name(unsigned v)
{
	static const char *const n[VIGIL_OUT_COUNT] = { "ok", "timeout",
	    "dns", "connect", "tls", "http_5xx", "rate_limited", "auth",
	    "bad_response", "other", "quota", "overloaded", "model_missing",
	    "client_error" };
	return v < VIGIL_OUT_COUNT ? n[v] : "invalid";
}

static inline const char *
vigil_status_name(unsigned v)
{
	static const char *const n[VIGIL_ST_COUNT] = { "unknown", "healthy",
	    "degraded", "unhealthy", "misconfigured", "paused", "throttled",
	    "exhausted" };
	return v < VIGIL_ST_COUNT ? n[v] : "invalid";
}

static inline const char *
vigil_circuit_name(unsigned v)
{
	static const char *const n[VIGIL_CB_COUNT] = { "closed", "open",
	    "half_open" };
	return v < VIGIL_CB_COUNT ? n[v] : "invalid";
}

static inline const char *
vigil_trend_name(unsigned v)
{
	static const char *const n[VIGIL_TR_COUNT] = { "stable", "degrading",
	    "improving" };
	return v < VIGIL_TR_COUNT ? n[v] : "invalid";
}

static inline const char *
vigil_kind_name(unsigned v)
{
	static const char *const n[VIGIL_KIND_COUNT] = { "http", "openai",
	    "anthropic", "google", "deepseek", "qwen", "cursor" };
	return v < VIGIL_KIND_COUNT ? n[v] : "invalid";
}

static inline const char *
vigil_alert_kind_name(unsigned v)
{
	static const char *const n[VIGIL_AK_COUNT] = { "error_rate",
	    "latency", "down", "circuit_open", "misconfigured", "degrading",
	    "quota", "auth", "throttled", "ratelimit_low", "model_missing",
	    "vantage", "incident" };
	return v < VIGIL_AK_COUNT ? n[v] : "invalid";
}

static inline const char *
vigil_sp_indicator_name(unsigned v)
{
	static const char *const n[VIGIL_SPI_COUNT] = { "none", "minor",
	    "major", "critical", "maintenance" };
	return v < VIGIL_SPI_COUNT ? n[v] : "invalid";
}

/* NULL for VIGIL_RS_NONE: the JSON views print null. */
static inline const char *
vigil_reason_name(unsigned v)
{
	static const char *const n[VIGIL_RS_COUNT] = { NULL, "outage",
	    "overloaded", "errors", "slow", "rate_limited", "quota", "auth",
	    "model_missing", "client_error", "network" };
	return v < VIGIL_RS_COUNT ? n[v] : "invalid";
}

static inline const char *
vigil_rl_name(unsigned v)
{
	static const char *const n[VIGIL_RL_COUNT] = { "requests", "tokens",
	    "input_tokens", "output_tokens" };
	return v < VIGIL_RL_COUNT ? n[v] : "invalid";
}

/*
 * Does outcome o say something about the provider's own health?  quota,
 * auth, client_error, rate_limited and model_missing are about us (our
 * account, our key, our request, our share, our model name): they never
 * count into the error rate or uptime, never open the circuit and never
 * raise an outage alert (docs/aggregation.md, "Outcomes").
 */
static inline int
vigil_outcome_counts(unsigned o)
{
	switch (o) {
	case VIGIL_OUT_RATE_LIMITED:
	case VIGIL_OUT_AUTH:
	case VIGIL_OUT_QUOTA:
	case VIGIL_OUT_MODEL_MISSING:
	case VIGIL_OUT_CLIENT_ERROR:
		return 0;
	default:
		return 1;
	}
}

/* Alerts that only a human resolves: our key, our credit, our config. */
static inline int
vigil_alert_needs_human(unsigned kind)
{
	return kind == VIGIL_AK_QUOTA || kind == VIGIL_AK_AUTH ||
	    kind == VIGIL_AK_MISCONFIGURED || kind == VIGIL_AK_MODEL_MISSING;
}

static inline const char *
vigil_alert_level_name(unsigned v)
{
	static const char *const n[VIGIL_AL_COUNT] = { "warning", "critical",
	    "resolved" };
	return v < VIGIL_AL_COUNT ? n[v] : "invalid";
}

static inline const char *
vigil_strerror(int rc)
{
	switch (rc) {
	case VIGIL_OK:		return "success";
	case VIGIL_ESYS:	return "system error";
	case VIGIL_EMAGIC:	return "not a vigil segment (bad magic)";
	case VIGIL_EABI:	return "unsupported segment ABI version";
	case VIGIL_ECORRUPT:	return "segment layout is inconsistent";
	case VIGIL_EBUSY:	return "writer busy, try again";
	case VIGIL_ENOENT:	return "no such provider";
	case VIGIL_ERANGE:	return "out of range";
	default:		return "unknown error";
	}
}

/* ------------------------------------------------------------------ */
/* Low-level readers (also used by vigil's own processes)               */
/* ------------------------------------------------------------------ */

/*
 * Copy a seqlocked block's payload of `words` u64 words into out.
 * Returns VIGIL_OK, or VIGIL_EBUSY after VIGIL_READ_RETRIES attempts that
 * all saw a write in progress (the writer may be descheduled or dead: a
 * reader must never spin forever on it).
 */
static inline int
vigil_seq_read(const struct vigil_seqblock *b, void *out, size_t words)
{
	unsigned char *dst = (unsigned char *)out;
	unsigned tries;
	size_t i;

	for (tries = 0; tries < VIGIL_READ_RETRIES; tries++) {
		/* Acquire: the payload we read next is at least this new. */
		uint64_t s1 = VIGIL_LOAD_ACQ(&b->seq), s2;
		if (s1 & 1)
			continue;
		for (i = 0; i < words; i++) {
			/* Relaxed: validated by the seq re-read below.
			 * memcpy: out is a struct, not u64s (aliasing). */
			uint64_t v = VIGIL_LOAD_RLX(&b->w[i]);
			memcpy(dst + 8 * i, &v, 8);
		}
		/* Acquire fence: the payload loads are ordered before the
		 * re-read of seq, pairing with the writer's release fence. */
		VIGIL_FENCE_ACQ();
		s2 = VIGIL_LOAD_RLX(&b->seq);
		if (s1 == s2)
			return VIGIL_OK;
	}
	return VIGIL_EBUSY;
}

/*
 * A reader's private position in a ring: the next record number it wants
 * and how many records it has lost (overwritten before it read them, or
 * torn by a concurrent overwrite).  Kept in the reader's own memory.
 */
struct vigil_cursor {
	uint64_t next;
	uint64_t lost;
};

/*
 * Read the next record from a ring into out (words u64 words).
 * Returns 1 when a record was copied, 0 when the reader is caught up.
 * Records overwritten before they could be read are skipped and counted in
 * cur->lost; a record is never accepted half written.  O(1) per record;
 * never waits on a writer.
 */
static inline int
vigil_ring_next(const struct vigil_ring_ctl *ctl,
    const unsigned char *entries, uint32_t cap, uint32_t stride,
    struct vigil_cursor *cur, void *out, size_t words)
{
	unsigned char *dst = (unsigned char *)out;
	for (;;) {
		/* Acquire: pairs with the writer's release store of head,
		 * so entries below head are fully published. */
		uint64_t head = VIGIL_LOAD_ACQ(&ctl->head);
		const struct vigil_ring_entry *e;
		uint64_t want, s1, s2, n;
		size_t i;

		if (cur->next > head)		/* writer restarted lower */
			cur->next = head;
		if (cur->next == head)
			return 0;
		if (head - cur->next > cap) {	/* unsigned difference */
			cur->lost += head - cur->next - cap;
			cur->next = head - cap;
		}
		n = cur->next;
		e = (const struct vigil_ring_entry *)(const void *)
		    (entries + (size_t)(n & (cap - 1)) * stride);
		want = 2 * n + 2;
		s1 = VIGIL_LOAD_ACQ(&e->seq);
		if (s1 != want) {		/* overwritten or being so */
			cur->lost++;
			cur->next++;
			continue;
		}
		for (i = 0; i < words; i++) {
			/* memcpy: out is a struct, not u64s (aliasing). */
			uint64_t v = VIGIL_LOAD_RLX(&e->w[i]);
			memcpy(dst + 8 * i, &v, 8);
		}
		VIGIL_FENCE_ACQ();
		s2 = VIGIL_LOAD_RLX(&e->seq);
		cur->next++;
		if (s2 != want) {		/* torn: overwritten meanwhile */
			cur->lost++;
			continue;
		}
		return 1;
	}
}

/* ------------------------------------------------------------------ */
/* The client                                                           */
/* ------------------------------------------------------------------ */

/*
 * base, size and hdr are the mapping; hdr is read only for the words that
 * change while vigil runs (dir_gen, beats).  Every address is computed
 * from lay, the private copy of the layout validated at open: see
 * struct vigil_layout.  lay is last so that the fields before it keep
 * their place.
 */
struct vigil_client {
	const unsigned char *base;
	size_t size;
	const struct vigil_header *hdr;
	char err[160];
	struct vigil_layout lay;
};

/* A consistent view of one provider: its directory slot and its stats. */
struct vigil_provider {
	uint32_t idx;
	struct vigil_provider_info info;
	struct vigil_stats stats;
};

static inline uint64_t
vigil_now_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * UINT64_C(1000000000) +
	    (uint64_t)ts.tv_nsec;
}

static inline int
vigil__fail(struct vigil_client *c, int rc, const char *what)
{
	if (rc == VIGIL_ESYS)
		snprintf(c->err, sizeof(c->err), "%s: %s", what,
		    strerror(errno));
	else
		snprintf(c->err, sizeof(c->err), "%s: %s", what,
		    vigil_strerror(rc));
	return rc;
}

static inline int
vigil__region_ok(uint64_t size, uint64_t off, uint64_t count,
    uint64_t stride)
{
	if (off > size || stride == 0 || count == 0)
		return 0;
	if (count > (size - off) / stride)
		return 0;
	return off % 8 == 0 && stride % 8 == 0;	/* aligned atomics */
}

static inline int
vigil__pow2(uint32_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

/*
 * The layout fields, one row each: where the field is in the header and
 * in struct vigil_layout, and its width.  Copying and comparing are both
 * driven from this table, so that they cannot disagree on what the layout
 * is.
 */
struct vigil__layout_field {
	const char *name;
	size_t hdr_off;
	size_t lay_off;
	size_t width;
};

#define VIGIL__LF(m) { #m, offsetof(struct vigil_header, m), \
	offsetof(struct vigil_layout, m), \
	sizeof(((struct vigil_layout *)0)->m) }

static inline const struct vigil__layout_field *
vigil__layout_fields(size_t *n)
{
	static const struct vigil__layout_field f[] = {
		VIGIL__LF(magic), VIGIL__LF(abi_major), VIGIL__LF(size),
		VIGIL__LF(provider_cap), VIGIL__LF(sample_cap),
		VIGIL__LF(history_cap), VIGIL__LF(alert_cap),
		VIGIL__LF(dir_off), VIGIL__LF(dir_stride),
		VIGIL__LF(samples_off), VIGIL__LF(samples_stride),
		VIGIL__LF(stats_off), VIGIL__LF(stats_stride),
		VIGIL__LF(history_off), VIGIL__LF(history_stride),
		VIGIL__LF(alerts_off), VIGIL__LF(route_off),
		VIGIL__LF(sample_entry), VIGIL__LF(history_entry),
		VIGIL__LF(alert_entry), VIGIL__LF(history_keep),
		VIGIL__LF(alert_keep), VIGIL__LF(models_off),
		VIGIL__LF(models_stride), VIGIL__LF(model_stats_off),
		VIGIL__LF(model_stats_stride), VIGIL__LF(model_cap),
		VIGIL__LF(statuspage_off), VIGIL__LF(statuspage_stride)
	};
	*n = sizeof(f) / sizeof(f[0]);
	return f;
}

#undef VIGIL__LF

/* A field's value, widened to 64 bits, from p + off. */
static inline uint64_t
vigil__field(const void *p, size_t off, size_t width)
{
	uint32_t v32;
	uint64_t v64;

	if (width == 4) {
		memcpy(&v32, (const unsigned char *)p + off, 4);
		return v32;
	}
	memcpy(&v64, (const unsigned char *)p + off, 8);
	return v64;
}

/*
 * Copy the layout fields of header h (live or private) into l.  No check:
 * see vigil_layout_valid().  Each field is read exactly once.
 */
static inline void
vigil_layout_copy(const struct vigil_header *h, struct vigil_layout *l)
{
	const struct vigil__layout_field *f;
	size_t i, n;

	memset(l, 0, sizeof(*l));
	f = vigil__layout_fields(&n);
	for (i = 0; i < n; i++)
		memcpy((unsigned char *)l + f[i].lay_off,
		    (const unsigned char *)h + f[i].hdr_off, f[i].width);
}

/*
 * Check that layout l (a private copy) can be read safely in a mapping of
 * `mapped` bytes: magic, ABI major, and every region inside the mapping.
 * Returns VIGIL_OK or a VIGIL_E* code with *why saying what is wrong.
 */
static inline int
vigil_layout_valid(const struct vigil_layout *l, size_t mapped,
    const char **why)
{
	uint64_t ring_bytes;

	*why = NULL;
	if (l->magic != VIGIL_MAGIC) {
		*why = "bad magic: not a vigil segment, or not initialised yet";
		return VIGIL_EMAGIC;
	}
	if (l->abi_major != VIGIL_ABI_MAJOR) {
		*why = "unsupported segment ABI version";
		return VIGIL_EABI;
	}
	if (l->size > mapped || l->size < sizeof(struct vigil_header))
		*why = "segment truncated";
	else if (!vigil__pow2(l->sample_cap) || !vigil__pow2(l->history_cap)
	    || !vigil__pow2(l->alert_cap) || l->provider_cap == 0 ||
	    l->provider_cap > VIGIL_MAX_PROVIDERS ||
	    l->history_keep == 0 || l->history_keep > l->history_cap ||
	    l->alert_keep == 0 || l->alert_keep > l->alert_cap ||
	    l->model_cap == 0 || l->model_cap > VIGIL_MAX_MODELS)
		*why = "bad capacities";
	else if (l->dir_stride < 8 + sizeof(struct vigil_provider_info) ||
	    l->stats_stride < 8 + sizeof(struct vigil_stats) ||
	    l->sample_entry < 8 + sizeof(struct vigil_sample) ||
	    l->history_entry < 8 + sizeof(struct vigil_history) ||
	    l->alert_entry < 8 + sizeof(struct vigil_alert) ||
	    l->models_stride < 8 + sizeof(struct vigil_models_head) +
	    (uint64_t)l->model_cap * sizeof(struct vigil_model_info) ||
	    l->model_stats_stride < 8 + sizeof(struct vigil_model_stats) ||
	    l->statuspage_stride < 8 + sizeof(struct vigil_status_page) ||
	    l->sample_entry % 8 || l->history_entry % 8 || l->alert_entry % 8)
		*why = "bad strides";
	else if (!vigil__region_ok(l->size, l->dir_off, l->provider_cap,
	    l->dir_stride) ||
	    !vigil__region_ok(l->size, l->stats_off, l->provider_cap,
	    l->stats_stride) ||
	    !vigil__region_ok(l->size, l->models_off, l->provider_cap,
	    l->models_stride) ||
	    !vigil__region_ok(l->size, l->model_stats_off,
	    (uint64_t)l->provider_cap * l->model_cap, l->model_stats_stride) ||
	    !vigil__region_ok(l->size, l->statuspage_off, l->provider_cap,
	    l->statuspage_stride))
		*why = "directory or stats outside the segment";
	else if (l->samples_stride < sizeof(struct vigil_ring_ctl) +
	    (uint64_t)l->sample_cap * l->sample_entry ||
	    l->history_stride < sizeof(struct vigil_ring_ctl) +
	    (uint64_t)l->history_cap * l->history_entry ||
	    !vigil__region_ok(l->size, l->samples_off, l->provider_cap,
	    l->samples_stride) ||
	    !vigil__region_ok(l->size, l->history_off, l->provider_cap,
	    l->history_stride))
		*why = "rings outside the segment";
	else {
		ring_bytes = sizeof(struct vigil_ring_ctl) +
		    (uint64_t)l->alert_cap * l->alert_entry;
		if (!vigil__region_ok(l->size, l->alerts_off, 1, ring_bytes))
			*why = "alert ring outside the segment";
		else if (!vigil__region_ok(l->size, l->route_off, 1,
		    8 + sizeof(struct vigil_route_head) +
		    ((uint64_t)l->provider_cap * 4 + 7) / 8 * 8))
			*why = "routing block outside the segment";
		else
			return VIGIL_OK;
	}
	return VIGIL_ECORRUPT;
}

/*
 * Copy the layout of the segment mapped at base (`size` bytes) once into
 * out and validate the copy, never the live header: a header rewritten
 * between a check and a use cannot pass one and steer the other.  On
 * failure out is zeroed (capacity 0: every accessor then reads nothing)
 * and err says why.
 */
static inline int
vigil_layout_read(const void *base, size_t size, struct vigil_layout *out,
    char *err, size_t errlen)
{
	const struct vigil_header *h = (const struct vigil_header *)base;
	const char *why = "segment smaller than its header";
	int rc = VIGIL_ECORRUPT;

	memset(out, 0, sizeof(*out));
	if (size >= sizeof(*h)) {
		vigil_layout_copy(h, out);
		rc = vigil_layout_valid(out, size, &why);
		if (rc == VIGIL_OK)
			return VIGIL_OK;
	}
	if (err != NULL && rc == VIGIL_EABI)
		snprintf(err, errlen, "segment ABI %u.%u, this client reads "
		    "ABI %u", out->abi_major, h->abi_minor, VIGIL_ABI_MAJOR);
	else if (err != NULL)
		snprintf(err, errlen, "%s", why);
	memset(out, 0, sizeof(*out));
	return rc;
}

/*
 * Check that a mapped segment of `size` bytes is one this header can read
 * safely: magic, ABI major, and every region inside the mapping.  A random
 * or truncated segment is refused here, never dereferenced out of bounds.
 */
static inline int
vigil_validate(const void *base, size_t size, char *err, size_t errlen)
{
	struct vigil_layout l;

	return vigil_layout_read(base, size, &l, err, errlen);
}

/*
 * Compare the live header of the segment at base with the private layout
 * l.  Returns 0 when every layout field still holds what was validated,
 * 1 when one does not; why (may be NULL) then names the first such field
 * with both values.  Nothing is followed: a changed field is reported,
 * and the reader goes on with l.  O(fields), no system call: cheap enough
 * to call once per tick.
 */
static inline int
vigil_layout_compare(const void *base, const struct vigil_layout *l,
    char *why, size_t whylen)
{
	const struct vigil__layout_field *f;
	uint64_t live, mine;
	size_t i, n;

	if (base == NULL || l->magic == 0)
		return 0;		/* nothing mapped, nothing to compare */
	f = vigil__layout_fields(&n);
	for (i = 0; i < n; i++) {
		live = vigil__field(base, f[i].hdr_off, f[i].width);
		mine = vigil__field(l, f[i].lay_off, f[i].width);
		if (live == mine)
			continue;
		if (why != NULL)
			snprintf(why, whylen, "segment header field %s changed "
			    "from %llu to %llu", f[i].name,
			    (unsigned long long)mine,
			    (unsigned long long)live);
		return 1;
	}
	return 0;
}

/* The client's form of vigil_layout_compare(). */
static inline int
vigil_layout_changed(const struct vigil_client *c, char *why, size_t whylen)
{
	return vigil_layout_compare(c->base, &c->lay, why, whylen);
}

/*
 * Map the segment `name` (NULL: "/vigil") read-only and check it.  On
 * failure returns a VIGIL_E* code and c->err says why.
 */
static inline int
vigil_open(struct vigil_client *c, const char *name)
{
	struct stat st;
	void *p;
	int fd, rc;
	char why[128];

	memset(c, 0, sizeof(*c));
	if (name == NULL)
		name = VIGIL_DEFAULT_SHM;
	fd = shm_open(name, O_RDONLY | O_CLOEXEC, 0);
	if (fd == -1)
		return vigil__fail(c, VIGIL_ESYS, name);
	if (fstat(fd, &st) == -1) {
		close(fd);
		return vigil__fail(c, VIGIL_ESYS, name);
	}
	if ((size_t)st.st_size < sizeof(struct vigil_header)) {
		close(fd);
		snprintf(c->err, sizeof(c->err), "%s: segment too small (%lld "
		    "bytes)", name, (long long)st.st_size);
		return VIGIL_ECORRUPT;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return vigil__fail(c, VIGIL_ESYS, name);
	rc = vigil_layout_read(p, (size_t)st.st_size, &c->lay, why,
	    sizeof(why));
	if (rc != VIGIL_OK) {
		munmap(p, (size_t)st.st_size);
		/* Using the result keeps GCC's -Wformat-truncation quiet
		 * for callers whose name buffer is large: cut is fine. */
		if (snprintf(c->err, sizeof(c->err), "%s: %s", name, why) < 0)
			c->err[0] = '\0';
		return rc;
	}
	c->base = (const unsigned char *)p;
	c->size = (size_t)st.st_size;
	c->hdr = (const struct vigil_header *)p;
	return VIGIL_OK;
}

/*
 * Attach to an already mapped segment (vigil's own processes map it
 * themselves) whose layout the caller already holds privately (it
 * computed it, or validated its own copy): lay is checked against size
 * and copied, the live header is not read.  Does not take ownership of
 * the mapping.  On failure the client reads nothing (capacity 0).
 */
static inline int
vigil_attach_layout(struct vigil_client *c, const void *base, size_t size,
    const struct vigil_layout *lay)
{
	const char *why;
	int rc;

	memset(c, 0, sizeof(*c));
	if ((rc = vigil_layout_valid(lay, size, &why)) != VIGIL_OK) {
		snprintf(c->err, sizeof(c->err), "%s", why);
		return rc;
	}
	c->lay = *lay;
	c->base = (const unsigned char *)base;
	c->size = size;
	c->hdr = (const struct vigil_header *)base;
	return VIGIL_OK;
}

/*
 * Attach to an already mapped segment, copying and validating its layout
 * as vigil_open() does.  Does not take ownership of the mapping.  On
 * failure (VIGIL_E*, c->err says why) the client reads nothing.
 */
static inline int
vigil_attach(struct vigil_client *c, const void *base, size_t size)
{
	struct vigil_layout l;
	char why[128];
	int rc;

	memset(c, 0, sizeof(*c));
	if ((rc = vigil_layout_read(base, size, &l, why, sizeof(why))) !=
	    VIGIL_OK) {
		snprintf(c->err, sizeof(c->err), "%s", why);
		return rc;
	}
	return vigil_attach_layout(c, base, size, &l);
}

static inline void
vigil_close(struct vigil_client *c)
{
	if (c->base != NULL)
		munmap((void *)(uintptr_t)c->base, c->size);
	memset(c, 0, sizeof(*c));
}

static inline uint32_t
vigil_capacity(const struct vigil_client *c)
{
	return c->lay.provider_cap;
}

/* Directory generation: changes whenever providers are added or retired. */
static inline uint64_t
vigil_dir_gen(const struct vigil_client *c)
{
	if (c->hdr == NULL)
		return 0;
	return VIGIL_LOAD_ACQ(&c->hdr->dir_gen);
}

/*
 * Nanoseconds from the aggregator's last beat to now (CLOCK_MONOTONIC,
 * vigil_now_mono_ns()); UINT64_MAX when it never beat.  Taking now lets
 * one reply judge every provider against the same instant.
 */
static inline uint64_t
vigil_aggregator_age_at(const struct vigil_client *c, uint64_t now)
{
	uint64_t b;

	if (c->hdr == NULL)
		return UINT64_MAX;
	b = VIGIL_LOAD_ACQ(&c->hdr->aggregator_beat_ns);
	if (b == 0)
		return UINT64_MAX;
	return now > b ? now - b : 0;
}

/* Nanoseconds since the aggregator last beat (UINT64_MAX: never). */
static inline uint64_t
vigil_aggregator_age_ns(const struct vigil_client *c)
{
	return vigil_aggregator_age_at(c, vigil_now_mono_ns());
}

/* The accessors below take idx < c->lay.provider_cap (checked by callers). */
static inline const struct vigil_seqblock *
vigil__dir_slot(const struct vigil_client *c, uint32_t idx)
{
	return (const struct vigil_seqblock *)(const void *)(c->base +
	    c->lay.dir_off + (uint64_t)idx * c->lay.dir_stride);
}

static inline const struct vigil_seqblock *
vigil__stats_block(const struct vigil_client *c, uint32_t idx)
{
	return (const struct vigil_seqblock *)(const void *)(c->base +
	    c->lay.stats_off + (uint64_t)idx * c->lay.stats_stride);
}

static inline const struct vigil_ring_ctl *
vigil__sample_ring(const struct vigil_client *c, uint32_t idx)
{
	return (const struct vigil_ring_ctl *)(const void *)(c->base +
	    c->lay.samples_off + (uint64_t)idx * c->lay.samples_stride);
}

static inline const struct vigil_ring_ctl *
vigil__history_ring(const struct vigil_client *c, uint32_t idx)
{
	return (const struct vigil_ring_ctl *)(const void *)(c->base +
	    c->lay.history_off + (uint64_t)idx * c->lay.history_stride);
}

static inline const struct vigil_ring_ctl *
vigil__alert_ring(const struct vigil_client *c)
{
	return (const struct vigil_ring_ctl *)(const void *)(c->base +
	    c->lay.alerts_off);
}

/* Read directory slot idx.  VIGIL_ENOENT if the slot is free. */
static inline int
vigil_provider_info(const struct vigil_client *c, uint32_t idx,
    struct vigil_provider_info *out)
{
	int rc;
	if (idx >= c->lay.provider_cap)
		return VIGIL_ERANGE;
	rc = vigil_seq_read(vigil__dir_slot(c, idx), out,
	    VIGIL_WORDS(struct vigil_provider_info));
	if (rc != VIGIL_OK)
		return rc;
	if (!(out->flags & VIGIL_PF_IN_USE))
		return VIGIL_ENOENT;
	out->name[VIGIL_NAME_MAX - 1] = '\0';
	out->host[VIGIL_HOST_MAX - 1] = '\0';
	return VIGIL_OK;
}

/* Read provider idx's stats block. */
static inline int
vigil_provider_stats(const struct vigil_client *c, uint32_t idx,
    struct vigil_stats *out)
{
	int rc;
	if (idx >= c->lay.provider_cap)
		return VIGIL_ERANGE;
	rc = vigil_seq_read(vigil__stats_block(c, idx), out,
	    VIGIL_WORDS(struct vigil_stats));
	if (rc == VIGIL_OK) {
		out->last.error[sizeof(out->last.error) - 1] = '\0';
		out->last_error[VIGIL_ERR_MAX - 1] = '\0';
	}
	return rc;
}

/* Provider idx's models (struct vigil_models_head, then the names). */
struct vigil_models {
	struct vigil_models_head head;
	struct vigil_model_info names[VIGIL_MAX_MODELS];
};

static inline const struct vigil_seqblock *
vigil__models_block(const struct vigil_client *c, uint32_t idx)
{
	return (const struct vigil_seqblock *)(const void *)(c->base +
	    c->lay.models_off + (uint64_t)idx * c->lay.models_stride);
}

static inline const struct vigil_seqblock *
vigil__model_stats_block(const struct vigil_client *c, uint32_t idx,
    uint32_t m)
{
	return (const struct vigil_seqblock *)(const void *)(c->base +
	    c->lay.model_stats_off + ((uint64_t)idx * c->lay.model_cap + m) *
	    c->lay.model_stats_stride);
}

/*
 * The models of provider idx: out->head.count names, model m is
 * out->names[m].name (NUL-terminated on copy; a count over model_cap is
 * cut to it).  VIGIL_OK, VIGIL_ERANGE or VIGIL_EBUSY.
 */
static inline int
vigil_models(const struct vigil_client *c, uint32_t idx,
    struct vigil_models *out)
{
	size_t words;
	uint32_t m;
	int rc;

	if (idx >= c->lay.provider_cap)
		return VIGIL_ERANGE;
	memset(out, 0, sizeof(*out));
	words = (sizeof(struct vigil_models_head) + (size_t)c->lay.model_cap *
	    sizeof(struct vigil_model_info)) / 8;
	rc = vigil_seq_read(vigil__models_block(c, idx), out, words);
	if (rc != VIGIL_OK)
		return rc;
	if (out->head.count > c->lay.model_cap)
		out->head.count = c->lay.model_cap;
	for (m = 0; m < c->lay.model_cap; m++)
		out->names[m].name[VIGIL_MODEL_MAX - 1] = '\0';
	return VIGIL_OK;
}

/* Model m of provider idx: its windows, status and reason. */
static inline int
vigil_model_stats(const struct vigil_client *c, uint32_t idx, uint32_t m,
    struct vigil_model_stats *out)
{
	int rc;

	if (idx >= c->lay.provider_cap || m >= c->lay.model_cap)
		return VIGIL_ERANGE;
	rc = vigil_seq_read(vigil__model_stats_block(c, idx, m), out,
	    VIGIL_WORDS(struct vigil_model_stats));
	if (rc == VIGIL_OK)
		out->last_error[VIGIL_ERR_MAX - 1] = '\0';
	return rc;
}

static inline const struct vigil_seqblock *
vigil__statuspage_block(const struct vigil_client *c, uint32_t idx)
{
	return (const struct vigil_seqblock *)(const void *)(c->base +
	    c->lay.statuspage_off + (uint64_t)idx * c->lay.statuspage_stride);
}

/*
 * What provider idx's status page says.  VIGIL_ENOENT when the block
 * holds nothing for this provider: no status_page configured, nothing
 * fetched yet, or written for the provider that had the slot before
 * (name: the slot's current provider, from vigil_provider_info; NULL
 * accepts any).  Strings are NUL-terminated on copy.
 */
static inline int
vigil_status_page(const struct vigil_client *c, uint32_t idx,
    const char *name, struct vigil_status_page *out)
{
	int rc;

	if (idx >= c->lay.provider_cap)
		return VIGIL_ERANGE;
	rc = vigil_seq_read(vigil__statuspage_block(c, idx), out,
	    VIGIL_WORDS(struct vigil_status_page));
	if (rc != VIGIL_OK)
		return rc;
	out->provider[VIGIL_NAME_MAX - 1] = '\0';
	out->error[VIGIL_ERR_MAX - 1] = '\0';
	out->incident_status[VIGIL_SP_STATUS_MAX - 1] = '\0';
	out->incident_name[VIGIL_SP_NAME_MAX - 1] = '\0';
	if (!(out->flags & VIGIL_SPF_CONFIGURED) || out->updated_wall_ns == 0
	    || (name != NULL && strcmp(name, out->provider) != 0))
		return VIGIL_ENOENT;
	if (out->indicator >= VIGIL_SPI_COUNT)
		out->indicator = VIGIL_SPI_NONE;
	if (out->incident_impact >= VIGIL_SPI_COUNT)
		out->incident_impact = VIGIL_SPI_NONE;
	return VIGIL_OK;
}

/* The index of model name among provider idx's models, in *m. */
static inline int
vigil_find_model(const struct vigil_client *c, uint32_t idx,
    const char *name, uint32_t *m)
{
	struct vigil_models ms;
	uint32_t i;
	int rc;

	if ((rc = vigil_models(c, idx, &ms)) != VIGIL_OK)
		return rc;
	for (i = 0; i < ms.head.count; i++)
		if (strcmp(ms.names[i].name, name) == 0) {
			*m = i;
			return VIGIL_OK;
		}
	return VIGIL_ENOENT;
}

/*
 * A consistent snapshot of provider idx: its slot and stats, retried if
 * the slot changed (retired, reused) while the stats were read.
 */
static inline int
vigil_snapshot(const struct vigil_client *c, uint32_t idx,
    struct vigil_provider *out)
{
	struct vigil_provider_info again;
	unsigned tries;
	int rc;

	memset(&again, 0, sizeof(again));	/* quiets -Wmaybe-uninitialized */
	for (tries = 0; tries < VIGIL_READ_RETRIES; tries++) {
		rc = vigil_provider_info(c, idx, &out->info);
		if (rc != VIGIL_OK)
			return rc;
		rc = vigil_provider_stats(c, idx, &out->stats);
		if (rc != VIGIL_OK)
			return rc;
		rc = vigil_provider_info(c, idx, &again);
		if (rc != VIGIL_OK)
			return rc;
		if (again.generation == out->info.generation &&
		    strcmp(again.name, out->info.name) == 0) {
			out->idx = idx;
			return VIGIL_OK;
		}
	}
	return VIGIL_EBUSY;
}

/* Snapshot the slots in use whose VIGIL_PF_CANARY is canary (0 or 1). */
static inline int
vigil__snapshot_some(const struct vigil_client *c, struct vigil_provider *out,
    size_t max, size_t *n, int canary)
{
	uint32_t i;
	int rc;

	*n = 0;
	for (i = 0; i < c->lay.provider_cap && *n < max; i++) {
		rc = vigil_snapshot(c, i, &out[*n]);
		if (rc == VIGIL_ENOENT)
			continue;
		if (rc != VIGIL_OK)
			return rc;
		if (((out[*n].info.flags & VIGIL_PF_CANARY) != 0) != canary)
			continue;
		(*n)++;
	}
	return VIGIL_OK;
}

/*
 * Snapshot every provider in use into out[0..max).  *n receives how many.
 * A slot that stays busy for every retry fails the call with VIGIL_EBUSY.
 * The vantage self-check's canaries (VIGIL_PF_CANARY) are not providers:
 * they are left out (vigil_snapshot_canaries reads them).
 */
static inline int
vigil_snapshot_all(const struct vigil_client *c, struct vigil_provider *out,
    size_t max, size_t *n)
{
	return vigil__snapshot_some(c, out, max, n, 0);
}

/* Snapshot every canary slot (VIGIL_PF_CANARY), as vigil_snapshot_all. */
static inline int
vigil_snapshot_canaries(const struct vigil_client *c,
    struct vigil_provider *out, size_t max, size_t *n)
{
	return vigil__snapshot_some(c, out, max, n, 1);
}

/* Find a provider by name; *idx receives its slot. */
static inline int
vigil_find(const struct vigil_client *c, const char *name, uint32_t *idx)
{
	struct vigil_provider_info info;
	uint32_t i;
	int rc;

	for (i = 0; i < c->lay.provider_cap; i++) {
		rc = vigil_provider_info(c, i, &info);
		if (rc == VIGIL_ENOENT)
			continue;
		if (rc != VIGIL_OK)
			return rc;
		if (strncmp(info.name, name, VIGIL_NAME_MAX) == 0) {
			*idx = i;
			return VIGIL_OK;
		}
	}
	return VIGIL_ENOENT;
}

/*
 * The routing order: provider indexes, best first, open circuits left
 * out.  *n receives how many were written to idx[0..max).
 */
static inline int
vigil_route_order(const struct vigil_client *c, uint32_t *idx, size_t max,
    size_t *n)
{
	const struct vigil_seqblock *b = (const struct vigil_seqblock *)
	    (const void *)(c->base + c->lay.route_off);
	size_t words = (sizeof(struct vigil_route_head) +
	    ((size_t)c->lay.provider_cap * 4 + 7) / 8 * 8) / 8;
	uint64_t buf[2 + VIGIL_MAX_PROVIDERS / 2];
	struct vigil_route_head rh;
	size_t i, count;
	int rc;

	*n = 0;
	if (c->lay.provider_cap == 0)
		return VIGIL_ERANGE;		/* not attached */
	rc = vigil_seq_read(b, buf, words);
	if (rc != VIGIL_OK)
		return rc;
	memcpy(&rh, buf, sizeof(rh));
	count = rh.count;
	if (count > c->lay.provider_cap)
		return VIGIL_ECORRUPT;
	/* The indexes come from the segment: each is checked before a
	 * caller uses it to index its own arrays. */
	for (i = 0; i < count && i < max; i++) {
		memcpy(&idx[i], (const unsigned char *)buf + sizeof(rh) + i * 4,
		    4);
		if (idx[i] >= c->lay.provider_cap)
			return VIGIL_ECORRUPT;
	}
	*n = i;
	return VIGIL_OK;
}

/*
 * Read up to max new samples of provider idx from the cursor's position.
 * A fresh cursor ({0, 0}) starts at the oldest sample still held; use
 * vigil_samples_tail() to start at the newest.  Returns the count read.
 */
static inline size_t
vigil_read_samples(const struct vigil_client *c, uint32_t idx,
    struct vigil_cursor *cur, struct vigil_sample *out, size_t max)
{
	const struct vigil_ring_ctl *r;
	size_t n = 0;

	if (idx >= c->lay.provider_cap)
		return 0;
	r = vigil__sample_ring(c, idx);
	while (n < max && vigil_ring_next(r, (const unsigned char *)(r + 1),
	    c->lay.sample_cap, c->lay.sample_entry, cur, &out[n],
	    VIGIL_WORDS(struct vigil_sample)))
		n++;
	return n;
}

/* Position a cursor so that it reads the last `back` samples of idx. */
static inline void
vigil_samples_tail(const struct vigil_client *c, uint32_t idx,
    struct vigil_cursor *cur, uint64_t back)
{
	uint64_t head = 0;
	if (idx < c->lay.provider_cap)
		head = VIGIL_LOAD_ACQ(&vigil__sample_ring(c, idx)->head);
	cur->next = head > back ? head - back : 0;
	cur->lost = 0;
}

/* Nanoseconds from provider idx's prober's last beat to now
 * (UINT64_MAX: never, or idx out of range). */
static inline uint64_t
vigil_prober_age_at(const struct vigil_client *c, uint32_t idx, uint64_t now)
{
	uint64_t b;
	if (idx >= c->lay.provider_cap)
		return UINT64_MAX;
	b = VIGIL_LOAD_ACQ(&vigil__sample_ring(c, idx)->beat_ns);
	if (b == 0)
		return UINT64_MAX;
	return now > b ? now - b : 0;
}

/* Nanoseconds since provider idx's prober last beat (UINT64_MAX: never). */
static inline uint64_t
vigil_prober_age_ns(const struct vigil_client *c, uint32_t idx)
{
	return vigil_prober_age_at(c, idx, vigil_now_mono_ns());
}

/*
 * A ring keeps its capacity (a power of two) but shows readers only the
 * newest `keep` records (history_retention, alert_retention): a cursor
 * further back moves up to them, the records it skips counted as lost.
 */
static inline void
vigil__keep(const struct vigil_ring_ctl *r, struct vigil_cursor *cur,
    uint32_t keep)
{
	uint64_t head = VIGIL_LOAD_ACQ(&r->head);

	if (head > cur->next && head - cur->next > keep) {
		cur->lost += head - cur->next - keep;
		cur->next = head - keep;
	}
}

/* Read up to max new history records of provider idx. */
static inline size_t
vigil_read_history(const struct vigil_client *c, uint32_t idx,
    struct vigil_cursor *cur, struct vigil_history *out, size_t max)
{
	const struct vigil_ring_ctl *r;
	size_t n = 0;

	if (idx >= c->lay.provider_cap)
		return 0;
	r = vigil__history_ring(c, idx);
	vigil__keep(r, cur, c->lay.history_keep);
	while (n < max && vigil_ring_next(r, (const unsigned char *)(r + 1),
	    c->lay.history_cap, c->lay.history_entry, cur, &out[n],
	    VIGIL_WORDS(struct vigil_history)))
		n++;
	return n;
}

/* Read up to max new alerts. */
static inline size_t
vigil_read_alerts(const struct vigil_client *c, struct vigil_cursor *cur,
    struct vigil_alert *out, size_t max)
{
	const struct vigil_ring_ctl *r = vigil__alert_ring(c);
	size_t n = 0;

	if (c->lay.alert_cap == 0)
		return 0;			/* not attached */
	vigil__keep(r, cur, c->lay.alert_keep);
	while (n < max && vigil_ring_next(r, (const unsigned char *)(r + 1),
	    c->lay.alert_cap, c->lay.alert_entry, cur, &out[n],
	    VIGIL_WORDS(struct vigil_alert))) {
		out[n].provider[VIGIL_NAME_MAX - 1] = '\0';
		n++;
	}
	return n;
}

/* ------------------------------------------------------------------ */
/* The read model                                                       */
/* ------------------------------------------------------------------ */

/*
 * What a provider's data means to a reader: its effective status, whether
 * it is stale, and the overall status of all of them.  vigil-api, vigild's
 * control replies (and so vigilctl, which prints what vigild says) and any
 * local service take these from here and nowhere else, so that no two of
 * them can disagree about the same segment (docs/segment.md, "The read
 * model").  Each takes now from vigil_now_mono_ns(), once per reply.
 *
 * The route order is the aggregator's: read it with vigil_route_order()
 * or each provider's stats.route_rank, never rank providers again.
 */

/* The aggregator's beat older than this: everything it wrote is stale. */
#define VIGIL_AGG_STALE_NS		UINT64_C(5000000000)	/* 5 s */
/* A prober's beat older than this many of its intervals: stale. */
#define VIGIL_PROBER_STALE_INTERVALS	3u

/*
 * The vantage self-check's verdict (docs/aggregation.md, "Vantage"): 1
 * when the aggregator decided that failures are ours (the canaries and
 * most providers fail on network outcomes together), else 0 (ok, or no
 * canary configured).  *since (may be NULL) receives when it took that
 * value, wall ns (0: never changed).  A stale aggregator's word is old:
 * check vigil_aggregator_stale() too.
 */
static inline int
vigil_vantage(const struct vigil_client *c, uint64_t *since)
{
	uint64_t st;

	if (since != NULL)
		*since = 0;
	if (c->hdr == NULL)
		return 0;
	st = VIGIL_LOAD_ACQ(&c->hdr->vantage_state);
	if (since != NULL)
		*since = VIGIL_LOAD_RLX(&c->hdr->vantage_since_wall_ns);
	return st == 1;
}

/* 1 when the aggregator's beat is older than VIGIL_AGG_STALE_NS at now,
 * or it never beat. */
static inline int
vigil_aggregator_stale(const struct vigil_client *c, uint64_t now)
{
	return vigil_aggregator_age_at(c, now) > VIGIL_AGG_STALE_NS;
}

/*
 * 1 when p's data may be old because a writer stopped: when the aggregator
 * is stale (vigil_aggregator_stale: every provider is, paused ones too, so
 * that stale data is never shown as fresh), or when p is enabled, not
 * paused, and its prober's beat is older than VIGIL_PROBER_STALE_INTERVALS
 * of its intervals (or never came; an interval of 0 counts as
 * VIGIL_AGG_STALE_NS).  A paused or disabled provider's prober is not
 * expected to produce data, so its beat does not count.
 */
static inline int
vigil_provider_stale(const struct vigil_client *c,
    const struct vigil_provider *p, uint64_t now)
{
	uint64_t lim;

	if (vigil_aggregator_stale(c, now))
		return 1;
	if (!(p->info.flags & VIGIL_PF_ENABLED) ||
	    (p->info.flags & VIGIL_PF_PAUSED))
		return 0;
	lim = (uint64_t)VIGIL_PROBER_STALE_INTERVALS * p->info.interval_ms *
	    UINT64_C(1000000);
	if (lim == 0)
		lim = VIGIL_AGG_STALE_NS;
	return vigil_prober_age_at(c, p->idx, now) > lim;
}

/*
 * The status to show for p (enum vigil_status):
 *   - paused when the directory says so (the operator's word takes effect
 *     at once, before the aggregator's next cycle writes it);
 *   - unknown when the aggregator never wrote p's stats, when its stats
 *     still say paused after a resume (no fresh status yet), or when the
 *     stored value is out of range;
 *   - else the status the aggregator stored.
 * Staleness does not change it: a stale provider keeps its last status and
 * is flagged by vigil_provider_stale().
 */
static inline unsigned
vigil_effective_status(const struct vigil_provider *p)
{
	unsigned st = p->stats.status;

	if (p->info.flags & VIGIL_PF_PAUSED)
		return VIGIL_ST_PAUSED;
	if (p->stats.updated_wall_ns == 0 || st >= VIGIL_ST_COUNT ||
	    st == VIGIL_ST_PAUSED)
		return VIGIL_ST_UNKNOWN;
	return st;
}

/*
 * Severity of a status for "worst of": healthy 0 < paused 1 < unknown 2 <
 * throttled 3 < degraded 4 < misconfigured 5 < exhausted 6 < unhealthy 7
 * (an out-of-range value counts as unknown).  A paused provider was
 * switched off on purpose: it shows in the overall status, but never above
 * a provider we know nothing about.  Throttled comes back by itself, so it
 * ranks under degraded; exhausted needs a human, so it ranks over
 * misconfigured, under a provider that is down.
 */
static inline int
vigil_status_severity(unsigned st)
{
	switch (st) {
	case VIGIL_ST_HEALTHY:		return 0;
	case VIGIL_ST_PAUSED:		return 1;
	case VIGIL_ST_THROTTLED:	return 3;
	case VIGIL_ST_DEGRADED:		return 4;
	case VIGIL_ST_MISCONFIGURED:	return 5;
	case VIGIL_ST_EXHAUSTED:	return 6;
	case VIGIL_ST_UNHEALTHY:	return 7;
	default:			return 2;	/* unknown */
	}
}

/*
 * May a router send p a request at wall-clock time now_wall (ns)?  The
 * aggregator's word (stats.usable), except that a throttled provider is
 * usable again from usable_at on, before the aggregator's next cycle says
 * so, and a provider the aggregator never judged or that is paused is not
 * (docs/aggregation.md, "Usable").  A router acts on it as: usable, send;
 * not usable with usable_at, wait until then or fail over; needs_human,
 * fail over and page.
 */
static inline int
vigil_provider_usable(const struct vigil_provider *p, uint64_t now_wall)
{
	unsigned st = vigil_effective_status(p);

	if (st == VIGIL_ST_PAUSED || st == VIGIL_ST_UNKNOWN)
		return 0;
	if (p->stats.usable)
		return 1;
	return st == VIGIL_ST_THROTTLED && p->stats.usable_at_wall_ns != 0 &&
	    now_wall >= p->stats.usable_at_wall_ns;
}

/*
 * A model's status to show (enum vigil_status): unknown when the
 * aggregator never wrote its block or the value is out of range, else
 * what it stored.  A paused provider shows paused itself; its models
 * keep their last judgement, as a stale provider keeps its status.
 */
static inline unsigned
vigil_model_effective_status(const struct vigil_model_stats *s)
{
	if (s->updated_wall_ns == 0 || s->status >= VIGIL_ST_COUNT)
		return VIGIL_ST_UNKNOWN;
	return s->status;
}

/* The aggregator's word on sending this model a request now (a router
 * needs the provider usable too); never for a model of unknown status. */
static inline int
vigil_model_usable(const struct vigil_model_stats *s)
{
	return s->usable != 0 &&
	    vigil_model_effective_status(s) != VIGIL_ST_UNKNOWN;
}

/* Was the model in the provider's models list at its last check: 1, 0,
 * or -1 not known (no list check yet, or a block never written, whose
 * zeroed field would read "no"). */
static inline int
vigil_model_listed(const struct vigil_model_stats *s)
{
	if (s->updated_wall_ns == 0 || s->listed > 1)
		return -1;
	return s->listed;
}

/* 1 once a generation check of the model was counted: before that its
 * last_outcome is a zeroed field, not an "ok". */
static inline int
vigil_model_checked(const struct vigil_model_stats *s)
{
	return s->checks_total > 0 && s->last_wall_ns != 0;
}

/*
 * Tokens the provider's generation checks used in the UTC day of
 * wall_ns: the aggregator's count, 0 when it is of an earlier day (no
 * check since midnight UTC has reset it yet).
 */
static inline uint64_t
vigil_probe_tokens_today(const struct vigil_stats *st, uint64_t wall_ns)
{
	if (st->probe_tokens_day != wall_ns /
	    (UINT64_C(86400) * UINT64_C(1000000000)))
		return 0;
	return st->probe_tokens_today;
}

/*
 * The overall status of the n providers of snap at now: the worst
 * vigil_effective_status() by vigil_status_severity(), so one healthy and
 * one paused provider are "paused", all paused are "paused"; unknown when
 * n is 0 or the aggregator is stale (vigil_aggregator_stale).  O(n).
 */
static inline unsigned
vigil_overall_status(const struct vigil_client *c,
    const struct vigil_provider *snap, size_t n, uint64_t now)
{
	unsigned worst = VIGIL_ST_HEALTHY, st;
	size_t i;

	if (n == 0 || vigil_aggregator_stale(c, now))
		return VIGIL_ST_UNKNOWN;
	for (i = 0; i < n; i++) {
		st = vigil_effective_status(&snap[i]);
		if (vigil_status_severity(st) > vigil_status_severity(worst))
			worst = st;
	}
	return worst;
}

/* ------------------------------------------------------------------ */
/* Reporter (issue 18)                                                  */
/* ------------------------------------------------------------------ */

/*
 * A local service (a router) reports the outcome of each real request it
 * sent a provider; the aggregator folds the reports into the same
 * windows, status, circuit and alerts as the probes (docs/segment.md,
 * "The reports segment"; docs/aggregation.md, "Traffic").
 *
 * Reports go through a second shared-memory segment, the main segment's
 * name + VIGIL_REPORTS_SUFFIX ("/vigil.reports"), created by vigild,
 * mode 0660, group report_group: the main segment stays read-only to
 * clients.  It holds slot_cap client slots; a client claims a free one at
 * open (compare-and-swap on its owner word) and the aggregator reclaims
 * the slots of clients that died.  Each slot is a bounded ring of
 * ring_cap entries that the threads of one process share:
 *
 *   writer: n = reserve; entry n & (cap - 1); lap = n / cap; if the
 *           entry's seq is 3 lap (free), take n (CAS reserve n -> n + 1),
 *           seq 3 lap -> 3 lap + 1 (CAS: claim), the record (relaxed),
 *           3 lap + 1 -> 3 lap + 2 (CAS, release: publish).  An entry
 *           still holding an earlier lap's record is a full ring, and a
 *           failed claim or publish a position the reader gave up on:
 *           the record is dropped and counted in the slot's `full`.
 *   reader: the aggregator, at its private position p: seq 3 lap + 2,
 *           copy, then seq 3 (lap + 1) (the entry is free for the next
 *           lap).  A position left unpublished too long (a writer that
 *           died mid-record, or dropped) is skipped the same way.
 *
 * vigil_report() never blocks, never allocates and makes no system call.
 * Everything in the segment is untrusted: the client validates the
 * layout from a private copy, as vigil_open() does; the aggregator checks
 * every record (a client may write anything anywhere in it).
 */

#define VIGIL_REPORTS_MAGIC	UINT64_C(0x315045524c474956)	/* "VIGLREP1" */
#define VIGIL_REPORTS_ABI	1u
#define VIGIL_REPORTS_SUFFIX	".reports"
#define VIGIL_REPORTS_MAX_SLOTS	4096u
#define VIGIL_REPORTS_MAX_RING	(1u << 20)
/* A slot's owner word after its client closed it (or died), until the
 * aggregator has cleaned its ring: no client claims it meanwhile. */
#define VIGIL_REPORTS_RELEASED	UINT64_C(0xfffffffffffffffe)

/*
 * One outcome.  A zero-filled record is valid (provider 0, model 0, ok,
 * nothing measured): a field added later takes 0 as "not said".
 */
struct vigil_report_rec {
	int32_t provider;		/* vigil_reporter_provider() */
	int32_t model;			/* vigil_reporter_model(); -1: none */
	uint32_t latency_us;		/* the whole request */
	uint32_t ttft_us;		/* first token; 0: not known */
	uint32_t tokens_in;
	uint32_t tokens_out;
	uint16_t http_status;		/* 0: no response */
	uint8_t outcome;		/* enum vigil_outcome */
	uint8_t flags;			/* 0: reserved */
	uint32_t reserved;		/* 0 */
};

/* The reports segment's header: written once by vigild, magic last. */
struct vigil_reports_header {
	uint64_t magic;			/* VIGIL_REPORTS_MAGIC */
	uint32_t abi_major;		/* VIGIL_REPORTS_ABI */
	uint32_t abi_minor;
	uint64_t size;			/* whole segment, bytes */
	uint64_t created_wall_ns;
	uint32_t slot_cap;		/* client slots */
	uint32_t ring_cap;		/* entries per slot, a power of 2 */
	uint64_t slots_off;
	uint64_t slot_stride;
	uint32_t entry_size;		/* bytes per entry, seq included */
	uint32_t rec_size;		/* sizeof(struct vigil_report_rec) */
	uint32_t supervisor_pid;
	uint32_t pad;
	uint64_t reserved[7];		/* 128 bytes in all */
};

/* A client slot's control block; its ring's entries follow it. */
struct vigil_report_slot {
	/* Written by the client that owns the slot. */
	VIGIL_A64 owner;		/* 0: free; pid | start << 32;
					   VIGIL_REPORTS_RELEASED */
	VIGIL_A64 reserve;		/* positions handed out */
	VIGIL_A64 full;			/* records dropped: ring full */
	VIGIL_A64 claims;		/* times the slot was claimed */
	uint64_t reserved0[4];
	/* Written by the aggregator, informative only. */
	VIGIL_A64 consumed;		/* its position in the ring */
	VIGIL_A64 freed;		/* times it reclaimed the slot */
	uint64_t reserved1[6];
};

/* A ring entry: the state word, then the record. */
struct vigil_report_entry {
	VIGIL_A64 seq;			/* 3 lap (free), + 1 (being written),
					   + 2 (published) */
	VIGIL_A64 w[4];
};

/* What a reader keeps of the header: a private, validated copy. */
struct vigil_reports_layout {
	uint64_t magic;
	uint64_t size;
	uint64_t slots_off;
	uint64_t slot_stride;
	uint32_t abi_major;
	uint32_t slot_cap;
	uint32_t ring_cap;
	uint32_t entry_size;
	uint32_t rec_size;
	uint32_t pad;
};

VIGIL_STATIC_ASSERT(sizeof(struct vigil_report_rec) == 32, "report layout");
VIGIL_STATIC_ASSERT(sizeof(struct vigil_reports_header) == 128,
    "reports header layout");
VIGIL_STATIC_ASSERT(sizeof(struct vigil_report_slot) == 2 * VIGIL_CACHELINE,
    "report slot layout");
VIGIL_STATIC_ASSERT(sizeof(struct vigil_report_entry) == 40,
    "report entry layout");

#ifdef __cplusplus
#define VIGIL__STORE_RLX(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define VIGIL__STORE_REL(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define VIGIL__FADD_RLX(p, v) __atomic_fetch_add((p), (v), __ATOMIC_RELAXED)
#define VIGIL__CAS(p, e, d, o) __atomic_compare_exchange_n((p), (e), (d), \
	0, (o), __ATOMIC_RELAXED)
#define VIGIL__ACQ __ATOMIC_ACQUIRE
#define VIGIL__REL __ATOMIC_RELEASE
#define VIGIL__ACQREL __ATOMIC_ACQ_REL
#else
#define VIGIL__STORE_RLX(p, v) \
	atomic_store_explicit((p), (v), memory_order_relaxed)
#define VIGIL__STORE_REL(p, v) \
	atomic_store_explicit((p), (v), memory_order_release)
#define VIGIL__FADD_RLX(p, v) \
	atomic_fetch_add_explicit((p), (v), memory_order_relaxed)
#define VIGIL__CAS(p, e, d, o) atomic_compare_exchange_strong_explicit((p), \
	(e), (d), (o), memory_order_relaxed)
#define VIGIL__ACQ memory_order_acquire
#define VIGIL__REL memory_order_release
#define VIGIL__ACQREL memory_order_acq_rel
#endif

/*
 * Copy the layout of the reports segment mapped at base (`mapped` bytes)
 * into out and validate the copy: magic, ABI, and every slot and entry
 * inside the mapping.  VIGIL_OK, or a VIGIL_E* code with err saying why
 * (out zeroed).
 */
static inline int
vigil_reports_layout_read(const void *base, size_t mapped,
    struct vigil_reports_layout *out, char *err, size_t errlen)
{
	const struct vigil_reports_header *h =
	    (const struct vigil_reports_header *)base;
	const char *why = NULL;
	uint64_t need;
	int rc = VIGIL_ECORRUPT;

	memset(out, 0, sizeof(*out));
	if (mapped < sizeof(*h)) {
		why = "reports segment smaller than its header";
		goto bad;
	}
	memcpy(&out->magic, &h->magic, 8);
	memcpy(&out->size, &h->size, 8);
	memcpy(&out->slots_off, &h->slots_off, 8);
	memcpy(&out->slot_stride, &h->slot_stride, 8);
	memcpy(&out->abi_major, &h->abi_major, 4);
	memcpy(&out->slot_cap, &h->slot_cap, 4);
	memcpy(&out->ring_cap, &h->ring_cap, 4);
	memcpy(&out->entry_size, &h->entry_size, 4);
	memcpy(&out->rec_size, &h->rec_size, 4);
	if (out->magic != VIGIL_REPORTS_MAGIC) {
		rc = VIGIL_EMAGIC;
		why = "not a vigil reports segment (bad magic)";
	} else if (out->abi_major != VIGIL_REPORTS_ABI) {
		rc = VIGIL_EABI;
		why = "reports segment ABI this client does not read";
	} else if (out->size > mapped || out->size < sizeof(*h))
		why = "reports segment size does not match its mapping";
	else if (out->slot_cap == 0 || out->slot_cap > VIGIL_REPORTS_MAX_SLOTS)
		why = "report slot count out of range";
	else if (!vigil__pow2(out->ring_cap) || out->ring_cap < 2 ||
	    out->ring_cap > VIGIL_REPORTS_MAX_RING)
		why = "report ring capacity not a power of 2 in range";
	else if (out->rec_size != sizeof(struct vigil_report_rec) ||
	    out->entry_size < sizeof(struct vigil_report_entry) ||
	    out->entry_size % 8 != 0 || out->entry_size > 4096)
		why = "report entry size unusable";
	else {
		need = sizeof(struct vigil_report_slot) +
		    (uint64_t)out->ring_cap * out->entry_size;
		if (out->slot_stride < need || out->slots_off < sizeof(*h) ||
		    !vigil__region_ok(out->size, out->slots_off,
		    out->slot_cap, out->slot_stride))
			why = "report slots outside the reports segment";
		else
			return VIGIL_OK;
	}
bad:
	if (err != NULL)
		snprintf(err, errlen, "%s", why);
	memset(out, 0, sizeof(*out));
	return rc;
}

/* Slot i of a validated layout (i < slot_cap). */
static inline struct vigil_report_slot *
vigil_reports_slot(unsigned char *base, const struct vigil_reports_layout *l,
    uint32_t i)
{
	return (struct vigil_report_slot *)(void *)(base + l->slots_off +
	    (size_t)i * l->slot_stride);
}

/* Entry e of slot s (e < ring_cap). */
static inline struct vigil_report_entry *
vigil_reports_entry(struct vigil_report_slot *s,
    const struct vigil_reports_layout *l, uint32_t e)
{
	return (struct vigil_report_entry *)(void *)((unsigned char *)(s + 1) +
	    (size_t)e * l->entry_size);
}

/*
 * A process's start time (clock ticks after boot, field 22 of
 * /proc/PID/stat), low 32 bits; 0 when not known.  With the pid it names
 * a process across pid reuse: the owner word of a slot.  Not on the hot
 * path (open, and the aggregator's reclaim).
 */
static inline uint32_t
vigil__proc_start(long pid)
{
	char path[48], buf[1024], *p;
	unsigned long long v = 0;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: after the
	 * last ')' come fields 3, 4, ... */
	if ((p = strrchr(buf, ')')) == NULL)
		return 0;
	for (field = 2; field < 22 && *p != '\0'; p++)
		if (*p == ' ')
			field++;
	while (*p >= '0' && *p <= '9')
		v = v * 10 + (unsigned long long)(*p++ - '0');
	return field == 22 ? (uint32_t)v : 0;
}

/* A reporter: one claimed slot of the reports segment, and a read-only
 * view of the main segment for the names. */
struct vigil_reporter {
	struct vigil_client cli;
	unsigned char *base;		/* the reports segment, read-write */
	size_t size;
	struct vigil_reports_layout lay;
	struct vigil_report_slot *slot;
	uint64_t owner;
	uint64_t mask;			/* ring_cap - 1 */
	unsigned shift;			/* log2(ring_cap) */
	uint32_t slot_idx;
};

/* snprintf without -Wformat-truncation's guesses: cut is fine here. */
static inline void
vigil__say(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

/* open(2)'s EACCES on the reports segment, said with the group to join. */
static inline void
vigil__reporter_eacces(const char *rname, char *err, size_t errlen)
{
	char path[300];
	struct stat st;
	struct group *gr;

	snprintf(path, sizeof(path), "/dev/shm%s", rname);
	if (stat(path, &st) == 0 && (gr = getgrgid(st.st_gid)) != NULL)
		vigil__say(err, errlen, "%s: permission denied: only members of "
		    "group %s (report_group) may report", rname, gr->gr_name);
	else
		vigil__say(err, errlen, "%s: permission denied: only members of "
		    "vigil's report_group may report", rname);
}

/* Claim a free slot for this process; 0 or -1 (all taken). */
static inline int
vigil__reporter_claim(struct vigil_reporter *r)
{
	uint64_t expect;
	uint32_t i, s;

	for (i = 0; i < r->lay.slot_cap; i++) {
		struct vigil_report_slot *sl = vigil_reports_slot(r->base,
		    &r->lay, i);

		expect = 0;
		if (!VIGIL__CAS(&sl->owner, &expect, r->owner, VIGIL__ACQREL))
			continue;
		r->slot = sl;
		r->slot_idx = i;
		(void)VIGIL__FADD_RLX(&sl->claims, 1);
		for (s = 0; (UINT64_C(1) << s) < r->lay.ring_cap; s++)
			;
		r->shift = s;
		r->mask = r->lay.ring_cap - 1;
		return 0;
	}
	return -1;
}

/*
 * Open a reporter on the segment shm_name (NULL: "/vigil"): maps the
 * main segment read-only (provider and model names) and the reports
 * segment read-write, and claims a slot.  NULL on failure, err says why
 * (a process outside report_group is told which group to join).  Not
 * for the hot path: it opens files and allocates.
 */
static inline struct vigil_reporter *
vigil_reporter_open(const char *shm_name, char *err, size_t errlen)
{
	struct vigil_reporter *r;
	char rname[256], why[128];
	struct stat st;
	void *p;
	int fd, rc;

	if (shm_name == NULL)
		shm_name = VIGIL_DEFAULT_SHM;
	if (snprintf(rname, sizeof(rname), "%s%s", shm_name,
	    VIGIL_REPORTS_SUFFIX) >= (int)sizeof(rname)) {
		vigil__say(err, errlen, "segment name too long");
		return NULL;
	}
	if ((r = (struct vigil_reporter *)calloc(1, sizeof(*r))) == NULL) {
		vigil__say(err, errlen, "out of memory");
		return NULL;
	}
	/* The reports segment first: who may report is its question. */
	if ((fd = shm_open(rname, O_RDWR | O_CLOEXEC, 0)) == -1) {
		if (errno == EACCES)
			vigil__reporter_eacces(rname, err, errlen);
		else
			vigil__say(err, errlen, "%s: %s", rname, strerror(errno));
		free(r);
		return NULL;
	}
	if (fstat(fd, &st) == -1 || st.st_size <= 0) {
		vigil__say(err, errlen, "%s: %s", rname, st.st_size <= 0 ?
		    "empty" : strerror(errno));
		close(fd);
		goto fail;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE,
	    MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		vigil__say(err, errlen, "%s: mmap: %s", rname, strerror(errno));
		goto fail;
	}
	r->base = (unsigned char *)p;
	r->size = (size_t)st.st_size;
	if (vigil_reports_layout_read(p, r->size, &r->lay, why,
	    sizeof(why)) != VIGIL_OK) {
		vigil__say(err, errlen, "%s: %s", rname, why);
		goto fail;
	}
	if ((rc = vigil_open(&r->cli, shm_name)) != VIGIL_OK) {
		vigil__say(err, errlen, "%s", r->cli.err);
		goto fail;
	}
	r->owner = (uint64_t)(uint32_t)getpid() |
	    (uint64_t)vigil__proc_start((long)getpid()) << 32;
	if (vigil__reporter_claim(r) == -1) {
		vigil__say(err, errlen, "%s: all %u report slots are taken",
		    rname, r->lay.slot_cap);
		goto fail;
	}
	return r;
fail:
	if (r->base != NULL)
		munmap(r->base, r->size);
	vigil_close(&r->cli);
	free(r);
	return NULL;
}

/*
 * Release the slot (if still ours) and unmap.  NULL is fine.  The slot
 * is free again once the aggregator has cleaned it (within a tick).
 */
static inline void
vigil_reporter_close(struct vigil_reporter *r)
{
	uint64_t expect;

	if (r == NULL)
		return;
	if (r->slot != NULL) {
		expect = r->owner;
		(void)VIGIL__CAS(&r->slot->owner, &expect,
		    VIGIL_REPORTS_RELEASED, VIGIL__REL);
	}
	if (r->base != NULL)
		munmap(r->base, r->size);
	vigil_close(&r->cli);
	free(r);
}

/* The index of provider `name` for vigil_report_rec.provider, or -1. */
static inline int
vigil_reporter_provider(struct vigil_reporter *r, const char *name)
{
	uint32_t idx;

	if (r == NULL || name == NULL ||
	    vigil_find(&r->cli, name, &idx) != VIGIL_OK)
		return -1;
	return (int)idx;
}

/* The index of `model` of provider `provider` for vigil_report_rec.model,
 * or -1 (none: the report is the provider's). */
static inline int
vigil_reporter_model(struct vigil_reporter *r, int provider,
    const char *model)
{
	uint32_t m;

	if (r == NULL || model == NULL || provider < 0 ||
	    vigil_find_model(&r->cli, (uint32_t)provider, model, &m) !=
	    VIGIL_OK)
		return -1;
	return (int)m;
}

/*
 * Report one outcome: 0, or -1 when the record was dropped (the ring is
 * full: the aggregator is behind or gone).  Safe from any number of
 * threads of the process; never blocks, never allocates, no system call:
 * a compare-and-swap on the reserve word (retried while other threads
 * win it, at most VIGIL__REPORT_TRIES times), two on the entry, four
 * stores.  A position is taken only when its entry is free, so a full
 * ring leaves no holes for the reader to wait out.
 */
#define VIGIL__REPORT_TRIES	64

static inline int
vigil_report(struct vigil_reporter *r, const struct vigil_report_rec *rec)
{
	struct vigil_report_slot *sl = r->slot;
	struct vigil_report_entry *e;
	uint64_t n, want, s, expect, w[4];
	unsigned tries;

	n = VIGIL_LOAD_RLX(&sl->reserve);
	for (tries = 0; ; tries++) {
		if (tries == VIGIL__REPORT_TRIES)
			goto full;	/* a slot scribbled over: never spin */
		e = vigil_reports_entry(sl, &r->lay, (uint32_t)(n & r->mask));
		want = 3 * (n >> r->shift);
		s = VIGIL_LOAD_ACQ(&e->seq);
		if (s == want) {
			/* Free for position n: take n if no one has. */
			if (VIGIL__CAS(&sl->reserve, &n, n + 1, VIGIL__ACQ))
				break;
			continue;	/* n now holds the new reserve */
		}
		if (s < want)
			goto full;	/* an earlier lap's record is unread */
		n = VIGIL_LOAD_RLX(&sl->reserve);
	}
	expect = want;
	/* Acquire: the record's stores stay after the claim.  A failure:
	 * the reader gave the position up (we were too slow). */
	if (!VIGIL__CAS(&e->seq, &expect, want + 1, VIGIL__ACQ))
		goto full;
	memcpy(w, rec, sizeof(w));
	VIGIL__STORE_RLX(&e->w[0], w[0]);
	VIGIL__STORE_RLX(&e->w[1], w[1]);
	VIGIL__STORE_RLX(&e->w[2], w[2]);
	VIGIL__STORE_RLX(&e->w[3], w[3]);
	expect = want + 1;
	/* Release: the record is visible before the state says so. */
	if (!VIGIL__CAS(&e->seq, &expect, want + 2, VIGIL__REL))
		goto full;
	return 0;
full:
	(void)VIGIL__FADD_RLX(&sl->full, 1);
	return -1;
}

/*
 * Scheduled checks provider idx's prober skipped because traffic was
 * reported within its interval (probe_when_idle): word
 * VIGIL_RING_SKIPPED of its sample ring's control block, a lone aligned
 * word its prober alone stores (like a beat).  0 when not attached.
 */
#define VIGIL_RING_SKIPPED	0	/* vigil_ring_ctl.reserved[] index */

static inline uint64_t
vigil_probes_skipped(const struct vigil_client *c, uint32_t idx)
{
	if (idx >= c->lay.provider_cap)
		return 0;
	return *(const volatile uint64_t *)&vigil__sample_ring(c,
	    idx)->reserved[VIGIL_RING_SKIPPED];
}

/* Records this reporter dropped (full ring) since the slot was made. */
static inline uint64_t
vigil_reporter_dropped(const struct vigil_reporter *r)
{
	return VIGIL_LOAD_RLX(&r->slot->full);
}

#ifdef __cplusplus
}
#endif

#endif /* VIGIL_VIGIL_H */
