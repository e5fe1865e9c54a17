/*
 * child.c - a child's side of the control channel with vigild.
 *
 * One buffer per channel, grown as frames need (a prober serves a few
 * bytes a minute; a frame may be up to FRAME_MAX), and wiped before it
 * is freed or moved: the configure frame of a prober holds its secret.
 * Requests are served in order, each answered with its id.  Library
 * code: never logs, never exits.
 */
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "child.h"
#include "frame.h"
#include "log.h"

#define CHILD_READ	4096	/* room asked of the buffer per read */

static int	child_grow(struct child *, size_t);
static int	child_reply(struct child *, uint64_t, const char *,
		    const char *, int);
static int	child_recv(struct child *);
static int	child_next(struct child *, msgpack_unpacked *, size_t *);
static void	child_drop(struct child *, size_t);
static void	child_serve(struct child *, const msgpack_object *);
static void	child_ping(struct child *, uint64_t, const msgpack_object *,
		    void *);
static void	child_set_log_level(struct child *, uint64_t,
		    const msgpack_object *, void *);
static void	child_event_cb(evutil_socket_t, short, void *);
static int64_t	child_now_ms(void);

static const struct child_op child_builtin[] = {
	{ "ping", child_ping },
	{ "set_log_level", child_set_log_level },
};

void
child_init(struct child *ch, int fd, const struct child_op *ops,
    size_t nops, void *arg)
{
	memset(ch, 0, sizeof(*ch));
	ch->fd = fd;
	ch->ops = ops;
	ch->nops = nops;
	ch->arg = arg;
	ch->status = CHILD_OK;
}

void
child_free(struct child *ch)
{
	if (ch->ev != NULL)
		event_free(ch->ev);
	ch->ev = NULL;
	if (ch->buf != NULL) {
		explicit_bzero(ch->buf, ch->cap);
		free(ch->buf);
	}
	ch->buf = NULL;
	ch->len = ch->cap = 0;
}

/*
 * Room for n more bytes.  A new buffer rather than realloc: the old one
 * is wiped before it is freed (realloc would free a copy we could not).
 */
static int
child_grow(struct child *ch, size_t n)
{
	unsigned char *nb;
	size_t ncap;

	if (ch->cap - ch->len >= n)
		return 0;
	ncap = ch->cap ? ch->cap : CHILD_READ;
	while (ncap - ch->len < n)
		ncap *= 2;
	if ((nb = malloc(ncap)) == NULL)
		return -1;
	if (ch->buf != NULL) {
		memcpy(nb, ch->buf, ch->len);
		explicit_bzero(ch->buf, ch->cap);
		free(ch->buf);
	}
	ch->buf = nb;
	ch->cap = ncap;
	return 0;
}

/* One read of what fd has.  CHILD_OK (maybe nothing), EOF or ERR. */
static int
child_recv(struct child *ch)
{
	ssize_t n;

	if (ch->len >= FRAME_HDR + FRAME_MAX) {
		snprintf(ch->err, sizeof(ch->err), "control: frame too large");
		return CHILD_ERR;
	}
	if (child_grow(ch, CHILD_READ) == -1) {
		snprintf(ch->err, sizeof(ch->err), "control: out of memory");
		return CHILD_ERR;
	}
	n = recv(ch->fd, ch->buf + ch->len, ch->cap - ch->len, MSG_DONTWAIT);
	if (n == 0)
		return CHILD_EOF;
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return CHILD_OK;
		snprintf(ch->err, sizeof(ch->err), "control: %s",
		    strerror(errno));
		return CHILD_ERR;
	}
	ch->len += (size_t)n;
	return CHILD_OK;
}

