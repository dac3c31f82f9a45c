/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_bucket.c - the per-bucket generator and the clock rules (genid(7)).
 *
 * Expected IDs are built from shifts written here: ts in bits 63..32, the
 * bucket's base in 31..16, the counter in 15..0.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bucket.h"
#include "check_core.h"
#include "id.h"

#define T UINT32_C(1795000000) /* 2026-11-18T11:06:40Z */
#define COUNTERS 65536u

static uint64_t base(unsigned bucket);
static uint64_t want_id(uint32_t ts, unsigned bucket, unsigned counter);
static unsigned take(uint64_t *word, uint32_t now, uint32_t checkpoint,
    uint32_t max_ahead, unsigned want, uint64_t *ids, struct bucket_result *r);
static uint32_t lead(uint64_t word, uint32_t now);
static void assert_increasing(const uint64_t *ids, unsigned n);
static void assert_run(
    const uint64_t *ids, unsigned n, uint32_t ts, unsigned first);
static int cmp_u64(const void *a, const void *b);

/* zone 3, dc 2, machine 5: the identity of the documented example. */
static uint64_t
base(unsigned bucket)
{
	return UINT64_C(0x1aa00000) | (uint64_t)bucket << 16;
}

static uint64_t
want_id(uint32_t ts, unsigned bucket, unsigned counter)
{
	return (uint64_t)ts << 32 | base(bucket) | counter;
}

/* One call of bucket_take for bucket 17, with a result the call must fill. */
static unsigned
take(uint64_t *word, uint32_t now, uint32_t checkpoint, uint32_t max_ahead,
    unsigned want, uint64_t *ids, struct bucket_result *r)
{
	struct bucket_limits lim = {now, checkpoint, max_ahead, 0};
	unsigned n;

	memset(r, 0xa5, sizeof(*r));
	n = bucket_take(word, base(17), &lim, want, ids, r);
	ck_assert_uint_le(n, want);
	ck_assert_msg((r->stop == BUCKET_DONE) == (n == want),
	    "stop %d with %u of %u IDs", (int)r->stop, n, want);
	return n;
}

/* How far a bucket's ts is ahead of the clock. */
static uint32_t
lead(uint64_t word, uint32_t now)
{
	return bucket_ts(word) > now ? bucket_ts(word) - now : 0;
}

static void
assert_increasing(const uint64_t *ids, unsigned n)
{
	unsigned i;

	for (i = 1; i < n; i++)
		if (ids[i] <= ids[i - 1])
			ck_abort_msg("ID %u 0x%016llx not above 0x%016llx", i,
			    (unsigned long long)ids[i],
			    (unsigned long long)ids[i - 1]);
}

/* ids are the IDs from counter first of second ts on, running on into the
 * following seconds.  Plain comparisons: a ck_assert per ID would cost
 * Check a write each. */
static void
assert_run(const uint64_t *ids, unsigned n, uint32_t ts, unsigned first)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		uint64_t want = want_id(
		    ts + (first + i) / COUNTERS, 17, (first + i) % COUNTERS);

		if (ids[i] != want)
			ck_abort_msg("ID %u is 0x%016llx, want 0x%016llx", i,
			    (unsigned long long)ids[i],
			    (unsigned long long)want);
	}
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

START_TEST(test_bucket_word)
{
	uint64_t w;

	w = bucket_word(T, 4242);
	ck_assert_uint_eq(w, (uint64_t)T << 32 | 4242);
	ck_assert_uint_eq(bucket_ts(w), T);
	ck_assert_uint_eq(bucket_next(w), 4242);
	w = bucket_word(UINT32_MAX, COUNTERS);
	ck_assert_uint_eq(w, UINT64_C(0xffffffff00010000));
	ck_assert_uint_eq(bucket_ts(w), UINT32_MAX);
	ck_assert_uint_eq(bucket_next(w), COUNTERS);
	ck_assert_uint_eq(bucket_word(0, 0), 0);
	ck_assert_uint_eq(bucket_ts(0), 0);
	ck_assert_uint_eq(bucket_next(0), 0);
}
END_TEST

START_TEST(test_bucket_same_second)
{
	uint64_t word = 0, ids[8];
	struct bucket_result r;

	ck_assert_uint_eq(take(&word, T, T + 6, 5, 3, ids, &r), 3);
	ck_assert_int_eq(r.stop, BUCKET_DONE);
	ck_assert_uint_eq(r.need, 0);
	ck_assert_uint_eq(lead(word, T), 0);
	ck_assert_uint_eq(ids[0], want_id(T, 17, 0));
	ck_assert_uint_eq(ids[1], want_id(T, 17, 1));
	ck_assert_uint_eq(ids[2], want_id(T, 17, 2));
	ck_assert_uint_eq(word, bucket_word(T, 3));

	/* The same second goes on counting where it stopped. */
	ck_assert_uint_eq(take(&word, T, T + 6, 5, 2, ids, &r), 2);
	ck_assert_uint_eq(ids[0], want_id(T, 17, 3));
	ck_assert_uint_eq(ids[1], want_id(T, 17, 4));
	ck_assert_uint_eq(word, bucket_word(T, 5));
	ck_assert_uint_eq(lead(word, T), 0);
}
END_TEST

START_TEST(test_bucket_new_second)
{
	uint64_t word = bucket_word(T, 500), ids[4];
	struct bucket_result r;

	ck_assert_uint_eq(take(&word, T + 1, T + 7, 5, 2, ids, &r), 2);
	ck_assert_uint_eq(ids[0], want_id(T + 1, 17, 0));
	ck_assert_uint_eq(ids[1], want_id(T + 1, 17, 1));
	ck_assert_uint_eq(word, bucket_word(T + 1, 2));
	ck_assert_uint_eq(lead(word, T + 1), 0);

	/* An exhausted second is left behind as soon as the clock moves. */
	word = bucket_word(T, COUNTERS);
	ck_assert_uint_eq(take(&word, T + 1, T + 7, 0, 1, ids, &r), 1);
	ck_assert_uint_eq(ids[0], want_id(T + 1, 17, 0));
	ck_assert_uint_eq(word, bucket_word(T + 1, 1));
}
END_TEST

