/*
 * control.h - vigild's control socket (see control.c for the protocol).
 */
#ifndef VIGIL_CONTROL_H
#define VIGIL_CONTROL_H

#include <sys/types.h>

#include <stddef.h>

struct event_base;

#define CONTROL_PROTOCOL	1
#define CONTROL_MAX_CONNS	256	/* connections at once, in all */
#define CONTROL_ADMIN_RESERVE	32	/* of them, only for admin peers */
#define CONTROL_MAX_PER_UID	32	/* per uid of a non-admin peer */
#define CONTROL_MAX_WAITS	64	/* forwarded requests per connection */
#define CONTROL_IDLE_S		120	/* a silent client is closed */
#define CONTROL_OUT_MAX		(4u << 20) /* unread replies: close */
#define CONTROL_CHILD_MS	5000	/* children's answer to pause etc. */

int	control_init(struct event_base *, char *, size_t);
void	control_close(void);
void	control_unlink(void);

/* control_peer.c: the peer's groups and the admission rule. */
#define CONTROL_ADMIT_OK	0
#define CONTROL_ADMIT_FULL	1	/* CONTROL_MAX_CONNS open */
#define CONTROL_ADMIT_RESERVED	2	/* only admin slots are left */
#define CONTROL_ADMIT_PER_UID	3	/* the uid holds CONTROL_MAX_PER_UID */

int	control_peer_groups(int, gid_t **, size_t *, char *, size_t);
int	control_gid_member(gid_t, gid_t, const gid_t *, size_t);
int	control_admit(unsigned, unsigned, int);
const char *control_admit_reason(int);

#endif /* VIGIL_CONTROL_H */
