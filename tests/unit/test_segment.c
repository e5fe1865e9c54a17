/*
 * test_segment.c - the shared-memory segment: layout and creation against
 * the client's validator, stale and foreign objects, every refusal of
 * vigil_open with its error string, the read-only mapping, directory
 * slots (add, retire, reuse under seqlock and generation), vigil_find,
 * snapshots, route order and the history and alert rings; a header
 * rewritten after mapping is reported, never followed.
 *
 * Segments are named "/vigil-test-<pid>-<n>" and unlinked by each test.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "t.h"
#include "ring.h"
#include "segment.h"

static void	seg_name(char *, size_t);
static void	add_provider(struct segment *, uint32_t, const char *,
		    uint32_t);
static void	retire_provider(struct segment *, uint32_t);
static int	open_err(const char *, int, const char *);
static int	mapping_perms(const void *, char *);
static void	reads_intact(const struct vigil_client *, const struct segment *,
		    void *const *, const char *);

static void
seg_name(char *buf, size_t len)
{
	static int serial;

	snprintf(buf, len, "/vigil-test-%d-%d", (int)getpid(), serial++);
}

/* What the supervisor does to add a provider to slot i. */
static void
add_provider(struct segment *s, uint32_t i, const char *name, uint32_t gen)
{
	struct vigil_provider_info pi;

	memset(&pi, 0, sizeof(pi));
	snprintf(pi.name, sizeof(pi.name), "%s", name);
	snprintf(pi.host, sizeof(pi.host), "%s.example", name);
	pi.flags = VIGIL_PF_IN_USE | VIGIL_PF_ENABLED;
	pi.generation = gen;
	pi.interval_ms = 30000;
	pi.kind = VIGIL_KIND_OPENAI;
	seqlock_write(seg_dir_slot(s, i), &pi, VIGIL_WORDS(pi));
	/* Release: a reader that sees the new gen sees the new slot. */
	atomic_fetch_add_explicit(&s->hdr->dir_gen, 1, memory_order_release);
}

static void
retire_provider(struct segment *s, uint32_t i)
{
	struct vigil_provider_info pi;

	memset(&pi, 0, sizeof(pi));
	seqlock_write(seg_dir_slot(s, i), &pi, VIGIL_WORDS(pi));
	atomic_fetch_add_explicit(&s->hdr->dir_gen, 1, memory_order_release);
}

/* vigil_open(name) fails with rc and an error containing `want`. */
static int
open_err(const char *name, int rc, const char *want)
{
	struct vigil_client c;
	int got = vigil_open(&c, name);

	if (got != rc || strstr(c.err, want) == NULL) {
		fprintf(stderr, "  vigil_open %s: rc %d (want %d), err \"%s\" "
		    "(want \"%s\")\n", name, got, rc, c.err, want);
		if (got == VIGIL_OK)
			vigil_close(&c);
		return 0;
	}
	if (c.base != NULL)		/* nothing left mapped on failure */
		return 0;
	return 1;
}

/* The permissions ("r--s") of the mapping that holds p, from maps. */
static int
mapping_perms(const void *p, char *perms)
{
	unsigned long lo, hi, a = (unsigned long)(uintptr_t)p;
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");
	int found = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) == 3 &&
		    a >= lo && a < hi) {
			found = 1;
			break;
		}
	}
	fclose(f);
	return found;
}

/* The created segment has the computed layout and the client accepts it. */
static void
test_create_layout(void)
{
	struct seg_caps caps = { 5, 100, 1000, 50, 0 };
	struct vigil_header h;
	struct segment s;
	struct vigil_client c;
	struct stat st;
	char name[64], err[256];
	int fd;

	seg_name(name, sizeof(name));
	T_CHECK(seg_layout(&caps, &h, err, sizeof(err)) == 0);
	T_CHECKF(seg_create(&s, name, &caps, 0600, err, sizeof(err)) == 0,
	    "%s", err);
	T_CHECK(s.hdr->magic == VIGIL_MAGIC);
	T_CHECK(s.hdr->abi_major == VIGIL_ABI_MAJOR);
	T_CHECK(s.hdr->size == h.size && s.size == h.size);
	T_CHECK(s.hdr->size % 4096 == 0);
	T_CHECK(s.hdr->provider_cap == 5);
	T_CHECK(s.hdr->sample_cap == 128 && s.hdr->history_cap == 1024 &&
	    s.hdr->alert_cap == 64);
	T_CHECK(s.hdr->dir_off == h.dir_off && s.hdr->route_off == h.route_off);
	T_CHECK(s.hdr->supervisor_pid == (uint32_t)getpid());
	T_CHECK(s.hdr->created_wall_ns > 0);
	/* Every region on a cache line, in order, inside the segment. */
	T_CHECK(h.dir_off >= sizeof(struct vigil_header));
	T_CHECK(h.dir_off % 64 == 0 && h.stats_off % 64 == 0 &&
	    h.samples_off % 64 == 0 && h.history_off % 64 == 0 &&
	    h.alerts_off % 64 == 0 && h.route_off % 64 == 0);
	T_CHECK(h.dir_stride % 64 == 0 && h.stats_stride % 64 == 0 &&
	    h.samples_stride % 64 == 0 && h.history_stride % 64 == 0);
	T_CHECK(h.stats_off >= h.dir_off + 5 * h.dir_stride);
	T_CHECK(h.samples_off >= h.stats_off + 5 * h.stats_stride);
	T_CHECK(h.history_off >= h.samples_off + 5 * h.samples_stride);
	T_CHECK(h.alerts_off >= h.history_off + 5 * h.history_stride);
	T_CHECK(h.route_off >= h.alerts_off + 64 + 64 * h.alert_entry);
	T_CHECK(h.route_off + 8 + 16 + 24 <= h.size);
	T_CHECK(h.sample_entry == 152 && h.history_entry == 64 &&
	    h.alert_entry == 96);
	T_CHECK(vigil_validate(s.base, s.size, err, sizeof(err)) == VIGIL_OK);
	/* The object's size and mode. */
	fd = shm_open(name, O_RDONLY, 0);
	T_CHECK(fd != -1 && fstat(fd, &st) == 0);
	T_CHECK((uint64_t)st.st_size == h.size);
	T_CHECK((st.st_mode & 0777) == 0600);
	close(fd);
	/* The client sees the same layout, and empty contents. */
	T_CHECKF(vigil_open(&c, name) == VIGIL_OK, "%s", c.err);
	T_CHECK(c.size == s.size);
	T_CHECK(vigil_capacity(&c) == 5);
	T_CHECK(vigil_dir_gen(&c) == 0);
	T_CHECK(vigil_aggregator_age_ns(&c) == UINT64_MAX);
	T_CHECK(vigil_prober_age_ns(&c, 0) == UINT64_MAX);
	T_CHECK(vigil_prober_age_ns(&c, 5) == UINT64_MAX);
	vigil_close(&c);
	T_CHECK(c.base == NULL);
	seg_close(&s);
	T_CHECK(s.base == NULL && s.fd == -1);
	shm_unlink(name);

	/* Capacities out of range. */
	caps.providers = 0;
	T_CHECK(seg_create(&s, name, &caps, 0600, err, sizeof(err)) == -1);
	T_CHECK(strstr(err, "provider capacity") != NULL);
	caps.providers = VIGIL_MAX_PROVIDERS + 1;
	T_CHECK(seg_layout(&caps, &h, err, sizeof(err)) == -1);
	/* The largest directory still validates. */
	caps.providers = VIGIL_MAX_PROVIDERS;
	caps.samples = caps.history = caps.alerts = 2;
	T_CHECK(seg_layout(&caps, &h, err, sizeof(err)) == 0);
}

