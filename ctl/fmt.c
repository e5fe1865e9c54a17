/*
 * fmt.c - how vigilctl shows values: latencies, rates, durations, times,
 * and aligned tables (haproxy's `show stat` and systemctl's listings are
 * the model: one row per provider, a heading, two spaces between
 * columns).
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "ctl.h"

#define TBL_CELL_MAX	256

struct table {
	size_t		  t_ncols;
	size_t		  t_nrows;
	size_t		  t_cap;
	char		**t_cells;	/* (nrows + 1) * ncols; row 0: heads */
	const char	**t_colors;	/* same shape */
	int		 *t_align;
	int		  t_oom;
};

static int	table_grow(struct table *);
static int	fmt_tm_parse(const char *, uint64_t *);

uint64_t
fmt_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void
fmt_ms(char *buf, size_t len, double ms)
{
	if (!(ms > 0))
		snprintf(buf, len, "-");
	else if (ms < 1)
		snprintf(buf, len, "%.2f", ms);
	else if (ms < 100)
		snprintf(buf, len, "%.1f", ms);
	else if (ms < 10000)
		snprintf(buf, len, "%.0f", ms);
	else
		snprintf(buf, len, "%.1fs", ms / 1000);
}

void
fmt_rate(char *buf, size_t len, double rate)
{
	double pct = rate * 100;

	if (!(pct > 0))
		snprintf(buf, len, "0%%");
	else if (pct >= 100)
		snprintf(buf, len, "100%%");
	else if (pct < 0.1)
		snprintf(buf, len, "<0.1%%");
	else
		snprintf(buf, len, "%.1f%%", pct);
}

void
fmt_duration(char *buf, size_t len, uint64_t ms)
{
	static const struct { uint64_t ms; const char *u; } units[] = {
		{ 86400000, "d" }, { 3600000, "h" }, { 60000, "m" },
		{ 1000, "s" } };
	size_t i, nunits = sizeof(units) / sizeof(units[0]);
	uint64_t hi, lo;

	if (ms < 1000) {
		snprintf(buf, len, "%" PRIu64 "ms", ms);
		return;
	}
	/* The two most significant units, the way people say it. */
	for (i = 0; i + 1 < nunits && ms < units[i].ms; i++)
		;
	hi = ms / units[i].ms;
	lo = i + 1 < nunits ? ms % units[i].ms / units[i + 1].ms : 0;
	if (lo == 0)
		snprintf(buf, len, "%" PRIu64 "%s", hi, units[i].u);
	else
		snprintf(buf, len, "%" PRIu64 "%s%" PRIu64 "%s", hi,
		    units[i].u, lo, units[i + 1].u);
}

void
fmt_age(char *buf, size_t len, uint64_t now_ns, uint64_t at_ns)
{
	char d[32];

	if (at_ns == 0) {
		snprintf(buf, len, "never");
		return;
	}
	if (at_ns > now_ns) {
		fmt_duration(d, sizeof(d), (at_ns - now_ns) / 1000000);
		snprintf(buf, len, "in %s", d);
		return;
	}
	if (now_ns - at_ns < 1000000000ull) {
		snprintf(buf, len, "just now");
		return;
	}
	/* Whole seconds: "3s ago", not "3s420ms ago". */
	fmt_duration(d, sizeof(d), (now_ns - at_ns) / 1000000000ull * 1000);
	snprintf(buf, len, "%s ago", d);
}

void
fmt_time(char *buf, size_t len, uint64_t ns)
{
	struct tm tm;
	time_t t = (time_t)(ns / 1000000000ull);

	if (ns == 0 || gmtime_r(&t, &tm) == NULL) {
		snprintf(buf, len, "-");
		return;
	}
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* "2026-11-28T15:04:05Z" (also with a space, or without Z). */
static int
fmt_tm_parse(const char *s, uint64_t *ns)
{
	struct tm tm;
	const char *end;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL &&
	    (end = strptime(s, "%Y-%m-%d %H:%M:%S", &tm)) == NULL) {
		memset(&tm, 0, sizeof(tm));
		if ((end = strptime(s, "%Y-%m-%d", &tm)) == NULL)
			return -1;
	}
	if (*end == 'Z')
		end++;
	if (*end != '\0')
		return -1;
	if ((t = timegm(&tm)) == (time_t)-1 || t < 0)
		return -1;
	*ns = (uint64_t)t * 1000000000ull;
	return 0;
}

int
fmt_parse_time(const char *s, uint64_t now_ns, uint64_t *ns)
{
	uint32_t ms;
	char *end;
	unsigned long long sec;

	if (s == NULL || *s == '\0')
		return -1;
	if (strcmp(s, "now") == 0) {
		*ns = now_ns;
		return 0;
	}
	if (s[0] == '@') {
		if (!isdigit((unsigned char)s[1]))
			return -1;
		sec = strtoull(s + 1, &end, 10);
		if (*end != '\0' || sec > UINT64_MAX / 1000000000ull)
			return -1;
		*ns = (uint64_t)sec * 1000000000ull;
		return 0;
	}
	if (strchr(s, '-') != NULL)
		return fmt_tm_parse(s, ns);
	/* A duration ago; conf_parse_duration caps at about 49 days. */
	if (conf_parse_duration(s, &ms) == -1)
		return -1;
	*ns = (uint64_t)ms * 1000000ull > now_ns ? 0 :
	    now_ns - (uint64_t)ms * 1000000ull;
	return 0;
}

