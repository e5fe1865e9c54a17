/*
 * views.c - the JSON, CSV and Graphviz views of vigil-api.
 *
 * Every view reads the segment through <vigil/vigil.h> only: one
 * snapshot of all providers per request (api_snapshot), rings read with
 * a private cursor into buffers allocated once at start-up.  A view fills
 * an evbuffer and an api_result (status code, Content-Type); main.c sends.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <event2/buffer.h>

#include "api.h"
#include "ring.h"

#define CT_JSON	"application/json"
#define CT_CSV	"text/csv; charset=utf-8"
#define CT_DOT	"text/vnd.graphviz; charset=utf-8"

static void	 add_time(cJSON *, const char *, uint64_t);
static void	 add_reason(cJSON *, const char *, unsigned);
static void	 window_write(struct api_wbuf *, const struct vigil_window *,
		    int);
static void	 jtime_ms(struct api_wbuf *, uint64_t);
static void	 router_write(struct api_wbuf *, const struct vigil_provider *,
		    uint64_t);
static void	 ratelimit_write(struct api_wbuf *, const struct vigil_stats *);
static void	 retry_write(struct api_wbuf *, const struct vigil_sample *);
static void	 sample_model_write(struct api_wbuf *,
		    const struct vigil_sample *, const struct api_pmodels *);
static void	 model_write(struct api_wbuf *, const struct api_model *);
static void	 hedge_write(struct api_wbuf *, uint32_t);
static void	 sources_write(struct api_wbuf *, const struct vigil_stats *,
		    uint64_t);
static void	 models_write(struct api_wbuf *,
		    const struct vigil_provider *, const struct api_pmodels *,
		    uint64_t);
static int	 models_grow(struct api_models *, size_t, size_t);
static uint64_t	 episode_start(struct api_ctx *, const char *);
static void	 statuspage_write(struct api_ctx *, struct api_wbuf *,
		    const struct vigil_provider *, uint64_t);
static void	 provider_write(struct api_ctx *, struct api_wbuf *,
		    const struct vigil_provider *, const struct api_pmodels *,
		    uint64_t, uint64_t, int);
static void	 wb_finish(struct api_wbuf *, struct evbuffer *,
		    struct api_result *);
static void	 put_json(struct evbuffer *, cJSON *);
static int	 bad_param(struct evbuffer *, struct api_result *,
		    const char *, const char *);
static const struct vigil_provider *find_snap(const struct api_ctx *,
		    const char *);
static int	 snapshot_or_503(struct api_ctx *, struct evbuffer *,
		    struct api_result *, int);
struct bucket;
static void	 bucket_emit(const struct bucket *, const char *, int, cJSON *,
		    struct evbuffer *);
static void	 raw_emit(const struct vigil_history *, const char *, int,
		    cJSON *, struct evbuffer *);
static void	 history_one(struct api_ctx *, const struct vigil_provider *,
		    uint64_t, uint64_t, uint32_t, int, cJSON *,
		    struct evbuffer *);

static void
add_time(cJSON *o, const char *key, uint64_t wall_ns)
{
	char buf[32];

	if (wall_ns == 0 || api_time_format(wall_ns, buf, sizeof(buf)) == 0)
		cJSON_AddNullToObject(o, key);
	else
		cJSON_AddStringToObject(o, key, buf);
}

/* A reason's name, or null for none (vigil_reason_name). */
static void
add_reason(cJSON *o, const char *key, unsigned reason)
{
	const char *s = vigil_reason_name(reason);

	if (s == NULL)
		cJSON_AddNullToObject(o, key);
	else
		cJSON_AddStringToObject(o, key, s);
}

/* Commit a hand-written JSON body: 200, or 503 when memory ran out. */
static void
wb_finish(struct api_wbuf *w, struct evbuffer *out, struct api_result *r)
{
	r->ctype = CT_JSON;
	if (api_wb_end(w) == 0) {
		r->code = 200;
		return;
	}
	evbuffer_drain(out, evbuffer_get_length(out));
	api_error_json(out, "out_of_memory", NULL, "the response did not "
	    "fit in memory");
	r->code = 503;
}

/* Serialise o into out and free it. */
static void
put_json(struct evbuffer *out, cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);

	if (s != NULL) {
		evbuffer_add(out, s, strlen(s));
		evbuffer_add(out, "\n", 1);
		free(s);
	}
	cJSON_Delete(o);
}

/*
 * The JSON error body of every 4xx/5xx: {"error": {"code", "message"}}
 * plus "parameter" when one parameter is to blame.
 */
void
api_error_json(struct evbuffer *out, const char *code, const char *param,
    const char *message)
{
	cJSON *o = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(o,
	    "error");

	cJSON_AddStringToObject(e, "code", code);
	if (param != NULL)
		cJSON_AddStringToObject(e, "parameter", param);
	cJSON_AddStringToObject(e, "message", message);
	put_json(out, o);
}

static int
bad_param(struct evbuffer *out, struct api_result *r, const char *param,
    const char *message)
{
	evbuffer_drain(out, evbuffer_get_length(out));
	api_error_json(out, "bad_parameter", param, message);
	r->code = 400;
	r->ctype = CT_JSON;
	return -1;
}

/*
 * Take one consistent snapshot of every provider into ctx->snap, its
 * strings cleaned (api_text_clean) for every view that emits them.  Returns
 * VIGIL_OK or the client's error (VIGIL_EBUSY: a writer held a block for
 * every retry).
 */
int
api_snapshot(struct api_ctx *ctx)
{
	size_t i;
	int rc;

	rc = vigil_snapshot_all(&ctx->vc, ctx->snap,
	    vigil_capacity(&ctx->vc), &ctx->nsnap);
	ctx->snap_at_ns = now_mono_ns();
	for (i = 0; i < ctx->nsnap; i++)
		api_clean_provider(&ctx->snap[i]);
	return rc;
}

/* Room for providers entries of first/count/budget and models models. */
static int
models_grow(struct api_models *ms, size_t providers, size_t models)
{
	void *p;
	size_t cap;

	if (providers > ms->pcap) {
		if ((p = realloc(ms->first, providers * sizeof(*ms->first))) ==
		    NULL)
			return -1;
		ms->first = p;
		if ((p = realloc(ms->count, providers * sizeof(*ms->count))) ==
		    NULL)
			return -1;
		ms->count = p;
		if ((p = realloc(ms->budget, providers *
		    sizeof(*ms->budget))) == NULL)
			return -1;
		ms->budget = p;
		ms->pcap = providers;
	}
	if (models > ms->cap) {
		cap = ms->cap > 0 ? ms->cap : 64;
		while (cap < models)
			cap *= 2;
		if ((p = realloc(ms->m, cap * sizeof(*ms->m))) == NULL)
			return -1;
		ms->m = p;
		ms->cap = cap;
	}
	return 0;
}

/*
 * The models of the n providers of snap (docs/http-api.md, models[]):
 * each one's model block (names, token budget: vigild's) and each
 * model's stats block (the aggregator's), strings cleaned, into ms.
 * A block read after its provider's snapshot may be a little newer than
 * it: a model judged since shows its new status a poll early.  Returns
 * VIGIL_OK, a client error (VIGIL_EBUSY: a writer held a block for every
 * retry) or VIGIL_ESYS when memory ran out.  O(providers + models).
 */
int
api_models_read(const struct vigil_client *vc,
    const struct vigil_provider *snap, size_t n, struct api_models *ms)
{
	struct vigil_models vm;
	struct api_model *am;
	uint32_t k;
	size_t i;
	int rc;

	ms->n = 0;
	if (models_grow(ms, n, 0) == -1)
		return VIGIL_ESYS;
	for (i = 0; i < n; i++) {
		ms->first[i] = (uint32_t)ms->n;
		ms->count[i] = 0;
		ms->budget[i] = 0;
		if ((rc = vigil_models(vc, snap[i].idx, &vm)) != VIGIL_OK)
			return rc;
		if (models_grow(ms, n, ms->n + vm.head.count) == -1)
			return VIGIL_ESYS;
		for (k = 0; k < vm.head.count; k++) {
			am = &ms->m[ms->n + k];
			memcpy(am->name, vm.names[k].name, sizeof(am->name));
			if ((rc = vigil_model_stats(vc, snap[i].idx, k,
			    &am->s)) != VIGIL_OK)
				return rc;
			api_clean_model(am);
		}
		ms->n += vm.head.count;
		ms->count[i] = vm.head.count;
		ms->budget[i] = vm.head.token_budget;
	}
	return VIGIL_OK;
}

/* Snapshot entry i's models in ms (none before a read). */
struct api_pmodels
api_models_of(const struct api_models *ms, size_t i)
{
	struct api_pmodels pm = { NULL, 0, 0 };

	if (ms->first == NULL || i >= ms->pcap)
		return pm;
	pm.m = ms->m + ms->first[i];
	pm.n = ms->count[i];
	pm.budget = ms->budget[i];
	return pm;
}

