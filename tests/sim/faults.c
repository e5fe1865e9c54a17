/*
 * faults.c - fault settings: parse from JSON, show as JSON, draw delays.
 *
 * The control endpoint and the config file share sim_faults_parse, so a
 * field means the same thing wherever it is set.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cJSON.h>

#include "errors.h"
#include "sim.h"

enum fld_type { FLD_MS, FLD_LONG, FLD_PROB, FLD_STATUS, FLD_BOOL, FLD_MODE };

struct fld {
	const char	*name;
	enum fld_type	 type;
	size_t		 off;
	long		 max;
};

#define F(n, t, m)	{ #n, t, offsetof(struct sim_faults, n), m }

/* Every field of struct sim_faults, in the order GET shows them. */
static const struct fld flds[] = {
	F(latency_ms, FLD_MS, SIM_MAX_DELAY_MS),
	F(latency_jitter_ms, FLD_MS, SIM_MAX_DELAY_MS),
	F(latency_tail_ms, FLD_MS, SIM_MAX_DELAY_MS),
	F(tail_prob, FLD_PROB, 0),
	F(error_rate, FLD_PROB, 0),
	F(error_status, FLD_STATUS, 0),
	F(status, FLD_STATUS, 0),
	F(retry_after, FLD_LONG, 86400),
	F(hang, FLD_BOOL, 0),
	F(reset, FLD_BOOL, 0),
	F(down, FLD_BOOL, 0),
	F(garbage, FLD_BOOL, 0),
	F(truncated, FLD_BOOL, 0),
	F(wrong_shape, FLD_BOOL, 0),
	F(body_bytes, FLD_LONG, SIM_MAX_BODY_BYTES),
	F(drip_bytes_per_s, FLD_LONG, 1L << 30),
	F(error_mode, FLD_MODE, 0),
	F(status_page_delay_s, FLD_LONG, 86400),
};
#define NFLDS	(sizeof(flds) / sizeof(flds[0]))

#undef F

static const struct fld	*fld_find(const char *);
static int		 fld_set(const struct fld *, const cJSON *,
			    struct sim_faults *, char *, size_t);
static int		 mode_set(const struct fld *, const cJSON *, int *,
			    char *, size_t);

void
sim_faults_clear(struct sim_faults *f)
{
	memset(f, 0, sizeof(*f));
}

static const struct fld *
fld_find(const char *name)
{
	size_t i;

	for (i = 0; i < NFLDS; i++)
		if (strcmp(flds[i].name, name) == 0)
			return &flds[i];
	return NULL;
}

/*
 * Store JSON value v into field d of f, checking type and range.
 * Returns 0, or -1 with a message naming the field in err.
 */
static int
fld_set(const struct fld *d, const cJSON *v, struct sim_faults *f, char *err,
    size_t errlen)
{
	char *p = (char *)f + d->off;
	double x;

	switch (d->type) {
	case FLD_BOOL:
		if (cJSON_IsBool(v))
			*(int *)p = cJSON_IsTrue(v);
		else if (cJSON_IsNumber(v) && (v->valuedouble == 0 ||
		    v->valuedouble == 1))
			*(int *)p = v->valuedouble == 1;
		else {
			snprintf(err, errlen, "%s: expected true or false",
			    d->name);
			return -1;
		}
		return 0;
	case FLD_PROB:
		if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0.0 &&
		    v->valuedouble <= 1.0)) {
			snprintf(err, errlen, "%s: expected a number in 0..1",
			    d->name);
			return -1;
		}
		*(double *)p = v->valuedouble;
		return 0;
	case FLD_STATUS:
		x = cJSON_IsNumber(v) ? v->valuedouble : -1;
		if (x != floor(x) || (x != 0 && (x < 100 || x > 599))) {
			snprintf(err, errlen, "%s: expected 0 or an HTTP status"
			    " 100..599", d->name);
			return -1;
		}
		*(int *)p = (int)x;
		return 0;
	case FLD_MODE:
		return mode_set(d, v, (int *)p, err, errlen);
	case FLD_MS:
	case FLD_LONG:
		x = cJSON_IsNumber(v) ? v->valuedouble : -1;
		if (x != floor(x) || x < 0 || x > (double)d->max) {
			snprintf(err, errlen, "%s: expected an integer in "
			    "0..%ld", d->name, d->max);
			return -1;
		}
		*(long *)p = (long)x;
		return 0;
	}
	return -1;
}

/*
 * An error mode by name (errors.c), "" or null for none.  An unknown
 * name is refused with the list of modes, cut to errlen.
 */
static int
mode_set(const struct fld *d, const cJSON *v, int *mode, char *err,
    size_t errlen)
{
	int m, n;

	if (cJSON_IsNull(v) || (cJSON_IsString(v) &&
	    v->valuestring[0] == '\0')) {
		*mode = 0;
		return 0;
	}
	if (cJSON_IsString(v) && (m = sim_err_find(v->valuestring)) != 0) {
		*mode = m;
		return 0;
	}
	n = snprintf(err, errlen, "%s: %s%.40s%s; modes: ", d->name,
	    cJSON_IsString(v) ? "unknown mode '" : "expected a mode name",
	    cJSON_IsString(v) ? v->valuestring : "",
	    cJSON_IsString(v) ? "'" : "");
	if (n > 0 && (size_t)n < errlen)
		sim_err_list(err + n, errlen - (size_t)n);
	return -1;
}

/*
 * Apply the fields of JSON object o over *f.  "clear": true first resets
 * every field, whatever its place in the object, so {"clear": true,
 * "hang": true} means only a hang.  All or nothing: on any unknown
 * field, wrong type or out-of-range value *f is left unchanged and -1
 * returned with a message in err.
 */
