/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * scrape.h - the master's /metrics endpoint for Prometheus (metrics).
 */
#ifndef GENID_SCRAPE_H
#define GENID_SCRAPE_H

#include <ev.h>

#include "statefile.h"

/*
 * Serves HTTP GET /metrics on the listening sockets fds with the counters
 * of sf, in the master's loop.
 */
void scrape_start(struct ev_loop *loop, const int *fds, unsigned nfds,
    const struct statefile *sf);

/* Stops serving and closes the sockets (shutdown, or in a new worker). */
void scrape_stop(struct ev_loop *loop);

#endif
