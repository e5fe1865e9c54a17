/*
 * test_ctl.c - vigilctl's formatting (latencies, rates, durations, ages,
 * times, the time arguments), its tables, and msgpack <-> JSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <msgpack.h>

#include "../../ctl/ctl.h"
#include "frame.h"
#include "t.h"

#define SEC	1000000000ull

static void	test_fmt_ms(void);
static void	test_fmt_rate(void);
static void	test_fmt_duration(void);
static void	test_fmt_age_time(void);
static void	test_parse_time(void);
static void	test_table(void);
static void	test_json_from_mp(void);
static void	test_json_to_mp(void);
static char	*table_text(struct table *, int);

static void
test_fmt_ms(void)
{
	char b[32];

	fmt_ms(b, sizeof(b), 0);
	T_CHECK(strcmp(b, "-") == 0);
	fmt_ms(b, sizeof(b), -1);
	T_CHECK(strcmp(b, "-") == 0);
	fmt_ms(b, sizeof(b), 0.346);
	T_CHECKF(strcmp(b, "0.35") == 0, "%s", b);
	fmt_ms(b, sizeof(b), 12.44);
	T_CHECKF(strcmp(b, "12.4") == 0, "%s", b);
	fmt_ms(b, sizeof(b), 182.4);
	T_CHECKF(strcmp(b, "182") == 0, "%s", b);
	fmt_ms(b, sizeof(b), 12345);
	T_CHECKF(strcmp(b, "12.3s") == 0, "%s", b);
}

static void
test_fmt_rate(void)
{
	char b[32];

	fmt_rate(b, sizeof(b), 0);
	T_CHECK(strcmp(b, "0%") == 0);
	fmt_rate(b, sizeof(b), 0.125);
	T_CHECKF(strcmp(b, "12.5%") == 0, "%s", b);
	fmt_rate(b, sizeof(b), 1);
	T_CHECK(strcmp(b, "100%") == 0);
	fmt_rate(b, sizeof(b), 0.0004);
	T_CHECKF(strcmp(b, "<0.1%") == 0, "%s", b);
}

static void
test_fmt_duration(void)
{
	static const struct { uint64_t ms; const char *s; } cases[] = {
		{ 0, "0ms" }, { 500, "500ms" }, { 1000, "1s" },
		{ 30000, "30s" }, { 90000, "1m30s" }, { 120000, "2m" },
		{ 3600000, "1h" }, { 3900000, "1h5m" }, { 3601000, "1h" },
		{ 86400000ull * 3 + 3600000ull * 4, "3d4h" } };
	char b[32];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fmt_duration(b, sizeof(b), cases[i].ms);
		T_CHECKF(strcmp(b, cases[i].s) == 0, "%llu ms: %s, want %s",
		    (unsigned long long)cases[i].ms, b, cases[i].s);
	}
}

static void
test_fmt_age_time(void)
{
	uint64_t now = 1795925525ull * SEC;
	char b[64];

	fmt_age(b, sizeof(b), now, 0);
	T_CHECK(strcmp(b, "never") == 0);
	fmt_age(b, sizeof(b), now, now - SEC / 2);
	T_CHECK(strcmp(b, "just now") == 0);
	fmt_age(b, sizeof(b), now, now - 3 * SEC - SEC / 3);
	T_CHECKF(strcmp(b, "3s ago") == 0, "%s", b);
	fmt_age(b, sizeof(b), now, now - 150 * SEC);
	T_CHECKF(strcmp(b, "2m30s ago") == 0, "%s", b);
	fmt_age(b, sizeof(b), now, now + 1800 * SEC);
	T_CHECKF(strcmp(b, "in 30m") == 0, "%s", b);
	fmt_time(b, sizeof(b), 0);
	T_CHECK(strcmp(b, "-") == 0);
	fmt_time(b, sizeof(b), 1764342245ull * SEC + 999);
	T_CHECKF(strcmp(b, "2025-11-28T15:04:05Z") == 0, "%s", b);
}

static void
test_parse_time(void)
{
	uint64_t now = 1795925525ull * SEC, ns;

	T_CHECK(fmt_parse_time("1h", now, &ns) == 0 && ns == now - 3600 * SEC);
	T_CHECK(fmt_parse_time("30m", now, &ns) == 0 && ns == now - 1800 * SEC);
	T_CHECK(fmt_parse_time("500ms", now, &ns) == 0 &&
	    ns == now - SEC / 2);
	T_CHECK(fmt_parse_time("now", now, &ns) == 0 && ns == now);
	T_CHECK(fmt_parse_time("@1764342245", now, &ns) == 0 &&
	    ns == 1764342245ull * SEC);
	T_CHECK(fmt_parse_time("2025-11-28T15:04:05Z", now, &ns) == 0 &&
	    ns == 1764342245ull * SEC);
	T_CHECK(fmt_parse_time("2025-11-28T15:04:05", now, &ns) == 0 &&
	    ns == 1764342245ull * SEC);
	T_CHECK(fmt_parse_time("2025-11-28", now, &ns) == 0 &&
	    ns == 1764288000ull * SEC);
	T_CHECK(fmt_parse_time("", now, &ns) == -1);
	T_CHECK(fmt_parse_time("soon", now, &ns) == -1);
	T_CHECK(fmt_parse_time("@", now, &ns) == -1);
	T_CHECK(fmt_parse_time("@12x", now, &ns) == -1);
	T_CHECK(fmt_parse_time("2025-11-28T15:04:05+02:00", now, &ns) == -1);
	T_CHECK(fmt_parse_time("2025-13-40", now, &ns) == -1);
	/* Further back than the epoch: clamped, not wrapped. */
	T_CHECK(fmt_parse_time("1h", 10 * SEC, &ns) == 0 && ns == 0);
}

