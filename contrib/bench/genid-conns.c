/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * genid-conns.c - holds many idle connections to a genid server and
 * reports what they cost it (target: idle connections held): user
 * memory per connection (Private_Dirty over the server's processes),
 * kernel memory per connection (Slab), the latency of a fresh connection
 * while they are held, the time to open and to close them all, and the
 * server's Private_Dirty once every connection has gone again.
 *
 * The connections come from several child processes, each within its
 * descriptor limit, and from many source addresses of 127.0.0.0/8, so
 * that no one source address runs out of ephemeral ports.  Only loopback
 * addresses are accepted.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define PER_SOURCE 1000 /* connections per source address */
#define FD_RESERVE 64	   /* descriptors a child keeps for itself */
#define MAX_PROCS 256
#define SETTLE_MS 60000	   /* longest wait for the server to follow */

struct opts {
	struct sockaddr_in dst;
	unsigned conns;
	unsigned procs;
	unsigned requests;
	long server_pid;
	int json;
};

struct child {
	pid_t pid;
	int cmd;    /* parent -> child */
	int status; /* child -> parent */
	unsigned first;
	unsigned count;
};

struct lat {
	double p50, p99, max; /* us */
	int ok;
};

static void usage(int code) __attribute__((noreturn));
static void sleep_ms(unsigned ms);
static int dial(const struct sockaddr_in *dst, const struct sockaddr_in *src);
static int round_trip(int fd, uint8_t cmd, uint8_t arg, size_t reply);
static struct lat fresh_latency(const struct opts *o);
static int cmp_i64(const void *a, const void *b);
static void child_main(const struct opts *o, struct child *c, uint8_t net);
static void child_report(int fd, char what, unsigned n, int e);
static int children_wait(struct child *ch, unsigned n, char what,
    unsigned *total, const char **why);
static void children_tell(struct child *ch, unsigned n, char what);
static long server_procs(long pid, long *pids, unsigned max);
static long long private_dirty_kb(long pid);
static long server_fds(long pid);
static long long meminfo_kb(const char *key);
static long long sockstat_tcp_pages(void);
static int wait_fds(long pid, long want, int64_t *at);

static struct opts opt;

static void
usage(int code)
{
	fprintf(code ? stderr : stdout,
	    "usage: genid-conns [-h host] -p port --server-pid pid"
	    " [-n connections]\n"
	    "                   [-P processes] [-r requests] [--json]\n"
	    "  -n  idle connections to hold (100000)\n"
	    "  -P  client processes (enough to stay %u descriptors below"
	    " each one's limit)\n"
	    "  -r  sequential CMD 0 on a fresh connection, before and while"
	    " held (1000)\n"
	    "--server-pid: genid's master; its workers are its children.\n"
	    "Only loopback addresses are accepted.\n",
	    FD_RESERVE);
	exit(code);
}

int
main(int argc, char **argv)
{
	enum { OPT_PID = 256, OPT_JSON, OPT_HELP };
	static const struct option longopts[] = {
	    {"server-pid", required_argument, NULL, OPT_PID},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"help", no_argument, NULL, OPT_HELP},
	    {NULL, 0, NULL, 0},
	};
	struct child ch[MAX_PROCS];
	struct rlimit rl;
	struct lat before, held;
	const char *host = "127.0.0.1", *why = NULL;
	long long pd0, pd1, pd2, pd3, slab0, slab1, slab2, sk0, sk1;
	long fds0, fds1, pids[64];
	int64_t t0, t_open, t_accept = 0, t_close, t_gone = 0;
	unsigned i, per, done, port = 0, nprocs_srv;
	uint8_t net;
	int c, accepted, gone;

	opt.conns = 100000;
	opt.requests = 1000;
	while ((c = getopt_long(argc, argv, "h:p:n:P:r:", longopts, NULL)) !=
	    -1) {
		switch (c) {
		case 'h':
			host = optarg;
			break;
		case 'p':
			port = bench_parse_uint(optarg, "port", 65535);
			break;
		case 'n':
			opt.conns =
			    bench_parse_uint(optarg, "connections", 10000000);
			break;
		case 'P':
			opt.procs =
			    bench_parse_uint(optarg, "processes", MAX_PROCS);
			break;
		case 'r':
			opt.requests =
			    bench_parse_uint(optarg, "requests", 1000000);
			break;
		case OPT_PID:
			opt.server_pid =
			    (long)bench_parse_uint(optarg, "pid", INT_MAX);
			break;
		case OPT_JSON:
			opt.json = 1;
			break;
		case OPT_HELP:
			usage(0);
		default:
			usage(EX_USAGE);
		}
	}
	if (optind != argc || port == 0 || opt.server_pid == 0 ||
	    opt.conns == 0 || opt.requests == 0)
		usage(EX_USAGE);
	opt.dst.sin_family = AF_INET;
	opt.dst.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &opt.dst.sin_addr) != 1)
		errx(EX_USAGE, "-h %s: want a numeric IPv4 address", host);
	if ((ntohl(opt.dst.sin_addr.s_addr) >> 24) != 127)
		errx(EX_NOPERM,
		    "%s is not a loopback address (127.0.0.0/8): refused",
		    host);
	if (kill((pid_t)opt.server_pid, 0) == -1)
		err(EX_USAGE, "--server-pid %ld", opt.server_pid);

	/* How many descriptors a child may have: the limit, raised to the
	 * hard one; a child holds that many connections less a reserve. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur <= 2 * FD_RESERVE)
		errx(EX_OSERR, "descriptor limit %llu is too low",
		    (unsigned long long)rl.rlim_cur);
	per = (unsigned)(rl.rlim_cur - FD_RESERVE);
	if (opt.procs == 0)
		opt.procs = (opt.conns + per - 1) / per;
	if (opt.procs > MAX_PROCS)
		errx(EX_USAGE, "%u connections need %u processes, more than %u",
		    opt.conns, opt.procs, MAX_PROCS);
	if ((opt.conns + opt.procs - 1) / opt.procs > per)
		errx(EX_USAGE,
		    "%u connections in %u processes is more than %u each"
		    " (descriptor limit %llu): raise -P",
		    opt.conns, opt.procs, per,
		    (unsigned long long)rl.rlim_cur);
	/* A safety net: nothing below may take much longer than this. */
	alarm(600);
	signal(SIGPIPE, SIG_IGN);

	/* A first connection and request, so that what the server makes on
	 * first use is in the baseline, not counted against the idle
	 * connections; then the latency with no connections held. */
	before = fresh_latency(&opt);
	if (!before.ok)
		errx(EX_UNAVAILABLE, "no reply from %s:%u: is genid running?",
		    host, port);
	nprocs_srv = (unsigned)server_procs(opt.server_pid, pids, 64);
	if (wait_fds(opt.server_pid, -1, NULL) == -1)
		warnx("the server's descriptors did not settle");
	fds0 = server_fds(opt.server_pid);
	pd0 = private_dirty_kb(opt.server_pid);
	slab0 = meminfo_kb("Slab:");
	sk0 = sockstat_tcp_pages();

	/* The second octet of the source addresses: another one each run,
	 * away from connections of the last run still in TIME_WAIT. */
	net = (uint8_t)(2 + (unsigned)(bench_mono_ns() / 1000) % 250);
	t0 = bench_mono_ns();
	for (i = 0; i < opt.procs; i++) {
		int p1[2], p2[2];

		ch[i].first = (unsigned)((uint64_t)opt.conns * i / opt.procs);
		ch[i].count =
		    (unsigned)((uint64_t)opt.conns * (i + 1) / opt.procs) -
		    ch[i].first;
		if (pipe(p1) == -1 || pipe(p2) == -1)
			err(EX_OSERR, "pipe");
		if ((ch[i].pid = fork()) == -1)
			err(EX_OSERR, "fork");
		if (ch[i].pid == 0) {
			unsigned k;

			/* Only this child's own pipe ends stay open. */
			for (k = 0; k < i; k++) {
				close(ch[k].cmd);
				close(ch[k].status);
			}
			close(p1[1]);
			close(p2[0]);
			ch[i].cmd = p1[0];
			ch[i].status = p2[1];
			child_main(&opt, &ch[i], net);
		}
		close(p1[0]);
		close(p2[1]);
		ch[i].cmd = p1[1];
		ch[i].status = p2[0];
	}

	/* Opened: every child has connect()ed all of its connections. */
	if (children_wait(ch, opt.procs, 'O', &done, &why) == -1)
		goto fail;
	t_open = bench_mono_ns();
	/* Accepted: the server holds a descriptor for each. */
	accepted = wait_fds(opt.server_pid, fds0 + (long)opt.conns, &t_accept);
	/* Served: every connection answers one CMD 0. */
	children_tell(ch, opt.procs, 'P');
	if (children_wait(ch, opt.procs, 'P', &done, &why) == -1)
		goto fail;
	wait_fds(opt.server_pid, -1, NULL);
	fds1 = server_fds(opt.server_pid);
	pd1 = private_dirty_kb(opt.server_pid);
	slab1 = meminfo_kb("Slab:");
	sk1 = sockstat_tcp_pages();
	held = fresh_latency(&opt);

	t_close = bench_mono_ns();
	children_tell(ch, opt.procs, 'C');
	if (children_wait(ch, opt.procs, 'C', &done, &why) == -1)
		goto fail;
	gone = wait_fds(opt.server_pid, fds0, &t_gone);
	pd2 = private_dirty_kb(opt.server_pid);
	/* Memory freed late (after the last close) shows a while after. */
	sleep_ms(2000);
	pd3 = private_dirty_kb(opt.server_pid);
	slab2 = meminfo_kb("Slab:");
	for (i = 0; i < opt.procs; i++)
		waitpid(ch[i].pid, NULL, 0);

	if (opt.json) {
		printf("{\"connections\": %u, \"processes\": %u,"
		       " \"server_processes\": %u,"
		       " \"open_s\": %.3f, \"accepted\": %s, \"accept_s\": %.3f,"
		       " \"close_s\": %.3f, \"closed\": %s,"
		       " \"server_fds_held\": %ld,"
		       " \"private_dirty_kb_before\": %lld,"
		       " \"private_dirty_kb_held\": %lld,"
		       " \"private_dirty_kb_after_close\": %lld,"
		       " \"private_dirty_kb_after_close_2s\": %lld,"
		       " \"user_bytes_per_conn\": %.1f,"
		       " \"slab_kb_before\": %lld, \"slab_kb_held\": %lld,"
		       " \"slab_kb_after_close\": %lld,"
		       " \"kernel_slab_bytes_per_conn\": %.1f,"
		       " \"tcp_mem_pages_held\": %lld,"
		       " \"fresh_p50_us_before\": %.1f,"
		       " \"fresh_p99_us_before\": %.1f,"
		       " \"fresh_max_us_before\": %.1f,"
		       " \"fresh_p50_us_held\": %.1f,"
		       " \"fresh_p99_us_held\": %.1f,"
		       " \"fresh_max_us_held\": %.1f}\n",
		    opt.conns, opt.procs, nprocs_srv,
		    (double)(t_open - t0) / NS, accepted == 0 ? "true" : "false",
		    (double)(t_accept - t0) / NS,
		    (double)(t_gone - t_close) / NS,
		    gone == 0 ? "true" : "false", fds1 - fds0, pd0, pd1, pd2,
		    pd3, (double)(pd1 - pd0) * 1024 / opt.conns, slab0, slab1,
		    slab2, (double)(slab1 - slab0) * 1024 / opt.conns,
		    sk1 - sk0, before.p50, before.p99, before.max, held.p50,
		    held.p99, held.max);
	} else {
		printf("genid-conns: %u idle connections from %u processes to"
		       " %s:%u (server: %u processes)\n",
		    opt.conns, opt.procs, host, port, nprocs_srv);
		printf("  open         %.2f s to connect all, %.2f s until the"
		       " server held all%s\n",
		    (double)(t_open - t0) / NS, (double)(t_accept - t0) / NS,
		    accepted == 0 ? "" : " (NOT ALL ACCEPTED)");
		printf("  user memory  Private_Dirty %lld kB -> %lld kB held:"
		       " %.0f bytes per connection\n",
		    pd0, pd1, (double)(pd1 - pd0) * 1024 / opt.conns);
		printf("  kernel       Slab %lld kB -> %lld kB: %.0f bytes per"
		       " connection (both ends, one kernel); TCP buffers %lld"
		       " pages\n",
		    slab0, slab1, (double)(slab1 - slab0) * 1024 / opt.conns,
		    sk1 - sk0);
		printf("  fresh CMD 0  %u sequential: p50 %.1f us, p99 %.1f us,"
		       " max %.1f us with none held; p50 %.1f us, p99 %.1f us,"
		       " max %.1f us while held\n",
		    opt.requests, before.p50, before.p99, before.max, held.p50,
		    held.p99, held.max);
		printf("  close        %.2f s until the server closed all%s\n",
		    (double)(t_gone - t_close) / NS,
		    gone == 0 ? "" : " (NOT ALL CLOSED)");
		printf("  after close  Private_Dirty %lld kB, %lld kB 2 s later"
		       " (%lld kB before the connections); Slab %lld kB\n",
		    pd2, pd3, pd0, slab2);
	}
	return accepted == 0 && gone == 0 && held.ok ? 0 : 1;

