/*
 * metrics.c - GET /metrics: the Prometheus text exposition format 0.0.4.
 *
 * Hand-formatted into the caller's evbuffer: one snapshot of all
 * providers, then family by family (the format wants a family's samples
 * together), no heap allocation per provider.  Names are prefixed vigil_,
 * in base units (seconds, ratios 0..1), counters end in _total; every
 * family has HELP and TYPE; label values are escaped.  The metric names
 * are a public interface (packaging/prometheus, packaging/grafana).
 *
 * Per-provider series carry only provider="..." (plus their own window,
 * quantile, le, outcome or status): the provider's kind is in one
 * vigil_provider_info series, joined in PromQL when wanted.  Repeating
 * kind="..." on each of a provider's 64 series cost 14% of the bytes,
 * and at 1,000 providers a scrape's time is its bytes.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "api.h"

#define LBL_MAX		(2 * VIGIL_NAME_MAX + 16)
#define PREC		6	/* decimals of a value: 1 us, ratios to 1e-6 */

/* provider="..." of one provider, escaped once per scrape. */
struct lbl {
	size_t	len;
	char	s[LBL_MAX];
};

/* ",EXTRA} ": the rest of a series' labels, e.g. ,window="1m"} . */
struct xl {
	size_t	len;
	char	s[56];
};

static struct lbl	*lbls;		/* provider_cap entries, kept */
static size_t		 nlbls;

static void	family(struct api_wbuf *, const char *, const char *,
		    const char *);
static int	labels_prepare(struct api_ctx *);
static void	series(struct api_wbuf *, const char *, size_t, size_t);
static void	series_x(struct api_wbuf *, const char *, size_t, size_t,
		    const struct xl *);
static void	val_fixed(struct api_wbuf *, double);
static void	val_u64(struct api_wbuf *, uint64_t);
static void	xl_set(struct xl *, const char *, const char *);

/*
 * A series name is always a literal: "NAME{" is one copy of known
 * length.  About 60,000 lines at 1,000 providers: each costs three
 * copies and a number, no strlen.
 */
#define SERIES(w, name, i)	series((w), name "{", sizeof(name "{") - 1, \
				    (i))
#define SERIES_X(w, name, i, x)	series_x((w), name "{", \
				    sizeof(name "{") - 1, (i), (x))
#define VAL_BOOL(w, c)		api_wb_mem((w), (c) ? "1\n" : "0\n", 2)

static void
family(struct api_wbuf *w, const char *name, const char *type,
    const char *help)
{
	api_wb_lit(w, "# HELP ");
	api_wb_str(w, name);
	api_wb_lit(w, " ");
	api_wb_str(w, help);
	api_wb_lit(w, "\n# TYPE ");
	api_wb_str(w, name);
	api_wb_lit(w, " ");
	api_wb_str(w, type);
	api_wb_lit(w, "\n");
}

/*
 * The label set of every provider of the snapshot, into a table
 * allocated once for the segment's capacity: twenty families each name
 * every provider, and escaping its name twenty times was measurable.
 */
static int
labels_prepare(struct api_ctx *ctx)
{
	char esc[2 * VIGIL_NAME_MAX + 1];
	size_t i, cap = vigil_capacity(&ctx->vc);
	int n;

	if (lbls == NULL || nlbls < cap) {
		free(lbls);
		if ((lbls = calloc(cap, sizeof(*lbls))) == NULL) {
			nlbls = 0;
			return -1;
		}
		nlbls = cap;
	}
	for (i = 0; i < ctx->nsnap && i < nlbls; i++) {
		api_prom_escape(ctx->snap[i].info.name, esc, sizeof(esc));
		n = snprintf(lbls[i].s, sizeof(lbls[i].s),
		    "provider=\"%s\"", esc);
		lbls[i].len = n < 0 ? 0 : (size_t)n >= sizeof(lbls[i].s) ?
		    sizeof(lbls[i].s) - 1 : (size_t)n;
	}
	return 0;
}

/* ",NAME=\"VALUE\"} " into x (names and values from fixed tables). */
static void
xl_set(struct xl *x, const char *name, const char *value)
{
	int n;

	n = snprintf(x->s, sizeof(x->s), ",%s=\"%s\"} ", name, value);
	x->len = n < 0 ? 0 : (size_t)n >= sizeof(x->s) ? sizeof(x->s) - 1 :
	    (size_t)n;
}

