/*
 * vigil-prober NAME - checks one provider and writes its sample ring.
 *
 * Started by vigild (docs/internals.md): fd 3 is the segment (O_RDWR),
 * fd 4 a socketpair carrying msgpack frames.  The first frame configures
 * us, including the provider's secret, which lives only in this process's
 * memory.  Afterwards one libevent loop drives the checks (libcurl multi),
 * the control socket, the heartbeat and the signals.
 */
#include <sys/prctl.h>
#include <sys/socket.h>

#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <msgpack.h>
#include <openssl/ssl.h>

#include <vigil/vigil.h>

#include "check.h"
#include "child.h"
#include "frame.h"
#include "kinds.h"
#include "log.h"
#include "priv.h"
#include "probe.h"
#include "prober.h"
#include "ring.h"
#include "sched.h"
#include "segment.h"
#include "settings.h"
#include "spawner.h"

static char	procname[64];
static uint32_t	rnd_state;

static void	usage(void);
static int	apply_configure(const msgpack_object *, void *, char *,
		    size_t);
static int	setup(struct prober *, char *, size_t);
static void	teardown(struct prober *);
static void	reply_sample(struct prober *, uint64_t,
		    const struct vigil_sample *);
static void	op_probe_now(struct child *, uint64_t, const msgpack_object *,
		    void *);
static void	op_pause(struct child *, uint64_t, const msgpack_object *,
		    void *);
static void	op_resume(struct child *, uint64_t, const msgpack_object *,
		    void *);
static void	op_set_interval(struct child *, uint64_t,
		    const msgpack_object *, void *);
static void	signal_cb(evutil_socket_t, short, void *);
static void	beat_cb(evutil_socket_t, short, void *);
static void	check_timer_cb(evutil_socket_t, short, void *);
static void	traffic_cb(evutil_socket_t, short, void *);
static int	traffic_read(struct prober *, uint64_t, uint64_t *, uint64_t *);
static int	traffic_step_aside(struct prober *);
static void	start_check(struct prober *, int);
static int	start_extra(struct prober *, struct probe_xfer *);
static int	check_url(const struct prober *, char *, size_t);
static void	check_done(struct probe_xfer *, CURLcode, void *);
static void	extra_done(struct probe_xfer *, CURLcode, void *);
static void	check_ended(struct prober *, uint32_t, struct probe_xfer *,
		    CURLcode, uint8_t);
static void	check_publish(struct prober *, struct vigil_sample *);
static void	check_end(struct prober *);
static int	circuit_closed(struct prober *);
static void	quit(struct prober *, int);

/* After configure (docs/internals.md); ping and set_log_level are
 * common/child.c's. */
static const struct child_op prober_ops[] = {
	{ "probe_now", op_probe_now },
	{ "pause", op_pause },
	{ "resume", op_resume },
	{ "set_interval", op_set_interval },
};


/*
 * Jitter needs no secrecy, only spread: xorshift32, seeded once from
 * arc4random (which is a getrandom system call per use in glibc).
 */
