/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * proto.c - the wire protocol of genid(8) as one function, proto_serve:
 * frames in, replies out, for one connection's bucket.  It allocates
 * nothing, logs nothing and touches no socket.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bucket.h"
#include "claim.h"
#include "id.h"
#include "proto.h"
#include "serving.h"
#include "slew.h"

/*
 * What a batch of requests may issue under, read once per proto_serve:
 * the allowance ahead of the clock the checkpoint may be raised to, the
 * slew's top word (0 = no slew), and for a leased identity the checkpoint
 * kept in etcd (0 = none) and whether its fence has passed.
 */
struct limits {
	uint32_t allowance;
	uint64_t slew_top;
	uint64_t ceiling;
	int fenced;
};

static struct limits limits_now(const struct proto_node *node);
static int fenced(const struct proto_node *node);
static unsigned take(const struct proto_node *node, unsigned bucket,
    const struct limits *lim, uint64_t *word, unsigned want, uint64_t *ids,
    struct proto_result *r);
static int trusted(const struct proto_node *node, unsigned bucket,
    uint64_t word, uint32_t ckpt, struct proto_result *r);
static size_t info(
    const struct proto_node *node, unsigned bucket, uint8_t *out, size_t room);
static size_t put_ids(uint8_t *out, const uint64_t *ids, unsigned n);
static unsigned run_of_ones(const uint8_t *in, size_t len, size_t room);

struct proto_result
proto_serve(const struct proto_node *node, unsigned bucket, const uint8_t *in,
    size_t len, uint8_t *out, size_t room)
{
	struct state_bucket *b = state_bucket(node->sf->h, bucket);
	uint64_t word = state_load(&b->word), ids[256], requests = 0,
		 issued = 0;
	struct proto_result r = {0};
	struct limits lim = limits_now(node);
	size_t i = 0, o = 0;
	unsigned k, n;

	while (len - i >= 2 && room - o >= PROTO_REPLY_MAX) {
		switch (in[i]) {
		case PROTO_ONE:
			/* A run of pipelined CMD 0 takes its IDs at once. */
			k = run_of_ones(in + i, len - i, room - o);
			n = take(node, bucket, &lim, &word, k, ids, &r);
			o += put_ids(out + o, ids, n);
			i += 2 * (size_t)n;
			requests += n;
			issued += n;
			if (r.stop == PROTO_DAMAGED)
				goto done;
			if (n < k) {
				/* CMD 0 has no short reply: the rest waits. */
				r.stop = PROTO_WAIT;
				state_add(&b->waits, 1);
				goto done;
			}
			break;
		case PROTO_MANY:
			k = in[i + 1];
			n = take(node, bucket, &lim, &word, k, ids, &r);
			out[o++] = (uint8_t)n;
			o += put_ids(out + o, ids, n);
			if (n < k)
				state_add(&b->shorts, 1);
			i += 2;
			requests++;
			issued += n;
			if (r.stop == PROTO_DAMAGED)
				goto done;
			break;
		case PROTO_INFO:
			o += info(node, bucket, out + o, room - o);
			i += 2;
			requests++;
			break;
		default:
			r.stop = PROTO_BAD;
			r.cmd = in[i];
			goto done;
		}
	}
done:
	if (requests > 0) {
		state_add(&b->requests, requests);
		state_add(&b->ids, issued);
	}
	r.used = i;
	r.written = o;
	return r;
}

/* How many CMD 0 frames in[] starts with (1..256) that room can answer. */
static unsigned
run_of_ones(const uint8_t *in, size_t len, size_t room)
{
	unsigned k = 1;

	while (k < 256 && len >= 2 * (k + 1) && in[2 * k] == PROTO_ONE &&
	    room >= PROTO_REPLY_MAX + 8 * (k + 1))
		k++;
	return k;
}

/* Writes n IDs big-endian; returns the bytes written. */
static size_t
put_ids(uint8_t *out, const uint64_t *ids, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		uint64_t be = htobe64(ids[i]);

		memcpy(out + 8 * i, &be, sizeof(be));
	}
	return 8 * (size_t)n;
}

/* The node's clock as an ID's ts: 0 before the epoch, at most ID_TS_MAX. */
static uint32_t
now_ts(const struct proto_node *node)
{
	struct timespec ts;
	int64_t t;

	node->clock(&ts);
	t = id_ts_of((int64_t)ts.tv_sec, node->guard->epoch);
	return t < 0 ? 0 : (uint32_t)t;
}

