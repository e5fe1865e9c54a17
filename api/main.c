/*
 * vigil-api - the read-only HTTP front of vigil (libevent evhttp).
 *
 * Two ways to start:
 *   child of vigild: fd 3 the segment (O_RDONLY), fd 4 the socketpair
 *	(first frame `configure`, our ok reply is readiness), fd 5 the
 *	listening socket.  Exits on EOF of fd 4 or SIGTERM.
 *   standalone (tests, debugging):
 *	vigil-api --shm NAME --listen ADDR:PORT [--port-file FILE]
 *	    [--no-prometheus] [-v]
 *	port 0 picks a free port, written to FILE once listening.
 *
 * Hardening against evhttp's unsafe defaults (DESIGN.md, "Pitfalls"):
 * header and body limits, a URI limit (414), a per-connection timeout,
 * TCP_NODELAY, accepting paused for a second on EMFILE/ENFILE, GET and
 * HEAD only.  The segment is mapped PROT_READ: this process cannot write
 * it.
 *
 * The views without parameters are rendered once per generation of the
 * segment and served from cache.c by reference, with a strong ETag
 * (If-None-Match: 304) and, for a client that accepts it, gzip made
 * once per body (route_cached, send_cached).
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "addr.h"
#include "api.h"
#include "cache.h"
#include "child.h"
#include "ctl.h"
#include "front.h"
#include "log.h"
#include "priv.h"
#include "refresh.h"
#include "ring.h"
#include "segment.h"

#define API_MAX_HEADERS		(12 * 1024)	/* request line + headers */
#define API_MAX_BODY		1024		/* bodies are refused anyway */
#define API_TIMEOUT_S		10
#define API_MAX_FDS		4096		/* the connection cap */
#define API_CONFIGURE_MS	10000

/* How this run was started (the command line), and what it learnt. */
struct api_opts {
	const char	*o_shm;		/* standalone: the segment's name */
	const char	*o_portfile;	/* standalone: write the port here */
	int		 o_child;	/* started by vigild (no --shm) */
	int		 o_port;	/* standalone: the bound port */
};

/* What serve_setup makes and serve_free frees. */
struct serve {
	struct evhttp	*sv_http;
	struct event	*sv_sigterm;
	struct event	*sv_sigint;
};

static struct api_ctx		 ctx;
static struct evbuffer		*outbuf;	/* reused by every response */
static struct evconnlistener	*listener;
static struct event		*resume_ev;
static struct event		*layout_ev;	/* the header check, 1 s */
static struct seg_watch		 layout_watch;
/* The views kept per generation (cache.h): those without parameters. */
static struct api_cached	 cache_integration, cache_metrics, cache_graph;
static struct api_names		 cache_providers;
static struct api_watch		 cache_watch;

static void	usage(void) __attribute__((noreturn));
static const struct route *route_find(const char *);
static void	route(struct evhttp_request *, void *);
static void	route_view(struct evhttp_request *, const struct route *,
		    const char *, const struct api_query *);
static void	route_cached(struct evhttp_request *, const struct route *,
		    const char *, const struct api_query *);
static void	render(const struct route *, const char *,
		    const struct api_query *, struct api_result *);
static void	send_cached(struct evhttp_request *, struct api_cached *);
static void	send_result(struct evhttp_request *, struct api_result *);
static void	cache_free(void);
static void	send_error(struct evhttp_request *, int, const char *,
		    const char *, const char *);
static void	accept_error_cb(struct evconnlistener *, void *);
static void	resume_cb(evutil_socket_t, short, void *);
static void	layout_cb(evutil_socket_t, short, void *);
static void	signal_cb(evutil_socket_t, short, void *);
static void	raise_nofile(void);
static void	opts_parse(int, char *[], struct api_settings *,
		    struct api_opts *);
