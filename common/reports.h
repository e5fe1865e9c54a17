/*
 * reports.h - the reports segment: local services' reports of real
 * traffic (issue 18).  vigild creates it (reports_create); the aggregator
 * maps it (reports_map) and drains it (reports_drain), treating every
 * byte as untrusted: any member of report_group may write anything
 * anywhere in it.  The client side is in include/vigil/vigil.h
 * ("Reporter").  Library code: never logs, never exits.
 */
#ifndef VIGIL_REPORTS_H
#define VIGIL_REPORTS_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include <vigil/vigil.h>

#define REPORTS_DEFAULT_SLOTS	64
#define REPORTS_DEFAULT_RING	4096
#define REPORTS_ENTRY		64	/* bytes: an entry a cache line */
/* A position left unpublished this long is given up (a writer that died
 * mid-record, or dropped after taking it). */
#define REPORTS_GRACE_NS	(UINT64_C(100) * 1000000u)
/* Records (or skipped positions) read from one slot in one drain: a
 * flooding client costs every drain at most this much. */
#define REPORTS_SLOT_BUDGET	4096u
/* The owner word while the reader cleans a released slot's ring: not 0,
 * so no client claims it meanwhile. */
#define REPORTS_OWNER_RESET	UINT64_MAX

/* The reader's private state of one slot. */
struct reports_slot_state {
	uint64_t pos;			/* next position to read */
	uint64_t stall_pos;		/* position found unpublished */
	uint64_t stall_since;		/* ... since (mono ns); 0: none */
	double tokens;			/* report_rate_max bucket */
	uint64_t bucket_ns;		/* last refill */
	uint64_t heard_ns;		/* newest accepted record (mono) */
	uint64_t accepted;
	uint64_t invalid;		/* failed a check */
	uint64_t rate_dropped;		/* over report_rate_max */
	uint64_t lost;			/* torn, or never finished */
	uint64_t skipped;		/* positions a dropping writer took */
	uint64_t freed;			/* reclaimed from dead owners */
	uint64_t resets;		/* rings made clean after a release */
};

struct reports {
	unsigned char *base;
	size_t size;
	int fd;
	struct vigil_reports_layout lay;	/* private, validated */
	uint64_t mask;
	unsigned shift;
	uint64_t grace_ns;			/* REPORTS_GRACE_NS */
	uint32_t next_slot;			/* round robin start */
	struct reports_slot_state *st;		/* [slot_cap], the reader's */
};

/* Called with each record that passed the generic checks; returns 0
 * when it became a sample, -1 when invalid (provider or model index). */
typedef int (*reports_fn)(const struct vigil_report_rec *, uint32_t, void *);

struct reports_totals {
	uint64_t accepted, invalid, rate_dropped, lost, skipped, full, slots;
};

int	reports_layout(uint32_t, uint32_t, struct vigil_reports_header *,
	    char *, size_t);
void	reports_name(const char *, char *, size_t);
int	reports_create(struct reports *, const char *, uint32_t, uint32_t,
	    mode_t, char *, size_t);
int	reports_map(struct reports *, const char *, char *, size_t);
int	reports_attach(struct reports *, void *, size_t, char *, size_t);
void	reports_close(struct reports *);
int	reports_rec_ok(const struct vigil_report_rec *);
size_t	reports_drain(struct reports *, uint64_t, uint32_t, reports_fn,
	    void *);
uint32_t reports_reclaim(struct reports *);
void	reports_totals(const struct reports *, struct reports_totals *);

#endif /* VIGIL_REPORTS_H */
