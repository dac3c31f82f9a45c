/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_config.c - the identity rules of genid.json (src/config.c): the
 * default listen address, "machine_id": "auto", the "coordination" object
 * and its errors, and the refusal of a listen address beyond loopback
 * without machine_id; each error by file, line, column and key.
 *
 * CK_FORK=no runs the tests in one process (for valgrind or a debugger).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

/* Any time after the epochs used here. */
#define NOW 1800000000

static char dir[] = "/tmp/genid-check-config.XXXXXX";
static char path[128];
static struct cfg c;
static char err[1024];

/* Writes text to the test's genid.json and loads it into c. */
static int
load(const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_msg(f != NULL, "open %s", path);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
	err[0] = '\0';
	return cfg_load(&c, path, NOW, err, sizeof(err));
}

static void
loads(const char *text)
{
	ck_assert_msg(load(text) == 0, "%s: refused: %s", text, err);
}

/*
 * The line and column of the first occurrence of needle in text, counted
 * as an editor does (from 1, a column counts bytes).
 */
static void
pos_of(const char *text, const char *needle, int *line, int *col)
{
	const char *at = strstr(text, needle), *p;

	ck_assert_msg(at != NULL, "%s not in %s", needle, text);
	*line = 1;
	*col = 1;
	for (p = text; p < at; p++) {
		if (*p == '\n') {
			(*line)++;
			*col = 1;
		} else
			(*col)++;
	}
}

/*
 * Asserts that text is refused, with one line that starts with
 * FILE:LINE:COL: KEY (LINE:COL where at stands in text) and holds want.
 */
static void
refused_at(
    const char *text, int line, int col, const char *key, const char *want)
{
	char head[256];

	ck_assert_msg(load(text) == -1, "%s: accepted", text);
	snprintf(head, sizeof(head), "%s:%d:%d: %s: ", path, line, col, key);
	ck_assert_msg(strncmp(err, head, strlen(head)) == 0,
	    "error \"%s\", want it to start with \"%s\"", err, head);
	ck_assert_msg(strstr(err, want) != NULL,
	    "error \"%s\" does not say \"%s\"", err, want);
	ck_assert_msg(
	    strchr(err, '\n') == NULL, "error of several lines: \"%s\"", err);
}

static void
refused(const char *text, const char *at, const char *key, const char *want)
{
	int line, col;

	pos_of(text, at, &line, &col);
	refused_at(text, line, col, key, want);
}

START_TEST(test_default_listen)
{
	loads("{}");
	ck_assert_uint_eq(c.nlisten, 2);
	ck_assert_str_eq(c.listen[0].host, "127.0.0.1");
	ck_assert_uint_eq(c.listen[0].port, 3778);
	ck_assert_str_eq(c.listen[1].host, "::1");
	ck_assert_uint_eq(c.listen[1].port, 3778);
	ck_assert_int_eq(c.machine_set, 0);
	ck_assert_int_eq(c.epoch_set, 0);
	ck_assert_int_eq(c.machine_auto, 0);
	ck_assert_uint_eq(c.netcd, 0);
	ck_assert_str_eq(c.etcd_prefix, "/genid");
	ck_assert_uint_eq(c.lease_ttl_s, 10);
	ck_assert_int_eq(cfg_beyond_loopback(&c), 0);

	/* "port" still applies to the default addresses. */
	loads("{\"port\": 4000, \"zone_id\": 1}");
	ck_assert_uint_eq(c.nlisten, 2);
	ck_assert_str_eq(c.listen[0].host, "127.0.0.1");
	ck_assert_uint_eq(c.listen[0].port, 4000);
	ck_assert_str_eq(c.listen[1].host, "::1");
	ck_assert_uint_eq(c.listen[1].port, 4000);

	/* A "listen" of its own replaces both. */
	loads("{\"listen\": [\"127.0.0.1\"], \"port\": 4000}");
	ck_assert_uint_eq(c.nlisten, 1);
	ck_assert_uint_eq(c.listen[0].port, 4000);

	/* "epoch": 0 is set, though it is the default. */
	loads("{\"epoch\": 0}");
	ck_assert_int_eq(c.epoch_set, 1);

	/* The seed's four keys: loopback now, and valid. */
	loads("{\"port\":3778,\"zone_id\":0,\"dc_id\":0,\"machine_id\":0}");
	ck_assert_str_eq(c.listen[0].host, "127.0.0.1");
	ck_assert_uint_eq(c.listen[0].port, 3778);
	ck_assert_int_eq(c.machine_set, 1);
	ck_assert_int_eq(cfg_beyond_loopback(&c), 0);
}
END_TEST

