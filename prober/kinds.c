/*
 * kinds.c - per-kind checks: URL, auth headers, body validators.
 *
 * Every kind's check is a cheap models-list GET with its own auth header
 * shape; the generation check is one streamed completion of one token.
 * The secret goes into a header only, never into a URL (URLs get logged).
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <curl/curl.h>

#include <vigil/vigil.h>

#include "kinds.h"

static int	join_url(const char *, const char *, const char *, char *,
		    size_t);
static struct curl_slist *append_secret(struct curl_slist *, const char *,
		    const char *);
static int	add_bool_if_absent(cJSON *, const char *, int);
static cJSON	*gen_default(int, const char *, const char *);

/* The models-list path of each kind, indexed by enum vigil_kind. */
static const char *const kind_paths[VIGIL_KIND_COUNT] = {
	[VIGIL_KIND_HTTP] = "/",
	[VIGIL_KIND_OPENAI] = "/v1/models",
	[VIGIL_KIND_ANTHROPIC] = "/v1/models",
	[VIGIL_KIND_GOOGLE] = "/v1beta/models",
	[VIGIL_KIND_DEEPSEEK] = "/models",
	[VIGIL_KIND_QWEN] = "/compatible-mode/v1/models",
	[VIGIL_KIND_CURSOR] = "/v0/models",
};

/* Kind name to enum vigil_kind, or -1 when unknown. */
int
kind_from_name(const char *name)
{
	unsigned i;

	for (i = 0; i < VIGIL_KIND_COUNT; i++)
		if (strcmp(name, vigil_kind_name(i)) == 0)
			return (int)i;
	return -1;
}

const char *
kind_check_path(int kind)
{
	if (kind < 0 || kind >= VIGIL_KIND_COUNT)
		return NULL;
	return kind_paths[kind];
}

/*
 * buf = base (trailing slashes dropped) + path (a leading slash added when
 * missing) + suffix.  Returns 0, or -1 when it does not fit.
 */
static int
join_url(const char *base, const char *path, const char *suffix, char *buf,
    size_t len)
{
	size_t blen = strlen(base);
	int n;

	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	n = snprintf(buf, len, "%.*s%s%s%s", (int)blen, base,
	    path[0] == '/' ? "" : "/", path, suffix);
	return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

/*
 * The URL of kind's check against base: check_path when non-empty (the
 * operator's override), else the kind's models-list path.  Returns 0, or
 * -1 for an unknown kind or a URL longer than len.
 */
int
kind_check_url(int kind, const char *base, const char *check_path, char *buf,
    size_t len)
{
	const char *path = kind_check_path(kind);

	if (path == NULL)
		return -1;
	if (check_path != NULL && check_path[0] != '\0')
		path = check_path;
	return join_url(base, path, "", buf, len);
}

/* Whether kind has a generation check (cursor and plain http do not). */
int
kind_gen_supported(int kind)
{
	return kind == VIGIL_KIND_OPENAI || kind == VIGIL_KIND_ANTHROPIC ||
	    kind == VIGIL_KIND_GOOGLE || kind == VIGIL_KIND_DEEPSEEK ||
	    kind == VIGIL_KIND_QWEN;
}

/*
 * A model name safe to put into a URL path and a JSON string without
 * escaping: 1..63 of [A-Za-z0-9._:/@+-], the characters vigil.conf's
 * gen_model takes (settings.c): '@' and '+' are path characters too.
 */
int
kind_model_ok(const char *m)
{
	size_t i, n = strlen(m);

	if (n == 0 || n > 63)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)m[i];
		if (!isalnum(c) && strchr("._:/@+-", c) == NULL)
			return 0;
	}
	return 1;
}

/*
 * The generation check's URL.  Gemini's names the model ("models/" is
 * the path's own, so a configured "models/gemini-x" is not doubled).
 * Returns 0, or -1 (unsupported, too long).
 */
