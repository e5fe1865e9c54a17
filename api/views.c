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
static cJSON	*window_json(const struct vigil_window *, int);
static cJSON	*provider_json(struct api_ctx *, const struct vigil_provider *,
		    int);
static void	 put_json(struct evbuffer *, cJSON *);
static int	 bad_param(struct evbuffer *, struct api_result *,
		    const char *, const char *);
static int	 check_params(const struct api_query *, const char *const *,
		    struct evbuffer *, struct api_result *);
static const struct vigil_provider *find_snap(const struct api_ctx *,
		    const char *);
static const char *overall_status(const struct api_ctx *);
static int	 snapshot_or_503(struct api_ctx *, struct evbuffer *,
		    struct api_result *);
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

/* 400 naming the first parameter that is not in allowed. */
static int
check_params(const struct api_query *q, const char *const *allowed,
    struct evbuffer *out, struct api_result *r)
{
	const char *bad;
	char msg[128];

	if (api_query_only(q, allowed, &bad) == 0)
		return 0;
	snprintf(msg, sizeof(msg), "unknown parameter \"%.40s\"", bad);
	return bad_param(out, r, bad, msg);
}

/*
 * Take one consistent snapshot of every provider into ctx->snap.  Returns
 * VIGIL_OK or the client's error (VIGIL_EBUSY: a writer held a block for
 * every retry).
 */
int
api_snapshot(struct api_ctx *ctx)
{
	int rc;

	rc = vigil_snapshot_all(&ctx->vc, ctx->snap,
	    vigil_capacity(&ctx->vc), &ctx->nsnap);
	ctx->snap_at_ns = now_mono_ns();
	return rc;
}

/*
 * Stale: the data may be old because a writer stopped.  True when the
 * aggregator's beat is older than agg_stale_ns, or the provider's prober
 * beat is older than 3 intervals (or never came) while it is enabled.
 */
int
api_provider_stale(const struct api_ctx *ctx, const struct vigil_provider *p)
{
	uint64_t age, limit;

	if (vigil_aggregator_age_ns(&ctx->vc) > ctx->agg_stale_ns)
		return 1;
	if (!(p->info.flags & VIGIL_PF_ENABLED))
		return 0;
	age = vigil_prober_age_ns(&ctx->vc, p->idx);
	limit = (uint64_t)API_PROBER_STALE_MULT * p->info.interval_ms *
	    1000000ull;
	if (limit == 0)
		limit = API_AGG_STALE_NS;
	return age > limit;
}

static cJSON *
window_json(const struct vigil_window *w, int full)
{
	cJSON *o = cJSON_CreateObject(), *l, *b;
	unsigned i;

	cJSON_AddNumberToObject(o, "samples", w->samples);
	cJSON_AddNumberToObject(o, "error_rate", api_round3(w->error_rate));
	cJSON_AddNumberToObject(o, "uptime", api_round3(w->uptime));
	l = cJSON_AddObjectToObject(o, "latency_ms");
	cJSON_AddNumberToObject(l, "p50", api_round3(w->p50_ms));
	cJSON_AddNumberToObject(l, "p95", api_round3(w->p95_ms));
	cJSON_AddNumberToObject(l, "p99", api_round3(w->p99_ms));
	cJSON_AddNumberToObject(l, "mean", api_round3(w->mean_ms));
	cJSON_AddNumberToObject(l, "max", api_round3(w->max_ms));
	if (full) {
		cJSON_AddNumberToObject(o, "ok", w->ok);
		b = cJSON_AddObjectToObject(o, "by_outcome");
		for (i = 0; i < VIGIL_OUT_COUNT; i++)
			cJSON_AddNumberToObject(b, vigil_outcome_name(i),
			    w->by_outcome[i]);
	}
	return o;
}

/* One provider as in /health/integration; full adds the detail of
 * /health/integration/providers/{name}. */
