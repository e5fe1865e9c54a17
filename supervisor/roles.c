/*
 * roles.c - the table of roles, what each is told at start (its
 * configure request, packed from the settings table), its hooks around
 * start and stop, the spawner, live log levels and start-up.
 *
 * Adding a role is an entry in roles[] plus its configure function.
 * The provider directory is directory.c, reload is reload.c.  A dead
 * prober's ring gets its new writer epoch here (prober_prestart), after
 * the reap and before the replacement is forked: probers own their
 * rings otherwise (DESIGN.md, "Single writer per region").
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <msgpack.h>

#include "addr.h"
#include "frame.h"
#include "log.h"
#include "ring.h"
#include "settings.h"
#include "vigild.h"

#define KEY_MAX			4096
#define LOG_LEVEL_MS		2000	/* set_log_level answered within */

static int	prober_configure(struct proc *, msgpack_packer *, char *,
		    size_t);
static void	prober_prestart(struct proc *);
static void	prober_up(struct proc *);
static void	prober_down(struct proc *);
static int	agg_configure(struct proc *, msgpack_packer *, char *, size_t);
static int	api_configure(struct proc *, msgpack_packer *, char *, size_t);
static int	api_fd5(struct proc *, int *);
static int	sp_configure(struct proc *, msgpack_packer *, char *, size_t);
static char	*sp_pages(const struct conf *, char *, size_t);
static void	sp_start(void);
static int	spawner_configure(struct proc *, msgpack_packer *, char *,
		    size_t);
static void	spawner_prestart(struct proc *);
static void	spawner_up(struct proc *);
static void	spawner_down(struct proc *);
static int	spawner_fd5(struct proc *, int *);
static void	probers_release(void);
static void	role_up(struct proc *);
static void	role_down(struct proc *);
static void	send_log_level(struct proc *);
static void	log_level_done(void *, int, const msgpack_object *,
		    const char *, const char *);

/*
 * libgnutls is loaded only because Debian's libcurl links it (for
 * librtmp); unless told not to, it builds its ASN.1 tables at load time,
 * about 130 kB per prober that is never used.
 */
#define PROBER_ENV	"GNUTLS_NO_IMPLICIT_INIT=1"
/*
 * The spawner's blank argv[2]: room in its argv area for a forked
 * prober to show "vigil-prober NAME" (VIGIL_NAME_MAX, spawner.c).
 */
#define SPAWNER_TITLE_ROOM	"                                "

/* The roles.  vigild starts the spawner, one prober per enabled provider
 * and one of each other role whose executable is installed. */
static const struct proc_role roles[] = {
	{ .name = "prober", .binary = "vigil-prober", .seg_writable = 1,
	    .per_provider = 1, .spawned = 1, .configure = prober_configure,
	    .prestart = prober_prestart, .up = prober_up,
	    .down = prober_down, .env = PROBER_ENV },
	{ .name = "aggregator", .binary = "vigil-aggregator",
	    .seg_writable = 1, .configure = agg_configure, .up = role_up,
	    .down = role_down },
	{ .name = "api", .binary = "vigil-api", .configure = api_configure,
	    .up = role_up, .down = role_down, .fd5 = api_fd5 },
	/*
	 * Forks probers from one process that has loaded and initialised
	 * libcurl and OpenSSL, so that they share those pages (spawner.c).
	 * It runs even with no provider configured: one may be added by a
	 * reload.
	 */
	{ .name = "spawner", .binary = "vigil-prober", .seg_writable = 1,
	    .args = { "--spawner", SPAWNER_TITLE_ROOM },
	    .configure = spawner_configure, .prestart = spawner_prestart,
	    .up = spawner_up, .down = spawner_down, .fd5 = spawner_fd5,
	    .env = PROBER_ENV },
	/* Polls the providers' public status pages; holds no secret.
	 * Started only while a provider has a status_page. */
	{ .name = "statuspage", .binary = "vigil-statuspage",
	    .seg_writable = 1, .configure = sp_configure, .up = role_up,
	    .down = role_down },
};
#define ROLE_PROBER	(&roles[0])
#define ROLE_AGG	(&roles[1])
#define ROLE_API	(&roles[2])
#define ROLE_SPAWNER	(&roles[3])
#define ROLE_SP		(&roles[4])

static int	spawner_child_fd = -1;	/* its fd 5 until it is forked */
/* The log_level each of the other roles got with its configure. */
static int	role_log_level[sizeof(roles) / sizeof(roles[0])];
#define ROLE_LEVEL(p)	role_log_level[(p)->p_role - roles]

/* A provider's prober process (directory.c's provider_add). */
struct proc *
roles_new_prober(const char *name, struct provider *pv)
{
	return proc_new(ROLE_PROBER, name, pv);
}

/* ---- the roles' hooks ---- */

