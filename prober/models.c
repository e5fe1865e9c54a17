/*
 * models.c - the catalogue verdict of each configured model, and the
 * generation checks' daily token budget.
 *
 * The catalogue: after a models-list check that succeeded, is each of
 * the provider's `models` in the list?  Each kind lists its own way:
 * OpenAI and its compatible modes (DeepSeek, Qwen) `data[].id`, all of
 * it at once; Anthropic `data[].id`, a page of `limit` models with
 * has_more, dated ids only (the alias claude-3-5-haiku-latest is not
 * listed, claude-3-5-haiku-20241022 is); Gemini `models[].name` as
 * "models/ID", a page of pageSize with nextPageToken; Cursor `models[]`,
 * names.  The prober asks for the longest page each kind allows
 * (models_list_query); a model missing from a page that is not the last
 * is unknown, never reported missing.
 */
#include <ctype.h>
#include <string.h>

#include <cJSON.h>

#include <vigil/vigil.h>

#include "models.h"

static const char *item_id(int, const cJSON *);
static int	same_model(int, const char *, const char *);
static int	dated_alias(const char *, const char *);

/*
 * The query that asks kind's models list for one page with every model
 * it can hold ("" when the list is not paged): Anthropic's limit and
 * Gemini's pageSize go up to 1000.
 */
const char *
models_list_query(int kind)
{
	switch (kind) {
	case VIGIL_KIND_ANTHROPIC:
		return "?limit=1000";
	case VIGIL_KIND_GOOGLE:
		return "?pageSize=1000";
	default:
		return "";
	}
}

/* A list item's model id, by kind; NULL when it has none. */
static const char *
item_id(int kind, const cJSON *it)
{
	const cJSON *v;

	if (cJSON_IsString(it))
		return it->valuestring;		/* Cursor: names */
	v = cJSON_GetObjectItemCaseSensitive(it, kind == VIGIL_KIND_GOOGLE ?
	    "name" : "id");
	if (!cJSON_IsString(v) && kind == VIGIL_KIND_CURSOR)
		v = cJSON_GetObjectItemCaseSensitive(it, "name");
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/*
 * Anthropic lists dated ids: BASE-YYYYMMDD answers to BASE, BASE-latest
 * and BASE-0 (claude-sonnet-4-0 is claude-sonnet-4-20250514), its
 * documented aliases.
 */
static int
dated_alias(const char *id, const char *name)
{
	size_t n = strlen(id), b, i;

	if (n < 10 || id[n - 9] != '-')
		return 0;
	for (i = n - 8; i < n; i++)
		if (!isdigit((unsigned char)id[i]))
			return 0;
	b = n - 9;
	if (strncmp(id, name, b) != 0)
		return 0;
	return name[b] == '\0' || strcmp(name + b, "-latest") == 0 ||
	    strcmp(name + b, "-0") == 0;
}

/* Is the listed id the configured model name? */
static int
same_model(int kind, const char *id, const char *name)
{
	if (kind == VIGIL_KIND_GOOGLE) {
		if (strncmp(id, "models/", 7) == 0)
			id += 7;
		if (strncmp(name, "models/", 7) == 0)
			name += 7;
	}
	if (strcmp(id, name) == 0)
		return 1;
	return kind == VIGIL_KIND_ANTHROPIC && dated_alias(id, name);
}

/*
 * Read kind's models list body[0..len) and give each of the n models
 * names[] its verdict in listed[]: MODEL_LISTED, MODEL_UNLISTED (the
 * list is whole and it is not there) or MODEL_UNKNOWN (a page of a
 * longer list, and not on it).  Returns 0, or -1 when the body is not
 * the kind's list (listed[] untouched): the check's own validator has
 * the say on that.  O(list x n); cJSON bounds the nesting.
 */
int
models_listed(int kind, const char *body, size_t len,
    const char (*names)[VIGIL_MODEL_MAX], size_t n, uint8_t *listed)
{
	const cJSON *arr, *it, *more;
	const char *id;
	cJSON *root;
	int whole;
	size_t m;

	if (body == NULL || len == 0 || kind == VIGIL_KIND_HTTP ||
	    (root = cJSON_ParseWithLength(body, len)) == NULL)
		return -1;
	arr = !cJSON_IsObject(root) ? NULL :
	    cJSON_GetObjectItemCaseSensitive(root, kind == VIGIL_KIND_GOOGLE ||
	    kind == VIGIL_KIND_CURSOR ? "models" : "data");
	if (!cJSON_IsArray(arr)) {
		cJSON_Delete(root);
		return -1;
	}
	if (kind == VIGIL_KIND_GOOGLE) {
		more = cJSON_GetObjectItemCaseSensitive(root, "nextPageToken");
		whole = !cJSON_IsString(more) || more->valuestring[0] == '\0';
	} else
		whole = !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root,
		    "has_more"));
	for (m = 0; m < n; m++)
		listed[m] = whole ? MODEL_UNLISTED : MODEL_UNKNOWN;
	cJSON_ArrayForEach(it, arr) {
		if ((id = item_id(kind, it)) == NULL)
			continue;
		for (m = 0; m < n; m++)
			if (same_model(kind, id, names[m]))
				listed[m] = MODEL_LISTED;
	}
	cJSON_Delete(root);
	return 0;
}

void
budget_init(struct budget *b, uint64_t limit)
{
	memset(b, 0, sizeof(*b));
	b->limit = limit;
}

/*
 * What the segment says was used on day (the aggregator's count of our
 * samples, stats.probe_tokens_today): after a restart ours starts from
 * it; otherwise ours is at least as high, the aggregator's lagging.
 */
void
budget_resume(struct budget *b, uint64_t day, uint64_t used)
{
	if (day > b->day) {
		b->day = day;
		b->used = used;
		b->spent = 0;
	} else if (day == b->day && used > b->used)
		b->used = used;
}

/*
 * May a generation check start at wall_ns?  A new UTC day starts the
 * count again.  The next check is expected to cost what the last one
 * did (1 token before any reported usage): it may run when that still
 * fits.  Sets spent when it does not.
 */
int
budget_allows(struct budget *b, uint64_t wall_ns)
{
	uint64_t day = wall_ns / BUDGET_DAY_NS, est;

	if (day > b->day) {
		b->day = day;
		b->used = 0;
		b->spent = 0;
	}
	est = b->last > 0 ? b->last : 1;
	if (b->limit > 0 && est <= b->limit && b->used <= b->limit - est)
		return 1;
	b->spent = 1;
	return 0;
}

/* A check that started at wall_ns used tokens (in + out). */
void
budget_add(struct budget *b, uint64_t wall_ns, uint64_t tokens)
{
	uint64_t day = wall_ns / BUDGET_DAY_NS;

	if (day > b->day) {
		b->day = day;
		b->used = 0;
		b->spent = 0;
	}
	if (day == b->day)
		b->used = tokens > UINT64_MAX - b->used ? UINT64_MAX :
		    b->used + tokens;
	if (tokens > 0)
		b->last = tokens > UINT32_MAX ? UINT32_MAX : (uint32_t)tokens;
}

/* Milliseconds from wall_ns to the next 00:00 UTC (at least 1). */
uint32_t
budget_wait_ms(uint64_t wall_ns)
{
	uint64_t next = (wall_ns / BUDGET_DAY_NS + 1) * BUDGET_DAY_NS;

	return (uint32_t)((next - wall_ns + 999999) / 1000000);
}
