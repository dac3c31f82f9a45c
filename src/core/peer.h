/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * peer.h - what a peer's identity means for this node (genid(8)).
 */
#ifndef GENID_CORE_PEER_H
#define GENID_CORE_PEER_H

#include <stdint.h>

struct peer_identity {
	long long zone;
	long long dc;
	long long machine;
	uint64_t instance; /* random per master start; 0 = not known */
};

enum peer_verdict {
	PEER_OK,       /* same data centre, another machine */
	PEER_SELF,     /* this very node, listed among its own peers */
	PEER_CONFLICT, /* same zone, dc and machine: the same IDs */
	PEER_OTHER_DC, /* another zone or dc: a misconfiguration */
};

/* Judges the identity a peer reported against this node's own. */
enum peer_verdict peer_judge(
    const struct peer_identity *self, const struct peer_identity *peer);

/*
 * The median of n > 0 clock offsets in milliseconds (local clock minus a
 * peer's), sorting offsets in place; the mean of the middle two when n is
 * even.
 */
int64_t peer_median_ms(int64_t *offsets, unsigned n);

#endif
