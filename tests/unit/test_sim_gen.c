/*
 * test_sim_gen.c - vigil-sim's generation streams and models (tests/sim/
 * gen.c), read back by the prober's own stream parser (prober/stream.c)
 * and catalogue reader (prober/models.c): what the fake providers send
 * is what vigil must make of it, as test_classify does for the error
 * answers.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include <vigil/vigil.h>

#include "../../prober/models.h"
#include "../../prober/stream.h"
#include "../sim/errors.h"
#include "../sim/sim.h"
#include "t.h"

static const int kinds[] = { SIM_KIND_OPENAI, SIM_KIND_DEEPSEEK,
    SIM_KIND_QWEN, SIM_KIND_ANTHROPIC, SIM_KIND_GOOGLE };
#define NKINDS	(sizeof(kinds) / sizeof(kinds[0]))

static int
faults(struct sim_faults *f, const char *js, char *err, size_t errlen)
{
	cJSON *o = cJSON_Parse(js);
	int rc;

	if (o == NULL)
		return -2;
	rc = sim_faults_parse(o, f, err, errlen);
	cJSON_Delete(o);
	return rc;
}

/*
 * Stream r through the prober's parser piece by piece; *first_at: the
 * time of the piece that brought the first token (-1 none).  Returns
 * the outcome, err its code.
 */
static int
read_back(int kind, const struct sim_reply *r, struct stream *st,
    long *first_at, char *err)
{
	int i;

	stream_init(st, kind);
	*first_at = -1;
	for (i = 0; i < r->nsegs; i++) {
		T_CHECK(i == 0 || r->segs[i].at_ms >= r->segs[i - 1].at_ms);
		if (stream_feed(st, r->body + r->segs[i].off,
		    r->segs[i].len) == 1)
			*first_at = r->segs[i].at_ms;
	}
	return stream_outcome(st, NULL, err, VIGIL_ERR_MAX);
}

static int
run(int kind, const char *js, struct stream *st, long *first_at, char *err)
{
	struct sim_faults f;
	struct sim_reply r;
	char e[256];
	int o;

	sim_faults_clear(&f);
	memset(&r, 0, sizeof(r));
	T_CHECKF(faults(&f, js, e, sizeof(e)) == 0, "%s: %s", js, e);
	T_CHECK(sim_gen_stream(kind, "m-1", 1, sim_gen_for(&f.gen, "m-1"),
	    &r) == 0);
	T_CHECK(r.status == 200 && strcmp(r.ctype, "text/event-stream") == 0);
	o = read_back(kind, &r, st, first_at, err);
	sim_reply_free(&r);
	return o;
}

/* A healthy stream of every kind: ok, a token, the usage asked for. */
static void
test_healthy(void)
{
	struct stream st;
	char err[VIGIL_ERR_MAX];
	long at;
	size_t i;

	for (i = 0; i < NKINDS; i++) {
		T_CHECKF(run(kinds[i], "{\"tokens_in\":15,\"tokens_out\":5}",
		    &st, &at, err) == VIGIL_OUT_OK, "kind %d: %s", kinds[i],
		    err);
		T_CHECK(at == 0 && (st.flags & STREAM_TOKEN));
		T_CHECK(strcmp(st.text, "pong") == 0);
		T_CHECKF(st.tokens_in == 15 && st.tokens_out == 5,
		    "kind %d: %u+%u", kinds[i], st.tokens_in, st.tokens_out);
		stream_free(&st);
		T_CHECK(run(kinds[i], "{\"no_usage\":true,\"text\":\"OK 4\"}",
		    &st, &at, err) == VIGIL_OUT_OK);
		T_CHECK(!(st.flags & STREAM_USAGE) &&
		    strcmp(st.text, "OK 4") == 0);
		stream_free(&st);
	}
}

/* Keep-alives (comments, pings) until the first token, at its time. */
static void
test_slow_first_token(void)
{
	struct stream st;
	char err[VIGIL_ERR_MAX];
	long at;
	size_t i;

	for (i = 0; i < NKINDS; i++) {
		T_CHECK(run(kinds[i], "{\"keepalive_ms\":800,"
		    "\"keepalive_every_ms\":100,\"first_token_ms\":200}", &st,
		    &at, err) == VIGIL_OUT_OK);
		T_CHECKF(at == 1000, "kind %d: first token at %ld", kinds[i],
		    at);
		stream_free(&st);
	}
}

