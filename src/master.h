/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * master.h - the master process: listening sockets, workers, checkpoint.
 */
#ifndef GENID_MASTER_H
#define GENID_MASTER_H

#include <stddef.h>

#include "config.h"
#include "statefile.h"

/*
 * Forks the workers and supervises them until SIGTERM or SIGINT; keeps
 * the checkpoint ahead of the clock and serves /metrics on metrics_fds.
 * Returns the exit code.
 */
int master_run(const struct cfg *cfg, struct statefile *sf, const int *fds,
    unsigned nfds, const int *metrics_fds, unsigned nmetrics,
    const char *listen);

#endif