/*
 * An existing vigil segment (stale, from an earlier run) is replaced; an
 * empty object too; anything else is foreign and left alone.
 */
static void
test_stale_and_foreign(void)
{
	struct seg_caps caps = { 2, 8, 8, 8, 0 };
	struct segment s, s2;
	struct vigil_client c;
	char name[64], err[256], buf[16];
	int fd;

	seg_name(name, sizeof(name));
	T_CHECK(seg_create(&s, name, &caps, 0600, err, sizeof(err)) == 0);
	add_provider(&s, 0, "stale", 1);
	/* A second start while the stale one is still there. */
	caps.providers = 3;
	T_CHECKF(seg_create(&s2, name, &caps, 0600, err, sizeof(err)) == 0,
	    "%s", err);
	T_CHECK(vigil_open(&c, name) == VIGIL_OK);
	T_CHECK(vigil_capacity(&c) == 3);
	{
		uint32_t idx;
		T_CHECK(vigil_find(&c, "stale", &idx) == VIGIL_ENOENT);
	}
	vigil_close(&c);
	seg_close(&s);
	seg_close(&s2);
	shm_unlink(name);

	/* An empty object: a creator that died before sizing it. */
	fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
	T_CHECK(fd != -1);
	close(fd);
	T_CHECKF(seg_create(&s, name, &caps, 0600, err, sizeof(err)) == 0,
	    "%s", err);
	seg_close(&s);
	shm_unlink(name);

	/* Foreign: somebody else's object of that name. */
	fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
	T_CHECK(fd != -1);
	T_CHECK(write(fd, "not vigil data\n", 15) == 15);
	T_CHECK(seg_create(&s, name, &caps, 0600, err, sizeof(err)) == -1);
	T_CHECKF(strstr(err, "not a vigil segment") != NULL, "%s", err);
	T_CHECK(s.base == NULL);
	/* Left intact. */
	memset(buf, 0, sizeof(buf));
	T_CHECK(pread(fd, buf, 15, 0) == 15);
	T_CHECK(memcmp(buf, "not vigil data\n", 15) == 0);
	close(fd);
	/* The client refuses it too: too small to be a segment. */
	T_CHECK(open_err(name, VIGIL_ECORRUPT, "segment too small"));
	shm_unlink(name);
}

