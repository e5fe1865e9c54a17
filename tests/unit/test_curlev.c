/*
 * test_curlev.c - common/curlev.c against a real HTTP server.
 *
 * The server is libevent's evhttp on a free loopback port, on the same
 * event base as the transfers: the path picks what it does (/ok answers
 * at once, /delay after DELAY_MS, /hang never).  One loop runs both
 * ends, so every test is exact and needs no second process.
 */
#define T_TIMEOUT	30	/* seconds per test, before t.h */

#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "curlev.h"
#include "t.h"

#define DELAY_MS	300
#define MAXDONE		8

struct done {
	CURL		*easy;
	CURLcode	 cc;
	long		 status;
	uint64_t	 at_ns;
};

struct srv {
	struct event_base	*base;
	struct evhttp		*http;
	struct curlev		*cv;
	int			 port;
	struct done		 done[MAXDONE];
	int			 ndone;
	int			 want;		/* loop exits at this many */
	int			 restart;	/* done: add the handle again */
	char			 body[64];	/* what a write callback saw */
	size_t			 blen;
};

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
reply_ok(struct evhttp_request *req)
{
	struct evbuffer *b = evbuffer_new();

	evbuffer_add_printf(b, "hello");
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

static void
delay_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	reply_ok(arg);
}

static void
srv_cb(struct evhttp_request *req, void *arg)
{
	struct srv *s = arg;
	const char *uri = evhttp_request_get_uri(req);
	struct timeval tv = { 0, DELAY_MS * 1000 };

	if (strcmp(uri, "/ok") == 0)
		reply_ok(req);
	else if (strcmp(uri, "/delay") == 0)
		event_base_once(s->base, -1, EV_TIMEOUT, delay_cb, req, &tv);
	/* /hang: never answered */
}

static size_t
write_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct srv *s = arg;
	size_t n = size * nmemb;

	if (n > sizeof(s->body) - 1 - s->blen)
		n = sizeof(s->body) - 1 - s->blen;
	memcpy(s->body + s->blen, p, n);
	s->blen += n;
	s->body[s->blen] = '\0';
	return size * nmemb;
}

static void
done_cb(CURL *easy, CURLcode cc, void *arg)
{
	struct srv *s = arg;
	struct done *d;

	T_CHECK(s->ndone < MAXDONE);
	if (s->ndone >= MAXDONE)
		return;
	d = &s->done[s->ndone++];
	d->easy = easy;
	d->cc = cc;
	d->status = 0;
	d->at_ns = mono_ns();
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &d->status);
	if (s->restart > 0) {
		s->restart--;
		T_CHECK(curlev_add(s->cv, easy) == 0);
	}
	if (s->ndone >= s->want)
		event_base_loopbreak(s->base);
}

/* The server on 127.0.0.1, port 0: the kernel picks a free one. */
static void
srv_init(struct srv *s)
{
	struct evhttp_bound_socket *bs;
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	char err[128];

	memset(s, 0, sizeof(*s));
	T_CHECK(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK);
	s->base = event_base_new();
	s->http = evhttp_new(s->base);
	if (s->base == NULL || s->http == NULL)
		abort();
	evhttp_set_gencb(s->http, srv_cb, s);
	bs = evhttp_bind_socket_with_handle(s->http, "127.0.0.1", 0);
	if (bs == NULL)
		abort();
	if (getsockname(evhttp_bound_socket_get_fd(bs),
	    (struct sockaddr *)&sin, &len) == -1)
		abort();
	s->port = ntohs(sin.sin_port);
	s->cv = curlev_new(s->base, done_cb, s, err, sizeof(err));
	T_CHECKF(s->cv != NULL, "%s", err);
	if (s->cv == NULL)
		abort();
}

static void
srv_free(struct srv *s)
{
	curlev_free(s->cv);
	evhttp_free(s->http);
	event_base_free(s->base);
	curl_global_cleanup();
}

static CURL *
easy_new(struct srv *s, const char *path, long timeout_ms)
{
	char url[128];
	CURL *e;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", s->port, path);
	if ((e = curl_easy_init()) == NULL)
		abort();
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
	return e;
}

/* Run the loop until want transfers are done, or 10 s. */
static void
srv_loop(struct srv *s, int want)
{
	struct timeval tv = { 10, 0 };

	s->want = want;
	event_base_loopexit(s->base, &tv);
	event_base_dispatch(s->base);
}

/* One GET: done once, with the handle, CURLE_OK and 200; the body read. */
static void
test_curlev_one(void)
{
	struct srv s;
	CURL *e;

	srv_init(&s);
	e = easy_new(&s, "/ok", 5000);
	T_CHECK(curlev_add(s.cv, e) == 0);
	T_CHECK(curlev_add(s.cv, e) == -1);	/* already in the multi */
	srv_loop(&s, 1);
	T_CHECK(s.ndone == 1);
	T_CHECK(s.done[0].easy == e);
	T_CHECKF(s.done[0].cc == CURLE_OK, "%s",
	    curl_easy_strerror(s.done[0].cc));
	T_CHECK(s.done[0].status == 200);
	T_CHECK(strcmp(s.body, "hello") == 0);
	curl_easy_cleanup(e);
	srv_free(&s);
}

