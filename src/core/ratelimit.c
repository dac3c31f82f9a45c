/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ratelimit.c - one log line of a kind per interval.
 */
#include "ratelimit.h"

void
ratelimit_init(struct ratelimit *r, double interval)
{
	r->interval = interval;
	r->last = 0;
	r->started = 0;
	r->suppressed = 0;
}

int
ratelimit_allow(struct ratelimit *r, double now, unsigned *suppressed)
{
	if (r->started && now - r->last < r->interval) {
		/* A count that cannot grow further still says "very many". */
		if (r->suppressed < (unsigned)-1)
			r->suppressed++;
		return 0;
	}
	*suppressed = r->suppressed;
	r->started = 1;
	r->last = now;
	r->suppressed = 0;
	return 1;
}
