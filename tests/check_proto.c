/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_proto.c - the wire protocol (src/proto.c) over a simulated clock
 * and checkpoint: what each command answers, where serving stops, and that
 * IDs of one bucket strictly increase across calls.
 */
#include <check.h>
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bucket.h"
#include "claim.h"
#include "id.h"
#include "proto.h"
#include "serving.h"

#define EPOCH 1600000000LL
#define NOW 1795000000LL /* the simulated wall clock, Unix seconds */
#define MAX_AHEAD 5u
#define BUCKET 9u

static struct statefile sf;
static struct state_worker *slot;
static struct proto_node node;
static struct proto_guard guard;
static long long clock_now;
static long clock_now_ns;
static int raise_fails, raises;
static int64_t mono_now = 5000;
static uint8_t out[64 * 1024];

static void
sim_clock(struct timespec *now)
{
	now->tv_sec = (time_t)clock_now;
	now->tv_nsec = clock_now_ns;
}

/* Raises both marks at once, as checkpoint_raise does after a sync. */
static int
sim_raise(struct statefile *s, uint32_t target)
{
	raises++;
	if (raise_fails) {
		errno = EIO;
		return -1;
	}
	state_raise(&s->h->checkpoint, target);
	state_raise(&s->h->checkpoint_safe, target);
	return 0;
}

static int64_t
sim_mono(void)
{
	return mono_now;
}

static void
setup(void)
{
	struct state_identity id = {3, 2, 5, EPOCH};
	uint32_t now = (uint32_t)(NOW - EPOCH);

	sf.len = state_size();
	sf.h = calloc(1, sf.len);
	ck_assert_ptr_nonnull(sf.h);
	state_init(sf.h, &id, NOW);
	sf.h->checkpoint = sf.h->checkpoint_safe =
	    bucket_checkpoint_target(now, MAX_AHEAD);
	slot = state_worker(sf.h, 0);
	clock_now = NOW;
	mono_now = 5000;
	raise_fails = raises = 0;
	proto_guard_init(&guard, sf.h);
	node = (struct proto_node){
	    .sf = &sf,
	    .slot = slot,
	    .guard = &guard,
	    .max_ahead = MAX_AHEAD,
	    .workers = 1,
	    .worker_pid = 4242,
	    .clock = sim_clock,
	    .raise = sim_raise,
	    .mono_ms = sim_mono,
	};
}

static void
teardown(void)
{
	free(sf.h);
}

static uint64_t
id_at(const uint8_t *p)
{
	uint64_t be;

	memcpy(&be, p, sizeof(be));
	return be64toh(be);
}

static struct proto_result
serve(const uint8_t *in, size_t len, size_t room)
{
	return proto_serve(&node, BUCKET, in, len, out, room);
}

static void
assert_ours(uint64_t id, uint32_t ts)
{
	struct id_fields f;

	id_decode(id, &f);
	ck_assert_uint_eq(f.zone, 3);
	ck_assert_uint_eq(f.dc, 2);
	ck_assert_uint_eq(f.machine, 5);
	ck_assert_uint_eq(f.bucket, BUCKET);
	ck_assert_uint_eq(f.ts, ts);
}

START_TEST(one_id)
{
	static const uint8_t in[] = {0, 0};
	struct proto_result r = serve(in, sizeof(in), sizeof(out));

	ck_assert_int_eq(r.stop, PROTO_MORE);
	ck_assert_uint_eq(r.used, 2);
	ck_assert_uint_eq(r.written, 8);
	assert_ours(id_at(out), (uint32_t)(NOW - EPOCH));
	ck_assert_uint_eq(state_bucket(sf.h, BUCKET)->requests, 1);
	ck_assert_uint_eq(state_bucket(sf.h, BUCKET)->ids, 1);
}
END_TEST

