/*
 * settings.c - the table of every vigil.conf key, and everything done
 * from it: defaults, parsing a value, packing a child's configure args,
 * decoding and checking them in the child, telling whether a reload
 * changed what a child was told.
 *
 * conf.c reads the file (sections, lines, environment, the rules that
 * only a whole file can break) and parses each value here; vigild packs
 * with settings_pack; each child decodes with settings_decode.  The
 * checks of a value are the same functions on both sides, so what
 * --check-config accepts every child accepts.  Library code: never
 * logs, never exits.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>

#include <vigil/vigil.h>

#include "addr.h"
#include "frame.h"
#include "log.h"
#include "settings.h"

#define SET_SUN_MAX	108	/* sizeof(sun_path) */
#define SET_STR_MAX	4096	/* the longest string buffer, PATH_MAX */

static int	set_num_ok(const struct setting *, uint32_t, char *, size_t);
static int	set_str_ok(const struct setting *, void *, const char *, int,
		    char *, size_t);
static void	set_fmt_val(const struct setting *, uint32_t, char *, size_t);
static int	set_decode_one(const struct setting *, void *,
		    const msgpack_object *, char *, size_t);
static void	set_pack_one(msgpack_packer *, const struct setting *,
		    const void *);
static int	set_same(const struct setting *, const void *, const void *);
static int	set_url(const char *, int, char *, size_t, char *, size_t);
static int	set_check_listen(const char *, char *, size_t);
static int	set_check_abspath(const char *, char *, size_t);
static int	set_check_optpath(const char *, char *, size_t);
static int	set_check_socket(const char *, char *, size_t);
static int	set_check_shm(const char *, char *, size_t);
static int	set_check_opt_url(const char *, char *, size_t);
static int	set_check_optname(const char *, char *, size_t);
static int	set_check_envname(const char *, char *, size_t);
static int	set_check_cred(const char *, char *, size_t);
static int	set_check_httppath(const char *, char *, size_t);
static int	set_check_model(const char *, char *, size_t);
static int	set_check_models(const char *, char *, size_t);
static int	set_check_genbody(const char *, char *, size_t);
static int	set_check_prompt(const char *, char *, size_t);
static int	set_check_regex(const char *, char *, size_t);
static int	set_check_canary(const char *, char *, size_t);
static int	set_check_vantage(const char *, char *, size_t);

#define VOFF(f)	offsetof(struct conf, f)
#define VSZ(f)	sizeof(((struct conf *)0)->f)
#define POFF(f)	offsetof(struct conf_provider, f)
#define PSZ(f)	sizeof(((struct conf_provider *)0)->f)

#define SEC(n)	((n) * 1000u)
#define MIN(n)	((n) * 60000u)
#define HOUR(n)	((n) * 3600000u)

/* A number, a bool or a level: name, field, type, min, max, default,
 * roles, flags. */
#define NUM(n, f, t, lo, hi, d, r, fl) { n, #f, t, VOFF(f), 0, lo, hi, d, \
	NULL, NULL, r, (fl) | SF_QUOTE }
#define STR(n, f, size, d, chk, r, fl) { n, #f, ST_STR, VOFF(f), size, 0, \
	0, 0, d, chk, r, fl }
#define PNUM(n, f, t, lo, hi, d, r, fl) { n, #f, t, POFF(f), 0, lo, hi, d, \
	NULL, NULL, r, (fl) | SF_QUOTE }
#define PSTR(n, f, t, chk, r, fl) { n, #f, t, POFF(f), PSZ(f), 0, 0, 0, \
	"", chk, r, fl }

#define R_AGG_PROBER	(SR_AGG | SR_PROBER)
#define R_ALL		(SR_PROBER | SR_SPAWNER | SR_AGG | SR_API | \
			 SR_STATUSPAGE)

/*
 * [vigil].  Absolute ranges: interval's floor is SETTINGS_FAST_MIN
 * here; the 10 s floor without allow_fast_probes is a rule between keys
 * (conf.c).  The error rates start at 1%: at 0 every provider would be
 * degraded, a rate "at or above" 0 being any rate.
 */