/*
 * The prober's configure args (docs/internals.md): its settings from the
 * table, then who it is.  The secret is read here, packed, and wiped by
 * proc_start once sent; only this prober's own key goes into its frame.
 */
static int
prober_configure(struct proc *p, msgpack_packer *pk, char *err,
    size_t errlen)
{
	struct provider *pv = p->p_ctx;
	struct conf_provider cp = pv->pv_conf;
	char key[KEY_MAX];
	const struct settings_extra x[] = {
		{ "slot", SX_UINT, pv->pv_slot, NULL },
		/* prestart bumps the epoch after this: send the next one. */
		{ "epoch", SX_UINT, vd->dir[pv->pv_slot].writer_epoch + 1,
		    NULL },
		{ "name", SX_STR, 0, cp.name },
		{ "api_key", SX_STR, 0, key },
		{ "paused", SX_BOOL, (uint64_t)pv->pv_paused, NULL },
	};

	if (conf_read_secret(&cp, key, sizeof(key), err, errlen) == -1)
		return -1;
	/* set_interval's value survives a restart. */
	if (pv->pv_interval_ms != 0)
		cp.interval_ms = pv->pv_interval_ms;
	pv->pv_log_level = vd->conf.log_level;
	settings_pack(pk, SR_PROBER, &vd->conf, &cp, x,
	    sizeof(x) / sizeof(x[0]));
	explicit_bzero(key, sizeof(key));
	return 0;
}

/* The old prober is reaped (or there never was one): a new writer. */
static void
prober_prestart(struct proc *p)
{
	dir_new_writer(p->p_ctx);
}

static void
prober_up(struct proc *p)
{
	struct provider *pv = p->p_ctx;

	dir_set_pid(pv, (uint32_t)p->p_pid, p->p_restarts);
	/* A reload changed the level while it was starting. */
	if (pv->pv_log_level != log_getlevel())
		send_log_level(p);
	roles_check_ready();
}

static void
prober_down(struct proc *p)
{
	struct provider *pv = p->p_ctx;

	dir_set_pid(pv, 0, p->p_restarts);
	roles_check_ready();
}

/*
 * Called every second: kill a prober or the aggregator whose heartbeat
 * in the segment is older than the watchdog (proc_watchdog).  vigil-api
 * writes no heartbeat and is not watched.
 */
void
roles_watchdog(void)
{
	struct provider *pv;
	uint64_t lim = (uint64_t)vd->conf.watchdog_ms * 1000000;

	if (lim == 0)
		return;
	TAILQ_FOREACH(pv, &vd->providers, pv_entry)
		if (pv->pv_proc != NULL)
			proc_watchdog(pv->pv_proc,
			    vigil_prober_age_ns(&vd->cli, pv->pv_slot), lim);
	if (vd->agg != NULL)
		proc_watchdog(vd->agg, vigil_aggregator_age_ns(&vd->cli), lim);
}

/* The aggregator or vigil-api is up: if a reload changed the level
 * while it was starting, it got the old one with its configure. */
static void
role_up(struct proc *p)
{
	if (ROLE_LEVEL(p) != log_getlevel())
		send_log_level(p);
	roles_check_ready();
}

static void
role_down(struct proc *p)
{
	(void)p;
	roles_check_ready();
}

static int
agg_configure(struct proc *p, msgpack_packer *pk, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	if (p != NULL)
		ROLE_LEVEL(p) = vd->conf.log_level;
	settings_pack(pk, SR_AGG, &vd->conf, NULL, NULL, 0);
	return 0;
}

static int
api_fd5(struct proc *p, int *close_it)
{
	(void)p;
	*close_it = 0;
	return vd->penv.listen_fd;
}

/*
 * A reload changed log_level: tell every running child (set_log_level,
 * common/child.c); it restarts nobody.  One still starting got its
 * configure with the old level: prober_up, spawner_up and role_up send
 * it the new one.
 */
void
roles_push_log_level(void)
{
	struct provider *pv;
	struct proc *others[] = { vd->penv.spawner, vd->agg, vd->api,
	    vd->statuspage };
	size_t i;

	TAILQ_FOREACH(pv, &vd->providers, pv_entry)
		if (!pv->pv_removing && pv->pv_proc->p_state == PROC_UP)
			send_log_level(pv->pv_proc);
	for (i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		if (others[i] != NULL && others[i]->p_state == PROC_UP)
			send_log_level(others[i]);
}

static void
send_log_level(struct proc *p)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	mp_kv_uint(&pk, "log_level", (uint64_t)log_getlevel());
	(void)proc_request(p, "set_log_level", sb.data, sb.size, LOG_LEVEL_MS,
	    log_level_done, p);
	msgpack_sbuffer_destroy(&sb);
}

