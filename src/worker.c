/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * worker.c - a worker process: takes over the buckets it owns (b mod
 * workers), accepts connections and pins each to its lightest bucket,
 * and runs one libev loop until SIGTERM.  What a connection does is
 * conn.c's; this file holds the process, its timers and accept.
 */
#include <bsd/unistd.h>
#include <errno.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "checkpoint.h"
#include "children.h"
#include "conn.h"
#include "log.h"
#include "sock.h"
#include "worker.h"

/* How long a worker lighter than the others lets them accept first. */
#define ACCEPT_YIELD_S 0.005
/* How long a worker stops accepting when out of descriptors. */
#define ACCEPT_PAUSE_S 0.1
/* Connections accepted in one turn of the loop at most. */
#define ACCEPT_BATCH 64
/*
 * After a storm of connections, once fewer than half of the peak are left
 * and TRIM_MIN were held, the freed memory goes back to the system this
 * long after (one trim for the whole fall).
 */
#define TRIM_DELAY_S 1.0
#define TRIM_MIN 256
/*
 * How long a CMD 0 waits in a slew before it tries again: the top moves
 * by a counter in about 20 microseconds, the loop need not wake as often.
 */
#define SLEW_WAIT_S 0.005

/* How long a stopping worker waits for pending replies to be written. */
#define DRAIN_S 1.0
/*
 * Under load the loop waits this long before polling again, so that one
 * epoll_wait returns many ready connections; a worker that served fewer
 * than COALESCE_READS reads since its last poll polls at once, and a lone
 * client never waits.
 */
#define COALESCE_S 0.0001
#define COALESCE_READS 8

struct worker {
	struct ev_loop *loop;
	const struct cfg *cfg;
	struct statefile *sf;
	struct state_worker *slot;
	unsigned id;
	unsigned buckets[STATE_BUCKETS]; /* the buckets this worker owns */
	unsigned nbuckets;
	unsigned max_conns;
	unsigned peak; /* most connections held since the last trim */
	int stopping;
	struct proto_guard guard; /* handed by the master, then our own */
	struct proto_node node;
	struct conns *conns;
	ev_io listeners[SOCK_MAX_FDS];
	unsigned nlisteners;
	ev_timer accept_timer; /* accepting again after a pause */
	ev_timer wait_timer;   /* waiting CMD 0 try again */
	ev_timer idle_timer;   /* idle connections closed */
	ev_timer drain_timer;  /* shutdown gives up on pending replies */
	ev_timer beat_timer;   /* the heartbeat the master watches */
	ev_timer trim_timer;   /* memory back to the system after a storm */
	ev_signal sig_term, sig_hup;
	ev_prepare coalesce;
};

static void worker_init(struct worker *w, const struct cfg *cfg,
    struct statefile *sf, const struct proto_guard *guard, const int *fds,
    unsigned nfds, unsigned id);
static void set_title(const struct worker *w);
static void accept_cb(struct ev_loop *loop, ev_io *io, int revents);
static void accept_resume_cb(struct ev_loop *loop, ev_timer *t, int revents);
static void wait_cb(struct ev_loop *loop, ev_timer *t, int revents);
static void idle_cb(struct ev_loop *loop, ev_timer *t, int revents);
static void drain_cb(struct ev_loop *loop, ev_timer *t, int revents);
static void coalesce_cb(struct ev_loop *loop, ev_prepare *p, int revents);
static void term_cb(struct ev_loop *loop, ev_signal *s, int revents);
static void hup_cb(struct ev_loop *loop, ev_signal *s, int revents);
static void conn_wait(void *arg);
static void conn_gone(void *arg);
static void conn_damaged(void *arg, const struct proto_damage *d);
static void beat_cb(struct ev_loop *loop, ev_timer *t, int revents);
static void trim_cb(struct ev_loop *loop, ev_timer *t, int revents);

