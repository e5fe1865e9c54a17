/*
 * events.c - live events: change detection, the event ring, SSE clients.
 *
 * vigil-api polls the segment every API_POLL_MS: it diffs each provider's
 * status, circuit and trend against the previous poll and reads new
 * alerts through its own alert-ring cursor.  Every change becomes an
 * event with an id, monotonic per vigil-api process, kept in a ring of
 * the last API_EVENT_RING events so that a client that reconnects with
 * Last-Event-ID gets what it missed (or a "gap" event when they are gone).
 *
 * Clients are never waited for: an event is appended to each client's
 * output buffer, and a client whose buffer holds more than API_CLIENT_MAX
 * bytes (it stopped reading) is dropped.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "api.h"
#include "log.h"
#include "ring.h"

#define API_POLL_MS		150
#define API_KEEPALIVE_S		15
#define API_EVENT_RING		1024	/* power of two */
#define API_EVENT_MAX		768	/* bytes of one formatted event */
#define API_CLIENT_MAX		(256 * 1024)
#define API_CLIENTS_MAX		256

struct api_event {
	uint64_t id;
	size_t len;
	char text[API_EVENT_MAX];	/* "id: N\nevent: T\ndata: {...}\n\n" */
};

struct prev_state {
	char name[VIGIL_NAME_MAX];
	uint8_t status, circuit, trend, valid;
};

struct client {
	TAILQ_ENTRY(client) entry;
	struct evhttp_request *req;
	struct evhttp_connection *evcon;
};

TAILQ_HEAD(clientq, client);

static struct {
	struct api_ctx *ctx;
	struct event *poll_ev;
	struct event *keepalive_ev;
	struct api_event *ring;
	uint64_t next_id;		/* id of the next event, from 1 */
	struct prev_state *prev;	/* provider_cap entries */
	struct vigil_provider *snap;	/* our own snapshot buffer */
	struct vigil_alert *alerts;
	struct vigil_cursor alert_cur;
	int primed;
	struct clientq clients;
	size_t nclients;
} ev;

static void	poll_cb(evutil_socket_t, short, void *);
static void	keepalive_cb(evutil_socket_t, short, void *);
static void	emit(const char *, cJSON *);
static void	client_send(struct client *, const char *, size_t);
static void	client_closed(struct evhttp_connection *, void *);
static void	change_event(const struct vigil_provider *, const char *,
		    const char *, const char *);

/*
 * Allocate the ring and the state tables, position the alert cursor at
 * the newest alert (older ones are history, served by /alerts), and start
 * the poll and keep-alive timers.  Returns 0 or -1.
 */
int
api_events_init(struct api_ctx *ctx)
{
	struct timeval poll = { 0, API_POLL_MS * 1000 };
	struct timeval ka = { API_KEEPALIVE_S, 0 };
	uint32_t cap = vigil_capacity(&ctx->vc);

	memset(&ev, 0, sizeof(ev));
	ev.ctx = ctx;
	ev.next_id = 1;
	TAILQ_INIT(&ev.clients);
	ev.ring = calloc(API_EVENT_RING, sizeof(*ev.ring));
	ev.prev = calloc(cap, sizeof(*ev.prev));
	ev.snap = calloc(cap, sizeof(*ev.snap));
	ev.alerts = calloc(ctx->vc.hdr->alert_cap, sizeof(*ev.alerts));
	if (ev.ring == NULL || ev.prev == NULL || ev.snap == NULL ||
	    ev.alerts == NULL)
		return -1;
	ev.alert_cur.next = VIGIL_LOAD_ACQ(&vigil__alert_ring(&ctx->vc)->head);
	ev.poll_ev = event_new(ctx->base, -1, EV_PERSIST, poll_cb, NULL);
	ev.keepalive_ev = event_new(ctx->base, -1, EV_PERSIST, keepalive_cb,
	    NULL);
	if (ev.poll_ev == NULL || ev.keepalive_ev == NULL)
		return -1;
	event_add(ev.poll_ev, &poll);
	event_add(ev.keepalive_ev, &ka);
	poll_cb(-1, 0, NULL);
	return 0;
}

/* Stop the timers and free the tables (clients go with evhttp_free). */
void
api_events_shutdown(void)
{
	if (ev.poll_ev != NULL)
		event_free(ev.poll_ev);
	if (ev.keepalive_ev != NULL)
		event_free(ev.keepalive_ev);
	free(ev.ring);
	free(ev.prev);
	free(ev.snap);
	free(ev.alerts);
	memset(&ev, 0, sizeof(ev));
}

uint64_t
api_events_last_id(void)
{
	return ev.next_id - 1;
}

/*
 * Format one event into the ring and send it to every client.  The data
 * is o serialised on one line (JSON has no raw newlines), so one "data:"
 * line suffices.  Takes ownership of o.
 */