/* genid(7): a step back is absorbed, the bucket goes on in its own second. */
START_TEST(test_bucket_clock_back)
{
	uint64_t word = 0, ids[32], last;
	struct bucket_result r;

	ck_assert_uint_eq(take(&word, T, T + 6, 5, 10, ids, &r), 10);
	last = ids[9];
	ck_assert_uint_eq(last, want_id(T, 17, 9));

	ck_assert_uint_eq(take(&word, T - 3600, T + 6, 5, 10, ids, &r), 10);
	ck_assert_int_eq(r.stop, BUCKET_DONE);
	ck_assert_uint_gt(ids[0], last);
	assert_increasing(ids, 10);
	ck_assert_uint_eq(ids[0], want_id(T, 17, 10));
	ck_assert_uint_eq(ids[9], want_id(T, 17, 19));
	ck_assert_uint_eq(bucket_ts(word), T);
	ck_assert_uint_eq(lead(word, T - 3600), 3600);
	last = ids[9];

	/* Back to the same second, then a new one: never below. */
	ck_assert_uint_eq(take(&word, T, T + 6, 5, 1, ids, &r), 1);
	ck_assert_uint_eq(ids[0], want_id(T, 17, 20));
	ck_assert_uint_gt(ids[0], last);
	ck_assert_uint_eq(lead(word, T), 0);
	ck_assert_uint_eq(take(&word, T + 1, T + 7, 5, 1, ids, &r), 1);
	ck_assert_uint_eq(ids[0], want_id(T + 1, 17, 0));

	/* A step back to the epoch itself. */
	ck_assert_uint_eq(take(&word, 0, T + 7, 5, 1, ids, &r), 1);
	ck_assert_uint_eq(ids[0], want_id(T + 1, 17, 1));
	ck_assert_uint_eq(lead(word, 0), T + 1);
}
END_TEST

START_TEST(test_bucket_clock_forward)
{
	uint64_t word = bucket_word(T, 100), ids[2];
	struct bucket_result r;

	ck_assert_uint_eq(take(&word, T + 86400, T + 86406, 5, 2, ids, &r), 2);
	ck_assert_uint_eq(ids[0], want_id(T + 86400, 17, 0));
	ck_assert_uint_eq(ids[1], want_id(T + 86400, 17, 1));
	ck_assert_uint_eq(word, bucket_word(T + 86400, 2));
	ck_assert_uint_eq(lead(word, T + 86400), 0);

	/* A bucket that borrowed ahead is overtaken by a jump. */
	word = bucket_word(T + 3, 7);
	ck_assert_uint_eq(take(&word, T + 10, T + 16, 5, 1, ids, &r), 1);
	ck_assert_uint_eq(ids[0], want_id(T + 10, 17, 0));
}
END_TEST

/*
 * 65,536 IDs use a second up; the bucket then borrows ts + 1 while
 * ts + 1 <= now + max_ahead, and stops with the second at which the next
 * borrow becomes possible.
 */
START_TEST(test_bucket_exhaustion_borrow)
{
	uint64_t word = 0, *ids;
	struct bucket_result r;
	uint32_t s;

	ids = malloc(COUNTERS * sizeof(*ids));
	ck_assert_ptr_nonnull(ids);

	ck_assert_uint_eq(
	    take(&word, T, T + 100, 5, COUNTERS, ids, &r), COUNTERS);
	ck_assert_int_eq(r.stop, BUCKET_DONE);
	assert_run(ids, COUNTERS, T, 0);
	ck_assert_uint_eq(word, bucket_word(T, COUNTERS));
	ck_assert_uint_eq(lead(word, T), 0);

	for (s = 1; s <= 5; s++) {
		ck_assert_uint_eq(take(&word, T, T + 100, 5, 1, ids, &r), 1);
		ck_assert_uint_eq(ids[0], want_id(T + s, 17, 0));
		ck_assert_uint_eq(lead(word, T), s);
		ck_assert_uint_eq(
		    take(&word, T, T + 100, 5, COUNTERS - 1, ids, &r),
		    COUNTERS - 1);
		assert_run(ids, COUNTERS - 1, T + s, 1);
		ck_assert_uint_eq(word, bucket_word(T + s, COUNTERS));
	}

	/* ts + 1 = T + 6 > now + 5: capped until now = T + 1. */
	ck_assert_uint_eq(take(&word, T, T + 100, 5, 10, ids, &r), 0);
	ck_assert_int_eq(r.stop, BUCKET_EXHAUSTED);
	ck_assert_uint_eq(r.need, T + 1);
	ck_assert_uint_eq(lead(word, T), 5);
	ck_assert_uint_eq(word, bucket_word(T + 5, COUNTERS));

	ck_assert_uint_eq(take(&word, T + 1, T + 100, 5, 10, ids, &r), 10);
	ck_assert_int_eq(r.stop, BUCKET_DONE);
	ck_assert_uint_eq(ids[0], want_id(T + 6, 17, 0));
	ck_assert_uint_eq(ids[9], want_id(T + 6, 17, 9));
	ck_assert_uint_eq(lead(word, T + 1), 5);
	free(ids);
}
END_TEST

/* The same borrowing in one call: stops after max_ahead + 1 seconds. */
START_TEST(test_bucket_exhaustion_one_call)
{
	const unsigned want = 7 * COUNTERS;
	uint64_t word = 0, *ids;
	struct bucket_result r;

	ids = malloc(want * sizeof(*ids));
	ck_assert_ptr_nonnull(ids);
	ck_assert_uint_eq(
	    take(&word, T, T + 100, 5, want, ids, &r), 6 * COUNTERS);
	ck_assert_int_eq(r.stop, BUCKET_EXHAUSTED);
	ck_assert_uint_eq(r.need, T + 1);
	ck_assert_uint_eq(lead(word, T), 5);
	assert_run(ids, 6 * COUNTERS, T, 0);
	ck_assert_uint_eq(word, bucket_word(T + 5, COUNTERS));
	free(ids);
}
END_TEST

/* need is the earliest now with ts + 1 <= now + max_ahead. */
START_TEST(test_bucket_borrow_cap_need)
{
	uint64_t word, ids[4];
	struct bucket_result r;

	word = bucket_word(T + 2, COUNTERS);
	ck_assert_uint_eq(take(&word, T, T + 100, 2, 1, ids, &r), 0);
	ck_assert_int_eq(r.stop, BUCKET_EXHAUSTED);
	ck_assert_uint_eq(r.need, T + 1);
	ck_assert_uint_eq(word, bucket_word(T + 2, COUNTERS));
	ck_assert_uint_eq(take(&word, r.need, T + 100, 2, 1, ids, &r), 1);
	ck_assert_uint_eq(ids[0], want_id(T + 3, 17, 0));
	ck_assert_uint_eq(lead(word, T + 1), 2);

	/* After a step back the bucket waits for the clock to catch up. */
	word = bucket_word(T, COUNTERS);
	ck_assert_uint_eq(take(&word, T - 3600, T + 100, 5, 1, ids, &r), 0);
	ck_assert_int_eq(r.stop, BUCKET_EXHAUSTED);
	ck_assert_uint_eq(r.need, T - 4);
	ck_assert_uint_eq(take(&word, T - 5, T + 100, 5, 1, ids, &r), 0);
	ck_assert_uint_eq(r.need, T - 4);
	ck_assert_uint_eq(take(&word, T - 4, T + 100, 5, 1, ids, &r), 1);
	ck_assert_uint_eq(ids[0], want_id(T + 1, 17, 0));

	/* The last second of the range has nothing to borrow. */
	word = bucket_word(UINT32_MAX, COUNTERS);
	ck_assert_uint_eq(
	    take(&word, UINT32_MAX, UINT32_MAX, 5, 1, ids, &r), 0);
	ck_assert_int_eq(r.stop, BUCKET_EXHAUSTED);
	ck_assert_uint_eq(word, bucket_word(UINT32_MAX, COUNTERS));
}
END_TEST