START_TEST(test_machine_number)
{
	loads("{\"machine_id\": 6}");
	ck_assert_uint_eq(c.machine, 6);
	ck_assert_int_eq(c.machine_set, 1);
	ck_assert_int_eq(c.machine_auto, 0);

	refused_at("{\"machine_id\": 8}", 1, 16, "\"machine_id\"",
	    "8 is out of range 0..7");
	refused_at("{\"machine_id\": \"7\"}", 1, 16, "\"machine_id\"",
	    "\"7\" is neither a number 0..7 nor \"auto\"");
	refused_at("{\"machine_id\": \"AUTO\"}", 1, 16, "\"machine_id\"",
	    "\"AUTO\" is neither");
	refused_at("{\"machine_id\": true}", 1, 16, "\"machine_id\"",
	    "is a boolean, want an integer 0..7 or \"auto\"");
	/* A string is shown as JSON writes it: the error stays one line. */
	refused_at("{\"machine_id\": \"a\\nb\"}", 1, 16, "\"machine_id\"",
	    "\"a\\nb\" is neither");
}
END_TEST

START_TEST(test_machine_auto)
{
	loads("{\n"
	      "  \"machine_id\": \"auto\",\n"
	      "  \"coordination\": {\"etcd\": [\"127.0.0.1\","
	      " \"127.0.0.2:2380\",\n"
	      "    \"[::1]:2381\", \"localhost\"], \"prefix\": \"/ids/eu\",\n"
	      "    \"lease_ttl_s\": 30}\n"
	      "}\n");
	ck_assert_int_eq(c.machine_auto, 1);
	ck_assert_int_eq(c.machine_set, 1);
	ck_assert_uint_eq(c.machine, 0);
	ck_assert_uint_eq(c.netcd, 4);
	ck_assert_str_eq(c.etcd[0].host, "127.0.0.1");
	ck_assert_uint_eq(c.etcd[0].port, 2379);
	ck_assert_str_eq(c.etcd[1].host, "127.0.0.2");
	ck_assert_uint_eq(c.etcd[1].port, 2380);
	ck_assert_str_eq(c.etcd[2].host, "::1");
	ck_assert_uint_eq(c.etcd[2].port, 2381);
	ck_assert_str_eq(c.etcd[3].host, "localhost");
	ck_assert_uint_eq(c.etcd[3].port, 2379);
	ck_assert_str_eq(c.etcd_prefix, "/ids/eu");
	ck_assert_uint_eq(c.lease_ttl_s, 30);

	/* The order of the keys does not matter. */
	loads("{\"coordination\": {\"etcd\": [\"127.0.0.1\"]},"
	      " \"machine_id\": \"auto\"}");
	ck_assert_int_eq(c.machine_auto, 1);
	ck_assert_uint_eq(c.netcd, 1);
	ck_assert_str_eq(c.etcd_prefix, "/genid");
	ck_assert_uint_eq(c.lease_ttl_s, 10);

	/* A number after "auto" wins, as the last value of a key would. */
	loads("{\"coordination\": {\"etcd\": [\"127.0.0.1\"]},"
	      " \"machine_id\": 4}");
	ck_assert_int_eq(c.machine_auto, 0);
	ck_assert_uint_eq(c.machine, 4);

	/* "auto" without coordination.etcd: an error at machine_id. */
	refused_at("{\n  \"machine_id\": \"auto\"\n}\n", 2, 17,
	    "\"machine_id\"", "\"coordination\"");
	refused("{\"machine_id\": \"auto\", \"port\": 0}", "\"auto\"",
	    "\"machine_id\"", "etcd");
}
END_TEST