const struct setting settings_vigil[SV_COUNT] = {
	[SV_INTERVAL] = NUM("interval", interval_ms, ST_DUR,
	    SETTINGS_FAST_MIN, SEC(300), SEC(30), 0, 0),
	[SV_TIMEOUT] = NUM("timeout", timeout_ms, ST_DUR, SETTINGS_FAST_MIN,
	    SEC(300), SEC(10), 0, 0),
	[SV_HISTORY] = NUM("history_retention", history_retention, ST_UINT,
	    10, 1u << 20, 1000, 0, 0),
	[SV_ALERT_RET] = NUM("alert_retention", alert_retention, ST_UINT, 10,
	    1u << 20, 1000, 0, 0),
	[SV_SAMPLE_CAP] = NUM("sample_capacity", sample_capacity, ST_POW2,
	    16, 1u << 20, 1024, 0, 0),
	[SV_MAX_PROV] = NUM("max_providers", max_providers, ST_UINT, 1,
	    VIGIL_MAX_PROVIDERS, 64, 0, 0),
	[SV_WARN] = NUM("warning_error_rate", warning_error_rate, ST_PCT, 1,
	    100, 50, SR_AGG, 0),
	[SV_CRIT] = NUM("critical_error_rate", critical_error_rate, ST_PCT,
	    1, 100, 80, SR_AGG, 0),
	[SV_LATENCY] = NUM("latency_warning", latency_warning_ms, ST_DUR, 1,
	    SEC(600), 2000, SR_AGG, 0),
	[SV_MIN_SAMPLES] = NUM("min_samples", min_samples, ST_UINT, 1,
	    100000, 5, SR_AGG, 0),
	/* The prober confirms failures up to settings_confirm_failures. */
	[SV_DOWN_AFTER] = NUM("down_after", down_after, ST_UINT, 1, 1000, 4,
	    R_AGG_PROBER, 0),
	[SV_CB_FAIL] = NUM("circuit_failures", circuit_failures, ST_UINT, 1,
	    1000, 5, R_AGG_PROBER, 0),
	[SV_CB_SUCC] = NUM("circuit_successes", circuit_successes, ST_UINT,
	    1, 1000, 2, SR_AGG, 0),
	[SV_CB_COOL] = NUM("circuit_cooldown", circuit_cooldown_ms, ST_DUR,
	    SETTINGS_FAST_MIN, HOUR(1), SEC(30), SR_AGG, 0),
	[SV_CB_COOL_MAX] = NUM("circuit_cooldown_max",
	    circuit_cooldown_max_ms, ST_DUR, SETTINGS_FAST_MIN, HOUR(24),
	    MIN(10), SR_AGG, 0),
	[SV_FAST_PCT] = NUM("fast_probe_percent", fast_probe_percent, ST_PCT,
	    1, 100, 25, SR_PROBER, 0),
	[SV_ALERT_COOL] = NUM("alert_cooldown", alert_cooldown_ms, ST_DUR, 0,
	    HOUR(24), MIN(5), SR_AGG, 0),
	[SV_PERSIST] = NUM("persist_interval", persist_interval_ms, ST_DUR,
	    SEC(1), HOUR(24), SEC(60), SR_AGG, 0),
	[SV_WH_TIMEOUT] = NUM("webhook_timeout", webhook_timeout_ms, ST_DUR,
	    SETTINGS_FAST_MIN, SEC(60), SEC(5), SR_AGG, 0),
	[SV_WH_RETRIES] = NUM("webhook_retries", webhook_retries, ST_UINT, 0,
	    20, 5, SR_AGG, 0),
	/* 0 turns it off; else at least 3 s (a rule in conf.c). */
	[SV_WATCHDOG] = NUM("watchdog", watchdog_ms, ST_DUR, 0, HOUR(1),
	    SEC(30), 0, 0),
	[SV_LISTEN] = STR("listen", listen, VSZ(listen), "127.0.0.1:9470",
	    set_check_listen, SR_API, SF_QUOTE),
	[SV_CONTROL] = STR("control_socket", control_socket, SET_SUN_MAX,
	    "/run/vigil/control.sock", set_check_socket, 0, SF_QUOTE),
	[SV_STATE_DIR] = STR("state_dir", state_dir, VSZ(state_dir),
	    "/var/lib/vigil", set_check_optpath, SR_AGG, SF_QUOTE),
	/* The aggregator maps the reports segment by its name (name +
	 * VIGIL_REPORTS_SUFFIX). */
	[SV_SHM] = STR("shm_name", shm_name, VSZ(shm_name), VIGIL_DEFAULT_SHM,
	    set_check_shm, SR_AGG, SF_QUOTE),
	/* May hold a token: never quoted, and vigil-api never gets it. */
	[SV_WEBHOOK] = STR("webhook_url", webhook_url, VSZ(webhook_url), "",
	    set_check_opt_url, SR_AGG, 0),
	[SV_USER] = STR("user", user, VSZ(user), "vigil", settings_check_name,
	    0, SF_QUOTE),
	[SV_ADMIN_GROUP] = STR("admin_group", admin_group, VSZ(admin_group),
	    "", set_check_optname, 0, SF_QUOTE),
	[SV_READ_GROUP] = STR("read_group", read_group, VSZ(read_group),
	    "vigil", settings_check_name, 0, SF_QUOTE),
	[SV_PROMETHEUS] = NUM("prometheus", prometheus, ST_BOOL, 0, 1, 1,
	    SR_API, 0),
	/* vigild pauses every prober when off; the aggregator raises no
	 * alert. */
	[SV_MONITORING] = NUM("monitoring_enabled", monitoring_enabled,
	    ST_BOOL, 0, 1, 1, SR_AGG, 0),
	[SV_FAST_PROBES] = NUM("allow_fast_probes", allow_fast_probes,
	    ST_BOOL, 0, 1, 0, 0, 0),
	/* Live: a reload sends set_log_level instead of a restart. */
	[SV_LOG_LEVEL] = NUM("log_level", log_level, ST_LOGLEVEL,
	    LOG_LVL_WARN, LOG_LVL_DEBUG, LOG_LVL_INFO, R_ALL, SF_LIVE),
	/* A rate-limited prober waits for the provider's Retry-After or
	 * reset, or backs off from its interval, never longer than this
	 * (docs/aggregation.md, "Throttled"). */
	[SV_RETRY_MAX] = NUM("retry_after_max", retry_after_max_ms, ST_DUR,
	    SEC(1), HOUR(24), MIN(15), R_AGG_PROBER, 0),
	[SV_THROTTLED_WARN] = NUM("throttled_warning", throttled_warning_ms,
	    ST_DUR, 0, HOUR(24), MIN(5), SR_AGG, 0),
	/* remaining / limit of any rate-limit resource under this: a
	 * ratelimit_low warning. */
	[SV_RL_WARN] = NUM("ratelimit_warning", ratelimit_warning, ST_PCT, 1,
	    100, 10, R_AGG_PROBER, 0),
	/* Model slots per provider in the segment: sized at start. */
	[SV_MAX_MODELS] = NUM("max_models", max_models, ST_UINT, 1,
	    VIGIL_MAX_MODELS, 8, 0, 0),
	/*
	 * The vantage self-check (docs/aggregation.md, "Vantage"): vigild
	 * makes each canary URL a slot of its own (supervisor/canary.c);
	 * the aggregator says "ours" when every canary and more than
	 * vantage_min_share percent of the providers fail on the network.
	 */
	[SV_CANARY] = STR("canary", canary, VSZ(canary), "",
	    set_check_canary, 0, SF_QUOTE),
	[SV_VANTAGE_SHARE] = NUM("vantage_min_share", vantage_min_share,
	    ST_PCT, 0, 99, 50, SR_AGG, 0),
	/* Grouped incidents: group_min providers turning unhealthy within
	 * group_window of the first are one incident; 0 turns it off. */
	[SV_GROUP_MIN] = NUM("group_min", group_min, ST_UINT, 0,
	    VIGIL_MAX_PROVIDERS, 2, SR_AGG, 0),
	[SV_GROUP_WINDOW] = NUM("group_window", group_window_ms, ST_DUR,
	    SEC(1), HOUR(1), MIN(2), SR_AGG, 0),
	/* Where this vigil looks from: a label on its series (build_info)
	 * so that several vigils' views of one provider can be told
	 * apart.  "" (the default): the host name, else "default"; the
	 * API resolves it (docs/scaling.md). */
	[SV_VANTAGE] = STR("vantage", vantage, VSZ(vantage), "",
	    set_check_vantage, SR_API, SF_QUOTE),
	/* Who may report traffic: the reports segment's group (vigild;
	 * the packages create it). */
	[SV_REPORT_GROUP] = STR("report_group", report_group,
	    VSZ(report_group), "vigil-report", settings_check_name, 0,
	    SF_QUOTE),
	/* Reports a second one client (a slot) may have taken; the rest
	 * are dropped and counted (docs/aggregation.md, "Traffic"). */
	[SV_REPORT_RATE] = NUM("report_rate_max", report_rate_max, ST_UINT,
	    1, 10000000, 10000, SR_AGG, 0),
	/* A scheduled check is skipped while the provider's traffic was
	 * reported within its interval (docs/aggregation.md, "Traffic"). */
	[SV_PROBE_IDLE] = NUM("probe_when_idle", probe_when_idle, ST_BOOL, 0,
	    1, 1, SR_PROBER, 0),
	/* Failing traffic counts against a provider without a probe
	 * agreeing once this many clients report failures. */
	[SV_TRAFFIC_MIN] = NUM("traffic_min_clients", traffic_min_clients,
	    ST_UINT, 1, 1000, 1, SR_AGG, 0),
};

