/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * proto.h - the wire protocol as a function: the request frames of one
 * connection in, its replies out.  It knows no sockets, no event loop and
 * no worker; it reads the clock and moves the checkpoint through the
 * functions of struct proto_node, so that a test or a fuzzer can run it
 * over a simulated bucket and clock.
 *
 * Requests are 2-byte frames [CMD, COUNT]; replies are big-endian:
 *
 *	CMD 0	8 bytes: one ID (waits for the clock when the bucket is dry)
 *	CMD 1	1 byte m, then m IDs; m == COUNT unless the bucket is dry
 *	CMD 2	2-byte length L, then L bytes of JSON (INFO)
 *	other	nothing: the connection is to be closed
 */
#ifndef GENID_PROTO_H
#define GENID_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "bucket.h"
#include "statefile.h"

/* Output room one reply needs at most: CMD 1 with 255 IDs. */
#define PROTO_REPLY_MAX (1 + 8 * 255)

enum proto_cmd {
	PROTO_ONE = 0,	/* one ID */
	PROTO_MANY = 1, /* COUNT IDs, maybe fewer */
	PROTO_INFO = 2, /* the node as JSON */
};

enum proto_stop {
	PROTO_MORE,    /* less than a frame is left, or the output is full */
	PROTO_WAIT,    /* a CMD 0 waits for the clock; the frame is not used */
	PROTO_BAD,     /* an unknown command; the frame is not used */
	PROTO_DAMAGED, /* the state file changed under the node: no more IDs */
};

/*
 * What a process knows of the node from its own memory, never read back
 * from the state file, so that a file cut short or written over under the
 * running node cannot make it issue an ID again (genid(8), "A damaged
 * state file"): the identity its IDs carry, and per bucket the last word
 * it stored, or the one it was handed when it started.
 */
struct proto_guard {
	uint32_t zone, dc, machine;
	int64_t epoch;
	uint64_t own[STATE_BUCKETS];
	int64_t started_ms; /* CLOCK_MONOTONIC ms of the master's start:
			       INFO's uptime, which no clock step moves */
};

/* PROTO_DAMAGED: what was found. */
struct proto_damage {
	enum bucket_trust why;
	unsigned bucket;
	uint64_t shared; /* the word in the file */
	uint64_t own;	 /* the word this process last stored */
	uint32_t ckpt;	 /* checkpoint_safe in the file */
};

/* What the protocol serves from: the node's state and its clock. */
struct proto_node {
	struct statefile *sf;	   /* identity, checkpoint, bucket table */
	struct state_worker *slot; /* counts checkpoint raises */
	struct proto_guard *guard; /* this process's own memory */
	uint32_t max_ahead;	   /* max_ahead_s: the least allowance */
	unsigned workers;	   /* for INFO */
	long long worker_pid;	   /* for INFO */
	/* The wall clock: clock_real (clock.c) in the daemon. */
	void (*clock)(struct timespec *now);
	/* Makes the checkpoint durable at target or above: 0, or -1. */
	int (*raise)(struct statefile *sf, uint32_t target);
	/* CLOCK_MONOTONIC in milliseconds, for the fence of a leased
	 * identity (clock_mono_ms in the daemon). */
	int64_t (*mono_ms)(void);
	/* Set while the worker drains: INFO says "stopping" whatever the
	 * master published. */
	int stopping;
};

struct proto_result {
	size_t used;		    /* input bytes served: whole frames */
	size_t written;		    /* output bytes */
	enum proto_stop stop;	    /* why it stopped */
	uint8_t cmd;		    /* PROTO_BAD: the command byte */
	int raise_errno;	    /* the checkpoint could not be moved: why */
	struct proto_damage damage; /* PROTO_DAMAGED: what was found */
};

/* Fills g from the header of a state file that passed its checks. */
void proto_guard_init(struct proto_guard *g, struct state_header *h);

/*
 * Serves the frames of in[0..len) for a connection pinned to bucket, into
 * out[0..room), until the input or the output room runs out, a CMD 0 has
 * to wait, a command is unknown, or the bucket's word in the file is not
 * one node->guard allows.  The bucket's word is stored before this
 * returns: the IDs written may leave the process.
 */
struct proto_result proto_serve(const struct proto_node *node, unsigned bucket,
    const uint8_t *in, size_t len, uint8_t *out, size_t room);

#endif
