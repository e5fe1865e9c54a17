/*
 * fdpass.h - one datagram with one descriptor attached (SCM_RIGHTS), the
 * spawn request between vigild and the spawner (docs/internals.md).
 *
 * Library code: never logs, never exits.
 */
#ifndef VIGIL_FDPASS_H
#define VIGIL_FDPASS_H

#include <stddef.h>
#include <sys/types.h>

ssize_t	fdpass_send(int, const void *, size_t, int, int);
ssize_t	fdpass_recv(int, void *, size_t, int *, int);

#endif /* VIGIL_FDPASS_H */
