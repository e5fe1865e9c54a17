/*
 * canary.c - the vantage self-check's canaries as slots of their own.
 *
 * `[vigil] canary = URL[, URL...]` names reliable endpoints that are not
 * LLM providers.  Each becomes a provider entry of kind http after the
 * configured ones, named canary-1, canary-2 ... in the list's order, so
 * that it is probed by its own prober exactly like a provider (GET the
 * URL; a 2xx or 3xx is ok) and keeps its slot across reloads.  Its slot
 * carries VIGIL_PF_CANARY: the aggregator never alerts on it nor routes
 * to it, and readers leave it out of their provider views
 * (docs/aggregation.md, "Vantage").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "settings.h"
#include "vigild.h"

/* Split url into base_url (scheme://authority) and check_path. */
static int
canary_fill(struct conf_provider *cp, const char *url, char *why,
    size_t whylen)
{
	const char *h = strstr(url, "://"), *path;
	char base[CONF_URL_MAX];

	if (h == NULL)
		return -1;		/* settings_canaries checked it */
	path = h + 3 + strcspn(h + 3, "/");
	snprintf(base, sizeof(base), "%.*s", (int)(path - url), url);
	if (settings_parse(&settings_provider[SP_BASE_URL], cp, base, why,
	    whylen) == -1)
		return -1;
	return settings_parse(&settings_provider[SP_CHECK_PATH], cp,
	    *path != '\0' ? path : "/", why, whylen);
}

/*
 * Append c's canaries to c->providers.  Returns 0, or -1 with err (a
 * provider already named canary-N, more slots than max_providers).
 */
int
canary_expand(struct conf *c, char *err, size_t errlen)
{
	static char urls[CONF_CANARY_MAX][CONF_URL_MAX];
	struct conf_provider *np, *cp;
	char why[256];
	int n, i;

	n = settings_canaries(c->canary, urls, CONF_CANARY_MAX, why,
	    sizeof(why));
	if (n <= 0) {
		if (n < 0)
			snprintf(err, errlen, "%s: canary: %s", c->path, why);
		return n;
	}
	if (c->nproviders + (size_t)n > c->max_providers) {
		snprintf(err, errlen, "%s: %zu providers and %d canaries but "
		    "max_providers is %u", c->path, c->nproviders, n,
		    c->max_providers);
		return -1;
	}
	np = reallocarray(c->providers, c->nproviders + (size_t)n,
	    sizeof(*np));
	if (np == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	c->providers = np;
	for (i = 0; i < n; i++) {
		cp = &c->providers[c->nproviders];
		settings_provider_defaults(cp);
		snprintf(cp->name, sizeof(cp->name), "canary-%d", i + 1);
		if (conf_find(c, cp->name) != NULL) {
			snprintf(err, errlen, "%s: [provider \"%s\"]: the name "
			    "is a canary's (canary = )", c->path, cp->name);
			return -1;
		}
		if (canary_fill(cp, urls[i], why, sizeof(why)) == -1) {
			snprintf(err, errlen, "%s: canary: %s", c->path, why);
			return -1;
		}
		cp->kind = VIGIL_KIND_HTTP;
		cp->interval_ms = c->interval_ms;
		cp->timeout_ms = c->timeout_ms;
		cp->enabled = 1;
		cp->canary = 1;
		c->nproviders++;
	}
	return 0;
}
