/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cfgcheck.c - what a configuration trips on outside the file: genid -t's
 * checks of paths and "user", and the warnings of a start (cfgcheck.h).
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "addr.h"
#include "cfgcheck.h"
#include "id.h"
#include "log.h"
#include "sock.h"
#include "statefile.h"
#include "timefmt.h"

/* IDs reach 2^63 (negative as a signed 64-bit integer) at this ts. */
#define YEAR_S (365LL * 86400)

/*
 * A path genid uses, and what it does there once it runs as "user" (the
 * reasons a check of that path gives).
 */
struct path_use {
	const char *key;
	unsigned want;	      /* the file's bits it needs: 4 read, 2 write */
	const char *dir_why;  /* what it does in the directory */
	const char *file_why; /* why the file must allow want */
};

static const struct path_use use_state = {"state_file", 6,
    "writes a new state file there when the old one is damaged or deleted",
    "genid opens it as root before it switches, but genidctl stats as that"
    " user reads it, and a start as that user opens it"};
static const struct path_use use_pid = {
    "pid_file", 0, "removes the pid file there when it stops", NULL};
static const struct path_use use_log = {"log_file", 2,
    "makes the log file anew there when SIGHUP reopens it after a"
    " rotation",
    "genid, running as that user, reopens it on SIGHUP"};

/* What the probes of one key's addresses found (genid -t). */
struct probed {
	int bound;	    /* the sockets a start would have */
	char skipped[2048]; /* a line each loopback address the host lacks */
};

/* Who genid runs as after the start: "user", or whoever starts it. */
struct runas {
	const char *name; /* NULL: the caller */
	uid_t uid;
	gid_t gid; /* the one group genid keeps (setgroups(1, ...)) */
};

