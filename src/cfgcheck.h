/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cfgcheck.h - what a configuration trips on outside the file: genid -t,
 * and the warnings of a start.
 */
#ifndef GENID_CFGCHECK_H
#define GENID_CFGCHECK_H

#include <stddef.h>

#include "config.h"

/*
 * What a start with c, read from conf, would trip on outside the file
 * (genid -t): that the directories of state_file, pid_file and log_file
 * exist and are writable by "user" (by the caller when none is set), that
 * an existing state file is readable and writable and an existing log
 * file writable by it, that only root may switch to "user", that the
 * state file exists (or etcd is configured) and was made for this
 * identity and layout, and that the listen and metrics addresses are free
 * (a loopback address the host lacks is skipped while another is left).
 * A state file locked by a running genid, the addresses it serves, and
 * skipped addresses are notes, not problems.  Returns the number of
 * problems, each on its own line of err naming its key (0 with err empty);
 * the notes go to note the same way.
 */
int cfgcheck_start(const struct cfg *c, const char *conf, char *err,
    size_t errlen, char *note, size_t notelen);

/*
 * The refusal of a start without a state file, with both ways forward
 * (genid --init, --init-lost), into buf.
 */
void cfgcheck_no_state_file(
    const struct cfg *c, const char *conf, char *buf, size_t len);

/*
 * Logs the start's warnings about c (genid -t prints them too): IDs near
 * or past 2^63, and a node beyond loopback that nothing keeps unique,
 * that takes any client, or whose file does not set "epoch".
 */
void cfgcheck_warn_start(const struct cfg *c);

#endif
