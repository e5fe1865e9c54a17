/*
 * control_peer.c - who a control-socket peer is and whether it gets a
 * connection: its groups as the kernel has them, and the admission rule
 * that keeps room for root and admin_group.
 *
 * Library style: nothing here logs or exits; control.c decides.  Kept
 * apart from control.c so that the unit tests can link it alone.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS	59	/* Linux 4.13; asm-generic/socket.h */
#endif

/*
 * The supplementary groups the peer of fd had when it connected, from
 * SO_PEERGROUPS: the groups its process really held (as systemd's
 * SupplementaryGroups= or setgroups() set them), not what /etc/group
 * says about its uid.  On success *groups is malloc'd (NULL when *n is
 * 0) and the caller frees it.  Returns 0, or -1 with err filled (an old
 * kernel says ENOPROTOOPT; fd not a Unix socket ENOPROTOOPT too).
 *
 * The kernel answers ERANGE with the size it needs when the buffer is
 * short; the group list cannot change after connect(), so one retry at
 * that size is enough, but we loop a few times rather than trust that.
 */
int
control_peer_groups(int fd, gid_t **groups, size_t *n, char *err,
    size_t errlen)
{
	gid_t *buf = NULL, *nbuf;
	socklen_t len = 32 * sizeof(gid_t);
	int tries;

	*groups = NULL;
	*n = 0;
	for (tries = 0; tries < 4; tries++) {
		if ((nbuf = realloc(buf, len > 0 ? len : 1)) == NULL) {
			snprintf(err, errlen, "SO_PEERGROUPS: out of memory");
			free(buf);
			return -1;
		}
		buf = nbuf;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, buf, &len) == 0) {
			*n = len / sizeof(gid_t);
			if (*n == 0)
				free(buf);
			else
				*groups = buf;
			return 0;
		}
		if (errno != ERANGE)
			break;
		/* len now holds the size the kernel needs. */
	}
	snprintf(err, errlen, "SO_PEERGROUPS: %s", strerror(errno));
	free(buf);
	return -1;
}

/* Is want the primary gid or one of the n supplementary groups? */
int
control_gid_member(gid_t want, gid_t primary, const gid_t *groups, size_t n)
{
	size_t i;

	if (primary == want)
		return 1;
	for (i = 0; i < n; i++)
		if (groups[i] == want)
			return 1;
	return 0;
}

/*
 * May a new peer have a connection, given total connections open and
 * same_uid of them held by the peer's uid?  Admin peers (root, vigild's
 * uid, admin_group) are limited only by CONTROL_MAX_CONNS: they may stop
 * vigild anyway, so limiting them protects nothing.  Everyone else
 * shares what is left after CONTROL_ADMIN_RESERVE and holds at most
 * CONTROL_MAX_PER_UID per uid, so that read-only users cannot keep root
 * out, and one of them cannot keep the others out.
 */
int
control_admit(unsigned total, unsigned same_uid, int admin)
{
	if (total >= CONTROL_MAX_CONNS)
		return CONTROL_ADMIT_FULL;
	if (admin)
		return CONTROL_ADMIT_OK;
	if (total >= CONTROL_MAX_CONNS - CONTROL_ADMIN_RESERVE)
		return CONTROL_ADMIT_RESERVED;
	if (same_uid >= CONTROL_MAX_PER_UID)
		return CONTROL_ADMIT_PER_UID;
	return CONTROL_ADMIT_OK;
}

/* Why control_admit said no, for the peer's busy reply and the log. */
const char *
control_admit_reason(int rc)
{
	switch (rc) {
	case CONTROL_ADMIT_OK:
		return "admitted";
	case CONTROL_ADMIT_FULL:
		return "all connections are in use";
	case CONTROL_ADMIT_RESERVED:
		return "the remaining connections are kept for root and "
		    "admin_group";
	case CONTROL_ADMIT_PER_UID:
		return "this uid holds as many connections as one uid may";
	default:
		return "refused";
	}
}
