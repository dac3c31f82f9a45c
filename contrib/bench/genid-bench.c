/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * genid-bench.c - load generator for genid and for the peer it is measured
 * against, Redis INCR (contrib/bench/README.md).  N connections are spread
 * over T threads, each thread one epoll loop over non-blocking sockets.  A
 * warm-up, then a measured window of fixed length; the tool always ends
 * after them.
 *
 * Every connection keeps `depth` requests outstanding.  Requests are all
 * alike, so what is left to write is a byte count into a buffer of repeated
 * frames, and a reply's latency is its arrival time minus the write time of
 * its request, kept in a small ring per connection.
 *
 * Only loopback addresses are accepted: this tool floods its target.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <endian.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define BULK_N 255	  /* IDs asked for by one CMD 1 */
#define ID_CAP (1u << 21) /* IDs per second one node may issue (genid(7)) */
#define READ_BUF (256 * 1024)
#define LOOP_MS 10		 /* longest epoll wait: bounds phase slop */
#define RETRY_WINDOW_NS 50000000 /* see reply_done */
#define RETRY_NS 5000000


enum mode { MODE_BULK, MODE_PIPE, MODE_SINGLE, MODE_REDIS, MODE_INCRBY };
enum phase { PHASE_WARMUP, PHASE_MEASURE, PHASE_STOP };

struct opts {
	const char *host;
	const char *port;
	const char *key;
	enum mode mode;
	unsigned conns;
	unsigned depth;
	unsigned threads;
	double seconds;
	double warmup;
	double settle; /* longest extra warm-up, 0 = none */
	long server_pid;
	int check;
	int json;
	int backoff;
	unsigned batch; /* redis-incr: INCR commands written as one request */
	int rx_ts;	/* also measure to the kernel's receive timestamp */
	double rate;	/* requests/s over all connections, 0 = closed loop */
};

struct idvec {
	uint64_t *v;
	size_t n;
	size_t cap;
};

struct thread;

struct conn {
	struct thread *t;
	int fd;
	int dead;
	int out_armed;	      /* EPOLLOUT is being watched */
	unsigned outstanding; /* requests queued or sent, reply not done */
	size_t wpend;	      /* request bytes still to write */
	size_t woff;	      /* offset of the next byte in its frame */
	int64_t *ring;	      /* write times of sent requests, oldest first */
	unsigned rhead;
	unsigned rlen;
	int64_t rx_ns;	 /* arrival time of the data being parsed */
	int64_t krx_ns;	 /* the kernel's receive time of it, 0 = unknown */
	int64_t wake_ns; /* bulk: resume after a short reply, 0 = now */
	int64_t due_ns;	 /* --rate: when the next request is due */
	int64_t sched_ns; /* --rate: when the request being sent was due */
	unsigned pstate; /* reply parser */
	unsigned pcount;
	unsigned pleft;
	unsigned accn;
	uint64_t acc;
	uint64_t last_id; /* relaxed atomic: main reads the lead */
	uint64_t nids;
	uint64_t window_ids; /* IDs received while measuring */
	struct idvec ids;    /* --check: every ID received */
	int ids_lost;	     /* --check ran out of memory */
};

struct thread {
	pthread_t tid;
	int ep;
	int tfd;	  /* --rate: timerfd for the next request due */
	int64_t armed_ns; /* the time it is set to, 0 = none */
	int measuring;
	struct conn **conns;
	unsigned nconns;
	unsigned nbackoff;
	uint64_t requests; /* counted while measuring */
	uint64_t ids;
	uint64_t shorts;
	uint64_t errors;       /* connections lost, any phase */
	uint64_t order_errors; /* any phase */
	uint64_t hist[HIST_BUCKETS];
	uint64_t khist[HIST_BUCKETS]; /* to the kernel's receive time */
	uint8_t buf[READ_BUF];
};

/*
 * How far the buckets the connections use are ahead of the wall clock:
 * genid may borrow IDs of later seconds, up to max_ahead_s, so for a while
 * it can hand out more than the format's 65,536 IDs per bucket and second.
 */
struct lead {
	int known;
	double min; /* seconds, over the buckets used */
	double max;
	uint64_t borrowed; /* IDs issued beyond the current second */
	uint64_t bucket_borrowed[32];
};

struct result {
	double secs;
	uint64_t requests;
	uint64_t ids;
	uint64_t shorts;
	uint64_t errors;
	uint64_t order_errors;
	uint64_t hist[HIST_BUCKETS];
	uint64_t khist[HIST_BUCKETS];
	double server_cpu; /* < 0: not measured */
	unsigned server_procs;
	double client_cpu;
	struct lead lead_start;
	struct lead lead_end;
	unsigned buckets_used;
	unsigned bucket_max_conns;
	uint64_t bucket_ids[32]; /* IDs of the window, per bucket */
	uint64_t checked;
	uint64_t duplicates;
	int check_incomplete;
};

struct info {
	int ok;
	int64_t epoch;
	long workers;
	char version[32];
};

static void usage(int code) __attribute__((noreturn));
static void parse_args(int argc, char **argv, struct opts *o);
static double parse_secs(const char *s, const char *what);
static struct addrinfo *resolve_loopback(const char *host, const char *port);
static int is_loopback(const struct sockaddr *sa);
static int dial(const struct addrinfo *ai, int nonblock);
static void query_info(const struct addrinfo *ai, struct info *inf);
static int64_t json_int(const char *json, const char *key, int64_t def);
static void make_pattern(const struct opts *o);
static void *thread_main(void *arg);
static void conn_event(struct conn *c, uint32_t events);
static void conn_fail(struct conn *c, const char *why);
static ssize_t recv_ts(struct conn *c, uint8_t *buf, size_t len);
static void conn_topup(struct conn *c);
static void rate_tick(struct thread *t);
static void conn_flush(struct conn *c);
static void parse_one(struct conn *c, const uint8_t *p, size_t n);
static void parse_bulk(struct conn *c, const uint8_t *p, size_t n);
static void parse_redis(struct conn *c, const uint8_t *p, size_t n);
static int next_id(
    struct conn *c, const uint8_t *p, size_t n, size_t *i, uint64_t *id);
static void got_id(struct conn *c, uint64_t id);
static void reply_done(struct conn *c, unsigned nids, int is_short);
static void wake_backoff(struct thread *t, int64_t now);
static int backoff_timeout(const struct thread *t, int64_t now);
static void sleep_until(int64_t deadline);
static double proc_cpu(long pid, unsigned *nprocs);
static int proc_stat(long pid, long *ppid, unsigned long long *ticks);
static double self_cpu(void);
static struct lead lead_now(
    const struct conn *conns, unsigned n, const struct info *inf);
static void settle(
    const struct conn *conns, unsigned n, const struct info *inf);
