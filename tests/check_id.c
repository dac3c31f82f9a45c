/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_id.c - the 64-bit ID: layout, encode, decode, check, parse.
 *
 * Expected IDs are written as hex literals or built from shifts spelled out
 * here, never from the ID_*_SHIFT macros under test, so that a wrong shift
 * in id.h fails a test instead of moving both sides at once.
 */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "check_core.h"
#include "id.h"

/* The example of the documentation and of the Python client. */
#define EXAMPLE_ID UINT64_C(7709466296767811730)
#define EXAMPLE_TS UINT32_C(1795000000)

static uint64_t expect_id(uint32_t ts, unsigned zone, unsigned dc,
    unsigned machine, unsigned bucket, unsigned counter);
static void assert_fields(const struct id_fields *f, uint32_t ts, unsigned zone,
    unsigned dc, unsigned machine, unsigned bucket, unsigned counter);
static void assert_round_trip(const struct id_fields *f);
/* Fails to parse s; the reason starts with msg unless it is NULL. */
static void assert_parse_fails(const char *s, const char *msg);

/* genid(7), bit by bit: 63..32 ts, 31..27 zone, 26..24 dc, 23..21 machine,
 * 20..16 bucket, 15..0 counter. */
static uint64_t
expect_id(uint32_t ts, unsigned zone, unsigned dc, unsigned machine,
    unsigned bucket, unsigned counter)
{
	return (uint64_t)ts * UINT64_C(4294967296) +
	    (uint64_t)zone * 134217728u + (uint64_t)dc * 16777216u +
	    (uint64_t)machine * 2097152u + (uint64_t)bucket * 65536u + counter;
}

static void
assert_fields(const struct id_fields *f, uint32_t ts, unsigned zone,
    unsigned dc, unsigned machine, unsigned bucket, unsigned counter)
{
	ck_assert_uint_eq(f->ts, ts);
	ck_assert_uint_eq(f->zone, zone);
	ck_assert_uint_eq(f->dc, dc);
	ck_assert_uint_eq(f->machine, machine);
	ck_assert_uint_eq(f->bucket, bucket);
	ck_assert_uint_eq(f->counter, counter);
}

static void
assert_round_trip(const struct id_fields *f)
{
	struct id_fields back;
	char err[128];
	uint64_t id;

	ck_assert_int_eq(id_check(f, err, sizeof(err)), 0);
	id = id_encode(f);
	ck_assert_uint_eq(id,
	    expect_id(
		f->ts, f->zone, f->dc, f->machine, f->bucket, f->counter));
	memset(&back, 0xa5, sizeof(back));
	id_decode(id, &back);
	assert_fields(
	    &back, f->ts, f->zone, f->dc, f->machine, f->bucket, f->counter);
}

static void
assert_parse_fails(const char *s, const char *msg)
{
	uint64_t id = UINT64_C(0xdeadbeef);
	char err[128] = "";

	ck_assert_msg(id_parse(s, &id, err, sizeof(err)) == -1,
	    "id_parse(\"%s\") accepted it as %llu", s, (unsigned long long)id);
	ck_assert_msg(id == UINT64_C(0xdeadbeef),
	    "id_parse(\"%s\") wrote the output on failure", s);
	ck_assert_msg(err[0] != '\0', "id_parse(\"%s\") gave no reason", s);
	if (msg != NULL)
		ck_assert_msg(strncmp(err, msg, strlen(msg)) == 0,
		    "id_parse(\"%s\"): \"%s\" does not start with \"%s\"", s,
		    err, msg);
}

START_TEST(test_id_known_example)
{
	struct id_fields f;
	char err[128];

	/* Independent of both the code and the helper above. */
	ck_assert_uint_eq(EXAMPLE_ID, UINT64_C(0x6afd86c01ab11092));
	ck_assert_uint_eq(EXAMPLE_ID,
	    (uint64_t)EXAMPLE_TS << 32 | 3u << 27 | 2u << 24 | 5u << 21 |
		17u << 16 | 4242u);

	id_decode(EXAMPLE_ID, &f);
	assert_fields(&f, EXAMPLE_TS, 3, 2, 5, 17, 4242);
	ck_assert_int_eq(id_check(&f, err, sizeof(err)), 0);
	ck_assert_uint_eq(id_encode(&f), EXAMPLE_ID);
	ck_assert_int_eq(id_unix_time(EXAMPLE_ID, 0), 1795000000);
	ck_assert_uint_eq(EXAMPLE_ID >> 32, EXAMPLE_TS);
}
END_TEST

