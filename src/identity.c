/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * identity.c - the machine id leased from etcd (identity.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "addr.h"
#include "bucket.h"
#include "checkpoint.h"
#include "etcd.h"
#include "id.h"
#include "identity.h"
#include "log.h"
#include "ratelimit.h"

/* Workers stop this long before the lease can end in etcd. */
#define FENCE_MARGIN_MS 1000
/* After a failed renewal, the next try. */
#define RETRY_MS 250
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

static int64_t renew_every_ms(const struct cfg *c);
static int64_t headroom_s(const struct cfg *c);
static void machine_key(const struct cfg *c, const char *kind, unsigned machine,
    char *key, size_t len);
static int parse_holder(const char *value, struct claim_node *by, char *desc,
    size_t len, char *listen, size_t listen_len);
static char *holder_value(
    const struct claim_node *self, const char *listen, int64_t lease);
static int64_t parse_checkpoint(const struct etcd_kv *kv, uint64_t *node);
static int raise_checkpoint(struct etcd *e, const struct cfg *c,
    unsigned machine, uint64_t node, int64_t lease, int64_t at);
static int read_holders(
    struct etcd *e, const struct cfg *c, struct holders *hs);
static void endpoints(const struct cfg *c, char *out, size_t len);
static int refuse(const struct cfg *c, const struct claim_choice *ch,
    const struct holders *hs, char *err, size_t errlen);
static int take_key(struct etcd *e, const struct cfg *c,
    const struct claim_node *self, const struct claim_choice *ch, int64_t rev,
    int64_t old_lease, const char *listen, struct identity_claim *out);
static int claim_once(struct etcd *e, const struct cfg *c,
    const struct claim_node *self, int fixed, int prefer, const char *listen,
    struct identity_claim *out, char *err, size_t errlen);
static void fence_now(struct state_header *h);
static int64_t next_ceiling(const struct cfg *c, const struct state_header *h);
static int renew(struct etcd *e, const struct cfg *c, struct state_header *h);
static int reclaim(struct etcd *e, const struct cfg *c, struct statefile *sf,
    const char *listen, struct ratelimit *rl);
static void refresh_holder(struct etcd *e, const struct cfg *c,
    struct state_header *h, const char *listen);
static void hup_handler(int sig);

/* In the coordination process: the master's pid, for the key's value. */
static pid_t master_pid;
/* SIGHUP came: reopen the log (the master passes it on after logrotate). */
static volatile sig_atomic_t reopen_log;

/* Renewals (and checkpoint raises) per lease: every ttl / 3. */
static int64_t
renew_every_ms(const struct cfg *c)
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
	return (renew_every_ms(c) + 999) / 1000 + 2;
}

static void
machine_key(const struct cfg *c, const char *kind, unsigned machine, char *key,
    size_t len)
{
	snprintf(key, len, "%s/%s/%u/%u/%u", c->etcd_prefix, kind, c->zone,
	    c->dc, machine);
}

void
identity_self(struct claim_node *self, uint64_t node)
{
	uint64_t boot[2];

	memset(self, 0, sizeof(*self));
	self->node = node;
	if (gethostname(self->host, sizeof(self->host) - 1) == -1)
		snprintf(self->host, sizeof(self->host), "unknown");
	statefile_kernel_boot(boot);
	snprintf(self->boot, sizeof(self->boot), "%016" PRIx64 "%016" PRIx64,
	    boot[0], boot[1]);
}

