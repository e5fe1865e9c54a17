/*
 * events.c - live events: change detection, the event ring, SSE clients.
 *
 * vigil-api polls the segment every API_POLL_MS: it diffs each provider's
 * status, circuit, trend, what a router acts on (usable, reason,
 * needs_human, usable_at), its rate-limit headroom and each of its
 * models' status, reason and usable against the previous poll and reads
 * new alerts through its own alert-ring cursor.
 * Every change becomes an event with an id, monotonic per vigil-api
 * process, kept in a ring of the last API_EVENT_RING events so that a
 * client that reconnects with Last-Event-ID gets what it missed (or a
 * "gap" event when they are gone).
 *
 * Clients are never waited for: an event is appended to each client's
 * output buffer, and a client whose buffer holds more than API_CLIENT_MAX
 * bytes (it stopped reading) is dropped.
 *
 * WebSocket clients (/ws/health) get the same events as JSON text frames.
 * The handshake goes through evhttp (101 Switching Protocols); then the
 * connection's bufferevent is taken over: its callbacks become ours and
 * libwslay does the RFC 6455 framing (masking, ping/pong, close) over its
 * input and output buffers.  The evhttp connection is kept as the owner,
 * so that evhttp_connection_free (drop, close, shutdown) frees the socket
 * and calls client_closed as for SSE.  The accept key's SHA-1 comes from
 * libcrypto.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include <openssl/evp.h>
#include <wslay/wslay.h>

#include "api.h"
#include "log.h"
#include "ring.h"

#define API_POLL_MS		150
#define API_KEEPALIVE_S		15
#define API_EVENT_RING		1024	/* power of two */
#define API_CLIENT_MAX		(256 * 1024)
#define API_CLIENTS_MAX		256
#define API_WS_CLIENTS_MAX	256
#define API_WS_MSG_MAX		4096	/* longest message we accept */
#define API_WS_IDLE_S		(2 * API_KEEPALIVE_S + 5) /* no pong: drop */
#define API_WS_WRITE_S		10
#define API_WS_GUID		"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

struct api_event {
	uint64_t id;
	size_t len;
	size_t data_off;		/* where the JSON starts in text */
	size_t data_len;
	char *text;			/* "id: N\nevent: T\ndata: {...}\n\n",
					 * malloc'd: a change event carries the
					 * provider's state (about 1 KiB) */
};

struct prev_state {
	char name[VIGIL_NAME_MAX];
	uint8_t status, circuit, trend, valid;
	uint8_t usable, reason, needs_human;
	uint8_t rl_level[VIGIL_RL_COUNT];	/* rl_level() */
	uint64_t usable_at;
	uint32_t rl_limit[VIGIL_RL_COUNT];
	uint8_t spent;				/* budget_spent() */
	uint8_t sp_valid;			/* a status page was read */
	uint32_t sp_changes;			/* its block's changes */
};

/*
 * A model slot at the previous poll.  The name's hash tells a model
 * from the one a reload put in its slot: that one starts a new
 * baseline, not a change.
 */
struct mprev_state {
	uint64_t name_hash;
	uint8_t status, reason, usable, valid;
};

/* The router's fields of a change event, copied from its state. */
static const char *const router_keys[] = { "usable", "reason",
    "reason_since", "needs_human", "usable_at", "usable_in_s",
    "ratelimit" };

struct client {
	TAILQ_ENTRY(client) entry;
	struct evhttp_request *req;
	struct evhttp_connection *evcon;
	int ws;				/* a WebSocket client */
	struct bufferevent *bev;
	wslay_event_context_ptr wctx;
	int closing;			/* close sent: free when flushed */
};

TAILQ_HEAD(clientq, client);

static struct {
	struct api_ctx *ctx;
	struct event *poll_ev;
	struct event *keepalive_ev;
	struct api_event *ring;
	uint64_t next_id;		/* id of the next event, from 1 */
	struct prev_state *prev;	/* provider_cap entries */
	struct mprev_state *mprev;	/* provider_cap x model_cap */
	struct vigil_provider *snap;	/* our own snapshot buffer */
	struct api_models models;	/* of snap */
	size_t event_max;		/* bytes of one formatted event */
	struct vigil_alert *alerts;
	struct vigil_cursor alert_cur;
	int primed;
	const char *overall;		/* of the last poll's snapshot */
	uint64_t snap_at_ns;		/* CLOCK_MONOTONIC of that snapshot */
	struct clientq clients;
	size_t nclients;		/* SSE clients */
	size_t nws;			/* WebSocket clients */
} ev;

static void	poll_cb(evutil_socket_t, short, void *);
static void	keepalive_cb(evutil_socket_t, short, void *);
static void	emit(const char *, cJSON *);
static void	alert_incident(const struct vigil_client *, cJSON *,
		    const struct vigil_alert *);
static void	client_send(struct client *, const char *, size_t);
static void	client_event(struct client *, const struct api_event *);
static int	parse_last_id(struct evhttp_request *, int,
		    unsigned long long *);
static void	reply_error(struct evhttp_request *, int, const char *,
		    const char *, const char *);
static int	ws_accept_key(const char *, char *, size_t);
static int	ws_header_has(struct evhttp_request *, const char *,
		    const char *);