static void align_half_second(void);
static void check_ids(struct conn *conns, unsigned n, struct result *r);
static void buckets_used(struct conn *conns, unsigned n, struct result *r);
static double sustained(const struct result *r);
static void report_text(
    const struct opts *o, const char *addr, const struct result *r);
static void report_json(
    const struct opts *o, const char *addr, const struct result *r);

static struct opts opt;
static int g_phase = PHASE_WARMUP; /* read and written atomically */
static int64_t backoff_slack;	   /* ns: see reply_done */
static uint8_t *pattern;	   /* depth + 1 request frames */
static size_t frame_len;

static const char *const mode_names[] = {
    [MODE_BULK] = "bulk",
    [MODE_PIPE] = "pipe",
    [MODE_SINGLE] = "single",
    [MODE_REDIS] = "redis-incr",
    [MODE_INCRBY] = "redis-incrby",
};
static int64_t real_minus_mono; /* ns, for the kernel's timestamps */
static int64_t rate_gap_ns;	/* --rate: between two requests of a conn */
#define IS_REDIS(m) ((m) == MODE_REDIS || (m) == MODE_INCRBY)

static void
usage(int code)
{
	fprintf(code ? stderr : stdout,
	    "usage: genid-bench [-h host] [-p port] [-c connections]"
	    " [-d depth] [-t threads]\n"
	    "                   [-s seconds] [-w warmup] [--settle seconds]"
	    " [--check] [--json]\n"
	    "                   [--server-pid pid] [--key key] [--no-backoff]\n"
	    "                   [--batch n] [--rx-timestamps] [--rate r]\n"
	    "                   bulk | pipe | single | redis-incr |"
	    " redis-incrby\n"
	    "  bulk        CMD 1 n=255, depth -d (default 1) per connection\n"
	    "  pipe        CMD 0, depth -d (default 16) per connection\n"
	    "  single      CMD 0, one request in flight per connection\n"
	    "  redis-incr  Redis INCR key, depth -d (default 1); --batch n:"
	    " n INCR\n"
	    "              written at once make one request of n IDs\n"
	    "  redis-incrby  Redis INCRBY key 255: one request of 255 IDs\n"
	    "--rx-timestamps: also report latency to the kernel's receive"
	    " time\n"
	    "--rate r: open loop, r requests/s over all connections (depth"
	    " 1); latency\n"
	    "          counts from when a request was due, not when it was"
	    " sent\n"
	    "defaults: -h 127.0.0.1 -p 3778 (6379 for redis-incr) -c 50"
	    " -t 1 -s 10 -w 1\n"
	    "Only loopback addresses are accepted.\n");
	exit(code);
}

