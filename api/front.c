/*
 * front.c - the libevent set-up of vigil-api's HTTP front, shared with
 * bench/bench_plainhttp (its baseline: the same front with nothing
 * behind it), so that the two cannot drift apart.
 */
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "front.h"

/*
 * The event base.  evhttp switches a connection's read and write
 * interest off and on around every request: four epoll_ctl calls a
 * request, measured with strace -c under wrk.  The changelist applies
 * only the net change of one loop iteration, once, before epoll_wait:
 * two a request.  Its one caveat in event.h, file descriptors shared
 * through dup(), does not arise here: every socket is accept()ed.
 */
struct event_base *
api_event_base(void)
{
	struct event_config *cfg;
	struct event_base *base;

	if ((cfg = event_config_new()) == NULL)
		return NULL;
	(void)event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return base;
}

/*
 * Each connection's bufferevent, made as evhttp makes it (no options:
 * evhttp closes the socket), once per connection instead of being tuned
 * per request.  A bufferevent writes at most 16 KB per loop iteration
 * by default: 230 iterations (epoll_wait, writev) for the 3.8 MB
 * /metrics of 1,000 providers.  Let the kernel take what its buffer
 * holds.  For evhttp_set_bevcb.
 */
struct bufferevent *
api_conn_bev(struct event_base *base, void *arg)
{
	struct bufferevent *bev;

	(void)arg;
	if ((bev = bufferevent_socket_new(base, -1, 0)) != NULL)
		(void)bufferevent_set_max_single_write(bev,
		    API_MAX_SINGLE_WRITE);
	return bev;
}
