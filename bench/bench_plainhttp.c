/*
 * bench_plainhttp - the ceiling of vigil-api's HTTP front: a bare evhttp
 * server answering fixed bodies from memory, for bench/bench_api.sh.
 *
 *	bench_plainhttp --listen ADDR:PORT --port-file FILE
 *	    [-H 'Name: value']... [-Z] PATH=BODYFILE...
 *
 * Every PATH=BODYFILE is read once at start and answered for GET PATH
 * with the -H headers (the bench passes vigil-api's own, so that both
 * send the same bytes), by evbuffer reference (no copy per request),
 * with the same libevent set-up as vigil-api (api/front.c: the epoll
 * changelist, a 4 MB single write; TCP_NODELAY, the 10 s connection timeout that re-arms a timer on every read
 * and write, the header and body limits): the front vigil-api must
 * have.  -Z adds Content-Encoding: gzip to the bodies named after it.
 * Any other path: 404.  It does nothing vigil-api does per request
 * beyond that: no URI check, no routing table, no segment, no cache
 * lookup, so vigil-api's rate over this one's is what its own work
 * costs.  Runs until SIGTERM or SIGINT.  Not run by bench/report.py on
 * its own (it is a server).
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "addr.h"
#include "../api/front.h"

#define MAX_BODIES	16
#define MAX_HEADERS	16

struct body {
	const char	*b_path;
	unsigned char	*b_data;
	size_t		 b_len;
	int		 b_gzip;
};

static struct body	 bodies[MAX_BODIES];
static size_t		 nbodies;
static char		*hnames[MAX_HEADERS], *hvalues[MAX_HEADERS];
static size_t		 nheaders;
static struct evbuffer	*out;

static void	usage(void) __attribute__((noreturn));
static void	body_load(const char *, int);
static void	header_add(const char *);
static void	answer(struct evhttp_request *, void *);
static void	on_signal(evutil_socket_t, short, void *);

static void
usage(void)
{
	fprintf(stderr, "usage: bench_plainhttp --listen ADDR:PORT "
	    "--port-file FILE [-H 'Name: value']... [-Z] PATH=BODYFILE...\n");
	exit(2);
}

/* PATH=FILE into bodies[], the whole file in memory. */
static void
body_load(const char *arg, int gzip)
{
	const char *eq = strchr(arg, '=');
	struct body *b;
	struct stat sb;
	FILE *f;

	if (eq == NULL || eq == arg || nbodies == MAX_BODIES)
		usage();
	b = &bodies[nbodies++];
	if ((b->b_path = strndup(arg, (size_t)(eq - arg))) == NULL ||
	    (f = fopen(eq + 1, "rb")) == NULL || fstat(fileno(f), &sb) == -1 ||
	    (b->b_data = malloc((size_t)sb.st_size + 1)) == NULL ||
	    fread(b->b_data, 1, (size_t)sb.st_size, f) !=
	    (size_t)sb.st_size) {
		fprintf(stderr, "bench_plainhttp: cannot load %s\n", eq + 1);
		exit(1);
	}
	fclose(f);
	b->b_len = (size_t)sb.st_size;
	b->b_gzip = gzip;
}

static void
header_add(const char *arg)
{
	const char *colon = strchr(arg, ':');

	if (colon == NULL || nheaders == MAX_HEADERS)
		usage();
	hnames[nheaders] = strndup(arg, (size_t)(colon - arg));
	colon++;
	while (*colon == ' ')
		colon++;
	hvalues[nheaders] = strdup(colon);
	if (hnames[nheaders] == NULL || hvalues[nheaders] == NULL)
		exit(1);
	nheaders++;
}

static void
answer(struct evhttp_request *req, void *arg)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	const char *path = evhttp_request_get_uri(req);
	size_t i, k;

	(void)arg;
	for (i = 0; i < nbodies; i++)
		if (strcmp(path, bodies[i].b_path) == 0)
			break;
	if (i == nbodies) {
		evhttp_send_error(req, 404, NULL);
		return;
	}
	for (k = 0; k < nheaders; k++)
		evhttp_add_header(h, hnames[k], hvalues[k]);
	if (bodies[i].b_gzip)
		evhttp_add_header(h, "Content-Encoding", "gzip");
	evbuffer_add_reference(out, bodies[i].b_data, bodies[i].b_len, NULL,
	    NULL);
	evhttp_send_reply(req, 200, "OK", out);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	event_base_loopbreak(arg);
}

int
main(int argc, char *argv[])
{
	const char *listen = NULL, *portfile = NULL;
	struct timeval to = { 10, 0 };
	struct evconnlistener *lev;
	struct event *sigterm, *sigint;
	struct event_base *base;
	struct evhttp *http;
	char err[256];
	int i, lfd, port, one = 1, gzip = 0;
	FILE *f;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc)
			listen = argv[++i];
		else if (strcmp(argv[i], "--port-file") == 0 && i + 1 < argc)
			portfile = argv[++i];
		else if (strcmp(argv[i], "-H") == 0 && i + 1 < argc)
			header_add(argv[++i]);
		else if (strcmp(argv[i], "-Z") == 0)
			gzip = 1;
		else if (argv[i][0] == '/')
			body_load(argv[i], gzip);
		else
			usage();
	}
	if (listen == NULL || portfile == NULL || nbodies == 0)
		usage();
	signal(SIGPIPE, SIG_IGN);
	if ((lfd = addr_listen(listen, SOCK_NONBLOCK, &port, err,
	    sizeof(err))) == -1) {
		fprintf(stderr, "bench_plainhttp: listen: %s\n", err);
		return 1;
	}
	(void)setsockopt(lfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if ((base = api_event_base()) == NULL ||
	    (http = evhttp_new(base)) == NULL || (out = evbuffer_new()) ==
	    NULL || (lev = evconnlistener_new(base, NULL, NULL,
	    LEV_OPT_CLOSE_ON_FREE, -1, lfd)) == NULL ||
	    evhttp_bind_listener(http, lev) == NULL)
		return 1;
	evhttp_set_max_headers_size(http, 12 * 1024);
	evhttp_set_max_body_size(http, 1024);
	evhttp_set_timeout_tv(http, &to);
	evhttp_set_gencb(http, answer, NULL);
	evhttp_set_bevcb(http, api_conn_bev, NULL);
	sigterm = evsignal_new(base, SIGTERM, on_signal, base);
	sigint = evsignal_new(base, SIGINT, on_signal, base);
	if (sigterm == NULL || sigint == NULL || evsignal_add(sigterm, NULL) ==
	    -1 || evsignal_add(sigint, NULL) == -1)
		return 1;
	if ((f = fopen(portfile, "w")) == NULL ||
	    fprintf(f, "%d\n", port) < 0 || fclose(f) != 0) {
		fprintf(stderr, "bench_plainhttp: cannot write %s\n",
		    portfile);
		return 1;
	}
	event_base_dispatch(base);
	evhttp_free(http);
	event_free(sigterm);
	event_free(sigint);
	evbuffer_free(out);
	event_base_free(base);
	return 0;
}