/* A server that never answers: the transfer ends with a timeout. */
static void
test_curlev_timeout(void)
{
	struct srv s;
	uint64_t t0;
	CURL *e;

	srv_init(&s);
	e = easy_new(&s, "/hang", 200);
	t0 = mono_ns();
	T_CHECK(curlev_add(s.cv, e) == 0);
	srv_loop(&s, 1);
	T_CHECK(s.ndone == 1);
	T_CHECK(s.done[0].easy == e);
	T_CHECKF(s.done[0].cc == CURLE_OPERATION_TIMEDOUT, "%s",
	    curl_easy_strerror(s.done[0].cc));
	T_CHECKF(s.done[0].at_ns - t0 >= 190000000u &&
	    s.done[0].at_ns - t0 < 5000000000u, "%llu ns",
	    (unsigned long long)(s.done[0].at_ns - t0));
	curl_easy_cleanup(e);
	srv_free(&s);
}

/*
 * Two transfers at once, each answered after DELAY_MS: both done, each
 * with its own handle, in well under twice the delay.
 */
static void
test_curlev_concurrent(void)
{
	struct srv s;
	uint64_t t0, took;
	CURL *a, *b;

	srv_init(&s);
	a = easy_new(&s, "/delay", 5000);
	b = easy_new(&s, "/delay", 5000);
	t0 = mono_ns();
	T_CHECK(curlev_add(s.cv, a) == 0);
	T_CHECK(curlev_add(s.cv, b) == 0);
	srv_loop(&s, 2);
	T_CHECK(s.ndone == 2);
	if (s.ndone == 2) {
		T_CHECK((s.done[0].easy == a && s.done[1].easy == b) ||
		    (s.done[0].easy == b && s.done[1].easy == a));
		T_CHECK(s.done[0].cc == CURLE_OK && s.done[1].cc == CURLE_OK);
		T_CHECK(s.done[0].status == 200 && s.done[1].status == 200);
		took = s.done[1].at_ns - t0;
		/* libevent's cached clock may fire a timer a little early */
		T_CHECKF(took >= DELAY_MS * 800000ull &&
		    took < 2 * DELAY_MS * 1000000ull, "%llu ms",
		    (unsigned long long)(took / 1000000));
	}
	curl_easy_cleanup(a);
	curl_easy_cleanup(b);
	srv_free(&s);
}

/*
 * The prober's way: the done callback adds the same handle again, and
 * curlev_run starts it without waiting for the loop.
 */
static void
test_curlev_reuse(void)
{
	struct srv s;
	CURL *e;

	srv_init(&s);
	e = easy_new(&s, "/ok", 5000);
	s.restart = 2;
	T_CHECK(curlev_add(s.cv, e) == 0);
	curlev_run(s.cv);
	srv_loop(&s, 3);
	T_CHECK(s.ndone == 3);
	T_CHECK(s.done[2].easy == e && s.done[2].cc == CURLE_OK &&
	    s.done[2].status == 200);
	T_CHECK(strcmp(s.body, "hellohellohello") == 0);
	curl_easy_cleanup(e);
	srv_free(&s);
}

/* The port of a closed socket: nobody listens there now. */
static int
closed_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1)
		abort();
	close(fd);
	return ntohs(sin.sin_port);
}

/* Nothing listening: done with a connect error, not silence. */
static void
test_curlev_refused(void)
{
	struct srv s;
	CURL *e;

	srv_init(&s);
	s.port = closed_port();
	e = easy_new(&s, "/ok", 5000);
	T_CHECK(curlev_add(s.cv, e) == 0);
	srv_loop(&s, 1);
	T_CHECK(s.ndone == 1);
	T_CHECKF(s.done[0].cc == CURLE_COULDNT_CONNECT, "%s",
	    curl_easy_strerror(s.done[0].cc));
	curl_easy_cleanup(e);
	srv_free(&s);
}

/* A removed transfer never calls back; freeing after it is clean. */
static void
test_curlev_remove(void)
{
	struct srv s;
	struct timeval tv = { 0, 2 * DELAY_MS * 1000 };
	CURL *e;

	srv_init(&s);
	e = easy_new(&s, "/hang", 5000);
	T_CHECK(curlev_add(s.cv, e) == 0);
	curlev_run(s.cv);
	curlev_remove(s.cv, e);
	event_base_loopexit(s.base, &tv);
	event_base_dispatch(s.base);
	T_CHECK(s.ndone == 0);
	T_CHECK(curlev_add(s.cv, e) == 0);	/* reusable after removal */
	curlev_remove(s.cv, e);
	curl_easy_cleanup(e);
	srv_free(&s);
	curlev_free(NULL);
}

int
main(void)
{
	T_RUN(test_curlev_one);
	T_RUN(test_curlev_timeout);
	T_RUN(test_curlev_concurrent);
	T_RUN(test_curlev_reuse);
	T_RUN(test_curlev_refused);
	T_RUN(test_curlev_remove);
	return t_done();
}