int
main(int argc, char **argv)
{
	struct addrinfo *ai;
	struct thread *th;
	struct conn *conns;
	struct result r;
	struct info inf;
	struct rlimit rl;
	struct timespec res;
	char addr[INET6_ADDRSTRLEN + 8], host[INET6_ADDRSTRLEN];
	double cpu0 = 0, ccpu0;
	int64_t t0, t1;
	unsigned i, j;
	int one = 1;

	parse_args(argc, argv, &opt);
	signal(SIGPIPE, SIG_IGN);
	ai = resolve_loopback(opt.host, opt.port);
	getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof(host), NULL, 0,
	    NI_NUMERICHOST);
	snprintf(addr, sizeof(addr),
	    ai->ai_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, opt.port);

	/* A safety net: nothing below may outlive its time by much. */
	alarm((unsigned)(opt.warmup + opt.settle + opt.seconds) + 30);

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	memset(&inf, 0, sizeof(inf));
	if (!IS_REDIS(opt.mode))
		query_info(ai, &inf);
	make_pattern(&opt);
	clock_gettime(CLOCK_REALTIME, &res);
	real_minus_mono =
	    (int64_t)res.tv_sec * NS + res.tv_nsec - bench_mono_ns();
	if (clock_getres(CLOCK_REALTIME_COARSE, &res) == 0)
		backoff_slack = res.tv_nsec + 1000000;

	if ((conns = calloc(opt.conns, sizeof(*conns))) == NULL ||
	    (th = calloc(opt.threads, sizeof(*th))) == NULL)
		err(EX_OSERR, "calloc");
	for (i = 0; i < opt.threads; i++) {
		if ((th[i].ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
			err(EX_OSERR, "epoll_create1");
		th[i].tfd = -1;
		if (opt.rate > 0) {
			struct epoll_event tev = {.events = EPOLLIN,
			    .data.ptr = NULL};

			th[i].tfd = timerfd_create(
			    CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
			if (th[i].tfd == -1 ||
			    epoll_ctl(th[i].ep, EPOLL_CTL_ADD, th[i].tfd,
				&tev) == -1)
				err(EX_OSERR, "timerfd");
		}
		th[i].conns =
		    calloc(opt.conns / opt.threads + 1, sizeof(*th[i].conns));
		if (th[i].conns == NULL)
			err(EX_OSERR, "calloc");
	}
	for (i = 0; i < opt.conns; i++) {
		struct conn *c = &conns[i];
		struct thread *t = &th[i % opt.threads];
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};

		if ((c->fd = dial(ai, 1)) == -1)
			err(EX_UNAVAILABLE, "connect %s (connection %u)", addr,
			    i + 1);
		if ((c->ring = calloc(opt.depth, sizeof(*c->ring))) == NULL)
			err(EX_OSERR, "calloc");
		if (opt.rx_ts && setsockopt(c->fd, SOL_SOCKET, SO_TIMESTAMPNS,
				     &one, sizeof(one)) == -1)
			err(EX_OSERR, "setsockopt SO_TIMESTAMPNS");
		c->t = t;
		t->conns[t->nconns++] = c;
		if (epoll_ctl(t->ep, EPOLL_CTL_ADD, c->fd, &ev) == -1)
			err(EX_OSERR, "epoll_ctl");
	}
	freeaddrinfo(ai);

	if (opt.rate > 0) {
		/* Each connection sends every conns/rate seconds, the
		 * connections spread evenly over that gap. */
		int64_t t = bench_mono_ns() + 1000000;

		rate_gap_ns = (int64_t)((double)opt.conns / opt.rate * NS);
		for (i = 0; i < opt.conns; i++)
			conns[i].due_ns = t + rate_gap_ns * i / opt.conns;
	}
	for (i = 0; i < opt.threads; i++)
		if ((errno = pthread_create(
			 &th[i].tid, NULL, thread_main, &th[i])) != 0)
			err(EX_OSERR, "pthread_create");
	sleep_until(bench_mono_ns() + (int64_t)(opt.warmup * NS));
	if (!IS_REDIS(opt.mode)) {
		if (opt.settle > 0)
			settle(conns, opt.conns, &inf);
		align_half_second();
	}

	memset(&r, 0, sizeof(r));
	r.server_cpu = -1;
	if (opt.server_pid > 0)
		cpu0 = proc_cpu(opt.server_pid, &r.server_procs);
	ccpu0 = self_cpu();
	r.lead_start = lead_now(conns, opt.conns, &inf);
	t0 = bench_mono_ns();
	__atomic_store_n(&g_phase, PHASE_MEASURE, __ATOMIC_SEQ_CST);
	sleep_until(t0 + (int64_t)(opt.seconds * NS));
	__atomic_store_n(&g_phase, PHASE_STOP, __ATOMIC_SEQ_CST);
	t1 = bench_mono_ns();
	if (opt.server_pid > 0 && cpu0 >= 0)
		r.server_cpu = proc_cpu(opt.server_pid, &r.server_procs) - cpu0;
	r.client_cpu = self_cpu() - ccpu0;
	r.lead_end = lead_now(conns, opt.conns, &inf);
	r.secs = (double)(t1 - t0) / NS;

	for (i = 0; i < opt.threads; i++) {
		pthread_join(th[i].tid, NULL);
		r.requests += th[i].requests;
		r.ids += th[i].ids;
		r.shorts += th[i].shorts;
		r.errors += th[i].errors;
		r.order_errors += th[i].order_errors;
		for (j = 0; j < HIST_BUCKETS; j++) {
			r.hist[j] += th[i].hist[j];
			r.khist[j] += th[i].khist[j];
		}
	}
	alarm(0);
	for (i = 0; i < opt.conns; i++) {
		if (!conns[i].dead)
			close(conns[i].fd);
		free(conns[i].ring);
	}
	for (i = 0; i < opt.threads; i++) {
		close(th[i].ep);
		if (th[i].tfd != -1)
			close(th[i].tfd);
		free(th[i].conns);
	}
	free(th);
	free(pattern);
	if (!IS_REDIS(opt.mode))
		buckets_used(conns, opt.conns, &r);
	if (opt.check)
		check_ids(conns, opt.conns, &r);

	if (opt.json)
		report_json(&opt, addr, &r);
	else
		report_text(&opt, addr, &r);
	free(conns);
	if (r.errors || r.order_errors || r.duplicates || r.check_incomplete ||
	    r.requests == 0)
		return 1;
	return 0;
}

static void
parse_args(int argc, char **argv, struct opts *o)
{
	enum {
		OPT_CHECK = 256,
		OPT_JSON,
		OPT_PID,
		OPT_KEY,
		OPT_NOBACKOFF,
		OPT_SETTLE,
		OPT_BATCH,
		OPT_RXTS,
		OPT_RATE,
		OPT_HELP
	};
	static const struct option longopts[] = {
	    {"check", no_argument, NULL, OPT_CHECK},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"server-pid", required_argument, NULL, OPT_PID},
	    {"key", required_argument, NULL, OPT_KEY},
	    {"no-backoff", no_argument, NULL, OPT_NOBACKOFF},
	    {"settle", required_argument, NULL, OPT_SETTLE},
	    {"batch", required_argument, NULL, OPT_BATCH},
	    {"rx-timestamps", no_argument, NULL, OPT_RXTS},
	    {"rate", required_argument, NULL, OPT_RATE},
	    {"help", no_argument, NULL, OPT_HELP},
	    {NULL, 0, NULL, 0},
	};
	unsigned depth = 0;
	int ch, m;
	char *end;

	memset(o, 0, sizeof(*o));
	o->host = "127.0.0.1";
	o->key = "genid-bench:seq";
	o->conns = 50;
	o->threads = 1;
	o->seconds = 10;
	o->warmup = 1;
	o->backoff = 1;
	while ((ch = getopt_long(
		    argc, argv, "h:p:c:d:t:s:w:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			o->host = optarg;
			break;
		case 'p':
			bench_parse_uint(optarg, "port", 65535);
			o->port = optarg;
			break;
		case 'c':
			o->conns =
			    bench_parse_uint(optarg, "connections", 100000);
			break;
		case 'd':
			depth = bench_parse_uint(optarg, "depth", 65536);
			break;
		case 't':
			o->threads = bench_parse_uint(optarg, "threads", 1024);
			break;
		case 's':
			o->seconds = parse_secs(optarg, "seconds");
			break;
		case 'w':
			o->warmup = parse_secs(optarg, "warmup");
			break;
		case OPT_CHECK:
			o->check = 1;
			break;
		case OPT_JSON:
			o->json = 1;
			break;
		case OPT_PID:
			o->server_pid =
			    (long)bench_parse_uint(optarg, "pid", INT_MAX);
			break;
		case OPT_KEY:
			o->key = optarg;
			break;
		case OPT_NOBACKOFF:
			o->backoff = 0;
			break;
		case OPT_SETTLE:
			o->settle = parse_secs(optarg, "settle");
			break;
		case OPT_BATCH:
			o->batch = bench_parse_uint(optarg, "batch", 1024);
			break;
		case OPT_RXTS:
			o->rx_ts = 1;
			break;
		case OPT_RATE:
			o->rate = strtod(optarg, &end);
			if (end == optarg || *end != '\0' ||
			    !(o->rate > 0 && o->rate <= 1e8))
				errx(EX_USAGE,
				    "--rate %s: want requests/s in 0..1e8",
				    optarg);
			break;
		case OPT_HELP:
			usage(0);
		default:
			usage(EX_USAGE);
		}
	}
	if (argc - optind != 1)
		usage(EX_USAGE);
	for (m = 0; m <= MODE_INCRBY; m++)
		if (strcmp(argv[optind], mode_names[m]) == 0)
			break;
	if (m > MODE_INCRBY)
		errx(EX_USAGE,
		    "unknown mode %s (bulk, pipe, single, redis-incr,"
		    " redis-incrby)",
		    argv[optind]);
	o->mode = (enum mode)m;
	if (o->port == NULL)
		o->port = IS_REDIS(o->mode) ? "6379" : "3778";
	if (o->mode == MODE_SINGLE && depth > 1)
		errx(EX_USAGE,
		    "single keeps one request in flight: use pipe for -d %u",
		    depth);
	o->depth = depth ? depth : o->mode == MODE_PIPE ? 16 : 1;
	if (o->batch > 1 && o->mode != MODE_REDIS)
		errx(EX_USAGE, "--batch is for redis-incr only");
	if (o->batch == 0)
		o->batch = 1;
	if (o->rate > 0 && (o->depth != 1 || o->mode == MODE_BULK))
		errx(EX_USAGE, "--rate is for one request in flight (single,"
			       " redis-incr, redis-incrby)");
	if (o->conns == 0 || o->threads == 0 || o->seconds <= 0)
		errx(EX_USAGE, "-c, -t and -s must be above 0");
	if (o->threads > o->conns)
		o->threads = o->conns;
	if (strlen(o->key) > 512)
		errx(EX_USAGE, "--key: longer than 512 bytes");
}

static double
parse_secs(const char *s, const char *what)
{
	char *end;
	double v;

	v = strtod(s, &end);
	if (end == s || *end != '\0' || !(v >= 0 && v <= 86400))
		errx(EX_USAGE, "%s: %s is not a number of seconds in 0..86400",
		    what, s);
	return v;
}

/*
 * Resolves host and refuses it unless every address it names is a
 * loopback one: a load generator must not be pointed at another machine.
 */
static struct addrinfo *
resolve_loopback(const char *host, const char *port)
{
	struct addrinfo hints, *res, *a;
	char buf[INET6_ADDRSTRLEN];
	int e;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((e = getaddrinfo(host, port, &hints, &res)) != 0)
		errx(EX_NOHOST, "%s: %s", host, gai_strerror(e));
	for (a = res; a != NULL; a = a->ai_next) {
		if (is_loopback(a->ai_addr))
			continue;
		getnameinfo(a->ai_addr, a->ai_addrlen, buf, sizeof(buf), NULL,
		    0, NI_NUMERICHOST);
		errx(EX_NOPERM,
		    "%s resolves to %s, not a loopback address"
		    " (127.0.0.0/8 or ::1): refused",
		    host, buf);
	}
	return res;
}

static int
is_loopback(const struct sockaddr *sa)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

	if (sa->sa_family == AF_INET)
		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family != AF_INET6)
		return 0;
	if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
		return sin6->sin6_addr.s6_addr[12] == 127;
	return IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
}

