/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_proto.c - the wire protocol (proto_serve, src/proto.c) over a
 * simulated node: a state region in memory, a clock the input moves, a
 * checkpoint whose sync the input can make fail, and a state file that can
 * be damaged between requests (issue 17: cut short, written over by an
 * older copy, or by anything at all).
 *
 * The input is a program: a few bytes of setup (identity, epoch,
 * max_ahead, start time), then operations: feed protocol bytes to the
 * connection and serve them into some output room, step the clock back or
 * forward, let time pass, open a new connection on some bucket, make the
 * next syncs fail or succeed, raise the checkpoint as the master's timer
 * does; and damage the file: zero the bucket table, the whole region, a
 * bucket's word or the header's identity, write a word from an older
 * snapshot or from the input, lower the checkpoint, or repair any of it.
 * After every proto_serve call the properties of genid(7) are checked,
 * not just "no crash":
 *  - only whole frames are used, within the input and the output room,
 *    and the call stops for the reason it gives;
 *  - every reply parses back, frame by frame, to exactly the bytes
 *    written (INFO is JSON naming the node and the bucket, as the file
 *    has them);
 *  - CMD 1 never returns more IDs than asked;
 *  - across the whole run, damage included, the IDs of a bucket (hence of
 *    each connection) strictly increase, carry the zone/dc/machine the
 *    node started with and the bucket's own bits: no ID is repeated;
 *  - no ID is above the highest checkpoint a sync made durable, and a new
 *    second is taken no further than max_ahead ahead of the clock;
 *  - the bucket's word moves only when IDs are issued, and is then stored
 *    above every ID issued;
 *  - while the bucket's word is below the one the worker last stored, or
 *    the checkpoint below the second of the last ID it issued from the
 *    bucket, nothing is issued from the bucket and a request that would
 *    take an ID stops the call with PROTO_DAMAGED.  Other damage (a word
 *    raised, an untouched bucket zeroed, the identity zeroed) may be
 *    served through, within the properties above;
 *  - PROTO_DAMAGED stops a CMD 1 (its reply parses) or before a CMD 0,
 *    and only after damage to the bucket's word or to the checkpoint.
 */
#include <errno.h>
#include <stddef.h>
#include <jansson.h>
#include <string.h>

#include "bucket.h"
#include "fuzz.h"
#include "id.h"
#include "proto.h"
#include "state.h"

#define IN_MAX 4096
#define OUT_MAX (PROTO_REPLY_MAX + 8 * 256 + 4096)

static struct {
	struct statefile sf;
	struct state_worker *slot;
	struct state_identity id; /* the node's, whatever the header says */
	struct state_header head; /* the header as the node made it */
	struct timespec now;
	int fail_sync;
	int serving;	  /* within proto_serve: a raise is the worker's own */
	uint64_t durable; /* the highest checkpoint a good sync covered */
	uint64_t safe;	  /* the highest checkpoint_safe it was raised to */
	uint64_t last[STATE_BUCKETS];  /* the last ID of each bucket */
	uint8_t issued[STATE_BUCKETS]; /* whether last[] holds one */
	/* The word each bucket held after the last call that issued from it:
	 * what the worker stored, and remembers (proto_guard). */
	uint64_t own[STATE_BUCKETS];
	/* Whether the input wrote a bucket's word, or lowered checkpoint_safe:
	 * the only damage a worker may stop on. */
	uint8_t hurt[STATE_BUCKETS];
	int ckpt_hurt;
	/* A copy of the table and the checkpoint taken earlier. */
	struct {
		uint64_t word[STATE_BUCKETS];
		uint64_t checkpoint, safe;
	} snap;
} sim;

/* No fence is set here: the fuzzer never gets to the monotonic clock. */
static int64_t
sim_mono(void)
{
	return 0;
}

static void
sim_clock(struct timespec *now)
{
	*now = sim.now;
}

