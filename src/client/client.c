/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * client.c - libgenid: the wire protocol of genid(7) over one connection at
 * a time, with failover along a list of addresses.
 *
 * Every request goes through call(), which runs it on the current
 * connection and, when the connection fails, moves round the addresses
 * and runs it again.  Requests are written so that running them again is
 * safe: IDs already stored stay stored and only the rest is asked for.
 * Before the first ID request on a connection the server is asked for
 * its INFO: one that says it is not serving counts as down (issue 9).
 * That is one round trip per connection, none per request.
 */
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "genid.h"
#include "id.h"

#define DEFAULT_TIMEOUT_MS 1000
/* IDs asked for in one CMD 1 frame, and frames written at once. */
#define CHUNK 255
#define WINDOW 32
/*
 * A CMD 0 waits in the server until the next second when its bucket is
 * used up: its reply may take this much longer than io_timeout_ms.
 */
#define WAIT_MS 1000
/* Prefetched IDs older than this are dropped: their time would lag. */
#define PREFETCH_AGE_MS 1000
#define HOST_LEN 256
#define NAME_LEN (HOST_LEN + 8)
#define ERR_LEN 1024
#define RBUF_LEN 16384

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

struct address {
	char host[HOST_LEN];
	unsigned port;
	char name[NAME_LEN]; /* host:port or [host]:port, for messages */
};

struct genid_client {
	struct address *addrs;
	size_t naddrs;
	size_t cur; /* the address connected to or tried next */
	int fd;
	int connect_timeout_ms;
	int io_timeout_ms;
	int64_t epoch;
	uint64_t last;	/* the last ID read on this connection */
	uint64_t nread; /* IDs read on this connection */
	int answered;	/* the server has sent something on it */
	int vetted;	/* its INFO said "serving" (or named no state) */
	size_t rpos, rlen;
	uint64_t *pre; /* prefetched IDs: pre[prepos..prelen) */
	size_t precap, prepos, prelen;
	int64_t pre_ms; /* when pre was filled, monotonic */
	int errnum;
	char err[ERR_LEN];
	char trail[ERR_LEN]; /* the failures of the current call */
	unsigned char rbuf[RBUF_LEN];
};

/* One round of ID requests; got counts the IDs stored in dst so far. */
struct round {
	uint64_t *dst;
	size_t n;
	size_t *got;
	int single; /* one CMD 0 instead of CMD 1 frames */
};

struct info {
	char *buf;
	size_t len;
	size_t total;
};

static void set_error(struct genid_client *c, int errnum, const char *fmt, ...)
    PRINTF_LIKE(3, 4);
static void set_closed(
    struct genid_client *c, int errnum, const char *what, const char *how);
static const char *errstr(int errnum, char *buf, size_t len);
static int64_t now_ms(void);
static int server_open(struct genid_client *c);
static int connect_one(
    struct genid_client *c, const struct address *a, const struct addrinfo *ai);
static void server_close(struct genid_client *c);
static int wait_fd(
    struct genid_client *c, short events, int timeout_ms, const char *what);
static int send_all(struct genid_client *c, const void *buf, size_t len);
static int fill(struct genid_client *c, int timeout_ms);
static int take_ids(struct genid_client *c, uint64_t *dst, size_t m,
    size_t *got, int timeout_ms);
static int vet(struct genid_client *c);
static int http_reply(struct genid_client *c);
static int not_serving(const char *json, const char **state, size_t *n);
static int call(struct genid_client *c, int ids,
    int (*req)(struct genid_client *, void *), void *arg);
static int round_req(struct genid_client *c, void *arg);
static int info_req(struct genid_client *c, void *arg);
static size_t fetch(
    struct genid_client *c, uint64_t *dst, size_t n, size_t min, int single);
static void trail_add(struct genid_client *c);

