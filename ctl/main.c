/*
 * vigilctl - the operator's command line over vigild's control socket.
 *
 *	vigilctl [-s SOCKET | -c CONFIG] [-j] [-t TIMEOUT] COMMAND [ARGS]
 *
 * Each run connects, says hello (refusing a server of another protocol
 * major), sends one request, prints its result as a table or, with
 * --json, as JSON, and exits 0 (ok), 1 (the server's error), 2 (usage,
 * cannot connect or talk to vigild, timeout) or 3 (the server is busy:
 * try again later).  See
 * docs/vigilctl.1 and docs/control-protocol.md.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>
#include <msgpack.h>

#include "conf.h"
#include "ctl.h"
#include "frame.h"

#ifndef VIGIL_VERSION
#define VIGIL_VERSION "unknown"
#endif

struct ctx {
	const char		*x_socket;
	int			 x_timeout_ms;
	int			 x_json;
	int			 x_color;
	int			 x_connected;
	struct ctl_client	 x_cc;
	char			 x_sockbuf[PATH_MAX];
};

struct cmd {
	const char	*c_name;
	const char	*c_args;	/* synopsis after the name */
	const char	*c_help;	/* what it does, one line */
	const char	*c_more;	/* options, or NULL */
	int		(*c_fn)(struct ctx *, const struct cmd *, int,
			    char **);
};

static int	cmd_ping(struct ctx *, const struct cmd *, int, char **);
static int	cmd_version(struct ctx *, const struct cmd *, int, char **);
static int	cmd_status(struct ctx *, const struct cmd *, int, char **);
static int	cmd_providers(struct ctx *, const struct cmd *, int, char **);
static int	cmd_probe(struct ctx *, const struct cmd *, int, char **);
static int	cmd_pause(struct ctx *, const struct cmd *, int, char **);
static int	cmd_interval(struct ctx *, const struct cmd *, int, char **);
static int	cmd_silence(struct ctx *, const struct cmd *, int, char **);
static int	cmd_alerts(struct ctx *, const struct cmd *, int, char **);
static int	cmd_history(struct ctx *, const struct cmd *, int, char **);
static int	cmd_simple(struct ctx *, const struct cmd *, int, char **);
static int	cmd_raw(struct ctx *, const struct cmd *, int, char **);

