/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_counters.c - the tables of the bucket and worker counters: every
 * row reads a whole 64-bit field inside its struct, and its names are
 * valid and unique for the readers that print them.
 */
#include <stdint.h>
#include <string.h>

#include "check_core.h"
#include "counters.h"
#include "state.h"

static size_t slot_size(enum counters_slot slot);
static int prom_name_ok(const char *name);
static int json_key_ok(const char *key);
static int listed(const char *name, const char *const *list);

/* The JSON keys cli/stats.c sets around the counters of a bucket, of a
 * worker and of the totals: a row with one of them would overwrite it. */
static const char *const fixed_keys[] = {"bucket", "owner", "ts", "time",
    "counter", "lead_s", "worker", "pid", "alive", "started", "buckets",
    "exit_status", "ids_per_s", "requests_per_s", NULL};

/* The per-slot families src/metrics.c prints besides the table's. */
static const char *const fixed_families[] = {
    "genid_bucket_lead_seconds", "genid_worker_up", NULL};

static size_t
slot_size(enum counters_slot slot)
{
	return slot == COUNTERS_BUCKET ? sizeof(struct state_bucket)
				       : sizeof(struct state_worker);
}

/* The Prometheus data model: [a-zA-Z_:][a-zA-Z0-9_:]*. */
static int
prom_name_ok(const char *name)
{
	const char *p;

	if (name[0] == '\0' || (name[0] >= '0' && name[0] <= '9'))
		return 0;
	for (p = name; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			(*p >= '0' && *p <= '9') || *p == '_' || *p == ':'))
			return 0;
	return 1;
}

/* Lower case, digits and '_', like the other keys of stats --json. */
static int
json_key_ok(const char *key)
{
	const char *p;

	if (key[0] < 'a' || key[0] > 'z')
		return 0;
	for (p = key; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
			*p == '_'))
			return 0;
	return 1;
}

static int
listed(const char *name, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(name, *list) == 0)
			return 1;
	return 0;
}

START_TEST(test_counters_offsets)
{
	const enum counters_slot table = (enum counters_slot)_i;
	const struct counters_def *c;
	size_t i, j, n;

	c = counters_table(table, &n);
	ck_assert_uint_gt(n, 0);
	for (i = 0; i < n; i++) {
		ck_assert_msg(
		    c[i].in == COUNTERS_BUCKET || c[i].in == COUNTERS_WORKER,
		    "%s: in is %d", c[i].json, (int)c[i].in);
		/* A bucket has no worker to sum over. */
		if (table == COUNTERS_BUCKET)
			ck_assert_msg(c[i].in == COUNTERS_BUCKET,
			    "bucket row %s reads a worker slot", c[i].json);
		ck_assert_msg(c[i].off % 8 == 0, "%s: offset %zu not 8-aligned",
		    c[i].json, c[i].off);
		ck_assert_msg(c[i].off + sizeof(uint64_t) <= slot_size(c[i].in),
		    "%s: offset %zu outside its %zu-byte struct", c[i].json,
		    c[i].off, slot_size(c[i].in));
		for (j = 0; j < i; j++)
			ck_assert_msg(
			    c[j].in != c[i].in || c[j].off != c[i].off,
			    "%s and %s read the same field", c[j].json,
			    c[i].json);
	}
}
END_TEST

START_TEST(test_counters_names)
{
	const enum counters_slot table = (enum counters_slot)_i;
	const char *prefix =
	    table == COUNTERS_BUCKET ? "genid_bucket_" : "genid_worker_";
	const struct counters_def *c;
	size_t i, j, n, len;

	c = counters_table(table, &n);
	for (i = 0; i < n; i++) {
		ck_assert_ptr_nonnull(c[i].json);
		ck_assert_ptr_nonnull(c[i].prom);
		ck_assert_msg(
		    json_key_ok(c[i].json), "JSON key \"%s\"", c[i].json);
		ck_assert_msg(!listed(c[i].json, fixed_keys),
		    "JSON key \"%s\" is one stats --json sets itself",
		    c[i].json);
		ck_assert_msg(
		    prom_name_ok(c[i].prom), "family \"%s\"", c[i].prom);
		ck_assert_msg(strncmp(c[i].prom, prefix, strlen(prefix)) == 0,
		    "family %s lacks the prefix %s", c[i].prom, prefix);
		ck_assert_msg(!listed(c[i].prom, fixed_families),
		    "family %s is one metrics.c prints itself", c[i].prom);
		/* Prometheus: a counter's name ends in _total, a gauge's not.
		 */
		len = strlen(c[i].prom);
		ck_assert_msg((c[i].type == COUNTERS_COUNTER) ==
			(len > 6 && strcmp(c[i].prom + len - 6, "_total") == 0),
		    "%s is a %s", c[i].prom, counters_type_name(c[i].type));
		for (j = 0; j < i; j++) {
			ck_assert_str_ne(c[j].json, c[i].json);
			ck_assert_str_ne(c[j].prom, c[i].prom);
		}
	}
}
END_TEST

