/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * genid-clients.c - "what does an ID cost my application?": one
 * application thread asks each ID source in turn through its usual client
 * library, for a fixed time each, and the table gives IDs/s, the time per
 * ID and per call, and the ratio to genid.
 *
 *   genid       libgenid: genid_next, genid_bulk(255), genid_next with
 *               prefetch
 *   redis       hiredis: INCR one at a time, 255 INCR pipelined
 *   postgresql  libpq: SELECT nextval() one at a time, 255 at a time
 *               through generate_series (prepared statements)
 *   uuid        libuuid: uuid_generate_time, in process, no service
 *
 * The client libraries are optional at build time (configure looks for
 * them); a row whose library or server is missing says so.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "genid.h"
#ifdef HAVE_HIREDIS
#include <hiredis/hiredis.h>
#endif
#ifdef HAVE_LIBPQ
#include <libpq-fe.h>
#endif
#ifdef HAVE_UUID
#include <uuid/uuid.h>
#endif

#define BATCH 255
#define PREFETCH 4096

struct row {
	const char *source;
	const char *how;
	const char *missing; /* why the row did not run, or NULL */
	int kind;	     /* what it is compared with: see genid_ref */
	uint64_t ids;
	uint64_t calls;
	double secs;
	uint64_t hist[HIST_BUCKETS]; /* per call, ns */
};

enum { KIND_ONE, KIND_BATCH, KIND_LOCAL };

/* One call: stores the IDs it got in ids (room for BATCH) and returns how
 * many, or -1 on an error (message in err_msg). */
typedef int (*call_fn)(void *ctx, uint64_t *ids);

static double opt_secs = 2;
static double opt_warmup = 0.2;
static char err_msg[512];

static void usage(int code) __attribute__((noreturn));
static int measure(struct row *r, call_fn fn, void *ctx);
static void print_table(struct row *rows, unsigned n, int json);

static void
usage(int code)
{
	fprintf(code ? stderr : stdout,
	    "usage: genid-clients [--genid host:port] [--redis host:port]"
	    " [--pg conninfo]\n"
	    "                     [-s seconds] [-w warmup] [--json]\n"
	    "Each ID source is measured for -s seconds (2) from this one"
	    " thread;\na source not given is reported as skipped."
	    " Only loopback servers belong here.\n");
	exit(code);
}

/*
 * Calls fn for the warm-up, then for opt_secs, timing every call (the
 * clock read, some 20-30 ns, is in the figures of the in-process rows).
 * A call that returns no ID ends the program with its error.
 */
static int
measure(struct row *r, call_fn fn, void *ctx)
{
	uint64_t ids[BATCH];
	int64_t start, end, t0, t1;
	int n, timing = 0;

	start = bench_mono_ns();
	end = start + (int64_t)(opt_warmup * NS);
	for (t0 = start;; t0 = t1) {
		if ((n = fn(ctx, ids)) <= 0) {
			if (n == 0)
				snprintf(err_msg, sizeof(err_msg),
				    "no ID in a reply");
			return -1;
		}
		t1 = bench_mono_ns();
		if (timing) {
			r->hist[hist_index((uint64_t)(t1 - t0))]++;
			r->calls++;
			r->ids += (uint64_t)n;
		}
		if (t1 >= end) {
			if (timing)
				break;
			timing = 1;
			start = t1;
			end = t1 + (int64_t)(opt_secs * NS);
		}
	}
	r->secs = (double)(t1 - start) / NS;
	return 0;
}

/* --- genid --------------------------------------------------------- */

static int
genid_one(void *ctx, uint64_t *ids)
{
	if (genid_next(ctx, ids) == 0)
		return 1;
	snprintf(err_msg, sizeof(err_msg), "genid: %s", genid_strerror(ctx));
	return -1;
}

static int
genid_batch(void *ctx, uint64_t *ids)
{
	ssize_t n = genid_bulk(ctx, ids, BATCH);

	if (n > 0)
		return (int)n;
	snprintf(err_msg, sizeof(err_msg), "genid: %s", genid_strerror(ctx));
	return -1;
}

static void
run_genid(struct row *r, const char *addr, size_t prefetch, call_fn fn)
{
	struct genid_options go = {.prefetch = prefetch};
	struct genid_client *c;

	if (addr == NULL) {
		r->missing = "skipped: no --genid server";
		return;
	}
	if ((c = genid_open(&addr, 1, &go)) == NULL)
		err(EX_SOFTWARE, "genid_open");
	if (measure(r, fn, c) == -1)
		errx(EX_UNAVAILABLE, "%s %s: %s", r->source, r->how, err_msg);
	genid_close(c);
}