const char *
fmt_word_color(const char *w)
{
	static const struct { const char *w, *sgr; } words[] = {
		{ "healthy", "32" }, { "closed", "32" }, { "ok", "32" },
		{ "improving", "32" }, { "up", "32" },
		{ "degraded", "33" }, { "half_open", "33" },
		{ "degrading", "33" }, { "rate_limited", "33" },
		{ "throttled", "33" }, { "errors", "33" }, { "slow", "33" },
		{ "warning", "33" }, { "starting", "33" }, { "backoff", "33" },
		{ "paused", "36" }, { "unknown", "2" }, { "resolved", "32" },
		{ "unhealthy", "31" }, { "misconfigured", "31" },
		{ "open", "31" }, { "critical", "31" }, { "down", "31" },
		{ "timeout", "31" }, { "dns", "31" }, { "connect", "31" },
		{ "tls", "31" }, { "http_5xx", "31" }, { "auth", "31" },
		{ "bad_response", "31" }, { "other", "31" },
		{ "exhausted", "31" }, { "quota", "31" }, { "outage", "31" },
		{ "overloaded", "31" }, { "model_missing", "31" },
		{ "client_error", "31" },
		{ "error", "31" } };
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(words[i].w, w) == 0)
			return words[i].sgr;
	return NULL;
}

/* ---- tables ---- */

struct table *
table_new(size_t ncols)
{
	struct table *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->t_ncols = ncols;
	if ((t->t_align = calloc(ncols, sizeof(*t->t_align))) == NULL ||
	    table_grow(t) == -1) {
		table_free(t);
		return NULL;
	}
	return t;
}

/* Room for one more row (row 0 is the heading, always there). */
static int
table_grow(struct table *t)
{
	char **cells;
	const char **colors;
	size_t cap = t->t_cap == 0 ? 8 : t->t_cap * 2;

	if (t->t_nrows + 2 <= t->t_cap)
		return 0;
	if ((cells = calloc(cap * t->t_ncols, sizeof(*cells))) == NULL ||
	    (colors = calloc(cap * t->t_ncols, sizeof(*colors))) == NULL) {
		free(cells);
		t->t_oom = 1;
		return -1;
	}
	if (t->t_cap > 0) {
		memcpy(cells, t->t_cells, t->t_cap * t->t_ncols *
		    sizeof(*cells));
		memcpy(colors, t->t_colors, t->t_cap * t->t_ncols *
		    sizeof(*colors));
	}
	free(t->t_cells);
	free(t->t_colors);
	t->t_cells = cells;
	t->t_colors = colors;
	t->t_cap = cap;
	return 0;
}

void
table_head(struct table *t, size_t col, const char *name, int align)
{
	if (t == NULL || col >= t->t_ncols)
		return;
	free(t->t_cells[col]);
	t->t_cells[col] = strdup(name);
	t->t_align[col] = align;
}

int
table_row(struct table *t)
{
	if (t == NULL || table_grow(t) == -1)
		return -1;
	t->t_nrows++;
	return 0;
}

void
table_set(struct table *t, size_t col, const char *fmt, ...)
{
	char buf[TBL_CELL_MAX];
	size_t i;
	va_list ap;

	if (t == NULL || col >= t->t_ncols || t->t_nrows == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* A cell is one line: control characters from the server become
	 * '?' rather than break the layout or drive the terminal. */
	for (i = 0; buf[i] != '\0'; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = '?';
	i = t->t_nrows * t->t_ncols + col;
	free(t->t_cells[i]);
	t->t_cells[i] = strdup(buf);
}

void
table_color(struct table *t, size_t col, const char *sgr)
{
	if (t == NULL || col >= t->t_ncols || t->t_nrows == 0)
		return;
	t->t_colors[t->t_nrows * t->t_ncols + col] = sgr;
}

/* Widths count bytes: the server's words and numbers are ASCII. */
void
table_print(struct table *t, FILE *fp, int color)
{
	size_t *w, r, c, n, last;
	const char *s, *sgr;

	if (t == NULL || (w = calloc(t->t_ncols, sizeof(*w))) == NULL)
		return;
	for (r = 0; r <= t->t_nrows; r++)
		for (c = 0; c < t->t_ncols; c++) {
			s = t->t_cells[r * t->t_ncols + c];
			if (s != NULL && strlen(s) > w[c])
				w[c] = strlen(s);
		}
	for (r = 0; r <= t->t_nrows; r++) {
		/* The last non-empty cell ends the line: no trailing blanks. */
		last = 0;
		for (c = 0; c < t->t_ncols; c++) {
			s = t->t_cells[r * t->t_ncols + c];
			if (s != NULL && *s != '\0')
				last = c;
		}
		for (c = 0; c <= last; c++) {
			s = t->t_cells[r * t->t_ncols + c];
			if (s == NULL)
				s = "";
			n = strlen(s);
			sgr = color ? t->t_colors[r * t->t_ncols + c] : NULL;
			if (c > 0)
				fputs("  ", fp);
			if (t->t_align[c] == TBL_RIGHT)
				fprintf(fp, "%*s", (int)(w[c] - n), "");
			if (sgr != NULL)
				fprintf(fp, "\033[%sm%s\033[0m", sgr, s);
			else
				fputs(s, fp);
			if (t->t_align[c] == TBL_LEFT && c < last)
				fprintf(fp, "%*s", (int)(w[c] - n), "");
		}
		fputc('\n', fp);
	}
	free(w);
}

void
table_free(struct table *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; t->t_cells != NULL && i < t->t_cap * t->t_ncols; i++)
		free(t->t_cells[i]);
	free(t->t_cells);
	free(t->t_colors);
	free(t->t_align);
	free(t);
}