START_TEST(test_bucket_checkpoint_cap)
{
	uint64_t word, ids[16];
	struct bucket_result r;

	/* A new second above the checkpoint: nothing, and no state change. */
	word = bucket_word(T - 1, 7);
	ck_assert_uint_eq(take(&word, T, T - 1, 5, 4, ids, &r), 0);
	ck_assert_int_eq(r.stop, BUCKET_CHECKPOINT);
	ck_assert_uint_eq(r.need, T);
	ck_assert_uint_eq(word, bucket_word(T - 1, 7));
	ck_assert_uint_eq(take(&word, T, r.need, 5, 4, ids, &r), 4);
	ck_assert_uint_eq(ids[0], want_id(T, 17, 0));

	/* Borrowing stops at the checkpoint even inside max_ahead. */
	word = bucket_word(T, COUNTERS);
	ck_assert_uint_eq(take(&word, T, T, 5, 1, ids, &r), 0);
	ck_assert_int_eq(r.stop, BUCKET_CHECKPOINT);
	ck_assert_uint_eq(r.need, T + 1);
	ck_assert_uint_eq(word, bucket_word(T, COUNTERS));

	/* The rest of the second is issued, the next one is not. */
	word = bucket_word(T, 65530);
	ck_assert_uint_eq(take(&word, T, T, 5, 10, ids, &r), 6);
	ck_assert_int_eq(r.stop, BUCKET_CHECKPOINT);
	ck_assert_uint_eq(r.need, T + 1);
	ck_assert_uint_eq(ids[0], want_id(T, 17, 65530));
	ck_assert_uint_eq(ids[5], want_id(T, 17, 65535));

	/* Once the checkpoint is raised the borrowed second follows. */
	ck_assert_uint_eq(take(&word, T, T + 1, 5, 2, ids, &r), 2);
	ck_assert_uint_eq(ids[0], want_id(T + 1, 17, 0));
	ck_assert_uint_eq(ids[1], want_id(T + 1, 17, 1));

	/* The checkpoint caps the last second of the range as well. */
	word = 0;
	ck_assert_uint_eq(
	    take(&word, UINT32_MAX, UINT32_MAX - 1, 5, 1, ids, &r), 0);
	ck_assert_int_eq(r.stop, BUCKET_CHECKPOINT);
	ck_assert_uint_eq(r.need, UINT32_MAX);
	ck_assert_uint_eq(word, 0);
}
END_TEST

/*
 * A stop at the checkpoint after some IDs must leave the word at the last
 * second actually issued.  A word that already sits in the next, unissued
 * second is above the checkpoint and, after a clock step back, lets the
 * next call issue there without the ts + 1 <= now + max_ahead check of
 * genid(7).
 */
START_TEST(test_bucket_checkpoint_stop_word)
{
	uint64_t word, ids[16];
	struct bucket_result r;

	word = bucket_word(T, 65530);
	ck_assert_uint_eq(take(&word, T, T, 5, 10, ids, &r), 6);
	ck_assert_int_eq(r.stop, BUCKET_CHECKPOINT);
	ck_assert_msg(bucket_ts(word) <= T,
	    "stored ts %u is above the checkpoint %u",
	    (unsigned)bucket_ts(word), (unsigned)T);
	ck_assert_uint_eq(word, bucket_word(T, COUNTERS));
	ck_assert_uint_eq(lead(word, T), 0);
}
END_TEST

START_TEST(test_bucket_borrow_cap_after_checkpoint_stop)
{
	uint64_t word, ids[4];
	struct bucket_result r;

	word = bucket_word(T, 65535);
	ck_assert_uint_eq(take(&word, T, T, 5, 2, ids, &r), 1);
	ck_assert_int_eq(r.stop, BUCKET_CHECKPOINT);
	ck_assert_uint_eq(r.need, T + 1);
	/* The worker raises the checkpoint to need; meanwhile the clock
	 * stepped back an hour: T + 1 > now + max_ahead may not be used. */
	ck_assert_uint_eq(take(&word, T - 3600, T + 1, 5, 1, ids, &r), 0);
	ck_assert_int_eq(r.stop, BUCKET_EXHAUSTED);
	ck_assert_uint_eq(r.need, T - 4);
}
END_TEST

START_TEST(test_bucket_max_ahead_zero)
{
	uint64_t word = 0, *ids;
	struct bucket_result r;

	ids = malloc((COUNTERS + 1) * sizeof(*ids));
	ck_assert_ptr_nonnull(ids);
	ck_assert_uint_eq(
	    take(&word, T, T + 1, 0, COUNTERS + 1, ids, &r), COUNTERS);
	ck_assert_int_eq(r.stop, BUCKET_EXHAUSTED);
	ck_assert_uint_eq(r.need, T + 1);
	ck_assert_uint_eq(lead(word, T), 0);
	ck_assert_uint_eq(ids[COUNTERS - 1], want_id(T, 17, 65535));
	ck_assert_uint_eq(word, bucket_word(T, COUNTERS));

	ck_assert_uint_eq(take(&word, T, T + 1, 0, 1, ids, &r), 0);
	ck_assert_int_eq(r.stop, BUCKET_EXHAUSTED);
	ck_assert_uint_eq(r.need, T + 1);

	ck_assert_uint_eq(take(&word, T + 1, T + 2, 0, 1, ids, &r), 1);
	ck_assert_uint_eq(ids[0], want_id(T + 1, 17, 0));
	ck_assert_uint_eq(lead(word, T + 1), 0);
	free(ids);
}
END_TEST

