/*
 * test_priv.c - common/priv.c: the drop specification and the order
 * "non-dumpable, then drop" (each test in its own forked process, so a
 * drop does not leak into the next).
 */
#include <sys/prctl.h>

#include <stdlib.h>
#include <unistd.h>

#include "priv.h"
#include "t.h"

static void
test_parse(void)
{
	uid_t u;
	gid_t g;

	T_CHECK(priv_parse_drop("999:998", &u, &g) == 0 && u == 999 &&
	    g == 998);
	T_CHECK(priv_parse_drop("1:1", &u, &g) == 0);
	/* Root, empty parts, signs, junk, overflow: refused. */
	T_CHECK(priv_parse_drop(NULL, &u, &g) == -1);
	T_CHECK(priv_parse_drop("", &u, &g) == -1);
	T_CHECK(priv_parse_drop("0:5", &u, &g) == -1);
	T_CHECK(priv_parse_drop("5:0", &u, &g) == -1);
	T_CHECK(priv_parse_drop("5", &u, &g) == -1);
	T_CHECK(priv_parse_drop("5:", &u, &g) == -1);
	T_CHECK(priv_parse_drop(":5", &u, &g) == -1);
	T_CHECK(priv_parse_drop("-5:5", &u, &g) == -1);
	T_CHECK(priv_parse_drop("5:+5", &u, &g) == -1);
	T_CHECK(priv_parse_drop("5:5x", &u, &g) == -1);
	T_CHECK(priv_parse_drop(" 5:5", &u, &g) == -1);
	T_CHECK(priv_parse_drop("4294967295:5", &u, &g) == -1);
	T_CHECK(priv_parse_drop("99999999999999999999:5", &u, &g) == -1);
}

/* Without a drop: non-dumpable, credentials unchanged. */
static void
test_no_drop(void)
{
	char err[256];
	uid_t uid = getuid();

	unsetenv(PRIV_DROP_ENV);
	T_CHECK(prctl(PR_SET_DUMPABLE, 1) == 0);
	T_CHECK(priv_child_init(err, sizeof(err)) == 0);
	T_CHECK(prctl(PR_GET_DUMPABLE) == 0);
	T_CHECK(getuid() == uid);
}

static void
test_bad_spec(void)
{
	char err[256];

	setenv(PRIV_DROP_ENV, "root", 1);
	T_CHECK(priv_child_init(err, sizeof(err)) == -1);
	T_CHECK(strstr(err, PRIV_DROP_ENV) != NULL);
	/* Refused, but already non-dumpable. */
	T_CHECK(prctl(PR_GET_DUMPABLE) == 0);
}

/* As root: the drop happens, the variable is gone, still non-dumpable. */
static void
test_drop(void)
{
	char err[256];
	gid_t groups[4];

	if (geteuid() != 0) {
		printf("  (not root: the drop itself is not tried)\n");
		return;
	}
	setenv(PRIV_DROP_ENV, "65534:65534", 1);
	T_CHECKF(priv_child_init(err, sizeof(err)) == 0, "%s", err);
	T_CHECK(getuid() == 65534 && geteuid() == 65534);
	T_CHECK(getgid() == 65534 && getegid() == 65534);
	T_CHECK(getgroups(4, groups) == 1 && groups[0] == 65534);
	T_CHECK(getenv(PRIV_DROP_ENV) == NULL);
	T_CHECK(prctl(PR_GET_DUMPABLE) == 0);
	T_CHECK(setuid(0) == -1);
}

int
main(void)
{
	T_RUN(test_parse);
	T_RUN(test_no_drop);
	T_RUN(test_bad_spec);
	T_RUN(test_drop);
	return t_done();
}
