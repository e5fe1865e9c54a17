/*
 * test_cache.c - api/cache.c: when a kept body is fresh, its ETags, the
 * reference counts that let responses outlive a generation, gzip that
 * inflates back to the very bytes, the provider table, and the parsing
 * of If-None-Match and Accept-Encoding.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <zlib.h>

#include "t.h"
#include "../../api/cache.h"

static struct evbuffer	*text(const char *, size_t);
static int		 inflates_to(const struct api_body *,
			    const unsigned char *, size_t);

/* An evbuffer holding s repeated to n bytes. */
static struct evbuffer *
text(const char *s, size_t n)
{
	struct evbuffer *eb = evbuffer_new();
	size_t l = strlen(s);

	while (n > 0) {
		evbuffer_add(eb, s, n < l ? n : l);
		n -= n < l ? n : l;
	}
	return eb;
}

/* 1 when b is one gzip member that zlib inflates to exactly p[0..n). */
static int
inflates_to(const struct api_body *b, const unsigned char *p, size_t n)
{
	unsigned char *buf = malloc(n + 16);
	z_stream z;
	int rc, same;

	memset(&z, 0, sizeof(z));
	if (buf == NULL || inflateInit2(&z, 15 + 16) != Z_OK)
		return 0;
	z.next_in = (Bytef *)(uintptr_t)b->b_data;
	z.avail_in = (uInt)b->b_len;
	z.next_out = buf;
	z.avail_out = (uInt)(n + 16);
	rc = inflate(&z, Z_FINISH);
	same = rc == Z_STREAM_END && z.total_out == n && z.avail_in == 0 &&
	    memcmp(buf, p, n) == 0;
	inflateEnd(&z);
	free(buf);
	return same;
}

static void
test_fresh(void)
{
	struct api_gen g = { 1000, 7, 0 }, h;
	struct api_cached c;
	struct evbuffer *eb = text("{\"x\":1}\n", 8);

	memset(&c, 0, sizeof(c));
	T_CHECK(!api_cached_fresh(&c, &g, 2000));	/* empty */
	T_CHECK(api_cached_store(&c, eb, &g, 2000, "application/json") == 0);
	T_CHECK(evbuffer_get_length(eb) == 8);		/* left as it was */
	T_CHECK(c.c_plain->b_len == 8 &&
	    memcmp(c.c_plain->b_data, "{\"x\":1}\n", 8) == 0);
	T_CHECK(api_cached_fresh(&c, &g, 2000));
	T_CHECK(api_cached_fresh(&c, &g, 2000 + API_CACHE_MAX_AGE_NS - 1));
	T_CHECK(!api_cached_fresh(&c, &g, 2000 + API_CACHE_MAX_AGE_NS));
	/* Any word of the generation moving makes it stale at once. */
	h = g;
	h.g_data++;
	T_CHECK(!api_cached_fresh(&c, &h, 2001));
	h = g;
	h.g_dir++;
	T_CHECK(!api_cached_fresh(&c, &h, 2001));
	h = g;
	h.g_own = 1;
	T_CHECK(!api_cached_fresh(&c, &h, 2001));
	api_cached_drop(&c);
	T_CHECK(!api_cached_fresh(&c, &g, 2000));
	T_CHECK(api_bodies_live() == 0);
	evbuffer_free(eb);
}

/* Past the maximum age, the same generation is "aging" until the stale
 * limit (served while refresh.c renders it again); any other generation
 * never is.  A body set by the worker takes its gzip form as given. */
static void
test_aging(void)
{
	struct api_gen g = { 1000, 7, 0 }, h;
	struct api_cached c;
	struct api_body *plain, *gz;
	uint64_t t = 5000;

	memset(&c, 0, sizeof(c));
	T_CHECK(!api_cached_aging(&c, &g, t));		/* empty */
	plain = api_body_new("{\"y\":2}\n", 8);
	api_cached_set(&c, plain, NULL, 0, &g, t, "application/json");
	T_CHECK(api_cached_aging(&c, &g, t + API_CACHE_MAX_AGE_NS));
	T_CHECK(api_cached_aging(&c, &g, t + API_CACHE_STALE_NS - 1));
	T_CHECK(!api_cached_aging(&c, &g, t + API_CACHE_STALE_NS));
	h = g;
	h.g_data += 2;
	T_CHECK(!api_cached_aging(&c, &h, t + API_CACHE_MAX_AGE_NS));
	/* Not tried: the first request asking compresses (too small here:
	 * no gzip form).  Tried with no gain: never again. */
	T_CHECK(!c.c_gzip_done && api_cached_gzip(&c) == NULL &&
	    c.c_gzip_done);
	plain = api_body_new("{\"y\":3}\n", 8);
	gz = api_body_new("gz", 2);
	api_cached_set(&c, plain, gz, 1, &g, t + 1, "application/json");
	T_CHECK(api_cached_gzip(&c) == gz);
	T_CHECK(api_bodies_live() == 2);
	api_cached_drop(&c);
	T_CHECK(api_bodies_live() == 0);
}

