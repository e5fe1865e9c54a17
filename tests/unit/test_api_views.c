/*
 * test_api_views.c - what a router reads in vigil-api's JSON, CSV and DOT
 * views (api/views.c) over a real segment.
 *
 * A segment is created under a unique shm name and filled as the
 * supervisor and the aggregator would: a throttled provider with a
 * usable_at and rate-limit headroom, an exhausted one that needs a
 * human, a healthy one.  Checked: usable through the read model (a
 * throttled provider turns usable at usable_at), reason and null,
 * usable_at with milliseconds and usable_in_s, ratelimit per resource
 * reported and {} when none, a sample's retry wait, the history's reason
 * (JSON and CSV) and its buckets counting only the outcomes that count,
 * the DOT colours of the new statuses, an alert's needs_human, and the
 * size of a change event's state at its worst.
 */
#include <sys/mman.h>

#include <stdlib.h>

#include <cjson/cJSON.h>
#include <event2/buffer.h>

#include "t.h"
#include "../../api/api.h"
#include "ring.h"
#include "segment.h"

#define SEC	1000000000ull

struct fix {
	char name[64];
	struct segment seg;
	struct api_ctx ctx;
	struct ring_writer hist[4], alerts;
	uint64_t now;
};

static void	fix_open(struct fix *, int);
static void	fix_close(struct fix *);
static void	put_provider(struct fix *, uint32_t, const char *, unsigned);
static void	put_stats(struct fix *, uint32_t, const struct vigil_stats *);
static void	put_history(struct fix *, uint32_t, uint64_t, unsigned,
		    unsigned, unsigned);
static char	*body(struct evbuffer *);
static cJSON	*view(struct fix *, const char *, const char *,
		    struct api_result *);
static char	*view_text(struct fix *, const char *, const char *,
		    struct api_result *);
static cJSON	*provider_of(cJSON *, const char *);

static void
fix_open(struct fix *f, int n)
{
	struct seg_caps caps = { 4, 64, 64, 64, 0 };
	struct vigil_stats st;
	char err[256];
	uint32_t i;

	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "/vigil-test-api-views-%d-%d",
	    (int)getpid(), n);
	T_CHECKF(seg_create(&f->seg, f->name, &caps, 0600, err,
	    sizeof(err)) == 0, "%s", err);
	T_CHECKF(vigil_open(&f->ctx.vc, f->name) == VIGIL_OK, "%s",
	    f->ctx.vc.err);
	f->ctx.snap = calloc(vigil_capacity(&f->ctx.vc), sizeof(*f->ctx.snap));
	f->ctx.hist = calloc(f->ctx.vc.lay.history_cap, sizeof(*f->ctx.hist));
	f->ctx.alerts = calloc(f->ctx.vc.lay.alert_cap,
	    sizeof(*f->ctx.alerts));
	f->ctx.samples = calloc(f->ctx.vc.lay.sample_cap,
	    sizeof(*f->ctx.samples));
	T_CHECK(f->ctx.snap != NULL && f->ctx.hist != NULL &&
	    f->ctx.alerts != NULL && f->ctx.samples != NULL);
	for (i = 0; i < 4; i++)
		ring_writer_init(&f->hist[i], seg_history_ring(&f->seg, i),
		    f->seg.hdr->history_cap, f->seg.hdr->history_entry);
	ring_writer_init(&f->alerts, seg_alert_ring(&f->seg),
	    f->seg.hdr->alert_cap, f->seg.hdr->alert_entry);
	atomic_store(&f->seg.hdr->aggregator_beat_ns, now_mono_ns());
	f->now = now_wall_ns();

	/* "thr": throttled for a minute, requests spent, tokens left. */
	put_provider(f, 0, "thr", VIGIL_KIND_OPENAI);
	memset(&st, 0, sizeof(st));
	st.updated_wall_ns = f->now;
	st.status = VIGIL_ST_THROTTLED;
	st.reason = VIGIL_RS_RATE_LIMITED;
	st.reason_since_wall_ns = 1796305865ull * SEC;
	st.usable_at_wall_ns = f->now + 60 * SEC + 250000000ull;
	st.ratelimit[VIGIL_RL_REQUESTS].limit = 60;
	st.ratelimit[VIGIL_RL_REQUESTS].remaining = 0;
	st.ratelimit[VIGIL_RL_REQUESTS].reset_wall_ns = 1796305865123456789ull;
	st.ratelimit[VIGIL_RL_TOKENS].limit = 30000;
	st.ratelimit[VIGIL_RL_TOKENS].remaining = 29000;
	st.last.wall_ns = f->now;
	st.last.outcome = VIGIL_OUT_RATE_LIMITED;
	st.last.http_status = 429;
	st.last.retry_after_ms = 60250;
	st.last.flags = VIGIL_SF_RETRY_HINT;
	put_stats(f, 0, &st);
	/* "broke": out of credit, a human must act. */
	put_provider(f, 1, "broke", VIGIL_KIND_DEEPSEEK);
	memset(&st, 0, sizeof(st));
	st.updated_wall_ns = f->now;
	st.status = VIGIL_ST_EXHAUSTED;
	st.reason = VIGIL_RS_QUOTA;
	st.needs_human = 1;
	put_stats(f, 1, &st);
	/* "fine": healthy, usable, nothing to say. */
	put_provider(f, 2, "fine", VIGIL_KIND_ANTHROPIC);
	memset(&st, 0, sizeof(st));
	st.updated_wall_ns = f->now;
	st.status = VIGIL_ST_HEALTHY;
	st.usable = 1;
	put_stats(f, 2, &st);
}

