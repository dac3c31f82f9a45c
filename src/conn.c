/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conn.c - a worker's client connections.  The hot path is
 *
 *	io_cb -> conn_read -> serve -> proto_serve -> flush -> advance
 *
 * and advance() is the one place that decides what a connection does
 * next.  Nothing is allocated per request: input and output go through
 * the set's buffers, and a connection holds memory of its own only while
 * output is pending or input waits to be served.
 */
#include <bsd/sys/queue.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "log.h"
#include "ratelimit.h"
#include "sock.h"

#define CONNS_INBUF (64 * 1024)
#define CONNS_OUTBUF (256 * 1024)
/* At most one message of a kind a second. */
#define LOG_INTERVAL_S 1.0

struct conn {
	ev_io io; /* first: the watcher is the connection */
	struct conns *cs;
	TAILQ_ENTRY(conn) lru;	/* the set's activity list */
	TAILQ_ENTRY(conn) wait; /* the set's wait list, while waiting */
	uint8_t *in;  /* input not served yet: whole frames while output is
			 pending or a CMD 0 waits, else half a frame */
	uint8_t *out; /* output not written yet, only while some is left */
	uint32_t in_len;
	uint32_t out_len;
	uint32_t out_off;
	ev_tstamp last_active; /* for the idle timeout */
	uint8_t bucket;	       /* index into the state bucket table */
	uint8_t waiting : 1;   /* a CMD 0 waits for the clock */
	uint8_t closing : 1;   /* bad request: close once the output is out */
	uint8_t draining : 1;  /* shutdown: read no more, serve what was read */
};

TAILQ_HEAD(conn_list, conn);

struct conns {
	struct ev_loop *loop;
	const struct proto_node *node;
	struct conns_hooks hooks;
	void *arg;
	struct conn_list lru;	  /* least recently active first */
	struct conn_list waiting; /* CMD 0 waiting for the clock */
	unsigned n;
	unsigned reads;
	struct ratelimit bad_log;  /* messages about unknown commands */
	struct ratelimit sync_log; /* messages about a failed msync */
	uint8_t in[CONNS_INBUF];
	uint8_t out[CONNS_OUTBUF];
};

static void io_cb(struct ev_loop *loop, ev_io *io, int revents);
static void advance(struct conn *c);
static int conn_read(struct conn *c);
static int serve(struct conn *c, const uint8_t *p, size_t len);
static int flush(struct conn *c, const uint8_t *buf, size_t len);
static int hold(struct conn *c, const uint8_t *p, size_t len);
static void watch(struct conn *c, int events);
static void touch(struct conn *c);
static void bad_request(struct conn *c, unsigned cmd);
static void sync_failed(struct conns *cs, int errnum);
static void conn_close(struct conn *c);

struct conns *
conns_new(struct ev_loop *loop, const struct proto_node *node,
    const struct conns_hooks *hooks, void *arg)
{
	struct conns *cs;

	if ((cs = calloc(1, sizeof(*cs))) == NULL)
		return NULL;
	cs->loop = loop;
	cs->node = node;
	cs->hooks = *hooks;
	cs->arg = arg;
	TAILQ_INIT(&cs->lru);
	TAILQ_INIT(&cs->waiting);
	ratelimit_init(&cs->bad_log, LOG_INTERVAL_S);
	ratelimit_init(&cs->sync_log, LOG_INTERVAL_S);
	return cs;
}

int
conn_open(struct conns *cs, int fd, unsigned bucket)
{
	struct state_bucket *b = state_bucket(cs->node->sf->h, bucket);
	struct state_worker *slot = cs->node->slot;
	struct conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -1;
	c->cs = cs;
	c->bucket = (uint8_t)bucket;
	c->last_active = ev_now(cs->loop);
	TAILQ_INSERT_TAIL(&cs->lru, c, lru);
	cs->n++;
	state_store(&slot->conns, cs->n);
	state_add(&slot->conns_total, 1);
	state_add(&b->conns, 1);
	state_add(&b->conns_total, 1);
	ev_io_init(&c->io, io_cb, fd, EV_READ);
	ev_io_start(cs->loop, &c->io);
	return 0;
}

