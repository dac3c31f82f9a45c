/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_slew.c - the decaying allowance after a clock step back.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "bucket.h"
#include "check_core.h"
#include "id.h"
#include "slew.h"

/* max_ahead_s 5 and clock_slew 0.25 as shipped; max_slew_s 3600, an hour,
 * so that the far cases stay small numbers. */
static const struct slew_conf conf = {5, 3600, 250000};
#define HOUR_MS (3600 * INT64_C(1000))
/* A monotonic time some while after boot. */
#define M0 INT64_C(123456789)

START_TEST(test_slew_none)
{
	struct slew s;

	slew_start(&s, &conf, M0, 0);
	ck_assert_int_eq(slew_extra_ms(&s, &conf, M0), 0);
	ck_assert_uint_eq(slew_allowance(&s, &conf, M0), 5);
	ck_assert_uint_eq(slew_allowance(&s, &conf, M0 + HOUR_MS), 5);
	ck_assert_int_eq(slew_left_ms(&s, M0), 0);
	ck_assert_int_eq(slew_tick(&s, M0 + 1000), SLEW_NONE);
	/* A negative extra is none. */
	slew_start(&s, &conf, M0, -5);
	ck_assert_int_eq(slew_extra_ms(&s, &conf, M0), 0);
}
END_TEST

/*
 * A step of one hour (less the second a slew starts with): 3605 s,
 * shrinking 1 s every 4 s, over in 4 h.
 */
START_TEST(test_slew_hour)
{
	struct slew s;

	slew_start(&s, &conf, M0, 0);
	ck_assert_int_eq(
	    slew_step(&s, &conf, M0, -HOUR_MS + SLEW_WHOLE_MS), SLEW_STARTED);
	ck_assert_int_eq(slew_extra_ms(&s, &conf, M0), HOUR_MS);
	ck_assert_uint_eq(slew_allowance(&s, &conf, M0), 3605);
	ck_assert_int_eq(slew_left_ms(&s, M0), 4 * HOUR_MS);
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
	ck_assert_int_eq(slew_left_ms(&s, M0 + 2 * HOUR_MS), 2 * HOUR_MS);
	ck_assert_int_eq(slew_tick(&s, M0 + 2 * HOUR_MS), SLEW_NONE);
	/* The last second, then max_ahead again, for good. */
	ck_assert_uint_eq(slew_allowance(&s, &conf, M0 + 4 * HOUR_MS - 1), 6);
	ck_assert_int_gt(slew_left_ms(&s, M0 + 4 * HOUR_MS - 1), 0);
	ck_assert_int_le(slew_left_ms(&s, M0 + 4 * HOUR_MS - 1), 4);
	ck_assert_uint_eq(slew_allowance(&s, &conf, M0 + 4 * HOUR_MS), 5);
	ck_assert_int_eq(slew_left_ms(&s, M0 + 4 * HOUR_MS), 0);
	ck_assert_uint_eq(slew_allowance(&s, &conf, M0 + 40 * HOUR_MS), 5);
	ck_assert_int_eq(slew_tick(&s, M0 + 4 * HOUR_MS), SLEW_ENDED);
	ck_assert_int_eq(slew_tick(&s, M0 + 5 * HOUR_MS), SLEW_NONE);
	/* Another rate: 0.5 halves the time. */
	{
		const struct slew_conf half = {5, 3600, 500000};

		slew_start(&s, &half, M0, 0);
		slew_step(&s, &half, M0, -HOUR_MS + SLEW_WHOLE_MS);
		ck_assert_int_eq(slew_left_ms(&s, M0), 2 * HOUR_MS);
		ck_assert_uint_eq(
		    slew_allowance(&s, &half, M0 + HOUR_MS), 1805);
	}
}
END_TEST

