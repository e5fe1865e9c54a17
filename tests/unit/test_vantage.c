/*
 * test_vantage.c - ours or theirs, and grouped incidents.
 *
 * The rule (aggregator/vantage.c) on hand-made slots; the grouping
 * (aggregator/incident.c) on hand-made times; then both through the
 * engine over a real segment, on timelines of samples pushed as probers
 * do: canary and most providers failing on the network is ours (one
 * vantage alert, no provider outage alert, providers unknown with
 * reason network); providers alone failing is theirs (their alerts, no
 * vantage alert, one incident naming them); two providers failing
 * further apart than group_window are no incident; an incident raised
 * before a restart (of the aggregator on the same segment, or of vigild
 * from its snapshot) is resolved after it, once, and not raised again.
 */
#include <sys/mman.h>

#include <stdlib.h>
#include <time.h>

#include "t.h"
#include "../../aggregator/engine.h"
#include "../../aggregator/incident.h"
#include "../../aggregator/vantage.h"
#include "segfix.h"

#define S	UINT64_C(1000000000)
#define WALL0	(UINT64_C(1764000000) * S)
#define NSLOT	8

/* ---- the rule on hand-made slots ---- */

/* Six providers and one canary: the first `failing` providers fail on
 * the network since `since`; the canary's run and newest ok as given. */
static size_t
slots(struct vantage_slot *s, int failing, uint64_t since, uint32_t c_run,
    uint64_t c_ok)
{
	int i;

	memset(s, 0, 7 * sizeof(*s));
	for (i = 0; i < 6; i++) {
		s[i].judged = 1;
		s[i].interval_ms = 1000;
		s[i].timeout_ms = 500;
		if (i < failing) {
			s[i].net_run = 4;
			s[i].net_since = since;
		} else
			s[i].last_ok_wall = since + S;
	}
	s[6].canary = 1;
	s[6].judged = 1;
	s[6].net_run = c_run;
	s[6].last_ok_wall = c_ok;
	s[6].interval_ms = 1000;
	s[6].timeout_ms = 500;
	return 7;
}

static void
test_rule(void)
{
	struct vantage_slot s[7];
	struct vantage v;
	uint64_t t = WALL0 + 100 * S;
	size_t n;

	/* No canary: the rule says nothing, however many fail. */
	memset(&v, 0, sizeof(v));
	n = slots(s, 6, t, 0, 0);
	T_CHECK(vantage_eval(&v, s, n - 1, 50, 4, t) == 0);
	T_CHECK(!v.ours && v.canaries == 0);
	T_CHECK(vantage_provider(&v, t, t) == VANTAGE_NONE);

	/* Canary down with 5 of 6 providers: ours. */
	memset(&v, 0, sizeof(v));
	n = slots(s, 5, t, 4, t - 10 * S);
	T_CHECK(vantage_eval(&v, s, n, 50, 4, t + S) == 1);
	T_CHECK(v.ours && v.failing == 5 && v.providers == 6);
	T_CHECK(v.since_wall == t + S);
	T_CHECK(vantage_provider(&v, t, t + S) == VANTAGE_OURS);
	T_CHECK(vantage_provider(&v, 0, t + S) == VANTAGE_NONE);
	/* Same verdict again: no change reported. */
	T_CHECK(vantage_eval(&v, s, n, 50, 4, t + 2 * S) == 0);

	/* The canary answers again: no longer ours, and a provider whose
	 * failure began before that answer is theirs. */
	n = slots(s, 6, t, 0, t + 3 * S);
	T_CHECK(vantage_eval(&v, s, n, 50, 4, t + 3 * S) == 1);
	T_CHECK(!v.ours);
	T_CHECK(vantage_provider(&v, t, t + 3 * S) == VANTAGE_NONE);

	/* Only providers fail and the canary has not answered since: held
	 * for its word, at most 3 x (1 s + 0.5 s). */
	memset(&v, 0, sizeof(v));
	n = slots(s, 6, t, 0, t - S);
	T_CHECK(vantage_eval(&v, s, n, 50, 4, t) == 0);
	T_CHECK(!v.ours && v.wait_ns == 4500000000u);
	T_CHECK(vantage_provider(&v, t, t + S) == VANTAGE_HOLD);
	T_CHECK(vantage_provider(&v, t, t + 5 * S) == VANTAGE_NONE);

	/* Canary down but only 2 of 6 providers: theirs (after the wait). */
	memset(&v, 0, sizeof(v));
	n = slots(s, 2, t, 4, t - 10 * S);
	T_CHECK(vantage_eval(&v, s, n, 50, 4, t) == 0 && !v.ours);
	T_CHECK(vantage_provider(&v, t, t + 10 * S) == VANTAGE_NONE);

	/* Half is not most: 3 of 6 at 50% is not ours; at 49% it is. */
	memset(&v, 0, sizeof(v));
	n = slots(s, 3, t, 4, t - 10 * S);
	T_CHECK(vantage_eval(&v, s, n, 50, 4, t) == 0 && !v.ours);
	T_CHECK(vantage_eval(&v, s, n, 49, 4, t) == 1 && v.ours);

	/* A canary short of down_after failures is not down yet. */
	memset(&v, 0, sizeof(v));
	n = slots(s, 6, t, 3, t - 10 * S);
	T_CHECK(vantage_eval(&v, s, n, 50, 4, t) == 0 && !v.ours);
	T_CHECK(vantage_provider(&v, t, t + S) == VANTAGE_HOLD);

	/* Answers are never network failures. */
	T_CHECK(vantage_network(VIGIL_OUT_DNS) &&
	    vantage_network(VIGIL_OUT_CONNECT) &&
	    vantage_network(VIGIL_OUT_TLS) &&
	    vantage_network(VIGIL_OUT_TIMEOUT));
	T_CHECK(!vantage_network(VIGIL_OUT_HTTP_5XX) &&
	    !vantage_network(VIGIL_OUT_OK) &&
	    !vantage_network(VIGIL_OUT_OVERLOADED));
}