/* A process that ended meanwhile gets the level with its next configure. */
static void
log_level_done(void *arg, int ok, const msgpack_object *res,
    const char *code, const char *msg)
{
	struct proc *p = arg;

	(void)res;
	if (!ok && strcmp(code, "unavailable") != 0)
		log_warnx("%s: set_log_level: %s: %s", p->p_name[0] != '\0' ?
		    p->p_name : p->p_role->name, code, msg);
}

/* ---- the spawner ---- */

static int
spawner_configure(struct proc *p, msgpack_packer *pk, char *err,
    size_t errlen)
{
	(void)err;
	(void)errlen;
	ROLE_LEVEL(p) = vd->conf.log_level;
	settings_pack(pk, SR_SPAWNER, &vd->conf, NULL, NULL, 0);
	return 0;
}

/*
 * A new SOCK_SEQPACKET socketpair for spawn requests: our end is
 * penv.spawn_fd, the other becomes the spawner's fd 5.  Without one the
 * spawner sees an invalid fd 5 and exits, and probers are fork+exec'd.
 */
static void
spawner_prestart(struct proc *p)
{
	int sv[2];

	if (vd->penv.spawn_fd != -1)
		close(vd->penv.spawn_fd);
	if (spawner_child_fd != -1)
		close(spawner_child_fd);
	vd->penv.spawn_fd = spawner_child_fd = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		log_warn("%s: socketpair", p->p_label);
		return;
	}
	vd->penv.spawn_fd = sv[0];
	spawner_child_fd = sv[1];
}

static int
spawner_fd5(struct proc *p, int *close_it)
{
	int fd = spawner_child_fd;

	(void)p;
	*close_it = 1;
	spawner_child_fd = -1;
	return fd;
}

static void
spawner_up(struct proc *p)
{
	if (ROLE_LEVEL(p) != log_getlevel())
		send_log_level(p);
	probers_release();
	roles_check_ready();
}

/* Running probers are vigild's own children: they are not affected. */
static void
spawner_down(struct proc *p)
{
	(void)p;
	if (vd->penv.spawn_fd != -1) {
		close(vd->penv.spawn_fd);
		vd->penv.spawn_fd = -1;
	}
	probers_release();
	roles_check_ready();
}

/*
 * At start-up the probers wait for the spawner's first start, up or
 * failed, so that they are forked from it; then start them.
 */
static void
probers_release(void)
{
	struct provider *pv;

	if (!vd->probers_held || vd->shutting_down)
		return;
	vd->probers_held = 0;
	TAILQ_FOREACH(pv, &vd->providers, pv_entry)
		if (!pv->pv_removing && pv->pv_proc->p_state == PROC_DOWN &&
		    pv->pv_proc->p_starts == 0 && !pv->pv_proc->p_permanent)
			(void)proc_start(pv->pv_proc);
}

/* vigil-api gets no webhook URL (it may hold a token): see the table. */
static int
api_configure(struct proc *p, msgpack_packer *pk, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	if (p != NULL)
		ROLE_LEVEL(p) = vd->conf.log_level;
	settings_pack(pk, SR_API, &vd->conf, NULL, NULL, 0);
	return 0;
}

/* ---- the status pages ---- */

/*
 * "SLOT INTERVAL_MS NAME URL\n" for every enabled provider of c with a
 * status_page and a slot, into a malloc'd string (NULL: out of memory,
 * or more than a frame holds: err says which).  "" when there is none.
 */
static char *
sp_pages(const struct conf *c, char *err, size_t errlen)
{
	const struct conf_provider *cp;
	struct provider *pv;
	size_t i, len = 0, cap = 0;
	char *s = NULL, *ns;
	int n;

	for (i = 0; i < c->nproviders; i++) {
		cp = &c->providers[i];
		if (!cp->enabled || cp->status_page[0] == '\0' ||
		    (pv = provider_find(cp->name)) == NULL || pv->pv_removing)
			continue;
		if (cap - len < VIGIL_NAME_MAX + CONF_URL_MAX + 32) {
			cap = cap * 2 + VIGIL_NAME_MAX + CONF_URL_MAX + 32;
			if (cap > FRAME_MAX / 2 || (ns = realloc(s, cap)) ==
			    NULL) {
				snprintf(err, errlen, "status pages: too many "
				    "for one configure frame");
				free(s);
				return NULL;
			}
			s = ns;
		}
		n = snprintf(s + len, cap - len, "%u %u %s %s\n", pv->pv_slot,
		    cp->status_page_interval_ms, cp->name, cp->status_page);
		len += (size_t)n;
	}
	if (s == NULL && (s = strdup("")) == NULL)
		snprintf(err, errlen, "status pages: out of memory");
	return s;
}

