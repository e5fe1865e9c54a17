/*
 * test_engine_traffic.c - the aggregator's traffic path (issue 18) at
 * engine level: a real segment as test_engine.c builds one, a reports
 * segment in private memory attached as the aggregator's, reporters
 * claiming slots as vigil_reporter_open() does, then agg_tick() and the
 * public reader.  Hand-made timelines, exact counts: valid reports
 * become samples of source traffic; every invalid field is counted and
 * dropped; a slot over report_rate_max is capped; a client's
 * client_error judges nothing; traffic_min_clients holds one client's
 * failures until a second client or a probe agrees.
 */
#include <sys/mman.h>

#include <stdlib.h>
#include <unistd.h>

#include "t.h"
#include "../../aggregator/engine.h"
#include "segfix.h"

#define S	UINT64_C(1000000000)

struct fix {
	char name[64];
	struct segment seg;
	struct ring_writer rw[4];
	struct vigil_client cl;
	struct agg a;
	void *rmap;			/* the reports segment */
	size_t rsize;
	struct vigil_reporter r[2];	/* two clients: slots 0 and 1 */
	uint64_t mono, wall;
};

/* vigild's part: provider idx's models block, two models. */
static void
set_models(struct fix *f, uint32_t idx, const char *m0, const char *m1)
{
	uint64_t blk[128];
	struct vigil_models_head *h = (struct vigil_models_head *)(void *)blk;
	struct vigil_model_info *nm = (struct vigil_model_info *)(h + 1);

	memset(blk, 0, sizeof(blk));
	h->count = 2;
	h->generation = 1;
	snprintf(nm[0].name, VIGIL_MODEL_MAX, "%s", m0);
	snprintf(nm[1].name, VIGIL_MODEL_MAX, "%s", m1);
	T_CHECK(seg_models_words(&f->seg) <= 128);
	seqlock_write(seg_models(&f->seg, idx), blk, seg_models_words(&f->seg));
	atomic_fetch_add(&f->seg.hdr->dir_gen, 1);
}

/*
 * Providers alpha (0, two models), beta (1), gamma (2); slot 3 unused.
 * The engine with conf c, its reports segment (4 slots of 64), two
 * reporters, one tick so that the directory is read.
 */
static void
fix_open(struct fix *f, int n, const struct conf *c)
{
	struct seg_caps caps = { 4, 64, 64, 64, 0 };
	struct vigil_reports_header h;
	char err[256];
	uint32_t i;

	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "/vigil-test-etraffic-%d-%d",
	    (int)getpid(), n);
	T_CHECKF(seg_create(&f->seg, f->name, &caps, 0600, err,
	    sizeof(err)) == 0, "%s", err);
	for (i = 0; i < 4; i++)
		ring_writer_init(&f->rw[i], seg_sample_ring(&f->seg, i),
		    f->seg.hdr->sample_cap, f->seg.hdr->sample_entry);
	T_CHECKF(vigil_open(&f->cl, f->name) == VIGIL_OK, "%s", f->cl.err);
	segfix_add_slot(&f->seg, 0, "alpha", 0);
	segfix_add_slot(&f->seg, 1, "beta", 0);
	segfix_add_slot(&f->seg, 2, "gamma", 0);
	set_models(f, 0, "m-small", "m-large");
	T_CHECKF(agg_init(&f->a, &f->seg, c, NULL, err, sizeof(err)) == 0,
	    "%s", err);

	T_CHECK(reports_layout(4, 64, &h, err, sizeof(err)) == 0);
	f->rmap = mmap(NULL, h.size, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0);
	T_CHECK(f->rmap != MAP_FAILED);
	f->rsize = h.size;
	h.magic = VIGIL_REPORTS_MAGIC;
	memcpy(f->rmap, &h, sizeof(h));
	T_CHECKF(reports_attach(&f->a.rep, f->rmap, h.size, err,
	    sizeof(err)) == 0, "%s", err);
	for (i = 0; i < 2; i++) {
		struct vigil_reporter *rp = &f->r[i];

		rp->base = f->a.rep.base;
		rp->size = f->a.rep.size;
		rp->lay = f->a.rep.lay;
		/* Live processes (start 0: pid alone), so reclaim keeps
		 * both slots. */
		rp->owner = i == 0 ? (uint64_t)getpid() : (uint64_t)getppid();
		T_CHECK(vigil__reporter_claim(rp) == 0);
		T_CHECK(rp->slot_idx == i);
	}
	f->mono = 1000 * S;
	f->wall = UINT64_C(1764000000) * S;
	agg_tick(&f->a, f->mono, f->wall);
}