/* Steps in a row add up, past max_slew too (far, but granted). */
START_TEST(test_slew_in_a_row)
{
	struct slew s;

	slew_start(&s, &conf, M0, 0);
	/* A slew starts with the step and a second more. */
	ck_assert_int_eq(slew_step(&s, &conf, M0, -99000), SLEW_STARTED);
	ck_assert_int_eq(slew_extra_ms(&s, &conf, M0), 100000);
	/* 40 s later 90 s are left; another 50 s back makes 140. */
	ck_assert_int_eq(slew_step(&s, &conf, M0 + 40000, -50000), SLEW_GREW);
	ck_assert_int_eq(slew_extra_ms(&s, &conf, M0 + 40000), 140000);
	ck_assert_uint_eq(slew_allowance(&s, &conf, M0 + 40000), 145);
	ck_assert_int_eq(slew_left_ms(&s, M0 + 40000), 560000);
	/* Up to max_slew and the starting second exactly. */
	ck_assert_int_eq(
	    slew_step(&s, &conf, M0 + 40000, -(HOUR_MS - 139000)), SLEW_GREW);
	ck_assert_uint_eq(slew_allowance(&s, &conf, M0 + 40000), 3606);
	ck_assert(!slew_far(&s, &conf, M0 + 40000));
	/* One more second is past it: granted all the same, and far. */
	ck_assert_int_eq(slew_step(&s, &conf, M0 + 40000, -1000), SLEW_FAR);
	ck_assert_int_eq(slew_extra_ms(&s, &conf, M0 + 40000), HOUR_MS + 2000);
	ck_assert(slew_far(&s, &conf, M0 + 40000));
	ck_assert_int_eq(slew_extra_ms(&s, &conf, M0 + 44000), HOUR_MS + 1000);
	/* Once it shrank by a second it is no longer far. */
	ck_assert(!slew_far(&s, &conf, M0 + 44000));
	/* Many small steps: each one adds its size. */
	slew_start(&s, &conf, M0, 0);
	{
		int i;

		for (i = 0; i < 10; i++)
			slew_step(&s, &conf, M0, -300);
	}
	ck_assert_int_eq(slew_extra_ms(&s, &conf, M0), 3000 + SLEW_WHOLE_MS);
	ck_assert_uint_eq(slew_allowance(&s, &conf, M0), 9);
}
END_TEST

