/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_timefmt.c - Unix time to and from ISO 8601 UTC; spans of time.
 *
 * Expected values come from outside the code under test: literals checked
 * against another calendar implementation, a day-by-day calendar walk
 * written here, and the C library's gmtime_r.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "check_core.h"
#include "timefmt.h"

/* Years 0000 and 9999: the span the four-digit ISO form can hold. */
#define FIRST_SECOND INT64_C(-62167219200)
#define LAST_SECOND INT64_C(253402300799)

static void assert_iso(int64_t t, const char *want);
static void assert_parse(const char *s, int64_t want);
static void assert_parse_fails(const char *s, const char *msg);
static int leap(int64_t y);

static void
assert_iso(int64_t t, const char *want)
{
	char buf[TIMEFMT_LEN];

	memset(buf, 'x', sizeof(buf));
	ck_assert_ptr_eq(timefmt_iso(t, buf, sizeof(buf)), buf);
	ck_assert_msg(strcmp(buf, want) == 0,
	    "timefmt_iso(%lld) = \"%s\", want \"%s\"", (long long)t, buf, want);
}

/* Plain comparisons: the calendar tests call this a million times, and a
 * ck_assert costs Check a write each. */
static void
assert_parse(const char *s, int64_t want)
{
	char err[256] = "";
	int64_t t = INT64_C(-12345);

	if (timefmt_parse(s, &t, err, sizeof(err)) != 0)
		ck_abort_msg("timefmt_parse(\"%s\"): %s", s, err);
	if (t != want)
		ck_abort_msg("timefmt_parse(\"%s\") = %lld, want %lld", s,
		    (long long)t, (long long)want);
}

static void
assert_parse_fails(const char *s, const char *msg)
{
	char err[256] = "";
	int64_t t = INT64_C(-12345);

	ck_assert_msg(timefmt_parse(s, &t, err, sizeof(err)) == -1,
	    "timefmt_parse(\"%s\") accepted it as %lld", s, (long long)t);
	ck_assert_msg(t == INT64_C(-12345),
	    "timefmt_parse(\"%s\") wrote the output on failure", s);
	ck_assert_msg(
	    err[0] != '\0', "timefmt_parse(\"%s\") gave no reason", s);
	if (msg != NULL)
		ck_assert_msg(strstr(err, msg) != NULL,
		    "timefmt_parse(\"%s\"): \"%s\" lacks \"%s\"", s, err, msg);
}

static int
leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

START_TEST(test_timefmt_known)
{
	assert_iso(0, "1970-01-01T00:00:00Z");
	assert_iso(1, "1970-01-01T00:00:01Z");
	assert_iso(86399, "1970-01-01T23:59:59Z");
	assert_iso(86400, "1970-01-02T00:00:00Z");
	assert_iso(INT64_C(1795000000), "2026-11-18T11:06:40Z");
	assert_iso(INT64_C(2147483647), "2038-01-19T03:14:07Z");
	assert_iso(INT64_C(2147483648), "2038-01-19T03:14:08Z");
	assert_iso(INT64_C(4294967295), "2106-02-07T06:28:15Z");
	assert_iso(INT64_C(1709208000), "2024-02-29T12:00:00Z");
	assert_iso(LAST_SECOND, "9999-12-31T23:59:59Z");
}
END_TEST

START_TEST(test_timefmt_negative)
{
	assert_iso(-1, "1969-12-31T23:59:59Z");
	assert_iso(-86399, "1969-12-31T00:00:01Z");
	assert_iso(-86400, "1969-12-31T00:00:00Z");
	assert_iso(-86401, "1969-12-30T23:59:59Z");
	assert_iso(INT64_C(-2208988800), "1900-01-01T00:00:00Z");
	assert_iso(INT64_C(-11670998400), "1600-02-29T00:00:00Z");
	assert_iso(INT64_C(-62135596800), "0001-01-01T00:00:00Z");
	assert_iso(FIRST_SECOND, "0000-01-01T00:00:00Z");
}
END_TEST

START_TEST(test_timefmt_leap_days)
{
	assert_iso(INT64_C(951782400), "2000-02-29T00:00:00Z");
	assert_iso(INT64_C(951782400) - 1, "2000-02-28T23:59:59Z");
	assert_iso(INT64_C(951782400) + 86400, "2000-03-01T00:00:00Z");
	/* 2100 is not a leap year: February 28 is followed by March 1. */
	assert_iso(INT64_C(4107542399), "2100-02-28T23:59:59Z");
	assert_iso(INT64_C(4107542400), "2100-03-01T00:00:00Z");
	assert_parse("2000-02-29", INT64_C(951782400));
	assert_parse("2100-02-28T23:59:59Z", INT64_C(4107542399));
	assert_parse("2100-03-01", INT64_C(4107542400));
	assert_parse_fails("2100-02-29", "no such date 2100-02-29");
	assert_parse_fails("1900-02-29", "no such date 1900-02-29");
	assert_parse_fails("2026-02-29", "no such date 2026-02-29");
	assert_parse("2024-02-29T12:00:00Z", INT64_C(1709208000));
	assert_parse("1600-02-29", INT64_C(-11670998400));
}
END_TEST