int
kind_gen_url(int kind, const char *base, const char *model, char *buf,
    size_t len)
{
	char path[128];

	switch (kind) {
	case VIGIL_KIND_OPENAI:
		return join_url(base, "/v1/chat/completions", "", buf, len);
	case VIGIL_KIND_DEEPSEEK:
		return join_url(base, "/chat/completions", "", buf, len);
	case VIGIL_KIND_QWEN:
		return join_url(base, "/compatible-mode/v1/chat/completions",
		    "", buf, len);
	case VIGIL_KIND_ANTHROPIC:
		return join_url(base, "/v1/messages", "", buf, len);
	case VIGIL_KIND_GOOGLE:
		if (!kind_model_ok(model))
			return -1;
		if (strncmp(model, "models/", 7) == 0)
			model += 7;
		snprintf(path, sizeof(path), "/v1beta/models/%s", model);
		return join_url(base, path, ":streamGenerateContent?alt=sse",
		    buf, len);
	default:
		return -1;
	}
}

/*
 * Does model think before it answers, so that one output token may be
 * all reasoning (litellm#26987: max_tokens 1 makes them fail)?  OpenAI's
 * o-series (o1, o3, o4-mini ...) and gpt-5 family, which take
 * max_completion_tokens and refuse max_tokens; Gemini 2.5 and later,
 * whose thinking counts into maxOutputTokens.  A gateway's "openai/o3"
 * is judged by what follows the last '/'.
 */
int
kind_gen_reasoning(int kind, const char *model)
{
	const char *m = strrchr(model, '/');

	m = m != NULL ? m + 1 : model;
	switch (kind) {
	case VIGIL_KIND_OPENAI:
		return (m[0] == 'o' && isdigit((unsigned char)m[1])) ||
		    strncmp(m, "gpt-5", 5) == 0;
	case VIGIL_KIND_GOOGLE:
		return strncmp(m, "gemini-2.5", 10) == 0 ||
		    (strncmp(m, "gemini-", 7) == 0 &&
		    isdigit((unsigned char)m[7]) && m[7] >= '3');
	default:
		return 0;
	}
}

/* Add name: true (stream) when the object has no such member. */
static int
add_bool_if_absent(cJSON *o, const char *name, int val)
{
	if (cJSON_GetObjectItemCaseSensitive(o, name) != NULL)
		return 0;
	return cJSON_AddBoolToObject(o, name, val) != NULL ? 0 : -1;
}

/*
 * The default body: one user message, the fewest output tokens the
 * model accepts (kind_gen_reasoning: KIND_GEN_REASONING_TOKENS in the
 * parameter the model takes), streamed, with the usage asked for
 * (OpenAI's stream_options.include_usage; the others report it
 * anyway).
 */
static cJSON *
gen_default(int kind, const char *model, const char *prompt)
{
	cJSON *o, *msgs, *m, *c, *p, *gc, *so;
	int reasoning = kind_gen_reasoning(kind, model);
	int n = reasoning ? KIND_GEN_REASONING_TOKENS : 1;

	if ((o = cJSON_CreateObject()) == NULL)
		return NULL;
	if (kind == VIGIL_KIND_GOOGLE) {
		msgs = cJSON_AddArrayToObject(o, "contents");
		c = cJSON_CreateObject();
		cJSON_AddItemToArray(msgs, c);
		cJSON_AddStringToObject(c, "role", "user");
		p = cJSON_CreateObject();
		cJSON_AddItemToArray(cJSON_AddArrayToObject(c, "parts"), p);
		cJSON_AddStringToObject(p, "text", prompt);
		gc = cJSON_AddObjectToObject(o, "generationConfig");
		cJSON_AddNumberToObject(gc, "maxOutputTokens", n);
		return o;
	}
	cJSON_AddStringToObject(o, "model", model);
	msgs = cJSON_AddArrayToObject(o, "messages");
	m = cJSON_CreateObject();
	cJSON_AddItemToArray(msgs, m);
	cJSON_AddStringToObject(m, "role", "user");
	cJSON_AddStringToObject(m, "content", prompt);
	cJSON_AddNumberToObject(o, reasoning ? "max_completion_tokens" :
	    "max_tokens", n);
	cJSON_AddBoolToObject(o, "stream", 1);
	if (kind != VIGIL_KIND_ANTHROPIC) {
		so = cJSON_AddObjectToObject(o, "stream_options");
		cJSON_AddBoolToObject(so, "include_usage", 1);
	}
	return o;
}

