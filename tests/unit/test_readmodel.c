/*
 * test_readmodel.c - vigil.h's read model (vigil_effective_status,
 * vigil_provider_stale, vigil_status_severity, vigil_overall_status): the
 * one rule vigil-api, vigild's control replies and vigilctl all show.
 *
 * A table of segments: each case writes up to three directory slots and
 * stats blocks and the beats into a real segment, snapshots it through the
 * client, and checks every provider's effective status and staleness and
 * the overall status at a fixed "now" (the functions take now, so no case
 * depends on the test's timing).
 *
 * Segments are named "/vigil-test-rm-<pid>" and unlinked at the end.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "t.h"
#include "ring.h"
#include "segment.h"

#define S		UINT64_C(1000000000)
#define NOW		(UINT64_C(100000) * S)	/* a fixed monotonic "now" */
#define NEVER		UINT64_MAX		/* no beat at all */
#define MAXP		3

#define EN		(VIGIL_PF_IN_USE | VIGIL_PF_ENABLED)
#define PAUSED		(EN | VIGIL_PF_PAUSED)

struct rm_provider {
	unsigned flags;		/* directory flags; 0: slot free */
	unsigned status;	/* stored by the "aggregator" */
	int aggregated;		/* updated_wall_ns != 0 */
	uint32_t interval_ms;
	uint64_t prober_age;	/* NEVER: no beat */
	/* expected */
	unsigned eff;
	int stale;
};

struct rm_case {
	const char *name;
	uint64_t agg_age;	/* NEVER: no beat */
	struct rm_provider p[MAXP];
	unsigned overall;
};

