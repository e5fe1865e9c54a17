/*
 * ratelimit.c - capture and parse the headers that tell how long to
 * wait and how much of a rate limit is left.
 *
 * Forms read (docs/aggregation.md, "Throttled"):
 *   Retry-After		delta-seconds, or an HTTP-date (curl_getdate)
 *   retry-after-ms		milliseconds, a fraction allowed
 *   anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-
 *				{limit,remaining,reset}, reset RFC 3339
 *   x-ratelimit-{limit,remaining,reset}-{requests,tokens}
 *				OpenAI's, reset a duration ("12ms", "6m0s")
 * A value that is not exactly one of these forms is ignored, never
 * guessed at: a resource without a valid limit and remaining is "not
 * reported" (limit 0), a wait that does not parse is no hint.  Counts
 * saturate at UINT32_MAX, times at UINT32_MAX ms (49 days).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include <vigil/vigil.h>

#include "ratelimit.h"

/* Header names, in enum rl_hdr's order. */
static const char *const rl_names[RLH_COUNT] = {
	"retry-after",
	"retry-after-ms",
	"anthropic-ratelimit-requests-limit",
	"anthropic-ratelimit-requests-remaining",
	"anthropic-ratelimit-requests-reset",
	"anthropic-ratelimit-tokens-limit",
	"anthropic-ratelimit-tokens-remaining",
	"anthropic-ratelimit-tokens-reset",
	"anthropic-ratelimit-input-tokens-limit",
	"anthropic-ratelimit-input-tokens-remaining",
	"anthropic-ratelimit-input-tokens-reset",
	"anthropic-ratelimit-output-tokens-limit",
	"anthropic-ratelimit-output-tokens-remaining",
	"anthropic-ratelimit-output-tokens-reset",
	"x-ratelimit-limit-requests",
	"x-ratelimit-remaining-requests",
	"x-ratelimit-reset-requests",
	"x-ratelimit-limit-tokens",
	"x-ratelimit-remaining-tokens",
	"x-ratelimit-reset-tokens",
};

#define NS_MS		1000000ull
#define MS_MAX		((uint64_t)UINT32_MAX)

static int	trim(const char *, char *, size_t);
static int	digits(const char *, size_t);
static uint32_t	sat32(uint64_t);
static void	rl_resource(const struct rl_capture *, int, int, uint64_t,
		    uint32_t, struct vigil_rl_sample *);
static int	rl_value(const struct rl_capture *, int, const char **);

void
rl_capture_reset(struct rl_capture *c)
{
	memset(c->state, RLC_NONE, sizeof(c->state));
}

/*
 * One header line as curl hands it over ("Name: value\r\n", not
 * terminated).  A status line starts a new response (an interim 1xx, a
 * proxy's CONNECT answer): what the one before said is forgotten.  Only
 * the names of rl_names are kept; a value over RL_VAL_MAX bytes or with
 * a control character in it is marked bad, so that a cut value is never
 * parsed as a shorter, different one.  The last of repeated names wins.
 */
void
rl_capture_line(struct rl_capture *c, const char *p, size_t n)
{
	const char *colon, *v;
	size_t nlen, vlen, i;
	int h;

	if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		rl_capture_reset(c);
		return;
	}
	if ((colon = memchr(p, ':', n)) == NULL)
		return;
	nlen = (size_t)(colon - p);
	for (h = 0; h < RLH_COUNT; h++)
		if (strlen(rl_names[h]) == nlen &&
		    strncasecmp(p, rl_names[h], nlen) == 0)
			break;
	if (h == RLH_COUNT)
		return;
	v = colon + 1;
	vlen = n - nlen - 1;
	while (vlen > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		vlen--;
	}
	while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' ||
	    v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;
	c->state[h] = RLC_BAD;
	if (vlen >= RL_VAL_MAX)
		return;
	/* Control characters (a NUL among them) make it bad; bytes over
	 * 0x7f stay (Go writes microseconds as "\xc2\xb5s"). */
	for (i = 0; i < vlen; i++)
		if (((unsigned char)v[i] < 0x20 && v[i] != '\t') ||
		    v[i] == 0x7f)
			return;
	memcpy(c->v[h], v, vlen);
	c->v[h][vlen] = '\0';
	c->state[h] = RLC_SET;
}

/* Copy v without surrounding blanks into buf; -1 when empty or too long. */
static int
trim(const char *v, char *buf, size_t size)
{
	size_t n;

	while (*v == ' ' || *v == '\t')
		v++;
	n = strlen(v);
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t' ||
	    v[n - 1] == '\r' || v[n - 1] == '\n'))
		n--;
	if (n == 0 || n >= size)
		return -1;
	memcpy(buf, v, n);
	buf[n] = '\0';
	return 0;
}