/* Connects to the first address of ai that answers; -1 and errno if none. */
static int
dial(const struct addrinfo *ai, int nonblock)
{
	struct timeval tv = {.tv_sec = 3};
	int fd = -1, one = 1, saved = ECONNREFUSED;

	for (; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd == -1)
			return -1;
		/* On Linux a send timeout bounds connect() too. */
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	if (fd == -1) {
		errno = saved;
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (nonblock &&
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1)
		err(EX_OSERR, "fcntl O_NONBLOCK");
	return fd;
}

/*
 * Asks genid for INFO (CMD 2) on a connection of its own: the epoch turns
 * ID timestamps into the lead over the clock.  A failure is only a warning.
 */
static void
query_info(const struct addrinfo *ai, struct info *inf)
{
	static const uint8_t req[2] = {2, 0};
	char json[65536];
	uint8_t hdr[2];
	size_t len, got = 0;
	const char *v;
	ssize_t n;
	int fd;

	if ((fd = dial(ai, 0)) == -1)
		err(EX_UNAVAILABLE, "connect");
	if (write(fd, req, sizeof(req)) != (ssize_t)sizeof(req) ||
	    recv(fd, hdr, 2, MSG_WAITALL) != 2) {
		warnx("INFO request failed: is this a genid server?");
		close(fd);
		return;
	}
	len = (size_t)hdr[0] << 8 | hdr[1];
	while (got < len && (n = read(fd, json + got, len - got)) > 0)
		got += (size_t)n;
	close(fd);
	if (got < len) {
		warnx("INFO reply cut short");
		return;
	}
	json[len] = '\0';
	inf->ok = 1;
	inf->epoch = json_int(json, "epoch", 0);
	inf->workers = (long)json_int(json, "workers", 0);
	if ((v = strstr(json, "\"version\"")) != NULL &&
	    (v = strchr(v + 9, '"')) != NULL)
		snprintf(inf->version, sizeof(inf->version), "%.*s",
		    (int)strcspn(v + 1, "\""), v + 1);
}

/* The integer value of "key" in a flat JSON object, or def. */
static int64_t
json_int(const char *json, const char *key, int64_t def)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\"", key);
	if ((p = strstr(json, pat)) == NULL)
		return def;
	p += strlen(pat);
	p += strspn(p, " \t\r\n");
	if (*p++ != ':')
		return def;
	return strtoll(p, NULL, 10);
}

/* Fills the shared buffer of depth + 1 request frames. */
static void
make_pattern(const struct opts *o)
{
	char frame[600], *batch;
	size_t i;

	switch (o->mode) {
	case MODE_BULK:
		frame[0] = 1;
		frame[1] = (char)BULK_N;
		frame_len = 2;
		break;
	case MODE_PIPE:
	case MODE_SINGLE:
		frame[0] = frame[1] = 0;
		frame_len = 2;
		break;
	case MODE_REDIS:
		frame_len = (size_t)snprintf(frame, sizeof(frame),
		    "*2\r\n$4\r\nINCR\r\n$%zu\r\n%s\r\n", strlen(o->key),
		    o->key);
		break;
	case MODE_INCRBY:
		frame_len = (size_t)snprintf(frame, sizeof(frame),
		    "*3\r\n$6\r\nINCRBY\r\n$%zu\r\n%s\r\n$3\r\n%u\r\n",
		    strlen(o->key), o->key, BULK_N);
		break;
	}
	if (o->batch > 1) {
		/* One request is batch INCR commands written together. */
		if ((batch = malloc(frame_len * o->batch)) == NULL)
			err(EX_OSERR, "malloc");
		for (i = 0; i < o->batch; i++)
			memcpy(batch + i * frame_len, frame, frame_len);
		frame_len *= o->batch;
		if ((pattern = malloc(frame_len * (o->depth + 1))) == NULL)
			err(EX_OSERR, "malloc");
		for (i = 0; i <= o->depth; i++)
			memcpy(pattern + i * frame_len, batch, frame_len);
		free(batch);
		return;
	}
	if ((pattern = malloc(frame_len * (o->depth + 1))) == NULL)
		err(EX_OSERR, "malloc");
	for (i = 0; i <= o->depth; i++)
		memcpy(pattern + i * frame_len, frame, frame_len);
}

static void *
thread_main(void *arg)
{
	struct thread *t = arg;
	struct epoll_event ev[64];
	unsigned i;
	int n, phase;

	for (i = 0; i < t->nconns; i++) {
		conn_topup(t->conns[i]);
		conn_flush(t->conns[i]);
	}
	for (;;) {
		n = epoll_wait(
		    t->ep, ev, 64, backoff_timeout(t, bench_mono_ns()));
		if (n == -1 && errno != EINTR)
			err(EX_OSERR, "epoll_wait");
		/* Read after the wait, so replies are counted in the phase
		 * they arrived in (give or take one loop). */
		phase = __atomic_load_n(&g_phase, __ATOMIC_RELAXED);
		if (phase == PHASE_STOP)
			break;
		t->measuring = phase == PHASE_MEASURE;
		for (i = 0; i < (unsigned)(n > 0 ? n : 0); i++) {
			if (ev[i].data.ptr == NULL) {
				uint64_t ticks;

				if (read(t->tfd, &ticks, sizeof(ticks)) < 0 &&
				    errno != EAGAIN)
					err(EX_OSERR, "timerfd read");
				t->armed_ns = 0;
				continue;
			}
			conn_event(ev[i].data.ptr, ev[i].events);
		}
		if (t->nbackoff > 0)
			wake_backoff(t, bench_mono_ns());
		if (opt.rate > 0)
			rate_tick(t);
	}
	return NULL;
}

