/*
 * test_ring.c - the sample ring and the seqlock, single-threaded: order,
 * wrap-around, overwrite detection and exact loss counts, half-written
 * entries, reset, capacities, cursor positions.  The concurrent cases are
 * in test_ring_threads.c (threads, run under TSan) and test_ring_kill.c
 * (processes, SIGKILL).
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"
#include "ring.h"
#include "segment.h"

#define REC_WORDS	8	/* a record of 8 u64 words, like a sample */
#define STRIDE		(8 * (1 + REC_WORDS))

struct tring {
	struct vigil_ring_ctl *ctl;
	struct ring_writer w;
	uint32_t cap;
};

static void	tring_init(struct tring *, uint32_t);
static void	tring_free(struct tring *);
static void	rec_make(uint64_t, uint64_t *);
static int	rec_check(uint64_t, const uint64_t *);
static int	tring_next(struct tring *, struct vigil_cursor *, uint64_t *);
static struct vigil_ring_entry *tring_entry(struct tring *, uint64_t);

/* A ring in private memory, laid out as in the segment. */
static void
tring_init(struct tring *t, uint32_t cap)
{
	size_t bytes = sizeof(struct vigil_ring_ctl) + (size_t)cap * STRIDE;

	t->ctl = aligned_alloc(64, (bytes + 63) / 64 * 64);
	if (t->ctl == NULL)
		abort();
	memset(t->ctl, 0, bytes);
	t->cap = cap;
	ring_writer_init(&t->w, t->ctl, cap, STRIDE);
}

static void
tring_free(struct tring *t)
{
	free(t->ctl);
}

/* Record n: every word derived from n, so a mix of two records shows. */
static void
rec_make(uint64_t n, uint64_t *w)
{
	int i;

	for (i = 0; i < REC_WORDS; i++)
		w[i] = n * 0x9e3779b97f4a7c15ULL + (uint64_t)i;
}

static int
rec_check(uint64_t n, const uint64_t *w)
{
	uint64_t want[REC_WORDS];

	rec_make(n, want);
	return memcmp(want, w, sizeof(want)) == 0;
}

static int
tring_next(struct tring *t, struct vigil_cursor *c, uint64_t *out)
{
	return vigil_ring_next(t->ctl, (const unsigned char *)(t->ctl + 1),
	    t->cap, STRIDE, c, out, REC_WORDS);
}

static struct vigil_ring_entry *
tring_entry(struct tring *t, uint64_t n)
{
	return (struct vigil_ring_entry *)(void *)((unsigned char *)
	    (t->ctl + 1) + (size_t)(n & (t->cap - 1)) * STRIDE);
}

static void
push_n(struct tring *t, uint64_t from, uint64_t count)
{
	uint64_t rec[REC_WORDS], n;

	for (n = from; n < from + count; n++) {
		rec_make(n, rec);
		ring_push(&t->w, rec, REC_WORDS);
	}
}

static void
test_push_read_in_order(void)
{
	struct tring t;
	struct vigil_cursor c = { 0, 0 };
	uint64_t out[REC_WORDS], n;

	tring_init(&t, 16);
	T_CHECK(tring_next(&t, &c, out) == 0);	/* empty */
	push_n(&t, 0, 10);
	T_CHECK(atomic_load(&t.ctl->head) == 10);
	for (n = 0; n < 10; n++) {
		T_CHECK(tring_next(&t, &c, out) == 1);
		T_CHECKF(rec_check(n, out), "record %llu", (unsigned long long)n);
	}
	T_CHECK(tring_next(&t, &c, out) == 0);
	T_CHECK(c.next == 10 && c.lost == 0);
	/* Interleaved: each new record is read right after its push. */
	for (n = 10; n < 100; n++) {
		push_n(&t, n, 1);
		T_CHECK(tring_next(&t, &c, out) == 1);
		T_CHECK(rec_check(n, out));
		T_CHECK(tring_next(&t, &c, out) == 0);
	}
	T_CHECK(c.next == 100 && c.lost == 0);
	/* Sequence words are 2n+2 for the record each entry holds. */
	for (n = 100 - 16; n < 100; n++)
		T_CHECK(atomic_load(&tring_entry(&t, n)->seq) == 2 * n + 2);
	tring_free(&t);
}