void
worker_run(const struct cfg *cfg, struct statefile *sf,
    const struct proto_guard *guard, const int *fds, unsigned nfds, unsigned id)
{
	static struct worker w;
	pid_t master = getppid();

	/* A worker never outlives its master: the buckets belong to it. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != master ||
	    master == 1)
		_exit(WORKER_EXIT_FATAL);
	signal(SIGINT, SIG_IGN);
	worker_init(&w, cfg, sf, guard, fds, nfds, id);
	set_title(&w);
	log_debug("worker %u started", id);
	ev_run(w.loop, 0);
	log_debug("worker %u stopped", id);
	exit(0);
}

static void
worker_init(struct worker *w, const struct cfg *cfg, struct statefile *sf,
    const struct proto_guard *guard, const int *fds, unsigned nfds, unsigned id)
{
	static const struct conns_hooks hooks = {
	    conn_wait, conn_gone, conn_damaged};
	struct state_header *h = sf->h;
	unsigned b, i;

	w->loop = EV_DEFAULT;
	w->cfg = cfg;
	w->sf = sf;
	w->id = id;
	w->slot = state_worker(h, id);
	w->max_conns = (cfg->max_connections + cfg->workers - 1) / cfg->workers;
	for (b = 0; b < STATE_BUCKETS; b++) {
		if (state_bucket_owner(b, cfg->workers) != id)
			continue;
		w->buckets[w->nbuckets++] = b;
		/* The connections of this slot's last worker died with it. */
		state_store(&state_bucket(h, b)->conns, 0);
	}
	state_store(&w->slot->conns, 0);
	state_store((uint64_t *)&w->slot->started, (uint64_t)clock_real_s());
	state_store((uint64_t *)&w->slot->pid, (uint64_t)getpid());
	w->guard = *guard;
	w->node = (struct proto_node){
	    .sf = sf,
	    .slot = w->slot,
	    .guard = &w->guard,
	    .max_ahead = cfg->max_ahead_s,
	    .workers = cfg->workers,
	    .worker_pid = (long long)getpid(),
	    .clock = clock_real,
	    .raise = checkpoint_raise,
	    .mono_ms = clock_mono_ms,
	};
	if ((w->conns = conns_new(w->loop, &w->node, &hooks, w)) == NULL)
		fatalx(WORKER_EXIT_FATAL, "worker %u: out of memory", id);
	ev_set_userdata(w->loop, w);
	for (i = 0; i < nfds && i < SOCK_MAX_FDS; i++) {
		ev_io_init(&w->listeners[i], accept_cb, fds[i], EV_READ);
		ev_io_start(w->loop, &w->listeners[i]);
	}
	w->nlisteners = i;
	ev_init(&w->accept_timer, accept_resume_cb);
	ev_init(&w->wait_timer, wait_cb);
	ev_init(&w->idle_timer, idle_cb);
	ev_init(&w->drain_timer, drain_cb);
	ev_timer_init(&w->trim_timer, trim_cb, TRIM_DELAY_S, 0);
	/* A worker that stops beating is killed and respawned by the master. */
	statefile_beat(sf, id);
	ev_timer_init(
	    &w->beat_timer, beat_cb, STATEFILE_BEAT_S, STATEFILE_BEAT_S);
	ev_timer_start(w->loop, &w->beat_timer);
	ev_signal_init(&w->sig_term, term_cb, SIGTERM);
	ev_signal_start(w->loop, &w->sig_term);
	ev_signal_init(&w->sig_hup, hup_cb, SIGHUP);
	ev_signal_start(w->loop, &w->sig_hup);
	children_signals_taken(w->loop);
	ev_prepare_init(&w->coalesce, coalesce_cb);
	ev_prepare_start(w->loop, &w->coalesce);
	if (cfg->idle_timeout_s > 0) {
		ev_timer_set(&w->idle_timer, cfg->idle_timeout_s, 0);
		ev_timer_start(w->loop, &w->idle_timer);
	}
}

static void
beat_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct worker *w = ev_userdata(loop);

	statefile_beat(w->sf, w->id);
}

static void
set_title(const struct worker *w)
{
	char list[STATE_BUCKETS * 3 + 1];
	size_t len = 0;
	unsigned i;

	list[0] = '\0';
	for (i = 0; i < w->nbuckets; i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%u",
		    i ? "," : "", w->buckets[i]);
	setproctitle("worker %u buckets %s", w->id, list);
}

