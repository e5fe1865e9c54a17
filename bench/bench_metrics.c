/*
 * bench_metrics - time to render /metrics and /health/integration in
 * vigil-api's own code, without HTTP, at 6, 100 and 1,000 providers.
 *
 *	BUILD=build build/bench/bench_metrics [SEGFILL]
 *
 * Each segment is filled by segfill (build/tests/tools/segfill, or the
 * path given); the baseline measured in the same run is a memcpy of the
 * same number of bytes (the floor any renderer pays), and the ratio is
 * render time over that.  Median of the runs, in microseconds.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "../api/api.h"
#include "ring.h"

#define RUNS	101

static int	cmp_u64(const void *, const void *);
static pid_t	segfill_start(const char *, const char *, unsigned, FILE **);
static uint64_t	median(uint64_t *, size_t);
static void	one(const char *, unsigned);

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t
median(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return v[n / 2];
}

/* segfill with a pipe on its stdin (EOF ends it) and one on its stdout. */
static pid_t
segfill_start(const char *tool, const char *shm, unsigned n, FILE **in)
{
	char nbuf[16], line[128];
	int pin[2], pout[2];
	FILE *out;
	pid_t pid;

	if (pipe(pin) == -1 || pipe(pout) == -1)
		return -1;
	snprintf(nbuf, sizeof(nbuf), "%u", n);
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		dup2(pin[0], 0);
		dup2(pout[1], 1);
		close(pin[1]);
		close(pout[0]);
		execl(tool, tool, "--shm", shm, "--providers", nbuf,
		    (char *)NULL);
		_exit(127);
	}
	close(pin[0]);
	close(pout[1]);
	*in = fdopen(pin[1], "w");
	out = fdopen(pout[0], "r");
	if (*in == NULL || out == NULL ||
	    fgets(line, sizeof(line), out) == NULL ||
	    strncmp(line, "ready", 5) != 0) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
		return -1;
	}
	fclose(out);
	return pid;
}

static void
one(const char *tool, unsigned n)
{
	struct api_ctx ctx;
	struct api_query q;
	struct api_result r;
	struct evbuffer *eb;
	uint64_t t[RUNS], base[RUNS], tm, ti, bm, bi, t0;
	size_t bytes_m, bytes_i;
	char shm[64], *copy, *src;
	FILE *in;
	pid_t pid;
	int i;

	snprintf(shm, sizeof(shm), "/vigil-bench-metrics-%d-%u",
	    (int)getpid(), n);
	if ((pid = segfill_start(tool, shm, n, &in)) == -1) {
		fprintf(stderr, "bench_metrics: cannot start %s\n", tool);
		exit(1);
	}
	memset(&ctx, 0, sizeof(ctx));
	if (vigil_open(&ctx.vc, shm) != VIGIL_OK) {
		fprintf(stderr, "bench_metrics: %s\n", ctx.vc.err);
		exit(1);
	}
	ctx.prometheus = 1;
	ctx.snap = calloc(vigil_capacity(&ctx.vc), sizeof(*ctx.snap));
	if (ctx.snap == NULL || (eb = evbuffer_new()) == NULL)
		exit(1);
	memset(&q, 0, sizeof(q));

	for (i = 0; i < RUNS; i++) {
		memset(&r, 0, sizeof(r));
		t0 = now_mono_ns();
		api_view_metrics(&ctx, eb, &r);
		t[i] = now_mono_ns() - t0;
		bytes_m = evbuffer_get_length(eb);
		evbuffer_drain(eb, bytes_m);
	}
	tm = median(t, RUNS);
	for (i = 0; i < RUNS; i++) {
		memset(&r, 0, sizeof(r));
		t0 = now_mono_ns();
		api_view_integration(&ctx, &q, eb, &r);
		t[i] = now_mono_ns() - t0;
		bytes_i = evbuffer_get_length(eb);
		evbuffer_drain(eb, bytes_i);
	}
	ti = median(t, RUNS);
	/* The floor: copy the same bytes into a buffer already in memory. */
	if ((src = malloc(bytes_m)) == NULL || (copy = malloc(bytes_m)) == NULL)
		exit(1);
	memset(src, 'x', bytes_m);
	memset(copy, 0, bytes_m);
	for (i = 0; i < RUNS; i++) {
		t0 = now_mono_ns();
		memcpy(copy, src, bytes_m);
		base[i] = now_mono_ns() - t0;
		src[i % bytes_m] = copy[(i * 7) % bytes_m];
	}
	bm = median(base, RUNS);
	for (i = 0; i < RUNS; i++) {
		t0 = now_mono_ns();
		memcpy(copy, src, bytes_i);
		base[i] = now_mono_ns() - t0;
		src[i % bytes_i] = copy[(i * 7) % bytes_i];
	}
	bi = median(base, RUNS);
	free(copy);
	printf("%-9u %-20s %9zu %10.1f %10.1f %7.1f\n", n, "/metrics",
	    bytes_m, tm / 1e3, bm / 1e3, bm ? (double)tm / bm : 0);
	printf("%-9u %-20s %9zu %10.1f %10.1f %7.1f\n", n,
	    "/health/integration", bytes_i, ti / 1e3, bi / 1e3,
	    bi ? (double)ti / bi : 0);
	free(src);
	evbuffer_free(eb);
	free(ctx.snap);
	vigil_close(&ctx.vc);
	fclose(in);		/* EOF: segfill unlinks and exits */
	waitpid(pid, NULL, 0);
}

int
main(int argc, char *argv[])
{
	static const unsigned sizes[] = { 6, 100, 1000 };
	char tool[512];
	const char *b = getenv("BUILD");
	size_t i;

	if (argc > 1)
		snprintf(tool, sizeof(tool), "%s", argv[1]);
	else
		snprintf(tool, sizeof(tool), "%s/tests/tools/segfill",
		    b != NULL ? b : "build");
	api_wb_tune();		/* as vigil-api does */
	if (access(tool, X_OK) == -1) {
		fprintf(stderr, "bench_metrics: %s missing (make)\n", tool);
		return 1;
	}
	printf("%-9s %-20s %9s %10s %10s %7s\n", "providers", "render",
	    "bytes", "median us", "memcpy us", "ratio");
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		one(tool, sizes[i]);
	printf("ratio = render time / time to copy the same bytes into an "
	    "buffer (memcpy; 1.0 = as cheap as a copy)\n");
	return 0;
}
