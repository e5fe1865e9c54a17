/*
 * test_engine.c - the aggregator's engine over a real segment.
 *
 * A segment is created under a unique shm name; samples are pushed into
 * a provider's ring with ring_push as a prober does; agg_tick() runs; the
 * results are read back through the public reader (include/vigil/vigil.h,
 * vigil_open on the same name, read-only).  Also: an aggregator restart
 * (SIGKILL: no snapshot) does not count samples twice; a snapshot carries
 * counters, history and alerts into a fresh segment; and the error-rate
 * ramp of the acceptance list, in order.
 */
#include <sys/mman.h>

#include <math.h>
#include <stdlib.h>

#include "t.h"
#include "../../aggregator/engine.h"
#include "../../aggregator/persist.h"
#include "segfix.h"

#define S	UINT64_C(1000000000)

struct fix {
	char name[64];
	struct segment seg;
	struct ring_writer rw[4];
	struct vigil_client cl;
};

static void	push_flags(struct fix *, uint32_t, uint64_t, int, uint32_t,
		    uint8_t);

static void
fix_open(struct fix *f, int n)
{
	struct seg_caps caps = { 4, 64, 64, 64, 0 };
	char err[256];
	uint32_t i;

	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "/vigil-test-engine-%d-%d",
	    (int)getpid(), n);
	T_CHECKF(seg_create(&f->seg, f->name, &caps, 0600, err,
	    sizeof(err)) == 0, "%s", err);
	for (i = 0; i < 4; i++)
		ring_writer_init(&f->rw[i], seg_sample_ring(&f->seg, i),
		    f->seg.hdr->sample_cap, f->seg.hdr->sample_entry);
	T_CHECKF(vigil_open(&f->cl, f->name) == VIGIL_OK, "%s", f->cl.err);
}

static void
fix_close(struct fix *f)
{
	vigil_close(&f->cl);
	seg_close(&f->seg);
	shm_unlink(f->name);
}

/* What a prober does. */
static void
push(struct fix *f, uint32_t idx, uint64_t mono, int outcome, uint32_t us)
{
	push_flags(f, idx, mono, outcome, us, 0);
}

static void
push_flags(struct fix *f, uint32_t idx, uint64_t mono, int outcome,
    uint32_t us, uint8_t flags)
{
	struct vigil_sample s;

	memset(&s, 0, sizeof(s));
	s.mono_ns = mono;
	s.wall_ns = UINT64_C(1764000000) * S + mono % (1000000 * S);
	s.latency_us = us;
	s.outcome = (uint8_t)outcome;
	s.flags = flags;
	s.http_status = outcome == VIGIL_OUT_OK ? 200 : 0;
	if (outcome != VIGIL_OUT_OK)
		snprintf(s.error, sizeof(s.error), "curl:28");
	ring_push(&f->rw[idx], &s, VIGIL_WORDS(struct vigil_sample));
}

static size_t
all_alerts(struct fix *f, struct vigil_alert *out, size_t max)
{
	struct vigil_cursor c = { 0, 0 };

	return vigil_read_alerts(&f->cl, &c, out, max);
}

static size_t
count_history(struct fix *f, uint32_t idx, struct vigil_history *last)
{
	struct vigil_cursor c = { 0, 0 };
	struct vigil_history h;
	size_t n = 0;

	while (vigil_read_history(&f->cl, idx, &c, &h, 1) == 1) {
		n++;
		if (last != NULL)
			*last = h;
	}
	return n;
}

static int
has_alert(const struct vigil_alert *a, size_t n, const char *prov, int kind,
    int level)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(a[i].provider, prov) == 0 && a[i].kind == kind &&
		    a[i].level == level)
			return 1;
	return 0;
}