START_TEST(many_ids_and_zero)
{
	static const uint8_t in[] = {1, 255, 1, 0, 1, 3};
	struct proto_result r = serve(in, sizeof(in), sizeof(out));
	uint64_t prev = 0, id;
	unsigned i;

	ck_assert_int_eq(r.stop, PROTO_MORE);
	ck_assert_uint_eq(r.used, sizeof(in));
	ck_assert_uint_eq(r.written, 1 + 8 * 255 + 1 + 1 + 8 * 3);
	ck_assert_uint_eq(out[0], 255);
	for (i = 0; i < 255; i++, prev = id)
		ck_assert_uint_gt(id = id_at(out + 1 + 8 * i), prev);
	ck_assert_uint_eq(out[1 + 8 * 255], 0);
	ck_assert_uint_eq(out[2 + 8 * 255], 3);
	ck_assert_uint_gt(id_at(out + 3 + 8 * 255), prev);
	ck_assert_uint_eq(state_bucket(sf.h, BUCKET)->requests, 3);
	ck_assert_uint_eq(state_bucket(sf.h, BUCKET)->ids, 258);
}
END_TEST

START_TEST(info_names_the_bucket)
{
	static const uint8_t in[] = {2, 0};
	struct proto_result r = serve(in, sizeof(in), sizeof(out));
	size_t len = (size_t)out[0] << 8 | out[1];
	char json[1024];

	ck_assert_uint_eq(r.written, len + 2);
	ck_assert_uint_lt(len, sizeof(json));
	memcpy(json, out + 2, len);
	json[len] = '\0';
	ck_assert_ptr_nonnull(strstr(json, "\"bucket\":9,"));
	ck_assert_ptr_nonnull(strstr(json, "\"worker_pid\":4242,"));
	ck_assert_ptr_nonnull(
	    strstr(json, "\"zone\":3,\"dc\":2,\"machine\":5"));
	ck_assert_int_eq(json[0], '{');
	ck_assert_int_eq(json[len - 1], '}');
	ck_assert_ptr_nonnull(strstr(json, "\"state\":\"serving\","));
	ck_assert_ptr_nonnull(
	    strstr(json, "\"lead_s\":0,\"identity\":\"static\"}"));
}
END_TEST

/* INFO shows what the master published, and stopping while draining. */
static void
info_json(char *json, size_t size)
{
	static const uint8_t in[] = {2, 0};
	size_t len;

	serve(in, sizeof(in), sizeof(out));
	len = (size_t)out[0] << 8 | out[1];
	ck_assert_uint_lt(len, size);
	memcpy(json, out + 2, len);
	json[len] = '\0';
}

START_TEST(info_says_the_state_and_lead)
{
	char json[1024];

	state_bucket(sf.h, 4)->word =
	    bucket_word((uint32_t)(NOW - EPOCH) + 7, 3);
	sf.h->serving = SERVING_CLOCK_BEHIND;
	info_json(json, sizeof(json));
	ck_assert_ptr_nonnull(strstr(json, "\"state\":\"clock-behind\","));
	ck_assert_ptr_nonnull(strstr(json, "\"lead_s\":7,"));
	sf.h->identity = CLAIM_LOST;
	sf.h->serving = SERVING_IDENTITY_LOST;
	info_json(json, sizeof(json));
	ck_assert_ptr_nonnull(strstr(json, "\"state\":\"identity-lost\","));
	ck_assert_ptr_nonnull(strstr(json, "\"identity\":\"lost\"}"));
	node.stopping = 1;
	info_json(json, sizeof(json));
	ck_assert_ptr_nonnull(strstr(json, "\"state\":\"stopping\","));
}
END_TEST

START_TEST(unknown_command_stops_before_it)
{
	static const uint8_t in[] = {0, 0, 7, 1, 0, 0};
	struct proto_result r = serve(in, sizeof(in), sizeof(out));

	ck_assert_int_eq(r.stop, PROTO_BAD);
	ck_assert_uint_eq(r.cmd, 7);
	ck_assert_uint_eq(r.used, 2);
	ck_assert_uint_eq(r.written, 8);
}
END_TEST