/* The holder a key's value names; 0, or -1 when it is not genid's. */
static int
parse_holder(const char *value, struct claim_node *by, char *desc, size_t len,
    char *addr, size_t addr_len)
{
	json_t *j = json_loads(value, 0, NULL), *l = NULL;
	const char *node = NULL, *host = "?", *boot = "", *listen = "?";
	json_int_t pid = 0;

	memset(by, 0, sizeof(*by));
	snprintf(desc, len, "an unknown holder");
	addr[0] = '\0';
	if (j == NULL ||
	    json_unpack(j, "{s:s, s?s, s?s, s?I, s?o}", "node", &node, "host",
		&host, "boot", &boot, "pid", &pid, "listen", &l) == -1) {
		json_decref(j);
		return -1;
	}
	by->node = strtoull(node, NULL, 16);
	snprintf(by->host, sizeof(by->host), "%s", host);
	snprintf(by->boot, sizeof(by->boot), "%s", boot);
	if (json_is_array(l) && json_is_string(json_array_get(l, 0))) {
		listen = json_string_value(json_array_get(l, 0));
		snprintf(addr, addr_len, "%s", listen);
	}
	snprintf(desc, len, "node %s on %s (pid %lld, %s)", node, host,
	    (long long)pid, listen);
	json_decref(j);
	return 0;
}

/* The value of this node's machine key. */
static char *
holder_value(const struct claim_node *self, const char *listen, int64_t lease)
{
	/* The master's pid: the coordination process names its parent. */
	pid_t pid = master_pid != 0 ? master_pid : getpid();
	json_t *l = json_loads(listen, 0, NULL), *v;
	char node[17];
	char *s;

	snprintf(node, sizeof(node), "%016" PRIx64, self->node);
	v = json_pack("{s:s, s:s, s:s, s:I, s:o, s:I, s:I}", "node", node,
	    "host", self->host, "boot", self->boot, "pid", (json_int_t)pid,
	    "listen", l != NULL ? l : json_array(), "since",
	    (json_int_t)time(NULL), "lease", (json_int_t)lease);
	s = v == NULL ? NULL : json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(v);
	return s;
}

/* The checkpoint key's value: its Unix time and writer; 0 = no key. */
static int64_t
parse_checkpoint(const struct etcd_kv *kv, uint64_t *node)
{
	json_t *j;
	json_int_t t = 0;
	const char *n = "0";

	*node = 0;
	if (kv->key[0] == '\0' || (j = json_loads(kv->value, 0, NULL)) == NULL)
		return 0;
	if (json_unpack(j, "{s:I, s?s}", "checkpoint", &t, "node", &n) == -1)
		t = 0;
	*node = strtoull(n, NULL, 16);
	json_decref(j);
	return (int64_t)t;
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

	machine_key(c, "machines", machine, mkey, sizeof(mkey));
	machine_key(c, "checkpoints", machine, ckey, sizeof(ckey));
	snprintf(value, sizeof(value),
	    "{\"checkpoint\":%lld,\"node\":\"%016" PRIx64 "\"}", (long long)at,
	    node);
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
	long n, i;
	size_t plen;

	snprintf(prefix, sizeof(prefix), "%s/machines/%u/%u/", c->etcd_prefix,
	    c->zone, c->dc);
	etcd_prefix_end(prefix, end, sizeof(end));
	if ((n = etcd_range(e, prefix, end, kvs, CLAIM_MACHINES * 2)) == -1)
		return -1;
	memset(hs, 0, sizeof(*hs));
	plen = strlen(prefix);
	for (i = 0; i < n && i < (long)(CLAIM_MACHINES * 2); i++) {
		char *endp;
		unsigned long m = strtoul(kvs[i].key + plen, &endp, 10);

		if (*endp != '\0' || m >= CLAIM_MACHINES)
			continue;
		hs->h[m].held = 1;
		hs->rev[m] = kvs[i].mod_revision;
		hs->lease[m] = kvs[i].lease;
		parse_holder(kvs[i].value, &hs->h[m].by, hs->desc[m],
		    sizeof(hs->desc[m]), hs->listen[m], sizeof(hs->listen[m]));
	}
	return 0;
}

/* The endpoints, for messages: "127.0.0.1:2379, ...". */
static void
endpoints(const struct cfg *c, char *out, size_t len)
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