START_TEST(test_id_field_positions)
{
	static const struct {
		struct id_fields f;
		uint64_t id;
	} cases[] = {
	    {{0, 0, 0, 0, 0, 0}, UINT64_C(0)},
	    {{UINT32_MAX, 0, 0, 0, 0, 0}, UINT64_C(0xffffffff00000000)},
	    {{0, 31, 0, 0, 0, 0}, UINT64_C(0x00000000f8000000)},
	    {{0, 0, 7, 0, 0, 0}, UINT64_C(0x0000000007000000)},
	    {{0, 0, 0, 7, 0, 0}, UINT64_C(0x0000000000e00000)},
	    {{0, 0, 0, 0, 31, 0}, UINT64_C(0x00000000001f0000)},
	    {{0, 0, 0, 0, 0, 65535}, UINT64_C(0x000000000000ffff)},
	    {{1, 0, 0, 0, 0, 0}, UINT64_C(0x0000000100000000)},
	    {{0, 1, 0, 0, 0, 0}, UINT64_C(0x0000000008000000)},
	    {{0, 0, 1, 0, 0, 0}, UINT64_C(0x0000000001000000)},
	    {{0, 0, 0, 1, 0, 0}, UINT64_C(0x0000000000200000)},
	    {{0, 0, 0, 0, 1, 0}, UINT64_C(0x0000000000010000)},
	    {{0, 0, 0, 0, 0, 1}, UINT64_C(0x0000000000000001)},
	    {{UINT32_MAX, 31, 7, 7, 31, 65535}, UINT64_MAX},
	};
	struct id_fields back;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_msg(id_encode(&cases[i].f) == cases[i].id,
		    "case %zu: encoded 0x%016llx, want 0x%016llx", i,
		    (unsigned long long)id_encode(&cases[i].f),
		    (unsigned long long)cases[i].id);
		id_decode(cases[i].id, &back);
		assert_fields(&back, cases[i].f.ts, cases[i].f.zone,
		    cases[i].f.dc, cases[i].f.machine, cases[i].f.bucket,
		    cases[i].f.counter);
	}
}
END_TEST

/* Every field at 0 and at its maximum, with the others at 0, at their
 * maximum and at a middle value: no field leaks into a neighbour.  Index
 * 0 is ts, then zone, dc, machine, bucket, counter. */
START_TEST(test_id_field_boundaries)
{
	static const uint32_t max[6] = {UINT32_MAX, 31, 7, 7, 31, 65535};
	static const uint32_t others[3][6] = {
	    {0, 0, 0, 0, 0, 0},
	    {UINT32_MAX, 31, 7, 7, 31, 65535},
	    {1795000000, 19, 5, 2, 13, 40000},
	};
	unsigned field, edge, rest;

	for (field = 0; field < 6; field++) {
		for (edge = 0; edge < 2; edge++) {
			for (rest = 0; rest < 3; rest++) {
				uint32_t v[6];
				struct id_fields f;

				memcpy(v, others[rest], sizeof(v));
				v[field] = edge == 0 ? 0 : max[field];
				f.ts = v[0];
				f.zone = v[1];
				f.dc = v[2];
				f.machine = v[3];
				f.bucket = v[4];
				f.counter = v[5];
				assert_round_trip(&f);
			}
		}
	}
}
END_TEST

START_TEST(test_id_timestamps)
{
	static const uint32_t ts[] = {
	    0, UINT32_C(2147483647), UINT32_C(2147483648), UINT32_MAX};
	struct id_fields f = {0, 31, 7, 7, 31, 65535};
	size_t i;

	for (i = 0; i < sizeof(ts) / sizeof(ts[0]); i++) {
		uint64_t id;

		f.ts = ts[i];
		assert_round_trip(&f);
		id = id_encode(&f);
		ck_assert_uint_eq(id >> 32, ts[i]);
		ck_assert_uint_eq(id & 0xffffffffu, 0xffffffffu);
		ck_assert_int_eq(id_unix_time(id, 0), (int64_t)ts[i]);
	}
	/* The last second whose IDs fit a signed column, and the next. */
	ck_assert_int_eq(ID_TS_SIGNED_LIMIT, INT64_C(2147483648));
	f.ts = (uint32_t)(ID_TS_SIGNED_LIMIT - 1);
	ck_assert_uint_eq(id_encode(&f), (uint64_t)INT64_MAX);
	f.ts = (uint32_t)ID_TS_SIGNED_LIMIT;
	f.zone = f.dc = f.machine = f.bucket = f.counter = 0;
	ck_assert_uint_eq(id_encode(&f), UINT64_C(1) << 63);
}
END_TEST

