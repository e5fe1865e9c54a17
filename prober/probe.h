/*
 * probe.h - HTTP checks on libcurl's multi interface, driven by libevent.
 *
 * One engine (a curl multi handle) per prober, and one long-lived easy
 * handle per kind of check (the models list; the generation check): the
 * multi handle keeps connections and DNS answers between checks, so a
 * check over a reused connection costs microseconds of CPU instead of a
 * TLS handshake and a CA bundle parse (DESIGN.md, "Pitfalls").
 */
#ifndef VIGIL_PROBER_PROBE_H
#define VIGIL_PROBER_PROBE_H

#include <regex.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <event2/event.h>

#include <vigil/vigil.h>

#include "ratelimit.h"
#include "stream.h"

#define PROBE_BODY_MAX	(1u << 20)	/* read at most 1 MiB of a body */

struct curlev;

struct probe_engine {
	struct curlev		*cv;	/* the multi handle on the event base */
};

struct probe_xfer;
typedef void (*probe_done_fn)(struct probe_xfer *, CURLcode, void *);

struct probe_opts {
	const char	*url;
	const char	*post;		/* body: a POST; NULL: a GET */
	const char	*ca_file;	/* a file or hashed dir; NULL, "": system */
	struct curl_slist *headers;	/* owned by the xfer afterwards */
	uint32_t	 timeout_ms;
	int		 kind;		/* enum vigil_kind */
	int		 gen;		/* generation check (streamed) */
	int		 fresh;		/* a new connection, closed after */
};

struct probe_xfer {
	struct probe_engine	*eng;
	CURL			*easy;
	struct curl_slist	*headers;
	char			*body;		/* what was read, capped */
	size_t			 len;
	size_t			 alloc;
	uint64_t		 received;	/* body bytes, cap or not */
	int			 capped;	/* aborted: body over the cap */
	int			 busy;		/* in the multi handle */
	int			 gen;
	struct stream		 st;		/* gen: the SSE stream read */
	const regex_t		*expect;	/* gen: the text must match */
	uint64_t		 start_mono_ns;
	uint64_t		 start_wall_ns;
	uint64_t		 first_event_ns; /* gen: the first content token
						   came */
	uint64_t		 hdr_mono_ns;	/* the final status line came */
	struct rl_capture	 hdr;		/* its rate-limit headers */
	probe_done_fn		 done;
	void			*arg;
};

int	probe_engine_init(struct probe_engine *, struct event_base *, char *,
	    size_t);
void	probe_engine_free(struct probe_engine *);
int	probe_xfer_init(struct probe_xfer *, struct probe_engine *,
	    const struct probe_opts *, probe_done_fn, void *, char *, size_t);
int	probe_xfer_set_timeout(struct probe_xfer *, uint32_t);
int	probe_xfer_set_request(struct probe_xfer *, const char *,
	    const char *);
int	probe_xfer_start(struct probe_xfer *);
void	probe_xfer_abort(struct probe_xfer *);
void	probe_xfer_free(struct probe_xfer *);
void	probe_xfer_sample(const struct probe_xfer *, int, CURLcode,
	    struct vigil_sample *);

#endif /* VIGIL_PROBER_PROBE_H */