void
api_models_free(struct api_models *ms)
{
	free(ms->m);
	free(ms->first);
	free(ms->count);
	free(ms->budget);
	memset(ms, 0, sizeof(*ms));
}

/*
 * One window as JSON, written by hand (cJSON built and freed about 60
 * nodes per provider, and printf'd every number: 48 requests/s at 1,000
 * providers).  The keys and their order are those of the public
 * IntegrationHealthResponse.
 */
static void
window_write(struct api_wbuf *w, const struct vigil_window *win, int full)
{
	unsigned i;

	api_wb_lit(w, "{\"samples\":");
	api_wb_u64(w, win->samples);
	api_wb_lit(w, ",\"error_rate\":");
	api_wb_jnum(w, win->error_rate);
	api_wb_lit(w, ",\"uptime\":");
	api_wb_jnum(w, win->uptime);
	api_wb_lit(w, ",\"latency_ms\":{\"p50\":");
	api_wb_jnum(w, win->p50_ms);
	api_wb_lit(w, ",\"p95\":");
	api_wb_jnum(w, win->p95_ms);
	api_wb_lit(w, ",\"p99\":");
	api_wb_jnum(w, win->p99_ms);
	api_wb_lit(w, ",\"mean\":");
	api_wb_jnum(w, win->mean_ms);
	api_wb_lit(w, ",\"max\":");
	api_wb_jnum(w, win->max_ms);
	api_wb_lit(w, "}");
	if (full) {
		api_wb_lit(w, ",\"ok\":");
		api_wb_u64(w, win->ok);
		api_wb_lit(w, ",\"by_outcome\":{");
		for (i = 0; i < VIGIL_OUT_COUNT; i++) {
			if (i > 0)
				api_wb_lit(w, ",");
			api_wb_jstr(w, vigil_outcome_name(i));
			api_wb_lit(w, ":");
			api_wb_u64(w, win->by_outcome[i]);
		}
		api_wb_lit(w, "}");
	}
	api_wb_lit(w, "}");
}

/*
 * An RFC 3339 UTC time with milliseconds ("2026-11-28T12:00:31.700Z"),
 * quoted, or null for 0.  For the times a router waits for (usable_at, a
 * rate limit's reset): cut to the second, it would come back early.
 */
static void
jtime_ms(struct api_wbuf *w, uint64_t wall_ns)
{
	char buf[32];
	unsigned ms;
	size_t n;

	if (wall_ns == 0 || (n = api_time_format(wall_ns, buf,
	    sizeof(buf))) == 0) {
		api_wb_lit(w, "null");
		return;
	}
	ms = (unsigned)(wall_ns / 1000000 % 1000);
	buf[n - 1] = '.';		/* over the 'Z' */
	buf[n] = (char)('0' + ms / 100);
	buf[n + 1] = (char)('0' + ms / 10 % 10);
	buf[n + 2] = (char)('0' + ms % 10);
	buf[n + 3] = 'Z';
	api_wb_lit(w, "\"");
	api_wb_mem(w, buf, n + 4);
	api_wb_lit(w, "\"");
}

/*
 * The rate-limit headroom the provider's answers reported, per resource
 * ("requests": {"limit", "remaining", "reset_at"}); {} when none did.
 * A resource with limit 0 was never reported.
 */
static void
ratelimit_write(struct api_wbuf *w, const struct vigil_stats *st)
{
	unsigned k;
	int first = 1;

	api_wb_lit(w, ",\"ratelimit\":{");
	for (k = 0; k < VIGIL_RL_COUNT; k++) {
		const struct vigil_ratelimit *r = &st->ratelimit[k];

		if (r->limit == 0)
			continue;
		if (!first)
			api_wb_lit(w, ",");
		first = 0;
		api_wb_jstr(w, vigil_rl_name(k));
		api_wb_lit(w, ":{\"limit\":");
		api_wb_u64(w, r->limit);
		api_wb_lit(w, ",\"remaining\":");
		api_wb_u64(w, r->remaining);
		api_wb_lit(w, ",\"reset_at\":");
		jtime_ms(w, r->reset_wall_ns);
		api_wb_lit(w, "}");
	}
	api_wb_lit(w, "}");
}

/*
 * What a router acts on (docs/aggregation.md, "Usable"): usable is
 * vigil_provider_usable() at wall (a throttled provider turns usable at
 * usable_at before the aggregator says so), the rest as the aggregator
 * wrote it.  usable_in_s counts down to usable_at (0 once passed, null
 * without one) for a client that would rather not trust its own clock.
 */
static void
router_write(struct api_wbuf *w, const struct vigil_provider *p,
    uint64_t wall)
{
	const struct vigil_stats *st = &p->stats;
	const char *reason = vigil_reason_name(st->reason);

	api_wb_str(w, vigil_provider_usable(p, wall) ? ",\"usable\":true" :
	    ",\"usable\":false");
	api_wb_lit(w, ",\"reason\":");
	if (reason != NULL)
		api_wb_jstr(w, reason);
	else
		api_wb_lit(w, "null");
	api_wb_lit(w, ",\"reason_since\":");
	api_wb_jtime(w, reason != NULL ? st->reason_since_wall_ns : 0);
	api_wb_str(w, st->needs_human ? ",\"needs_human\":true" :
	    ",\"needs_human\":false");
	api_wb_lit(w, ",\"usable_at\":");
	jtime_ms(w, st->usable_at_wall_ns);
	api_wb_lit(w, ",\"usable_in_s\":");
	if (st->usable_at_wall_ns == 0)
		api_wb_lit(w, "null");
	else
		api_wb_jnum(w, st->usable_at_wall_ns > wall ?
		    (st->usable_at_wall_ns - wall) / 1e9 : 0);
	ratelimit_write(w, st);
}

/*
 * A sample's wait before the prober's next check when it was told to
 * wait (rate limited): retry_after_ms, and whether the provider said so
 * ("provider": Retry-After or a reset header) or the prober backs off.
 */
static void
retry_write(struct api_wbuf *w, const struct vigil_sample *sm)
{
	if (sm->retry_after_ms == 0) {
		api_wb_lit(w, ",\"retry_after_ms\":null,\"retry_source\":null");
		return;
	}
	api_wb_lit(w, ",\"retry_after_ms\":");
	api_wb_u64(w, sm->retry_after_ms);
	api_wb_str(w, (sm->flags & VIGIL_SF_RETRY_HINT) != 0 ?
	    ",\"retry_source\":\"provider\"" :
	    ",\"retry_source\":\"backoff\"");
}

/*
 * What a sample says of a model, closing the sample's object: "model",
 * the name of the model it checked (by its index in pm: a sample older
 * than a reload that changed the list may name the model now in that
 * slot) or null; "generation" (a generation check) and "catalogue" (the
 * models-list check's verdict on the model, not a request); the tokens
 * its answer reported.
 */
static void
sample_model_write(struct api_wbuf *w, const struct vigil_sample *sm,
    const struct api_pmodels *pm)
{
	api_wb_lit(w, ",\"model\":");
	if (sm->model > 0 && sm->model <= pm->n)
		api_wb_jstr(w, pm->m[sm->model - 1].name);
	else
		api_wb_lit(w, "null");
	api_wb_str(w, (sm->flags & VIGIL_SF_GENERATION) != 0 ?
	    ",\"generation\":true" : ",\"generation\":false");
	api_wb_str(w, (sm->flags & VIGIL_SF_CATALOGUE) != 0 ?
	    ",\"catalogue\":true" : ",\"catalogue\":false");
	api_wb_lit(w, ",\"tokens_in\":");
	api_wb_u64(w, sm->tokens_in);
	api_wb_lit(w, ",\"tokens_out\":");
	api_wb_u64(w, sm->tokens_out);
	api_wb_lit(w, "}");
}

/*
 * One provider as in /health/integration, with its models pm; full adds
 * the detail of /health/integration/providers/{name}.  The object is
 * left open (no closing brace) so that the provider view can append its
 * samples.
 * Status, staleness and usable are vigil.h's read model, judged at now
 * (the CLOCK_MONOTONIC time of the snapshot p comes from) and wall (the
 * wall-clock time of the reply).
 */
