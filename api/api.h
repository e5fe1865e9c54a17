/*
 * api.h - vigil-api: shared state of the HTTP front and its modules.
 *
 * util.c	pure functions: query strings, percent-decoding, RFC 3339,
 *		steps, the cleaning of the segment's strings, Prometheus,
 *		DOT and CSV escaping (unit-tested, fuzzed)
 * views.c	JSON, CSV and DOT views over one snapshot of the segment
 * metrics.c	the Prometheus text exposition
 * events.c	change detection, the event ring, SSE and WebSocket clients
 * dashboard.c	the single-page dashboard
 * main.c	start-up (child or standalone), evhttp, routing, hardening
 *
 * vigil-api only reads the segment (mapped PROT_READ) through the public
 * client in <vigil/vigil.h>.
 */
#ifndef VIGIL_API_H
#define VIGIL_API_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <vigil/vigil.h>

#include "settings.h"

struct evbuffer;
struct evhttp_request;
struct event_base;

#define API_QUERY_MAX		16	/* parameters per request */
#define API_QKEY_MAX		32
#define API_QVAL_MAX		256
#define API_URI_MAX		4096	/* longer: 414 */

struct api_query {
	size_t n;
	struct {
		char key[API_QKEY_MAX];
		char val[API_QVAL_MAX];
	} kv[API_QUERY_MAX];
};

/* One model of a provider as the views read it: name cleaned. */
struct api_model {
	char name[VIGIL_MODEL_MAX];
	struct vigil_model_stats s;
};

/*
 * The models of the providers of one snapshot (api_models_read): those
 * of snapshot entry i are m[first[i] .. first[i] + count[i]), its daily
 * token budget budget[i].  Grown on demand, kept between requests.
 */
struct api_models {
	struct api_model *m;
	size_t n, cap;
	uint32_t *first, *count;
	uint64_t *budget;
	size_t pcap;			/* of first, count, budget */
};

/* One provider's part of an api_models. */
struct api_pmodels {
	const struct api_model *m;
	uint32_t n;
	uint64_t budget;		/* 0: none */
};

/*
 * Bytes of one event (events.c): a change event's state is a provider
 * with its models, so the limit grows with the segment's model slots.
 * A model's JSON is under 1 KiB at its widest (test_api_views.c).
 */
#define API_EVENT_BASE_MAX	4096
#define API_EVENT_MODEL_MAX	1024

/* Everything the request handlers share.  One per process. */
struct api_ctx {
	struct vigil_client vc;
	struct event_base *base;
	struct vigil_provider *snap;	/* provider_cap entries, reused */
	size_t nsnap;
	uint64_t snap_at_ns;		/* CLOCK_MONOTONIC of the snapshot */
	struct vigil_history *hist;	/* history_cap entries, reused */
	struct vigil_alert *alerts;	/* alert_cap entries, reused */
	struct vigil_sample *samples;	/* sample_cap entries, reused */
	int prometheus;
	uint64_t started_wall_ns;
	struct api_models models;	/* of snap, when a view reads them */
	/* The alerts read for status pages' lead times (views.c), valid
	 * for the snapshot taken at sp_alerts_at (its snap_at_ns). */
	uint64_t sp_alerts_at;
	size_t sp_nalerts;
	char vantage[64];		/* resolved: never "" */
};

/* ---- util.c: pure functions ---- */

int		 api_pct_decode(const char *, size_t, char *, size_t, int);
int		 api_query_parse(const char *, struct api_query *, char *,
		    size_t);
const char	*api_query_get(const struct api_query *, const char *);
#define API_QUERY_UNKNOWN	(-1)	/* api_query_check's results */
#define API_QUERY_REPEATED	(-2)
int		 api_query_check(const struct api_query *, const char *const *,
		    const char **);
size_t		 api_text_clean(char *, size_t);
void		 api_clean_provider(struct vigil_provider *);
void		 api_clean_alert(struct vigil_alert *);
void		 api_clean_sample(struct vigil_sample *);
void		 api_clean_status_page(struct vigil_status_page *);
void		 api_clean_model(struct api_model *);
int		 api_time_parse(const char *, uint64_t *);
size_t		 api_time_format(uint64_t, char *, size_t);
int		 api_step_parse(const char *, uint32_t *);
size_t		 api_prom_escape(const char *, char *, size_t);
size_t		 api_dot_escape(const char *, char *, size_t);
size_t		 api_csv_field(const char *, char *, size_t);
int		 api_name_valid(const char *);
void		 api_vantage_resolve(const char *, char *, size_t);
int		 api_provider_up(const struct vigil_provider *);
double		 api_round3(double);
#define API_FMT_MAX	32	/* api_fmt_fixed's buffer */
size_t		 api_fmt_u64(uint64_t, char *);
size_t		 api_fmt_i64(int64_t, char *);
size_t		 api_fmt_fixed(double, unsigned, char *, size_t);