/* Every refusal of vigil_open, with a clear error and nothing mapped. */
static void
test_open_refusals(void)
{
	struct seg_caps caps = { 2, 8, 8, 8, 0 };
	struct segment s;
	struct vigil_client c;
	char name[64], err[256];
	uint64_t saved;
	int fd;

	seg_name(name, sizeof(name));
	T_CHECK(open_err(name, VIGIL_ESYS, "No such file or directory"));
	T_CHECK(open_err(name, VIGIL_ESYS, name));
	T_CHECK(seg_create(&s, name, &caps, 0600, err, sizeof(err)) == 0);
	T_CHECK(vigil_open(&c, name) == VIGIL_OK);
	vigil_close(&c);

	s.hdr->magic = 0x1234;
	T_CHECK(open_err(name, VIGIL_EMAGIC, "bad magic"));
	T_CHECK(open_err(name, VIGIL_EMAGIC, name));
	s.hdr->magic = VIGIL_MAGIC;

	s.hdr->abi_major = 2;		/* an old layout: refused */
	s.hdr->abi_minor = 7;
	T_CHECK(open_err(name, VIGIL_EABI,
	    "segment ABI 2.7, this client reads ABI 3"));
	s.hdr->abi_major = 4;
	T_CHECK(open_err(name, VIGIL_EABI,
	    "segment ABI 4.7, this client reads ABI 3"));
	s.hdr->abi_major = VIGIL_ABI_MAJOR;
	s.hdr->abi_minor = 3;		/* a newer minor is fine */
	T_CHECK(vigil_open(&c, name) == VIGIL_OK);
	vigil_close(&c);

	saved = s.hdr->dir_off;
	s.hdr->dir_off = s.hdr->size;
	T_CHECK(open_err(name, VIGIL_ECORRUPT,
	    "directory or stats outside the segment"));
	s.hdr->dir_off = saved;

	saved = s.hdr->stats_off;
	s.hdr->stats_off = UINT64_MAX - 8;
	T_CHECK(open_err(name, VIGIL_ECORRUPT, "outside the segment"));
	s.hdr->stats_off = saved;

	saved = s.hdr->samples_off;
	s.hdr->samples_off = s.hdr->size - 64;
	T_CHECK(open_err(name, VIGIL_ECORRUPT, "rings outside the segment"));
	s.hdr->samples_off = saved;

	saved = s.hdr->samples_stride;
	s.hdr->samples_stride = 128;	/* smaller than its entries */
	T_CHECK(open_err(name, VIGIL_ECORRUPT, "rings outside the segment"));
	s.hdr->samples_stride = saved;

	saved = s.hdr->alerts_off;
	s.hdr->alerts_off = s.hdr->size - 128;
	T_CHECK(open_err(name, VIGIL_ECORRUPT, "alert ring outside"));
	s.hdr->alerts_off = saved;

	saved = s.hdr->route_off;
	s.hdr->route_off = s.hdr->size - 8;
	T_CHECK(open_err(name, VIGIL_ECORRUPT, "routing block outside"));
	s.hdr->route_off = 12;		/* misaligned */
	T_CHECK(open_err(name, VIGIL_ECORRUPT, "routing block outside"));
	s.hdr->route_off = saved;

	s.hdr->sample_cap = 100;	/* not a power of two */
	T_CHECK(open_err(name, VIGIL_ECORRUPT, "bad capacities"));
	s.hdr->sample_cap = 8;
	s.hdr->provider_cap = 0;
	T_CHECK(open_err(name, VIGIL_ECORRUPT, "bad capacities"));
	s.hdr->provider_cap = VIGIL_MAX_PROVIDERS + 1;
	T_CHECK(open_err(name, VIGIL_ECORRUPT, "bad capacities"));
	s.hdr->provider_cap = 2;

	s.hdr->sample_entry = 148;	/* not a multiple of 8 */
	T_CHECK(open_err(name, VIGIL_ECORRUPT, "bad strides"));
	s.hdr->sample_entry = 144;	/* smaller than seq + sample */
	T_CHECK(open_err(name, VIGIL_ECORRUPT, "bad strides"));
	s.hdr->sample_entry = 152;
	/* A stride that is not a multiple of 8 would misalign the atomic
	 * words of every slot after the first. */
	s.hdr->dir_stride = 196;
	T_CHECK(open_err(name, VIGIL_ECORRUPT, "outside the segment"));
	s.hdr->dir_stride = 192;
	saved = s.hdr->samples_stride;
	s.hdr->samples_stride += 4;
	T_CHECK(open_err(name, VIGIL_ECORRUPT, "rings outside the segment"));
	s.hdr->samples_stride = saved;
	saved = s.hdr->history_stride;
	s.hdr->history_stride += 12;
	T_CHECK(open_err(name, VIGIL_ECORRUPT, "rings outside the segment"));
	s.hdr->history_stride = saved;
	s.hdr->dir_stride = 16;
	T_CHECK(open_err(name, VIGIL_ECORRUPT, "bad strides"));
	s.hdr->dir_stride = 192;

	s.hdr->size += 4096;		/* claims more than the object has */
	T_CHECK(open_err(name, VIGIL_ECORRUPT, "segment truncated"));
	s.hdr->size -= 4096;
	T_CHECK(vigil_open(&c, name) == VIGIL_OK);
	vigil_close(&c);

	/* Truncated object: header intact, regions gone. */
	fd = shm_open(name, O_RDWR, 0);
	T_CHECK(fd != -1 && ftruncate(fd, 4096) == 0);
	T_CHECK(open_err(name, VIGIL_ECORRUPT, "segment truncated"));
	T_CHECK(ftruncate(fd, 100) == 0);
	T_CHECK(open_err(name, VIGIL_ECORRUPT, "segment too small"));
	close(fd);
	/* seg_map_fd (children) refuses it as well. */
	fd = shm_open(name, O_RDONLY, 0);
	T_CHECK(seg_map_fd(&s, fd, 0, err, sizeof(err)) == -1);
	T_CHECK(strstr(err, "too small") != NULL);
	close(fd);
	shm_unlink(name);
	/* vigil_validate with no error buffer, and a short buffer. */
	{
		uint64_t zero[96];
		memset(zero, 0, sizeof(zero));
		T_CHECK(vigil_validate(zero, sizeof(zero), NULL, 0) ==
		    VIGIL_EMAGIC);
		T_CHECK(vigil_validate(zero, 16, err, sizeof(err)) ==
		    VIGIL_ECORRUPT);
		T_CHECK(strstr(err, "smaller than its header") != NULL);
	}
	T_CHECK(strcmp(vigil_strerror(VIGIL_EABI),
	    "unsupported segment ABI version") == 0);
	T_CHECK(strcmp(vigil_strerror(12345), "unknown error") == 0);
}

/*
 * The client's mapping is read-only; a child's (seg_map_fd) is read-only
 * unless asked; the supervisor's is writable.
 */
static void
test_read_only_mapping(void)
{
	struct seg_caps caps = { 2, 8, 8, 8, 0 };
	struct segment s, ro, rw;
	struct vigil_client c;
	char name[64], err[256], perms[8];
	int fd;

	seg_name(name, sizeof(name));
	T_CHECK(seg_create(&s, name, &caps, 0600, err, sizeof(err)) == 0);
	T_CHECK(vigil_open(&c, name) == VIGIL_OK);
	T_CHECK(mapping_perms(c.base, perms));
	T_CHECKF(strcmp(perms, "r--s") == 0, "client mapping %s", perms);
	T_CHECK(mapping_perms(s.base, perms));
	T_CHECKF(strcmp(perms, "rw-s") == 0, "supervisor mapping %s", perms);

	fd = shm_open(name, O_RDONLY, 0);
	T_CHECK(seg_map_fd(&ro, fd, 0, err, sizeof(err)) == 0);
	T_CHECK(ro.fd == fd && !ro.writable);
	T_CHECK(mapping_perms(ro.base, perms) && strcmp(perms, "r--s") == 0);
	fd = shm_open(name, O_RDWR, 0);
	T_CHECK(seg_map_fd(&rw, fd, 1, err, sizeof(err)) == 0);
	T_CHECK(mapping_perms(rw.base, perms) && strcmp(perms, "rw-s") == 0);
	/* One object: a write through one mapping shows in the others. */
	add_provider(&rw, 1, "shared", 1);
	{
		uint32_t idx;
		T_CHECK(vigil_find(&c, "shared", &idx) == VIGIL_OK && idx == 1);
	}
	seg_close(&ro);
	seg_close(&rw);
	vigil_close(&c);
	seg_close(&s);
	shm_unlink(name);
}

