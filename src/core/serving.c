/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * serving.c - judge whether a node can issue now.
 */
#include "bucket.h"
#include "id.h"
#include "serving.h"

static const char *const names[SERVING_STATES] = {
    "serving",
    "clock-behind",
    "checkpoint-stuck",
    "stopping",
    "peer-conflict",
    "identity-lost",
};

const char *
serving_name(unsigned state)
{
	return state < SERVING_STATES ? names[state] : "unknown";
}

int
serving_bucket_behind(uint64_t word, uint32_t now, uint32_t allowance)
{
	return bucket_ts(word) > (uint64_t)now + allowance &&
	    bucket_next(word) >= ID_COUNTERS;
}

enum serving_state
serving_judge(const struct serving_input *in)
{
	unsigned i;

	if (in->stopping)
		return SERVING_STOPPING;
	if (in->identity_lost)
		return SERVING_IDENTITY_LOST;
	if (in->peer_conflicts > 0)
		return SERVING_PEER_CONFLICT;
	if (in->checkpoint_failed)
		return SERVING_CHECKPOINT_STUCK;
	for (i = 0; i < in->nwords; i++)
		if (serving_bucket_behind(in->words[i], in->now, in->allowance))
			return SERVING_CLOCK_BEHIND;
	return SERVING;
}
