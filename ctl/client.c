/*
 * client.c - vigilctl's side of the control socket: connect, the hello
 * handshake, one request and its reply (docs/control-protocol.md).
 *
 * One request at a time: the reply with the request's id ends the call.
 * A reply with id 0 is an error the server could not tie to a request
 * (bad_frame, forbidden at connect): it ends the call too.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <msgpack.h>

#include "ctl.h"
#include "frame.h"

static void	client_error_of(struct ctl_reply *, const msgpack_object *);
static void	client_denied(char *, size_t, const char *, int);

int
ctl_connect(struct ctl_client *cc, const char *path, int timeout_ms,
    char *err, size_t errlen)
{
	struct sockaddr_un sun;
	int fd, saved;

	memset(cc, 0, sizeof(*cc));
	cc->cc_fd = -1;
	cc->cc_timeout_ms = timeout_ms;
	cc->cc_next_id = 1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "%s: socket path too long (at most %zu "
		    "bytes)", path, sizeof(sun.sun_path) - 1);
		return CTL_EXIT_CONNECT;
	}
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return CTL_EXIT_CONNECT;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		saved = errno;
		close(fd);
		if (saved == EACCES || saved == EPERM)
			client_denied(err, errlen, path, saved);
		else if (saved == ENOENT || saved == ECONNREFUSED)
			snprintf(err, errlen, "cannot connect to %s: %s (is "
			    "vigild running? -s or -c name another socket)",
			    path, strerror(saved));
		else
			snprintf(err, errlen, "cannot connect to %s: %s", path,
			    strerror(saved));
		return CTL_EXIT_CONNECT;
	}
	cc->cc_fd = fd;
	return CTL_EXIT_OK;
}

/*
 * The socket's permissions refused us.  Name the group to join: the
 * socket's own group, which vigild sets to its read_group (not always
 * "vigil"); a socket of group root means vigild had no such group.
 */
static void
client_denied(char *err, size_t errlen, const char *path, int saved)
{
	struct group *gr;
	struct stat st;

	if (stat(path, &st) == 0 && st.st_gid != 0 &&
	    (gr = getgrgid(st.st_gid)) != NULL)
		snprintf(err, errlen, "cannot connect to %s: %s (only root "
		    "and members of the %s group may use it: sudo usermod "
		    "-aG %s $USER, then log in again)", path, strerror(saved),
		    gr->gr_name, gr->gr_name);
	else if (stat(path, &st) == 0 && st.st_gid == 0)
		snprintf(err, errlen, "cannot connect to %s: %s (only root "
		    "may use it: vigild's read_group does not exist)", path,
		    strerror(saved));
	else
		snprintf(err, errlen, "cannot connect to %s: %s (only root "
		    "and members of vigild's read_group may use it)", path,
		    strerror(saved));
}

void
ctl_close(struct ctl_client *cc)
{
	if (cc->cc_fd != -1)
		close(cc->cc_fd);
	cc->cc_fd = -1;
}

void
ctl_reply_free(struct ctl_reply *r)
{
	msgpack_unpacked_destroy(&r->msg);
	r->result = NULL;
}

/* Fill code and message from an error reply, whatever its shape. */
static void
client_error_of(struct ctl_reply *r, const msgpack_object *m)
{
	const msgpack_object *e = mp_get(m, "error");

	if (mp_get_str(e, "code", r->code, sizeof(r->code)) != 0)
		snprintf(r->code, sizeof(r->code), "error");
	if (mp_get_str(e, "group", r->group, sizeof(r->group)) != 0)
		r->group[0] = '\0';
	if (mp_get_str(e, "message", r->message, sizeof(r->message)) != 0) {
		const msgpack_object *o = mp_get(e, "message");

		/* A long message is cut, not lost. */
		if (o != NULL && o->type == MSGPACK_OBJECT_STR) {
			size_t n = o->via.str.size < sizeof(r->message) - 1 ?
			    o->via.str.size : sizeof(r->message) - 1;

			memcpy(r->message, o->via.str.ptr, n);
			r->message[n] = '\0';
		} else
			snprintf(r->message, sizeof(r->message),
			    "(no message)");
	}
}

