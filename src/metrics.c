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

#include "clock.h"
#include "bucket.h"
#include "claim.h"
#include "id.h"
#include "metrics.h"
#include "serving.h"
#include "statefile.h"
#include "timefmt.h"

static void copy_words(void *dst, const void *src, size_t size);
static int pid_alive(int64_t pid);
static void family(
    FILE *out, const char *name, enum counters_type type, const char *help);
static void get_info(const struct metrics_snap *s, struct metrics_value *v);
static void get_up(const struct metrics_snap *s, struct metrics_value *v);
static void get_serving(const struct metrics_snap *s, struct metrics_value *v);
static void get_state(const struct metrics_snap *s, struct metrics_value *v);
static void get_identity(const struct metrics_snap *s, struct metrics_value *v);
static void get_fence(const struct metrics_snap *s, struct metrics_value *v);
static void get_lease(const struct metrics_snap *s, struct metrics_value *v);
static void get_now(const struct metrics_snap *s, struct metrics_value *v);
static void get_time(const struct metrics_snap *s, struct metrics_value *v);
static void get_alive(const struct metrics_snap *s, struct metrics_value *v);
static void get_locked(const struct metrics_snap *s, struct metrics_value *v);
static void get_lead(const struct metrics_snap *s, struct metrics_value *v);
static void get_ckpt_time(
    const struct metrics_snap *s, struct metrics_value *v);
static void get_ckpt_ahead(
    const struct metrics_snap *s, struct metrics_value *v);
static void get_ckpt_age(const struct metrics_snap *s, struct metrics_value *v);
static void get_allowance(
    const struct metrics_snap *s, struct metrics_value *v);
static void get_ts_left(const struct metrics_snap *s, struct metrics_value *v);
static void get_skew(const struct metrics_snap *s, struct metrics_value *v);
static void get_signed_left(
    const struct metrics_snap *s, struct metrics_value *v);
static void node_sample(
    FILE *out, const struct metrics_node *r, const struct metrics_value *v);
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

static void
get_info(const struct metrics_snap *s, struct metrics_value *v)
{
	snprintf(v->s, sizeof(v->s),
	    "zone=\"%u\",dc=\"%u\",machine=\"%u\",epoch=\"%lld\"", s->h.zone,
	    s->h.dc, s->h.machine, (long long)s->h.epoch);
}

static void
get_up(const struct metrics_snap *s, struct metrics_value *v)
{
	v->i = s->master_alive && s->locked;
}

static void
get_serving(const struct metrics_snap *s, struct metrics_value *v)
{
	v->i = metrics_serving(s);
}

static void
get_state(const struct metrics_snap *s, struct metrics_value *v)
{
	snprintf(v->s, sizeof(v->s), "%s", metrics_state(s));
}

static void
get_identity(const struct metrics_snap *s, struct metrics_value *v)
{
	snprintf(v->s, sizeof(v->s), "%s", metrics_identity(&s->h));
}

static void
get_fence(const struct metrics_snap *s, struct metrics_value *v)
{
	v->d = metrics_fence_left(&s->h);
}

static void
get_lease(const struct metrics_snap *s, struct metrics_value *v)
{
	metrics_lease_hex(&s->h, v->s, sizeof(v->s));
}

static void
get_now(const struct metrics_snap *s, struct metrics_value *v)
{
	v->i = s->now;
}

static void
get_time(const struct metrics_snap *s, struct metrics_value *v)
{
	timefmt_iso(s->now, v->s, sizeof(v->s));
}

static void
get_alive(const struct metrics_snap *s, struct metrics_value *v)
{
	v->i = s->master_alive;
}

static void
get_locked(const struct metrics_snap *s, struct metrics_value *v)
{
	v->i = s->locked;
}

static void
get_lead(const struct metrics_snap *s, struct metrics_value *v)
{
	v->i = s->lead;
}

static void
get_ckpt_time(const struct metrics_snap *s, struct metrics_value *v)
{
	timefmt_iso(s->h.epoch + (int64_t)s->h.checkpoint, v->s, sizeof(v->s));
}

static void
get_ckpt_ahead(const struct metrics_snap *s, struct metrics_value *v)
{
	v->i = (int64_t)s->h.checkpoint - s->now_ts;
}

static void
get_ckpt_age(const struct metrics_snap *s, struct metrics_value *v)
{
	v->i =
	    s->h.checkpoint_synced != 0 ? s->now - s->h.checkpoint_synced : 0;
}

static void
get_allowance(const struct metrics_snap *s, struct metrics_value *v)
{
	v->u = metrics_allowance(&s->h);
}

static void
get_ts_left(const struct metrics_snap *s, struct metrics_value *v)
{
	v->i = (int64_t)ID_TS_MAX - s->now_ts;
}

