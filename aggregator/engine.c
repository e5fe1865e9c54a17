/*
 * engine.c - from samples to the stats blocks, history, alerts and route.
 *
 * agg_tick() is the whole cycle: re-read the directory when its
 * generation moved, read each provider's new samples through a private
 * cursor (vigil_ring_next), feed them to the windows and the judges, move
 * the windows forward with the clock, and write what changed.  Samples
 * are counted once even across a SIGKILL: the cursor is stored in the
 * stats block (reserved[AGG_RSV_CURSOR]) by the same seqlocked write as
 * the counters it produced, and read back at start.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

static void	agg_attach(struct agg *, uint32_t,
		    const struct vigil_provider_info *);
static void	agg_retire(struct agg *, struct agg_prov *);
static void	agg_judge(struct agg *, struct agg_prov *, uint64_t, uint64_t,
		    int);
static void	agg_alerts(struct agg *, struct agg_prov *, uint64_t,
		    uint64_t);
static void	agg_alert(struct agg *, struct agg_prov *,
		    struct alert_event *, int, int, int, double, double);
static void	agg_route(struct agg *, uint64_t);
static void	agg_rebuild(struct agg *, struct agg_prov *, uint64_t);
static void	agg_restore_alerts(struct agg *, struct agg_prov *, int);
static uint32_t	agg_hold(const struct conf *);
static void	agg_counters_in(struct vigil_stats *,
		    const struct persist_counters *);
static double	agg_uptime_total(const struct vigil_stats *);
static uint64_t	agg_usable_at(const struct agg_prov *, uint64_t, uint64_t);
static int	agg_throttled_level(const struct agg *,
		    const struct agg_prov *, uint64_t, double *);
static int	agg_headroom_level(const struct agg *,
		    const struct agg_prov *, uint64_t, double *);
static int	agg_due(const struct agg *, const struct agg_prov *,
		    uint64_t);
static void	agg_tokens(struct vigil_stats *, const struct vigil_sample *);
static void	agg_models_read(struct agg *, struct agg_prov *);
static void	agg_models_flush(struct agg *, struct agg_prov *, uint64_t);
static void	agg_vantage(struct agg *, uint64_t, uint64_t);
static void	agg_amnesty(struct agg_prov *, uint64_t);
static void	agg_incident(struct agg *, struct agg_prov *, uint64_t,
		    uint64_t);
static void	agg_incident_alert(struct agg *, uint64_t, uint64_t,
		    uint64_t);
static void	agg_src_add(struct agg_prov *, int, uint64_t, int);
static void	agg_src_figures(struct agg_prov *, uint64_t);
static void	agg_client_heard(struct agg_prov *, uint32_t, uint64_t, int);
static void	agg_src_count(struct agg_prov *, int, unsigned, uint64_t);
static uint32_t	agg_failing_clients(const struct agg_prov *, uint64_t);
static int	agg_report_cb(const struct vigil_report_rec *, uint32_t,
		    void *);
static void	agg_reports(struct agg *, uint64_t, uint64_t);

/* FNV-1a of the name, mixed with the slot's creation time. */
uint64_t
agg_ident(const char *name, uint64_t added)
{
	uint64_t h = UINT64_C(1469598103934665603);

	while (*name != '\0') {
		h ^= (unsigned char)*name++;
		h *= UINT64_C(1099511628211);
	}
	return (h ^ added) | 1;
}

/*
 * Set up over a mapped, writable segment.  snap (may be NULL) is a
 * restored snapshot: its alerts go into an empty alert ring now, its
 * counters and history to each provider as it appears.  The engine keeps
 * snap (agg_free frees it).
 */
int
agg_init(struct agg *a, struct segment *seg, const struct conf *c,
    struct persist_snap *snap, char *err, size_t errlen)
{
	const struct vigil_layout *h = &seg->lay;
	struct vigil_cursor cur = { 0, 0 };
	struct vigil_alert al;
	uint64_t maxid = 0;
	size_t i;

	memset(a, 0, sizeof(*a));
	a->rep.fd = -1;		/* no reports segment until one is mapped */
	a->seg = seg;
	a->conf = *c;
	a->cap = h->provider_cap;
	if (seg_client(seg, &a->cl) != VIGIL_OK) {
		snprintf(err, errlen, "segment: %s", a->cl.err);
		return -1;
	}
	a->p = calloc(a->cap, sizeof(*a->p));
	a->cand = calloc(a->cap, sizeof(*a->cand));
	a->vs = calloc(a->cap, sizeof(*a->vs));
	a->route_words = seg_route_words(seg);
	a->route = calloc(a->route_words, sizeof(uint64_t));
	if (a->p == NULL || a->cand == NULL || a->route == NULL ||
	    a->vs == NULL) {
		snprintf(err, errlen, "out of memory for %u providers",
		    a->cap);
		agg_free(a);
		return -1;
	}
	ring_writer_init(&a->alerts, seg_alert_ring(seg), h->alert_cap,
	    h->alert_entry);
	a->ax.ring = &a->alerts;
	a->ax.cooldown_ns = (uint64_t)c->alert_cooldown_ms * 1000000u;
	if (snap != NULL && a->alerts.head == 0)
		for (i = 0; i < snap->nalerts; i++)
			ring_push(&a->alerts, &snap->alerts[i],
			    VIGIL_WORDS(struct vigil_alert));
	/* Alert ids never repeat: past the ring's newest and the snapshot's. */
	while (vigil_read_alerts(&a->cl, &cur, &al, 1) == 1) {
		if (al.id > maxid)
			maxid = al.id;
		/* Incident numbers never repeat while the ring holds one. */
		if (al.incident_id >= a->next_incident)
			a->next_incident = al.incident_id + 1;
		/* Incidents raised and not resolved stay open (their
		 * members rejoin in agg_restore_alerts). */
		incident_restore(&a->inc, &al);
		/* A vantage alert raised before a restart keeps its state:
		 * it is resolved, not raised again. */
		if (al.kind == VIGIL_AK_VANTAGE) {
			a->vt_track.sent = al.level != VIGIL_AL_RESOLVED;
			a->vt_track.level = al.level == VIGIL_AL_RESOLVED ? 0 : 2;
		}
	}
	a->ax.next_id = maxid + 1;
	if (a->next_incident == 0)
		a->next_incident = 1;
	if (snap != NULL && snap->next_alert_id > a->ax.next_id)
		a->ax.next_id = snap->next_alert_id;
	a->restore = snap;
	a->dir_gen = UINT64_MAX;
	a->inc_restoring = 1;
	/* The verdict is this process's: none until a tick says. */
	atomic_store_explicit(&seg->hdr->vantage_state, 0,
	    memory_order_release);
	return 0;
}

void
agg_free(struct agg *a)
{
	uint32_t i;

	if (a->p != NULL)
		for (i = 0; i < a->cap; i++) {
			window_free(&a->p[i].win);
			models_free(&a->p[i].models);
		}
	free(a->p);
	free(a->cand);
	free(a->vs);
	free(a->route);
	reports_close(&a->rep);
	if (a->restore != NULL) {
		persist_free(a->restore);
		free(a->restore);
	}
	memset(a, 0, sizeof(*a));
}

struct agg_prov *
agg_find(struct agg *a, const char *name)
{
	uint32_t i;

	for (i = 0; i < a->cap; i++)
		if (a->p[i].used && strcmp(a->p[i].name, name) == 0)
			return &a->p[i];
	return NULL;
}

