/*
 * test_ring_threads.c - the ring and the seqlock under real concurrency:
 * one writer thread, several reader threads.  Every record a reader
 * accepts must be whole (every word derived from its record number) and
 * newer than the last; accepted + lost must account for every record.
 * Seqlock readers must never accept a torn block, and must get
 * VIGIL_EBUSY, not spin, while the writer holds the block odd.
 *
 * Built and run under ThreadSanitizer too (make SAN=tsan), where it does
 * fewer iterations: TSan runs atomics some ten times slower.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "t.h"
#include "ring.h"

#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#endif

#ifdef UNDER_TSAN
#define RING_RECORDS	1500000
#define SEQ_UPDATES	300000
#else
#define RING_RECORDS	4000000
#define SEQ_UPDATES	1000000
#endif

#define NREADERS	3
#define REC_WORDS	8
#define STRIDE		(8 * (1 + REC_WORDS))
#define RING_CAP	256
#define SEQ_WORDS	32
#define HOLD_EVERY	(SEQ_UPDATES / 8)

struct ring_shared {
	struct vigil_ring_ctl *ctl;
	_Atomic int done;
};

struct ring_reader {
	struct ring_shared *sh;
	uint64_t accepted;
	uint64_t lost;
	uint64_t next;
	uint64_t bad;		/* torn or out of order: must stay 0 */
	uint64_t last;		/* last record accepted */
};

struct seq_reader;

struct seq_shared {
	struct vigil_seqblock *blk;
	_Atomic int done;
	_Atomic uint64_t held;	/* odd while the writer holds seq odd */
	struct seq_reader *rd;	/* NREADERS of them */
};

struct seq_reader {
	struct seq_shared *sh;
	_Atomic uint64_t acked;	/* last hold it read inside */
	uint64_t ok;
	uint64_t busy;
	uint64_t held_reads;	/* reads made wholly inside a hold */
	uint64_t bad;		/* torn, backwards, or OK while held */
	uint64_t last;
};

#ifdef UNDER_TSAN
const char	*__tsan_default_options(void);

/*
 * t.h ends each test with _exit(), which skips TSan's exit-time failure
 * status: stop at the first report instead, so a race fails the test.
 */
const char *
__tsan_default_options(void)
{
	return "halt_on_error=1:abort_on_error=1";
}
#endif

static void	rec_make(uint64_t, uint64_t *);
static int	rec_check(uint64_t, const uint64_t *);
static void	*ring_writer_main(void *);
static void	*ring_reader_main(void *);
static void	*seq_writer_main(void *);
static void	*seq_reader_main(void *);
static void	sleep_us(long);
static void	hold_wait(struct seq_shared *, uint64_t);

static void
rec_make(uint64_t n, uint64_t *w)
{
	int i;

	w[0] = n;
	for (i = 1; i < REC_WORDS; i++)
		w[i] = (n + (uint64_t)i) * 0x9e3779b97f4a7c15ULL;
}

static int
rec_check(uint64_t n, const uint64_t *w)
{
	uint64_t want[REC_WORDS];

	rec_make(n, want);
	return memcmp(want, w, sizeof(want)) == 0;
}

static void
sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

/*
 * While holding the block odd, wait until every reader made at least one
 * read wholly inside this hold (so each is known to have met a busy
 * block), for at most 5 s: a starved reader fails the test, not hangs it.
 */
static void
hold_wait(struct seq_shared *sh, uint64_t hold)
{
	int i, waiting, ms;

	for (ms = 0; ms < 5000; ms++) {
		waiting = 0;
		for (i = 0; i < NREADERS; i++)
			if (atomic_load_explicit(&sh->rd[i].acked,
			    memory_order_acquire) != hold)
				waiting = 1;
		if (!waiting)
			return;
		sleep_us(1000);
	}
}