static void
test_engine(void)
{
	struct fix f, g;
	struct agg a;
	struct conf c;
	struct vigil_provider p;
	struct vigil_alert al[64];
	struct vigil_history h;
	struct persist_snap snap, *rs;
	uint32_t route[4];
	uint64_t base = now_mono_ns(), wall = now_wall_ns();
	size_t n, nal;
	char err[512], dir[64];
	int i;

	fix_open(&f, 0);
	segfix_add_slot(&f.seg, 0, "alpha", 0);
	segfix_add_slot(&f.seg, 2, "beta", 0);
	settings_defaults(&c);
	T_CHECK(agg_init(&a, &f.seg, &c, NULL, err, sizeof(err)) == 0);
	agg_tick(&a, base, wall);
	T_CHECK(vigil_snapshot(&f.cl, 0, &p) == VIGIL_OK);
	T_CHECK(p.stats.status == VIGIL_ST_UNKNOWN);

	for (i = 0; i < 10; i++) {
		push(&f, 0, base + (uint64_t)i * S, VIGIL_OUT_OK,
		    (uint32_t)(i + 1) * 100000);
		push(&f, 2, base + (uint64_t)i * S, VIGIL_OUT_TIMEOUT, 500000);
	}
	agg_tick(&a, base + 10 * S, wall + 10 * S);

	T_CHECK(vigil_snapshot(&f.cl, 0, &p) == VIGIL_OK);
	T_CHECK(strcmp(p.info.name, "alpha") == 0);
	T_CHECK(p.stats.samples_total == 10);
	T_CHECK(p.stats.checks_total[VIGIL_OUT_OK] == 10);
	T_CHECK(p.stats.status == VIGIL_ST_HEALTHY);
	T_CHECK(p.stats.circuit == VIGIL_CB_CLOSED);
	T_CHECK(p.stats.win[VIGIL_WIN_1M].samples == 10);
	T_CHECK(fabs(p.stats.win[VIGIL_WIN_1M].p50_ms - 500.0) <= 5.0);
	T_CHECK(fabs(p.stats.win[VIGIL_WIN_1M].p95_ms - 1000.0) <= 10.0);
	T_CHECK(p.stats.win[VIGIL_WIN_1M].max_ms == 1000.0);
	T_CHECK(fabs(p.stats.win[VIGIL_WIN_1M].mean_ms - 550.0) < 1e-6);
	T_CHECK(p.stats.uptime_total == 1.0);
	T_CHECK(fabs(p.stats.lat_sum_s - 5.5) < 1e-9);
	T_CHECK(p.stats.lat_bucket[2] == 1);	/* 0.05 < x <= 0.1 s */
	T_CHECK(p.stats.lat_bucket[3] == 1);	/* 0.1 < x <= 0.25 s */
	T_CHECK(p.stats.lat_bucket[4] == 3);
	T_CHECK(p.stats.lat_bucket[5] == 5);
	T_CHECK(p.stats.route_rank == 0);
	T_CHECK(p.stats.last.latency_us == 1000000);

	T_CHECK(vigil_snapshot(&f.cl, 2, &p) == VIGIL_OK);
	T_CHECK(p.stats.samples_total == 10);
	T_CHECK(p.stats.status == VIGIL_ST_UNHEALTHY);
	T_CHECK(p.stats.circuit == VIGIL_CB_OPEN);
	T_CHECK(p.stats.consecutive_failures == 10);
	T_CHECK(p.stats.win[VIGIL_WIN_1M].error_rate == 1.0);
	T_CHECK(strcmp(p.stats.last_error, "curl:28") == 0);
	T_CHECK(p.stats.route_rank == UINT32_MAX);
	T_CHECK(vigil_route_order(&f.cl, route, 4, &n) == VIGIL_OK);
	T_CHECK(n == 1 && route[0] == 0);

	nal = all_alerts(&f, al, 64);
	T_CHECK(has_alert(al, nal, "beta", VIGIL_AK_DOWN, VIGIL_AL_CRITICAL));
	T_CHECK(has_alert(al, nal, "beta", VIGIL_AK_CIRCUIT_OPEN,
	    VIGIL_AL_CRITICAL));
	T_CHECK(has_alert(al, nal, "beta", VIGIL_AK_ERROR_RATE,
	    VIGIL_AL_CRITICAL));
	for (i = 0; i < (int)nal; i++) {
		T_CHECK(strcmp(al[i].provider, "alpha") != 0);
		T_CHECK(al[i].id == (uint64_t)i + 1);
	}
	T_CHECK(count_history(&f, 0, &h) == 10);
	T_CHECK(h.latency_us == 1000000 && h.status == VIGIL_ST_HEALTHY);
	T_CHECK(atomic_load(&f.seg.hdr->aggregator_beat_ns) == base + 10 * S);

	/* SIGKILL and restart: no snapshot, the segment is all there is. */
	agg_free(&a);
	T_CHECK(agg_init(&a, &f.seg, &c, NULL, err, sizeof(err)) == 0);
	agg_tick(&a, base + 11 * S, wall + 11 * S);
	T_CHECK(vigil_snapshot(&f.cl, 0, &p) == VIGIL_OK);
	T_CHECK(p.stats.samples_total == 10);
	T_CHECK(p.stats.win[VIGIL_WIN_1M].samples == 10);
	T_CHECK(count_history(&f, 0, NULL) == 10);
	T_CHECK(all_alerts(&f, al, 64) == nal);	/* nothing raised again */
	T_CHECK(vigil_snapshot(&f.cl, 2, &p) == VIGIL_OK);
	T_CHECK(p.stats.circuit == VIGIL_CB_OPEN);
	push(&f, 0, base + 11 * S, VIGIL_OUT_OK, 100000);
	agg_tick(&a, base + 12 * S, wall + 12 * S);
	T_CHECK(vigil_snapshot(&f.cl, 0, &p) == VIGIL_OK);
	T_CHECK(p.stats.samples_total == 11);
	T_CHECK(p.stats.win[VIGIL_WIN_1M].samples == 11);
	T_CHECK(count_history(&f, 0, NULL) == 11);

	/* Snapshot, then a fresh segment (vigild restarted). */
	snprintf(dir, sizeof(dir), "/tmp/vigil-test-engine-XXXXXX");
	T_CHECK(mkdtemp(dir) != NULL);
	T_CHECK(agg_snapshot(&a, &snap) == 0);
	T_CHECK(persist_save(dir, &snap, err, sizeof(err)) == 0);
	persist_free(&snap);
	agg_free(&a);
	rs = calloc(1, sizeof(*rs));
	T_CHECK(persist_load(dir, rs, err, sizeof(err)) == 0);
	fix_open(&g, 1);
	segfix_add_slot(&g.seg, 1, "alpha", 0);		/* another slot this time */
	T_CHECK(agg_init(&a, &g.seg, &c, rs, err, sizeof(err)) == 0);
	agg_tick(&a, base + 13 * S, wall + 13 * S);
	T_CHECK(vigil_snapshot(&g.cl, 1, &p) == VIGIL_OK);
	T_CHECK(p.stats.samples_total == 11);
	T_CHECK(p.stats.checks_total[VIGIL_OUT_OK] == 11);
	T_CHECK(count_history(&g, 1, &h) == 11);
	T_CHECK(h.latency_us == 100000);
	T_CHECK(all_alerts(&g, al, 64) == nal);
	/* beta is not configured now, but is kept for the next snapshot. */
	T_CHECK(agg_snapshot(&a, &snap) == 0);
	T_CHECK(persist_find(&snap, "beta") != NULL);
	T_CHECK(persist_find(&snap, "beta")->c.samples_total == 10);
	persist_free(&snap);
	agg_free(&a);
	fix_close(&g);
	fix_close(&f);
	snprintf(err, sizeof(err), "rm -rf '%s'", dir);
	T_CHECK(system(err) == 0);
}

/* Does sample i fail at rate r?  Failures spread evenly (Bresenham). */
static int
fails(uint64_t i, double r)
{
	return (uint64_t)((i + 1) * r + 1e-9) > (uint64_t)(i * r + 1e-9);
}

/*
 * The acceptance ramp: 0% -> 30% -> 60% -> 100% errors, one sample a
 * second, then recovery.  Expected order: degrading, error-rate warning,
 * then error-rate critical and an open circuit; on recovery half_open,
 * closed, and resolved alerts.
 */
