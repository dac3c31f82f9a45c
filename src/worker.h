/*
 * worker.h - a worker process: one libev loop serving the buckets it owns.
 */
#ifndef GENID_WORKER_H
#define GENID_WORKER_H

#include <ev.h>
#include <stdint.h>
#include <sysexits.h>

#include "config.h"
#include "statefile.h"

/* A worker that exits with this code is not respawned (like nginx's 2). */
#define WORKER_EXIT_FATAL EX_CONFIG

#define WORKER_INBUF (64 * 1024)
#define WORKER_OUTBUF (256 * 1024)

struct conn;

struct worker {
	struct ev_loop *loop;
	const struct cfg *cfg;
	struct statefile *sf;
	struct state_worker *slot;
	unsigned id;
	unsigned nworkers;
	unsigned buckets[STATE_BUCKETS]; /* the buckets this worker owns */
	unsigned nbuckets;
	uint64_t bases[STATE_BUCKETS]; /* id_base of every bucket */
	unsigned max_conns;
	unsigned nconns;
	int stopping;
	struct conn *lru_head; /* least recently active first */
	struct conn *lru_tail;
	struct conn *waiting; /* CMD 0 waiting for the clock */
	ev_timer wait_timer;
	ev_timer idle_timer;
	ev_prepare coalesce;
	unsigned reads;	   /* reads since the loop last polled */
	double bad_logged; /* rate limit for bad-request messages */
	unsigned bad_suppressed;
	uint8_t in[WORKER_INBUF];
	uint8_t out[WORKER_OUTBUF];
};

/*
 * Runs worker slot id in a freshly forked child: takes over the buckets it
 * owns, serves the listening sockets until SIGTERM, and exits.
 */
void worker_run(const struct cfg *cfg, struct statefile *sf, const int *fds,
    unsigned nfds, unsigned id) __attribute__((noreturn));

/* Counts an unknown command cmd on connection fd and logs it, at most
 * once a second. */
void worker_bad_request(struct worker *w, unsigned cmd, int fd);

/* Asks the wait timer to retry waiting connections at the next second. */
void worker_wait_arm(struct worker *w);

/* Forgets a closed connection: counters, its bucket's load. */
void worker_conn_gone(struct worker *w, struct conn *c);

#endif
