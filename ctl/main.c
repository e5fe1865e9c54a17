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

/* What a command's result printer is told besides the result. */
struct show_arg {
	const char	*sa_name;	/* the provider (or all), or the op */
	const char	*sa_done;	/* what happened, "paused" */
	const char	*sa_reason;	/* silence's reason, "" if none */
	int		 sa_own_json;	/* the printer prints JSON itself */
	int		 sa_flat;	/* "NAME: done" even for all */
};

typedef int	show_fn(struct ctx *, const msgpack_object *,
		    const struct show_arg *);

/* A request's arguments, counted from this list when packed. */
#define ARGS_MAX	8
struct args {
	size_t		 a_n;
	struct {
		const char	*k;
		const char	*s;	/* a string, or NULL: u */
		uint64_t	 u;
	}		 a_kv[ARGS_MAX];
};

/* Options shared by main's steps. */
struct mainopts {
	const char	*m_config;
	const char	*m_color;
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
static int	cmd_report(struct ctx *, const struct cmd *, int, char **);

static void	usage(FILE *);
static int	usage_cmd(const struct cmd *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	help_cmd(const struct cmd *);
static int	want_help(int, char **);
static int	pull_json(int, char **, int *);
static int	main_opts(int, char **, struct ctx *, struct mainopts *);
static const struct cmd *cmd_find(const char *);
static int	main_socket(struct ctx *, const char *);
static void	main_color(struct ctx *, const char *);
static int	ctl_run(struct ctx *, const char *, const msgpack_sbuffer *,
		    struct ctl_reply *);
static int	print_json(const msgpack_object *);
static void	args_str(struct args *, const char *, const char *);
static void	args_uint(struct args *, const char *, uint64_t);
static int	call(struct ctx *, const char *, const struct args *,
		    struct ctl_reply *);
static int	run_show(struct ctx *, const char *, const struct args *,
		    show_fn *, const struct show_arg *);
static int	show_list(struct ctx *, const msgpack_object *,
		    const struct tcol *, size_t, const char *);
static int	provider_arg(const struct cmd *, const char *, struct args *);
static int	limit_arg(const struct cmd *, const char *, uint64_t *);
static show_fn	show_version, show_status, show_providers, show_probe,
		show_done, show_silence, show_alerts, show_history,
		show_simple;
static void	status_table(struct ctx *, const msgpack_object *);
static void	status_detail(struct ctx *, const msgpack_object *, uint64_t);
static void	cell_last(struct table *, size_t, const msgpack_object *,
		    const struct tcol *);
static void	cell_note(struct table *, size_t, const msgpack_object *,
		    const struct tcol *);
static void	cell_usable(struct table *, size_t, const msgpack_object *,
		    const struct tcol *);
static void	tokens_detail(const msgpack_object *);
static void	models_detail(struct ctx *, const msgpack_object *);
static void	cell_listed(struct table *, size_t, const msgpack_object *,
		    const struct tcol *);
static void	cell_mlast(struct table *, size_t, const msgpack_object *,
		    const struct tcol *);
static void	router_detail(struct ctx *, const msgpack_object *,
		    uint64_t);
static void	cell_alert(struct table *, size_t, const msgpack_object *,
		    const struct tcol *);
static void	cell_key(struct table *, size_t, const msgpack_object *);
static int	silence_reason(const struct cmd *, int, char **, const char *,
		    char *, size_t);

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
	{ "report", "PROVIDER OUTCOME [--model M] [--status N] "
	    "[--latency-ms N]", "report one outcome of real traffic, as a "
	    "router does (op report)",
	    "  OUTCOME           ok, timeout, http_5xx, rate_limited, ... "
	    "(vigil(7))\n"
	    "  --model M         the request's model, one of the provider's "
	    "models\n"
	    "  --status N        the HTTP status it got (100..599)\n"
	    "  --latency-ms N    how long it took, in ms (up to 3600000)\n",
	    cmd_report },
	{ "raw", "OP [JSON-ARGS]", "send any operation; print the result as "
	    "JSON", NULL, cmd_raw },
};
#define NCMDS	(sizeof(cmds) / sizeof(cmds[0]))

int
main(int argc, char *argv[])
{
	const struct cmd *c;
	struct mainopts mo;
	struct ctx x;
	int rc;

	memset(&x, 0, sizeof(x));
	x.x_timeout_ms = CTL_DEFAULT_TIMEOUT_MS;
	if ((rc = main_opts(argc, argv, &x, &mo)) >= 0)
		return rc;
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
		if ((c = cmd_find(argv[1])) == NULL) {
			fprintf(stderr, "vigilctl: no command \"%s\"\n",
			    argv[1]);
			return CTL_EXIT_USAGE;
		}
		help_cmd(c);
		return CTL_EXIT_OK;
	}
	if (x.x_socket != NULL && mo.m_config != NULL) {
		fprintf(stderr, "vigilctl: give -s or -c, not both\n");
		return CTL_EXIT_USAGE;
	}
	if ((c = cmd_find(argv[0])) == NULL) {
		fprintf(stderr, "vigilctl: no command \"%s\" (vigilctl --help "
		    "lists them)\n", argv[0]);
		return CTL_EXIT_USAGE;
	}
	if (want_help(argc, argv)) {
		help_cmd(c);
		return CTL_EXIT_OK;
	}
	argc = pull_json(argc, argv, &x.x_json);
	if ((rc = main_socket(&x, mo.m_config)) != CTL_EXIT_OK)
		return rc;
	main_color(&x, mo.m_color);
	rc = c->c_fn(&x, c, argc, argv);
	if (x.x_connected)
		ctl_close(&x.x_cc);
	return rc;
}

/*
 * vigilctl's own options, up to the command ("+": its options follow
 * it).  Returns -1 to go on, or the exit status (--help, --version, a
 * bad option).
 */
