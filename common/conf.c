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
#include "settings.h"

#define CONF_LINE_MAX	1024	/* read buffer; inih's own limit is lower */
#define CONF_WATCHDOG_MIN 3000	/* ms: children beat once a second */

struct conf_env {
	const char	*var;
	int		 key;		/* SV_*, index in settings_vigil */
	enum setting_type type;		/* if it differs from the key's */
};

enum conf_sect {
	SECT_NONE,	/* before the first header */
	SECT_VIGIL,
	SECT_PROVIDER
};

struct conf_plines {
	int line[SP_COUNT];	/* line of each key, 0 = not given */
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
	int			 vline[SV_COUNT];	/* 0 = not in the file */
	const char		*venv[SV_COUNT];	/* set by this variable */
	struct conf_plines	*plines;	/* parallel to c->providers */
	size_t			 pcap;
};

static int	conf_err(struct conf_ctx *, int, const char *, const char *,
		    ...) __attribute__((format(printf, 4, 5)));
static int	conf_verr(struct conf_ctx *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static void	conf_defaults(struct conf *);
static char	*conf_reader(char *, int, void *);
static int	conf_section(struct conf_ctx *, const char *);
static int	conf_add_provider(struct conf_ctx *, const char *);
static int	conf_handler(void *, const char *, const char *, const char *);
static int	conf_set(struct conf_ctx *, const struct setting *, void *,
		    const char *, int, const char *);
static int	conf_env(struct conf_ctx *);
static int	conf_validate(struct conf_ctx *);
static int	conf_validate_provider(struct conf_ctx *, size_t);
static int	conf_read_file(const char *, const char *, const char *,
		    char *, size_t, char *, size_t);
static int	conf_secret_ok(const char *, const char *, const char *,
		    char *, size_t, char *, size_t);

/* The environment variables of the original specification. */
static const struct conf_env conf_envs[] = {
	{ "HEALTH_CHECK_INTERVAL_SECONDS", SV_INTERVAL, ST_DUR },
	{ "HEALTH_CHECK_TIMEOUT_SECONDS", SV_TIMEOUT, ST_DUR },
	{ "HEALTH_HISTORY_RETENTION", SV_HISTORY, ST_UINT },
	{ "HEALTH_DEGRADATION_WARNING_THRESHOLD", SV_WARN, ST_PCT },
	{ "HEALTH_DEGRADATION_CRITICAL_THRESHOLD", SV_CRIT, ST_PCT },
	{ "HEALTH_LATENCY_WARNING_MS", SV_LATENCY, ST_DUR_MS },
	{ "ENABLE_PROMETHEUS_METRICS", SV_PROMETHEUS, ST_BOOL },
	{ "HEALTH_ALERT_WEBHOOK_URL", SV_WEBHOOK, ST_STR },
	{ "HEALTH_MONITORING_ENABLED", SV_MONITORING, ST_BOOL },
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
	return conf_err(x, x->vline[k], settings_vigil[k].name, "%s", msg);
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
		if (strcmp(s, vigil_kind_name((unsigned)i)) == 0)
			return i;
	return -1;
}

/* The defaults of settings.c's table. */
static void
conf_defaults(struct conf *c)
{
	settings_defaults(c);
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
	settings_copy(c->path, path, sizeof(c->path));
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

	settings_copy(buf, line, sizeof(buf));
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
	settings_quote(name, q, sizeof(q));
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

	settings_quote(name, q, sizeof(q));
	if (settings_check_name(name, why, sizeof(why)) == -1 ||
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
	settings_provider_defaults(p);
	memset(&x->plines[c->nproviders], 0, sizeof(x->plines[0]));
	settings_copy(p->name, name, sizeof(p->name));
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
	const struct setting *keys;
	char q[64];
	void *base;

	(void)section;
	if (x->failed)
		return 0;
	/* A libinih built to report new sections, or keys without '=' */
	if (name == NULL)
		return 1;
	settings_quote(name, q, sizeof(q));
	if (value == NULL) {
		conf_err(x, x->lineno, q, "no value (expected \"%s = ...\")",
		    q);
		return 0;
	}
	switch (x->sect) {
	case SECT_VIGIL:
		keys = settings_vigil;
		n = SV_COUNT;
		lines = x->vline;
		base = x->c;
		break;
	case SECT_PROVIDER:
		keys = settings_provider;
		n = SP_COUNT;
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
	    (k == SP_KEY_FILE || k == SP_KEY_ENV || k == SP_KEY_CRED)) {
		p = base;
		first = 0;
		if (k != SP_KEY_FILE && lines[SP_KEY_FILE] != 0)
			first = SP_KEY_FILE;
		else if (k != SP_KEY_ENV && lines[SP_KEY_ENV] != 0)
			first = SP_KEY_ENV;
		else if (k != SP_KEY_CRED && lines[SP_KEY_CRED] != 0)
			first = SP_KEY_CRED;
		else
			return 1;
		conf_err(x, x->lineno, q, "provider \"%s\" already has %s "
		    "(line %d): give only one of api_key_file, api_key_env, "
		    "api_key_credential", p->name, settings_provider[first].name,
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
conf_set(struct conf_ctx *x, const struct setting *k, void *base,
    const char *v, int line, const char *src)
{
	char why[CONF_ERR_MAX];

	if (settings_parse(k, base, v, why, sizeof(why)) == -1)
		return conf_err(x, line, src, "%s", why);
	return 0;
}

/*
 * The environment overrides of [vigil] (DESIGN.md).  An empty variable
 * counts as unset.  A bad value is an error on line 0 naming the
 * variable; it never quotes a URL.
 */
static int
conf_env(struct conf_ctx *x)
{
	struct setting k;
	const char *v;
	size_t i;

	for (i = 0; i < sizeof(conf_envs) / sizeof(conf_envs[0]); i++) {
		if ((v = getenv(conf_envs[i].var)) == NULL || *v == '\0')
			continue;
		k = settings_vigil[conf_envs[i].key];
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
	char a[16], why[CONF_ERR_MAX];
	size_t i;

	if (!c->allow_fast_probes && c->interval_ms < SETTINGS_SLOW_MIN) {
		settings_fmt_dur(c->interval_ms, a, sizeof(a));
		return conf_verr(x, SV_INTERVAL, "%s is below 10s (set "
		    "allow_fast_probes = yes to go down to 100ms)", a);
	}
	/*
	 * a <= b (settings_rules): timeout and interval (a check may take
	 * the whole interval, as in the seed's interval = 10s with the
	 * default timeout = 10s; longer would make checks overlap), the
	 * error rates, the circuit's cool-downs.
	 */
	for (i = 0; i < settings_nrules; i++) {
		const struct setting_rule *r = &settings_rules[i];
		int ga = x->vline[r->a] != 0 || x->venv[r->a] != NULL;
		int gb = x->vline[r->b] != 0 || x->venv[r->b] != NULL;
		int blame_b = r->b_first ? gb : !ga;

		if (settings_rule_ok(r, c, blame_b, why, sizeof(why)) == -1)
			return conf_verr(x, blame_b ? r->b : r->a, "%s", why);
	}
	if (c->watchdog_ms != 0 && c->watchdog_ms < CONF_WATCHDOG_MIN) {
		settings_fmt_dur(c->watchdog_ms, a, sizeof(a));
		return conf_verr(x, SV_WATCHDOG, "%s is below 3s (children "
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
	char a[16], b[16], why[128];
	static char models[VIGIL_MAX_MODELS][VIGIL_MODEL_MAX];

	if (lines[SP_KIND] == 0)
		return conf_err(x, p->line, "kind", "missing in [provider "
		    "\"%s\"]", p->name);
	if (lines[SP_BASE_URL] == 0)
		return conf_err(x, p->line, "base_url", "missing in "
		    "[provider \"%s\"]", p->name);
	if (lines[SP_INTERVAL] == 0)
		p->interval_ms = c->interval_ms;
	else if (!c->allow_fast_probes && p->interval_ms < SETTINGS_SLOW_MIN) {
		settings_fmt_dur(p->interval_ms, a, sizeof(a));
		return conf_err(x, lines[SP_INTERVAL], "interval", "%s is "
		    "below 10s (set allow_fast_probes = yes in [vigil] to go "
		    "down to 100ms)", a);
	}
	if (lines[SP_GEN_INTERVAL] != 0 && !c->allow_fast_probes &&
	    p->gen_interval_ms < SETTINGS_SLOW_MIN) {
		settings_fmt_dur(p->gen_interval_ms, a, sizeof(a));
		return conf_err(x, lines[SP_GEN_INTERVAL], "gen_interval",
		    "%s is below 10s (set allow_fast_probes = yes in [vigil] "
		    "to go down to 100ms)", a);
	}
	if (settings_models(p->models, models, c->max_models, why,
	    sizeof(why)) == -1)
		return conf_err(x, lines[SP_MODELS], "models", "%s%s", why,
		    strstr(why, "more than") != NULL ? " (max_models in "
		    "[vigil])" : "");
	if (lines[SP_TIMEOUT] == 0)
		p->timeout_ms = c->timeout_ms;
	if (p->timeout_ms > p->interval_ms) {
		settings_fmt_dur(p->timeout_ms, a, sizeof(a));
		settings_fmt_dur(p->interval_ms, b, sizeof(b));
		if (lines[SP_TIMEOUT] != 0)
			return conf_err(x, lines[SP_TIMEOUT], "timeout", "%s "
			    "is longer than interval (%s)", a, b);
		return conf_err(x, lines[SP_INTERVAL], "interval", "%s is "
		    "shorter than the timeout of [vigil] (%s); set timeout "
		    "in [provider \"%s\"] too", b, a, p->name);
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
	return settings_provider_differ(a, b);
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
	settings_copy(buf, s, len);
	return 0;
}