/* Exactly one lap behind: nothing lost; one record more: one lost. */
static void
test_wrap_exact_loss(void)
{
	struct tring t;
	struct vigil_cursor c = { 0, 0 };
	uint64_t out[REC_WORDS], n;

	tring_init(&t, 8);
	push_n(&t, 0, 8);
	for (n = 0; n < 8; n++) {
		T_CHECK(tring_next(&t, &c, out) == 1);
		T_CHECK(rec_check(n, out));
	}
	T_CHECK(c.lost == 0);
	tring_free(&t);

	tring_init(&t, 8);
	push_n(&t, 0, 9);		/* record 0 overwritten by 8 */
	c.next = c.lost = 0;
	T_CHECK(tring_next(&t, &c, out) == 1);
	T_CHECK(rec_check(1, out));
	T_CHECK(c.lost == 1);
	for (n = 2; n < 9; n++) {
		T_CHECK(tring_next(&t, &c, out) == 1);
		T_CHECK(rec_check(n, out));
	}
	T_CHECK(tring_next(&t, &c, out) == 0);
	T_CHECK(c.lost == 1 && c.next == 9);
	tring_free(&t);
}

/* A reader many laps behind loses exactly head - next - cap records. */
static void
test_far_behind(void)
{
	struct tring t;
	struct vigil_cursor c = { 0, 0 };
	uint64_t out[REC_WORDS], n, got = 0, first = UINT64_MAX;

	tring_init(&t, 64);
	push_n(&t, 0, 5);
	T_CHECK(tring_next(&t, &c, out) == 1 && rec_check(0, out));
	T_CHECK(tring_next(&t, &c, out) == 1 && rec_check(1, out));
	push_n(&t, 5, 1000);		/* head 1005, reader at 2 */
	while (tring_next(&t, &c, out)) {
		n = c.next - 1;
		if (first == UINT64_MAX)
			first = n;
		T_CHECKF(rec_check(n, out), "record %llu",
		    (unsigned long long)n);
		got++;
	}
	T_CHECK(first == 1005 - 64);
	T_CHECK(got == 64);
	T_CHECKF(c.lost == 1005 - 64 - 2, "lost %llu",
	    (unsigned long long)c.lost);
	/* Everything accounted for: accepted + lost == published. */
	T_CHECK(2 + got + c.lost == 1005);
	tring_free(&t);
}

/*
 * A half-written record is never returned.  Two shapes: the writer died
 * after seq = 2n+1 and some payload but before head moved (invisible),
 * and the writer is overwriting the oldest record (seq odd for a newer
 * record) while a reader reaches it (skipped and counted lost).
 */
static void
test_half_written_skipped(void)
{
	struct tring t;
	struct vigil_cursor c = { 0, 0 };
	struct vigil_ring_entry *e;
	uint64_t out[REC_WORDS], n;
	int i;

	tring_init(&t, 8);
	push_n(&t, 0, 3);
	/* Record 3 half written: odd seq, garbage payload, head still 3. */
	e = tring_entry(&t, 3);
	atomic_store(&e->seq, 2 * 3 + 1);
	for (i = 0; i < REC_WORDS / 2; i++)
		atomic_store(&e->w[i], 0xdeadbeefULL);
	for (n = 0; n < 3; n++)
		T_CHECK(tring_next(&t, &c, out) == 1 && rec_check(n, out));
	T_CHECK(tring_next(&t, &c, out) == 0);
	T_CHECK(c.next == 3 && c.lost == 0);

	/* A restarted writer picks up head 3 and rewrites record 3. */
	ring_writer_init(&t.w, t.ctl, 8, STRIDE);
	T_CHECK(t.w.head == 3);
	push_n(&t, 3, 1);
	T_CHECK(tring_next(&t, &c, out) == 1 && rec_check(3, out));
	tring_free(&t);

	/* Overwrite in progress: head 8 published, record 8 (entry 0)
	 * half written over record 0.  A reader at 0 must not see it. */
	tring_init(&t, 8);
	push_n(&t, 0, 8);
	e = tring_entry(&t, 8);
	atomic_store(&e->seq, 2 * 8 + 1);
	atomic_store(&e->w[0], 0xdeadbeefULL);
	c.next = c.lost = 0;
	T_CHECK(tring_next(&t, &c, out) == 1);
	T_CHECK(c.next == 2 && c.lost == 1);	/* 0 skipped, 1 read */
	T_CHECK(rec_check(1, out));
	tring_free(&t);

	/* Garbage seq (neither 2n+1 nor 2n+2): never accepted either. */
	tring_init(&t, 4);
	push_n(&t, 0, 2);
	atomic_store(&tring_entry(&t, 1)->seq, 12345);
	c.next = c.lost = 0;
	T_CHECK(tring_next(&t, &c, out) == 1 && rec_check(0, out));
	T_CHECK(tring_next(&t, &c, out) == 0);
	T_CHECK(c.next == 2 && c.lost == 1);
	tring_free(&t);
}

