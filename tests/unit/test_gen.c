/*
 * test_gen.c - the prober's per-model parts: the catalogue verdict of
 * each configured model from each kind's models list, the generation
 * request of each model family (kinds.c), and the daily token budget
 * (models.c).
 */
#include <sys/stat.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>

#include <vigil/vigil.h>

#include "conf.h"
#include "settings.h"

#include "../../prober/kinds.h"
#include "../../prober/models.h"
#include "t.h"

#define NS(s)	((uint64_t)(s) * 1000000000)
#define DAY	BUDGET_DAY_NS

static int
listed(int kind, const char *body, const char *const *names, size_t n,
    uint8_t *out)
{
	char nm[8][VIGIL_MODEL_MAX];
	size_t i;

	memset(nm, 0, sizeof(nm));
	for (i = 0; i < n; i++)
		snprintf(nm[i], sizeof(nm[i]), "%s", names[i]);
	return models_listed(kind, body, body != NULL ? strlen(body) : 0,
	    (const char (*)[VIGIL_MODEL_MAX])nm, n, out);
}

static void
test_catalogue(void)
{
	static const char *const oa[] = { "gpt-4o-mini", "gpt-9", "o3" };
	static const char *const an[] = { "claude-sonnet-4-20250514",
	    "claude-3-5-haiku-latest", "claude-sonnet-4-0", "claude-sonnet-4",
	    "claude-3-opus-latest", "claude-sonnet" };
	static const char *const gg[] = { "gemini-2.0-flash",
	    "models/gemini-1.5-pro", "gemini-9" };
	static const char *const cu[] = { "o3", "gpt-9" };
	uint8_t v[8];

	T_CHECK(listed(VIGIL_KIND_OPENAI, "{\"object\":\"list\",\"data\":["
	    "{\"id\":\"gpt-4o-mini\",\"object\":\"model\"},{\"id\":\"o3\"},"
	    "{\"id\":7},{\"x\":1},\"gpt-9x\"]}", oa, 3, v) == 0);
	T_CHECK(v[0] == MODEL_LISTED && v[1] == MODEL_UNLISTED &&
	    v[2] == MODEL_LISTED);

	/* Anthropic lists dated ids; its aliases answer to them. */
	T_CHECK(listed(VIGIL_KIND_ANTHROPIC, "{\"data\":[{\"type\":\"model\","
	    "\"id\":\"claude-sonnet-4-20250514\"},{\"type\":\"model\",\"id\":"
	    "\"claude-3-5-haiku-20241022\"}],\"has_more\":false,"
	    "\"first_id\":\"a\",\"last_id\":\"b\"}", an, 6, v) == 0);
	T_CHECK(v[0] == MODEL_LISTED && v[1] == MODEL_LISTED &&
	    v[2] == MODEL_LISTED && v[3] == MODEL_LISTED);
	T_CHECK(v[4] == MODEL_UNLISTED && v[5] == MODEL_UNLISTED);
	/* a page of a longer list: what is not on it is unknown */
	T_CHECK(listed(VIGIL_KIND_ANTHROPIC, "{\"data\":[{\"id\":"
	    "\"claude-sonnet-4-20250514\"}],\"has_more\":true}", an, 2,
	    v) == 0);
	T_CHECK(v[0] == MODEL_LISTED && v[1] == MODEL_UNKNOWN);

	T_CHECK(listed(VIGIL_KIND_GOOGLE, "{\"models\":[{\"name\":"
	    "\"models/gemini-2.0-flash\"},{\"name\":"
	    "\"models/gemini-1.5-pro\"}],\"nextPageToken\":\"\"}", gg, 3,
	    v) == 0);
	T_CHECK(v[0] == MODEL_LISTED && v[1] == MODEL_LISTED &&
	    v[2] == MODEL_UNLISTED);
	T_CHECK(listed(VIGIL_KIND_GOOGLE, "{\"models\":[],\"nextPageToken\":"
	    "\"Cg4\"}", gg, 3, v) == 0);
	T_CHECK(v[0] == MODEL_UNKNOWN && v[2] == MODEL_UNKNOWN);

	T_CHECK(listed(VIGIL_KIND_CURSOR, "{\"models\":[\"o3\","
	    "\"claude-4-sonnet\"]}", cu, 2, v) == 0);
	T_CHECK(v[0] == MODEL_LISTED && v[1] == MODEL_UNLISTED);

	/* not the kind's list: no verdict at all */
	memset(v, 9, sizeof(v));
	T_CHECK(listed(VIGIL_KIND_OPENAI, "{\"models\":[]}", oa, 3, v) == -1);
	T_CHECK(listed(VIGIL_KIND_OPENAI, "[{\"id\":\"o3\"}]", oa, 3, v) ==
	    -1);
	T_CHECK(listed(VIGIL_KIND_OPENAI, "<html>", oa, 3, v) == -1);
	T_CHECK(listed(VIGIL_KIND_HTTP, "{\"data\":[]}", oa, 3, v) == -1);
	T_CHECK(listed(VIGIL_KIND_OPENAI, NULL, oa, 3, v) == -1);
	T_CHECK(v[0] == 9);
	T_CHECK(strcmp(models_list_query(VIGIL_KIND_ANTHROPIC),
	    "?limit=1000") == 0);
	T_CHECK(strcmp(models_list_query(VIGIL_KIND_GOOGLE),
	    "?pageSize=1000") == 0);
	T_CHECK(strcmp(models_list_query(VIGIL_KIND_OPENAI), "") == 0);
}

