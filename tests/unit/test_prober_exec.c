/*
 * test_prober_exec.c - the real build/vigil-prober against a real HTTP
 * server, spawned as vigild spawns it (docs/internals.md): fd 3 the
 * segment, fd 4 a socketpair speaking msgpack frames.
 *
 * The HTTP server is a small one written here (a forked child on a free
 * loopback port) so that every fault is exact: the first path segment
 * picks the behaviour (/ok, /hang, /limit, /garbage, /gen).  Segments
 * are unlinked as soon as they are created, and every child dies with
 * its parent (PR_SET_PDEATHSIG), so a failing test leaves nothing behind.
 *
 * VIGIL_PROBER=path overrides the binary (default: ../vigil-prober next
 * to this test's own directory, so the asan build tests the asan prober).
 */
#define T_TIMEOUT	60	/* seconds per test, before t.h */

#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <msgpack.h>

#include <vigil/vigil.h>

#include "frame.h"
#include "ring.h"
#include "segment.h"
#include "t.h"

#define SLOT		2
#define EPOCH		7
#define GOOD_KEY	"sk-good-secret-4711"
#define MAXCONN		64

struct ctx {
	struct segment		 seg;
	struct vigil_client	 cli;
	struct vigil_cursor	 cur;
	pid_t			 srv;
	int			 port;
	pid_t			 pid;
	int			 ctl;
	char			 errlog[64];
	uint64_t		 next_id;
};

struct popts {
	const char	*mode;		/* server path prefix, or NULL */
	const char	*base;		/* full base URL instead of mode */
	const char	*kind;
	const char	*key;
	uint32_t	 interval_ms;
	uint32_t	 timeout_ms;
	const char	*gen_model;
	uint32_t	 gen_interval_ms;
	uint32_t	 fast;
	int		 paused;
};

/* Connections the server accepted: shared memory, counted by the child. */
static _Atomic unsigned	*accepts;

struct conn {
	int	fd;
	int	hung;
	size_t	len;
	char	buf[16384];
};

static uint64_t
ms_now(void)
{
	return now_mono_ns() / 1000000;
}

static void
writeall(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) <= 0) {
			if (w == -1 && errno == EINTR)
				continue;
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

static void
respond(int fd, int status, const char *extra, const char *ctype,
    const char *body)
{
	char head[512];
	int n;

	n = snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\n%s\r\n", status, ctype, strlen(body),
	    extra);
	writeall(fd, head, (size_t)n);
	writeall(fd, body, strlen(body));
}

/* Serve every whole request in c's buffer.  HTTP/1.1, kept alive. */
static void
serve(struct conn *c)
{
	char *end, *cl, path[256];
	size_t hlen, blen = 0, total;
	int auth;

	for (;;) {
		c->buf[c->len] = '\0';
		if ((end = strstr(c->buf, "\r\n\r\n")) == NULL)
			return;
		hlen = (size_t)(end - c->buf) + 4;
		if ((cl = strcasestr(c->buf, "\r\nContent-Length:")) != NULL &&
		    cl < end)
			blen = strtoul(cl + 17, NULL, 10);
		total = hlen + blen;
		if (c->len < total)
			return;
		if (sscanf(c->buf, "%*s %255s", path) != 1)
			path[0] = '\0';
		*end = '\0';
		auth = strcasestr(c->buf, "\r\nAuthorization: Bearer "
		    GOOD_KEY) != NULL;
		if (strncmp(path, "/hang/", 6) == 0) {
			c->hung = 1;
			return;
		} else if (strncmp(path, "/ok/", 4) == 0) {
			if (auth)
				respond(c->fd, 200, "", "application/json",
				    "{\"object\":\"list\",\"data\":[{\"id\":"
				    "\"m\"}]}");
			else
				respond(c->fd, 401, "", "application/json",
				    "{\"error\":\"bad key\"}");
		} else if (strncmp(path, "/limit/", 7) == 0) {
			respond(c->fd, 429, "Retry-After: 2\r\n",
			    "application/json", "{\"error\":\"slow down\"}");
		} else if (strncmp(path, "/garbage/", 9) == 0) {
			respond(c->fd, 200, "", "application/json",
			    "<html>this is not json</html>");
		} else if (strcmp(path, "/gen/v1/chat/completions") == 0) {
			respond(c->fd, 200, "", "text/event-stream",
			    "data: {\"choices\":[{\"delta\":{\"content\":"
			    "\"p\"}}]}\n\ndata: [DONE]\n\n");
		} else if (strncmp(path, "/gen/", 5) == 0) {
			respond(c->fd, 200, "", "application/json",
			    "{\"data\":[]}");
		} else
			respond(c->fd, 404, "", "text/plain", "no");
		memmove(c->buf, c->buf + total, c->len - total);
		c->len -= total;
		blen = 0;
	}
}

