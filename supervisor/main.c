/*
 * vigild - vigil's supervisor.
 *
 *	vigild [-c FILE] [--check-config [FILE]] [-v] [-d]
 *
 * Runs in the foreground (systemd style): reads the configuration,
 * creates the shared-memory segment and fills its header and directory,
 * starts one vigil-prober per enabled provider, vigil-aggregator and
 * vigil-api (roles.c, directory.c, proc.c), serves the control socket
 * (control.c), restarts crashed children with backoff, reloads on SIGHUP
 * (reload.c), and stops everything on SIGTERM or SIGINT (exit 0, segment
 * and socket removed).
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "control.h"
#include "log.h"
#include "ring.h"
#include "segment.h"
#include "vigild.h"

#ifndef VIGIL_LIBEXECDIR
#define VIGIL_LIBEXECDIR	"/usr/libexec/vigil"
#endif
#ifndef VIGIL_CONF_DEFAULT
#define VIGIL_CONF_DEFAULT	"/etc/vigil/vigil.conf"
#endif
#define EXIT_CONFIG		2
#define SHUTDOWN_WAIT_MS	4000
#define BEAT_MS			1000
#define SEG_MODE		0640
#define REPORTS_MODE		0660	/* owner: the service uid */

static struct vigild	 vigild;
struct vigild		*vd = &vigild;

static struct event	*ev_stop_tick;
static uint64_t		 stop_deadline;

static void	usage(void) __attribute__((noreturn));
static void	find_selfdir(void);
static void	make_segment(void);
static void	make_reports(void);
static void	signal_cb(evutil_socket_t, short, void *);
static void	beat_cb(evutil_socket_t, short, void *);
static void	stop_tick_cb(evutil_socket_t, short, void *);
static void	finish(void) __attribute__((noreturn));
static int	make_dir(const char *, mode_t, int);

static void
usage(void)
{
	fprintf(stderr,
	    "usage: vigild [-c FILE] [--check-config [FILE]] [-v] [-d]\n"
	    "  -c FILE          configuration (default %s)\n"
	    "  --check-config   validate the configuration (-c's, or FILE)"
	    " and exit\n"
	    "  -v               more logging (-vv: debug)\n"
	    "  -d               stay in the foreground (always the case)\n",
	    VIGIL_CONF_DEFAULT);
	exit(EXIT_CONFIG);
}

/*
 * Send one sd_notify message to $NOTIFY_SOCKET (a datagram socket; "@"
 * means the abstract namespace).  No libsystemd; silent when not under
 * systemd.
 */
void
vigild_notify(const char *msg)
{
	struct sockaddr_un sun;
	const char *path = getenv("NOTIFY_SOCKET");
	socklen_t len;
	size_t plen;
	int fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@'))
		return;
	plen = strlen(path);
	if (plen >= sizeof(sun.sun_path))
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, plen);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return;
	if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sun,
	    len) == -1)
		log_warn("sd_notify %s", path);
	close(fd);
}

/*
 * Children run as conf.user when vigild is root; unchanged when vigild
 * is not root or the user is root itself.  A user that does not exist
 * is a configuration error: falling back to a shared account such as
 * nobody would hand every key to any daemon running as it.
 */
int
vigild_resolve_user(const char *user, struct proc_env *pe, char *err,
    size_t errlen)
{
	struct passwd *pw;

	pe->drop = 0;
	if (geteuid() != 0)
		return 0;
	if ((pw = getpwnam(user)) == NULL) {
		snprintf(err, errlen, "user %s does not exist: create it "
		    "(useradd --system --no-create-home --shell "
		    "/usr/sbin/nologin %s) or name another in [vigil] user =",
		    user, user);
		return -1;
	}
	if (pw->pw_uid == 0)
		return 0;
	if (pw->pw_gid == 0) {
		snprintf(err, errlen, "user %s has primary group root; "
		    "give it a group of its own", user);
		return -1;
	}
	pe->drop = 1;
	pe->uid = pw->pw_uid;
	pe->gid = pw->pw_gid;
	return 0;
}

/* The directory of our own executable: children are looked up there
 * first (a build tree), then in VIGIL_LIBEXECDIR. */
