/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * log.c - one log for master and workers: stderr, an appended file, or
 * syslog.  Each line is written with one write(2), so lines of different
 * processes never interleave.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syslog.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
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
/* The owner a new log file gets: "user" of the configuration, or none. */
static char log_user[64];
static uid_t log_uid = (uid_t)-1;
static gid_t log_gid = (gid_t)-1;

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

void
log_set_owner(const char *user, uid_t uid, gid_t gid)
{
	snprintf(log_user, sizeof(log_user), "%s", user);
	log_uid = uid;
	log_gid = gid;
}

static int
open_file(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

/*
 * Opens the log file; one this call creates goes to the owner set, so
 * that the user genid switches to can reopen it after a rotation.
 */
static int
create_file(const char *path)
{
	int fd, saved;

	if (log_uid == (uid_t)-1)
		return open_file(path);
	fd = open(
	    path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd == -1)
		return errno == EEXIST ? open_file(path) : -1;
	if (fchown(fd, log_uid, log_gid) == -1) {
		saved = errno;
		close(fd);
		unlink(path);
		errno = saved;
		return -1;
	}
	return fd;
}

int
log_syslog_ready(void)
{
	struct stat st;

	return stat(_PATH_LOG, &st) == 0 && S_ISSOCK(st.st_mode);
}

int
log_open(const char *dest, enum log_level level)
{
	int fd;

	log_max = level;
	if (dest[0] == '\0')
		return 0;
	if (strcmp(dest, "syslog") == 0) {
		/* syslog(3) drops messages no daemon takes without a word:
		 * say so where the messages still go. */
		if (!log_syslog_ready())
			log_warnx(
			    "no syslog socket at %s: log messages are lost"
			    " until a syslog daemon listens there; set"
			    " \"log_file\" to log to a file",
			    _PATH_LOG);
		openlog(log_name, LOG_PID | LOG_NDELAY, LOG_DAEMON);
		log_dest = DEST_SYSLOG;
		return 0;
	}
	if ((fd = create_file(dest)) == -1)
		return -1;
	snprintf(log_path, sizeof(log_path), "%s", dest);
	log_fd = fd;
	log_dest = DEST_FILE;
	return 0;
}

int
log_reopen(char *err, size_t errlen)
{
	struct passwd *pw;
	char who[64];
	int fd, saved;

	if (log_dest != DEST_FILE)
		return 0;
	/* dup2 swaps the file under the same descriptor in one step. */
	if ((fd = open_file(log_path)) == -1 || dup2(fd, log_fd) == -1) {
		saved = errno;
		if (log_user[0] != '\0')
			snprintf(who, sizeof(who), "%s", log_user);
		else if ((pw = getpwuid(geteuid())) != NULL)
			snprintf(who, sizeof(who), "%s", pw->pw_name);
		else
			snprintf(who, sizeof(who), "%ld", (long)geteuid());
		snprintf(err, errlen,
		    "reopen %s as user %s: %s; logging on to the file open"
		    " before (check \"log_file\" and who may write its"
		    " directory)",
		    log_path, who, strerror(saved));
		if (fd != -1)
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
	timefmt_iso(clock_real_s(), now, sizeof(now));
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

LOG_FN(log_errorx, LOG_LEVEL_ERROR, 0)
LOG_FN(log_warn, LOG_LEVEL_WARNING, 1)
LOG_FN(log_warnx, LOG_LEVEL_WARNING, 0)
LOG_FN(log_notice, LOG_LEVEL_NOTICE, 0)
LOG_FN(log_info, LOG_LEVEL_INFO, 0)
LOG_FN(log_debug, LOG_LEVEL_DEBUG, 0)

/* fatal and fatalx: the message at the error level, then exit(code). */
#define FATAL_FN(name, with_errno)                                             \
	void name(int code, const char *fmt, ...)                              \
	{                                                                      \
		va_list ap;                                                    \
		va_start(ap, fmt);                                             \
		vlog(LOG_LEVEL_ERROR, with_errno, fmt, ap);                    \
		va_end(ap);                                                    \
		exit(code);                                                    \
	}

FATAL_FN(fatal, 1)
FATAL_FN(fatalx, 0)