struct genid_client *
genid_open(const char *const *addrs, size_t n, const struct genid_options *opt)
{
	static const struct genid_options defaults;
	struct genid_client *c;
	struct address *a;
	char why[128];
	size_t i;
	int has_port;

	if (opt == NULL)
		opt = &defaults;
	if (addrs == NULL || n == 0 || opt->connect_timeout_ms < 0 ||
	    opt->io_timeout_ms < 0 || opt->io_timeout_ms > INT_MAX - WAIT_MS ||
	    opt->prefetch > GENID_PREFETCH_MAX) {
		errno = EINVAL;
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->fd = -1;
	c->naddrs = n;
	c->connect_timeout_ms = opt->connect_timeout_ms != 0
	    ? opt->connect_timeout_ms
	    : DEFAULT_TIMEOUT_MS;
	c->io_timeout_ms =
	    opt->io_timeout_ms != 0 ? opt->io_timeout_ms : DEFAULT_TIMEOUT_MS;
	c->epoch = opt->epoch;
	c->precap = opt->prefetch;
	snprintf(c->err, sizeof(c->err), "no error");
	if ((c->addrs = calloc(n, sizeof(*c->addrs))) == NULL ||
	    (c->precap > 0 &&
		(c->pre = calloc(c->precap, sizeof(*c->pre))) == NULL)) {
		genid_close(c);
		errno = ENOMEM;
		return NULL;
	}
	for (i = 0; i < n; i++) {
		a = &c->addrs[i];
		a->port = GENID_PORT;
		if (addrs[i] == NULL ||
		    addr_parse(addrs[i], a->host, sizeof(a->host), &a->port,
			&has_port, why, sizeof(why)) == -1 ||
		    a->host[0] == '\0' || a->port == 0) {
			genid_close(c);
			errno = EINVAL;
			return NULL;
		}
		addr_format(a->host, a->port, a->name, sizeof(a->name));
	}
	return c;
}

int
genid_next(struct genid_client *c, uint64_t *id)
{
	size_t got;

	if (c->precap == 0) {
		if (fetch(c, id, 1, 1, 1) == 1)
			return 0;
		errno = c->errnum;
		return -1;
	}
	if (c->prepos < c->prelen && now_ms() - c->pre_ms > PREFETCH_AGE_MS)
		c->prepos = c->prelen = 0;
	if (c->prepos == c->prelen) {
		c->prepos = c->prelen = 0;
		if ((got = fetch(c, c->pre, c->precap, 1, 0)) == 0) {
			errno = c->errnum;
			return -1;
		}
		c->prelen = got;
		c->pre_ms = now_ms();
	}
	*id = c->pre[c->prepos++];
	return 0;
}

ssize_t
genid_bulk(struct genid_client *c, uint64_t *ids, size_t n)
{
	size_t got = 0;

	if (n > SSIZE_MAX) {
		set_error(c, EINVAL, "genid_bulk: %zu IDs is too many", n);
		errno = EINVAL;
		return -1;
	}
	/*
	 * The prefetched IDs come first: they are older than any the
	 * connection gives now, and the caller sees one increasing run.
	 */
	if (c->prepos < c->prelen && now_ms() - c->pre_ms <= PREFETCH_AGE_MS) {
		got = c->prelen - c->prepos < n ? c->prelen - c->prepos : n;
		memcpy(ids, c->pre + c->prepos, got * sizeof(*ids));
		c->prepos += got;
	} else
		c->prepos = c->prelen = 0;
	if (got < n)
		got += fetch(c, ids + got, n - got, n - got, 0);
	if (got == 0 && n > 0) {
		errno = c->errnum;
		return -1;
	}
	if (got < n)
		errno = c->errnum;
	return (ssize_t)got;
}

int
genid_info(struct genid_client *c, char *json, size_t len)
{
	struct info in = {json, len, 0};

	if (call(c, 0, info_req, &in) == -1) {
		errno = c->errnum;
		return -1;
	}
	/* A whole INFO that says serving spares the check before IDs. */
	if (in.total < len && !not_serving(json, NULL, NULL))
		c->vetted = 1;
	return (int)in.total;
}

const char *
genid_strerror(const struct genid_client *c)
{
	return c != NULL ? c->err : "no client";
}

const char *
genid_server(const struct genid_client *c)
{
	return c->fd != -1 ? c->addrs[c->cur].name : NULL;
}

void
genid_close(struct genid_client *c)
{
	if (c == NULL)
		return;
	server_close(c);
	free(c->pre);
	free(c->addrs);
	free(c);
}

void
genid_decode(uint64_t id, struct genid_fields *f)
{
	struct id_fields core;

	id_decode(id, &core);
	f->ts = core.ts;
	f->zone = core.zone;
	f->dc = core.dc;
	f->machine = core.machine;
	f->bucket = core.bucket;
	f->counter = core.counter;
}

uint64_t
genid_encode(const struct genid_fields *f)
{
	struct id_fields core;
	char why[128];

	core.ts = f->ts;
	core.zone = f->zone;
	core.dc = f->dc;
	core.machine = f->machine;
	core.bucket = f->bucket;
	core.counter = f->counter;
	if (id_check(&core, why, sizeof(why)) == -1) {
		errno = EINVAL;
		return 0;
	}
	return id_encode(&core);
}

int64_t
genid_time(const struct genid_client *c, uint64_t id)
{
	return id_unix_time(id, c->epoch);
}

/* Records the error of the last failure, like Redis' anetSetError. */
static void
set_error(struct genid_client *c, int errnum, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	c->errnum = errnum;
}

/*
 * genid closes a connection it refuses (allow list, connection limit)
 * without a word, and so does the HTTP server of its metrics_listen port
 * after waiting for a request: when nothing came, say what that likely
 * means.
 */
static void
set_closed(
    struct genid_client *c, int errnum, const char *what, const char *how)
{
	set_error(c, errnum, "%s %s: connection %s by the server%s", what,
	    c->addrs[c->cur].name, how,
	    c->answered ? ""
			: " (allow list or connection limit? or not a genid "
			  "port (metrics_listen?))");
}

/* strerror without its static buffer: clients live in several threads. */
static const char *
errstr(int errnum, char *buf, size_t len)
{
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
	return strerror_r(errnum, buf, len);
#else
	if (strerror_r(errnum, buf, len) != 0)
		snprintf(buf, len, "error %d", errnum);
	return buf;
#endif
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Runs req on the current connection, or on a new one, moving round the
 * addresses from the one that failed.  Each address is tried once; a
 * connection open from an earlier call may have been closed by the
 * server meanwhile (idle timeout, restart), so its address may come
 * round once more.  A request for IDs (ids) goes only to a server whose
 * INFO on this connection said it is serving; INFO itself to any.
 */
static int
call(struct genid_client *c, int ids, int (*req)(struct genid_client *, void *),
    void *arg)
{
	size_t tries, budget = c->naddrs + (c->fd != -1);

	c->trail[0] = '\0';
	for (tries = 0; tries < budget; tries++) {
		if ((c->fd != -1 || server_open(c) == 0) &&
		    (!ids || c->vetted || vet(c) == 0) && req(c, arg) == 0)
			return 0;
		trail_add(c);
		server_close(c);
		c->cur = (c->cur + 1) % c->naddrs;
	}
	/* One failure speaks for itself; several are listed in turn. */
	if (budget > 1)
		set_error(
		    c, c->errnum, "no genid server answered: %s", c->trail);
	return -1;
}

/* Appends the last error to the failures of this call. */
static void
trail_add(struct genid_client *c)
{
	size_t used = strlen(c->trail);

	snprintf(c->trail + used, sizeof(c->trail) - used, "%s%s",
	    used > 0 ? "; " : "", c->err);
}

/*
 * Gets IDs into dst until at least min of n are there or no server is
 * left; returns how many.  A round that brought nothing is followed by
 * one CMD 0, which waits in the server for the clock instead of
 * spinning here.
 */
static size_t
fetch(struct genid_client *c, uint64_t *dst, size_t n, size_t min, int single)
{
	struct round r;
	size_t got = 0, before;

	r.dst = dst;
	r.n = n;
	r.got = &got;
	r.single = single;
	while (got < min) {
		before = got;
		if (call(c, 1, round_req, &r) == -1)
			break;
		r.single = !r.single && got == before;
	}
	return got;
}

/*
 * Writes up to WINDOW CMD 1 frames for the IDs still missing (or one
 * CMD 0) and reads their replies.  A short reply (the bucket is used up
 * for this second) is not an error: the next round asks again.
 */
static int
round_req(struct genid_client *c, void *arg)
{
	struct round *r = arg;
	unsigned char req[WINDOW * 2], m;
	size_t frames, asked, i;

	if (r->single) {
		req[0] = 0;
		req[1] = 0;
		frames = 1;
	} else {
		for (frames = 0, asked = 0;
		     frames < WINDOW && *r->got + asked < r->n; frames++) {
			req[frames * 2] = 1;
			req[frames * 2 + 1] =
			    (unsigned char)(r->n - *r->got - asked < CHUNK
				    ? r->n - *r->got - asked
				    : CHUNK);
			asked += req[frames * 2 + 1];
		}
	}
	if (send_all(c, req, frames * 2) == -1)
		return -1;
	for (i = 0; i < frames; i++) {
		if (req[i * 2] == 0) {
			if (take_ids(c, r->dst, 1, r->got,
				c->io_timeout_ms + WAIT_MS) == -1)
				return -1;
			continue;
		}
		while (c->rpos == c->rlen)
			if (fill(c, c->io_timeout_ms) == -1)
				return -1;
		m = c->rbuf[c->rpos++];
		if (m > req[i * 2 + 1]) {
			set_error(c, EPROTO,
			    "read %s: %u IDs in reply to a"
			    " request for %u",
			    c->addrs[c->cur].name, m, req[i * 2 + 1]);
			return -1;
		}
		if (take_ids(c, r->dst, m, r->got, c->io_timeout_ms) == -1)
			return -1;
	}
	return 0;
}

/*
 * Reads m IDs into dst[*got...], counting each in *got as soon as it is
 * whole: IDs read before a connection breaks are kept.  An ID that is not
 * above the one before it on this connection would break the server's
 * promise of order, and maybe of uniqueness: it is not handed out.
 */
static int
take_ids(struct genid_client *c, uint64_t *dst, size_t m, size_t *got,
    int timeout_ms)
{
	const unsigned char *p;
	uint64_t id;
	size_t k;

	while (m > 0) {
		if (c->rlen - c->rpos < 8) {
			if (fill(c, timeout_ms) == -1)
				return -1;
			continue;
		}
		for (k = (c->rlen - c->rpos) / 8; k > 0 && m > 0; k--, m--) {
			p = c->rbuf + c->rpos;
			id = (uint64_t)p[0] << 56 | (uint64_t)p[1] << 48 |
			    (uint64_t)p[2] << 40 | (uint64_t)p[3] << 32 |
			    (uint64_t)p[4] << 24 | (uint64_t)p[5] << 16 |
			    (uint64_t)p[6] << 8 | p[7];
			if (c->nread > 0 && id <= c->last) {
				set_error(c, EPROTO,
				    "read %s: ID %llu is not"
				    " above the one before it, %llu",
				    c->addrs[c->cur].name,
				    (unsigned long long)id,
				    (unsigned long long)c->last);
				return -1;
			}
			c->rpos += 8;
			c->last = id;
			c->nread++;
			dst[(*got)++] = id;
		}
	}
	return 0;
}

/*
 * Whether the reply that starts with "HT" is an HTTP status line, as the
 * metrics_listen port of genid answers a frame: 1 with the error set, or
 * 0 (then it may be an INFO of that length, read on).
 */
static int
http_reply(struct genid_client *c)
{
	const unsigned char *line;
	size_t n;

	while (c->rlen - c->rpos < 5 && fill(c, c->io_timeout_ms) == 0)
		;
	line = c->rbuf + c->rpos;
	if (c->rlen - c->rpos < 5 || memcmp(line, "HTTP/", 5) != 0)
		return 0;
	for (n = 0; n < c->rlen - c->rpos && n < 40 && line[n] >= 0x20 &&
	     line[n] < 0x7f;
	     n++)
		;
	set_error(c, EPROTO,
	    "read %s: an HTTP server answered (\"%.*s\"), not genid: this"
	    " is likely a metrics_listen port; give the address of genid's"
	    " \"listen\" instead",
	    c->addrs[c->cur].name, (int)n, (const char *)line);
	return 1;
}

/* Reads the INFO reply: a 2-byte length, then the JSON text. */
static int
info_req(struct genid_client *c, void *arg)
{
	static const unsigned char req[2] = {2, 0};
	struct info *in = arg;
	size_t left, k, room;

	if (send_all(c, req, sizeof(req)) == -1)
		return -1;
	while (c->rlen - c->rpos < 2)
		if (fill(c, c->io_timeout_ms) == -1)
			return -1;
	if (memcmp(c->rbuf + c->rpos, "HT", 2) == 0 && http_reply(c) == 1)
		return -1;
	in->total = (size_t)c->rbuf[c->rpos] << 8 | c->rbuf[c->rpos + 1];
	c->rpos += 2;
	for (left = in->total; left > 0; left -= k) {
		while (c->rpos == c->rlen)
			if (fill(c, c->io_timeout_ms) == -1)
				return -1;
		k = c->rlen - c->rpos < left ? c->rlen - c->rpos : left;
		room = in->len > 0 ? in->len - 1 : 0;
		if (in->total - left < room)
			memcpy(in->buf + (in->total - left), c->rbuf + c->rpos,
			    room - (in->total - left) < k
				? room - (in->total - left)
				: k);
		c->rpos += k;
	}
	if (in->len > 0)
		in->buf[in->total < in->len ? in->total : in->len - 1] = '\0';
	return 0;
}

/*
 * Asks the server of the new connection for INFO: a state other than
 * "serving" (a clock behind its buckets, a checkpoint that cannot be
 * synced, a drain, a peer with its identity) makes it count as down, so
 * that the call moves on.  A server that names no state (older than
 * issue 9) is taken as serving.
 */
static int
vet(struct genid_client *c)
{
	char json[2048];
	struct info in = {json, sizeof(json), 0};
	const char *state;
	size_t n;

	if (info_req(c, &in) == -1)
		return -1;
	if (not_serving(json, &state, &n)) {
		set_error(c, EAGAIN, "%s is not serving: its state is %.*s",
		    c->addrs[c->cur].name, (int)(n > 64 ? 64 : n), state);
		return -1;
	}
	c->vetted = 1;
	return 0;
}

/*
 * Whether the INFO text json names a state other than "serving"; 1 with
 * the state's text in *state and its length in *n (when not NULL), or 0.
 */
static int
not_serving(const char *json, const char **state, size_t *n)
{
	static const char key[] = "\"state\"";
	const char *p;
	size_t len;

	if ((p = strstr(json, key)) == NULL)
		return 0;
	/* JSON may put blanks around the colon. */
	p += sizeof(key) - 1;
	p += strspn(p, " \t\r\n");
	p += *p == ':';
	p += strspn(p, " \t\r\n");
	p += *p == '"';
	len = strcspn(p, "\"");
	if (len == 7 && strncmp(p, "serving", 7) == 0)
		return 0;
	if (state != NULL) {
		*state = p;
		*n = len;
	}
	return 1;
}

/* Connects to the current address, trying each address it resolves to. */
static int
server_open(struct genid_client *c)
{
	const struct address *a = &c->addrs[c->cur];
	struct addrinfo hints, *res, *ai;
	char port[8], buf[128];
	int r;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%u", a->port);
	/*
	 * ENXIO, not EHOSTUNREACH: connect(2) gives that one for a host that
	 * resolved but cannot be reached, and callers tell the two apart.
	 */
	if ((r = getaddrinfo(a->host, port, &hints, &res)) != 0) {
		set_error(c, ENXIO, "resolve %s: %s", a->name,
		    r == EAI_SYSTEM ? errstr(errno, buf, sizeof(buf))
				    : gai_strerror(r));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next)
		if (connect_one(c, a, ai) == 0)
			break;
	freeaddrinfo(res);
	if (c->fd == -1)
		return -1;
	c->rpos = c->rlen = 0;
	c->nread = 0;
	c->answered = 0;
	c->vetted = 0;
	return 0;
}

static int
connect_one(
    struct genid_client *c, const struct address *a, const struct addrinfo *ai)
{
	char buf[128];
	int one = 1, soerr = 0;
	socklen_t sl = sizeof(soerr);

	c->fd = socket(ai->ai_family,
	    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	if (c->fd == -1) {
		set_error(c, errno, "socket for %s: %s", a->name,
		    errstr(errno, buf, sizeof(buf)));
		return -1;
	}
	if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) == -1) {
		if (errno != EINPROGRESS) {
			set_error(c, errno, "connect %s: %s", a->name,
			    errstr(errno, buf, sizeof(buf)));
			server_close(c);
			return -1;
		}
		if (wait_fd(c, POLLOUT, c->connect_timeout_ms, "connect") ==
		    -1) {
			server_close(c);
			return -1;
		}
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == -1)
			soerr = errno;
		if (soerr != 0) {
			set_error(c, soerr, "connect %s: %s", a->name,
			    errstr(soerr, buf, sizeof(buf)));
			server_close(c);
			return -1;
		}
	}
	/* Requests are 2-byte frames: send each at once. */
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return 0;
}

