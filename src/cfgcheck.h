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
 * What a start with c would trip on outside the file (genid -t): that the
 * directories of state_file, pid_file and log_file exist and are writable
 * by "user" (by the caller when none is set), that an existing log file is
 * writable by it, and that only root may switch to "user".  Returns the
 * number of problems, each on its own line of err naming its key; 0 with
 * err empty.
 */
int cfgcheck_start(const struct cfg *c, char *err, size_t errlen);

/*
 * Logs the start's warnings about c: IDs near or past 2^63, and a node
 * beyond loopback that nothing keeps unique or that takes any client.
 */
void cfgcheck_warn_start(const struct cfg *c);

#endif