START_TEST(half_frame_is_left)
{
	static const uint8_t in[] = {0, 0, 1};
	struct proto_result r = serve(in, sizeof(in), sizeof(out));

	ck_assert_int_eq(r.stop, PROTO_MORE);
	ck_assert_uint_eq(r.used, 2);
	ck_assert_uint_eq(r.written, 8);
}
END_TEST

/* A full output stops serving with the rest of the input unused. */
START_TEST(output_room_bounds_replies)
{
	uint8_t in[2 * 400];
	struct proto_result r;
	uint64_t prev = 0, id;
	size_t i, served = 0;

	memset(in, 0, sizeof(in));
	for (i = 0; i < sizeof(in); i += 2)
		in[i] = 1, in[i + 1] = 255;
	r = serve(in, sizeof(in), 3 * PROTO_REPLY_MAX);
	ck_assert_int_eq(r.stop, PROTO_MORE);
	ck_assert_uint_eq(r.used, 2 * 3);
	ck_assert_uint_le(r.written, 3 * PROTO_REPLY_MAX);
	/* The remaining frames are served by later calls, in order. */
	for (served = r.used; served < sizeof(in); served += r.used) {
		r = serve(in + served, sizeof(in) - served, sizeof(out));
		ck_assert_uint_gt(r.used, 0);
		for (i = 0; i < r.written; i += 1 + 8 * 255)
			for (size_t j = 0; j < out[i]; j++, prev = id)
				ck_assert_uint_gt(
				    id = id_at(out + i + 1 + 8 * j), prev);
	}
}
END_TEST

/*
 * A dry bucket: CMD 1 gets a short reply, a CMD 0 run stops with the
 * frames of the IDs not given unused, and IDs resume in the next second.
 */
START_TEST(dry_bucket_waits_or_answers_short)
{
	uint8_t many[2 * 300], one[2 * 10];
	struct proto_result r;
	uint32_t ts0 = (uint32_t)(NOW - EPOCH);
	uint64_t last = 0;
	size_t i;
	unsigned got = 0;

	for (i = 0; i < sizeof(many); i += 2)
		many[i] = 1, many[i + 1] = 255;
	/* 65,536 IDs a second and MAX_AHEAD seconds of borrowing. */
	while (got < 65536u * (MAX_AHEAD + 1)) {
		r = serve(many, sizeof(many), sizeof(out));
		for (i = 0; i < r.written; i += 1 + 8 * (size_t)out[i]) {
			got += out[i];
			if (out[i] > 0)
				last = id_at(out + i + 1 + 8 * (out[i] - 1));
			if (out[i] < 255)
				goto dry;
		}
	}
	ck_abort_msg("the bucket never ran dry");
dry:
	ck_assert_uint_eq(got, 65536u * (MAX_AHEAD + 1));
	assert_ours(last, ts0 + MAX_AHEAD);
	ck_assert_uint_ge(state_bucket(sf.h, BUCKET)->shorts, 1);
	memset(one, 0, sizeof(one));
	r = serve(one, sizeof(one), sizeof(out));
	ck_assert_int_eq(r.stop, PROTO_WAIT);
	ck_assert_uint_eq(r.used, 0);
	ck_assert_uint_eq(r.written, 0);
	ck_assert_uint_eq(state_bucket(sf.h, BUCKET)->waits, 1);
	/* Time moves: the waiting frames are served above every earlier ID. */
	clock_now++;
	r = serve(one, sizeof(one), sizeof(out));
	ck_assert_int_eq(r.stop, PROTO_MORE);
	ck_assert_uint_eq(r.used, sizeof(one));
	ck_assert_uint_gt(id_at(out), last);
}
END_TEST

