/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * proc.h - the process around the daemon: descriptor limit, log owner,
 * pid file, daemon(3) and the switch to "user".
 */
#ifndef GENID_PROC_H
#define GENID_PROC_H

#include <stddef.h>

#include "config.h"

struct pidfh;

/* Raises RLIMIT_NOFILE to what a worker of c needs; warns when it cannot. */
void proc_raise_fd_limit(const struct cfg *c);

/* Makes "user" (and "group") the owner of a log file genid creates. */
void proc_set_log_owner(const struct cfg *c);

/*
 * Opens and locks c's pid file into *pfh (NULL without one): 0, or a
 * sysexits.h code with the reason in err (EX_UNAVAILABLE: genid runs).
 */
int proc_pidfile_open(
    const struct cfg *c, struct pidfh **pfh, char *err, size_t errlen);

/*
 * Goes to the background (daemon(3)) and, without a log file, logs to
 * syslog from then on: 0, or EX_OSERR with the reason in err.
 */
int proc_daemonize(const struct cfg *c, char *err, size_t errlen);

/* Writes this process's pid into pfh (none: nothing); warns on failure. */
void proc_pidfile_write(const struct cfg *c, struct pidfh *pfh);

/* Removes the pid file pfh at the end (none: nothing); warns on failure. */
void proc_pidfile_remove(const struct cfg *c, struct pidfh *pfh);

/*
 * Switches to "user" and "group" when set: 0, or a sysexits.h code with
 * the reason in err (EX_NOUSER, EX_NOPERM).
 */
int proc_drop_privileges(const struct cfg *c, char *err, size_t errlen);

#endif
