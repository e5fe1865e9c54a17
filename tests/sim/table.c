/*
 * table.c - the provider table: a sorted array, found by binary search.
 *
 * Providers are added at start-up only, then sorted once; a request's
 * path prefix is looked up in O(log n), so 1,000 providers cost ten
 * string compares per request.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "sim.h"

static int	name_ok(const char *);
static int	prov_cmp(const void *, const void *);

/*
 * A name fits a path segment as is: 1..63 of [A-Za-z0-9._-], not "_sim",
 * and not "reset-counters" (POST /_sim/reset-counters resets them all).
 */
static int
name_ok(const char *n)
{
	size_t i, len = strlen(n);

	if (len == 0 || len >= SIM_NAME_MAX || n[0] == '_' ||
	    strcmp(n, "reset-counters") == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)n[i]) && strchr("._-", n[i]) ==
		    NULL)
			return 0;
	return 1;
}

/*
 * Add a provider: name, kind, key (copied; "" = accept any key), own
 * port (-1 = only under /name on the main listener, 0 = a free port).
 * Call sim_sort once all are added.  Returns the new provider, or NULL
 * with err set.
 * Duplicates are found by sim_sort.
 */
struct sim_provider *
sim_add(struct sim *s, const char *name, int kind, const char *key, int port,
    char *err, size_t errlen)
{
	struct sim_provider *p, **np;

	if (!name_ok(name)) {
		snprintf(err, errlen, "provider name '%.64s': expected 1..63 "
		    "of A-Z a-z 0-9 . _ -, not starting with _ (and not "
		    "reset-counters)", name);
		return NULL;
	}
	if (kind < 0 || kind >= SIM_KIND_COUNT) {
		snprintf(err, errlen, "provider %s: unknown kind", name);
		return NULL;
	}
	if (s->nprov == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 16;
		if ((np = reallocarray(s->prov, ncap, sizeof(*np))) == NULL) {
			snprintf(err, errlen, "out of memory");
			return NULL;
		}
		s->prov = np;
		s->cap = ncap;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->key = strdup(key)) == NULL) {
		free(p);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->kind = kind;
	p->port = port;
	s->prov[s->nprov++] = p;
	return p;
}

static int
prov_cmp(const void *a, const void *b)
{
	const struct sim_provider *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

/*
 * Sort the table once all providers are added.  Returns 0, or -1 with
 * err set when a name is defined twice.  O(n log n).
 */
int
sim_sort(struct sim *s, char *err, size_t errlen)
{
	size_t i;

	if (s->nprov > 1)
		qsort(s->prov, s->nprov, sizeof(*s->prov), prov_cmp);
	for (i = 1; i < s->nprov; i++)
		if (strcmp(s->prov[i - 1]->name, s->prov[i]->name) == 0) {
			snprintf(err, errlen, "provider %s: defined twice",
			    s->prov[i]->name);
			return -1;
		}
	return 0;
}

/* The provider named name[0..len), or NULL.  O(log n). */
struct sim_provider *
sim_find(const struct sim *s, const char *name, size_t len)
{
	size_t lo = 0, hi = s->nprov, mid;
	int c;

	if (len == 0 || len >= SIM_NAME_MAX)
		return NULL;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strncmp(name, s->prov[mid]->name, len);
		if (c == 0 && s->prov[mid]->name[len] != '\0')
			c = -1;
		if (c == 0)
			return s->prov[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* Free every provider, wiping keys.  Own listeners must be freed first. */
void
sim_free(struct sim *s)
{
	size_t i;

	for (i = 0; i < s->nprov; i++) {
		explicit_bzero(s->prov[i]->key, strlen(s->prov[i]->key));
		free(s->prov[i]->key);
		free(s->prov[i]);
	}
	free(s->prov);
	s->prov = NULL;
	s->nprov = s->cap = 0;
}