static void
test_ramp(void)
{
	static const struct { double r; uint64_t secs; } ph[] = {
		{ 0.0, 900 }, { 0.3, 120 }, { 0.6, 120 }, { 1.0, 60 },
		{ 0.0, 300 }
	};
	struct fix f;
	struct agg a;
	struct conf c;
	struct vigil_provider p;
	struct vigil_alert al[256];
	uint64_t base = now_mono_ns(), t = 0, i = 0, start[5];
	uint64_t t_degr = 0, t_warn = 0, t_crit = 0, t_open = 0, t_half = 0,
	    t_closed = 0, t_res_er = 0, t_res_cb = 0, t_res_down = 0;
	size_t k, nal, contra = 0;
	int ph_i;
	char err[256];

	fix_open(&f, 2);
	segfix_add_slot(&f.seg, 0, "ramp", 0);
	settings_defaults(&c);
	T_CHECK(agg_init(&a, &f.seg, &c, NULL, err, sizeof(err)) == 0);
	for (ph_i = 0; ph_i < 5; ph_i++) {
		uint64_t s;

		start[ph_i] = t;
		for (s = 0; s < ph[ph_i].secs; s++, t++, i++) {
			push(&f, 0, base + t * S, fails(i, ph[ph_i].r) ?
			    VIGIL_OUT_HTTP_5XX : VIGIL_OUT_OK, 200000);
			agg_tick(&a, base + t * S + S / 2, t * S);
			T_CHECK(vigil_snapshot(&f.cl, 0, &p) == VIGIL_OK);
			/* Status never contradicts the circuit. */
			if (p.stats.circuit != VIGIL_CB_CLOSED &&
			    p.stats.status == VIGIL_ST_HEALTHY)
				contra++;
			if (p.stats.circuit == VIGIL_CB_OPEN && !t_open)
				t_open = t;
			if (t_open && p.stats.circuit == VIGIL_CB_HALF_OPEN &&
			    !t_closed && (t_half == 0 || t > t_half + 1))
				t_half = t;	/* the last entry to half_open */
			if (t_half && p.stats.circuit == VIGIL_CB_CLOSED &&
			    !t_closed)
				t_closed = t;
		}
	}
	nal = all_alerts(&f, al, 256);
	for (k = 0; k < nal; k++) {
		uint64_t at = (al[k].mono_ns - base) / S;

		if (al[k].kind == VIGIL_AK_DEGRADING &&
		    al[k].level == VIGIL_AL_WARNING && !t_degr)
			t_degr = at;
		if (al[k].kind == VIGIL_AK_ERROR_RATE &&
		    al[k].level == VIGIL_AL_WARNING && !t_warn)
			t_warn = at;
		if (al[k].kind == VIGIL_AK_ERROR_RATE &&
		    al[k].level == VIGIL_AL_CRITICAL && !t_crit)
			t_crit = at;
		if (al[k].level == VIGIL_AL_RESOLVED && at >= start[4]) {
			if (al[k].kind == VIGIL_AK_ERROR_RATE)
				t_res_er = at;
			if (al[k].kind == VIGIL_AK_CIRCUIT_OPEN)
				t_res_cb = at;
			if (al[k].kind == VIGIL_AK_DOWN)
				t_res_down = at;
		}
	}
	fprintf(stderr, "  ramp: 30%%@%llu 60%%@%llu 100%%@%llu ok@%llu: "
	    "degrading %llu warning %llu critical %llu open %llu half %llu "
	    "closed %llu resolved er %llu cb %llu down %llu\n",
	    (unsigned long long)start[1], (unsigned long long)start[2],
	    (unsigned long long)start[3], (unsigned long long)start[4],
	    (unsigned long long)t_degr, (unsigned long long)t_warn,
	    (unsigned long long)t_crit, (unsigned long long)t_open,
	    (unsigned long long)t_half, (unsigned long long)t_closed,
	    (unsigned long long)t_res_er, (unsigned long long)t_res_cb,
	    (unsigned long long)t_res_down);
	T_CHECKF(contra == 0, "%zu ticks healthy with the circuit not "
	    "closed", contra);
	/* degrading during 30%, before any threshold is crossed */
	T_CHECK(t_degr >= start[1] && t_degr < start[2]);
	/* warning during 60%, after degrading */
	T_CHECK(t_warn >= start[2] && t_warn < start[3] && t_warn > t_degr);
	/* critical and open only once hard down, within 5 failures */
	T_CHECK(t_crit > t_warn && t_open > t_warn);
	T_CHECK(t_open >= start[3] && t_open < start[3] + 5 +
	    c.circuit_failures);
	T_CHECK(t_crit >= start[3] && t_crit < start[3] + 60);
	/* recovery: half_open after the cool-down, closed after M oks */
	T_CHECK(t_half > t_open && t_closed > t_half &&
	    t_closed <= t_half + c.circuit_successes);
	T_CHECK(t_closed >= start[4]);
	T_CHECK(t_res_down >= start[4] && t_res_down <= start[4] + 1);
	T_CHECK(t_res_cb == t_closed);
	T_CHECK(t_res_er >= start[4] && t_res_er < start[4] + 60);
	T_CHECK(vigil_snapshot(&f.cl, 0, &p) == VIGIL_OK);
	T_CHECK(p.stats.status == VIGIL_ST_HEALTHY);
	T_CHECK(p.stats.circuit == VIGIL_CB_CLOSED);
	T_CHECK(p.stats.circuit_opens >= 1 && p.stats.circuit_opens <= 3);
	agg_free(&a);
	fix_close(&f);
}

/* A provider retired and another added in its slot starts fresh. */
static void
test_retire(void)
{
	struct fix f;
	struct agg a;
	struct conf c;
	struct vigil_provider p;
	struct vigil_provider_info pi;
	uint64_t base = now_mono_ns();
	char err[256];

	fix_open(&f, 3);
	segfix_add_slot(&f.seg, 0, "old", 0);
	settings_defaults(&c);
	T_CHECK(agg_init(&a, &f.seg, &c, NULL, err, sizeof(err)) == 0);
	push(&f, 0, base, VIGIL_OUT_OK, 1000);
	agg_tick(&a, base + S, 1);
	T_CHECK(agg_find(&a, "old") != NULL);
	memset(&pi, 0, sizeof(pi));
	seqlock_write(seg_dir_slot(&f.seg, 0), &pi,
	    VIGIL_WORDS(struct vigil_provider_info));
	atomic_fetch_add(&f.seg.hdr->dir_gen, 1);
	agg_tick(&a, base + 2 * S, 2);
	T_CHECK(agg_find(&a, "old") == NULL);
	segfix_add_slot(&f.seg, 0, "new", 0);
	agg_tick(&a, base + 3 * S, 3);
	T_CHECK(agg_find(&a, "new") != NULL);
	T_CHECK(vigil_snapshot(&f.cl, 0, &p) == VIGIL_OK);
	T_CHECK(strcmp(p.info.name, "new") == 0);
	agg_free(&a);
	fix_close(&f);
}

/*
 * A confirmation: one failed check, then four requests at once, three of
 * them flagged VIGIL_SF_CONFIRM.  All count (samples, failures in a row:
 * unhealthy, circuit open, history) but the flagged ones stay out of the
 * windows and the latency histogram.
 */
