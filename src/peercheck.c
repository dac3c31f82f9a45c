/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * peercheck.c - the daemon's peer check (genid(8)): who the peers are (the
 * list, or etcd's holders), the start's refusal of a twin or a skewed
 * clock, the minute's check in a child of the master, and the header's
 * peer fields.  Asking and judging a peer is peers.c's, shared with
 * genidctl.
 */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "id.h"
#include "identity.h"
#include "log.h"
#include "peercheck.h"
#include "peers.h"

static const struct cfg *peers_of(const struct cfg *conf, uint64_t node);
static void ask(const struct cfg *c, const struct peer_identity *self,
    struct peercheck_found *f, struct peers_clock *clock, char *err,
    size_t errlen);
static void log_clock(const struct cfg *c, const struct peers_clock *clock);

/*
 * The peers to ask: the list of conf, or with etcd the other nodes of the
 * dc that hold an id there (not node).  When etcd cannot say, the check
 * goes on with no peers: NULL, logged.
 */
static const struct cfg *
peers_of(const struct cfg *conf, uint64_t node)
{
	static struct cfg with_etcd_peers;
	char err[1024];
	int found;

	if (conf->netcd == 0)
		return conf;
	with_etcd_peers = *conf;
	found = identity_peers(
	    conf, node, with_etcd_peers.peers, CFG_MAX_PEERS, err, sizeof(err));
	if (found == -1) {
		log_warnx("peer check: %s: the clock is not compared with the"
			  " other nodes",
		    err);
		return NULL;
	}
	with_etcd_peers.npeers = (unsigned)found;
	return &with_etcd_peers;
}

/* Asks the peers of c once; the first conflict is described in err. */
static void
ask(const struct cfg *c, const struct peer_identity *self,
    struct peercheck_found *f, struct peers_clock *clock, char *err,
    size_t errlen)
{
	f->conflicts = peers_check(c, self, err, errlen, clock);
	f->checked = clock_real_s();
	f->skew_ms = clock->skew_ms;
	f->answered = clock->answered;
}

/*
 * A peer with this node's identity stops the start (genid(8)), and so does
 * a clock too far from the peers' (unless --wait-clock: then it waits
 * for the clock, asking the peers again every second).  With etcd the
 * peers are asked before this node claims its id, so that slow peers cost
 * no lease.
 */
int
peercheck_start(const struct cfg *conf, uint64_t instance, uint64_t node,
    int wait_clock, struct peercheck_found *f, char *err, size_t errlen)
{
	const struct cfg *c;
	struct peer_identity self = {conf->zone, conf->dc,
	    conf->machine_auto ? ID_MACHINE_MAX + 1 : conf->machine, instance};
	struct peers_clock clock;
	char skew[2048];
	unsigned waited = 0;

	memset(f, 0, sizeof(*f));
	if ((c = peers_of(conf, node)) == NULL || c->npeers == 0)
		return 0;
	for (;;) {
		ask(c, &self, f, &clock, err, errlen);
		if (f->conflicts > 0)
			return EX_CONFIG;
		if (!peers_skewed(c, &clock))
			break;
		peers_describe_skew(c, &clock, skew, sizeof(skew));
		if (!wait_clock) {
			snprintf(err, errlen,
			    "%s: correct the clock (NTP), or start with"
			    " --wait-clock to wait for it",
			    skew);
			return EX_TEMPFAIL;
		}
		if (waited++ % 30 == 0)
			log_warnx(
			    "%s: waiting for the clock (--wait-clock)", skew);
		sleep(1);
	}
	if (waited > 0)
		log_notice("the clock is within %u s of the peers' again after"
			   " %u s",
		    c->max_peer_skew_s, waited);
	if (clock.answered > 0)
		log_info("the clock is %+.1f s from the median of %u peers",
		    clock.skew_ms / 1000.0, clock.answered);
	return 0;
}

void
peercheck_store(struct statefile *sf, const struct peercheck_found *f)
{
	state_store(&sf->h->peer_conflicts, f->conflicts);
	state_store((uint64_t *)&sf->h->peer_checked, (uint64_t)f->checked);
	state_store((uint64_t *)&sf->h->peer_skew_ms, (uint64_t)f->skew_ms);
	state_store(&sf->h->peer_clocks, f->answered);
}

/* The minute's comparison of the clocks: loud when too far off. */
static void
log_clock(const struct cfg *c, const struct peers_clock *clock)
{
	char line[2048];

	if (clock->answered == 0)
		return;
	peers_describe_skew(c, clock, line, sizeof(line));
	if (peers_skewed(c, clock))
		log_warnx("CLOCK: %s: correct the clock (NTP); the IDs of the"
			  " nodes disagree in time by as much",
		    line);
	else
		log_info("peer clocks: %s", line);
}

/*
 * When etcd cannot name the peers the header keeps the last check's
 * findings: nothing was checked this minute.
 */
void
peercheck_run(const struct cfg *conf, struct statefile *sf)
{
	struct state_header *h = sf->h;
	struct peer_identity self = {h->zone, h->dc, h->machine, h->instance};
	struct peercheck_found f;
	struct peers_clock clock;
	const struct cfg *c;
	char err[1024];

	if ((c = peers_of(conf, h->node)) == NULL)
		_exit(0);
	ask(c, &self, &f, &clock, err, sizeof(err));
	peercheck_store(sf, &f);
	log_clock(c, &clock);
	_exit(0);
}
