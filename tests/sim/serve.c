/*
 * serve.c - answering provider requests through the faults, and the
 * control endpoint /_sim.
 *
 * Nothing here blocks the loop.  A request that is not answered at once
 * (latency, hang, drip, truncation, reset) becomes a struct pend: a
 * timer drives it, and the connection's close callback frees it when the
 * client gives up first, so a held request never outlives its client.
 * When the client leaves (EOF, error, evhttp's timeout) before the reply
 * is complete, evhttp (2.1) detaches the request from the connection and
 * leaves it to us: the close callback frees it.  When the connection is
 * freed with the request still on it (evhttp_free at exit) evhttp frees
 * it.  Either way a pend never touches req after its close callback.
 * evhttp stops reading while the user holds a request, so it would not
 * see a client leave a hang: a pend watches the socket itself
 * (pend_watch) and frees the connection on EOF.
 */
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#include "errors.h"
#include "log.h"
#include "sim.h"

#define DRIP_TICK_MS	100

enum pend_act { ACT_REPLY, ACT_RESET, ACT_HANG };
enum pend_state { ST_WAIT, ST_DRIP, ST_CLOSE, ST_STREAM };

struct pend {
	struct sim			*sim;
	struct sim_provider		*p;
	struct evhttp_request		*req;
	struct evhttp_connection	*evcon;
	struct event			*ev;
	struct event			*watch;		/* client EOF */
	enum pend_act			 act;
	enum pend_state			 state;
	struct sim_reply		 r;
	struct sim_rl_ans		 rla;		/* rate-limit headers */
	int				 truncated;
	long				 drip;		/* bytes per second */
	size_t				 limit;		/* bytes to send */
	size_t				 sent;
	int				 seg;		/* stream: next piece */
	int				 seg_limit;	/* pieces to send */
	uint64_t			 t0_ms;		/* headers went out */
	LIST_ENTRY(pend)		 entry;
};

static LIST_HEAD(, pend) pends = LIST_HEAD_INITIALIZER(pends);

static void	set_nodelay(struct evhttp_request *);
static void	pend_free(struct pend *);
static void	pend_closed(struct evhttp_connection *, void *);
static void	pend_timer(evutil_socket_t, short, void *);
static void	pend_watch(evutil_socket_t, short, void *);
static void	pend_run(struct pend *);
static void	pend_reset(struct pend *);
static void	pend_start(struct pend *);
static void	pend_drip(struct pend *);
static void	pend_stream(struct pend *);
static void	pend_flushed(struct evhttp_connection *, void *);
static void	pend_arm(struct pend *, long);
static int	build_reply(struct sim *, struct sim_provider *,
		    struct evhttp_request *, const char *, struct sim_reply *,
		    struct sim_rl_ans *);
static const char *reason(int);
static cJSON	*provider_json(const struct sim_provider *, int);
static cJSON	*sim_json(const struct sim *);
static cJSON	*modes_json(void);
static void	 counters_reset(struct sim_provider *);

static const char *
reason(int st)
{
	switch (st) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Status";
	}
}

/* Nagle plus delayed ACK would stall small answers by ~40 ms. */
static void
set_nodelay(struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev;
	int one = 1;

	if (evcon == NULL ||
	    (bev = evhttp_connection_get_bufferevent(evcon)) == NULL)
		return;
	(void)setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY,
	    &one, sizeof(one));
}

