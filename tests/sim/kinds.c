/*
 * kinds.c - what each fake provider answers: paths, auth, bodies.
 *
 * The shapes follow the real APIs' documentation: OpenAI's models list
 * and error object, Anthropic's paginated models list and typed errors,
 * Gemini's models.list and its 400 INVALID_ARGUMENT for a bad key,
 * DeepSeek and DashScope's OpenAI-compatible modes, Cursor's /v0 API with
 * Basic auth.  A key is never echoed back whole: only masked, as the real
 * providers do.
 */
#include <sys/queue.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cJSON.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "sim.h"

#define CT_JSON		"application/json"
#define CT_SSE		"text/event-stream"

static const char *const kind_names[SIM_KIND_COUNT] = {
	[SIM_KIND_HTTP] = "http",
	[SIM_KIND_OPENAI] = "openai",
	[SIM_KIND_ANTHROPIC] = "anthropic",
	[SIM_KIND_GOOGLE] = "google",
	[SIM_KIND_DEEPSEEK] = "deepseek",
	[SIM_KIND_QWEN] = "qwen",
	[SIM_KIND_CURSOR] = "cursor",
};

/* What the request carried, taken apart once. */
struct ask {
	const struct sim_provider	*p;
	struct evhttp_request		*req;
	const char			*path;
	int				 get;
	int				 post;
};

static int	reply_printf(struct sim_reply *, int, const char *,
		    const char *, ...) __attribute__((format(printf, 4, 5)));
static int	key_eq(const char *, const char *);
static const char *hdr(const struct ask *, const char *);
static int	bearer(const struct ask *, const char **);
static int	basic_user(const struct ask *, char *, size_t);
static int	b64_decode(const char *, unsigned char *, size_t);
static void	chat_params(const struct ask *, const char *, char *, size_t,
		    int *, int *, int *);
static int	gen_answer(const struct ask *, int, const char *, int, int,
		    struct sim_reply *, int *);
static size_t	list_names(const struct ask *, const char *const *, size_t,
		    const char **, size_t);
static int	reply_json(struct sim_reply *, cJSON *);
static int	anthropic_list(const struct ask *, struct sim_reply *);
static int	google_list(const struct ask *, struct sim_reply *);
static cJSON	*cursor_list(const struct ask *);
static int	ans_openai(const struct ask *, struct sim_reply *);
static int	ans_anthropic(const struct ask *, struct sim_reply *);
static int	ans_google(const struct ask *, struct sim_reply *);
static int	ans_cursor(const struct ask *, struct sim_reply *);
static int	openai_error(struct sim_reply *, int, const char *,
		    const char *, const char *);
static int	openai_list(const struct ask *, struct sim_reply *);
static int	openai_chat(const struct ask *, struct sim_reply *,
		    const char *);
static int	anthropic_error(struct sim_reply *, int, const char *,
		    const char *);
static int	anthropic_messages(const struct ask *, struct sim_reply *);
static int	google_error(struct sim_reply *, int, const char *);
static const char *status_text(int);

int
sim_kind_from_name(const char *name)
{
	int i;

	for (i = 0; i < SIM_KIND_COUNT; i++)
		if (strcmp(name, kind_names[i]) == 0)
			return i;
	return -1;
}

const char *
sim_kind_name(int kind)
{
	if (kind < 0 || kind >= SIM_KIND_COUNT)
		return "unknown";
	return kind_names[kind];
}

/* Set r to a copy of body.  Returns 0, or -1 when out of memory. */
int
sim_reply_set(struct sim_reply *r, int status, const char *ctype,
    const char *body)
{
	free(r->body);
	r->status = status;
	r->ctype = ctype;
	r->len = strlen(body);
	if ((r->body = strdup(body)) == NULL) {
		r->len = 0;
		return -1;
	}
	return 0;
}

void
sim_reply_free(struct sim_reply *r)
{
	free(r->body);
	r->body = NULL;
	r->len = 0;
	free(r->hdrs);
	r->hdrs = NULL;
	r->nhdrs = 0;
	free(r->segs);
	r->segs = NULL;
	r->nsegs = 0;
}

