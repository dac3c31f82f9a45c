/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * peer.c - judge a peer's identity against this node's.
 */
#include <stdlib.h>

#include "peer.h"

static int cmp_i64(const void *a, const void *b);

enum peer_verdict
peer_judge(const struct peer_identity *self, const struct peer_identity *peer)
{
	if (self->instance != 0 && peer->instance == self->instance)
		return PEER_SELF;
	if (peer->zone != self->zone || peer->dc != self->dc)
		return PEER_OTHER_DC;
	if (peer->machine == self->machine)
		return PEER_CONFLICT;
	return PEER_OK;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

int64_t
peer_median_ms(int64_t *offsets, unsigned n)
{
	qsort(offsets, n, sizeof(offsets[0]), cmp_i64);
	if (n % 2 == 1)
		return offsets[n / 2];
	/* Halves first: the sum of two large offsets must not overflow. */
	return offsets[n / 2 - 1] / 2 + offsets[n / 2] / 2 +
	    (offsets[n / 2 - 1] % 2 + offsets[n / 2] % 2) / 2;
}