static int
main_opts(int argc, char **argv, struct ctx *x, struct mainopts *mo)
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
	uint32_t ms;
	int ch;

	mo->m_config = NULL;
	mo->m_color = "auto";
	while ((ch = getopt_long(argc, argv, "+s:c:jt:hV", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			x->x_socket = optarg;
			break;
		case 'c':
			mo->m_config = optarg;
			break;
		case 'j':
			x->x_json = 1;
			break;
		case 't':
			if (conf_parse_duration(optarg, &ms) == -1 || ms == 0 ||
			    ms > 3600000) {
				fprintf(stderr, "vigilctl: -t %s: a duration "
				    "such as 500ms, 10s or 2m, at most 1h\n",
				    optarg);
				return CTL_EXIT_USAGE;
			}
			x->x_timeout_ms = (int)ms;
			break;
		case 'C':
			mo->m_color = optarg;
			if (strcmp(optarg, "auto") != 0 &&
			    strcmp(optarg, "always") != 0 &&
			    strcmp(optarg, "never") != 0) {
				fprintf(stderr, "vigilctl: --color: auto, "
				    "always or never\n");
				return CTL_EXIT_USAGE;
			}
			break;
		case 'N':
			mo->m_color = "never";
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
	return -1;
}

static const struct cmd *
cmd_find(const char *name)
{
	size_t i;

	for (i = 0; i < NCMDS; i++)
		if (strcmp(cmds[i].c_name, name) == 0)
			return &cmds[i];
	return NULL;
}

/* The socket: -s, -c's control_socket, or the default. */
static int
main_socket(struct ctx *x, const char *config)
{
	struct conf conf;
	char err[CONF_ERR_MAX + 64];

	if (config != NULL) {
		if (conf_load(&conf, config, err, sizeof(err)) == -1) {
			fprintf(stderr, "vigilctl: %s\n", err);
			return CTL_EXIT_USAGE;
		}
		snprintf(x->x_sockbuf, sizeof(x->x_sockbuf), "%s",
		    conf.control_socket);
		conf_free(&conf);
		x->x_socket = x->x_sockbuf;
	}
	if (x->x_socket == NULL)
		x->x_socket = CTL_DEFAULT_SOCKET;
	return CTL_EXIT_OK;
}

/* Colour: always, or auto on a terminal unless NO_COLOR or TERM=dumb. */
static void
main_color(struct ctx *x, const char *color)
{
	const char *env = getenv("NO_COLOR");

	x->x_color = strcmp(color, "always") == 0 ||
	    (strcmp(color, "auto") == 0 && isatty(STDOUT_FILENO) &&
	    (env == NULL || *env == '\0') &&
	    ((env = getenv("TERM")) == NULL || strcmp(env, "dumb") != 0));
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

/* ---- the command skeleton: arguments, call, JSON or a printer ---- */

static void
args_str(struct args *a, const char *k, const char *s)
{
	if (a->a_n < ARGS_MAX) {
		a->a_kv[a->a_n].k = k;
		a->a_kv[a->a_n].s = s;
		a->a_n++;
	}
}

static void
args_uint(struct args *a, const char *k, uint64_t u)
{
	if (a->a_n < ARGS_MAX) {
		a->a_kv[a->a_n].k = k;
		a->a_kv[a->a_n].s = NULL;
		a->a_kv[a->a_n].u = u;
		a->a_n++;
	}
}

/*
 * Pack a (NULL: no arguments) as a map sized from its list, and call
 * op.  As ctl_run: r is to be freed by the caller only on CTL_EXIT_OK.
 */
static int
call(struct ctx *x, const char *op, const struct args *a,
    struct ctl_reply *r)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	size_t i;
	int rc;

	if (a == NULL)
		return ctl_run(x, op, NULL, r);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, a->a_n);
	for (i = 0; i < a->a_n; i++) {
		if (a->a_kv[i].s != NULL)
			mp_kv_str(&pk, a->a_kv[i].k, a->a_kv[i].s);
		else
			mp_kv_uint(&pk, a->a_kv[i].k, a->a_kv[i].u);
	}
	rc = ctl_run(x, op, &sb, r);
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

/*
 * Every command's last step: call op, then print the result as JSON
 * with --json (unless the printer does, sa_own_json), else with show.
 * Returns the exit status.
 */
static int
run_show(struct ctx *x, const char *op, const struct args *a, show_fn *show,
    const struct show_arg *sa)
{
	struct ctl_reply r;
	int rc;

	if ((rc = call(x, op, a, &r)) != CTL_EXIT_OK)
		return rc;
	if (x->x_json && !sa->sa_own_json)
		rc = print_json(r.result);
	else
		rc = show(x, r.result, sa);
	ctl_reply_free(&r);
	return rc;
}

/* An array result as a table of cols, one row per element, or empty. */
static int
show_list(struct ctx *x, const msgpack_object *res, const struct tcol *cols,
    size_t ncols, const char *empty)
{
	struct table *t;
	uint32_t i;

	if (res == NULL || res->type != MSGPACK_OBJECT_ARRAY ||
	    res->via.array.size == 0) {
		printf("%s\n", empty);
		return CTL_EXIT_OK;
	}
	if ((t = table_of(cols, ncols)) == NULL)
		return CTL_EXIT_ERROR;
	for (i = 0; i < res->via.array.size; i++)
		table_add(t, cols, ncols, &res->via.array.ptr[i]);
	table_print(t, stdout, x->x_color);
	table_free(t);
	return CTL_EXIT_OK;
}

/* A map key (a provider's name) into column col of the current row. */
static void
cell_key(struct table *t, size_t col, const msgpack_object *k)
{
	table_set(t, col, "%.*s", k->type == MSGPACK_OBJECT_STR ?
	    (int)k->via.str.size : 1, k->type == MSGPACK_OBJECT_STR ?
	    k->via.str.ptr : "?");
}

/*
 * "PROVIDER|all": a provider name as the protocol takes it (1..63 bytes
 * of what a section name may hold; the server checks it exists).
 */
static int
provider_arg(const struct cmd *c, const char *s, struct args *a)
{
	if (s[0] == '\0' || strlen(s) >= 64 || s[0] == '-')
		return usage_cmd(c, "\"%s\" is not a provider name", s);
	args_str(a, "provider", s);
	return CTL_EXIT_OK;
}

/* --limit N: a positive number. */
static int
limit_arg(const struct cmd *c, const char *s, uint64_t *limit)
{
	char *end;

	errno = 0;
	*limit = strtoull(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0 ||
	    *limit == 0)
		return usage_cmd(c, "--limit: a positive number");
	return CTL_EXIT_OK;
}

/*
 * The result of an operation on "all": {name: {"ok", "result" |
 * "error"}}.  Prints one line per provider with done (or the error) and
 * returns 1 if any failed.  A single provider's {} prints "NAME: done".
 */
static int
show_done(struct ctx *x, const msgpack_object *res, const struct show_arg *sa)
{
	static const struct tcol cols[] = {
		{ "PROVIDER", TBL_LEFT, NULL, NULL, NULL, NULL, NULL },
		{ "RESULT", TBL_LEFT, NULL, NULL, NULL, NULL, NULL },
		{ "DETAIL", TBL_LEFT, NULL, NULL, NULL, NULL, NULL },
	};
	const msgpack_object *v, *sub;
	struct table *t;
	char code[64], msg[512];
	uint32_t i;
	int failed = 0;

	if (x->x_json)
		return print_json(res);
	if (sa->sa_flat) {
		printf("%s: %s\n", sa->sa_name, sa->sa_done);
		return CTL_EXIT_OK;
	}
	if (strcmp(sa->sa_name, "all") != 0) {
		printf("%s: %s%s\n", sa->sa_name, sa->sa_done,
		    mp_bool_of(res, "pending_restart") ?
		    " (applies when its prober starts again)" : "");
		return CTL_EXIT_OK;
	}
	if (res->type != MSGPACK_OBJECT_MAP) {
		fprintf(stderr, "vigilctl: unexpected reply shape\n");
		return CTL_EXIT_CONNECT;
	}
	if ((t = table_of(cols, NCOLS(cols))) == NULL)
		return CTL_EXIT_ERROR;
	for (i = 0; i < res->via.map.size; i++) {
		v = &res->via.map.ptr[i].val;
		table_row(t);
		cell_key(t, 0, &res->via.map.ptr[i].key);
		if (mp_bool_of(v, "ok")) {
			sub = mp_get(v, "result");
			table_set(t, 1, "ok");
			table_color(t, 1, fmt_word_color("ok"));
			table_set(t, 2, "%s%s", sa->sa_done,
			    mp_bool_of(sub, "pending_restart") ? " (applies "
			    "when its prober starts again)" : "");
			continue;
		}
		failed = 1;
		sub = mp_get(v, "error");
		table_set(t, 1, "error");
		table_color(t, 1, fmt_word_color("error"));
		table_set(t, 2, "%s: %s", mp_str_of(sub, "code", code,
		    sizeof(code)), mp_str_of(sub, "message", msg, sizeof(msg)));
	}
	if (res->via.map.size == 0)
		printf("no providers\n");
	else
		table_print(t, stdout, x->x_color);
	table_free(t);
	return failed ? CTL_EXIT_ERROR : CTL_EXIT_OK;
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
	if ((rc = call(x, "ping", NULL, &r)) != CTL_EXIT_OK)
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
show_version(struct ctx *x, const msgpack_object *res,
    const struct show_arg *sa)
{
	char v[64];

	(void)x;
	(void)sa;
	printf("vigilctl %s (control protocol %d)\n", VIGIL_VERSION,
	    CTL_PROTOCOL);
	printf("vigild   %s (control protocol %" PRIu64 ", pid %" PRIu64
	    ")\n", mp_str_of(res, "version", v, sizeof(v)),
	    mp_uint_of(res, "protocol"), mp_uint_of(res, "pid"));
	return CTL_EXIT_OK;
}

static int
cmd_version(struct ctx *x, const struct cmd *c, int argc, char **argv)
{
	const struct show_arg sa = { .sa_name = c->c_name };

	(void)argv;
	if (argc != 1)
		return usage_cmd(c, "version takes no arguments");
	return run_show(x, "version", NULL, show_version, &sa);
}

/* LAST CHECK: "ok 200 182ms 3s ago", coloured by the outcome. */
static void
cell_last(struct table *t, size_t col, const msgpack_object *p,
    const struct tcol *c)
{
	const msgpack_object *last = mp_get(p, "last_check");
	char b[64], lat[16], age[32];

	(void)c;
	if (last == NULL || last->type != MSGPACK_OBJECT_MAP) {
		table_set(t, col, "never");
		return;
	}
	fmt_age(age, sizeof(age), fmt_now_ns(), mp_uint_of(last, "at_ns"));
	fmt_ms(lat, sizeof(lat), mp_dbl_of(last, "latency_ms"));
	mp_str_of(last, "outcome", b, sizeof(b));
	if (mp_uint_of(last, "http_status") != 0)
		table_set(t, col, "%s %" PRIu64 " %sms %s", b,
		    mp_uint_of(last, "http_status"), lat, age);
	else
		table_set(t, col, "%s %sms %s", b, lat, age);
	table_color(t, col, fmt_word_color(b));
}

/*
 * USABLE: may a router send now (vigil.h's vigil_provider_usable, as
 * vigild judged it): "yes", "no", or when it is expected back, "in 4s".
 * "-" from a vigild that does not say.
 */
static void
cell_usable(struct table *t, size_t col, const msgpack_object *p,
    const struct tcol *c)
{
	uint64_t at = mp_uint_of(p, "usable_at_ns"), now = fmt_now_ns();
	char age[32];

	(void)c;
	if (mp_get(p, "usable") == NULL) {
		table_set(t, col, "-");
		return;
	}
	if (mp_bool_of(p, "usable")) {
		table_set(t, col, "yes");
		table_color(t, col, "32");
	} else if (at > now) {
		fmt_age(age, sizeof(age), now, at);
		table_set(t, col, "%s", age);
		table_color(t, col, "33");
	} else {
		table_set(t, col, "no");
		table_color(t, col, "31");
	}
}

/*
 * NOTE: what the status words do not say (needs-human first: it will not
 * come back by itself; stale, silenced, prober), in red when a human is
 * needed.
 */
static void
cell_note(struct table *t, size_t col, const msgpack_object *p,
    const struct tcol *c)
{
	char note[160], st[32], age[32];
	uint64_t now = fmt_now_ns();
	size_t off = 0;

	(void)c;
	note[0] = '\0';
	if (mp_bool_of(p, "needs_human"))
		off += (size_t)snprintf(note + off, sizeof(note) - off,
		    "needs-human ");
	if (mp_bool_of(p, "stale"))
		off += (size_t)snprintf(note + off, sizeof(note) - off,
		    "stale ");
	if (mp_uint_of(p, "silenced_until_ns") > now && off < sizeof(note)) {
		fmt_age(age, sizeof(age), now,
		    mp_uint_of(p, "silenced_until_ns"));
		off += (size_t)snprintf(note + off, sizeof(note) - off,
		    "silenced(%s) ", age + 3);
	}
	if (strcmp(mp_str_of(p, "state", st, sizeof(st)), "up") != 0 &&
	    off < sizeof(note))
		off += (size_t)snprintf(note + off, sizeof(note) - off,
		    "prober:%s ", st);
	if (off > 0 && off < sizeof(note))
		note[off - 1] = '\0';
	table_set(t, col, "%s", note);
	if (mp_bool_of(p, "needs_human"))
		table_color(t, col, "31");
}

static void
status_table(struct ctx *x, const msgpack_object *res)
{
	static const struct tcol cols[] = {
		{ "NAME", TBL_LEFT, cell_str, "name", NULL, NULL, NULL },
		{ "STATUS", TBL_LEFT, cell_word, "status", NULL, NULL, NULL },
		{ "USABLE", TBL_LEFT, cell_usable, NULL, NULL, NULL, NULL },
		{ "REASON", TBL_LEFT, cell_word, "reason", NULL, NULL, NULL },
		{ "CIRCUIT", TBL_LEFT, cell_word, "circuit", NULL, NULL, NULL },
		{ "TREND", TBL_LEFT, cell_str, "trend", NULL, NULL, NULL },
		{ "1m p50/p95/p99 ms", TBL_RIGHT, cell_pcts, NULL, "1m",
		    NULL, NULL },
		{ "5m p50/p95/p99 ms", TBL_RIGHT, cell_pcts, NULL, "5m",
		    NULL, NULL },
		{ "ERR 1m", TBL_RIGHT, cell_fmt, "error_rate", "1m",
		    fmt_rate, NULL },
		{ "ERR 5m", TBL_RIGHT, cell_fmt, "error_rate", "5m",
		    fmt_rate, NULL },
		{ "LAST CHECK", TBL_LEFT, cell_last, NULL, NULL, NULL, NULL },
		{ "NOTE", TBL_LEFT, cell_note, NULL, NULL, NULL, NULL },
	};
	const msgpack_object *ps = mp_get(res, "providers");
	char b[32], when[32];
	uint32_t n;

	n = ps != NULL && ps->type == MSGPACK_OBJECT_ARRAY ?
	    ps->via.array.size : 0;
	fmt_time(when, sizeof(when), mp_uint_of(res, "generated_at_ns"));
	mp_str_of(res, "status", b, sizeof(b));
	if (x->x_color && fmt_word_color(b) != NULL)
		printf("vigil: \033[%sm%s\033[0m, %u provider%s, at %s\n\n",
		    fmt_word_color(b), b, n, n == 1 ? "" : "s", when);
	else
		printf("vigil: %s, %u provider%s, at %s\n\n", b, n,
		    n == 1 ? "" : "s", when);
	if (n > 0)
		(void)show_list(x, ps, cols, NCOLS(cols), "");
}

/*
 * What a router acts on, in the detail view: usable and when it is
 * expected back, the reason and since when, and the rate-limit
 * headroom per resource reported.
 */
static void
router_detail(struct ctx *x, const msgpack_object *p, uint64_t now)
{
	const msgpack_object *rl = mp_get(p, "ratelimit"), *k, *r;
	uint64_t at = mp_uint_of(p, "usable_at_ns"), lim, rem;
	char b[64], age[32], when[32], pct[16];
	const char *lead = " rate limits:";
	uint32_t i;

	if (mp_bool_of(p, "usable"))
		printf("      usable: %s\n", x->x_color ? "\033[32myes\033[0m" :
		    "yes");
	else
		printf("      usable: %s%s\n", x->x_color ?
		    "\033[31mno\033[0m" : "no", mp_bool_of(p, "needs_human") ?
		    ", needs a human" : "");
	if (at != 0) {
		fmt_age(age, sizeof(age), now, at);
		fmt_time(when, sizeof(when), at);
		printf("   usable at: %s (%s)\n", when, age);
	}
	mp_str_of(p, "reason", b, sizeof(b));
	if (strcmp(b, "-") != 0 && mp_uint_of(p, "reason_since_ns") != 0) {
		fmt_age(age, sizeof(age), now, mp_uint_of(p,
		    "reason_since_ns"));
		printf("      reason: %s, since %s\n", b, age);
	} else
		printf("      reason: %s\n", b);
	if (rl == NULL || rl->type != MSGPACK_OBJECT_MAP ||
	    rl->via.map.size == 0) {
		printf("%s none reported\n", lead);
		return;
	}
	for (i = 0; i < rl->via.map.size; i++) {
		k = &rl->via.map.ptr[i].key;
		r = &rl->via.map.ptr[i].val;
		if (k->type != MSGPACK_OBJECT_STR)
			continue;
		lim = mp_uint_of(r, "limit");
		rem = mp_uint_of(r, "remaining");
		fmt_rate(pct, sizeof(pct), lim != 0 ? (double)rem / lim : 0);
		printf("%s %.*s %" PRIu64 "/%" PRIu64 " (%s)", lead,
		    (int)k->via.str.size, k->via.str.ptr, rem, lim, pct);
		if (mp_uint_of(r, "reset_at_ns") != 0) {
			fmt_age(age, sizeof(age), now, mp_uint_of(r,
			    "reset_at_ns"));
			printf(", resets %s", age);
		}
		putchar('\n');
		lead = "             ";
	}
}

/* "tokens: 40 of 20000 today": the billed generation checks' tokens of
 * the UTC day against gen_budget; nothing from a vigild that does not
 * say. */
static void
tokens_detail(const msgpack_object *p)
{
	const msgpack_object *tk = mp_get(p, "tokens");

	if (tk == NULL || tk->type != MSGPACK_OBJECT_MAP)
		return;
	if (mp_uint_of(tk, "budget") != 0)
		printf("      tokens: %" PRIu64 " of %" PRIu64 " today\n",
		    mp_uint_of(tk, "used_today"), mp_uint_of(tk, "budget"));
	else
		printf("      tokens: %" PRIu64 " today, no budget\n",
		    mp_uint_of(tk, "used_today"));
}

/* LISTED: yes, no, or "-" while no list check said. */
static void
cell_listed(struct table *t, size_t col, const msgpack_object *m,
    const struct tcol *c)
{
	const msgpack_object *v = mp_get(m, "listed");

	(void)c;
	if (v == NULL || v->type != MSGPACK_OBJECT_BOOLEAN)
		table_set(t, col, "-");
	else if (v->via.boolean)
		table_set(t, col, "yes");
	else {
		table_set(t, col, "no");
		table_color(t, col, "31");
	}
}

/* LAST CHECK of a model: "ok 3s ago", or the error's code; "never". */
static void
cell_mlast(struct table *t, size_t col, const msgpack_object *m,
    const struct tcol *c)
{
	char b[64], e[64], age[32];

	(void)c;
	if (mp_uint_of(m, "last_check_at_ns") == 0) {
		table_set(t, col, "never");
		return;
	}
	fmt_age(age, sizeof(age), fmt_now_ns(), mp_uint_of(m,
	    "last_check_at_ns"));
	mp_str_of(m, "last_outcome", b, sizeof(b));
	mp_str_of(m, "last_error", e, sizeof(e));
	if (strcmp(b, "ok") != 0 && e[0] != '\0' && strcmp(e, "-") != 0)
		table_set(t, col, "%s %s %s", b, e, age);
	else
		table_set(t, col, "%s %s", b, age);
	table_color(t, col, fmt_word_color(b));
}

/*
 * The provider's models, one row each: status, usable, reason, TTFT p95
 * and error rate of the 5-minute window, whether the models list has it,
 * the newest generation check.  Nothing when it has none.
 */
static void
models_detail(struct ctx *x, const msgpack_object *p)
{
	static const struct tcol mcols[] = {
		{ "MODEL", TBL_LEFT, cell_str, "name", NULL, NULL, NULL },
		{ "STATUS", TBL_LEFT, cell_word, "status", NULL, NULL, NULL },
		{ "USABLE", TBL_LEFT, cell_usable, NULL, NULL, NULL, NULL },
		{ "REASON", TBL_LEFT, cell_word, "reason", NULL, NULL, NULL },
		{ "TTFT p95 5m", TBL_RIGHT, cell_fmt, "ttft_p95_ms", "5m",
		    fmt_ms, NULL },
		{ "ERR 5m", TBL_RIGHT, cell_fmt, "error_rate", "5m",
		    fmt_rate, NULL },
		{ "LISTED", TBL_LEFT, cell_listed, NULL, NULL, NULL, NULL },
		{ "LAST CHECK", TBL_LEFT, cell_mlast, NULL, NULL, NULL, NULL },
	};
	const msgpack_object *ms = mp_get(p, "models");

	if (ms == NULL || ms->type != MSGPACK_OBJECT_ARRAY ||
	    ms->via.array.size == 0)
		return;
	putchar('\n');
	(void)show_list(x, ms, mcols, NCOLS(mcols), "");
}

/* One provider, systemctl status style. */
static void
status_detail(struct ctx *x, const msgpack_object *p, uint64_t now)
{
	static const char *const wn[] = { "1m", "5m", "15m" };
	static const struct tcol wcols[] = {
		{ "WINDOW", TBL_LEFT, NULL, NULL, NULL, NULL, NULL },
		{ "SAMPLES", TBL_RIGHT, cell_uint, "samples", NULL,
		    NULL, NULL },
		{ "ERRORS", TBL_RIGHT, cell_fmt, "error_rate", NULL,
		    fmt_rate, NULL },
		{ "UPTIME", TBL_RIGHT, cell_fmt, "uptime", NULL,
		    fmt_rate, NULL },
		{ "P50 ms", TBL_RIGHT, cell_fmt, "p50_ms", NULL,
		    fmt_ms, NULL },
		{ "P95 ms", TBL_RIGHT, cell_fmt, "p95_ms", NULL,
		    fmt_ms, NULL },
		{ "P99 ms", TBL_RIGHT, cell_fmt, "p99_ms", NULL,
		    fmt_ms, NULL },
	};
	const msgpack_object *last = mp_get(p, "last_check");
	struct table *t;
	char name[64], kind[32], b[256], age[32], when[32], lat[16];
	uint64_t until;
	size_t i;

	mp_str_of(p, "name", name, sizeof(name));
	mp_str_of(p, "kind", kind, sizeof(kind));
	mp_str_of(p, "status", b, sizeof(b));
	if (x->x_color && fmt_word_color(b) != NULL)
		printf("%s (%s): \033[%sm%s\033[0m%s\n", name, kind,
		    fmt_word_color(b), b, mp_bool_of(p, "stale") ? ", stale" :
		    "");
	else
		printf("%s (%s): %s%s\n", name, kind, b,
		    mp_bool_of(p, "stale") ? ", stale" : "");
	router_detail(x, p, now);
	printf("     circuit: %s\n", mp_str_of(p, "circuit", b, sizeof(b)));
	printf("       trend: %s\n", mp_str_of(p, "trend", b, sizeof(b)));
	printf("      prober: %s%s\n", mp_str_of(p, "state", b, sizeof(b)),
	    mp_bool_of(p, "paused") ? ", paused" : "");
	if (last == NULL || last->type != MSGPACK_OBJECT_MAP)
		printf("  last check: never\n");
	else {
		fmt_age(age, sizeof(age), now, mp_uint_of(last, "at_ns"));
		fmt_time(when, sizeof(when), mp_uint_of(last, "at_ns"));
		fmt_ms(lat, sizeof(lat), mp_dbl_of(last, "latency_ms"));
		printf("  last check: %s, HTTP %" PRIu64 ", %s ms, %s (%s)\n",
		    mp_str_of(last, "outcome", b, sizeof(b)),
		    mp_uint_of(last, "http_status"), lat, age, when);
	}
	mp_str_of(p, "last_error", b, sizeof(b));
	printf("  last error: %s\n", b[0] != '\0' ? b : "-");
	until = mp_uint_of(p, "silenced_until_ns");
	if (until > now) {
		fmt_time(when, sizeof(when), until);
		fmt_age(age, sizeof(age), now, until);
		printf("    silenced: until %s (%s)\n", when, age);
	}
	tokens_detail(p);
	putchar('\n');
	if ((t = table_of(wcols, NCOLS(wcols))) == NULL)
		return;
	for (i = 0; i < sizeof(wn) / sizeof(wn[0]); i++) {
		table_add(t, wcols, NCOLS(wcols), mp_get(mp_get(p, "windows"),
		    wn[i]));
		table_set(t, 0, "%s", wn[i]);
	}
	table_print(t, stdout, x->x_color);
	table_free(t);
	models_detail(x, p);
}

/* The whole table, or (sa_name) one provider in detail. */
static int
show_status(struct ctx *x, const msgpack_object *res,
    const struct show_arg *sa)
{
	const msgpack_object *ps, *found = NULL;
	uint32_t i;

	if (sa->sa_name == NULL) {
		if (x->x_json)
			return print_json(res);
		status_table(x, res);
		return CTL_EXIT_OK;
	}
	ps = mp_get(res, "providers");
	for (i = 0; ps != NULL && ps->type == MSGPACK_OBJECT_ARRAY &&
	    i < ps->via.array.size; i++)
		if (mp_streq(mp_get(&ps->via.array.ptr[i], "name"),
		    sa->sa_name))
			found = &ps->via.array.ptr[i];
	if (found == NULL) {
		fprintf(stderr, "vigilctl: not_found: no provider \"%s\"\n",
		    sa->sa_name);
		return CTL_EXIT_ERROR;
	}
	if (x->x_json)
		return print_json(found);
	status_detail(x, found, fmt_now_ns());
	return CTL_EXIT_OK;
}

static int
cmd_status(struct ctx *x, const struct cmd *c, int argc, char **argv)
{
	const struct show_arg sa = { .sa_name = argc == 2 ? argv[1] : NULL,
	    .sa_own_json = 1 };

	struct args a = { 0 };
	int rc;

	if (argc > 2)
		return usage_cmd(c, "status takes at most one provider");
	/* One provider: vigild sends it alone, its models in full. */
	if (argc == 2 && (rc = provider_arg(c, argv[1], &a)) != CTL_EXIT_OK)
		return rc;
	return run_show(x, "status", argc == 2 ? &a : NULL, show_status, &sa);
}

static int
show_providers(struct ctx *x, const msgpack_object *res,
    const struct show_arg *sa)
{
	static const struct tcol cols[] = {
		{ "NAME", TBL_LEFT, cell_str, "name", NULL, NULL, NULL },
		{ "KIND", TBL_LEFT, cell_str, "kind", NULL, NULL, NULL },
		{ "HOST", TBL_LEFT, cell_str, "host", NULL, NULL, NULL },
		{ "STATE", TBL_LEFT, cell_word, "state", NULL, NULL, NULL },
		{ "PID", TBL_RIGHT, cell_uint_or_dash, "pid", NULL,
		    NULL, NULL },
		{ "INTERVAL", TBL_RIGHT, cell_fmt, "interval_ms", NULL,
		    NULL, fmt_duration },
		{ "TIMEOUT", TBL_RIGHT, cell_fmt, "timeout_ms", NULL,
		    NULL, fmt_duration },
		{ "PAUSED", TBL_LEFT, cell_yesno, "paused", NULL, NULL, NULL },
		{ "RESTARTS", TBL_RIGHT, cell_uint, "restarts", NULL,
		    NULL, NULL },
		{ "EPOCH", TBL_RIGHT, cell_uint, "writer_epoch", NULL,
		    NULL, NULL },
	};

	(void)sa;
	return show_list(x, res, cols, NCOLS(cols), "no providers");
}

static int
cmd_providers(struct ctx *x, const struct cmd *c, int argc, char **argv)
{
	const struct show_arg sa = { .sa_name = c->c_name };

	(void)argv;
	if (argc != 1)
		return usage_cmd(c, "providers takes no arguments");
	return run_show(x, "providers", NULL, show_providers, &sa);
}

/*
 * probe_now's samples, NAME OUTCOME HTTP LATENCY AT ERROR: one, or
 * {name: {"ok", "result" | "error"}} for all.  1 if any failed (with
 * --json too).
 */
static int
show_probe(struct ctx *x, const msgpack_object *res,
    const struct show_arg *sa)
{
	static const struct tcol cols[] = {
		{ "PROVIDER", TBL_LEFT, NULL, NULL, NULL, NULL, NULL },
		{ "OUTCOME", TBL_LEFT, cell_word, "outcome", NULL, NULL, NULL },
		{ "HTTP", TBL_RIGHT, cell_uint_or_dash, "http_status", NULL,
		    NULL, NULL },
		{ "LATENCY ms", TBL_RIGHT, cell_fmt, "latency_ms", NULL,
		    fmt_ms, NULL },
		{ "AT", TBL_LEFT, cell_fmt, "wall_ns", NULL,
		    NULL, fmt_time },
		{ "ERROR", TBL_LEFT, cell_str, "error", NULL, NULL, NULL },
	};
	const msgpack_object *v, *e;
	struct table *t;
	char code[64], msg[512];
	uint32_t i, n;
	int all = strcmp(sa->sa_name, "all") == 0, failed = 0;

	n = all && res->type == MSGPACK_OBJECT_MAP ? res->via.map.size : 0;
	for (i = 0; i < n; i++)
		failed |= !mp_bool_of(&res->via.map.ptr[i].val, "ok");
	if (x->x_json)
		return print_json(res) != CTL_EXIT_OK || failed ?
		    CTL_EXIT_ERROR : CTL_EXIT_OK;
	if ((t = table_of(cols, NCOLS(cols))) == NULL)
		return CTL_EXIT_ERROR;
	if (!all) {
		table_add(t, cols, NCOLS(cols), res);
		table_set(t, 0, "%s", sa->sa_name);
	}
	for (i = 0; i < n; i++) {
		v = &res->via.map.ptr[i].val;
		if (mp_bool_of(v, "ok")) {
			table_add(t, cols, NCOLS(cols), mp_get(v, "result"));
			cell_key(t, 0, &res->via.map.ptr[i].key);
			continue;
		}
		table_row(t);
		cell_key(t, 0, &res->via.map.ptr[i].key);
		table_set(t, 1, "error");
		table_color(t, 1, fmt_word_color("error"));
		e = mp_get(v, "error");
		table_set(t, 5, "%s: %s", mp_str_of(e, "code", code,
		    sizeof(code)), mp_str_of(e, "message", msg, sizeof(msg)));
	}
	table_print(t, stdout, x->x_color);
	table_free(t);
	return failed ? CTL_EXIT_ERROR : CTL_EXIT_OK;
}

static int
cmd_probe(struct ctx *x, const struct cmd *c, int argc, char **argv)
{
	const struct show_arg sa = { .sa_name = argc == 2 ? argv[1] : NULL,
	    .sa_own_json = 1 };
	struct args a = { 0 };
	int rc;

	if (argc != 2)
		return usage_cmd(c, "probe takes one provider, or all");
	if ((rc = provider_arg(c, argv[1], &a)) != CTL_EXIT_OK)
		return rc;
	return run_show(x, "probe_now", &a, show_probe, &sa);
}

/* pause, resume, unsilence: PROVIDER|all and nothing else. */
static int
cmd_pause(struct ctx *x, const struct cmd *c, int argc, char **argv)
{
	struct show_arg sa = { .sa_name = argc == 2 ? argv[1] : NULL,
	    .sa_own_json = 1 };
	struct args a = { 0 };
	int rc;

	if (argc != 2)
		return usage_cmd(c, "%s takes one provider, or all",
		    c->c_name);
	if ((rc = provider_arg(c, argv[1], &a)) != CTL_EXIT_OK)
		return rc;
	sa.sa_done = strcmp(c->c_name, "pause") == 0 ? "paused" :
	    strcmp(c->c_name, "resume") == 0 ? "resumed" : "unsilenced";
	/* The aggregator answers unsilence for all at once. */
	sa.sa_flat = strcmp(c->c_name, "unsilence") == 0;
	return run_show(x, c->c_name, &a, show_done, &sa);
}

static int
cmd_interval(struct ctx *x, const struct cmd *c, int argc, char **argv)
{
	struct show_arg sa = { .sa_name = argc == 3 ? argv[1] : NULL,
	    .sa_own_json = 1 };
	struct args a = { 0 };
	char done[64], d[32];
	uint32_t ms;
	int rc;

	if (argc != 3)
		return usage_cmd(c, "interval takes a provider (or all) and a "
		    "duration");
	if (conf_parse_duration(argv[2], &ms) == -1 || ms == 0)
		return usage_cmd(c, "\"%s\" is not a duration (such as 30s, "
		    "2m, 500ms)", argv[2]);
	if ((rc = provider_arg(c, argv[1], &a)) != CTL_EXIT_OK)
		return rc;
	args_uint(&a, "interval_ms", ms);
	fmt_duration(d, sizeof(d), ms);
	snprintf(done, sizeof(done), "interval %s", d);
	sa.sa_done = done;
	return run_show(x, "set_interval", &a, show_done, &sa);
}

/*
 * silence's REASON: --reason/-r (before or after the positional
 * arguments) or the words after DURATION, not both.  words are argv
 * after DURATION.  Returns CTL_EXIT_OK with reason set ("" if none).
 */
static int
silence_reason(const struct cmd *c, int n, char **words, const char *ropt,
    char *reason, size_t len)
{
	size_t off = 0;
	int i;

	reason[0] = '\0';
	for (i = 0; i < n; i++) {
		if ((strcmp(words[i], "-r") == 0 ||
		    strcmp(words[i], "--reason") == 0) && i + 1 < n) {
			ropt = words[++i];
			continue;
		}
		if (strncmp(words[i], "--reason=", 9) == 0) {
			ropt = words[i] + 9;
			continue;
		}
		if (off < len)
			off += (size_t)snprintf(reason + off, len - off,
			    "%s%s", off > 0 ? " " : "", words[i]);
	}
	if (ropt != NULL) {
		if (reason[0] != '\0')
			return usage_cmd(c, "give the reason once: --reason "
			    "or the words after DURATION");
		snprintf(reason, len, "%s", ropt);
	}
	if (off >= len || strlen(reason) >= len - 1)
		return usage_cmd(c, "the reason is longer than 254 bytes");
	return CTL_EXIT_OK;
}

static int
show_silence(struct ctx *x, const msgpack_object *res,
    const struct show_arg *sa)
{
	char when[32], age[32];
	uint64_t until = mp_uint_of(res, "until_ns");

	(void)x;
	fmt_time(when, sizeof(when), until);
	fmt_age(age, sizeof(age), fmt_now_ns(), until);
	printf("%s: silenced until %s (%s)%s%s\n", sa->sa_name, when, age,
	    sa->sa_reason[0] != '\0' ? ": " : "", sa->sa_reason);
	return CTL_EXIT_OK;
}

static int
cmd_silence(struct ctx *x, const struct cmd *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "reason",	required_argument,	NULL, 'r' },
		{ NULL,		0,			NULL, 0 }
	};
	struct show_arg sa = { .sa_own_json = 0 };
	struct args a = { 0 };
	char reason[256];
	const char *ropt = NULL;
	uint32_t ms;
	int ch, rc;

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
	if ((rc = silence_reason(c, argc - 2, argv + 2, ropt, reason,
	    sizeof(reason))) != CTL_EXIT_OK ||
	    (rc = provider_arg(c, argv[0], &a)) != CTL_EXIT_OK)
		return rc;
	args_uint(&a, "duration_ms", ms);
	if (reason[0] != '\0')
		args_str(&a, "reason", reason);
	sa.sa_name = argv[0];
	sa.sa_reason = reason;
	return run_show(x, "silence", &a, show_silence, &sa);
}

/* An alert's value or threshold: error_rate a fraction, latency ms. */
static void
cell_alert(struct table *t, size_t col, const msgpack_object *a,
    const struct tcol *c)
{
	char kind[32], b[64];
	double v = mp_dbl_of(a, c->tc_key);

	mp_str_of(a, "kind", kind, sizeof(kind));
	if (strcmp(kind, "error_rate") == 0) {
		fmt_rate(b, sizeof(b), v);
		table_set(t, col, "%s", b);
	} else if (strcmp(kind, "latency") == 0) {
		fmt_ms(b, sizeof(b), v);
		table_set(t, col, "%s ms", b);
	} else
		table_set(t, col, "%g", v);
}

static int
show_alerts(struct ctx *x, const msgpack_object *res,
    const struct show_arg *sa)
{
	static const struct tcol cols[] = {
		{ "TIME", TBL_LEFT, cell_fmt, "at_ns", NULL,
		    NULL, fmt_time },
		{ "ID", TBL_RIGHT, cell_uint, "id", NULL, NULL, NULL },
		{ "PROVIDER", TBL_LEFT, cell_str, "provider", NULL,
		    NULL, NULL },
		{ "LEVEL", TBL_LEFT, cell_word, "level", NULL, NULL, NULL },
		{ "KIND", TBL_LEFT, cell_str, "kind", NULL, NULL, NULL },
		{ "VALUE", TBL_RIGHT, cell_alert, "value", NULL, NULL, NULL },
		{ "THRESHOLD", TBL_RIGHT, cell_alert, "threshold", NULL,
		    NULL, NULL },
		{ "SILENCED", TBL_LEFT, cell_yesno, "silenced", NULL,
		    NULL, NULL },
	};

	(void)sa;
	return show_list(x, res, cols, NCOLS(cols), "no alerts");
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
	const struct show_arg sa = { .sa_name = c->c_name };
	struct args a = { 0 };
	const char *prov = NULL, *level = NULL;
	uint64_t since = 0, limit = 0;
	int ch, have_since = 0;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "s:p:l:n:", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			if (fmt_parse_time(optarg, fmt_now_ns(), &since) == -1)
				return usage_cmd(c, "--since %s: a duration "
				    "ago (1h), an RFC 3339 UTC time or "
				    "@SECONDS", optarg);
			have_since = 1;
			break;
		case 'p':
			if (optarg[0] == '\0' || strlen(optarg) >= 64)
				return usage_cmd(c, "--provider: a provider "
				    "name");
			prov = optarg;
			break;
		case 'l':
			if (strcmp(optarg, "warning") != 0 &&
			    strcmp(optarg, "critical") != 0 &&
			    strcmp(optarg, "resolved") != 0)
				return usage_cmd(c, "--level: warning, "
				    "critical or resolved");
			level = optarg;
			break;
		case 'n':
			if (limit_arg(c, optarg, &limit) != CTL_EXIT_OK)
				return CTL_EXIT_USAGE;
			break;
		default:
			return usage_cmd(c, "unknown option");
		}
	}
	if (optind != argc)
		return usage_cmd(c, "unexpected \"%s\"", argv[optind]);
	if (have_since)
		args_uint(&a, "since_ns", since);
	if (prov != NULL)
		args_str(&a, "provider", prov);
	if (level != NULL)
		args_str(&a, "level", level);
	if (limit != 0)
		args_uint(&a, "limit", limit);
	return run_show(x, "alerts", &a, show_alerts, &sa);
}

