/*
 * test_prober.c - the prober's pure parts: outcome classes, body
 * validators, scheduling delays, URLs and headers per kind (Retry-After
 * and rate-limit headers: test_ratelimit; confirmations: test_check).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include <vigil/vigil.h>

#include "../../prober/kinds.h"
#include "../../prober/outcome.h"
#include "../../prober/sched.h"
#include "t.h"

static int
classify(int cc, long status, int body_ok, int capped, int kind,
    const char *body, char *err)
{
	struct probe_result r;

	memset(&r, 0, sizeof(r));
	r.curl_code = cc;
	r.http_status = status;
	r.body_ok = body_ok;
	r.capped = capped;
	r.kind = kind;
	r.body = body;
	r.body_len = body ? strlen(body) : 0;
	return outcome_classify(&r, err, VIGIL_ERR_MAX);
}

static void
test_outcome_table(void)
{
	static const struct {
		int cc;
		long status;
		int body_ok, capped, kind;
		const char *body;
		int want;
		const char *err;
	} tab[] = {
		{ CURLE_OK, 200, 0, 0, VIGIL_KIND_OPENAI, NULL,
		    VIGIL_OUT_OK, "" },
		{ CURLE_OK, 204, 0, 0, VIGIL_KIND_HTTP, NULL,
		    VIGIL_OUT_OK, "" },
		{ CURLE_OK, 200, -1, 0, VIGIL_KIND_OPENAI, "x",
		    VIGIL_OUT_BAD_RESPONSE, "body:shape" },
		{ CURLE_OPERATION_TIMEDOUT, 0, -1, 0, 1, NULL,
		    VIGIL_OUT_TIMEOUT, "curl:28" },
		/* a timeout after the headers is still a timeout */
		{ CURLE_OPERATION_TIMEDOUT, 200, -1, 0, 1, NULL,
		    VIGIL_OUT_TIMEOUT, "curl:28" },
		{ CURLE_COULDNT_RESOLVE_HOST, 0, -1, 0, 1, NULL,
		    VIGIL_OUT_DNS, "curl:6" },
		{ CURLE_COULDNT_CONNECT, 0, -1, 0, 1, NULL,
		    VIGIL_OUT_CONNECT, "curl:7" },
		{ CURLE_SSL_CONNECT_ERROR, 0, -1, 0, 1, NULL,
		    VIGIL_OUT_TLS, "curl:35" },
		{ CURLE_PEER_FAILED_VERIFICATION, 0, -1, 0, 1, NULL,
		    VIGIL_OUT_TLS, "curl:60" },
		{ CURLE_SSL_CACERT_BADFILE, 0, -1, 0, 1, NULL,
		    VIGIL_OUT_TLS, "curl:77" },
		{ CURLE_RECV_ERROR, 0, -1, 0, 1, NULL,
		    VIGIL_OUT_OTHER, "curl:56" },
		{ CURLE_GOT_NOTHING, 0, -1, 0, 1, NULL,
		    VIGIL_OUT_OTHER, "curl:52" },
		{ CURLE_SEND_ERROR, 0, -1, 0, 1, NULL,
		    VIGIL_OUT_OTHER, "curl:55" },
		{ CURLE_PARTIAL_FILE, 200, -1, 0, 1, NULL,
		    VIGIL_OUT_BAD_RESPONSE, "curl:18" },
		{ CURLE_WEIRD_SERVER_REPLY, 0, -1, 0, 1, NULL,
		    VIGIL_OUT_BAD_RESPONSE, "curl:8" },
		{ CURLE_UNSUPPORTED_PROTOCOL, 0, -1, 0, 1, NULL,
		    VIGIL_OUT_BAD_RESPONSE, "curl:1" },
		{ CURLE_WRITE_ERROR, 200, -1, 1, 1, NULL,
		    VIGIL_OUT_BAD_RESPONSE, "body:too_big" },
		{ CURLE_WRITE_ERROR, 200, -1, 0, 1, NULL,
		    VIGIL_OUT_OTHER, "curl:23" },
		{ CURLE_FILESIZE_EXCEEDED, 200, -1, 0, 1, NULL,
		    VIGIL_OUT_BAD_RESPONSE, "body:too_big" },
		{ CURLE_OK, 500, -1, 0, 1, NULL,
		    VIGIL_OUT_HTTP_5XX, "http:500" },
		{ CURLE_OK, 503, -1, 0, 1, NULL,
		    VIGIL_OUT_HTTP_5XX, "http:503" },
		{ CURLE_OK, 599, -1, 0, 1, NULL,
		    VIGIL_OUT_HTTP_5XX, "http:599" },
		{ CURLE_OK, 429, -1, 0, 1, NULL,
		    VIGIL_OUT_RATE_LIMITED, "http:429" },
		{ CURLE_OK, 401, -1, 0, 1, NULL,
		    VIGIL_OUT_AUTH, "http:401" },
		{ CURLE_OK, 403, -1, 0, 1, NULL,
		    VIGIL_OUT_AUTH, "http:403" },
		{ CURLE_OK, 400, -1, 0, VIGIL_KIND_GOOGLE,
		    "{\"error\":{\"code\":400,\"message\":\"API key not valid. "
		    "Please pass a valid API key.\"}}",
		    VIGIL_OUT_AUTH, "http:400 API_KEY_INVALID" },
		{ CURLE_OK, 400, -1, 0, VIGIL_KIND_GOOGLE,
		    "{\"error\":{\"details\":[{\"@type\":\"type.googleapis."
		    "com/google.rpc.ErrorInfo\",\"reason\":\"API_KEY_INVALID\"}]}}",
		    VIGIL_OUT_AUTH, "http:400 API_KEY_INVALID" },
		/* the same words from another kind, not JSON: just a 400 */
		{ CURLE_OK, 400, -1, 0, VIGIL_KIND_OPENAI,
		    "API_KEY_INVALID", VIGIL_OUT_CLIENT_ERROR, "http:400" },
		{ CURLE_OK, 400, -1, 0, VIGIL_KIND_GOOGLE, "{\"error\":1}",
		    VIGIL_OUT_CLIENT_ERROR, "http:400" },
		{ CURLE_OK, 404, -1, 0, 1, NULL,
		    VIGIL_OUT_CLIENT_ERROR, "http:404" },
		/* the body decides (tests/unit/test_classify.c has them all) */
		{ CURLE_OK, 429, -1, 0, VIGIL_KIND_OPENAI,
		    "{\"error\":{\"type\":\"insufficient_quota\",\"code\":"
		    "\"insufficient_quota\"}}",
		    VIGIL_OUT_QUOTA, "http:429 insufficient_quota" },
		{ CURLE_OK, 402, -1, 0, VIGIL_KIND_DEEPSEEK, NULL,
		    VIGIL_OUT_QUOTA, "http:402" },
		{ CURLE_OK, 529, -1, 0, VIGIL_KIND_ANTHROPIC,
		    "{\"type\":\"error\",\"error\":{\"type\":"
		    "\"overloaded_error\",\"message\":\"Overloaded\"}}",
		    VIGIL_OUT_OVERLOADED, "http:529 overloaded_error" },
		{ CURLE_OK, 404, -1, 0, VIGIL_KIND_OPENAI,
		    "{\"error\":{\"code\":\"model_not_found\"}}",
		    VIGIL_OUT_MODEL_MISSING, "http:404 model_not_found" },
		{ CURLE_OK, 301, -1, 0, 1, NULL,
		    VIGIL_OUT_OTHER, "http:301" },
		{ CURLE_OK, 0, -1, 0, 1, NULL,
		    VIGIL_OUT_OTHER, "http:0" },
	};
	int seen[VIGIL_OUT_COUNT] = { 0 };
	char err[VIGIL_ERR_MAX];
	size_t i;
	int got;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		got = classify(tab[i].cc, tab[i].status, tab[i].body_ok,
		    tab[i].capped, tab[i].kind, tab[i].body, err);
		T_CHECKF(got == tab[i].want, "row %zu: got %s want %s", i,
		    vigil_outcome_name((unsigned)got),
		    vigil_outcome_name((unsigned)tab[i].want));
		T_CHECKF(strcmp(err, tab[i].err) == 0, "row %zu: err '%s' "
		    "want '%s'", i, err, tab[i].err);
		seen[got] = 1;
	}
	for (i = 0; i < VIGIL_OUT_COUNT; i++)
		T_CHECKF(seen[i], "class %s not covered",
		    vigil_outcome_name((unsigned)i));
}

