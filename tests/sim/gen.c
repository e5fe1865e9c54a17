/*
 * gen.c - generation streams and models lists with faults (gen.h).
 *
 * The streams follow each kind's documented format: OpenAI's
 * chat.completion.chunk events (a role-only first delta with empty
 * content, the content, a finish_reason chunk, the usage chunk with
 * empty choices when stream_options.include_usage asked for it, then
 * `data: [DONE]`); Anthropic's named events (message_start with the
 * input usage, content_block_start, ping, content_block_delta,
 * content_block_stop, message_delta with the output usage,
 * message_stop; `event: error` when it breaks); Gemini's alt=sse
 * GenerateContentResponse chunks (CRLF line ends, finishReason and
 * usageMetadata in the last).  While a request waits, DeepSeek and
 * OpenRouter send `: keep-alive` comments and Anthropic ping events:
 * the keep-alives here are those (a comment for every kind but
 * Anthropic).
 *
 * A stream is a list of timed pieces (struct sim_seg): serve.c sends
 * the headers at once, then each piece at its time.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "errors.h"
#include "sim.h"

enum gfld_type { G_MS, G_LONG, G_BOOL, G_MODE, G_TEXT };

struct gfld {
	const char	*name;
	enum gfld_type	 type;
	size_t		 off;		/* in struct sim_stream_conf */
	long		 max;
	int		 model_only;	/* only in a model_faults entry */
};

#define G(n, t, m, mo)	{ #n, t, offsetof(struct sim_stream_conf, n), m, mo }

static const struct gfld gflds[] = {
	G(keepalive_ms, G_MS, SIM_MAX_DELAY_MS, 0),
	G(keepalive_every_ms, G_MS, 60000, 0),
	G(first_token_ms, G_MS, SIM_MAX_DELAY_MS, 0),
	G(tokens_in, G_LONG, 100000000, 0),
	G(tokens_out, G_LONG, 100000000, 0),
	G(no_usage, G_BOOL, 0, 0),
	G(stream_error, G_MODE, 0, 0),
	G(stream_error_after, G_LONG, 1, 0),
	G(stream_cut, G_BOOL, 0, 0),
	G(text, G_TEXT, 0, 0),
	G(error_mode, G_MODE, 0, 1),
};
#define NGFLDS	(sizeof(gflds) / sizeof(gflds[0]))

#undef G

/* A stream being built: its bytes in r->body, its pieces in r->segs. */
struct sb {
	struct sim_reply	*r;
	size_t			 cap;
	int			 scap;
	int			 fail;
};

static const struct gfld *gfld_find(const char *, int);
static int	stream_parse(const cJSON *, struct sim_stream_conf *, int,
		    char *, size_t);
static int	names_parse(const cJSON *, char (*)[SIM_MODEL_MAX], int *,
		    const char *, char *, size_t);
static int	name_ok(const char *);
static void	stream_json(cJSON *, const struct sim_stream_conf *, int);
static void	seg_add(struct sb *, long, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static void	keepalives(struct sb *, const struct sim_stream_conf *, int);
static void	stream_openai(struct sb *, const char *, int,
		    const struct sim_stream_conf *);
static void	stream_anthropic(struct sb *, const char *,
		    const struct sim_stream_conf *);
static void	stream_google(struct sb *, const char *,
		    const struct sim_stream_conf *);

static const struct gfld *
gfld_find(const char *name, int in_model)
{
	size_t i;

	for (i = 0; i < NGFLDS; i++)
		if (strcmp(gflds[i].name, name) == 0 &&
		    (in_model || !gflds[i].model_only))
			return &gflds[i];
	return NULL;
}

/* Whether name is a field of ours (at the top of the faults). */
int
sim_gen_field(const char *name)
{
	return gfld_find(name, 0) != NULL ||
	    strcmp(name, "model_faults") == 0 || strcmp(name, "models") == 0 ||
	    strcmp(name, "drop_models") == 0;
}

/* A model name: 1..63 of [A-Za-z0-9._:/@+-], as vigil's models take. */
static int
name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n >= SIM_MODEL_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && strchr("._:/@+-", s[i]) ==
		    NULL)
			return 0;
	return 1;
}

