/*
 * ctl.c - vigil-api's side of the socketpair with vigild (fd 4), through
 * common/child.c: the configure request (docs/internals.md), read before
 * the HTTP server starts, then the socket watched by the event loop with
 * only the built-in operations (ping, set_log_level); EOF ends the
 * process.
 */
#include <stdio.h>
#include <string.h>

#include <msgpack.h>

#include "api.h"
#include "child.h"
#include "ctl.h"
#include "settings.h"

static int	api_ctl_apply(const msgpack_object *, void *, char *, size_t);

static struct child	api_ch;

/* The keys the table gives vigil-api: listen, prometheus, log_level. */
static int
api_ctl_apply(const msgpack_object *args, void *arg, char *err,
    size_t errlen)
{
	struct api_settings *set = arg;
	struct conf c;

	if (settings_decode(SR_API, args, &c, NULL, err, errlen) == -1)
		return -1;
	set->prometheus = c.prometheus;
	set->log_level = c.log_level;
	snprintf(set->listen, sizeof(set->listen), "%s", c.listen);
	snprintf(set->vantage, sizeof(set->vantage), "%s", c.vantage);
	return 0;
}

/*
 * Wait (at most timeout_ms) for the configure request on fd and apply
 * it.  Returns CHILD_OK, CHILD_EOF (vigild closed first), or CHILD_ERR
 * with err filled (the request is answered already).
 */
int
api_ctl_configure(int fd, int timeout_ms, struct api_settings *set,
    char *err, size_t errlen)
{
	child_init(&api_ch, fd, NULL, 0, NULL);
	return child_configure(&api_ch, timeout_ms, api_ctl_apply, set, err,
	    errlen);
}

/* Answer the configure request: ok {"pid"} (ready) or the error. */
int
api_ctl_reply(const char *errcode, const char *msg)
{
	if (errcode != NULL)
		return child_fail(&api_ch, errcode, msg);
	return child_ready(&api_ch);
}

/* Watch the socket in the event loop from now on; EOF breaks the loop. */
int
api_ctl_watch(struct event_base *base)
{
	return child_watch(&api_ch, base);
}

void
api_ctl_close(void)
{
	child_free(&api_ch);
}
