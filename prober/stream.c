/*
 * stream.c - read a generation check's server-sent events as each kind
 * writes them.
 *
 * What counts, per kind (docs/internals.md, "Probing choices"):
 *   - OpenAI and its compatible modes (DeepSeek, Qwen): chunks
 *     `data: {"choices":[{"delta":{...},"finish_reason":...}]}`, the
 *     usage in a last chunk with empty choices (stream_options
 *     include_usage), then `data: [DONE]`.  A token is a non-empty
 *     choices[0].delta.content (the answer's text) or reasoning_content
 *     (DeepSeek's and Qwen's reasoning models think aloud first); the
 *     first chunk's role-only delta is not one.  The end: [DONE].
 *   - Anthropic: named events, each with its type in the data:
 *     message_start (usage.input_tokens), content_block_start, ping,
 *     content_block_delta (a text_delta's text, a thinking_delta's
 *     thinking), content_block_stop, message_delta (usage.output_tokens,
 *     cumulative), message_stop (the end), error.  Unknown types are
 *     skipped, as Anthropic asks of clients.
 *   - Gemini (alt=sse): each event a GenerateContentResponse; a token is
 *     a non-empty text part of the first candidate (a part marked
 *     "thought" counts as a token, not as text); the end is a
 *     finishReason; usageMetadata in every chunk, the last one wins.
 *   - Any kind: an event named "error", or data holding an "error"
 *     member (Anthropic's type "error" has one), is an error after the
 *     200: outcome.c classifies it as it would the same error sent as a
 *     status.
 * Comments (": keep-alive", DeepSeek and OpenRouter while a request
 * waits), ping events and empty lines are never a token.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include <vigil/vigil.h>

#include "outcome.h"
#include "stream.h"

static int	buf_add(char **, size_t *, size_t *, size_t, const char *,
		    size_t);
static void	line_end(struct stream *);
static void	field(struct stream *, const char *, size_t, const char *,
		    size_t);
static void	dispatch(struct stream *);
static void	event_read(struct stream *, const char *, size_t);
static void	read_openai(struct stream *, const cJSON *);
static void	read_anthropic(struct stream *, const cJSON *);
static void	read_google(struct stream *, const cJSON *);
static void	text_add(struct stream *, const char *);
static int	nonempty(const cJSON *);
static uint32_t	count(const cJSON *, const char *);
static int	openai_like(int);

void
stream_init(struct stream *s, int kind)
{
	memset(s, 0, sizeof(*s));
	s->kind = kind;
}

/* Ready for the next check: the buffers stay. */
void
stream_reset(struct stream *s)
{
	char *line = s->line, *data = s->data;
	size_t lcap = s->lcap, dcap = s->dcap;
	int kind = s->kind;

	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->line = line;
	s->lcap = lcap;
	s->data = data;
	s->dcap = dcap;
}

void
stream_free(struct stream *s)
{
	free(s->line);
	free(s->data);
	memset(s, 0, sizeof(*s));
}

static int
openai_like(int kind)
{
	return kind != VIGIL_KIND_ANTHROPIC && kind != VIGIL_KIND_GOOGLE;
}

/*
 * Append p[0..n) to the buffer *b (length *len, capacity *cap), which
 * may not grow past max.  Returns 0, or -1 (over max, out of memory):
 * then nothing is appended.
 */
static int
buf_add(char **b, size_t *len, size_t *cap, size_t max, const char *p,
    size_t n)
{
	size_t want;
	char *nb;

	if (n > max - *len)
		return -1;
	if (*len + n + 1 > *cap) {
		want = *cap ? *cap : 256;
		while (want < *len + n + 1)
			want *= 2;
		if (want > max + 1)
			want = max + 1;
		if ((nb = realloc(*b, want)) == NULL)
			return -1;
		*b = nb;
		*cap = want;
	}
	memcpy(*b + *len, p, n);
	*len += n;
	(*b)[*len] = '\0';
	return 0;
}

/*
 * Take the next piece of the stream.  Returns 1 when the first content
 * token came in this piece (the caller stamps the time), else 0.  O(n)
 * plus the JSON of each event it completes.
 */
int
stream_feed(struct stream *s, const char *p, size_t n)
{
	unsigned before = s->flags;
	size_t i = 0, j;

	while (i < n) {
		/* A CRLF split between two pieces is one line end. */
		if (s->cr) {
			s->cr = 0;
			if (p[i] == '\n') {
				i++;
				continue;
			}
		}
		for (j = i; j < n && p[j] != '\n' && p[j] != '\r'; j++)
			;
		if (j > i && !s->lover && buf_add(&s->line, &s->llen,
		    &s->lcap, STREAM_LINE_MAX, p + i, j - i) == -1)
			s->lover = 1;
		if (j == n)
			break;
		s->cr = p[j] == '\r';
		line_end(s);
		i = j + 1;
	}
	return !(before & STREAM_TOKEN) && (s->flags & STREAM_TOKEN);
}

