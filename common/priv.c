/*
 * priv.c - non-dumpable first, then the privilege drop (see priv.h).
 */
#include <sys/prctl.h>
#include <sys/types.h>

#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "priv.h"

static int	priv_drop(uid_t, gid_t, char *, size_t);

/*
 * Parse "uid:gid" (decimal, both non-zero: a drop to root is no drop).
 * Returns 0, or -1 for anything else.
 */
int
priv_parse_drop(const char *s, uid_t *uid, gid_t *gid)
{
	unsigned long long u, g;
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	u = strtoull(s, &end, 10);
	if (errno != 0 || *end != ':' || end[1] < '0' || end[1] > '9')
		return -1;
	g = strtoull(end + 1, &end, 10);
	if (errno != 0 || *end != '\0' || u == 0 || g == 0 ||
	    u >= (uid_t)-1 || g >= (gid_t)-1)
		return -1;
	*uid = (uid_t)u;
	*gid = (gid_t)g;
	return 0;
}

/*
 * Become uid:gid in the fixed order (chdir, setgroups, setresgid,
 * setresuid), then check that no way back is left.
 */
static int
priv_drop(uid_t uid, gid_t gid, char *err, size_t errlen)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (chdir("/") == -1 || setgroups(1, &gid) == -1 ||
	    setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1) {
		snprintf(err, errlen, "cannot drop privileges to %lu:%lu: %s",
		    (unsigned long)uid, (unsigned long)gid, strerror(errno));
		return -1;
	}
	if (getresuid(&ru, &eu, &su) == -1 || getresgid(&rg, &eg, &sg) == -1 ||
	    ru != uid || eu != uid || su != uid ||
	    rg != gid || eg != gid || sg != gid || setuid(0) != -1) {
		snprintf(err, errlen, "privileges not dropped to %lu:%lu",
		    (unsigned long)uid, (unsigned long)gid);
		return -1;
	}
	return 0;
}

/*
 * Called first in a child's main, before it maps the segment or reads
 * any frame.  Makes the process non-dumpable (no core file, no ptrace,
 * no /proc/PID/mem for its own uid); if PRIV_DROP_ENV is set, drops to
 * that user and makes it non-dumpable again (a change of credentials
 * resets the flag to fs.suid_dumpable, which may be 1); re-arms the
 * parent-death signal that the change cleared, and checks the parent is
 * still the one that started us.  Returns 0, or -1 with err.
 */
int
priv_child_init(char *err, size_t errlen)
{
	pid_t parent = getppid();
	const char *s;
	uid_t uid;
	gid_t gid;

	if (prctl(PR_SET_DUMPABLE, 0) == -1) {
		snprintf(err, errlen, "prctl PR_SET_DUMPABLE: %s",
		    strerror(errno));
		return -1;
	}
	if ((s = getenv(PRIV_DROP_ENV)) == NULL)
		return 0;
	if (priv_parse_drop(s, &uid, &gid) == -1) {
		snprintf(err, errlen, "%s: not uid:gid", PRIV_DROP_ENV);
		return -1;
	}
	if (unsetenv(PRIV_DROP_ENV) == -1 ||
	    priv_drop(uid, gid, err, errlen) == -1)
		return -1;
	if (prctl(PR_SET_DUMPABLE, 0) == -1 ||
	    prctl(PR_SET_PDEATHSIG, SIGTERM) == -1) {
		snprintf(err, errlen, "prctl: %s", strerror(errno));
		return -1;
	}
	if (getppid() != parent) {
		snprintf(err, errlen, "vigild is gone");
		return -1;
	}
	return 0;
}
