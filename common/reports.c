/*
 * reports.c - the reports segment: layout, creation, mapping, and the
 * aggregator's reader (docs/segment.md, "The reports segment").
 *
 * The reader trusts nothing it reads: positions, states and records are
 * written by clients, any of which may be buggy, dying or hostile.  So
 * its position in each ring is private, every wait on a client is
 * bounded (REPORTS_GRACE_NS), every drain does bounded work per slot
 * (REPORTS_SLOT_BUDGET), and every record is checked before use.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "reports.h"
#include "segment.h"

static uint64_t	rep_align(uint64_t, uint64_t);
static int	rep_take(struct reports *, uint32_t,
		    struct vigil_report_slot *,
		    const struct vigil_report_entry *, uint64_t, uint32_t,
		    reports_fn, void *, uint64_t);
static size_t	rep_resync(struct reports *, uint32_t,
		    struct vigil_report_slot *, uint64_t, uint64_t, uint32_t,
		    reports_fn, void *);
static size_t	rep_drain_slot(struct reports *, uint32_t, uint64_t,
		    uint32_t, reports_fn, void *);
static size_t	rep_clean(struct reports *, uint32_t,
		    struct vigil_report_slot *,
		    uint64_t, uint32_t, reports_fn, void *);
static int	rep_owner_dead(uint64_t);

static uint64_t
rep_align(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

/* name + VIGIL_REPORTS_SUFFIX into out (cut if it does not fit). */
void
reports_name(const char *name, char *out, size_t len)
{
	if (snprintf(out, len, "%s%s", name, VIGIL_REPORTS_SUFFIX) < 0)
		out[0] = '\0';
}

/*
 * The header of a reports segment of `slots` client slots of `ring`
 * entries (rounded up to a power of 2).  Every slot starts on a cache
 * line and entries are a cache line each, so that the threads of one
 * client writing neighbouring entries do not share a line.
 */
int
reports_layout(uint32_t slots, uint32_t ring, struct vigil_reports_header *h,
    char *err, size_t errlen)
{
	uint32_t cap = 2;

	if (slots == 0 || slots > VIGIL_REPORTS_MAX_SLOTS || ring < 2 ||
	    ring > VIGIL_REPORTS_MAX_RING) {
		snprintf(err, errlen, "reports: %u slots of %u entries out of "
		    "range 1..%u, 2..%u", slots, ring, VIGIL_REPORTS_MAX_SLOTS,
		    VIGIL_REPORTS_MAX_RING);
		return -1;
	}
	while (cap < ring)
		cap <<= 1;
	memset(h, 0, sizeof(*h));
	h->abi_major = VIGIL_REPORTS_ABI;
	h->slot_cap = slots;
	h->ring_cap = cap;
	h->entry_size = REPORTS_ENTRY;
	h->rec_size = sizeof(struct vigil_report_rec);
	h->slots_off = rep_align(sizeof(*h), VIGIL_CACHELINE);
	h->slot_stride = rep_align(sizeof(struct vigil_report_slot) +
	    (uint64_t)cap * REPORTS_ENTRY, VIGIL_CACHELINE);
	h->size = rep_align(h->slots_off + h->slot_stride * slots, 4096);
	return 0;
}

