/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * claim.c - the choice of a machine id to claim (claim.h).
 */
#include <string.h>

#include "claim.h"

static const char *const state_names[CLAIM_STATES] = {
    "static", "held", "lost", "unconfirmed"};

const char *
claim_state_name(unsigned state)
{
	return state < CLAIM_STATES ? state_names[state] : "unknown";
}

unsigned
claim_state_now(unsigned state, int64_t fence_ms, int64_t mono_ms)
{
	if (state == CLAIM_HELD && fence_ms != 0 && mono_ms >= fence_ms)
		return CLAIM_LOST;
	return state;
}

int
claim_is_self(const struct claim_node *holder, const struct claim_node *self)
{
	return holder->node != 0 && holder->node == self->node &&
	    strcmp(holder->host, self->host) == 0 &&
	    strcmp(holder->boot, self->boot) == 0;
}

/* How the key of machine i stands for self. */
static enum claim_verdict
verdict(const struct claim_holder *h, const struct claim_node *self)
{
	if (!h->held)
		return CLAIM_FREE;
	return claim_is_self(&h->by, self) ? CLAIM_RECLAIM : CLAIM_TAKEN;
}

struct claim_choice
claim_choose(const struct claim_holder holders[CLAIM_MACHINES],
    const struct claim_node *self, int fixed, int prefer)
{
	struct claim_choice c = {CLAIM_FULL, 0};
	unsigned i;

	if (fixed >= 0 && fixed < (int)CLAIM_MACHINES) {
		c.machine = (unsigned)fixed;
		c.verdict = verdict(&holders[fixed], self);
		return c;
	}
	if (prefer >= 0 && prefer < (int)CLAIM_MACHINES &&
	    verdict(&holders[prefer], self) != CLAIM_TAKEN) {
		c.machine = (unsigned)prefer;
		c.verdict = verdict(&holders[prefer], self);
		return c;
	}
	/* Its own earlier process holds one: that one, whatever prefer. */
	for (i = 0; i < CLAIM_MACHINES; i++)
		if (verdict(&holders[i], self) == CLAIM_RECLAIM) {
			c.machine = i;
			c.verdict = CLAIM_RECLAIM;
			return c;
		}
	for (i = 0; i < CLAIM_MACHINES; i++)
		if (!holders[i].held) {
			c.machine = i;
			c.verdict = CLAIM_FREE;
			return c;
		}
	return c;
}
