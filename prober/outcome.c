/*
 * outcome.c - map (curl result, HTTP status, validator) to an outcome.
 *
 * Transport-level choices, written down because DESIGN.md leaves them open:
 *   - RECV_ERROR, SEND_ERROR, GOT_NOTHING (connection reset or closed
 *     before any reply): "other".  Nothing was answered, so there is no
 *     response to call bad; the network or the peer broke the exchange.
 *   - PARTIAL_FILE (body shorter than promised), WEIRD_SERVER_REPLY and
 *     UNSUPPORTED_PROTOCOL (curl's "HTTP/0.9 not allowed": the peer sent
 *     bytes that are not HTTP; configure only admits http and https URLs,
 *     so it has no other cause here), BAD_CONTENT_ENCODING,
 *     FILESIZE_EXCEEDED and a WRITE_ERROR caused by our body cap:
 *     "bad_response".  The peer answered, and the answer is broken.
 *   - a WRITE_ERROR we did not cause: "other".
 * Error codes are short: "curl:N", "http:N", "body:shape", "body:too_big".
 */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include <vigil/vigil.h>

#include "outcome.h"

/* The outcome of a transfer that curl failed, from its result code. */
int
outcome_curl_class(int cc)
{
	switch (cc) {
	case CURLE_OK:
		return VIGIL_OUT_OK;
	case CURLE_OPERATION_TIMEDOUT:
		return VIGIL_OUT_TIMEOUT;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return VIGIL_OUT_DNS;
	case CURLE_COULDNT_CONNECT:
		return VIGIL_OUT_CONNECT;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_USE_SSL_FAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CLIENTCERT:
		return VIGIL_OUT_TLS;
	case CURLE_PARTIAL_FILE:
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_BAD_CONTENT_ENCODING:
	case CURLE_FILESIZE_EXCEEDED:
		return VIGIL_OUT_BAD_RESPONSE;
	default:
		/* RECV_ERROR, SEND_ERROR, GOT_NOTHING, WRITE_ERROR, ... */
		return VIGIL_OUT_OTHER;
	}
}

/* Google answers a bad key with 400, not 401; its body says so. */
int
outcome_google_key_invalid(const char *body, size_t len)
{
	if (body == NULL || len == 0)
		return 0;
	return memmem(body, len, "API_KEY_INVALID", 15) != NULL ||
	    memmem(body, len, "API key not valid", 17) != NULL;
}

/*
 * Classify a finished check.  Pure.  Writes a short error code to err
 * ("" for ok) and returns the enum vigil_outcome.  Order matters: a curl
 * failure wins over any status (a timeout after the headers is still a
 * timeout), then the status, then the body's shape.
 */
int
outcome_classify(const struct probe_result *r, char *err, size_t errlen)
{
	long st = r->http_status;
	int out;

	if (errlen > 0)
		err[0] = '\0';
	if (r->curl_code != CURLE_OK) {
		/* Our cap: cut while reading (WRITE_ERROR), or refused up
		 * front from a Content-Length over it (FILESIZE_EXCEEDED). */
		if ((r->curl_code == CURLE_WRITE_ERROR && r->capped) ||
		    r->curl_code == CURLE_FILESIZE_EXCEEDED) {
			snprintf(err, errlen, "body:too_big");
			return VIGIL_OUT_BAD_RESPONSE;
		}
		out = outcome_curl_class(r->curl_code);
		snprintf(err, errlen, "curl:%d", r->curl_code);
		return out;
	}
	if (st >= 200 && st <= 299) {
		if (r->body_ok == 0)
			return VIGIL_OUT_OK;
		snprintf(err, errlen, "body:shape");
		return VIGIL_OUT_BAD_RESPONSE;
	}
	snprintf(err, errlen, "http:%ld", st);
	if (st >= 500 && st <= 599)
		return VIGIL_OUT_HTTP_5XX;
	if (st == 429)
		return VIGIL_OUT_RATE_LIMITED;
	if (st == 401 || st == 403)
		return VIGIL_OUT_AUTH;
	if (st == 400 && r->kind == VIGIL_KIND_GOOGLE &&
	    outcome_google_key_invalid(r->body, r->body_len))
		return VIGIL_OUT_AUTH;
	/* Other 4xx, 1xx and 3xx (redirects are not followed), 0. */
	return VIGIL_OUT_OTHER;
}