static void
fix_close(struct fix *f)
{
	agg_free(&f->a);		/* the attached mapping is ours */
	munmap(f->rmap, f->rsize);
	vigil_close(&f->cl);
	seg_close(&f->seg);
	shm_unlink(f->name);
}

/* Move both clocks on by ms, and tick. */
static void
tick(struct fix *f, uint64_t ms)
{
	f->mono += ms * 1000000u;
	f->wall += ms * 1000000u;
	agg_tick(&f->a, f->mono, f->wall);
}

/* What a prober does: one check of provider idx at the current time. */
static void
probe(struct fix *f, uint32_t idx, int outcome)
{
	struct vigil_sample s;

	memset(&s, 0, sizeof(s));
	s.mono_ns = f->mono;
	s.wall_ns = f->wall;
	s.latency_us = 100000;
	s.outcome = (uint8_t)outcome;
	s.http_status = outcome == VIGIL_OUT_OK ? 200 : 0;
	ring_push(&f->rw[idx], &s, VIGIL_WORDS(struct vigil_sample));
}

static struct vigil_report_rec
rec(int provider, int model, int outcome)
{
	struct vigil_report_rec x;

	memset(&x, 0, sizeof(x));
	x.provider = provider;
	x.model = model;
	x.outcome = (uint8_t)outcome;
	x.http_status = outcome == VIGIL_OUT_OK ? 200 :
	    outcome == VIGIL_OUT_CLIENT_ERROR ? 400 :
	    outcome == VIGIL_OUT_HTTP_5XX ? 500 : 0;
	x.latency_us = 200000;
	return x;
}

/* Client k reports n copies of x; every one must be written. */
static void
report_n(struct fix *f, int k, struct vigil_report_rec x, int n)
{
	int i;

	for (i = 0; i < n; i++)
		T_CHECK(vigil_report(&f->r[k], &x) == 0);
}

static struct vigil_provider
snap(struct fix *f, uint32_t idx)
{
	struct vigil_provider p;

	T_CHECK(vigil_snapshot(&f->cl, idx, &p) == VIGIL_OK);
	return p;
}

static uint64_t
hdr(_Atomic uint64_t *w)
{
	return atomic_load(w);
}

/*
 * Valid reports, a model's and a provider's, become samples of source
 * traffic; each invalid field is counted once and changes nothing.
 */
