/*
 * settings.h - every vigil.conf key once, for its whole life.
 *
 * One row per key: its name in vigil.conf and in a configure request,
 * its type, where it lives (struct conf or struct conf_provider), its
 * default, its range, and which children receive it.  conf_load parses
 * into the structs through settings_parse; vigild packs each child's
 * configure args with settings_pack; every child decodes them with
 * settings_decode, which runs the same checks into the same structs.
 * So a value `vigild --check-config` accepts is one every child
 * accepts: a child checks a subset of what conf_load checks (the same
 * per-key checks, and the rules between keys it receives both of).
 *
 * Library code: never logs, never exits.
 */
#ifndef VIGIL_SETTINGS_H
#define VIGIL_SETTINGS_H

#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "conf.h"

/* Who receives a key in its configure args (struct setting.roles). */
#define SR_PROBER	0x01u
#define SR_SPAWNER	0x02u
#define SR_AGG		0x04u
#define SR_API		0x08u
#define SR_STATUSPAGE	0x10u

/* struct setting.flags */
#define SF_QUOTE	0x01u	/* an error may quote the value */
#define SF_REQUIRED	0x02u	/* no default: a provider must give it */
#define SF_LIVE		0x04u	/* applied without a restart (set_log_level) */
#define SF_NOPROBER	0x08u	/* a provider key its prober never sees:
				   a change restarts its own reader
				   (vigil-statuspage), not the prober */

/* The largest gen_body file (settings_gen_body_read). */
#define SETTINGS_GEN_BODY_MAX	(16 * 1024)

/* Confirmations a prober runs at most (settings_confirm_failures). */
#define SETTINGS_CONFIRM_MAX	100
#define SETTINGS_FAST_MIN	100	/* ms: interval floor, allow_fast_probes */
#define SETTINGS_SLOW_MIN	10000	/* ms: interval floor without it */
/* The staleness limits are not settings: VIGIL_AGG_STALE_NS and
 * VIGIL_PROBER_STALE_INTERVALS, vigil.h's read model. */

enum setting_type {
	ST_DUR,		/* duration, bare number = seconds; wire: ms */
	ST_DUR_MS,	/* duration, bare number = ms (environment only) */
	ST_UINT,
	ST_POW2,	/* unsigned, a power of two */
	ST_PCT,		/* whole percent, optional trailing '%' */
	ST_BOOL,
	ST_STR,		/* checked by the row's check function */
	ST_LOGLEVEL,	/* warn, info, debug; wire: 0..2 */
	ST_KIND,	/* enum vigil_kind; wire: its name */
	ST_BASEURL	/* also fills conf_provider.host */
};

typedef int (*setting_check_fn)(const char *, char *, size_t);

struct setting {
	const char	*name;		/* in vigil.conf */
	const char	*wire;		/* in configure args: the field's name */
	enum setting_type type;
	size_t		 off;		/* in struct conf or conf_provider */
	size_t		 size;		/* strings: buffer size */
	uint32_t	 min, max;	/* numbers */
	uint32_t	 def;		/* default of a number, bool or level */
	const char	*def_str;	/* default of a string */
	setting_check_fn check;		/* ST_STR */
	unsigned	 roles;		/* SR_* */
	unsigned	 flags;		/* SF_* */
};

/* [vigil] keys: indexes into settings_vigil[]. */
enum {
	SV_INTERVAL, SV_TIMEOUT, SV_HISTORY, SV_ALERT_RET, SV_SAMPLE_CAP,
	SV_MAX_PROV, SV_WARN, SV_CRIT, SV_LATENCY, SV_MIN_SAMPLES,
	SV_DOWN_AFTER, SV_CB_FAIL, SV_CB_SUCC, SV_CB_COOL, SV_CB_COOL_MAX,
	SV_FAST_PCT, SV_ALERT_COOL, SV_PERSIST, SV_WH_TIMEOUT, SV_WH_RETRIES,
	SV_WATCHDOG, SV_LISTEN, SV_CONTROL, SV_STATE_DIR, SV_SHM, SV_WEBHOOK,
	SV_USER, SV_ADMIN_GROUP, SV_READ_GROUP, SV_PROMETHEUS, SV_MONITORING,
	SV_FAST_PROBES, SV_LOG_LEVEL, SV_RETRY_MAX, SV_THROTTLED_WARN,
	SV_RL_WARN, SV_MAX_MODELS,
	SV_CANARY, SV_VANTAGE_SHARE, SV_GROUP_MIN, SV_GROUP_WINDOW,
	SV_VANTAGE,
	SV_REPORT_GROUP, SV_REPORT_RATE, SV_PROBE_IDLE, SV_TRAFFIC_MIN,
	SV_COUNT
};

