/*
 * fdpass.c - one datagram with one descriptor attached (SCM_RIGHTS).
 */
#include <sys/socket.h>

#include <string.h>
#include <unistd.h>

#include "fdpass.h"

/*
 * Send len bytes of buf on sock with fd attached; flags as for sendmsg.
 * Returns what sendmsg returns.
 */
ssize_t
fdpass_send(int sock, const void *buf, size_t len, int fd, int flags)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct msghdr msg;
	struct cmsghdr *c;
	struct iovec iov;

	memset(&msg, 0, sizeof(msg));
	memset(&cm, 0, sizeof(cm));
	iov.iov_base = (void *)buf;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof(cm.buf);
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &msg, flags);
}

/*
 * Receive one datagram of at most len bytes into buf, and the descriptor
 * attached to it into *fd (-1: none); flags as for recvmsg (e.g.
 * MSG_CMSG_CLOEXEC).  A datagram or control data cut short gives *fd -1,
 * any descriptor that came with it closed.  Returns what recvmsg returns.
 */
ssize_t
fdpass_recv(int sock, void *buf, size_t len, int *fd, int flags)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct msghdr msg;
	struct cmsghdr *c;
	struct iovec iov;
	ssize_t n;

	*fd = -1;
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = buf;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof(cm.buf);
	if ((n = recvmsg(sock, &msg, flags)) == -1)
		return -1;
	for (c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET &&
		    c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(fd, CMSG_DATA(c), sizeof(int));
	if (*fd != -1 && (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		close(*fd);
		*fd = -1;
	}
	return n;
}