START_TEST(test_timefmt_short_buffer)
{
	char buf[11];

	memset(buf, 'x', sizeof(buf));
	ck_assert_ptr_eq(
	    timefmt_iso(INT64_C(1795000000), buf, sizeof(buf)), buf);
	ck_assert_str_eq(buf, "2026-11-18");
}
END_TEST

START_TEST(test_timefmt_parse_forms)
{
	const int64_t t = INT64_C(1795000000), day = INT64_C(1794960000);

	assert_parse("1795000000", t);
	assert_parse("@1795000000", t);
	assert_parse("2026-11-18", day);
	assert_parse("2026-11-18T11:06:40Z", t);
	assert_parse("2026-11-18t11:06:40z", t);
	assert_parse("2026-11-18T11:06:40", t);
	assert_parse("2026-11-18 11:06:40", t);
	assert_parse("2026-11-18 11:06:40Z", t);
	assert_parse("2026-11-18T11:06:40+00:00", t);
	assert_parse("2026-11-18T11:06", t - 40);
	assert_parse("2026-11-18T11:06Z", t - 40);
	assert_parse("2026-11-18T11:06+00:00", t - 40);
	assert_parse("0", 0);
	assert_parse("@0", 0);
	assert_parse("1", 1);
	assert_parse("-1", -1);
	assert_parse("@-86400", -86400);
	assert_parse("4294967295", INT64_C(4294967295));
	assert_parse("1970-01-01T00:00:00Z", 0);
	assert_parse("1969-12-31T23:59:59Z", -1);
	assert_parse("2038-01-19T03:14:08Z", INT64_C(2147483648));
	assert_parse("2106-02-07T06:28:15Z", INT64_C(4294967295));
	assert_parse("2026-12-31T23:59:59Z", INT64_C(1798761599));
	assert_parse("0000-01-01", FIRST_SECOND);
	assert_parse("9999-12-31T23:59:59Z", LAST_SECOND);
	assert_parse("999999999999999999", INT64_C(999999999999999999));
}
END_TEST

START_TEST(test_timefmt_parse_bad)
{
	/* Dates and times that do not exist. */
	assert_parse_fails("2026-13-01", "no such date 2026-13-01");
	assert_parse_fails("2026-00-10", "no such date 2026-00-10");
	assert_parse_fails("2026-11-32", "no such date 2026-11-32");
	assert_parse_fails("2026-11-00", "no such date 2026-11-00");
	assert_parse_fails("2026-04-31", "no such date 2026-04-31");
	assert_parse_fails("2026-11-18T25:00:00Z", "no such time 25:00:00");
	assert_parse_fails("2026-11-18T24:00:00Z", "no such time 24:00:00");
	assert_parse_fails("2026-11-18T23:60:00Z", "no such time 23:60:00");
	assert_parse_fails("2026-11-18T23:59:60Z", "no such time 23:59:60");
	assert_parse_fails("2026-11-18T99:99", "no such time 99:99:00");

	/* Not a time at all. */
	assert_parse_fails("", "no digits");
	assert_parse_fails("@", "no digits");
	assert_parse_fails("-", "no digits");
	assert_parse_fails("@-", "no digits");
	assert_parse_fails("junk", NULL);
	assert_parse_fails("now", NULL);
	assert_parse_fails("1795000000x", NULL);
	assert_parse_fails("1795000000 ", NULL);
	assert_parse_fails(" 1795000000", NULL);
	assert_parse_fails("+1795000000", NULL);
	assert_parse_fails("17950 00000", NULL);
	assert_parse_fails("1.5", NULL);
	assert_parse_fails("--1", NULL);
	assert_parse_fails("99999999999999999999", "too large");
	assert_parse_fails("9223372036854775808", "too large");

	/* Near misses of the ISO forms. */
	assert_parse_fails("2026/11/18", NULL);
	assert_parse_fails("2026-1-18", NULL);
	assert_parse_fails("2026-11-1", NULL);
	assert_parse_fails("26-11-18", NULL);
	assert_parse_fails("2026-11-18T", NULL);
	assert_parse_fails("2026-11-18 ", NULL);
	assert_parse_fails("2026-11-18T11", NULL);
	assert_parse_fails("2026-11-18T11:", NULL);
	assert_parse_fails("2026-11-18T11:6:40", NULL);
	assert_parse_fails("2026-11-18T11:06:4", NULL);
	assert_parse_fails("2026-11-18T11:06:40.5Z", NULL);
	assert_parse_fails("2026-11-18T11:06:40ZZ", NULL);
	assert_parse_fails("2026-11-18T11:06:40Zjunk", NULL);
	assert_parse_fails("2026-11-18T11:06:40Z+00:00", NULL);
	assert_parse_fails("2026-11-18T11:06:40+01:00", NULL);
	assert_parse_fails("2026-11-18T11:06:40-00:00", NULL);
	assert_parse_fails("2026-11-18T11:06:40+00", NULL);
	assert_parse_fails("2026-11-18X11:06:40", NULL);
	assert_parse_fails("2026-1a-18", NULL);
	assert_parse_fails("20a6-11-18", NULL);
	assert_parse_fails("12026-11-18", NULL);
}
END_TEST

