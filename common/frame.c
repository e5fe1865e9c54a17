/*
 * frame.c - length-prefixed msgpack messages over stream sockets.
 *
 * Every frame is checked twice before msgpack-c sees it: its declared
 * length against FRAME_MAX, and its body by mp_scan(), which walks the
 * msgpack structure without allocating and refuses a container whose
 * declared element count exceeds the bytes left.  msgpack-c trusts such a
 * count and reserves count * sizeof(msgpack_object) up front: five bytes
 * could ask for gigabytes.
 *
 * Decoding goes through a msgpack_unpacker, which copies the body into a
 * buffer that the unpacked result keeps alive (reference counted by
 * msgpack-c), so a decoded message never points into the caller's buffer.
 */
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <msgpack.h>

#include "frame.h"

#define SEND_STALL_MS	5000	/* give up on a peer that reads nothing */

static int	frame_decode(const void *, size_t, msgpack_unpacked *, char *,
		    size_t);
static uint32_t	be32(const unsigned char *);
static int64_t	mono_ms(void);
static int	wait_fd(int, short, int64_t);
static int	read_full(int, void *, size_t, int64_t, int);

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/*
 * Walk one msgpack object in p[0..len) without allocating.  Returns 0 if
 * p holds exactly one well-formed object, -1 otherwise.  "pending" counts
 * objects still to read; each needs at least one byte, so a count larger
 * than what is left is refused before anything is reserved for it.
 */
int
mp_scan(const void *buf, size_t len, char *err, size_t errlen)
{
	const unsigned char *p = buf;
	static const unsigned char width[4] = { 1, 2, 4, 8 };
	uint64_t pending = 1, n;
	size_t pos = 0, skip, lw;
	unsigned char c;

	while (pending > 0) {
		if (pending > len - pos) {
			snprintf(err, errlen, "msgpack: %s",
			    pos == len ? "truncated body" :
			    "container count exceeds frame");
			return -1;
		}
		c = p[pos++];
		pending--;
		skip = 0;
		n = 0;
		if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 ||
		    c == 0xc3)
			continue;
		if (c >= 0x80 && c <= 0x8f) {		/* fixmap */
			pending += 2 * (uint64_t)(c & 0x0f);
			continue;
		}
		if (c >= 0x90 && c <= 0x9f) {		/* fixarray */
			pending += c & 0x0f;
			continue;
		}
		if (c >= 0xa0 && c <= 0xbf)		/* fixstr */
			skip = c & 0x1f;
		else if (c >= 0xcc && c <= 0xd3)	/* (u)int 8..64 */
			skip = width[(c - 0xcc) & 3];
		else if (c == 0xca || c == 0xcb)	/* float 32, 64 */
			skip = c == 0xca ? 4 : 8;
		else if (c >= 0xd4 && c <= 0xd8)	/* fixext: type + data */
			skip = 1 + ((size_t)1 << (c - 0xd4));
		else {
			/* A length (or count) field follows. */
			switch (c) {
			case 0xc4: case 0xc7: case 0xd9:	lw = 1; break;
			case 0xc5: case 0xc8: case 0xda:
			case 0xdc: case 0xde:			lw = 2; break;
			case 0xc6: case 0xc9: case 0xdb:
			case 0xdd: case 0xdf:			lw = 4; break;
			default:
				snprintf(err, errlen,
				    "msgpack: invalid byte 0x%02x", c);
				return -1;
			}
			if (len - pos < lw) {
				snprintf(err, errlen, "msgpack: truncated body");
				return -1;
			}
			for (size_t i = 0; i < lw; i++)
				n = n << 8 | p[pos + i];
			pos += lw;
			if (c == 0xdc || c == 0xdd)
				pending += n;
			else if (c == 0xde || c == 0xdf)
				pending += 2 * n;
			else
				skip = (size_t)n + (c >= 0xc7 && c <= 0xc9);
		}
		if (skip > len - pos) {
			snprintf(err, errlen, "msgpack: truncated body");
			return -1;
		}
		pos += skip;
	}
	if (pos != len) {
		snprintf(err, errlen, "msgpack: %zu bytes after the message",
		    len - pos);
		return -1;
	}
	return 0;
}

