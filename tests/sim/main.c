/*
 * vigil-sim - fake LLM providers with fault injection, for tests, the
 * benchmarks and the demo.
 *
 *	vigil-sim [-v] [-l ADDR] [-p PORT] [-c CONFIG.json]
 *	    [-P NAME:KIND[:KEY[:PORT]]]... [-f NAME=JSON]...
 *	    [--port-file FILE] [--seed N] [--timeout S]
 *	    [--tls-cert FILE --tls-key FILE]
 *
 * Every provider is served under /NAME/ on the main port; one given a
 * PORT also has a listener of its own, where its API sits at the root
 * as on the real host.  Port 0 picks a free port.  Once every listener
 * is up, one JSON line on stdout (and in --port-file, written whole by
 * rename) tells the chosen ports.  /_sim on any listener is the control
 * endpoint (serve.c).  With --tls-cert and --tls-key every listener
 * speaks HTTPS only (tls.c).  SIGTERM or SIGINT: free everything, exit 0.
 * See tests/sim/README.md.
 */
#include <sys/resource.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>
#include <event2/event.h>
#include <event2/http.h>

#include "log.h"
#include "sim.h"

#define SIM_MAX_HEADERS		(16 * 1024)
#define SIM_MAX_REQ_BODY	(1024 * 1024)
#define SIM_MAX_CONFIG		(16 * 1024 * 1024)
#define SIM_DEF_TIMEOUT_S	300
#define SIM_MAX_FAULT_ARGS	256

struct sim_opts {
	char		 listen[128];
	int		 port;
	long		 timeout_s;
	uint64_t	 seed;
	int		 seed_set;
	const char	*portfile;
	const char	*tls_cert;	/* PEM; both or neither */
	const char	*tls_key;
	char		*cfg_tls_cert;	/* from the config, malloc'd */
	char		*cfg_tls_key;
};

static struct sim	 sim;
static struct sim_opts	 opts;
static struct evhttp	*mainhttp;

static void	usage(void) __attribute__((noreturn));
static int	parse_long(const char *, long, long, long *);
static int	add_spec(const char *, char *, size_t);
static int	load_config(const char *, int, int, char *, size_t);
static int	config_path(const cJSON *, const char *, const char *,
		    char **, char *, size_t);
static int	config_provider(const cJSON *, size_t, char *, size_t);
static int	apply_fault_arg(const char *, char *, size_t);
static struct evhttp *http_new(struct event_base *,
		    void (*)(struct evhttp_request *, void *), void *,
		    struct sim_listen *);
static int	bind_port(struct evhttp *, int *,
		    struct evhttp_bound_socket **, char *, size_t);
static const char *req_path(struct evhttp_request *);
static int	is_control(const char *);
static void	main_cb(struct evhttp_request *, void *);
static void	own_cb(struct evhttp_request *, void *);
static void	faults_changed(struct sim *, struct sim_provider *);
static int	report(void);
static void	signal_cb(evutil_socket_t, short, void *);
static void	raise_nofile(void);

static void
usage(void)
{
	fprintf(stderr, "usage: vigil-sim [-v] [-l ADDR] [-p PORT] "
	    "[-c CONFIG.json]\n"
	    "           [-P NAME:KIND[:KEY[:PORT]]]... [-f NAME=JSON]...\n"
	    "           [--port-file FILE] [--seed N] [--timeout S]\n"
	    "           [--tls-cert FILE --tls-key FILE]\n"
	    "kinds: http openai anthropic google deepseek qwen cursor\n");
	exit(2);
}