static int	start_child(struct api_settings *, struct api_opts *);
static int	start_standalone(struct api_settings *, struct api_opts *);
static void	ctx_setup(const struct api_settings *);
static void	serve_setup(struct serve *, int);
static void	announce(const struct api_settings *,
		    const struct api_opts *);
static void	serve_free(struct serve *, int);
static void	set_nodelay(struct evhttp_request *);

static void
usage(void)
{
	fprintf(stderr, "usage: vigil-api --shm NAME --listen ADDR:PORT "
	    "[--port-file FILE] [--no-prometheus]\n"
	    "       [--vantage NAME] [-v]\n"
	    "       vigil-api (as a child of vigild: fds 3, 4, 5)\n");
	exit(2);
}

/* The JSON error of every failed request. */
static void
send_error(struct evhttp_request *req, int code, const char *errcode,
    const char *param, const char *msg)
{
	struct api_result r;

	memset(&r, 0, sizeof(r));
	evbuffer_drain(outbuf, evbuffer_get_length(outbuf));
	api_error_json(outbuf, errcode, param, msg);
	r.code = code;
	r.ctype = "application/json";
	send_result(req, &r);
}

static const char *
reason(int code)
{
	switch (code) {
	case 200:	return "OK";
	case 304:	return "Not Modified";
	case 400:	return "Bad Request";
	case 404:	return "Not Found";
	case 405:	return "Method Not Allowed";
	case 414:	return "URI Too Long";
	case 501:	return "Not Implemented";
	case 503:	return "Service Unavailable";
	default:	return "Error";
	}
}

/*
 * Send outbuf with r's status and headers.  HEAD gets the headers only,
 * with the Content-Length a GET would get: evhttp 2.1 would write the
 * body of a HEAD reply after headers without a length, and the client
 * would read it as the start of its next response.
 */
static void
send_result(struct evhttp_request *req, struct api_result *r)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	char len[24];

	evhttp_add_header(h, "Content-Type", r->ctype);
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	if (r->disposition != NULL)
		evhttp_add_header(h, "Content-Disposition", r->disposition);
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		snprintf(len, sizeof(len), "%zu", evbuffer_get_length(outbuf));
		evhttp_add_header(h, "Content-Length", len);
		evbuffer_drain(outbuf, evbuffer_get_length(outbuf));
	}
	evhttp_send_reply(req, r->code, reason(r->code), outbuf);
	evbuffer_drain(outbuf, evbuffer_get_length(outbuf));
}

/*
 * Send c's body: gzip when the client accepts it and the body has a gzip
 * form, 304 with no body when If-None-Match names the chosen form's
 * ETag, the headers alone for HEAD; else the body by reference (no copy:
 * it stays c's until the kernel has it).  Vary tells caches that the
 * answer depends on Accept-Encoding, whatever this one chose.
 */
static void
send_cached(struct evhttp_request *req, struct api_cached *c)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct api_body *b = c->c_plain, *gz = NULL;
	const char *etag = c->c_etag;
	char len[24];

	if (api_accepts_gzip(evhttp_find_header(in, "Accept-Encoding")) &&
	    (gz = api_cached_gzip(c)) != NULL) {
		b = gz;
		etag = c->c_etag_gz;
	}
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "ETag", etag);
	evhttp_add_header(h, "Vary", "Accept-Encoding");
	if (api_etag_match(evhttp_find_header(in, "If-None-Match"), etag)) {
		evhttp_send_reply(req, 304, reason(304), NULL);
		return;
	}
	evhttp_add_header(h, "Content-Type", c->c_ctype);
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	if (gz != NULL)
		evhttp_add_header(h, "Content-Encoding", "gzip");
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		snprintf(len, sizeof(len), "%zu", b->b_len);
		evhttp_add_header(h, "Content-Length", len);
		evhttp_send_reply(req, 200, reason(200), NULL);
		return;
	}
	evbuffer_drain(outbuf, evbuffer_get_length(outbuf));
	if (api_body_add(outbuf, b) == -1) {
		evhttp_clear_headers(h);
		send_error(req, 503, "out_of_memory", NULL, "the response did "
		    "not fit in memory");
		return;
	}
	evhttp_send_reply(req, 200, reason(200), outbuf);
	evbuffer_drain(outbuf, evbuffer_get_length(outbuf));
}

