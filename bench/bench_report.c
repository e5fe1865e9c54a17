/*
 * bench_report.c - the cost of vigil_report() (issue 18), per call:
 * median and p99, beside a plain store of the same 32 bytes into an
 * array slot n & (cap - 1) (the least any report path can cost), with
 * the aggregator's reader (reports_drain) emptying the ring in another
 * thread all along.  Then 8 threads reporting at once: every record a
 * writer was told it delivered is read, once.
 *
 * Each call is timed alone (the TSC on x86, else CLOCK_MONOTONIC),
 * minus the median cost of an empty timed region.  Acceptance (issue
 * 18): median <= 50 ns, p99 <= 1 us.
 */
#include <sys/mman.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reports.h"

#define CALLS		1000000	/* <= 2^20: the paced run's ring */
#define RING		65536
#define NTHREADS	8
#define PER_THREAD	100000

static double	tick_ns;	/* ns per timer tick */

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#if defined(__x86_64__) || defined(__i386__)
static inline uint64_t
ticks(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("lfence\n\trdtsc" : "=a"(lo), "=d"(hi) ::
	    "memory");
	return (uint64_t)hi << 32 | lo;
}
#else
static inline uint64_t
ticks(void)
{
	return now_ns();
}
#endif

static void
calibrate(void)
{
	uint64_t t0 = now_ns(), c0 = ticks(), t1, c1;

	do
		t1 = now_ns();
	while (t1 - t0 < 200000000u);
	c1 = ticks();
	tick_ns = (double)(t1 - t0) / (double)(c1 - c0);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Median and p99 of n samples, in ns, less the timer's own cost. */
static void
quantiles(uint64_t *s, size_t n, double overhead, double *med, double *p99)
{
	qsort(s, n, sizeof(*s), cmp_u64);
	*med = s[n / 2] * tick_ns - overhead;
	*p99 = s[n * 99 / 100] * tick_ns - overhead;
	if (*med < 0)
		*med = 0;
	if (*p99 < 0)
		*p99 = 0;
}

struct shared {
	struct reports r;
	struct vigil_reporter rp;
	_Atomic int stop;
	uint64_t got;
	unsigned pause_us;	/* between drains; 0: flat out */
};

static int
take(const struct vigil_report_rec *rec, uint32_t slot, void *arg)
{
	struct shared *sh = arg;

	(void)rec;
	(void)slot;
	sh->got++;
	return 0;
}

static void *
reader(void *arg)
{
	struct shared *sh = arg;

	struct timespec ts = { 0, (long)sh->pause_us * 1000 };

	while (!atomic_load(&sh->stop)) {
		reports_drain(&sh->r, now_ns(), 0, take, sh);
		if (sh->pause_us != 0)
			nanosleep(&ts, NULL);
	}
	while (reports_drain(&sh->r, now_ns(), 0, take, sh) > 0)
		;
	return NULL;
}

static void *
writer(void *arg)
{
	struct shared *sh = arg;
	struct vigil_report_rec x;
	uint64_t i, *mine = calloc(2, sizeof(uint64_t));

	memset(&x, 0, sizeof(x));
	x.model = -1;
	for (i = 0; i < PER_THREAD; i++) {
		x.latency_us = (uint32_t)i;
		if (vigil_report(&sh->rp, &x) == 0)
			mine[0]++;
		else
			mine[1]++;
	}
	return mine;
}

static struct shared *
setup(uint32_t ring)
{
	struct vigil_reports_header h;
	struct shared *sh = calloc(1, sizeof(*sh));
	char err[256];
	void *p;

	if (sh == NULL || reports_layout(1, ring, &h, err, sizeof(err)) == -1)
		exit(1);
	/* Populated: a first touch's page fault is not the protocol's. */
	p = mmap(NULL, h.size, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (p == MAP_FAILED)
		exit(1);
	h.magic = VIGIL_REPORTS_MAGIC;
	memcpy(p, &h, sizeof(h));
	if (reports_attach(&sh->r, p, h.size, err, sizeof(err)) == -1)
		exit(1);
	sh->rp.base = sh->r.base;
	sh->rp.size = sh->r.size;
	sh->rp.lay = sh->r.lay;
	sh->rp.owner = 1;
	if (vigil__reporter_claim(&sh->rp) == -1)
		exit(1);
	return sh;
}

/* One writer timed call by call, the reader draining every pause_us
 * (0: flat out, always on the writer's heels). */
static void
one_writer(unsigned pause_us, double over, double *m_rep, double *p_rep,
    uint64_t *ok, uint64_t *drop, uint64_t *got)
{
	static uint64_t s_rep[CALLS];
	struct vigil_report_rec x;
	struct shared *sh;
	pthread_t tr;
	uint64_t t0, i;

	/* Paced: a ring the run fits in, so that every call is a write,
	 * not the cheaper drop. */
	sh = setup(pause_us != 0 ? 1u << 20 : RING);
	sh->pause_us = pause_us;
	pthread_create(&tr, NULL, reader, sh);
	memset(&x, 0, sizeof(x));
	x.model = -1;
	*ok = *drop = 0;
	for (i = 0; i < CALLS; i++) {
		x.latency_us = (uint32_t)i;
		t0 = ticks();
		if (vigil_report(&sh->rp, &x) == 0)
			(*ok)++;
		else
			(*drop)++;
		s_rep[i] = ticks() - t0;
	}
	atomic_store(&sh->stop, 1);
	pthread_join(tr, NULL);
	*got = sh->got;
	quantiles(s_rep, CALLS, over, m_rep, p_rep);
}

int
main(void)
{
	static uint64_t s_plain[CALLS], s_empty[CALLS];
	static struct vigil_report_rec plain[RING];
	struct vigil_report_rec x;
	struct shared *sh;
	pthread_t tr, tw[NTHREADS];
	uint64_t t0, i, ok = 0, drop = 0, got, *res;
	double over, m_rep, p_rep, m_pl, p_pl, p_e;
	int k;

	calibrate();
	memset(&x, 0, sizeof(x));
	x.model = -1;
	for (i = 0; i < CALLS; i++) {
		t0 = ticks();
		__asm__ __volatile__("" ::: "memory");
		s_empty[i] = ticks() - t0;
	}
	quantiles(s_empty, CALLS, 0, &over, &p_e);
	for (i = 0; i < CALLS; i++) {
		x.latency_us = (uint32_t)i;
		t0 = ticks();
		memcpy(&plain[i & (RING - 1)], &x, sizeof(x));
		__asm__ __volatile__("" ::: "memory");
		s_plain[i] = ticks() - t0;
	}
	quantiles(s_plain, CALLS, over, &m_pl, &p_pl);
	printf("report write, %d calls timed one by one (timer cost %.1f ns "
	    "taken off); plain store of the same 32 bytes: median %.1f ns, "
	    "p99 %.1f ns\n", CALLS, over, m_pl, p_pl);
	for (k = 0; k < 2; k++) {
		unsigned pause = k == 0 ? 1000 : 0;

		one_writer(pause, over, &m_rep, &p_rep, &ok, &drop, &got);
		printf("  reader %-28s vigil_report median %6.1f ns  p99 "
		    "%7.1f ns  (%.0fx the plain store's median; %llu "
		    "delivered, %llu dropped, %llu read)\n", k == 0 ?
		    "draining every 1 ms:" : "draining flat out:", m_rep,
		    p_rep, m_rep / (m_pl > 1 ? m_pl : 1),
		    (unsigned long long)ok, (unsigned long long)drop,
		    (unsigned long long)got);
		if (k == 0)
			printf("  acceptance (issue 18, reader as the "
			    "aggregator's tick): median <= 50 ns %s, p99 <= "
			    "1000 ns %s\n", m_rep <= 50 ? "met" : "NOT met",
			    p_rep <= 1000 ? "met" : "NOT met");
	}

	sh = setup((uint32_t)NTHREADS * PER_THREAD);
	pthread_create(&tr, NULL, reader, sh);
	ok = drop = 0;
	for (k = 0; k < NTHREADS; k++)
		pthread_create(&tw[k], NULL, writer, sh);
	for (k = 0; k < NTHREADS; k++) {
		pthread_join(tw[k], (void **)&res);
		ok += res[0];
		drop += res[1];
		free(res);
	}
	atomic_store(&sh->stop, 1);
	pthread_join(tr, NULL);
	printf("%d threads at once, %d records each: delivered %llu, "
	    "dropped %llu, read %llu, lost %llu: %s\n", NTHREADS, PER_THREAD,
	    (unsigned long long)ok, (unsigned long long)drop,
	    (unsigned long long)sh->got,
	    (unsigned long long)sh->r.st[0].lost,
	    ok == sh->got && drop == 0 ? "nothing lost" : "LOST");
	return ok == sh->got ? 0 : 1;
}
