/*
 * test_api_metrics.c - GET /metrics (api/metrics.c) over a real segment.
 *
 * A segment is created under a unique shm name with three providers in
 * its directory (one named with a quote and a backslash, one of a kind
 * out of range), read through the public reader as vigil-api does, and
 * rendered.  The layout of issue 9: kind only on vigil_provider_info,
 * one per provider with its kind; every other per-provider series has
 * provider= and its own label only; the window summary has quantiles
 * and no _sum/_count.  The router's series: vigil_provider_usable through
 * the read model (a throttled provider turns usable at usable_at),
 * vigil_provider_needs_human, and the rate-limit families for the
 * resources reported only.  The models (issue 17): each per-model
 * family with provider= and model= (escaped), the status of a model
 * never judged, listed left out while unknown, the day's probe tokens
 * and the budget, and no model series for a provider without models.
 * Also: 404 when Prometheus is off.
 */
#include <sys/mman.h>

#include <stdlib.h>

#include <event2/buffer.h>

#include "t.h"
#include "../../api/api.h"
#include "ring.h"
#include "segment.h"

struct fix {
	char name[64];
	struct segment seg;
	struct api_ctx ctx;
};

static void	add_provider(struct fix *, uint32_t, const char *, unsigned);
static void	add_stats(struct fix *, uint32_t, unsigned);
static void	add_models(struct fix *, uint32_t, uint64_t, const char *,
		    const char *);
static void	add_mstats(struct fix *, uint32_t, uint32_t, unsigned);
static char	*golden_read(const char *);
static size_t	count_lines(const char *, const char *);
static void	fix_close(struct fix *);
static void	fix_open(struct fix *, int);
static char	*render(struct fix *, struct api_result *);

static void
fix_open(struct fix *f, int n)
{
	struct seg_caps caps = { 4, 64, 64, 64, 0 };
	char err[256];

	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "/vigil-test-api-metrics-%d-%d",
	    (int)getpid(), n);
	T_CHECKF(seg_create(&f->seg, f->name, &caps, 0600, err,
	    sizeof(err)) == 0, "%s", err);
	T_CHECKF(vigil_open(&f->ctx.vc, f->name) == VIGIL_OK, "%s",
	    f->ctx.vc.err);
	f->ctx.snap = calloc(vigil_capacity(&f->ctx.vc), sizeof(*f->ctx.snap));
	T_CHECK(f->ctx.snap != NULL);
	f->ctx.prometheus = 1;
}

static void
fix_close(struct fix *f)
{
	free(f->ctx.snap);
	vigil_close(&f->ctx.vc);
	seg_close(&f->seg);
	shm_unlink(f->name);
}

/* What the supervisor does: fill a directory slot, bump the gen. */
static void
add_provider(struct fix *f, uint32_t idx, const char *name, unsigned kind)
{
	struct vigil_provider_info pi;

	memset(&pi, 0, sizeof(pi));
	snprintf(pi.name, sizeof(pi.name), "%s", name);
	snprintf(pi.host, sizeof(pi.host), "p%u.example", idx);
	pi.added_wall_ns = 1000 + idx;
	pi.interval_ms = 1000;
	pi.timeout_ms = 500;
	pi.kind = (uint8_t)kind;
	pi.flags = VIGIL_PF_IN_USE | VIGIL_PF_ENABLED;
	seqlock_write(seg_dir_slot(&f->seg, idx), &pi,
	    VIGIL_WORDS(struct vigil_provider_info));
	atomic_fetch_add(&f->seg.hdr->dir_gen, 1);
}

/*
 * What the aggregator does: a stats block whose every field the
 * exposition reads has a distinct value (seed spreads them apart), so
 * that a family reading the wrong field or window shows in the text.
 */
