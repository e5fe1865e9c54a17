/*
 * test_settings.c - the settings table (common/settings.c): what
 * `vigild --check-config` accepts is exactly what every child that
 * receives the key accepts, key by key.
 *
 * The property: for every key of the table and a sample of values
 * (min - 1, min, max, max + 1, a number that is not one, the wrong type,
 * and for strings a few good and bad ones), conf_load of a file that
 * gives the key that value accepts it if and only if every role that
 * receives the key accepts it from its decoder (settings_decode, as each
 * child calls it), the other keys being what vigild would send.  An
 * accepted value also comes out of the decoder as conf_load read it.
 * The base file sets allow_fast_probes, interval = 300s and timeout =
 * 100ms so that the rules no child checks (the 10 s floor, timeout <=
 * interval) never bind; the rules a child does check (warning <=
 * critical, the circuit's cool-downs) are part of the property.
 */
#include <sys/stat.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <msgpack.h>

#include "t.h"
#include "conf.h"
#include "frame.h"
#include "log.h"
#include "settings.h"

#define NSAMPLE	16

enum { W_NONE, W_UINT, W_STR, W_BOOL };

/* A value: as vigil.conf writes it, and as a configure request does. */
struct sample {
	char		 text[160];
	int		 wt;		/* W_*; W_NONE: not for the wire */
	uint64_t	 u;
	char		 s[160];
};

/* Strings to try, by key: good ones, then after NULL bad ones. */
static const struct {
	const char *key;
	const char *good[4];
	const char *bad[4];
} strs[] = {
	{ "listen", { "127.0.0.1:9470", "[::1]:0", "0.0.0.0:80" },
	    { "127.0.0.1", "localhost:80", "a b:1", "127.0.0.1:65536" } },
	{ "state_dir", { "", "/tmp/vigil-state" }, { "var/lib", "/a\tb" } },
	{ "webhook_url", { "", "https://h.example/hook?t=1" },
	    { "ftp://x", "https://", "https://u:p@h/" } },
	{ "base_url", { "http://127.0.0.1:9", "https://api.example/v1" },
	    { "ftp://h", "https://h?x=1", "https://h:0", "h" } },
	{ "check_path", { "", "/v1/models" }, { "v1/models", "/a b" } },
	{ "ca_file", { "", "/etc/ssl/ca.pem" }, { "ca.pem" } },
	{ "gen_model", { "", "gpt-4o-mini", "m@1+x", "models/g:1" },
	    { "a b", "a\"b", "a\\b" } },
	{ "kind", { "openai", "http", "google" }, { "gemini", "OpenAI" } },
	{ "models", { "", "gpt-4o-mini, o3-mini", "a,b" },
	    { "a,,b", "a, a", "a b", "," } },
	{ "gen_body", { "" }, { "rel.json", "/nonexistent/b.json",
	    "/dev/null" } },
	{ "gen_prompt", { "", "ping", "Say \"OK\" \xe2\x9c\x93" },
	    { "a\tb", "\xff", "\xe2\x9c" } },
	{ "gen_expect", { "", "^[Pp]ong$", "OK|ok" }, { "(", "a{1" } },
	{ "control_socket", { "/run/x.sock" }, { "x.sock" } },
	{ "shm_name", { "/v" }, { "v" } },
	{ "user", { "vigil" }, { "-x" } },
	{ "admin_group", { "", "adm" }, { "a:b" } },
	{ "read_group", { "vigil" }, { "" } },
	{ "report_group", { "vigil-report" }, { "", "a:b" } },
	{ "api_key_file", { "/k" }, { "k" } },
	{ "api_key_env", { "K" }, { "1K" } },
	{ "api_key_credential", { "k" }, { "../k" } },
	{ "canary", { "", "https://www.example.com/",
	    "http://127.0.0.1:9/health, https://h.example" },
	    { "ftp://x", "http://a, http://a", "http://a,,",
	    "http://1,http://2,http://3,http://4,http://5,http://6,http://7,"
	    "http://8,http://9" } },
	{ "status_page", { "", "https://status.example/api/v2/summary.json",
	    "http://127.0.0.1:9/_status/p/api/v2/summary.json?x=1" },
	    { "ftp://x", "https://u:p@h/", "https://", "a b" } },
	{ "vantage", { "", "eu-west-1", "host.example" }, { "a b", "-x",
	    "a/b" } },
};

