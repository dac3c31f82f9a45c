/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_steps.c - steps of the wall clock through the daemon's own code
 * (clock.c finds them, steps.c counts and slews them as the master's tick
 * does, proto.c issues under the allowance) on a simulated clock: a step
 * back of an hour, a day and a year in milliseconds, without libfaketime.
 * The configuration is the shipped one (cfg_defaults).
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bucket.h"
#include "clock.h"
#include "config.h"
#include "proto.h"
#include "steps.h"

#define START 1795000000LL /* the simulated wall clock at the start, s */
#define SLICE_MS 5	   /* how often the client asks */
#define BUCKET 3u

static struct {
	int64_t real_ns, mono_ns;
	struct statefile sf;
	struct proto_guard guard;
	struct proto_node node;
	struct cfg cfg;
	uint64_t last; /* the last ID issued, 0 = none */
	uint64_t issued;
} sim;

static void
sim_read(struct timespec *real, struct timespec *mono)
{
	if (real != NULL) {
		real->tv_sec = (time_t)(sim.real_ns / 1000000000);
		real->tv_nsec = (long)(sim.real_ns % 1000000000);
	}
	if (mono != NULL) {
		mono->tv_sec = (time_t)(sim.mono_ns / 1000000000);
		mono->tv_nsec = (long)(sim.mono_ns % 1000000000);
	}
}

static const struct clock_source sim_clock = {sim_read};

/* checkpoint_raise without a disk: both marks at once. */
static int
sim_raise(struct statefile *sf, uint32_t target)
{
	state_raise(&sf->h->checkpoint, target);
	state_raise(&sf->h->checkpoint_safe, target);
	return 0;
}

/* The ID second of the simulated wall clock. */
static uint32_t
now_ts(void)
{
	return (uint32_t)(sim.real_ns / 1000000000);
}

static void
setup(void)
{
	struct state_identity id = {1, 2, 3, 0};
	struct slew_conf sc;

	memset(&sim, 0, sizeof(sim));
	sim.real_ns = START * 1000000000LL;
	sim.mono_ns = 1000LL * 1000000000LL;
	clock_reset();
	clock_use(&sim_clock);
	cfg_defaults(&sim.cfg);
	sim.sf.fd = -1;
	sim.sf.len = state_size();
	sim.sf.h = calloc(1, sim.sf.len);
	ck_assert_ptr_nonnull(sim.sf.h);
	state_init(sim.sf.h, &id, START);
	/*
	 * A bucket at the clock with the checkpoint max_ahead_s + 1 ahead,
	 * as a node that has run past its start-up lead stands: the test is
	 * about steps, not the first start (integ_state_create has that).
	 */
	sim.sf.h->max_ahead = sim.cfg.max_ahead_s;
	state_store(&state_bucket(sim.sf.h, BUCKET)->word,
	    bucket_restart_word(now_ts() - 1));
	sim_raise(&sim.sf, bucket_checkpoint_target(now_ts(), 5));
	proto_guard_init(&sim.guard, sim.sf.h);
	sim.node = (struct proto_node){
	    .sf = &sim.sf,
	    .slot = state_worker(sim.sf.h, 0),
	    .guard = &sim.guard,
	    .max_ahead = sim.cfg.max_ahead_s,
	    .workers = 1,
	    .worker_pid = 1,
	    .clock = clock_real,
	    .raise = sim_raise,
	    .mono_ms = clock_mono_ms,
	};
	cfg_slew(&sim.cfg, &sc);
	steps_start(sim.sf.h, &sc);
}

static void
teardown(void)
{
	clock_use(NULL);
	clock_reset();
	free(sim.sf.h);
}

/*
 * Lets ms of simulated time pass with a client asking for 255 IDs four
 * times every slice, and the master's tick every checkpoint_interval_ms.  Checks that
 * every ID is above the one before; returns how many were issued.
 */