/* An error event after the 200: the outcome of the same error sent
 * as a status, before or after the first token. */
static void
test_stream_error(void)
{
	static const struct {
		int kind;
		const char *js;
		int want;
		int token;
	} tab[] = {
		{ SIM_KIND_ANTHROPIC, "{\"stream_error\":"
		    "\"anthropic_overloaded\"}", VIGIL_OUT_OVERLOADED, 0 },
		{ SIM_KIND_ANTHROPIC, "{\"stream_error\":"
		    "\"anthropic_overloaded\",\"stream_error_after\":1}",
		    VIGIL_OUT_OVERLOADED, 1 },
		{ SIM_KIND_ANTHROPIC, "{\"stream_error\":"
		    "\"anthropic_rate_limit\"}", VIGIL_OUT_RATE_LIMITED, 0 },
		{ SIM_KIND_OPENAI, "{\"stream_error\":"
		    "\"openai_server_overloaded\"}", VIGIL_OUT_OVERLOADED, 0 },
		{ SIM_KIND_OPENAI, "{\"stream_error\":\"openai_server_error\","
		    "\"stream_error_after\":1}", VIGIL_OUT_HTTP_5XX, 1 },
		{ SIM_KIND_GOOGLE, "{\"stream_error\":\"google_overloaded\"}",
		    VIGIL_OUT_OVERLOADED, 0 },
		{ SIM_KIND_DEEPSEEK, "{\"stream_error\":"
		    "\"deepseek_server_overloaded\",\"stream_error_after\":1}",
		    VIGIL_OUT_OVERLOADED, 1 },
	};
	struct stream st;
	char err[VIGIL_ERR_MAX];
	long at;
	size_t i;
	int o;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		o = run(tab[i].kind, tab[i].js, &st, &at, err);
		T_CHECKF(o == tab[i].want && strncmp(err, "sse:", 4) == 0,
		    "row %zu: %s %s", i, vigil_outcome_name((unsigned)o), err);
		T_CHECK(((st.flags & STREAM_TOKEN) != 0) == tab[i].token);
		stream_free(&st);
	}
}

/* A stream cut before its end marker: bad_response body:cut. */
static void
test_cut(void)
{
	struct stream st;
	char err[VIGIL_ERR_MAX];
	long at;
	size_t i;

	for (i = 0; i < NKINDS; i++) {
		T_CHECK(run(kinds[i], "{\"stream_cut\":true}", &st, &at,
		    err) == VIGIL_OUT_BAD_RESPONSE && strcmp(err, "body:cut") ==
		    0);
		T_CHECK(st.flags & STREAM_TOKEN);
		stream_free(&st);
	}
}

/* Per-model faults replace the provider's for that model alone. */
static void
test_model_faults(void)
{
	struct sim_faults f;
	char err[256];
	const struct sim_stream_conf *c;

	sim_faults_clear(&f);
	T_CHECK(faults(&f, "{\"first_token_ms\":5,\"model_faults\":{"
	    "\"gpt-4o\":{\"error_mode\":\"openai_model_not_found\"},"
	    "\"o3\":{\"stream_cut\":true}}}", err, sizeof(err)) == 0);
	c = sim_gen_for(&f.gen, "gpt-4o");
	T_CHECK(c->error_mode == sim_err_find("openai_model_not_found"));
	c = sim_gen_for(&f.gen, "o3");
	T_CHECK(c->stream_cut && c->first_token_ms == 0);
	c = sim_gen_for(&f.gen, "gpt-4o-mini");
	T_CHECK(c->first_token_ms == 5 && c->error_mode == 0);
	/* error_mode is a model's own field, not the stream's */
	T_CHECK(f.gen.s.error_mode == 0);
	T_CHECK(faults(&f, "{\"model_faults\":null}", err, sizeof(err)) == 0 &&
	    f.gen.nmodel == 0);
}

