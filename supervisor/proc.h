/*
 * proc.h - vigild's generic process module, after relayd's proc.c.
 *
 * A role (prober, aggregator, api) supplies only a few hooks in a table
 * (vigild.c); this module does all of the fork/exec, descriptor, privilege,
 * handshake, request/reply, reaping and restart work.
 *
 * Per child, a state machine you can read as a table (s6-supervise):
 * DOWN -> STARTING -> UP -> STOPPING -> DOWN, and BACKOFF after a crash;
 * every transition is one cell of proc_table in proc.c (the same table
 * is in docs/internals.md, "Supervision rules").  Exit status 125 (a
 * permanent error, as in s6) leaves the child DOWN; any other exit
 * restarts it after a backoff: 100 ms first, doubling up to 30 s, reset
 * once a child stayed up 60 s.
 */
#ifndef VIGIL_PROC_H
#define VIGIL_PROC_H

#include <sys/queue.h>
#include <sys/types.h>

#include <stdint.h>

#include <msgpack.h>

#include <vigil/vigil.h>

struct event_base;
struct event;
struct bufferevent;
struct proc;

#define PROC_HANDSHAKE_MS	5000
#define PROC_STOP_MS		3000	/* SIGTERM, then SIGKILL after this */
#define PROC_BACKOFF_MIN_MS	100
#define PROC_BACKOFF_MAX_MS	30000
#define PROC_HEALTHY_MS		60000	/* up this long: backoff reset */

enum proc_state {
	PROC_DOWN = 0,
	PROC_STARTING,
	PROC_UP,
	PROC_STOPPING,
	PROC_BACKOFF
};

/*
 * A role.  configure packs the args map of the configure request (and
 * returns -1 with err filled when the child cannot be configured now:
 * the start then counts as a failed one and is retried with backoff).
 */
struct proc_role {
	const char	*name;		/* "prober", "aggregator", "api" */
	const char	*binary;	/* "vigil-prober" */
	int		 seg_writable;	/* fd 3 O_RDWR, else O_RDONLY */
	int		 per_provider;	/* argv[1] is the provider name */
	int		 spawned;	/* by the spawner when it is up */
	const char	*args[2];	/* else argv[1] and [2], or NULLs */
	int		(*configure)(struct proc *, msgpack_packer *, char *,
			    size_t);
	void		(*prestart)(struct proc *);	/* before fork */
	void		(*up)(struct proc *);		/* ready */
	void		(*down)(struct proc *);		/* reaped */
	/*
	 * The descriptor to give the child as fd 5, or -1 for none; *close
	 * set to 1 when vigild closes its copy once the child is forked.
	 */
	int		(*fd5)(struct proc *, int *);
	const char	*env;		/* one more NAME=value, or NULL */
};

/*
 * The answer to a request: ok with result (any msgpack object), or not
 * ok with code and message (the child's error, "timeout" when it did
 * not answer in time, "unavailable" when it is not running or died).
 * result, code and message are valid only during the call.
 */
typedef void	(*proc_reply_cb)(void *, int, const msgpack_object *,
		    const char *, const char *);

struct proc_pending {
	uint64_t		 pp_id;
	proc_reply_cb		 pp_cb;
	void			*pp_arg;
	struct event		*pp_timer;
	struct proc		*pp_proc;
	TAILQ_ENTRY(proc_pending) pp_entry;
};
TAILQ_HEAD(proc_pendings, proc_pending);

struct proc {
	const struct proc_role	*p_role;
	char			 p_name[VIGIL_NAME_MAX];	/* provider */
	char			 p_label[VIGIL_NAME_MAX + 16]; /* for logs */
	void			*p_ctx;		/* the role's own data */
	enum proc_state		 p_state;
	pid_t			 p_pid;
	struct bufferevent	*p_bev;		/* our end of the socketpair */
	struct event		*p_timer;	/* handshake, backoff, kill */
	uint64_t		 p_next_id;
	struct proc_pendings	 p_pending;
	uint32_t		 p_backoff_ms;
	uint64_t		 p_up_mono_ns;	/* when it became ready */
	uint64_t		 p_start_mono_ns;
	uint32_t		 p_restarts;	/* starts after the first */
	uint32_t		 p_starts;
	int			 p_want;	/* should be running */
	int			 p_permanent;	/* exited 125 */
	int			 p_last_status;	/* wait status */
	int			 p_wd_killed;	/* the watchdog sent SIGKILL */
	void			(*p_on_stopped)(struct proc *);
	TAILQ_ENTRY(proc)	 p_entry;
};
TAILQ_HEAD(procs, proc);

/* What every child gets: fixed for vigild's lifetime except listen_fd. */
struct proc_env {
	struct event_base	*base;
	int			 seg_rw_fd;	/* O_RDWR shm descriptor */
	int			 seg_ro_fd;	/* O_RDONLY shm descriptor */
	int			 listen_fd;	/* -1: none */
	int			 drop;		/* the child drops to uid:gid (priv.c) */
	uid_t			 uid;
	gid_t			 gid;
	char			 libexec[4096];	/* "" = only next to vigild */
	char			 selfdir[4096];	/* vigild's own directory */
	struct proc		*spawner;	/* NULL: none */
	int			 spawn_fd;	/* our end of its fd 5, or -1 */
};

extern struct procs	procs;

void		 proc_init(struct proc_env *);
struct proc	*proc_new(const struct proc_role *, const char *, void *);
void		 proc_free(struct proc *);
int		 proc_start(struct proc *);
void		 proc_stop(struct proc *, void (*)(struct proc *));
void		 proc_restart(struct proc *);
void		 proc_reap(void);
int		 proc_running(void);
void		 proc_kill_all(int);
void		 proc_watchdog(struct proc *, uint64_t, uint64_t);
int		 proc_binary(const struct proc_role *, char *, size_t);
int		 proc_request(struct proc *, const char *, const char *,
		    size_t, uint32_t, proc_reply_cb, void *);
const char	*proc_state_name(enum proc_state);

#endif /* VIGIL_PROC_H */
