/*
 * persist.c - state_dir/state.msgpack: history, alerts and counters that
 * outlive vigild.
 *
 * The file is one msgpack map (docs/aggregation.md, "Persistence"):
 *   {"version": 1, "saved_wall_ns": u64, "next_alert_id": u64,
 *    "providers": [{"name": str, "counters": {...}, "history": bin}],
 *    "alerts": bin}
 * history and alerts are the records exactly as in the segment (struct
 * vigil_history, 56 bytes; struct vigil_alert, 88 bytes; host byte
 * order), so a size that is not a multiple is corruption.  Version 1
 * (alerts of 80 bytes, before incident_id) is still read: its alerts
 * get incident_id 0.  Written to a
 * temporary file, fsync'd, renamed over the old one, and the directory
 * fsync'd: a crash leaves the old snapshot or the new one, never half.
 * A file that cannot be read or does not decode is moved aside
 * (state.msgpack.bad-<time>) by persist_load, so that the next save
 * cannot overwrite history an operator may still recover.  No logging
 * here: errors go to the caller's buffer.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <msgpack.h>

#include "frame.h"
#include "persist.h"

static void	pk_str(msgpack_packer *, const char *);
static void	pk_u64(msgpack_packer *, const char *, uint64_t);
static const msgpack_object *obj_get(const msgpack_object *, const char *);
static int	obj_u64(const msgpack_object *, const char *, uint64_t *);
static int	decode_counters(const msgpack_object *,
		    struct persist_counters *);
static int	decode_prov(const msgpack_object *, struct persist_prov *);
static int	write_all(int, const void *, size_t);
static int	read_file(int, size_t, unsigned char **, size_t *, char *,
		    size_t);
static int	rename_noreplace(const char *, const char *);
static int	move_aside(const char *, const char *, const char *, char *,
		    size_t);

static void
pk_str(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str_with_body(pk, s, strlen(s));
}

static void
pk_u64(msgpack_packer *pk, const char *k, uint64_t v)
{
	pk_str(pk, k);
	msgpack_pack_uint64(pk, v);
}

/*
 * Encode snap into a malloc'd buffer (*buf, *len; the caller frees it).
 * Returns 0, or -1 when out of memory.
 */
int
persist_encode(const struct persist_snap *snap, void **buf, size_t *len)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	size_t i, j;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 5);
	pk_u64(&pk, "version", PERSIST_VERSION);
	pk_u64(&pk, "saved_wall_ns", snap->saved_wall_ns);
	pk_u64(&pk, "next_alert_id", snap->next_alert_id);
	pk_str(&pk, "providers");
	msgpack_pack_array(&pk, (uint32_t)snap->nprov);
	for (i = 0; i < snap->nprov; i++) {
		const struct persist_prov *p = &snap->prov[i];
		const struct persist_counters *c = &p->c;

		msgpack_pack_map(&pk, 3);
		pk_str(&pk, "name");
		pk_str(&pk, p->name);
		pk_str(&pk, "counters");
		msgpack_pack_map(&pk, 12);
		pk_u64(&pk, "samples_total", c->samples_total);
		pk_u64(&pk, "samples_lost", c->samples_lost);
		pk_str(&pk, "checks_total");
		msgpack_pack_array(&pk, VIGIL_OUT_COUNT);
		for (j = 0; j < VIGIL_OUT_COUNT; j++)
			msgpack_pack_uint64(&pk, c->checks_total[j]);
		pk_str(&pk, "lat_bucket");
		msgpack_pack_array(&pk, VIGIL_PROM_BUCKETS);
		for (j = 0; j < VIGIL_PROM_BUCKETS; j++)
			msgpack_pack_uint64(&pk, c->lat_bucket[j]);
		pk_str(&pk, "lat_sum_s");
		msgpack_pack_double(&pk, c->lat_sum_s);
		pk_u64(&pk, "since_wall_ns", c->since_wall_ns);
		pk_u64(&pk, "alerts_total", c->alerts_total);
		pk_u64(&pk, "last_ok_wall_ns", c->last_ok_wall_ns);
		pk_u64(&pk, "last_error_wall_ns", c->last_error_wall_ns);
		pk_u64(&pk, "last_error_outcome", c->last_error_outcome);
		pk_str(&pk, "last_error");
		pk_str(&pk, c->last_error);
		pk_u64(&pk, "circuit_opens", c->circuit_opens);
		pk_str(&pk, "history");
		msgpack_pack_bin(&pk, (uint32_t)(p->nhist * sizeof(*p->hist)));
		msgpack_pack_bin_body(&pk, p->hist, p->nhist *
		    sizeof(*p->hist));
	}
	pk_str(&pk, "alerts");
	msgpack_pack_bin(&pk, (uint32_t)(snap->nalerts *
	    sizeof(*snap->alerts)));
	msgpack_pack_bin_body(&pk, snap->alerts, snap->nalerts *
	    sizeof(*snap->alerts));
	if (sb.data == NULL) {
		msgpack_sbuffer_destroy(&sb);
		return -1;
	}
	*len = sb.size;
	*buf = msgpack_sbuffer_release(&sb);
	return 0;
}

