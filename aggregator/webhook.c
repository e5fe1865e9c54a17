/*
 * webhook.c - POST alerts as JSON with curl multi on libevent.
 *
 * The transfers run on the curl multi + libevent glue of common/curlev.c.
 * On top sits a fixed array of queue slots,
 * sent oldest first, at most WEBHOOK_INFLIGHT at a time; a failed attempt
 * is retried after WEBHOOK_BACKOFF_MS x 2^(attempt-1), capped.  The
 * receiver is expected to be idempotent on "id" only in the rare case
 * that it answered 2xx after our timeout fired; otherwise an alert is
 * POSTed until one attempt succeeds, so each is delivered once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <event2/event.h>

#include "curlev.h"
#include "evtime.h"
#include "log.h"
#include "ring.h"
#include "webhook.h"

struct wh_item {
	int used;
	int busy;		/* a POST is in flight */
	uint64_t seq;		/* queue order */
	uint64_t id;		/* the alert's id, for log lines */
	uint32_t attempts;
	uint64_t due_ns;	/* CLOCK_MONOTONIC of the next attempt */
	size_t len;
	char body[WEBHOOK_BODY_MAX];
	CURL *easy;
	struct webhook *wh;
};

struct webhook {
	struct event_base *base;
	struct curlev *cv;
	struct event *retry_timer;
	struct curl_slist *hdrs;
	char *url;
	uint32_t timeout_ms;
	uint32_t retries;
	uint32_t backoff_ms;
	uint32_t backoff_max_ms;
	int inflight;
	uint64_t seq;
	struct webhook_stats st;
	struct wh_item q[WEBHOOK_QUEUE_MAX];
};

static void	wh_retry_event(evutil_socket_t, short, void *);
static void	wh_finished(CURL *, CURLcode, void *);
static void	wh_done(struct webhook *, struct wh_item *, CURLcode, long);
static void	wh_kick(struct webhook *);
static int	wh_start(struct webhook *, struct wh_item *);
static size_t	wh_discard(char *, size_t, size_t, void *);

static void
wh_retry_event(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	wh_kick(arg);
}

static size_t
wh_discard(char *p, size_t size, size_t nmemb, void *arg)
{
	(void)p;
	(void)arg;
	return size * nmemb;
}

/*
 * A POST ended: its easy handle is done with; the item's fate is
 * wh_done's.  Then start what is due, in the room it left.
 */
static void
wh_finished(CURL *easy, CURLcode cc, void *arg)
{
	struct webhook *wh = arg;
	struct wh_item *it = NULL;
	long code = 0;

	curl_easy_getinfo(easy, CURLINFO_PRIVATE, &it);
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(easy);
	if (it != NULL) {
		it->easy = NULL;
		wh_done(wh, it, cc, code);
	}
	wh_kick(wh);
}

/*
 * One attempt ended.  2xx: delivered.  Else retried after the backoff,
 * or given up once 1 + retries attempts failed.  Log lines name the
 * alert id and curl's generic error text, never the URL.
 */
static void
wh_done(struct webhook *wh, struct wh_item *it, CURLcode cc, long code)
{
	uint64_t delay;
	uint32_t n;

	it->busy = 0;
	wh->inflight--;
	if (cc == CURLE_OK && code >= 200 && code < 300) {
		wh->st.delivered++;
		log_debug("webhook: alert %llu delivered (attempt %u)",
		    (unsigned long long)it->id, it->attempts);
		it->used = 0;
		wh->st.pending--;
		return;
	}
	wh->st.failures++;
	if (it->attempts > wh->retries) {
		wh->st.given_up++;
		if (cc != CURLE_OK)
			log_warnx("webhook: alert %llu given up after %u "
			    "attempts: %s", (unsigned long long)it->id,
			    it->attempts, curl_easy_strerror(cc));
		else
			log_warnx("webhook: alert %llu given up after %u "
			    "attempts: HTTP %ld", (unsigned long long)it->id,
			    it->attempts, code);
		it->used = 0;
		wh->st.pending--;
		return;
	}
	delay = wh->backoff_ms;
	for (n = 1; n < it->attempts && delay < wh->backoff_max_ms; n++)
		delay *= 2;
	if (delay > wh->backoff_max_ms)
		delay = wh->backoff_max_ms;
	it->due_ns = now_mono_ns() + delay * 1000000u;
	if (cc != CURLE_OK)
		log_info("webhook: alert %llu attempt %u failed: %s; retry in "
		    "%llu ms", (unsigned long long)it->id, it->attempts,
		    curl_easy_strerror(cc), (unsigned long long)delay);
	else
		log_info("webhook: alert %llu attempt %u failed: HTTP %ld; "
		    "retry in %llu ms", (unsigned long long)it->id,
		    it->attempts, code, (unsigned long long)delay);
}

