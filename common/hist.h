/*
 * hist.h - a log-bucketed latency histogram: fixed size, mergeable.
 *
 * Values are microseconds (uint32_t).  Below HIST_LINEAR every value has
 * its own bucket (exact); above, each power of two is cut into HIST_SUB
 * equal buckets, so a bucket spans at most 1/64 of its lower bound and
 * its midpoint is within 1/128 (0.78%) of every value in it.  Hence any
 * quantile read back is within 0.78% of the exact sample quantile (same
 * nearest-rank definition).  Insert and remove are O(1); a quantile is
 * O(HIST_N).  No pointers: a struct hist can live in shared memory and
 * two can be merged by adding their buckets.  Library code: never logs.
 */
#ifndef VIGIL_HIST_H
#define VIGIL_HIST_H

#include <stddef.h>
#include <stdint.h>

#define HIST_SUB_BITS	6
#define HIST_SUB	(1u << HIST_SUB_BITS)		/* 64 */
#define HIST_LINEAR	(2u * HIST_SUB)			/* 128: exact below */
#define HIST_N		(HIST_LINEAR + (32u - HIST_SUB_BITS - 1) * HIST_SUB)

struct hist {
	uint64_t n;			/* values held */
	uint32_t b[HIST_N];		/* count per bucket */
};

void		hist_init(struct hist *);
void		hist_add(struct hist *, uint32_t);
void		hist_del(struct hist *, uint32_t);
void		hist_merge(struct hist *, const struct hist *);
uint32_t	hist_bucket(uint32_t);
uint32_t	hist_value(uint32_t);
uint32_t	hist_quantile(const struct hist *, double);
void		hist_quantiles(const struct hist *, const double *, size_t,
		    uint32_t *);
uint64_t	hist_rank(uint64_t, double);

#endif /* VIGIL_HIST_H */