/* One whole line: an empty one ends the event, ':' starts a comment. */
static void
line_end(struct stream *s)
{
	const char *l = s->line, *colon, *v;
	size_t n = s->llen, nlen, vlen;

	if (s->lover) {
		/* Whatever it was, its event cannot be read. */
		s->dany = s->dover = 1;
	} else if (n == 0)
		dispatch(s);
	else if (l[0] != ':') {
		colon = memchr(l, ':', n);
		nlen = colon != NULL ? (size_t)(colon - l) : n;
		v = colon != NULL ? colon + 1 : l + n;
		vlen = n - (size_t)(v - l);
		if (vlen > 0 && *v == ' ') {
			v++;
			vlen--;
		}
		field(s, l, nlen, v, vlen);
	}
	s->llen = 0;
	s->lover = 0;
}

/* A field of the event being read; id and retry mean nothing here. */
static void
field(struct stream *s, const char *name, size_t nlen, const char *v,
    size_t vlen)
{
	if (nlen == 4 && memcmp(name, "data", 4) == 0) {
		s->dany = 1;
		if (!s->dover && (buf_add(&s->data, &s->dlen, &s->dcap,
		    STREAM_EVENT_MAX, v, vlen) == -1 || buf_add(&s->data,
		    &s->dlen, &s->dcap, STREAM_EVENT_MAX, "\n", 1) == -1))
			s->dover = 1;
	} else if (nlen == 5 && memcmp(name, "event", 5) == 0) {
		if (vlen >= sizeof(s->event))
			vlen = sizeof(s->event) - 1;
		memcpy(s->event, v, vlen);
		s->event[vlen] = '\0';
	}
}

/* The event is complete: read it, then start the next one. */
static void
dispatch(struct stream *s)
{
	if (s->dany) {
		s->flags |= STREAM_EVENT;
		if (s->dover)
			s->flags |= STREAM_BAD;
		else {
			/* The data's last line feed is not part of it. */
			if (s->dlen > 0)
				s->data[--s->dlen] = '\0';
			event_read(s, s->data != NULL ? s->data : "", s->dlen);
		}
	}
	s->dlen = 0;
	s->dany = s->dover = 0;
	s->event[0] = '\0';
}

/* One event's data, as the kind writes it. */
static void
event_read(struct stream *s, const char *d, size_t len)
{
	const cJSON *e;
	cJSON *root;

	if (openai_like(s->kind) && len == 6 && memcmp(d, "[DONE]", 6) == 0) {
		s->flags |= STREAM_DONE;
		return;
	}
	root = cJSON_ParseWithLength(d, len);
	e = cJSON_GetObjectItemCaseSensitive(root, "error");
	if (strcmp(s->event, "error") == 0 || (cJSON_IsObject(root) &&
	    e != NULL && !cJSON_IsNull(e))) {
		/* The first error is the one that broke the answer. */
		if (!(s->flags & STREAM_ERROR)) {
			s->flags |= STREAM_ERROR;
			s->err_out = outcome_classify_event(s->kind, d, len,
			    s->err, sizeof(s->err));
		}
	} else if (!cJSON_IsObject(root))
		s->flags |= STREAM_BAD;
	else if (s->kind == VIGIL_KIND_ANTHROPIC)
		read_anthropic(s, root);
	else if (s->kind == VIGIL_KIND_GOOGLE)
		read_google(s, root);
	else
		read_openai(s, root);
	cJSON_Delete(root);
}

/* A non-empty string. */
static int
nonempty(const cJSON *v)
{
	return cJSON_IsString(v) && v->valuestring[0] != '\0';
}

/* o[key] as a token count: a number, 0 to UINT32_MAX; 0 otherwise. */
static uint32_t
count(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0))
		return 0;
	return v->valuedouble >= (double)UINT32_MAX ? UINT32_MAX :
	    (uint32_t)v->valuedouble;
}

/* Keep the answer's text for gen_expect, up to STREAM_TEXT_MAX. */
static void
text_add(struct stream *s, const char *t)
{
	size_t n = strlen(t);

	if (n > STREAM_TEXT_MAX - s->tlen) {
		n = STREAM_TEXT_MAX - s->tlen;
		s->flags |= STREAM_CUTTEXT;
	}
	memcpy(s->text + s->tlen, t, n);
	s->tlen += n;
	s->text[s->tlen] = '\0';
}