static const msgpack_object *
obj_get(const msgpack_object *m, const char *key)
{
	size_t klen = strlen(key);
	uint32_t i;

	if (m == NULL || m->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (i = 0; i < m->via.map.size; i++) {
		const msgpack_object *k = &m->via.map.ptr[i].key;

		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == klen &&
		    memcmp(k->via.str.ptr, key, klen) == 0)
			return &m->via.map.ptr[i].val;
	}
	return NULL;
}

/* 0, or -1 if key is missing or not an unsigned integer. */
static int
obj_u64(const msgpack_object *m, const char *key, uint64_t *v)
{
	const msgpack_object *o = obj_get(m, key);

	if (o == NULL || o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return -1;
	*v = o->via.u64;
	return 0;
}

static int
decode_counters(const msgpack_object *m, struct persist_counters *c)
{
	const msgpack_object *o;
	uint32_t i;

	if (m == NULL || m->type != MSGPACK_OBJECT_MAP)
		return -1;
	if (obj_u64(m, "samples_total", &c->samples_total) ||
	    obj_u64(m, "samples_lost", &c->samples_lost) ||
	    obj_u64(m, "since_wall_ns", &c->since_wall_ns) ||
	    obj_u64(m, "alerts_total", &c->alerts_total) ||
	    obj_u64(m, "last_ok_wall_ns", &c->last_ok_wall_ns) ||
	    obj_u64(m, "last_error_wall_ns", &c->last_error_wall_ns) ||
	    obj_u64(m, "circuit_opens", &c->circuit_opens))
		return -1;
	/* The last error's outcome and code: absent from older snapshots
	 * (the time alone was kept), then left as none. */
	if (obj_get(m, "last_error_outcome") != NULL &&
	    (obj_u64(m, "last_error_outcome", &c->last_error_outcome) ||
	    c->last_error_outcome >= VIGIL_OUT_COUNT))
		return -1;
	if ((o = obj_get(m, "last_error")) != NULL) {
		if (o->type != MSGPACK_OBJECT_STR ||
		    o->via.str.size >= sizeof(c->last_error) ||
		    memchr(o->via.str.ptr, '\0', o->via.str.size) != NULL)
			return -1;
		memcpy(c->last_error, o->via.str.ptr, o->via.str.size);
		c->last_error[o->via.str.size] = '\0';
	}
	/* A snapshot from before outcomes were added has fewer (ABI 1: 10);
	 * the outcomes it did not know start at zero. */
	o = obj_get(m, "checks_total");
	if (o == NULL || o->type != MSGPACK_OBJECT_ARRAY ||
	    o->via.array.size == 0 || o->via.array.size > VIGIL_OUT_COUNT)
		return -1;
	for (i = 0; i < o->via.array.size; i++) {
		if (o->via.array.ptr[i].type != MSGPACK_OBJECT_POSITIVE_INTEGER)
			return -1;
		c->checks_total[i] = o->via.array.ptr[i].via.u64;
	}
	o = obj_get(m, "lat_bucket");
	if (o == NULL || o->type != MSGPACK_OBJECT_ARRAY ||
	    o->via.array.size != VIGIL_PROM_BUCKETS)
		return -1;
	for (i = 0; i < VIGIL_PROM_BUCKETS; i++) {
		if (o->via.array.ptr[i].type != MSGPACK_OBJECT_POSITIVE_INTEGER)
			return -1;
		c->lat_bucket[i] = o->via.array.ptr[i].via.u64;
	}
	o = obj_get(m, "lat_sum_s");
	if (o == NULL)
		return -1;
	if (o->type == MSGPACK_OBJECT_FLOAT64 ||
	    o->type == MSGPACK_OBJECT_FLOAT32)
		c->lat_sum_s = o->via.f64;
	else if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
		c->lat_sum_s = (double)o->via.u64;
	else
		return -1;
	return 0;
}

static int
decode_prov(const msgpack_object *m, struct persist_prov *p)
{
	const msgpack_object *o;

	if (m->type != MSGPACK_OBJECT_MAP)
		return -1;
	o = obj_get(m, "name");
	if (o == NULL || o->type != MSGPACK_OBJECT_STR ||
	    o->via.str.size == 0 || o->via.str.size >= sizeof(p->name) ||
	    memchr(o->via.str.ptr, '\0', o->via.str.size) != NULL)
		return -1;
	memcpy(p->name, o->via.str.ptr, o->via.str.size);
	p->name[o->via.str.size] = '\0';
	if (decode_counters(obj_get(m, "counters"), &p->c) == -1)
		return -1;
	o = obj_get(m, "history");
	if (o == NULL || o->type != MSGPACK_OBJECT_BIN ||
	    o->via.bin.size % sizeof(struct vigil_history) != 0)
		return -1;
	p->nhist = o->via.bin.size / sizeof(struct vigil_history);
	if (p->nhist > 0) {
		if ((p->hist = malloc(o->via.bin.size)) == NULL)
			return -1;
		memcpy(p->hist, o->via.bin.ptr, o->via.bin.size);
	}
	return 0;
}

/*
 * Decode a snapshot from buf[0..len) into snap (zeroed first; free it
 * with persist_free even on failure).  Anything but exactly one map of
 * the expected shape is refused: returns -1 with err saying what.
 */
int
persist_decode(const void *buf, size_t len, struct persist_snap *snap,
    char *err, size_t errlen)
{
	msgpack_unpacked u;
	const msgpack_object *root, *o;
	uint64_t version;
	size_t off = 0, i, asz;
	int rc = -1;

	memset(snap, 0, sizeof(*snap));
	msgpack_unpacked_init(&u);
	/* A container claiming more elements than bytes left is refused
	 * before msgpack-c reserves room for them. */
	if (mp_scan(buf, len, err, errlen) == -1)
		goto out;
	if (msgpack_unpack_next(&u, buf, len, &off) !=
	    MSGPACK_UNPACK_SUCCESS) {
		snprintf(err, errlen, "not a msgpack object (truncated or "
		    "garbage)");
		goto out;
	}
	if (off != len) {
		snprintf(err, errlen, "%zu trailing bytes", len - off);
		goto out;
	}
	root = &u.data;
	if (root->type != MSGPACK_OBJECT_MAP) {
		snprintf(err, errlen, "not a map");
		goto out;
	}
	if (obj_u64(root, "version", &version) == -1 ||
	    (version != PERSIST_VERSION && version != 1)) {
		snprintf(err, errlen, "missing or unknown version");
		goto out;
	}
	if (obj_u64(root, "saved_wall_ns", &snap->saved_wall_ns) == -1 ||
	    obj_u64(root, "next_alert_id", &snap->next_alert_id) == -1) {
		snprintf(err, errlen, "missing saved_wall_ns or next_alert_id");
		goto out;
	}
	o = obj_get(root, "providers");
	if (o == NULL || o->type != MSGPACK_OBJECT_ARRAY) {
		snprintf(err, errlen, "missing providers");
		goto out;
	}
	if (o->via.array.size > 0) {
		snap->prov = calloc(o->via.array.size, sizeof(*snap->prov));
		if (snap->prov == NULL) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
	}
	for (i = 0; i < o->via.array.size; i++) {
		if (decode_prov(&o->via.array.ptr[i], &snap->prov[i]) == -1) {
			snap->nprov = i + 1;
			snprintf(err, errlen, "provider %zu malformed", i);
			goto out;
		}
		snap->nprov = i + 1;
	}
	asz = version == 1 ? PERSIST_ALERT_V1 : sizeof(struct vigil_alert);
	o = obj_get(root, "alerts");
	if (o == NULL || o->type != MSGPACK_OBJECT_BIN ||
	    o->via.bin.size % asz != 0) {
		snprintf(err, errlen, "missing or malformed alerts");
		goto out;
	}
	snap->nalerts = o->via.bin.size / asz;
	if (snap->nalerts > 0) {
		if ((snap->alerts = calloc(snap->nalerts,
		    sizeof(*snap->alerts))) == NULL) {
			snap->nalerts = 0;
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		/* A version 1 record is the new one without its tail. */
		for (i = 0; i < snap->nalerts; i++)
			memcpy(&snap->alerts[i], o->via.bin.ptr + i * asz,
			    asz);
		for (i = 0; i < snap->nalerts; i++)
			snap->alerts[i].provider[VIGIL_NAME_MAX - 1] = '\0';
	}
	rc = 0;
out:
	msgpack_unpacked_destroy(&u);
	return rc;
}

void
persist_free(struct persist_snap *snap)
{
	size_t i;

	for (i = 0; i < snap->nprov; i++)
		free(snap->prov[i].hist);
	free(snap->prov);
	free(snap->alerts);
	memset(snap, 0, sizeof(*snap));
}

const struct persist_prov *
persist_find(const struct persist_snap *snap, const char *name)
{
	size_t i;

	for (i = 0; i < snap->nprov; i++)
		if (strcmp(snap->prov[i].name, name) == 0)
			return &snap->prov[i];
	return NULL;
}

static int
write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Write snap to dir/state.msgpack atomically: temp file, fsync, rename,
 * fsync of the directory.  Returns 0, or -1 with err (the old snapshot,
 * if any, is left as it was).
 */
int
persist_save(const char *dir, const struct persist_snap *snap, char *err,
    size_t errlen)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	void *buf = NULL;
	size_t len = 0;
	int fd, dfd, saved;

	if (snprintf(path, sizeof(path), "%s/%s", dir, PERSIST_FILE) >=
	    (int)sizeof(path) || snprintf(tmp, sizeof(tmp), "%s/.%s.tmp",
	    dir, PERSIST_FILE) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "state_dir path too long");
		return -1;
	}
	if (persist_encode(snap, &buf, &len) == -1) {
		snprintf(err, errlen, "encode: out of memory");
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd == -1) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		free(buf);
		return -1;
	}
	if (write_all(fd, buf, len) == -1 || fsync(fd) == -1) {
		saved = errno;
		close(fd);
		unlink(tmp);
		free(buf);
		snprintf(err, errlen, "%s: %s", tmp, strerror(saved));
		return -1;
	}
	free(buf);
	if (close(fd) == -1 || rename(tmp, path) == -1) {
		saved = errno;
		unlink(tmp);
		snprintf(err, errlen, "%s: %s", path, strerror(saved));
		return -1;
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		(void)fsync(dfd);
		close(dfd);
	}
	return 0;
}