/*
 * [provider "NAME"].  interval and timeout default to [vigil]'s (conf.c
 * resolves them); the defaults here are what a prober told nothing
 * takes.  The key sources and enabled stay in vigild.
 */
const struct setting settings_provider[SP_COUNT] = {
	[SP_KIND] = PNUM("kind", kind, ST_KIND, 0, VIGIL_KIND_COUNT - 1,
	    (uint32_t)-1, SR_PROBER, SF_REQUIRED),
	[SP_BASE_URL] = PSTR("base_url", base_url, ST_BASEURL, NULL,
	    SR_PROBER, SF_REQUIRED),
	[SP_KEY_FILE] = PSTR("api_key_file", api_key_file, ST_STR,
	    set_check_abspath, 0, SF_QUOTE),
	[SP_KEY_ENV] = PSTR("api_key_env", api_key_env, ST_STR,
	    set_check_envname, 0, SF_QUOTE),
	[SP_KEY_CRED] = PSTR("api_key_credential", api_key_credential, ST_STR,
	    set_check_cred, 0, SF_QUOTE),
	[SP_CHECK_PATH] = PSTR("check_path", check_path, ST_STR,
	    set_check_httppath, SR_PROBER, 0),
	[SP_CA_FILE] = PSTR("ca_file", ca_file, ST_STR, set_check_optpath,
	    SR_PROBER, SF_QUOTE),
	[SP_GEN_MODEL] = PSTR("gen_model", gen_model, ST_STR, set_check_model,
	    SR_PROBER, SF_QUOTE),
	[SP_GEN_INTERVAL] = PNUM("gen_interval", gen_interval_ms, ST_DUR,
	    SETTINGS_FAST_MIN, HOUR(24), MIN(5), SR_PROBER, 0),
	[SP_INTERVAL] = PNUM("interval", interval_ms, ST_DUR,
	    SETTINGS_FAST_MIN, SEC(300), SEC(30), SR_PROBER, 0),
	[SP_TIMEOUT] = PNUM("timeout", timeout_ms, ST_DUR, SETTINGS_FAST_MIN,
	    SEC(300), SEC(10), SR_PROBER, 0),
	[SP_ENABLED] = PNUM("enabled", enabled, ST_BOOL, 0, 1, 1, 0, 0),
	/* The models the platform routes to: in the directory's model
	 * block (vigild) and cycled by the generation check (prober).  At
	 * most max_models (a rule in conf.c). */
	[SP_MODELS] = PSTR("models", models, ST_STR, set_check_models,
	    SR_PROBER, SF_QUOTE),
	/* Input + output tokens a UTC day of the billed generation checks. */
	[SP_GEN_BUDGET] = PNUM("gen_budget", gen_budget, ST_UINT, 1,
	    1000000000, 20000, SR_PROBER, 0),
	/* The generation request's body, a JSON file read at the prober's
	 * start: checked here (conf_load) and again by the prober. */
	[SP_GEN_BODY] = PSTR("gen_body", gen_body, ST_STR, set_check_genbody,
	    SR_PROBER, SF_QUOTE),
	[SP_GEN_PROMPT] = PSTR("gen_prompt", gen_prompt, ST_STR,
	    set_check_prompt, SR_PROBER, SF_QUOTE),
	/* A POSIX extended regex, compiled here to be checked. */
	[SP_GEN_EXPECT] = PSTR("gen_expect", gen_expect, ST_STR,
	    set_check_regex, SR_PROBER, SF_QUOTE),
	/* The provider's public status page (Atlassian Statuspage's
	 * /api/v2/summary.json), polled by vigil-statuspage, which gets
	 * every provider's in its configure ("pages", roles.c): shown
	 * beside vigil's view, never part of it. */
	[SP_STATUS_PAGE] = PSTR("status_page", status_page, ST_STR,
	    set_check_opt_url, 0, SF_QUOTE | SF_NOPROBER),
	[SP_STATUS_PAGE_INT] = PNUM("status_page_interval",
	    status_page_interval_ms, ST_DUR, SEC(1), HOUR(1), SEC(60), 0,
	    SF_NOPROBER),
};

/*
 * Rules between [vigil] keys that a child checks too.  timeout <=
 * interval stays vigil.conf's alone: a prober's schedule never overlaps
 * two checks whatever the timeout (sched.c).
 */
