/*
 * segment.c - the shared-memory segment: layout, creation, mapping.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "segment.h"

_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2,
    "a lock-based atomic does not work across processes");

static uint64_t	align_up(uint64_t, uint64_t);

static uint64_t
align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

/* Smallest power of two >= v (v >= 1), saturating at 2^31. */
uint32_t
seg_pow2(uint32_t v)
{
	uint32_t p = 1;

	while (p < v && p < (UINT32_C(1) << 31))
		p <<= 1;
	return p;
}

/*
 * Fill the read-only part of a header from capacities: offsets, strides,
 * sizes.  Every region starts on a cache line; every per-provider slot and
 * ring is cache-line aligned so that no two writers share a line.
 * Returns 0, or -1 with err filled when the capacities are unusable.
 */
int
seg_layout(const struct seg_caps *caps, struct vigil_header *h, char *err,
    size_t errlen)
{
	const uint64_t cl = VIGIL_CACHELINE;
	uint64_t off, route_bytes;

	if (caps->providers == 0 || caps->providers > VIGIL_MAX_PROVIDERS) {
		snprintf(err, errlen, "provider capacity %u out of range 1..%u",
		    caps->providers, VIGIL_MAX_PROVIDERS);
		return -1;
	}
	if (caps->samples < 2 || caps->samples > (1u << 20) ||
	    caps->history < 2 || caps->history > (1u << 20) ||
	    caps->alerts < 2 || caps->alerts > (1u << 20)) {
		snprintf(err, errlen, "ring capacities out of range 2..%u",
		    1u << 20);
		return -1;
	}
	if (caps->models > VIGIL_MAX_MODELS) {
		snprintf(err, errlen, "model slots out of range 1..%u",
		    VIGIL_MAX_MODELS);
		return -1;
	}

	memset(h, 0, sizeof(*h));
	h->abi_major = VIGIL_ABI_MAJOR;
	h->abi_minor = VIGIL_ABI_MINOR;
	h->provider_cap = caps->providers;
	h->sample_cap = seg_pow2(caps->samples);
	h->history_cap = seg_pow2(caps->history);
	h->alert_cap = seg_pow2(caps->alerts);
	h->history_keep = caps->history;
	h->alert_keep = caps->alerts;
	h->model_cap = caps->models ? caps->models : SEG_MODELS;
	h->sample_entry = 8 + sizeof(struct vigil_sample);
	h->history_entry = 8 + sizeof(struct vigil_history);
	h->alert_entry = 8 + sizeof(struct vigil_alert);

	off = align_up(sizeof(struct vigil_header), cl);
	h->dir_off = off;
	h->dir_stride = align_up(8 + sizeof(struct vigil_provider_info), cl);
	off += h->dir_stride * h->provider_cap;

	h->stats_off = off = align_up(off, cl);
	h->stats_stride = align_up(8 + sizeof(struct vigil_stats), cl);
	off += h->stats_stride * h->provider_cap;

	h->models_off = off = align_up(off, cl);
	h->models_stride = align_up(8 + sizeof(struct vigil_models_head) +
	    (uint64_t)h->model_cap * sizeof(struct vigil_model_info), cl);
	off += h->models_stride * h->provider_cap;

	h->model_stats_off = off = align_up(off, cl);
	h->model_stats_stride = align_up(8 + sizeof(struct vigil_model_stats),
	    cl);
	off += h->model_stats_stride * h->provider_cap * h->model_cap;

	/* vigil-statuspage's blocks: written by that process only. */
	h->statuspage_off = off = align_up(off, cl);
	h->statuspage_stride = align_up(8 + sizeof(struct vigil_status_page),
	    cl);
	off += h->statuspage_stride * h->provider_cap;

	h->samples_off = off = align_up(off, cl);
	h->samples_stride = align_up(sizeof(struct vigil_ring_ctl) +
	    (uint64_t)h->sample_cap * h->sample_entry, cl);
	off += h->samples_stride * h->provider_cap;

	h->history_off = off = align_up(off, cl);
	h->history_stride = align_up(sizeof(struct vigil_ring_ctl) +
	    (uint64_t)h->history_cap * h->history_entry, cl);
	off += h->history_stride * h->provider_cap;

	h->alerts_off = off = align_up(off, cl);
	off += sizeof(struct vigil_ring_ctl) +
	    (uint64_t)h->alert_cap * h->alert_entry;

	h->route_off = off = align_up(off, cl);
	route_bytes = 8 + sizeof(struct vigil_route_head) +
	    ((uint64_t)h->provider_cap * 4 + 7) / 8 * 8;
	off += route_bytes;

	h->size = align_up(off, 4096);
	return 0;
}

