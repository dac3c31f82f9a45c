/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * worker.h - a worker process: one libev loop serving the buckets it owns.
 */
#ifndef GENID_WORKER_H
#define GENID_WORKER_H

#include <sysexits.h>

#include "config.h"
#include "proto.h"
#include "statefile.h"

/* A worker that exits with this code is not respawned (like nginx's 2). */
#define WORKER_EXIT_FATAL EX_CONFIG
/*
 * A worker that found the state file changed under the node (or died of
 * SIGBUS on its lost pages) exits with this code: the master stops the
 * node (genid(8), "A damaged state file").
 */
#define WORKER_EXIT_DAMAGED EX_IOERR

/*
 * Runs worker slot id in a freshly forked child: takes over the buckets it
 * owns, trusting their words in the file only as far as guard (the
 * master's memory of the node) allows, serves the listening sockets fds
 * until SIGTERM, and exits.
 */
void worker_run(const struct cfg *cfg, struct statefile *sf,
    const struct proto_guard *guard, const int *fds, unsigned nfds,
    unsigned id) __attribute__((noreturn));

#endif
