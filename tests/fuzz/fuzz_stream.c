/*
 * fuzz_stream.c - libFuzzer target for what a generation check and a
 * models-list check read from outside: the SSE stream parser
 * (prober/stream.c), the error-event classifier it calls
 * (outcome_classify_event), and the models list reader
 * (prober/models.c).
 *
 * Byte 0 picks the kind, byte 1 how the stream is cut into pieces; the
 * rest is the answer's body.  It is fed whole and in pieces (sizes from
 * byte 1, varying), each piece an exact-size heap copy so that ASan sees
 * a read past it.  Invariants: no crash; the whole and the pieces give
 * the same flags, usage and text; the first token is reported once; the
 * outcome is an outcome, its code NUL-terminated; the text fits
 * STREAM_TEXT_MAX; models_listed gives a verdict of the three for each
 * model, or touches nothing.
 *
 *	make SAN=fuzz build/fuzz/fuzz/fuzz_stream
 *	build/fuzz/fuzz/fuzz_stream -max_total_time=60 \
 *	    tests/fuzz/corpus/fuzz_stream
 */
#include <regex.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vigil/vigil.h>

#include "../../prober/models.h"
#include "../../prober/outcome.h"
#include "../../prober/stream.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_outcome(const struct stream *s, const regex_t *re)
{
	char err[VIGIL_ERR_MAX];
	int o;

	memset(err, 'x', sizeof(err));
	o = stream_outcome(s, re, err, sizeof(err));
	if (o < 0 || o >= VIGIL_OUT_COUNT || memchr(err, '\0',
	    sizeof(err)) == NULL)
		abort();
	if (s->tlen > STREAM_TEXT_MAX || strlen(s->text) != s->tlen)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char names[3][VIGIL_MODEL_MAX] = { "gpt-4o-mini",
	    "claude-sonnet-4-0", "models/gemini-2.0-flash" };
	static regex_t re;
	static int re_ok;
	struct stream whole, parts;
	uint8_t listed[3];
	char err[VIGIL_ERR_MAX], *piece;
	const char *body;
	size_t len, i, k, step;
	int kind, firsts = 0, o;

	if (size < 2)
		return 0;
	if (!re_ok)
		re_ok = regcomp(&re, "^[Pp]ong", REG_EXTENDED | REG_NOSUB) == 0;
	kind = data[0] % VIGIL_KIND_COUNT;
	step = data[1];
	body = (const char *)data + 2;
	len = size - 2;

	stream_init(&whole, kind);
	stream_init(&parts, kind);
	if ((piece = malloc(len ? len : 1)) == NULL)
		return 0;
	memcpy(piece, body, len);
	firsts += stream_feed(&whole, piece, len);
	free(piece);
	for (i = 0; i < len; i += k) {
		k = step % 23 + 1;
		step = step * 7 + 3;
		if (k > len - i)
			k = len - i;
		if ((piece = malloc(k)) == NULL)
			break;
		memcpy(piece, body + i, k);
		firsts += stream_feed(&parts, piece, k);
		free(piece);
	}
	/* One first token for each feeding at most, and the same stream. */
	if (firsts > 2 || whole.flags != parts.flags ||
	    whole.tokens_in != parts.tokens_in ||
	    whole.tokens_out != parts.tokens_out ||
	    strcmp(whole.text, parts.text) != 0 ||
	    ((whole.flags & STREAM_ERROR) && strcmp(whole.err, parts.err) !=
	    0))
		abort();
	check_outcome(&whole, NULL);
	check_outcome(&parts, re_ok ? &re : NULL);
	stream_free(&whole);
	stream_free(&parts);

	memset(err, 'x', sizeof(err));
	o = outcome_classify_event(kind, body, len, err, sizeof(err));
	if (o < 0 || o >= VIGIL_OUT_COUNT || memchr(err, '\0',
	    sizeof(err)) == NULL || strncmp(err, "sse:", 4) != 0)
		abort();

	memset(listed, 7, sizeof(listed));
	if (models_listed(kind, body, len, names, 3, listed) == 0) {
		for (i = 0; i < 3; i++)
			if (listed[i] != MODEL_LISTED &&
			    listed[i] != MODEL_UNLISTED &&
			    listed[i] != MODEL_UNKNOWN)
				abort();
	} else if (listed[0] != 7 || listed[1] != 7 || listed[2] != 7)
		abort();
	return 0;
}
