/*
 * control.c - the control socket: msgpack requests from vigilctl and
 * other clients, authorized by the peer's credentials.
 *
 * Transport: a Unix stream socket (conf control_socket, default
 * /run/vigil/control.sock), mode 0660, group read_group.  Each message
 * is a frame (common/frame.h): a 4-byte big-endian length, then one
 * msgpack map; at most FRAME_MAX (1 MiB).
 *
 *   request  {"id": uint, "op": str, "args": map (optional)}
 *   reply    {"id": uint, "ok": true,  "result": any}
 *            {"id": uint, "ok": false, "error": {"code": str,
 *                                                "message": str}}
 *
 * Replies carry the request's id; forwarded requests (probe_now...) may
 * be answered out of order.  Durations are milliseconds (_ms), times
 * nanoseconds since the Unix epoch (_ns), rates fractions 0..1.
 *
 * Operations ("R" read-only: root, vigild's own uid, read_group and
 * admin_group members; "M" mutating: root, vigild's own uid and
 * admin_group members only):
 *
 *   hello, version  R {} -> {"protocol": 1, "version": str, "pid": uint}
 *   ping            R {} -> {}
 *   status          R {"provider"?: name} -> {"status": str,
 *                       "generated_at_ns": uint,
 *                       "providers": [{"name", "kind", "status",
 *                       "circuit", "trend", "stale": bool, "paused": bool,
 *                       "usable": bool, "reason": nil | str,
 *                       "reason_since_ns", "needs_human": bool,
 *                       "usable_at_ns" (0: none), "ratelimit": {resource:
 *                       {"limit", "remaining", "reset_at_ns"}},
 *                       "state": str (prober process: up, starting,
 *                       backoff, down, stopping), "silenced_until_ns",
 *                       "last_check": nil | {"at_ns", "outcome",
 *                       "http_status", "latency_ms"}, "last_error": str,
 *                       "windows": {"1m"|"5m"|"15m": {"samples",
 *                       "error_rate", "uptime", "p50_ms", "p95_ms",
 *                       "p99_ms"}}, "tokens": {"used_today", "budget"
 *                       (0: none)}, "models": [{"name", "status",
 *                       "reason": nil | str, "usable": bool}]}]}
 *                       status, stale: vigil.h's read model
 *                       (vigil_overall_status, vigil_effective_status,
 *                       vigil_provider_stale), as /health/integration.
 *                       With "provider" (not "all") only that provider
 *                       (not_found if none), and each of its models also
 *                       "listed": nil | bool, "last_outcome": nil | str,
 *                       "last_error", "last_check_at_ns",
 *                       "checks_total", "tokens_in_total",
 *                       "tokens_out_total", "windows": {"1m"|"5m"|"15m":
 *                       {"samples", "error_rate", "ttft_p50_ms",
 *                       "ttft_p95_ms", "ttft_p99_ms", "tokens_per_s"}}:
 *                       every model in full would take a 1,000-provider
 *                       reply past the frame's 1 MiB
 *   providers       R {} -> [{"name", "kind", "host", "slot",
 *                       "interval_ms", "timeout_ms", "paused": bool,
 *                       "state": str, "pid", "restarts", "writer_epoch",
 *                       "generation"}]
 *   alerts          R {"since_ns"?: uint, "provider"?: str, "level"?:
 *                       "warning"|"critical"|"resolved", "limit"?: uint
 *                       (default 100)} -> [{"id", "at_ns", "provider",
 *                       "kind", "level", "value", "threshold",
 *                       "silenced": bool}], oldest first
 *   history         R {"provider": str, "from_ns"?: uint, "to_ns"?: uint,
 *                       "step"?: "raw"|"1m"|"5m"|"15m"|"1h",
 *                       "limit"?: uint (default 1000)} ->
 *                       {"provider", "step", "points": [{"at_ns",
 *                       "outcome", "http_status", "latency_ms", "p50_ms",
 *                       "p95_ms", "p99_ms", "error_rate", "uptime",
 *                       "samples_1m", "status", "circuit", "reason":
 *                       nil | str}]}
 *                       (a step keeps the newest record of each bucket)
 *   probe_now       M {"provider": name|"all"} -> one: the sample
 *                       {"outcome", "http_status", "latency_ms", "error",
 *                       "wall_ns"}; all: {name: {"ok": true, "result":
 *                       sample} | {"ok": false, "error": {...}}}
 *   pause, resume   M {"provider": name|"all"} -> {} (all: per name, as
 *                       above).  Remembered across prober restarts.
 *   set_interval    M {"provider": name|"all", "interval_ms": uint |
 *                       "interval": "30s"} -> {} (all: per name).  Range
 *                       10 s..300 s (100 ms.. with allow_fast_probes).
 *   silence         M {"provider": name|"all", "duration_ms": uint |
 *                       "duration": "30m" | "until_ns": uint,
 *                       "reason"?: str} -> {"until_ns": uint}; at
 *                       most 366 days ahead
 *   unsilence       M {"provider": name|"all"} -> {}
 *   reload          M {} -> {} or error "config" with "FILE:LINE: ..."
 *   report          P {"reports": [{"provider": name, "model"?: name,
 *                       "outcome": str (vigil_outcome_name), "http_status"?:
 *                       uint, "latency_us"?: uint, "ttft_us"?: uint,
 *                       "tokens_in"?: uint, "tokens_out"?: uint}, ...]}
 *                       (at most CTL_REPORT_MAX) -> {"accepted",
 *                       "dropped" (ring full), "invalid"}: traffic
 *                       reports for languages without the C reporter,
 *                       written into vigild's own slot of the reports
 *                       segment ("P": root, vigild's uid, admin_group and
 *                       report_group members; docs/control-protocol.md)
 *   shutdown        M {} -> {}, then vigild stops as on SIGTERM
 *
 * Connections: at most CONTROL_MAX_CONNS, of which the last
 * CONTROL_ADMIN_RESERVE only for admin peers; a non-admin uid holds at
 * most CONTROL_MAX_PER_UID (control_peer.c).  A peer refused at connect
 * gets busy (a limit) or forbidden (not in read_group; "group" names
 * it) with id 0, and is closed.
 *
 * Error codes: bad_frame (body not one msgpack map; the connection stays
 * usable), frame_too_large (declared length 0 or over 1 MiB: the
 * connection is closed after the reply), bad_request (no id, no op, args
 * not a map), unknown_op, missing_argument, bad_argument, not_found (no
 * such provider), forbidden, busy (a connection limit at connect, too
 * many requests in flight),
 * unavailable (the child is not running), timeout (the child did not
 * answer in time), config (reload refused), internal.  Errors that
 * cannot be tied to a request carry id 0.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>

#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <msgpack.h>

#include "control.h"
#include "frame.h"
#include "log.h"
#include "ring.h"
#include "settings.h"
#include "vigild.h"

struct ctl_conn {
	struct bufferevent	*c_bev;
	uid_t			 c_uid;
	gid_t			 c_gid;
	pid_t			 c_pid;
	int			 c_admin;
	int			 c_reporter;	/* admin or report_group */
	int			 c_dead;	/* closed; freed when waits == 0 */
	int			 c_closing;	/* close once the output drains */
	unsigned		 c_waits;
	TAILQ_ENTRY(ctl_conn)	 c_entry;
};
TAILQ_HEAD(ctl_conns, ctl_conn);

/* A request forwarded to one or more children. */
struct ctl_wait {
	struct ctl_conn		*w_conn;
	uint64_t		 w_id;
	int			 w_all;
	unsigned		 w_left;
	unsigned		 w_n;
	msgpack_sbuffer		 w_acc;		/* all: packed name -> result */
	const char		*w_op;
	uint64_t		 w_until_ns;	/* silence: echoed back */
};

struct ctl_sub {
	struct ctl_wait		*s_wait;
	char			 s_name[VIGIL_NAME_MAX];
};

typedef void	(*ctl_fn)(struct ctl_conn *, uint64_t, const msgpack_object *);

#define CTL_REPORT_MAX	4096	/* reports in one report op */

struct ctl_op {
	const char	*name;
	int		 mutating;
	ctl_fn		 fn;
};

static struct evconnlistener	*ctl_listener;
static struct ctl_conns		 ctl_conns = TAILQ_HEAD_INITIALIZER(ctl_conns);
static unsigned			 ctl_nconns;
static char			 ctl_path[sizeof(((struct sockaddr_un *)0)->
				    sun_path)];
/* Refused connections since the last log line (ctl_refusal_log). */
static struct {
	struct event		*rl_ev;		/* the end of the second */
	int			 rl_open;	/* a line less than 1 s ago */
	unsigned		 rl_busy;
	unsigned		 rl_forbidden;
	unsigned		 rl_last_uid;	/* of the last one counted */
	int			 rl_last_pid;
} ctl_refusals;

static void	ctl_accept(struct evconnlistener *, evutil_socket_t,
		    struct sockaddr *, int, void *);
