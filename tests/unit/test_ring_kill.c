/*
 * test_ring_kill.c - the ring and the seqlock across processes, on a real
 * shm segment: writers SIGKILLed at random points mid-write, a writer
 * killed holding a seqlock odd, and a multi-process stress run (one
 * writer process, several reader processes, every record checksummed).
 * Readers must never hang and never accept a torn record.
 *
 * Each test creates its own segment "/vigil-test-<pid>-<n>", maps it, and
 * unlinks the name at once: the mappings outlive the name, so nothing is
 * left in /dev/shm even if the test dies.  Writer processes die with
 * their parent (PR_SET_PDEATHSIG).
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "t.h"
#include "ring.h"
#include "segment.h"

#define SW		VIGIL_WORDS(struct vigil_sample)	/* 8 */
#define STW		VIGIL_WORDS(struct vigil_stats)		/* 96 */
#define KILL_ROUNDS	300
#define STRESS_RECORDS	2000000
#define STRESS_READERS	3

/* Test control, in a MAP_SHARED anonymous page: not part of the segment. */
struct ctl_page {
	_Atomic int writer_done;
	_Atomic uint64_t total;
};

struct rd_result {
	uint64_t accepted;
	uint64_t lost;
	uint64_t bad;
	uint64_t stats_ok;
	uint64_t stats_busy;
	uint64_t stats_last;
};

static void	rec_make(uint64_t, uint64_t *);
static int	rec_check(const uint64_t *);
static void	seg_setup(struct segment *, struct vigil_client *, uint32_t);
static void	writer_loop(struct segment *, uint64_t, int);
static void	die_with_parent(pid_t);
static void	read_all(struct vigil_client *, struct vigil_cursor *,
		    struct rd_result *);
static void	read_stats(struct vigil_client *, struct rd_result *);
static uint64_t	rnd(void);

static uint64_t rnd_state;