static void
fix_close(struct fix *f)
{
	free(f->ctx.snap);
	free(f->ctx.hist);
	free(f->ctx.alerts);
	free(f->ctx.samples);
	vigil_close(&f->ctx.vc);
	seg_close(&f->seg);
	shm_unlink(f->name);
}

/* What the supervisor does: fill a directory slot, bump the gen. */
static void
put_provider(struct fix *f, uint32_t idx, const char *name, unsigned kind)
{
	struct vigil_provider_info pi;

	memset(&pi, 0, sizeof(pi));
	snprintf(pi.name, sizeof(pi.name), "%s", name);
	snprintf(pi.host, sizeof(pi.host), "%s.example", name);
	pi.interval_ms = 1000;
	pi.timeout_ms = 500;
	pi.kind = (uint8_t)kind;
	pi.flags = VIGIL_PF_IN_USE | VIGIL_PF_ENABLED;
	seqlock_write(seg_dir_slot(&f->seg, idx), &pi,
	    VIGIL_WORDS(struct vigil_provider_info));
	atomic_fetch_add(&f->seg.hdr->dir_gen, 1);
}

static void
put_stats(struct fix *f, uint32_t idx, const struct vigil_stats *st)
{
	seqlock_write(seg_stats(&f->seg, idx), st,
	    VIGIL_WORDS(struct vigil_stats));
}

static void
put_history(struct fix *f, uint32_t idx, uint64_t wall, unsigned outcome,
    unsigned status, unsigned reason)
{
	struct vigil_history h;

	memset(&h, 0, sizeof(h));
	h.wall_ns = wall;
	h.latency_us = 100000;
	h.outcome = (uint8_t)outcome;
	h.status = (uint8_t)status;
	h.reason = (uint8_t)reason;
	ring_push(&f->hist[idx], &h, VIGIL_WORDS(struct vigil_history));
}

/* An evbuffer's content, NUL-terminated (caller frees); frees eb. */
static char *
body(struct evbuffer *eb)
{
	size_t len = evbuffer_get_length(eb);
	char *s;

	if ((s = malloc(len + 1)) == NULL)
		abort();
	evbuffer_remove(eb, s, len);
	s[len] = '\0';
	evbuffer_free(eb);
	return s;
}

/* A view's text: "integration", "provider" (arg: the name), "history",
 * "alerts" or "graph", with query string qs. */
static char *
view_text(struct fix *f, const char *which, const char *qs,
    struct api_result *r)
{
	struct evbuffer *eb = evbuffer_new();
	struct api_query q;
	char bad[64];

