/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * state.h - the layout of the shared state file (genid(7)).
 *
 * The file is mapped MAP_SHARED by the master before it forks and read
 * by genidctl.  It starts with a versioned header, holds offsets never
 * pointers, and every 64-bit field is naturally aligned and written with
 * one atomic store, so a reader never sees half a value.  Each counter
 * has a single writer: the master, the worker that owns a bucket, or the
 * worker a slot belongs to.  Readers sum them on demand.
 */
#ifndef GENID_CORE_STATE_H
#define GENID_CORE_STATE_H

#include <stddef.h>
#include <stdint.h>

#define STATE_MAGIC UINT64_C(0x31545344494e4547) /* "GENIDST1" on disk */
#define STATE_VERSION 4u
/*
 * The oldest layout a genid converts at its start (genid(7),
 * "Compatibility"): every one since layout 3 is read.
 */
#define STATE_VERSION_OLDEST 3u
/* The header of layout 3, which layout 4 starts with, field for field. */
#define STATE_V3_HEADER_SIZE 384u
#define STATE_HEADER_SIZE 1024u
#define STATE_BUCKETS 32u
#define STATE_WORKERS 32u
/* The largest max_ahead_s a header may hold (genid.json(5)). */
#define STATE_MAX_AHEAD 3600u

struct state_identity {
	uint32_t zone;
	uint32_t dc;
	uint32_t machine;
	int64_t epoch;
};

struct state_header {
	uint64_t magic;
	uint32_t version;
	uint32_t header_size;
	uint64_t total_size;
	uint32_t bucket_off;
	uint32_t bucket_size;
	uint32_t bucket_count;
	uint32_t worker_off;
	uint32_t worker_size;
	uint32_t worker_count;

	/* The identity the file was made for; another one is refused. */
	uint32_t zone;
	uint32_t dc;
	uint32_t machine;
	uint32_t reserved0;
	int64_t epoch;
	int64_t created; /* Unix time */

	/*
	 * checkpoint is raised and synced to disk first; checkpoint_safe,
	 * the cap workers issue under, follows once the sync returned.  A
	 * restart trusts checkpoint_seal (below), never below any issued ts;
	 * checkpoint holds the same second for readers.
	 */
	uint64_t checkpoint;
	uint64_t checkpoint_safe;
	int64_t checkpoint_synced; /* Unix time of the last sync */
	uint64_t checkpoint_syncs;
	uint64_t boot_count;

