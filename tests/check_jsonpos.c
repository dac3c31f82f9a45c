/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_jsonpos.c - where a top-level key's value starts in a JSON text.
 */
#include <check.h>
#include <string.h>

#include "check_core.h"
#include "jsonpos.h"

static const char config[] = "{\n"
			     "  \"port\": 3778,\n"
			     "  \"listen\": [\"a\", \"b\",\n"
			     "    \"c\"],\n"
			     "  \"x\": {\"port\": 1, \"listen\": [0]}\n"
			     "}\n";

/* Strings with brackets, quotes and escapes, and nested containers. */
static const char tricky[] = "{\"a\": \"}\\\"]\", \"b\": [1, {\"c\": [2]},"
			     " \"]\"], \"c\": 3, \"d\": {}, \"e\": []}";

struct place {
	const char *text;
	const char *key;
	int index;
	int line;
	int col;
};

static const struct place places[] = {
    {config, "port", -1, 2, 11},
    {config, "listen", -1, 3, 13},
    {config, "listen", 0, 3, 14},
    {config, "listen", 1, 3, 19},
    {config, "listen", 2, 4, 5},
    /* Past the end of the array: where it stops. */
    {config, "listen", 3, 4, 8},
    {config, "x", -1, 5, 8},
    /* An index of a value that is no array: the value. */
    {config, "port", 0, 2, 11},
    /* Not there: the start of the text. */
    {config, "missing", -1, 1, 1},
    {config, "por", -1, 1, 1},
    {tricky, "a", -1, 1, 7},
    {tricky, "b", -1, 1, 20},
    {tricky, "b", 1, 1, 24},
    {tricky, "b", 2, 1, 36},
    {tricky, "c", -1, 1, 47},
    {tricky, "d", -1, 1, 55},
    {tricky, "e", -1, 1, 64},
    {tricky, "e", 0, 1, 65},
    /* Not an object. */
    {"[1, 2]", "a", -1, 1, 1},
    {"", "a", -1, 1, 1},
    {"  {\"a\": 1}", "a", -1, 1, 9},
    /* Keys as written with escapes are the keys jansson decoded. */
    {"{\"x\": 1, \"\\u0070ort\": 2}", "port", -1, 1, 23},
    {"{\"\\u00e9t\\u00E9\": 2}", "\xc3\xa9t\xc3\xa9", -1, 1, 19},
    {"{\"\\ud83d\\ude00\": 2}", "\xf0\x9f\x98\x80", -1, 1, 18},
    {"{\"a\\\"b\": 1}", "a\"b", -1, 1, 10},
    {"{\"a\\nb\": 1}", "a\nb", -1, 1, 10},
    {"{\"a\\\\b\": 1}", "a\\b", -1, 1, 10},
    /* Alike but for a decoded character: not the key. */
    {"{\"\\u0070orx\": 2}", "port", -1, 1, 1},
    {"{\"a\\nb\": 1}", "anb", -1, 1, 1},
};

START_TEST(test_jsonpos_find)
{
	const struct place *p = &places[_i];
	int line = 0, col = 0;

	jsonpos_find(p->text, p->key, p->index, &line, &col);
	ck_assert_msg(line == p->line && col == p->col,
	    "\"%s\"[%d]: %d:%d, want %d:%d", p->key, p->index, line, col,
	    p->line, p->col);
}
END_TEST

struct escape {
	const char *in;
	const char *out;
};

static const struct escape escapes[] = {
    {"port", "port"},
    {"a\"b", "a\\\"b"},
    {"a\\b", "a\\\\b"},
    {"a\nb\tc\r", "a\\nb\\tc\\r"},
    {"\x01\x1f\x7f", "\\u0001\\u001f\\u007f"},
    {"\xc3\xa9", "\xc3\xa9"},
    {"", ""},
};

START_TEST(test_jsonpos_escape)
{
	const struct escape *e = &escapes[_i];
	char out[64];
	size_t n = jsonpos_escape(e->in, out, sizeof(out));

	ck_assert_str_eq(out, e->out);
	ck_assert_uint_eq(n, strlen(e->out));
}
END_TEST

/* A short buffer holds what fits, terminated; the length is the whole. */
START_TEST(test_jsonpos_escape_cut)
{
	char out[4];

	ck_assert_uint_eq(jsonpos_escape("a\"bcd", out, sizeof(out)), 6);
	ck_assert_str_eq(out, "a\\\"");
	ck_assert_uint_eq(jsonpos_escape("a\"b", out, 1), 4);
	ck_assert_str_eq(out, "");
}
END_TEST

Suite *
make_jsonpos_suite(void)
{
	Suite *s = suite_create("jsonpos");
	TCase *tc = tcase_create("find");

	tcase_add_loop_test(
	    tc, test_jsonpos_find, 0, sizeof(places) / sizeof(places[0]));
	suite_add_tcase(s, tc);
	tc = tcase_create("escape");
	tcase_add_loop_test(
	    tc, test_jsonpos_escape, 0, sizeof(escapes) / sizeof(escapes[0]));
	tcase_add_test(tc, test_jsonpos_escape_cut);
	suite_add_tcase(s, tc);
	return s;
}
