/*
 * conf.c - vigil.conf: INI via libinih, environment overrides, validation.
 *
 * libinih splits "key = value" lines and strips comments; everything else
 * happens here.  Lines reach inih through conf_reader(), which counts them
 * (the packaged libinih is built without INI_HANDLER_LINENO), bounds their
 * length, refuses NUL bytes, strips leading blanks (so that an indented
 * line is never taken for an inih continuation line) and parses section
 * headers itself, so that an empty or unknown section is still seen.
 *
 * Validation has three stages: each value as it is read (syntax and its
 * absolute range), the environment overrides of [vigil], then the rules
 * between keys (timeout <= interval, the 10 s floor unless
 * allow_fast_probes, warning <= critical...), each error naming the line
 * of the value to blame, or line 0 and the variable for the environment.
 * Error messages never quote a URL or a secret.  Library code: never logs.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ini.h>

#include "conf.h"
#include "log.h"

#define CONF_LINE_MAX	1024	/* read buffer; inih's own limit is lower */
#define CONF_FAST_MIN	100	/* ms: floor with allow_fast_probes */
#define CONF_SLOW_MIN	10000	/* ms: floor without it */
#define CONF_WATCHDOG_MIN 3000	/* ms: children beat once a second */
#define CONF_SUN_MAX	108	/* sizeof(sun_path) */

enum conf_type {
	CT_DUR,		/* duration, bare number = seconds */
	CT_DUR_MS,	/* duration, bare number = milliseconds (env only) */
	CT_UINT,
	CT_POW2,	/* unsigned, a power of two */
	CT_PCT,		/* 0..100, optional trailing '%' */
	CT_BOOL,
	CT_STR,		/* checked by the key's check function */
	CT_LOGLEVEL,
	CT_KIND,
	CT_BASEURL	/* also fills conf_provider.host */
};

typedef int (*conf_check_fn)(const char *, char *, size_t);

struct conf_key {
	const char	*name;
	enum conf_type	 type;
	size_t		 off;
	size_t		 size;		/* CT_STR: buffer size */
	uint32_t	 min, max;
	conf_check_fn	 check;		/* CT_STR */
	int		 quote;		/* may an error quote the value? */
};

struct conf_env {
	const char	*var;
	int		 key;		/* index in conf_vkeys */
	enum conf_type	 type;		/* if it differs from the key's */
};

/* [vigil] keys, indexes into conf_vkeys[]. */
enum {
	VK_INTERVAL, VK_TIMEOUT, VK_HISTORY, VK_ALERT_RET, VK_SAMPLE_CAP,
	VK_MAX_PROV, VK_WARN, VK_CRIT, VK_LATENCY, VK_MIN_SAMPLES,
	VK_DOWN_AFTER, VK_CB_FAIL, VK_CB_SUCC, VK_CB_COOL, VK_CB_COOL_MAX,
	VK_FAST_PCT, VK_ALERT_COOL, VK_PERSIST, VK_WH_TIMEOUT, VK_WH_RETRIES,
	VK_WATCHDOG, VK_LISTEN, VK_CONTROL, VK_STATE_DIR, VK_SHM, VK_WEBHOOK, VK_USER,
	VK_ADMIN_GROUP, VK_READ_GROUP, VK_PROMETHEUS, VK_MONITORING,
	VK_FAST_PROBES, VK_LOG_LEVEL,
	VK_COUNT
};

/* [provider "NAME"] keys. */
enum {
	PK_KIND, PK_BASE_URL, PK_KEY_FILE, PK_KEY_ENV, PK_KEY_CRED,
	PK_CHECK_PATH, PK_CA_FILE, PK_GEN_MODEL, PK_GEN_INTERVAL,
	PK_INTERVAL, PK_TIMEOUT, PK_ENABLED,
	PK_COUNT
};

enum conf_sect {
	SECT_NONE,	/* before the first header */
	SECT_VIGIL,
	SECT_PROVIDER
};

struct conf_plines {
	int line[PK_COUNT];	/* line of each key, 0 = not given */
};

struct conf_ctx {
	struct conf		*c;
	FILE			*fp;
	char			*err;
	size_t			 errlen;
	int			 failed;
	int			 lineno;
	enum conf_sect		 sect;
	int			 vigil_line;	/* line of [vigil], 0 = none */
	int			 vline[VK_COUNT];	/* 0 = not in the file */
	const char		*venv[VK_COUNT];	/* set by this variable */
	struct conf_plines	*plines;	/* parallel to c->providers */
	size_t			 pcap;
};

static int	conf_err(struct conf_ctx *, int, const char *, const char *,
		    ...) __attribute__((format(printf, 4, 5)));
