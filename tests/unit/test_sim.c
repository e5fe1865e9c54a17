/*
 * test_sim.c - unit tests of vigil-sim's fault parsing, provider table,
 * kinds and delay draws (tests/sim, linked from libtests_sim.a).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "../sim/sim.h"
#include "t.h"

static int	parse(const char *, struct sim_faults *, char *, size_t);

static int
parse(const char *js, struct sim_faults *f, char *err, size_t errlen)
{
	cJSON *o = cJSON_Parse(js);
	int rc;

	if (o == NULL)
		return -2;
	rc = sim_faults_parse(o, f, err, errlen);
	cJSON_Delete(o);
	return rc;
}

static void
test_faults_parse(void)
{
	struct sim_faults f;
	char err[160];

	sim_faults_clear(&f);
	T_CHECK(parse("{\"latency_ms\":250,\"tail_prob\":0.5,\"hang\":true,"
	    "\"status\":429,\"retry_after\":7,\"body_bytes\":10}", &f, err,
	    sizeof(err)) == 0);
	T_CHECK(f.latency_ms == 250 && f.tail_prob == 0.5 && f.hang == 1 &&
	    f.status == 429 && f.retry_after == 7 && f.body_bytes == 10);
	/* Merge: other fields stay. */
	T_CHECK(parse("{\"reset\":1}", &f, err, sizeof(err)) == 0);
	T_CHECK(f.reset == 1 && f.latency_ms == 250);
	/* clear first, wherever it is in the object. */
	T_CHECK(parse("{\"garbage\":true,\"clear\":true}", &f, err,
	    sizeof(err)) == 0);
	T_CHECK(f.garbage == 1 && f.latency_ms == 0 && f.hang == 0 &&
	    f.reset == 0 && f.status == 0);
	T_CHECK(parse("{\"clear\":false}", &f, err, sizeof(err)) == 0);
	T_CHECK(f.garbage == 1);
}

static void
test_faults_bad(void)
{
	static const char *const bad[] = {
		"[]", "1", "{\"nope\":1}", "{\"latency_ms\":-1}",
		"{\"latency_ms\":1.5}", "{\"latency_ms\":\"5\"}",
		"{\"latency_ms\":3600001}", "{\"error_rate\":1.01}",
		"{\"error_rate\":-0.1}", "{\"status\":99}",
		"{\"status\":600}", "{\"status\":200.5}", "{\"hang\":2}",
		"{\"hang\":\"true\"}", "{\"clear\":1}", "{\"body_bytes\":1e12}",
		"{\"retry_after\":86401}", "{\"latency_ms\":5,\"x\":1}",
	};
	struct sim_faults f, before;
	char err[160];
	size_t i;

	sim_faults_clear(&f);
	f.latency_ms = 42;
	before = f;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		T_CHECKF(parse(bad[i], &f, err, sizeof(err)) == -1, "%s",
		    bad[i]);
		T_CHECKF(err[0] != '\0', "%s: no message", bad[i]);
		T_CHECKF(memcmp(&f, &before, sizeof(f)) == 0,
		    "%s changed the faults", bad[i]);
	}
	/* The message names the field. */
	T_CHECK(parse("{\"error_rate\":2}", &f, err, sizeof(err)) == -1);
	T_CHECK(strstr(err, "error_rate") != NULL);
}

static void
test_faults_json(void)
{
	struct sim_faults f, g;
	char err[160], *s;
	cJSON *o;

	sim_faults_clear(&f);
	f.latency_ms = 5;
	f.error_rate = 0.25;
	f.error_status = 503;
	f.truncated = 1;
	f.drip_bytes_per_s = 100;
	o = sim_faults_json(&f);
	T_CHECK(o != NULL);
	/* What GET shows, POSTed back, gives the same faults. */
	sim_faults_clear(&g);
	T_CHECK(sim_faults_parse(o, &g, err, sizeof(err)) == 0);
	T_CHECK(memcmp(&f, &g, sizeof(f)) == 0);
	s = cJSON_PrintUnformatted(o);
	T_CHECK(s != NULL && strstr(s, "\"truncated\":true") != NULL);
	free(s);
	cJSON_Delete(o);
}