/* [provider "NAME"] keys: indexes into settings_provider[]. */
enum {
	SP_KIND, SP_BASE_URL, SP_KEY_FILE, SP_KEY_ENV, SP_KEY_CRED,
	SP_CHECK_PATH, SP_CA_FILE, SP_GEN_MODEL, SP_GEN_INTERVAL,
	SP_INTERVAL, SP_TIMEOUT, SP_ENABLED, SP_MODELS, SP_GEN_BUDGET,
	SP_GEN_BODY, SP_GEN_PROMPT, SP_GEN_EXPECT, SP_STATUS_PAGE,
	SP_STATUS_PAGE_INT,
	SP_COUNT
};

/*
 * A rule between two [vigil] keys: a <= b.  roles: the children that
 * check it too (they receive both keys).  An error blames a if it was
 * given (or b_first: b if it was given), else the other one.
 */
struct setting_rule {
	int		 a, b;		/* SV_* */
	const char	*a_word;	/* "A is <a_word> b (B)" */
	const char	*b_word;	/* "B is <b_word> a (A)" */
	int		 b_first;
	unsigned	 roles;
};

extern const struct setting settings_vigil[SV_COUNT];
extern const struct setting settings_provider[SP_COUNT];
extern const struct setting_rule settings_rules[];
extern const size_t settings_nrules;

/* A key/value a role's configure carries beside its settings. */
struct settings_extra {
	const char	*key;
	enum { SX_UINT, SX_STR, SX_BOOL } type;
	uint64_t	 u;
	const char	*s;
};

/* Every [vigil] default into c (zeroed first); a provider's into p. */
void	settings_defaults(struct conf *c);
void	settings_provider_defaults(struct conf_provider *p);

/*
 * Parse the text v of key k into base (a struct conf or conf_provider,
 * as k's table says).  Returns 0, or -1 with why = what is wrong
 * (quoting v only if k allows it).
 */
int	settings_parse(const struct setting *k, void *base, const char *v,
	    char *why, size_t whylen);

/* Check the rule's values in c: 0, or -1 with why (blaming a). */
int	settings_rule_ok(const struct setting_rule *r, const struct conf *c,
	    int blame_b, char *why, size_t whylen);

/*
 * Pack role's configure args: a map of every key the role receives,
 * from c ([vigil]) and p (provider keys; NULL: none), then the extra
 * pairs.  The map's size is counted from the table.
 */
void	settings_pack(msgpack_packer *pk, unsigned role, const struct conf *c,
	    const struct conf_provider *p, const struct settings_extra *x,
	    size_t nx);

/*
 * Decode role's configure args into c and p (p NULL: the role has no
 * provider keys): the defaults, then every key of the table the role
 * receives, checked as conf_load checks it, then the rules the role
 * checks.  Keys the role does not receive are ignored.  Returns 0, or
 * -1 with err ("KEY: what is wrong"; never a value).
 */
int	settings_decode(unsigned role, const msgpack_object *args,
	    struct conf *c, struct conf_provider *p, char *err, size_t errlen);

/*
 * Whether role's [vigil] settings differ between a and b, leaving out
 * those applied live (SF_LIVE: log_level).  A child restarts for it.
 */
int	settings_differ(unsigned role, const struct conf *a,
	    const struct conf *b);
/* Whether two providers' settings differ in a way their prober is
 * restarted for (every provider key but SF_NOPROBER's). */
int	settings_provider_differ(const struct conf_provider *a,
	    const struct conf_provider *b);

/*
 * The failures in a row a prober confirms quickly: until the provider
 * is down and its circuit open, whichever takes more, at most
 * SETTINGS_CONFIRM_MAX (beyond it, checks come at the interval).
 */
uint32_t settings_confirm_failures(const struct conf *c);

/* Helpers conf.c shares. */
int	settings_parse_uint(const char *s, uint32_t *v);
void	settings_fmt_dur(uint32_t ms, char *buf, size_t len);
void	settings_quote(const char *s, char *out, size_t outlen);
void	settings_copy(char *dst, const char *src, size_t size);
int	settings_check_name(const char *s, char *why, size_t len);

/*
 * Split the `canary` list ("URL, URL") into out[0..max-1], each an http
 * or https URL.  Returns the count, or -1 with why.
 */
int	settings_canaries(const char *list, char (*out)[CONF_URL_MAX],
	    size_t max, char *why, size_t whylen);
/*
 * Split a `models` list ("a, b, c": commas, blanks around them) into
 * out[0..max-1].  Returns the count, or -1 with why (a bad id, an empty
 * item, a duplicate, more than max).
 */
int	settings_models(const char *list, char (*out)[VIGIL_MODEL_MAX],
	    size_t max, char *why, size_t whylen);

/*
 * Read gen_body's file at path into buf (NUL-terminated): a regular
 * file of at most SETTINGS_GEN_BODY_MAX bytes holding one JSON object.
 * Returns 0, or -1 with why.  conf_load checks it with this, and the
 * prober reads it with this at its start.
 */
int	settings_gen_body_read(const char *path, char *buf, size_t len,
	    char *why, size_t whylen);

#endif /* VIGIL_SETTINGS_H */