/* "NAME{LABELS} ": name ends in '{'. */
static void
series(struct api_wbuf *w, const char *name, size_t nlen, size_t i)
{
	api_wb_mem(w, name, nlen);
	api_wb_mem(w, lbls[i].s, lbls[i].len);
	api_wb_lit(w, "} ");
}

/* "NAME{LABELS,EXTRA} ": name ends in '{', x is ",EXTRA} ". */
static void
series_x(struct api_wbuf *w, const char *name, size_t nlen, size_t i,
    const struct xl *x)
{
	api_wb_mem(w, name, nlen);
	api_wb_mem(w, lbls[i].s, lbls[i].len);
	api_wb_mem(w, x->s, x->len);
}

/* A sample's value and its newline, in one copy. */
static void
val_u64(struct api_wbuf *w, uint64_t v)
{
	char buf[24];
	size_t n;

	n = api_fmt_u64(v, buf);
	buf[n++] = '\n';
	api_wb_mem(w, buf, n);
}

static void
val_fixed(struct api_wbuf *w, double v)
{
	char buf[API_FMT_MAX + 1];
	size_t n;

	n = api_fmt_fixed(v, PREC, buf, API_FMT_MAX);
	buf[n++] = '\n';
	api_wb_mem(w, buf, n);
}

/*
 * Build the exposition.  404 when Prometheus is disabled (configure
 * prometheus=false, --no-prometheus, ENABLE_PROMETHEUS_METRICS=false).
 * O(providers * families), about 60 lines per provider, written through
 * an api_wbuf: no allocation per provider, no printf per value.
 */
void
api_view_metrics(struct api_ctx *ctx, struct evbuffer *out,
    struct api_result *r)
{
	static const char *const wname[VIGIL_NWINDOWS] = { "1m", "5m",
	    "15m" };
	static const char *const qname[3] = { "0.5", "0.95", "0.99" };
	static struct xl wx[VIGIL_NWINDOWS], qx[VIGIL_NWINDOWS][3];
	static struct xl sx[VIGIL_ST_COUNT], ox[VIGIL_OUT_COUNT];
	static struct xl bx[VIGIL_PROM_BUCKETS], kx[VIGIL_KIND_COUNT + 1];
	static int tables;
	char v[40];
	struct api_wbuf w;
	uint64_t age, cum;
	size_t i;
	unsigned j, k;
	int rc;

	if (!ctx->prometheus) {
		api_error_json(out, "not_found", NULL, "Prometheus metrics "
		    "are disabled (prometheus = no)");
		r->code = 404;
		r->ctype = "application/json";
		return;
	}
	if (!tables) {
		for (j = 0; j < VIGIL_NWINDOWS; j++) {
			xl_set(&wx[j], "window", wname[j]);
			for (k = 0; k < 3; k++) {
				snprintf(v, sizeof(v), "%s\",quantile=\"%s",
				    wname[j], qname[k]);
				xl_set(&qx[j][k], "window", v);
			}
		}
		for (k = 0; k < VIGIL_ST_COUNT; k++)
			xl_set(&sx[k], "status", vigil_status_name(k));
		for (k = 0; k < VIGIL_OUT_COUNT; k++)
			xl_set(&ox[k], "outcome", vigil_outcome_name(k));
		for (k = 0; k < VIGIL_PROM_BUCKETS - 1; k++) {
			snprintf(v, sizeof(v), "%g", vigil_prom_bounds[k]);
			xl_set(&bx[k], "le", v);
		}
		xl_set(&bx[k], "le", "+Inf");
		/* kx[VIGIL_KIND_COUNT]: vigil_kind_name's "invalid". */
		for (k = 0; k <= VIGIL_KIND_COUNT; k++)
			xl_set(&kx[k], "kind", vigil_kind_name(k));
		tables = 1;
	}
	rc = api_snapshot(ctx);
	if (rc != VIGIL_OK || labels_prepare(ctx) == -1)
		ctx->nsnap = 0;
	r->ctype = "text/plain; version=0.0.4; charset=utf-8";
	r->code = 200;
	api_wb_begin(&w, out);

