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
		    int *, int *);
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
 * The "model" (sanitised to [A-Za-z0-9._:/-], else def) and "stream" of
 * a chat request body; *bad = 1 when the body is not a JSON object.
 */
static void
chat_params(const struct ask *a, const char *def, char *model, size_t mlen,
    int *stream, int *bad)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(a->req);
	size_t len = evbuffer_get_length(in), i;
	const cJSON *m, *s;
	cJSON *root;

	snprintf(model, mlen, "%s", def);
	*stream = 0;
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
	if (cJSON_IsString(m) && m->valuestring[0] != '\0' &&
	    strlen(m->valuestring) < mlen) {
		for (i = 0; m->valuestring[i] != '\0'; i++)
			if (!isalnum((unsigned char)m->valuestring[i]) &&
			    strchr("._:/-", m->valuestring[i]) == NULL)
				break;
		if (m->valuestring[i] == '\0')
			snprintf(model, mlen, "%s", m->valuestring);
	}
	*stream = cJSON_IsTrue(s);
	cJSON_Delete(root);
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
	long now = (long)time(NULL);

	switch (a->p->kind) {
	case SIM_KIND_DEEPSEEK:
		return reply_printf(r, 200, CT_JSON, "{\"object\":\"list\","
		    "\"data\":[{\"id\":\"deepseek-chat\",\"object\":\"model\","
		    "\"owned_by\":\"deepseek\"},{\"id\":\"deepseek-reasoner\","
		    "\"object\":\"model\",\"owned_by\":\"deepseek\"}]}");
	case SIM_KIND_QWEN:
		return reply_printf(r, 200, CT_JSON, "{\"object\":\"list\","
		    "\"data\":[{\"id\":\"qwen-plus\",\"object\":\"model\","
		    "\"created\":%ld,\"owned_by\":\"system\"},{\"id\":"
		    "\"qwen-turbo\",\"object\":\"model\",\"created\":%ld,"
		    "\"owned_by\":\"system\"},{\"id\":\"qwen-max\",\"object\":"
		    "\"model\",\"created\":%ld,\"owned_by\":\"system\"}]}",
		    now, now, now);
	default:
		return reply_printf(r, 200, CT_JSON, "{\"object\":\"list\","
		    "\"data\":[{\"id\":\"gpt-4o\",\"object\":\"model\","
		    "\"created\":1715367049,\"owned_by\":\"system\"},{\"id\":"
		    "\"gpt-4o-mini\",\"object\":\"model\",\"created\":"
		    "1721172741,\"owned_by\":\"system\"},{\"id\":"
		    "\"gpt-3.5-turbo\",\"object\":\"model\",\"created\":"
		    "1677610602,\"owned_by\":\"openai\"}]}");
	}
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
	int stream, bad;
	long now = (long)time(NULL);

	chat_params(a, def, model, sizeof(model), &stream, &bad);
	if (bad)
		return openai_error(r, 400, "We could not parse the JSON body "
		    "of your request.", "invalid_request_error", NULL);
	if (!stream)
		return reply_printf(r, 200, CT_JSON, "{\"id\":\"chatcmpl-sim\","
		    "\"object\":\"chat.completion\",\"created\":%ld,"
		    "\"model\":\"%s\",\"choices\":[{\"index\":0,\"message\":"
		    "{\"role\":\"assistant\",\"content\":\"pong\"},"
		    "\"finish_reason\":\"length\"}],\"usage\":"
		    "{\"prompt_tokens\":1,\"completion_tokens\":1,"
		    "\"total_tokens\":2}}", now, model);
#define CHUNK	"data: {\"id\":\"chatcmpl-sim\",\"object\":" \
		"\"chat.completion.chunk\",\"created\":%ld,\"model\":\"%s\"," \
		"\"choices\":[{\"index\":0,\"delta\":%s,\"finish_reason\":%s}]}" \
		"\n\n"
	return reply_printf(r, 200, CT_SSE, CHUNK CHUNK CHUNK "data: [DONE]\n\n",
	    now, model, "{\"role\":\"assistant\",\"content\":\"\"}", "null",
	    now, model, "{\"content\":\"pong\"}", "null",
	    now, model, "{}", "\"length\"");