static void
provider_write(struct api_ctx *ctx, struct api_wbuf *w,
    const struct vigil_provider *p, const struct api_pmodels *pm,
    uint64_t now, uint64_t wall, int full)
{
	static const char *const wkey[VIGIL_NWINDOWS] = { "\"1m\":",
	    "\"5m\":", "\"15m\":" };
	const struct vigil_stats *st = &p->stats;
	unsigned i;

	api_wb_lit(w, "{\"name\":");
	api_wb_jstr(w, p->info.name);
	api_wb_lit(w, ",\"kind\":");
	api_wb_jstr(w, vigil_kind_name(p->info.kind));
	api_wb_lit(w, ",\"host\":");
	api_wb_jstr(w, p->info.host);
	api_wb_lit(w, ",\"status\":");
	api_wb_jstr(w, vigil_status_name(vigil_effective_status(p)));
	api_wb_lit(w, ",\"circuit\":");
	api_wb_jstr(w, vigil_circuit_name(st->circuit));
	api_wb_lit(w, ",\"trend\":");
	api_wb_jstr(w, vigil_trend_name(st->trend));
	api_wb_str(w, vigil_provider_stale(&ctx->vc, p, now) ?
	    ",\"stale\":true" : ",\"stale\":false");
	api_wb_str(w, (p->info.flags & VIGIL_PF_PAUSED) != 0 ?
	    ",\"paused\":true" : ",\"paused\":false");
	router_write(w, p, wall);
	if (st->last.wall_ns != 0) {
		api_wb_lit(w, ",\"last_check\":{\"at\":");
		api_wb_jtime(w, st->last.wall_ns);
		api_wb_lit(w, ",\"outcome\":");
		api_wb_jstr(w, vigil_outcome_name(st->last.outcome));
		api_wb_lit(w, ",\"http_status\":");
		api_wb_u64(w, st->last.http_status);
		api_wb_lit(w, ",\"latency_ms\":");
		api_wb_jnum(w, st->last.latency_us / 1000.0);
		if (full) {
			api_wb_lit(w, ",\"dns_ms\":");
			api_wb_jnum(w, st->last.dns_us / 1000.0);
			api_wb_lit(w, ",\"connect_ms\":");
			api_wb_jnum(w, st->last.connect_us / 1000.0);
			api_wb_lit(w, ",\"tls_ms\":");
			api_wb_jnum(w, st->last.tls_us / 1000.0);
			api_wb_lit(w, ",\"ttfb_ms\":");
			api_wb_jnum(w, st->last.ttfb_us / 1000.0);
			api_wb_lit(w, ",\"bytes\":");
			api_wb_u64(w, st->last.bytes);
			api_wb_lit(w, ",\"error\":");
			api_wb_jstr(w, st->last.error);
			retry_write(w, &st->last);
		}
		api_wb_lit(w, "}");
	} else
		api_wb_lit(w, ",\"last_check\":null");
	if (st->last_error_wall_ns != 0) {
		api_wb_lit(w, ",\"last_error\":{\"at\":");
		api_wb_jtime(w, st->last_error_wall_ns);
		api_wb_lit(w, ",\"outcome\":");
		api_wb_jstr(w, vigil_outcome_name(st->last_error_outcome));
		api_wb_lit(w, ",\"code\":");
		api_wb_jstr(w, st->last_error);
		api_wb_lit(w, "}");
	} else
		api_wb_lit(w, ",\"last_error\":null");
	api_wb_lit(w, ",\"windows\":{");
	for (i = 0; i < VIGIL_NWINDOWS; i++) {
		if (i > 0)
			api_wb_lit(w, ",");
		api_wb_str(w, wkey[i]);
		window_write(w, &st->win[i], full);
	}
	api_wb_lit(w, "},\"uptime_total\":");
	api_wb_jnum(w, st->uptime_total);
	api_wb_lit(w, ",\"route_rank\":");
	if (st->route_rank == UINT32_MAX)
		api_wb_lit(w, "null");
	else
		api_wb_u64(w, st->route_rank);
	api_wb_lit(w, ",\"score\":");
	api_wb_jnum(w, st->score);
	api_wb_lit(w, ",\"circuit_opens\":");
	api_wb_u64(w, st->circuit_opens);
	api_wb_lit(w, ",\"consecutive_failures\":");
	api_wb_u64(w, st->consecutive_failures);
	sources_write(w, st, vigil_probes_skipped(&ctx->vc, p->idx));
	hedge_write(w, st->hedge_after_us);
	api_wb_lit(w, ",\"updated_at\":");
	api_wb_jtime(w, st->updated_wall_ns);
	models_write(w, p, pm, wall);
	statuspage_write(ctx, w, p, wall);
	if (!full)
		return;
	api_wb_lit(w, ",\"consecutive_successes\":");
	api_wb_u64(w, st->consecutive_successes);
	api_wb_lit(w, ",\"interval_ms\":");
	api_wb_u64(w, p->info.interval_ms);
	api_wb_lit(w, ",\"timeout_ms\":");
	api_wb_u64(w, p->info.timeout_ms);
	api_wb_str(w, (p->info.flags & VIGIL_PF_ENABLED) != 0 ?
	    ",\"enabled\":true" : ",\"enabled\":false");
	api_wb_lit(w, ",\"prober_restarts\":");
	api_wb_u64(w, p->info.restarts);
	api_wb_lit(w, ",\"samples_total\":");
	api_wb_u64(w, st->samples_total);
	api_wb_lit(w, ",\"samples_lost\":");
	api_wb_u64(w, st->samples_lost);
	api_wb_lit(w, ",\"alerts_total\":");
	api_wb_u64(w, st->alerts_total);
	api_wb_lit(w, ",\"since\":");
	api_wb_jtime(w, st->since_wall_ns);
	api_wb_lit(w, ",\"last_ok_at\":");
	api_wb_jtime(w, st->last_ok_wall_ns);
	api_wb_lit(w, ",\"circuit_since\":");
	api_wb_jtime(w, st->circuit_since_wall_ns);
	api_wb_lit(w, ",\"silenced_until\":");
	api_wb_jtime(w, st->silenced_until_wall_ns);
	api_wb_lit(w, ",\"checks_total\":{");
	for (i = 0; i < VIGIL_OUT_COUNT; i++) {
		if (i > 0)
			api_wb_lit(w, ",");
		api_wb_jstr(w, vigil_outcome_name(i));
		api_wb_lit(w, ":");
		api_wb_u64(w, st->checks_total[i]);
	}
	api_wb_lit(w, "}");
}

/*
 * "hedge_after_ms": after how long a router may send a slow request
 * again elsewhere (issue 18): the 5-minute p95 latency (a model's: its
 * TTFT), null before the window holds min_samples.
 */
static void
hedge_write(struct api_wbuf *w, uint32_t us)
{
	api_wb_lit(w, ",\"hedge_after_ms\":");
	if (us == 0)
		api_wb_lit(w, "null");
	else
		api_wb_jnum(w, us / 1000.0);
}

/*
 * "sources": what each source of samples saw (issue 18): vigil's probes
 * and the traffic local services reported.  The error rate is the last
 * minute's (null without samples); probe adds the checks its prober
 * skipped while traffic flowed, traffic how many reporting clients it
 * heard in that minute and its newest report.
 */
static void
sources_write(struct api_wbuf *w, const struct vigil_stats *st,
    uint64_t skipped)
{
	static const char *const key[VIGIL_SRC_COUNT] = { "\"probe\":",
	    "\"traffic\":" };
	const struct vigil_source_stats *s;
	int k;

	api_wb_lit(w, ",\"sources\":{");
	for (k = 0; k < VIGIL_SRC_COUNT; k++) {
		s = &st->source[k];
		if (k > 0)
			api_wb_lit(w, ",");
		api_wb_str(w, key[k]);
		api_wb_lit(w, "{\"samples_total\":");
		api_wb_u64(w, s->samples_total);
		api_wb_lit(w, ",\"errors_total\":");
		api_wb_u64(w, s->errors_total);
		api_wb_lit(w, ",\"samples_1m\":");
		api_wb_u64(w, s->samples_1m);
		api_wb_lit(w, ",\"error_rate_1m\":");
		if (s->samples_1m == 0)
			api_wb_lit(w, "null");
		else
			api_wb_jnum(w, (double)s->errors_1m / s->samples_1m);
		if (k == VIGIL_SRC_PROBE) {
			/* probe_when_idle: checks traffic made needless */
			api_wb_lit(w, ",\"skipped_total\":");
			api_wb_u64(w, skipped);
		}
		if (k == VIGIL_SRC_TRAFFIC) {
			api_wb_lit(w, ",\"clients_1m\":");
			api_wb_u64(w, st->traffic_clients_1m);
			api_wb_lit(w, ",\"last_at\":");
			api_wb_jtime(w, st->traffic_last_wall_ns);
		}
		api_wb_lit(w, "}");
	}
	api_wb_lit(w, "}");
}

/*
 * When the current (or the latest) outage episode of provider name
 * began, as vigil's alerts tell it: the first down, circuit_open or
 * error_rate alert raised while none of those was open.  0: none in the
 * alert ring.  The ring is read once per snapshot, and only when a page
 * reports an incident.  O(alerts).
 */