	/* Written by the master of the current boot. */
	int64_t master_pid;
	int64_t started; /* Unix time */
	uint32_t workers;
	uint32_t max_ahead;
	uint64_t worker_restarts;
	uint64_t clock_steps_back;
	uint64_t clock_steps_forward;
	int64_t clock_step_last_ns; /* size of the last step, signed */
	uint64_t clock_step_max_back_ns;
	/*
	 * 1 after a clean stop, once the whole table was synced: the bucket
	 * words are then durable and a restart resumes from them.  Cleared
	 * (and synced) before a new boot issues anything.
	 */
	uint64_t clean;
	/*
	 * The kernel boot the table was last written under, for the log: a
	 * restart tells a crash from a crash and a reboot.  The bucket words
	 * are trusted after a clean stop only, whatever the boot.
	 */
	uint64_t kernel_boot[2];
	/* Random per master start, in INFO: tells a node it is its own peer. */
	uint64_t instance;
	/* The last peer check (genid(8)): peers with this node's identity. */
	uint64_t peer_conflicts;
	int64_t peer_checked; /* Unix time, 0 = never */
	/*
	 * Layout 2.  The checkpoint with its own check: (checkpoint << 32) |
	 * state_seal(); raised with one atomic store like checkpoint, before
	 * it, so that a damaged checkpoint is told from a real one.
	 */
	uint64_t checkpoint_seal;
	/* state_table_sum() as written at the last clean stop. */
	uint64_t table_sum;
	/* state_header_sum(): the fields fixed at creation, magic..created. */
	uint64_t header_sum;
	/*
	 * Layout 3.  Whether the node can issue now (enum serving_state),
	 * judged by the master on its timer, and the Unix time it took that
	 * state.  The peers' clocks at the last peer check: this clock minus
	 * their median in milliseconds, and how many answered (0: no skew
	 * known).  Written by the peer check only.
	 */
	uint32_t serving;
	/*
	 * The fields of coordination (genid(8), "Identity"), in what layout 3
	 * left reserved, zero without it.  identity: enum claim_state.
	 * node: random at creation, this file's name in etcd.  lease: the
	 * etcd lease holding the id.  fence_ms: workers issue nothing from
	 * this CLOCK_MONOTONIC millisecond on (0 = no fence).  ceiling: the
	 * checkpoint kept in etcd, as an ID's second: nothing above it (0 =
	 * none).  renewed: Unix time of the last renewal.
	 */
	uint32_t identity;
	int64_t serving_since;
	int64_t peer_skew_ms;
	uint64_t peer_clocks;
	uint64_t node;
	int64_t lease;
	int64_t fence_ms;
	uint64_t ceiling;
	/*
	 * Also layout 3, written by the master (slew.h).  allowance: how many
	 * seconds a bucket may borrow ahead of the clock now, max_ahead and
	 * more during a slew; workers borrow under it and raise the
	 * checkpoint to now + allowance + 1.  Read it with state_allowance().
	 */
	uint64_t allowance;
	uint64_t slew_extra_ms; /* the part of it a slew adds, 0 = none */
	/*
	 * The CLOCK_MONOTONIC millisecond the slew ends at (0 = none): the
	 * workers spread its extra over each second from it (slew.h).  Was
	 * slew_left_ms, the time left at the tick, in the same place.
	 */
	uint64_t slew_end_ms;
	uint64_t slew_rate_ppm; /* clock_slew in millionths */
	uint64_t slews;		/* slews started this boot */
	uint64_t slews_far; /* steps back past max_slew this boot (granted) */
	int64_t renewed;
	uint64_t identity_losses; /* leases lost this boot */
	/*
	 * Layout 4.  compat: the oldest layout that may use the file as it
	 * is: a genid of layout L reads a file of layout V > L when compat <=
	 * L, leaving the fields it does not know alone; a field that could
	 * mislead a newer genid after an older one ran raises compat instead.
	 * upgraded_from: the layout the file was converted from at a start
	 * (0: made in this one).  written_by: "genid VERSION" of the last
	 * start, NUL-padded, which a genid that refuses the file names.
	 */
	uint32_t compat;
	uint32_t upgraded_from;
	uint64_t written_by[4];
	int64_t upgraded; /* Unix time of the conversion, 0 = none */
	/*
	 * Room to grow: zero in layout 4.  A later layout gives a word a
	 * meaning in which zero stands for "absent", without a new layout
	 * number unless older genids must refuse it (compat).
	 */
	uint64_t reserved[74];
};

/*
 * The counters of a bucket and of a worker slot.  Each one a reader
 * shows (genidctl stats, /metrics) also has its row in counters.c.
 */
struct state_bucket {
	uint64_t word; /* (ts << 32) | next counter, see bucket.h */
	uint64_t ids;
	uint64_t requests;
	uint64_t conns; /* open now */
	uint64_t conns_total;
	uint64_t waits;	 /* CMD 0 that waited for the clock */
	uint64_t shorts; /* CMD 1 answered with fewer IDs than asked */
	uint64_t reserved;
};

struct state_worker {
	int64_t pid; /* 0 when the slot is not running */
	int64_t started;
	uint64_t restarts;
	uint64_t conns; /* open now */
	uint64_t conns_total;
	uint64_t rejected;     /* closed at accept: limit or allow list */
	uint64_t bad_requests; /* unknown command: connection closed */
	uint64_t checkpoint_raises;
	int64_t exit_status; /* last wait status of this slot, -1 if none */
	/*
	 * The worker's heartbeat: CLOCK_MONOTONIC in milliseconds when it
	 * last ran its loop (statefile_beat), 0 before its first.
	 */
	int64_t beat;
	uint64_t reserved[6];
};

