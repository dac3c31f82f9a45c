/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nodefields.c - a node's own fields in one table, for /metrics and --json.
 *
 * A field is a row: a header field of the state file, or a getter for
 * what a reading derives from it (metrics.c); a new one is one more row.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "id.h"
#include "metrics.h"
#include "nodefields.h"
#include "timefmt.h"

static void get_info(const struct metrics_snap *s, struct nodefield_value *v);
static void get_up(const struct metrics_snap *s, struct nodefield_value *v);
static void get_serving(
    const struct metrics_snap *s, struct nodefield_value *v);
static void get_state(const struct metrics_snap *s, struct nodefield_value *v);
static void get_identity(
    const struct metrics_snap *s, struct nodefield_value *v);
static void get_fence(const struct metrics_snap *s, struct nodefield_value *v);
static void get_lease(const struct metrics_snap *s, struct nodefield_value *v);
static void get_now(const struct metrics_snap *s, struct nodefield_value *v);
static void get_time(const struct metrics_snap *s, struct nodefield_value *v);
static void get_alive(const struct metrics_snap *s, struct nodefield_value *v);
static void get_locked(const struct metrics_snap *s, struct nodefield_value *v);
static void get_lead(const struct metrics_snap *s, struct nodefield_value *v);
static void get_ckpt_time(
    const struct metrics_snap *s, struct nodefield_value *v);
static void get_ckpt_ahead(
    const struct metrics_snap *s, struct nodefield_value *v);
static void get_ckpt_age(
    const struct metrics_snap *s, struct nodefield_value *v);
static void get_allowance(
    const struct metrics_snap *s, struct nodefield_value *v);
static void get_ts_left(
    const struct metrics_snap *s, struct nodefield_value *v);
static void get_slew_left(
    const struct metrics_snap *s, struct nodefield_value *v);
static void get_skew(const struct metrics_snap *s, struct nodefield_value *v);
static void get_signed_left(
    const struct metrics_snap *s, struct nodefield_value *v);

static void
get_info(const struct metrics_snap *s, struct nodefield_value *v)
{
	snprintf(v->s, sizeof(v->s),
	    "zone=\"%u\",dc=\"%u\",machine=\"%u\",epoch=\"%lld\"", s->h.zone,
	    s->h.dc, s->h.machine, (long long)s->h.epoch);
}

static void
get_up(const struct metrics_snap *s, struct nodefield_value *v)
{
	v->i = s->master_alive && s->locked;
}

static void
get_serving(const struct metrics_snap *s, struct nodefield_value *v)
{
	v->i = metrics_serving(s);
}

static void
get_state(const struct metrics_snap *s, struct nodefield_value *v)
{
	snprintf(v->s, sizeof(v->s), "%s", metrics_state(s));
}

static void
get_identity(const struct metrics_snap *s, struct nodefield_value *v)
{
	snprintf(v->s, sizeof(v->s), "%s", metrics_identity(&s->h));
}

static void
get_fence(const struct metrics_snap *s, struct nodefield_value *v)
{
	v->d = metrics_fence_left(&s->h);
}

static void
get_lease(const struct metrics_snap *s, struct nodefield_value *v)
{
	metrics_lease_hex(&s->h, v->s, sizeof(v->s));
}

static void
get_now(const struct metrics_snap *s, struct nodefield_value *v)
{
	v->i = s->now;
}

static void
get_time(const struct metrics_snap *s, struct nodefield_value *v)
{
	timefmt_iso(s->now, v->s, sizeof(v->s));
}

static void
get_alive(const struct metrics_snap *s, struct nodefield_value *v)
{
	v->i = s->master_alive;
}

static void
get_locked(const struct metrics_snap *s, struct nodefield_value *v)
{
	v->i = s->locked;
}

static void
get_lead(const struct metrics_snap *s, struct nodefield_value *v)
{
	v->i = s->lead;
}

static void
get_ckpt_time(const struct metrics_snap *s, struct nodefield_value *v)
{
	timefmt_iso(s->h.epoch + (int64_t)s->h.checkpoint, v->s, sizeof(v->s));
}

static void
get_ckpt_ahead(const struct metrics_snap *s, struct nodefield_value *v)
{
	v->i = metrics_ckpt_ahead(s);
}

static void
get_ckpt_age(const struct metrics_snap *s, struct nodefield_value *v)
{
	v->i = metrics_ckpt_age(s);
}

static void
get_allowance(const struct metrics_snap *s, struct nodefield_value *v)
{
	v->u = metrics_allowance(&s->h);
}

