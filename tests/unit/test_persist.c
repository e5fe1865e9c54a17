/*
 * test_persist.c - the state snapshot: round trip, and every kind of bad
 * file refused cleanly (reported, moved aside, never a crash).
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdlib.h>

#include "t.h"
#include "../../aggregator/persist.h"

static void
mksnap(struct persist_snap *s)
{
	size_t i, j;

	memset(s, 0, sizeof(*s));
	s->saved_wall_ns = UINT64_C(1764000000000000000);
	s->next_alert_id = 77;
	s->nprov = 2;
	s->prov = calloc(2, sizeof(*s->prov));
	for (i = 0; i < 2; i++) {
		struct persist_prov *p = &s->prov[i];

		snprintf(p->name, sizeof(p->name), "prov%zu", i);
		p->c.samples_total = 1000 + i;
		p->c.samples_lost = 3;
		for (j = 0; j < VIGIL_OUT_COUNT; j++)
			p->c.checks_total[j] = j * 10 + i;
		for (j = 0; j < VIGIL_PROM_BUCKETS; j++)
			p->c.lat_bucket[j] = j + 100;
		p->c.lat_sum_s = 123.456;
		p->c.since_wall_ns = 5;
		p->c.alerts_total = 9;
		p->c.last_ok_wall_ns = 6;
		p->c.last_error_wall_ns = 7;
		p->c.last_error_outcome = VIGIL_OUT_HTTP_5XX;
		snprintf(p->c.last_error, sizeof(p->c.last_error), "http:503");
		p->c.circuit_opens = 2;
		p->nhist = i ? 5 : 0;
		if (p->nhist)
			p->hist = calloc(p->nhist, sizeof(*p->hist));
		for (j = 0; j < p->nhist; j++) {
			p->hist[j].wall_ns = j;
			p->hist[j].latency_us = (uint32_t)(j * 1000);
			p->hist[j].status = VIGIL_ST_HEALTHY;
		}
	}
	s->nalerts = 3;
	s->alerts = calloc(3, sizeof(*s->alerts));
	for (i = 0; i < 3; i++) {
		s->alerts[i].id = i + 1;
		s->alerts[i].value = 0.5 * i;
		snprintf(s->alerts[i].provider, VIGIL_NAME_MAX, "prov1");
	}
}

static int
same(const struct persist_snap *a, const struct persist_snap *b)
{
	size_t i;

	if (a->saved_wall_ns != b->saved_wall_ns ||
	    a->next_alert_id != b->next_alert_id || a->nprov != b->nprov ||
	    a->nalerts != b->nalerts)
		return 0;
	for (i = 0; i < a->nprov; i++) {
		if (strcmp(a->prov[i].name, b->prov[i].name) != 0 ||
		    memcmp(&a->prov[i].c, &b->prov[i].c,
		    sizeof(a->prov[i].c)) != 0 ||
		    a->prov[i].nhist != b->prov[i].nhist ||
		    (a->prov[i].nhist && memcmp(a->prov[i].hist,
		    b->prov[i].hist, a->prov[i].nhist *
		    sizeof(struct vigil_history)) != 0))
			return 0;
	}
	return memcmp(a->alerts, b->alerts, a->nalerts *
	    sizeof(struct vigil_alert)) == 0;
}

static void
tmpdir(char *d, size_t len)
{
	snprintf(d, len, "/tmp/vigil-test-persist-XXXXXX");
	T_CHECK(mkdtemp(d) != NULL);
}

static void
rmdir_all(const char *d)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	if (system(cmd) != 0)
		fprintf(stderr, "rm failed\n");
}

/* Files in d whose name starts with prefix. */
static int
count_files(const char *d, const char *prefix)
{
	DIR *dp = opendir(d);
	struct dirent *de;
	int n = 0;

	if (dp == NULL)
		return -1;
	while ((de = readdir(dp)) != NULL)
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
			n++;
	closedir(dp);
	return n;
}

/* A snapshot from before the last error's outcome and code were kept
 * (their keys renamed away here) still loads: both start as none.  A
 * code too long or an outcome out of range is refused. */
static void
test_last_error_keys(void)
{
	static const char k1[] = "\xaalast_error", k2[] = "\xb2last_error_outcome";
	struct persist_snap a, b;
	char err[512], *p;
	void *buf;
	size_t len;

	mksnap(&a);
	T_CHECK(persist_encode(&a, &buf, &len) == 0);
	while ((p = memmem(buf, len, k1, sizeof(k1) - 1)) != NULL)
		p[1] = 'x';
	while ((p = memmem(buf, len, k2, sizeof(k2) - 1)) != NULL)
		p[1] = 'x';
	T_CHECK(persist_decode(buf, len, &b, err, sizeof(err)) == 0);
	T_CHECK(b.prov[1].c.last_error_wall_ns == 7);
	T_CHECK(b.prov[1].c.last_error_outcome == 0 &&
	    b.prov[1].c.last_error[0] == '\0');
	persist_free(&b);
	free(buf);
	a.prov[1].c.last_error_outcome = VIGIL_OUT_COUNT;
	T_CHECK(persist_encode(&a, &buf, &len) == 0);
	T_CHECK(persist_decode(buf, len, &b, err, sizeof(err)) == -1);
	free(buf);
	persist_free(&a);
}

