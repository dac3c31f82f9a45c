/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * metrics.c - one reading of the state file's counters, and the same in
 * the Prometheus text exposition format (metrics).  genidctl stats and the
 * master's /metrics endpoint print it with this one code.
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

#include "bucket.h"
#include "claim.h"
#include "id.h"
#include "metrics.h"
#include "serving.h"
#include "statefile.h"

static void copy_words(void *dst, const void *src, size_t size);
static int pid_alive(int64_t pid);
static void family(
    FILE *out, const char *name, enum counters_type type, const char *help);
static void bucket_families(FILE *out, const struct metrics_snap *s);
static void worker_families(FILE *out, const struct metrics_snap *s);
static void slew_families(FILE *out, const struct state_header *h);
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
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mt);
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
	    claim_state_now(h->identity, h->fence_ms, statefile_mono_ms()));
}

double
metrics_fence_left(const struct state_header *h)
{
	int64_t left = h->fence_ms == 0 ? 0 : h->fence_ms - statefile_mono_ms();

	return left > 0 ? left / 1000.0 : 0;
}

/* How the node holds its identity (genid(8), "Identity"). */
static void
identity_families(FILE *out, const struct state_header *h)
{
	family(out, "genid_identity", COUNTERS_GAUGE,
	    "How the node holds its machine id, as a label: static (the"
	    " configured one), held (leased from etcd), lost (the lease ended:"
	    " nothing is issued), unconfirmed (etcd did not answer at start).");
	fprintf(out, "genid_identity{mode=\"%s\"} 1\n", metrics_identity(h));
	family(out, "genid_identity_fence_seconds", COUNTERS_GAUGE,
	    "Seconds the workers may still issue under the etcd lease unless"
	    " it is renewed (0: fenced, or no lease).");
	fprintf(
	    out, "genid_identity_fence_seconds %.3f\n", metrics_fence_left(h));
	family(out, "genid_identity_renewed_seconds", COUNTERS_GAUGE,
	    "Unix time of the last renewal of the etcd lease (0: none).");
	fprintf(out, "genid_identity_renewed_seconds %lld\n",
	    (long long)h->renewed);
	family(out, "genid_identity_losses_total", COUNTERS_COUNTER,
	    "Times the etcd lease was lost since the start.");
	fprintf(out, "genid_identity_losses_total %llu\n",
	    (unsigned long long)h->identity_losses);
}

/* One family per row of the bucket table, one sample per bucket. */
static void
bucket_families(FILE *out, const struct metrics_snap *s)
{
	const struct counters_def *c;
	size_t i, n;
	unsigned b;

	c = counters_table(COUNTERS_BUCKET, &n);
	for (i = 0; i < n; i++) {
		family(out, c[i].prom, c[i].type, c[i].help);
		for (b = 0; b < STATE_BUCKETS; b++)
			fprintf(out, "%s{bucket=\"%u\"} %llu\n", c[i].prom, b,
			    (unsigned long long)counters_field(
				&s->b[b], c[i].off));
	}
}

/* One family per row of the worker table, one sample per worker slot in
 * use. */
static void
worker_families(FILE *out, const struct metrics_snap *s)
{
	const struct counters_def *c;
	size_t i, n;
	unsigned w;

	c = counters_table(COUNTERS_WORKER, &n);
	for (i = 0; i < n; i++) {
		family(out, c[i].prom, c[i].type, c[i].help);
		for (w = 0; w < s->nworkers; w++)
			fprintf(out, "%s{worker=\"%u\"} %llu\n", c[i].prom, w,
			    (unsigned long long)metrics_worker(s, &c[i], w));
	}
}

/* The allowance after a clock step back (genid(7)). */
static void
slew_families(FILE *out, const struct state_header *h)
{
	family(out, "genid_clock_allowance_seconds", COUNTERS_GAUGE,
	    "How far a bucket may borrow ahead of the clock now: max_ahead_s,"
	    " more during a slew.");
	fprintf(out, "genid_clock_allowance_seconds %llu\n",
	    (unsigned long long)(h->allowance < h->max_ahead ? h->max_ahead
							     : h->allowance));
	family(out, "genid_clock_slew_extra_seconds", COUNTERS_GAUGE,
	    "The part of the allowance a slew adds, 0 when none runs.");
	fprintf(out, "genid_clock_slew_extra_seconds %.3f\n",
	    (double)h->slew_extra_ms / 1e3);
	family(out, "genid_clock_slew_remaining_seconds", COUNTERS_GAUGE,
	    "Time until the node meets the clock again.");
	fprintf(out, "genid_clock_slew_remaining_seconds %.3f\n",
	    (double)h->slew_left_ms / 1e3);
	family(out, "genid_clock_slew_rate", COUNTERS_GAUGE,
	    "clock_slew: the share of real time the allowance shrinks by.");
	fprintf(out, "genid_clock_slew_rate %.6f\n",
	    (double)h->slew_rate_ppm / 1e6);
	family(out, "genid_clock_slews_total", COUNTERS_COUNTER,
	    "Slews started since the node started.");
	fprintf(out, "genid_clock_slews_total %llu\n",
	    (unsigned long long)h->slews);
	family(out, "genid_clock_slews_refused_total", COUNTERS_COUNTER,
	    "Steps back beyond max_slew_s: the buckets waited for the clock.");
	fprintf(out, "genid_clock_slews_refused_total %llu\n",
	    (unsigned long long)h->slews_refused);
}

