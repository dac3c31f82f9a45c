/*
 * conn.c - one client connection: parse pipelined 2-byte frames in bulk,
 * generate IDs from the connection's bucket, gather the replies into one
 * write.  Nothing is allocated per request: input and output are served
 * from the worker's buffers, and a connection holds memory of its own only
 * while output is pending or input waits to be served.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bucket.h"
#include "checkpoint.h"
#include "conn.h"
#include "id.h"
#include "log.h"
#include "worker.h"

/* Room one reply needs at most: CMD 1 with 255 IDs; INFO is smaller. */
#define REPLY_MAX (1 + 8 * 255)

enum { CMD_ONE = 0, CMD_MANY = 1, CMD_INFO = 2 };

static void io_cb(struct ev_loop *loop, ev_io *io, int revents);
static void feed(struct conn *c, const uint8_t *p, size_t len);
static size_t serve(struct conn *c, const uint8_t *p, size_t len, size_t *outn);
static unsigned take(struct conn *c, uint64_t *word, unsigned want,
    uint64_t *ids, struct bucket_result *r);
static size_t info(struct conn *c, uint8_t *out, size_t room);
static int hold(struct conn *c, const uint8_t *p, size_t len);
static int send_out(struct conn *c, const uint8_t *buf, size_t len);
static void rearm(struct conn *c);
static void settle(struct conn *c);
static void touch(struct conn *c);

struct conn *
conn_new(struct worker *w, int fd, unsigned slot)
{
	struct conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->w = w;
	c->slot = (uint8_t)slot;
	c->bucket = (uint8_t)w->buckets[slot];
	ev_io_init(&c->io, io_cb, fd, EV_READ);
	ev_io_start(w->loop, &c->io);
	touch(c);
	return c;
}

/* Moves c to the most recently active end of the worker's list. */
static void
touch(struct conn *c)
{
	struct worker *w = c->w;

	c->last_active = ev_now(w->loop);
	if (w->lru_tail == c)
		return;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else if (w->lru_head == c)
		w->lru_head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->prev = w->lru_tail;
	c->next = NULL;
	if (w->lru_tail != NULL)
		w->lru_tail->next = c;
	else
		w->lru_head = c;
	w->lru_tail = c;
}

void
conn_close(struct conn *c)
{
	struct worker *w = c->w;
	struct conn **pp;

	ev_io_stop(w->loop, &c->io);
	close(c->io.fd);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		w->lru_head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	else
		w->lru_tail = c->prev;
	if (c->waiting)
		for (pp = &w->waiting; *pp != NULL; pp = &(*pp)->next_wait)
			if (*pp == c) {
				*pp = c->next_wait;
				break;
			}
	free(c->in);
	free(c->out);
	worker_conn_gone(w, c);
	free(c);
}

void
conn_shutdown(struct conn *c)
{
	c->draining = 1;
	settle(c);
}

/*
 * Closes a draining connection once everything it read was answered and
 * written; otherwise watches for what it needs next.
 */
static void
settle(struct conn *c)
{
	if (c->draining && c->out == NULL && !c->waiting && c->in_len < 2) {
		conn_close(c);
		return;
	}
	rearm(c);
}

/* Watches for what the connection needs next: output, input, or nothing. */
static void
rearm(struct conn *c)
{
	int events = c->out != NULL		      ? EV_WRITE
	    : c->waiting || c->closing || c->draining ? 0
						      : EV_READ;

	if (events == (c->io.events & (EV_READ | EV_WRITE)) &&
	    ev_is_active(&c->io))
		return;
	ev_io_stop(c->w->loop, &c->io);
	if (events != 0) {
		ev_io_set(&c->io, c->io.fd, events);
		ev_io_start(c->w->loop, &c->io);
	}
}

static void
io_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct conn *c = (struct conn *)io;
	struct worker *w = c->w;
	size_t have = c->in_len;
	ssize_t n;

	if (revents & EV_WRITE) {
		/* A client draining a long backlog is not idle. */
		touch(c);
		if (send_out(c, NULL, 0) == -1 ||
		    (c->out == NULL && c->closing)) {
			conn_close(c);
			return;
		}
		/*
		 * A connection waiting for the clock is on the worker's wait
		 * list and is resumed from there, never twice.
		 */
		if (c->out == NULL && !c->waiting)
			conn_resume(c);
		else
			rearm(c);
		return;
	}
	/* Only half a frame (at most one byte) can be held while reading. */
	if (have > 0)
		memcpy(w->in, c->in, have);
	n = read(io->fd, w->in + have, sizeof(w->in) - have);
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
		conn_close(c);
		return;
	}
	if (n == -1)
		return;
	w->reads++;
	touch(c);
	feed(c, w->in, have + (size_t)n);
}

