/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * decode.c - the verbs that only compute with IDs: decode, encode, range.
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <jansson.h>

#include "clock.h"
#include "genidctl.h"
#include "timefmt.h"

/* Which of the node options of encode and range were given. */
enum node_opt {
	OPT_ZONE = 1 << 0,
	OPT_DC = 1 << 1,
	OPT_MACHINE = 1 << 2,
	OPT_NODE = OPT_ZONE | OPT_DC | OPT_MACHINE,
};

/* The node part of an ID: zone, dc and machine, as narrowed by range. */
struct node_filter {
	int depth; /* 0 none, 1 zone, 2 zone and dc, 3 the machine too */
	unsigned zone, dc, machine;
};

static int parse_id(
    const char *s, uint64_t *id, int *negative, char *err, size_t errlen);
static void note_negative(const char *s, uint64_t id, int64_t epoch);
static int decode_one(
    const char *s, const char *where, int json, int64_t epoch);
static int decode_stdin(int json, int64_t epoch);
static int parse_time(
    const char *name, const char *s, int64_t epoch, uint32_t *ts);
static void note_signed(uint64_t max, int64_t epoch);
static int node_option(
    int ch, const char *arg, struct node_filter *nf, unsigned *given);
static int node_depth(unsigned given);
static void node_sql(const struct node_filter *nf, char *buf, size_t len);
static void range_where(const struct node_filter *nf, uint32_t from,
    uint32_t to, struct id_fields *lo, struct id_fields *hi, char *where,
    size_t wlen, char *node, size_t nlen);
static int range_print(int json, int64_t epoch, int64_t from, int64_t to,
    uint64_t lo, uint64_t hi, const char *where, const char *node);

