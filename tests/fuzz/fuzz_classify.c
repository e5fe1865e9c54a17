/*
 * fuzz_classify.c - libFuzzer target for the prober's HTTP error
 * classifier: any kind, any status, any body bytes.
 *
 * Input: byte 0 picks the kind, bytes 1-2 the status (big endian, taken
 * modulo 700 so that every class is reached often, plus a few values
 * out of range), byte 3 the size of the error buffer (1..VIGIL_ERR_MAX);
 * the rest is the body, handed over with its exact length and no NUL
 * after it.  The classifier must not crash, must return an outcome below
 * VIGIL_OUT_COUNT and must leave a NUL-terminated error code inside the
 * buffer it was given (both buffers are exact-size heap copies, so ASan
 * sees any access past them).  The seeds in tests/fuzz/corpus/
 * fuzz_classify are vigil-sim's error modes (tests/sim/errors.c).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include <vigil/vigil.h>

#include "../../prober/outcome.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct probe_result r;
	size_t blen, elen;
	char *body, *err;
	unsigned raw;
	int rc;

	if (size < 4)
		return 0;
	raw = (unsigned)data[1] << 8 | data[2];
	elen = 1 + data[3] % VIGIL_ERR_MAX;
	blen = size - 4;
	if ((body = malloc(blen ? blen : 1)) == NULL)
		return 0;
	if ((err = malloc(elen)) == NULL) {
		free(body);
		return 0;
	}
	memcpy(body, data + 4, blen);
	memset(err, 'x', elen);

	memset(&r, 0, sizeof(r));
	r.curl_code = CURLE_OK;
	r.http_status = raw >= 65000 ? (long)raw - 65500 : (long)(raw % 700);
	r.body_ok = -1;
	r.kind = data[0] % VIGIL_KIND_COUNT;
	r.body = body;
	r.body_len = blen;
	rc = outcome_classify(&r, err, elen);
	if (rc < 0 || rc >= VIGIL_OUT_COUNT || memchr(err, '\0', elen) == NULL)
		abort();
	rc = outcome_status_class(r.kind, r.http_status);
	if (rc < 0 || rc >= VIGIL_OUT_COUNT)
		abort();
	free(err);
	free(body);
	return 0;
}
