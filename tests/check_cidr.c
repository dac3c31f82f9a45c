/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_cidr.c - address prefixes of the allow list: parse and match.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "check_core.h"
#include "cidr.h"

/* A socket address for a numeric IPv4 or IPv6 address. */
static const struct sockaddr *
sockaddr_of(const char *addr, struct sockaddr_storage *ss)
{
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &in->sin_addr) == 1)
		in->sin_family = AF_INET;
	else {
		ck_assert_int_eq(inet_pton(AF_INET6, addr, &in6->sin6_addr), 1);
		in6->sin6_family = AF_INET6;
	}
	return (const struct sockaddr *)ss;
}

struct good {
	const char *in;
	int family;
	unsigned prefix;
	uint8_t addr[16];
};

/* Loopback prefixes only, as everywhere in genid's tests. */
static const struct good goods[] = {
    {"127.0.0.0/8", AF_INET, 8, {127}},
    {"127.0.0.1", AF_INET, 32, {127, 0, 0, 1}},
    {"0.0.0.0/0", AF_INET, 0, {0}},
    {"127.1.2.3/32", AF_INET, 32, {127, 1, 2, 3}},
    {"::1", AF_INET6, 128, {[15] = 1}},
    {"::/0", AF_INET6, 0, {0}},
    {"::1/64", AF_INET6, 64, {[15] = 1}},
    {"::ffff:127.0.0.1/104", AF_INET6, 104,
	{[10] = 0xff, [11] = 0xff, [12] = 127, [15] = 1}},
};

START_TEST(test_cidr_parse_good)
{
	const struct good *g = &goods[_i];
	struct cidr c;
	char err[256];

	memset(&c, 0xa5, sizeof(c));
	ck_assert_int_eq(cidr_parse(g->in, &c, err, sizeof(err)), 0);
	ck_assert_int_eq(c.family, g->family);
	ck_assert_uint_eq(c.prefix, g->prefix);
	/* An IPv4 address fills 4 bytes and leaves the rest 0. */
	ck_assert_mem_eq(c.addr, g->addr, sizeof(c.addr));
}
END_TEST

struct bad {
	const char *in;
	const char *reason;
};

#define NOT_NUMERIC                                                            \
	" is not a numeric IPv4 or IPv6 address (CIDR like 127.0.0.0/8 or"      \
	" ::1/128)"

static const struct bad bads[] = {
    {"127.0.0.0/33", "\"127.0.0.0/33\": prefix length must be 0..32"},
    {"::1/129", "\"::1/129\": prefix length must be 0..128"},
    {"127.0.0.0/", "\"127.0.0.0/\": prefix length must be 0..32"},
    {"127.0.0.0/8x", "\"127.0.0.0/8x\": prefix length must be 0..32"},
    {"127.0.0.0/-1", "\"127.0.0.0/-1\": prefix length must be 0..32"},
    {"127.0.0.0/99999999999999999999999",
	"\"127.0.0.0/99999999999999999999999\": prefix length must be"
	" 0..32"},
    {"localhost", "\"localhost\"" NOT_NUMERIC},
    {"127.0.0/8", "\"127.0.0/8\"" NOT_NUMERIC},
    {"", "\"\"" NOT_NUMERIC},
    {"0000:0000:0000:0000:0000:0000:0000:0000:0000:0001/1",
	"\"0000:0000:0000:0000:0000:0000:0000:0000:0000:0001/1\" is not an"
	" address/prefix"},
};

START_TEST(test_cidr_parse_bad)
{
	const struct bad *b = &bads[_i];
	struct cidr c;
	char err[256];

	ck_assert_int_eq(cidr_parse(b->in, &c, err, sizeof(err)), -1);
	ck_assert_str_eq(err, b->reason);
}
END_TEST

struct match {
	const char *list; /* prefixes separated by spaces */
	const char *addr;
	int want;
};

static const struct match matches[] = {
    {"127.0.0.1/32", "127.0.0.1", 1},
    {"127.0.0.1/32", "127.0.0.2", 0},
    {"127.0.0.0/8", "127.255.255.255", 1},
    {"127.0.0.0/16", "127.1.0.0", 0},
    {"0.0.0.0/0", "127.0.0.1", 1},
    /* A prefix that ends inside a byte. */
    {"127.0.0.0/9", "127.127.1.1", 1},
    {"127.0.0.0/9", "127.128.0.0", 0},
    {"127.0.0.0/23", "127.0.1.255", 1},
    {"127.0.0.0/23", "127.0.2.0", 0},
    /* IPv4-mapped IPv6 matches the IPv4 entries, not IPv6 ones. */
    {"127.0.0.0/8", "::ffff:127.0.0.1", 1},
    {"::ffff:0:0/96", "::ffff:127.0.0.1", 0},
    {"::1/128", "::1", 1},
    {"::1/128", "::", 0},
    {"::/127", "::1", 1},
    {"::/128", "::1", 0},
    {"::/0", "::1", 1},
    {"::1/128", "127.0.0.1", 0},
    {"127.0.0.1", "::1", 0},
    /* Any entry of the list will do. */
    {"127.0.0.0/16 ::1 127.1.0.1", "127.1.0.1", 1},
    {"127.0.0.0/16 ::1 127.1.0.1", "::1", 1},
    {"127.0.0.0/16 ::1 127.1.0.1", "127.1.0.2", 0},
    /* An empty list matches nothing: "everybody" is the caller's rule. */
    {"", "127.0.0.1", 0},
};

START_TEST(test_cidr_match)
{
	const struct match *m = &matches[_i];
	struct sockaddr_storage ss;
	struct cidr list[4];
	char buf[128], err[256], *tok, *save = NULL;
	unsigned n = 0;

	snprintf(buf, sizeof(buf), "%s", m->list);
	for (tok = strtok_r(buf, " ", &save); tok != NULL;
	     tok = strtok_r(NULL, " ", &save)) {
		ck_assert_uint_lt(n, 4);
		ck_assert_int_eq(
		    cidr_parse(tok, &list[n++], err, sizeof(err)), 0);
	}
	ck_assert_msg(cidr_match(list, n, sockaddr_of(m->addr, &ss)) == m->want,
	    "%s in [%s]: want %d", m->addr, m->list, m->want);
}
END_TEST

START_TEST(test_cidr_match_other_family)
{
	struct sockaddr_un un;
	struct cidr all[2];
	char err[256];

	ck_assert_int_eq(cidr_parse("0.0.0.0/0", &all[0], err, sizeof(err)), 0);
	ck_assert_int_eq(cidr_parse("::/0", &all[1], err, sizeof(err)), 0);
	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	ck_assert_int_eq(cidr_match(all, 2, (struct sockaddr *)&un), 0);
}
END_TEST

Suite *
make_cidr_suite(void)
{
	Suite *s = suite_create("cidr");
	TCase *tc;

	tc = tcase_create("parse");
	tcase_add_loop_test(
	    tc, test_cidr_parse_good, 0, sizeof(goods) / sizeof(goods[0]));
	tcase_add_loop_test(
	    tc, test_cidr_parse_bad, 0, sizeof(bads) / sizeof(bads[0]));
	suite_add_tcase(s, tc);
	tc = tcase_create("match");
	tcase_add_loop_test(
	    tc, test_cidr_match, 0, sizeof(matches) / sizeof(matches[0]));
	tcase_add_test(tc, test_cidr_match_other_family);
	suite_add_tcase(s, tc);
	return s;
}
