/*
 * util.c - vigil-api's pure functions: no I/O, no allocation, no globals.
 * Unit-tested in tests/unit/test_api.c and fuzzed by tests/fuzz/fuzz_query.c.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "settings.h"

static int	hexval(int);
static int64_t	days_from_civil(int64_t, unsigned, unsigned);
static void	civil_from_days(int64_t, int64_t *, unsigned *, unsigned *);
static int	digits(const char *, int, int *);

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Percent-decode in[0..len) into out (NUL-terminated, at most outlen - 1
 * bytes).  plus_space turns '+' into ' ' (query strings).  Returns the
 * decoded length, or -1 for a malformed escape ("%4", "%zz"), an encoded
 * NUL, a control character, or output that does not fit.  evhttp's own
 * decoder passes malformed escapes through silently: that is why this
 * exists.
 */
int
api_pct_decode(const char *in, size_t len, char *out, size_t outlen,
    int plus_space)
{
	size_t i, o = 0;
	int c, h, l;

	if (outlen == 0)
		return -1;
	for (i = 0; i < len; i++) {
		c = (unsigned char)in[i];
		if (c == '%') {
			if (i + 2 >= len)
				return -1;
			h = hexval((unsigned char)in[i + 1]);
			l = hexval((unsigned char)in[i + 2]);
			if (h < 0 || l < 0)
				return -1;
			c = h * 16 + l;
			i += 2;
		} else if (c == '+' && plus_space)
			c = ' ';
		if (c < 0x20 || c == 0x7f)
			return -1;
		if (o + 1 >= outlen)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return (int)o;
}

/*
 * Parse a query string ("a=1&b=x%20y", no leading '?') into q.  Empty
 * pairs ("a=1&&b") are skipped; a key without '=' has the value "".
 * Returns 0, or -1 with bad naming the offending parameter (its raw key,
 * truncated, or "query" when even the key cannot be decoded): malformed
 * escapes, keys or values too long, more than API_QUERY_MAX pairs.
 * O(length).
 */
int
api_query_parse(const char *qs, struct api_query *q, char *bad,
    size_t badlen)
{
	const char *p = qs, *amp, *eq, *end;
	size_t klen;

	q->n = 0;
	if (bad != NULL && badlen > 0)
		bad[0] = '\0';
	if (qs == NULL)
		return 0;
	while (*p != '\0') {
		amp = strchr(p, '&');
		end = amp != NULL ? amp : p + strlen(p);
		if (end == p) {
			p++;
			continue;
		}
		eq = memchr(p, '=', (size_t)(end - p));
		klen = (size_t)((eq != NULL ? eq : end) - p);
		if (q->n == API_QUERY_MAX) {
			if (bad != NULL)
				snprintf(bad, badlen, "query");
			return -1;
		}
		if (api_pct_decode(p, klen, q->kv[q->n].key, API_QKEY_MAX,
		    1) < 0) {
			if (bad != NULL)
				snprintf(bad, badlen, "query");
			return -1;
		}
		if (eq == NULL)
			q->kv[q->n].val[0] = '\0';
		else if (api_pct_decode(eq + 1, (size_t)(end - eq - 1),
		    q->kv[q->n].val, API_QVAL_MAX, 1) < 0) {
			if (bad != NULL)
				snprintf(bad, badlen, "%s", q->kv[q->n].key);
			return -1;
		}
		q->n++;
		p = *end == '&' ? end + 1 : end;
	}
	return 0;
}

/* The first value of key, or NULL. */
const char *
api_query_get(const struct api_query *q, const char *key)
{
	size_t i;

	for (i = 0; i < q->n; i++)
		if (strcmp(q->kv[i].key, key) == 0)
			return q->kv[i].val;
	return NULL;
}

/*
 * Check q against the NULL-terminated list of the parameters a route
 * knows.  Returns 0; API_QUERY_UNKNOWN with *bad the first parameter not
 * in allowed (a typo such as "stpe=5m" is an error, not silently the
 * default); or API_QUERY_REPEATED with *bad the first one given twice
 * ("provider=a&provider=b" would otherwise mean whichever the code reads
 * first).  Unknown wins when a parameter is both.  O(n^2) for n <= 16.
 */
int
api_query_check(const struct api_query *q, const char *const *allowed,
    const char **bad)
{
	size_t i, j;

	for (i = 0; i < q->n; i++) {
		for (j = 0; allowed[j] != NULL; j++)
			if (strcmp(q->kv[i].key, allowed[j]) == 0)
				break;
		if (allowed[j] == NULL) {
			*bad = q->kv[i].key;
			return API_QUERY_UNKNOWN;
		}
	}
	for (i = 1; i < q->n; i++)
		for (j = 0; j < i; j++)
			if (strcmp(q->kv[i].key, q->kv[j].key) == 0) {
				*bad = q->kv[i].key;
				return API_QUERY_REPEATED;
			}
	return 0;
}

/*
 * Make a string read from the segment safe to emit in any format: s has
 * room for size bytes, is cut at size - 1 (the segment's strings are
 * fixed arrays that a writer may not terminate), and every byte that is
 * not part of valid UTF-8 (a stray continuation, 0xc0/0xc1/0xf5..0xff,
 * an overlong form, a surrogate, above U+10FFFF, a sequence cut short)
 * or is a control character (C0, DEL, C1) becomes '?'.  In place and one
 * byte for one, so that no buffer grows and a name keeps its length.
 * The segment is writable by processes vigil-api does not trust as much
 * as itself (DESIGN.md), and every view (JSON, CSV, DOT, Prometheus, the
 * event stream) reads its strings through the api_clean_* functions
 * below.  Returns the number of bytes replaced.  O(size).
 */
size_t
api_text_clean(char *s, size_t size)
{
	unsigned char *p = (unsigned char *)s;
	size_t i = 0, k, n, len, bad = 0;
	uint32_t cp = 0, min = 0;

	if (size == 0)
		return 0;
	p[size - 1] = '\0';
	len = strlen(s);
	while (i < len) {
		if (p[i] < 0x80) {
			if (p[i] < 0x20 || p[i] == 0x7f) {
				p[i] = '?';
				bad++;
			}
			i++;
			continue;
		}
		if (p[i] >= 0xc2 && p[i] <= 0xdf) {
			n = 1;
			cp = p[i] & 0x1f;
			min = 0x80;
		} else if (p[i] >= 0xe0 && p[i] <= 0xef) {
			n = 2;
			cp = p[i] & 0x0f;
			min = 0x800;
		} else if (p[i] >= 0xf0 && p[i] <= 0xf4) {
			n = 3;
			cp = p[i] & 0x07;
			min = 0x10000;
		} else
			n = 0;		/* never a lead byte */
		for (k = 1; n > 0 && k <= n; k++) {
			if (i + k >= len || (p[i + k] & 0xc0) != 0x80)
				break;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if (n == 0 || k <= n || cp < min || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp <= 0x9f) {
			/* Only the lead: its continuation bytes, stray now,
			 * are replaced in turn. */
			p[i++] = '?';
			bad++;
			continue;
		}
		i += n + 1;
	}
	return bad;
}

/* The strings of a provider snapshot: name, host, error codes. */
void
api_clean_provider(struct vigil_provider *p)
{
	api_text_clean(p->info.name, sizeof(p->info.name));
	api_text_clean(p->info.host, sizeof(p->info.host));
	api_text_clean(p->stats.last.error, sizeof(p->stats.last.error));
	api_text_clean(p->stats.last_error, sizeof(p->stats.last_error));
}

/* The string of an alert: its provider's name. */
void
api_clean_alert(struct vigil_alert *a)
{
	api_text_clean(a->provider, sizeof(a->provider));
}

/*
 * The vantage this vigil exports (vigil.conf's vantage, docs/scaling.md):
 * as configured; "" means the host name, cut at its first dot, when it
 * is a name a label can carry plainly; else "default".
 */
void
api_vantage_resolve(const char *conf, char *out, size_t len)
{
	char host[256], why[8];
	char *dot;

	if (conf[0] != '\0') {
		snprintf(out, len, "%s", conf);
		return;
	}
	if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		if ((dot = strchr(host, '.')) != NULL)
			*dot = '\0';
		if (host[0] != '\0' && strlen(host) < len &&
		    settings_check_name(host, why, sizeof(why)) == 0) {
			snprintf(out, len, "%s", host);
			return;
		}
	}
	snprintf(out, len, "default");
}

/* The strings of a status-page block: they come from a public page. */
void
api_clean_status_page(struct vigil_status_page *sp)
{
	api_text_clean(sp->provider, sizeof(sp->provider));
	api_text_clean(sp->error, sizeof(sp->error));
	api_text_clean(sp->incident_name, sizeof(sp->incident_name));
	api_text_clean(sp->incident_status, sizeof(sp->incident_status));
}

/* The string of a sample: its error code. */
void
api_clean_sample(struct vigil_sample *sm)
{
	api_text_clean(sm->error, sizeof(sm->error));
}

/* The strings of a model: its name and its newest error code. */
void
api_clean_model(struct api_model *m)
{
	api_text_clean(m->name, sizeof(m->name));
	api_text_clean(m->s.last_error, sizeof(m->s.last_error));
}

/* Howard Hinnant's days_from_civil: proleptic Gregorian, no time zone. */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	*y = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y += *m <= 2;
}