/* Send cJSON object o (consumed) with status st. */
void
sim_send_json(struct evhttp_request *req, int st, cJSON *o)
{
	struct evbuffer *b = evbuffer_new();
	char *s = o != NULL ? cJSON_PrintUnformatted(o) : NULL;

	cJSON_Delete(o);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json");
	if (b == NULL || s == NULL) {
		free(s);
		if (b != NULL)
			evbuffer_free(b);
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	evbuffer_add(b, s, strlen(s));
	evbuffer_add(b, "\n", 1);
	free(s);
	evhttp_send_reply(req, st, reason(st), b);
	evbuffer_free(b);
}

/* {"error": msg} with status st. */
void
sim_send_error(struct evhttp_request *req, int st, const char *msg)
{
	cJSON *o = cJSON_CreateObject();

	if (o != NULL)
		cJSON_AddStringToObject(o, "error", msg);
	sim_send_json(req, st, o);
}

/* Unlink, stop and free a pend; the caller has dealt with the request. */
static void
pend_free(struct pend *pd)
{
	LIST_REMOVE(pd, entry);
	if (pd->ev != NULL)
		event_free(pd->ev);
	if (pd->watch != NULL)
		event_free(pd->watch);
	if (pd->p->ctr.held > 0)
		pd->p->ctr.held--;
	sim_reply_free(&pd->r);
	free(pd);
}

/* The client went away (or evhttp dropped the connection): forget it. */
static void
pend_closed(struct evhttp_connection *evcon, void *arg)
{
	struct pend *pd = arg;

	(void)evcon;
	pd->p->ctr.client_closed++;
	if (evhttp_request_get_connection(pd->req) == NULL)
		evhttp_request_free(pd->req);	/* detached: ours */
	pend_free(pd);
}

/*
 * The held connection's socket is readable: EOF or an error means the
 * client is gone, so free the connection (pend_closed frees the pend and
 * evhttp the request).  Data (a pipelined request) is evhttp's to read
 * later: stop watching.
 */
static void
pend_watch(evutil_socket_t fd, short what, void *arg)
{
	struct pend *pd = arg;
	char c;
	ssize_t n;

	(void)what;
	n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n > 0 || (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))) {
		if (n > 0)
			event_del(pd->watch);
		return;
	}
	evhttp_connection_free(pd->evcon);	/* runs pend_closed */
}

static void
pend_arm(struct pend *pd, long ms)
{
	struct timeval tv;

	if (ms < 0)
		ms = 0;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(pd->ev, &tv);
}

static void
pend_timer(evutil_socket_t fd, short what, void *arg)
{
	struct pend *pd = arg;

	(void)fd;
	(void)what;
	switch (pd->state) {
	case ST_WAIT:
		pend_run(pd);
		break;
	case ST_DRIP:
		pend_drip(pd);
		break;
	case ST_STREAM:
		pend_stream(pd);
		break;
	case ST_CLOSE:
		/* The truncated body is out: close without the rest. */
		pd->p->ctr.truncated++;
		evhttp_connection_set_closecb(pd->evcon, NULL, NULL);
		evhttp_connection_free(pd->evcon);
		pend_free(pd);
		break;
	}
}

/* The delay is over (or there was none): do what the faults say. */
static void
pend_run(struct pend *pd)
{
	switch (pd->act) {
	case ACT_RESET:
		pend_reset(pd);
		break;
	case ACT_HANG:
		/* Held until the client closes (pend_closed) or we exit. */
		pd->p->ctr.hangs++;
		break;
	case ACT_REPLY:
		pend_start(pd);
		break;
	}
}

/*
 * Drop the connection with a TCP RST and no answer.  SO_LINGER 0 makes
 * the close abortive; on Linux connect(AF_UNSPEC) sends the RST at once,
 * before evhttp's shutdown() could send a FIN.  evhttp then frees the
 * connection and the request with it.
 */
static void
pend_reset(struct pend *pd)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(pd->evcon);
	struct linger lg = { 1, 0 };
	struct sockaddr sa;
	int fd;

	pd->p->ctr.resets++;
	if (bev != NULL && (fd = bufferevent_getfd(bev)) != -1) {
		(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		memset(&sa, 0, sizeof(sa));
		sa.sa_family = AF_UNSPEC;
		(void)connect(fd, &sa, sizeof(sa));
	}
	evhttp_connection_set_closecb(pd->evcon, NULL, NULL);
	evhttp_connection_free(pd->evcon);
	pend_free(pd);
}

/*
 * Send the status line and headers, then the body: all at once, or
 * dripped, or cut short (truncated: Content-Length says the whole body,
 * half of it is sent, then the connection is closed).
 */