static void
listening(struct worker *w, int on)
{
	unsigned i;

	for (i = 0; i < w->nlisteners; i++) {
		if (on)
			ev_io_start(w->loop, &w->listeners[i]);
		else
			ev_io_stop(w->loop, &w->listeners[i]);
	}
}

static void
pause_accepting(struct worker *w, double secs)
{
	listening(w, 0);
	ev_timer_set(&w->accept_timer, secs, 0);
	ev_timer_start(w->loop, &w->accept_timer);
}

static void
accept_resume_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct worker *w = ev_userdata(loop);

	if (!w->stopping)
		listening(w, 1);
}

/* The fewest connections on any bucket of worker slot i. */
static uint64_t
lightest_load(const struct worker *w, unsigned i)
{
	uint64_t best = UINT64_MAX;
	unsigned b;

	for (b = 0; b < STATE_BUCKETS; b++) {
		uint64_t n;

		if (state_bucket_owner(b, w->cfg->workers) != i)
			continue;
		n = state_load(&state_bucket(w->sf->h, b)->conns);
		if (n < best)
			best = n;
	}
	return best;
}

/*
 * Whether another running worker has a bucket with fewer connections than
 * every bucket of ours: then it should take the next connection, so that
 * the node's load spreads over all of its buckets.  A worker whose
 * heartbeat is late (stopped, hung) is not waited for.
 */
static int
others_lighter(const struct worker *w)
{
	uint64_t mine = lightest_load(w, w->id);
	unsigned i;

	for (i = 0; i < w->cfg->workers; i++) {
		struct state_worker *o = state_worker(w->sf->h, i);

		if (i != w->id && state_load((const uint64_t *)&o->pid) != 0 &&
		    statefile_worker_live(w->sf, i) &&
		    lightest_load(w, i) < mine)
			return 1;
	}
	return 0;
}

/* The owned bucket with the fewest connections. */
static unsigned
lightest_bucket(const struct worker *w)
{
	uint64_t best = UINT64_MAX;
	unsigned i, bucket = w->buckets[0];

	for (i = 0; i < w->nbuckets; i++) {
		uint64_t n =
		    state_load(&state_bucket(w->sf->h, w->buckets[i])->conns);

		if (n < best) {
			best = n;
			bucket = w->buckets[i];
		}
	}
	return bucket;
}

static void
reject(struct worker *w, int fd, const char *why)
{
	/* Counted first: whoever sees the close may read the counter next. */
	state_add(&w->slot->rejected, 1);
	close(fd);
	log_debug("connection refused: %s", why);
}

static void
accept_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	struct worker *w = ev_userdata(loop);
	struct sockaddr_storage ss;
	socklen_t sslen;
	unsigned i;
	int fd, one = 1;

	for (i = 0; i < ACCEPT_BATCH; i++) {
		if (others_lighter(w)) {
			pause_accepting(w, ACCEPT_YIELD_S);
			return;
		}
		sslen = sizeof(ss);
		fd = accept4(io->fd, (struct sockaddr *)&ss, &sslen,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE) {
				log_warn("accept: raise the descriptor limit"
					 " (ulimit -n) or lower"
					 " max_connections");
				pause_accepting(w, ACCEPT_PAUSE_S);
			} else if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn("accept");
			return;
		}
		if (!cfg_allowed(w->cfg, (struct sockaddr *)&ss)) {
			reject(w, fd, "address not in allow");
			continue;
		}
		if (conns_count(w->conns) >= w->max_conns) {
			reject(w, fd, "max_connections reached");
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (conn_open(w->conns, fd, lightest_bucket(w)) == -1) {
			log_warnx("out of memory accepting a connection");
			reject(w, fd, "out of memory");
		} else if (conns_count(w->conns) > w->peak)
			w->peak = conns_count(w->conns);
	}
}

/*
 * A connection waits for the clock: wake it just after the next second,
 * or in a slew, whose top moves on through each second, a few ms later.
 */
