/*
 * json.c - msgpack replies as JSON for --json, and JSON arguments of
 * `vigilctl raw` as msgpack, both through cJSON.
 *
 * Integers are written as raw JSON digits rather than cJSON numbers: a
 * cJSON number is a double, and nanosecond times (about 1.8e18) would
 * lose their last digits.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <msgpack.h>

#include "ctl.h"
#include "frame.h"

#define JSON_DEPTH_MAX	64

static cJSON	*json_from_mp_depth(const msgpack_object *, int);
static cJSON	*json_string_n(const char *, size_t);
static int	json_pack(msgpack_packer *, const cJSON *, int, char *,
		    size_t);

/* A JSON string from counted bytes (cJSON wants a C string). */
static cJSON *
json_string_n(const char *p, size_t n)
{
	cJSON *j;
	char *s;

	if ((s = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(s, p, n);
	s[n] = '\0';
	j = cJSON_CreateString(s);
	free(s);
	return j;
}

static cJSON *
json_from_mp_depth(const msgpack_object *o, int depth)
{
	cJSON *j, *v;
	char num[32], *key;
	uint32_t i;

	if (depth > JSON_DEPTH_MAX)
		return cJSON_CreateNull();
	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		return cJSON_CreateNull();
	case MSGPACK_OBJECT_BOOLEAN:
		return cJSON_CreateBool(o->via.boolean);
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		snprintf(num, sizeof(num), "%" PRIu64, o->via.u64);
		return cJSON_CreateRaw(num);
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		snprintf(num, sizeof(num), "%" PRId64, o->via.i64);
		return cJSON_CreateRaw(num);
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		/* JSON has no NaN or infinity. */
		if (!isfinite(o->via.f64))
			return cJSON_CreateNull();
		return cJSON_CreateNumber(o->via.f64);
	case MSGPACK_OBJECT_STR:
		return json_string_n(o->via.str.ptr, o->via.str.size);
	case MSGPACK_OBJECT_ARRAY:
		if ((j = cJSON_CreateArray()) == NULL)
			return NULL;
		for (i = 0; i < o->via.array.size; i++) {
			if ((v = json_from_mp_depth(&o->via.array.ptr[i],
			    depth + 1)) == NULL) {
				cJSON_Delete(j);
				return NULL;
			}
			cJSON_AddItemToArray(j, v);
		}
		return j;
	case MSGPACK_OBJECT_MAP:
		if ((j = cJSON_CreateObject()) == NULL)
			return NULL;
		for (i = 0; i < o->via.map.size; i++) {
			const msgpack_object *k = &o->via.map.ptr[i].key;

			if (k->type == MSGPACK_OBJECT_STR) {
				key = malloc(k->via.str.size + 1);
				if (key != NULL) {
					memcpy(key, k->via.str.ptr,
					    k->via.str.size);
					key[k->via.str.size] = '\0';
				}
			} else if (k->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
				snprintf(num, sizeof(num), "%" PRIu64,
				    k->via.u64);
				key = strdup(num);
			} else
				key = strdup("?");
			v = json_from_mp_depth(&o->via.map.ptr[i].val,
			    depth + 1);
			if (key == NULL || v == NULL) {
				free(key);
				cJSON_Delete(v);
				cJSON_Delete(j);
				return NULL;
			}
			cJSON_AddItemToObject(j, key, v);
			free(key);
		}
		return j;
	default:
		/* bin and ext: nothing in the protocol sends them. */
		return cJSON_CreateNull();
	}
}

cJSON *
json_from_mp(const msgpack_object *o)
{
	return json_from_mp_depth(o, 0);
}

static int
json_pack(msgpack_packer *pk, const cJSON *j, int depth, char *err,
    size_t errlen)
{
	const cJSON *c;
	double d;
	uint32_t n;

	if (depth > JSON_DEPTH_MAX) {
		snprintf(err, errlen, "JSON nested deeper than %d",
		    JSON_DEPTH_MAX);
		return -1;
	}
	if (cJSON_IsNull(j))
		msgpack_pack_nil(pk);
	else if (cJSON_IsTrue(j))
		msgpack_pack_true(pk);
	else if (cJSON_IsFalse(j))
		msgpack_pack_false(pk);
	else if (cJSON_IsNumber(j)) {
		d = j->valuedouble;
		if (d == floor(d) && d >= 0 && d < 18446744073709551616.0)
			msgpack_pack_uint64(pk, (uint64_t)d);
		else if (d == floor(d) && d < 0 &&
		    d >= -9223372036854775808.0)
			msgpack_pack_int64(pk, (int64_t)d);
		else
			msgpack_pack_double(pk, d);
	} else if (cJSON_IsString(j))
		mp_str(pk, j->valuestring);
	else if (cJSON_IsArray(j) || cJSON_IsObject(j)) {
		n = 0;
		cJSON_ArrayForEach(c, j)
			n++;
		if (cJSON_IsArray(j))
			msgpack_pack_array(pk, n);
		else
			msgpack_pack_map(pk, n);
		cJSON_ArrayForEach(c, j) {
			if (cJSON_IsObject(j))
				mp_str(pk, c->string);
			if (json_pack(pk, c, depth + 1, err, errlen) == -1)
				return -1;
		}
	} else {
		snprintf(err, errlen, "unsupported JSON value");
		return -1;
	}
	return 0;
}

int
json_to_mp(const char *text, msgpack_sbuffer *sb, char *err, size_t errlen)
{
	msgpack_packer pk;
	cJSON *j;
	int rc;

	if ((j = cJSON_Parse(text)) == NULL) {
		const char *at = cJSON_GetErrorPtr();

		snprintf(err, errlen, "not valid JSON%s%.20s%s",
		    at != NULL ? " near \"" : "", at != NULL ? at : "",
		    at != NULL ? "\"" : "");
		return -1;
	}
	if (!cJSON_IsObject(j)) {
		snprintf(err, errlen, "the arguments must be a JSON object");
		cJSON_Delete(j);
		return -1;
	}
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	rc = json_pack(&pk, j, 0, err, errlen);
	cJSON_Delete(j);
	return rc;
}
