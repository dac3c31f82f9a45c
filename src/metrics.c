/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * metrics.c - one reading of a state file, and its Prometheus text.
 *
 * genidctl stats and the master's /metrics endpoint read and print with
 * this one code; the node's own fields are rows of nodefields.c.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "bucket.h"
#include "claim.h"
#include "metrics.h"
#include "nodefields.h"
#include "serving.h"
#include "statefile.h"

static void copy_words(void *dst, const void *src, size_t size);
static int pid_alive(int64_t pid);
static void family(
    FILE *out, const char *name, enum counters_type type, const char *help);
static void node_sample(
    FILE *out, const struct nodefield *r, const struct nodefield_value *v);
static void node_families(FILE *out, const struct metrics_snap *s, int tail);
static void counter_families(
    FILE *out, const struct metrics_snap *s, enum counters_slot slot);
static int proc_stat_fields(unsigned long long *v);
static long long boot_time(void);
static long open_fds(void);

/*
 * Every field of the state file is 64-bit aligned and stored at once by
 * its single writer; copying word by word with atomic loads reads each
 * field whole (the two 32-bit halves of a word are separate fields, each
 * also whole).
 */
static void
copy_words(void *dst, const void *src, size_t size)
{
	uint64_t *d = dst;
	const uint64_t *p = src;
	size_t i;

	for (i = 0; i < size / sizeof(uint64_t); i++)
		d[i] = state_load(&p[i]);
}

void
metrics_read(struct metrics_snap *s, const struct state_header *h)
{
	struct timespec rt, mt;
	unsigned b, w;
	int owner;

	memset(s, 0, sizeof(*s));
	clock_real(&rt);
	clock_mono(&mt);
	copy_words(&s->h, h, sizeof(s->h));
	for (b = 0; b < STATE_BUCKETS; b++)
		copy_words(&s->b[b], state_bucket((struct state_header *)h, b),
		    sizeof(s->b[b]));
	for (w = 0; w < STATE_WORKERS; w++)
		copy_words(&s->w[w], state_worker((struct state_header *)h, w),
		    sizeof(s->w[w]));
	s->now = rt.tv_sec;
	s->now_ts = s->now - s->h.epoch;
	s->mono = (double)mt.tv_sec + (double)mt.tv_nsec / 1e9;
	s->master_alive = pid_alive(s->h.master_pid);
	s->nworkers =
	    s->h.workers < STATE_WORKERS ? s->h.workers : STATE_WORKERS;
	for (w = 0; w < s->nworkers; w++)
		s->alive[w] = pid_alive(s->w[w].pid);
	for (b = 0; b < STATE_BUCKETS; b++) {
		if ((owner = metrics_owner(s, b)) >= 0)
			s->w_buckets[owner]++;
		if (metrics_lead(s, b) > s->lead)
			s->lead = metrics_lead(s, b);
	}
}

int
metrics_owner(const struct metrics_snap *s, unsigned b)
{
	if (s->nworkers == 0)
		return -1;
	return (int)state_bucket_owner(b, s->nworkers);
}

uint64_t
metrics_sum(const struct metrics_snap *s, size_t off, int owner)
{
	uint64_t sum = 0;
	unsigned b;

	for (b = 0; b < STATE_BUCKETS; b++)
		if (owner == -1 || metrics_owner(s, b) == owner)
			sum += counters_field(&s->b[b], off);
	return sum;
}

uint64_t
metrics_worker(
    const struct metrics_snap *s, const struct counters_def *c, unsigned w)
{
	if (c->in == COUNTERS_BUCKET)
		return metrics_sum(s, c->off, (int)w);
	return counters_field(&s->w[w], c->off);
}

uint64_t
metrics_slot(const struct metrics_snap *s, enum counters_slot slot,
    const struct counters_def *c, unsigned i)
{
	if (slot == COUNTERS_BUCKET)
		return counters_field(&s->b[i], c->off);
	return metrics_worker(s, c, i);
}

int64_t
metrics_lead(const struct metrics_snap *s, unsigned b)
{
	int64_t lead = (int64_t)bucket_ts(s->b[b].word) - s->now_ts;

	return lead > 0 ? lead : 0;
}