START_TEST(test_id_ts_of)
{
	const int64_t epoch = 1700000000;

	ck_assert_int_eq(id_ts_of(0, 0), 0);
	ck_assert_int_eq(id_ts_of(1795000000, 0), 1795000000);
	ck_assert_int_eq(id_ts_of(epoch, epoch), 0);
	ck_assert_int_eq(id_ts_of(epoch + 1, epoch), 1);
	/* Before the epoch there is no timestamp. */
	ck_assert_int_eq(id_ts_of(epoch - 1, epoch), -1);
	ck_assert_int_eq(id_ts_of(-1, 0), -1);
	ck_assert_int_eq(id_ts_of(INT64_MIN, 0), -1);
	/* The last second of the field, and every later one, saturate. */
	ck_assert_int_eq(id_ts_of(INT64_C(4294967295), 0), INT64_C(4294967295));
	ck_assert_int_eq(id_ts_of(INT64_C(4294967296), 0), INT64_C(4294967295));
	ck_assert_int_eq(
	    id_ts_of(epoch + INT64_C(4294967296), epoch), INT64_C(4294967295));
	ck_assert_int_eq(id_ts_of(INT64_MAX, 0), INT64_C(4294967295));
	/* Differences beyond int64_t do not wrap around. */
	ck_assert_int_eq(id_ts_of(INT64_MAX, INT64_MIN), INT64_C(4294967295));
	ck_assert_int_eq(id_ts_of(INT64_MIN, INT64_MAX), -1);
	/* It is the inverse of id_unix_time within the field. */
	ck_assert_int_eq(id_ts_of(id_unix_time(EXAMPLE_ID, epoch), epoch),
	    (int64_t)(EXAMPLE_ID >> 32));
}
END_TEST

/* Every 64-bit value is a valid ID: decode, check and encode give it back.
 * Plain comparisons: a ck_assert per value would cost a write each. */
START_TEST(test_id_decode_any)
{
	uint64_t seed = UINT64_C(0x9e3779b97f4a7c15);
	char err[128];
	int i;

	for (i = 0; i < 100000; i++) {
		uint64_t id = check_random(&seed);
		struct id_fields f;

		id_decode(id, &f);
		if (id_check(&f, err, sizeof(err)) != 0 ||
		    id_encode(&f) != id ||
		    expect_id(f.ts, f.zone, f.dc, f.machine, f.bucket,
			f.counter) != id)
			ck_abort_msg("0x%016llx does not round-trip",
			    (unsigned long long)id);
	}
}
END_TEST

START_TEST(test_id_base)
{
	struct id_fields f = {EXAMPLE_TS, 3, 2, 5, 17, 4242};
	unsigned b;

	ck_assert_uint_eq(id_base(0, 0, 0, 0), 0);
	ck_assert_uint_eq(id_base(31, 7, 7, 31), UINT64_C(0xffff0000));
	ck_assert_uint_eq(id_base(31, 0, 0, 0), UINT64_C(0xf8000000));
	ck_assert_uint_eq(id_base(0, 7, 0, 0), UINT64_C(0x07000000));
	ck_assert_uint_eq(id_base(0, 0, 7, 0), UINT64_C(0x00e00000));
	ck_assert_uint_eq(id_base(0, 0, 0, 31), UINT64_C(0x001f0000));
	ck_assert_uint_eq(id_base(3, 2, 5, 17), UINT64_C(0x1ab10000));
	ck_assert_uint_eq(
	    id_base(3, 2, 5, 17) | (uint64_t)EXAMPLE_TS << 32 | 4242u,
	    EXAMPLE_ID);
	ck_assert_uint_eq(
	    id_base(3, 2, 5, 17) | (uint64_t)EXAMPLE_TS << 32 | 4242u,
	    id_encode(&f));
	/* The bucket is part of the base: 32 buckets, 32 distinct bases. */
	for (b = 0; b < 32; b++)
		ck_assert_uint_eq(id_base(3, 2, 5, b) ^ id_base(3, 2, 5, 0),
		    (uint64_t)b << 16);
}
END_TEST