static void	ctl_read(struct bufferevent *, void *);
static void	ctl_write(struct bufferevent *, void *);
static void	ctl_event(struct bufferevent *, short, void *);
static void	ctl_free(struct ctl_conn *);
static void	ctl_unref(struct ctl_conn *);
static int	ctl_in_group(const char *, gid_t, const gid_t *, size_t);
static void	ctl_classify(int, const struct ucred *, int *, int *, int *);
static unsigned	ctl_uid_conns(uid_t);
static void	ctl_refuse(int, const char *, const char *, const char *);
static void	ctl_refusal_log(const char *, const struct ucred *,
		    const char *, ...) __attribute__((format(printf, 3, 4)));
static void	ctl_refusal_tick(evutil_socket_t, short, void *);
static void	ctl_send(struct ctl_conn *, msgpack_sbuffer *);
static void	ctl_error(struct ctl_conn *, uint64_t, const char *,
		    const char *, ...) __attribute__((format(printf, 4, 5)));
static void	ctl_ok_empty(struct ctl_conn *, uint64_t);
static void	ctl_request(struct ctl_conn *, const msgpack_object *);
static int	ctl_provider_arg(struct ctl_conn *, uint64_t,
		    const msgpack_object *, char *, size_t, int);
static int	ctl_duration_arg(struct ctl_conn *, uint64_t,
		    const msgpack_object *, const char *, const char *,
		    uint64_t *);
static void	ctl_forward(struct ctl_conn *, uint64_t, const char *,
		    const char *, const msgpack_sbuffer *, uint64_t);
static void	ctl_sub_done(void *, int, const msgpack_object *,
		    const char *, const char *);
static void	ctl_wait_finish(struct ctl_wait *);
static void	pack_model(msgpack_packer *, const char *,
		    const struct vigil_model_stats *, int);
static void	pack_models(msgpack_packer *, const struct vigil_provider *,
		    int);
static void	pack_reason(msgpack_packer *, const char *, unsigned);
static void	pack_provider_status(msgpack_packer *,
		    const struct vigil_provider *, uint64_t, int);
static void	ctl_pack_result(msgpack_packer *, const msgpack_object *);
static void	pause_resume(struct ctl_conn *, uint64_t,
		    const msgpack_object *, int);
static void	shutdown_cb(evutil_socket_t, short, void *);

static void	op_hello(struct ctl_conn *, uint64_t, const msgpack_object *);
static void	op_ping(struct ctl_conn *, uint64_t, const msgpack_object *);
static void	op_status(struct ctl_conn *, uint64_t, const msgpack_object *);
static void	op_providers(struct ctl_conn *, uint64_t,
		    const msgpack_object *);
static void	op_alerts(struct ctl_conn *, uint64_t, const msgpack_object *);
static void	alert_incident(msgpack_packer *, const struct vigil_alert *,
		    const uint64_t *, size_t);
static void	op_history(struct ctl_conn *, uint64_t,
		    const msgpack_object *);
static void	op_probe_now(struct ctl_conn *, uint64_t,
		    const msgpack_object *);
static void	op_pause(struct ctl_conn *, uint64_t, const msgpack_object *);
static void	op_resume(struct ctl_conn *, uint64_t, const msgpack_object *);
static void	op_set_interval(struct ctl_conn *, uint64_t,
		    const msgpack_object *);
static void	op_silence(struct ctl_conn *, uint64_t,
		    const msgpack_object *);
static void	op_unsilence(struct ctl_conn *, uint64_t,
		    const msgpack_object *);
static void	op_reload(struct ctl_conn *, uint64_t, const msgpack_object *);
static void	op_report(struct ctl_conn *, uint64_t, const msgpack_object *);
static int	report_one(const msgpack_object *, struct vigil_report_rec *);
static int	report_num(const msgpack_object *, const char *, uint64_t,
		    uint64_t *);
static void	op_shutdown(struct ctl_conn *, uint64_t,
		    const msgpack_object *);

static const struct ctl_op ctl_ops[] = {
	{ "hello",		0, op_hello },
	{ "version",		0, op_hello },
	{ "ping",		0, op_ping },
	{ "status",		0, op_status },
	{ "providers",		0, op_providers },
	{ "alerts",		0, op_alerts },
	{ "history",		0, op_history },
	{ "probe_now",		1, op_probe_now },
	{ "pause",		1, op_pause },
	{ "resume",		1, op_resume },
	{ "set_interval",	1, op_set_interval },
	{ "silence",		1, op_silence },
	{ "unsilence",		1, op_unsilence },
	{ "reload",		1, op_reload },
	{ "shutdown",		1, op_shutdown },
	{ "report",		0, op_report },
};

/* ---- the socket ---- */

/*
 * Create the socket: its directory if missing, a stale socket of an
 * earlier run replaced, a live one (another vigild) refused.
 */
int
control_init(struct event_base *base, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct group *gr;
	struct stat st;
	char dir[PATH_MAX];
	int fd, probe;

	if (strlen(vd->conf.control_socket) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "%s: path too long",
		    vd->conf.control_socket);
		return -1;
	}
	snprintf(ctl_path, sizeof(ctl_path), "%s", vd->conf.control_socket);
	snprintf(dir, sizeof(dir), "%s", ctl_path);
	if (mkdir(dirname(dir), 0755) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "mkdir %s: %s", dir, strerror(errno));
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, ctl_path, strlen(ctl_path));

	if (lstat(ctl_path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s exists and is not a socket",
			    ctl_path);
			return -1;
		}
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe != -1 && connect(probe, (struct sockaddr *)&sun,
		    sizeof(sun)) == 0) {
			close(probe);
			snprintf(err, errlen, "%s is in use: is another vigild "
			    "running?", ctl_path);
			return -1;
		}
		if (probe != -1)
			close(probe);
		(void)unlink(ctl_path);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		snprintf(err, errlen, "bind %s: %s", ctl_path, strerror(errno));
		close(fd);
		return -1;
	}
	if (chmod(ctl_path, 0660) == -1)
		log_warn("chmod %s", ctl_path);
	if (geteuid() == 0 && vd->conf.read_group[0] != '\0') {
		if ((gr = getgrnam(vd->conf.read_group)) == NULL)
			log_warnx("group %s does not exist: %s is for root "
			    "only", vd->conf.read_group, ctl_path);
		else if (chown(ctl_path, 0, gr->gr_gid) == -1)
			log_warn("chown %s", ctl_path);
	}
	ctl_listener = evconnlistener_new(base, ctl_accept, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 128, fd);
	if (ctl_listener == NULL) {
		snprintf(err, errlen, "listen %s failed", ctl_path);
		close(fd);
		unlink(ctl_path);
		return -1;
	}
	ctl_refusals.rl_ev = evtimer_new(base, ctl_refusal_tick, NULL);
	log_info("control socket %s", ctl_path);
	return 0;
}

/* Stop accepting; flush what can be flushed and close every client. */
void
control_close(void)
{
	struct ctl_conn *c;

	if (ctl_listener != NULL) {
		evconnlistener_free(ctl_listener);
		ctl_listener = NULL;
	}
	if (ctl_refusals.rl_ev != NULL) {
		event_free(ctl_refusals.rl_ev);
		ctl_refusals.rl_ev = NULL;
	}
	while ((c = TAILQ_FIRST(&ctl_conns)) != NULL) {
		struct evbuffer *out = bufferevent_get_output(c->c_bev);

		/*
		 * One non-blocking try at the pending replies (the shutdown
		 * reply among them).  A bufferevent freezes the start of its
		 * output so that only it drains it; it is freed next.
		 */
		if (evbuffer_get_length(out) > 0) {
			evbuffer_unfreeze(out, 1);
			(void)evbuffer_write(out, bufferevent_getfd(c->c_bev));
		}
		ctl_free(c);
	}
}

void
control_unlink(void)
{
	if (ctl_path[0] != '\0')
		(void)unlink(ctl_path);
}

/*
 * Is the peer a member of group (by name)?  Its primary gid from
 * SO_PEERCRED and the supplementary groups it held at connect()
 * (SO_PEERGROUPS) count; /etc/group does not, so that a service given
 * the group by systemd's SupplementaryGroups= is a member, and a user
 * added to the group since logging in is not yet one (as for the
 * socket's own permission check).
 */
static int
ctl_in_group(const char *group, gid_t primary, const gid_t *groups, size_t n)
{
	struct group *gr;

	if (group[0] == '\0' || (gr = getgrnam(group)) == NULL)
		return 0;
	return control_gid_member(gr->gr_gid, primary, groups, n);
}

/*
 * The peer's class: admin (root, vigild's own uid, admin_group) may do
 * everything, a reader (read_group) the read-only operations, anyone
 * else nothing.  Root is decided without reading groups.
 */
static void
ctl_classify(int fd, const struct ucred *cr, int *admin, int *reader,
    int *reporter)
{
	static int warned;
	gid_t *groups = NULL;
	size_t n = 0;
	char err[128];

	*admin = cr->uid == 0 || cr->uid == geteuid();
	*reader = *reporter = *admin;
	if (*admin)
		return;
	if (control_peer_groups(fd, &groups, &n, err, sizeof(err)) == -1 &&
	    !warned) {
		/* Only the primary gid counts then; say so once. */
		log_warnx("control: %s: only the peers' primary groups count",
		    err);
		warned = 1;
	}
	*admin = ctl_in_group(vd->conf.admin_group, cr->gid, groups, n);
	*reader = *admin || ctl_in_group(vd->conf.read_group, cr->gid,
	    groups, n);
	*reporter = *admin || ctl_in_group(vd->conf.report_group, cr->gid,
	    groups, n);
	free(groups);
}

