/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * genid.c - main: parse the command line and the configuration, take the
 * state file, bind, become a daemon if asked, and hand over to the master.
 */
#include <bsd/stdlib.h>
#include <bsd/unistd.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "cfgcheck.h"
#include "checkpoint.h"
#include "config.h"
#include "etcd.h"
#include "id.h"
#include "identity.h"
#include "log.h"
#include "master.h"
#include "peers.h"
#include "proc.h"
#include "sock.h"
#include "statefile.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

/* How long a new master waits for the workers of a killed one to go. */
#define LOCK_WAIT_MS 2000

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

/* What the start-up peer check found, for the state header. */
struct peers_found {
	uint64_t conflicts;
	int64_t checked;
	int64_t skew_ms;
	uint64_t answered;
};

static void
store_peers(struct statefile *sf, const struct peers_found *f)
{
	state_store(&sf->h->peer_conflicts, f->conflicts);
	state_store((uint64_t *)&sf->h->peer_checked, (uint64_t)f->checked);
	state_store((uint64_t *)&sf->h->peer_skew_ms, (uint64_t)f->skew_ms);
	state_store(&sf->h->peer_clocks, f->answered);
}

/*
 * A peer with this node's identity stops the start (genid(8)), and so does
 * a clock too far from the peers' (unless --wait-clock: then it waits
 * for the clock, asking the peers again every second).  With etcd the
 * peers are the other nodes of the dc holding an id there (not node, this
 * state file's own), asked before this node claims its id, so that slow
 * peers cost no lease; machine is then the fixed id, or none for "auto".
 */
static void
check_peers(const struct cfg *conf, uint64_t instance, uint64_t node,
    int wait_clock, struct peers_found *f)
{
	static struct cfg with_etcd_peers;
	const struct cfg *c = conf;
	struct peer_identity self = {c->zone, c->dc,
	    c->machine_auto ? ID_MACHINE_MAX + 1 : c->machine, instance};
	struct peers_clock clock;
	char err[1024], skew[2048];
	unsigned waited = 0;
	int found;

	memset(f, 0, sizeof(*f));
	if (conf->netcd > 0) {
		with_etcd_peers = *conf;
		found = identity_peers(conf, node, with_etcd_peers.peers,
		    CFG_MAX_PEERS, err, sizeof(err));
		if (found == -1)
			log_warnx("peer check: %s: the clock is not compared"
				  " with the other nodes",
			    err);
		with_etcd_peers.npeers = found < 0 ? 0 : (unsigned)found;
		c = &with_etcd_peers;
	}
	if (c->npeers == 0)
		return;
	for (;;) {
		f->conflicts = peers_check(c, &self, err, sizeof(err), &clock);
		f->checked = (int64_t)time(NULL);
		f->skew_ms = clock.skew_ms;
		f->answered = clock.answered;
		if (f->conflicts > 0)
			die(EX_CONFIG, "%s", err);
		if (!peers_skewed(c, &clock))
			break;
		peers_describe_skew(c, &clock, skew, sizeof(skew));
		if (!wait_clock)
			die(EX_TEMPFAIL,
			    "%s: correct the clock (NTP), or start with"
			    " --wait-clock to wait for it",
			    skew);
		if (waited++ % 30 == 0)
			log_warnx(
			    "%s: waiting for the clock (--wait-clock)", skew);
		sleep(1);
	}
	if (waited > 0)
		log_notice("the clock is within %u s of the peers' again after"
			   " %u s",
		    c->max_peer_skew_s, waited);
	if (clock.answered > 0)
		log_info("the clock is %+.1f s from the median of %u peers",
		    clock.skew_ms / 1000.0, clock.answered);
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
	struct peers_found found = {0};
	char *listen = NULL;
	int nmetrics = 0, rc;
	int fds[SOCK_MAX_FDS], metrics_fds[SOCK_MAX_FDS];
	struct statefile sf;
	struct pidfh *pfh = NULL;
	static struct cfg cfg;
	struct identity_file file;
	char err[4096];

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
		if (cfgcheck_start(&cfg, err, sizeof(err)) > 0) {
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
	proc_set_log_owner(&cfg);
	if (log_open(cfg.log_file, cfg.log_level) == -1) {
		fprintf(stderr, "genid: open %s: %s (check \"log_file\")\n",
		    cfg.log_file, strerror(errno));
		return EX_CANTCREAT;
	}
	cfgcheck_warn_start(&cfg);
	proc_raise_fd_limit(&cfg);
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
		identity_read_file(&cfg, &file);
		node = file.node;
		check_peers(&cfg, instance, node, wait_clock, &found);
		if ((rc = identity_start(&cfg, &file, listen, wait_coord, &cl,
			 &held, err, sizeof(err))) != 0)
			die(rc, "%s", err);
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
	identity_publish_start(&sf, held, &cl, cfg.epoch);
	if (cfg.netcd == 0)
		check_peers(&cfg, sf.h->instance, 0, wait_clock, &found);
	store_peers(&sf, &found);
	cfg_slew(&cfg, &sc);
	if ((rc = checkpoint_boot(&sf, &sc, wait_clock, new_node,
		 identity_floor(&cl, cfg.epoch), err, sizeof(err))) != 0)
		die(rc, "%s", err);
	if (held == CLAIM_HELD &&
	    (rc = identity_keep(
		 &cfg, &sf, listen, &cl, node, err, sizeof(err))) != 0)
		die(rc, "%s", err);
	if (cfg.netcd == 0 &&
	    (nfds = sock_listen(cfg.listen, cfg.nlisten, "listening", fds,
		 SOCK_MAX_FDS, err, sizeof(err))) == -1)
		die(EX_OSERR, "%s", err);
	if (cfg.has_metrics &&
	    (nmetrics = sock_listen(&cfg.metrics_listen, 1, "metrics",
		 metrics_fds, SOCK_MAX_FDS, err, sizeof(err))) == -1)
		die(EX_OSERR, "metrics_listen: %s", err);
	if ((rc = proc_pidfile_open(&cfg, &pfh, err, sizeof(err))) != 0)
		die(rc, "%s", err);
	if (daemonize && (rc = proc_daemonize(&cfg, err, sizeof(err))) != 0)
		die(rc, "%s", err);
	proc_pidfile_write(&cfg, pfh);
	if ((rc = proc_drop_privileges(&cfg, err, sizeof(err))) != 0)
		die(rc, "%s", err);
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
	proc_pidfile_remove(&cfg, pfh);
	statefile_close(&sf);
	return rc;
}