static void
add_stats(struct fix *f, uint32_t idx, unsigned seed)
{
	struct vigil_stats st;
	unsigned j, k;

	memset(&st, 0, sizeof(st));
	st.updated_wall_ns = 2000 + seed;
	st.samples_lost = 7 * seed;
	for (k = 0; k < VIGIL_OUT_COUNT; k++)
		st.checks_total[k] = 100 * seed + k;
	for (k = 0; k < VIGIL_PROM_BUCKETS; k++)
		st.lat_bucket[k] = seed + 3 * k;
	st.lat_sum_s = 12.345678 * seed;
	st.alerts_total = 11 * seed;
	st.uptime_total = 0.9 + seed / 1000.0;
	for (j = 0; j < VIGIL_NWINDOWS; j++) {
		st.win[j].samples = 60 * (j + 1) + seed;
		st.win[j].error_rate = 0.01 * (j + 1) + seed / 1e6;
		st.win[j].uptime = 1 - st.win[j].error_rate;
		st.win[j].p50_ms = 100.5 * (j + 1) + seed;
		st.win[j].p95_ms = 200.25 * (j + 1) + seed;
		st.win[j].p99_ms = 300.125 * (j + 1) + seed;
	}
	st.consecutive_failures = 2 * seed;
	st.circuit_opens = 5 * seed;
	st.route_rank = seed == 2 ? UINT32_MAX : seed;
	st.status = (uint8_t)(seed % VIGIL_ST_COUNT);
	st.circuit = (uint8_t)(seed % 3);
	st.usable = (uint8_t)(seed == 1);
	st.needs_human = (uint8_t)(seed == 2);
	st.reason = (uint8_t)(seed % VIGIL_RS_COUNT);
	/* Resets long past (0 s to go) or not reported: the golden text
	 * does not depend on the clock. */
	if (seed == 2) {
		st.ratelimit[VIGIL_RL_REQUESTS].limit = 60;
		st.ratelimit[VIGIL_RL_REQUESTS].remaining = 0;
		st.ratelimit[VIGIL_RL_REQUESTS].reset_wall_ns = 5000;
		st.ratelimit[VIGIL_RL_OUTPUT_TOKENS].limit = 8000;
		st.ratelimit[VIGIL_RL_OUTPUT_TOKENS].remaining = 7990;
	}
	seqlock_write(seg_stats(&f->seg, idx), &st,
	    VIGIL_WORDS(struct vigil_stats));
}

/* What vigild does: provider idx's model block, up to two names (NULL:
 * fewer) and the budget. */
static void
add_models(struct fix *f, uint32_t idx, uint64_t budget, const char *m0,
    const char *m1)
{
	struct vigil_models vm;

	memset(&vm, 0, sizeof(vm));
	vm.head.token_budget = budget;
	vm.head.generation = 1;
	if (m0 != NULL)
		snprintf(vm.names[vm.head.count++].name, VIGIL_MODEL_MAX, "%s",
		    m0);
	if (m1 != NULL)
		snprintf(vm.names[vm.head.count++].name, VIGIL_MODEL_MAX, "%s",
		    m1);
	seqlock_write(seg_models(&f->seg, idx), &vm,
	    seg_models_words(&f->seg));
}

/* What the aggregator does: model m's stats, every field distinct. */
static void
add_mstats(struct fix *f, uint32_t idx, uint32_t m, unsigned seed)
{
	struct vigil_model_stats ms;
	unsigned j;

	memset(&ms, 0, sizeof(ms));
	ms.updated_wall_ns = 3000 + seed;
	ms.last_wall_ns = 2900 + seed;
	ms.checks_total = 40 + seed;
	ms.tokens_in_total = 1000 * seed;
	ms.tokens_out_total = 10 * seed + 1;
	for (j = 0; j < VIGIL_NWINDOWS; j++) {
		ms.win[j].samples = 10 * (j + 1) + seed;
		ms.win[j].ok = ms.win[j].samples - 1;
		ms.win[j].error_rate = 0.02 * (j + 1) + seed / 1e6;
		ms.win[j].ttft_p50_ms = 150.5 * (j + 1) + seed;
		ms.win[j].ttft_p95_ms = 250.25 * (j + 1) + seed;
		ms.win[j].ttft_p99_ms = 350.125 * (j + 1) + seed;
		ms.win[j].tokens_per_s = 30.5 * (j + 1) + seed;
	}
	ms.status = (uint8_t)(seed % 2 ? VIGIL_ST_HEALTHY :
	    VIGIL_ST_DEGRADED);
	ms.reason = (uint8_t)(seed % 2 ? VIGIL_RS_NONE : VIGIL_RS_SLOW);
	ms.usable = 1;
	ms.listed = (uint8_t)(seed % 3);
	seqlock_write(seg_model_stats(&f->seg, idx, m), &ms,
	    VIGIL_WORDS(struct vigil_model_stats));
}