/* checkpoint_raise of src/checkpoint.c, with a sync that may fail. */
static int
sim_raise(struct statefile *sf, uint32_t target)
{
	struct state_header *h = sf->h;
	uint64_t ckpt;

	/*
	 * A worker raises when the checkpoint is in its way: a raise that
	 * moves nothing leaves it in the way, and take() would ask again
	 * for ever (a word of second checkpoint_safe + 1, the highest one
	 * bucket_trust allows, with the clock more than max_ahead behind).
	 */
	FUZZ_ASSERT(!sim.serving || state_load(&h->checkpoint_safe) < target,
	    "a worker raises the checkpoint to %u, under checkpoint_safe"
	    " %llu: nothing moves and it would ask again",
	    target, (unsigned long long)state_load(&h->checkpoint_safe));
	if (state_load(&h->checkpoint_safe) >= target)
		return 0;
	ckpt = state_raise(&h->checkpoint, target);
	if (sim.fail_sync) {
		errno = EIO;
		return -1;
	}
	/* A checkpoint lowered by damage does not undo an earlier sync. */
	if (ckpt > sim.durable)
		sim.durable = ckpt;
	state_raise(&h->checkpoint_safe, target);
	if (target > sim.safe)
		sim.safe = target;
	return 0;
}

/* The clock as an ID's ts, under the epoch the node started with. */
static uint32_t
now_ts(void)
{
	int64_t t = (int64_t)sim.now.tv_sec - sim.id.epoch;

	return t <= 0 ? 0 : t >= UINT32_MAX ? UINT32_MAX : (uint32_t)t;
}

static uint64_t
be64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/*
 * One proto_serve call: the clock and the allowance it ran under, and the
 * second of the bucket's word it started from.
 */
struct call {
	uint32_t now, ahead, from;
};

/* Checks one ID of bucket b handed out in call c. */
static void
check_id(unsigned b, uint64_t id, const struct call *c)
{
	struct id_fields f;

	id_decode(id, &f);
	FUZZ_ASSERT(f.zone == sim.id.zone && f.dc == sim.id.dc &&
		f.machine == sim.id.machine,
	    "ID %llx: node %u/%u/%u, want %u/%u/%u", (unsigned long long)id,
	    f.zone, f.dc, f.machine, sim.id.zone, sim.id.dc, sim.id.machine);
	FUZZ_ASSERT(f.bucket == b, "ID %llx of bucket %u on bucket %u",
	    (unsigned long long)id, f.bucket, b);
	FUZZ_ASSERT(!sim.issued[b] || id > sim.last[b],
	    "bucket %u: ID %llx after %llx", b, (unsigned long long)id,
	    (unsigned long long)sim.last[b]);
	FUZZ_ASSERT(f.ts <= sim.durable,
	    "ID ts %u above the durable checkpoint %llu", f.ts,
	    (unsigned long long)sim.durable);
	/* A second the damage wrote is not one the call took. */
	FUZZ_ASSERT(
	    f.ts <= c->from || (uint64_t)f.ts <= (uint64_t)c->now + c->ahead,
	    "bucket %u takes second %u at clock %u (max_ahead %u)", b, f.ts,
	    c->now, c->ahead);
	sim.last[b] = id;
	sim.issued[b] = 1;
}

/*
 * Checks the n IDs of one reply at p: each above the one before it with
 * the node's and the bucket's bits; the last one (the highest) fully.
 */
static void
check_ids(unsigned b, const uint8_t *p, size_t n, const struct call *c)
{
	uint64_t bits = id_base(sim.id.zone, sim.id.dc, sim.id.machine, b);
	uint64_t mask = (uint64_t)0xffff << 16, id, prev;
	int any;
	size_t i;

	if (n == 0)
		return;
	prev = sim.last[b];
	any = sim.issued[b];
	for (i = 0; i + 1 < n; i++, p += 8) {
		id = be64(p);
		FUZZ_ASSERT((id & mask) == bits && (!any || id > prev),
		    "bucket %u: ID %llx after %llx (bits %llx)", b,
		    (unsigned long long)id, (unsigned long long)prev,
		    (unsigned long long)bits);
		prev = id;
		any = 1;
	}
	sim.last[b] = prev;
	sim.issued[b] = (uint8_t)any;
	check_id(b, be64(p), c);
}