static int
wh_start(struct webhook *wh, struct wh_item *it)
{
	CURL *e;

	if ((e = curl_easy_init()) == NULL)
		return -1;
	curl_easy_setopt(e, CURLOPT_URL, wh->url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)wh->timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)wh->timeout_ms);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, wh->hdrs);
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, it->body);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)it->len);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, wh_discard);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "vigil-aggregator/"
	    VIGIL_VERSION);
	curl_easy_setopt(e, CURLOPT_PRIVATE, it);
	if (curlev_add(wh->cv, e) == -1) {
		curl_easy_cleanup(e);
		return -1;
	}
	it->easy = e;
	it->busy = 1;
	it->attempts++;
	wh->inflight++;
	wh->st.attempts++;
	return 0;
}

/*
 * Start due alerts, oldest first, up to WEBHOOK_INFLIGHT, and arm the
 * retry timer for the next one due.  O(WEBHOOK_QUEUE_MAX) per call.
 */
static void
wh_kick(struct webhook *wh)
{
	struct wh_item *best, *it;
	uint64_t now = now_mono_ns(), next = 0, d;
	size_t i;

	while (wh->inflight < WEBHOOK_INFLIGHT) {
		best = NULL;
		for (i = 0; i < WEBHOOK_QUEUE_MAX; i++) {
			it = &wh->q[i];
			if (!it->used || it->busy || it->due_ns > now)
				continue;
			if (best == NULL || it->seq < best->seq)
				best = it;
		}
		if (best == NULL)
			break;
		if (wh_start(wh, best) == -1) {
			/* curl out of memory: try again later */
			best->due_ns = now + (uint64_t)wh->backoff_ms *
			    1000000u;
			break;
		}
	}
	for (i = 0; i < WEBHOOK_QUEUE_MAX; i++) {
		it = &wh->q[i];
		if (it->used && !it->busy && (next == 0 || it->due_ns < next))
			next = it->due_ns;
	}
	evtimer_del(wh->retry_timer);
	if (next == 0 || wh->inflight >= WEBHOOK_INFLIGHT)
		return;
	d = next > now ? next - now : 0;
	evtime_add_ms(wh->retry_timer, (d + 999999u) / 1000000u);
}

/*
 * A webhook posting to url (the string is copied; it may hold a token and
 * is registered with log_secret so that no log line ever shows it).
 * Returns NULL with err on failure.
 */