/* --- redis --------------------------------------------------------- */

#ifdef HAVE_HIREDIS
static const char redis_key[] = "genid-clients:seq";

static int
redis_reply_id(redisReply *rp, uint64_t *id)
{
	if (rp == NULL || rp->type != REDIS_REPLY_INTEGER) {
		snprintf(err_msg, sizeof(err_msg), "redis: %s",
		    rp == NULL ? "no reply"
		    : rp->type == REDIS_REPLY_ERROR ? rp->str
						    : "not an integer reply");
		return -1;
	}
	*id = (uint64_t)rp->integer;
	return 0;
}

static int
redis_one(void *ctx, uint64_t *ids)
{
	redisReply *rp = redisCommand(ctx, "INCR %s", redis_key);
	int rc = redis_reply_id(rp, ids);

	freeReplyObject(rp);
	return rc == 0 ? 1 : -1;
}

static int
redis_pipelined(void *ctx, uint64_t *ids)
{
	redisContext *rc = ctx;
	void *v;
	int i, bad = 0;

	for (i = 0; i < BATCH; i++)
		if (redisAppendCommand(rc, "INCR %s", redis_key) != REDIS_OK) {
			snprintf(err_msg, sizeof(err_msg), "redis: %s",
			    rc->errstr);
			return -1;
		}
	for (i = 0; i < BATCH; i++) {
		if (redisGetReply(rc, &v) != REDIS_OK) {
			snprintf(err_msg, sizeof(err_msg), "redis: %s",
			    rc->errstr);
			return -1;
		}
		bad |= redis_reply_id(v, &ids[i]);
		freeReplyObject(v);
	}
	return bad ? -1 : BATCH;
}
#endif

#ifdef HAVE_HIREDIS
/* host:port into its parts; 0, or -1 if it is not one. */
static int
split_hostport(const char *s, char *host, size_t len, int *port)
{
	const char *colon = strrchr(s, ':');
	char *end;
	long p;

	if (colon == NULL || (size_t)(colon - s) >= len)
		return -1;
	p = strtol(colon + 1, &end, 10);
	if (*end != '\0' || p <= 0 || p > 65535)
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	*port = (int)p;
	return 0;
}
#endif

static void
run_redis(struct row *r, const char *addr, int pipelined)
{
#ifdef HAVE_HIREDIS
	struct timeval tv = {.tv_sec = 2};
	redisContext *rc;
	char host[256];
	int port;

	if (addr == NULL) {
		r->missing = "skipped: no --redis server (redis-server: sh"
			     " contrib/deps-bench.sh)";
		return;
	}
	if (split_hostport(addr, host, sizeof(host), &port) == -1)
		errx(EX_USAGE, "--redis %s: want host:port", addr);
	rc = redisConnectWithTimeout(host, port, tv);
	if (rc == NULL || rc->err)
		errx(EX_UNAVAILABLE, "redis %s: %s", addr,
		    rc ? rc->errstr : "out of memory");
	redisSetTimeout(rc, tv);
	if (measure(r, pipelined ? redis_pipelined : redis_one, rc) == -1)
		errx(EX_UNAVAILABLE, "%s %s: %s", r->source, r->how, err_msg);
	redisFree(rc);
#else
	(void)addr;
	(void)pipelined;
	r->missing = "not built: hiredis was missing at configure time (sh"
		     " contrib/deps-bench.sh, then configure again)";
#endif
}

/* --- postgresql ------------------------------------------------------ */

#ifdef HAVE_LIBPQ
static int
pg_call(void *ctx, uint64_t *ids)
{
	PGresult *res = PQexecPrepared(ctx, "ids", 0, NULL, NULL, NULL, 0);
	int i, n;

	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		snprintf(err_msg, sizeof(err_msg), "postgresql: %s",
		    PQerrorMessage(ctx));
		PQclear(res);
		return -1;
	}
	n = PQntuples(res);
	for (i = 0; i < n && i < BATCH; i++)
		ids[i] = strtoull(PQgetvalue(res, i, 0), NULL, 10);
	PQclear(res);
	return n;
}

static int
pg_ok(PGconn *pg, PGresult *res, const char *what)
{
	ExecStatusType st = PQresultStatus(res);

	PQclear(res);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return 0;
	errx(EX_UNAVAILABLE, "postgresql: %s: %s", what, PQerrorMessage(pg));
}
#endif

