/*
 * engine.h - the aggregator's state: every provider's windows, status,
 * circuit, trend and alerts, and the segment regions it writes.
 */
#ifndef VIGIL_AGG_ENGINE_H
#define VIGIL_AGG_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include <vigil/vigil.h>

#include "settings.h"
#include "alert.h"
#include "circuit.h"
#include "incident.h"
#include "models.h"
#include "persist.h"
#include "reports.h"
#include "ring.h"
#include "segment.h"
#include "status.h"
#include "trend.h"
#include "vantage.h"
#include "window.h"

/* Words of vigil_stats.reserved the aggregator uses (docs/aggregation.md). */
#define AGG_RSV_CURSOR	0	/* ring number after the last counted sample */
#define AGG_RSV_ID	1	/* identity: fnv1a(name) ^ added_wall_ns */
#define AGG_RSV_STREAK	2	/* circuit opens since it last closed */

/* One source's last minute, a bucket a second (stats.source[]). */
#define AGG_SRC_SECS	60
struct agg_src_win {
	uint64_t sec[AGG_SRC_SECS];	/* the second a bucket counts */
	uint32_t n[AGG_SRC_SECS];
	uint32_t err[AGG_SRC_SECS];
};

/* Reporter slots heard from lately, per provider (traffic_clients_1m). */
#define AGG_CLIENTS	16
struct agg_client {
	uint32_t slot;
	uint64_t heard_ns;		/* 0: unused */
	uint64_t failed_ns;		/* its newest failure that counts */
};

struct agg_prov {
	int used;
	uint32_t idx;
	char name[VIGIL_NAME_MAX];
	uint64_t ident;
	int paused;
	int last_outcome;		/* -1: none yet */
	int last_failure;		/* newest failure that counts, -1 */
	uint32_t run;			/* answers of last_outcome in a row */
	uint32_t interval_ms;		/* the directory's, for usable_at */
	uint32_t timeout_ms;		/* the directory's */
	int canary;			/* VIGIL_PF_CANARY: never alerts,
					   never routed (vantage.c) */
	uint32_t net_run;		/* network failures in a row */
	uint64_t net_since;		/* wall of the first of them; 0 */
	uint64_t incident;		/* its group's number while in an
					   outage episode (incident.c); 0 */
	uint64_t usable_at;		/* throttled: back at, wall ns; 0 */
	struct agg_models models;
	struct vigil_cursor cur;
	struct window win;
	struct status_state st;
	struct circuit cb;
	struct trend_state tr;
	struct alert_track at[VIGIL_AK_COUNT];
	struct vigil_stats s;		/* what the segment gets */
	struct ring_writer hist;
	uint64_t hist_last_mono;	/* skip history already pushed */
	uint32_t hold;			/* samples before restored alerts
					   may change (agg_attach) */
	struct agg_src_win src[VIGIL_SRC_COUNT];
	struct agg_client clients[AGG_CLIENTS];
	int probe_failing;		/* the newest check failed (counts) */
	uint64_t traffic_held;		/* failures held: too few clients */
	int dirty;
};

struct agg {
	struct segment *seg;
	struct vigil_client cl;		/* reader view of the same mapping */
	struct conf conf;
	uint32_t cap;
	struct agg_prov *p;		/* [cap] */
	struct ring_writer alerts;
	struct alert_ctx ax;
	uint64_t dir_gen;
	uint64_t dir_read_ns;
	struct persist_snap *restore;	/* snapshot to restore from, or NULL */
	struct route_cand *cand;	/* [cap] */
	uint64_t *route;		/* route block payload */
	size_t route_words;
	int route_valid;
	struct vantage vt;		/* ours or theirs, this tick's */
	struct vantage_slot *vs;	/* [cap], vantage_eval's input */
	struct alert_track vt_track;	/* the vantage alert */
	struct incidents inc;		/* grouped incidents */
	uint64_t next_incident;		/* number of the next group, from 1 */
	int inc_restoring;		/* restored groups may take members
					   back (until the directory is read) */
	uint64_t samples;		/* aggregated by this process */
	uint64_t lost;
	struct reports rep;		/* traffic reports; base NULL: none */
	uint64_t rep_reclaim_ns;	/* last reports_reclaim */
	uint64_t rep_wall;		/* the drain's wall clock */
};

int	agg_init(struct agg *, struct segment *, const struct conf *,
	    struct persist_snap *, char *, size_t);
void	agg_free(struct agg *);
void	agg_sync_dir(struct agg *, uint64_t, int);
int	agg_sample(struct agg *, struct agg_prov *,
	    const struct vigil_sample *, uint64_t);
int	agg_report(struct agg *, const struct vigil_report_rec *, uint32_t,
	    uint64_t, uint64_t);
void	agg_tick(struct agg *, uint64_t, uint64_t);
void	agg_flush(struct agg *, uint64_t, uint64_t);
struct agg_prov *agg_find(struct agg *, const char *);
int	agg_snapshot(struct agg *, struct persist_snap *);
uint64_t agg_ident(const char *, uint64_t);
int	agg_incident_info(struct agg *, uint64_t, char *, size_t);

#endif /* VIGIL_AGG_ENGINE_H */
