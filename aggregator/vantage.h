/*
 * vantage.h - ours or theirs: the vantage self-check's one rule.
 */
#ifndef VIGIL_AGG_VANTAGE_H
#define VIGIL_AGG_VANTAGE_H

#include <stddef.h>
#include <stdint.h>

#include <vigil/vigil.h>

/* What the rule says of one provider (vantage_provider). */
enum vantage_word {
	VANTAGE_NONE = 0,	/* judge it as usual */
	VANTAGE_HOLD,		/* its network failure waits for a canary */
	VANTAGE_OURS		/* our network fails: unknown, no alert */
};

/* A canary's word is awaited at most this many of its (interval +
 * timeout): one check of it, and room for it to be late. */
#define VANTAGE_WAIT_CHECKS	3u

/* One slot as the rule sees it (the engine fills these). */
struct vantage_slot {
	int canary;		/* VIGIL_PF_CANARY */
	int judged;		/* has a sample, not paused */
	uint32_t net_run;	/* network failures in a row */
	uint64_t net_since;	/* wall ns of the first of them; 0 none */
	uint64_t last_ok_wall;	/* newest ok answer, wall ns; 0 none */
	uint32_t interval_ms;
	uint32_t timeout_ms;
};

/* The verdict over every slot, once a tick. */
struct vantage {
	uint32_t canaries;	/* canary slots (configured) */
	uint32_t canaries_down;	/* of them, down_after network failures */
	uint32_t providers;	/* providers judged */
	uint32_t failing;	/* of them, failing on the network now */
	uint64_t canary_ok_wall; /* newest ok of any canary; 0 none */
	uint64_t wait_ns;	/* how long a failure waits for a canary */
	double share;		/* failing / providers */
	int ours;		/* the verdict: our network fails */
	uint64_t since_wall;	/* when ours took its value; 0 never */
};

int	vantage_network(int);
int	vantage_eval(struct vantage *, const struct vantage_slot *, size_t,
	    uint32_t, uint32_t, uint64_t);
int	vantage_provider(const struct vantage *, uint64_t, uint64_t);

#endif /* VIGIL_AGG_VANTAGE_H */