static void
check_info(unsigned b, const uint8_t *p, size_t len)
{
	json_error_t jerr;
	json_t *doc = json_loadb((const char *)p, len, 0, &jerr);

	FUZZ_ASSERT(doc != NULL, "INFO is no JSON: %s: %.*s", jerr.text,
	    (int)len, (const char *)p);
	/* The identity the IDs carry, whatever the header says now. */
	FUZZ_ASSERT(
	    json_integer_value(json_object_get(doc, "zone")) == sim.id.zone &&
		json_integer_value(json_object_get(doc, "dc")) == sim.id.dc &&
		json_integer_value(json_object_get(doc, "machine")) ==
		    sim.id.machine,
	    "INFO names another node: %.*s", (int)len, (const char *)p);
	FUZZ_ASSERT(json_integer_value(json_object_get(doc, "bucket")) == b,
	    "INFO names another bucket: %.*s", (int)len, (const char *)p);
	json_decref(doc);
}

/*
 * Whether the file lost what the worker wrote for bucket b: a word below
 * the one it stored last, or a checkpoint below the second of the last ID
 * it issued from b.  Issuing then could repeat an ID.
 */
static int
lost(unsigned b)
{
	struct state_header *h = sim.sf.h;
	uint64_t word = state_load(&state_bucket(h, b)->word);

	return word < sim.own[b] ||
	    (sim.issued[b] &&
		state_load(&h->checkpoint_safe) < (sim.last[b] >> 32));
}

/* Checks why proto_serve stopped. */
static void
check_stop(const struct proto_result *r, unsigned b, const uint8_t *in,
    size_t len, size_t room)
{
	switch (r->stop) {
	case PROTO_MORE:
		FUZZ_ASSERT(
		    len - r->used < 2 || room - r->written < PROTO_REPLY_MAX,
		    "stopped with %zu bytes left and %zu room", len - r->used,
		    room - r->written);
		break;
	case PROTO_WAIT:
		FUZZ_ASSERT(len - r->used >= 2 && in[r->used] == PROTO_ONE,
		    "waits on no CMD 0");
		break;
	case PROTO_BAD:
		FUZZ_ASSERT(len - r->used >= 2 && in[r->used] > PROTO_INFO &&
			r->cmd == in[r->used],
		    "BAD for command %u", r->cmd);
		break;
	case PROTO_DAMAGED:
		/* A CMD 1 answered (with what was taken before the check),
		 * or a CMD 0 not used. */
		FUZZ_ASSERT((r->used >= 2 && in[r->used - 2] == PROTO_MANY) ||
			(len - r->used >= 2 && in[r->used] == PROTO_ONE),
		    "DAMAGED on no CMD 0 or 1");
		FUZZ_ASSERT(sim.hurt[b] || sim.ckpt_hurt,
		    "bucket %u: DAMAGED, but neither its word nor the"
		    " checkpoint was written",
		    b);
		FUZZ_ASSERT(r->damage.bucket == b,
		    "DAMAGED names bucket %u of %u", r->damage.bucket, b);
		break;
	default:
		FUZZ_ASSERT(0, "stop %d", (int)r->stop);
	}
}

/*
 * Checks that the reply bytes parse back: the frames used give the bytes
 * written.  Returns how many IDs they hold; *takes says whether a frame
 * that takes IDs was used.
 */
