/*
 * errors.h - the providers' documented error answers, once.
 *
 * One table (errors.c) of error modes: each a kind, a status, the
 * headers and the body the real provider documents for that error, the
 * outcome vigil must classify it as, the sample's error code it must
 * write, and where the answer is documented.  vigil-sim serves a row
 * when a provider is put in that mode (POST /_sim/NAME with
 * {"error_mode": MODE}); tests/unit/test_classify.c runs the prober's
 * classifier over the same rows, so the fake providers and the
 * classifier's tests cannot drift apart.
 *
 * This header needs nothing but the C library: the unit test links
 * errors.o alone.
 */
#ifndef VIGIL_SIM_ERRORS_H
#define VIGIL_SIM_ERRORS_H

#include <stddef.h>

#define SIM_ERR_HDRS		14	/* headers of one row, at most */

/*
 * A header of a row.  A value "@retry" is sent as the RFC 3339 UTC time
 * of now plus the answer's Retry-After (Anthropic's reset headers);
 * "@+N" as now plus N seconds.
 */
struct sim_err_hdr {
	const char	*name;		/* NULL ends the list */
	const char	*value;
};

struct sim_err_row {
	const char		*mode;	/* "openai_insufficient_quota" */
	int			 kind;	/* enum sim_kind (= vigil_kind) */
	int			 status;
	int			 retry_after; /* Retry-After, s; 0 none */
	struct sim_err_hdr	 hdr[SIM_ERR_HDRS];
	const char		*body;	/* JSON */
	const char		*outcome; /* vigil_outcome_name() wanted */
	const char		*error;	/* the sample's error code */
	const char		*source; /* where it is documented */
};

extern const struct sim_err_row	sim_err_rows[];
extern const size_t		sim_err_nrows;

int	sim_err_find(const char *);
const struct sim_err_row *sim_err_row(int);
size_t	sim_err_list(char *, size_t);

#endif /* VIGIL_SIM_ERRORS_H */
