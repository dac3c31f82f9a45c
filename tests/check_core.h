/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_core.h - the Check suites of the pure core, one per module.
 */
#ifndef GENID_TESTS_CHECK_CORE_H
#define GENID_TESTS_CHECK_CORE_H

#include <check.h>
#include <stdint.h>

/* Address strings: host, port, IPv6 brackets (src/core/addr.c). */
Suite *make_addr_suite(void);

/* base64 as etcd's JSON gateway carries keys (src/core/base64.c). */
Suite *make_base64_suite(void);

/* Which machine id a node claims from etcd (src/core/claim.c). */
Suite *make_claim_suite(void);

/* Address prefixes of the allow list (src/core/cidr.c). */
Suite *make_cidr_suite(void);

/* Where a value sits in a JSON text (src/core/jsonpos.c). */
Suite *make_jsonpos_suite(void);

/* Encode, decode, check and parse of the 64-bit ID (src/core/id.c). */
Suite *make_id_suite(void);

/* The verdict on a peer's identity (src/core/peer.c). */
Suite *make_peer_suite(void);

/* The tables of the bucket and worker counters (src/core/counters.c). */
Suite *make_counters_suite(void);

/* The per-bucket generator and the clock rules (src/core/bucket.c). */
Suite *make_bucket_suite(void);

/* The decaying allowance after a clock step back (src/core/slew.c). */
Suite *make_slew_suite(void);

/* Layout, validation and indexing of the state region (src/core/state.c). */
Suite *make_state_suite(void);

/* Whether a node can issue now (src/core/serving.c). */
Suite *make_serving_suite(void);

/* One log line of a kind per interval (src/core/ratelimit.c). */
Suite *make_ratelimit_suite(void);

/* Edit distance and the closest name, for hints (src/core/suggest.c). */
Suite *make_suggest_suite(void);

/* Unix time to and from ISO 8601 UTC (src/core/timefmt.c). */
Suite *make_timefmt_suite(void);

/* xorshift64: the next number of a fixed, portable sequence, so that a
 * failure of a randomized test reproduces anywhere.  *s must not be 0. */
static inline uint64_t
check_random(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

#endif