/* Are the n characters at p all decimal digits? */
static int
digits(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return 0;
	return 1;
}

static uint32_t
sat32(uint64_t v)
{
	return v > MS_MAX ? UINT32_MAX : (uint32_t)v;
}

/* A count ("4999"): digits only, saturating.  Returns 0, or -1. */
int
rl_parse_count(const char *v, uint32_t *out)
{
	char buf[RL_VAL_MAX];
	uint64_t n = 0;
	const char *p;

	if (trim(v, buf, sizeof(buf)) == -1 || !digits(buf, strlen(buf)))
		return -1;
	for (p = buf; *p != '\0'; p++)
		if ((n = n * 10 + (uint64_t)(*p - '0')) > MS_MAX)
			n = MS_MAX + 1;
	*out = sat32(n);
	return 0;
}

/*
 * A duration as OpenAI writes its resets (Go's time.Duration): one or
 * more of a decimal number with a unit, h m s ms us (or µs, μs) ns:
 * "12ms", "1s", "1m30s", "6m0s", "2h3m4.5s"; "0" alone too.  No sign.
 * Into *ms, rounded up (a reset of 0.4 ms has not happened yet at 0 ms),
 * saturating.  Returns 0, or -1.
 */
int
rl_parse_duration(const char *v, uint64_t *ms)
{
	static const struct {
		const char	*u;
		uint64_t	 ns;
	} units[] = {	/* the longer of two with one first letter first */
		{ "ms", NS_MS }, { "h", 3600000 * NS_MS },
		{ "m", 60000 * NS_MS }, { "s", 1000 * NS_MS }, { "us", 1000 }, { "\xc2\xb5s", 1000 },
		{ "\xce\xbcs", 1000 }, { "ns", 1 },
	};
	char buf[RL_VAL_MAX];
	const char *p;
	uint64_t total = 0, ip, fp, fscale, unit, part;
	size_t i, nd;
	const uint64_t sat = MS_MAX * NS_MS + NS_MS;

	if (trim(v, buf, sizeof(buf)) == -1)
		return -1;
	if (strcmp(buf, "0") == 0) {
		*ms = 0;
		return 0;
	}
	for (p = buf; *p != '\0';) {
		ip = fp = 0;
		fscale = 1;
		for (nd = 0; *p >= '0' && *p <= '9'; p++, nd++)
			if ((ip = ip * 10 + (uint64_t)(*p - '0')) > sat)
				ip = sat;
		if (*p == '.') {
			p++;
			for (; *p >= '0' && *p <= '9'; p++, nd++)
				if (fscale < 1000000000ull) {
					fp = fp * 10 + (uint64_t)(*p - '0');
					fscale *= 10;
				}
		}
		if (nd == 0)
			return -1;
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (strncmp(p, units[i].u, strlen(units[i].u)) == 0)
				break;
		if (i == sizeof(units) / sizeof(units[0]))
			return -1;
		p += strlen(units[i].u);
		unit = units[i].ns;
		part = ip > sat / unit ? sat : ip * unit;
		/* fp < fscale <= 1e9 and unit <= 3.6e12: no overflow
		 * below 2^64 once divided first where it is large. */
		part += unit >= fscale ? fp * (unit / fscale) :
		    (fp * unit + fscale - 1) / fscale;
		total = total > sat - (part > sat ? sat : part) ? sat :
		    total + part;
	}
	total = (total + NS_MS - 1) / NS_MS;
	*ms = total > MS_MAX ? MS_MAX : total;
	return 0;
}

/*
 * An RFC 3339 date-time as Anthropic writes its resets:
 * "2024-05-01T12:00:31Z", with an optional fraction of a second and
 * "Z" or an offset "+02:00".  The shape is checked character by
 * character, the fields read by strptime, the calendar done by timegm
 * and checked by gmtime_r (February 30 is garbage, not March 2).  A
 * leap second (":60") counts as the next second.  Into *ms: ms since
 * the epoch, the fraction rounded up.  Returns 0, or -1.
 */