static uint64_t
episode_start(struct api_ctx *ctx, const char *name)
{
	uint64_t start = 0;
	unsigned open = 0, bit;
	size_t i;

	if (ctx->sp_alerts_at != ctx->snap_at_ns || ctx->snap_at_ns == 0) {
		struct vigil_cursor cur = { 0, 0 };

		ctx->sp_nalerts = vigil_read_alerts(&ctx->vc, &cur,
		    ctx->alerts, ctx->vc.lay.alert_cap);
		for (i = 0; i < ctx->sp_nalerts; i++)
			api_clean_alert(&ctx->alerts[i]);
		ctx->sp_alerts_at = ctx->snap_at_ns;
	}
	for (i = 0; i < ctx->sp_nalerts; i++) {
		const struct vigil_alert *al = &ctx->alerts[i];

		if (strcmp(al->provider, name) != 0 ||
		    (al->kind != VIGIL_AK_DOWN &&
		    al->kind != VIGIL_AK_CIRCUIT_OPEN &&
		    al->kind != VIGIL_AK_ERROR_RATE))
			continue;
		bit = 1u << al->kind;
		if (al->level == VIGIL_AL_RESOLVED) {
			open &= ~bit;
			continue;
		}
		if (open == 0)
			start = al->wall_ns;
		open |= bit;
	}
	return start;
}

/*
 * "status_page": what the provider's own status page says, beside
 * vigil's view and never part of it (docs/http-api.md, "Status
 * pages"); null without one.  agrees: whether vigil (usable) and the
 * page (indicator none or maintenance) tell the same story; null while
 * either cannot say.  lead_s: from vigil's first alert of the episode
 * to the page's newest open incident's created_at; positive when vigil
 * was first.
 */
static void
statuspage_write(struct api_ctx *ctx, struct api_wbuf *w,
    const struct vigil_provider *p, uint64_t wall)
{
	struct vigil_status_page sp;
	unsigned st = vigil_effective_status(p);
	uint64_t first;
	int page_bad, vigil_bad;

	if (vigil_status_page(&ctx->vc, p->idx, p->info.name, &sp) !=
	    VIGIL_OK) {
		api_wb_lit(w, ",\"status_page\":null");
		return;
	}
	api_clean_status_page(&sp);
	api_wb_lit(w, ",\"status_page\":{\"indicator\":");
	if (sp.fetched_wall_ns != 0)
		api_wb_jstr(w, vigil_sp_indicator_name(sp.indicator));
	else
		api_wb_lit(w, "null");
	api_wb_lit(w, ",\"incidents_open\":");
	api_wb_u64(w, sp.incidents_open);
	if (sp.incidents_open > 0) {
		api_wb_lit(w, ",\"incident\":{\"name\":");
		api_wb_jstr(w, sp.incident_name);
		api_wb_lit(w, ",\"status\":");
		api_wb_jstr(w, sp.incident_status);
		api_wb_lit(w, ",\"impact\":");
		api_wb_jstr(w, vigil_sp_indicator_name(sp.incident_impact));
		api_wb_lit(w, ",\"created_at\":");
		api_wb_jtime(w, sp.incident_created_wall_ns);
		api_wb_lit(w, "}");
	} else
		api_wb_lit(w, ",\"incident\":null");
	api_wb_lit(w, ",\"page_updated_at\":");
	api_wb_jtime(w, sp.page_updated_wall_ns);
	api_wb_lit(w, ",\"fetched_at\":");
	api_wb_jtime(w, sp.fetched_wall_ns);
	api_wb_lit(w, ",\"checked_at\":");
	api_wb_jtime(w, sp.updated_wall_ns);
	api_wb_lit(w, ",\"error\":");
	if (sp.error[0] != '\0')
		api_wb_jstr(w, sp.error);
	else
		api_wb_lit(w, "null");
	api_wb_lit(w, ",\"agrees\":");
	page_bad = sp.indicator == VIGIL_SPI_MINOR ||
	    sp.indicator == VIGIL_SPI_MAJOR ||
	    sp.indicator == VIGIL_SPI_CRITICAL;
	vigil_bad = !vigil_provider_usable(p, wall) ||
	    st == VIGIL_ST_UNHEALTHY;
	if (sp.fetched_wall_ns == 0 || st == VIGIL_ST_UNKNOWN ||
	    st == VIGIL_ST_PAUSED || vigil_provider_stale(&ctx->vc, p,
	    ctx->snap_at_ns))
		api_wb_lit(w, "null");
	else
		api_wb_str(w, page_bad == vigil_bad ? "true" : "false");
	api_wb_lit(w, ",\"lead_s\":");
	first = sp.incident_created_wall_ns != 0 ?
	    episode_start(ctx, p->info.name) : 0;
	if (first != 0)
		api_wb_jnum(w, ((double)sp.incident_created_wall_ns -
		    (double)first) / 1e9);
	else
		api_wb_lit(w, "null");
	api_wb_lit(w, "}");
}

/*
 * One model as an element of providers[].models[] (docs/http-api.md):
 * its status and usable by vigil_model_effective_status and vigil_model_usable, the
 * newest generation check (null fields before the first), and its
 * windows of generation checks: TTFT quantiles (the first content
 * token) and output tokens per second.
 */
static void
model_write(struct api_wbuf *w, const struct api_model *am)
{
	static const char *const wkey[VIGIL_NWINDOWS] = { "\"1m\":",
	    "\"5m\":", "\"15m\":" };
	const struct vigil_model_stats *s = &am->s;
	unsigned st = vigil_model_effective_status(s), i;
	const char *reason = st != VIGIL_ST_UNKNOWN ?
	    vigil_reason_name(s->reason) : NULL;
	int checked = vigil_model_checked(s);

	api_wb_lit(w, "{\"name\":");
	api_wb_jstr(w, am->name);
	api_wb_lit(w, ",\"status\":");
	api_wb_jstr(w, vigil_status_name(st));
	api_wb_lit(w, ",\"reason\":");
	if (reason != NULL)
		api_wb_jstr(w, reason);
	else
		api_wb_lit(w, "null");
	api_wb_str(w, vigil_model_usable(s) ? ",\"usable\":true" :
	    ",\"usable\":false");
	api_wb_str(w, vigil_model_listed(s) == 1 ? ",\"listed\":true" :
	    vigil_model_listed(s) == 0 ? ",\"listed\":false" :
	    ",\"listed\":null");
	api_wb_lit(w, ",\"last_outcome\":");
	if (checked)
		api_wb_jstr(w, vigil_outcome_name(s->last_outcome));
	else
		api_wb_lit(w, "null");
	api_wb_lit(w, ",\"last_error\":");
	if (s->last_error[0] != '\0')
		api_wb_jstr(w, s->last_error);
	else
		api_wb_lit(w, "null");
	api_wb_lit(w, ",\"last_check_at\":");
	api_wb_jtime(w, checked ? s->last_wall_ns : 0);
	hedge_write(w, s->updated_wall_ns != 0 ? s->hedge_after_us : 0);
	api_wb_lit(w, ",\"windows\":{");
	for (i = 0; i < VIGIL_NWINDOWS; i++) {
		const struct vigil_model_window *mw = &s->win[i];

		if (i > 0)
			api_wb_lit(w, ",");
		api_wb_str(w, wkey[i]);
		api_wb_lit(w, "{\"samples\":");
		api_wb_u64(w, mw->samples);
		api_wb_lit(w, ",\"error_rate\":");
		api_wb_jnum(w, mw->error_rate);
		api_wb_lit(w, ",\"ttft_ms\":{\"p50\":");
		api_wb_jnum(w, mw->ttft_p50_ms);
		api_wb_lit(w, ",\"p95\":");
		api_wb_jnum(w, mw->ttft_p95_ms);
		api_wb_lit(w, ",\"p99\":");
		api_wb_jnum(w, mw->ttft_p99_ms);
		api_wb_lit(w, "},\"tokens_per_s\":");
		api_wb_jnum(w, mw->tokens_per_s);
		api_wb_lit(w, "}");
	}
	api_wb_lit(w, "},\"checks_total\":");
	api_wb_u64(w, s->checks_total);
	api_wb_lit(w, ",\"tokens_in_total\":");
	api_wb_u64(w, s->tokens_in_total);
	api_wb_lit(w, ",\"tokens_out_total\":");
	api_wb_u64(w, s->tokens_out_total);
	api_wb_lit(w, ",\"updated_at\":");
	api_wb_jtime(w, s->updated_wall_ns);
	api_wb_lit(w, "}");
}

/*
 * The provider's billed generation checks and its models: "tokens"
 * {used_today (the aggregator's count for the UTC day of wall), budget
 * (gen_budget, null for none)} and "models" ([] for none).
 */