static void
test_roundtrip(void)
{
	struct persist_snap a, b;
	char d[64], err[512];
	void *buf;
	size_t len;

	mksnap(&a);
	T_CHECK(persist_encode(&a, &buf, &len) == 0);
	T_CHECK(persist_decode(buf, len, &b, err, sizeof(err)) == 0);
	T_CHECK(same(&a, &b));
	T_CHECK(persist_find(&b, "prov1") == &b.prov[1]);
	T_CHECK(persist_find(&b, "nope") == NULL);
	persist_free(&b);
	free(buf);

	tmpdir(d, sizeof(d));
	T_CHECK(persist_load(d, &b, err, sizeof(err)) == 1);	/* none */
	T_CHECK(persist_save(d, &a, err, sizeof(err)) == 0);
	T_CHECK(count_files(d, PERSIST_FILE) == 1);
	T_CHECK(count_files(d, ".") == 2);	/* . and .., no temp left */
	T_CHECK(persist_load(d, &b, err, sizeof(err)) == 0);
	T_CHECK(same(&a, &b));
	persist_free(&b);
	/* Save again over it. */
	a.next_alert_id = 78;
	T_CHECK(persist_save(d, &a, err, sizeof(err)) == 0);
	T_CHECK(persist_load(d, &b, err, sizeof(err)) == 0);
	T_CHECK(b.next_alert_id == 78);
	persist_free(&b);
	persist_free(&a);
	/* An unwritable directory: an error, not a crash. */
	T_CHECK(persist_save("/nonexistent/dir", &a, err, sizeof(err)) == -1);
	T_CHECK(strstr(err, "nonexistent") != NULL);
	rmdir_all(d);
}

/* Every truncation of a valid snapshot is refused by the decoder. */
static void
test_truncated_decode(void)
{
	struct persist_snap a, b;
	char err[512];
	void *buf;
	size_t len, i;
	int bad = 0;

	mksnap(&a);
	T_CHECK(persist_encode(&a, &buf, &len) == 0);
	for (i = 0; i < len; i++) {
		if (persist_decode(buf, i, &b, err, sizeof(err)) != -1)
			bad++;
		persist_free(&b);
	}
	T_CHECK(bad == 0);
	/* Trailing garbage too. */
	buf = realloc(buf, len + 1);
	((char *)buf)[len] = 0;
	T_CHECK(persist_decode(buf, len + 1, &b, err, sizeof(err)) == -1);
	persist_free(&b);
	free(buf);
	persist_free(&a);
}

/* Write bytes as the snapshot, load: -1, reported, moved aside. */
static void
bad_file(const char *d, const void *p, size_t len, const char *what)
{
	struct persist_snap b;
	char path[256], err[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", d, PERSIST_FILE);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	T_CHECK(fd != -1);
	T_CHECK(write(fd, p, len) == (ssize_t)len);
	close(fd);
	T_CHECKF(persist_load(d, &b, err, sizeof(err)) == -1, "%s", what);
	T_CHECKF(strstr(err, "corrupt") != NULL, "%s: %s", what, err);
	T_CHECKF(strstr(err, "moved to") != NULL, "%s: %s", what, err);
	T_CHECK(access(path, F_OK) == -1);		/* moved aside */
	T_CHECK(count_files(d, PERSIST_FILE ".bad-") == 1);
	/* Next start: fresh. */
	T_CHECK(persist_load(d, &b, err, sizeof(err)) == 1);
	rmdir_all(d);
	T_CHECK(mkdir(d, 0700) == 0);
}

static void
test_corrupt_files(void)
{
	struct persist_snap a;
	char d[64], junk[4096];
	void *buf;
	size_t len, i;
	/* valid msgpack, wrong shapes */
	static const unsigned char notmap[] = { 0x93, 1, 2, 3 };
	static const unsigned char badver[] = { 0x81, 0xa7, 'v', 'e', 'r',
	    's', 'i', 'o', 'n', 0x05 };

	tmpdir(d, sizeof(d));
	mksnap(&a);
	T_CHECK(persist_encode(&a, &buf, &len) == 0);
	bad_file(d, buf, len / 2, "truncated");
	bad_file(d, buf, 1, "one byte");
	bad_file(d, "", 0, "empty");
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 131 + 7);
	bad_file(d, junk, sizeof(junk), "garbage");
	bad_file(d, notmap, sizeof(notmap), "not a map");
	bad_file(d, badver, sizeof(badver), "unknown version");
	/* A history blob that is not a whole number of records. */
	a.prov[1].nhist = 1;
	free(buf);
	T_CHECK(persist_encode(&a, &buf, &len) == 0);
	{
		/* Find the 56-byte bin header (0xc4 0x38) and shrink it. */
		unsigned char *p = buf;

		for (i = 0; i + 1 < len; i++)
			if (p[i] == 0xc4 && p[i + 1] == 56) {
				p[i + 1] = 55;
				break;
			}
		T_CHECK(i + 1 < len);
		bad_file(d, buf, len - 1, "history size");
	}
	free(buf);
	persist_free(&a);
	rmdir_all(d);
}