/* A body's member, parsed back. */
static double
num_at(const char *body, const char *a, const char *b)
{
	cJSON *o = cJSON_Parse(body), *v;
	double d = -1;

	v = cJSON_GetObjectItemCaseSensitive(o, a);
	if (b != NULL)
		v = cJSON_GetObjectItemCaseSensitive(v, b);
	if (cJSON_IsNumber(v))
		d = v->valuedouble;
	else if (cJSON_IsBool(v))
		d = cJSON_IsTrue(v);
	cJSON_Delete(o);
	return d;
}

static void
test_families(void)
{
	char buf[KIND_GENBODY_MAX];

	T_CHECK(kind_gen_reasoning(VIGIL_KIND_OPENAI, "o3-mini"));
	T_CHECK(kind_gen_reasoning(VIGIL_KIND_OPENAI, "o1"));
	T_CHECK(kind_gen_reasoning(VIGIL_KIND_OPENAI, "o4-mini-2025-04-16"));
	T_CHECK(kind_gen_reasoning(VIGIL_KIND_OPENAI, "gpt-5-mini"));
	T_CHECK(kind_gen_reasoning(VIGIL_KIND_OPENAI, "openai/o3"));
	T_CHECK(!kind_gen_reasoning(VIGIL_KIND_OPENAI, "gpt-4o-mini"));
	T_CHECK(!kind_gen_reasoning(VIGIL_KIND_OPENAI, "omni-moderation"));
	T_CHECK(!kind_gen_reasoning(VIGIL_KIND_ANTHROPIC, "o3"));
	T_CHECK(kind_gen_reasoning(VIGIL_KIND_GOOGLE, "gemini-2.5-pro"));
	T_CHECK(kind_gen_reasoning(VIGIL_KIND_GOOGLE, "models/gemini-3-pro"));
	T_CHECK(!kind_gen_reasoning(VIGIL_KIND_GOOGLE, "gemini-2.0-flash"));

	/* OpenAI: max_tokens 1, or max_completion_tokens for reasoning */
	T_CHECK(kind_gen_body(VIGIL_KIND_OPENAI, "gpt-4o-mini", NULL, NULL,
	    buf, sizeof(buf)) == 0);
	T_CHECK(num_at(buf, "max_tokens", NULL) == 1 &&
	    num_at(buf, "max_completion_tokens", NULL) == -1);
	T_CHECK(num_at(buf, "stream_options", "include_usage") == 1);
	T_CHECK(strstr(buf, "\"content\":\"ping\"") != NULL);
	T_CHECK(kind_gen_body(VIGIL_KIND_OPENAI, "o3-mini", NULL, NULL, buf,
	    sizeof(buf)) == 0);
	T_CHECK(num_at(buf, "max_completion_tokens", NULL) ==
	    KIND_GEN_REASONING_TOKENS && num_at(buf, "max_tokens", NULL) == -1);
	/* Anthropic: max_tokens 1, no stream_options */
	T_CHECK(kind_gen_body(VIGIL_KIND_ANTHROPIC, "claude-sonnet-4-0",
	    "Say \"OK\"\n", NULL, buf, sizeof(buf)) == 0);
	T_CHECK(num_at(buf, "max_tokens", NULL) == 1 &&
	    num_at(buf, "stream", NULL) == 1 &&
	    strstr(buf, "stream_options") == NULL);
	T_CHECK(strstr(buf, "\"content\":\"Say \\\"OK\\\"\\n\"") != NULL);
	/* Gemini: maxOutputTokens, the model in the URL */
	T_CHECK(kind_gen_body(VIGIL_KIND_GOOGLE, "gemini-2.0-flash", NULL,
	    NULL, buf, sizeof(buf)) == 0);
	T_CHECK(num_at(buf, "generationConfig", "maxOutputTokens") == 1);
	T_CHECK(strstr(buf, "gemini") == NULL);
	T_CHECK(kind_gen_body(VIGIL_KIND_GOOGLE, "gemini-2.5-pro", NULL,
	    NULL, buf, sizeof(buf)) == 0);
	T_CHECK(num_at(buf, "generationConfig", "maxOutputTokens") ==
	    KIND_GEN_REASONING_TOKENS);
	T_CHECK(kind_gen_body(VIGIL_KIND_CURSOR, "o3", NULL, NULL, buf,
	    sizeof(buf)) == -1);
	T_CHECK(kind_gen_body(VIGIL_KIND_OPENAI, "gpt-4o", NULL, NULL, buf,
	    20) == -1);
}