static void
models_write(struct api_wbuf *w, const struct vigil_provider *p,
    const struct api_pmodels *pm, uint64_t wall)
{
	uint32_t k;

	api_wb_lit(w, ",\"tokens\":{\"used_today\":");
	api_wb_u64(w, vigil_probe_tokens_today(&p->stats, wall));
	api_wb_lit(w, ",\"budget\":");
	if (pm->budget != 0)
		api_wb_u64(w, pm->budget);
	else
		api_wb_lit(w, "null");
	api_wb_lit(w, "},\"models\":[");
	for (k = 0; k < pm->n; k++) {
		if (k > 0)
			api_wb_lit(w, ",");
		model_write(w, &pm->m[k]);
	}
	api_wb_lit(w, "]");
}

/*
 * One model exactly as an element of providers[].models[], appended to
 * out: the "state" of a model event.  Returns 0, or -1 when memory ran
 * out.
 */
int
api_model_json(struct evbuffer *out, const struct api_model *am)
{
	struct api_wbuf w;

	api_wb_begin(&w, out);
	model_write(&w, am);
	return api_wb_end(&w);
}

static const struct vigil_provider *
find_snap(const struct api_ctx *ctx, const char *name)
{
	size_t i;

	for (i = 0; i < ctx->nsnap; i++)
		if (strcmp(ctx->snap[i].info.name, name) == 0)
			return &ctx->snap[i];
	return NULL;
}

/*
 * One provider exactly as an element of /health/integration's
 * providers[], appended to out: the "state" of a change event, so that a
 * client updates everything it shows from the event alone.  p's strings
 * must have been cleaned (api_clean_provider), pm are its models
 * (api_models_read); now is the CLOCK_MONOTONIC
 * time of p's snapshot.  Returns 0, or -1 when memory ran out (out may
 * then hold part of it).
 */
int
api_provider_json(struct api_ctx *ctx, struct evbuffer *out,
    const struct vigil_provider *p, const struct api_pmodels *pm,
    uint64_t now)
{
	struct api_wbuf w;

	api_wb_begin(&w, out);
	provider_write(ctx, &w, p, pm, now, now_wall_ns(), 0);
	api_wb_lit(&w, "}");
	return api_wb_end(&w);
}

/*
 * api_snapshot, and with models the models of every provider in it
 * (api_models_read); 503 busy when a writer held a block.
 */
static int
snapshot_or_503(struct api_ctx *ctx, struct evbuffer *out,
    struct api_result *r, int models)
{
	int rc = api_snapshot(ctx);

	if (rc == VIGIL_OK && models)
		rc = api_models_read(&ctx->vc, ctx->snap, ctx->nsnap,
		    &ctx->models);
	if (rc == VIGIL_OK)
		return 0;
	api_error_json(out, "busy", NULL, vigil_strerror(rc));
	r->code = 503;
	r->ctype = CT_JSON;
	return -1;
}

/* GET /health: 200 while the aggregator's heartbeat is fresh
 * (vigil_aggregator_stale), else 503. */
void
api_view_health(struct api_ctx *ctx, struct evbuffer *out,
    struct api_result *r)
{
	uint64_t now = vigil_now_mono_ns();
	uint64_t age = vigil_aggregator_age_at(&ctx->vc, now);
	cJSON *o = cJSON_CreateObject();
	char reason[128];

	r->ctype = CT_JSON;
	if (age == UINT64_MAX) {
		r->code = 503;
		cJSON_AddStringToObject(o, "status", "unavailable");
		cJSON_AddStringToObject(o, "reason",
		    "the aggregator has never written a heartbeat");
		cJSON_AddNullToObject(o, "aggregator_heartbeat_age_s");
	} else if (vigil_aggregator_stale(&ctx->vc, now)) {
		r->code = 503;
		snprintf(reason, sizeof(reason), "the aggregator heartbeat is "
		    "%.1f s old (limit %.1f s)", age / 1e9,
		    VIGIL_AGG_STALE_NS / 1e9);
		cJSON_AddStringToObject(o, "status", "unavailable");
		cJSON_AddStringToObject(o, "reason", reason);
		cJSON_AddNumberToObject(o, "aggregator_heartbeat_age_s",
		    api_round3(age / 1e9));
	} else {
		r->code = 200;
		cJSON_AddStringToObject(o, "status", "ok");
		cJSON_AddNumberToObject(o, "aggregator_heartbeat_age_s",
		    api_round3(age / 1e9));
	}
	cJSON_AddStringToObject(o, "version", VIGIL_VERSION);
	add_time(o, "started_at", ctx->started_wall_ns);
	put_json(out, o);
}

/* The canaries shown at most (vigil.conf allows 8). */
#define API_CANARIES	8

/*
 * The vantage self-check (docs/aggregation.md, "Vantage"): "state" ok
 * or ours (our network fails: the providers failing with it show
 * unknown, reason network), "since", and each canary's slot: name, host,
 * status, newest outcome and when.  Canaries are not providers: they
 * are listed here only.
 */
static void
vantage_write(struct api_ctx *ctx, struct api_wbuf *w)
{
	struct vigil_provider cs[API_CANARIES];
	uint64_t since;
	size_t n = 0, i;
	int ours = vigil_vantage(&ctx->vc, &since);

	if (vigil_snapshot_canaries(&ctx->vc, cs, API_CANARIES, &n) !=
	    VIGIL_OK)
		n = 0;
	api_wb_lit(w, ",\"vantage\":{\"state\":");
	api_wb_jstr(w, ours ? "ours" : "ok");
	api_wb_lit(w, ",\"since\":");
	if (since != 0)
		api_wb_jtime(w, since);
	else
		api_wb_lit(w, "null");
	api_wb_lit(w, ",\"canaries\":[");
	for (i = 0; i < n; i++) {
		struct vigil_provider *c = &cs[i];

		api_clean_provider(c);
		if (i > 0)
			api_wb_lit(w, ",");
		api_wb_lit(w, "{\"name\":");
		api_wb_jstr(w, c->info.name);
		api_wb_lit(w, ",\"host\":");
		api_wb_jstr(w, c->info.host);
		api_wb_lit(w, ",\"status\":");
		api_wb_jstr(w, vigil_status_name(vigil_effective_status(c)));
		api_wb_lit(w, ",\"last_outcome\":");
		if (c->stats.samples_total > 0)
			api_wb_jstr(w, vigil_outcome_name(
			    c->stats.last.outcome));
		else
			api_wb_lit(w, "null");
		api_wb_lit(w, ",\"last_check_at\":");
		if (c->stats.samples_total > 0 && c->stats.last.wall_ns != 0)
			api_wb_jtime(w, c->stats.last.wall_ns);
		else
			api_wb_lit(w, "null");
		api_wb_lit(w, ",\"consecutive_failures\":");
		api_wb_u64(w, c->stats.consecutive_failures);
		api_wb_lit(w, "}");
	}
	api_wb_lit(w, "]}");
}

/*
 * GET /health/integration: the IntegrationHealthResponse.  One pass over
 * the snapshot straight into the response buffer: O(providers), no
 * allocation per provider.
 */
void
api_view_integration(struct api_ctx *ctx, const struct api_query *q,
    struct evbuffer *out, struct api_result *r)
{
	struct api_wbuf w;
	uint64_t wall;
	size_t i;

	(void)q;		/* no parameters: main.c's route table */
	if (snapshot_or_503(ctx, out, r, 1) == -1)
		return;
	wall = now_wall_ns();
	api_wb_begin(&w, out);
	api_wb_lit(&w, "{\"status\":");
	api_wb_jstr(&w, vigil_status_name(vigil_overall_status(&ctx->vc,
	    ctx->snap, ctx->nsnap, ctx->snap_at_ns)));
	api_wb_lit(&w, ",\"generated_at\":");
	api_wb_jtime(&w, wall);
	api_wb_str(&w, vigil_aggregator_stale(&ctx->vc, ctx->snap_at_ns) ?
	    ",\"aggregator_stale\":true" : ",\"aggregator_stale\":false");
	api_wb_lit(&w, ",\"providers\":[");
	for (i = 0; i < ctx->nsnap; i++) {
		struct api_pmodels pm = api_models_of(&ctx->models, i);

		if (i > 0)
			api_wb_lit(&w, ",");
		provider_write(ctx, &w, &ctx->snap[i], &pm, ctx->snap_at_ns,
		    wall, 0);
		api_wb_lit(&w, "}");
	}
	api_wb_lit(&w, "]");
	vantage_write(ctx, &w);
	api_wb_lit(&w, "}\n");
	wb_finish(&w, out, r);
}

/*
 * GET /health/integration/providers/{name}: one provider in full plus its
 * most recent samples (?samples=N, default 50, at most the ring size).
 */
