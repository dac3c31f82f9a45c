/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * client_test.c - libgenid against real genid daemons ($GENID) and small
 * fake servers: single and bulk IDs, prefetch, INFO, decode, and failover
 * from a closed port, a silent server, a reply cut off, a server that
 * stops between calls and in the middle of a bulk request; the errors of
 * one address tried once.
 *
 * Every wait polls for its condition with a deadline.  The daemons run
 * in their own process groups and are stopped at exit, also on SIGTERM,
 * SIGINT and SIGHUP.  With GENID_TEST_ADDR=host:port the tests that need
 * no control of the server run against that server instead.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "genid.h"

#define ZONE 5
#define ZONE_S "5"
#define DC 3
#define DC_S "3"
#define MAX_DAEMONS 4
#define MAX_CHILDREN 8
#define START_S 15
#define STOP_S 10
#define BULK_N 1000000
#define MIDBULK_N 600000

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

struct daemon {
	pid_t pid; /* tests/clients/run_genid.py, leader of the group; 0 when
		      stopped */
	int in;	   /* its standard input: commands */
	int out;   /* its standard output: answers */
	char line[256];
	char dir[576];
	char addr[64];
	unsigned machine;
};

/* The fake servers' scripts. */
enum fake_mode {
	FAKE_CUT_BULK,	  /* 100 of 255 IDs and 3 bytes more, then close */
	FAKE_CUT_SINGLE,  /* 5 bytes of an ID, then close */
	FAKE_STALE,	  /* one ID per connection, closing the first */
	FAKE_REFUSE,	  /* close at once, like genid turning a client away */
	FAKE_NOT_SERVING, /* INFO says clock-behind; IDs never come */
};

static void check(int ok, int line, const char *fmt, ...) PRINTF_LIKE(3, 4);
static void fatal(const char *fmt, ...) PRINTF_LIKE(1, 2);
static void cleanup(void);
static void on_signal(int sig);
static int64_t now_ms(void);
static void pause_ms(int ms);
static void daemon_start(struct daemon *d, const char *name, unsigned machine);
static int daemon_stop(struct daemon *d, int sig);
static int runner_line(struct daemon *d, char *buf, size_t len, int deadline_s);
static int wait_pid(pid_t pid, int deadline_s, int *status);
static char *slurp(const char *path);
static unsigned closed_port(void);
static int listener(unsigned *port);
static pid_t fake_start(enum fake_mode mode, unsigned *port);
static void fake_run(int lfd, enum fake_mode mode);
static int fake_request(int fd, unsigned char req[2], enum fake_mode mode);
static void put64(unsigned char *p, uint64_t v);
static struct genid_client *client(
    const char *a, const char *b, const struct genid_options *opt);
static long info_field(const char *json, const char *key);
static int cmp_u64(const void *a, const void *b);
static int all_unique(const uint64_t *ids, size_t n);
static int increasing(const uint64_t *ids, size_t n);
static void *bulk_thread(void *arg);

static void test_args(void);
static void test_next(const char *addr);
static void test_info_decode(const char *addr, int own);
static void test_prefetch(const char *addr);
static void test_bulk(const char *addr);
static void test_closed_first(const char *addr);
static void test_silent_first(const char *addr);
static void test_cut_bulk(const char *addr);
static void test_cut_single(const char *addr);
static void test_stale(void);
static void test_not_serving(const char *addr);
static void test_one_address(void);
static void test_stop_between_calls(struct daemon *a, struct daemon *b);
static void test_stop_mid_bulk(struct daemon *b, struct daemon *c);
static void test_all_down(const struct daemon *a, const struct daemon *b);

static const char *genid_path;
static char tmpdir[512];
static int64_t epoch;
static struct daemon daemons[MAX_DAEMONS];
static pid_t children[MAX_CHILDREN];
static int failures;

#define CHECK(ok, ...) check((ok), __LINE__, __VA_ARGS__)

int
main(void)
{
	struct sigaction sa;
	const char *ext = getenv("GENID_TEST_ADDR"), *t;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	test_args();
	if (ext != NULL && ext[0] != '\0') {
		printf("# against %s: the tests that need no control of it\n",
		    ext);
		test_next(ext);
		test_info_decode(ext, 0);
		test_prefetch(ext);
		test_bulk(ext);
		test_closed_first(ext);
		test_silent_first(ext);
		test_cut_bulk(ext);
		test_cut_single(ext);
		test_stale();
		test_not_serving(ext);
		test_one_address();
		return failures > 0;
	}
	genid_path = getenv("GENID");
	if (genid_path == NULL || access(genid_path, X_OK) == -1) {
		printf("SKIP: $GENID (the built daemon) is not set\n");
		return 77;
	}
	t = getenv("TMPDIR");
	if (snprintf(tmpdir, sizeof(tmpdir), "%s/genid-client.XXXXXX",
		t != NULL && t[0] != '\0' ? t : "/tmp") >= (int)sizeof(tmpdir))
		fatal("$TMPDIR is too long");
	if (mkdtemp(tmpdir) == NULL)
		fatal("mkdtemp %s: %s", tmpdir, strerror(errno));
	atexit(cleanup);
	/* A recent epoch, as the manual suggests; whole days keep it simple. */
	epoch = ((int64_t)time(NULL) / 86400 - 30) * 86400;

	daemon_start(&daemons[0], "a", 1);
	test_next(daemons[0].addr);
	test_info_decode(daemons[0].addr, 1);
	test_prefetch(daemons[0].addr);
	test_bulk(daemons[0].addr);
	test_closed_first(daemons[0].addr);
	test_silent_first(daemons[0].addr);
	test_cut_bulk(daemons[0].addr);
	test_cut_single(daemons[0].addr);
	test_stale();
	test_not_serving(daemons[0].addr);
	test_one_address();
	daemon_start(&daemons[1], "b", 2);
	test_stop_between_calls(&daemons[0], &daemons[1]);
	daemon_start(&daemons[2], "c", 3);
	test_stop_mid_bulk(&daemons[1], &daemons[2]);
	test_all_down(&daemons[0], &daemons[1]);
	printf("%s: %d failure%s\n", failures ? "FAIL" : "PASS", failures,
	    failures == 1 ? "" : "s");
	return failures > 0;
}