/* Connections open for uid. */
static unsigned
ctl_uid_conns(uid_t uid)
{
	struct ctl_conn *c;
	unsigned n = 0;

	TAILQ_FOREACH(c, &ctl_conns, c_entry)
		if (c->c_uid == uid)
			n++;
	return n;
}

/*
 * Refuse a connection before it costs anything: one error frame (id 0,
 * code busy or forbidden; group, when given, names the group to join),
 * written straight to the new socket, then close.  The frame is small
 * and the socket's buffer empty, so a non-blocking send takes it whole;
 * the peer reads it even after our close, and even when its own first
 * request fails with EPIPE.
 */
static void
ctl_refuse(int fd, const char *code, const char *group, const char *msg)
{
	unsigned char hdr[FRAME_HDR];
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct iovec iov[2];
	struct msghdr mh;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	mp_kv_uint(&pk, "id", 0);
	mp_kv_bool(&pk, "ok", 0);
	mp_str(&pk, "error");
	msgpack_pack_map(&pk, group != NULL ? 3 : 2);
	mp_kv_str(&pk, "code", code);
	mp_kv_str(&pk, "message", msg);
	if (group != NULL)
		mp_kv_str(&pk, "group", group);
	if (frame_header(hdr, sb.size) != -1) {
		iov[0].iov_base = hdr;
		iov[0].iov_len = sizeof(hdr);
		iov[1].iov_base = sb.data;
		iov[1].iov_len = sb.size;
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = iov;
		mh.msg_iovlen = 2;
		(void)sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	}
	msgpack_sbuffer_destroy(&sb);
	close(fd);
}

/*
 * The refusal log, at most a line a second: the first refusal of a
 * quiet spell is logged whole, the ones in the next second are counted
 * and logged as one line when it ends, and so on while they go on.  A
 * flood of connections, or of operations a peer may not make, costs a
 * line a second, not a line each.
 */
static void
ctl_refusal_log(const char *code, const struct ucred *who,
    const char *fmt, ...)
{
	struct timeval sec = { 1, 0 };
	char line[512];
	va_list ap;

	if (ctl_refusals.rl_open) {
		if (strcmp(code, "busy") == 0)
			ctl_refusals.rl_busy++;
		else
			ctl_refusals.rl_forbidden++;
		ctl_refusals.rl_last_uid = (unsigned)who->uid;
		ctl_refusals.rl_last_pid = (int)who->pid;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_warnx("%s", line);
	if (ctl_refusals.rl_ev != NULL) {
		ctl_refusals.rl_open = 1;
		evtimer_add(ctl_refusals.rl_ev, &sec);
	}
}

static void
ctl_refusal_tick(evutil_socket_t fd, short what, void *arg)
{
	struct timeval sec = { 1, 0 };
	unsigned n = ctl_refusals.rl_busy + ctl_refusals.rl_forbidden;

	(void)fd;
	(void)what;
	(void)arg;
	if (n == 0) {
		ctl_refusals.rl_open = 0;
		return;
	}
	log_warnx("control: refused %u more connection%s or operation%s in "
	    "the last second (%u busy, %u forbidden; the last: refused uid %u "
	    "pid %d)", n, n == 1 ? "" : "s", n == 1 ? "" : "s",
	    ctl_refusals.rl_busy, ctl_refusals.rl_forbidden,
	    ctl_refusals.rl_last_uid, ctl_refusals.rl_last_pid);
	ctl_refusals.rl_busy = ctl_refusals.rl_forbidden = 0;
	evtimer_add(ctl_refusals.rl_ev, &sec);
}

/*
 * A new peer: its credentials, its class, then admission
 * (control_admit).  A refused peer gets a busy or forbidden frame and
 * is closed at once; no connection state is made for it.
 */
static void
ctl_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct ctl_conn *c;
	struct timeval idle = { CONTROL_IDLE_S, 0 };
	char msg[256];
	int admin, reader, reporter = 0, rc;

	(void)l;
	(void)sa;
	(void)salen;
	(void)arg;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		log_warn("control: SO_PEERCRED");
		close(fd);
		return;
	}
	/* Full even for root: no need to read the groups. */
	if ((rc = control_admit(ctl_nconns, 0, 1)) == CONTROL_ADMIT_OK) {
		ctl_classify(fd, &cred, &admin, &reader, &reporter);
		if (!reader) {
			ctl_refusal_log("forbidden", &cred, "control: refused "
			    "uid %u pid %d: not in group %s", (unsigned)cred.uid,
			    (int)cred.pid, vd->conf.read_group);
			snprintf(msg, sizeof(msg), "uid %u is not a member of "
			    "%s", (unsigned)cred.uid, vd->conf.read_group);
			ctl_refuse(fd, "forbidden", vd->conf.read_group, msg);
			return;
		}
		rc = control_admit(ctl_nconns, admin ? 0 :
		    ctl_uid_conns(cred.uid), admin);
	}
	if (rc != CONTROL_ADMIT_OK) {
		ctl_refusal_log("busy", &cred, "control: refused uid %u pid "
		    "%d: %s (%u connections open)", (unsigned)cred.uid,
		    (int)cred.pid, control_admit_reason(rc), ctl_nconns);
		snprintf(msg, sizeof(msg), "%s; try again later",
		    control_admit_reason(rc));
		ctl_refuse(fd, "busy", NULL, msg);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->c_bev = bufferevent_socket_new(vd->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		free(c);
		close(fd);
		return;
	}
	c->c_uid = cred.uid;
	c->c_gid = cred.gid;
	c->c_pid = cred.pid;
	c->c_admin = admin;
	c->c_reporter = reporter;
	TAILQ_INSERT_TAIL(&ctl_conns, c, c_entry);
	ctl_nconns++;
	bufferevent_setcb(c->c_bev, ctl_read, ctl_write, ctl_event, c);
	bufferevent_setwatermark(c->c_bev, EV_READ, 0, FRAME_HDR + FRAME_MAX);
	bufferevent_set_timeouts(c->c_bev, &idle, &idle);
	log_debug("control: connection from uid %u pid %d%s",
	    (unsigned)cred.uid, (int)cred.pid, admin ? " (admin)" : "");
	bufferevent_enable(c->c_bev, EV_READ | EV_WRITE);
}

/* Close now; the struct lives on while forwarded requests are out. */
static void
ctl_free(struct ctl_conn *c)
{
	if (c->c_dead)
		return;
	c->c_dead = 1;
	bufferevent_free(c->c_bev);
	c->c_bev = NULL;
	TAILQ_REMOVE(&ctl_conns, c, c_entry);
	ctl_nconns--;
	if (c->c_waits == 0)
		free(c);
}

static void
ctl_unref(struct ctl_conn *c)
{
	c->c_waits--;
	if (c->c_dead && c->c_waits == 0)
		free(c);
}

static void
ctl_write(struct bufferevent *bev, void *arg)
{
	struct ctl_conn *c = arg;

	(void)bev;
	if (c->c_closing)
		ctl_free(c);
}

static void
ctl_event(struct bufferevent *bev, short what, void *arg)
{
	struct ctl_conn *c = arg;

	(void)bev;
	if (what & BEV_EVENT_TIMEOUT)
		log_debug("control: uid %u pid %d idle: closing",
		    (unsigned)c->c_uid, (int)c->c_pid);
	ctl_free(c);
}

/*
 * Whole frames from a client.  A declared length of 0 or over FRAME_MAX
 * cannot be skipped: error, then close.  A whole frame whose body is not
 * one msgpack map is skipped with an error and the connection stays.
 */
static void
ctl_read(struct bufferevent *bev, void *arg)
{
	struct ctl_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	msgpack_unpacked msg;
	unsigned char hdr[FRAME_HDR], *data;
	size_t len, used;
	uint32_t flen;
	char err[128];
	int rc;

	while (!c->c_dead && !c->c_closing &&
	    (len = evbuffer_get_length(in)) >= FRAME_HDR) {
		evbuffer_copyout(in, hdr, FRAME_HDR);
		flen = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
		    (uint32_t)hdr[2] << 8 | hdr[3];
		if (flen == 0 || flen > FRAME_MAX) {
			log_warnx("control: uid %u pid %d: frame of %u bytes "
			    "(max %u): closing", (unsigned)c->c_uid,
			    (int)c->c_pid, flen, FRAME_MAX);
			ctl_error(c, 0, "frame_too_large", "frame length %u "
			    "is outside 1..%u", flen, FRAME_MAX);
			c->c_closing = 1;
			bufferevent_disable(bev, EV_READ);
			return;
		}
		if (len < FRAME_HDR + (size_t)flen)
			return;
		if ((data = evbuffer_pullup(in, FRAME_HDR + flen)) == NULL) {
			ctl_free(c);
			return;
		}
		msgpack_unpacked_init(&msg);
		rc = frame_parse(data, FRAME_HDR + flen, &used, &msg, err,
		    sizeof(err));
		if (rc != FRAME_OK) {
			msgpack_unpacked_destroy(&msg);
			evbuffer_drain(in, FRAME_HDR + flen);
			ctl_error(c, 0, "bad_frame", "%s", err);
			continue;
		}
		ctl_request(c, &msg.data);
		msgpack_unpacked_destroy(&msg);
		if (c->c_dead)
			return;
		evbuffer_drain(in, used);
	}
}