/*
 * --rate: sends on the idle connections whose next request is due, and
 * sets the timer for the first one still to come.
 */
static void
rate_tick(struct thread *t)
{
	struct itimerspec its = {{0, 0}, {0, 0}};
	int64_t now = bench_mono_ns(), first = INT64_MAX;
	unsigned i;

	for (i = 0; i < t->nconns; i++) {
		struct conn *c = t->conns[i];

		if (c->dead || c->outstanding > 0)
			continue;
		if (c->due_ns <= now) {
			conn_topup(c);
			conn_flush(c);
		} else if (c->due_ns < first) {
			first = c->due_ns;
		}
	}
	if (first == INT64_MAX || first == t->armed_ns)
		return;
	its.it_value.tv_sec = first / NS;
	its.it_value.tv_nsec = first % NS;
	if (timerfd_settime(t->tfd, TFD_TIMER_ABSTIME, &its, NULL) == -1)
		err(EX_OSERR, "timerfd_settime");
	t->armed_ns = first;
}

static int
backoff_timeout(const struct thread *t, int64_t now)
{
	int64_t first = INT64_MAX;
	unsigned i;

	if (t->nbackoff == 0)
		return LOOP_MS;
	for (i = 0; i < t->nconns; i++)
		if (t->conns[i]->wake_ns != 0 && t->conns[i]->wake_ns < first)
			first = t->conns[i]->wake_ns;
	if (first <= now)
		return 0;
	if (first - now >= LOOP_MS * 1000000LL)
		return LOOP_MS;
	return (int)((first - now) / 1000000) + 1;
}

/* Sends again on the connections whose back-off is over. */
static void
wake_backoff(struct thread *t, int64_t now)
{
	unsigned i;

	for (i = 0; i < t->nconns; i++) {
		struct conn *c = t->conns[i];

		if (c->wake_ns == 0 || c->wake_ns > now)
			continue;
		c->wake_ns = 0;
		t->nbackoff--;
		conn_topup(c);
		conn_flush(c);
	}
}

static void
conn_event(struct conn *c, uint32_t events)
{
	struct thread *t = c->t;
	ssize_t n;

	if (c->dead)
		return;
	if (events & EPOLLIN) {
		n = opt.rx_ts ? recv_ts(c, t->buf, sizeof(t->buf))
			      : recv(c->fd, t->buf, sizeof(t->buf), 0);
		if (n == 0) {
			conn_fail(c, "closed by the server");
			return;
		}
		if (n == -1) {
			if (errno != EAGAIN && errno != EINTR)
				conn_fail(c, strerror(errno));
			return;
		}
		c->rx_ns = bench_mono_ns();
		if (opt.mode == MODE_BULK)
			parse_bulk(c, t->buf, (size_t)n);
		else if (IS_REDIS(opt.mode))
			parse_redis(c, t->buf, (size_t)n);
		else
			parse_one(c, t->buf, (size_t)n);
		if (c->dead)
			return;
		conn_topup(c);
		conn_flush(c);
	} else if (events & (EPOLLERR | EPOLLHUP)) {
		conn_fail(c, "socket error");
	} else if (events & EPOLLOUT) {
		conn_flush(c);
	}
}

/*
 * recv() that also takes the kernel's receive time of the data
 * (SO_TIMESTAMPNS: of the last segment read), as CLOCK_MONOTONIC in
 * c->krx_ns.  Compared with the time the tool read it, this tells how long
 * a reply waited in the socket for this client's one thread.
 */
static ssize_t
recv_ts(struct conn *c, uint8_t *buf, size_t len)
{
	union {
		char b[CMSG_SPACE(sizeof(struct timespec))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov,
	    .msg_iovlen = 1,
	    .msg_control = ctl.b,
	    .msg_controllen = sizeof(ctl.b)};
	struct cmsghdr *cm;
	struct timespec ts;
	ssize_t n;

	c->krx_ns = 0;
	if ((n = recvmsg(c->fd, &mh, 0)) <= 0)
		return n;
	for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SCM_TIMESTAMPNS) {
			memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
			c->krx_ns = (int64_t)ts.tv_sec * NS + ts.tv_nsec -
			    real_minus_mono;
		}
	return n;
}

