/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_core.c - runs every Check suite of the pure core.
 *
 * CK_FORK=no runs the tests in one process (for valgrind or a debugger);
 * CK_RUN_SUITE and CK_RUN_CASE select a part, as with any Check runner.
 */
#include <stdlib.h>

#include "check_core.h"

int
main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(make_id_suite());
	srunner_add_suite(sr, make_addr_suite());
	srunner_add_suite(sr, make_bucket_suite());
	srunner_add_suite(sr, make_counters_suite());
	srunner_add_suite(sr, make_peer_suite());
	srunner_add_suite(sr, make_slew_suite());
	srunner_add_suite(sr, make_state_suite());
	srunner_add_suite(sr, make_serving_suite());
	srunner_add_suite(sr, make_timefmt_suite());
	srunner_add_suite(sr, make_ratelimit_suite());
	srunner_add_suite(sr, make_cidr_suite());
	srunner_add_suite(sr, make_jsonpos_suite());
	srunner_add_suite(sr, make_suggest_suite());
	srunner_add_suite(sr, make_base64_suite());
	srunner_add_suite(sr, make_claim_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