/* Directory slots: add, find, retire, reuse; generations; snapshots. */
static void
test_directory(void)
{
	struct seg_caps caps = { 4, 8, 8, 8, 0 };
	struct segment s;
	struct vigil_client c;
	struct vigil_provider_info pi;
	struct vigil_provider p, all[4];
	struct vigil_stats st;
	char name[64], err[256];
	uint64_t gen;
	uint32_t idx;
	size_t n;

	seg_name(name, sizeof(name));
	T_CHECK(seg_create(&s, name, &caps, 0600, err, sizeof(err)) == 0);
	T_CHECK(vigil_open(&c, name) == VIGIL_OK);
	shm_unlink(name);

	T_CHECK(vigil_provider_info(&c, 0, &pi) == VIGIL_ENOENT);
	T_CHECK(vigil_provider_info(&c, 4, &pi) == VIGIL_ERANGE);
	T_CHECK(vigil_provider_stats(&c, 4, &st) == VIGIL_ERANGE);
	T_CHECK(vigil_snapshot(&c, 0, &p) == VIGIL_ENOENT);
	T_CHECK(vigil_find(&c, "openai", &idx) == VIGIL_ENOENT);
	T_CHECK(vigil_snapshot_all(&c, all, 4, &n) == VIGIL_OK && n == 0);

	gen = vigil_dir_gen(&c);
	add_provider(&s, 0, "openai", 1);
	add_provider(&s, 2, "anthropic", 1);
	T_CHECK(vigil_dir_gen(&c) == gen + 2);
	T_CHECK(vigil_find(&c, "openai", &idx) == VIGIL_OK && idx == 0);
	T_CHECK(vigil_find(&c, "anthropic", &idx) == VIGIL_OK && idx == 2);
	T_CHECK(vigil_find(&c, "anthro", &idx) == VIGIL_ENOENT);
	T_CHECK(vigil_find(&c, "", &idx) == VIGIL_ENOENT);
	T_CHECK(vigil_provider_info(&c, 2, &pi) == VIGIL_OK);
	T_CHECK(strcmp(pi.host, "anthropic.example") == 0);
	T_CHECK(pi.kind == VIGIL_KIND_OPENAI && pi.interval_ms == 30000);

	/* Stats never written: all zero, status unknown. */
	T_CHECK(vigil_snapshot(&c, 2, &p) == VIGIL_OK);
	T_CHECK(p.idx == 2 && strcmp(p.info.name, "anthropic") == 0);
	T_CHECK(p.stats.updated_wall_ns == 0 &&
	    p.stats.status == VIGIL_ST_UNKNOWN);
	/* Stats written by the aggregator. */
	memset(&st, 0, sizeof(st));
	st.updated_wall_ns = 42;
	st.status = VIGIL_ST_DEGRADED;
	st.circuit = VIGIL_CB_HALF_OPEN;
	st.win[VIGIL_WIN_1M].p95_ms = 812.5;
	memset(st.last_error, 'x', sizeof(st.last_error));	/* no NUL */
	seqlock_write(seg_stats(&s, 2), &st, VIGIL_WORDS(st));
	T_CHECK(vigil_snapshot(&c, 2, &p) == VIGIL_OK);
	T_CHECK(p.stats.updated_wall_ns == 42);
	T_CHECK(p.stats.status == VIGIL_ST_DEGRADED);
	T_CHECK(p.stats.circuit == VIGIL_CB_HALF_OPEN);
	T_CHECK(p.stats.win[VIGIL_WIN_1M].p95_ms == 812.5);
	T_CHECK(strlen(p.stats.last_error) == VIGIL_ERR_MAX - 1);

	T_CHECK(vigil_snapshot_all(&c, all, 4, &n) == VIGIL_OK && n == 2);
	T_CHECK(all[0].idx == 0 && all[1].idx == 2);
	T_CHECK(vigil_snapshot_all(&c, all, 1, &n) == VIGIL_OK && n == 1);

	/* A name that fills the field without a NUL is cut, not overrun. */
	memset(&pi, 0, sizeof(pi));
	memset(pi.name, 'n', sizeof(pi.name));
	memset(pi.host, 'h', sizeof(pi.host));
	pi.flags = VIGIL_PF_IN_USE;
	seqlock_write(seg_dir_slot(&s, 3), &pi, VIGIL_WORDS(pi));
	T_CHECK(vigil_provider_info(&c, 3, &pi) == VIGIL_OK);
	T_CHECK(strlen(pi.name) == VIGIL_NAME_MAX - 1);
	T_CHECK(strlen(pi.host) == VIGIL_HOST_MAX - 1);

	/* Retire: gone from find and snapshots; generation moves. */
	gen = vigil_dir_gen(&c);
	retire_provider(&s, 0);
	T_CHECK(vigil_dir_gen(&c) == gen + 1);
	T_CHECK(vigil_find(&c, "openai", &idx) == VIGIL_ENOENT);
	T_CHECK(vigil_snapshot(&c, 0, &p) == VIGIL_ENOENT);
	T_CHECK(vigil_snapshot_all(&c, all, 4, &n) == VIGIL_OK && n == 2);
	T_CHECK(all[0].idx == 2 && all[1].idx == 3);

	/* Reuse the slot for another provider, newer generation. */
	add_provider(&s, 0, "deepseek", 2);
	T_CHECK(vigil_find(&c, "deepseek", &idx) == VIGIL_OK && idx == 0);
	T_CHECK(vigil_snapshot(&c, 0, &p) == VIGIL_OK);
	T_CHECK(p.info.generation == 2);

	/* A slot held odd by its writer: busy, not a hang, not garbage. */
	seqlock_write_begin(seg_dir_slot(&s, 2));
	T_CHECK(vigil_provider_info(&c, 2, &pi) == VIGIL_EBUSY);
	T_CHECK(vigil_snapshot(&c, 2, &p) == VIGIL_EBUSY);
	T_CHECK(vigil_find(&c, "anthropic", &idx) == VIGIL_EBUSY);
	T_CHECK(vigil_snapshot_all(&c, all, 4, &n) == VIGIL_EBUSY);
	seqlock_write_end(seg_dir_slot(&s, 2));
	T_CHECK(vigil_find(&c, "anthropic", &idx) == VIGIL_OK && idx == 2);
	/* A stats block held odd. */
	seqlock_write_begin(seg_stats(&s, 2));
	T_CHECK(vigil_provider_stats(&c, 2, &st) == VIGIL_EBUSY);
	T_CHECK(vigil_snapshot(&c, 2, &p) == VIGIL_EBUSY);
	seqlock_write_end(seg_stats(&s, 2));
	T_CHECK(vigil_snapshot(&c, 2, &p) == VIGIL_OK);
	vigil_close(&c);
	seg_close(&s);
}

