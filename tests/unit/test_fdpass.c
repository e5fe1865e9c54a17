/*
 * test_fdpass.c - one datagram with one descriptor (common/fdpass.c):
 * the descriptor arrives and works; a datagram cut short or without one
 * gives -1, and nothing leaks.
 */
#include <sys/socket.h>

#include <dirent.h>
#include <unistd.h>

#include "t.h"
#include "fdpass.h"

static int
open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void
test_roundtrip(void)
{
	int sv[2], pp[2], fd = -2;
	char buf[16], c = 0;
	ssize_t n;

	T_CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0);
	T_CHECK(pipe(pp) == 0);
	T_CHECK(fdpass_send(sv[0], "abc", 3, pp[1], 0) == 3);
	close(pp[1]);
	n = fdpass_recv(sv[1], buf, sizeof(buf), &fd, MSG_CMSG_CLOEXEC);
	T_CHECK(n == 3 && memcmp(buf, "abc", 3) == 0);
	T_CHECK(fd >= 0);
	/* The received descriptor is the pipe's write end. */
	T_CHECK(write(fd, "x", 1) == 1);
	T_CHECK(read(pp[0], &c, 1) == 1 && c == 'x');
	close(fd);
	close(pp[0]);
	close(sv[0]);
	close(sv[1]);
}

static void
test_bad(void)
{
	int sv[2], pp[2], fd = -2, before;
	char buf[4];
	ssize_t n;

	T_CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0);
	T_CHECK(pipe(pp) == 0);
	before = open_fds();
	/* Cut short: the descriptor that came with it is closed. */
	T_CHECK(fdpass_send(sv[0], "too long a name", 15, pp[1], 0) == 15);
	n = fdpass_recv(sv[1], buf, sizeof(buf), &fd, 0);
	T_CHECK(n == 4 && fd == -1);
	T_CHECKF(open_fds() == before, "%d open, %d before", open_fds(),
	    before);
	/* No descriptor attached. */
	T_CHECK(send(sv[0], "ab", 2, 0) == 2);
	fd = -2;
	n = fdpass_recv(sv[1], buf, sizeof(buf), &fd, 0);
	T_CHECK(n == 2 && fd == -1);
	/* The peer gone: 0, as recvmsg says. */
	close(sv[0]);
	fd = -2;
	T_CHECK(fdpass_recv(sv[1], buf, sizeof(buf), &fd, 0) == 0 && fd == -1);
	close(sv[1]);
	close(pp[0]);
	close(pp[1]);
}

int
main(void)
{
	T_RUN(test_roundtrip);
	T_RUN(test_bad);
	return t_done();
}
