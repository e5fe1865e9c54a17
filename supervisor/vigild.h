/*
 * vigild.h - the supervisor's shared state and its modules.
 *
 * main.c	command line, start-up, signals, sd_notify, shutdown
 * roles.c	the table of roles, their configure requests and hooks,
 *		the spawner, live log levels, start-up
 * directory.c	the provider directory in the segment, the providers
 * reload.c	re-reading the configuration
 * proc.c	the generic process module (fork/exec, handshake, restart)
 * control.c	the control socket (msgpack, SO_PEERCRED authorization)
 */
#ifndef VIGIL_VIGILD_H
#define VIGIL_VIGILD_H

#include <sys/queue.h>

#include <stdint.h>

#include <vigil/vigil.h>

#include "conf.h"
#include "proc.h"
#include "reports.h"
#include "segment.h"

struct event_base;

struct provider {
	struct conf_provider	 pv_conf;	/* copy: secrets not included */
	uint32_t		 pv_slot;	/* directory slot = ring index */
	struct proc		*pv_proc;
	int			 pv_paused;	/* operator pause, kept */
	uint32_t		 pv_interval_ms; /* set_interval, 0 = config's */
	int			 pv_removing;	/* stopping, then freed */
	int			 pv_log_level;	/* sent with configure */
	TAILQ_ENTRY(provider)	 pv_entry;
};
TAILQ_HEAD(providers, provider);

struct vigild {
	struct conf		 conf;
	struct segment		 seg;
	struct vigil_client	 cli;		/* reading our own segment */
	struct reports		 reports;	/* traffic reports (issue 18) */
	char			 reports_name[80]; /* shm_name + .reports */
	struct event_base	*base;
	struct proc_env		 penv;
	struct providers	 providers;
	struct proc		*agg;		/* NULL: role not installed */
	struct proc		*api;
	struct proc		*statuspage;	/* NULL: no status_page */
	struct vigil_provider_info *dir;	/* shadow of every slot */
	char			(*dir_last)[VIGIL_NAME_MAX]; /* last name */
	int			 shutting_down;
	int			 ready_sent;
	int			 reloading;
	int			 probers_held;	/* until the spawner starts */
	char			 listen[128];	/* what listen_fd is bound to */
	uint64_t		 started_wall_ns;
};

extern struct vigild	*vd;

/* roles.c */
int		 roles_start(void);
void		 roles_statuspage_reload(const struct conf *);
void		 roles_check_ready(void);
int		 roles_listen(const char *, char *, size_t);
void		 roles_watchdog(void);
void		 roles_push_log_level(void);
struct proc	*roles_new_prober(const char *, struct provider *);

/* directory.c */
int		 dir_init(void);
void		 dir_fill(struct provider *, int);
void		 dir_new_writer(struct provider *);
void		 dir_set_pid(struct provider *, uint32_t, uint32_t);
struct provider	*provider_find(const char *);
struct provider	*provider_add(const struct conf_provider *);
void		 provider_stopped(struct proc *);
int		 provider_pause(struct provider *, int);
int		 provider_set_interval(struct provider *, uint32_t);
uint32_t	 roles_min_interval(void);

/* canary.c */
int		 canary_expand(struct conf *, char *, size_t);

/* reload.c */
int		 vigild_reload(char *, size_t);

/* main.c */
int		 vigild_resolve_user(const char *, struct proc_env *, char *,
		    size_t);
void		 vigild_shutdown(void);
void		 vigild_notify(const char *);

#endif /* VIGIL_VIGILD_H */
