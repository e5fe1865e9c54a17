/*
 * main.c - vigil-aggregator: samples in, judgement out.
 *
 * Started by vigild (docs/internals.md): fd 3 is the segment (O_RDWR),
 * fd 4 the socketpair with vigild.  The first frame on fd 4 is the
 * `configure` request; we map the segment, restore the state snapshot,
 * and reply {"pid"}: that reply is our readiness.  Then a libevent loop:
 *   - every tick (50 ms) agg_tick() reads every provider's new samples
 *     and writes stats, history, alerts, the routing order and our beat;
 *   - every persist_interval_ms, and at exit, a snapshot to state_dir;
 *   - requests on fd 4: silence, unsilence, ping, persist;
 *   - alerts to the log and, when configured, the webhook.
 * Exits 0 on EOF of fd 4, SIGTERM or SIGINT, after a last snapshot; 125
 * ("do not restart") when the configuration or the segment is unusable.
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
#include "engine.h"
#include "evtime.h"
#include "frame.h"
#include "log.h"
#include "persist.h"
#include "priv.h"
#include "ring.h"
#include "segment.h"
#include "webhook.h"

#define SEG_FD		3
#define AGG_TICK_MS	50	/* lag from a sample to its judgement */

struct aggd {
	struct event_base *base;
	struct event *ev_tick;
	struct event *ev_persist;
	struct event *ev_term;
	struct event *ev_int;
	struct segment seg;
	struct seg_watch seg_watch;	/* the header against seg.lay */
	struct agg agg;
	struct webhook *wh;
	uint32_t tick_ms;
	struct child ch;		/* fd 4, vigild */
	/* Set when a snapshot could be neither read nor moved aside: a save
	 * would replace it, so nothing is saved in this run. */
	int persist_off;
};

static void	usage(void) __attribute__((noreturn));
static int	conf_from_args(const msgpack_object *, void *, char *, size_t);
static void	deliver(const struct vigil_alert *, const char *, void *);
static int	save_state(struct aggd *, char *, size_t);
static struct persist_snap *load_state(struct aggd *);
static void	add_events(struct aggd *);
static void	open_reports(struct aggd *);
static void	tick_cb(evutil_socket_t, short, void *);
static void	persist_cb(evutil_socket_t, short, void *);
static void	signal_cb(evutil_socket_t, short, void *);
static void	silence(struct aggd *, uint64_t, const msgpack_object *, int);
static void	op_silence(struct child *, uint64_t, const msgpack_object *,
		    void *);
static void	op_unsilence(struct child *, uint64_t, const msgpack_object *,
		    void *);
static void	op_ping(struct child *, uint64_t, const msgpack_object *,
		    void *);
static void	op_persist(struct child *, uint64_t, const msgpack_object *,
		    void *);

/* After configure (docs/internals.md); set_log_level is common/child.c's,
 * ping is ours: it carries the counters. */
static const struct child_op agg_ops[] = {
	{ "silence", op_silence },
	{ "unsilence", op_unsilence },
	{ "ping", op_ping },
	{ "persist", op_persist },
};

static void
usage(void)
{
	fprintf(stderr, "usage: vigil-aggregator\n"
	    "  started by vigild: fd 3 the segment, fd 4 the control "
	    "socketpair\n");
	exit(2);
}

/*
 * The configure args (docs/internals.md): the [vigil] keys the table
 * gives the aggregator, checked as vigil.conf's (settings_decode), and
 * tick_ms, which only the tests send.
 */
static int
conf_from_args(const msgpack_object *args, void *arg, char *err,
    size_t errlen)
{
	struct aggd *d = arg;
	uint64_t v;
	int rc;

	if (settings_decode(SR_AGG, args, &d->agg.conf, NULL, err, errlen) ==
	    -1)
		return -1;
	if ((rc = mp_get_uint(args, "tick_ms", &v)) == 0 && v >= 10 &&
	    v <= 10000)
		d->tick_ms = (uint32_t)v;
	else if (rc != -1) {
		snprintf(err, errlen, "tick_ms: 10..10000");
		return -1;
	}
	return 0;
}

/*
 * Every alert: a log line (warning and critical as warnings, resolved as
 * info) naming the figure its value and threshold are in, then the
 * webhook unless silenced.
 */