/* One stream field v (named v->string) into *c. */
static int
stream_parse(const cJSON *v, struct sim_stream_conf *c, int in_model,
    char *err, size_t errlen)
{
	const struct gfld *d = gfld_find(v->string, in_model);
	char *p;
	double x;
	size_t i;
	int m;

	if (d == NULL) {
		snprintf(err, errlen, "unknown field '%.40s'", v->string);
		return -1;
	}
	p = (char *)c + d->off;
	switch (d->type) {
	case G_BOOL:
		/* As faults.c takes them: true, false, 1, 0. */
		if (cJSON_IsBool(v))
			*(int *)(void *)p = cJSON_IsTrue(v);
		else if (cJSON_IsNumber(v) && (v->valuedouble == 0 ||
		    v->valuedouble == 1))
			*(int *)(void *)p = v->valuedouble == 1;
		else {
			snprintf(err, errlen, "%s: expected true or false",
			    d->name);
			return -1;
		}
		return 0;
	case G_MODE:
		if (cJSON_IsNull(v) || (cJSON_IsString(v) &&
		    v->valuestring[0] == '\0')) {
			*(int *)(void *)p = 0;
			return 0;
		}
		if (!cJSON_IsString(v) || (m = sim_err_find(v->valuestring)) ==
		    0) {
			snprintf(err, errlen, "%s: expected an error mode "
			    "(GET /_sim/_modes)", d->name);
			return -1;
		}
		*(int *)(void *)p = m;
		return 0;
	case G_TEXT:
		if (!cJSON_IsString(v) || strlen(v->valuestring) >=
		    SIM_TEXT_MAX) {
			snprintf(err, errlen, "%s: expected a string of at "
			    "most %d characters", d->name, SIM_TEXT_MAX - 1);
			return -1;
		}
		for (i = 0; v->valuestring[i] != '\0'; i++)
			if (v->valuestring[i] < 0x20 || v->valuestring[i] ==
			    '"' || v->valuestring[i] == '\\' ||
			    v->valuestring[i] == 0x7f) {
				snprintf(err, errlen, "%s: printable ASCII "
				    "without '\"' or '\\\\'", d->name);
				return -1;
			}
		memset(p, 0, SIM_TEXT_MAX);
		memcpy(p, v->valuestring, i);
		return 0;
	default:
		x = cJSON_IsNumber(v) ? v->valuedouble : -1;
		if (x != (double)(long)x || x < 0 || x > (double)d->max) {
			snprintf(err, errlen, "%s: expected an integer in "
			    "0..%ld", d->name, d->max);
			return -1;
		}
		*(long *)(void *)p = (long)x;
		return 0;
	}
}

/* An array of model names (or null: none) into out[0..*n). */
static int
names_parse(const cJSON *v, char (*out)[SIM_MODEL_MAX], int *n,
    const char *field, char *err, size_t errlen)
{
	const cJSON *it;
	int k = 0;

	memset(out, 0, SIM_LIST_MAX * SIM_MODEL_MAX);
	*n = 0;
	if (cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsArray(v)) {
		snprintf(err, errlen, "%s: expected an array of model names "
		    "or null", field);
		return -1;
	}
	cJSON_ArrayForEach(it, v) {
		if (!cJSON_IsString(it) || !name_ok(it->valuestring) ||
		    k == SIM_LIST_MAX) {
			snprintf(err, errlen, "%s: at most %d model names of "
			    "[A-Za-z0-9._:/@+-]", field, SIM_LIST_MAX);
			return -1;
		}
		snprintf(out[k++], SIM_MODEL_MAX, "%s", it->valuestring);
	}
	*n = k;
	return 0;
}

/*
 * The fault field v (sim_gen_field says it is ours) into *g: a stream
 * field, model_faults (an object of model name to stream fields and
 * error_mode, replacing every model's; null or {} for none), models (an
 * array replacing the kind's list; null: the kind's) or drop_models.
 * Returns 0, or -1 with err (*g may be half changed: the caller works
 * on a copy).
 */
int
sim_gen_parse(const cJSON *v, struct sim_gen_conf *g, char *err,
    size_t errlen)
{
	const cJSON *m, *f;
	struct sim_model_conf *mc;

	if (strcmp(v->string, "models") == 0) {
		g->list_set = !cJSON_IsNull(v);
		return names_parse(v, g->list, &g->nlist, "models", err,
		    errlen);
	}
	if (strcmp(v->string, "drop_models") == 0)
		return names_parse(v, g->drop, &g->ndrop, "drop_models", err,
		    errlen);
	if (strcmp(v->string, "model_faults") != 0)
		return stream_parse(v, &g->s, 0, err, errlen);
	memset(g->model, 0, sizeof(g->model));
	g->nmodel = 0;
	if (cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsObject(v)) {
		snprintf(err, errlen, "model_faults: expected an object of "
		    "model name to faults");
		return -1;
	}
	cJSON_ArrayForEach(m, v) {
		if (!name_ok(m->string) || !cJSON_IsObject(m) ||
		    g->nmodel == SIM_MODEL_FAULTS) {
			snprintf(err, errlen, "model_faults: at most %d "
			    "models, each a name of [A-Za-z0-9._:/@+-] to an "
			    "object", SIM_MODEL_FAULTS);
			return -1;
		}
		mc = &g->model[g->nmodel++];
		snprintf(mc->name, sizeof(mc->name), "%s", m->string);
		cJSON_ArrayForEach(f, m)
			if (stream_parse(f, &mc->s, 1, err, errlen) == -1)
				return -1;
	}
	return 0;
}

