/*
 * test_agg_main.c - vigil-aggregator as vigild runs it.
 *
 * The test plays vigild: creates a segment under a unique name, starts
 * build/.../vigil-aggregator with the segment on fd 3 and a socketpair on
 * fd 4, sends `configure`, pushes samples into the rings as probers do,
 * reads the results through include/vigil/vigil.h, drives the control
 * operations, serves the webhook on a loopback port (failing the first
 * POSTs to exercise the retries), and checks that EOF on fd 4 makes it
 * save its state and exit 0.  Waits are bounded polls, never timed
 * assertions; the child is killed by pid whatever happens.
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>

#include "t.h"
#include "frame.h"
#include "priv.h"
#include "ring.h"
#include "segment.h"
#include "../../aggregator/persist.h"

#define S	UINT64_C(1000000000)
#define TOKEN	"secret-token-4f9a2c"

struct child {
	pid_t pid;
	int ctl;		/* our end of the socketpair */
	char shm[64];
	char dir[64];
	char log[128];
	struct segment seg;
	struct vigil_client cl;
	struct ring_writer rw[4];
	int lsock;		/* webhook listener, -1 none */
	int port;
	int hook_fail;		/* answer 500 to this many POSTs first */
	int hook_500s;
	uint64_t hook_ids[256];	/* ids acknowledged with 200 */
	int nhook;
	int as_nobody;		/* run the aggregator as uid 65534 */
};

static void
agg_path(char *buf, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n < 0)
		n = 0;
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) != NULL)
		*slash = '\0';
	snprintf(buf, len, "%s/../vigil-aggregator", self);
}

static void
add_provider(struct child *c, uint32_t idx, const char *name)
{
	struct vigil_provider_info pi;

	memset(&pi, 0, sizeof(pi));
	snprintf(pi.name, sizeof(pi.name), "%s", name);
	pi.added_wall_ns = now_wall_ns();
	pi.interval_ms = 1000;
	pi.flags = VIGIL_PF_IN_USE | VIGIL_PF_ENABLED;
	seqlock_write(seg_dir_slot(&c->seg, idx), &pi,
	    VIGIL_WORDS(struct vigil_provider_info));
	atomic_fetch_add(&c->seg.hdr->dir_gen, 1);
}

static void
push(struct child *c, uint32_t idx, int outcome, uint32_t us)
{
	struct vigil_sample s;

	memset(&s, 0, sizeof(s));
	s.mono_ns = now_mono_ns();
	s.wall_ns = now_wall_ns();
	s.latency_us = us;
	s.outcome = (uint8_t)outcome;
	ring_push(&c->rw[idx], &s, VIGIL_WORDS(struct vigil_sample));
}