static void
pend_start(struct pend *pd)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(pd->req);
	struct evbuffer *b;
	char num[32];
	int i;

	evhttp_add_header(h, "Content-Type", pd->r.ctype);
	sim_rl_headers(h, pd->p->kind, &pd->rla, pd->r.retry_after,
	    pd->p->faults.retry_after_form, sim_rl_now_ms(CLOCK_REALTIME));
	/* An error mode's own headers; its rate-limit ones give way to
	 * the rate limit's while that is on (one of each name). */
	for (i = 0; i < pd->r.nhdrs; i++)
		if (!pd->rla.on || !sim_rl_header(pd->r.hdrs[i].name))
			evhttp_add_header(h, pd->r.hdrs[i].name,
			    pd->r.hdrs[i].value);
	sim_counters_status(&pd->p->ctr, pd->r.status);
	if (pd->r.nsegs > 0) {
		/* A stream: headers now, each piece at its time; truncated
		 * cuts it after half of them. */
		pd->seg = 0;
		pd->seg_limit = pd->truncated ? (pd->r.nsegs + 1) / 2 :
		    pd->r.nsegs;
		pd->t0_ms = sim_rl_now_ms(CLOCK_MONOTONIC);
		pd->state = ST_STREAM;
		evhttp_send_reply_start(pd->req, pd->r.status,
		    reason(pd->r.status));
		pend_stream(pd);
		return;
	}
	if (!pd->truncated && pd->drip == 0) {
		evhttp_connection_set_closecb(pd->evcon, NULL, NULL);
		if ((b = evbuffer_new()) != NULL) {
			evbuffer_add(b, pd->r.body, pd->r.len);
			evhttp_send_reply(pd->req, pd->r.status,
			    reason(pd->r.status), b);
			evbuffer_free(b);
		} else
			evhttp_send_error(pd->req, 500, "out of memory");
		pend_free(pd);
		return;
	}
	/* A Content-Length keeps evhttp from chunking the body. */
	snprintf(num, sizeof(num), "%zu", pd->truncated ?
	    (pd->r.len > 0 ? pd->r.len : 16) : pd->r.len);
	evhttp_add_header(h, "Content-Length", num);
	pd->limit = pd->truncated ? pd->r.len / 2 : pd->r.len;
	pd->sent = 0;
	pd->state = ST_DRIP;
	evhttp_send_reply_start(pd->req, pd->r.status, reason(pd->r.status));
	pend_drip(pd);
}

/*
 * Send the next piece of the body: DRIP_TICK_MS worth of drip (at least
 * one byte, spaced out for rates under 10 B/s), or everything when not
 * dripping.  After the last piece: end the reply, or for a truncated one
 * wait until it is written out, then close.
 */
static void
pend_drip(struct pend *pd)
{
	struct evbuffer *b;
	size_t n = pd->limit - pd->sent;
	long wait = DRIP_TICK_MS;

	if (pd->drip > 0) {
		if (pd->drip >= 1000 / DRIP_TICK_MS)
			n = (size_t)pd->drip / (1000 / DRIP_TICK_MS);
		else {
			n = 1;
			wait = 1000 / pd->drip;
		}
		if (n > pd->limit - pd->sent)
			n = pd->limit - pd->sent;
	}
	if (n > 0 && (b = evbuffer_new()) != NULL) {
		evbuffer_add(b, pd->r.body + pd->sent, n);
		pd->sent += n;
		if (pd->sent == pd->limit && pd->truncated)
			evhttp_send_reply_chunk_with_cb(pd->req, b,
			    pend_flushed, pd);
		else
			evhttp_send_reply_chunk(pd->req, b);
		evbuffer_free(b);
		if (pd->sent == pd->limit && pd->truncated)
			return;		/* pend_flushed goes on */
	}
	if (pd->sent < pd->limit) {
		pend_arm(pd, wait);
		return;
	}
	if (pd->truncated) {
		pd->state = ST_CLOSE;
		pend_arm(pd, 0);
		return;
	}
	evhttp_connection_set_closecb(pd->evcon, NULL, NULL);
	evhttp_send_reply_end(pd->req);
	pend_free(pd);
}

/*
 * Send the stream's pieces that are due, then wait for the next one; at
 * the end, end the reply (or, truncated, close once the last piece sent
 * is written out).
 */