/* ---- replies ---- */

static void
ctl_send(struct ctl_conn *c, msgpack_sbuffer *sb)
{
	unsigned char hdr[FRAME_HDR];
	struct evbuffer *out;

	msgpack_packer pk;

	if (c->c_dead)
		return;
	if (frame_header(hdr, sb->size) == -1) {
		msgpack_sbuffer_clear(sb);
		msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
		mp_reply_err(&pk, 0, "internal", "reply too large");
		frame_header(hdr, sb->size);
	}
	out = bufferevent_get_output(c->c_bev);
	if (evbuffer_get_length(out) > CONTROL_OUT_MAX) {
		/* Not freed here: callers still hold c.  The write
		 * timeout or the drain closes it. */
		if (!c->c_closing)
			log_warnx("control: uid %u pid %d reads no replies: "
			    "closing", (unsigned)c->c_uid, (int)c->c_pid);
		c->c_closing = 1;
		bufferevent_disable(c->c_bev, EV_READ);
		return;
	}
	evbuffer_add(out, hdr, sizeof(hdr));
	evbuffer_add(out, sb->data, sb->size);
}

static void
ctl_error(struct ctl_conn *c, uint64_t id, const char *code, const char *fmt,
    ...)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	mp_reply_err(&pk, id, code, msg);
	ctl_send(c, &sb);
	msgpack_sbuffer_destroy(&sb);
}

static void
ctl_ok_empty(struct ctl_conn *c, uint64_t id)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	mp_reply_ok(&pk, id);
	msgpack_pack_map(&pk, 0);
	ctl_send(c, &sb);
	msgpack_sbuffer_destroy(&sb);
}

/* ---- dispatch ---- */

static void
ctl_request(struct ctl_conn *c, const msgpack_object *m)
{
	const msgpack_object *args, *o;
	msgpack_object empty;
	char op[32], who[VIGIL_NAME_MAX];
	uint64_t id;
	size_t i;
	int rc;

	if ((rc = mp_get_uint(m, "id", &id)) != 0) {
		ctl_error(c, 0, "bad_request", "\"id\" %s",
		    rc == -1 ? "is missing" : "must be an unsigned integer");
		return;
	}
	if ((rc = mp_get_str(m, "op", op, sizeof(op))) != 0) {
		ctl_error(c, id, "bad_request", "\"op\" %s", rc == -1 ?
		    "is missing" : "must be a string of at most 31 bytes");
		return;
	}
	memset(&empty, 0, sizeof(empty));
	empty.type = MSGPACK_OBJECT_MAP;
	args = mp_get(m, "args");
	if (args == NULL || args->type == MSGPACK_OBJECT_NIL)
		args = &empty;
	else if (args->type != MSGPACK_OBJECT_MAP) {
		ctl_error(c, id, "bad_request", "\"args\" must be a map");
		return;
	}
	for (i = 0; i < sizeof(ctl_ops) / sizeof(ctl_ops[0]); i++)
		if (strcmp(ctl_ops[i].name, op) == 0)
			break;
	if (i == sizeof(ctl_ops) / sizeof(ctl_ops[0])) {
		ctl_error(c, id, "unknown_op", "no operation \"%s\"", op);
		return;
	}
	if (ctl_ops[i].mutating) {
		who[0] = '\0';
		if ((o = mp_get(args, "provider")) != NULL &&
		    o->type == MSGPACK_OBJECT_STR)
			(void)mp_get_str(args, "provider", who, sizeof(who));
		if (!c->c_admin) {
			struct ucred cr = { c->c_pid, c->c_uid, 0 };

			/* A read-only peer may send this in a loop. */
			ctl_refusal_log("forbidden", &cr, "control: %s%s%s "
			    "refused: "
			    "uid %u pid %d is not in admin group %s", op,
			    who[0] ? " " : "",
			    who, (unsigned)c->c_uid, (int)c->c_pid,
			    vd->conf.admin_group[0] ? vd->conf.admin_group :
			    "(none: root only)");
			if (vd->conf.admin_group[0] != '\0')
				ctl_error(c, id, "forbidden", "%s needs root "
				    "or the admin group %s", op,
				    vd->conf.admin_group);
			else
				ctl_error(c, id, "forbidden", "%s needs root "
				    "(admin_group is not set)", op);
			return;
		}
		log_info("control: %s%s%s by uid %u pid %d", op,
		    who[0] ? " " : "", who, (unsigned)c->c_uid,
		    (int)c->c_pid);
	}
	ctl_ops[i].fn(c, id, args);
}

/*
 * The "provider" argument: a known provider's name, or "all" where
 * allowed.  Returns 0 with name filled, or -1 after an error reply.
 */
static int
ctl_provider_arg(struct ctl_conn *c, uint64_t id, const msgpack_object *a,
    char *name, size_t len, int all_ok)
{
	int rc;

	if ((rc = mp_get_str(a, "provider", name, len)) != 0) {
		if (rc == -1)
			ctl_error(c, id, "missing_argument", "\"provider\" is "
			    "required");
		else
			ctl_error(c, id, "bad_argument", "\"provider\" must "
			    "be a string of at most %zu bytes", len - 1);
		return -1;
	}
	if (strcmp(name, "all") == 0) {
		if (all_ok)
			return 0;
		ctl_error(c, id, "bad_argument", "\"all\" is not allowed here");
		return -1;
	}
	if (provider_find(name) == NULL) {
		ctl_error(c, id, "not_found", "no provider \"%s\"", name);
		return -1;
	}
	return 0;
}

/*
 * A duration given as key_ms (uint) or key (string "30s").  Returns 1
 * with *ms set, 0 if neither is present, -1 after an error reply.
 */
static int
ctl_duration_arg(struct ctl_conn *c, uint64_t id, const msgpack_object *a,
    const char *key_ms, const char *key, uint64_t *ms)
{
	char buf[32];
	uint32_t v;
	int rc;

	if ((rc = mp_get_uint(a, key_ms, ms)) == 0)
		return 1;
	if (rc == -2) {
		ctl_error(c, id, "bad_argument", "\"%s\" must be an unsigned "
		    "integer", key_ms);
		return -1;
	}
	if ((rc = mp_get_str(a, key, buf, sizeof(buf))) == -1)
		return 0;
	if (rc == -2 || conf_parse_duration(buf, &v) == -1) {
		ctl_error(c, id, "bad_argument", "\"%s\" must be a duration "
		    "such as \"500ms\", \"30s\", \"5m\"", key);
		return -1;
	}
	*ms = v;
	return 1;
}

/* ---- forwarding to children ---- */

/*
 * Send op with args to the prober of name (or every prober for "all"),
 * or to the aggregator when name is NULL, and reply once all answered.
 */
static void
ctl_forward(struct ctl_conn *c, uint64_t id, const char *op,
    const char *name, const msgpack_sbuffer *args, uint64_t until_ns)
{
	struct ctl_wait *w;
	struct ctl_sub *s;
	struct provider *pv;
	uint32_t tmo;
	unsigned n = 0;

	if (c->c_waits >= CONTROL_MAX_WAITS) {
		ctl_error(c, id, "busy", "%u requests in flight on this "
		    "connection", c->c_waits);
		return;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		ctl_error(c, id, "internal", "out of memory");
		return;
	}
	w->w_conn = c;
	w->w_id = id;
	w->w_op = op;
	w->w_until_ns = until_ns;
	w->w_all = name != NULL && strcmp(name, "all") == 0;
	msgpack_sbuffer_init(&w->w_acc);
	c->c_waits++;
	w->w_left = 1;		/* held until every sub is sent */

	if (name == NULL) {
		if ((s = calloc(1, sizeof(*s))) == NULL)
			goto oom;
		s->s_wait = w;
		w->w_left++;
		if (vd->agg == NULL) {
			ctl_sub_done(s, 0, NULL, "unavailable", "the aggregator "
			    "is not installed");
		} else
			(void)proc_request(vd->agg, op, args ? args->data : NULL,
			    args ? args->size : 0, CONTROL_CHILD_MS,
			    ctl_sub_done, s);
	} else {
		TAILQ_FOREACH(pv, &vd->providers, pv_entry) {
			if (pv->pv_removing || (!w->w_all &&
			    strcmp(pv->pv_conf.name, name) != 0))
				continue;
			if ((s = calloc(1, sizeof(*s))) == NULL)
				goto oom;
			s->s_wait = w;
			snprintf(s->s_name, sizeof(s->s_name), "%s",
			    pv->pv_conf.name);
			w->w_left++;
			n++;
			tmo = strcmp(op, "probe_now") == 0 ?
			    pv->pv_conf.timeout_ms + 2000 : CONTROL_CHILD_MS;
			(void)proc_request(pv->pv_proc, op, args ? args->data :
			    NULL, args ? args->size : 0, tmo, ctl_sub_done, s);
		}
	}
	(void)n;
	if (--w->w_left == 0)
		ctl_wait_finish(w);
	return;
 oom:
	ctl_error(c, id, "internal", "out of memory");
	w->w_conn = NULL;
	ctl_unref(c);
	if (--w->w_left == 0) {
		msgpack_sbuffer_destroy(&w->w_acc);
		free(w);
	}
}

