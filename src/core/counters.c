/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * counters.c - the tables of the bucket and worker counters (see
 * counters.h).  The row order is the print order of every reader.
 */
#include "counters.h"
#include "state.h"

static const struct counters_def bucket_rows[] = {
    {
	.json = "ids",
	.prom = "genid_bucket_ids_total",
	.help = "IDs issued by a bucket.",
	.type = COUNTERS_COUNTER,
	.in = COUNTERS_BUCKET,
	.off = offsetof(struct state_bucket, ids),
	.column = "ids",
	.width = 13,
	.total = "IDs",
    },
    {
	.json = "requests",
	.prom = "genid_bucket_requests_total",
	.help = "Requests (CMD 0 and 1) a bucket answered.",
	.type = COUNTERS_COUNTER,
	.in = COUNTERS_BUCKET,
	.off = offsetof(struct state_bucket, requests),
	.column = "requests",
	.width = 11,
	.total = "requests",
    },
    {
	.json = "conns",
	.prom = "genid_bucket_connections",
	.help = "Connections pinned to a bucket now.",
	.type = COUNTERS_GAUGE,
	.in = COUNTERS_BUCKET,
	.off = offsetof(struct state_bucket, conns),
	.column = "conns",
	.width = 6,
	.total = "connections open",
    },
    {
	.json = "conns_total",
	.prom = "genid_bucket_connections_total",
	.help = "Connections ever pinned to a bucket.",
	.type = COUNTERS_COUNTER,
	.in = COUNTERS_BUCKET,
	.off = offsetof(struct state_bucket, conns_total),
	.total = "in all",
	.total_aside = 1,
    },
    {
	.json = "waits",
	.prom = "genid_bucket_waits_total",
	.help = "CMD 0 requests that waited for the clock: the bucket was"
		" used up.",
	.type = COUNTERS_COUNTER,
	.in = COUNTERS_BUCKET,
	.off = offsetof(struct state_bucket, waits),
	.column = "waits",
	.width = 6,
	.total = "waits",
    },
    {
	.json = "shorts",
	.prom = "genid_bucket_short_replies_total",
	.help = "CMD 1 replies with fewer IDs than asked: the bucket was"
		" used up.",
	.type = COUNTERS_COUNTER,
	.in = COUNTERS_BUCKET,
	.off = offsetof(struct state_bucket, shorts),
	.column = "shorts",
	.width = 6,
	.total = "short replies",
    },
};

static const struct counters_def worker_rows[] = {
    {
	.json = "conns",
	.prom = "genid_worker_connections",
	.help = "Connections a worker holds now.",
	.type = COUNTERS_GAUGE,
	.in = COUNTERS_WORKER,
	.off = offsetof(struct state_worker, conns),
	.column = "conns",
	.width = 6,
    },
    {
	.json = "conns_total",
	.prom = "genid_worker_connections_total",
	.help = "Connections a worker accepted.",
	.type = COUNTERS_COUNTER,
	.in = COUNTERS_WORKER,
	.off = offsetof(struct state_worker, conns_total),
	.column = "accepted",
	.width = 9,
    },
    {
	.json = "requests",
	.prom = "genid_worker_requests_total",
	.help = "Requests answered by a worker's buckets.",
	.type = COUNTERS_COUNTER,
	.in = COUNTERS_BUCKET,
	.off = offsetof(struct state_bucket, requests),
	.column = "requests",
	.width = 11,
    },
    {
	.json = "ids",
	.prom = "genid_worker_ids_total",
	.help = "IDs issued by a worker's buckets.",
	.type = COUNTERS_COUNTER,
	.in = COUNTERS_BUCKET,
	.off = offsetof(struct state_bucket, ids),
	.column = "ids",
	.width = 13,
    },
    {
	.json = "rejected",
	.prom = "genid_worker_rejected_connections_total",
	.help = "Connections closed at accept: connection limit or allow"
		" list.",
	.type = COUNTERS_COUNTER,
	.in = COUNTERS_WORKER,
	.off = offsetof(struct state_worker, rejected),
	.column = "rejected",
	.width = 8,
    },
    {
	.json = "bad_requests",
	.prom = "genid_worker_bad_requests_total",
	.help = "Unknown commands; the connection was closed.",
	.type = COUNTERS_COUNTER,
	.in = COUNTERS_WORKER,
	.off = offsetof(struct state_worker, bad_requests),
	.column = "bad",
	.width = 5,
    },
    {
	.json = "checkpoint_raises",
	.prom = "genid_worker_checkpoint_raises_total",
	.help = "Times a worker raised the checkpoint itself.",
	.type = COUNTERS_COUNTER,
	.in = COUNTERS_WORKER,
	.off = offsetof(struct state_worker, checkpoint_raises),
    },
    {
	.json = "restarts",
	.prom = "genid_worker_restarts_total",
	.help = "Times the master respawned a worker slot.",
	.type = COUNTERS_COUNTER,
	.in = COUNTERS_WORKER,
	.off = offsetof(struct state_worker, restarts),
	.column = "restarts",
	.width = 8,
    },
};

const struct counters_def *
counters_table(enum counters_slot slot, size_t *n)
{
	if (slot == COUNTERS_BUCKET) {
		*n = sizeof(bucket_rows) / sizeof(bucket_rows[0]);
		return bucket_rows;
	}
	*n = sizeof(worker_rows) / sizeof(worker_rows[0]);
	return worker_rows;
}

uint64_t
counters_field(const void *slot, size_t off)
{
	/* Every row's off is 8-byte aligned inside its struct (tested). */
	const uint64_t *p =
	    (const uint64_t *)(const void *)((const char *)slot + off);

	return *p;
}

const char *
counters_type_name(enum counters_type type)
{
	return type == COUNTERS_COUNTER ? "counter" : "gauge";
}
