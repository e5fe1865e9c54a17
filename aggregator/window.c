/*
 * window.c - rolling windows over 10-second slices.
 *
 * A sample at monotonic time t belongs to slice s = t / 10 s.  At the
 * newest slice c (the newest sample's, or the clock's on a tick), the
 * 1-minute window holds slices c-5..c, the 5-minute one c-29..c and the
 * 15-minute one c-89..c.  So a window of span S minutes holds every
 * sample younger than S*60 - 10 s, none S*60 s old or older, and those
 * in between by slice alignment (docs/aggregation.md, "Windows").
 *
 * Each window keeps running totals (counts, latency sum, histogram).  A
 * slice keeps its own counts and the latencies of its ok samples; when it
 * leaves a window its counts are subtracted and its latencies removed
 * from that window's histogram: every sample is added three times and
 * removed three times, O(1) amortised.  The window's max is recomputed
 * over its slices (at most 90) when a slice that held the max leaves.
 */
#include <stdlib.h>
#include <string.h>

#include "window.h"

const uint32_t window_span[VIGIL_NWINDOWS] = { 6, 30, 90 };

static void	window_sub(struct win_acc *, const struct win_slice *);
static void	window_acc_reset(struct win_acc *);
static void	window_remax(struct window *, int, uint64_t);
static void	window_slice_reset(struct win_slice *, uint64_t);
static int	window_slice_push(struct win_slice *, uint32_t);

/* Index in vigil_stats.lat_bucket of a latency (vigil_prom_bounds). */
int
window_prom_bucket(uint32_t us)
{
	double s = us / 1e6;
	int i;

	for (i = 0; i < VIGIL_PROM_BUCKETS - 1; i++)
		if (s <= vigil_prom_bounds[i])
			return i;
	return VIGIL_PROM_BUCKETS - 1;
}

void
window_init(struct window *w)
{
	memset(w, 0, sizeof(*w));
}

void
window_free(struct window *w)
{
	int i;

	for (i = 0; i < WIN_NSLICES; i++)
		free(w->slice[i].lat);
	memset(w, 0, sizeof(*w));
}

static void
window_acc_reset(struct win_acc *a)
{
	memset(a, 0, sizeof(*a));
}

static void
window_slice_reset(struct win_slice *s, uint64_t id)
{
	uint32_t *lat = s->lat, cap = s->caplat;

	memset(s, 0, sizeof(*s));
	s->id = id;
	s->lat = lat;
	s->caplat = cap;
}

/* Keep a latency in the slice; -1 if out of memory. */
static int
window_slice_push(struct win_slice *s, uint32_t us)
{
	uint32_t *p, cap;

	if (s->nlat == s->caplat) {
		cap = s->caplat ? s->caplat * 2 : 16;
		if ((p = realloc(s->lat, cap * sizeof(*p))) == NULL)
			return -1;
		s->lat = p;
		s->caplat = cap;
	}
	s->lat[s->nlat++] = us;
	return 0;
}

/* Subtract a leaving slice from a window's totals. */
static void
window_sub(struct win_acc *a, const struct win_slice *s)
{
	uint32_t i;

	a->samples -= s->samples;
	a->ok -= s->ok;
	for (i = 0; i < VIGIL_OUT_COUNT; i++)
		a->by_outcome[i] -= s->by_outcome[i];
	a->lat_sum_us -= s->lat_sum_us;
	a->tok_out -= s->tok_out;
	a->stream_us -= s->stream_us;
	for (i = 0; i < s->nlat; i++)
		hist_del(&a->h, s->lat[i]);
}

/* Recompute window k's max over its slices up to slice top.  O(span). */
static void
window_remax(struct window *w, int k, uint64_t top)
{
	const struct win_slice *s;
	uint64_t id;
	uint32_t max = 0, n;

	for (n = 0; n < window_span[k] && n < top; n++) {
		id = top - n;
		s = &w->slice[id % WIN_NSLICES];
		if (s->id == id && s->lat_max_us > max)
			max = s->lat_max_us;
	}
	w->acc[k].lat_max_us = max;
}

/*
 * Move the windows forward to monotonic time now_ns: slices that leave a
 * window are subtracted from it, slots for new slices are emptied.  A
 * time before the newest slice changes nothing.  O(slices passed).
 */
void
window_advance(struct window *w, uint64_t now_ns)
{
	uint64_t nid = now_ns / WIN_SLICE_NS + 1, old = w->cur, id, from;
	int k, remax;

	if (nid <= old)
		return;
	for (k = 0; k < VIGIL_NWINDOWS; k++) {
		uint64_t S = window_span[k];

		if (old == 0 || nid - old >= S) {
			window_acc_reset(&w->acc[k]);
			continue;
		}
		/* Leaving: old-S+1 .. nid-S, those that exist. */
		from = old >= S ? old - S + 1 : 1;
		remax = 0;
		for (id = from; id + S <= nid; id++) {
			const struct win_slice *s = &w->slice[id % WIN_NSLICES];

			if (s->id != id)
				continue;
			window_sub(&w->acc[k], s);
			if (s->lat_max_us >= w->acc[k].lat_max_us)
				remax = 1;
		}
		if (remax)
			window_remax(w, k, nid);
	}
	/* Empty the slots the new slices take: their old slices (90
	 * slices back) have left even the 15-minute window above. */
	from = old + 1;
	if (nid - old > WIN_NSLICES)
		from = nid - WIN_NSLICES + 1;
	for (id = from; id <= nid; id++)
		window_slice_reset(&w->slice[id % WIN_NSLICES], id);
	w->cur = nid;
}