static void	ws_queue(struct client *, const char *, size_t);
static void	ws_text(struct client *, const char *, size_t);
static void	ws_ping(struct client *);
static void	ws_flush(struct client *);
static void	ws_drop(struct client *);
static void	ws_read_cb(struct bufferevent *, void *);
static void	ws_write_cb(struct bufferevent *, void *);
static void	ws_event_cb(struct bufferevent *, short, void *);
static ssize_t	ws_recv_cb(wslay_event_context_ptr, uint8_t *, size_t, int,
		    void *);
static ssize_t	ws_send_cb(wslay_event_context_ptr, const uint8_t *, size_t,
		    int, void *);
static void	ws_msg_cb(wslay_event_context_ptr,
		    const struct wslay_event_on_msg_recv_arg *, void *);
static void	client_closed(struct evhttp_connection *, void *);
static void	change_event(const struct vigil_provider *,
		    const struct api_pmodels *, const char *, const char *,
		    const char *, cJSON *);
static uint64_t	name_hash(const char *);
static void	model_event(const struct vigil_provider *,
		    const struct api_model *, const struct mprev_state *,
		    cJSON *);
static void	diff_models(const struct vigil_provider *,
		    const struct api_pmodels *, int);
static unsigned	rl_level(const struct vigil_ratelimit *);
static void	diff_router(struct prev_state *,
		    const struct vigil_provider *, const struct api_pmodels *,
		    int);
static void	diff_ratelimit(struct prev_state *,
		    const struct vigil_provider *, const struct api_pmodels *);
static void	diff_status_page(struct prev_state *,
		    const struct vigil_provider *, int);

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
	ev.mprev = calloc((size_t)cap * ctx->vc.lay.model_cap,
	    sizeof(*ev.mprev));
	ev.snap = calloc(cap, sizeof(*ev.snap));
	ev.event_max = API_EVENT_BASE_MAX + (size_t)ctx->vc.lay.model_cap *
	    API_EVENT_MODEL_MAX;
	ev.alerts = calloc(ctx->vc.lay.alert_cap, sizeof(*ev.alerts));
	if (ev.ring == NULL || ev.prev == NULL || ev.mprev == NULL ||
	    ev.snap == NULL || ev.alerts == NULL)
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
	size_t i;

	if (ev.poll_ev != NULL)
		event_free(ev.poll_ev);
	if (ev.keepalive_ev != NULL)
		event_free(ev.keepalive_ev);
	if (ev.ring != NULL)
		for (i = 0; i < API_EVENT_RING; i++)
			free(ev.ring[i].text);
	free(ev.ring);
	free(ev.prev);
	free(ev.mprev);
	free(ev.snap);
	api_models_free(&ev.models);
	free(ev.alerts);
	memset(&ev, 0, sizeof(ev));
}

uint64_t
api_events_last_id(void)
{
	return ev.next_id - 1;
}

/*
 * Format one event into the ring and send it to every client.  Every
 * event carries "overall", the overall status of the poll that raised it
 * (vigil_overall_status, as /health/integration computes it).  The data is
 * o serialised on one line (JSON has no raw newlines), so one "data:"
 * line suffices.  An event over ev.event_max bytes (API_EVENT_BASE_MAX
 * and API_EVENT_MODEL_MAX per model slot; it cannot be: the strings are
 * bounded) or out of memory is dropped, its id unused.
 * Takes ownership of o.
 */
static void
emit(const char *type, cJSON *o)
{
	struct api_event *e = &ev.ring[ev.next_id & (API_EVENT_RING - 1)];
	struct client *c, *next;
	char *s, *text;
	size_t len;
	int n;

	cJSON_AddStringToObject(o, "overall", ev.overall != NULL ?
	    ev.overall : "unknown");
	cJSON_AddNumberToObject(o, "id", (double)ev.next_id);
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (s == NULL)
		return;
	len = strlen(s) + 64 + strlen(type);
	if (len > ev.event_max || (text = malloc(len)) == NULL) {
		log_warnx("event %s of %zu bytes dropped", type, strlen(s));
		free(s);
		return;
	}
	n = snprintf(text, len, "id: %llu\nevent: %s\ndata: ",
	    (unsigned long long)ev.next_id, type);
	e->data_off = (size_t)n;
	e->data_len = strlen(s);
	n = snprintf(text + e->data_off, len - e->data_off, "%s\n\n", s);
	free(s);
	free(e->text);
	e->text = text;
	e->id = ev.next_id++;
	e->len = e->data_off + (size_t)n;
	log_debug("event %llu %s", (unsigned long long)e->id, type);
	for (c = TAILQ_FIRST(&ev.clients); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		client_event(c, e);
	}
}

/*
 * A change of p.  Besides the change (from and to when given, else the
 * names of what changed) it carries what a router acts on at top level
 * (usable, reason, needs_human, usable_at, ratelimit) and p's whole state
 * as /health/integration shows it ("state", its models pm included), so
 * that a client (the dashboard) redraws every field of the provider from
 * the event, not only the one that changed.  Takes ownership of changed.
 */
