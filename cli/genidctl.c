/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * genidctl.c - the admin CLI of genid: command dispatch, usage, and the
 * helpers the verbs share.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include <bsd/stdlib.h>

#include <jansson.h>

#include "clock.h"
#include "../src/config.h"
#include "genidctl.h"
#include "timefmt.h"

/* An epoch above this (the year 5138 in seconds) was given in ms. */
#define EPOCH_MS_LIKELY 100000000000LL
/* 2000-01-01T00:00:00Z: no genid ID is older. */
#define PLAUSIBLE_FROM 946684800LL
/* How far ahead of the clock a node may hand out IDs: twice the largest
 * max_ahead_s and the seconds of a restart (genid(8)). */
#define PLAUSIBLE_AHEAD_S (2 * 3600 + 2)

struct verb {
	const char *name;
	int (*run)(int, char **);
	const char *args;
	const char *brief;
	const char *summary;
	const char *options;
};

static const struct verb *verb_find(const char *name);
static void usage_all(FILE *out);

static const struct verb verbs[] = {
    {"decode", ctl_decode, "[--json] [--epoch SECONDS | -c CONFIG] [ID ...]",
	"show the time and fields of IDs",
	"Prints the time and fields of each ID (decimal or 0x-hex; a\n"
	"negative decimal is a signed 64-bit column's view of an ID);\n"
	"reads one ID a line from stdin when none is given.",
	"  -j, --json             one JSON object a line\n"
	"  -e, --epoch SECONDS    epoch of the IDs, Unix seconds or ISO 8601"
	" (0)\n"
	"  -c, --config FILE      take the epoch from this configuration\n"},
    {"encode", ctl_encode,
	"--time T --zone Z --dc D --machine M [--bucket B] [--counter C]\n"
	"       [--epoch SECONDS] [--hex]",
	"pack fields into an ID", "Packs the fields into an ID and prints it.",
	"  -t, --time T           Unix seconds or YYYY-MM-DDTHH:MM:SSZ\n"
	"  -z, --zone Z           0..31\n"
	"  -d, --dc D             0..7\n"
	"  -m, --machine M        0..7\n"
	"  -b, --bucket B         0..31 (0)\n"
	"  -n, --counter C        0..65535 (0)\n"
	"  -e, --epoch SECONDS    epoch of the ID (0)\n"
	"  -x, --hex              print 0x-hex instead of decimal\n"},
    {"range", ctl_range,
	"[--json] [--epoch SECONDS | -c CONFIG]\n"
	"       [--zone Z [--dc D [--machine M]]] FROM TO",
	"the first and last ID of a time span, for SQL",
	"Prints the smallest and largest ID of the seconds FROM..TO"
	" (inclusive)\nand a WHERE clause that selects them.",
	"  -z, --zone Z           only the IDs of zone Z\n"
	"  -d, --dc D             ... and of data centre D\n"
	"  -m, --machine M        ... and of machine M\n"
	"  -e, --epoch SECONDS    epoch of the IDs (0)\n"
	"  -c, --config FILE      take the epoch from this configuration\n"
	"  -j, --json             print a JSON object\n"},
    {"stats", ctl_stats,
	"[-s STATE_FILE | -c CONFIG] [--json | --prometheus]\n"
	"       [--watch SECS [--count N]]",
	"live counters from a state file",
	"Prints the live counters of a node from its state file.",
	"  -s, --state FILE       the state file\n"
	"  -c, --config FILE      take the state file from this config\n"
	"  -j, --json             print a JSON object\n"
	"  -p, --prometheus       Prometheus text exposition format\n"
	"  -w, --watch SECS       redraw every SECS seconds, with rates\n"
	"  -n, --count N          stop after N redraws\n"},
    {"info", ctl_info, "[--json] [--timeout MS] HOST[:PORT]",
	"INFO of a running genid",
	"Asks a running genid for its INFO (port 3778 by default).",
	"  -j, --json             print the JSON as received\n"
	"  -T, --timeout MS       connect and read timeout (2000)\n"},
    {"get", ctl_get, "[-n N] [--decode] [--timeout MS] HOST[:PORT]",
	"fetch IDs from a running genid",
	"Fetches N IDs from a running genid, one a line.",
	"  -n, --count N          how many IDs (1)\n"
	"  -D, --decode           print the fields of each ID too\n"
	"  -T, --timeout MS       connect and read timeout (2000)\n"},
    {"check", ctl_check, "[-c CONFIG] [--peers] [--timeout MS]",
	"validate a configuration file",
	"Validates a configuration file the way genid does.",
	"  -c, --config FILE      the file (" CTL_DEFAULT_CONFIG ")\n"
	"  -P, --peers            ask each peer for its identity too\n"
	"  -T, --timeout MS       timeout for each peer (2000)\n"},
    {"fleet", ctl_fleet, "[-c CONFIG] [--json] [--timeout MS]",
	"list the machine ids held in etcd",
	"Lists which node holds which machine id in the configuration's etcd\n"
	"(coordination), and the checkpoint etcd keeps for each id.",
	"  -c, --config FILE      the file (" CTL_DEFAULT_CONFIG ")\n"
	"  -j, --json             one JSON array\n"
	"  -T, --timeout MS       timeout for each etcd request (2000)\n"},
};

