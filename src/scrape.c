/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * scrape.c - a minimal HTTP/1.0 server in the master for Prometheus
 * scrapes: GET /metrics answers the text exposition of the state file's
 * counters, anything else an error; one request per connection.  A scrape
 * is cheap (one read of the table) and never touches the workers' hot path.
 *
 * A connection reads the request to the end of its headers (keeping only
 * the request line), writes the reply, then closes gracefully: it shuts
 * its side down and reads what the client still sends, so that unread
 * request bytes (a long header, a body) never turn the close into a reset
 * that would cut the reply.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "httpreq.h"
#include "log.h"
#include "metrics.h"
#include "ratelimit.h"
#include "scrape.h"

#define SCRAPE_MAX_FDS 8
#define SCRAPE_MAX_CONNS 16
/* Each step (request, reply, close) may take this long. */
#define SCRAPE_STEP_S 2.0
/* After an accept failure for want of descriptors or memory. */
#define SCRAPE_PAUSE_S 1.0
/* At most one warning of a kind this often. */
#define SCRAPE_WARN_S 60.0

enum scrape_state { READING, WRITING, LINGERING };

struct scrape_conn {
	ev_io io;
	ev_timer timer;
	struct scrape_conn *prev;
	struct scrape_conn *next;
	enum scrape_state state;
	struct httpreq req;
	char *resp;
	size_t resp_len;
	size_t resp_off;
};

static struct {
	const struct statefile *sf;
	ev_io listeners[SCRAPE_MAX_FDS];
	unsigned nlisteners;
	ev_timer pause;
	unsigned nconns;
	struct scrape_conn *conns;	      /* newest first */
	struct ratelimit busy, accept_failed; /* warnings */
} s;

static void accept_cb(struct ev_loop *loop, ev_io *io, int revents);
static void io_cb(struct ev_loop *loop, ev_io *io, int revents);
static void timeout_cb(struct ev_loop *loop, ev_timer *t, int revents);
static void pause_cb(struct ev_loop *loop, ev_timer *t, int revents);

static void
conn_free(struct ev_loop *loop, struct scrape_conn *c)
{
	ev_io_stop(loop, &c->io);
	ev_timer_stop(loop, &c->timer);
	close(c->io.fd);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		s.conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	free(c->resp);
	free(c);
	s.nconns--;
}

/* Moves c to the next step: new events to watch and a new deadline. */
static void
step(struct ev_loop *loop, struct scrape_conn *c, enum scrape_state state,
    int events)
{
	c->state = state;
	ev_io_stop(loop, &c->io);
	ev_io_set(&c->io, c->io.fd, events);
	ev_io_start(loop, &c->io);
	ev_timer_stop(loop, &c->timer);
	ev_timer_set(&c->timer, SCRAPE_STEP_S, 0);
	ev_timer_start(loop, &c->timer);
}

/* The Prometheus text of the counters as they are now, in a new buffer. */
static char *
exposition(size_t *len)
{
	struct metrics_snap snap;
	char *text = NULL;
	FILE *f;

	long long size;

	/* A file cut short would SIGBUS the read; the master stops the node. */
	if (statefile_health(s.sf, &size) == STATEFILE_TRUNCATED)
		return NULL;
	if ((f = open_memstream(&text, len)) == NULL)
		return NULL;
	metrics_read(&snap, s.sf->h);
	/* This process holds the lock; asking flock(2) would drop it. */
	snap.locked = 1;
	metrics_prometheus(f, &snap);
	metrics_process(f, PACKAGE_VERSION);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* Builds the whole reply to the request in c->req. */
static void
respond(struct scrape_conn *c)
{
	const char *status = "404 Not Found", *type = "text/plain";
	enum httpreq_route route;
	int head_only;
	char *body = NULL, *head;
	size_t body_len = 0;
	int n;

	route = httpreq_route(&c->req, &head_only);
	if (httpreq_not_http(&c->req))
		status = "400 Bad Request";
	else if (route == HTTPREQ_BAD_METHOD)
		status = "405 Method Not Allowed";
	else if (route == HTTPREQ_METRICS) {
		if ((body = exposition(&body_len)) == NULL) {
			status = "500 Internal Server Error";
			log_warn("metrics: open_memstream");
		} else {
			status = "200 OK";
			type = "text/plain; version=0.0.4; charset=utf-8";
		}
	}
	if (body == NULL) {
		body = strdup("genid serves its metrics at /metrics\n");
		body_len = body != NULL ? strlen(body) : 0;
	}
	n = asprintf(&head,
	    "HTTP/1.0 %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n",
	    status, type, body_len);
	if (n < 0 || (c->resp = malloc((size_t)n + body_len)) == NULL) {
		free(body);
		if (n >= 0)
			free(head);
		return;
	}
	memcpy(c->resp, head, (size_t)n);
	/* A HEAD request gets the headers of the GET, without the body. */
	if (body_len > 0 && !head_only)
		memcpy(c->resp + n, body, body_len);
	else
		body_len = 0;
	c->resp_len = (size_t)n + body_len;
	free(head);
	free(body);
}

static void
io_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct scrape_conn *c = (struct scrape_conn *)io;
	char buf[HTTPREQ_FEED_MAX];
	ssize_t n;

	if (c->state == WRITING) {
		n = write(
		    io->fd, c->resp + c->resp_off, c->resp_len - c->resp_off);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			conn_free(loop, c);
			return;
		}
		if ((c->resp_off += (size_t)n) < c->resp_len)
			return;
		shutdown(io->fd, SHUT_WR);
		step(loop, c, LINGERING, EV_READ);
		return;
	}
	n = read(io->fd, buf, sizeof(buf));
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_free(loop, c);
		return;
	}
	if (c->state == LINGERING)
		return;
	/*
	 * A genid client sent here by mistake waits for a reply to its frame:
	 * answer what is no HTTP at once, so that it learns what it reached
	 * (libgenid names an HTTP reply) instead of timing out.
	 */
	if (!httpreq_feed(&c->req, buf, (size_t)n) &&
	    !httpreq_not_http(&c->req))
		return;
	respond(c);
	if (c->resp == NULL) {
		conn_free(loop, c);
		return;
	}
	step(loop, c, WRITING, EV_WRITE);
}

