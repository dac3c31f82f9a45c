/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * proc.c - set-up of the genid process before the master runs (proc.h).
 */
#include <bsd/libutil.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sysexits.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"

/* Descriptors a process needs besides its connections: listeners, state
 * file, log, metrics. */
#define FD_OWN 64u

void
proc_raise_fd_limit(const struct cfg *c)
{
	/*
	 * The limit is per process: a worker holds only its share of the
	 * connections (the master's metrics connections are few).
	 */
	unsigned want =
	    (c->max_connections + c->workers - 1) / c->workers + FD_OWN;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = want;
	if (rl.rlim_max < want) {
		struct rlimit root = {want, want};

		/* Only root may raise the hard limit; others get what they may.
		 */
		if (setrlimit(RLIMIT_NOFILE, &root) == 0)
			return;
		rl.rlim_cur = rl.rlim_max;
	}
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur < want)
		log_warnx("each worker needs %u descriptors (its share of"
			  " max_connections and %u of its own), the limit is"
			  " %lu: raise it (ulimit -n, LimitNOFILE=) or add"
			  " workers",
		    want, FD_OWN, (unsigned long)rl.rlim_cur);
}

/* The log file genid creates as root belongs to "user", who reopens it. */
void
proc_set_log_owner(const struct cfg *c)
{
	struct passwd *pw;
	struct group *gr;
	gid_t gid;

	if (c->user[0] == '\0' || (pw = getpwnam(c->user)) == NULL)
		return;
	gid = pw->pw_gid;
	if (c->group[0] != '\0' && (gr = getgrnam(c->group)) != NULL)
		gid = gr->gr_gid;
	log_set_owner(c->user, pw->pw_uid, gid);
}

int
proc_pidfile_open(
    const struct cfg *c, struct pidfh **pfh, char *err, size_t errlen)
{
	pid_t other;

	*pfh = NULL;
	if (c->pid_file[0] == '\0' ||
	    (*pfh = pidfile_open(c->pid_file, 0644, &other)) != NULL)
		return 0;
	if (errno == EEXIST) {
		snprintf(err, errlen, "genid is already running, pid %ld (%s)",
		    (long)other, c->pid_file);
		return EX_UNAVAILABLE;
	}
	snprintf(err, errlen, "open %s: %s (check \"pid_file\")", c->pid_file,
	    strerror(errno));
	return EX_CANTCREAT;
}

int
proc_daemonize(const struct cfg *c, char *err, size_t errlen)
{
	if (log_is_stderr() && !log_syslog_ready())
		log_warnx("no log_file: -d logs to syslog, and there is"
			  " no syslog socket at /dev/log: log messages"
			  " are lost until a syslog daemon listens there;"
			  " set \"log_file\" to log to a file");
	if (daemon(0, 0) == -1) {
		snprintf(err, errlen, "daemon: %s", strerror(errno));
		return EX_OSERR;
	}
	/* stderr is gone: a daemon without a log file uses syslog. */
	if (log_is_stderr())
		log_open("syslog", c->log_level);
	return 0;
}

void
proc_pidfile_write(const struct cfg *c, struct pidfh *pfh)
{
	if (pfh != NULL && pidfile_write(pfh) == -1)
		log_warn("write %s", c->pid_file);
}

void
proc_pidfile_remove(const struct cfg *c, struct pidfh *pfh)
{
	if (pfh != NULL && pidfile_remove(pfh) == -1)
		log_warn("remove %s", c->pid_file);
}

int
proc_drop_privileges(const struct cfg *c, char *err, size_t errlen)
{
	struct passwd *pw;
	struct group *gr;
	gid_t gid;

	if (c->user[0] == '\0')
		return 0;
	if ((pw = getpwnam(c->user)) == NULL) {
		snprintf(err, errlen, "user \"%s\" does not exist", c->user);
		return EX_NOUSER;
	}
	gid = pw->pw_gid;
	if (c->group[0] != '\0') {
		if ((gr = getgrnam(c->group)) == NULL) {
			snprintf(err, errlen, "group \"%s\" does not exist",
			    c->group);
			return EX_NOUSER;
		}
		gid = gr->gr_gid;
	}
	if (setgroups(1, &gid) == -1 || setgid(gid) == -1 ||
	    setuid(pw->pw_uid) == -1) {
		snprintf(err, errlen,
		    "drop privileges to %s: %s (start genid as root"
		    " or remove \"user\")",
		    c->user, strerror(errno));
		return EX_NOPERM;
	}
	log_info("running as user %s", c->user);
	return 0;
}
