/*
 * test_conf.c - common/conf.c: every default and key, durations, bools,
 * every error path with its exact file:line, environment overrides,
 * conf_provider_changed, conf_read_secret, and the packaged vigil.conf.
 *
 * Run from the repository root (packaging/vigil.conf, docs/vigil.conf.5).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "settings.h"
#include "t.h"

static char tdir[] = "/tmp/test_conf.XXXXXX";
static int tseq;

static const char *const env_vars[] = {
	"HEALTH_CHECK_INTERVAL_SECONDS", "HEALTH_CHECK_TIMEOUT_SECONDS",
	"HEALTH_HISTORY_RETENTION", "HEALTH_DEGRADATION_WARNING_THRESHOLD",
	"HEALTH_DEGRADATION_CRITICAL_THRESHOLD", "HEALTH_LATENCY_WARNING_MS",
	"ENABLE_PROMETHEUS_METRICS", "HEALTH_ALERT_WEBHOOK_URL",
	"HEALTH_MONITORING_ENABLED", "CREDENTIALS_DIRECTORY"
};

/*
 * Every [vigil] and provider key, from the one table (common/settings.c):
 * the docs and the default file must name them.
 */
static const char *
key_name(size_t i)
{
	if (i < SV_COUNT)
		return settings_vigil[i].name;
	if (i < SV_COUNT + SP_COUNT)
		return settings_provider[i - SV_COUNT].name;
	return NULL;
}

/* Write text to a fresh file in tdir; returns its path (static buffer). */
static const char *
tfile(const char *text, size_t len, mode_t mode)
{
	static char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/f%d-%d", tdir, (int)getpid(), tseq++);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd == -1 || write(fd, text, len) != (ssize_t)len) {
		perror(path);
		exit(2);
	}
	fchmod(fd, mode);
	close(fd);
	return path;
}

static const char *
wconf(const char *text)
{
	return tfile(text, strlen(text), 0644);
}

/* Load text; it must succeed. */
static int
load_ok(struct conf *c, const char *text)
{
	char err[CONF_ERR_MAX];
	int rc;

	rc = conf_load(c, wconf(text), err, sizeof(err));
	T_CHECKF(rc == 0, "unexpected error: %s", err);
	return rc;
}

/*
 * Load text; it must fail with an error starting "PATH:" + want (the
 * line and key part, e.g. "3: interval: ").  Returns the error text for
 * further checks.
 */
static const char *
load_err(const char *text, const char *want)
{
	static char err[CONF_ERR_MAX];
	char exp[512];
	struct conf c;
	const char *path;
	int rc;

	path = wconf(text);
	rc = conf_load(&c, path, err, sizeof(err));
	T_CHECKF(rc == -1, "loaded, but want \"%s\"", want);
	T_CHECK(c.providers == NULL && c.nproviders == 0);
	snprintf(exp, sizeof(exp), "%s:%s", path, want);
	T_CHECKF(strncmp(err, exp, strlen(exp)) == 0, "got \"%s\", want "
	    "\"%s...\"", err, exp);
	conf_free(&c);
	return err;
}

static void
test_defaults(void)
{
	struct conf c;

	if (load_ok(&c, "") != 0)
		return;
	T_CHECK(c.interval_ms == 30000);
	T_CHECK(c.timeout_ms == 10000);
	T_CHECK(c.history_retention == 1000);
	T_CHECK(c.alert_retention == 1000);
	T_CHECK(c.sample_capacity == 1024);
	T_CHECK(c.max_providers == 64);
	T_CHECK(c.warning_error_rate == 50);
	T_CHECK(c.critical_error_rate == 80);
	T_CHECK(c.latency_warning_ms == 2000);
	T_CHECK(c.min_samples == 5);
	T_CHECK(c.down_after == 4);
	T_CHECK(c.circuit_failures == 5);
	T_CHECK(c.circuit_successes == 2);
	T_CHECK(c.circuit_cooldown_ms == 30000);
	T_CHECK(c.circuit_cooldown_max_ms == 600000);
	T_CHECK(c.fast_probe_percent == 25);
	T_CHECK(c.alert_cooldown_ms == 300000);
	T_CHECK(c.persist_interval_ms == 60000);
	T_CHECK(c.webhook_timeout_ms == 5000);
	T_CHECK(c.webhook_retries == 5);
	T_CHECK(c.watchdog_ms == 30000);
	T_CHECK(strcmp(c.listen, "127.0.0.1:9470") == 0);
	T_CHECK(strcmp(c.control_socket, "/run/vigil/control.sock") == 0);
	T_CHECK(strcmp(c.state_dir, "/var/lib/vigil") == 0);
	T_CHECK(strcmp(c.shm_name, "/vigil") == 0);
	T_CHECK(strcmp(c.webhook_url, "") == 0);
	T_CHECK(strcmp(c.user, "vigil") == 0);
	T_CHECK(strcmp(c.admin_group, "") == 0);
	T_CHECK(strcmp(c.read_group, "vigil") == 0);
	T_CHECK(c.prometheus == 1);
	T_CHECK(c.monitoring_enabled == 1);
	T_CHECK(c.allow_fast_probes == 0);
	T_CHECK(c.log_level == LOG_LVL_INFO);
	T_CHECK(c.nproviders == 0 && c.providers == NULL);
	conf_free(&c);
	conf_free(&c);		/* twice is harmless */
}

