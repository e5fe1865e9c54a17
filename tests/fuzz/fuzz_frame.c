/*
 * fuzz_frame.c - libFuzzer target for common/frame.c: the length check,
 * the msgpack pre-scan and decoding, then every typed getter on what was
 * decoded, as vigild does with a control client's bytes.
 *
 *	make fuzz	(builds build/fuzz/fuzz/fuzz_frame and runs it)
 */
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "frame.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	msgpack_unpacked m;
	const msgpack_object *args;
	char err[128], s[64];
	uint64_t u;
	int64_t i;
	double d;
	size_t used, off = 0;
	int b;

	msgpack_unpacked_init(&m);
	/* As a stream: frame after frame until more bytes are needed. */
	while (off < size && frame_parse(data + off, size - off, &used, &m,
	    err, sizeof(err)) == FRAME_OK) {
		off += used;
		(void)mp_get_uint(&m.data, "id", &u);
		(void)mp_get_str(&m.data, "op", s, sizeof(s));
		args = mp_get(&m.data, "args");
		(void)mp_get_str(args, "provider", s, sizeof(s));
		(void)mp_get_int(args, "interval_ms", &i);
		(void)mp_get_double(args, "duration", &d);
		(void)mp_get_bool(args, "all", &b);
	}
	msgpack_unpacked_destroy(&m);
	return 0;
}