static void
setup(struct child *c, int n)
{
	struct seg_caps caps = { 4, 64, 64, 64, 0 };
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	char err[256];
	uint32_t i;

	memset(c, 0, sizeof(*c));
	c->pid = -1;
	c->ctl = -1;
	snprintf(c->shm, sizeof(c->shm), "/vigil-test-aggmain-%d-%d",
	    (int)getpid(), n);
	snprintf(c->dir, sizeof(c->dir), "/tmp/vigil-test-aggmain-XXXXXX");
	T_CHECK(mkdtemp(c->dir) != NULL);
	snprintf(c->log, sizeof(c->log), "%s/aggregator.log", c->dir);
	T_CHECKF(seg_create(&c->seg, c->shm, &caps, 0600, err,
	    sizeof(err)) == 0, "%s", err);
	for (i = 0; i < 4; i++)
		ring_writer_init(&c->rw[i], seg_sample_ring(&c->seg, i),
		    c->seg.hdr->sample_cap, c->seg.hdr->sample_entry);
	T_CHECK(vigil_open(&c->cl, c->shm) == VIGIL_OK);
	c->lsock = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	T_CHECK(bind(c->lsock, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	T_CHECK(listen(c->lsock, 16) == 0);
	T_CHECK(getsockname(c->lsock, (struct sockaddr *)&sin, &sl) == 0);
	c->port = ntohs(sin.sin_port);
}

static void
teardown(struct child *c)
{
	char cmd[256];
	int st;

	if (t_child_failures) {		/* show what the aggregator said */
		snprintf(cmd, sizeof(cmd), "sed 's/^/  | /' '%s' >&2", c->log);
		if (system(cmd) != 0)
			fprintf(stderr, "  (no log)\n");
	}
	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		waitpid(c->pid, &st, 0);
	}
	if (c->ctl != -1)
		close(c->ctl);
	if (c->lsock != -1)
		close(c->lsock);
	vigil_close(&c->cl);
	seg_close(&c->seg);
	shm_unlink(c->shm);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", c->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "  rm failed\n");
}

static void
start(struct child *c)
{
	char path[PATH_MAX + 32];
	int sp[2], segfd, sockfd, logfd;

	agg_path(path, sizeof(path));
	T_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == 0);
	c->pid = fork();
	if (c->pid == 0) {
		/* Out of the way of 3 and 4 first, then into place. */
		segfd = fcntl(c->seg.fd, F_DUPFD, 10);
		sockfd = fcntl(sp[1], F_DUPFD, 10);
		logfd = open(c->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (segfd == -1 || sockfd == -1 || logfd == -1 ||
		    dup2(segfd, 3) == -1 || dup2(sockfd, 4) == -1 ||
		    dup2(logfd, 2) == -1)
			_exit(99);
		/*
		 * As vigild starts its children: executed as root, told whom
		 * to become (common/priv.c), so that it runs from a build
		 * tree only root can enter.
		 */
		if (c->as_nobody && setenv(PRIV_DROP_ENV, "65534:65534",
		    1) == -1)
			_exit(97);
		execl(path, "vigil-aggregator", (char *)NULL);
		_exit(98);
	}
	close(sp[1]);
	c->ctl = sp[0];
}

static void
send_req(struct child *c, uint64_t id, const char *op, const char *prov,
    uint64_t until)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	char err[128];

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	mp_request(&pk, id, op, (prov ? 1 : 0) + (until ? 1 : 0));
	if (prov)
		mp_kv_str(&pk, "provider", prov);
	if (until)
		mp_kv_uint(&pk, "until_wall_ns", until);
	T_CHECKF(frame_send(c->ctl, sb.data, sb.size, err, sizeof(err)) == 0,
	    "%s", err);
	msgpack_sbuffer_destroy(&sb);
}

/* Serve the webhook a little (at most wait_ms) while waiting. */
static void
serve_hook(struct child *c, int wait_ms)
{
	struct pollfd pfd = { c->lsock, POLLIN, 0 };
	char buf[8192], *p;
	ssize_t n;
	size_t got = 0;
	int fd;

	if (poll(&pfd, 1, wait_ms) != 1)
		return;
	if ((fd = accept(c->lsock, NULL, NULL)) == -1)
		return;
	/* Read headers and body (Content-Length), bounded. */
	for (;;) {
		struct pollfd q = { fd, POLLIN, 0 };
		char *cl, *end;

		if (poll(&q, 1, 2000) != 1)
			break;
		n = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		buf[got] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) != NULL &&
		    (cl = strcasestr(buf, "Content-Length:")) != NULL &&
		    got >= (size_t)(end + 4 - buf) + strtoul(cl + 15, NULL,
		    10))
			break;
	}
	T_CHECK(strncmp(buf, "POST /hook/" TOKEN " ", 11 + strlen(TOKEN) +
	    1) == 0);
	T_CHECK(strcasestr(buf, "Content-Type: application/json") != NULL);
	if (c->hook_fail > 0) {
		c->hook_fail--;
		c->hook_500s++;
		dprintf(fd, "HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n"
		    "Connection: close\r\n\r\n");
	} else {
		if ((p = strstr(buf, "{\"id\":")) != NULL && c->nhook < 256)
			c->hook_ids[c->nhook++] = strtoull(p + 6, NULL, 10);
		dprintf(fd, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
		    "Connection: close\r\n\r\n");
	}
	close(fd);
}

/* Receive one reply, serving the webhook meanwhile. */
static int
recv_reply(struct child *c, msgpack_unpacked *u)
{
	char err[128];
	int i, rc = FRAME_TIMEOUT;

	for (i = 0; i < 200 && rc == FRAME_TIMEOUT; i++) {
		serve_hook(c, 10);
		rc = frame_recv(c->ctl, 50, u, err, sizeof(err));
	}
	return rc;
}

static int
reply_ok(struct child *c, uint64_t id, char *code, size_t len)
{
	msgpack_unpacked u;
	const msgpack_object *ok, *e;
	uint64_t rid = 0;
	int v = 0;

	msgpack_unpacked_init(&u);
	if (recv_reply(c, &u) != FRAME_OK) {
		msgpack_unpacked_destroy(&u);
		return -1;
	}
	T_CHECK(mp_get_uint(&u.data, "id", &rid) == 0 && rid == id);
	ok = mp_get(&u.data, "ok");
	v = ok != NULL && ok->type == MSGPACK_OBJECT_BOOLEAN && ok->via.boolean;
	if (!v && code != NULL && (e = mp_get(&u.data, "error")) != NULL)
		mp_get_str(e, "code", code, len);
	msgpack_unpacked_destroy(&u);
	return v;
}