/* The whole file at path, NUL-terminated (caller frees), or NULL. */
static char *
golden_read(const char *path)
{
	FILE *fp;
	char *s;
	long len;

	if ((fp = fopen(path, "r")) == NULL)
		return NULL;
	if (fseek(fp, 0, SEEK_END) == -1 || (len = ftell(fp)) < 0 ||
	    fseek(fp, 0, SEEK_SET) == -1 ||
	    (s = malloc((size_t)len + 1)) == NULL) {
		fclose(fp);
		return NULL;
	}
	if (fread(s, 1, (size_t)len, fp) != (size_t)len) {
		free(s);
		fclose(fp);
		return NULL;
	}
	s[len] = '\0';
	fclose(fp);
	return s;
}

/* The exposition as a NUL-terminated string (caller frees). */
static char *
render(struct fix *f, struct api_result *r)
{
	struct evbuffer *eb = evbuffer_new();
	size_t len;
	char *s;

	memset(r, 0, sizeof(*r));
	api_view_metrics(&f->ctx, eb, r);
	len = evbuffer_get_length(eb);
	if ((s = malloc(len + 1)) == NULL)
		abort();
	evbuffer_remove(eb, s, len);
	s[len] = '\0';
	evbuffer_free(eb);
	return s;
}

/* Lines of text that contain needle. */
static size_t
count_lines(const char *text, const char *needle)
{
	const char *p = text, *nl;
	size_t n = 0, len = strlen(needle);
	char line[512];

	for (; *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			break;
		if ((size_t)(nl - p) < sizeof(line)) {
			memcpy(line, p, (size_t)(nl - p));
			line[nl - p] = '\0';
			if (len == 0 || strstr(line, needle) != NULL)
				n++;
		}
	}
	return n;
}