START_TEST(test_coordination_bounds)
{
	char text[512], prefix[CFG_PREFIX_MAX + 2];

	loads("{\"coordination\": {\"etcd\": [\"127.0.0.1\"],"
	      " \"lease_ttl_s\": 3}}");
	ck_assert_uint_eq(c.lease_ttl_s, 3);
	ck_assert_int_eq(c.machine_set, 0);
	loads("{\"coordination\": {\"etcd\": [\"127.0.0.1\"],"
	      " \"lease_ttl_s\": 600}}");
	ck_assert_uint_eq(c.lease_ttl_s, 600);
	loads("{\"coordination\": {\"etcd\": [\"127.0.0.1\", \"127.0.0.2\","
	      " \"127.0.0.3\", \"127.0.0.4\", \"127.0.0.5\", \"127.0.0.6\","
	      " \"127.0.0.7\", \"127.0.0.8:1\"]}}");
	ck_assert_uint_eq(c.netcd, 8);
	ck_assert_uint_eq(c.etcd[7].port, 1);

	memset(prefix, 'p', sizeof(prefix));
	prefix[0] = '/';
	prefix[CFG_PREFIX_MAX] = '\0';
	snprintf(text, sizeof(text),
	    "{\"coordination\": {\"etcd\": [\"127.0.0.1\"],"
	    " \"prefix\": \"%s\"}}",
	    prefix);
	loads(text);
	ck_assert_str_eq(c.etcd_prefix, prefix);
	prefix[CFG_PREFIX_MAX] = 'p';
	prefix[CFG_PREFIX_MAX + 1] = '\0';
	snprintf(text, sizeof(text),
	    "{\"coordination\": {\"etcd\": [\"127.0.0.1\"],"
	    " \"prefix\": \"%s\"}}",
	    prefix);
	refused(text, "\"/pp", "\"coordination.prefix\"",
	    "is 201 bytes long, at most 200");
}
END_TEST

/* One error of the coordination object: text, where, key, message. */
struct bad {
	const char *text;
	const char *at;
	const char *key;
	const char *want;
};

