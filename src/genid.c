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

#include "clock.h"
#include "cfgcheck.h"
#include "checkpoint.h"
#include "config.h"
#include "etcd.h"
#include "id.h"
#include "identity.h"
#include "log.h"
#include "master.h"
#include "peercheck.h"
#include "proc.h"
#include "sock.h"
#include "statefile.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

/* How long a new master waits for the workers of a killed one to go. */
#define LOCK_WAIT_MS 2000

struct opts;
struct start;

static void usage(FILE *f);
static void die(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));
static uint64_t random_id(void);
static char *listen_json(const int *fds, int nfds);
static void check_peers(const struct cfg *c, uint64_t instance, uint64_t node,
    int wait_clock, struct peercheck_found *f);
static int parse_args(int argc, char *argv[], struct opts *o);
static int load_config(struct cfg *c, const char *path);
static int test_config(const struct cfg *c, const char *path);
static void print_lines(FILE *f, char *text);
static int open_log(const struct cfg *c);
static void claim_with_etcd(
    struct cfg *c, const struct opts *o, struct start *s);
static int init_state(const struct cfg *c, int lost);
static void log_switch(const struct cfg *c, const struct statefile_switch *sw);
static void open_state(
    const struct cfg *c, const struct opts *o, struct start *s);
static int convert_state(const struct cfg *c, unsigned layout);
static void boot(const struct cfg *c, const struct opts *o, struct start *s);
static void bind_all(const struct cfg *c, struct start *s);
static void become_daemon(
    const struct cfg *c, const struct opts *o, struct start *s);
static int run(const struct cfg *c, struct start *s);

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: genid [-dhtV] [-c file] [--wait-clock]"
	    " [--wait-coordination]\n"
	    "       genid [-c file] --init | --init-lost\n"
	    "       genid [-c file] --state-layout 3|4\n"
	    "  -c file       configuration (default %s/genid.json)\n"
	    "  -d            run as a daemon in the background\n"
	    "  -t            test the configuration and exit\n"
	    "  -V            print the version and exit\n"
	    "  -h            print this help and exit\n"
	    "  --wait-clock  wait for the clock to pass the checkpoint instead"
	    " of refusing to start\n"
	    "  --init        make the state file of a node that never issued"
	    " IDs, and exit\n"
	    "  --init-lost   make a state file in place of a lost one: IDs"
	    " start above\n"
	    "                what the node may have issued (genid(8))\n"
	    "  --wait-coordination  wait for etcd instead of refusing to"
	    " start\n"
	    "  --state-layout N  rewrite the stopped node's state file in"
	    " layout N (3: for\n"
	    "                a genid older than 0.2.0), and exit\n",
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

/* The command line. */
struct opts {
	const char *conf;
	int daemonize;
	int test;
	int wait_clock;
	int init; /* 1: --init, 2: --init-lost */
	int wait_coord;
	unsigned layout; /* --state-layout N, 0 = none */
};

/* What the start gathers and hands over to the master. */
struct start {
	unsigned held; /* enum claim_state */
	struct identity_claim cl;
	uint64_t node;	   /* with etcd: the node id the claim names */
	uint64_t instance; /* with etcd: this process's, in the peer check */
	struct peercheck_found found;
	char *listen; /* with etcd: the addresses served, a JSON array */
	int fds[SOCK_MAX_FDS];
	int nfds;
	int metrics_fds[SOCK_MAX_FDS];
	int nmetrics;
	struct statefile sf;
	struct pidfh *pfh;
};