/* The next whole frame: 1 (msg and *used set), 0 (more needed), -1. */
static int
child_next(struct child *ch, msgpack_unpacked *msg, size_t *used)
{
	char why[128];
	int rc;

	msgpack_unpacked_init(msg);
	rc = frame_parse(ch->buf, ch->len, used, msg, why, sizeof(why));
	if (rc == FRAME_OK)
		return 1;
	msgpack_unpacked_destroy(msg);
	if (rc == FRAME_MORE)
		return 0;
	snprintf(ch->err, sizeof(ch->err), "control: bad frame: %s", why);
	return -1;
}

/* Forget the first used bytes, wiped. */
static void
child_drop(struct child *ch, size_t used)
{
	explicit_bzero(ch->buf, used);
	memmove(ch->buf, ch->buf + used, ch->len - used);
	ch->len -= used;
	explicit_bzero(ch->buf + ch->len, used);
}

static int64_t
child_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
child_configure(struct child *ch, int timeout_ms, child_configure_fn fn,
    void *arg, char *err, size_t errlen)
{
	msgpack_unpacked msg;
	struct pollfd pfd;
	const msgpack_object *args;
	int64_t deadline = child_now_ms() + timeout_ms, left;
	size_t used = 0;
	char why[200];
	int rc, have_id;

	for (;;) {
		if ((rc = child_next(ch, &msg, &used)) == 1)
			break;
		if (rc == -1) {
			snprintf(err, errlen, "%s", ch->err);
			return CHILD_ERR;
		}
		if ((left = deadline - child_now_ms()) <= 0) {
			snprintf(err, errlen, "no configure request within "
			    "%d ms", timeout_ms);
			return CHILD_ERR;
		}
		pfd.fd = ch->fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)left) == -1 && errno != EINTR) {
			snprintf(err, errlen, "control: poll: %s",
			    strerror(errno));
			return CHILD_ERR;
		}
		if ((rc = child_recv(ch)) == CHILD_EOF)
			return CHILD_EOF;
		if (rc == CHILD_ERR) {
			snprintf(err, errlen, "%s", ch->err);
			return CHILD_ERR;
		}
	}

	rc = CHILD_ERR;
	have_id = mp_get_uint(&msg.data, "id", &ch->cfg_id) == 0;
	if (!have_id)
		snprintf(err, errlen, "configure: no id");
	else if (!mp_streq(mp_get(&msg.data, "op"), "configure"))
		snprintf(err, errlen, "the first request must be configure");
	else if ((args = mp_get(&msg.data, "args")) == NULL ||
	    args->type != MSGPACK_OBJECT_MAP)
		snprintf(err, errlen, "configure: args must be a map");
	else if (fn(args, arg, why, sizeof(why)) == -1)
		snprintf(err, errlen, "configure: %s", why);
	else
		rc = CHILD_OK;
	msgpack_unpacked_destroy(&msg);
	child_drop(ch, used);
	if (rc == CHILD_ERR && have_id)
		(void)child_fail(ch, "config", err);
	return rc;
}

/*
 * An error reply {code, message} (code not NULL), or ok with {} or, for
 * configure, {"pid"}.
 */
static int
child_reply(struct child *ch, uint64_t id, const char *code, const char *msg,
    int with_pid)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int rc;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	if (code != NULL)
		mp_reply_err(&pk, id, code, msg);
	else {
		mp_reply_ok(&pk, id);
		msgpack_pack_map(&pk, with_pid ? 1 : 0);
		if (with_pid)
			mp_kv_uint(&pk, "pid", (uint64_t)getpid());
	}
	rc = child_send(ch, &sb);
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

int
child_ready(struct child *ch)
{
	return child_reply(ch, ch->cfg_id, NULL, NULL, 1);
}

int
child_fail(struct child *ch, const char *code, const char *msg)
{
	return child_reply(ch, ch->cfg_id, code, msg, 0);
}

int
child_reply_ok(struct child *ch, uint64_t id)
{
	return child_reply(ch, id, NULL, NULL, 0);
}

int
child_reply_err(struct child *ch, uint64_t id, const char *code,
    const char *msg)
{
	return child_reply(ch, id, code, msg, 0);
}

