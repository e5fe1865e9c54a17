/*
 * vantage.c - ours or theirs (docs/aggregation.md, "Vantage").
 *
 * One host is one vantage point: when its own egress, resolver or proxy
 * fails, every provider fails at once, and six outage alerts would page
 * for an outage that is ours.  The canaries (`canary = URL, ...`:
 * reliable endpoints that are not providers, each probed by its own
 * prober) tell the two apart:
 *
 *   ours     every canary has failed down_after times in a row on the
 *            network (dns, connect, tls, timeout), and more than
 *            vantage_min_share percent of the providers judged are
 *            failing on the network now.  Those providers are unknown
 *            with reason network, not usable; their outage alerts are
 *            held; one critical `vantage` alert is raised instead, and
 *            resolved when the verdict ends.
 *   hold     a provider's network failure that began after the newest
 *            ok answer of every canary waits (its outage alerts only,
 *            its status is judged as usual) for a canary to answer,
 *            at most VANTAGE_WAIT_CHECKS of the slowest canary's
 *            interval + timeout: a canary answering ok says the
 *            failure is theirs; failing too, the verdict decides.
 *   theirs   anything else: judged and alerted as usual.
 *
 * Without a canary the rule says nothing (no hold, never ours).  An
 * answer (any HTTP status) is never a network failure: the provider is
 * reachable.  Status rules stay in status.c, which calls
 * vantage_provider(); the engine holds the alerts on the same word.
 */
#include "vantage.h"

/* Outcomes that say the path to the host failed, not the host's answer. */
int
vantage_network(int outcome)
{
	return outcome == VIGIL_OUT_DNS || outcome == VIGIL_OUT_CONNECT ||
	    outcome == VIGIL_OUT_TLS || outcome == VIGIL_OUT_TIMEOUT;
}

/*
 * The verdict over s[0..n) at wall, into v (its previous verdict on
 * entry, zeroed at start).  min_share: percent of providers judged that
 * must fail (more than); down_after: a canary's network failures in a
 * row that make it down.  Returns 1 if ours changed.  O(n).
 */
int
vantage_eval(struct vantage *v, const struct vantage_slot *s, size_t n,
    uint32_t min_share, uint32_t down_after, uint64_t wall)
{
	uint64_t w;
	size_t i;
	int was = v->ours;

	v->canaries = v->canaries_down = v->providers = v->failing = 0;
	v->canary_ok_wall = 0;
	v->wait_ns = 0;
	if (down_after == 0)
		down_after = 1;
	for (i = 0; i < n; i++) {
		if (s[i].canary) {
			v->canaries++;
			if (s[i].last_ok_wall > v->canary_ok_wall)
				v->canary_ok_wall = s[i].last_ok_wall;
			if (s[i].judged && s[i].net_run >= down_after)
				v->canaries_down++;
			w = (uint64_t)VANTAGE_WAIT_CHECKS *
			    ((uint64_t)s[i].interval_ms + s[i].timeout_ms) *
			    UINT64_C(1000000);
			if (w > v->wait_ns)
				v->wait_ns = w;
		} else if (s[i].judged) {
			v->providers++;
			if (s[i].net_since != 0)
				v->failing++;
		}
	}
	v->share = v->providers > 0 ? (double)v->failing / v->providers : 0.0;
	v->ours = v->canaries > 0 && v->canaries_down == v->canaries &&
	    v->providers > 0 &&
	    (uint64_t)v->failing * 100u > (uint64_t)min_share * v->providers;
	if (v->ours != was) {
		v->since_wall = wall;
		return 1;
	}
	return 0;
}

/*
 * The rule's word on one provider whose network failures began at
 * net_since (0: its newest answer is not one), at wall.  O(1).
 */
int
vantage_provider(const struct vantage *v, uint64_t net_since, uint64_t wall)
{
	if (v == NULL || v->canaries == 0 || net_since == 0)
		return VANTAGE_NONE;
	if (v->ours)
		return VANTAGE_OURS;
	if (v->canary_ok_wall >= net_since)
		return VANTAGE_NONE;		/* a canary answered since */
	if (wall < net_since || wall - net_since < v->wait_ns)
		return VANTAGE_HOLD;
	return VANTAGE_NONE;
}