static void
server_loop(int lfd)
{
	static struct conn conns[MAXCONN];
	struct pollfd pfd[MAXCONN + 1];
	int n = 0, i, fd;
	ssize_t r;

	for (;;) {
		pfd[0].fd = lfd;
		pfd[0].events = POLLIN;
		for (i = 0; i < n; i++) {
			pfd[i + 1].fd = conns[i].fd;
			pfd[i + 1].events = POLLIN;
			pfd[i + 1].revents = 0;
		}
		if (poll(pfd, (nfds_t)n + 1, -1) == -1)
			continue;
		for (i = n - 1; i >= 0; i--) {
			if (pfd[i + 1].revents == 0)
				continue;
			r = read(conns[i].fd, conns[i].buf + conns[i].len,
			    sizeof(conns[i].buf) - conns[i].len - 1);
			if (r <= 0) {
				close(conns[i].fd);
				conns[i] = conns[--n];
				continue;
			}
			conns[i].len += (size_t)r;
			if (!conns[i].hung)
				serve(&conns[i]);
			if (conns[i].len >= sizeof(conns[i].buf) - 1)
				conns[i].len = 0;
		}
		if (pfd[0].revents & POLLIN) {
			fd = accept(lfd, NULL, NULL);
			if (fd == -1)
				continue;
			if (n == MAXCONN) {
				close(fd);
				continue;
			}
			atomic_fetch_add(accepts, 1);
			memset(&conns[n], 0, sizeof(conns[n]));
			conns[n++].fd = fd;
		}
	}
}

