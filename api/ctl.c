/*
 * ctl.c - vigil-api's side of the socketpair with vigild (fd 4).
 *
 * Frames and messages as everywhere else (common/frame.h).  The first
 * frame is the `configure` request (docs/internals.md), read blocking
 * before the HTTP server starts; after that the socket is watched by the
 * event loop: `ping` is answered, any other operation gets an
 * "unknown_op" error, EOF ends the process.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <msgpack.h>

#include "api.h"
#include "ctl.h"
#include "frame.h"
#include "log.h"

static int	 send_reply(int, uint64_t, const char *, const char *, int);
static void	 ctl_read_cb(evutil_socket_t, short, void *);

static struct event	*ctl_ev;
static struct evbuffer	*ctl_in;

/*
 * Send ok {"pid": N} (with_pid), ok {}, or the error {code, message}.
 * Blocking: replies are tiny and the socketpair's buffer holds them.
 */
static int
send_reply(int fd, uint64_t id, const char *code, const char *msg,
    int with_pid)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	char err[128];
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
	rc = frame_send(fd, sb.data, sb.size, err, sizeof(err));
	if (rc == -1)
		log_warnx("reply to vigild: %s", err);
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

/*
 * Wait (at most timeout_ms) for the first frame on fd and apply it if it
 * is `configure`: listen, prometheus, log_level.  Unknown keys are
 * ignored (vigild sends the whole [vigil] section; the staleness limit is
 * not a setting but VIGIL_AGG_STALE_NS, vigil.h, so that vigil-api and
 * vigild cannot judge the same beat differently).
 * Returns 0 (and *id = the request id to answer), or -1 with err filled.
 */
int
api_ctl_configure(int fd, int timeout_ms, struct api_settings *set,
    uint64_t *id, char *err, size_t errlen)
{
	msgpack_unpacked u;
	const msgpack_object *args;
	char why[128];
	uint64_t v;
	int b, rc;

	*id = 0;
	msgpack_unpacked_init(&u);
	rc = frame_recv(fd, timeout_ms, &u, why, sizeof(why));
	if (rc != FRAME_OK) {
		snprintf(err, errlen, "%s", rc == FRAME_EOF ? "vigild closed "
		    "the control socket" : rc == FRAME_TIMEOUT ? "no configure "
		    "frame from vigild" : why);
		msgpack_unpacked_destroy(&u);
		return -1;
	}
	(void)mp_get_uint(&u.data, "id", id);
	if (!mp_streq(mp_get(&u.data, "op"), "configure")) {
		msgpack_unpacked_destroy(&u);
		snprintf(err, errlen, "first frame is not configure");
		return -1;
	}
	args = mp_get(&u.data, "args");
	if (mp_get_bool(args, "prometheus", &b) == 0)
		set->prometheus = b;
	if (mp_get_uint(args, "log_level", &v) == 0 && v <= 2)
		set->log_level = (int)v;
	(void)mp_get_str(args, "listen", set->listen, sizeof(set->listen));
	msgpack_unpacked_destroy(&u);
	return 0;
}

/* Answer the configure request: ok {"pid"} (ready) or the error. */
int
api_ctl_reply(int fd, uint64_t id, const char *errcode, const char *msg)
{
	return send_reply(fd, id, errcode, msg, errcode == NULL);
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
	msgpack_unpacked u;
	uint64_t id;
	size_t len, used;
	char err[128];
	int n, rc;

	(void)what;
	n = evbuffer_read(ctl_in, fd, 65536);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		log_info("vigild closed the control socket; exiting");
		event_base_loopbreak(base);
		return;
	}
	msgpack_unpacked_init(&u);
	while ((len = evbuffer_get_length(ctl_in)) > 0) {
		/* A whole frame is at most FRAME_HDR + FRAME_MAX bytes. */
		if (len > FRAME_HDR + FRAME_MAX)
			len = FRAME_HDR + FRAME_MAX;
		rc = frame_parse(evbuffer_pullup(ctl_in, (ev_ssize_t)len), len,
		    &used, &u, err, sizeof(err));
		if (rc == FRAME_MORE)
			break;
		if (rc != FRAME_OK) {
			log_warnx("bad frame from vigild: %s", err);
			event_base_loopbreak(base);
			break;
		}
		evbuffer_drain(ctl_in, used);
		id = 0;
		(void)mp_get_uint(&u.data, "id", &id);
		if (mp_streq(mp_get(&u.data, "op"), "ping"))
			send_reply((int)fd, id, NULL, NULL, 0);
		else
			send_reply((int)fd, id, "unknown_op",
			    "vigil-api knows only ping", 0);
	}
	msgpack_unpacked_destroy(&u);
}