static void
test_confirm(void)
{
	struct fix f;
	struct agg a;
	struct conf c;
	struct vigil_provider p;
	uint64_t base = now_mono_ns(), t, hist = 0;
	char err[256];
	int i;

	fix_open(&f, 4);
	segfix_add_slot(&f.seg, 0, "c", 0);
	settings_defaults(&c);
	T_CHECK(agg_init(&a, &f.seg, &c, NULL, err, sizeof(err)) == 0);
	for (i = 0; i < 10; i++)
		push(&f, 0, base + (uint64_t)i * S, VIGIL_OUT_OK, 1000);
	/* An ok extra request, slow (a new connection): not in p95. */
	push_flags(&f, 0, base + 10 * S, VIGIL_OUT_OK, 900000,
	    VIGIL_SF_CONFIRM);
	t = base + 11 * S;
	push(&f, 0, t, VIGIL_OUT_CONNECT, 100);
	push(&f, 0, t + S / 8, VIGIL_OUT_CONNECT, 100);
	for (i = 1; i <= 3; i++)
		push_flags(&f, 0, t + S / 8 + (uint64_t)i * 1000,
		    VIGIL_OUT_CONNECT, 100, VIGIL_SF_CONFIRM);
	agg_tick(&a, t + S / 4, 1);
	T_CHECK(vigil_snapshot(&f.cl, 0, &p) == VIGIL_OK);
	T_CHECKF(p.stats.samples_total == 16, "%llu",
	    (unsigned long long)p.stats.samples_total);
	T_CHECK(p.stats.consecutive_failures == 5);
	T_CHECK(p.stats.status == VIGIL_ST_UNHEALTHY);
	T_CHECK(p.stats.circuit == VIGIL_CB_OPEN);
	/* The 1m window: 10 ok and the 2 unflagged failures. */
	T_CHECKF(p.stats.win[VIGIL_WIN_1M].samples == 12, "%u",
	    p.stats.win[VIGIL_WIN_1M].samples);
	T_CHECK(p.stats.win[VIGIL_WIN_1M].ok == 10);
	T_CHECK(fabs(p.stats.win[VIGIL_WIN_1M].error_rate - 2.0 / 12) < 1e-9);
	T_CHECKF(p.stats.win[VIGIL_WIN_1M].p95_ms < 10.0, "%f",
	    p.stats.win[VIGIL_WIN_1M].p95_ms);
	for (i = 0; i < VIGIL_PROM_BUCKETS; i++)
		hist += p.stats.lat_bucket[i];
	T_CHECKF(hist == 10, "%llu", (unsigned long long)hist);
	hist = count_history(&f, 0, NULL);
	T_CHECKF(hist == 16, "%llu", (unsigned long long)hist);
	agg_free(&a);
	fix_close(&f);
}

/* A small deterministic generator: the timelines are the same each run. */
static uint32_t
lcg(uint32_t *x)
{
	*x = *x * 1664525u + 1013904223u;
	return *x >> 8;
}

/* Uniform in [lo, hi] microseconds. */
static uint32_t
jitter_us(uint32_t *x, double lo_ms, double hi_ms)
{
	double u = (double)(lcg(x) & 0xffffff) / (double)0xffffff;

	return (uint32_t)((lo_ms + u * (hi_ms - lo_ms)) * 1000.0 + 0.5);
}

struct jit {
	double lo, hi;		/* most samples, uniform, ms */
	double tail;		/* this fraction instead uniform in ... */
	double tlo, thi;	/* ... [tlo, thi] ms */
};

/*
 * A healthy provider for 30 minutes, one sample every iv seconds with
 * latencies drawn from j: no degrading trend on any tick, no degrading
 * alert (issue 15: four in six minutes from sub-millisecond jitter, each
 * "value 0, threshold 0").  A tail of a few percent is what real jitter
 * looks like, and what trips a bare ratio: a minute that happens to
 * hold four of the slower answers has a p95 at the tail, while fifteen
 * minutes hold too few of them (under 5%) to move theirs.
 */
static void
jitter_run(int n, uint64_t iv, const struct jit *j)
{
	struct fix f;
	struct agg a;
	struct conf c;
	struct vigil_provider p;
	struct vigil_alert al[64];
	uint64_t base = now_mono_ns(), t;
	uint32_t x = 12345u + (uint32_t)n;
	size_t k, nal, degr_ticks = 0, degr_alerts = 0;
	char err[256];

	fix_open(&f, n);
	segfix_add_slot(&f.seg, 0, "calm", 0);
	settings_defaults(&c);
	T_CHECK(agg_init(&a, &f.seg, &c, NULL, err, sizeof(err)) == 0);
	for (t = 0; t < 1800; t++) {
		if (t % iv == 0)
			push(&f, 0, base + t * S, VIGIL_OUT_OK,
			    (double)(lcg(&x) % 10000) < j->tail * 10000 ?
			    jitter_us(&x, j->tlo, j->thi) :
			    jitter_us(&x, j->lo, j->hi));
		agg_tick(&a, base + t * S + S / 2, t * S);
		T_CHECK(vigil_snapshot(&f.cl, 0, &p) == VIGIL_OK);
		if (p.stats.trend == VIGIL_TR_DEGRADING)
			degr_ticks++;
	}
	nal = all_alerts(&f, al, 64);
	for (k = 0; k < nal; k++)
		if (al[k].kind == VIGIL_AK_DEGRADING)
			degr_alerts++;
	T_CHECKF(degr_ticks == 0 && degr_alerts == 0, "%.1f..%.1f ms (%.0f%% "
	    "%.1f..%.1f) every %llu s: %zu ticks degrading, %zu degrading "
	    "alerts", j->lo, j->hi, j->tail * 100, j->tlo, j->thi,
	    (unsigned long long)iv, degr_ticks, degr_alerts);
	T_CHECK(p.stats.status == VIGIL_ST_HEALTHY);
	agg_free(&a);
	fix_close(&f);
}

static void
test_jitter(void)
{
	static const struct jit sub = { 0.3, 0.5, 0.04, 0.6, 0.9 };
	static const struct jit flat = { 0.3, 0.9, 0, 0, 0 };
	static const struct jit fine = { 179.5, 180.0, 0.04, 180.0, 180.5 };
	static const struct jit real = { 144.0, 200.0, 0.04, 200.0, 216.0 };

	jitter_run(5, 1, &sub);		/* sub-ms, a local provider */
	jitter_run(6, 1, &flat);
	jitter_run(7, 1, &fine);	/* 180 ms +- 0.5 ms */
	jitter_run(8, 1, &real);	/* 180 ms +- 20% */
	jitter_run(9, 10, &sub);
	jitter_run(12, 30, &real);	/* the default interval */
}

/*
 * A real degradation still raises it: p95 200 ms -> 1500 ms (one answer
 * in ten slow), or the error rate 0 -> 30%.  The alert carries the
 * figure it names: short p95 in ms against the threshold in ms it
 * crossed, or the short error rate (a fraction, as in the JSON) against
 * the long one plus the margin.
 */
static void
degrade_run(int n, int by_rate, struct vigil_alert *out)
{
	struct fix f;
	struct agg a;
	struct conf c;
	struct vigil_alert al[64];
	uint64_t base = now_mono_ns(), t;
	uint32_t x = 777u, us;
	size_t k, nal;
	int found = 0, bad;
	char err[256];

	fix_open(&f, n);
	segfix_add_slot(&f.seg, 0, "worse", 0);
	settings_defaults(&c);
	T_CHECK(agg_init(&a, &f.seg, &c, NULL, err, sizeof(err)) == 0);
	for (t = 0; t < 1200; t++) {
		us = jitter_us(&x, 150.0, 200.0);
		bad = 0;
		if (t >= 900 && by_rate)
			bad = fails(t, 0.3);
		else if (t >= 900 && t % 10 == 0)
			us = jitter_us(&x, 1400.0, 1600.0);
		else if (t >= 900 && t % 10 == 5)
			us = jitter_us(&x, 1400.0, 1600.0);
		push(&f, 0, base + t * S, bad ? VIGIL_OUT_HTTP_5XX :
		    VIGIL_OUT_OK, us);
		agg_tick(&a, base + t * S + S / 2, t * S);
	}
	nal = all_alerts(&f, al, 64);
	for (k = 0; k < nal && !found; k++)
		if (al[k].kind == VIGIL_AK_DEGRADING &&
		    al[k].level == VIGIL_AL_WARNING) {
			*out = al[k];
			found = 1;
		}
	T_CHECKF(found, "no degrading alert (%s)", by_rate ? "rate" : "p95");
	if (found)
		T_CHECKF((al[k - 1].mono_ns - base) / S >= 900,
		    "degrading before the change");
	agg_free(&a);
	fix_close(&f);
}

