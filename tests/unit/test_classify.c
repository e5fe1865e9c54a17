/*
 * test_classify.c - the prober's error classifier against the providers'
 * documented error answers.
 *
 * The fixtures are vigil-sim's own table (tests/sim/errors.c): every
 * row the sim serves in an error mode is classified here, so the sim
 * and the classifier cannot drift apart.  Each row is also tried padded
 * to 10 KB (still classified by its body) and cut in half (no longer
 * JSON: the status's class).  Hand rows cover what no provider
 * documents: garbage, truncated or empty bodies, JSON that is not an
 * object, bodies over the parse limit, wrong field types, hostile
 * labels and short error buffers.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <curl/curl.h>

#include <vigil/vigil.h>

#include "../../prober/outcome.h"
#include "../sim/errors.h"
#include "../sim/sim.h"
#include "t.h"

_Static_assert((int)SIM_KIND_OPENAI == (int)VIGIL_KIND_OPENAI &&
    (int)SIM_KIND_ANTHROPIC == (int)VIGIL_KIND_ANTHROPIC &&
    (int)SIM_KIND_GOOGLE == (int)VIGIL_KIND_GOOGLE &&
    (int)SIM_KIND_DEEPSEEK == (int)VIGIL_KIND_DEEPSEEK &&
    (int)SIM_KIND_QWEN == (int)VIGIL_KIND_QWEN &&
    (int)SIM_KIND_HTTP == (int)VIGIL_KIND_HTTP &&
    (int)SIM_KIND_CURSOR == (int)VIGIL_KIND_CURSOR,
    "sim kinds are vigil kinds");

/*
 * Classify an HTTP answer whose body is len bytes of body, copied to a
 * heap buffer of exactly that size (no NUL after it: ASan sees a read
 * past the end), into err[errlen], itself exactly that size.
 */
static int
classify_n(int kind, long status, const char *body, size_t len, char *err,
    size_t errlen)
{
	struct probe_result r;
	char *copy = NULL, *e;
	int out;

	if (body != NULL && (copy = malloc(len > 0 ? len : 1)) != NULL)
		memcpy(copy, body, len);
	e = malloc(errlen > 0 ? errlen : 1);
	memset(&r, 0, sizeof(r));
	r.curl_code = CURLE_OK;
	r.http_status = status;
	r.body_ok = -1;
	r.kind = kind;
	r.body = copy;
	r.body_len = body != NULL ? len : 0;
	out = outcome_classify(&r, e, errlen);
	if (errlen > 0) {
		T_CHECKF(memchr(e, '\0', errlen) != NULL, "err not terminated");
		snprintf(err, VIGIL_ERR_MAX, "%s", e);
	}
	free(e);
	free(copy);
	return out;
}

static int
classify(int kind, long status, const char *body, char *err)
{
	return classify_n(kind, status, body, body != NULL ? strlen(body) : 0,
	    err, VIGIL_ERR_MAX);
}

/* The outcome named name, or -1. */
static int
outcome_by_name(const char *name)
{
	unsigned i;

	for (i = 0; i < VIGIL_OUT_COUNT; i++)
		if (strcmp(vigil_outcome_name(i), name) == 0)
			return (int)i;
	return -1;
}