static void
change_event(const struct vigil_provider *p, const struct api_pmodels *pm,
    const char *type, const char *from, const char *to, cJSON *changed)
{
	cJSON *o = cJSON_CreateObject(), *state = NULL, *it;
	struct evbuffer *b = evbuffer_new();
	const char *raw = NULL;
	char at[32];
	size_t k;

	api_time_format(now_wall_ns(), at, sizeof(at));
	cJSON_AddStringToObject(o, "type", type);
	cJSON_AddStringToObject(o, "provider", p->info.name);
	if (from != NULL && to != NULL) {
		cJSON_AddStringToObject(o, "from", from);
		cJSON_AddStringToObject(o, "to", to);
	}
	if (changed != NULL)
		cJSON_AddItemToObject(o, "changed", changed);
	cJSON_AddStringToObject(o, "status",
	    vigil_status_name(vigil_effective_status(p)));
	cJSON_AddStringToObject(o, "circuit",
	    vigil_circuit_name(p->stats.circuit));
	cJSON_AddStringToObject(o, "trend", vigil_trend_name(p->stats.trend));
	cJSON_AddStringToObject(o, "at", at);
	/*
	 * The state's JSON is written by views.c; "raw" copies it as is.
	 * The router's fields are taken from it, parsed, so that the top
	 * level and the state cannot disagree on a value or its format.
	 */
	if (b != NULL && api_provider_json(ev.ctx, b, p, pm, ev.snap_at_ns) ==
	    0 && evbuffer_add(b, "", 1) == 0) {
		raw = (const char *)evbuffer_pullup(b, -1);
		state = cJSON_Parse(raw);
	}
	for (k = 0; k < sizeof(router_keys) / sizeof(router_keys[0]); k++)
		if ((it = cJSON_GetObjectItemCaseSensitive(state,
		    router_keys[k])) != NULL)
			cJSON_AddItemToObject(o, router_keys[k],
			    cJSON_Duplicate(it, 1));
	if (raw != NULL)
		cJSON_AddRawToObject(o, "state", raw);
	else
		cJSON_AddNullToObject(o, "state");
	cJSON_Delete(state);
	if (b != NULL)
		evbuffer_free(b);
	emit(type, o);
}

/*
 * How full a rate-limit resource is, coarsely: 0 when nothing is left,
 * else 1 + the per-cent remaining.  Remaining tokens move with every
 * answer; an event per answer would flood the stream and push the
 * replay window out, so an event says when the level moves.
 */
static unsigned
rl_level(const struct vigil_ratelimit *r)
{
	if (r->limit == 0 || r->remaining == 0)
		return 0;
	if (r->remaining >= r->limit)
		return 101;
	return 1 + (unsigned)((uint64_t)r->remaining * 100 / r->limit);
}

/*
 * A "usable" event when what a router acts on changed: usable (judged at
 * the poll's wall time, so a throttled provider's usable_at passing is
 * an event too), reason, needs_human or usable_at.
 */
static void
diff_router(struct prev_state *ps, const struct vigil_provider *p,
    const struct api_pmodels *pm, int usable)
{
	const struct vigil_stats *st = &p->stats;
	cJSON *changed;

	if (ps->usable == usable && ps->reason == st->reason &&
	    ps->needs_human == (st->needs_human != 0) &&
	    ps->usable_at == st->usable_at_wall_ns)
		return;
	if ((changed = cJSON_CreateArray()) == NULL)
		return;
	if (ps->usable != usable)
		cJSON_AddItemToArray(changed, cJSON_CreateString("usable"));
	if (ps->reason != st->reason)
		cJSON_AddItemToArray(changed, cJSON_CreateString("reason"));
	if (ps->needs_human != (st->needs_human != 0))
		cJSON_AddItemToArray(changed,
		    cJSON_CreateString("needs_human"));
	if (ps->usable_at != st->usable_at_wall_ns)
		cJSON_AddItemToArray(changed, cJSON_CreateString("usable_at"));
	change_event(p, pm, "usable", NULL, NULL, changed);
}

/*
 * 1 when the provider's generation checks have spent the day's budget:
 * the prober stops them until 00:00 UTC (issue 17) once the next check
 * would go over it.  The prober estimates the next check by the last
 * one; here, by the mean of the checks counted (the same where every
 * check costs the same, as a one-token answer does).
 */
static int
budget_spent(const struct vigil_provider *p, const struct api_pmodels *pm,
    uint64_t wall)
{
	uint64_t used = vigil_probe_tokens_today(&p->stats, wall), tok = 0;
	uint64_t checks = 0, next;
	uint32_t k;

	if (pm->budget == 0)
		return 0;
	for (k = 0; k < pm->n; k++) {
		tok += pm->m[k].s.tokens_in_total + pm->m[k].s.tokens_out_total;
		checks += pm->m[k].s.checks_total;
	}
	next = checks > 0 ? (tok + checks - 1) / checks : 1;
	return used > 0 && used + next > pm->budget;
}

/*
 * An info "budget" event when the day's token budget is spent (and when
 * a new UTC day or a larger budget lifts it): generation checks stop
 * until resumes_at, nothing else does.  A provider first seen with its
 * budget spent gets the event at once.
 */
static void
diff_budget(struct prev_state *ps, const struct vigil_provider *p,
    const struct api_pmodels *pm, uint64_t wall)
{
	uint64_t day = UINT64_C(86400) * 1000000000u;
	int spent = budget_spent(p, pm, wall);
	cJSON *o;
	char at[32], resume[32];

	if (spent == ps->spent || (o = cJSON_CreateObject()) == NULL)
		return;
	api_time_format(wall, at, sizeof(at));
	api_time_format((wall / day + 1) * day, resume, sizeof(resume));
	cJSON_AddStringToObject(o, "type", "budget");
	cJSON_AddStringToObject(o, "level", "info");
	cJSON_AddStringToObject(o, "provider", p->info.name);
	cJSON_AddBoolToObject(o, "spent", spent);
	cJSON_AddNumberToObject(o, "used_today",
	    (double)vigil_probe_tokens_today(&p->stats, wall));
	cJSON_AddNumberToObject(o, "budget", (double)pm->budget);
	if (spent)
		cJSON_AddStringToObject(o, "resumes_at", resume);
	cJSON_AddStringToObject(o, "at", at);
	emit("budget", o);
}