/*
 * Read exactly size bytes of fd into a malloc'd *buf.  Returns 0, or -1
 * with why (a read error, or a file that shrank under us).
 */
static int
read_file(int fd, size_t size, unsigned char **buf, size_t *got,
    char *why, size_t whylen)
{
	ssize_t n;

	*got = 0;
	if ((*buf = malloc(size)) == NULL) {
		snprintf(why, whylen, "out of memory for %zu bytes", size);
		return -1;
	}
	while (*got < size) {
		n = read(fd, *buf + *got, size - *got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(why, whylen, "read: %s", strerror(errno));
			break;
		}
		if (n == 0) {
			snprintf(why, whylen, "short read: %zu of %zu bytes",
			    *got, size);
			break;
		}
		*got += (size_t)n;
	}
	if (*got == size)
		return 0;
	free(*buf);
	*buf = NULL;
	return -1;
}

/*
 * rename(from, to) unless to exists (then EEXIST): RENAME_NOREPLACE, or
 * where the file system does not support it, a check first (racy, but
 * only the aggregator writes state_dir).
 */
static int
rename_noreplace(const char *from, const char *to)
{
	struct stat st;

	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	if (lstat(to, &st) == 0) {
		errno = EEXIST;
		return -1;
	}
	return rename(from, to);
}

