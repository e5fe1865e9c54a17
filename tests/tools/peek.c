/*
 * peek - what a process of another uid can take from vigil's processes.
 *
 *	peek --uid U --gid G [--key SECRET]... PID...
 *
 * Started as root, drops to U:G (the attacker: a process of the service
 * uid), then for each PID tries what docs/reliability.md's threat model
 * says it must not be able to do: PTRACE_ATTACH (and, when that works,
 * reads memory as the tracer), open and read /proc/PID/mem over every
 * readable mapping, read /proc/PID/environ; every byte it gets is
 * searched for each SECRET.  It also reports who owns /proc/PID/status:
 * root while the process is non-dumpable, its own uid otherwise.  One
 * JSON line per PID:
 *
 *	{"pid":N,"uid":U,"status_owner":0,"ptrace":"EPERM","mem":"EACCES",
 *	 "environ":"EACCES","found":[]}
 *
 * where each attempt is "ok" or the errno name, and found lists the
 * secrets seen.  A test tool: exits 0 when it ran, 2 on bad usage.
 */
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PEEK_MAX_KEYS	32
#define PEEK_MAX_MAP	(64UL << 20)

static const char	*keys[PEEK_MAX_KEYS];
static int		 nkeys;
static int		 found[PEEK_MAX_KEYS];

static void
usage(void)
{
	fprintf(stderr, "usage: peek --uid U --gid G [--key SECRET]... "
	    "PID...\n");
	exit(2);
}

static const char *
errname(int e)
{
	switch (e) {
	case 0:		return "ok";
	case EPERM:	return "EPERM";
	case EACCES:	return "EACCES";
	case ESRCH:	return "ESRCH";
	case ENOENT:	return "ENOENT";
	case EIO:	return "EIO";
	default:	return "error";
	}
}

/* Look for every key in buf[0..n). */
static void
scan(const char *buf, size_t n)
{
	int k;

	for (k = 0; k < nkeys; k++)
		if (memmem(buf, n, keys[k], strlen(keys[k])) != NULL)
			found[k] = 1;
}

/* Read every readable mapping of pid through /proc/PID/mem. */
static int
read_mem(pid_t pid)
{
	char path[64], line[512], *buf;
	unsigned long lo, hi;
	char perms[8];
	FILE *maps;
	ssize_t r;
	int fd, e;

	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	if ((fd = open(path, O_RDONLY)) == -1)
		return errno;
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	if ((maps = fopen(path, "r")) == NULL) {
		e = errno;
		close(fd);
		return e;
	}
	while (fgets(line, sizeof(line), maps) != NULL) {
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 ||
		    perms[0] != 'r' || hi - lo > PEEK_MAX_MAP ||
		    strstr(line, "[vvar]") != NULL ||
		    strstr(line, "[vsyscall]") != NULL)
			continue;
		if ((buf = malloc(hi - lo)) == NULL)
			continue;
		r = pread(fd, buf, hi - lo, (off_t)lo);
		if (r > 0)
			scan(buf, (size_t)r);
		free(buf);
	}
	fclose(maps);
	close(fd);
	return 0;
}

static int
read_environ(pid_t pid)
{
	char path[64], buf[65536];
	ssize_t r;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	if ((fd = open(path, O_RDONLY)) == -1)
		return errno;
	r = read(fd, buf, sizeof(buf));
	close(fd);
	if (r < 0)
		return errno;
	scan(buf, (size_t)r);
	return 0;
}

/* Attach, read memory as the tracer would, detach. */
static int
try_ptrace(pid_t pid)
{
	int st;

	if (ptrace(PTRACE_ATTACH, pid, NULL, NULL) == -1)
		return errno;
	(void)waitpid(pid, &st, __WALL);
	(void)read_mem(pid);
	(void)ptrace(PTRACE_DETACH, pid, NULL, NULL);
	return 0;
}

static void
peek(pid_t pid)
{
	char path[64], line[256];
	struct stat sb;
	long uid = -1, owner = -1;
	FILE *f;
	int k, e_trace, e_mem, e_env, first = 1;

	memset(found, 0, sizeof(found));
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (stat(path, &sb) == 0)
		owner = (long)sb.st_uid;
	if ((f = fopen(path, "r")) != NULL) {
		while (fgets(line, sizeof(line), f) != NULL)
			if (sscanf(line, "Uid: %ld", &uid) == 1)
				break;
		fclose(f);
	}
	e_trace = try_ptrace(pid);
	e_mem = read_mem(pid);
	e_env = read_environ(pid);
	printf("{\"pid\":%d,\"uid\":%ld,\"status_owner\":%ld,\"ptrace\":"
	    "\"%s\",\"mem\":\"%s\",\"environ\":\"%s\",\"found\":[",
	    (int)pid, uid, owner, errname(e_trace), errname(e_mem),
	    errname(e_env));
	for (k = 0; k < nkeys; k++)
		if (found[k]) {
			printf("%s%d", first ? "" : ",", k);
			first = 0;
		}
	printf("]}\n");
	fflush(stdout);
}

int
main(int argc, char *argv[])
{
	long uid = -1, gid = -1;
	gid_t g;
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--uid") == 0 && i + 1 < argc)
			uid = atol(argv[++i]);
		else if (strcmp(argv[i], "--gid") == 0 && i + 1 < argc)
			gid = atol(argv[++i]);
		else if (strcmp(argv[i], "--key") == 0 && i + 1 < argc) {
			if (nkeys == PEEK_MAX_KEYS)
				usage();
			keys[nkeys++] = argv[++i];
		} else
			break;
	}
	if (uid <= 0 || gid <= 0 || i == argc)
		usage();
	g = (gid_t)gid;
	if (setgroups(1, &g) == -1 || setresgid(g, g, g) == -1 ||
	    setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) == -1) {
		perror("peek: drop");
		return 2;
	}
	for (; i < argc; i++)
		peek((pid_t)atoi(argv[i]));
	return 0;
}
