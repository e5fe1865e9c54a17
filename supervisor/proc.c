/*
 * proc.c - start, watch, talk to and stop vigild's children.
 *
 * Every child is started by fork+exec with fds 0-2 (stdin /dev/null),
 * 3 the segment, 4 its end of a socketpair and 5 what the role's fd5
 * hook gives (vigil-api's listening socket, the spawner's request
 * socket; docs/internals.md); nothing else survives exec.  A prober is
 * forked by the spawner instead when it is up (proc_spawn), and by
 * fork+exec when it is not or does not answer.  The
 * first frame on the socketpair is the configure request; the child's ok
 * reply is its readiness.  Later requests carry increasing ids and each
 * gets exactly one callback: the reply, "timeout" or "unavailable".
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <msgpack.h>

#include "child.h"
#include "evtime.h"
#include "fdpass.h"
#include "frame.h"
#include "log.h"
#include "priv.h"
#include "proc.h"
#include "ring.h"

#define CONFIGURE_ID	1
#define CONFIGURE_RESERVE (64 * 1024)	/* > any configure request */
#define PROC_ORPHAN_MS	1000	/* alive without its channel: killed */
#define PROC_SPAWN_MS	500	/* the spawner's reply to a request */

struct procs		 procs = TAILQ_HEAD_INITIALIZER(procs);
static struct proc_env	*env;
static pid_t		 proc_parent;	/* vigild, for the child's check */

static void	proc_exec_child(struct proc *, int, int, const char *)
		    __attribute__((noreturn));
static pid_t	proc_spawn(struct proc *, int[2]);
static pid_t	proc_spawn_request(struct proc *, int, char *, size_t);
static void	proc_read_cb(struct bufferevent *, void *);
static void	proc_event_cb(struct bufferevent *, short, void *);
static void	proc_timer_cb(evutil_socket_t, short, void *);
static void	proc_pending_timeout(evutil_socket_t, short, void *);
static void	proc_dispatch(struct proc *, const msgpack_object *);
static void	proc_fail_pending(struct proc *, const char *, const char *);
static void	proc_close_channel(struct proc *);
static void	proc_describe(int, char *, size_t);
static int	proc_move_fd(int, int);
static void	proc_restart_cb(struct proc *);
static int	proc_pack_configure(struct proc *, msgpack_sbuffer *);
static pid_t	proc_fork(struct proc *, int[2], msgpack_sbuffer *,
		    const char *);
static int	proc_open_channel(struct proc *, int);
static void	proc_wipe(msgpack_sbuffer *);
static void	proc_backoff(struct proc *, enum proc_state);
static pid_t	proc_gone(struct proc *, int, char *, size_t, uint64_t *);

/*
 * The per-child state machine (docs/internals.md, "Supervision rules").
 * Every change of p_state is one cell of proc_table, applied by
 * proc_event: what happened (the event) in which state picks an action,
 * and the state it leads to.
 */
enum proc_event {
	PROC_EV_START = 0,	/* proc_start() */
	PROC_EV_READY,		/* the configure reply: ok */
	PROC_EV_REFUSED,	/* the configure reply: an error */
	PROC_EV_HANGUP,		/* the socketpair closed */
	PROC_EV_EXIT,		/* the child was reaped */
	PROC_EV_STOP,		/* proc_stop() */
	PROC_EV_TIMER,		/* p_timer: handshake, stop, orphan, backoff */
	PROC_NEVENT
};
#define PROC_NSTATE	(PROC_BACKOFF + 1)

/*
 * An event as its action sees it: where the table says it leads, and
 * what came with it (nothing for most).
 */
struct proc_ev {
	enum proc_state		 next;		/* the cell's next state */
	enum proc_state		 other;		/* the cell's other way out */
	int			 status;	/* EXIT: the wait status */
	const msgpack_object	*result;	/* READY: the result, or NULL */
	const char		*code;		/* REFUSED: the child's error */
	const char		*message;
};

typedef int	proc_action(struct proc *, const struct proc_ev *);

/*
 * One cell: the action, the state it leads to, and the other state it
 * may choose instead (a failed start backs off, exit 125 is permanent),
 * else next again.  The action sets p_state itself, at the point the
 * order of its steps needs (role hooks see the state they expect, and an
 * on_stopped callback may free p: nothing may touch p after it).  A cell
 * without an action is an event that cannot happen in that state.
 */
struct proc_cell {
	proc_action		*pc_action;
	enum proc_state		 pc_next;
	enum proc_state		 pc_else;
};

static int	proc_event(struct proc *, enum proc_event, struct proc_ev *);
static const char *proc_event_name(enum proc_event);
static proc_action	proc_act_start, proc_act_ready, proc_act_refused,
			proc_act_late, proc_act_hangup, proc_act_orphan,
			proc_act_died, proc_act_stopped, proc_act_term,
			proc_act_keep, proc_act_down, proc_act_no_reply,
			proc_act_no_exit, proc_act_orphan_kill;