static char tdir[] = "/tmp/test_settings.XXXXXX";
static int tseq;

static const char *
wconf(const char *text)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/f%d-%d", tdir, (int)getpid(), tseq++);
	if ((f = fopen(path, "w")) == NULL || fputs(text, f) == EOF ||
	    fclose(f) != 0) {
		perror(path);
		exit(2);
	}
	return path;
}

static int
is_provider(const struct setting *k)
{
	return k >= settings_provider && k < settings_provider + SP_COUNT;
}

/*
 * The file: the base, with key k given the text v (v NULL: the base
 * alone).  Base keys that k is are left out.
 */
static void
conf_text(const struct setting *k, const char *v, char *buf, size_t len)
{
	static const char *const vbase[] = { "allow_fast_probes", "yes",
	    "interval", "300s", "timeout", "100ms" };
	static const char *const pbase[] = { "kind", "http", "base_url",
	    "http://127.0.0.1:9" };
	size_t i, n;

	n = (size_t)snprintf(buf, len, "[vigil]\n");
	for (i = 0; i < 6; i += 2)
		if (k == NULL || is_provider(k) || strcmp(k->name, vbase[i]) != 0)
			n += (size_t)snprintf(buf + n, len - n, "%s = %s\n",
			    vbase[i], vbase[i + 1]);
	if (k != NULL && v != NULL && !is_provider(k))
		n += (size_t)snprintf(buf + n, len - n, "%s = %s\n", k->name, v);
	n += (size_t)snprintf(buf + n, len - n, "[provider \"p\"]\n");
	for (i = 0; i < 4; i += 2)
		if (k == NULL || !is_provider(k) || strcmp(k->name, pbase[i]) != 0)
			n += (size_t)snprintf(buf + n, len - n, "%s = %s\n",
			    pbase[i], pbase[i + 1]);
	if (k != NULL && v != NULL && is_provider(k))
		snprintf(buf + n, len - n, "%s = %s\n", k->name, v);
}

static void
add_num(struct sample *s, int *n, const struct setting *k, uint64_t u)
{
	struct sample *x = &s[(*n)++];

	memset(x, 0, sizeof(*x));
	if (k->type == ST_DUR)
		snprintf(x->text, sizeof(x->text), "%llums",
		    (unsigned long long)u);
	else if (k->type == ST_PCT && u % 2 == 0)
		snprintf(x->text, sizeof(x->text), "%llu%%",
		    (unsigned long long)u);
	else
		snprintf(x->text, sizeof(x->text), "%llu",
		    (unsigned long long)u);
	x->wt = W_UINT;
	x->u = u;
}

static void
add_str(struct sample *s, int *n, const char *text, int wt, uint64_t u)
{
	struct sample *x = &s[(*n)++];

	memset(x, 0, sizeof(*x));
	snprintf(x->text, sizeof(x->text), "%s", text);
	snprintf(x->s, sizeof(x->s), "%s", text);
	x->wt = wt;
	x->u = u;
}

/* Bools and levels: as written, and as sent (a string: the wrong type). */
static const struct {
	enum setting_type type;
	const char *text;
	int wt;
	uint64_t u;
} words[] = {
	{ ST_BOOL, "yes", W_BOOL, 1 }, { ST_BOOL, "off", W_BOOL, 0 },
	{ ST_BOOL, "maybe", W_STR, 0 }, { ST_BOOL, "2", W_STR, 0 },
	{ ST_LOGLEVEL, "warn", W_UINT, 0 }, { ST_LOGLEVEL, "debug", W_UINT, 2 },
	{ ST_LOGLEVEL, "trace", W_STR, 0 }, { ST_LOGLEVEL, "3", W_UINT, 3 },
};