static void
check(int ok, int line, const char *fmt, ...)
{
	va_list ap;

	if (ok)
		return;
	failures++;
	printf("FAIL: client_test.c:%d: ", line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void
fatal(const char *fmt, ...)
{
	va_list ap;

	printf("FAIL: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	exit(1);
}

/* Stops every daemon and fake server still running, and removes tmpdir. */
static void
cleanup(void)
{
	char cmd[576];
	size_t i;

	for (i = 0; i < MAX_DAEMONS; i++)
		if (daemons[i].pid > 0)
			daemon_stop(&daemons[i], SIGTERM);
	for (i = 0; i < MAX_CHILDREN; i++)
		if (children[i] > 0) {
			kill(children[i], SIGKILL);
			waitpid(children[i], NULL, 0);
			children[i] = 0;
		}
	if (tmpdir[0] != '\0' && failures == 0) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", tmpdir);
	} else if (tmpdir[0] != '\0')
		printf("# logs kept in %s\n", tmpdir);
}

/* Only async-signal-safe calls: kill the process groups and leave. */
static void
on_signal(int sig)
{
	size_t i;

	for (i = 0; i < MAX_DAEMONS; i++)
		if (daemons[i].pid > 0)
			kill(-daemons[i].pid, SIGKILL);
	for (i = 0; i < MAX_CHILDREN; i++)
		if (children[i] > 0)
			kill(children[i], SIGKILL);
	_exit(128 + sig);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The interval between two looks at a condition polled for. */
static void
pause_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/*
 * Starts genid on 127.0.0.1 and a port the kernel picks, and waits for
 * "listening on 127.0.0.1:PORT" and "ready:" in its log.
 */
static void
daemon_start(struct daemon *d, const char *name, unsigned machine)
{
	char err[640], machine_arg[16], epoch_arg[32], runner[640], *text;
	const char *py = getenv("PYTHON3"), *src = getenv("GENID_SRCDIR");
	unsigned port;
	int in[2], out[2], fd, status;

	snprintf(d->dir, sizeof(d->dir), "%s/%s", tmpdir, name);
	if (mkdir(d->dir, 0700) == -1)
		fatal("mkdir %s: %s", d->dir, strerror(errno));
	d->machine = machine;
	snprintf(err, sizeof(err), "%s/runner.log", d->dir);
	snprintf(machine_arg, sizeof(machine_arg), "%u", machine);
	snprintf(epoch_arg, sizeof(epoch_arg), "%lld", (long long)epoch);
	snprintf(runner, sizeof(runner), "%s/tests/clients/run_genid.py",
	    src != NULL && src[0] != '\0' ? src : ".");
	if (py == NULL || py[0] == '\0')
		py = "python3";
	if (pipe(in) == -1 || pipe(out) == -1)
		fatal("pipe: %s", strerror(errno));
	if ((d->pid = fork()) == -1)
		fatal("fork: %s", strerror(errno));
	if (d->pid == 0) {
		/* Its own group, so that genid can be killed with it. */
		setpgid(0, 0);
		dup2(in[0], 0);
		dup2(out[1], 1);
		if ((fd = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600)) != -1)
			dup2(fd, 2);
		close(in[1]);
		close(out[0]);
		execlp(py, py, runner, "--zone", ZONE_S, "--dc", DC_S,
		    "--machine", machine_arg, "--epoch", epoch_arg,
		    (char *)NULL);
		_exit(127);
	}
	setpgid(d->pid, d->pid);
	close(in[0]);
	close(out[1]);
	d->in = in[1];
	d->out = out[0];
	/* The runner prints the port alone on a line once genid serves. */
	if (runner_line(d, d->line, sizeof(d->line), START_S) == -1 ||
	    sscanf(d->line, "%u", &port) != 1) {
		kill(-d->pid, SIGKILL);
		waitpid(d->pid, &status, 0);
		d->pid = 0;
		text = slurp(err);
		fatal("genid %s did not start (%s): %s", name, d->line,
		    text != NULL ? text : "");
	}
	snprintf(d->addr, sizeof(d->addr), "127.0.0.1:%u", port);
	printf("# genid %s (machine %u) on %s\n", name, machine, d->addr);
}

/*
 * Reads one line of the runner's into buf, waiting at most deadline_s.
 * 0, or -1 when it ended or took longer (buf then says so).
 */
static int
runner_line(struct daemon *d, char *buf, size_t len, int deadline_s)
{
	int64_t deadline = now_ms() + deadline_s * 1000;
	struct pollfd pfd = {d->out, POLLIN, 0};
	size_t n = 0;

	while (n + 1 < len) {
		int left = (int)(deadline - now_ms());

		if (left <= 0 || poll(&pfd, 1, left) <= 0) {
			snprintf(buf, len, "no answer within %d s", deadline_s);
			return -1;
		}
		if (read(d->out, buf + n, 1) != 1) {
			snprintf(buf, len, "the runner ended");
			return -1;
		}
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = '\0';
	return 0;
}

/*
 * Stops genid: SIGTERM through the runner's "stop", or SIGKILL of the whole
 * group.  Returns genid's exit status as the runner reports it (negative
 * for a signal), or -1000 when it said nothing.
 */
static int
daemon_stop(struct daemon *d, int sig)
{
	int rc = -1000;

	if (d->pid <= 0)
		return rc;
	if (sig == SIGTERM && write(d->in, "stop\n", 5) == 5 &&
	    runner_line(d, d->line, sizeof(d->line), STOP_S) == 0 &&
	    sscanf(d->line, "stopped %d", &rc) != 1)
		rc = -1000;
	/* Closing its stdin ends the runner; the group goes with it. */
	close(d->in);
	close(d->out);
	if (wait_pid(d->pid, STOP_S, NULL) == -1) {
		kill(-d->pid, SIGKILL);
		waitpid(d->pid, NULL, 0);
	}
	kill(-d->pid, SIGKILL);
	d->pid = 0;
	return rc;
}

/* Polls for pid's exit for at most deadline_s; 0, or -1 on timeout. */
static int
wait_pid(pid_t pid, int deadline_s, int *status)
{
	int64_t deadline = now_ms() + deadline_s * 1000;

	for (;;) {
		if (waitpid(pid, status, WNOHANG) == pid)
			return 0;
		if (now_ms() > deadline)
			return -1;
		pause_ms(5);
	}
}

/* The whole file as a string, or NULL. */
static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0, n;

	if (f == NULL)
		return NULL;
	for (;;) {
		char *nb = realloc(buf, len + 4097);

		if (nb == NULL)
			break;
		buf = nb;
		if ((n = fread(buf + len, 1, 4096, f)) == 0)
			break;
		len += n;
	}
	fclose(f);
	if (buf != NULL)
		buf[len] = '\0';
	return buf;
}

/* A loopback port nobody listens on (it was free a moment ago). */
static unsigned
closed_port(void)
{
	unsigned port;
	int fd = listener(&port);

	close(fd);
	return port;
}

/* A socket listening on 127.0.0.1 and a port the kernel picks. */
static int
listener(unsigned *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 8) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1)
		fatal("listen on 127.0.0.1: %s", strerror(errno));
	*port = ntohs(sin.sin_port);
	return fd;
}

