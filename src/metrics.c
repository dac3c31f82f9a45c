/*
 * metrics.c - one reading of the state file's counters, and the same in
 * the Prometheus text exposition format (SPEC 8b).  genidctl stats and the
 * master's /metrics endpoint print it with this one code.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bucket.h"
#include "id.h"
#include "metrics.h"

enum prom_type { PROM_COUNTER, PROM_GAUGE };

static void copy_words(void *dst, const void *src, size_t size);
static int pid_alive(int64_t pid);
static uint64_t field(const void *slot, size_t off);
static void family(
    FILE *out, const char *name, enum prom_type type, const char *help);
static void bucket_family(FILE *out, const struct metrics_snap *s,
    const char *name, enum prom_type type, const char *help, size_t off);
static void worker_family(FILE *out, const struct metrics_snap *s,
    const char *name, enum prom_type type, const char *help, size_t off);

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
		if ((owner = metrics_owner(s, b)) >= 0) {
			s->w_ids[owner] += s->b[b].ids;
			s->w_requests[owner] += s->b[b].requests;
			s->w_buckets[owner]++;
		}
		s->ids += s->b[b].ids;
		s->requests += s->b[b].requests;
		s->conns += s->b[b].conns;
		s->conns_total += s->b[b].conns_total;
		s->waits += s->b[b].waits;
		s->shorts += s->b[b].shorts;
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

int64_t
metrics_lead(const struct metrics_snap *s, unsigned b)
{
	int64_t lead = (int64_t)bucket_ts(s->b[b].word) - s->now_ts;

	return lead > 0 ? lead : 0;
}

/* Whether a process exists; EPERM means it does, under another user. */
static int
pid_alive(int64_t pid)
{
	if (pid <= 0 || pid > INT32_MAX)
		return 0;
	return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

/* The 64-bit field at offset off of a bucket or worker slot. */
static uint64_t
field(const void *slot, size_t off)
{
	const uint64_t *p =
	    (const uint64_t *)(const void *)((const char *)slot + off);

	return *p;
}

static void
family(FILE *out, const char *name, enum prom_type type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
	    type == PROM_COUNTER ? "counter" : "gauge");
}

/* One sample per bucket of the 64-bit field at off in struct state_bucket. */
static void
bucket_family(FILE *out, const struct metrics_snap *s, const char *name,
    enum prom_type type, const char *help, size_t off)
{
	unsigned b;

	family(out, name, type, help);
	for (b = 0; b < STATE_BUCKETS; b++)
		fprintf(out, "%s{bucket=\"%u\"} %llu\n", name, b,
		    (unsigned long long)field(&s->b[b], off));
}

/* One sample per running worker slot of the field at off. */
static void
worker_family(FILE *out, const struct metrics_snap *s, const char *name,
    enum prom_type type, const char *help, size_t off)
{
	unsigned w;

	family(out, name, type, help);
	for (w = 0; w < s->nworkers; w++)
		fprintf(out, "%s{worker=\"%u\"} %llu\n", name, w,
		    (unsigned long long)field(&s->w[w], off));
}