static const struct bad bad_coordination[] = {
    {"{\"coordination\": 5}", "5", "\"coordination\"",
	"is an integer, want an object"},
    {"{\"coordination\": {}}", "{}", "\"coordination\"", "has no \"etcd\""},
    {"{\"coordination\": {\"prefix\": \"/x\"}}", "{\"prefix",
	"\"coordination\"", "has no \"etcd\""},
    {"{\"coordination\": {\"etcd\": \"127.0.0.1:2379\"}}", "\"127",
	"\"coordination.etcd\"", "is a string, want an array of strings"},
    {"{\"coordination\": {\"etcd\": []}}", "[]", "\"coordination.etcd\"",
	"has 0 items, want 1..8"},
    {"{\"coordination\": {\"etcd\": [\"127.0.0.1\", \"127.0.0.2\","
     " \"127.0.0.3\", \"127.0.0.4\", \"127.0.0.5\", \"127.0.0.6\","
     " \"127.0.0.7\", \"127.0.0.8\", \"127.0.0.9\"]}}",
	"[", "\"coordination.etcd\"", "has 9 items, want 1..8"},
    {"{\"coordination\": {\"etcd\": [\"127.0.0.1\", 2379]}}", "2379",
	"\"coordination.etcd\"[1]", "is an integer, want a string"},
    {"{\"coordination\": {\"etcd\": [\":2379\"]}}", "\":2379",
	"\"coordination.etcd\"[0]", "an etcd endpoint needs a host"},
    {"{\"coordination\": {\"etcd\": [\"http://127.0.0.1:2379\"]}}", "\"http",
	"\"coordination.etcd\"[0]", "without a scheme"},
    {"{\"coordination\": {\"etcd\": [\"127.0.0.1:0\"]}}", "\"127",
	"\"coordination.etcd\"[0]", "port 0"},
    {"{\"coordination\": {\"etcd\": [\"127.0.0.1:99999\"]}}", "\"127",
	"\"coordination.etcd\"[0]", "99999"},
    {"{\"coordination\": {\"etcd\": [\"127.0.0.1\"], \"prefix\": \"genid\"}}",
	"\"genid", "\"coordination.prefix\"", "does not start with \"/\""},
    {"{\"coordination\": {\"etcd\": [\"127.0.0.1\"], \"prefix\": \"\"}}",
	"\"\"}", "\"coordination.prefix\"", "does not start with \"/\""},
    {"{\"coordination\": {\"etcd\": [\"127.0.0.1\"], \"prefix\": \"/g/\"}}",
	"\"/g/", "\"coordination.prefix\"", "ends with \"/\""},
    {"{\"coordination\": {\"etcd\": [\"127.0.0.1\"], \"prefix\": \"/\"}}",
	"\"/\"", "\"coordination.prefix\"", "ends with \"/\""},
    {"{\"coordination\": {\"etcd\": [\"127.0.0.1\"], \"prefix\": 5}}", "5}",
	"\"coordination.prefix\"", "is an integer, want a string"},
    {"{\"coordination\": {\"etcd\": [\"127.0.0.1\"], \"lease_ttl_s\": 2}}",
	"2}", "\"coordination.lease_ttl_s\"", "2 is out of range 3..600"},
    {"{\"coordination\": {\"etcd\": [\"127.0.0.1\"], \"lease_ttl_s\": 601}}",
	"601", "\"coordination.lease_ttl_s\"", "601 is out of range 3..600"},
    {"{\"coordination\": {\"etcd\": [\"127.0.0.1\"],"
     " \"lease_ttl_s\": \"10\"}}",
	"\"10\"", "\"coordination.lease_ttl_s\"",
	"is a string, want an integer 3..600"},
    {"{\"coordination\": {\"etdc\": [\"127.0.0.1\"]}}", "[",
	"\"coordination.etdc\"", "unknown key; did you mean \"etcd\"?"},
    {"{\"coordination\": {\"etcd\": [\"127.0.0.1\"], \"lease_ttl\": 5}}", "5}",
	"\"coordination.lease_ttl\"",
	"unknown key; did you mean \"lease_ttl_s\"?"},
    {"{\"coordination\": {\"etcd\": [\"127.0.0.1\"], \"machine_id\": 5}}", "5}",
	"\"coordination.machine_id\"", "belongs at the top level"},
    {"{\"coordination\": {\"etcd\": [\"127.0.0.1\"], \"colour\": 5}}", "5}",
	"\"coordination.colour\"", "unknown key (see genid.json(5)"},
    /* The keys of coordination at the top level, and a typo of it. */
    {"{\"etcd\": [\"127.0.0.1\"]}", "[", "\"etcd\"",
	"belongs inside \"coordination\""},
    {"{\"coordinaton\": {}}", "{}", "\"coordinaton\"",
	"did you mean \"coordination\"?"},
    /* A key under coordination that holds a line break stays one line. */
    {"{\"coordination\": {\"a\\nb\": 1}}", "1", "\"coordination.a\\nb\"",
	"unknown key"},
};

START_TEST(test_coordination_errors)
{
	const struct bad *b = &bad_coordination[_i];

	refused(b->text, b->at, b->key, b->want);
}
END_TEST

/* Positions inside coordination on other lines than its own. */
START_TEST(test_coordination_positions)
{
	refused_at("{\n"
		   "  \"coordination\": {\n"
		   "    \"etcd\": [\"127.0.0.1\"],\n"
		   "    \"lease_ttl_s\": 1\n"
		   "  }\n"
		   "}\n",
	    4, 20, "\"coordination.lease_ttl_s\"", "1 is out of range 3..600");
	refused_at("{\"port\": 1,\n"
		   " \"coordination\": {\"etcd\": [\"127.0.0.1\", \":1\"]}}\n",
	    2, 41, "\"coordination.etcd\"[1]", "needs a host");
	refused_at("{\"coordination\": {\"etcd\": [\":1\"]}}", 1, 28,
	    "\"coordination.etcd\"[0]", "needs a host");
	/* A value before coordination that reads like the key is no key. */
	refused_at("{\"state_file\": \"prefix\",\n"
		   " \"coordination\": {\"etcd\": [\"127.0.0.1\"],"
		   " \"prefix\": 1}}\n",
	    2, 52, "\"coordination.prefix\"", "want a string");
}
END_TEST