const struct setting_rule settings_rules[] = {
	{ SV_TIMEOUT, SV_INTERVAL, "longer than", "shorter than", 0, 0 },
	{ SV_WARN, SV_CRIT, "above", "below", 0, SR_AGG },
	{ SV_CB_COOL, SV_CB_COOL_MAX, "above", "below", 1, SR_AGG },
};
const size_t settings_nrules = sizeof(settings_rules) /
    sizeof(settings_rules[0]);

void
settings_defaults(struct conf *c)
{
	const struct setting *k;
	size_t i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < SV_COUNT; i++) {
		k = &settings_vigil[i];
		if (k->type == ST_STR)
			settings_copy((char *)c + k->off, k->def_str, k->size);
		else if (k->type == ST_BOOL || k->type == ST_LOGLEVEL)
			*(int *)(void *)((char *)c + k->off) = (int)k->def;
		else
			*(uint32_t *)(void *)((char *)c + k->off) = k->def;
	}
}

void
settings_provider_defaults(struct conf_provider *p)
{
	const struct setting *k;
	size_t i;

	memset(p, 0, sizeof(*p));
	for (i = 0; i < SP_COUNT; i++) {
		k = &settings_provider[i];
		if (k->type == ST_STR || k->type == ST_BASEURL)
			settings_copy((char *)p + k->off, k->def_str, k->size);
		else if (k->type == ST_BOOL || k->type == ST_KIND)
			*(int *)(void *)((char *)p + k->off) = (int)k->def;
		else
			*(uint32_t *)(void *)((char *)p + k->off) = k->def;
	}
}

/* A number's absolute checks: its range, a power of two. */
static int
set_num_ok(const struct setting *k, uint32_t u, char *why, size_t len)
{
	char lo[16], hi[16], d[16];

	if (u < k->min || u > k->max) {
		if (k->type == ST_DUR || k->type == ST_DUR_MS) {
			settings_fmt_dur(u, d, sizeof(d));
			settings_fmt_dur(k->min, lo, sizeof(lo));
			settings_fmt_dur(k->max, hi, sizeof(hi));
			snprintf(why, len, "%s is out of range (%s to %s)", d,
			    lo, hi);
		} else
			snprintf(why, len, "%u is out of range (%u to %u)", u,
			    k->min, k->max);
		return -1;
	}
	if (k->type == ST_POW2 && (u & (u - 1)) != 0) {
		snprintf(why, len, "%u is not a power of two", u);
		return -1;
	}
	return 0;
}

/*
 * A string's checks, then store it into base (a kind as its number, a
 * base URL with its host).  quote: whether why may show the value.
 */
static int
set_str_ok(const struct setting *k, void *base, const char *v, int quote,
    char *why, size_t len)
{
	struct conf_provider *p = base;
	char q[64], w[160];
	int kind;

	settings_quote(v, q, sizeof(q));
	switch (k->type) {
	case ST_KIND:
		if ((kind = conf_kind(v)) == -1) {
			snprintf(why, len, "\"%s\" is not a kind (openai, "
			    "anthropic, google, deepseek, qwen, cursor, http)",
			    q);
			return -1;
		}
		*(int *)(void *)((char *)base + k->off) = kind;
		return 0;
	case ST_BASEURL:
		if (strlen(v) >= k->size) {
			snprintf(why, len, "longer than %zu characters",
			    k->size - 1);
			return -1;
		}
		if (set_url(v, 0, p->host, sizeof(p->host), why, len) == -1)
			return -1;
		break;
	default:
		if (strlen(v) >= k->size) {
			snprintf(why, len, "longer than %zu characters",
			    k->size - 1);
			return -1;
		}
		if (k->check(v, w, sizeof(w)) == -1) {
			if (quote)
				snprintf(why, len, "\"%s\": %s", q, w);
			else
				snprintf(why, len, "%s", w);
			return -1;
		}
		break;
	}
	settings_copy((char *)base + k->off, v, k->size);
	return 0;
}

int
settings_parse(const struct setting *k, void *base, const char *v,
    char *why, size_t whylen)
{
	char q[64], num[16];
	const char *pct;
	uint32_t u;
	size_t len;
	int b;

	settings_quote(v, q, sizeof(q));
	switch (k->type) {
	case ST_DUR:
	case ST_DUR_MS:
		/* ST_DUR_MS: a bare number is milliseconds. */
		if ((k->type != ST_DUR_MS || settings_parse_uint(v, &u) == -1) &&
		    conf_parse_duration(v, &u) == -1) {
			snprintf(why, whylen, "\"%s\" is not a duration (e.g. "
			    "500ms, 30s, 2m, 1h)", q);
			return -1;
		}
		break;
	case ST_UINT:
	case ST_POW2:
	case ST_PCT:
		pct = v;
		if (k->type == ST_PCT && (len = strlen(v)) > 0 &&
		    v[len - 1] == '%' && len < sizeof(num)) {
			memcpy(num, v, len - 1);
			num[len - 1] = '\0';
			pct = num;
		}
		if (settings_parse_uint(pct, &u) == -1) {
			snprintf(why, whylen, "\"%s\" is not a whole number%s",
			    q, k->type == ST_PCT ? " of percent" : "");
			return -1;
		}
		break;
	case ST_BOOL:
		if (conf_parse_bool(v, &b) == -1) {
			snprintf(why, whylen, "\"%s\" is not yes/no (yes, no, "
			    "true, false, on, off, 1, 0)", q);
			return -1;
		}
		*(int *)(void *)((char *)base + k->off) = b;
		return 0;
	case ST_LOGLEVEL:
		if (strcmp(v, "warn") == 0 || strcmp(v, "warning") == 0)
			b = LOG_LVL_WARN;
		else if (strcmp(v, "info") == 0)
			b = LOG_LVL_INFO;
		else if (strcmp(v, "debug") == 0)
			b = LOG_LVL_DEBUG;
		else {
			snprintf(why, whylen, "\"%s\" is not a log level "
			    "(warn, info, debug)", q);
			return -1;
		}
		*(int *)(void *)((char *)base + k->off) = b;
		return 0;
	default:
		return set_str_ok(k, base, v, (k->flags & SF_QUOTE) != 0, why,
		    whylen);
	}
	if (set_num_ok(k, u, why, whylen) == -1)
		return -1;
	*(uint32_t *)(void *)((char *)base + k->off) = u;
	return 0;
}