/* Forks a fake server running mode; returns its pid. */
static pid_t
fake_start(enum fake_mode mode, unsigned *port)
{
	int lfd = listener(port);
	pid_t pid;
	size_t i;

	if ((pid = fork()) == -1)
		fatal("fork: %s", strerror(errno));
	if (pid == 0) {
		/* A safety net only: the parent kills it when done. */
		alarm(30);
		fake_run(lfd, mode);
		_exit(0);
	}
	close(lfd);
	for (i = 0; i < MAX_CHILDREN; i++)
		if (children[i] == 0) {
			children[i] = pid;
			break;
		}
	return pid;
}

static void
fake_run(int lfd, enum fake_mode mode)
{
	unsigned char req[2], out[1 + 101 * 8];
	size_t len = 0, i;
	/*
	 * FAKE_NOT_SERVING: the failover client's connection, then the
	 * one-address client's INFO connection and its one more try.
	 */
	int fd, n,
	    conns = mode == FAKE_STALE ? 2
	    : mode == FAKE_NOT_SERVING ? 3
				       : 1;

	for (n = 0; n < conns; n++) {
		if ((fd = accept(lfd, NULL, NULL)) == -1)
			_exit(1);
		if (mode == FAKE_REFUSE) {
			close(fd);
			continue;
		}
		if (fake_request(fd, req, mode) == -1) {
			if (mode != FAKE_NOT_SERVING)
				_exit(1);
			close(fd);
			continue;
		}
		switch (mode) {
		case FAKE_CUT_BULK:
			out[0] = 255;
			for (i = 0; i < 101; i++)
				put64(out + 1 + i * 8, 1000 + i);
			len = 1 + 100 * 8 + 3;
			break;
		case FAKE_CUT_SINGLE:
			put64(out, 1000);
			len = 5;
			break;
		case FAKE_STALE:
			put64(out, 10 + (uint64_t)n);
			len = 8;
			break;
		case FAKE_REFUSE:
		case FAKE_NOT_SERVING:
			break;
		}
		if (send(fd, out, len, MSG_NOSIGNAL) != (ssize_t)len)
			_exit(1);
		/*
		 * A close with requests unread would reset the connection
		 * and maybe drop the reply: end the sending side only and
		 * read until the client goes.  The second connection of
		 * FAKE_STALE stays open.
		 */
		if (mode != FAKE_STALE || n == 0)
			shutdown(fd, SHUT_WR);
		while (recv(fd, req, sizeof(req), 0) > 0)
			;
		close(fd);
	}
}

