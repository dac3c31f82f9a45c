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
 * again after D / rate.  Every step back is granted, however large: a
 * reduced rate never takes the IDs further from the clock than the step
 * left them.  An extra beyond max_slew is still granted but "far": the
 * node says so loudly.  A slew is held as the CLOCK_MONOTONIC millisecond
 * it ends at, which the master publishes and the workers read, so that
 * both compute the same extra at any time.  Everything here is a pure
 * function of its arguments.
 */
#ifndef GENID_CORE_SLEW_H
#define GENID_CORE_SLEW_H

#include <stdint.h>

/* What a slew that starts adds to the step: the second whole-second
 * borrowing may stand past the slew's top (slew_step). */
#define SLEW_WHOLE_MS 1000

/* clock_slew is held in millionths: 250000 is 0.25. */
#define SLEW_PPM 1000000u

struct slew_conf {
	uint32_t max_ahead; /* max_ahead_s: the allowance without a slew */
	uint32_t max_slew;  /* max_slew_s: the largest extra ever granted */
	uint32_t rate_ppm;  /* clock_slew in millionths, 1..SLEW_PPM - 1 */
};

struct slew {
	int64_t end_ms; /* when the extra runs out, 0 = no slew */
};

enum slew_event {
	SLEW_NONE,    /* nothing changed but the passing of time */
	SLEW_STARTED, /* a step back started a slew */
	SLEW_GREW,    /* a step back during a slew added to it */
	SLEW_SHRANK,  /* a step forward during a slew took from it */
	SLEW_ENDED,   /* the slew is over: the allowance is max_ahead again */
	SLEW_FAR,     /* a step back made the extra pass max_slew: granted */
};

/* Starts s at time now_ms with an extra of extra_ms (0: no slew). */
void slew_start(struct slew *s, const struct slew_conf *c, int64_t now_ms,
    int64_t extra_ms);

/*
 * The extra allowance, in milliseconds, at time now_ms of a slew that ends
 * at end_ms (0: none) shrinking at rate_ppm: what a worker computes from
 * the end the master publishes.
 */
int64_t slew_extra_until(int64_t end_ms, uint32_t rate_ppm, int64_t now_ms);

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
int64_t slew_left_ms(const struct slew *s, int64_t now_ms);

/* Whether the extra at time now_ms passes max_slew (and the second a
 * slew starts with). */
int slew_far(const struct slew *s, const struct slew_conf *c, int64_t now_ms);

/*
 * Applies a clock step of step_ms (negative: back) seen at time now_ms.
 * A step back adds its size to the extra, whatever its size (SLEW_FAR
 * when the sum passes max_slew), and SLEW_WHOLE_MS when it starts a slew;
 * a step forward takes its size from the extra.  Returns what changed.
 */
enum slew_event slew_step(
    struct slew *s, const struct slew_conf *c, int64_t now_ms, int64_t step_ms);

/*
 * Advances s to now_ms: SLEW_ENDED once, when the extra has run out since
 * the last call, else SLEW_NONE.  The allowance does not depend on it.
 */
enum slew_event slew_tick(struct slew *s, int64_t now_ms);

/*
 * The extra, in seconds, that a node starting at clock second now needs
 * for buckets resuming up to second highest: their lead beyond max_ahead.
 */
uint32_t slew_boot_extra(
    uint32_t now, uint32_t highest, const struct slew_conf *c);

/*
 * The lowest bucket word a slew lets no bucket issue at the wall-clock
 * millisecond now_ms (counted from the IDs' epoch): the position now +
 * max_ahead + extra, in seconds and the counters of a second spread over
 * it, so that a slewing bucket issues at 1 - rate of its capacity evenly
 * through each second instead of in whole seconds.  bucket_take issues
 * below the larger of this and its whole-second borrowing limit.
 */
uint64_t slew_top_word(int64_t now_ms, uint32_t max_ahead, int64_t extra_ms);

#endif