static void
agg_counters_in(struct vigil_stats *s, const struct persist_counters *c)
{
	s->samples_total = c->samples_total;
	s->samples_lost = c->samples_lost;
	memcpy(s->checks_total, c->checks_total, sizeof(s->checks_total));
	memcpy(s->lat_bucket, c->lat_bucket, sizeof(s->lat_bucket));
	s->lat_sum_s = c->lat_sum_s;
	s->since_wall_ns = c->since_wall_ns;
	s->alerts_total = c->alerts_total;
	s->last_ok_wall_ns = c->last_ok_wall_ns;
	s->last_error_wall_ns = c->last_error_wall_ns;
	s->last_error_outcome = (uint8_t)c->last_error_outcome;
	memcpy(s->last_error, c->last_error, sizeof(s->last_error));
	s->circuit_opens = (uint32_t)c->circuit_opens;
	s->uptime_total = agg_uptime_total(s);
}

/* ok / answers that count, since start; 0 before the first. */
static double
agg_uptime_total(const struct vigil_stats *s)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < VIGIL_OUT_COUNT; i++)
		if (vigil_outcome_counts((unsigned)i))
			n += s->checks_total[i];
	return n > 0 ? (double)s->checks_total[VIGIL_OUT_OK] / n : 0.0;
}

/*
 * When p is expected back (stats.usable_at_wall_ns): throttled, at the
 * prober's next check after the 429 (the provider's Retry-After or reset,
 * or the prober's backoff: sample.retry_after_ms; else one interval);
 * unhealthy with its circuit open, when the circuit goes half_open and
 * lets a trial request through.  0 (null) otherwise: usable now, or only
 * a human can say.
 */
static uint64_t
agg_usable_at(const struct agg_prov *p, uint64_t now, uint64_t wall)
{
	if (p->st.status == VIGIL_ST_THROTTLED)
		return p->usable_at;
	if (p->st.status == VIGIL_ST_UNHEALTHY &&
	    p->cb.state == VIGIL_CB_OPEN && p->cb.until_ns > now)
		return wall + (p->cb.until_ns - now);
	return 0;
}

/* Throttled for throttled_warning or longer: 1, with the seconds. */
static int
agg_throttled_level(const struct agg *a, const struct agg_prov *p,
    uint64_t wall, double *secs)
{
	uint64_t since = p->s.reason_since_wall_ns;

	*secs = 0.0;
	if (p->st.status != VIGIL_ST_THROTTLED || since == 0 || wall < since)
		return 0;
	*secs = (wall - since) / 1e9;
	return a->conf.throttled_warning_ms > 0 && wall - since >=
	    (uint64_t)a->conf.throttled_warning_ms * 1000000u;
}

/*
 * Rate-limit headroom: 1 when a resource's remaining / limit, from the
 * newest answer that reported it and before its reset, is under
 * ratelimit_warning; *frac is the lowest such fraction (1 if none).
 */
static int
agg_headroom_level(const struct agg *a, const struct agg_prov *p,
    uint64_t wall, double *frac)
{
	const struct vigil_ratelimit *r;
	double f;
	int k;

	*frac = 1.0;
	for (k = 0; k < VIGIL_RL_COUNT; k++) {
		r = &p->s.ratelimit[k];
		if (r->limit == 0 || (r->reset_wall_ns != 0 &&
		    wall >= r->reset_wall_ns))
			continue;
		f = (double)r->remaining / r->limit;
		if (f < *frac)
			*frac = f;
	}
	return *frac * 100.0 < (double)a->conf.ratelimit_warning;
}

/*
 * Does p's judgement change with the wall clock alone?  A throttled
 * provider reaching usable_at or throttled_warning, a rate-limit reset
 * passing under a ratelimit_low warning.  Checked every tick, so that
 * usable turns true within a tick of usable_at.
 */
static int
agg_due(const struct agg *a, const struct agg_prov *p, uint64_t wall)
{
	double v;

	if (p->paused)
		return 0;
	if (p->st.status == VIGIL_ST_THROTTLED && !p->st.usable &&
	    p->usable_at != 0 && wall >= p->usable_at)
		return 1;
	if (!a->conf.monitoring_enabled)
		return 0;
	return agg_throttled_level(a, p, wall, &v) !=
	    p->at[VIGIL_AK_THROTTLED].level ||
	    agg_headroom_level(a, p, wall, &v) !=
	    p->at[VIGIL_AK_RATELIMIT_LOW].level;
}

/*
 * Samples a provider restored from a snapshot must show before its
 * alerts active at the snapshot may resolve (or change level): enough
 * for a trusted error rate, down_after and circuit_failures (counted in
 * windowed samples only: a confirmation's extra requests are not), so
 * that a provider still down keeps its alerts, neither resolved nor
 * raised again.
 */
static uint32_t
agg_hold(const struct conf *c)
{
	uint32_t n = c->min_samples;

	if (c->down_after > n)
		n = c->down_after;
	if (c->circuit_failures > n)
		n = c->circuit_failures;
	return n > 0 ? n : 1;
}

/*
 * Windows after a restart: samples still in the ring from the last 15
 * minutes that an earlier aggregator already counted go back into the
 * windows (not into the counters).
 */
static void
agg_rebuild(struct agg *a, struct agg_prov *p, uint64_t now)
{
	struct vigil_cursor c = { 0, 0 };
	struct vigil_sample smp;
	uint64_t end = p->cur.next;

	if (end == 0)
		return;
	c.next = end > a->seg->lay.sample_cap ? end -
	    a->seg->lay.sample_cap : 0;
	/* window_add drops what is older than 15 minutes before the
	 * newest; window_advance then expires by the clock. */
	while (c.next < end && vigil_read_samples(&a->cl, p->idx, &c, &smp,
	    1) == 1) {
		if (smp.model != 0) {
			if (!(smp.flags & VIGIL_SF_CATALOGUE) &&
			    smp.model <= p->models.count &&
			    p->models.m[smp.model - 1].used)
				window_add_lat(&p->models.m[smp.model - 1].win,
				    &smp, smp.ttfb_us != 0 ? smp.ttfb_us :
				    WINDOW_NO_LAT);
		} else if ((smp.flags & VIGIL_SF_CONFIRM) == 0)
			window_add(&p->win, &smp);
	}
	window_advance(&p->win, now);
}

/*
 * The alert trackers of p from the alert ring: a kind whose newest alert
 * is a raise is still active, so it is neither raised again nor left
 * without its resolved.  same_boot: the ring's monotonic times are ours,
 * and the cool-down carries on from them.  O(alert_cap).
 */
static void
agg_restore_alerts(struct agg *a, struct agg_prov *p, int same_boot)
{
	struct vigil_cursor c = { 0, 0 };
	struct vigil_alert al;
	uint64_t inc[VIGIL_AK_COUNT];
	int k;

	memset(inc, 0, sizeof(inc));
	while (vigil_read_alerts(&a->cl, &c, &al, 1) == 1) {
		struct alert_track *tr;

		if (al.kind >= VIGIL_AK_COUNT || strncmp(al.provider, p->name,
		    VIGIL_NAME_MAX) != 0)
			continue;
		tr = &p->at[al.kind];
		if (al.level == VIGIL_AL_RESOLVED) {
			tr->level = 0;
			tr->sent = 0;
			inc[al.kind] = 0;
			continue;
		}
		k = al.level == VIGIL_AL_CRITICAL ? 2 : 1;
		tr->level = (uint8_t)k;
		tr->sent = 1;
		inc[al.kind] = al.incident_id;
		if (same_boot)
			tr->last_raise_ns[k - 1] = al.mono_ns;
	}
	/* An outage alert still active in an incident restored at start:
	 * p is in that episode still, and its recovery resolves it. */
	for (k = 0; k < VIGIL_AK_COUNT && p->incident == 0; k++)
		if (p->at[k].sent && inc[k] != 0 &&
		    incident_rejoin(&a->inc, inc[k]))
			p->incident = inc[k];
}

