/*
 * curlev.c - libcurl multi + libevent glue (curl's hiperfifo example,
 * rewritten).  See curlev.h.
 */
#include <stdio.h>
#include <stdlib.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <event2/event_struct.h>

#include "curlev.h"
#include "evtime.h"

struct curlev {
	struct event_base	*cv_base;
	CURLM			*cv_multi;
	struct event		*cv_timer;	/* curl's next timeout */
	curlev_done_fn		 cv_done;
	void			*cv_arg;
	int			 cv_running;	/* curl's count, unused */
};

/* One per socket curl watches, remembered with curl_multi_assign. */
struct curlev_sock {
	struct event		 cs_ev;
	struct curlev		*cs_cv;
};

static int	curlev_sock_cb(CURL *, curl_socket_t, int, void *, void *);
static int	curlev_timer_cb(CURLM *, long, void *);
static void	curlev_sock_event(evutil_socket_t, short, void *);
static void	curlev_timer_event(evutil_socket_t, short, void *);
static void	curlev_collect(struct curlev *);

/*
 * curl asks to watch socket s for `what`.  The struct curlev_sock is
 * allocated once per socket (a connection, kept across transfers), not
 * per transfer, and freed on CURL_POLL_REMOVE.  Returns 0, or -1 (out of
 * memory: curl fails the transfer).
 */
static int
curlev_sock_cb(CURL *easy, curl_socket_t s, int what, void *userp,
    void *sockp)
{
	struct curlev *cv = userp;
	struct curlev_sock *cs = sockp;
	short kind;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (cs != NULL) {
			event_del(&cs->cs_ev);
			free(cs);
		}
		return 0;
	}
	if (cs == NULL) {
		if ((cs = calloc(1, sizeof(*cs))) == NULL)
			return -1;
		cs->cs_cv = cv;
		curl_multi_assign(cv->cv_multi, s, cs);
	} else
		event_del(&cs->cs_ev);
	kind = EV_PERSIST | ((what & CURL_POLL_IN) ? EV_READ : 0) |
	    ((what & CURL_POLL_OUT) ? EV_WRITE : 0);
	event_assign(&cs->cs_ev, cv->cv_base, s, kind, curlev_sock_event, cv);
	event_add(&cs->cs_ev, NULL);
	return 0;
}

/* curl asks for a call back after timeout_ms (-1: cancel). */
static int
curlev_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct curlev *cv = userp;

	(void)multi;
	if (timeout_ms < 0) {
		evtimer_del(cv->cv_timer);
		return 0;
	}
	evtime_add_ms(cv->cv_timer, (uint64_t)timeout_ms);
	return 0;
}

static void
curlev_sock_event(evutil_socket_t fd, short what, void *arg)
{
	struct curlev *cv = arg;
	int action = ((what & EV_READ) ? CURL_CSELECT_IN : 0) |
	    ((what & EV_WRITE) ? CURL_CSELECT_OUT : 0);

	curl_multi_socket_action(cv->cv_multi, fd, action, &cv->cv_running);
	curlev_collect(cv);
}

static void
curlev_timer_event(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	curlev_run(arg);
}

/*
 * Hand every finished transfer to the done callback.  The easy handle
 * leaves the multi handle first (its connection stays in the multi's
 * cache for the next transfer), so the callback may add it again or
 * clean it up.  msg lives in the easy handle: read it all before.
 */
static void
curlev_collect(struct curlev *cv)
{
	CURLMsg *msg;
	CURLcode cc;
	CURL *easy;
	int left;

	while ((msg = curl_multi_info_read(cv->cv_multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		easy = msg->easy_handle;
		cc = msg->data.result;
		curl_multi_remove_handle(cv->cv_multi, easy);
		cv->cv_done(easy, cc, cv->cv_arg);
	}
}

/*
 * A multi handle on base; done(easy, result, arg) runs from the event
 * loop for each finished transfer.  Returns NULL with err filled on
 * failure.  Allocates once, here; a transfer allocates nothing of ours
 * (a new connection allocates its struct curlev_sock).
 */
struct curlev *
curlev_new(struct event_base *base, curlev_done_fn done, void *arg,
    char *err, size_t errlen)
{
	struct curlev *cv;

	if ((cv = calloc(1, sizeof(*cv))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	cv->cv_base = base;
	cv->cv_done = done;
	cv->cv_arg = arg;
	if ((cv->cv_multi = curl_multi_init()) == NULL) {
		snprintf(err, errlen, "curl_multi_init failed");
		free(cv);
		return NULL;
	}
	if ((cv->cv_timer = evtimer_new(base, curlev_timer_event, cv)) ==
	    NULL) {
		curl_multi_cleanup(cv->cv_multi);
		free(cv);
		snprintf(err, errlen, "evtimer_new failed");
		return NULL;
	}
	curl_multi_setopt(cv->cv_multi, CURLMOPT_SOCKETFUNCTION,
	    curlev_sock_cb);
	curl_multi_setopt(cv->cv_multi, CURLMOPT_SOCKETDATA, cv);
	curl_multi_setopt(cv->cv_multi, CURLMOPT_TIMERFUNCTION,
	    curlev_timer_cb);
	curl_multi_setopt(cv->cv_multi, CURLMOPT_TIMERDATA, cv);
	return cv;
}

/*
 * Free cv (NULL: nothing).  Every easy handle must have been removed
 * first; the done callback is not called.  The timer outlives the multi
 * handle: curl may cancel its timeout while cleaning up.
 */
void
curlev_free(struct curlev *cv)
{
	if (cv == NULL)
		return;
	curl_multi_cleanup(cv->cv_multi);
	event_free(cv->cv_timer);
	free(cv);
}

/*
 * Start a transfer: it runs on curl's next timeout (at once with
 * curlev_run).  Returns 0, or -1 (curl refused the handle: already in a
 * multi handle, or out of memory).
 */
int
curlev_add(struct curlev *cv, CURL *easy)
{
	return curl_multi_add_handle(cv->cv_multi, easy) == CURLM_OK ? 0 : -1;
}

/* Stop a transfer without calling the done callback. */
void
curlev_remove(struct curlev *cv, CURL *easy)
{
	curl_multi_remove_handle(cv->cv_multi, easy);
}

/*
 * Let curl act on its timeouts now, then collect what finished.  After
 * curlev_add, this starts the transfer without waiting for curl's 0 ms
 * timer (one pass of the event loop less); the done callback may then
 * run before this returns.
 */
void
curlev_run(struct curlev *cv)
{
	curl_multi_socket_action(cv->cv_multi, CURL_SOCKET_TIMEOUT, 0,
	    &cv->cv_running);
	curlev_collect(cv);
}
