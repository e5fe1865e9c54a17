/*
 * priv.h - the first thing every long-lived child of vigild does.
 *
 * vigild execs its children as root and tells them, in the environment,
 * whom to become (PRIV_DROP_ENV=uid:gid).  The child makes itself
 * non-dumpable and only then drops to that user: so there is no moment
 * at which a process of the service uid may ptrace it or open its
 * /proc/PID/mem, not even between execve (which makes a process dumpable
 * again) and the child's own prctl.  docs/reliability.md, "Threat model".
 * Library code: never logs, never exits.
 */
#ifndef VIGIL_PRIV_H
#define VIGIL_PRIV_H

#include <sys/types.h>

#include <stddef.h>

#define PRIV_DROP_ENV	"VIGIL_DROP"

int	priv_parse_drop(const char *, uid_t *, gid_t *);
int	priv_child_init(char *, size_t);

#endif /* VIGIL_PRIV_H */