static void
conn_wait(void *arg)
{
	struct worker *w = arg;
	struct timespec now;
	double in;

	if (ev_is_active(&w->wait_timer))
		return;
	/* Just after the wall clock's next second. */
	clock_real(&now);
	in = 1.001 - now.tv_nsec / 1e9;
	if ((int64_t)state_load(&w->sf->h->slew_end_ms) > clock_mono_ms() &&
	    in > SLEW_WAIT_S)
		in = SLEW_WAIT_S;
	ev_timer_set(&w->wait_timer, in, 0);
	ev_timer_start(w->loop, &w->wait_timer);
}

/*
 * The state file no longer holds what this worker left there: a copy, a
 * truncation or garbage written over it under the running node.  Nothing
 * more is issued; the master stops the node on this exit code.
 */
static void
conn_damaged(void *arg, const struct proto_damage *d)
{
	struct worker *w = arg;
	const char *what = d->why == BUCKET_WORD_BACK
	    ? "below the last word this worker issued"
	    : d->why == BUCKET_WORD_BEYOND
	    ? "beyond what its checkpoint covers"
	    : "while its checkpoint fell below what this worker issued";

	log_warnx("worker %u: bucket %u of %s holds second %u counter %u, %s"
		  " (second %u counter %u, checkpoint %u): the file was"
		  " changed under the running node (cut short, or written"
		  " over); no ID is issued from it: stopping the node",
	    w->id, d->bucket, w->sf->path, bucket_ts(d->shared),
	    bucket_next(d->shared), what, bucket_ts(d->own),
	    bucket_next(d->own), d->ckpt);
	_exit(WORKER_EXIT_DAMAGED);
}

static void
conn_gone(void *arg)
{
	struct worker *w = arg;
	unsigned n = conns_count(w->conns);

	if (w->stopping && n == 0)
		ev_break(w->loop, EVBREAK_ALL);
	if (w->peak >= TRIM_MIN && n < w->peak / 2 &&
	    !ev_is_active(&w->trim_timer))
		ev_timer_start(w->loop, &w->trim_timer);
}

/*
 * The connections' memory is freed to malloc, which keeps the pages of a
 * fragmented heap; malloc_trim gives the free ones back.
 */
static void
trim_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct worker *w = ev_userdata(loop);

	malloc_trim(0);
	w->peak = conns_count(w->conns);
}

static void
wait_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct worker *w = ev_userdata(loop);

	conns_wake(w->conns);
}

static void
idle_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct worker *w = ev_userdata(loop);

	ev_timer_set(t, conns_close_idle(w->conns, w->cfg->idle_timeout_s), 0);
	ev_timer_start(loop, t);
}

/* Before each poll: coalesce events only while many connections are busy. */
static void
coalesce_cb(struct ev_loop *loop, ev_prepare *p, int revents)
{
	struct worker *w = ev_userdata(loop);

	ev_set_io_collect_interval(
	    loop, conns_reads(w->conns) >= COALESCE_READS ? COALESCE_S : 0);
}

static void
drain_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct worker *w = ev_userdata(loop);

	log_warnx("worker %u: %u connections still had replies pending when"
		  " the drain time ran out",
	    w->id, conns_count(w->conns));
	ev_break(loop, EVBREAK_ALL);
}

static void
term_cb(struct ev_loop *loop, ev_signal *s, int revents)
{
	struct worker *w = ev_userdata(loop);
	unsigned i;

	if (w->stopping)
		return;
	w->stopping = 1;
	w->node.stopping = 1;
	listening(w, 0);
	ev_timer_stop(loop, &w->accept_timer);
	for (i = 0; i < w->nlisteners; i++)
		close(w->listeners[i].fd);
	ev_timer_stop(loop, &w->idle_timer);
	/* The wait timer runs on: a waiting CMD 0 is a reply to finish. */
	conns_shutdown(w->conns);
	if (conns_count(w->conns) == 0) {
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	ev_timer_set(&w->drain_timer, DRAIN_S, 0);
	ev_timer_start(loop, &w->drain_timer);
}

/*
 * The master reopened the same path as the same user first and logged a
 * failure once for the node: a worker failing too keeps its file quietly.
 */
static void
hup_cb(struct ev_loop *loop, ev_signal *s, int revents)
{
	char err[1024];

	(void)log_reopen(err, sizeof(err));
}