static void
run_pg(struct row *r, const char *conninfo, int batched)
{
#ifdef HAVE_LIBPQ
	char sql[128];
	PGconn *pg;

	if (conninfo == NULL) {
		r->missing = "skipped: no --pg server (postgresql: sh"
			     " contrib/deps-bench.sh)";
		return;
	}
	pg = PQconnectdb(conninfo);
	if (PQstatus(pg) != CONNECTION_OK)
		errx(EX_UNAVAILABLE, "postgresql %s: %s", conninfo,
		    PQerrorMessage(pg));
	pg_ok(pg, PQexec(pg, "SET client_min_messages TO warning"), "SET");
	pg_ok(pg, PQexec(pg, "CREATE SEQUENCE IF NOT EXISTS genid_clients_seq"),
	    "CREATE SEQUENCE");
	if (batched)
		snprintf(sql, sizeof(sql),
		    "SELECT nextval('genid_clients_seq') FROM"
		    " generate_series(1, %d)",
		    BATCH);
	else
		snprintf(sql, sizeof(sql),
		    "SELECT nextval('genid_clients_seq')");
	pg_ok(pg, PQprepare(pg, "ids", sql, 0, NULL), "PREPARE");
	if (measure(r, pg_call, pg) == -1)
		errx(EX_UNAVAILABLE, "%s %s: %s", r->source, r->how, err_msg);
	PQfinish(pg);
#else
	(void)conninfo;
	(void)batched;
	r->missing = "not built: libpq was missing at configure time (sh"
		     " contrib/deps-bench.sh, then configure again)";
#endif
}

/* --- uuid ------------------------------------------------------------ */

#ifdef HAVE_UUID
static int
uuid_one(void *ctx, uint64_t *ids)
{
	uuid_t u;

	(void)ctx;
	uuid_generate_time(u);
	memcpy(ids, u, sizeof(*ids)); /* the time fields: never all zero */
	return 1;
}

/*
 * A UUIDv7 (RFC 9562): libuuid's random UUID with the Unix time in
 * milliseconds in its first 48 bits and the version set to 7; the variant
 * bits of the random UUID are already those of RFC 9562.
 */
static int
uuid_v7(void *ctx, uint64_t *ids)
{
	struct timespec ts;
	uint64_t ms;
	uuid_t u;
	int i;

	(void)ctx;
	uuid_generate_random(u);
	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	for (i = 0; i < 6; i++)
		u[i] = (unsigned char)(ms >> (40 - 8 * i));
	u[6] = (unsigned char)(0x70 | (u[6] & 0x0f));
	memcpy(ids, u, sizeof(*ids));
	return 1;
}
#endif

static void
run_uuid(struct row *r, int v7)
{
#ifdef HAVE_UUID
	if (measure(r, v7 ? uuid_v7 : uuid_one, NULL) == -1)
		errx(EX_SOFTWARE, "%s %s: %s", r->source, r->how, err_msg);
#else
	(void)v7;
	r->missing = "not built: libuuid (uuid-dev) was missing at configure"
		     " time (sh contrib/deps-bench.sh, then configure again)";
#endif
}

/* --- table ------------------------------------------------------------ */

/* The genid row a row is compared with: the same kind of call. */
static const struct row *
genid_ref(const struct row *rows, const struct row *r)
{
	switch (r->kind) {
	case KIND_ONE:
		return &rows[0];
	case KIND_BATCH:
		return &rows[1];
	default:
		return &rows[2];
	}
}

