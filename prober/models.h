/*
 * models.h - a provider's models: is each still in its models list (the
 * catalogue), and the daily token budget of the billed generation checks.
 *
 * Pure functions of their inputs (the time is an argument), so every
 * rule is unit-tested (tests/unit/test_gen.c); models_listed reads a
 * body from outside and is fuzzed (tests/fuzz/fuzz_stream.c).
 */
#ifndef VIGIL_PROBER_MODELS_H
#define VIGIL_PROBER_MODELS_H

#include <stddef.h>
#include <stdint.h>

#include <vigil/vigil.h>

/* models_listed's verdict on one model. */
#define MODEL_UNLISTED	0	/* the whole list came, and not it */
#define MODEL_LISTED	1
#define MODEL_UNKNOWN	2	/* not on this page of a longer list */

int	models_listed(int, const char *, size_t,
	    const char (*)[VIGIL_MODEL_MAX], size_t, uint8_t *);
const char *models_list_query(int);

#define BUDGET_DAY_NS	(UINT64_C(86400) * 1000000000)

/*
 * The generation checks' tokens in the current UTC day.  used counts
 * what the answers' usage reported; last is the newest check's count,
 * the estimate of the next one's.
 */
struct budget {
	uint64_t	 limit;		/* gen_budget: tokens a UTC day */
	uint64_t	 day;		/* of used: days since 1970-01-01 */
	uint64_t	 used;
	uint32_t	 last;
	int		 spent;		/* stopped until the next day */
};

void		budget_init(struct budget *, uint64_t);
void		budget_resume(struct budget *, uint64_t, uint64_t);
int		budget_allows(struct budget *, uint64_t);
void		budget_add(struct budget *, uint64_t, uint64_t);
uint32_t	budget_wait_ms(uint64_t);

#endif /* VIGIL_PROBER_MODELS_H */