/* A loopback TCP socket bound to a free port; *port receives it. */
static int
bind_free(int *port)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) == -1) {
		close(fd);
		return -1;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

static void
ctx_init(struct ctx *c)
{
	struct seg_caps caps = { 4, 64, 4, 4, 0 };
	char name[64], err[256];
	int lfd;

	memset(c, 0, sizeof(*c));
	c->pid = -1;
	c->ctl = -1;
	c->srv = -1;
	c->next_id = 100;
	snprintf(name, sizeof(name), "/vigil-test-prober-%d", (int)getpid());
	if (seg_create(&c->seg, name, &caps, 0600, err, sizeof(err)) == -1) {
		fprintf(stderr, "seg_create: %s\n", err);
		exit(1);
	}
	shm_unlink(name);	/* the descriptor keeps it alive */
	vigil_attach(&c->cli, c->seg.base, c->seg.size);

	accepts = mmap(NULL, sizeof(*accepts), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (accepts == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	if ((lfd = bind_free(&c->port)) == -1 || listen(lfd, 64) == -1) {
		perror("listen");
		exit(1);
	}
	if ((c->srv = fork()) == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		server_loop(lfd);
		_exit(0);
	}
	close(lfd);
	snprintf(c->errlog, sizeof(c->errlog), "/tmp/vigil-test-prober-%d.log",
	    (int)getpid());
}

static void
reap(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
			;
	}
}

static void
ctx_done(struct ctx *c)
{
	reap(c->pid);
	reap(c->srv);
	if (c->ctl != -1)
		close(c->ctl);
	seg_close(&c->seg);
	if (getenv("VIGIL_TEST_KEEPLOG") == NULL)
		unlink(c->errlog);
}

static void
prober_path(char *buf, size_t len)
{
	char self[PATH_MAX];
	ssize_t n;

	if (getenv("VIGIL_PROBER") != NULL) {
		snprintf(buf, len, "%s", getenv("VIGIL_PROBER"));
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[n > 0 ? n : 0] = '\0';
	snprintf(buf, len, "%s/../vigil-prober", dirname(self));
}

/* Put fd at target in the child, without CLOEXEC. */
static void
place_fd(int fd, int target)
{
	if (fd == target)
		fcntl(fd, F_SETFD, 0);
	else
		dup2(fd, target);
}

/* Spawn the prober like vigild does; no configure yet. */
static void
spawn(struct ctx *c, const char *name)
{
	char path[PATH_MAX];
	int sp[2], errfd, segfd;

	prober_path(path, sizeof(path));
	T_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == 0);
	errfd = open(c->errlog, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if ((c->pid = fork()) == 0) {
		/* Move everything above 4 first so the dup2s cannot clash. */
		segfd = fcntl(c->seg.fd, F_DUPFD_CLOEXEC, 10);
		sp[1] = fcntl(sp[1], F_DUPFD_CLOEXEC, 10);
		place_fd(segfd, 3);
		place_fd(sp[1], 4);
		dup2(errfd, 2);
		execl(path, "vigil-prober", name, (char *)NULL);
		_exit(127);
	}
	close(errfd);
	close(sp[1]);
	c->ctl = sp[0];
}

static void
send_frame(struct ctx *c, msgpack_sbuffer *sb)
{
	char err[128];

	T_CHECKF(frame_send(c->ctl, sb->data, sb->size, err, sizeof(err)) == 0,
	    "%s", err);
}

/* Read one reply; returns its "ok" (-1 on no reply).  *out keeps it. */
static int
recv_reply(struct ctx *c, msgpack_unpacked *out, uint64_t want_id)
{
	char err[128];
	uint64_t id = 0;
	int ok = 0, rc;

	msgpack_unpacked_init(out);
	rc = frame_recv(c->ctl, 15000, out, err, sizeof(err));
	T_CHECKF(rc == FRAME_OK, "frame_recv %d %s", rc, err);
	if (rc != FRAME_OK)
		return -1;
	T_CHECK(mp_get_uint(&out->data, "id", &id) == 0 && id == want_id);
	T_CHECK(mp_get_bool(&out->data, "ok", &ok) == 0);
	return ok;
}

static int
configure(struct ctx *c, const struct popts *o, msgpack_unpacked *reply)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	char base[256];

	if (o->base != NULL)
		snprintf(base, sizeof(base), "%s", o->base);
	else
		snprintf(base, sizeof(base), "http://127.0.0.1:%d/%s",
		    c->port, o->mode);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	mp_request(&pk, 1, "configure", 15);
	mp_kv_uint(&pk, "slot", SLOT);
	mp_kv_uint(&pk, "epoch", EPOCH);
	mp_kv_str(&pk, "name", "p1");
	mp_kv_str(&pk, "kind", o->kind ? o->kind : "openai");
	mp_kv_str(&pk, "base_url", base);
	mp_kv_str(&pk, "api_key", o->key ? o->key : GOOD_KEY);
	mp_kv_uint(&pk, "interval_ms", o->interval_ms ? o->interval_ms : 300);
	mp_kv_uint(&pk, "timeout_ms", o->timeout_ms ? o->timeout_ms : 2000);
	mp_kv_str(&pk, "check_path", "");
	mp_kv_str(&pk, "ca_file", "");
	mp_kv_str(&pk, "gen_model", o->gen_model ? o->gen_model : "");
	mp_kv_uint(&pk, "gen_interval_ms", o->gen_interval_ms ?
	    o->gen_interval_ms : 60000);
	mp_kv_uint(&pk, "fast_probe_percent", o->fast ? o->fast : 25);
	mp_kv_bool(&pk, "paused", o->paused);
	mp_kv_uint(&pk, "log_level", 2);
	send_frame(c, &sb);
	msgpack_sbuffer_destroy(&sb);
	return recv_reply(c, reply, 1);
}

/* Spawn and configure; the reply must be ok with our pid. */
static void
start(struct ctx *c, const struct popts *o)
{
	msgpack_unpacked r;
	const msgpack_object *res;
	uint64_t pid = 0;

	spawn(c, "p1");
	T_CHECK(configure(c, o, &r) == 1);
	res = mp_get(&r.data, "result");
	T_CHECK(res != NULL && mp_get_uint(res, "pid", &pid) == 0 &&
	    pid == (uint64_t)c->pid);
	msgpack_unpacked_destroy(&r);
}

/* A simple request; returns the reply's ok. */
static int
request(struct ctx *c, const char *op, const char *key, uint64_t val,
    msgpack_unpacked *reply)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint64_t id = c->next_id++;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	mp_request(&pk, id, op, key ? 1 : 0);
	if (key)
		mp_kv_uint(&pk, key, val);
	send_frame(c, &sb);
	msgpack_sbuffer_destroy(&sb);
	return recv_reply(c, reply, id);
}

static int
request_simple(struct ctx *c, const char *op, const char *key, uint64_t val)
{
	msgpack_unpacked r;
	int ok = request(c, op, key, val, &r);

	msgpack_unpacked_destroy(&r);
	return ok;
}

/* Wait up to ms for the next sample of our slot. */
static int
next_sample(struct ctx *c, struct vigil_sample *s, int ms)
{
	uint64_t end = ms_now() + (uint64_t)ms;

	do {
		if (vigil_read_samples(&c->cli, SLOT, &c->cur, s, 1) == 1)
			return 1;
		usleep(5000);
	} while (ms_now() < end);
	return 0;
}

static uint64_t
ring_head(struct ctx *c)
{
	return atomic_load(&seg_sample_ring(&c->seg, SLOT)->head);
}

/* Exit status of the prober within ms, or -1. */
static int
wait_exit(struct ctx *c, int ms)
{
	uint64_t end = ms_now() + (uint64_t)ms;
	int st;

	do {
		if (waitpid(c->pid, &st, WNOHANG) == c->pid) {
			c->pid = -1;
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 +
			    WTERMSIG(st);
		}
		usleep(10000);
	} while (ms_now() < end);
	return -1;
}

static int
log_contains(struct ctx *c, const char *needle)
{
	char buf[65536];
	ssize_t n;
	int fd = open(c->errlog, O_RDONLY);

	if (fd == -1)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return strstr(buf, needle) != NULL;
}

/* Start with opts, expect the first sample's outcome. */
static void
expect_outcome(const struct popts *o, int outcome, uint16_t status,
    const char *err, struct vigil_sample *out)
{
	struct ctx c;
	struct vigil_sample s;

	ctx_init(&c);
	start(&c, o);
	T_CHECK(next_sample(&c, &s, 8000) == 1);
	T_CHECKF(s.outcome == outcome, "outcome %s want %s (%.20s)",
	    vigil_outcome_name(s.outcome), vigil_outcome_name(
	    (unsigned)outcome), s.error);
	T_CHECKF(s.http_status == status, "status %u", s.http_status);
	if (err != NULL)
		T_CHECKF(strncmp(s.error, err, sizeof(s.error)) == 0,
		    "error %.20s want %s", s.error, err);
	T_CHECK(!log_contains(&c, GOOD_KEY));
	if (out != NULL)
		*out = s;
	ctx_done(&c);
}

static void
test_exec_ok(void)
{
	struct popts o = { .mode = "ok" };
	struct vigil_ring_ctl *rc;
	struct vigil_sample s, s2;
	struct ctx c;
	uint64_t wall = now_wall_ns();

	ctx_init(&c);
	start(&c, &o);
	rc = seg_sample_ring(&c.seg, SLOT);
	T_CHECK(next_sample(&c, &s, 5000) == 1);
	T_CHECK(s.outcome == VIGIL_OUT_OK);
	T_CHECK(s.http_status == 200);
	T_CHECK(s.error[0] == '\0');
	T_CHECK(s.latency_us > 0 && s.latency_us < 2000000);
	T_CHECK(s.ttfb_us <= s.latency_us);
	T_CHECK(s.bytes == strlen("{\"object\":\"list\",\"data\":[{\"id\":"
	    "\"m\"}]}"));
	T_CHECK(s.wall_ns >= wall - 1000000000ull &&
	    s.wall_ns < now_wall_ns());
	T_CHECK((s.flags & (VIGIL_SF_MANUAL | VIGIL_SF_GENERATION)) == 0);
	T_CHECK(atomic_load(&rc->epoch) == EPOCH);
	T_CHECK(atomic_load(&rc->beat_ns) != 0);
	T_CHECK(vigil_prober_age_ns(&c.cli, SLOT) < 3000000000ull);
	/* The schedule keeps going; samples are spaced by the interval. */
	T_CHECK(next_sample(&c, &s2, 5000) == 1);
	T_CHECK(s2.outcome == VIGIL_OUT_OK);
	T_CHECKF(s2.mono_ns - s.mono_ns >= 250000000ull, "spacing %llu",
	    (unsigned long long)(s2.mono_ns - s.mono_ns));
	/* One connection, kept alive across checks (DESIGN.md pitfall). */
	T_CHECK(next_sample(&c, &s2, 5000) == 1);
	T_CHECK(next_sample(&c, &s2, 5000) == 1);
	T_CHECKF(atomic_load(accepts) == 1, "%u connections",
	    atomic_load(accepts));
	T_CHECK(s2.connect_us == 0 || s2.connect_us < s2.latency_us);
	/* The secret is never logged, even at debug level. */
	T_CHECK(!log_contains(&c, GOOD_KEY));
	T_CHECK(log_contains(&c, "prober p1"));
	ctx_done(&c);
}

static void
test_exec_auth(void)
{
	struct popts o = { .mode = "ok", .key = "sk-wrong-key" };

	expect_outcome(&o, VIGIL_OUT_AUTH, 401, "http:401", NULL);
}

static void
test_exec_timeout(void)
{
	struct popts o = { .mode = "hang", .timeout_ms = 500,
	    .interval_ms = 5000 };
	struct vigil_sample s;

	expect_outcome(&o, VIGIL_OUT_TIMEOUT, 0, "curl:28", &s);
	/* At the configured timeout, not later. */
	T_CHECKF(s.latency_us >= 490000 && s.latency_us <= 800000,
	    "latency %u us", s.latency_us);
}

static void
test_exec_rate_limited(void)
{
	struct popts o = { .mode = "limit", .interval_ms = 200 };
	struct vigil_sample s, s2;
	struct ctx c;

	ctx_init(&c);
	start(&c, &o);
	T_CHECK(next_sample(&c, &s, 5000) == 1);
	T_CHECK(s.outcome == VIGIL_OUT_RATE_LIMITED && s.http_status == 429);
	T_CHECK(strncmp(s.error, "http:429", sizeof(s.error)) == 0);
	/* Retry-After: 2 beats the 200 ms interval. */
	T_CHECK(next_sample(&c, &s2, 5000) == 1);
	T_CHECKF(s2.mono_ns - s.mono_ns >= 1900000000ull, "gap %llu ms",
	    (unsigned long long)(s2.mono_ns - s.mono_ns) / 1000000);
	ctx_done(&c);
}

static void
test_exec_garbage(void)
{
	struct popts o = { .mode = "garbage" };

	expect_outcome(&o, VIGIL_OUT_BAD_RESPONSE, 200, "body:shape", NULL);
}

static void
test_exec_connect(void)
{
	char base[64];
	int port, fd = bind_free(&port);
	struct popts o = { .base = base };

	close(fd);	/* nobody listens there now */
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
	expect_outcome(&o, VIGIL_OUT_CONNECT, 0, "curl:7", NULL);
}

static void
test_exec_dns(void)
{
	struct popts o = { .base = "http://nonexistent.invalid",
	    .timeout_ms = 5000, .interval_ms = 10000 };

	expect_outcome(&o, VIGIL_OUT_DNS, 0, "curl:6", NULL);
}

static void
test_exec_probe_now(void)
{
	struct popts o = { .mode = "ok", .interval_ms = 60000 };
	const msgpack_object *res;
	struct vigil_sample s, s2;
	msgpack_unpacked r;
	struct ctx c;
	char outcome[32] = "", err[32] = "x";
	uint64_t wall = 0, status = 0;
	double lat = -1;

	ctx_init(&c);
	start(&c, &o);
	T_CHECK(next_sample(&c, &s, 5000) == 1);	/* the first, < 1 s */
	T_CHECK(request(&c, "probe_now", NULL, 0, &r) == 1);
	res = mp_get(&r.data, "result");
	T_CHECK(res != NULL);
	T_CHECK(mp_get_str(res, "outcome", outcome, sizeof(outcome)) == 0 &&
	    strcmp(outcome, "ok") == 0);
	T_CHECK(mp_get_uint(res, "http_status", &status) == 0 &&
	    status == 200);
	T_CHECK(mp_get_double(res, "latency_ms", &lat) == 0 && lat > 0);
	T_CHECK(mp_get_str(res, "error", err, sizeof(err)) == 0 &&
	    err[0] == '\0');
	T_CHECK(mp_get_uint(res, "wall_ns", &wall) == 0 && wall > s.wall_ns);
	msgpack_unpacked_destroy(&r);
	/* The fresh sample is in the ring too, marked manual. */
	T_CHECK(next_sample(&c, &s2, 1000) == 1);
	T_CHECK(s2.wall_ns == wall && (s2.flags & VIGIL_SF_MANUAL));
	/* ping and an unknown op */
	T_CHECK(request_simple(&c, "ping", NULL, 0) == 1);
	T_CHECK(request_simple(&c, "frobnicate", NULL, 0) == 0);
	T_CHECK(request_simple(&c, "set_interval", "interval_ms", 1) == 0);
	ctx_done(&c);
}

static void
test_exec_pause_resume(void)
{
	struct popts o = { .mode = "ok", .interval_ms = 150 };
	struct vigil_sample s;
	struct ctx c;
	uint64_t h;

	ctx_init(&c);
	start(&c, &o);
	T_CHECK(next_sample(&c, &s, 5000) == 1);
	T_CHECK(next_sample(&c, &s, 5000) == 1);
	T_CHECK(request_simple(&c, "pause", NULL, 0) == 1);
	usleep(300000);		/* a check in flight may still land */
	h = ring_head(&c);
	usleep(1000000);
	T_CHECKF(ring_head(&c) == h, "head moved %llu -> %llu while paused",
	    (unsigned long long)h, (unsigned long long)ring_head(&c));
	/* The heartbeat goes on while paused. */
	T_CHECK(vigil_prober_age_ns(&c.cli, SLOT) < 2500000000ull);
	T_CHECK(request_simple(&c, "resume", NULL, 0) == 1);
	vigil_samples_tail(&c.cli, SLOT, &c.cur, 0);
	T_CHECK(next_sample(&c, &s, 3000) == 1);
	T_CHECK(next_sample(&c, &s, 3000) == 1);
	ctx_done(&c);
}

static void
test_exec_set_interval(void)
{
	struct popts o = { .mode = "ok", .interval_ms = 60000 };
	struct vigil_sample s;
	struct ctx c;
	int i;

	ctx_init(&c);
	start(&c, &o);
	T_CHECK(next_sample(&c, &s, 5000) == 1);
	/* At 60 s nothing more would come for a minute. */
	T_CHECK(request_simple(&c, "set_interval", "interval_ms", 150) == 1);
	for (i = 0; i < 4; i++)
		T_CHECKF(next_sample(&c, &s, 3000) == 1, "sample %d", i);
	ctx_done(&c);
}

static void
test_exec_fast_probe(void)
{
	struct popts o = { .mode = "ok", .interval_ms = 3000, .fast = 10 };
	struct vigil_stats st;
	struct vigil_sample s;
	struct ctx c;
	int i;

	ctx_init(&c);
	/* The aggregator's judgement: circuit open. */
	memset(&st, 0, sizeof(st));
	st.updated_wall_ns = now_wall_ns();
	st.circuit = VIGIL_CB_OPEN;
	seqlock_write(seg_stats(&c.seg, SLOT), &st, VIGIL_WORDS(st));
	start(&c, &o);
	T_CHECK(next_sample(&c, &s, 5000) == 1);
	/* 10% of 3 s: about every 300 ms, not every 3 s. */
	for (i = 0; i < 3; i++)
		T_CHECKF(next_sample(&c, &s, 1500) == 1, "sample %d", i);
	ctx_done(&c);
}

static void
test_exec_generation(void)
{
	struct popts o = { .mode = "gen", .interval_ms = 60000,
	    .gen_model = "gpt-test", .gen_interval_ms = 200 };
	struct vigil_sample s;
	struct ctx c;
	int i, gen = 0;

	ctx_init(&c);
	start(&c, &o);
	for (i = 0; i < 6 && gen == 0; i++) {
		if (next_sample(&c, &s, 3000) != 1)
			break;
		if (s.flags & VIGIL_SF_GENERATION) {
			gen = 1;
			T_CHECKF(s.outcome == VIGIL_OUT_OK, "%s %.20s",
			    vigil_outcome_name(s.outcome), s.error);
			T_CHECKF(s.ttfb_us > 0 && s.ttfb_us <= s.latency_us,
			    "ttfb %u latency %u", s.ttfb_us, s.latency_us);
		}
	}
	T_CHECK(gen);
	ctx_done(&c);
}

static void
test_exec_sigterm(void)
{
	struct popts o = { .mode = "ok" };
	struct vigil_sample s;
	struct ctx c;

	ctx_init(&c);
	start(&c, &o);
	T_CHECK(next_sample(&c, &s, 5000) == 1);
	kill(c.pid, SIGTERM);
	T_CHECK(wait_exit(&c, 5000) == 0);
	ctx_done(&c);
}

static void
test_exec_sigterm_mid_check(void)
{
	struct popts o = { .mode = "hang", .timeout_ms = 10000 };
	struct ctx c;

	ctx_init(&c);
	start(&c, &o);
	usleep(1200000);	/* the first check is hanging by now */
	kill(c.pid, SIGTERM);
	T_CHECK(wait_exit(&c, 3000) == 0);
	ctx_done(&c);
}

static void
test_exec_eof(void)
{
	struct popts o = { .mode = "ok" };
	struct ctx c;

	ctx_init(&c);
	start(&c, &o);
	close(c.ctl);
	c.ctl = -1;
	T_CHECK(wait_exit(&c, 5000) == 0);
	ctx_done(&c);
}

static void
test_exec_bad_config(void)
{
	struct popts o = { .mode = "ok", .kind = "bogus" };
	const msgpack_object *e;
	msgpack_unpacked r;
	struct ctx c;
	char code[32] = "";

	ctx_init(&c);
	spawn(&c, "p1");
	T_CHECK(configure(&c, &o, &r) == 0);
	e = mp_get(&r.data, "error");
	T_CHECK(e != NULL && mp_get_str(e, "code", code, sizeof(code)) == 0 &&
	    strcmp(code, "config") == 0);
	msgpack_unpacked_destroy(&r);
	T_CHECK(wait_exit(&c, 5000) == 125);
	T_CHECK(ring_head(&c) == 0);

	/* A base URL that is not http(s) is refused the same way. */
	o.kind = NULL;
	o.base = "ftp://example.com";
	spawn(&c, "p1");
	T_CHECK(configure(&c, &o, &r) == 0);
	msgpack_unpacked_destroy(&r);
	T_CHECK(wait_exit(&c, 5000) == 125);
	ctx_done(&c);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	T_RUN(test_exec_ok);
	T_RUN(test_exec_auth);
	T_RUN(test_exec_timeout);
	T_RUN(test_exec_rate_limited);
	T_RUN(test_exec_garbage);
	T_RUN(test_exec_connect);
	T_RUN(test_exec_dns);
	T_RUN(test_exec_probe_now);
	T_RUN(test_exec_pause_resume);
	T_RUN(test_exec_set_interval);
	T_RUN(test_exec_fast_probe);
	T_RUN(test_exec_generation);
	T_RUN(test_exec_sigterm);
	T_RUN(test_exec_sigterm_mid_check);
	T_RUN(test_exec_eof);
	T_RUN(test_exec_bad_config);
	return t_done();
}