static void
test_validators_good(void)
{
	const char *data = "{\"object\":\"list\",\"data\":[{\"id\":\"m\"}]}";
	const char *empty = "{\"data\":[]}";
	const char *google = "{\"models\":[{\"name\":\"models/gemini\"}]}";
	int k;

	for (k = 0; k < VIGIL_KIND_COUNT; k++) {
		if (k == VIGIL_KIND_GOOGLE || k == VIGIL_KIND_HTTP ||
		    k == VIGIL_KIND_CURSOR)
			continue;
		T_CHECKF(kind_validate_body(k, data, strlen(data)) == 0,
		    "kind %d", k);
		T_CHECKF(kind_validate_body(k, empty, strlen(empty)) == 0,
		    "kind %d", k);
	}
	T_CHECK(kind_validate_body(VIGIL_KIND_GOOGLE, google,
	    strlen(google)) == 0);
	T_CHECK(kind_validate_body(VIGIL_KIND_CURSOR, "{}", 2) == 0);
	T_CHECK(kind_validate_body(VIGIL_KIND_CURSOR, data, strlen(data))
	    == 0);
	T_CHECK(kind_validate_body(VIGIL_KIND_HTTP, "<html>", 6) == 0);
	T_CHECK(kind_validate_body(VIGIL_KIND_HTTP, "", 0) == 0);
	/* Not NUL-terminated: only len bytes count. */
	T_CHECK(kind_validate_body(VIGIL_KIND_OPENAI, "{\"data\":[]}garbage",
	    11) == 0);
}

