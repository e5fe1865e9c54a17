/*
 * segdump - print a vigil segment as one JSON document, for e2e tests.
 *
 *	segdump [--shm NAME] [--samples N]
 *
 * Reads through the public client (include/vigil/vigil.h) only, read-only:
 * the header, every directory slot in use with its ring's head, epoch and
 * heartbeat age, the stats block's judgement, and the provider's newest N
 * samples (default 16), oldest first.  Exit status 0, or 1 with a
 * one-line error when the segment cannot be opened.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include <vigil/vigil.h>

static void
usage(void)
{
	fprintf(stderr, "usage: segdump [--shm NAME] [--samples N]\n");
	exit(2);
}

static double
ms(uint32_t us)
{
	return us / 1000.0;
}

static cJSON *
sample_json(const struct vigil_sample *s)
{
	cJSON *o = cJSON_CreateObject();
	char err[sizeof(s->error) + 1];

	memcpy(err, s->error, sizeof(s->error));
	err[sizeof(s->error)] = '\0';
	cJSON_AddNumberToObject(o, "wall_ns", (double)s->wall_ns);
	cJSON_AddNumberToObject(o, "mono_ns", (double)s->mono_ns);
	cJSON_AddStringToObject(o, "outcome", vigil_outcome_name(s->outcome));
	cJSON_AddNumberToObject(o, "http_status", s->http_status);
	cJSON_AddNumberToObject(o, "latency_ms", ms(s->latency_us));
	cJSON_AddNumberToObject(o, "dns_ms", ms(s->dns_us));
	cJSON_AddNumberToObject(o, "connect_ms", ms(s->connect_us));
	cJSON_AddNumberToObject(o, "tls_ms", ms(s->tls_us));
	cJSON_AddNumberToObject(o, "ttfb_ms", ms(s->ttfb_us));
	cJSON_AddNumberToObject(o, "bytes", s->bytes);
	cJSON_AddStringToObject(o, "error", err);
	cJSON_AddBoolToObject(o, "manual", (s->flags & VIGIL_SF_MANUAL) != 0);
	cJSON_AddBoolToObject(o, "confirm", (s->flags & VIGIL_SF_CONFIRM) != 0);
	cJSON_AddBoolToObject(o, "generation",
	    (s->flags & VIGIL_SF_GENERATION) != 0);
	cJSON_AddNumberToObject(o, "retry_after_ms", s->retry_after_ms);
	cJSON_AddBoolToObject(o, "retry_hint",
	    (s->flags & VIGIL_SF_RETRY_HINT) != 0);
	cJSON_AddNumberToObject(o, "model", s->model);
	cJSON_AddBoolToObject(o, "catalogue",
	    (s->flags & VIGIL_SF_CATALOGUE) != 0);
	cJSON_AddNumberToObject(o, "tokens_in", s->tokens_in);
	cJSON_AddNumberToObject(o, "tokens_out", s->tokens_out);
	return o;
}

/* ABI 2: what a router acts on, and the rate-limit headroom. */
static void
stats_llm_json(cJSON *sj, const struct vigil_stats *st)
{
	const char *rs = vigil_reason_name(st->reason);
	cJSON *rl, *r;
	int k;

	cJSON_AddBoolToObject(sj, "usable", st->usable != 0);
	if (rs != NULL)
		cJSON_AddStringToObject(sj, "reason", rs);
	else
		cJSON_AddNullToObject(sj, "reason");
	cJSON_AddBoolToObject(sj, "needs_human", st->needs_human != 0);
	cJSON_AddNumberToObject(sj, "usable_at_wall_ns",
	    (double)st->usable_at_wall_ns);
	cJSON_AddNumberToObject(sj, "error_rate_1m",
	    st->win[VIGIL_WIN_1M].error_rate);
	cJSON_AddNumberToObject(sj, "consecutive_failures",
	    st->consecutive_failures);
	cJSON_AddNumberToObject(sj, "probe_tokens_today",
	    (double)st->probe_tokens_today);
	cJSON_AddStringToObject(sj, "last_outcome",
	    vigil_outcome_name(st->last.outcome));
	rl = cJSON_AddObjectToObject(sj, "ratelimit");
	for (k = 0; k < VIGIL_RL_COUNT; k++) {
		if (st->ratelimit[k].limit == 0)
			continue;
		r = cJSON_AddObjectToObject(rl, vigil_rl_name((unsigned)k));
		cJSON_AddNumberToObject(r, "limit", st->ratelimit[k].limit);
		cJSON_AddNumberToObject(r, "remaining",
		    st->ratelimit[k].remaining);
		cJSON_AddNumberToObject(r, "reset_wall_ns",
		    (double)st->ratelimit[k].reset_wall_ns);
	}
}