/* A child's result; a reply without one (a child's bug) is nil. */
static void
ctl_pack_result(msgpack_packer *pk, const msgpack_object *res)
{
	if (res == NULL)
		msgpack_pack_nil(pk);
	else
		msgpack_pack_object(pk, *res);
}

/* One child answered (or timed out, or is not running). */
static void
ctl_sub_done(void *arg, int ok, const msgpack_object *res, const char *code,
    const char *msg)
{
	struct ctl_sub *s = arg;
	struct ctl_wait *w = s->s_wait;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int remembered;

	/* pause/resume/set_interval are remembered for the next start. */
	remembered = !ok && strcmp(code, "unavailable") == 0 &&
	    (strcmp(w->w_op, "pause") == 0 || strcmp(w->w_op, "resume") == 0 ||
	    strcmp(w->w_op, "set_interval") == 0);
	if (w->w_conn != NULL && !w->w_conn->c_dead) {
		msgpack_packer_init(&pk, &w->w_acc, msgpack_sbuffer_write);
		if (w->w_all) {
			mp_str(&pk, s->s_name);
			w->w_n++;
			msgpack_pack_map(&pk, 2);
			mp_kv_bool(&pk, "ok", ok || remembered);
			if (ok) {
				mp_str(&pk, "result");
				ctl_pack_result(&pk, res);
			} else if (remembered) {
				mp_str(&pk, "result");
				msgpack_pack_map(&pk, 1);
				mp_kv_bool(&pk, "pending_restart", 1);
			} else {
				mp_str(&pk, "error");
				msgpack_pack_map(&pk, 2);
				mp_kv_str(&pk, "code", code);
				mp_kv_str(&pk, "message", msg ? msg : "");
			}
		} else {
			msgpack_sbuffer_init(&sb);
			msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
			if (ok && w->w_until_ns != 0) {
				mp_reply_ok(&pk, w->w_id);
				msgpack_pack_map(&pk, 1);
				mp_kv_uint(&pk, "until_ns", w->w_until_ns);
			} else if (ok) {
				mp_reply_ok(&pk, w->w_id);
				ctl_pack_result(&pk, res);
			} else if (remembered) {
				mp_reply_ok(&pk, w->w_id);
				msgpack_pack_map(&pk, 1);
				mp_kv_bool(&pk, "pending_restart", 1);
			} else
				mp_reply_err(&pk, w->w_id, code, msg ? msg : "");
			ctl_send(w->w_conn, &sb);
			msgpack_sbuffer_destroy(&sb);
			w->w_n = UINT32_MAX;	/* replied */
		}
	}
	free(s);
	if (--w->w_left == 0)
		ctl_wait_finish(w);
}

static void
ctl_wait_finish(struct ctl_wait *w)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	if (w->w_conn != NULL) {
		if (!w->w_conn->c_dead && w->w_n != UINT32_MAX) {
			msgpack_sbuffer_init(&sb);
			msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
			mp_reply_ok(&pk, w->w_id);
			msgpack_pack_map(&pk, w->w_n);
			msgpack_sbuffer_write(&sb, w->w_acc.data, w->w_acc.size);
			ctl_send(w->w_conn, &sb);
			msgpack_sbuffer_destroy(&sb);
		}
		ctl_unref(w->w_conn);
	}
	msgpack_sbuffer_destroy(&w->w_acc);
	free(w);
}

/* ---- operations ---- */

static void
op_hello(struct ctl_conn *c, uint64_t id, const msgpack_object *a)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	(void)a;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	mp_reply_ok(&pk, id);
	msgpack_pack_map(&pk, 3);
	mp_kv_uint(&pk, "protocol", CONTROL_PROTOCOL);
	mp_kv_str(&pk, "version", VIGIL_VERSION);
	mp_kv_uint(&pk, "pid", (uint64_t)getpid());
	ctl_send(c, &sb);
	msgpack_sbuffer_destroy(&sb);
}

static void
op_ping(struct ctl_conn *c, uint64_t id, const msgpack_object *a)
{
	(void)a;
	ctl_ok_empty(c, id);
}

/* key, then a reason's name, or nil for none. */
static void
pack_reason(msgpack_packer *pk, const char *key, unsigned reason)
{
	const char *s = vigil_reason_name(reason);

	mp_str(pk, key);
	if (s == NULL)
		msgpack_pack_nil(pk);
	else
		mp_str(pk, s);
}

/*
 * One model of the status reply: name, status, reason, usable; full adds
 * its list check, newest generation check, totals and windows.  The
 * rules are those of vigil-api's models[] (api/util.c, docs/http-api.md)
 * so that vigilctl and /health/integration agree: a status the
 * aggregator never wrote (or out of range) is unknown, with no reason
 * and not usable; listed is nil until a list check said, or in a block
 * never written; last_outcome is nil before the first check.
 */
static void
pack_model(msgpack_packer *pk, const char *name,
    const struct vigil_model_stats *s, int full)
{
	static const char *const wn[VIGIL_NWINDOWS] = { "1m", "5m", "15m" };
	unsigned st = vigil_model_effective_status(s);
	int checked = vigil_model_checked(s), w;

	msgpack_pack_map(pk, full ? 12 : 4);
	mp_kv_str(pk, "name", name);
	mp_kv_str(pk, "status", vigil_status_name(st));
	pack_reason(pk, "reason", st != VIGIL_ST_UNKNOWN ? s->reason :
	    VIGIL_RS_NONE);
	mp_kv_bool(pk, "usable", vigil_model_usable(s));
	if (!full)
		return;
	mp_str(pk, "listed");
	if (vigil_model_listed(s) < 0)
		msgpack_pack_nil(pk);
	else if (s->listed)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
	mp_str(pk, "last_outcome");
	if (checked)
		mp_str(pk, vigil_outcome_name(s->last_outcome));
	else
		msgpack_pack_nil(pk);
	mp_kv_str(pk, "last_error", s->last_error);
	mp_kv_uint(pk, "last_check_at_ns", checked ? s->last_wall_ns : 0);
	mp_kv_uint(pk, "checks_total", s->checks_total);
	mp_kv_uint(pk, "tokens_in_total", s->tokens_in_total);
	mp_kv_uint(pk, "tokens_out_total", s->tokens_out_total);
	mp_str(pk, "windows");
	msgpack_pack_map(pk, VIGIL_NWINDOWS);
	for (w = 0; w < VIGIL_NWINDOWS; w++) {
		mp_str(pk, wn[w]);
		msgpack_pack_map(pk, 6);
		mp_kv_uint(pk, "samples", s->win[w].samples);
		mp_kv_double(pk, "error_rate", s->win[w].error_rate);
		mp_kv_double(pk, "ttft_p50_ms", s->win[w].ttft_p50_ms);
		mp_kv_double(pk, "ttft_p95_ms", s->win[w].ttft_p95_ms);
		mp_kv_double(pk, "ttft_p99_ms", s->win[w].ttft_p99_ms);
		mp_kv_double(pk, "tokens_per_s", s->win[w].tokens_per_s);
	}
}

/*
 * "tokens" (the generation checks' tokens in the current UTC day, 0
 * when the aggregator's count is of an earlier day, and the budget) and
 * "models" of p, from its model block (ours) and each model's stats
 * block (the aggregator's; one it held busy reads as never written).
 */
static void
pack_models(msgpack_packer *pk, const struct vigil_provider *p, int full)
{
	struct vigil_models vm;
	struct vigil_model_stats ms;
	uint32_t k;

	if (vigil_models(&vd->cli, p->idx, &vm) != VIGIL_OK)
		memset(&vm.head, 0, sizeof(vm.head));
	mp_str(pk, "tokens");
	msgpack_pack_map(pk, 2);
	mp_kv_uint(pk, "used_today", vigil_probe_tokens_today(&p->stats,
	    now_wall_ns()));
	mp_kv_uint(pk, "budget", vm.head.token_budget);
	mp_str(pk, "models");
	msgpack_pack_array(pk, vm.head.count);
	for (k = 0; k < vm.head.count; k++) {
		if (vigil_model_stats(&vd->cli, p->idx, k, &ms) != VIGIL_OK)
			memset(&ms, 0, sizeof(ms));
		pack_model(pk, vm.names[k].name, &ms, full);
	}
}