/* "NAME, step S, N points", then the points. */
static int
show_history(struct ctx *x, const msgpack_object *res,
    const struct show_arg *sa)
{
	static const struct tcol cols[] = {
		{ "TIME", TBL_LEFT, cell_fmt, "at_ns", NULL,
		    NULL, fmt_time },
		{ "STATUS", TBL_LEFT, cell_word, "status", NULL, NULL, NULL },
		{ "REASON", TBL_LEFT, cell_word, "reason", NULL, NULL, NULL },
		{ "CIRCUIT", TBL_LEFT, cell_word, "circuit", NULL, NULL, NULL },
		{ "OUTCOME", TBL_LEFT, cell_word, "outcome", NULL, NULL, NULL },
		{ "HTTP", TBL_RIGHT, cell_uint_or_dash, "http_status", NULL,
		    NULL, NULL },
		{ "LATENCY ms", TBL_RIGHT, cell_fmt, "latency_ms", NULL,
		    fmt_ms, NULL },
		{ "1m p50/p95/p99 ms", TBL_RIGHT, cell_pcts, NULL, NULL,
		    NULL, NULL },
		{ "ERR", TBL_RIGHT, cell_fmt, "error_rate", NULL,
		    fmt_rate, NULL },
		{ "UPTIME", TBL_RIGHT, cell_fmt, "uptime", NULL,
		    fmt_rate, NULL },
		{ "SAMPLES", TBL_RIGHT, cell_uint, "samples_1m", NULL,
		    NULL, NULL },
	};
	const msgpack_object *pts = mp_get(res, "points");
	char b[64];

	if (pts == NULL || pts->type != MSGPACK_OBJECT_ARRAY ||
	    pts->via.array.size == 0) {
		printf("%s: no history in that range\n", sa->sa_name);
		return CTL_EXIT_OK;
	}
	printf("%s, step %s, %u point%s\n\n", sa->sa_name,
	    mp_str_of(res, "step", b, sizeof(b)), pts->via.array.size,
	    pts->via.array.size == 1 ? "" : "s");
	return show_list(x, pts, cols, NCOLS(cols), "");
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
	struct show_arg sa = { .sa_own_json = 0 };
	struct args a = { 0 };
	const char *step = NULL;
	uint64_t from = 0, to = 0, limit = 0, now = fmt_now_ns();
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
			*(ch == 'f' ? &have_from : &have_to) = 1;
			break;
		case 's':
			if (strcmp(optarg, "raw") != 0 &&
			    strcmp(optarg, "1m") != 0 &&
			    strcmp(optarg, "5m") != 0 &&
			    strcmp(optarg, "15m") != 0 &&
			    strcmp(optarg, "1h") != 0)
				return usage_cmd(c, "--step: raw, 1m, 5m, 15m "
				    "or 1h");
			step = optarg;
			break;
		case 'n':
			if (limit_arg(c, optarg, &limit) != CTL_EXIT_OK)
				return CTL_EXIT_USAGE;
			break;
		default:
			return usage_cmd(c, "unknown option");
		}
	}
	if (argc - optind != 1)
		return usage_cmd(c, "history takes one provider");
	sa.sa_name = argv[optind];
	if (strcmp(sa.sa_name, "all") == 0)
		return usage_cmd(c, "history is of one provider, not all");
	if (have_from && have_to && from > to)
		return usage_cmd(c, "--from is after --to");
	if ((rc = provider_arg(c, sa.sa_name, &a)) != CTL_EXIT_OK)
		return rc;
	if (have_from)
		args_uint(&a, "from_ns", from);
	if (have_to)
		args_uint(&a, "to_ns", to);
	if (step != NULL)
		args_str(&a, "step", step);
	if (limit != 0)
		args_uint(&a, "limit", limit);
	return run_show(x, "history", &a, show_history, &sa);
}

