/*
 * test_reports_threads.c - vigil_report() from 8 threads at once against
 * the aggregator's reader in another thread (issue 18).  Every record a
 * writer was told it delivered (0) is read exactly once and whole;
 * every drop (-1) is counted in the slot; with a ring larger than the
 * run nothing is dropped at all.
 *
 * Built and run under ThreadSanitizer too (make SAN=tsan, TSAN_TESTS),
 * with fewer records.
 */
#include <sys/mman.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "t.h"
#include "reports.h"

#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#endif

#ifdef UNDER_TSAN
#define PER_THREAD	20000
#else
#define PER_THREAD	60000
#endif
#define NTHREADS	8

struct run {
	struct vigil_reporter rp;
	struct reports r;
	_Atomic int writers_left;
	uint64_t sent_ok[NTHREADS];
	uint64_t sent_drop[NTHREADS];
	uint64_t got[NTHREADS];
	uint64_t next[NTHREADS];	/* per writer: in order */
	uint64_t bad;
};

struct writer {
	struct run *run;
	int id;
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Every field derived from (writer, n): a torn record shows. */
static int
take(const struct vigil_report_rec *x, uint32_t slot, void *arg)
{
	struct run *run = arg;
	uint32_t n = x->latency_us;

	(void)slot;
	if (x->provider < 0 || x->provider >= NTHREADS ||
	    x->tokens_in != (n ^ 0x5a5a5a5au) % 100000000u ||
	    x->tokens_out != (uint32_t)x->provider * 7 ||
	    x->ttft_us != n / 2 || n < run->next[x->provider]) {
		run->bad++;
		return -1;
	}
	run->next[x->provider] = n + 1;
	run->got[x->provider]++;
	return 0;
}

static void *
writer_main(void *arg)
{
	struct writer *w = arg;
	struct vigil_report_rec x;
	uint32_t n;

	for (n = 1; n <= PER_THREAD; n++) {
		memset(&x, 0, sizeof(x));
		x.provider = w->id;
		x.model = -1;
		x.latency_us = n;
		x.ttft_us = n / 2;
		x.tokens_in = (n ^ 0x5a5a5a5au) % 100000000u;
		x.tokens_out = (uint32_t)w->id * 7;
		x.outcome = VIGIL_OUT_OK;
		if (vigil_report(&w->run->rp, &x) == 0)
			w->run->sent_ok[w->id]++;
		else
			w->run->sent_drop[w->id]++;
	}
	atomic_fetch_sub(&w->run->writers_left, 1);
	return NULL;
}

static void *
reader_main(void *arg)
{
	struct run *run = arg;

	while (atomic_load(&run->writers_left) > 0)
		reports_drain(&run->r, now_ns(), 0, take, run);
	/* The rest: a drain's work is bounded, so until there is none. */
	while (reports_drain(&run->r, now_ns(), 0, take, run) > 0)
		;
	return NULL;
}

static void
one_run(uint32_t ring, int expect_no_drop)
{
	struct vigil_reports_header h;
	struct writer w[NTHREADS];
	pthread_t tw[NTHREADS], tr;
	struct run *run;
	uint64_t ok = 0, drop = 0, got = 0;
	char err[256];
	void *p;
	int i;

	run = calloc(1, sizeof(*run));
	T_CHECK(reports_layout(1, ring, &h, err, sizeof(err)) == 0);
	p = mmap(NULL, h.size, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0);
	T_CHECK(p != MAP_FAILED);
	h.magic = VIGIL_REPORTS_MAGIC;
	memcpy(p, &h, sizeof(h));
	T_CHECK(reports_attach(&run->r, p, h.size, err, sizeof(err)) == 0);
	/* No writer is ever given up on here: the point is delivery. */
	run->r.grace_ns = UINT64_C(3600) * 1000000000u;
	run->rp.base = run->r.base;
	run->rp.size = run->r.size;
	run->rp.lay = run->r.lay;
	run->rp.owner = 1;
	T_CHECK(vigil__reporter_claim(&run->rp) == 0);
	atomic_store(&run->writers_left, NTHREADS);
	pthread_create(&tr, NULL, reader_main, run);
	for (i = 0; i < NTHREADS; i++) {
		w[i].run = run;
		w[i].id = i;
		pthread_create(&tw[i], NULL, writer_main, &w[i]);
	}
	for (i = 0; i < NTHREADS; i++)
		pthread_join(tw[i], NULL);
	pthread_join(tr, NULL);
	for (i = 0; i < NTHREADS; i++) {
		T_CHECKF(run->got[i] == run->sent_ok[i], "writer %d: sent %llu "
		    "got %llu", i, (unsigned long long)run->sent_ok[i],
		    (unsigned long long)run->got[i]);
		ok += run->sent_ok[i];
		drop += run->sent_drop[i];
		got += run->got[i];
	}
	T_CHECK(run->bad == 0);
	T_CHECK(run->r.st[0].lost == 0 && run->r.st[0].invalid == 0);
	T_CHECK(ok + drop == (uint64_t)NTHREADS * PER_THREAD);
	T_CHECK(atomic_load(&run->rp.slot->full) == drop);
	if (expect_no_drop)
		T_CHECKF(drop == 0, "%llu dropped", (unsigned long long)drop);
	printf("# ring %u: %llu sent, %llu read, %llu dropped (full)\n",
	    ring, (unsigned long long)ok, (unsigned long long)got,
	    (unsigned long long)drop);
	munmap(p, h.size);
	free(run);
}

/* A ring larger than the run: 8 threads lose nothing. */
static void
test_no_loss(void)
{
	one_run(NTHREADS * PER_THREAD, 1);
}

/* A small ring the reader must keep emptying: drops are counted, and
 * every record delivered is read once. */
static void
test_small_ring(void)
{
	one_run(1024, 0);
}

int
main(void)
{
	T_RUN(test_no_loss);
	T_RUN(test_small_ring);
	return t_done();
}
