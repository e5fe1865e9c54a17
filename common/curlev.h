/*
 * curlev.h - libcurl's multi socket interface driven by a libevent base.
 *
 * curl's hiperfifo pattern, written once for the prober's checks and the
 * aggregator's webhooks: curl names the sockets to watch
 * (CURLMOPT_SOCKETFUNCTION) and its next timeout (CURLMOPT_TIMERFUNCTION);
 * libevent reports readiness back through curl_multi_socket_action; each
 * finished transfer is handed to the owner's done callback.
 * Single-threaded: no locks.
 *
 * Library code: never logs, never exits.
 */
#ifndef VIGIL_CURLEV_H
#define VIGIL_CURLEV_H

#include <stddef.h>

#include <curl/curl.h>

struct event_base;
struct curlev;

/*
 * A transfer ended, however it ended (cc: curl's result).  The easy
 * handle has already left the multi handle; the callback may read it
 * (curl_easy_getinfo), add it again, or clean it up.  arg is the one
 * given to curlev_new.
 */
typedef void	(*curlev_done_fn)(CURL *, CURLcode, void *);

struct curlev	*curlev_new(struct event_base *, curlev_done_fn, void *,
		    char *, size_t);
void		 curlev_free(struct curlev *);
int		 curlev_add(struct curlev *, CURL *);
void		 curlev_remove(struct curlev *, CURL *);
void		 curlev_run(struct curlev *);

#endif /* VIGIL_CURLEV_H */
