/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * serving.h - whether a node can issue IDs now, and why not (issue 9).
 *
 * The master judges it on its checkpoint timer and publishes it in the
 * state header; INFO, /metrics, genidctl stats and the HAProxy health
 * check read it there.
 */
#ifndef GENID_CORE_SERVING_H
#define GENID_CORE_SERVING_H

#include <stdint.h>

enum serving_state {
	SERVING = 0,		  /* every bucket can issue */
	SERVING_CLOCK_BEHIND,	  /* a bucket is ahead of the clock, dry */
	SERVING_CHECKPOINT_STUCK, /* the checkpoint cannot be made durable */
	SERVING_STOPPING,	  /* draining before exit */
	SERVING_PEER_CONFLICT,	  /* a peer holds this node's identity */
	SERVING_IDENTITY_LOST,	  /* the lease of the identity is gone */
	SERVING_STATES		  /* the number of states */
};

/* What the judgement is made from, read by the caller. */
struct serving_input {
	uint32_t now;	    /* wall clock, seconds since the epoch */
	uint32_t allowance; /* how far a bucket may borrow ahead of now */
	int stopping;
	int checkpoint_failed; /* the last raise of the checkpoint failed */
	uint64_t peer_conflicts;
	int identity_lost;     /* fenced: the etcd lease may have ended */
	const uint64_t *words; /* the bucket state words */
	unsigned nwords;
};

/* The name of a state as INFO and the metrics show it ("serving", ...). */
const char *serving_name(unsigned state);

/*
 * Whether the bucket of state word can issue nothing until the clock
 * moves: its second is ahead of now by more than allowance and its
 * counter is used up.  1 or 0.
 */
int serving_bucket_behind(uint64_t word, uint32_t now, uint32_t allowance);

/*
 * The state of a node: stopping first, then a lost identity, a peer
 * conflict, a stuck
 * checkpoint, a bucket behind the clock; else SERVING.
 */
enum serving_state serving_judge(const struct serving_input *in);

#endif