/* The peer check of the start (peercheck.c): a refusal ends the start. */
static void
check_peers(const struct cfg *c, uint64_t instance, uint64_t node,
    int wait_clock, struct peercheck_found *f)
{
	char err[4096];
	int rc;

	rc =
	    peercheck_start(c, instance, node, wait_clock, f, err, sizeof(err));
	if (rc != 0)
		die(rc, "%s", err);
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

/* A random 64-bit id (node, instance). */
static uint64_t
random_id(void)
{
	return (uint64_t)arc4random() << 32 | arc4random();
}

/* Reads the command line into *o: -1 to go on, or the exit code. */
static int
parse_args(int argc, char *argv[], struct opts *o)
{
	/* The long-only options set their flag in *o (getopt_long: 0). */
	const struct option longopts[] = {
	    {"wait-clock", no_argument, &o->wait_clock, 1},
	    {"init", no_argument, &o->init, 1},
	    {"init-lost", no_argument, &o->init, 2},
	    {"wait-coordination", no_argument, &o->wait_coord, 1},
	    {"state-layout", required_argument, NULL, 'L'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "c:dhtV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->conf = optarg;
			break;
		case 'd':
			o->daemonize = 1;
			break;
		case 't':
			o->test = 1;
			break;
		case 0:
			break;
		case 'L':
			if (strcmp(optarg, "3") != 0 &&
			    strcmp(optarg, "4") != 0) {
				fprintf(stderr,
				    "genid: --state-layout %s: this genid"
				    " writes layouts 3 and 4\n",
				    optarg);
				return EX_USAGE;
			}
			o->layout = (unsigned)(optarg[0] - '0');
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
	return -1;
}

/* Reads the configuration: 0, or EX_CONFIG after saying why. */
static int
load_config(struct cfg *c, const char *path)
{
	char err[1024];

	if (cfg_load(c, path, clock_real_s(), err, sizeof(err)) == -1) {
		fprintf(stderr, "genid: %s\n", err);
		return EX_CONFIG;
	}
	return 0;
}

/*
 * genid -t: the start's warnings, and what a start would trip on outside
 * the file; the exit code.
 */
static int
test_config(const struct cfg *c, const char *path)
{
	char err[8192], note[4096];
	int n;

	cfgcheck_warn_start(c);
	n = cfgcheck_start(c, path, err, sizeof(err), note, sizeof(note));
	print_lines(stdout, note);
	if (n > 0) {
		print_lines(stderr, err);
		return EX_CANTCREAT;
	}
	printf("%s: configuration OK\n", path);
	return 0;
}

/* Prints each line of text, if any, as "genid: LINE" to f. */
static void
print_lines(FILE *f, char *text)
{
	char *line, *next;

	if (text[0] == '\0')
		return;
	for (line = text; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		fprintf(f, "genid: %s\n", line);
	}
}

/* Opens the configured log: 0, or EX_CANTCREAT after saying why. */
static int
open_log(const struct cfg *c)
{
	proc_set_log_owner(c);
	if (log_open(c->log_file, c->log_level) == -1) {
		fprintf(stderr, "genid: open %s: %s (check \"log_file\")\n",
		    c->log_file, strerror(errno));
		return EX_CANTCREAT;
	}
	return 0;
}

/*
 * With etcd: binds first (the node's key names the addresses it serves),
 * checks the peers the dc's keys name, and claims the machine id.
 */
static void
claim_with_etcd(struct cfg *c, const struct opts *o, struct start *s)
{
	struct identity_file file;
	char err[4096];
	int rc;

	if (etcd_global_init() == -1)
		die(EX_SOFTWARE, "curl_global_init failed");
	if ((s->nfds = sock_listen(c->listen, c->nlisten, "listening", s->fds,
		 SOCK_MAX_FDS, err, sizeof(err))) == -1)
		die(EX_OSERR, "%s", err);
	s->listen = listen_json(s->fds, s->nfds);
	s->instance = random_id();
	identity_read_file(c, &file);
	s->node = file.node;
	check_peers(c, s->instance, s->node, o->wait_clock, &s->found);
	if ((rc = identity_start(c, &file, s->listen, o->wait_coord, &s->cl,
		 &s->held, err, sizeof(err))) != 0)
		die(rc, "%s", err);
}

/*
 * genid --init, --init-lost: makes the state file of the configured
 * identity, which must not exist (genid(8), "The first start").  The exit
 * code.
 */
static int
init_state(const struct cfg *c, int lost)
{
	struct statefile sf;
	char err[4096];
	int64_t now = clock_real_s();
	int rc;

	if (c->machine_auto) {
		fprintf(stderr,
		    "genid: machine_id \"auto\": the state file is made at the"
		    " start, for the identity leased from etcd and above the"
		    " checkpoint etcd keeps for it; start genid without %s\n",
		    lost ? "--init-lost" : "--init");
		return EX_USAGE;
	}
	if (access(c->state_file, F_OK) == 0) {
		fprintf(stderr,
		    "genid: %s already exists: this node has its state file,"
		    " nothing to make (move it away first only if it is"
		    " damaged: genid(8), \"A damaged state file\")\n",
		    c->state_file);
		return EX_CANTCREAT;
	}
	rc = statefile_open(&sf, c->state_file,
	    &(struct state_identity){c->zone, c->dc, c->machine, c->epoch}, now,
	    1, 0, err, sizeof(err));
	if (rc == 0) {
		if (lost)
			rc = checkpoint_init_lost(&sf, id_ts_of(now, c->epoch),
			    c->max_ahead_s, err, sizeof(err));
		statefile_close(&sf);
	}
	if (rc != 0) {
		fprintf(stderr, "genid: %s (check \"state_file\")\n", err);
		return rc;
	}
	printf("%s: state file made for zone %u dc %u machine %u: %s\n",
	    c->state_file, c->zone, c->dc, c->machine,
	    lost ? "its IDs start above what the node whose file was lost"
		   " may have issued"
		 : "its first start issues IDs from the current second");
	return 0;
}

/*
 * genid --state-layout N: the stopped node's state file in layout N (3,
 * for an older genid; 4, this one's, converted now rather than at the
 * start).  The exit code: EX_TEMPFAIL while a genid runs on it.
 */
static int
convert_state(const struct cfg *c, unsigned layout)
{
	struct statefile sf;
	const char *what = "";
	char err[4096];
	int rc;

	if (layout == 3) {
		rc =
		    statefile_downgrade(c->state_file, &what, err, sizeof(err));
	} else {
		rc = statefile_open(&sf, c->state_file, NULL, clock_real_s(), 0,
		    0, err, sizeof(err));
		if (rc == 0) {
			what = sf.upgraded_from != 0
			    ? "converted to layout 4"
			    : "layout 4 already: nothing to convert";
			statefile_close(&sf);
		} else if (rc == EX_NOINPUT) {
			what = "no state file there: nothing to convert";
			rc = 0;
		}
	}
	if (rc == EX_UNAVAILABLE) {
		fprintf(stderr,
		    "genid: %s; the file is converted only while no"
		    " genid runs on it\n",
		    err);
		return EX_TEMPFAIL;
	}
	if (rc != 0) {
		fprintf(stderr, "genid: %s\n", err);
		return rc;
	}
	printf("%s: %s\n", c->state_file, what);
	return 0;
}

/* The refusal of a start without a state file: both ways forward. */
static void
no_state_file(const struct cfg *c, const char *conf)
{
	char msg[4096];

	cfgcheck_no_state_file(c, conf, msg, sizeof(msg));
	die(EX_NOINPUT, "%s", msg);
}

/* Says what statefile_switch did, if anything. */
static void
log_switch(const struct cfg *c, const struct statefile_switch *sw)
{
	char was[128];

	if (sw->done == STATEFILE_UNCHANGED)
		return;
	if (sw->kept[0] == '\0') {
		log_notice("%s: no state file there; took back %s, the one this"
			   " identity ran on before",
		    c->state_file, sw->took);
		return;
	}
	snprintf(was, sizeof(was), "zone %u dc %u machine %u epoch %lld",
	    sw->was.zone, sw->was.dc, sw->was.machine,
	    (long long)sw->was.epoch);
	if (sw->done == STATEFILE_TOOK_BACK)
		log_warnx("identity changed: %s was made for %s, the"
			  " configuration says zone %u dc %u machine %u epoch"
			  " %lld%s: kept the old one as %s and took back %s,"
			  " which this identity ran on before",
		    c->state_file, was, c->zone, c->dc, c->machine,
		    (long long)c->epoch,
		    c->machine_auto ? " (leased from etcd)" : "", sw->kept,
		    sw->took);
	else
		log_warnx("identity changed: %s was made for %s, the"
			  " configuration says zone %u dc %u machine %u epoch"
			  " %lld%s: kept the old one as %s and made a new state"
			  " file for this identity, whose IDs start from the"
			  " current second as at a first start; if another"
			  " host issued IDs as this identity, stop this node"
			  " (genid(8), \"Changing the identity\")",
		    c->state_file, was, c->zone, c->dc, c->machine,
		    (long long)c->epoch,
		    c->machine_auto ? " (leased from etcd)" : "", sw->kept);
}

/* Takes the state file, names the node and this process in it. */
static void
open_state(const struct cfg *c, const struct opts *o, struct start *s)
{
	struct state_identity id = {c->zone, c->dc, c->machine, c->epoch};
	struct statefile_switch sw;
	char err[4096];
	int rc;

	if ((rc = statefile_switch(c->state_file, &id, clock_real_s(), &sw, err,
		 sizeof(err))) != 0)
		die(rc, "%s (genid(8), \"Changing the identity\")", err);
	log_switch(c, &sw);
	/* With etcd the checkpoint it keeps is the floor (genid(8)). */
	rc = statefile_open(&s->sf, c->state_file, &id, clock_real_s(),
	    c->netcd > 0, LOCK_WAIT_MS, err, sizeof(err));
	if (rc == EX_NOINPUT)
		no_state_file(c, o->conf);
	if (rc == EX_CANTCREAT)
		die(rc, "%s (check \"state_file\")", err);
	if (rc != 0)
		die(rc, "%s", err);
	if (s->sf.upgraded_from != 0)
		log_notice("%s: converted from layout %u to layout %u, durably,"
			   " before the first ID: checkpoint %u%s (genid(7),"
			   " \"COMPATIBILITY\")",
		    c->state_file, s->sf.upgraded_from, STATE_VERSION,
		    (unsigned)(s->sf.h->checkpoint_seal >> 32),
		    s->sf.h->clean == 1 ? " and the bucket words of its clean"
					  " stop carried over"
					: "");
	state_set_writer(s->sf.h, PACKAGE_VERSION);
	s->sf.h->instance = s->instance != 0 ? s->instance : random_id();
	if (s->sf.h->node == 0)
		s->sf.h->node = s->node != 0 ? s->node : random_id();
	identity_publish_start(&s->sf, s->held, &s->cl, c->epoch);
}

/* The start's rules of the checkpoint, then the lease kept up to them. */
static void
boot(const struct cfg *c, const struct opts *o, struct start *s)
{
	struct slew_conf sc;
	char err[4096];
	int rc;

	cfg_slew(c, &sc);
	if ((rc = checkpoint_boot(&s->sf, &sc, o->wait_clock,
		 identity_floor(&s->cl, c->epoch), err, sizeof(err))) != 0)
		die(rc, "%s", err);
	if (s->held == CLAIM_HELD &&
	    (rc = identity_keep(
		 c, &s->sf, s->listen, &s->cl, s->node, err, sizeof(err))) != 0)
		die(rc, "%s", err);
}

/* Binds the listening (unless bound for etcd) and metrics sockets. */
static void
bind_all(const struct cfg *c, struct start *s)
{
	char err[1024];

	if (c->netcd == 0 &&
	    (s->nfds = sock_listen(c->listen, c->nlisten, "listening", s->fds,
		 SOCK_MAX_FDS, err, sizeof(err))) == -1)
		die(EX_OSERR, "%s", err);
	if (c->has_metrics &&
	    (s->nmetrics = sock_listen(&c->metrics_listen, 1, "metrics",
		 s->metrics_fds, SOCK_MAX_FDS, err, sizeof(err))) == -1)
		die(EX_OSERR, "metrics_listen: %s", err);
}

/* The pid file, the background (-d), and the switch to "user". */
static void
become_daemon(const struct cfg *c, const struct opts *o, struct start *s)
{
	char err[1024];
	int rc;

	if ((rc = proc_pidfile_open(c, &s->pfh, err, sizeof(err))) != 0)
		die(rc, "%s", err);
	if (o->daemonize && (rc = proc_daemonize(c, err, sizeof(err))) != 0)
		die(rc, "%s", err);
	proc_pidfile_write(c, s->pfh);
	if ((rc = proc_drop_privileges(c, err, sizeof(err))) != 0)
		die(rc, "%s", err);
}

/* Hands over to the master, and cleans up after it: the exit code. */
static int
run(const struct cfg *c, struct start *s)
{
	int rc;

	s->sf.h->master_pid = getpid();
	s->sf.h->started = clock_real_s();
	s->sf.h->workers = c->workers;
	log_notice("genid %s starting: zone %u dc %u machine %u, %u workers,"
		   " state %s, boot %llu",
	    PACKAGE_VERSION, c->zone, c->dc, c->machine, c->workers,
	    c->state_file, (unsigned long long)s->sf.h->boot_count);
	rc = master_run(c, &s->sf, s->fds, (unsigned)s->nfds, s->metrics_fds,
	    (unsigned)s->nmetrics, s->listen);
	free(s->listen);
	proc_pidfile_remove(c, s->pfh);
	statefile_close(&s->sf);
	return rc;
}

int
main(int argc, char *argv[], char *envp[])
{
	static struct cfg cfg;
	static struct start s = {.held = CLAIM_STATIC};
	struct opts o = {.conf = SYSCONFDIR "/genid.json"};
	int rc;

	setproctitle_init(argc, argv, envp);
	log_init("genid", LOG_LEVEL_INFO);
	if ((rc = parse_args(argc, argv, &o)) >= 0)
		return rc;
	if ((rc = load_config(&cfg, o.conf)) != 0)
		return rc;
	if (o.test)
		return test_config(&cfg, o.conf);
	if (o.init)
		return init_state(&cfg, o.init == 2);
	if (o.layout != 0)
		return convert_state(&cfg, o.layout);
	if ((rc = open_log(&cfg)) != 0)
		return rc;
	cfgcheck_warn_start(&cfg);
	proc_raise_fd_limit(&cfg);
	if (cfg.netcd > 0)
		claim_with_etcd(&cfg, &o, &s);
	open_state(&cfg, &o, &s);
	if (cfg.netcd == 0)
		check_peers(&cfg, s.sf.h->instance, 0, o.wait_clock, &s.found);
	peercheck_store(&s.sf, &s.found);
	boot(&cfg, &o, &s);
	bind_all(&cfg, &s);
	become_daemon(&cfg, &o, &s);
	return run(&cfg, &s);
}
