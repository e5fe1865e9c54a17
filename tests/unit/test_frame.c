/*
 * test_frame.c - common/frame.c: framing, the pre-scan, blocking I/O,
 * message builders and typed getters.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <msgpack.h>

#include "frame.h"
#include "t.h"

static size_t	 frame_of(const void *, size_t, unsigned char *);
static void	 pack_request(msgpack_sbuffer *);

/* hdr + body into out; returns the frame's length. */
static size_t
frame_of(const void *body, size_t len, unsigned char *out)
{
	T_CHECK(frame_header(out, len) == FRAME_HDR);
	memcpy(out + FRAME_HDR, body, len);
	return FRAME_HDR + len;
}

static void
pack_request(msgpack_sbuffer *sb)
{
	msgpack_packer pk;

	msgpack_sbuffer_init(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	mp_request(&pk, 42, "set_interval", 4);
	mp_kv_str(&pk, "provider", "openai");
	mp_kv_uint(&pk, "interval_ms", 15000);
	mp_kv_int(&pk, "delta", -7);
	mp_kv_bool(&pk, "force", 1);
}

static void
test_roundtrip(void)
{
	msgpack_sbuffer sb;
	msgpack_unpacked m;
	unsigned char buf[512];
	const msgpack_object *args;
	char err[128], s[16];
	uint64_t u;
	int64_t i;
	size_t n, used = 0;
	int b;

	pack_request(&sb);
	n = frame_of(sb.data, sb.size, buf);
	msgpack_unpacked_init(&m);
	T_CHECK(frame_parse(buf, n, &used, &m, err, sizeof(err)) == FRAME_OK);
	T_CHECK(used == n);
	/* The message owns its bytes: scribbling on buf changes nothing. */
	memset(buf, 0xc1, sizeof(buf));
	T_CHECK(mp_get_uint(&m.data, "id", &u) == 0 && u == 42);
	T_CHECK(mp_get_str(&m.data, "op", s, sizeof(s)) == 0 &&
	    strcmp(s, "set_interval") == 0);
	args = mp_get(&m.data, "args");
	T_CHECK(args != NULL && args->type == MSGPACK_OBJECT_MAP);
	T_CHECK(mp_get_str(args, "provider", s, sizeof(s)) == 0 &&
	    strcmp(s, "openai") == 0);
	T_CHECK(mp_get_uint(args, "interval_ms", &u) == 0 && u == 15000);
	T_CHECK(mp_get_int(args, "delta", &i) == 0 && i == -7);
	T_CHECK(mp_get_int(args, "interval_ms", &i) == 0 && i == 15000);
	T_CHECK(mp_get_bool(args, "force", &b) == 0 && b == 1);
	/* Missing and wrongly typed. */
	T_CHECK(mp_get_uint(args, "nope", &u) == -1);
	T_CHECK(mp_get_uint(args, "delta", &u) == -2);
	T_CHECK(mp_get_bool(args, "provider", &b) == -2);
	T_CHECK(mp_get_str(args, "interval_ms", s, sizeof(s)) == -2);
	/* A string that does not fit is wrong, not truncated. */
	T_CHECK(mp_get_str(args, "provider", s, 6) == -2);
	T_CHECK(mp_get(NULL, "id") == NULL);
	T_CHECK(mp_get(args, "provider") != NULL &&
	    mp_streq(mp_get(args, "provider"), "openai"));
	T_CHECK(!mp_streq(mp_get(args, "provider"), "openai2"));
	msgpack_unpacked_destroy(&m);
	msgpack_sbuffer_destroy(&sb);
}

static void
test_partial(void)
{
	msgpack_sbuffer sb;
	msgpack_unpacked m;
	unsigned char buf[1024];
	char err[128];
	size_t n, k, used;

	pack_request(&sb);
	n = frame_of(sb.data, sb.size, buf);
	/* Two frames back to back. */
	memcpy(buf + n, buf, n);
	msgpack_unpacked_init(&m);
	for (k = 0; k < n; k++) {
		used = 999;
		T_CHECK(frame_parse(buf, k, &used, &m, err, sizeof(err)) ==
		    FRAME_MORE);
		T_CHECK(used == 999);
	}
	T_CHECK(frame_parse(buf, 2 * n, &used, &m, err, sizeof(err)) ==
	    FRAME_OK && used == n);
	T_CHECK(frame_parse(buf + used, n, &used, &m, err, sizeof(err)) ==
	    FRAME_OK && used == n);
	msgpack_unpacked_destroy(&m);
	msgpack_sbuffer_destroy(&sb);
}

static void
test_bad_frames(void)
{
	/* Each body with what frame_parse must say about it. */
	static const struct {
		const char	*name;
		const char	*body;
		size_t		 len;
	} bad[] = {
		{ "not a map (array)", "\x91\x01", 2 },
		{ "not a map (int)", "\x05", 1 },
		{ "trailing bytes", "\x80\x80", 2 },
		{ "truncated map", "\x81\xa1x", 3 },
		{ "truncated str", "\x81\xa1x\xa5" "ab", 6 },
		{ "never-used byte", "\x81\xa1x\xc1", 4 },
		/* map32 declaring 2^32-1 pairs in a 5-byte frame */
		{ "huge map count", "\xdf\xff\xff\xff\xff", 5 },
		/* array32 of 2^32-1 inside a map */
		{ "huge array count", "\x81\xa1x\xdd\xff\xff\xff\xff", 8 },
		{ "huge str length", "\x81\xa1x\xdb\xff\xff\xff\xff", 8 },
		{ "huge bin length", "\x81\xa1x\xc6\x7f\xff\xff\xff", 8 },
		{ "truncated uint64", "\x81\xa1x\xcf\x00\x00", 6 },
		{ "truncated ext", "\x81\xa1x\xc7\x05\x01\x00", 7 },
	};
	msgpack_unpacked m;
	unsigned char buf[128];
	char err[128];
	size_t i, n, used;

	msgpack_unpacked_init(&m);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = frame_of(bad[i].body, bad[i].len, buf);
		err[0] = '\0';
		T_CHECKF(frame_parse(buf, n, &used, &m, err, sizeof(err)) ==
		    FRAME_ERR, "%s", bad[i].name);
		T_CHECKF(err[0] != '\0', "%s: no error text", bad[i].name);
	}
	/* Zero and oversized declared lengths, before any body arrives. */
	memcpy(buf, "\0\0\0\0", 4);
	T_CHECK(frame_parse(buf, 4, &used, &m, err, sizeof(err)) == FRAME_ERR);
	memcpy(buf, "\x00\x10\x00\x01", 4);
	T_CHECK(frame_parse(buf, 4, &used, &m, err, sizeof(err)) == FRAME_ERR);
	T_CHECK(strstr(err, "1048577") != NULL);
	memcpy(buf, "\xff\xff\xff\xff", 4);
	T_CHECK(frame_parse(buf, 4, &used, &m, err, sizeof(err)) == FRAME_ERR);
	/* Deep nesting: refused, never a crash. */
	{
		unsigned char deep[4 + 3 + 200];
		size_t k;

		memcpy(deep + 4, "\x81\xa1x", 3);
		for (k = 0; k < 199; k++)
			deep[7 + k] = 0x91;
		deep[7 + 199] = 0x01;
		frame_header(deep, 3 + 200);
		T_CHECK(frame_parse(deep, sizeof(deep), &used, &m, err,
		    sizeof(err)) == FRAME_ERR);
	}
	/* Valid, with every scalar type the scanner knows. */
	{
		static const unsigned char ok[] = {
			0x8b,
			0xa1, 'a', 0xc0,
			0xa1, 'b', 0xc3,
			0xa1, 'c', 0xcb, 0, 0, 0, 0, 0, 0, 0, 0,
			0xa1, 'd', 0xd3, 0, 0, 0, 0, 0, 0, 0, 1,
			0xa1, 'e', 0xc4, 2, 9, 9,
			0xa1, 'f', 0xd4, 1, 7,
			0xa1, 'g', 0xd9, 2, 'h', 'i',
			0xa1, 'h', 0xdc, 0, 2, 0xe0, 0x7f,
			0xa1, 'i', 0xde, 0, 1, 0xa0, 0x90,
			0xa1, 'j', 0xca, 0, 0, 0, 0,
			0xa1, 'k', 0xc7, 1, 5, 0,
		};
		n = frame_of(ok, sizeof(ok), buf);
		T_CHECKF(frame_parse(buf, n, &used, &m, err, sizeof(err)) ==
		    FRAME_OK, "%s", err);
	}
	msgpack_unpacked_destroy(&m);
	T_CHECK(frame_header(buf, 0) == -1);
	T_CHECK(frame_header(buf, FRAME_MAX + 1) == -1);
	T_CHECK(frame_header(buf, FRAME_MAX) == FRAME_HDR);
}