static void
test_every_key(void)
{
	const struct conf_provider *p, *q;
	struct conf c;

	if (load_ok(&c,
	    "; every key\n"
	    "[vigil]\n"
	    "interval = 1m\n"
	    "timeout = 15s\n"
	    "history_retention = 5000\n"
	    "alert_retention = 200\n"
	    "sample_capacity = 4096\n"
	    "max_providers = 8\n"
	    "warning_error_rate = 30\n"
	    "critical_error_rate = 90%\n"
	    "latency_warning = 1500ms\n"
	    "min_samples = 7\n"
	    "down_after = 4\n"
	    "circuit_failures = 6\n"
	    "circuit_successes = 3\n"
	    "circuit_cooldown = 45s\n"
	    "circuit_cooldown_max = 1h\n"
	    "fast_probe_percent = 50\n"
	    "alert_cooldown = 2m\n"
	    "persist_interval = 120\n"
	    "webhook_timeout = 2500ms\n"
	    "webhook_retries = 0\n"
	    "watchdog = 45s\n"
	    "listen = [::1]:8080\n"
	    "control_socket = /tmp/v/ctl.sock\n"
	    "state_dir = /srv/vigil\n"
	    "shm_name = /vigil-test\n"
	    "webhook_url = https://hooks.example.com/x?token=abc\n"
	    "user = monitor\n"
	    "admin_group = wheel\n"
	    "read_group = adm\n"
	    "prometheus = no\n"
	    "monitoring_enabled = off\n"
	    "allow_fast_probes = true\n"
	    "log_level = debug\n"
	    "\n"
	    "[provider \"openai\"]\n"
	    "kind = openai\n"
	    "base_url = https://api.openai.com\n"
	    "api_key_file = /etc/vigil/keys/openai\n"
	    "check_path = /v1/models?limit=1\n"
	    "ca_file = /etc/ssl/extra.pem\n"
	    "gen_model = gpt-4o-mini\n"
	    "gen_interval = 10m\n"
	    "interval = 500ms\n"
	    "timeout = 400ms\n"
	    "enabled = no\n"
	    "[provider \"local\"]\n"
	    "kind = http\n"
	    "base_url = http://127.0.0.1:8080/v1/\n"
	    "api_key_env = LOCAL_KEY\n"
	    "[provider \"claude\"]\n"
	    "kind = anthropic\n"
	    "base_url = https://[2001:db8::1]:8443\n"
	    "api_key_credential = claude.key\n") != 0)
		return;
	T_CHECK(c.interval_ms == 60000);
	T_CHECK(c.timeout_ms == 15000);
	T_CHECK(c.history_retention == 5000);
	T_CHECK(c.alert_retention == 200);
	T_CHECK(c.sample_capacity == 4096);
	T_CHECK(c.max_providers == 8);
	T_CHECK(c.warning_error_rate == 30);
	T_CHECK(c.critical_error_rate == 90);
	T_CHECK(c.latency_warning_ms == 1500);
	T_CHECK(c.min_samples == 7);
	T_CHECK(c.down_after == 4);
	T_CHECK(c.circuit_failures == 6);
	T_CHECK(c.circuit_successes == 3);
	T_CHECK(c.circuit_cooldown_ms == 45000);
	T_CHECK(c.circuit_cooldown_max_ms == 3600000);
	T_CHECK(c.fast_probe_percent == 50);
	T_CHECK(c.alert_cooldown_ms == 120000);
	T_CHECK(c.persist_interval_ms == 120000);
	T_CHECK(c.webhook_timeout_ms == 2500);
	T_CHECK(c.webhook_retries == 0);
	T_CHECK(c.watchdog_ms == 45000);
	T_CHECK(strcmp(c.listen, "[::1]:8080") == 0);
	T_CHECK(strcmp(c.control_socket, "/tmp/v/ctl.sock") == 0);
	T_CHECK(strcmp(c.state_dir, "/srv/vigil") == 0);
	T_CHECK(strcmp(c.shm_name, "/vigil-test") == 0);
	T_CHECK(strcmp(c.webhook_url,
	    "https://hooks.example.com/x?token=abc") == 0);
	T_CHECK(strcmp(c.user, "monitor") == 0);
	T_CHECK(strcmp(c.admin_group, "wheel") == 0);
	T_CHECK(strcmp(c.read_group, "adm") == 0);
	T_CHECK(c.prometheus == 0);
	T_CHECK(c.monitoring_enabled == 0);
	T_CHECK(c.allow_fast_probes == 1);
	T_CHECK(c.log_level == LOG_LVL_DEBUG);

	T_CHECK(c.nproviders == 3);
	p = conf_find(&c, "openai");
	T_CHECK(p != NULL && p == &c.providers[0]);
	if (p != NULL) {
		T_CHECK(strcmp(p->name, "openai") == 0);
		T_CHECK(p->kind == VIGIL_KIND_OPENAI);
		T_CHECK(strcmp(p->base_url, "https://api.openai.com") == 0);
		T_CHECK(strcmp(p->host, "api.openai.com") == 0);
		T_CHECK(strcmp(p->api_key_file, "/etc/vigil/keys/openai") ==
		    0);
		T_CHECK(p->api_key_env[0] == '\0');
		T_CHECK(p->api_key_credential[0] == '\0');
		T_CHECK(strcmp(p->check_path, "/v1/models?limit=1") == 0);
		T_CHECK(strcmp(p->ca_file, "/etc/ssl/extra.pem") == 0);
		T_CHECK(strcmp(p->gen_model, "gpt-4o-mini") == 0);
		T_CHECK(p->gen_interval_ms == 600000);
		T_CHECK(p->interval_ms == 500);
		T_CHECK(p->timeout_ms == 400);
		T_CHECK(p->enabled == 0);
		T_CHECK(p->line == 37);
	}
	q = conf_find(&c, "local");
	T_CHECK(q != NULL);
	if (q != NULL) {
		T_CHECK(q->kind == VIGIL_KIND_HTTP);
		T_CHECK(strcmp(q->host, "127.0.0.1") == 0);
		T_CHECK(strcmp(q->api_key_env, "LOCAL_KEY") == 0);
		/* inherited from [vigil] */
		T_CHECK(q->interval_ms == 60000);
		T_CHECK(q->timeout_ms == 15000);
		T_CHECK(q->enabled == 1);
		T_CHECK(q->gen_interval_ms == 300000);
		T_CHECK(q->gen_model[0] == '\0');
		T_CHECK(q->check_path[0] == '\0');
		T_CHECK(q->line == 48);
	}
	q = conf_find(&c, "claude");
	T_CHECK(q != NULL);
	if (q != NULL) {
		T_CHECK(q->kind == VIGIL_KIND_ANTHROPIC);
		T_CHECK(strcmp(q->host, "2001:db8::1") == 0);
		T_CHECK(strcmp(q->api_key_credential, "claude.key") == 0);
	}
	T_CHECK(conf_find(&c, "nope") == NULL);
	T_CHECK(conf_find(&c, "OPENAI") == NULL);
	conf_free(&c);
	T_CHECK(c.providers == NULL && c.nproviders == 0);
}

static void
test_durations(void)
{
	static const struct {
		const char *s;
		uint32_t ms;
	} good[] = {
		{ "500ms", 500 }, { "30s", 30000 }, { "2m", 120000 },
		{ "1h", 3600000 }, { "45", 45000 }, { "0", 0 },
		{ "0ms", 0 }, { "007s", 7000 }, { "4294967295ms", UINT32_MAX },
		{ "1193h", 1193u * 3600000u }, { "0.5", 500 },
		{ "1.5s", 1500 }, { "0.25m", 15000 }, { "2.000s", 2000 },
		{ "0.001", 1 }, { "1.5h", 5400000 }
	};
	static const char *const bad[] = {
		"", "s", "ms", "10x", "-1", "+1", "1.5ms", "0.0005s", "1.",
		".5", "1..5", "1.5.5", "0.0000000001", " 30s", "30s ",
		"30 s", "1d", "30S", "4294967296ms", "4294968s", "1194h",
		"99999999999999999999", "0x10"
	};
	uint32_t ms;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ms = 12345;
		T_CHECKF(conf_parse_duration(good[i].s, &ms) == 0 &&
		    ms == good[i].ms, "\"%s\" -> %u", good[i].s, ms);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ms = 12345;
		T_CHECKF(conf_parse_duration(bad[i], &ms) == -1 && ms == 12345,
		    "\"%s\" accepted", bad[i]);
	}
	T_CHECK(conf_parse_duration(NULL, &ms) == -1);
}