static void
test_degrading(void)
{
	struct vigil_alert al;

	memset(&al, 0, sizeof(al));
	degrade_run(10, 0, &al);
	fprintf(stderr, "  p95: value %g threshold %g\n", al.value,
	    al.threshold);
	/* Short p95 well above 200 ms; the threshold in ms it crossed. */
	T_CHECKF(al.value >= 1000.0 && al.threshold >= 250.0 &&
	    al.threshold <= al.value, "value %g threshold %g", al.value,
	    al.threshold);
	memset(&al, 0, sizeof(al));
	degrade_run(11, 1, &al);
	fprintf(stderr, "  rate: value %g threshold %g\n", al.value,
	    al.threshold);
	/* A fraction 0..1, the long window's rate plus 0.10. */
	T_CHECKF(al.value >= 0.1 && al.value <= 0.5 &&
	    al.threshold >= 0.1 && al.threshold <= al.value,
	    "value %g threshold %g", al.value, al.threshold);
}

/* The first alert of (kind, level) for prov, or NULL. */
static const struct vigil_alert *
find_alert(const struct vigil_alert *a, size_t n, const char *prov,
    int kind, int level)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(a[i].provider, prov) == 0 && a[i].kind == kind &&
		    a[i].level == level)
			return &a[i];
	return NULL;
}

/* value and threshold of that alert are (v, t), within 1e-6. */
static int
fig_is(const struct vigil_alert *a, double v, double t)
{
	return a != NULL && fabs(a->value - v) < 1e-6 &&
	    fabs(a->threshold - t) < 1e-6;
}

#define T_FIG(a, n, prov, kind, level, v, t) do {			\
	const struct vigil_alert *x_ = find_alert(a, n, prov, kind, level); \
	T_CHECKF(fig_is(x_, v, t), "%s %s %s: value %g threshold %g, want " \
	    "%g, %g", prov, vigil_alert_kind_name(kind),		\
	    vigil_alert_level_name(level), x_ ? x_->value : -1.0,	\
	    x_ ? x_->threshold : -1.0, (double)(v), (double)(t));	\
} while (0)

/*
 * Every alert's value and threshold are in the units of the figure they
 * name (issue 15: circuit_open after 5 failures in a row said "value
 * 10.5, threshold 80"): error rates as fractions 0..1 like the JSON and
 * /metrics, latency ms against ms, down and circuit_open by failures in
 * a row against down_after and circuit_failures, circuit_open by error
 * rate against critical_error_rate as a fraction.
 */
static void
test_alert_units(void)
{
	struct fix f;
	struct agg a;
	struct conf c;
	struct vigil_alert al[128];
	uint64_t base = now_mono_ns(), t = 0;
	size_t nal;
	char err[256];
	int i;

	fix_open(&f, 13);
	segfix_add_slot(&f.seg, 0, "hard", 0);	/* goes hard down */
	segfix_add_slot(&f.seg, 1, "flaky", 0);	/* 4 of 5 fail: opened by the rate */
	segfix_add_slot(&f.seg, 2, "slow", 0);
	segfix_add_slot(&f.seg, 3, "key", 0);
	settings_defaults(&c);
	T_CHECK(agg_init(&a, &f.seg, &c, NULL, err, sizeof(err)) == 0);
	for (i = 0; i < 20; i++, t++) {
		push(&f, 0, base + t * S, VIGIL_OUT_OK, 100000);
		push(&f, 1, base + t * S, VIGIL_OUT_OK, 100000);
		push(&f, 2, base + t * S, VIGIL_OUT_OK, 100000);
		push(&f, 3, base + t * S, VIGIL_OUT_OK, 100000);
		agg_tick(&a, base + t * S + S / 2, t * S);
	}
	for (i = 0; i < 60; i++, t++) {
		push(&f, 0, base + t * S, VIGIL_OUT_TIMEOUT, 500000);
		push(&f, 1, base + t * S, i % 5 == 4 ? VIGIL_OUT_OK :
		    VIGIL_OUT_HTTP_5XX, 100000);
		push(&f, 2, base + t * S, VIGIL_OUT_OK, i < 30 ? 2500000 :
		    4500000);
		push(&f, 3, base + t * S, VIGIL_OUT_AUTH, 100000);
		agg_tick(&a, base + t * S + S / 2, t * S);
	}
	nal = all_alerts(&f, al, 128);
	/* down: failures in a row against down_after, both levels */
	T_FIG(al, nal, "hard", VIGIL_AK_DOWN, VIGIL_AL_WARNING, 3, 4);
	T_FIG(al, nal, "hard", VIGIL_AK_DOWN, VIGIL_AL_CRITICAL, 4, 4);
	/* circuit_open by failures in a row: 5 against circuit_failures */
	T_FIG(al, nal, "hard", VIGIL_AK_CIRCUIT_OPEN, VIGIL_AL_CRITICAL, 5, 5);
	/* error rate: fractions; 10 of 20 is the warning's 0.5 */
	T_FIG(al, nal, "hard", VIGIL_AK_ERROR_RATE, VIGIL_AL_WARNING, 0.5,
	    0.5);
	/* flaky: the circuit opens on 80% over the samples since it
	 * closed; never 5 failures in a row */
	{
		const struct vigil_alert *x = find_alert(al, nal, "flaky",
		    VIGIL_AK_CIRCUIT_OPEN, VIGIL_AL_CRITICAL);

		T_CHECKF(x != NULL && x->value >= 0.8 - 1e-9 &&
		    x->value <= 0.85 && x->threshold == 0.8,
		    "flaky circuit_open %g %g", x ? x->value : -1,
		    x ? x->threshold : -1);
	}
	/* latency: p95 ms against the warning ms and twice it */
	{
		const struct vigil_alert *x = find_alert(al, nal, "slow",
		    VIGIL_AK_LATENCY, VIGIL_AL_WARNING);

		T_CHECKF(x != NULL && fabs(x->value - 2500) < 25 &&
		    x->threshold == 2000, "latency warning %g %g",
		    x ? x->value : -1, x ? x->threshold : -1);
		x = find_alert(al, nal, "slow", VIGIL_AK_LATENCY,
		    VIGIL_AL_CRITICAL);
		T_CHECKF(x != NULL && fabs(x->value - 4500) < 45 &&
		    x->threshold == 4000, "latency critical %g %g",
		    x ? x->value : -1, x ? x->threshold : -1);
	}
	/* auth: auth answers in a row against 1, and no misconfigured */
	T_FIG(al, nal, "key", VIGIL_AK_AUTH, VIGIL_AL_CRITICAL, 1, 1);
	T_CHECK(find_alert(al, nal, "key", VIGIL_AK_MISCONFIGURED,
	    VIGIL_AL_CRITICAL) == NULL);
	/* hard recovers: down resolved at 0 failures in a row */
	for (i = 0; i < 120; i++, t++) {
		push(&f, 0, base + t * S, VIGIL_OUT_OK, 100000);
		agg_tick(&a, base + t * S + S / 2, t * S);
	}
	nal = all_alerts(&f, al, 128);
	T_FIG(al, nal, "hard", VIGIL_AK_DOWN, VIGIL_AL_RESOLVED, 0, 4);
	T_FIG(al, nal, "hard", VIGIL_AK_CIRCUIT_OPEN, VIGIL_AL_RESOLVED, 0,
	    5);
	agg_free(&a);
	fix_close(&f);
}

