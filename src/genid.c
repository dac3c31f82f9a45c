/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * genid.c - main: parse the command line and the configuration, take the
 * state file, bind, become a daemon if asked, and hand over to the master.
 */
#include <bsd/libutil.h>
#include <bsd/stdlib.h>
#include <bsd/unistd.h>
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "checkpoint.h"
#include "config.h"
#include "etcd.h"
#include "id.h"
#include "identity.h"
#include "log.h"
#include "master.h"
#include "peercheck.h"
#include "sock.h"
#include "statefile.h"
#include "timefmt.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

/* How long a new master waits for the workers of a killed one to go. */
#define LOCK_WAIT_MS 2000
/* IDs reach 2^63 (negative as a signed 64-bit integer) at this ts. */
#define YEAR_S (365LL * 86400)
/* Descriptors a process needs besides its connections: listeners, state
 * file, log, metrics. */
#define FD_OWN 64u

static void usage(FILE *f);
static void die(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: genid [-dhtV] [-c file] [--wait-clock] [--new-node]"
	    " [--wait-coordination]\n"
	    "  -c file       configuration (default %s/genid.json)\n"
	    "  -d            run as a daemon in the background\n"
	    "  -t            test the configuration and exit\n"
	    "  -V            print the version and exit\n"
	    "  -h            print this help and exit\n"
	    "  --wait-clock  wait for the clock to pass the checkpoint instead"
	    " of refusing to start\n"
	    "  --new-node    on a new state file: this node never issued IDs"
	    " under its\n"
	    "                identity, start at the clock (see genid(8))\n"
	    "  --wait-coordination  wait for etcd instead of refusing to"
	    " start\n",
	    SYSCONFDIR);
}

/*
 * Fails before the workers run: the message goes to the log and, when the
 * log is elsewhere, to stderr too, where whoever started genid looks.
 */
static void
die(int code, const char *fmt, ...)
{
	char msg[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!log_is_stderr())
		fprintf(stderr, "genid: %s\n", msg);
	fatalx(code, "%s", msg);
}