static const struct rm_case cases[] = {
	{ "healthy + paused: paused (paused ranks above healthy)", 1 * S, {
	    { EN, VIGIL_ST_HEALTHY, 1, 1000, 1 * S,
		VIGIL_ST_HEALTHY, 0 },
	    { PAUSED, VIGIL_ST_PAUSED, 1, 1000, 1 * S,
		VIGIL_ST_PAUSED, 0 } }, VIGIL_ST_PAUSED },
	{ "just paused, the aggregator has not seen it: paused", 1 * S, {
	    { EN, VIGIL_ST_HEALTHY, 1, 1000, 1 * S,
		VIGIL_ST_HEALTHY, 0 },
	    { PAUSED, VIGIL_ST_HEALTHY, 1, 1000, 1 * S,
		VIGIL_ST_PAUSED, 0 } }, VIGIL_ST_PAUSED },
	{ "all paused: paused, quiet probers are not stale", 1 * S, {
	    { PAUSED, VIGIL_ST_PAUSED, 1, 1000, 60 * S,
		VIGIL_ST_PAUSED, 0 },
	    { PAUSED, VIGIL_ST_PAUSED, 0, 1000, NEVER,
		VIGIL_ST_PAUSED, 0 } }, VIGIL_ST_PAUSED },
	{ "stale aggregator: overall unknown, every provider stale",
	    6 * S, {
	    { EN, VIGIL_ST_HEALTHY, 1, 1000, 1 * S,
		VIGIL_ST_HEALTHY, 1 },
	    { PAUSED, VIGIL_ST_PAUSED, 1, 1000, 1 * S,
		VIGIL_ST_PAUSED, 1 },
	    { VIGIL_PF_IN_USE, VIGIL_ST_UNKNOWN, 0, 1000, NEVER,
		VIGIL_ST_UNKNOWN, 1 } }, VIGIL_ST_UNKNOWN },
	{ "aggregator never beat: overall unknown, stale", NEVER, {
	    { EN, VIGIL_ST_HEALTHY, 1, 1000, 1 * S,
		VIGIL_ST_HEALTHY, 1 } }, VIGIL_ST_UNKNOWN },
	{ "aggregator exactly at the limit: fresh", 5 * S, {
	    { EN, VIGIL_ST_HEALTHY, 1, 1000, 1 * S,
		VIGIL_ST_HEALTHY, 0 } }, VIGIL_ST_HEALTHY },
	{ "stale prober: flagged, status and overall unchanged", 1 * S, {
	    { EN, VIGIL_ST_HEALTHY, 1, 1000, 3 * S + 1,
		VIGIL_ST_HEALTHY, 1 },
	    { EN, VIGIL_ST_HEALTHY, 1, 1000, 3 * S,
		VIGIL_ST_HEALTHY, 0 },
	    { EN, VIGIL_ST_DEGRADED, 1, 1000, NEVER,
		VIGIL_ST_DEGRADED, 1 } }, VIGIL_ST_DEGRADED },
	{ "interval 0: the prober limit is the aggregator's", 1 * S, {
	    { EN, VIGIL_ST_HEALTHY, 1, 0, 5 * S,
		VIGIL_ST_HEALTHY, 0 },
	    { EN, VIGIL_ST_HEALTHY, 1, 0, 5 * S + 1,
		VIGIL_ST_HEALTHY, 1 } }, VIGIL_ST_HEALTHY },
	{ "disabled: no prober expected, not stale", 1 * S, {
	    { VIGIL_PF_IN_USE, VIGIL_ST_HEALTHY, 1, 1000, NEVER,
		VIGIL_ST_HEALTHY, 0 } }, VIGIL_ST_HEALTHY },
	{ "never aggregated: unknown, above paused and healthy", 1 * S, {
	    { EN, VIGIL_ST_HEALTHY, 1, 1000, 1 * S,
		VIGIL_ST_HEALTHY, 0 },
	    { PAUSED, VIGIL_ST_PAUSED, 1, 1000, 1 * S,
		VIGIL_ST_PAUSED, 0 },
	    { EN, VIGIL_ST_HEALTHY, 0, 1000, 1 * S,
		VIGIL_ST_UNKNOWN, 0 } }, VIGIL_ST_UNKNOWN },
	{ "resumed, stats still paused: unknown until aggregated", 1 * S, {
	    { EN, VIGIL_ST_PAUSED, 1, 1000, 1 * S,
		VIGIL_ST_UNKNOWN, 0 } }, VIGIL_ST_UNKNOWN },
	{ "out-of-range stored status: unknown", 1 * S, {
	    { EN, 200, 1, 1000, 1 * S,
		VIGIL_ST_UNKNOWN, 0 } }, VIGIL_ST_UNKNOWN },
	{ "worst of: unhealthy > misconfigured > degraded", 1 * S, {
	    { EN, VIGIL_ST_DEGRADED, 1, 1000, 1 * S,
		VIGIL_ST_DEGRADED, 0 },
	    { EN, VIGIL_ST_UNHEALTHY, 1, 1000, 1 * S,
		VIGIL_ST_UNHEALTHY, 0 },
	    { EN, VIGIL_ST_MISCONFIGURED, 1, 1000, 1 * S,
		VIGIL_ST_MISCONFIGURED, 0 } }, VIGIL_ST_UNHEALTHY },
	{ "misconfigured + paused: misconfigured", 1 * S, {
	    { PAUSED, VIGIL_ST_PAUSED, 1, 1000, 1 * S,
		VIGIL_ST_PAUSED, 0 },
	    { EN, VIGIL_ST_MISCONFIGURED, 1, 1000, 1 * S,
		VIGIL_ST_MISCONFIGURED, 0 } }, VIGIL_ST_MISCONFIGURED },
	{ "no providers: unknown", 1 * S, { { 0, 0, 0, 0, 0, 0, 0 } },
	    VIGIL_ST_UNKNOWN },
};

static void
put_beat(VIGIL_A64 *w, uint64_t age)
{
	atomic_store(w, age == NEVER ? 0 : NOW - age);
}

/* Write case k into s: directory slots, stats, beats. */
static void
case_write(struct segment *s, const struct rm_case *k)
{
	struct vigil_provider_info pi;
	struct vigil_stats st;
	uint32_t i;

	put_beat(&s->hdr->aggregator_beat_ns, k->agg_age);
	for (i = 0; i < MAXP; i++) {
		const struct rm_provider *p = &k->p[i];

		memset(&pi, 0, sizeof(pi));
		memset(&st, 0, sizeof(st));
		if (p->flags != 0) {
			snprintf(pi.name, sizeof(pi.name), "p%u", (unsigned)i);
			pi.flags = p->flags;
			pi.interval_ms = p->interval_ms;
			pi.generation = 1;
			st.status = (uint8_t)p->status;
			st.updated_wall_ns = p->aggregated ? 1 : 0;
		}
		seqlock_write(seg_dir_slot(s, i), &pi, VIGIL_WORDS(pi));
		seqlock_write(seg_stats(s, i), &st, VIGIL_WORDS(st));
		put_beat(&seg_sample_ring(s, i)->beat_ns,
		    p->flags != 0 ? p->prober_age : NEVER);
	}
}

