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

#include "engine.h"
#include "frame.h"
#include "log.h"
#include "persist.h"
#include "priv.h"
#include "ring.h"
#include "segment.h"
#include "webhook.h"

#define SEG_FD		3
#define CTL_FD		4
#define AGG_TICK_MS	50	/* lag from a sample to its judgement */
#define AGG_CONFIGURE_MS 30000
#define AGG_EXIT_NORESTART 125

struct aggd {
	struct event_base *base;
	struct event *ev_tick;
	struct event *ev_persist;
	struct event *ev_ctl;
	struct event *ev_term;
	struct event *ev_int;
	struct segment seg;
	struct agg agg;
	struct webhook *wh;
	uint32_t tick_ms;
	unsigned char *in;		/* fd 4 input, FRAME_HDR + FRAME_MAX */
	size_t inlen;
	int exit_code;
	/* Set when a snapshot could be neither read nor moved aside: a save
	 * would replace it, so nothing is saved in this run. */
	int persist_off;
};

static void	usage(void) __attribute__((noreturn));
static int	conf_from_args(const msgpack_object *, struct conf *,
		    uint32_t *, char *, size_t);
static int	send_reply(int, msgpack_sbuffer *);
static void	reply_err(uint64_t, const char *, const char *);
static void	deliver(const struct vigil_alert *, const char *, void *);
static int	save_state(struct aggd *, char *, size_t);
static void	tick_cb(evutil_socket_t, short, void *);
static void	persist_cb(evutil_socket_t, short, void *);
static void	signal_cb(evutil_socket_t, short, void *);
static void	ctl_cb(evutil_socket_t, short, void *);
static void	ctl_dispatch(struct aggd *, const msgpack_object *);
static void	op_silence(struct aggd *, uint64_t, const msgpack_object *, int);
static void	op_ping(struct aggd *, uint64_t);
static void	op_persist(struct aggd *, uint64_t);

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
conf_from_args(const msgpack_object *args, struct conf *c,
    uint32_t *tick_ms, char *err, size_t errlen)
{
	uint64_t v;
	int rc;

	if (settings_decode(SR_AGG, args, c, NULL, err, errlen) == -1)
		return -1;
	if ((rc = mp_get_uint(args, "tick_ms", &v)) == 0 && v >= 10 &&
	    v <= 10000)
		*tick_ms = (uint32_t)v;
	else if (rc != -1) {
		snprintf(err, errlen, "tick_ms: 10..10000");
		return -1;
	}
	return 0;
}

static int
send_reply(int fd, msgpack_sbuffer *sb)
{
	char err[128];

	if (frame_send(fd, sb->data, sb->size, err, sizeof(err)) == -1) {
		log_warnx("control: %s", err);
		return -1;
	}
	return 0;
}

