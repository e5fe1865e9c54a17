/*
 * roles.c - the table of roles, what each is told at start, the provider
 * directory in the segment, and reload.
 *
 * Adding a role is one line in roles[] plus its configure function.
 * Only this file writes directory slots (under their seqlock) and the
 * header's dir_gen; probers own their rings (DESIGN.md, "Single writer
 * per region"), except that a dead prober's ring gets its new writer
 * epoch here, after the reap and before the replacement is forked.
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
static int	spawner_configure(struct proc *, msgpack_packer *, char *,
		    size_t);
static void	spawner_prestart(struct proc *);
static void	spawner_up(struct proc *);
static void	spawner_down(struct proc *);
static int	spawner_fd5(struct proc *, int *);
static void	probers_release(void);
static void	role_up(struct proc *);
static void	role_down(struct proc *);
static void	dir_publish(uint32_t);
static int	dir_alloc(const char *);
static void	dir_fill(struct provider *, int);
static void	dir_retire(uint32_t);
static struct provider *provider_add(const struct conf_provider *);
static void	provider_stopped(struct proc *);
static void	reload_providers(const struct conf *, size_t *, size_t *,
		    size_t *);
static void	push_log_level(void);
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
};
#define ROLE_PROBER	(&roles[0])
#define ROLE_AGG	(&roles[1])
#define ROLE_API	(&roles[2])
#define ROLE_SPAWNER	(&roles[3])

static int	spawner_child_fd = -1;	/* its fd 5 until it is forked */
/* The log_level each of the other roles got with its configure. */
static int	role_log_level[sizeof(roles) / sizeof(roles[0])];
#define ROLE_LEVEL(p)	role_log_level[(p)->p_role - roles]

/* ---- the directory ---- */

static void
dir_publish(uint32_t slot)
{
	seqlock_write(seg_dir_slot(&vd->seg, slot), &vd->dir[slot],
	    VIGIL_WORDS(struct vigil_provider_info));
	atomic_fetch_add_explicit(&vd->seg.hdr->dir_gen, 1,
	    memory_order_release);
}

/* Zeroed slots, published; the shadow copies. */
int
roles_dir_init(void)
{
	uint32_t cap = vd->seg.lay.provider_cap, i;

	vd->dir = calloc(cap, sizeof(*vd->dir));
	vd->dir_last = calloc(cap, sizeof(*vd->dir_last));
	if (vd->dir == NULL || vd->dir_last == NULL)
		return -1;
	for (i = 0; i < cap; i++)
		seqlock_write(seg_dir_slot(&vd->seg, i), &vd->dir[i],
		    VIGIL_WORDS(struct vigil_provider_info));
	return 0;
}

/*
 * A free slot for provider name: the one it had before (its ring and
 * history are still there), else one never used, else any free one
 * (its old sample ring is emptied first).  -1 when full.
 */
static int
dir_alloc(const char *name)
{
	uint32_t cap = vd->seg.lay.provider_cap, i;
	struct ring_writer w;
	int never = -1, any = -1;

	for (i = 0; i < cap; i++) {
		if (vd->dir[i].flags & VIGIL_PF_IN_USE)
			continue;
		if (strcmp(vd->dir_last[i], name) == 0)
			return (int)i;
		if (vd->dir_last[i][0] == '\0' && never == -1)
			never = (int)i;
		if (any == -1)
			any = (int)i;
	}
	if (never != -1)
		return never;
	if (any != -1) {
		ring_writer_init(&w, seg_sample_ring(&vd->seg, (uint32_t)any),
		    vd->seg.lay.sample_cap, vd->seg.lay.sample_entry);
		ring_reset(&w);
	}
	return any;
}