#define T(state, event, act, next, other) \
	[PROC_##state][PROC_EV_##event] = \
	    { proc_act_##act, PROC_##next, PROC_##other }

/*
 * state x event -> action, next state (or the other one).  Read a row
 * as "in this state, when this happens".  One way out is not in the
 * table: a start whose binary is missing ends DOWN (p_permanent), as
 * there is nothing to retry before a reload.  docs/internals.md has the
 * same table; keep the two the same.
 */
static const struct proc_cell proc_table[PROC_NSTATE][PROC_NEVENT] = {
	/* in state,	on event,	action,		next, or */
	T(DOWN,		START,		start,		STARTING, BACKOFF),
	T(DOWN,		STOP,		down,		DOWN, DOWN),
	T(STARTING,	READY,		ready,		UP, UP),
	T(STARTING,	REFUSED,	refused,	STARTING, STARTING),
	T(STARTING,	HANGUP,		hangup,		STARTING, STARTING),
	T(STARTING,	EXIT,		died,		BACKOFF, DOWN),
	T(STARTING,	STOP,		term,		STOPPING, STOPPING),
	T(STARTING,	TIMER,		no_reply,	STARTING, STARTING),
	T(UP,		READY,		late,		UP, UP),
	T(UP,		REFUSED,	late,		UP, UP),
	T(UP,		HANGUP,		orphan,		UP, UP),
	T(UP,		EXIT,		died,		BACKOFF, DOWN),
	T(UP,		STOP,		term,		STOPPING, STOPPING),
	T(UP,		TIMER,		orphan_kill,	UP, UP),
	T(STOPPING,	READY,		late,		STOPPING, STOPPING),
	T(STOPPING,	REFUSED,	late,		STOPPING, STOPPING),
	T(STOPPING,	HANGUP,		hangup,		STOPPING, STOPPING),
	T(STOPPING,	EXIT,		stopped,	DOWN, DOWN),
	T(STOPPING,	STOP,		keep,		STOPPING, STOPPING),
	T(STOPPING,	TIMER,		no_exit,	STOPPING, STOPPING),
	T(BACKOFF,	STOP,		down,		DOWN, DOWN),
	T(BACKOFF,	TIMER,		start,		STARTING, BACKOFF),
};

#undef T

void
proc_init(struct proc_env *e)
{
	env = e;
}

const char *
proc_state_name(enum proc_state s)
{
	static const char *const n[] = { "down", "starting", "up",
	    "stopping", "backoff" };

	return (unsigned)s < sizeof(n) / sizeof(n[0]) ? n[s] : "invalid";
}

struct proc *
proc_new(const struct proc_role *role, const char *name, void *ctx)
{
	struct proc *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->p_role = role;
	snprintf(p->p_name, sizeof(p->p_name), "%s", name);
	if (name[0] != '\0')
		snprintf(p->p_label, sizeof(p->p_label), "%s %s", role->name,
		    name);
	else
		snprintf(p->p_label, sizeof(p->p_label), "%s", role->name);
	p->p_ctx = ctx;
	p->p_state = PROC_DOWN;
	p->p_backoff_ms = PROC_BACKOFF_MIN_MS;
	TAILQ_INIT(&p->p_pending);
	if ((p->p_timer = evtimer_new(env->base, proc_timer_cb, p)) == NULL) {
		free(p);
		return NULL;
	}
	TAILQ_INSERT_TAIL(&procs, p, p_entry);
	return p;
}

/* Forget a child that is DOWN. */
void
proc_free(struct proc *p)
{
	proc_fail_pending(p, "unavailable", "process stopped");
	proc_close_channel(p);
	event_free(p->p_timer);
	TAILQ_REMOVE(&procs, p, p_entry);
	free(p);
}

/*
 * Find the role's executable: next to vigild's own (a build tree, or an
 * install that keeps them together), then in the libexec directory.
 * Returns 0 with path filled, -1 if neither is executable.
 */
int
proc_binary(const struct proc_role *role, char *path, size_t len)
{
	int n;

	if (env->selfdir[0] != '\0') {
		n = snprintf(path, len, "%s/%s", env->selfdir, role->binary);
		if (n > 0 && (size_t)n < len && access(path, X_OK) == 0)
			return 0;
	}
	if (env->libexec[0] != '\0') {
		n = snprintf(path, len, "%s/%s", env->libexec, role->binary);
		if (n > 0 && (size_t)n < len && access(path, X_OK) == 0)
			return 0;
	}
	return -1;
}

static const char *
proc_event_name(enum proc_event ev)
{
	static const char *const n[] = { "start", "ready", "refused",
	    "hangup", "exit", "stop", "timer" };

	return (unsigned)ev < sizeof(n) / sizeof(n[0]) ? n[ev] : "invalid";
}

/*
 * Apply event ev to p: the action of its cell in proc_table.  An event
 * the table does not allow in p's state is a bug in vigild: logged and
 * ignored, never a crash.  Returns the action's result (0, or -1 when it
 * failed: a start that did not start), -1 for an ignored event.
 */
static int
proc_event(struct proc *p, enum proc_event ev, struct proc_ev *e)
{
	const struct proc_cell *c = NULL;
	struct proc_ev none;

	if ((unsigned)p->p_state < PROC_NSTATE && (unsigned)ev < PROC_NEVENT)
		c = &proc_table[p->p_state][ev];
	if (c == NULL || c->pc_action == NULL) {
		log_warnx("%s: bug: event %s in state %s ignored", p->p_label,
		    proc_event_name(ev), proc_state_name(p->p_state));
		return -1;
	}
	if (e == NULL) {
		memset(&none, 0, sizeof(none));
		e = &none;
	}
	e->next = c->pc_next;
	e->other = c->pc_else;
	return c->pc_action(p, e);
}

/*
 * Start the child (DOWN, or BACKOFF's timer): socketpair, fork, exec,
 * then send the configure request; the reply arrives in the event loop.
 * Returns 0, or -1 when it could not even be forked or configured (the
 * child is then in BACKOFF and will be tried again) or its binary is
 * missing (DOWN for good: nothing to retry until a reload).
 */
static int
proc_act_start(struct proc *p, const struct proc_ev *e)
{
	msgpack_sbuffer sb;
	char path[PATH_MAX], err[256];
	int sv[2];
	pid_t pid;

	p->p_want = 1;
	p->p_permanent = 0;
	evtimer_del(p->p_timer);
	if (proc_binary(p->p_role, path, sizeof(path)) == -1) {
		log_warnx("%s: %s not found next to vigild nor in %s; not "
		    "started", p->p_label, p->p_role->binary,
		    env->libexec);
		p->p_state = PROC_DOWN;
		p->p_permanent = 1;
		return -1;
	}
	if (proc_pack_configure(p, &sb) == -1) {
		proc_backoff(p, e->other);
		return -1;
	}
	if (p->p_role->prestart != NULL)
		p->p_role->prestart(p);
	if ((pid = proc_fork(p, sv, &sb, path)) == -1) {
		proc_wipe(&sb);
		proc_backoff(p, e->other);
		return -1;
	}
	close(sv[1]);
	p->p_pid = pid;
	p->p_wd_killed = 0;
	p->p_state = e->next;
	p->p_start_mono_ns = now_mono_ns();
	p->p_next_id = CONFIGURE_ID + 1;
	if (p->p_starts++ > 0)
		p->p_restarts++;

	/*
	 * The configure frame goes out on the still blocking socket, before
	 * any buffering: the socket's buffer is empty and far larger than
	 * the frame, and the secret in it never sits in a libevent buffer.
	 */
	if (frame_send(sv[0], sb.data, sb.size, err, sizeof(err)) == -1)
		log_warnx("%s: configure: %s", p->p_label,
		    err);
	proc_wipe(&sb);
	return proc_open_channel(p, sv[0]);
}

/*
 * The configure request into sb: {id, op, args}, args from the role.
 * Returns 0, or -1 (logged; sb is then freed).
 */
static int
proc_pack_configure(struct proc *p, msgpack_sbuffer *sb)
{
	static const char zeros[CONFIGURE_RESERVE];
	msgpack_packer pk;
	char err[256];

	/*
	 * Reserve the buffer before packing: a realloc while the secret is
	 * in it would free a copy we could not wipe.
	 */
	msgpack_sbuffer_init(sb);
	if (msgpack_sbuffer_write(sb, zeros, sizeof(zeros)) != 0) {
		log_warnx("%s: out of memory", p->p_label);
		msgpack_sbuffer_destroy(sb);
		return -1;
	}
	msgpack_sbuffer_clear(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	mp_kv_uint(&pk, "id", CONFIGURE_ID);
	mp_kv_str(&pk, "op", "configure");
	mp_str(&pk, "args");
	if (p->p_role->configure(p, &pk, err, sizeof(err)) == -1) {
		proc_wipe(sb);
		log_warnx("%s: cannot configure: %s; retrying in %u ms",
		    p->p_label, err, p->p_backoff_ms);
		return -1;
	}
	return 0;
}

/* Wipe the configure request (it may hold a secret) and free it. */
static void
proc_wipe(msgpack_sbuffer *sb)
{
	explicit_bzero(sb->data, sb->size);
	msgpack_sbuffer_destroy(sb);
}

/*
 * The child's process: by the spawner for a spawned role when it is up,
 * else fork+exec.  sv becomes the socketpair, sv[1] the child's end.
 * Returns the pid, or -1 (logged; sv closed).
 */
static pid_t
proc_fork(struct proc *p, int sv[2], msgpack_sbuffer *sb, const char *path)
{
	int fd5 = -1, close5 = 0;
	pid_t pid = -1;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		log_warn("%s: socketpair", p->p_label);
		return -1;
	}
	proc_parent = getpid();
	if (p->p_role->spawned && (pid = proc_spawn(p, sv)) == -1 &&
	    sv[0] == -1)
		return -1;
	if (pid != -1)
		return pid;
	if (p->p_role->fd5 != NULL)
		fd5 = p->p_role->fd5(p, &close5);
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		explicit_bzero(sb->data, sb->size);
		proc_exec_child(p, sv[1], fd5, path);
	}
	if (fd5 != -1 && close5)
		close(fd5);
	if (pid == -1) {
		log_warn("%s: fork", p->p_label);
		close(sv[0]);
		close(sv[1]);
	}
	return pid;
}

/*
 * Our end of the socketpair into the event loop, and the handshake
 * timer.  Returns 0, or -1 (the child is killed: the reap follows).
 */
static int
proc_open_channel(struct proc *p, int fd)
{
	p->p_bev = bufferevent_socket_new(env->base, fd,
	    BEV_OPT_CLOSE_ON_FREE);
	if (p->p_bev == NULL) {
		log_warnx("%s: bufferevent failed", p->p_label);
		close(fd);
		kill(p->p_pid, SIGKILL);
		return -1;
	}
	evutil_make_socket_nonblocking(fd);
	bufferevent_setcb(p->p_bev, proc_read_cb, NULL, proc_event_cb, p);
	bufferevent_setwatermark(p->p_bev, EV_READ, 0, FRAME_HDR + FRAME_MAX);
	bufferevent_enable(p->p_bev, EV_READ | EV_WRITE);
	evtime_add_ms(p->p_timer, PROC_HANDSHAKE_MS);
	log_debug("%s: started pid %d", p->p_label,
	    (int)p->p_pid);
	return 0;
}

/* Into state s (BACKOFF) for p_backoff_ms, and double it, capped. */
static void
proc_backoff(struct proc *p, enum proc_state s)
{
	p->p_state = s;
	evtime_add_ms(p->p_timer, p->p_backoff_ms);
	p->p_backoff_ms = p->p_backoff_ms * 2 > PROC_BACKOFF_MAX_MS ?
	    PROC_BACKOFF_MAX_MS : p->p_backoff_ms * 2;
}

/*
 * Start the child; see proc_act_start.  Only a DOWN child can be
 * started: in another state this is a bug, logged, and -1.
 */
int
proc_start(struct proc *p)
{
	return proc_event(p, PROC_EV_START, NULL);
}

/*
 * Ask the spawner (docs/internals.md) to fork the prober with sv[1] as
 * its fd 4.  Returns the prober's pid, now vigild's own child; or -1
 * when the spawner is not up or failed: the caller falls back to
 * fork+exec.  After a failed request sv is a fresh socketpair (a late
 * prober would hold the old one), or -1s if none could be made.
 */
static pid_t
proc_spawn(struct proc *p, int sv[2])
{
	static int warned;
	struct proc *s = env->spawner, *q;
	char why[128];
	pid_t pid;
	int st;

	if (s == NULL || s->p_state != PROC_UP || env->spawn_fd == -1)
		return -1;
	pid = proc_spawn_request(p, sv[1], why, sizeof(why));
	if (pid > 0) {
		TAILQ_FOREACH(q, &procs, p_entry)
			if (q->p_pid == pid)
				break;
		if (q == NULL && waitpid(pid, &st, WNOHANG) == 0) {
			warned = 0;
			return pid;
		}
		snprintf(why, sizeof(why), "pid %d is not a new child of "
		    "vigild", (int)pid);
		pid = 0;
	}
	if (pid == 0) {
		/* No answer or a wrong one: the spawner is restarted. */
		close(env->spawn_fd);
		env->spawn_fd = -1;
		if (s->p_pid > 0)
			kill(s->p_pid, SIGKILL);
	}
	if (!warned)
		log_warnx("%s: spawner: %s; starting probers by fork+exec "
		    "meanwhile", p->p_label, why);
	else
		log_debug("%s: spawner: %s", p->p_label, why);
	warned = 1;
	close(sv[0]);
	close(sv[1]);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		log_warn("%s: socketpair", p->p_label);
		sv[0] = sv[1] = -1;
	}
	return -1;
}