/*
 * Rename path to path.bad-<unix time> (whatever it is: a file, a
 * directory, a FIFO, a symlink) because of what (corrupt, unreadable)
 * and why; to path.bad-<unix time>.N when that name is taken (two bad
 * starts in one second: a plain rename would replace the first copy,
 * or fail on a directory).  Returns PERSIST_ASIDE, or PERSIST_STUCK
 * when the rename failed: the file is still where the next save would
 * replace it, so the caller must not save in this run.  err says which
 * and what to do.
 */
static int
move_aside(const char *path, const char *what, const char *why, char *err,
    size_t errlen)
{
	char bad[PATH_MAX + 48];
	long long t = (long long)time(NULL);
	int i, rc;

	for (i = 0; i < 100; i++) {
		if (i == 0)
			snprintf(bad, sizeof(bad), "%s.bad-%lld", path, t);
		else
			snprintf(bad, sizeof(bad), "%s.bad-%lld.%d", path, t,
			    i);
		if ((rc = rename_noreplace(path, bad)) == 0 || errno != EEXIST)
			break;
	}
	if (rc == -1) {
		snprintf(err, errlen, "%s: %s snapshot (%s); could not move "
		    "it aside to %s: %s; the state will not be saved in this "
		    "run so as not to overwrite it: fix its ownership or "
		    "mode (or move it away) and restart vigild", path, what,
		    why, bad, strerror(errno));
		return PERSIST_STUCK;
	}
	snprintf(err, errlen, "%s: %s snapshot (%s), moved to %s; starting "
	    "fresh", path, what, why, bad);
	return PERSIST_ASIDE;
}

