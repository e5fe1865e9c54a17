/*
 * test_addr.c - the listen address parser and listener (common/addr.c),
 * shared by vigild and a standalone vigil-api.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include "t.h"
#include "addr.h"

/* s parses to family and port; for IPv4, to the address text a4. */
static void
good(const char *s, int family, unsigned port, const char *a4)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;
	char err[256], txt[64];
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)&ss;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&ss;

	err[0] = '\0';
	T_CHECKF(addr_parse(s, &ss, &len, err, sizeof(err)) == 0, "%s: %s",
	    s, err);
	T_CHECKF(ss.ss_family == family, "%s", s);
	if (family == AF_INET) {
		T_CHECK(len == sizeof(*s4));
		T_CHECKF(ntohs(s4->sin_port) == port, "%s", s);
		inet_ntop(AF_INET, &s4->sin_addr, txt, sizeof(txt));
		T_CHECKF(strcmp(txt, a4) == 0, "%s: %s", s, txt);
	} else {
		T_CHECK(len == sizeof(*s6));
		T_CHECKF(ntohs(s6->sin6_port) == port, "%s", s);
	}
}

/* s is refused, and the error names s and contains why. */
static void
bad(const char *s, const char *why)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;
	char err[256];

	err[0] = '\0';
	T_CHECKF(addr_parse(s, &ss, &len, err, sizeof(err)) == -1, "%s", s);
	T_CHECKF(strstr(err, s) != NULL && strstr(err, why) != NULL,
	    "%s: \"%s\", want \"%s\"", s, err, why);
}

static void
test_good(void)
{
	good("127.0.0.1:9470", AF_INET, 9470, "127.0.0.1");
	good("0.0.0.0:80", AF_INET, 80, "0.0.0.0");
	good("127.0.0.1:0", AF_INET, 0, "127.0.0.1");	/* any free port */
	good("10.1.2.3:65535", AF_INET, 65535, "10.1.2.3");
	good("[::1]:9470", AF_INET6, 9470, NULL);
	good("[::]:0", AF_INET6, 0, NULL);
	good("[fe80::1:2]:443", AF_INET6, 443, NULL);
	good("[::ffff:127.0.0.1]:8080", AF_INET6, 8080, NULL);
}

static void
test_port(void)
{
	bad("127.0.0.1", "no port");
	bad("127.0.0.1:", "no port");
	bad("[::1]", "no port after ']'");
	bad("[::1]:", "no port");
	bad("127.0.0.1:65536", "0 to 65535");
	bad("127.0.0.1:123456", "0 to 65535");
	bad("127.0.0.1:-1", "0 to 65535");
	bad("127.0.0.1:+80", "0 to 65535");
	bad("127.0.0.1: 80", "0 to 65535");
	bad("127.0.0.1:80x", "0 to 65535");
	bad("127.0.0.1:http", "0 to 65535");
}

static void
test_host(void)
{
	bad(":9470", "no address");
	bad("[]:9470", "no address");
	bad("localhost:9470", "not a numeric IPv4");
	bad("1.2.3:9470", "not a numeric IPv4");
	bad("256.1.1.1:9470", "not a numeric IPv4");
	bad("::1:9470", "IPv6 goes in brackets");
	bad("[::1:9470", "no ']'");
	bad("[::1]9470", "no port after ']'");
	bad("[127.0.0.1]:9470", "not a numeric IPv6");
	bad("[::g]:9470", "not a numeric IPv6");
	bad("1111111111222222222233333333334444444444555555555566666666667777"
	    ":1", "longer than 63");
}

/* Port 0 binds a free port and says which; a taken port is an error. */
static void
test_listen(void)
{
	char err[256], addr[64];
	int fd, fd2, port = 0;

	fd = addr_listen("127.0.0.1:0", SOCK_NONBLOCK, &port, err,
	    sizeof(err));
	T_CHECKF(fd >= 0, "%s", err);
	T_CHECK(port > 0 && port <= 65535);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	fd2 = addr_listen(addr, 0, NULL, err, sizeof(err));
	T_CHECK(fd2 == -1 && strstr(err, "bind 127.0.0.1:") != NULL);
	T_CHECK(addr_listen("nowhere", 0, NULL, err, sizeof(err)) == -1);
	T_CHECK(strstr(err, "no port") != NULL);
	if (fd >= 0)
		close(fd);
}

int
main(void)
{
	T_RUN(test_good);
	T_RUN(test_port);
	T_RUN(test_host);
	T_RUN(test_listen);
	return t_done();
}
