/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * identity.h - a machine id leased from etcd (genid(8), "Identity").
 *
 * Under coordination.prefix P, the key P/machines/Z/D/M names the node
 * holding machine M of dc D in zone Z; a lease holds it, so it goes when
 * its node stops renewing.  P/checkpoints/Z/D/M has no lease: it keeps the
 * highest second machine M's holders may have issued, so that a node
 * whose state file was lost, or a new host taking the id over, starts
 * above it.
 *
 * The claim is made at start by genid itself; then a process of its own,
 * "coordination", renews the lease and raises the checkpoint key, and
 * publishes in the state header how long the workers may issue (a
 * CLOCK_MONOTONIC deadline, the fence) and up to which second (the etcd
 * checkpoint, the ceiling).
 */
#ifndef GENID_IDENTITY_H
#define GENID_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "claim.h"
#include "config.h"
#include "statefile.h"

/* The coordination process exits with this to have genid restarted: the
 * id it held again was used by another node meanwhile. */
#define IDENTITY_EXIT_RESTART 75

struct identity_claim {
	unsigned machine;
	int64_t lease;
	int64_t fence_ms;	 /* CLOCK_MONOTONIC: issue only before it */
	int64_t ceiling_unix;	 /* the checkpoint key now: nothing above it */
	int64_t etcd_checkpoint; /* the key as found, Unix time; 0 = none */
	int foreign;		 /* ... written by another node */
	uint64_t writer;	 /* ... that node's id */
	int reclaimed;		 /* taken back from this node's own process */
};

/* Who this node is (claim.h): node id, host name, kernel boot. */
void identity_self(struct claim_node *self, uint64_t node);

/*
 * Claims the identity for a start: with "auto" (fixed < 0) prefer, else
 * the lowest free id; else exactly fixed.  listen is a JSON array of the
 * addresses the node serves, for the key's value.  0 with *out, or the
 * sysexits.h code with the reason in err: EX_UNAVAILABLE (etcd did not
 * answer), EX_TEMPFAIL (the dc is full), EX_CONFIG (the fixed id is held
 * by another node).
 */
int identity_claim(const struct cfg *c, const struct claim_node *self,
    int fixed, int prefer, const char *listen, struct identity_claim *out,
    char *err, size_t errlen);

/* Publishes a claim in the state header (identity, lease, fence, ceiling). */
void identity_publish(
    struct statefile *sf, const struct identity_claim *cl, int64_t epoch);

/*
 * Renews the lease and raises the checkpoint key to what the buckets need
 * now (after the start's rules moved them): 1, or 0 / -1 with err (the
 * lease is gone / etcd did not answer).
 */
int identity_renew(
    const struct cfg *c, struct statefile *sf, char *err, size_t errlen);

/*
 * The coordination process: renews the lease, raises the checkpoint key,
 * claims the id again after losing it.  Never returns.
 */
void identity_run(const struct cfg *c, struct statefile *sf, const char *listen)
    __attribute__((noreturn));

/* At a clean stop, after the last worker: ends the lease (the id is free
 * at once). */
void identity_release(const struct cfg *c, struct statefile *sf);

/*
 * The other nodes of the dc that hold an id in etcd (all but the ones of
 * state file node), as the peers of the clock check: into peers[0..max),
 * the number found, or -1 with err.
 */
int identity_peers(const struct cfg *c, uint64_t node, struct cfg_addr *peers,
    unsigned max, char *err, size_t errlen);

#endif
