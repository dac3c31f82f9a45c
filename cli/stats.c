/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stats.c - the stats verb: a node's live counters, read from its state
 * file through a read-only mapping (no request reaches the server).
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "../src/config.h"
#include "bucket.h"
#include "claim.h"
#include "genidctl.h"
#include "id.h"
#include "metrics.h"
#include "nodefields.h"
#include "statefile.h"
#include "timefmt.h"

enum stats_format { FMT_TEXT, FMT_JSON, FMT_PROMETHEUS };

struct stats_opts {
	enum stats_format format;
	double watch;	/* seconds between redraws, 0 = once */
	uint64_t count; /* redraws, 0 = until SIGINT */
};

/* The bucket fields whose rates the screens show. */
#define IDS offsetof(struct state_bucket, ids)
#define REQUESTS offsetof(struct state_bucket, requests)

static volatile sig_atomic_t stop;

static void on_signal(int sig);
static void warn_noperm(const char *why, const char *path);
static double rate(uint64_t cur, uint64_t prev, double dt);
static const char *exit_str(int64_t status, char *buf, size_t len);
static double sum_rate(const struct metrics_snap *s,
    const struct metrics_snap *prev, size_t off, int owner);
static void text_totals(
    const struct metrics_snap *s, const struct metrics_snap *prev);
static void text_header(const struct metrics_snap *s, const char *path,
    const struct metrics_snap *prev);
static void print_slew(const struct metrics_snap *s);
static void text_columns(
    const struct metrics_snap *s, enum counters_slot slot, int i);
static void text_workers(
    const struct metrics_snap *s, const struct metrics_snap *prev);
static void text_buckets(
    const struct metrics_snap *s, const struct metrics_snap *prev);
static json_t *json_snap(const struct metrics_snap *s, const char *path,
    const struct metrics_snap *prev);
static void json_nodes(json_t *o, const struct metrics_snap *s);
static json_t *json_value(
    const struct nodefield *r, const struct nodefield_value *v);
static json_t *json_totals(
    const struct metrics_snap *s, const struct metrics_snap *prev);
static void json_counters(json_t *o, enum counters_slot table,
    const struct metrics_snap *s, unsigned i);
static json_t *json_workers(
    const struct metrics_snap *s, const struct metrics_snap *prev);
static json_t *json_buckets(
    const struct metrics_snap *s, const struct metrics_snap *prev);
static int draw(const struct stats_opts *o, const struct metrics_snap *s,
    const char *path, const struct metrics_snap *prev);
static int nap(double secs);
static int stats_run(const struct stats_opts *o, const struct statefile *sf);
static int stats_options(int argc, char **argv, struct stats_opts *o,
    const char **state, const char **config);

static void
on_signal(int sig)
{
	stop = 1;
}

static double
rate(uint64_t cur, uint64_t prev, double dt)
{
	/* A counter that went down was reset: show no rate, not a wrap. */
	if (dt <= 0 || cur < prev)
		return 0;
	return (double)(cur - prev) / dt;
}

/* The rate of a bucket field summed as metrics_sum does. */
static double
sum_rate(const struct metrics_snap *s, const struct metrics_snap *prev,
    size_t off, int owner)
{
	return rate(metrics_sum(s, off, owner), metrics_sum(prev, off, owner),
	    s->mono - prev->mono);
}

static const char *
exit_str(int64_t status, char *buf, size_t len)
{
	int st = (int)status;

	if (status < 0)
		snprintf(buf, len, "-");
	else if (WIFSIGNALED(st))
		snprintf(buf, len, "signal %d%s", WTERMSIG(st),
		    WCOREDUMP(st) ? " core" : "");
	else
		snprintf(buf, len, "exit %d", WEXITSTATUS(st));
	return buf;
}

/* The file's layout, who last started on it, and any conversion. */
static void
print_layout(const struct state_header *h)
{
	char who[64], t[TIMEFMT_LEN];

	/* An older file is read through the conversion, not yet made. */
	if (h->upgraded_from != 0 && h->upgraded == 0) {
		printf("layout      %u on disk, an older genid's: read"
		       " converted; the next start converts it to %u\n",
		    h->upgraded_from, h->version);
		return;
	}
	state_writer(h, who, sizeof(who));
	printf("layout      %u, last started by %s", h->version, who);
	if (h->upgraded_from != 0)
		printf("; converted from layout %u %s", h->upgraded_from,
		    timefmt_iso(h->upgraded, t, sizeof(t)));
	printf("\n");
}

