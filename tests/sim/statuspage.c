/*
 * statuspage.c - a provider's fake public status page, in the Atlassian
 * Statuspage format (/api/v2/summary.json) that vigil-statuspage reads.
 *
 * The page lags the way real ones do: it says "All Systems Operational"
 * until status_page_delay_s (a fault field; 0: 30 s) after the provider
 * went down, then one open incident (investigating, impact major) whose
 * created_at is that moment.  "Down" is any fault that fails every
 * check or most of them: down, reset, hang, a status >= 500, garbage,
 * an error mode or an error rate of a half or more.  Clearing them
 * closes the incident (the page then shows it resolved).
 *
 *   GET /_status/NAME/api/v2/summary.json
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>
#include <event2/http.h>

#include "sim.h"

#define SIM_SP_DELAY_S	30

static int	sp_failing(const struct sim_faults *);
static void	sp_iso(uint64_t, char *, size_t);
static uint64_t	sp_now_wall_ns(void);

static int
sp_failing(const struct sim_faults *f)
{
	return f->down || f->reset || f->hang || f->status >= 500 ||
	    f->garbage || f->error_mode != 0 || f->error_rate >= 0.5;
}

static uint64_t
sp_now_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ns since the epoch as Statuspage writes times: ms and a Z. */
static void
sp_iso(uint64_t ns, char *buf, size_t len)
{
	time_t t = (time_t)(ns / 1000000000u);
	struct tm tm;
	char s[32];

	gmtime_r(&t, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03uZ", s,
	    (unsigned)(ns / 1000000u % 1000u));
}

/* After every change of p's faults: when did it go down, if it did. */
void
sim_status_mark(struct sim_provider *p)
{
	if (sp_failing(&p->faults)) {
		if (p->down_since_wall_ns == 0)
			p->down_since_wall_ns = sp_now_wall_ns();
	} else if (p->down_since_wall_ns != 0) {
		p->resolved_wall_ns = sp_now_wall_ns();
		p->down_since_wall_ns = 0;
	}
}

/* rest: what follows "/_status". */
void
sim_status_page(struct sim *s, struct evhttp_request *req, const char *rest)
{
	const char *name, *slash;
	struct sim_provider *p;
	cJSON *o, *page, *st, *incs, *inc, *comps, *c;
	uint64_t now = sp_now_wall_ns(), delay, at = 0;
	char t[40], url[160];
	size_t nlen;
	int open;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		sim_send_error(req, 405, "method not allowed");
		return;
	}
	name = rest[0] == '/' ? rest + 1 : rest;
	slash = strchr(name, '/');
	nlen = slash != NULL ? (size_t)(slash - name) : strlen(name);
	if (slash == NULL || strcmp(slash, "/api/v2/summary.json") != 0 ||
	    (p = sim_find(s, name, nlen)) == NULL) {
		sim_send_error(req, 404, "not found (GET /_status/NAME/api/v2/"
		    "summary.json of a provider)");
		return;
	}
	delay = (uint64_t)(p->faults.status_page_delay_s > 0 ?
	    p->faults.status_page_delay_s : SIM_SP_DELAY_S) * 1000000000u;
	if (p->down_since_wall_ns != 0)
		at = p->down_since_wall_ns + delay;
	open = at != 0 && now >= at;

	o = cJSON_CreateObject();
	page = cJSON_AddObjectToObject(o, "page");
	cJSON_AddStringToObject(page, "id", p->name);
	snprintf(url, sizeof(url), "%s (vigil-sim)", p->name);
	cJSON_AddStringToObject(page, "name", url);
	snprintf(url, sizeof(url), "/_status/%s", p->name);
	cJSON_AddStringToObject(page, "url", url);
	cJSON_AddStringToObject(page, "time_zone", "Etc/UTC");
	sp_iso(open ? at : p->resolved_wall_ns ? p->resolved_wall_ns : now,
	    t, sizeof(t));
	cJSON_AddStringToObject(page, "updated_at", t);

	comps = cJSON_AddArrayToObject(o, "components");
	c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "id", "api");
	cJSON_AddStringToObject(c, "name", "API");
	cJSON_AddStringToObject(c, "status", open ? "major_outage" :
	    "operational");
	cJSON_AddItemToArray(comps, c);

	incs = cJSON_AddArrayToObject(o, "incidents");
	if (open) {
		inc = cJSON_CreateObject();
		cJSON_AddStringToObject(inc, "id", "sim-incident");
		snprintf(url, sizeof(url), "Elevated error rates on %s API",
		    p->name);
		cJSON_AddStringToObject(inc, "name", url);
		cJSON_AddStringToObject(inc, "status", "investigating");
		cJSON_AddStringToObject(inc, "impact", "major");
		sp_iso(at, t, sizeof(t));
		cJSON_AddStringToObject(inc, "created_at", t);
		cJSON_AddStringToObject(inc, "updated_at", t);
		cJSON_AddItemToArray(incs, inc);
	}
	cJSON_AddArrayToObject(o, "scheduled_maintenances");
	st = cJSON_AddObjectToObject(o, "status");
	cJSON_AddStringToObject(st, "indicator", open ? "major" : "none");
	cJSON_AddStringToObject(st, "description", open ?
	    "Partial System Outage" : "All Systems Operational");
	sim_send_json(req, 200, o);
}
