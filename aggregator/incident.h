/*
 * incident.h - providers turning unhealthy together: one incident.
 */
#ifndef VIGIL_AGG_INCIDENT_H
#define VIGIL_AGG_INCIDENT_H

#include <stdint.h>

#include "alert.h"

#define INCIDENT_GROUPS	8	/* episodes followed at once */

struct incident_group {
	uint64_t id;		/* its number; 0: slot free */
	uint64_t first_wall;	/* its first member turned unhealthy */
	uint32_t members;	/* joined, in all */
	uint32_t active;	/* still in their episode */
	struct alert_track tr;	/* its one incident alert */
	uint8_t restored;	/* from the alert ring at start: takes its
				   members back as they attach */
};

struct incidents {
	struct incident_group g[INCIDENT_GROUPS];
};

uint64_t	incident_join(struct incidents *, uint64_t, uint64_t,
		    uint64_t *);
struct incident_group *incident_find(struct incidents *, uint64_t);
int		incident_level(const struct incident_group *, uint32_t);
void		incident_leave(struct incidents *, uint64_t);
void		incident_free(struct incidents *, uint64_t);
void		incident_restore(struct incidents *,
		    const struct vigil_alert *);
int		incident_rejoin(struct incidents *, uint64_t);

#endif /* VIGIL_AGG_INCIDENT_H */