/*
 * The shm object `name`, new, of `size` bytes and mode `mode` (not the
 * umask's), for its creator to publish.  An object already there that
 * starts with `magic` (what = its name in the error), or is empty (a
 * creator that died before its header), is an earlier run's and is
 * replaced; anything else is refused, never overwritten.  The one way
 * vigild creates a segment (this one and the reports segment).  Returns
 * the descriptor, or -1 with err (nothing left behind).
 */
int
seg_shm_create(const char *name, uint64_t magic, const char *what,
    mode_t mode, uint64_t size, char *err, size_t errlen)
{
	struct stat st;
	uint64_t m = 0;
	int fd, ofd;

	fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd == -1 && errno == EEXIST) {
		if ((ofd = shm_open(name, O_RDONLY | O_CLOEXEC, 0)) == -1) {
			snprintf(err, errlen, "shm %s exists and cannot be "
			    "opened: %s", name, strerror(errno));
			return -1;
		}
		if (fstat(ofd, &st) == -1)
			st.st_size = 0;
		if (st.st_size >= 8 && pread(ofd, &m, 8, 0) != 8)
			m = 0;
		close(ofd);
		if (st.st_size != 0 && m != magic) {
			snprintf(err, errlen, "shm %s exists and is not a %s; "
			    "refusing to replace it (remove /dev/shm%s if it "
			    "is yours)", name, what, name);
			return -1;
		}
		if (shm_unlink(name) == -1 && errno != ENOENT) {
			snprintf(err, errlen, "shm_unlink %s: %s", name,
			    strerror(errno));
			return -1;
		}
		fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
		    mode);
	}
	if (fd == -1) {
		snprintf(err, errlen, "shm_open %s: %s", name,
		    strerror(errno));
		return -1;
	}
	(void)fchmod(fd, mode);
	if (ftruncate(fd, (off_t)size) == -1) {
		snprintf(err, errlen, "ftruncate %s to %llu bytes: %s", name,
		    (unsigned long long)size, strerror(errno));
		close(fd);
		shm_unlink(name);
		return -1;
	}
	return fd;
}

/*
 * Create the segment `name` with the given capacities and publish its
 * header (magic last, with release order, so a reader that sees the magic
 * sees a complete header).
 *
 * An existing segment of that name is inspected first: one with vigil's
 * magic is a stale segment of an earlier run and is replaced; anything
 * else is foreign and refused, so vigil never clobbers another program's
 * memory.  An empty object (a creator that died before the header was
 * written) counts as stale.
 */
int
seg_create(struct segment *s, const char *name, const struct seg_caps *caps,
    mode_t mode, char *err, size_t errlen)
{
	struct vigil_header h;
	struct timespec ts;
	int fd;

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	if (seg_layout(caps, &h, err, errlen) == -1)
		return -1;

	if ((fd = seg_shm_create(name, VIGIL_MAGIC, "vigil segment", mode,
	    h.size, err, errlen)) == -1)
		return -1;
	if (seg_map_fd(s, fd, 1, err, errlen) == -1) {
		close(fd);
		shm_unlink(name);
		return -1;
	}

	clock_gettime(CLOCK_REALTIME, &ts);
	h.created_wall_ns = (uint64_t)ts.tv_sec * 1000000000u +
	    (uint64_t)ts.tv_nsec;
	h.supervisor_pid = (uint32_t)getpid();
	/* Copy all but the magic, then publish the magic. */
	memcpy((unsigned char *)s->hdr + 8, (unsigned char *)&h + 8,
	    offsetof(struct vigil_header, dir_gen) - 8);
	atomic_thread_fence(memory_order_release);
	s->hdr->magic = VIGIL_MAGIC;
	/* The creator's layout is the one it computed, never read back
	 * from the mapping: the service uid can write the header. */
	h.magic = VIGIL_MAGIC;
	vigil_layout_copy(&h, &s->lay);
	return 0;
}

