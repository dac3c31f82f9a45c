/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_ratelimit.c - one log line of a kind per interval.
 */
#include <check.h>

#include "check_core.h"
#include "ratelimit.h"

START_TEST(test_ratelimit_first_line)
{
	struct ratelimit r;
	unsigned n = 99;

	/* The first line passes whatever the clock says, even 0. */
	ratelimit_init(&r, 60);
	ck_assert_int_eq(ratelimit_allow(&r, 0, &n), 1);
	ck_assert_uint_eq(n, 0);
	ratelimit_init(&r, 1);
	n = 99;
	ck_assert_int_eq(ratelimit_allow(&r, 12345.5, &n), 1);
	ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(test_ratelimit_interval)
{
	struct ratelimit r;
	unsigned n = 99;

	ratelimit_init(&r, 1.0);
	ck_assert_int_eq(ratelimit_allow(&r, 100.0, &n), 1);
	n = 99;
	ck_assert_int_eq(ratelimit_allow(&r, 100.0, &n), 0);
	ck_assert_int_eq(ratelimit_allow(&r, 100.5, &n), 0);
	ck_assert_int_eq(ratelimit_allow(&r, 100.999, &n), 0);
	/* Held back lines leave *suppressed alone. */
	ck_assert_uint_eq(n, 99);
	/* A full interval after the last line let through, the next passes
	 * and tells how many were held back. */
	ck_assert_int_eq(ratelimit_allow(&r, 101.0, &n), 1);
	ck_assert_uint_eq(n, 3);
	/* The count starts again, and the interval runs from 101. */
	ck_assert_int_eq(ratelimit_allow(&r, 101.5, &n), 0);
	ck_assert_int_eq(ratelimit_allow(&r, 105.0, &n), 1);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(ratelimit_allow(&r, 106.0, &n), 1);
	ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(test_ratelimit_many)
{
	struct ratelimit r;
	unsigned n = 0, passed = 0, i;

	/* 10 lines a second for 60 s, one let through every 6 s. */
	ratelimit_init(&r, 6);
	for (i = 0; i < 600; i++) {
		if (ratelimit_allow(&r, i / 10.0, &n)) {
			passed++;
			if (i > 0)
				ck_assert_uint_eq(n, 59);
		}
	}
	ck_assert_uint_eq(passed, 10);
}
END_TEST

START_TEST(test_ratelimit_saturates)
{
	struct ratelimit r;
	unsigned n = 0;

	ratelimit_init(&r, 10);
	ck_assert_int_eq(ratelimit_allow(&r, 0, &n), 1);
	r.suppressed = (unsigned)-2;
	ck_assert_int_eq(ratelimit_allow(&r, 1, &n), 0);
	ck_assert_int_eq(ratelimit_allow(&r, 2, &n), 0);
	ck_assert_int_eq(ratelimit_allow(&r, 10, &n), 1);
	ck_assert_uint_eq(n, (unsigned)-1);
}
END_TEST

Suite *
make_ratelimit_suite(void)
{
	Suite *s = suite_create("ratelimit");
	TCase *tc = tcase_create("allow");

	tcase_add_test(tc, test_ratelimit_first_line);
	tcase_add_test(tc, test_ratelimit_interval);
	tcase_add_test(tc, test_ratelimit_many);
	tcase_add_test(tc, test_ratelimit_saturates);
	suite_add_tcase(s, tc);
	return s;
}