/*
 * Once the whole directory is read after start: restored incident
 * groups take no more members, and one that no provider rejoined (its
 * members are gone, or well since) is resolved now.  O(groups).
 */
static void
agg_incidents_restored(struct agg *a, uint64_t now, uint64_t wall)
{
	struct incident_group *g;
	int i;

	a->inc_restoring = 0;
	for (i = 0; i < INCIDENT_GROUPS; i++) {
		g = &a->inc.g[i];
		if (g->id == 0 || !g->restored)
			continue;
		g->restored = 0;
		if (g->active == 0)
			agg_incident_alert(a, g->id, now, wall);
	}
}

/*
 * A provider appeared in slot idx.  If the stats block already belongs
 * to it (same identity: an aggregator restart), its counters, circuit
 * and cursor carry on; else it starts fresh, with the counters and
 * history of the restored snapshot under its name, if any.
 */
static void
agg_attach(struct agg *a, uint32_t idx, const struct vigil_provider_info *in)
{
	const struct vigil_layout *h = &a->seg->lay;
	struct agg_prov *p = &a->p[idx];
	const struct persist_prov *pp;
	struct vigil_cursor hc = { 0, 0 };
	struct vigil_history hr;
	struct vigil_stats old;
	uint64_t now = now_mono_ns();
	size_t i;
	int k;

	memset(p, 0, sizeof(*p));
	memset(&old, 0, sizeof(old));
	p->used = 1;
	p->idx = idx;
	memcpy(p->name, in->name, sizeof(p->name));
	p->ident = agg_ident(in->name, in->added_wall_ns);
	p->paused = (in->flags & VIGIL_PF_PAUSED) != 0;
	p->last_outcome = -1;
	p->last_failure = -1;
	p->interval_ms = in->interval_ms;
	p->timeout_ms = in->timeout_ms;
	p->canary = (in->flags & VIGIL_PF_CANARY) != 0;
	window_init(&p->win);
	circuit_init(&p->cb);
	agg_models_read(a, p);
	ring_writer_init(&p->hist, seg_history_ring(a->seg, idx),
	    h->history_cap, h->history_entry);

	if (vigil_provider_stats(&a->cl, idx, &old) == VIGIL_OK &&
	    old.updated_wall_ns != 0 && old.reserved[AGG_RSV_ID] == p->ident) {
		p->s = old;
		p->cur.next = old.reserved[AGG_RSV_CURSOR];
		p->cb.state = old.circuit;
		p->cb.opens = old.circuit_opens;
		p->cb.streak = (uint32_t)old.reserved[AGG_RSV_STREAK];
		p->cb.failures = old.consecutive_failures;
		p->cb.since_ns = now;
		if (p->cb.state == VIGIL_CB_OPEN)	/* a fresh cool-down */
			p->cb.until_ns = now + circuit_cooldown_ns(
			    p->cb.streak ? p->cb.streak : 1, &a->conf);
		p->st.status = old.status;
		p->st.reason = old.reason;
		p->st.usable = old.usable;
		p->tr.trend = old.trend;
		if (old.samples_total > 0)
			p->last_outcome = old.last.outcome < VIGIL_OUT_COUNT ?
			    old.last.outcome : VIGIL_OUT_OTHER;
		if (old.consecutive_failures > 0)
			p->last_failure = old.last_error_outcome;
		p->usable_at = old.usable_at_wall_ns;
		/* Conditions already alerted stay active: no repeat. */
		agg_restore_alerts(a, p, 1);
		agg_rebuild(a, p, now);
	} else {
		memset(&p->s, 0, sizeof(p->s));
		p->s.route_rank = UINT32_MAX;
		if (a->restore != NULL &&
		    (pp = persist_find(a->restore, in->name)) != NULL) {
			agg_counters_in(&p->s, &pp->c);
			p->cb.opens = p->s.circuit_opens;
			if (p->hist.head == 0)
				for (i = 0; i < pp->nhist; i++)
					ring_push(&p->hist, &pp->hist[i],
					    VIGIL_WORDS(struct vigil_history));
			/* Alerts active at the snapshot get their resolved
			 * once the provider is well again: judged on fresh
			 * samples, not on windows and a failure count that
			 * are empty only because we just started. */
			agg_restore_alerts(a, p, 0);
			for (k = 0; k < VIGIL_AK_COUNT; k++)
				if (p->at[k].sent)
					p->hold = agg_hold(&a->conf);
		}
	}
	/* The newest history record: those up to it are not pushed again. */
	if (p->hist.head > 0) {
		hc.next = p->hist.head - 1;
		if (vigil_read_history(&a->cl, idx, &hc, &hr, 1) == 1)
			p->hist_last_mono = hr.mono_ns;
	}
	for (k = 0; k < VIGIL_NWINDOWS; k++)
		window_get(&p->win, k, &p->s.win[k]);
	p->dirty = 1;
}

static void
agg_retire(struct agg *a, struct agg_prov *p)
{
	if (p->incident != 0) {
		incident_leave(&a->inc, p->incident);
		agg_incident_alert(a, p->incident, now_mono_ns(),
		    now_wall_ns());
	}
	window_free(&p->win);
	models_free(&p->models);
	memset(p, 0, sizeof(*p));
}

/* Follow the provider's model block (vigild's); judge again on a change. */
static void
agg_models_read(struct agg *a, struct agg_prov *p)
{
	struct vigil_models vm;

	if (vigil_models(&a->cl, p->idx, &vm) != VIGIL_OK)
		return;
	if (p->models.m != NULL && vm.head.generation ==
	    p->models.generation && vm.head.count == p->models.count)
		return;
	if (models_sync(&p->models, &vm, a->seg->lay.model_cap) != 0)
		p->dirty = 1;
}

/*
 * Re-read the directory when its generation moved (or force): attach
 * new providers, retire gone ones, follow pause flags.  O(slots).
 */
void
agg_sync_dir(struct agg *a, uint64_t now, int force)
{
	struct vigil_provider_info in;
	uint64_t gen = vigil_dir_gen(&a->cl);
	uint32_t i;
	int rc;

	if (!force && gen == a->dir_gen)
		return;
	a->dir_gen = gen;
	a->dir_read_ns = now;
	for (i = 0; i < a->cap; i++) {
		struct agg_prov *p = &a->p[i];

		rc = vigil_provider_info(&a->cl, i, &in);
		if (rc == VIGIL_EBUSY) {
			a->dir_gen = UINT64_MAX;	/* try again */
			continue;
		}
		if (rc != VIGIL_OK) {
			if (p->used)
				agg_retire(a, p);
			continue;
		}
		if (p->used && p->ident != agg_ident(in.name,
		    in.added_wall_ns))
			agg_retire(a, p);
		if (!p->used)
			agg_attach(a, i, &in);
		p->interval_ms = in.interval_ms;
		p->timeout_ms = in.timeout_ms;
		agg_models_read(a, p);
		if (p->paused != ((in.flags & VIGIL_PF_PAUSED) != 0)) {
			p->paused = (in.flags & VIGIL_PF_PAUSED) != 0;
			p->dirty = 1;
		}
	}
}

/*
 * Our network failed (vantage.c said ours) and no longer does: what the
 * provider's windows, failures in a row and circuit hold since is ours,
 * not the provider's, and judged on it the provider would raise the
 * outage alerts that were held (an error rate of 100%, an open circuit)
 * the moment it answers again.  They start afresh; the counters keep
 * every sample.
 */