static uint64_t
run_for(int64_t ms)
{
	static const uint8_t in[] = {1, 255, 1, 255, 1, 255, 1, 255};
	static uint8_t out[4 * (1 + 8 * 255)];
	uint64_t before = sim.issued;
	int64_t t;

	for (t = 0; t < ms; t += SLICE_MS) {
		struct proto_result r;
		size_t o = 0;

		/* The master's tick: the shipped checkpoint_interval_ms. */
		if ((sim.mono_ns / 1000000) % sim.cfg.checkpoint_interval_ms ==
		    0)
			sim_raise(&sim.sf,
			    bucket_checkpoint_target(now_ts(), steps_tick()));
		r = proto_serve(
		    &sim.node, BUCKET, in, sizeof(in), out, sizeof(out));
		ck_assert_int_ne(r.stop, PROTO_DAMAGED);
		while (o < r.written) {
			unsigned n = out[o++], k;

			for (k = 0; k < n; k++, o += 8) {
				uint64_t id = 0;
				unsigned j;

				for (j = 0; j < 8; j++)
					id = id << 8 | out[o + j];
				if (id <= sim.last)
					ck_abort_msg("ID %llx after %llx",
					    (unsigned long long)id,
					    (unsigned long long)sim.last);
				sim.last = id;
				sim.issued++;
			}
		}
		sim.real_ns += SLICE_MS * 1000000LL;
		sim.mono_ns += SLICE_MS * 1000000LL;
	}
	return sim.issued - before;
}

/* The wall clock steps by s seconds; the monotonic clock does not. */
static void
step(int64_t s)
{
	sim.real_ns += s * 1000000000LL;
}

/* A node that ran a minute sees the clock step back an hour: it goes on
 * issuing under the slew, above every ID before, and meets the clock. */
START_TEST(hour_back_is_slewed)
{
	uint64_t n;

	ck_assert_uint_gt(run_for(60000), 0);
	step(-3600);
	n = run_for(10000);
	ck_assert_uint_eq(state_load(&sim.sf.h->clock_steps_back), 1);
	ck_assert_uint_eq(state_load(&sim.sf.h->slews), 1);
	ck_assert_uint_gt(n, 0);
	ck_assert_uint_gt(state_load(&sim.sf.h->allowance), 3000);
}
END_TEST

/*
 * Steps back of 10 s, an hour, two, a day and a year, each in the slew of
 * the ones before, at the shipped defaults: every second after the one
 * the master's tick needs to see the step, the bucket issues at least
 * 70% of its 65,536 IDs, above everything before; a step past max_slew_s
 * is served all the same and counted as far (genid(7)).
 */
START_TEST(steps_of_any_size_cost_capacity)
{
	static const int64_t steps[] = {10, 3600, 7200, 86400, 366 * 86400LL};
	unsigned i, sec;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		ck_assert_uint_gt(run_for(20000), 0);
		step(-steps[i]);
		run_for(1000);
		for (sec = 1; sec < 10; sec++) {
			uint64_t n = run_for(1000);

			if (n < 65536 * 7 / 10)
				ck_abort_msg("step back %lld s: %llu IDs in"
					     " second %u after it",
				    (long long)steps[i], (unsigned long long)n,
				    sec);
		}
		ck_assert_uint_eq(
		    state_load(&sim.sf.h->clock_steps_back), i + 1);
		ck_assert_uint_gt(state_load(&sim.sf.h->allowance), steps[i]);
	}
	ck_assert_uint_eq(state_load(&sim.sf.h->slews), 1);
	/* The day on top of the slews before it, and the year, took the
	 * extra past max_slew_s (a day). */
	ck_assert_uint_eq(state_load(&sim.sf.h->slews_far), 2);
}
END_TEST

/* A step forward is counted and needs no slew. */
START_TEST(forward_is_counted)
{
	run_for(5000);
	step(600);
	ck_assert_uint_gt(run_for(5000), 0);
	ck_assert_uint_eq(state_load(&sim.sf.h->clock_steps_forward), 1);
	ck_assert_uint_eq(state_load(&sim.sf.h->slews), 0);
	ck_assert_uint_eq(
	    (uint64_t)state_load((uint64_t *)&sim.sf.h->clock_step_last_ns),
	    600 * 1000000000ULL);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("steps");
	TCase *tc = tcase_create("simulated clock");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, hour_back_is_slewed);
	tcase_add_test(tc, steps_of_any_size_cost_capacity);
	tcase_add_test(tc, forward_is_counted);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