	family(&w, "vigil_build_info", "gauge",
	    "vigil build information; always 1.");
	api_wb_lit(&w, "vigil_build_info{version=\"" VIGIL_VERSION "\"} 1\n");
	family(&w, "vigil_aggregator_heartbeat_age_seconds", "gauge",
	    "Seconds since the aggregator last wrote its heartbeat "
	    "(+Inf: never).");
	age = vigil_aggregator_age_ns(&ctx->vc);
	api_wb_lit(&w, "vigil_aggregator_heartbeat_age_seconds ");
	api_wb_fixed(&w, age == UINT64_MAX ? INFINITY : age / 1e9, PREC);
	api_wb_lit(&w, "\n");
	family(&w, "vigil_snapshot_ok", "gauge",
	    "1 if vigil-api read a consistent snapshot of the segment for "
	    "this scrape, 0 if a writer was busy.");
	api_wb_str(&w, rc == VIGIL_OK ? "vigil_snapshot_ok 1\n" :
	    "vigil_snapshot_ok 0\n");
	family(&w, "vigil_providers", "gauge", "Providers configured.");
	api_wb_lit(&w, "vigil_providers ");
	api_wb_u64(&w, ctx->nsnap);
	api_wb_lit(&w, "\n");

#define EACH for (i = 0; i < ctx->nsnap; i++)
#define P (&ctx->snap[i])
#define ST (&ctx->snap[i].stats)
#define NL api_wb_lit(&w, "\n")

	/*
	 * The only series with kind: a gauge of 1 per provider, the
	 * "info" idiom (node_uname_info, kube_pod_info).
	 */
	family(&w, "vigil_provider_info", "gauge", "The provider's kind; "
	    "always 1.  Add kind to a series with "
	    "* on(provider) group_left(kind) vigil_provider_info.");
	EACH {
		SERIES_X(&w, "vigil_provider_info", i,
		    &kx[P->info.kind < VIGIL_KIND_COUNT ? P->info.kind :
		    VIGIL_KIND_COUNT]);
		api_wb_lit(&w, "1\n");
	}

