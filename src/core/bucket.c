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

/*
 * The lowest word the bucket may not issue: the second after the last one
 * borrowing in whole seconds reaches, or the slew's top when higher.
 */
static uint64_t
limit_word(const struct bucket_limits *lim)
{
	uint64_t s = (uint64_t)lim->now + lim->max_ahead + 1;
	uint64_t limit =
	    s > UINT32_MAX ? (uint64_t)UINT32_MAX << 32 | ID_COUNTERS : s << 32;

	return lim->slew_top > limit ? lim->slew_top : limit;
}

unsigned
bucket_take(uint64_t *word, uint64_t base, const struct bucket_limits *lim,
    unsigned want, uint64_t *ids, struct bucket_result *r)
{
	uint32_t ts = bucket_ts(*word);
	uint32_t next = bucket_next(*word);
	uint64_t limit = limit_word(lim);
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
		int borrow = 0;

		if (c > ID_COUNTER_MAX) {
			/* Borrow the next second. */
			if (t == UINT32_MAX) {
				stop(r, BUCKET_EXHAUSTED, t);
				break;
			}
			t++;
			c = 0;
			borrow = 1;
		}
		/*
		 * A borrowed second must be within the limit.  Without a
		 * slew a bucket goes on counting in its own second, wherever
		 * the clock is; in a slew every ID is within its top, which
		 * spreads the reduced rate over the second.
		 */
		if ((borrow || lim->slew_top != 0) &&
		    ((uint64_t)t << 32 | c) >= limit) {
			stop(r, BUCKET_EXHAUSTED, t - lim->max_ahead);
			break;
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
	 * ahead; a worker's raise, a new state file for a lost one or a
	 * crash loop leave it up to 2 * max_ahead + 2 ahead: a step of
	 * max_slew on top of any of those is still slewed.
	 */
	if (lead <= (uint64_t)max_slew + 2 * (uint64_t)max_ahead + 2)
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