/* A value of key k as an error shows it: 30s, 50%, 5. */
static void
set_fmt_val(const struct setting *k, uint32_t u, char *buf, size_t len)
{
	if (k->type == ST_DUR || k->type == ST_DUR_MS)
		settings_fmt_dur(u, buf, len);
	else if (k->type == ST_PCT)
		snprintf(buf, len, "%u%%", u);
	else
		snprintf(buf, len, "%u", u);
}

int
settings_rule_ok(const struct setting_rule *r, const struct conf *c,
    int blame_b, char *why, size_t whylen)
{
	const struct setting *ka = &settings_vigil[r->a];
	const struct setting *kb = &settings_vigil[r->b];
	uint32_t a, b;
	char as[16], bs[16];

	a = *(const uint32_t *)(const void *)((const char *)c + ka->off);
	b = *(const uint32_t *)(const void *)((const char *)c + kb->off);
	if (a <= b)
		return 0;
	set_fmt_val(ka, a, as, sizeof(as));
	set_fmt_val(kb, b, bs, sizeof(bs));
	if (blame_b)
		snprintf(why, whylen, "%s is %s %s (%s)", bs, r->b_word,
		    ka->name, as);
	else
		snprintf(why, whylen, "%s is %s %s (%s)", as, r->a_word,
		    kb->name, bs);
	return -1;
}

/* Pack one value of key k from base. */
static void
set_pack_one(msgpack_packer *pk, const struct setting *k, const void *base)
{
	const char *f = (const char *)base + k->off;

	switch (k->type) {
	case ST_BOOL:
		mp_kv_bool(pk, k->wire, *(const int *)(const void *)f);
		break;
	case ST_LOGLEVEL:
		mp_kv_uint(pk, k->wire, (uint64_t)*(const int *)(const void *)f);
		break;
	case ST_KIND:
		mp_kv_str(pk, k->wire, vigil_kind_name(
		    (unsigned)*(const int *)(const void *)f));
		break;
	case ST_STR:
	case ST_BASEURL:
		mp_kv_str(pk, k->wire, f);
		break;
	default:
		mp_kv_uint(pk, k->wire, *(const uint32_t *)(const void *)f);
		break;
	}
}

void
settings_pack(msgpack_packer *pk, unsigned role, const struct conf *c,
    const struct conf_provider *p, const struct settings_extra *x,
    size_t nx)
{
	size_t i, n = nx;

	for (i = 0; i < SV_COUNT; i++)
		if (settings_vigil[i].roles & role)
			n++;
	for (i = 0; p != NULL && i < SP_COUNT; i++)
		if (settings_provider[i].roles & role)
			n++;
	msgpack_pack_map(pk, (uint32_t)n);
	for (i = 0; i < SV_COUNT; i++)
		if (settings_vigil[i].roles & role)
			set_pack_one(pk, &settings_vigil[i], c);
	for (i = 0; p != NULL && i < SP_COUNT; i++)
		if (settings_provider[i].roles & role)
			set_pack_one(pk, &settings_provider[i], p);
	for (i = 0; i < nx; i++) {
		if (x[i].type == SX_STR)
			mp_kv_str(pk, x[i].key, x[i].s);
		else if (x[i].type == SX_BOOL)
			mp_kv_bool(pk, x[i].key, x[i].u != 0);
		else
			mp_kv_uint(pk, x[i].key, x[i].u);
	}
}

/*
 * Decode the wire value o of key k into base, with the checks
 * settings_parse runs on text.  Returns 0, or -1 with why (never the
 * value: it may hold a token).
 */
static int
set_decode_one(const struct setting *k, void *base, const msgpack_object *o,
    char *why, size_t len)
{
	char s[SET_STR_MAX];
	uint64_t u;

	switch (k->type) {
	case ST_BOOL:
		if (o->type != MSGPACK_OBJECT_BOOLEAN) {
			snprintf(why, len, "not a bool");
			return -1;
		}
		*(int *)(void *)((char *)base + k->off) = o->via.boolean;
		return 0;
	case ST_STR:
	case ST_KIND:
	case ST_BASEURL:
		if (o->type != MSGPACK_OBJECT_STR ||
		    o->via.str.size >= sizeof(s) ||
		    memchr(o->via.str.ptr, '\0', o->via.str.size) != NULL) {
			snprintf(why, len, "not a string");
			return -1;
		}
		memcpy(s, o->via.str.ptr, o->via.str.size);
		s[o->via.str.size] = '\0';
		return set_str_ok(k, base, s, 0, why, len);
	default:
		break;
	}
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    o->via.u64 > UINT32_MAX) {
		snprintf(why, len, "not a whole number");
		return -1;
	}
	u = o->via.u64;
	if (k->type == ST_LOGLEVEL) {
		if (u < k->min || u > k->max) {
			snprintf(why, len, "%u is not a log level (0 warn, 1 "
			    "info, 2 debug)", (unsigned)u);
			return -1;
		}
		*(int *)(void *)((char *)base + k->off) = (int)u;
		return 0;
	}
	if (set_num_ok(k, (uint32_t)u, why, len) == -1)
		return -1;
	*(uint32_t *)(void *)((char *)base + k->off) = (uint32_t)u;
	return 0;
}

int
settings_decode(unsigned role, const msgpack_object *args, struct conf *c,
    struct conf_provider *p, char *err, size_t errlen)
{
	const struct setting *k;
	const msgpack_object *o;
	char why[256];
	size_t i;
	int n;