/* Decimal s in [min, max] into *out.  Returns 0 or -1. */
static int
parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (s[0] == '\0' || *end != '\0' || errno != 0 || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/*
 * A provider from "NAME:KIND[:KEY[:PORT]]": KEY empty or absent accepts
 * any key, PORT absent or empty means only /NAME on the main port.
 * Returns 0, or -1 with err set.
 */
static int
add_spec(const char *spec, char *err, size_t errlen)
{
	struct sim_provider *p;
	char buf[1024], *f[5], *c;
	int n = 0, kind;
	long port = -1;

	if (strlen(spec) >= sizeof(buf)) {
		snprintf(err, errlen, "--provider: too long");
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s", spec);
	f[n++] = buf;
	for (c = buf; (c = strchr(c, ':')) != NULL && n < 5; ) {
		*c++ = '\0';
		f[n++] = c;
	}
	if (n < 2 || n > 4) {
		snprintf(err, errlen, "--provider '%.64s': expected "
		    "NAME:KIND[:KEY[:PORT]]", f[0]);
		explicit_bzero(buf, sizeof(buf));
		return -1;
	}
	if ((kind = sim_kind_from_name(f[1])) == -1) {
		snprintf(err, errlen, "--provider %.64s: unknown kind '%.32s' "
		    "(http openai anthropic google deepseek qwen cursor)",
		    f[0], f[1]);
		explicit_bzero(buf, sizeof(buf));
		return -1;
	}
	if (n == 4 && f[3][0] != '\0' &&
	    parse_long(f[3], 0, 65535, &port) == -1) {
		snprintf(err, errlen, "--provider %.64s: bad port '%.16s'",
		    f[0], f[3]);
		explicit_bzero(buf, sizeof(buf));
		return -1;
	}
	p = sim_add(&sim, f[0], kind, n >= 3 ? f[2] : "", (int)port, err,
	    errlen);
	explicit_bzero(buf, sizeof(buf));
	return p == NULL ? -1 : 0;
}

/* One entry of the config's "providers" array. */
static int
config_provider(const cJSON *o, size_t idx, char *err, size_t errlen)
{
	const cJSON *v, *name, *kind, *key, *port, *faults;
	struct sim_provider *p;
	char ferr[160];
	int k;

	if (!cJSON_IsObject(o)) {
		snprintf(err, errlen, "providers[%zu]: expected an object",
		    idx);
		return -1;
	}
	cJSON_ArrayForEach(v, o)
		if (strcmp(v->string, "name") != 0 &&
		    strcmp(v->string, "kind") != 0 &&
		    strcmp(v->string, "key") != 0 &&
		    strcmp(v->string, "port") != 0 &&
		    strcmp(v->string, "faults") != 0) {
			snprintf(err, errlen, "providers[%zu]: unknown field "
			    "'%.40s'", idx, v->string);
			return -1;
		}
	name = cJSON_GetObjectItemCaseSensitive(o, "name");
	kind = cJSON_GetObjectItemCaseSensitive(o, "kind");
	key = cJSON_GetObjectItemCaseSensitive(o, "key");
	port = cJSON_GetObjectItemCaseSensitive(o, "port");
	faults = cJSON_GetObjectItemCaseSensitive(o, "faults");
	if (!cJSON_IsString(name) || !cJSON_IsString(kind)) {
		snprintf(err, errlen, "providers[%zu]: \"name\" and \"kind\" "
		    "must be strings", idx);
		return -1;
	}
	if ((k = sim_kind_from_name(kind->valuestring)) == -1) {
		snprintf(err, errlen, "providers[%zu]: unknown kind '%.32s'",
		    idx, kind->valuestring);
		return -1;
	}
	if (key != NULL && !cJSON_IsString(key)) {
		snprintf(err, errlen, "providers[%zu]: \"key\" must be a "
		    "string", idx);
		return -1;
	}
	if (port != NULL && (!cJSON_IsNumber(port) || port->valuedouble < 0 ||
	    port->valuedouble > 65535 ||
	    port->valuedouble != (double)port->valueint)) {
		snprintf(err, errlen, "providers[%zu]: \"port\" must be an "
		    "integer in 0..65535", idx);
		return -1;
	}
	if ((p = sim_add(&sim, name->valuestring, k, key != NULL ?
	    key->valuestring : "", port != NULL ? port->valueint : -1, err,
	    errlen)) == NULL)
		return -1;
	if (faults != NULL && sim_faults_parse(faults, &p->faults, ferr,
	    sizeof(ferr)) == -1) {
		snprintf(err, errlen, "provider %s: faults: %s", p->name, ferr);
		return -1;
	}
	return 0;
}

/*
 * The JSON config: {"listen", "port", "seed", "timeout", "providers":
 * [{"name", "kind", "key", "port", "faults": {...}}]}.  listen and port
 * apply unless given on the command line (have_listen, have_port).
 */
static int
load_config(const char *path, int have_listen, int have_port, char *err,
    size_t errlen)
{
	const cJSON *v, *e;
	cJSON *root = NULL;
	FILE *fp;
	char *buf = NULL;
	char perr[256];
	size_t n = 0, i;
	int rc = -1;

	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if ((buf = malloc(SIM_MAX_CONFIG + 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	n = fread(buf, 1, SIM_MAX_CONFIG + 1, fp);
	if (ferror(fp)) {
		snprintf(err, errlen, "%s: read error", path);
		goto out;
	}
	if (n > SIM_MAX_CONFIG) {
		snprintf(err, errlen, "%s: larger than %d bytes", path,
		    SIM_MAX_CONFIG);
		goto out;
	}
	if ((root = cJSON_ParseWithLength(buf, n)) == NULL) {
		snprintf(err, errlen, "%s: not valid JSON (near byte %ld)",
		    path, cJSON_GetErrorPtr() != NULL ?
		    (long)(cJSON_GetErrorPtr() - buf) : 0L);
		goto out;
	}
	if (!cJSON_IsObject(root)) {
		snprintf(err, errlen, "%s: expected a JSON object", path);
		goto out;
	}
	cJSON_ArrayForEach(v, root) {
		if (strcmp(v->string, "listen") == 0) {
			if (!cJSON_IsString(v) || strlen(v->valuestring) >=
			    sizeof(opts.listen)) {
				snprintf(err, errlen, "%s: \"listen\" must be "
				    "an address string", path);
				goto out;
			}
			if (!have_listen)
				snprintf(opts.listen, sizeof(opts.listen), "%s",
				    v->valuestring);
		} else if (strcmp(v->string, "port") == 0) {
			if (!cJSON_IsNumber(v) || v->valuedouble < 0 ||
			    v->valuedouble > 65535 ||
			    v->valuedouble != (double)v->valueint) {
				snprintf(err, errlen, "%s: \"port\" must be an "
				    "integer in 0..65535", path);
				goto out;
			}
			if (!have_port)
				opts.port = v->valueint;
		} else if (strcmp(v->string, "seed") == 0) {
			if (!cJSON_IsNumber(v) || v->valuedouble < 0 ||
			    v->valuedouble > 9007199254740992.0) {
				snprintf(err, errlen, "%s: \"seed\" must be a "
				    "non-negative integer", path);
				goto out;
			}
			if (!opts.seed_set) {
				opts.seed = (uint64_t)v->valuedouble;
				opts.seed_set = 1;
			}
		} else if (strcmp(v->string, "timeout") == 0) {
			if (!cJSON_IsNumber(v) || v->valuedouble < 1 ||
			    v->valuedouble > 86400) {
				snprintf(err, errlen, "%s: \"timeout\" must be "
				    "1..86400 seconds", path);
				goto out;
			}
			opts.timeout_s = (long)v->valuedouble;
		} else if (strcmp(v->string, "tls_cert") == 0) {
			if (config_path(v, path, "tls_cert",
			    &opts.cfg_tls_cert, err, errlen) == -1)
				goto out;
		} else if (strcmp(v->string, "tls_key") == 0) {
			if (config_path(v, path, "tls_key", &opts.cfg_tls_key,
			    err, errlen) == -1)
				goto out;
		} else if (strcmp(v->string, "providers") == 0) {
			if (!cJSON_IsArray(v)) {
				snprintf(err, errlen, "%s: \"providers\" must "
				    "be an array", path);
				goto out;
			}
			i = 0;
			cJSON_ArrayForEach(e, v) {
				if (config_provider(e, i++, perr,
				    sizeof(perr)) == -1) {
					snprintf(err, errlen, "%s: %s", path,
					    perr);
					goto out;
				}
			}
		} else {
			snprintf(err, errlen, "%s: unknown field '%.40s'", path,
			    v->string);
			goto out;
		}
	}
	rc = 0;
 out:
	if (buf != NULL) {
		explicit_bzero(buf, n);		/* it held keys */
		free(buf);
	}
	cJSON_Delete(root);
	fclose(fp);
	return rc;
}

/* A file name field of the config into *out (malloc'd). */
static int
config_path(const cJSON *v, const char *path, const char *field, char **out,
    char *err, size_t errlen)
{
	if (!cJSON_IsString(v) || v->valuestring[0] == '\0') {
		snprintf(err, errlen, "%s: \"%s\" must be a file name", path,
		    field);
		return -1;
	}
	free(*out);
	if ((*out = strdup(v->valuestring)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* "NAME=JSON": set NAME's faults at start (after every provider). */
static int
apply_fault_arg(const char *arg, char *err, size_t errlen)
{
	struct sim_provider *p;
	const char *eq = strchr(arg, '=');
	char ferr[160];
	cJSON *o;

	if (eq == NULL) {
		snprintf(err, errlen, "--fault '%.64s': expected NAME=JSON",
		    arg);
		return -1;
	}
	if ((p = sim_find(&sim, arg, (size_t)(eq - arg))) == NULL) {
		snprintf(err, errlen, "--fault: unknown provider '%.*s'",
		    (int)(eq - arg > 64 ? 64 : eq - arg), arg);
		return -1;
	}
	if ((o = cJSON_Parse(eq + 1)) == NULL) {
		snprintf(err, errlen, "--fault %s: not valid JSON", p->name);
		return -1;
	}
	if (sim_faults_parse(o, &p->faults, ferr, sizeof(ferr)) == -1) {
		snprintf(err, errlen, "--fault %s: %s", p->name, ferr);
		cJSON_Delete(o);
		return -1;
	}
	cJSON_Delete(o);
	return 0;
}

/*
 * An evhttp with the limits every listener gets, counting its
 * connections in l, speaking HTTPS when sim.tls is set.
 */
static struct evhttp *
http_new(struct event_base *base, void (*cb)(struct evhttp_request *, void *),
    void *arg, struct sim_listen *l)
{
	struct evhttp *h;
	struct timeval tv;

	if ((h = evhttp_new(base)) == NULL)
		return NULL;
	tv.tv_sec = opts.timeout_s;
	tv.tv_usec = 0;
	evhttp_set_max_headers_size(h, SIM_MAX_HEADERS);
	evhttp_set_max_body_size(h, SIM_MAX_REQ_BODY);
	evhttp_set_timeout_tv(h, &tv);
	evhttp_set_allowed_methods(h, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
	    EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE);
	evhttp_set_gencb(h, cb, arg);
	evhttp_set_bevcb(h, sim_listen_bevcb, l);
	return h;
}

/*
 * Listen on opts.listen and *port (0: a free one, stored back in *port).
 * Returns 0, or -1 with err set.
 */
static int
bind_port(struct evhttp *h, int *port, struct evhttp_bound_socket **bound,
    char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fd;

	if ((*bound = evhttp_bind_socket_with_handle(h, opts.listen,
	    (ev_uint16_t)*port)) == NULL) {
		snprintf(err, errlen, "listen on %s port %d: %s", opts.listen,
		    *port, strerror(errno));
		return -1;
	}
	fd = evhttp_bound_socket_get_fd(*bound);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == -1) {
		snprintf(err, errlen, "getsockname: %s", strerror(errno));
		return -1;
	}
	if (ss.ss_family == AF_INET6)
		*port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	else
		*port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return 0;
}

/* The request's path without the query; "/" when there is none. */
static const char *
req_path(struct evhttp_request *req)
{
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
	const char *p = u != NULL ? evhttp_uri_get_path(u) : NULL;

	return p != NULL && p[0] != '\0' ? p : "/";
}

static int
is_control(const char *path)
{
	return strncmp(path, "/_sim", 5) == 0 && (path[5] == '\0' ||
	    path[5] == '/');
}

/* The main port: /_sim..., or /NAME/... for provider NAME. */
static void
main_cb(struct evhttp_request *req, void *arg)
{
	const char *path = req_path(req), *name, *slash;
	struct sim_provider *p;
	char err[160];
	size_t nlen;

	(void)arg;
	if (is_control(path)) {
		sim_control(&sim, req, path + 5);
		return;
	}
	if (strncmp(path, "/_status/", 9) == 0) {
		sim_status_page(&sim, req, path + 8);
		return;
	}
	name = path + 1;
	slash = strchr(name, '/');
	nlen = slash != NULL ? (size_t)(slash - name) : strlen(name);
	if ((p = sim_find(&sim, name, nlen)) == NULL) {
		snprintf(err, sizeof(err), "unknown provider '%.*s' (the path "
		    "starts with /NAME/ of a provider, or /_sim)",
		    (int)(nlen > 64 ? 64 : nlen), name);
		sim_send_error(req, 404, err);
		return;
	}
	sim_serve(&sim, p, req, slash != NULL ? slash : "");
}

/* A provider's own port: its API at the root, and /_sim. */
static void
own_cb(struct evhttp_request *req, void *arg)
{
	const char *path = req_path(req);

	if (is_control(path))
		sim_control(&sim, req, path + 5);
	else
		sim_serve(&sim, arg, req, path);
}

/*
 * "down" on a provider with its own port closes that listener, so a
 * connect is refused as when the host is down; clearing it listens
 * again on the same port.  On the main port down acts as reset.
 */
static void
faults_changed(struct sim *s, struct sim_provider *p)
{
	char err[160];

	(void)s;
	sim_status_mark(p);
	if (p->http == NULL)
		return;
	if (p->faults.down && p->bound != NULL) {
		evhttp_del_accept_socket(p->http, p->bound);
		p->bound = NULL;
		log_info("%s: port %d closed (down)", p->name, p->port);
	} else if (!p->faults.down && p->bound == NULL) {
		if (bind_port(p->http, &p->port, &p->bound, err,
		    sizeof(err)) == -1) {
			p->bound = NULL;
			log_warnx("%s: %s", p->name, err);
		} else
			log_info("%s: port %d open again", p->name, p->port);
	}
}

/*
 * The ready line: {"pid", "listen", "port", "control", "providers":
 * {NAME: {"kind", "base", "port", "url"}}}, on stdout and, written to
 * a temporary name and renamed, in the port file.
 */
static int
report(void)
{
	struct sim_provider *p;
	cJSON *o, *ps, *e;
	const char *scheme = sim.tls != NULL ? "https" : "http";
	char host[140], url[256], tmp[4096];
	char *line;
	FILE *fp;
	size_t i;
	int rc = 0;

	if (strchr(opts.listen, ':') != NULL)
		snprintf(host, sizeof(host), "[%s]", opts.listen);
	else
		snprintf(host, sizeof(host), "%s", opts.listen);
	if ((o = cJSON_CreateObject()) == NULL)
		return -1;
	cJSON_AddNumberToObject(o, "pid", (double)getpid());
	cJSON_AddStringToObject(o, "listen", opts.listen);
	cJSON_AddNumberToObject(o, "port", opts.port);
	cJSON_AddBoolToObject(o, "tls", sim.tls != NULL);
	snprintf(url, sizeof(url), "%s://%s:%d/_sim", scheme, host,
	    opts.port);
	cJSON_AddStringToObject(o, "control", url);
	ps = cJSON_AddObjectToObject(o, "providers");
	for (i = 0; ps != NULL && i < sim.nprov; i++) {
		p = sim.prov[i];
		if ((e = cJSON_AddObjectToObject(ps, p->name)) == NULL)
			break;
		cJSON_AddStringToObject(e, "kind", sim_kind_name(p->kind));
		snprintf(url, sizeof(url), "%s://%s:%d/%s", scheme, host,
		    opts.port, p->name);
		cJSON_AddStringToObject(e, "base", url);
		if (p->port >= 0) {
			cJSON_AddNumberToObject(e, "port", p->port);
			snprintf(url, sizeof(url), "%s://%s:%d", scheme, host,
			    p->port);
			cJSON_AddStringToObject(e, "url", url);
		}
	}
	line = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (line == NULL)
		return -1;
	printf("%s\n", line);
	fflush(stdout);
	if (opts.portfile != NULL) {
		snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", opts.portfile,
		    (long)getpid());
		if ((fp = fopen(tmp, "w")) == NULL ||
		    fprintf(fp, "%s\n", line) < 0 || fclose(fp) == EOF ||
		    rename(tmp, opts.portfile) == -1) {
			log_warn("port file %s", opts.portfile);
			(void)unlink(tmp);
			rc = -1;
		}
	}
	free(line);
	return rc;
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	log_info("signal %d: exiting", (int)sig);
	event_base_loopbreak(arg);
}

/* A thousand providers with ports of their own need more than 1024 fds. */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "port", required_argument, NULL, 'p' },
		{ "config", required_argument, NULL, 'c' },
		{ "provider", required_argument, NULL, 'P' },
		{ "fault", required_argument, NULL, 'f' },
		{ "port-file", required_argument, NULL, 'F' },
		{ "seed", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "tls-cert", required_argument, NULL, 'C' },
		{ "tls-key", required_argument, NULL, 'K' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *faultargs[SIM_MAX_FAULT_ARGS], *config = NULL;
	struct evhttp_bound_socket *mainbound;
	struct event *sigterm = NULL, *sigint = NULL;
	struct sim_provider *p;
	char err[512];
	size_t i, nfault = 0;
	long v;
	int ch, have_listen = 0, have_port = 0, level = LOG_LVL_INFO;
	int rc = 1;

	log_init("vigil-sim", LOG_LVL_INFO);
	snprintf(opts.listen, sizeof(opts.listen), "127.0.0.1");
	opts.timeout_s = SIM_DEF_TIMEOUT_S;
	while ((ch = getopt_long(argc, argv, "l:p:c:P:f:vh", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'l':
			if (strlen(optarg) >= sizeof(opts.listen))
				usage();
			snprintf(opts.listen, sizeof(opts.listen), "%s",
			    optarg);
			have_listen = 1;
			break;
		case 'p':
			if (parse_long(optarg, 0, 65535, &v) == -1) {
				log_warnx("-p '%s': expected a port 0..65535",
				    optarg);
				usage();
			}
			opts.port = (int)v;
			have_port = 1;
			break;
		case 'c':
			config = optarg;
			break;
		case 'P':
			if (add_spec(optarg, err, sizeof(err)) == -1) {
				log_warnx("%s", err);
				goto fail2;
			}
			break;
		case 'f':
			if (nfault == SIM_MAX_FAULT_ARGS) {
				log_warnx("too many --fault options");
				goto fail2;
			}
			faultargs[nfault++] = optarg;
			break;
		case 'F':
			opts.portfile = optarg;
			break;
		case 's':
			if (parse_long(optarg, 0, 0x7fffffffffffffffL, &v) ==
			    -1) {
				log_warnx("--seed '%s': expected a "
				    "non-negative integer", optarg);
				usage();
			}
			opts.seed = (uint64_t)v;
			opts.seed_set = 1;
			break;
		case 't':
			if (parse_long(optarg, 1, 86400, &v) == -1) {
				log_warnx("--timeout '%s': expected 1..86400 "
				    "seconds", optarg);
				usage();
			}
			opts.timeout_s = v;
			break;
		case 'C':
			opts.tls_cert = optarg;
			break;
		case 'K':
			opts.tls_key = optarg;
			break;
		case 'v':
			level = LOG_LVL_DEBUG;
			break;
		default:
			sim_free(&sim);
			usage();
		}
	}
	if (optind != argc) {
		sim_free(&sim);
		usage();
	}
	log_setlevel(level);
	if (config != NULL && load_config(config, have_listen, have_port, err,
	    sizeof(err)) == -1) {
		log_warnx("%s", err);
		goto fail2;
	}
	if (opts.tls_cert == NULL)
		opts.tls_cert = opts.cfg_tls_cert;
	if (opts.tls_key == NULL)
		opts.tls_key = opts.cfg_tls_key;
	if ((opts.tls_cert == NULL) != (opts.tls_key == NULL)) {
		log_warnx("--tls-cert and --tls-key go together (or \"tls_cert\" "
		    "and \"tls_key\" in the config)");
		goto fail2;
	}
	if (opts.tls_cert != NULL && sim_tls_init(&sim, opts.tls_cert,
	    opts.tls_key, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		goto fail2;
	}
	if (sim_sort(&sim, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		goto fail2;
	}
	for (i = 0; i < nfault; i++)
		if (apply_fault_arg(faultargs[i], err, sizeof(err)) == -1) {
			log_warnx("%s", err);
			goto fail2;
		}
	if (sim.nprov == 0)
		log_warnx("no providers (use -P NAME:KIND or -c CONFIG)");

	/* xorshift never leaves 0; mix the seed so that 0 is fine. */
	if (!opts.seed_set)
		opts.seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	sim.rng = opts.seed * 0x9E3779B97F4A7C15ULL + 0x632BE59BD9B4E019ULL;
	if (sim.rng == 0)
		sim.rng = 1;
	sim.on_faults = faults_changed;

	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	if ((sim.base = event_base_new()) == NULL) {
		log_warnx("event_base_new failed");
		goto fail;
	}
	sim_listen_init(&sim.lmain, &sim);
	if ((mainhttp = http_new(sim.base, main_cb, NULL,
	    &sim.lmain)) == NULL) {
		log_warnx("evhttp_new failed");
		goto fail;
	}
	if (bind_port(mainhttp, &opts.port, &mainbound, err,
	    sizeof(err)) == -1) {
		log_warnx("%s", err);
		goto fail;
	}
	for (i = 0; i < sim.nprov; i++) {
		p = sim.prov[i];
		if (p->port < 0)
			continue;
		sim_listen_init(&p->own, &sim);
		if ((p->http = http_new(sim.base, own_cb, p, &p->own)) ==
		    NULL) {
			log_warnx("evhttp_new failed");
			goto fail;
		}
		if (bind_port(p->http, &p->port, &p->bound, err,
		    sizeof(err)) == -1) {
			log_warnx("provider %s: %s", p->name, err);
			goto fail;
		}
		if (p->faults.down) {
			/* Down from the start: closed once the port is known. */
			evhttp_del_accept_socket(p->http, p->bound);
			p->bound = NULL;
		}
	}
	if ((sigterm = evsignal_new(sim.base, SIGTERM, signal_cb,
	    sim.base)) == NULL || (sigint = evsignal_new(sim.base, SIGINT,
	    signal_cb, sim.base)) == NULL || event_add(sigterm, NULL) == -1 ||
	    event_add(sigint, NULL) == -1) {
		log_warnx("signal events failed");
		goto fail;
	}
	if (report() == -1)
		goto fail;
	log_info("%zu providers, main port %s:%d%s", sim.nprov, opts.listen,
	    opts.port, sim.tls != NULL ? " (https)" : "");
	if (event_base_dispatch(sim.base) == -1) {
		log_warnx("event loop failed");
		goto fail;
	}
	rc = 0;
 fail:
	/* Listeners first: their close callbacks still use the providers. */
	if (mainhttp != NULL)
		evhttp_free(mainhttp);
	for (i = 0; i < sim.nprov; i++)
		if (sim.prov[i]->http != NULL) {
			evhttp_free(sim.prov[i]->http);
			sim.prov[i]->http = NULL;
		}
	sim_serve_shutdown();
	if (sigterm != NULL)
		event_free(sigterm);
	if (sigint != NULL)
		event_free(sigint);
	if (sim.base != NULL)
		event_base_free(sim.base);
	sim_free(&sim);
	sim_tls_free(&sim);
	free(opts.cfg_tls_cert);
	free(opts.cfg_tls_key);
	libevent_global_shutdown();
	return rc;
 fail2:
	sim_free(&sim);
	sim_tls_free(&sim);
	free(opts.cfg_tls_cert);
	free(opts.cfg_tls_key);
	return 2;
}
