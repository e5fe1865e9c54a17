/*
 * spawner.c - vigil-prober --spawner: start probers by fork from one
 * process that has already loaded and initialised libcurl and OpenSSL.
 *
 * A prober started by fork+exec writes its own copy of the data of the
 * ~36 libraries Debian's libcurl links (about 1 MB) and builds OpenSSL's
 * tables again; one forked from here shares those pages with the
 * spawner and every other prober (docs/scaling.md).
 *
 * Started by vigild like the aggregator (docs/internals.md): fd 3 the
 * segment, fd 4 our control socketpair (configure, then EOF at the end),
 * fd 5 a SOCK_SEQPACKET socket carrying spawn requests.  A request is
 * one datagram: the provider name, with the prober's end of its control
 * socketpair attached (SCM_RIGHTS).  We fork a middle process that forks
 * the prober and exits at once, so that the prober is re-parented to
 * vigild (a child subreaper) and stays vigild's own child: reaping,
 * backoff, kill by pid and the watchdog work as for fork+exec.  The
 * reply, one datagram, is the prober's pid (-1: failed); it is sent
 * after the middle process is reaped, so the prober is already vigild's
 * child when vigild reads it.  No secret passes through here: the
 * prober reads its configure frame from its own socketpair.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <msgpack.h>
#include <openssl/ssl.h>

#include <vigil/vigil.h>

#include "child.h"
#include "fdpass.h"
#include "log.h"
#include "settings.h"
#include "spawner.h"

#define SPAWN_REQ_FD	5
#define SPAWN_PARENT_WAIT 1000	/* ms the prober waits to be vigild's */

static pid_t	 spawner_vigild;	/* our parent, the probers' parent */
static char	*title_start;		/* our argv area, for the prober's */
static size_t	 title_len;

static int	spawner_configure(const msgpack_object *, void *, char *,
		    size_t);
static void	spawner_request(void);
static pid_t	spawner_fork(const char *, int);
static void	spawner_child(const char *, int) __attribute__((noreturn));
static void	spawner_title(const char *);

/*
 * The argv strings are contiguous; remember the area so that a prober
 * can show "vigil-prober NAME" in ps and /proc/PID/cmdline.  vigild
 * passes a blank argv[2] to make room for any name; it is zeroed here, so
 * the spawner shows as "vigil-prober --spawner".
 */
void
spawner_title_init(int argc, char *argv[])
{
	int i;

	for (i = 1; i < argc; i++)
		if (argv[i] != argv[i - 1] + strlen(argv[i - 1]) + 1)
			return;
	title_start = argv[0];
	title_len = (size_t)(argv[argc - 1] + strlen(argv[argc - 1]) + 1 -
	    argv[0]);
	/* The room stays ours; the spawner itself shows without it. */
	for (i = 2; i < argc; i++)
		memset(argv[i], 0, strlen(argv[i]));
}

/* In the prober: "vigil-prober\0NAME\0", the rest of the area zeroed. */
static void
spawner_title(const char *name)
{
	static const char bin[] = "vigil-prober";
	size_t nl = strlen(name);

	if (title_start == NULL || sizeof(bin) + nl + 1 > title_len)
		return;
	memset(title_start, 0, title_len);
	memcpy(title_start, bin, sizeof(bin));
	memcpy(title_start + sizeof(bin), name, nl);
}

int
spawner_main(void)
{
	struct pollfd pfd[2];
	struct child ch;
	SSL_CTX *ctx;
	char err[256];
	int rc;

	log_init("spawner", LOG_LVL_INFO);
	spawner_vigild = getppid();
	/* vigild armed PDEATHSIG before exec; it may be gone already. */
	if (spawner_vigild == 1)
		exit(1);
	signal(SIGPIPE, SIG_IGN);

	/*
	 * What every prober would do first, done once here: the same
	 * OpenSSL options as prober_run(), libcurl, and one SSL_CTX so
	 * that OpenSSL builds its algorithm tables before the fork
	 * (bench_prober over HTTPS: 456 kB private a prober with it, 560
	 * kB without).
	 */
	OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_SSL_STRINGS |
	    OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS, NULL);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatalx("curl_global_init failed");
	if ((ctx = SSL_CTX_new(TLS_client_method())) != NULL)
		SSL_CTX_free(ctx);

	/* configure {log_level}; the reply {"pid"} is our readiness.  Then
	 * only the built-in ops: set_log_level (a reload) and ping. */
	child_init(&ch, CHILD_FD, NULL, 0, NULL);
	rc = child_configure(&ch, CHILD_CONFIGURE_MS, spawner_configure, NULL,
	    err, sizeof(err));
	if (rc == CHILD_EOF)
		exit(0);
	if (rc == CHILD_ERR) {
		log_warnx("%s", err);
		exit(EXIT_PERMANENT);
	}
	if (child_ready(&ch) == -1 || child_dispatch(&ch) != CHILD_OK) {
		log_warnx("%s", ch.err);
		exit(1);
	}

	pfd[0].fd = CHILD_FD;
	pfd[0].events = POLLIN;
	pfd[1].fd = SPAWN_REQ_FD;
	pfd[1].events = POLLIN;
	for (;;) {
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		/* EOF (vigild gone) or a broken request ends us: vigild
		 * starts another spawner. */
		if (pfd[0].revents != 0 && (rc = child_read(&ch)) != CHILD_OK) {
			if (rc == CHILD_ERR)
				log_warnx("%s", ch.err);
			exit(0);
		}
		if (pfd[1].revents & (POLLERR | POLLHUP | POLLNVAL))
			exit(0);
		if (pfd[1].revents & POLLIN)
			spawner_request();
	}
}