static void
configure(struct child *c, int bad)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked u;
	const msgpack_object *res;
	char err[128], url[128];
	uint64_t pid = 0;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook/" TOKEN, c->port);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	mp_request(&pk, 1, "configure", 8);
	mp_kv_str(&pk, "state_dir", c->dir);
	mp_kv_str(&pk, "webhook_url", url);
	mp_kv_uint(&pk, "tick_ms", 50);
	mp_kv_uint(&pk, "alert_cooldown_ms", 60000);
	mp_kv_uint(&pk, "webhook_retries", 5);
	mp_kv_uint(&pk, "persist_interval_ms", 1000);
	mp_kv_uint(&pk, "warning_error_rate", bad ? 90 : 50);
	mp_kv_uint(&pk, "log_level", 2);
	T_CHECK(frame_send(c->ctl, sb.data, sb.size, err, sizeof(err)) == 0);
	msgpack_sbuffer_destroy(&sb);
	msgpack_unpacked_init(&u);
	T_CHECK(frame_recv(c->ctl, 10000, &u, err, sizeof(err)) == FRAME_OK);
	if (bad) {
		const msgpack_object *ok = mp_get(&u.data, "ok");

		T_CHECK(ok != NULL && ok->type == MSGPACK_OBJECT_BOOLEAN &&
		    !ok->via.boolean);
	} else {
		res = mp_get(&u.data, "result");
		T_CHECK(res != NULL && mp_get_uint(res, "pid", &pid) == 0);
		T_CHECK(pid == (uint64_t)c->pid);
	}
	msgpack_unpacked_destroy(&u);
}

static int
wait_exit(struct child *c)
{
	int i, st;

	for (i = 0; i < 1000; i++) {
		if (waitpid(c->pid, &st, WNOHANG) == c->pid) {
			c->pid = -1;
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 +
			    WTERMSIG(st);
		}
		usleep(10000);
	}
	return -1;
}

static int
file_has(const char *path, const char *needle)
{
	char buf[65536];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd == -1)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return 0;
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