/* Every row of the sim's table, as served and in two damaged forms. */
static void
test_table(void)
{
	int seen[VIGIL_OUT_COUNT] = { 0 };
	const struct sim_err_row *row;
	char err[VIGIL_ERR_MAX], want[VIGIL_ERR_MAX], *pad;
	size_t i, j, len, plen = 10 * 1024;
	cJSON *o;
	int got, out;

	T_CHECK(sim_err_nrows > 0);
	for (i = 0; i < sim_err_nrows; i++) {
		row = &sim_err_rows[i];
		out = outcome_by_name(row->outcome);
		T_CHECKF(out >= 0, "%s: outcome '%s'", row->mode,
		    row->outcome);
		if (out < 0)
			continue;
		seen[out] = 1;
		len = strlen(vigil_kind_name((unsigned)row->kind));
		T_CHECKF(strncmp(row->mode, vigil_kind_name(
		    (unsigned)row->kind), len) == 0 && row->mode[len] == '_',
		    "%s: not named after its kind", row->mode);
		T_CHECKF(row->status >= 400 && row->status <= 599,
		    "%s: status %d", row->mode, row->status);
		T_CHECKF(strncmp(row->source, "https://", 8) == 0,
		    "%s: source '%s'", row->mode, row->source);
		T_CHECKF(strlen(row->error) < VIGIL_ERR_MAX, "%s", row->mode);
		for (j = 0; j < i; j++)
			T_CHECKF(strcmp(sim_err_rows[j].mode, row->mode) != 0,
			    "%s twice", row->mode);
		T_CHECK(sim_err_find(row->mode) == (int)i + 1);
		o = cJSON_Parse(row->body);
		T_CHECKF(cJSON_IsObject(o), "%s: body not a JSON object",
		    row->mode);
		cJSON_Delete(o);

		/* As the sim serves it. */
		got = classify(row->kind, row->status, row->body, err);
		T_CHECKF(got == out && strcmp(err, row->error) == 0,
		    "%s: got %s '%s', want %s '%s'", row->mode,
		    vigil_outcome_name((unsigned)got), err, row->outcome,
		    row->error);

		/* Padded to 10 KB as body_bytes does: still the body. */
		len = strlen(row->body);
		if ((pad = malloc(plen)) == NULL)
			continue;
		memcpy(pad, row->body, len);
		memset(pad + len, ' ', plen - len);
		got = classify_n(row->kind, row->status, pad, plen, err,
		    sizeof(err));
		T_CHECKF(got == out && strcmp(err, row->error) == 0,
		    "%s padded: got %s '%s'", row->mode,
		    vigil_outcome_name((unsigned)got), err);

		/* Cut in half: not JSON, so the status's class. */
		got = classify_n(row->kind, row->status, pad, len / 2, err,
		    sizeof(err));
		snprintf(want, sizeof(want), "http:%d", row->status);
		T_CHECKF(got == outcome_status_class(row->kind, row->status) &&
		    strcmp(err, want) == 0, "%s cut: got %s '%s'", row->mode,
		    vigil_outcome_name((unsigned)got), err);
		free(pad);
	}
	T_CHECK(seen[VIGIL_OUT_AUTH] && seen[VIGIL_OUT_QUOTA] &&
	    seen[VIGIL_OUT_RATE_LIMITED] && seen[VIGIL_OUT_OVERLOADED] &&
	    seen[VIGIL_OUT_MODEL_MISSING] && seen[VIGIL_OUT_CLIENT_ERROR] &&
	    seen[VIGIL_OUT_HTTP_5XX]);
}

/*
 * The rows issue 16 asks for by name: each must be in the table with
 * this outcome (the table may hold more).
 */
static void
test_required(void)
{
	static const struct {
		const char	*mode;
		const char	*outcome;
	} req[] = {
		{ "openai_invalid_api_key", "auth" },
		{ "openai_insufficient_quota", "quota" },
		{ "openai_credit_balance_exhausted", "quota" },
		{ "openai_org_spend_limit", "quota" },
		{ "openai_project_spend_limit", "quota" },
		{ "openai_org_usage_limit", "quota" },
		{ "openai_rate_limit_requests", "rate_limited" },
		{ "openai_slow_down", "rate_limited" },
		{ "openai_server_overloaded", "overloaded" },
		{ "openai_model_not_found", "model_missing" },
		{ "anthropic_authentication_error", "auth" },
		{ "anthropic_permission_error", "auth" },
		{ "anthropic_billing_error", "quota" },
		{ "anthropic_credit_balance_low", "quota" },
		{ "anthropic_enforced_spend_limit", "quota" },
		{ "anthropic_rate_limit", "rate_limited" },
		{ "anthropic_overloaded", "overloaded" },
		{ "anthropic_model_not_found", "model_missing" },
		{ "google_api_key_invalid", "auth" },
		{ "google_permission_denied", "auth" },
		{ "google_quota_per_day", "quota" },
		{ "google_billing_not_enabled", "quota" },
		{ "google_rate_limit", "rate_limited" },
		{ "google_overloaded", "overloaded" },
		{ "google_model_not_found", "model_missing" },
		{ "deepseek_authentication_fails", "auth" },
		{ "deepseek_insufficient_balance", "quota" },
		{ "deepseek_rate_limit", "rate_limited" },
		{ "deepseek_server_overloaded", "overloaded" },
		{ "qwen_invalid_api_key", "auth" },
		{ "qwen_native_invalid_api_key", "auth" },
		{ "qwen_arrearage", "quota" },
		{ "qwen_native_arrearage", "quota" },
		{ "qwen_insufficient_quota", "quota" },
		{ "qwen_throttling", "rate_limited" },
		{ "qwen_model_not_found", "model_missing" },
		{ "qwen_native_model_not_found", "model_missing" },
		{ "qwen_data_inspection_failed", "client_error" },
		{ "qwen_native_data_inspection_failed", "client_error" },
	};
	const struct sim_err_row *row;
	size_t i;

	for (i = 0; i < sizeof(req) / sizeof(req[0]); i++) {
		row = sim_err_row(sim_err_find(req[i].mode));
		T_CHECKF(row != NULL && strcmp(row->outcome,
		    req[i].outcome) == 0, "%s: %s", req[i].mode,
		    row != NULL ? row->outcome : "missing");
	}
	T_CHECK(sim_err_find("no_such_mode") == 0);
	T_CHECK(sim_err_find(NULL) == 0);
	T_CHECK(sim_err_row(0) == NULL);
	T_CHECK(sim_err_row((int)sim_err_nrows + 1) == NULL);
}