/* Blocking: replies are small and vigild reads them promptly. */
int
child_send(struct child *ch, const msgpack_sbuffer *sb)
{
	char why[128];

	if (frame_send(ch->fd, sb->data, sb->size, why, sizeof(why)) == -1) {
		snprintf(ch->err, sizeof(ch->err), "control: reply: %s", why);
		return -1;
	}
	return 0;
}

/* One request: the role's op of that name, else a built-in one. */
static void
child_serve(struct child *ch, const msgpack_object *m)
{
	static const msgpack_object empty = { .type = MSGPACK_OBJECT_MAP };
	const msgpack_object *op, *args;
	uint64_t id;
	size_t i;

	if (mp_get_uint(m, "id", &id) != 0)
		return;		/* nothing to answer to */
	op = mp_get(m, "op");
	if ((args = mp_get(m, "args")) == NULL)
		args = &empty;
	if (op == NULL || op->type != MSGPACK_OBJECT_STR) {
		(void)child_reply_err(ch, id, "bad_request", "op: missing or "
		    "not a string");
		return;
	}
	if (args->type != MSGPACK_OBJECT_MAP) {
		(void)child_reply_err(ch, id, "bad_request", "args: not a map");
		return;
	}
	for (i = 0; i < ch->nops; i++)
		if (mp_streq(op, ch->ops[i].name)) {
			ch->ops[i].fn(ch, id, args, ch->arg);
			return;
		}
	for (i = 0; i < sizeof(child_builtin) / sizeof(child_builtin[0]); i++)
		if (mp_streq(op, child_builtin[i].name)) {
			child_builtin[i].fn(ch, id, args, ch->arg);
			return;
		}
	(void)child_reply_err(ch, id, "unknown_op", "unknown operation");
}

static void
child_ping(struct child *ch, uint64_t id, const msgpack_object *args,
    void *arg)
{
	(void)args;
	(void)arg;
	(void)child_reply_ok(ch, id);
}

/* set_log_level {log_level}: a reload changed it; nobody restarts. */
static void
child_set_log_level(struct child *ch, uint64_t id, const msgpack_object *args,
    void *arg)
{
	uint64_t v;

	(void)arg;
	if (mp_get_uint(args, "log_level", &v) != 0 || v > LOG_LVL_DEBUG) {
		(void)child_reply_err(ch, id, "bad_request", "log_level must "
		    "be 0..2");
		return;
	}
	log_setlevel((int)v);
	(void)child_reply_ok(ch, id);
}

int
child_dispatch(struct child *ch)
{
	msgpack_unpacked msg;
	size_t used;
	int rc;

	while ((rc = child_next(ch, &msg, &used)) == 1) {
		child_serve(ch, &msg.data);
		msgpack_unpacked_destroy(&msg);
		child_drop(ch, used);
	}
	return rc == -1 ? CHILD_ERR : CHILD_OK;
}

int
child_read(struct child *ch)
{
	int rc;

	if ((rc = child_recv(ch)) != CHILD_OK)
		return rc;
	return child_dispatch(ch);
}

static void
child_event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct child *ch = arg;
	int rc;

	(void)fd;
	(void)what;
	if ((rc = child_read(ch)) == CHILD_OK)
		return;
	ch->status = rc;
	event_del(ch->ev);
	event_base_loopbreak(ch->base);
}

int
child_watch(struct child *ch, struct event_base *base)
{
	ch->base = base;
	if ((ch->ev = event_new(base, ch->fd, EV_READ | EV_PERSIST,
	    child_event_cb, ch)) == NULL || event_add(ch->ev, NULL) == -1)
		return -1;
	/* Requests that came with the configure frame: served from the
	 * loop, where a malformed one can break it. */
	if (ch->len > 0)
		event_active(ch->ev, EV_READ, 0);
	return 0;
}