static const struct verb *
verb_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(verbs[i].name, name) == 0)
			return &verbs[i];
	return NULL;
}

static void
usage_all(FILE *out)
{
	size_t i;

	fprintf(out, "usage: genidctl [-hV] COMMAND [ARG ...]\n\ncommands:\n");
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(out, "  %-8s%s\n", verbs[i].name, verbs[i].brief);
	fprintf(out, "\nRun 'genidctl COMMAND --help' for its options.\n");
}

int
ctl_usage(const char *name, int help)
{
	const struct verb *v = verb_find(name);
	FILE *out = help ? stdout : stderr;

	fprintf(out, "usage: genidctl %s %s\n", v->name, v->args);
	if (!help)
		return EX_USAGE;
	fprintf(out, "\n%s\n\n%s  -h, --help             this help\n",
	    v->summary, v->options);
	return 0;
}

void
ctl_getopt_reset(void)
{
	/*
	 * glibc reads the ordering flags of the option string only when
	 * optind is 0; 1 would keep main's "+" and stop at the first
	 * operand, so "decode 42 --json" would not work.
	 */
	optind = 0;
}

int
ctl_parse_timeout(const char *s, uint64_t *ms)
{
	return ctl_parse_uint("--timeout", s, 1, 3600000, ms);
}

int
ctl_parse_uint(
    const char *name, const char *s, uint64_t min, uint64_t max, uint64_t *v)
{
	char why[128], q[80], qw[128];

	if (id_parse_uint(s, UINT64_MAX, v, why, sizeof(why)) == -1) {
		warnx("%s \"%s\": %s", name, ctl_quote(s, q, sizeof(q)),
		    ctl_quote(why, qw, sizeof(qw)));
		return -1;
	}
	if (*v < min || *v > max) {
		warnx("%s %s: out of range %llu..%llu", name,
		    ctl_quote(s, q, sizeof(q)), (unsigned long long)min,
		    (unsigned long long)max);
		return -1;
	}
	return 0;
}

int
ctl_parse_epoch(const char *s, int64_t *epoch)
{
	char why[128], q[80];

	if (timefmt_parse(s, epoch, why, sizeof(why)) == -1) {
		warnx("--epoch \"%s\": %s", ctl_quote(s, q, sizeof(q)), why);
		return -1;
	}
	if (*epoch < 0) {
		warnx("--epoch %s: before 1970-01-01T00:00:00Z",
		    ctl_quote(s, q, sizeof(q)));
		return -1;
	}
	if (*epoch > EPOCH_MS_LIKELY && *epoch / 1000 <= clock_real_s()) {
		warnx("--epoch %s looks like milliseconds: the epoch is in Unix"
		      " seconds (%lld?)",
		    ctl_quote(s, q, sizeof(q)), (long long)(*epoch / 1000));
		return -1;
	}
	if (*epoch > clock_real_s()) {
		warnx("--epoch %s: in the future; genid refuses such an epoch,"
		      " so no ID was made with it",
		    ctl_quote(s, q, sizeof(q)));
		return -1;
	}
	return 0;
}

int
ctl_epoch_resolve(struct ctl_epoch *e)
{
	struct cfg *c;
	int code;

	e->epoch = 0;
	if (e->arg != NULL && e->config != NULL) {
		warnx("--epoch and -c both give the epoch: use one of them");
		return EX_USAGE;
	}
	if (e->arg != NULL)
		return ctl_parse_epoch(e->arg, &e->epoch) == -1 ? EX_USAGE : 0;
	if (e->config == NULL)
		return 0;
	if ((c = ctl_config(e->config, &code)) == NULL)
		return code;
	e->epoch = c->epoch;
	free(c);
	return 0;
}