static void
print_table(struct row *rows, unsigned n, int json)
{
	unsigned i;

	if (!json) {
		printf("What an ID costs one application thread (%.1f s per"
		       " row; every call timed)\n\n",
		    opt_secs);
		printf("%-11s %-34s %12s %10s %10s %10s %9s\n", "source", "how",
		    "IDs/s", "ns/ID", "call p50", "call p99", "vs genid");
	}
	for (i = 0; i < n; i++) {
		const struct row *r = &rows[i], *g = genid_ref(rows, r);
		double ids_s, g_s = 0;
		char ratio[32] = "-";

		if (r->missing != NULL) {
			if (json)
				printf("{\"source\": \"%s\", \"how\": \"%s\","
				       " \"missing\": \"%s\"}\n",
				    r->source, r->how, r->missing);
			else
				printf("%-11s %-34s %s\n", r->source, r->how,
				    r->missing);
			continue;
		}
		ids_s = (double)r->ids / r->secs;
		if (g->missing == NULL && g->secs > 0)
			g_s = (double)g->ids / g->secs;
		if (g_s > 0)
			snprintf(ratio, sizeof(ratio), "%.2fx", ids_s / g_s);
		if (json) {
			printf("{\"source\": \"%s\", \"how\": \"%s\","
			       " \"ids_per_s\": %.0f, \"ns_per_id\": %.1f,"
			       " \"calls\": %" PRIu64 ", \"call_p50_us\": %.2f,"
			       " \"call_p99_us\": %.2f, \"vs_genid\": %.4f}\n",
			    r->source, r->how, ids_s, 1e9 / ids_s, r->calls,
			    hist_quantile(r->hist, 0.5) / 1e3,
			    hist_quantile(r->hist, 0.99) / 1e3,
			    g_s > 0 ? ids_s / g_s : 0.0);
			continue;
		}
		printf("%-11s %-34s %12.0f %10.1f %7.1f us %7.1f us %9s\n",
		    r->source, r->how, ids_s, 1e9 / ids_s,
		    hist_quantile(r->hist, 0.5) / 1e3,
		    hist_quantile(r->hist, 0.99) / 1e3, ratio);
	}
	if (!json)
		printf("\nvs genid: IDs/s over genid's row of the same kind (one"
		       " at a time: genid_next; batched: genid_bulk(255);"
		       " in process: genid_next with prefetch %d).\n",
		    PREFETCH);
}

int
main(int argc, char **argv)
{
	enum { OPT_GENID = 256, OPT_REDIS, OPT_PG, OPT_JSON, OPT_HELP };
	static const struct option longopts[] = {
	    {"genid", required_argument, NULL, OPT_GENID},
	    {"redis", required_argument, NULL, OPT_REDIS},
	    {"pg", required_argument, NULL, OPT_PG},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"help", no_argument, NULL, OPT_HELP},
	    {NULL, 0, NULL, 0},
	};
	struct row rows[] = {
	    {.source = "genid", .how = "genid_next, one at a time",
		.kind = KIND_ONE},
	    {.source = "genid", .how = "genid_bulk, 255 a call",
		.kind = KIND_BATCH},
	    {.source = "genid", .how = "genid_next, prefetch 4096",
		.kind = KIND_LOCAL},
	    {.source = "redis", .how = "INCR, one at a time (hiredis)",
		.kind = KIND_ONE},
	    {.source = "redis", .how = "INCR, 255 pipelined (hiredis)",
		.kind = KIND_BATCH},
	    {.source = "postgresql", .how = "nextval(), one at a time (libpq)",
		.kind = KIND_ONE},
	    {.source = "postgresql", .how = "nextval() x generate_series(255)",
		.kind = KIND_BATCH},
	    {.source = "uuid", .how = "v1 uuid_generate_time (libuuid)",
		.kind = KIND_LOCAL},
	    {.source = "uuid", .how = "v7 from uuid_generate_random",
		.kind = KIND_LOCAL},
	};
	const char *g = NULL, *rd = NULL, *pg = NULL;
	char *end;
	int c, json = 0;

	while ((c = getopt_long(argc, argv, "s:w:", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
		case 'w':
			errno = 0;
			*(c == 's' ? &opt_secs : &opt_warmup) =
			    strtod(optarg, &end);
			if (*end != '\0' || errno != 0 || opt_secs <= 0 ||
			    opt_secs > 3600 || opt_warmup < 0 ||
			    opt_warmup > 3600)
				errx(EX_USAGE, "-%c %s: want seconds in"
					       " 0..3600",
				    c, optarg);
			break;
		case OPT_GENID:
			g = optarg;
			break;
		case OPT_REDIS:
			rd = optarg;
			break;
		case OPT_PG:
			pg = optarg;
			break;
		case OPT_JSON:
			json = 1;
			break;
		case OPT_HELP:
			usage(0);
		default:
			usage(EX_USAGE);
		}
	}
	if (optind != argc)
		usage(EX_USAGE);
	/* A safety net for a server that stops answering. */
	alarm((unsigned)(8 * (opt_secs + opt_warmup)) + 60);
	run_genid(&rows[0], g, 0, genid_one);
	run_genid(&rows[1], g, 0, genid_batch);
	run_genid(&rows[2], g, PREFETCH, genid_one);
	run_redis(&rows[3], rd, 0);
	run_redis(&rows[4], rd, 1);
	run_pg(&rows[5], pg, 0);
	run_pg(&rows[6], pg, 1);
	run_uuid(&rows[7], 0);
	run_uuid(&rows[8], 1);
	print_table(rows, sizeof(rows) / sizeof(rows[0]), json);
	return 0;
}
