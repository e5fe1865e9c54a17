/*
 * t.h - the unit-test harness.
 *
 * Each test function runs in its own forked process (libevent's regress
 * style), so a crash or a hang fails that test and not the run.  A test
 * prints "ok - NAME" or "not ok - NAME"; tests/run.sh counts those lines
 * and prints the closing "N passed, N failed".
 *
 *	static void test_wrap(void) { T_CHECK(x == 1); }
 *	int main(void) { T_RUN(test_wrap); return t_done(); }
 */
#ifndef VIGIL_T_H
#define VIGIL_T_H

#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int t_passed, t_failed;
static int t_child_failures;	/* inside the forked child */

#define T_CHECK(cond) do {						\
	if (!(cond)) {							\
		t_child_failures++;					\
		fprintf(stderr, "  %s:%d: check failed: %s\n",		\
		    __FILE__, __LINE__, #cond);				\
	}								\
} while (0)

#define T_CHECKF(cond, ...) do {					\
	if (!(cond)) {							\
		t_child_failures++;					\
		fprintf(stderr, "  %s:%d: check failed: %s: ",		\
		    __FILE__, __LINE__, #cond);				\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
	}								\
} while (0)

/* Seconds a single test may take before it is killed and failed. */
#ifndef T_TIMEOUT
#define T_TIMEOUT 120
#endif

static void
t_run(const char *name, void (*fn)(void))
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == -1) {
		perror("fork");
		exit(2);
	}
	if (pid == 0) {
		alarm(T_TIMEOUT);
		fn();
		fflush(stdout);
		_exit(t_child_failures ? 1 : 0);
	}
	while (waitpid(pid, &status, 0) == -1)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		t_passed++;
		printf("ok - %s\n", name);
	} else {
		t_failed++;
		if (WIFSIGNALED(status))
			printf("not ok - %s (signal %d)\n", name,
			    WTERMSIG(status));
		else
			printf("not ok - %s\n", name);
	}
	fflush(stdout);
}

#define T_RUN(fn) t_run(#fn, fn)

static int
t_done(void)
{
	printf("# %d passed, %d failed\n", t_passed, t_failed);
	return t_failed ? 1 : 0;
}

#endif /* VIGIL_T_H */