static void	usage(FILE *);
static int	usage_cmd(const struct cmd *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	help_cmd(const struct cmd *);
static int	want_help(int, char **);
static int	pull_json(int, char **, int *);
static int	ctl_run(struct ctx *, const char *, const msgpack_sbuffer *,
		    struct ctl_reply *);
static int	print_json(const msgpack_object *);
static int	per_name(struct ctx *, const struct ctl_reply *, const char *,
		    const char *);
static const char *str_of(const msgpack_object *, const char *, char *,
		    size_t);
static uint64_t	uint_of(const msgpack_object *, const char *);
static double	dbl_of(const msgpack_object *, const char *);
static int	bool_of(const msgpack_object *, const char *);
static void	set_word(struct ctx *, struct table *, size_t, const char *);
static void	status_table(struct ctx *, const msgpack_object *, uint64_t);
static void	status_detail(struct ctx *, const msgpack_object *, uint64_t);
static void	sample_row(struct ctx *, struct table *, const char *,
		    const msgpack_object *, uint64_t);
static int	provider_arg(const struct cmd *, const char *,
		    msgpack_packer *);

static const struct cmd cmds[] = {
	{ "ping", "", "check that vigild answers", NULL, cmd_ping },
	{ "version", "", "versions of vigilctl, vigild and the protocol",
	    NULL, cmd_version },
	{ "status", "[PROVIDER]", "health of every provider, or one in "
	    "detail", NULL, cmd_status },
	{ "providers", "", "the providers and their prober processes", NULL,
	    cmd_providers },
	{ "probe", "PROVIDER|all", "check now and show the fresh sample",
	    NULL, cmd_probe },
	{ "pause", "PROVIDER|all", "stop probing (status paused, no alerts)",
	    NULL, cmd_pause },
	{ "resume", "PROVIDER|all", "start probing again", NULL, cmd_pause },
	{ "interval", "PROVIDER|all DURATION", "set the probe interval "
	    "(e.g. 30s, 2m; 10s..300s)", NULL, cmd_interval },
	{ "silence", "PROVIDER|all DURATION [REASON...]", "record alerts but "
	    "do not deliver them for DURATION (a maintenance window)",
	    "  -r, --reason TEXT   why (also: the words after DURATION)\n",
	    cmd_silence },
	{ "unsilence", "PROVIDER|all", "deliver alerts again", NULL,
	    cmd_pause },
	{ "alerts", "[--since T] [--provider P] [--level L] [--limit N]",
	    "recent alerts, oldest first",
	    "  --since T      T: a duration ago (1h, 30m), an RFC 3339 UTC "
	    "time\n"
	    "                 (2026-11-28T15:04:05Z) or @UNIXSECONDS\n"
	    "  --provider P   only this provider\n"
	    "  --level L      warning, critical or resolved\n"
	    "  --limit N      at most N, the newest (default 100)\n",
	    cmd_alerts },
	{ "history", "PROVIDER [--since T | --from T] [--to T] [--step S] "
	    "[--limit N]", "the provider's history records",
	    "  --since T, --from T   from T (see alerts --since)\n"
	    "  --to T                until T (default now)\n"
	    "  --step S              raw, 1m, 5m, 15m or 1h (newest record "
	    "of each)\n"
	    "  --limit N             at most N points, the newest (default "
	    "1000)\n", cmd_history },
	{ "reload", "", "re-read the configuration (as SIGHUP)", NULL,
	    cmd_simple },
	{ "shutdown", "", "stop vigild and every child (as SIGTERM)", NULL,
	    cmd_simple },
	{ "raw", "OP [JSON-ARGS]", "send any operation; print the result as "
	    "JSON", NULL, cmd_raw },
};
#define NCMDS	(sizeof(cmds) / sizeof(cmds[0]))

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "socket",	required_argument,	NULL, 's' },
		{ "config",	required_argument,	NULL, 'c' },
		{ "json",	no_argument,		NULL, 'j' },
		{ "timeout",	required_argument,	NULL, 't' },
		{ "color",	required_argument,	NULL, 'C' },
		{ "no-color",	no_argument,		NULL, 'N' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "version",	no_argument,		NULL, 'V' },
		{ NULL,		0,			NULL, 0 }
	};
	struct ctx x;
	struct conf conf;
	const char *config = NULL, *color = "auto", *env;
	char err[CONF_ERR_MAX + 64];
	uint32_t ms;
	size_t i;
	int ch, rc;

	memset(&x, 0, sizeof(x));
	x.x_timeout_ms = CTL_DEFAULT_TIMEOUT_MS;
	/* "+": options end at the command; its own options follow it. */
	while ((ch = getopt_long(argc, argv, "+s:c:jt:hV", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			x.x_socket = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		case 'j':
			x.x_json = 1;
			break;
		case 't':
			if (conf_parse_duration(optarg, &ms) == -1 || ms == 0 ||
			    ms > 3600000) {
				fprintf(stderr, "vigilctl: -t %s: a duration "
				    "such as 500ms, 10s or 2m, at most 1h\n",
				    optarg);
				return CTL_EXIT_USAGE;
			}
			x.x_timeout_ms = (int)ms;
			break;
		case 'C':
			color = optarg;
			if (strcmp(color, "auto") != 0 &&
			    strcmp(color, "always") != 0 &&
			    strcmp(color, "never") != 0) {
				fprintf(stderr, "vigilctl: --color: auto, "
				    "always or never\n");
				return CTL_EXIT_USAGE;
			}
			break;
		case 'N':
			color = "never";
			break;
		case 'h':
			usage(stdout);
			return CTL_EXIT_OK;
		case 'V':
			printf("vigilctl %s (control protocol %d)\n",
			    VIGIL_VERSION, CTL_PROTOCOL);
			return CTL_EXIT_OK;
		default:
			usage(stderr);
			return CTL_EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		usage(stderr);
		return CTL_EXIT_USAGE;
	}
	if (strcmp(argv[0], "help") == 0) {
		if (argc < 2) {
			usage(stdout);
			return CTL_EXIT_OK;
		}
		argv++;
		argc--;
		for (i = 0; i < NCMDS; i++)
			if (strcmp(cmds[i].c_name, argv[0]) == 0) {
				help_cmd(&cmds[i]);
				return CTL_EXIT_OK;
			}
		fprintf(stderr, "vigilctl: no command \"%s\"\n", argv[0]);
		return CTL_EXIT_USAGE;
	}
	if (x.x_socket != NULL && config != NULL) {
		fprintf(stderr, "vigilctl: give -s or -c, not both\n");
		return CTL_EXIT_USAGE;
	}
	for (i = 0; i < NCMDS; i++)
		if (strcmp(cmds[i].c_name, argv[0]) == 0)
			break;
	if (i == NCMDS) {
		fprintf(stderr, "vigilctl: no command \"%s\" (vigilctl --help "
		    "lists them)\n", argv[0]);
		return CTL_EXIT_USAGE;
	}
	if (want_help(argc, argv)) {
		help_cmd(&cmds[i]);
		return CTL_EXIT_OK;
	}
	argc = pull_json(argc, argv, &x.x_json);
	if (config != NULL) {
		if (conf_load(&conf, config, err, sizeof(err)) == -1) {
			fprintf(stderr, "vigilctl: %s\n", err);
			return CTL_EXIT_USAGE;
		}
		snprintf(x.x_sockbuf, sizeof(x.x_sockbuf), "%s",
		    conf.control_socket);
		conf_free(&conf);
		x.x_socket = x.x_sockbuf;
	}
	if (x.x_socket == NULL)
		x.x_socket = CTL_DEFAULT_SOCKET;
	env = getenv("NO_COLOR");
	x.x_color = strcmp(color, "always") == 0 ||
	    (strcmp(color, "auto") == 0 && isatty(STDOUT_FILENO) &&
	    (env == NULL || *env == '\0') &&
	    ((env = getenv("TERM")) == NULL || strcmp(env, "dumb") != 0));
	rc = cmds[i].c_fn(&x, &cmds[i], argc, argv);
	if (x.x_connected)
		ctl_close(&x.x_cc);
	return rc;
}

static void
usage(FILE *fp)
{
	size_t i;

	fprintf(fp, "usage: vigilctl [-s SOCKET | -c CONFIG] [-j|--json] "
	    "[-t TIMEOUT] [--color WHEN]\n"
	    "                COMMAND [ARGS]\n\n"
	    "  -s, --socket PATH   control socket (default %s)\n"
	    "  -c, --config FILE   take control_socket from this vigil.conf\n"
	    "  -j, --json          print the result as JSON\n"
	    "  -t, --timeout T     wait at most T for a reply (default 30s)\n"
	    "  --color WHEN        auto (on a terminal), always or never\n"
	    "  -V, --version       vigilctl's version\n\n"
	    "commands:\n", CTL_DEFAULT_SOCKET);
	for (i = 0; i < NCMDS; i++)
		fprintf(fp, "  %-10s %s\n", cmds[i].c_name, cmds[i].c_help);
	fprintf(fp, "\nvigilctl COMMAND --help describes one command.  Exit "
	    "status: 0 ok, 1 the\nserver's error, 2 usage, 3 cannot connect, "
	    "4 timeout.\n");
}

static void
help_cmd(const struct cmd *c)
{
	printf("usage: vigilctl [OPTIONS] %s%s%s\n\n%s\n", c->c_name,
	    c->c_args[0] != '\0' ? " " : "", c->c_args, c->c_help);
	if (c->c_more != NULL)
		printf("\n%s", c->c_more);
}

static int
usage_cmd(const struct cmd *c, const char *fmt, ...)
{
	va_list ap;

	fputs("vigilctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: vigilctl [OPTIONS] %s%s%s\n", c->c_name,
	    c->c_args[0] != '\0' ? " " : "", c->c_args);
	return CTL_EXIT_USAGE;
}

static int
want_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return 0;
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return 1;
	}
	return 0;
}

/*
 * "vigilctl status --json" reads as naturally as "vigilctl --json
 * status": take -j/--json out of the command's arguments (up to "--").
 * Returns the new argc.
 */
static int
pull_json(int argc, char **argv, int *json)
{
	int i, j;

	for (i = 1, j = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			while (i < argc)
				argv[j++] = argv[i++];
			break;
		}
		if (strcmp(argv[i], "-j") == 0 ||
		    strcmp(argv[i], "--json") == 0) {
			*json = 1;
			continue;
		}
		argv[j++] = argv[i];
	}
	argv[j] = NULL;
	return j;
}

/*
 * Connect and say hello on first use, then one call.  Prints what went
 * wrong on stderr and returns the exit status; r is to be freed by the
 * caller only on CTL_EXIT_OK.
 */
static int
ctl_run(struct ctx *x, const char *op, const msgpack_sbuffer *args,
    struct ctl_reply *r)
{
	char err[1200];
	int rc;