struct webhook *
webhook_new(struct event_base *base, const char *url, uint32_t timeout_ms,
    uint32_t retries, char *err, size_t errlen)
{
	struct webhook *wh;
	const char *p;
	char cverr[64];

	if (strncmp(url, "http://", 7) != 0 &&
	    strncmp(url, "https://", 8) != 0) {
		snprintf(err, errlen, "webhook_url: not an http(s) URL");
		return NULL;
	}
	if ((wh = calloc(1, sizeof(*wh))) == NULL ||
	    (wh->url = strdup(url)) == NULL) {
		free(wh);
		snprintf(err, errlen, "webhook: out of memory");
		return NULL;
	}
	log_secret(url);
	/* The part after the host, where tokens usually are. */
	if ((p = strchr(url + 8, '/')) != NULL && strlen(p) > 8)
		log_secret(p + 1);
	wh->base = base;
	wh->timeout_ms = timeout_ms ? timeout_ms : 5000;
	wh->retries = retries;
	wh->backoff_ms = WEBHOOK_BACKOFF_MS;
	wh->backoff_max_ms = WEBHOOK_BACKOFF_MAX_MS;
	wh->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	wh->cv = curlev_new(base, wh_finished, wh, cverr, sizeof(cverr));
	wh->retry_timer = evtimer_new(base, wh_retry_event, wh);
	if (wh->hdrs == NULL || wh->cv == NULL || wh->retry_timer == NULL) {
		webhook_free(wh);
		snprintf(err, errlen, "webhook: curl or libevent setup failed");
		return NULL;
	}
	return wh;
}

/* Tests: a shorter backoff than the production one. */
void
webhook_set_backoff(struct webhook *wh, uint32_t first_ms, uint32_t max_ms)
{
	wh->backoff_ms = first_ms ? first_ms : 1;
	wh->backoff_max_ms = max_ms < wh->backoff_ms ? wh->backoff_ms : max_ms;
}

/* Abort what is in flight and free everything. */
void
webhook_free(struct webhook *wh)
{
	size_t i;

	if (wh == NULL)
		return;
	for (i = 0; i < WEBHOOK_QUEUE_MAX; i++)
		if (wh->q[i].easy != NULL) {
			curlev_remove(wh->cv, wh->q[i].easy);
			curl_easy_cleanup(wh->q[i].easy);
		}
	curlev_free(wh->cv);
	if (wh->retry_timer != NULL)
		event_free(wh->retry_timer);
	curl_slist_free_all(wh->hdrs);
	if (wh->url != NULL) {
		explicit_bzero(wh->url, strlen(wh->url));
		free(wh->url);
	}
	free(wh);
}

/*
 * The JSON body of an alert:
 *   {"id", "provider", "kind", "level", "figure", "value", "threshold",
 *    "needs_human", "at" (RFC 3339 UTC), "wall_ns", "text",
 *    "incident_id" (number or null), and for an incident "members"}
 * needs_human: a raise of a kind only a human resolves (quota, auth,
 * misconfigured).
 * fig names the figure value and threshold are in (alert_fig_name: the
 * record has no field for it); NULL is "value".  Returns its length, or
 * -1 if it does not fit len.
 */
int
webhook_body(const struct vigil_alert *a, const char *fig, char *buf,
    size_t len)
{
	return webhook_body_incident(a, fig, NULL, buf, len);
}

/*
 * The members' names "a,b" as a JSON array on o.  Returns 0, or -1 out
 * of memory.
 */
static int
wh_members(cJSON *o, const char *list)
{
	cJSON *arr = cJSON_AddArrayToObject(o, "members"), *s;
	char name[VIGIL_NAME_MAX];
	size_t n;

	if (arr == NULL)
		return -1;
	while (list != NULL && *list != '\0') {
		n = strcspn(list, ",");
		snprintf(name, sizeof(name), "%.*s", (int)n, list);
		if ((s = cJSON_CreateString(name)) == NULL)
			return -1;
		cJSON_AddItemToArray(arr, s);
		list += n;
		if (*list == ',')
			list++;
	}
	return 0;
}

/*
 * webhook_body with the alert's incident (inc, NULL: none known):
 * "incident_id", the incident's number once its alert is out, else
 * null; an incident alert also names its "members".
 */