static int problem(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int runas_may(
    const struct runas *r, const struct stat *st, unsigned want);
static int runas_may_reach(
    const struct runas *r, const char *dir, char *above, size_t len);
static int check_path(const struct runas *r, const struct path_use *use,
    const char *path, char *err, size_t errlen);
static long long state_holder(const struct cfg *c);
static int check_switch(const struct cfg *c, const struct state_identity *was,
    const struct state_identity *id, char *err, size_t errlen, char *note,
    size_t notelen);
static int check_state(const struct cfg *c, const char *conf, char *err,
    size_t errlen, char *note, size_t notelen);
static int check_addr(const char *key, const struct cfg_addr *a,
    const char *running, struct probed *p, char *err, size_t errlen, char *note,
    size_t notelen);
static int check_skipped(const char *key, struct probed *p, int bad, char *err,
    size_t errlen, char *note, size_t notelen);
static void warn_signed_overflow(const struct cfg *c);
static int beyond_name(const struct cfg *c, char *buf, size_t len);
static void warn_identity(const struct cfg *c);
static int64_t year_start(int64_t now);
static void warn_epoch(const struct cfg *c);

/* Appends one line to the problems in err; returns 1 (one problem). */
static int
problem(char *err, size_t errlen, const char *fmt, ...)
{
	size_t len = strlen(err);
	va_list ap;

	if (len > 0 && len + 1 < errlen) {
		err[len++] = '\n';
		err[len] = '\0';
	}
	va_start(ap, fmt);
	vsnprintf(err + len, errlen - len, fmt, ap);
	va_end(ap);
	return 1;
}

/*
 * Whether r may do what the permission bits want (2 write, 1 search) on a
 * file of mode st: the owner's bits for the owner, the group's for the
 * group, the others' for the rest, as the kernel decides (ACLs aside).
 */
static int
runas_may(const struct runas *r, const struct stat *st, unsigned want)
{
	unsigned bits;

	if (r->uid == 0)
		return 1;
	if (st->st_uid == r->uid)
		bits = (st->st_mode >> 6) & 7;
	else if (st->st_gid == r->gid)
		bits = (st->st_mode >> 3) & 7;
	else
		bits = st->st_mode & 7;
	return (bits & want) == want;
}

/* Whether r may pass through every directory above dir (an absolute path). */
static int
runas_may_reach(const struct runas *r, const char *dir, char *above, size_t len)
{
	struct stat st;
	char *slash;

	snprintf(above, len, "%s", dir);
	while ((slash = strrchr(above, '/')) != NULL && slash != above) {
		*slash = '\0';
		if (stat(above, &st) == 0 && !runas_may(r, &st, 1))
			return 0;
	}
	snprintf(above, len, "/");
	return stat(above, &st) == -1 || runas_may(r, &st, 1);
}

/*
 * The problems of one path of use: its directory, and the file when it
 * exists and use->want is not 0.  With "user" each names what genid does
 * there as that user, and what to do.
 */
static int
check_path(const struct runas *r, const struct path_use *use, const char *path,
    char *err, size_t errlen)
{
	char dir[PATH_MAX], above[PATH_MAX], *slash;
	const char *key = use->key;
	struct stat st;
	int n = 0, mode;

	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL)
		return 0;
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (stat(dir, &st) == -1)
		return problem(err, errlen,
		    "%s: directory %s: %s (check \"%s\")", path, dir,
		    strerror(errno), key);
	if (!S_ISDIR(st.st_mode))
		return problem(err, errlen,
		    "%s: %s is not a directory (check \"%s\")", path, dir, key);
	/* access() also catches a read-only file system. */
	if (access(dir, W_OK | X_OK) == -1 && errno == EROFS)
		return problem(err, errlen,
		    "%s: directory %s: %s (check \"%s\")", path, dir,
		    strerror(errno), key);
	if (r->name != NULL && !runas_may_reach(r, dir, above, sizeof(above)))
		return problem(err, errlen,
		    "%s: user %s may not enter directory %s (check \"%s\" and"
		    " \"user\"): genid runs as %s; let it pass (chmod o+x %s)"
		    " or set \"%s\" to a path it may reach",
		    path, r->name, above, key, r->name, above, key);
	if (r->name == NULL && access(dir, W_OK | X_OK) == -1)
		n += problem(err, errlen,
		    "%s: directory %s is not writable by this user (check"
		    " \"%s\")",
		    path, dir, key);
	else if (r->name != NULL && !runas_may(r, &st, 3))
		n += problem(err, errlen,
		    "%s: directory %s is not writable by user %s (check \"%s\""
		    " and \"user\"): genid, running as %s, %s; chown %s %s if"
		    " the directory is genid's own, or set \"%s\" to a path in"
		    " one that is",
		    path, dir, r->name, key, r->name, use->dir_why, r->name,
		    dir, key);
	if (use->want == 0 || stat(path, &st) == -1)
		return n;
	if (!S_ISREG(st.st_mode))
		return n +
		    problem(err, errlen,
			"%s: not a regular file (check \"%s\")", path, key);
	mode = (use->want & 4 ? R_OK : 0) | (use->want & 2 ? W_OK : 0);
	if (r->name == NULL && access(path, mode) == -1)
		n += problem(err, errlen,
		    "%s is not %s by this user (check \"%s\")", path,
		    use->want & 4 ? "readable and writable" : "writable", key);
	else if (r->name != NULL && !runas_may(r, &st, use->want))
		n += problem(err, errlen,
		    "%s is not %s by user %s (check \"%s\" and \"user\"):"
		    " %s; chown %s %s",
		    path, use->want & 4 ? "readable and writable" : "writable",
		    r->name, key, use->file_why, r->name, path);
	return n;
}

void
cfgcheck_no_state_file(
    const struct cfg *c, const char *conf, char *buf, size_t len)
{
	snprintf(buf, len,
	    "%s: no state file. If this node has never issued IDs, make it:"
	    " genid -c %s --init. If its state file was lost, make one that"
	    " starts above what it may have issued: genid -c %s --init-lost"
	    " (genid(8), \"The first start\")",
	    c->state_file, conf, conf);
}

/*
 * The master pid of the genid that holds the state file's lock, -1 when
 * one holds it but its header names none, or 0 when none holds it (or the
 * file cannot be read: check_state says why).
 */
static long long
state_holder(const struct cfg *c)
{
	struct statefile sf;
	char err[1024];
	long long pid = 0;

	if (statefile_open_ro(&sf, c->state_file, err, sizeof(err)) == -1)
		return 0;
	if (statefile_in_use(&sf))
		pid = sf.h->master_pid > 0 ? (long long)sf.h->master_pid : -1;
	statefile_close(&sf);
	return pid;
}

/*
 * What statefile_switch will do at the start with the file made for was,
 * as a note; a problem when the name it keeps that file under is taken.
 */
