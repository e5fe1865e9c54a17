/*
 * kinds.h - what each provider kind checks and how its answer must look.
 *
 * Pure functions: URL building, request headers and body validators take
 * no global state, so they are unit-tested and fuzzed directly.
 */
#ifndef VIGIL_PROBER_KINDS_H
#define VIGIL_PROBER_KINDS_H

#include <stddef.h>

#include <curl/curl.h>

#define KIND_URL_MAX	1024
#define KIND_GENBODY_MAX	(20 * 1024)	/* gen_body's 16 KiB and more */
#define KIND_GEN_REASONING_TOKENS 16	/* output room of a reasoning model */

int		 kind_from_name(const char *);
const char	*kind_check_path(int);
int		 kind_check_url(int, const char *, const char *, char *, size_t);
int		 kind_gen_supported(int);
int		 kind_gen_url(int, const char *, const char *, char *, size_t);
int		 kind_gen_reasoning(int, const char *);
int		 kind_gen_body(int, const char *, const char *, const char *,
		    char *, size_t);
int		 kind_model_ok(const char *);
struct curl_slist *kind_headers(int, const char *, int);
void		 kind_headers_free(struct curl_slist *);
int		 kind_validate_body(int, const char *, size_t);
int		 kind_validate_stream(const char *, size_t);
int		 kind_base64(const unsigned char *, size_t, char *, size_t);

#endif /* VIGIL_PROBER_KINDS_H */
