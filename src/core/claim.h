/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * claim.h - which machine id of its dc a node claims from etcd (genid(7),
 * "Identity").  The daemon reads the holders of the dc's eight keys and
 * asks claim_choose; the transaction that takes the key is its own.
 */
#ifndef GENID_CORE_CLAIM_H
#define GENID_CORE_CLAIM_H

#include <stdint.h>

#include "id.h"

#define CLAIM_MACHINES (ID_MACHINE_MAX + 1)
#define CLAIM_NAME_LEN 64

/*
 * Who a node is: its state file's random node id, the host name and the
 * kernel boot it runs under.  The holder of a key is described the same
 * way by the key's value.
 */
struct claim_node {
	uint64_t node;
	char host[CLAIM_NAME_LEN];
	char boot[CLAIM_NAME_LEN];
};

struct claim_holder {
	int held; /* the key exists: a live lease holds it */
	struct claim_node by;
};

enum claim_verdict {
	CLAIM_FREE,    /* the key is free: take it */
	CLAIM_RECLAIM, /* held by this node's own earlier process: replace */
	CLAIM_FULL,    /* "auto": every id of the dc is held */
	CLAIM_TAKEN,   /* a fixed id another node holds */
};

/* How a node holds its identity: state_header.identity. */
enum claim_state {
	CLAIM_STATIC,	   /* no coordination: machine_id as configured */
	CLAIM_HELD,	   /* leased from etcd, renewed */
	CLAIM_LOST,	   /* the lease is gone: nothing is issued */
	CLAIM_UNCONFIRMED, /* a fixed id, etcd did not answer at start */
	CLAIM_STATES
};

/* Its name: "static", "held", "lost", "unconfirmed". */
const char *claim_state_name(unsigned state);

/*
 * The state to show for state with its fence at fence_ms, at mono_ms (both
 * CLOCK_MONOTONIC): a held identity whose fence has passed is shown lost,
 * as the workers treat it, before the coordination process says so.
 */
unsigned claim_state_now(unsigned state, int64_t fence_ms, int64_t mono_ms);

struct claim_choice {
	enum claim_verdict verdict;
	unsigned machine;
};

/*
 * Whether holder is self's own earlier process: the same state file (node
 * id), host and boot.  The caller holds the state file's lock, so that
 * process is gone, and its lease may be replaced at once.  A copy of the
 * state file on another host or after a reboot waits for the lease.
 */
int claim_is_self(
    const struct claim_node *holder, const struct claim_node *self);

/*
 * The id to claim.  fixed >= 0: exactly that one (CLAIM_TAKEN when someone
 * else holds it).  fixed < 0 ("auto"): prefer (the id the state file was
 * made for, or -1) when it is free or self's, else the lowest free id,
 * else CLAIM_FULL.
 */
struct claim_choice claim_choose(
    const struct claim_holder holders[CLAIM_MACHINES],
    const struct claim_node *self, int fixed, int prefer);

#endif