	if (!x->x_connected) {
		if ((rc = ctl_connect(&x->x_cc, x->x_socket, x->x_timeout_ms,
		    err, sizeof(err))) != CTL_EXIT_OK) {
			fprintf(stderr, "vigilctl: %s\n", err);
			return rc;
		}
		x->x_connected = 1;
		if ((rc = ctl_hello(&x->x_cc, err, sizeof(err))) !=
		    CTL_EXIT_OK) {
			const char *g = x->x_cc.cc_refused_group;

			if (strcmp(x->x_cc.cc_refused_code, "busy") == 0) {
				fprintf(stderr, "vigilctl: server busy: %s\n",
				    err + strlen("busy: "));
				return CTL_EXIT_BUSY;
			}
			fprintf(stderr, "vigilctl: %s\n", err);
			if (strcmp(x->x_cc.cc_refused_code, "forbidden") == 0 &&
			    g[0] != '\0')
				fprintf(stderr, "vigilctl: hint: reading needs "
				    "the %s group (sudo usermod -aG %s $USER, "
				    "then log in again)\n", g, g);
			else if (strcmp(x->x_cc.cc_refused_code,
			    "forbidden") == 0)
				fprintf(stderr, "vigilctl: hint: reading needs "
				    "vigild's read_group (vigil.conf)\n");
			return rc;
		}
	}
	rc = ctl_call(&x->x_cc, op, args != NULL ? args->data : NULL,
	    args != NULL ? args->size : 0, r);
	if (rc == CTL_EXIT_ERROR && strcmp(r->code, "busy") == 0) {
		fprintf(stderr, "vigilctl: server busy: %s\n", r->message);
		rc = CTL_EXIT_BUSY;
	} else if (rc == CTL_EXIT_ERROR) {
		fprintf(stderr, "vigilctl: %s: %s\n", r->code, r->message);
		if (strcmp(r->code, "forbidden") == 0)
			fprintf(stderr, "vigilctl: hint: %s changes vigild: run "
			    "it as root or as a member of the admin group "
			    "(admin_group in vigil.conf)\n", op);
	} else if (rc != CTL_EXIT_OK)
		fprintf(stderr, "vigilctl: %s\n", r->message);
	if (rc != CTL_EXIT_OK)
		ctl_reply_free(r);
	return rc;
}

static int
print_json(const msgpack_object *o)
{
	cJSON *j;
	char *s;

	if ((j = json_from_mp(o)) == NULL || (s = cJSON_Print(j)) == NULL) {
		cJSON_Delete(j);
		fprintf(stderr, "vigilctl: out of memory\n");
		return CTL_EXIT_ERROR;
	}
	printf("%s\n", s);
	free(s);
	cJSON_Delete(j);
	return CTL_EXIT_OK;
}

/* ---- reading results ---- */

static const char *
str_of(const msgpack_object *m, const char *k, char *buf, size_t len)
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

static uint64_t
uint_of(const msgpack_object *m, const char *k)
{
	uint64_t v = 0;

	(void)mp_get_uint(m, k, &v);
	return v;
}

static double
dbl_of(const msgpack_object *m, const char *k)
{
	double v = 0;

	(void)mp_get_double(m, k, &v);
	return v;
}

static int
bool_of(const msgpack_object *m, const char *k)
{
	int v = 0;

	(void)mp_get_bool(m, k, &v);
	return v;
}

/* A status-like word, coloured on a terminal. */
static void
set_word(struct ctx *x, struct table *t, size_t col, const char *w)
{
	table_set(t, col, "%s", w);
	if (x->x_color)
		table_color(t, col, fmt_word_color(w));
}

/*
 * The result of an operation on "all": {name: {"ok", "result" |
 * "error"}}.  Prints one line per provider with done (or the error) and
 * returns 1 if any failed.  A single provider's {} prints "NAME: done".
 */
static int
per_name(struct ctx *x, const struct ctl_reply *r, const char *name,
    const char *done)
{
	const msgpack_object *res = r->result, *v, *sub;
	struct table *t;
	char code[64], msg[512];
	uint32_t i;
	int failed = 0;

	if (x->x_json)
		return print_json(res);
	if (strcmp(name, "all") != 0) {
		printf("%s: %s%s\n", name, done, bool_of(res, "pending_restart") ?
		    " (applies when its prober starts again)" : "");
		return CTL_EXIT_OK;
	}
	if (res->type != MSGPACK_OBJECT_MAP) {
		fprintf(stderr, "vigilctl: unexpected reply shape\n");
		return CTL_EXIT_CONNECT;
	}
	if ((t = table_new(3)) == NULL)
		return CTL_EXIT_ERROR;
	table_head(t, 0, "PROVIDER", TBL_LEFT);
	table_head(t, 1, "RESULT", TBL_LEFT);
	table_head(t, 2, "DETAIL", TBL_LEFT);
	for (i = 0; i < res->via.map.size; i++) {
		const msgpack_object *k = &res->via.map.ptr[i].key;

		v = &res->via.map.ptr[i].val;
		table_row(t);
		table_set(t, 0, "%.*s", k->type == MSGPACK_OBJECT_STR ?
		    (int)k->via.str.size : 1, k->type == MSGPACK_OBJECT_STR ?
		    k->via.str.ptr : "?");
		if (bool_of(v, "ok")) {
			sub = mp_get(v, "result");
			set_word(x, t, 1, "ok");
			table_set(t, 2, "%s%s", done,
			    bool_of(sub, "pending_restart") ? " (applies "
			    "when its prober starts again)" : "");
		} else {
			failed = 1;
			sub = mp_get(v, "error");
			set_word(x, t, 1, "error");
			table_set(t, 2, "%s: %s", str_of(sub, "code", code,
			    sizeof(code)), str_of(sub, "message", msg,
			    sizeof(msg)));
		}
	}
	if (res->via.map.size == 0)
		printf("no providers\n");
	else
		table_print(t, stdout, x->x_color);
	table_free(t);
	return failed ? CTL_EXIT_ERROR : CTL_EXIT_OK;
}

/*
 * "PROVIDER|all": a provider name as the protocol takes it (1..63 bytes
 * of what a section name may hold; the server checks it exists).
 */
static int
provider_arg(const struct cmd *c, const char *s, msgpack_packer *pk)
{
	if (s[0] == '\0' || strlen(s) >= 64 || s[0] == '-')
		return usage_cmd(c, "\"%s\" is not a provider name", s);
	mp_kv_str(pk, "provider", s);
	return CTL_EXIT_OK;
}

/* ---- commands ---- */

static int
cmd_ping(struct ctx *x, const struct cmd *c, int argc, char **argv)
{
	struct ctl_reply r;
	struct timespec t0, t1;
	double ms;
	int rc;

	(void)argv;
	if (argc != 1)
		return usage_cmd(c, "ping takes no arguments");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((rc = ctl_run(x, "ping", NULL, &r)) != CTL_EXIT_OK)
		return rc;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
	if (x->x_json)
		rc = print_json(r.result);
	else
		printf("pong from vigild %s (pid %" PRIu64 ") in %.2f ms\n",
		    x->x_cc.cc_version, x->x_cc.cc_pid, ms);
	ctl_reply_free(&r);
	return rc;
}

static int
cmd_version(struct ctx *x, const struct cmd *c, int argc, char **argv)
{
	struct ctl_reply r;
	char v[64];
	int rc;

	(void)argv;
	if (argc != 1)
		return usage_cmd(c, "version takes no arguments");
	if ((rc = ctl_run(x, "version", NULL, &r)) != CTL_EXIT_OK)
		return rc;
	if (x->x_json)
		rc = print_json(r.result);
	else {
		printf("vigilctl %s (control protocol %d)\n", VIGIL_VERSION,
		    CTL_PROTOCOL);
		printf("vigild   %s (control protocol %" PRIu64 ", pid %"
		    PRIu64 ")\n", str_of(r.result, "version", v, sizeof(v)),
		    uint_of(r.result, "protocol"), uint_of(r.result, "pid"));
	}
	ctl_reply_free(&r);
	return rc;
}

