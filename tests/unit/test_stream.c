/*
 * test_stream.c - the generation check's stream parser (prober/stream.c)
 * and the classification of an error event after a 200
 * (outcome_classify_event), on each kind's documented stream format:
 * OpenAI's chat.completion.chunk events with stream_options
 * include_usage and `data: [DONE]`; DeepSeek's `: keep-alive` comments
 * and reasoning_content; Anthropic's named events (message_start, ping,
 * content_block_delta, message_delta, message_stop, error); Gemini's
 * alt=sse GenerateContentResponse chunks.  The transcripts are written
 * for these tests after each provider's streaming reference.
 */
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vigil/vigil.h>

#include "../../prober/outcome.h"
#include "../../prober/stream.h"
#include "t.h"

/* OpenAI, stream_options {"include_usage": true}. */
static const char oa_role[] =
    "data: {\"id\":\"chatcmpl-9x\",\"object\":\"chat.completion.chunk\","
    "\"created\":1718000000,\"model\":\"gpt-4o-mini\",\"system_fingerprint\":"
    "\"fp_1\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
    "\"content\":\"\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":"
    "null}],\"usage\":null}\n\n";
static const char oa_rest[] =
    "data: {\"id\":\"chatcmpl-9x\",\"object\":\"chat.completion.chunk\","
    "\"created\":1718000000,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":"
    "0,\"delta\":{\"content\":\"Pong\"},\"logprobs\":null,\"finish_reason\":"
    "null}],\"usage\":null}\n\n"
    "data: {\"id\":\"chatcmpl-9x\",\"object\":\"chat.completion.chunk\","
    "\"created\":1718000000,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":"
    "0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"length\"}],"
    "\"usage\":null}\n\n"
    "data: {\"id\":\"chatcmpl-9x\",\"object\":\"chat.completion.chunk\","
    "\"created\":1718000000,\"model\":\"gpt-4o-mini\",\"choices\":[],"
    "\"usage\":{\"prompt_tokens\":8,\"completion_tokens\":1,"
    "\"total_tokens\":9,\"completion_tokens_details\":{\"reasoning_tokens\":"
    "0}}}\n\n"
    "data: [DONE]\n\n";

/* DeepSeek's reasoner, queued first: keep-alive comments. */
static const char ds_reasoner[] =
    ": keep-alive\n\n: keep-alive\n\n"
    "data: {\"id\":\"d1\",\"object\":\"chat.completion.chunk\",\"created\":1,"
    "\"model\":\"deepseek-reasoner\",\"choices\":[{\"index\":0,\"delta\":"
    "{\"role\":\"assistant\",\"content\":null,\"reasoning_content\":\"\"},"
    "\"finish_reason\":null}]}\n\n"
    ": keep-alive\n\n"
    "data: {\"id\":\"d1\",\"object\":\"chat.completion.chunk\",\"created\":1,"
    "\"model\":\"deepseek-reasoner\",\"choices\":[{\"index\":0,\"delta\":"
    "{\"content\":null,\"reasoning_content\":\"Okay\"},\"finish_reason\":"
    "\"length\"}],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":1,"
    "\"total_tokens\":11}}\n\n"
    "data: [DONE]\n\n";

/* Anthropic's Messages stream. */
static const char an_start[] =
    "event: message_start\n"
    "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01\","
    "\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":"
    "\"claude-sonnet-4-20250514\",\"stop_reason\":null,\"stop_sequence\":"
    "null,\"usage\":{\"input_tokens\":12,\"cache_creation_input_tokens\":0,"
    "\"cache_read_input_tokens\":0,\"output_tokens\":1}}}\n\n"
    "event: content_block_start\n"
    "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":"
    "{\"type\":\"text\",\"text\":\"\"}}\n\n"
    "event: ping\n"
    "data: {\"type\": \"ping\"}\n\n";
static const char an_rest[] =
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":"
    "\"text_delta\",\"text\":\"Po\"}}\n\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":"
    "\"text_delta\",\"text\":\"ng\"}}\n\n"
    "event: content_block_stop\n"
    "data: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
    "event: message_delta\n"
    "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
    "\"max_tokens\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":"
    "2}}\n\n"
    "event: message_stop\n"
    "data: {\"type\":\"message_stop\"}\n\n";
static const char an_overloaded[] =
    "event: error\n"
    "data: {\"type\": \"error\", \"error\": {\"type\": \"overloaded_error\", "
    "\"message\": \"Overloaded\"}}\n\n";

