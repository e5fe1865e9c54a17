/*
 * frame.h - length-prefixed msgpack messages over stream sockets.
 *
 * A frame is a 4-byte big-endian unsigned length, then that many bytes
 * holding exactly one msgpack map.  The maximum frame is FRAME_MAX bytes;
 * the declared length is checked against it before any buffer is reserved.
 *
 * Requests:  {"id": uint, "op": str, "args": map}
 * Replies:   {"id": uint, "ok": true, "result": any}
 *            {"id": uint, "ok": false, "error": {"code": str, "message": str}}
 *
 * Library code: never logs, never exits; errors go to the caller's buffer.
 */
#ifndef VIGIL_FRAME_H
#define VIGIL_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#define FRAME_MAX	(1u << 20)
#define FRAME_HDR	4

/* Results of frame_parse and frame_recv. */
#define FRAME_OK	1	/* a whole frame was decoded */
#define FRAME_MORE	0	/* need more bytes */
#define FRAME_ERR	(-1)	/* malformed or oversized: drop the peer */
#define FRAME_EOF	(-2)	/* peer closed cleanly between frames */
#define FRAME_TIMEOUT	(-3)	/* no whole frame before the deadline */

/*
 * Decode one frame from buf[0..len).  On FRAME_OK, *used is the number of
 * bytes consumed and *out holds the map (msgpack_unpacked_destroy it).
 * On FRAME_MORE nothing is consumed.  FRAME_ERR: length over FRAME_MAX,
 * zero, or a body that is not exactly one msgpack map; err says which.
 * The decoded message owns a copy of its bytes: buf may be reused at once.
 */
int	frame_parse(const void *buf, size_t len, size_t *used,
	    msgpack_unpacked *out, char *err, size_t errlen);

/* Prepend the 4-byte header: returns bytes written to hdr (4) or -1 if
 * len exceeds FRAME_MAX. */
int	frame_header(unsigned char hdr[FRAME_HDR], size_t len);

/*
 * Blocking send of one frame holding body[0..len) on fd; handles short
 * writes and EINTR.  Returns 0, or -1 with err filled.
 */
int	frame_send(int fd, const void *body, size_t len, char *err,
	    size_t errlen);

/*
 * Blocking receive of one frame on fd, waiting at most timeout_ms
 * (-1: forever).  Handles short reads and EINTR.  Returns FRAME_OK,
 * FRAME_EOF, FRAME_TIMEOUT or FRAME_ERR.
 */
int	frame_recv(int fd, int timeout_ms, msgpack_unpacked *out, char *err,
	    size_t errlen);

/* ---- building messages ---- */

/* Start a request {"id","op","args": <map of nargs entries follows>}. */
void	mp_request(msgpack_packer *, uint64_t id, const char *op,
	    uint32_t nargs);
/* Start an ok reply {"id","ok":true,"result": <caller packs one value>}. */
void	mp_reply_ok(msgpack_packer *, uint64_t id);
/* A whole error reply. */
void	mp_reply_err(msgpack_packer *, uint64_t id, const char *code,
	    const char *message);

void	mp_str(msgpack_packer *, const char *);
void	mp_kv_str(msgpack_packer *, const char *, const char *);
void	mp_kv_uint(msgpack_packer *, const char *, uint64_t);
void	mp_kv_int(msgpack_packer *, const char *, int64_t);
void	mp_kv_double(msgpack_packer *, const char *, double);
void	mp_kv_bool(msgpack_packer *, const char *, int);

/* ---- reading messages ---- */

/*
 * Check that buf[0..len) holds exactly one well-formed msgpack object
 * whose containers declare no more elements than there are bytes left,
 * without allocating.  Run it on any untrusted bytes before msgpack-c,
 * which reserves a container's declared size up front (five bytes could
 * ask for gigabytes).  Returns 0, or -1 with err saying what is wrong.
 */
int	mp_scan(const void *buf, size_t len, char *err, size_t errlen);

/* The value of key in map m, or NULL (m not a map, or no such key). */
const msgpack_object	*mp_get(const msgpack_object *m, const char *key);
/*
 * Typed getters: 0 on success, -1 if missing, -2 if present with the
 * wrong type (or out of range).  Strings are copied NUL-terminated and
 * must fit in len (else -2).
 */
int	mp_get_str(const msgpack_object *m, const char *key, char *buf,
	    size_t len);
int	mp_get_uint(const msgpack_object *m, const char *key, uint64_t *v);
int	mp_get_int(const msgpack_object *m, const char *key, int64_t *v);
int	mp_get_double(const msgpack_object *m, const char *key, double *v);
int	mp_get_bool(const msgpack_object *m, const char *key, int *v);
/* Compare a msgpack str object with a C string. */
int	mp_streq(const msgpack_object *o, const char *s);

#endif /* VIGIL_FRAME_H */
