/*
 * ctl.c - vigil-api's side of the socketpair with vigild (fd 4).
 *
 * Frames as in DESIGN.md: a 4-byte big-endian length, then one msgpack
 * map, at most CTL_FRAME_MAX bytes; the length is checked before any
 * buffer is reserved.  The first frame is the `configure` request
 * (docs/internals.md), read blocking before the HTTP server starts; after
 * that the socket is watched by the event loop: `ping` is answered, any
 * other operation gets an "unknown_op" error, EOF ends the process.
 */
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <msgpack.h>

#include "api.h"
#include "ctl.h"
#include "log.h"

#define CTL_FRAME_MAX	(1u << 20)

static int	 read_full(int, void *, size_t, int);
static int	 write_full(int, const void *, size_t);
static const msgpack_object *map_get(const msgpack_object *, const char *);
static int	 send_reply(int, uint64_t, int, const char *, const char *,
		    int);
static void	 ctl_read_cb(evutil_socket_t, short, void *);

static struct event	*ctl_ev;
static struct evbuffer	*ctl_in;

/* Read exactly len bytes, waiting at most timeout_ms for each chunk.
 * Returns 0, -1 on error or timeout, -2 on EOF before the first byte. */
static int
read_full(int fd, void *buf, size_t len, int timeout_ms)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		if (poll(&pfd, 1, timeout_ms) <= 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		n = read(fd, (char *)buf + got, len - got);
		if (n == 0)
			return got == 0 ? -2 : -1;
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -1;
		}
		got += (size_t)n;
	}
	return 0;
}

static int
write_full(int fd, const void *buf, size_t len)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = write(fd, (const char *)buf + done, len - done);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -1;
		}
		done += (size_t)n;
	}
	return 0;
}

static const msgpack_object *
map_get(const msgpack_object *m, const char *key)
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

/*
 * Send {"id", "ok": true, "result": {"pid": N} or {}} or {"id", "ok":
 * false, "error": {"code", "message"}}.  Blocking: replies are tiny and
 * the socketpair's buffer holds them.
 */
static int
send_reply(int fd, uint64_t id, int ok, const char *code, const char *msg,
    int with_pid)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	unsigned char hdr[4];
	uint32_t be;
	int rc;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	msgpack_pack_str_with_body(&pk, "id", 2);
	msgpack_pack_uint64(&pk, id);
	msgpack_pack_str_with_body(&pk, "ok", 2);
	if (ok) {
		msgpack_pack_true(&pk);
		msgpack_pack_str_with_body(&pk, "result", 6);
		msgpack_pack_map(&pk, with_pid ? 1 : 0);
		if (with_pid) {
			msgpack_pack_str_with_body(&pk, "pid", 3);
			msgpack_pack_uint64(&pk, (uint64_t)getpid());
		}
	} else {
		msgpack_pack_false(&pk);
		msgpack_pack_str_with_body(&pk, "error", 5);
		msgpack_pack_map(&pk, 2);
		msgpack_pack_str_with_body(&pk, "code", 4);
		msgpack_pack_str_with_body(&pk, code, strlen(code));
		msgpack_pack_str_with_body(&pk, "message", 7);
		msgpack_pack_str_with_body(&pk, msg, strlen(msg));
	}
	be = htonl((uint32_t)sb.size);
	memcpy(hdr, &be, 4);
	rc = write_full(fd, hdr, 4) == 0 && write_full(fd, sb.data, sb.size) ==
	    0 ? 0 : -1;
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

/*
 * Wait (at most timeout_ms) for the first frame on fd and apply it if it
 * is `configure`: listen, prometheus, log_level, aggregator_stale_ms.
 * Unknown keys are ignored (vigild sends the whole [vigil] section).
 * Returns 0 (and *id = the request id to answer), or -1 with err filled.
 */