/* Two renders never share an ETag, even of one generation; the gzip
 * form has its own; both are quoted (strong). */
static void
test_etags(void)
{
	struct api_gen g = { 0x1234, 3, 0 };
	struct api_cached a, b;
	struct evbuffer *eb = text("x", 1);
	size_t n;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	T_CHECK(api_cached_store(&a, eb, &g, 0x2000, "text/plain") == 0);
	T_CHECK(api_cached_store(&b, eb, &g, 0x2001, "text/plain") == 0);
	T_CHECK(strcmp(a.c_etag, b.c_etag) != 0);
	T_CHECK(strcmp(a.c_etag, a.c_etag_gz) != 0);
	n = strlen(a.c_etag);
	T_CHECK(n > 2 && a.c_etag[0] == '"' && a.c_etag[n - 1] == '"' &&
	    strncmp(a.c_etag, "W/", 2) != 0);
	T_CHECKF(strcmp(a.c_etag, "\"1234-3-2000\"") == 0, "%s", a.c_etag);
	T_CHECK(strstr(a.c_etag_gz, "-gz\"") != NULL);
	api_cached_drop(&a);
	api_cached_drop(&b);
	evbuffer_free(eb);
}

/*
 * A body handed to a response lives until the response lets go of it,
 * whatever the cache does meanwhile; the last one out frees it.
 */
static void
test_refcount(void)
{
	struct api_gen g = { 1, 1, 0 }, g2 = { 2, 1, 0 };
	struct evbuffer *src = text("abcdefgh", 4096);
	struct evbuffer *r1 = evbuffer_new(), *r2 = evbuffer_new();
	struct api_cached c;
	unsigned char got[16];

	memset(&c, 0, sizeof(c));
	T_CHECK(api_cached_store(&c, src, &g, 10, "text/plain") == 0);
	T_CHECK(api_bodies_live() == 1);
	T_CHECK(api_body_add(r1, c.c_plain) == 0);
	T_CHECK(api_body_add(r2, c.c_plain) == 0);
	T_CHECK(c.c_plain->b_refs == 3);
	/* By reference: the response's bytes are the cache's bytes. */
	T_CHECK(evbuffer_pullup(r1, 1) == c.c_plain->b_data);
	/* A new generation replaces the cache's body; the old one stays
	 * alive for the two responses. */
	T_CHECK(api_cached_store(&c, src, &g2, 20, "text/plain") == 0);
	T_CHECK(api_bodies_live() == 2);
	evbuffer_drain(r1, 4096);		/* written: let go */
	T_CHECK(api_bodies_live() == 2);
	T_CHECK(evbuffer_copyout(r2, got, 8) == 8 &&
	    memcmp(got, "abcdefgh", 8) == 0);
	evbuffer_free(r2);			/* the connection closed */
	T_CHECK(api_bodies_live() == 1);
	api_cached_drop(&c);
	T_CHECK(api_bodies_live() == 0);
	evbuffer_free(r1);
	evbuffer_free(src);
}

static void
test_gzip(void)
{
	static const char line[] = "vigil_provider_up{provider=\"p17\"} 1\n";
	struct api_gen g = { 5, 5, 0 };
	struct evbuffer *big = text(line, 300000), *small = text(line, 100);
	struct api_cached c;
	struct api_body *z, *z2, *e;
	unsigned char *p;

	memset(&c, 0, sizeof(c));
	T_CHECK(api_cached_store(&c, big, &g, 1, "text/plain") == 0);
	z = api_cached_gzip(&c);
	T_CHECK(z != NULL);
	p = evbuffer_pullup(big, -1);
	T_CHECK(z != NULL && inflates_to(z, p, 300000));
	T_CHECK(z != NULL && z->b_len * 10 < 300000);
	z2 = api_cached_gzip(&c);
	T_CHECK(z2 == z);			/* once per body */
	T_CHECK(api_bodies_live() == 2);
	api_cached_drop(&c);
	T_CHECK(api_bodies_live() == 0);
	/* Under the threshold: plain only. */
	T_CHECK(api_cached_store(&c, small, &g, 1, "text/plain") == 0);
	T_CHECK(api_cached_gzip(&c) == NULL);
	api_cached_drop(&c);
	/* Incompressible bytes would grow: plain only. */
	{
		unsigned char rnd[4096];
		struct evbuffer *eb = evbuffer_new();
		uint32_t x = 2463534242u;
		size_t i;

		for (i = 0; i < sizeof(rnd); i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			rnd[i] = (unsigned char)x;
		}
		evbuffer_add(eb, rnd, sizeof(rnd));
		T_CHECK(api_cached_store(&c, eb, &g, 1, "x/y") == 0);
		T_CHECK(api_cached_gzip(&c) == NULL);
		api_cached_drop(&c);
		evbuffer_free(eb);
	}
	/* The empty body is a valid gzip member too. */
	e = api_gzip("", 0, API_GZIP_LEVEL);
	T_CHECK(e != NULL && inflates_to(e, (const unsigned char *)"", 0));
	if (e != NULL)
		api_body_unref(e);
	T_CHECK(api_bodies_live() == 0);
	evbuffer_free(big);
	evbuffer_free(small);
}