/*
 * One request to the spawner: the provider name with sock attached, on
 * the non-blocking SOCK_SEQPACKET socket; the reply, one int32 pid, is
 * awaited for PROC_SPAWN_MS.  Returns the pid, -1 when the spawner could
 * not fork or the request could not be sent, 0 when there was no valid
 * reply in time (why says which).
 */
static pid_t
proc_spawn_request(struct proc *p, int sock, char *why, size_t len)
{
	struct pollfd pfd;
	uint64_t deadline, now;
	int32_t pid;
	ssize_t n;
	int rc;

	if (fdpass_send(env->spawn_fd, p->p_name, strlen(p->p_name), sock,
	    MSG_NOSIGNAL | MSG_DONTWAIT) == -1) {
		snprintf(why, len, "request: %s", strerror(errno));
		return -1;
	}
	deadline = now_mono_ns() + PROC_SPAWN_MS * 1000000ull;
	pfd.fd = env->spawn_fd;
	pfd.events = POLLIN;
	for (;;) {
		now = now_mono_ns();
		if (now >= deadline) {
			snprintf(why, len, "no reply within %d ms",
			    PROC_SPAWN_MS);
			return 0;
		}
		rc = poll(&pfd, 1, (int)((deadline - now) / 1000000) + 1);
		if (rc == -1 && errno != EINTR) {
			snprintf(why, len, "poll: %s", strerror(errno));
			return 0;
		}
		if (rc <= 0)
			continue;
		n = recv(env->spawn_fd, &pid, sizeof(pid), MSG_DONTWAIT);
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n != (ssize_t)sizeof(pid)) {
			snprintf(why, len, "bad reply (%zd bytes)", n);
			return 0;
		}
		if (pid <= 0) {
			snprintf(why, len, "it could not fork");
			return -1;
		}
		return (pid_t)pid;
	}
}

