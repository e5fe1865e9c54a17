/*
 * addr.c - parse "ADDR:PORT" and listen on it (see addr.h).
 *
 * Not getaddrinfo: a listen address is numeric, and a name that
 * resolved differently at each reload would move the API.  Not
 * evutil_parse_sockaddr_port either: it refuses port 0.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"

#define ADDR_BACKLOG	1024

static int	addr_port(const char *, const char *, uint16_t *, char *,
		    size_t);

/* PORT: 1 to 5 digits, at most 65535; nothing else (no sign, blank). */
static int
addr_port(const char *s, const char *p, uint16_t *port, char *err,
    size_t errlen)
{
	uint32_t v = 0;
	size_t n;

	for (n = 0; p[n] >= '0' && p[n] <= '9' && n < 6; n++)
		v = v * 10 + (uint32_t)(p[n] - '0');
	if (p[0] == '\0') {
		snprintf(err, errlen, "bad address \"%s\": no port (want "
		    "ADDR:PORT or [IPv6]:PORT)", s);
		return -1;
	}
	if (n == 0 || n > 5 || p[n] != '\0' || v > 65535) {
		snprintf(err, errlen, "bad address \"%s\": the port is a "
		    "number from 0 to 65535", s);
		return -1;
	}
	*port = (uint16_t)v;
	return 0;
}

/*
 * Parse s, "A.B.C.D:PORT" or "[IPv6]:PORT", into *ss and *len (ready
 * for bind).  Returns 0, or -1 with err saying what is wrong: no port,
 * a port out of range, an address that is not numeric, a bare or
 * unbalanced IPv6 bracket.
 */
int
addr_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len,
    char *err, size_t errlen)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	char host[ADDR_HOST_MAX];
	const char *h = s, *he, *p;
	uint16_t port;
	int v6 = s[0] == '[';

	memset(ss, 0, sizeof(*ss));
	if (v6) {
		h = s + 1;
		if ((he = strchr(h, ']')) == NULL) {
			snprintf(err, errlen, "bad address \"%s\": no ']' "
			    "after the IPv6 address", s);
			return -1;
		}
		if (he[1] != ':') {
			snprintf(err, errlen, "bad address \"%s\": no port "
			    "after ']' (want [IPv6]:PORT)", s);
			return -1;
		}
		p = he + 2;
	} else {
		if ((he = strrchr(s, ':')) == NULL) {
			snprintf(err, errlen, "bad address \"%s\": no port "
			    "(want ADDR:PORT or [IPv6]:PORT)", s);
			return -1;
		}
		p = he + 1;
	}
	if (he == h) {
		snprintf(err, errlen, "bad address \"%s\": no address before "
		    "the port", s);
		return -1;
	}
	if ((size_t)(he - h) >= sizeof(host)) {
		snprintf(err, errlen, "bad address \"%s\": the address is "
		    "longer than %d bytes", s, ADDR_HOST_MAX - 1);
		return -1;
	}
	if (addr_port(s, p, &port, err, errlen) == -1)
		return -1;
	memcpy(host, h, (size_t)(he - h));
	host[he - h] = '\0';
	if (v6 && inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*len = sizeof(*s6);
		return 0;
	}
	if (!v6 && inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		*len = sizeof(*s4);
		return 0;
	}
	snprintf(err, errlen, "bad address \"%s\": \"%s\" is not a numeric "
	    "%s", s, host, v6 ? "IPv6 address" : strchr(host, ':') != NULL ?
	    "IPv4 address (IPv6 goes in brackets: [::1]:PORT)" :
	    "IPv4 address");
	return -1;
}

/*
 * A listening TCP socket on s (SO_REUSEADDR, close-on-exec, plus the
 * socket type flags given, e.g. SOCK_NONBLOCK).  If port is not NULL it
 * receives the bound port (the kernel's choice for port 0).  Returns
 * the socket, or -1 with err filled.
 */
int
addr_listen(const char *s, int flags, int *port, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len, sl = sizeof(ss);
	int fd, one = 1;

	if (addr_parse(s, &ss, &len, err, errlen) == -1)
		return -1;
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | flags,
	    0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    listen(fd, ADDR_BACKLOG) == -1) {
		snprintf(err, errlen, "bind %s: %s", s, strerror(errno));
		close(fd);
		return -1;
	}
	if (port == NULL)
		return fd;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == -1) {
		snprintf(err, errlen, "getsockname: %s", strerror(errno));
		close(fd);
		return -1;
	}
	*port = ntohs(ss.ss_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)&ss)->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}