static size_t
check_replies(unsigned b, const uint8_t *in, const struct proto_result *r,
    const uint8_t *out, const struct call *c, int *takes)
{
	size_t i, o = 0, m, ids = 0;

	*takes = 0;
	for (i = 0; i < r->used; i += 2) {
		switch (in[i]) {
		case PROTO_ONE:
			FUZZ_ASSERT(r->written - o >= 8, "CMD 0 reply cut");
			check_id(b, be64(out + o), c);
			o += 8;
			ids++;
			*takes = 1;
			break;
		case PROTO_MANY:
			FUZZ_ASSERT(r->written - o >= 1, "CMD 1 reply cut");
			m = out[o++];
			FUZZ_ASSERT(m <= in[i + 1], "%zu IDs for CMD 1 of %u",
			    m, in[i + 1]);
			FUZZ_ASSERT(r->written - o >= 8 * m, "CMD 1 IDs cut");
			check_ids(b, out + o, m, c);
			o += 8 * m;
			ids += m;
			*takes = 1;
			break;
		case PROTO_INFO:
			FUZZ_ASSERT(r->written - o >= 2, "INFO length cut");
			m = (size_t)out[o] << 8 | out[o + 1];
			FUZZ_ASSERT(r->written - o - 2 >= m, "INFO cut");
			check_info(b, out + o + 2, m);
			o += 2 + m;
			break;
		default:
			FUZZ_ASSERT(0, "command %u used", in[i]);
		}
	}
	FUZZ_ASSERT(o == r->written, "replies parse to %zu bytes of %zu", o,
	    r->written);
	return ids;
}

/* Serves what is pending on the connection; checks every property. */
static size_t
serve(const struct proto_node *node, unsigned b, const uint8_t *in, size_t len,
    size_t room)
{
	static uint8_t out[OUT_MAX];
	struct proto_result r;
	uint64_t word, before = state_load(&state_bucket(sim.sf.h, b)->word);
	struct call c = {now_ts(), node->max_ahead, bucket_ts(before)};
	int was_lost = lost(b), takes;
	size_t ids;

	sim.serving = 1;
	r = proto_serve(node, b, in, len, out, room);
	sim.serving = 0;
	FUZZ_ASSERT(r.used % 2 == 0 && r.used <= len && r.written <= room,
	    "used %zu of %zu, wrote %zu in %zu", r.used, len, r.written, room);
	check_stop(&r, b, in, len, room);
	ids = check_replies(b, in, &r, out, &c, &takes);
	word = state_load(&state_bucket(sim.sf.h, b)->word);
	if (was_lost) {
		FUZZ_ASSERT(ids == 0,
		    "bucket %u: %zu IDs issued from a word below %llx or under"
		    " a checkpoint below %llx",
		    b, ids, (unsigned long long)sim.own[b],
		    (unsigned long long)(sim.last[b] >> 32));
		FUZZ_ASSERT(
		    r.stop == PROTO_DAMAGED || (!takes && r.stop != PROTO_WAIT),
		    "bucket %u: stop %d on a lost word", b, (int)r.stop);
	}
	/* The word moves with the IDs only, and is stored above them; a
	 * damaged word the call refused is left as it was found. */
	if (ids == 0) {
		FUZZ_ASSERT(word == before, "word moved from %llx to %llx",
		    (unsigned long long)before, (unsigned long long)word);
	} else {
		FUZZ_ASSERT((word >> 32) > (sim.last[b] >> 32) ||
			((word >> 32) == (sim.last[b] >> 32) &&
			    (word & 0xffffffffu) > (sim.last[b] & 0xffff)),
		    "word %llx not above the last ID %llx",
		    (unsigned long long)word, (unsigned long long)sim.last[b]);
		sim.own[b] = word;
	}
	/* An unknown command closes the connection: drop what is left. */
	return r.stop == PROTO_BAD ? len : r.used;
}

/* Damage writes bucket b's word: as if the file changed under the node. */
static void
put_word(unsigned b, uint64_t w)
{
	state_store(&state_bucket(sim.sf.h, b)->word, w);
	sim.hurt[b] = 1;
}