/* Size of a state file with the current layout. */
size_t state_size(void);

/* Size of a state file of layout 3. */
size_t state_size_v3(void);

/*
 * The layout a region of len bytes declares, when it starts with genid's
 * magic; 0 when it does not (too short, or another file).
 */
unsigned state_layout(const void *p, size_t len);

/*
 * Converts a layout-3 file of len bytes at old into the current layout at
 * out (state_size() bytes): every field and both tables carried over, the
 * checksums and the checkpoint's seal made again for the new header; the
 * clean stop kept only when the old table passed its checksum.  The same
 * checks as state_check (identity aside) on the old file first.  0, or -1
 * with the reason in err.
 */
int state_upgrade(const void *old, size_t len, struct state_header *out,
    int64_t now, char *err, size_t errlen);

/*
 * Writes a checked region h as a layout-3 file at out (state_size_v3()
 * bytes), for an older genid (genid --state-layout 3): the fields layout
 * 3 has, its tables, its checksums and seal.  The slew in progress is left
 * out (its end is a time of this boot's clock).
 */
void state_downgrade(const struct state_header *h, void *out);

/* Puts "genid VERSION" (version) into h->written_by, NUL-padded. */
void state_set_writer(struct state_header *h, const char *version);

/* h->written_by as text into buf ("an unknown genid" when empty). */
void state_writer(const struct state_header *h, char *buf, size_t len);

/* Formats a zeroed region of state_size() bytes for identity id. */
void state_init(
    struct state_header *h, const struct state_identity *id, int64_t now);

/*
 * Validates a mapped region of len bytes: magic, version, sizes, the
 * header's checksum, the range of every header field, the checkpoint's
 * seal and, when want is not NULL, the identity.  0, or -1 with the reason
 * in err.
 */
int state_check(const struct state_header *h, size_t len,
    const struct state_identity *want, char *err, size_t errlen);

/* The checksum of the header's fields fixed at creation (magic..created). */
uint64_t state_header_sum(const struct state_header *h);

/* The checkpoint_seal word of second ckpt in the file of header h. */
uint64_t state_seal(const struct state_header *h, uint32_t ckpt);

/* The second a checkpoint_seal word holds: 0 with it in *ckpt, or -1 when
 * the word fails its check. */
int state_unseal(const struct state_header *h, uint64_t seal, uint32_t *ckpt);

/* The checksum of the bucket table and checkpoint written at a clean stop. */
uint64_t state_table_sum(const struct state_header *h);

/*
 * Whether a bucket word may be resumed from under a durable checkpoint
 * ckpt: a valid counter, a second no later than ckpt + 1 (the word a boot
 * sets before it raises the checkpoint).  1 or 0.
 */
int state_word_valid(uint64_t word, uint32_t ckpt);

/* Bucket slot i (0..STATE_BUCKETS-1) of a checked region. */
struct state_bucket *state_bucket(struct state_header *h, unsigned i);

/* Worker slot i (0..STATE_WORKERS-1) of a checked region. */
struct state_worker *state_worker(struct state_header *h, unsigned i);

/* The worker slot that owns bucket b when n workers run. */
unsigned state_bucket_owner(unsigned b, unsigned n);

/* Raises *field to v unless it is already there; returns the new value. */
uint64_t state_raise(uint64_t *field, uint64_t v);

/* Reads a shared field in one access. */
static inline uint64_t
state_load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

/* Writes a shared field in one access. */
static inline void
state_store(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/*
 * The allowance workers borrow under (genid(7)): never below max_ahead,
 * whatever the master last wrote.  One load.
 */
static inline uint32_t
state_allowance(const struct state_header *h)
{
	uint64_t a = state_load(&h->allowance);

	return a < h->max_ahead ? h->max_ahead : (uint32_t)a;
}

/* Adds to a single-writer counter; no locked instruction needed. */
static inline void
state_add(uint64_t *p, uint64_t n)
{
	__atomic_store_n(
	    p, __atomic_load_n(p, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}

#endif