/* With the checkpoint in the way the protocol raises it, once per need. */
START_TEST(checkpoint_is_raised_before_use)
{
	static const uint8_t in[] = {0, 0};
	struct proto_result r;

	clock_now += 100;
	r = serve(in, sizeof(in), sizeof(out));
	ck_assert_uint_eq(r.written, 8);
	ck_assert_int_eq(raises, 1);
	ck_assert_uint_eq(slot->checkpoint_raises, 1);
	ck_assert_uint_le(id_at(out) >> 32, state_load(&sf.h->checkpoint_safe));
	assert_ours(id_at(out), (uint32_t)(clock_now - EPOCH));
}
END_TEST

/*
 * A stale checkpoint (the master's timer stalled) while the bucket borrows
 * ahead: the protocol raises it, but never beyond now + max_ahead + 1,
 * which a restart right after a crash accepts.
 */
START_TEST(raised_checkpoint_stays_restartable)
{
	uint32_t now = (uint32_t)(NOW - EPOCH);
	uint8_t in[2 * 64];
	struct proto_result r;
	size_t i;
	unsigned round;

	for (i = 0; i < sizeof(in); i += 2)
		in[i] = 1, in[i + 1] = 255;
	sf.h->checkpoint = sf.h->checkpoint_safe = now;
	for (round = 0; round < 40; round++) {
		r = serve(in, sizeof(in), sizeof(out));
		ck_assert_uint_gt(r.written, 0);
		ck_assert_uint_le(
		    state_load(&sf.h->checkpoint), now + MAX_AHEAD + 1);
	}
	ck_assert_int_ge(raises, 1);
	ck_assert_uint_gt(bucket_ts(state_bucket(sf.h, BUCKET)->word), now);
}
END_TEST

/*
 * In a slew the master writes a larger allowance and the slew's end to
 * the header: a dry bucket borrows up to the slew's top, now + max_ahead
 * + the extra at this millisecond, and raises the checkpoint to now +
 * allowance + 1 at most, which a restart accepts (clock_start_rule with
 * that slew).  Half a second on, the top has moved by three eighths of a
 * second: the reduced rate, spread over the second.
 */
START_TEST(slew_allowance_is_borrowed_under)
{
	uint32_t now = (uint32_t)(NOW - EPOCH);
	uint8_t in[2 * 64];
	struct proto_result r;
	uint64_t got = 0;
	size_t i;

	for (i = 0; i < sizeof(in); i += 2)
		in[i] = 1, in[i + 1] = 255;
	/*
	 * The clock stepped back 20 s: the bucket stands 20 s ahead, under
	 * the checkpoint the master had raised before the step.
	 */
	state_store(&sf.h->checkpoint, now + 20 + MAX_AHEAD + 1);
	state_store(&sf.h->checkpoint_safe, now + 20 + MAX_AHEAD + 1);
	state_store(
	    &state_bucket(sf.h, BUCKET)->word, bucket_word(now + 20, 0));
	state_store(&sf.h->allowance, MAX_AHEAD + 20);
	state_store(&sf.h->slew_rate_ppm, 250000);
	state_store(&sf.h->slew_end_ms, (uint64_t)mono_now + 20 * 4000);
	do {
		r = serve(in, sizeof(in), sizeof(out));
		for (i = 0; i < r.written; i += 1 + 8 * (size_t)out[i])
			got += out[i];
		ck_assert_uint_le(
		    state_load(&sf.h->checkpoint), now + MAX_AHEAD + 20 + 1);
	} while (out[0] == 255 && got < 65536u * 40);
	/* From its second up to now + max_ahead + extra: 5 seconds. */
	ck_assert_uint_eq(got, 65536u * MAX_AHEAD);
	ck_assert_uint_eq(
	    bucket_ts(state_bucket(sf.h, BUCKET)->word), now + MAX_AHEAD + 19);
	/* 500 ms on: the extra fell by 125 ms, the clock rose by 500. */
	mono_now += 500;
	clock_now_ns = 500000000;
	got = 0;
	do {
		r = serve(in, sizeof(in), sizeof(out));
		for (i = 0; i < r.written; i += 1 + 8 * (size_t)out[i])
			got += out[i];
	} while (out[0] == 255);
	ck_assert_uint_eq(got, 65536u * 375 / 1000);
	clock_now_ns = 0;
	state_store(&sf.h->slew_end_ms, 0);
	ck_assert_int_ne(
	    clock_start_rule(now, state_load(&sf.h->checkpoint), MAX_AHEAD, 20),
	    CLOCK_START_BEHIND);
	/* The allowance never goes below max_ahead, whatever the header. */
	state_store(&sf.h->allowance, 0);
	clock_now += 30;
	got = 0;
	do {
		r = serve(in, sizeof(in), sizeof(out));
		for (i = 0; i < r.written; i += 1 + 8 * (size_t)out[i])
			got += out[i];
	} while (out[0] == 255 && got < 65536u * 40);
	ck_assert_uint_eq(
	    bucket_ts(state_bucket(sf.h, BUCKET)->word), now + 30 + MAX_AHEAD);
}
END_TEST

