/*
 * reload.c - SIGHUP and `vigilctl reload`: the new configuration, checked
 * as --check-config checks it, then applied with as little restarting as
 * it allows.
 */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "settings.h"
#include "vigild.h"


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
	if (conf_load(&nc, vd->conf.path, err, errlen) == -1 ||
	    canary_expand(&nc, err, errlen) == -1) {
		conf_free(&nc);
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
	roles_statuspage_reload(&old);
	/* After the loop: probers it stops or restarts are no longer up. */
	if (vd->conf.log_level != old.log_level)
		roles_push_log_level();
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
