/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_proto.c - the wire protocol (proto_serve, src/proto.c) over a
 * simulated node: a state region in memory, a clock the input moves, and
 * a checkpoint whose sync the input can make fail.
 *
 * The input is a program: a few bytes of setup (identity, epoch,
 * max_ahead, start time), then operations: feed protocol bytes to the
 * connection and serve them into some output room, step the clock back or
 * forward, let time pass, open a new connection on some bucket, make the
 * next syncs fail or succeed, raise the checkpoint as the master's timer
 * does.  After every proto_serve call the properties of genid(7) are
 * checked, not just "no crash":
 *  - only whole frames are used, within the input and the output room,
 *    and the call stops for the reason it gives;
 *  - every reply parses back, frame by frame, to exactly the bytes
 *    written (INFO is JSON naming the node and the bucket);
 *  - CMD 1 never returns more IDs than asked;
 *  - the IDs of a bucket (hence of each connection) strictly increase,
 *    carry the node's zone/dc/machine and the bucket's own bits;
 *  - no ID is above the last checkpoint a sync made durable, and a new
 *    second is taken no further than max_ahead ahead of the clock;
 *  - the bucket's word is stored: it is above every ID issued.
 */
#include <errno.h>
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
	struct timespec now;
	int fail_sync;
	uint64_t durable; /* the checkpoint the last good sync covered */
	uint64_t last[STATE_BUCKETS]; /* the last ID of each bucket, 0 none */
	uint32_t top[STATE_BUCKETS];  /* the highest ts each bucket reached */
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

	if (state_load(&h->checkpoint_safe) >= target)
		return 0;
	state_raise(&h->checkpoint, target);
	if (sim.fail_sync) {
		errno = EIO;
		return -1;
	}
	sim.durable = state_load(&h->checkpoint);
	state_raise(&h->checkpoint_safe, target);
	return 0;
}