static void
test_groups(void)
{
	struct incidents in;
	uint64_t next = 1, a, b, c, d;
	uint64_t win = 120 * S, t = WALL0;

	memset(&in, 0, sizeof(in));
	a = incident_join(&in, t, win, &next);
	T_CHECK(a == 1 && next == 2);
	/* One member is not an incident. */
	T_CHECK(incident_level(incident_find(&in, a), 2) == 0);
	/* A minute later: the same group, now an incident. */
	b = incident_join(&in, t + 60 * S, win, &next);
	T_CHECK(b == a);
	T_CHECK(incident_level(incident_find(&in, a), 2) == 2);
	/* Grouping off: never. */
	T_CHECK(incident_level(incident_find(&in, a), 0) == 0);
	/* Outside the window of the first: a group of its own. */
	c = incident_join(&in, t + 121 * S, win, &next);
	T_CHECK(c != a && c == 2);
	T_CHECK(incident_level(incident_find(&in, c), 2) == 0);
	/* A member within both windows joins the newest. */
	d = incident_join(&in, t + 125 * S, win, &next);
	T_CHECK(d == c);
	/* Members leave: the incident ends with the last one. */
	incident_leave(&in, a);
	T_CHECK(incident_level(incident_find(&in, a), 2) == 2);
	incident_leave(&in, a);
	T_CHECK(incident_level(incident_find(&in, a), 2) == 0);
	incident_free(&in, a);
	T_CHECK(incident_find(&in, a) == NULL);
	T_CHECK(incident_find(&in, c) != NULL);
}

/* ---- through the engine ---- */

struct fix {
	char name[64];
	struct segment seg;
	struct ring_writer rw[NSLOT];
	struct vigil_client cl;
	struct agg a;
	struct conf c;
	uint64_t t;			/* mono of the next tick */
};

static void
fix_open(struct fix *f, int n)
{
	struct seg_caps caps = { NSLOT, 256, 64, 256, 0 };
	char err[256];
	uint32_t i;

	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "/vigil-test-vantage-%d-%d",
	    (int)getpid(), n);
	T_CHECKF(seg_create(&f->seg, f->name, &caps, 0600, err,
	    sizeof(err)) == 0, "%s", err);
	for (i = 0; i < NSLOT; i++)
		ring_writer_init(&f->rw[i], seg_sample_ring(&f->seg, i),
		    f->seg.hdr->sample_cap, f->seg.hdr->sample_entry);
	T_CHECKF(vigil_open(&f->cl, f->name) == VIGIL_OK, "%s", f->cl.err);
	settings_defaults(&f->c);
	f->t = 1000 * S;
}

static void
fix_start(struct fix *f)
{
	char err[256];

	T_CHECKF(agg_init(&f->a, &f->seg, &f->c, NULL, err,
	    sizeof(err)) == 0, "%s", err);
}