START_TEST(test_bucket_want_zero)
{
	uint64_t word, ids[1] = {42};
	struct bucket_result r;

	word = bucket_word(T, 5);
	ck_assert_uint_eq(take(&word, T, T + 6, 5, 0, ids, &r), 0);
	ck_assert_int_eq(r.stop, BUCKET_DONE);
	ck_assert_uint_eq(word, bucket_word(T, 5));

	/* A new second is not entered for nothing. */
	ck_assert_uint_eq(take(&word, T + 9, T + 15, 5, 0, ids, &r), 0);
	ck_assert_int_eq(r.stop, BUCKET_DONE);
	ck_assert_uint_eq(word, bucket_word(T, 5));

	/* Nothing asked of an exhausted, capped bucket is nothing refused. */
	word = bucket_word(T, COUNTERS);
	ck_assert_uint_eq(take(&word, T, T, 0, 0, ids, &r), 0);
	ck_assert_int_eq(r.stop, BUCKET_DONE);
	ck_assert_uint_eq(word, bucket_word(T, COUNTERS));
	ck_assert_uint_eq(ids[0], 42);
}
END_TEST

START_TEST(test_bucket_want_crosses_second)
{
	uint64_t word = bucket_word(T, 65530), ids[255];
	struct bucket_result r;

	ck_assert_uint_eq(take(&word, T, T + 6, 5, 255, ids, &r), 255);
	ck_assert_int_eq(r.stop, BUCKET_DONE);
	ck_assert_uint_eq(ids[5], want_id(T, 17, 65535));
	ck_assert_uint_eq(ids[6], want_id(T + 1, 17, 0));
	assert_run(ids, 255, T, 65530);
	assert_increasing(ids, 255);
	ck_assert_uint_eq(word, bucket_word(T + 1, 249));
	ck_assert_uint_eq(lead(word, T), 1);
}
END_TEST

/* Every stop before the first ID keeps the stored word as it was. */
START_TEST(test_bucket_unchanged_without_ids)
{
	static const struct {
		uint64_t word;
		uint32_t now, checkpoint, max_ahead;
		unsigned want;
		enum bucket_stop stop;
	} cases[] = {
	    {UINT64_C(0), T, T - 1, 5, 1, BUCKET_CHECKPOINT},
	    {(uint64_t)(T - 9) << 32 | 77, T, T - 1, 5, 255, BUCKET_CHECKPOINT},
	    {(uint64_t)T << 32 | COUNTERS, T, T, 5, 1, BUCKET_CHECKPOINT},
	    {(uint64_t)T << 32 | COUNTERS, T, T + 9, 0, 1, BUCKET_EXHAUSTED},
	    {(uint64_t)(T + 5) << 32 | COUNTERS, T, T + 9, 5, 255,
		BUCKET_EXHAUSTED},
	    {(uint64_t)(T + 5) << 32 | COUNTERS, T - 3600, T + 9, 5, 1,
		BUCKET_EXHAUSTED},
	    {(uint64_t)(T + 1) << 32, T, T, 5, 1, BUCKET_CHECKPOINT},
	    {(uint64_t)T << 32 | 9, T + 1, T + 7, 5, 0, BUCKET_DONE},
	};
	uint64_t ids[255];
	struct bucket_result r;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t word = cases[i].word;

		ck_assert_uint_eq(
		    take(&word, cases[i].now, cases[i].checkpoint,
			cases[i].max_ahead, cases[i].want, ids, &r),
		    0);
		ck_assert_msg(r.stop == cases[i].stop, "case %zu: stop %d", i,
		    (int)r.stop);
		ck_assert_msg(word == cases[i].word,
		    "case %zu: word changed to 0x%016llx", i,
		    (unsigned long long)word);
	}
}
END_TEST

/* genid(7): the bucket bits are in every ID, so 32 buckets driven through
 * the same clock never collide. */
START_TEST(test_bucket_bits_in_every_id)
{
	enum { PER = 300, CALLS = 4 };
	uint64_t *all, words[32] = {0};
	struct bucket_limits lim = {T, T + 6, 5, 0};
	struct bucket_result r;
	size_t k = 0, i;
	unsigned b, c;

	all = malloc(32 * PER * CALLS * sizeof(*all));
	ck_assert_ptr_nonnull(all);
	words[0] = bucket_word(T, 65500); /* one of them crosses a second */
	for (c = 0; c < CALLS; c++) {
		for (b = 0; b < 32; b++) {
			uint64_t *ids = all + k;

			ck_assert_uint_eq(
			    bucket_take(&words[b], id_base(3, 2, 5, b), &lim,
				PER, ids, &r),
			    PER);
			for (i = 0; i < PER; i++) {
				struct id_fields f;

				id_decode(ids[i], &f);
				if (f.zone != 3 || f.dc != 2 ||
				    f.machine != 5 || f.bucket != b ||
				    (ids[i] & UINT64_C(0xffff0000)) != base(b))
					ck_abort_msg("bucket %u: 0x%016llx", b,
					    (unsigned long long)ids[i]);
			}
			k += PER;
		}
	}
	/* Two buckets in the same state differ exactly in the bucket bits. */
	for (i = 0; i < PER; i++)
		ck_assert_uint_eq(
		    all[PER + i] ^ all[2 * PER + i], (uint64_t)(1 ^ 2) << 16);
	qsort(all, k, sizeof(*all), cmp_u64);
	for (i = 1; i < k; i++)
		if (all[i] == all[i - 1])
			ck_abort_msg(
			    "duplicate 0x%016llx", (unsigned long long)all[i]);
	free(all);
}
END_TEST

/* genid(7): after a restart every ID is above every ID with ts <=
 * checkpoint, whatever the clock says. */
START_TEST(test_bucket_restart_word)
{
	static const uint32_t cps[] = {0, 1, T, UINT32_MAX - 6, UINT32_MAX - 1};
	static const int64_t nows[] = {-3600, -6, -1, 0, 1, 2, 3600};
	uint64_t ids[255];
	struct bucket_result r;
	size_t i, j;

	ck_assert_uint_eq(bucket_restart_word(T), bucket_word(T + 1, 0));
	ck_assert_uint_eq(bucket_restart_word(0), bucket_word(1, 0));
	ck_assert_uint_eq(
	    bucket_restart_word(UINT32_MAX - 1), bucket_word(UINT32_MAX, 0));

	for (i = 0; i < sizeof(cps) / sizeof(cps[0]); i++) {
		uint64_t highest = (uint64_t)cps[i] << 32 | UINT32_MAX;

		for (j = 0; j < sizeof(nows) / sizeof(nows[0]); j++) {
			int64_t now = (int64_t)cps[i] + nows[j];
			uint64_t word = bucket_restart_word(cps[i]);
			unsigned n, k;

			if (now < 0 || now > (int64_t)UINT32_MAX)
				continue;
			n = take(
			    &word, (uint32_t)now, UINT32_MAX, 5, 255, ids, &r);
			for (k = 0; k < n; k++)
				ck_assert_msg(ids[k] > highest,
				    "checkpoint %u now %lld: ID 0x%016llx",
				    (unsigned)cps[i], (long long)now,
				    (unsigned long long)ids[k]);
			ck_assert_uint_ge(bucket_ts(word), cps[i] + 1);
		}
	}
}
END_TEST