int
rl_parse_rfc3339(const char *v, int64_t *ms)
{
	char buf[RL_VAL_MAX];
	struct tm tm, back;
	const char *p;
	time_t t;
	int64_t frac = 0, scale = 1000, off = 0;
	int leap = 0, more = 0;

	if (trim(v, buf, sizeof(buf)) == -1 || strlen(buf) < 20 ||
	    !digits(buf, 4) || buf[4] != '-' || !digits(buf + 5, 2) ||
	    buf[7] != '-' || !digits(buf + 8, 2) ||
	    (buf[10] != 'T' && buf[10] != 't') || !digits(buf + 11, 2) ||
	    buf[13] != ':' || !digits(buf + 14, 2) || buf[16] != ':' ||
	    !digits(buf + 17, 2))
		return -1;
	buf[10] = 'T';
	if (buf[17] == '6' && buf[18] == '0') {
		buf[18] = '9';
		buf[17] = '5';
		leap = 1;
	}
	memset(&tm, 0, sizeof(tm));
	if ((p = strptime(buf, "%Y-%m-%dT%H:%M:%S", &tm)) != buf + 19)
		return -1;
	back = tm;
	/* timegm's -1 is also 1969-12-31T23:59:59: the round trip is the
	 * check. */
	t = timegm(&tm);
	if (gmtime_r(&t, &tm) == NULL || tm.tm_year != back.tm_year ||
	    tm.tm_mon != back.tm_mon || tm.tm_mday != back.tm_mday ||
	    tm.tm_hour != back.tm_hour || tm.tm_min != back.tm_min ||
	    tm.tm_sec != back.tm_sec)
		return -1;
	if (*p == '.') {
		if (!(p[1] >= '0' && p[1] <= '9'))
			return -1;
		for (p++; *p >= '0' && *p <= '9'; p++) {
			if (scale > 1) {
				scale /= 10;
				frac += (*p - '0') * scale;
			} else if (*p != '0')
				more = 1;
		}
		frac += more;
	}
	if (*p == 'Z' || *p == 'z')
		p++;
	else if ((*p == '+' || *p == '-') && digits(p + 1, 2) &&
	    p[3] == ':' && digits(p + 4, 2)) {
		off = ((p[1] - '0') * 10 + (p[2] - '0')) * 60 +
		    (p[4] - '0') * 10 + (p[5] - '0');
		if ((p[1] - '0') * 10 + (p[2] - '0') > 23 ||
		    (p[4] - '0') * 10 + (p[5] - '0') > 59)
			return -1;
		off *= *p == '+' ? 60 : -60;
		p += 6;
	} else
		return -1;
	if (*p != '\0')
		return -1;
	*ms = ((int64_t)t + leap - off) * 1000 + frac;
	return 0;
}

/*
 * Retry-After (RFC 9110): delta-seconds, or an HTTP-date (IMF-fixdate
 * and the two obsolete forms, all of which start with a day name: the
 * first character tells which; curl_getdate reads the date).  Returns
 * 0 with *w filled, or -1 ("5s", "-5", "1.5", "soon").
 */
int
rl_parse_retry_after(const char *v, struct rl_when *w)
{
	char buf[RL_VAL_MAX];
	uint32_t s;
	time_t t;

	if (trim(v, buf, sizeof(buf)) == -1)
		return -1;
	if (isdigit((unsigned char)buf[0])) {
		if (rl_parse_count(buf, &s) == -1)
			return -1;
		w->abs = 0;
		w->ms = (int64_t)s * 1000;
		return 0;
	}
	if (!isalpha((unsigned char)buf[0]) ||
	    (t = curl_getdate(buf, NULL)) == (time_t)-1)
		return -1;
	/* curl reads a year of nine digits: far enough to saturate. */
	w->abs = 1;
	w->ms = t > INT64_MAX / 1000 ? INT64_MAX : t < INT64_MIN / 1000 ?
	    INT64_MIN : (int64_t)t * 1000;
	return 0;
}

/* retry-after-ms: milliseconds, a fraction rounded up.  0, or -1. */
int
rl_parse_retry_after_ms(const char *v, struct rl_when *w)
{
	char buf[RL_VAL_MAX];
	const char *p = buf;
	uint64_t n = 0;
	int frac = 0, nd = 0;

	if (trim(v, buf, sizeof(buf)) == -1)
		return -1;
	for (; *p >= '0' && *p <= '9'; p++, nd++)
		if ((n = n * 10 + (uint64_t)(*p - '0')) > MS_MAX)
			n = MS_MAX;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++, nd++)
			frac |= *p != '0';
	if (nd == 0 || *p != '\0')
		return -1;
	w->abs = 0;
	w->ms = (int64_t)n + frac;
	return 0;
}

/*
 * The moment w names, as ms after wall_ns (the sample's start), given
 * that the headers arrived hdr_ms after it.  A moment before the start
 * is 0; saturates at UINT32_MAX.
 */