static void
find_selfdir(void)
{
	char buf[PATH_MAX];
	ssize_t n;

	n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	if (n <= 0)
		return;
	buf[n] = '\0';
	snprintf(vd->penv.selfdir, sizeof(vd->penv.selfdir), "%s",
	    dirname(buf));
	snprintf(vd->penv.libexec, sizeof(vd->penv.libexec), "%s",
	    VIGIL_LIBEXECDIR);
}

/* Create a directory if missing; chown to the children's user if asked. */
static int
make_dir(const char *path, mode_t mode, int for_children)
{
	if (path[0] == '\0')
		return 0;
	if (mkdir(path, mode) == -1) {
		if (errno != EEXIST)
			return -1;
		return 0;
	}
	if (for_children && vd->penv.drop &&
	    chown(path, vd->penv.uid, vd->penv.gid) == -1)
		return -1;
	return 0;
}

/* The segment: sized from the configuration, group read_group. */
static void
make_segment(void)
{
	struct seg_caps caps;
	struct group *gr;
	char err[512];

	caps.providers = vd->conf.max_providers ? vd->conf.max_providers :
	    SEG_DEFAULT_PROVIDERS;
	caps.samples = vd->conf.sample_capacity ? vd->conf.sample_capacity :
	    SEG_DEFAULT_SAMPLES;
	caps.history = vd->conf.history_retention ?
	    vd->conf.history_retention : SEG_DEFAULT_HISTORY;
	caps.alerts = vd->conf.alert_retention ? vd->conf.alert_retention :
	    SEG_DEFAULT_ALERTS;
	caps.models = vd->conf.max_models;
	if (seg_create(&vd->seg, vd->conf.shm_name, &caps, SEG_MODE, err,
	    sizeof(err)) == -1) {
		control_unlink();
		fatalx("segment: %s", err);
	}
	if (geteuid() == 0 && vd->conf.read_group[0] != '\0' &&
	    (gr = getgrnam(vd->conf.read_group)) != NULL &&
	    fchown(vd->seg.fd, (uid_t)-1, gr->gr_gid) == -1)
		log_warn("segment: chgrp %s", vd->conf.read_group);
	if (seg_client(&vd->seg, &vd->cli) != VIGIL_OK)
		fatalx("segment: %s", vd->cli.err);
	vd->penv.seg_rw_fd = vd->seg.fd;
	vd->penv.seg_ro_fd = shm_open(vd->conf.shm_name, O_RDONLY | O_CLOEXEC,
	    0);
	if (vd->penv.seg_ro_fd == -1) {
		control_unlink();
		shm_unlink(vd->conf.shm_name);
		fatal("segment: shm_open %s read-only", vd->conf.shm_name);
	}
	if (dir_init() == -1)
		fatalx("out of memory");
	log_info("segment %s: %u provider slots, %llu bytes",
	    vd->conf.shm_name, vd->seg.lay.provider_cap,
	    (unsigned long long)vd->seg.lay.size);
	make_reports();
}

/*
 * The reports segment (docs/segment.md, "The reports segment"): owned
 * by the service uid, so that the aggregator maps it by name after its
 * drop, group report_group, mode 0660.  Without the group (the packages
 * create it) it keeps vigild's own, so only root and the service uid
 * may report, and that is said.  Traffic reports are an addition: a
 * failure here is logged and vigil runs on probes alone.
 */
static void
make_reports(void)
{
	struct group *gr = NULL;
	char err[512];
	gid_t gid = (gid_t)-1;

	reports_name(vd->conf.shm_name, vd->reports_name,
	    sizeof(vd->reports_name));
	if (reports_create(&vd->reports, vd->reports_name,
	    REPORTS_DEFAULT_SLOTS, REPORTS_DEFAULT_RING, REPORTS_MODE, err,
	    sizeof(err)) == -1) {
		log_warnx("reports: %s: traffic reports are off", err);
		vd->reports_name[0] = '\0';
		return;
	}
	if (vd->conf.report_group[0] != '\0' &&
	    (gr = getgrnam(vd->conf.report_group)) == NULL)
		log_warnx("reports: group %s does not exist: %s keeps "
		    "vigild's group (create the group to let services "
		    "report)", vd->conf.report_group, vd->reports_name);
	if (gr != NULL)
		gid = gr->gr_gid;
	if (geteuid() == 0 && fchown(vd->reports.fd, vd->penv.drop ?
	    vd->penv.uid : (uid_t)-1, gid) == -1)
		log_warn("reports: chown %s", vd->reports_name);
	log_info("reports segment %s: %u slots of %u entries, group %s",
	    vd->reports_name, vd->reports.lay.slot_cap,
	    vd->reports.lay.ring_cap, gr != NULL ? gr->gr_name : "vigild's");
}

