/*
 * outcome.c - map (curl result, HTTP status, error body) to an outcome.
 *
 * Transport-level choices, written down because DESIGN.md leaves them open:
 *   - RECV_ERROR, SEND_ERROR, GOT_NOTHING (connection reset or closed
 *     before any reply): "other".  Nothing was answered, so there is no
 *     response to call bad; the network or the peer broke the exchange.
 *   - PARTIAL_FILE (body shorter than promised), WEIRD_SERVER_REPLY and
 *     UNSUPPORTED_PROTOCOL (curl's "HTTP/0.9 not allowed": the peer sent
 *     bytes that are not HTTP; configure only admits http and https URLs,
 *     so it has no other cause here), BAD_CONTENT_ENCODING,
 *     FILESIZE_EXCEEDED and a WRITE_ERROR caused by our body cap:
 *     "bad_response".  The peer answered, and the answer is broken.
 *   - a WRITE_ERROR we did not cause: "other".
 *
 * An HTTP error is classified from each kind's documented error body
 * first, its status second (docs/aggregation.md, "Outcomes", has the
 * table and tests/sim/errors.c the fixtures with their sources).  A 429
 * can be a rate limit that ends by itself or an account out of credit
 * that never will; a 400 can be our request or their billing: only the
 * body tells.  The body is untrusted: it is parsed with cJSON (which
 * bounds nesting), only when it is short, and nothing is assumed of its
 * shape; whatever is not recognised falls back to the status's class.
 *
 * Error codes are short: "curl:N", "body:shape", "body:too_big", and
 * "http:N" followed, when the body named one, by the token that decided
 * (or the body's own error code): "http:429 insufficient_quota".  The
 * token is cut to fit and reduced to [A-Za-z0-9._:/-].
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <cJSON.h>
#include <curl/curl.h>

#include <vigil/vigil.h>

#include "outcome.h"

/* What an error body says: pointers into its parsed tree, or NULL. */
struct ebody {
	const char	*type;		/* error.type */
	const char	*code;		/* error.code, or DashScope's code */
	const char	*status;	/* error.status (Google) */
	const char	*message;	/* error.message, or the top one */
	const char	*detail;	/* error.details.error_code */
	const char	*reason;	/* ErrorInfo reason (Google) */
	int		 per_day;	/* a per-day quota was violated */
};

/* A rule's answer: the outcome and the token that decided it. */
struct verdict {
	int		 out;		/* -1: the body decided nothing */
	const char	*label;
};

static const char *jstr(const cJSON *, const char *);
static int	eq(const char *, const char *);
static int	has(const char *, const char *);
static int	in_list(const char *, const char *const *);
static void	google_details(const cJSON *, struct ebody *);
static void	body_read(const cJSON *, struct ebody *);
static struct verdict rule_openai(long, const struct ebody *);
static struct verdict rule_anthropic(const struct ebody *);
static struct verdict rule_google(long, const struct ebody *);
static struct verdict rule_deepseek(const struct ebody *);
static struct verdict rule_qwen(const struct ebody *);
static struct verdict rule_message(long, const struct ebody *);
static struct verdict body_verdict(int, long, const struct ebody *);
static const char *body_token(const struct ebody *);
static void	err_http(char *, size_t, const char *, long, const char *);
static int	verdict_merge(long, int, struct verdict);
static long	event_status(const cJSON *, const struct ebody *);

/* The outcome of a transfer that curl failed, from its result code. */
int
outcome_curl_class(int cc)
{
	switch (cc) {
	case CURLE_OK:
		return VIGIL_OUT_OK;
	case CURLE_OPERATION_TIMEDOUT:
		return VIGIL_OUT_TIMEOUT;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return VIGIL_OUT_DNS;
	case CURLE_COULDNT_CONNECT:
		return VIGIL_OUT_CONNECT;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_USE_SSL_FAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CLIENTCERT:
		return VIGIL_OUT_TLS;
	case CURLE_PARTIAL_FILE:
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_BAD_CONTENT_ENCODING:
	case CURLE_FILESIZE_EXCEEDED:
		return VIGIL_OUT_BAD_RESPONSE;
	default:
		/* RECV_ERROR, SEND_ERROR, GOT_NOTHING, WRITE_ERROR, ... */
		return VIGIL_OUT_OTHER;
	}
}


