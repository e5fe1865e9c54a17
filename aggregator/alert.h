/*
 * alert.h - raising, deduplicating, silencing and recording alerts.
 */
#ifndef VIGIL_AGG_ALERT_H
#define VIGIL_AGG_ALERT_H

#include <stdint.h>

#include <vigil/vigil.h>

#include "ring.h"

/* Per (provider, kind): what is active and when it was last raised. */
struct alert_track {
	uint8_t level;		/* 0 none, 1 warning, 2 critical */
	uint8_t sent;		/* a raise of this episode was recorded */
	uint64_t last_raise_ns[2]; /* CLOCK_MONOTONIC, per level; 0 never */
};

/*
 * The figure an alert's value and threshold are in (docs/aggregation.md,
 * "Alert figures").  Not in struct vigil_alert (its layout is the
 * segment's ABI): the log and the webhook name it, and each kind has one
 * figure but circuit_open (failures in a row, or the error rate) and
 * degrading (the error rate, or p95).
 */
enum alert_fig {
	ALERT_FIG_ERROR_RATE = 0,	/* fraction 0..1 */
	ALERT_FIG_P95_MS,		/* milliseconds */
	ALERT_FIG_FAILURES,		/* failures in a row */
	ALERT_FIG_AUTH,			/* auth answers (401/403) in a row */
	ALERT_FIG_ANSWERS,		/* answers of the alert's kind in a row */
	ALERT_FIG_THROTTLED_S,		/* seconds throttled */
	ALERT_FIG_HEADROOM,		/* rate-limit remaining / limit, 0..1 */
	ALERT_FIG_MODELS,		/* models missing */
	ALERT_FIG_SHARE,		/* providers failing / judged, 0..1 */
	ALERT_FIG_PROVIDERS,		/* providers in an incident */
	ALERT_FIG_COUNT
};

/* The alert and the name of its figure (alert_fig_name). */
typedef void	(*alert_deliver_fn)(const struct vigil_alert *, const char *,
		    void *);

struct alert_ctx {
	struct ring_writer *ring;	/* the alert ring, or NULL */
	alert_deliver_fn deliver;	/* log, and webhook unless silenced */
	void *arg;
	uint64_t next_id;		/* id of the next alert, from 1 */
	uint64_t cooldown_ns;
	uint64_t silence_all_until;	/* CLOCK_REALTIME ns; 0 none */
	uint64_t recorded;		/* alerts in the ring */
	uint64_t suppressed;		/* raises held back by the cool-down */
	uint64_t silenced;		/* recorded but not delivered */
};

struct alert_event {
	const char *provider;
	uint32_t idx;
	int kind;			/* enum vigil_alert_kind */
	int figure;			/* enum alert_fig */
	double value;
	double threshold;
	uint64_t silenced_until;	/* the provider's silence, wall ns */
	uint64_t mono_ns;
	uint64_t wall_ns;
	uint64_t incident_id;		/* the alert's incident_id; 0 none */
};

const char	*alert_fig_name(int);
const char	*alert_level_name(int);
int		 alert_update(struct alert_ctx *, struct alert_track *, int,
		    const struct alert_event *, struct vigil_alert *);

#endif /* VIGIL_AGG_ALERT_H */
