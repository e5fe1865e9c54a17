/*
 * vigil-status - print every provider's health from vigil's segment.
 *
 *	vigil-status [SEGMENT]		(default /vigil)
 *
 * A small client of the public header, and nothing else: it maps the
 * segment read-only, takes a consistent snapshot of every provider and
 * prints the overall status, then each provider's status, circuit,
 * whether a router may send it a request now (yes, "in N s" for a rate
 * limit, "no: human" for what only a human fixes), 1-minute p95 latency
 * and error rate (and "stale" when its data is), then the routing order.
 * Status, staleness and usable are the header's read model
 * (vigil_overall_status, vigil_effective_status, vigil_provider_stale,
 * vigil_provider_usable): what vigil's HTTP API and vigilctl say.  Exits
 * 1 with the reason when the segment is missing or of an ABI this header
 * does not read, 2 on a usage error.
 *
 *	cc -std=c99 $(pkg-config --cflags vigil) -o vigil-status \
 *	    vigil-status.c -lrt
 */
#include <vigil/vigil.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static const char *
provider_name(const struct vigil_provider *p, size_t n, uint32_t idx)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i].idx == idx)
			return p[i].info.name;
	return "?";
}

/*
 * What a router does with p (docs/aggregation.md, "Usable"): send now,
 * wait until usable_at (or fail over), or fail over and page a human.
 */
static const char *
send_now(const struct vigil_provider *p, uint64_t wall, char *buf,
    size_t len)
{
	if (vigil_provider_usable(p, wall))
		return "yes";
	if (p->stats.needs_human)
		return "no: human";
	if (p->stats.usable_at_wall_ns > wall) {
		snprintf(buf, len, "in %.0f s", (double)(p->stats
		    .usable_at_wall_ns - wall) / 1e9);
		return buf;
	}
	return "no";
}

int
main(int argc, char *argv[])
{
	struct vigil_client c;
	struct vigil_provider *p;
	const struct vigil_window *w;
	uint32_t *order;
	uint64_t age, now, wall;
	char when[32];
	size_t n, nroute, i;
	int rc;

	if (argc > 2 || (argc == 2 && argv[1][0] != '/')) {
		fprintf(stderr, "usage: vigil-status [/SEGMENT]\n");
		return 2;
	}
	rc = vigil_open(&c, argc == 2 ? argv[1] : VIGIL_DEFAULT_SHM);
	if (rc != VIGIL_OK) {
		fprintf(stderr, "vigil-status: %s\n", c.err);
		return 1;
	}

	p = (struct vigil_provider *)calloc(vigil_capacity(&c), sizeof(*p));
	order = (uint32_t *)calloc(vigil_capacity(&c), sizeof(*order));
	if (p == NULL || order == NULL) {
		fprintf(stderr, "vigil-status: out of memory\n");
		return 1;
	}
	rc = vigil_snapshot_all(&c, p, vigil_capacity(&c), &n);
	if (rc != VIGIL_OK) {
		fprintf(stderr, "vigil-status: reading providers: %s\n",
		    vigil_strerror(rc));
		return 1;
	}

	now = vigil_now_mono_ns();
	age = vigil_aggregator_age_at(&c, now);
	printf("%zu provider%s, overall %s; ", n, n == 1 ? "" : "s",
	    vigil_status_name(vigil_overall_status(&c, p, n, now)));
	if (age == UINT64_MAX)
		printf("aggregator has not run yet\n");
	else
		printf("aggregator beat %.1f s ago\n", (double)age / 1e9);
	wall = (uint64_t)time(NULL) * UINT64_C(1000000000);
	printf("%-24s %-13s %-9s %-12s %10s %8s %8s\n", "PROVIDER", "STATUS",
	    "CIRCUIT", "SEND", "P95(1m)", "ERR(1m)", "SAMPLES");
	for (i = 0; i < n; i++) {
		w = &p[i].stats.win[VIGIL_WIN_1M];
		printf("%-24s %-13s %-9s %-12s", p[i].info.name,
		    vigil_status_name(vigil_effective_status(&p[i])),
		    vigil_circuit_name(p[i].stats.circuit),
		    send_now(&p[i], wall, when, sizeof(when)));
		if (w->samples == 0)
			printf(" %10s %8s %8u", "-", "-", 0u);
		else
			printf(" %7.0f ms %7.2f%% %8u", w->p95_ms,
			    w->error_rate * 100.0, w->samples);
		printf("%s\n", vigil_provider_stale(&c, &p[i], now) ?
		    " stale" : "");
	}

	rc = vigil_route_order(&c, order, vigil_capacity(&c), &nroute);
	if (rc != VIGIL_OK) {
		fprintf(stderr, "vigil-status: reading routing order: %s\n",
		    vigil_strerror(rc));
		return 1;
	}
	printf("routing order:");
	if (nroute == 0)
		printf(" (none)");
	for (i = 0; i < nroute; i++)
		printf("%s %s", i ? "," : "", provider_name(p, n, order[i]));
	printf("\n");

	free(order);
	free(p);
	vigil_close(&c);
	return 0;
}