/*
 * The class of an HTTP status when its body says nothing we know, for
 * kind.  5xx is the provider's failure, except the two statuses that
 * their kind documents as capacity: Anthropic's 529 and DeepSeek's 503
 * ("Server Overloaded").  429 is a rate limit, 401 and 403 our key, 402
 * (Payment Required) billing wherever it is used.  Every other 4xx is
 * our request, except 408 (the server gave up waiting for us: no
 * verdict on either side).  1xx, 3xx (redirects are not followed) and
 * 0: "other".
 */
int
outcome_status_class(int kind, long st)
{
	if (st >= 200 && st <= 299)
		return VIGIL_OUT_OK;
	if ((kind == VIGIL_KIND_ANTHROPIC && st == 529) ||
	    (kind == VIGIL_KIND_DEEPSEEK && st == 503))
		return VIGIL_OUT_OVERLOADED;
	if (st >= 500 && st <= 599)
		return VIGIL_OUT_HTTP_5XX;
	switch (st) {
	case 429:
		return VIGIL_OUT_RATE_LIMITED;
	case 401:
	case 403:
		return VIGIL_OUT_AUTH;
	case 402:
		return VIGIL_OUT_QUOTA;
	case 408:
		return VIGIL_OUT_OTHER;
	default:
		break;
	}
	if (st >= 400 && st <= 499)
		return VIGIL_OUT_CLIENT_ERROR;
	return VIGIL_OUT_OTHER;
}

/* o[key] when it is a string, else NULL. */
static const char *
jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int
eq(const char *s, const char *lit)
{
	return s != NULL && strcmp(s, lit) == 0;
}

/* Does s contain needle, ignoring case? */
static int
has(const char *s, const char *needle)
{
	return s != NULL && strcasestr(s, needle) != NULL;
}

/* Is s one of the NULL-terminated list? */
static int
in_list(const char *s, const char *const *list)
{
	for (; s != NULL && *list != NULL; list++)
		if (strcmp(s, *list) == 0)
			return 1;
	return 0;
}

/*
 * Google's error.details[]: the ErrorInfo reason (API_KEY_INVALID ...)
 * and whether a QuotaFailure violation names a per-day quota (quotaId
 * "GenerateRequestsPerDayPerProjectPerModel-FreeTier", quotaMetric
 * "..._per_day"): a daily quota is over until the next day, a
 * per-minute one within a minute.
 */
static void
google_details(const cJSON *details, struct ebody *b)
{
	const cJSON *d, *viol, *v;
	const char *t;

	cJSON_ArrayForEach(d, details) {
		if (!cJSON_IsObject(d) || (t = jstr(d, "@type")) == NULL)
			continue;
		if (has(t, "google.rpc.ErrorInfo") && b->reason == NULL)
			b->reason = jstr(d, "reason");
		if (!has(t, "google.rpc.QuotaFailure"))
			continue;
		viol = cJSON_GetObjectItemCaseSensitive(d, "violations");
		if (!cJSON_IsArray(viol))
			continue;
		cJSON_ArrayForEach(v, viol) {
			if (!cJSON_IsObject(v))
				continue;
			if (has(jstr(v, "quotaId"), "PerDay") ||
			    has(jstr(v, "quotaMetric"), "per_day"))
				b->per_day = 1;
		}
	}
}

/*
 * Pick the fields out of a parsed body.  The shapes: OpenAI and its
 * compatible modes {"error": {"message", "type", "param", "code"}};
 * Anthropic {"type": "error", "error": {"type", "message", "details"}};
 * Google {"error": {"code": N, "message", "status", "details": [...]}},
 * sometimes inside a one-element array; DashScope's native API
 * {"code", "message", "request_id"}.  Anything else leaves b empty.
 */
static void
body_read(const cJSON *root, struct ebody *b)
{
	const cJSON *e, *d;

	memset(b, 0, sizeof(*b));
	if (cJSON_IsArray(root))
		root = cJSON_GetArrayItem(root, 0);
	if (!cJSON_IsObject(root))
		return;
	e = cJSON_GetObjectItemCaseSensitive(root, "error");
	if (!cJSON_IsObject(e)) {
		b->code = jstr(root, "code");
		b->message = jstr(root, "message");
		return;
	}
	b->type = jstr(e, "type");
	b->code = jstr(e, "code");
	b->status = jstr(e, "status");
	b->message = jstr(e, "message");
	d = cJSON_GetObjectItemCaseSensitive(e, "details");
	if (cJSON_IsObject(d))
		b->detail = jstr(d, "error_code");
	else if (cJSON_IsArray(d))
		google_details(d, b);
}

