/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_serving.c - whether a node can issue now (issue 9).
 */
#include <check.h>
#include <string.h>

#include "bucket.h"
#include "check_core.h"
#include "id.h"
#include "serving.h"

#define NOW 1000000u
#define AHEAD 5u

static struct serving_input
input(const uint64_t *words, unsigned n)
{
	struct serving_input in;

	memset(&in, 0, sizeof(in));
	in.now = NOW;
	in.allowance = AHEAD;
	in.words = words;
	in.nwords = n;
	return in;
}

START_TEST(test_serving_names)
{
	ck_assert_str_eq(serving_name(SERVING), "serving");
	ck_assert_str_eq(serving_name(SERVING_CLOCK_BEHIND), "clock-behind");
	ck_assert_str_eq(
	    serving_name(SERVING_CHECKPOINT_STUCK), "checkpoint-stuck");
	ck_assert_str_eq(serving_name(SERVING_STOPPING), "stopping");
	ck_assert_str_eq(serving_name(SERVING_PEER_CONFLICT), "peer-conflict");
	ck_assert_str_eq(serving_name(SERVING_IDENTITY_LOST), "identity-lost");
	ck_assert_str_eq(serving_name(SERVING_STATES), "unknown");
}
END_TEST

/* Borrowing up to the allowance, even dry, is still serving. */
START_TEST(test_serving_within_allowance)
{
	uint64_t w[] = {bucket_word(NOW, 0), bucket_word(NOW + AHEAD, 0),
	    bucket_word(NOW + AHEAD, ID_COUNTERS), bucket_word(NOW - 9, 7)};
	struct serving_input in = input(w, 4);

	ck_assert_int_eq(serving_judge(&in), SERVING);
}
END_TEST

/* Ahead beyond the allowance (a step back) with room left: serving. */
START_TEST(test_serving_ahead_with_room)
{
	uint64_t w[] = {bucket_word(NOW + 3600, ID_COUNTERS - 1)};
	struct serving_input in = input(w, 1);

	ck_assert_int_eq(serving_judge(&in), SERVING);
	ck_assert_int_eq(serving_bucket_behind(w[0], NOW, AHEAD), 0);
}
END_TEST

/* One dry bucket beyond the allowance is enough; a larger one admits it. */
START_TEST(test_serving_clock_behind)
{
	uint64_t w[] = {
	    bucket_word(NOW, 3), bucket_word(NOW + AHEAD + 1, ID_COUNTERS)};
	struct serving_input in = input(w, 2);

	ck_assert_int_eq(serving_judge(&in), SERVING_CLOCK_BEHIND);
	in.allowance = AHEAD + 1;
	ck_assert_int_eq(serving_judge(&in), SERVING);
	/* No overflow at the end of the timestamp range. */
	ck_assert_int_eq(
	    serving_bucket_behind(
		bucket_word(ID_TS_MAX, ID_COUNTERS), ID_TS_MAX - 1, UINT32_MAX),
	    0);
}
END_TEST

/* Stopping wins over everything, then a lost identity, a peer, the
 * checkpoint. */
START_TEST(test_serving_order)
{
	uint64_t w[] = {bucket_word(NOW + 100, ID_COUNTERS)};
	struct serving_input in = input(w, 1);

	in.checkpoint_failed = 1;
	ck_assert_int_eq(serving_judge(&in), SERVING_CHECKPOINT_STUCK);
	in.peer_conflicts = 2;
	ck_assert_int_eq(serving_judge(&in), SERVING_PEER_CONFLICT);
	in.identity_lost = 1;
	ck_assert_int_eq(serving_judge(&in), SERVING_IDENTITY_LOST);
	in.stopping = 1;
	ck_assert_int_eq(serving_judge(&in), SERVING_STOPPING);
	in = input(NULL, 0);
	ck_assert_int_eq(serving_judge(&in), SERVING);
}
END_TEST

Suite *
make_serving_suite(void)
{
	Suite *s = suite_create("serving");
	TCase *tc = tcase_create("judge");

	tcase_add_test(tc, test_serving_names);
	tcase_add_test(tc, test_serving_within_allowance);
	tcase_add_test(tc, test_serving_ahead_with_room);
	tcase_add_test(tc, test_serving_clock_behind);
	tcase_add_test(tc, test_serving_order);
	suite_add_tcase(s, tc);
	return s;
}