static void
test_lifecycle(void)
{
	struct child c;
	struct vigil_provider p;
	struct vigil_alert al[64];
	struct vigil_cursor cur = { 0, 0 };
	struct persist_snap snap;
	char code[64], path[256], err[256];
	size_t nal = 0, i;
	int k, j, done = 0;

	setup(&c, 0);
	c.hook_fail = 2;
	add_provider(&c, 0, "good");
	add_provider(&c, 1, "bad");
	start(&c);
	configure(&c, 0);
	T_CHECK(atomic_load(&c.seg.hdr->aggregator_pid) == (uint64_t)c.pid);
	for (k = 0; k < 10; k++) {
		push(&c, 0, VIGIL_OUT_OK, 100000 + k * 1000);
		push(&c, 1, VIGIL_OUT_CONNECT, 0);
	}
	/* Until both are judged and every alert is acknowledged once. */
	for (k = 0; k < 1500 && !done; k++) {
		serve_hook(&c, 10);
		if (vigil_snapshot(&c.cl, 1, &p) != VIGIL_OK ||
		    p.stats.circuit != VIGIL_CB_OPEN)
			continue;
		nal += vigil_read_alerts(&c.cl, &cur, al + nal, 64 - nal);
		done = nal >= 3 && c.nhook >= (int)nal;
	}
	T_CHECK(done);
	T_CHECK(vigil_snapshot(&c.cl, 0, &p) == VIGIL_OK);
	T_CHECK(p.stats.samples_total == 10);
	T_CHECK(p.stats.status == VIGIL_ST_HEALTHY);
	T_CHECK(vigil_snapshot(&c.cl, 1, &p) == VIGIL_OK);
	T_CHECK(p.stats.status == VIGIL_ST_UNHEALTHY);
	T_CHECK(vigil_aggregator_age_ns(&c.cl) < 60 * S);
	/* Each alert of the ring acknowledged exactly once, despite two
	 * 500s that were retried. */
	T_CHECK(c.hook_500s == 2);
	T_CHECK(c.nhook == (int)nal);
	for (i = 0; i < nal; i++) {
		int seen = 0;

		for (j = 0; j < c.nhook; j++)
			seen += c.hook_ids[j] == al[i].id;
		T_CHECKF(seen == 1, "alert %llu acknowledged %d times",
		    (unsigned long long)al[i].id, seen);
	}

	send_req(&c, 2, "ping", NULL, 0);
	T_CHECK(reply_ok(&c, 2, NULL, 0) == 1);
	send_req(&c, 3, "silence", "bad", now_wall_ns() + 3600 * S);
	T_CHECK(reply_ok(&c, 3, NULL, 0) == 1);
	for (k = 0; k < 200; k++) {
		serve_hook(&c, 10);
		if (vigil_snapshot(&c.cl, 1, &p) == VIGIL_OK &&
		    p.stats.silenced_until_wall_ns != 0)
			break;
	}
	T_CHECK(p.stats.silenced_until_wall_ns > now_wall_ns());
	send_req(&c, 4, "silence", "nosuch", now_wall_ns() + S);
	T_CHECK(reply_ok(&c, 4, code, sizeof(code)) == 0);
	T_CHECK(strcmp(code, "not_found") == 0);
	send_req(&c, 5, "silence", "bad", 0);		/* no until */
	T_CHECK(reply_ok(&c, 5, code, sizeof(code)) == 0);
	T_CHECK(strcmp(code, "bad_args") == 0);
	send_req(&c, 6, "unsilence", "bad", 0);
	T_CHECK(reply_ok(&c, 6, NULL, 0) == 1);
	send_req(&c, 7, "frobnicate", NULL, 0);
	T_CHECK(reply_ok(&c, 7, code, sizeof(code)) == 0);
	T_CHECK(strcmp(code, "unknown_op") == 0);
	send_req(&c, 8, "persist", NULL, 0);
	T_CHECK(reply_ok(&c, 8, NULL, 0) == 1);
	snprintf(path, sizeof(path), "%s/%s", c.dir, PERSIST_FILE);
	T_CHECK(access(path, F_OK) == 0);

	/* EOF on fd 4: save, exit 0. */
	close(c.ctl);
	c.ctl = -1;
	T_CHECK(wait_exit(&c) == 0);
	T_CHECK(persist_load(c.dir, &snap, err, sizeof(err)) == 0);
	T_CHECK(snap.nprov == 2 && snap.nalerts == nal);
	T_CHECK(persist_find(&snap, "good") != NULL &&
	    persist_find(&snap, "good")->nhist == 10);
	persist_free(&snap);
	/* The log: alerts there, the token never. */
	T_CHECK(file_has(c.log, "bad down critical"));
	T_CHECK(file_has(c.log, "ready"));
	T_CHECK(!file_has(c.log, TOKEN));
	teardown(&c);
}

/* A bad configure: ok false, exit 125 (do not restart). */
static void
test_bad_configure(void)
{
	struct child c;

	setup(&c, 1);
	start(&c);
	configure(&c, 1);
	T_CHECK(wait_exit(&c) == 125);
	teardown(&c);
}

/* A truncated snapshot: reported, moved aside, started fresh. */
static void
test_corrupt_state(void)
{
	struct child c;
	char path[256];
	int fd;

	setup(&c, 2);
	snprintf(path, sizeof(path), "%s/%s", c.dir, PERSIST_FILE);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	T_CHECK(fd != -1 && write(fd, "\x85\xa7version", 9) == 9);
	close(fd);
	start(&c);
	configure(&c, 0);
	T_CHECK(access(path, F_OK) == -1);
	T_CHECK(file_has(c.log, "corrupt snapshot"));
	close(c.ctl);
	c.ctl = -1;
	T_CHECK(wait_exit(&c) == 0);
	T_CHECK(access(path, F_OK) == 0);	/* a fresh one at exit */
	teardown(&c);
}

/*
 * The receiver down: aggregation goes on (another provider's samples are
 * counted, its status current) and the alerts raised meanwhile arrive
 * once it is back, each once.
 */
