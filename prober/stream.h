/*
 * stream.h - a generation check's server-sent events, per kind.
 *
 * The answer of a streamed completion arrives in pieces; stream_feed
 * takes each piece as it comes, splits it into SSE events (the WHATWG
 * rules: CR, LF or CRLF line ends, comments, multi-line data, an event
 * ended by an empty line) and reads each event as its kind writes it:
 * whether it carries the first content token (the time to first token
 * is stamped there, not at the first byte), the kind's end marker, the
 * token usage, an error, the answer's text.  Pure: no clock, no I/O;
 * unit-tested (tests/unit/test_stream.c) and fuzzed
 * (tests/fuzz/fuzz_stream.c): the stream comes from outside.
 */
#ifndef VIGIL_PROBER_STREAM_H
#define VIGIL_PROBER_STREAM_H

#include <regex.h>
#include <stddef.h>
#include <stdint.h>

#include <vigil/vigil.h>

#define STREAM_LINE_MAX		(64 * 1024)	/* a longer line is garbage */
#define STREAM_EVENT_MAX	(64 * 1024)	/* one event's data, likewise */
#define STREAM_TEXT_MAX		1024		/* answer text kept for
						   gen_expect */

/* struct stream.flags: what the stream has shown so far. */
#define STREAM_EVENT	0x01u	/* an event with data */
#define STREAM_TOKEN	0x02u	/* a content token */
#define STREAM_DONE	0x04u	/* the kind's end marker */
#define STREAM_ERROR	0x08u	/* an error event (the first is kept) */
#define STREAM_BAD	0x10u	/* data the kind never sends (not JSON,
				   too long, or our memory ran out) */
#define STREAM_USAGE	0x20u	/* token usage reported */
#define STREAM_CUTTEXT	0x40u	/* text beyond STREAM_TEXT_MAX dropped */

struct stream {
	int		 kind;		/* enum vigil_kind */
	unsigned	 flags;		/* STREAM_* */
	uint32_t	 tokens_in;	/* usage, the newest report of each */
	uint32_t	 tokens_out;
	int		 err_out;	/* first error event's outcome */
	char		 err[VIGIL_ERR_MAX];	/* and its code, "sse:..." */
	char		 text[STREAM_TEXT_MAX + 1]; /* the content, NUL-ended */
	size_t		 tlen;
	/* Parser state. */
	char		*line;		/* the line being read */
	size_t		 llen, lcap;
	int		 lover;		/* it went over STREAM_LINE_MAX */
	char		*data;		/* the event's data lines, joined */
	size_t		 dlen, dcap;
	int		 dover;
	int		 dany;		/* a data field came */
	char		 event[32];	/* the event's name ("" none) */
	int		 cr;		/* the last byte was a CR */
};

void	stream_init(struct stream *, int);
void	stream_reset(struct stream *);
void	stream_free(struct stream *);
int	stream_feed(struct stream *, const char *, size_t);
int	stream_outcome(const struct stream *, const regex_t *, char *,
	    size_t);

#endif /* VIGIL_PROBER_STREAM_H */