/*
 * ring_reset empties a reused slot's ring: head 0, every seq 0.  A reader
 * whose cursor is past the new head is pulled back and reads the new
 * records, never an old one.
 */
static void
test_reset(void)
{
	struct tring t;
	struct vigil_cursor c = { 0, 0 };
	uint64_t out[REC_WORDS], rec[REC_WORDS];
	uint32_t i;

	tring_init(&t, 8);
	push_n(&t, 0, 20);
	ring_beat(&t.w, 777);
	T_CHECK(atomic_load(&t.ctl->beat_ns) == 777);
	while (tring_next(&t, &c, out))
		;
	T_CHECK(c.next == 20 && c.lost == 12);

	ring_reset(&t.w);
	T_CHECK(atomic_load(&t.ctl->head) == 0);
	T_CHECK(atomic_load(&t.ctl->beat_ns) == 0);
	T_CHECK(t.w.head == 0);
	for (i = 0; i < 8; i++)
		T_CHECK(atomic_load(&tring_entry(&t, i)->seq) == 0);
	T_CHECK(tring_next(&t, &c, out) == 0);
	T_CHECK(c.next == 0);

	/* New numbering, new content. */
	memset(rec, 0x5a, sizeof(rec));
	ring_push(&t.w, rec, REC_WORDS);
	T_CHECK(tring_next(&t, &c, out) == 1);
	T_CHECK(memcmp(out, rec, sizeof(rec)) == 0);
	T_CHECK(tring_next(&t, &c, out) == 0);

	/* A fresh cursor on a reset ring whose seq words were not
	 * rewritten: record 1 is at seq 0, not 4, so it is not accepted. */
	atomic_store(&t.ctl->head, 2);
	c.next = c.lost = 0;
	T_CHECK(tring_next(&t, &c, out) == 1);
	T_CHECK(tring_next(&t, &c, out) == 0);
	T_CHECK(c.lost == 1);
	tring_free(&t);
}

/* Capacities are powers of two; entries map to n & (cap - 1). */
static void
test_pow2(void)
{
	struct vigil_header h;
	struct seg_caps caps = { 3, 1000, 1025, 2, 0 };
	char err[128];

	T_CHECK(seg_pow2(1) == 1);
	T_CHECK(seg_pow2(2) == 2);
	T_CHECK(seg_pow2(3) == 4);
	T_CHECK(seg_pow2(1000) == 1024);
	T_CHECK(seg_pow2(1024) == 1024);
	T_CHECK(seg_pow2(1025) == 2048);
	T_CHECK(seg_pow2(UINT32_MAX) == (UINT32_C(1) << 31));
	T_CHECK(seg_layout(&caps, &h, err, sizeof(err)) == 0);
	T_CHECK(h.sample_cap == 1024);
	T_CHECK(h.history_cap == 2048);
	T_CHECK(h.alert_cap == 2);
	caps.samples = 1;
	T_CHECK(seg_layout(&caps, &h, err, sizeof(err)) == -1);
	T_CHECK(strstr(err, "ring capacities") != NULL);
	caps.samples = (1u << 20) + 1;
	T_CHECK(seg_layout(&caps, &h, err, sizeof(err)) == -1);
}

/* Record n lands in entry n & (cap - 1), cap = 4: record 6 in entry 2. */
static void
test_entry_index(void)
{
	struct tring t;
	uint64_t w0;

	tring_init(&t, 4);
	push_n(&t, 0, 7);
	T_CHECK(atomic_load(&tring_entry(&t, 2)->seq) == 2 * 6 + 2);
	T_CHECK(atomic_load(&tring_entry(&t, 3)->seq) == 2 * 3 + 2);
	w0 = atomic_load(&tring_entry(&t, 2)->w[0]);
	T_CHECK(w0 == 6 * 0x9e3779b97f4a7c15ULL);
	tring_free(&t);
}

/*
 * Cursor starting positions through the client: a fresh cursor reads the
 * oldest held record, vigil_samples_tail the last `back`.
 */
