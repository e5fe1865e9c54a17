/*
 * test_statuspage.c - statuspage/page.c: a Statuspage summary.json read
 * into a status-page block.
 */
#include <stdio.h>
#include <string.h>

#include "t.h"
#include "../../statuspage/page.h"

static int
parse(const char *s, struct vigil_status_page *b, char *err, size_t len)
{
	return sp_parse(s, strlen(s), b, err, len);
}

/* The shape OpenAI's and Anthropic's pages serve: an open incident. */
static void
test_incident(void)
{
	const char *s = "{\"page\":{\"id\":\"x\",\"name\":\"P\","
	    "\"updated_at\":\"2026-12-03T17:00:05.123Z\"},"
	    "\"components\":[{\"name\":\"API\",\"status\":\"major_outage\"}],"
	    "\"incidents\":["
	    "{\"name\":\"Old\",\"status\":\"resolved\",\"impact\":\"critical\","
	    "\"created_at\":\"2026-12-03T18:00:00Z\"},"
	    "{\"name\":\"Elevated errors\",\"status\":\"investigating\","
	    "\"impact\":\"major\",\"created_at\":\"2026-12-03T09:00:30-08:00\"},"
	    "{\"name\":\"Earlier\",\"status\":\"monitoring\",\"impact\":\"minor\","
	    "\"created_at\":\"2026-12-03T16:00:00Z\"}],"
	    "\"scheduled_maintenances\":[],"
	    "\"status\":{\"indicator\":\"major\",\"description\":\"Partial\"}}";
	struct vigil_status_page b;
	char err[32];

	memset(&b, 0, sizeof(b));
	T_CHECK(parse(s, &b, err, sizeof(err)) == 0);
	T_CHECK(b.indicator == VIGIL_SPI_MAJOR);
	T_CHECK(b.incidents_open == 2);
	T_CHECK(strcmp(b.incident_name, "Elevated errors") == 0);
	T_CHECK(strcmp(b.incident_status, "investigating") == 0);
	T_CHECK(b.incident_impact == VIGIL_SPI_MAJOR);
	/* 09:00:30 at -08:00 is 17:00:30 UTC. */
	T_CHECK(b.incident_created_wall_ns == sp_time("2026-12-03T17:00:30Z"));
	T_CHECK(b.page_updated_wall_ns % 1000000000u == 123000000u);
}

static void
test_quiet_and_errors(void)
{
	struct vigil_status_page b;
	char err[32];

	memset(&b, 0, sizeof(b));
	snprintf(b.incident_name, sizeof(b.incident_name), "stale");
	T_CHECK(parse("{\"status\":{\"indicator\":\"none\"},\"incidents\":[]}",
	    &b, err, sizeof(err)) == 0);
	T_CHECK(b.indicator == VIGIL_SPI_NONE && b.incidents_open == 0 &&
	    b.incident_name[0] == '\0' && b.incident_created_wall_ns == 0);
	T_CHECK(parse("{\"status\":{\"indicator\":\"maintenance\"}}", &b, err,
	    sizeof(err)) == 0 && b.indicator == VIGIL_SPI_MAINTENANCE);
	b.indicator = VIGIL_SPI_MINOR;
	T_CHECK(parse("<html>", &b, err, sizeof(err)) == -1 &&
	    strcmp(err, "json") == 0);
	T_CHECK(parse("{\"status\":{}}", &b, err, sizeof(err)) == -1 &&
	    strcmp(err, "no_indicator") == 0);
	T_CHECK(parse("{\"status\":{\"indicator\":\"dire\"}}", &b, err,
	    sizeof(err)) == -1 && strcmp(err, "bad_indicator") == 0);
	/* A refused page leaves the block as it was. */
	T_CHECK(b.indicator == VIGIL_SPI_MINOR);
	/* Not an array, an object for an incident: skipped, not a crash. */
	T_CHECK(parse("{\"status\":{\"indicator\":\"minor\"},\"incidents\":"
	    "{\"a\":1}}", &b, err, sizeof(err)) == 0 && b.incidents_open == 0);
	T_CHECK(parse("{\"status\":{\"indicator\":\"minor\"},\"incidents\":"
	    "[1,\"x\",{\"status\":\"identified\"}]}", &b, err,
	    sizeof(err)) == 0 && b.incidents_open == 1 &&
	    b.incident_created_wall_ns == 0);
}

/* A long name is cut whole characters, control characters blanked. */
static void
test_truncation(void)
{
	char s[1024], name[300];
	struct vigil_status_page b;
	char err[32];
	size_t i, n = 0;

	for (i = 0; i < 92; i++)
		name[n++] = 'a';
	/* U+00E9 at bytes 92..93, then U+2713 at 94..96: the cut (95
	 * bytes fit) falls inside the second. */
	memcpy(name + n, "\xc3\xa9\xe2\x9c\x93", 5);
	n += 5;
	name[n] = '\0';
	snprintf(s, sizeof(s), "{\"status\":{\"indicator\":\"critical\"},"
	    "\"incidents\":[{\"name\":\"%s\",\"status\":\"a\\tb\"}]}", name);
	memset(&b, 0, sizeof(b));
	T_CHECK(parse(s, &b, err, sizeof(err)) == 0);
	T_CHECK(strlen(b.incident_name) == 94);
	T_CHECK(memcmp(b.incident_name + 92, "\xc3\xa9", 3) == 0);
	T_CHECK(strcmp(b.incident_status, "a b") == 0);
	/* Bytes that are not UTF-8, a sequence the page itself cut. */
	T_CHECK(parse("{\"status\":{\"indicator\":\"minor\"},\"incidents\":"
	    "[{\"name\":\"ab\xff\xc3(d\",\"status\":\"x\xe2\x9c\"}]}", &b, err,
	    sizeof(err)) == 0);
	T_CHECK(strcmp(b.incident_name, "ab?" "?(d") == 0);
	T_CHECK(strcmp(b.incident_status, "x??") == 0);
}

static void
test_time(void)
{
	T_CHECK(sp_time("1970-01-01T00:00:00Z") == 0);
	T_CHECK(sp_time("1970-01-01T00:00:01Z") == 1000000000u);
	T_CHECK(sp_time("1970-01-01T01:00:01+01:00") == 1000000000u);
	T_CHECK(sp_time("1970-01-01T00:00:01.5Z") == 1500000000u);
	T_CHECK(sp_time("2026-12-03T17:00:00.000+0000") ==
	    sp_time("2026-12-03T17:00:00Z"));
	T_CHECK(sp_time("2026-12-03") == 0);
	T_CHECK(sp_time("2026-13-03T17:00:00Z") == 0);
	T_CHECK(sp_time("2026-12-03T17:00:00") == 0);
	T_CHECK(sp_time("2026-12-03T17:00:00Zx") == 0);
	T_CHECK(sp_time(NULL) == 0);
}

int
main(void)
{
	T_RUN(test_incident);
	T_RUN(test_quiet_and_errors);
	T_RUN(test_truncation);
	T_RUN(test_time);
	return t_done();
}
