/*
 * test_child.c - common/child.c, the child's side of the control channel,
 * against a fake vigild on a socketpair: configure (ok, refused, not
 * first, timeout, EOF), a request sent with configure, the op table and
 * the built-in ping and set_log_level, an unknown op, a request without
 * op or with args that are not a map, a malformed frame, EOF.  The child
 * runs in a forked process and exits as a vigil child would: 0 on EOF,
 * 1 on a broken channel, EXIT_PERMANENT when configure failed.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <msgpack.h>

#include "t.h"
#include "child.h"
#include "frame.h"
#include "log.h"

struct fake {
	int	 fd;		/* vigild's end */
	pid_t	 pid;
};

static uint64_t	configured;	/* in the child: configure's "n" */

/* echo {n}: ok {n, level}, the log level after set_log_level. */
static void
op_echo(struct child *ch, uint64_t id, const msgpack_object *args, void *arg)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint64_t n = 0;

	(void)arg;
	(void)mp_get_uint(args, "n", &n);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	mp_reply_ok(&pk, id);
	msgpack_pack_map(&pk, 3);
	mp_kv_uint(&pk, "n", n);
	mp_kv_uint(&pk, "level", (uint64_t)log_getlevel());
	mp_kv_uint(&pk, "configured", configured);
	(void)child_send(ch, &sb);
	msgpack_sbuffer_destroy(&sb);
}

static const struct child_op ops[] = {
	{ "echo", op_echo },
};

/* configure {n}: n = 0 is refused. */
static int
apply(const msgpack_object *args, void *arg, char *err, size_t errlen)
{
	(void)arg;
	if (mp_get_uint(args, "n", &configured) != 0 || configured == 0) {
		snprintf(err, errlen, "n: missing or 0");
		return -1;
	}
	return 0;
}

/* The child process: what every vigil child's main does. */
static void
child_main(int fd, int timeout_ms)
{
	struct event_base *base;
	struct child ch;
	char err[256];
	int rc;

	log_init("test_child", LOG_LVL_WARN);
	child_init(&ch, fd, ops, sizeof(ops) / sizeof(ops[0]), NULL);
	rc = child_configure(&ch, timeout_ms, apply, NULL, err, sizeof(err));
	if (rc == CHILD_EOF)
		_exit(0);
	if (rc == CHILD_ERR)
		_exit(EXIT_PERMANENT);
	if ((base = event_base_new()) == NULL || child_ready(&ch) == -1 ||
	    child_watch(&ch, base) == -1)
		_exit(3);
	event_base_dispatch(base);
	rc = ch.status;
	child_free(&ch);
	event_base_free(base);
	_exit(rc == CHILD_EOF ? 0 : rc == CHILD_ERR ? 1 : 4);
}

static void
start(struct fake *f, int timeout_ms)
{
	int sv[2];

	T_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	f->pid = fork();
	T_CHECK(f->pid != -1);
	if (f->pid == 0) {
		close(sv[0]);
		child_main(sv[1], timeout_ms);
	}
	close(sv[1]);
	f->fd = sv[0];
}