static void
pend_stream(struct pend *pd)
{
	const struct sim_seg *sg;
	struct evbuffer *b;
	long now = (long)(sim_rl_now_ms(CLOCK_MONOTONIC) - pd->t0_ms);
	int last;

	if ((b = evbuffer_new()) == NULL) {
		pend_arm(pd, DRIP_TICK_MS);
		return;
	}
	while (pd->seg < pd->seg_limit && pd->r.segs[pd->seg].at_ms <= now) {
		sg = &pd->r.segs[pd->seg++];
		evbuffer_add(b, pd->r.body + sg->off, sg->len);
	}
	last = pd->seg == pd->seg_limit;
	if (evbuffer_get_length(b) > 0) {
		if (last && pd->truncated) {
			evhttp_send_reply_chunk_with_cb(pd->req, b,
			    pend_flushed, pd);
			evbuffer_free(b);
			return;		/* pend_flushed goes on */
		}
		evhttp_send_reply_chunk(pd->req, b);
	}
	evbuffer_free(b);
	if (!last) {
		pend_arm(pd, pd->r.segs[pd->seg].at_ms - now);
		return;
	}
	if (pd->truncated) {
		pd->state = ST_CLOSE;
		pend_arm(pd, 0);
		return;
	}
	evhttp_connection_set_closecb(pd->evcon, NULL, NULL);
	evhttp_send_reply_end(pd->req);
	pend_free(pd);
}

/* The truncated body is written; close from the loop, not from here. */
static void
pend_flushed(struct evhttp_connection *evcon, void *arg)
{
	struct pend *pd = arg;

	(void)evcon;
	pd->state = ST_CLOSE;
	pend_arm(pd, 0);
}

/*
 * The answer the faults call for, before timing: the rate limit's 429
 * (ratelimit.c; every answer spends from its window), an error mode's
 * documented answer (every request, or error_rate of them), a forced
 * status, an error drawn with error_rate, or the kind's own answer,
 * which garbage and wrong_shape replace; then padded to body_bytes.
 * Returns 0, or -1 when out of memory.
 */
static int
build_reply(struct sim *s, struct sim_provider *p, struct evhttp_request *req,
    const char *path, struct sim_reply *r, struct sim_rl_ans *rla)
{
	const struct sim_faults *f = &p->faults;
	char *nb;
	int rc;

	if (sim_rl_take(&p->rls, &f->ratelimit, sim_rl_now_ms(CLOCK_MONOTONIC),
	    rla)) {
		p->ctr.rate_limited++;
		rc = sim_kind_error(p->kind, 429, 0, r);
	} else if (f->error_mode != 0 && (f->error_rate == 0 ||
	    sim_rand01(&s->rng) < f->error_rate)) {
		p->ctr.injected++;
		rc = sim_err_reply(f->error_mode, f->retry_after, r);
	} else if (f->status != 0) {
		p->ctr.injected++;
		rc = sim_kind_error(p->kind, f->status, f->retry_after, r);
	} else if (f->error_mode == 0 && f->error_rate > 0 &&
	    sim_rand01(&s->rng) < f->error_rate) {
		p->ctr.injected++;
		rc = sim_kind_error(p->kind, f->error_status != 0 ?
		    f->error_status : 500, f->retry_after, r);
	} else if (f->garbage) {
		p->ctr.injected++;
		r->retry_after = 0;
		rc = sim_reply_set(r, 200, "text/html", "<html><body><h1>502 "
		    "Bad Gateway</h1>upstream sent an invalid response "
		    "(vigil-sim garbage)</body></html>\n");
	} else if (f->wrong_shape) {
		p->ctr.injected++;
		r->retry_after = 0;
		rc = sim_reply_set(r, 200, "application/json",
		    "[{\"unexpected\":\"shape\",\"object\":\"vigil-sim\"}]");
	} else
		rc = sim_kind_answer(p, req, path, r);
	if (rc == -1)
		return -1;
	if (f->body_bytes > 0 && (size_t)f->body_bytes > r->len) {
		/* Trailing whitespace keeps a JSON body valid. */
		if ((nb = realloc(r->body, (size_t)f->body_bytes)) == NULL)
			return -1;
		memset(nb + r->len, ' ', (size_t)f->body_bytes - r->len);
		if (f->body_bytes >= 1)
			nb[f->body_bytes - 1] = '\n';
		r->body = nb;
		r->len = (size_t)f->body_bytes;
	}
	return 0;
}