const char *
metrics_state(const struct metrics_snap *s)
{
	if (!s->master_alive || !s->locked)
		return "down";
	return serving_name(s->h.serving);
}

int64_t
metrics_ckpt_ahead(const struct metrics_snap *s)
{
	return (int64_t)s->h.checkpoint - s->now_ts;
}

int64_t
metrics_ckpt_age(const struct metrics_snap *s)
{
	return s->h.checkpoint_synced != 0 ? s->now - s->h.checkpoint_synced
					   : 0;
}

int
metrics_serving(const struct metrics_snap *s)
{
	return s->master_alive && s->locked && s->h.serving == SERVING;
}

/* Whether a process exists; EPERM means it does, under another user. */
static int
pid_alive(int64_t pid)
{
	if (pid <= 0 || pid > INT32_MAX)
		return 0;
	return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

static void
family(FILE *out, const char *name, enum counters_type type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
	    counters_type_name(type));
}

const char *
metrics_identity(const struct state_header *h)
{
	return claim_state_name(
	    claim_state_now(h->identity, h->fence_ms, clock_mono_ms()));
}

double
metrics_fence_left(const struct state_header *h)
{
	int64_t left = h->fence_ms == 0 ? 0 : h->fence_ms - clock_mono_ms();

	return left > 0 ? left / 1000.0 : 0;
}

uint64_t
metrics_allowance(const struct state_header *h)
{
	return h->allowance < h->max_ahead ? h->max_ahead : h->allowance;
}

const char *
metrics_lease_hex(const struct state_header *h, char *buf, size_t len)
{
	if (h->lease == 0)
		buf[0] = '\0';
	else
		snprintf(buf, len, "%llx", (unsigned long long)h->lease);
	return buf;
}

/* Row r's sample in /metrics, its value v. */
static void
node_sample(
    FILE *out, const struct nodefield *r, const struct nodefield_value *v)
{
	switch (r->kind) {
	case NODEFIELD_INT:
		fprintf(out, "%s %lld\n", r->prom, (long long)v->i);
		break;
	case NODEFIELD_UINT:
	case NODEFIELD_U32:
		fprintf(out, "%s %llu\n", r->prom, (unsigned long long)v->u);
		break;
	case NODEFIELD_REAL:
		fprintf(out, "%s %.*f\n", r->prom, r->digits, v->d);
		break;
	case NODEFIELD_BOOL:
		fprintf(out, "%s %d\n", r->prom, (int)v->i);
		break;
	case NODEFIELD_STRING:
		fprintf(out, "%s{%s=\"%s\"} 1\n", r->prom, r->label, v->s);
		break;
	case NODEFIELD_LABELS:
		fprintf(out, "%s{%s} 1\n", r->prom, v->s);
		break;
	}
}

/* The families of the node table's rows, those before the bucket and
 * worker families or (tail) after them. */
static void
node_families(FILE *out, const struct metrics_snap *s, int tail)
{
	const struct nodefield *r;
	struct nodefield_value v;
	size_t i, n;

	r = nodefields_table(&n);
	for (i = 0; i < n; i++) {
		if (r[i].prom == NULL || r[i].tail != tail)
			continue;
		family(out, r[i].prom, r[i].type, r[i].help);
		nodefields_value(s, &r[i], &v);
		node_sample(out, &r[i], &v);
	}
}

/* One family per row of the bucket or the worker table, one sample per
 * bucket, or per worker slot in use. */
static void
counter_families(
    FILE *out, const struct metrics_snap *s, enum counters_slot slot)
{
	const char *label = slot == COUNTERS_BUCKET ? "bucket" : "worker";
	unsigned j, m = slot == COUNTERS_BUCKET ? STATE_BUCKETS : s->nworkers;
	const struct counters_def *c;
	size_t i, n;

	c = counters_table(slot, &n);
	for (i = 0; i < n; i++) {
		family(out, c[i].prom, c[i].type, c[i].help);
		for (j = 0; j < m; j++)
			fprintf(out, "%s{%s=\"%u\"} %llu\n", c[i].prom, label,
			    j,
			    (unsigned long long)metrics_slot(
				s, slot, &c[i], j));
	}
}

