/*
 * fuzz_statuspage.c - libFuzzer target for a status page's summary.json
 * (statuspage/page.c): text from the internet, read by vigil-statuspage.
 *
 * Invariants checked: no crash or leak; a refused page leaves the block
 * as it was and names a short error; a page read gives an indicator in
 * range, NUL-terminated strings that hold no control character and end
 * on a whole UTF-8 sequence, and no incident without one open.
 *
 *	make SAN=fuzz build/fuzz/fuzz/fuzz_statuspage
 *	build/fuzz/fuzz/fuzz_statuspage -max_total_time=60 \
 *	    tests/fuzz/corpus/fuzz_statuspage
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../statuspage/page.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
text_ok(const char *s, size_t size)
{
	size_t n = strnlen(s, size), i;
	size_t k;

	if (n == size)
		abort();		/* not terminated */
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			abort();
	/* The last sequence is whole (when it starts as UTF-8 does). */
	for (k = n; k > 0 && ((unsigned char)s[k - 1] & 0xc0) == 0x80; k--)
		;
	if (k > 0 && (unsigned char)s[k - 1] >= 0xc0) {
		unsigned char c = (unsigned char)s[k - 1];
		size_t want = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;

		if (n - (k - 1) < want)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vigil_status_page b, before;
	char err[VIGIL_ERR_MAX];

	memset(&b, 0xa5, sizeof(b));
	b.incident_name[0] = b.incident_status[0] = '\0';
	before = b;
	if (sp_parse((const char *)data, size, &b, err, sizeof(err)) == -1) {
		if (memcmp(&b, &before, sizeof(b)) != 0 || strlen(err) == 0)
			abort();
		return 0;
	}
	if (b.indicator >= VIGIL_SPI_COUNT ||
	    b.incident_impact >= VIGIL_SPI_COUNT)
		abort();
	text_ok(b.incident_name, sizeof(b.incident_name));
	text_ok(b.incident_status, sizeof(b.incident_status));
	if (b.incidents_open == 0 && (b.incident_name[0] != '\0' ||
	    b.incident_created_wall_ns != 0))
		abort();
	return 0;
}
