/*
 * cache.c - rendered bodies kept per generation of the segment, their
 * reference counts, their gzip form, and the two request headers that
 * choose among them (If-None-Match, Accept-Encoding).  cache.h says
 * why a body may be kept and for how long.
 */
#include <ctype.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <zlib.h>

#include "cache.h"

/* Allocated and not yet freed; refresh.c's worker allocates too. */
static atomic_size_t	bodies_live;

static void	body_cleanup(const void *, size_t, void *);
static const char *ows(const char *);
static int	qvalue(const char *, const char *);
static size_t	name_hash(const char *);

/*
 * The generation of the segment now (cache.h).  The beat is loaded first,
 * with acquire: it pairs with the aggregator's release store after its
 * writes, so a sum taken after seeing a new beat includes every write of
 * that publish, and a body rendered after these loads holds at least
 * what they count.  A write in progress (an odd word) or one that lands
 * after the sum moves the next sum: the body rendered meanwhile is then
 * replaced, never kept under the newer generation.
 */
void
api_gen_read(struct api_watch *w, const struct vigil_client *vc,
    struct api_gen *g)
{
	uint64_t beat, sum = 0;
	uint32_t i;

	beat = vc->hdr != NULL ?
	    VIGIL_LOAD_ACQ(&vc->hdr->aggregator_beat_ns) : 0;
	if (!w->w_valid || beat != w->w_beat) {
		for (i = 0; i < vc->lay.provider_cap; i++)
			sum += VIGIL_LOAD_ACQ(&vigil__stats_block(vc, i)->seq);
		w->w_beat = beat;
		w->w_data = sum;
		w->w_valid = 1;
	}
	g->g_data = w->w_data;
	g->g_dir = vigil_dir_gen(vc);
	g->g_own = 0;
}

int
api_gen_equal(const struct api_gen *a, const struct api_gen *b)
{
	return a->g_data == b->g_data && a->g_dir == b->g_dir &&
	    a->g_own == b->g_own;
}

/* 1 when c holds a body rendered under g less than the maximum age
 * before now (CLOCK_MONOTONIC). */
int
api_cached_fresh(const struct api_cached *c, const struct api_gen *g,
    uint64_t now)
{
	return c->c_plain != NULL && api_gen_equal(&c->c_gen, g) &&
	    now - c->c_at < API_CACHE_MAX_AGE_NS;
}

/* 1 when c's body is of generation g and past the maximum age but under
 * API_CACHE_STALE_NS: it may answer while refresh.c renders it again. */
int
api_cached_aging(const struct api_cached *c, const struct api_gen *g,
    uint64_t now)
{
	return c->c_plain != NULL && api_gen_equal(&c->c_gen, g) &&
	    now - c->c_at < API_CACHE_STALE_NS;
}

/*
 * Keep what eb holds (eb is left as it was) as c's body, rendered under
 * g at now, with Content-Type ctype (a static string).  The old bodies
 * lose the cache's reference; responses still sending them keep theirs.
 * The ETag names the generation and the render's instant, so that two
 * renders of the same generation (the maximum age passed) never share
 * one: a strong ETag promises the same bytes.  Returns 0, or -1 when
 * memory ran out (c is then empty).
 */
int
api_cached_store(struct api_cached *c, struct evbuffer *eb,
    const struct api_gen *g, uint64_t now, const char *ctype)
{
	struct api_body *b;

	api_cached_drop(c);
	if ((b = api_body_from(eb)) == NULL)
		return -1;
	api_cached_set(c, b, NULL, 0, g, now, ctype);
	return 0;
}

/*
 * Make plain and gz (its gzip form, or NULL) c's bodies, rendered under
 * g at now: c takes the references given.  gz_done: compression was
 * tried, and a NULL gz means it gained nothing; else the first request
 * that asks for gzip compresses (api_cached_gzip).
 */
