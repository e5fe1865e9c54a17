/*
 * refresh.c - an aged body rendered again off the event loop.
 *
 * A cached body whose generation has not moved is still rendered again
 * once it is API_CACHE_MAX_AGE_NS old, for what depends on the clock
 * alone (cache.h).  At 1,000 providers the /metrics render and its gzip
 * take about 12 ms; on the event loop, every request arriving meanwhile
 * would wait for them.  So the request that finds such a body is answered
 * with it (it is under API_CACHE_STALE_NS old), and one worker thread
 * renders the view again, from its own snapshot buffers, and hands the
 * new body back to the loop through a pipe.  A change of generation is
 * still rendered on the loop by the request that sees it: the next
 * request after a publish shows the change, as cache.h promises.
 *
 * The worker starts only once a render on the loop has taken more CPU
 * time than API_REFRESH_MIN_NS (0.5 ms: a few hundred providers).  Below
 * that, rendering on the loop stalls nothing worth a thread, and a
 * second thread has a cost of its own on every request: glibc gives up
 * its single-threaded fast paths (malloc without atomic locking) for
 * good once a thread starts, and evhttp allocates a few dozen times a
 * request.  Measured with bench_api.sh at 6 providers: 12.85 us of CPU
 * a request with the worker started, 12.19 for the plain server.
 *
 * The worker runs at SCHED_IDLE: it takes only the CPU time that the
 * loop leaves, and a request preempts it.  Should it starve, the body
 * reaches API_CACHE_STALE_NS and the next request renders on the loop,
 * as before: what the clock decides lags by at most that.
 *
 * One job at a time.  The mutex guards the job; the pipe only wakes the
 * loop.  Bodies change hands under the mutex, so their (non-atomic)
 * reference counts are touched by one thread at a time.  The worker
 * reads the segment through its own copy of the client, over the same
 * read-only mapping, which lives as long as the process.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "api.h"
#include "cache.h"
#include "log.h"
#include "refresh.h"

enum job_state {
	JOB_IDLE,		/* the worker waits */
	JOB_ASKED,		/* the worker renders */
	JOB_DONE		/* the loop has not taken the result yet */
};

struct job {
	enum job_state		 j_state;
	struct api_cached	*j_c;		/* the entry it renders for */
	enum api_refresh_view	 j_view;
	struct api_gen		 j_gen;		/* the entry's, when asked */
	uint64_t		 j_epoch;	/* api_refresh_forget's count */
	int			 j_gzip;	/* make the gzip form too */
	uint64_t		 j_at;		/* CLOCK_MONOTONIC, render start */
	struct api_body		*j_plain;	/* results; NULL: none */
	struct api_body		*j_gz;
	const char		*j_ctype;
};

static struct {
	int		 started;
	int		 stop;
	pthread_t	 thread;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	int		 pipe[2];
	struct event	*ev;
	struct api_ctx	 ctx;		/* the worker's own buffers */
	struct evbuffer	*eb;		/* the worker's */
	uint64_t	 epoch;		/* the loop's */
	uint64_t	 done;		/* bodies installed (tests) */
	struct job	 job;
} rf = {
	.mu = PTHREAD_MUTEX_INITIALIZER,
	.cv = PTHREAD_COND_INITIALIZER,
	.pipe = { -1, -1 }
};

static int	 refresh_init(struct event_base *, const struct api_ctx *);
static void	*worker(void *);
static void	 render(struct job *);
static void	 done_cb(evutil_socket_t, short, void *);
static void	 ctx_free(struct api_ctx *);

/*
 * This thread's CPU time (ns): what a render costs, which a busy machine
 * preempting the loop in the middle of it does not inflate (the wall
 * clock would, and start the worker for a render of microseconds).
 */
uint64_t
api_refresh_cpu_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == -1)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * A render on the loop took render_ns of CPU time: the first that took
 * more than API_REFRESH_MIN_NS starts the worker (once: a failure to
 * start is logged and the loop goes on rendering, as without a worker).
 */