	settings_defaults(c);
	if (p != NULL)
		settings_provider_defaults(p);
	if (args == NULL || args->type != MSGPACK_OBJECT_MAP) {
		snprintf(err, errlen, "args: not a map");
		return -1;
	}
	for (n = 0; n < (p != NULL ? 2 : 1); n++)
		for (i = 0; i < (n == 0 ? SV_COUNT : SP_COUNT); i++) {
			k = n == 0 ? &settings_vigil[i] : &settings_provider[i];
			if (!(k->roles & role))
				continue;
			if ((o = mp_get(args, k->wire)) == NULL) {
				if (!(k->flags & SF_REQUIRED))
					continue;
				snprintf(err, errlen, "%s: missing", k->wire);
				return -1;
			}
			if (set_decode_one(k, n == 0 ? (void *)c : (void *)p, o,
			    why, sizeof(why)) == -1) {
				snprintf(err, errlen, "%s: %s", k->wire, why);
				return -1;
			}
		}
	for (i = 0; i < settings_nrules; i++)
		if ((settings_rules[i].roles & role) &&
		    settings_rule_ok(&settings_rules[i], c, 0, why,
		    sizeof(why)) == -1) {
			snprintf(err, errlen, "%s: %s",
			    settings_vigil[settings_rules[i].a].wire, why);
			return -1;
		}
	return 0;
}

/* Whether key k has the same value in a and b. */
static int
set_same(const struct setting *k, const void *a, const void *b)
{
	const char *fa = (const char *)a + k->off, *fb = (const char *)b +
	    k->off;

	if (k->type == ST_STR || k->type == ST_BASEURL)
		return strcmp(fa, fb) == 0;
	/* int and uint32_t alike: four bytes. */
	return memcmp(fa, fb, sizeof(uint32_t)) == 0;
}

int
settings_differ(unsigned role, const struct conf *a, const struct conf *b)
{
	size_t i;

	for (i = 0; i < SV_COUNT; i++)
		if ((settings_vigil[i].roles & role) &&
		    !(settings_vigil[i].flags & SF_LIVE) &&
		    !set_same(&settings_vigil[i], a, b))
			return 1;
	return 0;
}

/* Every provider key; host follows base_url, name is the match key. */
int
settings_provider_differ(const struct conf_provider *a,
    const struct conf_provider *b)
{
	size_t i;

	for (i = 0; i < SP_COUNT; i++)
		if (!(settings_provider[i].flags & SF_NOPROBER) &&
		    !set_same(&settings_provider[i], a, b))
			return 1;
	return 0;
}

uint32_t
settings_confirm_failures(const struct conf *c)
{
	uint32_t n = c->down_after > c->circuit_failures ? c->down_after :
	    c->circuit_failures;

	return n < SETTINGS_CONFIRM_MAX ? n : SETTINGS_CONFIRM_MAX;
}

/* strlcpy, which glibc 2.36 lacks; callers checked the length first. */
void
settings_copy(char *dst, const char *src, size_t size)
{
	size_t n;

	if (size == 0)
		return;
	n = strnlen(src, size - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/*
 * A value fit to quote in an error: at most 40 bytes, anything but
 * printable ASCII shown as '?', so that a log line stays one line.
 */
void
settings_quote(const char *s, char *out, size_t outlen)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 4 < outlen && i < 40; i++)
		out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (s[i] != '\0' && i + 4 <= outlen) {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
}

/* The largest unit that shows ms exactly: "500ms", "30s", "5m", "1h". */
void
settings_fmt_dur(uint32_t ms, char *buf, size_t len)
{
	if (ms != 0 && ms % HOUR(1) == 0)
		snprintf(buf, len, "%uh", ms / HOUR(1));
	else if (ms != 0 && ms % MIN(1) == 0)
		snprintf(buf, len, "%um", ms / MIN(1));
	else if (ms % 1000 == 0)
		snprintf(buf, len, "%us", ms / 1000);
	else
		snprintf(buf, len, "%ums", ms);
}

/* Decimal digits only, no sign, no blanks, fits in 32 bits. */
int
settings_parse_uint(const char *s, uint32_t *v)
{
	uint64_t n = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		n = n * 10 + (uint64_t)(*s - '0');
		if (n > UINT32_MAX)
			return -1;
	}
	*v = (uint32_t)n;
	return 0;
}

/*
 * http:// or https:// URL: host (name, IPv4 or [IPv6]), optional port
 * 1-65535, optional path of printable characters; no user:password@, and
 * a query or fragment only if allow_query.  The host goes to host.
 */
static int
set_url(const char *s, int allow_query, char *host, size_t hostlen,
    char *why, size_t whylen)
{
	const char *h, *he, *p, *end;
	uint32_t port;
	char pbuf[8];
	size_t hl;

	if (strncmp(s, "https://", 8) == 0)
		h = s + 8;
	else if (strncmp(s, "http://", 7) == 0)
		h = s + 7;
	else {
		snprintf(why, whylen, "must start with http:// or https://");
		return -1;
	}
	for (p = s; *p != '\0'; p++)
		if (*p <= 0x20 || *p >= 0x7f) {
			snprintf(why, whylen, "blank or non-ASCII character "
			    "in the URL");
			return -1;
		}
	end = h + strcspn(h, "/?#");
	if (memchr(h, '@', end - h) != NULL) {
		snprintf(why, whylen, "user:password@ is not allowed in the "
		    "URL (put secrets in api_key_file)");
		return -1;
	}
	if (!allow_query && strpbrk(s, "?#") != NULL) {
		snprintf(why, whylen, "a query or fragment is not allowed "
		    "(use check_path)");
		return -1;
	}
	if (*h == '[') {
		h++;
		if ((he = memchr(h, ']', end - h)) == NULL || he == h) {
			snprintf(why, whylen, "bad IPv6 address in the URL");
			return -1;
		}
		for (p = h; p < he; p++)
			if (!isxdigit((unsigned char)*p) && *p != ':' &&
			    *p != '.') {
				snprintf(why, whylen, "bad IPv6 address in the "
				    "URL");
				return -1;
			}
		p = he + 1;
	} else {
		he = h + strcspn(h, ":/?#");
		if (he == h) {
			snprintf(why, whylen, "no host in the URL");
			return -1;
		}
		for (p = h; p < he; p++)
			if (!isalnum((unsigned char)*p) && *p != '.' &&
			    *p != '-' && *p != '_') {
				snprintf(why, whylen, "bad character in the "
				    "URL's host");
				return -1;
			}
		p = he;
	}
	if (p < end && *p == ':') {
		p++;
		if (end - p < 1 || (size_t)(end - p) >= sizeof(pbuf)) {
			snprintf(why, whylen, "bad port in the URL");
			return -1;
		}
		memcpy(pbuf, p, end - p);
		pbuf[end - p] = '\0';
		if (settings_parse_uint(pbuf, &port) == -1 || port < 1 ||
		    port > 65535) {
			snprintf(why, whylen, "bad port in the URL");
			return -1;
		}
	} else if (p != end) {
		snprintf(why, whylen, "bad host in the URL");
		return -1;
	}
	hl = (size_t)(he - h);
	if (hl >= hostlen) {
		snprintf(why, whylen, "host name longer than %zu characters",
		    hostlen - 1);
		return -1;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	return 0;
}

/*
 * A numeric A.B.C.D:PORT or [IPv6]:PORT: what vigild will bind, checked
 * by the parser that binds it (addr.c), so --check-config cannot accept
 * an address that vigild then fails to listen on.
 */
static int
set_check_listen(const char *s, char *why, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl;

	return addr_parse(s, &ss, &sl, why, len);
}

static int
set_check_abspath(const char *s, char *why, size_t len)
{
	const char *p;

	if (*s != '/') {
		snprintf(why, len, "must be an absolute path");
		return -1;
	}
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			snprintf(why, len, "control character in the path");
			return -1;
		}
	return 0;
}