/*
 * Reads the next request that is not INFO into req: a client asks INFO
 * on a new connection before any ID, and it is answered whole, with the
 * state of the mode; FAKE_NOT_SERVING answers nothing else, ever.
 */
static int
fake_request(int fd, unsigned char req[2], enum fake_mode mode)
{
	const char *json = mode == FAKE_NOT_SERVING
	    ? "{\"version\":\"fake\",\"state\":\"clock-behind\"}"
	    : "{\"version\":\"fake\",\"state\":\"serving\"}";
	unsigned char out[128];
	size_t len = strlen(json);

	for (;;) {
		if (recv(fd, req, 2, MSG_WAITALL) != 2)
			return -1;
		if (req[0] != 2) {
			if (mode != FAKE_NOT_SERVING)
				return 0;
			continue;
		}
		out[0] = (unsigned char)(len >> 8);
		out[1] = (unsigned char)len;
		memcpy(out + 2, json, len);
		if (send(fd, out, len + 2, MSG_NOSIGNAL) != (ssize_t)(len + 2))
			return -1;
	}
}

static void
put64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

/* A client for one or two addresses; the test fails without one. */
static struct genid_client *
client(const char *a, const char *b, const struct genid_options *opt)
{
	const char *addrs[2] = {a, b};
	struct genid_client *c = genid_open(addrs, b != NULL ? 2 : 1, opt);

	if (c == NULL)
		fatal("genid_open %s %s: %s", a, b != NULL ? b : "",
		    strerror(errno));
	return c;
}

/* The integer value of "key" in flat JSON, or -1. */
static long
info_field(const char *json, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\"", key);
	if ((p = strstr(json, pat)) == NULL)
		return -1;
	p += strlen(pat);
	while (*p == ' ' || *p == ':')
		p++;
	return strtol(p, NULL, 10);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* 1 when no value of ids repeats (ids is left alone). */
static int
all_unique(const uint64_t *ids, size_t n)
{
	uint64_t *s = malloc(n * sizeof(*s));
	size_t i;
	int ok = 1;

	if (s == NULL)
		fatal("malloc: %s", strerror(errno));
	memcpy(s, ids, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_u64);
	for (i = 1; i < n && ok; i++)
		ok = s[i] != s[i - 1];
	free(s);
	return ok;
}

static int
increasing(const uint64_t *ids, size_t n)
{
	size_t i;

	for (i = 1; i < n; i++)
		if (ids[i] <= ids[i - 1])
			return 0;
	return 1;
}

static void
test_args(void)
{
	static const char *const bad[] = {"127.0.0.1:99999", "[::1",
	    "127.0.0.1:0", "", ":3778", "127.0.0.1:x"};
	const char *good[] = {"localhost", "[::1]:3778", "::1"};
	struct genid_options opt;
	struct genid_fields f, g;
	struct genid_client *c;
	size_t i;
	uint64_t id;

	errno = 0;
	CHECK(genid_open(NULL, 1, NULL) == NULL && errno == EINVAL,
	    "genid_open(NULL) gives EINVAL");
	errno = 0;
	CHECK(genid_open(good, 0, NULL) == NULL && errno == EINVAL,
	    "genid_open with no address gives EINVAL");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		c = genid_open(&bad[i], 1, NULL);
		CHECK(c == NULL && errno == EINVAL,
		    "genid_open(\"%s\") gives EINVAL", bad[i]);
		genid_close(c);
	}
	memset(&opt, 0, sizeof(opt));
	opt.prefetch = GENID_PREFETCH_MAX + 1;
	errno = 0;
	CHECK(genid_open(good, 1, &opt) == NULL && errno == EINVAL,
	    "a prefetch above GENID_PREFETCH_MAX gives EINVAL");
	opt.prefetch = 0;
	opt.io_timeout_ms = -1;
	CHECK(genid_open(good, 1, &opt) == NULL && errno == EINVAL,
	    "a negative timeout gives EINVAL");
	c = genid_open(good, 3, NULL);
	CHECK(c != NULL, "genid_open(localhost, [::1]:3778, ::1) works");
	if (c != NULL) {
		CHECK(genid_server(c) == NULL, "no connection before a call");
		CHECK(strcmp(genid_strerror(c), "no error") == 0,
		    "no error before a call: \"%s\"", genid_strerror(c));
	}
	genid_close(c);
	genid_close(NULL);

	f.ts = 0xfedcba98;
	f.zone = 31;
	f.dc = 6;
	f.machine = 5;
	f.bucket = 17;
	f.counter = 65535;
	id = genid_encode(&f);
	CHECK(id ==
		((uint64_t)0xfedcba98 << 32 | 31u << 27 | 6u << 24 | 5u << 21 |
		    17u << 16 | 65535u),
	    "encode gives %llx", (unsigned long long)id);
	genid_decode(id, &g);
	CHECK(memcmp(&f, &g, sizeof(f)) == 0, "decode undoes encode");
	f.machine = 8;
	errno = 0;
	CHECK(genid_encode(&f) == 0 && errno == EINVAL,
	    "encode of machine 8 gives 0 and EINVAL");
	printf("ok - arguments, encode, decode\n");
}