/*
 * Nagle plus delayed ACK stalls a kept-alive scrape by ~40 ms.  Linux
 * copies TCP_NODELAY from the listening socket (serve_setup), so only
 * other systems pay a system call per request to assert it.
 */
static void
set_nodelay(struct evhttp_request *req)
{
#ifdef __linux__
	(void)req;
#else
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev;
	int one = 1;

	if (evcon == NULL ||
	    (bev = evhttp_connection_get_bufferevent(evcon)) == NULL)
		return;
	(void)setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY,
	    &one, sizeof(one));
#endif
}

/*
 * The routes and the parameters each one knows: the one place where a
 * request's parameters are checked, before any view runs, so that no
 * route (those without parameters included) can answer 200 to a typo
 * or pick one of two values of the same parameter.  A view reads only
 * what its row admits.  The provider route matches by prefix.
 */
enum route_id {
	RT_HEALTH, RT_INTEGRATION, RT_PROVIDER, RT_GRAPH, RT_HISTORY,
	RT_ALERTS, RT_METRICS, RT_EVENTS, RT_WS, RT_DASHBOARD
};

static const char *const p_none[] = { NULL };
static const char *const p_provider[] = { "samples", NULL };
static const char *const p_graph[] = { "format", NULL };
static const char *const p_history[] = { "provider", "from", "to", "step",
    "format", NULL };
static const char *const p_alerts[] = { "since", "provider", "level",
    "limit", NULL };
static const char *const p_events[] = { "last_event_id", NULL };

static const struct route {
	const char		*rt_path;
	int			 rt_prefix;	/* rt_path is a prefix */
	enum route_id		 rt_id;
	const char *const	*rt_params;	/* NULL-terminated */
} routes[] = {
	{ "/health",				0, RT_HEALTH,	p_none },
	{ "/health/integration",		0, RT_INTEGRATION, p_none },
	{ "/health/integration/providers/",	1, RT_PROVIDER,	p_provider },
	{ "/health/integration/graph",		0, RT_GRAPH,	p_graph },
	{ "/health/integration/history",	0, RT_HISTORY,	p_history },
	{ "/health/integration/alerts",		0, RT_ALERTS,	p_alerts },
	{ "/health/integration/events",		0, RT_EVENTS,	p_events },
	{ "/ws/health",				0, RT_WS,	p_events },
	{ "/metrics",				0, RT_METRICS,	p_none },
	{ "/",					0, RT_DASHBOARD, p_none },
	{ "/index.html",			0, RT_DASHBOARD, p_none },
};

/* The route of path, or NULL. */
static const struct route *
route_find(const char *path)
{
	size_t i, n;

	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		n = strlen(routes[i].rt_path);
		if (routes[i].rt_prefix ? strncmp(path, routes[i].rt_path, n) ==
		    0 : strcmp(path, routes[i].rt_path) == 0)
			return &routes[i];
	}
	return NULL;
}

/*
 * The view of rt, its parameters checked.  The event streams answer on
 * their own; every other view fills outbuf and is sent from here.
 */
