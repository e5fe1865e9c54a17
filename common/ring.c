/*
 * ring.c - single-writer ring and seqlock, the writer side.
 *
 * Slot protocol for record n (STYLE.md, after the Linux perf ring):
 *   seq = 2n+1 (relaxed), release fence, payload (relaxed stores),
 *   seq = 2n+2 (release), head = n+1 (release).
 * A reader that copied any payload word of record n+cap (the overwrite)
 * is guaranteed by the fence pairing to see seq != 2n+2 on its re-read,
 * so a torn record is always detected and never accepted.
 */
#include <stdatomic.h>
#include <time.h>

#include "ring.h"

/*
 * Attach the writer to a ring.  Picks up head from the segment so that a
 * restarted writer continues numbering where the dead one published last:
 * readers' cursors stay valid, and a slot the dead writer left half
 * written (seq odd, head not moved) is simply rewritten.
 */
void
ring_writer_init(struct ring_writer *w, struct vigil_ring_ctl *ctl,
    uint32_t cap, uint32_t stride)
{
	w->ctl = ctl;
	w->entries = (unsigned char *)(ctl + 1);
	w->cap = cap;
	w->stride = stride;
	/* Relaxed: the previous writer is dead (reaped) before we start. */
	w->head = atomic_load_explicit(&ctl->head, memory_order_relaxed);
}

/*
 * Publish one record of `words` u64 words.  O(words); never blocks, never
 * waits for readers: the oldest record is overwritten.
 */
void
ring_push(struct ring_writer *w, const void *rec, size_t words)
{
	const uint64_t *src = rec;
	uint64_t n = w->head;
	struct vigil_ring_entry *e = (struct vigil_ring_entry *)(void *)
	    (w->entries + (size_t)(n & (w->cap - 1)) * w->stride);
	size_t i;

	/* Relaxed: ordered before the payload by the fence below. */
	atomic_store_explicit(&e->seq, 2 * n + 1, memory_order_relaxed);
	/* Release fence: a reader that sees any payload word below also
	 * sees seq >= 2n+1 when it re-reads after its acquire fence. */
	atomic_thread_fence(memory_order_release);
	for (i = 0; i < words; i++)
		atomic_store_explicit(&e->w[i], src[i], memory_order_relaxed);
	/* Release: the payload happens-before a reader's acquire of 2n+2. */
	atomic_store_explicit(&e->seq, 2 * n + 2, memory_order_release);
	w->head = n + 1;
	/* Release: a reader that sees head n+1 sees the whole record. */
	atomic_store_explicit(&w->ctl->head, n + 1, memory_order_release);
}

/* Bump the writer's heartbeat.  Relaxed: a lone word, no payload to order. */
void
ring_beat(struct ring_writer *w, uint64_t now)
{
	atomic_store_explicit(&w->ctl->beat_ns, now, memory_order_relaxed);
}

/*
 * Empty the ring (a retired provider's slot being reused).  Only the
 * supervisor calls this, when no writer is attached.  Entries' seq words
 * are cleared so no old record can match a new number.
 */
void
ring_reset(struct ring_writer *w)
{
	uint32_t i;

	for (i = 0; i < w->cap; i++) {
		struct vigil_ring_entry *e = (struct vigil_ring_entry *)(void *)
		    (w->entries + (size_t)i * w->stride);
		atomic_store_explicit(&e->seq, 0, memory_order_relaxed);
	}
	w->head = 0;
	atomic_store_explicit(&w->ctl->beat_ns, 0, memory_order_relaxed);
	atomic_store_explicit(&w->ctl->head, 0, memory_order_release);
}

/*
 * Seqlock writer.  An odd seq means "being written".  A writer that was
 * killed mid-update leaves seq odd: the next writer rounds it up to even
 * and writes a whole new payload, so readers recover at the next update
 * (until then they get VIGIL_EBUSY, never garbage).
 */
void
seqlock_write_begin(struct vigil_seqblock *b)
{
	/* Relaxed: we are the only writer of seq. */
	uint64_t s = atomic_load_explicit(&b->seq, memory_order_relaxed);

	if (s & 1)
		s++;
	atomic_store_explicit(&b->seq, s + 1, memory_order_relaxed);
	/* Release fence: seq odd is ordered before the payload stores. */
	atomic_thread_fence(memory_order_release);
}

void
seqlock_write_end(struct vigil_seqblock *b)
{
	uint64_t s = atomic_load_explicit(&b->seq, memory_order_relaxed);

	/* Release: the payload happens-before a reader's acquire of it. */
	atomic_store_explicit(&b->seq, s + 1, memory_order_release);
}

/* Replace the block's payload of `words` u64 words.  O(words). */
void
seqlock_write(struct vigil_seqblock *b, const void *payload, size_t words)
{
	const uint64_t *src = payload;
	size_t i;

	seqlock_write_begin(b);
	for (i = 0; i < words; i++)
		atomic_store_explicit(&b->w[i], src[i], memory_order_relaxed);
	seqlock_write_end(b);
}

uint64_t
now_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t
now_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
