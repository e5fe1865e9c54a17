/*
 * log.c - process logging to stderr, journald-aware, with secret masking.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define LOG_MAX_SECRETS	8
#define LOG_LINE_MAX	2048

static const char	*log_procname = "vigil";
static int		 log_level = LOG_LVL_INFO;
static int		 log_journal;
static char		*log_secrets[LOG_MAX_SECRETS];

static void	mask_secrets(char *, size_t);

void
log_init(const char *procname, int level)
{
	log_procname = procname;
	log_level = level;
	log_journal = getenv("JOURNAL_STREAM") != NULL;
}

void
log_setlevel(int level)
{
	log_level = level;
}

int
log_getlevel(void)
{
	return log_level;
}

/* Remember a secret to mask.  Secrets shorter than 4 bytes are ignored:
 * masking them would mangle ordinary words and protect nothing. */
void
log_secret(const char *s)
{
	int i;

	if (s == NULL || strlen(s) < 4)
		return;
	for (i = 0; i < LOG_MAX_SECRETS; i++) {
		if (log_secrets[i] == NULL) {
			log_secrets[i] = strdup(s);
			return;
		}
	}
}

void
log_secret_clear(void)
{
	int i;

	for (i = 0; i < LOG_MAX_SECRETS; i++) {
		if (log_secrets[i] != NULL) {
			explicit_bzero(log_secrets[i], strlen(log_secrets[i]));
			free(log_secrets[i]);
			log_secrets[i] = NULL;
		}
	}
}

static void
mask_secrets(char *line, size_t size)
{
	static const char mask[] = "[redacted]";
	int i;

	for (i = 0; i < LOG_MAX_SECRETS; i++) {
		const char *s = log_secrets[i];
		size_t sl;
		char *p;

		if (s == NULL)
			continue;
		sl = strlen(s);
		while ((p = strstr(line, s)) != NULL) {
			size_t tail = strlen(p + sl);
			size_t ml = sizeof(mask) - 1;

			if ((size_t)(p - line) + ml + tail + 1 > size)
				ml = 0;	/* no room: just cut it out */
			memmove(p + ml, p + sl, tail + 1);
			memcpy(p, mask, ml);
		}
	}
}

/*
 * Format and write one line.  syslog priorities for journald: warn 4,
 * info 6, debug 7, fatal 2.
 */
void
log_vmsg(int prio, int with_errno, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	int saved = errno, n;

	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n < 0)
		return;
	if (with_errno && (size_t)n < sizeof(line))
		snprintf(line + n, sizeof(line) - (size_t)n, ": %s",
		    strerror(saved));
	mask_secrets(line, sizeof(line));
	if (log_journal)
		fprintf(stderr, "<%d>%s\n", prio, line);
	else
		fprintf(stderr, "%s: %s\n", log_procname, line);
	fflush(stderr);
	errno = saved;
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(4, 1, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(4, 0, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	if (log_level < LOG_LVL_INFO)
		return;
	va_start(ap, fmt);
	log_vmsg(6, 0, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (log_level < LOG_LVL_DEBUG)
		return;
	va_start(ap, fmt);
	log_vmsg(7, 0, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(2, 1, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(2, 0, fmt, ap);
	va_end(ap);
	exit(1);
}