static void
route_view(struct evhttp_request *req, const struct route *rt,
    const char *path, const struct api_query *qp)
{
	const char *name = path + strlen(rt->rt_path);
	struct api_result r;

	if (rt->rt_id == RT_PROVIDER && !api_name_valid(name)) {
		send_error(req, 404, "not_found", NULL, "no such provider");
		return;
	}
	switch (rt->rt_id) {
	case RT_INTEGRATION:
	case RT_PROVIDER:
	case RT_GRAPH:
	case RT_METRICS:
		if (qp->n == 0) {
			route_cached(req, rt, name, qp);
			return;
		}
		/* FALLTHROUGH */
	case RT_HEALTH:
	case RT_HISTORY:
	case RT_ALERTS:
		render(rt, name, qp, &r);
		break;
	case RT_EVENTS:
		api_events_sse(&ctx, req);
		return;
	case RT_WS:
		api_events_ws(&ctx, req);
		return;
	case RT_DASHBOARD:
		memset(&r, 0, sizeof(r));
		evbuffer_drain(outbuf, evbuffer_get_length(outbuf));
		evbuffer_add_reference(outbuf, api_dashboard_html,
		    api_dashboard_len, NULL, NULL);
		r.code = 200;
		r.ctype = "text/html; charset=utf-8";
		break;
	}
	send_result(req, &r);
}

/* Render the view of rt (name: a provider's) into an emptied outbuf. */
static void
render(const struct route *rt, const char *name, const struct api_query *qp,
    struct api_result *r)
{
	memset(r, 0, sizeof(*r));
	evbuffer_drain(outbuf, evbuffer_get_length(outbuf));
	switch (rt->rt_id) {
	case RT_HEALTH:
		api_view_health(&ctx, outbuf, r);
		break;
	case RT_INTEGRATION:
		api_view_integration(&ctx, qp, outbuf, r);
		break;
	case RT_PROVIDER:
		api_view_provider(&ctx, name, qp, outbuf, r);
		break;
	case RT_GRAPH:
		api_view_graph(&ctx, qp, outbuf, r);
		break;
	case RT_HISTORY:
		api_view_history(&ctx, qp, outbuf, r);
		break;
	case RT_ALERTS:
		api_view_alerts(&ctx, qp, outbuf, r);
		break;
	case RT_METRICS:
		api_view_metrics(&ctx, outbuf, r);
		break;
	default:
		break;
	}
}

/*
 * A view without parameters (/health/integration, /metrics, the graph
 * as JSON, a provider's view): from the cache when nothing it depends on
 * moved since its render (cache.h), else rendered and kept when it is a
 * 200.  A provider's view also depends on its sample ring, whose head is
 * its own word of the generation.  The generation is read before the
 * render: a change during it makes the next request render again, never
 * keeps a body older than its key.  What is not kept (an error, a busy
 * snapshot) goes out as rendered.
 */
static void
route_cached(struct evhttp_request *req, const struct route *rt,
    const char *name, const struct api_query *qp)
{
	uint64_t now = vigil_now_mono_ns(), cpu;
	struct api_named *e = NULL;
	struct api_cached *c = NULL;
	struct vigil_cursor cur;
	uint32_t idx = UINT32_MAX;
	struct api_result r;
	struct api_gen g;

	api_gen_read(&cache_watch, &ctx.vc, &g);
	switch (rt->rt_id) {
	case RT_INTEGRATION:
		c = &cache_integration;
		break;
	case RT_METRICS:
		c = &cache_metrics;
		break;
	case RT_GRAPH:
		c = &cache_graph;
		break;
	default:
		if ((e = api_names_find(&cache_providers, name, g.g_dir)) !=
		    NULL) {
			idx = e->n_idx;
			c = &e->n_c;
		} else if (vigil_find(&ctx.vc, name, &idx) != VIGIL_OK)
			idx = UINT32_MAX;
		if (idx != UINT32_MAX) {
			vigil_samples_tail(&ctx.vc, idx, &cur, 0);
			g.g_own = cur.next;
		}
		break;
	}
	if (c != NULL && api_cached_fresh(c, &g, now)) {
		send_cached(req, c);
		return;
	}
	/* Only the clock moved: served as it is while refresh.c renders it
	 * again (a provider's entry may be dropped meanwhile: not there). */
	if (c != NULL && e == NULL && api_cached_aging(c, &g, now) &&
	    api_refresh_ask(c, rt->rt_id == RT_METRICS ? API_RF_METRICS :
	    rt->rt_id == RT_GRAPH ? API_RF_GRAPH : API_RF_INTEGRATION,
	    &g) != -1) {
		send_cached(req, c);
		return;
	}
	cpu = api_refresh_cpu_ns();
	render(rt, name, qp, &r);
	api_refresh_slow(ctx.base, &ctx, api_refresh_cpu_ns() - cpu);
	/* metrics.c answers 200 even when its snapshot failed: right for
	 * this scrape, wrong for the rest of the generation (r.partial). */
	if (r.code != 200 || r.disposition != NULL || r.partial) {
		send_result(req, &r);
		return;
	}
	if (c == NULL && idx != UINT32_MAX &&
	    (e = api_names_add(&cache_providers, name, idx)) != NULL)
		c = &e->n_c;
	if (c == NULL || api_cached_store(c, outbuf, &g, now, r.ctype) ==
	    -1) {
		send_result(req, &r);
		return;
	}
	evbuffer_drain(outbuf, evbuffer_get_length(outbuf));
	send_cached(req, c);
}