static void
test_cursor_start(void)
{
	struct seg_caps caps = { 2, 8, 4, 4, 0 };
	struct vigil_header h;
	struct vigil_client c;
	struct vigil_cursor cur = { 0, 0 };
	struct vigil_sample s[16];
	struct ring_writer w;
	unsigned char *mem;
	char err[128];
	uint32_t i;

	T_CHECK(seg_layout(&caps, &h, err, sizeof(err)) == 0);
	mem = aligned_alloc(4096, h.size);
	if (mem == NULL)
		abort();
	memset(mem, 0, h.size);
	h.magic = VIGIL_MAGIC;
	memcpy(mem, &h, sizeof(h));
	T_CHECK(vigil_validate(mem, h.size, err, sizeof(err)) == VIGIL_OK);
	vigil_attach(&c, mem, h.size);

	ring_writer_init(&w, (struct vigil_ring_ctl *)(void *)(mem +
	    h.samples_off + h.samples_stride), h.sample_cap, h.sample_entry);
	/* Empty ring: tail gives next 0. */
	vigil_samples_tail(&c, 1, &cur, 5);
	T_CHECK(cur.next == 0 && cur.lost == 0);
	for (i = 0; i < 12; i++) {
		memset(&s[0], 0, sizeof(s[0]));
		s[0].latency_us = 100 + i;
		ring_push(&w, &s[0], VIGIL_WORDS(struct vigil_sample));
	}
	/* Fresh cursor: oldest held is 12 - 8 = 4; 4 lost before it. */
	cur.next = cur.lost = 0;
	T_CHECK(vigil_read_samples(&c, 1, &cur, s, 16) == 8);
	T_CHECK(s[0].latency_us == 104 && s[7].latency_us == 111);
	T_CHECK(cur.lost == 4);
	/* Tail 3: the newest three, no loss. */
	vigil_samples_tail(&c, 1, &cur, 3);
	T_CHECK(cur.next == 9 && cur.lost == 0);
	T_CHECK(vigil_read_samples(&c, 1, &cur, s, 16) == 3);
	T_CHECK(s[0].latency_us == 109 && s[2].latency_us == 111);
	/* Tail 0: only what comes next. */
	vigil_samples_tail(&c, 1, &cur, 0);
	T_CHECK(vigil_read_samples(&c, 1, &cur, s, 16) == 0);
	/* max is honoured. */
	vigil_samples_tail(&c, 1, &cur, 100);
	T_CHECK(cur.next == 0);
	T_CHECK(vigil_read_samples(&c, 1, &cur, s, 2) == 2);
	T_CHECK(s[0].latency_us == 104 && s[1].latency_us == 105);
	/* The other ring is untouched; an index out of range reads nothing. */
	cur.next = cur.lost = 0;
	T_CHECK(vigil_read_samples(&c, 0, &cur, s, 16) == 0);
	T_CHECK(vigil_read_samples(&c, 2, &cur, s, 16) == 0);
	vigil_samples_tail(&c, 2, &cur, 3);
	T_CHECK(cur.next == 0);
	free(mem);
}

/* The seqlock: whole payloads, odd means busy, a dead writer recovers. */
static void
test_seqlock(void)
{
	struct {
		_Atomic uint64_t seq;
		_Atomic uint64_t w[4];
	} blk;
	struct vigil_seqblock *b = (struct vigil_seqblock *)(void *)&blk;
	uint64_t in[4] = { 1, 2, 3, 4 }, out[4];

	memset(&blk, 0, sizeof(blk));
	T_CHECK(vigil_seq_read(b, out, 4) == VIGIL_OK);
	T_CHECK(out[0] == 0 && out[3] == 0);
	seqlock_write(b, in, 4);
	T_CHECK(atomic_load(&blk.seq) == 2);
	T_CHECK(vigil_seq_read(b, out, 4) == VIGIL_OK);
	T_CHECK(memcmp(in, out, sizeof(in)) == 0);

	/* Held odd (writer mid-update, or dead): busy, out not trusted. */
	seqlock_write_begin(b);
	T_CHECK(atomic_load(&blk.seq) == 3);
	T_CHECK(vigil_seq_read(b, out, 4) == VIGIL_EBUSY);
	seqlock_write_end(b);
	T_CHECK(atomic_load(&blk.seq) == 4);
	T_CHECK(vigil_seq_read(b, out, 4) == VIGIL_OK);

	/* A writer that died odd: the next writer rounds up and writes a
	 * whole payload; readers recover. */
	atomic_store(&blk.seq, 7);
	T_CHECK(vigil_seq_read(b, out, 4) == VIGIL_EBUSY);
	in[0] = 9;
	seqlock_write(b, in, 4);
	T_CHECK(atomic_load(&blk.seq) % 2 == 0);
	T_CHECK(atomic_load(&blk.seq) > 7);
	T_CHECK(vigil_seq_read(b, out, 4) == VIGIL_OK);
	T_CHECK(out[0] == 9 && out[1] == 2);
}

int
main(void)
{
	T_RUN(test_push_read_in_order);
	T_RUN(test_wrap_exact_loss);
	T_RUN(test_far_behind);
	T_RUN(test_half_written_skipped);
	T_RUN(test_reset);
	T_RUN(test_pow2);
	T_RUN(test_entry_index);
	T_RUN(test_cursor_start);
	T_RUN(test_seqlock);
	return t_done();
}