/* The identity line: static, or how the etcd lease stands. */
static void
print_identity(const struct state_header *h, int64_t now)
{
	char t[TIMEFMT_LEN], a[32], l[32];

	if (h->identity == CLAIM_STATIC) {
		printf(
		    "identity    static (machine_id of the configuration)\n");
		return;
	}
	printf("identity    %s in etcd%s%s", metrics_identity(h),
	    h->lease != 0 ? ", lease " : "",
	    metrics_lease_hex(h, l, sizeof(l)));
	if (h->renewed != 0)
		printf(", renewed %s ago",
		    timefmt_span(now - h->renewed, a, sizeof(a)));
	if (h->fence_ms != 0)
		printf(", issues %.1f s more unless renewed",
		    metrics_fence_left(h));
	if (h->ceiling != 0)
		printf("; etcd checkpoint %s",
		    timefmt_iso(h->epoch + (int64_t)h->ceiling, t, sizeof(t)));
	printf("; %llu lost\n", (unsigned long long)h->identity_losses);
}

static void
print_slew(const struct metrics_snap *s)
{
	const struct state_header *h = &s->h;
	double end = (double)h->slew_end_ms / 1e3;
	char a[32];

	if (h->slew_extra_ms == 0)
		printf("slew        none: allowance %llu s (max_ahead_s)",
		    (unsigned long long)metrics_allowance(h));
	else
		printf("slew        allowance %llu s (%.1f s over max_ahead_s),"
		       " meets the clock in %s at clock_slew %g",
		    (unsigned long long)metrics_allowance(h),
		    (double)h->slew_extra_ms / 1e3,
		    timefmt_span((int64_t)(end > s->mono ? end - s->mono : 0),
			a, sizeof(a)),
		    (double)h->slew_rate_ppm / 1e6);
	printf("; %llu started, %llu past max_slew_s\n",
	    (unsigned long long)h->slews, (unsigned long long)h->slews_far);
}

static void
text_header(const struct metrics_snap *s, const char *path,
    const struct metrics_snap *prev)
{
	const struct state_header *h = &s->h;
	char t1[TIMEFMT_LEN], t2[TIMEFMT_LEN], a[32], a2[32];

	printf("state file  %s\n", path);
	printf("node        zone %u dc %u machine %u, epoch %lld (%s)\n",
	    h->zone, h->dc, h->machine, (long long)h->epoch,
	    timefmt_iso(h->epoch, t1, sizeof(t1)));
	if (h->master_pid > 0 && s->master_alive)
		printf("master      pid %lld alive, state file %s, up %s"
		       " (started %s)\n",
		    (long long)h->master_pid,
		    s->locked ? "locked" : "not locked: pid reused?",
		    timefmt_span(s->now - h->started, a, sizeof(a)),
		    timefmt_iso(h->started, t1, sizeof(t1)));
	else if (h->master_pid > 0)
		printf("master      pid %lld not running, state file %s;"
		       " last started %s\n",
		    (long long)h->master_pid,
		    s->locked ? "locked" : "not locked",
		    timefmt_iso(h->started, t1, sizeof(t1)));
	else
		printf("master      none yet, state file %s\n",
		    s->locked ? "locked" : "not locked");
	printf("state       %s%s%s, lead %lld s\n", metrics_state(s),
	    h->serving_since != 0 && s->master_alive ? " since " : "",
	    h->serving_since != 0 && s->master_alive
		? timefmt_iso(h->serving_since, t1, sizeof(t1))
		: "",
	    (long long)s->lead);
	printf("boots       %llu (file created %s)\n",
	    (unsigned long long)h->boot_count,
	    timefmt_iso(h->created, t1, sizeof(t1)));
	print_layout(h);
	printf("workers     %u, %llu restarts, max_ahead %u s\n", h->workers,
	    (unsigned long long)h->worker_restarts, h->max_ahead);
	printf("checkpoint  %s, %s ahead of the clock; safe %s;"
	       " synced %s ago, %llu syncs\n",
	    timefmt_iso(h->epoch + (int64_t)h->checkpoint, t1, sizeof(t1)),
	    timefmt_span(metrics_ckpt_ahead(s), a, sizeof(a)),
	    timefmt_iso(h->epoch + (int64_t)h->checkpoint_safe, t2, sizeof(t2)),
	    timefmt_span(metrics_ckpt_age(s), a2, sizeof(a2)),
	    (unsigned long long)h->checkpoint_syncs);
	printf("clock       %s; steps back %llu, forward %llu; last step"
	       " %+.3f s, largest back %.3f s\n",
	    timefmt_iso(s->now, t1, sizeof(t1)),
	    (unsigned long long)h->clock_steps_back,
	    (unsigned long long)h->clock_steps_forward,
	    (double)h->clock_step_last_ns / 1e9,
	    (double)h->clock_step_max_back_ns / 1e9);
	print_slew(s);
	print_identity(h, s->now);
	if (h->peer_checked != 0)
		printf(
		    "peers       %s%llu with this node's identity%s (asked %s"
		    " ago)\n",
		    h->peer_conflicts ? "CONFLICT: " : "",
		    (unsigned long long)h->peer_conflicts,
		    h->peer_conflicts ? ", see the log" : "",
		    timefmt_span(s->now - h->peer_checked, a, sizeof(a)));
	if (h->peer_checked != 0 && h->peer_clocks > 0)
		printf("peer clock  this clock %+.1f s from the median of %llu"
		       " peers\n",
		    (double)h->peer_skew_ms / 1000.0,
		    (unsigned long long)h->peer_clocks);
	text_totals(s, prev);
	printf("lifetime    timestamps last until %s (%s)",
	    timefmt_iso(h->epoch + ID_TS_MAX, t1, sizeof(t1)),
	    timefmt_span((int64_t)ID_TS_MAX - s->now_ts, a, sizeof(a)));
	printf(s->now_ts < ID_TS_SIGNED_LIMIT ? "; IDs reach 2^63 at %s\n"
					      : "; IDs passed 2^63 at %s\n",
	    timefmt_iso(h->epoch + ID_TS_SIGNED_LIMIT, t1, sizeof(t1)));
}