/* A step forward during a slew takes its size from the extra. */
START_TEST(test_slew_forward)
{
	struct slew s;

	slew_start(&s, &conf, M0, 0);
	ck_assert_int_eq(slew_step(&s, &conf, M0, 2000), SLEW_NONE);
	ck_assert_uint_eq(slew_allowance(&s, &conf, M0), 5);
	slew_step(&s, &conf, M0, -99000);
	ck_assert_int_eq(slew_step(&s, &conf, M0 + 40000, 30000), SLEW_SHRANK);
	ck_assert_int_eq(slew_extra_ms(&s, &conf, M0 + 40000), 60000);
	ck_assert_int_eq(slew_left_ms(&s, M0 + 40000), 240000);
	/* The rate applies from the step on. */
	ck_assert_int_eq(slew_extra_ms(&s, &conf, M0 + 80000), 50000);
	/* Forward by more than is left ends it. */
	ck_assert_int_eq(slew_step(&s, &conf, M0 + 80000, 70000), SLEW_ENDED);
	ck_assert_uint_eq(slew_allowance(&s, &conf, M0 + 80000), 5);
	ck_assert_int_eq(slew_tick(&s, M0 + 90000), SLEW_NONE);
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
	slew_start(&s, &conf, M0, 0);
	slew_step(&s, &conf, M0, -HOUR_MS);
	{
		uint32_t now = T + 1000,
			 a = slew_allowance(
			     &s, &conf, M0 + 1000 * INT64_C(1000));
		uint32_t ckpt = bucket_checkpoint_target(now, a);

		ck_assert_uint_eq(a, 3356);
		ck_assert_int_eq(
		    clock_start_rule(now, ckpt, 5, 3600), CLOCK_START_SLEW);
		extra = slew_boot_extra(now, ckpt + 1, &conf);
		ck_assert_uint_eq(extra, 3353);
		slew_start(&s, &conf, 0, extra * INT64_C(1000));
		/* It issues ckpt + 1 at once and borrows the next as soon
		 * as the clock moves. */
		ck_assert_uint_ge(now + slew_allowance(&s, &conf, 0), ckpt + 1);
		ck_assert_uint_ge(
		    now + 2 + slew_allowance(&s, &conf, 2000), ckpt + 2);
		ck_assert_uint_eq(slew_left_ms(&s, 0), 3353 * 4000);
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

	slew_start(&s, &conf, M0, 0);
	ck_assert_int_eq(slew_step(&s, &conf, M0, -6000), SLEW_STARTED);
	ck_assert_uint_eq(slew_allowance(&s, &conf, M0), 12);
	ck_assert_int_eq(slew_left_ms(&s, M0), 28000);
	ck_assert_uint_eq(slew_allowance(&s, &conf, M0 + 27999), 6);
	ck_assert_uint_eq(slew_allowance(&s, &conf, M0 + 28000), 5);
	ck_assert_int_eq(slew_tick(&s, M0 + 28000), SLEW_ENDED);

	slew_start(&s, &conf, M0, 0);
	/* Past max_slew: granted whole, however large, and far. */
	ck_assert_int_eq(slew_step(&s, &conf, M0, -HOUR_MS - 1), SLEW_FAR);
	ck_assert_uint_eq(slew_allowance(&s, &conf, M0), 3607);
	slew_start(&s, &conf, M0, 0);
	ck_assert_int_eq(
	    slew_step(&s, &conf, M0, -365 * 24 * HOUR_MS), SLEW_FAR);
	ck_assert_uint_eq(slew_allowance(&s, &conf, M0), 365 * 24 * 3600 + 6);
	ck_assert_int_eq(slew_left_ms(&s, M0), 4 * (365 * 24 * HOUR_MS + 1000));
	ck_assert_uint_eq(
	    slew_allowance(&s, &conf, M0 + 4 * 364 * 24 * HOUR_MS),
	    24 * 3600 + 6);
	/* max_slew 0: every slew is far, none refused. */
	{
		const struct slew_conf off = {5, 0, 250000};

		slew_start(&s, &off, M0, 0);
		ck_assert_int_eq(slew_step(&s, &off, M0, -1000), SLEW_FAR);
		ck_assert_uint_eq(slew_allowance(&s, &off, M0), 7);
	}
	/* A monotonic sample from before the start does not shrink it. */
	slew_start(&s, &conf, M0, 10000);
	ck_assert_int_ge(slew_extra_ms(&s, &conf, M0 - 100000), 10000);
	/* What the workers compute from the end is the master's extra. */
	ck_assert_int_eq(slew_extra_until(s.end_ms, conf.rate_ppm, M0 + 123),
	    slew_extra_ms(&s, &conf, M0 + 123));
	ck_assert_int_eq(slew_extra_until(0, conf.rate_ppm, M0), 0);
	ck_assert_int_eq(
	    slew_extra_until(s.end_ms, conf.rate_ppm, s.end_ms), 0);
}
END_TEST

/* The top word of a slew: the position now + max_ahead + extra. */
START_TEST(test_slew_top_word)
{
	const int64_t T = 1700000000;

	/* A whole second: counter 0 of it. */
	ck_assert_uint_eq(
	    slew_top_word(T * 1000, 5, 10000), bucket_word(T + 15, 0));
	/* Three quarters in: three quarters of the counters. */
	ck_assert_uint_eq(
	    slew_top_word(T * 1000 + 250, 5, 500), bucket_word(T + 5, 49152));
	ck_assert_uint_eq(slew_top_word(T * 1000 + 999, 0, 0),
	    bucket_word(T, 999 * 65536 / 1000));
	/* The ends of the range. */
	ck_assert_uint_eq(slew_top_word(-1000, 0, 0), 0);
	ck_assert_uint_eq(slew_top_word(INT64_C(1) << 42, 5, 0),
	    bucket_word(UINT32_MAX, ID_COUNTERS));
}
END_TEST

/*
 * One bucket under full load through a step back of d_s, in ticks of
 * 10 ms: it issues at 1 - clock_slew of its capacity spread over each
 * second (every 100 ms gets its share: no burst, no empty second), its
 * lead stays within the allowance and falls at clock_slew, it meets the
 * clock after d_s / clock_slew, and no ID repeats.  seconds: how long to
 * run after the step.
 */
static void
bucket_through_step(uint32_t d_s, uint32_t seconds)
{
	static uint64_t ids[ID_COUNTERS];
	const int64_t T = 1700000000;
	const struct slew_conf shipped = {5, 86400, 250000};
	uint64_t word, last, win = 0, sec = 0, total = 0;
	int64_t tick, ticks = (int64_t)seconds * 100;
	uint32_t ckpt = bucket_checkpoint_target((uint32_t)T, 5);
	struct slew s;

	/* Used up in its second, the clock at T + 0.5 when it steps back. */
	word = bucket_word((uint32_t)T, ID_COUNTERS);
	last = bucket_word((uint32_t)T, ID_COUNTER_MAX);
	slew_start(&s, &shipped, 0, 0);
	slew_step(&s, &shipped, 0, -(int64_t)d_s * 1000);
	for (tick = 0; tick < ticks; tick++) {
		int64_t mono = tick * 10,
			wall = T * 1000 + 500 - d_s * 1000 + mono;
		int64_t extra = slew_extra_ms(&s, &shipped, mono);
		uint32_t a = slew_allowance(&s, &shipped, mono);
		struct bucket_limits lim;
		struct bucket_result r;
		unsigned n, i;

		lim.now = (uint32_t)(wall / 1000);
		lim.max_ahead = shipped.max_ahead;
		lim.slew_top = slew_top_word(wall, shipped.max_ahead, extra);
		if (bucket_checkpoint_target(lim.now, a) > ckpt)
			ckpt = bucket_checkpoint_target(lim.now, a);
		lim.checkpoint = ckpt;
		n = bucket_take(&word, 0, &lim, ID_COUNTERS, ids, &r);
		/* Check's asserts are slow: one per ID would take seconds. */
		for (i = 0; i < n; i++) {
			if (ids[i] <= last)
				ck_abort_msg("step %u, tick %lld: ID repeats",
				    d_s, (long long)tick);
			last = ids[i];
		}
		ck_assert_uint_le(bucket_ts(word), lim.now + a);
		total += n;
		win += n;
		sec += n;
		/* After the first tick's catch-up, each 100 ms in the slew. */
		if (tick % 10 == 9) {
			/* Until the last 5 s, when whole-second borrowing
			 * takes over again. */
			if (tick > 10 && mono < slew_left_ms(&s, 0) - 5000) {
				ck_assert_uint_ge(win, 65536 * 3 / 40 - 200);
				ck_assert_uint_le(win, 65536 * 3 / 40 + 200);
			}
			win = 0;
		}
		/* Once it is over, the whole capacity each second. */
		if (tick % 100 == 99) {
			if (mono > slew_left_ms(&s, 0) + 6000)
				ck_assert_uint_eq(sec, 65536);
			sec = 0;
		}
	}
	/* The step's slew ends after d_s / 0.25, then the clock leads. */
	if ((int64_t)seconds * 1000 > slew_left_ms(&s, 0) + 10000)
		ck_assert_uint_le(bucket_ts(word),
		    (uint32_t)((T * 1000 + 500 - d_s * 1000 + ticks * 10) /
			1000) +
			5);
	/*
	 * 75% of the capacity over the slew, after the first tick took the
	 * 5.5 s from the bucket's second to the top: max_ahead, the half
	 * second the clock had run, and the second a slew starts with.
	 */
	if ((int64_t)seconds * 1000 < slew_left_ms(&s, 0))
		ck_assert_int_le(
		    llabs((long long)total - 65536LL * (3 * seconds + 22) / 4),
		    65536 / 10);
}

START_TEST(test_slew_bucket_load)
{
	bucket_through_step(10, 60);	/* over in 40 s, then full rate */
	bucket_through_step(3600, 60);	/* an hour */
	bucket_through_step(7200, 30);	/* two */
	bucket_through_step(86400, 30); /* a day: no cliff */
	bucket_through_step(10 * 86400, 10);
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
	tcase_add_test(tc, test_slew_top_word);
	tcase_add_test(tc, test_slew_bucket_load);
	suite_add_tcase(s, tc);
	return s;
}