/* A checkpoint that cannot be made durable issues nothing above it. */
START_TEST(failed_raise_issues_nothing_above)
{
	static const uint8_t in[] = {0, 0, 1, 5};
	struct proto_result r;

	clock_now += 100;
	raise_fails = 1;
	r = serve(in, sizeof(in), sizeof(out));
	ck_assert_int_eq(r.raise_errno, EIO);
	ck_assert_int_eq(r.stop, PROTO_WAIT);
	ck_assert_uint_eq(r.used, 0);
	ck_assert_uint_eq(r.written, 0);
	ck_assert_uint_eq(slot->checkpoint_raises, 0);
}
END_TEST

START_TEST(fence_stops_issuing_at_its_deadline)
{
	static const uint8_t in[] = {1, 5, 0, 0};
	struct proto_result r;
	char json[1024];

	/* A lease renewed until 6000 ms: issued before, nothing from then. */
	sf.h->identity = CLAIM_HELD;
	sf.h->fence_ms = 6000;
	mono_now = 5999;
	r = serve(in, sizeof(in), sizeof(out));
	ck_assert_uint_eq(r.used, 4);
	ck_assert_uint_eq(out[0], 5);
	mono_now = 6000;
	r = serve(in, sizeof(in), sizeof(out));
	ck_assert_int_eq(r.stop, PROTO_WAIT);
	ck_assert_uint_eq(r.used, 2);
	ck_assert_uint_eq(r.written, 1);
	ck_assert_uint_eq(out[0], 0);
	/* INFO says so at once, before the master publishes it. */
	info_json(json, sizeof(json));
	ck_assert_ptr_nonnull(strstr(json, "\"state\":\"identity-lost\","));
	ck_assert_ptr_nonnull(strstr(json, "\"identity\":\"lost\"}"));
	/* Renewed: issuing again. */
	sf.h->fence_ms = 9000;
	r = serve(in + 2, 2, sizeof(out));
	ck_assert_uint_eq(r.written, 8);
}
END_TEST

START_TEST(ceiling_caps_what_is_issued_and_is_never_raised)
{
	static const uint8_t in[] = {1, 255};
	uint32_t now = (uint32_t)(NOW - EPOCH);
	struct proto_result r;
	uint64_t last = 0;
	unsigned rounds;

	/* The etcd checkpoint at now + 1: a second and a half of IDs. */
	sf.h->ceiling = now + 1;
	for (rounds = 0; rounds < 100000; rounds++) {
		r = serve(in, sizeof(in), sizeof(out));
		if (out[0] == 0)
			break;
		last = id_at(out + 1 + 8 * (out[0] - 1u));
	}
	ck_assert_uint_lt(rounds, 100000);
	ck_assert_uint_eq(r.used, 2);
	ck_assert_uint_eq((uint32_t)(last >> 32), now + 1);
	/* The local checkpoint is not moved past it for the ceiling. */
	ck_assert_uint_le(
	    sf.h->checkpoint_safe, bucket_checkpoint_target(now, MAX_AHEAD));
	/* The coordination raised it: issuing again, in the next second. */
	sf.h->ceiling = now + 3;
	r = serve(in, sizeof(in), sizeof(out));
	ck_assert_uint_eq(out[0], 255);
	ck_assert_uint_eq((uint32_t)(id_at(out + 1) >> 32), now + 2);
}
END_TEST