/* Adopt a mapping of size bytes whose header is published. */
int
reports_attach(struct reports *r, void *base, size_t size, char *err,
    size_t errlen)
{
	uint32_t s;

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	if (vigil_reports_layout_read(base, size, &r->lay, err, errlen) !=
	    VIGIL_OK)
		return -1;
	r->st = calloc(r->lay.slot_cap, sizeof(*r->st));
	if (r->st == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (s = 0; (UINT64_C(1) << s) < r->lay.ring_cap; s++)
		;
	r->shift = s;
	r->mask = r->lay.ring_cap - 1;
	r->base = base;
	r->size = size;
	r->grace_ns = REPORTS_GRACE_NS;
	/* Start where the writers are: what an earlier reader left is
	 * read from there on (the states say what is published). */
	for (s = 0; s < r->lay.slot_cap; s++)
		r->st[s].pos = atomic_load_explicit(&vigil_reports_slot(r->base,
		    &r->lay, s)->consumed, memory_order_relaxed);
	return 0;
}

/*
 * Create the reports segment `name` (vigild), mode `mode`, and publish
 * its header, magic last.  An existing object with the reports magic
 * (or empty) is an earlier run's and is replaced; anything else is
 * refused.  Returns 0, or -1 with err.
 */
int
reports_create(struct reports *r, const char *name, uint32_t slots,
    uint32_t ring, mode_t mode, char *err, size_t errlen)
{
	struct vigil_reports_header h;
	struct timespec ts;
	void *p;
	int fd;

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	if (reports_layout(slots, ring, &h, err, errlen) == -1)
		return -1;
	if ((fd = seg_shm_create(name, VIGIL_REPORTS_MAGIC,
	    "vigil reports segment", mode, h.size, err, errlen)) == -1)
		return -1;
	if ((p = mmap(NULL, h.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
	    0)) == MAP_FAILED) {
		snprintf(err, errlen, "%s: %llu bytes: %s", name,
		    (unsigned long long)h.size, strerror(errno));
		close(fd);
		shm_unlink(name);
		return -1;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	h.created_wall_ns = (uint64_t)ts.tv_sec * 1000000000u +
	    (uint64_t)ts.tv_nsec;
	h.supervisor_pid = (uint32_t)getpid();
	/* ftruncate zeroed the slots: every entry is free for lap 0. */
	memcpy((unsigned char *)p + 8, (unsigned char *)&h + 8,
	    sizeof(h) - 8);
	atomic_thread_fence(memory_order_release);
	((struct vigil_reports_header *)p)->magic = VIGIL_REPORTS_MAGIC;
	if (reports_attach(r, p, h.size, err, errlen) == -1) {
		munmap(p, h.size);
		close(fd);
		shm_unlink(name);
		return -1;
	}
	r->fd = fd;
	return 0;
}

/* Map the reports segment `name` read-write (the aggregator). */
int
reports_map(struct reports *r, const char *name, char *err, size_t errlen)
{
	struct stat st;
	void *p;
	int fd;

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	if ((fd = shm_open(name, O_RDWR | O_CLOEXEC, 0)) == -1) {
		snprintf(err, errlen, "%s: %s", name, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || st.st_size <= 0 ||
	    (p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE,
	    MAP_SHARED, fd, 0)) == MAP_FAILED) {
		snprintf(err, errlen, "%s: cannot map: %s", name,
		    strerror(errno));
		close(fd);
		return -1;
	}
	if (reports_attach(r, p, (size_t)st.st_size, err, errlen) == -1) {
		munmap(p, (size_t)st.st_size);
		close(fd);
		return -1;
	}
	r->fd = fd;
	return 0;
}

void
reports_close(struct reports *r)
{
	if (r->base != NULL && r->fd != -1)
		munmap(r->base, r->size);
	if (r->fd != -1)
		close(r->fd);
	free(r->st);
	memset(r, 0, sizeof(*r));
	r->fd = -1;
}

/*
 * The checks a record passes whatever the providers are: outcome in
 * range, an HTTP status that is one, times and counts a request can
 * have, reserved fields zero.  1 when it passes.
 */
int
reports_rec_ok(const struct vigil_report_rec *rec)
{
	if (rec->outcome >= VIGIL_OUT_COUNT)
		return 0;
	if (rec->http_status != 0 && (rec->http_status < 100 ||
	    rec->http_status > 599))
		return 0;
	/* An hour is longer than any request a router waits for. */
	if (rec->latency_us > UINT32_C(3600000000) ||
	    rec->ttft_us > UINT32_C(3600000000))
		return 0;
	if (rec->latency_us != 0 && rec->ttft_us > rec->latency_us)
		return 0;
	if (rec->tokens_in > UINT32_C(100000000) ||
	    rec->tokens_out > UINT32_C(100000000))
		return 0;
	if (rec->provider < 0 || rec->model < -1)
		return 0;
	return rec->flags == 0 && rec->reserved == 0;
}

/*
 * Copy a published entry (state s) of slot i, free it for the next lap
 * (next_seq), and hand the record on if it is whole, valid and within
 * the slot's rate.  Returns 1 when the caller's position may advance.
 */
static int
rep_take(struct reports *r, uint32_t i, struct vigil_report_slot *sl,
    const struct vigil_report_entry *ce, uint64_t s, uint32_t rate_max,
    reports_fn fn, void *arg, uint64_t next_seq)
{
	struct vigil_report_entry *e = (struct vigil_report_entry *)ce;
	struct reports_slot_state *st = &r->st[i];
	struct vigil_report_rec rec;
	uint64_t w[4], s2;
	int k;

	(void)sl;
	for (k = 0; k < 4; k++)
		w[k] = atomic_load_explicit(&e->w[k], memory_order_relaxed);
	atomic_thread_fence(memory_order_acquire);
	s2 = atomic_load_explicit(&e->seq, memory_order_relaxed);
	/* Free it (whatever we make of the copy): only if still s, so
	 * that a change by a writer is never undone. */
	if (!atomic_compare_exchange_strong_explicit(&e->seq, &s, next_seq,
	    memory_order_release, memory_order_relaxed))
		s2 = s + 1;		/* changed under us: torn */
	if (s2 != s) {
		st->lost++;
		return 1;
	}
	memcpy(&rec, w, sizeof(rec));
	if (!reports_rec_ok(&rec)) {
		st->invalid++;
		return 1;
	}
	if (rate_max != 0) {
		if (st->tokens < 1.0) {
			st->rate_dropped++;
			return 1;
		}
		st->tokens -= 1.0;
	}
	if (fn(&rec, i, arg) != 0)
		st->invalid++;
	else
		st->accepted++;
	return 1;
}

/*
 * Slot i's reserve word is more than a ring ahead of us (vigil_report
 * never takes a position whose entry is not free: a client rewrote it,
 * or took a position by hand), or the slot was released (rep_clean):
 * take, in position order, what the ring holds published for the ring
 * from our position, set every entry free for the first position >= R
 * that maps to it, and go on from R.  O(ring_cap).  A writer in flight
 * fails its CAS and counts a drop.
 */
static size_t
rep_resync(struct reports *r, uint32_t i, struct vigil_report_slot *sl,
    uint64_t R, uint64_t now, uint32_t rate_max, reports_fn fn, void *arg)
{
	struct reports_slot_state *st = &r->st[i];
	struct vigil_report_entry *e;
	uint64_t j, p, q, s, gap = R - st->pos, taken = 0;

	(void)now;
	for (j = 0; j < r->lay.ring_cap; j++) {
		p = st->pos + j;
		e = vigil_reports_entry(sl, &r->lay, (uint32_t)(p & r->mask));
		q = R + ((p - R) & r->mask);
		s = atomic_load_explicit(&e->seq, memory_order_acquire);
		if (s == 3 * (p >> r->shift) + 2) {
			(void)rep_take(r, i, sl, e, s, rate_max, fn, arg,
			    3 * (q >> r->shift));
			if (j < gap)
				taken++;
			continue;
		}
		atomic_store_explicit(&e->seq, 3 * (q >> r->shift),
		    memory_order_release);
	}
	/*
	 * The positions between us and R that held nothing published were
	 * taken and never finished (a writer that died, or one that took a
	 * position of a full ring by hand): lost.  A gap beyond two rings
	 * is no writer's: a reserve word rewritten, counted invalid once.
	 */
	if (gap <= 2 * (uint64_t)r->lay.ring_cap)
		st->lost += gap - taken;
	else
		st->invalid++;
	st->pos = R;
	st->stall_since = 0;
	return r->lay.ring_cap;
}

/* One slot, at most REPORTS_SLOT_BUDGET positions (a resync counts its
 * ring).  Returns the work done. */
static size_t
rep_drain_slot(struct reports *r, uint32_t i, uint64_t now, uint32_t rate_max,
    reports_fn fn, void *arg)
{
	struct vigil_report_slot *sl = vigil_reports_slot(r->base, &r->lay, i);
	struct reports_slot_state *st = &r->st[i];
	struct vigil_report_entry *e;
	uint64_t R, lap, s, pos;
	size_t work = 0;

	/* The bucket holds a second's worth: a burst, not a backlog. */
	if (rate_max != 0) {
		if (st->bucket_ns == 0 || now < st->bucket_ns) {
			st->bucket_ns = now;
			st->tokens = rate_max;
		}
		st->tokens += (double)(now - st->bucket_ns) / 1e9 * rate_max;
		if (st->tokens > rate_max)
			st->tokens = rate_max;
		st->bucket_ns = now;
	}
	R = atomic_load_explicit(&sl->reserve, memory_order_acquire);
	while (work < REPORTS_SLOT_BUDGET) {
		pos = st->pos;
		if (R == pos)
			break;
		/* Unsigned: a reserve below us (rewritten) is far ahead. */
		if (R - pos > r->lay.ring_cap) {
			work += rep_resync(r, i, sl, R, now, rate_max, fn, arg);
			break;
		}
		e = vigil_reports_entry(sl, &r->lay, (uint32_t)(pos & r->mask));
		lap = pos >> r->shift;
		s = atomic_load_explicit(&e->seq, memory_order_acquire);
		work++;
		if (s == 3 * lap + 2) {
			(void)rep_take(r, i, sl, e, s, rate_max, fn, arg,
			    3 * (lap + 1));
			st->pos = pos + 1;
			st->stall_since = 0;
			continue;
		}
		/* Not published: a writer at work, one that dropped after
		 * taking the position, one that died, or garbage.  Wait
		 * REPORTS_GRACE_NS for it, then give the position up. */
		if (st->stall_since == 0 || st->stall_pos != pos) {
			st->stall_pos = pos;
			st->stall_since = now;
			break;
		}
		if (now - st->stall_since < r->grace_ns)
			break;
		if (!atomic_compare_exchange_strong_explicit(&e->seq, &s,
		    3 * (lap + 1), memory_order_release,
		    memory_order_relaxed))
			break;	/* it moved: look again next time */
		if (s == 3 * lap)
			st->skipped++;	/* a writer that dropped */
		else if (s == 3 * lap + 1)
			st->lost++;	/* its writer never finished */
		else
			st->invalid++;	/* a state no writer stores */
		st->pos = pos + 1;
		st->stall_since = 0;
	}
	work += rep_clean(r, i, sl, now, rate_max, fn, arg);
	atomic_store_explicit(&sl->consumed, st->pos, memory_order_relaxed);
	return work;
}

/*
 * A slot released (closed by its client, or reclaimed from a dead one:
 * owner VIGIL_REPORTS_RELEASED) is cleaned before anyone claims it
 * again: what it holds published is taken, what was taken and never
 * published counted lost, every entry set free from its reserve on, so
 * that the next client does not inherit a ring its predecessor
 * scribbled over.  Then the owner word goes to 0: free.
 */
static size_t
rep_clean(struct reports *r, uint32_t i, struct vigil_report_slot *sl,
    uint64_t now, uint32_t rate_max, reports_fn fn, void *arg)
{
	struct reports_slot_state *st = &r->st[i];
	uint64_t o = VIGIL_REPORTS_RELEASED, R;
	size_t work;

	if (!atomic_compare_exchange_strong_explicit(&sl->owner, &o,
	    REPORTS_OWNER_RESET, memory_order_acq_rel, memory_order_relaxed))
		return 0;
	R = atomic_load_explicit(&sl->reserve, memory_order_acquire);
	work = rep_resync(r, i, sl, R, now, rate_max, fn, arg);
	st->resets++;
	atomic_store_explicit(&sl->owner, 0, memory_order_release);
	return work;
}

/*
 * Read every slot once, starting one slot further each call so that no
 * slot is always first.  Records that pass reports_rec_ok go to fn.
 * rate_max: records a second a slot may have accepted (0: no cap).
 * Returns the work done (positions and entries looked at).
 */
size_t
reports_drain(struct reports *r, uint64_t now, uint32_t rate_max,
    reports_fn fn, void *arg)
{
	uint32_t k, i;
	size_t work = 0;

	if (r->base == NULL)
		return 0;
	for (k = 0; k < r->lay.slot_cap; k++) {
		i = (r->next_slot + k) % r->lay.slot_cap;
		work += rep_drain_slot(r, i, now, rate_max, fn, arg);
	}
	r->next_slot = (r->next_slot + 1) % r->lay.slot_cap;
	return work;
}

/*
 * Is the owner word o's process gone?  Its pid no longer exists, or a
 * process of that pid started at another time (the pid was reused).
 * Without /proc the start time is not known and a reused pid keeps the
 * slot until that process ends too (docs/segment.md).
 */
static int
rep_owner_dead(uint64_t o)
{
	uint32_t pid = (uint32_t)o, start = (uint32_t)(o >> 32), now;

	if (pid == 0 || pid > (uint32_t)INT32_MAX)
		return 1;		/* no process has that pid */
	if (kill((pid_t)pid, 0) == -1 && errno == ESRCH)
		return 1;
	now = vigil__proc_start((long)pid);
	return start != 0 && now != 0 && now != start;
}

/* Release the slots whose owner died (rep_clean frees them at the next
 * drain).  Returns how many.  O(slots), with a kill(2) and a /proc read
 * per claimed slot: call it once a second. */
uint32_t
reports_reclaim(struct reports *r)
{
	struct vigil_report_slot *sl;
	uint32_t i, n = 0;
	uint64_t o;

	for (i = 0; r->base != NULL && i < r->lay.slot_cap; i++) {
		sl = vigil_reports_slot(r->base, &r->lay, i);
		o = atomic_load_explicit(&sl->owner, memory_order_acquire);
		if (o == 0 || o == REPORTS_OWNER_RESET ||
		    o == VIGIL_REPORTS_RELEASED || !rep_owner_dead(o))
			continue;
		/* Released: the next drain cleans it, then frees it. */
		if (atomic_compare_exchange_strong_explicit(&sl->owner, &o,
		    VIGIL_REPORTS_RELEASED, memory_order_acq_rel,
		    memory_order_relaxed)) {
			r->st[i].freed++;
			atomic_fetch_add_explicit(&sl->freed, 1,
			    memory_order_relaxed);
			n++;
		}
	}
	return n;
}

/* The reader's counts over every slot, and the slots' own drop counts
 * (clients' words: shown, never trusted for anything else). */
void
reports_totals(const struct reports *r, struct reports_totals *t)
{
	struct vigil_report_slot *sl;
	uint64_t o;
	uint32_t i;

	memset(t, 0, sizeof(*t));
	for (i = 0; r->base != NULL && i < r->lay.slot_cap; i++) {
		const struct reports_slot_state *st = &r->st[i];

		sl = vigil_reports_slot(r->base, &r->lay, i);
		t->accepted += st->accepted;
		t->invalid += st->invalid;
		t->rate_dropped += st->rate_dropped;
		t->lost += st->lost;
		t->skipped += st->skipped;
		t->full += atomic_load_explicit(&sl->full,
		    memory_order_relaxed);
		o = atomic_load_explicit(&sl->owner, memory_order_relaxed);
		if (o != 0 && o != VIGIL_REPORTS_RELEASED &&
		    o != REPORTS_OWNER_RESET)
			t->slots++;
	}
}