/* Gemini, streamGenerateContent?alt=sse (CRLF line ends). */
static const char gg_stream[] =
    "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": "
    "\"Thinking about it\", \"thought\": true}],\"role\": \"model\"},"
    "\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 4,"
    "\"totalTokenCount\": 4},\"modelVersion\": \"gemini-2.5-flash\"}\r\n\r\n"
    "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"Pong\"}],"
    "\"role\": \"model\"},\"finishReason\": \"MAX_TOKENS\",\"index\": 0}],"
    "\"usageMetadata\": {\"promptTokenCount\": 4,\"candidatesTokenCount\": 1,"
    "\"thoughtsTokenCount\": 3,\"totalTokenCount\": 8},\"modelVersion\": "
    "\"gemini-2.5-flash\"}\r\n\r\n";

/* Feed text whole, or in pieces of step bytes (0: whole). */
static int
feed(struct stream *s, const char *text, size_t step)
{
	size_t n = strlen(text), i, k;
	int first = 0;

	if (step == 0)
		return stream_feed(s, text, n);
	for (i = 0; i < n; i += k) {
		k = n - i < step ? n - i : step;
		first += stream_feed(s, text + i, k);
	}
	return first;
}

static int
outcome_of(int kind, const char *text, size_t step, const regex_t *re,
    char *err, struct stream *out)
{
	struct stream s;
	int o;

	stream_init(&s, kind);
	feed(&s, text, step);
	o = stream_outcome(&s, re, err, VIGIL_ERR_MAX);
	if (out != NULL)
		*out = s;
	else
		stream_free(&s);
	return o;
}

static void
test_openai(void)
{
	struct stream s;
	char err[VIGIL_ERR_MAX];

	stream_init(&s, VIGIL_KIND_OPENAI);
	/* The role-only first delta is not a token. */
	T_CHECK(feed(&s, oa_role, 0) == 0);
	T_CHECK(!(s.flags & STREAM_TOKEN) && (s.flags & STREAM_EVENT));
	T_CHECK(feed(&s, oa_rest, 0) == 1);
	T_CHECK(s.flags & STREAM_DONE);
	T_CHECK(s.tokens_in == 8 && s.tokens_out == 1);
	T_CHECK(strcmp(s.text, "Pong") == 0);
	T_CHECK(stream_outcome(&s, NULL, err, sizeof(err)) == VIGIL_OUT_OK &&
	    err[0] == '\0');
	stream_free(&s);
}

/* The same result whatever the pieces: one byte at a time, odd sizes. */
static void
test_pieces(void)
{
	static const struct {
		int kind;
		const char *a, *b;
	} tab[] = {
		{ VIGIL_KIND_OPENAI, oa_role, oa_rest },
		{ VIGIL_KIND_DEEPSEEK, ds_reasoner, "" },
		{ VIGIL_KIND_ANTHROPIC, an_start, an_rest },
		{ VIGIL_KIND_GOOGLE, gg_stream, "" },
	};
	size_t steps[] = { 1, 2, 3, 7, 64 }, i, k;
	char text[8192];

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		snprintf(text, sizeof(text), "%s%s", tab[i].a, tab[i].b);
		for (k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
			struct stream s, w;
			char e1[VIGIL_ERR_MAX], e2[VIGIL_ERR_MAX];

			stream_init(&s, tab[i].kind);
			stream_init(&w, tab[i].kind);
			T_CHECKF(feed(&s, text, steps[k]) == 1,
			    "kind %d step %zu", tab[i].kind, steps[k]);
			feed(&w, text, 0);
			T_CHECK(s.flags == w.flags && s.tokens_in ==
			    w.tokens_in && s.tokens_out == w.tokens_out &&
			    strcmp(s.text, w.text) == 0);
			T_CHECK(stream_outcome(&s, NULL, e1, sizeof(e1)) ==
			    VIGIL_OUT_OK);
			T_CHECK(stream_outcome(&w, NULL, e2, sizeof(e2)) ==
			    VIGIL_OUT_OK);
			stream_free(&s);
			stream_free(&w);
		}
	}
}

