/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bucket.c - the per-bucket ID generator and the clock rules (genid(7)).
 */
#include "bucket.h"
#include "id.h"

uint64_t
bucket_word(uint32_t ts, uint32_t next)
{
	return (uint64_t)ts << 32 | next;
}

uint32_t
bucket_ts(uint64_t word)
{
	return (uint32_t)(word >> 32);
}

uint32_t
bucket_next(uint64_t word)
{
	return (uint32_t)word;
}

static void
stop(struct bucket_result *r, enum bucket_stop why, uint32_t need)
{
	r->stop = why;
	r->need = need;
}

unsigned
bucket_take(uint64_t *word, uint64_t base, const struct bucket_limits *lim,
    unsigned want, uint64_t *ids, struct bucket_result *r)
{
	uint32_t ts = bucket_ts(*word);
	uint32_t next = bucket_next(*word);
	unsigned n = 0;

	stop(r, BUCKET_DONE, 0);
	/*
	 * A new second restarts the counter.  A clock that went back leaves
	 * ts where it is: the bucket goes on counting in its own second.
	 */
	if (lim->now > ts) {
		ts = lim->now;
		next = 0;
	}
	while (n < want) {
		uint32_t t = ts, c = next;

		if (c > ID_COUNTER_MAX) {
			/* Borrow the next second, within both caps. */
			if (t == UINT32_MAX ||
			    (uint64_t)t + 1 >
				(uint64_t)lim->now + lim->max_ahead) {
				stop(r, BUCKET_EXHAUSTED,
				    t == UINT32_MAX ? t
						    : t + 1 - lim->max_ahead);
				break;
			}
			t++;
			c = 0;
		}
		if (t > lim->checkpoint) {
			stop(r, BUCKET_CHECKPOINT, t);
			break;
		}
		ids[n++] = (uint64_t)t << 32 | base | c;
		/* Only an issued ID moves the bucket: a borrow that stopped at
		 * the checkpoint is decided again on the next call. */
		ts = t;
		next = c + 1;
	}
	/*
	 * Only a bucket that issued something moves: a stop before the first
	 * ID of a new second keeps the stored state as it was.
	 */
	if (n > 0)
		*word = bucket_word(ts, next);
	return n;
}

uint64_t
bucket_restart_word(uint32_t checkpoint)
{
	/* At the end of the timestamp range nothing is left to issue. */
	return bucket_top(checkpoint);
}

uint32_t
bucket_checkpoint_target(uint32_t now, uint32_t allowance)
{
	uint64_t t = (uint64_t)now + allowance + 1;

	return t > UINT32_MAX ? UINT32_MAX : (uint32_t)t;
}

enum clock_start
clock_start_rule(
    uint32_t now, uint32_t checkpoint, uint32_t max_ahead, uint32_t max_slew)
{
	uint64_t lead;

	if (now > checkpoint)
		return CLOCK_START_NOW;
	lead = (uint64_t)checkpoint - now;
	if (lead <= (uint64_t)max_ahead + 1)
		return CLOCK_START_AHEAD;
	/*
	 * A node in a slew keeps the checkpoint up to its allowance + 1
	 * ahead, and a new state file or a crash loop leaves it a little
	 * further than max_ahead + 1: the slew carries those too.
	 */
	if (lead <= (uint64_t)max_slew + max_ahead + 1)
		return CLOCK_START_SLEW;
	return CLOCK_START_BEHIND;
}

int64_t
clock_step_ns(int64_t real_prev, int64_t mono_prev, int64_t real_now,
    int64_t mono_now, int64_t tolerance_ns)
{
	int64_t step = (real_now - real_prev) - (mono_now - mono_prev);

	if (step >= tolerance_ns || step <= -tolerance_ns)
		return step;
	return 0;
}