fail:
	warnx("%s", why ? why : "a client process failed");
	for (i = 0; i < opt.procs; i++)
		kill(ch[i].pid, SIGTERM);
	for (i = 0; i < opt.procs; i++)
		waitpid(ch[i].pid, NULL, 0);
	return 1;
}

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000,
	    .tv_nsec = (long)(ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* A blocking connection from src (NULL: any) to dst; -1 and errno. */
static int
dial(const struct sockaddr_in *dst, const struct sockaddr_in *src)
{
	struct timeval tv = {.tv_sec = 5};
	int fd, one = 1, e;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (src != NULL) {
		/* The port is chosen by connect(), for the whole 4-tuple. */
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
		    sizeof(one));
		if (bind(fd, (const struct sockaddr *)src, sizeof(*src)) == -1)
			goto fail;
	}
	if (connect(fd, (const struct sockaddr *)dst, sizeof(*dst)) == -1)
		goto fail;
	return fd;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

/* Sends one request and reads a reply of exactly `reply` bytes. */
static int
round_trip(int fd, uint8_t cmd, uint8_t arg, size_t reply)
{
	uint8_t req[2] = {cmd, arg}, buf[2048];
	size_t got = 0;
	ssize_t n;

	if (send(fd, req, 2, MSG_NOSIGNAL) != 2)
		return -1;
	while (got < reply) {
		n = recv(fd, buf, sizeof(buf) < reply - got ? sizeof(buf)
							     : reply - got,
		    0);
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/*
 * opt.requests sequential CMD 0 on a connection of its own, after one
 * CMD 1 n=255 that is not timed: p50, p99 and max of the round trips.
 */
static struct lat
fresh_latency(const struct opts *o)
{
	struct lat l = {0};
	int64_t *t, s;
	unsigned i;
	int fd;

	if ((t = calloc(o->requests, sizeof(*t))) == NULL)
		err(EX_OSERR, "calloc");
	if ((fd = dial(&o->dst, NULL)) == -1) {
		warn("connect");
		free(t);
		return l;
	}
	if (round_trip(fd, 1, 255, 1 + 255 * 8) == -1) {
		warnx("no reply to CMD 1 on a fresh connection");
		goto out;
	}
	for (i = 0; i < o->requests; i++) {
		s = bench_mono_ns();
		if (round_trip(fd, 0, 0, 8) == -1) {
			warnx("request %u of %u on a fresh connection: no"
			      " reply",
			    i + 1, o->requests);
			goto out;
		}
		t[i] = bench_mono_ns() - s;
	}
	qsort(t, o->requests, sizeof(*t), cmp_i64);
	l.p50 = (double)t[(o->requests - 1) / 2] / 1e3;
	l.p99 = (double)t[(o->requests * 99 + 99) / 100 - 1] / 1e3;
	l.max = (double)t[o->requests - 1] / 1e3;
	l.ok = 1;
out:
	close(fd);
	free(t);
	return l;
}

/*
 * A client process: opens c->count connections from the source addresses
 * 127.net.<process>.<1 + n / PER_SOURCE>, then follows the parent's
 * commands: 'P' sends one CMD 0 on every connection and reads the replies,
 * 'C' closes them all.  Each step ends with a report on the status pipe.
 */
static void
child_main(const struct opts *o, struct child *c, uint8_t net)
{
	struct sockaddr_in src;
	static const uint8_t req[2] = {0, 0};
	unsigned idx = (unsigned)(c->first * (uint64_t)o->procs / o->conns);
	unsigned i, k;
	uint8_t buf[8];
	int *fds;
	char cmd;

	signal(SIGTERM, SIG_DFL);
	if ((fds = calloc(c->count, sizeof(*fds))) == NULL) {
		child_report(c->status, 'E', 0, ENOMEM);
		_exit(1);
	}
	memset(&src, 0, sizeof(src));
	src.sin_family = AF_INET;
	for (i = 0; i < c->count; i++) {
		errno = 0;
		src.sin_addr.s_addr = htonl(0x7f000000u | (uint32_t)net << 16 |
		    (idx & 0xff) << 8 | (1 + i / PER_SOURCE));
		if ((fds[i] = dial(&o->dst, &src)) == -1) {
			child_report(c->status, 'E', i, errno);
			_exit(1);
		}
	}
	child_report(c->status, 'O', c->count, 0);
	while (read(c->cmd, &cmd, 1) == 1) {
		if (cmd == 'P') {
			/* All requests first, then the replies: one round
			 * trip of the whole set, not one per connection. */
			for (i = 0; i < c->count; i++)
				if (send(fds[i], req, 2, MSG_NOSIGNAL) != 2)
					break;
			errno = 0;
			for (k = 0; k < i; k++)
				if (recv(fds[k], buf, 8, MSG_WAITALL) != 8)
					break;
			if (k < c->count)
				child_report(c->status, 'E', k,
				    errno ? errno : ECONNRESET);
			else
				child_report(c->status, 'P', k, 0);
		} else if (cmd == 'C') {
			for (i = 0; i < c->count; i++)
				close(fds[i]);
			child_report(c->status, 'C', c->count, 0);
			_exit(0);
		}
	}
	_exit(0);
}

static void
child_report(int fd, char what, unsigned n, int e)
{
	char line[64];
	int len;

	len = snprintf(line, sizeof(line), "%c %u %d\n", what, n, e);
	if (write(fd, line, (size_t)len) != len)
		_exit(1);
}

static void
children_tell(struct child *ch, unsigned n, char what)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (write(ch[i].cmd, &what, 1) != 1)
			warn("telling client process %ld", (long)ch[i].pid);
}

/*
 * Waits for report `what` from every child; -1 with *why set if one
 * reports an error or dies.
 */
static int
children_wait(struct child *ch, unsigned n, char what, unsigned *total,
    const char **why)
{
	static char msg[256];
	char line[64], w;
	unsigned i, count;
	ssize_t len;
	int e;

	*total = 0;
	for (i = 0; i < n; i++) {
		/* Reports are short lines written at once. */
		len = read(ch[i].status, line, sizeof(line) - 1);
		if (len <= 0) {
			snprintf(msg, sizeof(msg),
			    "client process %ld ended without reporting",
			    (long)ch[i].pid);
			*why = msg;
			return -1;
		}
		line[len] = '\0';
		if (sscanf(line, "%c %u %d", &w, &count, &e) != 3 ||
		    w != what) {
			snprintf(msg, sizeof(msg),
			    "client process %ld (connections %u..%u):"
			    " %s at connection %u: %s",
			    (long)ch[i].pid, ch[i].first,
			    ch[i].first + ch[i].count - 1,
			    what == 'O'   ? "connect failed"
			    : what == 'P' ? "no reply"
					  : "close failed",
			    ch[i].first + count, strerror(e));
			*why = msg;
			return -1;
		}
		*total += count;
	}
	return 0;
}

/* pid and its child processes (genid's master and workers). */
static long
server_procs(long pid, long *pids, unsigned max)
{
	struct dirent *de;
	unsigned n = 0;
	char path[64], buf[512], *p, *end;
	long ppid;
	FILE *f;
	DIR *d;

	pids[n++] = pid;
	if ((d = opendir("/proc")) == NULL)
		err(EX_OSERR, "opendir /proc");
	while ((de = readdir(d)) != NULL && n < max) {
		long q = strtol(de->d_name, &end, 10);

		if (*end != '\0' || q <= 0 || q == pid)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/stat", q);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		buf[0] = '\0';
		if (fgets(buf, sizeof(buf), f) != NULL &&
		    (p = strrchr(buf, ')')) != NULL &&
		    sscanf(p + 1, " %*c %ld", &ppid) == 1 && ppid == pid)
			pids[n++] = q;
		fclose(f);
	}
	closedir(d);
	return (long)n;
}

/* Private_Dirty (kB) summed over the server's processes. */
static long long
private_dirty_kb(long pid)
{
	long pids[64];
	long long total = 0, v;
	char path[64], line[256];
	long i, n = server_procs(pid, pids, 64);
	FILE *f;

	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/proc/%ld/smaps_rollup", pids[i]);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		while (fgets(line, sizeof(line), f) != NULL)
			if (sscanf(line, "Private_Dirty: %lld kB", &v) == 1)
				total += v;
		fclose(f);
	}
	return total;
}

/* Open descriptors summed over the server's processes. */
static long
server_fds(long pid)
{
	long pids[64], total = 0, i, n = server_procs(pid, pids, 64);
	struct dirent *de;
	char path[64];
	DIR *d;

	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/proc/%ld/fd", pids[i]);
		if ((d = opendir(path)) == NULL)
			continue;
		while ((de = readdir(d)) != NULL)
			total += de->d_name[0] != '.';
		closedir(d);
	}
	return total;
}

