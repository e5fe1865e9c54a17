/*
 * ring.h - the single writer of a lock-free ring and of a seqlocked block.
 *
 * Readers are in include/vigil/vigil.h (vigil_ring_next, vigil_seq_read):
 * vigil's own processes read through the same code as clients.
 */
#ifndef VIGIL_RING_H
#define VIGIL_RING_H

#include <stddef.h>
#include <stdint.h>

#include <vigil/vigil.h>

struct ring_writer {
	struct vigil_ring_ctl *ctl;
	unsigned char *entries;
	uint32_t cap;		/* power of two */
	uint32_t stride;	/* bytes per entry, seq word included */
	uint64_t head;		/* private copy: the writer owns head */
};

void	ring_writer_init(struct ring_writer *, struct vigil_ring_ctl *,
	    uint32_t, uint32_t);
void	ring_push(struct ring_writer *, const void *, size_t);
void	ring_beat(struct ring_writer *, uint64_t);
void	ring_reset(struct ring_writer *);

void	seqlock_write(struct vigil_seqblock *, const void *, size_t);
void	seqlock_write_begin(struct vigil_seqblock *);
void	seqlock_write_end(struct vigil_seqblock *);

uint64_t	now_mono_ns(void);
uint64_t	now_wall_ns(void);

#endif /* VIGIL_RING_H */
