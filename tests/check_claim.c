/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_claim.c - which machine id a node claims from etcd.
 */
#include <check.h>
#include <string.h>

#include "check_core.h"
#include "claim.h"

static const struct claim_node self = {0x1234, "host-a", "boot-1"};

/* Machine i held by another node, or by self's earlier process. */
static void
hold(struct claim_holder *h, unsigned i, int by_self)
{
	h[i].held = 1;
	h[i].by = self;
	if (!by_self)
		h[i].by.node = 0x9999 + i;
}

START_TEST(test_self)
{
	struct claim_node o = self;

	ck_assert(claim_is_self(&o, &self));
	o.node = 0x1235;
	ck_assert(!claim_is_self(&o, &self));
	o = self;
	strcpy(o.host, "host-b"); /* a copy of the state file elsewhere */
	ck_assert(!claim_is_self(&o, &self));
	o = self;
	strcpy(o.boot, "boot-2"); /* after a reboot: wait for the lease */
	ck_assert(!claim_is_self(&o, &self));
	o = self;
	o.node = 0;
	ck_assert(!claim_is_self(&o, &o));
}
END_TEST

START_TEST(test_auto_lowest_free)
{
	struct claim_holder h[CLAIM_MACHINES] = {{0}};
	struct claim_choice c;
	unsigned i;

	c = claim_choose(h, &self, -1, -1);
	ck_assert_int_eq(c.verdict, CLAIM_FREE);
	ck_assert_uint_eq(c.machine, 0);
	for (i = 0; i < CLAIM_MACHINES - 1; i++) {
		hold(h, i, 0);
		c = claim_choose(h, &self, -1, -1);
		ck_assert_int_eq(c.verdict, CLAIM_FREE);
		ck_assert_uint_eq(c.machine, i + 1);
	}
	hold(h, CLAIM_MACHINES - 1, 0);
	ck_assert_int_eq(claim_choose(h, &self, -1, -1).verdict, CLAIM_FULL);
	ck_assert_int_eq(claim_choose(h, &self, -1, 3).verdict, CLAIM_FULL);
}
END_TEST

START_TEST(test_auto_keeps_its_id)
{
	struct claim_holder h[CLAIM_MACHINES] = {{0}};
	struct claim_choice c;

	/* The state file's id when free, though a lower one is free too. */
	hold(h, 1, 0);
	c = claim_choose(h, &self, -1, 5);
	ck_assert_int_eq(c.verdict, CLAIM_FREE);
	ck_assert_uint_eq(c.machine, 5);
	/* Held by its own earlier process: taken back. */
	hold(h, 5, 1);
	c = claim_choose(h, &self, -1, 5);
	ck_assert_int_eq(c.verdict, CLAIM_RECLAIM);
	ck_assert_uint_eq(c.machine, 5);
	/* Held by another node: the lowest free instead. */
	hold(h, 5, 0);
	c = claim_choose(h, &self, -1, 5);
	ck_assert_int_eq(c.verdict, CLAIM_FREE);
	ck_assert_uint_eq(c.machine, 0);
}
END_TEST

START_TEST(test_auto_own_elsewhere)
{
	struct claim_holder h[CLAIM_MACHINES] = {{0}};
	struct claim_choice c;

	/* No preference (a new state file) but its own process holds 6. */
	hold(h, 6, 1);
	c = claim_choose(h, &self, -1, -1);
	ck_assert_int_eq(c.verdict, CLAIM_RECLAIM);
	ck_assert_uint_eq(c.machine, 6);
}
END_TEST

START_TEST(test_fixed)
{
	struct claim_holder h[CLAIM_MACHINES] = {{0}};
	struct claim_choice c;

	c = claim_choose(h, &self, 4, -1);
	ck_assert_int_eq(c.verdict, CLAIM_FREE);
	ck_assert_uint_eq(c.machine, 4);
	hold(h, 4, 1);
	c = claim_choose(h, &self, 4, 2);
	ck_assert_int_eq(c.verdict, CLAIM_RECLAIM);
	ck_assert_uint_eq(c.machine, 4);
	/* Never another id, though all the others are free. */
	hold(h, 4, 0);
	c = claim_choose(h, &self, 4, -1);
	ck_assert_int_eq(c.verdict, CLAIM_TAKEN);
	ck_assert_uint_eq(c.machine, 4);
}
END_TEST

START_TEST(test_state_names)
{
	ck_assert_str_eq(claim_state_name(CLAIM_STATIC), "static");
	ck_assert_str_eq(claim_state_name(CLAIM_HELD), "held");
	ck_assert_str_eq(claim_state_name(CLAIM_LOST), "lost");
	ck_assert_str_eq(claim_state_name(CLAIM_UNCONFIRMED), "unconfirmed");
	ck_assert_str_eq(claim_state_name(CLAIM_STATES), "unknown");
}
END_TEST

START_TEST(test_state_now)
{
	/* Held until the fence, lost from it; the others as they are. */
	ck_assert_uint_eq(claim_state_now(CLAIM_HELD, 5000, 4999), CLAIM_HELD);
	ck_assert_uint_eq(claim_state_now(CLAIM_HELD, 5000, 5000), CLAIM_LOST);
	ck_assert_uint_eq(claim_state_now(CLAIM_HELD, 0, 9999), CLAIM_HELD);
	ck_assert_uint_eq(
	    claim_state_now(CLAIM_STATIC, 5000, 9999), CLAIM_STATIC);
	ck_assert_uint_eq(
	    claim_state_now(CLAIM_UNCONFIRMED, 0, 9999), CLAIM_UNCONFIRMED);
	ck_assert_uint_eq(claim_state_now(CLAIM_LOST, 1, 0), CLAIM_LOST);
}
END_TEST

Suite *
make_claim_suite(void)
{
	Suite *s = suite_create("claim");
	TCase *tc = tcase_create("choose");

	tcase_add_test(tc, test_self);
	tcase_add_test(tc, test_auto_lowest_free);
	tcase_add_test(tc, test_auto_keeps_its_id);
	tcase_add_test(tc, test_auto_own_elsewhere);
	tcase_add_test(tc, test_fixed);
	tcase_add_test(tc, test_state_names);
	tcase_add_test(tc, test_state_now);
	suite_add_tcase(s, tc);
	return s;
}