static void
test_next(const char *addr)
{
	struct genid_client *c = client(addr, NULL, NULL);
	uint64_t prev = 0, id;
	int i, ok = 1;

	for (i = 0; i < 10000 && ok; i++) {
		ok = genid_next(c, &id) == 0;
		CHECK(ok, "genid_next: %s", genid_strerror(c));
		if (ok && i > 0)
			CHECK(ok = id > prev, "ID %llu after %llu",
			    (unsigned long long)id, (unsigned long long)prev);
		prev = id;
	}
	CHECK(genid_server(c) != NULL && strcmp(genid_server(c), addr) == 0,
	    "connected to %s", addr);
	genid_close(c);
	printf("ok - genid_next: 10000 IDs strictly increasing\n");
}

static void
test_info_decode(const char *addr, int own)
{
	struct genid_options opt;
	struct genid_client *c;
	struct genid_fields f;
	char json[4096], small[8];
	int64_t t0, t1, t;
	uint64_t id;
	int len, len2;

	memset(&opt, 0, sizeof(opt));
	opt.epoch = epoch;
	c = client(addr, NULL, &opt);
	len = genid_info(c, json, sizeof(json));
	CHECK(len > 0 && (size_t)len < sizeof(json) &&
		strlen(json) == (size_t)len,
	    "genid_info: %d, %s", len, genid_strerror(c));
	if (!own) {
		opt.epoch = info_field(json, "epoch");
		genid_close(c);
		c = client(addr, NULL, &opt);
	}
	CHECK(info_field(json, "epoch") == opt.epoch, "INFO epoch in %s", json);
	if (own)
		CHECK(info_field(json, "zone") == ZONE &&
			info_field(json, "dc") == DC &&
			info_field(json, "machine") == 1,
		    "INFO has zone %d dc %d machine 1: %s", ZONE, DC, json);
	t0 = time(NULL);
	CHECK(genid_next(c, &id) == 0, "genid_next: %s", genid_strerror(c));
	t1 = time(NULL);
	genid_decode(id, &f);
	CHECK((long)f.zone == info_field(json, "zone") &&
		(long)f.dc == info_field(json, "dc") &&
		(long)f.machine == info_field(json, "machine") &&
		f.bucket <= 31,
	    "decode of %llu: zone %u dc %u machine %u bucket %u",
	    (unsigned long long)id, f.zone, f.dc, f.machine, f.bucket);
	t = genid_time(c, id);
	CHECK(t == (int64_t)f.ts + opt.epoch, "genid_time is ts + epoch");
	/* The server may run ahead of the clock by max_ahead_s (5). */
	CHECK(t >= t0 - 1 && t <= t1 + 6, "ID time %lld, clock %lld..%lld",
	    (long long)t, (long long)t0, (long long)t1);
	CHECK(genid_encode(&f) == id, "encode(decode(id)) == id");
	len2 = genid_info(c, small, sizeof(small));
	CHECK(len2 >= len - 4 && strlen(small) == sizeof(small) - 1 &&
		memcmp(small, json, sizeof(small) - 1) == 0,
	    "a short buffer gets the start of INFO, the full length back");
	CHECK(genid_info(c, NULL, 0) > 0,
	    "genid_info(NULL, 0) gives the"
	    " length");
	genid_close(c);
	printf("ok - genid_info, decode of a fetched ID\n");
}

static void
test_prefetch(const char *addr)
{
	struct genid_options opt;
	struct genid_client *c;
	uint64_t *ids, before;
	size_t n = 0, i;
	int64_t t0;
	int ok = 1;

	memset(&opt, 0, sizeof(opt));
	opt.prefetch = 1000;
	opt.epoch = epoch;
	c = client(addr, NULL, &opt);
	if ((ids = malloc(12001 * sizeof(*ids))) == NULL)
		fatal("malloc: %s", strerror(errno));
	for (i = 0; i < 5000 && ok; i++)
		CHECK(ok = genid_next(c, &ids[n++]) == 0, "genid_next: %s",
		    genid_strerror(c));
	/* Bulk hands out the prefetched IDs first, so order holds. */
	CHECK(genid_bulk(c, ids + n, 2500) == 2500, "genid_bulk: %s",
	    genid_strerror(c));
	n += 2500;
	for (i = 0; i < 4500 && ok; i++)
		CHECK(ok = genid_next(c, &ids[n++]) == 0, "genid_next: %s",
		    genid_strerror(c));
	CHECK(increasing(ids, n), "%zu IDs with prefetch strictly increase", n);
	/*
	 * Prefetched IDs older than a second are dropped: after waiting
	 * (the time is what is tested here), the next ID is fresh.
	 */
	before = ids[n - 1];
	t0 = time(NULL);
	pause_ms(1100);
	CHECK(genid_next(c, &ids[n]) == 0, "genid_next: %s", genid_strerror(c));
	CHECK(ids[n] > before && genid_time(c, ids[n]) >= t0 + 1,
	    "after 1.1 s the ID is from now (%lld), not from %lld",
	    (long long)genid_time(c, ids[n]), (long long)t0);
	free(ids);
	genid_close(c);
	printf("ok - prefetch: IDs unique and increasing, old ones dropped\n");
}

