/*
 * addr.h - the listen address of the HTTP API, "ADDR:PORT": parsed in
 * one place for vigild (which binds it) and for a standalone vigil-api.
 *
 * ADDR is a numeric address, IPv4 ("127.0.0.1:9470") or IPv6 in
 * brackets ("[::1]:9470"); PORT is 0..65535, 0 asking the kernel for a
 * free port (tests use it).  Library code: never logs, never exits.
 */
#ifndef VIGIL_ADDR_H
#define VIGIL_ADDR_H

#include <sys/socket.h>

#include <stddef.h>

#define ADDR_HOST_MAX	64	/* longer than any numeric address */

int	addr_parse(const char *, struct sockaddr_storage *, socklen_t *,
	    char *, size_t);
int	addr_listen(const char *, int, int *, char *, size_t);

#endif /* VIGIL_ADDR_H */