void
api_view_provider(struct api_ctx *ctx, const char *name,
    const struct api_query *q, struct evbuffer *out, struct api_result *r)
{
	const struct vigil_provider *p;
	struct api_pmodels pm;
	struct vigil_cursor cur;
	struct api_wbuf w;
	const char *v;
	char *end, msg[96];
	unsigned long want = 50;
	size_t n, i;
	int rc;

	if ((v = api_query_get(q, "samples")) != NULL) {
		want = strtoul(v, &end, 10);
		if (*v == '\0' || *end != '\0' || want >
		    ctx->vc.lay.sample_cap) {
			snprintf(msg, sizeof(msg), "samples must be 0..%u",
			    ctx->vc.lay.sample_cap);
			bad_param(out, r, "samples", msg);
			return;
		}
	}
	if (snapshot_or_503(ctx, out, r, 0) == -1)
		return;
	if ((p = find_snap(ctx, name)) == NULL) {
		snprintf(msg, sizeof(msg), "no provider named \"%.32s\"", name);
		api_error_json(out, "not_found", NULL, msg);
		r->code = 404;
		r->ctype = CT_JSON;
		return;
	}
	if ((rc = api_models_read(&ctx->vc, p, 1, &ctx->models)) !=
	    VIGIL_OK) {
		api_error_json(out, "busy", NULL, vigil_strerror(rc));
		r->code = 503;
		r->ctype = CT_JSON;
		return;
	}
	pm = api_models_of(&ctx->models, 0);
	vigil_samples_tail(&ctx->vc, p->idx, &cur, want);
	n = vigil_read_samples(&ctx->vc, p->idx, &cur, ctx->samples, want);
	for (i = 0; i < n; i++)
		api_clean_sample(&ctx->samples[i]);
	api_wb_begin(&w, out);
	provider_write(ctx, &w, p, &pm, ctx->snap_at_ns, now_wall_ns(), 1);
	api_wb_lit(&w, ",\"samples\":[");
	for (i = 0; i < n; i++) {
		const struct vigil_sample *sm = &ctx->samples[i];

		api_wb_str(&w, i > 0 ? ",{\"at\":" : "{\"at\":");
		api_wb_jtime(&w, sm->wall_ns);
		api_wb_lit(&w, ",\"unix\":");
		api_wb_jnum(&w, sm->wall_ns / 1e9);
		api_wb_lit(&w, ",\"outcome\":");
		api_wb_jstr(&w, vigil_outcome_name(sm->outcome));
		api_wb_lit(&w, ",\"http_status\":");
		api_wb_u64(&w, sm->http_status);
		api_wb_lit(&w, ",\"latency_ms\":");
		api_wb_jnum(&w, sm->latency_us / 1000.0);
		api_wb_lit(&w, ",\"ttfb_ms\":");
		api_wb_jnum(&w, sm->ttfb_us / 1000.0);
		api_wb_lit(&w, ",\"error\":");
		api_wb_jstr(&w, sm->error);
		retry_write(&w, sm);
		api_wb_str(&w, (sm->flags & VIGIL_SF_MANUAL) != 0 ?
		    ",\"manual\":true" : ",\"manual\":false");
		api_wb_str(&w, (sm->flags & VIGIL_SF_CONFIRM) != 0 ?
		    ",\"confirm\":true" : ",\"confirm\":false");
		sample_model_write(&w, sm, &pm);
	}
	api_wb_lit(&w, "],\"samples_unread_lost\":");
	api_wb_u64(&w, cur.lost);
	api_wb_lit(&w, "}\n");
	wb_finish(&w, out, r);
}

/*
 * GET /health/integration/graph: nodes (the platform, vigil, each
 * provider with its endpoint host) and edges (platform -> provider
 * carrying the provider's health; vigil -> provider "monitors").
 * ?format=dot gives the same graph as Graphviz text.
 */
void
api_view_graph(struct api_ctx *ctx, const struct api_query *q,
    struct evbuffer *out, struct api_result *r)
{
	static const char *const colour[] = { "gray", "green", "orange",
	    "red", "purple", "lightblue", "gold", "magenta" };
	const char *fmt = api_query_get(q, "format");
	int dot, vigil_ok;
	cJSON *o, *nodes, *edges, *n, *e;
	uint64_t wall;
	size_t i;

	/* A status without a colour printed "(null)" into the DOT. */
	_Static_assert(sizeof(colour) / sizeof(colour[0]) == VIGIL_ST_COUNT,
	    "a colour per status");

	if (fmt == NULL || strcmp(fmt, "json") == 0)
		dot = 0;
	else if (strcmp(fmt, "dot") == 0)
		dot = 1;
	else {
		bad_param(out, r, "format", "format must be json or dot");
		return;
	}
	if (snapshot_or_503(ctx, out, r, 0) == -1)
		return;
	vigil_ok = !vigil_aggregator_stale(&ctx->vc, ctx->snap_at_ns);
	wall = now_wall_ns();
	r->code = 200;
	if (dot) {
		r->ctype = CT_DOT;
		evbuffer_add_printf(out, "digraph vigil {\n"
		    "\trankdir=LR;\n"
		    "\tnode [shape=box, style=filled, fillcolor=white];\n"
		    "\t\"platform\" [label=\"platform\"];\n"
		    "\t\"vigil\" [label=\"vigil\\n%s\", fillcolor=%s];\n",
		    vigil_ok ? "ok" : "stale", vigil_ok ? "green" : "red");
		for (i = 0; i < ctx->nsnap; i++) {
			const struct vigil_provider *p = &ctx->snap[i];
			unsigned st = vigil_effective_status(p);
			char en[2 * VIGIL_NAME_MAX], eh[2 * VIGIL_HOST_MAX];

			/* The config allows no quote in a name or host, but
			 * the segment is not the config: escape. */
			api_dot_escape(p->info.name, en, sizeof(en));
			api_dot_escape(p->info.host, eh, sizeof(eh));
			evbuffer_add_printf(out, "\t\"provider:%s\" [label=\""
			    "%s\\n%s\\n%s\", fillcolor=%s];\n", en,
			    en, eh, vigil_status_name(st),
			    st < VIGIL_ST_COUNT ? colour[st] : "gray");
			evbuffer_add_printf(out, "\t\"platform\" -> "
			    "\"provider:%s\" [label=\"%s / %s\", color=%s];\n",
			    en, vigil_status_name(st),
			    vigil_circuit_name(p->stats.circuit),
			    st < VIGIL_ST_COUNT ? colour[st] : "gray");
			evbuffer_add_printf(out, "\t\"vigil\" -> \"provider:%s\" "
			    "[style=dashed, label=\"monitors\"];\n", en);
		}
		evbuffer_add_printf(out, "}\n");
		return;
	}
	r->ctype = CT_JSON;
	o = cJSON_CreateObject();
	add_time(o, "generated_at", wall);
	nodes = cJSON_AddArrayToObject(o, "nodes");
	edges = cJSON_AddArrayToObject(o, "edges");
	n = cJSON_CreateObject();
	cJSON_AddStringToObject(n, "id", "platform");
	cJSON_AddStringToObject(n, "type", "platform");
	cJSON_AddItemToArray(nodes, n);
	n = cJSON_CreateObject();
	cJSON_AddStringToObject(n, "id", "vigil");
	cJSON_AddStringToObject(n, "type", "monitor");
	cJSON_AddStringToObject(n, "status", vigil_ok ? "ok" : "stale");
	cJSON_AddItemToArray(nodes, n);
	for (i = 0; i < ctx->nsnap; i++) {
		const struct vigil_provider *p = &ctx->snap[i];
		char id[VIGIL_NAME_MAX + 16];
		const char *st = vigil_status_name(vigil_effective_status(p));

		snprintf(id, sizeof(id), "provider:%s", p->info.name);
		n = cJSON_CreateObject();
		cJSON_AddStringToObject(n, "id", id);
		cJSON_AddStringToObject(n, "type", "provider");
		cJSON_AddStringToObject(n, "name", p->info.name);
		cJSON_AddStringToObject(n, "kind",
		    vigil_kind_name(p->info.kind));
		cJSON_AddStringToObject(n, "host", p->info.host);
		cJSON_AddStringToObject(n, "status", st);
		cJSON_AddItemToArray(nodes, n);
		e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "from", "platform");
		cJSON_AddStringToObject(e, "to", id);
		cJSON_AddStringToObject(e, "type", "depends_on");
		cJSON_AddStringToObject(e, "status", st);
		cJSON_AddStringToObject(e, "circuit",
		    vigil_circuit_name(p->stats.circuit));
		cJSON_AddBoolToObject(e, "stale",
		    vigil_provider_stale(&ctx->vc, p, ctx->snap_at_ns));
		cJSON_AddBoolToObject(e, "usable", vigil_provider_usable(p,
		    wall));
		add_reason(e, "reason", p->stats.reason);
		cJSON_AddItemToArray(edges, e);
		e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "from", "vigil");
		cJSON_AddStringToObject(e, "to", id);
		cJSON_AddStringToObject(e, "type", "monitors");
		cJSON_AddItemToArray(edges, e);
	}
	put_json(out, o);
}

