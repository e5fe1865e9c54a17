/*
 * models.c - a provider's models: windows, status and reason per model.
 *
 * Two kinds of sample name a model (sample.model = m + 1):
 *   - a generation check of it (VIGIL_SF_GENERATION): into the model's
 *     windows, with its time to the first token as the latency, and its
 *     output tokens per second where the stream reported usage;
 *   - the models-list check's verdict on it (VIGIL_SF_CATALOGUE, not a
 *     request): ok = listed, model_missing = gone from the catalogue.
 *     The verdict stands until the next list check, even while the
 *     model still answers: a model dropped from the catalogue but still
 *     served is one on its way out, and that is the warning to give.
 * Neither goes into the provider's own windows: one broken model makes
 * the provider degraded (status_models_floor), never down, while its
 * other models work.
 *
 * A model's status, in order (docs/aggregation.md, "Models"):
 *   unhealthy/model_missing  not listed, or its newest answer says so
 *                            (not usable, needs a human);
 *   unknown                  no verdict and no answer yet;
 *   healthy                  listed, never asked (the list is the only
 *                            evidence);
 *   exhausted, misconfigured, throttled   its newest answer is quota,
 *                            auth or client_error, rate_limited (as for
 *                            a provider);
 *   unhealthy, degraded      the 15-minute error rate at the critical or
 *                            warning level (errors, or overloaded when
 *                            that was the newest failure), degraded when
 *                            TTFT p95 reaches latency_warning (slow);
 *   healthy                  otherwise.
 * Usable: as status_usable() with no circuit, but never an unhealthy
 * model (no circuit protects a router from it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models.h"
#include "status.h"

static void	model_reset(struct agg_model *, const char *);
static void	model_eval(struct agg_model *, const struct conf *,
		    uint64_t);

static void
model_reset(struct agg_model *md, const char *name)
{
	window_free(&md->win);
	memset(md, 0, sizeof(*md));
	md->used = 1;
	snprintf(md->name, sizeof(md->name), "%s", name);
	window_init(&md->win);
	md->last_outcome = -1;
	md->last_failure = -1;
	md->s.listed = 2;
	md->s.status = VIGIL_ST_UNKNOWN;
	md->dirty = 1;
}

void
models_free(struct agg_models *ms)
{
	uint32_t i;

	if (ms->m != NULL)
		for (i = 0; i < ms->cap; i++)
			window_free(&ms->m[i].win);
	free(ms->m);
	memset(ms, 0, sizeof(*ms));
}

/*
 * Follow the provider's model block: a model keeps its windows while its
 * name stays at its index; a renamed or new one starts afresh; one past
 * the count is dropped.  Returns 1 if anything changed, 0, or -1 (out of
 * memory).
 */
int
models_sync(struct agg_models *ms, const struct vigil_models *vm,
    uint32_t cap)
{
	uint32_t i, n = vm->head.count;
	int changed = 0;

	if (ms->m == NULL && n == 0)
		return 0;
	if (ms->m == NULL) {
		if ((ms->m = calloc(cap, sizeof(*ms->m))) == NULL)
			return -1;
		ms->cap = cap;
	}
	if (n > ms->cap)
		n = ms->cap;
	for (i = 0; i < ms->cap; i++) {
		struct agg_model *md = &ms->m[i];

		if (i < n && md->used && strcmp(md->name,
		    vm->names[i].name) == 0)
			continue;
		if (i < n)
			model_reset(md, vm->names[i].name);
		else if (md->used) {
			window_free(&md->win);
			memset(md, 0, sizeof(*md));
			md->dirty = 1;		/* write the empty block */
		} else
			continue;
		changed = 1;
	}
	ms->count = n;
	ms->generation = vm->head.generation;
	return changed;
}

/*
 * A sample that names a model (sample.model > 0).  Returns 0, or -1 when
 * it names none of the current models (a list changed meanwhile).
 */
