/*
 * window.h - rolling 1, 5 and 15 minute windows of one provider.
 *
 * Time is the samples' CLOCK_MONOTONIC (mono_ns), cut into 10-second
 * slices; a window of S slices holds the current slice and the S - 1
 * before it.  Work is O(1) per sample, amortised: a sample is added to
 * three running totals and subtracted once from each when its slice
 * leaves that window.  See docs/aggregation.md, "Windows".
 */
#ifndef VIGIL_AGG_WINDOW_H
#define VIGIL_AGG_WINDOW_H

#include <stdint.h>

#include <vigil/vigil.h>

#include "hist.h"

#define WIN_SLICE_NS	UINT64_C(10000000000)	/* 10 s */
#define WIN_NSLICES	90			/* 15 minutes */

struct win_slice {
	uint64_t id;		/* slice number + 1; 0: never used */
	uint32_t samples;
	uint32_t ok;
	uint32_t by_outcome[VIGIL_OUT_COUNT];
	uint64_t lat_sum_us;
	uint32_t lat_max_us;
	uint32_t nlat;		/* latencies held (the ok samples) */
	uint64_t tok_out;	/* output tokens of ok answers with usage */
	uint64_t stream_us;	/* their time from first token to the end */
	uint32_t caplat;
	uint32_t *lat;		/* to subtract them from the histograms */
};

struct win_acc {
	uint32_t samples;
	uint32_t ok;
	uint32_t by_outcome[VIGIL_OUT_COUNT];
	uint64_t lat_sum_us;
	uint32_t lat_max_us;
	uint64_t tok_out;
	uint64_t stream_us;
	struct hist h;		/* latencies of the ok samples */
};

struct window {
	uint64_t cur;		/* newest slice number + 1; 0: no data */
	uint64_t dropped;	/* samples too old for any window */
	struct win_slice slice[WIN_NSLICES];
	struct win_acc acc[VIGIL_NWINDOWS];
};

extern const uint32_t	window_span[VIGIL_NWINDOWS];

void		window_init(struct window *);
void		window_free(struct window *);
int		window_add(struct window *, const struct vigil_sample *);
int		window_add_lat(struct window *, const struct vigil_sample *,
		    uint32_t);
/* window_add_lat's lat_us for an ok answer with no latency to keep. */
#define WINDOW_NO_LAT	UINT32_MAX
double		window_tokens_per_s(const struct window *, int);
void		window_advance(struct window *, uint64_t);
void		window_get(const struct window *, int, struct vigil_window *);
int		window_prom_bucket(uint32_t);

#endif /* VIGIL_AGG_WINDOW_H */
