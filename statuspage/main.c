/*
 * main.c - vigil-statuspage: the providers' own status pages, polled.
 *
 * Started by vigild (docs/internals.md) like the aggregator: fd 3 is the
 * segment (O_RDWR: we write the status-page blocks and nothing else),
 * fd 4 the socketpair with vigild.  The configure request carries the
 * [vigil] keys of SR_STATUSPAGE and "pages", one line per provider with
 * a status_page: "SLOT INTERVAL_MS NAME URL".  Every page is fetched at
 * once and then every INTERVAL_MS with libcurl on the event loop
 * (curlev.c): a timeout, no redirect beyond three, a body cap
 * (SP_BODY_MAX); each answer is parsed (page.c) and written into the
 * provider's block under its seqlock.  A failed fetch keeps what the
 * page said last and sets error: a page that is down says nothing about
 * the provider, and nothing here touches the provider's own status.
 *
 * It holds no secret: the URLs are public pages.  Exits 0 on EOF of
 * fd 4, SIGTERM or SIGINT; 125 when the configure or the segment is
 * unusable.
 */
#include <sys/prctl.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <msgpack.h>

#include "child.h"
#include "curlev.h"
#include "evtime.h"
#include "frame.h"
#include "log.h"
#include "page.h"
#include "priv.h"
#include "ring.h"
#include "segment.h"
#include "settings.h"

#define SEG_FD		3
#define SP_TIMEOUT_MS	10000	/* a page slower than this failed */
#define SP_MAX_PAGES	VIGIL_MAX_PROVIDERS

/* One provider's page. */
struct sp_page {
	struct spd		*pg_d;
	uint32_t		 pg_slot;
	uint32_t		 pg_interval_ms;
	char			 pg_name[VIGIL_NAME_MAX];
	char			 pg_url[CONF_URL_MAX];
	struct event		*pg_timer;
	CURL			*pg_easy;	/* non-NULL while fetching */
	char			*pg_body;
	size_t			 pg_len;
	int			 pg_toobig;
	struct vigil_status_page pg_block;	/* what we last wrote */
};

struct spd {
	struct event_base	*base;
	struct event		*ev_term;
	struct event		*ev_int;
	struct segment		 seg;
	struct curlev		*cv;
	struct child		 ch;
	struct conf		 conf;
	struct sp_page		*pages;
	size_t			 npages;
	char			*pages_text;	/* from configure, parsed later */
};

static void	usage(void) __attribute__((noreturn));
static int	conf_from_args(const msgpack_object *, void *, char *, size_t);
static int	pages_parse(struct spd *, char *, size_t);
static void	page_fetch(struct sp_page *);
static void	page_done(CURL *, CURLcode, void *);
static void	page_write(struct sp_page *, const struct vigil_status_page *);
static size_t	page_body(char *, size_t, size_t, void *);
static void	timer_cb(evutil_socket_t, short, void *);
static void	signal_cb(evutil_socket_t, short, void *);

static void
usage(void)
{
	fprintf(stderr, "usage: vigil-statuspage\n"
	    "  started by vigild: fd 3 the segment, fd 4 the control "
	    "socketpair\n");
	exit(2);
}

static int
conf_from_args(const msgpack_object *args, void *arg, char *err,
    size_t errlen)
{
	struct spd *d = arg;
	const msgpack_object *o;

	if (settings_decode(SR_STATUSPAGE, args, &d->conf, NULL, err,
	    errlen) == -1)
		return -1;
	o = mp_get(args, "pages");
	if (o == NULL)
		return 0;
	if (o->type != MSGPACK_OBJECT_STR) {
		snprintf(err, errlen, "pages: expected a string");
		return -1;
	}
	if ((d->pages_text = malloc(o->via.str.size + 1)) == NULL) {
		snprintf(err, errlen, "pages: out of memory");
		return -1;
	}
	memcpy(d->pages_text, o->via.str.ptr, o->via.str.size);
	d->pages_text[o->via.str.size] = '\0';
	return 0;
}