void
api_cached_set(struct api_cached *c, struct api_body *plain,
    struct api_body *gz, int gz_done, const struct api_gen *g, uint64_t now,
    const char *ctype)
{
	api_cached_drop(c);
	c->c_plain = plain;
	c->c_gzip = gz;
	c->c_gzip_done = gz_done;
	c->c_gen = *g;
	c->c_at = now;
	c->c_ctype = ctype;
	snprintf(c->c_etag, sizeof(c->c_etag), "\"%llx-%llx-%llx\"",
	    (unsigned long long)g->g_data, (unsigned long long)g->g_dir,
	    (unsigned long long)now);
	snprintf(c->c_etag_gz, sizeof(c->c_etag_gz), "\"%llx-%llx-%llx-gz\"",
	    (unsigned long long)g->g_data, (unsigned long long)g->g_dir,
	    (unsigned long long)now);
}

/*
 * c's body in gzip, compressed on the first call for this body; NULL
 * when it is under API_GZIP_MIN, would not shrink, or zlib failed (the
 * plain body is then the answer).
 */
struct api_body *
api_cached_gzip(struct api_cached *c)
{
	if (c->c_plain == NULL)
		return NULL;
	if (!c->c_gzip_done) {
		c->c_gzip_done = 1;
		c->c_gzip = api_gzip_form(c->c_plain);
	}
	return c->c_gzip;
}

/* b's gzip form, one reference; NULL when b is under API_GZIP_MIN, would
 * not shrink, or zlib failed (the plain body is then the answer). */
struct api_body *
api_gzip_form(const struct api_body *b)
{
	struct api_body *gz;

	if (b->b_len < API_GZIP_MIN ||
	    (gz = api_gzip(b->b_data, b->b_len, API_GZIP_LEVEL)) == NULL)
		return NULL;
	if (gz->b_len >= b->b_len) {
		api_body_unref(gz);
		return NULL;
	}
	return gz;
}

/* Let go of c's bodies: c is empty afterwards. */
void
api_cached_drop(struct api_cached *c)
{
	if (c->c_plain != NULL)
		api_body_unref(c->c_plain);
	if (c->c_gzip != NULL)
		api_body_unref(c->c_gzip);
	memset(c, 0, sizeof(*c));
}

/* A body holding a copy of len bytes at p, one reference; NULL when
 * memory ran out. */
struct api_body *
api_body_new(const void *p, size_t len)
{
	struct api_body *b;

	if ((b = malloc(sizeof(*b) + len)) == NULL)
		return NULL;
	b->b_refs = 1;
	b->b_len = len;
	memcpy(b->b_data, p, len);
	atomic_fetch_add_explicit(&bodies_live, 1, memory_order_relaxed);
	return b;
}

/* A body holding a copy of what eb holds (eb is left as it was), one
 * reference; NULL when memory ran out. */
struct api_body *
api_body_from(struct evbuffer *eb)
{
	size_t len = evbuffer_get_length(eb);
	struct api_body *b;

	if ((b = malloc(sizeof(*b) + len)) == NULL)
		return NULL;
	if (evbuffer_copyout(eb, b->b_data, len) != (ev_ssize_t)len) {
		free(b);
		return NULL;
	}
	b->b_refs = 1;
	b->b_len = len;
	atomic_fetch_add_explicit(&bodies_live, 1, memory_order_relaxed);
	return b;
}

void
api_body_unref(struct api_body *b)
{
	if (--b->b_refs > 0)
		return;
	free(b);
	atomic_fetch_sub_explicit(&bodies_live, 1, memory_order_relaxed);
}

/* libevent's call when the last byte of a reference has left eb. */
static void
body_cleanup(const void *data, size_t len, void *arg)
{
	(void)data;
	(void)len;
	api_body_unref(arg);
}

/*
 * Append b to eb by reference, no copy: b gains a reference that
 * libevent gives back (body_cleanup) once the bytes are written or eb
 * is freed.  Returns 0 or -1.
 */