static void
test_valid_invalid(void)
{
	struct fix f;
	struct conf c;
	struct vigil_provider p;
	struct vigil_model_stats ms;
	struct vigil_report_rec x;
	uint64_t nvalid = 0, ninvalid = 0;

	settings_defaults(&c);
	fix_open(&f, 0, &c);

	/* Valid: alpha with no model, alpha's model 1, beta at the
	 * edges of every range. */
	report_n(&f, 0, rec(0, -1, VIGIL_OUT_OK), 3);
	nvalid += 3;
	x = rec(0, 1, VIGIL_OUT_OK);
	x.ttft_us = 50000;
	x.tokens_in = 10;
	x.tokens_out = 20;
	report_n(&f, 0, x, 2);
	nvalid += 2;
	x = rec(1, -1, VIGIL_OUT_OK);
	x.http_status = 599;
	x.latency_us = UINT32_C(3600000000);
	x.ttft_us = UINT32_C(3600000000);
	x.tokens_in = x.tokens_out = UINT32_C(100000000);
	report_n(&f, 0, x, 1);
	x.http_status = 100;
	x.latency_us = 0;
	x.ttft_us = 7;			/* no latency: any TTFT */
	report_n(&f, 0, x, 1);
	nvalid += 2;

	/* Invalid, one field each, all about alpha or its slot. */
#define BAD(field, value) do {					\
		x = rec(0, -1, VIGIL_OUT_OK);				\
		x.field = value;					\
		report_n(&f, 1, x, 1);					\
		ninvalid++;						\
	} while (0)
	BAD(provider, 3);		/* a slot not in use */
	BAD(provider, 4);		/* past provider_cap */
	BAD(provider, -1);
	BAD(provider, INT32_MAX);
	BAD(model, 2);			/* alpha has two models */
	BAD(model, -2);
	BAD(outcome, VIGIL_OUT_COUNT);
	BAD(outcome, 255);
	BAD(http_status, 99);
	BAD(http_status, 600);
	BAD(latency_us, UINT32_C(3600000001));
	BAD(ttft_us, 200001);		/* after the whole request */
	BAD(tokens_in, UINT32_C(100000001));
	BAD(tokens_out, UINT32_C(100000001));
	BAD(flags, 1);
	BAD(reserved, 1);
#undef BAD
	x = rec(1, 0, VIGIL_OUT_OK);	/* beta has no models */
	report_n(&f, 1, x, 1);
	ninvalid++;

	tick(&f, 100);
	T_CHECK(hdr(&f.seg.hdr->reports_accepted) == nvalid);
	T_CHECK(hdr(&f.seg.hdr->reports_invalid) == ninvalid);
	T_CHECK(ninvalid == 17);
	T_CHECK(hdr(&f.seg.hdr->reports_rate_dropped) == 0);
	T_CHECK(hdr(&f.seg.hdr->reports_lost) == 0);
	T_CHECK(hdr(&f.seg.hdr->reports_full) == 0);
	T_CHECK(hdr(&f.seg.hdr->reports_slots) == 2);
	T_CHECK(f.a.rep.st[0].accepted == nvalid &&
	    f.a.rep.st[0].invalid == 0);
	T_CHECK(f.a.rep.st[1].accepted == 0 &&
	    f.a.rep.st[1].invalid == ninvalid);

	p = snap(&f, 0);
	T_CHECK(p.stats.samples_total == 5);
	T_CHECK(p.stats.checks_total[VIGIL_OUT_OK] == 5);
	T_CHECK(p.stats.source[VIGIL_SRC_TRAFFIC].samples_total == 5);
	T_CHECK(p.stats.source[VIGIL_SRC_TRAFFIC].errors_total == 0);
	T_CHECK(p.stats.source[VIGIL_SRC_TRAFFIC].samples_1m == 5);
	T_CHECK(p.stats.source[VIGIL_SRC_PROBE].samples_total == 0);
	/* The provider's own figures are its no-model reports'. */
	T_CHECK(p.stats.win[VIGIL_WIN_1M].samples == 3);
	T_CHECK((p.stats.last.flags & VIGIL_SF_TRAFFIC) != 0);
	T_CHECK(p.stats.last.mono_ns == f.mono);
	T_CHECK(p.stats.last.latency_us == 200000);
	T_CHECK(p.stats.traffic_clients_1m == 1);	/* slot 1: nothing */
	T_CHECK(p.stats.traffic_last_wall_ns == f.wall);
	/* Traffic's tokens are not the probes' bill. */
	T_CHECK(p.stats.probe_tokens_today == 0);
	T_CHECK(vigil_model_stats(&f.cl, 0, 1, &ms) == VIGIL_OK);
	/* Judged with the probes; the totals are the probes' alone. */
	T_CHECK(ms.win[VIGIL_WIN_1M].samples == 2);
	T_CHECK(ms.checks_total == 0 && ms.tokens_in_total == 0 &&
	    ms.tokens_out_total == 0);
	/* What the prober's generation check of m-large steps aside for
	 * (probe_when_idle); m-small had no traffic. */
	T_CHECK(ms.traffic_last_mono_ns == f.mono);
	T_CHECK(vigil_model_stats(&f.cl, 0, 0, &ms) == VIGIL_OK);
	T_CHECK(ms.checks_total == 0);
	T_CHECK(ms.traffic_last_mono_ns == 0);

	p = snap(&f, 1);
	T_CHECK(p.stats.samples_total == 2);
	T_CHECK(p.stats.source[VIGIL_SRC_TRAFFIC].samples_total == 2);
	T_CHECK((p.stats.last.flags & VIGIL_SF_TRAFFIC) != 0);
	T_CHECK(p.stats.last.latency_us == 0);
	T_CHECK(p.stats.last.tokens_out == UINT32_C(100000000));
	p = snap(&f, 2);
	T_CHECK(p.stats.samples_total == 0);
	T_CHECK(p.stats.source[VIGIL_SRC_TRAFFIC].samples_total == 0);
	T_CHECK(p.stats.status == VIGIL_ST_UNKNOWN);

	/* Nothing new: nothing counted twice. */
	tick(&f, 1000);
	T_CHECK(hdr(&f.seg.hdr->reports_accepted) == nvalid);
	T_CHECK(hdr(&f.seg.hdr->reports_invalid) == ninvalid);
	T_CHECK(snap(&f, 0).stats.samples_total == 5);

	/* A generation check of m-small is no traffic. */
	{
		struct vigil_sample s;

		memset(&s, 0, sizeof(s));
		s.mono_ns = f.mono;
		s.wall_ns = f.wall;
		s.latency_us = 300000;
		s.ttfb_us = 100000;
		s.outcome = VIGIL_OUT_OK;
		s.http_status = 200;
		s.flags = VIGIL_SF_GENERATION;
		s.model = 1;
		ring_push(&f.rw[0], &s, VIGIL_WORDS(struct vigil_sample));
	}
	tick(&f, 100);
	T_CHECK(vigil_model_stats(&f.cl, 0, 0, &ms) == VIGIL_OK);
	T_CHECK(ms.checks_total == 1 && ms.traffic_last_mono_ns == 0);
	T_CHECK(snap(&f, 0).stats.source[VIGIL_SRC_PROBE].samples_total == 1);
	fix_close(&f);
}