START_TEST(test_beyond_refused)
{
	char want[256];
	const char *two = "{\n"
			  "  \"listen\": [\"127.0.0.1\", \"0.0.0.0:3779\"],\n"
			  "  \"port\": 0\n"
			  "}\n";

	refused_at(two, 2, 27, "\"listen\"[1]",
	    "0.0.0.0:3779 is beyond loopback and \"machine_id\" is not set");
	ck_assert_msg(strstr(err, "same IDs") != NULL, "%s", err);
	ck_assert_msg(strstr(err, "dc 0 of zone 0") != NULL, "%s", err);
	ck_assert_msg(
	    strstr(err, "\"auto\" with coordination.etcd") != NULL, "%s", err);
	/* Where to choose the identity, and the keys that make it. */
	snprintf(
	    want, sizeof(want), "choose this node's identity in %s:", path);
	ck_assert_msg(strstr(err, want) != NULL, "%s", err);
	ck_assert_msg(strstr(err, "\"dc_id\", \"zone_id\"") != NULL &&
		strstr(err, "\"epoch\"") != NULL,
	    "%s", err);

	refused_at("{\"listen\": [\"\"], \"zone_id\": 4, \"dc_id\": 3}", 1, 13,
	    "\"listen\"[0]", "*:3778 (any address) is beyond loopback");
	ck_assert_msg(strstr(err, "dc 3 of zone 4") != NULL, "%s", err);
	refused("{\"port\": 7000, \"listen\": [\":9000\", \"127.0.0.1\"]}",
	    "\":9000", "\"listen\"[0]", "*:9000 (any address) is beyond");
	refused("{\"listen\": [\"[::]\"], \"port\": 5}", "\"[::]",
	    "\"listen\"[0]", "[::]:5 is beyond loopback");
	refused("{\"listen\": [\"192.0.2.1:3778\"]}", "\"192", "\"listen\"[0]",
	    "192.0.2.1:3778 is beyond loopback");
	refused("{\"listen\": [\"genid-node\"]}", "\"genid", "\"listen\"[0]",
	    "is beyond loopback");

	/* An explicit identity, a number or "auto", lets it start. */
	loads("{\"listen\": [\"0.0.0.0\"], \"machine_id\": 2}");
	ck_assert_int_eq(cfg_beyond_loopback(&c), 1);
	loads("{\"machine_id\": 0, \"listen\": [\"\"]}");
	ck_assert_int_eq(cfg_beyond_loopback(&c), 1);
	loads("{\"listen\": [\"\"], \"machine_id\": \"auto\","
	      " \"coordination\": {\"etcd\": [\"127.0.0.1\"]}}");
	ck_assert_int_eq(cfg_beyond_loopback(&c), 1);

	/* Loopback needs no machine_id. */
	loads("{\"listen\": [\"127.0.0.2\", \"[::1]\", \"localhost:4000\","
	      " \"127.255.255.254:1\"]}");
	ck_assert_uint_eq(c.nlisten, 4);
	ck_assert_int_eq(cfg_beyond_loopback(&c), 0);
}
END_TEST

/* cfg_beyond_loopback of a configuration listening on one host. */
/*
 * A value with control characters in it is quoted in the message as JSON
 * writes it: the message stays one line (found by fuzz_config).
 */
START_TEST(test_error_one_line)
{
	ck_assert_int_eq(
	    load("{\"metrics_listen\": \"127.0.0.1:9\\\\\\n7\\u0001\"}"), -1);
	ck_assert_msg(strchr(err, '\n') == NULL, "several lines: %s", err);
	ck_assert_msg(strchr(err, '\001') == NULL, "a control byte: %s", err);
	ck_assert_msg(strstr(err, "\"127.0.0.1:9\\\\\\n7\\u0001\"") != NULL,
	    "the value as JSON writes it: %s", err);
}
END_TEST

/*
 * Asserts that text is refused at line:col with a message holding want
 * instead of jansson's own "... near ...".
 */
static void
syntax_at(const char *text, int line, int col, const char *want)
{
	char head[256];

	ck_assert_msg(load(text) == -1, "%s: accepted", text);
	snprintf(head, sizeof(head), "%s:%d:%d: ", path, line, col);
	ck_assert_msg(strncmp(err, head, strlen(head)) == 0,
	    "error \"%s\", want it to start with \"%s\"", err, head);
	ck_assert_msg(strstr(err, want) != NULL,
	    "error \"%s\" does not say \"%s\"", err, want);
	ck_assert_msg(
	    strstr(err, "near") == NULL, "error \"%s\" is jansson's own", err);
}