static void
test_bulk(const char *addr)
{
	struct genid_client *c = client(addr, NULL, NULL);
	uint64_t *ids = calloc(BULK_N, sizeof(*ids));
	int64_t t0;
	ssize_t n;

	if (ids == NULL)
		fatal("malloc: %s", strerror(errno));
	CHECK(genid_bulk(c, ids, 0) == 0, "genid_bulk of 0 IDs gives 0");
	t0 = now_ms();
	n = genid_bulk(c, ids, BULK_N);
	CHECK(n == BULK_N, "genid_bulk(%d) gave %zd: %s", BULK_N, n,
	    genid_strerror(c));
	/* One connection: strictly increasing, hence unique. */
	CHECK(increasing(ids, BULK_N), "bulk IDs strictly increase");
	printf("ok - genid_bulk: %d IDs in %lld ms, strictly increasing\n",
	    BULK_N, (long long)(now_ms() - t0));
	free(ids);
	genid_close(c);
}

static void
test_closed_first(const char *addr)
{
	char closed[32];
	struct genid_client *c;
	uint64_t id;

	snprintf(closed, sizeof(closed), "127.0.0.1:%u", closed_port());
	c = client(closed, addr, NULL);
	CHECK(genid_next(c, &id) == 0, "genid_next past %s: %s", closed,
	    genid_strerror(c));
	CHECK(genid_server(c) != NULL && strcmp(genid_server(c), addr) == 0,
	    "on %s after %s", addr, closed);
	genid_close(c);
	printf("ok - failover from a closed port\n");
}

static void
test_silent_first(const char *addr)
{
	struct genid_options opt;
	struct genid_client *c;
	char silent[32];
	unsigned port;
	uint64_t ids[600];
	int64_t t0, took;
	int lfd = listener(&port);

	/* The kernel completes the handshake; nobody ever answers. */
	snprintf(silent, sizeof(silent), "127.0.0.1:%u", port);
	memset(&opt, 0, sizeof(opt));
	opt.io_timeout_ms = 200;
	c = client(silent, addr, &opt);
	t0 = now_ms();
	CHECK(genid_bulk(c, ids, 600) == 600, "genid_bulk past %s: %s", silent,
	    genid_strerror(c));
	took = now_ms() - t0;
	CHECK(took >= 200 && took < 5000,
	    "failover after the 200 ms"
	    " timeout took %lld ms",
	    (long long)took);
	CHECK(increasing(ids, 600), "IDs of %s increase", addr);
	genid_close(c);
	close(lfd);
	printf("ok - failover from a server that does not answer\n");
}

static void
test_cut_bulk(const char *addr)
{
	struct genid_client *c;
	char fake[32];
	unsigned port;
	uint64_t ids[1000];
	pid_t pid = fake_start(FAKE_CUT_BULK, &port);
	size_t i;
	int ok = 1;

	snprintf(fake, sizeof(fake), "127.0.0.1:%u", port);
	c = client(fake, addr, NULL);
	CHECK(genid_bulk(c, ids, 1000) == 1000,
	    "genid_bulk past a cut reply:"
	    " %s",
	    genid_strerror(c));
	/* The 100 whole IDs of the cut reply are kept, the rest asked anew. */
	for (i = 0; i < 100 && ok; i++)
		CHECK(ok = ids[i] == 1000 + i, "ids[%zu] = %llu, want %zu", i,
		    (unsigned long long)ids[i], 1000 + i);
	CHECK(ids[100] > 1 << 20, "no part of ID 1100 handed out: %llu",
	    (unsigned long long)ids[100]);
	CHECK(increasing(ids + 100, 900), "the rest come from one connection");
	CHECK(all_unique(ids, 1000), "the 1000 IDs are unique");
	CHECK(genid_server(c) != NULL && strcmp(genid_server(c), addr) == 0,
	    "on %s after the cut", addr);
	genid_close(c);
	CHECK(wait_pid(pid, STOP_S, NULL) == 0, "fake server exits");
	for (i = 0; i < MAX_CHILDREN; i++)
		if (children[i] == pid)
			children[i] = 0;
	printf("ok - a bulk reply cut off: its IDs kept, the rest elsewhere\n");
}

static void
test_cut_single(const char *addr)
{
	struct genid_client *c;
	struct genid_fields f;
	char fake[32];
	unsigned port;
	uint64_t id;
	pid_t pid = fake_start(FAKE_CUT_SINGLE, &port);
	size_t i;

	snprintf(fake, sizeof(fake), "127.0.0.1:%u", port);
	c = client(fake, addr, NULL);
	CHECK(genid_next(c, &id) == 0, "genid_next past a cut reply: %s",
	    genid_strerror(c));
	genid_decode(id, &f);
	CHECK(id != 1000 && f.ts > 0, "the ID comes from %s: %llu", addr,
	    (unsigned long long)id);
	genid_close(c);
	CHECK(wait_pid(pid, STOP_S, NULL) == 0, "fake server exits");
	for (i = 0; i < MAX_CHILDREN; i++)
		if (children[i] == pid)
			children[i] = 0;
	printf("ok - a single reply cut off\n");
}

/*
 * A server that answers INFO but is not serving (its buckets wait for the
 * clock) counts as down: the ID comes from the next address at once, not
 * after the read timeout.  Alone, the call fails with EAGAIN naming it,
 * and INFO still reaches it.
 */
