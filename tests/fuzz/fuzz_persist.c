/*
 * fuzz_persist.c - libFuzzer target for the persistence snapshot loader
 * (aggregator/persist.c): state_dir/state.msgpack comes from disk and is
 * never trusted.
 *
 * Invariants checked: no crash or leak; persist_decode returns 0 or -1;
 * on failure the error is NUL-terminated in its buffer; on success every
 * provider name is non-empty and NUL-terminated within VIGIL_NAME_MAX,
 * and the snapshot re-encodes and decodes to the same counts, names and
 * records (a round trip), so what vigild restores is what it would save.
 *
 *	make SAN=fuzz build/fuzz/fuzz/fuzz_persist	(LINK_MAP: aggregator)
 *	build/fuzz/fuzz/fuzz_persist -max_total_time=60 \
 *	    tests/fuzz/corpus/fuzz_persist
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../aggregator/persist.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	fuzz_check_same(const struct persist_snap *,
		    const struct persist_snap *);

static void
fuzz_check_same(const struct persist_snap *a, const struct persist_snap *b)
{
	size_t i;

	if (a->saved_wall_ns != b->saved_wall_ns ||
	    a->next_alert_id != b->next_alert_id ||
	    a->nprov != b->nprov || a->nalerts != b->nalerts)
		abort();
	for (i = 0; i < a->nprov; i++) {
		const struct persist_prov *p = &a->prov[i], *q = &b->prov[i];

		if (strcmp(p->name, q->name) != 0 || p->nhist != q->nhist ||
		    memcmp(&p->c, &q->c, sizeof(p->c)) != 0)
			abort();
		if (p->nhist > 0 && memcmp(p->hist, q->hist,
		    p->nhist * sizeof(*p->hist)) != 0)
			abort();
	}
	if (a->nalerts > 0 && memcmp(a->alerts, b->alerts,
	    a->nalerts * sizeof(*a->alerts)) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct persist_snap snap, again;
	char err[192];
	unsigned char *copy;
	void *buf;
	size_t len, i;
	int rc;

	/* An exact-size heap copy, so ASan sees any read past size. */
	if ((copy = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	memset(err, 'x', sizeof(err));
	rc = persist_decode(copy, size, &snap, err, sizeof(err));
	free(copy);
	if (rc != 0 && rc != -1)
		abort();
	if (rc == -1) {
		if (memchr(err, '\0', sizeof(err)) == NULL)
			abort();
		persist_free(&snap);
		return 0;
	}
	for (i = 0; i < snap.nprov; i++) {
		const char *n = snap.prov[i].name;

		if (n[0] == '\0' || memchr(n, '\0', VIGIL_NAME_MAX) == NULL)
			abort();
		if (persist_find(&snap, n) == NULL)
			abort();
	}
	if (persist_encode(&snap, &buf, &len) == 0) {
		/* lat_sum_s may be NaN: compare it bit for bit via memcmp. */
		if (persist_decode(buf, len, &again, err, sizeof(err)) != 0)
			abort();
		fuzz_check_same(&snap, &again);
		persist_free(&again);
		free(buf);
	}
	persist_free(&snap);
	return 0;
}