/* The routing block: order as written, truncated to max, bad counts. */
static void
test_route_order(void)
{
	struct seg_caps caps = { 5, 8, 8, 8, 0 };
	struct segment s;
	struct vigil_client c;
	struct vigil_route_head rh;
	uint64_t buf[2 + 3];
	uint32_t idx[8], order[3] = { 4, 0, 2 };
	char name[64], err[256];
	size_t n;

	seg_name(name, sizeof(name));
	T_CHECK(seg_create(&s, name, &caps, 0600, err, sizeof(err)) == 0);
	T_CHECK(vigil_open(&c, name) == VIGIL_OK);
	shm_unlink(name);
	T_CHECK(seg_route_words(&s) == 2 + 3);	/* 5 u32 -> 3 words */

	n = 99;
	T_CHECK(vigil_route_order(&c, idx, 8, &n) == VIGIL_OK && n == 0);

	memset(buf, 0, sizeof(buf));
	rh.count = 3;
	rh.pad = 0;
	rh.computed_wall_ns = 1;
	memcpy(buf, &rh, sizeof(rh));
	memcpy((unsigned char *)buf + sizeof(rh), order, sizeof(order));
	seqlock_write(seg_route(&s), buf, seg_route_words(&s));
	T_CHECK(vigil_route_order(&c, idx, 8, &n) == VIGIL_OK && n == 3);
	T_CHECK(idx[0] == 4 && idx[1] == 0 && idx[2] == 2);
	T_CHECK(vigil_route_order(&c, idx, 2, &n) == VIGIL_OK && n == 2);
	T_CHECK(idx[0] == 4 && idx[1] == 0);

	/* A count larger than the directory is refused. */
	rh.count = 6;
	memcpy(buf, &rh, sizeof(rh));
	seqlock_write(seg_route(&s), buf, seg_route_words(&s));
	T_CHECK(vigil_route_order(&c, idx, 8, &n) == VIGIL_ECORRUPT);
	T_CHECK(n == 0);

	seqlock_write_begin(seg_route(&s));
	T_CHECK(vigil_route_order(&c, idx, 8, &n) == VIGIL_EBUSY);
	seqlock_write_end(seg_route(&s));
	vigil_close(&c);
	seg_close(&s);
}

/* History and alert rings through the client. */
static void
test_history_alerts(void)
{
	struct seg_caps caps = { 2, 8, 4, 4, 0 };
	struct segment s;
	struct vigil_client c;
	struct vigil_cursor cur = { 0, 0 };
	struct vigil_history h, hout[8];
	struct vigil_alert a, aout[8];
	struct ring_writer hw, aw;
	char name[64], err[256];
	int i;

	seg_name(name, sizeof(name));
	T_CHECK(seg_create(&s, name, &caps, 0600, err, sizeof(err)) == 0);
	T_CHECK(vigil_open(&c, name) == VIGIL_OK);
	shm_unlink(name);

	ring_writer_init(&hw, seg_history_ring(&s, 1), s.hdr->history_cap,
	    s.hdr->history_entry);
	ring_writer_init(&aw, seg_alert_ring(&s), s.hdr->alert_cap,
	    s.hdr->alert_entry);
	for (i = 0; i < 6; i++) {
		memset(&h, 0, sizeof(h));
		h.p95_us = 1000 + (uint32_t)i;
		ring_push(&hw, &h, VIGIL_WORDS(h));
		memset(&a, 0, sizeof(a));
		a.id = (uint64_t)i + 1;
		a.kind = VIGIL_AK_LATENCY;
		memset(a.provider, 'p', sizeof(a.provider));	/* no NUL */
		ring_push(&aw, &a, VIGIL_WORDS(a));
	}
	ring_beat(&hw, now_mono_ns());
	T_CHECK(vigil_read_history(&c, 1, &cur, hout, 8) == 4);
	T_CHECK(cur.lost == 2);
	T_CHECK(hout[0].p95_us == 1002 && hout[3].p95_us == 1005);
	cur.next = cur.lost = 0;
	T_CHECK(vigil_read_history(&c, 0, &cur, hout, 8) == 0);
	T_CHECK(vigil_read_history(&c, 2, &cur, hout, 8) == 0);
	cur.next = cur.lost = 0;
	T_CHECK(vigil_read_alerts(&c, &cur, aout, 8) == 4);
	T_CHECK(aout[0].id == 3 && aout[3].id == 6 && cur.lost == 2);
	T_CHECK(strlen(aout[0].provider) == VIGIL_NAME_MAX - 1);
	T_CHECK(vigil_read_alerts(&c, &cur, aout, 8) == 0);
	/* Heartbeats. */
	atomic_store(&s.hdr->aggregator_beat_ns, now_mono_ns());
	T_CHECK(vigil_aggregator_age_ns(&c) < UINT64_C(60000000000));
	T_CHECK(vigil_prober_age_ns(&c, 1) == UINT64_MAX);	/* sample ring */
	{
		struct ring_writer sw;
		ring_writer_init(&sw, seg_sample_ring(&s, 1),
		    s.hdr->sample_cap, s.hdr->sample_entry);
		ring_beat(&sw, now_mono_ns());
	}
	T_CHECK(vigil_prober_age_ns(&c, 1) < UINT64_C(60000000000));
	vigil_close(&c);
	seg_close(&s);
}

/*
 * history_retention = 6 keeps 6 records, not the ring's 8 (issue 15:
 * "history_retention = 1000 keeps 1,024"): every reader goes through
 * vigil_read_history/alerts, which show the newest `keep` only.
 */
static void
test_retention(void)
{
	struct seg_caps caps = { 1, 8, 6, 5, 0 };
	struct segment s;
	struct vigil_client c;
	struct vigil_cursor cur = { 0, 0 };
	struct vigil_history h, hout[8];
	struct vigil_alert a, aout[8];
	struct ring_writer hw, aw;
	char name[64], err[256];
	int i;

	seg_name(name, sizeof(name));
	T_CHECK(seg_create(&s, name, &caps, 0600, err, sizeof(err)) == 0);
	T_CHECK(s.hdr->history_cap == 8 && s.hdr->history_keep == 6);
	T_CHECK(s.hdr->alert_cap == 8 && s.hdr->alert_keep == 5);
	T_CHECK(vigil_open(&c, name) == VIGIL_OK);
	ring_writer_init(&hw, seg_history_ring(&s, 0), s.hdr->history_cap,
	    s.hdr->history_entry);
	ring_writer_init(&aw, seg_alert_ring(&s), s.hdr->alert_cap,
	    s.hdr->alert_entry);
	for (i = 0; i < 7; i++) {
		memset(&h, 0, sizeof(h));
		h.p95_us = (uint32_t)i;
		ring_push(&hw, &h, VIGIL_WORDS(h));
		memset(&a, 0, sizeof(a));
		a.id = (uint64_t)i + 1;
		ring_push(&aw, &a, VIGIL_WORDS(a));
	}
	T_CHECK(vigil_read_history(&c, 0, &cur, hout, 8) == 6);
	T_CHECK(cur.lost == 1 && hout[0].p95_us == 1 && hout[5].p95_us == 6);
	cur.next = cur.lost = 0;
	T_CHECK(vigil_read_alerts(&c, &cur, aout, 8) == 5);
	T_CHECK(cur.lost == 2 && aout[0].id == 3 && aout[4].id == 7);
	vigil_close(&c);
	/* A keep over the cap, or 0, is a corrupt layout. */
	s.hdr->history_keep = 9;
	T_CHECK(open_err(name, VIGIL_ECORRUPT, "bad capacities"));
	s.hdr->history_keep = 0;
	T_CHECK(open_err(name, VIGIL_ECORRUPT, "bad capacities"));
	s.hdr->history_keep = 6;
	shm_unlink(name);
	seg_close(&s);
}