static void
test_replies(void)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked m;
	unsigned char buf[256];
	const msgpack_object *e;
	char err[128], s[64];
	uint64_t u;
	size_t n, used;
	int b;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	mp_reply_err(&pk, 7, "bad_args", "interval_ms: out of range");
	n = frame_of(sb.data, sb.size, buf);
	msgpack_unpacked_init(&m);
	T_CHECK(frame_parse(buf, n, &used, &m, err, sizeof(err)) == FRAME_OK);
	T_CHECK(mp_get_uint(&m.data, "id", &u) == 0 && u == 7);
	T_CHECK(mp_get_bool(&m.data, "ok", &b) == 0 && b == 0);
	e = mp_get(&m.data, "error");
	T_CHECK(mp_get_str(e, "code", s, sizeof(s)) == 0 &&
	    strcmp(s, "bad_args") == 0);
	T_CHECK(mp_get_str(e, "message", s, sizeof(s)) == 0 &&
	    strcmp(s, "interval_ms: out of range") == 0);

	msgpack_sbuffer_clear(&sb);
	mp_reply_ok(&pk, 8);
	msgpack_pack_map(&pk, 1);
	mp_kv_double(&pk, "latency_ms", 182.5);
	n = frame_of(sb.data, sb.size, buf);
	T_CHECK(frame_parse(buf, n, &used, &m, err, sizeof(err)) == FRAME_OK);
	T_CHECK(mp_get_bool(&m.data, "ok", &b) == 0 && b == 1);
	{
		double d = 0;

		T_CHECK(mp_get_double(mp_get(&m.data, "result"), "latency_ms",
		    &d) == 0 && d == 182.5);
	}
	msgpack_unpacked_destroy(&m);
	msgpack_sbuffer_destroy(&sb);
}