int
api_ctl_configure(int fd, int timeout_ms, struct api_settings *set,
    uint64_t *id, char *err, size_t errlen)
{
	msgpack_unpacked u;
	const msgpack_object *o, *args, *v;
	unsigned char hdr[4];
	uint32_t len;
	char *body;
	size_t off = 0;
	int rc;

	*id = 0;
	rc = read_full(fd, hdr, 4, timeout_ms);
	if (rc != 0) {
		snprintf(err, errlen, "%s", rc == -2 ? "vigild closed the "
		    "control socket" : "no configure frame from vigild");
		return -1;
	}
	len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
	    (uint32_t)hdr[2] << 8 | hdr[3];
	if (len == 0 || len > CTL_FRAME_MAX) {
		snprintf(err, errlen, "bad frame length %u", len);
		return -1;
	}
	if ((body = malloc(len)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (read_full(fd, body, len, timeout_ms) != 0) {
		free(body);
		snprintf(err, errlen, "short configure frame");
		return -1;
	}
	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, body, len, &off) !=
	    MSGPACK_UNPACK_SUCCESS || off != len ||
	    u.data.type != MSGPACK_OBJECT_MAP) {
		msgpack_unpacked_destroy(&u);
		free(body);
		snprintf(err, errlen, "configure frame is not one msgpack map");
		return -1;
	}
	o = &u.data;
	if ((v = map_get(o, "id")) != NULL &&
	    v->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
		*id = v->via.u64;
	v = map_get(o, "op");
	if (v == NULL || v->type != MSGPACK_OBJECT_STR ||
	    v->via.str.size != 9 || memcmp(v->via.str.ptr, "configure", 9)) {
		msgpack_unpacked_destroy(&u);
		free(body);
		snprintf(err, errlen, "first frame is not configure");
		return -1;
	}
	args = map_get(o, "args");
	if ((v = map_get(args, "prometheus")) != NULL &&
	    v->type == MSGPACK_OBJECT_BOOLEAN)
		set->prometheus = v->via.boolean;
	if ((v = map_get(args, "log_level")) != NULL &&
	    v->type == MSGPACK_OBJECT_POSITIVE_INTEGER && v->via.u64 <= 2)
		set->log_level = (int)v->via.u64;
	if ((v = map_get(args, "aggregator_stale_ms")) != NULL &&
	    v->type == MSGPACK_OBJECT_POSITIVE_INTEGER && v->via.u64 > 0 &&
	    v->via.u64 < 3600000)
		set->agg_stale_ns = v->via.u64 * 1000000ull;
	if ((v = map_get(args, "listen")) != NULL &&
	    v->type == MSGPACK_OBJECT_STR &&
	    v->via.str.size < sizeof(set->listen)) {
		memcpy(set->listen, v->via.str.ptr, v->via.str.size);
		set->listen[v->via.str.size] = '\0';
	}
	msgpack_unpacked_destroy(&u);
	free(body);
	return 0;
}

/* Answer the configure request: ok {"pid"} (ready) or the error. */
int
api_ctl_reply(int fd, uint64_t id, const char *errcode, const char *msg)
{
	if (errcode == NULL)
		return send_reply(fd, id, 1, NULL, NULL, 1);
	return send_reply(fd, id, 0, errcode, msg, 0);
}

/* Watch fd in the event loop from now on; EOF breaks the loop. */
int
api_ctl_watch(struct event_base *base, int fd)
{
	evutil_make_socket_nonblocking(fd);
	ctl_in = evbuffer_new();
	ctl_ev = event_new(base, fd, EV_READ | EV_PERSIST, ctl_read_cb, base);
	if (ctl_in == NULL || ctl_ev == NULL)
		return -1;
	return event_add(ctl_ev, NULL);
}

void
api_ctl_close(void)
{
	if (ctl_ev != NULL)
		event_free(ctl_ev);
	if (ctl_in != NULL)
		evbuffer_free(ctl_in);
	ctl_ev = NULL;
	ctl_in = NULL;
}

/*
 * Requests after configure.  A malformed or oversized frame from vigild
 * ends the process (vigild restarts it): the peer is our own supervisor,
 * so this is a bug, not an attack.
 */
static void
ctl_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct event_base *base = arg;
	unsigned char hdr[4];
	msgpack_unpacked u;
	const msgpack_object *v;
	uint64_t id;
	uint32_t len;
	size_t off;
	int n;

	(void)what;
	n = evbuffer_read(ctl_in, fd, 65536);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		log_info("vigild closed the control socket; exiting");
		event_base_loopbreak(base);
		return;
	}
	while (evbuffer_get_length(ctl_in) >= 4) {
		evbuffer_copyout(ctl_in, hdr, 4);
		len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
		    (uint32_t)hdr[2] << 8 | hdr[3];
		if (len == 0 || len > CTL_FRAME_MAX) {
			log_warnx("bad frame length %u from vigild", len);
			event_base_loopbreak(base);
			return;
		}
		if (evbuffer_get_length(ctl_in) < 4 + (size_t)len)
			return;
		evbuffer_drain(ctl_in, 4);
		msgpack_unpacked_init(&u);
		off = 0;
		if (msgpack_unpack_next(&u, (const char *)evbuffer_pullup(
		    ctl_in, len), len, &off) != MSGPACK_UNPACK_SUCCESS ||
		    u.data.type != MSGPACK_OBJECT_MAP) {
			msgpack_unpacked_destroy(&u);
			log_warnx("malformed frame from vigild");
			event_base_loopbreak(base);
			return;
		}
		id = 0;
		if ((v = map_get(&u.data, "id")) != NULL &&
		    v->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
			id = v->via.u64;
		v = map_get(&u.data, "op");
		if (v != NULL && v->type == MSGPACK_OBJECT_STR &&
		    v->via.str.size == 4 && memcmp(v->via.str.ptr, "ping",
		    4) == 0)
			send_reply((int)fd, id, 1, NULL, NULL, 0);
		else
			send_reply((int)fd, id, 0, "unknown_op", "vigil-api "
			    "knows only ping", 0);
		msgpack_unpacked_destroy(&u);
		evbuffer_drain(ctl_in, len);
	}
}