/* Let go of every kept body (responses in flight keep theirs). */
static void
cache_free(void)
{
	api_cached_drop(&cache_integration);
	api_cached_drop(&cache_metrics);
	api_cached_drop(&cache_graph);
	api_names_clear(&cache_providers);
	memset(&cache_watch, 0, sizeof(cache_watch));
	api_refresh_forget();
}

/*
 * Every request lands here: method check, URI length, strict
 * percent-decoding of path and query, the route, its parameters, then
 * its view (route_view).
 */
static void
route(struct evhttp_request *req, void *arg)
{
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	const char *uri = evhttp_request_get_uri(req);
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
	const struct route *rt;
	const char *rawpath, *qs, *badp;
	char path[512], bad[API_QKEY_MAX + 8], msg[96];
	struct api_query q;

	(void)arg;
	set_nodelay(req);
	if (strlen(uri) > API_URI_MAX) {
		send_error(req, 414, "uri_too_long", NULL, "the request URI is "
		    "longer than 4096 bytes");
		return;
	}
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET, HEAD");
		send_error(req, 405, "method_not_allowed", NULL, "vigil-api is "
		    "read-only: GET and HEAD only");
		return;
	}
	rawpath = u != NULL ? evhttp_uri_get_path(u) : NULL;
	if (rawpath == NULL || *rawpath == '\0')
		rawpath = "/";
	if (api_pct_decode(rawpath, strlen(rawpath), path, sizeof(path),
	    0) < 0) {
		send_error(req, 400, "bad_request", "path", "malformed "
		    "percent-encoding or control character in the path");
		return;
	}
	qs = u != NULL ? evhttp_uri_get_query(u) : NULL;
	if (api_query_parse(qs, &q, bad, sizeof(bad)) == -1) {
		send_error(req, 400, "bad_parameter", bad, "malformed query "
		    "string (percent-encoding, length or too many "
		    "parameters)");
		return;
	}
	/* A trailing slash names the same resource. */
	if (strlen(path) > 1 && path[strlen(path) - 1] == '/')
		path[strlen(path) - 1] = '\0';
	if ((rt = route_find(path)) == NULL) {
		send_error(req, 404, "not_found", NULL, "no such path");
		return;
	}
	switch (api_query_check(&q, rt->rt_params, &badp)) {
	case API_QUERY_UNKNOWN:
		snprintf(msg, sizeof(msg), "unknown parameter \"%.40s\"",
		    badp);
		send_error(req, 400, "bad_parameter", badp, msg);
		return;
	case API_QUERY_REPEATED:
		snprintf(msg, sizeof(msg), "parameter \"%.40s\" given more "
		    "than once", badp);
		send_error(req, 400, "bad_parameter", badp, msg);
		return;
	}

	route_view(req, rt, path, &q);
}

/*
 * accept() failed.  On EMFILE/ENFILE evconnlistener would retry at once
 * and spin: stop accepting for a second (connections wait in the
 * backlog) and log once per pause.
 */
