/*
 * control.h - vigild's control socket (see control.c for the protocol).
 */
#ifndef VIGIL_CONTROL_H
#define VIGIL_CONTROL_H

#include <stddef.h>

struct event_base;

#define CONTROL_PROTOCOL	1
#define CONTROL_MAX_CONNS	256
#define CONTROL_MAX_WAITS	64	/* forwarded requests per connection */
#define CONTROL_IDLE_S		120	/* a silent client is closed */
#define CONTROL_OUT_MAX		(4u << 20) /* unread replies: close */
#define CONTROL_CHILD_MS	5000	/* children's answer to pause etc. */

int	control_init(struct event_base *, char *, size_t);
void	control_close(void);
void	control_unlink(void);

#endif /* VIGIL_CONTROL_H */