static int
sp_configure(struct proc *p, msgpack_packer *pk, char *err, size_t errlen)
{
	char *pages;
	struct settings_extra x[] = { { "pages", SX_STR, 0, NULL } };

	if ((pages = sp_pages(&vd->conf, err, errlen)) == NULL)
		return -1;
	x[0].s = pages;
	if (p != NULL)
		ROLE_LEVEL(p) = vd->conf.log_level;
	settings_pack(pk, SR_STATUSPAGE, &vd->conf, NULL, x, 1);
	free(pages);
	return 0;
}

/* Start vigil-statuspage if a provider has a status page. */
static void
sp_start(void)
{
	char path[4096], err[160], *pages;
	int any;

	if ((pages = sp_pages(&vd->conf, err, sizeof(err))) == NULL) {
		log_warnx("%s", err);
		return;
	}
	any = pages[0] != '\0';
	free(pages);
	if (!any)
		return;
	if (proc_binary(ROLE_SP, path, sizeof(path)) == -1) {
		log_warnx("%s is not installed: status pages not polled",
		    ROLE_SP->binary);
		return;
	}
	if ((vd->statuspage = proc_new(ROLE_SP, "", NULL)) != NULL)
		(void)proc_start(vd->statuspage);
}

/*
 * After a reload (old: the configuration before; providers already
 * added and removed): restart vigil-statuspage when what it would be
 * told changed, or start it for a first status page.  One left with no
 * page idles (its blocks cleared) until vigild restarts: cheaper than a
 * stop path of its own.
 */
void
roles_statuspage_reload(const struct conf *old)
{
	char err[160], *a, *b;
	int changed;

	if (vd->statuspage == NULL) {
		sp_start();
		return;
	}
	a = sp_pages(old, err, sizeof(err));
	b = sp_pages(&vd->conf, err, sizeof(err));
	changed = a == NULL || b == NULL || strcmp(a, b) != 0 ||
	    settings_differ(SR_STATUSPAGE, old, &vd->conf) ||
	    vd->statuspage->p_state == PROC_DOWN;
	free(a);
	free(b);
	if (changed) {
		log_info("reload: status pages changed: restarting "
		    "vigil-statuspage");
		proc_restart(vd->statuspage);
	}
}

/* ---- readiness ---- */

/*
 * READY=1 once every child has had its first start: up, or failed
 * (a child that keeps crashing must not hold systemd forever).
 */
void
roles_check_ready(void)
{
	struct proc *p;

	if (vd->ready_sent || vd->shutting_down)
		return;
	TAILQ_FOREACH(p, &procs, p_entry)
		if (p->p_state == PROC_STARTING ||
		    (p->p_state != PROC_UP && p->p_starts == 0 &&
		    !p->p_permanent))
			return;
	vd->ready_sent = 1;
	log_info("all children started: ready");
	vigild_notify("READY=1\nSTATUS=monitoring");
}

/* ---- start-up ---- */

/*
 * Start the spawner, one prober per enabled provider (once the spawner
 * is up or failed its first start), the aggregator and the API.
 */
int
roles_start(void)
{
	char path[4096];
	size_t i;

	if (proc_binary(ROLE_SPAWNER, path, sizeof(path)) == 0 &&
	    (vd->penv.spawner = proc_new(ROLE_SPAWNER, "", NULL)) != NULL &&
	    proc_start(vd->penv.spawner) == 0)
		vd->probers_held = 1;
	for (i = 0; i < vd->conf.nproviders; i++)
		if (vd->conf.providers[i].enabled)
			(void)provider_add(&vd->conf.providers[i]);
	if (proc_binary(ROLE_AGG, path, sizeof(path)) == 0) {
		if ((vd->agg = proc_new(ROLE_AGG, "", NULL)) != NULL)
			(void)proc_start(vd->agg);
	} else
		log_warnx("%s is not installed: no aggregation", ROLE_AGG->binary);
	if (proc_binary(ROLE_API, path, sizeof(path)) == 0) {
		if ((vd->api = proc_new(ROLE_API, "", NULL)) != NULL)
			(void)proc_start(vd->api);
	} else
		log_warnx("%s is not installed: no HTTP API", ROLE_API->binary);
	sp_start();
	roles_check_ready();
	return 0;
}

/*
 * Bind and listen on addr for vigil-api (vigild binds it, so that a
 * privileged port works and the API child holds no privilege).  On
 * success the old socket, if any, is replaced.  Returns 0, or -1 with err.
 */
int
roles_listen(const char *addr, char *err, size_t errlen)
{
	char aerr[256];
	int fd;

	if ((fd = addr_listen(addr, 0, NULL, aerr, sizeof(aerr))) == -1) {
		snprintf(err, errlen, "listen: %s", aerr);
		return -1;
	}
	if (vd->penv.listen_fd != -1)
		close(vd->penv.listen_fd);
	vd->penv.listen_fd = fd;
	snprintf(vd->listen, sizeof(vd->listen), "%s", addr);
	return 0;
}