/* A checkpoint at the end of the range leaves nothing to issue. */
START_TEST(test_bucket_restart_word_end)
{
	static const uint32_t nows[] = {0, T, UINT32_MAX - 1, UINT32_MAX};
	uint64_t ids[255];
	struct bucket_result r;
	size_t i;

	for (i = 0; i < sizeof(nows) / sizeof(nows[0]); i++) {
		uint64_t word = bucket_restart_word(UINT32_MAX);
		uint64_t before = word;

		ck_assert_uint_eq(
		    take(&word, nows[i], UINT32_MAX, 5, 255, ids, &r), 0);
		ck_assert_int_ne(r.stop, BUCKET_DONE);
		ck_assert_uint_eq(word, before);
	}

	/* One second before the end: 65,536 IDs in the last second, then
	 * nothing. */
	{
		uint64_t word = bucket_restart_word(UINT32_MAX - 1), *ids2;

		ids2 = malloc((COUNTERS + 1) * sizeof(*ids2));
		ck_assert_ptr_nonnull(ids2);
		ck_assert_uint_eq(take(&word, UINT32_MAX - 1, UINT32_MAX, 5,
				      COUNTERS + 1, ids2, &r),
		    COUNTERS);
		ck_assert_int_eq(r.stop, BUCKET_EXHAUSTED);
		ck_assert_uint_eq(ids2[0], want_id(UINT32_MAX, 17, 0));
		ck_assert_uint_eq(
		    ids2[COUNTERS - 1], want_id(UINT32_MAX, 17, 65535));
		free(ids2);
	}
}
END_TEST

START_TEST(test_bucket_checkpoint_target)
{
	ck_assert_uint_eq(bucket_checkpoint_target(T, 5), T + 6);
	ck_assert_uint_eq(bucket_checkpoint_target(T, 0), T + 1);
	ck_assert_uint_eq(bucket_checkpoint_target(0, 0), 1);
	ck_assert_uint_eq(bucket_checkpoint_target(0, 3600), 3601);
	ck_assert_uint_eq(
	    bucket_checkpoint_target(UINT32_MAX - 7, 5), UINT32_MAX - 1);
	ck_assert_uint_eq(
	    bucket_checkpoint_target(UINT32_MAX - 6, 5), UINT32_MAX);
	ck_assert_uint_eq(
	    bucket_checkpoint_target(UINT32_MAX - 5, 5), UINT32_MAX);
	ck_assert_uint_eq(
	    bucket_checkpoint_target(UINT32_MAX - 1, 0), UINT32_MAX);
	ck_assert_uint_eq(bucket_checkpoint_target(UINT32_MAX, 0), UINT32_MAX);
	ck_assert_uint_eq(
	    bucket_checkpoint_target(UINT32_MAX, UINT32_MAX), UINT32_MAX);
	ck_assert_uint_eq(bucket_checkpoint_target(1, UINT32_MAX), UINT32_MAX);
	ck_assert_uint_eq(
	    bucket_checkpoint_target(0, UINT32_MAX - 1), UINT32_MAX);
}
END_TEST

START_TEST(test_clock_start_rule)
{
	/* The clock is past the checkpoint. */
	ck_assert_int_eq(clock_start_rule(T + 1, T, 5, 3600), CLOCK_START_NOW);
	ck_assert_int_eq(
	    clock_start_rule(T + 3600, T, 5, 3600), CLOCK_START_NOW);
	ck_assert_int_eq(clock_start_rule(1, 0, 0, 0), CLOCK_START_NOW);
	ck_assert_int_eq(
	    clock_start_rule(UINT32_MAX, 0, 5, 3600), CLOCK_START_NOW);

	/* Within max_ahead + 1, including the checkpoint's own second. */
	ck_assert_int_eq(clock_start_rule(T, T, 5, 3600), CLOCK_START_AHEAD);
	ck_assert_int_eq(
	    clock_start_rule(T, T + 1, 5, 3600), CLOCK_START_AHEAD);
	ck_assert_int_eq(
	    clock_start_rule(T, T + 6, 5, 3600), CLOCK_START_AHEAD);
	ck_assert_int_eq(clock_start_rule(T, T + 1, 0, 0), CLOCK_START_AHEAD);
	ck_assert_int_eq(
	    clock_start_rule(UINT32_MAX, UINT32_MAX, 0, 0), CLOCK_START_AHEAD);
	ck_assert_int_eq(
	    clock_start_rule(0, UINT32_MAX, UINT32_MAX, 0), CLOCK_START_AHEAD);
	ck_assert_int_eq(clock_start_rule(0, UINT32_MAX, UINT32_MAX - 1, 0),
	    CLOCK_START_AHEAD);

	/*
	 * Further, up to a step of max_slew on top of what a node holds
	 * without one (a worker's raise, a file made for a lost one: 2 *
	 * max_ahead + 2): a restart in a slew, a step while stopped.
	 */
	ck_assert_int_eq(clock_start_rule(T, T + 7, 5, 3600), CLOCK_START_SLEW);
	ck_assert_int_eq(
	    clock_start_rule(T, T + 12, 5, 3600), CLOCK_START_SLEW);
	ck_assert_int_eq(
	    clock_start_rule(T, T + 3612, 5, 3600), CLOCK_START_SLEW);
	ck_assert_int_eq(clock_start_rule(T, T + 12, 5, 0), CLOCK_START_SLEW);
	ck_assert_int_eq(clock_start_rule(T, T + 3, 0, 1), CLOCK_START_SLEW);
	ck_assert_int_eq(
	    clock_start_rule(0, UINT32_MAX, UINT32_MAX / 2, UINT32_MAX / 2),
	    CLOCK_START_SLEW);

	/* Beyond: refuse or wait. */
	ck_assert_int_eq(
	    clock_start_rule(T, T + 3613, 5, 3600), CLOCK_START_BEHIND);
	ck_assert_int_eq(clock_start_rule(T, T + 13, 5, 0), CLOCK_START_BEHIND);
	ck_assert_int_eq(clock_start_rule(T, T + 4, 0, 1), CLOCK_START_BEHIND);
	ck_assert_int_eq(
	    clock_start_rule(T - 86400, T, 5, 3600), CLOCK_START_BEHIND);
	ck_assert_int_eq(
	    clock_start_rule(0, UINT32_MAX, 5, 3600), CLOCK_START_BEHIND);
	ck_assert_int_eq(clock_start_rule(0, UINT32_MAX, 5, UINT32_MAX - 13),
	    CLOCK_START_BEHIND);
}
END_TEST