/*
 * Map the segment behind descriptor fd (inherited from the supervisor, or
 * just created).  The mapping is PROT_READ unless `writable`.  Takes
 * ownership of fd.  A mapped segment that is already published is checked
 * with the client's own validator, so children and clients agree.
 */
int
seg_map_fd(struct segment *s, int fd, int writable, char *err, size_t errlen)
{
	struct stat st;
	void *p;

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "fstat segment: %s", strerror(errno));
		return -1;
	}
	if ((size_t)st.st_size < sizeof(struct vigil_header)) {
		snprintf(err, errlen, "segment too small (%lld bytes)",
		    (long long)st.st_size);
		return -1;
	}
	p = mmap(NULL, (size_t)st.st_size,
	    writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		snprintf(err, errlen, "mmap segment: %s", strerror(errno));
		return -1;
	}
	s->base = p;
	s->size = (size_t)st.st_size;
	s->hdr = p;
	s->fd = fd;
	s->writable = writable;
	/* The layout is copied once and the copy validated: from here on
	 * no address is computed from the live header. */
	if (s->hdr->magic != 0 &&
	    vigil_layout_read(p, s->size, &s->lay, err, errlen) != VIGIL_OK) {
		munmap(p, s->size);
		memset(s, 0, sizeof(*s));
		s->fd = -1;
		return -1;
	}
	return 0;
}