static void
conn_fail(struct conn *c, const char *why)
{
	struct thread *t = c->t;

	if (c->dead)
		return;
	/* Losing connections when the run is over is no failure. */
	if (__atomic_load_n(&g_phase, __ATOMIC_RELAXED) != PHASE_STOP) {
		warnx("connection fd %d: %s", c->fd, why);
		t->errors++;
	}
	if (c->wake_ns != 0) {
		c->wake_ns = 0;
		t->nbackoff--;
	}
	epoll_ctl(t->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->dead = 1;
}

/* Queues requests until depth of them are outstanding. */
static void
conn_topup(struct conn *c)
{
	unsigned add;

	if (c->dead || c->wake_ns != 0 || c->outstanding >= opt.depth)
		return;
	if (opt.rate > 0) {
		/* Late requests go at once, and their latency counts from
		 * when they were due (no coordinated omission). */
		if (c->due_ns > bench_mono_ns())
			return;
		c->sched_ns = c->due_ns;
		c->due_ns += rate_gap_ns;
	}
	add = opt.depth - c->outstanding;
	c->wpend += add * frame_len;
	c->outstanding += add;
}

static void
conn_flush(struct conn *c)
{
	struct epoll_event ev = {.data.ptr = c};
	size_t frames, i;
	ssize_t n;
	int64_t now;
	int want;

	if (c->dead || c->wpend == 0)
		goto arm;
	now = bench_mono_ns();
	n = send(c->fd, pattern + c->woff, c->wpend, MSG_NOSIGNAL);
	if (n == -1) {
		if (errno != EAGAIN && errno != EINTR) {
			conn_fail(c, strerror(errno));
			return;
		}
		n = 0;
	}
	/* A request is sent when its last byte is. */
	frames = (c->woff + (size_t)n) / frame_len;
	for (i = 0; i < frames; i++)
		c->ring[(c->rhead + c->rlen++) % opt.depth] =
		    opt.rate > 0 ? c->sched_ns : now;
	c->woff = (c->woff + (size_t)n) % frame_len;
	c->wpend -= (size_t)n;
arm:
	if (c->dead)
		return;
	want = c->wpend > 0;
	if (want == c->out_armed)
		return;
	ev.events = EPOLLIN | (want ? EPOLLOUT : 0);
	if (epoll_ctl(c->t->ep, EPOLL_CTL_MOD, c->fd, &ev) == -1)
		err(EX_OSERR, "epoll_ctl");
	c->out_armed = want;
}

/*
 * Takes the next big-endian ID from p at *i, across reads: returns 1 with
 * *id set, or 0 when p ran out in the middle of one.
 */
static int
next_id(struct conn *c, const uint8_t *p, size_t n, size_t *i, uint64_t *id)
{
	uint64_t be;

	if (c->accn == 0 && n - *i >= 8) {
		memcpy(&be, p + *i, 8);
		*i += 8;
		*id = be64toh(be);
		return 1;
	}
	while (*i < n) {
		c->acc = c->acc << 8 | p[(*i)++];
		if (++c->accn == 8) {
			*id = c->acc;
			c->acc = 0;
			c->accn = 0;
			return 1;
		}
	}
	return 0;
}

/* CMD 0 replies: 8 bytes, one ID. */
static void
parse_one(struct conn *c, const uint8_t *p, size_t n)
{
	uint64_t id;
	size_t i = 0;

	while (i < n && next_id(c, p, n, &i, &id)) {
		got_id(c, id);
		reply_done(c, 1, 0);
		if (c->dead)
			return;
	}
}

/* CMD 1 replies: a count byte m, then m IDs. */
static void
parse_bulk(struct conn *c, const uint8_t *p, size_t n)
{
	uint64_t id;
	size_t i = 0;

	while (i < n) {
		if (c->pstate == 0) {
			c->pcount = c->pleft = p[i++];
			if (c->pcount > BULK_N) {
				conn_fail(
				    c, "reply with more IDs than asked for");
				return;
			}
			if (c->pcount == 0)
				reply_done(c, 0, 1);
			else
				c->pstate = 1;
		} else {
			if (!next_id(c, p, n, &i, &id))
				break;
			got_id(c, id);
			if (--c->pleft > 0)
				continue;
			c->pstate = 0;
			reply_done(c, c->pcount, c->pcount < BULK_N);
		}
		if (c->dead)
			return;
	}
}

/* RESP integer replies ":N\r\n"; an error reply ends the connection. */
static void
parse_redis(struct conn *c, const uint8_t *p, size_t n)
{
	size_t i, k;
	char msg[128];

	for (i = 0; i < n && !c->dead; i++) {
		uint8_t ch = p[i];

		switch (c->pstate) {
		case 0:
			if (ch == ':') {
				c->acc = 0;
				c->pstate = 1;
			} else if (ch == '-') {
				for (k = i + 1; k < n && p[k] != '\r'; k++)
					;
				snprintf(msg, sizeof(msg), "Redis error: %.*s",
				    (int)(k - i - 1), (const char *)p + i + 1);
				conn_fail(c, msg);
			} else {
				conn_fail(c,
				    "not an integer reply (is this"
				    " Redis?)");
			}
			break;
		case 1:
			if (ch >= '0' && ch <= '9')
				c->acc = c->acc * 10 + (uint64_t)(ch - '0');
			else if (ch == '\r')
				c->pstate = 2;
			else
				conn_fail(c,
				    "bad integer reply (negative"
				    " key?)");
			break;
		case 2:
			if (ch != '\n') {
				conn_fail(c, "bad reply ending");
				break;
			}
			c->pstate = 0;
			got_id(c, c->acc);
			if (opt.mode == MODE_INCRBY)
				reply_done(c, BULK_N, 0);
			else if (++c->pcount == opt.batch) {
				c->pcount = 0;
				reply_done(c, opt.batch, 0);
			}
			break;
		}
	}
}

/*
 * Checks the ID against the previous one of the connection (they must
 * strictly increase) and keeps it for --check.
 */
static void
got_id(struct conn *c, uint64_t id)
{
	struct thread *t = c->t;
	struct idvec *v = &c->ids;
	uint64_t *nv;

	if (c->nids++ > 0 && id <= c->last_id)
		t->order_errors++;
	__atomic_store_n(&c->last_id, id, __ATOMIC_RELAXED);
	if (!opt.check || c->ids_lost)
		return;
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 4096;

		if ((nv = realloc(v->v, cap * sizeof(*nv))) == NULL) {
			c->ids_lost = 1;
			return;
		}
		v->v = nv;
		v->cap = cap;
	}
	v->v[v->n++] = id;
}

/* Ends the oldest outstanding request: latency, counters, back-off. */
static void
reply_done(struct conn *c, unsigned nids, int is_short)
{
	struct thread *t = c->t;
	int64_t sent, now;
	struct timespec ts;

	if (c->rlen == 0) {
		conn_fail(c, "reply to a request not sent");
		return;
	}
	sent = c->ring[c->rhead];
	c->rhead = (c->rhead + 1) % opt.depth;
	c->rlen--;
	c->outstanding--;
	if (t->measuring) {
		t->requests++;
		t->ids += nids;
		c->window_ids += nids;
		t->shorts += (unsigned)is_short;
		t->hist[hist_index((uint64_t)(c->rx_ns - sent))]++;
		if (c->krx_ns != 0)
			t->khist[hist_index((uint64_t)(
			    c->krx_ns > sent ? c->krx_ns - sent : 0))]++;
	}
	if (!is_short || !opt.backoff || c->wake_ns != 0)
		return;
	/*
	 * The bucket is used up until its second moves: ask again just after
	 * the next second of the wall clock instead of spinning on empty
	 * replies (which would only measure the cost of saying no).
	 */
	clock_gettime(CLOCK_REALTIME, &ts);
	now = bench_mono_ns();
	/*
	 * genid reads CLOCK_REALTIME_COARSE, which turns to the new second
	 * up to a tick late; a short reply early in a second may come from
	 * that, so ask again soon rather than a second later.
	 */
	if (ts.tv_nsec < RETRY_WINDOW_NS)
		c->wake_ns = now + RETRY_NS;
	else
		c->wake_ns = now + (NS - ts.tv_nsec) + backoff_slack;
	t->nbackoff++;
}

static void
sleep_until(int64_t deadline)
{
	struct timespec ts = {
	    .tv_sec = deadline / NS,
	    .tv_nsec = deadline % NS,
	};

	while (
	    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/*
 * CPU seconds used so far by pid and its child processes (genid's master
 * and workers); a process's stat counts all of its threads.  Returns -1
 * if pid is gone.
 */
static double
proc_cpu(long pid, unsigned *nprocs)
{
	unsigned long long total, ticks;
	struct dirent *de;
	long ppid;
	DIR *d;
	char *end;

	if (proc_stat(pid, &ppid, &total) == -1) {
		warnx("--server-pid %ld: no such process", pid);
		return -1;
	}
	*nprocs = 1;
	if ((d = opendir("/proc")) == NULL)
		err(EX_OSERR, "opendir /proc");
	while ((de = readdir(d)) != NULL) {
		long p = strtol(de->d_name, &end, 10);

		if (*end != '\0' || p <= 0 || p == pid)
			continue;
		if (proc_stat(p, &ppid, &ticks) == 0 && ppid == pid) {
			total += ticks;
			(*nprocs)++;
		}
	}
	closedir(d);
	return (double)total / (double)sysconf(_SC_CLK_TCK);
}

/* Parent pid and utime + stime (clock ticks) of a process. */
static int
proc_stat(long pid, long *ppid, unsigned long long *ticks)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: skip to the last
	 * ')'; then come state (field 3), ppid (4) ... utime (14), stime (15).
	 */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1,
		" %*c %ld %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu"
		" %llu",
		ppid, &ut, &st) != 3)
		return -1;
	*ticks = ut + st;
	return 0;
}

