/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_slew.c - the decaying allowance after a clock step back.
 */
#include <check.h>
#include <stdint.h>

#include "bucket.h"
#include "check_core.h"
#include "id.h"
#include "slew.h"

/* The defaults: max_ahead_s 5, max_slew_s 3600, clock_slew 0.25. */
static const struct slew_conf conf = {5, 3600, 250000};
#define HOUR_MS (3600 * INT64_C(1000))
/* A monotonic time some while after boot. */
#define M0 INT64_C(123456789)

START_TEST(test_slew_none)
{
	struct slew s;

	slew_start(&s, M0, 0);
	ck_assert_int_eq(slew_extra_ms(&s, &conf, M0), 0);
	ck_assert_uint_eq(slew_allowance(&s, &conf, M0), 5);
	ck_assert_uint_eq(slew_allowance(&s, &conf, M0 + HOUR_MS), 5);
	ck_assert_int_eq(slew_left_ms(&s, &conf, M0), 0);
	ck_assert_int_eq(slew_tick(&s, &conf, M0 + 1000), SLEW_NONE);
	/* A negative extra is none. */
	slew_start(&s, M0, -5);
	ck_assert_int_eq(slew_extra_ms(&s, &conf, M0), 0);
}
END_TEST

/* A step of one hour: 3605 s, shrinking 1 s every 4 s, over in 4 h. */
START_TEST(test_slew_hour)
{
	struct slew s;

	slew_start(&s, M0, 0);
	ck_assert_int_eq(slew_step(&s, &conf, M0, -HOUR_MS), SLEW_STARTED);
	ck_assert_int_eq(slew_extra_ms(&s, &conf, M0), HOUR_MS);
	ck_assert_uint_eq(slew_allowance(&s, &conf, M0), 3605);
	ck_assert_int_eq(slew_left_ms(&s, &conf, M0), 4 * HOUR_MS);
	/* Rounded up: a quarter of a second less is still 3605. */
	ck_assert_uint_eq(slew_allowance(&s, &conf, M0 + 1000), 3605);
	ck_assert_uint_eq(slew_allowance(&s, &conf, M0 + 3999), 3605);
	ck_assert_uint_eq(slew_allowance(&s, &conf, M0 + 4000), 3604);
	ck_assert_uint_eq(slew_allowance(&s, &conf, M0 + 4001), 3604);
	ck_assert_int_eq(slew_extra_ms(&s, &conf, M0 + 60000), HOUR_MS - 15000);
	/* Half way: half the extra, two hours left. */
	ck_assert_int_eq(
	    slew_extra_ms(&s, &conf, M0 + 2 * HOUR_MS), HOUR_MS / 2);
	ck_assert_uint_eq(slew_allowance(&s, &conf, M0 + 2 * HOUR_MS), 1805);
	ck_assert_int_eq(
	    slew_left_ms(&s, &conf, M0 + 2 * HOUR_MS), 2 * HOUR_MS);
	ck_assert_int_eq(slew_tick(&s, &conf, M0 + 2 * HOUR_MS), SLEW_NONE);
	/* The last second, then max_ahead again, for good. */
	ck_assert_uint_eq(slew_allowance(&s, &conf, M0 + 4 * HOUR_MS - 1), 6);
	ck_assert_int_gt(slew_left_ms(&s, &conf, M0 + 4 * HOUR_MS - 1), 0);
	ck_assert_int_le(slew_left_ms(&s, &conf, M0 + 4 * HOUR_MS - 1), 4);
	ck_assert_uint_eq(slew_allowance(&s, &conf, M0 + 4 * HOUR_MS), 5);
	ck_assert_int_eq(slew_left_ms(&s, &conf, M0 + 4 * HOUR_MS), 0);
	ck_assert_uint_eq(slew_allowance(&s, &conf, M0 + 40 * HOUR_MS), 5);
	ck_assert_int_eq(slew_tick(&s, &conf, M0 + 4 * HOUR_MS), SLEW_ENDED);
	ck_assert_int_eq(slew_tick(&s, &conf, M0 + 5 * HOUR_MS), SLEW_NONE);
	/* Another rate: 0.5 halves the time. */
	{
		const struct slew_conf half = {5, 3600, 500000};

		slew_start(&s, M0, 0);
		slew_step(&s, &half, M0, -HOUR_MS);
		ck_assert_int_eq(slew_left_ms(&s, &half, M0), 2 * HOUR_MS);
		ck_assert_uint_eq(
		    slew_allowance(&s, &half, M0 + HOUR_MS), 1805);
	}
}
END_TEST