int
webhook_body_incident(const struct vigil_alert *a, const char *fig,
    const struct webhook_incident *inc, char *buf, size_t len)
{
	char at[32], text[160], name[VIGIL_NAME_MAX];
	struct tm tm;
	time_t t = (time_t)(a->wall_ns / 1000000000u);
	cJSON *o;
	int rc = -1;

	memcpy(name, a->provider, sizeof(name));
	name[sizeof(name) - 1] = '\0';
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(at, sizeof(at), "1970-01-01T00:00:00Z");
	if (fig == NULL)
		fig = "value";
	snprintf(text, sizeof(text), "vigil: %s %s %s (%s %.4g, threshold "
	    "%.4g)", name, vigil_alert_kind_name(a->kind),
	    vigil_alert_level_name(a->level), fig, a->value, a->threshold);
	if ((o = cJSON_CreateObject()) == NULL)
		return -1;
	if (cJSON_AddNumberToObject(o, "id", (double)a->id) == NULL ||
	    cJSON_AddStringToObject(o, "provider", name) == NULL ||
	    cJSON_AddStringToObject(o, "kind",
	    vigil_alert_kind_name(a->kind)) == NULL ||
	    cJSON_AddStringToObject(o, "level",
	    vigil_alert_level_name(a->level)) == NULL ||
	    cJSON_AddStringToObject(o, "figure", fig) == NULL ||
	    cJSON_AddNumberToObject(o, "value", a->value) == NULL ||
	    cJSON_AddNumberToObject(o, "threshold", a->threshold) == NULL ||
	    cJSON_AddBoolToObject(o, "needs_human", a->level !=
	    VIGIL_AL_RESOLVED && vigil_alert_needs_human(a->kind)) == NULL ||
	    cJSON_AddStringToObject(o, "at", at) == NULL ||
	    cJSON_AddNumberToObject(o, "wall_ns", (double)a->wall_ns) == NULL ||
	    cJSON_AddStringToObject(o, "text", text) == NULL)
		goto out;
	if (a->incident_id != 0 && inc != NULL && (inc->formed ||
	    a->kind == VIGIL_AK_INCIDENT)) {
		if (cJSON_AddNumberToObject(o, "incident_id",
		    (double)a->incident_id) == NULL)
			goto out;
	} else if (cJSON_AddNullToObject(o, "incident_id") == NULL)
		goto out;
	if (a->kind == VIGIL_AK_INCIDENT &&
	    wh_members(o, inc != NULL ? inc->members : NULL) == -1)
		goto out;
	if (cJSON_PrintPreallocated(o, buf, (int)len, 0))
		rc = (int)strlen(buf);
out:
	cJSON_Delete(o);
	return rc;
}

/*
 * Queue one alert for delivery, its figure named fig (webhook_body).
 * A full queue drops its oldest alert
 * that is not in flight.  Returns 0, or -1 if the alert could not be
 * encoded.  Never blocks.
 */
int
webhook_post(struct webhook *wh, const struct vigil_alert *a, const char *fig,
    const struct webhook_incident *inc)
{
	struct wh_item *it = NULL, *old = NULL;
	int n;
	size_t i;

	for (i = 0; i < WEBHOOK_QUEUE_MAX; i++) {
		if (!wh->q[i].used) {
			it = &wh->q[i];
			break;
		}
		if (!wh->q[i].busy && (old == NULL || wh->q[i].seq < old->seq))
			old = &wh->q[i];
	}
	if (it == NULL) {
		if (old == NULL)
			return -1;
		log_warnx("webhook: queue full, alert %llu dropped",
		    (unsigned long long)old->id);
		wh->st.dropped++;
		wh->st.pending--;
		it = old;
	}
	memset(it, 0, sizeof(*it));
	if ((n = webhook_body_incident(a, fig, inc, it->body,
	    sizeof(it->body))) < 0)
		return -1;
	it->len = (size_t)n;
	it->used = 1;
	it->wh = wh;
	it->id = a->id;
	it->seq = wh->seq++;
	it->due_ns = 0;
	wh->st.queued++;
	wh->st.pending++;
	wh_kick(wh);
	return 0;
}

void
webhook_stats(const struct webhook *wh, struct webhook_stats *st)
{
	*st = wh->st;
}