/* Comments, pings and empty lines are never the first token. */
static void
test_keepalive(void)
{
	struct stream s;
	int i;

	stream_init(&s, VIGIL_KIND_DEEPSEEK);
	for (i = 0; i < 50; i++)
		T_CHECK(feed(&s, ": keep-alive\n\n", 0) == 0);
	T_CHECK(feed(&s, "\n\n\r\n:\n", 0) == 0);
	T_CHECK(s.flags == 0);
	stream_free(&s);

	stream_init(&s, VIGIL_KIND_DEEPSEEK);
	T_CHECK(feed(&s, ds_reasoner, 0) == 1);
	/* reasoning_content is a token, but not the answer's text */
	T_CHECK((s.flags & STREAM_TOKEN) && s.text[0] == '\0');
	T_CHECK(s.tokens_in == 10 && s.tokens_out == 1);
	stream_free(&s);

	stream_init(&s, VIGIL_KIND_ANTHROPIC);
	T_CHECK(feed(&s, an_start, 0) == 0);
	T_CHECK(feed(&s, "event: ping\ndata: {\"type\": \"ping\"}\n\n", 0) ==
	    0);
	T_CHECK(!(s.flags & STREAM_TOKEN));
	T_CHECK(s.tokens_in == 12 && s.tokens_out == 1);
	T_CHECK(feed(&s, an_rest, 0) == 1);
	T_CHECK(s.tokens_in == 12 && s.tokens_out == 2);
	T_CHECK(strcmp(s.text, "Pong") == 0 && (s.flags & STREAM_DONE));
	stream_free(&s);
}

static void
test_google(void)
{
	struct stream s;
	char err[VIGIL_ERR_MAX];

	stream_init(&s, VIGIL_KIND_GOOGLE);
	T_CHECK(feed(&s, gg_stream, 0) == 1);
	/* a thought is a token, not text; thinking is billed output */
	T_CHECK(strcmp(s.text, "Pong") == 0);
	T_CHECK(s.tokens_in == 4 && s.tokens_out == 4);
	T_CHECK(stream_outcome(&s, NULL, err, sizeof(err)) == VIGIL_OUT_OK);
	stream_free(&s);
}

/* An error after the 200 is classified like the same error as a status. */
static void
test_error_events(void)
{
	static const struct {
		int kind;
		const char *text;
		int want;
		const char *err;
	} tab[] = {
		{ VIGIL_KIND_ANTHROPIC, an_overloaded, VIGIL_OUT_OVERLOADED,
		    "sse:overloaded_error" },
		{ VIGIL_KIND_ANTHROPIC,
		    "event: error\ndata: {\"type\":\"error\","
		    "\"error\":{\"type\":\"rate_limit_error\",\"message\":"
		    "\"Number of request tokens has exceeded your per-minute "
		    "rate limit\"}}\n\n", VIGIL_OUT_RATE_LIMITED,
		    "sse:rate_limit_error" },
		{ VIGIL_KIND_ANTHROPIC,
		    "event: error\ndata: {\"type\":\"error\","
		    "\"error\":{\"type\":\"api_error\",\"message\":"
		    "\"Internal server error\"}}\n\n", VIGIL_OUT_HTTP_5XX,
		    "sse:api_error" },
		{ VIGIL_KIND_OPENAI,
		    "data: {\"error\":{\"message\":\"The server "
		    "is overloaded, please try again later.\",\"type\":"
		    "\"server_error\",\"param\":null,\"code\":"
		    "\"server_is_overloaded\"}}\n\n", VIGIL_OUT_OVERLOADED,
		    "sse:server_is_overloaded" },
		{ VIGIL_KIND_OPENAI,
		    "data: {\"error\":{\"message\":\"Rate limit "
		    "reached\",\"type\":\"requests\",\"param\":null,\"code\":"
		    "\"rate_limit_exceeded\"}}\n\n", VIGIL_OUT_RATE_LIMITED,
		    "sse:rate_limit_exceeded" },
		{ VIGIL_KIND_OPENAI,
		    "data: {\"error\":{\"message\":\"The server "
		    "had an error while processing your request.\",\"type\":"
		    "\"server_error\",\"param\":null,\"code\":null}}\n\n",
		    VIGIL_OUT_HTTP_5XX, "sse:server_error" },
		{ VIGIL_KIND_GOOGLE, "data: {\"error\": {\"code\": 503, "
		    "\"message\": \"The model is overloaded. Please try again "
		    "later.\", \"status\": \"UNAVAILABLE\"}}\r\n\r\n",
		    VIGIL_OUT_OVERLOADED, "sse:UNAVAILABLE" },
		{ VIGIL_KIND_GOOGLE, "data: {\"error\": {\"code\": 429, "
		    "\"message\": \"Resource has been exhausted\", \"status\": "
		    "\"RESOURCE_EXHAUSTED\"}}\r\n\r\n", VIGIL_OUT_RATE_LIMITED,
		    "sse:RESOURCE_EXHAUSTED" },
		/* an error event that says nothing: their failure */
		{ VIGIL_KIND_DEEPSEEK, "event: error\ndata: oops\n\n",
		    VIGIL_OUT_HTTP_5XX, "sse:error" },
	};
	char err[VIGIL_ERR_MAX], text[2048];
	size_t i;
	int o;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		/* after the opening events, the first token, or nothing */
		snprintf(text, sizeof(text), "%s%s",
		    tab[i].kind == VIGIL_KIND_ANTHROPIC ? an_start :
		    tab[i].kind == VIGIL_KIND_GOOGLE ? "" : oa_role,
		    tab[i].text);
		o = outcome_of(tab[i].kind, text, 5, NULL, err, NULL);
		T_CHECKF(o == tab[i].want && strcmp(err, tab[i].err) == 0,
		    "row %zu: %s %s", i, vigil_outcome_name((unsigned)o), err);
	}
	/* the same body classified directly */
	snprintf(text, sizeof(text), "{\"type\":\"error\",\"error\":"
	    "{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}");
	o = outcome_classify_event(VIGIL_KIND_ANTHROPIC, text, strlen(text),
	    err, sizeof(err));
	T_CHECK(o == VIGIL_OUT_OVERLOADED);
	/* the first error is kept; an end marker after it changes nothing */
	snprintf(text, sizeof(text), "%s%s%s", an_start, an_overloaded,
	    an_rest);
	o = outcome_of(VIGIL_KIND_ANTHROPIC, text, 0, NULL, err, NULL);
	T_CHECK(o == VIGIL_OUT_OVERLOADED);
}