/* Steps in a row add up while the sum stays within max_slew. */
START_TEST(test_slew_in_a_row)
{
	struct slew s;

	slew_start(&s, M0, 0);
	ck_assert_int_eq(slew_step(&s, &conf, M0, -100000), SLEW_STARTED);
	/* 40 s later 90 s are left; another 50 s back makes 140. */
	ck_assert_int_eq(slew_step(&s, &conf, M0 + 40000, -50000), SLEW_GREW);
	ck_assert_int_eq(slew_extra_ms(&s, &conf, M0 + 40000), 140000);
	ck_assert_uint_eq(slew_allowance(&s, &conf, M0 + 40000), 145);
	ck_assert_int_eq(slew_left_ms(&s, &conf, M0 + 40000), 560000);
	/* Up to max_slew exactly. */
	ck_assert_int_eq(
	    slew_step(&s, &conf, M0 + 40000, -(HOUR_MS - 140000)), SLEW_GREW);
	ck_assert_uint_eq(slew_allowance(&s, &conf, M0 + 40000), 3605);
	/* One more second is beyond: not granted, the rest goes on. */
	ck_assert_int_eq(slew_step(&s, &conf, M0 + 40000, -1000), SLEW_REFUSED);
	ck_assert_int_eq(slew_extra_ms(&s, &conf, M0 + 40000), HOUR_MS);
	ck_assert_int_eq(slew_extra_ms(&s, &conf, M0 + 44000), HOUR_MS - 1000);
	/* Once it shrank by a second, the same step fits again. */
	ck_assert_int_eq(slew_step(&s, &conf, M0 + 44000, -1000), SLEW_GREW);
	ck_assert_int_eq(slew_extra_ms(&s, &conf, M0 + 44000), HOUR_MS);
	/* Many small steps: each one adds its size. */
	slew_start(&s, M0, 0);
	{
		int i;

		for (i = 0; i < 10; i++)
			slew_step(&s, &conf, M0, -300);
	}
	ck_assert_int_eq(slew_extra_ms(&s, &conf, M0), 3000);
	ck_assert_uint_eq(slew_allowance(&s, &conf, M0), 8);
}
END_TEST

/* A step forward during a slew takes its size from the extra. */
START_TEST(test_slew_forward)
{
	struct slew s;

	slew_start(&s, M0, 0);
	ck_assert_int_eq(slew_step(&s, &conf, M0, 2000), SLEW_NONE);
	ck_assert_uint_eq(slew_allowance(&s, &conf, M0), 5);
	slew_step(&s, &conf, M0, -100000);
	ck_assert_int_eq(slew_step(&s, &conf, M0 + 40000, 30000), SLEW_SHRANK);
	ck_assert_int_eq(slew_extra_ms(&s, &conf, M0 + 40000), 60000);
	ck_assert_int_eq(slew_left_ms(&s, &conf, M0 + 40000), 240000);
	/* The rate applies from the step on. */
	ck_assert_int_eq(slew_extra_ms(&s, &conf, M0 + 80000), 50000);
	/* Forward by more than is left ends it. */
	ck_assert_int_eq(slew_step(&s, &conf, M0 + 80000, 70000), SLEW_ENDED);
	ck_assert_uint_eq(slew_allowance(&s, &conf, M0 + 80000), 5);
	ck_assert_int_eq(slew_tick(&s, &conf, M0 + 90000), SLEW_NONE);
	/* And a step back after it starts a new one. */
	ck_assert_int_eq(slew_step(&s, &conf, M0 + 90000, -7000), SLEW_STARTED);
}
END_TEST