/* The stream fields of c into object o (in_model: error_mode too). */
static void
stream_json(cJSON *o, const struct sim_stream_conf *c, int in_model)
{
	const char *p;
	const struct sim_err_row *row;
	size_t i;

	for (i = 0; o != NULL && i < NGFLDS; i++) {
		if (gflds[i].model_only && !in_model)
			continue;
		p = (const char *)c + gflds[i].off;
		switch (gflds[i].type) {
		case G_BOOL:
			cJSON_AddBoolToObject(o, gflds[i].name,
			    *(const int *)(const void *)p);
			break;
		case G_MODE:
			row = sim_err_row(*(const int *)(const void *)p);
			if (row != NULL)
				cJSON_AddStringToObject(o, gflds[i].name,
				    row->mode);
			else
				cJSON_AddNullToObject(o, gflds[i].name);
			break;
		case G_TEXT:
			cJSON_AddStringToObject(o, gflds[i].name, p);
			break;
		default:
			cJSON_AddNumberToObject(o, gflds[i].name,
			    (double)*(const long *)(const void *)p);
			break;
		}
	}
}

/* Our fields into the faults' JSON object o (POSTed back: the same). */
void
sim_gen_json(cJSON *o, const struct sim_gen_conf *g)
{
	cJSON *m, *a;
	int i;

	stream_json(o, &g->s, 0);
	m = cJSON_AddObjectToObject(o, "model_faults");
	for (i = 0; m != NULL && i < g->nmodel; i++)
		stream_json(cJSON_AddObjectToObject(m, g->model[i].name),
		    &g->model[i].s, 1);
	if (!g->list_set)
		cJSON_AddNullToObject(o, "models");
	else if ((a = cJSON_AddArrayToObject(o, "models")) != NULL)
		for (i = 0; i < g->nlist; i++)
			cJSON_AddItemToArray(a, cJSON_CreateString(g->list[i]));
	if ((a = cJSON_AddArrayToObject(o, "drop_models")) != NULL)
		for (i = 0; i < g->ndrop; i++)
			cJSON_AddItemToArray(a, cJSON_CreateString(g->drop[i]));
}

/* The stream settings of model: its own, or every model's. */
const struct sim_stream_conf *
sim_gen_for(const struct sim_gen_conf *g, const char *model)
{
	int i;

	for (i = 0; model != NULL && i < g->nmodel; i++)
		if (strcmp(g->model[i].name, model) == 0)
			return &g->model[i].s;
	return &g->s;
}

/*
 * The models list as it stands: the kind's ndefs defaults (or the
 * models field), without drop_models, into out[0..max).  Returns the
 * count.
 */
size_t
sim_gen_list(const struct sim_gen_conf *g, const char *const *defs,
    size_t ndefs, const char **out, size_t max)
{
	size_t i, n = 0, total = g->list_set ? (size_t)g->nlist : ndefs;
	const char *name;
	int k, drop;

	for (i = 0; i < total && n < max; i++) {
		name = g->list_set ? g->list[i] : defs[i];
		for (drop = 0, k = 0; k < g->ndrop; k++)
			if (strcmp(g->drop[k], name) == 0)
				drop = 1;
		if (!drop)
			out[n++] = name;
	}
	return n;
}

/* ---- streams ---------------------------------------------------------- */