void
conn_resume(struct conn *c)
{
	c->waiting = 0;
	/*
	 * Replies still pending go out first: serving now would put new
	 * replies ahead of them.  The write watcher resumes once they are out.
	 */
	if (c->out != NULL) {
		rearm(c);
		return;
	}
	if (c->in_len >= 2)
		feed(c, c->in, c->in_len);
	else
		settle(c);
}

/*
 * Serves whole frames from p until the input is used up, the output is
 * pending, or a CMD 0 has to wait for the clock; keeps the rest.
 */
static void
feed(struct conn *c, const uint8_t *p, size_t len)
{
	size_t used, outn;

	for (;;) {
		outn = 0;
		used = serve(c, p, len, &outn);
		p += used;
		len -= used;
		if (outn > 0 && send_out(c, c->w->out, outn) == -1) {
			conn_close(c);
			return;
		}
		if (c->closing || len < 2 || c->out != NULL || c->waiting)
			break;
	}
	if (c->closing && c->out == NULL) {
		conn_close(c);
		return;
	}
	if (hold(c, p, len) == -1) {
		log_warnx("out of memory holding %zu bytes of input: closing"
			  " fd %d",
		    len, c->io.fd);
		conn_close(c);
		return;
	}
	if (c->waiting) {
		c->next_wait = c->w->waiting;
		c->w->waiting = c;
		worker_wait_arm(c->w);
	}
	settle(c);
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
 * does not take is kept in c->out, and reading pauses until it is gone.
 */
static int
send_out(struct conn *c, const uint8_t *buf, size_t len)
{
	ssize_t n;
	uint8_t *nb;

	if (buf != NULL && c->out != NULL) {
		/* Never ahead of replies still pending: queue behind them. */
		if ((nb = realloc(c->out, c->out_len + len)) == NULL) {
			log_warnx("out of memory keeping %zu bytes of replies:"
				  " closing fd %d",
			    c->out_len + len, c->io.fd);
			return -1;
		}
		memcpy(nb + c->out_len, buf, len);
		c->out = nb;
		c->out_len += (uint32_t)len;
		return 0;
	}
	if (buf == NULL) {
		buf = c->out + c->out_off;
		len = c->out_len - c->out_off;
	}
	n = write(c->io.fd, buf, len);
	if (n == -1) {
		if (errno != EAGAIN && errno != EINTR)
			return -1;
		n = 0;
	}
	if ((size_t)n == len) {
		free(c->out);
		c->out = NULL;
		c->out_len = c->out_off = 0;
		return 0;
	}
	if (c->out != NULL && buf == c->out + c->out_off) {
		c->out_off += (uint32_t)n;
		return 0;
	}
	if ((c->out = malloc(len - (size_t)n)) == NULL) {
		log_warnx("out of memory keeping %zu bytes of replies: closing"
			  " fd %d",
		    len - (size_t)n, c->io.fd);
		return -1;
	}
	memcpy(c->out, buf + n, len - (size_t)n);
	c->out_len = (uint32_t)(len - (size_t)n);
	c->out_off = 0;
	return 0;
}

static void
put_id(uint8_t *out, uint64_t id)
{
	uint64_t be = htobe64(id);

	memcpy(out, &be, sizeof(be));
}

/*
 * The frames of p, served into the worker's output buffer after *outn
 * bytes.  Returns the input bytes used, always whole frames.
 */
static size_t
serve(struct conn *c, const uint8_t *p, size_t len, size_t *outn)
{
	struct worker *w = c->w;
	struct state_bucket *b = state_bucket(w->sf->h, c->bucket);
	uint8_t *out = w->out + *outn, *end = w->out + sizeof(w->out);
	uint64_t word = state_load(&b->word), ids[256], requests = 0,
		 issued = 0;
	struct bucket_result r;
	size_t i = 0;
	unsigned k, n, j;

	while (len - i >= 2 && end - out >= REPLY_MAX) {
		switch (p[i]) {
		case CMD_ONE:
			/* A run of pipelined CMD 0 frames takes its IDs at
			 * once. */
			for (k = 1; k < 256 && len - i - 2 * k >= 2 &&
			     p[i + 2 * k] == CMD_ONE &&
			     end - out >= REPLY_MAX + 8 * (k + 1);
			     k++)
				;
			n = take(c, &word, k, ids, &r);
			for (j = 0; j < n; j++, out += 8)
				put_id(out, ids[j]);
			i += 2 * (size_t)n;
			requests += n;
			issued += n;
			if (n < k) {
				/* The rest waits for the clock, not a short
				 * reply. */
				c->waiting = 1;
				state_add(&b->waits, 1);
				goto done;
			}
			break;
		case CMD_MANY:
			k = p[i + 1];
			n = take(c, &word, k, ids, &r);
			*out++ = (uint8_t)n;
			for (j = 0; j < n; j++, out += 8)
				put_id(out, ids[j]);
			if (n < k)
				state_add(&b->shorts, 1);
			i += 2;
			requests++;
			issued += n;
			break;
		case CMD_INFO:
			out += info(c, out, (size_t)(end - out));
			i += 2;
			requests++;
			break;
		default:
			worker_bad_request(w, p[i], c->io.fd);
			c->closing = 1;
			goto done;
		}
	}
done:
	if (requests > 0) {
		state_add(&b->requests, requests);
		state_add(&b->ids, issued);
	}
	*outn = (size_t)(out - w->out);
	return i;
}

/*
 * Takes up to want IDs, raising the checkpoint when it is in the way.  The
 * bucket word is stored before the IDs can leave the process.
 */
static unsigned
take(struct conn *c, uint64_t *word, unsigned want, uint64_t *ids,
    struct bucket_result *r)
{
	struct worker *w = c->w;
	struct state_header *h = w->sf->h;
	struct bucket_limits lim;
	struct timespec ts;
	unsigned n = 0;

	/*
	 * The precise clock: a CMD 0 that waits is woken just after the
	 * second turns, and a coarse clock may not have turned by then.
	 */
	clock_gettime(CLOCK_REALTIME, &ts);
	lim.now = ts.tv_sec <= h->epoch ? 0
	    : ts.tv_sec - h->epoch >= UINT32_MAX
	    ? UINT32_MAX
	    : (uint32_t)(ts.tv_sec - h->epoch);
	lim.max_ahead = w->cfg->max_ahead_s;
	for (;;) {
		lim.checkpoint = (uint32_t)state_load(&h->checkpoint_safe);
		n += bucket_take(
		    word, w->bases[c->bucket], &lim, want - n, ids + n, r);
		state_store(&state_bucket(h, c->bucket)->word, *word);
		if (r->stop != BUCKET_CHECKPOINT)
			break;
		/* The master's timer fell behind: move the mark ourselves. */
		if (checkpoint_raise(w->sf,
			bucket_checkpoint_target(
			    r->need > lim.now ? r->need : lim.now,
			    lim.max_ahead)) == -1) {
			log_warn(
			    "msync %s (raising the checkpoint)", w->sf->path);
			break;
		}
		state_add(&w->slot->checkpoint_raises, 1);
	}
	return n;
}

static size_t
info(struct conn *c, uint8_t *out, size_t room)
{
	struct worker *w = c->w;
	struct state_header *h = w->sf->h;
	int64_t now = (int64_t)time(NULL);
	int len;

	len = snprintf((char *)out + 2, room - 2,
	    "{\"version\":\"%s\",\"zone\":%u,\"dc\":%u,\"machine\":%u,"
	    "\"epoch\":%lld,\"buckets\":%u,\"workers\":%u,\"pid\":%lld,"
	    "\"worker_pid\":%lld,\"uptime_s\":%lld,\"now\":%lld,"
	    "\"checkpoint\":%lld,\"bucket\":%u,\"instance\":\"%016llx\"}",
	    PACKAGE_VERSION, h->zone, h->dc, h->machine, (long long)h->epoch,
	    STATE_BUCKETS, w->nworkers, (long long)h->master_pid,
	    (long long)getpid(), (long long)(now - h->started), (long long)now,
	    (long long)(state_load(&h->checkpoint) + (uint64_t)h->epoch),
	    c->bucket, (unsigned long long)h->instance);
	out[0] = (uint8_t)(len >> 8);
	out[1] = (uint8_t)len;
	return (size_t)len + 2;
}
