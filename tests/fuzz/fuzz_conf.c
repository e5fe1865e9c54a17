/*
 * fuzz_conf.c - libFuzzer target for vigil.conf parsing (common/conf.c).
 *
 * The input is written to a memfd and loaded through its /proc/self/fd
 * path, as vigild loads a file.  Invariants checked: no crash or leak;
 * an error is "PATH:LINE: ..." and NUL-terminated in its buffer; a
 * configuration that loads satisfies the rules conf_load promises
 * (timeout < interval, warning <= critical, every provider has a kind, a
 * host and a unique name, no more providers than max_providers).
 *
 *	clang -g -O1 -fsanitize=fuzzer,address,undefined -std=c11 \
 *	    -D_GNU_SOURCE -Iinclude -Icommon tests/fuzz/fuzz_conf.c \
 *	    common/conf.c -linih -o fuzz_conf
 *	./fuzz_conf -max_total_time=60 corpus/
 */
#include <sys/mman.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int	fuzz_fd = -1;
static char	fuzz_path[64];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct conf_provider *p;
	char err[CONF_ERR_MAX];
	struct conf c;
	size_t i;
	int rc;

	if (fuzz_fd == -1) {
		if ((fuzz_fd = memfd_create("fuzz_conf", MFD_CLOEXEC)) == -1)
			abort();
		snprintf(fuzz_path, sizeof(fuzz_path), "/proc/self/fd/%d",
		    fuzz_fd);
	}
	if (ftruncate(fuzz_fd, 0) == -1 ||
	    (size > 0 && pwrite(fuzz_fd, data, size, 0) != (ssize_t)size))
		abort();

	memset(err, 'x', sizeof(err));
	rc = conf_load(&c, fuzz_path, err, sizeof(err));
	if (rc != 0 && rc != -1)
		abort();
	if (memchr(err, '\0', sizeof(err)) == NULL)
		abort();
	if (rc == -1) {
		if (strncmp(err, fuzz_path, strlen(fuzz_path)) != 0 ||
		    err[strlen(fuzz_path)] != ':')
			abort();
		if (c.providers != NULL || c.nproviders != 0)
			abort();
		conf_free(&c);
		return 0;
	}
	if (c.timeout_ms >= c.interval_ms ||
	    c.warning_error_rate > c.critical_error_rate ||
	    c.critical_error_rate > 100 ||
	    c.nproviders > c.max_providers ||
	    (c.sample_capacity & (c.sample_capacity - 1)) != 0 ||
	    c.shm_name[0] != '/')
		abort();
	for (i = 0; i < c.nproviders; i++) {
		p = &c.providers[i];
		if (p->name[0] == '\0' || p->host[0] == '\0' ||
		    p->kind < 0 || p->kind >= VIGIL_KIND_COUNT ||
		    p->timeout_ms >= p->interval_ms ||
		    conf_find(&c, p->name) != p ||
		    conf_provider_changed(p, p) != 0 ||
		    (p->api_key_file[0] != '\0') + (p->api_key_env[0] !=
		    '\0') + (p->api_key_credential[0] != '\0') > 1)
			abort();
	}
	conf_free(&c);
	return 0;
}