int
api_body_add(struct evbuffer *eb, struct api_body *b)
{
	if (b->b_len == 0)
		return 0;
	b->b_refs++;
	if (evbuffer_add_reference(eb, b->b_data, b->b_len, body_cleanup,
	    b) == -1) {
		b->b_refs--;
		return -1;
	}
	return 0;
}

/*
 * len bytes at p as one gzip member (RFC 1952) at zlib level `level`, in
 * a new body of one reference; NULL on failure.  One deflate call into
 * deflateBound's worst case, then the block is shrunk to fit.
 */
struct api_body *
api_gzip(const void *p, size_t len, int level)
{
	struct api_body *b, *nb;
	z_stream z;
	size_t cap;
	int rc;

	if (len > UINT_MAX / 2)
		return NULL;
	memset(&z, 0, sizeof(z));
	/*
	 * 15 + 16: the largest window, with gzip's header and trailer.
	 * memLevel 6, not the default 8: its smaller hash table stays in
	 * cache, 10% faster and a little smaller on the /metrics of 1,000
	 * providers (6.6 ms, 15.8:1 against 7.4 ms, 15.2:1).
	 */
	if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 6,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		return NULL;
	cap = deflateBound(&z, (uLong)len);
	if ((b = malloc(sizeof(*b) + cap)) == NULL) {
		deflateEnd(&z);
		return NULL;
	}
	z.next_in = (Bytef *)(uintptr_t)p;	/* zlib does not write it */
	z.avail_in = (uInt)len;
	z.next_out = b->b_data;
	z.avail_out = (uInt)cap;
	rc = deflate(&z, Z_FINISH);
	b->b_len = cap - z.avail_out;
	deflateEnd(&z);
	if (rc != Z_STREAM_END) {
		free(b);
		return NULL;
	}
	if ((nb = realloc(b, sizeof(*b) + b->b_len)) != NULL)
		b = nb;
	b->b_refs = 1;
	atomic_fetch_add_explicit(&bodies_live, 1, memory_order_relaxed);
	return b;
}

/* How many bodies exist (the tests' leak check). */
size_t
api_bodies_live(void)
{
	return atomic_load_explicit(&bodies_live, memory_order_relaxed);
}