/* Fill slot from the provider's settings; bump its generation if asked. */
static void
dir_fill(struct provider *pv, int bump)
{
	struct vigil_provider_info *in = &vd->dir[pv->pv_slot];

	if (!(in->flags & VIGIL_PF_IN_USE)) {
		uint32_t gen = in->generation, epoch = in->writer_epoch;

		memset(in, 0, sizeof(*in));
		in->generation = gen;
		in->writer_epoch = epoch;
		in->added_wall_ns = now_wall_ns();
		bump = 1;
	}
	snprintf(in->name, sizeof(in->name), "%s", pv->pv_conf.name);
	snprintf(in->host, sizeof(in->host), "%s", pv->pv_conf.host);
	in->interval_ms = pv->pv_interval_ms ? pv->pv_interval_ms :
	    pv->pv_conf.interval_ms;
	in->timeout_ms = pv->pv_conf.timeout_ms;
	in->kind = (uint8_t)pv->pv_conf.kind;
	in->flags = VIGIL_PF_IN_USE | VIGIL_PF_ENABLED |
	    (pv->pv_paused ? VIGIL_PF_PAUSED : 0);
	if (bump)
		in->generation++;
	snprintf(vd->dir_last[pv->pv_slot], VIGIL_NAME_MAX, "%s",
	    pv->pv_conf.name);
	dir_publish(pv->pv_slot);
}

static void
dir_retire(uint32_t slot)
{
	struct vigil_provider_info *in = &vd->dir[slot];

	in->flags = 0;
	in->pid = 0;
	in->generation++;
	dir_publish(slot);
}

/* ---- providers ---- */

struct provider *
provider_find(const char *name)
{
	struct provider *pv;

	TAILQ_FOREACH(pv, &vd->providers, pv_entry)
		if (!pv->pv_removing && strcmp(pv->pv_conf.name, name) == 0)
			return pv;
	return NULL;
}

static struct provider *
provider_add(const struct conf_provider *cp)
{
	struct provider *pv;
	int slot;

	if ((slot = dir_alloc(cp->name)) == -1) {
		log_warnx("provider %s: the directory is full (%u slots); "
		    "raise max_providers and restart vigild", cp->name,
		    vd->seg.lay.provider_cap);
		return NULL;
	}
	if ((pv = calloc(1, sizeof(*pv))) == NULL) {
		log_warn("provider %s", cp->name);
		return NULL;
	}
	pv->pv_conf = *cp;
	pv->pv_slot = (uint32_t)slot;
	/*
	 * monitoring_enabled = no (HEALTH_MONITORING_ENABLED=false) stops
	 * probing, not only alerts: every provider starts paused.
	 */
	pv->pv_paused = !vd->conf.monitoring_enabled;
	if ((pv->pv_proc = proc_new(ROLE_PROBER, cp->name, pv)) == NULL) {
		free(pv);
		log_warnx("provider %s: out of memory", cp->name);
		return NULL;
	}
	TAILQ_INSERT_TAIL(&vd->providers, pv, pv_entry);
	dir_fill(pv, 1);
	if (!vd->probers_held)
		(void)proc_start(pv->pv_proc);
	return pv;
}

/* The prober of a removed provider is gone: retire its slot. */
static void
provider_stopped(struct proc *p)
{
	struct provider *pv = p->p_ctx;

	log_info("provider %s removed (slot %u retired)", pv->pv_conf.name,
	    pv->pv_slot);
	dir_retire(pv->pv_slot);
	TAILQ_REMOVE(&vd->providers, pv, pv_entry);
	proc_free(p);
	free(pv);
	roles_check_ready();
}

/*
 * Pause or resume: remembered (a restarted prober starts paused) and
 * shown in the directory.  The caller forwards the op to the prober.
 */
int
provider_pause(struct provider *pv, int paused)
{
	pv->pv_paused = paused;
	dir_fill(pv, 0);
	return 0;
}

int
provider_set_interval(struct provider *pv, uint32_t ms)
{
	pv->pv_interval_ms = ms;
	dir_fill(pv, 0);
	return 0;
}