static int	conf_verr(struct conf_ctx *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static void	conf_copy(char *, const char *, size_t);
static void	conf_quote(const char *, char *, size_t);
static void	conf_fmt_dur(uint32_t, char *, size_t);
static int	conf_parse_uint(const char *, uint32_t *);
static void	conf_defaults(struct conf *);
static char	*conf_reader(char *, int, void *);
static int	conf_section(struct conf_ctx *, const char *);
static int	conf_add_provider(struct conf_ctx *, const char *);
static int	conf_handler(void *, const char *, const char *, const char *);
static int	conf_set(struct conf_ctx *, const struct conf_key *, void *,
		    const char *, int, const char *);
static int	conf_env(struct conf_ctx *);
static int	conf_validate(struct conf_ctx *);
static int	conf_validate_provider(struct conf_ctx *, size_t);
static int	conf_url(const char *, int, char *, size_t, char *, size_t);
static int	conf_check_listen(const char *, char *, size_t);
static int	conf_check_abspath(const char *, char *, size_t);
static int	conf_check_optpath(const char *, char *, size_t);
static int	conf_check_socket(const char *, char *, size_t);
static int	conf_check_shm(const char *, char *, size_t);
static int	conf_check_webhook(const char *, char *, size_t);
static int	conf_check_name(const char *, char *, size_t);
static int	conf_check_optname(const char *, char *, size_t);
static int	conf_check_envname(const char *, char *, size_t);
static int	conf_check_cred(const char *, char *, size_t);
static int	conf_check_httppath(const char *, char *, size_t);
static int	conf_check_model(const char *, char *, size_t);
static int	conf_read_file(const char *, const char *, const char *,
		    char *, size_t, char *, size_t);
static int	conf_secret_ok(const char *, const char *, const char *,
		    char *, size_t, char *, size_t);

#define VOFF(f)	offsetof(struct conf, f)
#define VSZ(f)	sizeof(((struct conf *)0)->f)
#define POFF(f)	offsetof(struct conf_provider, f)
#define PSZ(f)	sizeof(((struct conf_provider *)0)->f)

#define SEC(n)	((n) * 1000u)
#define MIN(n)	((n) * 60000u)
#define HOUR(n)	((n) * 3600000u)

/*
 * Absolute ranges.  interval's floor is CONF_FAST_MIN here; the 10 s
 * floor without allow_fast_probes is a rule between keys (the flag may
 * come after the interval), checked in conf_validate().
 */
static const struct conf_key conf_vkeys[VK_COUNT] = {
	[VK_INTERVAL] = { "interval", CT_DUR, VOFF(interval_ms), 0,
	    CONF_FAST_MIN, SEC(300), NULL, 1 },
	[VK_TIMEOUT] = { "timeout", CT_DUR, VOFF(timeout_ms), 0,
	    CONF_FAST_MIN, SEC(300), NULL, 1 },
	[VK_HISTORY] = { "history_retention", CT_UINT,
	    VOFF(history_retention), 0, 10, 1u << 20, NULL, 1 },
	[VK_ALERT_RET] = { "alert_retention", CT_UINT,
	    VOFF(alert_retention), 0, 10, 1u << 20, NULL, 1 },
	[VK_SAMPLE_CAP] = { "sample_capacity", CT_POW2,
	    VOFF(sample_capacity), 0, 16, 1u << 20, NULL, 1 },
	[VK_MAX_PROV] = { "max_providers", CT_UINT, VOFF(max_providers), 0,
	    1, VIGIL_MAX_PROVIDERS, NULL, 1 },
	[VK_WARN] = { "warning_error_rate", CT_PCT,
	    VOFF(warning_error_rate), 0, 0, 100, NULL, 1 },
	[VK_CRIT] = { "critical_error_rate", CT_PCT,
	    VOFF(critical_error_rate), 0, 0, 100, NULL, 1 },
	[VK_LATENCY] = { "latency_warning", CT_DUR,
	    VOFF(latency_warning_ms), 0, 1, SEC(600), NULL, 1 },
	[VK_MIN_SAMPLES] = { "min_samples", CT_UINT, VOFF(min_samples), 0,
	    1, 100000, NULL, 1 },
	[VK_DOWN_AFTER] = { "down_after", CT_UINT, VOFF(down_after), 0,
	    1, 1000, NULL, 1 },
	[VK_CB_FAIL] = { "circuit_failures", CT_UINT,
	    VOFF(circuit_failures), 0, 1, 1000, NULL, 1 },
	[VK_CB_SUCC] = { "circuit_successes", CT_UINT,
	    VOFF(circuit_successes), 0, 1, 1000, NULL, 1 },
	[VK_CB_COOL] = { "circuit_cooldown", CT_DUR,
	    VOFF(circuit_cooldown_ms), 0, CONF_FAST_MIN, HOUR(1), NULL, 1 },
	[VK_CB_COOL_MAX] = { "circuit_cooldown_max", CT_DUR,
	    VOFF(circuit_cooldown_max_ms), 0, CONF_FAST_MIN, HOUR(24), NULL,
	    1 },
	[VK_FAST_PCT] = { "fast_probe_percent", CT_PCT,
	    VOFF(fast_probe_percent), 0, 1, 100, NULL, 1 },
	[VK_ALERT_COOL] = { "alert_cooldown", CT_DUR,
	    VOFF(alert_cooldown_ms), 0, 0, HOUR(24), NULL, 1 },
	[VK_PERSIST] = { "persist_interval", CT_DUR,
	    VOFF(persist_interval_ms), 0, SEC(1), HOUR(24), NULL, 1 },
	[VK_WH_TIMEOUT] = { "webhook_timeout", CT_DUR,
	    VOFF(webhook_timeout_ms), 0, CONF_FAST_MIN, SEC(60), NULL, 1 },
	[VK_WH_RETRIES] = { "webhook_retries", CT_UINT,
	    VOFF(webhook_retries), 0, 0, 20, NULL, 1 },
	[VK_WATCHDOG] = { "watchdog", CT_DUR, VOFF(watchdog_ms), 0, 0,
	    HOUR(1), NULL, 1 },
	[VK_LISTEN] = { "listen", CT_STR, VOFF(listen), VSZ(listen), 0, 0,
	    conf_check_listen, 1 },
	[VK_CONTROL] = { "control_socket", CT_STR, VOFF(control_socket),
	    CONF_SUN_MAX, 0, 0, conf_check_socket, 1 },
	[VK_STATE_DIR] = { "state_dir", CT_STR, VOFF(state_dir),
	    VSZ(state_dir), 0, 0, conf_check_optpath, 1 },
	[VK_SHM] = { "shm_name", CT_STR, VOFF(shm_name), VSZ(shm_name), 0, 0,
	    conf_check_shm, 1 },
	[VK_WEBHOOK] = { "webhook_url", CT_STR, VOFF(webhook_url),
	    VSZ(webhook_url), 0, 0, conf_check_webhook, 0 },
	[VK_USER] = { "user", CT_STR, VOFF(user), VSZ(user), 0, 0,
	    conf_check_name, 1 },
	[VK_ADMIN_GROUP] = { "admin_group", CT_STR, VOFF(admin_group),
	    VSZ(admin_group), 0, 0, conf_check_optname, 1 },
	[VK_READ_GROUP] = { "read_group", CT_STR, VOFF(read_group),
	    VSZ(read_group), 0, 0, conf_check_name, 1 },
	[VK_PROMETHEUS] = { "prometheus", CT_BOOL, VOFF(prometheus), 0, 0, 0,
	    NULL, 1 },
	[VK_MONITORING] = { "monitoring_enabled", CT_BOOL,
	    VOFF(monitoring_enabled), 0, 0, 0, NULL, 1 },
	[VK_FAST_PROBES] = { "allow_fast_probes", CT_BOOL,
	    VOFF(allow_fast_probes), 0, 0, 0, NULL, 1 },
	[VK_LOG_LEVEL] = { "log_level", CT_LOGLEVEL, VOFF(log_level), 0, 0, 0,
	    NULL, 1 },
};

static const struct conf_key conf_pkeys[PK_COUNT] = {
	[PK_KIND] = { "kind", CT_KIND, POFF(kind), 0, 0, 0, NULL, 1 },
	[PK_BASE_URL] = { "base_url", CT_BASEURL, POFF(base_url),
	    PSZ(base_url), 0, 0, NULL, 0 },
	[PK_KEY_FILE] = { "api_key_file", CT_STR, POFF(api_key_file),
	    PSZ(api_key_file), 0, 0, conf_check_abspath, 1 },
	[PK_KEY_ENV] = { "api_key_env", CT_STR, POFF(api_key_env),
	    PSZ(api_key_env), 0, 0, conf_check_envname, 1 },
	[PK_KEY_CRED] = { "api_key_credential", CT_STR,
	    POFF(api_key_credential), PSZ(api_key_credential), 0, 0,
	    conf_check_cred, 1 },
	[PK_CHECK_PATH] = { "check_path", CT_STR, POFF(check_path),
	    PSZ(check_path), 0, 0, conf_check_httppath, 0 },
	[PK_CA_FILE] = { "ca_file", CT_STR, POFF(ca_file), PSZ(ca_file), 0, 0,
	    conf_check_abspath, 1 },
	[PK_GEN_MODEL] = { "gen_model", CT_STR, POFF(gen_model),
	    PSZ(gen_model), 0, 0, conf_check_model, 1 },
	[PK_GEN_INTERVAL] = { "gen_interval", CT_DUR, POFF(gen_interval_ms),
	    0, CONF_FAST_MIN, HOUR(24), NULL, 1 },
	[PK_INTERVAL] = { "interval", CT_DUR, POFF(interval_ms), 0,
	    CONF_FAST_MIN, SEC(300), NULL, 1 },
	[PK_TIMEOUT] = { "timeout", CT_DUR, POFF(timeout_ms), 0,
	    CONF_FAST_MIN, SEC(300), NULL, 1 },
	[PK_ENABLED] = { "enabled", CT_BOOL, POFF(enabled), 0, 0, 0, NULL,
	    1 },
};

/* The environment variables of the original specification. */
static const struct conf_env conf_envs[] = {
	{ "HEALTH_CHECK_INTERVAL_SECONDS", VK_INTERVAL, CT_DUR },
	{ "HEALTH_CHECK_TIMEOUT_SECONDS", VK_TIMEOUT, CT_DUR },
	{ "HEALTH_HISTORY_RETENTION", VK_HISTORY, CT_UINT },
	{ "HEALTH_DEGRADATION_WARNING_THRESHOLD", VK_WARN, CT_PCT },
	{ "HEALTH_DEGRADATION_CRITICAL_THRESHOLD", VK_CRIT, CT_PCT },
	{ "HEALTH_LATENCY_WARNING_MS", VK_LATENCY, CT_DUR_MS },
	{ "ENABLE_PROMETHEUS_METRICS", VK_PROMETHEUS, CT_BOOL },
	{ "HEALTH_ALERT_WEBHOOK_URL", VK_WEBHOOK, CT_STR },
	{ "HEALTH_MONITORING_ENABLED", VK_MONITORING, CT_BOOL },
};

/* In enum vigil_kind order. */
static const char *const conf_kinds[VIGIL_KIND_COUNT] = {
	"http", "openai", "anthropic", "google", "deepseek", "qwen", "cursor"
};

/*
 * Record the first error as "PATH:LINE: KEY: message" (no "KEY: " when
 * key is NULL); later ones are dropped.  Always returns -1.
 */
static int
conf_err(struct conf_ctx *x, int line, const char *key, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (x->failed)
		return -1;
	x->failed = 1;
	if (x->errlen == 0)
		return -1;
	if (key != NULL)
		n = snprintf(x->err, x->errlen, "%s:%d: %s: ", x->c->path,
		    line, key);
	else
		n = snprintf(x->err, x->errlen, "%s:%d: ", x->c->path, line);
	if (n < 0 || (size_t)n >= x->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(x->err + n, x->errlen - n, fmt, ap);
	va_end(ap);
	return -1;
}

/* An error about a [vigil] value: blames its variable or its line. */
static int
conf_verr(struct conf_ctx *x, int k, const char *fmt, ...)
{
	char msg[CONF_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (x->venv[k] != NULL)
		return conf_err(x, 0, x->venv[k], "%s", msg);
	return conf_err(x, x->vline[k], conf_vkeys[k].name, "%s", msg);
}

/* strlcpy, which glibc 2.36 lacks; callers checked the length first. */
static void
conf_copy(char *dst, const char *src, size_t size)
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
static void
conf_quote(const char *s, char *out, size_t outlen)
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
static void
conf_fmt_dur(uint32_t ms, char *buf, size_t len)
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
static int
conf_parse_uint(const char *s, uint32_t *v)
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
 * "500ms", "30s", "2m", "1h", or bare digits meaning seconds.  The result
 * must fit in 32 bits of milliseconds (about 49 days).
 */
int
conf_parse_duration(const char *s, uint32_t *ms)
{
	uint64_t n = 0, frac = 0, scale = 1, mult;
	const char *p;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	for (p = s; *p >= '0' && *p <= '9'; p++) {
		n = n * 10 + (uint64_t)(*p - '0');
		if (n > UINT32_MAX)
			return -1;
	}
	/* A decimal fraction, as in HEALTH_CHECK_TIMEOUT_SECONDS=0.5. */
	if (*p == '.') {
		if (p[1] < '0' || p[1] > '9')
			return -1;
		for (p++; *p >= '0' && *p <= '9'; p++) {
			if (scale >= 1000000000)
				return -1;
			frac = frac * 10 + (uint64_t)(*p - '0');
			scale *= 10;
		}
	}
	if (*p == '\0' || strcmp(p, "s") == 0)
		mult = 1000;
	else if (strcmp(p, "ms") == 0)
		mult = 1;
	else if (strcmp(p, "m") == 0)
		mult = 60000;
	else if (strcmp(p, "h") == 0)
		mult = 3600000;
	else
		return -1;
	/* Whole milliseconds only: 1.5ms or 0.0001s is an error. */
	if ((frac * mult) % scale != 0 ||
	    n * mult + frac * mult / scale > UINT32_MAX)
		return -1;
	*ms = (uint32_t)(n * mult + frac * mult / scale);
	return 0;
}

int
conf_parse_bool(const char *s, int *v)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	if (s == NULL)
		return -1;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*v = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*v = 0;
			return 0;
		}
	}
	return -1;
}

