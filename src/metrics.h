/*
 * metrics.h - one reading of a state file's counters, and the Prometheus
 * text of it; shared by genidctl stats and the master's /metrics.
 */
#ifndef GENID_METRICS_H
#define GENID_METRICS_H

#include <stdint.h>
#include <stdio.h>

#include "state.h"

/*
 * Every field is copied with one atomic load, but the copy is not a
 * snapshot across fields: a counter read late may include a request that
 * one read early does not.
 */
struct metrics_snap {
	struct state_header h;
	struct state_bucket b[STATE_BUCKETS];
	struct state_worker w[STATE_WORKERS];
	int64_t now;	  /* Unix time of the reading */
	int64_t now_ts;	  /* the same in seconds since the epoch */
	double mono;	  /* CLOCK_MONOTONIC seconds, for rates */
	int master_alive; /* the master's pid exists */
	int locked;	  /* some genid holds the state file's lock (set by
			     the caller: only a reader outside genid can
			     tell) */
	int alive[STATE_WORKERS];
	unsigned nworkers; /* worker slots in use: h.workers, capped */
	uint64_t w_ids[STATE_WORKERS]; /* summed over the worker's buckets */
	uint64_t w_requests[STATE_WORKERS];
	unsigned w_buckets[STATE_WORKERS];
	uint64_t ids, requests, conns, conns_total, waits, shorts;
	int64_t lead; /* the largest bucket lead ahead of the clock */
};

/* Reads every counter of the mapped state h into s, each field with one
 * atomic load; s->locked is left 0. */
void metrics_read(struct metrics_snap *s, const struct state_header *h);

/* The worker slot that owns bucket b, or -1 when no worker is known. */
int metrics_owner(const struct metrics_snap *s, unsigned b);

/* How far bucket b's second is ahead of the clock (0 when not ahead). */
int64_t metrics_lead(const struct metrics_snap *s, unsigned b);

/* Prints s in the Prometheus text exposition format. */
void metrics_prometheus(FILE *out, const struct metrics_snap *s);

#endif
