/*
 * cache.h - vigil-api's rendered bodies, kept for one generation of the
 * segment and served by reference.
 *
 * A view without query parameters depends only on the segment and on the
 * clock.  The segment's content changes when the aggregator publishes:
 * each tick it writes the stats blocks that changed (each write moves
 * the block's sequence word by 2), then stores aggregator_beat_ns with
 * release (aggregator/engine.c, agg_flush); and when vigild changes the
 * directory (dir_gen).  So the generation of the data is the sum of the
 * stats blocks' sequence words, summed again only when the beat has
 * moved (a write is always followed by a beat, so no write is missed;
 * O(provider_cap) loads once a tick, not per request), with dir_gen.
 * The rest of what the aggregator writes moves these too: a provider's
 * model stats blocks are written only with its stats block, the route
 * block's order is each stats block's route_rank, and the model names
 * are the supervisor's, published with the directory (dir_gen); were
 * one of them written alone, the maximum age below would still bound
 * it.  A body rendered under one generation answers every request until
 * it moves: the next request after a publish that changed something gets
 * a new render, and a tick that changed nothing (most of them, with few
 * providers) costs no render at all.  What depends on the clock alone
 * (generated_at, the stale flags, the heartbeat's age, the overall
 * status once the aggregator is stale) is bounded by
 * API_CACHE_MAX_AGE_NS: never more than that behind the clock.
 *
 * Bodies are immutable and reference-counted: a response holds a
 * reference (evbuffer_add_reference) until the kernel has taken the
 * bytes, so a new generation never waits for a slow client and an old
 * body is freed by whoever lets go of it last.  The gzip form is made
 * once per body, on the first request that asks for it.
 *
 * Everything here runs on vigil-api's event loop, but for the bodies that
 * refresh.c's worker makes (api_body_from, api_gzip_form) and hands over
 * under its mutex: the live count is atomic for them, nothing else is
 * shared.
 */
#ifndef VIGIL_API_CACHE_H
#define VIGIL_API_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include <vigil/vigil.h>

struct evbuffer;

/*
 * A body older than this is rendered again even when the generation has
 * not moved, for what depends on the clock: a stale flag shows at most
 * this late (the shortest staleness limit is 3 intervals of a provider,
 * 5 s for the aggregator), the heartbeat's age and generated_at are at
 * most this old.  One render a second is nothing; one per tick (50 ms)
 * would be 20 renders and gzips a second of an unchanged 3.8 MB /metrics
 * at 1,000 providers, each a 10 ms stall of the event loop.
 */
#define API_CACHE_MAX_AGE_NS	UINT64_C(1000000000)
/*
 * A body past the maximum age, of the generation still current, is
 * rendered again off the event loop (refresh.c) and served meanwhile,
 * up to this age; older, the request renders it on the loop.  So the
 * clock's fields lag by at most this much, whatever the worker does.
 */
#define API_CACHE_STALE_NS	UINT64_C(2000000000)
/* Smaller bodies go out plain: gzip's header and a client's inflate
 * cost more than the few hundred bytes they would save. */
#define API_GZIP_MIN		1024
/* zlib's level: 1 compresses the 3.8 MB /metrics of 1,000 providers
 * about 16:1 in a third of the time of the default 6 (16.5:1). */
#define API_GZIP_LEVEL		1
#define API_ETAG_MAX		64	/* quotes and NUL included */

/* An immutable rendered body with its reference count. */
struct api_body {
	unsigned	 b_refs;
	size_t		 b_len;
	unsigned char	 b_data[];
};

/* What a body was rendered under.  g_own is a view's own word (a
 * provider's sample ring head), 0 for the others. */
struct api_gen {
	uint64_t	 g_data;	/* the stats blocks' sequence words, summed */
	uint64_t	 g_dir;		/* dir_gen */
	uint64_t	 g_own;
};

/* The last publish seen: the beat, and g_data as summed under it. */
struct api_watch {
	uint64_t	 w_beat;
	uint64_t	 w_data;
	int		 w_valid;
};

/* One view's cached answer: only 200s are kept. */
struct api_cached {
	struct api_gen	 c_gen;
	uint64_t	 c_at;		/* CLOCK_MONOTONIC of the render */
	const char	*c_ctype;	/* a view's static string */
	struct api_body	*c_plain;	/* NULL: nothing cached */
	struct api_body	*c_gzip;	/* NULL: not made yet, or no gain */
	int		 c_gzip_done;	/* compression was tried */
	char		 c_etag[API_ETAG_MAX];
	char		 c_etag_gz[API_ETAG_MAX];
};

/*
 * The provider views, cached by name: an entry only for a name a 200 was
 * rendered for (so that requests for names that do not exist cannot fill
 * the table), all dropped when the directory changes.  Open addressing,
 * no deletion but the whole table.
 */
struct api_named {
	char		 n_name[VIGIL_NAME_MAX];	/* "" : free */
	uint32_t	 n_idx;		/* the provider's slot */
	struct api_cached n_c;
};

struct api_names {
	struct api_named *ns_t;
	size_t		 ns_cap;	/* a power of 2, over twice the slots */
	size_t		 ns_used;
	uint64_t	 ns_dir;	/* the dir_gen of every entry */
};

void	 api_gen_read(struct api_watch *, const struct vigil_client *,
	    struct api_gen *);
int	 api_cached_fresh(const struct api_cached *, const struct api_gen *,
	    uint64_t);
int	 api_cached_aging(const struct api_cached *, const struct api_gen *,
	    uint64_t);
int	 api_cached_store(struct api_cached *, struct evbuffer *,
	    const struct api_gen *, uint64_t, const char *);
void	 api_cached_set(struct api_cached *, struct api_body *,
	    struct api_body *, int, const struct api_gen *, uint64_t,
	    const char *);
int	 api_gen_equal(const struct api_gen *, const struct api_gen *);
struct api_body *api_cached_gzip(struct api_cached *);
void	 api_cached_drop(struct api_cached *);

int	 api_names_init(struct api_names *, size_t);
struct api_named *api_names_find(struct api_names *, const char *,
	    uint64_t);
struct api_named *api_names_add(struct api_names *, const char *,
	    uint32_t);
void	 api_names_clear(struct api_names *);
void	 api_names_free(struct api_names *);

struct api_body *api_body_new(const void *, size_t);
struct api_body *api_body_from(struct evbuffer *);
struct api_body *api_gzip_form(const struct api_body *);
void	 api_body_unref(struct api_body *);
int	 api_body_add(struct evbuffer *, struct api_body *);
struct api_body *api_gzip(const void *, size_t, int);
size_t	 api_bodies_live(void);

int	 api_etag_match(const char *, const char *);
int	 api_accepts_gzip(const char *);

#endif /* VIGIL_API_CACHE_H */