static void
test_bools(void)
{
	static const char *const yes[] = { "yes", "true", "on", "1", "YES",
	    "True" };
	static const char *const no[] = { "no", "false", "off", "0", "NO",
	    "Off" };
	static const char *const bad[] = { "", "y", "n", "2", "yess",
	    "enabled", " yes" };
	size_t i;
	int v;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		v = -1;
		T_CHECKF(conf_parse_bool(yes[i], &v) == 0 && v == 1, "%s",
		    yes[i]);
	}
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		v = -1;
		T_CHECKF(conf_parse_bool(no[i], &v) == 0 && v == 0, "%s",
		    no[i]);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = -1;
		T_CHECKF(conf_parse_bool(bad[i], &v) == -1 && v == -1, "%s",
		    bad[i]);
	}
}

static void
test_kinds(void)
{
	T_CHECK(conf_kind("http") == VIGIL_KIND_HTTP);
	T_CHECK(conf_kind("openai") == VIGIL_KIND_OPENAI);
	T_CHECK(conf_kind("anthropic") == VIGIL_KIND_ANTHROPIC);
	T_CHECK(conf_kind("google") == VIGIL_KIND_GOOGLE);
	T_CHECK(conf_kind("deepseek") == VIGIL_KIND_DEEPSEEK);
	T_CHECK(conf_kind("qwen") == VIGIL_KIND_QWEN);
	T_CHECK(conf_kind("cursor") == VIGIL_KIND_CURSOR);
	T_CHECK(conf_kind("OpenAI") == -1);
	T_CHECK(conf_kind("") == -1);
	T_CHECK(conf_kind("gemini") == -1);
	T_CHECK(conf_kind(NULL) == -1);
}

/* A bad value for every [vigil] key: the error names line 2 and the key. */
static void
test_err_bad_values(void)
{
	static const char *const bad[] = {
		"interval = abc", "interval = 301s", "interval = 50ms",
		"timeout = 0", "timeout = ten",
		"history_retention = 9", "history_retention = 1048577",
		"history_retention = -5", "history_retention = 1e3",
		"alert_retention = 2", "sample_capacity = 1000",
		"sample_capacity = 8", "sample_capacity = 2097152",
		"max_providers = 0", "max_providers = 4097",
		"warning_error_rate = 101", "warning_error_rate = 0.5",
		"critical_error_rate = 200%", "latency_warning = 0",
		"latency_warning = 11m", "min_samples = 0", "down_after = 0",
		"circuit_failures = 1001", "circuit_successes = 0",
		"circuit_cooldown = 2h", "circuit_cooldown_max = 25h",
		"fast_probe_percent = 0", "alert_cooldown = 25h",
		"persist_interval = 500ms", "webhook_timeout = 61s",
		"webhook_retries = 21", "watchdog = 2s", "watchdog = 2h",
		"listen = 127.0.0.1",
		"listen = :9470", "listen = 127.0.0.1:65536",
		"listen = 127.0.0.1:http", "listen = [::1:9470",
		"listen = a b:1", "control_socket = run/ctl.sock",
		"control_socket = /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    "aaaaaaaaaa",
		"state_dir = var/lib", "shm_name = vigil", "shm_name = /",
		"shm_name = /a/b", "webhook_url = ftp://x",
		"webhook_url = https://", "user = ", "user = -x",
		"user = a b", "admin_group = a:b", "read_group = ",
		"prometheus = maybe", "monitoring_enabled = 2",
		"allow_fast_probes = y", "log_level = trace",
		"log_level = INFO", "interval =",
	};
	char want[128], key[64];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[512];

		snprintf(key, sizeof(key), "%.*s", (int)strcspn(bad[i], " "),
		    bad[i]);
		snprintf(text, sizeof(text), "[vigil]\n%s\n", bad[i]);
		snprintf(want, sizeof(want), "2: %s: ", key);
		load_err(text, want);
	}
	T_CHECK(strstr(load_err("[vigil]\ninterval = abc\n", "2: interval: "),
	    "\"abc\" is not a duration") != NULL);
	T_CHECK(strstr(load_err("[vigil]\nhistory_retention = 5\n",
	    "2: history_retention: "), "5 is out of range (10 to 1048576)") !=
	    NULL);
}

/* A bad value for provider keys: line and key. */
static void
test_err_provider_values(void)
{
	static const char *const bad[] = {
		"kind = gemini", "kind = ", "base_url = api.openai.com",
		"base_url = ftp://api.openai.com", "base_url = https://",
		"base_url = https:///v1", "base_url = https://a b",
		"base_url = https://host:0", "base_url = https://host:99999",
		"base_url = https://host:x", "base_url = https://host?k=v",
		"base_url = https://host/#x", "base_url = https://[::1",
		"base_url = https://[zz]:1", "base_url = https://h%41st",
		"base_url = https://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    "aaaaaaaaaaaaaaaaaaaaaaa.com",
		"api_key_file = keys/openai", "api_key_env = 1KEY",
		"api_key_env = MY-KEY", "api_key_credential = ../x",
		"api_key_credential = a/b", "check_path = v1/models",
		"check_path = /v1 models", "ca_file = ca.pem",
		"gen_model = a b", "gen_interval = 25h", "gen_interval = x",
		"interval = 0", "timeout = 301s", "enabled = sometimes",
	};
	char want[128], key[64], text[512];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(key, sizeof(key), "%.*s", (int)strcspn(bad[i], " "),
		    bad[i]);
		snprintf(text, sizeof(text), "[provider \"p\"]\n"
		    "; comment\n%s\n", bad[i]);
		snprintf(want, sizeof(want), "3: %s: ", key);
		load_err(text, want);
	}
}