static cJSON *
provider_json(struct api_ctx *ctx, const struct vigil_provider *p, int full)
{
	const struct vigil_stats *st = &p->stats;
	cJSON *o = cJSON_CreateObject(), *c, *w;
	unsigned i;

	cJSON_AddStringToObject(o, "name", p->info.name);
	cJSON_AddStringToObject(o, "kind", vigil_kind_name(p->info.kind));
	cJSON_AddStringToObject(o, "host", p->info.host);
	cJSON_AddStringToObject(o, "status", st->updated_wall_ns == 0 ?
	    "unknown" : vigil_status_name(st->status));
	cJSON_AddStringToObject(o, "circuit", vigil_circuit_name(st->circuit));
	cJSON_AddStringToObject(o, "trend", vigil_trend_name(st->trend));
	cJSON_AddBoolToObject(o, "stale", api_provider_stale(ctx, p));
	cJSON_AddBoolToObject(o, "paused",
	    (p->info.flags & VIGIL_PF_PAUSED) != 0);
	if (st->last.wall_ns != 0) {
		c = cJSON_AddObjectToObject(o, "last_check");
		add_time(c, "at", st->last.wall_ns);
		cJSON_AddStringToObject(c, "outcome",
		    vigil_outcome_name(st->last.outcome));
		cJSON_AddNumberToObject(c, "http_status", st->last.http_status);
		cJSON_AddNumberToObject(c, "latency_ms",
		    api_round3(st->last.latency_us / 1000.0));
		if (full) {
			cJSON_AddNumberToObject(c, "dns_ms",
			    api_round3(st->last.dns_us / 1000.0));
			cJSON_AddNumberToObject(c, "connect_ms",
			    api_round3(st->last.connect_us / 1000.0));
			cJSON_AddNumberToObject(c, "tls_ms",
			    api_round3(st->last.tls_us / 1000.0));
			cJSON_AddNumberToObject(c, "ttfb_ms",
			    api_round3(st->last.ttfb_us / 1000.0));
			cJSON_AddNumberToObject(c, "bytes", st->last.bytes);
			cJSON_AddStringToObject(c, "error", st->last.error);
		}
	} else
		cJSON_AddNullToObject(o, "last_check");
	if (st->last_error_wall_ns != 0) {
		c = cJSON_AddObjectToObject(o, "last_error");
		add_time(c, "at", st->last_error_wall_ns);
		cJSON_AddStringToObject(c, "outcome",
		    vigil_outcome_name(st->last_error_outcome));
		cJSON_AddStringToObject(c, "code", st->last_error);
	} else
		cJSON_AddNullToObject(o, "last_error");
	w = cJSON_AddObjectToObject(o, "windows");
	cJSON_AddItemToObject(w, "1m", window_json(&st->win[VIGIL_WIN_1M],
	    full));
	cJSON_AddItemToObject(w, "5m", window_json(&st->win[VIGIL_WIN_5M],
	    full));
	cJSON_AddItemToObject(w, "15m", window_json(&st->win[VIGIL_WIN_15M],
	    full));
	cJSON_AddNumberToObject(o, "uptime_total", api_round3(st->uptime_total));
	if (st->route_rank == UINT32_MAX)
		cJSON_AddNullToObject(o, "route_rank");
	else
		cJSON_AddNumberToObject(o, "route_rank", st->route_rank);
	cJSON_AddNumberToObject(o, "score", api_round3(st->score));
	cJSON_AddNumberToObject(o, "circuit_opens", st->circuit_opens);
	cJSON_AddNumberToObject(o, "consecutive_failures",
	    st->consecutive_failures);
	add_time(o, "updated_at", st->updated_wall_ns);
	if (!full)
		return o;
	cJSON_AddNumberToObject(o, "consecutive_successes",
	    st->consecutive_successes);
	cJSON_AddNumberToObject(o, "interval_ms", p->info.interval_ms);
	cJSON_AddNumberToObject(o, "timeout_ms", p->info.timeout_ms);
	cJSON_AddBoolToObject(o, "enabled",
	    (p->info.flags & VIGIL_PF_ENABLED) != 0);
	cJSON_AddNumberToObject(o, "prober_restarts", p->info.restarts);
	cJSON_AddNumberToObject(o, "samples_total", (double)st->samples_total);
	cJSON_AddNumberToObject(o, "samples_lost", (double)st->samples_lost);
	cJSON_AddNumberToObject(o, "alerts_total", (double)st->alerts_total);
	add_time(o, "since", st->since_wall_ns);
	add_time(o, "last_ok_at", st->last_ok_wall_ns);
	add_time(o, "circuit_since", st->circuit_since_wall_ns);
	add_time(o, "silenced_until", st->silenced_until_wall_ns);
	c = cJSON_AddObjectToObject(o, "checks_total");
	for (i = 0; i < VIGIL_OUT_COUNT; i++)
		cJSON_AddNumberToObject(c, vigil_outcome_name(i),
		    (double)st->checks_total[i]);
	return o;
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
 * The overall status: the worst provider status by api_status_rank
 * (healthy < paused < unknown < degraded < misconfigured < unhealthy);
 * "unknown" with no providers or a stale aggregator.
 */
static const char *
overall_status(const struct api_ctx *ctx)
{
	unsigned worst = VIGIL_ST_HEALTHY, st;
	size_t i;

	if (ctx->nsnap == 0 ||
	    vigil_aggregator_age_ns(&ctx->vc) > ctx->agg_stale_ns)
		return "unknown";
	for (i = 0; i < ctx->nsnap; i++) {
		st = ctx->snap[i].stats.updated_wall_ns == 0 ?
		    VIGIL_ST_UNKNOWN : ctx->snap[i].stats.status;
		if (i == 0 || api_status_rank(st) > api_status_rank(worst))
			worst = st;
	}
	return vigil_status_name(worst);
}

static int
snapshot_or_503(struct api_ctx *ctx, struct evbuffer *out,
    struct api_result *r)
{
	int rc = api_snapshot(ctx);

	if (rc == VIGIL_OK)
		return 0;
	api_error_json(out, "busy", NULL, vigil_strerror(rc));
	r->code = 503;
	r->ctype = CT_JSON;
	return -1;
}

/* GET /health: 200 while the aggregator's heartbeat is fresh, else 503. */
void
api_view_health(struct api_ctx *ctx, struct evbuffer *out,
    struct api_result *r)
{
	uint64_t age = vigil_aggregator_age_ns(&ctx->vc);
	cJSON *o = cJSON_CreateObject();
	char reason[128];

	r->ctype = CT_JSON;
	if (age == UINT64_MAX) {
		r->code = 503;
		cJSON_AddStringToObject(o, "status", "unavailable");
		cJSON_AddStringToObject(o, "reason",
		    "the aggregator has never written a heartbeat");
		cJSON_AddNullToObject(o, "aggregator_heartbeat_age_s");
	} else if (age > ctx->agg_stale_ns) {
		r->code = 503;
		snprintf(reason, sizeof(reason), "the aggregator heartbeat is "
		    "%.1f s old (limit %.1f s)", age / 1e9,
		    ctx->agg_stale_ns / 1e9);
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

/* GET /health/integration: the IntegrationHealthResponse. */
void
api_view_integration(struct api_ctx *ctx, const struct api_query *q,
    struct evbuffer *out, struct api_result *r)
{
	static const char *const allowed[] = { NULL };
	cJSON *o, *a;
	size_t i;

	if (check_params(q, allowed, out, r) == -1 ||
	    snapshot_or_503(ctx, out, r) == -1)
		return;
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "status", overall_status(ctx));
	add_time(o, "generated_at", now_wall_ns());
	cJSON_AddBoolToObject(o, "aggregator_stale",
	    vigil_aggregator_age_ns(&ctx->vc) > ctx->agg_stale_ns);
	a = cJSON_AddArrayToObject(o, "providers");
	for (i = 0; i < ctx->nsnap; i++)
		cJSON_AddItemToArray(a, provider_json(ctx, &ctx->snap[i], 0));
	r->code = 200;
	r->ctype = CT_JSON;
	put_json(out, o);
}

/*
 * GET /health/integration/providers/{name}: one provider in full plus its
 * most recent samples (?samples=N, default 50, at most the ring size).
 */
void
api_view_provider(struct api_ctx *ctx, const char *name,
    const struct api_query *q, struct evbuffer *out, struct api_result *r)
{
	static const char *const allowed[] = { "samples", NULL };
	const struct vigil_provider *p;
	struct vigil_cursor cur;
	const char *v;
	char *end, msg[96];
	unsigned long want = 50;
	size_t n, i;
	cJSON *o, *a, *s;

	if (check_params(q, allowed, out, r) == -1)
		return;
	if ((v = api_query_get(q, "samples")) != NULL) {
		want = strtoul(v, &end, 10);
		if (*v == '\0' || *end != '\0' || want >
		    ctx->vc.hdr->sample_cap) {
			snprintf(msg, sizeof(msg), "samples must be 0..%u",
			    ctx->vc.hdr->sample_cap);
			bad_param(out, r, "samples", msg);
			return;
		}
	}
	if (snapshot_or_503(ctx, out, r) == -1)
		return;
	if ((p = find_snap(ctx, name)) == NULL) {
		snprintf(msg, sizeof(msg), "no provider named \"%.32s\"", name);
		api_error_json(out, "not_found", NULL, msg);
		r->code = 404;
		r->ctype = CT_JSON;
		return;
	}
	o = provider_json(ctx, p, 1);
	vigil_samples_tail(&ctx->vc, p->idx, &cur, want);
	n = vigil_read_samples(&ctx->vc, p->idx, &cur, ctx->samples, want);
	a = cJSON_AddArrayToObject(o, "samples");
	for (i = 0; i < n; i++) {
		const struct vigil_sample *sm = &ctx->samples[i];

		s = cJSON_CreateObject();
		add_time(s, "at", sm->wall_ns);
		cJSON_AddNumberToObject(s, "unix", api_round3(sm->wall_ns /
		    1e9));
		cJSON_AddStringToObject(s, "outcome",
		    vigil_outcome_name(sm->outcome));
		cJSON_AddNumberToObject(s, "http_status", sm->http_status);
		cJSON_AddNumberToObject(s, "latency_ms",
		    api_round3(sm->latency_us / 1000.0));
		cJSON_AddNumberToObject(s, "ttfb_ms",
		    api_round3(sm->ttfb_us / 1000.0));
		cJSON_AddStringToObject(s, "error", sm->error);
		cJSON_AddBoolToObject(s, "manual",
		    (sm->flags & VIGIL_SF_MANUAL) != 0);
		cJSON_AddItemToArray(a, s);
	}
	cJSON_AddNumberToObject(o, "samples_unread_lost", (double)cur.lost);
	r->code = 200;
	r->ctype = CT_JSON;
	put_json(out, o);
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
	static const char *const allowed[] = { "format", NULL };
	static const char *const colour[VIGIL_ST_COUNT] = { "gray",
	    "green", "orange", "red", "purple", "lightblue" };
	const char *fmt = api_query_get(q, "format");
	int dot, vigil_ok;
	cJSON *o, *nodes, *edges, *n, *e;
	size_t i;

	if (check_params(q, allowed, out, r) == -1)
		return;
	if (fmt == NULL || strcmp(fmt, "json") == 0)
		dot = 0;
	else if (strcmp(fmt, "dot") == 0)
		dot = 1;
	else {
		bad_param(out, r, "format", "format must be json or dot");
		return;
	}
	if (snapshot_or_503(ctx, out, r) == -1)
		return;
	vigil_ok = vigil_aggregator_age_ns(&ctx->vc) <= ctx->agg_stale_ns;
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
			unsigned st = p->stats.updated_wall_ns == 0 ?
			    VIGIL_ST_UNKNOWN : p->stats.status;

			/* Names and hosts are [A-Za-z0-9_.-:]: no quoting
			 * issue, but never trust: drop quotes anyway. */
			evbuffer_add_printf(out, "\t\"provider:%s\" [label=\""
			    "%s\\n%s\\n%s\", fillcolor=%s];\n", p->info.name,
			    p->info.name, p->info.host, vigil_status_name(st),
			    st < VIGIL_ST_COUNT ? colour[st] : "gray");
			evbuffer_add_printf(out, "\t\"platform\" -> "
			    "\"provider:%s\" [label=\"%s / %s\", color=%s];\n",
			    p->info.name, vigil_status_name(st),
			    vigil_circuit_name(p->stats.circuit),
			    st < VIGIL_ST_COUNT ? colour[st] : "gray");
			evbuffer_add_printf(out, "\t\"vigil\" -> \"provider:%s\" "
			    "[style=dashed, label=\"monitors\"];\n",
			    p->info.name);
		}
		evbuffer_add_printf(out, "}\n");
		return;
	}
	r->ctype = CT_JSON;
	o = cJSON_CreateObject();
	add_time(o, "generated_at", now_wall_ns());
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
		const char *st = p->stats.updated_wall_ns == 0 ? "unknown" :
		    vigil_status_name(p->stats.status);

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
		cJSON_AddBoolToObject(e, "stale", api_provider_stale(ctx, p));
		cJSON_AddItemToArray(edges, e);
		e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "from", "vigil");
		cJSON_AddStringToObject(e, "to", id);
		cJSON_AddStringToObject(e, "type", "monitors");
		cJSON_AddItemToArray(edges, e);
	}
	put_json(out, o);
}