static void
test_layout(void)
{
	/* Every per-provider series but the info one: see api/metrics.c.
	 * No models, no budget: vigil_probe_tokens_today only. */
	const size_t per_provider = 1 + 1 + 1 + 1 + VIGIL_ST_COUNT + 1 + 1 +
	    1 + 3 * VIGIL_NWINDOWS + 3 * VIGIL_NWINDOWS + 1 +
	    (VIGIL_PROM_BUCKETS + 2) + VIGIL_OUT_COUNT + 4 + 1 + 1 +
	    4 * VIGIL_SRC_COUNT +	/* vigil_source_*: a series a source */
	    1 +				/* vigil_probes_skipped_total */
	    1;				/* vigil_hedge_after_seconds */
	struct api_result r;
	struct fix f;
	const char *p, *nl;
	char *txt, line[512];
	size_t bad = 0;

	fix_open(&f, 0);
	add_provider(&f, 0, "alpha", VIGIL_KIND_OPENAI);
	add_provider(&f, 1, "q\"uo\\te", VIGIL_KIND_ANTHROPIC);
	add_provider(&f, 3, "gamma", 250);
	txt = render(&f, &r);
	T_CHECK(r.code == 200);
	T_CHECK(strncmp(r.ctype, "text/plain; version=0.0.4", 25) == 0);

	/* One info series per provider, the directory's kind, escaped. */
	T_CHECK(count_lines(txt, "vigil_provider_info{") == 3);
	T_CHECK(strstr(txt, "\nvigil_provider_info{provider=\"alpha\","
	    "kind=\"openai\"} 1\n") != NULL);
	T_CHECK(strstr(txt, "\nvigil_provider_info{provider=\"q\\\"uo\\\\te\","
	    "kind=\"anthropic\"} 1\n") != NULL);
	T_CHECK(strstr(txt, "\nvigil_provider_info{provider=\"gamma\","
	    "kind=\"invalid\"} 1\n") != NULL);
	T_CHECK(strstr(txt, "# TYPE vigil_provider_info gauge\n") != NULL);
	T_CHECK(strstr(txt, "group_left(kind)") != NULL);

	/* kind nowhere else; every provider's series, by provider= only. */
	T_CHECK(count_lines(txt, "kind=") == 3);
	T_CHECKF(count_lines(txt, "{provider=\"alpha\"") == per_provider,
	    "%zu", count_lines(txt, "{provider=\"alpha\""));
	T_CHECK(count_lines(txt, "{provider=\"q\\\"uo\\\\te\"") ==
	    per_provider);
	T_CHECK(count_lines(txt, "{provider=\"gamma\"") == per_provider);
	T_CHECK(strstr(txt, "vigil_provider_up{provider=\"alpha\"} ") !=
	    NULL);
	T_CHECK(strstr(txt, "vigil_checks_total{provider=\"gamma\","
	    "outcome=\"ok\"} 0\n") != NULL);

	/* The window summary: nine quantiles each, no _sum or _count. */
	T_CHECK(strstr(txt, "# TYPE vigil_latency_seconds summary\n") != NULL);
	T_CHECK(count_lines(txt, "vigil_latency_seconds{") ==
	    3 * 3 * VIGIL_NWINDOWS);
	T_CHECK(strstr(txt, "vigil_latency_seconds{provider=\"alpha\","
	    "window=\"15m\",quantile=\"0.99\"} 0\n") != NULL);
	T_CHECK(strstr(txt, "vigil_latency_seconds_sum") == NULL);
	T_CHECK(strstr(txt, "vigil_latency_seconds_count") == NULL);
	T_CHECK(count_lines(txt, "vigil_check_duration_seconds_count{") == 3);
	/* No models: their families are there, empty. */
	T_CHECK(strstr(txt, "# TYPE vigil_model_ttft_seconds summary\n") !=
	    NULL);
	T_CHECK(count_lines(txt, "model=") == 0);
	T_CHECK(count_lines(txt, "vigil_probe_token_budget{") == 0);

	/* Each sample line: NAME{...} VALUE, its labels closed. */
	for (p = txt; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		if (*p == '#' || (size_t)(nl - p) >= sizeof(line))
			continue;
		memcpy(line, p, (size_t)(nl - p));
		line[nl - p] = '\0';
		if (strchr(line, '{') != NULL && strstr(line, "} ") == NULL)
			bad++;
	}
	T_CHECK(bad == 0);
	free(txt);
	fix_close(&f);
}

/*
 * The whole exposition of a fixed snapshot, byte for byte, against
 * tests/unit/metrics.golden (rendered by the code before api/metrics.c
 * was rewritten without its macros).  The build's version stands there
 * as @VERSION@.  VIGIL_GOLDEN_UPDATE=1 rewrites the file instead: only
 * when a change to the exposition is meant.
 */