int
models_sample(struct agg_models *ms, const struct vigil_sample *smp)
{
	struct agg_model *md;
	unsigned out = smp->outcome < VIGIL_OUT_COUNT ? smp->outcome :
	    VIGIL_OUT_OTHER;

	if (smp->model == 0 || smp->model > ms->count ||
	    !ms->m[smp->model - 1].used)
		return -1;
	md = &ms->m[smp->model - 1];
	md->dirty = 1;
	if (smp->flags & VIGIL_SF_CATALOGUE) {
		md->s.listed = out == VIGIL_OUT_OK ? 1 : 0;
		return 0;
	}
	/* An ok answer with no content token (a reasoning model that spent
	 * its tokens thinking) has no time to the first token: it counts,
	 * but stays out of the TTFT percentiles. */
	window_add_lat(&md->win, smp, smp->ttfb_us != 0 ? smp->ttfb_us :
	    WINDOW_NO_LAT);
	md->s.last_wall_ns = smp->wall_ns;
	/* The prober's generation check of this model steps aside while
	 * it is newer than an interval (probe_when_idle).  The totals are
	 * the probes' (vigil.h): what the checks cost, which the budget's
	 * estimate of the next check divides. */
	if (smp->flags & VIGIL_SF_TRAFFIC)
		md->s.traffic_last_mono_ns = smp->mono_ns;
	else {
		md->s.checks_total++;
		md->s.tokens_in_total += smp->tokens_in;
		md->s.tokens_out_total += smp->tokens_out;
	}
	md->s.last_http_status = smp->http_status;
	md->s.last_outcome = (uint8_t)out;
	md->last_outcome = (int)out;
	if (out != VIGIL_OUT_OK) {
		memcpy(md->s.last_error, smp->error, sizeof(md->s.last_error));
		md->s.last_error[sizeof(md->s.last_error) - 1] = '\0';
		if (vigil_outcome_counts(out))
			md->last_failure = (int)out;
	}
	md->usable_at = out != VIGIL_OUT_RATE_LIMITED ? 0 : smp->wall_ns +
	    (uint64_t)smp->retry_after_ms * 1000000u;
	return 0;
}

/* Status, reason and usable of one model (the rules above). */
static void
model_eval(struct agg_model *md, const struct conf *c, uint64_t wall)
{
	const struct vigil_model_window *w = &md->s.win[VIGIL_WIN_15M];
	struct vigil_model_stats *s = &md->s;
	double lw = (double)c->latency_warning_ms;

	s->reason = VIGIL_RS_NONE;
	md->er_level = w->samples > 0 ? (uint8_t)status_level(md->er_level,
	    w->error_rate * 100.0, c->warning_error_rate,
	    c->critical_error_rate) : 0;
	md->lat_level = lw > 0 && w->ok > 0 ? (uint8_t)status_level(
	    md->lat_level, w->ttft_p95_ms, lw, lw * STATUS_LAT_CRIT) : 0;
	if (s->listed == 0 || md->last_outcome == VIGIL_OUT_MODEL_MISSING) {
		s->status = VIGIL_ST_UNHEALTHY;
		s->reason = VIGIL_RS_MODEL_MISSING;
	} else if (md->last_outcome < 0)
		s->status = s->listed == 1 ? VIGIL_ST_HEALTHY :
		    VIGIL_ST_UNKNOWN;
	else if (md->last_outcome == VIGIL_OUT_QUOTA) {
		s->status = VIGIL_ST_EXHAUSTED;
		s->reason = VIGIL_RS_QUOTA;
	} else if (md->last_outcome == VIGIL_OUT_AUTH ||
	    md->last_outcome == VIGIL_OUT_CLIENT_ERROR) {
		s->status = VIGIL_ST_MISCONFIGURED;
		s->reason = md->last_outcome == VIGIL_OUT_AUTH ?
		    VIGIL_RS_AUTH : VIGIL_RS_CLIENT_ERROR;
	} else if (md->last_outcome == VIGIL_OUT_RATE_LIMITED) {
		s->status = VIGIL_ST_THROTTLED;
		s->reason = VIGIL_RS_RATE_LIMITED;
	} else if (md->er_level >= 1) {
		s->status = md->er_level >= 2 ? VIGIL_ST_UNHEALTHY :
		    VIGIL_ST_DEGRADED;
		s->reason = md->last_failure == VIGIL_OUT_OVERLOADED ?
		    VIGIL_RS_OVERLOADED : VIGIL_RS_ERRORS;
	} else if (md->lat_level >= 1) {
		s->status = VIGIL_ST_DEGRADED;
		s->reason = VIGIL_RS_SLOW;
	} else
		s->status = VIGIL_ST_HEALTHY;
	s->usable = s->status != VIGIL_ST_UNHEALTHY && status_usable(
	    s->status, VIGIL_CB_CLOSED, md->usable_at, wall);
}