/* An absolute path, or "" for none. */
static int
set_check_optpath(const char *s, char *why, size_t len)
{
	if (*s == '\0')
		return 0;
	return set_check_abspath(s, why, len);
}

static int
set_check_socket(const char *s, char *why, size_t len)
{
	if (strlen(s) >= SET_SUN_MAX) {
		snprintf(why, len, "longer than %d characters (a Unix socket "
		    "path)", SET_SUN_MAX - 1);
		return -1;
	}
	return set_check_abspath(s, why, len);
}

/* "/name": one leading slash, then letters, digits, '.', '_', '-'. */
static int
set_check_shm(const char *s, char *why, size_t len)
{
	const char *p;

	if (s[0] != '/' || s[1] == '\0')
		goto bad;
	for (p = s + 1; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' &&
		    *p != '-')
			goto bad;
	return 0;
bad:
	snprintf(why, len, "must be '/' then letters, digits, '.', '_' or "
	    "'-' (e.g. /vigil)");
	return -1;
}

/* "" for none, or an http(s) URL, a query allowed (webhook, status_page).
 * Whether the value is quoted in messages is the row's (SF_QUOTE): a
 * webhook's URL may carry a token. */
static int
set_check_opt_url(const char *s, char *why, size_t len)
{
	char host[256];

	if (*s == '\0')
		return 0;
	return set_url(s, 1, host, sizeof(host), why, len);
}

/* "" or a label value a Prometheus rule can match plainly: a name. */
static int
set_check_vantage(const char *s, char *why, size_t len)
{
	if (*s == '\0')
		return 0;
	return settings_check_name(s, why, len);
}

/* A user, group or provider name: letters, digits, '.', '_', '-'. */
int
settings_check_name(const char *s, char *why, size_t len)
{
	const char *p;

	if (!isalnum((unsigned char)*s) && *s != '_')
		goto bad;
	for (p = s; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' &&
		    *p != '-')
			goto bad;
	return 0;
bad:
	snprintf(why, len, "expected a name of letters, digits, '.', '_' "
	    "or '-'");
	return -1;
}

static int
set_check_optname(const char *s, char *why, size_t len)
{
	if (*s == '\0')
		return 0;
	return settings_check_name(s, why, len);
}

static int
set_check_envname(const char *s, char *why, size_t len)
{
	const char *p;

	if (!isalpha((unsigned char)*s) && *s != '_')
		goto bad;
	for (p = s; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '_')
			goto bad;
	return 0;
bad:
	snprintf(why, len, "expected an environment variable name "
	    "(letters, digits, '_')");
	return -1;
}

/* A systemd credential name: no '/', not "." or "..". */
static int
set_check_cred(const char *s, char *why, size_t len)
{
	if (*s == '.' || settings_check_name(s, why, len) == -1) {
		snprintf(why, len, "expected a credential name (letters, "
		    "digits, '.', '_', '-'; as in LoadCredential=)");
		return -1;
	}
	return 0;
}

/* "" for the kind's default, or "/..." of printable characters. */
static int
set_check_httppath(const char *s, char *why, size_t len)
{
	const char *p;

	if (*s == '\0')
		return 0;
	if (*s != '/') {
		snprintf(why, len, "must start with '/'");
		return -1;
	}
	for (p = s; *p != '\0'; p++)
		if (*p <= 0x20 || *p >= 0x7f) {
			snprintf(why, len, "blank or non-ASCII character in "
			    "the path");
			return -1;
		}
	return 0;
}

/*
 * Split "A[, B...]" into out, max rows of `size` bytes: each item trimmed,
 * accepted by check, none twice.  one and many name an item and items in
 * the errors.  The one splitter of every list setting.  Returns how many,
 * or -1 with why.
 */