/* Without its end marker, or not a stream at all: bad_response. */
static void
test_broken(void)
{
	static const struct {
		int kind;
		const char *text;
		const char *err;
	} tab[] = {
		/* cut before [DONE] / message_stop / a finish reason */
		{ VIGIL_KIND_OPENAI, oa_role, "body:cut" },
		{ VIGIL_KIND_ANTHROPIC, an_start, "body:cut" },
		{ VIGIL_KIND_GOOGLE, "data: {\"candidates\": [{\"content\": "
		    "{\"parts\": [{\"text\": \"Po\"}]}}]}\r\n\r\n",
		    "body:cut" },
		/* an event the stream never ended: discarded */
		{ VIGIL_KIND_OPENAI, "data: [DONE]", "body:shape" },
		/* not a stream */
		{ VIGIL_KIND_OPENAI, "{\"id\":\"chatcmpl\",\"choices\":[]}",
		    "body:shape" },
		{ VIGIL_KIND_GOOGLE, "<html><body>502</body></html>",
		    "body:shape" },
		{ VIGIL_KIND_OPENAI, "data: not json\n\ndata: [DONE]\n\n",
		    "body:shape" },
		{ VIGIL_KIND_GOOGLE, "data: [1,2]\r\n\r\n", "body:shape" },
		/* [DONE] is OpenAI's, not Anthropic's */
		{ VIGIL_KIND_ANTHROPIC, "data: [DONE]\n\n", "body:shape" },
		{ VIGIL_KIND_OPENAI, "", "body:shape" },
	};
	char err[VIGIL_ERR_MAX];
	size_t i;
	int o;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		o = outcome_of(tab[i].kind, tab[i].text, 0, NULL, err, NULL);
		T_CHECKF(o == VIGIL_OUT_BAD_RESPONSE &&
		    strcmp(err, tab[i].err) == 0, "row %zu: %s", i, err);
	}
}

/* SSE's own rules: line ends, multi-line data, fields, long lines. */
static void
test_sse_rules(void)
{
	struct stream s;
	char *big;
	char err[VIGIL_ERR_MAX];

	/* CR alone ends lines too; "data:x" without the space */
	stream_init(&s, VIGIL_KIND_OPENAI);
	feed(&s, "data:{\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\r\r"
	    "id: 7\rretry: 100\rdata:[DONE]\r\r", 0);
	T_CHECK((s.flags & STREAM_TOKEN) && (s.flags & STREAM_DONE));
	stream_free(&s);

	/* data over several lines is joined with LF (JSON allows it) */
	stream_init(&s, VIGIL_KIND_ANTHROPIC);
	feed(&s, "event: message_stop\ndata: {\"type\":\ndata: "
	    "\"message_stop\"}\n\n", 0);
	T_CHECK(s.flags & STREAM_DONE);
	stream_free(&s);

	/* a line longer than the limit spoils its event, no more */
	if ((big = malloc(STREAM_LINE_MAX + 64)) == NULL) {
		T_CHECK(0);
		return;
	}
	memset(big, 'x', STREAM_LINE_MAX + 63);
	memcpy(big, "data: ", 6);
	big[STREAM_LINE_MAX + 63] = '\0';
	stream_init(&s, VIGIL_KIND_OPENAI);
	feed(&s, big, 1000);
	feed(&s, "\n\ndata: [DONE]\n\n", 0);
	T_CHECK((s.flags & STREAM_BAD) && (s.flags & STREAM_DONE));
	T_CHECK(stream_outcome(&s, NULL, err, sizeof(err)) ==
	    VIGIL_OUT_BAD_RESPONSE && strcmp(err, "body:shape") == 0);
	free(big);

	/* reset: ready for the next check, same kind */
	stream_reset(&s);
	T_CHECK(s.flags == 0 && s.kind == VIGIL_KIND_OPENAI);
	feed(&s, oa_role, 0);
	feed(&s, oa_rest, 0);
	T_CHECK(stream_outcome(&s, NULL, err, sizeof(err)) == VIGIL_OUT_OK);
	stream_free(&s);
}