static void
fix_close(struct fix *f)
{
	agg_free(&f->a);
	vigil_close(&f->cl);
	seg_close(&f->seg);
	shm_unlink(f->name);
}

static void
push(struct fix *f, uint32_t idx, int outcome)
{
	struct vigil_sample s;

	memset(&s, 0, sizeof(s));
	s.mono_ns = f->t;
	s.wall_ns = WALL0 + f->t;
	s.latency_us = 20000;
	s.outcome = (uint8_t)outcome;
	s.http_status = outcome == VIGIL_OUT_OK ? 200 : 0;
	if (outcome != VIGIL_OUT_OK)
		snprintf(s.error, sizeof(s.error), "curl:7");
	ring_push(&f->rw[idx], &s, VIGIL_WORDS(struct vigil_sample));
}

/* One second: slot i gets outcome out[i] (-1: no sample), then a tick. */
static void
second(struct fix *f, const int *out, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (out[i] >= 0)
			push(f, i, out[i]);
	agg_tick(&f->a, f->t + S / 2, WALL0 + f->t + S / 2);
	f->t += S;
}

static void
seconds(struct fix *f, int k, const int *out, uint32_t n)
{
	while (k-- > 0)
		second(f, out, n);
}

static size_t
alerts(struct fix *f, struct vigil_alert *out, size_t max)
{
	struct vigil_cursor c = { 0, 0 };

	return vigil_read_alerts(&f->cl, &c, out, max);
}

static int
count(const struct vigil_alert *a, size_t n, const char *prov, int kind,
    int level)
{
	size_t i;
	int k = 0;

	for (i = 0; i < n; i++)
		if ((prov == NULL || strcmp(a[i].provider, prov) == 0) &&
		    (kind < 0 || a[i].kind == kind) &&
		    (level < 0 || a[i].level == level))
			k++;
	return k;
}

/* Outage alerts (down, circuit_open, error_rate, latency, degrading)
 * of providers, any level. */
static int
outages(const struct vigil_alert *a, size_t n)
{
	return count(a, n, NULL, VIGIL_AK_DOWN, -1) +
	    count(a, n, NULL, VIGIL_AK_CIRCUIT_OPEN, -1) +
	    count(a, n, NULL, VIGIL_AK_ERROR_RATE, -1) +
	    count(a, n, NULL, VIGIL_AK_LATENCY, -1) +
	    count(a, n, NULL, VIGIL_AK_DEGRADING, -1);
}

static const char *const names[6] = { "p1", "p2", "p3", "p4", "p5", "p6" };

/* Six providers in slots 0..5 and a canary in slot 6, ok for 10 s. */
static void
six_and_canary(struct fix *f, int n)
{
	static const int ok[7] = { 0, 0, 0, 0, 0, 0, 0 };
	uint32_t i;

	fix_open(f, n);
	for (i = 0; i < 6; i++)
		segfix_add_slot(&f->seg, i, names[i], 0);
	segfix_add_slot(&f->seg, 6, "canary-1", VIGIL_PF_CANARY);
	fix_start(f);
	seconds(f, 10, ok, 7);
}