static void
beat_cb(evutil_socket_t fd, short what, void *arg)
{
	static struct seg_watch watch;
	static unsigned long rewrites;
	char why[160], note[48];
	uint64_t now = now_mono_ns();

	(void)fd;
	(void)what;
	(void)arg;
	atomic_store_explicit(&vd->seg.hdr->supervisor_beat_ns, now,
	    memory_order_relaxed);
	/*
	 * vigild never reads the layout back (it addresses the segment
	 * with the one it computed).  As the header's writer it puts a
	 * rewritten layout right at once, so that a child that maps the
	 * segment later validates the real one; each rewrite is said,
	 * within seg_watch_say's budget (docs/segment.md, "Trust").
	 */
	if (seg_layout_check(&vd->seg, why, sizeof(why)) == -1) {
		rewrites++;
		if (seg_watch_say(&watch, now, note, sizeof(note)))
			log_warnx("%s; not followed: header rewritten from "
			    "vigild's copy (%lu rewrites since start)%s", why,
			    rewrites, note);
		seg_layout_restore(&vd->seg);
	}
	roles_watchdog();
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	char err[512];

	(void)what;
	(void)arg;
	switch (sig) {
	case SIGCHLD:
		proc_reap();
		if (vd->shutting_down && proc_running() == 0)
			finish();
		break;
	case SIGHUP:
		log_info("SIGHUP: reloading %s", vd->conf.path);
		(void)vigild_reload(err, sizeof(err));
		break;
	case SIGTERM:
	case SIGINT:
		log_info("signal %d: stopping", (int)sig);
		vigild_shutdown();
		break;
	}
}

/*
 * Orderly stop: no new control requests, SIGTERM to every child
 * (proc_stop SIGKILLs after PROC_STOP_MS), then finish() once all are
 * reaped, or after SHUTDOWN_WAIT_MS whatever remains.
 */
void
vigild_shutdown(void)
{
	struct timeval tv = { 0, 100000 };
	struct proc *p;

	if (vd->shutting_down)
		return;
	vd->shutting_down = 1;
	vigild_notify("STOPPING=1");
	control_close();
	TAILQ_FOREACH(p, &procs, p_entry)
		proc_stop(p, NULL);
	if (proc_running() == 0)
		finish();
	stop_deadline = now_mono_ns() + SHUTDOWN_WAIT_MS * 1000000ull;
	ev_stop_tick = event_new(vd->base, -1, EV_PERSIST, stop_tick_cb,
	    NULL);
	if (ev_stop_tick != NULL)
		event_add(ev_stop_tick, &tv);
}

static void
stop_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	proc_reap();
	if (proc_running() == 0 || now_mono_ns() >= stop_deadline)
		finish();
}