static void
deliver(const struct vigil_alert *a, const char *fig, void *arg)
{
	struct aggd *d = arg;
	struct webhook_incident inc;
	char members[800];
	int silenced = (a->flags & VIGIL_ALF_SILENCED) != 0;

	if (a->level == VIGIL_AL_RESOLVED)
		log_info("alert %llu: %s %s resolved (%s %.4g, threshold "
		    "%.4g)%s", (unsigned long long)a->id, a->provider,
		    vigil_alert_kind_name(a->kind), fig, a->value,
		    a->threshold, silenced ? " [silenced]" : "");
	else
		log_warnx("alert %llu: %s %s %s (%s %.4g, threshold %.4g)%s",
		    (unsigned long long)a->id, a->provider,
		    vigil_alert_kind_name(a->kind),
		    vigil_alert_level_name(a->level), fig, a->value,
		    a->threshold, silenced ? " [silenced]" : "");
	inc.formed = agg_incident_info(&d->agg, a->incident_id, members,
	    sizeof(members));
	inc.members = members;
	if (!silenced && d->wh != NULL && webhook_post(d->wh, a, fig,
	    &inc) == -1)
		log_warnx("webhook: alert %llu could not be queued",
		    (unsigned long long)a->id);
}

static int
save_state(struct aggd *d, char *err, size_t errlen)
{
	struct persist_snap snap;
	int rc;

	if (d->agg.conf.state_dir[0] == '\0')
		return 0;
	if (d->persist_off) {
		snprintf(err, errlen, "not saved: %s in state_dir could not "
		    "be read nor moved aside at start (see the log then); "
		    "restart once it is readable or gone", PERSIST_FILE);
		return -1;
	}
	if (agg_snapshot(&d->agg, &snap) == -1) {
		snprintf(err, errlen, "snapshot: out of memory");
		return -1;
	}
	rc = persist_save(d->agg.conf.state_dir, &snap, err, errlen);
	persist_free(&snap);
	return rc;
}

/*
 * The snapshot in state_dir, or NULL: none, no state_dir, or a bad one
 * (reported; moved aside, or if it could not be, persistence is off for
 * this run so that it is never overwritten).
 */
static struct persist_snap *
load_state(struct aggd *d)
{
	struct persist_snap *snap;
	char err[512];
	int rc;

	if (d->agg.conf.state_dir[0] == '\0')
		return NULL;
	if ((snap = calloc(1, sizeof(*snap))) == NULL)
		fatal("calloc");
	rc = persist_load(d->agg.conf.state_dir, snap, err, sizeof(err));
	if (rc == PERSIST_LOADED) {
		log_info("state restored from %s/%s: %zu providers, %zu "
		    "alerts", d->agg.conf.state_dir, PERSIST_FILE, snap->nprov,
		    snap->nalerts);
		return snap;
	}
	if (rc == PERSIST_ASIDE)
		log_warnx("state: %s", err);
	else if (rc == PERSIST_STUCK) {
		log_warnx("state: %s", err);
		log_warnx("state: persistence is off until restart");
		d->persist_off = 1;
	}
	free(snap);
	return NULL;
}

/*
 * The reports segment vigild made (shm_name + VIGIL_REPORTS_SUFFIX),
 * mapped by name: its owner is the service uid we run as.  Without it
 * vigil judges on probes alone, and says so.
 */
static void
open_reports(struct aggd *d)
{
	char name[128], err[256];

	reports_name(d->agg.conf.shm_name, name, sizeof(name));
	if (reports_map(&d->agg.rep, name, err, sizeof(err)) == -1) {
		log_warnx("reports: %s: traffic reports are not read", err);
		return;
	}
	log_info("reports: reading %s: %u slots, %u reports a second a "
	    "client", name, d->agg.rep.lay.slot_cap,
	    d->agg.conf.report_rate_max);
}

/* The tick, the snapshot period and the signals, on d's loop. */
static void
add_events(struct aggd *d)
{
	d->ev_tick = event_new(d->base, -1, EV_PERSIST, tick_cb, d);
	d->ev_persist = event_new(d->base, -1, EV_PERSIST, persist_cb, d);
	d->ev_term = evsignal_new(d->base, SIGTERM, signal_cb, d);
	d->ev_int = evsignal_new(d->base, SIGINT, signal_cb, d);
	if (d->ev_tick == NULL || d->ev_persist == NULL ||
	    d->ev_term == NULL || d->ev_int == NULL)
		fatalx("event_new failed");
	evtime_add_ms(d->ev_tick, d->tick_ms);
	if (d->agg.conf.state_dir[0] != '\0' && !d->persist_off)
		evtime_add_ms(d->ev_persist, d->agg.conf.persist_interval_ms);
	event_add(d->ev_term, NULL);
	event_add(d->ev_int, NULL);
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct aggd *d = arg;
	uint64_t now = now_mono_ns();
	char msg[256];

	(void)fd;
	(void)what;
	/* A rewritten header is said, never followed: the engine reads
	 * through d->seg.lay, validated at start. */
	if (seg_layout_watch(&d->seg_watch, d->seg.base, &d->seg.lay, now,
	    msg, sizeof(msg)) == 1)
		log_warnx("%s", msg);
	agg_tick(&d->agg, now, now_wall_ns());
}