/* Bytes of the file at path, or -1. */
static long long
file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* The size of the one state.msgpack.bad-* in d, or -1. */
static long long
bad_size(const char *d)
{
	DIR *dp = opendir(d);
	struct dirent *de;
	char path[512];
	long long sz = -1;

	if (dp == NULL)
		return -1;
	while ((de = readdir(dp)) != NULL)
		if (strncmp(de->d_name, PERSIST_FILE ".bad-",
		    strlen(PERSIST_FILE ".bad-")) == 0) {
			snprintf(path, sizeof(path), "%s/%s", d, de->d_name);
			sz = file_size(path);
		}
	closedir(dp);
	return sz;
}

/*
 * Run fn(d) as an unprivileged user when we are root (root reads a mode
 * 000 file, so EACCES needs another uid), in a child whose failures are
 * counted here.
 */
static void
as_nobody(void (*fn)(const char *), const char *d)
{
	int status;
	pid_t pid;

	if (geteuid() != 0) {
		fn(d);
		return;
	}
	fflush(stderr);
	if ((pid = fork()) == 0) {
		if (setgroups(0, NULL) == -1 || setgid(65534) == -1 ||
		    setuid(65534) == -1)
			_exit(2);
		fn(d);
		_exit(t_child_failures ? 1 : 0);
	}
	T_CHECK(pid > 0);
	T_CHECK(waitpid(pid, &status, 0) == pid);
	T_CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d",
	    status);
}

/*
 * An unreadable snapshot (the case: mode 000 after a change of
 * user) is moved aside, and the next save leaves that copy alone.
 */
static void
unreadable_child(const char *d)
{
	struct persist_snap a, b;
	char path[256], err[512];
	long long before;

	snprintf(path, sizeof(path), "%s/%s", d, PERSIST_FILE);
	before = file_size(path);
	T_CHECK(before > 0);
	T_CHECKF(persist_load(d, &b, err, sizeof(err)) == -1, "%s", err);
	T_CHECKF(strstr(err, "moved to") != NULL, "%s", err);
	T_CHECK(access(path, F_OK) == -1);
	T_CHECK(bad_size(d) == before);
	/* The fresh start saves a small snapshot: the .bad copy stays. */
	memset(&a, 0, sizeof(a));
	T_CHECKF(persist_save(d, &a, err, sizeof(err)) == 0, "%s", err);
	T_CHECK(bad_size(d) == before);
	T_CHECK(file_size(path) > 0 && file_size(path) < before);
}

/* Moved aside is impossible (directory not writable): stuck, untouched. */
static void
stuck_child(const char *d)
{
	struct persist_snap b;
	char path[256], err[512];
	long long before;

	snprintf(path, sizeof(path), "%s/%s", d, PERSIST_FILE);
	before = file_size(path);
	T_CHECKF(persist_load(d, &b, err, sizeof(err)) == PERSIST_STUCK,
	    "%s", err);
	T_CHECKF(strstr(err, "not be saved") != NULL, "%s", err);
	T_CHECK(file_size(path) == before);
	T_CHECK(count_files(d, PERSIST_FILE ".bad-") == 0);
}