static void
emit(const char *type, cJSON *o)
{
	struct api_event *e = &ev.ring[ev.next_id & (API_EVENT_RING - 1)];
	struct client *c, *next;
	char *s;
	int n;

	cJSON_AddNumberToObject(o, "id", (double)ev.next_id);
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (s == NULL)
		return;
	n = snprintf(e->text, sizeof(e->text), "id: %llu\nevent: %s\n"
	    "data: %s\n\n", (unsigned long long)ev.next_id, type, s);
	free(s);
	if (n < 0 || (size_t)n >= sizeof(e->text))
		return;
	e->id = ev.next_id++;
	e->len = (size_t)n;
	log_debug("event %llu %s", (unsigned long long)e->id, type);
	for (c = TAILQ_FIRST(&ev.clients); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		client_send(c, e->text, e->len);
	}
}

static void
change_event(const struct vigil_provider *p, const char *type,
    const char *from, const char *to)
{
	cJSON *o = cJSON_CreateObject();
	char at[32];

	api_time_format(now_wall_ns(), at, sizeof(at));
	cJSON_AddStringToObject(o, "type", type);
	cJSON_AddStringToObject(o, "provider", p->info.name);
	cJSON_AddStringToObject(o, "from", from);
	cJSON_AddStringToObject(o, "to", to);
	cJSON_AddStringToObject(o, "status", p->stats.updated_wall_ns == 0 ?
	    "unknown" : vigil_status_name(p->stats.status));
	cJSON_AddStringToObject(o, "circuit",
	    vigil_circuit_name(p->stats.circuit));
	cJSON_AddStringToObject(o, "trend", vigil_trend_name(p->stats.trend));
	cJSON_AddStringToObject(o, "at", at);
	emit(type, o);
}

/*
 * One poll: snapshot every provider, diff against the previous poll,
 * read new alerts.  The first poll only records the baseline.  A busy
 * segment is simply retried at the next tick.  O(providers + new alerts).
 */
static void
poll_cb(evutil_socket_t fd, short what, void *arg)
{
	struct vigil_client *vc = &ev.ctx->vc;
	size_t n, i;
	uint8_t st;

	(void)fd;
	(void)what;
	(void)arg;
	if (vigil_snapshot_all(vc, ev.snap, vigil_capacity(vc), &n) !=
	    VIGIL_OK)
		return;
	for (i = 0; i < n; i++) {
		const struct vigil_provider *p = &ev.snap[i];
		struct prev_state *ps = &ev.prev[p->idx];

		st = p->stats.updated_wall_ns == 0 ? VIGIL_ST_UNKNOWN :
		    p->stats.status;
		if (ps->valid && strcmp(ps->name, p->info.name) == 0 &&
		    ev.primed) {
			if (ps->status != st)
				change_event(p, "status",
				    vigil_status_name(ps->status),
				    vigil_status_name(st));
			if (ps->circuit != p->stats.circuit)
				change_event(p, "circuit",
				    vigil_circuit_name(ps->circuit),
				    vigil_circuit_name(p->stats.circuit));
			if (ps->trend != p->stats.trend)
				change_event(p, "trend",
				    vigil_trend_name(ps->trend),
				    vigil_trend_name(p->stats.trend));
		}
		memcpy(ps->name, p->info.name, sizeof(ps->name));
		ps->status = st;
		ps->circuit = p->stats.circuit;
		ps->trend = p->stats.trend;
		ps->valid = 1;
	}
	ev.primed = 1;

	while ((n = vigil_read_alerts(vc, &ev.alert_cur, ev.alerts,
	    vc->hdr->alert_cap)) > 0) {
		for (i = 0; i < n; i++) {
			const struct vigil_alert *al = &ev.alerts[i];
			cJSON *o = cJSON_CreateObject();
			char at[32];

			api_time_format(al->wall_ns, at, sizeof(at));
			cJSON_AddStringToObject(o, "type", "alert");
			cJSON_AddNumberToObject(o, "alert_id", (double)al->id);
			cJSON_AddStringToObject(o, "provider", al->provider);
			cJSON_AddStringToObject(o, "kind",
			    vigil_alert_kind_name(al->kind));
			cJSON_AddStringToObject(o, "level",
			    vigil_alert_level_name(al->level));
			cJSON_AddNumberToObject(o, "value",
			    api_round3(al->value));
			cJSON_AddNumberToObject(o, "threshold",
			    api_round3(al->threshold));
			cJSON_AddStringToObject(o, "at", at);
			emit("alert", o);
		}
	}
}

/* A comment line every API_KEEPALIVE_S: proxies keep the stream open and
 * a vanished client is noticed at the write. */
static void
keepalive_cb(evutil_socket_t fd, short what, void *arg)
{
	static const char ka[] = ": keep-alive\n\n";
	struct client *c, *next;

	(void)fd;
	(void)what;
	(void)arg;
	for (c = TAILQ_FIRST(&ev.clients); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		client_send(c, ka, sizeof(ka) - 1);
	}
}

/*
 * Queue text for one client; drop the client when its connection's
 * output already holds API_CLIENT_MAX bytes (never block, never grow
 * without bound).  May free c.
 */