static int
show_simple(struct ctx *x, const msgpack_object *res,
    const struct show_arg *sa)
{
	(void)res;
	if (strcmp(sa->sa_name, "reload") == 0)
		printf("configuration reloaded\n");
	else
		printf("vigild (pid %" PRIu64 ") is shutting down\n",
		    x->x_cc.cc_pid);
	return CTL_EXIT_OK;
}

/*
 * report's options into *rec's numbers: --status N (100..599),
 * --latency-ms N (a decimal number of ms, up to an hour: what the
 * aggregator takes), --model M.  Returns CTL_EXIT_OK, or a usage error.
 */
static int
report_opts(const struct cmd *c, int argc, char **argv, const char **model,
    uint64_t *status, uint64_t *latency_us)
{
	static const struct option opts[] = {
		{ "model",	required_argument,	NULL, 'm' },
		{ "status",	required_argument,	NULL, 's' },
		{ "latency-ms",	required_argument,	NULL, 'l' },
		{ NULL,		0,			NULL, 0 }
	};
	char *end;
	double ms;
	int ch;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "m:s:l:", opts, NULL)) != -1) {
		switch (ch) {
		case 'm':
			if (optarg[0] == '\0' || strlen(optarg) >= 64)
				return usage_cmd(c, "--model: a model name");
			*model = optarg;
			break;
		case 's':
			errno = 0;
			*status = strtoull(optarg, &end, 10);
			if (optarg[0] < '0' || optarg[0] > '9' ||
			    *end != '\0' || errno != 0 || *status < 100 ||
			    *status > 599)
				return usage_cmd(c, "--status: an HTTP status, "
				    "100..599");
			break;
		case 'l':
			errno = 0;
			ms = strtod(optarg, &end);
			if (optarg[0] < '0' || optarg[0] > '9' ||
			    *end != '\0' || errno != 0 || !(ms <= 3600000.0))
				return usage_cmd(c, "--latency-ms: a number of "
				    "ms, 0..3600000");
			*latency_us = (uint64_t)(ms * 1000.0 + 0.5);
			break;
		default:
			return usage_cmd(c, "unknown option");
		}
	}
	return CTL_EXIT_OK;
}