/*
 * The "pages" lines into d->pages.  Each is checked as vigil.conf's
 * keys are (a slot below the capacity, an interval in the table's range,
 * a URL status_page accepts): vigild sent them, but a child trusts no
 * frame further than it checks it.
 */
static int
pages_parse(struct spd *d, char *err, size_t errlen)
{
	const struct setting *ku = &settings_provider[SP_STATUS_PAGE];
	const struct setting *ki = &settings_provider[SP_STATUS_PAGE_INT];
	char *line, *save = NULL, name[VIGIL_NAME_MAX], url[CONF_URL_MAX];
	char why[160];
	unsigned long slot, ms;
	size_t n = 0;
	int used;

	if (d->pages_text == NULL)
		return 0;
	for (line = d->pages_text; *line != '\0'; line++)
		n += *line == '\n';
	if (n > SP_MAX_PAGES) {
		snprintf(err, errlen, "pages: more than %u", SP_MAX_PAGES);
		return -1;
	}
	if (n > 0 && (d->pages = calloc(n, sizeof(*d->pages))) == NULL) {
		snprintf(err, errlen, "pages: out of memory");
		return -1;
	}
	for (line = strtok_r(d->pages_text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		struct sp_page *pg = &d->pages[d->npages];

		if (d->npages == n ||
		    sscanf(line, "%lu %lu %31s %511s%n", &slot, &ms, name, url,
		    &used) != 4 || line[used] != '\0' ||
		    slot >= d->seg.lay.provider_cap || ms < ki->min ||
		    ms > ki->max || ku->check(url, why, sizeof(why)) == -1 ||
		    url[0] == '\0') {
			snprintf(err, errlen, "pages: bad line %zu",
			    d->npages + 1);
			return -1;
		}
		pg->pg_d = d;
		pg->pg_slot = (uint32_t)slot;
		pg->pg_interval_ms = (uint32_t)ms;
		snprintf(pg->pg_name, sizeof(pg->pg_name), "%s", name);
		snprintf(pg->pg_url, sizeof(pg->pg_url), "%s", url);
		d->npages++;
	}
	return 0;
}

static size_t
page_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct sp_page *pg = arg;
	size_t n = size * nmemb;
	char *nb;

	if (pg->pg_len + n > SP_BODY_MAX) {
		pg->pg_toobig = 1;
		return 0;		/* curl stops: CURLE_WRITE_ERROR */
	}
	if ((nb = realloc(pg->pg_body, pg->pg_len + n + 1)) == NULL)
		return 0;
	pg->pg_body = nb;
	memcpy(pg->pg_body + pg->pg_len, ptr, n);
	pg->pg_len += n;
	return n;
}

/* Start a fetch of pg (none is running: the timer is armed at its end). */
static void
page_fetch(struct sp_page *pg)
{
	struct spd *d = pg->pg_d;
	struct vigil_status_page b;
	CURL *e;

	free(pg->pg_body);
	pg->pg_body = NULL;
	pg->pg_len = 0;
	pg->pg_toobig = 0;
	if ((e = curl_easy_init()) == NULL)
		goto fail;
	curl_easy_setopt(e, CURLOPT_URL, pg->pg_url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(e, CURLOPT_MAXREDIRS, 3L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)SP_TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)SP_TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)SP_BODY_MAX);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, page_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, pg);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "vigil-statuspage/"
	    VIGIL_VERSION);
	curl_easy_setopt(e, CURLOPT_PRIVATE, pg);
	if (curlev_add(d->cv, e) == -1) {
		curl_easy_cleanup(e);
		goto fail;
	}
	pg->pg_easy = e;
	return;
fail:
	b = pg->pg_block;
	b.updated_wall_ns = now_wall_ns();
	b.flags &= ~VIGIL_SPF_OK;
	b.errors_total++;
	b.fetches_total++;
	snprintf(b.error, sizeof(b.error), "no_memory");
	page_write(pg, &b);
	(void)evtime_add_ms(pg->pg_timer, pg->pg_interval_ms);
}