/* Every day from 1600 to 2400 against a calendar walked one day at a
 * time, with the Gregorian leap rule written out above. */
START_TEST(test_timefmt_every_day)
{
	static const unsigned mdays[] = {
	    31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int64_t y = 1600, t = INT64_C(-11676096000); /* 1600-01-01 */
	unsigned m = 1, d = 1;

	while (y < 2401) {
		char want[64], iso[TIMEFMT_LEN];
		unsigned len = mdays[m - 1] + (m == 2 && leap(y));

		snprintf(want, sizeof(want), "%04lld-%02u-%02uT00:00:00Z",
		    (long long)y, m, d);
		timefmt_iso(t, iso, sizeof(iso));
		if (strcmp(iso, want) != 0)
			ck_abort_msg("%lld: \"%s\", want \"%s\"", (long long)t,
			    iso, want);
		snprintf(want, sizeof(want), "%04lld-%02u-%02uT23:59:59Z",
		    (long long)y, m, d);
		timefmt_iso(t + 86399, iso, sizeof(iso));
		if (strcmp(iso, want) != 0)
			ck_abort_msg("%lld: \"%s\", want \"%s\"",
			    (long long)t + 86399, iso, want);
		assert_parse(want, t + 86399);
		if (++d > len) {
			d = 1;
			if (++m > 12) {
				m = 1;
				y++;
			}
		}
		t += 86400;
	}
}
END_TEST

/* Random seconds of years 0000..9999: the C library agrees, and the text
 * parses back to the same second. */
START_TEST(test_timefmt_round_trip)
{
	const uint64_t span = (uint64_t)(LAST_SECOND - FIRST_SECOND) + 1;
	uint64_t seed = UINT64_C(0x853c49e6748fea9b);
	int i;

	for (i = 0; i < 200000; i++) {
		uint64_t r = check_random(&seed);
		char iso[TIMEFMT_LEN], want[80];
		int64_t t;
		time_t tt;
		struct tm tm;

		/* Half of the cases are near the dates genid will really see,
		 * 1901 to 2174. */
		if (i % 2 == 0)
			t = (int64_t)(r % (UINT64_C(1) << 33)) -
			    (INT64_C(1) << 31);
		else
			t = FIRST_SECOND + (int64_t)(r % span);
		tt = (time_t)t;
		if (gmtime_r(&tt, &tm) == NULL)
			ck_abort_msg("gmtime_r(%lld) failed", (long long)t);
		snprintf(want, sizeof(want), "%04lld-%02d-%02dT%02d:%02d:%02dZ",
		    (long long)tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		    tm.tm_hour, tm.tm_min, tm.tm_sec);
		timefmt_iso(t, iso, sizeof(iso));
		if (strcmp(iso, want) != 0)
			ck_abort_msg("%lld: \"%s\", want \"%s\"", (long long)t,
			    iso, want);
		assert_parse(iso, t);
	}
}
END_TEST

/* Each unit's first and last span, as genidctl stats shows them. */
START_TEST(test_timefmt_span)
{
	static const struct {
		int64_t secs;
		const char *want;
	} cases[] = {
	    {0, "0s"},
	    {119, "119s"},
	    {120, "2m00s"},
	    {7199, "119m59s"},
	    {7200, "2h00m"},
	    {2 * 86400 - 1, "47h59m"},
	    {2 * 86400, "2d00h"},
	    {2 * 365 * 86400 - 1, "729d23h"},
	    {2 * 365 * 86400, "1 years"},
	    {INT64_C(4070908800), "129 years"},
	    {-5, "-5s"},
	    {-2192832, "-25d09h"},
	};
	char buf[32];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_ptr_eq(
		    timefmt_span(cases[i].secs, buf, sizeof(buf)), buf);
		ck_assert_msg(strcmp(buf, cases[i].want) == 0,
		    "timefmt_span(%lld) = \"%s\", want \"%s\"",
		    (long long)cases[i].secs, buf, cases[i].want);
	}
}
END_TEST

Suite *
make_timefmt_suite(void)
{
	Suite *s = suite_create("timefmt");
	TCase *tc;

	tc = tcase_create("format");
	tcase_add_test(tc, test_timefmt_known);
	tcase_add_test(tc, test_timefmt_negative);
	tcase_add_test(tc, test_timefmt_leap_days);
	tcase_add_test(tc, test_timefmt_short_buffer);
	tcase_add_test(tc, test_timefmt_span);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse");
	tcase_add_test(tc, test_timefmt_parse_forms);
	tcase_add_test(tc, test_timefmt_parse_bad);
	suite_add_tcase(s, tc);

	tc = tcase_create("calendar");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_timefmt_every_day);
	tcase_add_test(tc, test_timefmt_round_trip);
	suite_add_tcase(s, tc);
	return s;
}