/* A prober's sample at second t of a run: both clocks from t. */
static void
push_at(struct fix *f, uint32_t idx, uint64_t mono0, uint64_t wall0,
    uint64_t t_ms, int outcome, uint16_t status, uint32_t retry_ms,
    const struct vigil_rl_sample *rl)
{
	struct vigil_sample s;

	memset(&s, 0, sizeof(s));
	s.mono_ns = mono0 + t_ms * 1000000u;
	s.wall_ns = wall0 + t_ms * 1000000u;
	s.latency_us = 100000;
	s.outcome = (uint8_t)outcome;
	s.http_status = status;
	s.retry_after_ms = retry_ms;
	if (rl != NULL)
		s.rl[VIGIL_RL_REQUESTS] = *rl;
	if (outcome != VIGIL_OUT_OK)
		snprintf(s.error, sizeof(s.error), "http:%u", status);
	ring_push(&f->rw[idx], &s, VIGIL_WORDS(struct vigil_sample));
}

static int
count_kind(const struct vigil_alert *a, size_t n, const char *prov,
    int kind, int level)
{
	size_t i;
	int k = 0;

	for (i = 0; i < n; i++)
		if (strcmp(a[i].provider, prov) == 0 && a[i].kind == kind &&
		    (level < 0 || a[i].level == level))
			k++;
	return k;
}

/*
 * Issue 16 end to end through the engine: an out-of-credit provider is
 * exhausted (not usable, needs a human, circuit closed, error rate 0, one
 * quota alert and no outage alert); a 429 with a retry wait is throttled
 * and usable again at usable_at; rate-limit headroom under the warning
 * raises ratelimit_low until the reset; overloaded counts as a failure.
 */
static void
test_llm_states(void)
{
	struct fix f;
	struct agg a;
	struct conf c;
	struct vigil_alert al[256];
	struct vigil_provider p;
	struct vigil_rl_sample low = { 100, 5, 10000 };
	uint64_t m0 = now_mono_ns(), w0 = UINT64_C(1764000000) * S, t;
	size_t nal;
	char err[256];
	int i;

	fix_open(&f, 14);
	segfix_add_slot(&f.seg, 0, "broke", 0);
	segfix_add_slot(&f.seg, 1, "busy", 0);
	segfix_add_slot(&f.seg, 2, "tight", 0);
	segfix_add_slot(&f.seg, 3, "over", 0);
	settings_defaults(&c);
	c.throttled_warning_ms = 10000;
	T_CHECK(agg_init(&a, &f.seg, &c, NULL, err, sizeof(err)) == 0);
	for (t = 0; t < 20000; t += 1000) {
		for (i = 0; i < 4; i++)
			push_at(&f, (uint32_t)i, m0, w0, t, VIGIL_OUT_OK, 200,
			    0, NULL);
		agg_tick(&a, m0 + (t + 500) * 1000000u, w0 + (t + 500) *
		    1000000u);
	}
	/* 30 s: broke out of credit, busy 429 every 5 s (retry 5 s),
	 * tight short of requests, over overloaded. */
	for (; t < 50000; t += 1000) {
		push_at(&f, 0, m0, w0, t, VIGIL_OUT_QUOTA, 429, 0, NULL);
		if (t % 5000 == 0)
			push_at(&f, 1, m0, w0, t, VIGIL_OUT_RATE_LIMITED, 429,
			    5000, NULL);
		if (t == 20000)
			push_at(&f, 2, m0, w0, t, VIGIL_OUT_OK, 200, 0, &low);
		push_at(&f, 3, m0, w0, t, VIGIL_OUT_OVERLOADED, 529, 0,
		    NULL);
		agg_tick(&a, m0 + (t + 500) * 1000000u, w0 + (t + 500) *
		    1000000u);
		if (t == 20000) {
			T_CHECK(vigil_snapshot(&f.cl, 1, &p) == VIGIL_OK);
			T_CHECK(p.stats.status == VIGIL_ST_THROTTLED);
			T_CHECK(p.stats.usable_at_wall_ns == w0 + 25000 *
			    UINT64_C(1000000));
			T_CHECK(!p.stats.usable && !vigil_provider_usable(&p,
			    w0 + 24999 * UINT64_C(1000000)));
			/* the reader's answer turns at usable_at itself */
			T_CHECK(vigil_provider_usable(&p, w0 + 25000 *
			    UINT64_C(1000000)));
			T_CHECK(vigil_snapshot(&f.cl, 2, &p) == VIGIL_OK);
			T_CHECK(p.stats.ratelimit[VIGIL_RL_REQUESTS].limit ==
			    100 && p.stats.ratelimit[VIGIL_RL_REQUESTS]
			    .remaining == 5 && p.stats.ratelimit[
			    VIGIL_RL_REQUESTS].reset_wall_ns == w0 + 30000 *
			    UINT64_C(1000000));
		}
		if (t == 24000) {
			/* a tick at usable_at, no new sample: usable */
			agg_tick(&a, m0 + 25000 * UINT64_C(1000000), w0 +
			    25000 * UINT64_C(1000000));
			T_CHECK(vigil_snapshot(&f.cl, 1, &p) == VIGIL_OK);
			T_CHECK(p.stats.status == VIGIL_ST_THROTTLED &&
			    p.stats.usable);
			T_CHECK(p.stats.route_rank != UINT32_MAX);
		}
	}
	T_CHECK(vigil_snapshot(&f.cl, 0, &p) == VIGIL_OK);
	T_CHECKF(p.stats.status == VIGIL_ST_EXHAUSTED, "%s",
	    vigil_status_name(p.stats.status));
	T_CHECK(p.stats.reason == VIGIL_RS_QUOTA && p.stats.needs_human);
	T_CHECK(!p.stats.usable && p.stats.usable_at_wall_ns == 0);
	T_CHECK(!vigil_provider_usable(&p, w0 + t * 1000000u));
	T_CHECK(p.stats.circuit == VIGIL_CB_CLOSED);
	T_CHECK(p.stats.win[VIGIL_WIN_1M].error_rate == 0.0);
	T_CHECK(p.stats.win[VIGIL_WIN_1M].by_outcome[VIGIL_OUT_QUOTA] >= 30);
	T_CHECK(p.stats.consecutive_failures == 0);
	T_CHECK(p.stats.route_rank == UINT32_MAX);
	T_CHECK(vigil_snapshot(&f.cl, 3, &p) == VIGIL_OK);
	T_CHECK(p.stats.status == VIGIL_ST_UNHEALTHY &&
	    p.stats.reason == VIGIL_RS_OVERLOADED);
	T_CHECK(p.stats.circuit == VIGIL_CB_OPEN && !p.stats.usable);
	T_CHECK(p.stats.usable_at_wall_ns > w0 + t * 1000000u);
	nal = all_alerts(&f, al, 256);
	T_CHECK(count_kind(al, nal, "broke", VIGIL_AK_QUOTA,
	    VIGIL_AL_CRITICAL) == 1);
	T_CHECK(count_kind(al, nal, "broke", VIGIL_AK_DOWN, -1) == 0);
	T_CHECK(count_kind(al, nal, "broke", VIGIL_AK_CIRCUIT_OPEN, -1) == 0);
	T_CHECK(count_kind(al, nal, "broke", VIGIL_AK_ERROR_RATE, -1) == 0);
	T_CHECK(count_kind(al, nal, "busy", VIGIL_AK_DOWN, -1) == 0);
	T_CHECK(count_kind(al, nal, "busy", VIGIL_AK_CIRCUIT_OPEN, -1) == 0);
	/* throttled since 20 s, the warning at 10 s of it */
	T_FIG(al, nal, "busy", VIGIL_AK_THROTTLED, VIGIL_AL_WARNING, 10, 10);
	T_FIG(al, nal, "tight", VIGIL_AK_RATELIMIT_LOW, VIGIL_AL_WARNING,
	    0.05, 0.10);
	/* reset at 30 s: the headroom warning resolved by a tick */
	T_CHECK(count_kind(al, nal, "tight", VIGIL_AK_RATELIMIT_LOW,
	    VIGIL_AL_RESOLVED) == 1);
	T_CHECK(count_kind(al, nal, "over", VIGIL_AK_DOWN,
	    VIGIL_AL_CRITICAL) == 1);
	/* credit back: healthy, quota resolved */
	for (i = 0; i < 3; i++, t += 1000) {
		push_at(&f, 0, m0, w0, t, VIGIL_OUT_OK, 200, 0, NULL);
		agg_tick(&a, m0 + (t + 500) * 1000000u, w0 + (t + 500) *
		    1000000u);
	}
	T_CHECK(vigil_snapshot(&f.cl, 0, &p) == VIGIL_OK);
	T_CHECK(p.stats.status == VIGIL_ST_HEALTHY && p.stats.usable &&
	    !p.stats.needs_human && p.stats.reason == VIGIL_RS_NONE);
	nal = all_alerts(&f, al, 256);
	T_CHECK(count_kind(al, nal, "broke", VIGIL_AK_QUOTA,
	    VIGIL_AL_RESOLVED) == 1);
	agg_free(&a);
	fix_close(&f);
}