/* The samples of key k; returns how many, or -1 (no strings known). */
static int
samples(const struct setting *k, struct sample *s)
{
	size_t i, j;
	int n = 0;

	switch (k->type) {
	case ST_DUR:
	case ST_UINT:
	case ST_POW2:
	case ST_PCT:
		if (k->min > 0)
			add_num(s, &n, k, k->min - 1);
		add_num(s, &n, k, k->min);
		add_num(s, &n, k, k->max);
		add_num(s, &n, k, (uint64_t)k->max + 1);
		if (k->type == ST_POW2)
			add_num(s, &n, k, k->min + 1);
		/* Not numbers: in a file a word, on the wire a string. */
		add_str(s, &n, "abc", W_STR, 0);
		add_str(s, &n, "-1", W_STR, 0);
		return n;
	case ST_BOOL:
	case ST_LOGLEVEL:
		for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
			if (words[i].type == k->type)
				add_str(s, &n, words[i].text, words[i].wt,
				    words[i].u);
		return n;
	default:
		break;
	}
	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		if (strcmp(strs[i].key, k->name) != 0)
			continue;
		for (j = 0; j < 4 && strs[i].good[j] != NULL; j++)
			add_str(s, &n, strs[i].good[j], W_STR, 0);
		for (j = 0; j < 4 && strs[i].bad[j] != NULL; j++)
			add_str(s, &n, strs[i].bad[j], W_STR, 0);
		return n;
	}
	return -1;
}

/*
 * role's args as vigild packs them from c, with key k's value replaced
 * by w (or, if wrong, by a value of the wrong type), decoded by the
 * role's decoder into dc/dp.  Returns 0 (accepted) or -1.
 */
static int
child_accepts(unsigned role, const struct conf *c, const struct setting *k,
    const struct sample *w, int wrong, struct conf *dc,
    struct conf_provider *dp, char *err, size_t errlen)
{
	msgpack_sbuffer sb, sb2;
	msgpack_packer pk;
	msgpack_unpacked u, u2;
	const msgpack_object_kv *kv;
	uint32_t i;
	int rc;

	err[0] = '\0';
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	settings_pack(&pk, role, c, role == SR_PROBER ? &c->providers[0] :
	    NULL, NULL, 0);
	msgpack_unpacked_init(&u);
	T_CHECK(msgpack_unpack_next(&u, sb.data, sb.size, NULL) ==
	    MSGPACK_UNPACK_SUCCESS);
	msgpack_sbuffer_init(&sb2);
	msgpack_packer_init(&pk, &sb2, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, u.data.via.map.size);
	for (i = 0; i < u.data.via.map.size; i++) {
		kv = &u.data.via.map.ptr[i];
		msgpack_pack_object(&pk, kv->key);
		if (!mp_streq(&kv->key, k->wire))
			msgpack_pack_object(&pk, kv->val);
		else if (wrong)
			/* a string for a number, a number for the rest */
			if (w->wt == W_UINT)
				mp_str(&pk, "1");
			else
				msgpack_pack_uint64(&pk, 1);
		else if (w->wt == W_UINT)
			msgpack_pack_uint64(&pk, w->u);
		else if (w->wt == W_BOOL)
			w->u ? msgpack_pack_true(&pk) : msgpack_pack_false(&pk);
		else
			mp_str(&pk, w->s);
	}
	msgpack_unpacked_init(&u2);
	T_CHECK(msgpack_unpack_next(&u2, sb2.data, sb2.size, NULL) ==
	    MSGPACK_UNPACK_SUCCESS);
	rc = settings_decode(role, &u2.data, dc, dp, err, errlen);
	msgpack_unpacked_destroy(&u);
	msgpack_unpacked_destroy(&u2);
	msgpack_sbuffer_destroy(&sb);
	msgpack_sbuffer_destroy(&sb2);
	return rc;
}

static const unsigned roles[] = { SR_PROBER, SR_SPAWNER, SR_AGG, SR_API };

/* Whether key k has the same value in the two structs. */
static int
same(const struct setting *k, const void *a, const void *b)
{
	const char *fa = (const char *)a + k->off;
	const char *fb = (const char *)b + k->off;

	if (k->type == ST_STR || k->type == ST_BASEURL)
		return strcmp(fa, fb) == 0;
	return memcmp(fa, fb, 4) == 0;
}

