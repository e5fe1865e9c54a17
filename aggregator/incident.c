/*
 * incident.c - grouped incidents (docs/aggregation.md, "Incidents").
 *
 * A shared upstream (a cloud region, a common proxy) takes several
 * providers down within moments of each other, and each would page.
 * A provider turning unhealthy starts an episode and joins the newest
 * group whose first member turned unhealthy less than group_window ago,
 * or starts a group of its own.  A group that reaches group_min members
 * raises one critical `incident` alert (provider "*"), once per group;
 * it is resolved when its last member is healthy again.
 *
 * A group's number is taken when it starts, from a sequence of its own
 * (1, 2, ...; after a restart past every number the alert ring holds),
 * before anyone knows whether it will reach group_min: every outage
 * alert of a member carries it (incident_id), the first member's too,
 * and the incident alert carries it as well.  A number that no incident
 * alert carries is a group that never formed; the JSON views show
 * incident_id only once its incident alert exists.
 *
 * Across a restart (of the aggregator, or of vigild from its snapshot)
 * the groups are not saved anywhere of their own: the alert ring says
 * which incident alerts were raised and not resolved, and each member's
 * outage alerts carry its number.  incident_restore() reads the ring
 * into open groups, incident_rejoin() takes a member back as its
 * provider attaches with such an alert still active; a restored group
 * that no provider rejoins is resolved by the engine once it has read
 * the whole directory (agg_tick).
 */
#include <string.h>

#include "incident.h"

struct incident_group *
incident_find(struct incidents *in, uint64_t id)
{
	int i;

	if (id == 0)
		return NULL;
	for (i = 0; i < INCIDENT_GROUPS; i++)
		if (in->g[i].id == id)
			return &in->g[i];
	return NULL;
}

/*
 * A provider turned unhealthy at wall: its group's number.  It joins the
 * newest group started less than window_ns before wall, else starts one
 * numbered *next_id (which moves on).  With every slot taken the oldest
 * group is forgotten (its alert, if any, is then never resolved: eight
 * outages at once in distinct windows).  O(INCIDENT_GROUPS).
 */
uint64_t
incident_join(struct incidents *in, uint64_t wall, uint64_t window_ns,
    uint64_t *next_id)
{
	struct incident_group *g = NULL, *fr = NULL, *old = NULL;
	int i;

	for (i = 0; i < INCIDENT_GROUPS; i++) {
		struct incident_group *c = &in->g[i];

		if (c->id == 0) {
			if (fr == NULL)
				fr = c;
			continue;
		}
		if (old == NULL || c->first_wall < old->first_wall)
			old = c;
		if (wall >= c->first_wall && wall - c->first_wall < window_ns &&
		    (g == NULL || c->first_wall > g->first_wall))
			g = c;
	}
	if (g == NULL) {
		g = fr != NULL ? fr : old;
		memset(g, 0, sizeof(*g));
		g->id = (*next_id)++;
		g->first_wall = wall;
	}
	g->members++;
	g->active++;
	return g->id;
}

/* The incident alert's level: 2 while group_min members joined and one
 * is still in its episode, else 0.  group_min 0: grouping is off. */
int
incident_level(const struct incident_group *g, uint32_t group_min)
{
	if (g == NULL || group_min == 0)
		return 0;
	if (group_min < 2)
		group_min = 2;		/* one provider is not a group */
	return g->members >= group_min && g->active > 0 ? 2 : 0;
}

/* A member of group id is healthy again (or gone). */
void
incident_leave(struct incidents *in, uint64_t id)
{
	struct incident_group *g = incident_find(in, id);

	if (g != NULL && g->active > 0)
		g->active--;
}

/* Forget group id (its alert resolved, or it never formed). */
void
incident_free(struct incidents *in, uint64_t id)
{
	struct incident_group *g = incident_find(in, id);

	if (g != NULL)
		memset(g, 0, sizeof(*g));
}

/*
 * One alert of the ring, oldest first, at start: an incident alert
 * raised opens (or keeps) its group, raised and not resolved; resolved
 * forgets it.  The group's first_wall is the raise's (a provider failing
 * soon after the restart still joins it); members the count the alert
 * carried; active 0 until members rejoin.  With every slot taken the
 * group is not restored (as incident_join forgets the oldest).  O(1).
 */
void
incident_restore(struct incidents *in, const struct vigil_alert *al)
{
	struct incident_group *g;
	int i;

	if (al->kind != VIGIL_AK_INCIDENT || al->incident_id == 0)
		return;
	if (al->level == VIGIL_AL_RESOLVED) {
		incident_free(in, al->incident_id);
		return;
	}
	if ((g = incident_find(in, al->incident_id)) == NULL) {
		for (i = 0; i < INCIDENT_GROUPS && g == NULL; i++)
			if (in->g[i].id == 0)
				g = &in->g[i];
		if (g == NULL)
			return;
		memset(g, 0, sizeof(*g));
		g->id = al->incident_id;
	}
	g->first_wall = al->wall_ns;
	g->members = al->value > 0 ? (uint32_t)al->value : 0;
	g->tr.level = al->level == VIGIL_AL_CRITICAL ? 2 : 1;
	g->tr.sent = 1;
	g->restored = 1;
}

/* A provider attached with an active outage alert in group id: a member
 * again if that group was restored.  Returns 1 if so.  O(groups). */
int
incident_rejoin(struct incidents *in, uint64_t id)
{
	struct incident_group *g = incident_find(in, id);

	if (g == NULL || !g->restored)
		return 0;
	g->active++;
	return 1;
}