static void
persist_cb(evutil_socket_t fd, short what, void *arg)
{
	struct aggd *d = arg;
	char err[512];

	(void)fd;
	(void)what;
	if (save_state(d, err, sizeof(err)) == -1)
		log_warnx("persist: %s", err);
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct aggd *d = arg;

	(void)what;
	log_info("signal %d: stopping", (int)sig);
	event_base_loopbreak(d->base);
}

/* silence {provider, until_wall_ns, reason} and unsilence {provider}. */
static void
silence(struct aggd *d, uint64_t id, const msgpack_object *args, int on)
{
	char name[VIGIL_NAME_MAX], reason[128] = "";
	struct agg_prov *p = NULL;
	uint64_t until = 0;
	uint32_t i;

	if (mp_get_str(args, "provider", name, sizeof(name)) != 0) {
		(void)child_reply_err(&d->ch, id, "bad_args", "provider: "
		    "missing or not a name");
		return;
	}
	if (on) {
		if (mp_get_uint(args, "until_wall_ns", &until) != 0 ||
		    until == 0) {
			(void)child_reply_err(&d->ch, id, "bad_args",
			    "until_wall_ns: missing or not a positive "
			    "integer");
			return;
		}
		if (mp_get_str(args, "reason", reason, sizeof(reason)) == -2) {
			(void)child_reply_err(&d->ch, id, "bad_args",
			    "reason: not a string or too long");
			return;
		}
	}
	if (strcmp(name, "all") == 0) {
		d->agg.ax.silence_all_until = until;
		for (i = 0; i < d->agg.cap; i++)
			if (d->agg.p[i].used) {
				d->agg.p[i].s.silenced_until_wall_ns = until;
				d->agg.p[i].dirty = 1;
			}
	} else if ((p = agg_find(&d->agg, name)) == NULL) {
		(void)child_reply_err(&d->ch, id, "not_found", "no such "
		    "provider");
		return;
	} else {
		p->s.silenced_until_wall_ns = until;
		p->dirty = 1;
	}
	agg_flush(&d->agg, now_mono_ns(), now_wall_ns());
	if (on)
		log_info("silence %s until %llu%s%s", name,
		    (unsigned long long)until, reason[0] ? ": " : "", reason);
	else
		log_info("unsilence %s", name);
	(void)child_reply_ok(&d->ch, id);
}

static void
op_silence(struct child *ch, uint64_t id, const msgpack_object *args,
    void *arg)
{
	(void)ch;
	silence(arg, id, args, 1);
}

static void
op_unsilence(struct child *ch, uint64_t id, const msgpack_object *args,
    void *arg)
{
	(void)ch;
	silence(arg, id, args, 0);
}

/* ping: liveness plus the counters an operator wants to see. */
static void
op_ping(struct child *ch, uint64_t id, const msgpack_object *args,
    void *arg)
{
	struct aggd *d = arg;
	struct webhook_stats ws;
	msgpack_sbuffer sb;
	msgpack_packer pk;

	(void)args;
	memset(&ws, 0, sizeof(ws));
	if (d->wh != NULL)
		webhook_stats(d->wh, &ws);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	mp_reply_ok(&pk, id);
	msgpack_pack_map(&pk, 5);
	mp_kv_uint(&pk, "samples", d->agg.samples);
	mp_kv_uint(&pk, "lost", d->agg.lost);
	mp_kv_uint(&pk, "alerts", d->agg.ax.recorded);
	mp_kv_uint(&pk, "alerts_suppressed", d->agg.ax.suppressed);
	mp_str(&pk, "webhook");
	msgpack_pack_map(&pk, 7);
	mp_kv_uint(&pk, "queued", ws.queued);
	mp_kv_uint(&pk, "delivered", ws.delivered);
	mp_kv_uint(&pk, "attempts", ws.attempts);
	mp_kv_uint(&pk, "failures", ws.failures);
	mp_kv_uint(&pk, "given_up", ws.given_up);
	mp_kv_uint(&pk, "dropped", ws.dropped);
	mp_kv_uint(&pk, "pending", ws.pending);
	if (child_send(ch, &sb) == -1)
		log_warnx("%s", ch->err);
	msgpack_sbuffer_destroy(&sb);
}

static void
op_persist(struct child *ch, uint64_t id, const msgpack_object *args,
    void *arg)
{
	struct aggd *d = arg;
	char err[512];

	(void)args;
	if (d->agg.conf.state_dir[0] == '\0') {
		(void)child_reply_err(ch, id, "no_state_dir", "state_dir is "
		    "not set");
		return;
	}
	if (save_state(d, err, sizeof(err)) == -1) {
		log_warnx("persist: %s", err);
		(void)child_reply_err(ch, id, "persist_failed", err);
		return;
	}
	(void)child_reply_ok(ch, id);
}