#undef CHUNK
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
	int stream, bad;

	chat_params(a, "claude-3-5-haiku-latest", model, sizeof(model),
	    &stream, &bad);
	if (bad)
		return anthropic_error(r, 400, "invalid_request_error",
		    "There was an issue with the format or content of your "
		    "request.");
	if (!stream)
		return reply_printf(r, 200, CT_JSON, "{\"id\":\"msg_sim\","
		    "\"type\":\"message\",\"role\":\"assistant\",\"model\":"
		    "\"%s\",\"content\":[{\"type\":\"text\",\"text\":\"pong\"}],"
		    "\"stop_reason\":\"max_tokens\",\"stop_sequence\":null,"
		    "\"usage\":{\"input_tokens\":1,\"output_tokens\":1}}",
		    model);
	return reply_printf(r, 200, CT_SSE,
	    "event: message_start\ndata: {\"type\":\"message_start\","
	    "\"message\":{\"id\":\"msg_sim\",\"type\":\"message\",\"role\":"
	    "\"assistant\",\"model\":\"%s\",\"content\":[],\"stop_reason\":"
	    "null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":1,"
	    "\"output_tokens\":1}}}\n\n"
	    "event: content_block_start\ndata: {\"type\":"
	    "\"content_block_start\",\"index\":0,\"content_block\":{\"type\":"
	    "\"text\",\"text\":\"\"}}\n\n"
	    "event: ping\ndata: {\"type\":\"ping\"}\n\n"
	    "event: content_block_delta\ndata: {\"type\":"
	    "\"content_block_delta\",\"index\":0,\"delta\":{\"type\":"
	    "\"text_delta\",\"text\":\"pong\"}}\n\n"
	    "event: content_block_stop\ndata: {\"type\":"
	    "\"content_block_stop\",\"index\":0}\n\n"
	    "event: message_delta\ndata: {\"type\":\"message_delta\","
	    "\"delta\":{\"stop_reason\":\"max_tokens\",\"stop_sequence\":"
	    "null},\"usage\":{\"output_tokens\":1}}\n\n"
	    "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
	    model);
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
	return reply_printf(r, 200, CT_JSON, "{\"data\":["
	    "{\"type\":\"model\",\"id\":\"claude-sonnet-4-20250514\","
	    "\"display_name\":\"Claude Sonnet 4\",\"created_at\":"
	    "\"2025-05-22T00:00:00Z\"},"
	    "{\"type\":\"model\",\"id\":\"claude-3-5-haiku-20241022\","
	    "\"display_name\":\"Claude Haiku 3.5\",\"created_at\":"
	    "\"2024-10-22T00:00:00Z\"}],"
	    "\"has_more\":false,\"first_id\":\"claude-sonnet-4-20250514\","
	    "\"last_id\":\"claude-3-5-haiku-20241022\"}");
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
	const char *k = hdr(a, "x-goog-api-key"), *q, *m;
	struct evkeyvalq qs;
	int list = a->get && strcmp(a->path, "/v1beta/models") == 0;
	int gen = 0, stream = 0, rc;

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
#define GEN	"{\"candidates\":[{\"content\":{\"parts\":[{\"text\":" \
		"\"pong\"}],\"role\":\"model\"},\"finishReason\":" \
		"\"MAX_TOKENS\",\"index\":0}],\"usageMetadata\":" \
		"{\"promptTokenCount\":1,\"candidatesTokenCount\":1," \
		"\"totalTokenCount\":2},\"modelVersion\":\"gemini-2.0-flash\"}"
		if (stream)
			return reply_printf(r, 200, CT_SSE, "data: %s\r\n\r\n",
			    GEN);
		return reply_printf(r, 200, CT_JSON, "%s", GEN);
#undef GEN
	}
#define MODEL(id, disp, in, out) "{\"name\":\"models/" id "\",\"version\":" \
	"\"001\",\"displayName\":\"" disp "\",\"description\":\"" disp "\"," \
	"\"inputTokenLimit\":" in ",\"outputTokenLimit\":" out "," \
	"\"supportedGenerationMethods\":[\"generateContent\",\"countTokens\"]}"
	return reply_printf(r, 200, CT_JSON, "{\"models\":["
	    MODEL("gemini-2.0-flash", "Gemini 2.0 Flash", "1048576", "8192") ","
	    MODEL("gemini-1.5-pro", "Gemini 1.5 Pro", "2000000", "8192") "],"
	    "\"nextPageToken\":\"\"}");
#undef MODEL
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
	return reply_printf(r, 200, CT_JSON, "{\"models\":["
	    "\"claude-4-sonnet-thinking\",\"o3\",\"claude-4-opus-thinking\"]}");
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