static void
check_key(const struct setting *k)
{
	struct sample s[NSAMPLE];
	struct conf c, base, dc;
	struct conf_provider dp;
	char text[1024], err[CONF_ERR_MAX], cerr[256];
	int n, i, ok_conf, ok_child;
	size_t r;

	n = samples(k, s);
	T_CHECKF(n > 0, "%s: no sample values (add it to strs[])", k->name);
	conf_text(NULL, NULL, text, sizeof(text));
	T_CHECKF(conf_load(&base, wconf(text), err, sizeof(err)) == 0, "%s",
	    err);
	for (i = 0; i < n; i++) {
		conf_text(k, s[i].text, text, sizeof(text));
		ok_conf = conf_load(&c, wconf(text), err, sizeof(err)) == 0;
		for (r = 0; r < sizeof(roles) / sizeof(roles[0]); r++) {
			if (!(k->roles & roles[r]))
				continue;
			ok_child = child_accepts(roles[r], &base, k, &s[i], 0,
			    &dc, &dp, cerr, sizeof(cerr)) == 0;
			T_CHECKF(ok_conf == ok_child, "%s = %s: conf %s, role "
			    "%#x %s (%s)", k->name, s[i].text, ok_conf ?
			    "accepts" : err, roles[r], ok_child ? "accepts" :
			    "refuses", cerr);
			if (ok_conf && ok_child)
				T_CHECKF(same(k, is_provider(k) ?
				    (void *)&c.providers[0] : (void *)&c,
				    is_provider(k) ? (void *)&dp : (void *)&dc),
				    "%s = %s: decoded differently", k->name,
				    s[i].text);
			if (ok_conf)
				/* The wrong type never passes. */
				T_CHECKF(child_accepts(roles[r], &base, k,
				    &s[i], 1, &dc, &dp, cerr, sizeof(cerr)) ==
				    -1, "%s: role %#x takes a wrong type",
				    k->name, roles[r]);
		}
		conf_free(&c);
	}
	conf_free(&base);
}

/* Every key, every role that receives it. */
static void
test_property(void)
{
	size_t i;

	for (i = 0; i < SV_COUNT; i++)
		check_key(&settings_vigil[i]);
	for (i = 0; i < SP_COUNT; i++)
		check_key(&settings_provider[i]);
}

/* A rule a child checks is between keys it receives both of. */
static void
test_rules_keys(void)
{
	size_t i;

	for (i = 0; i < settings_nrules; i++) {
		const struct setting_rule *r = &settings_rules[i];

		T_CHECK((settings_vigil[r->a].roles & r->roles) == r->roles);
		T_CHECK((settings_vigil[r->b].roles & r->roles) == r->roles);
	}
}

/*
 * Issue 15's drift: warning_error_rate = 0 passed --check-config, then
 * the aggregator refused it and exited 125.  A rate "at or above 0" is
 * every rate (every provider degraded), so conf refuses it now, from
 * the file and from the environment, and the aggregator agrees on 0
 * and on 1.
 */
static void
test_warning_zero(void)
{
	struct conf c, dc;
	struct sample z = { .wt = W_UINT, .u = 0 }, one = { .wt = W_UINT,
	    .u = 1 };
	char text[1024], err[CONF_ERR_MAX], cerr[256];

	T_CHECK(conf_load(&c, wconf("[vigil]\nwarning_error_rate = 0\n"), err,
	    sizeof(err)) == -1 && strstr(err, "warning_error_rate") != NULL);
	setenv("HEALTH_DEGRADATION_WARNING_THRESHOLD", "0", 1);
	T_CHECK(conf_load(&c, wconf("[vigil]\n"), err, sizeof(err)) == -1 &&
	    strstr(err, "HEALTH_DEGRADATION_WARNING_THRESHOLD") != NULL);
	unsetenv("HEALTH_DEGRADATION_WARNING_THRESHOLD");
	conf_text(NULL, NULL, text, sizeof(text));
	T_CHECK(conf_load(&c, wconf(text), err, sizeof(err)) == 0);
	T_CHECK(child_accepts(SR_AGG, &c, &settings_vigil[SV_WARN], &z, 0,
	    &dc, NULL, cerr, sizeof(cerr)) == -1);
	T_CHECK(child_accepts(SR_AGG, &c, &settings_vigil[SV_WARN], &one, 0,
	    &dc, NULL, cerr, sizeof(cerr)) == 0 && dc.warning_error_rate == 1);
	conf_free(&c);
	T_CHECK(conf_load(&c, wconf("[vigil]\nwarning_error_rate = 1\n"), err,
	    sizeof(err)) == 0 && c.warning_error_rate == 1);
	conf_free(&c);
}