static void
agg_amnesty(struct agg_prov *p, uint64_t now)
{
	window_free(&p->win);
	window_init(&p->win);
	window_advance(&p->win, now);
	circuit_init(&p->cb);
	p->s.consecutive_failures = 0;
	p->last_failure = -1;
	p->st.er_level = 0;
	p->st.lat_level = 0;
}

/*
 * Judge a provider again: windows to the stats copy, status, trend,
 * alerts.  now and wall: the instant judged, on both clocks (the
 * sample's, or the tick's); alerts are stamped with it.  from_sample:
 * the circuit saw a sample just now.
 */
static void
agg_judge(struct agg *a, struct agg_prov *p, uint64_t now, uint64_t wall,
    int from_sample)
{
	struct status_input in;
	unsigned worst;
	uint8_t mreason;
	int k;

	(void)from_sample;
	if (p->st.vantage == VANTAGE_OURS && vantage_provider(p->canary ?
	    NULL : &a->vt, p->net_since, wall) != VANTAGE_OURS)
		agg_amnesty(p, now);
	for (k = 0; k < VIGIL_NWINDOWS; k++)
		window_get(&p->win, k, &p->s.win[k]);
	p->s.hedge_after_us = agg_hedge_us(p->s.win[VIGIL_WIN_5M].samples,
	    p->s.win[VIGIL_WIN_5M].p95_ms, a->conf.min_samples);
	memset(&in, 0, sizeof(in));
	in.win = p->s.win;
	in.consecutive_failures = p->s.consecutive_failures;
	in.last_outcome = p->last_outcome;
	in.last_failure = p->last_failure;
	in.paused = p->paused;
	in.circuit = p->cb.state;
	in.usable_at = p->usable_at;
	in.now_wall = wall;
	in.vt = p->canary ? NULL : &a->vt;
	in.net_since = p->net_since;
	models_judge(&p->models, &a->conf, now, wall);
	status_eval(&p->st, &in, &a->conf);
	worst = (unsigned)models_worst(&p->models, &mreason);
	status_models_floor(&p->st, worst, mreason);
	trend_eval(&p->tr, p->s.win, &a->conf, now);
	p->s.status = p->st.status;
	if (p->s.reason != p->st.reason || p->s.reason_since_wall_ns == 0)
		p->s.reason_since_wall_ns = wall;
	p->s.reason = p->st.reason;
	p->s.usable = p->st.usable;
	p->s.needs_human = p->st.needs_human;
	p->s.usable_at_wall_ns = agg_usable_at(p, now, wall);
	p->s.trend = p->tr.trend;
	if (p->s.circuit != p->cb.state) {
		p->s.circuit = p->cb.state;
		p->s.circuit_since_wall_ns = wall;
	}
	p->s.circuit_opens = p->cb.opens;
	p->s.score = circuit_score(p->st.p95_ms, p->st.rate);
	if (a->conf.monitoring_enabled && !p->paused && !p->canary)
		agg_alerts(a, p, now, wall);
	else if (p->paused && p->incident != 0) {
		incident_leave(&a->inc, p->incident);
		agg_incident_alert(a, p->incident, now, wall);
		p->incident = 0;
	}
	p->dirty = 1;
}

/*
 * One kind's level now, to its tracker (alert.c dedups), with its figure
 * (enum alert_fig) and the value and threshold in that figure's units.
 * While restored alerts are held (agg_attach), an active one is left be.
 */
static void
agg_alert(struct agg *a, struct agg_prov *p, struct alert_event *ev,
    int kind, int level, int fig, double value, double threshold)
{
	ev->kind = kind;
	ev->figure = fig;
	ev->value = value;
	ev->threshold = threshold;
	if (p->hold == 0 || !p->at[kind].sent)
		p->s.alerts_total += (uint64_t)alert_update(&a->ax,
		    &p->at[kind], level, ev, NULL);
}

/*
 * Every alert kind's level now.  Value and threshold are in the units of
 * the figure they name (docs/aggregation.md, "Alert figures"): error
 * rates as fractions 0..1 like the JSON and /metrics, p95 in ms, failures
 * in a row as counts; the threshold is the one the level crossed.
 */
static void
agg_alerts(struct agg *a, struct agg_prov *p, uint64_t now, uint64_t wall)
{
	const struct conf *c = &a->conf;
	struct alert_event ev;
	double v, t;
	int lvl;

	agg_incident(a, p, now, wall);
	memset(&ev, 0, sizeof(ev));
	ev.provider = p->name;
	ev.idx = p->idx;
	ev.silenced_until = p->s.silenced_until_wall_ns;
	ev.mono_ns = now;
	ev.wall_ns = wall;
	ev.incident_id = p->incident;

	/*
	 * While the vantage rule holds the provider (vantage.c: our network
	 * fails, or a canary's word is awaited) its outage alerts are left
	 * as they are: neither raised nor resolved.
	 */
	if (p->st.vantage != VANTAGE_NONE)
		goto answers;
	/* Degrading first: it is the earliest warning of the ramp.  Its
	 * figure is the one that made the trend degrading (trend.c). */
	agg_alert(a, p, &ev, VIGIL_AK_DEGRADING, p->tr.trend ==
	    VIGIL_TR_DEGRADING ? 1 : 0, p->tr.fig == TREND_FIG_P95 ?
	    ALERT_FIG_P95_MS : ALERT_FIG_ERROR_RATE, p->tr.value,
	    p->tr.threshold);
	lvl = p->st.er_level;
	agg_alert(a, p, &ev, VIGIL_AK_ERROR_RATE, lvl, ALERT_FIG_ERROR_RATE,
	    p->st.rate, (lvl == 2 ? c->critical_error_rate :
	    c->warning_error_rate) / 100.0);
	lvl = p->st.lat_level;
	agg_alert(a, p, &ev, VIGIL_AK_LATENCY, lvl, ALERT_FIG_P95_MS,
	    p->st.p95_ms, (double)c->latency_warning_ms *
	    (lvl == 2 ? STATUS_LAT_CRIT : 1));
	/*
	 * Down: critical at down_after failures in a row, a warning one
	 * failure before.  Every run of failures passes through the warning
	 * first, so a human hears of it before the critical alert (only
	 * moments before for a hard failure, whose confirmation requests
	 * are made at once; much earlier on a ramp of random errors).
	 */
	/* Answers about us reset the failures in a row (agg_sample). */
	lvl = 0;
	if (c->down_after > 0) {
		if (p->s.consecutive_failures >= c->down_after)
			lvl = 2;
		else if (c->down_after >= 2 &&
		    p->s.consecutive_failures >= c->down_after - 1)
			lvl = 1;
	}
	agg_alert(a, p, &ev, VIGIL_AK_DOWN, lvl, ALERT_FIG_FAILURES,
	    (double)p->s.consecutive_failures, (double)c->down_after);
	circuit_figure(&p->cb, c, &v, &t);
	agg_alert(a, p, &ev, VIGIL_AK_CIRCUIT_OPEN, p->cb.state !=
	    VIGIL_CB_CLOSED ? 2 : 0, p->cb.by == CIRCUIT_BY_RATE ?
	    ALERT_FIG_ERROR_RATE : ALERT_FIG_FAILURES, v, t);
answers:
	/* What only a human fixes: critical at the first such answer. */
	agg_alert(a, p, &ev, VIGIL_AK_AUTH, p->st.reason == VIGIL_RS_AUTH ?
	    2 : 0, ALERT_FIG_AUTH, (double)p->run, 1.0);
	agg_alert(a, p, &ev, VIGIL_AK_QUOTA, p->st.reason == VIGIL_RS_QUOTA ?
	    2 : 0, ALERT_FIG_ANSWERS, (double)p->run, 1.0);
	agg_alert(a, p, &ev, VIGIL_AK_MISCONFIGURED, p->st.reason ==
	    VIGIL_RS_CLIENT_ERROR ? 2 : 0, ALERT_FIG_ANSWERS, (double)p->run,
	    1.0);
	/* A model gone (the catalogue, or a 404 for it): how many. */
	lvl = p->st.reason == VIGIL_RS_MODEL_MISSING;
	agg_alert(a, p, &ev, VIGIL_AK_MODEL_MISSING, lvl ? 2 : 0,
	    ALERT_FIG_MODELS, (double)models_missing(&p->models) + (lvl &&
	    p->last_outcome == VIGIL_OUT_MODEL_MISSING ? 1 : 0), 1.0);
	lvl = agg_throttled_level(a, p, wall, &v);
	agg_alert(a, p, &ev, VIGIL_AK_THROTTLED, lvl, ALERT_FIG_THROTTLED_S,
	    v, c->throttled_warning_ms / 1000.0);
	lvl = agg_headroom_level(a, p, wall, &v);
	agg_alert(a, p, &ev, VIGIL_AK_RATELIMIT_LOW, lvl, ALERT_FIG_HEADROOM,
	    v, c->ratelimit_warning / 100.0);
}