static void
conn_close(struct conn *c)
{
	struct conns *cs = c->cs;
	struct state_bucket *b = state_bucket(cs->node->sf->h, c->bucket);

	ev_io_stop(cs->loop, &c->io);
	close(c->io.fd);
	TAILQ_REMOVE(&cs->lru, c, lru);
	if (c->waiting)
		TAILQ_REMOVE(&cs->waiting, c, wait);
	free(c->in);
	free(c->out);
	free(c);
	cs->n--;
	state_store(&cs->node->slot->conns, cs->n);
	state_store(&b->conns, state_load(&b->conns) - 1);
	cs->hooks.gone(cs->arg);
}

static void
io_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct conn *c = (struct conn *)io;

	touch(c);
	if (revents & EV_WRITE) {
		if (flush(c, NULL, 0) == -1) {
			conn_close(c);
			return;
		}
	} else if (conn_read(c) == -1)
		return;
	advance(c);
}

/*
 * The one place that decides what a connection does next: serve the
 * frames it holds, then write what is pending, close, wait for the clock
 * or read.  Pending replies always go out before new ones are made.
 */
static void
advance(struct conn *c)
{
	while (c->out == NULL && !c->waiting && !c->closing && c->in_len >= 2)
		if (serve(c, c->in, c->in_len) == -1)
			return;
	if (c->out != NULL)
		watch(c, EV_WRITE);
	else if (c->closing || (c->draining && !c->waiting))
		conn_close(c);
	else
		watch(c, c->waiting || c->draining ? 0 : EV_READ);
}

/* Reads and serves what arrived.  0, or -1 when c was closed. */
static int
conn_read(struct conn *c)
{
	struct conns *cs = c->cs;
	size_t have = c->in_len; /* at most half a frame while reading */
	ssize_t n;

	if (have > 0)
		memcpy(cs->in, c->in, have);
	n = read(c->io.fd, cs->in + have, sizeof(cs->in) - have);
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
		conn_close(c);
		return -1;
	}
	if (n == -1)
		return 0;
	cs->reads++;
	return serve(c, cs->in, have + (size_t)n);
}

/*
 * Serves the frames of p until they are used up, output is left pending,
 * a CMD 0 waits or a command is unknown, and holds the rest.  0, or -1
 * when c was closed.
 */
static int
serve(struct conn *c, const uint8_t *p, size_t len)
{
	struct conns *cs = c->cs;
	struct proto_result r;

	do {
		r = proto_serve(
		    cs->node, c->bucket, p, len, cs->out, sizeof(cs->out));
		p += r.used;
		len -= r.used;
		if (r.raise_errno != 0)
			sync_failed(cs, r.raise_errno);
		if (r.written > 0 && flush(c, cs->out, r.written) == -1) {
			conn_close(c);
			return -1;
		}
	} while (r.stop == PROTO_MORE && len >= 2 && c->out == NULL);
	if (r.stop == PROTO_DAMAGED)
		cs->hooks.damaged(cs->arg, &r.damage);
	if (r.stop == PROTO_WAIT) {
		c->waiting = 1;
		TAILQ_INSERT_TAIL(&cs->waiting, c, wait);
		cs->hooks.wait(cs->arg);
	} else if (r.stop == PROTO_BAD) {
		bad_request(c, r.cmd);
		c->closing = 1;
		len = 0;
	}
	if (hold(c, p, len) == -1) {
		log_warnx("out of memory holding %zu bytes of input: closing"
			  " fd %d",
		    len, c->io.fd);
		conn_close(c);
		return -1;
	}
	return 0;
}

/* Keeps len bytes at p (which may lie inside c->in) as c->in. */
static int
hold(struct conn *c, const uint8_t *p, size_t len)
{
	uint8_t *nb;

	if (len == 0) {
		free(c->in);
		c->in = NULL;
		c->in_len = 0;
		return 0;
	}
	if (c->in != NULL && p >= c->in && p < c->in + c->in_len) {
		memmove(c->in, p, len);
		c->in_len = (uint32_t)len;
		return 0;
	}
	if ((nb = realloc(c->in, len)) == NULL)
		return -1;
	memcpy(nb, p, len);
	c->in = nb;
	c->in_len = (uint32_t)len;
	return 0;
}

/*
 * Writes buf, or with buf NULL the pending output; whatever the socket
 * does not take is kept in c->out, behind any output already pending.
 * 0, or -1 when the connection is to be closed.
 */