/*
 * What vigild packs for each role decodes to what conf_load read, and
 * the map's size is the table's count (msgpack would not parse a map
 * whose size lies).  The prober's extras come after its settings.
 */
static void
test_pack_roundtrip(void)
{
	const struct settings_extra x[] = {
		{ "slot", SX_UINT, 3, NULL }, { "name", SX_STR, 0, "p" },
		{ "paused", SX_BOOL, 1, NULL },
	};
	struct conf c, dc;
	struct conf_provider dp;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked u;
	char err[CONF_ERR_MAX];
	uint64_t v;
	size_t r, i;
	int b;

	T_CHECK(conf_load(&c, wconf("[vigil]\nwarning_error_rate = 7\n"
	    "log_level = debug\nstate_dir = /s\ncircuit_failures = 900\n"
	    "[provider \"p\"]\nkind = google\nbase_url = https://g:8/x\n"
	    "gen_model = m1\ninterval = 45s\n"), err, sizeof(err)) == 0);
	for (r = 0; r < sizeof(roles) / sizeof(roles[0]); r++) {
		msgpack_sbuffer_init(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		settings_pack(&pk, roles[r], &c, roles[r] == SR_PROBER ?
		    &c.providers[0] : NULL, x, roles[r] == SR_PROBER ? 3 : 0);
		msgpack_unpacked_init(&u);
		T_CHECK(msgpack_unpack_next(&u, sb.data, sb.size, NULL) ==
		    MSGPACK_UNPACK_SUCCESS);
		T_CHECK(settings_decode(roles[r], &u.data, &dc, &dp, err,
		    sizeof(err)) == 0);
		for (i = 0; i < SV_COUNT; i++)
			if (settings_vigil[i].roles & roles[r])
				T_CHECKF(same(&settings_vigil[i], &c, &dc),
				    "%s", settings_vigil[i].name);
		if (roles[r] == SR_PROBER) {
			for (i = 0; i < SP_COUNT; i++)
				if (settings_provider[i].roles & SR_PROBER)
					T_CHECKF(same(&settings_provider[i],
					    &c.providers[0], &dp), "%s",
					    settings_provider[i].name);
			T_CHECK(strcmp(dp.host, "g") == 0);
			T_CHECK(mp_get_uint(&u.data, "slot", &v) == 0 &&
			    v == 3);
			T_CHECK(mp_get_bool(&u.data, "paused", &b) == 0 && b);
			/* The derived value, computed in one place. */
			T_CHECK(settings_confirm_failures(&dc) ==
			    SETTINGS_CONFIRM_MAX);
		}
		T_CHECK(dc.log_level == 2);
		/* vigil-api never gets the webhook (it may hold a token). */
		if (roles[r] == SR_API)
			T_CHECK(mp_get(&u.data, "webhook_url") == NULL);
		msgpack_unpacked_destroy(&u);
		msgpack_sbuffer_destroy(&sb);
	}
	conf_free(&c);
}

/* A reload that changes only log_level restarts nobody. */
static void
test_differ(void)
{
	struct conf a, b;
	struct conf_provider pa, pb;

	settings_defaults(&a);
	b = a;
	b.log_level = LOG_LVL_DEBUG;
	T_CHECK(!settings_differ(SR_AGG, &a, &b));
	T_CHECK(!settings_differ(SR_API, &a, &b));
	T_CHECK(!settings_differ(SR_SPAWNER, &a, &b));
	b.prometheus = 0;
	T_CHECK(settings_differ(SR_API, &a, &b));
	T_CHECK(!settings_differ(SR_AGG, &a, &b));
	b = a;
	snprintf(b.webhook_url, sizeof(b.webhook_url), "http://h/");
	T_CHECK(settings_differ(SR_AGG, &a, &b));
	T_CHECK(!settings_differ(SR_API, &a, &b));
	settings_provider_defaults(&pa);
	pb = pa;
	T_CHECK(!settings_provider_differ(&pa, &pb));
	pb.timeout_ms++;
	T_CHECK(settings_provider_differ(&pa, &pb));
	pb = pa;
	pb.enabled = 0;
	T_CHECK(settings_provider_differ(&pa, &pb));
	/* vigil-statuspage's keys restart it, never the prober. */
	pb = pa;
	snprintf(pb.status_page, sizeof(pb.status_page), "http://h/s");
	pb.status_page_interval_ms++;
	T_CHECK(!settings_provider_differ(&pa, &pb));
}

/* Missing required keys and a missing map are refused by the decoder. */
static void
test_decode_required(void)
{
	struct conf c;
	struct conf_provider p;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked u;
	char err[256];

	T_CHECK(settings_decode(SR_AGG, NULL, &c, NULL, err, sizeof(err)) ==
	    -1);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	mp_kv_str(&pk, "base_url", "http://h");
	msgpack_unpacked_init(&u);
	T_CHECK(msgpack_unpack_next(&u, sb.data, sb.size, NULL) ==
	    MSGPACK_UNPACK_SUCCESS);
	T_CHECK(settings_decode(SR_PROBER, &u.data, &c, &p, err, sizeof(err))
	    == -1 && strstr(err, "kind: missing") != NULL);
	/* Other roles have no required key: defaults for the rest. */
	T_CHECK(settings_decode(SR_AGG, &u.data, &c, NULL, err, sizeof(err))
	    == 0 && c.warning_error_rate == 50);
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);
}