static void
test_err_unknown(void)
{
	const char *e;

	e = load_err("[vigil]\ninterval = 30s\nintervall = 30s\n",
	    "3: intervall: unknown key in [vigil]");
	e = load_err("[provider \"x\"]\nkind = openai\nbase_url = "
	    "https://a\nretries = 3\n",
	    "4: retries: unknown key in [provider \"x\"]");
	e = load_err("[vigil]\n\n[vigl]\ninterval = 30s\n",
	    "3: [vigl]: unknown section");
	(void)e;
	/* an empty unknown section is still an error */
	load_err("[vigil]\n[extra]\n", "2: [extra]: unknown section");
	load_err("[providers \"x\"]\n", "1: [providers \"x\"]: unknown "
	    "section");
	load_err("[provider x]\n", "1: [provider x]: expected");
	load_err("[provider \"x\" y]\n", "1: [provider \"x\" y]: expected");
	load_err("[provider \"\"]\n", "1: [provider \"\"]: bad provider name");
	load_err("[provider \"a b\"]\n", "1: [provider \"a b\"]: bad");
	load_err("[provider \"all\"]\n", "1: [provider \"all\"]: \"all\" is "
	    "reserved");
	load_err("[provider \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"]\n",
	    "1: [provider \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"]: bad");
	load_err("interval = 30s\n[vigil]\n", "1: interval: outside any "
	    "section");
	load_err("[vigil]\ninterval = 30s\n\ninterval = 40s\n",
	    "4: interval: given twice (first on line 2)");
	load_err("[vigil]\n[vigil]\n", "2: [vigil]: section given twice "
	    "(first on line 1)");
	load_err("[vigil\ninterval = 30s\n", "1: section header without");
	load_err("[vigil] x\n", "1: text after the section header");
	load_err("[vigil]\ninterval 30s\n", "2: expected \"key = value\"");
	load_err("[vigil]\ninterval = 30s\njunk\ntimeout = x\n",
	    "3: expected \"key = value\"");
}

static void
test_err_duplicate_provider(void)
{
	load_err("[provider \"a\"]\nkind = openai\nbase_url = https://a\n"
	    "[provider \"b\"]\nkind = openai\nbase_url = https://b\n"
	    "[provider \"a\"]\nkind = qwen\nbase_url = https://c\n",
	    "7: [provider \"a\"]: duplicate provider (first on line 1)");
}

static void
test_err_missing(void)
{
	load_err("[vigil]\n\n[provider \"a\"]\nbase_url = https://a\n",
	    "3: kind: missing in [provider \"a\"]");
	load_err("[vigil]\n[provider \"a\"]\nkind = openai\n",
	    "2: base_url: missing in [provider \"a\"]");
	/* an empty provider section is seen too */
	load_err("[provider \"a\"]\n", "1: kind: missing");
}

static void
test_err_fast_probes(void)
{
	struct conf c;

	load_err("[vigil]\ninterval = 9s\ntimeout = 1s\n",
	    "2: interval: 9s is below 10s");
	load_err("[vigil]\ninterval = 500ms\ntimeout = 100ms\n",
	    "2: interval: 500ms is below 10s");
	/* the flag may come after the interval */
	if (load_ok(&c, "[vigil]\ninterval = 500ms\ntimeout = 200ms\n"
	    "allow_fast_probes = yes\n") == 0) {
		T_CHECK(c.interval_ms == 500 && c.timeout_ms == 200);
		conf_free(&c);
	}
	load_err("[vigil]\n[provider \"a\"]\nkind = openai\n"
	    "base_url = https://a\ninterval = 5s\ntimeout = 1s\n",
	    "5: interval: 5s is below 10s");
	load_err("[provider \"a\"]\nkind = openai\n"
	    "base_url = https://a\ngen_interval = 5s\n",
	    "4: gen_interval: 5s is below 10s");
	/* the absolute floor holds even with the flag */
	load_err("[vigil]\nallow_fast_probes = yes\ninterval = 99ms\n",
	    "3: interval: 99ms is out of range (100ms to 5m)");
	if (load_ok(&c, "[vigil]\nallow_fast_probes = 1\n"
	    "[provider \"a\"]\nkind = http\nbase_url = http://127.0.0.1:1\n"
	    "interval = 200ms\ntimeout = 100ms\n") == 0) {
		T_CHECK(c.providers[0].interval_ms == 200);
		T_CHECK(c.providers[0].timeout_ms == 100);
		conf_free(&c);
	}
}

static void
test_err_timeout(void)
{
	struct conf c;

	load_err("[vigil]\ninterval = 20s\ntimeout = 21s\n",
	    "3: timeout: 21s is longer than interval (20s)");
	load_err("[vigil]\ntimeout = 1m\ninterval = 30s\n",
	    "2: timeout: 1m is longer");
	/* only interval given: the default timeout is not to blame */
	load_err("[vigil]\nallow_fast_probes = yes\ninterval = 5s\n",
	    "3: interval: 5s is shorter than timeout (10s)");
	load_err("[provider \"a\"]\nkind = openai\nbase_url = https://a\n"
	    "interval = 20s\ntimeout = 25s\n",
	    "5: timeout: 25s is longer than interval (20s)");
	load_err("[vigil]\nallow_fast_probes = yes\n"
	    "[provider \"a\"]\nkind = openai\nbase_url = https://a\n"
	    "interval = 5s\n",
	    "6: interval: 5s is shorter than the timeout of [vigil]");
	load_err("[vigil]\ntimeout = 20s\ninterval = 30s\n"
	    "[provider \"a\"]\nkind = openai\nbase_url = https://a\n"
	    "interval = 15s\n", "7: interval: 15s is shorter");
	/* The seed's own values: interval 10 s with the 10 s timeout. */
	if (load_ok(&c, "[vigil]\ninterval = 10s\n[provider \"a\"]\n"
	    "kind = openai\nbase_url = https://a\ninterval = 10s\n") == 0) {
		T_CHECK(c.interval_ms == 10000 && c.timeout_ms == 10000);
		T_CHECK(c.providers[0].timeout_ms == 10000);
		conf_free(&c);
	}
}

static void
test_err_cross(void)
{
	load_err("[vigil]\nwarning_error_rate = 90\n",
	    "2: warning_error_rate: 90% is above critical_error_rate (80%)");
	load_err("[vigil]\ncritical_error_rate = 40\n",
	    "2: critical_error_rate: 40% is below warning_error_rate (50%)");
	load_err("[vigil]\ncircuit_cooldown = 20m\n",
	    "2: circuit_cooldown: 20m is above circuit_cooldown_max (10m)");
	load_err("[vigil]\ncircuit_cooldown_max = 10s\n",
	    "2: circuit_cooldown_max: 10s is below circuit_cooldown (30s)");
	load_err("[vigil]\nmax_providers = 1\n"
	    "[provider \"a\"]\nkind = openai\nbase_url = https://a\n"
	    "[provider \"b\"]\nkind = openai\nbase_url = https://b\n",
	    "6: [provider \"b\"]: more providers than max_providers (1)");
}