/* vigild's part: provider idx's models block. */
static void
set_models(struct fix *f, uint32_t idx, const char *a, const char *b,
    uint64_t gen)
{
	uint64_t blk[128];
	struct vigil_models_head *h = (struct vigil_models_head *)(void *)blk;
	struct vigil_model_info *nm = (struct vigil_model_info *)(h + 1);

	memset(blk, 0, sizeof(blk));
	h->count = b != NULL ? 2 : 1;
	h->generation = gen;
	h->token_budget = 20000;
	snprintf(nm[0].name, VIGIL_MODEL_MAX, "%s", a);
	if (b != NULL)
		snprintf(nm[1].name, VIGIL_MODEL_MAX, "%s", b);
	T_CHECK(seg_models_words(&f->seg) <= 128);
	seqlock_write(seg_models(&f->seg, idx), blk, seg_models_words(&f->seg));
	atomic_fetch_add(&f->seg.hdr->dir_gen, 1);
}

static void
push_model(struct fix *f, uint32_t idx, uint64_t mono0, uint64_t wall0,
    uint64_t t_ms, uint16_t model, uint8_t flags, int outcome,
    uint32_t ttft_us, uint32_t lat_us, uint32_t tok_out)
{
	struct vigil_sample s;

	memset(&s, 0, sizeof(s));
	s.mono_ns = mono0 + t_ms * 1000000u;
	s.wall_ns = wall0 + t_ms * 1000000u;
	s.latency_us = lat_us;
	s.ttfb_us = ttft_us;
	s.outcome = (uint8_t)outcome;
	s.flags = flags;
	s.model = model;
	s.tokens_in = tok_out ? 10 : 0;
	s.tokens_out = tok_out;
	s.http_status = outcome == VIGIL_OUT_OK ? 200 : 404;
	ring_push(&f->rw[idx], &s, VIGIL_WORDS(struct vigil_sample));
}

/*
 * Issue 17: per-model windows (TTFT, tokens per second, error rate), a
 * model gone from the catalogue or answering model_not_found is
 * unhealthy/model_missing and makes its provider degraded (not down),
 * the other model healthy; model samples stay out of the provider's
 * windows; tokens of the day add up.
 */
