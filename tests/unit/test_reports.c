/*
 * test_reports.c - the reports segment (issue 18): layout validation,
 * the client's vigil_report() against the aggregator's reader, a full
 * ring, a writer dead mid-record, garbage and floods, the rate cap, slot
 * claim and reclaim, and vigil_reporter_open() end to end (names, and
 * the error a process outside report_group gets).
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "t.h"
#include "reports.h"
#include "ring.h"
#include "segment.h"

#define SEC	UINT64_C(1000000000)

struct got {
	uint64_t n;
	uint64_t sum_latency;
	int32_t last_provider;
	int reject_provider;	/* records of this provider are invalid */
};

static int
take(const struct vigil_report_rec *rec, uint32_t slot, void *arg)
{
	struct got *g = arg;

	(void)slot;
	if (rec->provider == g->reject_provider)
		return -1;
	g->n++;
	g->sum_latency += rec->latency_us;
	g->last_provider = rec->provider;
	return 0;
}

/* A reports segment in private memory, attached, and a reporter on
 * slot `slot` built the way vigil_reporter_open() builds one. */
static void *
mk(uint32_t slots, uint32_t ring, struct reports *r)
{
	struct vigil_reports_header h;
	char err[256];
	void *p;

	T_CHECK(reports_layout(slots, ring, &h, err, sizeof(err)) == 0);
	p = mmap(NULL, h.size, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0);
	T_CHECK(p != MAP_FAILED);
	h.magic = VIGIL_REPORTS_MAGIC;
	memcpy(p, &h, sizeof(h));
	T_CHECKF(reports_attach(r, p, h.size, err, sizeof(err)) == 0, "%s",
	    err);
	return p;
}

static void
mk_reporter(struct vigil_reporter *rp, struct reports *r, uint64_t owner)
{
	memset(rp, 0, sizeof(*rp));
	rp->base = r->base;
	rp->size = r->size;
	rp->lay = r->lay;
	rp->owner = owner;
	T_CHECK(vigil__reporter_claim(rp) == 0);
}

static struct vigil_report_rec
rec(int provider, uint32_t latency)
{
	struct vigil_report_rec x;

	memset(&x, 0, sizeof(x));
	x.provider = provider;
	x.model = -1;
	x.latency_us = latency;
	x.outcome = VIGIL_OUT_OK;
	x.http_status = 200;
	return x;
}

/* A header that lies is refused before anything is addressed. */
static void
test_layout(void)
{
	struct vigil_reports_header h, bad;
	struct vigil_reports_layout l;
	unsigned char *buf;
	char err[256];

	T_CHECK(reports_layout(4, 100, &h, err, sizeof(err)) == 0);
	T_CHECK(h.ring_cap == 128 && h.entry_size == REPORTS_ENTRY);
	T_CHECK(h.slots_off % 64 == 0 && h.slot_stride % 64 == 0);
	T_CHECK(reports_layout(0, 100, &h, err, sizeof(err)) == -1);
	T_CHECK(reports_layout(4, 1, &h, err, sizeof(err)) == -1);
	T_CHECK(reports_layout(4, 100, &h, err, sizeof(err)) == 0);
	h.magic = VIGIL_REPORTS_MAGIC;
	buf = calloc(1, h.size);
	memcpy(buf, &h, sizeof(h));
	T_CHECK(vigil_reports_layout_read(buf, h.size, &l, err,
	    sizeof(err)) == VIGIL_OK);
	T_CHECK(vigil_reports_layout_read(buf, h.size - 1, &l, err,
	    sizeof(err)) == VIGIL_ECORRUPT);
	bad = h; bad.magic = VIGIL_MAGIC;
	memcpy(buf, &bad, sizeof(bad));
	T_CHECK(vigil_reports_layout_read(buf, h.size, &l, err,
	    sizeof(err)) == VIGIL_EMAGIC);
	bad = h; bad.abi_major = 9;
	memcpy(buf, &bad, sizeof(bad));
	T_CHECK(vigil_reports_layout_read(buf, h.size, &l, err,
	    sizeof(err)) == VIGIL_EABI);
	bad = h; bad.ring_cap = 100;
	memcpy(buf, &bad, sizeof(bad));
	T_CHECK(vigil_reports_layout_read(buf, h.size, &l, err,
	    sizeof(err)) == VIGIL_ECORRUPT);
	bad = h; bad.slot_cap = 5;
	memcpy(buf, &bad, sizeof(bad));
	T_CHECK(vigil_reports_layout_read(buf, h.size, &l, err,
	    sizeof(err)) == VIGIL_ECORRUPT);
	T_CHECK(strstr(err, "outside") != NULL);
	bad = h; bad.slots_off = 8;
	memcpy(buf, &bad, sizeof(bad));
	T_CHECK(vigil_reports_layout_read(buf, h.size, &l, err,
	    sizeof(err)) == VIGIL_ECORRUPT);
	bad = h; bad.entry_size = 12;
	memcpy(buf, &bad, sizeof(bad));
	T_CHECK(vigil_reports_layout_read(buf, h.size, &l, err,
	    sizeof(err)) == VIGIL_ECORRUPT);
	T_CHECK(l.slot_cap == 0);	/* zeroed on failure */
	free(buf);
}