static int
check_switch(const struct cfg *c, const struct state_identity *was,
    const struct state_identity *id, char *err, size_t errlen, char *note,
    size_t notelen)
{
	char kept[PATH_MAX], took[PATH_MAX], then[2 * PATH_MAX + 512];
	struct stat a, b;

	statefile_kept_name(c->state_file, was, kept, sizeof(kept));
	statefile_kept_name(c->state_file, id, took, sizeof(took));
	if (statefile_epoch_clash(
		c->state_file, id, clock_real_s(), then, sizeof(then)))
		return problem(err, errlen, "%s", then);
	if (stat(kept, &a) == 0 &&
	    (stat(c->state_file, &b) == -1 || a.st_ino != b.st_ino ||
		a.st_dev != b.st_dev))
		return problem(err, errlen,
		    "%s was made for zone %u dc %u machine %u epoch %lld, and"
		    " %s, another file of that identity, is there too: the"
		    " start cannot keep the first under that name (keep the"
		    " one genid ran on last, move the other away)",
		    c->state_file, was->zone, was->dc, was->machine,
		    (long long)was->epoch, kept);
	if (access(took, F_OK) == 0)
		snprintf(then, sizeof(then),
		    "takes back %s, which this"
		    " identity ran on before",
		    took);
	else
		snprintf(then, sizeof(then),
		    "makes a new state file for this"
		    " identity, whose IDs start from the current second as at"
		    " a first start");
	problem(note, notelen,
	    "note: %s was made for zone %u dc %u machine %u epoch %lld, the"
	    " configuration says zone %u dc %u machine %u epoch %lld: the"
	    " start keeps it as %s and %s (genid(8), \"Changing the"
	    " identity\")",
	    c->state_file, was->zone, was->dc, was->machine,
	    (long long)was->epoch, id->zone, id->dc, id->machine,
	    (long long)id->epoch, kept, then);
	return 0;
}

/*
 * What statefile_open would refuse in the state file, checked read-only
 * with the start's own rules, and what the start will do first (convert
 * an older layout, keep another identity's file aside) as notes; none
 * when it is missing and etcd is configured, as the start then makes it.
 */
static int
check_state(const struct cfg *c, const char *conf, char *err, size_t errlen,
    char *note, size_t notelen)
{
	struct state_identity id = {c->zone, c->dc, c->machine, c->epoch};
	struct state_identity was;
	struct statefile sf;
	char why[4096], took[PATH_MAX];
	int rc;

	rc = statefile_check(&sf, c->state_file, NULL, why, sizeof(why));
	if (rc == 0) {
		if (sf.upgraded_from != 0)
			problem(note, notelen,
			    "note: %s is of layout %u, made by an older genid:"
			    " the start converts it to layout %u before the"
			    " first ID (genid(7), \"COMPATIBILITY\")",
			    c->state_file, sf.upgraded_from, STATE_VERSION);
		was = (struct state_identity){
		    sf.h->zone, sf.h->dc, sf.h->machine, sf.h->epoch};
		statefile_close(&sf);
		/* With machine_id "auto" the identity is leased at the start. */
		if (c->machine_auto ||
		    (was.zone == id.zone && was.dc == id.dc &&
			was.machine == id.machine && was.epoch == id.epoch))
			return 0;
		return check_switch(c, &was, &id, err, errlen, note, notelen);
	}
	statefile_kept_name(c->state_file, &id, took, sizeof(took));
	if (rc == EX_NOINPUT && !c->machine_auto && access(took, F_OK) == 0) {
		problem(note, notelen,
		    "note: %s is missing: the start takes back %s, which this"
		    " identity ran on before",
		    c->state_file, took);
		return 0;
	}
	if (rc == EX_NOINPUT && c->netcd > 0)
		return 0;
	if (rc == EX_NOINPUT)
		cfgcheck_no_state_file(c, conf, why, sizeof(why));
	return problem(err, errlen, "%s%s", why,
	    rc == EX_CANTCREAT ? " (check \"state_file\")" : "");
}

/*
 * Whether a start could listen on a: a failure, or a note when the
 * address is in use and a running genid holds the state file (running
 * names it: "" or ", pid N"; NULL when none), since it serves there.  Adds
 * the sockets a start would have there to p, and each loopback address
 * the host lacks, which the start skips, to p's lines.
 */
static int
check_addr(const char *key, const struct cfg_addr *a, const char *running,
    struct probed *p, char *err, size_t errlen, char *note, size_t notelen)
{
	char why[1024];
	size_t len = strlen(p->skipped);
	int in_use, n;

