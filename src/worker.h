/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * worker.h - a worker process: one libev loop serving the buckets it owns.
 */
#ifndef GENID_WORKER_H
#define GENID_WORKER_H

#include <sysexits.h>

#include "config.h"
#include "statefile.h"

/* A worker that exits with this code is not respawned (like nginx's 2). */
#define WORKER_EXIT_FATAL EX_CONFIG

/*
 * Runs worker slot id in a freshly forked child: takes over the buckets it
 * owns, serves the listening sockets fds until SIGTERM, and exits.
 */
void worker_run(const struct cfg *cfg, struct statefile *sf, const int *fds,
    unsigned nfds, unsigned id) __attribute__((noreturn));

#endif