static void
test_ours(void)
{
	static const int down[7] = { VIGIL_OUT_CONNECT, VIGIL_OUT_CONNECT,
	    VIGIL_OUT_CONNECT, VIGIL_OUT_CONNECT, VIGIL_OUT_CONNECT,
	    VIGIL_OUT_CONNECT, VIGIL_OUT_CONNECT };
	static const int ok[7] = { 0, 0, 0, 0, 0, 0, 0 };
	struct vigil_alert al[256];
	struct vigil_provider p;
	struct fix f;
	uint64_t since;
	size_t n;
	uint32_t i, route[8];

	six_and_canary(&f, 1);
	T_CHECK(vigil_vantage(&f.cl, NULL) == 0);
	/* The canary is not a provider: not routed, not listed. */
	T_CHECK(vigil_route_order(&f.cl, route, 8, &n) == VIGIL_OK);
	T_CHECK(n == 6);
	for (i = 0; i < n; i++)
		T_CHECK(route[i] != 6);

	/* Everything refuses connections for 20 s: ours. */
	seconds(&f, 20, down, 7);
	n = alerts(&f, al, 256);
	T_CHECKF(outages(al, n) == 0, "%d outage alerts", outages(al, n));
	T_CHECK(count(al, n, "*", VIGIL_AK_VANTAGE, VIGIL_AL_CRITICAL) == 1);
	T_CHECK(count(al, n, "*", VIGIL_AK_INCIDENT, -1) == 0);
	T_CHECK(count(al, n, "canary-1", -1, -1) == 0);
	T_CHECK(vigil_vantage(&f.cl, &since) == 1 && since != 0);
	for (i = 0; i < 6; i++) {
		T_CHECK(vigil_snapshot(&f.cl, i, &p) == VIGIL_OK);
		T_CHECK(p.stats.status == VIGIL_ST_UNKNOWN);
		T_CHECK(p.stats.reason == VIGIL_RS_NETWORK);
		T_CHECK(!vigil_provider_usable(&p, WALL0 + f.t));
	}
	T_CHECK(strcmp(vigil_reason_name(VIGIL_RS_NETWORK), "network") == 0);
	T_CHECK(vigil_route_order(&f.cl, route, 8, &n) == VIGIL_OK && n == 0);

	/* The network is back: the vantage alert resolves, and the
	 * providers' outage alerts never went out. */
	seconds(&f, 40, ok, 7);
	n = alerts(&f, al, 256);
	T_CHECK(count(al, n, "*", VIGIL_AK_VANTAGE, VIGIL_AL_RESOLVED) == 1);
	T_CHECK(count(al, n, "*", VIGIL_AK_VANTAGE, VIGIL_AL_CRITICAL) == 1);
	T_CHECKF(outages(al, n) == 0, "%d outage alerts", outages(al, n));
	T_CHECK(vigil_vantage(&f.cl, NULL) == 0);
	T_CHECK(vigil_snapshot(&f.cl, 0, &p) == VIGIL_OK);
	T_CHECK(p.stats.status == VIGIL_ST_HEALTHY ||
	    p.stats.status == VIGIL_ST_DEGRADED);
	fix_close(&f);
}

static void
test_theirs(void)
{
	static const int down[7] = { VIGIL_OUT_CONNECT, VIGIL_OUT_CONNECT,
	    VIGIL_OUT_CONNECT, VIGIL_OUT_CONNECT, VIGIL_OUT_CONNECT,
	    VIGIL_OUT_CONNECT, VIGIL_OUT_OK };
	struct vigil_alert al[256];
	struct vigil_provider p;
	struct fix f;
	uint64_t id = 0;
	size_t n, k;
	uint32_t i;

	six_and_canary(&f, 2);
	seconds(&f, 20, down, 7);
	n = alerts(&f, al, 256);
	T_CHECK(count(al, n, "*", VIGIL_AK_VANTAGE, -1) == 0);
	for (i = 0; i < 6; i++) {
		T_CHECKF(count(al, n, names[i], VIGIL_AK_DOWN,
		    VIGIL_AL_CRITICAL) == 1, "%s", names[i]);
		T_CHECK(vigil_snapshot(&f.cl, i, &p) == VIGIL_OK);
		T_CHECK(p.stats.status == VIGIL_ST_UNHEALTHY);
		T_CHECK(p.stats.reason == VIGIL_RS_OUTAGE);
	}
	T_CHECK(vigil_vantage(&f.cl, NULL) == 0);
	/* One incident, and every provider's critical down alert is in
	 * it. */
	T_CHECK(count(al, n, "*", VIGIL_AK_INCIDENT, VIGIL_AL_CRITICAL) == 1);
	for (k = 0; k < n; k++)
		if (al[k].kind == VIGIL_AK_INCIDENT)
			id = al[k].incident_id;
	T_CHECK(id != 0);
	for (k = 0; k < n; k++)
		if (al[k].kind == VIGIL_AK_DOWN &&
		    al[k].level == VIGIL_AL_CRITICAL)
			T_CHECKF(al[k].incident_id == id, "%s: %llu",
			    al[k].provider,
			    (unsigned long long)al[k].incident_id);
	fix_close(&f);
}

