/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * identity.h - a machine id leased from etcd (genid(8), "Identity").
 *
 * A node holds machine M of its dc while its lease holds the key
 * P/machines/Z/D/M; the key P/checkpoints/Z/D/M keeps the highest second
 * M's holders may have issued (idkeys.h).  The claim is made at start by
 * genid itself; then a process of its own, coordination (lease.h), renews
 * the lease and raises the checkpoint key, and publishes in the state
 * header how long the workers may issue (a CLOCK_MONOTONIC deadline, the
 * fence) and up to which second (the etcd checkpoint, the ceiling).
 */
#ifndef GENID_IDENTITY_H
#define GENID_IDENTITY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "claim.h"
#include "config.h"
#include "etcd.h"
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

/* Who claims: the node, and what its machine key's value names. */
struct identity_who {
	struct claim_node node; /* node id, host name, kernel boot */
	pid_t pid;		/* the master's */
	const char *listen;	/* the addresses served, a JSON array */
};

/* What the state file says before the claim of a start. */
struct identity_file {
	int have;	  /* it was made for this zone, dc and epoch */
	unsigned machine; /* ... and for this machine */
	uint64_t node;	  /* its node id, or a new one */
};

/* Renewals (and checkpoint raises) per lease: every ttl / 3, in ms. */
int64_t identity_renew_every_ms(const struct cfg *c);

/* Fills *who: node, this host's name and kernel boot, pid and listen. */
void identity_self(
    struct identity_who *who, uint64_t node, pid_t pid, const char *listen);

/* Writes c's etcd endpoints to out, for messages: "127.0.0.1:2379, ...". */
void identity_endpoints(const struct cfg *c, char *out, size_t len);

/*
 * One claim through e, without the waiting: 0 with *out, a sysexits.h
 * code, or -1 when etcd did not answer (err says why).
 */
int identity_claim_once(struct etcd *e, const struct cfg *c,
    const struct identity_who *who, int fixed, int prefer,
    struct identity_claim *out, char *err, size_t errlen);

/*
 * Claims the identity for a start: with "auto" (fixed < 0) prefer, else
 * the lowest free id; else exactly fixed.  0 with *out, or the
 * sysexits.h code with the reason in err: EX_UNAVAILABLE (etcd did not
 * answer), EX_TEMPFAIL (the dc is full), EX_CONFIG (the fixed id is held
 * by another node).
 */
int identity_claim(const struct cfg *c, const struct identity_who *who,
    int fixed, int prefer, struct identity_claim *out, char *err,
    size_t errlen);

/* Reads the state file's machine and node into *f before the claim. */
void identity_read_file(const struct cfg *c, struct identity_file *f);

/*
 * With coordination.etcd: claims the machine id before the state file is
 * taken (genid(8), "Identity"), waiting for etcd when wait.  "auto"
 * prefers the id the state file f was made for; a file made for an id
 * another node holds now is kept aside.  0 with *held CLAIM_HELD and *cl
 * (c->machine set), or CLAIM_UNCONFIRMED (a fixed id with its state file
 * while etcd does not answer); else a sysexits.h code with err.
 */
int identity_start(struct cfg *c, const struct identity_file *f,
    const char *listen, int wait, struct identity_claim *cl, unsigned *held,
    char *err, size_t errlen);

/*
 * After the start's rules (which may wait for the clock): renews the
 * lease and raises the checkpoint key; a lease that ran out meanwhile is
 * claimed again for node.  0, or a sysexits.h code with err (EX_TEMPFAIL:
 * another node used the id meanwhile; the next start resumes above it).
 */
int identity_keep(const struct cfg *c, struct statefile *sf, const char *listen,
    struct identity_claim *cl, uint64_t node, char *err, size_t errlen);

/* The etcd checkpoint another node wrote as an ID's second (>= 1), or 0. */
uint32_t identity_floor(const struct identity_claim *cl, int64_t epoch);

/* Publishes a claim in the state header (identity, lease, fence, ceiling). */
void identity_publish(
    struct statefile *sf, const struct identity_claim *cl, int64_t epoch);

/* Publishes the start's identity: the claim when held, else no lease. */
void identity_publish_start(struct statefile *sf, unsigned held,
    const struct identity_claim *cl, int64_t epoch);

/*
 * Renews the lease and raises the checkpoint key to what the buckets need
 * now (after the start's rules moved them): 1, or 0 / -1 with err (the
 * lease is gone / etcd did not answer).
 */
int identity_renew(
    const struct cfg *c, struct statefile *sf, char *err, size_t errlen);

/* One renewal through e while held: 1 renewed, 0 lost, -1 no answer. */
int identity_renew_once(
    struct etcd *e, const struct cfg *c, struct state_header *h);

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