/* What GET shows, POSTed back, gives the same faults. */
static void
test_round_trip(void)
{
	struct sim_faults f, g;
	char err[256];
	cJSON *o;

	sim_faults_clear(&f);
	T_CHECK(faults(&f, "{\"keepalive_ms\":800,\"first_token_ms\":200,"
	    "\"tokens_in\":15,\"tokens_out\":5,\"text\":\"hi there\","
	    "\"stream_error\":\"anthropic_overloaded\",\"stream_error_after\":"
	    "1,\"model_faults\":{\"a\":{\"no_usage\":true,\"error_mode\":"
	    "\"google_model_not_found\"}},\"models\":[\"a\",\"b\"],"
	    "\"drop_models\":[\"b\"]}", err, sizeof(err)) == 0);
	o = sim_faults_json(&f);
	sim_faults_clear(&g);
	T_CHECKF(sim_faults_parse(o, &g, err, sizeof(err)) == 0, "%s", err);
	T_CHECK(memcmp(&f, &g, sizeof(f)) == 0);
	cJSON_Delete(o);
}

/* Bad values: refused, nothing changed. */
static void
test_bad(void)
{
	static const char *const bad[] = {
		"{\"keepalive_ms\":-1}", "{\"first_token_ms\":\"1\"}",
		"{\"stream_error\":\"nope\"}", "{\"stream_error_after\":2}",
		"{\"text\":\"a\\\"b\"}", "{\"text\":\"" "0123456789012345678901"
		"2345678901234567890123456789012345678901234\"}",
		"{\"models\":\"gpt-4o\"}", "{\"models\":[\"a b\"]}",
		"{\"drop_models\":[1]}", "{\"model_faults\":[]}",
		"{\"model_faults\":{\"m\":{\"hang\":true}}}",
		"{\"model_faults\":{\"a b\":{}}}", "{\"error_mode_x\":1}",
		"{\"keepalive_ms\":5,\"no_usage\":2}",
	};
	struct sim_faults f, before;
	char err[256];
	size_t i;

	sim_faults_clear(&f);
	T_CHECK(faults(&f, "{\"keepalive_ms\":7}", err, sizeof(err)) == 0);
	before = f;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		T_CHECKF(faults(&f, bad[i], err, sizeof(err)) == -1, "%s",
		    bad[i]);
		T_CHECKF(memcmp(&f, &before, sizeof(f)) == 0, "%s changed "
		    "the faults", bad[i]);
	}
}

/* The models list, as the faults change it, read by the prober. */
static void
test_lists(void)
{
	static const char *const defs[] = { "a", "b", "c" };
	struct sim_faults f;
	const char *out[8];
	char err[256];
	size_t n;

	sim_faults_clear(&f);
	T_CHECK(sim_gen_list(&f.gen, defs, 3, out, 8) == 3);
	T_CHECK(faults(&f, "{\"drop_models\":[\"b\",\"zz\"]}", err,
	    sizeof(err)) == 0);
	n = sim_gen_list(&f.gen, defs, 3, out, 8);
	T_CHECK(n == 2 && strcmp(out[0], "a") == 0 && strcmp(out[1], "c") ==
	    0);
	T_CHECK(faults(&f, "{\"models\":[\"x\",\"b\"]}", err,
	    sizeof(err)) == 0);
	n = sim_gen_list(&f.gen, defs, 3, out, 8);
	T_CHECK(n == 1 && strcmp(out[0], "x") == 0);
	T_CHECK(faults(&f, "{\"models\":[],\"drop_models\":null}", err,
	    sizeof(err)) == 0);
	T_CHECK(sim_gen_list(&f.gen, defs, 3, out, 8) == 0);
	T_CHECK(faults(&f, "{\"models\":null}", err, sizeof(err)) == 0);
	T_CHECK(sim_gen_list(&f.gen, defs, 3, out, 1) == 1);
}

int
main(void)
{
	T_RUN(test_healthy);
	T_RUN(test_slow_first_token);
	T_RUN(test_stream_error);
	T_RUN(test_cut);
	T_RUN(test_model_faults);
	T_RUN(test_round_trip);
	T_RUN(test_bad);
	T_RUN(test_lists);
	return t_done();
}