/* The total line: every bucket counter with a phrase, summed. */
static void
text_totals(const struct metrics_snap *s, const struct metrics_snap *prev)
{
	const struct counters_def *c;
	const char *sep = "";
	unsigned long long v;
	size_t i, n;

	printf("total       ");
	c = counters_table(COUNTERS_BUCKET, &n);
	for (i = 0; i < n; i++) {
		if (c[i].total == NULL)
			continue;
		v = metrics_sum(s, c[i].off, -1);
		if (c[i].total_aside)
			printf(" (%llu %s)", v, c[i].total);
		else
			printf("%s%llu %s", sep, v, c[i].total);
		sep = ", ";
	}
	if (prev != NULL)
		printf("; %.0f IDs/s, %.0f requests/s",
		    sum_rate(s, prev, IDS, -1),
		    sum_rate(s, prev, REQUESTS, -1));
	putchar('\n');
}

/* The counter columns of the worker or the bucket table (slot): their
 * headings when i is -1, else the values of slot i. */
static void
text_columns(const struct metrics_snap *s, enum counters_slot slot, int i)
{
	const struct counters_def *c;
	size_t k, n;

	c = counters_table(slot, &n);
	for (k = 0; k < n; k++) {
		if (c[k].column == NULL)
			continue;
		if (i < 0)
			printf(" %*s", c[k].width, c[k].column);
		else
			printf(" %*llu", c[k].width,
			    (unsigned long long)metrics_slot(
				s, slot, &c[k], (unsigned)i));
	}
}

static void
text_workers(const struct metrics_snap *s, const struct metrics_snap *prev)
{
	const struct state_worker *w;
	char x[32];
	unsigned i;

	printf("\n%6s %8s %5s %7s", "worker", "pid", "alive", "buckets");
	text_columns(s, COUNTERS_WORKER, -1);
	printf(" %s\n", prev != NULL ? "ids/s     last exit" : "last exit");
	for (i = 0; i < s->nworkers; i++) {
		w = &s->w[i];
		printf("%6u %8lld %5s %7u", i, (long long)w->pid,
		    s->alive[i] ? "yes" : "no", s->w_buckets[i]);
		text_columns(s, COUNTERS_WORKER, (int)i);
		putchar(' ');
		if (prev != NULL)
			printf("%-9.0f ", sum_rate(s, prev, IDS, (int)i));
		printf("%s\n", exit_str(w->exit_status, x, sizeof(x)));
	}
}

