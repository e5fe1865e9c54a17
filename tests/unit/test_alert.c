/*
 * test_alert.c - alert dedup, cool-down, escalation, resolve, silence.
 */
#include "t.h"
#include "../../aggregator/alert.h"
#include "../../aggregator/webhook.h"

#define S	UINT64_C(1000000000)
#define MAXA	256

static struct vigil_alert got[MAXA];
static const char *gotfig[MAXA];
static size_t ngot;

static void
collect(const struct vigil_alert *a, const char *fig, void *arg)
{
	(void)arg;
	if (ngot < MAXA) {
		gotfig[ngot] = fig;
		got[ngot++] = *a;
	}
}

static void
ctx(struct alert_ctx *ax)
{
	memset(ax, 0, sizeof(*ax));
	ax->next_id = 1;
	ax->cooldown_ns = 300 * S;
	ax->deliver = collect;
	ngot = 0;
}

static int
upd(struct alert_ctx *ax, struct alert_track *tr, int level, uint64_t t)
{
	struct alert_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.provider = "openai";
	ev.idx = 3;
	ev.kind = VIGIL_AK_ERROR_RATE;
	ev.figure = ALERT_FIG_ERROR_RATE;
	ev.value = level * 0.40;	/* fractions, like the JSON */
	ev.threshold = 0.50;
	ev.mono_ns = t;
	ev.wall_ns = UINT64_C(1700000000) * S + t;
	return alert_update(ax, tr, level, &ev, NULL);
}

static void
test_dedup_resolve(void)
{
	struct alert_ctx ax;
	struct alert_track tr;
	uint64_t t = 1000 * S;

	ctx(&ax);
	memset(&tr, 0, sizeof(tr));
	T_CHECK(upd(&ax, &tr, 0, t) == 0);		/* nothing to resolve */
	T_CHECK(upd(&ax, &tr, 1, t) == 1);
	T_CHECK(upd(&ax, &tr, 1, t + S) == 0);		/* deduplicated */
	T_CHECK(upd(&ax, &tr, 1, t + 2 * S) == 0);
	T_CHECK(upd(&ax, &tr, 2, t + 3 * S) == 1);	/* escalation */
	T_CHECK(upd(&ax, &tr, 2, t + 4 * S) == 0);
	T_CHECK(upd(&ax, &tr, 0, t + 5 * S) == 1);	/* resolved */
	T_CHECK(upd(&ax, &tr, 0, t + 6 * S) == 0);
	T_CHECK(ngot == 3);
	T_CHECK(got[0].level == VIGIL_AL_WARNING && got[0].id == 1);
	T_CHECK(got[1].level == VIGIL_AL_CRITICAL && got[1].id == 2);
	T_CHECK(got[2].level == VIGIL_AL_RESOLVED && got[2].id == 3);
	T_CHECK(strcmp(got[0].provider, "openai") == 0);
	T_CHECK(got[0].provider_idx == 3 && got[0].kind == VIGIL_AK_ERROR_RATE);
	T_CHECK(got[1].value == 0.80 && got[1].threshold == 0.50);
	T_CHECK(strcmp(gotfig[1], "error_rate") == 0);
	T_CHECK(got[0].mono_ns == t && got[0].wall_ns > got[0].mono_ns);
	T_CHECK(ax.recorded == 3);
}

/*
 * Flapping every 10 s for 20 minutes with a 5 minute cool-down: at most
 * one raise per cool-down, each with one resolved, never an orphan.
 */
static void
test_flapping(void)
{
	struct alert_ctx ax;
	struct alert_track tr;
	uint64_t t0 = 1000 * S, t, last = 0;
	size_t i, raises = 0, resolved = 0;
	int open = 0;

	ctx(&ax);
	memset(&tr, 0, sizeof(tr));
	for (t = t0; t < t0 + 1200 * S; t += 10 * S)
		upd(&ax, &tr, ((t - t0) / (10 * S)) % 2 == 0 ? 1 : 0, t);
	for (i = 0; i < ngot; i++) {
		if (got[i].level == VIGIL_AL_WARNING) {
			T_CHECK(!open);
			T_CHECK(raises == 0 || got[i].mono_ns - last >=
			    300 * S);
			last = got[i].mono_ns;
			raises++;
			open = 1;
		} else {
			T_CHECK(got[i].level == VIGIL_AL_RESOLVED && open);
			resolved++;
			open = 0;
		}
	}
	T_CHECK(raises == 4);		/* t = 0, 300, 600, 900 s */
	T_CHECK(resolved == raises);
	T_CHECK(ax.suppressed > 50);
}

/* A raise held back by the cool-down fires once it is over, if the
 * condition still holds. */
static void
test_held_back(void)
{
	struct alert_ctx ax;
	struct alert_track tr;
	uint64_t t = 1000 * S;

	ctx(&ax);
	memset(&tr, 0, sizeof(tr));
	upd(&ax, &tr, 1, t);
	upd(&ax, &tr, 0, t + 10 * S);
	T_CHECK(upd(&ax, &tr, 1, t + 20 * S) == 0);	/* held back */
	T_CHECK(upd(&ax, &tr, 0, t + 30 * S) == 0);	/* no orphan */
	T_CHECK(upd(&ax, &tr, 1, t + 40 * S) == 0);
	T_CHECK(upd(&ax, &tr, 1, t + 299 * S) == 0);
	T_CHECK(upd(&ax, &tr, 1, t + 300 * S) == 1);	/* now */
	T_CHECK(ngot == 3 && got[2].level == VIGIL_AL_WARNING);
}