/* Move fd to at least 10, so that dup2 to 3..5 cannot clobber a source. */
static int
proc_move_fd(int fd, int min)
{
	return fcntl(fd, F_DUPFD, min);
}

/*
 * In the child: descriptors, credentials, environment, exec.  Only
 * async-signal-safe-ish calls that cannot take locks held by a thread of
 * the parent (vigild has none).  Never returns.
 */
static void
proc_exec_child(struct proc *p, int sock, int fd5, const char *path)
{
	char *argv[4], *envp[5];
	char journal[256], drop[64];
	const char *js;
	sigset_t all;
	int segfd, nullfd, s, l = -1, i;

	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	for (i = 1; i < NSIG; i++)
		if (i != SIGKILL && i != SIGSTOP)
			signal(i, SIG_DFL);

	segfd = proc_move_fd(p->p_role->seg_writable ? env->seg_rw_fd :
	    env->seg_ro_fd, 10);
	s = proc_move_fd(sock, 10);
	if (fd5 != -1 && (l = proc_move_fd(fd5, 10)) == -1)
		_exit(127);
	nullfd = open("/dev/null", O_RDWR);
	if (segfd == -1 || s == -1 || nullfd == -1)
		_exit(127);
	if (dup2(nullfd, 0) == -1 || dup2(segfd, 3) == -1 ||
	    dup2(s, 4) == -1 || (l != -1 && dup2(l, 5) == -1))
		_exit(127);
	close_range(l != -1 ? 6 : 5, ~0U, 0);

	/*
	 * No drop here: a process of the service uid could ptrace the child
	 * or open its /proc/PID/mem between execve (which makes it dumpable
	 * again) and its own prctl.  The child execs as root, makes itself
	 * non-dumpable, then drops to the uid:gid in PRIV_DROP_ENV
	 * (common/priv.c).  That also lets it exec from a build tree only
	 * root can read.
	 */
	if (chdir("/") == -1 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    prctl(PR_SET_PDEATHSIG, SIGTERM) == -1)
		_exit(127);
	/* vigild died before PDEATHSIG was armed: do not run orphaned. */
	if (getppid() != proc_parent)
		_exit(0);

	argv[0] = (char *)p->p_role->binary;
	argv[1] = p->p_role->per_provider ? p->p_name :
	    (char *)p->p_role->args[0];
	argv[2] = argv[1] != NULL ? (char *)p->p_role->args[1] : NULL;
	argv[3] = NULL;
	i = 0;
	envp[i++] = "PATH=/usr/bin:/bin";
	if (p->p_role->env != NULL)
		envp[i++] = (char *)p->p_role->env;
	if (env->drop) {
		snprintf(drop, sizeof(drop), "%s=%lu:%lu", PRIV_DROP_ENV,
		    (unsigned long)env->uid, (unsigned long)env->gid);
		envp[i++] = drop;
	}
	if ((js = getenv("JOURNAL_STREAM")) != NULL &&
	    strlen(js) < sizeof(journal) - 16) {
		snprintf(journal, sizeof(journal), "JOURNAL_STREAM=%s", js);
		envp[i++] = journal;
	}
	envp[i] = NULL;
	execve(path, argv, envp);
	/*
	 * What trying again cannot fix is permanent: say so once, with
	 * the fix, rather than every backoff period forever.  A busy text
	 * file (an upgrade in progress) or no memory may pass: 127.
	 */
	if (errno == ETXTBSY || errno == ENOMEM || errno == EAGAIN) {
		dprintf(2, "vigild: exec %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	dprintf(2, "vigild: exec %s: %s: will not retry; make it an "
	    "executable file that root may run (install again, or check the "
	    "file's mode and the file system's noexec), then "
	    "'vigilctl reload'\n", path, strerror(errno));
	_exit(EXIT_PERMANENT);
}

/* Frames from the child. */
static void
proc_read_cb(struct bufferevent *bev, void *arg)
{
	struct proc *p = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	msgpack_unpacked msg;
	unsigned char *data;
	size_t len, used;
	char err[128];
	int rc;

	while ((len = evbuffer_get_length(in)) > 0) {
		if ((data = evbuffer_pullup(in, -1)) == NULL)
			return;
		msgpack_unpacked_init(&msg);
		rc = frame_parse(data, len, &used, &msg, err, sizeof(err));
		if (rc == FRAME_MORE) {
			msgpack_unpacked_destroy(&msg);
			return;
		}
		if (rc != FRAME_OK) {
			msgpack_unpacked_destroy(&msg);
			log_warnx("%s: bad frame from child: %s; killing it",
			    p->p_label, err);
			proc_close_channel(p);
			if (p->p_pid > 0)
				kill(p->p_pid, SIGKILL);
			return;
		}
		proc_dispatch(p, &msg.data);
		msgpack_unpacked_destroy(&msg);
		if (p->p_bev == NULL)
			return;
		evbuffer_drain(in, used);
	}
}

/* EOF or error on the socketpair: the reap tells why the child ended. */
static void
proc_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct proc *p = arg;

	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		(void)proc_event(p, PROC_EV_HANGUP, NULL);
}

