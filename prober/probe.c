/*
 * probe.c - one check's transfer and its sample.
 *
 * The checks run on the curl multi + libevent glue of common/curlev.c;
 * here are the options of a check, what it reads, and how its result
 * becomes a sample.  Single-threaded: no locks.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include <vigil/vigil.h>

#include "curlev.h"
#include "kinds.h"
#include "outcome.h"
#include "probe.h"
#include "ratelimit.h"
#include "ring.h"

static void	probe_done(CURL *, CURLcode, void *);
static size_t	write_cb(char *, size_t, size_t, void *);
static size_t	header_cb(char *, size_t, size_t, void *);
static uint32_t	us32(curl_off_t);
static CURLcode	ca_setup(CURL *, const char *);
static int	is_dir(const char *);

/*
 * A check ended: hand it to its owner.  The easy handle has left the
 * multi handle (its connection stays in the multi's cache for the next
 * check), so the owner's callback may start it again.
 */
static void
probe_done(CURL *easy, CURLcode cc, void *arg)
{
	struct probe_xfer *x = NULL;

	(void)arg;
	curl_easy_getinfo(easy, CURLINFO_PRIVATE, &x);
	if (x == NULL)
		return;
	x->busy = 0;
	if (x->done != NULL)
		x->done(x, cc, x->arg);
}

/*
 * Create the multi handle and hook it to base.  Returns 0, or -1 with
 * err filled.
 */
int
probe_engine_init(struct probe_engine *eng, struct event_base *base,
    char *err, size_t errlen)
{
	memset(eng, 0, sizeof(*eng));
	if ((eng->cv = curlev_new(base, probe_done, eng, err, errlen)) ==
	    NULL)
		return -1;
	return 0;
}

/* Every xfer must be freed (or at least aborted) first. */
void
probe_engine_free(struct probe_engine *eng)
{
	curlev_free(eng->cv);
	memset(eng, 0, sizeof(*eng));
}

/*
 * Keep the body up to PROBE_BODY_MAX bytes.  Beyond it, returning short
 * makes curl abort with CURLE_WRITE_ERROR; `capped` tells the classifier
 * that it was our doing (a 1 GiB "models list" is a broken response, and
 * must not cost us the memory or the bandwidth).
 */
static size_t
write_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct probe_xfer *x = arg;
	size_t n = size * nmemb, want;
	char *nb;

	x->received += n;
	if (n > PROBE_BODY_MAX - x->len) {
		x->capped = 1;
		return 0;
	}
	if (x->len + n + 1 > x->alloc) {
		want = x->alloc ? x->alloc : 4096;
		while (want < x->len + n + 1)
			want *= 2;
		if (want > PROBE_BODY_MAX + 1)
			want = PROBE_BODY_MAX + 1;
		if ((nb = realloc(x->body, want)) == NULL)
			return 0;
		x->body = nb;
		x->alloc = want;
	}
	memcpy(x->body + x->len, p, n);
	x->len += n;
	x->body[x->len] = '\0';
	/* Time to first token: the piece that brought the first content
	 * token (stream.c), never a keep-alive or a role-only delta. */
	if (x->gen && stream_feed(&x->st, p, n) && x->first_event_ns == 0)
		x->first_event_ns = now_mono_ns();
	return n;
}

/*
 * Keep the rate-limit headers of the final response (ratelimit.c reads
 * only its few names, each value bounded; a new status line, of an
 * interim 1xx or a proxy, starts over) and when its status line came:
 * the relative waits count from there.
 */
static size_t
header_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct probe_xfer *x = arg;
	size_t n = size * nmemb;

	if (n >= 5 && strncmp(p, "HTTP/", 5) == 0)
		x->hdr_mono_ns = now_mono_ns();
	rl_capture_line(&x->hdr, p, n);
	return n;
}

