/*
 * wbuf.c - a writer that fills an evbuffer through reserved space.
 *
 * evbuffer_add_printf parses a format and allocates per call, and even
 * evbuffer_add costs a chain lookup per call: rendering /metrics for
 * 1,000 providers makes about 600,000 appends.  This writer reserves
 * WB_CHUNK bytes at a time (evbuffer_reserve_space), appends with
 * memcpy and the formatters of util.c, and commits each chunk once.
 */
#include <malloc.h>
#include <math.h>
#include <string.h>

#include <event2/buffer.h>

#include "api.h"

#define WB_FIRST	(16 * 1024)	/* most responses fit */
#define WB_CHUNK	(256 * 1024)
#define WB_TRIM		(16 * 1024 * 1024)

static void	wb_commit(struct api_wbuf *);

static void
wb_commit(struct api_wbuf *w)
{
	struct evbuffer_iovec v;

	if (w->wb_base == NULL)
		return;
	v.iov_base = w->wb_base;
	v.iov_len = (size_t)(w->wb_p - w->wb_base);
	if (evbuffer_commit_space(w->wb_eb, &v, 1) == -1)
		w->wb_err = 1;
	w->wb_base = w->wb_p = w->wb_end = NULL;
}

/* Commit what was written and reserve room for at least n bytes. */
int
api_wb_more(struct api_wbuf *w, size_t n)
{
	struct evbuffer_iovec v;

	if (w->wb_err)
		return -1;
	/*
	 * A small first chunk: a 256 KB malloc and free per 5 KB answer
	 * showed up as malloc_consolidate at 30,000 requests/s.
	 */
	if (w->wb_base == NULL && evbuffer_get_length(w->wb_eb) == 0) {
		if (n < WB_FIRST)
			n = WB_FIRST;
	} else if (n < WB_CHUNK)
		n = WB_CHUNK;
	wb_commit(w);
	if (evbuffer_reserve_space(w->wb_eb, (ev_ssize_t)n, &v, 1) != 1 ||
	    v.iov_len < n) {
		w->wb_err = 1;
		return -1;
	}
	w->wb_base = w->wb_p = v.iov_base;
	w->wb_end = w->wb_base + v.iov_len;
	return 0;
}

/*
 * glibc serves a 256 KB chunk with mmap and returns it with munmap once
 * the response is sent: every scrape of a 4.5 MB /metrics paid about
 * 1,100 page faults.  Keep such chunks on the heap, and keep up to
 * WB_TRIM of freed heap for the next response.  Call once at start-up.
 */
void
api_wb_tune(void)
{
#ifdef __GLIBC__
	(void)mallopt(M_MMAP_THRESHOLD, 4 * WB_CHUNK);
	(void)mallopt(M_TRIM_THRESHOLD, WB_TRIM);
#endif
}

void
api_wb_begin(struct api_wbuf *w, struct evbuffer *eb)
{
	memset(w, 0, sizeof(*w));
	w->wb_eb = eb;
}

/* Commit the last chunk.  Returns 0, or -1 if anything was dropped. */
int
api_wb_end(struct api_wbuf *w)
{
	wb_commit(w);
	return w->wb_err ? -1 : 0;
}

void
api_wb_str(struct api_wbuf *w, const char *s)
{
	api_wb_mem(w, s, strlen(s));
}

void
api_wb_u64(struct api_wbuf *w, uint64_t v)
{
	char buf[24];

	api_wb_mem(w, buf, api_fmt_u64(v, buf));
}

void
api_wb_i64(struct api_wbuf *w, int64_t v)
{
	char buf[24];

	api_wb_mem(w, buf, api_fmt_i64(v, buf));
}

/* A Prometheus sample value: prec decimals, NaN and +Inf/-Inf spelled. */
void
api_wb_fixed(struct api_wbuf *w, double v, unsigned prec)
{
	char buf[API_FMT_MAX];

	api_wb_mem(w, buf, api_fmt_fixed(v, prec, buf, sizeof(buf)));
}

/* A JSON number with at most 3 decimals (as api_round3); non-finite: 0. */
void
api_wb_jnum(struct api_wbuf *w, double v)
{
	char buf[API_FMT_MAX];

	if (!isfinite(v))
		v = 0;
	api_wb_mem(w, buf, api_fmt_fixed(v, 3, buf, sizeof(buf)));
}

/*
 * A JSON string, quoted: '"' and '\\' escaped, control characters as
 * \u00XX.  Bytes >= 0x80 pass through (names and hosts are ASCII; error
 * codes come from a fixed table).
 */
void
api_wb_jstr(struct api_wbuf *w, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;
	char esc[6];
	unsigned char c;

	api_wb_lit(w, "\"");
	for (; (c = (unsigned char)*s) != '\0'; s++) {
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		api_wb_mem(w, run, (size_t)(s - run));
		run = s + 1;
		if (c == '"')
			api_wb_lit(w, "\\\"");
		else if (c == '\\')
			api_wb_lit(w, "\\\\");
		else if (c == '\n')
			api_wb_lit(w, "\\n");
		else {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			api_wb_mem(w, esc, sizeof(esc));
		}
	}
	api_wb_mem(w, run, (size_t)(s - run));
	api_wb_lit(w, "\"");
}

/* An RFC 3339 time, quoted, or null for 0 (never). */
void
api_wb_jtime(struct api_wbuf *w, uint64_t wall_ns)
{
	char buf[32];
	size_t n;

	if (wall_ns == 0 || (n = api_time_format(wall_ns, buf,
	    sizeof(buf))) == 0) {
		api_wb_lit(w, "null");
		return;
	}
	api_wb_lit(w, "\"");
	api_wb_mem(w, buf, n);
	api_wb_lit(w, "\"");
}
