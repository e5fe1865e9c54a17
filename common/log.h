/*
 * log.h - process logging, after relayd's log.c.
 *
 * To stderr, one line per message.  Under systemd (JOURNAL_STREAM set)
 * each line starts with the "<N>" priority prefix that journald reads;
 * otherwise with the process name.  Only a process's main and its own
 * modules log: common/ library code returns errors instead.
 *
 * Secrets registered with log_secret() are masked as "[redacted]" in every
 * line, a safety net behind the rule that no secret is ever passed here.
 */
#ifndef VIGIL_LOG_H
#define VIGIL_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LVL_WARN = 0,
	LOG_LVL_INFO = 1,
	LOG_LVL_DEBUG = 2
};

#define LOG_MAX_SECRETS	8	/* log_secret() returns -1 beyond */
#define LOG_LINE_MAX	2048	/* a longer line is cut (after masking) */

void	log_init(const char *, int);
void	log_setlevel(int);
int	log_getlevel(void);
int	log_secret(const char *);
void	log_secret_clear(void);
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	log_vmsg(int, int, const char *, va_list);

#endif /* VIGIL_LOG_H */