int
ctl_decode(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"epoch", required_argument, NULL, 'e'},
	    {"config", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct ctl_epoch e = {NULL, NULL, 0};
	int ch, i, json = 0, bad = 0, code;

	ctl_getopt_reset();
	while ((ch = getopt_long(argc, argv, "je:c:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 'e':
			e.arg = optarg;
			break;
		case 'c':
			e.config = optarg;
			break;
		case 'h':
			return ctl_usage("decode", 1);
		default:
			return ctl_usage("decode", 0);
		}
	}
	if ((code = ctl_epoch_resolve(&e)) != 0)
		return code;
	if (optind == argc)
		return decode_stdin(json, e.epoch);
	for (i = optind; i < argc; i++)
		bad |= decode_one(argv[i], NULL, json, e.epoch);
	return ctl_finish(bad ? EX_DATAERR : 0);
}

/*
 * An ID, or a negative decimal: a signed 64-bit column (SQL BIGINT, Java
 * long) shows an ID of 2^63 or more as its two's complement.
 */
static int
parse_id(const char *s, uint64_t *id, int *negative, char *err, size_t errlen)
{
	uint64_t v;

	s += strspn(s, " \t");
	*negative = *s == '-';
	if (*s != '-')
		return id_parse(s, id, err, errlen);
	if (id_parse_uint(s + 1, UINT64_C(1) << 63, &v, err, errlen) == -1) {
		if (id_parse_uint(s + 1, UINT64_MAX, &v, err, errlen) == 0)
			snprintf(err, errlen, "smaller than %lld",
			    (long long)INT64_MIN);
		return -1;
	}
	*id = ~v + 1;
	return 0;
}

/* Decodes one ID; 0, or 1 when s is no ID (reported, where it came from). */
static int
decode_one(const char *s, const char *where, int json, int64_t epoch)
{
	uint64_t id;
	char why[128], q[80], qw[128];
	int negative;

	if (parse_id(s, &id, &negative, why, sizeof(why)) == -1) {
		/* Keep the good IDs of the batch and this error in order. */
		fflush(stdout);
		warnx("%s%s\"%s\": %s", where != NULL ? where : "",
		    where != NULL ? ": " : "", ctl_quote(s, q, sizeof(q)),
		    ctl_quote(why, qw, sizeof(qw)));
		return 1;
	}
	if (json) {
		if (ctl_id_json(stdout, id, epoch) == -1)
			return 1;
	} else {
		ctl_id_line(stdout, id, epoch);
		putchar('\n');
	}
	if (negative)
		note_negative(s, id, epoch);
	else
		ctl_note_time(id, epoch);
	return 0;
}

/*
 * A negative number is an ID read as a signed 64-bit integer; its time is
 * 2^31 s or more after the epoch, which says nothing about the epoch: say
 * what the number is instead (once a run, after the line of its ID).
 */
static void
note_negative(const char *s, uint64_t id, int64_t epoch)
{
	static int noted;
	char q[80], from[TIMEFMT_LEN];
	int64_t top = epoch + ID_TS_SIGNED_LIMIT;

	if (noted)
		return;
	noted = 1;
	fflush(stdout);
	ctl_quote(s + strspn(s, " \t"), q, sizeof(q));
	timefmt_iso(top, from, sizeof(from));
	if (top > clock_real_s())
		warnx("note: %s is negative: read as a signed 64-bit integer"
		      " (SQL BIGINT, Java long) it is ID %llu; genid's IDs"
		      " stay below 2^63 until %s (2^31 s after epoch %lld),"
		      " so genid has not issued it: check where the number"
		      " came from",
		    q, (unsigned long long)id, from, (long long)epoch);
	else
		warnx("note: %s is negative: read as a signed 64-bit integer"
		      " (SQL BIGINT, Java long) it is ID %llu; IDs are that"
		      " large from %s (2^31 s after epoch %lld) on",
		    q, (unsigned long long)id, from, (long long)epoch);
}

static int
decode_stdin(int json, int64_t epoch)
{
	char *line = NULL, where[48];
	size_t cap = 0;
	ssize_t n;
	unsigned long lineno = 0;
	int bad = 0;

	while ((n = getline(&line, &cap, stdin)) != -1) {
		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (strspn(line, " \t") == (size_t)n)
			continue;
		snprintf(where, sizeof(where), "stdin line %lu", lineno);
		bad |= decode_one(line, where, json, epoch);
	}
	free(line);
	if (ferror(stdin)) {
		warn("read stdin");
		return ctl_finish(EX_IOERR);
	}
	return ctl_finish(bad ? EX_DATAERR : 0);
}

/*
 * Parses a time option (Unix seconds or ISO 8601) into a timestamp field:
 * 0, EX_USAGE when it is no time, EX_DATAERR when the ID cannot hold it.
 */
static int
parse_time(const char *name, const char *s, int64_t epoch, uint32_t *ts)
{
	char why[160], q[80], t[TIMEFMT_LEN], lim[TIMEFMT_LEN];
	int64_t v;

	if (timefmt_parse(s, &v, why, sizeof(why)) == -1) {
		warnx("%s \"%s\": %s", name, ctl_quote(s, q, sizeof(q)), why);
		return EX_USAGE;
	}
	if (v < epoch) {
		warnx("%s %s is before the epoch, %s", name,
		    timefmt_iso(v, t, sizeof(t)),
		    timefmt_iso(epoch, lim, sizeof(lim)));
		return EX_DATAERR;
	}
	if (v - epoch > (int64_t)ID_TS_MAX) {
		warnx("%s %s is after %s, the last second an ID can hold with"
		      " epoch %lld",
		    name, timefmt_iso(v, t, sizeof(t)),
		    timefmt_iso(epoch + ID_TS_MAX, lim, sizeof(lim)),
		    (long long)epoch);
		return EX_DATAERR;
	}
	*ts = (uint32_t)(v - epoch);
	return 0;
}

/* Warns when IDs up to max do not fit a signed 64-bit column. */
static void
note_signed(uint64_t max, int64_t epoch)
{
	char t[TIMEFMT_LEN];

	if (max <= (uint64_t)INT64_MAX)
		return;
	warnx("note: IDs made from %s on are 2^63 or more and do not fit a"
	      " signed 64-bit column (SQL BIGINT); a recent epoch avoids this",
	    timefmt_iso(epoch + ID_TS_SIGNED_LIMIT, t, sizeof(t)));
}

int
ctl_encode(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"time", required_argument, NULL, 't'},
	    {"zone", required_argument, NULL, 'z'},
	    {"dc", required_argument, NULL, 'd'},
	    {"machine", required_argument, NULL, 'm'},
	    {"bucket", required_argument, NULL, 'b'},
	    {"counter", required_argument, NULL, 'n'},
	    {"epoch", required_argument, NULL, 'e'},
	    {"hex", no_argument, NULL, 'x'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct node_filter nf = {0, 0, 0, 0};
	const char *when = NULL;
	struct id_fields f;
	uint64_t v[2] = {0, 0}, id;
	int64_t epoch = 0;
	unsigned given = 0;
	int ch, hex = 0, code;

	ctl_getopt_reset();
	while ((ch = getopt_long(
		    argc, argv, "t:z:d:m:b:n:e:xh", longopts, NULL)) != -1) {
		switch (ch) {
		case 't':
			when = optarg;
			break;
		case 'z':
		case 'd':
		case 'm':
			if (node_option(ch, optarg, &nf, &given) == -1)
				return EX_USAGE;
			break;
		case 'b':
			if (ctl_parse_uint("--bucket", optarg, 0, ID_BUCKET_MAX,
				&v[0]) == -1)
				return EX_USAGE;
			break;
		case 'n':
			if (ctl_parse_uint("--counter", optarg, 0,
				ID_COUNTER_MAX, &v[1]) == -1)
				return EX_USAGE;
			break;
		case 'e':
			if (ctl_parse_epoch(optarg, &epoch) == -1)
				return EX_USAGE;
			break;
		case 'x':
			hex = 1;
			break;
		case 'h':
			return ctl_usage("encode", 1);
		default:
			return ctl_usage("encode", 0);
		}
	}
	if (optind != argc)
		return ctl_usage("encode", 0);
	if (when == NULL || given != OPT_NODE) {
		warnx("encode needs --time, --zone, --dc and --machine");
		return ctl_usage("encode", 0);
	}
	if ((code = parse_time("--time", when, epoch, &f.ts)) != 0)
		return code;
	f.zone = nf.zone;
	f.dc = nf.dc;
	f.machine = nf.machine;
	f.bucket = (unsigned)v[0];
	f.counter = (unsigned)v[1];
	id = id_encode(&f);
	printf(hex ? "0x%016llx\n" : "%llu\n", (unsigned long long)id);
	note_signed(id, epoch);
	return ctl_finish(0);
}

/*
 * Parses --zone, --dc or --machine (ch 'z', 'd' or 'm') into nf and marks
 * it in *given; -1 (reported) when it is no number in the field's range.
 */
static int
node_option(int ch, const char *arg, struct node_filter *nf, unsigned *given)
{
	uint64_t v;

	switch (ch) {
	case 'z':
		if (ctl_parse_uint("--zone", arg, 0, ID_ZONE_MAX, &v) == -1)
			return -1;
		nf->zone = (unsigned)v;
		*given |= OPT_ZONE;
		break;
	case 'd':
		if (ctl_parse_uint("--dc", arg, 0, ID_DC_MAX, &v) == -1)
			return -1;
		nf->dc = (unsigned)v;
		*given |= OPT_DC;
		break;
	default:
		if (ctl_parse_uint("--machine", arg, 0, ID_MACHINE_MAX, &v) ==
		    -1)
			return -1;
		nf->machine = (unsigned)v;
		*given |= OPT_MACHINE;
		break;
	}
	return 0;
}

/*
 * How many node fields, from the zone down, the options given narrow the
 * IDs to (struct node_filter's depth); -1 when one is given without the
 * field above it: lower fields vary inside a node's part of the ID, never
 * above it.
 */
static int
node_depth(unsigned given)
{
	switch (given) {
	case 0:
		return 0;
	case OPT_ZONE:
		return 1;
	case OPT_ZONE | OPT_DC:
		return 2;
	case OPT_NODE:
		return 3;
	default:
		return -1;
	}
}

/* The SQL test of the node bits: "((id >> 21) & 2047) = 1234". */
static void
node_sql(const struct node_filter *nf, char *buf, size_t len)
{
	static const unsigned shift[] = {
	    0, ID_ZONE_SHIFT, ID_DC_SHIFT, ID_MACHINE_SHIFT};
	unsigned v = nf->zone;

	if (nf->depth >= 2)
		v = v << 3 | nf->dc;
	if (nf->depth >= 3)
		v = v << 3 | nf->machine;
	snprintf(buf, len, "((id >> %u) & %u) = %u", shift[nf->depth],
	    (1u << (32 - shift[nf->depth])) - 1, v);
}

int
ctl_range(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"zone", required_argument, NULL, 'z'},
	    {"dc", required_argument, NULL, 'd'},
	    {"machine", required_argument, NULL, 'm'},
	    {"epoch", required_argument, NULL, 'e'},
	    {"config", required_argument, NULL, 'c'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct node_filter nf = {0, 0, 0, 0};
	struct ctl_epoch e = {NULL, NULL, 0};
	struct id_fields lo, hi;
	uint32_t from, to;
	int64_t epoch;
	char node[64] = "", where[160];
	unsigned given = 0;
	int ch, json = 0, code;

	ctl_getopt_reset();
	while ((ch = getopt_long(argc, argv, "z:d:m:e:c:jh", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'z':
		case 'd':
		case 'm':
			if (node_option(ch, optarg, &nf, &given) == -1)
				return EX_USAGE;
			break;
		case 'e':
			e.arg = optarg;
			break;
		case 'c':
			e.config = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			return ctl_usage("range", 1);
		default:
			return ctl_usage("range", 0);
		}
	}
	if (argc - optind != 2)
		return ctl_usage("range", 0);
	if ((code = ctl_epoch_resolve(&e)) != 0)
		return code;
	epoch = e.epoch;
	if ((nf.depth = node_depth(given)) == -1) {
		warnx("--dc needs --zone, and --machine needs --dc");
		return ctl_usage("range", 0);
	}
	if ((code = parse_time("FROM", argv[optind], epoch, &from)) != 0 ||
	    (code = parse_time("TO", argv[optind + 1], epoch, &to)) != 0)
		return code;
	if (from > to) {
		warnx("FROM %s is after TO %s", argv[optind], argv[optind + 1]);
		return EX_DATAERR;
	}
	range_where(
	    &nf, from, to, &lo, &hi, where, sizeof(where), node, sizeof(node));
	note_signed(id_encode(&hi), epoch);
	return ctl_finish(range_print(json, epoch, epoch + from, epoch + to,
	    id_encode(&lo), id_encode(&hi), where, node));
}

/*
 * The lowest and highest ID of nf's nodes from second from to second to,
 * and the WHERE clause that selects them; node is the test of the node
 * bits in it, or "" when the bounds are exact.
 */
static void
range_where(const struct node_filter *nf, uint32_t from, uint32_t to,
    struct id_fields *lo, struct id_fields *hi, char *where, size_t wlen,
    char *node, size_t nlen)
{
	*lo = (struct id_fields){from, nf->zone, nf->dc, nf->machine, 0, 0};
	*hi = (struct id_fields){to, nf->depth >= 1 ? nf->zone : ID_ZONE_MAX,
	    nf->depth >= 2 ? nf->dc : ID_DC_MAX,
	    nf->depth >= 3 ? nf->machine : ID_MACHINE_MAX, ID_BUCKET_MAX,
	    ID_COUNTER_MAX};
	snprintf(where, wlen, "WHERE id BETWEEN %llu AND %llu",
	    (unsigned long long)id_encode(lo),
	    (unsigned long long)id_encode(hi));
	/*
	 * The time is the highest field: the IDs of one node in one second
	 * are contiguous, but over several seconds every other node's IDs
	 * of the seconds in between fall inside the bounds too.
	 */
	if (nf->depth > 0 && from != to) {
		node_sql(nf, node, nlen);
		snprintf(where + strlen(where), wlen - strlen(where), " AND %s",
		    node);
		warnx("note: over %llu seconds, IDs of other nodes lie between"
		      " the bounds; the WHERE clause also tests the node bits",
		    (unsigned long long)to - from + 1);
	}
}

static int
range_print(int json, int64_t epoch, int64_t from, int64_t to, uint64_t lo,
    uint64_t hi, const char *where, const char *node)
{
	char tf[TIMEFMT_LEN], tt[TIMEFMT_LEN], slo[CTL_U64_LEN],
	    shi[CTL_U64_LEN];
	json_t *o;
	int r;

	timefmt_iso(from, tf, sizeof(tf));
	timefmt_iso(to, tt, sizeof(tt));
	snprintf(slo, sizeof(slo), "%llu", (unsigned long long)lo);
	snprintf(shi, sizeof(shi), "%llu", (unsigned long long)hi);
	if (!json) {
		printf("min %-20s  %s\nmax %-20s  %s\n%s\n", slo, tf, shi, tt,
		    where);
		return 0;
	}
	o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:b, s:s?, s:s}",
	    "min", slo, "max", shi, "from", tf, "to", tt, "from_unix",
	    (json_int_t)from, "to_unix", (json_int_t)to, "epoch",
	    (json_int_t)epoch, "exact", node[0] == '\0', "node_test",
	    node[0] != '\0' ? node : NULL, "where", where);
	if (o == NULL)
		return EX_SOFTWARE;
	r = json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	putchar('\n');
	return r == 0 ? 0 : EX_IOERR;
}
