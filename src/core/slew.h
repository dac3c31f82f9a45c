/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * slew.h - the borrowing allowance that carries a node through a clock
 * step back (genid(7)).
 *
 * Normally a bucket may borrow max_ahead seconds ahead of the clock.  When
 * the clock steps back by D, the buckets stand up to D further ahead of it;
 * the allowance then rises by D (the "extra") and the extra shrinks at
 * rate (clock_slew) of real, monotonic time, so that the buckets keep
 * issuing at 1 - rate of their capacity and the node meets the wall clock
 * again after D / rate.  An extra beyond max_slew is never granted: the
 * node then waits for the clock, as without a slew.  Everything here is a
 * pure function of its arguments; times are CLOCK_MONOTONIC milliseconds.
 */
#ifndef GENID_CORE_SLEW_H
#define GENID_CORE_SLEW_H

#include <stdint.h>

/* clock_slew is held in millionths: 250000 is 0.25. */
#define SLEW_PPM 1000000u

struct slew_conf {
	uint32_t max_ahead; /* max_ahead_s: the allowance without a slew */
	uint32_t max_slew;  /* max_slew_s: the largest extra ever granted */
	uint32_t rate_ppm;  /* clock_slew in millionths, 1..SLEW_PPM - 1 */
};

struct slew {
	int64_t extra_ms; /* the extra allowance at since_ms, >= 0 */
	int64_t since_ms; /* when it was set */
};

enum slew_event {
	SLEW_NONE,    /* nothing changed but the passing of time */
	SLEW_STARTED, /* a step back started a slew */
	SLEW_GREW,    /* a step back during a slew added to it */
	SLEW_SHRANK,  /* a step forward during a slew took from it */
	SLEW_ENDED,   /* the slew is over: the allowance is max_ahead again */
	SLEW_REFUSED, /* the step would need more than max_slew: not granted */
};

/* Starts s at time now_ms with an extra of extra_ms (0: no slew). */
void slew_start(struct slew *s, int64_t now_ms, int64_t extra_ms);

/* The extra allowance at time now_ms, in milliseconds (0: no slew). */
int64_t slew_extra_ms(
    const struct slew *s, const struct slew_conf *c, int64_t now_ms);

/*
 * The allowance at time now_ms: how many whole seconds a bucket's ts may
 * run ahead of the clock, max_ahead plus the extra rounded up.
 */
uint32_t slew_allowance(
    const struct slew *s, const struct slew_conf *c, int64_t now_ms);

/* How long until the slew ends at time now_ms, in milliseconds. */
int64_t slew_left_ms(
    const struct slew *s, const struct slew_conf *c, int64_t now_ms);

/*
 * Applies a clock step of step_ms (negative: back) seen at time now_ms.
 * A step back adds its size to the extra unless the sum would pass
 * max_slew; a step forward takes its size from the extra.  Returns what
 * changed.
 */
enum slew_event slew_step(
    struct slew *s, const struct slew_conf *c, int64_t now_ms, int64_t step_ms);

/*
 * Advances s to now_ms: SLEW_ENDED once, when the extra has run out since
 * the last call, else SLEW_NONE.  The allowance does not depend on it.
 */
enum slew_event slew_tick(
    struct slew *s, const struct slew_conf *c, int64_t now_ms);

/*
 * The extra, in seconds, that a node starting at clock second now needs
 * for buckets resuming up to second highest: their lead beyond max_ahead.
 */
uint32_t slew_boot_extra(
    uint32_t now, uint32_t highest, const struct slew_conf *c);

#endif
