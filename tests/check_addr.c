/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_addr.c - address strings of the configuration and command line.
 */
#include <check.h>
#include <string.h>

#include "addr.h"
#include "check_core.h"

struct good {
	const char *in;
	const char *host;
	int has_port;
	unsigned port;
};

static const struct good goods[] = {
    {"127.0.0.1:3778", "127.0.0.1", 1, 3778},
    {"127.0.0.1", "127.0.0.1", 0, 0},
    {"localhost:0", "localhost", 1, 0},
    {":3778", "", 1, 3778},
    {"[::1]:65535", "::1", 1, 65535},
    {"[::1]", "::1", 0, 0},
    {"::1", "::1", 0, 0},
    {"fe80::1:2", "fe80::1:2", 0, 0},
    {"0x10:0x10", "0x10", 1, 16},
};

START_TEST(test_addr_good)
{
	const struct good *g = &goods[_i];
	char host[64], err[128];
	unsigned port = 12345;
	int has = -1;

	ck_assert_int_eq(addr_parse(g->in, host, sizeof(host), &port, &has, err,
			     sizeof(err)),
	    0);
	ck_assert_str_eq(host, g->host);
	ck_assert_int_eq(has, g->has_port);
	ck_assert_uint_eq(port, g->has_port ? g->port : 12345);
}
END_TEST

struct bad {
	const char *in;
	const char *reason;
};

static const struct bad bads[] = {
    {"127.0.0.1:65536", "port \"65536\": larger than 65535"},
    {"127.0.0.1:", "port \"\": not a decimal number"},
    {"127.0.0.1:http", "port \"http\": not a decimal number"},
    {"127.0.0.1:-1", "port \"-1\": not a decimal number"},
    {"[::1", "want [IPv6] or [IPv6]:port"},
    {"[::1]x", "want [IPv6] or [IPv6]:port"},
    {"a-very-long-host-name-that-does-not-fit:1", "host name too long"},
};

START_TEST(test_addr_bad)
{
	const struct bad *b = &bads[_i];
	char host[16], err[128];
	unsigned port = 0;
	int has = 0;

	ck_assert_int_eq(addr_parse(b->in, host, sizeof(host), &port, &has, err,
			     sizeof(err)),
	    -1);
	ck_assert_str_eq(err, b->reason);
}
END_TEST

struct formatted {
	const char *host;
	unsigned port;
	const char *out;
};

static const struct formatted formats[] = {
    {"127.0.0.1", 3778, "127.0.0.1:3778"},
    {"localhost", 0, "localhost:0"},
    {"", 3778, ":3778"},
    {"::1", 65535, "[::1]:65535"},
    {"fe80::1:2", 1, "[fe80::1:2]:1"},
};

START_TEST(test_addr_format)
{
	const struct formatted *f = &formats[_i];
	char buf[64], host[64], err[128];
	unsigned port = 0;
	int has = 0;

	ck_assert_ptr_eq(addr_format(f->host, f->port, buf, sizeof(buf)), buf);
	ck_assert_str_eq(buf, f->out);
	/* What it writes reads back as the same host and port. */
	ck_assert_int_eq(
	    addr_parse(buf, host, sizeof(host), &port, &has, err, sizeof(err)),
	    0);
	ck_assert_str_eq(host, f->host);
	ck_assert_int_eq(has, 1);
	ck_assert_uint_eq(port, f->port);
}
END_TEST

START_TEST(test_addr_format_cut)
{
	char buf[8];

	memset(buf, 'x', sizeof(buf));
	addr_format("::1", 3778, buf, 6);
	ck_assert_str_eq(buf, "[::1]");
	ck_assert_int_eq(buf[6], 'x');
}
END_TEST

START_TEST(test_addr_loopback)
{
	ck_assert_int_eq(addr_is_loopback("127.0.0.1"), 1);
	ck_assert_int_eq(addr_is_loopback("127.255.0.9"), 1);
	ck_assert_int_eq(addr_is_loopback("::1"), 1);
	ck_assert_int_eq(addr_is_loopback("::ffff:127.0.0.1"), 1);
	ck_assert_int_eq(addr_is_loopback("LocalHost"), 1);
	ck_assert_int_eq(addr_is_loopback(""), 0);
	ck_assert_int_eq(addr_is_loopback("128.0.0.1"), 0);
	ck_assert_int_eq(addr_is_loopback("::ffff:10.0.0.1"), 0);
	ck_assert_int_eq(addr_is_loopback("localhostx"), 0);
	ck_assert_int_eq(addr_is_loopback("db.example"), 0);
}
END_TEST

Suite *
make_addr_suite(void)
{
	Suite *s = suite_create("addr");
	TCase *tc = tcase_create("parse");

	tcase_add_loop_test(
	    tc, test_addr_good, 0, sizeof(goods) / sizeof(goods[0]));
	tcase_add_loop_test(
	    tc, test_addr_bad, 0, sizeof(bads) / sizeof(bads[0]));
	suite_add_tcase(s, tc);
	tc = tcase_create("format");
	tcase_add_loop_test(
	    tc, test_addr_format, 0, sizeof(formats) / sizeof(formats[0]));
	tcase_add_test(tc, test_addr_format_cut);
	suite_add_tcase(s, tc);
	tc = tcase_create("loopback");
	tcase_add_test(tc, test_addr_loopback);
	suite_add_tcase(s, tc);
	return s;
}