START_TEST(test_id_check)
{
	static const struct {
		struct id_fields f;
		const char *msg;
	} bad[] = {
	    {{0, 32, 0, 0, 0, 0}, "zone 32 is out of range 0..31"},
	    {{0, UINT_MAX, 0, 0, 0, 0},
		"zone 4294967295 is out of range 0..31"},
	    {{0, 0, 8, 0, 0, 0}, "dc 8 is out of range 0..7"},
	    {{0, 0, 0, 8, 0, 0}, "machine 8 is out of range 0..7"},
	    {{0, 0, 0, 0, 32, 0}, "bucket 32 is out of range 0..31"},
	    {{0, 0, 0, 0, 0, 65536}, "counter 65536 is out of range 0..65535"},
	    {{0, 0, 0, 0, 0, UINT_MAX},
		"counter 4294967295 is out of range 0..65535"},
	};
	struct id_fields ok = {UINT32_MAX, 31, 7, 7, 31, 65535};
	char err[128];
	char small[8];
	size_t i;

	ck_assert_int_eq(id_check(&ok, err, sizeof(err)), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_int_eq(id_check(&bad[i].f, err, sizeof(err)), -1);
		ck_assert_str_eq(err, bad[i].msg);
	}
	/* A short buffer gets a truncated, terminated message. */
	memset(small, 'x', sizeof(small));
	ck_assert_int_eq(id_check(&bad[0].f, small, sizeof(small)), -1);
	ck_assert_str_eq(small, "zone 32");
}
END_TEST

START_TEST(test_id_parse_decimal)
{
	static const struct {
		const char *s;
		uint64_t id;
	} cases[] = {
	    {"0", 0},
	    {"1", 1},
	    {"4242", 4242},
	    {"000123", 123}, /* decimal, not octal */
	    {"7709466296767811730", EXAMPLE_ID},
	    {"9223372036854775807", (uint64_t)INT64_MAX},
	    {"9223372036854775808", UINT64_C(1) << 63},
	    {"18446744073709551615", UINT64_MAX},
	    /* Lines read from stdin keep their blanks and newline. */
	    {" 42", 42},
	    {"42\n", 42},
	    {"\t7709466296767811730 \r\n", EXAMPLE_ID},
	};
	char err[128];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t id = UINT64_C(0xdeadbeef);

		ck_assert_msg(id_parse(cases[i].s, &id, err, sizeof(err)) == 0,
		    "id_parse(\"%s\"): %s", cases[i].s, err);
		ck_assert_uint_eq(id, cases[i].id);
	}
}
END_TEST

START_TEST(test_id_parse_hex)
{
	static const struct {
		const char *s;
		uint64_t id;
	} cases[] = {
	    {"0x0", 0},
	    {"0x1", 1},
	    {"0X1", 1},
	    {"0x6afd86c01ab11092", EXAMPLE_ID},
	    {"0x6AFD86C01AB11092", EXAMPLE_ID},
	    {"0X6aFd86C01Ab11092", EXAMPLE_ID},
	    {"0x00006afd86c01ab11092", EXAMPLE_ID},
	    {"0xffffffffffffffff", UINT64_MAX},
	    {"0xFFFFFFFFFFFFFFFF", UINT64_MAX},
	    {"0x8000000000000000", UINT64_C(1) << 63},
	    {"0x10", 16},
	    {" 0x10\n", 16},
	};
	char err[128];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t id = UINT64_C(0xdeadbeef);

		ck_assert_msg(id_parse(cases[i].s, &id, err, sizeof(err)) == 0,
		    "id_parse(\"%s\"): %s", cases[i].s, err);
		ck_assert_uint_eq(id, cases[i].id);
	}
}
END_TEST

START_TEST(test_id_parse_overflow)
{
	assert_parse_fails(
	    "18446744073709551616", "larger than 18446744073709551615");
	assert_parse_fails(
	    "18446744073709551617", "larger than 18446744073709551615");
	assert_parse_fails("99999999999999999999999999999999",
	    "larger than 18446744073709551615");
	assert_parse_fails(
	    "0x10000000000000000", "larger than 18446744073709551615");
	assert_parse_fails(
	    "0xffffffffffffffff0", "larger than 18446744073709551615");
}
END_TEST

