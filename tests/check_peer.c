/*
 * check_peer.c - the verdict on a peer's identity (SPEC 7).
 */
#include <check.h>

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

Suite *
make_peer_suite(void)
{
	Suite *s = suite_create("peer");
	TCase *tc = tcase_create("judge");

	tcase_add_loop_test(
	    tc, test_peer_judge, 0, sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, test_peer_no_instance);
	suite_add_tcase(s, tc);
	return s;
}