static int
is_dir(const char *path)
{
	struct stat sb;

	return path != NULL && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/*
 * Where trust comes from.  A ca_file naming a directory is a hashed
 * (openssl rehash) directory: CURLOPT_CAPATH, alone.  Another ca_file is
 * the bundle to load (CURLOPT_CAINFO), as before.  Without one, if
 * libcurl was built with a default CA directory (Debian: /etc/ssl/certs),
 * that directory alone: OpenSSL then reads the one CA a server's chain
 * needs, where the default bundle (about 140 certificates) would be
 * parsed into every new connection's store, some 400 kB of heap and
 * 20 ms of CPU each time (libcurl caches the store only without a
 * CAPATH).  Without a default directory, libcurl's defaults stay.
 * Verification is on in every case.
 */
static CURLcode
ca_setup(CURL *e, const char *ca_file)
{
	char *capath = NULL;
	CURLcode rc;

	if (ca_file != NULL && ca_file[0] != '\0') {
		if (!is_dir(ca_file))
			return curl_easy_setopt(e, CURLOPT_CAINFO, ca_file);
		if ((rc = curl_easy_setopt(e, CURLOPT_CAPATH, ca_file)) !=
		    CURLE_OK)
			return rc;
		return curl_easy_setopt(e, CURLOPT_CAINFO, NULL);
	}
#if LIBCURL_VERSION_NUM >= 0x075400	/* CURLINFO_CAPATH: 7.84.0 */
	if (curl_easy_getinfo(e, CURLINFO_CAPATH, &capath) == CURLE_OK &&
	    is_dir(capath))
		return curl_easy_setopt(e, CURLOPT_CAINFO, NULL);
#endif
	(void)capath;
	return CURLE_OK;
}

/*
 * Set up a reusable transfer.  The options are set once; each check
 * re-adds the same easy handle.  TLS verification stays on; redirects are
 * not followed (a redirect to another host would carry the key's header
 * there: it is reported as "other" instead); only http and https.
 * Takes ownership of o->headers even on failure.  Returns 0, or -1.
 */
int
probe_xfer_init(struct probe_xfer *x, struct probe_engine *eng,
    const struct probe_opts *o, probe_done_fn done, void *arg, char *err,
    size_t errlen)
{
	CURL *e;
	CURLcode rc = CURLE_OK;

	memset(x, 0, sizeof(*x));
	x->eng = eng;
	x->headers = o->headers;
	x->gen = o->gen;
	stream_init(&x->st, o->kind);
	x->done = done;
	x->arg = arg;
	if ((e = x->easy = curl_easy_init()) == NULL) {
		snprintf(err, errlen, "curl_easy_init failed");
		return -1;
	}
#define SET(opt, val) do {						\
	if (rc == CURLE_OK)						\
		rc = curl_easy_setopt(e, opt, val);			\
} while (0)
	SET(CURLOPT_URL, o->url);
	SET(CURLOPT_PRIVATE, x);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_USERAGENT, "vigil/" VIGIL_VERSION);
	SET(CURLOPT_HTTPHEADER, x->headers);
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	if (rc == CURLE_OK)
		rc = ca_setup(e, o->ca_file);
	SET(CURLOPT_DNS_CACHE_TIMEOUT, 60L);
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	SET(CURLOPT_ACCEPT_ENCODING, "");
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)PROBE_BODY_MAX);
	SET(CURLOPT_WRITEFUNCTION, write_cb);
	SET(CURLOPT_WRITEDATA, x);
	SET(CURLOPT_HEADERFUNCTION, header_cb);
	SET(CURLOPT_HEADERDATA, x);
	if (o->post != NULL)
		SET(CURLOPT_COPYPOSTFIELDS, o->post);
	if (o->fresh) {
		SET(CURLOPT_FRESH_CONNECT, 1L);
		SET(CURLOPT_FORBID_REUSE, 1L);
	}
#undef SET
	if (rc == CURLE_OK && probe_xfer_set_timeout(x, o->timeout_ms) == -1)
		rc = CURLE_BAD_FUNCTION_ARGUMENT;
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "curl option: %s", curl_easy_strerror(rc));
		probe_xfer_free(x);
		return -1;
	}
	return 0;
}

/*
 * The whole check is bounded by timeout_ms.  The connect phase gets the
 * same bound, explicitly, so curl's 300 s connect default never applies.
 */
int
probe_xfer_set_timeout(struct probe_xfer *x, uint32_t timeout_ms)
{
	if (curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, (long)timeout_ms) !=
	    CURLE_OK || curl_easy_setopt(x->easy, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)timeout_ms) != CURLE_OK)
		return -1;
	return 0;
}

/*
 * Point the transfer at another request (the generation check's next
 * model): its URL and, when post is not NULL, its body (copied).  Not
 * while it runs.  Returns 0, or -1.
 */
int
probe_xfer_set_request(struct probe_xfer *x, const char *url,
    const char *post)
{
	if (x->busy || curl_easy_setopt(x->easy, CURLOPT_URL, url) !=
	    CURLE_OK)
		return -1;
	if (post != NULL && curl_easy_setopt(x->easy, CURLOPT_COPYPOSTFIELDS,
	    post) != CURLE_OK)
		return -1;
	return 0;
}

/*
 * Start one check.  Its done callback runs from the event loop when it
 * ends, however it ends.  Returns 0, or -1 (already running, or curl
 * refused the handle).
 */
int
probe_xfer_start(struct probe_xfer *x)
{
	if (x->busy)
		return -1;
	x->len = 0;
	x->received = 0;
	x->capped = 0;
	x->first_event_ns = 0;
	stream_reset(&x->st);
	x->hdr_mono_ns = 0;
	rl_capture_reset(&x->hdr);
	if (x->body != NULL)
		x->body[0] = '\0';
	x->start_wall_ns = now_wall_ns();
	x->start_mono_ns = now_mono_ns();
	if (curlev_add(x->eng->cv, x->easy) == -1)
		return -1;
	x->busy = 1;
	/*
	 * Start it now rather than on curl's 0 ms timer: one pass of the
	 * event loop less per check.  The done callback may run from here
	 * (a refused connection); the caller is prepared for that.
	 */
	curlev_run(x->eng->cv);
	return 0;
}