/*
 * OpenAI's error codes, shared by every OpenAI-compatible API: the
 * billing codes of a 429 (error.type insufficient_quota, error.code
 * naming which limit), the rate limits, capacity, a missing model and a
 * wrong key.  slow_down was a 503 before it became a 429: as a 5xx it
 * is their capacity, as a 429 our rate.
 */
static struct verdict
rule_openai(long st, const struct ebody *b)
{
	static const char *const quota[] = { "insufficient_quota",
	    "credit_balance_exhausted", "organization_spend_limit_exceeded",
	    "project_spend_limit_exceeded",
	    "organization_usage_limit_exceeded", "billing_not_active",
	    "billing_hard_limit_reached", NULL };
	struct verdict v = { -1, NULL };

	if (in_list(b->code, quota))
		v = (struct verdict){ VIGIL_OUT_QUOTA, b->code };
	else if (in_list(b->type, quota))
		v = (struct verdict){ VIGIL_OUT_QUOTA, b->type };
	else if (eq(b->code, "model_not_found"))
		v = (struct verdict){ VIGIL_OUT_MODEL_MISSING, b->code };
	else if (eq(b->code, "slow_down"))
		v = (struct verdict){ st >= 500 ? VIGIL_OUT_OVERLOADED :
		    VIGIL_OUT_RATE_LIMITED, b->code };
	else if (eq(b->code, "rate_limit_exceeded"))
		v = (struct verdict){ VIGIL_OUT_RATE_LIMITED, b->code };
	else if (eq(b->code, "server_is_overloaded"))
		v = (struct verdict){ VIGIL_OUT_OVERLOADED, b->code };
	else if (eq(b->code, "invalid_api_key"))
		v = (struct verdict){ VIGIL_OUT_AUTH, b->code };
	return v;
}

/*
 * Anthropic's error.type, and what its messages and details add: a
 * monthly tier cap is a 429 rate_limit_error whose
 * error.details.error_code is enforced_spend_limit_reached (no
 * retry-after: it ends on the first of the month); a spend limit of
 * our own or an empty credit balance is a 400 invalid_request_error
 * told apart by its message only.  not_found_error is a missing model
 * when the message names the model, else a wrong path.
 */
static struct verdict
rule_anthropic(const struct ebody *b)
{
	const char *t = b->type;
	size_t n;

	if (b->detail != NULL && (n = strlen(b->detail)) >= 20 &&
	    strcmp(b->detail + n - 20, "_spend_limit_reached") == 0)
		return (struct verdict){ VIGIL_OUT_QUOTA, b->detail };
	if (eq(t, "billing_error"))
		return (struct verdict){ VIGIL_OUT_QUOTA, t };
	if (has(b->message, "credit balance is too low"))
		return (struct verdict){ VIGIL_OUT_QUOTA,
		    "credit_balance_too_low" };
	if (has(b->message, "reached your specified") ||
	    has(b->message, "reached your API usage limits"))
		return (struct verdict){ VIGIL_OUT_QUOTA, "usage_limits" };
	if (eq(t, "authentication_error") || eq(t, "permission_error"))
		return (struct verdict){ VIGIL_OUT_AUTH, t };
	if (eq(t, "rate_limit_error"))
		return (struct verdict){ VIGIL_OUT_RATE_LIMITED, t };
	if (eq(t, "overloaded_error"))
		return (struct verdict){ VIGIL_OUT_OVERLOADED, t };
	if (eq(t, "not_found_error"))
		return (struct verdict){ has(b->message, "model") ?
		    VIGIL_OUT_MODEL_MISSING : VIGIL_OUT_CLIENT_ERROR, t };
	return (struct verdict){ -1, NULL };
}

/*
 * Gemini's canonical status and details.  A bad key is a 400
 * INVALID_ARGUMENT whose ErrorInfo reason is API_KEY_INVALID; billing
 * not enabled (or the free tier not offered where we are) is a 400
 * FAILED_PRECONDITION; RESOURCE_EXHAUSTED is a rate limit unless a
 * violated quota is per day, the prepaid credit is gone, or the status
 * is 402.
 */
