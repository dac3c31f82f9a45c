/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_base64.c - base64 as etcd's JSON gateway carries keys and values.
 */
#include <check.h>
#include <string.h>

#include "base64.h"
#include "check_core.h"

/* RFC 4648, section 10. */
static const char *const vectors[][2] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
    {"/genid/machines/0/0/7", "L2dlbmlkL21hY2hpbmVzLzAvMC83"},
};

START_TEST(test_vectors)
{
	const char *plain = vectors[_i][0], *coded = vectors[_i][1];
	char out[64];
	long n;

	n = base64_encode(plain, strlen(plain), out, sizeof(out));
	ck_assert_int_eq(n, (long)strlen(coded));
	ck_assert_str_eq(out, coded);
	n = base64_decode(coded, out, sizeof(out));
	ck_assert_int_eq(n, (long)strlen(plain));
	ck_assert_mem_eq(out, plain, (size_t)n);
}
END_TEST

START_TEST(test_round_trip_random)
{
	uint64_t seed = 0x9e3779b97f4a7c15u;
	unsigned char in[97], back[97];
	char coded[BASE64_LEN(sizeof(in))];
	size_t n, i;

	for (n = 0; n <= sizeof(in); n++) {
		for (i = 0; i < n; i++)
			in[i] = (unsigned char)check_random(&seed);
		ck_assert_int_eq(base64_encode(in, n, coded, sizeof(coded)),
		    (long)(BASE64_LEN(n) - 1));
		ck_assert_int_eq(
		    base64_decode(coded, back, sizeof(back)), (long)n);
		ck_assert_mem_eq(back, in, n);
	}
}
END_TEST

START_TEST(test_room)
{
	char out[8];

	/* "foob" needs 8 + 1 bytes to encode, 4 to decode. */
	ck_assert_int_eq(base64_encode("foob", 4, out, 8), -1);
	ck_assert_int_eq(base64_encode("foo", 3, out, 5), 4);
	ck_assert_int_eq(base64_decode("Zm9vYg==", out, 3), -1);
	ck_assert_int_eq(base64_decode("Zm9vYg==", out, 4), 4);
}
END_TEST

START_TEST(test_bad_input)
{
	static const char *const bad[] = {
	    "Zg=",
	    "Zg",
	    "Z===",
	    "=Zg=",
	    "Zm9v!A==",
	    "Zg==Zg==",
	    "Zm9\n",
	};
	char out[16];
	unsigned i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(base64_decode(bad[i], out, sizeof(out)) == -1,
		    "\"%s\" decoded", bad[i]);
}
END_TEST

Suite *
make_base64_suite(void)
{
	Suite *s = suite_create("base64");
	TCase *tc = tcase_create("codec");

	tcase_add_loop_test(
	    tc, test_vectors, 0, sizeof(vectors) / sizeof(vectors[0]));
	tcase_add_test(tc, test_round_trip_random);
	tcase_add_test(tc, test_room);
	tcase_add_test(tc, test_bad_input);
	suite_add_tcase(s, tc);
	return s;
}