/*
 * A worker whose bucket ran out of checkpoint raises it itself to
 * now + allowance + 1 (proto.c take()); a crash right after, and a restart
 * in the same second or later, must start at once, with or without a
 * slew.
 */
START_TEST(test_clock_start_after_worker_raise)
{
	static const uint32_t aheads[] = {0, 1, 2, 5, 9};
	static const uint32_t extras[] = {0, 1, 10};
	unsigned i, j;

	for (i = 0; i < sizeof(aheads) / sizeof(aheads[0]); i++) {
		for (j = 0; j < sizeof(extras) / sizeof(extras[0]); j++) {
			uint32_t ma = aheads[i], a = ma + extras[j], k,
				 worst = 0;
			/* From a master that stalled (T - 1) to one that kept
			 * up (T + a + 1). */
			const uint32_t starts[] = {
			    T - 1, T, T + 1, T + a / 2, T + a, T + a + 1};

			for (k = 0; k < sizeof(starts) / sizeof(starts[0]);
			     k++) {
				uint32_t start = starts[k];
				struct bucket_limits lim = {T, start, a, 0};
				static uint64_t ids[4096];
				uint64_t word = bucket_word(T, 0);
				struct bucket_result r;
				unsigned rounds = 0;

				/* Take until the bucket stops for good,
				 * raising the checkpoint as take() does. */
				for (;;) {
					while (bucket_take(&word, 0, &lim, 4096,
						   ids, &r) > 0)
						;
					if (r.stop != BUCKET_CHECKPOINT)
						break;
					ck_assert_uint_le(r.need, T + a);
					lim.checkpoint =
					    bucket_checkpoint_target(T, a);
					ck_assert_uint_lt(++rounds, 3);
				}
				ck_assert_int_eq(r.stop, BUCKET_EXHAUSTED);
				if (lim.checkpoint > worst)
					worst = lim.checkpoint;
				ck_assert_int_ne(
				    clock_start_rule(
					T, lim.checkpoint, ma, extras[j]),
				    CLOCK_START_BEHIND);
				ck_assert_int_ne(
				    clock_start_rule(
					T + 1, lim.checkpoint, ma, extras[j]),
				    CLOCK_START_BEHIND);
			}
			/* The bound is reached; the rule leaves max_ahead + 1
			 * more (a file made for a lost one), no further. */
			ck_assert_uint_eq(worst, T + a + 1);
			ck_assert_int_ne(
			    clock_start_rule(T - 1 - ma, worst, ma, extras[j]),
			    CLOCK_START_BEHIND);
			ck_assert_int_eq(
			    clock_start_rule(T - 2 - ma, worst, ma, extras[j]),
			    CLOCK_START_BEHIND);
		}
	}
}
END_TEST

START_TEST(test_clock_step_ns)
{
	const int64_t s = INT64_C(1000000000), tol = 100 * INT64_C(1000000);
	const int64_t r0 = (int64_t)T * s, m0 = 12345 * s;

	/* Time passing on both clocks is no step. */
	ck_assert_int_eq(
	    clock_step_ns(r0, m0, r0 + 10 * s, m0 + 10 * s, tol), 0);
	ck_assert_int_eq(clock_step_ns(r0, m0, r0, m0, tol), 0);
	/* Forward: realtime went 3 s, monotonic 1 s. */
	ck_assert_int_eq(clock_step_ns(r0, m0, r0 + 3 * s, m0 + s, tol), 2 * s);
	/* Backward one hour while a second passed. */
	ck_assert_int_eq(
	    clock_step_ns(r0, m0, r0 - 3599 * s, m0 + s, tol), -3600 * s);
	/* Below the tolerance, both ways. */
	ck_assert_int_eq(
	    clock_step_ns(r0, m0, r0 + s + tol - 1, m0 + s, tol), 0);
	ck_assert_int_eq(
	    clock_step_ns(r0, m0, r0 + s - tol + 1, m0 + s, tol), 0);
	/* At the tolerance it counts. */
	ck_assert_int_eq(clock_step_ns(r0, m0, r0 + s + tol, m0 + s, tol), tol);
	ck_assert_int_eq(
	    clock_step_ns(r0, m0, r0 + s - tol, m0 + s, tol), -tol);
	/* A zero tolerance reports any difference. */
	ck_assert_int_eq(clock_step_ns(r0, m0, r0 + s + 1, m0 + s, 0), 1);
	ck_assert_int_eq(clock_step_ns(r0, m0, r0 + s - 1, m0 + s, 0), -1);
}
END_TEST

/*
 * One bucket driven through a random life: busy stretches where requests
 * outrun the clock (the bucket runs out of its second and borrows ahead)
 * alternate with quiet ones where the clock outruns them; the clock jumps
 * ahead or steps back, up to an hour; requests of 0..255 IDs; the master
 * raises the checkpoint on a timer and the worker raises it when a call
 * stops on it; an exhausted bucket's timer fires at the second it was
 * told.  Every ID must be above the one before it.
 *
 * The loop checks with plain comparisons: each ck_assert costs Check a
 * write to its control channel, too slow for millions of IDs.
 */