static void
text_buckets(const struct metrics_snap *s, const struct metrics_snap *prev)
{
	const struct state_bucket *b;
	char t[TIMEFMT_LEN], ow[16];
	unsigned i, unused = 0;
	int owner;

	printf("\n%6s %5s %-20s %7s %4s", "bucket", "owner", "second",
	    "counter", "lead");
	text_columns(s, COUNTERS_BUCKET, -1);
	printf("%s\n", prev != NULL ? "      ids/s" : "");
	for (i = 0; i < STATE_BUCKETS; i++) {
		b = &s->b[i];
		/* A bucket gets traffic once a connection is pinned to it. */
		if (b->ids == 0 && b->conns_total == 0) {
			unused++;
			continue;
		}
		if ((owner = metrics_owner(s, i)) < 0)
			snprintf(ow, sizeof(ow), "-");
		else
			snprintf(ow, sizeof(ow), "%d", owner);
		printf("%6u %5s %-20s %7u %4lld", i, ow,
		    b->word == 0 ? "-"
				 : timefmt_iso(s->h.epoch + bucket_ts(b->word),
				       t, sizeof(t)),
		    bucket_next(b->word), (long long)metrics_lead(s, i));
		text_columns(s, COUNTERS_BUCKET, (int)i);
		if (prev != NULL)
			printf(" %11.0f",
			    rate(b->ids, prev->b[i].ids, s->mono - prev->mono));
		putchar('\n');
	}
	if (unused > 0)
		printf("(%u buckets not used yet)\n", unused);
}

static json_t *
json_snap(const struct metrics_snap *s, const char *path,
    const struct metrics_snap *prev)
{
	json_t *o = json_object();

	if (o == NULL ||
	    json_object_set_new(o, "state_file", json_string(path)) == -1) {
		json_decref(o);
		return NULL;
	}
	json_nodes(o, s);
	json_object_set_new(o, "totals", json_totals(s, prev));
	json_object_set_new(o, "worker", json_workers(s, prev));
	json_object_set_new(o, "bucket", json_buckets(s, prev));
	return o;
}

/* Adds every JSON row of the node table to o, in its group's object. */
static void
json_nodes(json_t *o, const struct metrics_snap *s)
{
	const struct nodefield *r;
	struct nodefield_value v;
	json_t *in;
	size_t i, n;

	r = nodefields_table(&n);
	for (i = 0; i < n; i++) {
		if (r[i].json == NULL)
			continue;
		in = r[i].group != NULL ? json_object_get(o, r[i].group) : o;
		if (in == NULL) {
			in = json_object();
			json_object_set_new(o, r[i].group, in);
		}
		nodefields_value(s, &r[i], &v);
		json_object_set_new(in, r[i].json, json_value(&r[i], &v));
	}
}

static json_t *
json_value(const struct nodefield *r, const struct nodefield_value *v)
{
	switch (r->kind) {
	case NODEFIELD_INT:
		return json_integer((json_int_t)v->i);
	case NODEFIELD_UINT:
	case NODEFIELD_U32:
		return json_integer((json_int_t)v->u);
	case NODEFIELD_REAL:
		return json_real(v->d);
	case NODEFIELD_BOOL:
		return json_boolean(v->i);
	default:
		return json_string(v->s);
	}
}

/* Every bucket counter summed over all buckets, the largest lead, and
 * the rates of IDs and requests from the second reading on. */
static json_t *
json_totals(const struct metrics_snap *s, const struct metrics_snap *prev)
{
	const struct counters_def *c;
	json_t *o = json_object();
	size_t k, n;

	if (o == NULL)
		return NULL;
	c = counters_table(COUNTERS_BUCKET, &n);
	for (k = 0; k < n; k++)
		json_object_set_new(o, c[k].json,
		    json_integer((json_int_t)metrics_sum(s, c[k].off, -1)));
	json_object_set_new(o, "lead_s", json_integer((json_int_t)s->lead));
	if (prev != NULL) {
		json_object_set_new(
		    o, "ids_per_s", json_real(sum_rate(s, prev, IDS, -1)));
		json_object_set_new(o, "requests_per_s",
		    json_real(sum_rate(s, prev, REQUESTS, -1)));
	}
	return o;
}

/* Adds to o the counters of the table's slot i (a bucket or a worker). */
static void
json_counters(json_t *o, enum counters_slot table, const struct metrics_snap *s,
    unsigned i)
{
	const struct counters_def *c;
	size_t k, n;

	c = counters_table(table, &n);
	for (k = 0; k < n; k++)
		json_object_set_new(o, c[k].json,
		    json_integer((json_int_t)metrics_slot(s, table, &c[k], i)));
}