/*
 * One aggregated bucket of history records: count of all, and of those
 * whose outcome says something about the provider (vigil_outcome_counts:
 * a 429 or a spent quota is about us) counted and errors, as the
 * aggregator's windows count them.
 */
struct bucket {
	uint64_t start_s;
	uint32_t count, counted, errors, nlat;
	double lat_sum, lat_max;
	unsigned worst, worst_reason;
};

static void
bucket_emit(const struct bucket *b, const char *name, int csv, cJSON *arr,
    struct evbuffer *out)
{
	char at[32], field[2 * VIGIL_NAME_MAX + 2];
	const char *wr = vigil_reason_name(b->worst_reason);
	double er = b->counted ? (double)b->errors / b->counted : 0;

	api_time_format(b->start_s * 1000000000ull, at, sizeof(at));
	if (csv) {
		api_csv_field(name, field, sizeof(field));
		evbuffer_add_printf(out, "%s,%s,%llu,%u,%u,%.6g,", field, at,
		    (unsigned long long)b->start_s, b->count, b->errors, er);
		if (b->nlat)
			evbuffer_add_printf(out, "%.3f,%.3f,", b->lat_sum /
			    b->nlat, b->lat_max);
		else
			evbuffer_add_printf(out, ",,");
		evbuffer_add_printf(out, "%s,%s\r\n",
		    vigil_status_name(b->worst), wr != NULL ? wr : "");
	} else {
		cJSON *o = cJSON_CreateObject(), *l;

		cJSON_AddStringToObject(o, "at", at);
		cJSON_AddNumberToObject(o, "unix", (double)b->start_s);
		cJSON_AddNumberToObject(o, "count", b->count);
		cJSON_AddNumberToObject(o, "errors", b->errors);
		cJSON_AddNumberToObject(o, "error_rate", api_round3(er));
		l = cJSON_AddObjectToObject(o, "latency_ms");
		if (b->nlat) {
			cJSON_AddNumberToObject(l, "mean",
			    api_round3(b->lat_sum / b->nlat));
			cJSON_AddNumberToObject(l, "max",
			    api_round3(b->lat_max));
		} else {
			cJSON_AddNullToObject(l, "mean");
			cJSON_AddNullToObject(l, "max");
		}
		cJSON_AddStringToObject(o, "worst_status",
		    vigil_status_name(b->worst));
		add_reason(o, "worst_reason", b->worst_reason);
		cJSON_AddItemToArray(arr, o);
	}
}

static void
raw_emit(const struct vigil_history *h, const char *name, int csv,
    cJSON *arr, struct evbuffer *out)
{
	char at[32], field[2 * VIGIL_NAME_MAX + 2];
	const char *rs = vigil_reason_name(h->reason);

	api_time_format(h->wall_ns, at, sizeof(at));
	if (csv) {
		api_csv_field(name, field, sizeof(field));
		evbuffer_add_printf(out, "%s,%s,%.3f,%.3f,%s,%u,%s,%s,%s,"
		    "%.6g,%.6g,%.3f,%.3f,%.3f,%u,%s\r\n", field, at,
		    h->wall_ns / 1e9, h->latency_us / 1000.0,
		    vigil_outcome_name(h->outcome), h->http_status,
		    vigil_status_name(h->status),
		    vigil_circuit_name(h->circuit), vigil_trend_name(h->trend),
		    h->error_ppm / 1e6, h->uptime_ppm / 1e6, h->p50_us / 1000.0,
		    h->p95_us / 1000.0, h->p99_us / 1000.0, h->samples_1m,
		    rs != NULL ? rs : "");
	} else {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "at", at);
		cJSON_AddNumberToObject(o, "unix", api_round3(h->wall_ns /
		    1e9));
		cJSON_AddNumberToObject(o, "latency_ms",
		    api_round3(h->latency_us / 1000.0));
		cJSON_AddStringToObject(o, "outcome",
		    vigil_outcome_name(h->outcome));
		cJSON_AddNumberToObject(o, "http_status", h->http_status);
		cJSON_AddStringToObject(o, "status",
		    vigil_status_name(h->status));
		add_reason(o, "reason", h->reason);
		cJSON_AddStringToObject(o, "circuit",
		    vigil_circuit_name(h->circuit));
		cJSON_AddStringToObject(o, "trend", vigil_trend_name(h->trend));
		cJSON_AddNumberToObject(o, "error_rate", api_round3(h->error_ppm /
		    1e6));
		cJSON_AddNumberToObject(o, "uptime", api_round3(h->uptime_ppm /
		    1e6));
		cJSON_AddNumberToObject(o, "p50_ms", api_round3(h->p50_us /
		    1000.0));
		cJSON_AddNumberToObject(o, "p95_ms", api_round3(h->p95_us /
		    1000.0));
		cJSON_AddNumberToObject(o, "p99_ms", api_round3(h->p99_us /
		    1000.0));
		cJSON_AddNumberToObject(o, "samples_1m", h->samples_1m);
		cJSON_AddItemToArray(arr, o);
	}
}

/*
 * One provider's history between from and to (ns, inclusive), raw or in
 * step-second buckets aligned to the epoch.  Latency in a bucket is over
 * its "ok" records only (a timeout's latency is the timeout); errors and
 * the error rate over the records whose outcome counts (struct bucket);
 * the worst status uses vigil_status_severity, and the worst reason is
 * that record's.  O(history_cap).
 */
static void
history_one(struct api_ctx *ctx, const struct vigil_provider *p,
    uint64_t from, uint64_t to, uint32_t step, int csv, cJSON *arr,
    struct evbuffer *out)
{
	struct vigil_cursor cur = { 0, 0 };
	struct bucket b;
	size_t n, i;
	int open = 0;

	n = vigil_read_history(&ctx->vc, p->idx, &cur, ctx->hist,
	    ctx->vc.lay.history_cap);
	memset(&b, 0, sizeof(b));
	for (i = 0; i < n; i++) {
		const struct vigil_history *h = &ctx->hist[i];
		uint64_t s;

		if (h->wall_ns < from || h->wall_ns > to)
			continue;
		if (step == 0) {
			raw_emit(h, p->info.name, csv, arr, out);
			continue;
		}
		s = h->wall_ns / 1000000000ull / step * step;
		if (open && s != b.start_s) {
			bucket_emit(&b, p->info.name, csv, arr, out);
			open = 0;
		}
		if (!open) {
			memset(&b, 0, sizeof(b));
			b.start_s = s;
			b.worst = h->status;
			b.worst_reason = h->reason;
			open = 1;
		}
		b.count++;
		if (vigil_outcome_counts(h->outcome))
			b.counted++;
		if (h->outcome != VIGIL_OUT_OK) {
			if (vigil_outcome_counts(h->outcome))
				b.errors++;
		} else {
			b.nlat++;
			b.lat_sum += h->latency_us / 1000.0;
			if (h->latency_us / 1000.0 > b.lat_max)
				b.lat_max = h->latency_us / 1000.0;
		}
		if (vigil_status_severity(h->status) >
		    vigil_status_severity(b.worst)) {
			b.worst = h->status;
			b.worst_reason = h->reason;
		}
	}
	if (open)
		bucket_emit(&b, p->info.name, csv, arr, out);
}

/*
 * GET /health/integration/history?provider=&from=&to=&step=&format=
 * provider: one name, or absent for all.  from/to: RFC 3339 or Unix
 * seconds, default the last 24 hours up to now.  step: raw (default), 1m,
 * 5m, 15m, 1h.  format: json (default) or csv (as an attachment).
 */
void
api_view_history(struct api_ctx *ctx, const struct api_query *q,
    struct evbuffer *out, struct api_result *r)
{
	const char *prov = api_query_get(q, "provider");
	const char *v, *stepname = "raw";
	uint64_t from, to;
	uint32_t step = 0;
	int csv = 0;
	cJSON *o = NULL, *provs = NULL, *one, *pts;
	char msg[96], at[32];
	size_t i;