/*
 * The incident alert of group id now (incident.c): raised once the group
 * has group_min members, resolved when its last member is healthy; the
 * group is forgotten once none of its members is in an episode.
 */
static void
agg_incident_alert(struct agg *a, uint64_t id, uint64_t now, uint64_t wall)
{
	struct incident_group *g = incident_find(&a->inc, id);
	struct alert_event ev;

	if (g == NULL)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.provider = "*";
	ev.idx = UINT32_MAX;
	ev.kind = VIGIL_AK_INCIDENT;
	ev.figure = ALERT_FIG_PROVIDERS;
	ev.value = (double)g->members;
	ev.threshold = (double)a->conf.group_min;
	ev.mono_ns = now;
	ev.wall_ns = wall;
	ev.incident_id = id;
	(void)alert_update(&a->ax, &g->tr, incident_level(g,
	    a->conf.group_min), &ev, NULL);
	if (g->active == 0)
		incident_free(&a->inc, id);
}

/*
 * p's outage episode (incident.c): it begins when p turns unhealthy
 * (and the vantage rule does not hold it: an outage that is ours is no
 * incident of theirs), and ends when p is healthy again.
 */
static void
agg_incident(struct agg *a, struct agg_prov *p, uint64_t now, uint64_t wall)
{
	uint64_t id = p->incident;

	if (id == 0) {
		if (a->conf.group_min == 0 ||
		    p->st.status != VIGIL_ST_UNHEALTHY ||
		    p->st.vantage != VANTAGE_NONE)
			return;
		p->incident = id = incident_join(&a->inc, wall,
		    (uint64_t)a->conf.group_window_ms * 1000000u,
		    &a->next_incident);
	} else if (p->st.status == VIGIL_ST_HEALTHY && p->hold == 0) {
		/* (Not while restored alerts are held, agg_attach: a fresh
		 * start's first verdicts are not yet a recovery.) */
		incident_leave(&a->inc, id);
		p->incident = 0;
	}
	agg_incident_alert(a, id, now, wall);
}

/*
 * Ours or theirs, once a tick after every new sample is counted
 * (vantage.c): the verdict to the header, the vantage alert, and every
 * provider whose word changed judged again (held alerts go out when a
 * canary answered, or its wait is over).  O(slots).
 */
static void
agg_vantage(struct agg *a, uint64_t now, uint64_t wall)
{
	struct vigil_header *hdr = a->seg->hdr;
	struct alert_event ev;
	uint32_t i;
	size_t n = 0;

	for (i = 0; i < a->cap; i++) {
		struct agg_prov *p = &a->p[i];
		struct vantage_slot *v = &a->vs[n];

		if (!p->used)
			continue;
		v->canary = p->canary;
		v->judged = !p->paused && p->last_outcome >= 0;
		v->net_run = p->net_run;
		v->net_since = p->net_since;
		v->last_ok_wall = p->s.last_ok_wall_ns;
		v->interval_ms = p->interval_ms;
		v->timeout_ms = p->timeout_ms;
		n++;
	}
	if (vantage_eval(&a->vt, a->vs, n, a->conf.vantage_min_share,
	    a->conf.down_after, wall)) {
		atomic_store_explicit(&hdr->vantage_since_wall_ns, wall,
		    memory_order_relaxed);
		atomic_store_explicit(&hdr->vantage_state,
		    (uint64_t)a->vt.ours, memory_order_release);
	}
	if (a->conf.monitoring_enabled) {
		memset(&ev, 0, sizeof(ev));
		ev.provider = "*";
		ev.idx = UINT32_MAX;
		ev.kind = VIGIL_AK_VANTAGE;
		ev.figure = ALERT_FIG_SHARE;
		ev.value = a->vt.share;
		ev.threshold = a->conf.vantage_min_share / 100.0;
		ev.mono_ns = now;
		ev.wall_ns = wall;
		(void)alert_update(&a->ax, &a->vt_track, a->vt.ours ? 2 : 0,
		    &ev, NULL);
	}
	for (i = 0; i < a->cap; i++) {
		struct agg_prov *p = &a->p[i];

		if (p->used && !p->canary && !p->paused &&
		    vantage_provider(&a->vt, p->net_since, wall) !=
		    p->st.vantage)
			agg_judge(a, p, now, wall, 0);
	}
}

/*
 * What the webhook says of incident id: returns 1 once its incident
 * alert is out (formed), else 0; the names of its members still in their
 * episode, comma-separated, into buf (whole names only: a long list is
 * cut, the API lists every one).  O(slots).
 */
int
agg_incident_info(struct agg *a, uint64_t id, char *buf, size_t len)
{
	struct incident_group *g = incident_find(&a->inc, id);
	size_t used = 0, n;
	uint32_t i;

	if (len > 0)
		buf[0] = '\0';
	for (i = 0; i < a->cap && id != 0; i++) {
		const struct agg_prov *p = &a->p[i];

		if (!p->used || p->incident != id)
			continue;
		n = strlen(p->name);
		if (used + n + 2 > len)
			break;
		if (used > 0)
			buf[used++] = ',';
		memcpy(buf + used, p->name, n + 1);
		used += n;
	}
	return g != NULL && g->tr.sent;
}

/* Generation checks' tokens in the UTC day of the sample (gen_budget). */
static void
agg_tokens(struct vigil_stats *s, const struct vigil_sample *smp)
{
	uint64_t day = smp->wall_ns / (UINT64_C(86400) * 1000000000u);

	if (smp->tokens_in == 0 && smp->tokens_out == 0)
		return;
	if (s->probe_tokens_day != day) {
		s->probe_tokens_day = day;
		s->probe_tokens_today = 0;
	}
	s->probe_tokens_today += (uint64_t)smp->tokens_in + smp->tokens_out;
}

/*
 * The rate-limit headroom the sample's answer reported, resource by
 * resource: a resource it did not report keeps the last value seen.
 */
static void
agg_ratelimit(struct vigil_stats *s, const struct vigil_sample *smp)
{
	const struct vigil_rl_sample *r;
	int k;

	for (k = 0; k < VIGIL_RL_COUNT; k++) {
		r = &smp->rl[k];
		if (r->limit == 0)
			continue;
		s->ratelimit[k].limit = r->limit;
		s->ratelimit[k].remaining = r->remaining < r->limit ?
		    r->remaining : r->limit;
		s->ratelimit[k].reset_wall_ns = r->reset_ms == 0 ? 0 :
		    smp->wall_ns + (uint64_t)r->reset_ms * 1000000u;
	}
}