/* One provider's row of the status table. */
static void
status_row(struct ctx *x, struct table *t, const msgpack_object *p,
    uint64_t now)
{
	const msgpack_object *w1, *w5, *last;
	char b[64], p50[16], p95[16], p99[16], e1[16], e5[16], age[32];
	char note[160], st[32];
	size_t off = 0;

	w1 = mp_get(mp_get(p, "windows"), "1m");
	w5 = mp_get(mp_get(p, "windows"), "5m");
	last = mp_get(p, "last_check");
	table_row(t);
	table_set(t, 0, "%s", str_of(p, "name", b, sizeof(b)));
	set_word(x, t, 1, str_of(p, "status", b, sizeof(b)));
	set_word(x, t, 2, str_of(p, "circuit", b, sizeof(b)));
	table_set(t, 3, "%s", str_of(p, "trend", b, sizeof(b)));
	fmt_ms(p50, sizeof(p50), dbl_of(w1, "p50_ms"));
	fmt_ms(p95, sizeof(p95), dbl_of(w1, "p95_ms"));
	fmt_ms(p99, sizeof(p99), dbl_of(w1, "p99_ms"));
	table_set(t, 4, "%s/%s/%s", p50, p95, p99);
	fmt_ms(p50, sizeof(p50), dbl_of(w5, "p50_ms"));
	fmt_ms(p95, sizeof(p95), dbl_of(w5, "p95_ms"));
	fmt_ms(p99, sizeof(p99), dbl_of(w5, "p99_ms"));
	table_set(t, 5, "%s/%s/%s", p50, p95, p99);
	fmt_rate(e1, sizeof(e1), dbl_of(w1, "error_rate"));
	fmt_rate(e5, sizeof(e5), dbl_of(w5, "error_rate"));
	table_set(t, 6, "%s", e1);
	table_set(t, 7, "%s", e5);
	if (last == NULL || last->type != MSGPACK_OBJECT_MAP)
		table_set(t, 8, "never");
	else {
		fmt_age(age, sizeof(age), now, uint_of(last, "at_ns"));
		fmt_ms(p50, sizeof(p50), dbl_of(last, "latency_ms"));
		str_of(last, "outcome", b, sizeof(b));
		if (uint_of(last, "http_status") != 0)
			table_set(t, 8, "%s %" PRIu64 " %sms %s", b,
			    uint_of(last, "http_status"), p50, age);
		else
			table_set(t, 8, "%s %sms %s", b, p50, age);
		if (x->x_color)
			table_color(t, 8, fmt_word_color(b));
	}
	/* Notes: what the status words do not say. */
	note[0] = '\0';
	if (bool_of(p, "stale"))
		off += (size_t)snprintf(note + off, sizeof(note) - off,
		    "stale ");
	if (uint_of(p, "silenced_until_ns") > now && off < sizeof(note)) {
		fmt_age(age, sizeof(age), now, uint_of(p, "silenced_until_ns"));
		off += (size_t)snprintf(note + off, sizeof(note) - off,
		    "silenced(%s) ", age + 3);
	}
	if (strcmp(str_of(p, "state", st, sizeof(st)), "up") != 0 &&
	    off < sizeof(note))
		off += (size_t)snprintf(note + off, sizeof(note) - off,
		    "prober:%s ", st);
	if (off > 0 && off < sizeof(note))
		note[off - 1] = '\0';
	table_set(t, 9, "%s", note);
}

static void
status_table(struct ctx *x, const msgpack_object *res, uint64_t now)
{
	const msgpack_object *ps = mp_get(res, "providers");
	struct table *t;
	char b[32], when[32];
	uint32_t i, n;

	n = ps != NULL && ps->type == MSGPACK_OBJECT_ARRAY ?
	    ps->via.array.size : 0;
	fmt_time(when, sizeof(when), uint_of(res, "generated_at_ns"));
	str_of(res, "status", b, sizeof(b));
	if (x->x_color && fmt_word_color(b) != NULL)
		printf("vigil: \033[%sm%s\033[0m, %u provider%s, at %s\n\n",
		    fmt_word_color(b), b, n, n == 1 ? "" : "s", when);
	else
		printf("vigil: %s, %u provider%s, at %s\n\n", b, n,
		    n == 1 ? "" : "s", when);
	if (n == 0)
		return;
	if ((t = table_new(10)) == NULL)
		return;
	table_head(t, 0, "NAME", TBL_LEFT);
	table_head(t, 1, "STATUS", TBL_LEFT);
	table_head(t, 2, "CIRCUIT", TBL_LEFT);
	table_head(t, 3, "TREND", TBL_LEFT);
	table_head(t, 4, "1m p50/p95/p99 ms", TBL_RIGHT);
	table_head(t, 5, "5m p50/p95/p99 ms", TBL_RIGHT);
	table_head(t, 6, "ERR 1m", TBL_RIGHT);
	table_head(t, 7, "ERR 5m", TBL_RIGHT);
	table_head(t, 8, "LAST CHECK", TBL_LEFT);
	table_head(t, 9, "NOTE", TBL_LEFT);
	for (i = 0; i < n; i++)
		status_row(x, t, &ps->via.array.ptr[i], now);
	table_print(t, stdout, x->x_color);
	table_free(t);
}