	memset(r, 0, sizeof(*r));
	memset(&q, 0, sizeof(q));
	if (strncmp(which, "provider/", 9) != 0 && qs != NULL)
		T_CHECK(api_query_parse(qs, &q, bad, sizeof(bad)) == 0);
	if (strcmp(which, "integration") == 0)
		api_view_integration(&f->ctx, &q, eb, r);
	else if (strncmp(which, "provider/", 9) == 0) {
		if (qs != NULL)
			T_CHECK(api_query_parse(qs, &q, bad, sizeof(bad)) == 0);
		api_view_provider(&f->ctx, which + 9, &q, eb, r);
	} else if (strcmp(which, "history") == 0)
		api_view_history(&f->ctx, &q, eb, r);
	else if (strcmp(which, "alerts") == 0)
		api_view_alerts(&f->ctx, &q, eb, r);
	else
		api_view_graph(&f->ctx, &q, eb, r);
	return body(eb);
}

static cJSON *
view(struct fix *f, const char *which, const char *qs, struct api_result *r)
{
	char *s = view_text(f, which, qs, r);
	cJSON *o = cJSON_Parse(s);

	T_CHECKF(o != NULL, "%.200s", s);
	free(s);
	return o;
}

static cJSON *
provider_of(cJSON *doc, const char *name)
{
	cJSON *p;

	cJSON_ArrayForEach(p, cJSON_GetObjectItem(doc, "providers"))
		if (strcmp(cJSON_GetObjectItem(p, "name")->valuestring,
		    name) == 0)
			return p;
	return NULL;
}

static const char *
str_of(cJSON *o, const char *key)
{
	cJSON *v = cJSON_GetObjectItem(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void
test_integration(void)
{
	struct api_result r;
	struct fix f;
	cJSON *doc, *p, *rl, *req;
	double in;

	fix_open(&f, 0);
	doc = view(&f, "integration", NULL, &r);
	T_CHECK(r.code == 200);
	/* Worst of exhausted, throttled, healthy: exhausted. */
	T_CHECK(strcmp(str_of(doc, "status"), "exhausted") == 0);

	p = provider_of(doc, "thr");
	T_CHECK(p != NULL && strcmp(str_of(p, "status"), "throttled") == 0);
	T_CHECK(cJSON_IsFalse(cJSON_GetObjectItem(p, "usable")));
	T_CHECK(strcmp(str_of(p, "reason"), "rate_limited") == 0);
	T_CHECK(strcmp(str_of(p, "reason_since"), "2026-12-03T13:51:05Z") ==
	    0);
	T_CHECK(cJSON_IsFalse(cJSON_GetObjectItem(p, "needs_human")));
	/* Milliseconds: a router waiting for it must not come back early. */
	T_CHECKF(strlen(str_of(p, "usable_at")) == 24 &&
	    str_of(p, "usable_at")[19] == '.' &&
	    str_of(p, "usable_at")[23] == 'Z', "%s", str_of(p, "usable_at"));
	in = cJSON_GetObjectItem(p, "usable_in_s")->valuedouble;
	T_CHECKF(in > 59 && in <= 60.25, "%g", in);
	rl = cJSON_GetObjectItem(p, "ratelimit");
	T_CHECK(cJSON_GetArraySize(rl) == 2);
	req = cJSON_GetObjectItem(rl, "requests");
	T_CHECK(cJSON_GetObjectItem(req, "limit")->valuedouble == 60);
	T_CHECK(cJSON_GetObjectItem(req, "remaining")->valuedouble == 0);
	T_CHECK(strcmp(str_of(req, "reset_at"), "2026-12-03T13:51:05.123Z") ==
	    0);
	T_CHECK(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(rl,
	    "tokens"), "reset_at")));
	T_CHECK(cJSON_GetObjectItem(rl, "input_tokens") == NULL);

	p = provider_of(doc, "broke");
	T_CHECK(cJSON_IsFalse(cJSON_GetObjectItem(p, "usable")));
	T_CHECK(strcmp(str_of(p, "reason"), "quota") == 0);
	T_CHECK(cJSON_IsTrue(cJSON_GetObjectItem(p, "needs_human")));
	T_CHECK(cJSON_IsNull(cJSON_GetObjectItem(p, "usable_at")));
	T_CHECK(cJSON_IsNull(cJSON_GetObjectItem(p, "usable_in_s")));
	T_CHECK(cJSON_IsObject(cJSON_GetObjectItem(p, "ratelimit")) &&
	    cJSON_GetArraySize(cJSON_GetObjectItem(p, "ratelimit")) == 0);

	p = provider_of(doc, "fine");
	T_CHECK(cJSON_IsTrue(cJSON_GetObjectItem(p, "usable")));
	T_CHECK(cJSON_IsNull(cJSON_GetObjectItem(p, "reason")));
	T_CHECK(cJSON_IsNull(cJSON_GetObjectItem(p, "reason_since")));
	cJSON_Delete(doc);
	fix_close(&f);
}

