/*
 * refresh.h - an aged body rendered again off the event loop (refresh.c
 * says why and how).
 */
#ifndef VIGIL_API_REFRESH_H
#define VIGIL_API_REFRESH_H

#include <stdint.h>

struct api_cached;
struct api_ctx;
struct api_gen;
struct event_base;

/* The views the worker renders: those without parameters whose cache
 * entry lives as long as the process. */
enum api_refresh_view {
	API_RF_INTEGRATION,
	API_RF_METRICS,
	API_RF_GRAPH
};

/* A render on the loop taking more CPU time than this starts the worker
 * (refresh.c). */
#define API_REFRESH_MIN_NS	UINT64_C(500000)

void	api_refresh_slow(struct event_base *, const struct api_ctx *,
	    uint64_t);
uint64_t api_refresh_cpu_ns(void);
int	api_refresh_ask(struct api_cached *, enum api_refresh_view,
	    const struct api_gen *);
void	api_refresh_forget(void);
void	api_refresh_stop(void);
uint64_t api_refresh_done(void);

#endif /* VIGIL_API_REFRESH_H */