static void
test_golden(void)
{
	const char *path = "tests/unit/metrics.golden";
	const char *ver = "version=\"" VIGIL_VERSION "\"";
	struct api_result r;
	struct fix f;
	char *txt, *want, *v, *t2;
	FILE *fp;
	size_t i, n;

	fix_open(&f, 2);
	add_provider(&f, 0, "alpha", VIGIL_KIND_OPENAI);
	add_provider(&f, 1, "q\"uo\\te", VIGIL_KIND_ANTHROPIC);
	add_provider(&f, 3, "gamma", 250);
	add_stats(&f, 0, 1);
	add_stats(&f, 1, 2);
	add_stats(&f, 3, 3);
	/* Models: two of alpha's (one named with a quote), one of gamma's;
	 * the quoted provider has none, and no budget. */
	add_models(&f, 0, 20000, "gpt-4o", "m\"x\\y");
	add_mstats(&f, 0, 0, 1);
	add_mstats(&f, 0, 1, 2);
	add_models(&f, 3, 50, "deepseek-chat", NULL);
	add_mstats(&f, 3, 0, 3);
	txt = render(&f, &r);
	T_CHECK(r.code == 200);
	/* The version into its placeholder. */
	if ((v = strstr(txt, ver)) != NULL) {
		n = strlen(txt) + sizeof("@VERSION@");
		if ((t2 = malloc(n)) == NULL)
			abort();
		snprintf(t2, n, "%.*sversion=\"@VERSION@\"%s", (int)(v - txt),
		    txt, v + strlen(ver));
		free(txt);
		txt = t2;
	}
	if (getenv("VIGIL_GOLDEN_UPDATE") != NULL) {
		T_CHECK((fp = fopen(path, "w")) != NULL &&
		    fputs(txt, fp) >= 0 && fclose(fp) == 0);
	} else {
		want = golden_read(path);
		T_CHECKF(want != NULL, "cannot read %s (run from the top "
		    "directory)", path);
		for (i = 0; want != NULL && want[i] == txt[i] &&
		    txt[i] != '\0'; i++)
			;
		T_CHECKF(want != NULL && strcmp(want, txt) == 0, "differs "
		    "at byte %zu: \"%.60s\"", i, txt + i);
		free(want);
	}
	free(txt);
	fix_close(&f);
}

/* usable, needs_human and the rate-limit families of a live snapshot. */
static void
test_router(void)
{
	struct vigil_stats st;
	struct api_result r;
	struct fix f;
	uint64_t now;
	double reset;
	char *txt, *p;

	fix_open(&f, 3);
	add_provider(&f, 0, "thr", VIGIL_KIND_OPENAI);
	add_provider(&f, 1, "back", VIGIL_KIND_OPENAI);
	add_provider(&f, 2, "broke", VIGIL_KIND_DEEPSEEK);
	now = now_wall_ns();
	/* Throttled until a minute from now; and one whose usable_at has
	 * passed before the aggregator said so: usable, by the read model. */
	memset(&st, 0, sizeof(st));
	st.updated_wall_ns = now;
	st.status = VIGIL_ST_THROTTLED;
	st.reason = VIGIL_RS_RATE_LIMITED;
	st.usable_at_wall_ns = now + 60000000000ull;
	st.ratelimit[VIGIL_RL_REQUESTS].limit = 500;
	st.ratelimit[VIGIL_RL_REQUESTS].remaining = 0;
	st.ratelimit[VIGIL_RL_REQUESTS].reset_wall_ns = now + 30000000000ull;
	st.ratelimit[VIGIL_RL_TOKENS].limit = 30000;
	st.ratelimit[VIGIL_RL_TOKENS].remaining = 29000;
	seqlock_write(seg_stats(&f.seg, 0), &st,
	    VIGIL_WORDS(struct vigil_stats));
	memset(st.ratelimit, 0, sizeof(st.ratelimit));
	st.usable_at_wall_ns = now - 1000000;
	seqlock_write(seg_stats(&f.seg, 1), &st,
	    VIGIL_WORDS(struct vigil_stats));
	memset(&st, 0, sizeof(st));
	st.updated_wall_ns = now;
	st.status = VIGIL_ST_EXHAUSTED;
	st.reason = VIGIL_RS_QUOTA;
	st.needs_human = 1;
	seqlock_write(seg_stats(&f.seg, 2), &st,
	    VIGIL_WORDS(struct vigil_stats));
	txt = render(&f, &r);
	T_CHECK(r.code == 200);
	T_CHECK(strstr(txt, "\nvigil_provider_usable{provider=\"thr\"} 0\n")
	    != NULL);
	T_CHECK(strstr(txt, "\nvigil_provider_usable{provider=\"back\"} 1\n")
	    != NULL);
	T_CHECK(strstr(txt, "\nvigil_provider_usable{provider=\"broke\"} "
	    "0\n") != NULL);
	T_CHECK(strstr(txt, "\nvigil_provider_needs_human{provider=\"broke\"} "
	    "1\n") != NULL);
	T_CHECK(strstr(txt, "\nvigil_provider_needs_human{provider=\"thr\"} "
	    "0\n") != NULL);
	T_CHECK(strstr(txt, "vigil_provider_status{provider=\"thr\","
	    "status=\"throttled\"} 1\n") != NULL);
	T_CHECK(strstr(txt, "vigil_provider_status{provider=\"broke\","
	    "status=\"exhausted\"} 1\n") != NULL);
	T_CHECK(strstr(txt, "vigil_checks_total{provider=\"broke\","
	    "outcome=\"quota\"} 0\n") != NULL);
	/* The resources reported, and only those; no reset, no series. */
	T_CHECK(count_lines(txt, "resource=") == 2 + 2 + 1);
	T_CHECK(strstr(txt, "\nvigil_ratelimit_limit{provider=\"thr\","
	    "resource=\"requests\"} 500\n") != NULL);
	T_CHECK(strstr(txt, "\nvigil_ratelimit_remaining{provider=\"thr\","
	    "resource=\"requests\"} 0\n") != NULL);
	T_CHECK(strstr(txt, "\nvigil_ratelimit_remaining{provider=\"thr\","
	    "resource=\"tokens\"} 29000\n") != NULL);
	T_CHECK(strstr(txt, "vigil_ratelimit_reset_seconds{provider=\"thr\","
	    "resource=\"tokens\"}") == NULL);
	p = strstr(txt, "vigil_ratelimit_reset_seconds{provider=\"thr\","
	    "resource=\"requests\"} ");
	T_CHECK(p != NULL);
	reset = p != NULL ? atof(strchr(p, '}') + 2) : -1;
	T_CHECKF(reset > 0 && reset <= 30, "%g", reset);
	T_CHECK(strstr(txt, "# TYPE vigil_ratelimit_reset_seconds gauge\n") !=
	    NULL);
	free(txt);
	fix_close(&f);
}

