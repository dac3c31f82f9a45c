/*
 * remote.c - the verbs that talk to a running genid: info and get.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "genidctl.h"
#include "net.h"
#include "timefmt.h"

/* IDs asked for in one CMD 1 frame, and frames sent before reading. */
#define GET_CHUNK 255
#define GET_WINDOW 16

static int info_print(const json_t *info);
static int get_run(
    struct net_conn *c, uint64_t n, int decode, char *err, size_t errlen);
static int get_chunks(struct net_conn *c, uint64_t n, int64_t epoch, int decode,
    uint64_t *prev, char *err, size_t errlen);
static int get_print(uint64_t id, int64_t epoch, int decode, uint64_t *prev);

int
ctl_info(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"timeout", required_argument, NULL, 'T'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct net_addr a;
	uint64_t timeout = NET_TIMEOUT_MS;
	json_t *info;
	char why[512], *text;
	int ch, json = 0, code;

	ctl_getopt_reset();
	while ((ch = getopt_long(argc, argv, "jT:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 'T':
			if (ctl_parse_uint("--timeout", optarg, 1, 3600000,
				&timeout) == -1)
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
	if (net_parse_addr(argv[optind], &a, why, sizeof(why)) == -1) {
		warnx("%s: %s", argv[optind], why);
		return EX_USAGE;
	}
	if ((code = net_info(
		 &a, (int)timeout, &info, &text, why, sizeof(why))) != 0) {
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
	struct net_addr a;
	struct net_conn c;
	uint64_t n = 1, timeout = NET_TIMEOUT_MS;
	char why[512];
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
			if (ctl_parse_uint("--timeout", optarg, 1, 3600000,
				&timeout) == -1)
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
	if (net_parse_addr(argv[optind], &a, why, sizeof(why)) == -1) {
		warnx("%s: %s", argv[optind], why);
		return EX_USAGE;
	}
	if ((code = net_connect(&c, &a, (int)timeout, why, sizeof(why))) != 0) {
		warnx("%s", why);
		return code;
	}
	why[0] = '\0';
	code = get_run(&c, n, decode, why, sizeof(why));
	net_close(&c);
	if (code != 0 && why[0] != '\0')
		warnx("%s", why);
	return ctl_finish(code);
}

static int
get_run(struct net_conn *c, uint64_t n, int decode, char *err, size_t errlen)
{
	static const unsigned char one[2] = {0, 0};
	unsigned char buf[8];
	uint64_t id, prev = 0;
	int64_t epoch = 0;
	json_int_t e;
	json_t *info;
	json_error_t je;
	char *text;
	size_t len;
	int code;

	if (decode) {
		/* The server knows the epoch its IDs are made with. */
		if ((code = net_info_text(c, &text, &len, err, errlen)) != 0)
			return code;
		info = json_loadb(text, len, 0, &je);
		if (json_unpack(info, "{s:I}", "epoch", &e) == 0)
			epoch = e;
		json_decref(info);
		free(text);
	}
	if (n > 1)
		return get_chunks(c, n, epoch, decode, &prev, err, errlen);
	if ((code = net_write(c, one, sizeof(one), err, errlen)) != 0 ||
	    (code = net_read(c, buf, sizeof(buf), err, errlen)) != 0)
		return code;
	id = (uint64_t)buf[0] << 56 | (uint64_t)buf[1] << 48 |
	    (uint64_t)buf[2] << 40 | (uint64_t)buf[3] << 32 |
	    (uint64_t)buf[4] << 24 | (uint64_t)buf[5] << 16 |
	    (uint64_t)buf[6] << 8 | buf[7];
	return get_print(id, epoch, decode, &prev) ? EX_PROTOCOL : 0;
}

/*
 * CMD 1 frames of up to 255 IDs, GET_WINDOW of them in flight.  A short
 * reply (the bucket is used up for now) is made good by asking again; a
 * window that brought nothing asks with CMD 0 once, which waits in the
 * server for the next second instead of spinning here.
 */
static int
get_chunks(struct net_conn *c, uint64_t n, int64_t epoch, int decode,
    uint64_t *prev, char *err, size_t errlen)
{
	unsigned char req[GET_WINDOW * 2], m, ids[GET_CHUNK * 8];
	uint64_t asked, before, got = 0, id;
	unsigned frames, i, j;
	int code, bad = 0, waitone = 0;

	while (got < n) {
		if (waitone) {
			req[0] = 0;
			req[1] = 0;
			frames = 1;
		} else {
			for (frames = 0, asked = 0;
			     frames < GET_WINDOW && got + asked < n; frames++) {
				req[frames * 2] = 1;
				req[frames * 2 + 1] =
				    (unsigned char)(n - got - asked < GET_CHUNK
					    ? n - got - asked
					    : GET_CHUNK);
				asked += req[frames * 2 + 1];
			}
		}
		if ((code = net_write(c, req, frames * 2, err, errlen)) != 0)
			return code;
		for (before = got, i = 0; i < frames; i++) {
			m = 1;
			if (req[i * 2] == 1 &&
			    (code = net_read(c, &m, 1, err, errlen)) != 0)
				return code;
			if (req[i * 2] == 1 && m > req[i * 2 + 1]) {
				snprintf(err, errlen,
				    "read %s: %u IDs in reply"
				    " to a request for %u",
				    c->peer, m, req[i * 2 + 1]);
				return EX_PROTOCOL;
			}
			if ((code = net_read(
				 c, ids, (size_t)m * 8, err, errlen)) != 0)
				return code;
			for (j = 0; j < m; j++) {
				const unsigned char *p = ids + j * 8;

				id = (uint64_t)p[0] << 56 |
				    (uint64_t)p[1] << 48 |
				    (uint64_t)p[2] << 40 |
				    (uint64_t)p[3] << 32 |
				    (uint64_t)p[4] << 24 |
				    (uint64_t)p[5] << 16 | (uint64_t)p[6] << 8 |
				    p[7];
				if (get_print(id, epoch, decode, prev) != 0)
					bad = 1;
			}
			got += m;
		}
		waitone = !waitone && got == before;
	}
	return bad ? EX_PROTOCOL : 0;
}

/* Prints one ID, and complains when it is not above the one before. */
static int
get_print(uint64_t id, int64_t epoch, int decode, uint64_t *prev)
{
	int bad = *prev != 0 && id <= *prev;

	if (bad)
		warnx("ID %llu is not above the one before, %llu: IDs of one"
		      " connection must increase",
		    (unsigned long long)id, (unsigned long long)*prev);
	*prev = id;
	if (!decode) {
		printf("%llu\n", (unsigned long long)id);
		return bad;
	}
	ctl_id_line(stdout, id, epoch);
	putchar('\n');
	return bad;
}