/*
 * A restart in a slew: the buckets resume up to their lead, and the boot
 * starts a slew of what is beyond max_ahead, so that they issue at once.
 */
START_TEST(test_slew_restart)
{
	const uint32_t T = 1700000000u;
	struct slew s;
	uint32_t extra;

	ck_assert_uint_eq(slew_boot_extra(T, 0, &conf), 0);
	ck_assert_uint_eq(slew_boot_extra(T, T - 1, &conf), 0);
	ck_assert_uint_eq(slew_boot_extra(T, T, &conf), 0);
	ck_assert_uint_eq(slew_boot_extra(T, T + 5, &conf), 0);
	ck_assert_uint_eq(slew_boot_extra(T, T + 6, &conf), 1);
	ck_assert_uint_eq(slew_boot_extra(T, T + 3606, &conf), 3601);
	ck_assert_uint_eq(
	    slew_boot_extra(0, UINT32_MAX, &conf), UINT32_MAX - 5);

	/*
	 * A node 1000 s into a slew of an hour, its checkpoint where the
	 * master put it, killed; after an unclean stop its buckets resume
	 * above the checkpoint, one second more.
	 */
	slew_start(&s, M0, 0);
	slew_step(&s, &conf, M0, -HOUR_MS);
	{
		uint32_t now = T + 1000,
			 a = slew_allowance(
			     &s, &conf, M0 + 1000 * INT64_C(1000));
		uint32_t ckpt = bucket_checkpoint_target(now, a);

		ck_assert_uint_eq(a, 3355);
		ck_assert_int_eq(
		    clock_start_rule(now, ckpt, 5, 3600), CLOCK_START_SLEW);
		extra = slew_boot_extra(now, ckpt + 1, &conf);
		ck_assert_uint_eq(extra, 3352);
		slew_start(&s, 0, extra * INT64_C(1000));
		/* It issues ckpt + 1 at once and borrows the next as soon
		 * as the clock moves. */
		ck_assert_uint_ge(now + slew_allowance(&s, &conf, 0), ckpt + 1);
		ck_assert_uint_ge(
		    now + 2 + slew_allowance(&s, &conf, 2000), ckpt + 2);
		ck_assert_uint_eq(slew_left_ms(&s, &conf, 0), 3352 * 4000);
	}
	/* A crash loop adds 2 s a crash (checkpoint + 1 over max_ahead + 1),
	 * which the slew takes back at its rate. */
	ck_assert_uint_eq(
	    slew_boot_extra(T, bucket_checkpoint_target(T, 5) + 1, &conf), 2);
}
END_TEST

/* Just above max_ahead, and beyond max_slew. */
START_TEST(test_slew_bounds)
{
	struct slew s;

	slew_start(&s, M0, 0);
	ck_assert_int_eq(slew_step(&s, &conf, M0, -6000), SLEW_STARTED);
	ck_assert_uint_eq(slew_allowance(&s, &conf, M0), 11);
	ck_assert_int_eq(slew_left_ms(&s, &conf, M0), 24000);
	ck_assert_uint_eq(slew_allowance(&s, &conf, M0 + 23999), 6);
	ck_assert_uint_eq(slew_allowance(&s, &conf, M0 + 24000), 5);
	ck_assert_int_eq(slew_tick(&s, &conf, M0 + 24000), SLEW_ENDED);

	slew_start(&s, M0, 0);
	ck_assert_int_eq(slew_step(&s, &conf, M0, -HOUR_MS - 1), SLEW_REFUSED);
	ck_assert_uint_eq(slew_allowance(&s, &conf, M0), 5);
	ck_assert_int_eq(
	    slew_step(&s, &conf, M0, -365 * 24 * HOUR_MS), SLEW_REFUSED);
	ck_assert_uint_eq(slew_allowance(&s, &conf, M0), 5);
	/* max_slew 0: never a slew. */
	{
		const struct slew_conf off = {5, 0, 250000};

		ck_assert_int_eq(slew_step(&s, &off, M0, -1), SLEW_REFUSED);
		ck_assert_uint_eq(slew_allowance(&s, &off, M0), 5);
	}
	/* A monotonic sample from before the start does not grow it. */
	slew_start(&s, M0, 10000);
	ck_assert_int_eq(slew_extra_ms(&s, &conf, M0 - 100000), 10000);
}
END_TEST