static int
reply_printf(struct sim_reply *r, int status, const char *ctype,
    const char *fmt, ...)
{
	va_list ap;
	char *b;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&b, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	free(r->body);
	r->body = b;
	r->len = (size_t)n;
	r->status = status;
	r->ctype = ctype;
	return 0;
}

/*
 * A key as a provider's error message may show it: the first three and
 * the last four characters around asterisks, or only asterisks when it
 * is short.  Never the whole key.
 */
void
sim_key_mask(const char *key, char *buf, size_t len)
{
	size_t n = strlen(key);

	if (n < 12)
		snprintf(buf, len, "****");
	else
		snprintf(buf, len, "%.3s****%s", key, key + n - 4);
}

/* Constant-time equality of two NUL-terminated strings. */
static int
key_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i;
	unsigned char d = la != lb;

	for (i = 0; i < la && i < lb; i++)
		d |= (unsigned char)a[i] ^ (unsigned char)b[i];
	return d == 0;
}

static const char *
hdr(const struct ask *a, const char *name)
{
	return evhttp_find_header(evhttp_request_get_input_headers(a->req),
	    name);
}

/*
 * The bearer token of the Authorization header in *tok.  Returns 1 when
 * it is the provider's key (or the provider has none), 0 when wrong,
 * -1 when there is none.
 */
static int
bearer(const struct ask *a, const char **tok)
{
	const char *h = hdr(a, "Authorization");

	*tok = "";
	if (a->p->key[0] == '\0')
		return 1;
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return -1;
	h += 7;
	while (*h == ' ')
		h++;
	*tok = h;
	if (*h == '\0')
		return -1;
	return key_eq(h, a->p->key);
}

/* Standard base64 decode.  Returns the length, or -1. */
static int
b64_decode(const char *in, unsigned char *out, size_t outlen)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned acc = 0;
	size_t o = 0;
	int bits = 0;
	const char *c;

	for (; *in != '\0' && *in != '='; in++) {
		if ((c = strchr(tab, *in)) == NULL || *in == '\0')
			return -1;
		acc = (acc << 6) | (unsigned)(c - tab);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o + 1 >= outlen)
				return -1;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	out[o] = '\0';
	return (int)o;
}

/*
 * The user name of Basic auth ("user:password", base64), or a bearer
 * token, into buf.  Returns 0, or -1 when there is neither.
 */
static int
basic_user(const struct ask *a, char *buf, size_t len)
{
	const char *h = hdr(a, "Authorization");
	char *colon;

	if (h == NULL)
		return -1;
	if (strncasecmp(h, "Bearer ", 7) == 0) {
		snprintf(buf, len, "%s", h + 7);
		return 0;
	}
	if (strncasecmp(h, "Basic ", 6) != 0 ||
	    b64_decode(h + 6, (unsigned char *)buf, len) < 0)
		return -1;
	if ((colon = strchr(buf, ':')) != NULL)
		*colon = '\0';
	return 0;
}

/*
 * The "model" (sanitised to [A-Za-z0-9._:/@+-], else def), "stream" and
 * stream_options.include_usage of a chat request body; *bad = 1 when
 * the body is not a JSON object.
 */
static void
chat_params(const struct ask *a, const char *def, char *model, size_t mlen,
    int *stream, int *usage, int *bad)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(a->req);
	size_t len = evbuffer_get_length(in), i;
	const cJSON *m, *s, *so;
	cJSON *root;

	snprintf(model, mlen, "%s", def);
	*stream = *usage = 0;
	*bad = 0;
	root = cJSON_ParseWithLength((const char *)evbuffer_pullup(in, -1),
	    len);
	if (!cJSON_IsObject(root)) {
		*bad = 1;
		cJSON_Delete(root);
		return;
	}
	m = cJSON_GetObjectItemCaseSensitive(root, "model");
	s = cJSON_GetObjectItemCaseSensitive(root, "stream");
	so = cJSON_GetObjectItemCaseSensitive(root, "stream_options");
	if (cJSON_IsString(m) && m->valuestring[0] != '\0' &&
	    strlen(m->valuestring) < mlen) {
		for (i = 0; m->valuestring[i] != '\0'; i++)
			if (!isalnum((unsigned char)m->valuestring[i]) &&
			    strchr("._:/@+-", m->valuestring[i]) == NULL)
				break;
		if (m->valuestring[i] == '\0')
			snprintf(model, mlen, "%s", m->valuestring);
	}
	*stream = cJSON_IsTrue(s);
	*usage = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(so,
	    "include_usage"));
	cJSON_Delete(root);
}