/* The last ID of a CMD 1 reply at p. */
static uint64_t
last_of(const uint8_t *p)
{
	return id_at(p + 1 + 8 * ((size_t)p[0] - 1));
}

/*
 * issue 17: a table zeroed under the worker (a truncation to the header)
 * is below what it issued: nothing more, whatever the clock; the word is
 * left as found, and the result says why.
 */
START_TEST(zeroed_table_issues_nothing)
{
	static const uint8_t in[] = {1, 255, 0, 0};
	struct proto_result r = serve(in, 2, sizeof(out));
	uint64_t issued;

	ck_assert_uint_eq(out[0], 255);
	issued = state_load(&state_bucket(sf.h, BUCKET)->word);
	state_store(&state_bucket(sf.h, BUCKET)->word, 0);
	r = serve(in, sizeof(in), sizeof(out));
	ck_assert_int_eq(r.stop, PROTO_DAMAGED);
	ck_assert_int_eq(r.damage.why, BUCKET_WORD_BACK);
	ck_assert_uint_eq(r.damage.bucket, BUCKET);
	ck_assert_uint_eq(r.damage.shared, 0);
	ck_assert_uint_eq(r.damage.own, issued);
	/* A CMD 1 answered with none: the reply is whole, its count 0. */
	ck_assert_uint_eq(r.written, 1);
	ck_assert_uint_eq(out[0], 0);
	ck_assert_uint_eq(state_load(&state_bucket(sf.h, BUCKET)->word), 0);
	clock_now += 10;
	r = serve(in + 2, 2, sizeof(out));
	ck_assert_int_eq(r.stop, PROTO_DAMAGED);
	ck_assert_uint_eq(r.written, 0);
}
END_TEST

/* An older copy written over the table, then the file's checkpoint
 * lowered below what was issued: both refused. */
START_TEST(older_copy_and_fallen_checkpoint_refused)
{
	static const uint8_t in[] = {1, 200};
	uint32_t now = (uint32_t)(NOW - EPOCH);
	struct proto_result r;

	r = serve(in, sizeof(in), sizeof(out));
	ck_assert_uint_eq(out[0], 200);
	state_store(&state_bucket(sf.h, BUCKET)->word, bucket_word(now, 100));
	r = serve(in, sizeof(in), sizeof(out));
	ck_assert_int_eq(r.stop, PROTO_DAMAGED);
	ck_assert_int_eq(r.damage.why, BUCKET_WORD_BACK);
	ck_assert_uint_eq(out[0], 0);
	state_store(&state_bucket(sf.h, BUCKET)->word, bucket_word(now, 200));
	state_store(&sf.h->checkpoint_safe, now - 1);
	r = serve(in, sizeof(in), sizeof(out));
	ck_assert_int_eq(r.stop, PROTO_DAMAGED);
	ck_assert_int_eq(r.damage.why, BUCKET_CHECKPOINT_BACK);
	ck_assert_uint_eq(out[0], 0);
}
END_TEST

/* A word from another file, beyond this one's checkpoint: refused; one
 * moved up within the checkpoint: served above it. */