static void *
ring_writer_main(void *arg)
{
	struct ring_shared *sh = arg;
	struct ring_writer w;
	uint64_t rec[REC_WORDS], n;

	ring_writer_init(&w, sh->ctl, RING_CAP, STRIDE);
	for (n = 0; n < RING_RECORDS; n++) {
		rec_make(n, rec);
		ring_push(&w, rec, REC_WORDS);
	}
	atomic_store_explicit(&sh->done, 1, memory_order_release);
	return NULL;
}

static void *
ring_reader_main(void *arg)
{
	struct ring_reader *r = arg;
	struct vigil_cursor c = { 0, 0 };
	uint64_t out[REC_WORDS], n, last = 0;
	int have_last = 0, done;

	for (;;) {
		/* Read done first: if it was set, one more pass drains all. */
		done = atomic_load_explicit(&r->sh->done,
		    memory_order_acquire);
		while (vigil_ring_next(r->sh->ctl,
		    (const unsigned char *)(r->sh->ctl + 1), RING_CAP, STRIDE,
		    &c, out, REC_WORDS)) {
			n = c.next - 1;
			if (!rec_check(n, out) || (have_last && n <= last)) {
				if (r->bad++ < 5)
					fprintf(stderr, "  torn or out of order "
					    "record %llu (w0 %llu)\n",
					    (unsigned long long)n,
					    (unsigned long long)out[0]);
			}
			last = n;
			have_last = 1;
			r->accepted++;
		}
		if (done)
			break;
	}
	r->lost = c.lost;
	r->next = c.next;
	r->last = last;
	return NULL;
}

static void
test_ring_threads(void)
{
	struct ring_shared sh;
	struct ring_reader rd[NREADERS];
	pthread_t wt, rt[NREADERS];
	size_t bytes = sizeof(struct vigil_ring_ctl) + RING_CAP * STRIDE;
	int i;

	sh.ctl = aligned_alloc(64, (bytes + 63) / 64 * 64);
	if (sh.ctl == NULL)
		abort();
	memset(sh.ctl, 0, bytes);
	atomic_init(&sh.done, 0);
	for (i = 0; i < NREADERS; i++) {
		memset(&rd[i], 0, sizeof(rd[i]));
		rd[i].sh = &sh;
		T_CHECK(pthread_create(&rt[i], NULL, ring_reader_main,
		    &rd[i]) == 0);
	}
	T_CHECK(pthread_create(&wt, NULL, ring_writer_main, &sh) == 0);
	pthread_join(wt, NULL);
	for (i = 0; i < NREADERS; i++) {
		pthread_join(rt[i], NULL);
		fprintf(stderr, "# ring reader %d: accepted %llu lost %llu\n",
		    i, (unsigned long long)rd[i].accepted,
		    (unsigned long long)rd[i].lost);
		T_CHECK(rd[i].bad == 0);
		T_CHECK(rd[i].next == RING_RECORDS);
		T_CHECKF(rd[i].accepted + rd[i].lost == RING_RECORDS,
		    "accepted %llu + lost %llu != %d",
		    (unsigned long long)rd[i].accepted,
		    (unsigned long long)rd[i].lost, RING_RECORDS);
		/* The newest record is always there once the writer
		 * stopped. */
		T_CHECK(rd[i].last == RING_RECORDS - 1);
	}
	free(sh.ctl);
}

/*
 * Seqlock writer: every word of the block is the update number v.  Every
 * HOLD_EVERY updates it holds the block odd for a while, as a writer that
 * was descheduled (or killed) mid-update would.
 */
static void *
seq_writer_main(void *arg)
{
	struct seq_shared *sh = arg;
	uint64_t v, words[SEQ_WORDS], hold = 0;
	int i;

	for (v = 1; v <= SEQ_UPDATES; v++) {
		for (i = 0; i < SEQ_WORDS; i++)
			words[i] = v;
		if (v % HOLD_EVERY == 0) {
			seqlock_write_begin(sh->blk);
			/* Release: a reader that sees held odd sees seq odd. */
			atomic_store_explicit(&sh->held, ++hold,
			    memory_order_release);
			for (i = 0; i < SEQ_WORDS; i++)
				atomic_store_explicit(&sh->blk->w[i], v,
				    memory_order_relaxed);
			hold_wait(sh, hold);
			atomic_store_explicit(&sh->held, ++hold,
			    memory_order_release);
			seqlock_write_end(sh->blk);
		} else
			seqlock_write(sh->blk, words, SEQ_WORDS);
	}
	atomic_store_explicit(&sh->done, 1, memory_order_release);
	return NULL;
}