static const char *
ows(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/*
 * Does If-None-Match (h, NULL when absent) name etag?  h is "*" or a
 * list of entity tags, each possibly W/ (If-None-Match compares weakly:
 * RFC 9110, 13.1.2).  A malformed list matches nothing, so the client
 * gets the body.
 */
int
api_etag_match(const char *h, const char *etag)
{
	size_t elen = strlen(etag);
	const char *q;

	if (h == NULL)
		return 0;
	for (;;) {
		h = ows(h);
		while (*h == ',')
			h = ows(h + 1);
		if (*h == '\0')
			return 0;
		if (*h == '*')
			return 1;
		if (strncmp(h, "W/", 2) == 0)
			h += 2;
		if (*h != '"' || (q = strchr(h + 1, '"')) == NULL)
			return 0;
		if ((size_t)(q + 1 - h) == elen && memcmp(h, etag, elen) == 0)
			return 1;
		h = ows(q + 1);
		if (*h != ',' && *h != '\0')
			return 0;
	}
}

/*
 * The q of one Accept-Encoding element's parameters [p, end), in
 * thousandths: 1000 when there is none, 0 for q=0 or a malformed q (a
 * client that cannot say what it wants gets the plain body).
 */
static int
qvalue(const char *p, const char *end)
{
	int v = 0, scale = 100;

	for (;;) {
		while (p < end && *p != ';')
			p++;
		if (p >= end)
			return 1000;
		p = ows(p + 1);
		if ((*p == 'q' || *p == 'Q') && p + 1 < end && p[1] == '=')
			break;
	}
	p += 2;
	if (p < end && (*p == '0' || *p == '1'))
		v = (*p++ - '0') * 1000;
	else
		return 0;
	if (p < end && *p == '.')
		for (p++; p < end && isdigit((unsigned char)*p) && scale > 0;
		    p++, scale /= 10)
			v += (*p - '0') * scale;
	p = ows(p);
	if ((p < end && *p != ';') || v > 1000)
		return 0;
	return v;
}

/*
 * Does Accept-Encoding (h, NULL when absent) accept gzip?  Yes when it
 * names gzip or x-gzip with a q over 0, or, naming neither, "*" with a
 * q over 0 (RFC 9110, 12.5.3).
 */
int
api_accepts_gzip(const char *h)
{
	const char *p, *tok, *end;
	size_t n;
	int gz = -1, star = -1;

	if (h == NULL)
		return 0;
	for (p = h; *p != '\0'; p = *end == ',' ? end + 1 : end) {
		tok = ows(p);
		for (end = tok; *end != '\0' && *end != ','; end++)
			;
		for (n = 0; tok + n < end && tok[n] != ';' && tok[n] != ' ' &&
		    tok[n] != '\t'; n++)
			;
		if ((n == 4 && strncasecmp(tok, "gzip", 4) == 0) ||
		    (n == 6 && strncasecmp(tok, "x-gzip", 6) == 0))
			gz = qvalue(tok + n, end);
		else if (n == 1 && *tok == '*')
			star = qvalue(tok + n, end);
	}
	return gz >= 0 ? gz > 0 : star > 0;
}

/* FNV-1a: names are short and chosen by the operator. */
static size_t
name_hash(const char *s)
{
	uint64_t h = UINT64_C(14695981039346656037);

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * UINT64_C(1099511628211);
	return (size_t)h;
}

/* A table for up to `slots` providers (the segment's provider_cap). */
int
api_names_init(struct api_names *ns, size_t slots)
{
	memset(ns, 0, sizeof(*ns));
	ns->ns_cap = 16;
	while (ns->ns_cap < 2 * slots + 1)
		ns->ns_cap *= 2;
	if ((ns->ns_t = calloc(ns->ns_cap, sizeof(*ns->ns_t))) == NULL)
		return -1;
	return 0;
}

/*
 * The entry of name under directory generation dir, or NULL.  A
 * different dir than the entries': every entry is dropped first (a slot
 * may now hold another provider under the same name).
 */
struct api_named *
api_names_find(struct api_names *ns, const char *name, uint64_t dir)
{
	size_t i;

	if (dir != ns->ns_dir) {
		api_names_clear(ns);
		ns->ns_dir = dir;
		return NULL;
	}
	for (i = name_hash(name) & (ns->ns_cap - 1); ns->ns_t[i].n_name[0];
	    i = (i + 1) & (ns->ns_cap - 1))
		if (strcmp(ns->ns_t[i].n_name, name) == 0)
			return &ns->ns_t[i];
	return NULL;
}

/* A new, empty entry for name (not in the table) at slot idx; NULL when
 * the table is half full or name is too long for it. */
struct api_named *
api_names_add(struct api_names *ns, const char *name, uint32_t idx)
{
	struct api_named *e;
	size_t i;

	if (strlen(name) >= sizeof(e->n_name) || name[0] == '\0' ||
	    2 * (ns->ns_used + 1) > ns->ns_cap)
		return NULL;
	for (i = name_hash(name) & (ns->ns_cap - 1); ns->ns_t[i].n_name[0];
	    i = (i + 1) & (ns->ns_cap - 1))
		;
	e = &ns->ns_t[i];
	memcpy(e->n_name, name, strlen(name) + 1);
	e->n_idx = idx;
	ns->ns_used++;
	return e;
}

void
api_names_clear(struct api_names *ns)
{
	size_t i;

	for (i = 0; i < ns->ns_cap && ns->ns_used > 0; i++)
		if (ns->ns_t[i].n_name[0]) {
			api_cached_drop(&ns->ns_t[i].n_c);
			ns->ns_t[i].n_name[0] = '\0';
			ns->ns_used--;
		}
}

void
api_names_free(struct api_names *ns)
{
	if (ns->ns_t != NULL)
		api_names_clear(ns);
	free(ns->ns_t);
	memset(ns, 0, sizeof(*ns));
}