START_TEST(word_beyond_checkpoint_refused)
{
	static const uint8_t in[] = {1, 10};
	uint32_t ckpt = (uint32_t)state_load(&sf.h->checkpoint_safe);
	struct proto_result r;

	state_store(
	    &state_bucket(sf.h, BUCKET)->word, bucket_word(ckpt + 1, 5));
	r = serve(in, sizeof(in), sizeof(out));
	ck_assert_int_eq(r.stop, PROTO_DAMAGED);
	ck_assert_int_eq(r.damage.why, BUCKET_WORD_BEYOND);
	ck_assert_uint_eq(out[0], 0);
	state_store(&state_bucket(sf.h, BUCKET)->word, bucket_word(ckpt, 7));
	r = serve(in, sizeof(in), sizeof(out));
	ck_assert_int_eq(r.stop, PROTO_MORE);
	ck_assert_uint_eq(out[0], 10);
	assert_ours(id_at(out + 1), ckpt);
	ck_assert_uint_eq(id_at(out + 1) & 0xffff, 7);
	ck_assert_uint_eq(last_of(out) & 0xffff, 16);
}
END_TEST

/* The identity and epoch of the IDs are the process's own, not the
 * file's: a header rewritten with another machine changes nothing. */
START_TEST(identity_comes_from_memory)
{
	static const uint8_t in[] = {0, 0};
	struct proto_result r;

	sf.h->machine = 0;
	sf.h->zone = 0;
	sf.h->epoch = 0;
	r = serve(in, sizeof(in), sizeof(out));
	ck_assert_int_eq(r.stop, PROTO_MORE);
	assert_ours(id_at(out), (uint32_t)(NOW - EPOCH));
}
END_TEST

/*
 * A word at the checkpoint + 1, counter 0 (what a boot writes, or a word
 * written into the file) with the clock further behind it than the
 * allowance: a raise cannot cover it, so the bucket waits for the clock
 * instead of asking for raises for ever (found by fuzz_proto).
 */
START_TEST(word_past_the_allowance_waits)
{
	static const uint8_t in[] = {1, 10, 0, 0};
	uint32_t ckpt = (uint32_t)state_load(&sf.h->checkpoint_safe);
	struct proto_result r;

	state_store(
	    &state_bucket(sf.h, BUCKET)->word, bucket_word(ckpt + 1, 0));
	guard.own[BUCKET] = bucket_word(ckpt + 1, 0);
	clock_now -= 60;
	r = serve(in, sizeof(in), sizeof(out));
	ck_assert_int_eq(r.stop, PROTO_WAIT);
	ck_assert_uint_eq(out[0], 0);
	ck_assert_uint_eq(r.used, 2);
	ck_assert_uint_eq(state_load(&sf.h->checkpoint_safe), ckpt);
	/* Once the clock is within the allowance of it, a raise covers it. */
	clock_now += 61;
	r = serve(in, sizeof(in), sizeof(out));
	ck_assert_uint_eq(out[0], 10);
	assert_ours(id_at(out + 1), ckpt + 1);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("proto");
	TCase *tc = tcase_create("serve");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, one_id);
	tcase_add_test(tc, many_ids_and_zero);
	tcase_add_test(tc, info_names_the_bucket);
	tcase_add_test(tc, info_says_the_state_and_lead);
	tcase_add_test(tc, unknown_command_stops_before_it);
	tcase_add_test(tc, half_frame_is_left);
	tcase_add_test(tc, output_room_bounds_replies);
	tcase_add_test(tc, dry_bucket_waits_or_answers_short);
	tcase_add_test(tc, checkpoint_is_raised_before_use);
	tcase_add_test(tc, raised_checkpoint_stays_restartable);
	tcase_add_test(tc, slew_allowance_is_borrowed_under);
	tcase_add_test(tc, failed_raise_issues_nothing_above);
	tcase_add_test(tc, fence_stops_issuing_at_its_deadline);
	tcase_add_test(tc, ceiling_caps_what_is_issued_and_is_never_raised);
	tcase_add_test(tc, zeroed_table_issues_nothing);
	tcase_add_test(tc, older_copy_and_fallen_checkpoint_refused);
	tcase_add_test(tc, word_beyond_checkpoint_refused);
	tcase_add_test(tc, identity_comes_from_memory);
	tcase_add_test(tc, word_past_the_allowance_waits);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