static void
test_not_serving(const char *addr)
{
	struct genid_client *c;
	char fake[32], json[256];
	unsigned port;
	uint64_t id;
	int64_t t0, took;
	pid_t pid = fake_start(FAKE_NOT_SERVING, &port);
	size_t i;

	snprintf(fake, sizeof(fake), "127.0.0.1:%u", port);
	c = client(fake, addr, NULL);
	t0 = now_ms();
	CHECK(genid_next(c, &id) == 0, "genid_next past a node not serving: %s",
	    genid_strerror(c));
	took = now_ms() - t0;
	CHECK(took < 500,
	    "failover at once, not after the read timeout: %lld ms",
	    (long long)took);
	CHECK(genid_server(c) != NULL && strcmp(genid_server(c), addr) == 0,
	    "the ID comes from %s", addr);
	genid_close(c);
	c = client(fake, NULL, NULL);
	CHECK(genid_info(c, json, sizeof(json)) > 0 &&
		strstr(json, "clock-behind") != NULL,
	    "INFO reaches a node not serving: %s", genid_strerror(c));
	errno = 0;
	CHECK(genid_next(c, &id) == -1 && errno == EAGAIN &&
		strstr(genid_strerror(c), "not serving") != NULL,
	    "alone it fails with EAGAIN, naming why: %s (errno %d)",
	    genid_strerror(c), errno);
	genid_close(c);
	CHECK(wait_pid(pid, STOP_S, NULL) == 0, "fake server exits");
	for (i = 0; i < MAX_CHILDREN; i++)
		if (children[i] == pid)
			children[i] = 0;
	printf("ok - a node that is not serving counts as down\n");
}

/*
 * One address whose server closes an idle connection: the next call
 * reconnects to the same address instead of failing.
 */
static void
test_stale(void)
{
	struct genid_client *c;
	char fake[32];
	unsigned port;
	uint64_t a = 0, b = 0;
	pid_t pid = fake_start(FAKE_STALE, &port);
	size_t i;

	snprintf(fake, sizeof(fake), "127.0.0.1:%u", port);
	c = client(fake, NULL, NULL);
	CHECK(genid_next(c, &a) == 0 && a == 10, "first ID %llu: %s",
	    (unsigned long long)a, genid_strerror(c));
	CHECK(genid_next(c, &b) == 0 && b == 11, "ID %llu after a close: %s",
	    (unsigned long long)b, genid_strerror(c));
	genid_close(c);
	CHECK(wait_pid(pid, STOP_S, NULL) == 0, "fake server exits");
	for (i = 0; i < MAX_CHILDREN; i++)
		if (children[i] == pid)
			children[i] = 0;
	printf("ok - one address: reconnect after the server closed\n");
}

/*
 * One address tried once: the message is that failure alone, and errno
 * tells a refused connection, an unknown host and a server that turns
 * the client away apart.
 */
static void
test_one_address(void)
{
	static const char refused[] =
	    "by the server (allow list or connection limit? or not a genid "
	    "port (metrics_listen?))";
	struct genid_client *c;
	char addr[32], want[64], host[80], json[64];
	unsigned port = closed_port();
	uint64_t id;
	pid_t pid;
	size_t i;

	snprintf(addr, sizeof(addr), "127.0.0.1:%u", port);
	snprintf(want, sizeof(want), "connect %s: Connection refused", addr);
	c = client(addr, NULL, NULL);
	errno = 0;
	CHECK(genid_next(c, &id) == -1 && errno == ECONNREFUSED,
	    "genid_next from %s: ECONNREFUSED, got %d", addr, errno);
	CHECK(strcmp(genid_strerror(c), want) == 0,
	    "message \"%s\", want \"%s\"", genid_strerror(c), want);
	genid_close(c);

	/* A label over 63 bytes fails before any query leaves the host. */
	memset(host, 'x', 64);
	snprintf(host + 64, sizeof(host) - 64, ".invalid");
	c = client(host, NULL, NULL);
	errno = 0;
	CHECK(genid_info(c, json, sizeof(json)) == -1 && errno == ENXIO,
	    "genid_info from an unknown host: ENXIO, got %d", errno);
	CHECK(strncmp(genid_strerror(c), "resolve xxxx", 12) == 0,
	    "message \"%s\"", genid_strerror(c));
	genid_close(c);

	pid = fake_start(FAKE_REFUSE, &port);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", port);
	c = client(addr, NULL, NULL);
	errno = 0;
	CHECK(genid_info(c, json, sizeof(json)) == -1 &&
		(errno == ECONNRESET || errno == EPIPE),
	    "genid_info from a server that closes at once: ECONNRESET or"
	    " EPIPE, got %d",
	    errno);
	CHECK(strstr(genid_strerror(c), addr) != NULL &&
		strstr(genid_strerror(c), refused) != NULL,
	    "message \"%s\"", genid_strerror(c));
	genid_close(c);
	CHECK(wait_pid(pid, STOP_S, NULL) == 0, "fake server exits");
	for (i = 0; i < MAX_CHILDREN; i++)
		if (children[i] == pid)
			children[i] = 0;
	printf("ok - one address: the failure alone, errno by kind\n");
}

