/*
 * directory.c - the provider directory in the segment, and the providers
 * vigild runs.
 *
 * Only this file writes directory slots (under their seqlock) and the
 * header's dir_gen.  vd->dir is the shadow of every slot: a slot is
 * changed there and published whole (dir_publish), never read back from
 * the segment.  A provider keeps its slot (and so its sample and history
 * rings) across a prober restart, and gets it back when it is removed
 * and added again while the slot is still free (dir_last).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "ring.h"
#include "settings.h"
#include "vigild.h"

static void	dir_models(uint32_t, const struct conf_provider *, uint64_t);


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
dir_init(void)
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
void
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
	    (pv->pv_paused ? VIGIL_PF_PAUSED : 0) |
	    (pv->pv_conf.canary ? VIGIL_PF_CANARY : 0);
	if (bump)
		in->generation++;
	snprintf(vd->dir_last[pv->pv_slot], VIGIL_NAME_MAX, "%s",
	    pv->pv_conf.name);
	dir_models(pv->pv_slot, &pv->pv_conf, in->generation);
	dir_publish(pv->pv_slot);
}

/*
 * The slot's model block: the provider's `models` in order and its
 * token budget (cp NULL: none, for a retired slot).  Written before the
 * slot itself is published, so a reader that sees the slot's generation
 * finds its models.  conf_load has checked the list.
 */
static void
dir_models(uint32_t slot, const struct conf_provider *cp, uint64_t gen)
{
	size_t words = seg_models_words(&vd->seg);
	uint64_t *blk;
	struct vigil_models_head *h;
	char why[128];
	int n;

	if ((blk = calloc(words, sizeof(uint64_t))) == NULL) {
		log_warn("models of slot %u", slot);
		return;
	}
	h = (struct vigil_models_head *)(void *)blk;
	h->generation = gen;
	if (cp != NULL) {
		n = settings_models(cp->models, (char (*)[VIGIL_MODEL_MAX])
		    (void *)(h + 1), vd->seg.lay.model_cap, why, sizeof(why));
		h->count = n > 0 ? (uint32_t)n : 0;
		h->token_budget = cp->gen_budget;
	}
	seqlock_write(seg_models(&vd->seg, slot), blk, words);
	free(blk);
}

static void
dir_retire(uint32_t slot)
{
	struct vigil_provider_info *in = &vd->dir[slot];

	in->flags = 0;
	in->pid = 0;
	in->generation++;
	dir_models(slot, NULL, in->generation);
	dir_publish(slot);
}

/*
 * A new prober is about to start (the old one is reaped, or there never
 * was one): bump the slot's writer epoch in the directory and in the
 * ring, so that only one writer ever owns the ring and readers can tell
 * a new writer took over.
 */
void
dir_new_writer(struct provider *pv)
{
	struct vigil_provider_info *in = &vd->dir[pv->pv_slot];

	in->writer_epoch++;
	in->pid = 0;
	atomic_store_explicit(&seg_sample_ring(&vd->seg, pv->pv_slot)->epoch,
	    in->writer_epoch, memory_order_release);
	dir_publish(pv->pv_slot);
}

/* The prober's pid (0: none) and restarts, in a slot still in use. */
void
dir_set_pid(struct provider *pv, uint32_t pid, uint32_t restarts)
{
	struct vigil_provider_info *in = &vd->dir[pv->pv_slot];

	if (!(in->flags & VIGIL_PF_IN_USE))
		return;
	in->pid = pid;
	if (pid != 0)
		in->restarts = restarts;
	dir_publish(pv->pv_slot);
}

/* Providers: the directory's slots and their probers. */

struct provider *
provider_find(const char *name)
{
	struct provider *pv;

	TAILQ_FOREACH(pv, &vd->providers, pv_entry)
		if (!pv->pv_removing && strcmp(pv->pv_conf.name, name) == 0)
			return pv;
	return NULL;
}

struct provider *
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
	if ((pv->pv_proc = roles_new_prober(cp->name, pv)) == NULL) {
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
void
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
	return vd->conf.allow_fast_probes ? SETTINGS_FAST_MIN :
	    SETTINGS_SLOW_MIN;
}
