/*
 * peer.c - judge a peer's identity against this node's.
 */
#include "peer.h"

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
