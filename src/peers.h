/*
 * peers.h - the peer check (SPEC 7): ask the other nodes of the data
 * centre who they are.
 */
#ifndef GENID_PEERS_H
#define GENID_PEERS_H

#include <stddef.h>

#include "config.h"
#include "peer.h"

/* How long one peer may take to answer. */
#define PEERS_TIMEOUT_MS 1000

/*
 * Asks every peer of c and logs what it finds: a conflict as an error,
 * another data centre or an unreachable peer as a warning.  Returns the
 * number of conflicts, the first one described in err.
 */
unsigned peers_check(const struct cfg *c, const struct peer_identity *self,
    char *err, size_t errlen);

#endif