struct cfg *
ctl_config(const char *path, int *code)
{
	struct cfg *c;
	char why[1024];

	/* struct cfg holds several paths: too large for the stack. */
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		warnx(
		    "read %s: out of memory", path != NULL ? path : "defaults");
		*code = EX_OSERR;
		return NULL;
	}
	if (path == NULL) {
		cfg_defaults(c);
		return c;
	}
	if (cfg_load(c, path, clock_real_s(), why, sizeof(why)) == -1) {
		warnx("%s", why);
		free(c);
		*code = EX_CONFIG;
		return NULL;
	}
	return c;
}

void
ctl_note_time(uint64_t id, int64_t epoch)
{
	static int noted;
	int64_t t = id_unix_time(id, epoch);
	char when[TIMEFMT_LEN];

	if (noted ||
	    (t >= PLAUSIBLE_FROM && t <= clock_real_s() + PLAUSIBLE_AHEAD_S))
		return;
	noted = 1;
	/* Keep the note after the line of the ID it is about. */
	fflush(stdout);
	warnx("note: ID %llu is from %s, %s: was it made with another epoch?"
	      " (this one is %lld; give the IDs' own with --epoch or -c)",
	    (unsigned long long)id, timefmt_iso(t, when, sizeof(when)),
	    t < PLAUSIBLE_FROM ? "before 2000" : "in the future",
	    (long long)epoch);
}

const char *
ctl_quote(const char *s, char *buf, size_t len)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < len; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	buf[i] = '\0';
	if (s[i] != '\0' && len > 4)
		memcpy(buf + len - 4, "...", 4);
	return buf;
}

void
ctl_id_line(FILE *out, uint64_t id, int64_t epoch)
{
	struct id_fields f;
	char t[TIMEFMT_LEN];

	id_decode(id, &f);
	fprintf(out,
	    "%-20llu  %s  zone %-2u  dc %u  machine %u  bucket %-2u"
	    "  counter %u",
	    (unsigned long long)id,
	    timefmt_iso(id_unix_time(id, epoch), t, sizeof(t)), f.zone, f.dc,
	    f.machine, f.bucket, f.counter);
}

int
ctl_id_json(FILE *out, uint64_t id, int64_t epoch)
{
	struct id_fields f;
	char t[TIMEFMT_LEN], dec[CTL_U64_LEN], hex[19];
	json_t *o;
	int r;

	id_decode(id, &f);
	snprintf(dec, sizeof(dec), "%llu", (unsigned long long)id);
	snprintf(hex, sizeof(hex), "0x%016llx", (unsigned long long)id);
	/*
	 * The ID is a string: above 2^53 a JavaScript number loses digits,
	 * and from 2^63 on it does not fit jansson's (signed) integer.
	 */
	o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:i, s:i, s:i, s:i, s:i}",
	    "id", dec, "hex", hex, "time",
	    timefmt_iso(id_unix_time(id, epoch), t, sizeof(t)), "unix",
	    (json_int_t)id_unix_time(id, epoch), "ts", (json_int_t)f.ts,
	    "epoch", (json_int_t)epoch, "zone", (int)f.zone, "dc", (int)f.dc,
	    "machine", (int)f.machine, "bucket", (int)f.bucket, "counter",
	    (int)f.counter);
	if (o == NULL)
		return -1;
	r = json_dumpf(o, out, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (r == 0)
		fputc('\n', out);
	return r;
}

int
ctl_finish(int code)
{
	if (fflush(stdout) == EOF || ferror(stdout)) {
		warn("write standard output");
		return EX_IOERR;
	}
	return code;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	const struct verb *v;
	int ch;

	while ((ch = getopt_long(argc, argv, "+hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage_all(stdout);
			return ctl_finish(0);
		case 'V':
			printf("genidctl %s\n", PACKAGE_VERSION);
			return ctl_finish(0);
		default:
			usage_all(stderr);
			return EX_USAGE;
		}
	}
	if (optind == argc) {
		usage_all(stderr);
		return EX_USAGE;
	}
	if ((v = verb_find(argv[optind])) == NULL) {
		warnx("unknown command \"%s\"; try genidctl --help",
		    argv[optind]);
		return EX_USAGE;
	}
	/* getopt names argv[0] in its messages: make it the program. */
	argv[optind] = (char *)getprogname();
	return v->run(argc - optind, argv + optind);
}