static void
accept_error_cb(struct evconnlistener *lev, void *arg)
{
	struct timeval one = { 1, 0 };
	int e = EVUTIL_SOCKET_ERROR();

	(void)arg;
	if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
		log_warnx("accept: %s; pausing accepts for 1 s", strerror(e));
		evconnlistener_disable(lev);
		event_add(resume_ev, &one);
	} else
		log_warnx("accept: %s", strerror(e));
}

static void
resume_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	evconnlistener_enable(listener);
}

/*
 * Once a second: has the segment's header layout changed under us?  Said,
 * never followed: every read goes through ctx.vc.lay, validated at start.
 * No body rendered before the change is served after it.
 */
static void
layout_cb(evutil_socket_t fd, short what, void *arg)
{
	char msg[256];

	(void)fd;
	(void)what;
	(void)arg;
	if (seg_layout_watch(&layout_watch, ctx.vc.base, &ctx.vc.lay,
	    vigil_now_mono_ns(), msg, sizeof(msg)) == 1) {
		log_warnx("%s", msg);
		cache_free();
	}
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	log_info("signal %d: exiting", (int)sig);
	event_base_loopbreak(arg);
}

/* The connection cap is the descriptor limit: raise the soft limit to
 * API_MAX_FDS (or the hard limit); past it, accepting pauses. */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	rl.rlim_cur = rl.rlim_max < API_MAX_FDS ? rl.rlim_max : API_MAX_FDS;
	(void)setrlimit(RLIMIT_NOFILE, &rl);
}

/*
 * The command line into set (the standalone defaults first) and o.  A
 * child of vigild has no --shm: its settings come with configure.
 */