/*
 * Read dir/state.msgpack into snap.  Returns PERSIST_LOADED,
 * PERSIST_NONE (no snapshot: start fresh), PERSIST_ASIDE (unreadable
 * for any reason but ENOENT or ENOTDIR, or corrupt: renamed to
 * state.msgpack.bad-<unix time>, start fresh) or PERSIST_STUCK (and
 * could not be renamed: start fresh but never save); err says why and
 * where.  Never trusts the file: sizes are checked before anything is
 * reserved, and a FIFO in its place does not block the open.
 */
int
persist_load(const char *dir, struct persist_snap *snap, char *err,
    size_t errlen)
{
	char path[PATH_MAX], why[192];
	struct stat st;
	unsigned char *buf;
	size_t got;
	int fd;

	memset(snap, 0, sizeof(*snap));
	if (snprintf(path, sizeof(path), "%s/%s", dir, PERSIST_FILE) >=
	    (int)sizeof(path)) {
		snprintf(err, errlen, "state_dir path too long");
		return PERSIST_STUCK;
	}
	/* O_NONBLOCK: opening a FIFO for reading would wait for a writer. */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1) {
		/*
		 * No such file (ENOENT), or state_dir is not a directory
		 * (ENOTDIR): no snapshot to protect, and saving will say
		 * what is wrong.  A dangling symlink is ENOENT too, but its
		 * target may be on a file system not mounted yet: keep it.
		 */
		if ((errno == ENOENT || errno == ENOTDIR) &&
		    lstat(path, &st) == -1 &&
		    (errno == ENOENT || errno == ENOTDIR))
			return PERSIST_NONE;
		snprintf(why, sizeof(why), "open: %s", strerror(errno));
		return move_aside(path, "unreadable", why, err, errlen);
	}
	if (fstat(fd, &st) == -1) {
		snprintf(why, sizeof(why), "fstat: %s", strerror(errno));
		close(fd);
		return move_aside(path, "unreadable", why, err, errlen);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return move_aside(path, "unreadable", "not a regular file",
		    err, errlen);
	}
	if (st.st_size <= 0 || (uint64_t)st.st_size > PERSIST_MAX_BYTES) {
		snprintf(why, sizeof(why), "size %lld bytes",
		    (long long)st.st_size);
		close(fd);
		return move_aside(path, "corrupt", why, err, errlen);
	}
	if (read_file(fd, (size_t)st.st_size, &buf, &got, why,
	    sizeof(why)) == -1) {
		close(fd);
		return move_aside(path, "unreadable", why, err, errlen);
	}
	close(fd);
	if (persist_decode(buf, got, snap, why, sizeof(why)) == 0) {
		free(buf);
		return PERSIST_LOADED;
	}
	free(buf);
	persist_free(snap);
	return move_aside(path, "corrupt", why, err, errlen);
}