/* Answers no provider documents: the status decides, nothing breaks. */
static void
test_edges(void)
{
	static const struct {
		int		 kind;
		long		 status;
		const char	*body;
		int		 want;
		const char	*err;
	} tab[] = {
		/* garbage, truncated, empty, not an object */
		{ VIGIL_KIND_OPENAI, 502, "<html><body>502 Bad Gateway</body>"
		    "</html>", VIGIL_OUT_HTTP_5XX, "http:502" },
		{ VIGIL_KIND_OPENAI, 429, "<html>Too Many Requests</html>",
		    VIGIL_OUT_RATE_LIMITED, "http:429" },
		{ VIGIL_KIND_OPENAI, 429, "{\"error\":{\"type\":"
		    "\"insufficient_quota\"", VIGIL_OUT_RATE_LIMITED,
		    "http:429" },
		{ VIGIL_KIND_OPENAI, 429, "", VIGIL_OUT_RATE_LIMITED,
		    "http:429" },
		{ VIGIL_KIND_OPENAI, 401, NULL, VIGIL_OUT_AUTH, "http:401" },
		{ VIGIL_KIND_OPENAI, 429, "[1,2]", VIGIL_OUT_RATE_LIMITED,
		    "http:429" },
		{ VIGIL_KIND_OPENAI, 429, "[]", VIGIL_OUT_RATE_LIMITED,
		    "http:429" },
		{ VIGIL_KIND_OPENAI, 429, "\"insufficient_quota\"",
		    VIGIL_OUT_RATE_LIMITED, "http:429" },
		{ VIGIL_KIND_OPENAI, 429, "42", VIGIL_OUT_RATE_LIMITED,
		    "http:429" },
		{ VIGIL_KIND_OPENAI, 429, "null", VIGIL_OUT_RATE_LIMITED,
		    "http:429" },
		{ VIGIL_KIND_OPENAI, 429, "{\"error\":null}",
		    VIGIL_OUT_RATE_LIMITED, "http:429" },
		/* a one-element array of the error (Vertex AI does this) */
		{ VIGIL_KIND_GOOGLE, 429, "[{\"error\":{\"code\":429,"
		    "\"status\":\"RESOURCE_EXHAUSTED\",\"message\":"
		    "\"Resource exhausted.\"}}]", VIGIL_OUT_RATE_LIMITED,
		    "http:429 RESOURCE_EXHAUSTED" },
		/* wrong types everywhere */
		{ VIGIL_KIND_OPENAI, 429, "{\"error\":{\"type\":5,\"code\":[1],"
		    "\"message\":{},\"details\":\"x\"}}",
		    VIGIL_OUT_RATE_LIMITED, "http:429" },
		{ VIGIL_KIND_GOOGLE, 429, "{\"error\":{\"status\":"
		    "\"RESOURCE_EXHAUSTED\",\"details\":[1,\"x\",{\"@type\":5},"
		    "{\"@type\":\"type.googleapis.com/google.rpc."
		    "QuotaFailure\",\"violations\":{\"quotaId\":\"PerDay\"}},"
		    "{\"@type\":"
		    "\"type.googleapis.com/google.rpc.QuotaFailure\","
		    "\"violations\":[7,{\"quotaId\":9}]}]}}",
		    VIGIL_OUT_RATE_LIMITED, "http:429 RESOURCE_EXHAUSTED" },
		{ VIGIL_KIND_ANTHROPIC, 429, "{\"type\":\"error\",\"error\":"
		    "{\"type\":\"rate_limit_error\",\"details\":"
		    "{\"error_code\":3}}}", VIGIL_OUT_RATE_LIMITED,
		    "http:429 rate_limit_error" },
		/* a known status, a body we do not know */
		{ VIGIL_KIND_OPENAI, 429, "{\"error\":{\"type\":\"mystery\","
		    "\"code\":\"x9\"}}", VIGIL_OUT_RATE_LIMITED,
		    "http:429 x9" },
		{ VIGIL_KIND_OPENAI, 401, "{\"foo\":1}", VIGIL_OUT_AUTH,
		    "http:401" },
		{ VIGIL_KIND_GOOGLE, 400, "{\"error\":{\"code\":400}}",
		    VIGIL_OUT_CLIENT_ERROR, "http:400" },
		/* the status classes, with no body */
		{ VIGIL_KIND_OPENAI, 404, NULL, VIGIL_OUT_CLIENT_ERROR,
		    "http:404" },
		{ VIGIL_KIND_OPENAI, 405, NULL, VIGIL_OUT_CLIENT_ERROR,
		    "http:405" },
		{ VIGIL_KIND_OPENAI, 409, NULL, VIGIL_OUT_CLIENT_ERROR,
		    "http:409" },
		{ VIGIL_KIND_OPENAI, 413, NULL, VIGIL_OUT_CLIENT_ERROR,
		    "http:413" },
		{ VIGIL_KIND_OPENAI, 422, NULL, VIGIL_OUT_CLIENT_ERROR,
		    "http:422" },
		{ VIGIL_KIND_HTTP, 451, NULL, VIGIL_OUT_CLIENT_ERROR,
		    "http:451" },
		{ VIGIL_KIND_HTTP, 408, NULL, VIGIL_OUT_OTHER, "http:408" },
		{ VIGIL_KIND_HTTP, 402, NULL, VIGIL_OUT_QUOTA, "http:402" },
		{ VIGIL_KIND_HTTP, 403, NULL, VIGIL_OUT_AUTH, "http:403" },
		{ VIGIL_KIND_HTTP, 301, "{\"error\":{\"code\":"
		    "\"insufficient_quota\"}}", VIGIL_OUT_OTHER, "http:301" },
		{ VIGIL_KIND_HTTP, 0, NULL, VIGIL_OUT_OTHER, "http:0" },
		{ VIGIL_KIND_HTTP, 600, NULL, VIGIL_OUT_OTHER, "http:600" },
		{ VIGIL_KIND_HTTP, -1, NULL, VIGIL_OUT_OTHER, "http:-1" },
		{ VIGIL_KIND_ANTHROPIC, 529, "<html>", VIGIL_OUT_OVERLOADED,
		    "http:529" },
		{ VIGIL_KIND_OPENAI, 529, NULL, VIGIL_OUT_HTTP_5XX,
		    "http:529" },
		{ VIGIL_KIND_DEEPSEEK, 503, NULL, VIGIL_OUT_OVERLOADED,
		    "http:503" },
		{ VIGIL_KIND_OPENAI, 503, NULL, VIGIL_OUT_HTTP_5XX,
		    "http:503" },
		/* a 5xx stays a failure; the body only says overloaded */
		{ VIGIL_KIND_OPENAI, 500, "{\"error\":{\"type\":"
		    "\"insufficient_quota\",\"code\":\"insufficient_quota\"}}",
		    VIGIL_OUT_HTTP_5XX, "http:500 insufficient_quota" },
		{ VIGIL_KIND_OPENAI, 503, "{\"error\":{\"message\":"
		    "\"That model is currently overloaded with other "
		    "requests.\",\"type\":"
		    "\"server_error\",\"param\":null,\"code\":null}}",
		    VIGIL_OUT_OVERLOADED, "http:503 overloaded" },
		{ VIGIL_KIND_OPENAI, 503, "{\"error\":{\"message\":\"slow\","
		    "\"type\":\"rate_limit_error\",\"code\":\"slow_down\"}}",
		    VIGIL_OUT_OVERLOADED, "http:503 slow_down" },
		/* a 4xx never becomes overloaded */
		{ VIGIL_KIND_ANTHROPIC, 429, "{\"type\":\"error\",\"error\":"
		    "{\"type\":\"overloaded_error\",\"message\":"
		    "\"Overloaded\"}}",
		    VIGIL_OUT_RATE_LIMITED, "http:429 overloaded_error" },
		/* 402 is billing whatever the body says */
		{ VIGIL_KIND_GOOGLE, 402, "{\"error\":{\"code\":402,\"status\":"
		    "\"RESOURCE_EXHAUSTED\",\"message\":\"x\"}}",
		    VIGIL_OUT_QUOTA, "http:402 RESOURCE_EXHAUSTED" },
		{ VIGIL_KIND_OPENAI, 402, "{\"error\":{\"code\":"
		    "\"rate_limit_exceeded\"}}", VIGIL_OUT_QUOTA,
		    "http:402 rate_limit_exceeded" },
		/* a wrong path is not a missing model */
		{ VIGIL_KIND_ANTHROPIC, 404, "{\"type\":\"error\",\"error\":"
		    "{\"type\":\"not_found_error\",\"message\":\"Not Found\"}}",
		    VIGIL_OUT_CLIENT_ERROR, "http:404 not_found_error" },
		{ VIGIL_KIND_GOOGLE, 404, "{\"error\":{\"code\":404,"
		    "\"message\":\"Method not found.\",\"status\":"
		    "\"NOT_FOUND\"}}",
		    VIGIL_OUT_CLIENT_ERROR, "http:404 NOT_FOUND" },
		{ VIGIL_KIND_OPENAI, 404, "{\"error\":{\"message\":"
		    "\"Invalid URL (GET /v1/x)\",\"type\":"
		    "\"invalid_request_error\","
		    "\"param\":null,\"code\":null}}", VIGIL_OUT_CLIENT_ERROR,
		    "http:404 invalid_request_error" },
		{ VIGIL_KIND_DEEPSEEK, 400, "{\"error\":{\"message\":"
		    "\"Model Not Exist\",\"type\":\"invalid_request_error\","
		    "\"param\":null,"
		    "\"code\":\"invalid_request_error\"}}",
		    VIGIL_OUT_MODEL_MISSING, "http:400 model_not_found" },
		/* an OpenAI-shaped answer on a generic endpoint */
		{ VIGIL_KIND_HTTP, 429, "{\"error\":{\"message\":\"m\","
		    "\"type\":\"insufficient_quota\",\"param\":null,\"code\":"
		    "\"insufficient_quota\"}}", VIGIL_OUT_QUOTA,
		    "http:429 insufficient_quota" },
		{ VIGIL_KIND_CURSOR, 401, "{\"error\":\"Unauthorized\","
		    "\"message\":\"Invalid API key\"}", VIGIL_OUT_AUTH,
		    "http:401" },
		/* per-minute and per-day violated together: per day wins */
		{ VIGIL_KIND_GOOGLE, 429, "{\"error\":{\"code\":429,\"status\":"
		    "\"RESOURCE_EXHAUSTED\",\"details\":[{\"@type\":"
		    "\"type.googleapis.com/google.rpc.QuotaFailure\","
		    "\"violations\":[{\"quotaId\":\"GenerateRequestsPerMinute"
		    "PerProjectPerModel-FreeTier\"},{\"quotaMetric\":"
		    "\"generativelanguage.googleapis.com/generate_requests_per_"
		    "model_per_day\",\"quotaId\":\"x\"}]}]}}", VIGIL_OUT_QUOTA,
		    "http:429 RESOURCE_EXHAUSTED/day" },
		{ VIGIL_KIND_GOOGLE, 429, "{\"error\":{\"code\":429,"
		    "\"message\":\"Your prepayment credits are depleted.\","
		    "\"status\":"
		    "\"RESOURCE_EXHAUSTED\"}}", VIGIL_OUT_QUOTA,
		    "http:429 RESOURCE_EXHAUSTED" },
		{ VIGIL_KIND_GOOGLE, 403, "{\"error\":{\"code\":403,\"status\":"
		    "\"PERMISSION_DENIED\",\"details\":[{\"@type\":"
		    "\"type.googleapis.com/google.rpc.ErrorInfo\",\"reason\":"
		    "\"BILLING_DISABLED\"}]}}", VIGIL_OUT_QUOTA,
		    "http:403 BILLING_DISABLED" },
		{ VIGIL_KIND_QWEN, 429, "{\"code\":"
		    "\"Throttling.AllocationQuota\",\"message\":"
		    "\"Free allocated quota exceeded.\"}",
		    VIGIL_OUT_QUOTA, "http:429 Throttling.AllocationQ" },
		{ VIGIL_KIND_QWEN, 403, "{\"error\":{\"message\":"
		    "\"Access denied due to overdue account\",\"type\":"
		    "\"access_denied\","
		    "\"code\":\"access_denied\"}}", VIGIL_OUT_QUOTA,
		    "http:403 overdue" },
		{ VIGIL_KIND_QWEN, 403, "{\"error\":{\"message\":\"Access "
		    "denied.\",\"type\":\"access_denied\",\"code\":"
		    "\"access_denied\"}}", VIGIL_OUT_AUTH,
		    "http:403 access_denied" },
		/* hostile and long tokens are reduced and cut */
		{ VIGIL_KIND_OPENAI, 429, "{\"error\":{\"code\":\"a b\\\"c\\n"
		    "<x>\\u00e9\"}}", VIGIL_OUT_RATE_LIMITED,
		    "http:429 a_b_c__x___" },
		{ VIGIL_KIND_OPENAI, 400, "{\"error\":{\"code\":\"0123456789"
		    "0123456789012345678901234567890123456789\"}}",
		    VIGIL_OUT_CLIENT_ERROR, "http:400 0123456789012345678901" },
	};
	char err[VIGIL_ERR_MAX];
	size_t i;
	int got;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		got = classify(tab[i].kind, tab[i].status, tab[i].body, err);
		T_CHECKF(got == tab[i].want && strcmp(err, tab[i].err) == 0,
		    "row %zu: got %s '%s', want %s '%s'", i,
		    vigil_outcome_name((unsigned)got), err,
		    vigil_outcome_name((unsigned)tab[i].want), tab[i].err);
	}
}