/* A "ratelimit" event naming the resources that appeared, went, changed
 * their limit or their level (rl_level). */
static void
diff_ratelimit(struct prev_state *ps, const struct vigil_provider *p,
    const struct api_pmodels *pm)
{
	const struct vigil_ratelimit *rl = p->stats.ratelimit;
	cJSON *changed = NULL;
	unsigned k;

	for (k = 0; k < VIGIL_RL_COUNT; k++) {
		if (ps->rl_limit[k] == rl[k].limit &&
		    ps->rl_level[k] == rl_level(&rl[k]))
			continue;
		if (changed == NULL && (changed = cJSON_CreateArray()) == NULL)
			return;
		cJSON_AddItemToArray(changed,
		    cJSON_CreateString(vigil_rl_name(k)));
	}
	if (changed != NULL)
		change_event(p, pm, "ratelimit", NULL, NULL, changed);
}

/* FNV-1a of a model's name. */
static uint64_t
name_hash(const char *s)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * UINT64_C(0x100000001b3);
	return h;
}

/*
 * A "model" event: model am of p changed its status, reason or usable
 * since mp.  It names what changed (from and to for the status) and
 * carries the model's new status, reason and usable at top level and
 * its whole state as an element of providers[].models[] ("state"), so
 * that a client redraws the model's row from the event alone.  A change
 * the model causes in its provider (degraded) is the provider's own
 * status or usable event, raised first by the same poll.  Takes
 * ownership of changed.
 */
static void
model_event(const struct vigil_provider *p, const struct api_model *am,
    const struct mprev_state *mp, cJSON *changed)
{
	cJSON *o = cJSON_CreateObject();
	struct evbuffer *b = evbuffer_new();
	unsigned st = vigil_model_effective_status(&am->s);
	const char *rs = st != VIGIL_ST_UNKNOWN ?
	    vigil_reason_name(am->s.reason) : NULL;
	char at[32];

	api_time_format(now_wall_ns(), at, sizeof(at));
	cJSON_AddStringToObject(o, "type", "model");
	cJSON_AddStringToObject(o, "provider", p->info.name);
	cJSON_AddStringToObject(o, "model", am->name);
	if (mp->status != st) {
		cJSON_AddStringToObject(o, "from",
		    vigil_status_name(mp->status));
		cJSON_AddStringToObject(o, "to", vigil_status_name(st));
	}
	cJSON_AddItemToObject(o, "changed", changed);
	cJSON_AddStringToObject(o, "status", vigil_status_name(st));
	if (rs != NULL)
		cJSON_AddStringToObject(o, "reason", rs);
	else
		cJSON_AddNullToObject(o, "reason");
	cJSON_AddBoolToObject(o, "usable", vigil_model_usable(&am->s));
	cJSON_AddStringToObject(o, "provider_status",
	    vigil_status_name(vigil_effective_status(p)));
	cJSON_AddStringToObject(o, "at", at);
	if (b != NULL && api_model_json(b, am) == 0 &&
	    evbuffer_add(b, "", 1) == 0)
		cJSON_AddRawToObject(o, "state",
		    (const char *)evbuffer_pullup(b, -1));
	else
		cJSON_AddNullToObject(o, "state");
	if (b != NULL)
		evbuffer_free(b);
	emit("model", o);
}

/*
 * p's models against the previous poll: a "model" event for each whose
 * status, reason or usable moved, and a "models" event when the list
 * itself changed (a reload named, renamed or dropped a model): changed
 * ["models"], and the list now in its state's models.  A
 * model new in its slot only records its baseline, and so does every
 * model of a provider seen for the first time (fresh).
 */
static void
diff_models(const struct vigil_provider *p, const struct api_pmodels *pm,
    int fresh)
{
	struct mprev_state *base = &ev.mprev[(size_t)p->idx *
	    ev.ctx->vc.lay.model_cap];
	cJSON *changed;
	uint32_t k;
	int listed = 0;

	for (k = 0; k < pm->n; k++) {
		const struct api_model *am = &pm->m[k];
		struct mprev_state *mp = &base[k];
		uint64_t h = name_hash(am->name);
		uint8_t st = (uint8_t)vigil_model_effective_status(&am->s);
		uint8_t rs = st != VIGIL_ST_UNKNOWN ? am->s.reason : 0;
		uint8_t us = (uint8_t)vigil_model_usable(&am->s);

		if (!mp->valid || mp->name_hash != h)
			listed = 1;
		else if (!fresh && (mp->status != st || mp->reason != rs ||
		    mp->usable != us) &&
		    (changed = cJSON_CreateArray()) != NULL) {
			if (mp->status != st)
				cJSON_AddItemToArray(changed,
				    cJSON_CreateString("status"));
			if (mp->reason != rs)
				cJSON_AddItemToArray(changed,
				    cJSON_CreateString("reason"));
			if (mp->usable != us)
				cJSON_AddItemToArray(changed,
				    cJSON_CreateString("usable"));
			model_event(p, am, mp, changed);
		}
		mp->name_hash = h;
		mp->status = st;
		mp->reason = rs;
		mp->usable = us;
		mp->valid = 1;
	}
	for (; k < ev.ctx->vc.lay.model_cap; k++) {
		listed |= base[k].valid;
		base[k].valid = 0;
	}
	if (fresh || !listed || (changed = cJSON_CreateArray()) == NULL)
		return;
	cJSON_AddItemToArray(changed, cJSON_CreateString("models"));
	change_event(p, pm, "models", NULL, NULL, changed);
}

