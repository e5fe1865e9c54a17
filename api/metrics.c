/*
 * metrics.c - GET /metrics: the Prometheus text exposition format 0.0.4.
 *
 * Hand-formatted into the caller's evbuffer: one snapshot of all
 * providers, then family by family (the format wants a family's samples
 * together), no heap allocation per provider.  Names are prefixed vigil_,
 * in base units (seconds, ratios 0..1), counters end in _total; every
 * family has HELP and TYPE; label values are escaped.  The metric names
 * are a public interface (packaging/prometheus, packaging/grafana).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "api.h"

#define LBL_MAX	(2 * (VIGIL_NAME_MAX + 16) + 32)

static void	family(struct evbuffer *, const char *, const char *,
		    const char *);
static void	labels(const struct vigil_provider *, char *, size_t);
static void	gauge_num(struct evbuffer *, double);

static void
family(struct evbuffer *out, const char *name, const char *type,
    const char *help)
{
	evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	    name, type);
}

/* provider="...",kind="..." with escaped values. */
static void
labels(const struct vigil_provider *p, char *buf, size_t len)
{
	char esc[2 * VIGIL_NAME_MAX + 1];

	api_prom_escape(p->info.name, esc, sizeof(esc));
	snprintf(buf, len, "provider=\"%s\",kind=\"%s\"", esc,
	    vigil_kind_name(p->info.kind));
}

/* A sample value: Prometheus spells infinities +Inf/-Inf, NaN NaN. */
static void
gauge_num(struct evbuffer *out, double v)
{
	if (isnan(v))
		evbuffer_add(out, "NaN\n", 4);
	else if (isinf(v))
		evbuffer_add_printf(out, "%sInf\n", v > 0 ? "+" : "-");
	else
		evbuffer_add_printf(out, "%.12g\n", v);
}

/*
 * Build the exposition.  404 when Prometheus is disabled (configure
 * prometheus=false, --no-prometheus, ENABLE_PROMETHEUS_METRICS=false).
 * O(providers * families); about 100 lines per provider.
 */
void
api_view_metrics(struct api_ctx *ctx, struct evbuffer *out,
    struct api_result *r)
{
	static const char *const wname[VIGIL_NWINDOWS] = { "1m", "5m",
	    "15m" };
	static const char *const qname[3] = { "0.5", "0.95", "0.99" };
	char lbl[LBL_MAX];
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
	rc = api_snapshot(ctx);
	r->ctype = "text/plain; version=0.0.4; charset=utf-8";
	r->code = 200;

	family(out, "vigil_build_info", "gauge",
	    "vigil build information; always 1.");
	evbuffer_add_printf(out, "vigil_build_info{version=\"%s\"} 1\n",
	    VIGIL_VERSION);
	family(out, "vigil_aggregator_heartbeat_age_seconds", "gauge",
	    "Seconds since the aggregator last wrote its heartbeat "
	    "(+Inf: never).");
	age = vigil_aggregator_age_ns(&ctx->vc);
	evbuffer_add_printf(out, "vigil_aggregator_heartbeat_age_seconds ");
	gauge_num(out, age == UINT64_MAX ? INFINITY : age / 1e9);
	family(out, "vigil_snapshot_ok", "gauge",
	    "1 if vigil-api read a consistent snapshot of the segment for "
	    "this scrape, 0 if a writer was busy.");
	evbuffer_add_printf(out, "vigil_snapshot_ok %d\n", rc == VIGIL_OK);
	if (rc != VIGIL_OK)
		ctx->nsnap = 0;
	family(out, "vigil_providers", "gauge", "Providers configured.");
	evbuffer_add_printf(out, "vigil_providers %zu\n", ctx->nsnap);

#define EACH for (i = 0; i < ctx->nsnap; i++)
#define P (&ctx->snap[i])
#define ST (&ctx->snap[i].stats)