/* Issue 17: the provider's models (the supervisor's block) and each
 * model's stats (the aggregator's). */
static void
models_json(cJSON *pj, const struct vigil_client *c, uint32_t i)
{
	struct vigil_models ms;
	struct vigil_model_stats st;
	const char *rs;
	cJSON *arr, *mj;
	uint32_t m;

	if (vigil_models(c, i, &ms) != VIGIL_OK)
		return;
	cJSON_AddNumberToObject(pj, "token_budget",
	    (double)ms.head.token_budget);
	arr = cJSON_AddArrayToObject(pj, "models");
	for (m = 0; m < ms.head.count; m++) {
		mj = cJSON_CreateObject();
		cJSON_AddItemToArray(arr, mj);
		cJSON_AddStringToObject(mj, "name", ms.names[m].name);
		if (vigil_model_stats(c, i, m, &st) != VIGIL_OK)
			continue;
		cJSON_AddBoolToObject(mj, "updated", st.updated_wall_ns != 0);
		cJSON_AddStringToObject(mj, "status",
		    vigil_status_name(st.status));
		rs = vigil_reason_name(st.reason);
		if (rs != NULL)
			cJSON_AddStringToObject(mj, "reason", rs);
		else
			cJSON_AddNullToObject(mj, "reason");
		cJSON_AddBoolToObject(mj, "usable", st.usable != 0);
		cJSON_AddStringToObject(mj, "last_outcome",
		    vigil_outcome_name(st.last_outcome));
		cJSON_AddNumberToObject(mj, "listed", st.listed);
		cJSON_AddNumberToObject(mj, "checks_total",
		    (double)st.checks_total);
		cJSON_AddNumberToObject(mj, "tokens_in_total",
		    (double)st.tokens_in_total);
		cJSON_AddNumberToObject(mj, "tokens_out_total",
		    (double)st.tokens_out_total);
		cJSON_AddNumberToObject(mj, "ttft_p95_ms_5m",
		    st.win[VIGIL_WIN_5M].ttft_p95_ms);
		cJSON_AddNumberToObject(mj, "error_rate_5m",
		    st.win[VIGIL_WIN_5M].error_rate);
	}
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "shm", required_argument, NULL, 's' },
		{ "samples", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 }
	};
	struct vigil_client c;
	struct vigil_provider_info info;
	struct vigil_stats st;
	struct vigil_cursor cur;
	struct vigil_sample *buf;
	const struct vigil_header *h;
	const struct vigil_ring_ctl *r;
	cJSON *root, *hj, *arr, *pj, *sj, *sa;
	const char *shm = NULL;
	char *out;
	long nsamp = 16;
	uint64_t age;
	uint32_t i;
	size_t n, k;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			shm = optarg;
			break;
		case 'n':
			nsamp = strtol(optarg, NULL, 10);
			if (nsamp < 0 || nsamp > 1 << 20)
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if ((rc = vigil_open(&c, shm)) != VIGIL_OK) {
		fprintf(stderr, "segdump: %s\n", c.err);
		return 1;
	}
	h = c.hdr;
	if ((buf = calloc((size_t)nsamp + 1, sizeof(*buf))) == NULL) {
		fprintf(stderr, "segdump: out of memory\n");
		return 1;
	}

	root = cJSON_CreateObject();
	hj = cJSON_AddObjectToObject(root, "header");
	cJSON_AddNumberToObject(hj, "abi_major", h->abi_major);
	cJSON_AddNumberToObject(hj, "abi_minor", h->abi_minor);
	cJSON_AddNumberToObject(hj, "size", (double)h->size);
	cJSON_AddNumberToObject(hj, "created_wall_ns",
	    (double)h->created_wall_ns);
	cJSON_AddNumberToObject(hj, "provider_cap", h->provider_cap);
	cJSON_AddNumberToObject(hj, "sample_cap", h->sample_cap);
	cJSON_AddNumberToObject(hj, "history_cap", h->history_cap);
	cJSON_AddNumberToObject(hj, "alert_cap", h->alert_cap);
	cJSON_AddNumberToObject(hj, "supervisor_pid", h->supervisor_pid);
	cJSON_AddNumberToObject(hj, "dir_gen", (double)vigil_dir_gen(&c));
	cJSON_AddNumberToObject(hj, "aggregator_pid",
	    (double)VIGIL_LOAD_ACQ(&h->aggregator_pid));
	age = vigil_aggregator_age_ns(&c);
	cJSON_AddNumberToObject(hj, "aggregator_age_ms", age == UINT64_MAX ?
	    -1 : (double)(age / 1000000));

	arr = cJSON_AddArrayToObject(root, "providers");
	for (i = 0; i < h->provider_cap; i++) {
		rc = vigil_provider_info(&c, i, &info);
		if (rc == VIGIL_ENOENT)
			continue;
		if (rc != VIGIL_OK) {
			fprintf(stderr, "segdump: slot %u: %s\n", i,
			    vigil_strerror(rc));
			return 1;
		}
		pj = cJSON_CreateObject();
		cJSON_AddItemToArray(arr, pj);
		cJSON_AddNumberToObject(pj, "slot", i);
		cJSON_AddStringToObject(pj, "name", info.name);
		cJSON_AddStringToObject(pj, "kind", vigil_kind_name(info.kind));
		cJSON_AddStringToObject(pj, "host", info.host);
		cJSON_AddNumberToObject(pj, "interval_ms", info.interval_ms);
		cJSON_AddNumberToObject(pj, "timeout_ms", info.timeout_ms);
		cJSON_AddNumberToObject(pj, "generation", info.generation);
		cJSON_AddNumberToObject(pj, "writer_epoch", info.writer_epoch);
		cJSON_AddNumberToObject(pj, "restarts", info.restarts);
		cJSON_AddNumberToObject(pj, "pid", info.pid);
		cJSON_AddBoolToObject(pj, "enabled",
		    (info.flags & VIGIL_PF_ENABLED) != 0);
		cJSON_AddBoolToObject(pj, "paused",
		    (info.flags & VIGIL_PF_PAUSED) != 0);
		r = vigil__sample_ring(&c, i);
		cJSON_AddNumberToObject(pj, "head",
		    (double)VIGIL_LOAD_ACQ(&r->head));
		cJSON_AddNumberToObject(pj, "ring_epoch",
		    (double)VIGIL_LOAD_ACQ(&r->epoch));
		age = vigil_prober_age_ns(&c, i);
		cJSON_AddNumberToObject(pj, "beat_age_ms", age == UINT64_MAX ?
		    -1 : (double)(age / 1000000));
		if (vigil_provider_stats(&c, i, &st) == VIGIL_OK) {
			sj = cJSON_AddObjectToObject(pj, "stats");
			cJSON_AddBoolToObject(sj, "updated",
			    st.updated_wall_ns != 0);
			cJSON_AddStringToObject(sj, "status",
			    vigil_status_name(st.status));
			cJSON_AddStringToObject(sj, "circuit",
			    vigil_circuit_name(st.circuit));
			cJSON_AddStringToObject(sj, "trend",
			    vigil_trend_name(st.trend));
			cJSON_AddNumberToObject(sj, "samples_total",
			    (double)st.samples_total);
			cJSON_AddNumberToObject(sj, "silenced_until_ns",
			    (double)st.silenced_until_wall_ns);
			stats_llm_json(sj, &st);
		}
		models_json(pj, &c, i);
		vigil_samples_tail(&c, i, &cur, (uint64_t)nsamp);
		n = vigil_read_samples(&c, i, &cur, buf, (size_t)nsamp);
		sa = cJSON_AddArrayToObject(pj, "samples");
		for (k = 0; k < n; k++)
			cJSON_AddItemToArray(sa, sample_json(&buf[k]));
		cJSON_AddNumberToObject(pj, "lost", (double)cur.lost);
	}
	out = cJSON_PrintUnformatted(root);
	if (out == NULL) {
		fprintf(stderr, "segdump: out of memory\n");
		return 1;
	}
	printf("%s\n", out);
	free(out);
	cJSON_Delete(root);
	free(buf);
	vigil_close(&c);
	return 0;
}