/* gen_body: the operator's body, the model and stream set per check. */
static void
test_gen_body(void)
{
	char buf[KIND_GENBODY_MAX];
	cJSON *o;

	T_CHECK(kind_gen_body(VIGIL_KIND_OPENAI, "gpt-4o-mini", "x",
	    "{\"model\":\"other\",\"stream\":false,\"messages\":[{\"role\":"
	    "\"user\",\"content\":\"2+2=\"}],\"max_tokens\":3,"
	    "\"temperature\":0}", buf, sizeof(buf)) == 0);
	o = cJSON_Parse(buf);
	T_CHECK(strcmp(cJSON_GetObjectItem(o, "model")->valuestring,
	    "gpt-4o-mini") == 0);
	T_CHECK(cJSON_IsTrue(cJSON_GetObjectItem(o, "stream")));
	T_CHECK(num_at(buf, "max_tokens", NULL) == 3 &&
	    num_at(buf, "temperature", NULL) == 0);
	T_CHECK(num_at(buf, "stream_options", "include_usage") == 1);
	T_CHECK(strstr(buf, "2+2=") != NULL && strstr(buf, "\"x\"") == NULL);
	cJSON_Delete(o);
	/* the operator's stream_options stay */
	T_CHECK(kind_gen_body(VIGIL_KIND_DEEPSEEK, "deepseek-chat", NULL,
	    "{\"stream_options\":{\"include_usage\":false}}", buf,
	    sizeof(buf)) == 0);
	T_CHECK(num_at(buf, "stream_options", "include_usage") == 0);
	/* Anthropic: model and stream, nothing else added */
	T_CHECK(kind_gen_body(VIGIL_KIND_ANTHROPIC, "claude-3-5-haiku-latest",
	    NULL, "{\"max_tokens\":2}", buf, sizeof(buf)) == 0);
	T_CHECK(strstr(buf, "stream_options") == NULL &&
	    strstr(buf, "claude-3-5-haiku-latest") != NULL);
	/* Gemini: as it is */
	T_CHECK(kind_gen_body(VIGIL_KIND_GOOGLE, "gemini-2.0-flash", NULL,
	    "{\"contents\":[]}", buf, sizeof(buf)) == 0 &&
	    strcmp(buf, "{\"contents\":[]}") == 0);
	T_CHECK(kind_gen_body(VIGIL_KIND_OPENAI, "m", NULL, "[1]", buf,
	    sizeof(buf)) == -1);
	T_CHECK(kind_gen_body(VIGIL_KIND_OPENAI, "m", NULL, "{", buf,
	    sizeof(buf)) == -1);
}