/* One sample of source src with outcome out at mono: stats.source[]. */
static void
agg_src_count(struct agg_prov *p, int src, unsigned out, uint64_t mono)
{
	int err = out != VIGIL_OUT_OK && vigil_outcome_counts(out);

	p->s.source[src].samples_total++;
	if (err)
		p->s.source[src].errors_total++;
	p->s.source[src].last_mono_ns = mono;
	agg_src_add(p, src, mono / 1000000000u, err);
	p->dirty = 1;
}

/* Reporter slots whose traffic about p failed within the last minute. */
static uint32_t
agg_failing_clients(const struct agg_prov *p, uint64_t now)
{
	uint32_t n = 0;
	unsigned b;

	for (b = 0; b < AGG_CLIENTS; b++)
		if (p->clients[b].failed_ns != 0 &&
		    now - p->clients[b].failed_ns < UINT64_C(60) * 1000000000u)
			n++;
	return n;
}

/* Count one sample of source src at second sec in p's last minute. */
static void
agg_src_add(struct agg_prov *p, int src, uint64_t sec, int err)
{
	struct agg_src_win *w = &p->src[src];
	unsigned b = (unsigned)(sec % AGG_SRC_SECS);

	if (w->sec[b] != sec) {
		w->sec[b] = sec;
		w->n[b] = 0;
		w->err[b] = 0;
	}
	w->n[b]++;
	if (err)
		w->err[b]++;
}

/*
 * stats.source[] and traffic_clients_1m at monotonic time now: the
 * buckets of the last AGG_SRC_SECS seconds, the slots heard in them.
 * O(sources x 60 + AGG_CLIENTS).  Marks p dirty when a figure moved.
 */
static void
agg_src_figures(struct agg_prov *p, uint64_t now)
{
	uint64_t sec = now / 1000000000u;
	uint32_t n, e, clients = 0;
	int src;
	unsigned b;

	for (src = 0; src < VIGIL_SRC_COUNT; src++) {
		struct agg_src_win *w = &p->src[src];

		n = e = 0;
		for (b = 0; b < AGG_SRC_SECS; b++)
			if (w->sec[b] <= sec &&
			    w->sec[b] + AGG_SRC_SECS > sec) {
				n += w->n[b];
				e += w->err[b];
			}
		if (p->s.source[src].samples_1m != n ||
		    p->s.source[src].errors_1m != e) {
			p->s.source[src].samples_1m = n;
			p->s.source[src].errors_1m = e;
			p->dirty = 1;
		}
	}
	for (b = 0; b < AGG_CLIENTS; b++)
		if (p->clients[b].heard_ns != 0 &&
		    now - p->clients[b].heard_ns < UINT64_C(60) * 1000000000u)
			clients++;
	if (p->s.traffic_clients_1m != clients) {
		p->s.traffic_clients_1m = clients;
		p->dirty = 1;
	}
}

/* Note that reporter slot `slot` was heard about p at now (failed: its
 * report failed against p): its own entry, or the one heard from
 * longest ago. */
static void
agg_client_heard(struct agg_prov *p, uint32_t slot, uint64_t now,
    int failed)
{
	unsigned b, old = 0;

	for (b = 0; b < AGG_CLIENTS; b++) {
		if (p->clients[b].heard_ns != 0 && p->clients[b].slot == slot)
			break;
		if (p->clients[b].heard_ns < p->clients[old].heard_ns)
			old = b;
	}
	if (b == AGG_CLIENTS) {
		b = old;
		p->clients[b].failed_ns = 0;
	}
	p->clients[b].slot = slot;
	p->clients[b].heard_ns = now;
	if (failed)
		p->clients[b].failed_ns = now;
}

/*
 * One traffic report, read from the reports segment by reports_drain
 * (which checked what needs no provider): checked against the providers
 * (index in use, model index among its models, or -1), then a sample of
 * source traffic, judged like a probe's.  0, or -1: invalid.
 */
int
agg_report(struct agg *a, const struct vigil_report_rec *rec, uint32_t slot,
    uint64_t now, uint64_t wall)
{
	struct vigil_sample smp;
	struct agg_prov *p;
	int failed;

	if (rec->provider < 0 || (uint32_t)rec->provider >= a->cap)
		return -1;
	p = &a->p[rec->provider];
	if (!p->used)
		return -1;
	if (rec->model != -1 && (rec->model < 0 ||
	    (uint32_t)rec->model >= p->models.count))
		return -1;
	memset(&smp, 0, sizeof(smp));
	smp.wall_ns = wall;
	smp.mono_ns = now;
	smp.latency_us = rec->latency_us;
	smp.ttfb_us = rec->ttft_us;
	smp.http_status = rec->http_status;
	smp.outcome = rec->outcome;
	smp.flags = VIGIL_SF_TRAFFIC |
	    (rec->ttft_us != 0 ? VIGIL_SF_GENERATION : 0);
	smp.tokens_in = rec->tokens_in;
	smp.tokens_out = rec->tokens_out;
	smp.model = rec->model == -1 ? 0 : (uint16_t)(rec->model + 1);
	failed = rec->outcome != VIGIL_OUT_OK &&
	    vigil_outcome_counts(rec->outcome);
	/* A client's malformed request is its own problem: counted as
	 * traffic, it judges nothing (a probe's client_error says our
	 * check is wrong: misconfigured; a router's says nothing about
	 * the provider). */
	if (rec->outcome == VIGIL_OUT_CLIENT_ERROR) {
		agg_client_heard(p, slot, now, 0);
		agg_src_count(p, VIGIL_SRC_TRAFFIC, rec->outcome, now);
		p->s.traffic_last_wall_ns = wall;
		return 0;
	}
	agg_client_heard(p, slot, now, failed);
	p->s.traffic_last_wall_ns = wall;
	/*
	 * traffic_min_clients: one client's failures alone are its word
	 * against the provider's; until a check fails too (the prober
	 * confirms at once) or enough clients fail, they are counted as
	 * traffic but judge nothing.
	 */
	if (failed && !p->probe_failing &&
	    agg_failing_clients(p, now) < a->conf.traffic_min_clients) {
		agg_src_count(p, VIGIL_SRC_TRAFFIC, rec->outcome, now);
		p->traffic_held++;
		return 0;
	}
	return agg_sample(a, p, &smp, now);
}

struct agg_rep_arg {
	struct agg *a;
	uint64_t now;
	uint64_t wall;
};

static int
agg_report_cb(const struct vigil_report_rec *rec, uint32_t slot, void *arg)
{
	struct agg_rep_arg *ra = arg;

	return agg_report(ra->a, rec, slot, ra->now, ra->wall);
}

/*
 * The reports segment, once a tick: every slot's new records (bounded
 * work each), dead clients' slots freed once a second, and the totals
 * into the header's reports line for /metrics.
 */
static void
agg_reports(struct agg *a, uint64_t now, uint64_t wall)
{
	struct agg_rep_arg ra = { a, now, wall };
	struct reports_totals t;
	struct vigil_header *h = a->seg->hdr;

	if (a->rep.base == NULL)
		return;
	(void)reports_drain(&a->rep, now, a->conf.report_rate_max,
	    agg_report_cb, &ra);
	if (now - a->rep_reclaim_ns >= UINT64_C(1000000000)) {
		(void)reports_reclaim(&a->rep);
		a->rep_reclaim_ns = now;
	}
	reports_totals(&a->rep, &t);
	atomic_store_explicit(&h->reports_accepted, t.accepted,
	    memory_order_relaxed);
	atomic_store_explicit(&h->reports_invalid, t.invalid,
	    memory_order_relaxed);
	atomic_store_explicit(&h->reports_rate_dropped, t.rate_dropped,
	    memory_order_relaxed);
	atomic_store_explicit(&h->reports_lost, t.lost + t.skipped,
	    memory_order_relaxed);
	atomic_store_explicit(&h->reports_full, t.full, memory_order_relaxed);
	atomic_store_explicit(&h->reports_slots, t.slots,
	    memory_order_relaxed);
}