/* One provider, systemctl status style. */
static void
status_detail(struct ctx *x, const msgpack_object *p, uint64_t now)
{
	static const char *const wn[] = { "1m", "5m", "15m" };
	const msgpack_object *w, *last = mp_get(p, "last_check");
	struct table *t;
	char name[64], kind[32], b[256], age[32], when[32], lat[16];
	uint64_t until;
	size_t i;

	str_of(p, "name", name, sizeof(name));
	str_of(p, "kind", kind, sizeof(kind));
	str_of(p, "status", b, sizeof(b));
	if (x->x_color && fmt_word_color(b) != NULL)
		printf("%s (%s): \033[%sm%s\033[0m%s\n", name, kind,
		    fmt_word_color(b), b, bool_of(p, "stale") ? ", stale" : "");
	else
		printf("%s (%s): %s%s\n", name, kind, b,
		    bool_of(p, "stale") ? ", stale" : "");
	printf("     circuit: %s\n", str_of(p, "circuit", b, sizeof(b)));
	printf("       trend: %s\n", str_of(p, "trend", b, sizeof(b)));
	printf("      prober: %s%s\n", str_of(p, "state", b, sizeof(b)),
	    bool_of(p, "paused") ? ", paused" : "");
	if (last == NULL || last->type != MSGPACK_OBJECT_MAP)
		printf("  last check: never\n");
	else {
		fmt_age(age, sizeof(age), now, uint_of(last, "at_ns"));
		fmt_time(when, sizeof(when), uint_of(last, "at_ns"));
		fmt_ms(lat, sizeof(lat), dbl_of(last, "latency_ms"));
		printf("  last check: %s, HTTP %" PRIu64 ", %s ms, %s (%s)\n",
		    str_of(last, "outcome", b, sizeof(b)),
		    uint_of(last, "http_status"), lat, age, when);
	}
	str_of(p, "last_error", b, sizeof(b));
	printf("  last error: %s\n", b[0] != '\0' ? b : "-");
	until = uint_of(p, "silenced_until_ns");
	if (until > now) {
		fmt_time(when, sizeof(when), until);
		fmt_age(age, sizeof(age), now, until);
		printf("    silenced: until %s (%s)\n", when, age);
	}
	putchar('\n');
	if ((t = table_new(7)) == NULL)
		return;
	table_head(t, 0, "WINDOW", TBL_LEFT);
	table_head(t, 1, "SAMPLES", TBL_RIGHT);
	table_head(t, 2, "ERRORS", TBL_RIGHT);
	table_head(t, 3, "UPTIME", TBL_RIGHT);
	table_head(t, 4, "P50 ms", TBL_RIGHT);
	table_head(t, 5, "P95 ms", TBL_RIGHT);
	table_head(t, 6, "P99 ms", TBL_RIGHT);
	for (i = 0; i < sizeof(wn) / sizeof(wn[0]); i++) {
		w = mp_get(mp_get(p, "windows"), wn[i]);
		table_row(t);
		table_set(t, 0, "%s", wn[i]);
		table_set(t, 1, "%" PRIu64, uint_of(w, "samples"));
		fmt_rate(b, sizeof(b), dbl_of(w, "error_rate"));
		table_set(t, 2, "%s", b);
		fmt_rate(b, sizeof(b), dbl_of(w, "uptime"));
		table_set(t, 3, "%s", b);
		fmt_ms(b, sizeof(b), dbl_of(w, "p50_ms"));
		table_set(t, 4, "%s", b);
		fmt_ms(b, sizeof(b), dbl_of(w, "p95_ms"));
		table_set(t, 5, "%s", b);
		fmt_ms(b, sizeof(b), dbl_of(w, "p99_ms"));
		table_set(t, 6, "%s", b);
	}
	table_print(t, stdout, x->x_color);
	table_free(t);
}

static int
cmd_status(struct ctx *x, const struct cmd *c, int argc, char **argv)
{
	const msgpack_object *ps, *found = NULL;
	struct ctl_reply r;
	uint32_t i;
	int rc;

	if (argc > 2)
		return usage_cmd(c, "status takes at most one provider");
	if ((rc = ctl_run(x, "status", NULL, &r)) != CTL_EXIT_OK)
		return rc;
	if (argc == 1) {
		if (x->x_json)
			rc = print_json(r.result);
		else
			status_table(x, r.result, fmt_now_ns());
		ctl_reply_free(&r);
		return rc;
	}
	ps = mp_get(r.result, "providers");
	for (i = 0; ps != NULL && ps->type == MSGPACK_OBJECT_ARRAY &&
	    i < ps->via.array.size; i++)
		if (mp_streq(mp_get(&ps->via.array.ptr[i], "name"), argv[1]))
			found = &ps->via.array.ptr[i];
	if (found == NULL) {
		fprintf(stderr, "vigilctl: not_found: no provider \"%s\"\n",
		    argv[1]);
		rc = CTL_EXIT_ERROR;
	} else if (x->x_json)
		rc = print_json(found);
	else
		status_detail(x, found, fmt_now_ns());
	ctl_reply_free(&r);
	return rc;
}

static int
cmd_providers(struct ctx *x, const struct cmd *c, int argc, char **argv)
{
	const msgpack_object *p;
	struct ctl_reply r;
	struct table *t;
	char b[256];
	uint32_t i;
	int rc;

	(void)argv;
	if (argc != 1)
		return usage_cmd(c, "providers takes no arguments");
	if ((rc = ctl_run(x, "providers", NULL, &r)) != CTL_EXIT_OK)
		return rc;
	if (x->x_json) {
		rc = print_json(r.result);
		ctl_reply_free(&r);
		return rc;
	}
	if (r.result->type != MSGPACK_OBJECT_ARRAY ||
	    r.result->via.array.size == 0) {
		printf("no providers\n");
		ctl_reply_free(&r);
		return rc;
	}
	if ((t = table_new(10)) == NULL) {
		ctl_reply_free(&r);
		return CTL_EXIT_ERROR;
	}
	table_head(t, 0, "NAME", TBL_LEFT);
	table_head(t, 1, "KIND", TBL_LEFT);
	table_head(t, 2, "HOST", TBL_LEFT);
	table_head(t, 3, "STATE", TBL_LEFT);
	table_head(t, 4, "PID", TBL_RIGHT);
	table_head(t, 5, "INTERVAL", TBL_RIGHT);
	table_head(t, 6, "TIMEOUT", TBL_RIGHT);
	table_head(t, 7, "PAUSED", TBL_LEFT);
	table_head(t, 8, "RESTARTS", TBL_RIGHT);
	table_head(t, 9, "EPOCH", TBL_RIGHT);
	for (i = 0; i < r.result->via.array.size; i++) {
		p = &r.result->via.array.ptr[i];
		table_row(t);
		table_set(t, 0, "%s", str_of(p, "name", b, sizeof(b)));
		table_set(t, 1, "%s", str_of(p, "kind", b, sizeof(b)));
		table_set(t, 2, "%s", str_of(p, "host", b, sizeof(b)));
		set_word(x, t, 3, str_of(p, "state", b, sizeof(b)));
		if (uint_of(p, "pid") != 0)
			table_set(t, 4, "%" PRIu64, uint_of(p, "pid"));
		else
			table_set(t, 4, "-");
		fmt_duration(b, sizeof(b), uint_of(p, "interval_ms"));
		table_set(t, 5, "%s", b);
		fmt_duration(b, sizeof(b), uint_of(p, "timeout_ms"));
		table_set(t, 6, "%s", b);
		table_set(t, 7, "%s", bool_of(p, "paused") ? "yes" : "no");
		table_set(t, 8, "%" PRIu64, uint_of(p, "restarts"));
		table_set(t, 9, "%" PRIu64, uint_of(p, "writer_epoch"));
	}
	table_print(t, stdout, x->x_color);
	table_free(t);
	ctl_reply_free(&r);
	return rc;
}

/* A probe_now sample as a row: NAME OUTCOME HTTP LATENCY AT ERROR. */
static void
sample_row(struct ctx *x, struct table *t, const char *name,
    const msgpack_object *s, uint64_t now)
{
	char b[256];

	(void)now;
	table_row(t);
	table_set(t, 0, "%s", name);
	set_word(x, t, 1, str_of(s, "outcome", b, sizeof(b)));
	if (uint_of(s, "http_status") != 0)
		table_set(t, 2, "%" PRIu64, uint_of(s, "http_status"));
	else
		table_set(t, 2, "-");
	fmt_ms(b, sizeof(b), dbl_of(s, "latency_ms"));
	table_set(t, 3, "%s", b);
	fmt_time(b, sizeof(b), uint_of(s, "wall_ns"));
	table_set(t, 4, "%s", b);
	str_of(s, "error", b, sizeof(b));
	table_set(t, 5, "%s", b);
}

