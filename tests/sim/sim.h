/*
 * sim.h - vigil-sim: fake LLM providers with fault injection.
 *
 * One libevent loop serves every provider.  A provider answers its kind's
 * check the way the real API does (shape, auth header, error bodies) and
 * misbehaves on request: latency, errors, hangs, resets, garbage, slow
 * bodies.  Faults are set from the command line, a JSON config, or at run
 * time through the control endpoint /_sim (see tests/sim/README.md).
 *
 * Every symbol here carries the sim_ prefix: these objects also go into
 * build/libtests_sim.a, which every unit test links.
 */
#ifndef VIGIL_SIM_H
#define VIGIL_SIM_H

#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "gen.h"
#include "ratelimit.h"

struct bufferevent;
struct event_base;
struct evhttp;
struct evhttp_bound_socket;
struct evhttp_request;
struct ssl_ctx_st;
struct sim;

#define SIM_NAME_MAX		64
#define SIM_MAX_STATUS		32	/* distinct statuses counted */
#define SIM_MAX_BODY_BYTES	(256L * 1024 * 1024)
#define SIM_MAX_DELAY_MS	(3600 * 1000)

enum sim_kind {
	SIM_KIND_HTTP = 0,
	SIM_KIND_OPENAI,
	SIM_KIND_ANTHROPIC,
	SIM_KIND_GOOGLE,
	SIM_KIND_DEEPSEEK,
	SIM_KIND_QWEN,
	SIM_KIND_CURSOR,
	SIM_KIND_COUNT
};

/* Faults of one provider; all zero = a healthy provider. */
struct sim_faults {
	long	latency_ms;		/* fixed delay before the answer */
	long	latency_jitter_ms;	/* plus uniform [0, jitter] */
	long	latency_tail_ms;	/* plus this, with tail_prob */
	double	tail_prob;
	double	error_rate;		/* fraction of requests failed */
	int	error_status;		/* their status, 0 = 500 */
	int	status;			/* every request gets it, 0 = off */
	long	retry_after;		/* Retry-After on 429/503, 0 = none */
	int	hang;			/* never answer */
	int	reset;			/* RST without an answer */
	int	down;			/* same as reset on a shared port */
	int	garbage;		/* 200, body not JSON */
	int	truncated;		/* Content-Length > bytes sent */
	int	wrong_shape;		/* 200, JSON of the wrong shape */
	long	body_bytes;		/* pad the body to this size */
	long	drip_bytes_per_s;	/* send the body this slowly */
	int	error_mode;		/* 1 + row of errors.c, 0 = none */
	struct sim_rl_conf ratelimit;	/* ratelimit.c: off when requests 0 */
	int	retry_after_form;	/* enum sim_ra_form */
	struct sim_gen_conf gen;	/* gen.c: streams, models */
	long	status_page_delay_s;	/* statuspage.c: the page admits the
					   outage this late; 0: 30 s */
};

struct sim_status_count {
	int		status;
	uint64_t	n;
};

/* Counters of one provider, as GET /_sim/NAME shows them. */
struct sim_counters {
	uint64_t	requests;	/* provider requests received */
	uint64_t	answered;	/* a status line went out */
	uint64_t	injected;	/* answers replaced by a fault */
	uint64_t	resets;
	uint64_t	hangs;
	uint64_t	truncated;
	uint64_t	client_closed;	/* client left before we finished */
	uint64_t	held;		/* now waiting: hang, latency, drip */
	uint64_t	rate_limited;	/* the rate limit's 429s */
	struct sim_status_count by_status[SIM_MAX_STATUS];
	int		nstatus;
};

/*
 * One listener's connection counters (tls.c): TCP connections accepted
 * and TLS handshakes completed.  A client that reuses its connection
 * moves neither.
 */
struct sim_listen {
	struct sim	*sim;
	uint64_t	 connections;
	uint64_t	 tls_handshakes;
};