/* No family name is in both tables. */
START_TEST(test_counters_families_unique)
{
	const struct counters_def *b, *w;
	size_t i, j, nb, nw;

	b = counters_table(COUNTERS_BUCKET, &nb);
	w = counters_table(COUNTERS_WORKER, &nw);
	for (i = 0; i < nb; i++)
		for (j = 0; j < nw; j++)
			ck_assert_str_ne(b[i].prom, w[j].prom);
}
END_TEST

/* HELP goes out unescaped: one line, no backslash, a full sentence. */
START_TEST(test_counters_help)
{
	const struct counters_def *c;
	size_t i, n, len;

	c = counters_table((enum counters_slot)_i, &n);
	for (i = 0; i < n; i++) {
		ck_assert_ptr_nonnull(c[i].help);
		len = strlen(c[i].help);
		ck_assert_msg(len > 1 && c[i].help[len - 1] == '.',
		    "%s: help \"%s\" is not a sentence", c[i].prom, c[i].help);
		ck_assert_msg(strpbrk(c[i].help, "\n\\") == NULL,
		    "%s: help needs escaping", c[i].prom);
	}
}
END_TEST

/* The text screen: headings fit their columns and are one word, since
 * readers split the lines on blanks. */
START_TEST(test_counters_text)
{
	const enum counters_slot table = (enum counters_slot)_i;
	const struct counters_def *c;
	size_t i, n, totals = 0;

	c = counters_table(table, &n);
	for (i = 0; i < n; i++) {
		if (c[i].column != NULL) {
			ck_assert_msg(c[i].column[0] != '\0' &&
				strchr(c[i].column, ' ') == NULL,
			    "%s: heading \"%s\"", c[i].json, c[i].column);
			ck_assert_msg(c[i].width >= (int)strlen(c[i].column) &&
				c[i].width <= 20,
			    "%s: width %d for \"%s\"", c[i].json, c[i].width,
			    c[i].column);
		}
		if (table == COUNTERS_WORKER) {
			ck_assert_msg(c[i].total == NULL && !c[i].total_aside,
			    "worker row %s has a total", c[i].json);
			continue;
		}
		if (c[i].total == NULL) {
			ck_assert_msg(!c[i].total_aside,
			    "%s: an aside without a phrase", c[i].json);
			continue;
		}
		ck_assert_msg(
		    c[i].total[0] != '\0', "%s: empty phrase", c[i].json);
		ck_assert_msg(totals > 0 || !c[i].total_aside,
		    "%s: the total line starts with an aside", c[i].json);
		totals++;
	}
}
END_TEST

/* counters_field reads the field at the row's offset, no other. */
START_TEST(test_counters_field)
{
	struct state_bucket b;
	struct state_worker w;
	uint64_t *p;
	size_t i;

	p = (uint64_t *)(void *)&b;
	for (i = 0; i < sizeof(b) / sizeof(*p); i++)
		p[i] = UINT64_C(0x0101010101010101) * (i + 1);
	p = (uint64_t *)(void *)&w;
	for (i = 0; i < sizeof(w) / sizeof(*p); i++)
		p[i] = UINT64_C(0xfedcba9876543210) - i;
	ck_assert_uint_eq(
	    counters_field(&b, offsetof(struct state_bucket, ids)), b.ids);
	ck_assert_uint_eq(
	    counters_field(&b, offsetof(struct state_bucket, shorts)),
	    b.shorts);
	ck_assert_uint_eq(
	    counters_field(&w, offsetof(struct state_worker, restarts)),
	    w.restarts);
	ck_assert_uint_eq(counters_field(&w,
			      offsetof(struct state_worker, checkpoint_raises)),
	    w.checkpoint_raises);
	ck_assert_uint_eq(counters_field(&b, 0), b.word);
	ck_assert_uint_eq(counters_field(&b, sizeof(b) - 8), b.reserved);
}
END_TEST

START_TEST(test_counters_type_name)
{
	ck_assert_str_eq(counters_type_name(COUNTERS_COUNTER), "counter");
	ck_assert_str_eq(counters_type_name(COUNTERS_GAUGE), "gauge");
}
END_TEST

Suite *
make_counters_suite(void)
{
	Suite *s = suite_create("counters");
	TCase *tc;

	/* The loop tests run once per table: _i is the enum counters_slot. */
	tc = tcase_create("table");
	tcase_add_loop_test(
	    tc, test_counters_offsets, COUNTERS_BUCKET, COUNTERS_WORKER + 1);
	tcase_add_loop_test(
	    tc, test_counters_names, COUNTERS_BUCKET, COUNTERS_WORKER + 1);
	tcase_add_test(tc, test_counters_families_unique);
	tcase_add_loop_test(
	    tc, test_counters_help, COUNTERS_BUCKET, COUNTERS_WORKER + 1);
	tcase_add_loop_test(
	    tc, test_counters_text, COUNTERS_BUCKET, COUNTERS_WORKER + 1);
	suite_add_tcase(s, tc);

	tc = tcase_create("read");
	tcase_add_test(tc, test_counters_field);
	tcase_add_test(tc, test_counters_type_name);
	suite_add_tcase(s, tc);
	return s;
}