static void
test_models(void)
{
	struct fix f;
	struct agg a;
	struct conf c;
	struct vigil_provider p;
	struct vigil_model_stats ms;
	struct vigil_alert al[64];
	uint64_t m0 = now_mono_ns(), w0 = UINT64_C(1764000000) * S, t;
	size_t nal;
	char err[256];

	fix_open(&f, 15);
	segfix_add_slot(&f.seg, 0, "multi", 0);
	set_models(&f, 0, "gpt-4o-mini", "o3-mini", 1);
	settings_defaults(&c);
	T_CHECK(agg_init(&a, &f.seg, &c, NULL, err, sizeof(err)) == 0);
	for (t = 0; t < 20000; t += 1000) {
		push_at(&f, 0, m0, w0, t, VIGIL_OUT_OK, 200, 0, NULL);
		/* model 1: TTFT 300 ms, 50 tokens in 0.5 s after it */
		if (t % 2000 == 0)
			push_model(&f, 0, m0, w0, t + 100, 1,
			    VIGIL_SF_GENERATION, VIGIL_OUT_OK, 300000, 800000,
			    50);
		agg_tick(&a, m0 + (t + 500) * 1000000u, w0 + (t + 500) *
		    1000000u);
	}
	T_CHECK(vigil_model_stats(&f.cl, 0, 0, &ms) == VIGIL_OK);
	T_CHECKF(ms.status == VIGIL_ST_HEALTHY && ms.usable &&
	    ms.checks_total == 10, "%s %u %llu", vigil_status_name(ms.status),
	    ms.usable, (unsigned long long)ms.checks_total);
	T_CHECKF(fabs(ms.win[VIGIL_WIN_1M].ttft_p95_ms - 300.0) <= 3.0,
	    "ttft p95 %g", ms.win[VIGIL_WIN_1M].ttft_p95_ms);
	T_CHECKF(fabs(ms.win[VIGIL_WIN_1M].tokens_per_s - 100.0) < 1e-6,
	    "tok/s %g", ms.win[VIGIL_WIN_1M].tokens_per_s);
	T_CHECK(ms.tokens_out_total == 500 && ms.tokens_in_total == 100);
	/* an ok answer with no content token: counted, no TTFT of 0 */
	push_model(&f, 0, m0, w0, t, 1, VIGIL_SF_GENERATION, VIGIL_OUT_OK, 0,
	    900000, 0);
	agg_tick(&a, m0 + (t + 300) * 1000000u, w0 + (t + 300) * 1000000u);
	T_CHECK(vigil_model_stats(&f.cl, 0, 0, &ms) == VIGIL_OK);
	T_CHECKF(ms.checks_total == 11 && ms.win[VIGIL_WIN_1M].ok == 11 &&
	    ms.win[VIGIL_WIN_1M].ttft_p50_ms >= 290.0, "%llu %u %g",
	    (unsigned long long)ms.checks_total, ms.win[VIGIL_WIN_1M].ok,
	    ms.win[VIGIL_WIN_1M].ttft_p50_ms);
	T_CHECK(vigil_model_stats(&f.cl, 0, 1, &ms) == VIGIL_OK);
	T_CHECK(ms.status == VIGIL_ST_UNKNOWN && ms.listed == 2);
	T_CHECK(vigil_snapshot(&f.cl, 0, &p) == VIGIL_OK);
	T_CHECK(p.stats.status == VIGIL_ST_HEALTHY);
	/* model samples stay out of the provider's windows */
	T_CHECK(p.stats.win[VIGIL_WIN_1M].samples == 20);
	T_CHECK(p.stats.probe_tokens_today == 600 &&
	    p.stats.probe_tokens_day == w0 / (UINT64_C(86400) * S));
	/* the catalogue lists model 1 only; model 2 answers 404 */
	push_model(&f, 0, m0, w0, t, 1, VIGIL_SF_CATALOGUE, VIGIL_OUT_OK, 0,
	    0, 0);
	push_model(&f, 0, m0, w0, t, 2, VIGIL_SF_CATALOGUE,
	    VIGIL_OUT_MODEL_MISSING, 0, 0, 0);
	push_at(&f, 0, m0, w0, t, VIGIL_OUT_OK, 200, 0, NULL);
	agg_tick(&a, m0 + (t + 500) * 1000000u, w0 + (t + 500) * 1000000u);
	T_CHECK(vigil_model_stats(&f.cl, 0, 1, &ms) == VIGIL_OK);
	T_CHECKF(ms.status == VIGIL_ST_UNHEALTHY && ms.reason ==
	    VIGIL_RS_MODEL_MISSING && !ms.usable && ms.listed == 0, "%s",
	    vigil_status_name(ms.status));
	T_CHECK(vigil_model_stats(&f.cl, 0, 0, &ms) == VIGIL_OK);
	T_CHECK(ms.status == VIGIL_ST_HEALTHY && ms.listed == 1);
	T_CHECK(vigil_snapshot(&f.cl, 0, &p) == VIGIL_OK);
	T_CHECKF(p.stats.status == VIGIL_ST_DEGRADED && p.stats.reason ==
	    VIGIL_RS_MODEL_MISSING && p.stats.needs_human && p.stats.usable,
	    "%s", vigil_status_name(p.stats.status));
	T_CHECK(p.stats.circuit == VIGIL_CB_CLOSED &&
	    p.stats.win[VIGIL_WIN_1M].error_rate == 0.0);
	nal = all_alerts(&f, al, 64);
	T_FIG(al, nal, "multi", VIGIL_AK_MODEL_MISSING, VIGIL_AL_CRITICAL, 1,
	    1);
	T_CHECK(count_kind(al, nal, "multi", VIGIL_AK_DOWN, -1) == 0 &&
	    count_kind(al, nal, "multi", VIGIL_AK_MISCONFIGURED, -1) == 0);
	/* listed again and answering: the provider is healthy again */
	t += 1000;
	push_model(&f, 0, m0, w0, t, 2, VIGIL_SF_CATALOGUE, VIGIL_OUT_OK, 0,
	    0, 0);
	push_model(&f, 0, m0, w0, t, 2, VIGIL_SF_GENERATION, VIGIL_OUT_OK,
	    200000, 400000, 0);
	agg_tick(&a, m0 + (t + 500) * 1000000u, w0 + (t + 500) * 1000000u);
	T_CHECK(vigil_snapshot(&f.cl, 0, &p) == VIGIL_OK);
	T_CHECK(p.stats.status == VIGIL_ST_HEALTHY && !p.stats.needs_human);
	nal = all_alerts(&f, al, 64);
	T_CHECK(count_kind(al, nal, "multi", VIGIL_AK_MODEL_MISSING,
	    VIGIL_AL_RESOLVED) == 1);
	/* a renamed model starts afresh */
	set_models(&f, 0, "gpt-4o-mini", "gpt-5-mini", 2);
	agg_tick(&a, m0 + (t + 1600) * 1000000u, w0 + (t + 1600) * 1000000u);
	T_CHECK(vigil_model_stats(&f.cl, 0, 1, &ms) == VIGIL_OK);
	T_CHECK(ms.status == VIGIL_ST_UNKNOWN && ms.checks_total == 0);
	T_CHECK(vigil_model_stats(&f.cl, 0, 0, &ms) == VIGIL_OK);
	T_CHECK(ms.checks_total == 11);
	agg_free(&a);
	fix_close(&f);
}

int
main(void)
{
	T_RUN(test_engine);
	T_RUN(test_ramp);
	T_RUN(test_retire);
	T_RUN(test_confirm);
	T_RUN(test_jitter);
	T_RUN(test_degrading);
	T_RUN(test_alert_units);
	T_RUN(test_llm_states);
	T_RUN(test_models);
	return t_done();
}
