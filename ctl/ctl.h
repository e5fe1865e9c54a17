/*
 * ctl.h - vigilctl's modules: the client connection (client.c), msgpack
 * and JSON conversion (json.c), and the formatting of values and tables
 * (fmt.c).  main.c holds the command line and the commands.
 *
 * Library style: nothing here logs or exits; errors go to the caller's
 * buffer and main.c decides the exit status.
 */
#ifndef VIGIL_CTL_H
#define VIGIL_CTL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cJSON.h>
#include <msgpack.h>

#define CTL_PROTOCOL		1	/* the protocol major we speak */
#define CTL_DEFAULT_SOCKET	"/run/vigil/control.sock"
#define CTL_DEFAULT_TIMEOUT_MS	30000

/* Exit statuses (docs/vigilctl.1, EXIT STATUS). */
#define CTL_EXIT_OK		0
#define CTL_EXIT_ERROR		1	/* the server answered with an error */
#define CTL_EXIT_USAGE		2
#define CTL_EXIT_CONNECT	2	/* cannot connect or talk to vigild (issue 6: usage or connection) */
#define CTL_EXIT_TIMEOUT	2	/* no reply in time: a connection error too */
#define CTL_EXIT_BUSY		3	/* the server said busy: try again later */

/* ---- client.c ---- */

struct ctl_client {
	int		 cc_fd;
	int		 cc_timeout_ms;
	uint64_t	 cc_next_id;
	/* From the hello reply. */
	uint64_t	 cc_protocol;
	char		 cc_version[64];
	uint64_t	 cc_pid;
	/* When hello was refused: the error code, and the group the
	 * server said to join (forbidden), "" if none. */
	char		 cc_refused_code[64];
	char		 cc_refused_group[64];
};

/*
 * The outcome of one call.  On CTL_EXIT_OK, msg holds the reply and
 * result points into it; on CTL_EXIT_ERROR, code and message hold the
 * server's error; otherwise message says what went wrong locally.
 */
struct ctl_reply {
	msgpack_unpacked	 msg;
	const msgpack_object	*result;
	char			 code[64];
	char			 message[1024];
	char			 group[64];	/* error.group, "" if none */
};

/* Connect to path.  Returns CTL_EXIT_OK or CTL_EXIT_CONNECT with err
 * filled (path and strerror, and a hint for EACCES). */
int	ctl_connect(struct ctl_client *, const char *path, int timeout_ms,
	    char *err, size_t errlen);
/* The hello handshake: CTL_EXIT_OK, or an exit status with err filled
 * (a protocol major other than CTL_PROTOCOL is CTL_EXIT_CONNECT). */
int	ctl_hello(struct ctl_client *, char *err, size_t errlen);
/*
 * Send {"id", "op", "args"} where args is a packed msgpack map (NULL for
 * an empty one) and wait for the reply with the same id.  Returns an
 * exit status; r must be released with ctl_reply_free either way.
 */
int	ctl_call(struct ctl_client *, const char *op, const char *args,
	    size_t argslen, struct ctl_reply *r);
void	ctl_reply_free(struct ctl_reply *);
void	ctl_close(struct ctl_client *);

/* ---- json.c ---- */

/* A msgpack object as JSON.  Integers keep every digit (nanosecond
 * times exceed a double's 53 bits).  NULL only when out of memory. */
cJSON	*json_from_mp(const msgpack_object *);
/*
 * Parse JSON text that must be an object and pack it as a msgpack map
 * into sb: integral numbers become integers, other numbers doubles.
 * Returns 0, or -1 with err filled.
 */
int	json_to_mp(const char *text, msgpack_sbuffer *sb, char *err,
	    size_t errlen);

/* ---- fmt.c ---- */

/* Latency in ms: "182", "12.4", "0.35", "1.20s"; "-" for none (<= 0). */
void	fmt_ms(char *buf, size_t len, double ms);
/* A fraction 0..1 as a percentage, "0%", "12.5%", "100%". */
void	fmt_rate(char *buf, size_t len, double rate);
/* A duration in ms, most significant units: "500ms", "30s", "2m30s",
 * "1h5m", "3d4h". */
void	fmt_duration(char *buf, size_t len, uint64_t ms);
/* The age of at_ns at now_ns: "3s ago", "2m ago", "in 5m" (future). */
void	fmt_age(char *buf, size_t len, uint64_t now_ns, uint64_t at_ns);
/* RFC 3339 UTC, second precision; "-" for 0. */
void	fmt_time(char *buf, size_t len, uint64_t ns);
/*
 * A point in time for --since/--from/--to: a duration before now ("1h",
 * "30m", "90s"), "now", an RFC 3339 UTC time ("2026-11-28T15:04:05Z"),
 * or "@SECONDS" since the epoch.  Returns 0 with *ns set, or -1.
 */
int	fmt_parse_time(const char *s, uint64_t now_ns, uint64_t *ns);
uint64_t fmt_now_ns(void);

/* A table printed with aligned columns; colour only on the status-like
 * cells the caller marks. */
struct table;

#define TBL_LEFT	0
#define TBL_RIGHT	1

struct table	*table_new(size_t ncols);
/* Column heading and alignment. */
void	table_head(struct table *, size_t col, const char *name, int align);
/* Start a new row; the following table_set calls fill it. */
int	table_row(struct table *);
void	table_set(struct table *, size_t col, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Colour of the current row's cell: an SGR code such as "32", or NULL. */
void	table_color(struct table *, size_t col, const char *sgr);
/* Print with two spaces between columns, no trailing blanks. */
void	table_print(struct table *, FILE *, int color);
void	table_free(struct table *);
/* The SGR colour of a status, circuit, trend or outcome word, or NULL. */
const char *fmt_word_color(const char *word);

/* ---- table.c ---- */

/*
 * A column: heading, alignment, and the cell made from a row (a msgpack
 * map) by tc_cell, reading field tc_key of the row or, with tc_sub, of
 * the row's windows.tc_sub.  tc_cell NULL: the caller sets the cell.
 */
struct tcol {
	const char	*tc_head;
	int		 tc_align;
	void		(*tc_cell)(struct table *, size_t,
			    const msgpack_object *, const struct tcol *);
	const char	*tc_key;
	const char	*tc_sub;
	/* cell_fmt's formatter: of a double, or of an integer. */
	void		(*tc_dfmt)(char *, size_t, double);
	void		(*tc_ufmt)(char *, size_t, uint64_t);
};

#define NCOLS(cols)	(sizeof(cols) / sizeof((cols)[0]))

struct table	*table_of(const struct tcol *, size_t ncols);
/* A new row made of row's cells. */
void	table_add(struct table *, const struct tcol *, size_t ncols,
	    const msgpack_object *row);

/* A field of a msgpack map for display: "-", 0 or false when absent. */
const char *mp_str_of(const msgpack_object *, const char *, char *, size_t);
uint64_t mp_uint_of(const msgpack_object *, const char *);
double	mp_dbl_of(const msgpack_object *, const char *);
int	mp_bool_of(const msgpack_object *, const char *);

/* Cells, each of tc_key: as it is, a coloured status word, a number (0
 * as "-"), p50/p95/p99 ms, through tc_dfmt or tc_ufmt, yes/no. */
#define TCELL(name)	void name(struct table *, size_t, \
			    const msgpack_object *, const struct tcol *)
TCELL(cell_str);
TCELL(cell_word);
TCELL(cell_uint);
TCELL(cell_uint_or_dash);
TCELL(cell_pcts);
TCELL(cell_fmt);
TCELL(cell_yesno);

#endif /* VIGIL_CTL_H */
