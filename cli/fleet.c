/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fleet.c - the fleet verb: which node holds which machine id in etcd,
 * and the checkpoint etcd keeps for each id (genid(8), "Identity").
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include <jansson.h>

#include "../src/config.h"
#include "../src/etcd.h"
#include "../src/idkeys.h"
#include "genidctl.h"
#include "timefmt.h"

/* Ids a fleet listing shows at most: 32 zones x 32 dcs x 8 machines. */
#define FLEET_MAX 8192

struct row {
	unsigned zone, dc, machine;
	int held;
	json_t *holder; /* the machine key's value, or NULL */
	long long checkpoint;
};

static struct row *row_of(struct row *rows, size_t *n, const struct row *k);
static int by_identity(const void *a, const void *b);
static int read_kind(struct etcd *e, const struct cfg *c, const char *kind,
    struct row *rows, size_t *n);
static const char *str(json_t *o, const char *name);
static void print_text(const struct row *rows, size_t n);
static void print_json(const struct row *rows, size_t n);

/* The row of (zone, dc, machine), added when new; NULL when full. */
static struct row *
row_of(struct row *rows, size_t *n, const struct row *k)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (rows[i].zone == k->zone && rows[i].dc == k->dc &&
		    rows[i].machine == k->machine)
			return &rows[i];
	if (*n == FLEET_MAX)
		return NULL;
	rows[*n] = *k;
	return &rows[(*n)++];
}

static int
by_identity(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->zone != y->zone)
		return x->zone < y->zone ? -1 : 1;
	if (x->dc != y->dc)
		return x->dc < y->dc ? -1 : 1;
	return x->machine < y->machine ? -1 : x->machine > y->machine;
}

/* Reads one kind of key (IDKEYS_MACHINES, IDKEYS_CHECKPOINTS) into rows. */
static int
read_kind(struct etcd *e, const struct cfg *c, const char *kind,
    struct row *rows, size_t *n)
{
	static struct etcd_kv kvs[FLEET_MAX];
	char prefix[ETCD_KEY_LEN], end[ETCD_KEY_LEN];
	long found, i;

	idkeys_kind_dir(prefix, sizeof(prefix), c->etcd_prefix, kind);
	etcd_prefix_end(prefix, end, sizeof(end));
	if ((found = etcd_range(e, prefix, end, kvs, FLEET_MAX)) == -1)
		return -1;
	for (i = 0; i < found && i < FLEET_MAX; i++) {
		struct row k = {0}, *r;
		uint64_t writer;
		int64_t at;

		if (idkeys_parse(kvs[i].key, c->etcd_prefix, kind, &k.zone,
			&k.dc, &k.machine) == -1 ||
		    (r = row_of(rows, n, &k)) == NULL)
			continue;
		if (strcmp(kind, IDKEYS_MACHINES) == 0) {
			/* Shown as the node wrote it (--json passes it on). */
			r->held = 1;
			r->holder = json_loads(kvs[i].value, 0, NULL);
		} else {
			idkeys_parse_checkpoint(kvs[i].value, &at, &writer);
			r->checkpoint = (long long)at;
		}
	}
	return 0;
}

static const char *
str(json_t *o, const char *name)
{
	const char *s = json_string_value(json_object_get(o, name));

	return s != NULL ? s : "-";
}

static void
print_text(const struct row *rows, size_t n)
{
	char since[TIMEFMT_LEN], ckpt[TIMEFMT_LEN];
	size_t i;

	printf("%-4s %-3s %-7s %-5s %-16s %-20s %-7s %-22s %-20s %s\n", "zone",
	    "dc", "machine", "held", "node", "host", "pid", "listen", "since",
	    "checkpoint");
	for (i = 0; i < n; i++) {
		const struct row *r = &rows[i];
		json_t *h = r->holder;
		json_t *l = json_array_get(json_object_get(h, "listen"), 0);

		if (r->held)
			timefmt_iso((int64_t)json_integer_value(
					json_object_get(h, "since")),
			    since, sizeof(since));
		else
			snprintf(since, sizeof(since), "-");
		if (r->checkpoint != 0)
			timefmt_iso(r->checkpoint, ckpt, sizeof(ckpt));
		else
			snprintf(ckpt, sizeof(ckpt), "-");
		printf(
		    "%-4u %-3u %-7u %-5s %-16s %-20s %-7lld %-22s %-20s %s\n",
		    r->zone, r->dc, r->machine, r->held ? "yes" : "no",
		    str(h, "node"), str(h, "host"),
		    (long long)json_integer_value(json_object_get(h, "pid")),
		    json_is_string(l) ? json_string_value(l) : "-", since,
		    ckpt);
	}
}

static void
print_json(const struct row *rows, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(a,
		    json_pack("{s:i, s:i, s:i, s:b, s:O?, s:I}", "zone",
			rows[i].zone, "dc", rows[i].dc, "machine",
			rows[i].machine, "held", rows[i].held, "holder",
			rows[i].holder, "checkpoint",
			(json_int_t)rows[i].checkpoint));
	json_dumpf(a, stdout, JSON_INDENT(2));
	printf("\n");
	json_decref(a);
}

int
ctl_fleet(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"json", no_argument, NULL, 'j'},
	    {"timeout", required_argument, NULL, 'T'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	static struct row rows[FLEET_MAX];
	const char *path = CTL_DEFAULT_CONFIG;
	uint64_t timeout = CTL_TIMEOUT_MS;
	struct cfg *c;
	struct etcd e;
	int ch, json = 0, rc = 0;
	size_t n = 0, i;

	ctl_getopt_reset();
	while ((ch = getopt_long(argc, argv, "c:jT:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'T':
			if (ctl_parse_timeout(optarg, &timeout) == -1)
				return EX_USAGE;
			break;
		case 'h':
			return ctl_usage("fleet", 1);
		default:
			return ctl_usage("fleet", 0);
		}
	}
	if (optind != argc)
		return ctl_usage("fleet", 0);
	if ((c = ctl_config(path, &rc)) == NULL)
		return rc;
	if (c->netcd == 0) {
		warnx(
		    "%s has no \"coordination\": its nodes take their"
		    " machine_id from the file, not from etcd (genid.json(5))",
		    path);
		free(c);
		return EX_CONFIG;
	}
	if (etcd_global_init() == -1) {
		warnx("curl_global_init failed");
		free(c);
		return EX_SOFTWARE;
	}
	if (etcd_open(&e, c, (long)timeout) == -1) {
		warnx("etcd: %s", e.err);
		free(c);
		return EX_SOFTWARE;
	}
	if (read_kind(&e, c, IDKEYS_MACHINES, rows, &n) == -1 ||
	    read_kind(&e, c, IDKEYS_CHECKPOINTS, rows, &n) == -1) {
		warnx("etcd: %s", e.err);
		rc = EX_UNAVAILABLE;
	}
	etcd_close(&e);
	free(c);
	if (rc == 0) {
		qsort(rows, n, sizeof(rows[0]), by_identity);
		if (json)
			print_json(rows, n);
		else
			print_text(rows, n);
	}
	for (i = 0; i < n; i++)
		json_decref(rows[i].holder);
	return ctl_finish(rc);
}
