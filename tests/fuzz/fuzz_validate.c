/*
 * fuzz_validate.c - libFuzzer target for the prober's body validators.
 *
 * The first byte picks the kind; the rest is the body, handed over with
 * its exact length (no NUL terminator: validators must honour len).
 *
 *	clang -g -O1 -fsanitize=fuzzer,address,undefined -std=c11 \
 *	    -D_GNU_SOURCE -Iinclude -Icommon tests/fuzz/fuzz_validate.c \
 *	    prober/kinds.c prober/outcome.c \
 *	    $(pkg-config --cflags --libs libcjson libcurl) -o fuzz_validate
 *	./fuzz_validate -max_total_time=60 tests/fuzz/corpus
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vigil/vigil.h>

#include "../../prober/kinds.h"
#include "../../prober/outcome.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct probe_result r;
	char err[20];
	char *copy;
	int kind, rc;

	if (size < 1)
		return 0;
	kind = data[0] % VIGIL_KIND_COUNT;
	/* An exact-size heap copy, so ASan sees any read past len. */
	if ((copy = malloc(size - 1 ? size - 1 : 1)) == NULL)
		return 0;
	memcpy(copy, data + 1, size - 1);

	rc = kind_validate_body(kind, copy, size - 1);
	if (rc != 0 && rc != -1)
		abort();
	rc = kind_validate_stream(copy, size - 1);
	if (rc != 0 && rc != -1)
		abort();

	memset(&r, 0, sizeof(r));
	r.curl_code = 0;
	r.http_status = data[0] % 2 ? 200 : 400;
	r.body_ok = kind_validate_body(kind, copy, size - 1);
	r.kind = kind;
	r.body = copy;
	r.body_len = size - 1;
	rc = outcome_classify(&r, err, sizeof(err));
	if (rc < 0 || rc >= VIGIL_OUT_COUNT || memchr(err, '\0',
	    sizeof(err)) == NULL)
		abort();
	free(copy);
	return 0;
}