void
metrics_prometheus(FILE *out, const struct metrics_snap *s)
{
	const struct state_header *h = &s->h;
	unsigned b, w;

	family(out, "genid_info", PROM_GAUGE,
	    "Identity of the node the state file was made for.");
	fprintf(out,
	    "genid_info{zone=\"%u\",dc=\"%u\",machine=\"%u\",epoch=\"%lld\"}"
	    " 1\n",
	    h->zone, h->dc, h->machine, (long long)h->epoch);
	family(out, "genid_up", PROM_GAUGE,
	    "1 when the master process is alive and holds the state file.");
	fprintf(out, "genid_up %d\n", s->master_alive && s->locked);
	family(out, "genid_start_time_seconds", PROM_GAUGE,
	    "Unix time the master started.");
	fprintf(out, "genid_start_time_seconds %lld\n", (long long)h->started);
	family(out, "genid_boots_total", PROM_COUNTER,
	    "Times a genid started on this state file.");
	fprintf(
	    out, "genid_boots_total %llu\n", (unsigned long long)h->boot_count);
	family(
	    out, "genid_workers", PROM_GAUGE, "Configured worker processes.");
	fprintf(out, "genid_workers %u\n", h->workers);

	bucket_family(out, s, "genid_bucket_ids_total", PROM_COUNTER,
	    "IDs issued by a bucket.", offsetof(struct state_bucket, ids));
	bucket_family(out, s, "genid_bucket_requests_total", PROM_COUNTER,
	    "Requests (CMD 0 and 1) a bucket answered.",
	    offsetof(struct state_bucket, requests));
	bucket_family(out, s, "genid_bucket_connections", PROM_GAUGE,
	    "Connections pinned to a bucket now.",
	    offsetof(struct state_bucket, conns));
	bucket_family(out, s, "genid_bucket_connections_total", PROM_COUNTER,
	    "Connections ever pinned to a bucket.",
	    offsetof(struct state_bucket, conns_total));
	bucket_family(out, s, "genid_bucket_waits_total", PROM_COUNTER,
	    "CMD 0 requests that waited for the clock: the bucket was used up.",
	    offsetof(struct state_bucket, waits));
	bucket_family(out, s, "genid_bucket_short_replies_total", PROM_COUNTER,
	    "CMD 1 replies with fewer IDs than asked: the bucket was used up.",
	    offsetof(struct state_bucket, shorts));
	family(out, "genid_bucket_lead_seconds", PROM_GAUGE,
	    "How far a bucket's second is ahead of the clock (borrowing).");
	for (b = 0; b < STATE_BUCKETS; b++)
		fprintf(out, "genid_bucket_lead_seconds{bucket=\"%u\"} %lld\n",
		    b, (long long)metrics_lead(s, b));

	family(out, "genid_worker_up", PROM_GAUGE,
	    "1 when the worker process of a slot is alive.");
	for (w = 0; w < s->nworkers; w++)
		fprintf(
		    out, "genid_worker_up{worker=\"%u\"} %d\n", w, s->alive[w]);
	family(out, "genid_worker_ids_total", PROM_COUNTER,
	    "IDs issued by a worker's buckets.");
	for (w = 0; w < s->nworkers; w++)
		fprintf(out, "genid_worker_ids_total{worker=\"%u\"} %llu\n", w,
		    (unsigned long long)s->w_ids[w]);
	family(out, "genid_worker_requests_total", PROM_COUNTER,
	    "Requests answered by a worker's buckets.");
	for (w = 0; w < s->nworkers; w++)
		fprintf(out,
		    "genid_worker_requests_total{worker=\"%u\"} %llu\n", w,
		    (unsigned long long)s->w_requests[w]);
	worker_family(out, s, "genid_worker_connections", PROM_GAUGE,
	    "Connections a worker holds now.",
	    offsetof(struct state_worker, conns));
	worker_family(out, s, "genid_worker_connections_total", PROM_COUNTER,
	    "Connections a worker accepted.",
	    offsetof(struct state_worker, conns_total));
	worker_family(out, s, "genid_worker_rejected_connections_total",
	    PROM_COUNTER,
	    "Connections closed at accept: connection limit or allow list.",
	    offsetof(struct state_worker, rejected));
	worker_family(out, s, "genid_worker_bad_requests_total", PROM_COUNTER,
	    "Unknown commands; the connection was closed.",
	    offsetof(struct state_worker, bad_requests));
	worker_family(out, s, "genid_worker_restarts_total", PROM_COUNTER,
	    "Times the master respawned a worker slot.",
	    offsetof(struct state_worker, restarts));
	worker_family(out, s, "genid_worker_checkpoint_raises_total",
	    PROM_COUNTER, "Times a worker raised the checkpoint itself.",
	    offsetof(struct state_worker, checkpoint_raises));

	family(out, "genid_clock_steps_back_total", PROM_COUNTER,
	    "Steps of the wall clock backward.");
	fprintf(out, "genid_clock_steps_back_total %llu\n",
	    (unsigned long long)h->clock_steps_back);
	family(out, "genid_clock_steps_forward_total", PROM_COUNTER,
	    "Steps of the wall clock forward.");
	fprintf(out, "genid_clock_steps_forward_total %llu\n",
	    (unsigned long long)h->clock_steps_forward);
	family(out, "genid_clock_last_step_seconds", PROM_GAUGE,
	    "Size of the last clock step, negative when backward.");
	fprintf(out, "genid_clock_last_step_seconds %.9f\n",
	    (double)h->clock_step_last_ns / 1e9);
	family(out, "genid_clock_max_step_back_seconds", PROM_GAUGE,
	    "Largest step of the clock backward.");
	fprintf(out, "genid_clock_max_step_back_seconds %.9f\n",
	    (double)h->clock_step_max_back_ns / 1e9);
	family(out, "genid_lead_seconds", PROM_GAUGE,
	    "Largest lead of a bucket's second ahead of the clock.");
	fprintf(out, "genid_lead_seconds %lld\n", (long long)s->lead);

	family(out, "genid_checkpoint_ahead_seconds", PROM_GAUGE,
	    "How far the checkpoint is ahead of the clock.");
	fprintf(out, "genid_checkpoint_ahead_seconds %lld\n",
	    (long long)((int64_t)h->checkpoint - s->now_ts));
	family(out, "genid_checkpoint_age_seconds", PROM_GAUGE,
	    "Seconds since the checkpoint was last synced to disk.");
	fprintf(out, "genid_checkpoint_age_seconds %lld\n",
	    (long long)(h->checkpoint_synced != 0
		    ? s->now - h->checkpoint_synced
		    : 0));
	family(out, "genid_checkpoint_syncs_total", PROM_COUNTER,
	    "Syncs of the checkpoint to disk.");
	fprintf(out, "genid_checkpoint_syncs_total %llu\n",
	    (unsigned long long)h->checkpoint_syncs);

	family(out, "genid_timestamp_seconds_left", PROM_GAUGE,
	    "Seconds until the 32-bit timestamp of the IDs runs out.");
	fprintf(out, "genid_timestamp_seconds_left %lld\n",
	    (long long)((int64_t)ID_TS_MAX - s->now_ts));
	family(out, "genid_peer_conflicts", PROM_GAUGE,
	    "Peers that reported this node's zone, dc and machine at the last"
	    " check.");
	fprintf(out, "genid_peer_conflicts %llu\n",
	    (unsigned long long)h->peer_conflicts);
	family(out, "genid_signed_seconds_left", PROM_GAUGE,
	    "Seconds until IDs reach 2^63 and stop fitting a signed 64-bit"
	    " column (negative: already).");
	fprintf(out, "genid_signed_seconds_left %lld\n",
	    (long long)((INT64_C(1) << 31) - s->now_ts));
}