/* Records written are read once each, in order; a zero-filled record is
 * valid; invalid ones are counted, never handed on. */
static void
test_roundtrip(void)
{
	struct vigil_reporter rp;
	struct vigil_report_rec x;
	struct reports r;
	struct got g = { 0, 0, -1, 99 };
	uint32_t i;

	mk(2, 32, &r);
	mk_reporter(&rp, &r, 1234);
	for (i = 1; i <= 10; i++) {
		x = rec(1, i);
		T_CHECK(vigil_report(&rp, &x) == 0);
	}
	memset(&x, 0, sizeof(x));
	T_CHECK(vigil_report(&rp, &x) == 0);	/* zero-filled: valid */
	x = rec(1, 5);
	x.outcome = VIGIL_OUT_COUNT;		/* bad outcome */
	T_CHECK(vigil_report(&rp, &x) == 0);
	x = rec(1, 5);
	x.http_status = 42;			/* not an HTTP status */
	T_CHECK(vigil_report(&rp, &x) == 0);
	x = rec(1, 5);
	x.ttft_us = 6;			/* first token after the end */
	T_CHECK(vigil_report(&rp, &x) == 0);
	x = rec(1, 5);
	x.model = -2;
	T_CHECK(vigil_report(&rp, &x) == 0);
	x = rec(1, 5);
	x.reserved = 1;				/* reserved must be 0 */
	T_CHECK(vigil_report(&rp, &x) == 0);
	x = rec(99, 5);			/* the callback says no */
	T_CHECK(vigil_report(&rp, &x) == 0);
	reports_drain(&r, SEC, 0, take, &g);
	T_CHECKF(g.n == 11, "%llu", (unsigned long long)g.n);
	T_CHECK(g.sum_latency == 55);
	T_CHECKF(r.st[0].accepted == 11 && r.st[0].invalid == 6, "%llu %llu",
	    (unsigned long long)r.st[0].accepted,
	    (unsigned long long)r.st[0].invalid);
	T_CHECK(atomic_load(&vigil_reports_slot(r.base, &r.lay,
	    0)->consumed) == 17);
	/* Nothing new: nothing read. */
	reports_drain(&r, 2 * SEC, 0, take, &g);
	T_CHECK(g.n == 11);
}

/* A full ring drops and counts, never overwrites; after a drain the
 * writer goes on, across laps. */
static void
test_full(void)
{
	struct vigil_reporter rp;
	struct vigil_report_rec x = rec(1, 1);
	struct reports r;
	struct got g = { 0, 0, -1, -1 };
	int i, ok = 0, dropped = 0, lap;

	mk(1, 8, &r);
	mk_reporter(&rp, &r, 1);
	for (lap = 0; lap < 5; lap++) {
		ok = dropped = 0;
		for (i = 0; i < 11; i++) {
			if (vigil_report(&rp, &x) == 0)
				ok++;
			else
				dropped++;
		}
		T_CHECKF(ok == 8 && dropped == 3, "lap %d: %d ok %d dropped",
		    lap, ok, dropped);
		reports_drain(&r, SEC, 0, take, &g);
		T_CHECK(g.n == (uint64_t)(8 * (lap + 1)));
	}
	T_CHECK(vigil_reporter_dropped(&rp) == 15);
	T_CHECK(r.st[0].lost == 0 && r.st[0].skipped == 0);
}

/* A writer that took a position and died before publishing holds its
 * slot up for the grace time only; what others wrote after it flows. */