static uint32_t
now_ts(void)
{
	int64_t t = (int64_t)sim.now.tv_sec - sim.sf.h->epoch;

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

/* Checks one ID of bucket b handed out at clock now, allowance ahead. */
static void
check_id(unsigned b, uint64_t id, uint32_t now, uint32_t ahead)
{
	const struct state_header *h = sim.sf.h;
	struct id_fields f;

	id_decode(id, &f);
	FUZZ_ASSERT(
	    f.zone == h->zone && f.dc == h->dc && f.machine == h->machine,
	    "ID %llx: node %u/%u/%u, want %u/%u/%u", (unsigned long long)id,
	    f.zone, f.dc, f.machine, h->zone, h->dc, h->machine);
	FUZZ_ASSERT(f.bucket == b, "ID %llx of bucket %u on bucket %u",
	    (unsigned long long)id, f.bucket, b);
	FUZZ_ASSERT(sim.last[b] == 0 || id > sim.last[b],
	    "bucket %u: ID %llx after %llx", b, (unsigned long long)id,
	    (unsigned long long)sim.last[b]);
	FUZZ_ASSERT(f.ts <= sim.durable,
	    "ID ts %u above the durable checkpoint %llu", f.ts,
	    (unsigned long long)sim.durable);
	if (f.ts > sim.top[b]) {
		FUZZ_ASSERT((uint64_t)f.ts <= (uint64_t)now + ahead,
		    "bucket %u takes second %u at clock %u (max_ahead %u)", b,
		    f.ts, now, ahead);
		sim.top[b] = f.ts;
	}
	sim.last[b] = id;
}

/*
 * Checks the n IDs of one reply at p: each above the one before it with
 * the node's and the bucket's bits; the last one (the highest) fully.
 */
static void
check_ids(unsigned b, const uint8_t *p, size_t n, uint32_t now, uint32_t ahead)
{
	const struct state_header *h = sim.sf.h;
	uint64_t bits = id_base(h->zone, h->dc, h->machine, b), id, prev;
	uint64_t mask = (uint64_t)0xffff << 16;
	size_t i;

	if (n == 0)
		return;
	prev = sim.last[b];
	for (i = 0; i + 1 < n; i++, p += 8) {
		id = be64(p);
		FUZZ_ASSERT((id & mask) == bits && (prev == 0 || id > prev),
		    "bucket %u: ID %llx after %llx (bits %llx)", b,
		    (unsigned long long)id, (unsigned long long)prev,
		    (unsigned long long)bits);
		prev = id;
	}
	sim.last[b] = prev;
	check_id(b, be64(p), now, ahead);
}

static void
check_info(unsigned b, const uint8_t *p, size_t len)
{
	const struct state_header *h = sim.sf.h;
	json_error_t jerr;
	json_t *doc = json_loadb((const char *)p, len, 0, &jerr);

	FUZZ_ASSERT(doc != NULL, "INFO is no JSON: %s: %.*s", jerr.text,
	    (int)len, (const char *)p);
	FUZZ_ASSERT(
	    json_integer_value(json_object_get(doc, "zone")) == h->zone &&
		json_integer_value(json_object_get(doc, "dc")) == h->dc &&
		json_integer_value(json_object_get(doc, "machine")) ==
		    h->machine &&
		json_integer_value(json_object_get(doc, "bucket")) == b,
	    "INFO names another node or bucket: %.*s", (int)len,
	    (const char *)p);
	json_decref(doc);
}

/* Serves what is pending on the connection; checks every property. */
static size_t
serve(const struct proto_node *node, unsigned b, const uint8_t *in, size_t len,
    size_t room)
{
	static uint8_t out[OUT_MAX];
	struct proto_result r;
	uint32_t now = now_ts(), ahead = node->max_ahead;
	size_t i = 0, o = 0, m;
	uint64_t word, before = state_load(&state_bucket(sim.sf.h, b)->word);

	r = proto_serve(node, b, in, len, out, room);
	FUZZ_ASSERT(r.used % 2 == 0 && r.used <= len && r.written <= room,
	    "used %zu of %zu, wrote %zu in %zu", r.used, len, r.written, room);
	switch (r.stop) {
	case PROTO_MORE:
		FUZZ_ASSERT(
		    len - r.used < 2 || room - r.written < PROTO_REPLY_MAX,
		    "stopped with %zu bytes left and %zu room", len - r.used,
		    room - r.written);
		break;
	case PROTO_WAIT:
		FUZZ_ASSERT(len - r.used >= 2 && in[r.used] == PROTO_ONE,
		    "waits on no CMD 0");
		break;
	case PROTO_BAD:
		FUZZ_ASSERT(len - r.used >= 2 && in[r.used] > PROTO_INFO &&
			r.cmd == in[r.used],
		    "BAD for command %u", r.cmd);
		break;
	default:
		FUZZ_ASSERT(0, "stop %d", (int)r.stop);
	}
	/* Every reply parses back: the frames used give the bytes written. */
	for (i = 0; i < r.used; i += 2) {
		switch (in[i]) {
		case PROTO_ONE:
			FUZZ_ASSERT(r.written - o >= 8, "CMD 0 reply cut");
			check_id(b, be64(out + o), now, ahead);
			o += 8;
			break;
		case PROTO_MANY:
			FUZZ_ASSERT(r.written - o >= 1, "CMD 1 reply cut");
			m = out[o++];
			FUZZ_ASSERT(m <= in[i + 1], "%zu IDs for CMD 1 of %u",
			    m, in[i + 1]);
			FUZZ_ASSERT(r.written - o >= 8 * m, "CMD 1 IDs cut");
			check_ids(b, out + o, m, now, ahead);
			o += 8 * m;
			break;
		case PROTO_INFO:
			FUZZ_ASSERT(r.written - o >= 2, "INFO length cut");
			m = (size_t)out[o] << 8 | out[o + 1];
			FUZZ_ASSERT(r.written - o - 2 >= m, "INFO cut");
			check_info(b, out + o + 2, m);
			o += 2 + m;
			break;
		default:
			FUZZ_ASSERT(0, "command %u used", in[i]);
		}
	}
	FUZZ_ASSERT(
	    o == r.written, "replies parse to %zu bytes of %zu", o, r.written);
	/* The word is stored and above every ID issued. */
	word = state_load(&state_bucket(sim.sf.h, b)->word);
	FUZZ_ASSERT(word >= before, "word went back");
	if (sim.last[b] != 0)
		FUZZ_ASSERT((word >> 32) > (sim.last[b] >> 32) ||
			((word >> 32) == (sim.last[b] >> 32) &&
			    (word & 0xffffffffu) > (sim.last[b] & 0xffff)),
		    "word %llx not above the last ID %llx",
		    (unsigned long long)word, (unsigned long long)sim.last[b]);
	/* An unknown command closes the connection: drop what is left. */
	return r.stop == PROTO_BAD ? len : r.used;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int64_t epochs[] = {0, 1700000000, 1795000000};
	static struct state_header *h;
	static uint8_t in[IN_MAX];
	struct state_identity id;
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
	id.zone = data[0] & 31;
	id.dc = data[1] & 7;
	id.machine = (data[1] >> 3) & 7;
	id.epoch = epochs[(data[0] >> 5) % 3];
	sim.now.tv_sec = 1795000000 + (time_t)data[2] * 3600;
	sim.now.tv_nsec = (long)data[3] * 3900000;
	state_init(h, &id, sim.now.tv_sec);
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
		case 6: /* the next syncs fail (EIO), or work again */
			sim.fail_sync = (op >> 3) & 1;
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