START_TEST(test_id_parse_bad)
{
	/* Empty, signs, garbage, trailing junk, a prefix without digits. */
	assert_parse_fails("", "not a decimal number");
	assert_parse_fails("   ", "not a decimal number");
	assert_parse_fails("-1", "not a decimal number");
	assert_parse_fails("-0", "not a decimal number");
	assert_parse_fails("+1", "not a decimal number");
	assert_parse_fails("abc", "not a decimal number");
	assert_parse_fails("x10", "not a decimal number");
	assert_parse_fails("0x", "not a hexadecimal number");
	assert_parse_fails("0X", "not a hexadecimal number");
	assert_parse_fails("0xg", "not a hexadecimal number");
	assert_parse_fails("0x-1", "not a hexadecimal number");
	assert_parse_fails("0x+1", "not a hexadecimal number");
	assert_parse_fails("0x 10", "not a hexadecimal number");
	assert_parse_fails("12abc", "unexpected character 'a'");
	assert_parse_fails("12 3", "unexpected character '3'");
	assert_parse_fails("1.5", "unexpected character '.'");
	assert_parse_fails("1e3", "unexpected character 'e'");
	assert_parse_fails("0x12g", "unexpected character 'g'");
	assert_parse_fails("0b101", "unexpected character 'b'");
	assert_parse_fails("0x1ab11092h", "unexpected character 'h'");
	assert_parse_fails("7709466296767811730,", "unexpected character ','");
	/* Junk after an overflowing number is still junk. */
	assert_parse_fails("18446744073709551616x", "unexpected character 'x'");
}
END_TEST

/*
 * "0x" is the prefix, once.  A second prefix is not a hexadecimal digit
 * and must be refused like any other garbage.
 */
START_TEST(test_id_parse_double_prefix)
{
	assert_parse_fails("0x0x10", "unexpected character 'x'");
	assert_parse_fails("0X0X6afd86c01ab11092", "unexpected character 'X'");
	assert_parse_fails("0x0X1", "unexpected character 'X'");
	assert_parse_fails("00x10", "unexpected character 'x'");
}
END_TEST

START_TEST(test_id_parse_uint_max)
{
	char err[128];
	uint64_t v = 99;

	ck_assert_int_eq(id_parse_uint("31", 31, &v, err, sizeof(err)), 0);
	ck_assert_uint_eq(v, 31);
	ck_assert_int_eq(id_parse_uint("0x1f", 31, &v, err, sizeof(err)), 0);
	ck_assert_uint_eq(v, 31);
	ck_assert_int_eq(id_parse_uint("0", 0, &v, err, sizeof(err)), 0);
	ck_assert_uint_eq(v, 0);
	v = 99;
	ck_assert_int_eq(id_parse_uint("32", 31, &v, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "larger than 31");
	ck_assert_uint_eq(v, 99);
	ck_assert_int_eq(id_parse_uint("0x20", 31, &v, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "larger than 31");
	ck_assert_int_eq(id_parse_uint("1", 0, &v, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "larger than 0");
	ck_assert_int_eq(
	    id_parse_uint("4294967296", UINT32_MAX, &v, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "larger than 4294967295");
}
END_TEST

START_TEST(test_id_unix_time)
{
	const int64_t epoch = 1700000000;
	struct id_fields f = {0, 3, 2, 5, 17, 4242};

	ck_assert_int_eq(id_unix_time(0, 0), 0);
	ck_assert_int_eq(id_unix_time(UINT64_MAX, 0), INT64_C(4294967295));
	ck_assert_int_eq(id_unix_time(UINT64_C(0xffffffff), 0), 0);
	ck_assert_int_eq(id_unix_time(EXAMPLE_ID, 0), 1795000000);

	/* A custom epoch moves the timestamp field, not the other bits. */
	f.ts = (uint32_t)(1795000000 - epoch);
	ck_assert_int_eq(id_unix_time(id_encode(&f), epoch), 1795000000);
	ck_assert_int_eq(id_unix_time(0, epoch), epoch);
	ck_assert_int_eq(
	    id_unix_time(UINT64_MAX, epoch), epoch + INT64_C(4294967295));
	ck_assert_int_eq(id_unix_time(EXAMPLE_ID, epoch), epoch + 1795000000);
}
END_TEST

Suite *
make_id_suite(void)
{
	Suite *s = suite_create("id");
	TCase *tc;

	tc = tcase_create("layout");
	tcase_add_test(tc, test_id_known_example);
	tcase_add_test(tc, test_id_field_positions);
	tcase_add_test(tc, test_id_field_boundaries);
	tcase_add_test(tc, test_id_timestamps);
	tcase_add_test(tc, test_id_decode_any);
	tcase_add_test(tc, test_id_base);
	tcase_add_test(tc, test_id_check);
	tcase_add_test(tc, test_id_unix_time);
	tcase_add_test(tc, test_id_ts_of);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse");
	tcase_add_test(tc, test_id_parse_decimal);
	tcase_add_test(tc, test_id_parse_hex);
	tcase_add_test(tc, test_id_parse_overflow);
	tcase_add_test(tc, test_id_parse_bad);
	tcase_add_test(tc, test_id_parse_double_prefix);
	tcase_add_test(tc, test_id_parse_uint_max);
	suite_add_tcase(s, tc);
	return s;
}