/* usable_at passed before the aggregator said so: usable already, by
 * the read model; and usable_in_s stops at 0. */
static void
test_usable_at_passed(void)
{
	struct vigil_stats st;
	struct api_result r;
	struct fix f;
	cJSON *doc, *p;

	fix_open(&f, 1);
	memset(&st, 0, sizeof(st));
	st.updated_wall_ns = f.now;
	st.status = VIGIL_ST_THROTTLED;
	st.reason = VIGIL_RS_RATE_LIMITED;
	st.usable_at_wall_ns = f.now - SEC;
	put_stats(&f, 0, &st);
	doc = view(&f, "integration", NULL, &r);
	p = provider_of(doc, "thr");
	T_CHECK(cJSON_IsTrue(cJSON_GetObjectItem(p, "usable")));
	T_CHECK(cJSON_GetObjectItem(p, "usable_in_s")->valuedouble == 0);
	cJSON_Delete(doc);
	/* Paused: never usable, whatever the stats say. */
	st.usable = 1;
	st.status = VIGIL_ST_HEALTHY;
	put_stats(&f, 0, &st);
	{
		struct vigil_provider_info pi;

		T_CHECK(vigil_provider_info(&f.ctx.vc, 0, &pi) == VIGIL_OK);
		pi.flags |= VIGIL_PF_PAUSED;
		seqlock_write(seg_dir_slot(&f.seg, 0), &pi,
		    VIGIL_WORDS(struct vigil_provider_info));
	}
	doc = view(&f, "integration", NULL, &r);
	p = provider_of(doc, "thr");
	T_CHECK(strcmp(str_of(p, "status"), "paused") == 0);
	T_CHECK(cJSON_IsFalse(cJSON_GetObjectItem(p, "usable")));
	cJSON_Delete(doc);
	fix_close(&f);
}

static void
test_provider_retry(void)
{
	struct api_result r;
	struct fix f;
	cJSON *doc, *lc;

	fix_open(&f, 2);
	doc = view(&f, "provider/thr", "samples=0", &r);
	T_CHECK(r.code == 200);
	lc = cJSON_GetObjectItem(doc, "last_check");
	T_CHECK(cJSON_GetObjectItem(lc, "retry_after_ms")->valuedouble ==
	    60250);
	T_CHECK(strcmp(str_of(lc, "retry_source"), "provider") == 0);
	T_CHECK(strcmp(str_of(lc, "outcome"), "rate_limited") == 0);
	T_CHECK(cJSON_IsFalse(cJSON_GetObjectItem(doc, "usable")));
	cJSON_Delete(doc);
	fix_close(&f);
}

/*
 * Raw records carry their reason; a bucket's errors and error rate are
 * over the outcomes that count (a 429 is about us), its worst reason is
 * that of its worst status.
 */