static int
split_list(const char *list, char *out, size_t size, size_t max,
    const char *one, const char *many,
    int (*check)(const char *, char *, size_t), char *why, size_t whylen)
{
	const char *p = list, *e;
	char item[CONF_URL_MAX];
	size_t n = 0, len, i;

	if (size > sizeof(item))
		size = sizeof(item);
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0')
		return 0;
	for (;;) {
		e = strchr(p, ',');
		len = e != NULL ? (size_t)(e - p) : strlen(p);
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len == 0) {
			snprintf(why, whylen, "an empty %s in the list", one);
			return -1;
		}
		if (len >= size) {
			snprintf(why, whylen, "a %s longer than %zu bytes", one,
			    size - 1);
			return -1;
		}
		memcpy(item, p, len);
		item[len] = '\0';
		if (check(item, why, whylen) == -1)
			return -1;
		for (i = 0; i < n; i++)
			if (strcmp(out + i * size, item) == 0) {
				snprintf(why, whylen, "%s %s listed twice", one,
				    item);
				return -1;
			}
		if (n == max) {
			snprintf(why, whylen, "more than %zu %s", max, many);
			return -1;
		}
		memcpy(out + n++ * size, item, len + 1);
		if (e == NULL)
			return (int)n;
		p = e + 1;
		while (*p == ' ' || *p == '\t')
			p++;
	}
}

/* A canary: an http or https URL, no query, no user:password (as
 * base_url). */
static int
check_canary_url(const char *s, char *why, size_t len)
{
	char host[VIGIL_HOST_MAX];

	return set_url(s, 0, host, sizeof(host), why, len);
}

/* The canary list "URL[, URL...]" into out[0..max). */
int
settings_canaries(const char *list, char (*out)[CONF_URL_MAX], size_t max,
    char *why, size_t whylen)
{
	return split_list(list, out[0], sizeof(out[0]), max, "URL",
	    "canaries", check_canary_url, why, whylen);
}

static int
set_check_canary(const char *s, char *why, size_t len)
{
	static char urls[CONF_CANARY_MAX][CONF_URL_MAX];

	return settings_canaries(s, urls, CONF_CANARY_MAX, why, len) == -1 ?
	    -1 : 0;
}

/* A models list: every item a model id, no duplicate. */
static int
set_check_models(const char *s, char *why, size_t len)
{
	static char names[VIGIL_MAX_MODELS][VIGIL_MODEL_MAX];

	return settings_models(s, names, VIGIL_MAX_MODELS, why, len) == -1 ?
	    -1 : 0;
}

/* The models list "a[, b...]" into out[0..max). */
int
settings_models(const char *list, char (*out)[VIGIL_MODEL_MAX], size_t max,
    char *why, size_t whylen)
{
	return split_list(list, out[0], sizeof(out[0]), max, "model",
	    "models", set_check_model, why, whylen);
}

/* "" for off, or a model id such as gpt-4o-mini or models/gemini-pro. */
static int
set_check_model(const char *s, char *why, size_t len)
{
	const char *p;

	for (p = s; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr("._:/@+-", *p) ==
		    NULL) {
			snprintf(why, len, "expected a model id (letters, "
			    "digits, '.', '_', ':', '/', '@', '+', '-')");
			return -1;
		}
	return 0;
}


/* "" for none, or an absolute path to a JSON object (see below). */
static int
set_check_genbody(const char *s, char *why, size_t len)
{
	char *buf;
	int rc;

	if (*s == '\0')
		return 0;
	if (set_check_abspath(s, why, len) == -1)
		return -1;
	if ((buf = malloc(SETTINGS_GEN_BODY_MAX + 1)) == NULL) {
		snprintf(why, len, "out of memory");
		return -1;
	}
	rc = settings_gen_body_read(s, buf, SETTINGS_GEN_BODY_MAX + 1, why,
	    len);
	free(buf);
	return rc;
}

int
settings_gen_body_read(const char *path, char *buf, size_t len, char *why,
    size_t whylen)
{
	struct stat sb;
	cJSON *o;
	size_t n = 0;
	ssize_t r;
	int fd;

	/* O_NONBLOCK: a FIFO put there cannot hang a reload. */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1) {
		snprintf(why, whylen, "cannot open: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		close(fd);
		snprintf(why, whylen, "not a regular file");
		return -1;
	}
	while (n + 1 < len && (r = read(fd, buf + n, len - 1 - n)) != 0) {
		if (r == -1) {
			if (errno == EINTR)
				continue;
			snprintf(why, whylen, "cannot read: %s",
			    strerror(errno));
			close(fd);
			return -1;
		}
		n += (size_t)r;
	}
	/* One byte more tells a file that did not fit. */
	if (n + 1 >= len || n > SETTINGS_GEN_BODY_MAX ||
	    (n + 1 < len && read(fd, buf + n, 1) > 0)) {
		close(fd);
		snprintf(why, whylen, "longer than %d bytes",
		    SETTINGS_GEN_BODY_MAX);
		return -1;
	}
	close(fd);
	buf[n] = '\0';
	if ((o = cJSON_ParseWithLength(buf, n)) == NULL || !cJSON_IsObject(o)) {
		cJSON_Delete(o);
		snprintf(why, whylen, "not a JSON object");
		return -1;
	}
	cJSON_Delete(o);
	return 0;
}

/*
 * "" for the default ("ping"), or one line of text: UTF-8 without
 * control characters (it goes into a JSON string).
 */
static int
set_check_prompt(const char *s, char *why, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	int more;

	while (*p != '\0') {
		if (*p < 0x20 || *p == 0x7f)
			goto bad;
		if (*p < 0x80) {
			p++;
			continue;
		}
		if (*p >= 0xc2 && *p <= 0xdf)
			more = 1;
		else if (*p >= 0xe0 && *p <= 0xef)
			more = 2;
		else if (*p >= 0xf0 && *p <= 0xf4)
			more = 3;
		else
			goto bad;
		for (p++; more > 0; more--, p++)
			if ((*p & 0xc0) != 0x80)
				goto bad;
	}
	return 0;
bad:
	snprintf(why, len, "expected one line of UTF-8 text");
	return -1;
}

/* "" for none, or a POSIX extended regular expression. */
static int
set_check_regex(const char *s, char *why, size_t len)
{
	char msg[128];
	regex_t re;
	int rc;

	if (*s == '\0')
		return 0;
	if ((rc = regcomp(&re, s, REG_EXTENDED | REG_NOSUB)) != 0) {
		regerror(rc, &re, msg, sizeof(msg));
		snprintf(why, len, "not a POSIX extended regex: %s", msg);
		return -1;
	}
	regfree(&re);
	return 0;
}