static struct verdict
rule_google(long st, const struct ebody *b)
{
	const char *s = b->status;

	if (b->reason != NULL && strncmp(b->reason, "API_KEY_", 8) == 0)
		return (struct verdict){ VIGIL_OUT_AUTH, b->reason };
	if (has(b->message, "API key not valid"))
		return (struct verdict){ VIGIL_OUT_AUTH, "API_KEY_INVALID" };
	if (eq(b->reason, "BILLING_DISABLED"))
		return (struct verdict){ VIGIL_OUT_QUOTA, b->reason };
	if (eq(s, "FAILED_PRECONDITION"))
		return (struct verdict){ VIGIL_OUT_QUOTA, s };
	if (eq(s, "RESOURCE_EXHAUSTED")) {
		if (b->per_day)
			return (struct verdict){ VIGIL_OUT_QUOTA,
			    "RESOURCE_EXHAUSTED/day" };
		if (st == 402 || has(b->message, "prepay") ||
		    has(b->message, "credits are depleted"))
			return (struct verdict){ VIGIL_OUT_QUOTA, s };
		return (struct verdict){ VIGIL_OUT_RATE_LIMITED, s };
	}
	if (eq(s, "PERMISSION_DENIED") || eq(s, "UNAUTHENTICATED"))
		return (struct verdict){ VIGIL_OUT_AUTH, s };
	if (eq(s, "UNAVAILABLE"))
		return (struct verdict){ VIGIL_OUT_OVERLOADED, s };
	if (eq(s, "NOT_FOUND"))
		return (struct verdict){ has(b->message, "model") ?
		    VIGIL_OUT_MODEL_MISSING : VIGIL_OUT_CLIENT_ERROR, s };
	return (struct verdict){ -1, NULL };
}

/*
 * DeepSeek speaks OpenAI's shape but its codes say little (a 402 is
 * type unknown_error, code invalid_request_error): its messages carry
 * the documented error names.  "Server Error" decides nothing (a 5xx is
 * one anyway) but names the error better than its code.
 */
