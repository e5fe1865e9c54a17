/*
 * log.c - process logging to stderr, journald-aware, with secret masking.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"


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
 * masking them would mangle ordinary words and protect nothing.  Returns
 * -1 when the table is full or memory is short: the caller must not log
 * what it cannot mask. */
int
log_secret(const char *s)
{
	int i;

	if (s == NULL || strlen(s) < 4)
		return 0;
	for (i = 0; i < LOG_MAX_SECRETS; i++) {
		if (log_secrets[i] == NULL)
			return (log_secrets[i] = strdup(s)) == NULL ? -1 : 0;
		if (strcmp(log_secrets[i], s) == 0)
			return 0;
	}
	return -1;
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

/* Replace every secret in line (a buffer of size bytes) by the mask.
 * The search resumes after each mask, so a secret that is part of the
 * mask itself cannot loop. */
static void
mask_secrets(char *line, size_t size)
{
	static const char mask[] = "[redacted]";
	int i;

	for (i = 0; i < LOG_MAX_SECRETS; i++) {
		const char *s = log_secrets[i];
		char *p, *from = line;
		size_t sl;

		if (s == NULL)
			continue;
		sl = strlen(s);
		while ((p = strstr(from, s)) != NULL) {
			size_t tail = strlen(p + sl);
			size_t ml = sizeof(mask) - 1;

			if ((size_t)(p - line) + ml + tail + 1 > size)
				ml = 0;	/* no room: just cut it out */
			memmove(p + ml, p + sl, tail + 1);
			memcpy(p, mask, ml);
			from = p + ml;
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
	char small[LOG_LINE_MAX], *line = small;
	size_t size = sizeof(small);
	int saved = errno, n;
	va_list aq;

	/*
	 * Format whole, mask, then cut: cutting first could leave the start
	 * of a secret that crossed the cut.  A long line is formatted on the
	 * heap; without memory it is masked and cut as it is.
	 */
	va_copy(aq, ap);
	n = vsnprintf(small, sizeof(small), fmt, aq);
	va_end(aq);
	if (n < 0)
		return;
	if ((size_t)n + 256 >= sizeof(small) &&
	    (line = malloc((size_t)n + 256)) != NULL) {
		size = (size_t)n + 256;
		vsnprintf(line, size, fmt, ap);
	} else
		line = small;
	if (with_errno)
		snprintf(line + strlen(line), size - strlen(line), ": %s",
		    strerror(saved));
	mask_secrets(line, size);
	if (strlen(line) >= LOG_LINE_MAX)
		line[LOG_LINE_MAX - 1] = '\0';
	if (log_journal)
		fprintf(stderr, "<%d>%s\n", prio, line);
	else
		fprintf(stderr, "%s: %s\n", log_procname, line);
	fflush(stderr);
	if (line != small)
		free(line);
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