/* The models list: split, trimmed, checked; max_models enforced. */
static void
test_models_list(void)
{
	char out[4][VIGIL_MODEL_MAX], why[128];
	struct conf c;
	char err[CONF_ERR_MAX];

	T_CHECK(settings_models(" gpt-4o-mini ,o3-mini,\tclaude-3-5-haiku ",
	    out, 4, why, sizeof(why)) == 3);
	T_CHECK(strcmp(out[0], "gpt-4o-mini") == 0 &&
	    strcmp(out[1], "o3-mini") == 0 &&
	    strcmp(out[2], "claude-3-5-haiku") == 0);
	T_CHECK(settings_models("", out, 4, why, sizeof(why)) == 0);
	T_CHECK(settings_models("a,b,c,d,e", out, 4, why, sizeof(why)) == -1 &&
	    strstr(why, "more than 4") != NULL);
	T_CHECK(settings_models("a, ,b", out, 4, why, sizeof(why)) == -1 &&
	    strstr(why, "empty") != NULL);
	T_CHECK(settings_models("a,a", out, 4, why, sizeof(why)) == -1 &&
	    strstr(why, "twice") != NULL);
	/* vigil.conf: more models than max_models is refused with its line */
	T_CHECK(conf_load(&c, wconf("[vigil]\nmax_models = 2\n[provider "
	    "\"p\"]\nkind = openai\nbase_url = http://127.0.0.1:9\n"
	    "models = a, b, c\n"), err, sizeof(err)) == -1);
	T_CHECKF(strstr(err, ":6: models: more than 2 models (max_models") !=
	    NULL, "%s", err);
}

int
main(void)
{
	char cmd[300];

	unsetenv("HEALTH_DEGRADATION_WARNING_THRESHOLD");
	unsetenv("HEALTH_DEGRADATION_CRITICAL_THRESHOLD");
	unsetenv("HEALTH_CHECK_INTERVAL_SECONDS");
	unsetenv("HEALTH_CHECK_TIMEOUT_SECONDS");
	unsetenv("HEALTH_HISTORY_RETENTION");
	unsetenv("HEALTH_LATENCY_WARNING_MS");
	unsetenv("ENABLE_PROMETHEUS_METRICS");
	unsetenv("HEALTH_ALERT_WEBHOOK_URL");
	unsetenv("HEALTH_MONITORING_ENABLED");
	if (mkdtemp(tdir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	T_RUN(test_property);
	T_RUN(test_rules_keys);
	T_RUN(test_warning_zero);
	T_RUN(test_pack_roundtrip);
	T_RUN(test_differ);
	T_RUN(test_decode_required);
	T_RUN(test_models_list);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tdir);
	return t_done();
}