/* report_rate_max: a second's worth a slot, a burst not a backlog;
 * the other slot's reports are its own. */
static void
test_rate_cap(void)
{
	struct fix f;
	struct conf c;

	settings_defaults(&c);
	c.report_rate_max = 5;
	fix_open(&f, 1, &c);
	report_n(&f, 0, rec(1, -1, VIGIL_OUT_OK), 8);
	report_n(&f, 1, rec(1, -1, VIGIL_OUT_OK), 3);
	tick(&f, 100);
	T_CHECK(hdr(&f.seg.hdr->reports_accepted) == 5 + 3);
	T_CHECK(hdr(&f.seg.hdr->reports_rate_dropped) == 3);
	T_CHECK(f.a.rep.st[0].rate_dropped == 3 &&
	    f.a.rep.st[1].rate_dropped == 0);
	T_CHECK(snap(&f, 1).stats.samples_total == 8);

	/* 400 ms later: 2 tokens back. */
	report_n(&f, 0, rec(1, -1, VIGIL_OUT_OK), 4);
	tick(&f, 400);
	T_CHECK(f.a.rep.st[0].accepted == 7 &&
	    f.a.rep.st[0].rate_dropped == 5);

	/* A long quiet time refills one second's worth, not more. */
	report_n(&f, 0, rec(1, -1, VIGIL_OUT_OK), 9);
	tick(&f, 10000);
	T_CHECK(f.a.rep.st[0].accepted == 12 &&
	    f.a.rep.st[0].rate_dropped == 9);
	/* An invalid record costs no token. */
	{
		struct vigil_report_rec x = rec(1, -1, VIGIL_OUT_OK);

		x.reserved = 1;
		report_n(&f, 0, x, 2);
	}
	report_n(&f, 0, rec(1, -1, VIGIL_OUT_OK), 5);
	tick(&f, 1000);
	T_CHECK(f.a.rep.st[0].accepted == 17 &&
	    f.a.rep.st[0].rate_dropped == 9 && f.a.rep.st[0].invalid == 2);
	T_CHECK(hdr(&f.seg.hdr->reports_rate_dropped) == 9);
	T_CHECK(hdr(&f.seg.hdr->reports_invalid) == 2);
	T_CHECK(snap(&f, 1).stats.samples_total == 17 + 3);
	T_CHECK(snap(&f, 1).stats.source[VIGIL_SRC_TRAFFIC].samples_total ==
	    20);
	fix_close(&f);
}