/* Damage writes checkpoint and checkpoint_safe. */
static void
put_checkpoint(uint64_t ckpt, uint64_t safe)
{
	state_store(&sim.sf.h->checkpoint, ckpt);
	state_store(&sim.sf.h->checkpoint_safe, safe);
	sim.ckpt_hurt = 1;
}

/* Whether damage operation k acts on one bucket. */
static int
one_bucket(unsigned k)
{
	return k == 2 || k == 4 || k == 6 || k == 7 || k == 11;
}

/*
 * One operation on the file under the running node, damage or repair
 * (op >> 4, 1..15); b is the connection's bucket, which an operation on
 * one bucket acts on unless op & 8 has the next byte pick one (for the
 * checkpoint, op & 8 counts in minutes).  Returns the bytes of
 * arg[0..left) it used.
 */
static size_t
damage(uint8_t op, unsigned b, const uint8_t *arg, size_t left)
{
	struct state_header *h = sim.sf.h;
	size_t used = 0;
	uint64_t w, ckpt, safe, less;
	unsigned i;

	if ((op & 8) && one_bucket(op >> 4) && left > 0)
		b = arg[used++] % STATE_BUCKETS;
	w = state_load(&state_bucket(h, b)->word);
	switch (op >> 4) {
	case 1: /* the bucket table zeroed */
		for (i = 0; i < STATE_BUCKETS; i++)
			put_word(i, 0);
		break;
	case 2: /* one bucket's word zeroed */
		put_word(b, 0);
		break;
	case 3: /* a copy of the file taken, to be written back later */
		for (i = 0; i < STATE_BUCKETS; i++)
			sim.snap.word[i] =
			    state_load(&state_bucket(h, i)->word);
		sim.snap.checkpoint = state_load(&h->checkpoint);
		sim.snap.safe = state_load(&h->checkpoint_safe);
		break;
	case 4: /* one word of the copy written back */
		put_word(b, sim.snap.word[b]);
		break;
	case 5: /* the whole copy written over the file */
		for (i = 0; i < STATE_BUCKETS; i++)
			put_word(i, sim.snap.word[i]);
		put_checkpoint(sim.snap.checkpoint, sim.snap.safe);
		break;
	case 6: /* any word at all */
		for (w = 0, i = 0; i < 8; i++)
			w = w << 8 | (used < left ? arg[used++] : 0);
		put_word(b, w);
		break;
	case 7: /* a word near the current one: -128..127 s, any counter */
		if (left - used >= 2) {
			w = (uint64_t)(uint32_t)((w >> 32) + (int8_t)arg[used])
				<< 32 |
			    (uint64_t)arg[used + 1] * 257;
			used += 2;
		}
		put_word(b, w);
		break;
	case 8: /* the checkpoint lowered by 1..256 s, or minutes */
		less = 1 + (used < left ? arg[used++] : 0);
		less *= (op & 8) ? 60 : 1;
		ckpt = state_load(&h->checkpoint);
		safe = state_load(&h->checkpoint_safe);
		put_checkpoint(ckpt > less ? ckpt - less : 0,
		    safe > less ? safe - less : 0);
		break;
	case 9: /* the header's identity and epoch zeroed */
		h->zone = h->dc = h->machine = 0;
		h->epoch = 0;
		break;
	case 10: /* the whole file cut to nothing and grown back */
		memset(h, 0, state_size());
		for (i = 0; i < STATE_BUCKETS; i++)
			put_word(i, 0);
		put_checkpoint(0, 0);
		break;
	case 11: /* repair: the word the worker stored written back */
		state_store(&state_bucket(h, b)->word, sim.own[b]);
		break;
	case 12: /* repair: the checkpoint as the last good sync left it */
		state_raise(&h->checkpoint, sim.safe);
		state_raise(&h->checkpoint_safe, sim.safe);
		break;
	case 13: /* repair: the header's layout and identity */
		memcpy(h, &sim.head, offsetof(struct state_header, created));
		break;
	case 14: /* repair: every word the worker stored */
		for (i = 0; i < STATE_BUCKETS; i++)
			state_store(&state_bucket(h, i)->word, sim.own[i]);
		break;
	default: /* the copy's table written over the file, not its checkpoint */
		for (i = 0; i < STATE_BUCKETS; i++)
			put_word(i, sim.snap.word[i]);
		break;
	}
	return used;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int64_t epochs[] = {0, 1700000000, 1795000000};
	static struct state_header *h;
	static uint8_t in[IN_MAX];
	static struct proto_guard guard;
	struct proto_node node;
	size_t p = 6, inlen = 0, n, room;
	unsigned b;
	uint32_t now;

	if (size < 6)
		return 0;
	if (h == NULL && (h = aligned_alloc(4096, 8192)) == NULL)
		return 0;
	memset(&sim, 0, sizeof(sim));
	sim.id.zone = data[0] & 31;
	sim.id.dc = data[1] & 7;
	sim.id.machine = (data[1] >> 3) & 7;
	sim.id.epoch = epochs[(data[0] >> 5) % 3];
	sim.now.tv_sec = 1795000000 + (time_t)data[2] * 3600;
	sim.now.tv_nsec = (long)data[3] * 3900000;
	state_init(h, &sim.id, sim.now.tv_sec);
	sim.head = *h;
	sim.sf.fd = -1;
	sim.sf.h = h;
	sim.sf.len = state_size();
	sim.slot = state_worker(h, 0);
	proto_guard_init(&guard, h);
	node = (struct proto_node){
	    .sf = &sim.sf,
	    .slot = sim.slot,
	    .guard = &guard,
	    .max_ahead = data[4] % 11,
	    .workers = 1,
	    .worker_pid = 1,
	    .clock = sim_clock,
	    .raise = sim_raise,
	    .mono_ms = sim_mono,
	};
	/* The master's first checkpoint, as at a first start. */
	sim_raise(&sim.sf, bucket_checkpoint_target(now_ts(), node.max_ahead));
	b = data[5] % STATE_BUCKETS;
	while (p < size) {
		uint8_t op = data[p++], arg = p < size ? data[p] : 0;

		switch (op & 7) {
		case 0: /* feed bytes, then serve them */
		case 1:
		case 2:
			n = 1 + (op >> 3) * 4;
			if (n > size - p)
				n = size - p;
			if (n > IN_MAX - inlen)
				n = IN_MAX - inlen;
			memcpy(in + inlen, data + p, n);
			inlen += n;
			p += n;
			room = (op & 3) == 2
			    ? (size_t)(op >> 3) * 80
			    : PROTO_REPLY_MAX + (op >> 3) * 150;
			if (room > OUT_MAX)
				room = OUT_MAX;
			n = serve(&node, b, in, inlen, room);
			memmove(in, in + n, inlen - n);
			inlen -= n;
			break;
		case 3: /* a clock step: -128..127 s, times 1, 10 or 3600 */
			p++;
			sim.now.tv_sec += (time_t)(int8_t)arg *
			    ((op >> 3) % 3 == 0		 ? 1
				    : (op >> 3) % 3 == 1 ? 10
							 : 3600);
			break;
		case 4: /* time passes: 1/32 s steps */
			sim.now.tv_nsec += (long)(op >> 3) * 31250000;
			while (sim.now.tv_nsec >= 1000000000) {
				sim.now.tv_nsec -= 1000000000;
				sim.now.tv_sec++;
			}
			break;
		case 5: /* a new connection, maybe on another bucket */
			p++;
			b = arg % STATE_BUCKETS;
			inlen = 0;
			break;
		case 6: /* the next syncs fail (EIO) or work again; damage */
			if (op >> 4 == 0)
				sim.fail_sync = (op >> 3) & 1;
			else
				p += damage(op, b, data + p, size - p);
			break;
		default: /* the master's checkpoint timer */
			now = now_ts();
			sim_raise(&sim.sf,
			    bucket_checkpoint_target(now, node.max_ahead));
			break;
		}
	}
	return 0;
}
