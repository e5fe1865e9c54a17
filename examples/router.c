/*
 * router - a small LLM router on vigil's read and write paths (issue 18).
 *
 * Each request goes to the first provider of vigil's route order that
 * vigil says is usable; its outcome is reported back through the
 * reporter (include/vigil/vigil.h, "Reporter"); a failure fails over to
 * the next.  Providers are given on the command line as NAME=URL[=KEY]
 * (the segment holds no URL and no secret); the request is
 * GET URL/v1/models with "Authorization: Bearer KEY".
 *
 *	router [-s SHM] [-n COUNT] [-r PER_S] [-t TIMEOUT_MS] [-m MODE]
 *	    NAME=URL[=KEY] ...
 *
 * MODE is how a provider is chosen:
 *	vigil		vigil's route order and usable, outcomes reported
 *	probe		the same, nothing reported: vigil on probes alone
 *	cooldown	vigil not asked: the order given, a provider with 3
 *			failures in the last minute skipped for a minute
 *			(LiteLLM's allowed_fails default)
 *
 * Every failed attempt prints a JSON line {"fail": NAME, "mono_ns": T}
 * at once; the end, a summary line.  Needs libcurl:
 *	cc -std=c99 -Iinclude examples/router.c -lcurl -lrt
 */
/* clock_gettime, getopt and nanosleep under -std=c99 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <vigil/vigil.h>

#include <curl/curl.h>

#define MAXP		16
#define COOL_FAILS	3
#define COOL_NS		(UINT64_C(60) * 1000000000u)

enum mode { M_VIGIL, M_PROBE, M_COOLDOWN };

struct prov {
	char name[VIGIL_NAME_MAX];
	char url[512];
	struct curl_slist *hdr;
	CURL *easy;
	int idx;			/* the reporter's index, -1 unknown */
	uint64_t fails[COOL_FAILS];	/* cooldown: newest failures */
	unsigned nfail;
	uint64_t cool_until;
	unsigned long sent, failed;
};

static struct prov pv[MAXP];
static int npv;

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t
wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static size_t
discard(char *p, size_t sz, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return sz * n;
}

static struct prov *
by_name(const char *name)
{
	int i;

	for (i = 0; i < npv; i++)
		if (strcmp(pv[i].name, name) == 0)
			return &pv[i];
	return NULL;
}

/* The outcome class of one answer (or of no answer). */
static unsigned
classify(CURLcode cc, long status)
{
	switch (cc) {
	case CURLE_OK:
		break;
	case CURLE_OPERATION_TIMEDOUT:
		return VIGIL_OUT_TIMEOUT;
	case CURLE_COULDNT_RESOLVE_HOST:
		return VIGIL_OUT_DNS;
	case CURLE_COULDNT_CONNECT:
		return VIGIL_OUT_CONNECT;
	case CURLE_SSL_CONNECT_ERROR:
		return VIGIL_OUT_TLS;
	default:
		return VIGIL_OUT_OTHER;
	}
	if (status >= 200 && status < 300)
		return VIGIL_OUT_OK;
	if (status >= 500)
		return status == 529 ? VIGIL_OUT_OVERLOADED :
		    VIGIL_OUT_HTTP_5XX;
	if (status == 429)
		return VIGIL_OUT_RATE_LIMITED;
	if (status == 401 || status == 403)
		return VIGIL_OUT_AUTH;
	if (status == 404)
		return VIGIL_OUT_MODEL_MISSING;
	return VIGIL_OUT_CLIENT_ERROR;
}

/* One attempt at p; reported when r is not NULL.  1: served. */
static int
attempt(struct prov *p, struct vigil_reporter *r)
{
	struct vigil_report_rec rec;
	uint64_t t0 = mono_ns(), t1;
	long status = 0;
	CURLcode cc;
	unsigned out;

	cc = curl_easy_perform(p->easy);
	t1 = mono_ns();
	if (cc == CURLE_OK)
		curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &status);
	out = classify(cc, status);
	p->sent++;
	if (r != NULL && p->idx >= 0) {
		memset(&rec, 0, sizeof(rec));
		rec.provider = p->idx;
		rec.model = -1;
		rec.outcome = (uint8_t)out;
		rec.http_status = (uint16_t)(status >= 100 && status <= 599 ?
		    status : 0);
		rec.latency_us = (uint32_t)((t1 - t0) / 1000u);
		(void)vigil_report(r, &rec);
	}
	if (out == VIGIL_OUT_OK)
		return 1;
	p->failed++;
	if (p->nfail < COOL_FAILS)
		p->nfail++;
	memmove(&p->fails[1], &p->fails[0], (COOL_FAILS - 1) *
	    sizeof(p->fails[0]));
	p->fails[0] = t1;
	if (p->nfail == COOL_FAILS && t1 - p->fails[COOL_FAILS - 1] < COOL_NS)
		p->cool_until = t1 + COOL_NS;
	printf("{\"fail\":\"%s\",\"outcome\":\"%s\",\"mono_ns\":%llu}\n",
	    p->name, vigil_outcome_name(out), (unsigned long long)t1);
	fflush(stdout);
	return 0;
}

