/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * statewatch.h - the master's watch over the state file while genid runs:
 * its own memory of the node, checked against the file on every tick.
 */
#ifndef GENID_STATEWATCH_H
#define GENID_STATEWATCH_H

#include <stdint.h>

#include "proto.h"
#include "statefile.h"

/* The master's own memory of the node, never read back from the file. */
struct statewatch {
	struct statefile *sf;
	struct state_header head; /* the header as the boot left it */
	uint32_t ckpt_seen;	  /* the highest safe checkpoint seen */
	struct proto_guard guard; /* the words a new worker is handed */
	unsigned interval_ms;	  /* of the checkpoint timer */
};

/*
 * Takes w's memory of the node from sf as the boot left it; the master
 * checks it every interval_ms.
 */
void statewatch_init(
    struct statewatch *w, struct statefile *sf, unsigned interval_ms);

/*
 * The checkpoint a copy of the file written at second now must hold,
 * buckets borrowing allowance seconds ahead of the clock.
 */
uint32_t statewatch_floor(
    const struct statewatch *w, int64_t now, uint32_t allowance);

/*
 * Whether the file was cut short, replaced, or written over (its
 * identity, a falling checkpoint, a bucket word that went back) while
 * genid ran: 1, logged, when the node must stop at once; else 0, with the
 * bucket words that passed remembered.
 */
int statewatch_damaged(struct statewatch *w);

/*
 * After damage: writes a new state file at the path from memory alone,
 * its checkpoint at least floor (0: none known) and the file's own when
 * higher, and keeps the damaged one beside it.  Logs what it did.
 */
void statewatch_rescue(struct statewatch *w, uint32_t floor);

/*
 * The file lost its name: writes it back from the mapping, to be kept
 * current with a checkpoint of at least floor.  Logs what it did.
 */
void statewatch_restore(struct statewatch *w, uint32_t floor);

/* The SIGBUS handler of a master whose file is cut under a read: exits. */
void statewatch_sigbus(int sig);

#endif