/* A fetch ended: parse, write, arm the next one. */
static void
page_done(CURL *e, CURLcode cc, void *arg)
{
	struct sp_page *pg = NULL;
	struct vigil_status_page b;
	char why[VIGIL_ERR_MAX];
	long code = 0;

	(void)arg;
	curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&pg);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(e);
	if (pg == NULL)
		return;
	pg->pg_easy = NULL;
	b = pg->pg_block;
	b.updated_wall_ns = now_wall_ns();
	b.fetches_total++;
	why[0] = '\0';
	if (pg->pg_toobig || cc == CURLE_FILESIZE_EXCEEDED)
		snprintf(why, sizeof(why), "too_big");
	else if (cc != CURLE_OK)
		snprintf(why, sizeof(why), "curl:%d", (int)cc);
	else if (code != 200)
		snprintf(why, sizeof(why), "http:%ld", code);
	else if (sp_parse(pg->pg_body != NULL ? pg->pg_body : "", pg->pg_len,
	    &b, why, sizeof(why)) == 0) {
		b.fetched_wall_ns = b.updated_wall_ns;
		b.flags |= VIGIL_SPF_OK;
		b.error[0] = '\0';
	}
	if (why[0] != '\0') {
		/* What the page said last stays; the error says it is old. */
		b.flags &= ~VIGIL_SPF_OK;
		b.errors_total++;
		snprintf(b.error, sizeof(b.error), "%s", why);
		log_debug("%s: status page: %s", pg->pg_name, why);
	}
	page_write(pg, &b);
	free(pg->pg_body);
	pg->pg_body = NULL;
	pg->pg_len = 0;
	(void)evtime_add_ms(pg->pg_timer, pg->pg_interval_ms);
}

/*
 * Publish b as pg's block.  changes counts what a reader would call a
 * change (indicator, the open incidents, the newest one, an error
 * appearing or going), so that the API's event stream can say so.
 */
static void
page_write(struct sp_page *pg, const struct vigil_status_page *nb)
{
	struct vigil_status_page b = *nb;
	const struct vigil_status_page *o = &pg->pg_block;

	b.flags |= VIGIL_SPF_CONFIGURED;
	snprintf(b.provider, sizeof(b.provider), "%s", pg->pg_name);
	if (o->updated_wall_ns == 0 || b.indicator != o->indicator ||
	    b.incidents_open != o->incidents_open ||
	    b.incident_created_wall_ns != o->incident_created_wall_ns ||
	    strcmp(b.incident_name, o->incident_name) != 0 ||
	    strcmp(b.incident_status, o->incident_status) != 0 ||
	    (b.error[0] == '\0') != (o->error[0] == '\0')) {
		b.changes = o->changes + 1;
		if (b.error[0] == '\0')
			log_info("%s: status page says %s, %u incident%s open",
			    pg->pg_name, vigil_sp_indicator_name(b.indicator),
			    b.incidents_open, b.incidents_open == 1 ? "" :
			    "s");
		else
			log_info("%s: status page unreadable: %s",
			    pg->pg_name, b.error);
	}
	seqlock_write(seg_statuspage(&pg->pg_d->seg, pg->pg_slot), &b,
	    VIGIL_WORDS(struct vigil_status_page));
	pg->pg_block = b;
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	page_fetch(arg);
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct spd *d = arg;

	(void)what;
	log_info("signal %d: stopping", (int)sig);
	event_base_loopbreak(d->base);
}

