/*
 * worker.c - a worker process: accepts connections for the buckets it
 * owns (b mod workers), balances them over those buckets, and runs one
 * libev loop until SIGTERM.
 */
#include <bsd/unistd.h>
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "id.h"
#include "log.h"
#include "worker.h"

/* How long a worker that has more connections than the others lets them
 * accept first. */
#define ACCEPT_YIELD_S 0.005
/* How long a worker stops accepting when out of descriptors. */
#define ACCEPT_PAUSE_S 0.1
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

static struct worker *worker_new(
    const struct cfg *cfg, struct statefile *sf, unsigned id);
static void accept_cb(struct ev_loop *loop, ev_io *io, int revents);
static void accept_resume_cb(struct ev_loop *loop, ev_timer *t, int revents);
static void term_cb(struct ev_loop *loop, ev_signal *s, int revents);
static void hup_cb(struct ev_loop *loop, ev_signal *s, int revents);
static void wait_cb(struct ev_loop *loop, ev_timer *t, int revents);
static void idle_cb(struct ev_loop *loop, ev_timer *t, int revents);
static void drain_cb(struct ev_loop *loop, ev_timer *t, int revents);
static void coalesce_cb(struct ev_loop *loop, ev_prepare *p, int revents);

static ev_io listeners[CFG_MAX_LISTEN];
static unsigned nlisteners;
static ev_timer accept_timer;
static ev_timer beat_timer; /* TEMP worker hook: the lead redoes this */

/* TEMP worker hook: the heartbeat the master's watchdog reads. */
static void
beat_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct worker *w = ev_userdata(loop);

	statefile_beat(w->sf, w->id);
}

