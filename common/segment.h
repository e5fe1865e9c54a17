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
};

struct segment {
	unsigned char *base;
	size_t size;
	struct vigil_header *hdr;
	int fd;			/* the shm descriptor, -1 once closed */
	int writable;
};

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
void		seg_close(struct segment *);

struct vigil_seqblock	*seg_dir_slot(const struct segment *, uint32_t);
struct vigil_seqblock	*seg_stats(const struct segment *, uint32_t);
struct vigil_ring_ctl	*seg_sample_ring(const struct segment *, uint32_t);
struct vigil_ring_ctl	*seg_history_ring(const struct segment *, uint32_t);
struct vigil_ring_ctl	*seg_alert_ring(const struct segment *);
struct vigil_seqblock	*seg_route(const struct segment *);
size_t			 seg_route_words(const struct segment *);

#endif /* VIGIL_SEGMENT_H */