int
sim_faults_parse(const cJSON *o, struct sim_faults *f, char *err,
    size_t errlen)
{
	struct sim_faults tmp = *f;
	const struct fld *d;
	const cJSON *v, *c;

	if (!cJSON_IsObject(o)) {
		snprintf(err, errlen, "faults: expected a JSON object");
		return -1;
	}
	if ((c = cJSON_GetObjectItemCaseSensitive(o, "clear")) != NULL) {
		if (!cJSON_IsBool(c)) {
			snprintf(err, errlen, "clear: expected true or false");
			return -1;
		}
		if (cJSON_IsTrue(c))
			sim_faults_clear(&tmp);
	}
	cJSON_ArrayForEach(v, o) {
		if (v->string != NULL && strcmp(v->string, "clear") == 0)
			continue;
		if (v->string != NULL && sim_gen_field(v->string)) {
			if (sim_gen_parse(v, &tmp.gen, err, errlen) == -1)
				return -1;
			continue;
		}
		if (v->string != NULL && sim_rl_field(v->string)) {
			if (sim_rl_parse(v, &tmp.ratelimit,
			    &tmp.retry_after_form, err, errlen) == -1)
				return -1;
			continue;
		}
		if (v->string == NULL || (d = fld_find(v->string)) == NULL) {
			snprintf(err, errlen, "unknown field '%.40s'",
			    v->string != NULL ? v->string : "");
			return -1;
		}
		if (fld_set(d, v, &tmp, err, errlen) == -1)
			return -1;
	}
	*f = tmp;
	return 0;
}

/* Every field of f as a JSON object (NULL when out of memory). */
cJSON *
sim_faults_json(const struct sim_faults *f)
{
	const char *p;
	cJSON *o;
	size_t i;

	if ((o = cJSON_CreateObject()) == NULL)
		return NULL;
	for (i = 0; i < NFLDS; i++) {
		p = (const char *)f + flds[i].off;
		switch (flds[i].type) {
		case FLD_BOOL:
			cJSON_AddBoolToObject(o, flds[i].name, *(const int *)p);
			break;
		case FLD_PROB:
			cJSON_AddNumberToObject(o, flds[i].name,
			    *(const double *)p);
			break;
		case FLD_STATUS:
			cJSON_AddNumberToObject(o, flds[i].name,
			    *(const int *)p);
			break;
		case FLD_MODE:
			if (sim_err_row(*(const int *)p) != NULL)
				cJSON_AddStringToObject(o, flds[i].name,
				    sim_err_row(*(const int *)p)->mode);
			else
				cJSON_AddNullToObject(o, flds[i].name);
			break;
		default:
			cJSON_AddNumberToObject(o, flds[i].name,
			    (double)*(const long *)p);
			break;
		}
	}
	sim_rl_json(o, &f->ratelimit, f->retry_after_form);
	sim_gen_json(o, &f->gen);
	return o;
}

/* Count one answer with status st. */
void
sim_counters_status(struct sim_counters *c, int st)
{
	int i;

	c->answered++;
	for (i = 0; i < c->nstatus; i++)
		if (c->by_status[i].status == st) {
			c->by_status[i].n++;
			return;
		}
	if (c->nstatus < SIM_MAX_STATUS) {
		c->by_status[c->nstatus].status = st;
		c->by_status[c->nstatus].n = 1;
		c->nstatus++;
	}
}

cJSON *
sim_counters_json(const struct sim_counters *c)
{
	cJSON *o, *bs;
	char k[16];
	int i;

	if ((o = cJSON_CreateObject()) == NULL)
		return NULL;
	cJSON_AddNumberToObject(o, "requests", (double)c->requests);
	cJSON_AddNumberToObject(o, "answered", (double)c->answered);
	cJSON_AddNumberToObject(o, "injected", (double)c->injected);
	cJSON_AddNumberToObject(o, "resets", (double)c->resets);
	cJSON_AddNumberToObject(o, "hangs", (double)c->hangs);
	cJSON_AddNumberToObject(o, "truncated", (double)c->truncated);
	cJSON_AddNumberToObject(o, "client_closed", (double)c->client_closed);
	cJSON_AddNumberToObject(o, "held", (double)c->held);
	cJSON_AddNumberToObject(o, "rate_limited", (double)c->rate_limited);
	if ((bs = cJSON_AddObjectToObject(o, "by_status")) != NULL)
		for (i = 0; i < c->nstatus; i++) {
			snprintf(k, sizeof(k), "%d", c->by_status[i].status);
			cJSON_AddNumberToObject(bs, k,
			    (double)c->by_status[i].n);
		}
	return o;
}

/* xorshift64*: fast, seedable, good enough for fault dice. */
uint64_t
sim_rand(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/* Uniform in [0, 1). */
double
sim_rand01(uint64_t *s)
{
	return (double)(sim_rand(s) >> 11) * (1.0 / 9007199254740992.0);
}

/*
 * The delay before this answer, in ms: latency_ms, plus a uniform draw
 * in [0, latency_jitter_ms], plus latency_tail_ms with probability
 * tail_prob (a long tail, as real providers have).
 */
long
sim_faults_delay(const struct sim_faults *f, uint64_t *rng)
{
	long d = f->latency_ms;

	if (f->latency_jitter_ms > 0)
		d += (long)(sim_rand(rng) % (uint64_t)(f->latency_jitter_ms +
		    1));
	if (f->latency_tail_ms > 0 && f->tail_prob > 0 &&
	    sim_rand01(rng) < f->tail_prob)
		d += f->latency_tail_ms;
	return d;
}