uint32_t
rl_when_ms(const struct rl_when *w, uint64_t wall_ns, uint32_t hdr_ms)
{
	int64_t d, base = (int64_t)(wall_ns / NS_MS);

	if (w->abs)
		d = w->ms <= base ? 0 : w->ms - base;
	else
		d = w->ms > INT64_MAX - hdr_ms ? INT64_MAX : w->ms + hdr_ms;
	return d <= 0 ? 0 : sat32((uint64_t)d);
}

/* Header h's value, if it was seen and is not bad. */
static int
rl_value(const struct rl_capture *c, int h, const char **v)
{
	if (c->state[h] != RLC_SET)
		return 0;
	*v = c->v[h];
	return 1;
}

/*
 * Resource r from the three headers at base (limit, remaining, reset).
 * Reported only when limit (non-zero) and remaining both parse; the
 * reset is optional, and a reset due already is 1 ms (0 says "not
 * reported").  oai: the reset is a duration, else RFC 3339.
 */
static void
rl_resource(const struct rl_capture *c, int base, int oai, uint64_t wall_ns,
    uint32_t hdr_ms, struct vigil_rl_sample *out)
{
	struct vigil_rl_sample s;
	struct rl_when w;
	const char *v;
	uint64_t d;

	memset(&s, 0, sizeof(s));
	if (!rl_value(c, base + RL_FIELD_LIMIT, &v) ||
	    rl_parse_count(v, &s.limit) == -1 || s.limit == 0 ||
	    !rl_value(c, base + RL_FIELD_REMAINING, &v) ||
	    rl_parse_count(v, &s.remaining) == -1)
		return;
	if (rl_value(c, base + RL_FIELD_RESET, &v)) {
		if (oai && rl_parse_duration(v, &d) == 0) {
			w.abs = 0;
			w.ms = (int64_t)d;
			s.reset_ms = rl_when_ms(&w, wall_ns, hdr_ms);
			s.reset_ms += s.reset_ms == 0;
		} else if (!oai && rl_parse_rfc3339(v, &w.ms) == 0) {
			w.abs = 1;
			s.reset_ms = rl_when_ms(&w, wall_ns, hdr_ms);
			s.reset_ms += s.reset_ms == 0;
		}
	}
	*out = s;
}

/*
 * Everything the captured headers say, relative to the sample's start
 * wall_ns; the headers arrived hdr_ms after it (relative forms count
 * from there).  Anthropic's headers win over OpenAI's for the same
 * resource, should an answer carry both.
 */
void
rl_parse(const struct rl_capture *c, uint64_t wall_ns, uint32_t hdr_ms,
    struct rl_result *res)
{
	struct rl_when w;
	const char *v;
	uint32_t ms;
	int r;

	memset(res, 0, sizeof(*res));
	for (r = 0; r < 2; r++)
		rl_resource(c, RLH_OAI + 3 * r, 1, wall_ns, hdr_ms,
		    &res->rl[r]);
	for (r = 0; r < VIGIL_RL_COUNT; r++)
		rl_resource(c, RLH_ANT + 3 * r, 0, wall_ns, hdr_ms,
		    &res->rl[r]);
	if (rl_value(c, RLH_RETRY_AFTER, &v) &&
	    rl_parse_retry_after(v, &w) == 0) {
		res->retry_ms = rl_when_ms(&w, wall_ns, hdr_ms);
		res->retry_set = 1;
	}
	if (rl_value(c, RLH_RETRY_AFTER_MS, &v) &&
	    rl_parse_retry_after_ms(v, &w) == 0) {
		ms = rl_when_ms(&w, wall_ns, hdr_ms);
		if (!res->retry_set || ms < res->retry_ms)
			res->retry_ms = ms;
		res->retry_set = 1;
	}
}

/*
 * The provider's word on when to ask again, for a rate-limited answer:
 * the earliest of its Retry-After forms and of the reset of what ran
 * out.  When several resources ran out (remaining 0), all must be back,
 * so theirs is the latest of their resets.  Returns 1 with *ms (after
 * the sample's start), or 0: no hint.
 */
int
rl_hint(const struct rl_result *res, uint32_t *ms)
{
	uint32_t ex = 0;
	int r, have = 0;

	for (r = 0; r < VIGIL_RL_COUNT; r++)
		if (res->rl[r].limit > 0 && res->rl[r].remaining == 0 &&
		    res->rl[r].reset_ms > 0 && res->rl[r].reset_ms > ex) {
			ex = res->rl[r].reset_ms;
			have = 1;
		}
	if (res->retry_set && (!have || res->retry_ms < ex)) {
		*ms = res->retry_ms;
		return 1;
	}
	if (have)
		*ms = ex;
	return have;
}
