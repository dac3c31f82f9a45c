/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_peer.c - the verdict on a peer's identity (genid(8)).
 */
#include <check.h>
#include <stdint.h>

#include "check_core.h"
#include "peer.h"

static const struct peer_identity self = {3, 2, 5, 0x1234};

struct verdict_case {
	struct peer_identity peer;
	enum peer_verdict want;
};

static const struct verdict_case cases[] = {
    {{3, 2, 4, 0x9999}, PEER_OK},
    {{3, 2, 4, 0}, PEER_OK},
    {{3, 2, 5, 0x9999}, PEER_CONFLICT},
    {{3, 2, 5, 0}, PEER_CONFLICT},
    {{3, 2, 5, 0x1234}, PEER_SELF},
    {{4, 2, 4, 0x9999}, PEER_OTHER_DC},
    {{3, 1, 4, 0x9999}, PEER_OTHER_DC},
    {{4, 2, 5, 0x9999}, PEER_OTHER_DC},
};

START_TEST(test_peer_judge)
{
	ck_assert_int_eq(peer_judge(&self, &cases[_i].peer), cases[_i].want);
}
END_TEST

/* Without an instance of its own a node never takes a peer for itself. */
START_TEST(test_peer_no_instance)
{
	struct peer_identity me = {3, 2, 5, 0}, peer = {3, 2, 5, 0};

	ck_assert_int_eq(peer_judge(&me, &peer), PEER_CONFLICT);
}
END_TEST

/* The median of the peers' offsets, odd and even counts, in any order. */
START_TEST(test_peer_median)
{
	int64_t one[] = {-7000};
	int64_t three[] = {30000, -200, 100};
	int64_t four[] = {400, -100, 300, 100};
	int64_t odd_halves[] = {1, 2};
	int64_t big[] = {INT64_MAX, INT64_MAX - 2};

	ck_assert_int_eq(peer_median_ms(one, 1), -7000);
	/* One peer far off does not move the median. */
	ck_assert_int_eq(peer_median_ms(three, 3), 100);
	ck_assert_int_eq(peer_median_ms(four, 4), 200);
	ck_assert_int_eq(peer_median_ms(odd_halves, 2), 1);
	ck_assert_int_eq(peer_median_ms(big, 2), INT64_MAX - 1);
}
END_TEST

Suite *
make_peer_suite(void)
{
	Suite *s = suite_create("peer");
	TCase *tc = tcase_create("judge");

	tcase_add_loop_test(
	    tc, test_peer_judge, 0, sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, test_peer_no_instance);
	tcase_add_test(tc, test_peer_median);
	suite_add_tcase(s, tc);
	return s;
}