/*
 * Closing drops whatever the server still sends: replies to requests
 * that are asked again elsewhere, so IDs are skipped, never repeated.
 */
static void
server_close(struct genid_client *c)
{
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	c->rpos = c->rlen = 0;
}

/* Waits until the connection is ready for events, at most timeout_ms. */
static int
wait_fd(struct genid_client *c, short events, int timeout_ms, const char *what)
{
	struct pollfd pfd;
	int64_t deadline = now_ms() + timeout_ms, left;
	char buf[128];
	int r;

	pfd.fd = c->fd;
	pfd.events = events;
	for (;;) {
		left = deadline - now_ms();
		r = poll(&pfd, 1, left > 0 ? (int)left : 0);
		if (r > 0)
			return 0;
		if (r == 0) {
			set_error(c, ETIMEDOUT, "%s %s: timed out after %d ms",
			    what, c->addrs[c->cur].name, timeout_ms);
			return -1;
		}
		if (errno != EINTR) {
			set_error(c, errno, "poll %s: %s",
			    c->addrs[c->cur].name,
			    errstr(errno, buf, sizeof(buf)));
			return -1;
		}
	}
}

static int
send_all(struct genid_client *c, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	char ebuf[128];
	ssize_t n;

	while (len > 0) {
		n = send(c->fd, p, len, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (wait_fd(c, POLLOUT, c->io_timeout_ms, "write") ==
			    -1)
				return -1;
			continue;
		}
		if (n == -1 && (errno == EPIPE || errno == ECONNRESET)) {
			set_closed(c, errno, "write",
			    errno == EPIPE ? "closed" : "reset");
			return -1;
		}
		if (n == -1) {
			set_error(c, errno, "write %s: %s",
			    c->addrs[c->cur].name,
			    errstr(errno, ebuf, sizeof(ebuf)));
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads what the server has sent into rbuf, waiting at most timeout_ms. */
static int
fill(struct genid_client *c, int timeout_ms)
{
	char buf[128];
	ssize_t n;

	if (c->rpos > 0) {
		memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
		c->rlen -= c->rpos;
		c->rpos = 0;
	}
	for (;;) {
		n = recv(
		    c->fd, c->rbuf + c->rlen, sizeof(c->rbuf) - c->rlen, 0);
		if (n > 0) {
			c->rlen += (size_t)n;
			c->answered = 1;
			return 0;
		}
		if (n == 0 || errno == ECONNRESET) {
			set_closed(
			    c, ECONNRESET, "read", n == 0 ? "closed" : "reset");
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (wait_fd(c, POLLIN, timeout_ms, "read") == -1)
				return -1;
			continue;
		}
		set_error(c, errno, "read %s: %s", c->addrs[c->cur].name,
		    errstr(errno, buf, sizeof(buf)));
		return -1;
	}
}