/*
 * One provider of the status reply (full: its models in full).  Its
 * status, staleness and usable are vigil.h's read model
 * (vigil_effective_status, vigil_provider_stale, vigil_provider_usable)
 * at now, the same functions vigil-api uses: vigilctl prints these, so
 * that it and /health/integration cannot disagree.  Rate-limit
 * resources never reported are left out.
 */
static void
pack_provider_status(msgpack_packer *pk, const struct vigil_provider *p,
    uint64_t now, int full)
{
	static const char *const wn[VIGIL_NWINDOWS] = { "1m", "5m", "15m" };
	const struct vigil_stats *st = &p->stats;
	struct provider *pv = provider_find(p->info.name);
	const char *reason = vigil_reason_name(st->reason);
	uint32_t nrl = 0;
	int w;

	for (w = 0; w < VIGIL_RL_COUNT; w++)
		nrl += st->ratelimit[w].limit != 0;
	msgpack_pack_map(pk, 20);
	mp_kv_str(pk, "name", p->info.name);
	mp_kv_str(pk, "kind", vigil_kind_name(p->info.kind));
	mp_kv_str(pk, "status", vigil_status_name(vigil_effective_status(p)));
	mp_kv_str(pk, "circuit", vigil_circuit_name(st->circuit));
	mp_kv_str(pk, "trend", vigil_trend_name(st->trend));
	mp_kv_bool(pk, "stale", vigil_provider_stale(&vd->cli, p, now));
	mp_kv_bool(pk, "paused", (p->info.flags & VIGIL_PF_PAUSED) != 0);
	mp_kv_bool(pk, "usable", vigil_provider_usable(p, now_wall_ns()));
	pack_reason(pk, "reason", st->reason);
	mp_kv_uint(pk, "reason_since_ns", reason != NULL ?
	    st->reason_since_wall_ns : 0);
	mp_kv_bool(pk, "needs_human", st->needs_human != 0);
	mp_kv_uint(pk, "usable_at_ns", st->usable_at_wall_ns);
	mp_str(pk, "ratelimit");
	msgpack_pack_map(pk, nrl);
	for (w = 0; w < VIGIL_RL_COUNT; w++) {
		if (st->ratelimit[w].limit == 0)
			continue;
		mp_str(pk, vigil_rl_name((unsigned)w));
		msgpack_pack_map(pk, 3);
		mp_kv_uint(pk, "limit", st->ratelimit[w].limit);
		mp_kv_uint(pk, "remaining", st->ratelimit[w].remaining);
		mp_kv_uint(pk, "reset_at_ns", st->ratelimit[w].reset_wall_ns);
	}
	mp_kv_str(pk, "state", pv != NULL ? proc_state_name(
	    pv->pv_proc->p_state) : "down");
	mp_kv_uint(pk, "silenced_until_ns", st->silenced_until_wall_ns);
	mp_str(pk, "last_check");
	if (st->last.wall_ns == 0)
		msgpack_pack_nil(pk);
	else {
		msgpack_pack_map(pk, 4);
		mp_kv_uint(pk, "at_ns", st->last.wall_ns);
		mp_kv_str(pk, "outcome", vigil_outcome_name(st->last.outcome));
		mp_kv_uint(pk, "http_status", st->last.http_status);
		mp_kv_double(pk, "latency_ms", st->last.latency_us / 1000.0);
	}
	mp_kv_str(pk, "last_error", st->last_error);
	mp_str(pk, "windows");
	msgpack_pack_map(pk, VIGIL_NWINDOWS);
	for (w = 0; w < VIGIL_NWINDOWS; w++) {
		mp_str(pk, wn[w]);
		msgpack_pack_map(pk, 6);
		mp_kv_uint(pk, "samples", st->win[w].samples);
		mp_kv_double(pk, "error_rate", st->win[w].error_rate);
		mp_kv_double(pk, "uptime", st->win[w].uptime);
		mp_kv_double(pk, "p50_ms", st->win[w].p50_ms);
		mp_kv_double(pk, "p95_ms", st->win[w].p95_ms);
		mp_kv_double(pk, "p99_ms", st->win[w].p99_ms);
	}
	pack_models(pk, p, full);
}

/*
 * Every provider, or with "provider" (a name; "all" is every one) only
 * that one, its models in full.  The overall status is of every provider
 * either way.
 */
static void
op_status(struct ctl_conn *c, uint64_t id, const msgpack_object *a)
{
	struct vigil_provider *snap;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	char name[VIGIL_NAME_MAX];
	uint64_t now;
	size_t n, i, one = SIZE_MAX;
	int rc, want;

	if ((want = mp_get_str(a, "provider", name, sizeof(name))) == -2) {
		ctl_error(c, id, "bad_argument", "\"provider\" must be a "
		    "string of at most %zu bytes", sizeof(name) - 1);
		return;
	}
	want = want == 0 && strcmp(name, "all") != 0;
	if ((snap = calloc(vd->seg.lay.provider_cap, sizeof(*snap))) ==
	    NULL) {
		ctl_error(c, id, "internal", "out of memory");
		return;
	}
	if ((rc = vigil_snapshot_all(&vd->cli, snap, vd->seg.lay.provider_cap,
	    &n)) != VIGIL_OK) {
		free(snap);
		ctl_error(c, id, "busy", "segment: %s", vigil_strerror(rc));
		return;
	}
	for (i = 0; want && i < n; i++)
		if (strcmp(snap[i].info.name, name) == 0)
			one = i;
	if (want && one == SIZE_MAX) {
		free(snap);
		ctl_error(c, id, "not_found", "no provider \"%s\"", name);
		return;
	}
	now = vigil_now_mono_ns();
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	mp_reply_ok(&pk, id);
	msgpack_pack_map(&pk, 3);
	mp_kv_str(&pk, "status", vigil_status_name(vigil_overall_status(
	    &vd->cli, snap, n, now)));
	mp_kv_uint(&pk, "generated_at_ns", now_wall_ns());
	mp_str(&pk, "providers");
	if (one != SIZE_MAX) {
		msgpack_pack_array(&pk, 1);
		pack_provider_status(&pk, &snap[one], now, 1);
	} else {
		msgpack_pack_array(&pk, (uint32_t)n);
		for (i = 0; i < n; i++)
			pack_provider_status(&pk, &snap[i], now, 0);
	}
	ctl_send(c, &sb);
	msgpack_sbuffer_destroy(&sb);
	free(snap);
}

static void
op_providers(struct ctl_conn *c, uint64_t id, const msgpack_object *a)
{
	struct provider *pv;
	const struct vigil_provider_info *in;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint32_t n = 0;

	(void)a;
	TAILQ_FOREACH(pv, &vd->providers, pv_entry)
		if (!pv->pv_removing)
			n++;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	mp_reply_ok(&pk, id);
	msgpack_pack_array(&pk, n);
	TAILQ_FOREACH(pv, &vd->providers, pv_entry) {
		if (pv->pv_removing)
			continue;
		in = &vd->dir[pv->pv_slot];
		msgpack_pack_map(&pk, 12);
		mp_kv_str(&pk, "name", pv->pv_conf.name);
		mp_kv_str(&pk, "kind", vigil_kind_name(
		    (unsigned)pv->pv_conf.kind));
		mp_kv_str(&pk, "host", pv->pv_conf.host);
		mp_kv_uint(&pk, "slot", pv->pv_slot);
		mp_kv_uint(&pk, "interval_ms", in->interval_ms);
		mp_kv_uint(&pk, "timeout_ms", in->timeout_ms);
		mp_kv_bool(&pk, "paused", pv->pv_paused);
		mp_kv_str(&pk, "state", proc_state_name(
		    pv->pv_proc->p_state));
		mp_kv_uint(&pk, "pid", (uint64_t)(pv->pv_proc->p_pid > 0 ?
		    pv->pv_proc->p_pid : 0));
		mp_kv_uint(&pk, "restarts", pv->pv_proc->p_restarts);
		mp_kv_uint(&pk, "writer_epoch", in->writer_epoch);
		mp_kv_uint(&pk, "generation", in->generation);
	}
	ctl_send(c, &sb);
	msgpack_sbuffer_destroy(&sb);
}

