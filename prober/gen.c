/*
 * gen.c - inference health per model: the generation check cycling
 * through the provider's models under the daily token budget, and the
 * models-list check's verdict on each model (docs/internals.md,
 * "Probing choices").
 *
 * The generation check asks one model at a time, in turn, one every
 * gen_interval / N (N models), so that each is asked about once every
 * gen_interval.  Its sample carries the model (m + 1, the segment's
 * model block order), the time to the first content token (stream.c),
 * the usage the stream reported.  Before each check the budget decides
 * (models.c): when the next check would go over gen_budget, generation
 * checks stop until 00:00 UTC.
 *
 * After each models-list check that succeeded, one sample per model the
 * list decides on: flag VIGIL_SF_CATALOGUE, outcome ok (listed) or
 * model_missing (not listed), no request of its own (latency 0, status
 * 0), the check's start time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include <vigil/vigil.h>

#include "check.h"
#include "kinds.h"
#include "log.h"
#include "models.h"
#include "probe.h"
#include "prober.h"
#include "ring.h"
#include "sched.h"
#include "settings.h"

static void	gen_done(struct probe_xfer *, CURLcode, void *);
static int	gen_prepare(struct prober *, uint32_t);
static int	gen_budget_ok(struct prober *);
static int	gen_step_aside(struct prober *, uint32_t);
static uint32_t	gen_spacing_ms(const struct prober *);
static void	gen_last_tokens(struct prober *);

#define GEN_LOOK_BACK	512	/* samples read back at start */

/*
 * The models, gen_body, gen_expect and the generation transfer.  Runs
 * before the check's URL is built (it depends on the models).  Returns
 * 0, or -1 with err filled (a permanent error).
 */
