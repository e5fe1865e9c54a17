/*
 * test_control_peer.c - the control socket's admission rule and peer
 * groups (supervisor/control_peer.c): read-only peers cannot take the
 * slots kept for root and admin_group nor more than their share per uid;
 * the groups are the ones the peer process holds (SO_PEERGROUPS), many
 * of them too (the ERANGE retry).
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../supervisor/control.h"
#include "t.h"

static void
test_admit_counts(void)
{
	unsigned shared = CONTROL_MAX_CONNS - CONTROL_ADMIN_RESERVE;

	T_CHECK(control_admit(0, 0, 0) == CONTROL_ADMIT_OK);
	T_CHECK(control_admit(shared - 1, 0, 0) == CONTROL_ADMIT_OK);
	/* The reserve: only admin peers get the last slots. */
	T_CHECK(control_admit(shared, 0, 0) == CONTROL_ADMIT_RESERVED);
	T_CHECK(control_admit(shared, 0, 1) == CONTROL_ADMIT_OK);
	T_CHECK(control_admit(CONTROL_MAX_CONNS - 1, 0, 1) ==
	    CONTROL_ADMIT_OK);
	/* Full is full, for everyone. */
	T_CHECK(control_admit(CONTROL_MAX_CONNS, 0, 1) == CONTROL_ADMIT_FULL);
	T_CHECK(control_admit(CONTROL_MAX_CONNS, 0, 0) == CONTROL_ADMIT_FULL);
	/* Per uid, for non-admin peers only. */
	T_CHECK(control_admit(10, CONTROL_MAX_PER_UID - 1, 0) ==
	    CONTROL_ADMIT_OK);
	T_CHECK(control_admit(10, CONTROL_MAX_PER_UID, 0) ==
	    CONTROL_ADMIT_PER_UID);
	T_CHECK(control_admit(10, CONTROL_MAX_PER_UID, 1) == CONTROL_ADMIT_OK);
	T_CHECK(control_admit_reason(CONTROL_ADMIT_PER_UID)[0] != '\0');
}

/* The limits keep their promise: one uid cannot fill the shared part,
 * and the reserve is worth having. */
static void
test_admit_constants(void)
{
	T_CHECK(CONTROL_ADMIN_RESERVE > 0);
	T_CHECK(CONTROL_ADMIN_RESERVE < CONTROL_MAX_CONNS);
	T_CHECK(CONTROL_MAX_PER_UID < CONTROL_MAX_CONNS -
	    CONTROL_ADMIN_RESERVE);
}

/*
 * Fill the slots as a flood would: read-only peers of many uids each
 * take connections until refused.  They end with the reserve free.
 */
static void
test_admit_flood(void)
{
	unsigned total = 0, per[64] = { 0 }, uid;
	int rc;

	for (uid = 0; uid < 64; uid++)
		while ((rc = control_admit(total, per[uid], 0)) ==
		    CONTROL_ADMIT_OK) {
			per[uid]++;
			total++;
		}
	T_CHECKF(total == CONTROL_MAX_CONNS - CONTROL_ADMIN_RESERVE, "%u",
	    total);
	for (uid = 0; uid < 64; uid++)
		T_CHECK(per[uid] <= CONTROL_MAX_PER_UID);
	T_CHECK(control_admit(total, 0, 1) == CONTROL_ADMIT_OK);
}

static void
test_gid_member(void)
{
	gid_t g[] = { 10, 20, 30 };

	T_CHECK(control_gid_member(5, 5, NULL, 0));
	T_CHECK(control_gid_member(30, 5, g, 3));
	T_CHECK(!control_gid_member(40, 5, g, 3));
	T_CHECK(!control_gid_member(40, 5, NULL, 0));
}

/* Our own groups, seen through a socketpair: what getgroups says. */
static void
test_peer_groups_self(void)
{
	gid_t mine[256], *got;
	size_t n, i, j;
	char err[128];
	int sv[2], nmine;

	T_CHECK((nmine = getgroups(256, mine)) >= 0);
	T_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	T_CHECKF(control_peer_groups(sv[0], &got, &n, err, sizeof(err)) == 0,
	    "%s", err);
	T_CHECKF(n == (size_t)nmine, "%zu against %d", n, nmine);
	for (i = 0; i < (size_t)nmine; i++) {
		for (j = 0; j < n && got[j] != mine[i]; j++)
			;
		T_CHECK(j < n);
	}
	free(got);
	close(sv[0]);
	close(sv[1]);
}

/*
 * As root: 100 groups set by setgroups (more than the first buffer
 * holds, so the ERANGE retry runs), none of them from /etc/group.
 */
static void
test_peer_groups_many(void)
{
	gid_t set[100], *got;
	size_t n, i;
	char err[128];
	int sv[2];

	if (geteuid() != 0) {
		printf("# skipped: setgroups needs root\n");
		return;
	}
	for (i = 0; i < 100; i++)
		set[i] = 50000 + (gid_t)i;
	T_CHECK(setgroups(100, set) == 0);
	T_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	T_CHECKF(control_peer_groups(sv[0], &got, &n, err, sizeof(err)) == 0,
	    "%s", err);
	T_CHECKF(n == 100, "%zu", n);
	for (i = 0; i < n && i < 100; i++)
		T_CHECK(control_gid_member(50000 + (gid_t)i, 0, got, n));
	T_CHECK(!control_gid_member(50100, 0, got, n));
	free(got);
	/* None at all: n 0, no buffer. */
	T_CHECK(setgroups(0, NULL) == 0);
	close(sv[0]);
	close(sv[1]);
	T_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	T_CHECK(control_peer_groups(sv[0], &got, &n, err, sizeof(err)) == 0);
	T_CHECK(n == 0 && got == NULL);
	close(sv[0]);
	close(sv[1]);
}

/* Not a Unix socket: an error, not a crash or garbage. */
static void
test_peer_groups_error(void)
{
	gid_t *got = (gid_t *)1;
	size_t n = 7;
	char err[128];
	int p[2];

	T_CHECK(pipe(p) == 0);
	T_CHECK(control_peer_groups(p[0], &got, &n, err, sizeof(err)) == -1);
	T_CHECK(got == NULL && n == 0 && err[0] != '\0');
	close(p[0]);
	close(p[1]);
}

int
main(void)
{
	T_RUN(test_admit_counts);
	T_RUN(test_admit_constants);
	T_RUN(test_admit_flood);
	T_RUN(test_gid_member);
	T_RUN(test_peer_groups_self);
	T_RUN(test_peer_groups_many);
	T_RUN(test_peer_groups_error);
	return t_done();
}