static json_t *
json_workers(const struct metrics_snap *s, const struct metrics_snap *prev)
{
	const struct state_worker *w;
	json_t *a = json_array(), *o, *owned;
	unsigned i, b;

	for (i = 0; i < s->nworkers; i++) {
		w = &s->w[i];
		owned = json_array();
		for (b = 0; b < STATE_BUCKETS; b++)
			if (metrics_owner(s, b) == (int)i)
				json_array_append_new(owned, json_integer(b));
		o = json_pack("{s:i, s:I, s:b, s:I, s:o}", "worker", (int)i,
		    "pid", (json_int_t)w->pid, "alive", s->alive[i], "started",
		    (json_int_t)w->started, "buckets", owned);
		if (o == NULL)
			continue;
		json_counters(o, COUNTERS_WORKER, s, i);
		json_object_set_new(
		    o, "exit_status", json_integer((json_int_t)w->exit_status));
		if (prev != NULL)
			json_object_set_new(o, "ids_per_s",
			    json_real(sum_rate(s, prev, IDS, (int)i)));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *
json_buckets(const struct metrics_snap *s, const struct metrics_snap *prev)
{
	const struct state_bucket *b;
	json_t *a = json_array(), *o;
	char t[TIMEFMT_LEN];
	unsigned i;

	for (i = 0; i < STATE_BUCKETS; i++) {
		b = &s->b[i];
		o = json_pack("{s:i, s:i, s:I, s:s?, s:i, s:I}", "bucket",
		    (int)i, "owner", metrics_owner(s, i), "ts",
		    (json_int_t)bucket_ts(b->word), "time",
		    b->word == 0 ? NULL
				 : timefmt_iso(s->h.epoch + bucket_ts(b->word),
				       t, sizeof(t)),
		    "counter", (int)bucket_next(b->word), "lead_s",
		    (json_int_t)metrics_lead(s, i));
		if (o == NULL)
			continue;
		json_counters(o, COUNTERS_BUCKET, s, i);
		if (prev != NULL)
			json_object_set_new(o, "ids_per_s",
			    json_real(rate(
				b->ids, prev->b[i].ids, s->mono - prev->mono)));
		json_array_append_new(a, o);
	}
	return a;
}

static int
draw(const struct stats_opts *o, const struct metrics_snap *s, const char *path,
    const struct metrics_snap *prev)
{
	json_t *j;
	int r;

	switch (o->format) {
	case FMT_PROMETHEUS:
		metrics_prometheus(stdout, s);
		break;
	case FMT_JSON:
		if ((j = json_snap(s, path, prev)) == NULL) {
			warnx("cannot build the JSON reply");
			return EX_SOFTWARE;
		}
		/* One object a line, so --watch gives JSON Lines. */
		r = json_dumpf(j, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(j);
		putchar('\n');
		if (r == -1)
			return EX_IOERR;
		break;
	case FMT_TEXT:
		if (o->watch > 0 && isatty(STDOUT_FILENO))
			fputs("\033[H\033[2J", stdout);
		else if (prev != NULL)
			putchar('\n');
		text_header(s, path, prev);
		text_workers(s, prev);
		text_buckets(s, prev);
		break;
	}
	return fflush(stdout) == EOF ? EX_IOERR : 0;
}

/* Sleeps secs; -1 when a signal asked to stop. */
static int
nap(double secs)
{
	struct timespec ts;

	ts.tv_sec = (time_t)secs;
	ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
	while (!stop && nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
	return stop ? -1 : 0;
}

static int
stats_run(const struct stats_opts *o, const struct statefile *sf)
{
	struct metrics_snap *cur, *prev, *tmp;
	struct sigaction sa;
	uint64_t n;
	int code = 0;

	cur = calloc(1, sizeof(*cur));
	prev = calloc(1, sizeof(*prev));
	if (cur == NULL || prev == NULL) {
		warn("calloc");
		code = EX_OSERR;
		goto out;
	}
	if (o->watch > 0) {
		/* No SA_RESTART: ^C must cut the sleep short. */
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
	}
	for (n = 0;; n++) {
		metrics_read(cur, sf->h);
		cur->locked = statefile_in_use(sf) == 1;
		if ((code = draw(o, cur, sf->path, n > 0 ? prev : NULL)) != 0)
			break;
		if (o->watch <= 0 || (o->count > 0 && n + 1 >= o->count) ||
		    nap(o->watch) == -1)
			break;
		tmp = prev;
		prev = cur;
		cur = tmp;
	}
out:
	free(cur);
	free(prev);
	return code;
}

/*
 * Parses the options of stats into o, *state and *config: -1 to go on, or
 * the exit code of stats (after the help, the usage or a message).
 */
static int
stats_options(int argc, char **argv, struct stats_opts *o, const char **state,
    const char **config)
{
	static const struct option longopts[] = {
	    {"state", required_argument, NULL, 's'},
	    {"config", required_argument, NULL, 'c'},
	    {"json", no_argument, NULL, 'j'},
	    {"prometheus", no_argument, NULL, 'p'},
	    {"watch", required_argument, NULL, 'w'},
	    {"count", required_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	char *end;
	int ch;

	ctl_getopt_reset();
	while ((ch = getopt_long(argc, argv, "s:c:jpw:n:h", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 's':
			*state = optarg;
			break;
		case 'c':
			*config = optarg;
			break;
		case 'j':
			o->format = FMT_JSON;
			break;
		case 'p':
			o->format = FMT_PROMETHEUS;
			break;
		case 'w':
			errno = 0;
			o->watch = strtod(optarg, &end);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    !(o->watch >= 0.01 && o->watch <= 86400)) {
				warnx(
				    "--watch \"%s\": want seconds, 0.01..86400",
				    optarg);
				return EX_USAGE;
			}
			break;
		case 'n':
			if (ctl_parse_uint("--count", optarg, 1, UINT32_MAX,
				&o->count) == -1)
				return EX_USAGE;
			break;
		case 'h':
			return ctl_usage("stats", 1);
		default:
			return ctl_usage("stats", 0);
		}
	}
	if (optind != argc || (*state != NULL && *config != NULL)) {
		if (optind == argc)
			warnx("-s and -c do not go together");
		return ctl_usage("stats", 0);
	}
	if (o->watch > 0 && o->format == FMT_PROMETHEUS) {
		warnx("--watch and --prometheus do not go together");
		return ctl_usage("stats", 0);
	}
	return -1;
}

int
ctl_stats(int argc, char **argv)
{
	struct stats_opts o = {FMT_TEXT, 0, 0};
	struct statefile sf;
	struct cfg *c;
	const char *state = NULL, *config = NULL;
	char why[1024];
	int code;

	if ((code = stats_options(argc, argv, &o, &state, &config)) != -1)
		return code;
	if ((c = ctl_config(config, &code)) == NULL)
		return code;
	if (state == NULL)
		state = c->state_file;
	errno = 0;
	if (statefile_open_ro(&sf, state, why, sizeof(why)) == -1) {
		code = errno == ENOENT ? EX_NOINPUT
		    : errno == EACCES  ? EX_NOPERM
				       : EX_DATAERR;
		if (code == EX_NOPERM)
			warn_noperm(why, state);
		else
			warnx("%s", why);
		free(c);
		return code;
	}
	free(c);
	code = stats_run(&o, &sf);
	statefile_close(&sf);
	return ctl_finish(code);
}

/*
 * genid keeps its state file for its own user and group: say whose it is
 * and how to read it, where "Permission denied" alone leaves one guessing.
 */
static void
warn_noperm(const char *why, const char *path)
{
	struct stat st;
	struct passwd *pw;
	struct group *gr;
	char user[64], group[64];

	if (stat(path, &st) == -1) {
		warnx("%s: a directory above it is closed to you: run genidctl"
		      " stats as root or as the user genid runs as, or pass"
		      " -s FILE with a copy you may read",
		    why);
		return;
	}
	if ((pw = getpwuid(st.st_uid)) != NULL)
		snprintf(user, sizeof(user), "%s", pw->pw_name);
	else
		snprintf(user, sizeof(user), "%u", (unsigned)st.st_uid);
	if ((gr = getgrgid(st.st_gid)) != NULL)
		snprintf(group, sizeof(group), "%s", gr->gr_name);
	else
		snprintf(group, sizeof(group), "%u", (unsigned)st.st_gid);
	if (st.st_mode & S_IRGRP)
		warnx("%s: it is readable by user %s and group %s: run genidctl"
		      " stats as root or as a member of group %s, or pass -s"
		      " FILE with a copy you may read",
		    why, user, group, group);
	else
		warnx("%s: it is readable by user %s only: run genidctl stats"
		      " as root%s%s, or pass -s FILE with a copy you may read",
		    why, user, st.st_uid == 0 ? "" : " or as ",
		    st.st_uid == 0 ? "" : user);
}