START_TEST(test_bucket_simulation)
{
	const size_t target = 2000000;
	const uint32_t max_ahead = 3;
	uint64_t seed = UINT64_C(0x2545f4914f6cdd1d);
	uint64_t word = 0, *all, ids[255];
	uint32_t now = T, checkpoint = T - 1;
	size_t total = 0, i;
	unsigned long calls = 0, backs = 0, exhausted = 0, capped = 0;
	unsigned long ahead = 0, crossed = 0, fresh = 0;
	struct bucket_result r;

	all = malloc((target + 255) * sizeof(*all));
	ck_assert_ptr_nonnull(all);
	while (total < target) {
		uint64_t x = check_random(&seed);
		unsigned roll = (unsigned)(x % 10000), want, n, k;
		uint32_t ts_before = bucket_ts(word);
		int busy = calls % 4000 < 3000;
		struct bucket_limits lim;

		if (++calls > 10000000)
			ck_abort_msg("no progress after %lu calls", calls);
		if (roll < 10) {
			now -= 1 +
			    (uint32_t)((x >> 16) %
				((x >> 56) % 4 == 0 ? 3600 : 10));
			backs++;
		} else if (roll < 15) {
			now += 2 + (uint32_t)((x >> 16) % 10);
		} else if (roll < (busy ? 20u : 300u)) {
			now++;
		}
		if ((x >> 32) % 50 == 0 &&
		    bucket_checkpoint_target(now, max_ahead) > checkpoint)
			checkpoint = bucket_checkpoint_target(now, max_ahead);
		want = (unsigned)((x >> 40) % 256);

		lim.now = now;
		lim.checkpoint = checkpoint;
		lim.max_ahead = max_ahead;
		memset(&r, 0xa5, sizeof(r));
		n = bucket_take(&word, base(17), &lim, want, ids, &r);
		if (n > want || (r.stop == BUCKET_DONE) != (n == want))
			ck_abort_msg("call %lu: n %u, want %u, stop %d", calls,
			    n, want, (int)r.stop);
		if (bucket_ts(word) < ts_before)
			ck_abort_msg("call %lu: ts went back from %u to %u",
			    calls, (unsigned)ts_before,
			    (unsigned)bucket_ts(word));
		for (k = 0; k < n; k++) {
			uint32_t ts = (uint32_t)(ids[k] >> 32);

			if (total > 0 && ids[k] <= all[total - 1])
				ck_abort_msg(
				    "call %lu: 0x%016llx after 0x%016llx",
				    calls, (unsigned long long)ids[k],
				    (unsigned long long)all[total - 1]);
			if ((ids[k] & UINT64_C(0xffff0000)) != base(17))
				ck_abort_msg(
				    "call %lu: 0x%016llx lost its base", calls,
				    (unsigned long long)ids[k]);
			if (ts > checkpoint)
				ck_abort_msg(
				    "call %lu: ts %u above checkpoint %u",
				    calls, (unsigned)ts, (unsigned)checkpoint);
			/* A second entered by this call obeys the cap. */
			if (ts > ts_before &&
			    (uint64_t)ts > (uint64_t)now + max_ahead)
				ck_abort_msg(
				    "call %lu: ts %u beyond now %u + %u", calls,
				    (unsigned)ts, (unsigned)now,
				    (unsigned)max_ahead);
			if (ts > now)
				ahead++;
			if (k == 0 && ts > ts_before)
				fresh++;
			if (k > 0 && ts != (uint32_t)(ids[k - 1] >> 32))
				crossed++;
			all[total++] = ids[k];
		}
		if (r.stop == BUCKET_EXHAUSTED) {
			exhausted++;
			ck_assert_uint_gt(r.need, now);
			/* The timer of a waiting request fires, mostly. */
			if ((x >> 8) % 4 != 0)
				now = r.need;
		} else if (r.stop == BUCKET_CHECKPOINT) {
			capped++;
			ck_assert_uint_gt(r.need, checkpoint);
			checkpoint = r.need;
		}
	}

	/* The run went through every path it is meant to cover. */
	ck_assert_uint_ge(backs, 8);
	ck_assert_uint_ge(exhausted, 8);
	ck_assert_uint_ge(capped, 8);
	ck_assert_uint_ge(crossed, 4);
	ck_assert_uint_ge(ahead, 100000);
	ck_assert_uint_ge(fresh, 50);

	qsort(all, total, sizeof(*all), cmp_u64);
	for (i = 1; i < total; i++)
		if (all[i] == all[i - 1])
			ck_abort_msg(
			    "duplicate 0x%016llx", (unsigned long long)all[i]);
	free(all);
}
END_TEST

/*
 * The reference for bucket_trust, in terms of IDs rather than words: a
 * word (ts, next) says every ID of the bucket below (ts, next) was issued.
 */
static int
ref_issued_under(uint64_t word, uint32_t ckpt)
{
	uint32_t ts = bucket_ts(word), next = bucket_next(word);

	if (next > COUNTERS)
		return 0;
	/* The last ID it says was issued: (ts, next - 1), or in ts - 1. */
	if (next == 0)
		return ts == 0 || ts - 1 <= ckpt;
	return ts <= ckpt;
}

static enum bucket_trust
ref_trust(uint64_t shared, uint64_t own, uint32_t ckpt)
{
	if (!ref_issued_under(own, ckpt))
		return BUCKET_CHECKPOINT_BACK;
	if (shared < own)
		return BUCKET_WORD_BACK;
	if (!ref_issued_under(shared, ckpt))
		return BUCKET_WORD_BEYOND;
	return BUCKET_TRUSTED;
}

/* Every pair of words around the edges, under checkpoints around them. */
START_TEST(test_bucket_trust_edges)
{
	static const uint32_t tss[] = {
	    0, 1, 2, T - 2, T - 1, T, T + 1, T + 2, UINT32_MAX - 1, UINT32_MAX};
	static const uint32_t nexts[] = {0, 1, 65535, 65536, 65537, UINT32_MAX};
	static const uint32_t ckpts[] = {
	    0, 1, T - 2, T - 1, T, T + 1, UINT32_MAX - 1, UINT32_MAX};
	const size_t nts = sizeof(tss) / sizeof(tss[0]);
	const size_t nn = sizeof(nexts) / sizeof(nexts[0]);
	size_t a, b, c, d, k;
	unsigned seen[4] = {0, 0, 0, 0};

	for (k = 0; k < sizeof(ckpts) / sizeof(ckpts[0]); k++)
		for (a = 0; a < nts; a++)
			for (b = 0; b < nn; b++)
				for (c = 0; c < nts; c++)
					for (d = 0; d < nn; d++) {
						uint64_t sh = bucket_word(
							     tss[a], nexts[b]),
							 own = bucket_word(
							     tss[c], nexts[d]);
						enum bucket_trust got, want;

						/* A process's own word is
						 * always one genid wrote. */
						if (nexts[d] > COUNTERS)
							continue;
						got = bucket_trust(
						    sh, own, ckpts[k]);
						want = ref_trust(
						    sh, own, ckpts[k]);
						ck_assert_msg(got == want,
						    "shared %u/%u own %u/%u"
						    " ckpt %u: %d, want %d",
						    tss[a], nexts[b], tss[c],
						    nexts[d], ckpts[k],
						    (int)got, (int)want);
						seen[got]++;
					}
	/* Every verdict was reached. */
	for (k = 0; k < 4; k++)
		ck_assert_uint_gt(seen[k], 0);
}
END_TEST