/*
 * Issue 17's model blocks: the supervisor's names and budget, the
 * aggregator's per-model stats; a count past model_cap and a name with
 * no NUL are cut on copy; model_cap out of range is a corrupt layout.
 */
static void
test_models(void)
{
	struct seg_caps caps = { 2, 8, 8, 8, 3 };
	struct segment s;
	struct vigil_client c;
	struct vigil_models ms;
	struct vigil_model_stats st;
	uint64_t blk[(sizeof(struct vigil_models_head) + 3 *
	    sizeof(struct vigil_model_info)) / 8];
	struct vigil_models_head *h = (struct vigil_models_head *)(void *)blk;
	struct vigil_model_info *names = (struct vigil_model_info *)(h + 1);
	char name[64], err[256];
	uint32_t m = 9;

	seg_name(name, sizeof(name));
	T_CHECK(seg_create(&s, name, &caps, 0600, err, sizeof(err)) == 0);
	T_CHECK(s.lay.model_cap == 3 && seg_models_words(&s) ==
	    sizeof(blk) / 8);
	T_CHECK(vigil_open(&c, name) == VIGIL_OK);
	memset(blk, 0, sizeof(blk));
	h->count = 2;
	h->token_budget = 20000;
	snprintf(names[0].name, VIGIL_MODEL_MAX, "gpt-4o-mini");
	snprintf(names[1].name, VIGIL_MODEL_MAX, "o3-mini");
	seqlock_write(seg_models(&s, 1), blk, seg_models_words(&s));
	T_CHECK(vigil_models(&c, 1, &ms) == VIGIL_OK);
	T_CHECK(ms.head.count == 2 && ms.head.token_budget == 20000 &&
	    strcmp(ms.names[1].name, "o3-mini") == 0);
	T_CHECK(vigil_find_model(&c, 1, "o3-mini", &m) == VIGIL_OK && m == 1);
	T_CHECK(vigil_find_model(&c, 1, "gpt-5", &m) == VIGIL_ENOENT);
	T_CHECK(vigil_models(&c, 0, &ms) == VIGIL_OK && ms.head.count == 0);
	T_CHECK(vigil_models(&c, 2, &ms) == VIGIL_ERANGE);
	/* A writer's garbage: count past the cap, a name with no NUL. */
	h->count = 1000;
	memset(names[2].name, 'x', VIGIL_MODEL_MAX);
	seqlock_write(seg_models(&s, 1), blk, seg_models_words(&s));
	T_CHECK(vigil_models(&c, 1, &ms) == VIGIL_OK && ms.head.count == 3);
	T_CHECK(strlen(ms.names[2].name) == VIGIL_MODEL_MAX - 1);
	/* Per-model stats. */
	memset(&st, 0, sizeof(st));
	st.status = VIGIL_ST_DEGRADED;
	st.reason = VIGIL_RS_MODEL_MISSING;
	st.win[VIGIL_WIN_5M].ttft_p95_ms = 812.5;
	memset(st.last_error, 'e', sizeof(st.last_error));
	seqlock_write(seg_model_stats(&s, 1, 2), &st, VIGIL_WORDS(st));
	memset(&st, 0, sizeof(st));
	T_CHECK(vigil_model_stats(&c, 1, 2, &st) == VIGIL_OK);
	T_CHECK(st.status == VIGIL_ST_DEGRADED && st.win[VIGIL_WIN_5M]
	    .ttft_p95_ms == 812.5 && strlen(st.last_error) ==
	    VIGIL_ERR_MAX - 1);
	T_CHECK(vigil_model_stats(&c, 1, 3, &st) == VIGIL_ERANGE);
	T_CHECK(seg_model_stats(&s, 1, 3) == NULL);
	vigil_close(&c);
	s.hdr->model_cap = 0;
	T_CHECK(open_err(name, VIGIL_ECORRUPT, "bad capacities"));
	s.hdr->model_cap = VIGIL_MAX_MODELS + 1;
	T_CHECK(open_err(name, VIGIL_ECORRUPT, "bad capacities"));
	s.hdr->model_cap = 3;
	caps.models = VIGIL_MAX_MODELS + 1;
	{
		struct vigil_header hh;

		T_CHECK(seg_layout(&caps, &hh, err, sizeof(err)) == -1 &&
		    strstr(err, "model slots") != NULL);
	}
	shm_unlink(name);
	seg_close(&s);
}

/*
 * What a reader sees after mapping: a service-uid process can rewrite the
 * header (the segment is mapped read-write by probers and the
 * aggregator).  Each layout field in turn gets 0, a huge value and a
 * plausible in-bounds wrong one; every accessor of the client and of
 * struct segment must still address the private layout, read what was
 * written, and report the change (never follow it).  The creator puts it
 * back with seg_layout_restore.
 */
struct lay_field {
	const char *name;
	size_t off;
	size_t width;
};

#define LAY_FIELD(m) { #m, offsetof(struct vigil_header, m), \
	sizeof(((struct vigil_header *)0)->m) }