/*
 * The generation check's JSON body for model, into buf.  prompt: the
 * user message (NULL or "": "ping").  tmpl: the operator's gen_body
 * (a JSON object; NULL: none), taken as it is except that, where the
 * body names the model (every kind but Gemini, whose URL does), "model"
 * is set to the one checked and "stream" to true, and an OpenAI-style
 * body without stream_options asks for the usage.  model must pass
 * kind_model_ok.  Returns 0, or -1 (bad model or template, too long).
 */
int
kind_gen_body(int kind, const char *model, const char *prompt,
    const char *tmpl, char *buf, size_t len)
{
	cJSON *o, *so;
	int rc = -1;

	if (!kind_gen_supported(kind) || !kind_model_ok(model))
		return -1;
	if (prompt == NULL || prompt[0] == '\0')
		prompt = "ping";
	if (tmpl == NULL)
		o = gen_default(kind, model, prompt);
	else if ((o = cJSON_Parse(tmpl)) != NULL && !cJSON_IsObject(o)) {
		cJSON_Delete(o);
		o = NULL;
	}
	if (o == NULL)
		return -1;
	if (tmpl != NULL && kind != VIGIL_KIND_GOOGLE) {
		cJSON_DeleteItemFromObjectCaseSensitive(o, "model");
		cJSON_DeleteItemFromObjectCaseSensitive(o, "stream");
		if (cJSON_AddStringToObject(o, "model", model) == NULL ||
		    cJSON_AddBoolToObject(o, "stream", 1) == NULL)
			goto out;
		if (kind != VIGIL_KIND_ANTHROPIC &&
		    cJSON_GetObjectItemCaseSensitive(o, "stream_options") ==
		    NULL && ((so = cJSON_AddObjectToObject(o,
		    "stream_options")) == NULL ||
		    add_bool_if_absent(so, "include_usage", 1) == -1))
			goto out;
	}
	rc = cJSON_PrintPreallocated(o, buf, (int)(len > INT_MAX ? INT_MAX :
	    len), 0) ? 0 : -1;
out:
	cJSON_Delete(o);
	return rc;
}