int
conf_kind(const char *s)
{
	int i;

	if (s == NULL)
		return -1;
	for (i = 0; i < VIGIL_KIND_COUNT; i++)
		if (strcmp(s, conf_kinds[i]) == 0)
			return i;
	return -1;
}

static void
conf_defaults(struct conf *c)
{
	c->interval_ms = SEC(30);
	c->timeout_ms = SEC(10);
	c->history_retention = 1000;
	c->alert_retention = 1000;
	c->sample_capacity = 1024;
	c->max_providers = 64;
	c->warning_error_rate = 50;
	c->critical_error_rate = 80;
	c->latency_warning_ms = 2000;
	c->min_samples = 5;
	c->down_after = 4;
	c->circuit_failures = 5;
	c->circuit_successes = 2;
	c->circuit_cooldown_ms = SEC(30);
	c->circuit_cooldown_max_ms = MIN(10);
	c->fast_probe_percent = 25;
	c->alert_cooldown_ms = MIN(5);
	c->persist_interval_ms = SEC(60);
	c->watchdog_ms = SEC(30);
	c->webhook_timeout_ms = SEC(5);
	c->webhook_retries = 5;
	conf_copy(c->listen, "127.0.0.1:9470", sizeof(c->listen));
	conf_copy(c->control_socket, "/run/vigil/control.sock",
	    sizeof(c->control_socket));
	conf_copy(c->state_dir, "/var/lib/vigil", sizeof(c->state_dir));
	conf_copy(c->shm_name, VIGIL_DEFAULT_SHM, sizeof(c->shm_name));
	conf_copy(c->user, "vigil", sizeof(c->user));
	conf_copy(c->read_group, "vigil", sizeof(c->read_group));
	c->prometheus = 1;
	c->monitoring_enabled = 1;
	c->allow_fast_probes = 0;
	c->log_level = LOG_LVL_INFO;
}