/* Decode a scanned body into out; the map must be the top-level object. */
static int
frame_decode(const void *body, size_t len, msgpack_unpacked *out, char *err,
    size_t errlen)
{
	msgpack_unpacker u;
	int rc;

	if (mp_scan(body, len, err, errlen) == -1)
		return FRAME_ERR;
	if (((const unsigned char *)body)[0] < 0x80 ||
	    (((const unsigned char *)body)[0] > 0x8f &&
	    ((const unsigned char *)body)[0] != 0xde &&
	    ((const unsigned char *)body)[0] != 0xdf)) {
		snprintf(err, errlen, "msgpack: message is not a map");
		return FRAME_ERR;
	}
	if (!msgpack_unpacker_init(&u, len) ||
	    !msgpack_unpacker_reserve_buffer(&u, len)) {
		snprintf(err, errlen, "out of memory");
		return FRAME_ERR;
	}
	memcpy(msgpack_unpacker_buffer(&u), body, len);
	msgpack_unpacker_buffer_consumed(&u, len);
	rc = msgpack_unpacker_next(&u, out);
	msgpack_unpacker_destroy(&u);
	if (rc != MSGPACK_UNPACK_SUCCESS) {
		snprintf(err, errlen, "msgpack: %s",
		    rc == MSGPACK_UNPACK_NOMEM_ERROR ? "out of memory" :
		    "malformed or too deeply nested");
		return FRAME_ERR;
	}
	return FRAME_OK;
}

int
frame_parse(const void *buf, size_t len, size_t *used, msgpack_unpacked *out,
    char *err, size_t errlen)
{
	uint32_t n;

	if (len < FRAME_HDR)
		return FRAME_MORE;
	n = be32(buf);
	if (n == 0 || n > FRAME_MAX) {
		snprintf(err, errlen, "frame length %u outside 1..%u", n,
		    FRAME_MAX);
		return FRAME_ERR;
	}
	if (len - FRAME_HDR < n)
		return FRAME_MORE;
	if (frame_decode((const char *)buf + FRAME_HDR, n, out, err,
	    errlen) != FRAME_OK)
		return FRAME_ERR;
	*used = FRAME_HDR + (size_t)n;
	return FRAME_OK;
}

int
frame_header(unsigned char hdr[FRAME_HDR], size_t len)
{
	if (len == 0 || len > FRAME_MAX)
		return -1;
	hdr[0] = (unsigned char)(len >> 24);
	hdr[1] = (unsigned char)(len >> 16);
	hdr[2] = (unsigned char)(len >> 8);
	hdr[3] = (unsigned char)len;
	return FRAME_HDR;
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for events on fd until deadline (ms, monotonic; -1 forever).
 * Returns 1 ready, 0 timed out, -1 error. */
static int
wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd pfd;
	int64_t left;
	int rc;

	for (;;) {
		left = deadline < 0 ? -1 : deadline - mono_ms();
		if (deadline >= 0 && left < 0)
			left = 0;
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		rc = poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (rc == -1 && errno == EINTR)
			continue;
		return rc > 0 ? 1 : rc;
	}
}