void
metrics_prometheus(FILE *out, const struct metrics_snap *s)
{
	const struct state_header *h = &s->h;
	unsigned b, w;

	family(out, "genid_info", COUNTERS_GAUGE,
	    "Identity of the node the state file was made for.");
	fprintf(out,
	    "genid_info{zone=\"%u\",dc=\"%u\",machine=\"%u\",epoch=\"%lld\"}"
	    " 1\n",
	    h->zone, h->dc, h->machine, (long long)h->epoch);
	family(out, "genid_up", COUNTERS_GAUGE,
	    "1 when the master process is alive and holds the state file.");
	fprintf(out, "genid_up %d\n", s->master_alive && s->locked);
	family(out, "genid_serving", COUNTERS_GAUGE,
	    "1 when the node can issue IDs now (INFO state \"serving\").");
	fprintf(out, "genid_serving %d\n", metrics_serving(s));
	family(out, "genid_state", COUNTERS_GAUGE,
	    "Whether the node can issue now, or why not, as a label: serving,"
	    " clock-behind, checkpoint-stuck, stopping, peer-conflict,"
	    " identity-lost, down.");
	fprintf(out, "genid_state{state=\"%s\"} 1\n", metrics_state(s));
	identity_families(out, h);
	family(out, "genid_state_since_seconds", COUNTERS_GAUGE,
	    "Unix time the node took its current state.");
	fprintf(out, "genid_state_since_seconds %lld\n",
	    (long long)h->serving_since);
	family(out, "genid_start_time_seconds", COUNTERS_GAUGE,
	    "Unix time the master started.");
	fprintf(out, "genid_start_time_seconds %lld\n", (long long)h->started);
	family(out, "genid_boots_total", COUNTERS_COUNTER,
	    "Times a genid started on this state file.");
	fprintf(
	    out, "genid_boots_total %llu\n", (unsigned long long)h->boot_count);
	family(out, "genid_workers", COUNTERS_GAUGE,
	    "Configured worker processes.");
	fprintf(out, "genid_workers %u\n", h->workers);

	bucket_families(out, s);
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
	worker_families(out, s);

	family(out, "genid_clock_steps_back_total", COUNTERS_COUNTER,
	    "Steps of the wall clock backward.");
	fprintf(out, "genid_clock_steps_back_total %llu\n",
	    (unsigned long long)h->clock_steps_back);
	family(out, "genid_clock_steps_forward_total", COUNTERS_COUNTER,
	    "Steps of the wall clock forward.");
	fprintf(out, "genid_clock_steps_forward_total %llu\n",
	    (unsigned long long)h->clock_steps_forward);
	family(out, "genid_clock_last_step_seconds", COUNTERS_GAUGE,
	    "Size of the last clock step, negative when backward.");
	fprintf(out, "genid_clock_last_step_seconds %.9f\n",
	    (double)h->clock_step_last_ns / 1e9);
	family(out, "genid_clock_max_step_back_seconds", COUNTERS_GAUGE,
	    "Largest step of the clock backward.");
	fprintf(out, "genid_clock_max_step_back_seconds %.9f\n",
	    (double)h->clock_step_max_back_ns / 1e9);
	family(out, "genid_lead_seconds", COUNTERS_GAUGE,
	    "Largest lead of a bucket's second ahead of the clock.");
	fprintf(out, "genid_lead_seconds %lld\n", (long long)s->lead);
	slew_families(out, h);

	family(out, "genid_checkpoint_ahead_seconds", COUNTERS_GAUGE,
	    "How far the checkpoint is ahead of the clock.");
	fprintf(out, "genid_checkpoint_ahead_seconds %lld\n",
	    (long long)((int64_t)h->checkpoint - s->now_ts));
	family(out, "genid_checkpoint_age_seconds", COUNTERS_GAUGE,
	    "Seconds since the checkpoint was last synced to disk.");
	fprintf(out, "genid_checkpoint_age_seconds %lld\n",
	    (long long)(h->checkpoint_synced != 0
		    ? s->now - h->checkpoint_synced
		    : 0));
	family(out, "genid_checkpoint_syncs_total", COUNTERS_COUNTER,
	    "Syncs of the checkpoint to disk.");
	fprintf(out, "genid_checkpoint_syncs_total %llu\n",
	    (unsigned long long)h->checkpoint_syncs);

	family(out, "genid_timestamp_left_seconds", COUNTERS_GAUGE,
	    "Seconds until the 32-bit timestamp of the IDs runs out.");
	fprintf(out, "genid_timestamp_left_seconds %lld\n",
	    (long long)((int64_t)ID_TS_MAX - s->now_ts));
	family(out, "genid_peer_conflicts", COUNTERS_GAUGE,
	    "Peers that reported this node's zone, dc and machine at the last"
	    " check.");
	fprintf(out, "genid_peer_conflicts %llu\n",
	    (unsigned long long)h->peer_conflicts);
	family(out, "genid_peer_clocks", COUNTERS_GAUGE,
	    "Peers whose clock was read at the last check.");
	fprintf(out, "genid_peer_clocks %llu\n",
	    (unsigned long long)h->peer_clocks);
	family(out, "genid_peer_clock_skew_seconds", COUNTERS_GAUGE,
	    "This clock minus the median of the peers' at the last check"
	    " (0 when no peer answered).");
	fprintf(out, "genid_peer_clock_skew_seconds %.3f\n",
	    h->peer_clocks > 0 ? (double)h->peer_skew_ms / 1000.0 : 0.0);
	family(out, "genid_signed_left_seconds", COUNTERS_GAUGE,
	    "Seconds until IDs reach 2^63 and stop fitting a signed 64-bit"
	    " column (negative: already).");
	fprintf(out, "genid_signed_left_seconds %lld\n",
	    (long long)(ID_TS_SIGNED_LIMIT - s->now_ts));
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
