/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * identity.c - the machine id leased from etcd: the claim and the renewals
 * of a start, the release at a clean stop (identity.h).
 */
#include <bsd/stdlib.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "clock.h"
#include "addr.h"
#include "etcd.h"
#include "id.h"
#include "identity.h"
#include "idkeys.h"
#include "log.h"

/* Workers stop this long before the lease can end in etcd. */
#define FENCE_MARGIN_MS 1000
/* Claims that lose a race to another node before giving up. */
#define CLAIM_TRIES 8u

/* The dc's eight machine keys as read from etcd. */
struct holders {
	struct claim_holder h[CLAIM_MACHINES];
	int64_t rev[CLAIM_MACHINES];	/* mod_revision of each key */
	int64_t lease[CLAIM_MACHINES];	/* the lease holding it */
	char desc[CLAIM_MACHINES][160]; /* the holder, for messages */
	char listen[CLAIM_MACHINES][CFG_HOST_LEN + 16]; /* its first address */
};

static int64_t headroom_s(const struct cfg *c);
static int raise_checkpoint(struct etcd *e, const struct cfg *c,
    unsigned machine, uint64_t node, int64_t lease, int64_t at);
static int read_holders(
    struct etcd *e, const struct cfg *c, struct holders *hs);
static int refuse(const struct cfg *c, const struct claim_choice *ch,
    const struct holders *hs, char *err, size_t errlen);
static int take_key(struct etcd *e, const struct cfg *c,
    const struct identity_who *who, const struct claim_choice *ch, int64_t rev,
    int64_t old_lease, struct identity_claim *out);
static int claim_waiting(const struct cfg *c, const struct identity_who *who,
    const struct identity_file *f, int wait, struct identity_claim *cl,
    char *err, size_t errlen);
static int64_t next_ceiling(const struct cfg *c, const struct state_header *h);

int64_t
identity_renew_every_ms(const struct cfg *c)
{
	return (int64_t)c->lease_ttl_s * 1000 / 3;
}

/*
 * How far the checkpoint key is kept ahead of what the workers may issue:
 * one renewal period and two seconds, so that it stays ahead until the
 * next raise.
 */
static int64_t
headroom_s(const struct cfg *c)
{
	return (identity_renew_every_ms(c) + 999) / 1000 + 2;
}

void
identity_self(
    struct identity_who *who, uint64_t node, pid_t pid, const char *listen)
{
	uint64_t boot[2];

	memset(who, 0, sizeof(*who));
	who->node.node = node;
	if (gethostname(who->node.host, sizeof(who->node.host) - 1) == -1)
		snprintf(who->node.host, sizeof(who->node.host), "unknown");
	statefile_kernel_boot(boot);
	snprintf(who->node.boot, sizeof(who->node.boot),
	    "%016" PRIx64 "%016" PRIx64, boot[0], boot[1]);
	who->pid = pid;
	who->listen = listen;
}

/*
 * Raises the checkpoint key of machine to at (Unix time), if this node's
 * lease still holds the machine key.  1 done, 0 the key is not held by
 * lease (any more), -1 etcd did not answer.
 */
static int
raise_checkpoint(struct etcd *e, const struct cfg *c, unsigned machine,
    uint64_t node, int64_t lease, int64_t at)
{
	char mkey[ETCD_KEY_LEN], ckey[ETCD_KEY_LEN], value[128];
	int ok;

	idkeys_key(mkey, sizeof(mkey), c->etcd_prefix, IDKEYS_MACHINES, c->zone,
	    c->dc, machine);
	idkeys_key(ckey, sizeof(ckey), c->etcd_prefix, IDKEYS_CHECKPOINTS,
	    c->zone, c->dc, machine);
	idkeys_checkpoint_value(value, sizeof(value), at, node);
	if (etcd_txn(e, json_pack("[o]", etcd_cmp_lease(mkey, lease)),
		json_pack("[o]", etcd_op_put(ckey, value, 0)), json_array(),
		&ok, NULL) == -1)
		return -1;
	return ok ? 1 : 0;
}