/*
 * A generation answer for model that its faults decide: the model's
 * own error mode, else the stream (stream: the request asked for one).
 * Returns 1 with r filled (0 in rc, or -1 when out of memory), or 0
 * when the kind's plain answer is wanted.
 */
static int
gen_answer(const struct ask *a, int kind, const char *model, int stream,
    int usage, struct sim_reply *r, int *rc)
{
	const struct sim_stream_conf *c = sim_gen_for(&a->p->faults.gen,
	    model);

	if (c->error_mode != 0) {
		*rc = sim_err_reply(c->error_mode, 0, r);
		return 1;
	}
	if (!stream)
		return 0;
	*rc = sim_gen_stream(kind, model, usage, c, r);
	return 1;
}

/* The models list of p: the kind's defs, as its faults change it. */
static size_t
list_names(const struct ask *a, const char *const *defs, size_t ndefs,
    const char **out, size_t max)
{
	return sim_gen_list(&a->p->faults.gen, defs, ndefs, out, max);
}

/* Print JSON object o (consumed) as a 200 into r. */
static int
reply_json(struct sim_reply *r, cJSON *o)
{
	char *b = o != NULL ? cJSON_PrintUnformatted(o) : NULL;
	int rc;

	cJSON_Delete(o);
	if (b == NULL)
		return -1;
	rc = reply_printf(r, 200, CT_JSON, "%s", b);
	free(b);
	return rc;
}

static const char *
status_text(int st)
{
	switch (st) {
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 408: return "Request Timeout";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 529: return "Overloaded";
	default: return "Error";
	}
}

/* ---- OpenAI and its compatible modes (DeepSeek, Qwen) ---------------- */

static int
openai_error(struct sim_reply *r, int st, const char *msg, const char *type,
    const char *code)
{
	char c[64];

	if (code != NULL)
		snprintf(c, sizeof(c), "\"%s\"", code);
	else
		snprintf(c, sizeof(c), "null");
	return reply_printf(r, st, CT_JSON, "{\"error\":{\"message\":\"%s\","
	    "\"type\":\"%s\",\"param\":null,\"code\":%s}}", msg, type, c);
}

static int
openai_list(const struct ask *a, struct sim_reply *r)
{
	static const char *const oa[] = { "gpt-4o", "gpt-4o-mini",
	    "gpt-3.5-turbo" };
	static const char *const ds[] = { "deepseek-chat",
	    "deepseek-reasoner" };
	static const char *const qw[] = { "qwen-plus", "qwen-turbo",
	    "qwen-max" };
	const char *const *defs = oa;
	const char *names[SIM_LIST_MAX + 3];
	size_t ndefs = 3, n, i;
	cJSON *o, *arr, *m;

	if (a->p->kind == SIM_KIND_DEEPSEEK) {
		defs = ds;
		ndefs = 2;
	} else if (a->p->kind == SIM_KIND_QWEN)
		defs = qw;
	n = list_names(a, defs, ndefs, names, sizeof(names) /
	    sizeof(names[0]));
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "object", "list");
	arr = cJSON_AddArrayToObject(o, "data");
	for (i = 0; arr != NULL && i < n; i++) {
		if ((m = cJSON_CreateObject()) == NULL)
			break;
		cJSON_AddItemToArray(arr, m);
		cJSON_AddStringToObject(m, "id", names[i]);
		cJSON_AddStringToObject(m, "object", "model");
		if (a->p->kind != SIM_KIND_DEEPSEEK)
			cJSON_AddNumberToObject(m, "created", 1715367049);
		cJSON_AddStringToObject(m, "owned_by", a->p->kind ==
		    SIM_KIND_DEEPSEEK ? "deepseek" : "system");
	}
	return reply_json(r, o);
}