static const struct lay_field lay_fields[] = {
	LAY_FIELD(magic), LAY_FIELD(abi_major), LAY_FIELD(size),
	LAY_FIELD(provider_cap), LAY_FIELD(sample_cap),
	LAY_FIELD(history_cap), LAY_FIELD(alert_cap),
	LAY_FIELD(dir_off), LAY_FIELD(dir_stride),
	LAY_FIELD(samples_off), LAY_FIELD(samples_stride),
	LAY_FIELD(stats_off), LAY_FIELD(stats_stride),
	LAY_FIELD(history_off), LAY_FIELD(history_stride),
	LAY_FIELD(alerts_off), LAY_FIELD(route_off),
	LAY_FIELD(sample_entry), LAY_FIELD(history_entry),
	LAY_FIELD(alert_entry), LAY_FIELD(history_keep),
	LAY_FIELD(alert_keep), LAY_FIELD(models_off),
	LAY_FIELD(models_stride), LAY_FIELD(model_stats_off),
	LAY_FIELD(model_stats_stride), LAY_FIELD(model_cap),
	LAY_FIELD(statuspage_off), LAY_FIELD(statuspage_stride)
};

/* Every read a reader does, against what test_layout_private wrote. */
static void
reads_intact(const struct vigil_client *c, const struct segment *child,
    void *const *ptrs, const char *field)
{
	struct vigil_provider_info pi;
	struct vigil_provider all[3];
	struct vigil_stats st;
	struct vigil_cursor cur = { 0, 0 };
	struct vigil_sample sm[8];
	struct vigil_history hr[8];
	struct vigil_alert al[8];
	struct vigil_status_page sp;
	uint32_t idx = 9, order[3];
	size_t n = 9;

	T_CHECKF(vigil_capacity(c) == 3, "%s", field);
	T_CHECKF(vigil_provider_info(c, 1, &pi) == VIGIL_OK &&
	    strcmp(pi.name, "beta") == 0, "%s", field);
	T_CHECKF(vigil_provider_info(c, 3, &pi) == VIGIL_ERANGE, "%s", field);
	T_CHECKF(vigil_provider_stats(c, 1, &st) == VIGIL_OK &&
	    st.samples_total == 42, "%s", field);
	T_CHECKF(vigil_snapshot_all(c, all, 3, &n) == VIGIL_OK && n == 2,
	    "%s", field);
	T_CHECKF(vigil_find(c, "beta", &idx) == VIGIL_OK && idx == 1, "%s",
	    field);
	T_CHECKF(vigil_read_samples(c, 1, &cur, sm, 8) == 5 &&
	    sm[4].latency_us == 104, "%s", field);
	cur.next = cur.lost = 0;
	T_CHECKF(vigil_read_history(c, 1, &cur, hr, 8) == 3 &&
	    hr[2].p95_us == 202, "%s", field);
	cur.next = cur.lost = 0;
	T_CHECKF(vigil_read_alerts(c, &cur, al, 8) == 2 && al[1].id == 2,
	    "%s", field);
	T_CHECKF(vigil_route_order(c, order, 3, &n) == VIGIL_OK && n == 2 &&
	    order[0] == 1, "%s", field);
	T_CHECKF(vigil_prober_age_ns(c, 1) < UINT64_C(60000000000), "%s",
	    field);
	T_CHECKF((void *)seg_dir_slot(child, 1) == ptrs[0] &&
	    (void *)seg_stats(child, 1) == ptrs[1] &&
	    (void *)seg_sample_ring(child, 1) == ptrs[2] &&
	    (void *)seg_history_ring(child, 1) == ptrs[3] &&
	    (void *)seg_alert_ring(child) == ptrs[4] &&
	    (void *)seg_route(child) == ptrs[5] &&
	    (void *)seg_statuspage(child, 1) == ptrs[6] &&
	    seg_route_words(child) == 2 + 2, "%s", field);
	/* The status page is shown for the slot's provider only. */
	T_CHECKF(vigil_status_page(c, 1, "beta", &sp) == VIGIL_OK &&
	    sp.incidents_open == 7 && strcmp(sp.incident_name, "x") == 0,
	    "%s", field);
	T_CHECKF(vigil_status_page(c, 1, "alpha", &sp) == VIGIL_ENOENT &&
	    vigil_status_page(c, 0, NULL, &sp) == VIGIL_ENOENT &&
	    vigil_status_page(c, 3, NULL, &sp) == VIGIL_ERANGE, "%s", field);
}