/* Bodies over the parse limit, deep nesting, NULs, small buffers. */
static void
test_limits(void)
{
	const char *q = "{\"error\":{\"type\":\"insufficient_quota\","
	    "\"code\":\"insufficient_quota\"}}";
	const char nul[] = "{\"error\":{\"code\":\"insufficient_quota\"}}"
	    "\0{{{{";
	char err[VIGIL_ERR_MAX], *big;
	size_t n = OUTCOME_BODY_PARSE_MAX + 1, len = strlen(q), depth = 5000;
	size_t sz;
	int got;

	/* Over the limit: not parsed, the status decides. */
	if ((big = malloc(n)) != NULL) {
		memcpy(big, q, len);
		memset(big + len, ' ', n - len);
		got = classify_n(VIGIL_KIND_OPENAI, 429, big, n, err,
		    sizeof(err));
		T_CHECK(got == VIGIL_OUT_RATE_LIMITED &&
		    strcmp(err, "http:429") == 0);
		/* At the limit: parsed. */
		got = classify_n(VIGIL_KIND_OPENAI, 429, big, n - 1, err,
		    sizeof(err));
		T_CHECK(got == VIGIL_OUT_QUOTA &&
		    strcmp(err, "http:429 insufficient_quota") == 0);
		free(big);
	}
	/* Nested past cJSON's limit: refused, no stack overflow. */
	if ((big = malloc(depth * 2)) != NULL) {
		memset(big, '[', depth);
		memset(big + depth, ']', depth);
		got = classify_n(VIGIL_KIND_GOOGLE, 503, big, depth * 2, err,
		    sizeof(err));
		T_CHECK(got == VIGIL_OUT_HTTP_5XX &&
		    strcmp(err, "http:503") == 0);
		free(big);
	}
	/* A NUL inside: whatever cJSON makes of it, a valid answer. */
	got = classify_n(VIGIL_KIND_OPENAI, 429, nul, sizeof(nul) - 1, err,
	    sizeof(err));
	T_CHECK(got == VIGIL_OUT_QUOTA || got == VIGIL_OUT_RATE_LIMITED);
	/* Short error buffers: terminated, never overrun (ASan). */
	for (sz = 0; sz <= 12; sz++) {
		got = classify_n(VIGIL_KIND_OPENAI, 429, q, len, err, sz);
		T_CHECK(got == VIGIL_OUT_QUOTA);
		if (sz > 0)
			T_CHECKF(strlen(err) == sz - 1, "size %zu: '%s'", sz,
			    err);
	}
}

int
main(void)
{
	T_RUN(test_table);
	T_RUN(test_required);
	T_RUN(test_edges);
	T_RUN(test_limits);
	return t_done();
}