int
frame_send(int fd, const void *body, size_t len, char *err, size_t errlen)
{
	unsigned char hdr[FRAME_HDR];
	const unsigned char *p;
	size_t off = 0, total = FRAME_HDR + len;
	ssize_t n;

	if (frame_header(hdr, len) == -1) {
		snprintf(err, errlen, "frame of %zu bytes exceeds %u", len,
		    FRAME_MAX);
		return -1;
	}
	while (off < total) {
		p = off < FRAME_HDR ? hdr + off :
		    (const unsigned char *)body + (off - FRAME_HDR);
		n = send(fd, p, off < FRAME_HDR ? FRAME_HDR - off : total - off,
		    MSG_NOSIGNAL);
		if (n == -1 && errno == ENOTSOCK)
			n = write(fd, p, off < FRAME_HDR ?
			    FRAME_HDR - off : total - off);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if ((errno == EAGAIN || errno == EWOULDBLOCK) &&
			    wait_fd(fd, POLLOUT, mono_ms() + SEND_STALL_MS) ==
			    1)
				continue;
			snprintf(err, errlen, "send: %s", errno == EAGAIN ?
			    "peer does not read" : strerror(errno));
			return -1;
		}
		off += (size_t)n;
	}
	return 0;
}

/* Read exactly len bytes by deadline.  Returns FRAME_OK, FRAME_TIMEOUT,
 * FRAME_ERR, or FRAME_EOF when the peer closed before the first byte and
 * eof_ok is set. */
static int
read_full(int fd, void *buf, size_t len, int64_t deadline, int eof_ok)
{
	size_t got = 0;
	ssize_t n;
	int w;

	while (got < len) {
		/* Poll first: the fd may be blocking, and the deadline holds. */
		if (deadline >= 0 && (w = wait_fd(fd, POLLIN, deadline)) <= 0)
			return w == 0 ? FRAME_TIMEOUT : FRAME_ERR;
		n = read(fd, (char *)buf + got, len - got);
		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		if (n == 0)
			return got == 0 && eof_ok ? FRAME_EOF : FRAME_ERR;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return FRAME_ERR;
		if ((w = wait_fd(fd, POLLIN, deadline)) <= 0)
			return w == 0 ? FRAME_TIMEOUT : FRAME_ERR;
	}
	return FRAME_OK;
}

int
frame_recv(int fd, int timeout_ms, msgpack_unpacked *out, char *err,
    size_t errlen)
{
	unsigned char hdr[FRAME_HDR];
	int64_t deadline = timeout_ms < 0 ? -1 : mono_ms() + timeout_ms;
	unsigned char *body;
	uint32_t n;
	int rc, w;

	/* Wait first, so that a blocking fd honours the timeout too. */
	if ((w = wait_fd(fd, POLLIN, deadline)) <= 0) {
		snprintf(err, errlen, w == 0 ? "timed out" : "poll: %s",
		    strerror(errno));
		return w == 0 ? FRAME_TIMEOUT : FRAME_ERR;
	}
	rc = read_full(fd, hdr, sizeof(hdr), deadline, 1);
	if (rc != FRAME_OK) {
		snprintf(err, errlen, "%s", rc == FRAME_EOF ? "end of file" :
		    rc == FRAME_TIMEOUT ? "timed out" : "short frame header");
		return rc;
	}
	n = be32(hdr);
	if (n == 0 || n > FRAME_MAX) {
		snprintf(err, errlen, "frame length %u outside 1..%u", n,
		    FRAME_MAX);
		return FRAME_ERR;
	}
	if ((body = malloc(n)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return FRAME_ERR;
	}
	rc = read_full(fd, body, n, deadline, 0);
	if (rc != FRAME_OK)
		snprintf(err, errlen, "%s", rc == FRAME_TIMEOUT ?
		    "timed out in a frame" : "short frame body");
	else
		rc = frame_decode(body, n, out, err, errlen);
	free(body);
	return rc;
}

/* ---- building messages ---- */

void
mp_str(msgpack_packer *pk, const char *s)
{
	size_t n = strlen(s);

	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, s, n);
}

void
mp_request(msgpack_packer *pk, uint64_t id, const char *op, uint32_t nargs)
{
	msgpack_pack_map(pk, 3);
	mp_kv_uint(pk, "id", id);
	mp_kv_str(pk, "op", op);
	mp_str(pk, "args");
	msgpack_pack_map(pk, nargs);
}