static void
test_layout_private(void)
{
	struct seg_caps caps = { 3, 8, 4, 4, 0 };
	struct segment s, child;
	struct vigil_client c;
	struct vigil_stats st;
	struct vigil_sample sm;
	struct vigil_history hr;
	struct vigil_alert al;
	struct vigil_route_head rh;
	struct vigil_status_page sp;
	struct ring_writer w;
	struct seg_watch watch;
	uint64_t buf[4], saved, bad[3], v;
	uint32_t order[2] = { 1, 0 };
	void *ptrs[7];
	char name[64], err[256], msg[256];
	size_t f, k;
	int fd, i;

	seg_name(name, sizeof(name));
	T_CHECK(seg_create(&s, name, &caps, 0600, err, sizeof(err)) == 0);
	T_CHECK(vigil_open(&c, name) == VIGIL_OK);
	fd = shm_open(name, O_RDWR, 0);
	T_CHECK(fd != -1 && seg_map_fd(&child, fd, 1, err, sizeof(err)) == 0);
	shm_unlink(name);

	add_provider(&s, 0, "alpha", 1);
	add_provider(&s, 1, "beta", 1);
	memset(&st, 0, sizeof(st));
	st.samples_total = 42;
	seqlock_write(seg_stats(&s, 1), &st, VIGIL_WORDS(st));
	ring_writer_init(&w, seg_sample_ring(&s, 1), s.lay.sample_cap,
	    s.lay.sample_entry);
	for (i = 0; i < 5; i++) {
		memset(&sm, 0, sizeof(sm));
		sm.latency_us = 100 + (uint32_t)i;
		ring_push(&w, &sm, VIGIL_WORDS(sm));
	}
	ring_beat(&w, now_mono_ns());
	ring_writer_init(&w, seg_history_ring(&s, 1), s.lay.history_cap,
	    s.lay.history_entry);
	for (i = 0; i < 3; i++) {
		memset(&hr, 0, sizeof(hr));
		hr.p95_us = 200 + (uint32_t)i;
		ring_push(&w, &hr, VIGIL_WORDS(hr));
	}
	ring_writer_init(&w, seg_alert_ring(&s), s.lay.alert_cap,
	    s.lay.alert_entry);
	for (i = 0; i < 2; i++) {
		memset(&al, 0, sizeof(al));
		al.id = (uint64_t)i + 1;
		ring_push(&w, &al, VIGIL_WORDS(al));
	}
	memset(buf, 0, sizeof(buf));
	rh.count = 2;
	rh.pad = 0;
	rh.computed_wall_ns = 1;
	memcpy(buf, &rh, sizeof(rh));
	memcpy((unsigned char *)buf + sizeof(rh), order, sizeof(order));
	seqlock_write(seg_route(&s), buf, seg_route_words(&s));
	memset(&sp, 0, sizeof(sp));
	sp.flags = VIGIL_SPF_CONFIGURED | VIGIL_SPF_OK;
	sp.updated_wall_ns = sp.fetched_wall_ns = 1;
	sp.incidents_open = 7;
	snprintf(sp.provider, sizeof(sp.provider), "beta");
	snprintf(sp.incident_name, sizeof(sp.incident_name), "x");
	seqlock_write(seg_statuspage(&s, 1), &sp, VIGIL_WORDS(sp));

	ptrs[0] = seg_dir_slot(&child, 1);
	ptrs[1] = seg_stats(&child, 1);
	ptrs[2] = seg_sample_ring(&child, 1);
	ptrs[3] = seg_history_ring(&child, 1);
	ptrs[4] = seg_alert_ring(&child);
	ptrs[5] = seg_route(&child);
	ptrs[6] = seg_statuspage(&child, 1);
	T_CHECK(seg_dir_slot(&child, 3) == NULL);	/* beyond the capacity */
	T_CHECK(seg_sample_ring(&child, UINT32_MAX) == NULL);
	reads_intact(&c, &child, ptrs, "before");
	T_CHECK(vigil_layout_changed(&c, NULL, 0) == 0);
	T_CHECK(seg_layout_check(&child, err, sizeof(err)) == 0);

	for (f = 0; f < sizeof(lay_fields) / sizeof(lay_fields[0]); f++) {
		const struct lay_field *lf = &lay_fields[f];
		unsigned char *p = (unsigned char *)s.hdr + lf->off;

		saved = 0;
		memcpy(&saved, p, lf->width);
		bad[0] = 0;
		bad[1] = lf->width == 8 ? UINT64_MAX - 7 : UINT32_MAX;
		/* In bounds, aligned and wrong: another region's place. */
		bad[2] = saved == s.lay.stats_off ? s.lay.samples_off :
		    s.lay.stats_off;
		for (k = 0; k < 3; k++) {
			v = bad[k];
			memcpy(p, &v, lf->width);
			memset(&watch, 0, sizeof(watch));
			T_CHECKF(vigil_layout_changed(&c, msg, sizeof(msg)) == 1
			    && strstr(msg, lf->name) != NULL, "%s: %s",
			    lf->name, msg);
			T_CHECKF(seg_layout_check(&child, err, sizeof(err)) ==
			    -1 && strstr(err, lf->name) != NULL, "%s",
			    lf->name);
			T_CHECKF(seg_layout_watch(&watch, child.base,
			    &child.lay, 1000, msg, sizeof(msg)) == 1 &&
			    strstr(msg, "not followed") != NULL, "%s",
			    lf->name);
			/* Said once, not again every tick. */
			T_CHECKF(seg_layout_watch(&watch, child.base,
			    &child.lay, 2000, msg, sizeof(msg)) == 0, "%s",
			    lf->name);
			reads_intact(&c, &child, ptrs, lf->name);
			/* The creator's own accessors and its repair. */
			T_CHECKF((unsigned char *)seg_sample_ring(&s, 1) -
			    s.base == (unsigned char *)ptrs[2] - child.base,
			    "%s", lf->name);
			seg_layout_restore(&s);
			memcpy(&v, p, lf->width);
			T_CHECKF(memcmp(&v, &saved, lf->width) == 0, "%s",
			    lf->name);
			T_CHECKF(vigil_layout_changed(&c, NULL, 0) == 0, "%s",
			    lf->name);
			T_CHECKF(seg_layout_watch(&watch, child.base,
			    &child.lay, 3000, msg, sizeof(msg)) == 1 &&
			    strstr(msg, "back") != NULL, "%s", lf->name);
		}
	}

	/* A layout handed over is checked before it is used. */
	{
		struct vigil_client c2;
		struct vigil_layout l = child.lay;

		l.route_off = l.size;
		T_CHECK(vigil_attach_layout(&c2, child.base, child.size, &l) ==
		    VIGIL_ECORRUPT && vigil_capacity(&c2) == 0);
		T_CHECK(vigil_read_alerts(&c2, &(struct vigil_cursor){ 0, 0 },
		    &al, 1) == 0);
		T_CHECK(seg_client(&child, &c2) == VIGIL_OK);
		reads_intact(&c2, &child, ptrs, "seg_client");
	}
	vigil_close(&c);
	seg_close(&child);
	seg_close(&s);
}

/* Names of enum values, and out-of-range values. */
static void
test_names(void)
{
	T_CHECK(strcmp(vigil_outcome_name(VIGIL_OUT_RATE_LIMITED),
	    "rate_limited") == 0);
	T_CHECK(strcmp(vigil_outcome_name(VIGIL_OUT_COUNT), "invalid") == 0);
	T_CHECK(strcmp(vigil_status_name(VIGIL_ST_PAUSED), "paused") == 0);
	T_CHECK(strcmp(vigil_status_name(200), "invalid") == 0);
	T_CHECK(strcmp(vigil_circuit_name(VIGIL_CB_HALF_OPEN),
	    "half_open") == 0);
	T_CHECK(strcmp(vigil_trend_name(VIGIL_TR_IMPROVING), "improving") == 0);
	T_CHECK(strcmp(vigil_kind_name(VIGIL_KIND_CURSOR), "cursor") == 0);
	T_CHECK(strcmp(vigil_alert_kind_name(VIGIL_AK_DEGRADING),
	    "degrading") == 0);
	T_CHECK(strcmp(vigil_alert_level_name(VIGIL_AL_RESOLVED),
	    "resolved") == 0);
	T_CHECK(strcmp(vigil_alert_level_name(VIGIL_AL_COUNT),
	    "invalid") == 0);
}

int
main(void)
{
	T_RUN(test_create_layout);
	T_RUN(test_stale_and_foreign);
	T_RUN(test_open_refusals);
	T_RUN(test_read_only_mapping);
	T_RUN(test_directory);
	T_RUN(test_route_order);
	T_RUN(test_history_alerts);
	T_RUN(test_retention);
	T_RUN(test_models);
	T_RUN(test_layout_private);
	T_RUN(test_names);
	return t_done();
}