/* Exactly n decimal digits at s into *v; 0 or -1. */
static int
digits(const char *s, int n, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

/*
 * Parse a time: RFC 3339 ("2026-11-28T15:04:05Z", "...05.25+01:00",
 * 't'/'z'/' ' accepted as RFC 3339 allows) or Unix seconds ("1764342245",
 * "1764342245.5", at most 10 digits).  Years 1970..2500: nanoseconds
 * since the epoch must fit in 64 bits.  *ns receives nanoseconds since the
 * epoch.  Returns 0, or -1 for anything else (trailing garbage included).
 */
int
api_time_parse(const char *s, uint64_t *ns)
{
	int Y, M, D, h, mi, sec, oh, om, i;
	int64_t days, t, frac = 0, scale = 100000000;
	const char *p;
	char *end;

	if (s == NULL || *s == '\0')
		return -1;
	if (strlen(s) > 64)
		return -1;
	/* Unix seconds: digits, optionally a fraction. */
	for (p = s; *p >= '0' && *p <= '9'; p++)
		;
	if (p != s && (*p == '\0' || *p == '.') && p - s <= 10) {
		unsigned long long v = strtoull(s, &end, 10);
		if (*end == '.') {
			end++;
			if (*end < '0' || *end > '9')
				return -1;
			for (; *end >= '0' && *end <= '9'; end++) {
				if (scale > 0)
					frac += (*end - '0') * scale;
				scale /= 10;
			}
		}
		if (*end != '\0')
			return -1;
		*ns = (uint64_t)v * 1000000000ull + (uint64_t)frac;
		return 0;
	}
	if (strlen(s) < 20)
		return -1;
	if (digits(s, 4, &Y) || s[4] != '-' || digits(s + 5, 2, &M) ||
	    s[7] != '-' || digits(s + 8, 2, &D) ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) ||
	    s[16] != ':' || digits(s + 17, 2, &sec))
		return -1;
	if (Y < 1970 || Y > 2500 || M < 1 || M > 12 || D < 1 || D > 31 ||
	    h > 23 || mi > 59 || sec > 60)
		return -1;
	/* Day within the month (leap years included). */
	{
		static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31,
		    31, 30, 31, 30, 31 };
		int leap = (Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0;
		if (D > mdays[M - 1] || (M == 2 && D == 29 && !leap))
			return -1;
	}
	if (sec == 60)			/* leap second: clamp */
		sec = 59;
	p = s + 19;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		for (i = 0; *p >= '0' && *p <= '9'; p++, i++) {
			if (i > 17)
				return -1;
			if (scale > 0)
				frac += (*p - '0') * scale;
			scale /= 10;
		}
	}
	days = days_from_civil(Y, (unsigned)M, (unsigned)D);
	t = days * 86400 + h * 3600 + mi * 60 + sec;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		if (digits(p + 1, 2, &oh) || p[3] != ':' ||
		    digits(p + 4, 2, &om) || oh > 23 || om > 59)
			return -1;
		t += (*p == '+' ? -1 : 1) * (oh * 3600 + om * 60);
		p += 6;
	} else
		return -1;
	if (*p != '\0' || t < 0)
		return -1;
	*ns = (uint64_t)t * 1000000000ull + (uint64_t)frac;
	return 0;
}