	if (len > 0 && len + 1 < sizeof(p->skipped))
		p->skipped[len++] = '\n';
	if ((n = sock_probe(a, &in_use, p->skipped + len,
		 sizeof(p->skipped) - len, why, sizeof(why))) >= 0) {
		p->bound += n;
		if (p->skipped[len] == '\0' && len > 0)
			p->skipped[len - 1] = '\0';
		return 0;
	}
	p->skipped[len > 0 ? len - 1 : 0] = '\0';
	if (in_use && running != NULL) {
		p->bound++;
		problem(note, notelen,
		    "note: %s: %s, presumably by the running genid%s", key, why,
		    running);
		return 0;
	}
	if (in_use)
		return problem(err, errlen,
		    "%s: %s: another process listens there (stop it, or change"
		    " \"%s\")",
		    key, why, key);
	return problem(err, errlen, "%s: %s (check \"%s\")", key, why, key);
}

/*
 * The loopback addresses of key the host lacks: warnings, as the start
 * skips them, while another address is bound or the start fails anyway
 * (bad); else problems, one a line, as nothing is left to listen on.
 */
static int
check_skipped(const char *key, struct probed *p, int bad, char *err,
    size_t errlen, char *note, size_t notelen)
{
	char *line, *next;
	int n = 0;

	for (line = p->skipped; line[0] != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		else
			next = line + strlen(line);
		if (p->bound > 0 || bad > 0)
			problem(note, notelen,
			    "warning: %s: %s: this host has no such loopback"
			    " address: a start skips it and listens on the"
			    " others",
			    key, line);
		else
			n += problem(err, errlen,
			    "%s: %s: this host has no such loopback address,"
			    " and no other address is given (check \"%s\")",
			    key, line, key);
	}
	return n;
}

int
cfgcheck_start(const struct cfg *c, const char *conf, char *err, size_t errlen,
    char *note, size_t notelen)
{
	struct runas r = {NULL, 0, 0};
	struct passwd *pw;
	struct group *gr;
	char pid[32] = "";
	long long holder;
	unsigned i;
	struct probed p = {0, ""};
	int n = 0, state_bad, bad = 0;

	err[0] = '\0';
	note[0] = '\0';
	if (c->user[0] != '\0') {
		if ((pw = getpwnam(c->user)) == NULL)
			return problem(err, errlen,
			    "user \"%s\" does not exist (check \"user\")",
			    c->user);
		r = (struct runas){c->user, pw->pw_uid, pw->pw_gid};
		if (c->group[0] != '\0') {
			if ((gr = getgrnam(c->group)) == NULL)
				return problem(err, errlen,
				    "group \"%s\" does not exist (check"
				    " \"group\")",
				    c->group);
			r.gid = gr->gr_gid;
		}
		if (geteuid() != 0)
			n += problem(err, errlen,
			    "switching to user %s needs root: start genid as"
			    " root or remove \"user\"",
			    c->user);
	}
	/*
	 * The state and pid files are opened before genid switches to
	 * "user", but "user" restores a deleted state file and removes the
	 * pid file at the end; it reopens the log file on SIGHUP.
	 */
	state_bad = check_path(&r, &use_state, c->state_file, err, errlen);
	n += state_bad;
	if (c->pid_file[0] != '\0')
		n += check_path(&r, &use_pid, c->pid_file, err, errlen);
	if (c->log_file[0] != '\0' && strcmp(c->log_file, "syslog") != 0)
		n += check_path(&r, &use_log, c->log_file, err, errlen);
	/* A state file whose directory is wrong would only repeat it. */
	if (state_bad == 0)
		n += check_state(c, conf, err, errlen, note, notelen);
	/*
	 * A node that runs is no failure: genid -t runs beside it to check
	 * a configuration before a reload or a restart (genid(8)).
	 */
	if ((holder = state_holder(c)) != 0) {
		if (holder > 0)
			snprintf(pid, sizeof(pid), ", pid %lld", holder);
		problem(note, notelen,
		    "note: %s is in use by a running genid%s: fine for a"
		    " reload; another start on it is refused until that one"
		    " stops",
		    c->state_file, pid);
	}
	for (i = 0; i < c->nlisten; i++)
		bad += check_addr("listen", &c->listen[i],
		    holder != 0 ? pid : NULL, &p, err, errlen, note, notelen);
	n += bad + check_skipped("listen", &p, bad, err, errlen, note, notelen);
	if (!c->has_metrics)
		return n;
	p = (struct probed){0, ""};
	bad = check_addr("metrics_listen", &c->metrics_listen,
	    holder != 0 ? pid : NULL, &p, err, errlen, note, notelen);
	return n + bad +
	    check_skipped(
		"metrics_listen", &p, bad, err, errlen, note, notelen);
}