static int
cmd_probe(struct ctx *x, const struct cmd *c, int argc, char **argv)
{
	const msgpack_object *v, *k;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct ctl_reply r;
	struct table *t;
	char name[64], code[64], msg[512];
	uint64_t now;
	uint32_t i;
	int rc, failed = 0;

	if (argc != 2)
		return usage_cmd(c, "probe takes one provider, or all");
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	if ((rc = provider_arg(c, argv[1], &pk)) == CTL_EXIT_OK)
		rc = ctl_run(x, "probe_now", &sb, &r);
	msgpack_sbuffer_destroy(&sb);
	if (rc != CTL_EXIT_OK)
		return rc;
	if (x->x_json) {
		rc = print_json(r.result);
		if (strcmp(argv[1], "all") == 0 &&
		    r.result->type == MSGPACK_OBJECT_MAP)
			for (i = 0; i < r.result->via.map.size; i++)
				if (!bool_of(&r.result->via.map.ptr[i].val,
				    "ok"))
					rc = CTL_EXIT_ERROR;
		ctl_reply_free(&r);
		return rc;
	}
	if ((t = table_new(6)) == NULL) {
		ctl_reply_free(&r);
		return CTL_EXIT_ERROR;
	}
	table_head(t, 0, "PROVIDER", TBL_LEFT);
	table_head(t, 1, "OUTCOME", TBL_LEFT);
	table_head(t, 2, "HTTP", TBL_RIGHT);
	table_head(t, 3, "LATENCY ms", TBL_RIGHT);
	table_head(t, 4, "AT", TBL_LEFT);
	table_head(t, 5, "ERROR", TBL_LEFT);
	now = fmt_now_ns();
	if (strcmp(argv[1], "all") != 0)
		sample_row(x, t, argv[1], r.result, now);
	else if (r.result->type == MSGPACK_OBJECT_MAP) {
		for (i = 0; i < r.result->via.map.size; i++) {
			k = &r.result->via.map.ptr[i].key;
			v = &r.result->via.map.ptr[i].val;
			snprintf(name, sizeof(name), "%.*s",
			    k->type == MSGPACK_OBJECT_STR ?
			    (int)k->via.str.size : 1,
			    k->type == MSGPACK_OBJECT_STR ? k->via.str.ptr :
			    "?");
			if (bool_of(v, "ok")) {
				sample_row(x, t, name, mp_get(v, "result"),
				    now);
				continue;
			}
			failed = 1;
			table_row(t);
			table_set(t, 0, "%s", name);
			set_word(x, t, 1, "error");
			table_set(t, 5, "%s: %s", str_of(mp_get(v, "error"),
			    "code", code, sizeof(code)),
			    str_of(mp_get(v, "error"), "message", msg,
			    sizeof(msg)));
		}
	}
	table_print(t, stdout, x->x_color);
	table_free(t);
	ctl_reply_free(&r);
	return failed ? CTL_EXIT_ERROR : CTL_EXIT_OK;
}

/* pause, resume, unsilence: PROVIDER|all and nothing else. */
static int
cmd_pause(struct ctx *x, const struct cmd *c, int argc, char **argv)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct ctl_reply r;
	const char *done;
	int rc;

	if (argc != 2)
		return usage_cmd(c, "%s takes one provider, or all",
		    c->c_name);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	if ((rc = provider_arg(c, argv[1], &pk)) == CTL_EXIT_OK)
		rc = ctl_run(x, c->c_name, &sb, &r);
	msgpack_sbuffer_destroy(&sb);
	if (rc != CTL_EXIT_OK)
		return rc;
	done = strcmp(c->c_name, "pause") == 0 ? "paused" :
	    strcmp(c->c_name, "resume") == 0 ? "resumed" : "unsilenced";
	if (strcmp(c->c_name, "unsilence") == 0 && !x->x_json) {
		/* The aggregator answers for all at once. */
		printf("%s: %s\n", argv[1], done);
		rc = CTL_EXIT_OK;
	} else
		rc = per_name(x, &r, argv[1], done);
	ctl_reply_free(&r);
	return rc;
}

static int
cmd_interval(struct ctx *x, const struct cmd *c, int argc, char **argv)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct ctl_reply r;
	char done[64], d[32];
	uint32_t ms;
	int rc;

	if (argc != 3)
		return usage_cmd(c, "interval takes a provider (or all) and a "
		    "duration");
	if (conf_parse_duration(argv[2], &ms) == -1 || ms == 0)
		return usage_cmd(c, "\"%s\" is not a duration (such as 30s, "
		    "2m, 500ms)", argv[2]);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 2);
	if ((rc = provider_arg(c, argv[1], &pk)) == CTL_EXIT_OK) {
		mp_kv_uint(&pk, "interval_ms", ms);
		rc = ctl_run(x, "set_interval", &sb, &r);
	}
	msgpack_sbuffer_destroy(&sb);
	if (rc != CTL_EXIT_OK)
		return rc;
	fmt_duration(d, sizeof(d), ms);
	snprintf(done, sizeof(done), "interval %s", d);
	rc = per_name(x, &r, argv[1], done);
	ctl_reply_free(&r);
	return rc;
}

static int
cmd_silence(struct ctx *x, const struct cmd *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "reason",	required_argument,	NULL, 'r' },
		{ NULL,		0,			NULL, 0 }
	};
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct ctl_reply r;
	char reason[256], when[32], age[32];
	const char *ropt = NULL;
	uint64_t until;
	uint32_t ms;
	size_t off = 0;
	int ch, rc, i;

	optind = 0;	/* glibc: start over on the command's own argv */
	while ((ch = getopt_long(argc, argv, "+r:", opts, NULL)) != -1) {
		if (ch != 'r')
			return usage_cmd(c, "unknown option");
		ropt = optarg;
	}
	argc -= optind;
	argv += optind;
	/* Options may also follow the positional arguments. */
	if (argc < 2)
		return usage_cmd(c, "silence takes a provider (or all) and a "
		    "duration");
	if (conf_parse_duration(argv[1], &ms) == -1 || ms == 0)
		return usage_cmd(c, "\"%s\" is not a duration (such as 30m, "
		    "2h)", argv[1]);
	reason[0] = '\0';
	for (i = 2; i < argc; i++) {
		if ((strcmp(argv[i], "-r") == 0 ||
		    strcmp(argv[i], "--reason") == 0) && i + 1 < argc) {
			ropt = argv[++i];
			continue;
		}
		if (strncmp(argv[i], "--reason=", 9) == 0) {
			ropt = argv[i] + 9;
			continue;
		}
		if (off < sizeof(reason))
			off += (size_t)snprintf(reason + off,
			    sizeof(reason) - off, "%s%s", off > 0 ? " " : "",
			    argv[i]);
	}
	if (ropt != NULL) {
		if (reason[0] != '\0')
			return usage_cmd(c, "give the reason once: --reason "
			    "or the words after DURATION");
		snprintf(reason, sizeof(reason), "%s", ropt);
	}
	if (off >= sizeof(reason) || strlen(reason) >= sizeof(reason) - 1)
		return usage_cmd(c, "the reason is longer than 254 bytes");
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, reason[0] != '\0' ? 3 : 2);
	if ((rc = provider_arg(c, argv[0], &pk)) == CTL_EXIT_OK) {
		mp_kv_uint(&pk, "duration_ms", ms);
		if (reason[0] != '\0')
			mp_kv_str(&pk, "reason", reason);
		rc = ctl_run(x, "silence", &sb, &r);
	}
	msgpack_sbuffer_destroy(&sb);
	if (rc != CTL_EXIT_OK)
		return rc;
	if (x->x_json)
		rc = print_json(r.result);
	else {
		until = uint_of(r.result, "until_ns");
		fmt_time(when, sizeof(when), until);
		fmt_age(age, sizeof(age), fmt_now_ns(), until);
		printf("%s: silenced until %s (%s)%s%s\n", argv[0], when, age,
		    reason[0] != '\0' ? ": " : "", reason);
	}
	ctl_reply_free(&r);
	return rc;
}