void
api_refresh_slow(struct event_base *base, const struct api_ctx *main_ctx,
    uint64_t render_ns)
{
	static int tried;

	if (tried || render_ns <= API_REFRESH_MIN_NS)
		return;
	tried = 1;
	if (refresh_init(base, main_ctx) == 0)
		log_info("refresh: a render took %.1f ms of CPU: aged views "
		    "render off the event loop from now on", render_ns / 1e6);
}

/*
 * Start the worker for the views of main_ctx's segment, waking base when
 * a body is ready.  Returns 0, or -1 (logged): the views are then
 * rendered again on the loop, as they were before the worker.
 */
static int
refresh_init(struct event_base *base, const struct api_ctx *main_ctx)
{
	struct api_ctx *c = &rf.ctx;

	/* The settings and the client as the loop's (set once, before
	 * this); every buffer and what was read into them, its own. */
	*c = *main_ctx;
	c->base = NULL;
	c->nsnap = 0;
	c->snap_at_ns = 0;
	c->sp_alerts_at = 0;
	c->sp_nalerts = 0;
	memset(&c->models, 0, sizeof(c->models));
	c->snap = calloc(vigil_capacity(&c->vc), sizeof(*c->snap));
	c->hist = calloc(c->vc.lay.history_cap, sizeof(*c->hist));
	c->alerts = calloc(c->vc.lay.alert_cap, sizeof(*c->alerts));
	c->samples = calloc(c->vc.lay.sample_cap, sizeof(*c->samples));
	if (c->snap == NULL || c->hist == NULL || c->alerts == NULL ||
	    c->samples == NULL || (rf.eb = evbuffer_new()) == NULL) {
		log_warnx("refresh: out of memory; aged views render on "
		    "the event loop");
		goto fail;
	}
	if (pipe2(rf.pipe, O_CLOEXEC | O_NONBLOCK) == -1) {
		log_warn("refresh: pipe");
		goto fail;
	}
	rf.ev = event_new(base, rf.pipe[0], EV_READ | EV_PERSIST, done_cb,
	    NULL);
	if (rf.ev == NULL || event_add(rf.ev, NULL) == -1) {
		log_warnx("refresh: event_new failed");
		goto fail;
	}
	if ((errno = pthread_create(&rf.thread, NULL, worker, NULL)) != 0) {
		log_warn("refresh: pthread_create");
		goto fail;
	}
	rf.started = 1;
	return 0;
fail:
	api_refresh_stop();
	return -1;
}

/*
 * Render c (the entry of view v, of generation g) again in the worker.
 * Returns 1 when asked, 0 when the worker is busy with an earlier job (c
 * is then served as it is, and a later request asks again), -1 when
 * there is no worker.
 */
int
api_refresh_ask(struct api_cached *c, enum api_refresh_view v,
    const struct api_gen *g)
{
	int asked = 0;

	if (!rf.started)
		return -1;
	pthread_mutex_lock(&rf.mu);
	if (rf.job.j_state == JOB_IDLE) {
		memset(&rf.job, 0, sizeof(rf.job));
		rf.job.j_state = JOB_ASKED;
		rf.job.j_c = c;
		rf.job.j_view = v;
		rf.job.j_gen = *g;
		rf.job.j_epoch = rf.epoch;
		rf.job.j_gzip = c->c_gzip != NULL;
		pthread_cond_signal(&rf.cv);
		asked = 1;
	}
	pthread_mutex_unlock(&rf.mu);
	return asked;
}

/* Every body rendered before now is unwanted (the caches were dropped):
 * a job in flight is thrown away when it comes back. */
void
api_refresh_forget(void)
{
	rf.epoch++;
}

/* Bodies the worker made that were installed, since the start. */
uint64_t
api_refresh_done(void)
{
	return rf.done;
}

/* Stop and join the worker, and free what it holds. */
void
api_refresh_stop(void)
{
	if (rf.started) {
		pthread_mutex_lock(&rf.mu);
		rf.stop = 1;
		pthread_cond_signal(&rf.cv);
		pthread_mutex_unlock(&rf.mu);
		pthread_join(rf.thread, NULL);
		rf.started = 0;
	}
	if (rf.job.j_plain != NULL)
		api_body_unref(rf.job.j_plain);
	if (rf.job.j_gz != NULL)
		api_body_unref(rf.job.j_gz);
	memset(&rf.job, 0, sizeof(rf.job));
	if (rf.ev != NULL)
		event_free(rf.ev);
	rf.ev = NULL;
	if (rf.pipe[0] != -1) {
		close(rf.pipe[0]);
		close(rf.pipe[1]);
	}
	rf.pipe[0] = rf.pipe[1] = -1;
	if (rf.eb != NULL)
		evbuffer_free(rf.eb);
	rf.eb = NULL;
	ctx_free(&rf.ctx);
	rf.stop = 0;
}