/*
 * Format wall_ns as RFC 3339 UTC with second precision
 * ("2026-11-28T15:04:05Z").  Returns the length (20), or 0 if buf is too
 * small (it needs 21 bytes).
 */
size_t
api_time_format(uint64_t wall_ns, char *buf, size_t len)
{
	int64_t t = (int64_t)(wall_ns / 1000000000ull), y, days, rem;
	unsigned m, d, f[5];
	size_t i;

	if (len < 21)
		return 0;
	days = t / 86400;
	rem = t % 86400;
	civil_from_days(days, &y, &m, &d);
	if (y > 9999)
		return 0;
	/* By hand, not snprintf: a 1,000-provider view formats thousands. */
	buf[0] = (char)('0' + y / 1000);
	buf[1] = (char)('0' + y / 100 % 10);
	buf[2] = (char)('0' + y / 10 % 10);
	buf[3] = (char)('0' + y % 10);
	f[0] = m;
	f[1] = d;
	f[2] = (unsigned)(rem / 3600);
	f[3] = (unsigned)(rem % 3600 / 60);
	f[4] = (unsigned)(rem % 60);
	for (i = 0; i < 5; i++) {
		buf[4 + 3 * i] = "--T::"[i];
		buf[5 + 3 * i] = (char)('0' + f[i] / 10);
		buf[6 + 3 * i] = (char)('0' + f[i] % 10);
	}
	buf[19] = 'Z';
	buf[20] = '\0';
	return 20;
}