struct sim_provider {
	char			 name[SIM_NAME_MAX];
	int			 kind;
	char			*key;		/* never logged, never shown */
	int			 port;		/* own listener: -1 none */
	struct evhttp		*http;		/* own listener's evhttp */
	struct evhttp_bound_socket *bound;	/* NULL while down */
	struct sim_faults	 faults;
	struct sim_counters	 ctr;
	struct sim_rl_state	 rls;		/* its rate-limit window */
	struct sim_listen	 own;		/* own listener's counters */
	uint64_t		 down_since_wall_ns; /* statuspage.c; 0: up */
	uint64_t		 resolved_wall_ns;
};

struct sim {
	struct event_base	 *base;
	struct sim_provider	**prov;		/* sorted by name */
	size_t			  nprov;
	size_t			  cap;
	uint64_t		  rng;
	struct ssl_ctx_st	 *tls;		/* NULL: plain HTTP */
	struct sim_listen	  lmain;	/* the main listener */
	/* Called after a provider's faults changed at run time. */
	void			(*on_faults)(struct sim *, struct sim_provider *);
};

/* kinds.c */
int		 sim_kind_from_name(const char *);
const char	*sim_kind_name(int);
/* A header of a reply beyond Content-Type and Retry-After. */
struct sim_hdr {
	const char	*name;
	char		 value[64];
};
/* A piece of a streamed body: body[off..off+len) at_ms after the
 * headers. */
struct sim_seg {
	long		 at_ms;
	size_t		 off;
	size_t		 len;
};
struct sim_reply {
	int		 status;
	const char	*ctype;
	char		*body;		/* malloc'd */
	size_t		 len;
	long		 retry_after;	/* seconds, 0 = no header */
	struct sim_hdr	*hdrs;		/* malloc'd, nhdrs of them */
	int		 nhdrs;
	struct sim_seg	*segs;		/* streamed: malloc'd, in time order;
					   NULL: the body at once */
	int		 nsegs;
};
int	sim_kind_answer(const struct sim_provider *, struct evhttp_request *,
	    const char *, struct sim_reply *);
int	sim_kind_error(int, int, long, struct sim_reply *);
int	sim_reply_set(struct sim_reply *, int, const char *, const char *);
void	sim_reply_free(struct sim_reply *);
void	sim_key_mask(const char *, char *, size_t);

/* faults.c */
void	sim_faults_clear(struct sim_faults *);
int	sim_faults_parse(const cJSON *, struct sim_faults *, char *, size_t);
cJSON	*sim_faults_json(const struct sim_faults *);
cJSON	*sim_counters_json(const struct sim_counters *);
void	sim_counters_status(struct sim_counters *, int);
uint64_t sim_rand(uint64_t *);
double	sim_rand01(uint64_t *);
long	sim_faults_delay(const struct sim_faults *, uint64_t *);

/* gen.c (the fault fields are gen.h's) */
int	sim_gen_stream(int, const char *, int, const struct sim_stream_conf *,
	    struct sim_reply *);

/* errors.c (the table itself is in errors.h) */
int	sim_err_reply(int, long, struct sim_reply *);

/* table.c */
struct sim_provider *sim_add(struct sim *, const char *, int, const char *,
	    int, char *, size_t);
int	sim_sort(struct sim *, char *, size_t);
struct sim_provider *sim_find(const struct sim *, const char *, size_t);
void	sim_free(struct sim *);

/* serve.c */
void	sim_serve(struct sim *, struct sim_provider *, struct evhttp_request *,
	    const char *);
void	sim_control(struct sim *, struct evhttp_request *, const char *);
void	sim_send_json(struct evhttp_request *, int, cJSON *);
void	sim_send_error(struct evhttp_request *, int, const char *);
void	sim_serve_shutdown(void);

/* statuspage.c */
void	sim_status_mark(struct sim_provider *);
void	sim_status_page(struct sim *, struct evhttp_request *, const char *);

/* tls.c */
int	sim_tls_init(struct sim *, const char *, const char *, char *, size_t);
void	sim_tls_free(struct sim *);
void	sim_listen_init(struct sim_listen *, struct sim *);
struct bufferevent *sim_listen_bevcb(struct event_base *, void *);
void	sim_listen_totals(const struct sim *, uint64_t *, uint64_t *);
void	sim_listen_reset(struct sim *);

#endif /* VIGIL_SIM_H */