/* What other formats allow and JSON does not is named for what it is. */
START_TEST(test_syntax_named)
{
	syntax_at("\xef\xbb\xbf{\"port\": 3778}\n", 1, 1,
	    "a UTF-8 byte order mark at the start: save the file without it");
	syntax_at("{\n  // the port\n  \"port\": 3778\n}\n", 2, 3,
	    "JSON has no comments: remove the \"//\" comment");
	syntax_at("{\n  \"port\": 3778, # the port\n}\n", 2, 17,
	    "JSON has no comments: remove the \"#\" comment");
	syntax_at("{\"port\": 3778 /* the port */}\n", 1, 15,
	    "JSON has no comments: remove the \"/* */\" comment");
	syntax_at("{\n  \"port\": 3778,\n}\n", 3, 1,
	    "a trailing comma before }: remove it");
	syntax_at("{\"listen\": [\"127.0.0.1\", ]}\n", 1, 26,
	    "a trailing comma before ]: remove it");
	/* Other errors keep jansson's words. */
	ck_assert_int_eq(load("{\"port\": /x}"), -1);
	ck_assert_msg(strstr(err, "invalid token near '/'") != NULL,
	    "a lone / is jansson's invalid token: %s", err);
	ck_assert_int_eq(load("{\"port\": 1 2}"), -1);
	ck_assert_msg(strstr(err, "near") != NULL, "jansson's own: %s", err);
}
END_TEST

static int
beyond_one(const char *host)
{
	struct cfg one;

	cfg_defaults(&one);
	snprintf(one.listen[0].host, sizeof(one.listen[0].host), "%s", host);
	return cfg_beyond_loopback(&one);
}

START_TEST(test_beyond_loopback)
{
	struct cfg two;

	ck_assert_int_eq(beyond_one("127.0.0.1"), 0);
	ck_assert_int_eq(beyond_one("127.0.0.2"), 0);
	ck_assert_int_eq(beyond_one("127.255.255.255"), 0);
	ck_assert_int_eq(beyond_one("::1"), 0);
	ck_assert_int_eq(beyond_one("0:0:0:0:0:0:0:1"), 0);
	ck_assert_int_eq(beyond_one("::ffff:127.0.0.3"), 0);
	ck_assert_int_eq(beyond_one("localhost"), 0);
	ck_assert_int_eq(beyond_one("LocalHost"), 0);
	ck_assert_int_eq(beyond_one(""), 1);
	ck_assert_int_eq(beyond_one("0.0.0.0"), 1);
	ck_assert_int_eq(beyond_one("::"), 1);
	ck_assert_int_eq(beyond_one("192.0.2.1"), 1);
	ck_assert_int_eq(beyond_one("2001:db8::1"), 1);
	ck_assert_int_eq(beyond_one("::ffff:192.0.2.1"), 1);
	ck_assert_int_eq(beyond_one("localhostx"), 1);
	ck_assert_int_eq(beyond_one("genid-node"), 1);

	/* Any one address beyond loopback counts. */
	cfg_defaults(&two);
	ck_assert_int_eq(cfg_beyond_loopback(&two), 0);
	two.nlisten = 2;
	snprintf(two.listen[1].host, sizeof(two.listen[1].host), "0.0.0.0");
	ck_assert_int_eq(cfg_beyond_loopback(&two), 1);
	snprintf(two.listen[1].host, sizeof(two.listen[1].host), "::1");
	ck_assert_int_eq(cfg_beyond_loopback(&two), 0);
}
END_TEST

static Suite *
make_config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("identity");

	tcase_add_test(tc, test_default_listen);
	tcase_add_test(tc, test_machine_number);
	tcase_add_test(tc, test_machine_auto);
	tcase_add_test(tc, test_coordination_bounds);
	tcase_add_loop_test(tc, test_coordination_errors, 0,
	    (int)(sizeof(bad_coordination) / sizeof(bad_coordination[0])));
	tcase_add_test(tc, test_coordination_positions);
	tcase_add_test(tc, test_beyond_refused);
	tcase_add_test(tc, test_beyond_loopback);
	tcase_add_test(tc, test_error_one_line);
	tcase_add_test(tc, test_syntax_named);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return EXIT_FAILURE;
	}
	snprintf(path, sizeof(path), "%s/genid.json", dir);
	sr = srunner_create(make_config_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	unlink(path);
	rmdir(dir);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
