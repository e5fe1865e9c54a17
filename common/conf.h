/*
 * conf.h - vigil.conf: INI via libinih, environment overrides, validation.
 *
 * See docs/vigil.conf.5 for every key.  conf_load() parses into a fresh
 * struct; the caller swaps it in only on success (a reload that fails
 * leaves the running configuration alone).  Library code: never logs.
 */
#ifndef VIGIL_CONF_H
#define VIGIL_CONF_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include <vigil/vigil.h>

#define CONF_URL_MAX	512
#define CONF_ERR_MAX	512
#define CONF_CANARY_MAX	8	/* canary URLs at most */
#define CONF_CANARY_LIST 2048	/* the canary list's text */
#define CONF_SECRET_MAX	4096	/* conf_read_secret buffer, NUL included */

struct conf_provider {
	char name[VIGIL_NAME_MAX];
	int kind;			/* enum vigil_kind */
	char base_url[CONF_URL_MAX];
	char host[VIGIL_HOST_MAX];	/* from base_url, for the directory */
	char api_key_file[PATH_MAX];	/* at most one of these three */
	char api_key_env[128];
	char api_key_credential[128];	/* systemd LoadCredential= name */
	char check_path[256];		/* override of the kind's check path */
	char ca_file[PATH_MAX];		/* extra CA bundle (tests: self-signed) */
	char gen_model[64];		/* generation check model, "" = off */
	uint32_t gen_interval_ms;	/* generation check interval */
	char models[1024];		/* "a, b": settings_models() splits */
	uint32_t gen_budget;		/* generation tokens a UTC day */
	char gen_body[PATH_MAX];	/* the generation request's JSON */
	char gen_prompt[256];		/* its user message, "" = "ping" */
	char gen_expect[256];		/* ERE the answer must match */
	char status_page[CONF_URL_MAX];	/* Statuspage summary.json, "" none */
	uint32_t status_page_interval_ms; /* 60 s: how often it is polled */
	uint32_t interval_ms;		/* resolved: own value or [vigil]'s */
	uint32_t timeout_ms;
	int enabled;
	int canary;			/* a vantage canary, not a provider
					   (supervisor/canary.c makes these) */
	int line;			/* line of the section header */
};

struct conf {
	char path[PATH_MAX];
	/* [vigil] */
	uint32_t interval_ms;		/* 30 s, 10 s..300 s (or fast probes) */
	uint32_t timeout_ms;		/* 10 s, < interval */
	uint32_t history_retention;	/* 1000 */
	uint32_t alert_retention;	/* 1000 */
	uint32_t sample_capacity;	/* 1024 per ring */
	uint32_t max_providers;		/* 64; segment directory size */
	uint32_t warning_error_rate;	/* percent, 50 */
	uint32_t critical_error_rate;	/* percent, 80 */
	uint32_t latency_warning_ms;	/* 2000, on p95 */
	uint32_t min_samples;		/* 5: before a rate is trusted */
	uint32_t down_after;		/* 4 consecutive failures: unhealthy */
	uint32_t circuit_failures;	/* 5 consecutive failures: open */
	uint32_t circuit_successes;	/* 2 successes in half_open: close */
	uint32_t circuit_cooldown_ms;	/* 30 s first cool-down */
	uint32_t circuit_cooldown_max_ms; /* 10 min cap */
	uint32_t fast_probe_percent;	/* 25: interval % while not closed */
	uint32_t alert_cooldown_ms;	/* 5 min per (provider, kind) */
	uint32_t persist_interval_ms;	/* 60 s snapshot period */
	uint32_t watchdog_ms;		/* 30 s: kill a child not beating; 0 off */
	uint32_t webhook_timeout_ms;	/* 5 s */
	uint32_t webhook_retries;	/* 5 */
	uint32_t retry_after_max_ms;	/* 15 min: cap on a rate-limit wait */
	uint32_t throttled_warning_ms;	/* 5 min throttled: warning */
	uint32_t ratelimit_warning;	/* percent, 10: headroom warning */
	uint32_t max_models;		/* 8 model slots per provider */
	uint32_t vantage_min_share;	/* percent, 50: "ours" above it */
	uint32_t group_min;		/* 2 providers: an incident; 0 off */
	uint32_t group_window_ms;	/* 2 min */
	char canary[CONF_CANARY_LIST];	/* "URL, URL": settings_canaries() */
	uint32_t report_rate_max;	/* 10000 reports a second a client */
	uint32_t traffic_min_clients;	/* 1: clients whose failures count
					   without a probe agreeing */
	int probe_when_idle;		/* yes: no check while traffic flows */
	char listen[128];		/* 127.0.0.1:9470 */
	char control_socket[PATH_MAX];	/* /run/vigil/control.sock */
	char state_dir[PATH_MAX];	/* /var/lib/vigil */
	char shm_name[64];		/* /vigil */
	char webhook_url[CONF_URL_MAX];	/* "" = none; may hold a token */
	char user[64];			/* vigil */
	char admin_group[64];		/* "" = root only */
	char read_group[64];		/* vigil */
	char vantage[64];		/* "" = the hostname, else "default" */
	char report_group[64];		/* vigil-report */
	int prometheus;			/* yes */
	int monitoring_enabled;		/* yes */
	int allow_fast_probes;		/* no */
	int log_level;			/* enum log_level, from log_level = */
	/* [provider "NAME"] */
	struct conf_provider *providers;
	size_t nproviders;
};

/*
 * Parse path into c (zeroed and filled with defaults first), apply the
 * HEALTH_* environment overrides, validate everything.  Returns 0, or -1
 * with err = "FILE:LINE: key: what is wrong" (LINE 0 for errors that are
 * not on one line, such as an environment variable or a missing file).
 */
int	conf_load(struct conf *c, const char *path, char *err, size_t errlen);
void	conf_free(struct conf *c);

/* "30s", "500ms", "2m", "1h", or a bare number of seconds. */
int	conf_parse_duration(const char *s, uint32_t *ms);
/* yes/no/true/false/on/off/1/0. */
int	conf_parse_bool(const char *s, int *v);
/* "openai" -> VIGIL_KIND_OPENAI, -1 if unknown. */
int	conf_kind(const char *s);

const struct conf_provider *conf_find(const struct conf *, const char *);
/* Non-zero if a provider's settings differ in a way its prober must be
 * restarted for. */
int	conf_provider_changed(const struct conf_provider *,
	    const struct conf_provider *);

/*
 * Read a provider's secret into buf (trailing newlines stripped; at most
 * min(len, CONF_SECRET_MAX) - 1 bytes, no control characters, not
 * empty: anything else is an error, never truncated).  From
 * api_key_file (refused if group- or world-readable, or not a regular
 * file), api_key_env, or $CREDENTIALS_DIRECTORY/api_key_credential.  A
 * provider with none of them gets "" and 0.  The error never contains
 * the secret.
 */
int	conf_read_secret(const struct conf_provider *p, char *buf, size_t len,
	    char *err, size_t errlen);
/* conf_read_secret for every enabled provider, the secrets thrown away. */
int	conf_check_secrets(const struct conf *, char *, size_t);

#endif /* VIGIL_CONF_H */