/*
 * conf_load: read, override from the environment, validate.  On failure
 * c holds no allocation (conf_free on it is harmless) and err says why.
 */
int
conf_load(struct conf *c, const char *path, char *err, size_t errlen)
{
	struct conf_ctx x;
	int rc;

	memset(c, 0, sizeof(*c));
	memset(&x, 0, sizeof(x));
	x.c = c;
	x.err = err;
	x.errlen = errlen;
	if (errlen > 0)
		err[0] = '\0';
	conf_defaults(c);
	if (path == NULL || strlen(path) >= sizeof(c->path)) {
		snprintf(c->path, sizeof(c->path), "%s", "(config)");
		return conf_err(&x, 0, NULL, "path too long");
	}
	conf_copy(c->path, path, sizeof(c->path));
	if ((x.fp = fopen(path, "re")) == NULL)
		return conf_err(&x, 0, NULL, "cannot open: %s",
		    strerror(errno));

	rc = ini_parse_stream(conf_reader, &x, conf_handler, &x);
	fclose(x.fp);
	/*
	 * inih reports the first line it could not split (no '=') or whose
	 * handler failed; the reader and the handler record their own.
	 * Whichever came first is the one to report.
	 */
	if (rc > 0 && (!x.failed || rc < x.lineno)) {
		x.failed = 0;
		conf_err(&x, rc, NULL, "expected \"key = value\", a comment "
		    "or a [section] header");
	} else if (rc < 0 && !x.failed)
		conf_err(&x, 0, NULL, "out of memory");
	if (!x.failed)
		conf_env(&x);
	if (!x.failed)
		conf_validate(&x);
	free(x.plines);
	if (x.failed) {
		conf_free(c);
		return -1;
	}
	return 0;
}

void
conf_free(struct conf *c)
{
	if (c == NULL)
		return;
	free(c->providers);
	c->providers = NULL;
	c->nproviders = 0;
}

/*
 * The line source for inih: one physical line per call, without its
 * newline or leading blanks.  Returning NULL ends the parse, which is
 * what happens at the first error.
 */