/* "raw" -> 0, "1m" 60, "5m" 300, "15m" 900, "1h" 3600 (seconds); else -1. */
int
api_step_parse(const char *s, uint32_t *step)
{
	static const struct {
		const char *name;
		uint32_t sec;
	} steps[] = { { "raw", 0 }, { "1m", 60 }, { "5m", 300 },
	    { "15m", 900 }, { "1h", 3600 } };
	size_t i;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		if (strcmp(s, steps[i].name) == 0) {
			*step = steps[i].sec;
			return 0;
		}
	}
	return -1;
}

/*
 * Escape a Prometheus label value (text format 0.0.4): backslash, double
 * quote and newline become \\, \" and \n.  Writes at most outlen - 1
 * bytes and a NUL; returns the escaped length, truncated at a character
 * boundary (never half an escape) when out is too small.
 */
size_t
api_prom_escape(const char *in, char *out, size_t outlen)
{
	size_t o = 0;
	const char *rep;
	char one[2];

	if (outlen == 0)
		return 0;
	for (; *in != '\0'; in++) {
		switch (*in) {
		case '\\':
			rep = "\\\\";
			break;
		case '"':
			rep = "\\\"";
			break;
		case '\n':
			rep = "\\n";
			break;
		default:
			one[0] = *in;
			one[1] = '\0';
			rep = one;
			break;
		}
		if (o + strlen(rep) >= outlen)
			break;
		memcpy(out + o, rep, strlen(rep));
		o += strlen(rep);
	}
	out[o] = '\0';
	return o;
}

/*
 * Escape a Graphviz quoted string ("..." as an ID or label): the
 * language escapes only the double quote, and a backslash must be
 * doubled so that it does not start an escString sequence (\n, \l, \N).
 * Those are Prometheus' escapes exactly (a newline becoming \n, a line
 * break in a label), so this is api_prom_escape under the name of its
 * second use; same contract.
 */
size_t
api_dot_escape(const char *in, char *out, size_t outlen)
{
	return api_prom_escape(in, out, outlen);
}

/*
 * One CSV field (RFC 4180): as is, or, when it holds a comma, a double
 * quote, CR or LF, in double quotes with its quotes doubled.  Writes at
 * most outlen - 1 bytes and a NUL (a quoted field that does not fit is
 * cut before a quote pair and still closed); returns the length, 0 when
 * outlen < 3.
 */
