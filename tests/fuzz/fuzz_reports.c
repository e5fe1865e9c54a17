/*
 * fuzz_reports.c - libFuzzer target for the aggregator's report reader
 * (common/reports.c) and the client's writer on a hostile reports
 * segment (issue 18).
 *
 * Any member of report_group may write anything anywhere in the reports
 * segment.  The reader must stay inside the mapping, do bounded work
 * per drain, never hand on a record that fails reports_rec_ok, and
 * never wait on a writer beyond its grace; vigil_report must neither
 * crash nor spin on a slot scribbled over.
 *
 * The first input byte picks the mode: even, the rest is a raw header
 * for vigil_reports_layout_read (then, if accepted, a drain over that
 * image); odd, a valid layout of 2 slots of 8 entries whose slots are
 * XORed with the rest of the input, drained several times with time
 * advancing past the grace, with writes in between.
 *
 * Without libFuzzer, -DFUZZ_STANDALONE builds a main that runs random
 * inputs of both modes (argument: iterations, default 200000).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vigil/vigil.h>

#include "reports.h"

#define MAX_IMAGE	(1u << 20)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int	take(const struct vigil_report_rec *, uint32_t, void *);
static void	drain_all(struct reports *, unsigned char *, size_t);

/* What the engine checks on top: provider 0..3, model -1..1. */
static int
take(const struct vigil_report_rec *rec, uint32_t slot, void *arg)
{
	const struct reports *r = arg;

	if (slot >= r->lay.slot_cap || !reports_rec_ok(rec))
		abort();		/* the reader let one through */
	return rec->provider < 4 && rec->model <= 1 ? 0 : -1;
}

/* Drains, writes, drains: time moving one grace at a time. */
static void
drain_all(struct reports *r, unsigned char *img, size_t size)
{
	struct vigil_reporter rp;
	struct vigil_report_rec x;
	uint64_t now = UINT64_C(1000000000);
	size_t work;
	int k, i;

	memset(&rp, 0, sizeof(rp));
	rp.base = img;
	rp.size = size;
	rp.lay = r->lay;
	rp.owner = 1;
	(void)vigil__reporter_claim(&rp);
	for (k = 0; k < 6; k++) {
		work = reports_drain(r, now, k % 2 ? 100 : 0, take, r);
		if (work > (size_t)r->lay.slot_cap * (REPORTS_SLOT_BUDGET +
		    r->lay.ring_cap))
			abort();	/* unbounded */
		if (rp.slot != NULL)
			for (i = 0; i < 3; i++) {
				memset(&x, 0, sizeof(x));
				x.provider = i;
				x.model = -1;
				(void)vigil_report(&rp, &x);
			}
		now += REPORTS_GRACE_NS;
	}
	(void)reports_reclaim(r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct vigil_reports_header h;
	struct reports r;
	unsigned char *img;
	size_t size, i;
	char err[256];

	if (len < 1)
		return 0;
	if ((data[0] & 1) == 0) {
		/* A raw image, as a client would map it. */
		size = len - 1;
		if (size > MAX_IMAGE)
			return 0;
		if ((img = malloc(size ? size : 1)) == NULL)
			return 0;
		memcpy(img, data + 1, size);
		if (reports_attach(&r, img, size, err, sizeof(err)) == 0) {
			drain_all(&r, img, size);
			reports_close(&r);
		}
		free(img);
		return 0;
	}
	if (reports_layout(2, 8, &h, err, sizeof(err)) == -1)
		abort();
	h.magic = VIGIL_REPORTS_MAGIC;
	size = h.size;
	if ((img = calloc(1, size)) == NULL)
		return 0;
	memcpy(img, &h, sizeof(h));
	for (i = 1; i < len && h.slots_off + i - 1 < size; i++)
		img[h.slots_off + i - 1] ^= data[i];
	if (reports_attach(&r, img, size, err, sizeof(err)) != 0)
		abort();		/* the header was not touched */
	drain_all(&r, img, size);
	reports_close(&r);
	free(img);
	return 0;
}

#ifdef FUZZ_STANDALONE
int
main(int argc, char *argv[])
{
	static uint8_t buf[4096];
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	long n = argc > 1 ? atol(argv[1]) : 200000, k;
	size_t len, i;

	for (k = 0; k < n; k++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		len = 1 + x % sizeof(buf);
		for (i = 0; i < len; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			buf[i] = (x % 8 == 0) ? (uint8_t)(x >> 24) : 0;
		}
		buf[0] = (uint8_t)k;
		LLVMFuzzerTestOneInput(buf, len);
	}
	printf("fuzz_reports: %ld inputs ok\n", n);
	return 0;
}
#endif
