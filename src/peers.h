/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * peers.h - what genid and genidctl ask other genid servers, through
 * libgenid (src/client): INFO, and the peer check (genid(8)) that asks the
 * other nodes of the data centre who they are.
 */
#ifndef GENID_PEERS_H
#define GENID_PEERS_H

#include <stddef.h>

#include <jansson.h>

#include "config.h"
#include "peer.h"

/* How long one peer may take to answer the daemon's check. */
#define PEERS_TIMEOUT_MS 1000

struct genid_client;

/* What the peer check learnt of one peer. */
struct peers_report {
	const char *name;	   /* the peer as host:port */
	int code;		   /* 0, or the sysexits.h code of a failure */
	const char *why;	   /* the failure, when code is not 0 */
	enum peer_verdict verdict; /* when code is 0 */
	const struct peer_identity *self; /* this node */
	const struct peer_identity *peer; /* when code is 0 */
	/*
	 * When code is 0 and has_clock: this node's clock minus the peer's
	 * "now", in milliseconds, taken half way through the round trip
	 * (the peer's whole second counts as its middle).
	 */
	int has_clock;
	int64_t offset_ms;
};

/* The peers' clocks against this node's, from one check (issue 9). */
struct peers_clock {
	unsigned answered; /* peers whose clock was read, this node not */
	int64_t skew_ms;   /* this clock minus their median, if answered */
	char peers[1024];  /* "host:port +0.3 s, ..." of those that answered */
};

/* The sysexits.h code for the errno of a failed libgenid call. */
int peers_exit_code(int errnum);

/*
 * Asks the server of c for INFO.  Returns 0 with the JSON object in *info
 * and, when text is not NULL, the reply as received in a malloc'ed
 * string; or the sysexits.h code that fits with the reason in err.
 */
int peers_info(struct genid_client *c, json_t **info, char **text, char *err,
    size_t errlen);

/*
 * Asks every peer of c who it is, waiting at most timeout_ms for each,
 * and calls report once per peer with what it found.  Returns the number
 * of peers in conflict with self.
 */
unsigned peers_ask(const struct cfg *c, const struct peer_identity *self,
    int timeout_ms, void (*report)(const struct peers_report *, void *),
    void *arg);

/*
 * The daemon's check: asks every peer of c and logs what it finds, a
 * conflict as an error, another data centre or an unreachable peer as a
 * warning.  Fills clock with the comparison of the clocks when not NULL.
 * Returns the number of conflicts, the first one described in err.
 */
unsigned peers_check(const struct cfg *c, const struct peer_identity *self,
    char *err, size_t errlen, struct peers_clock *clock);

/*
 * Whether clock, from a check of the peers of c, puts this node's clock
 * more than max_peer_skew_s away from the peers' median; 1 or 0 (never
 * when no peer answered or the check is off).
 */
int peers_skewed(const struct cfg *c, const struct peers_clock *clock);

/* One line on clock for the log and for a refused start. */
void peers_describe_skew(const struct cfg *c, const struct peers_clock *clock,
    char *buf, size_t len);

#endif