/* The configure args: the table's keys for the spawner (log_level). */
static int
spawner_configure(const msgpack_object *args, void *arg, char *err,
    size_t errlen)
{
	struct conf c;

	(void)arg;
	if (settings_decode(SR_SPAWNER, args, &c, NULL, err, errlen) == -1)
		return -1;
	log_setlevel(c.log_level);
	return 0;
}

/* One spawn request on fd 5: receive, fork, reply with the pid. */
static void
spawner_request(void)
{
	char name[VIGIL_NAME_MAX + 1];
	int32_t reply = -1;
	ssize_t n;
	int fd;

	n = fdpass_recv(SPAWN_REQ_FD, name, sizeof(name) - 1, &fd,
	    MSG_CMSG_CLOEXEC);
	if (n == -1) {
		if (errno == EINTR || errno == EAGAIN)
			return;
		fatal("spawn request");
	}
	if (n == 0)
		exit(0);	/* vigild closed its end */
	name[n] = '\0';
	/* fd is -1 too for a request cut short (fdpass_recv). */
	if (fd == -1 || (size_t)n >= VIGIL_NAME_MAX ||
	    strlen(name) != (size_t)n)
		log_warnx("malformed spawn request refused");
	else
		reply = (int32_t)spawner_fork(name, fd);
	if (fd != -1)
		close(fd);
	if (send(SPAWN_REQ_FD, &reply, sizeof(reply), MSG_NOSIGNAL) == -1)
		log_warn("spawn reply");
}

/*
 * Fork a middle process that forks the prober, writes its pid into a
 * pipe and exits; reap the middle one.  Returns the prober's pid, or -1.
 */
static pid_t
spawner_fork(const char *name, int sock)
{
	pid_t mid, pid = -1, w;
	ssize_t n;
	int pfd[2], st;

	if (pipe2(pfd, O_CLOEXEC) == -1) {
		log_warn("%s: pipe", name);
		return -1;
	}
	if ((mid = fork()) == -1) {
		log_warn("%s: fork", name);
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (mid == 0) {
		close(pfd[0]);
		if ((pid = fork()) == 0) {
			close(pfd[1]);
			spawner_child(name, sock);
		}
		if (write(pfd[1], &pid, sizeof(pid)) == -1)
			_exit(1);
		_exit(0);
	}
	close(pfd[1]);
	do
		n = read(pfd[0], &pid, sizeof(pid));
	while (n == -1 && errno == EINTR);
	if (n != (ssize_t)sizeof(pid))
		pid = -1;
	close(pfd[0]);
	do
		w = waitpid(mid, &st, 0);
	while (w == -1 && errno == EINTR);
	if (pid == -1)
		log_warnx("%s: could not fork the prober", name);
	else
		log_debug("%s: prober forked, pid %d", name, (int)pid);
	return pid;
}

/*
 * The prober.  Its parent, the middle process, exits at once: wait
 * (bounded) until we are vigild's child, then arm the parent-death
 * signal and run what `vigil-prober NAME` runs.
 */
static void
spawner_child(const char *name, int sock)
{
	struct timespec ms = { 0, 1000000 };
	int i;

	close(SPAWN_REQ_FD);
	if (dup2(sock, CHILD_FD) == -1)
		_exit(1);
	close(sock);
	for (i = 0; i < SPAWN_PARENT_WAIT && getppid() != spawner_vigild; i++)
		nanosleep(&ms, NULL);
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 ||
	    getppid() != spawner_vigild)
		_exit(0);
	(void)prctl(PR_SET_NAME, name, 0, 0, 0);
	spawner_title(name);
	exit(prober_run(name));
}
