/*
 * alert.c - one state machine per (provider, kind).
 *
 * The caller states the current level of a condition (0 none, 1 warning,
 * 2 critical) on every evaluation; alert_update turns changes of level
 * into alerts (docs/aggregation.md, "Alerts"):
 *   - same level as before: nothing (deduplication);
 *   - a raise to level L is recorded unless a raise of the same kind and
 *     level was recorded less than the cool-down ago: then it is held
 *     back and counted (suppressed), and the state still follows it;
 *   - back to 0: a resolved alert, only when a raise of this episode was
 *     recorded (no orphan resolved).
 * So a provider flapping around a threshold yields at most one raise per
 * kind and level per cool-down, plus its resolved counterpart.
 * Silenced (per provider, or all, until a wall time): recorded with
 * VIGIL_ALF_SILENCED; the deliver callback still sees it (to log it) and
 * must not send it on (no webhook).
 */
#include <string.h>

#include "alert.h"

static void	alert_emit(struct alert_ctx *, const struct alert_event *, int,
		    struct vigil_alert *);

/* As in the webhook's "figure" and the log: snake_case, with the unit. */
const char *
alert_fig_name(int f)
{
	static const char *const n[ALERT_FIG_COUNT] = { "error_rate",
	    "p95_ms", "consecutive_failures", "consecutive_auth_failures",
	    "consecutive_answers", "throttled_seconds",
	    "ratelimit_remaining_fraction", "models_missing",
	    "providers_failing_fraction", "providers" };

	return f >= 0 && f < ALERT_FIG_COUNT ? n[f] : "value";
}

const char *
alert_level_name(int l)
{
	static const char *const n[VIGIL_AL_COUNT] = { "warning", "critical",
	    "resolved" };

	return l >= 0 && l < VIGIL_AL_COUNT ? n[l] : "invalid";
}

/* Build, record (ring) and hand to the deliver callback one alert. */
static void
alert_emit(struct alert_ctx *ax, const struct alert_event *ev, int level,
    struct vigil_alert *out)
{
	struct vigil_alert a;

	memset(&a, 0, sizeof(a));
	a.id = ax->next_id++;
	a.wall_ns = ev->wall_ns;
	a.mono_ns = ev->mono_ns;
	a.value = ev->value;
	a.threshold = ev->threshold;
	strncpy(a.provider, ev->provider, sizeof(a.provider) - 1);
	a.provider_idx = ev->idx;
	a.kind = (uint8_t)ev->kind;
	a.level = (uint8_t)level;
	if (ev->wall_ns < ev->silenced_until ||
	    ev->wall_ns < ax->silence_all_until)
		a.flags |= VIGIL_ALF_SILENCED;
	a.incident_id = ev->incident_id;
	if (ax->ring != NULL)
		ring_push(ax->ring, &a, VIGIL_WORDS(struct vigil_alert));
	ax->recorded++;
	if (a.flags & VIGIL_ALF_SILENCED)
		ax->silenced++;
	if (ax->deliver != NULL)
		ax->deliver(&a, alert_fig_name(ev->figure), ax->arg);
	if (out != NULL)
		*out = a;
}

/*
 * Tell the tracker tr of (ev->provider, ev->kind) that the condition is
 * now at level (0, 1 warning, 2 critical).  Returns 1 if an alert was
 * recorded (copied to *out when out is not NULL), else 0.  A raise held
 * back by the cool-down is retried on later calls while the level holds,
 * so a lasting condition is reported once the cool-down is over.  O(1).
 */
int
alert_update(struct alert_ctx *ax, struct alert_track *tr, int level,
    const struct alert_event *ev, struct vigil_alert *out)
{
	uint64_t last;
	int changed;

	if (level < 0)
		level = 0;
	if (level > 2)
		level = 2;
	changed = level != tr->level;
	if (!changed && (level == 0 || tr->sent))
		return 0;
	tr->level = (uint8_t)level;
	if (level == 0) {
		if (!tr->sent)
			return 0;
		tr->sent = 0;
		alert_emit(ax, ev, VIGIL_AL_RESOLVED, out);
		return 1;
	}
	last = tr->last_raise_ns[level - 1];
	/* A late sample may be older than the last raise: held too. */
	if (last != 0 && (ev->mono_ns < last ||
	    ev->mono_ns - last < ax->cooldown_ns)) {
		if (changed)
			ax->suppressed++;
		return 0;
	}
	tr->last_raise_ns[level - 1] = ev->mono_ns;
	tr->sent = 1;
	alert_emit(ax, ev, level == 2 ? VIGIL_AL_CRITICAL : VIGIL_AL_WARNING,
	    out);
	return 1;
}