void
metrics_prometheus(FILE *out, const struct metrics_snap *s)
{
	unsigned b, w;

	node_families(out, s, 0);
	counter_families(out, s, COUNTERS_BUCKET);
	family(out, "genid_bucket_lead_seconds", COUNTERS_GAUGE,
	    "How far a bucket's second is ahead of the clock (borrowing).");
	for (b = 0; b < STATE_BUCKETS; b++)
		fprintf(out, "genid_bucket_lead_seconds{bucket=\"%u\"} %lld\n",
		    b, (long long)metrics_lead(s, b));
	family(out, "genid_worker_up", COUNTERS_GAUGE,
	    "1 when the worker process of a slot is alive.");
	for (w = 0; w < s->nworkers; w++)
		fprintf(
		    out, "genid_worker_up{worker=\"%u\"} %d\n", w, s->alive[w]);
	counter_families(out, s, COUNTERS_WORKER);
	node_families(out, s, 1);
}

/*
 * Fields 14 (utime), 15 (stime), 22 (starttime), 23 (vsize) and 24 (rss)
 * of /proc/self/stat into v[0..4]; 0 or -1.  The command name, field 2,
 * may hold spaces and parentheses: the fields start after its last ')'.
 */
static int
proc_stat_fields(unsigned long long *v)
{
	static const int want[] = {14, 15, 22, 23, 24};
	char buf[1024], *p, *end;
	size_t n, i = 0;
	FILE *f;
	int field;

	if ((f = fopen("/proc/self/stat", "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	p++;
	for (field = 3; i < sizeof(want) / sizeof(want[0]); field++) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			return -1;
		if (field == want[i]) {
			v[i++] = strtoull(p, &end, 10);
			p = end;
		} else
			p += strcspn(p, " ");
	}
	return 0;
}

/* The boot time in Unix seconds, from /proc/stat's btime; -1 unknown. */
static long long
boot_time(void)
{
	char line[256];
	long long t = -1;
	FILE *f;

	if ((f = fopen("/proc/stat", "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "btime %lld", &t) == 1)
			break;
	fclose(f);
	return t;
}

/* The descriptors open in this process, or -1. */
static long
open_fds(void)
{
	struct dirent *e;
	long n = 0;
	DIR *d;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	/* opendir's own descriptor is not one of the process's. */
	return n - 1;
}

void
metrics_process(FILE *out, const char *version)
{
	unsigned long long v[5];
	long ticks = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE), fds;
	long long boot = boot_time();
	struct rlimit rl;

	family(out, "genid_build_info", COUNTERS_GAUGE,
	    "The version of the genid serving these metrics.");
	fprintf(out, "genid_build_info{version=\"%s\"} 1\n", version);
	if (ticks > 0 && page > 0 && proc_stat_fields(v) == 0) {
		family(out, "process_cpu_seconds_total", COUNTERS_COUNTER,
		    "CPU time, user and system, of the master process (its"
		    " workers not included).");
		fprintf(out, "process_cpu_seconds_total %.2f\n",
		    (double)(v[0] + v[1]) / (double)ticks);
		if (boot >= 0) {
			family(out, "process_start_time_seconds",
			    COUNTERS_GAUGE,
			    "Unix time the master process started.");
			fprintf(out, "process_start_time_seconds %.2f\n",
			    (double)boot + (double)v[2] / (double)ticks);
		}
		family(out, "process_virtual_memory_bytes", COUNTERS_GAUGE,
		    "Virtual memory size of the master process.");
		fprintf(out, "process_virtual_memory_bytes %llu\n", v[3]);
		family(out, "process_resident_memory_bytes", COUNTERS_GAUGE,
		    "Resident memory of the master process.");
		fprintf(out, "process_resident_memory_bytes %llu\n",
		    v[4] * (unsigned long long)page);
	}
	if ((fds = open_fds()) >= 0) {
		family(out, "process_open_fds", COUNTERS_GAUGE,
		    "Descriptors open in the master process.");
		fprintf(out, "process_open_fds %ld\n", fds);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY) {
		family(out, "process_max_fds", COUNTERS_GAUGE,
		    "The descriptor limit of the master process.");
		fprintf(out, "process_max_fds %llu\n",
		    (unsigned long long)rl.rlim_cur);
	}
}
