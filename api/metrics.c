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
 * quantile, le, outcome, status or resource): the provider's kind is in one
 * vigil_provider_info series, joined in PromQL when wanted.  Repeating
 * kind="..." on each of a provider's 64 series cost 14% of the bytes,
 * and at 1,000 providers a scrape's time is its bytes.  Per-model series
 * (issue 17) carry provider="...",model="..." and their own window,
 * quantile or status, 30 a model.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "api.h"
#include "ring.h"

#define LBL_MAX		(2 * VIGIL_NAME_MAX + 16)
#define MLBL_MAX	(2 * VIGIL_NAME_MAX + 2 * VIGIL_MODEL_MAX + 24)
#define PREC		6	/* decimals of a value: 1 us, ratios to 1e-6 */
#define NQUANT		3	/* p50, p95, p99 */

/* provider="..." of one provider, escaped once per scrape. */
struct lbl {
	size_t	len;
	char	s[LBL_MAX];
};

/* provider="...",model="..." of one model, escaped once per scrape. */
struct mlbl {
	size_t	len;
	char	s[MLBL_MAX];
};

/* ",EXTRA} ": the rest of a series' labels, e.g. ,window="1m"} . */
struct xl {
	size_t	len;
	char	s[56];
};

/* The exposition being written, and the family being written. */
struct mout {
	struct api_wbuf		 m_w;
	struct api_ctx		*m_ctx;
	uint64_t		 m_wall;	/* the scrape's wall time */
	char			 m_name[64];	/* "NAME{" of the family */
	size_t			 m_nlen;
};

/* How a family's value is stored at its offset (MV_NONE: its row
 * function knows its fields). */
enum mval { MV_NONE, MV_U8, MV_U32, MV_U64, MV_FIXED };

/*
 * A metric family: its HELP and TYPE, and the function that writes one
 * provider's samples.  The generic rows (row_stat, row_window) read the
 * value at mf_off in the provider's vigil_stats or in each of its
 * vigil_window, stored as mf_val; the model rows (row_mstat, row_mwindow)
 * likewise in each of the provider's models' vigil_model_stats or
 * vigil_model_window; the others know their fields.
 */
struct mfam {
	const char	*mf_name;
	const char	*mf_type;
	const char	*mf_help;
	void		(*mf_row)(struct mout *, const struct mfam *, size_t);
	size_t		 mf_off;
	enum mval	 mf_val;
};

static struct lbl	*lbls;		/* provider_cap entries, kept */
static size_t		 nlbls;
static struct mlbl	*mlbls;		/* per model of the snapshot */
static size_t		 nmlbls;

/* The label tails, built once: see xl_tables. */
static struct xl	 wx[VIGIL_NWINDOWS], qx[VIGIL_NWINDOWS][NQUANT];
static struct xl	 sx[VIGIL_ST_COUNT], ox[VIGIL_OUT_COUNT];
static struct xl	 bx[VIGIL_PROM_BUCKETS], kx[VIGIL_KIND_COUNT + 1];
static struct xl	 rx[VIGIL_RL_COUNT];
static struct xl	 srcx[VIGIL_SRC_COUNT];

static void	family(struct api_wbuf *, const char *, const char *,
		    const char *);
static void	globals(struct mout *, int);
static void	reports_row(struct api_wbuf *, const char *, uint64_t);
static int	labels_prepare(struct api_ctx *);
static void	row_checks(struct mout *, const struct mfam *, size_t);
static void	row_source(struct mout *, const struct mfam *, size_t);
static void	row_skipped(struct mout *, const struct mfam *, size_t);
static void	row_hedge(struct mout *, const struct mfam *, size_t);
static void	row_duration(struct mout *, const struct mfam *, size_t);
static void	row_info(struct mout *, const struct mfam *, size_t);
static void	row_latency(struct mout *, const struct mfam *, size_t);
static void	row_human(struct mout *, const struct mfam *, size_t);
static void	row_rank(struct mout *, const struct mfam *, size_t);
static void	row_rl(struct mout *, const struct mfam *, size_t);
static void	row_rl_reset(struct mout *, const struct mfam *, size_t);
static void	row_restarts(struct mout *, const struct mfam *, size_t);
static void	row_stale(struct mout *, const struct mfam *, size_t);
static void	row_stat(struct mout *, const struct mfam *, size_t);
static void	row_status(struct mout *, const struct mfam *, size_t);
static void	row_up(struct mout *, const struct mfam *, size_t);
static void	row_usable(struct mout *, const struct mfam *, size_t);
static void	row_window(struct mout *, const struct mfam *, size_t);
static void	row_budget(struct mout *, const struct mfam *, size_t);
static void	row_today(struct mout *, const struct mfam *, size_t);
static void	row_mlisted(struct mout *, const struct mfam *, size_t);
static void	row_mstat(struct mout *, const struct mfam *, size_t);
static void	row_mstatus(struct mout *, const struct mfam *, size_t);
static void	row_mtokens(struct mout *, const struct mfam *, size_t);
static void	row_mttft(struct mout *, const struct mfam *, size_t);
static void	row_musable(struct mout *, const struct mfam *, size_t);
static void	row_mwindow(struct mout *, const struct mfam *, size_t);
static void	row_sp(struct mout *, const struct mfam *, size_t);
static int	mlabels_prepare(struct api_ctx *);
static void	mseries(struct mout *, size_t, const struct xl *);
static void	series(struct mout *, size_t, const struct xl *);
static void	series_as(struct mout *, const char *, size_t, size_t,
		    const struct xl *);
