/*
 * agg.h - vigil-aggregator's settings, shared by its modules.
 *
 * Filled from the `configure` request (docs/internals.md): the [vigil]
 * keys of struct conf, durations with an _ms suffix.  See
 * docs/aggregation.md for what each threshold does.
 */
#ifndef VIGIL_AGG_H
#define VIGIL_AGG_H

#include <limits.h>
#include <stdint.h>

#define AGG_URL_MAX	512

struct agg_conf {
	uint32_t warning_error_rate;	/* percent, 50 */
	uint32_t critical_error_rate;	/* percent, 80 */
	uint32_t latency_warning_ms;	/* 2000, on p95 */
	uint32_t min_samples;		/* 5: before a rate is trusted */
	uint32_t down_after;		/* 4 consecutive failures: unhealthy */
	uint32_t circuit_failures;	/* 5 consecutive failures: open */
	uint32_t circuit_successes;	/* 2 successes in half_open: close */
	uint32_t circuit_cooldown_ms;	/* 30 s first cool-down */
	uint32_t circuit_cooldown_max_ms; /* 10 min cap */
	uint32_t alert_cooldown_ms;	/* 5 min per (provider, kind) */
	uint32_t persist_interval_ms;	/* 60 s */
	uint32_t webhook_timeout_ms;	/* 5 s */
	uint32_t webhook_retries;	/* 5 */
	int monitoring_enabled;		/* no: windows only, no alerts */
	int log_level;
	char state_dir[PATH_MAX];	/* "" = no persistence */
	char webhook_url[AGG_URL_MAX];	/* "" = none; may hold a token */
};

void	agg_conf_defaults(struct agg_conf *);

#endif /* VIGIL_AGG_H */
