/*
 * fuzz_segment.c - libFuzzer target for the client on a hostile segment.
 *
 * A local service maps whatever sits at /vigil.  vigil_validate must
 * refuse any image whose regions do not fit, and on an image it accepts
 * every client read (snapshots, find, route order, the three rings) must
 * stay inside the mapping whatever the words say: ASan checks that, on
 * an exact-size heap copy.
 *
 * The first input byte picks the mode: even, the rest is a raw image;
 * odd, a valid layout from seg_layout (capacities from the next bytes)
 * whose header and contents are then XORed with the rest of the input,
 * so the fuzzer works near the valid layouts a raw image rarely hits.
 *
 *	clang -g -O1 -fsanitize=fuzzer,address,undefined -std=c11 \
 *	    -D_GNU_SOURCE -Iinclude -Icommon tests/fuzz/fuzz_segment.c \
 *	    common/segment.c -o fuzz_segment
 *	./fuzz_segment -max_total_time=60
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

#include "segment.h"

#define MAX_IMAGE	(1u << 22)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	exercise(const unsigned char *, size_t);

/* Every read the client offers, on an image vigil_validate accepted. */
static void
exercise(const unsigned char *img, size_t size)
{
	static struct vigil_provider all[8];
	struct vigil_client c;
	struct vigil_provider p;
	struct vigil_cursor cur;
	struct vigil_sample s[4];
	struct vigil_history h[4];
	struct vigil_alert a[4];
	static struct vigil_models ms;
	struct vigil_model_stats mst;
	uint32_t idx, order[16], i, cap, m;
	size_t n;

	vigil_attach(&c, img, size);
	cap = vigil_capacity(&c);
	(void)vigil_dir_gen(&c);
	(void)vigil_aggregator_age_ns(&c);
	(void)vigil_snapshot_all(&c, all, 8, &n);
	(void)vigil_find(&c, "openai", &idx);
	(void)vigil_route_order(&c, order, 16, &n);
	for (i = 0; i < cap && i < 4; i++) {
		(void)vigil_snapshot(&c, i, &p);
		cur.next = cur.lost = 0;
		(void)vigil_read_samples(&c, i, &cur, s, 4);
		vigil_samples_tail(&c, i, &cur, 3);
		(void)vigil_read_samples(&c, i, &cur, s, 4);
		cur.next = UINT64_MAX - 2;
		(void)vigil_read_samples(&c, i, &cur, s, 4);
		cur.next = cur.lost = 0;
		(void)vigil_read_history(&c, i, &cur, h, 4);
		(void)vigil_prober_age_ns(&c, i);
		(void)vigil_models(&c, i, &ms);
		(void)vigil_find_model(&c, i, "gpt-4o-mini", &m);
		(void)vigil_model_stats(&c, i, 0, &mst);
		(void)vigil_model_stats(&c, i, c.lay.model_cap - 1, &mst);
		(void)vigil_model_stats(&c, i, c.lay.model_cap, &mst);
	}
	/* The last slot, and one past it. */
	(void)vigil_snapshot(&c, cap - 1, &p);
	(void)vigil_snapshot(&c, cap, &p);
	cur.next = cur.lost = 0;
	(void)vigil_read_samples(&c, cap - 1, &cur, s, 4);
	(void)vigil_read_history(&c, cap - 1, &cur, h, 4);
	cur.next = cur.lost = 0;
	(void)vigil_read_alerts(&c, &cur, a, 4);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vigil_header h;
	struct seg_caps caps;
	unsigned char *img;
	size_t len, i;
	char err[128];
	int rc;

	if (size < 1)
		return 0;
	if (data[0] % 2 == 0) {
		len = size - 1;
		if ((img = malloc(len ? len : 1)) == NULL)
			return 0;
		memcpy(img, data + 1, len);
	} else {
		if (size < 6)
			return 0;
		memset(&caps, 0, sizeof(caps));
		caps.providers = 1 + data[1] % 8;
		caps.models = 1 + data[1] / 8 % 8;
		caps.samples = 2u << (data[2] % 6);
		caps.history = 2u << (data[3] % 6);
		caps.alerts = 2u << (data[4] % 6);
		if (seg_layout(&caps, &h, err, sizeof(err)) == -1)
			abort();		/* these caps are all valid */
		h.magic = VIGIL_MAGIC;
		/* data[5]: shave up to 255 x 8 bytes off the image. */
		len = h.size - (size_t)data[5] * 8;
		if ((img = calloc(1, len)) == NULL)
			return 0;
		memcpy(img, &h, sizeof(h));
		if (data[5] == 0 &&
		    vigil_validate(img, len, err, sizeof(err)) != VIGIL_OK)
			abort();		/* seg_layout must validate */
		for (i = 6; i < size && i - 6 < len; i++)
			img[i - 6] ^= data[i];
	}
	rc = vigil_validate(img, len, err, sizeof(err));
	if (memchr(err, '\0', sizeof(err)) == NULL)
		abort();
	if (rc == VIGIL_OK)
		exercise(img, len);
	else if (rc != VIGIL_EMAGIC && rc != VIGIL_EABI &&
	    rc != VIGIL_ECORRUPT)
		abort();
	free(img);
	return 0;
}

#ifdef FUZZ_STANDALONE
int
main(int argc, char *argv[])
{
	static uint8_t buf[8192];
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
			/* Mostly zero bytes: small XORs, near-valid images. */
			buf[i] = (x % 8 == 0) ? (uint8_t)(x >> 24) : 0;
		}
		buf[0] = (uint8_t)k;
		LLVMFuzzerTestOneInput(buf, len);
	}
	printf("fuzz_segment: %ld inputs ok\n", n);
	return 0;
}
#endif
