/*
 * page.h - an Atlassian Statuspage /api/v2/summary.json, read into a
 * status-page block (struct vigil_status_page, include/vigil/vigil.h).
 *
 * Statuspage is what OpenAI, Anthropic and most providers publish
 * (docs/http-api.md, "Status pages").  What is read: status.indicator
 * (none, minor, major, critical, maintenance), page.updated_at, and the
 * incidents[] that are still open (status other than resolved,
 * postmortem or completed): how many, and the newest one's name,
 * status, impact and created_at.  components are not read.
 *
 * Library code: never logs, never exits.
 */
#ifndef VIGIL_SP_PAGE_H
#define VIGIL_SP_PAGE_H

#include <stddef.h>
#include <stdint.h>

#include <vigil/vigil.h>

#define SP_BODY_MAX	(1024 * 1024)	/* a bigger page is refused */

/*
 * Parse body (len bytes, need not be NUL-terminated) into out's page
 * fields: indicator, page_updated_wall_ns, incidents_open and the
 * newest open incident (incident_*; cleared when none is open).  The
 * other fields are left alone.  Returns 0, or -1 with err a short code
 * ("json", "no_indicator", "bad_indicator") and out unchanged.
 */
int	sp_parse(const char *body, size_t len, struct vigil_status_page *out,
	    char *err, size_t errlen);

/* An ISO 8601 / RFC 3339 time ("2026-12-03T17:01:02.345Z", "...+01:00")
 * in ns since the epoch; 0 when it is not one. */
uint64_t sp_time(const char *s);

/* enum vigil_sp_indicator of a word, or -1. */
int	sp_indicator(const char *s);

#endif /* VIGIL_SP_PAGE_H */