/*
 * Add one sample.  The windows first move forward to its time; a sample
 * older than the newest slice (probes may finish out of order) goes into
 * its own slice and into the windows that still hold that slice; one
 * older than 15 minutes is dropped.  Latency is kept for ok samples only
 * (a timeout's latency is the timeout, not the provider's speed).  An
 * outcome about us, not the provider (vigil_outcome_counts() 0: rate
 * limited, auth, quota, model_missing, client_error) is counted in
 * by_outcome only: it is not one of `samples`, so it moves neither the
 * error rate nor the uptime.
 * Returns 0, or -1 when dropped (too old, or out of memory).
 */
int
window_add(struct window *w, const struct vigil_sample *smp)
{
	return window_add_lat(w, smp, smp->latency_us);
}

/*
 * window_add, keeping lat_us as the sample's latency: a model's windows
 * keep its time to the first token (aggregator/models.c).  An ok answer
 * that reported output tokens also adds them, and its time from the
 * first token to the end, to the throughput (window_tokens_per_s).
 */
int
window_add_lat(struct window *w, const struct vigil_sample *smp,
    uint32_t lat_us)
{
	uint64_t sid = smp->mono_ns / WIN_SLICE_NS + 1;
	uint64_t tok = 0, sus = 0;
	struct win_slice *s;
	int k, ok = smp->outcome == VIGIL_OUT_OK;
	unsigned out = smp->outcome < VIGIL_OUT_COUNT ? smp->outcome :
	    VIGIL_OUT_OTHER;
	uint32_t counts = (uint32_t)vigil_outcome_counts(out);

	window_advance(w, smp->mono_ns);
	if (w->cur - sid >= WIN_NSLICES) {
		w->dropped++;
		return -1;
	}
	s = &w->slice[sid % WIN_NSLICES];
	if (s->id != sid)
		window_slice_reset(s, sid);
	if (ok && lat_us != WINDOW_NO_LAT &&
	    window_slice_push(s, lat_us) == -1) {
		w->dropped++;
		return -1;
	}
	if (ok && smp->tokens_out > 0 && smp->latency_us > smp->ttfb_us) {
		tok = smp->tokens_out;
		sus = smp->latency_us - smp->ttfb_us;
	}
	s->tok_out += tok;
	s->stream_us += sus;
	s->samples += counts;
	s->by_outcome[out]++;
	if (ok) {
		s->ok++;
		if (lat_us != WINDOW_NO_LAT) {
			s->lat_sum_us += lat_us;
			if (lat_us > s->lat_max_us)
				s->lat_max_us = lat_us;
		}
	}
	for (k = 0; k < VIGIL_NWINDOWS; k++) {
		struct win_acc *a = &w->acc[k];

		if (w->cur - sid >= window_span[k])
			continue;
		a->samples += counts;
		a->by_outcome[out]++;
		a->tok_out += tok;
		a->stream_us += sus;
		if (!ok)
			continue;
		a->ok++;
		if (lat_us == WINDOW_NO_LAT)
			continue;
		a->lat_sum_us += lat_us;
		if (lat_us > a->lat_max_us)
			a->lat_max_us = lat_us;
		hist_add(&a->h, lat_us);
	}
	return 0;
}

/* Output tokens per second in window k over the answers with usage. */
double
window_tokens_per_s(const struct window *w, int k)
{
	const struct win_acc *a = &w->acc[k];

	return a->stream_us > 0 ? (double)a->tok_out * 1e6 / a->stream_us :
	    0.0;
}

/*
 * Window k as the segment publishes it.  error_rate = (samples - ok) /
 * samples (every outcome that counts but ok is a failure), uptime = ok /
 * samples,
 * both 0 with no samples; latencies in ms over the ok samples.
 * O(histogram buckets): one pass for the three percentiles.
 */
void
window_get(const struct window *w, int k, struct vigil_window *out)
{
	static const double qs[3] = { 0.50, 0.95, 0.99 };
	const struct win_acc *a = &w->acc[k];
	uint32_t v[3];

	memset(out, 0, sizeof(*out));
	out->samples = a->samples;
	out->ok = a->ok;
	memcpy(out->by_outcome, a->by_outcome, sizeof(out->by_outcome));
	if (a->samples > 0) {
		out->error_rate = (double)(a->samples - a->ok) / a->samples;
		out->uptime = (double)a->ok / a->samples;
	}
	if (a->ok == 0)
		return;
	hist_quantiles(&a->h, qs, 3, v);
	out->p50_ms = v[0] / 1000.0;
	out->p95_ms = v[1] / 1000.0;
	out->p99_ms = v[2] / 1000.0;
	out->mean_ms = (double)a->lat_sum_us / a->ok / 1000.0;
	out->max_ms = a->lat_max_us / 1000.0;
}