static void
read_openai(struct stream *s, const cJSON *root)
{
	const cJSON *c0, *delta, *usage, *v;

	c0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root,
	    "choices"), 0);
	delta = cJSON_GetObjectItemCaseSensitive(c0, "delta");
	if (cJSON_IsObject(delta)) {
		v = cJSON_GetObjectItemCaseSensitive(delta, "content");
		if (nonempty(v)) {
			s->flags |= STREAM_TOKEN;
			text_add(s, v->valuestring);
		}
		if (nonempty(cJSON_GetObjectItemCaseSensitive(delta,
		    "reasoning_content")))
			s->flags |= STREAM_TOKEN;
	}
	usage = cJSON_GetObjectItemCaseSensitive(root, "usage");
	if (cJSON_IsObject(usage)) {
		s->flags |= STREAM_USAGE;
		s->tokens_in = count(usage, "prompt_tokens");
		s->tokens_out = count(usage, "completion_tokens");
	}
}

static void
read_anthropic(struct stream *s, const cJSON *root)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "type");
	const cJSON *d, *u, *v;
	uint64_t in;

	if (!cJSON_IsString(t))
		return;
	if (strcmp(t->valuestring, "message_start") == 0) {
		u = cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(root, "message"), "usage");
		if (cJSON_IsObject(u)) {
			/* Cached input is billed input too. */
			in = (uint64_t)count(u, "input_tokens") +
			    count(u, "cache_creation_input_tokens") +
			    count(u, "cache_read_input_tokens");
			s->tokens_in = in > UINT32_MAX ? UINT32_MAX :
			    (uint32_t)in;
			s->tokens_out = count(u, "output_tokens");
			s->flags |= STREAM_USAGE;
		}
	} else if (strcmp(t->valuestring, "content_block_delta") == 0) {
		d = cJSON_GetObjectItemCaseSensitive(root, "delta");
		if (nonempty(v = cJSON_GetObjectItemCaseSensitive(d, "text"))) {
			s->flags |= STREAM_TOKEN;
			text_add(s, v->valuestring);
		} else if (nonempty(cJSON_GetObjectItemCaseSensitive(d,
		    "thinking")))
			s->flags |= STREAM_TOKEN;
	} else if (strcmp(t->valuestring, "message_delta") == 0) {
		u = cJSON_GetObjectItemCaseSensitive(root, "usage");
		if (cJSON_IsObject(u)) {
			/* Cumulative: the newest count is the count. */
			s->tokens_out = count(u, "output_tokens");
			if (cJSON_GetObjectItemCaseSensitive(u,
			    "input_tokens") != NULL)
				s->tokens_in = count(u, "input_tokens");
			s->flags |= STREAM_USAGE;
		}
	} else if (strcmp(t->valuestring, "message_stop") == 0)
		s->flags |= STREAM_DONE;
}

static void
read_google(struct stream *s, const cJSON *root)
{
	const cJSON *c0, *parts, *p, *t, *u;
	uint64_t out;

	c0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root,
	    "candidates"), 0);
	parts = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(c0, "content"), "parts");
	if (!cJSON_IsArray(parts))
		parts = NULL;
	cJSON_ArrayForEach(p, parts) {
		if (!nonempty(t = cJSON_GetObjectItemCaseSensitive(p, "text")))
			continue;
		s->flags |= STREAM_TOKEN;
		if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p,
		    "thought")))
			text_add(s, t->valuestring);
	}
	if (nonempty(cJSON_GetObjectItemCaseSensitive(c0, "finishReason")))
		s->flags |= STREAM_DONE;
	u = cJSON_GetObjectItemCaseSensitive(root, "usageMetadata");
	if (cJSON_IsObject(u)) {
		/* Thinking is billed as output. */
		out = (uint64_t)count(u, "candidatesTokenCount") +
		    count(u, "thoughtsTokenCount");
		s->tokens_in = count(u, "promptTokenCount");
		s->tokens_out = out > UINT32_MAX ? UINT32_MAX : (uint32_t)out;
		s->flags |= STREAM_USAGE;
	}
}

/*
 * The outcome of a stream whose transfer ended well with a 2xx, and its
 * code in err: an error event's class ("sse:..."); bad_response when
 * the data is not the kind's ("body:shape", also when no event came at
 * all), when the end marker never came ("body:cut"), or when expect is
 * given and the text does not match it ("body:unexpected"); else ok.
 */
int
stream_outcome(const struct stream *s, const regex_t *expect, char *err,
    size_t errlen)
{
	if (errlen > 0)
		err[0] = '\0';
	if (s->flags & STREAM_ERROR) {
		snprintf(err, errlen, "%s", s->err);
		return s->err_out;
	}
	if ((s->flags & STREAM_BAD) || !(s->flags & STREAM_EVENT)) {
		snprintf(err, errlen, "body:shape");
		return VIGIL_OUT_BAD_RESPONSE;
	}
	if (!(s->flags & STREAM_DONE)) {
		snprintf(err, errlen, "body:cut");
		return VIGIL_OUT_BAD_RESPONSE;
	}
	if (expect != NULL && regexec(expect, s->text, 0, NULL, 0) != 0) {
		snprintf(err, errlen, "body:unexpected");
		return VIGIL_OUT_BAD_RESPONSE;
	}
	return VIGIL_OUT_OK;
}