/* Standard base64 with padding.  Returns 0, or -1 when out is too small. */
int
kind_base64(const unsigned char *in, size_t len, char *out, size_t outlen)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;

	if (outlen < (len + 2) / 3 * 4 + 1)
		return -1;
	for (i = 0; i + 2 < len; i += 3) {
		out[o++] = tab[in[i] >> 2];
		out[o++] = tab[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
		out[o++] = tab[((in[i + 1] & 15) << 2) | (in[i + 2] >> 6)];
		out[o++] = tab[in[i + 2] & 63];
	}
	if (i < len) {
		out[o++] = tab[in[i] >> 2];
		if (i + 1 < len) {
			out[o++] = tab[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
			out[o++] = tab[(in[i + 1] & 15) << 2];
		} else {
			out[o++] = tab[(in[i] & 3) << 4];
			out[o++] = '=';
		}
		out[o++] = '=';
	}
	out[o] = '\0';
	return 0;
}

/*
 * Append "name: prefix+secret" to list, building the line in a scratch
 * buffer that is wiped afterwards.  curl_slist_append copies it; the copy
 * is wiped by kind_headers_free.  On failure frees list, returns NULL.
 */
static struct curl_slist *
append_secret(struct curl_slist *list, const char *prefix, const char *secret)
{
	struct curl_slist *n;
	size_t len = strlen(prefix) + strlen(secret) + 1;
	char *line;

	if ((line = malloc(len)) == NULL) {
		kind_headers_free(list);
		return NULL;
	}
	snprintf(line, len, "%s%s", prefix, secret);
	n = curl_slist_append(list, line);
	explicit_bzero(line, len);
	free(line);
	if (n == NULL)
		kind_headers_free(list);
	return n;
}

/*
 * Request headers of kind's check (gen = 0) or generation check (gen = 1),
 * with the secret key in the kind's auth header.  An empty key sends no
 * auth header (the provider then answers 401: outcome auth, which is what
 * an operator who forgot the key needs to see).  NULL on allocation
 * failure.  Free with kind_headers_free, which wipes the secret.
 */
struct curl_slist *
kind_headers(int kind, const char *key, int gen)
{
	struct curl_slist *l = NULL, *n;
	const char *fixed[3] = { NULL, NULL, NULL };
	char *tmp, *b64;
	size_t klen = strlen(key), blen;
	int i;

	fixed[0] = gen ? "Accept: text/event-stream" : "Accept: application/json";
	if (gen)
		fixed[1] = "Content-Type: application/json";
	if (kind == VIGIL_KIND_ANTHROPIC)
		fixed[2] = "anthropic-version: 2023-06-01";
	for (i = 0; i < 3; i++) {
		if (fixed[i] == NULL)
			continue;
		if ((n = curl_slist_append(l, fixed[i])) == NULL) {
			kind_headers_free(l);
			return NULL;
		}
		l = n;
	}
	if (klen == 0)
		return l;

	switch (kind) {
	case VIGIL_KIND_OPENAI:
	case VIGIL_KIND_DEEPSEEK:
	case VIGIL_KIND_QWEN:
		return append_secret(l, "Authorization: Bearer ", key);
	case VIGIL_KIND_ANTHROPIC:
		return append_secret(l, "x-api-key: ", key);
	case VIGIL_KIND_GOOGLE:
		return append_secret(l, "x-goog-api-key: ", key);
	case VIGIL_KIND_CURSOR:
		/* Basic auth, user = key, empty password: "key:". */
		blen = (klen + 1 + 2) / 3 * 4 + 1;
		tmp = malloc(klen + 2);
		b64 = malloc(blen);
		if (tmp == NULL || b64 == NULL) {
			free(tmp);
			free(b64);
			kind_headers_free(l);
			return NULL;
		}
		memcpy(tmp, key, klen);
		tmp[klen] = ':';
		kind_base64((unsigned char *)tmp, klen + 1, b64, blen);
		l = append_secret(l, "Authorization: Basic ", b64);
		explicit_bzero(tmp, klen + 2);
		explicit_bzero(b64, blen);
		free(tmp);
		free(b64);
		return l;
	default:
		/* http: an operator's own endpoint, bearer if a key is set. */
		return append_secret(l, "Authorization: Bearer ", key);
	}
}

/* Wipe every header line (they may hold the secret), then free the list. */
void
kind_headers_free(struct curl_slist *l)
{
	struct curl_slist *p;

	for (p = l; p != NULL; p = p->next)
		if (p->data != NULL)
			explicit_bzero(p->data, strlen(p->data));
	curl_slist_free_all(l);
}

/*
 * Does buf[0..len) have the shape kind's models list must have?
 * openai, anthropic, deepseek, qwen: an object with a "data" array;
 * google: an object with a "models" array; cursor: any JSON object;
 * http: anything (2xx is the whole check).  Returns 0 ok, -1 not.
 * Pure; cJSON bounds nesting (CJSON_NESTING_LIMIT), so hostile input
 * cannot exhaust the stack.
 */
int
kind_validate_body(int kind, const char *buf, size_t len)
{
	const char *key = NULL;
	cJSON *root;
	int rc = -1;

	if (kind == VIGIL_KIND_HTTP)
		return 0;
	if (kind < 0 || kind >= VIGIL_KIND_COUNT || buf == NULL || len == 0)
		return -1;
	switch (kind) {
	case VIGIL_KIND_GOOGLE:
		key = "models";
		break;
	case VIGIL_KIND_CURSOR:
		key = NULL;
		break;
	default:
		key = "data";
		break;
	}
	if ((root = cJSON_ParseWithLength(buf, len)) == NULL)
		return -1;
	if (cJSON_IsObject(root)) {
		if (key == NULL)
			rc = 0;
		else if (cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(root,
		    key)))
			rc = 0;
	}
	cJSON_Delete(root);
	return rc;
}

/*
 * A generation check's streamed body: at least one server-sent event
 * line "data:" (every supported kind streams SSE).  Returns 0 ok, -1 not.
 */
int
kind_validate_stream(const char *buf, size_t len)
{
	if (buf == NULL || len < 5)
		return -1;
	return memmem(buf, len, "data:", 5) != NULL ? 0 : -1;
}