static void
test_err_urls_quiet(void)
{
	const char *e;

	e = load_err("[provider \"a\"]\nkind = openai\n"
	    "base_url = https://user:s3cr3tpass@api.openai.com\n",
	    "3: base_url: user:password@ is not allowed");
	T_CHECK(strstr(e, "s3cr3tpass") == NULL);
	e = load_err("[provider \"a\"]\nkind = google\n"
	    "base_url = https://g.example.com/?key=s3cr3tpass\n",
	    "3: base_url: a query or fragment is not allowed");
	T_CHECK(strstr(e, "s3cr3tpass") == NULL);
	e = load_err("[vigil]\nwebhook_url = htps://hooks/s3cr3tpass\n",
	    "2: webhook_url: must start with http:// or https://");
	T_CHECK(strstr(e, "s3cr3tpass") == NULL);
	e = load_err("[vigil]\nwebhook_url = https://u:s3cr3tpass@hooks/\n",
	    "2: webhook_url: user:password@");
	T_CHECK(strstr(e, "s3cr3tpass") == NULL);
	e = load_err("[provider \"a\"]\ncheck_path = /v1?key=s3cr3tpass x\n",
	    "2: check_path: ");
	T_CHECK(strstr(e, "s3cr3tpass") == NULL);
}

static void
test_err_key_sources(void)
{
	load_err("[provider \"a\"]\nkind = openai\nbase_url = https://a\n"
	    "api_key_file = /k\napi_key_env = K\n",
	    "5: api_key_env: provider \"a\" already has api_key_file "
	    "(line 4)");
	load_err("[provider \"a\"]\napi_key_credential = a\n"
	    "api_key_file = /k\n",
	    "3: api_key_file: provider \"a\" already has api_key_credential");
	load_err("[provider \"a\"]\napi_key_env = A\n\n"
	    "api_key_credential = a\n",
	    "4: api_key_credential: provider \"a\" already has api_key_env");
}

static void
test_err_lines(void)
{
	char text[600];
	const char *path;
	char err[CONF_ERR_MAX];
	struct conf c;
	static const char nul[] = "[vigil]\ninterval = 3\0s\n";

	/* too long for inih: refused with the line, never split */
	memset(text, 0, sizeof(text));
	strcpy(text, "[vigil]\nstate_dir = /");
	memset(text + strlen(text), 'a', 300);
	strcat(text, "\ntimeout = 5s\n");
	load_err(text, "2: line too long");
	/* much longer than the read buffer */
	{
		char *big = malloc(100000);
		size_t n;

		strcpy(big, "[vigil]\n; ");
		n = strlen(big);
		memset(big + n, 'x', 90000);
		strcpy(big + n + 90000, "\n");
		load_err(big, "2: line too long");
		free(big);
	}
	path = tfile(nul, sizeof(nul) - 1, 0644);
	T_CHECK(conf_load(&c, path, err, sizeof(err)) == -1);
	T_CHECK(strstr(err, ":2: NUL byte") != NULL);
	/* a missing file: line 0 */
	snprintf(text, sizeof(text), "%s/does-not-exist.conf", tdir);
	T_CHECK(conf_load(&c, text, err, sizeof(err)) == -1);
	T_CHECKF(strncmp(err, text, strlen(text)) == 0 &&
	    strstr(err, ":0: cannot open: No such file") != NULL, "%s", err);
	/* a directory */
	T_CHECK(conf_load(&c, tdir, err, sizeof(err)) == -1);
	T_CHECKF(strstr(err, ":0: ") != NULL || strstr(err, ":1: ") != NULL,
	    "%s", err);
	/* a tiny error buffer is not overrun */
	T_CHECK(conf_load(&c, text, err, 8) == -1 && strlen(err) == 7);
	T_CHECK(conf_load(&c, text, err, 0) == -1);
}

static void
test_syntax_forms(void)
{
	struct conf c;

	/* '#' starts a comment only at the start of a line */
	load_err("[vigil]\nprometheus = yes # no\n", "2: prometheus: ");
	/* CRLF, a BOM, indentation, comments of both kinds, blanks */
	if (load_ok(&c, "\xEF\xBB\xBF; vigil\r\n"
	    "# another comment\r\n"
	    "  [ vigil ]   ; the main section\r\n"
	    "\tinterval = 45s ; inline comment\r\n"
	    "    timeout=5s\r\n"
	    "\r\n"
	    "[provider   \"o.x-1_\"]\n"
	    "    kind = openai\n"
	    "    base_url = https://api.openai.com/v1/\n") != 0)
		return;
	T_CHECK(c.interval_ms == 45000);
	T_CHECK(c.timeout_ms == 5000);
	T_CHECK(c.nproviders == 1);
	T_CHECK(strcmp(c.providers[0].name, "o.x-1_") == 0);
	T_CHECK(strcmp(c.providers[0].host, "api.openai.com") == 0);
	T_CHECK(c.providers[0].line == 7);
	conf_free(&c);
}

static void
test_env(void)
{
	struct conf c;

	setenv("HEALTH_CHECK_INTERVAL_SECONDS", "60", 1);
	setenv("HEALTH_CHECK_TIMEOUT_SECONDS", "20", 1);
	setenv("HEALTH_HISTORY_RETENTION", "300", 1);
	setenv("HEALTH_DEGRADATION_WARNING_THRESHOLD", "10", 1);
	setenv("HEALTH_DEGRADATION_CRITICAL_THRESHOLD", "20", 1);
	setenv("HEALTH_LATENCY_WARNING_MS", "1500", 1);
	setenv("ENABLE_PROMETHEUS_METRICS", "false", 1);
	setenv("HEALTH_ALERT_WEBHOOK_URL", "https://hooks.example.com/t", 1);
	setenv("HEALTH_MONITORING_ENABLED", "0", 1);
	/* the environment wins over the file */
	if (load_ok(&c, "[vigil]\ninterval = 30s\nhistory_retention = 50\n"
	    "prometheus = yes\n[provider \"a\"]\nkind = openai\n"
	    "base_url = https://a\n") != 0)
		return;
	T_CHECK(c.interval_ms == 60000);
	T_CHECK(c.timeout_ms == 20000);
	T_CHECK(c.history_retention == 300);
	T_CHECK(c.warning_error_rate == 10);
	T_CHECK(c.critical_error_rate == 20);
	T_CHECK(c.latency_warning_ms == 1500);
	T_CHECK(c.prometheus == 0);
	T_CHECK(strcmp(c.webhook_url, "https://hooks.example.com/t") == 0);
	T_CHECK(c.monitoring_enabled == 0);
	/* providers inherit the overridden values */
	T_CHECK(c.providers[0].interval_ms == 60000);
	T_CHECK(c.providers[0].timeout_ms == 20000);
	conf_free(&c);

	/* units are accepted too; an empty variable counts as unset */
	setenv("HEALTH_CHECK_INTERVAL_SECONDS", "2m", 1);
	setenv("HEALTH_LATENCY_WARNING_MS", "2s", 1);
	setenv("HEALTH_CHECK_TIMEOUT_SECONDS", "", 1);
	setenv("HEALTH_DEGRADATION_WARNING_THRESHOLD", "15%", 1);
	if (load_ok(&c, "[vigil]\ntimeout = 3s\n") == 0) {
		T_CHECK(c.interval_ms == 120000);
		T_CHECK(c.latency_warning_ms == 2000);
		T_CHECK(c.timeout_ms == 3000);
		T_CHECK(c.warning_error_rate == 15);
		conf_free(&c);
	}
	/* The seed's forms: seconds with a fraction, interval = timeout. */
	setenv("HEALTH_CHECK_TIMEOUT_SECONDS", "0.5", 1);
	setenv("HEALTH_CHECK_INTERVAL_SECONDS", "10", 1);
	if (load_ok(&c, "[vigil]\n") == 0) {
		T_CHECK(c.timeout_ms == 500 && c.interval_ms == 10000);
		conf_free(&c);
	}
	setenv("HEALTH_CHECK_TIMEOUT_SECONDS", "10", 1);
	if (load_ok(&c, "[vigil]\n") == 0) {
		T_CHECK(c.timeout_ms == 10000 && c.interval_ms == 10000);
		conf_free(&c);
	}
	unsetenv("HEALTH_CHECK_TIMEOUT_SECONDS");
	unsetenv("HEALTH_CHECK_INTERVAL_SECONDS");
}