	family(&w, "vigil_provider_up", "gauge", "1 if the provider is "
	    "usable (healthy or degraded, circuit not open), else 0.");
	EACH {
		SERIES(&w, "vigil_provider_up", i);
		VAL_BOOL(&w, ST->updated_wall_ns != 0 &&
		    api_provider_up(ST));
	}
	family(&w, "vigil_provider_status", "gauge", "The provider's "
	    "status: one series per status value, 1 for the current one.");
	EACH {
		unsigned cur = ST->updated_wall_ns == 0 ? VIGIL_ST_UNKNOWN :
		    ST->status;

		for (k = 0; k < VIGIL_ST_COUNT; k++) {
			SERIES_X(&w, "vigil_provider_status", i, &sx[k]);
			VAL_BOOL(&w, k == cur);
		}
	}
	family(&w, "vigil_provider_stale", "gauge", "1 if the provider's "
	    "data is stale (its prober or the aggregator stopped beating).");
	EACH {
		SERIES(&w, "vigil_provider_stale", i);
		VAL_BOOL(&w, api_provider_stale(ctx, P));
	}
	family(&w, "vigil_circuit_state", "gauge", "Circuit breaker state: "
	    "0 closed, 1 open, 2 half_open.");
	EACH {
		SERIES(&w, "vigil_circuit_state", i);
		val_u64(&w, ST->circuit);
	}
	family(&w, "vigil_route_rank", "gauge", "Position in the routing "
	    "order, 0 best; -1 when excluded.");
	EACH {
		SERIES(&w, "vigil_route_rank", i);
		api_wb_i64(&w, ST->route_rank == UINT32_MAX ? -1 :
		    (int64_t)ST->route_rank);
		NL;
	}
	family(&w, "vigil_error_ratio", "gauge", "Failed checks over all "
	    "checks in the rolling window (0..1).");
	EACH {
		for (j = 0; j < VIGIL_NWINDOWS; j++) {
			SERIES_X(&w, "vigil_error_ratio", i, &wx[j]);
			val_fixed(&w, ST->win[j].error_rate);
		}
	}
	family(&w, "vigil_uptime_ratio", "gauge", "Successful checks over "
	    "all checks in the rolling window (0..1).");
	EACH {
		for (j = 0; j < VIGIL_NWINDOWS; j++) {
			SERIES_X(&w, "vigil_uptime_ratio", i, &wx[j]);
			val_fixed(&w, ST->win[j].uptime);
		}
	}
	family(&w, "vigil_window_samples", "gauge", "Checks in the rolling "
	    "window.");
	EACH {
		for (j = 0; j < VIGIL_NWINDOWS; j++) {
			SERIES_X(&w, "vigil_window_samples", i, &wx[j]);
			val_u64(&w, ST->win[j].samples);
		}
	}
	/*
	 * A summary per (provider, window): promtool refuses a "quantile"
	 * label on a gauge.  Quantiles only: a _sum and _count of the
	 * window would be its mean times vigil_window_samples and its
	 * samples again, and rate() over them meaningless; the histogram
	 * vigil_check_duration_seconds has the _sum and _count for rates.
	 * The text format and promtool allow a summary without them.
	 */
	family(&w, "vigil_latency_seconds", "summary", "Check latency "
	    "quantiles over the rolling window, in seconds (no _sum or "
	    "_count: see vigil_window_samples, and "
	    "vigil_check_duration_seconds for rates).");
	EACH {
		for (j = 0; j < VIGIL_NWINDOWS; j++) {
			const double qv[3] = { ST->win[j].p50_ms,
			    ST->win[j].p95_ms, ST->win[j].p99_ms };

			for (k = 0; k < 3; k++) {
				SERIES_X(&w, "vigil_latency_seconds", i,
				    &qx[j][k]);
				val_fixed(&w, qv[k] / 1000.0);
			}
		}
	}
	family(&w, "vigil_uptime_total_ratio", "gauge", "Successful checks "
	    "over all checks since the provider was first seen (0..1).");
	EACH {
		SERIES(&w, "vigil_uptime_total_ratio", i);
		val_fixed(&w, ST->uptime_total);
	}
	family(&w, "vigil_check_duration_seconds", "histogram",
	    "Latency of every check since vigil started, in seconds.");
	EACH {
		cum = 0;
		for (k = 0; k < VIGIL_PROM_BUCKETS; k++) {
			cum += ST->lat_bucket[k];
			SERIES_X(&w, "vigil_check_duration_seconds_bucket", i,
			    &bx[k]);
			val_u64(&w, cum);
		}
		SERIES(&w, "vigil_check_duration_seconds_sum", i);
		val_fixed(&w, ST->lat_sum_s);
		SERIES(&w, "vigil_check_duration_seconds_count", i);
		val_u64(&w, cum);
	}
	family(&w, "vigil_checks_total", "counter", "Checks by outcome "
	    "class since vigil started.");
	EACH {
		for (k = 0; k < VIGIL_OUT_COUNT; k++) {
			SERIES_X(&w, "vigil_checks_total", i, &ox[k]);
			val_u64(&w, ST->checks_total[k]);
		}
	}
	family(&w, "vigil_alerts_total", "counter", "Alerts raised for the "
	    "provider since vigil started.");
	EACH {
		SERIES(&w, "vigil_alerts_total", i);
		val_u64(&w, ST->alerts_total);
	}
	family(&w, "vigil_circuit_opens_total", "counter", "Times the "
	    "provider's circuit opened since vigil started.");
	EACH {
		SERIES(&w, "vigil_circuit_opens_total", i);
		val_u64(&w, ST->circuit_opens);
	}
	family(&w, "vigil_prober_restarts_total", "counter", "Restarts of "
	    "the provider's prober since vigild started.");
	EACH {
		SERIES(&w, "vigil_prober_restarts_total", i);
		val_u64(&w, P->info.restarts);
	}
	family(&w, "vigil_samples_lost_total", "counter", "Samples "
	    "overwritten in the ring before the aggregator read them.");
	EACH {
		SERIES(&w, "vigil_samples_lost_total", i);
		val_u64(&w, ST->samples_lost);
	}
	family(&w, "vigil_consecutive_failures", "gauge", "Failed checks in "
	    "a row, now.");
	EACH {
		SERIES(&w, "vigil_consecutive_failures", i);
		val_u64(&w, ST->consecutive_failures);
	}
#undef EACH
#undef P
#undef ST
#undef NL
	if (api_wb_end(&w) == -1) {
		evbuffer_drain(out, evbuffer_get_length(out));
		api_error_json(out, "out_of_memory", NULL, "the exposition "
		    "did not fit in memory");
		r->code = 503;
		r->ctype = "application/json";
	}
}
