/*
 * vreport - a reporting client for the end-to-end tests (issue 18):
 * well-behaved, or garbage, a flood, or a death mid-record, through the
 * public reporter in include/vigil/vigil.h.
 *
 *	vreport SHM open		open; print the slot or the error
 *	vreport SHM send PROV OUTCOME N [HTTP] [GAP_MS] [MODEL]
 *	vreport SHM garbage SECS	scribble over its own slot
 *	vreport SHM flood SECS		invalid records, flat out
 *	vreport SHM die			take a position, die mid-record
 *
 * Prints one JSON line; exits 1 when the reporter cannot be opened.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <vigil/vigil.h>

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
outcome_of(const char *name)
{
	unsigned o;

	for (o = 0; o < VIGIL_OUT_COUNT; o++)
		if (strcmp(vigil_outcome_name(o), name) == 0)
			return (int)o;
	return -1;
}

static int
do_send(struct vigil_reporter *r, int argc, char **argv)
{
	struct vigil_report_rec x;
	unsigned long n, i, sent = 0, dropped = 0, gap;
	int prov, out, model = -1;

	if (argc < 6)
		return 2;
	if ((prov = vigil_reporter_provider(r, argv[3])) == -1 ||
	    (out = outcome_of(argv[4])) == -1) {
		printf("{\"error\":\"no such provider or outcome\"}\n");
		return 1;
	}
	n = strtoul(argv[5], NULL, 10);
	gap = argc > 7 ? strtoul(argv[7], NULL, 10) : 0;
	if (argc > 8 && (model = vigil_reporter_model(r, prov,
	    argv[8])) == -1) {
		printf("{\"error\":\"no such model\"}\n");
		return 1;
	}
	for (i = 0; i < n; i++) {
		memset(&x, 0, sizeof(x));
		x.provider = prov;
		x.model = model;
		x.outcome = (uint8_t)out;
		x.http_status = (uint16_t)(argc > 6 ? atoi(argv[6]) :
		    out == VIGIL_OUT_OK ? 200 : 0);
		x.latency_us = 120000;
		x.ttft_us = 40000;
		x.tokens_in = 10;
		x.tokens_out = 5;
		if (vigil_report(r, &x) == 0)
			sent++;
		else
			dropped++;
		if (gap != 0)
			usleep((useconds_t)gap * 1000);
	}
	printf("{\"sent\":%lu,\"dropped\":%lu,\"slot\":%u}\n", sent, dropped,
	    r->slot_idx);
	return 0;
}

/* Random words over the ring's entries and the reserve word, between
 * invalid records: everything a buggy client can do to its own slot. */
static int
do_garbage(struct vigil_reporter *r, double secs)
{
	struct vigil_report_rec x;
	unsigned char *ring = (unsigned char *)(r->slot + 1);
	uint64_t end = mono_ns() + (uint64_t)(secs * 1e9);
	uint64_t v = UINT64_C(88172645463325252);
	unsigned long rounds = 0;
	size_t k, bytes = (size_t)r->lay.ring_cap * r->lay.entry_size;

	while (mono_ns() < end) {
		for (k = 0; k < bytes; k += 8) {
			v ^= v << 13;
			v ^= v >> 7;
			v ^= v << 17;
			memcpy(ring + k, &v, 8);
		}
		if (rounds % 4 == 0)
			VIGIL__STORE_RLX(&r->slot->reserve, v);
		memset(&x, 0xff, sizeof(x));
		(void)vigil_report(r, &x);
		rounds++;
		usleep(1000);
	}
	printf("{\"rounds\":%lu,\"slot\":%u}\n", rounds, r->slot_idx);
	return 0;
}

/* Records no provider has (index past every slot), flat out. */
static int
do_flood(struct vigil_reporter *r, double secs)
{
	struct vigil_report_rec x;
	uint64_t t0 = mono_ns(), end = t0 + (uint64_t)(secs * 1e9);
	unsigned long sent = 0, dropped = 0, i;

	memset(&x, 0, sizeof(x));
	x.provider = 1 << 30;
	x.model = -1;
	while (mono_ns() < end)
		for (i = 0; i < 1000; i++) {
			if (vigil_report(r, &x) == 0)
				sent++;
			else
				dropped++;
		}
	printf("{\"sent\":%lu,\"dropped\":%lu,\"per_s\":%.0f,\"slot\":%u}\n",
	    sent, dropped, (sent + dropped) / ((mono_ns() - t0) / 1e9),
	    r->slot_idx);
	return 0;
}

/* Take a position, claim its entry, and die before publishing. */
static int
do_die(struct vigil_reporter *r)
{
	struct vigil_report_entry *e;
	uint64_t n, expect;

	n = VIGIL__FADD_RLX(&r->slot->reserve, 1);
	e = vigil_reports_entry(r->slot, &r->lay, (uint32_t)(n & r->mask));
	expect = 3 * (n >> r->shift);
	(void)VIGIL__CAS(&e->seq, &expect, expect + 1, VIGIL__ACQ);
	VIGIL__STORE_RLX(&e->w[0], UINT64_C(0xdeadbeef));
	printf("{\"slot\":%u,\"position\":%llu}\n", r->slot_idx,
	    (unsigned long long)n);
	fflush(stdout);
	raise(SIGKILL);
	return 1;
}

int
main(int argc, char **argv)
{
	struct vigil_reporter *r;
	char err[256];
	int rc = 2;

	if (argc < 3) {
		fprintf(stderr, "usage: vreport SHM "
		    "open|send|garbage|flood|die ...\n");
		return 2;
	}
	if ((r = vigil_reporter_open(argv[1], err, sizeof(err))) == NULL) {
		printf("{\"error\":\"%s\"}\n", err);
		return 1;
	}
	if (strcmp(argv[2], "open") == 0) {
		printf("{\"slot\":%u}\n", r->slot_idx);
		rc = 0;
	} else if (strcmp(argv[2], "send") == 0)
		rc = do_send(r, argc, argv);
	else if (strcmp(argv[2], "garbage") == 0 && argc > 3)
		rc = do_garbage(r, atof(argv[3]));
	else if (strcmp(argv[2], "flood") == 0 && argc > 3)
		rc = do_flood(r, atof(argv[3]));
	else if (strcmp(argv[2], "die") == 0)
		rc = do_die(r);
	vigil_reporter_close(r);
	return rc;
}