	to = now_wall_ns();
	if ((v = api_query_get(q, "to")) != NULL &&
	    api_time_parse(v, &to) == -1) {
		bad_param(out, r, "to", "to must be RFC 3339 "
		    "(2026-11-28T15:04:05Z) or Unix seconds");
		return;
	}
	from = to > 86400ull * 1000000000ull ? to - 86400ull * 1000000000ull :
	    0;
	if ((v = api_query_get(q, "from")) != NULL &&
	    api_time_parse(v, &from) == -1) {
		bad_param(out, r, "from", "from must be RFC 3339 "
		    "(2026-11-28T15:04:05Z) or Unix seconds");
		return;
	}
	if (from > to) {
		bad_param(out, r, "from", "from is after to");
		return;
	}
	if ((v = api_query_get(q, "step")) != NULL) {
		if (api_step_parse(v, &step) == -1) {
			bad_param(out, r, "step", "step must be raw, 1m, 5m, "
			    "15m or 1h");
			return;
		}
		stepname = v;
	}
	if ((v = api_query_get(q, "format")) != NULL) {
		if (strcmp(v, "csv") == 0)
			csv = 1;
		else if (strcmp(v, "json") != 0) {
			bad_param(out, r, "format", "format must be json or "
			    "csv");
			return;
		}
	}
	if (prov != NULL && !api_name_valid(prov)) {
		bad_param(out, r, "provider", "provider must be a provider "
		    "name ([A-Za-z0-9_.-], at most 31 bytes)");
		return;
	}
	if (snapshot_or_503(ctx, out, r, 0) == -1)
		return;
	if (prov != NULL && find_snap(ctx, prov) == NULL) {
		snprintf(msg, sizeof(msg), "no provider named \"%.32s\"", prov);
		api_error_json(out, "not_found", "provider", msg);
		r->code = 404;
		r->ctype = CT_JSON;
		return;
	}
	r->code = 200;
	if (csv) {
		r->ctype = CT_CSV;
		snprintf(r->dispbuf, sizeof(r->dispbuf), "attachment; "
		    "filename=\"vigil-history-%s-%s.csv\"", prov != NULL ?
		    prov : "all", stepname);
		r->disposition = r->dispbuf;
		if (step == 0)
			evbuffer_add_printf(out, "provider,at,unix,latency_ms,"
			    "outcome,http_status,status,circuit,trend,"
			    "error_rate,uptime,p50_ms,p95_ms,p99_ms,"
			    "samples_1m,reason\r\n");
		else
			evbuffer_add_printf(out, "provider,at,unix,count,"
			    "errors,error_rate,mean_latency_ms,max_latency_ms,"
			    "worst_status,worst_reason\r\n");
	} else {
		r->ctype = CT_JSON;
		o = cJSON_CreateObject();
		api_time_format(from, at, sizeof(at));
		cJSON_AddStringToObject(o, "from", at);
		api_time_format(to, at, sizeof(at));
		cJSON_AddStringToObject(o, "to", at);
		cJSON_AddStringToObject(o, "step", stepname);
		provs = cJSON_AddArrayToObject(o, "providers");
	}
	for (i = 0; i < ctx->nsnap; i++) {
		const struct vigil_provider *p = &ctx->snap[i];

		if (prov != NULL && strcmp(prov, p->info.name) != 0)
			continue;
		pts = NULL;
		if (!csv) {
			one = cJSON_CreateObject();
			cJSON_AddStringToObject(one, "name", p->info.name);
			pts = cJSON_AddArrayToObject(one, "points");
			cJSON_AddItemToArray(provs, one);
		}
		history_one(ctx, p, from, to, step, csv, pts, out);
	}
	if (!csv)
		put_json(out, o);
}

/*
 * An alert's incident fields into e, from the alert ring all[0..n)
 * (docs/aggregation.md, "Incidents"): "incident_id", the number of the
 * incident it belongs to, once that incident's alert is in the ring
 * (null before: a group that has not formed, or never will); for an
 * incident alert, "members", the providers whose alerts carry its
 * number, in the order they joined.  O(n).
 */
void
api_alert_incident(cJSON *e, const struct vigil_alert *al,
    const struct vigil_alert *all, size_t n)
{
	cJSON *m;
	size_t i, j;
	int formed = al->kind == VIGIL_AK_INCIDENT;

	for (i = 0; i < n && !formed && al->incident_id != 0; i++)
		formed = all[i].kind == VIGIL_AK_INCIDENT &&
		    all[i].incident_id == al->incident_id;
	if (formed && al->incident_id != 0)
		cJSON_AddNumberToObject(e, "incident_id",
		    (double)al->incident_id);
	else
		cJSON_AddNullToObject(e, "incident_id");
	if (al->kind != VIGIL_AK_INCIDENT)
		return;
	m = cJSON_AddArrayToObject(e, "members");
	for (i = 0; i < n && al->incident_id != 0; i++) {
		if (all[i].incident_id != al->incident_id ||
		    all[i].kind == VIGIL_AK_INCIDENT)
			continue;
		for (j = 0; j < i; j++)
			if (all[j].incident_id == al->incident_id &&
			    all[j].kind != VIGIL_AK_INCIDENT &&
			    strcmp(all[j].provider, all[i].provider) == 0)
				break;
		if (j == i)
			cJSON_AddItemToArray(m,
			    cJSON_CreateString(all[i].provider));
	}
}

/*
 * GET /health/integration/alerts?since=&provider=&level=&limit=
 * Oldest first; limit (default and max: the alert ring's size) keeps the
 * newest.  An alert names its provider, which may since have been
 * removed: an unknown provider is not a 404 here.
 */
void
api_view_alerts(struct api_ctx *ctx, const struct api_query *q,
    struct evbuffer *out, struct api_result *r)
{
	const char *prov = api_query_get(q, "provider");
	const char *v;
	struct vigil_cursor cur = { 0, 0 };
	uint64_t since = 0;
	unsigned long limit = ctx->vc.lay.alert_cap;
	int level = -1, l;
	size_t n, i, kept = 0, first, *keep;
	char *end, at[32];
	cJSON *o, *a, *e;

	if ((v = api_query_get(q, "since")) != NULL &&
	    api_time_parse(v, &since) == -1) {
		bad_param(out, r, "since", "since must be RFC 3339 "
		    "(2026-11-28T15:04:05Z) or Unix seconds");
		return;
	}
	if ((v = api_query_get(q, "level")) != NULL) {
		for (l = 0; l < VIGIL_AL_COUNT; l++)
			if (strcmp(v, vigil_alert_level_name((unsigned)l)) ==
			    0)
				level = l;
		if (level == -1) {
			bad_param(out, r, "level", "level must be warning, "
			    "critical or resolved");
			return;
		}
	}
	if ((v = api_query_get(q, "limit")) != NULL) {
		limit = strtoul(v, &end, 10);
		if (*v == '\0' || *end != '\0' || limit < 1 ||
		    limit > ctx->vc.lay.alert_cap) {
			bad_param(out, r, "limit", "limit must be 1.. the "
			    "alert retention");
			return;
		}
	}
	if (prov != NULL && !api_name_valid(prov)) {
		bad_param(out, r, "provider", "provider must be a provider "
		    "name ([A-Za-z0-9_.-], at most 31 bytes)");
		return;
	}
	n = vigil_read_alerts(&ctx->vc, &cur, ctx->alerts,
	    ctx->vc.lay.alert_cap);
	for (i = 0; i < n; i++)
		api_clean_alert(&ctx->alerts[i]);
	/* Filter into keep[] (the whole ring names an incident's
	 * members), then keep the newest `limit`. */
	if ((keep = calloc(n + 1, sizeof(*keep))) == NULL) {
		r->code = 503;
		r->ctype = CT_JSON;
		api_error_json(out, "unavailable", NULL, "out of memory");
		return;
	}
	for (i = 0; i < n; i++) {
		const struct vigil_alert *al = &ctx->alerts[i];

		if (al->wall_ns < since)
			continue;
		if (prov != NULL && strcmp(al->provider, prov) != 0)
			continue;
		if (level != -1 && al->level != level)
			continue;
		keep[kept++] = i;
	}
	first = kept > limit ? kept - limit : 0;
	o = cJSON_CreateObject();
	add_time(o, "generated_at", now_wall_ns());
	a = cJSON_AddArrayToObject(o, "alerts");
	for (i = first; i < kept; i++) {
		const struct vigil_alert *al = &ctx->alerts[keep[i]];

		e = cJSON_CreateObject();
		cJSON_AddNumberToObject(e, "id", (double)al->id);
		api_time_format(al->wall_ns, at, sizeof(at));
		cJSON_AddStringToObject(e, "at", at);
		cJSON_AddNumberToObject(e, "unix", api_round3(al->wall_ns /
		    1e9));
		cJSON_AddStringToObject(e, "provider", al->provider);
		cJSON_AddStringToObject(e, "kind",
		    vigil_alert_kind_name(al->kind));
		cJSON_AddStringToObject(e, "level",
		    vigil_alert_level_name(al->level));
		cJSON_AddNumberToObject(e, "value", api_round3(al->value));
		cJSON_AddNumberToObject(e, "threshold",
		    api_round3(al->threshold));
		cJSON_AddBoolToObject(e, "silenced",
		    (al->flags & VIGIL_ALF_SILENCED) != 0);
		cJSON_AddBoolToObject(e, "needs_human",
		    al->level != VIGIL_AL_RESOLVED &&
		    vigil_alert_needs_human(al->kind));
		api_alert_incident(e, al, ctx->alerts, n);
		cJSON_AddItemToArray(a, e);
	}
	free(keep);
	cJSON_AddNumberToObject(o, "lost", (double)cur.lost);
	r->code = 200;
	r->ctype = CT_JSON;
	put_json(out, o);
}