/* A client's client_error is counted as traffic and judges nothing,
 * even when one client is enough to judge (the default). */
static void
test_client_error(void)
{
	struct fix f;
	struct conf c;
	struct vigil_provider p;
	int i;

	settings_defaults(&c);
	T_CHECK(c.traffic_min_clients == 1);
	fix_open(&f, 2, &c);
	for (i = 0; i < 10; i++) {
		probe(&f, 2, VIGIL_OUT_OK);
		tick(&f, 1000);
	}
	p = snap(&f, 2);
	T_CHECK(p.stats.status == VIGIL_ST_HEALTHY);
	report_n(&f, 0, rec(2, -1, VIGIL_OUT_CLIENT_ERROR), 20);
	report_n(&f, 1, rec(2, -1, VIGIL_OUT_CLIENT_ERROR), 20);
	tick(&f, 100);
	p = snap(&f, 2);
	T_CHECK(hdr(&f.seg.hdr->reports_accepted) == 40);
	T_CHECK(p.stats.status == VIGIL_ST_HEALTHY);
	T_CHECK(p.stats.samples_total == 10);
	T_CHECK(p.stats.checks_total[VIGIL_OUT_CLIENT_ERROR] == 0);
	T_CHECK(p.stats.consecutive_failures == 0);
	T_CHECK(p.stats.consecutive_successes == 10);
	T_CHECK(p.stats.win[VIGIL_WIN_1M].error_rate == 0.0);
	T_CHECK(p.stats.source[VIGIL_SRC_TRAFFIC].samples_total == 40);
	T_CHECK(p.stats.source[VIGIL_SRC_TRAFFIC].errors_total == 0);
	T_CHECK(p.stats.source[VIGIL_SRC_PROBE].samples_total == 10);
	T_CHECK(p.stats.traffic_clients_1m == 2);
	T_CHECK(f.a.p[2].traffic_held == 0);
	fix_close(&f);
}

/*
 * traffic_min_clients 2: alpha's one client failing is held (counted as
 * traffic, judging nothing); a second client failing within the minute
 * counts.  beta: the same one client's failures count at once when a
 * probe's newest check failed too.
 */