static void
opts_parse(int argc, char *argv[], struct api_settings *set,
    struct api_opts *o)
{
	static const struct option longopts[] = {
		{ "shm", required_argument, NULL, 's' },
		{ "listen", required_argument, NULL, 'l' },
		{ "port-file", required_argument, NULL, 'p' },
		{ "no-prometheus", no_argument, NULL, 'n' },
		{ "vantage", required_argument, NULL, 'V' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	memset(set, 0, sizeof(*set));
	memset(o, 0, sizeof(*o));
	set->prometheus = 1;
	set->log_level = LOG_LVL_INFO;
	snprintf(set->listen, sizeof(set->listen), "127.0.0.1:9470");
	while ((ch = getopt_long(argc, argv, "v", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			o->o_shm = optarg;
			break;
		case 'l':
			snprintf(set->listen, sizeof(set->listen), "%s",
			    optarg);
			break;
		case 'p':
			o->o_portfile = optarg;
			break;
		case 'n':
			set->prometheus = 0;
			break;
		case 'V':
			snprintf(set->vantage, sizeof(set->vantage), "%s",
			    optarg);
			break;
		case 'v':
			set->log_level = LOG_LVL_DEBUG;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	o->o_child = o->o_shm == NULL;
}

/*
 * As a child of vigild: the settings from the configure frame on fd 4,
 * the segment from fd 3, the socket vigild bound on fd 5.  A bad
 * configure or segment is answered on fd 4 and is permanent: exit
 * EXIT_PERMANENT.  Returns the listening socket.
 */
static int
start_child(struct api_settings *set, struct api_opts *o)
{
	struct segment seg;
	char err[256];
	int rc;

	(void)o;	/* the configure request's id is common/child.c's */
	if (fcntl(3, F_GETFD) == -1 || fcntl(4, F_GETFD) == -1 ||
	    fcntl(5, F_GETFD) == -1) {
		fprintf(stderr, "vigil-api: not started by vigild (no "
		    "fds 3-5) and no --shm given\n");
		usage();
	}
	if ((rc = api_ctl_configure(CHILD_FD, API_CONFIGURE_MS, set, err,
	    sizeof(err))) != CHILD_OK) {
		if (rc == CHILD_EOF)
			exit(0);	/* vigild went away first */
		log_warnx("%s", err);
		exit(EXIT_PERMANENT);
	}
	log_setlevel(set->log_level);
	if (seg_map_fd(&seg, 3, 0, err, sizeof(err)) == -1 ||
	    seg.lay.magic != VIGIL_MAGIC ||
	    seg_client(&seg, &ctx.vc) != VIGIL_OK) {
		if (seg.base != NULL)
			snprintf(err, sizeof(err), "segment not initialised");
		log_warnx("segment: %s", err);
		api_ctl_reply("segment", err);
		exit(EXIT_PERMANENT);
	}
	evutil_make_socket_nonblocking(5);
	evutil_make_socket_closeonexec(5);
	return 5;
}

/*
 * Standalone: ENABLE_PROMETHEUS_METRICS may turn /metrics off, the
 * segment is opened by name, and we bind --listen ourselves (port 0:
 * the kernel's choice, into o->o_port).  Returns the listening socket.
 */
static int
start_standalone(struct api_settings *set, struct api_opts *o)
{
	const char *env;
	char err[256];
	int lfd;

	if ((env = getenv("ENABLE_PROMETHEUS_METRICS")) != NULL &&
	    (strcasecmp(env, "false") == 0 || strcmp(env, "0") == 0 ||
	    strcasecmp(env, "no") == 0 || strcasecmp(env, "off") == 0))
		set->prometheus = 0;
	if (vigil_open(&ctx.vc, o->o_shm) != VIGIL_OK)
		fatalx("%s", ctx.vc.err);
	if ((lfd = addr_listen(set->listen, SOCK_NONBLOCK, &o->o_port, err,
	    sizeof(err))) == -1)
		fatalx("listen: %s", err);
	return lfd;
}

/* The settings into ctx, and the snapshot buffers sized for the
 * segment's capacities (allocated once: no allocation per request). */
static void
ctx_setup(const struct api_settings *set)
{
	ctx.prometheus = set->prometheus;
	api_vantage_resolve(set->vantage, ctx.vantage, sizeof(ctx.vantage));
	ctx.snap = calloc(vigil_capacity(&ctx.vc), sizeof(*ctx.snap));
	ctx.hist = calloc(ctx.vc.lay.history_cap, sizeof(*ctx.hist));
	ctx.alerts = calloc(ctx.vc.lay.alert_cap, sizeof(*ctx.alerts));
	ctx.samples = calloc(ctx.vc.lay.sample_cap, sizeof(*ctx.samples));
	if (ctx.snap == NULL || ctx.hist == NULL || ctx.alerts == NULL ||
	    ctx.samples == NULL ||
	    api_names_init(&cache_providers, vigil_capacity(&ctx.vc)) == -1)
		fatalx("out of memory");
}

/*
 * The HTTP server on lfd, with the limits of the file's comment, the
 * accept pause, SIGTERM/SIGINT and the event streams.  Dies if libevent
 * cannot set it up.
 */
static void
serve_setup(struct serve *sv, int lfd)
{
	struct timeval to = { API_TIMEOUT_S, 0 };
	struct timeval one_s = { 1, 0 };
	int one = 1;

	(void)setsockopt(lfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	api_wb_tune();
	if ((ctx.base = api_event_base()) == NULL ||
	    (sv->sv_http = evhttp_new(ctx.base)) == NULL ||
	    (outbuf = evbuffer_new()) == NULL)
		fatalx("libevent initialisation failed");
	evhttp_set_max_headers_size(sv->sv_http, API_MAX_HEADERS);
	evhttp_set_max_body_size(sv->sv_http, API_MAX_BODY);
	evhttp_set_timeout_tv(sv->sv_http, &to);
	/* Accept every method so that the router answers 405 with Allow
	 * (evhttp would say 501 on its own). */
	evhttp_set_allowed_methods(sv->sv_http, EVHTTP_REQ_GET |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
	    EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
	    EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
	evhttp_set_gencb(sv->sv_http, route, NULL);
	evhttp_set_bevcb(sv->sv_http, api_conn_bev, NULL);
	listener = evconnlistener_new(ctx.base, NULL, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, lfd);
	if (listener == NULL ||
	    evhttp_bind_listener(sv->sv_http, listener) == NULL)
		fatalx("cannot listen on the socket");
	evconnlistener_set_error_cb(listener, accept_error_cb);
	resume_ev = evtimer_new(ctx.base, resume_cb, NULL);
	layout_ev = event_new(ctx.base, -1, EV_PERSIST, layout_cb, NULL);
	sv->sv_sigterm = evsignal_new(ctx.base, SIGTERM, signal_cb, ctx.base);
	sv->sv_sigint = evsignal_new(ctx.base, SIGINT, signal_cb, ctx.base);
	if (resume_ev == NULL || layout_ev == NULL ||
	    event_add(layout_ev, &one_s) == -1 || sv->sv_sigterm == NULL ||
	    sv->sv_sigint == NULL || evsignal_add(sv->sv_sigterm, NULL) ==
	    -1 || evsignal_add(sv->sv_sigint, NULL) == -1)
		fatalx("libevent events");
	if (api_events_init(&ctx) == -1)
		fatalx("event stream initialisation failed");
}

/*
 * Say we are ready: to vigild, the ok reply to configure (readiness is
 * a message, not the exec); standalone, the bound port into the port
 * file, renamed into place so that a reader never sees half of it.
 */
static void
announce(const struct api_settings *set, const struct api_opts *o)
{
	char tmp[4096];
	FILE *f;

	if (o->o_child) {
		if (api_ctl_reply(NULL, NULL) == -1)
			fatalx("reply to configure failed");
		if (api_ctl_watch(ctx.base) == -1)
			fatalx("control socket");
		log_info("ready (pid %d), serving on fd 5", (int)getpid());
		return;
	}
	if (o->o_portfile != NULL) {
		snprintf(tmp, sizeof(tmp), "%s.tmp", o->o_portfile);
		if ((f = fopen(tmp, "w")) == NULL ||
		    fprintf(f, "%d\n", o->o_port) < 0 || fclose(f) != 0 ||
		    rename(tmp, o->o_portfile) == -1)
			fatal("port file %s", o->o_portfile);
	}
	log_info("serving %s on %s (port %d)", o->o_shm, set->listen,
	    o->o_port);
}

static void
serve_free(struct serve *sv, int child)
{
	api_refresh_stop();
	api_events_shutdown();
	api_ctl_close();
	evhttp_free(sv->sv_http);
	cache_free();
	api_names_free(&cache_providers);
	event_free(resume_ev);
	event_free(layout_ev);
	event_free(sv->sv_sigterm);
	event_free(sv->sv_sigint);
	evbuffer_free(outbuf);
	event_base_free(ctx.base);
	free(ctx.snap);
	free(ctx.hist);
	free(ctx.alerts);
	free(ctx.samples);
	if (!child)
		vigil_close(&ctx.vc);
}

int
main(int argc, char *argv[])
{
	struct api_settings set;
	struct api_opts o;
	struct serve sv;
	char err[256];
	int lfd;

	/* Before the segment is mapped: common/priv.c. */
	if (priv_child_init(err, sizeof(err)) == -1) {
		fprintf(stderr, "vigil-api: %s\n", err);
		exit(EXIT_PERMANENT);
	}
	opts_parse(argc, argv, &set, &o);
	log_init("vigil-api", set.log_level);
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	memset(&ctx, 0, sizeof(ctx));
	ctx.started_wall_ns = now_wall_ns();
	lfd = o.o_child ? start_child(&set, &o) : start_standalone(&set, &o);
	ctx_setup(&set);
	serve_setup(&sv, lfd);
	announce(&set, &o);
	event_base_dispatch(ctx.base);
	serve_free(&sv, o.o_child);
	return 0;
}
