/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * peercheck.h - the daemon's peer check (genid(8)): once at the start,
 * then every minute in a child of the master.
 */
#ifndef GENID_PEERCHECK_H
#define GENID_PEERCHECK_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "statefile.h"

/* What a peer check found, for the state header. */
struct peercheck_found {
	uint64_t conflicts; /* peers with this node's identity */
	int64_t checked;    /* when (time(2)); 0: not checked */
	int64_t skew_ms;    /* this clock minus the peers' median */
	uint64_t answered;  /* peers whose clock was read */
};

/*
 * The start's check of the peers of c, or with etcd of the other nodes of
 * the dc that hold an id there (not node, this state file's own); machine
 * is the fixed id, or none for "auto".  Waits while the clock is too far
 * from the peers' when wait_clock.  Returns 0 with what it found in f, or
 * the sysexits.h code that stops the start with the reason in err: a peer
 * with this node's identity, or a clock too far off.
 */
int peercheck_start(const struct cfg *c, uint64_t instance, uint64_t node,
    int wait_clock, struct peercheck_found *f, char *err, size_t errlen);

/* Writes what a check found into the peer fields of sf's header. */
void peercheck_store(struct statefile *sf, const struct peercheck_found *f);

/*
 * The minute's check, in a child of the master and the only writer of the
 * peer fields meanwhile: asks the peers as peercheck_start does, stores
 * what it finds and logs the clocks.  Exits 0.
 */
void peercheck_run(const struct cfg *c, struct statefile *sf)
    __attribute__((noreturn));

#endif