int
gen_setup(struct prober *pr, char *err, size_t errlen)
{
	struct probe_opts o;
	char why[256];
	int n;

	memset(pr->gen_last, -1, sizeof(pr->gen_last));
	memset(pr->was_listed, MODEL_UNKNOWN, sizeof(pr->was_listed));
	budget_init(&pr->budget, pr->cp.gen_budget);
	gen_last_tokens(pr);
	if ((n = settings_models(pr->cp.models, pr->models, VIGIL_MAX_MODELS,
	    why, sizeof(why))) == -1) {
		snprintf(err, errlen, "models: %s", why);
		return -1;
	}
	pr->nmodels = (uint32_t)n;
	/* The segment was sized with its own max_models: a model past its
	 * slots has nowhere to go. */
	if (pr->nmodels > pr->seg.lay.model_cap) {
		log_warnx("%u models, %u slots in the segment: the rest are "
		    "not checked", pr->nmodels, pr->seg.lay.model_cap);
		pr->nmodels = pr->seg.lay.model_cap;
	}
	if (pr->nmodels == 0 && pr->cp.gen_model[0] == '\0')
		return 0;
	if (!kind_gen_supported(pr->cp.kind)) {
		if (pr->cp.gen_model[0] != '\0')
			log_warnx("kind %s has no generation check; gen_model "
			    "ignored", vigil_kind_name((unsigned)pr->cp.kind));
		return 0;
	}
	if (pr->nmodels > 0 && pr->cp.gen_model[0] != '\0')
		log_info("models is set: gen_model %s is not checked unless "
		    "listed there", pr->cp.gen_model);
	if (pr->cp.gen_body[0] != '\0') {
		if ((pr->gen_tmpl = malloc(SETTINGS_GEN_BODY_MAX + 1)) ==
		    NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		if (settings_gen_body_read(pr->cp.gen_body, pr->gen_tmpl,
		    SETTINGS_GEN_BODY_MAX + 1, why, sizeof(why)) == -1) {
			snprintf(err, errlen, "gen_body %s: %s",
			    pr->cp.gen_body, why);
			return -1;
		}
	}
	if (pr->cp.gen_expect[0] != '\0') {
		if (regcomp(&pr->expect, pr->cp.gen_expect, REG_EXTENDED |
		    REG_NOSUB) != 0) {
			snprintf(err, errlen, "gen_expect: not a POSIX "
			    "extended regex");
			return -1;
		}
		pr->expect_on = 1;
	}
	memset(&o, 0, sizeof(o));
	o.url = "http://127.0.0.1/";	/* each check sets its own */
	o.ca_file = pr->cp.ca_file;
	/* Same timeout as the check: one token is quick, and keep-alives
	 * past it are a timeout. */
	o.timeout_ms = pr->cp.timeout_ms;
	o.kind = pr->cp.kind;
	o.gen = 1;
	if ((o.headers = kind_headers(pr->cp.kind, pr->key, 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (probe_xfer_init(&pr->gen, &pr->eng, &o, gen_done, pr, err,
	    errlen) == -1)
		return -1;
	pr->gen.expect = pr->expect_on ? &pr->expect : NULL;
	/* Every model's request must build now, or never. */
	for (n = 0; n < (int)(pr->nmodels > 0 ? pr->nmodels : 1); n++)
		if (gen_prepare(pr, (uint32_t)n) == -1) {
			snprintf(err, errlen, "generation request of %s: too "
			    "long, or gen_body unusable", pr->nmodels > 0 ?
			    pr->models[n] : pr->cp.gen_model);
			return -1;
		}
	pr->gen_on = 1;
	return 0;
}

void
gen_teardown(struct prober *pr)
{
	if (pr->gen.easy != NULL)
		probe_xfer_free(&pr->gen);
	free(pr->gen_tmpl);
	pr->gen_tmpl = NULL;
	if (pr->expect_on)
		regfree(&pr->expect);
	pr->expect_on = 0;
}

/*
 * The estimate of the next check's tokens after a restart: the newest
 * generation sample that reported usage, in our own ring (a prober
 * that starts afresh would otherwise guess 1 and run one check over a
 * budget the segment says is nearly spent).  The newest GEN_LOOK_BACK
 * samples at most.
 */
static void
gen_last_tokens(struct prober *pr)
{
	struct vigil_sample buf[64];
	struct vigil_cursor cur;
	uint64_t tokens;
	size_t n, i;

	vigil_samples_tail(&pr->cli, pr->slot, &cur, GEN_LOOK_BACK);
	while ((n = vigil_read_samples(&pr->cli, pr->slot, &cur, buf,
	    sizeof(buf) / sizeof(buf[0]))) > 0)
		for (i = 0; i < n; i++) {
			tokens = (uint64_t)buf[i].tokens_in + buf[i].tokens_out;
			/* Only the estimate: the day's count is the
			 * segment's (gen_budget_ok). */
			if ((buf[i].flags & VIGIL_SF_GENERATION) && tokens > 0)
				pr->budget.last = tokens > UINT32_MAX ?
				    UINT32_MAX : (uint32_t)tokens;
		}
}

/*
 * Point the generation transfer at model m (of models, or gen_model
 * when there are none).  Returns 0, or -1.
 */
static int
gen_prepare(struct prober *pr, uint32_t m)
{
	const char *model = pr->nmodels > 0 ? pr->models[m] : pr->cp.gen_model;
	char url[KIND_URL_MAX], body[KIND_GENBODY_MAX];

	if (kind_gen_url(pr->cp.kind, pr->cp.base_url, model, url,
	    sizeof(url)) == -1 || kind_gen_body(pr->cp.kind, model,
	    pr->cp.gen_prompt, pr->gen_tmpl, body, sizeof(body)) == -1 ||
	    probe_xfer_set_request(&pr->gen, url, body) == -1)
		return -1;
	pr->gen_model = pr->nmodels > 0 ? (uint16_t)(m + 1) : 0;
	return 0;
}

/* From one generation check to the next: each model every interval. */
static uint32_t
gen_spacing_ms(const struct prober *pr)
{
	uint32_t n = pr->nmodels > 0 ? pr->nmodels : 1;

	return sched_jitter(pr->cp.gen_interval_ms / n, prober_rnd32());
}

/* The first generation check after a start or a resume. */
void
gen_first(struct prober *pr, uint32_t after_ms)
{
	if (pr->gen_on && !pr->gen.busy)
		prober_schedule(pr->ev_gen, after_ms + sched_first_ms(
		    pr->cp.gen_interval_ms / (pr->nmodels > 0 ? pr->nmodels :
		    1), prober_rnd32()));
}

/*
 * May the next generation check run within the day's budget?  The count
 * is ours, or the segment's when that is higher (stats.probe_tokens_*,
 * which the aggregator keeps from our samples: how a restarted prober
 * knows the day's count).  When it may not, the next try is at 00:00
 * UTC, and the day's stop is logged once.
 */
static int
gen_budget_ok(struct prober *pr)
{
	struct vigil_stats st;
	uint64_t now = now_wall_ns();

	memset(&st, 0, sizeof(st));
	if (vigil_provider_stats(&pr->cli, pr->slot, &st) == VIGIL_OK &&
	    st.updated_wall_ns != 0 && st.probe_tokens_day != 0)
		budget_resume(&pr->budget, st.probe_tokens_day,
		    st.probe_tokens_today);
	if (budget_allows(&pr->budget, now))
		return 1;
	if (pr->budget_told != pr->budget.day + 1) {
		pr->budget_told = pr->budget.day + 1;
		log_info("token budget spent: %llu of %u tokens used today; "
		    "generation checks stop until 00:00 UTC",
		    (unsigned long long)pr->budget.used, pr->cp.gen_budget);
	}
	/* A second past midnight: the wall clock may be a little off. */
	prober_schedule(pr->ev_gen, budget_wait_ms(now) + 1000 +
	    prober_rnd32() % 1000);
	return 0;
}

/*
 * probe_when_idle, per model: model m's generation check is skipped
 * while traffic naming m was reported within the generation interval
 * (the model's stats block, traffic_last_mono_ns); with no models list,
 * while any traffic of the provider was (its reports name no model).
 * Counted with the skipped checks (prober_skipped).
 */
static int
gen_step_aside(struct prober *pr, uint32_t m)
{
	struct vigil_model_stats ms;
	struct vigil_stats st;
	uint64_t now = now_mono_ns(), last = 0;

	if (!pr->when_idle)
		return 0;
	if (pr->nmodels > 0) {
		memset(&ms, 0, sizeof(ms));
		if (vigil_model_stats(&pr->cli, pr->slot, m, &ms) ==
		    VIGIL_OK && ms.updated_wall_ns != 0)
			last = ms.traffic_last_mono_ns;
	} else {
		memset(&st, 0, sizeof(st));
		if (vigil_provider_stats(&pr->cli, pr->slot, &st) ==
		    VIGIL_OK && st.updated_wall_ns != 0)
			last = st.source[VIGIL_SRC_TRAFFIC].last_mono_ns;
	}
	if (!check_step_aside(now, last, pr->cp.gen_interval_ms))
		return 0;
	prober_skipped(pr);
	log_debug("generation check of %s skipped: traffic %llu ms ago",
	    pr->nmodels > 0 ? pr->models[m] : pr->cp.gen_model,
	    (unsigned long long)(now > last ? (now - last) / 1000000u : 0));
	return 1;
}

/*
 * Time for a generation check: unless the provider asked us to wait,
 * or the budget is spent, the next model's.
 */
void
gen_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct prober *pr = arg;
	uint32_t hold, m;

	(void)fd;
	(void)what;
	if (pr->paused || pr->gen.busy)
		return;
	if ((hold = check_hold_ms(&pr->chk, now_mono_ns())) > 0) {
		prober_schedule(pr->ev_gen, hold);
		return;
	}
	if (!gen_budget_ok(pr))
		return;
	m = pr->nmodels > 0 ? pr->gen_next % pr->nmodels : 0;
	pr->gen_next = m + 1;
	if (gen_step_aside(pr, m)) {
		prober_schedule(pr->ev_gen, gen_spacing_ms(pr));
		return;
	}
	if (gen_prepare(pr, m) == -1 || probe_xfer_start(&pr->gen) == -1) {
		log_warnx("generation check of %s: cannot start",
		    pr->nmodels > 0 ? pr->models[m] : pr->cp.gen_model);
		prober_schedule(pr->ev_gen, gen_spacing_ms(pr));
	}
}

/*
 * A generation check ended: its own sample (the model, the first
 * token's time, the usage, counted into the budget), its own slower
 * schedule.  A 429 holds the checks too (check_sample: one provider,
 * one limit), and the generation check waits at least as long.
 */
static void
gen_done(struct probe_xfer *x, CURLcode cc, void *arg)
{
	struct prober *pr = arg;
	struct vigil_sample s;
	const char *name;
	uint32_t d, hold;

	probe_xfer_sample(x, pr->cp.kind, cc, &s);
	s.model = pr->gen_model;
	budget_add(&pr->budget, s.wall_ns, (uint64_t)s.tokens_in +
	    s.tokens_out);
	check_sample(&pr->chk, &pr->cc, &s, 0, prober_rnd32());
	ring_push(&pr->ring, &s, VIGIL_WORDS(struct vigil_sample));
	ring_beat(&pr->ring, now_mono_ns());
	name = s.model > 0 ? pr->models[s.model - 1] : pr->cp.gen_model;
	if (pr->gen_last[s.model] != (int8_t)s.outcome)
		log_info("generation %s: %s%s%s (http %u, ttft %u ms, %u+%u "
		    "tokens)", name, vigil_outcome_name(s.outcome),
		    s.error[0] ? " " : "", s.error, s.http_status,
		    s.ttfb_us / 1000, s.tokens_in, s.tokens_out);
	else
		log_debug("generation %s: %s %s (ttft %u us)", name,
		    vigil_outcome_name(s.outcome), s.error, s.ttfb_us);
	pr->gen_last[s.model] = (int8_t)s.outcome;
	if (!pr->paused) {
		d = gen_spacing_ms(pr);
		if ((hold = check_hold_ms(&pr->chk, now_mono_ns())) > d)
			d = hold;
		prober_schedule(pr->ev_gen, d);
	}
}

/*
 * The check's own request ended with sample s: when it succeeded, what
 * its models list says of each model, published right after s
 * (catalogue_publish).
 */
void
catalogue_read(struct prober *pr, const struct probe_xfer *x,
    const struct vigil_sample *s)
{
	pr->cat_pending = 0;
	if (pr->nmodels == 0 || s->outcome != VIGIL_OUT_OK ||
	    models_listed(pr->cp.kind, x->body, x->len,
	    (const char (*)[VIGIL_MODEL_MAX])pr->models, pr->nmodels,
	    pr->listed) == -1)
		return;
	pr->cat_pending = 1;
}

/*
 * One sample per model the list decided on, after the check's sample
 * s: no request of their own, the check's times.  A model leaving or
 * coming back to the list is logged.
 */
void
catalogue_publish(struct prober *pr, const struct vigil_sample *s)
{
	struct vigil_sample c;
	uint32_t m;

	if (!pr->cat_pending)
		return;
	pr->cat_pending = 0;
	for (m = 0; m < pr->nmodels; m++) {
		if (pr->listed[m] == MODEL_UNKNOWN)
			continue;
		memset(&c, 0, sizeof(c));
		c.wall_ns = s->wall_ns;
		c.mono_ns = s->mono_ns;
		c.flags = VIGIL_SF_CATALOGUE | (s->flags & VIGIL_SF_MANUAL);
		c.model = (uint16_t)(m + 1);
		if (pr->listed[m] == MODEL_LISTED)
			c.outcome = VIGIL_OUT_OK;
		else {
			c.outcome = VIGIL_OUT_MODEL_MISSING;
			snprintf(c.error, sizeof(c.error), "list:missing");
		}
		ring_push(&pr->ring, &c, VIGIL_WORDS(struct vigil_sample));
		if (pr->was_listed[m] != pr->listed[m] &&
		    (pr->was_listed[m] != MODEL_UNKNOWN ||
		    pr->listed[m] == MODEL_UNLISTED))
			log_info("model %s: %s the models list", pr->models[m],
			    pr->listed[m] == MODEL_LISTED ? "back in" :
			    "not in");
		pr->was_listed[m] = pr->listed[m];
	}
	ring_beat(&pr->ring, now_mono_ns());
}
