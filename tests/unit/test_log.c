/*
 * test_log.c - common/log.c: levels, the plain and the journald line
 * forms, errno suffixes, fatal exits, and secret masking (a registered
 * secret never reaches stderr).  stderr is captured through a pipe.
 */
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "t.h"
#include "log.h"

static int	cap_fd = -1, saved_fd = -1;
static char	cap_buf[16384];

static void		cap_start(void);
static const char	*cap_end(void);

/* Send stderr into a pipe until cap_end(). */
static void
cap_start(void)
{
	int p[2];

	fflush(stderr);
	if (pipe(p) == -1)
		abort();
	saved_fd = dup(2);
	dup2(p[1], 2);
	close(p[1]);
	cap_fd = p[0];
}

/* Restore stderr and return what was written (NUL-terminated). */
static const char *
cap_end(void)
{
	size_t len = 0;
	ssize_t n;

	fflush(stderr);
	dup2(saved_fd, 2);
	close(saved_fd);
	while (len < sizeof(cap_buf) - 1 &&
	    (n = read(cap_fd, cap_buf + len, sizeof(cap_buf) - 1 - len)) > 0)
		len += (size_t)n;
	cap_buf[len] = '\0';
	close(cap_fd);
	return cap_buf;
}

static void
test_levels(void)
{
	const char *out;

	unsetenv("JOURNAL_STREAM");
	log_init("tlog", LOG_LVL_WARN);
	T_CHECK(log_getlevel() == LOG_LVL_WARN);
	cap_start();
	log_info("info hidden");
	log_debug("debug hidden");
	log_warnx("warn %d", 1);
	out = cap_end();
	T_CHECKF(strcmp(out, "tlog: warn 1\n") == 0, "[%s]", out);

	log_setlevel(LOG_LVL_INFO);
	T_CHECK(log_getlevel() == LOG_LVL_INFO);
	cap_start();
	log_info("info %s", "shown");
	log_debug("debug hidden");
	out = cap_end();
	T_CHECKF(strcmp(out, "tlog: info shown\n") == 0, "[%s]", out);

	log_setlevel(LOG_LVL_DEBUG);
	cap_start();
	log_debug("debug shown");
	log_info("info");
	log_warnx("warn");
	out = cap_end();
	T_CHECKF(strcmp(out, "tlog: debug shown\ntlog: info\ntlog: warn\n")
	    == 0, "[%s]", out);
}

/* log_warn appends strerror(errno) and leaves errno as it was. */
static void
test_errno(void)
{
	const char *out;

	unsetenv("JOURNAL_STREAM");
	log_init("tlog", LOG_LVL_INFO);
	cap_start();
	errno = ENOENT;
	log_warn("open %s", "/nonexistent");
	T_CHECK(errno == ENOENT);
	errno = EACCES;
	log_warnx("no errno here");
	T_CHECK(errno == EACCES);
	out = cap_end();
	T_CHECKF(strcmp(out, "tlog: open /nonexistent: No such file or "
	    "directory\ntlog: no errno here\n") == 0, "[%s]", out);
}

/* Under systemd: "<N>" priorities, no process name. */
static void
test_journald(void)
{
	const char *out;

	setenv("JOURNAL_STREAM", "8:12345", 1);
	log_init("tlog", LOG_LVL_DEBUG);
	cap_start();
	log_warnx("w");
	errno = EPERM;
	log_warn("e");
	log_info("i");
	log_debug("d");
	out = cap_end();
	T_CHECKF(strcmp(out, "<4>w\n<4>e: Operation not permitted\n<6>i\n"
	    "<7>d\n") == 0, "[%s]", out);
	unsetenv("JOURNAL_STREAM");
	/* The environment is read at log_init. */
	cap_start();
	log_info("still journal");
	out = cap_end();
	T_CHECK(strcmp(out, "<6>still journal\n") == 0);
	log_init("tlog", LOG_LVL_DEBUG);
	cap_start();
	log_info("plain");
	out = cap_end();
	T_CHECK(strcmp(out, "tlog: plain\n") == 0);
}

/* fatal and fatalx: priority 2, exit status 1. */
static void
test_fatal(void)
{
	const char *out;
	int status;
	pid_t pid;

	setenv("JOURNAL_STREAM", "8:1", 1);
	log_init("tlog", LOG_LVL_WARN);
	cap_start();
	pid = fork();
	if (pid == 0) {
		fatalx("bye %d", 3);
		_exit(99);
	}
	waitpid(pid, &status, 0);
	T_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	pid = fork();
	if (pid == 0) {
		errno = ENOSPC;
		fatal("disk");
		_exit(99);
	}
	waitpid(pid, &status, 0);
	T_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	out = cap_end();
	T_CHECKF(strcmp(out, "<2>bye 3\n<2>disk: No space left on device\n")
	    == 0, "[%s]", out);
}