	family(out, "vigil_provider_up", "gauge", "1 if the provider is "
	    "usable (healthy or degraded, circuit not open), else 0.");
	EACH {
		labels(P, lbl, sizeof(lbl));
		evbuffer_add_printf(out, "vigil_provider_up{%s} %d\n", lbl,
		    ST->updated_wall_ns != 0 && api_provider_up(ST));
	}
	family(out, "vigil_provider_status", "gauge", "The provider's "
	    "status: one series per status value, 1 for the current one.");
	EACH {
		unsigned cur = ST->updated_wall_ns == 0 ? VIGIL_ST_UNKNOWN :
		    ST->status;

		labels(P, lbl, sizeof(lbl));
		for (k = 0; k < VIGIL_ST_COUNT; k++)
			evbuffer_add_printf(out, "vigil_provider_status{%s,"
			    "status=\"%s\"} %d\n", lbl, vigil_status_name(k),
			    k == cur);
	}
	family(out, "vigil_provider_stale", "gauge", "1 if the provider's "
	    "data is stale (its prober or the aggregator stopped beating).");
	EACH {
		labels(P, lbl, sizeof(lbl));
		evbuffer_add_printf(out, "vigil_provider_stale{%s} %d\n", lbl,
		    api_provider_stale(ctx, P));
	}
	family(out, "vigil_circuit_state", "gauge", "Circuit breaker state: "
	    "0 closed, 1 open, 2 half_open.");
	EACH {
		labels(P, lbl, sizeof(lbl));
		evbuffer_add_printf(out, "vigil_circuit_state{%s} %u\n", lbl,
		    (unsigned)ST->circuit);
	}
	family(out, "vigil_route_rank", "gauge", "Position in the routing "
	    "order, 0 best; -1 when excluded.");
	EACH {
		labels(P, lbl, sizeof(lbl));
		evbuffer_add_printf(out, "vigil_route_rank{%s} %lld\n", lbl,
		    ST->route_rank == UINT32_MAX ? -1LL :
		    (long long)ST->route_rank);
	}
	family(out, "vigil_error_ratio", "gauge", "Failed checks over all "
	    "checks in the rolling window (0..1).");
	EACH {
		labels(P, lbl, sizeof(lbl));
		for (j = 0; j < VIGIL_NWINDOWS; j++) {
			evbuffer_add_printf(out, "vigil_error_ratio{%s,"
			    "window=\"%s\"} ", lbl, wname[j]);
			gauge_num(out, ST->win[j].error_rate);
		}
	}
	family(out, "vigil_uptime_ratio", "gauge", "Successful checks over "
	    "all checks in the rolling window (0..1).");
	EACH {
		labels(P, lbl, sizeof(lbl));
		for (j = 0; j < VIGIL_NWINDOWS; j++) {
			evbuffer_add_printf(out, "vigil_uptime_ratio{%s,"
			    "window=\"%s\"} ", lbl, wname[j]);
			gauge_num(out, ST->win[j].uptime);
		}
	}
	family(out, "vigil_window_samples", "gauge", "Checks in the rolling "
	    "window.");
	EACH {
		labels(P, lbl, sizeof(lbl));
		for (j = 0; j < VIGIL_NWINDOWS; j++)
			evbuffer_add_printf(out, "vigil_window_samples{%s,"
			    "window=\"%s\"} %u\n", lbl, wname[j],
			    ST->win[j].samples);
	}
	/*
	 * A summary per (provider, window): promtool refuses a "quantile"
	 * label on a gauge.  _sum and _count cover the same window (mean
	 * times samples), so rate() over them is meaningless: use the
	 * histogram below for rates.
	 */
	family(out, "vigil_latency_seconds", "summary", "Check latency "
	    "quantiles over the rolling window, in seconds.");
	EACH {
		labels(P, lbl, sizeof(lbl));
		for (j = 0; j < VIGIL_NWINDOWS; j++) {
			const double qv[3] = { ST->win[j].p50_ms,
			    ST->win[j].p95_ms, ST->win[j].p99_ms };

			for (k = 0; k < 3; k++) {
				evbuffer_add_printf(out,
				    "vigil_latency_seconds{%s,window=\"%s\","
				    "quantile=\"%s\"} ", lbl, wname[j],
				    qname[k]);
				gauge_num(out, qv[k] / 1000.0);
			}
			evbuffer_add_printf(out, "vigil_latency_seconds_sum{%s,"
			    "window=\"%s\"} ", lbl, wname[j]);
			gauge_num(out, ST->win[j].mean_ms *
			    ST->win[j].samples / 1000.0);
			evbuffer_add_printf(out, "vigil_latency_seconds_count{%s,"
			    "window=\"%s\"} %u\n", lbl, wname[j],
			    ST->win[j].samples);
		}
	}
	family(out, "vigil_uptime_total_ratio", "gauge", "Successful checks "
	    "over all checks since the provider was first seen (0..1).");
	EACH {
		labels(P, lbl, sizeof(lbl));
		evbuffer_add_printf(out, "vigil_uptime_total_ratio{%s} ", lbl);
		gauge_num(out, ST->uptime_total);
	}
	family(out, "vigil_check_duration_seconds", "histogram",
	    "Latency of every check since vigil started, in seconds.");
	EACH {
		labels(P, lbl, sizeof(lbl));
		cum = 0;
		for (k = 0; k < VIGIL_PROM_BUCKETS - 1; k++) {
			cum += ST->lat_bucket[k];
			evbuffer_add_printf(out, "vigil_check_duration_seconds_"
			    "bucket{%s,le=\"%g\"} %llu\n", lbl,
			    vigil_prom_bounds[k], (unsigned long long)cum);
		}
		cum += ST->lat_bucket[VIGIL_PROM_BUCKETS - 1];
		evbuffer_add_printf(out, "vigil_check_duration_seconds_bucket"
		    "{%s,le=\"+Inf\"} %llu\n", lbl, (unsigned long long)cum);
		evbuffer_add_printf(out, "vigil_check_duration_seconds_sum{%s} ",
		    lbl);
		gauge_num(out, ST->lat_sum_s);
		evbuffer_add_printf(out, "vigil_check_duration_seconds_count"
		    "{%s} %llu\n", lbl, (unsigned long long)cum);
	}
	family(out, "vigil_checks_total", "counter", "Checks by outcome "
	    "class since vigil started.");
	EACH {
		labels(P, lbl, sizeof(lbl));
		for (k = 0; k < VIGIL_OUT_COUNT; k++)
			evbuffer_add_printf(out, "vigil_checks_total{%s,"
			    "outcome=\"%s\"} %llu\n", lbl,
			    vigil_outcome_name(k),
			    (unsigned long long)ST->checks_total[k]);
	}
	family(out, "vigil_alerts_total", "counter", "Alerts raised for the "
	    "provider since vigil started.");
	EACH {
		labels(P, lbl, sizeof(lbl));
		evbuffer_add_printf(out, "vigil_alerts_total{%s} %llu\n", lbl,
		    (unsigned long long)ST->alerts_total);
	}
	family(out, "vigil_circuit_opens_total", "counter", "Times the "
	    "provider's circuit opened since vigil started.");
	EACH {
		labels(P, lbl, sizeof(lbl));
		evbuffer_add_printf(out, "vigil_circuit_opens_total{%s} %u\n",
		    lbl, ST->circuit_opens);
	}
	family(out, "vigil_prober_restarts_total", "counter", "Restarts of "
	    "the provider's prober since vigild started.");
	EACH {
		labels(P, lbl, sizeof(lbl));
		evbuffer_add_printf(out, "vigil_prober_restarts_total{%s} %u\n",
		    lbl, P->info.restarts);
	}
	family(out, "vigil_samples_lost_total", "counter", "Samples "
	    "overwritten in the ring before the aggregator read them.");
	EACH {
		labels(P, lbl, sizeof(lbl));
		evbuffer_add_printf(out, "vigil_samples_lost_total{%s} %llu\n",
		    lbl, (unsigned long long)ST->samples_lost);
	}
	family(out, "vigil_consecutive_failures", "gauge", "Failed checks in "
	    "a row, now.");
	EACH {
		labels(P, lbl, sizeof(lbl));
		evbuffer_add_printf(out, "vigil_consecutive_failures{%s} %u\n",
		    lbl, ST->consecutive_failures);
	}
#undef EACH
#undef P
#undef ST
}