static void
test_validators_bad(void)
{
	static const char *const bad[] = {
		"", "null", "[]", "[{\"data\":[]}]", "\"data\"", "42",
		"{\"data\":{}}", "{\"data\":null}", "{\"Data\":[]}",
		"{\"models\":[]}", "{\"data\":[", "not json at all",
		"{\"data\":[]", "\xff\xfe\x00garbage",
	};
	const char *openai_shape = "{\"data\":[]}";
	char *deep;
	size_t i, n = 200000;
	int k;

	for (k = 1; k < VIGIL_KIND_COUNT; k++) {
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			if (k == VIGIL_KIND_GOOGLE && i == 9)
				continue;	/* {"models":[]} is google's */
			if (k == VIGIL_KIND_CURSOR && bad[i][0] == '{' &&
			    (i == 6 || i == 7 || i == 8 || i == 9))
				continue;	/* any object is cursor's */
			T_CHECKF(kind_validate_body(k, bad[i],
			    strlen(bad[i])) == -1, "kind %d body %zu", k, i);
		}
		T_CHECK(kind_validate_body(k, NULL, 0) == -1);
	}
	T_CHECK(kind_validate_body(VIGIL_KIND_GOOGLE, openai_shape,
	    strlen(openai_shape)) == -1);
	T_CHECK(kind_validate_body(-1, "{}", 2) == -1);
	T_CHECK(kind_validate_body(VIGIL_KIND_COUNT, "{}", 2) == -1);

	/* Huge nesting: refused, not a stack overflow. */
	deep = malloc(n * 2 + 16);
	T_CHECK(deep != NULL);
	if (deep == NULL)
		return;
	memcpy(deep, "{\"data\":", 8);
	memset(deep + 8, '[', n);
	memset(deep + 8 + n, ']', n);
	deep[8 + 2 * n] = '}';
	for (k = 1; k < VIGIL_KIND_COUNT; k++)
		T_CHECKF(kind_validate_body(k, deep, 2 * n + 9) == -1,
		    "kind %d", k);
	free(deep);
}

static void
test_validate_stream(void)
{
	const char *sse = "data: {\"choices\":[{\"delta\":{}}]}\n\n";

	T_CHECK(kind_validate_stream(sse, strlen(sse)) == 0);
	T_CHECK(kind_validate_stream("event: x\ndata: y", 16) == 0);
	T_CHECK(kind_validate_stream("{\"data\":1}", 10) == -1);
	T_CHECK(kind_validate_stream("", 0) == -1);
	T_CHECK(kind_validate_stream(NULL, 0) == -1);
}

static void
test_jitter_bounds(void)
{
	uint32_t i, d, lo = UINT32_MAX, hi = 0;

	srand(7);
	for (i = 0; i < 100000; i++) {
		uint32_t r = (uint32_t)rand() ^ ((uint32_t)rand() << 16);
		d = sched_jitter(30000, r);
		T_CHECK(d >= 28500 && d <= 31500);
		if (d < lo)
			lo = d;
		if (d > hi)
			hi = d;
		d = sched_first_ms(30000, r);
		T_CHECK(d < 1000);
		d = sched_first_ms(300, r);
		T_CHECK(d < 300);
	}
	/* It does spread (not a constant). */
	T_CHECK(hi - lo > 2000);
	T_CHECK(sched_jitter(30000, 0) == 28500);
	T_CHECK(sched_jitter(30000, 3000) == 31500);
	T_CHECK(sched_jitter(10, 0) == SCHED_MIN_MS);
	T_CHECK(sched_jitter(UINT32_MAX, UINT32_MAX) >= UINT32_MAX / 100 * 94);
}

