/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ratelimit.h - at most one log line of a kind per interval, and how many
 * were held back meanwhile.  The caller passes the time: nothing here
 * reads a clock or logs.
 */
#ifndef GENID_CORE_RATELIMIT_H
#define GENID_CORE_RATELIMIT_H

struct ratelimit {
	double interval;     /* seconds from one line to the next */
	double last;	     /* when the last line was let through */
	int started;	     /* whether a line was let through yet */
	unsigned suppressed; /* lines held back since that one */
};

/* Sets r up to let one line through every interval seconds. */
void ratelimit_init(struct ratelimit *r, double interval);

/*
 * Whether a line may be logged at time now (seconds, any clock that does
 * not go back).  Returns 1 for the first line and for one at least an
 * interval after the last let through, with the number held back in
 * between in *suppressed, and starts counting again; else 0, counting
 * this line as held back.
 */
int ratelimit_allow(struct ratelimit *r, double now, unsigned *suppressed);

#endif