void
mp_reply_ok(msgpack_packer *pk, uint64_t id)
{
	msgpack_pack_map(pk, 3);
	mp_kv_uint(pk, "id", id);
	mp_kv_bool(pk, "ok", 1);
	mp_str(pk, "result");
}

void
mp_reply_err(msgpack_packer *pk, uint64_t id, const char *code,
    const char *message)
{
	msgpack_pack_map(pk, 3);
	mp_kv_uint(pk, "id", id);
	mp_kv_bool(pk, "ok", 0);
	mp_str(pk, "error");
	msgpack_pack_map(pk, 2);
	mp_kv_str(pk, "code", code);
	mp_kv_str(pk, "message", message);
}

void
mp_kv_str(msgpack_packer *pk, const char *k, const char *v)
{
	mp_str(pk, k);
	mp_str(pk, v);
}

void
mp_kv_uint(msgpack_packer *pk, const char *k, uint64_t v)
{
	mp_str(pk, k);
	msgpack_pack_uint64(pk, v);
}

void
mp_kv_int(msgpack_packer *pk, const char *k, int64_t v)
{
	mp_str(pk, k);
	msgpack_pack_int64(pk, v);
}

void
mp_kv_double(msgpack_packer *pk, const char *k, double v)
{
	mp_str(pk, k);
	msgpack_pack_double(pk, v);
}

void
mp_kv_bool(msgpack_packer *pk, const char *k, int v)
{
	mp_str(pk, k);
	if (v)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
}

/* ---- reading messages ---- */

int
mp_streq(const msgpack_object *o, const char *s)
{
	size_t n = strlen(s);

	return o != NULL && o->type == MSGPACK_OBJECT_STR &&
	    o->via.str.size == n && memcmp(o->via.str.ptr, s, n) == 0;
}

const msgpack_object *
mp_get(const msgpack_object *m, const char *key)
{
	uint32_t i;

	if (m == NULL || m->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (i = 0; i < m->via.map.size; i++)
		if (mp_streq(&m->via.map.ptr[i].key, key))
			return &m->via.map.ptr[i].val;
	return NULL;
}

int
mp_get_str(const msgpack_object *m, const char *key, char *buf, size_t len)
{
	const msgpack_object *o;

	if ((o = mp_get(m, key)) == NULL)
		return -1;
	if (o->type != MSGPACK_OBJECT_STR || o->via.str.size >= len ||
	    memchr(o->via.str.ptr, '\0', o->via.str.size) != NULL)
		return -2;
	memcpy(buf, o->via.str.ptr, o->via.str.size);
	buf[o->via.str.size] = '\0';
	return 0;
}

int
mp_get_uint(const msgpack_object *m, const char *key, uint64_t *v)
{
	const msgpack_object *o;

	if ((o = mp_get(m, key)) == NULL)
		return -1;
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return -2;
	*v = o->via.u64;
	return 0;
}

int
mp_get_int(const msgpack_object *m, const char *key, int64_t *v)
{
	const msgpack_object *o;

	if ((o = mp_get(m, key)) == NULL)
		return -1;
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		*v = o->via.i64;
	else if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
	    o->via.u64 <= INT64_MAX)
		*v = (int64_t)o->via.u64;
	else
		return -2;
	return 0;
}

int
mp_get_double(const msgpack_object *m, const char *key, double *v)
{
	const msgpack_object *o;

	if ((o = mp_get(m, key)) == NULL)
		return -1;
	switch (o->type) {
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		*v = o->via.f64;
		return 0;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		*v = (double)o->via.u64;
		return 0;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		*v = (double)o->via.i64;
		return 0;
	default:
		return -2;
	}
}

int
mp_get_bool(const msgpack_object *m, const char *key, int *v)
{
	const msgpack_object *o;

	if ((o = mp_get(m, key)) == NULL)
		return -1;
	if (o->type != MSGPACK_OBJECT_BOOLEAN)
		return -2;
	*v = o->via.boolean;
	return 0;
}
