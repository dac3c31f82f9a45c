/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_suggest.c - edit distance and the closest name.
 */
#include <check.h>
#include <string.h>

#include "check_core.h"
#include "suggest.h"

static const char *const keys[] = {"port", "listen", "zone_id", "dc_id",
    "machine_id", "workers", "epoch", "state_file", "pid_file", "log_file",
    "log_level", "user", "group", "max_connections", "idle_timeout_s",
    "max_ahead_s", "checkpoint_interval_ms", "worker_timeout_ms", "allow",
    "peers", "metrics_listen"};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static const char *
closest(const char *word)
{
	int i = suggest_closest(word, keys, NKEYS);

	return i < 0 ? NULL : keys[i];
}

START_TEST(test_distance_known)
{
	static const struct {
		const char *a, *b;
		unsigned d;
	} cases[] = {
	    {"", "", 0},
	    {"", "abc", 3},
	    {"abc", "", 3},
	    {"kitten", "sitting", 3},
	    {"machine_id", "machine_id", 0},
	    {"machine_id", "machineid", 1},   /* a deletion */
	    {"machine_id", "machine__id", 1}, /* an insertion */
	    {"machine_id", "machine-id", 1},  /* a substitution */
	    {"machine_id", "mahcine_id", 1},  /* two neighbours swapped */
	    {"machine_id", "MACHINE_ID", 0},  /* case is ignored */
	    {"ca", "abc", 3},		      /* OSA, not full Damerau */
	    {"epoch", "port", 3},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_msg(
		    suggest_distance(cases[i].a, cases[i].b) == cases[i].d,
		    "distance(\"%s\", \"%s\") = %u, want %u", cases[i].a,
		    cases[i].b, suggest_distance(cases[i].a, cases[i].b),
		    cases[i].d);
		/* The distance is symmetric. */
		ck_assert_uint_eq(
		    suggest_distance(cases[i].b, cases[i].a), cases[i].d);
	}
}
END_TEST

START_TEST(test_distance_long)
{
	char a[SUGGEST_MAX_LEN + 2], b[SUGGEST_MAX_LEN + 1];

	memset(a, 'x', SUGGEST_MAX_LEN + 1);
	a[SUGGEST_MAX_LEN + 1] = '\0';
	memset(b, 'x', SUGGEST_MAX_LEN);
	b[SUGGEST_MAX_LEN] = '\0';
	/* The longest word compared works; one more is never close. */
	ck_assert_uint_eq(suggest_distance(b, b), 0);
	ck_assert_uint_eq(suggest_distance(b, "x"), SUGGEST_MAX_LEN - 1);
	ck_assert_uint_eq(suggest_distance(a, a), SUGGEST_MAX_LEN + 1);
	ck_assert_uint_eq(suggest_distance(a, "x"), SUGGEST_MAX_LEN + 1);
	ck_assert_int_eq(suggest_closest(a, keys, NKEYS), -1);
}
END_TEST

START_TEST(test_closest_typos)
{
	ck_assert_str_eq(closest("machineid"), "machine_id");
	ck_assert_str_eq(closest("machine"), "machine_id");
	ck_assert_str_eq(closest("Machine_ID"), "machine_id");
	ck_assert_str_eq(closest("zone"), "zone_id");
	ck_assert_str_eq(closest("worker"), "workers");
	ck_assert_str_eq(closest("pidfile"), "pid_file");
	ck_assert_str_eq(closest("log_levle"), "log_level");
	ck_assert_str_eq(closest("max_ahead"), "max_ahead_s");
	ck_assert_str_eq(
	    closest("checkpoint_interval"), "checkpoint_interval_ms");
	ck_assert_str_eq(closest("metric_listen"), "metrics_listen");
	ck_assert_str_eq(closest("peer"), "peers");
}
END_TEST

START_TEST(test_closest_none)
{
	/* Nothing like any key, a key itself, and an empty list. */
	ck_assert_ptr_null(closest("colour"));
	ck_assert_ptr_null(closest("x"));
	ck_assert_ptr_null(closest("timezone"));
	ck_assert_ptr_null(closest("machine_id"));
	ck_assert_int_eq(suggest_closest("port", keys, 0), -1);
}
END_TEST

START_TEST(test_closest_first_of_equals)
{
	static const char *const two[] = {"abcd", "abce", "abcf"};

	/* "abcx" is one away from all three: the first one wins. */
	ck_assert_int_eq(suggest_closest("abcx", two, 3), 0);
	ck_assert_int_eq(suggest_closest("abcx", two + 1, 2), 0);
	/* A closer one later in the list wins over an earlier one. */
	ck_assert_int_eq(suggest_closest("abcf", two, 2), 0);
	ck_assert_int_eq(suggest_closest("abef", two, 3), 2);
}
END_TEST

Suite *
make_suggest_suite(void)
{
	Suite *s = suite_create("suggest");
	TCase *tc = tcase_create("distance");

	tcase_add_test(tc, test_distance_known);
	tcase_add_test(tc, test_distance_long);
	tcase_add_test(tc, test_closest_typos);
	tcase_add_test(tc, test_closest_none);
	tcase_add_test(tc, test_closest_first_of_equals);
	suite_add_tcase(s, tc);
	return s;
}
