/*
 * log.c - one log for master and workers: stderr, an appended file, or
 * syslog.  Each line is written with one write(2), so lines of different
 * processes never interleave.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "timefmt.h"

enum log_dest { DEST_STDERR, DEST_FILE, DEST_SYSLOG };

/* The names of the levels, as in the configuration and in log lines. */
static const char *const level_names[] = {
    "error", "warning", "notice", "info", "debug"};

static const char *log_name = "genid";
static enum log_level log_max = LOG_LEVEL_INFO;
static enum log_dest log_dest = DEST_STDERR;
static int log_fd = STDERR_FILENO;
static char log_path[PATH_MAX];

static void vlog(
    enum log_level level, int with_errno, const char *fmt, va_list ap);

int
log_level_parse(const char *name, enum log_level *level)
{
	unsigned i;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*level = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

void
log_init(const char *name, enum log_level level)
{
	log_name = name;
	log_max = level;
}

static int
open_file(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

int
log_open(const char *dest, enum log_level level)
{
	int fd;

	log_max = level;
	if (dest[0] == '\0')
		return 0;
	if (strcmp(dest, "syslog") == 0) {
		openlog(log_name, LOG_PID | LOG_NDELAY, LOG_DAEMON);
		log_dest = DEST_SYSLOG;
		return 0;
	}
	if ((fd = open_file(dest)) == -1)
		return -1;
	snprintf(log_path, sizeof(log_path), "%s", dest);
	log_fd = fd;
	log_dest = DEST_FILE;
	return 0;
}

int
log_reopen(void)
{
	int fd;

	if (log_dest != DEST_FILE)
		return 0;
	if ((fd = open_file(log_path)) == -1)
		return -1;
	/* dup2 swaps the file under the same descriptor in one step. */
	if (dup2(fd, log_fd) == -1) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int
log_is_stderr(void)
{
	return log_dest == DEST_STDERR;
}

static void
vlog(enum log_level level, int with_errno, const char *fmt, va_list ap)
{
	static const int prio[] = {
	    LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG};
	char msg[1024], line[1200], now[TIMEFMT_LEN];
	int saved = errno, n;
	ssize_t w;

	if (level > log_max)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (with_errno) {
		size_t len = strlen(msg);

		snprintf(msg + len, sizeof(msg) - len, ": %s", strerror(saved));
	}
	if (log_dest == DEST_SYSLOG) {
		syslog(prio[level], "%s", msg);
		errno = saved;
		return;
	}
	timefmt_iso((int64_t)time(NULL), now, sizeof(now));
	n = snprintf(line, sizeof(line), "%s %s[%ld]: %s: %s\n", now, log_name,
	    (long)getpid(), level_names[level], msg);
	if (n > (int)sizeof(line) - 1)
		n = (int)sizeof(line) - 1;
	/* Nothing useful is left to do when the log itself cannot be written.
	 */
	w = write(log_fd, line, (size_t)n);
	(void)w;
	errno = saved;
}

#define LOG_FN(name, level, with_errno)                                        \
	void name(const char *fmt, ...)                                        \
	{                                                                      \
		va_list ap;                                                    \
		va_start(ap, fmt);                                             \
		vlog(level, with_errno, fmt, ap);                              \
		va_end(ap);                                                    \
	}

LOG_FN(log_warn, LOG_LEVEL_WARNING, 1)
LOG_FN(log_warnx, LOG_LEVEL_WARNING, 0)
LOG_FN(log_notice, LOG_LEVEL_NOTICE, 0)
LOG_FN(log_info, LOG_LEVEL_INFO, 0)
LOG_FN(log_debug, LOG_LEVEL_DEBUG, 0)

void
fatal(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_ERROR, 1, fmt, ap);
	va_end(ap);
	exit(code);
}

void
fatalx(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_ERROR, 0, fmt, ap);
	va_end(ap);
	exit(code);
}