/* The holders of the dc's eight keys into *hs; 0, or -1. */
static int
read_holders(struct etcd *e, const struct cfg *c, struct holders *hs)
{
	struct etcd_kv kvs[CLAIM_MACHINES * 2];
	char prefix[ETCD_KEY_LEN], end[ETCD_KEY_LEN];
	unsigned zone, dc, m;
	long n, i;

	idkeys_dc_dir(prefix, sizeof(prefix), c->etcd_prefix, IDKEYS_MACHINES,
	    c->zone, c->dc);
	etcd_prefix_end(prefix, end, sizeof(end));
	if ((n = etcd_range(e, prefix, end, kvs, CLAIM_MACHINES * 2)) == -1)
		return -1;
	memset(hs, 0, sizeof(*hs));
	for (i = 0; i < n && i < (long)(CLAIM_MACHINES * 2); i++) {
		if (idkeys_parse(kvs[i].key, c->etcd_prefix, IDKEYS_MACHINES,
			&zone, &dc, &m) == -1 ||
		    zone != c->zone || dc != c->dc || m >= CLAIM_MACHINES)
			continue;
		hs->h[m].held = 1;
		hs->rev[m] = kvs[i].mod_revision;
		hs->lease[m] = kvs[i].lease;
		idkeys_parse_holder(kvs[i].value, &hs->h[m].by, hs->desc[m],
		    sizeof(hs->desc[m]), hs->listen[m], sizeof(hs->listen[m]));
	}
	return 0;
}

void
identity_endpoints(const struct cfg *c, char *out, size_t len)
{
	char one[CFG_HOST_LEN + 16];
	size_t o = 0;
	unsigned i;

	out[0] = '\0';
	for (i = 0; i < c->netcd && o < len; i++)
		o += (size_t)snprintf(out + o, len - o, "%s%s", i ? ", " : "",
		    addr_format(
			c->etcd[i].host, c->etcd[i].port, one, sizeof(one)));
}

static int
refuse(const struct cfg *c, const struct claim_choice *ch,
    const struct holders *hs, char *err, size_t errlen)
{
	size_t o;
	unsigned i;

	if (ch->verdict == CLAIM_TAKEN) {
		snprintf(err, errlen,
		    "machine_id %u of zone %u dc %u is held in etcd by %s:"
		    " two nodes with one identity issue the same IDs; choose"
		    " a free machine_id (genidctl fleet), or \"auto\"",
		    ch->machine, c->zone, c->dc, hs->desc[ch->machine]);
		return EX_CONFIG;
	}
	o = (size_t)snprintf(err, errlen,
	    "dc %u of zone %u is full: machines 0-%u are held in etcd (", c->dc,
	    c->zone, CLAIM_MACHINES - 1);
	for (i = 0; i < CLAIM_MACHINES && o < errlen; i++)
		o += (size_t)snprintf(err + o, errlen - o, "%s%u: %s",
		    i ? "; " : "", i, hs->desc[i]);
	if (o < errlen)
		snprintf(err + o, errlen - o,
		    "); stop one, or give this node another \"dc_id\""
		    " (genidctl fleet lists them)");
	return EX_TEMPFAIL;
}

/*
 * Takes the key ch names under a new lease, in one transaction that
 * holds only while the key is as read (free, or at revision rev), and
 * reads the checkpoint key in it: 1 taken (*out filled but its ceiling),
 * 0 another node was quicker, -1 etcd did not answer (e->err).
 */
static int
take_key(struct etcd *e, const struct cfg *c, const struct identity_who *who,
    const struct claim_choice *ch, int64_t rev, int64_t old_lease,
    struct identity_claim *out)
{
	char mkey[ETCD_KEY_LEN], ckey[ETCD_KEY_LEN], *value;
	int64_t lease, sent = clock_mono_ms();
	struct etcd_kv kv;
	int64_t at;
	uint64_t writer;
	json_t *cmp;
	int ok, rc;

	idkeys_key(mkey, sizeof(mkey), c->etcd_prefix, IDKEYS_MACHINES, c->zone,
	    c->dc, ch->machine);
	idkeys_key(ckey, sizeof(ckey), c->etcd_prefix, IDKEYS_CHECKPOINTS,
	    c->zone, c->dc, ch->machine);
	if (etcd_grant(e, c->lease_ttl_s, &lease) == -1)
		return -1;
	if ((value = idkeys_holder_value(
		 &who->node, who->pid, who->listen, lease)) == NULL) {
		snprintf(e->err, sizeof(e->err), "out of memory");
		return -1;
	}
	cmp = ch->verdict == CLAIM_FREE ? etcd_cmp_created(mkey, 0)
					: etcd_cmp_modified(mkey, rev);
	rc = etcd_txn(e, json_pack("[o]", cmp),
	    json_pack(
		"[o, o]", etcd_op_put(mkey, value, lease), etcd_op_range(ckey)),
	    json_array(), &ok, &kv);
	free(value);
	if (rc == -1 || !ok) {
		etcd_revoke(e, lease);
		return rc == -1 ? -1 : 0;
	}
	/* The lease of this node's earlier process holds nothing now. */
	if (ch->verdict == CLAIM_RECLAIM && old_lease != 0)
		etcd_revoke(e, old_lease);
	memset(out, 0, sizeof(*out));
	out->machine = ch->machine;
	out->lease = lease;
	out->fence_ms = sent + (int64_t)c->lease_ttl_s * 1000 - FENCE_MARGIN_MS;
	/* No key (none in the reply), or not genid's: no checkpoint. */
	if (kv.key[0] == '\0' ||
	    idkeys_parse_checkpoint(kv.value, &at, &writer) == -1) {
		at = 0;
		writer = 0;
	}
	out->etcd_checkpoint = at;
	out->foreign = out->etcd_checkpoint != 0 && writer != who->node.node;
	out->writer = writer;
	out->reclaimed = ch->verdict == CLAIM_RECLAIM;
	return 1;
}