/*
 * A request for provider p; path is below its prefix.  Counted, then
 * answered through the faults: reset/down, hang, or a reply, after the
 * drawn latency.
 */
void
sim_serve(struct sim *s, struct sim_provider *p, struct evhttp_request *req,
    const char *path)
{
	const struct sim_faults *f = &p->faults;
	struct bufferevent *bev;
	struct pend *pd;
	long delay;
	int fd;

	p->ctr.requests++;
	set_nodelay(req);
	if ((pd = calloc(1, sizeof(*pd))) == NULL) {
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	pd->sim = s;
	pd->p = p;
	pd->req = req;
	pd->evcon = evhttp_request_get_connection(req);
	pd->state = ST_WAIT;
	LIST_INSERT_HEAD(&pends, pd, entry);
	p->ctr.held++;
	if (f->down || f->reset)
		pd->act = ACT_RESET;
	else if (f->hang)
		pd->act = ACT_HANG;
	else {
		pd->act = ACT_REPLY;
		pd->truncated = f->truncated;
		pd->drip = f->drip_bytes_per_s;
		if (build_reply(s, p, req, path, &pd->r, &pd->rla) == -1) {
			pend_free(pd);
			evhttp_send_error(req, 500, "out of memory");
			return;
		}
	}
	delay = sim_faults_delay(f, &s->rng);
	if (pd->act == ACT_REPLY && delay == 0 && !pd->truncated &&
	    pd->drip == 0 && pd->r.nsegs == 0) {
		pend_start(pd);
		return;
	}
	if ((pd->ev = evtimer_new(s->base, pend_timer, pd)) == NULL) {
		pend_free(pd);
		evhttp_send_error(req, 500, "out of memory");
		return;
	}
	evhttp_connection_set_closecb(pd->evcon, pend_closed, pd);
	bev = evhttp_connection_get_bufferevent(pd->evcon);
	if (bev != NULL && (fd = bufferevent_getfd(bev)) != -1 &&
	    (pd->watch = event_new(s->base, fd, EV_READ | EV_PERSIST,
	    pend_watch, pd)) != NULL)
		event_add(pd->watch, NULL);
	if (pd->act == ACT_HANG && delay == 0)
		pend_run(pd);
	else
		pend_arm(pd, delay);	/* reset: from the loop, even at 0 */
}

/* ---- control endpoint ---------------------------------------------------- */

static cJSON *
provider_json(const struct sim_provider *p, int full)
{
	cJSON *o = cJSON_CreateObject(), *rl;
	char base[SIM_NAME_MAX + 2];

	if (o == NULL)
		return NULL;
	snprintf(base, sizeof(base), "/%s", p->name);
	cJSON_AddStringToObject(o, "name", p->name);
	cJSON_AddStringToObject(o, "kind", sim_kind_name(p->kind));
	cJSON_AddStringToObject(o, "path", base);
	if (p->port >= 0) {
		cJSON_AddNumberToObject(o, "port", p->port);
		cJSON_AddBoolToObject(o, "listening", p->bound != NULL);
		/* Its own listener's; the main port's are in GET /_sim. */
		cJSON_AddNumberToObject(o, "connections",
		    (double)p->own.connections);
		cJSON_AddNumberToObject(o, "tls_handshakes",
		    (double)p->own.tls_handshakes);
	}
	cJSON_AddBoolToObject(o, "key_set", p->key[0] != '\0');
	if (!full) {
		cJSON_AddNumberToObject(o, "requests", (double)p->ctr.requests);
		return o;
	}
	cJSON_AddItemToObject(o, "faults", sim_faults_json(&p->faults));
	cJSON_AddItemToObject(o, "counters", sim_counters_json(&p->ctr));
	if ((rl = sim_rl_state_json(&p->rls, &p->faults.ratelimit,
	    sim_rl_now_ms(CLOCK_MONOTONIC))) != NULL)
		cJSON_AddItemToObject(o, "ratelimit", rl);
	return o;
}

/* GET /_sim: the listeners' counters and every provider, in short. */
static cJSON *
sim_json(const struct sim *s)
{
	cJSON *o, *arr, *m;
	uint64_t conns, hs;
	size_t i;

	if ((o = cJSON_CreateObject()) == NULL)
		return NULL;
	sim_listen_totals(s, &conns, &hs);
	cJSON_AddBoolToObject(o, "tls", s->tls != NULL);
	cJSON_AddNumberToObject(o, "connections", (double)conns);
	cJSON_AddNumberToObject(o, "tls_handshakes", (double)hs);
	if ((m = cJSON_AddObjectToObject(o, "main")) != NULL) {
		cJSON_AddNumberToObject(m, "connections",
		    (double)s->lmain.connections);
		cJSON_AddNumberToObject(m, "tls_handshakes",
		    (double)s->lmain.tls_handshakes);
	}
	cJSON_AddNumberToObject(o, "count", (double)s->nprov);
	if ((arr = cJSON_AddArrayToObject(o, "providers")) == NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	for (i = 0; i < s->nprov; i++)
		cJSON_AddItemToArray(arr, provider_json(s->prov[i], 0));
	return o;
}

/*
 * GET /_sim/_modes: every error mode with its answer and what vigil
 * must make of it (tests/sim/errors.c).  Header values are the
 * templates ("@retry": errors.h).
 */
static cJSON *
modes_json(void)
{
	const struct sim_err_row *row;
	cJSON *arr, *o, *h;
	size_t i;
	int k;

	if ((arr = cJSON_CreateArray()) == NULL)
		return NULL;
	for (i = 0; i < sim_err_nrows; i++) {
		row = &sim_err_rows[i];
		if ((o = cJSON_CreateObject()) == NULL)
			break;
		cJSON_AddStringToObject(o, "mode", row->mode);
		cJSON_AddStringToObject(o, "kind", sim_kind_name(row->kind));
		cJSON_AddNumberToObject(o, "status", row->status);
		cJSON_AddNumberToObject(o, "retry_after", row->retry_after);
		if ((h = cJSON_AddObjectToObject(o, "headers")) != NULL)
			for (k = 0; k < SIM_ERR_HDRS &&
			    row->hdr[k].name != NULL; k++)
				cJSON_AddStringToObject(h, row->hdr[k].name,
				    row->hdr[k].value);
		cJSON_AddStringToObject(o, "body", row->body);
		cJSON_AddStringToObject(o, "outcome", row->outcome);
		cJSON_AddStringToObject(o, "error", row->error);
		cJSON_AddStringToObject(o, "source", row->source);
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

/* Zero a provider's counters but held, which is still true. */
static void
counters_reset(struct sim_provider *p)
{
	uint64_t held = p->ctr.held;

	memset(&p->ctr, 0, sizeof(p->ctr));
	p->ctr.held = held;
	p->own.connections = p->own.tls_handshakes = 0;
}

/*
 * /_sim[/NAME[/reset|/reset-counters]]: rest is the path after "/_sim".
 *   GET  /_sim			the listeners' connection and handshake
 *				counters, every provider with its request
 *				count
 *   POST /_sim/reset-counters	zero every counter
 *   GET  /_sim/NAME		kind, faults, counters
 *   POST /_sim/NAME		merge a JSON object of fault fields
 *				({"clear": true} clears first)
 *   DELETE /_sim/NAME		clear the faults
 *   POST /_sim/NAME/reset	clear the faults
 *   POST /_sim/NAME/reset-counters	zero the counters
 *   GET  /_sim/_modes		the error modes (no provider name starts
 *				with _)
 * Bad JSON or a bad field: 400; unknown provider: 404; wrong method 405.
 */
void
sim_control(struct sim *s, struct evhttp_request *req, const char *rest)
{
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	struct sim_provider *p;
	const char *name, *slash, *op;
	char err[4096];		/* room for the list of error modes */
	cJSON *o;
	size_t i, nlen;
	int get = cmd == EVHTTP_REQ_GET || cmd == EVHTTP_REQ_HEAD;
	int post = cmd == EVHTTP_REQ_POST;

	set_nodelay(req);
	if (rest[0] == '\0' || strcmp(rest, "/") == 0) {
		if (!get) {
			evhttp_add_header(evhttp_request_get_output_headers(
			    req), "Allow", "GET, HEAD");
			sim_send_error(req, 405, "method not allowed");
			return;
		}
		if ((o = sim_json(s)) == NULL) {
			sim_send_error(req, 500, "out of memory");
			return;
		}
		sim_send_json(req, 200, o);
		return;
	}
	if (strcmp(rest, "/reset-counters") == 0) {
		/* No provider has this name (table.c). */
		if (!post) {
			evhttp_add_header(evhttp_request_get_output_headers(
			    req), "Allow", "POST");
			sim_send_error(req, 405, "method not allowed");
			return;
		}
		sim_listen_reset(s);
		for (i = 0; i < s->nprov; i++)
			counters_reset(s->prov[i]);
		log_info("every counter reset");
		if ((o = sim_json(s)) == NULL) {
			sim_send_error(req, 500, "out of memory");
			return;
		}
		sim_send_json(req, 200, o);
		return;
	}
	if (rest[0] != '/') {
		sim_send_error(req, 404, "not found");
		return;
	}
	if (strcmp(rest, "/_modes") == 0) {
		if (!get) {
			evhttp_add_header(evhttp_request_get_output_headers(
			    req), "Allow", "GET, HEAD");
			sim_send_error(req, 405, "method not allowed");
			return;
		}
		if ((o = modes_json()) == NULL) {
			sim_send_error(req, 500, "out of memory");
			return;
		}
		sim_send_json(req, 200, o);
		return;
	}
	name = rest + 1;
	slash = strchr(name, '/');
	nlen = slash != NULL ? (size_t)(slash - name) : strlen(name);
	op = slash != NULL ? slash : "";
	if ((p = sim_find(s, name, nlen)) == NULL) {
		snprintf(err, sizeof(err), "unknown provider '%.*s'",
		    (int)(nlen > 64 ? 64 : nlen), name);
		sim_send_error(req, 404, err);
		return;
	}
	if (strcmp(op, "/reset") == 0 || strcmp(op, "/reset-counters") == 0) {
		if (!post) {
			evhttp_add_header(evhttp_request_get_output_headers(
			    req), "Allow", "POST");
			sim_send_error(req, 405, "method not allowed");
			return;
		}
		if (strcmp(op, "/reset") == 0) {
			sim_faults_clear(&p->faults);
			if (s->on_faults != NULL)
				s->on_faults(s, p);
		} else
			counters_reset(p);
		log_info("%s: %s", p->name, op + 1);
		sim_send_json(req, 200, provider_json(p, 1));
		return;
	}
	if (op[0] != '\0') {
		sim_send_error(req, 404, "not found");
		return;
	}
	if (get) {
		sim_send_json(req, 200, provider_json(p, 1));
		return;
	}
	if (cmd == EVHTTP_REQ_DELETE) {
		sim_faults_clear(&p->faults);
		if (s->on_faults != NULL)
			s->on_faults(s, p);
		log_info("%s: faults cleared", p->name);
		sim_send_json(req, 200, provider_json(p, 1));
		return;
	}
	if (!post) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET, HEAD, POST, DELETE");
		sim_send_error(req, 405, "method not allowed");
		return;
	}
	o = cJSON_ParseWithLength((const char *)evbuffer_pullup(in, -1),
	    evbuffer_get_length(in));
	if (o == NULL) {
		sim_send_error(req, 400, "body: expected a JSON object of "
		    "fault fields");
		return;
	}
	if (sim_faults_parse(o, &p->faults, err, sizeof(err)) == -1) {
		cJSON_Delete(o);
		sim_send_error(req, 400, err);
		return;
	}
	cJSON_Delete(o);
	if (s->on_faults != NULL)
		s->on_faults(s, p);
	log_info("%s: faults changed", p->name);
	sim_send_json(req, 200, provider_json(p, 1));
}

/* Free what is still held at exit, after the listeners are gone. */
void
sim_serve_shutdown(void)
{
	struct pend *pd;

	while ((pd = LIST_FIRST(&pends)) != NULL)
		pend_free(pd);
}
