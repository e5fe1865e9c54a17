/*
 * prober.h - one prober's state, shared by main.c (configure, the
 * models-list check, control) and gen.c (the generation check, the
 * catalogue verdicts, the token budget).  Private to vigil-prober.
 */
#ifndef VIGIL_PROBER_PROBER_H
#define VIGIL_PROBER_PROBER_H

#include <regex.h>
#include <stdint.h>

#include <event2/event.h>

#include <vigil/vigil.h>

#include "check.h"
#include "child.h"
#include "conf.h"
#include "models.h"
#include "probe.h"
#include "ring.h"
#include "sched.h"
#include "segment.h"

#define SEG_FD		3
#define MAX_WAITERS	16		/* probe_now requests on one check */
#define KEY_MAX		4096
#define MIN_INTERVAL_MS	SETTINGS_FAST_MIN
#define BEAT_MS		1000
#define TRAFFIC_MS	25		/* how often traffic is looked at:
					   a 1152-byte seqlocked copy */
#define TRAFFIC_CONFIRM_MS 1000	/* a traffic confirmation at most
					   this often */

/* A request of a check: running; done, its sample held in pend[]; gone
 * (published, or it never started). */
#define REQ_RUNNING	0
#define REQ_DONE	1
#define REQ_GONE	2

struct prober {
	struct conf_provider	 cp;		/* settings.h; interval_ms may
						   change (set_interval) */
	uint32_t		 slot;
	uint64_t		 epoch;
	char			 key[KEY_MAX];	/* the secret */
	struct check_conf	 cc;		/* the rules' settings */
	int			 paused;

	struct segment		 seg;
	struct vigil_client	 cli;
	struct ring_writer	 ring;

	struct event_base	*base;
	struct probe_engine	 eng;
	struct probe_xfer	 check;
	struct probe_xfer	 extra[SCHED_CONFIRM_PAR - 1]; /* confirming */
	struct probe_xfer	 gen;
	int			 gen_on;
	struct event		*ev_check;
	struct event		*ev_gen;
	struct event		*ev_beat;
	struct event		*ev_term;
	struct event		*ev_int;
	struct child		 ch;		/* fd 4, vigild */

	int			 manual;	/* running check is probe_now */
	int			 last_outcome;	/* -1: none yet */
	struct check		 chk;		/* check.c's state machine */
	uint32_t		 next_count;	/* requests of the next check */
	uint32_t		 nreq;		/* requests of this check */
	uint32_t		 running;	/* of them not done yet */
	uint32_t		 npub;		/* published, in start order */
	struct vigil_sample	 pend[SCHED_CONFIRM_PAR]; /* done, held */
	uint8_t			 req_state[SCHED_CONFIRM_PAR]; /* REQ_* */
	uint64_t		 waiters[MAX_WAITERS];
	int			 nwaiters;
	int			 exit_code;
	int			 trimmed;	/* malloc_trim after start-up */

	/* Traffic (issue 18): what the aggregator says local services
	 * reported, read from our stats block. */
	int			 when_idle;	/* probe_when_idle */
	struct event		*ev_traffic;
	uint64_t		 traffic_errs;	/* errors_total seen, UINT64_MAX
						   before the first look */
	uint64_t		 confirm_ns;	/* last traffic confirmation */
	uint64_t		 skipped;	/* checks skipped: traffic (the
						   generation checks' too) */

	/*
	 * The provider's models (`models`, in the order of the segment's
	 * model block: sample.model is m + 1).  Empty: gen_model alone,
	 * sample.model 0.
	 */
	char			 models[VIGIL_MAX_MODELS][VIGIL_MODEL_MAX];
	uint32_t		 nmodels;
	uint32_t		 gen_next;	/* model of the next generation
						   check */
	uint16_t		 gen_model;	/* of the running one, m + 1 */
	int8_t			 gen_last[VIGIL_MAX_MODELS + 1]; /* outcome
						   of each, -1 none */
	char			*gen_tmpl;	/* gen_body's JSON, NULL none */
	regex_t			 expect;	/* gen_expect, when expect_on */
	int			 expect_on;
	struct budget		 budget;	/* gen_budget */
	uint64_t		 budget_told;	/* day 1 + the spent budget
						   was logged */
	uint8_t			 listed[VIGIL_MAX_MODELS];  /* MODEL_* of
						   the check's list */
	uint8_t			 was_listed[VIGIL_MAX_MODELS];
	int			 cat_pending;	/* listed[] to publish after the
						   check's own sample */
};

/* main.c */
void		prober_schedule(struct event *, uint32_t);
void		prober_skipped(struct prober *);
uint32_t	prober_rnd32(void);

/* gen.c */
int		gen_setup(struct prober *, char *, size_t);
void		gen_teardown(struct prober *);
void		gen_first(struct prober *, uint32_t);
void		gen_timer_cb(evutil_socket_t, short, void *);
void		catalogue_read(struct prober *, const struct probe_xfer *,
		    const struct vigil_sample *);
void		catalogue_publish(struct prober *, const struct vigil_sample *);

#endif /* VIGIL_PROBER_PROBER_H */