/*
 * Count and judge one sample of provider p (read from its ring, or given
 * by a test).  Counters, windows, circuit, status, trend, alerts, one
 * history record.  O(1) but for window_get's O(buckets) percentiles.
 */
int
agg_sample(struct agg *a, struct agg_prov *p, const struct vigil_sample *smp,
    uint64_t now)
{
	struct vigil_stats *s = &p->s;
	struct vigil_history hr;
	unsigned out = smp->outcome < VIGIL_OUT_COUNT ? smp->outcome :
	    VIGIL_OUT_OTHER;
	int ok = out == VIGIL_OUT_OK, counts = vigil_outcome_counts(out), w;
	/*
	 * A confirmation's extra requests count (counters, failures in a
	 * row, circuit, history) but stay out of the windows and the
	 * latency histogram: they come in bursts after failures, which
	 * would weigh the rates towards failing times, and each opened a
	 * new connection, which a check's latency does not include.
	 */
	int windowed = (smp->flags & VIGIL_SF_CONFIRM) == 0;
	int src = (smp->flags & VIGIL_SF_TRAFFIC) ? VIGIL_SRC_TRAFFIC :
	    VIGIL_SRC_PROBE;

	if (!(smp->flags & VIGIL_SF_CATALOGUE))
		agg_src_count(p, src, out, smp->mono_ns);
	if (src == VIGIL_SRC_PROBE && smp->model == 0 &&
	    !(smp->flags & VIGIL_SF_CATALOGUE))
		p->probe_failing = !ok && counts;
	/* Generation checks' tokens are the probes' bill, not traffic's. */
	if (src == VIGIL_SRC_PROBE)
		agg_tokens(s, smp);
	/* A model's samples are the model's (models.c): the provider's
	 * windows, failures in a row and circuit are its own checks'. */
	if (smp->model != 0) {
		if (!(smp->flags & VIGIL_SF_CATALOGUE)) {
			s->samples_total++;
			s->checks_total[out]++;
			a->samples++;
		}
		models_sample(&p->models, smp);
		agg_judge(a, p, smp->mono_ns, smp->wall_ns, 1);
		return 0;
	}
	if (windowed)
		window_add(&p->win, smp);
	s->samples_total++;
	s->checks_total[out]++;
	if (s->since_wall_ns == 0)
		s->since_wall_ns = smp->wall_ns;
	if (ok && windowed) {
		s->lat_bucket[window_prom_bucket(smp->latency_us)]++;
		s->lat_sum_s += smp->latency_us / 1e6;
	}
	if (ok) {
		s->last_ok_wall_ns = smp->wall_ns;
		s->consecutive_failures = 0;
		s->consecutive_successes++;
	} else {
		/*
		 * An answer about us (quota, auth, our request, our share)
		 * is still an answer: the provider is up, so it ends a run
		 * of failures, and starts none.
		 */
		s->last_error_wall_ns = smp->wall_ns;
		s->last_error_outcome = (uint8_t)out;
		memset(s->last_error, 0, sizeof(s->last_error));
		memcpy(s->last_error, smp->error, sizeof(smp->error));
		s->last_error[sizeof(s->last_error) - 1] = '\0';
		if (s->last_error[0] == '\0')
			snprintf(s->last_error, sizeof(s->last_error), "%s",
			    vigil_outcome_name(out));
		s->consecutive_successes = 0;
		if (counts) {
			s->consecutive_failures++;
			p->last_failure = (int)out;
		} else
			s->consecutive_failures = 0;
	}
	s->uptime_total = agg_uptime_total(s);
	s->last = *smp;
	s->last.outcome = (uint8_t)out;
	/* Network failures in a row, for the vantage rule: any answer
	 * (an HTTP status, ok or not) ends the run. */
	if (vantage_network((int)out)) {
		if (p->net_run++ == 0)
			p->net_since = smp->wall_ns;
	} else {
		p->net_run = 0;
		p->net_since = 0;
	}
	p->run = p->last_outcome == (int)out ? p->run + 1 : 1;
	p->last_outcome = (int)out;
	p->usable_at = out != VIGIL_OUT_RATE_LIMITED ? 0 : smp->wall_ns +
	    (uint64_t)(smp->retry_after_ms != 0 ? smp->retry_after_ms :
	    p->interval_ms) * 1000000u;
	agg_ratelimit(s, smp);
	a->samples++;
	/* The hold waits for a trusted error rate: windowed samples. */
	if (p->hold > 0 && !p->paused && windowed)
		p->hold--;

	/* The circuit judges on the window the status trusts. */
	for (w = 0; w < VIGIL_NWINDOWS; w++)
		window_get(&p->win, w, &s->win[w]);
	w = status_window(s->win, a->conf.min_samples);
	if (!p->paused && counts)
		circuit_sample(&p->cb, ok, windowed, w >= 0 ? &s->win[w] :
		    NULL, now, &a->conf);
	/* Alerts carry the sample's times, both clocks of one instant, so
	 * that their wall times are as far apart as the cool-down says. */
	agg_judge(a, p, smp->mono_ns, smp->wall_ns, 1);

	/* History is one record a check: traffic's many would push the
	 * probes' records out of the ring. */
	if (src == VIGIL_SRC_PROBE && smp->mono_ns > p->hist_last_mono) {
		memset(&hr, 0, sizeof(hr));
		hr.wall_ns = smp->wall_ns;
		hr.mono_ns = smp->mono_ns;
		hr.latency_us = smp->latency_us;
		hr.p50_us = (uint32_t)(s->win[VIGIL_WIN_1M].p50_ms * 1000.0);
		hr.p95_us = (uint32_t)(s->win[VIGIL_WIN_1M].p95_ms * 1000.0);
		hr.p99_us = (uint32_t)(s->win[VIGIL_WIN_1M].p99_ms * 1000.0);
		hr.error_ppm = (uint32_t)(s->win[VIGIL_WIN_1M].error_rate *
		    1e6 + 0.5);
		hr.uptime_ppm = (uint32_t)(s->win[VIGIL_WIN_1M].uptime * 1e6 +
		    0.5);
		hr.samples_1m = s->win[VIGIL_WIN_1M].samples;
		hr.http_status = smp->http_status;
		hr.outcome = (uint8_t)out;
		hr.status = s->status;
		hr.circuit = s->circuit;
		hr.trend = s->trend;
		hr.reason = s->reason;
		ring_push(&p->hist, &hr, VIGIL_WORDS(struct vigil_history));
		p->hist_last_mono = smp->mono_ns;
	}
	return 0;
}