static void
test_delay(void)
{
	struct sim_faults f;
	uint64_t rng = 12345;
	long d, lo = 1L << 30, hi = 0, tails = 0;
	int i;

	sim_faults_clear(&f);
	T_CHECK(sim_faults_delay(&f, &rng) == 0);
	f.latency_ms = 100;
	f.latency_jitter_ms = 50;
	f.latency_tail_ms = 1000;
	f.tail_prob = 0.1;
	for (i = 0; i < 10000; i++) {
		d = sim_faults_delay(&f, &rng);
		if (d >= 1000) {
			tails++;
			d -= 1000;
		}
		if (d < lo)
			lo = d;
		if (d > hi)
			hi = d;
	}
	T_CHECKF(lo == 100 && hi == 150, "lo %ld hi %ld", lo, hi);
	/* Binomial(10000, 0.1): sd 30. */
	T_CHECKF(tails > 800 && tails < 1200, "tails %ld", tails);
}

static void
test_table(void)
{
	struct sim s;
	struct sim_provider *p;
	char err[160], name[16];
	int i;

	memset(&s, 0, sizeof(s));
	for (i = 999; i >= 0; i--) {
		snprintf(name, sizeof(name), "p%03d", i);
		T_CHECK(sim_add(&s, name, i % SIM_KIND_COUNT, "key", -1, err,
		    sizeof(err)) != NULL);
	}
	T_CHECK(sim_sort(&s, err, sizeof(err)) == 0);
	T_CHECK(s.nprov == 1000);
	p = sim_find(&s, "p123/v1/models", 4);
	T_CHECK(p != NULL && strcmp(p->name, "p123") == 0);
	T_CHECK(sim_find(&s, "p12", 3) == NULL);
	T_CHECK(sim_find(&s, "p1234", 5) == NULL);
	T_CHECK(sim_find(&s, "", 0) == NULL);
	T_CHECK(sim_find(&s, "zzz", 3) == NULL);
	T_CHECK(sim_add(&s, "_sim", 0, "", -1, err, sizeof(err)) == NULL);
	T_CHECK(sim_add(&s, "a/b", 0, "", -1, err, sizeof(err)) == NULL);
	T_CHECK(sim_add(&s, "", 0, "", -1, err, sizeof(err)) == NULL);
	T_CHECK(sim_add(&s, "ok", SIM_KIND_COUNT, "", -1, err,
	    sizeof(err)) == NULL);
	T_CHECK(sim_add(&s, "p500", 0, "", -1, err, sizeof(err)) != NULL);
	T_CHECK(sim_sort(&s, err, sizeof(err)) == -1);
	T_CHECK(strstr(err, "p500") != NULL);
	sim_free(&s);
}

static void
test_kinds(void)
{
	struct sim_reply r;
	char m[32];
	int k;

	for (k = 0; k < SIM_KIND_COUNT; k++)
		T_CHECK(sim_kind_from_name(sim_kind_name(k)) == k);
	T_CHECK(sim_kind_from_name("openAI") == -1);
	T_CHECK(strcmp(sim_kind_name(99), "unknown") == 0);

	sim_key_mask("sk-proj-0123456789abcd", m, sizeof(m));
	T_CHECK(strcmp(m, "sk-****abcd") == 0);
	sim_key_mask("short", m, sizeof(m));
	T_CHECK(strcmp(m, "****") == 0);

	/* Injected errors: the kind's body, valid JSON, Retry-After rule. */
	for (k = 0; k < SIM_KIND_COUNT; k++) {
		cJSON *o;

		memset(&r, 0, sizeof(r));
		T_CHECK(sim_kind_error(k, 429, 9, &r) == 0);
		T_CHECK(r.status == 429 && r.retry_after == 9);
		o = cJSON_ParseWithLength(r.body, r.len);
		T_CHECKF(cJSON_IsObject(o), "kind %d: %s", k, r.body);
		cJSON_Delete(o);
		T_CHECK(sim_kind_error(k, 500, 9, &r) == 0);
		T_CHECK(r.status == 500 && r.retry_after == 0);
		sim_reply_free(&r);
	}
	memset(&r, 0, sizeof(r));
	T_CHECK(sim_kind_error(SIM_KIND_ANTHROPIC, 529, 0, &r) == 0);
	T_CHECK(strstr(r.body, "overloaded_error") != NULL);
	T_CHECK(sim_kind_error(SIM_KIND_GOOGLE, 429, 0, &r) == 0);
	T_CHECK(strstr(r.body, "RESOURCE_EXHAUSTED") != NULL);
	sim_reply_free(&r);
}

int
main(void)
{
	T_RUN(test_faults_parse);
	T_RUN(test_faults_bad);
	T_RUN(test_faults_json);
	T_RUN(test_delay);
	T_RUN(test_table);
	T_RUN(test_kinds);
	return t_done();
}