/* SIGTERM to the first server between calls: the client moves on. */
static void
test_stop_between_calls(struct daemon *a, struct daemon *b)
{
	struct genid_client *c = client(a->addr, b->addr, NULL);
	struct genid_fields f;
	uint64_t ids[20001];
	size_t n = 0, i, first;
	int status;

	for (i = 0; i < 500; i++)
		CHECK(genid_next(c, &ids[n++]) == 0, "genid_next: %s",
		    genid_strerror(c));
	CHECK(genid_bulk(c, ids + n, 9500) == 9500, "genid_bulk: %s",
	    genid_strerror(c));
	n += 9500;
	first = n;
	status = daemon_stop(a, SIGTERM);
	CHECK(status == 0, "genid a exits 0 on SIGTERM (status %d)", status);
	CHECK(genid_next(c, &ids[n++]) == 0, "genid_next after the stop: %s",
	    genid_strerror(c));
	CHECK(genid_bulk(c, ids + n, 9999) == 9999, "genid_bulk: %s",
	    genid_strerror(c));
	n += 9999;
	CHECK(genid_server(c) != NULL && strcmp(genid_server(c), b->addr) == 0,
	    "on %s after %s stopped", b->addr, a->addr);
	for (i = 0; i < n; i++) {
		genid_decode(ids[i], &f);
		if (f.machine != (i < first ? a->machine : b->machine)) {
			CHECK(0, "ids[%zu] from machine %u", i, f.machine);
			break;
		}
	}
	CHECK(increasing(ids, first) && increasing(ids + first, n - first),
	    "IDs increase on each connection");
	CHECK(all_unique(ids, n), "%zu IDs from two servers are unique", n);
	genid_close(c);
	printf("ok - SIGTERM between calls: failover to the second server\n");
}

struct bulk_job {
	struct genid_client *c;
	uint64_t *ids;
	size_t n;
	ssize_t got;
};

static void *
bulk_thread(void *arg)
{
	struct bulk_job *j = arg;

	j->got = genid_bulk(j->c, j->ids, j->n);
	return NULL;
}

/*
 * SIGTERM to the server while a bulk request runs on it: the request
 * finishes on the other server, and no ID comes twice.
 */
static void
test_stop_mid_bulk(struct daemon *b, struct daemon *c2)
{
	struct bulk_job j;
	struct genid_fields f;
	pthread_t th;
	int64_t deadline;
	size_t i, first = 0;
	int status, err, ok = 1;

	j.c = client(b->addr, c2->addr, NULL);
	j.n = MIDBULK_N;
	if ((j.ids = calloc(j.n, sizeof(*j.ids))) == NULL)
		fatal("malloc: %s", strerror(errno));
	if ((err = pthread_create(&th, NULL, bulk_thread, &j)) != 0)
		fatal("pthread_create: %s", strerror(err));
	/* The IDs land in order: once this one is there, it is mid-way. */
	deadline = now_ms() + 30000;
	while (__atomic_load_n(&j.ids[MIDBULK_N / 3], __ATOMIC_RELAXED) == 0 &&
	    now_ms() < deadline)
		pause_ms(1);
	status = daemon_stop(b, SIGTERM);
	CHECK(status == 0, "genid b exits 0 on SIGTERM (status %d)", status);
	pthread_join(th, NULL);
	CHECK(j.got == MIDBULK_N,
	    "genid_bulk(%d) across the stop gave %zd:"
	    " %s",
	    MIDBULK_N, j.got, genid_strerror(j.c));
	if (j.got == MIDBULK_N) {
		for (i = 0; i < j.n && ok; i++) {
			genid_decode(j.ids[i], &f);
			if (first == 0 && f.machine == c2->machine)
				first = i;
			CHECK(ok = f.machine ==
				(first == 0 ? b->machine : c2->machine),
			    "ids[%zu] from machine %u", i, f.machine);
		}
		CHECK(first > MIDBULK_N / 3, "%zu IDs from b, then c", first);
		CHECK(increasing(j.ids, first) &&
			increasing(j.ids + first, j.n - first),
		    "IDs increase on each connection");
		CHECK(all_unique(j.ids, j.n), "%d IDs are unique", MIDBULK_N);
	}
	printf("ok - SIGTERM during genid_bulk: %zu IDs from b, %zu from c\n",
	    first, j.n - first);
	free(j.ids);
	genid_close(j.c);
}

static void
test_all_down(const struct daemon *a, const struct daemon *b)
{
	char v6[32];
	const char *v4 = a->addr, *msg;
	struct genid_client *c;
	uint64_t id, ids[10];
	char json[64];

	/* b's port is free again after it stopped; [::1] shows the name. */
	snprintf(v6, sizeof(v6), "[::1]:%s", strrchr(b->addr, ':') + 1);
	c = client(v4, v6, NULL);
	errno = 0;
	CHECK(genid_next(c, &id) == -1 && errno != 0,
	    "genid_next with every server down fails with errno");
	msg = genid_strerror(c);
	CHECK(strstr(msg, v4) != NULL && strstr(msg, v6) != NULL,
	    "the message names %s and %s: %s", v4, v6, msg);
	printf("# %s\n", msg);
	CHECK(genid_bulk(c, ids, 10) == -1, "genid_bulk fails");
	CHECK(genid_info(c, json, sizeof(json)) == -1, "genid_info fails");
	CHECK(genid_server(c) == NULL, "no server");
	genid_close(c);
	printf("ok - every server down: -1 and a message naming each\n");
}