static void
test_webhook_down(void)
{
	struct child c;
	struct vigil_provider p;
	struct vigil_alert al[64];
	struct vigil_cursor cur = { 0, 0 };
	struct sockaddr_in sin;
	size_t nal = 0, i;
	int k, j, one = 1, ok = 0;

	setup(&c, 3);
	add_provider(&c, 0, "good");
	add_provider(&c, 1, "bad");
	close(c.lsock);			/* down: connection refused */
	c.lsock = -1;
	start(&c);
	configure(&c, 0);
	for (k = 0; k < 10; k++)
		push(&c, 1, VIGIL_OUT_CONNECT, 0);
	for (k = 0; k < 500; k++) {
		usleep(10000);
		nal += vigil_read_alerts(&c.cl, &cur, al + nal, 64 - nal);
		if (nal >= 3)
			break;
	}
	T_CHECK(nal >= 3);
	/* Aggregation is not held up by the dead receiver. */
	for (k = 0; k < 5; k++)
		push(&c, 0, VIGIL_OUT_OK, 50000);
	for (k = 0; k < 500; k++) {
		usleep(10000);
		if (vigil_snapshot(&c.cl, 0, &p) == VIGIL_OK &&
		    p.stats.samples_total == 5) {
			ok = 1;
			break;
		}
	}
	T_CHECK(ok && p.stats.status == VIGIL_ST_HEALTHY);
	/* Back on the same port. */
	c.lsock = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(c.lsock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)c.port);
	T_CHECK(bind(c.lsock, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	T_CHECK(listen(c.lsock, 16) == 0);
	for (k = 0; k < 2000 && c.nhook < (int)nal; k++)
		serve_hook(&c, 10);
	T_CHECK(c.nhook == (int)nal);
	for (i = 0; i < nal; i++) {
		int seen = 0;

		for (j = 0; j < c.nhook; j++)
			seen += c.hook_ids[j] == al[i].id;
		T_CHECK(seen == 1);
	}
	close(c.ctl);
	c.ctl = -1;
	T_CHECK(wait_exit(&c) == 0);
	teardown(&c);
}

/*
 * The case: state.msgpack left unreadable (mode 000, another
 * owner) after `user` changed.  Where the directory is the aggregator's,
 * the snapshot is moved aside whole and the fresh one saved beside it;
 * where it is not (nothing can be moved), nothing is ever saved and the
 * log says so.  Root reads mode 000, so the aggregator runs as nobody.
 */
static void
test_unreadable_state(void)
{
	struct child c;
	struct stat st;
	char path[256], code[64];
	int fd, i, rc;
	static const char old[] = "history the operator wants back";

	if (geteuid() != 0) {
		fprintf(stderr, "  (not root: nothing to test)\n");
		return;
	}
	for (i = 0; i < 2; i++) {
		setup(&c, 3 + i);
		c.as_nobody = 1;
		snprintf(path, sizeof(path), "%s/%s", c.dir, PERSIST_FILE);
		fd = open(path, O_WRONLY | O_CREAT, 0);
		T_CHECK(fd != -1 && write(fd, old, sizeof(old)) ==
		    (ssize_t)sizeof(old));
		close(fd);
		T_CHECK(chmod(c.dir, 0755) == 0);
		if (i == 0)	/* the directory is nobody's: can move */
			T_CHECK(chown(c.dir, 65534, 65534) == 0);
		start(&c);
		configure(&c, 0);
		if (i == 0) {
			T_CHECK(file_has(c.log, "unreadable snapshot"));
			T_CHECK(file_has(c.log, "moved to"));
		} else {
			T_CHECK(file_has(c.log, "could not move it aside"));
			T_CHECK(file_has(c.log, "persistence is off"));
		}
		send_req(&c, 2, "persist", NULL, 0);
		rc = reply_ok(&c, 2, code, sizeof(code));
		T_CHECKF(rc == (i == 0), "persist %d %s", rc, code);
		if (i == 1)
			T_CHECK(strcmp(code, "persist_failed") == 0);
		close(c.ctl);
		c.ctl = -1;
		T_CHECK(wait_exit(&c) == 0);
		/* The old bytes: under .bad-* (i 0) or untouched (i 1). */
		if (i == 0) {
			char cmd[512];

			snprintf(cmd, sizeof(cmd), "grep -q '%s' %s/%s.bad-*",
			    old, c.dir, PERSIST_FILE);
			T_CHECK(system(cmd) == 0);
			T_CHECK(stat(path, &st) == 0 && st.st_uid == 65534);
		} else {
			T_CHECK(stat(path, &st) == 0 &&
			    st.st_size == (off_t)sizeof(old) &&
			    (st.st_mode & 0777) == 0);
		}
		teardown(&c);
	}
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	T_RUN(test_lifecycle);
	T_RUN(test_bad_configure);
	T_RUN(test_corrupt_state);
	T_RUN(test_unreadable_state);
	T_RUN(test_webhook_down);
	return t_done();
}