static void
timeout_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	conn_free(loop, t->data);
}

static void
listening(struct ev_loop *loop, int on)
{
	unsigned i;

	for (i = 0; i < s.nlisteners; i++) {
		if (on)
			ev_io_start(loop, &s.listeners[i]);
		else
			ev_io_stop(loop, &s.listeners[i]);
	}
}

static void
pause_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	listening(loop, 1);
}

/*
 * Makes room for a new connection when all slots are taken: the oldest one
 * goes, whatever it is doing, so that clients that send nothing, or never
 * read their replies, cannot keep the scrapes out.  Returns whether there
 * is room.
 */
static int
make_room(struct ev_loop *loop)
{
	struct scrape_conn *c, *oldest = NULL;
	unsigned held;

	if (s.nconns < SCRAPE_MAX_CONNS)
		return 1;
	for (c = s.conns; c != NULL; c = c->next)
		oldest = c;
	if (ratelimit_allow(&s.busy, ev_now(loop), &held))
		log_warnx("metrics: %u scrape connections at once; closing the"
			  " oldest (%u more such messages since the last)",
		    s.nconns, held);
	if (oldest == NULL)
		return 0;
	conn_free(loop, oldest);
	return 1;
}

static void
accept_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct scrape_conn *c;
	unsigned held;
	int fd;

	fd = accept4(io->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1) {
		if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
			return;
		/*
		 * Out of descriptors or memory: the listener stays readable,
		 * so stop watching it for a while instead of spinning.
		 */
		if (ratelimit_allow(&s.accept_failed, ev_now(loop), &held))
			log_warn("metrics: accept (pausing %.0f s; %u more such"
				 " messages since the last)",
			    SCRAPE_PAUSE_S, held);
		listening(loop, 0);
		ev_timer_set(&s.pause, SCRAPE_PAUSE_S, 0);
		ev_timer_start(loop, &s.pause);
		return;
	}
	if (!make_room(loop) || (c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return;
	}
	s.nconns++;
	c->next = s.conns;
	if (s.conns != NULL)
		s.conns->prev = c;
	s.conns = c;
	ev_io_init(&c->io, io_cb, fd, EV_READ);
	ev_timer_init(&c->timer, timeout_cb, SCRAPE_STEP_S, 0);
	c->timer.data = c;
	step(loop, c, READING, EV_READ);
}

void
scrape_start(struct ev_loop *loop, const int *fds, unsigned nfds,
    const struct statefile *sf)
{
	unsigned i;

	s.sf = sf;
	ratelimit_init(&s.busy, SCRAPE_WARN_S);
	ratelimit_init(&s.accept_failed, SCRAPE_WARN_S);
	ev_timer_init(&s.pause, pause_cb, SCRAPE_PAUSE_S, 0);
	for (i = 0; i < nfds && i < SCRAPE_MAX_FDS; i++)
		ev_io_init(&s.listeners[i], accept_cb, fds[i], EV_READ);
	s.nlisteners = i;
	listening(loop, 1);
}

void
scrape_stop(struct ev_loop *loop)
{
	unsigned i;

	ev_timer_stop(loop, &s.pause);
	for (i = 0; i < s.nlisteners; i++) {
		ev_io_stop(loop, &s.listeners[i]);
		close(s.listeners[i].fd);
	}
	s.nlisteners = 0;
	while (s.conns != NULL)
		conn_free(loop, s.conns);
}