static void
client_send(struct client *c, const char *text, size_t len)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(c->evcon);

	if (bev != NULL && evbuffer_get_length(bufferevent_get_output(bev)) >
	    API_CLIENT_MAX) {
		log_info("dropping a slow event-stream client (%zu bytes "
		    "queued)", evbuffer_get_length(bufferevent_get_output(bev)));
		/* Calls client_closed, which frees c. */
		evhttp_connection_free(c->evcon);
		return;
	}
	{
		struct evbuffer *b = evbuffer_new();

		if (b == NULL)
			return;
		evbuffer_add(b, text, len);
		evhttp_send_reply_chunk(c->req, b);
		evbuffer_free(b);
	}
}

/*
 * The connection went away (peer closed, write error or timeout, a drop,
 * or shutdown).  When evhttp orphaned the unfinished request (evcon NULL)
 * it is ours to free, which evhttp_send_reply_end does.
 */
static void
client_closed(struct evhttp_connection *evcon, void *arg)
{
	struct client *c = arg;

	(void)evcon;
	TAILQ_REMOVE(&ev.clients, c, entry);
	ev.nclients--;
	if (evhttp_request_get_connection(c->req) == NULL)
		evhttp_send_reply_end(c->req);
	free(c);
}

/*
 * GET /health/integration/events: a server-sent event stream.  Replays
 * the ring's events after Last-Event-ID (header, or ?last_event_id= for
 * clients that cannot set headers); sends a "gap" event when some of
 * them have already left the ring, so the client refetches the state.
 */
void
api_events_sse(struct api_ctx *ctx, struct evhttp_request *req)
{
	struct evkeyvalq *hdrs = evhttp_request_get_output_headers(req);
	const char *lei;
	struct client *c;
	struct evbuffer *b;
	unsigned long long last = 0;
	uint64_t id, oldest;
	int have_last = 0;
	char *end;

	(void)ctx;
	lei = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Last-Event-ID");
	if (lei == NULL) {
		const char *qs = evhttp_uri_get_query(
		    evhttp_request_get_evhttp_uri(req));
		struct api_query q;

		if (qs != NULL && api_query_parse(qs, &q, NULL, 0) == 0)
			lei = api_query_get(&q, "last_event_id");
		if (lei != NULL) {
			last = strtoull(lei, &end, 10);
			have_last = *lei != '\0' && *end == '\0';
			lei = NULL;
		}
	} else {
		last = strtoull(lei, &end, 10);
		have_last = *lei != '\0' && *end == '\0';
	}
	if (ev.nclients >= API_CLIENTS_MAX) {
		b = evbuffer_new();
		api_error_json(b, "too_many_clients", NULL, "too many "
		    "event-stream clients");
		evhttp_add_header(hdrs, "Content-Type", "application/json");
		evhttp_add_header(hdrs, "Retry-After", "5");
		evhttp_send_reply(req, 503, "Service Unavailable", b);
		evbuffer_free(b);
		return;
	}
	evhttp_add_header(hdrs, "Content-Type", "text/event-stream");
	evhttp_add_header(hdrs, "Cache-Control", "no-cache");
	evhttp_add_header(hdrs, "X-Accel-Buffering", "no");
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		evhttp_send_reply(req, 200, "OK", NULL);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		evhttp_send_error(req, 503, NULL);
		return;
	}
	c->req = req;
	c->evcon = evhttp_request_get_connection(req);
	TAILQ_INSERT_TAIL(&ev.clients, c, entry);
	ev.nclients++;
	evhttp_connection_set_closecb(c->evcon, client_closed, c);
	evhttp_send_reply_start(req, 200, "OK");

	b = evbuffer_new();
	if (b == NULL)
		return;
	evbuffer_add_printf(b, "retry: 1000\n: vigil event stream, last id "
	    "%llu\n\n", (unsigned long long)(ev.next_id - 1));
	if (have_last && last + 1 < ev.next_id) {
		oldest = ev.next_id > API_EVENT_RING ? ev.next_id -
		    API_EVENT_RING : 1;
		if (last + 1 < oldest) {
			evbuffer_add_printf(b, "event: gap\ndata: {\"type\":"
			    "\"gap\",\"missed_from\":%llu,\"oldest\":%llu}\n\n",
			    last + 1, (unsigned long long)oldest);
			last = oldest - 1;
		}
		for (id = last + 1; id < ev.next_id; id++) {
			const struct api_event *e =
			    &ev.ring[id & (API_EVENT_RING - 1)];
			if (e->id == id)
				evbuffer_add(b, e->text, e->len);
		}
	}
	evhttp_send_reply_chunk(req, b);
	evbuffer_free(b);
}

/*
 * GET /ws/health.  The WebSocket framing is meant to come from libwslay;
 * until the build links it this answers 501 with a JSON error.
 */
void
api_events_ws(struct api_ctx *ctx, struct evhttp_request *req)
{
	struct evbuffer *b = evbuffer_new();

	(void)ctx;
	if (b == NULL) {
		evhttp_send_error(req, 503, NULL);
		return;
	}
	api_error_json(b, "not_implemented", NULL, "WebSocket support is not "
	    "built into this vigil-api (needs libwslay); use the server-sent "
	    "events at /health/integration/events");
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json");
	evhttp_send_reply(req, 501, "Not Implemented", b);
	evbuffer_free(b);
}
