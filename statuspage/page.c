/*
 * page.c - reading a Statuspage summary (page.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "page.h"

static const char *str_of(const cJSON *, const char *);
static int	incident_open(const char *);
static int	digits(const char **, int, int *);
static void	copy_text(char *, size_t, const char *);

static const char *
str_of(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/*
 * Statuspage's incident states: investigating, identified, monitoring,
 * then resolved or postmortem.  Anything else unknown counts as open:
 * a new word is more likely a new open state than a new closed one.
 */
static int
incident_open(const char *status)
{
	return status == NULL || (strcmp(status, "resolved") != 0 &&
	    strcmp(status, "postmortem") != 0 &&
	    strcmp(status, "completed") != 0);
}

/*
 * A page's text into a fixed field: control characters become blanks,
 * a byte that does not belong to a valid UTF-8 sequence becomes '?',
 * and a sequence cut by the truncation is dropped whole, so that every
 * view can print the field as it is.
 */
static void
copy_text(char *dst, size_t size, const char *src)
{
	const unsigned char *s = (const unsigned char *)(src != NULL ? src :
	    "");
	size_t i = 0, o = 0, len, k;
	unsigned char c;

	while (s[i] != '\0' && o < size - 1) {
		c = s[i];
		len = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 :
		    c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
		for (k = 1; k < len; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				break;
		if (len == 0 || k < len) {
			dst[o++] = '?';		/* not UTF-8 */
			i++;
			continue;
		}
		if (o + len > size - 1)
			break;			/* cut: drop it whole */
		if (len == 1)
			dst[o++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
		else
			for (k = 0; k < len; k++)
				dst[o++] = (char)s[i + k];
		i += len;
	}
	dst[o] = '\0';
}

int
sp_indicator(const char *s)
{
	static const char *const w[VIGIL_SPI_COUNT] = { "none", "minor",
	    "major", "critical", "maintenance" };
	int i;

	if (s == NULL)
		return -1;
	for (i = 0; i < VIGIL_SPI_COUNT; i++)
		if (strcmp(s, w[i]) == 0)
			return i;
	return -1;
}

/* n decimal digits at *p into *v; advances *p.  -1 if not digits. */
static int
digits(const char **p, int n, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		*v = *v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return 0;
}

uint64_t
sp_time(const char *s)
{
	struct tm tm;
	const char *p = s;
	int y, mo, d, h, mi, se, oh, om, sign;
	uint64_t frac = 0, scale = 1000000000;
	long long t;

	if (s == NULL || digits(&p, 4, &y) || *p++ != '-' ||
	    digits(&p, 2, &mo) || *p++ != '-' || digits(&p, 2, &d) ||
	    (*p != 'T' && *p != 't' && *p != ' '))
		return 0;
	p++;
	if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) ||
	    *p++ != ':' || digits(&p, 2, &se))
		return 0;
	if (*p == '.') {
		for (p++; isdigit((unsigned char)*p); p++)
			if (scale > 1) {
				scale /= 10;
				frac += (uint64_t)(*p - '0') * scale;
			}
	}
	if (*p == 'Z' || *p == 'z') {
		sign = 0;
		oh = om = 0;
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '-' ? -1 : 1;
		if (digits(&p, 2, &oh))
			return 0;
		if (*p == ':')
			p++;
		if (digits(&p, 2, &om))
			return 0;
	} else
		return 0;
	if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || se > 60 || y < 1970)
		return 0;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	t = (long long)timegm(&tm);
	/* An offset east of UTC is a time earlier in UTC. */
	t -= (long long)sign * (oh * 3600 + om * 60);
	if (t < 0)
		return 0;
	return (uint64_t)t * 1000000000u + frac;
}

int
sp_parse(const char *body, size_t len, struct vigil_status_page *out,
    char *err, size_t errlen)
{
	const cJSON *status, *page, *incs, *inc;
	const char *newest_name = NULL, *newest_status = NULL;
	uint64_t newest = 0, t;
	uint32_t open = 0;
	int ind, newest_impact = VIGIL_SPI_NONE, imp, have = 0;
	cJSON *root;

	if ((root = cJSON_ParseWithLength(body, len)) == NULL ||
	    !cJSON_IsObject(root)) {
		snprintf(err, errlen, "json");
		cJSON_Delete(root);
		return -1;
	}
	status = cJSON_GetObjectItemCaseSensitive(root, "status");
	if (!cJSON_IsObject(status) || str_of(status, "indicator") == NULL) {
		snprintf(err, errlen, "no_indicator");
		cJSON_Delete(root);
		return -1;
	}
	if ((ind = sp_indicator(str_of(status, "indicator"))) == -1) {
		snprintf(err, errlen, "bad_indicator");
		cJSON_Delete(root);
		return -1;
	}
	incs = cJSON_GetObjectItemCaseSensitive(root, "incidents");
	if (!cJSON_IsArray(incs))
		incs = NULL;
	cJSON_ArrayForEach(inc, incs) {
		if (!cJSON_IsObject(inc) ||
		    !incident_open(str_of(inc, "status")))
			continue;
		open++;
		t = sp_time(str_of(inc, "created_at"));
		if (have && t <= newest)
			continue;
		have = 1;
		newest = t;
		newest_name = str_of(inc, "name");
		newest_status = str_of(inc, "status");
		imp = sp_indicator(str_of(inc, "impact"));
		newest_impact = imp == -1 ? VIGIL_SPI_NONE : imp;
	}
	page = cJSON_GetObjectItemCaseSensitive(root, "page");
	out->page_updated_wall_ns = cJSON_IsObject(page) ?
	    sp_time(str_of(page, "updated_at")) : 0;
	out->indicator = (uint8_t)ind;
	out->incidents_open = open;
	out->incident_created_wall_ns = newest;
	out->incident_impact = (uint8_t)newest_impact;
	copy_text(out->incident_name, sizeof(out->incident_name),
	    newest_name);
	copy_text(out->incident_status, sizeof(out->incident_status),
	    newest_status);
	cJSON_Delete(root);
	return 0;
}