/* Rank providers and publish the routing block when the order changed. */
static void
agg_route(struct agg *a, uint64_t wall)
{
	struct vigil_route_head rh;
	uint32_t *idx = (uint32_t *)(void *)((unsigned char *)a->route +
	    sizeof(rh));
	uint32_t i, n = 0, old[VIGIL_MAX_PROVIDERS];
	size_t k, oldn;

	memcpy(&rh, a->route, sizeof(rh));
	oldn = rh.count;
	memcpy(old, idx, oldn * sizeof(uint32_t));
	for (i = 0; i < a->cap; i++) {
		struct agg_prov *p = &a->p[i];

		if (!p->used || p->canary)
			continue;
		a->cand[n].idx = i;
		a->cand[n].circuit = p->cb.state;
		a->cand[n].status = p->st.status;
		a->cand[n].usable = p->st.usable;
		a->cand[n].score = p->s.score;
		n++;
	}
	k = route_order(a->cand, n, idx);
	for (i = 0; i < a->cap; i++)
		if (a->p[i].used)
			a->p[i].s.route_rank = UINT32_MAX;
	for (i = 0; i < k; i++)
		if (a->p[idx[i]].s.route_rank != i) {
			a->p[idx[i]].s.route_rank = i;
			a->p[idx[i]].dirty = 1;
		}
	if (a->route_valid && k == oldn && memcmp(old, idx, k * 4) == 0)
		return;
	memset(&rh, 0, sizeof(rh));
	rh.count = (uint32_t)k;
	rh.computed_wall_ns = wall;
	memcpy(a->route, &rh, sizeof(rh));
	seqlock_write(seg_route(a->seg), a->route, a->route_words);
	a->route_valid = 1;
}

/* The model stats blocks of p that changed. */
static void
agg_models_flush(struct agg *a, struct agg_prov *p, uint64_t wall)
{
	uint32_t m;

	for (m = 0; m < p->models.cap; m++) {
		struct agg_model *md = &p->models.m[m];

		if (!md->dirty)
			continue;
		if (md->used)
			md->s.updated_wall_ns = wall;
		seqlock_write(seg_model_stats(a->seg, p->idx, m), &md->s,
		    VIGIL_WORDS(struct vigil_model_stats));
		md->dirty = 0;
	}
}

/* Write every changed stats block, the routing block and the beat. */
void
agg_flush(struct agg *a, uint64_t now, uint64_t wall)
{
	uint32_t i;

	agg_route(a, wall);
	for (i = 0; i < a->cap; i++) {
		struct agg_prov *p = &a->p[i];

		if (!p->used || !p->dirty)
			continue;
		p->s.updated_wall_ns = wall;
		p->s.updated_mono_ns = now;
		p->s.reserved[AGG_RSV_CURSOR] = p->cur.next;
		p->s.reserved[AGG_RSV_ID] = p->ident;
		p->s.reserved[AGG_RSV_STREAK] = p->cb.streak;
		seqlock_write(seg_stats(a->seg, i), &p->s,
		    VIGIL_WORDS(struct vigil_stats));
		agg_models_flush(a, p, wall);
		p->dirty = 0;
	}
	atomic_store_explicit(&a->seg->hdr->aggregator_beat_ns, now,
	    memory_order_release);
}

/*
 * One cycle at monotonic time now: directory, new samples, the clock's
 * effect on windows and circuits, then agg_flush.  Only providers with
 * new samples or a slice boundary do window work.
 */
void
agg_tick(struct agg *a, uint64_t now, uint64_t wall)
{
	struct vigil_sample smp;
	uint32_t i;

	agg_sync_dir(a, now, now - a->dir_read_ns >= UINT64_C(1000000000));
	if (a->inc_restoring && a->dir_gen != UINT64_MAX)
		agg_incidents_restored(a, now, wall);
	agg_reports(a, now, wall);
	for (i = 0; i < a->cap; i++) {
		struct agg_prov *p = &a->p[i];
		uint64_t lost, cur0;
		int changed = 0;

		if (!p->used)
			continue;
		lost = p->cur.lost;
		while (vigil_read_samples(&a->cl, i, &p->cur, &smp, 1) == 1)
			agg_sample(a, p, &smp, now);
		if (p->cur.lost != lost) {
			p->s.samples_lost += p->cur.lost - lost;
			a->lost += p->cur.lost - lost;
			p->dirty = 1;
		}
		if (p->s.reserved[AGG_RSV_CURSOR] != p->cur.next)
			p->dirty = 1;
		agg_src_figures(p, now);
		cur0 = p->win.cur;
		window_advance(&p->win, now);
		if (p->win.cur != cur0)
			changed = 1;
		if (!p->paused && circuit_tick(&p->cb, now))
			changed = 1;
		if (changed || p->s.status != (p->paused ? VIGIL_ST_PAUSED :
		    p->st.status) || agg_due(a, p, wall))
			agg_judge(a, p, now, wall, 0);
	}
	agg_vantage(a, now, wall);
	agg_flush(a, now, wall);
}

/*
 * Fill snap (zeroed first; persist_free it) with what survives a restart:
 * every provider's counters and history ring, the alert ring and the
 * next alert id.  Providers of the restored snapshot that are not in the
 * directory now are carried over as they were.  Returns 0 or -1 (out of
 * memory).  O(providers x history_cap + alert_cap).
 */
int
agg_snapshot(struct agg *a, struct persist_snap *snap)
{
	const struct vigil_layout *h = &a->seg->lay;
	struct vigil_cursor c;
	size_t n = 0, i, extra = 0;
	uint32_t k;

	memset(snap, 0, sizeof(*snap));
	snap->saved_wall_ns = now_wall_ns();
	snap->next_alert_id = a->ax.next_id;
	if (a->restore != NULL)
		extra = a->restore->nprov;
	snap->prov = calloc(a->cap + extra + 1, sizeof(*snap->prov));
	snap->alerts = calloc(h->alert_cap, sizeof(*snap->alerts));
	if (snap->prov == NULL || snap->alerts == NULL)
		goto fail;
	for (k = 0; k < a->cap; k++) {
		struct agg_prov *p = &a->p[k];
		struct persist_prov *pp = &snap->prov[n];
		const struct vigil_stats *s = &p->s;

		if (!p->used)
			continue;
		memcpy(pp->name, p->name, sizeof(pp->name));
		pp->c.samples_total = s->samples_total;
		pp->c.samples_lost = s->samples_lost;
		memcpy(pp->c.checks_total, s->checks_total,
		    sizeof(pp->c.checks_total));
		memcpy(pp->c.lat_bucket, s->lat_bucket,
		    sizeof(pp->c.lat_bucket));
		pp->c.lat_sum_s = s->lat_sum_s;
		pp->c.since_wall_ns = s->since_wall_ns;
		pp->c.alerts_total = s->alerts_total;
		pp->c.last_ok_wall_ns = s->last_ok_wall_ns;
		pp->c.last_error_wall_ns = s->last_error_wall_ns;
		pp->c.last_error_outcome = s->last_error_outcome;
		memcpy(pp->c.last_error, s->last_error,
		    sizeof(pp->c.last_error));
		pp->c.last_error[sizeof(pp->c.last_error) - 1] = '\0';
		pp->c.circuit_opens = s->circuit_opens;
		pp->hist = calloc(h->history_cap, sizeof(*pp->hist));
		n++;
		snap->nprov = n;
		if (pp->hist == NULL)
			goto fail;
		c.next = 0;
		c.lost = 0;
		pp->nhist = vigil_read_history(&a->cl, k, &c, pp->hist,
		    h->history_cap);
	}
	for (i = 0; i < extra; i++) {
		const struct persist_prov *rp = &a->restore->prov[i];
		struct persist_prov *pp = &snap->prov[n];

		if (agg_find(a, rp->name) != NULL)
			continue;
		*pp = *rp;
		pp->hist = NULL;
		n++;
		snap->nprov = n;
		if (rp->nhist > 0) {
			pp->hist = malloc(rp->nhist * sizeof(*pp->hist));
			if (pp->hist == NULL) {
				pp->nhist = 0;
				goto fail;
			}
			memcpy(pp->hist, rp->hist, rp->nhist *
			    sizeof(*pp->hist));
		}
	}
	c.next = 0;
	c.lost = 0;
	snap->nalerts = vigil_read_alerts(&a->cl, &c, snap->alerts,
	    h->alert_cap);
	return 0;
fail:
	persist_free(snap);
	return -1;
}