static void *
worker(void *arg)
{
	struct sched_param sp;
	sigset_t all;
	struct job j;

	(void)arg;
	/* Signals are the loop's (libevent's evsignal). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	memset(&sp, 0, sizeof(sp));
	(void)pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp);
	pthread_mutex_lock(&rf.mu);
	for (;;) {
		while (!rf.stop && rf.job.j_state != JOB_ASKED)
			pthread_cond_wait(&rf.cv, &rf.mu);
		if (rf.stop)
			break;
		j = rf.job;
		pthread_mutex_unlock(&rf.mu);
		render(&j);
		pthread_mutex_lock(&rf.mu);
		rf.job.j_plain = j.j_plain;
		rf.job.j_gz = j.j_gz;
		rf.job.j_ctype = j.j_ctype;
		rf.job.j_at = j.j_at;
		rf.job.j_state = JOB_DONE;
		if (write(rf.pipe[1], "", 1) == -1) {
			/* EAGAIN: a wake-up is pending already. */
		}
	}
	pthread_mutex_unlock(&rf.mu);
	return NULL;
}

/* j's view into j's result fields; NULL bodies when it is not a 200 to
 * keep (an error, a failed snapshot) or memory ran out. */
static void
render(struct job *j)
{
	struct api_query none;
	struct api_result r;

	memset(&none, 0, sizeof(none));
	memset(&r, 0, sizeof(r));
	evbuffer_drain(rf.eb, evbuffer_get_length(rf.eb));
	j->j_at = vigil_now_mono_ns();
	switch (j->j_view) {
	case API_RF_INTEGRATION:
		api_view_integration(&rf.ctx, &none, rf.eb, &r);
		break;
	case API_RF_METRICS:
		api_view_metrics(&rf.ctx, rf.eb, &r);
		break;
	case API_RF_GRAPH:
		api_view_graph(&rf.ctx, &none, rf.eb, &r);
		break;
	}
	j->j_ctype = r.ctype;
	if (r.code == 200 && r.disposition == NULL && !r.partial &&
	    (j->j_plain = api_body_from(rf.eb)) != NULL && j->j_gzip)
		j->j_gz = api_gzip_form(j->j_plain);
	evbuffer_drain(rf.eb, evbuffer_get_length(rf.eb));
}

/*
 * On the loop: take the worker's result.  It replaces the entry only if
 * the entry still holds the generation it was asked for, rendered
 * earlier than the worker's render (a request may have rendered a newer
 * body on the loop meanwhile), and no cache drop came in between.
 */
static void
done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct job j;
	char buf[16];

	(void)what;
	(void)arg;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	pthread_mutex_lock(&rf.mu);
	if (rf.job.j_state != JOB_DONE) {
		pthread_mutex_unlock(&rf.mu);
		return;
	}
	j = rf.job;
	memset(&rf.job, 0, sizeof(rf.job));
	pthread_mutex_unlock(&rf.mu);
	if (j.j_plain != NULL && j.j_epoch == rf.epoch &&
	    j.j_c->c_plain != NULL && api_gen_equal(&j.j_c->c_gen, &j.j_gen) &&
	    j.j_at > j.j_c->c_at) {
		api_cached_set(j.j_c, j.j_plain, j.j_gz, j.j_gzip, &j.j_gen,
		    j.j_at, j.j_ctype);
		rf.done++;
		return;
	}
	if (j.j_plain != NULL)
		api_body_unref(j.j_plain);
	if (j.j_gz != NULL)
		api_body_unref(j.j_gz);
}

static void
ctx_free(struct api_ctx *c)
{
	free(c->snap);
	free(c->hist);
	free(c->alerts);
	free(c->samples);
	api_models_free(&c->models);
	memset(c, 0, sizeof(*c));
}
