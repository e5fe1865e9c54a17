/*
 * webhook.h - alert delivery by HTTP POST, on the aggregator's event loop.
 *
 * A bounded queue of JSON bodies, sent with libcurl's multi interface
 * driven by libevent: nothing here ever blocks the loop.  Each alert is
 * POSTed until the receiver answers 2xx, with a per-attempt timeout and
 * capped exponential backoff between attempts, at most 1 + retries
 * attempts; then it is given up and counted.  A full queue drops its
 * oldest alert (counted).  The URL may hold a token: it is never logged
 * and never leaves this module but to curl.
 */
#ifndef VIGIL_AGG_WEBHOOK_H
#define VIGIL_AGG_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

#include <vigil/vigil.h>

#define WEBHOOK_QUEUE_MAX	256	/* alerts waiting or in flight */
#define WEBHOOK_INFLIGHT	4	/* concurrent POSTs */
#define WEBHOOK_BACKOFF_MS	500	/* first retry delay, doubled ... */
#define WEBHOOK_BACKOFF_MAX_MS	30000	/* ... up to this */
#define WEBHOOK_BODY_MAX	2048	/* an incident names its members */

struct event_base;
struct webhook;

struct webhook_stats {
	uint64_t queued;	/* accepted into the queue */
	uint64_t delivered;	/* answered 2xx */
	uint64_t attempts;	/* POSTs started */
	uint64_t failures;	/* attempts that failed */
	uint64_t given_up;	/* alerts dropped after the last retry */
	uint64_t dropped;	/* alerts pushed out of a full queue */
	uint32_t pending;	/* in the queue now */
};

struct webhook	*webhook_new(struct event_base *, const char *, uint32_t,
		    uint32_t, char *, size_t);
void		 webhook_free(struct webhook *);
/* An alert's incident as the aggregator knows it (docs/aggregation.md,
 * "Incidents"): formed, its incident alert is out; members, for an
 * incident alert, its providers' names, comma-separated. */
struct webhook_incident {
	int formed;
	const char *members;
};

int		 webhook_post(struct webhook *, const struct vigil_alert *,
		    const char *, const struct webhook_incident *);
void		 webhook_stats(const struct webhook *, struct webhook_stats *);
int		 webhook_body(const struct vigil_alert *, const char *, char *,
		    size_t);
int		 webhook_body_incident(const struct vigil_alert *, const char *,
		    const struct webhook_incident *, char *, size_t);
void		 webhook_set_backoff(struct webhook *, uint32_t, uint32_t);

#endif /* VIGIL_AGG_WEBHOOK_H */
