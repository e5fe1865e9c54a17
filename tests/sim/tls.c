/*
 * tls.c - HTTPS for every listener, and the connection counters.
 *
 * With --tls-cert and --tls-key, one SSL_CTX (TLS 1.2 and later) is
 * made at start and every listener's evhttp gets sim_listen_bevcb: each
 * accepted connection is an OpenSSL bufferevent in accepting state, so
 * the listener speaks HTTPS only.  Without them the same callback only
 * counts and lets evhttp make its plain bufferevent.  Either way a
 * listener counts the TCP connections it accepts and the TLS handshakes
 * completed on them (the SSL_CTX's info callback), so that a test can
 * tell a client that reuses its connection from one that does not.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "log.h"
#include "sim.h"

static void	tls_info(const SSL *, int, int);
static void	tls_error(char *, size_t, const char *, const char *,
		    const char *);
static int	tls_readable(const char *, const char *, char *, size_t);

/*
 * "what FILE: msg (reason)", the reason being the first error OpenSSL
 * queued; then clear the queue.
 */
static void
tls_error(char *err, size_t errlen, const char *what, const char *file,
    const char *msg)
{
	unsigned long e = ERR_peek_error();
	const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;

	snprintf(err, errlen, "%s %s: %s (%s)", what, file, msg,
	    r != NULL ? r : "no detail from OpenSSL");
	ERR_clear_error();
}

/* OpenSSL says "system lib" for a missing file; say what errno says. */
static int
tls_readable(const char *what, const char *file, char *err, size_t errlen)
{
	FILE *fp;

	if ((fp = fopen(file, "r")) == NULL) {
		snprintf(err, errlen, "%s %s: %s", what, file,
		    strerror(errno));
		return -1;
	}
	fclose(fp);
	return 0;
}

/*
 * The SSL_CTX of every listener from a PEM certificate (chain) and key.
 * Returns 0, or -1 with err set and nothing allocated.
 */
int
sim_tls_init(struct sim *s, const char *cert, const char *key, char *err,
    size_t errlen)
{
	SSL_CTX *ctx;

	if (tls_readable("--tls-cert", cert, err, errlen) == -1 ||
	    tls_readable("--tls-key", key, err, errlen) == -1)
		return -1;
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		tls_error(err, errlen, "--tls-cert", cert,
		    "cannot make an SSL_CTX");
		return -1;
	}
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
		tls_error(err, errlen, "--tls-cert", cert,
		    "cannot set TLS 1.2 as the minimum");
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		tls_error(err, errlen, "--tls-cert", cert,
		    "not a PEM certificate (chain)");
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		tls_error(err, errlen, "--tls-key", key,
		    "not a PEM private key matching --tls-cert");
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		tls_error(err, errlen, "--tls-key", key,
		    "does not match --tls-cert");
		goto fail;
	}
	SSL_CTX_set_info_callback(ctx, tls_info);
	s->tls = ctx;
	return 0;
 fail:
	SSL_CTX_free(ctx);
	return -1;
}

void
sim_tls_free(struct sim *s)
{
	if (s->tls != NULL)
		SSL_CTX_free(s->tls);
	s->tls = NULL;
}

void
sim_listen_init(struct sim_listen *l, struct sim *s)
{
	memset(l, 0, sizeof(*l));
	l->sim = s;
}

/*
 * A handshake is done: count it on the listener in the SSL's app data,
 * once per connection (the pointer is cleared after, so that any later
 * HANDSHAKE_DONE of a TLS 1.3 post-handshake message is not counted).
 */
static void
tls_info(const SSL *ssl, int where, int ret)
{
	struct sim_listen *l;

	(void)ret;
	if ((where & SSL_CB_HANDSHAKE_DONE) == 0 ||
	    (l = SSL_get_app_data(ssl)) == NULL)
		return;
	l->tls_handshakes++;
	SSL_set_app_data((SSL *)ssl, NULL);
}

/*
 * evhttp's bufferevent callback, called once per accepted connection of
 * listener arg (a struct sim_listen).  Plain HTTP: NULL, evhttp makes
 * its own.  HTTPS: an OpenSSL bufferevent that owns the SSL and the
 * socket (BEV_OPT_CLOSE_ON_FREE), freed by evhttp with the connection.
 */
struct bufferevent *
sim_listen_bevcb(struct event_base *base, void *arg)
{
	struct sim_listen *l = arg;
	struct bufferevent *bev;
	SSL *ssl;

	l->connections++;
	if (l->sim->tls == NULL)
		return NULL;
	if ((ssl = SSL_new(l->sim->tls)) == NULL) {
		/* evhttp would then speak plain HTTP: better than a crash. */
		log_warnx("SSL_new failed: out of memory");
		ERR_clear_error();
		return NULL;
	}
	SSL_set_app_data(ssl, l);
	if ((bev = bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		log_warnx("bufferevent_openssl_socket_new failed");
		SSL_free(ssl);
		return NULL;
	}
	/* A client that closes without close_notify is just gone. */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

/* Every listener's counters summed: the main one and the own ports. */
void
sim_listen_totals(const struct sim *s, uint64_t *conns, uint64_t *hs)
{
	size_t i;

	*conns = s->lmain.connections;
	*hs = s->lmain.tls_handshakes;
	for (i = 0; i < s->nprov; i++) {
		*conns += s->prov[i]->own.connections;
		*hs += s->prov[i]->own.tls_handshakes;
	}
}

/* Zero every listener's counters. */
void
sim_listen_reset(struct sim *s)
{
	size_t i;

	s->lmain.connections = s->lmain.tls_handshakes = 0;
	for (i = 0; i < s->nprov; i++)
		s->prov[i]->own.connections =
		    s->prov[i]->own.tls_handshakes = 0;
}