static char *
conf_reader(char *str, int num, void *stream)
{
	struct conf_ctx *x = stream;
	char line[CONF_LINE_MAX + 1], *s;
	size_t n = 0, len;
	int ch, nul = 0, toolong = 0;

	if (x->failed)
		return NULL;
	if ((ch = getc(x->fp)) == EOF) {
		if (ferror(x->fp))
			conf_err(x, x->lineno, NULL, "read error: %s",
			    strerror(errno));
		return NULL;
	}
	x->lineno++;
	for (; ch != EOF && ch != '\n'; ch = getc(x->fp)) {
		if (ch == '\0')
			nul = 1;
		if (n < CONF_LINE_MAX)
			line[n++] = (char)ch;
		else
			toolong = 1;
	}
	if (ch == EOF && ferror(x->fp)) {
		conf_err(x, x->lineno, NULL, "read error: %s",
		    strerror(errno));
		return NULL;
	}
	line[n] = '\0';
	if (n > 0 && line[n - 1] == '\r')
		line[--n] = '\0';
	if (nul) {
		conf_err(x, x->lineno, NULL, "NUL byte in the line");
		return NULL;
	}
	s = line;
	if (x->lineno == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3;
	while (*s == ' ' || *s == '\t' || *s == '\v' || *s == '\f' ||
	    *s == '\r')
		s++;
	len = strlen(s);
	if (toolong || num < 2 || len > (size_t)num - 1) {
		conf_err(x, x->lineno, NULL, "line too long (at most %d "
		    "characters)", num > 1 ? num - 1 : 0);
		return NULL;
	}
	if (*s == '[' && conf_section(x, s) == -1)
		return NULL;
	memcpy(str, s, len + 1);
	return str;
}

/*
 * A "[vigil]" or "[provider "NAME"]" header line (s starts with '[').
 * inih sees the same line and only remembers the section's text; which
 * section keys belong to is decided here.
 */
static int
conf_section(struct conf_ctx *x, const char *line)
{
	char buf[CONF_LINE_MAX + 1], q[64], *end, *name, *p;

	conf_copy(buf, line, sizeof(buf));
	if ((end = strchr(buf, ']')) == NULL)
		return conf_err(x, x->lineno, NULL, "section header without "
		    "']'");
	for (p = end + 1; *p == ' ' || *p == '\t'; p++)
		;
	if (*p != '\0' && *p != ';' && *p != '#')
		return conf_err(x, x->lineno, NULL, "text after the section "
		    "header");
	*end = '\0';
	for (name = buf + 1; *name == ' ' || *name == '\t'; name++)
		;
	while (end > name && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	conf_quote(name, q, sizeof(q));
	if (strcmp(name, "vigil") == 0) {
		if (x->vigil_line != 0)
			return conf_err(x, x->lineno, "[vigil]", "section "
			    "given twice (first on line %d)", x->vigil_line);
		x->vigil_line = x->lineno;
		x->sect = SECT_VIGIL;
		return 0;
	}
	if (strncmp(name, "provider", 8) != 0 ||
	    (name[8] != ' ' && name[8] != '\t'))
		return conf_err(x, x->lineno, NULL, "[%s]: unknown section "
		    "(expected [vigil] or [provider \"NAME\"])", q);
	for (p = name + 8; *p == ' ' || *p == '\t'; p++)
		;
	if (*p != '"' || (end = strchr(p + 1, '"')) == NULL ||
	    end[1] != '\0')
		return conf_err(x, x->lineno, NULL, "[%s]: expected [provider "
		    "\"NAME\"]", q);
	*end = '\0';
	if (conf_add_provider(x, p + 1) == -1)
		return -1;
	x->sect = SECT_PROVIDER;
	return 0;
}

/* A new [provider "name"] section, with its defaults. */
static int
conf_add_provider(struct conf_ctx *x, const char *name)
{
	struct conf *c = x->c;
	struct conf_provider *p;
	struct conf_plines *pl;
	char q[64], why[128];
	size_t i, ncap;

	conf_quote(name, q, sizeof(q));
	if (conf_check_name(name, why, sizeof(why)) == -1 ||
	    strlen(name) >= sizeof(p->name))
		return conf_err(x, x->lineno, NULL, "[provider \"%s\"]: bad "
		    "provider name: 1 to %zu letters, digits, '.', '_' or "
		    "'-'", q, sizeof(p->name) - 1);
	if (strcmp(name, "all") == 0)
		return conf_err(x, x->lineno, NULL, "[provider \"all\"]: "
		    "\"all\" is reserved (it means every provider)");
	for (i = 0; i < c->nproviders; i++)
		if (strcmp(c->providers[i].name, name) == 0)
			return conf_err(x, x->lineno, NULL, "[provider "
			    "\"%s\"]: duplicate provider (first on line %d)",
			    q, c->providers[i].line);
	if (c->nproviders >= VIGIL_MAX_PROVIDERS)
		return conf_err(x, x->lineno, NULL, "[provider \"%s\"]: more "
		    "than %d providers", q, VIGIL_MAX_PROVIDERS);
	if (c->nproviders == x->pcap) {
		ncap = x->pcap ? x->pcap * 2 : 8;
		if ((p = reallocarray(c->providers, ncap, sizeof(*p))) == NULL)
			return conf_err(x, x->lineno, NULL, "out of memory");
		c->providers = p;
		if ((pl = reallocarray(x->plines, ncap, sizeof(*pl))) == NULL)
			return conf_err(x, x->lineno, NULL, "out of memory");
		x->plines = pl;
		x->pcap = ncap;
	}
	p = &c->providers[c->nproviders];
	memset(p, 0, sizeof(*p));
	memset(&x->plines[c->nproviders], 0, sizeof(x->plines[0]));
	conf_copy(p->name, name, sizeof(p->name));
	p->kind = -1;
	p->gen_interval_ms = MIN(5);
	p->enabled = 1;
	p->line = x->lineno;
	c->nproviders++;
	return 0;
}

/* inih's callback for every "key = value" line. */
static int
conf_handler(void *user, const char *section, const char *name,
    const char *value)
{
	struct conf_ctx *x = user;
	struct conf_provider *p;
	int *lines, k, n, first;
	const struct conf_key *keys;
	char q[64];
	void *base;

	(void)section;
	if (x->failed)
		return 0;
	/* A libinih built to report new sections, or keys without '=' */
	if (name == NULL)
		return 1;
	conf_quote(name, q, sizeof(q));
	if (value == NULL) {
		conf_err(x, x->lineno, q, "no value (expected \"%s = ...\")",
		    q);
		return 0;
	}
	switch (x->sect) {
	case SECT_VIGIL:
		keys = conf_vkeys;
		n = VK_COUNT;
		lines = x->vline;
		base = x->c;
		break;
	case SECT_PROVIDER:
		keys = conf_pkeys;
		n = PK_COUNT;
		lines = x->plines[x->c->nproviders - 1].line;
		base = &x->c->providers[x->c->nproviders - 1];
		break;
	default:
		conf_err(x, x->lineno, q, "outside any section (put it "
		    "under [vigil] or [provider \"NAME\"])");
		return 0;
	}
	for (k = 0; k < n; k++)
		if (strcmp(keys[k].name, name) == 0)
			break;
	if (k == n) {
		if (x->sect == SECT_VIGIL)
			conf_err(x, x->lineno, q, "unknown key in [vigil]");
		else
			conf_err(x, x->lineno, q, "unknown key in [provider "
			    "\"%s\"]", x->c->providers[x->c->nproviders -
			    1].name);
		return 0;
	}
	if (lines[k] != 0) {
		conf_err(x, x->lineno, q, "given twice (first on line %d)",
		    lines[k]);
		return 0;
	}
	lines[k] = x->lineno;
	if (conf_set(x, &keys[k], base, value, x->lineno, keys[k].name) == -1)
		return 0;

	if (x->sect == SECT_PROVIDER &&
	    (k == PK_KEY_FILE || k == PK_KEY_ENV || k == PK_KEY_CRED)) {
		p = base;
		first = 0;
		if (k != PK_KEY_FILE && lines[PK_KEY_FILE] != 0)
			first = PK_KEY_FILE;
		else if (k != PK_KEY_ENV && lines[PK_KEY_ENV] != 0)
			first = PK_KEY_ENV;
		else if (k != PK_KEY_CRED && lines[PK_KEY_CRED] != 0)
			first = PK_KEY_CRED;
		else
			return 1;
		conf_err(x, x->lineno, q, "provider \"%s\" already has %s "
		    "(line %d): give only one of api_key_file, api_key_env, "
		    "api_key_credential", p->name, conf_pkeys[first].name,
		    lines[first]);
		return 0;
	}
	return 1;
}

/*
 * Parse one value of key k into base (a struct conf or a conf_provider).
 * src names it in an error: the key, or the environment variable.
 */
static int
conf_set(struct conf_ctx *x, const struct conf_key *k, void *base,
    const char *v, int line, const char *src)
{
	char q[64], why[160], lo[16], hi[16], d[16];
	uint32_t u, *up;
	size_t len;
	const char *pct;
	char num[16];
	int b, *ip;

	up = (uint32_t *)((char *)base + k->off);
	ip = (int *)((char *)base + k->off);
	conf_quote(v, q, sizeof(q));
	switch (k->type) {
	case CT_DUR:
	case CT_DUR_MS:
		/* CT_DUR_MS: a bare number is milliseconds. */
		if ((k->type != CT_DUR_MS || conf_parse_uint(v, &u) == -1) &&
		    conf_parse_duration(v, &u) == -1)
			return conf_err(x, line, src, "\"%s\" is not a "
			    "duration (e.g. 500ms, 30s, 2m, 1h)", q);
		if (u < k->min || u > k->max) {
			conf_fmt_dur(u, d, sizeof(d));
			conf_fmt_dur(k->min, lo, sizeof(lo));
			conf_fmt_dur(k->max, hi, sizeof(hi));
			return conf_err(x, line, src, "%s is out of range "
			    "(%s to %s)", d, lo, hi);
		}
		*up = u;
		return 0;
	case CT_UINT:
	case CT_POW2:
	case CT_PCT:
		pct = v;
		if (k->type == CT_PCT && (len = strlen(v)) > 0 &&
		    v[len - 1] == '%' && len < sizeof(num)) {
			memcpy(num, v, len - 1);
			num[len - 1] = '\0';
			pct = num;
		}
		if (conf_parse_uint(pct, &u) == -1)
			return conf_err(x, line, src, "\"%s\" is not a "
			    "whole number%s", q, k->type == CT_PCT ?
			    " of percent" : "");
		if (u < k->min || u > k->max)
			return conf_err(x, line, src, "%u is out of range "
			    "(%u to %u)", u, k->min, k->max);
		if (k->type == CT_POW2 && (u & (u - 1)) != 0)
			return conf_err(x, line, src, "%u is not a power of "
			    "two", u);
		*up = u;
		return 0;
	case CT_BOOL:
		if (conf_parse_bool(v, &b) == -1)
			return conf_err(x, line, src, "\"%s\" is not yes/no "
			    "(yes, no, true, false, on, off, 1, 0)", q);
		*ip = b;
		return 0;
	case CT_LOGLEVEL:
		if (strcmp(v, "warn") == 0 || strcmp(v, "warning") == 0)
			*ip = LOG_LVL_WARN;
		else if (strcmp(v, "info") == 0)
			*ip = LOG_LVL_INFO;
		else if (strcmp(v, "debug") == 0)
			*ip = LOG_LVL_DEBUG;
		else
			return conf_err(x, line, src, "\"%s\" is not a log "
			    "level (warn, info, debug)", q);
		return 0;
	case CT_KIND:
		if ((b = conf_kind(v)) == -1)
			return conf_err(x, line, src, "\"%s\" is not a kind "
			    "(openai, anthropic, google, deepseek, qwen, "
			    "cursor, http)", q);
		*ip = b;
		return 0;
	case CT_BASEURL:
		if (strlen(v) >= k->size)
			return conf_err(x, line, src, "longer than %zu "
			    "characters", k->size - 1);
		if (conf_url(v, 0, ((struct conf_provider *)base)->host,
		    sizeof(((struct conf_provider *)base)->host), why,
		    sizeof(why)) == -1)
			return conf_err(x, line, src, "%s", why);
		conf_copy((char *)base + k->off, v, k->size);
		return 0;
	case CT_STR:
		if (strlen(v) >= k->size)
			return conf_err(x, line, src, "longer than %zu "
			    "characters", k->size - 1);
		if (k->check(v, why, sizeof(why)) == -1) {
			if (k->quote)
				return conf_err(x, line, src, "\"%s\": %s",
				    q, why);
			return conf_err(x, line, src, "%s", why);
		}
		conf_copy((char *)base + k->off, v, k->size);
		return 0;
	}
	return conf_err(x, line, src, "internal error: bad key type");
}

/*
 * The environment overrides of [vigil] (DESIGN.md).  An empty variable
 * counts as unset.  A bad value is an error on line 0 naming the
 * variable; it never quotes a URL.
 */
static int
conf_env(struct conf_ctx *x)
{
	struct conf_key k;
	const char *v;
	size_t i;

	for (i = 0; i < sizeof(conf_envs) / sizeof(conf_envs[0]); i++) {
		if ((v = getenv(conf_envs[i].var)) == NULL || *v == '\0')
			continue;
		k = conf_vkeys[conf_envs[i].key];
		k.type = conf_envs[i].type;
		if (conf_set(x, &k, x->c, v, 0, conf_envs[i].var) == -1)
			return -1;
		x->venv[conf_envs[i].key] = conf_envs[i].var;
	}
	return 0;
}

/* Rules between keys, then each provider. */
static int
conf_validate(struct conf_ctx *x)
{
	struct conf *c = x->c;
	char a[16], b[16];
	size_t i;

	if (!c->allow_fast_probes && c->interval_ms < CONF_SLOW_MIN) {
		conf_fmt_dur(c->interval_ms, a, sizeof(a));
		return conf_verr(x, VK_INTERVAL, "%s is below 10s (set "
		    "allow_fast_probes = yes to go down to 100ms)", a);
	}
	/*
	 * A check may take the whole interval (the seed's interval = 10s
	 * with its default timeout = 10s): the next one then starts as the
	 * last one gives up.  Longer would make checks overlap.
	 */
	if (c->timeout_ms > c->interval_ms) {
		conf_fmt_dur(c->timeout_ms, a, sizeof(a));
		conf_fmt_dur(c->interval_ms, b, sizeof(b));
		if (x->vline[VK_TIMEOUT] != 0 || x->venv[VK_TIMEOUT] != NULL)
			return conf_verr(x, VK_TIMEOUT, "%s is longer than "
			    "interval (%s)", a, b);
		return conf_verr(x, VK_INTERVAL, "%s is shorter than "
		    "timeout (%s)", b, a);
	}
	if (c->warning_error_rate > c->critical_error_rate) {
		if (x->vline[VK_WARN] != 0 || x->venv[VK_WARN] != NULL)
			return conf_verr(x, VK_WARN, "%u%% is above "
			    "critical_error_rate (%u%%)",
			    c->warning_error_rate, c->critical_error_rate);
		return conf_verr(x, VK_CRIT, "%u%% is below "
		    "warning_error_rate (%u%%)", c->critical_error_rate,
		    c->warning_error_rate);
	}
	if (c->circuit_cooldown_ms > c->circuit_cooldown_max_ms) {
		conf_fmt_dur(c->circuit_cooldown_ms, a, sizeof(a));
		conf_fmt_dur(c->circuit_cooldown_max_ms, b, sizeof(b));
		if (x->vline[VK_CB_COOL_MAX] != 0)
			return conf_verr(x, VK_CB_COOL_MAX, "%s is below "
			    "circuit_cooldown (%s)", b, a);
		return conf_verr(x, VK_CB_COOL, "%s is above "
		    "circuit_cooldown_max (%s)", a, b);
	}
	if (c->watchdog_ms != 0 && c->watchdog_ms < CONF_WATCHDOG_MIN) {
		conf_fmt_dur(c->watchdog_ms, a, sizeof(a));
		return conf_verr(x, VK_WATCHDOG, "%s is below 3s (children "
		    "beat once a second); 0 turns the watchdog off", a);
	}
	if (c->nproviders > c->max_providers)
		return conf_err(x, c->providers[c->max_providers].line, NULL,
		    "[provider \"%s\"]: more providers than max_providers "
		    "(%u)", c->providers[c->max_providers].name,
		    c->max_providers);
	for (i = 0; i < c->nproviders; i++)
		if (conf_validate_provider(x, i) == -1)
			return -1;
	return 0;
}

/* Required keys, and interval and timeout resolved against [vigil]. */
static int
conf_validate_provider(struct conf_ctx *x, size_t i)
{
	struct conf *c = x->c;
	struct conf_provider *p = &c->providers[i];
	int *lines = x->plines[i].line;
	char a[16], b[16];

	if (lines[PK_KIND] == 0)
		return conf_err(x, p->line, "kind", "missing in [provider "
		    "\"%s\"]", p->name);
	if (lines[PK_BASE_URL] == 0)
		return conf_err(x, p->line, "base_url", "missing in "
		    "[provider \"%s\"]", p->name);
	if (lines[PK_INTERVAL] == 0)
		p->interval_ms = c->interval_ms;
	else if (!c->allow_fast_probes && p->interval_ms < CONF_SLOW_MIN) {
		conf_fmt_dur(p->interval_ms, a, sizeof(a));
		return conf_err(x, lines[PK_INTERVAL], "interval", "%s is "
		    "below 10s (set allow_fast_probes = yes in [vigil] to go "
		    "down to 100ms)", a);
	}
	if (lines[PK_GEN_INTERVAL] != 0 && !c->allow_fast_probes &&
	    p->gen_interval_ms < CONF_SLOW_MIN) {
		conf_fmt_dur(p->gen_interval_ms, a, sizeof(a));
		return conf_err(x, lines[PK_GEN_INTERVAL], "gen_interval",
		    "%s is below 10s (set allow_fast_probes = yes in [vigil] "
		    "to go down to 100ms)", a);
	}
	if (lines[PK_TIMEOUT] == 0)
		p->timeout_ms = c->timeout_ms;
	if (p->timeout_ms > p->interval_ms) {
		conf_fmt_dur(p->timeout_ms, a, sizeof(a));
		conf_fmt_dur(p->interval_ms, b, sizeof(b));
		if (lines[PK_TIMEOUT] != 0)
			return conf_err(x, lines[PK_TIMEOUT], "timeout", "%s "
			    "is longer than interval (%s)", a, b);
		return conf_err(x, lines[PK_INTERVAL], "interval", "%s is "
		    "shorter than the timeout of [vigil] (%s); set timeout "
		    "in [provider \"%s\"] too", b, a, p->name);
	}
	return 0;
}

/*
 * http:// or https:// URL: host (name, IPv4 or [IPv6]), optional port
 * 1-65535, optional path of printable characters; no user:password@, and
 * a query or fragment only if allow_query.  The host goes to host.
 */
static int
conf_url(const char *s, int allow_query, char *host, size_t hostlen,
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
		if (conf_parse_uint(pbuf, &port) == -1 || port < 1 ||
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

/* host:port, host a name, an IPv4 address or [IPv6]; port 0-65535. */
static int
conf_check_listen(const char *s, char *why, size_t len)
{
	const char *colon, *p, *h = s, *he;
	uint32_t port;

	if (*s == '[') {
		h = s + 1;
		if ((he = strchr(h, ']')) == NULL || he == h || he[1] != ':')
			goto bad;
		for (p = h; p < he; p++)
			if (!isxdigit((unsigned char)*p) && *p != ':' &&
			    *p != '.')
				goto bad;
		colon = he + 1;
	} else {
		if ((colon = strrchr(s, ':')) == NULL || colon == s)
			goto bad;
		for (p = s; p < colon; p++)
			if (!isalnum((unsigned char)*p) && *p != '.' &&
			    *p != '-' && *p != '_')
				goto bad;
	}
	if (conf_parse_uint(colon + 1, &port) == -1 || port > 65535)
		goto bad;
	return 0;
bad:
	snprintf(why, len, "expected HOST:PORT (e.g. 127.0.0.1:9470 or "
	    "[::1]:9470)");
	return -1;
}

static int
conf_check_abspath(const char *s, char *why, size_t len)
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
conf_check_optpath(const char *s, char *why, size_t len)
{
	if (*s == '\0')
		return 0;
	return conf_check_abspath(s, why, len);
}

static int
conf_check_socket(const char *s, char *why, size_t len)
{
	if (strlen(s) >= CONF_SUN_MAX) {
		snprintf(why, len, "longer than %d characters (a Unix socket "
		    "path)", CONF_SUN_MAX - 1);
		return -1;
	}
	return conf_check_abspath(s, why, len);
}

/* "/name": one leading slash, then letters, digits, '.', '_', '-'. */
static int
conf_check_shm(const char *s, char *why, size_t len)
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

/* "" for none, or an http(s) URL; may carry a token, so never quoted. */
static int
conf_check_webhook(const char *s, char *why, size_t len)
{
	char host[256];

	if (*s == '\0')
		return 0;
	return conf_url(s, 1, host, sizeof(host), why, len);
}

/* A user, group or provider name: letters, digits, '.', '_', '-'. */
static int
conf_check_name(const char *s, char *why, size_t len)
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
conf_check_optname(const char *s, char *why, size_t len)
{
	if (*s == '\0')
		return 0;
	return conf_check_name(s, why, len);
}

static int
conf_check_envname(const char *s, char *why, size_t len)
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
conf_check_cred(const char *s, char *why, size_t len)
{
	if (*s == '.' || conf_check_name(s, why, len) == -1) {
		snprintf(why, len, "expected a credential name (letters, "
		    "digits, '.', '_', '-'; as in LoadCredential=)");
		return -1;
	}
	return 0;
}

/* "" for the kind's default, or "/..." of printable characters. */
static int
conf_check_httppath(const char *s, char *why, size_t len)
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

/* "" for off, or a model id such as gpt-4o-mini or models/gemini-pro. */
static int
conf_check_model(const char *s, char *why, size_t len)
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

const struct conf_provider *
conf_find(const struct conf *c, const char *name)
{
	size_t i;

	if (c == NULL || name == NULL)
		return NULL;
	for (i = 0; i < c->nproviders; i++)
		if (strcmp(c->providers[i].name, name) == 0)
			return &c->providers[i];
	return NULL;
}

/*
 * Everything a prober gets in its configure request, plus enabled (a
 * disabled provider has no prober).  name is the caller's match key and
 * line does not matter.  A changed secret inside the same key file is
 * not seen here: the caller compares what conf_read_secret returns.
 */
int
conf_provider_changed(const struct conf_provider *a,
    const struct conf_provider *b)
{
	return a->kind != b->kind ||
	    strcmp(a->base_url, b->base_url) != 0 ||
	    strcmp(a->host, b->host) != 0 ||
	    strcmp(a->api_key_file, b->api_key_file) != 0 ||
	    strcmp(a->api_key_env, b->api_key_env) != 0 ||
	    strcmp(a->api_key_credential, b->api_key_credential) != 0 ||
	    strcmp(a->check_path, b->check_path) != 0 ||
	    strcmp(a->ca_file, b->ca_file) != 0 ||
	    strcmp(a->gen_model, b->gen_model) != 0 ||
	    a->gen_interval_ms != b->gen_interval_ms ||
	    a->interval_ms != b->interval_ms ||
	    a->timeout_ms != b->timeout_ms ||
	    a->enabled != b->enabled;
}

/*
 * The provider's secret into buf, from whichever source it names.  A
 * file must be a regular file that neither group nor others may read
 * (checked on the opened descriptor, so a swap between check and read
 * does not matter); O_NONBLOCK so that a FIFO put there cannot hang us.
 * Errors name the provider and the source, never the content.
 */
int
conf_read_secret(const struct conf_provider *p, char *buf, size_t len,
    char *err, size_t errlen)
{
	char path[PATH_MAX];
	const char *v, *dir;

	if (errlen > 0)
		err[0] = '\0';
	if (len == 0) {
		snprintf(err, errlen, "%s: no room for the secret", p->name);
		return -1;
	}
	buf[0] = '\0';
	if (p->api_key_file[0] != '\0')
		return conf_read_file(p->name, "api_key_file",
		    p->api_key_file, buf, len, err, errlen);
	if (p->api_key_env[0] != '\0') {
		if ((v = getenv(p->api_key_env)) == NULL || *v == '\0') {
			snprintf(err, errlen, "%s: api_key_env: environment "
			    "variable %s is not set or empty", p->name,
			    p->api_key_env);
			return -1;
		}
		if (strlen(v) >= len) {
			snprintf(err, errlen, "%s: api_key_env: the value of "
			    "%s is longer than %zu bytes", p->name,
			    p->api_key_env, len - 1);
			return -1;
		}
		return conf_secret_ok(p->name, "api_key_env", v, buf, len,
		    err, errlen);
	}
	if (p->api_key_credential[0] != '\0') {
		if ((dir = getenv("CREDENTIALS_DIRECTORY")) == NULL ||
		    *dir == '\0') {
			snprintf(err, errlen, "%s: api_key_credential: "
			    "CREDENTIALS_DIRECTORY is not set (no "
			    "LoadCredential= for %s?)", p->name,
			    p->api_key_credential);
			return -1;
		}
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    p->api_key_credential) >= sizeof(path)) {
			snprintf(err, errlen, "%s: api_key_credential: path "
			    "too long", p->name);
			return -1;
		}
		return conf_read_file(p->name, "api_key_credential", path,
		    buf, len, err, errlen);
	}
	return 0;
}

/*
 * Read every enabled provider's secret as its prober would get it
 * (conf_read_secret) and throw it away: a key file at the wrong mode, a
 * missing file or an unset variable is refused by --check-config and
 * reload before anything runs with it.  Returns 0, or -1 with err (the
 * first failure; never the secret).
 */
int
conf_check_secrets(const struct conf *c, char *err, size_t errlen)
{
	char key[CONF_SECRET_MAX];
	size_t i;
	int rc = 0;

	for (i = 0; i < c->nproviders && rc == 0; i++)
		if (c->providers[i].enabled)
			rc = conf_read_secret(&c->providers[i], key,
			    sizeof(key), err, errlen);
	explicit_bzero(key, sizeof(key));
	return rc;
}

static int
conf_read_file(const char *name, const char *key, const char *path,
    char *buf, size_t len, char *err, size_t errlen)
{
	char tmp[8192];
	struct stat st;
	ssize_t n;
	size_t got = 0, max;
	int fd, rc, full;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)) ==
	    -1) {
		snprintf(err, errlen, "%s: %s %s: %s", name, key, path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s: %s %s: %s", name, key, path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: %s %s: not a regular file", name,
		    key, path);
		close(fd);
		return -1;
	}
	if ((st.st_mode & 077) != 0) {
		snprintf(err, errlen, "%s: %s %s: mode %04o lets group or "
		    "others read it; chmod 600 (or 400) it", name, key, path,
		    (unsigned)(st.st_mode & 07777));
		close(fd);
		return -1;
	}
	/* One byte more than any secret we take tells "too long". */
	for (;;) {
		n = read(fd, tmp + got, sizeof(tmp) - 1 - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(err, errlen, "%s: %s %s: %s", name, key,
			    path, strerror(errno));
			close(fd);
			explicit_bzero(tmp, sizeof(tmp));
			return -1;
		}
		got += (size_t)n;
		if (n == 0 || got == sizeof(tmp) - 1)
			break;
	}
	close(fd);
	tmp[got] = '\0';
	full = got == sizeof(tmp) - 1;
	while (got > 0 && (tmp[got - 1] == '\n' || tmp[got - 1] == '\r'))
		tmp[--got] = '\0';
	max = len < CONF_SECRET_MAX ? len - 1 : CONF_SECRET_MAX - 1;
	if (full || got > max) {
		snprintf(err, errlen, "%s: %s %s: longer than %zu bytes",
		    name, key, path, max);
		explicit_bzero(tmp, sizeof(tmp));
		return -1;
	}
	if (memchr(tmp, '\0', got) != NULL) {
		snprintf(err, errlen, "%s: %s %s: NUL byte in the secret",
		    name, key, path);
		explicit_bzero(tmp, sizeof(tmp));
		return -1;
	}
	rc = conf_secret_ok(name, key, tmp, buf, len, err, errlen);
	explicit_bzero(tmp, sizeof(tmp));
	return rc;
}

/*
 * Copy a secret out if it is fit for an HTTP header: not empty, no
 * control characters (a newline inside would split the header).
 */
static int
conf_secret_ok(const char *name, const char *key, const char *s, char *buf,
    size_t len, char *err, size_t errlen)
{
	const unsigned char *p;

	if (*s == '\0') {
		snprintf(err, errlen, "%s: %s: the secret is empty", name,
		    key);
		return -1;
	}
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f) {
			snprintf(err, errlen, "%s: %s: control character "
			    "inside the secret", name, key);
			return -1;
		}
	conf_copy(buf, s, len);
	return 0;
}