/* The delay rules (whether a check confirms is check.c's: test_check). */
static void
test_sched_rules(void)
{
	struct sched_in in;
	uint32_t d;

	memset(&in, 0, sizeof(in));
	in.interval_ms = 30000;
	in.fast_percent = 25;
	in.circuit_closed = 1;
	in.rnd = 1234;
	d = sched_next_ms(&in);
	T_CHECK(d >= 28500 && d <= 31500);

	/* A confirmation: within 1 s, an eighth of a short interval. */
	in.confirming = 1;
	T_CHECK(sched_next_ms(&in) == 1000);
	in.interval_ms = 1000;
	T_CHECK(sched_next_ms(&in) == 125);
	in.interval_ms = 200;	/* never under SCHED_MIN_MS */
	T_CHECK(sched_next_ms(&in) == SCHED_MIN_MS);
	in.interval_ms = 30000;
	in.confirming = 0;

	/* Circuit not closed: fast_percent of the interval. */
	in.circuit_closed = 0;
	d = sched_next_ms(&in);
	T_CHECKF(d >= 7125 && d <= 7875, "%u", d);
	/* ...and a confirmation is sooner still. */
	in.confirming = 1;
	T_CHECK(sched_next_ms(&in) == 1000);
}

static void
test_urls(void)
{
	static const struct {
		int kind;
		const char *base, *path, *want;
	} tab[] = {
		{ VIGIL_KIND_OPENAI, "https://api.openai.com", "",
		    "https://api.openai.com/v1/models" },
		{ VIGIL_KIND_OPENAI, "https://api.openai.com/", NULL,
		    "https://api.openai.com/v1/models" },
		{ VIGIL_KIND_ANTHROPIC, "https://api.anthropic.com", "",
		    "https://api.anthropic.com/v1/models" },
		{ VIGIL_KIND_GOOGLE, "https://generativelanguage.googleapis.com",
		    "", "https://generativelanguage.googleapis.com/v1beta/models" },
		{ VIGIL_KIND_DEEPSEEK, "https://api.deepseek.com", "",
		    "https://api.deepseek.com/models" },
		{ VIGIL_KIND_QWEN, "https://dashscope.aliyuncs.com", "",
		    "https://dashscope.aliyuncs.com/compatible-mode/v1/models" },
		{ VIGIL_KIND_CURSOR, "https://api.cursor.com", "",
		    "https://api.cursor.com/v0/models" },
		{ VIGIL_KIND_HTTP, "http://127.0.0.1:8080", "",
		    "http://127.0.0.1:8080/" },
		{ VIGIL_KIND_HTTP, "http://127.0.0.1:8080//", "/healthz",
		    "http://127.0.0.1:8080/healthz" },
		{ VIGIL_KIND_OPENAI, "http://h/sim/openai", "status",
		    "http://h/sim/openai/status" },
	};
	char buf[KIND_URL_MAX], small[16];
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		T_CHECK(kind_check_url(tab[i].kind, tab[i].base, tab[i].path,
		    buf, sizeof(buf)) == 0);
		T_CHECKF(strcmp(buf, tab[i].want) == 0, "%s", buf);
	}
	T_CHECK(kind_check_url(VIGIL_KIND_OPENAI, "https://api.openai.com",
	    NULL, small, sizeof(small)) == -1);
	T_CHECK(kind_check_url(99, "http://x", NULL, buf, sizeof(buf)) == -1);

	T_CHECK(kind_gen_url(VIGIL_KIND_OPENAI, "https://a/", "gpt-4o-mini",
	    buf, sizeof(buf)) == 0 &&
	    strcmp(buf, "https://a/v1/chat/completions") == 0);
	T_CHECK(kind_gen_url(VIGIL_KIND_ANTHROPIC, "https://a", "claude",
	    buf, sizeof(buf)) == 0 && strcmp(buf, "https://a/v1/messages") == 0);
	T_CHECK(kind_gen_url(VIGIL_KIND_DEEPSEEK, "https://a", "m", buf,
	    sizeof(buf)) == 0 && strcmp(buf, "https://a/chat/completions") == 0);
	T_CHECK(kind_gen_url(VIGIL_KIND_GOOGLE, "https://g", "gemini-2.0-flash",
	    buf, sizeof(buf)) == 0 && strcmp(buf, "https://g/v1beta/models/"
	    "gemini-2.0-flash:streamGenerateContent?alt=sse") == 0);
	T_CHECK(kind_gen_url(VIGIL_KIND_CURSOR, "https://a", "m", buf,
	    sizeof(buf)) == -1);
	T_CHECK(kind_gen_url(VIGIL_KIND_HTTP, "https://a", "m", buf,
	    sizeof(buf)) == -1);
	T_CHECK(kind_gen_body(VIGIL_KIND_OPENAI, "gpt-4o-mini", NULL, NULL,
	    buf, sizeof(buf)) == 0 &&
	    strstr(buf, "\"model\":\"gpt-4o-mini\"") &&
	    strstr(buf, "\"max_tokens\":1") && strstr(buf, "\"stream\":true"));
	T_CHECK(kind_gen_body(VIGIL_KIND_OPENAI, "bad\"model", NULL, NULL,
	    buf, sizeof(buf)) == -1);
	/* Gemini: "models/" is the path's, not doubled */
	T_CHECK(kind_gen_url(VIGIL_KIND_GOOGLE, "https://g",
	    "models/gemini-2.0-flash", buf, sizeof(buf)) == 0 &&
	    strcmp(buf, "https://g/v1beta/models/"
	    "gemini-2.0-flash:streamGenerateContent?alt=sse") == 0);
	T_CHECK(kind_model_ok("models/gemini-1.5-flash:001"));
	T_CHECK(!kind_model_ok(""));
	T_CHECK(!kind_model_ok("a b"));
	T_CHECK(kind_from_name("openai") == VIGIL_KIND_OPENAI);
	T_CHECK(kind_from_name("cursor") == VIGIL_KIND_CURSOR);
	T_CHECK(kind_from_name("http") == VIGIL_KIND_HTTP);
	T_CHECK(kind_from_name("OpenAI") == -1);
}