static int
flush(struct conn *c, const uint8_t *buf, size_t len)
{
	size_t keep;
	ssize_t n;
	uint8_t *nb;

	if (buf != NULL && c->out != NULL) {
		n = 0;
		goto queue;
	}
	if (buf == NULL) {
		buf = c->out + c->out_off;
		len = c->out_len - c->out_off;
	}
	if ((n = write(c->io.fd, buf, len)) == -1) {
		if (errno != EAGAIN && errno != EINTR)
			return -1;
		n = 0;
	}
	if (c->out != NULL) {
		/* buf was the pending output. */
		c->out_off += (uint32_t)n;
		if (c->out_off == c->out_len) {
			free(c->out);
			c->out = NULL;
			c->out_len = c->out_off = 0;
		}
		return 0;
	}
queue:
	if ((keep = len - (size_t)n) == 0)
		return 0;
	if ((nb = realloc(c->out, c->out_len + keep)) == NULL) {
		log_warnx("out of memory keeping %zu bytes of replies: closing"
			  " fd %d",
		    c->out_len + keep, c->io.fd);
		return -1;
	}
	memcpy(nb + c->out_len, buf + n, keep);
	c->out = nb;
	c->out_len += (uint32_t)keep;
	return 0;
}

/* Watches c for events (EV_READ, EV_WRITE or 0); changes only what differs. */
static void
watch(struct conn *c, int events)
{
	struct ev_loop *loop = c->cs->loop;

	if (events == (c->io.events & (EV_READ | EV_WRITE)) &&
	    (events == 0) == !ev_is_active(&c->io))
		return;
	ev_io_stop(loop, &c->io);
	if (events != 0) {
		ev_io_set(&c->io, c->io.fd, events);
		ev_io_start(loop, &c->io);
	}
}

/* Moves c to the most recently active end of the list. */
static void
touch(struct conn *c)
{
	struct conns *cs = c->cs;

	c->last_active = ev_now(cs->loop);
	if (TAILQ_NEXT(c, lru) == NULL)
		return;
	TAILQ_REMOVE(&cs->lru, c, lru);
	TAILQ_INSERT_TAIL(&cs->lru, c, lru);
}

/* Counts an unknown command and logs it, at most once a second. */
static void
bad_request(struct conn *c, unsigned cmd)
{
	struct conns *cs = c->cs;
	char peer[SOCK_NAME_LEN];
	unsigned held;

	state_add(&cs->node->slot->bad_requests, 1);
	if (!ratelimit_allow(&cs->bad_log, ev_now(cs->loop), &held))
		return;
	log_warnx("closing the connection from %s: unknown command 0x%02x"
		  " (%u more bad requests since the last message)",
	    sock_name(c->io.fd, SOCK_REMOTE, peer, sizeof(peer)), cmd, held);
}

/* Logs that the checkpoint could not be raised, at most once a second. */
static void
sync_failed(struct conns *cs, int errnum)
{
	unsigned held;

	if (!ratelimit_allow(&cs->sync_log, ev_now(cs->loop), &held))
		return;
	log_warnx("msync %s (raising the checkpoint): %s; IDs above the"
		  " checkpoint wait until it can be made durable (%u more"
		  " failures since the last message)",
	    cs->node->sf->path, strerror(errnum), held);
}

unsigned
conns_count(const struct conns *cs)
{
	return cs->n;
}

unsigned
conns_reads(struct conns *cs)
{
	unsigned n = cs->reads;

	cs->reads = 0;
	return n;
}

double
conns_close_idle(struct conns *cs, double timeout)
{
	ev_tstamp now = ev_now(cs->loop);
	struct conn *c;

	while ((c = TAILQ_FIRST(&cs->lru)) != NULL &&
	    now - c->last_active >= timeout)
		conn_close(c);
	return c != NULL ? c->last_active + timeout - now : timeout;
}

void
conns_wake(struct conns *cs)
{
	struct conn_list list;
	struct conn *c;

	/* A connection may start waiting again: it goes on a new list. */
	TAILQ_INIT(&list);
	TAILQ_CONCAT(&list, &cs->waiting, wait);
	while ((c = TAILQ_FIRST(&list)) != NULL) {
		TAILQ_REMOVE(&list, c, wait);
		c->waiting = 0;
		advance(c);
	}
}

void
conns_shutdown(struct conns *cs)
{
	struct conn *c, *next;

	/* Serving what was read closes only the connection served. */
	for (c = TAILQ_FIRST(&cs->lru); c != NULL; c = next) {
		next = TAILQ_NEXT(c, lru);
		c->draining = 1;
		advance(c);
	}
}
