/*
 * persist.h - the state snapshot: state_dir/state.msgpack.
 */
#ifndef VIGIL_AGG_PERSIST_H
#define VIGIL_AGG_PERSIST_H

#include <stddef.h>
#include <stdint.h>

#include <vigil/vigil.h>

#define PERSIST_FILE		"state.msgpack"
#define PERSIST_VERSION		2	/* 2: 88-byte alerts (incident_id) */
#define PERSIST_ALERT_V1	80	/* version 1's alert record */
#define PERSIST_MAX_BYTES	(256u << 20)	/* refuse anything larger */

/* persist_load's results. */
#define PERSIST_LOADED	0	/* restored */
#define PERSIST_NONE	1	/* no snapshot (ENOENT): start fresh */
#define PERSIST_ASIDE	(-1)	/* unreadable or corrupt, moved aside */
#define PERSIST_STUCK	(-2)	/* unreadable and could not be moved
				   aside: the caller must not save */

/* Cumulative counters of one provider, kept by name across restarts. */
struct persist_counters {
	uint64_t samples_total;
	uint64_t samples_lost;
	uint64_t checks_total[VIGIL_OUT_COUNT];
	uint64_t lat_bucket[VIGIL_PROM_BUCKETS];
	double lat_sum_s;
	uint64_t since_wall_ns;
	uint64_t alerts_total;
	uint64_t last_ok_wall_ns;
	uint64_t last_error_wall_ns;
	uint64_t last_error_outcome;	/* of that error (enum vigil_outcome) */
	char last_error[VIGIL_ERR_MAX];	/* its code; "" in older snapshots */
	uint64_t circuit_opens;
};

struct persist_prov {
	char name[VIGIL_NAME_MAX];
	struct persist_counters c;
	struct vigil_history *hist;	/* oldest first */
	size_t nhist;
};

struct persist_snap {
	uint64_t saved_wall_ns;
	uint64_t next_alert_id;
	struct persist_prov *prov;
	size_t nprov;
	struct vigil_alert *alerts;	/* oldest first */
	size_t nalerts;
};

int	persist_encode(const struct persist_snap *, void **, size_t *);
int	persist_decode(const void *, size_t, struct persist_snap *, char *,
	    size_t);
int	persist_save(const char *, const struct persist_snap *, char *,
	    size_t);
int	persist_load(const char *, struct persist_snap *, char *, size_t);
void	persist_free(struct persist_snap *);
const struct persist_prov *persist_find(const struct persist_snap *,
	    const char *);

#endif /* VIGIL_AGG_PERSIST_H */