static void *
seq_reader_main(void *arg)
{
	struct seq_reader *r = arg;
	uint64_t out[SEQ_WORDS], h1, h2;
	int i, rc, done, torn;

	for (;;) {
		done = atomic_load_explicit(&r->sh->done,
		    memory_order_acquire);
		h1 = atomic_load_explicit(&r->sh->held, memory_order_acquire);
		rc = vigil_seq_read(r->sh->blk, out, SEQ_WORDS);
		h2 = atomic_load_explicit(&r->sh->held, memory_order_acquire);
		if (h1 == h2 && (h1 & 1)) {
			/* Wholly inside a hold: every seq load saw odd. */
			r->held_reads++;
			atomic_store_explicit(&r->acked, h1,
			    memory_order_release);
			if (rc != VIGIL_EBUSY && r->bad++ < 5)
				fprintf(stderr, "  rc %d while held\n", rc);
		}
		if (rc == VIGIL_OK) {
			torn = 0;
			for (i = 1; i < SEQ_WORDS; i++)
				if (out[i] != out[0])
					torn = 1;
			if ((torn || out[0] < r->last) && r->bad++ < 5)
				fprintf(stderr, "  torn/backwards block: %llu "
				    "%llu (last %llu)\n",
				    (unsigned long long)out[0],
				    (unsigned long long)out[SEQ_WORDS - 1],
				    (unsigned long long)r->last);
			r->last = out[0];
			r->ok++;
		} else if (rc == VIGIL_EBUSY)
			r->busy++;
		else
			r->bad++;
		if (done)
			break;
	}
	return NULL;
}

static void
test_seqlock_threads(void)
{
	struct seq_shared sh;
	struct seq_reader rd[NREADERS];
	pthread_t wt, rt[NREADERS];
	size_t bytes = 8 * (1 + SEQ_WORDS);
	int i;

	sh.blk = aligned_alloc(64, (bytes + 63) / 64 * 64);
	if (sh.blk == NULL)
		abort();
	memset(sh.blk, 0, bytes);
	atomic_init(&sh.done, 0);
	atomic_init(&sh.held, 0);
	sh.rd = rd;
	for (i = 0; i < NREADERS; i++) {
		memset(&rd[i], 0, sizeof(rd[i]));
		atomic_init(&rd[i].acked, 0);
		rd[i].sh = &sh;
		T_CHECK(pthread_create(&rt[i], NULL, seq_reader_main,
		    &rd[i]) == 0);
	}
	T_CHECK(pthread_create(&wt, NULL, seq_writer_main, &sh) == 0);
	pthread_join(wt, NULL);
	for (i = 0; i < NREADERS; i++) {
		pthread_join(rt[i], NULL);
		fprintf(stderr, "# seqlock reader %d: ok %llu busy %llu "
		    "reads inside holds %llu\n", i,
		    (unsigned long long)rd[i].ok,
		    (unsigned long long)rd[i].busy,
		    (unsigned long long)rd[i].held_reads);
		T_CHECK(rd[i].bad == 0);
		/* The last read came after the writer finished. */
		T_CHECKF(rd[i].last == SEQ_UPDATES, "last %llu",
		    (unsigned long long)rd[i].last);
		/* Every reader read inside every hold. */
		T_CHECK(rd[i].held_reads >= SEQ_UPDATES / HOLD_EVERY);
		T_CHECK(rd[i].busy >= rd[i].held_reads);
	}
	free(sh.blk);
}

int
main(void)
{
	T_RUN(test_ring_threads);
	T_RUN(test_seqlock_threads);
	return t_done();
}