int
identity_claim_once(struct etcd *e, const struct cfg *c,
    const struct identity_who *who, int fixed, int prefer,
    struct identity_claim *out, char *err, size_t errlen)
{
	struct holders hs;
	struct claim_choice ch;
	int64_t ceiling;
	unsigned tries;
	int rc;

	for (tries = 0; tries < CLAIM_TRIES; tries++) {
		if (read_holders(e, c, &hs) == -1)
			goto unreachable;
		ch = claim_choose(hs.h, &who->node, fixed, prefer);
		if (ch.verdict == CLAIM_FULL || ch.verdict == CLAIM_TAKEN)
			return refuse(c, &ch, &hs, err, errlen);
		rc = take_key(e, c, who, &ch, hs.rev[ch.machine],
		    hs.lease[ch.machine], out);
		if (rc == -1)
			goto unreachable;
		if (rc == 0)
			continue; /* another node was quicker: look again */
		/*
		 * What the workers may issue under at once: the allowance ahead
		 * of the clock, and above the key when another node wrote it
		 * (the buckets resume above it).
		 */
		ceiling = clock_real_s() + c->max_ahead_s + 1 + headroom_s(c);
		if (out->etcd_checkpoint + 1 + headroom_s(c) > ceiling)
			ceiling = out->etcd_checkpoint + 1 + headroom_s(c);
		/*
		 * A key another node wrote keeps its writer until this node's
		 * own checkpoint is durably above it (the first renewal after
		 * the start's rules): a start cut short before that still
		 * resumes above the key.
		 */
		if ((rc = raise_checkpoint(e, c, ch.machine,
			 out->foreign ? out->writer : who->node.node,
			 out->lease, ceiling)) == -1)
			goto unreachable;
		if (rc == 0) {
			snprintf(err, errlen,
			    "machine %u: the key was taken from this node's"
			    " lease as it was claimed",
			    ch.machine);
			return EX_TEMPFAIL;
		}
		out->ceiling_unix = ceiling;
		return 0;
	}
	snprintf(err, errlen,
	    "%u claims in a row lost a race with other nodes of dc %u: too"
	    " many start at once; start again",
	    CLAIM_TRIES, c->dc);
	return EX_TEMPFAIL;
unreachable:
	snprintf(err, errlen, "%s", e->err);
	return -1;
}

int
identity_claim(const struct cfg *c, const struct identity_who *who, int fixed,
    int prefer, struct identity_claim *out, char *err, size_t errlen)
{
	struct etcd e;
	char why[512], eps[512];
	int rc;

	if (etcd_open(&e, c, 1000) == -1) {
		snprintf(err, errlen, "etcd: %s", e.err);
		return EX_SOFTWARE;
	}
	rc = identity_claim_once(
	    &e, c, who, fixed, prefer, out, why, sizeof(why));
	etcd_close(&e);
	if (rc == -1) {
		identity_endpoints(c, eps, sizeof(eps));
		snprintf(err, errlen,
		    "coordination: etcd (%s) did not answer: %s", eps, why);
		return EX_UNAVAILABLE;
	}
	if (rc != 0)
		snprintf(err, errlen, "coordination: %s", why);
	return rc;
}

void
identity_read_file(const struct cfg *c, struct identity_file *f)
{
	struct statefile ro;
	char err[4096];

	memset(f, 0, sizeof(*f));
	if (statefile_open_ro(&ro, c->state_file, err, sizeof(err)) == 0) {
		if (ro.h->zone == c->zone && ro.h->dc == c->dc &&
		    ro.h->epoch == c->epoch) {
			f->have = 1;
			f->machine = ro.h->machine;
			f->node = ro.h->node;
		}
		statefile_close(&ro);
	}
	while (f->node == 0)
		f->node = (uint64_t)arc4random() << 32 | arc4random();
}