/* The smallest interval the configuration allows. */
uint32_t
roles_min_interval(void)
{
	return vd->conf.allow_fast_probes ? 100 : 10000;
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

/*
 * The old prober is reaped (or there never was one): bump the slot's
 * writer epoch in the directory and in the ring, so that only one writer
 * ever owns the ring and readers can tell a new writer took over.
 */
static void
prober_prestart(struct proc *p)
{
	struct provider *pv = p->p_ctx;
	struct vigil_provider_info *in = &vd->dir[pv->pv_slot];

	in->writer_epoch++;
	in->pid = 0;
	atomic_store_explicit(&seg_sample_ring(&vd->seg, pv->pv_slot)->epoch,
	    in->writer_epoch, memory_order_release);
	dir_publish(pv->pv_slot);
}

static void
prober_up(struct proc *p)
{
	struct provider *pv = p->p_ctx;

	vd->dir[pv->pv_slot].pid = (uint32_t)p->p_pid;
	vd->dir[pv->pv_slot].restarts = p->p_restarts;
	dir_publish(pv->pv_slot);
	/* A reload changed the level while it was starting. */
	if (pv->pv_log_level != log_getlevel())
		send_log_level(p);
	roles_check_ready();
}

static void
prober_down(struct proc *p)
{
	struct provider *pv = p->p_ctx;

	if (vd->dir[pv->pv_slot].flags & VIGIL_PF_IN_USE) {
		vd->dir[pv->pv_slot].pid = 0;
		dir_publish(pv->pv_slot);
	}
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
static void
push_log_level(void)
{
	struct provider *pv;
	struct proc *others[] = { vd->penv.spawner, vd->agg, vd->api };
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

/* ---- reload ---- */

/*
 * The providers after a reload (vd->conf is the new configuration, old
 * the one before): stop the removed ones, restart the changed ones, start
 * the added ones and those that had given up; count each.
 */
static void
reload_providers(const struct conf *old, size_t *nstart, size_t *nstop,
    size_t *nchange)
{
	struct provider *pv, *next;
	const struct conf_provider *np;
	int mon = vd->conf.monitoring_enabled != old->monitoring_enabled;
	size_t i;

	for (pv = TAILQ_FIRST(&vd->providers); pv != NULL; pv = next) {
		next = TAILQ_NEXT(pv, pv_entry);
		if (pv->pv_removing)
			continue;
		np = conf_find(&vd->conf, pv->pv_conf.name);
		if (np == NULL || !np->enabled) {
			log_info("reload: provider %s removed", pv->pv_conf.name);
			pv->pv_removing = 1;
			(*nstop)++;
			proc_stop(pv->pv_proc, provider_stopped);
		} else if (conf_provider_changed(&pv->pv_conf, np) ||
		    mon) {
			log_info("reload: provider %s changed: restarting its "
			    "prober", pv->pv_conf.name);
			pv->pv_conf = *np;
			if (mon)
				pv->pv_paused = !vd->conf.monitoring_enabled;
			pv->pv_interval_ms = 0;
			dir_fill(pv, 1);
			(*nchange)++;
			proc_restart(pv->pv_proc);
		} else {
			pv->pv_conf = *np;
			/* Gave up (exit 125, binary missing): the fix may
			 * be outside the config, e.g. a key file. */
			if (pv->pv_proc->p_state == PROC_DOWN) {
				log_info("reload: provider %s was down: "
				    "starting its prober again",
				    pv->pv_conf.name);
				pv->pv_proc->p_backoff_ms = PROC_BACKOFF_MIN_MS;
				(void)proc_start(pv->pv_proc);
			}
		}
	}
	for (i = 0; i < vd->conf.nproviders; i++) {
		np = &vd->conf.providers[i];
		if (!np->enabled || provider_find(np->name) != NULL)
			continue;
		log_info("reload: provider %s added", np->name);
		(*nstart)++;
		(void)provider_add(np);
	}
}

/*
 * Re-read the configuration into a fresh struct; on error keep running
 * the old one and return -1 with err ("FILE:LINE: ...").  Otherwise stop
 * removed providers, start added ones, restart changed ones and leave
 * the rest alone (they keep their rings); restart the aggregator or the
 * API only if what they would be told changed.
 */
int
vigild_reload(char *err, size_t errlen)
{
	struct conf nc, old;
	struct proc_env pe;
	char lerr[256];
	size_t i, want = 0, nstart = 0, nstop = 0, nchange = 0;
	int agg_changed, api_changed, listen_changed = 0;

	if (vd->reloading) {
		snprintf(err, errlen, "a reload is already in progress");
		return -1;
	}
	/* Refuse what --check-config refuses (supervisor/main.c). */
	if (conf_load(&nc, vd->conf.path, err, errlen) == -1) {
		log_warnx("reload refused, keeping the running configuration: "
		    "%s", err);
		return -1;
	}
	if (vigild_resolve_user(nc.user, &pe, err, errlen) == -1 ||
	    conf_check_secrets(&nc, err, errlen) == -1) {
		log_warnx("reload refused, keeping the running configuration: "
		    "%s", err);
		conf_free(&nc);
		return -1;
	}
	for (i = 0; i < nc.nproviders; i++)
		if (nc.providers[i].enabled)
			want++;
	if (want > vd->seg.lay.provider_cap) {
		snprintf(err, errlen, "%s: %zu providers but the segment has "
		    "%u slots (max_providers takes effect on restart)",
		    nc.path, want, vd->seg.lay.provider_cap);
		log_warnx("reload refused: %s", err);
		conf_free(&nc);
		return -1;
	}
	vd->reloading = 1;
	vigild_notify("RELOADING=1");

	if (strcmp(nc.shm_name, vd->conf.shm_name) != 0 ||
	    strcmp(nc.control_socket, vd->conf.control_socket) != 0 ||
	    nc.max_providers != vd->conf.max_providers ||
	    nc.sample_capacity != vd->conf.sample_capacity ||
	    nc.history_retention != vd->conf.history_retention ||
	    nc.alert_retention != vd->conf.alert_retention ||
	    strcmp(nc.user, vd->conf.user) != 0)
		log_warnx("reload: shm_name, control_socket, capacities and "
		    "user take effect only when vigild restarts");
	if (strcmp(nc.listen, vd->listen) != 0) {
		if (roles_listen(nc.listen, lerr, sizeof(lerr)) == -1) {
			log_warnx("reload: %s; vigil-api stays on %s", lerr,
			    vd->listen);
			/* What vigil-api is told is where it is. */
			snprintf(nc.listen, sizeof(nc.listen), "%s",
			    vd->listen);
		} else
			listen_changed = 1;
	}

	/* What the table says each would be told, but for log_level
	 * (SF_LIVE: set_log_level, below). */
	agg_changed = settings_differ(SR_AGG, &vd->conf, &nc);
	api_changed = listen_changed || settings_differ(SR_API, &vd->conf,
	    &nc);

	/* Swap: everything below reads the new [vigil] settings. */
	old = vd->conf;
	vd->conf = nc;
	/* Keep what only a restart changes. */
	snprintf(vd->conf.shm_name, sizeof(vd->conf.shm_name), "%s",
	    old.shm_name);
	snprintf(vd->conf.control_socket, sizeof(vd->conf.control_socket),
	    "%s", old.control_socket);
	snprintf(vd->conf.user, sizeof(vd->conf.user), "%s", old.user);
	log_setlevel(vd->conf.log_level);

	reload_providers(&old, &nstart, &nstop, &nchange);
	/* After the loop: probers it stops or restarts are no longer up. */
	if (vd->conf.log_level != old.log_level)
		push_log_level();
	if (vd->agg != NULL && vd->agg->p_state == PROC_DOWN)
		agg_changed = 1;
	if (vd->api != NULL && vd->api->p_state == PROC_DOWN)
		api_changed = 1;
	if (agg_changed && vd->agg != NULL) {
		log_info("reload: aggregator settings changed: restarting it");
		proc_restart(vd->agg);
	}
	if (api_changed && vd->api != NULL) {
		log_info("reload: API settings changed: restarting it");
		proc_restart(vd->api);
	}
	conf_free(&old);
	log_info("reload done: %zu added, %zu removed, %zu restarted", nstart,
	    nstop, nchange);
	vd->reloading = 0;
	vigild_notify("READY=1");
	return 0;
}