/* gen_budget 50, 20 tokens a check: two checks, then the next day. */
static void
test_budget(void)
{
	struct budget b;
	uint64_t t0 = 20000 * DAY + NS(3600);

	budget_init(&b, 50);
	T_CHECK(budget_allows(&b, t0));
	budget_add(&b, t0, 20);
	T_CHECK(budget_allows(&b, t0 + NS(60)));
	budget_add(&b, t0 + NS(60), 20);
	T_CHECK(b.used == 40 && !b.spent);
	T_CHECK(!budget_allows(&b, t0 + NS(120)) && b.spent);
	T_CHECK(!budget_allows(&b, 20001 * DAY - 1));
	/* 00:00 UTC: a new day, a new count */
	T_CHECK(budget_wait_ms(t0 + NS(120)) == (DAY - NS(3720)) / 1000000);
	T_CHECK(budget_wait_ms(20001 * DAY - 1) == 1);
	T_CHECK(budget_allows(&b, 20001 * DAY) && !b.spent && b.used == 0);

	/* before any usage: 1 token is the estimate */
	budget_init(&b, 1);
	T_CHECK(budget_allows(&b, t0));
	budget_add(&b, t0, 0);
	T_CHECK(budget_allows(&b, t0));
	budget_add(&b, t0, 1);
	T_CHECK(!budget_allows(&b, t0));

	/* a bigger check than the whole budget never runs again today */
	budget_init(&b, 10);
	budget_add(&b, t0, 11);
	T_CHECK(!budget_allows(&b, t0));

	/* resumed from the segment after a restart; then never lower */
	budget_init(&b, 50);
	budget_resume(&b, 20000, 40);
	T_CHECK(b.used == 40 && budget_allows(&b, t0));
	budget_add(&b, t0, 5);
	budget_resume(&b, 20000, 41);
	T_CHECK(b.used == 45);
	budget_resume(&b, 19999, 1000);		/* yesterday's: ignored */
	T_CHECK(b.used == 45 && b.day == 20000);
	budget_resume(&b, 20000, 60);		/* we lost some: theirs */
	T_CHECK(b.used == 60 && !budget_allows(&b, t0));
	/* a count from a day that is over is not today's */
	budget_init(&b, 50);
	budget_resume(&b, 19999, 50);
	T_CHECK(budget_allows(&b, t0) && b.used == 0);
	/* overflow-proof */
	budget_init(&b, UINT64_MAX);
	budget_add(&b, t0, UINT64_MAX);
	budget_add(&b, t0, UINT64_MAX);
	T_CHECK(b.used == UINT64_MAX && !budget_allows(&b, t0));
}

static void
put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0) {
		perror(path);
		exit(2);
	}
}

/* gen_body, gen_prompt, gen_expect as vigil.conf takes them. */
static void
test_conf_keys(void)
{
	char dir[] = "/tmp/test_gen.XXXXXX", path[256], conf[256];
	char text[1024], err[CONF_ERR_MAX], buf[SETTINGS_GEN_BODY_MAX + 1];
	char big[SETTINGS_GEN_BODY_MAX + 16];
	static const struct {
		const char *body, *extra, *want;	/* want: NULL ok */
	} tab[] = {
		{ "{\"max_tokens\":2}", "", NULL },
		{ "[1]", "", "gen_body: \"" },
		{ "{", "", "not a JSON object" },
		{ "{}", "gen_expect = ^(pong\n", "gen_expect" },
		{ "{}", "gen_expect = ^[Pp]ong$\ngen_prompt = Say pong", NULL },
		{ "{}", "gen_prompt = a\x01b", "gen_prompt" },
	};
	struct conf c;
	size_t i;

	if (mkdtemp(dir) == NULL) {
		T_CHECK(0);
		return;
	}
	snprintf(path, sizeof(path), "%s/body.json", dir);
	snprintf(conf, sizeof(conf), "%s/vigil.conf", dir);
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		put(path, tab[i].body);
		snprintf(text, sizeof(text), "[vigil]\n[provider \"p\"]\n"
		    "kind = openai\nbase_url = http://127.0.0.1:9\n"
		    "gen_body = %s\n%s\n", path, tab[i].extra);
		put(conf, text);
		if (tab[i].want == NULL) {
			T_CHECKF(conf_load(&c, conf, err, sizeof(err)) == 0,
			    "row %zu: %s", i, err);
			conf_free(&c);
		} else
			T_CHECKF(conf_load(&c, conf, err, sizeof(err)) == -1 &&
			    strstr(err, tab[i].want) != NULL, "row %zu: %s", i,
			    err);
	}
	put(path, " {\"a\": [1, 2]}\n");
	T_CHECK(settings_gen_body_read(path, buf, sizeof(buf), err,
	    sizeof(err)) == 0 && strcmp(buf, " {\"a\": [1, 2]}\n") == 0);
	memset(big, ' ', sizeof(big) - 1);
	big[0] = '{';
	big[sizeof(big) - 2] = '}';
	big[sizeof(big) - 1] = '\0';
	put(path, big);
	T_CHECK(settings_gen_body_read(path, buf, sizeof(buf), err,
	    sizeof(err)) == -1 && strstr(err, "longer") != NULL);
	T_CHECK(settings_gen_body_read(dir, buf, sizeof(buf), err,
	    sizeof(err)) == -1 && strstr(err, "regular") != NULL);
	unlink(path);
	T_CHECK(settings_gen_body_read(path, buf, sizeof(buf), err,
	    sizeof(err)) == -1 && strstr(err, "cannot open") != NULL);
	unlink(conf);
	rmdir(dir);
}

int
main(void)
{
	T_RUN(test_catalogue);
	T_RUN(test_families);
	T_RUN(test_gen_body);
	T_RUN(test_budget);
	T_RUN(test_conf_keys);
	return t_done();
}