static void
test_unreadable(void)
{
	struct persist_snap a;
	char d[64], path[256], err[512];

	tmpdir(d, sizeof(d));
	snprintf(path, sizeof(path), "%s/%s", d, PERSIST_FILE);
	mksnap(&a);
	T_CHECKF(persist_save(d, &a, err, sizeof(err)) == 0, "%s", err);
	T_CHECK(chmod(path, 0) == 0);
	if (geteuid() == 0)
		T_CHECK(chown(d, 65534, 65534) == 0);
	as_nobody(unreadable_child, d);

	/* Again with a directory the user cannot write: nothing moves. */
	T_CHECK(unlink(path) == 0 || errno == ENOENT);
	T_CHECK(chown(d, geteuid(), getegid()) == 0);
	T_CHECK(chmod(d, 0700) == 0);
	rmdir_all(d);
	T_CHECK(mkdir(d, 0755) == 0);
	T_CHECKF(persist_save(d, &a, err, sizeof(err)) == 0, "%s", err);
	T_CHECK(chmod(path, 0) == 0);
	if (geteuid() != 0)
		T_CHECK(chmod(d, 0555) == 0);
	as_nobody(stuck_child, d);
	T_CHECK(chmod(d, 0700) == 0);
	persist_free(&a);
	rmdir_all(d);
}

/* Load an unreadable d/state.msgpack: moved aside whole, like corrupt. */
static void
unreadable_kind(const char *d, const char *what)
{
	struct persist_snap b;
	char path[256], err[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", d, PERSIST_FILE);
	T_CHECKF(persist_load(d, &b, err, sizeof(err)) == -1, "%s: %s", what,
	    err);
	T_CHECKF(strstr(err, "moved to") != NULL, "%s: %s", what, err);
	T_CHECKF(lstat(path, &st) == -1, "%s still there", what);
	T_CHECKF(count_files(d, PERSIST_FILE ".bad-") == 1, "%s", what);
	rmdir_all(d);
	T_CHECK(mkdir(d, 0700) == 0);
}

/*
 * Other things root cannot read either: a directory (EISDIR on read), a
 * FIFO (would block: must not hang), a symlink loop (ELOOP), a dangling
 * symlink (its target may be on a file system not mounted yet).
 */
static void
test_unreadable_kinds(void)
{
	char d[64], path[256];

	tmpdir(d, sizeof(d));
	snprintf(path, sizeof(path), "%s/%s", d, PERSIST_FILE);
	T_CHECK(mkdir(path, 0700) == 0);
	unreadable_kind(d, "directory");
	T_CHECK(mkfifo(path, 0600) == 0);
	unreadable_kind(d, "fifo");
	T_CHECK(symlink(PERSIST_FILE, path) == 0);
	unreadable_kind(d, "symlink loop");
	T_CHECK(symlink("/nonexistent/vigil/state", path) == 0);
	unreadable_kind(d, "dangling symlink");
	rmdir_all(d);
}

/*
 * Two bad starts in one second: the second copy gets its own name (a
 * plain rename replaced the first copy, or failed for a directory over
 * a file).  Three in a row, a file, a directory, a file: three copies.
 */
static void
test_bad_names_unique(void)
{
	struct persist_snap b;
	char d[64], path[256], err[512];
	int fd, i;

	tmpdir(d, sizeof(d));
	snprintf(path, sizeof(path), "%s/%s", d, PERSIST_FILE);
	for (i = 0; i < 3; i++) {
		if (i == 1)
			T_CHECK(mkdir(path, 0700) == 0);
		else {
			fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
			T_CHECK(fd != -1 && write(fd, "junk", 4) == 4);
			close(fd);
		}
		T_CHECKF(persist_load(d, &b, err, sizeof(err)) ==
		    PERSIST_ASIDE, "%d: %s", i, err);
		T_CHECKF(count_files(d, PERSIST_FILE ".bad-") == i + 1,
		    "%d: %s", i, err);
	}
	rmdir_all(d);
}

/*
 * No snapshot at all: state_dir missing, or a regular file where it
 * should be (ENOTDIR).  Nothing to protect: start fresh, saving stays on
 * (and says what is wrong each time it fails).
 */
static void
test_no_snapshot(void)
{
	struct persist_snap b;
	char d[64], sub[256], err[512];
	int fd;

	tmpdir(d, sizeof(d));
	snprintf(sub, sizeof(sub), "%s/missing", d);
	T_CHECKF(persist_load(sub, &b, err, sizeof(err)) == PERSIST_NONE,
	    "%s", err);
	snprintf(sub, sizeof(sub), "%s/file", d);
	fd = open(sub, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	T_CHECK(fd != -1);
	close(fd);
	T_CHECKF(persist_load(sub, &b, err, sizeof(err)) == PERSIST_NONE,
	    "%s", err);
	T_CHECK(count_files(d, "file.bad-") == 0);
	rmdir_all(d);
}

int
main(void)
{
	T_RUN(test_roundtrip);
	T_RUN(test_last_error_keys);
	T_RUN(test_truncated_decode);
	T_RUN(test_corrupt_files);
	T_RUN(test_unreadable);
	T_RUN(test_unreadable_kinds);
	T_RUN(test_bad_names_unique);
	T_RUN(test_no_snapshot);
	return t_done();
}