/*
 * The buckets under full load through a step back of 40 s: they issue at
 * 1 - clock_slew of their capacity, their lead falls at clock_slew, they
 * meet the clock after 40 / clock_slew, and no ID repeats.
 */
START_TEST(test_slew_bucket_load)
{
	static uint64_t ids[ID_COUNTERS];
	const uint32_t T = 1700000000u, D = 40;
	uint64_t word = bucket_word(T, 0), last = 0, total = 0, win[4] = {0};
	uint32_t now = T, ckpt = bucket_checkpoint_target(T, 5), sec;
	struct slew s;

	slew_start(&s, 0, 0);
	/* Busy in its own second when the clock steps. */
	{
		struct bucket_limits lim = {now, ckpt, 5};
		struct bucket_result r;

		ck_assert_uint_eq(
		    bucket_take(&word, 0, &lim, ID_COUNTERS, ids, &r),
		    ID_COUNTERS);
		last = ids[ID_COUNTERS - 1];
	}
	now = T - D;
	slew_step(&s, &conf, 0, -(int64_t)D * 1000);
	for (sec = 0; sec < 4 * D + 20; sec++) {
		int64_t mono = (int64_t)sec * 1000;
		uint32_t a = slew_allowance(&s, &conf, mono), lead;
		struct bucket_limits lim;
		struct bucket_result r;
		unsigned n, i;

		if (bucket_checkpoint_target(now, a) > ckpt)
			ckpt = bucket_checkpoint_target(now, a);
		lim = (struct bucket_limits){now, ckpt, a};
		n = bucket_take(&word, 0, &lim, ID_COUNTERS, ids, &r);
		/* Check's asserts are slow: one per ID would take seconds. */
		for (i = 0; i < n; i++) {
			if (ids[i] <= last)
				ck_abort_msg(
				    "second %u: ID %u repeats", sec, i);
			last = ids[i];
		}
		ck_assert_uint_le(bucket_ts(word), ckpt);
		lead = bucket_ts(word) - now;
		ck_assert_uint_le(lead, a);
		win[sec % 4] = n;
		if (sec >= 3 && sec < 4 * D - 20) {
			/* 75% of 65536 a second: the allowance drops a whole
			 * second every fourth, when the bucket issues none. */
			ck_assert_uint_ge(
			    win[0] + win[1] + win[2] + win[3], 3 * ID_COUNTERS);
			/* The lead stays at the step until the allowance
			 * comes down to it, then follows it down. */
			int fall = (int)(D + 5) - (int)(sec / 4);

			ck_assert_int_le((int)lead, fall + 1);
			ck_assert_int_ge(
			    (int)lead, (fall - 2 < (int)D ? fall - 2 : (int)D));
		}
		if (sec >= 4 * D + 4)
			ck_assert_uint_eq(lead, 5);
		total += n;
		now++;
	}
	/*
	 * Over the slew, at least 1 - 0.25 of the capacity; no more than up
	 * to the clock (T - D + 4 D + 20) and max_ahead.
	 */
	ck_assert_uint_ge(total, (uint64_t)ID_COUNTERS * (4 * D + 20) * 3 / 4);
	ck_assert_uint_eq(total, (uint64_t)ID_COUNTERS * (3 * D + 20 + 5 - 1));
}
END_TEST

Suite *
make_slew_suite(void)
{
	Suite *s = suite_create("slew");
	TCase *tc = tcase_create("slew");

	tcase_add_test(tc, test_slew_none);
	tcase_add_test(tc, test_slew_hour);
	tcase_add_test(tc, test_slew_in_a_row);
	tcase_add_test(tc, test_slew_forward);
	tcase_add_test(tc, test_slew_restart);
	tcase_add_test(tc, test_slew_bounds);
	tcase_add_test(tc, test_slew_bucket_load);
	suite_add_tcase(s, tc);
	return s;
}
