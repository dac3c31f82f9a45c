/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * clock.h - the one reader of the clocks in genid and genidctl: the wall
 * clock that IDs are stamped with, and the monotonic clock that timers,
 * heartbeats and the fence of a leased identity are told in (chrony's
 * LCL_ReadRawTime, OpenBSD ntpd's gettime).  A step of the wall clock
 * against the monotonic one is found here and handed to the parts that
 * asked for it.  A test puts a simulated clock in place of the system's.
 */
#ifndef GENID_CLOCK_H
#define GENID_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Where the clocks are read: the system's, or a test's. */
struct clock_source {
	/* Both clocks at one moment. */
	void (*read)(struct timespec *real, struct timespec *mono);
};

/* Reads the clocks from src from now on; NULL goes back to the system's. */
void clock_use(const struct clock_source *src);

/* The wall clock (CLOCK_REALTIME). */
void clock_real(struct timespec *now);

/* The wall clock in whole seconds since 1970 (what time(NULL) gives). */
int64_t clock_real_s(void);

/* The monotonic clock (CLOCK_MONOTONIC). */
void clock_mono(struct timespec *now);

/* The monotonic clock (CLOCK_MONOTONIC) in milliseconds. */
int64_t clock_mono_ms(void);

/*
 * Registers fn to be called with arg and the size of every step the wall
 * clock takes against the monotonic one (nanoseconds, negative for a step
 * back), as clock_watch finds them.  0, or -1 when the table is full.
 */
int clock_on_step(void (*fn)(int64_t step_ns, void *arg), void *arg);

/*
 * Samples both clocks.  A step of at least tolerance_ns since the last
 * sample goes to every registered function and is returned; else 0.  The
 * first call only takes the sample.
 */
int64_t clock_watch(int64_t tolerance_ns);

/* Forgets the last sample and the registered functions (a new process). */
void clock_reset(void);

#endif