size_t
api_csv_field(const char *in, char *out, size_t outlen)
{
	size_t o = 0, need;

	if (outlen < 3)
		return 0;
	if (strpbrk(in, ",\"\r\n") == NULL) {
		snprintf(out, outlen, "%s", in);
		return strlen(out);
	}
	out[o++] = '"';
	for (; *in != '\0'; in++) {
		need = *in == '"' ? 2 : 1;
		if (o + need + 1 >= outlen)	/* room for the closing quote */
			break;
		out[o++] = *in;
		if (*in == '"')
			out[o++] = '"';
	}
	out[o++] = '"';
	out[o] = '\0';
	return o;
}

/* A provider name as the config allows: [A-Za-z0-9_.-], 1..31 bytes. */
int
api_name_valid(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++, n++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' ||
		    *s == '.'))
			return 0;
	}
	return n > 0 && n < VIGIL_NAME_MAX;
}

/* "Up" for vigil_provider_up: usable now (healthy or degraded, circuit
 * not open). */
int
api_provider_up(const struct vigil_provider *p)
{
	unsigned st = vigil_effective_status(p);

	return (st == VIGIL_ST_HEALTHY || st == VIGIL_ST_DEGRADED) &&
	    p->stats.circuit != VIGIL_CB_OPEN;
}

/* Round to 3 decimals so JSON shows 182.4, not 182.40000000000001;
 * NaN and infinities become 0. */
double
api_round3(double v)
{
	if (!isfinite(v))
		return 0;
	return round(v * 1000.0) / 1000.0;
}

/*
 * Decimal digits of v into buf (at least 21 bytes), NUL-terminated.
 * Returns the length.  printf's integer path parses a format string and
 * takes the locale for every number; a scrape of 1,000 providers formats
 * about 100,000 of them.
 */
size_t
api_fmt_u64(uint64_t v, char *buf)
{
	char tmp[20];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n] = '\0';
	return n;
}

/* The same for a signed value (at least 21 bytes). */
size_t
api_fmt_i64(int64_t v, char *buf)
{
	if (v >= 0)
		return api_fmt_u64((uint64_t)v, buf);
	buf[0] = '-';
	/* -(v + 1) + 1 avoids overflow at INT64_MIN. */
	return 1 + api_fmt_u64((uint64_t)(-(v + 1)) + 1, buf + 1);
}

/*
 * v rounded half away from zero to prec decimals (prec <= 9), trailing
 * zeros and a bare point dropped: 182.4, 3, 0.001, -2.5; "-0" is written
 * "0".  NaN is "NaN" and infinities "+Inf"/"-Inf" (Prometheus' spelling:
 * JSON callers must pass finite values).  A value too large to scale
 * exactly in 64 bits (|v| * 10^prec >= 9e18) falls back to "%.17g".
 * buf needs API_FMT_MAX bytes; returns the length, or 0 when len is too
 * small or prec too large.  No locale: the point is always '.'.
 */
size_t
api_fmt_fixed(double v, unsigned prec, char *buf, size_t len)
{
	static const uint64_t pow10[10] = { 1, 10, 100, 1000, 10000, 100000,
	    1000000, 10000000, 100000000, 1000000000 };
	uint64_t r, ip, fp;
	double a;
	size_t n = 0, i;
	unsigned fd;
	int neg;

	if (len < API_FMT_MAX || prec > 9)
		return 0;
	if (isnan(v)) {
		memcpy(buf, "NaN", 4);
		return 3;
	}
	if (isinf(v)) {
		memcpy(buf, v > 0 ? "+Inf" : "-Inf", 5);
		return 4;
	}
	neg = v < 0;
	a = (neg ? -v : v) * (double)pow10[prec];
	if (a >= 9e18) {
		int w = snprintf(buf, len, "%.17g", v);

		return w < 0 || (size_t)w >= len ? 0 : (size_t)w;
	}
	r = (uint64_t)(a + 0.5);
	if (r == 0)
		neg = 0;
	ip = r / pow10[prec];
	fp = r % pow10[prec];
	if (neg)
		buf[n++] = '-';
	n += api_fmt_u64(ip, buf + n);
	if (fp != 0) {
		fd = prec;
		while (fp % 10 == 0) {
			fp /= 10;
			fd--;
		}
		buf[n++] = '.';
		for (i = fd; i > 0; i--) {
			buf[n + i - 1] = (char)('0' + fp % 10);
			fp /= 10;
		}
		n += fd;
	}
	buf[n] = '\0';
	return n;
}