int
ctl_call(struct ctl_client *cc, const char *op, const char *args,
    size_t argslen, struct ctl_reply *r)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint64_t id = cc->cc_next_id++, rid;
	char err[256];
	int rc, okv;

	memset(r, 0, sizeof(*r));
	msgpack_unpacked_init(&r->msg);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	mp_kv_uint(&pk, "id", id);
	mp_kv_str(&pk, "op", op);
	mp_str(&pk, "args");
	if (args != NULL && argslen > 0)
		msgpack_sbuffer_write(&sb, args, argslen);
	else
		msgpack_pack_map(&pk, 0);
	rc = frame_send(cc->cc_fd, sb.data, sb.size, err, sizeof(err));
	msgpack_sbuffer_destroy(&sb);
	if (rc == -1) {
		/*
		 * A server that refuses us (forbidden) replies and closes at
		 * once; our send can fail on the closed socket while the
		 * reply is still there to read.
		 */
		msgpack_unpacked_destroy(&r->msg);
		msgpack_unpacked_init(&r->msg);
		if (frame_recv(cc->cc_fd, 1000, &r->msg, r->message,
		    sizeof(r->message)) == FRAME_OK &&
		    mp_get_bool(&r->msg.data, "ok", &okv) == 0 && !okv) {
			client_error_of(r, &r->msg.data);
			return CTL_EXIT_ERROR;
		}
		snprintf(r->message, sizeof(r->message), "%s: %s", op, err);
		return CTL_EXIT_CONNECT;
	}
	for (;;) {
		msgpack_unpacked_destroy(&r->msg);
		msgpack_unpacked_init(&r->msg);
		rc = frame_recv(cc->cc_fd, cc->cc_timeout_ms, &r->msg, err,
		    sizeof(err));
		if (rc == FRAME_TIMEOUT) {
			snprintf(r->message, sizeof(r->message), "%s: no reply "
			    "within %d ms", op, cc->cc_timeout_ms);
			return CTL_EXIT_TIMEOUT;
		}
		if (rc == FRAME_EOF) {
			snprintf(r->message, sizeof(r->message), "%s: vigild "
			    "closed the connection without a reply", op);
			return CTL_EXIT_CONNECT;
		}
		if (rc != FRAME_OK) {
			snprintf(r->message, sizeof(r->message), "%s: bad reply: "
			    "%s", op, err);
			return CTL_EXIT_CONNECT;
		}
		if (mp_get_uint(&r->msg.data, "id", &rid) != 0 ||
		    mp_get_bool(&r->msg.data, "ok", &okv) != 0) {
			snprintf(r->message, sizeof(r->message), "%s: bad reply: "
			    "no id or ok", op);
			return CTL_EXIT_CONNECT;
		}
		if (rid == id || rid == 0)
			break;
		/* A reply to an earlier request that we gave up on. */
	}
	if (!okv) {
		client_error_of(r, &r->msg.data);
		return CTL_EXIT_ERROR;
	}
	if (rid == 0) {
		snprintf(r->message, sizeof(r->message), "%s: bad reply: ok "
		    "with id 0", op);
		return CTL_EXIT_CONNECT;
	}
	if ((r->result = mp_get(&r->msg.data, "result")) == NULL) {
		snprintf(r->message, sizeof(r->message), "%s: bad reply: no "
		    "result", op);
		return CTL_EXIT_CONNECT;
	}
	return CTL_EXIT_OK;
}

/*
 * hello first: it tells the server's protocol major.  A server with
 * another major is refused before anything else is sent.
 */
int
ctl_hello(struct ctl_client *cc, char *err, size_t errlen)
{
	struct ctl_reply r;
	int rc;

	rc = ctl_call(cc, "hello", NULL, 0, &r);
	if (rc == CTL_EXIT_ERROR) {
		snprintf(err, errlen, "%s: %s", r.code, r.message);
		snprintf(cc->cc_refused_code, sizeof(cc->cc_refused_code),
		    "%s", r.code);
		snprintf(cc->cc_refused_group, sizeof(cc->cc_refused_group),
		    "%s", r.group);
	}
	else if (rc != CTL_EXIT_OK)
		snprintf(err, errlen, "%s", r.message);
	else if (mp_get_uint(r.result, "protocol", &cc->cc_protocol) != 0) {
		snprintf(err, errlen, "hello: the reply has no protocol "
		    "number");
		rc = CTL_EXIT_CONNECT;
	} else if (cc->cc_protocol != CTL_PROTOCOL) {
		snprintf(err, errlen, "vigild speaks control protocol %llu, "
		    "this vigilctl speaks %d: use the vigilctl of the same "
		    "release", (unsigned long long)cc->cc_protocol,
		    CTL_PROTOCOL);
		rc = CTL_EXIT_CONNECT;
	} else {
		if (mp_get_str(r.result, "version", cc->cc_version,
		    sizeof(cc->cc_version)) != 0)
			snprintf(cc->cc_version, sizeof(cc->cc_version), "?");
		(void)mp_get_uint(r.result, "pid", &cc->cc_pid);
	}
	ctl_reply_free(&r);
	return rc;
}