static int
cmd_alerts(struct ctx *x, const struct cmd *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "since",	required_argument,	NULL, 's' },
		{ "provider",	required_argument,	NULL, 'p' },
		{ "level",	required_argument,	NULL, 'l' },
		{ "limit",	required_argument,	NULL, 'n' },
		{ NULL,		0,			NULL, 0 }
	};
	const msgpack_object *a;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct ctl_reply r;
	struct table *t;
	const char *prov = NULL, *level = NULL;
	char b[256], kind[32];
	uint64_t since = 0, limit = 0;
	uint32_t n = 0, i;
	char *end;
	int ch, rc, have_since = 0;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "s:p:l:n:", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			if (fmt_parse_time(optarg, fmt_now_ns(), &since) == -1)
				return usage_cmd(c, "--since %s: a duration "
				    "ago (1h), an RFC 3339 UTC time or "
				    "@SECONDS", optarg);
			if (!have_since)
				n++;
			have_since = 1;
			break;
		case 'p':
			if (optarg[0] == '\0' || strlen(optarg) >= 64)
				return usage_cmd(c, "--provider: a provider "
				    "name");
			if (prov == NULL)
				n++;
			prov = optarg;
			break;
		case 'l':
			if (strcmp(optarg, "warning") != 0 &&
			    strcmp(optarg, "critical") != 0 &&
			    strcmp(optarg, "resolved") != 0)
				return usage_cmd(c, "--level: warning, "
				    "critical or resolved");
			if (level == NULL)
				n++;
			level = optarg;
			break;
		case 'n':
			errno = 0;
			limit = strtoull(optarg, &end, 10);
			if (optarg[0] < '0' || optarg[0] > '9' ||
			    *end != '\0' || errno != 0 || limit == 0)
				return usage_cmd(c, "--limit: a positive "
				    "number");
			break;
		default:
			return usage_cmd(c, "unknown option");
		}
	}
	n += limit != 0;
	if (optind != argc)
		return usage_cmd(c, "unexpected \"%s\"", argv[optind]);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, n);
	if (have_since)
		mp_kv_uint(&pk, "since_ns", since);
	if (prov != NULL)
		mp_kv_str(&pk, "provider", prov);
	if (level != NULL)
		mp_kv_str(&pk, "level", level);
	if (limit != 0)
		mp_kv_uint(&pk, "limit", limit);
	rc = ctl_run(x, "alerts", &sb, &r);
	msgpack_sbuffer_destroy(&sb);
	if (rc != CTL_EXIT_OK)
		return rc;
	if (x->x_json) {
		rc = print_json(r.result);
		ctl_reply_free(&r);
		return rc;
	}
	if (r.result->type != MSGPACK_OBJECT_ARRAY ||
	    r.result->via.array.size == 0) {
		printf("no alerts\n");
		ctl_reply_free(&r);
		return CTL_EXIT_OK;
	}
	if ((t = table_new(8)) == NULL) {
		ctl_reply_free(&r);
		return CTL_EXIT_ERROR;
	}
	table_head(t, 0, "TIME", TBL_LEFT);
	table_head(t, 1, "ID", TBL_RIGHT);
	table_head(t, 2, "PROVIDER", TBL_LEFT);
	table_head(t, 3, "LEVEL", TBL_LEFT);
	table_head(t, 4, "KIND", TBL_LEFT);
	table_head(t, 5, "VALUE", TBL_RIGHT);
	table_head(t, 6, "THRESHOLD", TBL_RIGHT);
	table_head(t, 7, "SILENCED", TBL_LEFT);
	for (i = 0; i < r.result->via.array.size; i++) {
		a = &r.result->via.array.ptr[i];
		table_row(t);
		fmt_time(b, sizeof(b), uint_of(a, "at_ns"));
		table_set(t, 0, "%s", b);
		table_set(t, 1, "%" PRIu64, uint_of(a, "id"));
		table_set(t, 2, "%s", str_of(a, "provider", b, sizeof(b)));
		set_word(x, t, 3, str_of(a, "level", b, sizeof(b)));
		table_set(t, 4, "%s", str_of(a, "kind", kind, sizeof(kind)));
		/* error_rate is a fraction, latency milliseconds. */
		if (strcmp(kind, "error_rate") == 0) {
			fmt_rate(b, sizeof(b), dbl_of(a, "value"));
			table_set(t, 5, "%s", b);
			fmt_rate(b, sizeof(b), dbl_of(a, "threshold"));
			table_set(t, 6, "%s", b);
		} else if (strcmp(kind, "latency") == 0) {
			fmt_ms(b, sizeof(b), dbl_of(a, "value"));
			table_set(t, 5, "%s ms", b);
			fmt_ms(b, sizeof(b), dbl_of(a, "threshold"));
			table_set(t, 6, "%s ms", b);
		} else {
			table_set(t, 5, "%g", dbl_of(a, "value"));
			table_set(t, 6, "%g", dbl_of(a, "threshold"));
		}
		table_set(t, 7, "%s", bool_of(a, "silenced") ? "yes" : "no");
	}
	table_print(t, stdout, x->x_color);
	table_free(t);
	ctl_reply_free(&r);
	return CTL_EXIT_OK;
}

