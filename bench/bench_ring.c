/*
 * bench_ring.c - ring push and ring read, ns per record.
 *
 * Baselines, measured in the same run on the same 64-byte records (a
 * struct vigil_sample): a plain memcpy into (or out of) an array slot
 * n & (cap - 1), the least any ring can cost, and an uncontended
 * pthread-mutex ring, what a locked design would cost before any
 * contention.  Each figure is the best of several rounds.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ring.h"

#define CAP	1024
#define WORDS	VIGIL_WORDS(struct vigil_sample)
#define STRIDE	(8 * (1 + WORDS))
#define N	(CAP * 4096)	/* records per round */
#define ROUNDS	5

struct mutex_ring {
	pthread_mutex_t mu;
	uint64_t head;
	uint64_t rec[CAP][WORDS];
};

static double	now_s(void);
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

int
main(void)
{
	struct vigil_ring_ctl *ctl;
	struct ring_writer w;
	struct mutex_ring *mr;
	struct vigil_cursor cur;
	uint64_t (*plain)[WORDS];
	uint64_t rec[WORDS], out[WORDS], n, k;
	double t0, t, push = 1e9, read = 1e9, cpy_in = 1e9, cpy_out = 1e9,
	    mpush = 1e9, mread = 1e9;
	int r;

	ctl = aligned_alloc(64, sizeof(*ctl) + (size_t)CAP * STRIDE);
	plain = aligned_alloc(64, sizeof(*plain) * CAP);
	mr = aligned_alloc(64, (sizeof(*mr) + 63) / 64 * 64);
	if (ctl == NULL || plain == NULL || mr == NULL)
		return 1;
	memset(ctl, 0, sizeof(*ctl) + (size_t)CAP * STRIDE);
	memset(plain, 0, sizeof(*plain) * CAP);
	memset(mr, 0, sizeof(*mr));
	pthread_mutex_init(&mr->mu, NULL);
	for (k = 0; k < WORDS; k++)
		rec[k] = k * 0x9e3779b97f4a7c15ULL;

	for (r = 0; r < ROUNDS; r++) {
		/* Push: the seq protocol vs memcpy vs mutex. */
		ring_writer_init(&w, ctl, CAP, STRIDE);
		t0 = now_s();
		for (n = 0; n < N; n++) {
			rec[0] = n;
			ring_push(&w, rec, WORDS);
		}
		push = best(push, (now_s() - t0) / N);

		t0 = now_s();
		for (n = 0; n < N; n++) {
			/* Numbered after the copy: storing rec[0] first would
			 * stall the wide loads of memcpy on store forwarding
			 * and flatter the ring. */
			memcpy(plain[n & (CAP - 1)], rec, sizeof(rec));
			plain[n & (CAP - 1)][0] = n;
			__asm__ __volatile__("" ::: "memory");
		}
		cpy_in = best(cpy_in, (now_s() - t0) / N);

		t0 = now_s();
		for (n = 0; n < N; n++) {
			rec[0] = n;
			pthread_mutex_lock(&mr->mu);
			memcpy(mr->rec[mr->head & (CAP - 1)], rec, sizeof(rec));
			mr->head++;
			pthread_mutex_unlock(&mr->mu);
		}
		mpush = best(mpush, (now_s() - t0) / N);

		/* Read: a reader that keeps up, one lap at a time. */
		t = 0;
		cur.next = w.head;
		cur.lost = 0;
		for (n = 0; n < N; n += CAP) {
			for (k = 0; k < CAP; k++) {
				rec[0] = n + k;
				ring_push(&w, rec, WORDS);
			}
			t0 = now_s();
			while (vigil_ring_next(ctl, (const unsigned char *)
			    (ctl + 1), CAP, STRIDE, &cur, out, WORDS))
				sink += out[0];
			t += now_s() - t0;
		}
		if (cur.lost != 0) {
			fprintf(stderr, "bench_ring: reader lost %llu\n",
			    (unsigned long long)cur.lost);
			return 1;
		}
		read = best(read, t / N);

		t0 = now_s();
		for (n = 0; n < N; n++) {
			memcpy(out, plain[n & (CAP - 1)], sizeof(out));
			__asm__ __volatile__("" ::: "memory");
			sink += out[0];
		}
		cpy_out = best(cpy_out, (now_s() - t0) / N);

		t0 = now_s();
		for (n = 0; n < N; n++) {
			pthread_mutex_lock(&mr->mu);
			memcpy(out, mr->rec[n & (CAP - 1)], sizeof(out));
			pthread_mutex_unlock(&mr->mu);
			sink += out[0];
		}
		mread = best(mread, (now_s() - t0) / N);
	}

	printf("ring push (%zu-byte record):  %6.2f ns/op   memcpy baseline "
	    "%6.2f ns/op  ratio %5.2fx   mutex ring %6.2f ns/op  ratio "
	    "%5.2fx\n", sizeof(struct vigil_sample), push * 1e9, cpy_in * 1e9,
	    push / cpy_in, mpush * 1e9, push / mpush);
	printf("ring read (%zu-byte record):  %6.2f ns/op   memcpy baseline "
	    "%6.2f ns/op  ratio %5.2fx   mutex ring %6.2f ns/op  ratio "
	    "%5.2fx\n", sizeof(struct vigil_sample), read * 1e9, cpy_out * 1e9,
	    read / cpy_out, mread * 1e9, read / mread);
	printf("(ratio = ring / baseline; %d records per round, best of %d; "
	    "sink %llu)\n", N, ROUNDS, (unsigned long long)(sink & 1));
	free(ctl);
	free(plain);
	free(mr);
	return 0;
}
