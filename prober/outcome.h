/*
 * outcome.h - classify a finished check into an outcome class.
 */
#ifndef VIGIL_PROBER_OUTCOME_H
#define VIGIL_PROBER_OUTCOME_H

#include <stddef.h>

/*
 * Error bodies longer than this are not parsed: every provider's
 * documented error body is under 4 KiB, and parsing a megabyte of
 * something else on every failed check is work for nothing.  Such an
 * answer is classified by its status alone.
 */
#define OUTCOME_BODY_PARSE_MAX	(64 * 1024)

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
int	outcome_classify_event(int, const char *, size_t, char *, size_t);
int	outcome_curl_class(int);
int	outcome_status_class(int, long);

#endif /* VIGIL_PROBER_OUTCOME_H */