/* The candidates, best first: vigil's usable providers in its route
 * order, or (cooldown, or no order yet) the order given. */
static int
candidates(enum mode m, struct vigil_client *c, struct prov **out)
{
	uint32_t idx[VIGIL_MAX_PROVIDERS];
	struct vigil_provider p;
	uint64_t now = mono_ns(), wall = wall_ns();
	size_t n = 0, i;
	int k = 0;
	struct prov *q;

	if (m != M_COOLDOWN && c->base != NULL &&
	    vigil_route_order(c, idx, VIGIL_MAX_PROVIDERS, &n) == VIGIL_OK &&
	    n > 0) {
		for (i = 0; i < n && k < MAXP; i++) {
			if (vigil_snapshot(c, idx[i], &p) != VIGIL_OK ||
			    !vigil_provider_usable(&p, wall) ||
			    (q = by_name(p.info.name)) == NULL)
				continue;
			out[k++] = q;
		}
		return k;
	}
	for (i = 0; i < (size_t)npv; i++)
		if (m != M_COOLDOWN || pv[i].cool_until <= now)
			out[k++] = &pv[i];
	return k;
}

static void
usage(void)
{
	fprintf(stderr, "usage: router [-s shm] [-n count] [-r per_s] "
	    "[-t timeout_ms] [-m vigil|probe|cooldown] NAME=URL[=KEY] ...\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	const char *shm = NULL;
	struct vigil_reporter *rep = NULL;
	struct vigil_client cli;
	struct prov *cand[MAXP];
	enum mode m = M_VIGIL;
	unsigned long count = 100, served = 0, lost = 0, i;
	double rate = 20;
	long timeout_ms = 2000;
	uint64_t next;
	char err[256], auth[600], *eq, *key;
	int ch, k, nc;

	while ((ch = getopt(argc, argv, "s:n:r:t:m:")) != -1) {
		switch (ch) {
		case 's': shm = optarg; break;
		case 'n': count = strtoul(optarg, NULL, 10); break;
		case 'r': rate = atof(optarg); break;
		case 't': timeout_ms = atol(optarg); break;
		case 'm':
			if (strcmp(optarg, "vigil") == 0)
				m = M_VIGIL;
			else if (strcmp(optarg, "probe") == 0)
				m = M_PROBE;
			else if (strcmp(optarg, "cooldown") == 0)
				m = M_COOLDOWN;
			else
				usage();
			break;
		default: usage();
		}
	}
	if (optind >= argc || rate <= 0)
		usage();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	memset(&cli, 0, sizeof(cli));
	if (m != M_COOLDOWN && vigil_open(&cli, shm) != VIGIL_OK) {
		fprintf(stderr, "router: %s\n", cli.err);
		return 1;
	}
	if (m == M_VIGIL && (rep = vigil_reporter_open(shm, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "router: %s\n", err);
		return 1;
	}
	for (; optind < argc && npv < MAXP; optind++) {
		struct prov *p = &pv[npv];

		if ((eq = strchr(argv[optind], '=')) == NULL)
			usage();
		*eq = '\0';
		snprintf(p->name, sizeof(p->name), "%s", argv[optind]);
		key = strchr(eq + 1, '=');
		if (key != NULL)
			*key++ = '\0';
		snprintf(p->url, sizeof(p->url), "%s/v1/models", eq + 1);
		p->easy = curl_easy_init();
		if (key != NULL) {
			snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
			    key);
			p->hdr = curl_slist_append(NULL, auth);
			curl_easy_setopt(p->easy, CURLOPT_HTTPHEADER, p->hdr);
		}
		curl_easy_setopt(p->easy, CURLOPT_URL, p->url);
		curl_easy_setopt(p->easy, CURLOPT_TIMEOUT_MS, timeout_ms);
		curl_easy_setopt(p->easy, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(p->easy, CURLOPT_WRITEFUNCTION, discard);
		p->idx = rep != NULL ? vigil_reporter_provider(rep, p->name) :
		    -1;
		npv++;
	}
	next = mono_ns();
	for (i = 0; i < count; i++) {
		nc = candidates(m, &cli, cand);
		for (k = 0; k < nc; k++)
			if (attempt(cand[k], rep))
				break;
		if (k < nc)
			served++;
		else
			lost++;
		next += (uint64_t)(1e9 / rate);
		while (mono_ns() < next) {
			struct timespec ms = { 0, 1000000 };

			nanosleep(&ms, NULL);
		}
	}
	printf("{\"requests\":%lu,\"served\":%lu,\"lost\":%lu,\"providers\":{",
	    count, served, lost);
	for (k = 0; k < npv; k++)
		printf("%s\"%s\":{\"sent\":%lu,\"failed\":%lu}", k ? "," : "",
		    pv[k].name, pv[k].sent, pv[k].failed);
	printf("}}\n");
	for (k = 0; k < npv; k++) {
		curl_easy_cleanup(pv[k].easy);
		curl_slist_free_all(pv[k].hdr);
	}
	vigil_reporter_close(rep);
	vigil_close(&cli);
	curl_global_cleanup();
	return 0;
}