static uint64_t
rnd(void)
{
	/* xorshift64: enough to scatter kill points. */
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

/* Record n: w[0] = n, the rest derived from n, the last a checksum. */
static void
rec_make(uint64_t n, uint64_t *w)
{
	uint64_t sum = 0;
	size_t i;

	w[0] = n;
	for (i = 1; i < SW - 1; i++) {
		w[i] = (n ^ (uint64_t)i) * 0x9e3779b97f4a7c15ULL;
		sum += w[i];
	}
	w[SW - 1] = sum ^ n;
}

static int
rec_check(const uint64_t *w)
{
	uint64_t want[SW];

	rec_make(w[0], want);
	return memcmp(want, w, sizeof(want)) == 0;
}

/*
 * Create a fresh segment, open it read-only through the client, unlink
 * the name.  Slot 0 is a provider "kill-test" so snapshots work.
 */
static void
seg_setup(struct segment *s, struct vigil_client *c, uint32_t samples)
{
	static int serial;
	struct seg_caps caps = { 2, samples, 16, 16, 0 };
	struct vigil_provider_info pi;
	char name[64], err[256];
	int rc;

	snprintf(name, sizeof(name), "/vigil-test-%d-%d", (int)getpid(),
	    serial++);
	if (seg_create(s, name, &caps, 0600, err, sizeof(err)) == -1) {
		fprintf(stderr, "seg_create: %s\n", err);
		_exit(1);
	}
	rc = vigil_open(c, name);
	shm_unlink(name);
	if (rc != VIGIL_OK) {
		fprintf(stderr, "vigil_open: %s\n", c->err);
		_exit(1);
	}
	memset(&pi, 0, sizeof(pi));
	strcpy(pi.name, "kill-test");
	pi.flags = VIGIL_PF_IN_USE | VIGIL_PF_ENABLED;
	pi.generation = 1;
	seqlock_write(seg_dir_slot(s, 0), &pi, VIGIL_WORDS(pi));
	atomic_fetch_add(&s->hdr->dir_gen, 1);
}

static void
die_with_parent(pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
}

/*
 * A writer: pushes records continuing from the ring's head, and every
 * `stats_every` records rewrites stats block 0 with every word = n.
 * Stops after `count` records (UINT64_MAX: until killed).
 */
static void
writer_loop(struct segment *s, uint64_t count, int stats_every)
{
	struct ring_writer w;
	uint64_t rec[SW], blk[STW], n, i;
	size_t j;

	ring_writer_init(&w, seg_sample_ring(s, 0), s->hdr->sample_cap,
	    s->hdr->sample_entry);
	for (i = 0; i < count; i++) {
		n = w.head;
		rec_make(n, rec);
		ring_push(&w, rec, SW);
		if (n % (uint64_t)stats_every == 0) {
			for (j = 0; j < STW; j++)
				blk[j] = n;
			seqlock_write(seg_stats(s, 0), blk, STW);
		}
	}
}

/* Drain the sample ring through the client, checking every record. */
static void
read_all(struct vigil_client *c, struct vigil_cursor *cur,
    struct rd_result *r)
{
	struct vigil_sample buf[64];
	uint64_t w[SW];
	size_t n, i;
	uint64_t last = cur->next;	/* records before next were seen */

	while ((n = vigil_read_samples(c, 0, cur, buf, 64)) > 0) {
		for (i = 0; i < n; i++) {
			memcpy(w, &buf[i], sizeof(w));
			if ((!rec_check(w) || (r->accepted > 0 &&
			    w[0] < last)) && r->bad++ < 5)
				fprintf(stderr, "  torn or out of order record: "
				    "w0 %llu last %llu\n",
				    (unsigned long long)w[0],
				    (unsigned long long)last);
			last = w[0] + 1;
			r->accepted++;
		}
	}
	r->lost = cur->lost;
}

/* One snapshot of stats block 0: whole (all words equal) or busy. */
static void
read_stats(struct vigil_client *c, struct rd_result *r)
{
	struct vigil_stats st;
	uint64_t w[STW];
	size_t j;
	int rc;

	rc = vigil_provider_stats(c, 0, &st);
	if (rc == VIGIL_EBUSY) {
		r->stats_busy++;
		return;
	}
	if (rc != VIGIL_OK) {
		r->bad++;
		return;
	}
	/* The client NUL-terminates two strings inside; skip those words. */
	memcpy(w, &st, sizeof(w));
	for (j = 0; j < STW; j++) {
		if (j * 8 >= offsetof(struct vigil_stats, last) &&
		    j * 8 < offsetof(struct vigil_stats, consecutive_failures))
			continue;
		if (w[j] != w[0]) {
			if (r->bad++ < 5)
				fprintf(stderr, "  torn stats block: word %zu "
				    "%llu != %llu\n", j,
				    (unsigned long long)w[j],
				    (unsigned long long)w[0]);
			return;
		}
	}
	if (w[0] < r->stats_last && r->bad++ < 5)
		fprintf(stderr, "  stats went backwards\n");
	r->stats_last = w[0];
	r->stats_ok++;
}

/*
 * Kill a writer at random points, many times, reading all along.  Each
 * replacement writer continues from the published head, as a restarted
 * prober does.  Every record read must be whole; in the end accepted +
 * lost must equal the records published.
 */
static void
test_kill_writer_random(void)
{
	struct segment s;
	struct vigil_client c;
	struct vigil_cursor cur = { 0, 0 };
	struct rd_result r;
	uint64_t deadline, head;
	int round, status, left_odd = 0, ring_odd = 0;
	pid_t pid, me = getpid();

	rnd_state = (uint64_t)time(NULL) ^ ((uint64_t)me << 32) ^ 0x5bd1e995;
	fprintf(stderr, "# seed %llu\n", (unsigned long long)rnd_state);
	memset(&r, 0, sizeof(r));
	seg_setup(&s, &c, 256);
	for (round = 0; round < KILL_ROUNDS; round++) {
		pid = fork();
		if (pid == -1) {
			T_CHECK(pid != -1);
			break;
		}
		if (pid == 0) {
			die_with_parent(me);
			writer_loop(&s, UINT64_MAX, 1 + (int)(rnd() % 4));
			_exit(0);
		}
		/* Read while it writes, for 0..3 ms, then kill it. */
		deadline = now_mono_ns() + rnd() % 3000000;
		while (now_mono_ns() < deadline) {
			read_all(&c, &cur, &r);
			read_stats(&c, &r);
		}
		kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			;
		T_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		/* The dead writer's leftovers: never hang, never torn. */
		if (atomic_load(&seg_stats(&s, 0)->seq) & 1)
			left_odd++;
		head = atomic_load(&seg_sample_ring(&s, 0)->head);
		if (atomic_load(&((struct vigil_ring_entry *)(void *)
		    ((unsigned char *)(seg_sample_ring(&s, 0) + 1) +
		    (size_t)(head & (s.hdr->sample_cap - 1)) *
		    s.hdr->sample_entry))->seq) & 1)
			ring_odd++;
		read_all(&c, &cur, &r);
		read_stats(&c, &r);
		if (atomic_load(&seg_stats(&s, 0)->seq) & 1)
			T_CHECK(vigil_provider_stats(&c, 0,
			    &(struct vigil_stats){ 0 }) == VIGIL_EBUSY);
	}
	head = atomic_load(&seg_sample_ring(&s, 0)->head);
	read_all(&c, &cur, &r);
	fprintf(stderr, "# %d kills, %llu records, accepted %llu, lost %llu, "
	    "stats ok %llu busy %llu; killed with seqlock odd %d, "
	    "ring entry odd %d\n", round, (unsigned long long)head,
	    (unsigned long long)r.accepted, (unsigned long long)r.lost,
	    (unsigned long long)r.stats_ok, (unsigned long long)r.stats_busy,
	    left_odd, ring_odd);
	T_CHECK(r.bad == 0);
	T_CHECK(head > 0);
	T_CHECK(cur.next == head);
	T_CHECKF(r.accepted + r.lost == head, "accepted %llu + lost %llu != "
	    "head %llu", (unsigned long long)r.accepted,
	    (unsigned long long)r.lost, (unsigned long long)head);
	/* A last whole write and every reader recovers. */
	writer_loop(&s, 1, 1);
	r.stats_busy = 0;
	read_stats(&c, &r);
	T_CHECK(r.stats_busy == 0 && r.bad == 0);
	vigil_close(&c);
	seg_close(&s);
}

/*
 * A writer killed while it holds a seqlock odd (stats block and directory
 * slot): readers get VIGIL_EBUSY after bounded retries, every time, and
 * recover once a new writer writes the block.
 */
static void
test_kill_holding_seqlock(void)
{
	struct segment s;
	struct vigil_client c;
	struct vigil_stats st;
	struct vigil_provider p;
	struct vigil_provider_info pi;
	uint64_t blk[STW];
	uint32_t idx;
	int fds[2], status, i, busy = 0;
	char ch;
	pid_t pid, me = getpid();
	size_t j;

	seg_setup(&s, &c, 64);
	for (j = 0; j < STW; j++)
		blk[j] = 1;
	seqlock_write(seg_stats(&s, 0), blk, STW);
	T_CHECK(vigil_snapshot(&c, 0, &p) == VIGIL_OK);
	T_CHECK(pipe(fds) == 0);
	pid = fork();
	if (pid == 0) {
		die_with_parent(me);
		seqlock_write_begin(seg_stats(&s, 0));
		for (j = 0; j < STW / 2; j++)
			atomic_store(&seg_stats(&s, 0)->w[j], 2);
		seqlock_write_begin(seg_dir_slot(&s, 0));
		atomic_store(&seg_dir_slot(&s, 0)->w[0], 0x4141414141414141);
		if (write(fds[1], "x", 1) != 1)
			_exit(3);	/* the parent sees no byte and fails */
		for (;;)
			pause();
	}
	T_CHECK(pid > 0);
	close(fds[1]);
	T_CHECK(read(fds[0], &ch, 1) == 1);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	T_CHECK(WIFSIGNALED(status));

	for (i = 0; i < 1000; i++)
		if (vigil_provider_stats(&c, 0, &st) == VIGIL_EBUSY)
			busy++;
	T_CHECK(busy == 1000);
	T_CHECK(vigil_provider_info(&c, 0, &pi) == VIGIL_EBUSY);
	T_CHECK(vigil_snapshot(&c, 0, &p) == VIGIL_EBUSY);
	T_CHECK(vigil_find(&c, "kill-test", &idx) == VIGIL_EBUSY);
	{
		struct vigil_provider all[2];
		size_t n = 99;
		T_CHECK(vigil_snapshot_all(&c, all, 2, &n) == VIGIL_EBUSY);
	}

	/* The replacement writer rewrites both blocks whole. */
	memset(&pi, 0, sizeof(pi));
	strcpy(pi.name, "kill-test");
	pi.flags = VIGIL_PF_IN_USE;
	pi.generation = 2;
	seqlock_write(seg_dir_slot(&s, 0), &pi, VIGIL_WORDS(pi));
	for (j = 0; j < STW; j++)
		blk[j] = 3;
	seqlock_write(seg_stats(&s, 0), blk, STW);
	T_CHECK(vigil_snapshot(&c, 0, &p) == VIGIL_OK);
	T_CHECK(p.info.generation == 2);
	T_CHECK(p.stats.updated_wall_ns == 3 && p.stats.reserved[6] == 3);
	T_CHECK(vigil_find(&c, "kill-test", &idx) == VIGIL_OK && idx == 0);
	close(fds[0]);
	vigil_close(&c);
	seg_close(&s);
}

/*
 * A writer killed between publishing a record's seq and moving head, or
 * mid-payload: its replacement rewrites that record, readers never see
 * the half-written one.  Deterministic versions of the random kills.
 */
static void
test_kill_mid_record(void)
{
	struct segment s;
	struct vigil_client c;
	struct vigil_cursor cur = { 0, 0 };
	struct vigil_sample out[8];
	struct vigil_ring_entry *e;
	struct ring_writer w;
	uint64_t rec[SW];
	int fds[2], status;
	char ch;
	pid_t pid, me = getpid();

	seg_setup(&s, &c, 8);
	writer_loop(&s, 5, 1000);
	T_CHECK(pipe(fds) == 0);
	pid = fork();
	if (pid == 0) {
		die_with_parent(me);
		/* Record 5, half written, as ring_push would have left it. */
		e = (struct vigil_ring_entry *)(void *)((unsigned char *)
		    (seg_sample_ring(&s, 0) + 1) + 5 * s.hdr->sample_entry);
		atomic_store(&e->seq, 2 * 5 + 1);
		atomic_store(&e->w[0], 5);
		atomic_store(&e->w[1], 0xbad);
		if (write(fds[1], "x", 1) != 1)
			_exit(3);	/* the parent sees no byte and fails */
		for (;;)
			pause();
	}
	close(fds[1]);
	T_CHECK(read(fds[0], &ch, 1) == 1);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	close(fds[0]);
	T_CHECK(vigil_read_samples(&c, 0, &cur, out, 8) == 5);
	T_CHECK(vigil_read_samples(&c, 0, &cur, out, 8) == 0);
	T_CHECK(cur.next == 5 && cur.lost == 0);

	ring_writer_init(&w, seg_sample_ring(&s, 0), s.hdr->sample_cap,
	    s.hdr->sample_entry);
	T_CHECK(w.head == 5);
	rec_make(5, rec);
	ring_push(&w, rec, SW);
	T_CHECK(vigil_read_samples(&c, 0, &cur, out, 8) == 1);
	memcpy(rec, &out[0], sizeof(rec));
	T_CHECK(rec_check(rec) && rec[0] == 5);
	vigil_close(&c);
	seg_close(&s);
}

/*
 * The multi-process stress run: one writer process pushing millions of
 * records and updating a seqlocked block, several reader processes
 * reading both through the client.  Every record is checksummed; any
 * torn record or block accepted fails the test.
 */
static void
test_stress_processes(void)
{
	struct segment s;
	struct vigil_client c;
	struct ctl_page *cp;
	struct rd_result res[STRESS_READERS];
	pid_t wpid, rpid[STRESS_READERS], me = getpid();
	int fds[STRESS_READERS][2], i, status;

	seg_setup(&s, &c, 1024);
	cp = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
	    -1, 0);
	T_CHECK(cp != MAP_FAILED);
	if (cp == MAP_FAILED)
		return;
	atomic_init(&cp->writer_done, 0);
	for (i = 0; i < STRESS_READERS; i++) {
		T_CHECK(pipe(fds[i]) == 0);
		rpid[i] = fork();
		if (rpid[i] == 0) {
			struct vigil_cursor cur = { 0, 0 };
			struct rd_result r;
			int done;

			die_with_parent(me);
			memset(&r, 0, sizeof(r));
			seg_close(&s);	/* readers only have the client */
			for (;;) {
				done = atomic_load_explicit(&cp->writer_done,
				    memory_order_acquire);
				read_all(&c, &cur, &r);
				read_stats(&c, &r);
				if (done)
					break;
			}
			if (write(fds[i][1], &r, sizeof(r)) != sizeof(r))
				_exit(3);
			_exit(0);
		}
		close(fds[i][1]);
	}
	wpid = fork();
	if (wpid == 0) {
		die_with_parent(me);
		writer_loop(&s, STRESS_RECORDS, 7);
		atomic_store_explicit(&cp->writer_done, 1,
		    memory_order_release);
		_exit(0);
	}
	waitpid(wpid, &status, 0);
	T_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	for (i = 0; i < STRESS_READERS; i++) {
		memset(&res[i], 0, sizeof(res[i]));
		T_CHECK(read(fds[i][0], &res[i], sizeof(res[i])) ==
		    (ssize_t)sizeof(res[i]));
		close(fds[i][0]);
		waitpid(rpid[i], &status, 0);
		T_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		fprintf(stderr, "# reader %d: accepted %llu lost %llu, stats "
		    "ok %llu busy %llu\n", i,
		    (unsigned long long)res[i].accepted,
		    (unsigned long long)res[i].lost,
		    (unsigned long long)res[i].stats_ok,
		    (unsigned long long)res[i].stats_busy);
		T_CHECK(res[i].bad == 0);
		T_CHECK(res[i].accepted + res[i].lost == STRESS_RECORDS);
		T_CHECK(res[i].accepted >= 1);
		/* The final block, written before done, was read whole. */
		T_CHECK(res[i].stats_last == (STRESS_RECORDS - 1) / 7 * 7);
	}
	munmap(cp, 4096);
	vigil_close(&c);
	seg_close(&s);
}

int
main(void)
{
	T_RUN(test_kill_mid_record);
	T_RUN(test_kill_holding_seqlock);
	T_RUN(test_kill_writer_random);
	T_RUN(test_stress_processes);
	return t_done();
}