static void
warn_signed_overflow(const struct cfg *c)
{
	long long left =
	    c->epoch + ID_TS_SIGNED_LIMIT - (long long)clock_real_s();
	char when[TIMEFMT_LEN];

	if (left <= 0) {
		timefmt_iso(c->epoch + ID_TS_SIGNED_LIMIT, when, sizeof(when));
		log_warnx("IDs passed 2^63 on %s: they no longer fit a signed"
			  " 64-bit column (BIGINT, Java long); choose a recent"
			  " \"epoch\" for a new node",
		    when);
	} else if (left < YEAR_S)
		log_warnx(
		    "IDs reach 2^63 in %lld days: they no longer fit a"
		    " signed 64-bit column (BIGINT, Java long); choose a recent"
		    " \"epoch\" for a new node",
		    left / 86400);
}

/*
 * Names the first listen address of c beyond loopback in buf: 1, or 0
 * when there is none.
 */
static int
beyond_name(const struct cfg *c, char *buf, size_t len)
{
	const struct cfg_addr *a;
	unsigned i;

	for (i = 0; i < c->nlisten; i++)
		if (!addr_is_loopback(c->listen[i].host))
			break;
	if (i == c->nlisten)
		return 0;
	a = &c->listen[i];
	if (a->host[0] == '\0')
		snprintf(buf, len, "*:%u", a->port);
	else
		addr_format(a->host, a->port, buf, len);
	return 1;
}

/*
 * A node that listens beyond loopback and what then guards it: nothing
 * checks that its machine_id is unique without peers or etcd, and anyone
 * who reaches it may take IDs without an allow list (genid.json(5)).
 */
static void
warn_identity(const struct cfg *c)
{
	char where[CFG_HOST_LEN + 16];

	if (!beyond_name(c, where, sizeof(where)))
		return;
	if (c->npeers == 0 && c->netcd == 0)
		log_warnx("listen address %s is beyond loopback, and nothing"
			  " checks that machine_id %u is unique in zone %u dc"
			  " %u: a second node with it would hand out the same"
			  " IDs; list the other nodes of the dc in \"peers\" or"
			  " use coordination.etcd",
		    where, c->machine, c->zone, c->dc);
	if (c->nallow == 0)
		log_warnx("listen address %s is beyond loopback and \"allow\""
			  " is empty: any host that reaches it may take IDs"
			  " (and use up the ID space); set \"allow\" to the"
			  " networks of the clients",
		    where);
}

/* The first second of the current year (UTC): an epoch to suggest. */
static int64_t
year_start(int64_t now)
{
	time_t t = (time_t)now;
	struct tm tm;

	gmtime_r(&t, &tm);
	tm.tm_mon = 0;
	tm.tm_mday = 1;
	tm.tm_hour = 0;
	tm.tm_min = 0;
	tm.tm_sec = 0;
	return (int64_t)timegm(&tm);
}

/*
 * A node beyond loopback, that is a node of a fleet, whose file leaves
 * the epoch to the default 0: the README's advice for a new fleet is a
 * recent epoch, and it is chosen once (genid.json(5), CHOOSING THE EPOCH).
 */
static void
warn_epoch(const struct cfg *c)
{
	char where[CFG_HOST_LEN + 16], limit[TIMEFMT_LEN], year[TIMEFMT_LEN];
	int64_t suggest;

	if (c->epoch_set || !beyond_name(c, where, sizeof(where)))
		return;
	suggest = year_start(clock_real_s());
	timefmt_iso(ID_TS_SIGNED_LIMIT, limit, sizeof(limit));
	timefmt_iso(suggest, year, sizeof(year));
	log_warnx("listen address %s is beyond loopback and \"epoch\" is not"
		  " set: IDs count from 1970 and pass 2^63 (negative in a"
		  " signed 64-bit column) on %s; a new fleet sets \"epoch\" to"
		  " a recent Unix time such as %lld (%s), the same on every"
		  " node of the fleet: it cannot change for an existing state"
		  " file without starting a new one, and a node that issued"
		  " IDs under epoch 0 keeps it (\"epoch\": 0 says so;"
		  " genid.json(5), CHOOSING THE EPOCH)",
	    where, limit, (long long)suggest, year);
}

void
cfgcheck_warn_start(const struct cfg *c)
{
	warn_signed_overflow(c);
	warn_identity(c);
	warn_epoch(c);
}