/* The socketpair closed while starting or stopping: the reap follows. */
static int
proc_act_hangup(struct proc *p, const struct proc_ev *e)
{
	(void)e;
	log_debug("%s: control socket closed", p->p_label);
	proc_close_channel(p);
	return 0;
}

/*
 * The socketpair closed while up.  Normally the reap follows at once; a
 * child that lives on without its channel cannot be controlled: it is
 * killed soon (proc_act_orphan_kill).
 */
static int
proc_act_orphan(struct proc *p, const struct proc_ev *e)
{
	(void)proc_act_hangup(p, e);
	evtime_add_ms(p->p_timer, PROC_ORPHAN_MS);
	return 0;
}

/* A reply from the child: readiness, or the answer to a request. */
static void
proc_dispatch(struct proc *p, const msgpack_object *m)
{
	struct proc_pending *pp;
	struct proc_ev ea;
	const msgpack_object *res, *e;
	char code[64], msg[256];
	uint64_t id;
	int ok;

	if (mp_get_uint(m, "id", &id) != 0 || mp_get_bool(m, "ok", &ok) != 0) {
		log_warnx("%s: reply without id or ok ignored",
		    p->p_label);
		return;
	}
	code[0] = msg[0] = '\0';
	if (!ok && (e = mp_get(m, "error")) != NULL) {
		(void)mp_get_str(e, "code", code, sizeof(code));
		(void)mp_get_str(e, "message", msg, sizeof(msg));
	}
	res = mp_get(m, "result");

	if (id == CONFIGURE_ID) {
		memset(&ea, 0, sizeof(ea));
		ea.result = res;
		ea.code = code;
		ea.message = msg;
		(void)proc_event(p, ok ? PROC_EV_READY : PROC_EV_REFUSED, &ea);
		return;
	}
	TAILQ_FOREACH(pp, &p->p_pending, pp_entry)
		if (pp->pp_id == id)
			break;
	if (pp == NULL) {
		log_debug("%s: reply to unknown request %llu (late?)",
		    p->p_label, (unsigned long long)id);
		return;
	}
	TAILQ_REMOVE(&p->p_pending, pp, pp_entry);
	event_free(pp->pp_timer);
	if (ok)
		pp->pp_cb(pp->pp_arg, 1, res, NULL, NULL);
	else
		pp->pp_cb(pp->pp_arg, 0, NULL, code[0] ? code : "error", msg);
	free(pp);
}