/* Append a piece sent at ms after the headers. */
static void
seg_add(struct sb *b, long ms, const char *fmt, ...)
{
	struct sim_reply *r = b->r;
	struct sim_seg *ns;
	va_list ap;
	char *piece, *nb;
	int n;

	if (b->fail)
		return;
	va_start(ap, fmt);
	n = vasprintf(&piece, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->fail = 1;
		return;
	}
	if (r->len + (size_t)n + 1 > b->cap) {
		b->cap = (r->len + (size_t)n + 1) * 2;
		if ((nb = realloc(r->body, b->cap)) == NULL) {
			free(piece);
			b->fail = 1;
			return;
		}
		r->body = nb;
	}
	if (r->nsegs == b->scap) {
		b->scap = b->scap ? b->scap * 2 : 16;
		if ((ns = realloc(r->segs, (size_t)b->scap *
		    sizeof(*ns))) == NULL) {
			free(piece);
			b->fail = 1;
			return;
		}
		r->segs = ns;
	}
	memcpy(r->body + r->len, piece, (size_t)n + 1);
	r->segs[r->nsegs].at_ms = ms;
	r->segs[r->nsegs].off = r->len;
	r->segs[r->nsegs].len = (size_t)n;
	r->nsegs++;
	r->len += (size_t)n;
	free(piece);
}

/* Keep-alives from the headers until keepalive_ms. */
static void
keepalives(struct sb *b, const struct sim_stream_conf *c, int kind)
{
	long every = c->keepalive_every_ms > 0 ? c->keepalive_every_ms : 100;
	long t;

	for (t = 0; t < c->keepalive_ms; t += every) {
		if (kind == SIM_KIND_ANTHROPIC)
			seg_add(b, t, "event: ping\ndata: {\"type\": "
			    "\"ping\"}\n\n");
		else
			seg_add(b, t, ": keep-alive\n\n");
	}
}

#define OA_CHUNK "data: {\"id\":\"chatcmpl-sim\",\"object\":" \
	"\"chat.completion.chunk\",\"created\":1718000000,\"model\":\"%s\"," \
	"\"system_fingerprint\":\"fp_sim\",\"choices\":[%s]%s}\n\n"

/* OpenAI and its compatible modes (DeepSeek, Qwen). */
static void
stream_openai(struct sb *b, const char *model, int usage,
    const struct sim_stream_conf *c)
{
	const struct sim_err_row *err = sim_err_row(c->stream_error);
	long t = c->keepalive_ms + c->first_token_ms;
	const char *un = usage && !c->no_usage ? ",\"usage\":null" : "";
	char choice[160];

	seg_add(b, 0, OA_CHUNK, model, "{\"index\":0,\"delta\":{\"role\":"
	    "\"assistant\",\"content\":\"\",\"refusal\":null},\"logprobs\":"
	    "null,\"finish_reason\":null}", un);
	keepalives(b, c, SIM_KIND_OPENAI);
	if (err != NULL && c->stream_error_after == 0) {
		seg_add(b, t, "data: %s\n\n", err->body);
		return;
	}
	snprintf(choice, sizeof(choice), "{\"index\":0,\"delta\":{\"content\":"
	    "\"%s\"},\"logprobs\":null,\"finish_reason\":null}",
	    c->text[0] != '\0' ? c->text : "pong");
	seg_add(b, t, OA_CHUNK, model, choice, un);
	if (err != NULL) {
		seg_add(b, t, "data: %s\n\n", err->body);
		return;
	}
	if (c->stream_cut)
		return;
	seg_add(b, t, OA_CHUNK, model, "{\"index\":0,\"delta\":{},"
	    "\"logprobs\":null,\"finish_reason\":\"length\"}", un);
	if (usage && !c->no_usage)
		seg_add(b, t, "data: {\"id\":\"chatcmpl-sim\",\"object\":"
		    "\"chat.completion.chunk\",\"created\":1718000000,"
		    "\"model\":\"%s\",\"system_fingerprint\":\"fp_sim\","
		    "\"choices\":[],\"usage\":{\"prompt_tokens\":%ld,"
		    "\"completion_tokens\":%ld,\"total_tokens\":%ld}}\n\n",
		    model, c->tokens_in ? c->tokens_in : 1,
		    c->tokens_out ? c->tokens_out : 1,
		    (c->tokens_in ? c->tokens_in : 1) +
		    (c->tokens_out ? c->tokens_out : 1));
	seg_add(b, t, "data: [DONE]\n\n");
}

