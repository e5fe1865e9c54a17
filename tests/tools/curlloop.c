/*
 * curlloop - the bare libcurl baseline for bench/bench_prober.py.
 *
 *	curlloop URL CA INTERVAL_MS SECONDS
 *
 * One easy handle, reused (so is its connection), checks URL every
 * INTERVAL_MS for SECONDS with the prober's transport options: the same
 * trust (CA: a hashed directory is CURLOPT_CAPATH alone, another path is
 * CURLOPT_CAINFO, "" is libcurl's default directory when it has one),
 * verification on, no redirects, any encoding, the body read into a
 * buffer.  It sleeps between checks (clock_nanosleep to an absolute
 * monotonic deadline), as a prober waits in its event loop.  One check
 * first opens the connection; the measurement starts after it.
 *
 * Prints "ready" once the first check is done, then at the end one line:
 *	checks=N ok=N cpu_us_per_check=F private_kb=N pss_kb=N
 * CPU is user+system time from getrusage over the measured checks (and
 * the sleeps between them); memory is /proc/self/smaps_rollup at the end.
 * Exits 0 when every check returned HTTP 2xx, 1 otherwise, 2 on usage.
 */
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#define BODY_MAX	(1u << 20)

struct loop_body {
	char	buf[4096];
	size_t	len;
};

static void	usage(void);
static size_t	loop_write(char *, size_t, size_t, void *);
static int	loop_is_dir(const char *);
static CURLcode	loop_ca(CURL *, const char *);
static int	loop_check(CURL *, struct loop_body *);
static double	loop_cpu_us(void);
static void	loop_memory(long *, long *);

static void
usage(void)
{
	fprintf(stderr, "usage: curlloop URL CA INTERVAL_MS SECONDS\n");
	exit(2);
}

/* Keep the start of the body, count the rest, refuse beyond BODY_MAX. */
static size_t
loop_write(char *p, size_t size, size_t nmemb, void *arg)
{
	struct loop_body *b = arg;
	size_t n = size * nmemb, keep;

	if (n > BODY_MAX - b->len)
		return 0;
	keep = b->len < sizeof(b->buf) ? sizeof(b->buf) - b->len : 0;
	if (keep > n)
		keep = n;
	memcpy(b->buf + b->len, p, keep);
	b->len += n;
	return n;
}

static int
loop_is_dir(const char *path)
{
	struct stat sb;

	return path != NULL && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* The prober's choice of trust (prober/probe.c, ca_setup). */
static CURLcode
loop_ca(CURL *e, const char *ca)
{
	char *capath = NULL;
	CURLcode rc;

	if (ca[0] != '\0') {
		if (!loop_is_dir(ca))
			return curl_easy_setopt(e, CURLOPT_CAINFO, ca);
		if ((rc = curl_easy_setopt(e, CURLOPT_CAPATH, ca)) != CURLE_OK)
			return rc;
		return curl_easy_setopt(e, CURLOPT_CAINFO, NULL);
	}
#if LIBCURL_VERSION_NUM >= 0x075400
	if (curl_easy_getinfo(e, CURLINFO_CAPATH, &capath) == CURLE_OK &&
	    loop_is_dir(capath))
		return curl_easy_setopt(e, CURLOPT_CAINFO, NULL);
#endif
	(void)capath;
	return CURLE_OK;
}

/* One check.  Returns 1 for HTTP 2xx, 0 otherwise. */
static int
loop_check(CURL *e, struct loop_body *b)
{
	long status = 0;

	b->len = 0;
	if (curl_easy_perform(e) != CURLE_OK)
		return 0;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	return status >= 200 && status <= 299;
}

static double
loop_cpu_us(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) == -1)
		return 0;
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
	    ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

/* Private and proportional memory in kB, -1 when unknown. */
static void
loop_memory(long *priv, long *pss)
{
	char line[256];
	FILE *f;
	long v;

	*priv = *pss = -1;
	if ((f = fopen("/proc/self/smaps_rollup", "r")) == NULL)
		return;
	*priv = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "Pss: %ld", &v) == 1)
			*pss = v;
		else if (strncmp(line, "Private_", 8) == 0 &&
		    sscanf(strchr(line, ':') + 1, "%ld", &v) == 1)
			*priv += v;
	}
	fclose(f);
}

int
main(int argc, char *argv[])
{
	struct loop_body body;
	struct timespec next;
	CURL *e;
	CURLcode rc = CURLE_OK;
	char *end;
	double c0, c1;
	long interval_ms, seconds, priv, pss;
	int checks = 0, good = 0;

	if (argc != 5)
		usage();
	errno = 0;
	interval_ms = strtol(argv[3], &end, 10);
	if (errno != 0 || *end != '\0' || interval_ms < 1 ||
	    interval_ms > 3600000)
		usage();
	seconds = strtol(argv[4], &end, 10);
	if (errno != 0 || *end != '\0' || seconds < 1 || seconds > 86400)
		usage();

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (e = curl_easy_init()) == NULL) {
		fprintf(stderr, "curlloop: libcurl initialisation failed\n");
		return 1;
	}
#define SET(opt, val) do {						\
	if (rc == CURLE_OK)						\
		rc = curl_easy_setopt(e, opt, val);			\
} while (0)
	SET(CURLOPT_URL, argv[1]);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_USERAGENT, "vigil-curlloop");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	if (rc == CURLE_OK)
		rc = loop_ca(e, argv[2]);
	SET(CURLOPT_DNS_CACHE_TIMEOUT, 60L);
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	SET(CURLOPT_ACCEPT_ENCODING, "");
	SET(CURLOPT_TIMEOUT_MS, interval_ms);
	SET(CURLOPT_CONNECTTIMEOUT_MS, interval_ms);
	SET(CURLOPT_WRITEFUNCTION, loop_write);
	SET(CURLOPT_WRITEDATA, &body);
#undef SET
	if (rc != CURLE_OK) {
		fprintf(stderr, "curlloop: option: %s\n",
		    curl_easy_strerror(rc));
		return 1;
	}

	/* The first check opens the connection: not measured. */
	if (!loop_check(e, &body))
		fprintf(stderr, "curlloop: first check failed\n");
	printf("ready\n");
	fflush(stdout);
	clock_gettime(CLOCK_MONOTONIC, &next);
	c0 = loop_cpu_us();
	for (;;) {
		next.tv_nsec += (interval_ms % 1000) * 1000000;
		next.tv_sec += interval_ms / 1000 + next.tv_nsec / 1000000000;
		next.tv_nsec %= 1000000000;
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next,
		    NULL) == EINTR)
			;
		good += loop_check(e, &body);
		if (++checks >= seconds * 1000 / interval_ms)
			break;
	}
	c1 = loop_cpu_us();
	loop_memory(&priv, &pss);
	printf("checks=%d ok=%d cpu_us_per_check=%.1f private_kb=%ld "
	    "pss_kb=%ld\n", checks, good, checks ? (c1 - c0) / checks : 0.0,
	    priv, pss);
	curl_easy_cleanup(e);
	curl_global_cleanup();
	return good == checks ? 0 : 1;
}