static int
cmd_history(struct ctx *x, const struct cmd *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "since",	required_argument,	NULL, 'f' },
		{ "from",	required_argument,	NULL, 'f' },
		{ "to",		required_argument,	NULL, 't' },
		{ "step",	required_argument,	NULL, 's' },
		{ "limit",	required_argument,	NULL, 'n' },
		{ NULL,		0,			NULL, 0 }
	};
	static const char *const steps[] = { "raw", "1m", "5m", "15m", "1h" };
	const msgpack_object *pts, *p;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct ctl_reply r;
	struct table *t;
	const char *step = NULL, *name = NULL;
	char b[64], l1[16], l2[16], l3[16];
	uint64_t from = 0, to = 0, limit = 0, now = fmt_now_ns();
	uint32_t n = 1, i;
	char *end;
	size_t si;
	int ch, rc, have_from = 0, have_to = 0;

	optind = 0;
	/* PROVIDER may come before or after the options (GNU permutes). */
	while ((ch = getopt_long(argc, argv, "f:t:s:n:", opts, NULL)) != -1) {
		switch (ch) {
		case 'f':
		case 't':
			if (fmt_parse_time(optarg, now, ch == 'f' ? &from :
			    &to) == -1)
				return usage_cmd(c, "%s: a duration ago (1h), "
				    "an RFC 3339 UTC time or @SECONDS",
				    optarg);
			if (ch == 'f')
				have_from = 1;
			else
				have_to = 1;
			break;
		case 's':
			for (si = 0; si < sizeof(steps) / sizeof(steps[0]);
			    si++)
				if (strcmp(optarg, steps[si]) == 0)
					break;
			if (si == sizeof(steps) / sizeof(steps[0]))
				return usage_cmd(c, "--step: raw, 1m, 5m, 15m "
				    "or 1h");
			step = optarg;
			break;
		case 'n':
			errno = 0;
			limit = strtoull(optarg, &end, 10);
			if (optarg[0] < '0' || optarg[0] > '9' ||
			    *end != '\0' || errno != 0 || limit == 0)
				return usage_cmd(c, "--limit: a positive "
				    "number");
			break;
		default:
			return usage_cmd(c, "unknown option");
		}
	}
	if (argc - optind != 1)
		return usage_cmd(c, "history takes one provider");
	name = argv[optind];
	if (strcmp(name, "all") == 0)
		return usage_cmd(c, "history is of one provider, not all");
	if (have_from && have_to && from > to)
		return usage_cmd(c, "--from is after --to");
	n += have_from + have_to + (step != NULL) + (limit != 0);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, n);
	if ((rc = provider_arg(c, name, &pk)) == CTL_EXIT_OK) {
		if (have_from)
			mp_kv_uint(&pk, "from_ns", from);
		if (have_to)
			mp_kv_uint(&pk, "to_ns", to);
		if (step != NULL)
			mp_kv_str(&pk, "step", step);
		if (limit != 0)
			mp_kv_uint(&pk, "limit", limit);
		rc = ctl_run(x, "history", &sb, &r);
	}
	msgpack_sbuffer_destroy(&sb);
	if (rc != CTL_EXIT_OK)
		return rc;
	if (x->x_json) {
		rc = print_json(r.result);
		ctl_reply_free(&r);
		return rc;
	}
	pts = mp_get(r.result, "points");
	if (pts == NULL || pts->type != MSGPACK_OBJECT_ARRAY ||
	    pts->via.array.size == 0) {
		printf("%s: no history in that range\n", name);
		ctl_reply_free(&r);
		return CTL_EXIT_OK;
	}
	if ((t = table_new(10)) == NULL) {
		ctl_reply_free(&r);
		return CTL_EXIT_ERROR;
	}
	table_head(t, 0, "TIME", TBL_LEFT);
	table_head(t, 1, "STATUS", TBL_LEFT);
	table_head(t, 2, "CIRCUIT", TBL_LEFT);
	table_head(t, 3, "OUTCOME", TBL_LEFT);
	table_head(t, 4, "HTTP", TBL_RIGHT);
	table_head(t, 5, "LATENCY ms", TBL_RIGHT);
	table_head(t, 6, "1m p50/p95/p99 ms", TBL_RIGHT);
	table_head(t, 7, "ERR", TBL_RIGHT);
	table_head(t, 8, "UPTIME", TBL_RIGHT);
	table_head(t, 9, "SAMPLES", TBL_RIGHT);
	for (i = 0; i < pts->via.array.size; i++) {
		p = &pts->via.array.ptr[i];
		table_row(t);
		fmt_time(b, sizeof(b), uint_of(p, "at_ns"));
		table_set(t, 0, "%s", b);
		set_word(x, t, 1, str_of(p, "status", b, sizeof(b)));
		set_word(x, t, 2, str_of(p, "circuit", b, sizeof(b)));
		set_word(x, t, 3, str_of(p, "outcome", b, sizeof(b)));
		if (uint_of(p, "http_status") != 0)
			table_set(t, 4, "%" PRIu64, uint_of(p, "http_status"));
		else
			table_set(t, 4, "-");
		fmt_ms(b, sizeof(b), dbl_of(p, "latency_ms"));
		table_set(t, 5, "%s", b);
		fmt_ms(l1, sizeof(l1), dbl_of(p, "p50_ms"));
		fmt_ms(l2, sizeof(l2), dbl_of(p, "p95_ms"));
		fmt_ms(l3, sizeof(l3), dbl_of(p, "p99_ms"));
		table_set(t, 6, "%s/%s/%s", l1, l2, l3);
		fmt_rate(b, sizeof(b), dbl_of(p, "error_rate"));
		table_set(t, 7, "%s", b);
		fmt_rate(b, sizeof(b), dbl_of(p, "uptime"));
		table_set(t, 8, "%s", b);
		table_set(t, 9, "%" PRIu64, uint_of(p, "samples_1m"));
	}
	printf("%s, step %s, %u point%s\n\n", name,
	    str_of(r.result, "step", b, sizeof(b)), pts->via.array.size,
	    pts->via.array.size == 1 ? "" : "s");
	table_print(t, stdout, x->x_color);
	table_free(t);
	ctl_reply_free(&r);
	return CTL_EXIT_OK;
}

/* reload, shutdown: no arguments, an empty result. */
static int
cmd_simple(struct ctx *x, const struct cmd *c, int argc, char **argv)
{
	struct ctl_reply r;
	int rc;

	(void)argv;
	if (argc != 1)
		return usage_cmd(c, "%s takes no arguments", c->c_name);
	if ((rc = ctl_run(x, c->c_name, NULL, &r)) != CTL_EXIT_OK)
		return rc;
	if (x->x_json)
		rc = print_json(r.result);
	else if (strcmp(c->c_name, "reload") == 0)
		printf("configuration reloaded\n");
	else
		printf("vigild (pid %" PRIu64 ") is shutting down\n",
		    x->x_cc.cc_pid);
	ctl_reply_free(&r);
	return rc;
}

static int
cmd_raw(struct ctx *x, const struct cmd *c, int argc, char **argv)
{
	msgpack_sbuffer sb;
	struct ctl_reply r;
	char err[256];
	int rc;

	if (argc < 2 || argc > 3)
		return usage_cmd(c, "raw takes an operation and, optionally, "
		    "its arguments as a JSON object");
	if (argv[1][0] == '\0' || strlen(argv[1]) > 31)
		return usage_cmd(c, "an operation name is 1..31 bytes");
	msgpack_sbuffer_init(&sb);
	if (argc == 3 && json_to_mp(argv[2], &sb, err, sizeof(err)) == -1) {
		msgpack_sbuffer_destroy(&sb);
		return usage_cmd(c, "%s", err);
	}
	rc = ctl_run(x, argv[1], argc == 3 ? &sb : NULL, &r);
	msgpack_sbuffer_destroy(&sb);
	if (rc != CTL_EXIT_OK)
		return rc;
	rc = print_json(r.result);
	ctl_reply_free(&r);
	return rc;
}