/*
 * The models of a live snapshot: the per-model series of each model
 * with provider= and model=, a model never judged (unknown, not usable,
 * no listed series), the tokens of the day (0 when the count is of an
 * earlier day) and the budget, the checks and tokens counters.
 */
static void
test_models(void)
{
	/* status, usable, listed, error, samples, TTFT, tokens/s, checks,
	 * tokens. */
	const size_t per_model = VIGIL_ST_COUNT + 1 + 1 + 3 + 3 +
	    3 * VIGIL_NWINDOWS + 3 + 1 + 1;
	struct vigil_stats st;
	struct api_result r;
	struct fix f;
	uint64_t now = now_wall_ns();
	char *txt;

	fix_open(&f, 4);
	add_provider(&f, 0, "oa", VIGIL_KIND_OPENAI);
	add_provider(&f, 1, "old", VIGIL_KIND_OPENAI);
	add_provider(&f, 2, "none", VIGIL_KIND_OPENAI);
	memset(&st, 0, sizeof(st));
	st.updated_wall_ns = now;
	st.status = VIGIL_ST_DEGRADED;
	st.probe_tokens_today = 40;
	st.probe_tokens_day = now / (86400 * 1000000000ull);
	seqlock_write(seg_stats(&f.seg, 0), &st,
	    VIGIL_WORDS(struct vigil_stats));
	st.probe_tokens_day--;		/* yesterday's: none today */
	seqlock_write(seg_stats(&f.seg, 1), &st,
	    VIGIL_WORDS(struct vigil_stats));
	add_models(&f, 0, 50, "gpt-4o", "o3-mini");
	add_mstats(&f, 0, 0, 1);	/* healthy, listed 1 */
	/* o3-mini: named, never judged (a zeroed block). */
	add_models(&f, 1, 50, "gpt-4o", NULL);
	add_mstats(&f, 1, 0, 2);	/* degraded, slow, listed 2 */
	txt = render(&f, &r);
	T_CHECK(r.code == 200);
	T_CHECKF(count_lines(txt, "{provider=\"oa\",model=\"gpt-4o\"") ==
	    per_model, "%zu", count_lines(txt, "{provider=\"oa\",model="
	    "\"gpt-4o\""));
	/* o3-mini: no listed series while unknown. */
	T_CHECK(count_lines(txt, "{provider=\"oa\",model=\"o3-mini\"") ==
	    per_model - 1);
	T_CHECK(count_lines(txt, "{provider=\"old\",model=\"gpt-4o\"") ==
	    per_model - 1);
	T_CHECK(count_lines(txt, "{provider=\"none\",model=") == 0);
	T_CHECK(strstr(txt, "\nvigil_model_status{provider=\"oa\","
	    "model=\"gpt-4o\",status=\"healthy\"} 1\n") != NULL);
	T_CHECK(strstr(txt, "\nvigil_model_status{provider=\"oa\","
	    "model=\"o3-mini\",status=\"unknown\"} 1\n") != NULL);
	T_CHECK(strstr(txt, "\nvigil_model_status{provider=\"old\","
	    "model=\"gpt-4o\",status=\"degraded\"} 1\n") != NULL);
	T_CHECK(strstr(txt, "\nvigil_model_usable{provider=\"oa\","
	    "model=\"gpt-4o\"} 1\n") != NULL);
	T_CHECK(strstr(txt, "\nvigil_model_usable{provider=\"oa\","
	    "model=\"o3-mini\"} 0\n") != NULL);
	T_CHECK(strstr(txt, "\nvigil_model_listed{provider=\"oa\","
	    "model=\"gpt-4o\"} 1\n") != NULL);
	T_CHECK(strstr(txt, "\nvigil_model_ttft_seconds{provider=\"oa\","
	    "model=\"gpt-4o\",window=\"5m\",quantile=\"0.95\"} 0.5015\n")
	    != NULL);
	T_CHECK(strstr(txt, "\nvigil_model_error_ratio{provider=\"oa\","
	    "model=\"gpt-4o\",window=\"15m\"} 0.060001\n") != NULL);
	T_CHECK(strstr(txt, "\nvigil_model_window_samples{provider=\"oa\","
	    "model=\"gpt-4o\",window=\"1m\"} 11\n") != NULL);
	T_CHECK(strstr(txt, "\nvigil_model_tokens_per_second{provider="
	    "\"oa\",model=\"gpt-4o\",window=\"1m\"} 31.5\n") !=
	    NULL);
	T_CHECK(strstr(txt, "\nvigil_model_checks_total{provider=\"oa\","
	    "model=\"gpt-4o\"} 41\n") != NULL);
	T_CHECK(strstr(txt, "\nvigil_probe_tokens_total{provider=\"oa\","
	    "model=\"gpt-4o\"} 1011\n") != NULL);
	T_CHECK(strstr(txt, "\nvigil_probe_tokens_today{provider=\"oa\"} "
	    "40\n") != NULL);
	T_CHECK(strstr(txt, "\nvigil_probe_tokens_today{provider=\"old\"} "
	    "0\n") != NULL);
	T_CHECK(strstr(txt, "\nvigil_probe_token_budget{provider=\"oa\"} "
	    "50\n") != NULL);
	T_CHECK(count_lines(txt, "vigil_probe_token_budget{") == 2);
	T_CHECK(strstr(txt, "# TYPE vigil_probe_tokens_total counter\n") !=
	    NULL);
	free(txt);
	fix_close(&f);
}

static void
test_disabled(void)
{
	struct api_result r;
	struct fix f;
	char *txt;

	fix_open(&f, 1);
	add_provider(&f, 0, "alpha", VIGIL_KIND_OPENAI);
	f.ctx.prometheus = 0;
	txt = render(&f, &r);
	T_CHECK(r.code == 404);
	T_CHECK(strstr(txt, "vigil_") == NULL);
	free(txt);
	fix_close(&f);
}

int
main(void)
{
	T_RUN(test_layout);
	T_RUN(test_golden);
	T_RUN(test_router);
	T_RUN(test_models);
	T_RUN(test_disabled);
	return t_done();
}