/* The slew's end is a CLOCK_MONOTONIC time: the reader's clock is the
 * same on the same host. */
static void
get_slew_left(const struct metrics_snap *s, struct nodefield_value *v)
{
	double end = (double)s->h.slew_end_ms / 1e3;

	v->d = end > s->mono ? end - s->mono : 0;
}

static void
get_ts_left(const struct metrics_snap *s, struct nodefield_value *v)
{
	v->i = (int64_t)ID_TS_MAX - s->now_ts;
}

/* /metrics shows no skew while no peer clock is known. */
static void
get_skew(const struct metrics_snap *s, struct nodefield_value *v)
{
	v->d = s->h.peer_clocks > 0 ? (double)s->h.peer_skew_ms / 1000.0 : 0.0;
}

static void
get_signed_left(const struct metrics_snap *s, struct nodefield_value *v)
{
	v->i = ID_TS_SIGNED_LIMIT - s->now_ts;
}

#define HDR(f) offsetof(struct state_header, f)

static const struct nodefield node_rows[] = {
    {"genid_info", "Identity of the node the state file was made for.",
	COUNTERS_GAUGE, .kind = NODEFIELD_LABELS, .get = get_info},
    {"genid_up", "1 when the master process is alive and holds the state file.",
	COUNTERS_GAUGE, .kind = NODEFIELD_BOOL, .get = get_up},
    {"genid_serving",
	"1 when the node can issue IDs now (INFO state \"serving\").",
	COUNTERS_GAUGE, .kind = NODEFIELD_BOOL, .get = get_serving},
    {"genid_state",
	"Whether the node can issue now, or why not, as a label: serving,"
	" clock-behind, checkpoint-stuck, stopping, peer-conflict,"
	" identity-lost, down.",
	COUNTERS_GAUGE, .label = "state", .kind = NODEFIELD_STRING,
	.get = get_state},
    /* How the node holds its identity (genid(8), "Identity"). */
    {"genid_identity",
	"How the node holds its machine id, as a label: static (the"
	" configured one), held (leased from etcd), lost (the lease ended:"
	" nothing is issued), unconfirmed (etcd did not answer at start).",
	COUNTERS_GAUGE, .label = "mode", .kind = NODEFIELD_STRING,
	.get = get_identity},
    {"genid_identity_fence_seconds",
	"Seconds the workers may still issue under the etcd lease unless"
	" it is renewed (0: fenced, or no lease).",
	COUNTERS_GAUGE, .digits = 3, .kind = NODEFIELD_REAL, .get = get_fence},
    {"genid_identity_renewed_seconds",
	"Unix time of the last renewal of the etcd lease (0: none).",
	COUNTERS_GAUGE, .kind = NODEFIELD_INT, .off = HDR(renewed)},
    {"genid_identity_losses_total",
	"Times the etcd lease was lost since the start.", COUNTERS_COUNTER,
	.kind = NODEFIELD_UINT, .off = HDR(identity_losses)},
    {"genid_state_since_seconds", "Unix time the node took its current state.",
	COUNTERS_GAUGE, .kind = NODEFIELD_INT, .off = HDR(serving_since)},
    {.json = "now", .kind = NODEFIELD_INT, .get = get_now},
    {.json = "time", .kind = NODEFIELD_STRING, .get = get_time},
    {.json = "zone", .kind = NODEFIELD_U32, .off = HDR(zone)},
    {.json = "dc", .kind = NODEFIELD_U32, .off = HDR(dc)},
    {.json = "machine", .kind = NODEFIELD_U32, .off = HDR(machine)},
    {.json = "epoch", .kind = NODEFIELD_INT, .off = HDR(epoch)},
    {.json = "created", .kind = NODEFIELD_INT, .off = HDR(created)},
    {.group = "master",
	.json = "pid",
	.kind = NODEFIELD_INT,
	.off = HDR(master_pid)},
    {.group = "master",
	.json = "alive",
	.kind = NODEFIELD_BOOL,
	.get = get_alive},
    {.group = "master",
	.json = "locked",
	.kind = NODEFIELD_BOOL,
	.get = get_locked},
    {"genid_start_time_seconds", "Unix time the master started.",
	COUNTERS_GAUGE, .group = "master", .json = "started",
	.kind = NODEFIELD_INT, .off = HDR(started)},
    {"genid_boots_total", "Times a genid started on this state file.",
	COUNTERS_COUNTER, .json = "boot_count", .kind = NODEFIELD_UINT,
	.off = HDR(boot_count)},
    {"genid_workers", "Configured worker processes.", COUNTERS_GAUGE,
	.json = "workers", .kind = NODEFIELD_U32, .off = HDR(workers)},
    {.json = "max_ahead_s", .kind = NODEFIELD_U32, .off = HDR(max_ahead)},
    {.json = "worker_restarts",
	.kind = NODEFIELD_UINT,
	.off = HDR(worker_restarts)},
    {.json = "state", .kind = NODEFIELD_STRING, .get = get_state},
    {.json = "serving", .kind = NODEFIELD_BOOL, .get = get_serving},
    {.json = "state_since", .kind = NODEFIELD_INT, .off = HDR(serving_since)},
    {.json = "lead_s", .kind = NODEFIELD_INT, .get = get_lead},
    {.group = "checkpoint",
	.json = "ts",
	.kind = NODEFIELD_UINT,
	.off = HDR(checkpoint)},
    {.group = "checkpoint",
	.json = "time",
	.kind = NODEFIELD_STRING,
	.get = get_ckpt_time},
    {.group = "checkpoint",
	.json = "ahead_s",
	.kind = NODEFIELD_INT,
	.get = get_ckpt_ahead},
    {.group = "checkpoint",
	.json = "safe",
	.kind = NODEFIELD_UINT,
	.off = HDR(checkpoint_safe)},
    {.group = "checkpoint",
	.json = "synced",
	.kind = NODEFIELD_INT,
	.off = HDR(checkpoint_synced)},
    {.group = "checkpoint",
	.json = "syncs",
	.kind = NODEFIELD_UINT,
	.off = HDR(checkpoint_syncs)},
    {"genid_clock_steps_back_total", "Steps of the wall clock backward.",
	COUNTERS_COUNTER, .tail = 1, .group = "clock", .json = "steps_back",
	.kind = NODEFIELD_UINT, .off = HDR(clock_steps_back)},
    {"genid_clock_steps_forward_total", "Steps of the wall clock forward.",
	COUNTERS_COUNTER, .tail = 1, .group = "clock", .json = "steps_forward",
	.kind = NODEFIELD_UINT, .off = HDR(clock_steps_forward)},
    {.group = "clock",
	.json = "last_step_ns",
	.kind = NODEFIELD_INT,
	.off = HDR(clock_step_last_ns)},
    {.group = "clock",
	.json = "max_step_back_ns",
	.kind = NODEFIELD_UINT,
	.off = HDR(clock_step_max_back_ns)},
    {"genid_clock_last_step_seconds",
	"Size of the last clock step, negative when backward.", COUNTERS_GAUGE,
	.digits = 9, .tail = 1, .kind = NODEFIELD_REAL,
	.off = HDR(clock_step_last_ns), .scale = 1e9},
    {"genid_clock_max_step_back_seconds", "Largest step of the clock backward.",
	COUNTERS_GAUGE, .digits = 9, .tail = 1, .kind = NODEFIELD_REAL,
	.off = HDR(clock_step_max_back_ns), .scale = 1e9},
    {"genid_lead_seconds",
	"Largest lead of a bucket's second ahead of the clock.", COUNTERS_GAUGE,
	.tail = 1, .kind = NODEFIELD_INT, .get = get_lead},
    /* The allowance after a clock step back (genid(7)). */
    {"genid_clock_allowance_seconds",
	"How far a bucket may borrow ahead of the clock now: max_ahead_s,"
	" more during a slew.",
	COUNTERS_GAUGE, .tail = 1, .group = "slew", .json = "allowance_s",
	.kind = NODEFIELD_UINT, .get = get_allowance},
    {"genid_clock_slew_extra_seconds",
	"The part of the allowance a slew adds, 0 when none runs.",
	COUNTERS_GAUGE, .digits = 3, .tail = 1, .group = "slew",
	.json = "extra_s", .kind = NODEFIELD_REAL, .off = HDR(slew_extra_ms),
	.scale = 1e3},
    {"genid_clock_slew_remaining_seconds",
	"Time until the node meets the clock again.", COUNTERS_GAUGE,
	.digits = 3, .tail = 1, .group = "slew", .json = "remaining_s",
	.kind = NODEFIELD_REAL, .get = get_slew_left},
    {"genid_clock_slew_rate",
	"clock_slew: the share of real time the allowance shrinks by.",
	COUNTERS_GAUGE, .digits = 6, .tail = 1, .group = "slew",
	.json = "clock_slew", .kind = NODEFIELD_REAL, .off = HDR(slew_rate_ppm),
	.scale = 1e6},
    {"genid_clock_slews_total", "Slews started since the node started.",
	COUNTERS_COUNTER, .tail = 1, .group = "slew", .json = "started",
	.kind = NODEFIELD_UINT, .off = HDR(slews)},
    {"genid_clock_slews_far_total",
	"Steps back that took the slew past max_slew_s: served on at a"
	" reduced rate, the IDs far ahead of the clock.",
	COUNTERS_COUNTER, .tail = 1, .group = "slew", .json = "far",
	.kind = NODEFIELD_UINT, .off = HDR(slews_far)},
    {"genid_checkpoint_ahead_seconds",
	"How far the checkpoint is ahead of the clock.", COUNTERS_GAUGE,
	.tail = 1, .kind = NODEFIELD_INT, .get = get_ckpt_ahead},
    {"genid_checkpoint_age_seconds",
	"Seconds since the checkpoint was last synced to disk.", COUNTERS_GAUGE,
	.tail = 1, .kind = NODEFIELD_INT, .get = get_ckpt_age},
    {"genid_checkpoint_syncs_total", "Syncs of the checkpoint to disk.",
	COUNTERS_COUNTER, .tail = 1, .kind = NODEFIELD_UINT,
	.off = HDR(checkpoint_syncs)},
    {"genid_timestamp_left_seconds",
	"Seconds until the 32-bit timestamp of the IDs runs out.",
	COUNTERS_GAUGE, .tail = 1, .kind = NODEFIELD_INT, .get = get_ts_left},
    {"genid_peer_conflicts",
	"Peers that reported this node's zone, dc and machine at the last"
	" check.",
	COUNTERS_GAUGE, .tail = 1, .group = "peers", .json = "conflicts",
	.kind = NODEFIELD_UINT, .off = HDR(peer_conflicts)},
    {.group = "peers",
	.json = "checked",
	.kind = NODEFIELD_INT,
	.off = HDR(peer_checked)},
    {"genid_peer_clocks", "Peers whose clock was read at the last check.",
	COUNTERS_GAUGE, .tail = 1, .group = "peers", .json = "clocks",
	.kind = NODEFIELD_UINT, .off = HDR(peer_clocks)},
    {.group = "peers",
	.json = "clock_skew_s",
	.kind = NODEFIELD_REAL,
	.off = HDR(peer_skew_ms),
	.scale = 1000.0},
    {"genid_peer_clock_skew_seconds",
	"This clock minus the median of the peers' at the last check"
	" (0 when no peer answered).",
	COUNTERS_GAUGE, .digits = 3, .tail = 1, .kind = NODEFIELD_REAL,
	.get = get_skew},
    {"genid_signed_left_seconds",
	"Seconds until IDs reach 2^63 and stop fitting a signed 64-bit"
	" column (negative: already).",
	COUNTERS_GAUGE, .tail = 1, .kind = NODEFIELD_INT,
	.get = get_signed_left},
    {.group = "identity",
	.json = "mode",
	.kind = NODEFIELD_STRING,
	.get = get_identity},
    {.group = "identity",
	.json = "lease",
	.kind = NODEFIELD_STRING,
	.get = get_lease},
    {.group = "identity",
	.json = "renewed",
	.kind = NODEFIELD_INT,
	.off = HDR(renewed)},
    {.group = "identity",
	.json = "fence_in_s",
	.kind = NODEFIELD_REAL,
	.get = get_fence},
    {.group = "identity",
	.json = "ceiling",
	.kind = NODEFIELD_UINT,
	.off = HDR(ceiling)},
    {.group = "identity",
	.json = "losses",
	.kind = NODEFIELD_UINT,
	.off = HDR(identity_losses)},
};

const struct nodefield *
nodefields_table(size_t *n)
{
	*n = sizeof(node_rows) / sizeof(node_rows[0]);
	return node_rows;
}

void
nodefields_value(const struct metrics_snap *s, const struct nodefield *r,
    struct nodefield_value *v)
{
	const char *f = (const char *)&s->h + r->off;
	uint32_t u32;

	memset(v, 0, sizeof(*v));
	if (r->get != NULL) {
		r->get(s, v);
		return;
	}
	if (r->kind == NODEFIELD_U32) {
		memcpy(&u32, f, sizeof(u32));
		v->u = u32;
		return;
	}
	/* Every other field is 64 bits; signed ones read the same. */
	memcpy(&v->i, f, sizeof(v->i));
	v->u = (uint64_t)v->i;
	if (r->kind == NODEFIELD_REAL)
		v->d = (double)v->i / r->scale;
}
