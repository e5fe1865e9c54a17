/*
 * models.h - one provider's models: their windows, status and reason
 * (issue 17, docs/aggregation.md "Models").
 */
#ifndef VIGIL_AGG_MODELS_H
#define VIGIL_AGG_MODELS_H

#include <stdint.h>

#include <vigil/vigil.h>

#include "settings.h"
#include "window.h"

struct agg_model {
	int used;
	char name[VIGIL_MODEL_MAX];
	struct window win;		/* generation checks; latency = TTFT */
	struct vigil_model_stats s;	/* what the segment gets */
	int last_outcome;		/* newest generation answer, -1 none */
	int last_failure;		/* newest that counts, -1 none */
	uint64_t usable_at;		/* throttled: back at, wall ns */
	uint8_t er_level;		/* error-rate level, with hysteresis */
	uint8_t lat_level;		/* TTFT p95 level */
	int dirty;
};

struct agg_models {
	uint32_t cap;			/* model_cap */
	uint32_t count;			/* names in use */
	uint64_t generation;		/* of the model block read */
	struct agg_model *m;		/* [cap], NULL until one is named */
};

struct vigil_models;

void	models_free(struct agg_models *);
int	models_sync(struct agg_models *, const struct vigil_models *,
	    uint32_t);
int	models_sample(struct agg_models *, const struct vigil_sample *);
int	models_judge(struct agg_models *, const struct conf *, uint64_t,
	    uint64_t);
int	models_worst(const struct agg_models *, uint8_t *);
uint32_t models_missing(const struct agg_models *);
uint32_t agg_hedge_us(uint32_t, double, uint32_t);

#endif /* VIGIL_AGG_MODELS_H */