static int
wait_exit(struct fake *f)
{
	int st;

	if (f->fd != -1)
		close(f->fd);
	f->fd = -1;
	T_CHECK(waitpid(f->pid, &st, 0) == f->pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* A request {id, op, args: {n}} (n < 0: no args; op NULL: no op). */
static void
pack_req(msgpack_sbuffer *sb, uint64_t id, const char *op, int64_t n)
{
	msgpack_packer pk;

	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1 + (op != NULL) + (n >= 0));
	mp_kv_uint(&pk, "id", id);
	if (op != NULL)
		mp_kv_str(&pk, "op", op);
	if (n >= 0) {
		mp_str(&pk, "args");
		msgpack_pack_map(&pk, 2);
		mp_kv_uint(&pk, "n", (uint64_t)n);
		mp_kv_uint(&pk, "log_level", (uint64_t)n);
	}
}

static void
send_req(struct fake *f, uint64_t id, const char *op, int64_t n)
{
	msgpack_sbuffer sb;
	char err[128];

	msgpack_sbuffer_init(&sb);
	pack_req(&sb, id, op, n);
	T_CHECK(frame_send(f->fd, sb.data, sb.size, err, sizeof(err)) == 0);
	msgpack_sbuffer_destroy(&sb);
}

/* The next reply: 1 ok, 0 error (code filled), -1 none. */
static int
reply(struct fake *f, uint64_t id, msgpack_unpacked *u, char *code,
    size_t len)
{
	const msgpack_object *e;
	uint64_t rid;
	char err[128];
	int ok;

	msgpack_unpacked_init(u);
	if (frame_recv(f->fd, 5000, u, err, sizeof(err)) != FRAME_OK)
		return -1;
	T_CHECK(mp_get_uint(&u->data, "id", &rid) == 0 && rid == id);
	T_CHECK(mp_get_bool(&u->data, "ok", &ok) == 0);
	if (!ok && code != NULL && (e = mp_get(&u->data, "error")) != NULL)
		(void)mp_get_str(e, "code", code, len);
	return ok;
}

static int
reply_code(struct fake *f, uint64_t id, char *code, size_t len)
{
	msgpack_unpacked u;
	int rc;

	code[0] = '\0';
	rc = reply(f, id, &u, code, len);
	msgpack_unpacked_destroy(&u);
	return rc;
}

/* Configure, then a request that came in the same write. */
static void
test_configure_ok(void)
{
	msgpack_sbuffer sb;
	msgpack_unpacked u;
	const msgpack_object *r;
	struct fake f;
	unsigned char hdr[FRAME_HDR];
	uint64_t pid = 0, n = 0, c = 0;
	char buf[512];
	size_t len = 0;

	start(&f, 5000);
	/* Both frames in one write: the second waits in the buffer. */
	msgpack_sbuffer_init(&sb);
	pack_req(&sb, 1, "configure", 7);
	frame_header(hdr, sb.size);
	memcpy(buf, hdr, FRAME_HDR);
	memcpy(buf + FRAME_HDR, sb.data, sb.size);
	len = FRAME_HDR + sb.size;
	msgpack_sbuffer_clear(&sb);
	pack_req(&sb, 2, "echo", 42);
	frame_header(hdr, sb.size);
	memcpy(buf + len, hdr, FRAME_HDR);
	memcpy(buf + len + FRAME_HDR, sb.data, sb.size);
	len += FRAME_HDR + sb.size;
	msgpack_sbuffer_destroy(&sb);
	T_CHECK(write(f.fd, buf, len) == (ssize_t)len);

	T_CHECK(reply(&f, 1, &u, NULL, 0) == 1);
	r = mp_get(&u.data, "result");
	T_CHECK(r != NULL && mp_get_uint(r, "pid", &pid) == 0 &&
	    pid == (uint64_t)f.pid);
	msgpack_unpacked_destroy(&u);
	T_CHECK(reply(&f, 2, &u, NULL, 0) == 1);
	r = mp_get(&u.data, "result");
	T_CHECK(r != NULL && mp_get_uint(r, "n", &n) == 0 && n == 42);
	T_CHECK(mp_get_uint(r, "configured", &c) == 0 && c == 7);
	msgpack_unpacked_destroy(&u);
	/* EOF: a clean exit. */
	T_CHECK(wait_exit(&f) == 0);
}

/* The op table, the built-ins, the errors a request can earn. */
static void
test_ops(void)
{
	msgpack_unpacked u;
	const msgpack_object *r;
	struct fake f;
	char code[32];
	uint64_t lvl = 9;

	start(&f, 5000);
	send_req(&f, 1, "configure", 1);
	T_CHECK(reply_code(&f, 1, code, sizeof(code)) == 1);
	send_req(&f, 2, "ping", -1);
	T_CHECK(reply_code(&f, 2, code, sizeof(code)) == 1);
	send_req(&f, 3, "set_log_level", LOG_LVL_DEBUG);
	T_CHECK(reply_code(&f, 3, code, sizeof(code)) == 1);
	send_req(&f, 4, "echo", 5);
	T_CHECK(reply(&f, 4, &u, NULL, 0) == 1);
	r = mp_get(&u.data, "result");
	T_CHECK(r != NULL && mp_get_uint(r, "level", &lvl) == 0 &&
	    lvl == LOG_LVL_DEBUG);
	msgpack_unpacked_destroy(&u);
	send_req(&f, 5, "set_log_level", 3);
	T_CHECK(reply_code(&f, 5, code, sizeof(code)) == 0 &&
	    strcmp(code, "bad_request") == 0);
	send_req(&f, 6, "frobnicate", -1);
	T_CHECK(reply_code(&f, 6, code, sizeof(code)) == 0 &&
	    strcmp(code, "unknown_op") == 0);
	send_req(&f, 7, NULL, -1);
	T_CHECK(reply_code(&f, 7, code, sizeof(code)) == 0 &&
	    strcmp(code, "bad_request") == 0);
	{
		msgpack_sbuffer sb;
		msgpack_packer pk;
		char err[128];

		/* args not a map */
		msgpack_sbuffer_init(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		msgpack_pack_map(&pk, 3);
		mp_kv_uint(&pk, "id", 8);
		mp_kv_str(&pk, "op", "ping");
		mp_kv_uint(&pk, "args", 1);
		T_CHECK(frame_send(f.fd, sb.data, sb.size, err,
		    sizeof(err)) == 0);
		msgpack_sbuffer_clear(&sb);
		/* no id: nothing to answer; the next one still is */
		msgpack_pack_map(&pk, 1);
		mp_kv_str(&pk, "op", "ping");
		T_CHECK(frame_send(f.fd, sb.data, sb.size, err,
		    sizeof(err)) == 0);
		msgpack_sbuffer_destroy(&sb);
	}
	T_CHECK(reply_code(&f, 8, code, sizeof(code)) == 0 &&
	    strcmp(code, "bad_request") == 0);
	send_req(&f, 9, "ping", -1);
	T_CHECK(reply_code(&f, 9, code, sizeof(code)) == 1);
	T_CHECK(wait_exit(&f) == 0);
}

/* A malformed frame after configure ends the channel: exit 1. */
static void
test_bad_frame(void)
{
	static const unsigned char junk[] = { 0, 0, 0, 3, 0xc1, 0xc1, 0xc1 };
	static const unsigned char huge[] = { 0xff, 0xff, 0xff, 0xff };
	struct fake f;
	char code[32];

	start(&f, 5000);
	send_req(&f, 1, "configure", 1);
	T_CHECK(reply_code(&f, 1, code, sizeof(code)) == 1);
	T_CHECK(write(f.fd, junk, sizeof(junk)) == (ssize_t)sizeof(junk));
	T_CHECK(wait_exit(&f) == 1);

	start(&f, 5000);
	send_req(&f, 1, "configure", 1);
	T_CHECK(reply_code(&f, 1, code, sizeof(code)) == 1);
	T_CHECK(write(f.fd, huge, sizeof(huge)) == (ssize_t)sizeof(huge));
	T_CHECK(wait_exit(&f) == 1);
}

/* Configure refused, not first, never sent, or EOF first. */
static void
test_configure_fails(void)
{
	static const unsigned char junk[] = { 0, 0, 0, 1, 0xc1 };
	struct fake f;
	char code[32];

	start(&f, 5000);
	send_req(&f, 1, "configure", 0);
	T_CHECK(reply_code(&f, 1, code, sizeof(code)) == 0 &&
	    strcmp(code, "config") == 0);
	T_CHECK(wait_exit(&f) == EXIT_PERMANENT);

	start(&f, 5000);
	send_req(&f, 4, "ping", -1);
	T_CHECK(reply_code(&f, 4, code, sizeof(code)) == 0 &&
	    strcmp(code, "config") == 0);
	T_CHECK(wait_exit(&f) == EXIT_PERMANENT);

	start(&f, 5000);
	send_req(&f, 5, "configure", -1);	/* no args */
	T_CHECK(reply_code(&f, 5, code, sizeof(code)) == 0 &&
	    strcmp(code, "config") == 0);
	T_CHECK(wait_exit(&f) == EXIT_PERMANENT);

	start(&f, 5000);
	T_CHECK(write(f.fd, junk, sizeof(junk)) == (ssize_t)sizeof(junk));
	T_CHECK(wait_exit(&f) == EXIT_PERMANENT);

	start(&f, 200);		/* nothing within 200 ms */
	usleep(600000);
	T_CHECK(wait_exit(&f) == EXIT_PERMANENT);

	start(&f, 5000);	/* vigild gone before a word */
	T_CHECK(wait_exit(&f) == 0);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	T_RUN(test_configure_ok);
	T_RUN(test_ops);
	T_RUN(test_bad_frame);
	T_RUN(test_configure_fails);
	return t_done();
}