/* A registered secret never appears; it is replaced by "[redacted]". */
static void
test_secret_masked(void)
{
	static const char key[] = "sk-live-AbCdEfGh12345678";
	static const char key2[] = "hunter2-webhook-token";
	char big[2100];
	const char *out;

	unsetenv("JOURNAL_STREAM");
	log_init("tlog", LOG_LVL_DEBUG);
	log_secret(key);
	log_secret(key2);
	log_secret("abc");		/* too short to mask: ignored */
	log_secret(NULL);
	cap_start();
	log_warnx("key=%s end", key);
	log_info("%s%s twice, and %s", key, key, key2);
	log_debug("Authorization: Bearer %s", key);
	errno = EINVAL;
	log_warn("bad key %s", key);
	log_warnx("abc is not a secret");
	out = cap_end();
	T_CHECK(strstr(out, key) == NULL);
	T_CHECK(strstr(out, key2) == NULL);
	T_CHECK(strstr(out, "AbCdEfGh") == NULL);
	T_CHECKF(strstr(out, "tlog: key=[redacted] end\n") != NULL, "[%s]",
	    out);
	T_CHECK(strstr(out, "tlog: [redacted][redacted] twice, and "
	    "[redacted]\n") != NULL);
	T_CHECK(strstr(out, "Bearer [redacted]\n") != NULL);
	T_CHECK(strstr(out, "bad key [redacted]: Invalid argument\n") != NULL);
	T_CHECK(strstr(out, "tlog: abc is not a secret\n") != NULL);

	/* A line nearly full: no room for the mask, the secret is cut. */
	log_secret("s3cr3t");
	memset(big, 'a', 2040);
	big[2040] = '\0';
	cap_start();
	log_warnx("%s%s", big, "s3cr3t");
	log_warnx("%ss3cr3t%s", big + 100, "tail");
	out = cap_end();
	T_CHECK(strstr(out, "s3cr3t") == NULL);
	T_CHECK(strstr(out, "[redacted]tail\n") != NULL);

	/* Journald form masks too. */
	setenv("JOURNAL_STREAM", "8:1", 1);
	log_init("tlog", LOG_LVL_DEBUG);
	cap_start();
	log_info("x %s y", key2);
	out = cap_end();
	T_CHECK(strcmp(out, "<6>x [redacted] y\n") == 0);

	/* Cleared: forgotten (and wiped). */
	log_secret_clear();
	unsetenv("JOURNAL_STREAM");
	log_init("tlog", LOG_LVL_DEBUG);
	cap_start();
	log_info("%s", "hunter2-webhook-token");
	out = cap_end();
	T_CHECK(strcmp(out, "tlog: hunter2-webhook-token\n") == 0);
}

/*
 * A secret that crosses the line's length limit leaks no prefix; one that
 * is part of the mask does not loop; a full table says so.
 */
static void
test_secret_edges(void)
{
	char big[LOG_LINE_MAX + 64];
	const char *out;
	int i, full = 0;

	unsetenv("JOURNAL_STREAM");
	log_init("tlog", LOG_LVL_DEBUG);
	T_CHECK(log_secret("PREFIXSECRETSUFFIX") == 0);
	memset(big, 'a', sizeof(big));
	big[LOG_LINE_MAX - 30] = '\0';
	cap_start();
	log_warnx("%sPREFIXSECRETSUFFIX and more", big);
	out = cap_end();
	T_CHECK(strstr(out, "PREFIX") == NULL);
	T_CHECK(strlen(out) <= LOG_LINE_MAX + 8);
	log_secret_clear();

	T_CHECK(log_secret("dact") == 0);
	cap_start();
	log_warnx("x dact y dact z");
	out = cap_end();
	T_CHECKF(strcmp(out, "tlog: x [redacted] y [redacted] z\n") == 0,
	    "[%s]", out);
	log_secret_clear();

	for (i = 0; i < 64; i++) {
		char s[16];

		snprintf(s, sizeof(s), "secret-%02d", i);
		if (log_secret(s) == -1)
			full = 1;
	}
	T_CHECK(full);
	log_secret_clear();
}

int
main(void)
{
	T_RUN(test_secret_edges);
	T_RUN(test_levels);
	T_RUN(test_errno);
	T_RUN(test_journald);
	T_RUN(test_fatal);
	T_RUN(test_secret_masked);
	return t_done();
}