/* The configure reply: the child is ready. */
static int
proc_act_ready(struct proc *p, const struct proc_ev *e)
{
	uint64_t pid;

	evtimer_del(p->p_timer);
	if (e->result != NULL && mp_get_uint(e->result, "pid", &pid) == 0 &&
	    pid != (uint64_t)p->p_pid)
		log_warnx("%s: reports pid %llu, we forked %d",
		    p->p_label,
		    (unsigned long long)pid, (int)p->p_pid);
	p->p_state = e->next;
	p->p_up_mono_ns = now_mono_ns();
	log_info("%s: ready (pid %d)", p->p_label,
	    (int)p->p_pid);
	if (p->p_role->up != NULL)
		p->p_role->up(p);
	return 0;
}

/* The child refused its configuration: it exits 125, the reap does the
 * rest. */
static int
proc_act_refused(struct proc *p, const struct proc_ev *e)
{
	evtimer_del(p->p_timer);
	log_warnx("%s: refused its configuration: %s: %s",
	    p->p_label, e->code, e->message);
	return 0;
}

/* A configure reply once up (twice) or stopping (too late): ignored. */
static int
proc_act_late(struct proc *p, const struct proc_ev *e)
{
	(void)e;
	log_debug("%s: reply to unknown request %llu (late?)",
	    p->p_label, (unsigned long long)CONFIGURE_ID);
	return 0;
}

/*
 * Send request op with args (a packed msgpack map, or NULL for {}) and
 * call cb once: with the reply, or "timeout" after timeout_ms, or
 * "unavailable" if the child is not up or dies first.  Returns 0, or -1
 * when cb was already called (child not up).
 */
int
proc_request(struct proc *p, const char *op, const char *args, size_t alen,
    uint32_t timeout_ms, proc_reply_cb cb, void *arg)
{
	struct proc_pending *pp;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	unsigned char hdr[FRAME_HDR];

	if (p->p_state != PROC_UP || p->p_bev == NULL) {
		cb(arg, 0, NULL, "unavailable", "the process is not running "
		    "(restarting or stopped)");
		return -1;
	}
	if ((pp = calloc(1, sizeof(*pp))) == NULL ||
	    (pp->pp_timer = evtimer_new(env->base, proc_pending_timeout,
	    pp)) == NULL) {
		free(pp);
		cb(arg, 0, NULL, "internal", "out of memory");
		return -1;
	}
	pp->pp_id = p->p_next_id++;
	pp->pp_cb = cb;
	pp->pp_arg = arg;
	pp->pp_proc = p;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	mp_kv_uint(&pk, "id", pp->pp_id);
	mp_kv_str(&pk, "op", op);
	mp_str(&pk, "args");
	if (args != NULL && alen > 0)
		msgpack_sbuffer_write(&sb, args, alen);
	else
		msgpack_pack_map(&pk, 0);
	frame_header(hdr, sb.size);
	bufferevent_write(p->p_bev, hdr, sizeof(hdr));
	bufferevent_write(p->p_bev, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);

	TAILQ_INSERT_TAIL(&p->p_pending, pp, pp_entry);
	evtime_add_ms(pp->pp_timer, timeout_ms);
	return 0;
}