static void
test_min_clients(void)
{
	struct fix f;
	struct conf c;
	struct vigil_provider p;
	int i;

	settings_defaults(&c);
	c.traffic_min_clients = 2;
	fix_open(&f, 3, &c);
	for (i = 0; i < 10; i++) {
		probe(&f, 0, VIGIL_OUT_OK);
		probe(&f, 1, VIGIL_OUT_OK);
		tick(&f, 1000);
	}
	T_CHECK(snap(&f, 0).stats.status == VIGIL_ST_HEALTHY);
	T_CHECK(snap(&f, 1).stats.status == VIGIL_ST_HEALTHY);

	/* One client, alpha: held. */
	report_n(&f, 0, rec(0, -1, VIGIL_OUT_HTTP_5XX), 10);
	tick(&f, 100);
	p = snap(&f, 0);
	T_CHECK(p.stats.status == VIGIL_ST_HEALTHY);
	T_CHECK(p.stats.samples_total == 10);
	T_CHECK(p.stats.consecutive_failures == 0);
	T_CHECK(p.stats.source[VIGIL_SRC_TRAFFIC].samples_total == 10);
	T_CHECK(p.stats.source[VIGIL_SRC_TRAFFIC].errors_total == 10);
	T_CHECK(p.stats.source[VIGIL_SRC_TRAFFIC].errors_1m == 10);
	T_CHECK(p.stats.traffic_clients_1m == 1);
	T_CHECK(f.a.p[0].traffic_held == 10);
	/* ... and its successes count as usual. */
	report_n(&f, 0, rec(0, -1, VIGIL_OUT_OK), 1);
	tick(&f, 100);
	T_CHECK(snap(&f, 0).stats.samples_total == 11);
	report_n(&f, 0, rec(0, -1, VIGIL_OUT_HTTP_5XX), 10);
	tick(&f, 100);
	T_CHECK(f.a.p[0].traffic_held == 20);
	T_CHECK(snap(&f, 0).stats.status == VIGIL_ST_HEALTHY);

	/* A second client within the minute: its failures count. */
	report_n(&f, 1, rec(0, -1, VIGIL_OUT_HTTP_5XX), 10);
	tick(&f, 100);
	p = snap(&f, 0);
	T_CHECK(f.a.p[0].traffic_held == 20);
	T_CHECK(p.stats.samples_total == 21);
	T_CHECK(p.stats.checks_total[VIGIL_OUT_HTTP_5XX] == 10);
	T_CHECK(p.stats.consecutive_failures == 10);
	T_CHECK(p.stats.status == VIGIL_ST_UNHEALTHY);
	T_CHECK(p.stats.source[VIGIL_SRC_TRAFFIC].samples_total == 31);
	T_CHECK(p.stats.source[VIGIL_SRC_TRAFFIC].errors_total == 30);
	T_CHECK(p.stats.traffic_clients_1m == 2);
	T_CHECK(snap(&f, 1).stats.status == VIGIL_ST_HEALTHY);

	/* beta, one client: held while the probes pass ... */
	report_n(&f, 0, rec(1, -1, VIGIL_OUT_TIMEOUT), 5);
	tick(&f, 100);
	T_CHECK(f.a.p[1].traffic_held == 5);
	T_CHECK(snap(&f, 1).stats.samples_total == 10);
	/* ... counted once a check fails too. */
	probe(&f, 1, VIGIL_OUT_TIMEOUT);
	tick(&f, 100);
	p = snap(&f, 1);
	T_CHECK(p.stats.samples_total == 11);
	T_CHECK(p.stats.consecutive_failures == 1);
	report_n(&f, 0, rec(1, -1, VIGIL_OUT_TIMEOUT), 10);
	tick(&f, 100);
	p = snap(&f, 1);
	T_CHECK(f.a.p[1].traffic_held == 5);
	T_CHECK(p.stats.samples_total == 21);
	T_CHECK(p.stats.checks_total[VIGIL_OUT_TIMEOUT] == 11);
	T_CHECK(p.stats.consecutive_failures == 11);
	T_CHECK(p.stats.status == VIGIL_ST_UNHEALTHY);
	T_CHECK(p.stats.source[VIGIL_SRC_PROBE].samples_total == 11);
	T_CHECK(p.stats.source[VIGIL_SRC_PROBE].errors_total == 1);
	T_CHECK(p.stats.source[VIGIL_SRC_TRAFFIC].samples_total == 15);
	T_CHECK(p.stats.source[VIGIL_SRC_TRAFFIC].errors_total == 15);
	T_CHECK(p.stats.traffic_clients_1m == 1);

	/* gamma saw nothing of it. */
	p = snap(&f, 2);
	T_CHECK(p.stats.samples_total == 0 &&
	    p.stats.status == VIGIL_ST_UNKNOWN);
	fix_close(&f);
}

int
main(void)
{
	T_RUN(test_valid_invalid);
	T_RUN(test_rate_cap);
	T_RUN(test_client_error);
	T_RUN(test_min_clients);
	return t_done();
}
