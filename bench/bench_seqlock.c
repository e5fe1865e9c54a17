/*
 * bench_seqlock.c - the client's seqlocked reads, ns per read: one stats
 * block, a snapshot of one provider (directory slot, stats, slot again),
 * a snapshot of all providers, and a seqlock write.
 *
 * Baseline, measured in the same run: a plain memcpy of the same bytes
 * (what an unsynchronised read of the same data would cost).  The
 * segment is laid out by seg_layout in private memory, 64 providers.
 * Each figure is the best of several rounds.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ring.h"
#include "segment.h"

#define PROVIDERS	64
#define ROUNDS		5

static double	now_s(void);
static void	report(const char *, double, double);
static double	best(double, double);

static volatile uint64_t sink;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
best(double a, double b)
{
	return a < b ? a : b;
}

static void
report(const char *what, double t, double base)
{
	printf("%-34s %9.1f ns/op   memcpy baseline %9.1f ns/op   ratio "
	    "%5.2fx\n", what, t * 1e9, base * 1e9, t / base);
}

int
main(void)
{
	struct seg_caps caps = { PROVIDERS, 16, 16, 16, 0 };
	struct vigil_header h;
	struct vigil_client c;
	struct vigil_provider_info pi;
	struct vigil_provider *all, one;
	struct vigil_stats st, *plain_st;
	unsigned char *mem, *plain;
	char err[128];
	size_t n, each = sizeof(pi) + sizeof(st);
	double t0, t_stats = 1e9, b_stats = 1e9, t_one = 1e9, b_one = 1e9,
	    t_all = 1e9, b_all = 1e9, t_write = 1e9, b_write = 1e9;
	uint32_t i;
	long k, iters = 1000000;
	int r;

	if (seg_layout(&caps, &h, err, sizeof(err)) == -1)
		return 1;
	h.magic = VIGIL_MAGIC;
	mem = aligned_alloc(4096, h.size);
	plain = aligned_alloc(64, each * PROVIDERS);
	all = calloc(PROVIDERS, sizeof(*all));
	plain_st = aligned_alloc(64, sizeof(*plain_st));
	if (mem == NULL || plain == NULL || all == NULL || plain_st == NULL)
		return 1;
	memset(mem, 0, h.size);
	memcpy(mem, &h, sizeof(h));
	memset(plain, 0x11, each * PROVIDERS);
	vigil_attach(&c, mem, h.size);
	if (vigil_validate(mem, h.size, err, sizeof(err)) != VIGIL_OK)
		return 1;
	memset(&st, 0, sizeof(st));
	st.status = VIGIL_ST_HEALTHY;
	for (i = 0; i < PROVIDERS; i++) {
		memset(&pi, 0, sizeof(pi));
		snprintf(pi.name, sizeof(pi.name), "p%u", i);
		pi.flags = VIGIL_PF_IN_USE;
		seqlock_write((struct vigil_seqblock *)(void *)(mem +
		    h.dir_off + i * h.dir_stride), &pi, VIGIL_WORDS(pi));
		seqlock_write((struct vigil_seqblock *)(void *)(mem +
		    h.stats_off + i * h.stats_stride), &st, VIGIL_WORDS(st));
	}
	memcpy(plain_st, &st, sizeof(st));

	for (r = 0; r < ROUNDS; r++) {
		t0 = now_s();
		for (k = 0; k < iters; k++) {
			if (vigil_provider_stats(&c, (uint32_t)k % PROVIDERS,
			    &st) != VIGIL_OK)
				return 1;
			sink += st.status;
		}
		t_stats = best(t_stats, (now_s() - t0) / iters);
		t0 = now_s();
		for (k = 0; k < iters; k++) {
			memcpy(&st, plain + ((size_t)k % PROVIDERS) * each,
			    sizeof(st));
			__asm__ __volatile__("" ::: "memory");
			sink += st.status;
		}
		b_stats = best(b_stats, (now_s() - t0) / iters);

		t0 = now_s();
		for (k = 0; k < iters; k++) {
			if (vigil_snapshot(&c, (uint32_t)k % PROVIDERS, &one) !=
			    VIGIL_OK)
				return 1;
			sink += one.stats.status;
		}
		t_one = best(t_one, (now_s() - t0) / iters);
		t0 = now_s();
		for (k = 0; k < iters; k++) {
			memcpy(&one.info, plain + ((size_t)k % PROVIDERS) *
			    each, sizeof(one.info));
			memcpy(&one.stats, plain + ((size_t)k % PROVIDERS) *
			    each + sizeof(one.info), sizeof(one.stats));
			__asm__ __volatile__("" ::: "memory");
			sink += one.stats.status;
		}
		b_one = best(b_one, (now_s() - t0) / iters);

		t0 = now_s();
		for (k = 0; k < iters / PROVIDERS; k++) {
			if (vigil_snapshot_all(&c, all, PROVIDERS, &n) !=
			    VIGIL_OK || n != PROVIDERS)
				return 1;
			sink += all[PROVIDERS - 1].stats.status;
		}
		t_all = best(t_all, (now_s() - t0) / (iters / PROVIDERS));
		t0 = now_s();
		for (k = 0; k < iters / PROVIDERS; k++) {
			for (i = 0; i < PROVIDERS; i++) {
				memcpy(&all[i].info, plain + i * each,
				    sizeof(all[i].info));
				memcpy(&all[i].stats, plain + i * each +
				    sizeof(all[i].info), sizeof(all[i].stats));
			}
			__asm__ __volatile__("" ::: "memory");
			sink += all[PROVIDERS - 1].stats.status;
		}
		b_all = best(b_all, (now_s() - t0) / (iters / PROVIDERS));

		t0 = now_s();
		for (k = 0; k < iters; k++) {
			st.samples_total = (uint64_t)k;
			seqlock_write((struct vigil_seqblock *)(void *)(mem +
			    h.stats_off), &st, VIGIL_WORDS(st));
		}
		t_write = best(t_write, (now_s() - t0) / iters);
		t0 = now_s();
		for (k = 0; k < iters; k++) {
			st.samples_total = (uint64_t)k;
			memcpy(plain_st, &st, sizeof(st));
			__asm__ __volatile__("" ::: "memory");
		}
		b_write = best(b_write, (now_s() - t0) / iters);
	}

	report("stats block read (768 B)", t_stats, b_stats);
	report("snapshot, one provider (904 B)", t_one, b_one);
	report("snapshot, all 64 providers", t_all, b_all);
	report("stats block write (768 B)", t_write, b_write);
	printf("(ratio = seqlocked / plain memcpy; best of %d rounds; "
	    "sink %llu)\n", ROUNDS, (unsigned long long)(sink & 1));
	free(plain_st);
	free(all);
	free(plain);
	free(mem);
	return 0;
}