/*
 * A one-token completion, as chat.completion or, when the request asked
 * for "stream": true, as chat.completion.chunk server-sent events ending
 * with "data: [DONE]".
 */
static int
openai_chat(const struct ask *a, struct sim_reply *r, const char *def)
{
	char model[64];
	int stream, usage, bad, rc;
	long now = (long)time(NULL);

	chat_params(a, def, model, sizeof(model), &stream, &usage, &bad);
	if (bad)
		return openai_error(r, 400, "We could not parse the JSON body "
		    "of your request.", "invalid_request_error", NULL);
	if (gen_answer(a, SIM_KIND_OPENAI, model, stream, usage, r, &rc))
		return rc;
	return reply_printf(r, 200, CT_JSON, "{\"id\":\"chatcmpl-sim\","
	    "\"object\":\"chat.completion\",\"created\":%ld,"
	    "\"model\":\"%s\",\"choices\":[{\"index\":0,\"message\":"
	    "{\"role\":\"assistant\",\"content\":\"pong\"},"
	    "\"finish_reason\":\"length\"}],\"usage\":"
	    "{\"prompt_tokens\":1,\"completion_tokens\":1,"
	    "\"total_tokens\":2}}", now, model);
}

/* Bearer auth, then GET .../models and POST .../chat/completions. */
static int
ans_openai(const struct ask *a, struct sim_reply *r)
{
	const char *tok, *def = "gpt-4o-mini";
	char path[256], mask[32], msg[256];
	int ok;

	/* Map each kind's paths onto OpenAI's. */
	path[0] = '\0';
	if (a->p->kind == SIM_KIND_QWEN) {
		def = "qwen-plus";
		if (strncmp(a->path, "/compatible-mode/", 17) == 0)
			snprintf(path, sizeof(path), "%s", a->path + 16);
	} else if (a->p->kind == SIM_KIND_DEEPSEEK) {
		/* DeepSeek serves both /models and /v1/models. */
		def = "deepseek-chat";
		snprintf(path, sizeof(path), "%s%s",
		    strncmp(a->path, "/v1/", 4) == 0 ? "" : "/v1", a->path);
	} else
		snprintf(path, sizeof(path), "%s", a->path);

	if (!((a->get && strcmp(path, "/v1/models") == 0) ||
	    (a->post && strcmp(path, "/v1/chat/completions") == 0))) {
		snprintf(msg, sizeof(msg), "Invalid URL (%s %.100s)",
		    a->post ? "POST" : "GET", a->path);
		for (ok = 0; msg[ok] != '\0'; ok++)
			if (msg[ok] == '"' || msg[ok] == '\\' ||
			    (unsigned char)msg[ok] < 0x20)
				msg[ok] = '_';
		return openai_error(r, 404, msg, "invalid_request_error",
		    NULL);
	}

	if ((ok = bearer(a, &tok)) != 1) {
		switch (a->p->kind) {
		case SIM_KIND_DEEPSEEK:
			snprintf(mask, sizeof(mask), "****%s",
			    strlen(tok) >= 4 ? tok + strlen(tok) - 4 : "");
			for (size_t i = 0; mask[i] != '\0'; i++)
				if (!isalnum((unsigned char)mask[i]) &&
				    strchr("*-_", mask[i]) == NULL)
					mask[i] = '*';
			snprintf(msg, sizeof(msg), "Authentication Fails, Your "
			    "api key: %s is invalid", mask);
			return openai_error(r, 401, msg, "authentication_error",
			    "invalid_request_error");
		case SIM_KIND_QWEN:
			return openai_error(r, 401, "Incorrect API key "
			    "provided. ", "invalid_request_error",
			    "invalid_api_key");
		default:
			if (ok == -1)
				return openai_error(r, 401, "You didn't provide "
				    "an API key. You need to provide your API "
				    "key in an Authorization header using "
				    "Bearer auth (i.e. Authorization: Bearer "
				    "YOUR_KEY).", "invalid_request_error",
				    NULL);
			sim_key_mask(tok, mask, sizeof(mask));
			for (size_t i = 0; mask[i] != '\0'; i++)
				if (mask[i] == '"' || mask[i] == '\\' ||
				    (unsigned char)mask[i] < 0x20)
					mask[i] = '*';
			snprintf(msg, sizeof(msg), "Incorrect API key provided: "
			    "%s. You can find your API key at https://"
			    "platform.openai.com/account/api-keys.", mask);
			return openai_error(r, 401, msg,
			    "invalid_request_error", "invalid_api_key");
		}
	}
	if (a->get)
		return openai_list(a, r);
	return openai_chat(a, r, def);
}