static void
test_env_bad(void)
{
	static const struct {
		const char *var, *val, *want;
	} bad[] = {
		{ "HEALTH_CHECK_INTERVAL_SECONDS", "abc", "\"abc\" is not a "
		    "duration" },
		{ "HEALTH_CHECK_INTERVAL_SECONDS", "5", "5s is below 10s" },
		{ "HEALTH_CHECK_INTERVAL_SECONDS", "301", "out of range" },
		{ "HEALTH_CHECK_TIMEOUT_SECONDS", "31", "31s is longer "
		    "than interval (30s)" },
		{ "HEALTH_CHECK_TIMEOUT_SECONDS", "0.0001", "not a duration" },
		{ "HEALTH_HISTORY_RETENTION", "lots", "not a whole number" },
		{ "HEALTH_HISTORY_RETENTION", "1", "out of range" },
		{ "HEALTH_DEGRADATION_WARNING_THRESHOLD", "150", "out of "
		    "range" },
		{ "HEALTH_DEGRADATION_WARNING_THRESHOLD", "0.5", "not a whole" },
		{ "HEALTH_DEGRADATION_WARNING_THRESHOLD", "90", "90% is above "
		    "critical_error_rate" },
		{ "HEALTH_DEGRADATION_CRITICAL_THRESHOLD", "-1", "not a whole" },
		{ "HEALTH_LATENCY_WARNING_MS", "fast", "not a duration" },
		{ "HEALTH_LATENCY_WARNING_MS", "0", "out of range" },
		{ "ENABLE_PROMETHEUS_METRICS", "sure", "not yes/no" },
		{ "HEALTH_MONITORING_ENABLED", "2", "not yes/no" },
		{ "HEALTH_ALERT_WEBHOOK_URL", "hooks/s3cr3tpass",
		    "must start with http" },
	};
	char want[256], err[CONF_ERR_MAX];
	const char *path;
	struct conf c;
	size_t i;

	path = wconf("[vigil]\n");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv(bad[i].var, bad[i].val, 1);
		snprintf(want, sizeof(want), "%s:0: %s: ", path, bad[i].var);
		T_CHECKF(conf_load(&c, path, err, sizeof(err)) == -1,
		    "%s=%s loaded", bad[i].var, bad[i].val);
		T_CHECKF(strncmp(err, want, strlen(want)) == 0 &&
		    strstr(err, bad[i].want) != NULL, "%s=%s: got \"%s\"",
		    bad[i].var, bad[i].val, err);
		T_CHECK(strstr(err, "s3cr3tpass") == NULL);
		unsetenv(bad[i].var);
	}
	/* the file's value is blamed when the environment is fine */
	setenv("HEALTH_CHECK_INTERVAL_SECONDS", "20", 1);
	load_err("[vigil]\ntimeout = 25s\n", "2: timeout: 25s is longer "
	    "than interval (20s)");
}

static void
test_provider_changed(void)
{
	struct conf a, b;
	const struct conf_provider *pa, *pb;
	static const char base[] =
	    "[provider \"x\"]\nkind = openai\nbase_url = https://a\n";
	static const char *const variants[] = {
		"kind = qwen\nbase_url = https://a\n",
		"kind = openai\nbase_url = https://b\n",
		"kind = openai\nbase_url = https://a/v1\n",
		"kind = openai\nbase_url = https://a\napi_key_file = /k\n",
		"kind = openai\nbase_url = https://a\napi_key_env = K\n",
		"kind = openai\nbase_url = https://a\napi_key_credential = k\n",
		"kind = openai\nbase_url = https://a\ncheck_path = /x\n",
		"kind = openai\nbase_url = https://a\nca_file = /ca\n",
		"kind = openai\nbase_url = https://a\ngen_model = m\n",
		"kind = openai\nbase_url = https://a\ngen_interval = 1m\n",
		"kind = openai\nbase_url = https://a\ninterval = 40s\n",
		"kind = openai\nbase_url = https://a\ntimeout = 5s\n",
		"kind = openai\nbase_url = https://a\nenabled = no\n",
	};
	char text[512];
	size_t i;

	if (load_ok(&a, base) != 0)
		return;
	pa = conf_find(&a, "x");
	/* the same settings on other lines: unchanged */
	if (load_ok(&b, "; moved\n\n[provider \"y\"]\nkind = qwen\n"
	    "base_url = https://q\n[provider \"x\"]\nbase_url = https://a\n"
	    "kind = openai\ninterval = 30s\n") == 0) {
		pb = conf_find(&b, "x");
		T_CHECK(pb != NULL && pb->line != pa->line);
		T_CHECK(pb != NULL && !conf_provider_changed(pa, pb));
		conf_free(&b);
	}
	for (i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		snprintf(text, sizeof(text), "[provider \"x\"]\n%s",
		    variants[i]);
		if (load_ok(&b, text) != 0)
			continue;
		pb = conf_find(&b, "x");
		T_CHECKF(conf_provider_changed(pa, pb), "variant %zu", i);
		T_CHECKF(conf_provider_changed(pb, pa), "variant %zu", i);
		conf_free(&b);
	}
	/* a changed [vigil] interval changes an inheriting provider */
	if (load_ok(&b, "[vigil]\ninterval = 31s\n[provider \"x\"]\n"
	    "kind = openai\nbase_url = https://a\n") == 0) {
		T_CHECK(conf_provider_changed(pa, conf_find(&b, "x")));
		conf_free(&b);
	}
	conf_free(&a);
}