static void
test_silence_and_ring(void)
{
	static uint64_t mem[(64 + 8 * 88) / 8];
	struct vigil_ring_ctl *ctl = (struct vigil_ring_ctl *)(void *)mem;
	const struct vigil_ring_entry *e;
	struct ring_writer rw;
	struct alert_ctx ax;
	struct alert_track tr;
	struct alert_event ev;
	struct vigil_alert a;

	ring_writer_init(&rw, ctl, 8, 88);
	ctx(&ax);
	ax.ring = &rw;
	memset(&tr, 0, sizeof(tr));
	memset(&ev, 0, sizeof(ev));
	ev.provider = "a-provider-name-that-is-far-too-long-to-fit";
	ev.kind = VIGIL_AK_DOWN;
	ev.mono_ns = 5 * S;
	ev.wall_ns = 1000 * S;
	ev.silenced_until = 2000 * S;
	T_CHECK(alert_update(&ax, &tr, 2, &ev, &a) == 1);
	T_CHECK(a.flags & VIGIL_ALF_SILENCED);
	T_CHECK(a.provider[VIGIL_NAME_MAX - 1] == '\0');
	T_CHECK(ngot == 1 && (got[0].flags & VIGIL_ALF_SILENCED));
	T_CHECK(ax.silenced == 1);
	T_CHECK(atomic_load(&ctl->head) == 1);
	e = (const struct vigil_ring_entry *)(const void *)(ctl + 1);
	T_CHECK(atomic_load(&e->seq) == 2);
	/* Silence over: delivered normally. */
	ev.wall_ns = 3000 * S;
	T_CHECK(alert_update(&ax, &tr, 0, &ev, &a) == 1);
	T_CHECK(!(a.flags & VIGIL_ALF_SILENCED));
	T_CHECK(strcmp(vigil_alert_kind_name(VIGIL_AK_CIRCUIT_OPEN),
	    "circuit_open") == 0);
	T_CHECK(strcmp(alert_level_name(VIGIL_AL_RESOLVED), "resolved") == 0);
	T_CHECK(strcmp(vigil_alert_kind_name(99), "invalid") == 0);
}

/*
 * Each alert names the figure its value and threshold are in: the
 * deliver callback gets the name, the webhook body carries it as
 * "figure" and in its text (issue 15: "value 10.5, threshold 80" for a
 * circuit opened by 5 failures in a row).
 */
static void
test_figures(void)
{
	struct alert_ctx ax;
	struct alert_track tr;
	struct alert_event ev;
	char body[WEBHOOK_BODY_MAX];

	T_CHECK(strcmp(alert_fig_name(ALERT_FIG_ERROR_RATE), "error_rate") ==
	    0);
	T_CHECK(strcmp(alert_fig_name(ALERT_FIG_P95_MS), "p95_ms") == 0);
	T_CHECK(strcmp(alert_fig_name(ALERT_FIG_FAILURES),
	    "consecutive_failures") == 0);
	T_CHECK(strcmp(alert_fig_name(ALERT_FIG_AUTH),
	    "consecutive_auth_failures") == 0);
	T_CHECK(strcmp(alert_fig_name(99), "value") == 0);
	ctx(&ax);
	memset(&tr, 0, sizeof(tr));
	memset(&ev, 0, sizeof(ev));
	ev.provider = "openai";
	ev.kind = VIGIL_AK_CIRCUIT_OPEN;
	ev.figure = ALERT_FIG_FAILURES;
	ev.value = 5;
	ev.threshold = 5;
	ev.mono_ns = 1000 * S;
	ev.wall_ns = UINT64_C(1764342245) * S;
	T_CHECK(alert_update(&ax, &tr, 2, &ev, NULL) == 1);
	T_CHECK(ngot == 1 && strcmp(gotfig[0], "consecutive_failures") == 0);
	T_CHECK(webhook_body(&got[0], gotfig[0], body, sizeof(body)) > 0);
	T_CHECKF(strstr(body, "\"figure\":\"consecutive_failures\"") != NULL &&
	    strstr(body, "\"value\":5,\"threshold\":5") != NULL &&
	    strstr(body, "circuit_open critical (consecutive_failures 5, "
	    "threshold 5)") != NULL, "%s", body);
	T_CHECK(strstr(body, "\"needs_human\":false") != NULL);
	/* quota needs a human while raised, not once resolved */
	memset(&tr, 0, sizeof(tr));
	ev.kind = VIGIL_AK_QUOTA;
	ev.figure = ALERT_FIG_ANSWERS;
	ev.value = 1;
	ev.threshold = 1;
	T_CHECK(alert_update(&ax, &tr, 2, &ev, NULL) == 1);
	T_CHECK(webhook_body(&got[ngot - 1], gotfig[ngot - 1], body,
	    sizeof(body)) > 0);
	T_CHECKF(strstr(body, "\"kind\":\"quota\"") != NULL &&
	    strstr(body, "\"needs_human\":true") != NULL &&
	    strstr(body, "\"figure\":\"consecutive_answers\"") != NULL,
	    "%s", body);
	T_CHECK(alert_update(&ax, &tr, 0, &ev, NULL) == 1);
	T_CHECK(webhook_body(&got[ngot - 1], gotfig[ngot - 1], body,
	    sizeof(body)) > 0);
	T_CHECKF(strstr(body, "\"needs_human\":false") != NULL &&
	    strstr(body, "\"level\":\"resolved\"") != NULL, "%s", body);
}

int
main(void)
{
	T_RUN(test_dedup_resolve);
	T_RUN(test_flapping);
	T_RUN(test_held_back);
	T_RUN(test_silence_and_ring);
	T_RUN(test_figures);
	return t_done();
}