/* Kill what is left, reap it, remove the segment and the socket. */
static void
finish(void)
{
	struct proc *p;
	int tries;

	if (proc_running() > 0) {
		log_warnx("%d children still running: SIGKILL",
		    proc_running());
		proc_kill_all(SIGKILL);
		for (tries = 0; tries < 50 && proc_running() > 0; tries++) {
			TAILQ_FOREACH(p, &procs, p_entry)
				if (p->p_pid > 0 &&
				    waitpid(p->p_pid, NULL, WNOHANG) ==
				    p->p_pid)
					p->p_pid = 0;
			usleep(20000);
		}
	}
	if (shm_unlink(vd->conf.shm_name) == -1 && errno != ENOENT)
		log_warn("shm_unlink %s", vd->conf.shm_name);
	if (vd->reports_name[0] != '\0' &&
	    shm_unlink(vd->reports_name) == -1 && errno != ENOENT)
		log_warn("shm_unlink %s", vd->reports_name);
	control_unlink();
	log_info("stopped");
	exit(0);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "check-config", no_argument, NULL, 'n' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct event *ev_sig[5], *ev_beat;
	static const int sigs[5] = { SIGTERM, SIGINT, SIGHUP, SIGCHLD, 0 };
	struct timeval beat = { BEAT_MS / 1000, (BEAT_MS % 1000) * 1000 };
	const char *path = VIGIL_CONF_DEFAULT;
	char err[CONF_ERR_MAX + 64];
	int ch, check = 0, verbose = 0, i;

	while ((ch = getopt_long(argc, argv, "c:dhnv", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'd':
			break;
		case 'n':
			check = 1;
			break;
		case 'v':
			verbose++;
			break;
		default:
			usage();
		}
	}
	/* DESIGN.md also spells it `vigild --check-config FILE`. */
	if (check && optind == argc - 1)
		path = argv[optind++];
	if (optind != argc)
		usage();

	/* We read every key: no core file, no ptrace by another uid. */
	if (prctl(PR_SET_DUMPABLE, 0) == -1)
		fatal("prctl PR_SET_DUMPABLE");
	log_init("vigild", LOG_LVL_INFO);
	/*
	 * What --check-config accepts vigild starts with: the user to run
	 * children as, and every enabled provider's secret, are checked
	 * here as the prober would use them (and again on reload).
	 */
	if (conf_load(&vd->conf, path, err, sizeof(err)) == -1 ||
	    canary_expand(&vd->conf, err, sizeof(err)) == -1 ||
	    vigild_resolve_user(vd->conf.user, &vd->penv, err,
	    sizeof(err)) == -1 ||
	    conf_check_secrets(&vd->conf, err, sizeof(err)) == -1) {
		fprintf(stderr, "vigild: %s\n", err);
		exit(EXIT_CONFIG);
	}
	if (check) {
		printf("configuration OK\n");
		exit(0);
	}
	if (verbose == 1 && vd->conf.log_level < LOG_LVL_INFO)
		vd->conf.log_level = LOG_LVL_INFO;
	if (verbose >= 2)
		vd->conf.log_level = LOG_LVL_DEBUG;
	log_setlevel(vd->conf.log_level);
	signal(SIGPIPE, SIG_IGN);
	umask(022);

	TAILQ_INIT(&vd->providers);
	vd->started_wall_ns = now_wall_ns();
	vd->penv.listen_fd = -1;
	vd->penv.spawn_fd = -1;
	find_selfdir();
	if (make_dir(vd->conf.state_dir, 0750, 1) == -1)
		log_warn("state directory %s", vd->conf.state_dir);

	if ((vd->base = event_base_new()) == NULL)
		fatalx("libevent: event_base_new failed");
	vd->penv.base = vd->base;
	proc_init(&vd->penv);
	/*
	 * Probers forked by the spawner are re-parented to us when its
	 * middle process exits: they stay our own children (spawner.c).
	 */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
		fatal("prctl PR_SET_CHILD_SUBREAPER");

	if (roles_listen(vd->conf.listen, err, sizeof(err)) == -1)
		fatalx("%s", err);
	/* The control socket first: it tells whether another vigild runs,
	 * before its segment would be replaced. */
	if (control_init(vd->base, err, sizeof(err)) == -1)
		fatalx("control socket: %s", err);
	make_segment();

	for (i = 0; sigs[i] != 0; i++) {
		ev_sig[i] = evsignal_new(vd->base, sigs[i], signal_cb, NULL);
		if (ev_sig[i] == NULL || evsignal_add(ev_sig[i], NULL) == -1)
			fatalx("libevent: signal %d", sigs[i]);
	}
	ev_beat = event_new(vd->base, -1, EV_PERSIST, beat_cb, NULL);
	if (ev_beat == NULL || event_add(ev_beat, &beat) == -1)
		fatalx("libevent: timer");
	beat_cb(-1, 0, NULL);

	log_info("vigild %s starting: %s, %zu providers%s", VIGIL_VERSION,
	    vd->conf.path, vd->conf.nproviders, vd->penv.drop ?
	    ", children drop privileges" : "");
	roles_start();
	event_base_dispatch(vd->base);
	/* Only finish() ends a running vigild. */
	finish();
}