/* Anthropic's Messages stream. */
static void
stream_anthropic(struct sb *b, const char *model,
    const struct sim_stream_conf *c)
{
	const struct sim_err_row *err = sim_err_row(c->stream_error);
	long t = c->keepalive_ms + c->first_token_ms;
	char u[96];

	if (c->no_usage)
		u[0] = '\0';
	else
		snprintf(u, sizeof(u), ",\"usage\":{\"input_tokens\":%ld,"
		    "\"output_tokens\":1}", c->tokens_in ? c->tokens_in : 1);
	seg_add(b, 0, "event: message_start\ndata: {\"type\":\"message_start\","
	    "\"message\":{\"id\":\"msg_sim\",\"type\":\"message\",\"role\":"
	    "\"assistant\",\"model\":\"%s\",\"content\":[],\"stop_reason\":"
	    "null,\"stop_sequence\":null%s}}\n\n"
	    "event: content_block_start\ndata: {\"type\":"
	    "\"content_block_start\",\"index\":0,\"content_block\":{\"type\":"
	    "\"text\",\"text\":\"\"}}\n\n"
	    "event: ping\ndata: {\"type\": \"ping\"}\n\n", model, u);
	keepalives(b, c, SIM_KIND_ANTHROPIC);
	if (err != NULL && c->stream_error_after == 0) {
		seg_add(b, t, "event: error\ndata: %s\n\n", err->body);
		return;
	}
	seg_add(b, t, "event: content_block_delta\ndata: {\"type\":"
	    "\"content_block_delta\",\"index\":0,\"delta\":{\"type\":"
	    "\"text_delta\",\"text\":\"%s\"}}\n\n",
	    c->text[0] != '\0' ? c->text : "pong");
	if (err != NULL) {
		seg_add(b, t, "event: error\ndata: %s\n\n", err->body);
		return;
	}
	if (c->stream_cut)
		return;
	if (c->no_usage)
		u[0] = '\0';
	else
		snprintf(u, sizeof(u), ",\"usage\":{\"output_tokens\":%ld}",
		    c->tokens_out ? c->tokens_out : 1);
	seg_add(b, t, "event: content_block_stop\ndata: {\"type\":"
	    "\"content_block_stop\",\"index\":0}\n\n"
	    "event: message_delta\ndata: {\"type\":\"message_delta\","
	    "\"delta\":{\"stop_reason\":\"max_tokens\",\"stop_sequence\":"
	    "null}%s}\n\n"
	    "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n", u);
}

/* Gemini's alt=sse stream. */
static void
stream_google(struct sb *b, const char *model,
    const struct sim_stream_conf *c)
{
	const struct sim_err_row *err = sim_err_row(c->stream_error);
	long t = c->keepalive_ms + c->first_token_ms;
	long in = c->tokens_in ? c->tokens_in : 1;
	long out = c->tokens_out ? c->tokens_out : 1;
	int last = err == NULL && !c->stream_cut;
	char u[160];

	keepalives(b, c, SIM_KIND_GOOGLE);
	if (err != NULL && c->stream_error_after == 0) {
		seg_add(b, t, "data: %s\r\n\r\n", err->body);
		return;
	}
	/* The prompt's count in every chunk, the answer's in the last. */
	if (c->no_usage)
		u[0] = '\0';
	else if (last)
		snprintf(u, sizeof(u), ",\"usageMetadata\":{"
		    "\"promptTokenCount\":%ld,\"candidatesTokenCount\":%ld,"
		    "\"totalTokenCount\":%ld}", in, out, in + out);
	else
		snprintf(u, sizeof(u), ",\"usageMetadata\":{"
		    "\"promptTokenCount\":%ld,\"totalTokenCount\":%ld}", in,
		    in);
	seg_add(b, t, "data: {\"candidates\":[{\"content\":{\"parts\":"
	    "[{\"text\":\"%s\"}],\"role\":\"model\"}%s,\"index\":0}]%s,"
	    "\"modelVersion\":\"%s\"}\r\n\r\n",
	    c->text[0] != '\0' ? c->text : "pong",
	    last ? ",\"finishReason\":\"MAX_TOKENS\"" : "", u, model);
	if (err != NULL)
		seg_add(b, t, "data: %s\r\n\r\n", err->body);
}

/*
 * The streamed answer of kind to a generation request for model (usage:
 * the request asked for the usage), under c, into r (200, SSE, timed
 * pieces).  Returns 0, or -1 when out of memory.
 */
int
sim_gen_stream(int kind, const char *model, int usage,
    const struct sim_stream_conf *c, struct sim_reply *r)
{
	struct sb b;

	free(r->body);
	r->body = NULL;
	r->len = 0;
	free(r->segs);
	r->segs = NULL;
	r->nsegs = 0;
	r->status = 200;
	r->ctype = "text/event-stream";
	memset(&b, 0, sizeof(b));
	b.r = r;
	if (kind == SIM_KIND_ANTHROPIC)
		stream_anthropic(&b, model, c);
	else if (kind == SIM_KIND_GOOGLE)
		stream_google(&b, model, c);
	else
		stream_openai(&b, model, usage, c);
	return b.fail ? -1 : 0;
}
