/*
 * outcome.h - classify a finished check into an outcome class.
 */
#ifndef VIGIL_PROBER_OUTCOME_H
#define VIGIL_PROBER_OUTCOME_H

#include <stddef.h>

struct probe_result {
	int		 curl_code;	/* CURLcode of the transfer */
	long		 http_status;	/* 0 when no response */
	int		 body_ok;	/* validator: 0 ok, -1 wrong shape */
	int		 capped;	/* body exceeded our read cap */
	int		 kind;		/* enum vigil_kind */
	const char	*body;		/* what was read (for error bodies) */
	size_t		 body_len;
};

int	outcome_classify(const struct probe_result *, char *, size_t);
int	outcome_curl_class(int);
int	outcome_google_key_invalid(const char *, size_t);

#endif /* VIGIL_PROBER_OUTCOME_H */
