/*
 * segfix.h - what vigild does to a unit test's segment, for the tests
 * that drive the aggregator's engine over one (test_engine,
 * test_engine_traffic, test_vantage): one copy, so that they cannot
 * drift apart.  Include after t.h and the engine's header.
 */
#ifndef VIGIL_TESTS_SEGFIX_H
#define VIGIL_TESTS_SEGFIX_H

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

/* Fill directory slot idx with provider name (interval 1 s, timeout
 * 0.5 s, kind http, in use and enabled, plus flags) and bump dir_gen,
 * as the supervisor publishes a provider. */
static void
segfix_add_slot(struct segment *seg, uint32_t idx, const char *name,
    uint8_t flags)
{
	struct vigil_provider_info pi;

	memset(&pi, 0, sizeof(pi));
	snprintf(pi.name, sizeof(pi.name), "%s", name);
	snprintf(pi.host, sizeof(pi.host), "%s.example", name);
	pi.added_wall_ns = 1000 + idx;
	pi.interval_ms = 1000;
	pi.timeout_ms = 500;
	pi.kind = VIGIL_KIND_HTTP;
	pi.flags = VIGIL_PF_IN_USE | VIGIL_PF_ENABLED | flags;
	seqlock_write(seg_dir_slot(seg, idx), &pi,
	    VIGIL_WORDS(struct vigil_provider_info));
	atomic_fetch_add(&seg->hdr->dir_gen, 1);
}

#endif /* VIGIL_TESTS_SEGFIX_H */