/*
 * The claim of a start, tried again every second while etcd does not
 * answer when wait (--wait-coordination): 0, or a sysexits.h code.
 */
static int
claim_waiting(const struct cfg *c, const struct identity_who *who,
    const struct identity_file *f, int wait, struct identity_claim *cl,
    char *err, size_t errlen)
{
	unsigned waited;
	int rc;

	for (waited = 0;; waited++) {
		rc = identity_claim(c, who,
		    c->machine_auto ? -1 : (int)c->machine,
		    f->have ? (int)f->machine : -1, cl, err, errlen);
		if (rc != EX_UNAVAILABLE || !wait)
			return rc;
		if (waited % 30 == 0)
			log_warnx(
			    "%s: waiting for it (--wait-coordination)", err);
		sleep(1);
	}
}

int
identity_start(struct cfg *c, const struct identity_file *f, const char *listen,
    int wait, struct identity_claim *cl, unsigned *held, char *err,
    size_t errlen)
{
	struct identity_who who;
	char why[4096];
	int rc;

	identity_self(&who, f->node, getpid(), listen);
	rc = claim_waiting(c, &who, f, wait, cl, why, sizeof(why));
	if (rc == EX_UNAVAILABLE && !c->machine_auto && f->have &&
	    f->machine == c->machine) {
		log_warnx("%s: starting as machine %u of zone %u dc %u as"
			  " configured, unconfirmed: nothing checks that no"
			  " other node holds it until etcd answers",
		    why, c->machine, c->zone, c->dc);
		*held = CLAIM_UNCONFIRMED;
		return 0;
	}
	if (rc == EX_UNAVAILABLE)
		snprintf(err, errlen, "%s: %s", why,
		    c->machine_auto
			? "\"machine_id\": \"auto\" takes its id from etcd:"
			  " start etcd, or start genid with"
			  " --wait-coordination to wait for it"
			: "a fixed machine_id starts without etcd only with"
			  " the state file made for it; start etcd, or use"
			  " --wait-coordination");
	else if (rc != 0)
		snprintf(err, errlen, "%s", why);
	if (rc != 0)
		return rc;
	/* A file made for another machine is kept aside by open_state. */
	c->machine = cl->machine;
	log_notice("coordination: holds machine %u of zone %u dc %u in etcd%s"
		   " (lease %llx, %u s)%s",
	    cl->machine, c->zone, c->dc,
	    cl->reclaimed ? ", taken back from this node's last process" : "",
	    (unsigned long long)cl->lease, c->lease_ttl_s,
	    cl->foreign ? "; another node used it before: this one resumes"
			  " above its checkpoint"
			: "");
	*held = CLAIM_HELD;
	return 0;
}

int
identity_keep(const struct cfg *c, struct statefile *sf, const char *listen,
    struct identity_claim *cl, uint64_t node, char *err, size_t errlen)
{
	struct identity_who who;
	int rc;

	if ((rc = identity_renew(c, sf, err, errlen)) == 1)
		return 0;
	if (rc == -1)
		return EX_UNAVAILABLE;
	log_warnx("%s: claiming machine %u again", err, cl->machine);
	identity_self(&who, node, getpid(), listen);
	if ((rc = identity_claim(
		 c, &who, (int)cl->machine, -1, cl, err, errlen)) != 0)
		return rc;
	if (cl->foreign) {
		snprintf(err, errlen,
		    "coordination: another node used machine %u during this"
		    " start: start again, to resume above its checkpoint",
		    cl->machine);
		return EX_TEMPFAIL;
	}
	identity_publish(sf, cl, c->epoch);
	if (identity_renew(c, sf, err, errlen) != 1)
		return EX_UNAVAILABLE;
	return 0;
}

uint32_t
identity_floor(const struct identity_claim *cl, int64_t epoch)
{
	int64_t ts = id_ts_of(cl->etcd_checkpoint, epoch);

	if (!cl->foreign)
		return 0;
	return ts < 1		       ? 1
	    : ts > (int64_t)UINT32_MAX ? UINT32_MAX
				       : (uint32_t)ts;
}

void
identity_publish(
    struct statefile *sf, const struct identity_claim *cl, int64_t epoch)
{
	struct state_header *h = sf->h;
	int64_t ts = id_ts_of(cl->ceiling_unix, epoch);

	state_store((uint64_t *)&h->lease, (uint64_t)cl->lease);
	state_store(&h->ceiling, ts < 1 ? 1 : (uint64_t)ts);
	state_store((uint64_t *)&h->fence_ms, (uint64_t)cl->fence_ms);
	state_store((uint64_t *)&h->renewed, (uint64_t)clock_real_s());
	__atomic_store_n(&h->identity, CLAIM_HELD, __ATOMIC_RELEASE);
}

