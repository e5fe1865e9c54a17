/*
 * child.h - a child's side of its socketpair with vigild (fd 4), once
 * for every child: the prober, the spawner, the aggregator, vigil-api.
 *
 * docs/internals.md, "Start-up handshake": vigild's first frame is the
 * configure request; the child applies it (child_configure), sets
 * itself up and answers ok {"pid"} (child_ready, its readiness) or an
 * error (child_fail, then it exits EXIT_PERMANENT).  Afterwards every
 * request goes to the role's op table (name -> handler), with `ping`
 * and `set_log_level` built in; a role's own entry of the same name
 * replaces the built-in one.  Unknown ops get "unknown_op".  EOF ends
 * the watch (vigild is gone), and so does a malformed frame: a
 * supervisor that sends garbage is not one to keep talking to.
 *
 * Library code: never logs, never exits; the process's main decides.
 */
#ifndef VIGIL_CHILD_H
#define VIGIL_CHILD_H

#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

/*
 * "Do not restart" (s6's 125): the exit status of a child whose
 * configuration or environment is unusable.  vigild leaves it down
 * until a reload.  The one definition, vigild's included.
 */
#define EXIT_PERMANENT		125

#define CHILD_FD		4	/* the socketpair with vigild */
#define CHILD_CONFIGURE_MS	30000	/* vigild sends configure at once */

/* Results of child_configure, child_read and child_dispatch. */
#define CHILD_OK		0
#define CHILD_ERR		(-1)	/* err says why */
#define CHILD_EOF		(-2)	/* vigild closed the socket */

struct child;
struct event;
struct event_base;

/* An operation: args is always a map (empty when the request has none). */
typedef void	(*child_op_fn)(struct child *, uint64_t id,
		    const msgpack_object *args, void *arg);

struct child_op {
	const char	*name;
	child_op_fn	 fn;
};

/* Apply the configure args; 0, or -1 with err (no value in it). */
typedef int	(*child_configure_fn)(const msgpack_object *args, void *arg,
		    char *err, size_t errlen);

struct child {
	int			 fd;
	const struct child_op	*ops;
	size_t			 nops;
	void			*arg;		/* for the handlers */
	uint64_t		 cfg_id;	/* the configure request's id */
	unsigned char		*buf;		/* bytes read, not yet served */
	size_t			 len, cap;
	struct event		*ev;		/* child_watch */
	struct event_base	*base;
	int			 status;	/* why the watch ended */
	char			 err[160];
};

/* fd (CHILD_FD in a child), the role's ops and their argument. */
void	child_init(struct child *, int fd, const struct child_op *ops,
	    size_t nops, void *arg);
/* Free the buffer (wiped first: configure held a secret) and the event. */
void	child_free(struct child *);

/*
 * Wait at most timeout_ms for the first frame, which must be the
 * configure request, and hand its args to fn.  CHILD_OK: the caller
 * sets up, then child_ready or child_fail.  CHILD_EOF: vigild closed
 * before any frame (nothing to do: exit 0).  CHILD_ERR: err says why,
 * and the request, if it had an id, is answered "config": the caller
 * exits EXIT_PERMANENT.  The frame's bytes are wiped once fn returned.
 */
int	child_configure(struct child *, int timeout_ms, child_configure_fn fn,
	    void *arg, char *err, size_t errlen);
/* Answer configure ok {"pid": getpid()}: readiness.  0 or -1. */
int	child_ready(struct child *);
/* Answer configure with an error. */
int	child_fail(struct child *, const char *code, const char *msg);

/* Replies to request id: ok {}, an error, or a packed frame. 0 or -1. */
int	child_reply_ok(struct child *, uint64_t id);
int	child_reply_err(struct child *, uint64_t id, const char *code,
	    const char *msg);
int	child_send(struct child *, const msgpack_sbuffer *);

/*
 * Serve every whole request in the buffer, then read what fd has
 * (without blocking) and serve those too.  Returns CHILD_OK, CHILD_EOF
 * or CHILD_ERR (a malformed frame or a read error; err says which).
 * For a poll loop; child_watch does it from libevent.
 */
int	child_dispatch(struct child *);
int	child_read(struct child *);

/*
 * Serve requests from base's loop: what is buffered now, then whatever
 * arrives.  When the channel ends, status is CHILD_EOF or CHILD_ERR and
 * the loop is broken (event_base_loopbreak).  0, or -1 (no memory).
 */
int	child_watch(struct child *, struct event_base *base);

#endif /* VIGIL_CHILD_H */