/* Stop a running check without calling its done callback. */
void
probe_xfer_abort(struct probe_xfer *x)
{
	if (x->busy && x->easy != NULL)
		curlev_remove(x->eng->cv, x->easy);
	x->busy = 0;
}

void
probe_xfer_free(struct probe_xfer *x)
{
	probe_xfer_abort(x);
	if (x->easy != NULL)
		curl_easy_cleanup(x->easy);
	kind_headers_free(x->headers);
	stream_free(&x->st);
	free(x->body);
	memset(x, 0, sizeof(*x));
}

static uint32_t
us32(curl_off_t v)
{
	if (v < 0)
		return 0;
	return v > (curl_off_t)UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/*
 * Fill s from a finished transfer: times, phases (from curl, each from
 * the start), status, bytes, the outcome with its short error code, and
 * what the headers say about rate limits: rl[] on every answer; for a
 * rate-limited one the provider's hint (rl_hint) in retry_after_ms with
 * VIGIL_SF_RETRY_HINT, which check.c turns into the wait.
 */
void
probe_xfer_sample(const struct probe_xfer *x, int kind, CURLcode cc,
    struct vigil_sample *s)
{
	struct probe_result r;
	struct rl_result rl;
	curl_off_t t;
	long status = 0;
	uint64_t elapsed_us, hdr_ms;
	uint32_t hint;

	memset(s, 0, sizeof(*s));
	s->wall_ns = x->start_wall_ns;
	s->mono_ns = x->start_mono_ns;
	elapsed_us = (now_mono_ns() - x->start_mono_ns) / 1000;

	t = 0;
	curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME_T, &t);
	s->latency_us = t > 0 ? us32(t) : us32((curl_off_t)elapsed_us);
	t = 0;
	curl_easy_getinfo(x->easy, CURLINFO_NAMELOOKUP_TIME_T, &t);
	s->dns_us = us32(t);
	t = 0;
	curl_easy_getinfo(x->easy, CURLINFO_CONNECT_TIME_T, &t);
	s->connect_us = us32(t);
	t = 0;
	curl_easy_getinfo(x->easy, CURLINFO_APPCONNECT_TIME_T, &t);
	s->tls_us = us32(t);
	t = 0;
	curl_easy_getinfo(x->easy, CURLINFO_STARTTRANSFER_TIME_T, &t);
	s->ttfb_us = us32(t);
	if (x->gen) {
		/*
		 * Time to first token, on curl's clock like the phases: our
		 * own start stamp is a little earlier than curl's (the multi
		 * handle starts the transfer on its next timer tick), so
		 * the difference of the two totals is taken off.
		 */
		uint64_t raw, skew;

		s->flags |= VIGIL_SF_GENERATION;
		s->ttfb_us = 0;
		if (x->first_event_ns > x->start_mono_ns) {
			raw = (x->first_event_ns - x->start_mono_ns) / 1000;
			skew = elapsed_us > s->latency_us ?
			    elapsed_us - s->latency_us : 0;
			raw = raw > skew ? raw - skew : 1;
			if (raw > s->latency_us)
				raw = s->latency_us;
			s->ttfb_us = raw > 0 ? (uint32_t)raw : 1;
		}
	}
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	s->http_status = status > 0 && status < 1000 ? (uint16_t)status : 0;
	s->bytes = x->received > UINT32_MAX ? UINT32_MAX :
	    (uint32_t)x->received;

	memset(&r, 0, sizeof(r));
	r.curl_code = cc;
	r.http_status = status;
	r.capped = x->capped;
	r.kind = kind;
	r.body = x->body;
	r.body_len = x->len;
	r.body_ok = -1;
	if (cc == CURLE_OK && status >= 200 && status <= 299) {
		r.body_ok = x->gen ? 0 : kind_validate_body(kind, x->body,
		    x->len);
		/* A stream is judged by what it said (stream.c), its usage
		 * counted whatever it ended with. */
		if (x->gen && (x->st.flags & STREAM_USAGE)) {
			s->tokens_in = x->st.tokens_in;
			s->tokens_out = x->st.tokens_out;
		}
	}
	if (x->gen && r.body_ok == 0)
		s->outcome = (uint8_t)stream_outcome(&x->st, x->expect,
		    s->error, sizeof(s->error));
	else
		s->outcome = (uint8_t)outcome_classify(&r, s->error,
		    sizeof(s->error));
	if (s->http_status == 0)
		return;
	/* Rounded up: a wait that counts from the answer must not end
	 * before the provider's own moment does. */
	hdr_ms = x->hdr_mono_ns > x->start_mono_ns ?
	    (x->hdr_mono_ns - x->start_mono_ns + 999999) / 1000000 :
	    elapsed_us / 1000 + 1;
	rl_parse(&x->hdr, s->wall_ns, hdr_ms > UINT32_MAX ? UINT32_MAX :
	    (uint32_t)hdr_ms, &rl);
	memcpy(s->rl, rl.rl, sizeof(s->rl));
	if (s->outcome == VIGIL_OUT_RATE_LIMITED && rl_hint(&rl, &hint)) {
		s->retry_after_ms = hint;
		s->flags |= VIGIL_SF_RETRY_HINT;
	}
}
