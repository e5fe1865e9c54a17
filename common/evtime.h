/*
 * evtime.h - arm a libevent timer in milliseconds.
 *
 * libevent takes a struct timeval; curl, the supervisor's timeouts and
 * the configuration speak milliseconds.  One conversion, so that it is
 * not written again at every timer.
 *
 * Library code: never logs, never exits.
 */
#ifndef VIGIL_EVTIME_H
#define VIGIL_EVTIME_H

#include <sys/time.h>

#include <stdint.h>

#include <event2/event.h>

/* (Re)arm the timer ev to fire once after ms.  Returns evtimer_add's. */
static inline int
evtime_add_ms(struct event *ev, uint64_t ms)
{
	struct timeval tv;

	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	return evtimer_add(ev, &tv);
}

#endif /* VIGIL_EVTIME_H */