static void
test_dead_writer(void)
{
	struct vigil_reporter rp;
	struct vigil_report_rec x = rec(1, 7);
	struct vigil_report_slot *sl;
	struct vigil_report_entry *e;
	struct reports r;
	struct got g = { 0, 0, -1, -1 };
	uint64_t s = 0;

	mk(1, 8, &r);
	mk_reporter(&rp, &r, 1);
	T_CHECK(vigil_report(&rp, &x) == 0);
	/* The dead writer: position 1 taken, claimed, never published. */
	sl = vigil_reports_slot(r.base, &r.lay, 0);
	atomic_fetch_add(&sl->reserve, 1);
	e = vigil_reports_entry(sl, &r.lay, 1);
	T_CHECK(atomic_compare_exchange_strong(&e->seq, &s, 1));
	T_CHECK(vigil_report(&rp, &x) == 0);
	T_CHECK(vigil_report(&rp, &x) == 0);
	reports_drain(&r, SEC, 0, take, &g);
	T_CHECK(g.n == 1);			/* stopped at the hole */
	reports_drain(&r, SEC + REPORTS_GRACE_NS / 2, 0, take, &g);
	T_CHECK(g.n == 1);			/* still within grace */
	reports_drain(&r, SEC + REPORTS_GRACE_NS, 0, take, &g);
	T_CHECK(g.n == 3);
	T_CHECK(r.st[0].lost == 1);
	/* A position taken by a writer that then dropped: skipped. */
	atomic_fetch_add(&sl->reserve, 1);
	T_CHECK(vigil_report(&rp, &x) == 0);
	reports_drain(&r, 3 * SEC, 0, take, &g);
	reports_drain(&r, 4 * SEC, 0, take, &g);
	T_CHECK(g.n == 4 && r.st[0].skipped == 1);

	/* A position taken by hand on a full ring (the writer then died):
	 * the reserve is a ring and one ahead; the ring is read, the
	 * position counted lost. */
	for (s = 0; s < 8; s++)
		T_CHECK(vigil_report(&rp, &x) == 0);
	T_CHECK(vigil_report(&rp, &x) == -1);
	atomic_fetch_add(&sl->reserve, 1);
	s = r.st[0].lost;
	reports_drain(&r, 5 * SEC, 0, take, &g);
	T_CHECKF(g.n == 12 && r.st[0].lost == s + 1, "%llu %llu",
	    (unsigned long long)g.n, (unsigned long long)r.st[0].lost);
}

static uint64_t rng = 88172645463325252ULL;