static void
op_alerts(struct ctl_conn *c, uint64_t id, const msgpack_object *a)
{
	struct vigil_alert *al;
	struct vigil_cursor cur;
	uint64_t *formed;
	size_t nformed;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	char prov[VIGIL_NAME_MAX], level[16];
	uint64_t since = 0, limit = 100;
	size_t n, i, first, out;
	uint32_t cap = vd->seg.lay.alert_cap;
	int lv = -1, rc;

	prov[0] = '\0';
	if (mp_get_uint(a, "since_ns", &since) == -2 ||
	    mp_get_uint(a, "limit", &limit) == -2 ||
	    mp_get_str(a, "provider", prov, sizeof(prov)) == -2) {
		ctl_error(c, id, "bad_argument", "since_ns and limit must be "
		    "unsigned integers, provider a short string");
		return;
	}
	if ((rc = mp_get_str(a, "level", level, sizeof(level))) == -2 ||
	    (rc == 0 && (lv = strcmp(level, "warning") == 0 ?
	    VIGIL_AL_WARNING : strcmp(level, "critical") == 0 ?
	    VIGIL_AL_CRITICAL : strcmp(level, "resolved") == 0 ?
	    VIGIL_AL_RESOLVED : -2) == -2)) {
		ctl_error(c, id, "bad_argument", "level must be warning, "
		    "critical or resolved");
		return;
	}
	al = calloc(cap, sizeof(*al));
	formed = calloc(cap, sizeof(*formed));
	if (al == NULL || formed == NULL) {
		ctl_error(c, id, "internal", "out of memory");
		free(al);
		free(formed);
		return;
	}
	memset(&cur, 0, sizeof(cur));
	n = vigil_read_alerts(&vd->cli, &cur, al, cap);
	/* The incidents whose alert is in the ring, before the filter. */
	for (i = 0, nformed = 0; i < n; i++)
		if (al[i].kind == VIGIL_AK_INCIDENT && al[i].incident_id != 0)
			formed[nformed++] = al[i].incident_id;
	/* Keep the matches in place, then the last `limit` of them. */
	for (i = 0, out = 0; i < n; i++) {
		if (al[i].wall_ns < since)
			continue;
		if (prov[0] != '\0' && strcmp(al[i].provider, prov) != 0)
			continue;
		if (lv >= 0 && al[i].level != lv)
			continue;
		al[out++] = al[i];
	}
	first = out > limit ? out - (size_t)limit : 0;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	mp_reply_ok(&pk, id);
	msgpack_pack_array(&pk, (uint32_t)(out - first));
	for (i = first; i < out; i++) {
		msgpack_pack_map(&pk, 9);
		mp_kv_uint(&pk, "id", al[i].id);
		mp_kv_uint(&pk, "at_ns", al[i].wall_ns);
		mp_kv_str(&pk, "provider", al[i].provider);
		mp_kv_str(&pk, "kind", vigil_alert_kind_name(al[i].kind));
		mp_kv_str(&pk, "level", vigil_alert_level_name(al[i].level));
		mp_kv_double(&pk, "value", al[i].value);
		mp_kv_double(&pk, "threshold", al[i].threshold);
		mp_kv_bool(&pk, "silenced", (al[i].flags &
		    VIGIL_ALF_SILENCED) != 0);
		alert_incident(&pk, &al[i], formed, nformed);
	}
	ctl_send(c, &sb);
	msgpack_sbuffer_destroy(&sb);
	free(al);
	free(formed);
}

/*
 * An alert's "incident_id" (docs/aggregation.md, "Incidents"), as the
 * HTTP API gives it: the number once that incident's own alert is in
 * the ring (formed[0..n)), else nil (a group of one that never formed,
 * or none).  O(n).
 */
static void
alert_incident(msgpack_packer *pk, const struct vigil_alert *al,
    const uint64_t *formed, size_t n)
{
	size_t i;

	mp_str(pk, "incident_id");
	for (i = 0; i < n && al->incident_id != 0; i++)
		if (formed[i] == al->incident_id) {
			msgpack_pack_uint64(pk, al->incident_id);
			return;
		}
	msgpack_pack_nil(pk);
}

static void
op_history(struct ctl_conn *c, uint64_t id, const msgpack_object *a)
{
	static const struct { const char *name; uint64_t ms; } steps[] = {
		{ "raw", 0 }, { "1m", 60000 }, { "5m", 300000 },
		{ "15m", 900000 }, { "1h", 3600000 } };
	struct vigil_history *h;
	struct vigil_cursor cur;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	char name[VIGIL_NAME_MAX], step[8] = "raw";
	uint64_t from = 0, to = UINT64_MAX, limit = 1000, stepns = 0;
	uint32_t idx, cap = vd->seg.lay.history_cap;
	size_t n, i, out, first, si;
	int rc;

	if (ctl_provider_arg(c, id, a, name, sizeof(name), 0) == -1)
		return;
	if (mp_get_uint(a, "from_ns", &from) == -2 ||
	    mp_get_uint(a, "to_ns", &to) == -2 ||
	    mp_get_uint(a, "limit", &limit) == -2 ||
	    (rc = mp_get_str(a, "step", step, sizeof(step))) == -2) {
		ctl_error(c, id, "bad_argument", "from_ns, to_ns and limit "
		    "must be unsigned integers, step a string");
		return;
	}
	for (si = 0; si < sizeof(steps) / sizeof(steps[0]); si++)
		if (strcmp(steps[si].name, step) == 0)
			break;
	if (si == sizeof(steps) / sizeof(steps[0])) {
		ctl_error(c, id, "bad_argument", "step must be raw, 1m, 5m, "
		    "15m or 1h");
		return;
	}
	stepns = steps[si].ms * 1000000ull;
	if (vigil_find(&vd->cli, name, &idx) != VIGIL_OK) {
		ctl_error(c, id, "not_found", "no provider \"%s\" in the "
		    "segment", name);
		return;
	}
	if ((h = calloc(cap, sizeof(*h))) == NULL) {
		ctl_error(c, id, "internal", "out of memory");
		return;
	}
	memset(&cur, 0, sizeof(cur));
	n = vigil_read_history(&vd->cli, idx, &cur, h, cap);
	for (i = 0, out = 0; i < n; i++) {
		if (h[i].wall_ns < from || h[i].wall_ns > to)
			continue;
		/* A step keeps the newest record of each bucket. */
		if (stepns != 0 && out > 0 && h[out - 1].wall_ns / stepns ==
		    h[i].wall_ns / stepns)
			out--;
		h[out++] = h[i];
	}
	first = out > limit ? out - (size_t)limit : 0;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	mp_reply_ok(&pk, id);
	msgpack_pack_map(&pk, 3);
	mp_kv_str(&pk, "provider", name);
	mp_kv_str(&pk, "step", steps[si].name);
	mp_str(&pk, "points");
	msgpack_pack_array(&pk, (uint32_t)(out - first));
	for (i = first; i < out; i++) {
		msgpack_pack_map(&pk, 13);
		mp_kv_uint(&pk, "at_ns", h[i].wall_ns);
		mp_kv_str(&pk, "outcome", vigil_outcome_name(h[i].outcome));
		mp_kv_uint(&pk, "http_status", h[i].http_status);
		mp_kv_double(&pk, "latency_ms", h[i].latency_us / 1000.0);
		mp_kv_double(&pk, "p50_ms", h[i].p50_us / 1000.0);
		mp_kv_double(&pk, "p95_ms", h[i].p95_us / 1000.0);
		mp_kv_double(&pk, "p99_ms", h[i].p99_us / 1000.0);
		mp_kv_double(&pk, "error_rate", h[i].error_ppm / 1e6);
		mp_kv_double(&pk, "uptime", h[i].uptime_ppm / 1e6);
		mp_kv_uint(&pk, "samples_1m", h[i].samples_1m);
		mp_kv_str(&pk, "status", vigil_status_name(h[i].status));
		mp_kv_str(&pk, "circuit", vigil_circuit_name(h[i].circuit));
		pack_reason(&pk, "reason", h[i].reason);
	}
	ctl_send(c, &sb);
	msgpack_sbuffer_destroy(&sb);
	free(h);
}

static void
op_probe_now(struct ctl_conn *c, uint64_t id, const msgpack_object *a)
{
	char name[VIGIL_NAME_MAX];

	if (ctl_provider_arg(c, id, a, name, sizeof(name), 1) == -1)
		return;
	ctl_forward(c, id, "probe_now", name, NULL, 0);
}

static void
pause_resume(struct ctl_conn *c, uint64_t id, const msgpack_object *a,
    int paused)
{
	struct provider *pv;
	char name[VIGIL_NAME_MAX];
	int all;

	if (ctl_provider_arg(c, id, a, name, sizeof(name), 1) == -1)
		return;
	all = strcmp(name, "all") == 0;
	TAILQ_FOREACH(pv, &vd->providers, pv_entry)
		if (!pv->pv_removing && (all ||
		    strcmp(pv->pv_conf.name, name) == 0))
			provider_pause(pv, paused);
	ctl_forward(c, id, paused ? "pause" : "resume", name, NULL, 0);
}

static void
op_pause(struct ctl_conn *c, uint64_t id, const msgpack_object *a)
{
	pause_resume(c, id, a, 1);
}

static void
op_resume(struct ctl_conn *c, uint64_t id, const msgpack_object *a)
{
	pause_resume(c, id, a, 0);
}

static void
op_set_interval(struct ctl_conn *c, uint64_t id, const msgpack_object *a)
{
	struct provider *pv;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	char name[VIGIL_NAME_MAX];
	uint64_t ms;
	int rc, all;

	if (ctl_provider_arg(c, id, a, name, sizeof(name), 1) == -1)
		return;
	if ((rc = ctl_duration_arg(c, id, a, "interval_ms", "interval",
	    &ms)) == -1)
		return;
	if (rc == 0) {
		ctl_error(c, id, "missing_argument", "\"interval_ms\" or "
		    "\"interval\" is required");
		return;
	}
	if (ms < roles_min_interval() || ms > 300000) {
		ctl_error(c, id, "bad_argument", "interval %llu ms is outside "
		    "%u..300000 ms%s", (unsigned long long)ms,
		    roles_min_interval(), vd->conf.allow_fast_probes ? "" :
		    " (allow_fast_probes = no)");
		return;
	}
	all = strcmp(name, "all") == 0;
	TAILQ_FOREACH(pv, &vd->providers, pv_entry)
		if (!pv->pv_removing && (all ||
		    strcmp(pv->pv_conf.name, name) == 0))
			provider_set_interval(pv, (uint32_t)ms);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	mp_kv_uint(&pk, "interval_ms", ms);
	ctl_forward(c, id, "set_interval", name, &sb, 0);
	msgpack_sbuffer_destroy(&sb);
}