static void
test_history(void)
{
	struct api_result r;
	struct fix f;
	cJSON *doc, *pts, *b;
	uint64_t t0 = 1796304000ull * SEC;	/* an hour's start */
	char *csv, qs[128];

	fix_open(&f, 3);
	put_history(&f, 0, t0, VIGIL_OUT_OK, VIGIL_ST_HEALTHY, VIGIL_RS_NONE);
	put_history(&f, 0, t0 + 10 * SEC, VIGIL_OUT_HTTP_5XX,
	    VIGIL_ST_DEGRADED, VIGIL_RS_ERRORS);
	put_history(&f, 0, t0 + 20 * SEC, VIGIL_OUT_RATE_LIMITED,
	    VIGIL_ST_THROTTLED, VIGIL_RS_RATE_LIMITED);
	put_history(&f, 0, t0 + 30 * SEC, VIGIL_OUT_QUOTA,
	    VIGIL_ST_EXHAUSTED, VIGIL_RS_QUOTA);
	snprintf(qs, sizeof(qs), "provider=thr&from=%llu&to=%llu",
	    (unsigned long long)(t0 / SEC), (unsigned long long)(t0 / SEC +
	    3599));
	doc = view(&f, "history", qs, &r);
	T_CHECK(r.code == 200);
	pts = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(doc,
	    "providers"), 0), "points");
	T_CHECK(cJSON_GetArraySize(pts) == 4);
	T_CHECK(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(pts, 0),
	    "reason")));
	T_CHECK(strcmp(str_of(cJSON_GetArrayItem(pts, 2), "reason"),
	    "rate_limited") == 0);
	T_CHECK(strcmp(str_of(cJSON_GetArrayItem(pts, 2), "status"),
	    "throttled") == 0);
	T_CHECK(strcmp(str_of(cJSON_GetArrayItem(pts, 3), "outcome"),
	    "quota") == 0);
	cJSON_Delete(doc);

	snprintf(qs + strlen(qs), sizeof(qs) - strlen(qs), "&step=1h");
	doc = view(&f, "history", qs, &r);
	b = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(
	    cJSON_GetObjectItem(doc, "providers"), 0), "points"), 0);
	T_CHECK(cJSON_GetObjectItem(b, "count")->valuedouble == 4);
	T_CHECK(cJSON_GetObjectItem(b, "errors")->valuedouble == 1);
	T_CHECK(cJSON_GetObjectItem(b, "error_rate")->valuedouble == 0.5);
	T_CHECK(strcmp(str_of(b, "worst_status"), "exhausted") == 0);
	T_CHECK(strcmp(str_of(b, "worst_reason"), "quota") == 0);
	cJSON_Delete(doc);

	snprintf(qs, sizeof(qs), "provider=thr&format=csv&from=%llu&to=%llu",
	    (unsigned long long)(t0 / SEC), (unsigned long long)(t0 / SEC +
	    3599));
	csv = view_text(&f, "history", qs, &r);
	T_CHECK(r.code == 200);
	T_CHECKF(strstr(csv, ",samples_1m,reason\r\n") != NULL, "%.200s", csv);
	T_CHECK(strstr(csv, ",throttled,closed,stable,") != NULL);
	T_CHECK(strstr(csv, ",0,rate_limited\r\n") != NULL);
	T_CHECK(strstr(csv, ",0,\r\n") != NULL);	/* none: empty */
	free(csv);
	fix_close(&f);
}

static void
test_graph_alerts(void)
{
	struct vigil_alert a;
	struct api_result r;
	struct fix f;
	cJSON *doc, *e, *al;
	char *dot;
	int found = 0;

	fix_open(&f, 4);
	dot = view_text(&f, "graph", "format=dot", &r);
	T_CHECK(r.code == 200);
	T_CHECK(strstr(dot, "(null)") == NULL);
	T_CHECK(strstr(dot, "throttled\", fillcolor=gold") != NULL);
	T_CHECK(strstr(dot, "exhausted\", fillcolor=magenta") != NULL);
	free(dot);
	doc = view(&f, "graph", NULL, &r);
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(doc, "edges")) {
		if (strcmp(str_of(e, "to"), "provider:broke") != 0 ||
		    strcmp(str_of(e, "type"), "depends_on") != 0)
			continue;
		found = 1;
		T_CHECK(cJSON_IsFalse(cJSON_GetObjectItem(e, "usable")));
		T_CHECK(strcmp(str_of(e, "reason"), "quota") == 0);
	}
	T_CHECK(found);
	cJSON_Delete(doc);

	memset(&a, 0, sizeof(a));
	a.id = 1;
	a.wall_ns = f.now;
	snprintf(a.provider, sizeof(a.provider), "broke");
	a.kind = VIGIL_AK_QUOTA;
	a.level = VIGIL_AL_CRITICAL;
	ring_push(&f.alerts, &a, VIGIL_WORDS(struct vigil_alert));
	a.id = 2;
	a.level = VIGIL_AL_RESOLVED;
	ring_push(&f.alerts, &a, VIGIL_WORDS(struct vigil_alert));
	a.id = 3;
	a.kind = VIGIL_AK_RATELIMIT_LOW;
	a.level = VIGIL_AL_WARNING;
	ring_push(&f.alerts, &a, VIGIL_WORDS(struct vigil_alert));
	doc = view(&f, "alerts", NULL, &r);
	al = cJSON_GetObjectItem(doc, "alerts");
	T_CHECK(cJSON_GetArraySize(al) == 3);
	T_CHECK(strcmp(str_of(cJSON_GetArrayItem(al, 0), "kind"), "quota") ==
	    0);
	T_CHECK(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(al, 0),
	    "needs_human")));
	T_CHECK(cJSON_IsFalse(cJSON_GetObjectItem(cJSON_GetArrayItem(al, 1),
	    "needs_human")));
	T_CHECK(strcmp(str_of(cJSON_GetArrayItem(al, 2), "kind"),
	    "ratelimit_low") == 0);
	T_CHECK(cJSON_IsFalse(cJSON_GetObjectItem(cJSON_GetArrayItem(al, 2),
	    "needs_human")));
	cJSON_Delete(doc);
	fix_close(&f);
}