/* ---- Anthropic --------------------------------------------------------- */

static int
anthropic_error(struct sim_reply *r, int st, const char *type,
    const char *msg)
{
	return reply_printf(r, st, CT_JSON, "{\"type\":\"error\",\"error\":"
	    "{\"type\":\"%s\",\"message\":\"%s\"}}", type, msg);
}

/* A one-token Messages API answer, streamed as its named SSE events. */
static int
anthropic_messages(const struct ask *a, struct sim_reply *r)
{
	char model[64];
	int stream, usage, bad, rc;

	chat_params(a, "claude-3-5-haiku-latest", model, sizeof(model),
	    &stream, &usage, &bad);
	if (bad)
		return anthropic_error(r, 400, "invalid_request_error",
		    "There was an issue with the format or content of your "
		    "request.");
	if (gen_answer(a, SIM_KIND_ANTHROPIC, model, stream, 1, r, &rc))
		return rc;
	return reply_printf(r, 200, CT_JSON, "{\"id\":\"msg_sim\","
	    "\"type\":\"message\",\"role\":\"assistant\",\"model\":"
	    "\"%s\",\"content\":[{\"type\":\"text\",\"text\":\"pong\"}],"
	    "\"stop_reason\":\"max_tokens\",\"stop_sequence\":null,"
	    "\"usage\":{\"input_tokens\":1,\"output_tokens\":1}}", model);
}

/* Anthropic's models list: one page of dated ids, the newest first. */
static int
anthropic_list(const struct ask *a, struct sim_reply *r)
{
	static const char *const defs[] = { "claude-sonnet-4-20250514",
	    "claude-3-5-haiku-20241022" };
	const char *names[SIM_LIST_MAX + 2];
	size_t n, i;
	cJSON *o, *arr, *m;

	n = list_names(a, defs, 2, names, sizeof(names) / sizeof(names[0]));
	o = cJSON_CreateObject();
	arr = cJSON_AddArrayToObject(o, "data");
	for (i = 0; arr != NULL && i < n; i++) {
		if ((m = cJSON_CreateObject()) == NULL)
			break;
		cJSON_AddItemToArray(arr, m);
		cJSON_AddStringToObject(m, "type", "model");
		cJSON_AddStringToObject(m, "id", names[i]);
		cJSON_AddStringToObject(m, "display_name", names[i]);
		cJSON_AddStringToObject(m, "created_at",
		    "2025-05-22T00:00:00Z");
	}
	cJSON_AddBoolToObject(o, "has_more", 0);
	if (n > 0) {
		cJSON_AddStringToObject(o, "first_id", names[0]);
		cJSON_AddStringToObject(o, "last_id", names[n - 1]);
	} else {
		cJSON_AddNullToObject(o, "first_id");
		cJSON_AddNullToObject(o, "last_id");
	}
	return reply_json(r, o);
}