static void
proc_pending_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct proc_pending *pp = arg;
	struct proc *p = pp->pp_proc;

	(void)fd;
	(void)what;
	log_warnx("%s: no answer to request %llu in time",
	    p->p_label, (unsigned long long)pp->pp_id);
	TAILQ_REMOVE(&p->p_pending, pp, pp_entry);
	event_free(pp->pp_timer);
	pp->pp_cb(pp->pp_arg, 0, NULL, "timeout", "the process did not "
	    "answer in time");
	free(pp);
}

static void
proc_fail_pending(struct proc *p, const char *code, const char *msg)
{
	struct proc_pending *pp;

	while ((pp = TAILQ_FIRST(&p->p_pending)) != NULL) {
		TAILQ_REMOVE(&p->p_pending, pp, pp_entry);
		event_free(pp->pp_timer);
		pp->pp_cb(pp->pp_arg, 0, NULL, code, msg);
		free(pp);
	}
}

static void
proc_close_channel(struct proc *p)
{
	if (p->p_bev != NULL) {
		bufferevent_free(p->p_bev);
		p->p_bev = NULL;
	}
}

/*
 * p_timer fired: the handshake (STARTING) or the stop (STOPPING) took too
 * long, an orphan (UP) is still there, or the backoff (BACKOFF) is over.
 */
static void
proc_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)proc_event(arg, PROC_EV_TIMER, NULL);
}

/* No configure reply in time: SIGKILL, the reap follows. */
static int
proc_act_no_reply(struct proc *p, const struct proc_ev *e)
{
	(void)e;
	log_warnx("%s: no configure reply within %d ms; killing "
	    "pid %d", p->p_label, PROC_HANDSHAKE_MS,
	    (int)p->p_pid);
	kill(p->p_pid, SIGKILL);
	return 0;
}

/* Still running after SIGTERM: SIGKILL, the reap follows. */
static int
proc_act_no_exit(struct proc *p, const struct proc_ev *e)
{
	(void)e;
	log_warnx("%s: still running %d ms after SIGTERM; "
	    "SIGKILL pid %d", p->p_label,
	    PROC_STOP_MS, (int)p->p_pid);
	kill(p->p_pid, SIGKILL);
	return 0;
}

/* The orphan timer (proc_act_orphan): kill it if it still runs. */
static int
proc_act_orphan_kill(struct proc *p, const struct proc_ev *e)
{
	(void)e;
	if (p->p_bev == NULL && p->p_pid > 0) {
		log_warnx("%s: pid %d closed its control socket but "
		    "still runs; killing it", p->p_label,
		    (int)p->p_pid);
		kill(p->p_pid, SIGKILL);
	}
	return 0;
}

/*
 * Stop the child: SIGTERM, SIGKILL after PROC_STOP_MS.  Once it is DOWN,
 * on_stopped (may be NULL) is called; it may free or restart p.  A
 * second stop while stopping replaces on_stopped.
 */
void
proc_stop(struct proc *p, void (*on_stopped)(struct proc *))
{
	p->p_want = 0;
	p->p_on_stopped = on_stopped;
	(void)proc_event(p, PROC_EV_STOP, NULL);
}

/* Stop a running child: SIGTERM, and the stop timer. */
static int
proc_act_term(struct proc *p, const struct proc_ev *e)
{
	p->p_state = e->next;
	kill(p->p_pid, SIGTERM);
	evtime_add_ms(p->p_timer, PROC_STOP_MS);
	return 0;
}

/* Stop while stopping: nothing more to do (proc_stop kept on_stopped). */
static int
proc_act_keep(struct proc *p, const struct proc_ev *e)
{
	(void)p;
	(void)e;
	return 0;
}

/* Stop without a process (DOWN, BACKOFF): DOWN now, then on_stopped. */
static int
proc_act_down(struct proc *p, const struct proc_ev *e)
{
	void (*cb)(struct proc *) = p->p_on_stopped;

	evtimer_del(p->p_timer);
	p->p_state = e->next;
	p->p_on_stopped = NULL;
	if (cb != NULL)
		cb(p);
	return 0;
}

static void
proc_restart_cb(struct proc *p)
{
	p->p_backoff_ms = PROC_BACKOFF_MIN_MS;
	(void)proc_start(p);
}

/* Stop, then start again with a fresh configure (a changed config). */
void
proc_restart(struct proc *p)
{
	proc_stop(p, proc_restart_cb);
}

