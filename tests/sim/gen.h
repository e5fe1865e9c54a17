/*
 * gen.h - vigil-sim's generation answers and models: each kind's real
 * stream (role-only first delta, keep-alive comments, ping events,
 * usage, the end marker) with its faults (a slow first token after
 * fast headers, an error event after the 200, a stream cut before its
 * end), faults per model, and a models list that can lose a model.
 * See tests/sim/README.md, "Models and streams".
 */
#ifndef VIGIL_SIM_GEN_H
#define VIGIL_SIM_GEN_H

#include <stddef.h>

#include <cJSON.h>

#define SIM_TEXT_MAX		64	/* an answer's text, NUL included */
#define SIM_MODEL_MAX		64	/* a model name, NUL included */
#define SIM_MODEL_FAULTS	8	/* models with faults of their own */
#define SIM_LIST_MAX		16	/* names in models / drop_models */

/* How a streamed generation answer goes; all zero: promptly, fully. */
struct sim_stream_conf {
	long	keepalive_ms;		/* keep-alives this long after the
					   headers ... */
	long	keepalive_every_ms;	/* ... one every this (0 = 100) */
	long	first_token_ms;		/* then the first token after this */
	long	tokens_in;		/* usage reported (0 = 1) */
	long	tokens_out;		/* (0 = 1) */
	int	no_usage;		/* report none */
	int	stream_error;		/* 1 + errors.c row: its body as an
					   error event after the 200 */
	long	stream_error_after;	/* content deltas before it */
	int	stream_cut;		/* end before the end marker */
	char	text[SIM_TEXT_MAX];	/* the answer ("" = "pong") */
	int	error_mode;		/* a model's own: 1 + errors.c row,
					   its whole answer */
};

/* A model with faults of its own. */
struct sim_model_conf {
	char			 name[SIM_MODEL_MAX];
	struct sim_stream_conf	 s;
};

/* The generation and models-list fault fields of a provider. */
struct sim_gen_conf {
	struct sim_stream_conf	 s;		/* every model's */
	struct sim_model_conf	 model[SIM_MODEL_FAULTS];
	int			 nmodel;
	int			 list_set;	/* list replaces the kind's */
	char			 list[SIM_LIST_MAX][SIM_MODEL_MAX];
	int			 nlist;
	char			 drop[SIM_LIST_MAX][SIM_MODEL_MAX];
	int			 ndrop;
};

int	sim_gen_field(const char *);
int	sim_gen_parse(const cJSON *, struct sim_gen_conf *, char *, size_t);
void	sim_gen_json(cJSON *, const struct sim_gen_conf *);
const struct sim_stream_conf *sim_gen_for(const struct sim_gen_conf *,
	    const char *);
size_t	sim_gen_list(const struct sim_gen_conf *, const char *const *,
	    size_t, const char **, size_t);

#endif /* VIGIL_SIM_GEN_H */
