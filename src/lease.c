/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lease.c - the coordination process: keeps the machine id's lease in
 * etcd, raises its checkpoint key, claims the id again after losing it
 * (lease.h).
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "clock.h"
#include "checkpoint.h"
#include "children.h"
#include "etcd.h"
#include "id.h"
#include "identity.h"
#include "idkeys.h"
#include "lease.h"
#include "log.h"
#include "ratelimit.h"

/* After a failed renewal, the next try. */
#define RETRY_MS 250

static void fence_now(struct state_header *h);
static int reclaim(struct etcd *e, const struct cfg *c, struct statefile *sf,
    const char *listen, struct ratelimit *rl);
static void refresh_holder(struct etcd *e, const struct cfg *c,
    struct state_header *h, const char *listen);
static void hup_handler(int sig);

/* SIGHUP came: reopen the log (the master passes it on after logrotate). */
static volatile sig_atomic_t reopen_log;

/* Stops the workers from issuing, at once: the id may be someone else's. */
static void
fence_now(struct state_header *h)
{
	state_store((uint64_t *)&h->fence_ms, 1);
	__atomic_store_n(&h->identity, CLAIM_LOST, __ATOMIC_RELEASE);
	state_add(&h->identity_losses, 1);
}

/*
 * Claims this node's id again (lost, or never confirmed): 1 held, 0 not
 * yet, -1 etcd did not answer.  An id another node used meanwhile ends
 * the process with IDENTITY_EXIT_RESTART: the buckets must resume above
 * that node's checkpoint, which a start does.
 */
static int
reclaim(struct etcd *e, const struct cfg *c, struct statefile *sf,
    const char *listen, struct ratelimit *rl)
{
	struct state_header *h = sf->h;
	struct identity_who who;
	struct identity_claim cl;
	char err[1024];
	unsigned was = __atomic_load_n(&h->identity, __ATOMIC_ACQUIRE);
	unsigned suppressed;
	int64_t ckpt;
	int rc;

	/* The key names the master's pid, this process's parent. */
	identity_self(&who, h->node, (pid_t)h->master_pid, listen);
	rc = identity_claim_once(
	    e, c, &who, (int)h->machine, -1, &cl, err, sizeof(err));
	if (rc == -1)
		return -1;
	if (rc != 0) {
		if (ratelimit_allow(
			rl, (double)clock_mono_ms() / 1000, &suppressed))
			log_warnx("coordination: %s", err);
		if (rc == EX_CONFIG && was == CLAIM_UNCONFIRMED)
			fence_now(h);
		return 0;
	}
	/*
	 * Another node used the id meanwhile, up to a second not yet past:
	 * the buckets must resume above it.  The local checkpoint is raised
	 * to it durably, and the master stops without marking the stop clean
	 * (IDENTITY_EXIT_RESTART), so that the next start resumes above it.
	 * Once the clock is past it, whatever is issued from now on is too.
	 */
	ckpt = id_ts_of(cl.etcd_checkpoint, h->epoch);
	if (cl.foreign && ckpt >= id_ts_of(clock_real_s(), h->epoch)) {
		log_warnx("coordination: machine %u was used by another node"
			  " while this one did not hold it, up to %lld s from"
			  " now: restarting, to resume above its checkpoint",
		    cl.machine,
		    (long long)(ckpt - id_ts_of(clock_real_s(), h->epoch)));
		state_store((uint64_t *)&h->lease, (uint64_t)cl.lease);
		/* If this fails the key, still the other node's, is the floor
		 * of the restart. */
		if (ckpt > (int64_t)UINT32_MAX ||
		    checkpoint_raise(sf, (uint32_t)ckpt) == -1)
			log_warn("coordination: raise the checkpoint of %s"
				 " (the restart resumes above etcd's)",
			    sf->path);
		_exit(IDENTITY_EXIT_RESTART);
	}
	identity_publish(sf, &cl, h->epoch);
	log_notice("coordination: holds machine %u of zone %u dc %u %s",
	    cl.machine, h->zone, h->dc,
	    was == CLAIM_LOST ? "again: issuing" : "in etcd: fenced from now");
	return 1;
}

