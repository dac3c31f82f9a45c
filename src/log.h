/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * log.h - logging after OpenBSD's log.c: to stderr, a file or syslog.
 */
#ifndef GENID_LOG_H
#define GENID_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARNING,
	LOG_LEVEL_NOTICE,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

/*
 * The level called name ("error", "warning", "notice", "info" or "debug",
 * as in the configuration and in log lines) in *level; 0, or -1 when no
 * level has that name.
 */
int log_level_parse(const char *name, enum log_level *level);

/* Starts logging to stderr at the given level, tagging lines with name. */
void log_init(const char *name, enum log_level level);

/*
 * Switches to the configured destination ("" stderr, "syslog", or a
 * file opened for appending).  0, or -1 with errno set and stderr kept.
 */
int log_open(const char *dest, enum log_level level);

/*
 * Who the log file belongs to when log_open creates it: genid opens it as
 * root before it switches to user (named for messages), who reopens it.
 */
void log_set_owner(const char *user, uid_t uid, gid_t gid);

/*
 * Reopens the log file (SIGHUP, after logrotate moved it); 0, or -1 with
 * "reopen PATH as user USER: reason" in err and the old file kept.
 */
int log_reopen(char *err, size_t errlen);

/* Whether a syslog daemon's socket (/dev/log) exists to take messages. */
int log_syslog_ready(void);

/* Whether messages still go to stderr: no file or syslog was opened. */
int log_is_stderr(void);

/* Messages of one level; log_warn appends strerror(errno). */
void log_errorx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Logs at error level (with strerror for fatal) and exits with code. */
void fatal(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));
void fatalx(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

#endif