START_TEST(test_bucket_trust_cases)
{
	uint64_t own = bucket_word(T, 100);

	/* The word this process left, or one moved up by another. */
	ck_assert_int_eq(bucket_trust(own, own, T), BUCKET_TRUSTED);
	ck_assert_int_eq(
	    bucket_trust(bucket_word(T, 65536), own, T), BUCKET_TRUSTED);
	ck_assert_int_eq(
	    bucket_trust(bucket_word(T + 1, 0), own, T), BUCKET_TRUSTED);
	/* A boot's restart word is trusted under its checkpoint. */
	ck_assert_int_eq(
	    bucket_trust(bucket_restart_word(T), 0, T), BUCKET_TRUSTED);
	/* A table zeroed by a truncation: below what was issued. */
	ck_assert_int_eq(bucket_trust(0, own, T), BUCKET_WORD_BACK);
	ck_assert_int_eq(
	    bucket_trust(bucket_word(T, 99), own, T), BUCKET_WORD_BACK);
	/* A word from another file, ahead of this checkpoint. */
	ck_assert_int_eq(
	    bucket_trust(bucket_word(T + 1, 1), own, T), BUCKET_WORD_BEYOND);
	ck_assert_int_eq(bucket_trust(bucket_word(T, 65537), own, T + 5),
	    BUCKET_WORD_BEYOND);
	/* A header whose checkpoint fell below an issued ID, also when the
	 * word fell with it. */
	ck_assert_int_eq(bucket_trust(own, own, T - 1), BUCKET_CHECKPOINT_BACK);
	ck_assert_int_eq(bucket_trust(0, own, 0), BUCKET_CHECKPOINT_BACK);
	/* The end of the range: every valid word is under UINT32_MAX. */
	ck_assert_int_eq(bucket_trust(bucket_word(UINT32_MAX, 65536),
			     bucket_word(UINT32_MAX, 1), UINT32_MAX),
	    BUCKET_TRUSTED);
}
END_TEST

/*
 * A bucket whose shared word and checkpoint are damaged at random between
 * takes (zeroed, put back to an older word, pushed beyond the checkpoint,
 * the checkpoint lowered), with every take gated by bucket_trust as
 * proto.c does: the IDs still strictly increase and none is above the
 * highest checkpoint ever granted.
 */
START_TEST(test_bucket_trust_under_damage)
{
	uint64_t seed = UINT64_C(0x9e3779b97f4a7c15);
	uint64_t shared = bucket_restart_word(T - 1), own = shared;
	uint64_t last = 0, old = shared, ids[255];
	uint32_t now = T, ckpt = T + 6, granted = T + 6;
	unsigned long refused = 0, issued = 0, steps;
	struct bucket_limits lim = {T, T, 5, 0};
	struct bucket_result r;

	for (steps = 0; steps < 400000; steps++) {
		uint64_t x = check_random(&seed);
		unsigned roll = (unsigned)(x % 1000), n, k;
		uint64_t word = shared;

		if (roll < 5)
			shared = 0;
		else if (roll < 10)
			shared = old;
		else if (roll < 13)
			shared = bucket_word(ckpt + 1 + (uint32_t)(x >> 40) % 9,
			    (uint32_t)(x >> 20) % 70000);
		else if (roll < 16)
			ckpt -= 1 + (uint32_t)(x >> 24) % 4;
		else if (roll < 40)
			old = shared;
		else if (roll < 90)
			now++;
		if (bucket_trust(shared, own, ckpt) != BUCKET_TRUSTED) {
			/* Only damage is refused. */
			if (shared == own && ckpt >= granted)
				ck_abort_msg(
				    "step %lu: own word refused", steps);
			refused++;
			/* A real node stops here; the test repairs the
			 * damage and goes on, to damage it again. */
			shared = own;
			if (ckpt < granted)
				ckpt = granted;
			continue;
		}
		word = shared;
		lim.now = now;
		lim.checkpoint = ckpt;
		n = bucket_take(
		    &word, base(17), &lim, (unsigned)(x >> 48) % 256, ids, &r);
		/* Plain compares: a ck_assert per ID costs a syscall. */
		for (k = 0; k < n; k++) {
			if (ids[k] <= last || ids[k] >> 32 > granted)
				ck_abort_msg("step %lu: 0x%016llx after"
					     " 0x%016llx, granted %u",
				    steps, (unsigned long long)ids[k],
				    (unsigned long long)last,
				    (unsigned)granted);
			last = ids[k];
		}
		issued += n;
		shared = own = word;
		if (r.stop == BUCKET_CHECKPOINT) {
			ckpt = bucket_checkpoint_target(now, 5);
			if (ckpt > granted)
				granted = ckpt;
		}
	}
	ck_assert_uint_ge(refused, 1000);
	ck_assert_uint_ge(issued, 1000000);
}
END_TEST

Suite *
make_bucket_suite(void)
{
	Suite *s = suite_create("bucket");
	TCase *tc;

	tc = tcase_create("take");
	tcase_add_test(tc, test_bucket_word);
	tcase_add_test(tc, test_bucket_same_second);
	tcase_add_test(tc, test_bucket_new_second);
	tcase_add_test(tc, test_bucket_clock_back);
	tcase_add_test(tc, test_bucket_clock_forward);
	tcase_add_test(tc, test_bucket_exhaustion_borrow);
	tcase_add_test(tc, test_bucket_exhaustion_one_call);
	tcase_add_test(tc, test_bucket_borrow_cap_need);
	tcase_add_test(tc, test_bucket_checkpoint_cap);
	tcase_add_test(tc, test_bucket_checkpoint_stop_word);
	tcase_add_test(tc, test_bucket_borrow_cap_after_checkpoint_stop);
	tcase_add_test(tc, test_bucket_max_ahead_zero);
	tcase_add_test(tc, test_bucket_want_zero);
	tcase_add_test(tc, test_bucket_want_crosses_second);
	tcase_add_test(tc, test_bucket_unchanged_without_ids);
	tcase_add_test(tc, test_bucket_bits_in_every_id);
	suite_add_tcase(s, tc);

	tc = tcase_create("restart");
	tcase_add_test(tc, test_bucket_restart_word);
	tcase_add_test(tc, test_bucket_restart_word_end);
	tcase_add_test(tc, test_bucket_checkpoint_target);
	tcase_add_test(tc, test_clock_start_rule);
	tcase_add_test(tc, test_clock_start_after_worker_raise);
	tcase_add_test(tc, test_clock_step_ns);
	suite_add_tcase(s, tc);

	tc = tcase_create("trust");
	tcase_add_test(tc, test_bucket_trust_edges);
	tcase_add_test(tc, test_bucket_trust_cases);
	tcase_add_test(tc, test_bucket_trust_under_damage);
	suite_add_tcase(s, tc);

	tc = tcase_create("simulation");
	/* A million IDs; generous for valgrind and sanitizer builds. */
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_bucket_simulation);
	suite_add_tcase(s, tc);
	return s;
}