static double
self_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/*
 * The lead of every bucket in use, from the newest ID of each connection
 * (a connection lags its bucket by at most its outstanding requests).
 */
static struct lead
lead_now(const struct conn *conns, unsigned n, const struct info *inf)
{
	struct lead l;
	uint64_t top[32] = {0}, id;
	struct timespec ts;
	int64_t now, pos;
	double lead, frac;
	unsigned i, b;

	memset(&l, 0, sizeof(l));
	if (!inf->ok)
		return l;
	for (i = 0; i < n; i++) {
		id = __atomic_load_n(&conns[i].last_id, __ATOMIC_RELAXED);
		if (id > top[(id >> 16) & 31])
			top[(id >> 16) & 31] = id;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	now = (int64_t)ts.tv_sec - inf->epoch;
	frac = (double)ts.tv_nsec / 1e9;
	for (b = 0; b < 32; b++) {
		if (top[b] == 0)
			continue;
		/* pos: the IDs from the start of the current second to the
		 * bucket's next one; more than 65,536 of them are borrowed. */
		pos = ((int64_t)(top[b] >> 32) - now) * 65536 +
		    (int64_t)(top[b] & 0xffff) + 1;
		lead = (double)pos / 65536.0 - frac;
		if (!l.known || lead < l.min)
			l.min = lead;
		if (!l.known || lead > l.max)
			l.max = lead;
		if (pos > 65536) {
			l.bucket_borrowed[b] = (uint64_t)(pos - 65536);
			l.borrowed += l.bucket_borrowed[b];
		}
		l.known = 1;
	}
	return l;
}

/*
 * Extends the warm-up, by opt.settle seconds at most, until the buckets
 * stop borrowing ahead of the clock (at most 2.5% of the format's rate
 * over the last 2 s): what is measured after that is what the server
 * sustains, not a burst that borrowing pays for.
 */
static void
settle(const struct conn *conns, unsigned n, const struct info *inf)
{
	enum { STEP_MS = 100, WINDOW = 20 };
	uint64_t past[WINDOW] = {0};
	int64_t start = bench_mono_ns();
	struct lead l;
	unsigned k;

	for (k = 0;; k++) {
		l = lead_now(conns, n, inf);
		if (!l.known)
			return;
		if (k >= WINDOW &&
		    l.borrowed < past[k % WINDOW] +
			    ID_CAP / 40 * (WINDOW * STEP_MS / 1000))
			return;
		if (bench_mono_ns() - start >= (int64_t)(opt.settle * NS)) {
			warnx("still borrowing after %.0f s more of warm-up",
			    opt.settle);
			return;
		}
		past[k % WINDOW] = l.borrowed;
		sleep_until(bench_mono_ns() + STEP_MS * 1000000LL);
	}
}

/*
 * Starts the window half-way through a wall-clock second: IDs capped by
 * the format come in bursts at each new second, and a window of whole
 * seconds then holds whole bursts only.
 */
static void
align_half_second(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	sleep_until(bench_mono_ns() + (NS + NS / 2 - ts.tv_nsec) % NS);
}

/* How many of the 32 buckets the connections were pinned to. */
static void
buckets_used(struct conn *conns, unsigned n, struct result *r)
{
	unsigned count[32] = {0}, i;

	for (i = 0; i < n; i++) {
		if (conns[i].nids == 0)
			continue;
		count[(conns[i].last_id >> 16) & 31]++;
		r->bucket_ids[(conns[i].last_id >> 16) & 31] +=
		    conns[i].window_ids;
	}
	for (i = 0; i < 32; i++) {
		r->buckets_used += count[i] > 0;
		if (count[i] > r->bucket_max_conns)
			r->bucket_max_conns = count[i];
	}
}

/*
 * No ID twice over all connections: each connection's list is already
 * known to increase, so a k-way merge through a binary heap finds any
 * duplicate without copying or sorting 8 bytes per ID again.
 */
static void
check_ids(struct conn *conns, unsigned n, struct result *r)
{
	struct head {
		uint64_t id;
		unsigned conn;
		size_t pos;
	} * heap, tmp;
	unsigned len = 0, i, k, child;
	uint64_t prev = 0;
	int first = 1;

	if ((heap = calloc(n, sizeof(*heap))) == NULL)
		err(EX_OSERR, "calloc");
	for (i = 0; i < n; i++) {
		r->check_incomplete |= conns[i].ids_lost;
		if (conns[i].ids.n == 0)
			continue;
		heap[len] = (struct head){conns[i].ids.v[0], i, 0};
		for (k = len++; k > 0 && heap[(k - 1) / 2].id > heap[k].id;
		     k = (k - 1) / 2) {
			tmp = heap[k];
			heap[k] = heap[(k - 1) / 2];
			heap[(k - 1) / 2] = tmp;
		}
	}
	while (len > 0) {
		struct idvec *v = &conns[heap[0].conn].ids;

		if (!first && heap[0].id == prev)
			r->duplicates++;
		prev = heap[0].id;
		first = 0;
		r->checked++;
		if (++heap[0].pos < v->n)
			heap[0].id = v->v[heap[0].pos];
		else
			heap[0] = heap[--len];
		for (k = 0; (child = 2 * k + 1) < len; k = child) {
			if (child + 1 < len &&
			    heap[child + 1].id < heap[child].id)
				child++;
			if (heap[k].id <= heap[child].id)
				break;
			tmp = heap[k];
			heap[k] = heap[child];
			heap[child] = tmp;
		}
	}
	free(heap);
	for (i = 0; i < n; i++)
		free(conns[i].ids.v);
}

/*
 * IDs/s less what each bucket borrowed from later seconds during the
 * window.  A bucket that paid back a lead (the clock caught up with it)
 * delivered all its IDs at the rate asked for: nothing is added for that.
 */
static double
sustained(const struct result *r)
{
	uint64_t ids = 0, b0, b1;
	unsigned b;

	for (b = 0; b < 32; b++) {
		b0 = r->lead_start.bucket_borrowed[b];
		b1 = r->lead_end.bucket_borrowed[b];
		if (b1 <= b0)
			ids += r->bucket_ids[b];
		else if (r->bucket_ids[b] > b1 - b0)
			ids += r->bucket_ids[b] - (b1 - b0);
	}
	return (double)ids / r->secs;
}

static void
report_text(const struct opts *o, const char *addr, const struct result *r)
{
	double ids_s = (double)r->ids / r->secs;

	printf("genid-bench %s: %s, %u connections x depth %u, %u thread%s,"
	       " %.2f s (warm-up %.1f s)\n",
	    mode_names[o->mode], addr, o->conns, o->depth, o->threads,
	    o->threads == 1 ? "" : "s", r->secs, o->warmup);
	printf("  requests/s   %.0f", (double)r->requests / r->secs);
	if (o->rate > 0)
		printf(" (open loop at %.0f/s; latency from when each was due)",
		    o->rate);
	printf("\n");
	if (IS_REDIS(o->mode))
		printf("  IDs/s        %.0f\n", ids_s);
	else
		printf("  IDs/s        %.0f (%.1f%% of 2^21)\n", ids_s,
		    100.0 * ids_s / ID_CAP);
	printf("  latency      p50 %.1f us, p99 %.1f us, p999 %.1f us, max"
	       " %.1f us\n",
	    hist_quantile(r->hist, 0.5) / 1e3,
	    hist_quantile(r->hist, 0.99) / 1e3,
	    hist_quantile(r->hist, 0.999) / 1e3,
	    (double)hist_max(r->hist) / 1e3);
	if (o->rx_ts)
		printf("  to kernel rx p50 %.1f us, p99 %.1f us, p999 %.1f us,"
		       " max %.1f us\n",
		    hist_quantile(r->khist, 0.5) / 1e3,
		    hist_quantile(r->khist, 0.99) / 1e3,
		    hist_quantile(r->khist, 0.999) / 1e3,
		    (double)hist_max(r->khist) / 1e3);
	if (r->server_cpu >= 0)
		printf("  server CPU   %.2f s (%u process%s), %.3f s per"
		       " million IDs, %.2f us per request\n",
		    r->server_cpu, r->server_procs,
		    r->server_procs == 1 ? "" : "es",
		    r->ids ? r->server_cpu * 1e6 / (double)r->ids : 0.0,
		    r->requests ? r->server_cpu * 1e6 / (double)r->requests
				: 0.0);
	printf("  client CPU   %.2f s\n", r->client_cpu);
	if (o->mode == MODE_BULK)
		printf("  short        %" PRIu64 " replies\n", r->shorts);
	if (!IS_REDIS(o->mode))
		printf("  buckets      %u of 32 used, at most %u connections"
		       " on one\n",
		    r->buckets_used, r->bucket_max_conns);
	if (r->lead_start.known && r->lead_end.known) {
		printf("  sustained    %.0f IDs/s (%.1f%% of 2^21), %.0f IDs/s"
		       " borrowed ahead of the clock\n",
		    sustained(r), 100.0 * sustained(r) / ID_CAP,
		    ids_s - sustained(r));
		printf("  lead         %.2f..%.2f s at start, %.2f..%.2f s at"
		       " end\n",
		    r->lead_start.min, r->lead_start.max, r->lead_end.min,
		    r->lead_end.max);
	}
	printf("  errors       %" PRIu64 " connections lost, %" PRIu64
	       " IDs out of order\n",
	    r->errors, r->order_errors);
	if (o->check)
		printf("  check        %" PRIu64 " IDs, %" PRIu64
		       " duplicates%s\n",
		    r->checked, r->duplicates,
		    r->check_incomplete ? " (INCOMPLETE: out of memory)" : "");
}

static void
report_json(const struct opts *o, const char *addr, const struct result *r)
{
	printf("{\"mode\": \"%s\", \"address\": \"%s\", \"connections\": %u,"
	       " \"depth\": %u, \"threads\": %u, \"seconds\": %.3f,"
	       " \"warmup\": %.3f, \"requests\": %" PRIu64 ", \"ids\": %" PRIu64
	       ", \"requests_per_s\": %.0f, \"ids_per_s\": %.0f,"
	       " \"p50_us\": %.1f, \"p99_us\": %.1f, \"p999_us\": %.1f,"
	       " \"max_us\": %.1f",
	    mode_names[o->mode], addr, o->conns, o->depth, o->threads, r->secs,
	    o->warmup, r->requests, r->ids, (double)r->requests / r->secs,
	    (double)r->ids / r->secs, hist_quantile(r->hist, 0.5) / 1e3,
	    hist_quantile(r->hist, 0.99) / 1e3,
	    hist_quantile(r->hist, 0.999) / 1e3,
	    (double)hist_max(r->hist) / 1e3);
	if (r->server_cpu >= 0)
		printf(", \"server_cpu_s\": %.3f, \"server_processes\": %u,"
		       " \"server_cpu_s_per_m_ids\": %.4f,"
		       " \"server_cpu_us_per_req\": %.3f",
		    r->server_cpu, r->server_procs,
		    r->ids ? r->server_cpu * 1e6 / (double)r->ids : 0.0,
		    r->requests ? r->server_cpu * 1e6 / (double)r->requests
				: 0.0);
	if (o->rx_ts)
		printf(", \"krx_p50_us\": %.1f, \"krx_p99_us\": %.1f,"
		       " \"krx_p999_us\": %.1f",
		    hist_quantile(r->khist, 0.5) / 1e3,
		    hist_quantile(r->khist, 0.99) / 1e3,
		    hist_quantile(r->khist, 0.999) / 1e3);
	printf(", \"client_cpu_s\": %.3f, \"short_replies\": %" PRIu64
	       ", \"batch\": %u, \"rate\": %.0f",
	    r->client_cpu, r->shorts, o->batch, o->rate);
	if (!IS_REDIS(o->mode))
		printf(", \"buckets_used\": %u, \"bucket_max_connections\": %u",
		    r->buckets_used, r->bucket_max_conns);
	if (r->lead_start.known && r->lead_end.known)
		printf(
		    ", \"sustained_ids_per_s\": %.0f,"
		    " \"lead_start_min_s\": %.3f, \"lead_start_max_s\": %.3f,"
		    " \"lead_end_min_s\": %.3f, \"lead_end_max_s\": %.3f",
		    sustained(r), r->lead_start.min, r->lead_start.max,
		    r->lead_end.min, r->lead_end.max);
	printf(", \"errors\": %" PRIu64 ", \"order_errors\": %" PRIu64,
	    r->errors, r->order_errors);
	if (o->check)
		printf(", \"checked_ids\": %" PRIu64
		       ", \"duplicates\": %" PRIu64 ", \"check_complete\": %s",
		    r->checked, r->duplicates,
		    r->check_incomplete ? "false" : "true");
	printf("}\n");
}