/* x-api-key, then anthropic-version, then the route. */
static int
ans_anthropic(const struct ask *a, struct sim_reply *r)
{
	const char *k = hdr(a, "x-api-key");
	int models = a->get && strcmp(a->path, "/v1/models") == 0;
	int msgs = a->post && strcmp(a->path, "/v1/messages") == 0;
	int chat = a->post && strcmp(a->path, "/v1/chat/completions") == 0;

	if (!models && !msgs && !chat)
		return anthropic_error(r, 404, "not_found_error", "Not Found");
	if (a->p->key[0] != '\0') {
		if (k == NULL || k[0] == '\0')
			return anthropic_error(r, 401, "authentication_error",
			    "x-api-key header is required");
		if (!key_eq(k, a->p->key))
			return anthropic_error(r, 401, "authentication_error",
			    "invalid x-api-key");
	}
	if (chat)	/* the OpenAI SDK compatibility layer */
		return openai_chat(a, r, "claude-3-5-haiku-latest");
	if (hdr(a, "anthropic-version") == NULL)
		return anthropic_error(r, 400, "invalid_request_error",
		    "anthropic-version: header is required");
	if (msgs)
		return anthropic_messages(a, r);
	return anthropic_list(a, r);
}

/* ---- Google Gemini ------------------------------------------------------ */

static int
google_error(struct sim_reply *r, int st, const char *msg)
{
	const char *s;

	switch (st) {
	case 400: s = "INVALID_ARGUMENT"; break;
	case 401: s = "UNAUTHENTICATED"; break;
	case 403: s = "PERMISSION_DENIED"; break;
	case 404: s = "NOT_FOUND"; break;
	case 429: s = "RESOURCE_EXHAUSTED"; break;
	case 500: s = "INTERNAL"; break;
	case 503: s = "UNAVAILABLE"; break;
	case 504: s = "DEADLINE_EXCEEDED"; break;
	default: s = "UNKNOWN"; break;
	}
	return reply_printf(r, st, CT_JSON, "{\"error\":{\"code\":%d,"
	    "\"message\":\"%s\",\"status\":\"%s\"}}", st, msg, s);
}

/*
 * x-goog-api-key or ?key=; a wrong key is 400 INVALID_ARGUMENT with
 * reason API_KEY_INVALID, a missing one 403 PERMISSION_DENIED.
 */
static int
ans_google(const struct ask *a, struct sim_reply *r)
{
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(a->req);
	const char *k = hdr(a, "x-goog-api-key"), *q, *m = NULL;
	struct evkeyvalq qs;
	char model[SIM_MODEL_MAX];
	int list = a->get && strcmp(a->path, "/v1beta/models") == 0;
	int gen = 0, stream = 0, rc;
	size_t n;

	if (a->post && strncmp(a->path, "/v1beta/models/", 15) == 0 &&
	    (m = strchr(a->path + 15, ':')) != NULL) {
		stream = strcmp(m, ":streamGenerateContent") == 0;
		gen = stream || strcmp(m, ":generateContent") == 0;
	}
	if (!list && !gen)
		return google_error(r, 404, "Method not found.");

	TAILQ_INIT(&qs);
	if (k == NULL && u != NULL && (q = evhttp_uri_get_query(u)) != NULL &&
	    evhttp_parse_query_str(q, &qs) == 0)
		k = evhttp_find_header(&qs, "key");
	if (a->p->key[0] == '\0')
		rc = 1;
	else if (k == NULL || k[0] == '\0')
		rc = -1;
	else
		rc = key_eq(k, a->p->key);
	evhttp_clear_headers(&qs);
	if (rc == -1)
		return google_error(r, 403, "Method doesn't allow unregistered "
		    "callers (callers without established identity). Please "
		    "use API Key or other form of API consumer identity to "
		    "call this API.");
	if (rc == 0)
		return reply_printf(r, 400, CT_JSON, "{\"error\":{\"code\":400,"
		    "\"message\":\"API key not valid. Please pass a valid API "
		    "key.\",\"status\":\"INVALID_ARGUMENT\",\"details\":["
		    "{\"@type\":\"type.googleapis.com/google.rpc.ErrorInfo\","
		    "\"reason\":\"API_KEY_INVALID\",\"domain\":"
		    "\"googleapis.com\",\"metadata\":{\"service\":"
		    "\"generativelanguage.googleapis.com\"}},"
		    "{\"@type\":\"type.googleapis.com/google.rpc."
		    "LocalizedMessage\",\"locale\":\"en-US\",\"message\":"
		    "\"API key not valid. Please pass a valid API key.\"}]}}");
	if (gen) {
		/* The model is in the path: /v1beta/models/MODEL:method. */
		n = (size_t)(m - (a->path + 15));
		snprintf(model, sizeof(model), "%.*s", (int)(n < sizeof(model) ?
		    n : sizeof(model) - 1), a->path + 15);
		if (gen_answer(a, SIM_KIND_GOOGLE, model, stream, 1, r, &rc))
			return rc;
		return reply_printf(r, 200, CT_JSON, "{\"candidates\":[{"
		    "\"content\":{\"parts\":[{\"text\":\"pong\"}],\"role\":"
		    "\"model\"},\"finishReason\":\"MAX_TOKENS\",\"index\":0}],"
		    "\"usageMetadata\":{\"promptTokenCount\":1,"
		    "\"candidatesTokenCount\":1,\"totalTokenCount\":2},"
		    "\"modelVersion\":\"gemini-2.0-flash\"}");
	}
	return google_list(a, r);
}