/* What table_print writes, as a string to free. */
static char *
table_text(struct table *t, int color)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp;

	if ((fp = open_memstream(&buf, &len)) == NULL)
		return NULL;
	table_print(t, fp, color);
	fclose(fp);
	return buf;
}

static void
test_table(void)
{
	struct table *t;
	char *s;

	T_CHECK((t = table_new(3)) != NULL);
	table_head(t, 0, "NAME", TBL_LEFT);
	table_head(t, 1, "MS", TBL_RIGHT);
	table_head(t, 2, "NOTE", TBL_LEFT);
	table_row(t);
	table_set(t, 0, "openai");
	table_set(t, 1, "%d", 182);
	table_set(t, 2, "stale");
	table_color(t, 2, "31");
	table_row(t);
	table_set(t, 0, "qwen");
	table_set(t, 1, "%d", 7);
	/* Control characters from the server never reach the terminal. */
	table_set(t, 2, "a\033[2Jb\nc");
	s = table_text(t, 0);
	T_CHECKF(s != NULL && strcmp(s,
	    "NAME     MS  NOTE\n"
	    "openai  182  stale\n"
	    "qwen      7  a?[2Jb?c\n") == 0, "\n%s", s);
	free(s);
	s = table_text(t, 1);
	T_CHECKF(s != NULL && strstr(s, "openai  182  \033[31mstale\033[0m\n")
	    != NULL, "\n%s", s);
	free(s);
	table_free(t);

	/* Many rows: the table grows; an empty last cell leaves no blanks. */
	T_CHECK((t = table_new(2)) != NULL);
	table_head(t, 0, "A", TBL_LEFT);
	table_head(t, 1, "B", TBL_LEFT);
	for (int i = 0; i < 100; i++) {
		T_CHECK(table_row(t) == 0);
		table_set(t, 0, "row%d", i);
	}
	s = table_text(t, 0);
	T_CHECK(s != NULL && strstr(s, "row99\n") != NULL &&
	    strstr(s, "row7 \n") == NULL);
	free(s);
	table_free(t);
}

static void
test_json_from_mp(void)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked u;
	cJSON *j;
	char *s;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 7);
	mp_kv_uint(&pk, "at_ns", 1795925525563069816ull);
	mp_kv_int(&pk, "neg", -5);
	mp_kv_double(&pk, "lat", 0.25);
	mp_kv_bool(&pk, "stale", 0);
	mp_str(&pk, "nil");
	msgpack_pack_nil(&pk);
	mp_kv_str(&pk, "s", "a\"b");
	mp_str(&pk, "arr");
	msgpack_pack_array(&pk, 2);
	msgpack_pack_uint64(&pk, 1);
	msgpack_pack_double(&pk, 0.0 / 0.0);
	msgpack_unpacked_init(&u);
	T_CHECK(msgpack_unpack_next(&u, sb.data, sb.size, NULL) ==
	    MSGPACK_UNPACK_SUCCESS);
	T_CHECK((j = json_from_mp(&u.data)) != NULL);
	s = cJSON_PrintUnformatted(j);
	/* Every digit of a nanosecond time; NaN becomes null. */
	T_CHECKF(s != NULL && strcmp(s, "{\"at_ns\":1795925525563069816,"
	    "\"neg\":-5,\"lat\":0.25,\"stale\":false,\"nil\":null,"
	    "\"s\":\"a\\\"b\",\"arr\":[1,null]}") == 0, "%s", s);
	free(s);
	cJSON_Delete(j);
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);
}

static void
test_json_to_mp(void)
{
	msgpack_sbuffer sb;
	msgpack_unpacked u;
	const msgpack_object *o;
	char err[128], s[32];
	uint64_t v;
	int64_t iv;
	double d;

	msgpack_sbuffer_init(&sb);
	T_CHECK(json_to_mp("{\"provider\":\"a\",\"interval_ms\":30000,"
	    "\"neg\":-3,\"x\":1.5,\"l\":[true,null]}", &sb, err,
	    sizeof(err)) == 0);
	msgpack_unpacked_init(&u);
	T_CHECK(msgpack_unpack_next(&u, sb.data, sb.size, NULL) ==
	    MSGPACK_UNPACK_SUCCESS);
	T_CHECK(mp_get_str(&u.data, "provider", s, sizeof(s)) == 0 &&
	    strcmp(s, "a") == 0);
	/* An integral number is an unsigned integer: the server's
	 * mp_get_uint accepts it. */
	T_CHECK(mp_get_uint(&u.data, "interval_ms", &v) == 0 && v == 30000);
	T_CHECK(mp_get_int(&u.data, "neg", &iv) == 0 && iv == -3);
	T_CHECK(mp_get_double(&u.data, "x", &d) == 0 && d == 1.5);
	o = mp_get(&u.data, "l");
	T_CHECK(o != NULL && o->type == MSGPACK_OBJECT_ARRAY &&
	    o->via.array.size == 2);
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);

	msgpack_sbuffer_init(&sb);
	T_CHECK(json_to_mp("[1,2]", &sb, err, sizeof(err)) == -1 &&
	    strstr(err, "object") != NULL);
	T_CHECK(json_to_mp("{\"a\":", &sb, err, sizeof(err)) == -1 &&
	    strstr(err, "not valid JSON") != NULL);
	msgpack_sbuffer_destroy(&sb);
}

int
main(void)
{
	T_RUN(test_fmt_ms);
	T_RUN(test_fmt_rate);
	T_RUN(test_fmt_duration);
	T_RUN(test_fmt_age_time);
	T_RUN(test_parse_time);
	T_RUN(test_table);
	T_RUN(test_json_from_mp);
	T_RUN(test_json_to_mp);
	return t_done();
}