/* gen_expect: the answer's text against a POSIX extended regex. */
static void
test_expect(void)
{
	regex_t yes, no;
	char err[VIGIL_ERR_MAX], text[4096];
	int o;

	T_CHECK(regcomp(&yes, "^[Pp]ong$", REG_EXTENDED | REG_NOSUB) == 0);
	T_CHECK(regcomp(&no, "^OK", REG_EXTENDED | REG_NOSUB) == 0);
	snprintf(text, sizeof(text), "%s%s", oa_role, oa_rest);
	T_CHECK(outcome_of(VIGIL_KIND_OPENAI, text, 0, &yes, err, NULL) ==
	    VIGIL_OUT_OK);
	o = outcome_of(VIGIL_KIND_OPENAI, text, 0, &no, err, NULL);
	T_CHECK(o == VIGIL_OUT_BAD_RESPONSE &&
	    strcmp(err, "body:unexpected") == 0);
	snprintf(text, sizeof(text), "%s%s", an_start, an_rest);
	T_CHECK(outcome_of(VIGIL_KIND_ANTHROPIC, text, 3, &yes, err, NULL) ==
	    VIGIL_OUT_OK);
	/* a thought is not the answer */
	T_CHECK(outcome_of(VIGIL_KIND_GOOGLE, gg_stream, 0, &yes, err,
	    NULL) == VIGIL_OUT_OK);
	/* no text at all (a reasoning model that only thought) */
	o = outcome_of(VIGIL_KIND_DEEPSEEK, ds_reasoner, 0, &yes, err, NULL);
	T_CHECK(o == VIGIL_OUT_BAD_RESPONSE &&
	    strcmp(err, "body:unexpected") == 0);
	regfree(&yes);
	regfree(&no);
}

/* A finished stream without any token is ok: no TTFT, not a failure. */
static void
test_no_token(void)
{
	struct stream s;
	char err[VIGIL_ERR_MAX];

	stream_init(&s, VIGIL_KIND_OPENAI);
	T_CHECK(feed(&s, oa_role, 0) == 0);
	T_CHECK(feed(&s, "data: {\"choices\":[{\"index\":0,\"delta\":{},"
	    "\"finish_reason\":\"length\"}],\"usage\":{\"prompt_tokens\":9,"
	    "\"completion_tokens\":16}}\n\ndata: [DONE]\n\n", 0) == 0);
	T_CHECK(!(s.flags & STREAM_TOKEN));
	T_CHECK(stream_outcome(&s, NULL, err, sizeof(err)) == VIGIL_OUT_OK);
	T_CHECK(s.tokens_in == 9 && s.tokens_out == 16);
	stream_free(&s);
}

/* Hostile numbers and text: clamped and cut, never overflowing. */
static void
test_limits(void)
{
	struct stream s;
	char buf[512];
	int i;

	stream_init(&s, VIGIL_KIND_OPENAI);
	feed(&s, "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":1e300,"
	    "\"completion_tokens\":-5}}\n\n", 0);
	T_CHECK(s.tokens_in == UINT32_MAX && s.tokens_out == 0);
	for (i = 0; i < 40; i++) {
		snprintf(buf, sizeof(buf), "data: {\"choices\":[{\"delta\":"
		    "{\"content\":\"%064d\"}}]}\n\n", i);
		feed(&s, buf, 0);
	}
	T_CHECK(s.tlen == STREAM_TEXT_MAX && (s.flags & STREAM_CUTTEXT));
	T_CHECK(strlen(s.text) == STREAM_TEXT_MAX);
	stream_free(&s);
}

int
main(void)
{
	T_RUN(test_openai);
	T_RUN(test_pieces);
	T_RUN(test_keepalive);
	T_RUN(test_google);
	T_RUN(test_error_events);
	T_RUN(test_broken);
	T_RUN(test_sse_rules);
	T_RUN(test_expect);
	T_RUN(test_no_token);
	T_RUN(test_limits);
	return t_done();
}