static struct worker *
worker_new(const struct cfg *cfg, struct statefile *sf, unsigned id)
{
	struct state_header *h = sf->h;
	struct worker *w;
	unsigned b;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		fatalx(WORKER_EXIT_FATAL, "worker %u: out of memory", id);
	w->loop = EV_DEFAULT;
	w->cfg = cfg;
	w->sf = sf;
	w->id = id;
	w->nworkers = cfg->workers;
	w->slot = state_worker(h, id);
	w->max_conns = (cfg->max_connections + cfg->workers - 1) / cfg->workers;
	for (b = 0; b < STATE_BUCKETS; b++) {
		w->bases[b] = id_base(h->zone, h->dc, h->machine, b);
		if (state_bucket_owner(b, cfg->workers) != id)
			continue;
		w->buckets[w->nbuckets++] = b;
		/* Connections of a previous worker on this slot died with it.
		 */
		state_store(&state_bucket(h, b)->conns, 0);
	}
	state_store(&w->slot->conns, 0);
	state_store((uint64_t *)&w->slot->started, (uint64_t)time(NULL));
	state_store((uint64_t *)&w->slot->pid, (uint64_t)getpid());
	return w;
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

void
worker_run(const struct cfg *cfg, struct statefile *sf, const int *fds,
    unsigned nfds, unsigned id)
{
	static ev_signal sig_term, sig_hup;
	pid_t master = getppid();
	struct worker *w;
	unsigned i;

	/* A worker never outlives its master: the buckets belong to it. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != master ||
	    master == 1)
		_exit(WORKER_EXIT_FATAL);
	signal(SIGINT, SIG_IGN);
	w = worker_new(cfg, sf, id);
	set_title(w);
	ev_set_userdata(w->loop, w);
	for (i = 0; i < nfds; i++) {
		ev_io_init(&listeners[i], accept_cb, fds[i], EV_READ);
		ev_io_start(w->loop, &listeners[i]);
	}
	nlisteners = nfds;
	ev_timer_init(&accept_timer, accept_resume_cb, 0, 0);
	statefile_beat(sf, id);
	ev_timer_init(&beat_timer, beat_cb, STATEFILE_BEAT_S, STATEFILE_BEAT_S);
	ev_timer_start(w->loop, &beat_timer);
	ev_signal_init(&sig_term, term_cb, SIGTERM);
	ev_signal_start(w->loop, &sig_term);
	ev_signal_init(&sig_hup, hup_cb, SIGHUP);
	ev_signal_start(w->loop, &sig_hup);
	ev_init(&w->wait_timer, wait_cb);
	ev_init(&w->idle_timer, idle_cb);
	ev_prepare_init(&w->coalesce, coalesce_cb);
	ev_prepare_start(w->loop, &w->coalesce);
	if (cfg->idle_timeout_s > 0) {
		ev_timer_set(&w->idle_timer, cfg->idle_timeout_s, 0);
		ev_timer_start(w->loop, &w->idle_timer);
	}
	log_debug("worker %u started", id);
	ev_run(w->loop, 0);
	log_debug("worker %u stopped", id);
	exit(0);
}

static void
listening(struct ev_loop *loop, int on)
{
	unsigned i;

	for (i = 0; i < nlisteners; i++) {
		if (on)
			ev_io_start(loop, &listeners[i]);
		else
			ev_io_stop(loop, &listeners[i]);
	}
}

static void
accept_resume_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct worker *w = ev_userdata(loop);

	if (!w->stopping)
		listening(loop, 1);
}

static void
pause_accepting(struct worker *w, double secs)
{
	listening(w->loop, 0);
	ev_timer_set(&accept_timer, secs, 0);
	ev_timer_start(w->loop, &accept_timer);
}

/* The fewest connections on any bucket of worker slot i. */
static uint64_t
lightest_load(const struct worker *w, unsigned i)
{
	uint64_t best = UINT64_MAX;
	unsigned b;

	for (b = 0; b < STATE_BUCKETS; b++) {
		uint64_t n;

		if (state_bucket_owner(b, w->nworkers) != i)
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
 * the node's load spreads over all of its buckets.
 */
static int
others_lighter(const struct worker *w)
{
	uint64_t mine = lightest_load(w, w->id);
	unsigned i;

	for (i = 0; i < w->nworkers; i++) {
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
	unsigned i, slot = 0;

	for (i = 0; i < w->nbuckets; i++) {
		uint64_t n =
		    state_load(&state_bucket(w->sf->h, w->buckets[i])->conns);

		if (n < best) {
			best = n;
			slot = i;
		}
	}
	return slot;
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
	struct conn *c;
	unsigned slot, i;
	int fd, one = 1;

	for (i = 0; i < 64; i++) {
		if (others_lighter(w)) {
			pause_accepting(w, ACCEPT_YIELD_S);
			return;
		}
		sslen = sizeof(ss);
		fd = accept4(io->fd, (struct sockaddr *)&ss, &sslen,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE) {
				log_warn(
				    "accept: raise the descriptor limit"
				    " (ulimit -n) or lower max_connections");
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
		if (w->nconns >= w->max_conns) {
			reject(w, fd, "max_connections reached");
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		slot = lightest_bucket(w);
		if ((c = conn_new(w, fd, slot)) == NULL) {
			log_warnx("out of memory accepting a connection");
			reject(w, fd, "out of memory");
			continue;
		}
		w->nconns++;
		state_store(&w->slot->conns, w->nconns);
		state_add(&w->slot->conns_total, 1);
		state_add(&state_bucket(w->sf->h, c->bucket)->conns, 1);
		state_add(&state_bucket(w->sf->h, c->bucket)->conns_total, 1);
	}
}

void
worker_conn_gone(struct worker *w, struct conn *c)
{
	struct state_bucket *b = state_bucket(w->sf->h, c->bucket);

	w->nconns--;
	state_store(&w->slot->conns, w->nconns);
	state_store(&b->conns, state_load(&b->conns) - 1);
	if (w->stopping && w->nconns == 0)
		ev_break(w->loop, EVBREAK_ALL);
}

/* The peer of a connection as host:port, for messages. */
static const char *
peer_name(int fd, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	char host[NI_MAXHOST], port[NI_MAXSERV];

	if (getpeername(fd, (struct sockaddr *)&ss, &sslen) == -1 ||
	    getnameinfo((struct sockaddr *)&ss, sslen, host, sizeof(host), port,
		sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		snprintf(buf, len, "fd %d", fd);
	else
		snprintf(buf, len,
		    ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, port);
	return buf;
}

void
worker_bad_request(struct worker *w, unsigned cmd, int fd)
{
	double now = ev_now(w->loop);
	char peer[NI_MAXHOST + NI_MAXSERV + 4];

	state_add(&w->slot->bad_requests, 1);
	if (now - w->bad_logged < 1.0) {
		w->bad_suppressed++;
		return;
	}
	log_warnx("closing the connection from %s: unknown command 0x%02x"
		  " (%u more bad requests since the last message)",
	    peer_name(fd, peer, sizeof(peer)), cmd, w->bad_suppressed);
	w->bad_logged = now;
	w->bad_suppressed = 0;
}

void
worker_wait_arm(struct worker *w)
{
	double now;

	if (ev_is_active(&w->wait_timer))
		return;
	/* Wake just after the next second of the wall clock begins. */
	now = ev_time();
	ev_timer_set(&w->wait_timer, ceil(now) - now + 0.001, 0);
	ev_timer_start(w->loop, &w->wait_timer);
}

static void
wait_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct worker *w = ev_userdata(loop);
	struct conn *c = w->waiting, *next;

	/* Resuming may put a connection back on the list: start a new one. */
	w->waiting = NULL;
	for (; c != NULL; c = next) {
		next = c->next_wait;
		conn_resume(c);
	}
}

/*
 * Closes the connections idle for idle_timeout_s; the list is in order of
 * activity, so the timer next fires when its head expires.
 */
static void
idle_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct worker *w = ev_userdata(loop);
	ev_tstamp now = ev_now(loop), timeout = w->cfg->idle_timeout_s;

	while (w->lru_head != NULL && now - w->lru_head->last_active >= timeout)
		conn_close(w->lru_head);
	ev_timer_set(t,
	    w->lru_head != NULL ? w->lru_head->last_active + timeout - now
				: timeout,
	    0);
	ev_timer_start(loop, t);
}

/* Before each poll: coalesce events only while many connections are busy. */
static void
coalesce_cb(struct ev_loop *loop, ev_prepare *p, int revents)
{
	struct worker *w = ev_userdata(loop);

	ev_set_io_collect_interval(
	    loop, w->reads >= COALESCE_READS ? COALESCE_S : 0);
	w->reads = 0;
}

static void
drain_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct worker *w = ev_userdata(loop);

	log_warnx("worker %u: %u connections still had replies pending when"
		  " the drain time ran out",
	    w->id, w->nconns);
	ev_break(loop, EVBREAK_ALL);
}

static void
term_cb(struct ev_loop *loop, ev_signal *s, int revents)
{
	static ev_timer drain;
	struct worker *w = ev_userdata(loop);
	struct conn *c, *next;
	unsigned i;

	if (w->stopping)
		return;
	w->stopping = 1;
	listening(loop, 0);
	ev_timer_stop(loop, &accept_timer);
	for (i = 0; i < nlisteners; i++)
		close(listeners[i].fd);
	ev_timer_stop(loop, &w->idle_timer);
	/* The wait timer runs on: a waiting CMD 0 is a reply to finish. */
	for (c = w->lru_head; c != NULL; c = next) {
		next = c->next;
		conn_shutdown(c);
	}
	if (w->nconns == 0) {
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	ev_timer_init(&drain, drain_cb, DRAIN_S, 0);
	ev_timer_start(loop, &drain);
}

static void
hup_cb(struct ev_loop *loop, ev_signal *s, int revents)
{
	if (log_reopen() == -1)
		log_warn("reopen the log file");
}