/* One aggregated bucket of history records. */
struct bucket {
	uint64_t start_s;
	uint32_t count, errors, nlat;
	double lat_sum, lat_max;
	unsigned worst;
};

static void
bucket_emit(const struct bucket *b, const char *name, int csv, cJSON *arr,
    struct evbuffer *out)
{
	char at[32];
	double er = b->count ? (double)b->errors / b->count : 0;

	api_time_format(b->start_s * 1000000000ull, at, sizeof(at));
	if (csv) {
		evbuffer_add_printf(out, "%s,%s,%llu,%u,%u,%.6g,", name, at,
		    (unsigned long long)b->start_s, b->count, b->errors, er);
		if (b->nlat)
			evbuffer_add_printf(out, "%.3f,%.3f,", b->lat_sum /
			    b->nlat, b->lat_max);
		else
			evbuffer_add_printf(out, ",,");
		evbuffer_add_printf(out, "%s\r\n", vigil_status_name(b->worst));
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
		cJSON_AddItemToArray(arr, o);
	}
}

static void
raw_emit(const struct vigil_history *h, const char *name, int csv,
    cJSON *arr, struct evbuffer *out)
{
	char at[32];

	api_time_format(h->wall_ns, at, sizeof(at));
	if (csv) {
		evbuffer_add_printf(out, "%s,%s,%.3f,%.3f,%s,%u,%s,%s,%s,"
		    "%.6g,%.6g,%.3f,%.3f,%.3f,%u\r\n", name, at,
		    h->wall_ns / 1e9, h->latency_us / 1000.0,
		    vigil_outcome_name(h->outcome), h->http_status,
		    vigil_status_name(h->status),
		    vigil_circuit_name(h->circuit), vigil_trend_name(h->trend),
		    h->error_ppm / 1e6, h->uptime_ppm / 1e6, h->p50_us / 1000.0,
		    h->p95_us / 1000.0, h->p99_us / 1000.0, h->samples_1m);
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
 * its "ok" records only (a timeout's latency is the timeout); the worst
 * status uses api_status_rank.  O(history_cap).
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
	    ctx->vc.hdr->history_cap);
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
			open = 1;
		}
		b.count++;
		if (h->outcome != VIGIL_OUT_OK)
			b.errors++;
		else {
			b.nlat++;
			b.lat_sum += h->latency_us / 1000.0;
			if (h->latency_us / 1000.0 > b.lat_max)
				b.lat_max = h->latency_us / 1000.0;
		}
		if (api_status_rank(h->status) > api_status_rank(b.worst))
			b.worst = h->status;
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
	static const char *const allowed[] = { "provider", "from", "to",
	    "step", "format", NULL };
	const char *prov = api_query_get(q, "provider");
	const char *v, *stepname = "raw";
	uint64_t from, to;
	uint32_t step = 0;
	int csv = 0;
	cJSON *o = NULL, *provs = NULL, *one, *pts;
	char msg[96], at[32];
	size_t i;

	if (check_params(q, allowed, out, r) == -1)
		return;
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
	if (snapshot_or_503(ctx, out, r) == -1)
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
			    "samples_1m\r\n");
		else
			evbuffer_add_printf(out, "provider,at,unix,count,"
			    "errors,error_rate,mean_latency_ms,max_latency_ms,"
			    "worst_status\r\n");
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
 * GET /health/integration/alerts?since=&provider=&level=&limit=
 * Oldest first; limit (default and max: the alert ring's size) keeps the
 * newest.  An alert names its provider, which may since have been
 * removed: an unknown provider is not a 404 here.
 */
void
api_view_alerts(struct api_ctx *ctx, const struct api_query *q,
    struct evbuffer *out, struct api_result *r)
{
	static const char *const allowed[] = { "since", "provider", "level",
	    "limit", NULL };
	const char *prov = api_query_get(q, "provider");
	const char *v;
	struct vigil_cursor cur = { 0, 0 };
	uint64_t since = 0;
	unsigned long limit = ctx->vc.hdr->alert_cap;
	int level = -1, l;
	size_t n, i, kept = 0, first;
	char *end, at[32];
	cJSON *o, *a, *e;

	if (check_params(q, allowed, out, r) == -1)
		return;
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
		    limit > ctx->vc.hdr->alert_cap) {
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
	    ctx->vc.hdr->alert_cap);
	/* Filter in place, then keep the newest `limit`. */
	for (i = 0; i < n; i++) {
		const struct vigil_alert *al = &ctx->alerts[i];

		if (al->wall_ns < since)
			continue;
		if (prov != NULL && strcmp(al->provider, prov) != 0)
			continue;
		if (level != -1 && al->level != level)
			continue;
		ctx->alerts[kept++] = *al;
	}
	first = kept > limit ? kept - limit : 0;
	o = cJSON_CreateObject();
	add_time(o, "generated_at", now_wall_ns());
	a = cJSON_AddArrayToObject(o, "alerts");
	for (i = first; i < kept; i++) {
		const struct vigil_alert *al = &ctx->alerts[i];

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
		cJSON_AddItemToArray(a, e);
	}
	cJSON_AddNumberToObject(o, "lost", (double)cur.lost);
	r->code = 200;
	r->ctype = CT_JSON;
	put_json(out, o);
}
