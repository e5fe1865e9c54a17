/*
 * bench_metrics - time to render /metrics and /health/integration in
 * vigil-api's own code, without HTTP, at 6, 100 and 1,000 providers,
 * then at 1,000 providers with 5 models each against the same without.
 *
 *	BUILD=build build/bench/bench_metrics [SEGFILL]
 *
 * Each segment is filled by segfill (build/tests/tools/segfill, or the
 * path given); the baseline measured in the same run is a memcpy of the
 * same number of bytes (the floor any renderer pays), and the ratio is
 * render time over that.  Median of the runs, in microseconds.
 *
 * The models' cost (issue 17): two segments side by side, 1,000
 * providers with and without segfill --models 5, rendered in ROUNDS
 * rounds that alternate which goes first (drift and a neighbour's load
 * fall on both); each round's median of MRUNS renders, then the median
 * of the rounds and the baseline's spread (its rounds' lowest and
 * highest, against their median), so that a ratio smaller than the
 * spread is read as noise.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <fcntl.h>
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
#define ROUNDS	9	/* of the models comparison */
#define MRUNS	31	/* renders per round and segment */
#define NMODELS	5

static int	cmp_u64(const void *, const void *);
static pid_t	segfill_start(const char *, const char *, unsigned,
		    unsigned, FILE **);
static uint64_t	median(uint64_t *, size_t);
static void	one(const char *, unsigned);
static void	ctx_open(struct api_ctx *, const char *);
static void	ctx_close(struct api_ctx *);
static uint64_t	render_median(struct api_ctx *, int, struct evbuffer *,
		    size_t *);
static void	models_vs(const char *);

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

/* segfill with a pipe on its stdin (EOF ends it) and one on its stdout;
 * models > 0: --models. */
static pid_t
segfill_start(const char *tool, const char *shm, unsigned n, unsigned models,
    FILE **in)
{
	char nbuf[16], mbuf[16], line[128];
	int pin[2], pout[2];
	FILE *out;
	pid_t pid;

	/* Close-on-exec: a second segfill must not inherit the first's
	 * stdin, or closing ours would never give the first its EOF. */
	if (pipe2(pin, O_CLOEXEC) == -1 || pipe2(pout, O_CLOEXEC) == -1)
		return -1;
	snprintf(nbuf, sizeof(nbuf), "%u", n);
	snprintf(mbuf, sizeof(mbuf), "%u", models);
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		dup2(pin[0], 0);
		dup2(pout[1], 1);
		close(pin[1]);
		close(pout[0]);
		if (models > 0)
			execl(tool, tool, "--shm", shm, "--providers", nbuf,
			    "--models", mbuf, (char *)NULL);
		else
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
	if ((pid = segfill_start(tool, shm, n, 0, &in)) == -1) {
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
	ctx_close(&ctx);
	fclose(in);		/* EOF: segfill unlinks and exits */
	waitpid(pid, NULL, 0);
}

static void
ctx_open(struct api_ctx *ctx, const char *shm)
{
	memset(ctx, 0, sizeof(*ctx));
	if (vigil_open(&ctx->vc, shm) != VIGIL_OK) {
		fprintf(stderr, "bench_metrics: %s\n", ctx->vc.err);
		exit(1);
	}
	ctx->prometheus = 1;
	if ((ctx->snap = calloc(vigil_capacity(&ctx->vc),
	    sizeof(*ctx->snap))) == NULL)
		exit(1);
}

static void
ctx_close(struct api_ctx *ctx)
{
	api_models_free(&ctx->models);
	free(ctx->snap);
	vigil_close(&ctx->vc);
}

/* The median of MRUNS renders of /metrics (metrics 1) or
 * /health/integration, and the body's size in *bytes. */
static uint64_t
render_median(struct api_ctx *ctx, int metrics, struct evbuffer *eb,
    size_t *bytes)
{
	struct api_result r;
	struct api_query q;
	uint64_t t[MRUNS], t0;
	int i;

	memset(&q, 0, sizeof(q));
	for (i = 0; i < MRUNS; i++) {
		memset(&r, 0, sizeof(r));
		t0 = now_mono_ns();
		if (metrics)
			api_view_metrics(ctx, eb, &r);
		else
			api_view_integration(ctx, &q, eb, &r);
		t[i] = now_mono_ns() - t0;
		if (r.code != 200) {
			fprintf(stderr, "bench_metrics: render %d\n", r.code);
			exit(1);
		}
		*bytes = evbuffer_get_length(eb);
		evbuffer_drain(eb, *bytes);
	}
	return median(t, MRUNS);
}

/*
 * 1,000 providers with NMODELS models each against the same without
 * models: both renders, ROUNDS rounds, alternating which segment goes
 * first.  Prints per render the bytes, the medians of the rounds'
 * medians with their lowest and highest, and the ratio.
 */
static void
models_vs(const char *tool)
{
	static const char *const what[2] = { "/health/integration",
	    "/metrics" };
	struct api_ctx ctx[2];
	struct evbuffer *eb;
	uint64_t m[2][2][ROUNDS], lo, hi, med[2];
	size_t bytes[2][2];
	char shm[2][64];
	FILE *in[2];
	pid_t pid[2];
	int k, v, r, first;

	for (k = 0; k < 2; k++) {
		snprintf(shm[k], sizeof(shm[k]), "/vigil-bench-models-%d-%d",
		    (int)getpid(), k);
		if ((pid[k] = segfill_start(tool, shm[k], 1000,
		    k ? NMODELS : 0, &in[k])) == -1) {
			fprintf(stderr, "bench_metrics: cannot start %s\n",
			    tool);
			exit(1);
		}
		ctx_open(&ctx[k], shm[k]);
	}
	if ((eb = evbuffer_new()) == NULL)
		exit(1);
	for (r = 0; r < ROUNDS; r++)
		for (v = 0; v < 2; v++)
			for (first = r % 2, k = 0; k < 2; k++)
				m[(first + k) % 2][v][r] = render_median(
				    &ctx[(first + k) % 2], v, eb,
				    &bytes[(first + k) % 2][v]);
	printf("\n1,000 providers x %d models against 1,000 without models: "
	    "%d rounds of %d renders\neach, alternating; medians of the "
	    "rounds' medians (lowest..highest round), us\n", NMODELS,
	    ROUNDS, MRUNS);
	printf("%-20s %9s %9s %22s %22s %6s\n", "render", "bytes",
	    "+models", "without models", "with models", "ratio");
	for (v = 0; v < 2; v++) {
		char cell[2][32];

		for (k = 0; k < 2; k++) {
			lo = hi = m[k][v][0];
			for (r = 1; r < ROUNDS; r++) {
				lo = m[k][v][r] < lo ? m[k][v][r] : lo;
				hi = m[k][v][r] > hi ? m[k][v][r] : hi;
			}
			med[k] = median(m[k][v], ROUNDS);
			snprintf(cell[k], sizeof(cell[k]), "%.0f (%.0f..%.0f)",
			    med[k] / 1e3, lo / 1e3, hi / 1e3);
		}
		printf("%-20s %9zu %9zu %22s %22s %6.2f\n", what[v],
		    bytes[0][v], bytes[1][v], cell[0], cell[1],
		    med[0] ? (double)med[1] / med[0] : 0);
	}
	printf("ratio = with models / without; the baseline's spread is "
	    "its lowest..highest round\n");
	evbuffer_free(eb);
	for (k = 0; k < 2; k++) {
		ctx_close(&ctx[k]);
		fclose(in[k]);
		waitpid(pid[k], NULL, 0);
	}
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
	models_vs(tool);
	return 0;
}