static void
test_cases(void)
{
	struct seg_caps caps = { 4, 8, 8, 8, 0 };
	struct vigil_provider snap[4];
	struct vigil_client c;
	struct segment s;
	char name[64], err[256];
	size_t k, i, n, want;

	snprintf(name, sizeof(name), "/vigil-test-rm-%d", (int)getpid());
	T_CHECKF(seg_create(&s, name, &caps, 0600, err, sizeof(err)) == 0,
	    "%s", err);
	T_CHECKF(vigil_attach(&c, s.base, s.size) == VIGIL_OK, "%s", c.err);
	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		const struct rm_case *cs = &cases[k];

		case_write(&s, cs);
		T_CHECK(vigil_snapshot_all(&c, snap, 4, &n) == VIGIL_OK);
		for (want = 0; want < MAXP && cs->p[want].flags != 0; want++)
			;
		T_CHECKF(n == want, "%s: %zu providers, want %zu", cs->name,
		    n, want);
		for (i = 0; i < n && i < want; i++) {
			const struct rm_provider *p = &cs->p[i];
			unsigned eff = vigil_effective_status(&snap[i]);
			int stale = vigil_provider_stale(&c, &snap[i], NOW);

			T_CHECKF(eff == p->eff, "%s: p%zu status %s, want %s",
			    cs->name, i, vigil_status_name(eff),
			    vigil_status_name(p->eff));
			T_CHECKF(stale == p->stale, "%s: p%zu stale %d, want "
			    "%d", cs->name, i, stale, p->stale);
		}
		T_CHECKF(vigil_overall_status(&c, snap, n, NOW) ==
		    cs->overall, "%s: overall %s, want %s", cs->name,
		    vigil_status_name(vigil_overall_status(&c, snap, n, NOW)),
		    vigil_status_name(cs->overall));
	}
	vigil_close(&c);
	seg_close(&s);
	shm_unlink(name);
}

/* The ranking documented for /health/integration's status. */
static void
test_severity(void)
{
	static const unsigned order[] = { VIGIL_ST_HEALTHY, VIGIL_ST_PAUSED,
	    VIGIL_ST_UNKNOWN, VIGIL_ST_THROTTLED, VIGIL_ST_DEGRADED,
	    VIGIL_ST_MISCONFIGURED, VIGIL_ST_EXHAUSTED, VIGIL_ST_UNHEALTHY };
	size_t i;

	for (i = 1; i < sizeof(order) / sizeof(order[0]); i++)
		T_CHECKF(vigil_status_severity(order[i - 1]) <
		    vigil_status_severity(order[i]), "%s < %s",
		    vigil_status_name(order[i - 1]),
		    vigil_status_name(order[i]));
	T_CHECK(vigil_status_severity(VIGIL_ST_COUNT) ==
	    vigil_status_severity(VIGIL_ST_UNKNOWN));
	T_CHECK(VIGIL_AGG_STALE_NS == 5 * S);
	T_CHECK(VIGIL_PROBER_STALE_INTERVALS == 3);
}

/*
 * vigil_provider_usable: the aggregator's word, but never paused or
 * unknown, and a throttled provider from usable_at on.
 */
static void
test_usable(void)
{
	struct vigil_provider p;

	memset(&p, 0, sizeof(p));
	p.info.flags = VIGIL_PF_IN_USE | VIGIL_PF_ENABLED;
	p.stats.updated_wall_ns = 1;
	p.stats.status = VIGIL_ST_HEALTHY;
	p.stats.usable = 1;
	T_CHECK(vigil_provider_usable(&p, 100));
	p.info.flags |= VIGIL_PF_PAUSED;
	T_CHECK(!vigil_provider_usable(&p, 100));
	p.info.flags &= ~VIGIL_PF_PAUSED;
	p.stats.updated_wall_ns = 0;		/* never aggregated */
	T_CHECK(!vigil_provider_usable(&p, 100));
	p.stats.updated_wall_ns = 1;
	p.stats.status = VIGIL_ST_THROTTLED;
	p.stats.usable = 0;
	p.stats.usable_at_wall_ns = 100;
	T_CHECK(!vigil_provider_usable(&p, 99));
	T_CHECK(vigil_provider_usable(&p, 100));
	p.stats.usable_at_wall_ns = 0;		/* no time: not usable */
	T_CHECK(!vigil_provider_usable(&p, 100));
	p.stats.status = VIGIL_ST_EXHAUSTED;
	p.stats.usable_at_wall_ns = 50;		/* ignored: not throttled */
	T_CHECK(!vigil_provider_usable(&p, 100));
}

int
main(void)
{
	T_RUN(test_cases);
	T_RUN(test_usable);
	T_RUN(test_severity);
	return t_done();
}