static void
op_silence(struct ctl_conn *c, uint64_t id, const msgpack_object *a)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	char name[VIGIL_NAME_MAX], reason[256];
	uint64_t ms, until = 0, now = now_wall_ns();
	const uint64_t max_ms = 366ull * 86400 * 1000;
	int rc;

	if (ctl_provider_arg(c, id, a, name, sizeof(name), 1) == -1)
		return;
	if ((rc = mp_get_uint(a, "until_ns", &until)) == -2) {
		ctl_error(c, id, "bad_argument", "\"until_ns\" must be an "
		    "unsigned integer");
		return;
	}
	if (rc == -1) {
		if ((rc = ctl_duration_arg(c, id, a, "duration_ms", "duration",
		    &ms)) == -1)
			return;
		if (rc == 0) {
			ctl_error(c, id, "missing_argument", "one of "
			    "\"duration_ms\", \"duration\", \"until_ns\" is "
			    "required");
			return;
		}
		if (ms == 0 || ms > max_ms) {
			ctl_error(c, id, "bad_argument", "the duration must be "
			    "between 1 ms and 366 days");
			return;
		}
		until = now + ms * 1000000ull;
	} else if (until <= now) {
		ctl_error(c, id, "bad_argument", "\"until_ns\" is in the past");
		return;
	} else if (until - now > max_ms * 1000000ull) {
		/* The same bound as a duration: no silence for ever. */
		ctl_error(c, id, "bad_argument", "\"until_ns\" is more than "
		    "366 days from now");
		return;
	}
	reason[0] = '\0';
	if (mp_get_str(a, "reason", reason, sizeof(reason)) == -2) {
		ctl_error(c, id, "bad_argument", "\"reason\" must be a string "
		    "of at most 255 bytes");
		return;
	}
	log_info("control: silence %s until %llu: %s", name,
	    (unsigned long long)until, reason[0] ? reason : "(no reason)");
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	mp_kv_str(&pk, "provider", name);
	mp_kv_uint(&pk, "until_wall_ns", until);
	mp_kv_str(&pk, "reason", reason);
	ctl_forward(c, id, "silence", NULL, &sb, until);
	msgpack_sbuffer_destroy(&sb);
}

static void
op_unsilence(struct ctl_conn *c, uint64_t id, const msgpack_object *a)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	char name[VIGIL_NAME_MAX];

	if (ctl_provider_arg(c, id, a, name, sizeof(name), 1) == -1)
		return;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	mp_kv_str(&pk, "provider", name);
	ctl_forward(c, id, "unsilence", NULL, &sb, 0);
	msgpack_sbuffer_destroy(&sb);
}

static void
op_reload(struct ctl_conn *c, uint64_t id, const msgpack_object *a)
{
	char err[CONF_ERR_MAX + 128];

	(void)a;
	if (vigild_reload(err, sizeof(err)) == -1)
		ctl_error(c, id, "config", "%s", err);
	else
		ctl_ok_empty(c, id);
}

/* An optional number of a report: 0 when absent; -1 when not a number
 * up to max. */
static int
report_num(const msgpack_object *o, const char *key, uint64_t max,
    uint64_t *v)
{
	int rc = mp_get_uint(o, key, v);

	if (rc == -1)
		*v = 0;
	return rc == -2 || (rc == 0 && *v > max) ? -1 : 0;
}

/*
 * One report of the report op into rec: provider by name (the
 * directory), model by name among its models, outcome by name; the
 * numbers as given (the aggregator checks their ranges, as for any
 * client).  0, or -1: invalid.
 */
static int
report_one(const msgpack_object *o, struct vigil_report_rec *rec)
{
	char name[VIGIL_NAME_MAX], model[VIGIL_MODEL_MAX], out[24];
	struct provider *pv;
	uint64_t v;
	uint32_t m;
	unsigned k;
	int rc;

	memset(rec, 0, sizeof(*rec));
	rec->model = -1;
	if (o->type != MSGPACK_OBJECT_MAP ||
	    mp_get_str(o, "provider", name, sizeof(name)) != 0 ||
	    (pv = provider_find(name)) == NULL ||
	    mp_get_str(o, "outcome", out, sizeof(out)) != 0)
		return -1;
	rec->provider = (int32_t)pv->pv_slot;
	for (k = 0; k < VIGIL_OUT_COUNT; k++)
		if (strcmp(out, vigil_outcome_name(k)) == 0)
			break;
	if (k == VIGIL_OUT_COUNT)
		return -1;
	rec->outcome = (uint8_t)k;
	if ((rc = mp_get_str(o, "model", model, sizeof(model))) == -2 ||
	    (rc == 0 && vigil_find_model(&vd->cli, pv->pv_slot, model,
	    &m) != VIGIL_OK))
		return -1;
	if (rc == 0)
		rec->model = (int32_t)m;
	if (report_num(o, "http_status", 599, &v) == -1)
		return -1;
	rec->http_status = (uint16_t)v;
	if (report_num(o, "latency_us", UINT32_MAX, &v) == -1)
		return -1;
	rec->latency_us = (uint32_t)v;
	if (report_num(o, "ttft_us", UINT32_MAX, &v) == -1)
		return -1;
	rec->ttft_us = (uint32_t)v;
	if (report_num(o, "tokens_in", UINT32_MAX, &v) == -1)
		return -1;
	rec->tokens_in = (uint32_t)v;
	if (report_num(o, "tokens_out", UINT32_MAX, &v) == -1)
		return -1;
	rec->tokens_out = (uint32_t)v;
	return 0;
}

/*
 * report: a batch of traffic reports from a client of the socket (a
 * service in a language without the C reporter).  Written through
 * vigild's own slot of the reports segment, claimed at the first
 * report op; the aggregator reads them as any client's (report_rate_max
 * applies to the slot: to every socket reporter together).
 */
static void
op_report(struct ctl_conn *c, uint64_t id, const msgpack_object *a)
{
	static struct vigil_reporter rep;
	const msgpack_object *arr;
	struct vigil_report_rec rec;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint64_t accepted = 0, dropped = 0, invalid = 0;
	uint32_t i;

	if (!c->c_reporter) {
		ctl_error(c, id, "forbidden", "report needs root or the "
		    "report group %s", vd->conf.report_group);
		return;
	}
	if ((arr = mp_get(a, "reports")) == NULL) {
		ctl_error(c, id, "missing_argument", "reports");
		return;
	}
	if (arr->type != MSGPACK_OBJECT_ARRAY ||
	    arr->via.array.size > CTL_REPORT_MAX) {
		ctl_error(c, id, "bad_argument", "reports: an array of at most "
		    "%u maps", CTL_REPORT_MAX);
		return;
	}
	if (vd->reports.base == NULL) {
		ctl_error(c, id, "unavailable", "the reports segment could not "
		    "be made (see vigild's log)");
		return;
	}
	if (rep.slot == NULL) {
		rep.base = vd->reports.base;
		rep.size = vd->reports.size;
		rep.lay = vd->reports.lay;
		rep.owner = (uint64_t)(uint32_t)getpid() |
		    (uint64_t)vigil__proc_start((long)getpid()) << 32;
		if (vigil__reporter_claim(&rep) == -1) {
			ctl_error(c, id, "busy", "every report slot is taken");
			return;
		}
	}
	for (i = 0; i < arr->via.array.size; i++) {
		if (report_one(&arr->via.array.ptr[i], &rec) == -1)
			invalid++;
		else if (vigil_report(&rep, &rec) == 0)
			accepted++;
		else
			dropped++;
	}
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	mp_reply_ok(&pk, id);
	msgpack_pack_map(&pk, 3);
	mp_str(&pk, "accepted");
	msgpack_pack_uint64(&pk, accepted);
	mp_str(&pk, "dropped");
	msgpack_pack_uint64(&pk, dropped);
	mp_str(&pk, "invalid");
	msgpack_pack_uint64(&pk, invalid);
	ctl_send(c, &sb);
	msgpack_sbuffer_destroy(&sb);
}

static void
shutdown_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	vigild_shutdown();
}

static void
op_shutdown(struct ctl_conn *c, uint64_t id, const msgpack_object *a)
{
	struct timeval now = { 0, 0 };

	(void)a;
	ctl_ok_empty(c, id);
	/* After this callback returns: control_close flushes the reply. */
	event_base_once(vd->base, -1, EV_TIMEOUT, shutdown_cb, NULL, &now);
}
