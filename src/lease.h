/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lease.h - the coordination process, which keeps the machine id leased
 * from etcd while genid runs (genid(8), "Identity").
 */
#ifndef GENID_LEASE_H
#define GENID_LEASE_H

#include "config.h"
#include "statefile.h"

/*
 * The coordination process: renews the lease, raises the checkpoint key,
 * claims the id again after losing it; publishes the fence and the
 * ceiling in sf's header.  listen is the key's JSON array of addresses.
 * Never returns.
 */
void lease_run(const struct cfg *c, struct statefile *sf, const char *listen)
    __attribute__((noreturn));

#endif
