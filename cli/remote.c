/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * remote.c - the verbs that talk to a running genid, through libgenid:
 * info and get.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "addr.h"
#include "genid.h"
#include "genidctl.h"
#include "peers.h"
#include "timefmt.h"

/*
 * IDs asked of genid_bulk at a time and printed before the next: what
 * libgenid writes in one go (32 requests of 255), so that the output
 * streams and memory stays small for any -n.
 */
#define GET_BATCH (32 * 255)

static int remote_open(
    const char *addr, uint64_t timeout_ms, struct genid_client **c);
static int info_print(const json_t *info);
static int get_run(struct genid_client *c, uint64_t n, int decode);
static int get_epoch(struct genid_client *c, int64_t *epoch);
static void get_print(uint64_t id, int64_t epoch, int decode);

int
ctl_info(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"timeout", required_argument, NULL, 'T'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct genid_client *c;
	uint64_t timeout = CTL_TIMEOUT_MS;
	json_t *info;
	char why[1024], *text;
	int ch, json = 0, code;

	ctl_getopt_reset();
	while ((ch = getopt_long(argc, argv, "jT:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 'T':
			if (ctl_parse_timeout(optarg, &timeout) == -1)
				return EX_USAGE;
			break;
		case 'h':
			return ctl_usage("info", 1);
		default:
			return ctl_usage("info", 0);
		}
	}
	if (argc - optind != 1)
		return ctl_usage("info", 0);
	if ((code = remote_open(argv[optind], timeout, &c)) != 0)
		return code;
	code = peers_info(c, &info, &text, why, sizeof(why));
	genid_close(c);
	if (code != 0) {
		warnx("%s", why);
		return code;
	}
	if (json)
		printf("%s\n", text);
	else
		info_print(info);
	free(text);
	json_decref(info);
	return ctl_finish(0);
}

/*
 * A client for the one address of the command line, with timeout_ms to
 * connect and for each reply.  The core's parser says what is wrong with
 * a bad address, where genid_open only refuses it.  0, or the exit code.
 */
static int
remote_open(const char *addr, uint64_t timeout_ms, struct genid_client **c)
{
	struct genid_options opt;
	char host[256], why[128];
	unsigned port = GENID_PORT;
	int has_port, code;

	if (addr_parse(addr, host, sizeof(host), &port, &has_port, why,
		sizeof(why)) == -1) {
		warnx("%s: %s", addr, why);
		return EX_USAGE;
	}
	if (host[0] == '\0' || port == 0) {
		warnx("%s: %s", addr,
		    host[0] == '\0' ? "no host" : "port 0: want 1..65535");
		return EX_USAGE;
	}
	memset(&opt, 0, sizeof(opt));
	opt.connect_timeout_ms = (int)timeout_ms;
	opt.io_timeout_ms = (int)timeout_ms;
	if ((*c = genid_open(&addr, 1, &opt)) == NULL) {
		code = errno == ENOMEM ? EX_OSERR : EX_USAGE;
		warn("genid_open %s", addr);
		return code;
	}
	return 0;
}

/* One key a line, in the server's order; Unix times also in ISO 8601. */
static int
info_print(const json_t *info)
{
	static const char *const times[] = {"epoch", "now", "checkpoint"};
	const char *key;
	json_t *v;
	void *it;
	char t[TIMEFMT_LEN], *s;
	size_t i;
	int w = 0;

	for (it = json_object_iter((json_t *)info); it != NULL;
	     it = json_object_iter_next((json_t *)info, it))
		if ((int)strlen(json_object_iter_key(it)) > w)
			w = (int)strlen(json_object_iter_key(it));
	for (it = json_object_iter((json_t *)info); it != NULL;
	     it = json_object_iter_next((json_t *)info, it)) {
		key = json_object_iter_key(it);
		v = json_object_iter_value(it);
		if (json_is_string(v)) {
			printf("%-*s  %s\n", w, key, json_string_value(v));
			continue;
		}
		if ((s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT)) == NULL)
			return -1;
		for (i = 0; i < sizeof(times) / sizeof(times[0]); i++)
			if (json_is_integer(v) && strcmp(key, times[i]) == 0)
				break;
		if (i < sizeof(times) / sizeof(times[0]))
			printf("%-*s  %s (%s)\n", w, key, s,
			    timefmt_iso(json_integer_value(v), t, sizeof(t)));
		else
			printf("%-*s  %s\n", w, key, s);
		free(s);
	}
	return 0;
}

int
ctl_get(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"count", required_argument, NULL, 'n'},
	    {"decode", no_argument, NULL, 'D'},
	    {"timeout", required_argument, NULL, 'T'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct genid_client *c;
	uint64_t n = 1, timeout = CTL_TIMEOUT_MS;
	int ch, decode = 0, code;

	ctl_getopt_reset();
	while ((ch = getopt_long(argc, argv, "n:DT:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			if (ctl_parse_uint("-n", optarg, 1, 1000000000, &n) ==
			    -1)
				return EX_USAGE;
			break;
		case 'D':
			decode = 1;
			break;
		case 'T':
			if (ctl_parse_timeout(optarg, &timeout) == -1)
				return EX_USAGE;
			break;
		case 'h':
			return ctl_usage("get", 1);
		default:
			return ctl_usage("get", 0);
		}
	}
	if (argc - optind != 1)
		return ctl_usage("get", 0);
	if ((code = remote_open(argv[optind], timeout, &c)) != 0)
		return code;
	code = get_run(c, n, decode);
	genid_close(c);
	return ctl_finish(code);
}

/*
 * One ID is a CMD 0 (genid_next), more go through genid_bulk.  IDs that
 * came before a failure are printed, then the failure; libgenid hands out
 * no ID that breaks the order of its connection.
 */
static int
get_run(struct genid_client *c, uint64_t n, int decode)
{
	uint64_t *ids, id, done;
	int64_t epoch = 0;
	ssize_t got, i;
	size_t want;
	int code, errnum;

	if (decode && (code = get_epoch(c, &epoch)) != 0)
		return code;
	if (n == 1) {
		if (genid_next(c, &id) == -1) {
			errnum = errno;
			warnx("%s", genid_strerror(c));
			return peers_exit_code(errnum);
		}
		get_print(id, epoch, decode);
		return 0;
	}
	if ((ids = calloc(GET_BATCH, sizeof(*ids))) == NULL) {
		warn("malloc");
		return EX_OSERR;
	}
	for (code = 0, done = 0; done < n && code == 0; done += want) {
		want = n - done < GET_BATCH ? (size_t)(n - done) : GET_BATCH;
		got = genid_bulk(c, ids, want);
		errnum = errno;
		for (i = 0; i < got; i++)
			get_print(ids[i], epoch, decode);
		if (got != (ssize_t)want) {
			warnx("%s", genid_strerror(c));
			code = peers_exit_code(errnum);
		}
	}
	free(ids);
	return code;
}

/* The epoch of the server's IDs, from its INFO (0 when it names none). */
static int
get_epoch(struct genid_client *c, int64_t *epoch)
{
	json_int_t e;
	json_t *info;
	char why[1024];
	int code;

	if ((code = peers_info(c, &info, NULL, why, sizeof(why))) != 0) {
		warnx("%s", why);
		return code;
	}
	if (json_unpack(info, "{s:I}", "epoch", &e) == 0)
		*epoch = e;
	json_decref(info);
	return 0;
}

static void
get_print(uint64_t id, int64_t epoch, int decode)
{
	if (!decode) {
		printf("%llu\n", (unsigned long long)id);
		return;
	}
	ctl_id_line(stdout, id, epoch);
	putchar('\n');
}