static long long
meminfo_kb(const char *key)
{
	char line[256];
	long long v = -1;
	size_t len = strlen(key);
	FILE *f;

	if ((f = fopen("/proc/meminfo", "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, len) == 0) {
			v = strtoll(line + len, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/* The "mem" pages of the TCP line of /proc/net/sockstat. */
static long long
sockstat_tcp_pages(void)
{
	char line[256], *p;
	long long v = -1;
	FILE *f;

	if ((f = fopen("/proc/net/sockstat", "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "TCP:", 4) == 0 &&
		    (p = strstr(line, " mem ")) != NULL)
			v = strtoll(p + 5, NULL, 10);
	fclose(f);
	return v;
}

/*
 * Waits until the server holds `want` descriptors (want < 0: until the
 * count stops moving for 200 ms), for SETTLE_MS at most; *at is the time
 * it got there.  0, or -1 on timeout.
 */
static int
wait_fds(long pid, long want, int64_t *at)
{
	int64_t start = bench_mono_ns(), still = start;
	long last = -1, n;

	for (;;) {
		n = server_fds(pid);
		if (want >= 0 ? n == want : n == last) {
			if (want >= 0 ||
			    bench_mono_ns() - still >= 200000000LL) {
				if (at != NULL)
					*at = bench_mono_ns();
				return 0;
			}
		} else {
			still = bench_mono_ns();
		}
		last = n;
		if (bench_mono_ns() - start >= SETTLE_MS * 1000000LL) {
			if (at != NULL)
				*at = bench_mono_ns();
			return -1;
		}
		sleep_ms(want >= 0 ? 5 : 20);
	}
}
