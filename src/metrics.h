/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * metrics.h - one reading of a state file's counters, and the Prometheus
 * text of it; shared by genidctl stats and the master's /metrics.
 */
#ifndef GENID_METRICS_H
#define GENID_METRICS_H

#include <stdint.h>
#include <stdio.h>

#include "counters.h"
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
	unsigned w_buckets[STATE_WORKERS]; /* buckets each worker owns */
	int64_t lead; /* the largest bucket lead ahead of the clock */
};

/* Reads every counter of the mapped state h into s, each field with one
 * atomic load; s->locked is left 0. */
void metrics_read(struct metrics_snap *s, const struct state_header *h);

/* The worker slot that owns bucket b, or -1 when no worker is known. */
int metrics_owner(const struct metrics_snap *s, unsigned b);

/* The bucket field at off (offsetof in struct state_bucket) summed over
 * the buckets worker slot owner owns, or over all when owner is -1. */
uint64_t metrics_sum(const struct metrics_snap *s, size_t off, int owner);

/* Row c of the worker table (counters.h) for worker slot w: the slot's
 * own field, or the bucket field summed over the worker's buckets. */
uint64_t metrics_worker(
    const struct metrics_snap *s, const struct counters_def *c, unsigned w);

/* Row c of the bucket or the worker table (slot) for bucket or worker
 * slot i: counters_field of the bucket, or metrics_worker. */
uint64_t metrics_slot(const struct metrics_snap *s, enum counters_slot slot,
    const struct counters_def *c, unsigned i);

/* How far bucket b's second is ahead of the clock (0 when not ahead). */
int64_t metrics_lead(const struct metrics_snap *s, unsigned b);

/*
 * Whether the node can issue now: the state its master published
 * ("serving", "clock-behind", ...), or "down" when no master holds the
 * state file.
 */
const char *metrics_state(const struct metrics_snap *s);

/*
 * How the node holds its identity now (claim_state_now: a held one whose
 * fence has passed is "lost"), and the seconds its workers may still
 * issue unless the lease is renewed (0: fenced, or no lease).
 */
const char *metrics_identity(const struct state_header *h);
double metrics_fence_left(const struct state_header *h);

/* How far the checkpoint is ahead of the clock in seconds, and how long
 * ago it was last synced (0: never). */
int64_t metrics_ckpt_ahead(const struct metrics_snap *s);
int64_t metrics_ckpt_age(const struct metrics_snap *s);

/* 1 when metrics_state() is "serving", else 0. */
int metrics_serving(const struct metrics_snap *s);

/* The allowance the workers borrow under now, in seconds: max_ahead, more
 * during a slew (state.h). */
uint64_t metrics_allowance(const struct state_header *h);

/* The etcd lease in hex, as genid logs it, in buf ("" without one). */
const char *metrics_lease_hex(
    const struct state_header *h, char *buf, size_t len);

/* Prints s in the Prometheus text exposition format. */
void metrics_prometheus(FILE *out, const struct metrics_snap *s);

/*
 * Prints genid_build_info with this version and the process_* families of
 * the calling process, read from /proc/self (the families it cannot read
 * are left out): the master's own, for /metrics.
 */
void metrics_process(FILE *out, const char *version);

#endif