static void	val_at(struct api_wbuf *, const void *, const struct mfam *);
static void	val_bool(struct api_wbuf *, int);
static void	val_fixed(struct api_wbuf *, double);
static void	val_u64(struct api_wbuf *, uint64_t);
static void	xl_set(struct xl *, const char *, const char *);
static void	xl_tables(void);

#define ST_OFF(f)	offsetof(struct vigil_stats, f)
#define WIN_OFF(f)	offsetof(struct vigil_window, f)
#define RL_OFF(f)	offsetof(struct vigil_ratelimit, f)
#define SRC_OFF(f)	offsetof(struct vigil_source_stats, f)
/* A word of the header's reports line; 0 with no segment. */
#define HDR_RLX(h, f)	((h) != NULL ? VIGIL_LOAD_RLX(&(h)->f) : 0)
#define MS_OFF(f)	offsetof(struct vigil_model_stats, f)
#define MW_OFF(f)	offsetof(struct vigil_model_window, f)
#define SP_OFF(f)	offsetof(struct vigil_status_page, f)

/*
 * The per-provider families in the order of the exposition.  The names
 * are a public interface (packaging/prometheus, packaging/grafana).
 */
static const struct mfam fams[] = {
	/* The only series with kind: a gauge of 1 per provider, the
	 * "info" idiom (node_uname_info, kube_pod_info). */
	{ "vigil_provider_info", "gauge", "The provider's kind; always 1.  "
	    "Add kind to a series with * on(provider) group_left(kind) "
	    "vigil_provider_info.", row_info, 0, MV_NONE },
	{ "vigil_provider_up", "gauge", "1 if the provider is up (healthy "
	    "or degraded, circuit not open), else 0; whether a router may "
	    "send is vigil_provider_usable.", row_up, 0, MV_NONE },
	{ "vigil_provider_usable", "gauge", "1 if a router may send the "
	    "provider a request now (the read model's "
	    "vigil_provider_usable), else 0.", row_usable, 0, MV_NONE },
	{ "vigil_provider_needs_human", "gauge", "1 if the provider will "
	    "not come back by itself (quota, auth, our config): page a "
	    "human.", row_human, 0, MV_NONE },
	{ "vigil_provider_status", "gauge", "The provider's status: one "
	    "series per status value, 1 for the current one.", row_status, 0,
	    MV_NONE },
	{ "vigil_provider_stale", "gauge", "1 if the provider's data is "
	    "stale (its prober or the aggregator stopped beating).",
	    row_stale, 0, MV_NONE },
	{ "vigil_circuit_state", "gauge", "Circuit breaker state: 0 closed, "
	    "1 open, 2 half_open.", row_stat, ST_OFF(circuit), MV_U8 },
	{ "vigil_route_rank", "gauge", "Position in the routing order, 0 "
	    "best; -1 when excluded.", row_rank, 0, MV_NONE },
	{ "vigil_error_ratio", "gauge", "Failed checks over all checks in "
	    "the rolling window (0..1).", row_window, WIN_OFF(error_rate),
	    MV_FIXED },
	{ "vigil_uptime_ratio", "gauge", "Successful checks over all checks "
	    "in the rolling window (0..1).", row_window, WIN_OFF(uptime),
	    MV_FIXED },
	{ "vigil_window_samples", "gauge", "Checks in the rolling window.",
	    row_window, WIN_OFF(samples), MV_U32 },
	/*
	 * A summary per (provider, window): promtool refuses a "quantile"
	 * label on a gauge.  Quantiles only: a _sum and _count of the
	 * window would be its mean times vigil_window_samples and its
	 * samples again, and rate() over them meaningless; the histogram
	 * vigil_check_duration_seconds has the _sum and _count for rates.
	 * The text format and promtool allow a summary without them.
	 */
	{ "vigil_latency_seconds", "summary", "Check latency quantiles over "
	    "the rolling window, in seconds (no _sum or _count: see "
	    "vigil_window_samples, and vigil_check_duration_seconds for "
	    "rates).", row_latency, 0, MV_NONE },
	{ "vigil_uptime_total_ratio", "gauge", "Successful checks over all "
	    "checks since the provider was first seen (0..1).", row_stat,
	    ST_OFF(uptime_total), MV_FIXED },
	{ "vigil_check_duration_seconds", "histogram", "Latency of every "
	    "check since vigil started, in seconds.", row_duration, 0,
	    MV_NONE },
	{ "vigil_checks_total", "counter", "Checks by outcome class since "
	    "vigil started.", row_checks, 0, MV_NONE },
	{ "vigil_alerts_total", "counter", "Alerts raised for the provider "
	    "since vigil started.", row_stat, ST_OFF(alerts_total), MV_U64 },
	{ "vigil_circuit_opens_total", "counter", "Times the provider's "
	    "circuit opened since vigil started.", row_stat,
	    ST_OFF(circuit_opens), MV_U32 },
	{ "vigil_prober_restarts_total", "counter", "Restarts of the "
	    "provider's prober since vigild started.", row_restarts, 0,
	    MV_NONE },
	{ "vigil_samples_lost_total", "counter", "Samples overwritten in the "
	    "ring before the aggregator read them.", row_stat,
	    ST_OFF(samples_lost), MV_U64 },
	{ "vigil_consecutive_failures", "gauge", "Failed checks in a row, "
	    "now.", row_stat, ST_OFF(consecutive_failures), MV_U32 },
	/* Per source (issue 18): the prober's checks, reported traffic. */
	{ "vigil_source_samples_total", "counter", "Samples by source "
	    "(probe: vigil's checks, traffic: reported real requests) since "
	    "vigil started.", row_source, SRC_OFF(samples_total), MV_U64 },
	{ "vigil_source_errors_total", "counter", "Samples by source that "
	    "failed in a way that counts against the provider, since vigil "
	    "started.", row_source, SRC_OFF(errors_total), MV_U64 },
	{ "vigil_source_window_samples", "gauge", "Samples by source in "
	    "the last minute.", row_source, SRC_OFF(samples_1m), MV_U32 },
	{ "vigil_source_window_errors", "gauge", "Samples by source that "
	    "failed against the provider in the last minute.", row_source,
	    SRC_OFF(errors_1m), MV_U32 },
	{ "vigil_hedge_after_seconds", "gauge", "After how long a router "
	    "may send a slow request to another provider too: the 5-minute "
	    "p95 latency; 0 before the window holds min_samples.", row_hedge,
	    0, MV_NONE },
	{ "vigil_probes_skipped_total", "counter", "Scheduled checks the "
	    "prober skipped because traffic was reported within its "
	    "interval (probe_when_idle).", row_skipped, 0, MV_NONE },
	/* Only the resources the provider's answers reported. */
	{ "vigil_ratelimit_limit", "gauge", "The provider's rate limit per "
	    "resource (requests, tokens, input_tokens, output_tokens), as "
	    "its newest answer reporting it said.", row_rl, RL_OFF(limit),
	    MV_U32 },
	{ "vigil_ratelimit_remaining", "gauge", "What is left of the "
	    "resource's rate limit until its reset, as the newest answer "
	    "reporting it said.", row_rl, RL_OFF(remaining), MV_U32 },
	{ "vigil_ratelimit_reset_seconds", "gauge", "Seconds until the "
	    "resource's rate limit resets (0 once passed); no series when "
	    "the provider reported no reset.", row_rl_reset, 0, MV_NONE },
	/* The billed generation checks' tokens (gen_budget). */
	{ "vigil_probe_tokens_today", "gauge", "Input and output tokens "
	    "the provider's generation checks used in the current UTC "
	    "day.", row_today, 0, MV_NONE },
	{ "vigil_probe_token_budget", "gauge", "Tokens the provider's "
	    "generation checks may use in a UTC day (gen_budget); no series "
	    "without a budget.", row_budget, 0, MV_NONE },
	/* Per model: provider="...",model="..." (docs/http-api.md). */
	{ "vigil_model_status", "gauge", "The model's status on the "
	    "provider: one series per status value, 1 for the current one.",
	    row_mstatus, 0, MV_NONE },
	{ "vigil_model_usable", "gauge", "1 if the aggregator says a router "
	    "may send the model requests on this provider now (the provider "
	    "must be usable too), else 0.", row_musable, 0, MV_NONE },
	{ "vigil_model_listed", "gauge", "1 if the provider's models list "
	    "had the model at its last check, 0 if not; no series before a "
	    "list check said.", row_mlisted, 0, MV_NONE },
	{ "vigil_model_error_ratio", "gauge", "Failed generation checks of "
	    "the model over all that count in the rolling window (0..1).",
	    row_mwindow, MW_OFF(error_rate), MV_FIXED },
	{ "vigil_model_window_samples", "gauge", "Generation checks of the "
	    "model that count in the rolling window.", row_mwindow,
	    MW_OFF(samples), MV_U32 },
	/* A summary for the same reason as vigil_latency_seconds. */
	{ "vigil_model_ttft_seconds", "summary", "Time to the first content "
	    "token of the model's generation checks, quantiles over the "
	    "rolling window, in seconds (no _sum or _count).", row_mttft, 0,
	    MV_NONE },
	{ "vigil_model_tokens_per_second", "gauge", "Output tokens per "
	    "second of the model's answers that reported usage, over the "
	    "rolling window; 0 when none did.", row_mwindow,
	    MW_OFF(tokens_per_s), MV_FIXED },
	{ "vigil_model_checks_total", "counter", "Generation checks of the "
	    "model since vigil started.", row_mstat, MS_OFF(checks_total),
	    MV_U64 },
	{ "vigil_probe_tokens_total", "counter", "Input and output tokens "
	    "the model's generation checks used since vigil started.",
	    row_mtokens, 0, MV_NONE },
	/* The provider's own status page (status_page): beside vigil's
	 * view, never part of it.  No series without one. */
	{ "vigil_status_page_indicator", "gauge", "What the provider's "
	    "status page says: 0 none, 1 minor, 2 major, 3 critical, 4 "
	    "maintenance; no series before its first good fetch.", row_sp,
	    SP_OFF(indicator), MV_U8 },
	{ "vigil_status_page_incidents", "gauge", "Incidents open on the "
	    "provider's status page.", row_sp, SP_OFF(incidents_open),
	    MV_U32 },
	{ "vigil_status_page_up", "gauge", "1 if the last fetch of the "
	    "provider's status page was read, else 0.", row_sp, 0,
	    MV_NONE },
};

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