/* A provider with only the given key source. */
static struct conf_provider
mkprov(const char *file, const char *env, const char *cred)
{
	struct conf_provider p;

	memset(&p, 0, sizeof(p));
	snprintf(p.name, sizeof(p.name), "prov");
	if (file != NULL)
		snprintf(p.api_key_file, sizeof(p.api_key_file), "%s", file);
	if (env != NULL)
		snprintf(p.api_key_env, sizeof(p.api_key_env), "%s", env);
	if (cred != NULL)
		snprintf(p.api_key_credential, sizeof(p.api_key_credential),
		    "%s", cred);
	return p;
}

/*
 * conf_check_secrets: what --check-config, start and reload run; the
 * first failing enabled provider is named, a disabled one is not read.
 */
static void
test_check_secrets(void)
{
	char text[1024], err[CONF_ERR_MAX], good[256], loose[256];
	struct conf c;

	snprintf(good, sizeof(good), "%s", tfile("sk-GOOD\n", 8, 0600));
	snprintf(loose, sizeof(loose), "%s", tfile("sk-LOOSE\n", 9, 0644));
	snprintf(text, sizeof(text), "[provider \"a\"]\nkind = openai\n"
	    "base_url = http://h\napi_key_file = %s\n\n"
	    "[provider \"b\"]\nkind = openai\nbase_url = http://h\n"
	    "api_key_file = %s\n", good, loose);
	if (load_ok(&c, text) == 0) {
		T_CHECK(conf_check_secrets(&c, err, sizeof(err)) == -1);
		T_CHECKF(strncmp(err, "b: api_key_file", 15) == 0 &&
		    strstr(err, "mode 0644") != NULL &&
		    strstr(err, "LOOSE") == NULL, "%s", err);
		c.providers[1].enabled = 0;
		T_CHECKF(conf_check_secrets(&c, err, sizeof(err)) == 0, "%s",
		    err);
		conf_free(&c);
	}
}

static void
test_secret_file(void)
{
	struct conf_provider p;
	char buf[128], err[CONF_ERR_MAX], big[300], path[256];
	const char *f;
	int rc;

	f = tfile("sk-SECRET123\n", 13, 0600);
	p = mkprov(f, NULL, NULL);
	rc = conf_read_secret(&p, buf, sizeof(buf), err, sizeof(err));
	T_CHECKF(rc == 0 && strcmp(buf, "sk-SECRET123") == 0, "%s", err);
	f = tfile("sk-SECRET123\r\n\n", 15, 0400);
	p = mkprov(f, NULL, NULL);
	rc = conf_read_secret(&p, buf, sizeof(buf), err, sizeof(err));
	T_CHECKF(rc == 0 && strcmp(buf, "sk-SECRET123") == 0, "%s", err);
	f = tfile("sk-SECRET123", 12, 0600);
	p = mkprov(f, NULL, NULL);
	rc = conf_read_secret(&p, buf, sizeof(buf), err, sizeof(err));
	T_CHECK(rc == 0 && strcmp(buf, "sk-SECRET123") == 0);

	/* group or world readable: refused, and the error is quiet */
	f = tfile("sk-SECRET123\n", 13, 0644);
	p = mkprov(f, NULL, NULL);
	strcpy(buf, "junk");
	rc = conf_read_secret(&p, buf, sizeof(buf), err, sizeof(err));
	T_CHECK(rc == -1);
	T_CHECK(buf[0] == '\0');
	T_CHECKF(strstr(err, "mode 0644") != NULL && strstr(err, f) != NULL &&
	    strncmp(err, "prov: api_key_file", 18) == 0, "%s", err);
	T_CHECK(strstr(err, "SECRET") == NULL);
	f = tfile("sk-SECRET123\n", 13, 0640);
	p = mkprov(f, NULL, NULL);
	T_CHECK(conf_read_secret(&p, buf, sizeof(buf), err, sizeof(err)) ==
	    -1 && strstr(err, "mode 0640") != NULL);
	f = tfile("sk-SECRET123\n", 13, 0604);
	p = mkprov(f, NULL, NULL);
	T_CHECK(conf_read_secret(&p, buf, sizeof(buf), err, sizeof(err)) ==
	    -1 && strstr(err, "mode 0604") != NULL);

	/* missing file */
	snprintf(path, sizeof(path), "%s/no-such-key", tdir);
	p = mkprov(path, NULL, NULL);
	T_CHECK(conf_read_secret(&p, buf, sizeof(buf), err, sizeof(err)) ==
	    -1);
	T_CHECKF(strstr(err, path) != NULL &&
	    strstr(err, "No such file") != NULL, "%s", err);
	/* a directory is not a regular file */
	p = mkprov(tdir, NULL, NULL);
	T_CHECK(conf_read_secret(&p, buf, sizeof(buf), err, sizeof(err)) ==
	    -1 && strstr(err, "not a regular file") != NULL);
	/* too long for the buffer: refused, not truncated */
	memset(big, 'k', sizeof(big));
	f = tfile(big, sizeof(big), 0600);
	p = mkprov(f, NULL, NULL);
	T_CHECK(conf_read_secret(&p, buf, sizeof(buf), err, sizeof(err)) ==
	    -1 && strstr(err, "longer than 127 bytes") != NULL);
	T_CHECK(strstr(err, "kkkk") == NULL);
	f = tfile(big, 127, 0600);
	p = mkprov(f, NULL, NULL);
	T_CHECK(conf_read_secret(&p, buf, sizeof(buf), err, sizeof(err)) ==
	    0 && strlen(buf) == 127);
	/* CONF_SECRET_MAX caps a larger buffer */
	{
		char *kbuf = malloc(10000), *kt = malloc(5000);

		memset(kt, 'k', 5000);
		f = tfile(kt, 4095, 0600);
		p = mkprov(f, NULL, NULL);
		T_CHECK(conf_read_secret(&p, kbuf, 10000, err, sizeof(err)) ==
		    0 && strlen(kbuf) == 4095);
		f = tfile(kt, 4096, 0600);
		p = mkprov(f, NULL, NULL);
		T_CHECK(conf_read_secret(&p, kbuf, 10000, err, sizeof(err)) ==
		    -1 && strstr(err, "longer than 4095 bytes") != NULL);
		f = tfile(kt, 5000, 0600);
		p = mkprov(f, NULL, NULL);
		T_CHECK(conf_read_secret(&p, kbuf, 10000, err, sizeof(err)) ==
		    -1 && strstr(err, "longer than 4095 bytes") != NULL);
		free(kbuf);
		free(kt);
	}
	/* empty, embedded newline, NUL */
	f = tfile("\n", 1, 0600);
	p = mkprov(f, NULL, NULL);
	T_CHECK(conf_read_secret(&p, buf, sizeof(buf), err, sizeof(err)) ==
	    -1 && strstr(err, "empty") != NULL);
	f = tfile("sk-a\nsk-b\n", 10, 0600);
	p = mkprov(f, NULL, NULL);
	T_CHECK(conf_read_secret(&p, buf, sizeof(buf), err, sizeof(err)) ==
	    -1 && strstr(err, "control character") != NULL &&
	    strstr(err, "sk-") == NULL);
	f = tfile("sk-a\0b", 6, 0600);
	p = mkprov(f, NULL, NULL);
	T_CHECK(conf_read_secret(&p, buf, sizeof(buf), err, sizeof(err)) ==
	    -1 && strstr(err, "NUL") != NULL);
	/* no source at all: "" and success */
	p = mkprov(NULL, NULL, NULL);
	strcpy(buf, "junk");
	T_CHECK(conf_read_secret(&p, buf, sizeof(buf), err, sizeof(err)) ==
	    0 && buf[0] == '\0');
}