/*
 * A "status_page" event when vigil-statuspage counted a change of p's
 * page (its indicator, its open incidents, an error appearing or
 * going): what the page says now.  The first sight is the baseline.
 */
static void
diff_status_page(struct prev_state *ps, const struct vigil_provider *p,
    int same)
{
	struct vigil_status_page sp;
	cJSON *o, *inc;
	char at[32];

	if (vigil_status_page(&ev.ctx->vc, p->idx, p->info.name, &sp) !=
	    VIGIL_OK) {
		ps->sp_valid = 0;
		return;
	}
	api_clean_status_page(&sp);
	if (same && ps->sp_valid && ps->sp_changes != sp.changes) {
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "type", "status_page");
		cJSON_AddStringToObject(o, "provider", p->info.name);
		if (sp.fetched_wall_ns != 0)
			cJSON_AddStringToObject(o, "indicator",
			    vigil_sp_indicator_name(sp.indicator));
		else
			cJSON_AddNullToObject(o, "indicator");
		cJSON_AddNumberToObject(o, "incidents_open",
		    (double)sp.incidents_open);
		if (sp.incidents_open > 0) {
			inc = cJSON_AddObjectToObject(o, "incident");
			cJSON_AddStringToObject(inc, "name", sp.incident_name);
			cJSON_AddStringToObject(inc, "status",
			    sp.incident_status);
			if (api_time_format(sp.incident_created_wall_ns, at,
			    sizeof(at)) > 0 && sp.incident_created_wall_ns)
				cJSON_AddStringToObject(inc, "created_at", at);
			else
				cJSON_AddNullToObject(inc, "created_at");
		} else
			cJSON_AddNullToObject(o, "incident");
		if (sp.error[0] != '\0')
			cJSON_AddStringToObject(o, "error", sp.error);
		else
			cJSON_AddNullToObject(o, "error");
		api_time_format(sp.updated_wall_ns, at, sizeof(at));
		cJSON_AddStringToObject(o, "at", at);
		emit("status_page", o);
	}
	ps->sp_valid = 1;
	ps->sp_changes = sp.changes;
}

/*
 * One poll: snapshot every provider and its models, diff against the
 * previous poll, read new alerts.  The first poll only records the
 * baseline.  A busy segment is simply retried at the next tick.
 * O(providers + models + new alerts).
 */
static void
poll_cb(evutil_socket_t fd, short what, void *arg)
{
	struct vigil_client *vc = &ev.ctx->vc;
	uint64_t wall;
	size_t n, i;
	unsigned k;
	uint8_t st, usable;
	int same;

	(void)fd;
	(void)what;
	(void)arg;
	if (vigil_snapshot_all(vc, ev.snap, vigil_capacity(vc), &n) !=
	    VIGIL_OK)
		return;
	ev.snap_at_ns = vigil_now_mono_ns();
	wall = now_wall_ns();
	for (i = 0; i < n; i++)
		api_clean_provider(&ev.snap[i]);
	if (api_models_read(vc, ev.snap, n, &ev.models) != VIGIL_OK)
		return;
	ev.overall = vigil_status_name(vigil_overall_status(vc, ev.snap, n,
	    ev.snap_at_ns));
	for (i = 0; i < n; i++) {
		struct vigil_provider *p = &ev.snap[i];
		struct prev_state *ps = &ev.prev[p->idx];
		struct api_pmodels pm = api_models_of(&ev.models, i);

		st = (uint8_t)vigil_effective_status(p);
		usable = (uint8_t)vigil_provider_usable(p, wall);
		same = ps->valid && strcmp(ps->name, p->info.name) == 0 &&
		    ev.primed;
		if (same) {
			if (ps->status != st)
				change_event(p, &pm, "status",
				    vigil_status_name(ps->status),
				    vigil_status_name(st), NULL);
			if (ps->circuit != p->stats.circuit)
				change_event(p, &pm, "circuit",
				    vigil_circuit_name(ps->circuit),
				    vigil_circuit_name(p->stats.circuit), NULL);
			if (ps->trend != p->stats.trend)
				change_event(p, &pm, "trend",
				    vigil_trend_name(ps->trend),
				    vigil_trend_name(p->stats.trend), NULL);
			diff_router(ps, p, &pm, usable);
			diff_ratelimit(ps, p, &pm);
		} else
			ps->spent = 0;
		diff_status_page(ps, p, same);
		/* A budget already spent when vigil-api starts (or a provider
		 * appears) is said once too: it holds until 00:00 UTC. */
		diff_budget(ps, p, &pm, wall);
		diff_models(p, &pm, !same);
		memcpy(ps->name, p->info.name, sizeof(ps->name));
		ps->status = st;
		ps->circuit = p->stats.circuit;
		ps->trend = p->stats.trend;
		ps->usable = usable;
		ps->reason = p->stats.reason;
		ps->needs_human = p->stats.needs_human != 0;
		ps->usable_at = p->stats.usable_at_wall_ns;
		ps->spent = (uint8_t)budget_spent(p, &pm, wall);
		for (k = 0; k < VIGIL_RL_COUNT; k++) {
			ps->rl_limit[k] = p->stats.ratelimit[k].limit;
			ps->rl_level[k] = (uint8_t)rl_level(
			    &p->stats.ratelimit[k]);
		}
		ps->valid = 1;
	}
	ev.primed = 1;

	while ((n = vigil_read_alerts(vc, &ev.alert_cur, ev.alerts,
	    vc->lay.alert_cap)) > 0) {
		for (i = 0; i < n; i++) {
			struct vigil_alert *al = &ev.alerts[i];
			cJSON *o = cJSON_CreateObject();
			char at[32];

			api_clean_alert(al);

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
			cJSON_AddBoolToObject(o, "needs_human",
			    al->level != VIGIL_AL_RESOLVED &&
			    vigil_alert_needs_human(al->kind));
			cJSON_AddStringToObject(o, "at", at);
			alert_incident(vc, o, al);
			emit("alert", o);
		}
	}
}