int
main(int argc, char *argv[])
{
	struct aggd d;
	struct conf conf;
	struct persist_snap *snap = NULL;
	char err[512];
	int rc;

	(void)argv;
	if (argc > 1)
		usage();
	log_init("vigil-aggregator", LOG_LVL_INFO);
	/* Before the segment or the webhook's token: common/priv.c. */
	if (priv_child_init(err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		exit(EXIT_PERMANENT);
	}
	signal(SIGPIPE, SIG_IGN);
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
	memset(&d, 0, sizeof(d));
	d.tick_ms = AGG_TICK_MS;
	settings_defaults(&d.agg.conf);

	/* 1. The configure request. */
	child_init(&d.ch, CHILD_FD, agg_ops, sizeof(agg_ops) /
	    sizeof(agg_ops[0]), &d);
	rc = child_configure(&d.ch, CHILD_CONFIGURE_MS, conf_from_args, &d,
	    err, sizeof(err));
	if (rc == CHILD_EOF)
		exit(0);	/* vigild went away first: nothing to do */
	if (rc == CHILD_ERR) {
		log_warnx("%s", err);
		exit(EXIT_PERMANENT);
	}
	if (d.agg.conf.webhook_url[0] != '\0')
		log_secret(d.agg.conf.webhook_url);
	log_setlevel(d.agg.conf.log_level);

	/* 2. The segment. */
	if (seg_map_fd(&d.seg, SEG_FD, 1, err, sizeof(err)) == -1 ||
	    d.seg.lay.magic != VIGIL_MAGIC) {
		if (d.seg.base != NULL)
			snprintf(err, sizeof(err), "segment not initialised");
		log_warnx("segment (fd %d): %s", SEG_FD, err);
		(void)child_fail(&d.ch, "bad_segment", err);
		exit(EXIT_PERMANENT);
	}

	/* 3. The snapshot: a bad one is reported, kept aside, skipped. */
	snap = load_state(&d);
	/* agg_init zeroes d.agg first: hand it a copy of the settings. */
	conf = d.agg.conf;
	if (agg_init(&d.agg, &d.seg, &conf, snap, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		(void)child_fail(&d.ch, "init_failed", err);
		exit(EXIT_PERMANENT);
	}
	d.agg.ax.deliver = deliver;
	d.agg.ax.arg = &d;
	open_reports(&d);

	/* 4. The loop. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		fatalx("curl_global_init failed");
	if ((d.base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	if (d.agg.conf.webhook_url[0] != '\0' &&
	    (d.wh = webhook_new(d.base, d.agg.conf.webhook_url,
	    d.agg.conf.webhook_timeout_ms, d.agg.conf.webhook_retries, err,
	    sizeof(err))) == NULL) {
		log_warnx("%s", err);
		(void)child_fail(&d.ch, "bad_configure", err);
		exit(EXIT_PERMANENT);
	}
	add_events(&d);
	atomic_store_explicit(&d.seg.hdr->aggregator_pid, (uint64_t)getpid(),
	    memory_order_release);
	agg_tick(&d.agg, now_mono_ns(), now_wall_ns());

	/* Ready. */
	if (child_ready(&d.ch) == -1) {
		log_warnx("%s", d.ch.err);
		exit(1);
	}
	if (child_watch(&d.ch, d.base) == -1)
		fatalx("event_new failed");
	log_info("ready: %u provider slots, tick %u ms%s%s", d.agg.cap,
	    d.tick_ms, d.agg.conf.state_dir[0] ? ", state in " : "",
	    d.agg.conf.state_dir);

	event_base_dispatch(d.base);
	if (d.ch.status == CHILD_EOF)
		log_info("control socket closed: stopping");
	else if (d.ch.status == CHILD_ERR)
		log_warnx("%s: stopping", d.ch.err);

	/* Orderly stop: last tick, last snapshot. */
	agg_tick(&d.agg, now_mono_ns(), now_wall_ns());
	if (save_state(&d, err, sizeof(err)) == -1)
		log_warnx("persist: %s", err);
	else if (d.agg.conf.state_dir[0] != '\0')
		log_info("state saved to %s/%s", d.agg.conf.state_dir,
		    PERSIST_FILE);
	webhook_free(d.wh);
	event_free(d.ev_tick);
	event_free(d.ev_persist);
	event_free(d.ev_term);
	event_free(d.ev_int);
	event_base_free(d.base);
	curl_global_cleanup();
	agg_free(&d.agg);
	seg_close(&d.seg);
	child_free(&d.ch);
	log_secret_clear();
	return d.ch.status == CHILD_ERR ? 1 : 0;
}
