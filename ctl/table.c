/*
 * table.c - vigilctl's tables described as columns: a heading, an
 * alignment, and the function that makes a row's cell from the row's
 * fields.  A command lists its columns; table_of and table_add do the
 * rest, so that no command writes its headings and cells by hand.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <msgpack.h>

#include "ctl.h"
#include "frame.h"

static const msgpack_object *cell_src(const msgpack_object *,
		    const struct tcol *);

/* A table with the columns' headings. */
struct table *
table_of(const struct tcol *cols, size_t ncols)
{
	struct table *t;
	size_t i;

	if ((t = table_new(ncols)) == NULL)
		return NULL;
	for (i = 0; i < ncols; i++)
		table_head(t, i, cols[i].tc_head, cols[i].tc_align);
	return t;
}

/* A new row of row's cells; a column without tc_cell is left to the
 * caller (table_set on the same row). */
void
table_add(struct table *t, const struct tcol *cols, size_t ncols,
    const msgpack_object *row)
{
	size_t i;

	if (table_row(t) == -1)
		return;
	for (i = 0; i < ncols; i++)
		if (cols[i].tc_cell != NULL)
			cols[i].tc_cell(t, i, row, &cols[i]);
}

/*
 * A string field as read for display: "-" when absent or not a string,
 * cut to len - 1 bytes.  Returns buf.
 */
const char *
mp_str_of(const msgpack_object *m, const char *k, char *buf, size_t len)
{
	const msgpack_object *o = mp_get(m, k);
	size_t n;

	if (o == NULL || o->type != MSGPACK_OBJECT_STR) {
		snprintf(buf, len, "-");
		return buf;
	}
	n = o->via.str.size < len - 1 ? o->via.str.size : len - 1;
	memcpy(buf, o->via.str.ptr, n);
	buf[n] = '\0';
	return buf;
}

uint64_t
mp_uint_of(const msgpack_object *m, const char *k)
{
	uint64_t v = 0;

	(void)mp_get_uint(m, k, &v);
	return v;
}

double
mp_dbl_of(const msgpack_object *m, const char *k)
{
	double v = 0;

	(void)mp_get_double(m, k, &v);
	return v;
}

int
mp_bool_of(const msgpack_object *m, const char *k)
{
	int v = 0;

	(void)mp_get_bool(m, k, &v);
	return v;
}

/* ---- cells: tc_key names the field, tc_sub the map it is in ---- */

static const msgpack_object *
cell_src(const msgpack_object *row, const struct tcol *c)
{
	return c->tc_sub == NULL ? row : mp_get(mp_get(row, "windows"),
	    c->tc_sub);
}

void
cell_str(struct table *t, size_t col, const msgpack_object *row,
    const struct tcol *c)
{
	char b[256];

	table_set(t, col, "%s", mp_str_of(cell_src(row, c), c->tc_key, b,
	    sizeof(b)));
}

/* A status-like word, coloured when the table is printed in colour. */
void
cell_word(struct table *t, size_t col, const msgpack_object *row,
    const struct tcol *c)
{
	char b[256];

	mp_str_of(cell_src(row, c), c->tc_key, b, sizeof(b));
	table_set(t, col, "%s", b);
	table_color(t, col, fmt_word_color(b));
}

void
cell_uint(struct table *t, size_t col, const msgpack_object *row,
    const struct tcol *c)
{
	table_set(t, col, "%" PRIu64, mp_uint_of(cell_src(row, c),
	    c->tc_key));
}

/* A number where 0 means none: "-". */
void
cell_uint_or_dash(struct table *t, size_t col, const msgpack_object *row,
    const struct tcol *c)
{
	uint64_t v = mp_uint_of(cell_src(row, c), c->tc_key);

	if (v != 0)
		table_set(t, col, "%" PRIu64, v);
	else
		table_set(t, col, "-");
}

/* p50/p95/p99 in ms (the row's or its window's p50_ms, ...). */
void
cell_pcts(struct table *t, size_t col, const msgpack_object *row,
    const struct tcol *c)
{
	const msgpack_object *o = cell_src(row, c);
	char p50[16], p95[16], p99[16];

	fmt_ms(p50, sizeof(p50), mp_dbl_of(o, "p50_ms"));
	fmt_ms(p95, sizeof(p95), mp_dbl_of(o, "p95_ms"));
	fmt_ms(p99, sizeof(p99), mp_dbl_of(o, "p99_ms"));
	table_set(t, col, "%s/%s/%s", p50, p95, p99);
}

/* A number through the column's formatter: tc_dfmt (a double: fmt_ms,
 * fmt_rate) or tc_ufmt (an integer: fmt_time, fmt_duration). */
void
cell_fmt(struct table *t, size_t col, const msgpack_object *row,
    const struct tcol *c)
{
	const msgpack_object *o = cell_src(row, c);
	char b[64];

	if (c->tc_dfmt != NULL)
		c->tc_dfmt(b, sizeof(b), mp_dbl_of(o, c->tc_key));
	else
		c->tc_ufmt(b, sizeof(b), mp_uint_of(o, c->tc_key));
	table_set(t, col, "%s", b);
}

void
cell_yesno(struct table *t, size_t col, const msgpack_object *row,
    const struct tcol *c)
{
	table_set(t, col, "%s", mp_bool_of(cell_src(row, c), c->tc_key) ?
	    "yes" : "no");
}