static void
test_secret_env_cred(void)
{
	struct conf_provider p;
	char buf[64], err[CONF_ERR_MAX], cdir[256], path[300];
	int fd;

	p = mkprov(NULL, "TEST_CONF_KEY", NULL);
	unsetenv("TEST_CONF_KEY");
	T_CHECK(conf_read_secret(&p, buf, sizeof(buf), err, sizeof(err)) ==
	    -1 && strstr(err, "TEST_CONF_KEY is not set") != NULL);
	setenv("TEST_CONF_KEY", "sk-ENVSECRET", 1);
	T_CHECK(conf_read_secret(&p, buf, sizeof(buf), err, sizeof(err)) ==
	    0 && strcmp(buf, "sk-ENVSECRET") == 0);
	T_CHECK(conf_read_secret(&p, buf, 5, err, sizeof(err)) == -1 &&
	    strstr(err, "longer than 4 bytes") != NULL &&
	    strstr(err, "ENVSECRET") == NULL);

	p = mkprov(NULL, NULL, "openai");
	unsetenv("CREDENTIALS_DIRECTORY");
	T_CHECK(conf_read_secret(&p, buf, sizeof(buf), err, sizeof(err)) ==
	    -1 && strstr(err, "CREDENTIALS_DIRECTORY is not set") != NULL);
	snprintf(cdir, sizeof(cdir), "%s/creds-%d", tdir, (int)getpid());
	T_CHECK(mkdir(cdir, 0700) == 0);
	setenv("CREDENTIALS_DIRECTORY", cdir, 1);
	T_CHECK(conf_read_secret(&p, buf, sizeof(buf), err, sizeof(err)) ==
	    -1 && strstr(err, "No such file") != NULL);
	snprintf(path, sizeof(path), "%s/openai", cdir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0400);
	T_CHECK(fd != -1 && write(fd, "sk-CRED\n", 8) == 8);
	close(fd);
	T_CHECK(conf_read_secret(&p, buf, sizeof(buf), err, sizeof(err)) ==
	    0 && strcmp(buf, "sk-CRED") == 0);
	unlink(path);
	rmdir(cdir);
}

/* Read a whole small file into a static buffer, or NULL. */
static const char *
slurp(const char *path)
{
	static char buf[200000];
	FILE *fp;
	size_t n;

	if ((fp = fopen(path, "r")) == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

/* packaging/vigil.conf loads and gives exactly the defaults. */
static void
test_packaged_conf(void)
{
	char err[CONF_ERR_MAX];
	const char *text;
	struct conf c, d;
	size_t i;

	T_CHECKF(conf_load(&c, "packaging/vigil.conf", err, sizeof(err)) == 0,
	    "%s", err);
	if (load_ok(&d, "") != 0)
		return;
	memcpy(d.path, c.path, sizeof(d.path));
	T_CHECK(memcmp(&c, &d, sizeof(c)) == 0);
	conf_free(&c);
	conf_free(&d);
	if ((text = slurp("packaging/vigil.conf")) == NULL) {
		T_CHECK(0);
		return;
	}
	for (i = 0; key_name(i) != NULL; i++) {
		char want[64];

		/* commented out, as ";key =" at the start of a line */
		snprintf(want, sizeof(want), "\n;%s =", key_name(i));
		T_CHECKF(strstr(text, want) != NULL, "packaging/vigil.conf "
		    "lacks %s", key_name(i));
	}
}

/* docs/vigil.conf.5 documents every key and every variable. */
static void
test_man_page(void)
{
	const char *text;
	char want[64];
	size_t i;

	if ((text = slurp("docs/vigil.conf.5")) == NULL) {
		T_CHECK(0);
		return;
	}
	for (i = 0; key_name(i) != NULL; i++) {
		snprintf(want, sizeof(want), "\n.It Cm %s", key_name(i));
		T_CHECKF(strstr(text, want) != NULL, "vigil.conf.5 lacks %s",
		    key_name(i));
	}
	for (i = 0; i < sizeof(env_vars) / sizeof(env_vars[0]); i++) {
		snprintf(want, sizeof(want), "\n.It Ev %s", env_vars[i]);
		T_CHECKF(strstr(text, want) != NULL, "vigil.conf.5 lacks %s",
		    env_vars[i]);
	}
}

int
main(void)
{
	char cmd[300];
	size_t i;

	for (i = 0; i < sizeof(env_vars) / sizeof(env_vars[0]); i++)
		unsetenv(env_vars[i]);
	if (mkdtemp(tdir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	T_RUN(test_defaults);
	T_RUN(test_every_key);
	T_RUN(test_durations);
	T_RUN(test_bools);
	T_RUN(test_kinds);
	T_RUN(test_err_bad_values);
	T_RUN(test_err_provider_values);
	T_RUN(test_err_unknown);
	T_RUN(test_err_duplicate_provider);
	T_RUN(test_err_missing);
	T_RUN(test_err_fast_probes);
	T_RUN(test_err_timeout);
	T_RUN(test_err_cross);
	T_RUN(test_err_urls_quiet);
	T_RUN(test_err_key_sources);
	T_RUN(test_err_lines);
	T_RUN(test_syntax_forms);
	T_RUN(test_env);
	T_RUN(test_env_bad);
	T_RUN(test_provider_changed);
	T_RUN(test_check_secrets);
	T_RUN(test_secret_file);
	T_RUN(test_secret_env_cred);
	T_RUN(test_packaged_conf);
	T_RUN(test_man_page);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tdir);
	return t_done();
}