void
seg_close(struct segment *s)
{
	if (s->base != NULL)
		munmap(s->base, s->size);
	if (s->fd != -1)
		close(s->fd);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

/*
 * Attach a client to the segment with the segment's private layout, so
 * that the client's reads never follow the live header either.
 */
int
seg_client(const struct segment *s, struct vigil_client *c)
{
	return vigil_attach_layout(c, s->base, s->size, &s->lay);
}

/*
 * 0 when the live header still holds the private layout, else -1 with err
 * naming the changed field.  Reading goes on with the private layout
 * either way.
 */
int
seg_layout_check(const struct segment *s, char *err, size_t errlen)
{
	return vigil_layout_compare(s->base, &s->lay, err, errlen) ? -1 : 0;
}

/*
 * May a line about the header be said now?  Returns 1 and consumes one of
 * the window's SEG_WATCH_BURST lines, filling note with " (N lines not
 * said)" when some were held back (else ""); returns 0 and counts the
 * line when the window's budget is spent.
 */
int
seg_watch_say(struct seg_watch *w, uint64_t now_ns, char *note,
    size_t notelen)
{
	if (!w->started || now_ns - w->win_ns >= SEG_WATCH_WINDOW_NS) {
		w->started = 1;
		w->win_ns = now_ns;
		w->said = 0;
	}
	if (w->said >= SEG_WATCH_BURST) {
		w->hushed++;
		return 0;
	}
	w->said++;
	if (w->hushed > 0)
		snprintf(note, notelen, " (%lu lines not said)", w->hushed);
	else
		snprintf(note, notelen, "%s", "");
	w->hushed = 0;
	return 1;
}

/*
 * The periodic check of a long-lived reader (aggregator tick, vigil-api):
 * compares the live header at base with the private layout lay.  Returns
 * 1 when the caller should log msg: the header was found changed (said
 * once while it stays so), or is back to what was validated; within the
 * budget of seg_watch_say().  Returns 0 otherwise.  The rule lives here
 * so that every process says it the same way and at the same rate.
 */
int
seg_layout_watch(struct seg_watch *w, const void *base,
    const struct vigil_layout *lay, uint64_t now_ns, char *msg,
    size_t msglen)
{
	char why[160], note[48];
	int changed = vigil_layout_compare(base, lay, why, sizeof(why));

	if (changed == w->changed)
		return 0;
	w->changed = changed;
	if (!seg_watch_say(w, now_ns, note, sizeof(note)))
		return 0;
	if (changed)
		snprintf(msg, msglen, "%s; not followed: reading on with the "
		    "layout validated at start%s", why, note);
	else
		snprintf(msg, msglen, "segment header layout is back to the "
		    "one validated at start%s", note);
	return 1;
}

/*
 * The creator's repair: write the private layout back over the header's
 * layout fields (the supervisor is the header's writer), so that a child
 * that maps the segment afterwards validates the real layout again.
 */
void
seg_layout_restore(struct segment *s)
{
	const struct vigil__layout_field *f;
	size_t i, n;

	if (!s->writable || s->lay.magic == 0)
		return;
	f = vigil__layout_fields(&n);
	for (i = 0; i < n; i++)
		memcpy((unsigned char *)s->hdr + f[i].hdr_off,
		    (const unsigned char *)&s->lay + f[i].lay_off, f[i].width);
}

/*
 * Addresses of the regions, from the private layout only.  NULL when i is
 * not below the provider capacity (or nothing is published yet): callers
 * loop below the capacity, so NULL is a bug of theirs, never the
 * segment's doing.
 */
struct vigil_seqblock *
seg_dir_slot(const struct segment *s, uint32_t i)
{
	if (i >= s->lay.provider_cap)
		return NULL;
	return (struct vigil_seqblock *)(void *)(s->base + s->lay.dir_off +
	    (uint64_t)i * s->lay.dir_stride);
}

struct vigil_seqblock *
seg_stats(const struct segment *s, uint32_t i)
{
	if (i >= s->lay.provider_cap)
		return NULL;
	return (struct vigil_seqblock *)(void *)(s->base + s->lay.stats_off +
	    (uint64_t)i * s->lay.stats_stride);
}

/* Provider i's model block (the supervisor's). */
struct vigil_seqblock *
seg_models(const struct segment *s, uint32_t i)
{
	if (i >= s->lay.provider_cap)
		return NULL;
	return (struct vigil_seqblock *)(void *)(s->base + s->lay.models_off +
	    (uint64_t)i * s->lay.models_stride);
}

/* Words of a model block's payload: the head and model_cap names. */
size_t
seg_models_words(const struct segment *s)
{
	return (sizeof(struct vigil_models_head) + (size_t)s->lay.model_cap *
	    sizeof(struct vigil_model_info)) / 8;
}

/* Provider i's model m stats block (the aggregator's). */
struct vigil_seqblock *
seg_model_stats(const struct segment *s, uint32_t i, uint32_t m)
{
	if (i >= s->lay.provider_cap || m >= s->lay.model_cap)
		return NULL;
	return (struct vigil_seqblock *)(void *)(s->base +
	    s->lay.model_stats_off + ((uint64_t)i * s->lay.model_cap + m) *
	    s->lay.model_stats_stride);
}

/* Provider i's status-page block (vigil-statuspage's). */
struct vigil_seqblock *
seg_statuspage(const struct segment *s, uint32_t i)
{
	if (i >= s->lay.provider_cap)
		return NULL;
	return (struct vigil_seqblock *)(void *)(s->base +
	    s->lay.statuspage_off + (uint64_t)i * s->lay.statuspage_stride);
}

struct vigil_ring_ctl *
seg_sample_ring(const struct segment *s, uint32_t i)
{
	if (i >= s->lay.provider_cap)
		return NULL;
	return (struct vigil_ring_ctl *)(void *)(s->base +
	    s->lay.samples_off + (uint64_t)i * s->lay.samples_stride);
}

struct vigil_ring_ctl *
seg_history_ring(const struct segment *s, uint32_t i)
{
	if (i >= s->lay.provider_cap)
		return NULL;
	return (struct vigil_ring_ctl *)(void *)(s->base +
	    s->lay.history_off + (uint64_t)i * s->lay.history_stride);
}

struct vigil_ring_ctl *
seg_alert_ring(const struct segment *s)
{
	return (struct vigil_ring_ctl *)(void *)(s->base + s->lay.alerts_off);
}

struct vigil_seqblock *
seg_route(const struct segment *s)
{
	return (struct vigil_seqblock *)(void *)(s->base + s->lay.route_off);
}

/* Payload words of the routing block: its head and provider_cap indexes. */
size_t
seg_route_words(const struct segment *s)
{
	return (sizeof(struct vigil_route_head) +
	    ((size_t)s->lay.provider_cap * 4 + 7) / 8 * 8) / 8;
}