/*
 * report PROVIDER OUTCOME: one traffic report through the control
 * socket's report op (root, vigild's uid, admin_group or report_group),
 * as a service without the C reporter sends them, for trying a setup or
 * a script's one-off.  Exits 1 when vigild did not take it (invalid: an
 * unknown provider or model; dropped: its reports ring was full).
 */
static int
cmd_report(struct ctx *x, const struct cmd *c, int argc, char **argv)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct ctl_reply r;
	const char *model = NULL, *prov, *out;
	uint64_t status = 0, latency_us = 0;
	size_t n = 2;
	unsigned k;
	int rc;

	if ((rc = report_opts(c, argc, argv, &model, &status,
	    &latency_us)) != CTL_EXIT_OK)
		return rc;
	if (argc - optind != 2)
		return usage_cmd(c, "report takes a provider and an outcome");
	prov = argv[optind];
	out = argv[optind + 1];
	if (prov[0] == '\0' || strlen(prov) >= 64 || prov[0] == '-')
		return usage_cmd(c, "\"%s\" is not a provider name", prov);
	for (k = 0; k < VIGIL_OUT_COUNT; k++)
		if (strcmp(out, vigil_outcome_name(k)) == 0)
			break;
	if (k == VIGIL_OUT_COUNT)
		return usage_cmd(c, "\"%s\" is not an outcome (ok, timeout, "
		    "dns, connect, tls, http_5xx, rate_limited, auth, ...)",
		    out);
	n += (model != NULL) + (status != 0) + (latency_us != 0);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	msgpack_pack_str(&pk, 7);
	msgpack_pack_str_body(&pk, "reports", 7);
	msgpack_pack_array(&pk, 1);
	msgpack_pack_map(&pk, n);
	mp_kv_str(&pk, "provider", prov);
	mp_kv_str(&pk, "outcome", out);
	if (model != NULL)
		mp_kv_str(&pk, "model", model);
	if (status != 0)
		mp_kv_uint(&pk, "http_status", status);
	if (latency_us != 0)
		mp_kv_uint(&pk, "latency_us", latency_us);
	rc = ctl_run(x, "report", &sb, &r);
	msgpack_sbuffer_destroy(&sb);
	if (rc != CTL_EXIT_OK)
		return rc;
	if (x->x_json)
		rc = print_json(r.result);
	else if (mp_uint_of(r.result, "accepted") == 1)
		printf("%s: %s reported\n", prov, out);
	else if (mp_uint_of(r.result, "invalid") == 1)
		printf("%s: report invalid: no such provider%s\n", prov,
		    model != NULL ? ", or no such model of it" : "");
	else
		printf("%s: report dropped: vigild's reports ring is full\n",
		    prov);
	if (mp_uint_of(r.result, "accepted") != 1)
		rc = CTL_EXIT_ERROR;
	ctl_reply_free(&r);
	return rc;
}

/* reload, shutdown: no arguments, an empty result. */
static int
cmd_simple(struct ctx *x, const struct cmd *c, int argc, char **argv)
{
	const struct show_arg sa = { .sa_name = c->c_name };

	(void)argv;
	if (argc != 1)
		return usage_cmd(c, "%s takes no arguments", c->c_name);
	return run_show(x, c->c_name, NULL, show_simple, &sa);
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