/* /metrics shows no skew while no peer clock is known. */
static void
get_skew(const struct metrics_snap *s, struct metrics_value *v)
{
	v->d = s->h.peer_clocks > 0 ? (double)s->h.peer_skew_ms / 1000.0 : 0.0;
}

static void
get_signed_left(const struct metrics_snap *s, struct metrics_value *v)
{
	v->i = ID_TS_SIGNED_LIMIT - s->now_ts;
}

#define HDR(f) offsetof(struct state_header, f)

static const struct metrics_node node_rows[] = {
    {"genid_info", "Identity of the node the state file was made for.",
	COUNTERS_GAUGE, .kind = METRICS_LABELS, .get = get_info},
    {"genid_up", "1 when the master process is alive and holds the state file.",
	COUNTERS_GAUGE, .kind = METRICS_BOOL, .get = get_up},
    {"genid_serving",
	"1 when the node can issue IDs now (INFO state \"serving\").",
	COUNTERS_GAUGE, .kind = METRICS_BOOL, .get = get_serving},
    {"genid_state",
	"Whether the node can issue now, or why not, as a label: serving,"
	" clock-behind, checkpoint-stuck, stopping, peer-conflict,"
	" identity-lost, down.",
	COUNTERS_GAUGE, .label = "state", .kind = METRICS_STRING,
	.get = get_state},
    /* How the node holds its identity (genid(8), "Identity"). */
    {"genid_identity",
	"How the node holds its machine id, as a label: static (the"
	" configured one), held (leased from etcd), lost (the lease ended:"
	" nothing is issued), unconfirmed (etcd did not answer at start).",
	COUNTERS_GAUGE, .label = "mode", .kind = METRICS_STRING,
	.get = get_identity},
    {"genid_identity_fence_seconds",
	"Seconds the workers may still issue under the etcd lease unless"
	" it is renewed (0: fenced, or no lease).",
	COUNTERS_GAUGE, .digits = 3, .kind = METRICS_REAL, .get = get_fence},
    {"genid_identity_renewed_seconds",
	"Unix time of the last renewal of the etcd lease (0: none).",
	COUNTERS_GAUGE, .kind = METRICS_INT, .off = HDR(renewed)},
    {"genid_identity_losses_total",
	"Times the etcd lease was lost since the start.", COUNTERS_COUNTER,
	.kind = METRICS_UINT, .off = HDR(identity_losses)},
    {"genid_state_since_seconds", "Unix time the node took its current state.",
	COUNTERS_GAUGE, .kind = METRICS_INT, .off = HDR(serving_since)},
    {.json = "now", .kind = METRICS_INT, .get = get_now},
    {.json = "time", .kind = METRICS_STRING, .get = get_time},
    {.json = "zone", .kind = METRICS_U32, .off = HDR(zone)},
    {.json = "dc", .kind = METRICS_U32, .off = HDR(dc)},
    {.json = "machine", .kind = METRICS_U32, .off = HDR(machine)},
    {.json = "epoch", .kind = METRICS_INT, .off = HDR(epoch)},
    {.json = "created", .kind = METRICS_INT, .off = HDR(created)},
    {.group = "master",
	.json = "pid",
	.kind = METRICS_INT,
	.off = HDR(master_pid)},
    {.group = "master",
	.json = "alive",
	.kind = METRICS_BOOL,
	.get = get_alive},
    {.group = "master",
	.json = "locked",
	.kind = METRICS_BOOL,
	.get = get_locked},
    {"genid_start_time_seconds", "Unix time the master started.",
	COUNTERS_GAUGE, .group = "master", .json = "started",
	.kind = METRICS_INT, .off = HDR(started)},
    {"genid_boots_total", "Times a genid started on this state file.",
	COUNTERS_COUNTER, .json = "boot_count", .kind = METRICS_UINT,
	.off = HDR(boot_count)},
    {"genid_workers", "Configured worker processes.", COUNTERS_GAUGE,
	.json = "workers", .kind = METRICS_U32, .off = HDR(workers)},
    {.json = "max_ahead_s", .kind = METRICS_U32, .off = HDR(max_ahead)},
    {.json = "worker_restarts",
	.kind = METRICS_UINT,
	.off = HDR(worker_restarts)},
    {.json = "state", .kind = METRICS_STRING, .get = get_state},
    {.json = "serving", .kind = METRICS_BOOL, .get = get_serving},
    {.json = "state_since", .kind = METRICS_INT, .off = HDR(serving_since)},
    {.json = "lead_s", .kind = METRICS_INT, .get = get_lead},
    {.group = "checkpoint",
	.json = "ts",
	.kind = METRICS_UINT,
	.off = HDR(checkpoint)},
    {.group = "checkpoint",
	.json = "time",
	.kind = METRICS_STRING,
	.get = get_ckpt_time},
    {.group = "checkpoint",
	.json = "ahead_s",
	.kind = METRICS_INT,
	.get = get_ckpt_ahead},
    {.group = "checkpoint",
	.json = "safe",
	.kind = METRICS_UINT,
	.off = HDR(checkpoint_safe)},
    {.group = "checkpoint",
	.json = "synced",
	.kind = METRICS_INT,
	.off = HDR(checkpoint_synced)},
    {.group = "checkpoint",
	.json = "syncs",
	.kind = METRICS_UINT,
	.off = HDR(checkpoint_syncs)},
    {"genid_clock_steps_back_total", "Steps of the wall clock backward.",
	COUNTERS_COUNTER, .tail = 1, .group = "clock", .json = "steps_back",
	.kind = METRICS_UINT, .off = HDR(clock_steps_back)},
    {"genid_clock_steps_forward_total", "Steps of the wall clock forward.",
	COUNTERS_COUNTER, .tail = 1, .group = "clock", .json = "steps_forward",
	.kind = METRICS_UINT, .off = HDR(clock_steps_forward)},
    {.group = "clock",
	.json = "last_step_ns",
	.kind = METRICS_INT,
	.off = HDR(clock_step_last_ns)},
    {.group = "clock",
	.json = "max_step_back_ns",
	.kind = METRICS_UINT,
	.off = HDR(clock_step_max_back_ns)},
    {"genid_clock_last_step_seconds",
	"Size of the last clock step, negative when backward.", COUNTERS_GAUGE,
	.digits = 9, .tail = 1, .kind = METRICS_REAL,
	.off = HDR(clock_step_last_ns), .scale = 1e9},
    {"genid_clock_max_step_back_seconds", "Largest step of the clock backward.",
	COUNTERS_GAUGE, .digits = 9, .tail = 1, .kind = METRICS_REAL,
	.off = HDR(clock_step_max_back_ns), .scale = 1e9},
    {"genid_lead_seconds",
	"Largest lead of a bucket's second ahead of the clock.", COUNTERS_GAUGE,
	.tail = 1, .kind = METRICS_INT, .get = get_lead},
    /* The allowance after a clock step back (genid(7)). */
    {"genid_clock_allowance_seconds",
	"How far a bucket may borrow ahead of the clock now: max_ahead_s,"
	" more during a slew.",
	COUNTERS_GAUGE, .tail = 1, .group = "slew", .json = "allowance_s",
	.kind = METRICS_UINT, .get = get_allowance},
    {"genid_clock_slew_extra_seconds",
	"The part of the allowance a slew adds, 0 when none runs.",
	COUNTERS_GAUGE, .digits = 3, .tail = 1, .group = "slew",
	.json = "extra_s", .kind = METRICS_REAL, .off = HDR(slew_extra_ms),
	.scale = 1e3},
    {"genid_clock_slew_remaining_seconds",
	"Time until the node meets the clock again.", COUNTERS_GAUGE,
	.digits = 3, .tail = 1, .group = "slew", .json = "remaining_s",
	.kind = METRICS_REAL, .off = HDR(slew_left_ms), .scale = 1e3},
    {"genid_clock_slew_rate",
	"clock_slew: the share of real time the allowance shrinks by.",
	COUNTERS_GAUGE, .digits = 6, .tail = 1, .group = "slew",
	.json = "clock_slew", .kind = METRICS_REAL, .off = HDR(slew_rate_ppm),
	.scale = 1e6},
    {"genid_clock_slews_total", "Slews started since the node started.",
	COUNTERS_COUNTER, .tail = 1, .group = "slew", .json = "started",
	.kind = METRICS_UINT, .off = HDR(slews)},
    {"genid_clock_slews_refused_total",
	"Steps back beyond max_slew_s: the buckets waited for the clock.",
	COUNTERS_COUNTER, .tail = 1, .group = "slew", .json = "refused",
	.kind = METRICS_UINT, .off = HDR(slews_refused)},
    {"genid_checkpoint_ahead_seconds",
	"How far the checkpoint is ahead of the clock.", COUNTERS_GAUGE,
	.tail = 1, .kind = METRICS_INT, .get = get_ckpt_ahead},
    {"genid_checkpoint_age_seconds",
	"Seconds since the checkpoint was last synced to disk.", COUNTERS_GAUGE,
	.tail = 1, .kind = METRICS_INT, .get = get_ckpt_age},
    {"genid_checkpoint_syncs_total", "Syncs of the checkpoint to disk.",
	COUNTERS_COUNTER, .tail = 1, .kind = METRICS_UINT,
	.off = HDR(checkpoint_syncs)},
    {"genid_timestamp_left_seconds",
	"Seconds until the 32-bit timestamp of the IDs runs out.",
	COUNTERS_GAUGE, .tail = 1, .kind = METRICS_INT, .get = get_ts_left},
    {"genid_peer_conflicts",
	"Peers that reported this node's zone, dc and machine at the last"
	" check.",
	COUNTERS_GAUGE, .tail = 1, .group = "peers", .json = "conflicts",
	.kind = METRICS_UINT, .off = HDR(peer_conflicts)},
    {.group = "peers",
	.json = "checked",
	.kind = METRICS_INT,
	.off = HDR(peer_checked)},
    {"genid_peer_clocks", "Peers whose clock was read at the last check.",
	COUNTERS_GAUGE, .tail = 1, .group = "peers", .json = "clocks",
	.kind = METRICS_UINT, .off = HDR(peer_clocks)},
    {.group = "peers",
	.json = "clock_skew_s",
	.kind = METRICS_REAL,
	.off = HDR(peer_skew_ms),
	.scale = 1000.0},
    {"genid_peer_clock_skew_seconds",
	"This clock minus the median of the peers' at the last check"
	" (0 when no peer answered).",
	COUNTERS_GAUGE, .digits = 3, .tail = 1, .kind = METRICS_REAL,
	.get = get_skew},
    {"genid_signed_left_seconds",
	"Seconds until IDs reach 2^63 and stop fitting a signed 64-bit"
	" column (negative: already).",
	COUNTERS_GAUGE, .tail = 1, .kind = METRICS_INT, .get = get_signed_left},
    {.group = "identity",
	.json = "mode",
	.kind = METRICS_STRING,
	.get = get_identity},
    {.group = "identity",
	.json = "lease",
	.kind = METRICS_STRING,
	.get = get_lease},
    {.group = "identity",
	.json = "renewed",
	.kind = METRICS_INT,
	.off = HDR(renewed)},
    {.group = "identity",
	.json = "fence_in_s",
	.kind = METRICS_REAL,
	.get = get_fence},
    {.group = "identity",
	.json = "ceiling",
	.kind = METRICS_UINT,
	.off = HDR(ceiling)},
    {.group = "identity",
	.json = "losses",
	.kind = METRICS_UINT,
	.off = HDR(identity_losses)},
};