static void
test_socket_io(void)
{
	msgpack_sbuffer sb;
	msgpack_unpacked m;
	char err[128], s[32];
	unsigned char big[8];
	int sv[2];

	T_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	pack_request(&sb);
	T_CHECK(frame_send(sv[0], sb.data, sb.size, err, sizeof(err)) == 0);
	msgpack_unpacked_init(&m);
	T_CHECK(frame_recv(sv[1], 1000, &m, err, sizeof(err)) == FRAME_OK);
	T_CHECK(mp_get_str(&m.data, "op", s, sizeof(s)) == 0 &&
	    strcmp(s, "set_interval") == 0);
	/* Nothing more: a timeout, not a hang. */
	T_CHECK(frame_recv(sv[1], 50, &m, err, sizeof(err)) == FRAME_TIMEOUT);
	/* Half a frame, then nothing: a timeout too. */
	T_CHECK(write(sv[0], "\x00\x00\x00\x10\x81", 5) == 5);
	T_CHECK(frame_recv(sv[1], 50, &m, err, sizeof(err)) == FRAME_TIMEOUT);
	close(sv[0]);
	close(sv[1]);

	/* An oversized declared length is refused before reading a body. */
	T_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	memcpy(big, "\x7f\xff\xff\xff", 4);
	T_CHECK(write(sv[0], big, 4) == 4);
	T_CHECK(frame_recv(sv[1], 1000, &m, err, sizeof(err)) == FRAME_ERR);
	close(sv[0]);
	close(sv[1]);

	/* Clean EOF between frames; EOF inside one is an error. */
	T_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	close(sv[0]);
	T_CHECK(frame_recv(sv[1], 1000, &m, err, sizeof(err)) == FRAME_EOF);
	close(sv[1]);
	T_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	T_CHECK(write(sv[0], "\x00\x00", 2) == 2);
	close(sv[0]);
	T_CHECK(frame_recv(sv[1], 1000, &m, err, sizeof(err)) == FRAME_ERR);
	close(sv[1]);

	/* Sending to a closed peer: an error, not SIGPIPE. */
	T_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	close(sv[1]);
	T_CHECK(frame_send(sv[0], sb.data, sb.size, err, sizeof(err)) == -1);
	close(sv[0]);
	T_CHECK(frame_send(-1, sb.data, FRAME_MAX + 1, err, sizeof(err)) ==
	    -1);

	msgpack_unpacked_destroy(&m);
	msgpack_sbuffer_destroy(&sb);
}

/* A frame of exactly FRAME_MAX bytes goes through a socket whole. */
static void
test_max_frame(void)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked m;
	char err[128];
	char *blob;
	size_t blen;
	int sv[2];
	pid_t pid;

	/* map(1) + fixstr "b" + bin32 header = 1 + 2 + 5 bytes. */
	blen = FRAME_MAX - 8;
	T_CHECK((blob = calloc(1, blen)) != NULL);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	mp_str(&pk, "b");
	msgpack_pack_bin(&pk, blen);
	msgpack_pack_bin_body(&pk, blob, blen);
	T_CHECK(sb.size == FRAME_MAX);
	T_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	if ((pid = fork()) == 0) {
		close(sv[1]);
		_exit(frame_send(sv[0], sb.data, sb.size, err, sizeof(err)) ==
		    0 ? 0 : 1);
	}
	close(sv[0]);
	msgpack_unpacked_init(&m);
	T_CHECKF(frame_recv(sv[1], 5000, &m, err, sizeof(err)) == FRAME_OK,
	    "%s", err);
	T_CHECK(mp_get(&m.data, "b") != NULL &&
	    mp_get(&m.data, "b")->via.bin.size == blen);
	{
		int st;

		waitpid(pid, &st, 0);
		T_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	close(sv[1]);
	msgpack_unpacked_destroy(&m);
	msgpack_sbuffer_destroy(&sb);
	free(blob);
}

int
main(void)
{
	T_RUN(test_roundtrip);
	T_RUN(test_partial);
	T_RUN(test_bad_frames);
	T_RUN(test_replies);
	T_RUN(test_socket_io);
	T_RUN(test_max_frame);
	return t_done();
}