/*
 * The top word of a slew now (genid(7)): the master publishes when the
 * slew ends, and the extra at this millisecond spreads the reduced rate
 * over each second.  0 without a slew.
 */
static uint64_t
slew_top_now(const struct proto_node *node)
{
	const struct state_header *h = node->sf->h;
	int64_t end = (int64_t)state_load(&h->slew_end_ms), extra;
	struct timespec ts;

	if (end == 0)
		return 0;
	extra = slew_extra_until(
	    end, (uint32_t)state_load(&h->slew_rate_ppm), node->mono_ms());
	if (extra == 0)
		return 0;
	node->clock(&ts);
	return slew_top_word(
	    (id_ts_of((int64_t)ts.tv_sec, node->guard->epoch)) * 1000 +
		ts.tv_nsec / 1000000,
	    node->max_ahead, extra);
}

/*
 * The limits of a batch.  The buckets borrow max_ahead whole seconds
 * ahead of the clock, and in a slew up to its top; the checkpoint may go
 * to the allowance the master wrote (genid(7)).  The fence and the
 * ceiling are the coordination process's (genid(8), "Identity").  A few
 * loads, once per batch; two clock reads in a slew.
 */
static struct limits
limits_now(const struct proto_node *node)
{
	struct limits lim;
	uint32_t a = state_allowance(node->sf->h);

	lim.allowance = a < node->max_ahead ? node->max_ahead : a;
	lim.slew_top = slew_top_now(node);
	lim.ceiling = state_load(&node->sf->h->ceiling);
	lim.fenced = fenced(node);
	return lim;
}

/* Whether the fence of a leased identity has passed (genid(7)). */
static int
fenced(const struct proto_node *node)
{
	int64_t fence = (int64_t)state_load((uint64_t *)&node->sf->h->fence_ms);

	return fence != 0 && node->mono_ms() >= fence;
}

/*
 * Takes up to want IDs of bucket into ids, borrowing up to ahead seconds
 * ahead of the clock and raising the checkpoint when it is in the way.
 * The word is stored before the IDs can leave the process, and only while
 * the file holds what this process left there (trusted).
 */
static unsigned
take(const struct proto_node *node, unsigned bucket, const struct limits *l,
    uint64_t *word, unsigned want, uint64_t *ids, struct proto_result *r)
{
	struct state_header *h = node->sf->h;
	struct proto_guard *g = node->guard;
	uint64_t base = id_base(g->zone, g->dc, g->machine, bucket);
	uint64_t ceiling = l->ceiling;
	struct bucket_limits lim;
	struct bucket_result br;
	uint32_t safe, target;
	unsigned n = 0;

	/*
	 * A leased identity (genid(8), "Identity"): nothing once the lease
	 * may have ended, nothing above the checkpoint kept in etcd.
	 */
	if (l->fenced)
		return 0;

	/*
	 * The precise clock: a CMD 0 that waits is woken just after the
	 * second turns, and a coarse clock may not have turned by then.
	 */
	lim.now = now_ts(node);
	lim.max_ahead = node->max_ahead;
	lim.slew_top = l->slew_top;
	for (;;) {
		safe = (uint32_t)state_load(&h->checkpoint_safe);
		if (!trusted(node, bucket, *word, safe, r))
			break;
		lim.checkpoint = safe;
		if (ceiling != 0 && ceiling < lim.checkpoint)
			lim.checkpoint = (uint32_t)ceiling;
		n += bucket_take(word, base, &lim, want - n, ids + n, &br);
		state_store(&state_bucket(h, bucket)->word, *word);
		g->own[bucket] = *word;
		if (br.stop != BUCKET_CHECKPOINT ||
		    (ceiling != 0 && br.need > ceiling))
			break;
		/*
		 * A word above the checkpoint by more than the allowance of
		 * the clock (a word written into the file, or a clock far
		 * behind) waits for the clock: a raise could not cover it.
		 */
		target = bucket_checkpoint_target(lim.now, l->allowance);
		if (target < br.need)
			break;
		/*
		 * The master's timer fell behind: move the mark ourselves, to
		 * where the master would have put it.  That covers br.need,
		 * which borrowing keeps within the allowance of now, and stays
		 * in what a restart accepts (allowance + 1 ahead of the clock,
		 * see clock_start_rule).
		 */
		if (node->raise(node->sf, target) == -1) {
			r->raise_errno = errno;
			break;
		}
		state_add(&node->slot->checkpoint_raises, 1);
	}
	return n;
}