/*
 * Move every model's windows to monotonic now and judge it at wall.
 * Returns 1 if a status, reason or usable changed.
 */
/*
 * hedge_after (issue 18): after how long a router may send a slow
 * request again elsewhere, the 5-minute p95 (latency, or a model's
 * TTFT) once the window holds min_samples; 0 before.
 */
uint32_t
agg_hedge_us(uint32_t samples, double p95_ms, uint32_t min_samples)
{
	double us = p95_ms * 1000.0;

	if (samples < min_samples || !(us > 0))
		return 0;
	return us >= UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

int
models_judge(struct agg_models *ms, const struct conf *c, uint64_t now,
    uint64_t wall)
{
	struct vigil_window vw;
	uint32_t i;
	int k, changed = 0;

	for (i = 0; i < ms->count; i++) {
		struct agg_model *md = &ms->m[i];
		uint8_t st, rs, us;

		if (!md->used)
			continue;
		window_advance(&md->win, now);
		for (k = 0; k < VIGIL_NWINDOWS; k++) {
			window_get(&md->win, k, &vw);
			md->s.win[k].samples = vw.samples;
			md->s.win[k].ok = vw.ok;
			md->s.win[k].error_rate = vw.error_rate;
			md->s.win[k].ttft_p50_ms = vw.p50_ms;
			md->s.win[k].ttft_p95_ms = vw.p95_ms;
			md->s.win[k].ttft_p99_ms = vw.p99_ms;
			md->s.win[k].tokens_per_s = window_tokens_per_s(
			    &md->win, k);
		}
		md->s.hedge_after_us = agg_hedge_us(
		    md->s.win[VIGIL_WIN_5M].samples,
		    md->s.win[VIGIL_WIN_5M].ttft_p95_ms, c->min_samples);
		st = md->s.status;
		rs = md->s.reason;
		us = md->s.usable;
		model_eval(md, c, wall);
		if (st != md->s.status || rs != md->s.reason ||
		    us != md->s.usable) {
			md->dirty = 1;
			changed = 1;
		}
	}
	return changed;
}

/* Models whose reason is model_missing. */
uint32_t
models_missing(const struct agg_models *ms)
{
	uint32_t i, n = 0;

	for (i = 0; i < ms->count; i++)
		if (ms->m[i].used && ms->m[i].s.reason ==
		    VIGIL_RS_MODEL_MISSING)
			n++;
	return n;
}

/*
 * The worst model by vigil_status_severity (unknown ones aside): its
 * status, and its reason in *reason.  VIGIL_ST_HEALTHY when none is
 * worse.
 */
int
models_worst(const struct agg_models *ms, uint8_t *reason)
{
	unsigned worst = VIGIL_ST_HEALTHY;
	uint32_t i;

	*reason = VIGIL_RS_NONE;
	for (i = 0; i < ms->count; i++) {
		const struct agg_model *md = &ms->m[i];

		if (!md->used || md->s.status == VIGIL_ST_UNKNOWN)
			continue;
		if (vigil_status_severity(md->s.status) >
		    vigil_status_severity(worst)) {
			worst = md->s.status;
			*reason = md->s.reason;
		}
	}
	return (int)worst;
}
