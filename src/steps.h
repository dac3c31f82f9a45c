/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * steps.h - what the master does about the clock's steps (genid(7)): it
 * counts and logs each step clock.c finds, starts a slew after a step
 * back, and writes the allowance the workers borrow under.
 */
#ifndef GENID_STEPS_H
#define GENID_STEPS_H

#include <stdint.h>

#include "slew.h"
#include "state.h"

/* A step smaller than this is timer jitter, not a step. */
#define STEPS_TOLERANCE_NS (250 * 1000 * 1000LL)

/*
 * Starts watching the clock for the node of header h under conf: the
 * boot's slew (checkpoint_boot left its extra seconds in h) starts now,
 * and the steps clock_watch finds from here on go to this module.
 */
void steps_start(struct state_header *h, const struct slew_conf *conf);

/*
 * A tick of the master: samples the clock (a step is counted, logged and
 * slewed), moves the slew on by the time passed, writes the allowance and
 * the slew's fields to the header, and returns the allowance.
 */
uint32_t steps_tick(void);

/* The allowance now, from the master's own slew, not the file's copy. */
uint32_t steps_allowance(void);

#endif