static void
test_incident_window(void)
{
	static const int ok[2] = { 0, 0 };
	static const int first[2] = { VIGIL_OUT_HTTP_5XX, 0 };
	static const int both[2] = { VIGIL_OUT_HTTP_5XX, VIGIL_OUT_HTTP_5XX };
	struct vigil_alert al[256];
	struct fix f;
	size_t n, k;
	uint64_t a = 0, b = 0;

	/* No canary here: the rule holds nothing. */
	fix_open(&f, 3);
	segfix_add_slot(&f.seg, 0, "p1", 0);
	segfix_add_slot(&f.seg, 1, "p2", 0);
	f.c.group_window_ms = 60000;
	fix_start(&f);
	seconds(&f, 10, ok, 2);
	/* p1 fails; p2 follows 90 s later: beyond the window. */
	seconds(&f, 90, first, 2);
	seconds(&f, 20, both, 2);
	n = alerts(&f, al, 256);
	T_CHECK(count(al, n, "p1", VIGIL_AK_DOWN, VIGIL_AL_CRITICAL) == 1);
	T_CHECK(count(al, n, "p2", VIGIL_AK_DOWN, VIGIL_AL_CRITICAL) == 1);
	T_CHECK(count(al, n, "*", VIGIL_AK_INCIDENT, -1) == 0);
	for (k = 0; k < n; k++) {
		if (strcmp(al[k].provider, "p1") == 0 && al[k].incident_id)
			a = al[k].incident_id;
		if (strcmp(al[k].provider, "p2") == 0 && al[k].incident_id)
			b = al[k].incident_id;
	}
	T_CHECK(a != 0 && b != 0 && a != b);	/* two groups of one */
	fix_close(&f);

	/* Within the window (30 s apart): one incident naming both, once;
	 * resolved when both are back. */
	fix_open(&f, 4);
	segfix_add_slot(&f.seg, 0, "p1", 0);
	segfix_add_slot(&f.seg, 1, "p2", 0);
	f.c.group_window_ms = 60000;
	fix_start(&f);
	seconds(&f, 10, ok, 2);
	seconds(&f, 30, first, 2);
	seconds(&f, 30, both, 2);
	n = alerts(&f, al, 256);
	T_CHECK(count(al, n, "*", VIGIL_AK_INCIDENT, VIGIL_AL_CRITICAL) == 1);
	a = b = 0;
	for (k = 0; k < n; k++) {
		if (al[k].kind == VIGIL_AK_INCIDENT) {
			a = al[k].incident_id;
			T_CHECK(al[k].value == 2.0);
		}
		if (strcmp(al[k].provider, "p2") == 0 &&
		    al[k].kind == VIGIL_AK_DOWN &&
		    al[k].level == VIGIL_AL_CRITICAL)
			b = al[k].incident_id;
	}
	T_CHECK(a != 0 && a == b);
	seconds(&f, 200, ok, 2);
	n = alerts(&f, al, 256);
	T_CHECK(count(al, n, "*", VIGIL_AK_INCIDENT, VIGIL_AL_RESOLVED) == 1);
	T_CHECK(count(al, n, "*", VIGIL_AK_INCIDENT, VIGIL_AL_CRITICAL) == 1);
	fix_close(&f);
}

/* p1 and p2 fail 30 s apart: one incident open.  Returns its number. */
static uint64_t
incident_open(struct fix *f, int n)
{
	static const int ok[2] = { 0, 0 };
	static const int first[2] = { VIGIL_OUT_HTTP_5XX, 0 };
	static const int both[2] = { VIGIL_OUT_HTTP_5XX, VIGIL_OUT_HTTP_5XX };
	struct vigil_alert al[256];
	size_t k, m;
	uint64_t id = 0;

	fix_open(f, n);
	segfix_add_slot(&f->seg, 0, "p1", 0);
	segfix_add_slot(&f->seg, 1, "p2", 0);
	f->c.group_window_ms = 60000;
	fix_start(f);
	seconds(f, 10, ok, 2);
	seconds(f, 30, first, 2);
	seconds(f, 30, both, 2);
	m = alerts(f, al, 256);
	T_CHECK(count(al, m, "*", VIGIL_AK_INCIDENT, VIGIL_AL_CRITICAL) == 1);
	for (k = 0; k < m; k++)
		if (al[k].kind == VIGIL_AK_INCIDENT)
			id = al[k].incident_id;
	T_CHECK(id != 0);
	return id;
}