void
identity_publish_start(struct statefile *sf, unsigned held,
    const struct identity_claim *cl, int64_t epoch)
{
	if (held == CLAIM_HELD) {
		identity_publish(sf, cl, epoch);
		return;
	}
	/* Nothing leased: no fence, no ceiling (left by a last boot). */
	state_store(&sf->h->ceiling, 0);
	state_store((uint64_t *)&sf->h->fence_ms, 0);
	state_store((uint64_t *)&sf->h->lease, 0);
	__atomic_store_n(&sf->h->identity, held, __ATOMIC_RELEASE);
}

/* Where the checkpoint key goes now: the workers' cap until the next. */
static int64_t
next_ceiling(const struct cfg *c, const struct state_header *h)
{
	return clock_real_s() + (int64_t)state_allowance(h) + 1 + headroom_s(c);
}

int
identity_renew(
    const struct cfg *c, struct statefile *sf, char *err, size_t errlen)
{
	struct etcd e;
	int rc = -1;

	if (etcd_open(&e, c, 1000) == -1 ||
	    (rc = identity_renew_once(&e, c, sf->h)) == -1)
		snprintf(err, errlen, "coordination: etcd: %s", e.err);
	else if (rc == 0)
		snprintf(err, errlen,
		    "coordination: the lease on machine %u ended during the"
		    " start",
		    sf->h->machine);
	etcd_close(&e);
	return rc;
}

int
identity_renew_once(struct etcd *e, const struct cfg *c, struct state_header *h)
{
	int64_t sent = clock_mono_ms(), ttl, ceiling, ts;
	int rc;

	if (etcd_keepalive(e, h->lease, &ttl) == -1)
		return -1;
	if (ttl == 0) {
		log_warnx("coordination: etcd says the lease on machine %u"
			  " expired: issuing nothing until this node holds"
			  " machine %u again",
		    h->machine, h->machine);
		return 0;
	}
	/* The checkpoint key before the cap moves (never down). */
	ceiling = next_ceiling(c, h);
	ts = id_ts_of(ceiling, h->epoch);
	if (ts > (int64_t)state_load(&h->ceiling)) {
		rc = raise_checkpoint(
		    e, c, h->machine, h->node, h->lease, ceiling);
		if (rc == -1)
			return -1;
		if (rc == 0) {
			log_warnx("coordination: the key of machine %u is no"
				  " longer held by this node's lease: issuing"
				  " nothing until it holds it again",
			    h->machine);
			return 0;
		}
		state_store(&h->ceiling, (uint64_t)ts);
	}
	ttl = ttl * 1000 - FENCE_MARGIN_MS;
	if (sent + ttl > (int64_t)state_load((uint64_t *)&h->fence_ms))
		state_store((uint64_t *)&h->fence_ms, (uint64_t)(sent + ttl));
	state_store((uint64_t *)&h->renewed, (uint64_t)clock_real_s());
	return 1;
}

void
identity_release(const struct cfg *c, struct statefile *sf)
{
	struct etcd e;
	int64_t lease = (int64_t)state_load((uint64_t *)&sf->h->lease);

	if (c->netcd == 0 || lease == 0)
		return;
	if (etcd_open(&e, c, 1000) == 0 && etcd_revoke(&e, lease) == 0)
		log_info("coordination: released machine %u", sf->h->machine);
	else
		log_warnx("coordination: could not end the lease (%s): machine"
			  " %u stays held until it expires in %u s",
		    e.err, sf->h->machine, c->lease_ttl_s);
	etcd_close(&e);
	state_store((uint64_t *)&sf->h->lease, 0);
}

int
identity_peers(const struct cfg *c, uint64_t node, struct cfg_addr *peers,
    unsigned max, char *err, size_t errlen)
{
	struct holders hs;
	char why[128];
	struct etcd e;
	unsigned n = 0, m, port;
	int has_port, rc;

	if ((rc = etcd_open(&e, c, 1000)) == 0)
		rc = read_holders(&e, c, &hs);
	if (rc == -1)
		snprintf(err, errlen, "etcd: %s", e.err);
	etcd_close(&e);
	if (rc == -1)
		return -1;
	for (m = 0; m < CLAIM_MACHINES && n < max; m++)
		if (hs.h[m].held && hs.h[m].by.node != node &&
		    addr_parse(hs.listen[m], peers[n].host,
			sizeof(peers[n].host), &port, &has_port, why,
			sizeof(why)) == 0 &&
		    has_port && port != 0)
			peers[n++].port = port;
	return (int)n;
}