/*
 * Read the models of the snapshot (api_models_read) and build each
 * one's label set, provider's and model's names escaped, into a table
 * that grows with the models and is kept.  Returns a client error or
 * VIGIL_ESYS (memory), VIGIL_OK.
 */
static int
mlabels_prepare(struct api_ctx *ctx)
{
	char esc[2 * VIGIL_MODEL_MAX + 1];
	struct api_models *ms = &ctx->models;
	struct api_pmodels pm;
	struct mlbl *l;
	size_t i, j;
	uint32_t k;
	int rc, n;

	if ((rc = api_models_read(&ctx->vc, ctx->snap, ctx->nsnap, ms)) !=
	    VIGIL_OK)
		return rc;
	if (nmlbls < ms->n) {
		if ((l = realloc(mlbls, ms->n * sizeof(*mlbls))) == NULL)
			return VIGIL_ESYS;
		mlbls = l;
		nmlbls = ms->n;
	}
	for (i = 0, j = 0; i < ctx->nsnap; i++) {
		pm = api_models_of(ms, i);
		for (k = 0; k < pm.n; k++, j++) {
			api_prom_escape(pm.m[k].name, esc, sizeof(esc));
			l = &mlbls[j];
			n = snprintf(l->s, sizeof(l->s), "%.*s,model=\"%s\"",
			    (int)lbls[i].len, lbls[i].s, esc);
			l->len = n < 0 ? 0 : (size_t)n >= sizeof(l->s) ?
			    sizeof(l->s) - 1 : (size_t)n;
		}
	}
	return VIGIL_OK;
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

/* The label tails of windows, quantiles, statuses, outcomes, buckets
 * and kinds: the same for every scrape, built on the first. */
static void
xl_tables(void)
{
	static const char *const wname[VIGIL_NWINDOWS] = { "1m", "5m",
	    "15m" };
	static const char *const qname[NQUANT] = { "0.5", "0.95", "0.99" };
	static int done;
	char v[40];
	unsigned j, k;

	if (done)
		return;
	for (j = 0; j < VIGIL_NWINDOWS; j++) {
		xl_set(&wx[j], "window", wname[j]);
		for (k = 0; k < NQUANT; k++) {
			snprintf(v, sizeof(v), "%s\",quantile=\"%s", wname[j],
			    qname[k]);
			xl_set(&qx[j][k], "window", v);
		}
	}
	for (k = 0; k < VIGIL_ST_COUNT; k++)
		xl_set(&sx[k], "status", vigil_status_name(k));
	for (k = 0; k < VIGIL_OUT_COUNT; k++)
		xl_set(&ox[k], "outcome", vigil_outcome_name(k));
	for (k = 0; k < VIGIL_RL_COUNT; k++)
		xl_set(&rx[k], "resource", vigil_rl_name(k));
	xl_set(&srcx[VIGIL_SRC_PROBE], "source", "probe");
	xl_set(&srcx[VIGIL_SRC_TRAFFIC], "source", "traffic");
	for (k = 0; k < VIGIL_PROM_BUCKETS - 1; k++) {
		snprintf(v, sizeof(v), "%g", vigil_prom_bounds[k]);
		xl_set(&bx[k], "le", v);
	}
	xl_set(&bx[k], "le", "+Inf");
	/* kx[VIGIL_KIND_COUNT]: vigil_kind_name's "invalid". */
	for (k = 0; k <= VIGIL_KIND_COUNT; k++)
		xl_set(&kx[k], "kind", vigil_kind_name(k));
	done = 1;
}

/*
 * "NAME{LABELS} " or, with x, "NAME{LABELS,EXTRA} " (x is ",EXTRA} ").
 * NAME is the family's, made "NAME{" once per family: about 60,000
 * lines at 1,000 providers, each three copies and a number, no strlen.
 */
static void
series(struct mout *m, size_t i, const struct xl *x)
{
	series_as(m, m->m_name, m->m_nlen, i, x);
}

/* The same with another name ("NAME_bucket{"), nlen its length. */
static void
series_as(struct mout *m, const char *name, size_t nlen, size_t i,
    const struct xl *x)
{
	api_wb_mem(&m->m_w, name, nlen);
	api_wb_mem(&m->m_w, lbls[i].s, lbls[i].len);
	if (x != NULL)
		api_wb_mem(&m->m_w, x->s, x->len);
	else
		api_wb_lit(&m->m_w, "} ");
}

/* The family's name and model j's labels (j indexes the snapshot's
 * models, ctx->models.m, as mlbls does). */
static void
mseries(struct mout *m, size_t j, const struct xl *x)
{
	api_wb_mem(&m->m_w, m->m_name, m->m_nlen);
	api_wb_mem(&m->m_w, mlbls[j].s, mlbls[j].len);
	if (x != NULL)
		api_wb_mem(&m->m_w, x->s, x->len);
	else
		api_wb_lit(&m->m_w, "} ");
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

static void
val_bool(struct api_wbuf *w, int c)
{
	api_wb_mem(w, c ? "1\n" : "0\n", 2);
}

/* The value f describes at base + f->mf_off. */
static void
val_at(struct api_wbuf *w, const void *base, const struct mfam *f)
{
	const unsigned char *p = (const unsigned char *)base + f->mf_off;
	uint32_t u32;
	uint64_t u64;
	double d;

	switch (f->mf_val) {
	case MV_NONE:
		break;
	case MV_U8:
		val_u64(w, *p);
		break;
	case MV_U32:
		memcpy(&u32, p, sizeof(u32));
		val_u64(w, u32);
		break;
	case MV_U64:
		memcpy(&u64, p, sizeof(u64));
		val_u64(w, u64);
		break;
	case MV_FIXED:
		memcpy(&d, p, sizeof(d));
		val_fixed(w, d);
		break;
	}
}

/* ---- one provider's samples of each family ---- */

/* A field of the provider's stats. */
static void
row_stat(struct mout *m, const struct mfam *f, size_t i)
{
	series(m, i, NULL);
	val_at(&m->m_w, &m->m_ctx->snap[i].stats, f);
}

/* A field of each of the provider's windows, window="...". */
static void
row_window(struct mout *m, const struct mfam *f, size_t i)
{
	unsigned j;

	for (j = 0; j < VIGIL_NWINDOWS; j++) {
		series(m, i, &wx[j]);
		val_at(&m->m_w, &m->m_ctx->snap[i].stats.win[j], f);
	}
}

static void
row_info(struct mout *m, const struct mfam *f, size_t i)
{
	unsigned kind = m->m_ctx->snap[i].info.kind;

	(void)f;
	series(m, i, &kx[kind < VIGIL_KIND_COUNT ? kind : VIGIL_KIND_COUNT]);
	api_wb_lit(&m->m_w, "1\n");
}

static void
row_up(struct mout *m, const struct mfam *f, size_t i)
{
	(void)f;
	series(m, i, NULL);
	val_bool(&m->m_w, api_provider_up(&m->m_ctx->snap[i]));
}

/*
 * A status-page family: the field at f's offset of the provider's
 * block, or (MV_NONE) whether its last fetch was read.  The indicator
 * only once a fetch was read: before that it says nothing.
 */
static void
row_sp(struct mout *m, const struct mfam *f, size_t i)
{
	const struct vigil_provider *p = &m->m_ctx->snap[i];
	struct vigil_status_page sp;

	if (vigil_status_page(&m->m_ctx->vc, p->idx, p->info.name, &sp) !=
	    VIGIL_OK)
		return;
	if (f->mf_val == MV_NONE) {
		series(m, i, NULL);
		val_bool(&m->m_w, (sp.flags & VIGIL_SPF_OK) != 0);
		return;
	}
	if (sp.fetched_wall_ns == 0)
		return;
	series(m, i, NULL);
	val_at(&m->m_w, &sp, f);
}

static void
row_usable(struct mout *m, const struct mfam *f, size_t i)
{
	(void)f;
	series(m, i, NULL);
	val_bool(&m->m_w, vigil_provider_usable(&m->m_ctx->snap[i],
	    m->m_wall));
}

static void
row_human(struct mout *m, const struct mfam *f, size_t i)
{
	(void)f;
	series(m, i, NULL);
	val_bool(&m->m_w, m->m_ctx->snap[i].stats.needs_human != 0);
}

/* A field of each reported rate-limit resource, resource="...". */
static void
row_rl(struct mout *m, const struct mfam *f, size_t i)
{
	const struct vigil_ratelimit *rl = m->m_ctx->snap[i].stats.ratelimit;
	unsigned k;

	for (k = 0; k < VIGIL_RL_COUNT; k++) {
		if (rl[k].limit == 0)
			continue;
		series(m, i, &rx[k]);
		val_at(&m->m_w, &rl[k], f);
	}
}

static void
row_rl_reset(struct mout *m, const struct mfam *f, size_t i)
{
	const struct vigil_ratelimit *rl = m->m_ctx->snap[i].stats.ratelimit;
	unsigned k;

	(void)f;
	for (k = 0; k < VIGIL_RL_COUNT; k++) {
		if (rl[k].limit == 0 || rl[k].reset_wall_ns == 0)
			continue;
		series(m, i, &rx[k]);
		val_fixed(&m->m_w, rl[k].reset_wall_ns > m->m_wall ?
		    (rl[k].reset_wall_ns - m->m_wall) / 1e9 : 0);
	}
}

/* One series per status, 1 for the current (unknown if never written). */
static void
row_status(struct mout *m, const struct mfam *f, size_t i)
{
	unsigned k, cur;

	(void)f;
	cur = vigil_effective_status(&m->m_ctx->snap[i]);
	for (k = 0; k < VIGIL_ST_COUNT; k++) {
		series(m, i, &sx[k]);
		val_bool(&m->m_w, k == cur);
	}
}

static void
row_stale(struct mout *m, const struct mfam *f, size_t i)
{
	(void)f;
	series(m, i, NULL);
	val_bool(&m->m_w, vigil_provider_stale(&m->m_ctx->vc,
	    &m->m_ctx->snap[i], m->m_ctx->snap_at_ns));
}

static void
row_rank(struct mout *m, const struct mfam *f, size_t i)
{
	uint32_t rank = m->m_ctx->snap[i].stats.route_rank;

	(void)f;
	series(m, i, NULL);
	api_wb_i64(&m->m_w, rank == UINT32_MAX ? -1 : (int64_t)rank);
	api_wb_lit(&m->m_w, "\n");
}

/* p50, p95, p99 of each window, in seconds. */
static void
row_latency(struct mout *m, const struct mfam *f, size_t i)
{
	const struct vigil_window *win = m->m_ctx->snap[i].stats.win;
	unsigned j, k;

	(void)f;
	for (j = 0; j < VIGIL_NWINDOWS; j++) {
		const double qv[NQUANT] = { win[j].p50_ms, win[j].p95_ms,
		    win[j].p99_ms };

		for (k = 0; k < NQUANT; k++) {
			series(m, i, &qx[j][k]);
			val_fixed(&m->m_w, qv[k] / 1000.0);
		}
	}
}

/* The cumulative buckets (the segment keeps them per bucket), _sum and
 * _count. */
static void
row_duration(struct mout *m, const struct mfam *f, size_t i)
{
	static const char bucket[] = "vigil_check_duration_seconds_bucket{";
	static const char sum[] = "vigil_check_duration_seconds_sum{";
	static const char count[] = "vigil_check_duration_seconds_count{";
	const struct vigil_stats *st = &m->m_ctx->snap[i].stats;
	uint64_t cum = 0;
	unsigned k;

	(void)f;
	for (k = 0; k < VIGIL_PROM_BUCKETS; k++) {
		cum += st->lat_bucket[k];
		series_as(m, bucket, sizeof(bucket) - 1, i, &bx[k]);
		val_u64(&m->m_w, cum);
	}
	series_as(m, sum, sizeof(sum) - 1, i, NULL);
	val_fixed(&m->m_w, st->lat_sum_s);
	series_as(m, count, sizeof(count) - 1, i, NULL);
	val_u64(&m->m_w, cum);
}

/* One series per source, the value at mf_off in stats.source[k]. */
static void
row_source(struct mout *m, const struct mfam *f, size_t i)
{
	unsigned k;

	for (k = 0; k < VIGIL_SRC_COUNT; k++) {
		series(m, i, &srcx[k]);
		val_at(&m->m_w, &m->m_ctx->snap[i].stats.source[k], f);
	}
}

/* stats.hedge_after_us, in seconds. */
static void
row_hedge(struct mout *m, const struct mfam *f, size_t i)
{
	(void)f;
	series(m, i, NULL);
	val_fixed(&m->m_w, m->m_ctx->snap[i].stats.hedge_after_us / 1e6);
}

/* From the prober's ring control block, not the stats. */
static void
row_skipped(struct mout *m, const struct mfam *f, size_t i)
{
	(void)f;
	series(m, i, NULL);
	val_u64(&m->m_w, vigil_probes_skipped(&m->m_ctx->vc,
	    m->m_ctx->snap[i].idx));
}

static void
row_checks(struct mout *m, const struct mfam *f, size_t i)
{
	unsigned k;

	(void)f;
	for (k = 0; k < VIGIL_OUT_COUNT; k++) {
		series(m, i, &ox[k]);
		val_u64(&m->m_w, m->m_ctx->snap[i].stats.checks_total[k]);
	}
}

/* From the directory slot: vigild counts them, not the aggregator. */
static void
row_restarts(struct mout *m, const struct mfam *f, size_t i)
{
	(void)f;
	series(m, i, NULL);
	val_u64(&m->m_w, m->m_ctx->snap[i].info.restarts);
}

static void
row_today(struct mout *m, const struct mfam *f, size_t i)
{
	(void)f;
	series(m, i, NULL);
	val_u64(&m->m_w, vigil_probe_tokens_today(&m->m_ctx->snap[i].stats,
	    m->m_wall));
}

static void
row_budget(struct mout *m, const struct mfam *f, size_t i)
{
	struct api_pmodels pm = api_models_of(&m->m_ctx->models, i);

	(void)f;
	if (pm.budget == 0)
		return;
	series(m, i, NULL);
	val_u64(&m->m_w, pm.budget);
}

/* ---- each model's samples of a model family (provider i's models) ---- */

/* A field of each model's stats. */
static void
row_mstat(struct mout *m, const struct mfam *f, size_t i)
{
	struct api_pmodels pm = api_models_of(&m->m_ctx->models, i);
	size_t j0 = m->m_ctx->models.first[i];
	uint32_t k;

	for (k = 0; k < pm.n; k++) {
		mseries(m, j0 + k, NULL);
		val_at(&m->m_w, &pm.m[k].s, f);
	}
}

/* A field of each of each model's windows, window="...". */
static void
row_mwindow(struct mout *m, const struct mfam *f, size_t i)
{
	struct api_pmodels pm = api_models_of(&m->m_ctx->models, i);
	size_t j0 = m->m_ctx->models.first[i];
	uint32_t k;
	unsigned j;

	for (k = 0; k < pm.n; k++)
		for (j = 0; j < VIGIL_NWINDOWS; j++) {
			mseries(m, j0 + k, &wx[j]);
			val_at(&m->m_w, &pm.m[k].s.win[j], f);
		}
}

/* One series per status, 1 for the current (vigil_model_effective_status). */
static void
row_mstatus(struct mout *m, const struct mfam *f, size_t i)
{
	struct api_pmodels pm = api_models_of(&m->m_ctx->models, i);
	size_t j0 = m->m_ctx->models.first[i];
	unsigned st, cur;
	uint32_t k;

	(void)f;
	for (k = 0; k < pm.n; k++) {
		cur = vigil_model_effective_status(&pm.m[k].s);
		for (st = 0; st < VIGIL_ST_COUNT; st++) {
			mseries(m, j0 + k, &sx[st]);
			val_bool(&m->m_w, st == cur);
		}
	}
}

static void
row_musable(struct mout *m, const struct mfam *f, size_t i)
{
	struct api_pmodels pm = api_models_of(&m->m_ctx->models, i);
	size_t j0 = m->m_ctx->models.first[i];
	uint32_t k;

	(void)f;
	for (k = 0; k < pm.n; k++) {
		mseries(m, j0 + k, NULL);
		val_bool(&m->m_w, vigil_model_usable(&pm.m[k].s));
	}
}

/* 1 listed, 0 not; nothing while unknown (vigil_model_listed). */
static void
row_mlisted(struct mout *m, const struct mfam *f, size_t i)
{
	struct api_pmodels pm = api_models_of(&m->m_ctx->models, i);
	size_t j0 = m->m_ctx->models.first[i];
	uint32_t k;

	(void)f;
	for (k = 0; k < pm.n; k++) {
		int l = vigil_model_listed(&pm.m[k].s);

		if (l < 0)
			continue;
		mseries(m, j0 + k, NULL);
		val_bool(&m->m_w, l == 1);
	}
}

/* TTFT p50, p95, p99 of each window, in seconds. */
static void
row_mttft(struct mout *m, const struct mfam *f, size_t i)
{
	struct api_pmodels pm = api_models_of(&m->m_ctx->models, i);
	size_t j0 = m->m_ctx->models.first[i];
	unsigned j, q;
	uint32_t k;

	(void)f;
	for (k = 0; k < pm.n; k++)
		for (j = 0; j < VIGIL_NWINDOWS; j++) {
			const struct vigil_model_window *w = &pm.m[k].s.win[j];
			const double qv[NQUANT] = { w->ttft_p50_ms,
			    w->ttft_p95_ms, w->ttft_p99_ms };

			for (q = 0; q < NQUANT; q++) {
				mseries(m, j0 + k, &qx[j][q]);
				val_fixed(&m->m_w, qv[q] / 1000.0);
			}
		}
}

/* Input plus output tokens since start. */
static void
row_mtokens(struct mout *m, const struct mfam *f, size_t i)
{
	struct api_pmodels pm = api_models_of(&m->m_ctx->models, i);
	size_t j0 = m->m_ctx->models.first[i];
	uint32_t k;

	(void)f;
	for (k = 0; k < pm.n; k++) {
		mseries(m, j0 + k, NULL);
		val_u64(&m->m_w, pm.m[k].s.tokens_in_total +
		    pm.m[k].s.tokens_out_total);
	}
}

/* The families that are not per provider; snap_rc is api_snapshot's, or
 * the models' read (mlabels_prepare). */
static void
reports_row(struct api_wbuf *w, const char *result, uint64_t v)
{
	api_wb_lit(w, "vigil_reports_total{result=\"");
	api_wb_str(w, result);
	api_wb_lit(w, "\"} ");
	api_wb_u64(w, v);
	api_wb_lit(w, "\n");
}

static void
globals(struct mout *m, int snap_rc)
{
	struct api_wbuf *w = &m->m_w;
	const struct vigil_header *hdr = m->m_ctx->vc.hdr;
	uint64_t age;

	family(w, "vigil_build_info", "gauge",
	    "vigil build information and its vantage (vigil.conf's "
	    "vantage); always 1.");
	api_wb_lit(w, "vigil_build_info{version=\"" VIGIL_VERSION
	    "\",vantage=\"");
	/* A name (settings.c checks it): nothing to escape. */
	api_wb_str(w, m->m_ctx->vantage[0] != '\0' ? m->m_ctx->vantage :
	    "default");
	api_wb_lit(w, "\"} 1\n");
	family(w, "vigil_aggregator_heartbeat_age_seconds", "gauge",
	    "Seconds since the aggregator last wrote its heartbeat "
	    "(+Inf: never).");
	age = vigil_aggregator_age_ns(&m->m_ctx->vc);
	api_wb_lit(w, "vigil_aggregator_heartbeat_age_seconds ");
	api_wb_fixed(w, age == UINT64_MAX ? INFINITY : age / 1e9, PREC);
	api_wb_lit(w, "\n");
	family(w, "vigil_snapshot_ok", "gauge",
	    "1 if vigil-api read a consistent snapshot of the segment for "
	    "this scrape, 0 if a writer was busy.");
	api_wb_str(w, snap_rc == VIGIL_OK ? "vigil_snapshot_ok 1\n" :
	    "vigil_snapshot_ok 0\n");
	family(w, "vigil_reports_total", "counter", "Traffic reports by "
	    "what became of them: accepted (samples), invalid (failed a "
	    "check), rate_dropped (over report_rate_max), lost (torn or "
	    "never finished), full (dropped by the client: its ring was "
	    "full).");
	reports_row(w, "accepted", HDR_RLX(hdr, reports_accepted));
	reports_row(w, "invalid", HDR_RLX(hdr, reports_invalid));
	reports_row(w, "rate_dropped",
	    HDR_RLX(hdr, reports_rate_dropped));
	reports_row(w, "lost", HDR_RLX(hdr, reports_lost));
	reports_row(w, "full", HDR_RLX(hdr, reports_full));
	family(w, "vigil_report_slots", "gauge", "Reporter slots clients "
	    "hold now.");
	api_wb_lit(w, "vigil_report_slots ");
	api_wb_u64(w, HDR_RLX(hdr, reports_slots));
	api_wb_lit(w, "\n");
	family(w, "vigil_providers", "gauge", "Providers configured.");
	api_wb_lit(w, "vigil_providers ");
	api_wb_u64(w, m->m_ctx->nsnap);
	api_wb_lit(w, "\n");
	family(w, "vigil_vantage_ours", "gauge",
	    "1 while the vantage self-check says failures are ours (the "
	    "canaries and most providers fail on the network), else 0.");
	api_wb_str(w, vigil_vantage(&m->m_ctx->vc, NULL) ?
	    "vigil_vantage_ours 1\n" : "vigil_vantage_ours 0\n");
}

/*
 * Build the exposition.  404 when Prometheus is disabled (configure
 * prometheus=false, --no-prometheus, ENABLE_PROMETHEUS_METRICS=false).
 * O((providers + models) * families), about 60 lines per provider and
 * 30 per model, written through an api_wbuf: no allocation per
 * provider, no printf per value.  The
 * format wants a family's samples together: family by family, each
 * over every provider.
 */
void
api_view_metrics(struct api_ctx *ctx, struct evbuffer *out,
    struct api_result *r)
{
	struct mout m;
	const struct mfam *f;
	size_t i;
	int rc, n;

	if (!ctx->prometheus) {
		api_error_json(out, "not_found", NULL, "Prometheus metrics "
		    "are disabled (prometheus = no)");
		r->code = 404;
		r->ctype = "application/json";
		return;
	}
	xl_tables();
	rc = api_snapshot(ctx);
	if (rc == VIGIL_OK && labels_prepare(ctx) == -1)
		rc = VIGIL_ESYS;
	if (rc == VIGIL_OK)
		rc = mlabels_prepare(ctx);
	if (rc != VIGIL_OK) {
		ctx->nsnap = 0;
		r->partial = 1;		/* vigil_snapshot_ok 0, no provider */
	}
	r->ctype = "text/plain; version=0.0.4; charset=utf-8";
	r->code = 200;
	m.m_ctx = ctx;
	m.m_wall = now_wall_ns();
	api_wb_begin(&m.m_w, out);
	globals(&m, rc);
	for (f = fams; f < fams + sizeof(fams) / sizeof(fams[0]); f++) {
		family(&m.m_w, f->mf_name, f->mf_type, f->mf_help);
		n = snprintf(m.m_name, sizeof(m.m_name), "%s{", f->mf_name);
		m.m_nlen = n < 0 ? 0 : (size_t)n >= sizeof(m.m_name) ?
		    sizeof(m.m_name) - 1 : (size_t)n;
		for (i = 0; i < ctx->nsnap; i++)
			f->mf_row(&m, f, i);
	}
	if (api_wb_end(&m.m_w) == -1) {
		evbuffer_drain(out, evbuffer_get_length(out));
		api_error_json(out, "out_of_memory", NULL, "the exposition "
		    "did not fit in memory");
		r->code = 503;
		r->ctype = "application/json";
	}
}