/* The incident alerts of f: raised, resolved; each carries id. */
static void
incident_count(struct fix *f, uint64_t id, int raised, int resolved)
{
	struct vigil_alert al[256];
	size_t k, n = alerts(f, al, 256);

	T_CHECKF(count(al, n, "*", VIGIL_AK_INCIDENT, VIGIL_AL_CRITICAL) ==
	    raised, "raised %d", count(al, n, "*", VIGIL_AK_INCIDENT,
	    VIGIL_AL_CRITICAL));
	T_CHECKF(count(al, n, "*", VIGIL_AK_INCIDENT, VIGIL_AL_RESOLVED) ==
	    resolved, "resolved %d", count(al, n, "*", VIGIL_AK_INCIDENT,
	    VIGIL_AL_RESOLVED));
	for (k = 0; k < n; k++)
		if (al[k].kind == VIGIL_AK_INCIDENT)
			T_CHECK(al[k].incident_id == id);
}

/* What vigild keeps across its restart, through the file's encoding. */
static struct persist_snap *
snapshot(struct fix *f)
{
	struct persist_snap snap, *out;
	char err[256];
	void *buf;
	size_t len;

	T_CHECK(agg_snapshot(&f->a, &snap) == 0);
	T_CHECK(persist_encode(&snap, &buf, &len) == 0);
	persist_free(&snap);
	out = calloc(1, sizeof(*out));
	T_CHECK(out != NULL);
	T_CHECKF(persist_decode(buf, len, out, err, sizeof(err)) == 0, "%s",
	    err);
	free(buf);
	return out;
}

static void
test_incident_restart(void)
{
	static const int ok[2] = { 0, 0 };
	static const int both[2] = { VIGIL_OUT_HTTP_5XX, VIGIL_OUT_HTTP_5XX };
	struct persist_snap *snap;
	struct timespec ts;
	struct fix f, g;
	char err[256];
	uint64_t id;

	/* The aggregator restarts on the same segment, the outage goes on:
	 * not raised again; then both recover: resolved, once. */
	id = incident_open(&f, 5);
	agg_free(&f.a);
	/* The restarted engine rebuilds its windows at the real monotonic
	 * clock: the samples from here on come after it. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if ((uint64_t)ts.tv_sec * S + S > f.t)
		f.t = (uint64_t)ts.tv_sec * S + S;
	fix_start(&f);
	seconds(&f, 20, both, 2);
	incident_count(&f, id, 1, 0);
	T_CHECK(incident_find(&f.a.inc, id) != NULL &&
	    incident_find(&f.a.inc, id)->active == 2);
	seconds(&f, 200, ok, 2);
	incident_count(&f, id, 1, 1);
	T_CHECK(incident_find(&f.a.inc, id) == NULL);
	/* A new outage after it is a new incident, numbered past it. */
	seconds(&f, 30, both, 2);
	{
		struct vigil_alert al[256];
		size_t k, n = alerts(&f, al, 256);
		uint64_t nid = 0;

		for (k = 0; k < n; k++)
			if (al[k].kind == VIGIL_AK_INCIDENT)
				nid = al[k].incident_id;
		T_CHECKF(nid > id, "%llu after %llu",
		    (unsigned long long)nid, (unsigned long long)id);
	}
	fix_close(&f);

	/* vigild restarts: a new segment from the snapshot file.  Still
	 * down for a while, then back: resolved, once. */
	id = incident_open(&f, 6);
	snap = snapshot(&f);
	fix_close(&f);
	fix_open(&g, 7);
	segfix_add_slot(&g.seg, 0, "p1", 0);
	segfix_add_slot(&g.seg, 1, "p2", 0);
	T_CHECKF(agg_init(&g.a, &g.seg, &g.c, snap, err, sizeof(err)) == 0,
	    "%s", err);
	seconds(&g, 20, both, 2);
	incident_count(&g, id, 1, 0);
	seconds(&g, 200, ok, 2);
	incident_count(&g, id, 1, 1);
	fix_close(&g);

	/* Restarted without its members (both removed meanwhile): resolved
	 * once the directory is read. */
	id = incident_open(&f, 8);
	snap = snapshot(&f);
	fix_close(&f);
	fix_open(&g, 9);
	segfix_add_slot(&g.seg, 0, "p3", 0);
	T_CHECKF(agg_init(&g.a, &g.seg, &g.c, snap, err, sizeof(err)) == 0,
	    "%s", err);
	seconds(&g, 1, ok, 1);
	incident_count(&g, id, 1, 1);
	fix_close(&g);
}

int
main(void)
{
	T_RUN(test_rule);
	T_RUN(test_groups);
	T_RUN(test_ours);
	T_RUN(test_theirs);
	T_RUN(test_incident_window);
	T_RUN(test_incident_restart);
	return t_done();
}
