/*
 * scrape.c - a minimal HTTP/1.0 server in the master for Prometheus
 * scrapes: GET /metrics answers the text exposition of the state file's
 * counters, anything else an error; one request per connection.  A scrape
 * is cheap (one read of the table) and never touches the workers' hot path.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "scrape.h"

#define SCRAPE_MAX_FDS 8
#define SCRAPE_MAX_CONNS 16
#define SCRAPE_REQ_MAX 2048
#define SCRAPE_TIMEOUT_S 5.0

struct scrape_conn {
	ev_io io;
	ev_timer timer;
	struct scrape_conn *prev;
	struct scrape_conn *next;
	char req[SCRAPE_REQ_MAX];
	size_t req_len;
	char *resp;
	size_t resp_len;
	size_t resp_off;
};

static struct {
	const struct statefile *sf;
	ev_io listeners[SCRAPE_MAX_FDS];
	unsigned nlisteners;
	unsigned nconns;
	struct scrape_conn *conns;
} s;

static void accept_cb(struct ev_loop *loop, ev_io *io, int revents);
static void io_cb(struct ev_loop *loop, ev_io *io, int revents);
static void timeout_cb(struct ev_loop *loop, ev_timer *t, int revents);

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

/* The Prometheus text of the counters as they are now, in a new buffer. */
static char *
exposition(size_t *len)
{
	struct metrics_snap snap;
	char *text = NULL;
	FILE *f;

	if ((f = open_memstream(&text, len)) == NULL)
		return NULL;
	metrics_read(&snap, s.sf->h);
	/* This process holds the lock; asking flock(2) would drop it. */
	snap.locked = 1;
	metrics_prometheus(f, &snap);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* Builds the whole reply for the request line in c->req. */
static void
respond(struct scrape_conn *c)
{
	const char *status = "404 Not Found", *type = "text/plain";
	char *body = NULL, *head;
	size_t body_len = 0;
	int n;

	if (strncmp(c->req, "GET ", 4) != 0 && strncmp(c->req, "HEAD ", 5) != 0)
		status = "405 Method Not Allowed";
	else if (strncmp(c->req + 4, "/metrics ", 9) == 0 ||
	    strncmp(c->req + 4, "/metrics?", 9) == 0 ||
	    strncmp(c->req + 5, "/metrics ", 9) == 0) {
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
	if (body_len > 0 && strncmp(c->req, "HEAD ", 5) != 0)
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
	ssize_t n;

	if (c->resp == NULL) {
		n = read(io->fd, c->req + c->req_len,
		    sizeof(c->req) - 1 - c->req_len);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			conn_free(loop, c);
			return;
		}
		c->req_len += (size_t)n;
		c->req[c->req_len] = '\0';
		/* The headers end with an empty line; a full buffer ends too.
		 */
		if (strstr(c->req, "\r\n\r\n") == NULL &&
		    strstr(c->req, "\n\n") == NULL &&
		    c->req_len < sizeof(c->req) - 1)
			return;
		respond(c);
		if (c->resp == NULL) {
			conn_free(loop, c);
			return;
		}
		ev_io_stop(loop, io);
		ev_io_set(io, io->fd, EV_WRITE);
		ev_io_start(loop, io);
		return;
	}
	n = write(io->fd, c->resp + c->resp_off, c->resp_len - c->resp_off);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0 || (c->resp_off += (size_t)n) == c->resp_len)
		conn_free(loop, c);
}

static void
timeout_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	conn_free(loop, t->data);
}

static void
accept_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct scrape_conn *c;
	int fd;

	if ((fd = accept4(io->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) ==
	    -1) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_warn("metrics: accept");
		return;
	}
	if (s.nconns >= SCRAPE_MAX_CONNS ||
	    (c = calloc(1, sizeof(*c))) == NULL) {
		log_warnx("metrics: %u scrapes at once already: closing one",
		    s.nconns);
		close(fd);
		return;
	}
	s.nconns++;
	c->next = s.conns;
	if (s.conns != NULL)
		s.conns->prev = c;
	s.conns = c;
	ev_io_init(&c->io, io_cb, fd, EV_READ);
	ev_io_start(loop, &c->io);
	ev_timer_init(&c->timer, timeout_cb, SCRAPE_TIMEOUT_S, 0);
	c->timer.data = c;
	ev_timer_start(loop, &c->timer);
}

void
scrape_start(struct ev_loop *loop, const int *fds, unsigned nfds,
    const struct statefile *sf)
{
	unsigned i;

	s.sf = sf;
	for (i = 0; i < nfds && i < SCRAPE_MAX_FDS; i++) {
		ev_io_init(&s.listeners[i], accept_cb, fds[i], EV_READ);
		ev_io_start(loop, &s.listeners[i]);
	}
	s.nlisteners = i;
}

void
scrape_stop(struct ev_loop *loop)
{
	unsigned i;

	for (i = 0; i < s.nlisteners; i++) {
		ev_io_stop(loop, &s.listeners[i]);
		close(s.listeners[i].fd);
	}
	s.nlisteners = 0;
	while (s.conns != NULL)
		conn_free(loop, s.conns);
}