int
main(int argc, char *argv[])
{
	struct vigil_status_page zero;
	struct spd d;
	char err[512];
	size_t i;
	uint32_t s;
	int rc;

	(void)argv;
	if (argc > 1)
		usage();
	log_init("vigil-statuspage", LOG_LVL_INFO);
	if (priv_child_init(err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		exit(EXIT_PERMANENT);
	}
	signal(SIGPIPE, SIG_IGN);
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
	memset(&d, 0, sizeof(d));
	settings_defaults(&d.conf);

	/* 1. The configure request. */
	/* No op of our own: set_log_level and ping are child.c's. */
	child_init(&d.ch, CHILD_FD, NULL, 0, &d);
	rc = child_configure(&d.ch, CHILD_CONFIGURE_MS, conf_from_args, &d,
	    err, sizeof(err));
	if (rc == CHILD_EOF)
		exit(0);
	if (rc == CHILD_ERR) {
		log_warnx("%s", err);
		exit(EXIT_PERMANENT);
	}
	log_setlevel(d.conf.log_level);

	/* 2. The segment, then the pages (their slots are checked
	 * against its capacity). */
	if (seg_map_fd(&d.seg, SEG_FD, 1, err, sizeof(err)) == -1 ||
	    d.seg.lay.magic != VIGIL_MAGIC) {
		if (d.seg.base != NULL)
			snprintf(err, sizeof(err), "segment not initialised");
		log_warnx("segment (fd %d): %s", SEG_FD, err);
		(void)child_fail(&d.ch, "bad_segment", err);
		exit(EXIT_PERMANENT);
	}
	if (pages_parse(&d, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		(void)child_fail(&d.ch, "bad_configure", err);
		exit(EXIT_PERMANENT);
	}

	/* 3. The loop.  Blocks of slots without a page are cleared: a
	 * page removed by a reload must not stay on show. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		fatalx("curl_global_init failed");
	if ((d.base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	if ((d.cv = curlev_new(d.base, page_done, &d, err, sizeof(err))) ==
	    NULL)
		fatalx("%s", err);
	memset(&zero, 0, sizeof(zero));
	for (s = 0; s < d.seg.lay.provider_cap; s++) {
		for (i = 0; i < d.npages && d.pages[i].pg_slot != s; i++)
			;
		if (i == d.npages)
			seqlock_write(seg_statuspage(&d.seg, s), &zero,
			    VIGIL_WORDS(struct vigil_status_page));
	}
	for (i = 0; i < d.npages; i++) {
		d.pages[i].pg_timer = evtimer_new(d.base, timer_cb,
		    &d.pages[i]);
		if (d.pages[i].pg_timer == NULL)
			fatalx("evtimer_new failed");
		page_fetch(&d.pages[i]);
	}
	d.ev_term = evsignal_new(d.base, SIGTERM, signal_cb, &d);
	d.ev_int = evsignal_new(d.base, SIGINT, signal_cb, &d);
	if (d.ev_term == NULL || d.ev_int == NULL ||
	    event_add(d.ev_term, NULL) == -1 || event_add(d.ev_int, NULL) == -1)
		fatalx("signal events failed");

	if (child_ready(&d.ch) == -1) {
		log_warnx("%s", d.ch.err);
		exit(1);
	}
	if (child_watch(&d.ch, d.base) == -1)
		fatalx("event_new failed");
	log_info("ready: %zu status page%s", d.npages, d.npages == 1 ? "" :
	    "s");

	event_base_dispatch(d.base);
	if (d.ch.status == CHILD_ERR)
		log_warnx("%s: stopping", d.ch.err);

	for (i = 0; i < d.npages; i++) {
		if (d.pages[i].pg_easy != NULL) {
			curlev_remove(d.cv, d.pages[i].pg_easy);
			curl_easy_cleanup(d.pages[i].pg_easy);
		}
		free(d.pages[i].pg_body);
		event_free(d.pages[i].pg_timer);
	}
	curlev_free(d.cv);
	event_free(d.ev_term);
	event_free(d.ev_int);
	event_base_free(d.base);
	curl_global_cleanup();
	free(d.pages);
	free(d.pages_text);
	seg_close(&d.seg);
	child_free(&d.ch);
	return d.ch.status == CHILD_ERR ? 1 : 0;
}
