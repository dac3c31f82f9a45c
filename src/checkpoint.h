/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * checkpoint.h - the timestamp high-water mark (genid(7)).
 */
#ifndef GENID_CHECKPOINT_H
#define GENID_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "slew.h"
#include "statefile.h"

/*
 * Raises the checkpoint to at least target: the durable field first, then
 * msync, then the field workers issue under.  0, or -1 with errno set (the
 * safe field is then left where it was).  After a failed msync the next
 * RAISE_RETRY_MS fail at once without another msync.
 */
int checkpoint_raise(struct statefile *sf, uint32_t target);

/*
 * After checkpoint_raise failed: logs why, at most once every 10 s per
 * process, with the count of failures since the last message; what names
 * the caller ("the checkpoint timer", "raising the checkpoint").
 */
void checkpoint_warn(const struct statefile *sf, const char *what);

/* Seconds since epoch now, or -1 when the clock is before the epoch. */
int64_t checkpoint_now(int64_t epoch);

/*
 * Applies the start-up rules to a freshly opened state file: refuses a
 * damaged bucket table; refuses (or, with wait_clock, waits) while the
 * clock is further behind the checkpoint than a slew carries (sc); then
 * resumes the buckets where they stood after a clean stop, or else at the
 * larger of their word and the checkpoint + 1; zeroes the live counters, counts the boot, writes the
 * allowance the buckets' lead needs (a slew, state.h) and raises the
 * checkpoint to it.  floor: the checkpoint etcd keeps for the identity,
 * written by another node (an ID's second; 0 = none): the buckets resume
 * above it and a new file does not wait.  0, or the sysexits.h code with
 * a one-line reason in err.
 */
int checkpoint_boot(struct statefile *sf, const struct slew_conf *sc,
    int wait_clock, uint32_t floor, char *err, size_t errlen);

/*
 * genid --init-lost: raises the checkpoint of a new state file to now +
 * 2 * max_ahead + 1, above anything a predecessor with the same identity,
 * whose file was lost, may have issued.  0, or the sysexits.h code with
 * the reason in err.
 */
int checkpoint_init_lost(struct statefile *sf, int64_t now, unsigned max_ahead,
    char *err, size_t errlen);

/* After the last worker is gone: syncs the whole table and marks the
 * stop clean.  0, or -1 with errno set (the next start then counts as
 * after a crash). */
int checkpoint_shutdown(struct statefile *sf);

#endif
