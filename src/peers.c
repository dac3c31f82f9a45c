/*
 * peers.c - ask the peers who they are, and judge the answers.
 */
#include <stdio.h>

#include "log.h"
#include "net.h"
#include "peers.h"

unsigned
peers_check(const struct cfg *c, const struct peer_identity *self, char *err,
    size_t errlen)
{
	struct peer_identity peer;
	char why[512], name[CFG_HOST_LEN + 16];
	unsigned i, conflicts = 0;

	for (i = 0; i < c->npeers; i++) {
		net_name(
		    c->peers[i].host, c->peers[i].port, name, sizeof(name));
		if (net_identity(
			name, PEERS_TIMEOUT_MS, &peer, why, sizeof(why)) != 0) {
			log_warnx("peer %s: %s (it may be down; checked again"
				  " in a minute)",
			    name, why);
			continue;
		}
		switch (peer_judge(self, &peer)) {
		case PEER_CONFLICT:
			if (conflicts++ == 0)
				snprintf(err, errlen,
				    "peer %s has this node's zone %lld dc %lld"
				    " machine %lld: both would hand out the "
				    "same"
				    " IDs; give one of them another machine_id",
				    name, self->zone, self->dc, self->machine);
			log_warnx(
			    "CONFLICT: peer %s has this node's zone %lld"
			    " dc %lld machine %lld and hands out the same IDs",
			    name, self->zone, self->dc, self->machine);
			break;
		case PEER_OTHER_DC:
			log_warnx(
			    "peer %s is in zone %lld dc %lld, this node in"
			    " zone %lld dc %lld: \"peers\" should list the"
			    " nodes of this data centre",
			    name, peer.zone, peer.dc, self->zone, self->dc);
			break;
		case PEER_SELF:
			log_debug("peer %s is this node", name);
			break;
		case PEER_OK:
			log_debug("peer %s: machine %lld", name, peer.machine);
			break;
		}
	}
	return conflicts;
}