static uint64_t
xorshift(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/*
 * A client that scribbles over its slot (states, reserve, records) and
 * one that floods: the reader stays bounded, counts, and the well-
 * behaved client in the next slot loses nothing.
 */
static void
test_garbage_flood(void)
{
	struct vigil_reporter good, bad;
	struct vigil_report_rec x = rec(1, 1);
	struct vigil_report_slot *sl;
	struct reports r;
	struct got g = { 0, 0, -1, -1 };
	unsigned char *ring;
	uint64_t t = SEC, okc = 0;
	size_t work, k;
	int round, i;

	mk(2, 64, &r);
	mk_reporter(&bad, &r, 1);
	mk_reporter(&good, &r, 2);
	T_CHECK(good.slot_idx == 1);
	sl = vigil_reports_slot(r.base, &r.lay, 0);
	ring = (unsigned char *)(sl + 1);
	for (round = 0; round < 200; round++) {
		/* garbage: random bytes over the whole ring, a random
		 * reserve now and then */
		for (k = 0; k < (size_t)r.lay.ring_cap * r.lay.entry_size;
		    k += 8) {
			uint64_t v = xorshift();
			if (round % 3 == 0)	/* plausible states */
				v = v % 7;
			memcpy(ring + k, &v, 8);
		}
		if (round % 5 == 0)
			atomic_store(&sl->reserve, xorshift());
		for (i = 0; i < 1000; i++)
			(void)vigil_report(&bad, &x);	/* flood */
		for (i = 0; i < 10; i++) {
			x.provider = 2;
			if (vigil_report(&good, &x) == 0)
				okc++;
			x.provider = 1;
		}
		t += REPORTS_GRACE_NS;
		work = reports_drain(&r, t, 0, take, &g);
		T_CHECK(work <= 2 * (REPORTS_SLOT_BUDGET + r.lay.ring_cap));
	}
	T_CHECK(okc == 2000);
	T_CHECK(r.st[1].accepted == 2000 && r.st[1].invalid == 0 &&
	    r.st[1].lost == 0);
	T_CHECK(r.st[0].invalid > 0);
}

/* report_rate_max: a second's burst, then the refill rate; the rest is
 * read, dropped and counted. */
static void
test_rate(void)
{
	struct vigil_reporter rp;
	struct vigil_report_rec x = rec(1, 1);
	struct reports r;
	struct got g = { 0, 0, -1, -1 };
	int i;

	mk(1, 256, &r);
	mk_reporter(&rp, &r, 1);
	for (i = 0; i < 100; i++)
		T_CHECK(vigil_report(&rp, &x) == 0);
	reports_drain(&r, SEC, 10, take, &g);
	T_CHECK(g.n == 10 && r.st[0].rate_dropped == 90);
	for (i = 0; i < 100; i++)
		T_CHECK(vigil_report(&rp, &x) == 0);
	reports_drain(&r, SEC + SEC / 2, 10, take, &g);	/* 5 more */
	T_CHECK(g.n == 15 && r.st[0].rate_dropped == 185);
}

/* Slots of dead owners (or of a pid now someone else's) are freed;
 * live ones kept. */
static void
test_reclaim(void)
{
	struct vigil_reporter a, b, c, d;
	struct reports r;
	uint64_t me;
	pid_t pid;

	mk(4, 8, &r);
	pid = fork();
	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	me = (uint64_t)(uint32_t)getpid() |
	    (uint64_t)vigil__proc_start(getpid()) << 32;
	T_CHECK(vigil__proc_start(getpid()) != 0);
	mk_reporter(&a, &r, me);
	mk_reporter(&b, &r, (uint64_t)(uint32_t)pid);	/* dead */
	mk_reporter(&c, &r, (uint64_t)(uint32_t)getpid() |
	    (uint64_t)(vigil__proc_start(getpid()) + 1) << 32); /* reused */
	mk_reporter(&d, &r, (uint64_t)(uint32_t)getpid()); /* start unknown */
	T_CHECK(reports_reclaim(&r) == 2);
	T_CHECK(atomic_load(&a.slot->owner) == me);
	T_CHECK(atomic_load(&b.slot->owner) == VIGIL_REPORTS_RELEASED);
	T_CHECK(atomic_load(&c.slot->owner) == VIGIL_REPORTS_RELEASED);
	T_CHECK(atomic_load(&d.slot->owner) != 0);
	T_CHECK(atomic_load(&b.slot->freed) == 1);
	T_CHECK(reports_reclaim(&r) == 0);
	/* Released slots are free once a drain has cleaned them. */
	{
		struct got g = { 0, 0, -1, -1 };

		reports_drain(&r, SEC, 0, take, &g);
	}
	T_CHECK(atomic_load(&b.slot->owner) == 0);
	T_CHECK(atomic_load(&c.slot->owner) == 0);
	T_CHECK(atomic_load(&a.slot->owner) == me);
}

/* A slot released after a client scribbled over it is clean for the
 * next client: its first record is read at once, nothing counted
 * against it. */
static void
test_clean_on_release(void)
{
	struct vigil_reporter a, b;
	struct vigil_report_rec x = rec(1, 3);
	struct reports r;
	struct got g = { 0, 0, -1, -1 };
	unsigned char *ring;
	size_t k;

	mk(1, 16, &r);
	mk_reporter(&a, &r, 7);
	T_CHECK(vigil_report(&a, &x) == 0);
	reports_drain(&r, SEC, 0, take, &g);
	T_CHECK(g.n == 1);
	ring = (unsigned char *)(a.slot + 1);
	for (k = 0; k < (size_t)r.lay.ring_cap * r.lay.entry_size; k++)
		ring[k] = (unsigned char)(k * 37 + 11);
	atomic_store(&a.slot->reserve, 5);
	/* closed: as vigil_reporter_close leaves it */
	atomic_store(&a.slot->owner, VIGIL_REPORTS_RELEASED);
	reports_drain(&r, 2 * SEC, 0, take, &g);
	T_CHECK(r.st[0].resets == 1);
	T_CHECK(atomic_load(&a.slot->owner) == 0);
	mk_reporter(&b, &r, 8);
	T_CHECK(b.slot_idx == 0);
	T_CHECK(r.st[0].lost == 4);	/* positions 1..4, never published */
	T_CHECK(vigil_report(&b, &x) == 0);
	reports_drain(&r, 3 * SEC, 0, take, &g);
	T_CHECKF(g.n == 2, "%llu", (unsigned long long)g.n);

	/* Released (its owner died) with a record half written, before
	 * the grace ran out: the position is counted lost all the same. */
	T_CHECK(vigil_report(&b, &x) == 0);
	{
		uint64_t n = atomic_fetch_add(&b.slot->reserve, 1), s0;
		struct vigil_report_entry *e = vigil_reports_entry(b.slot,
		    &r.lay, (uint32_t)(n & 15));

		s0 = 3 * (n >> 4);
		T_CHECK(atomic_compare_exchange_strong(&e->seq, &s0, s0 + 1));
	}
	atomic_store(&b.slot->owner, VIGIL_REPORTS_RELEASED);
	reports_drain(&r, 4 * SEC, 0, take, &g);
	T_CHECK(g.n == 3 && r.st[0].lost == 5 && r.st[0].resets == 2);
}

/*
 * vigil_reporter_open() against real segments: names to indexes, one
 * slot per reporter, slot freed at close, and a process outside the
 * group told which group it needs.
 */
static void
test_open(void)
{
	struct vigil_provider_info info;
	struct vigil_reporter *rp, *rp2;
	struct vigil_report_rec x = rec(0, 1);
	struct seg_caps caps = { 4, 16, 16, 16, 0 };
	struct segment seg;
	struct reports r;
	struct got g = { 0, 0, -1, -1 };
	char name[64], rname[80], err[256];
	int st;
	pid_t pid;

	snprintf(name, sizeof(name), "/vigil-test-rep-%d", (int)getpid());
	reports_name(name, rname, sizeof(rname));
	T_CHECK(vigil_reporter_open(name, err, sizeof(err)) == NULL);
	T_CHECK(seg_create(&seg, name, &caps, 0644, err, sizeof(err)) == 0);
	memset(&info, 0, sizeof(info));
	snprintf(info.name, sizeof(info.name), "alpha");
	info.flags = VIGIL_PF_IN_USE | VIGIL_PF_ENABLED;
	seqlock_write(seg_dir_slot(&seg, 2), &info,
	    VIGIL_WORDS(struct vigil_provider_info));
	T_CHECK(vigil_reporter_open(name, err, sizeof(err)) == NULL);
	T_CHECKF(strstr(err, ".reports") != NULL, "%s", err);
	T_CHECK(reports_create(&r, rname, 2, 64, 0660, err,
	    sizeof(err)) == 0);
	rp = vigil_reporter_open(name, err, sizeof(err));
	T_CHECKF(rp != NULL, "%s", err);
	if (rp == NULL)
		goto out;
	T_CHECK(vigil_reporter_provider(rp, "alpha") == 2);
	T_CHECK(vigil_reporter_provider(rp, "beta") == -1);
	T_CHECK(vigil_reporter_model(rp, 2, "m") == -1);
	x.provider = 2;
	T_CHECK(vigil_report(rp, &x) == 0);
	rp2 = vigil_reporter_open(name, err, sizeof(err));
	T_CHECK(rp2 != NULL && rp2->slot_idx == 1);
	T_CHECK(vigil_reporter_open(name, err, sizeof(err)) == NULL);
	T_CHECKF(strstr(err, "all 2 report slots") != NULL, "%s", err);
	vigil_reporter_close(rp2);
	reports_drain(&r, SEC, 0, take, &g);
	T_CHECK(g.n == 1 && g.last_provider == 2);
	vigil_reporter_close(rp);
	/* Released, then free once the reader has cleaned it. */
	T_CHECK(atomic_load(&vigil_reports_slot(r.base, &r.lay,
	    0)->owner) == VIGIL_REPORTS_RELEASED);
	rp2 = vigil_reporter_open(name, err, sizeof(err));
	T_CHECK(rp2 != NULL && rp2->slot_idx == 1);	/* not 0 yet */
	vigil_reporter_close(rp2);
	reports_drain(&r, 2 * SEC, 0, take, &g);
	T_CHECK(atomic_load(&vigil_reports_slot(r.base, &r.lay,
	    0)->owner) == 0);

	/* Outside the group (not root, another uid): refused, told why. */
	pid = fork();
	if (pid == 0) {
		if (setgid(65534) == -1 || setuid(65534) == -1)
			_exit(3);	/* not root: nothing to check */
		if (vigil_reporter_open(name, err, sizeof(err)) != NULL)
			_exit(1);
		_exit(strstr(err, "permission denied") != NULL &&
		    strstr(err, "report_group") != NULL ? 0 : 2);
	}
	waitpid(pid, &st, 0);
	T_CHECKF(WIFEXITED(st) && (WEXITSTATUS(st) == 0 ||
	    (WEXITSTATUS(st) == 3 && geteuid() != 0)), "status %d", st);
out:
	reports_close(&r);
	shm_unlink(rname);
	seg_close(&seg);
	shm_unlink(name);
}

int
main(void)
{
	T_RUN(test_layout);
	T_RUN(test_roundtrip);
	T_RUN(test_full);
	T_RUN(test_dead_writer);
	T_RUN(test_garbage_flood);
	T_RUN(test_rate);
	T_RUN(test_reclaim);
	T_RUN(test_clean_on_release);
	T_RUN(test_open);
	return t_done();
}
