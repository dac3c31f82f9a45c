/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bucket.h - the per-bucket ID generator and the clock rules (genid(7)).
 *
 * A bucket's state is one 64-bit word, (ts << 32) | next_counter, so that a
 * writer stores it at once and a reader never sees half an update.  The
 * functions here are pure: the caller loads the word, calls bucket_take,
 * and stores the word back before any ID leaves the process.
 */
#ifndef GENID_CORE_BUCKET_H
#define GENID_CORE_BUCKET_H

#include <stddef.h>
#include <stdint.h>

#include "id.h"

enum bucket_stop {
	BUCKET_DONE,	   /* every requested ID was produced */
	BUCKET_EXHAUSTED,  /* counter used up, borrowing capped by max_ahead
			      and the slew */
	BUCKET_CHECKPOINT, /* the next ID needs a checkpoint of at least need */
};

struct bucket_limits {
	uint32_t now;	     /* wall clock, seconds since the epoch */
	uint32_t checkpoint; /* highest timestamp that may be issued */
	uint32_t max_ahead;  /* how far ts may run ahead of now by borrowing
				whole seconds: max_ahead_s */
	uint64_t slew_top;   /* in a slew, the lowest word not to issue
				(slew_top_word): borrowing goes on below it,
				counter by counter; 0 = no slew */
};

struct bucket_result {
	enum bucket_stop stop; /* why it stopped */
	uint32_t need;	       /* BUCKET_EXHAUSTED: the second it waits for;
				  BUCKET_CHECKPOINT: the checkpoint it needs */
};

/* Packs a bucket state word. */
uint64_t bucket_word(uint32_t ts, uint32_t next);

/* The timestamp of a bucket state word. */
uint32_t bucket_ts(uint64_t word);

/* The next counter of a bucket state word (65536 when used up). */
uint32_t bucket_next(uint64_t word);

/*
 * Produces up to want IDs of the bucket whose ID bits are base (id_base)
 * into ids, advancing *word.  Returns the number produced; r says why it
 * stopped.  IDs strictly increase across calls, never exceed the
 * checkpoint, and the bucket's ts never decreases.
 */
unsigned bucket_take(uint64_t *word, uint64_t base,
    const struct bucket_limits *lim, unsigned want, uint64_t *ids,
    struct bucket_result *r);

enum bucket_trust {
	BUCKET_TRUSTED,	    /* the shared word may be issued from */
	BUCKET_WORD_BACK,   /* it is below the last word this process stored */
	BUCKET_WORD_BEYOND, /* beyond what the checkpoint covers, or no
				   word genid writes (counter over 65536) */
	BUCKET_CHECKPOINT_BACK, /* the checkpoint is below what was issued */
};

/*
 * The highest word a bucket may hold under checkpoint ckpt: the word a
 * boot sets above it, (ckpt + 1, counter 0), or at the end of the range
 * (ckpt, 65536), nothing left.
 */
static inline uint64_t
bucket_top(uint32_t ckpt)
{
	if (ckpt == UINT32_MAX)
		return (uint64_t)ckpt << 32 | ID_COUNTERS;
	return (uint64_t)(ckpt + 1) << 32;
}

/*
 * Whether the shared word of a bucket may be issued from by a process
 * that last stored own for it (or was handed own when it started), under
 * the checkpoint ckpt.  A word only rises and never passes bucket_top;
 * anything else means the state file changed under the running node (a
 * truncation, a copy written over it) and no ID may be issued from it.
 * Inline: the worker asks before every take.
 */
static inline enum bucket_trust
bucket_trust(uint64_t shared, uint64_t own, uint32_t ckpt)
{
	uint64_t top = bucket_top(ckpt);

	/* Checked first: a fallen checkpoint makes every word look beyond. */
	if (own > top)
		return BUCKET_CHECKPOINT_BACK;
	if (shared < own)
		return BUCKET_WORD_BACK;
	if (shared > top || (uint32_t)shared > ID_COUNTERS)
		return BUCKET_WORD_BEYOND;
	return BUCKET_TRUSTED;
}

/* The state word a bucket resumes from after a restart of the node whose
 * durable checkpoint was checkpoint: every later ID is above every earlier. */
uint64_t bucket_restart_word(uint32_t checkpoint);

/* The checkpoint the node should hold at time now when buckets may borrow
 * allowance seconds ahead of it (now + allowance + 1). */
uint32_t bucket_checkpoint_target(uint32_t now, uint32_t allowance);

enum clock_start {
	CLOCK_START_NOW,    /* the clock is past the checkpoint */
	CLOCK_START_AHEAD,  /* serve at once from checkpoint + 1 */
	CLOCK_START_SLEW,   /* serve at once with a slew (slew.h) */
	CLOCK_START_BEHIND, /* the clock is too far behind: refuse or wait */
};

/*
 * How a node whose checkpoint is checkpoint may start at time now: AHEAD
 * up to max_ahead + 1 ahead of now (where the master keeps it), SLEW up to
 * max_slew + 2 * max_ahead + 2 (a step of max_slew on top of the most a
 * node holds without one), further is BEHIND.
 */
enum clock_start clock_start_rule(
    uint32_t now, uint32_t checkpoint, uint32_t max_ahead, uint32_t max_slew);

/*
 * Classifies a clock step between two samples: the change of the realtime
 * clock minus the change of the monotonic clock, in nanoseconds.  Returns
 * the step when its size is at least tolerance_ns, else 0.
 */
int64_t clock_step_ns(int64_t real_prev, int64_t mono_prev, int64_t real_now,
    int64_t mono_now, int64_t tolerance_ns);

#endif