/* The refusal of a full dc or of a fixed id held elsewhere: its code. */
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
take_key(struct etcd *e, const struct cfg *c, const struct claim_node *self,
    const struct claim_choice *ch, int64_t rev, int64_t old_lease,
    const char *listen, struct identity_claim *out)
{
	char mkey[ETCD_KEY_LEN], ckey[ETCD_KEY_LEN], *value;
	int64_t lease, sent = statefile_mono_ms();
	struct etcd_kv kv;
	uint64_t writer;
	json_t *cmp;
	int ok, rc;

	machine_key(c, "machines", ch->machine, mkey, sizeof(mkey));
	machine_key(c, "checkpoints", ch->machine, ckey, sizeof(ckey));
	if (etcd_grant(e, c->lease_ttl_s, &lease) == -1)
		return -1;
	if ((value = holder_value(self, listen, lease)) == NULL) {
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
	out->etcd_checkpoint = parse_checkpoint(&kv, &writer);
	out->foreign = out->etcd_checkpoint != 0 && writer != self->node;
	out->writer = writer;
	out->reclaimed = ch->verdict == CLAIM_RECLAIM;
	return 1;
}

/*
 * One claim (identity_claim without the waiting): 0, a sysexits.h code,
 * or -1 when etcd did not answer (err says why).
 */
static int
claim_once(struct etcd *e, const struct cfg *c, const struct claim_node *self,
    int fixed, int prefer, const char *listen, struct identity_claim *out,
    char *err, size_t errlen)
{
	struct holders hs;
	struct claim_choice ch;
	int64_t ceiling;
	unsigned tries;
	int rc;

	for (tries = 0; tries < CLAIM_TRIES; tries++) {
		if (read_holders(e, c, &hs) == -1)
			goto unreachable;
		ch = claim_choose(hs.h, self, fixed, prefer);
		if (ch.verdict == CLAIM_FULL || ch.verdict == CLAIM_TAKEN)
			return refuse(c, &ch, &hs, err, errlen);
		rc = take_key(e, c, self, &ch, hs.rev[ch.machine],
		    hs.lease[ch.machine], listen, out);
		if (rc == -1)
			goto unreachable;
		if (rc == 0)
			continue; /* another node was quicker: look again */
		/*
		 * What the workers may issue under at once: the allowance ahead
		 * of the clock, and above the key when another node wrote it
		 * (the buckets resume above it).
		 */
		ceiling =
		    (int64_t)time(NULL) + c->max_ahead_s + 1 + headroom_s(c);
		if (out->etcd_checkpoint + 1 + headroom_s(c) > ceiling)
			ceiling = out->etcd_checkpoint + 1 + headroom_s(c);
		/*
		 * A key another node wrote keeps its writer until this node's
		 * own checkpoint is durably above it (the first renewal after
		 * the start's rules): a start cut short before that still
		 * resumes above the key.
		 */
		if ((rc = raise_checkpoint(e, c, ch.machine,
			 out->foreign ? out->writer : self->node, out->lease,
			 ceiling)) == -1)
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
identity_claim(const struct cfg *c, const struct claim_node *self, int fixed,
    int prefer, const char *listen, struct identity_claim *out, char *err,
    size_t errlen)
{
	struct etcd e;
	char why[512], eps[512];
	int rc;

	if (etcd_open(&e, c, 1000) == -1) {
		snprintf(err, errlen, "etcd: %s", e.err);
		return EX_SOFTWARE;
	}
	rc = claim_once(
	    &e, c, self, fixed, prefer, listen, out, why, sizeof(why));
	etcd_close(&e);
	if (rc == -1) {
		endpoints(c, eps, sizeof(eps));
		snprintf(err, errlen,
		    "coordination: etcd (%s) did not answer: %s", eps, why);
		return EX_UNAVAILABLE;
	}
	if (rc != 0)
		snprintf(err, errlen, "coordination: %s", why);
	return rc;
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
	state_store((uint64_t *)&h->renewed, (uint64_t)time(NULL));
	__atomic_store_n(&h->identity, CLAIM_HELD, __ATOMIC_RELEASE);
}

/* Stops the workers from issuing, at once: the id may be someone else's. */
static void
fence_now(struct state_header *h)
{
	state_store((uint64_t *)&h->fence_ms, 1);
	__atomic_store_n(&h->identity, CLAIM_LOST, __ATOMIC_RELEASE);
	state_add(&h->identity_losses, 1);
}

/* Where the checkpoint key goes now: the workers' cap until the next. */
static int64_t
next_ceiling(const struct cfg *c, const struct state_header *h)
{
	return (int64_t)time(NULL) + (int64_t)state_allowance(h) + 1 +
	    headroom_s(c);
}

int
identity_renew(
    const struct cfg *c, struct statefile *sf, char *err, size_t errlen)
{
	struct etcd e;
	int rc = -1;

	if (etcd_open(&e, c, 1000) == -1 || (rc = renew(&e, c, sf->h)) == -1)
		snprintf(err, errlen, "coordination: etcd: %s", e.err);
	else if (rc == 0)
		snprintf(err, errlen,
		    "coordination: the lease on machine %u ended during the"
		    " start",
		    sf->h->machine);
	etcd_close(&e);
	return rc;
}

/* One renewal while held: 1 renewed, 0 lost, -1 etcd did not answer. */
static int
renew(struct etcd *e, const struct cfg *c, struct state_header *h)
{
	int64_t sent = statefile_mono_ms(), ttl, ceiling, ts;
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
	state_store((uint64_t *)&h->renewed, (uint64_t)time(NULL));
	return 1;
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
	struct claim_node self;
	struct identity_claim cl;
	char err[1024];
	unsigned was = __atomic_load_n(&h->identity, __ATOMIC_ACQUIRE);
	unsigned suppressed;
	int64_t ckpt;
	int rc;

	identity_self(&self, h->node);
	rc = claim_once(
	    e, c, &self, (int)h->machine, -1, listen, &cl, err, sizeof(err));
	if (rc == -1)
		return -1;
	if (rc != 0) {
		if (ratelimit_allow(
			rl, (double)statefile_mono_ms() / 1000, &suppressed))
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
	if (cl.foreign && ckpt >= id_ts_of((int64_t)time(NULL), h->epoch)) {
		log_warnx("coordination: machine %u was used by another node"
			  " while this one did not hold it, up to %lld s from"
			  " now: restarting, to resume above its checkpoint",
		    cl.machine,
		    (long long)(ckpt -
			id_ts_of((int64_t)time(NULL), h->epoch)));
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
	struct claim_node self;
	char key[ETCD_KEY_LEN], *value;
	int ok;

	identity_self(&self, h->node);
	machine_key(c, "machines", h->machine, key, sizeof(key));
	if ((value = holder_value(&self, listen, h->lease)) == NULL)
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
identity_run(const struct cfg *c, struct statefile *sf, const char *listen)
{
	struct state_header *h = sf->h;
	struct ratelimit down, taken;
	struct etcd e;
	unsigned suppressed;
	char eps[512];
	int64_t next;
	int rc;

	endpoints(c, eps, sizeof(eps));
	/* The master passes SIGHUP on after logrotate: reopen the log. */
	signal(SIGHUP, hup_handler);
	ratelimit_init(&down, 10);
	ratelimit_init(&taken, 10);
	if (etcd_open(&e, c, renew_every_ms(c) / 2) == -1) {
		log_warnx("coordination: %s", e.err);
		_exit(EX_SOFTWARE);
	}
	master_pid = (pid_t)h->master_pid;
	if (__atomic_load_n(&h->identity, __ATOMIC_ACQUIRE) == CLAIM_HELD)
		refresh_holder(&e, c, h, listen);
	for (;;) {
		int64_t start = statefile_mono_ms();
		char why[512];

		if (reopen_log) {
			reopen_log = 0;
			if (log_reopen(why, sizeof(why)) == -1)
				log_warnx("coordination: SIGHUP: %s", why);
		}
		if (__atomic_load_n(&h->identity, __ATOMIC_ACQUIRE) ==
		    CLAIM_HELD) {
			rc = renew(&e, c, h);
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
		next = start + (rc == 1 ? renew_every_ms(c) : RETRY_MS);
		while ((start = statefile_mono_ms()) < next) {
			struct timespec ts = {(next - start) / 1000,
			    (next - start) % 1000 * 1000000};

			nanosleep(&ts, NULL);
		}
	}
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