/*
 * A change event carries a provider's state (api_provider_json) plus
 * its router fields again and a few words; events.c drops one over 4096
 * bytes.  At its largest (every string at its length and all quotes,
 * every number at its widest, every resource reported) the state must
 * leave room for the rest.
 */
static void
test_state_size(void)
{
	struct vigil_provider p;
	struct evbuffer *eb = evbuffer_new();
	struct fix f;
	unsigned k, j;
	cJSON *o;
	char *s;
	size_t len;

	fix_open(&f, 5);
	memset(&p, 0, sizeof(p));
	memset(p.info.name, '"', sizeof(p.info.name) - 1);
	memset(p.info.host, '"', sizeof(p.info.host) - 1);
	memset(p.stats.last.error, '"', sizeof(p.stats.last.error) - 1);
	memset(p.stats.last_error, '"', sizeof(p.stats.last_error) - 1);
	p.info.flags = VIGIL_PF_IN_USE | VIGIL_PF_ENABLED;
	p.stats.updated_wall_ns = p.stats.last.wall_ns = f.now;
	p.stats.last_error_wall_ns = p.stats.reason_since_wall_ns = f.now;
	p.stats.usable_at_wall_ns = f.now + 3600 * SEC;
	p.stats.status = VIGIL_ST_THROTTLED;
	p.stats.reason = VIGIL_RS_MODEL_MISSING;
	p.stats.last.latency_us = UINT32_MAX;
	p.stats.last.http_status = 599;
	p.stats.route_rank = UINT32_MAX - 1;
	p.stats.score = 1e15;
	p.stats.uptime_total = 0.123456;
	p.stats.circuit_opens = p.stats.consecutive_failures = UINT32_MAX;
	for (j = 0; j < VIGIL_NWINDOWS; j++) {
		p.stats.win[j].samples = UINT32_MAX;
		p.stats.win[j].error_rate = p.stats.win[j].uptime = 0.123456;
		p.stats.win[j].p50_ms = p.stats.win[j].p95_ms = 1e9 + 0.123;
		p.stats.win[j].p99_ms = p.stats.win[j].mean_ms = 1e9 + 0.123;
		p.stats.win[j].max_ms = 1e9 + 0.123;
	}
	for (k = 0; k < VIGIL_RL_COUNT; k++) {
		p.stats.ratelimit[k].limit = UINT32_MAX;
		p.stats.ratelimit[k].remaining = UINT32_MAX;
		p.stats.ratelimit[k].reset_wall_ns = f.now + 3600 * SEC;
	}
	T_CHECK(api_provider_json(&f.ctx, eb, &p, now_mono_ns()) == 0);
	len = evbuffer_get_length(eb);
	s = body(eb);
	T_CHECK((o = cJSON_Parse(s)) != NULL);
	cJSON_Delete(o);
	/* The router's fields (usable..ratelimit) are under 700 bytes of
	 * it: state + them again + 600 bytes of type, ids and names fit in
	 * 4096 when the state is under 2600. */
	T_CHECKF(len < 2600, "%zu bytes", len);
	if (getenv("VIGIL_TEST_VERBOSE") != NULL)
		fprintf(stderr, "# the largest state: %zu bytes\n", len);
	free(s);
	fix_close(&f);
}

int
main(void)
{
	T_RUN(test_integration);
	T_RUN(test_usable_at_passed);
	T_RUN(test_provider_retry);
	T_RUN(test_history);
	T_RUN(test_graph_alerts);
	T_RUN(test_state_size);
	return t_done();
}