/* Gemini's models.list: one page, names as "models/ID". */
static int
google_list(const struct ask *a, struct sim_reply *r)
{
	static const char *const defs[] = { "gemini-2.0-flash",
	    "gemini-1.5-pro" };
	static const char *const methods[] = { "generateContent",
	    "countTokens" };
	const char *names[SIM_LIST_MAX + 2];
	char name[SIM_MODEL_MAX + 8];
	size_t n, i;
	cJSON *o, *arr, *m;

	n = list_names(a, defs, 2, names, sizeof(names) / sizeof(names[0]));
	o = cJSON_CreateObject();
	arr = cJSON_AddArrayToObject(o, "models");
	for (i = 0; arr != NULL && i < n; i++) {
		if ((m = cJSON_CreateObject()) == NULL)
			break;
		cJSON_AddItemToArray(arr, m);
		snprintf(name, sizeof(name), "models/%s", names[i]);
		cJSON_AddStringToObject(m, "name", name);
		cJSON_AddStringToObject(m, "version", "001");
		cJSON_AddStringToObject(m, "displayName", names[i]);
		cJSON_AddStringToObject(m, "description", names[i]);
		cJSON_AddNumberToObject(m, "inputTokenLimit", 1048576);
		cJSON_AddNumberToObject(m, "outputTokenLimit", 8192);
		cJSON_AddItemToObject(m, "supportedGenerationMethods",
		    cJSON_CreateStringArray(methods, 2));
	}
	cJSON_AddStringToObject(o, "nextPageToken", "");
	return reply_json(r, o);
}

/* ---- Cursor ------------------------------------------------------------- */

/* Basic auth with the key as user name (a bearer token works too). */
static int
ans_cursor(const struct ask *a, struct sim_reply *r)
{
	char user[512];
	int models = a->get && strcmp(a->path, "/v0/models") == 0;
	int me = a->get && strcmp(a->path, "/v0/me") == 0;

	if (!models && !me)
		return reply_printf(r, 404, CT_JSON, "{\"error\":\"Not "
		    "Found\"}");
	if (a->p->key[0] != '\0' && (basic_user(a, user, sizeof(user)) ==
	    -1 || !key_eq(user, a->p->key))) {
		explicit_bzero(user, sizeof(user));
		return reply_printf(r, 401, CT_JSON, "{\"error\":"
		    "\"Unauthorized\",\"message\":\"Invalid API key\"}");
	}
	explicit_bzero(user, sizeof(user));
	if (me)
		return reply_printf(r, 200, CT_JSON, "{\"apiKeyName\":"
		    "\"vigil-sim\",\"createdAt\":\"2024-01-15T10:30:00Z\","
		    "\"userEmail\":\"sim@example.com\"}");
	return reply_json(r, cursor_list(a));
}