uint32_t
prober_rnd32(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

static void
usage(void)
{
	fprintf(stderr, "usage: vigil-prober NAME (started by vigild)\n"
	    "       vigil-prober --spawner (started by vigild)\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	char err[256];

	/*
	 * Non-dumpable, then the privilege drop, before any secret or the
	 * segment (common/priv.c); probers forked by the spawner inherit
	 * both.
	 */
	if (priv_child_init(err, sizeof(err)) == -1) {
		fprintf(stderr, "vigil-prober: %s\n", err);
		exit(EXIT_PERMANENT);
	}
	/* The spawner gets a blank argv[2]: room for a prober's title. */
	if (argc >= 2 && strcmp(argv[1], "--spawner") == 0) {
		spawner_title_init(argc, argv);
		spawner_main();
	}
	if (argc != 2 || argv[1][0] == '\0')
		usage();
	return prober_run(argv[1]);
}

/*
 * The prober for provider name: run by main() after exec, or by the
 * spawner in a forked child (spawner.c).  Either way fd 3 is the segment
 * and fd 4 the control socketpair.  Returns the exit code.
 */
int
prober_run(const char *name)
{
	struct prober pr;
	char err[256];
	int rc;

	/* Die with vigild; and if it is already gone, do not start. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 || getppid() == 1)
		exit(1);
	/* The secret must not end up in a core file. */
	prctl(PR_SET_DUMPABLE, 0);
	signal(SIGPIPE, SIG_IGN);
	/*
	 * One malloc arena: libcurl's threaded resolver would otherwise
	 * give each resolver thread an arena of its own, which stays.
	 */
	mallopt(M_ARENA_MAX, 1);
	while ((rnd_state = arc4random()) == 0)
		;

	snprintf(procname, sizeof(procname), "prober %s", name);
	log_init(procname, LOG_LVL_INFO);

	memset(&pr, 0, sizeof(pr));
	pr.last_outcome = -1;
	check_init(&pr.chk);
	pr.next_count = 1;
	snprintf(pr.cp.name, sizeof(pr.cp.name), "%s", name);
	/*
	 * Before libcurl initialises OpenSSL: no table of error strings
	 * (some 60 kB of heap in every prober).  Checks report curl's
	 * codes, and OpenSSL's errors still carry their numbers.
	 */
	OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_SSL_STRINGS |
	    OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS, NULL);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatalx("curl_global_init failed");
	if ((pr.base = event_base_new()) == NULL)
		fatalx("libevent: out of memory");

	child_init(&pr.ch, CHILD_FD, prober_ops,
	    sizeof(prober_ops) / sizeof(prober_ops[0]), &pr);
	rc = child_configure(&pr.ch, CHILD_CONFIGURE_MS, apply_configure, &pr,
	    err, sizeof(err));
	if (rc == CHILD_EOF) {
		/* vigild went away before configuring us: nothing to do. */
		teardown(&pr);
		exit(0);
	}
	if (rc == CHILD_ERR) {
		log_warnx("%s", err);
		teardown(&pr);
		exit(EXIT_PERMANENT);
	}
	if (setup(&pr, err, sizeof(err)) == -1) {
		log_warnx("configure: %s", err);
		(void)child_fail(&pr.ch, "config", err);
		teardown(&pr);
		exit(EXIT_PERMANENT);
	}
	if (child_ready(&pr.ch) == -1)
		log_warnx("%s", pr.ch.err);
	log_info("probing %s %s every %u ms (timeout %u ms)%s",
	    vigil_kind_name((unsigned)pr.cp.kind), pr.cp.base_url,
	    pr.cp.interval_ms, pr.cp.timeout_ms, pr.paused ? ", paused" : "");

	if (child_watch(&pr.ch, pr.base) == -1)
		fatalx("libevent: out of memory");
	event_base_dispatch(pr.base);
	rc = pr.exit_code;
	if (pr.ch.status == CHILD_EOF)
		log_info("control socket closed: exiting");
	else if (pr.ch.status == CHILD_ERR) {
		/* vigild speaks garbage: let it restart us */
		log_warnx("%s", pr.ch.err);
		rc = 1;
	}
	teardown(&pr);
	return rc;
}

/*
 * Take the configure args (docs/internals.md) into pr: the settings
 * through the table (settings_decode: the checks vigil.conf's are), then
 * who we are.  Returns 0, or -1 with err filled: a permanent error.
 */
static int
apply_configure(const msgpack_object *a, void *arg, char *err, size_t errlen)
{
	struct prober *pr = arg;
	struct conf c;
	char name[VIGIL_NAME_MAX], want[VIGIL_NAME_MAX], why[200];
	uint64_t slot;
	int b, rc;

	/* Our name, from the command line, before the decode resets it. */
	snprintf(want, sizeof(want), "%s", pr->cp.name);
	if (settings_decode(SR_PROBER, a, &c, &pr->cp, why, sizeof(why)) ==
	    -1) {
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	if (mp_get_uint(a, "slot", &slot) != 0 || slot > UINT32_MAX ||
	    mp_get_uint(a, "epoch", &pr->epoch) != 0 ||
	    mp_get_str(a, "name", name, sizeof(name)) != 0) {
		snprintf(err, errlen, "slot, epoch or name missing "
		    "or invalid");
		return -1;
	}
	if (strcmp(name, want) != 0) {
		snprintf(err, errlen, "name %s is not %s", name,
		    want);
		return -1;
	}
	pr->slot = (uint32_t)slot;
	snprintf(pr->cp.name, sizeof(pr->cp.name), "%s", name);
	if (mp_get_str(a, "api_key", pr->key, sizeof(pr->key)) == -2 ||
	    (rc = mp_get_bool(a, "paused", &b)) == -2) {
		snprintf(err, errlen, "api_key or paused invalid");
		return -1;
	}
	if (rc == 0)
		pr->paused = b;
	pr->cc.interval_ms = pr->cp.interval_ms;
	pr->cc.fast_percent = c.fast_probe_percent;
	pr->cc.confirm_max = settings_confirm_failures(&c);
	pr->cc.retry_max_ms = c.retry_after_max_ms;
	pr->when_idle = c.probe_when_idle;
	log_setlevel(c.log_level);
	log_secret(pr->key);
	return 0;
}

/*
 * Map the segment, take over the ring, build the transfers and events.
 * Returns 0, or -1 with err filled.
 */
static int
setup(struct prober *pr, char *err, size_t errlen)
{
	struct probe_opts o;
	char url[KIND_URL_MAX];
	const struct vigil_layout *h;

	if (seg_map_fd(&pr->seg, SEG_FD, 1, err, errlen) == -1)
		return -1;
	h = &pr->seg.lay;
	if (h->magic != VIGIL_MAGIC) {
		snprintf(err, errlen, "segment not initialised");
		return -1;
	}
	if (pr->slot >= h->provider_cap) {
		snprintf(err, errlen, "slot %u beyond capacity %u", pr->slot,
		    h->provider_cap);
		return -1;
	}
	if (seg_client(&pr->seg, &pr->cli) != VIGIL_OK) {
		snprintf(err, errlen, "segment: %s", pr->cli.err);
		return -1;
	}
	ring_writer_init(&pr->ring, seg_sample_ring(&pr->seg, pr->slot),
	    h->sample_cap, h->sample_entry);
	atomic_store(&pr->ring.ctl->epoch, pr->epoch);
	ring_beat(&pr->ring, now_mono_ns());

	if (probe_engine_init(&pr->eng, pr->base, err, errlen) == -1)
		return -1;
	if (gen_setup(pr, err, errlen) == -1)
		return -1;
	if (check_url(pr, url, sizeof(url)) == -1) {
		snprintf(err, errlen, "check URL too long");
		return -1;
	}
	memset(&o, 0, sizeof(o));
	o.url = url;
	o.ca_file = pr->cp.ca_file;
	o.timeout_ms = pr->cp.timeout_ms;
	o.kind = pr->cp.kind;
	if ((o.headers = kind_headers(pr->cp.kind, pr->key, 0)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (probe_xfer_init(&pr->check, &pr->eng, &o, check_done, pr, err,
	    errlen) == -1)
		return -1;

	pr->ev_check = evtimer_new(pr->base, check_timer_cb, pr);
	pr->ev_gen = evtimer_new(pr->base, gen_timer_cb, pr);
	pr->ev_beat = event_new(pr->base, -1, EV_PERSIST, beat_cb, pr);
	pr->ev_traffic = event_new(pr->base, -1, EV_PERSIST, traffic_cb, pr);
	pr->ev_term = evsignal_new(pr->base, SIGTERM, signal_cb, pr);
	pr->ev_int = evsignal_new(pr->base, SIGINT, signal_cb, pr);
	if (pr->ev_check == NULL || pr->ev_gen == NULL || pr->ev_beat == NULL ||
	    pr->ev_traffic == NULL || pr->ev_term == NULL ||
	    pr->ev_int == NULL) {
		snprintf(err, errlen, "libevent: out of memory");
		return -1;
	}
	prober_schedule(pr->ev_beat, BEAT_MS);
	pr->traffic_errs = UINT64_MAX;
	prober_schedule(pr->ev_traffic, TRAFFIC_MS);
	event_add(pr->ev_term, NULL);
	event_add(pr->ev_int, NULL);
	if (!pr->paused) {
		prober_schedule(pr->ev_check, sched_first_ms(pr->cp.interval_ms,
		    prober_rnd32()));
		/* The first generation check a little after the first
		 * check, so the two rarely start together. */
		gen_first(pr, 1000);
	}
	return 0;
}

/* Stop everything; wipe the secret.  Safe on a partly set up prober. */
static void
teardown(struct prober *pr)
{
	struct event **evs[] = { &pr->ev_check, &pr->ev_gen, &pr->ev_beat,
	    &pr->ev_traffic, &pr->ev_term, &pr->ev_int };
	size_t i;

	if (pr->check.easy != NULL)
		probe_xfer_free(&pr->check);
	for (i = 0; i < SCHED_CONFIRM_PAR - 1; i++)
		if (pr->extra[i].easy != NULL)
			probe_xfer_free(&pr->extra[i]);
	gen_teardown(pr);
	if (pr->eng.cv != NULL)
		probe_engine_free(&pr->eng);
	for (i = 0; i < sizeof(evs) / sizeof(evs[0]); i++) {
		if (*evs[i] != NULL) {
			event_free(*evs[i]);
			*evs[i] = NULL;
		}
	}
	child_free(&pr->ch);
	if (pr->base != NULL) {
		event_base_free(pr->base);
		pr->base = NULL;
	}
	if (pr->seg.base != NULL)
		seg_close(&pr->seg);
	explicit_bzero(pr->key, sizeof(pr->key));
	log_secret_clear();
	curl_global_cleanup();
}

static void
quit(struct prober *pr, int code)
{
	pr->exit_code = code;
	if (pr->base != NULL)
		event_base_loopbreak(pr->base);
}

static void
reply_sample(struct prober *pr, uint64_t id, const struct vigil_sample *s)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	char e[sizeof(s->error) + 1];

	memcpy(e, s->error, sizeof(s->error));
	e[sizeof(s->error)] = '\0';
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	mp_reply_ok(&pk, id);
	msgpack_pack_map(&pk, 5);
	mp_kv_str(&pk, "outcome", vigil_outcome_name(s->outcome));
	mp_kv_uint(&pk, "http_status", s->http_status);
	mp_kv_double(&pk, "latency_ms", s->latency_us / 1000.0);
	mp_kv_str(&pk, "error", e);
	mp_kv_uint(&pk, "wall_ns", s->wall_ns);
	if (child_send(&pr->ch, &sb) == -1)
		log_warnx("%s", pr->ch.err);
	msgpack_sbuffer_destroy(&sb);
}

/* probe_now: the sample, once the check it starts (or the one running)
 * is done. */
static void
op_probe_now(struct child *ch, uint64_t id, const msgpack_object *args,
    void *arg)
{
	struct prober *pr = arg;

	(void)args;
	if (pr->nwaiters == MAX_WAITERS) {
		(void)child_reply_err(ch, id, "busy", "too many probe_now "
		    "waiting");
		return;
	}
	pr->waiters[pr->nwaiters++] = id;
	if (pr->running == 0) {
		evtimer_del(pr->ev_check);
		start_check(pr, 1);
	}
}

static void
op_pause(struct child *ch, uint64_t id, const msgpack_object *args,
    void *arg)
{
	struct prober *pr = arg;

	(void)args;
	if (!pr->paused)
		log_info("paused");
	pr->paused = 1;
	evtimer_del(pr->ev_check);
	evtimer_del(pr->ev_gen);
	(void)child_reply_ok(ch, id);
}

static void
op_resume(struct child *ch, uint64_t id, const msgpack_object *args,
    void *arg)
{
	struct prober *pr = arg;

	(void)args;
	if (pr->paused) {
		log_info("resumed");
		pr->paused = 0;
		pr->next_count = 1;
		if (pr->running == 0)
			prober_schedule(pr->ev_check, sched_first_ms(
			    pr->cp.interval_ms, prober_rnd32()));
		gen_first(pr, 0);
	}
	(void)child_reply_ok(ch, id);
}

static void
op_set_interval(struct child *ch, uint64_t id, const msgpack_object *args,
    void *arg)
{
	struct prober *pr = arg;
	uint64_t v;

	if (mp_get_uint(args, "interval_ms", &v) != 0 ||
	    v < MIN_INTERVAL_MS || v > 86400000) {
		(void)child_reply_err(ch, id, "bad_request", "interval_ms "
		    "must be 100..86400000");
		return;
	}
	log_info("interval %u -> %llu ms", pr->cp.interval_ms,
	    (unsigned long long)v);
	pr->cp.interval_ms = pr->cc.interval_ms = (uint32_t)v;
	pr->next_count = 1;
	if (!pr->paused && pr->running == 0)
		prober_schedule(pr->ev_check, sched_jitter(pr->cp.interval_ms,
		    prober_rnd32()));
	(void)child_reply_ok(ch, id);
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	log_info("signal %d: exiting", (int)sig);
	quit(arg, 0);
}

static void
beat_cb(evutil_socket_t fd, short what, void *arg)
{
	struct prober *pr = arg;

	(void)fd;
	(void)what;
	ring_beat(&pr->ring, now_mono_ns());
}

void
prober_schedule(struct event *ev, uint32_t ms)
{
	struct timeval tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(ev, &tv);
}

/*
 * Time for a check, unless the provider asked for a wait that is not
 * over (a generation check's 429 since this timer was set, a resume or
 * set_interval during the wait, or libevent's coarse clock firing the
 * timer a few ms early): then at its end.  A provider's reset is exact,
 * and a check a millisecond early is one more 429.
 */
static void
check_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct prober *pr = arg;
	uint32_t hold;

	(void)fd;
	(void)what;
	if (pr->paused)
		return;
	if ((hold = check_hold_ms(&pr->chk, now_mono_ns())) > 0)
		prober_schedule(pr->ev_check, hold);
	else if (traffic_step_aside(pr))
		prober_schedule(pr->ev_check, sched_jitter(pr->cp.interval_ms,
		    prober_rnd32()));
	else
		start_check(pr, 0);
}

/*
 * What the aggregator says about our traffic, from our stats block (a
 * seqlocked copy): the newest report's monotonic time and the failures
 * that count.  The block is the aggregator's, but the segment is
 * writable by every prober: a time in the future or a count that went
 * down is not believed.  0, or -1 when there is nothing to go by.
 */
static int
traffic_read(struct prober *pr, uint64_t now, uint64_t *last,
    uint64_t *errs)
{
	struct vigil_stats st;

	memset(&st, 0, sizeof(st));
	if (vigil_provider_stats(&pr->cli, pr->slot, &st) != VIGIL_OK ||
	    st.updated_wall_ns == 0)
		return -1;
	*last = st.source[VIGIL_SRC_TRAFFIC].last_mono_ns;
	*errs = st.source[VIGIL_SRC_TRAFFIC].errors_total;
	if (*last > now + UINT64_C(1000000000))
		*last = 0;			/* not a time we have had */
	return 0;
}

/*
 * probe_when_idle: a scheduled check is skipped while traffic was
 * reported within the interval (check_step_aside).  Never a
 * confirmation's check (next_count > 1): that one was asked for.
 */
static int
traffic_step_aside(struct prober *pr)
{
	uint64_t now = now_mono_ns(), last, errs;

	if (!pr->when_idle || pr->next_count > 1 ||
	    traffic_read(pr, now, &last, &errs) == -1 ||
	    !check_step_aside(now, last, pr->cp.interval_ms))
		return 0;
	prober_skipped(pr);
	log_debug("check skipped: traffic %llu ms ago",
	    (unsigned long long)(now > last ? (now - last) / 1000000u : 0));
	return 1;
}

/*
 * One more scheduled check skipped for traffic (a provider's, or a
 * model's generation check: gen.c), in the ring control block's
 * VIGIL_RING_SKIPPED word, which /metrics shows.
 */
void
prober_skipped(struct prober *pr)
{
	volatile uint64_t *w;

	pr->skipped++;
	w = (volatile uint64_t *)&pr->ring.ctl->reserved[VIGIL_RING_SKIPPED];
	*w = pr->skipped;
}

/*
 * Every TRAFFIC_MS: new failures in the reported traffic (only those
 * that count against the provider) get a confirmation now (up to
 * confirm_max requests at once, the first on the check's connection),
 * at most one a TRAFFIC_CONFIRM_MS, never during a check, a pause, a
 * rate-limit wait, or with no request left in the provider's window.
 */
static void
traffic_cb(evutil_socket_t fd, short what, void *arg)
{
	struct prober *pr = arg;
	uint64_t now = now_mono_ns(), last, errs, seen;
	uint32_t n, room;

	(void)fd;
	(void)what;
	if (traffic_read(pr, now, &last, &errs) == -1)
		return;
	seen = pr->traffic_errs;
	pr->traffic_errs = errs;
	if (seen == UINT64_MAX || errs <= seen)
		return;			/* first look, none new, or a reset */
	if (pr->paused || pr->running > 0 ||
	    now - pr->confirm_ns < (uint64_t)TRAFFIC_CONFIRM_MS * 1000000u ||
	    check_hold_ms(&pr->chk, now) > 0 ||
	    check_headroom(&pr->chk, now) == 0)
		return;
	pr->confirm_ns = now;
	/* A confirmation: up to confirm_max requests at once (as
	 * check_decide sends after a failed check), never more than the
	 * provider's window has left. */
	n = pr->cc.confirm_max;
	if (n > SCHED_CONFIRM_PAR)
		n = SCHED_CONFIRM_PAR;
	if (n > (room = check_headroom(&pr->chk, now)))
		n = room;
	pr->next_count = n > 0 ? n : 1;
	log_info("traffic: %llu new failures reported: confirming with %u "
	    "requests now", (unsigned long long)(errs - seen),
	    pr->next_count);
	start_check(pr, 0);
}

/*
 * Start a check: one request, or for a confirmation next_count of them at
 * once (check_decide), the extra ones on fresh connections.  Each
 * gives its own sample, published in the order the requests started
 * (check_ended holds one that ends before an earlier one): the segment's
 * samples and history stay in time order.  check_end runs once the last
 * one is done.  A request that cannot start counts as done without a
 * sample.  Requests may end inside probe_xfer_start (a refused
 * connection): running is set first, so the check cannot end before
 * every request has started.
 */
static void
start_check(struct prober *pr, int manual)
{
	uint32_t i, n = manual ? 1 : pr->next_count;

	pr->manual = manual;
	pr->next_count = 1;
	pr->nreq = pr->running = n;
	pr->npub = 0;
	memset(pr->req_state, REQ_RUNNING, sizeof(pr->req_state));
	check_begin(&pr->chk);
	if (probe_xfer_start(&pr->check) == -1)
		check_ended(pr, 0, NULL, CURLE_OK, 0);
	for (i = 1; i < n; i++)
		if (start_extra(pr, &pr->extra[i - 1]) == -1)
			check_ended(pr, i, NULL, CURLE_OK, 0);
}

/*
 * The models-list check's URL: the kind's path (or check_path), and
 * when the list must tell whether each model is there, the longest
 * page the kind gives (models_list_query).  Returns 0, or -1.
 */
static int
check_url(const struct prober *pr, char *url, size_t len)
{
	const char *q = models_list_query(pr->cp.kind);
	size_t n;

	if (kind_check_url(pr->cp.kind, pr->cp.base_url, pr->cp.check_path,
	    url, len) == -1)
		return -1;
	if (pr->nmodels == 0 || pr->cp.check_path[0] != '\0' || *q == '\0')
		return 0;
	n = strlen(url);
	if (strlen(q) >= len - n)
		return -1;
	memcpy(url + n, q, strlen(q) + 1);
	return 0;
}

/* One more request of a confirmation, the check's own but for its
 * connection: a new one, closed when it is done (extra_done frees it). */
static int
start_extra(struct prober *pr, struct probe_xfer *x)
{
	struct probe_opts o;
	char url[KIND_URL_MAX], err[256];

	if (check_url(pr, url, sizeof(url)) == -1)
		return -1;
	memset(&o, 0, sizeof(o));
	o.url = url;
	o.ca_file = pr->cp.ca_file;
	o.timeout_ms = pr->cp.timeout_ms;
	o.kind = pr->cp.kind;
	o.fresh = 1;
	if ((o.headers = kind_headers(pr->cp.kind, pr->key, 0)) == NULL) {
		log_warnx("confirmation: out of memory");
		return -1;
	}
	if (probe_xfer_init(x, &pr->eng, &o, extra_done, pr, err,
	    sizeof(err)) == -1) {
		log_warnx("confirmation: %s", err);
		return -1;
	}
	if (probe_xfer_start(x) == -1) {
		log_warnx("confirmation: cannot start a request");
		probe_xfer_free(x);
		return -1;
	}
	return 0;
}

/* Circuit closed, or no judgement yet (no aggregator, busy stats). */
static int
circuit_closed(struct prober *pr)
{
	struct vigil_stats st;

	memset(&st, 0, sizeof(st));
	if (vigil_provider_stats(&pr->cli, pr->slot, &st) != VIGIL_OK ||
	    st.updated_wall_ns == 0)
		return 1;
	return st.circuit == VIGIL_CB_CLOSED;
}

static void
check_done(struct probe_xfer *x, CURLcode cc, void *arg)
{
	struct prober *pr = arg;

	check_ended(pr, 0, x, cc, pr->manual ? VIGIL_SF_MANUAL : 0);
}

/* A confirmation's extra request ended: its sample, then its handle and
 * connection go (curl has already taken it out of the multi handle). */
static void
extra_done(struct probe_xfer *x, CURLcode cc, void *arg)
{
	struct prober *pr = arg;

	check_ended(pr, (uint32_t)(x - pr->extra) + 1, x, cc,
	    VIGIL_SF_CONFIRM);
	probe_xfer_free(x);
}

/*
 * Request i of the check is done (x NULL: it never started).  Its sample
 * is held until every request started before it is done, then published
 * with them in start order; then check_end.
 */
static void
check_ended(struct prober *pr, uint32_t i, struct probe_xfer *x, CURLcode cc,
    uint8_t flags)
{
	if (i >= pr->nreq || pr->req_state[i] != REQ_RUNNING)
		return;
	pr->req_state[i] = REQ_GONE;
	if (x != NULL) {
		probe_xfer_sample(x, pr->cp.kind, cc, &pr->pend[i]);
		pr->pend[i].flags |= flags;
		pr->req_state[i] = REQ_DONE;
		if (i == 0)
			catalogue_read(pr, x, &pr->pend[0]);
	}
	while (pr->npub < pr->nreq && pr->req_state[pr->npub] != REQ_RUNNING) {
		if (pr->req_state[pr->npub] == REQ_DONE) {
			check_publish(pr, &pr->pend[pr->npub]);
			if (pr->npub == 0)
				catalogue_publish(pr, &pr->pend[0]);
			pr->req_state[pr->npub] = REQ_GONE;
		}
		pr->npub++;
	}
	check_end(pr);
}

/*
 * Publish a sample: count it into the check (check.c: for a 429, the
 * wait goes into the sample), then the ring, probe_now waiters, a log
 * line on a change of outcome.
 */
static void
check_publish(struct prober *pr, struct vigil_sample *s)
{
	int i;

	check_sample(&pr->chk, &pr->cc, s, 1, prober_rnd32());
	ring_push(&pr->ring, s, VIGIL_WORDS(struct vigil_sample));
	ring_beat(&pr->ring, now_mono_ns());

	for (i = 0; i < pr->nwaiters; i++)
		reply_sample(pr, pr->waiters[i], s);
	pr->nwaiters = 0;

	if (s->outcome != pr->last_outcome)
		log_info("%s%s%s (http %u, %u ms)",
		    vigil_outcome_name(s->outcome), s->error[0] ? " " : "",
		    s->error, s->http_status, s->latency_us / 1000);
	else
		log_debug("%s %s (http %u, %u us)",
		    vigil_outcome_name(s->outcome), s->error, s->http_status,
		    s->latency_us);
	if (s->outcome == VIGIL_OUT_RATE_LIMITED &&
	    s->outcome != pr->last_outcome)
		log_info("rate limited: next check in %u ms (%s)",
		    s->retry_after_ms, (s->flags & VIGIL_SF_RETRY_HINT) ?
		    "the provider's headers" : "backoff");
	pr->last_outcome = s->outcome;
}

/*
 * One request of the check is done.  After the last, schedule the next
 * check (check.c's check_decide has the rules): an ok among the requests
 * clears the failure before it.
 */
static void
check_end(struct prober *pr)
{
	struct check_next nx;

	if (pr->running == 0 || --pr->running > 0)
		return;
	pr->manual = 0;
	if (pr->chk.nsamples == 0) {
		log_warnx("cannot start a check; retrying in one interval");
		if (!pr->paused)
			prober_schedule(pr->ev_check, sched_jitter(
			    pr->cp.interval_ms, prober_rnd32()));
		return;
	}
	check_decide(&pr->chk, &pr->cc, circuit_closed(pr), now_mono_ns(),
	    prober_rnd32(), &nx);
	if (!pr->paused) {
		prober_schedule(pr->ev_check, nx.delay_ms);
		pr->next_count = nx.count;
	}
	/*
	 * Start-up (configure, the first connection and its handshake)
	 * leaves freed heap behind: give it back once.
	 */
	if (!pr->trimmed) {
		pr->trimmed = 1;
		malloc_trim(0);
	}
}