/* Reap every child that ended (SIGCHLD signals merge). */
void
proc_reap(void)
{
	struct proc_ev ea;
	struct proc *p;
	pid_t pid;
	int status;

	memset(&ea, 0, sizeof(ea));
	for (;;) {
		pid = waitpid(-1, &status, WNOHANG);
		if (pid == -1 && errno == EINTR)
			continue;
		if (pid <= 0)
			break;
		TAILQ_FOREACH(p, &procs, p_entry)
			if (p->p_pid == pid)
				break;
		if (p == NULL)
			continue;
		ea.status = status;
		(void)proc_event(p, PROC_EV_EXIT, &ea);
	}
}

static void
proc_describe(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d",
		    WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d (%s)%s",
		    WTERMSIG(status), strsignal(WTERMSIG(status)),
		    WCOREDUMP(status) ? ", core dumped" : "");
	else
		snprintf(buf, len, "ended (status 0x%x)", status);
}

/*
 * The child is reaped: what every exit does whatever the state.  why
 * gets the cause, *up_ms how long it was up (0: never ready).  Returns
 * the pid it had.
 */
static pid_t
proc_gone(struct proc *p, int status, char *why, size_t len,
    uint64_t *up_ms)
{
	pid_t pid = p->p_pid;

	proc_describe(status, why, len);
	p->p_pid = 0;
	p->p_last_status = status;
	evtimer_del(p->p_timer);
	proc_close_channel(p);
	proc_fail_pending(p, "unavailable", "the process ended");
	*up_ms = 0;
	if (p->p_up_mono_ns != 0)
		*up_ms = (now_mono_ns() - p->p_up_mono_ns) / 1000000;
	p->p_up_mono_ns = 0;
	if (p->p_role->down != NULL)
		p->p_role->down(p);
	return pid;
}

/* Reaped after proc_stop: DOWN, then on_stopped (it may free p). */
static int
proc_act_stopped(struct proc *p, const struct proc_ev *e)
{
	void (*cb)(struct proc *);
	char why[128];
	uint64_t up_ms;
	pid_t pid;

	pid = proc_gone(p, e->status, why, sizeof(why), &up_ms);
	log_info("%s: pid %d stopped (%s)", p->p_label, (int)pid, why);
	p->p_state = e->next;
	cb = p->p_on_stopped;
	p->p_on_stopped = NULL;
	if (cb != NULL)
		cb(p);
	return 0;
}

/*
 * Reaped unasked (starting or up): BACKOFF, or DOWN for exit status 125
 * (a permanent error, as in s6).  A child that stayed up
 * PROC_HEALTHY_MS starts its backoff again from the minimum.
 */
static int
proc_act_died(struct proc *p, const struct proc_ev *e)
{
	char why[128];
	uint64_t up_ms;
	pid_t pid;
	int status = e->status;

	pid = proc_gone(p, status, why, sizeof(why), &up_ms);
	if (WIFEXITED(status) && WEXITSTATUS(status) == EXIT_PERMANENT) {
		log_warnx("%s: pid %d %s: a permanent error; not "
		    "restarting it (fix the configuration and reload)",
		    p->p_label, (int)pid, why);
		p->p_state = e->other;
		p->p_permanent = 1;
		return 0;
	}
	if (up_ms >= PROC_HEALTHY_MS)
		p->p_backoff_ms = PROC_BACKOFF_MIN_MS;
	log_warnx("%s: pid %d %s after %llu ms up; restarting in %u ms",
	    p->p_label, (int)pid, why,
	    (unsigned long long)up_ms, p->p_backoff_ms);
	proc_backoff(p, e->next);
	return 0;
}

/* Children that still have a process. */
int
proc_running(void)
{
	struct proc *p;
	int n = 0;

	TAILQ_FOREACH(p, &procs, p_entry)
		if (p->p_pid > 0)
			n++;
	return n;
}

/*
 * The child's heartbeat in the segment is age_ns old (UINT64_MAX: it
 * never wrote one).  A child that has been up for longer than limit_ns
 * and whose beat is older than limit_ns is alive but not working
 * (stopped, spinning, blocked): SIGKILL it, once; the reap restarts it
 * with the usual backoff.  limit_ns 0: no watchdog.
 */
void
proc_watchdog(struct proc *p, uint64_t age_ns, uint64_t limit_ns)
{
	if (limit_ns == 0 || p->p_state != PROC_UP || p->p_pid <= 0 ||
	    p->p_wd_killed || age_ns < limit_ns ||
	    now_mono_ns() - p->p_up_mono_ns < limit_ns)
		return;
	if (age_ns == UINT64_MAX)
		log_warnx("%s: pid %d never wrote a heartbeat in %llu ms; "
		    "killing it", p->p_label, (int)p->p_pid,
		    (unsigned long long)(limit_ns / 1000000));
	else
		log_warnx("%s: pid %d: last heartbeat %llu ms ago (watchdog "
		    "%llu ms): stopped or stuck; killing it", p->p_label,
		    (int)p->p_pid, (unsigned long long)(age_ns / 1000000),
		    (unsigned long long)(limit_ns / 1000000));
	p->p_wd_killed = 1;
	kill(p->p_pid, SIGKILL);
}

void
proc_kill_all(int sig)
{
	struct proc *p;

	TAILQ_FOREACH(p, &procs, p_entry)
		if (p->p_pid > 0)
			kill(p->p_pid, sig);
}