/* Cursor's /v0/models: the names. */
static cJSON *
cursor_list(const struct ask *a)
{
	static const char *const defs[] = { "claude-4-sonnet-thinking", "o3",
	    "claude-4-opus-thinking" };
	const char *names[SIM_LIST_MAX + 3];
	size_t n;
	cJSON *o;

	n = list_names(a, defs, 3, names, sizeof(names) / sizeof(names[0]));
	if ((o = cJSON_CreateObject()) != NULL)
		cJSON_AddItemToObject(o, "models",
		    cJSON_CreateStringArray(names, (int)n));
	return o;
}

/*
 * Answer a provider request the way its kind's API does.  path is the
 * request path below the provider's prefix (query excluded).  Fills r
 * (free with sim_reply_free).  Returns 0, or -1 when out of memory.
 */
int
sim_kind_answer(const struct sim_provider *p, struct evhttp_request *req,
    const char *path, struct sim_reply *r)
{
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	struct ask a;

	a.p = p;
	a.req = req;
	a.path = path[0] == '\0' ? "/" : path;
	a.get = cmd == EVHTTP_REQ_GET || cmd == EVHTTP_REQ_HEAD;
	a.post = cmd == EVHTTP_REQ_POST;
	r->retry_after = 0;
	switch (p->kind) {
	case SIM_KIND_OPENAI:
	case SIM_KIND_DEEPSEEK:
	case SIM_KIND_QWEN:
		return ans_openai(&a, r);
	case SIM_KIND_ANTHROPIC:
		return ans_anthropic(&a, r);
	case SIM_KIND_GOOGLE:
		return ans_google(&a, r);
	case SIM_KIND_CURSOR:
		return ans_cursor(&a, r);
	default:
		return sim_reply_set(r, 200, CT_JSON, "{\"status\":\"ok\"}");
	}
}

/*
 * An injected error: status st with kind's error body, and Retry-After
 * when retry_after > 0 and st is 429 or 503.  Returns 0, or -1.
 */
int
sim_kind_error(int kind, int st, long retry_after, struct sim_reply *r)
{
	const char *t = status_text(st), *type, *code = NULL;
	char msg[128];
	int rc;

	r->retry_after = (st == 429 || st == 503) ? retry_after : 0;
	switch (kind) {
	case SIM_KIND_OPENAI:
	case SIM_KIND_DEEPSEEK:
	case SIM_KIND_QWEN:
		if (st == 429) {
			type = "requests";
			code = "rate_limit_exceeded";
			snprintf(msg, sizeof(msg), "Rate limit reached for "
			    "requests. Please try again later.");
		} else if (st >= 500) {
			type = "server_error";
			snprintf(msg, sizeof(msg), "The server had an error "
			    "while processing your request (%d %s).", st, t);
		} else {
			type = "invalid_request_error";
			snprintf(msg, sizeof(msg), "%d %s", st, t);
		}
		return openai_error(r, st, msg, type, code);
	case SIM_KIND_ANTHROPIC:
		switch (st) {
		case 429: type = "rate_limit_error"; break;
		case 529: type = "overloaded_error"; break;
		case 401: type = "authentication_error"; break;
		case 403: type = "permission_error"; break;
		case 404: type = "not_found_error"; break;
		default: type = st >= 500 ? "api_error" :
		    "invalid_request_error"; break;
		}
		return anthropic_error(r, st, type, t);
	case SIM_KIND_GOOGLE:
		return google_error(r, st, t);
	case SIM_KIND_CURSOR:
		return reply_printf(r, st, CT_JSON, "{\"error\":\"%s\"}", t);
	default:
		rc = reply_printf(r, st, CT_JSON, "{\"status\":\"error\","
		    "\"code\":%d,\"message\":\"%s\"}", st, t);
		return rc;
	}
}