/*
 * An alert event's incident_id and members (api_alert_incident), judged
 * on the whole alert ring as it is now; only an alert of an incident
 * reads it (they are rare).
 */
static void
alert_incident(const struct vigil_client *vc, cJSON *o,
    const struct vigil_alert *al)
{
	struct vigil_cursor cur = { 0, 0 };
	struct vigil_alert *all;
	size_t n, i;

	if (al->incident_id == 0 || (all = calloc(vc->lay.alert_cap,
	    sizeof(*all))) == NULL) {
		api_alert_incident(o, al, NULL, 0);
		return;
	}
	n = vigil_read_alerts(vc, &cur, all, vc->lay.alert_cap);
	for (i = 0; i < n; i++)
		api_clean_alert(&all[i]);
	api_alert_incident(o, al, all, n);
	free(all);
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
		if (c->ws) {
			ws_ping(c);
			continue;
		}
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

/* One event to one client: the SSE text, or its JSON as a text frame. */
static void
client_event(struct client *c, const struct api_event *e)
{
	if (c->ws) {
		ws_text(c, e->text + e->data_off, e->data_len);
		return;
	}
	client_send(c, e->text, e->len);
}

/*
 * The connection went away (peer closed, write error or timeout, a drop,
 * or shutdown).  When evhttp orphaned the unfinished request (evcon NULL)
 * it is ours to free, which evhttp_send_reply_end does.  A WebSocket's
 * bufferevent has our callbacks, so evhttp never orphans its request: it
 * frees it with the connection.
 */
static void
client_closed(struct evhttp_connection *evcon, void *arg)
{
	struct client *c = arg;

	(void)evcon;
	TAILQ_REMOVE(&ev.clients, c, entry);
	if (c->ws) {
		ev.nws--;
		if (c->bev != NULL)
			bufferevent_disable(c->bev, EV_READ | EV_WRITE);
		wslay_event_context_free(c->wctx);
	} else {
		ev.nclients--;
		if (evhttp_request_get_connection(c->req) == NULL)
			evhttp_send_reply_end(c->req);
	}
	free(c);
}

/*
 * The id after which a client wants the events replayed: the
 * Last-Event-ID header (when hdr_ok) or ?last_event_id= (browsers cannot
 * set headers on EventSource or WebSocket).  Returns 1 with *last set, 0
 * when absent or not a number.
 */
static int
parse_last_id(struct evhttp_request *req, int hdr_ok, unsigned long long *last)
{
	const char *lei = NULL, *qs;
	struct api_query q;
	char *end;

	if (hdr_ok)
		lei = evhttp_find_header(evhttp_request_get_input_headers(req),
		    "Last-Event-ID");
	if (lei == NULL) {
		qs = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
		if (qs != NULL && api_query_parse(qs, &q, NULL, 0) == 0)
			lei = api_query_get(&q, "last_event_id");
	}
	if (lei == NULL || *lei < '0' || *lei > '9')
		return 0;
	*last = strtoull(lei, &end, 10);
	return *end == '\0';
}

/* A JSON error reply outside the router (503 at the cap, 426, 400). */
static void
reply_error(struct evhttp_request *req, int code, const char *reason,
    const char *errcode, const char *msg)
{
	struct evkeyvalq *hdrs = evhttp_request_get_output_headers(req);
	struct evbuffer *b = evbuffer_new();

	if (b == NULL) {
		evhttp_send_error(req, 503, NULL);
		return;
	}
	api_error_json(b, errcode, NULL, msg);
	evhttp_add_header(hdrs, "Content-Type", "application/json");
	evhttp_add_header(hdrs, "Cache-Control", "no-store");
	if (code == 503)
		evhttp_add_header(hdrs, "Retry-After", "5");
	evhttp_send_reply(req, code, reason, b);
	evbuffer_free(b);
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
	struct client *c;
	struct evbuffer *b;
	unsigned long long last = 0;
	uint64_t id, oldest;
	int have_last;

	(void)ctx;
	have_last = parse_last_id(req, 1, &last);
	if (ev.nclients >= API_CLIENTS_MAX) {
		reply_error(req, 503, "Service Unavailable", "too_many_clients",
		    "too many event-stream clients");
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
	/*
	 * A stream's client sends nothing after its request: the server's
	 * read timeout (API_TIMEOUT_S, 10 s) would close every idle stream
	 * before the first keep-alive.  No read timeout then; a write that
	 * makes no progress for two keep-alive periods still ends it.
	 */
	{
		struct timeval wto = { 2 * API_KEEPALIVE_S, 0 };

		bufferevent_set_timeouts(
		    evhttp_connection_get_bufferevent(c->evcon), NULL, &wto);
	}

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
 * GET /ws/health: the RFC 6455 opening handshake, then the events as
 * JSON text frames.  ?last_event_id=N replays what the client missed
 * (with a "gap" message when part of it has left the ring), as for SSE.
 * A request that is not a version 13 upgrade gets 426 or 400; past
 * API_WS_CLIENTS_MAX clients, 503.
 */
void
api_events_ws(struct api_ctx *ctx, struct evhttp_request *req)
{
	static const struct wslay_event_callbacks cbs = {
		ws_recv_cb, ws_send_cb, NULL, NULL, NULL, NULL, ws_msg_cb
	};
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	struct evkeyvalq *hdrs = evhttp_request_get_output_headers(req);
	struct timeval rto = { API_WS_IDLE_S, 0 }, wto = { API_WS_WRITE_S, 0 };
	const char *key, *ver;
	char accept[64], gap[128];
	struct client *c;
	unsigned long long last = 0;
	uint64_t id, oldest;
	int have_last;

	(void)ctx;
	have_last = parse_last_id(req, 0, &last);
	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET ||
	    !ws_header_has(req, "Upgrade", "websocket") ||
	    !ws_header_has(req, "Connection", "upgrade")) {
		evhttp_add_header(hdrs, "Upgrade", "websocket");
		evhttp_add_header(hdrs, "Connection", "Upgrade");
		evhttp_add_header(hdrs, "Sec-WebSocket-Version", "13");
		reply_error(req, 426, "Upgrade Required", "upgrade_required",
		    "/ws/health is a WebSocket: send a GET with Upgrade: "
		    "websocket (or use /health/integration/events)");
		return;
	}
	if ((ver = evhttp_find_header(in, "Sec-WebSocket-Version")) == NULL ||
	    strcmp(ver, "13") != 0) {
		evhttp_add_header(hdrs, "Sec-WebSocket-Version", "13");
		reply_error(req, 426, "Upgrade Required", "bad_version",
		    "Sec-WebSocket-Version must be 13");
		return;
	}
	if ((key = evhttp_find_header(in, "Sec-WebSocket-Key")) == NULL ||
	    ws_accept_key(key, accept, sizeof(accept)) == -1) {
		reply_error(req, 400, "Bad Request", "bad_request",
		    "missing or malformed Sec-WebSocket-Key");
		return;
	}
	if (ev.nws >= API_WS_CLIENTS_MAX) {
		reply_error(req, 503, "Service Unavailable", "too_many_clients",
		    "too many WebSocket clients");
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    wslay_event_context_server_init(&c->wctx, &cbs, c) != 0) {
		free(c);
		evhttp_send_error(req, 503, NULL);
		return;
	}
	wslay_event_config_set_max_recv_msg_length(c->wctx, API_WS_MSG_MAX);
	c->ws = 1;
	c->req = req;
	c->evcon = evhttp_request_get_connection(req);
	c->bev = evhttp_connection_get_bufferevent(c->evcon);
	TAILQ_INSERT_TAIL(&ev.clients, c, entry);
	ev.nws++;
	evhttp_connection_set_closecb(c->evcon, client_closed, c);

	/* 1xx: evhttp sends no body framing (no chunking, no length). */
	evhttp_add_header(hdrs, "Upgrade", "websocket");
	evhttp_add_header(hdrs, "Connection", "Upgrade");
	evhttp_add_header(hdrs, "Sec-WebSocket-Accept", accept);
	evhttp_send_reply_start(req, 101, "Switching Protocols");

	/* Take the connection over from evhttp. */
	bufferevent_setcb(c->bev, ws_read_cb, ws_write_cb, ws_event_cb, c);
	bufferevent_set_timeouts(c->bev, &rto, &wto);
	bufferevent_setwatermark(c->bev, EV_READ, 0, API_WS_MSG_MAX * 2);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);

	if (have_last && last + 1 < ev.next_id) {
		oldest = ev.next_id > API_EVENT_RING ? ev.next_id -
		    API_EVENT_RING : 1;
		if (last + 1 < oldest) {
			snprintf(gap, sizeof(gap), "{\"type\":\"gap\","
			    "\"missed_from\":%llu,\"oldest\":%llu}", last + 1,
			    (unsigned long long)oldest);
			ws_queue(c, gap, strlen(gap));
			last = oldest - 1;
		}
		for (id = last + 1; id < ev.next_id; id++) {
			const struct api_event *e =
			    &ev.ring[id & (API_EVENT_RING - 1)];
			if (e->id == id)
				ws_queue(c, e->text + e->data_off, e->data_len);
		}
	}
	/*
	 * Send the replay and read what the client may already have sent,
	 * from the loop, once evhttp is out of this callback (a drop here
	 * would free the connection under it).
	 */
	bufferevent_trigger(c->bev, EV_READ, BEV_TRIG_IGNORE_WATERMARKS |
	    BEV_TRIG_DEFER_CALLBACKS);
}

/* Queue a text frame without sending (the replay: at most the ring). */
static void
ws_queue(struct client *c, const char *text, size_t len)
{
	struct wslay_event_msg m = { WSLAY_TEXT_FRAME, (const uint8_t *)text,
	    len };

	(void)wslay_event_queue_msg(c->wctx, &m);
}

/*
 * Sec-WebSocket-Accept = base64(SHA-1(key GUID)).  The key must be the
 * base64 of 16 bytes (24 characters ending in "==").  Returns 0 or -1.
 */
static int
ws_accept_key(const char *key, char *out, size_t outlen)
{
	unsigned char buf[24 + sizeof(API_WS_GUID)], md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	size_t i;

	if (strlen(key) != 24 || key[22] != '=' || key[23] != '=' ||
	    outlen < 29)
		return -1;
	for (i = 0; i < 22; i++)
		if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789+/", key[i]) == NULL)
			return -1;
	memcpy(buf, key, 24);
	memcpy(buf + 24, API_WS_GUID, sizeof(API_WS_GUID) - 1);
	if (EVP_Digest(buf, 24 + sizeof(API_WS_GUID) - 1, md, &mdlen,
	    EVP_sha1(), NULL) != 1 || mdlen != 20)
		return -1;
	EVP_EncodeBlock((unsigned char *)out, md, 20);
	return 0;
}

/* Does header name hold token (comma-separated, case-insensitive)? */
static int
ws_header_has(struct evhttp_request *req, const char *name, const char *token)
{
	const char *v = evhttp_find_header(evhttp_request_get_input_headers(
	    req), name);
	size_t tl = strlen(token), n;

	while (v != NULL && *v != '\0') {
		v += strspn(v, " \t,");
		n = strcspn(v, ",");
		while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
			n--;
		if (n == tl && strncasecmp(v, token, tl) == 0)
			return 1;
		v += strcspn(v, ",");
	}
	return 0;
}

/*
 * Queue one text frame.  A client whose output already holds
 * API_CLIENT_MAX bytes is dropped instead (never block, never grow).
 * May free c.
 */
static void
ws_text(struct client *c, const char *text, size_t len)
{
	struct wslay_event_msg m = { WSLAY_TEXT_FRAME, (const uint8_t *)text,
	    len };

	if (evbuffer_get_length(bufferevent_get_output(c->bev)) >
	    API_CLIENT_MAX) {
		log_info("dropping a slow WebSocket client (%zu bytes queued)",
		    evbuffer_get_length(bufferevent_get_output(c->bev)));
		ws_drop(c);
		return;
	}
	if (c->closing || wslay_event_queue_msg(c->wctx, &m) != 0)
		return;
	ws_flush(c);
}

/* The keep-alive: a ping; a client that answers nothing for
 * API_WS_IDLE_S seconds hits the read timeout.  May free c. */
static void
ws_ping(struct client *c)
{
	struct wslay_event_msg m = { WSLAY_PING, (const uint8_t *)"vigil",
	    5 };

	if (evbuffer_get_length(bufferevent_get_output(c->bev)) >
	    API_CLIENT_MAX) {
		ws_drop(c);
		return;
	}
	if (c->closing || wslay_event_queue_msg(c->wctx, &m) != 0)
		return;
	ws_flush(c);
}

/*
 * Move wslay's queue into the output buffer.  When the closing
 * handshake is done (or wslay gave up), free the connection once the
 * output is written (ws_write_cb).  May free c.
 */
static void
ws_flush(struct client *c)
{
	if (wslay_event_send(c->wctx) != 0) {
		ws_drop(c);
		return;
	}
	if (wslay_event_get_close_sent(c->wctx) ||
	    (!wslay_event_want_read(c->wctx) &&
	    !wslay_event_want_write(c->wctx))) {
		c->closing = 1;
		bufferevent_disable(c->bev, EV_READ);
		if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
			ws_drop(c);
	}
}

/* Close now: evhttp frees the socket and calls client_closed. */
static void
ws_drop(struct client *c)
{
	evhttp_connection_free(c->evcon);
}

static void
ws_read_cb(struct bufferevent *bev, void *arg)
{
	struct client *c = arg;

	(void)bev;
	if (c->closing)
		return;
	if (wslay_event_recv(c->wctx) != 0) {
		ws_drop(c);
		return;
	}
	ws_flush(c);
}

/* The output buffer drained: finish a close. */
static void
ws_write_cb(struct bufferevent *bev, void *arg)
{
	struct client *c = arg;

	(void)bev;
	if (c->closing)
		ws_drop(c);
}

/* EOF, error or timeout (no pong, or a write that never completes). */
static void
ws_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		ws_drop(arg);
}

static ssize_t
ws_recv_cb(wslay_event_context_ptr wctx, uint8_t *buf, size_t len,
    int flags, void *arg)
{
	struct client *c = arg;
	int n;

	(void)flags;
	n = evbuffer_remove(bufferevent_get_input(c->bev), buf, len);
	if (n <= 0) {
		wslay_event_set_error(wctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	return n;
}

static ssize_t
ws_send_cb(wslay_event_context_ptr wctx, const uint8_t *data, size_t len,
    int flags, void *arg)
{
	struct client *c = arg;

	(void)flags;
	if (evbuffer_add(bufferevent_get_output(c->bev), data, len) != 0) {
		wslay_event_set_error(wctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return (ssize_t)len;
}

/*
 * A whole message from the client.  wslay answers pings and closes by
 * itself; the stream is one-way, so text and binary are ignored.
 */
static void
ws_msg_cb(wslay_event_context_ptr wctx,
    const struct wslay_event_on_msg_recv_arg *m, void *arg)
{
	(void)wctx;
	(void)arg;
	if (m->opcode == WSLAY_CONNECTION_CLOSE)
		log_debug("WebSocket client closed (%u)",
		    (unsigned)m->status_code);
}