/* ---- wbuf.c: appending to an evbuffer without a call per piece ---- */

/*
 * A writer over an evbuffer: space is reserved in large chunks and
 * filled with memcpy, then committed, so that rendering 1,000 providers
 * costs no allocation and no libevent call per value.  Begin, append,
 * end; on an allocation failure the writer drops what follows and
 * api_wb_end returns -1.
 */
struct api_wbuf {
	struct evbuffer	*wb_eb;
	char		*wb_base;	/* reserved chunk */
	char		*wb_p;		/* next byte */
	char		*wb_end;
	int		 wb_err;
};

void	api_wb_tune(void);
void	api_wb_begin(struct api_wbuf *, struct evbuffer *);
int	api_wb_end(struct api_wbuf *);
int	api_wb_more(struct api_wbuf *, size_t);
void	api_wb_str(struct api_wbuf *, const char *);
void	api_wb_u64(struct api_wbuf *, uint64_t);
void	api_wb_i64(struct api_wbuf *, int64_t);
void	api_wb_fixed(struct api_wbuf *, double, unsigned);
void	api_wb_jnum(struct api_wbuf *, double);
void	api_wb_jstr(struct api_wbuf *, const char *);
void	api_wb_jtime(struct api_wbuf *, uint64_t);
#define api_wb_lit(w, s)	api_wb_mem((w), (s), sizeof(s) - 1)

/* Append n bytes: inline, as it runs about 600,000 times per scrape. */
static inline void
api_wb_mem(struct api_wbuf *w, const void *p, size_t n)
{
	if ((size_t)(w->wb_end - w->wb_p) < n && api_wb_more(w, n) == -1)
		return;
	memcpy(w->wb_p, p, n);
	w->wb_p += n;
}

/* ---- views.c ---- */

/* A view's result: HTTP status, Content-Type, and for 400 the parameter. */
struct api_result {
	int code;
	const char *ctype;
	const char *disposition;	/* Content-Disposition or NULL */
	char dispbuf[128];
	int partial;			/* right for this request only (a
					   failed snapshot): never cached */
};

int	api_snapshot(struct api_ctx *);
int	api_models_read(const struct vigil_client *,
	    const struct vigil_provider *, size_t, struct api_models *);
struct api_pmodels api_models_of(const struct api_models *, size_t);
void	api_models_free(struct api_models *);
int	api_provider_json(struct api_ctx *, struct evbuffer *,
	    const struct vigil_provider *, const struct api_pmodels *,
	    uint64_t);
int	api_model_json(struct evbuffer *, const struct api_model *);
void	api_error_json(struct evbuffer *, const char *, const char *,
	    const char *);
void	api_view_health(struct api_ctx *, struct evbuffer *,
	    struct api_result *);
void	api_view_integration(struct api_ctx *, const struct api_query *,
	    struct evbuffer *, struct api_result *);
void	api_view_provider(struct api_ctx *, const char *,
	    const struct api_query *, struct evbuffer *, struct api_result *);
void	api_view_graph(struct api_ctx *, const struct api_query *,
	    struct evbuffer *, struct api_result *);
void	api_view_history(struct api_ctx *, const struct api_query *,
	    struct evbuffer *, struct api_result *);
struct cJSON;
void	api_alert_incident(struct cJSON *, const struct vigil_alert *,
	    const struct vigil_alert *, size_t);
void	api_view_alerts(struct api_ctx *, const struct api_query *,
	    struct evbuffer *, struct api_result *);

/* ---- metrics.c ---- */

void	api_view_metrics(struct api_ctx *, struct evbuffer *,
	    struct api_result *);

/* ---- events.c ---- */

int	api_events_init(struct api_ctx *);
void	api_events_shutdown(void);
void	api_events_sse(struct api_ctx *, struct evhttp_request *);
void	api_events_ws(struct api_ctx *, struct evhttp_request *);
uint64_t api_events_last_id(void);

/* ---- dashboard.c ---- */

extern const char	api_dashboard_html[];
extern const size_t	api_dashboard_len;

#endif /* VIGIL_API_H */
