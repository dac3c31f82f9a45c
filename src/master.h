/*
 * master.h - the master process: listening sockets, workers, checkpoint.
 */
#ifndef GENID_MASTER_H
#define GENID_MASTER_H

#include <stddef.h>

#include "config.h"
#include "statefile.h"

#define MASTER_MAX_FDS (CFG_MAX_LISTEN * 2)

/*
 * Binds and listens on every address of addrs (a host name may give
 * several), logging "WHAT on HOST:PORT" for each.  Returns the number of
 * sockets put in fds, or -1 with the reason in err.
 */
int master_listen(const struct cfg_addr *addrs, unsigned naddrs,
    const char *what, int *fds, size_t maxfds, char *err, size_t errlen);

/*
 * Forks the workers and supervises them until SIGTERM or SIGINT; keeps
 * the checkpoint ahead of the clock and serves /metrics on metrics_fds.
 * Returns the exit code.
 */
int master_run(const struct cfg *cfg, struct statefile *sf, const int *fds,
    unsigned nfds, const int *metrics_fds, unsigned nmetrics);

#endif