/*
 * Writes the machine key's value again, while this node's lease holds it:
 * the claim was made before genid became a daemon (-d), under another pid.
 */
static void
refresh_holder(struct etcd *e, const struct cfg *c, struct state_header *h,
    const char *listen)
{
	struct identity_who who;
	char key[ETCD_KEY_LEN], *value;
	int ok;

	identity_self(&who, h->node, (pid_t)h->master_pid, listen);
	idkeys_key(key, sizeof(key), c->etcd_prefix, IDKEYS_MACHINES, c->zone,
	    c->dc, h->machine);
	if ((value = idkeys_holder_value(
		 &who.node, who.pid, who.listen, h->lease)) == NULL)
		return;
	if (etcd_txn(e, json_pack("[o]", etcd_cmp_lease(key, h->lease)),
		json_pack("[o]", etcd_op_put(key, value, h->lease)),
		json_array(), &ok, NULL) == -1)
		log_warnx("coordination: etcd: %s", e->err);
	free(value);
}

static void
hup_handler(int sig)
{
	(void)sig;
	reopen_log = 1;
}

void
lease_run(const struct cfg *c, struct statefile *sf, const char *listen)
{
	struct state_header *h = sf->h;
	struct ratelimit down, taken;
	struct etcd e;
	unsigned suppressed;
	char eps[512];
	int64_t next;
	int rc;

	identity_endpoints(c, eps, sizeof(eps));
	/* The master passes SIGHUP on after logrotate: reopen the log. */
	signal(SIGHUP, hup_handler);
	children_hup_ready();
	ratelimit_init(&down, 10);
	ratelimit_init(&taken, 10);
	if (etcd_open(&e, c, identity_renew_every_ms(c) / 2) == -1) {
		log_warnx("coordination: %s", e.err);
		_exit(EX_SOFTWARE);
	}
	if (__atomic_load_n(&h->identity, __ATOMIC_ACQUIRE) == CLAIM_HELD)
		refresh_holder(&e, c, h, listen);
	for (;;) {
		int64_t start = clock_mono_ms();
		char why[512];

		if (reopen_log) {
			reopen_log = 0;
			if (log_reopen(why, sizeof(why)) == -1)
				log_warnx("coordination: SIGHUP: %s", why);
		}
		if (__atomic_load_n(&h->identity, __ATOMIC_ACQUIRE) ==
		    CLAIM_HELD) {
			rc = identity_renew_once(&e, c, h);
			if (rc == 0)
				fence_now(h);
		} else
			rc = reclaim(&e, c, sf, listen, &taken);
		if (rc == -1 &&
		    ratelimit_allow(&down, (double)start / 1000, &suppressed)) {
			int64_t left =
			    (int64_t)state_load((uint64_t *)&h->fence_ms) -
			    start;

			if (h->identity == CLAIM_HELD && left > 0)
				log_warnx("coordination: etcd (%s) did not"
					  " answer: %s; this node stops"
					  " issuing in %.1f s unless it does",
				    eps, e.err, left / 1000.0);
			else
				log_warnx("coordination: etcd (%s) did not"
					  " answer: %s",
				    eps, e.err);
		}
		if (e.failover[0] != '\0') {
			log_warnx("coordination: etcd endpoint failed: %s",
			    e.failover);
			e.failover[0] = '\0';
		}
		next =
		    start + (rc == 1 ? identity_renew_every_ms(c) : RETRY_MS);
		while ((start = clock_mono_ms()) < next) {
			struct timespec ts = {(next - start) / 1000,
			    (next - start) % 1000 * 1000000};

			nanosleep(&ts, NULL);
		}
	}
}