static struct verdict
rule_deepseek(const struct ebody *b)
{
	static const struct {
		const char	*name;
		int		 out;
		const char	*label;
	} names[] = {
		{ "Insufficient Balance", VIGIL_OUT_QUOTA,
		    "insufficient_balance" },
		{ "Authentication Fails", VIGIL_OUT_AUTH,
		    "authentication_fails" },
		{ "Rate Limit Reached", VIGIL_OUT_RATE_LIMITED,
		    "rate_limit_reached" },
		{ "Server Overloaded", VIGIL_OUT_OVERLOADED,
		    "server_overloaded" },
		{ "Invalid Parameters", VIGIL_OUT_CLIENT_ERROR,
		    "invalid_parameters" },
		{ "Invalid Format", VIGIL_OUT_CLIENT_ERROR, "invalid_format" },
		{ "Server Error", VIGIL_OUT_HTTP_5XX, "server_error" },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (has(b->message, names[i].name))
			return (struct verdict){ names[i].out, names[i].label };
	return (struct verdict){ -1, NULL };
}

/*
 * DashScope (Qwen), native codes and their compatible-mode twins:
 * Arrearage (an overdue account, 400 or 403) is billing, Throttling.*
 * and limit_requests are rate limits except a free quota used up,
 * DataInspectionFailed is content moderation of our request.
 */
static struct verdict
rule_qwen(const struct ebody *b)
{
	const char *c = b->code;

	if (eq(c, "Arrearage") || eq(b->type, "Arrearage"))
		return (struct verdict){ VIGIL_OUT_QUOTA, "Arrearage" };
	if (has(b->message, "overdue") || has(b->message, "good standing"))
		return (struct verdict){ VIGIL_OUT_QUOTA, "overdue" };
	if (eq(c, "InvalidApiKey"))
		return (struct verdict){ VIGIL_OUT_AUTH, c };
	if (c != NULL && strncmp(c, "Throttling", 10) == 0 &&
	    has(b->message, "free allocated quota"))
		return (struct verdict){ VIGIL_OUT_QUOTA, c };
	if ((c != NULL && strncmp(c, "Throttling", 10) == 0) ||
	    eq(c, "limit_requests") || eq(c, "limit_burst_rate"))
		return (struct verdict){ VIGIL_OUT_RATE_LIMITED, c };
	if (eq(c, "DataInspectionFailed") || eq(c, "data_inspection_failed"))
		return (struct verdict){ VIGIL_OUT_CLIENT_ERROR, c };
	if (eq(c, "ModelNotFound"))
		return (struct verdict){ VIGIL_OUT_MODEL_MISSING, c };
	return (struct verdict){ -1, NULL };
}

/*
 * Last, for every kind: a message that says overloaded, or that the
 * model does not exist.
 */
static struct verdict
rule_message(long st, const struct ebody *b)
{
	const char *m = b->message;

	if (has(m, "overloaded"))
		return (struct verdict){ VIGIL_OUT_OVERLOADED, "overloaded" };
	if ((st == 400 || st == 404) && has(m, "model") &&
	    (has(m, "not found") || has(m, "not exist")))
		return (struct verdict){ VIGIL_OUT_MODEL_MISSING,
		    "model_not_found" };
	return (struct verdict){ -1, NULL };
}

/*
 * What the body of an error answer says, by kind; out -1: nothing.
 * OpenAI's codes are tried for every kind (an OpenAI-compatible
 * gateway can sit behind any of them), after the kind's own.
 */
static struct verdict
body_verdict(int kind, long st, const struct ebody *b)
{
	struct verdict v = { -1, NULL };

	switch (kind) {
	case VIGIL_KIND_ANTHROPIC:
		v = rule_anthropic(b);
		break;
	case VIGIL_KIND_GOOGLE:
		v = rule_google(st, b);
		break;
	case VIGIL_KIND_DEEPSEEK:
		v = rule_deepseek(b);
		break;
	case VIGIL_KIND_QWEN:
		v = rule_qwen(b);
		break;
	default:
		break;
	}
	if (v.out == -1)
		v = rule_openai(st, b);
	if (v.out == -1)
		v = rule_message(st, b);
	return v;
}

/* The body's own most specific error code, for the error string. */
static const char *
body_token(const struct ebody *b)
{
	if (b->detail != NULL)
		return b->detail;
	if (b->reason != NULL)
		return b->reason;
	if (b->code != NULL && b->code[0] != '\0')
		return b->code;
	if (b->type != NULL && b->type[0] != '\0')
		return b->type;
	return b->status;
}

/*
 * PREFIX + "N" or "N TOKEN" ("http:429 insufficient_quota"), or PREFIX +
 * TOKEN when st is -1 ("sse:overloaded_error"); the token reduced to
 * [A-Za-z0-9._:/-].
 */
static void
err_http(char *err, size_t errlen, const char *prefix, long st,
    const char *tok)
{
	char t[VIGIL_ERR_MAX];
	size_t i;

	if (tok == NULL || tok[0] == '\0') {
		snprintf(err, errlen, "%s%ld", prefix, st);
		return;
	}
	for (i = 0; i < sizeof(t) - 1 && tok[i] != '\0'; i++)
		t[i] = isalnum((unsigned char)tok[i]) ||
		    strchr("._:/-", tok[i]) != NULL ? tok[i] : '_';
	t[i] = '\0';
	if (st == -1)
		snprintf(err, errlen, "%s%s", prefix, t);
	else
		snprintf(err, errlen, "%s%ld %s", prefix, st, t);
}

/*
 * What the body's verdict v makes of out, the class of status st: the
 * body may overrule the status within the 4xx (never to overloaded or
 * http_5xx); a 5xx stays the provider's failure, the body only telling
 * whether it is capacity; a 402 is billing whatever its body says.
 */
static int
verdict_merge(long st, int out, struct verdict v)
{
	if (v.out == -1)
		return out;
	if (st == 402)
		return VIGIL_OUT_QUOTA;
	if (st >= 500)
		return v.out == VIGIL_OUT_OVERLOADED ? v.out : out;
	if (v.out != VIGIL_OUT_OVERLOADED && v.out != VIGIL_OUT_HTTP_5XX)
		return v.out;
	return out;
}

/*
 * Classify a finished check.  Pure.  Writes a short error code to err
 * ("" for ok) and returns the enum vigil_outcome.  Order matters: a curl
 * failure wins over any status (a timeout after the headers is still a
 * timeout), then a 2xx's body shape; then an error's body, then its
 * status.  The body may overrule the status within the 4xx (never to
 * overloaded or http_5xx): a 429 that says insufficient_quota is quota,
 * a 400 that says the credit balance is too low is quota, a 403
 * Arrearage is quota.  A 5xx stays the provider's failure: the body
 * only tells whether it is capacity (overloaded).  A 402 is billing
 * whatever else its body says.
 */
int
outcome_classify(const struct probe_result *r, char *err, size_t errlen)
{
	struct verdict v = { -1, NULL };
	struct ebody b;
	cJSON *root = NULL;
	long st = r->http_status;
	int out;

	if (errlen > 0)
		err[0] = '\0';
	if (r->curl_code != CURLE_OK) {
		/* Our cap: cut while reading (WRITE_ERROR), or refused up
		 * front from a Content-Length over it (FILESIZE_EXCEEDED). */
		if ((r->curl_code == CURLE_WRITE_ERROR && r->capped) ||
		    r->curl_code == CURLE_FILESIZE_EXCEEDED) {
			snprintf(err, errlen, "body:too_big");
			return VIGIL_OUT_BAD_RESPONSE;
		}
		out = outcome_curl_class(r->curl_code);
		snprintf(err, errlen, "curl:%d", r->curl_code);
		return out;
	}
	if (st >= 200 && st <= 299) {
		if (r->body_ok == 0)
			return VIGIL_OUT_OK;
		snprintf(err, errlen, "body:shape");
		return VIGIL_OUT_BAD_RESPONSE;
	}
	out = outcome_status_class(r->kind, st);
	memset(&b, 0, sizeof(b));
	if (st >= 400 && st <= 599 && r->body != NULL && r->body_len > 0 &&
	    r->body_len <= OUTCOME_BODY_PARSE_MAX &&
	    (root = cJSON_ParseWithLength(r->body, r->body_len)) != NULL) {
		body_read(root, &b);
		v = body_verdict(r->kind, st, &b);
	}
	out = verdict_merge(st, out, v);
	err_http(err, errlen, "http:", st, v.label != NULL ? v.label :
	    body_token(&b));
	cJSON_Delete(root);
	return out;
}

/*
 * The status an error event stands for: the one its body names (Google's
 * error.code), else the one each kind documents for its error type
 * (Anthropic's types, OpenAI's types and codes), else 500: a stream that
 * breaks off with an error nobody named is the provider's failure.
 */
static long
event_status(const cJSON *root, const struct ebody *b)
{
	static const struct {
		const char	*type;
		long		 st;
	} types[] = {
		/* Anthropic's error types (its errors page) */
		{ "invalid_request_error", 400 },
		{ "authentication_error", 401 },
		{ "billing_error", 402 }, { "permission_error", 403 },
		{ "not_found_error", 404 }, { "request_too_large", 413 },
		{ "rate_limit_error", 429 }, { "api_error", 500 },
		{ "overloaded_error", 529 },
		/* OpenAI's */
		{ "server_error", 500 }, { "insufficient_quota", 429 },
		{ "requests", 429 }, { "tokens", 429 },
	};
	const cJSON *e, *c;
	size_t i;

	if (cJSON_IsArray(root))
		root = cJSON_GetArrayItem(root, 0);
	e = cJSON_GetObjectItemCaseSensitive(root, "error");
	c = cJSON_GetObjectItemCaseSensitive(e, "code");
	if (cJSON_IsNumber(c) && c->valuedouble >= 400 &&
	    c->valuedouble <= 599)
		return (long)c->valuedouble;
	if (eq(b->code, "rate_limit_exceeded") || eq(b->code, "slow_down"))
		return 429;
	if (eq(b->code, "server_is_overloaded"))
		return 503;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (eq(b->type, types[i].type))
			return types[i].st;
	return 500;
}

/*
 * Classify an error event that came inside a stream after its 200
 * (Anthropic's `event: error`, an OpenAI-compatible `data: {"error":
 * ...}`, Gemini's error object): data[0..len) is the event's JSON.
 * Like the same error sent as a status (outcome_classify): the body's
 * rules, with the status the error stands for (event_status).  Pure.
 * Writes "sse:TOKEN" to err ("sse:error" when the body names nothing)
 * and returns the enum vigil_outcome.
 */
int
outcome_classify_event(int kind, const char *data, size_t len, char *err,
    size_t errlen)
{
	struct verdict v = { -1, NULL };
	struct ebody b;
	cJSON *root = NULL;
	const char *tok;
	long st = 500;

	memset(&b, 0, sizeof(b));
	if (data != NULL && len > 0 && len <= OUTCOME_BODY_PARSE_MAX &&
	    (root = cJSON_ParseWithLength(data, len)) != NULL) {
		body_read(root, &b);
		st = event_status(root, &b);
		v = body_verdict(kind, st, &b);
	}
	tok = v.label != NULL ? v.label : body_token(&b);
	err_http(err, errlen, "sse:", -1, tok != NULL && tok[0] != '\0' ?
	    tok : "error");
	cJSON_Delete(root);
	return verdict_merge(st, outcome_status_class(kind, st), v);
}