static void
test_etag_match(void)
{
	const char *t = "\"ab-1-2\"";

	T_CHECK(!api_etag_match(NULL, t));
	T_CHECK(api_etag_match("\"ab-1-2\"", t));
	T_CHECK(api_etag_match("W/\"ab-1-2\"", t));	/* weak comparison */
	T_CHECK(api_etag_match("\"x\", \"ab-1-2\"", t));
	T_CHECK(api_etag_match("\"x\",W/\"ab-1-2\" , \"y\"", t));
	T_CHECK(api_etag_match("*", t));
	T_CHECK(api_etag_match(" , \"ab-1-2\"", t));
	T_CHECK(!api_etag_match("\"ab-1-2-gz\"", t));
	T_CHECK(!api_etag_match("\"ab-1-\"", t));
	T_CHECK(!api_etag_match("ab-1-2", t));		/* unquoted */
	T_CHECK(!api_etag_match("\"ab-1-2", t));	/* unterminated */
	T_CHECK(!api_etag_match("\"x\" junk \"ab-1-2\"", t));
	T_CHECK(!api_etag_match("", t));
	T_CHECK(!api_etag_match("w/\"ab-1-2\"", t));	/* W/ is upper case */
}

static void
test_accepts_gzip(void)
{
	T_CHECK(!api_accepts_gzip(NULL));
	T_CHECK(!api_accepts_gzip(""));
	T_CHECK(api_accepts_gzip("gzip"));
	T_CHECK(api_accepts_gzip("GZip"));
	T_CHECK(api_accepts_gzip("x-gzip"));
	T_CHECK(api_accepts_gzip("gzip, deflate, br"));
	T_CHECK(api_accepts_gzip("br;q=1.0, gzip;q=0.8, *;q=0.1"));
	T_CHECK(api_accepts_gzip("deflate, gzip ; q=0.001"));
	T_CHECK(api_accepts_gzip("identity;q=0.5, *"));
	T_CHECK(!api_accepts_gzip("gzip;q=0"));
	T_CHECK(!api_accepts_gzip("gzip;q=0.000"));
	T_CHECK(!api_accepts_gzip("deflate, br"));
	T_CHECK(!api_accepts_gzip("identity"));
	T_CHECK(!api_accepts_gzip("gzipx"));
	T_CHECK(!api_accepts_gzip("*;q=0"));
	/* Named with q=0, "*" does not bring it back. */
	T_CHECK(!api_accepts_gzip("gzip;q=0, *"));
	T_CHECK(!api_accepts_gzip("gzip;q=2"));		/* malformed q */
	T_CHECK(!api_accepts_gzip("gzip;q=abc"));
	T_CHECK(api_accepts_gzip("gzip;level=9"));	/* not a q */
	T_CHECK(api_accepts_gzip("gzip;level=9;q=0.5"));
}

static void
test_names(void)
{
	struct api_names ns;
	struct api_named *a, *b;
	char name[16];
	int i, added = 0;

	T_CHECK(api_names_init(&ns, 4) == 0);
	T_CHECK(api_names_find(&ns, "openai", 1) == NULL);
	a = api_names_add(&ns, "openai", 0);
	b = api_names_add(&ns, "anthropic", 3);
	T_CHECK(a != NULL && b != NULL && a != b);
	T_CHECK(api_names_find(&ns, "openai", 1) == a && a->n_idx == 0);
	T_CHECK(api_names_find(&ns, "anthropic", 1) == b && b->n_idx == 3);
	T_CHECK(api_names_find(&ns, "google", 1) == NULL);
	/* A body kept in an entry goes with the directory generation. */
	{
		struct evbuffer *eb = text("x", 10);
		struct api_gen g = { 1, 1, 0 };

		T_CHECK(api_cached_store(&a->n_c, eb, &g, 1, "x/y") == 0);
		T_CHECK(api_bodies_live() == 1);
		T_CHECK(api_names_find(&ns, "openai", 2) == NULL);
		T_CHECK(api_bodies_live() == 0);
		T_CHECK(api_names_find(&ns, "anthropic", 2) == NULL);
		evbuffer_free(eb);
	}
	/* Bounded: names that were never 200 cannot be added past half. */
	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		if (api_names_add(&ns, name, (uint32_t)i) != NULL)
			added++;
	}
	T_CHECK(added > 4 && (size_t)added * 2 <= ns.ns_cap);
	T_CHECK(api_names_find(&ns, "p0", 2) != NULL);
	T_CHECK(api_names_add(&ns, "", 0) == NULL);
	api_names_free(&ns);
}

int
main(void)
{
	T_RUN(test_fresh);
	T_RUN(test_aging);
	T_RUN(test_etags);
	T_RUN(test_refcount);
	T_RUN(test_gzip);
	T_RUN(test_etag_match);
	T_RUN(test_accepts_gzip);
	T_RUN(test_names);
	return t_done();
}
