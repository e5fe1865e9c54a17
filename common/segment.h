/*
 * segment.h - create, size, map and address the shared-memory segment.
 *
 * The layout itself (structs, offsets, protocol) is the public ABI in
 * include/vigil/vigil.h; this module computes a layout from capacities,
 * creates the segment (supervisor) and maps it from an inherited
 * descriptor (children).  Library code: never logs, never exits.
 */
#ifndef VIGIL_SEGMENT_H
#define VIGIL_SEGMENT_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include <vigil/vigil.h>

struct seg_caps {
	uint32_t providers;	/* directory slots */
	uint32_t samples;	/* per sample ring, rounded up to a power of 2 */
	uint32_t history;	/* per history ring, rounded up likewise */
	uint32_t alerts;	/* alert ring, rounded up likewise */
	uint32_t models;	/* model slots per provider; 0: SEG_MODELS */
};

#define SEG_MODELS	8	/* model slots per provider, by default */

/*
 * A mapped segment.  hdr is the live header, written by others too (every
 * prober and the aggregator map the segment read-write): use it only for
 * the words that change while vigil runs (dir_gen, beats).  Every address
 * and bound comes from lay, the private layout: computed by the creator,
 * or copied and validated once at map time (docs/segment.md, "Trust").
 */
struct segment {
	unsigned char *base;
	size_t size;
	struct vigil_header *hdr;
	struct vigil_layout lay;	/* private; zero until published */
	int fd;			/* the shm descriptor, -1 once closed */
	int writable;
};

/*
 * What a long-lived reader keeps between two checks of the header: whether
 * it was found changed, and its line budget (SEG_WATCH_BURST lines per
 * SEG_WATCH_WINDOW_NS; the rest are counted and the count said with the
 * next line), so that a process rewriting the header in a loop cannot
 * flood the log.
 */
struct seg_watch {
	int changed;
	int started;		/* win_ns is set */
	uint64_t win_ns;	/* start of the current window */
	unsigned said;		/* lines in this window */
	unsigned long hushed;	/* lines not said since the last one said */
};

#define SEG_WATCH_WINDOW_NS	(UINT64_C(600) * 1000000000u)
#define SEG_WATCH_BURST		64

/* Default capacities. */
#define SEG_DEFAULT_PROVIDERS	64
#define SEG_DEFAULT_SAMPLES	1024
#define SEG_DEFAULT_HISTORY	1024
#define SEG_DEFAULT_ALERTS	1024

uint32_t	seg_pow2(uint32_t);
int		seg_layout(const struct seg_caps *, struct vigil_header *,
		    char *, size_t);
int		seg_create(struct segment *, const char *, const struct seg_caps *,
		    mode_t, char *, size_t);
int		seg_map_fd(struct segment *, int, int, char *, size_t);
int		seg_shm_create(const char *, uint64_t, const char *, mode_t,
		    uint64_t, char *, size_t);
void		seg_close(struct segment *);
int		seg_client(const struct segment *, struct vigil_client *);
void		seg_layout_restore(struct segment *);
int		seg_layout_check(const struct segment *, char *, size_t);
int		seg_layout_watch(struct seg_watch *, const void *,
		    const struct vigil_layout *, uint64_t, char *, size_t);
int		seg_watch_say(struct seg_watch *, uint64_t, char *, size_t);

struct vigil_seqblock	*seg_dir_slot(const struct segment *, uint32_t);
struct vigil_seqblock	*seg_stats(const struct segment *, uint32_t);
struct vigil_seqblock	*seg_models(const struct segment *, uint32_t);
struct vigil_seqblock	*seg_model_stats(const struct segment *, uint32_t,
			    uint32_t);
size_t			 seg_models_words(const struct segment *);
struct vigil_seqblock	*seg_statuspage(const struct segment *, uint32_t);
struct vigil_ring_ctl	*seg_sample_ring(const struct segment *, uint32_t);
struct vigil_ring_ctl	*seg_history_ring(const struct segment *, uint32_t);
struct vigil_ring_ctl	*seg_alert_ring(const struct segment *);
struct vigil_seqblock	*seg_route(const struct segment *);
size_t			 seg_route_words(const struct segment *);

#endif /* VIGIL_SEGMENT_H */