const struct metrics_node *
metrics_nodes(size_t *n)
{
	*n = sizeof(node_rows) / sizeof(node_rows[0]);
	return node_rows;
}

void
metrics_node_value(const struct metrics_snap *s, const struct metrics_node *r,
    struct metrics_value *v)
{
	const char *f = (const char *)&s->h + r->off;
	uint32_t u32;

	memset(v, 0, sizeof(*v));
	if (r->get != NULL) {
		r->get(s, v);
		return;
	}
	if (r->kind == METRICS_U32) {
		memcpy(&u32, f, sizeof(u32));
		v->u = u32;
		return;
	}
	/* Every other field is 64 bits; signed ones read the same. */
	memcpy(&v->i, f, sizeof(v->i));
	v->u = (uint64_t)v->i;
	if (r->kind == METRICS_REAL)
		v->d = (double)v->i / r->scale;
}

/* Row r's sample in /metrics, its value v. */
static void
node_sample(
    FILE *out, const struct metrics_node *r, const struct metrics_value *v)
{
	switch (r->kind) {
	case METRICS_INT:
		fprintf(out, "%s %lld\n", r->prom, (long long)v->i);
		break;
	case METRICS_UINT:
	case METRICS_U32:
		fprintf(out, "%s %llu\n", r->prom, (unsigned long long)v->u);
		break;
	case METRICS_REAL:
		fprintf(out, "%s %.*f\n", r->prom, r->digits, v->d);
		break;
	case METRICS_BOOL:
		fprintf(out, "%s %d\n", r->prom, (int)v->i);
		break;
	case METRICS_STRING:
		fprintf(out, "%s{%s=\"%s\"} 1\n", r->prom, r->label, v->s);
		break;
	case METRICS_LABELS:
		fprintf(out, "%s{%s} 1\n", r->prom, v->s);
		break;
	}
}

/* The families of the node table's rows, those before the bucket and
 * worker families or (tail) after them. */
static void
node_families(FILE *out, const struct metrics_snap *s, int tail)
{
	struct metrics_value v;
	size_t i;

	for (i = 0; i < sizeof(node_rows) / sizeof(node_rows[0]); i++) {
		if (node_rows[i].prom == NULL || node_rows[i].tail != tail)
			continue;
		family(out, node_rows[i].prom, node_rows[i].type,
		    node_rows[i].help);
		metrics_node_value(s, &node_rows[i], &v);
		node_sample(out, &node_rows[i], &v);
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
			    (unsigned long long)(slot == COUNTERS_BUCKET
				    ? counters_field(&s->b[j], c[i].off)
				    : metrics_worker(s, &c[i], j)));
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