/*
 * Whether word, the bucket's word as the file holds it, may be issued
 * from under the checkpoint ckpt; if not, r says what was found and the
 * batch stops.  A few compares, once per take.
 */
static int
trusted(const struct proto_node *node, unsigned bucket, uint64_t word,
    uint32_t ckpt, struct proto_result *r)
{
	uint64_t own = node->guard->own[bucket];
	enum bucket_trust why = bucket_trust(word, own, ckpt);

	if (why == BUCKET_TRUSTED)
		return 1;
	r->stop = PROTO_DAMAGED;
	r->damage = (struct proto_damage){why, bucket, word, own, ckpt};
	return 0;
}

void
proto_guard_init(struct proto_guard *g, struct state_header *h)
{
	unsigned b;

	g->zone = h->zone;
	g->dc = h->dc;
	g->machine = h->machine;
	g->epoch = h->epoch;
	g->started_ms = 0;
	for (b = 0; b < STATE_BUCKETS; b++)
		g->own[b] = state_load(&state_bucket(h, b)->word);
}

/* The largest lead of a bucket's second ahead of the clock, 0 if none. */
static long long
node_lead(struct state_header *h, int64_t epoch, long long now)
{
	long long lead = 0, ts_now = now - (long long)epoch, d;
	unsigned b;

	for (b = 0; b < STATE_BUCKETS; b++) {
		d = (long long)bucket_ts(
			state_load(&state_bucket(h, b)->word)) -
		    ts_now;
		if (d > lead)
			lead = d;
	}
	return lead;
}

/* How long until the slew ends, whole seconds rounded up; 0 if none. */
static long long
slew_left_s(const struct proto_node *node)
{
	int64_t end = (int64_t)state_load(&node->sf->h->slew_end_ms);
	int64_t left = end - node->mono_ms();

	return end == 0 || left <= 0 ? 0 : (long long)(left + 999) / 1000;
}

static size_t
info(const struct proto_node *node, unsigned bucket, uint8_t *out, size_t room)
{
	struct state_header *h = node->sf->h;
	const struct proto_guard *g = node->guard; /* the identity IDs carry */
	unsigned serving = __atomic_load_n(&h->serving, __ATOMIC_ACQUIRE);
	struct timespec ts;
	long long now;
	int len;

	node->clock(&ts);
	now = (long long)ts.tv_sec;
	if (node->stopping)
		serving = SERVING_STOPPING;
	else if (fenced(node))
		serving = SERVING_IDENTITY_LOST; /* before the master says so */
	len = snprintf((char *)out + 2, room - 2,
	    "{\"version\":\"%s\",\"zone\":%u,\"dc\":%u,\"machine\":%u,"
	    "\"epoch\":%lld,\"buckets\":%u,\"workers\":%u,\"pid\":%lld,"
	    "\"worker_pid\":%lld,\"uptime_s\":%lld,\"now\":%lld,"
	    "\"checkpoint\":%lld,\"bucket\":%u,\"instance\":\"%016llx\","
	    "\"state\":\"%s\",\"lead_s\":%lld,\"slew_left_s\":%lld,"
	    "\"identity\":\"%s\"}",
	    PACKAGE_VERSION, g->zone, g->dc, g->machine, (long long)g->epoch,
	    STATE_BUCKETS, node->workers, (long long)h->master_pid,
	    node->worker_pid,
	    (long long)(node->mono_ms() - g->started_ms) / 1000, now,
	    (long long)(state_load(&h->checkpoint) + (uint64_t)g->epoch),
	    bucket, (unsigned long long)h->instance, serving_name(serving),
	    node_lead(h, g->epoch, now), slew_left_s(node),
	    claim_state_name(
		claim_state_now(__atomic_load_n(&h->identity, __ATOMIC_ACQUIRE),
		    (int64_t)state_load((uint64_t *)&h->fence_ms),
		    node->mono_ms())));
	/*
	 * The caller leaves PROTO_REPLY_MAX of room, far above any INFO;
	 * should the JSON ever outgrow it, a cut one must not go out as if
	 * whole (nor its untruncated length overrun out): send {} instead.
	 */
	if (len < 0 || (size_t)len >= room - 2)
		len = snprintf((char *)out + 2, room - 2, "{}");
	out[0] = (uint8_t)(len >> 8);
	out[1] = (uint8_t)len;
	return (size_t)len + 2;
}
