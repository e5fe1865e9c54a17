/*
 * ctl.h - vigil-api's control channel with vigild (fd 4).
 */
#ifndef VIGIL_API_CTL_H
#define VIGIL_API_CTL_H

#include <stddef.h>
#include <stdint.h>

struct event_base;

/* Settings from `configure` (child) or the command line (standalone). */
struct api_settings {
	char listen[128];
	int prometheus;
	int log_level;
	char vantage[64];	/* "" = the host name (ctx_setup) */
};

int	api_ctl_configure(int, int, struct api_settings *, char *, size_t);
int	api_ctl_reply(const char *, const char *);
int	api_ctl_watch(struct event_base *);
void	api_ctl_close(void);

#endif /* VIGIL_API_CTL_H */