static int
has_header(struct curl_slist *l, const char *line)
{
	for (; l != NULL; l = l->next)
		if (strcmp(l->data, line) == 0)
			return 1;
	return 0;
}

static void
test_headers(void)
{
	struct curl_slist *l;
	char b64[16];

	l = kind_headers(VIGIL_KIND_OPENAI, "sk-1", 0);
	T_CHECK(has_header(l, "Authorization: Bearer sk-1"));
	kind_headers_free(l);
	l = kind_headers(VIGIL_KIND_DEEPSEEK, "sk-1", 0);
	T_CHECK(has_header(l, "Authorization: Bearer sk-1"));
	kind_headers_free(l);
	l = kind_headers(VIGIL_KIND_QWEN, "sk-1", 1);
	T_CHECK(has_header(l, "Authorization: Bearer sk-1"));
	T_CHECK(has_header(l, "Content-Type: application/json"));
	kind_headers_free(l);
	l = kind_headers(VIGIL_KIND_ANTHROPIC, "ak", 0);
	T_CHECK(has_header(l, "x-api-key: ak"));
	T_CHECK(has_header(l, "anthropic-version: 2023-06-01"));
	kind_headers_free(l);
	l = kind_headers(VIGIL_KIND_GOOGLE, "gk", 0);
	T_CHECK(has_header(l, "x-goog-api-key: gk"));
	kind_headers_free(l);
	/* Basic user=key, empty password: base64("key:") */
	l = kind_headers(VIGIL_KIND_CURSOR, "key", 0);
	T_CHECK(has_header(l, "Authorization: Basic a2V5Og=="));
	kind_headers_free(l);
	/* No key: no auth header at all. */
	l = kind_headers(VIGIL_KIND_OPENAI, "", 0);
	T_CHECK(l != NULL && !has_header(l, "Authorization: Bearer "));
	T_CHECK(l->next == NULL);
	kind_headers_free(l);

	T_CHECK(kind_base64((const unsigned char *)"", 0, b64, sizeof(b64))
	    == 0 && strcmp(b64, "") == 0);
	T_CHECK(kind_base64((const unsigned char *)"f", 1, b64, sizeof(b64))
	    == 0 && strcmp(b64, "Zg==") == 0);
	T_CHECK(kind_base64((const unsigned char *)"fo", 2, b64, sizeof(b64))
	    == 0 && strcmp(b64, "Zm8=") == 0);
	T_CHECK(kind_base64((const unsigned char *)"foobar", 6, b64,
	    sizeof(b64)) == 0 && strcmp(b64, "Zm9vYmFy") == 0);
	T_CHECK(kind_base64((const unsigned char *)"foobar", 6, b64, 8) == -1);
}

int
main(void)
{
	T_RUN(test_outcome_table);
	T_RUN(test_validators_good);
	T_RUN(test_validators_bad);
	T_RUN(test_validate_stream);
	T_RUN(test_jitter_bounds);
	T_RUN(test_sched_rules);
	T_RUN(test_urls);
	T_RUN(test_headers);
	return t_done();
}