static void
raise_fd_limit(unsigned want)
{
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

static void
drop_privileges(const struct cfg *c)
{
	struct passwd *pw;
	struct group *gr;
	gid_t gid;

	if (c->user[0] == '\0')
		return;
	if ((pw = getpwnam(c->user)) == NULL)
		die(EX_NOUSER, "user \"%s\" does not exist", c->user);
	gid = pw->pw_gid;
	if (c->group[0] != '\0') {
		if ((gr = getgrnam(c->group)) == NULL)
			die(EX_NOUSER, "group \"%s\" does not exist", c->group);
		gid = gr->gr_gid;
	}
	if (setgroups(1, &gid) == -1 || setgid(gid) == -1 ||
	    setuid(pw->pw_uid) == -1)
		die(EX_NOPERM,
		    "drop privileges to %s: %s (start genid as root"
		    " or remove \"user\")",
		    c->user, strerror(errno));
	log_info("running as user %s", c->user);
}

/* The log file genid creates as root belongs to "user", who reopens it. */
static void
set_log_owner(const struct cfg *c)
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

/* The addresses the node serves, as a JSON array, for its etcd key. */
static char *
listen_json(const int *fds, int nfds)
{
	json_t *a = json_array();
	char name[CFG_HOST_LEN + 16], *s;
	int i;

	for (i = 0; i < nfds; i++)
		json_array_append_new(a,
		    json_string(
			sock_name(fds[i], SOCK_LOCAL, name, sizeof(name))));
	s = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return s;
}

/*
 * With coordination.etcd: claims the machine id before the state file is
 * taken (genid(8), "Identity").  "auto" prefers the id the state file was
 * made for; a file made for an id another node holds now is kept aside.
 * Returns CLAIM_HELD with *cl, or CLAIM_UNCONFIRMED (a fixed id with its
 * state file while etcd does not answer); *node is the state file's node
 * id (a new one for a new file).
 */
static unsigned
claim_identity(struct cfg *c, const char *listen, int wait, int wait_clock,
    uint64_t instance, struct identity_claim *cl, uint64_t *node,
    struct peercheck_found *found)
{
	struct statefile ro;
	struct claim_node self;
	char err[4096], aside[PATH_MAX + 32];
	int prefer = -1, have_file = 0, rc;
	unsigned file_machine = 0, waited;

	*node = 0;
	if (statefile_open_ro(&ro, c->state_file, err, sizeof(err)) == 0) {
		if (ro.h->zone == c->zone && ro.h->dc == c->dc &&
		    ro.h->epoch == c->epoch) {
			have_file = 1;
			file_machine = ro.h->machine;
			prefer = (int)file_machine;
			*node = ro.h->node;
		}
		statefile_close(&ro);
	}
	while (*node == 0)
		*node = (uint64_t)arc4random() << 32 | arc4random();
	identity_self(&self, *node);
	if ((rc = peercheck_start(
		 c, instance, *node, wait_clock, found, err, sizeof(err))) != 0)
		die(rc, "%s", err);
	for (waited = 0;; waited++) {
		rc = identity_claim(c, &self,
		    c->machine_auto ? -1 : (int)c->machine, prefer, listen, cl,
		    err, sizeof(err));
		if (rc != EX_UNAVAILABLE || !wait)
			break;
		if (waited % 30 == 0)
			log_warnx(
			    "%s: waiting for it (--wait-coordination)", err);
		sleep(1);
	}
	if (rc == EX_UNAVAILABLE && !c->machine_auto && have_file &&
	    file_machine == c->machine) {
		log_warnx("%s: starting as machine %u of zone %u dc %u as"
			  " configured, unconfirmed: nothing checks that no"
			  " other node holds it until etcd answers",
		    err, c->machine, c->zone, c->dc);
		return CLAIM_UNCONFIRMED;
	}
	if (rc == EX_UNAVAILABLE)
		die(rc, "%s: %s", err,
		    c->machine_auto
			? "\"machine_id\": \"auto\" takes its id from etcd:"
			  " start etcd, or start genid with"
			  " --wait-coordination to wait for it"
			: "a fixed machine_id starts without etcd only with"
			  " the state file made for it; start etcd, or use"
			  " --wait-coordination");
	if (rc != 0)
		die(rc, "%s", err);
	if (have_file && file_machine != cl->machine) {
		snprintf(aside, sizeof(aside), "%s.machine-%u", c->state_file,
		    file_machine);
		if (rename(c->state_file, aside) == -1)
			die(EX_CANTCREAT, "rename %s to %s: %s", c->state_file,
			    aside, strerror(errno));
		log_warnx("coordination: %s was made for machine %u, which"
			  " another node holds now: kept as %s, and a new state"
			  " file made for machine %u",
		    c->state_file, file_machine, aside, cl->machine);
	}
	c->machine = cl->machine;
	log_notice("coordination: holds machine %u of zone %u dc %u in etcd%s"
		   " (lease %llx, %u s)%s",
	    cl->machine, c->zone, c->dc,
	    cl->reclaimed ? ", taken back from this node's last process" : "",
	    (unsigned long long)cl->lease, c->lease_ttl_s,
	    cl->foreign ? "; another node used it before: this one resumes"
			  " above its checkpoint"
			: "");
	return CLAIM_HELD;
}

/*
 * After the start's rules (which may wait for the clock): the lease is
 * renewed and the checkpoint key raised to what the buckets need now.  A
 * lease that ran out meanwhile is claimed again for the same id; when
 * another node used the id meanwhile, the start is refused (exit 75) and
 * the next one resumes above that node.
 */
static void
keep_claim(const struct cfg *c, struct statefile *sf, const char *listen,
    struct identity_claim *cl, uint64_t node)
{
	struct claim_node self;
	char err[4096];
	int rc;

	if ((rc = identity_renew(c, sf, err, sizeof(err))) == 1)
		return;
	if (rc == -1)
		die(EX_UNAVAILABLE, "%s", err);
	log_warnx("%s: claiming machine %u again", err, cl->machine);
	identity_self(&self, node);
	if ((rc = identity_claim(c, &self, (int)cl->machine, -1, listen, cl,
		 err, sizeof(err))) != 0)
		die(rc, "%s", err);
	if (cl->foreign)
		die(EX_TEMPFAIL,
		    "coordination: another node used machine %u during this"
		    " start: start again, to resume above its checkpoint",
		    cl->machine);
	identity_publish(sf, cl, c->epoch);
	if (identity_renew(c, sf, err, sizeof(err)) != 1)
		die(EX_UNAVAILABLE, "%s", err);
}

/* The etcd checkpoint another node wrote, as an ID's second (>= 1). */
static uint32_t
etcd_floor(const struct identity_claim *cl, int64_t epoch)
{
	int64_t ts = id_ts_of(cl->etcd_checkpoint, epoch);

	return ts < 1		       ? 1
	    : ts > (int64_t)UINT32_MAX ? UINT32_MAX
				       : (uint32_t)ts;
}

static void
warn_signed_overflow(const struct cfg *c)
{
	long long left = c->epoch + ID_TS_SIGNED_LIMIT - (long long)time(NULL);
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
 * A node that listens beyond loopback and what then guards it: nothing
 * checks that its machine_id is unique without peers or etcd, and anyone
 * who reaches it may take IDs without an allow list (genid.json(5)).
 */
static void
warn_identity(const struct cfg *c)
{
	const struct cfg_addr *a;
	char where[CFG_HOST_LEN + 16];
	unsigned i;

	for (i = 0; i < c->nlisten; i++)
		if (!cfg_loopback_host(c->listen[i].host))
			break;
	if (i == c->nlisten)
		return;
	a = &c->listen[i];
	if (a->host[0] == '\0')
		snprintf(where, sizeof(where), "*:%u", a->port);
	else if (strchr(a->host, ':') != NULL)
		snprintf(where, sizeof(where), "[%s]:%u", a->host, a->port);
	else
		snprintf(where, sizeof(where), "%s:%u", a->host, a->port);
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

int
main(int argc, char *argv[], char *envp[])
{
	static const struct option longopts[] = {
	    {"wait-clock", no_argument, NULL, 'w'},
	    {"new-node", no_argument, NULL, 'n'},
	    {"wait-coordination", no_argument, NULL, 'W'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	const char *conf = SYSCONFDIR "/genid.json";
	struct slew_conf sc;
	int ch, daemonize = 0, test = 0, wait_clock = 0, new_node = 0, nfds = 0;
	int wait_coord = 0;
	unsigned held = CLAIM_STATIC;
	struct identity_claim cl = {0};
	uint64_t node = 0, instance = 0;
	struct peercheck_found found = {0};
	char *listen = NULL;
	int nmetrics = 0, rc;
	int fds[SOCK_MAX_FDS], metrics_fds[SOCK_MAX_FDS];
	struct statefile sf;
	struct pidfh *pfh = NULL;
	static struct cfg cfg;
	char err[1024];
	pid_t other;

	setproctitle_init(argc, argv, envp);
	log_init("genid", LOG_LEVEL_INFO);
	while ((ch = getopt_long(argc, argv, "c:dhtV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'd':
			daemonize = 1;
			break;
		case 't':
			test = 1;
			break;
		case 'w':
			wait_clock = 1;
			break;
		case 'n':
			new_node = 1;
			break;
		case 'W':
			wait_coord = 1;
			break;
		case 'V':
			printf("genid %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "genid: unexpected argument \"%s\"\n",
		    argv[optind]);
		usage(stderr);
		return EX_USAGE;
	}
	if (cfg_load(&cfg, conf, (int64_t)time(NULL), err, sizeof(err)) == -1) {
		fprintf(stderr, "genid: %s\n", err);
		return EX_CONFIG;
	}
	if (test) {
		if (cfg_check_start(&cfg, err, sizeof(err)) > 0) {
			char *line, *next;

			for (line = err; line != NULL; line = next) {
				if ((next = strchr(line, '\n')) != NULL)
					*next++ = '\0';
				fprintf(stderr, "genid: %s\n", line);
			}
			return EX_CANTCREAT;
		}
		printf("%s: configuration OK\n", conf);
		return 0;
	}
	set_log_owner(&cfg);
	if (log_open(cfg.log_file, cfg.log_level) == -1) {
		fprintf(stderr, "genid: open %s: %s (check \"log_file\")\n",
		    cfg.log_file, strerror(errno));
		return EX_CANTCREAT;
	}
	warn_signed_overflow(&cfg);
	warn_identity(&cfg);
	/*
	 * The limit is per process: a worker holds only its share of the
	 * connections (the master's metrics connections are few).
	 */
	raise_fd_limit(
	    (cfg.max_connections + cfg.workers - 1) / cfg.workers + FD_OWN);
	/*
	 * With etcd the node binds first: its key names the addresses it
	 * serves.
	 */
	if (cfg.netcd > 0) {
		if (etcd_global_init() == -1)
			die(EX_SOFTWARE, "curl_global_init failed");
		if ((nfds = sock_listen(cfg.listen, cfg.nlisten, "listening",
			 fds, SOCK_MAX_FDS, err, sizeof(err))) == -1)
			die(EX_OSERR, "%s", err);
		listen = listen_json(fds, nfds);
		instance = (uint64_t)arc4random() << 32 | arc4random();
		held = claim_identity(&cfg, listen, wait_coord, wait_clock,
		    instance, &cl, &node, &found);
	}
	rc = statefile_open(&sf, cfg.state_file,
	    &(struct state_identity){cfg.zone, cfg.dc, cfg.machine, cfg.epoch},
	    (int64_t)time(NULL), LOCK_WAIT_MS, err, sizeof(err));
	if (rc == EX_CANTCREAT)
		die(rc, "%s (check \"state_file\")", err);
	if (rc != 0)
		die(rc, "%s", err);
	sf.h->instance = instance != 0
	    ? instance
	    : (uint64_t)arc4random() << 32 | arc4random();
	if (sf.h->node == 0)
		sf.h->node = node != 0
		    ? node
		    : (uint64_t)arc4random() << 32 | arc4random();
	if (held == CLAIM_HELD)
		identity_publish(&sf, &cl, cfg.epoch);
	else {
		/* Nothing leased: no fence, no ceiling (left by a last boot). */
		state_store(&sf.h->ceiling, 0);
		state_store((uint64_t *)&sf.h->fence_ms, 0);
		state_store((uint64_t *)&sf.h->lease, 0);
		__atomic_store_n(&sf.h->identity, held, __ATOMIC_RELEASE);
	}
	if (cfg.netcd == 0 &&
	    (rc = peercheck_start(&cfg, sf.h->instance, 0, wait_clock, &found,
		 err, sizeof(err))) != 0)
		die(rc, "%s", err);
	peercheck_store(&sf, &found);
	cfg_slew(&cfg, &sc);
	if ((rc = checkpoint_boot(&sf, &sc, wait_clock, new_node,
		 cl.foreign ? etcd_floor(&cl, cfg.epoch) : 0, err,
		 sizeof(err))) != 0)
		die(rc, "%s", err);
	if (held == CLAIM_HELD)
		keep_claim(&cfg, &sf, listen, &cl, node);
	if (cfg.netcd == 0 &&
	    (nfds = sock_listen(cfg.listen, cfg.nlisten, "listening", fds,
		 SOCK_MAX_FDS, err, sizeof(err))) == -1)
		die(EX_OSERR, "%s", err);
	if (cfg.has_metrics &&
	    (nmetrics = sock_listen(&cfg.metrics_listen, 1, "metrics",
		 metrics_fds, SOCK_MAX_FDS, err, sizeof(err))) == -1)
		die(EX_OSERR, "metrics_listen: %s", err);
	if (cfg.pid_file[0] != '\0' &&
	    (pfh = pidfile_open(cfg.pid_file, 0644, &other)) == NULL) {
		if (errno == EEXIST)
			die(EX_UNAVAILABLE,
			    "genid is already running, pid %ld"
			    " (%s)",
			    (long)other, cfg.pid_file);
		die(EX_CANTCREAT, "open %s: %s (check \"pid_file\")",
		    cfg.pid_file, strerror(errno));
	}
	if (daemonize) {
		if (log_is_stderr() && !log_syslog_ready())
			log_warnx(
			    "no log_file: -d logs to syslog, and there is"
			    " no syslog socket at /dev/log: log messages"
			    " are lost until a syslog daemon listens there;"
			    " set \"log_file\" to log to a file");
		if (daemon(0, 0) == -1)
			die(EX_OSERR, "daemon: %s", strerror(errno));
	}
	/* stderr is gone: a daemon without a log file uses syslog. */
	if (daemonize && log_is_stderr())
		log_open("syslog", cfg.log_level);
	if (pfh != NULL && pidfile_write(pfh) == -1)
		log_warn("write %s", cfg.pid_file);
	drop_privileges(&cfg);
	sf.h->master_pid = getpid();
	sf.h->started = (int64_t)time(NULL);
	sf.h->workers = cfg.workers;
	log_notice("genid %s starting: zone %u dc %u machine %u, %u workers,"
		   " state %s, boot %llu",
	    PACKAGE_VERSION, cfg.zone, cfg.dc, cfg.machine, cfg.workers,
	    cfg.state_file, (unsigned long long)sf.h->boot_count);
	rc = master_run(&cfg, &sf, fds, (unsigned)nfds, metrics_fds,
	    (unsigned)nmetrics, listen);
	free(listen);
	if (pfh != NULL && pidfile_remove(pfh) == -1)
		log_warn("remove %s", cfg.pid_file);
	statefile_close(&sf);
	return rc;
}