static void
reply_err(uint64_t id, const char *code, const char *msg)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	mp_reply_err(&pk, id, code, msg);
	send_reply(CTL_FD, &sb);
	msgpack_sbuffer_destroy(&sb);
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
	if (!silenced && d->wh != NULL && webhook_post(d->wh, a, fig) == -1)
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

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct aggd *d = arg;

	(void)fd;
	(void)what;
	agg_tick(&d->agg, now_mono_ns(), now_wall_ns());
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
op_silence(struct aggd *d, uint64_t id, const msgpack_object *args, int on)
{
	char name[VIGIL_NAME_MAX], reason[128] = "";
	struct agg_prov *p = NULL;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint64_t until = 0;
	uint32_t i;

	if (mp_get_str(args, "provider", name, sizeof(name)) != 0) {
		reply_err(id, "bad_args", "provider: missing or not a name");
		return;
	}
	if (on) {
		if (mp_get_uint(args, "until_wall_ns", &until) != 0 ||
		    until == 0) {
			reply_err(id, "bad_args", "until_wall_ns: missing or "
			    "not a positive integer");
			return;
		}
		if (mp_get_str(args, "reason", reason, sizeof(reason)) == -2) {
			reply_err(id, "bad_args", "reason: not a string or "
			    "too long");
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
		reply_err(id, "not_found", "no such provider");
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
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	mp_reply_ok(&pk, id);
	msgpack_pack_map(&pk, 0);
	send_reply(CTL_FD, &sb);
	msgpack_sbuffer_destroy(&sb);
}

/* ping: liveness plus the counters an operator wants to see. */
static void
op_ping(struct aggd *d, uint64_t id)
{
	struct webhook_stats ws;
	msgpack_sbuffer sb;
	msgpack_packer pk;

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
	send_reply(CTL_FD, &sb);
	msgpack_sbuffer_destroy(&sb);
}

static void
op_persist(struct aggd *d, uint64_t id)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	char err[512];

	if (d->agg.conf.state_dir[0] == '\0') {
		reply_err(id, "no_state_dir", "state_dir is not set");
		return;
	}
	if (save_state(d, err, sizeof(err)) == -1) {
		log_warnx("persist: %s", err);
		reply_err(id, "persist_failed", err);
		return;
	}
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	mp_reply_ok(&pk, id);
	msgpack_pack_map(&pk, 0);
	send_reply(CTL_FD, &sb);
	msgpack_sbuffer_destroy(&sb);
}

static void
ctl_dispatch(struct aggd *d, const msgpack_object *m)
{
	static const msgpack_object empty = { .type = MSGPACK_OBJECT_MAP };
	const msgpack_object *op, *args;
	uint64_t id = 0;

	if (mp_get_uint(m, "id", &id) != 0) {
		log_warnx("control: request without an id");
		return;
	}
	op = mp_get(m, "op");
	if ((args = mp_get(m, "args")) == NULL)
		args = &empty;
	if (op == NULL || op->type != MSGPACK_OBJECT_STR) {
		reply_err(id, "bad_request", "op: missing or not a string");
		return;
	}
	if (args->type != MSGPACK_OBJECT_MAP) {
		reply_err(id, "bad_request", "args: not a map");
		return;
	}
	if (mp_streq(op, "ping"))
		op_ping(d, id);
	else if (mp_streq(op, "silence"))
		op_silence(d, id, args, 1);
	else if (mp_streq(op, "unsilence"))
		op_silence(d, id, args, 0);
	else if (mp_streq(op, "persist"))
		op_persist(d, id);
	else
		reply_err(id, "unknown_op", "unknown operation");
}

/*
 * fd 4 is readable: take what is there, decode every whole frame.  EOF
 * (vigild gone) or a malformed frame ends the loop: a supervisor that
 * sends garbage is not one to keep talking to.
 */
static void
ctl_cb(evutil_socket_t fd, short what, void *arg)
{
	struct aggd *d = arg;
	msgpack_unpacked u;
	char err[256];
	size_t used;
	ssize_t n;
	int rc;

	(void)what;
	n = read(fd, d->in + d->inlen, FRAME_HDR + FRAME_MAX - d->inlen);
	if (n == -1) {
		if (errno == EINTR || errno == EAGAIN)
			return;
		log_warn("control: read");
		event_base_loopbreak(d->base);
		return;
	}
	if (n == 0) {
		log_info("control socket closed: stopping");
		event_base_loopbreak(d->base);
		return;
	}
	d->inlen += (size_t)n;
	for (;;) {
		msgpack_unpacked_init(&u);
		rc = frame_parse(d->in, d->inlen, &used, &u, err, sizeof(err));
		if (rc == FRAME_MORE) {
			msgpack_unpacked_destroy(&u);
			return;
		}
		if (rc != FRAME_OK) {
			msgpack_unpacked_destroy(&u);
			log_warnx("control: %s: stopping", err);
			d->exit_code = 1;
			event_base_loopbreak(d->base);
			return;
		}
		ctl_dispatch(d, &u.data);
		msgpack_unpacked_destroy(&u);
		memmove(d->in, d->in + used, d->inlen - used);
		d->inlen -= used;
	}
}

int
main(int argc, char *argv[])
{
	struct aggd d;
	struct conf conf;
	struct persist_snap *snap = NULL;
	msgpack_unpacked u;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct timeval tv;
	const msgpack_object *op;
	uint64_t cfg_id = 0;
	char err[512];
	int rc;

	(void)argv;
	if (argc > 1)
		usage();
	log_init("vigil-aggregator", LOG_LVL_INFO);
	/* Before the segment or the webhook's token: common/priv.c. */
	if (priv_child_init(err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		exit(AGG_EXIT_NORESTART);
	}
	signal(SIGPIPE, SIG_IGN);
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
	memset(&d, 0, sizeof(d));
	d.tick_ms = AGG_TICK_MS;
	settings_defaults(&d.agg.conf);

	/* 1. The configure request. */
	msgpack_unpacked_init(&u);
	rc = frame_recv(CTL_FD, AGG_CONFIGURE_MS, &u, err, sizeof(err));
	if (rc != FRAME_OK) {
		if (rc == FRAME_EOF)
			snprintf(err, sizeof(err), "closed before configure");
		else if (rc == FRAME_TIMEOUT)
			snprintf(err, sizeof(err), "no configure request");
		fatalx("control socket (fd %d): %s", CTL_FD, err);
	}
	op = mp_get(&u.data, "op");
	if (mp_get_uint(&u.data, "id", &cfg_id) != 0 || op == NULL ||
	    !mp_streq(op, "configure")) {
		reply_err(cfg_id, "bad_request", "expected configure first");
		log_warnx("first request is not configure");
		exit(AGG_EXIT_NORESTART);
	}
	{
		struct conf c;

		if (conf_from_args(mp_get(&u.data, "args"), &c, &d.tick_ms,
		    err, sizeof(err)) == -1) {
			log_warnx("%s", err);
			reply_err(cfg_id, "bad_configure", err);
			exit(AGG_EXIT_NORESTART);
		}
		if (c.webhook_url[0] != '\0')
			log_secret(c.webhook_url);
		log_setlevel(c.log_level);
		d.agg.conf = c;
	}
	msgpack_unpacked_destroy(&u);

	/* 2. The segment. */
	if (seg_map_fd(&d.seg, SEG_FD, 1, err, sizeof(err)) == -1 ||
	    d.seg.hdr->magic != VIGIL_MAGIC) {
		if (d.seg.base != NULL)
			snprintf(err, sizeof(err), "segment not initialised");
		log_warnx("segment (fd %d): %s", SEG_FD, err);
		reply_err(cfg_id, "bad_segment", err);
		exit(AGG_EXIT_NORESTART);
	}

	/* 3. The snapshot: a bad one is reported, kept aside, skipped. */
	if (d.agg.conf.state_dir[0] != '\0') {
		if ((snap = calloc(1, sizeof(*snap))) == NULL)
			fatal("calloc");
		rc = persist_load(d.agg.conf.state_dir, snap, err,
		    sizeof(err));
		if (rc == PERSIST_LOADED)
			log_info("state restored from %s/%s: %zu providers, "
			    "%zu alerts", d.agg.conf.state_dir, PERSIST_FILE,
			    snap->nprov, snap->nalerts);
		else {
			if (rc == PERSIST_ASIDE)
				log_warnx("state: %s", err);
			else if (rc == PERSIST_STUCK) {
				log_warnx("state: %s", err);
				log_warnx("state: persistence is off until "
				    "restart");
				d.persist_off = 1;
			}
			free(snap);
			snap = NULL;
		}
	}
	/* agg_init zeroes d.agg first: hand it a copy of the settings. */
	conf = d.agg.conf;
	if (agg_init(&d.agg, &d.seg, &conf, snap, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		reply_err(cfg_id, "init_failed", err);
		exit(AGG_EXIT_NORESTART);
	}
	d.agg.ax.deliver = deliver;
	d.agg.ax.arg = &d;

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
		reply_err(cfg_id, "bad_configure", err);
		exit(AGG_EXIT_NORESTART);
	}
	if ((d.in = malloc(FRAME_HDR + FRAME_MAX)) == NULL)
		fatal("malloc");
	d.ev_tick = event_new(d.base, -1, EV_PERSIST, tick_cb, &d);
	d.ev_persist = event_new(d.base, -1, EV_PERSIST, persist_cb, &d);
	d.ev_ctl = event_new(d.base, CTL_FD, EV_READ | EV_PERSIST, ctl_cb,
	    &d);
	d.ev_term = evsignal_new(d.base, SIGTERM, signal_cb, &d);
	d.ev_int = evsignal_new(d.base, SIGINT, signal_cb, &d);
	if (d.ev_tick == NULL || d.ev_persist == NULL || d.ev_ctl == NULL ||
	    d.ev_term == NULL || d.ev_int == NULL)
		fatalx("event_new failed");
	tv.tv_sec = d.tick_ms / 1000;
	tv.tv_usec = (d.tick_ms % 1000) * 1000;
	event_add(d.ev_tick, &tv);
	if (d.agg.conf.state_dir[0] != '\0' && !d.persist_off) {
		tv.tv_sec = d.agg.conf.persist_interval_ms / 1000;
		tv.tv_usec = (d.agg.conf.persist_interval_ms % 1000) * 1000;
		event_add(d.ev_persist, &tv);
	}
	event_add(d.ev_ctl, NULL);
	event_add(d.ev_term, NULL);
	event_add(d.ev_int, NULL);
	atomic_store_explicit(&d.seg.hdr->aggregator_pid, (uint64_t)getpid(),
	    memory_order_release);
	agg_tick(&d.agg, now_mono_ns(), now_wall_ns());

	/* Ready. */
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	mp_reply_ok(&pk, cfg_id);
	msgpack_pack_map(&pk, 1);
	mp_kv_uint(&pk, "pid", (uint64_t)getpid());
	if (send_reply(CTL_FD, &sb) == -1)
		exit(1);
	msgpack_sbuffer_destroy(&sb);
	log_info("ready: %u provider slots, tick %u ms%s%s", d.agg.cap,
	    d.tick_ms, d.agg.conf.state_dir[0] ? ", state in " : "",
	    d.agg.conf.state_dir);

	event_base_dispatch(d.base);

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
	event_free(d.ev_ctl);
	event_free(d.ev_term);
	event_free(d.ev_int);
	event_base_free(d.base);
	curl_global_cleanup();
	agg_free(&d.agg);
	seg_close(&d.seg);
	free(d.in);
	log_secret_clear();
	return d.exit_code;
}
