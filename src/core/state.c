/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * state.c - format, check and index the shared state region.
 */
#include <stdio.h>
#include <string.h>

#include "id.h"
#include "claim.h"
#include "serving.h"
#include "state.h"

#define FNV_OFFSET UINT64_C(0xcbf29ce484222325)
#define FNV_PRIME UINT64_C(0x100000001b3)

static uint64_t fnv(uint64_t sum, const void *p, size_t len);
static uint64_t fnv_word(uint64_t sum, uint64_t v);
static int check_ranges(const struct state_header *h, char *err, size_t errlen);
static int refused_layout(
    const struct state_header *h, size_t len, char *err, size_t errlen);
static void set_layout(struct state_header *h);
static uint64_t table_sum_at(
    const struct state_header *h, const struct state_bucket *table);

/* FNV-1a 64: small, and the same in the test harness (harness.py). */
static uint64_t
fnv(uint64_t sum, const void *p, size_t len)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < len; i++)
		sum = (sum ^ b[i]) * FNV_PRIME;
	return sum;
}

/* A 64-bit value in the sum in little-endian order, whatever the host. */
static uint64_t
fnv_word(uint64_t sum, uint64_t v)
{
	unsigned char b[8];
	unsigned i;

	for (i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	return fnv(sum, b, sizeof(b));
}

uint64_t
state_header_sum(const struct state_header *h)
{
	return fnv(FNV_OFFSET, h, offsetof(struct state_header, checkpoint));
}

uint64_t
state_seal(const struct state_header *h, uint32_t ckpt)
{
	uint64_t sum = fnv_word(h->header_sum ^ FNV_OFFSET, ckpt);

	return (uint64_t)ckpt << 32 | (uint32_t)(sum ^ sum >> 32);
}

int
state_unseal(const struct state_header *h, uint64_t seal, uint32_t *ckpt)
{
	if (state_seal(h, (uint32_t)(seal >> 32)) != seal)
		return -1;
	*ckpt = (uint32_t)(seal >> 32);
	return 0;
}

/* The table sum of header h over the bucket table at table. */
static uint64_t
table_sum_at(const struct state_header *h, const struct state_bucket *table)
{
	uint64_t sum = h->header_sum ^ FNV_OFFSET;
	unsigned i;

	sum = fnv_word(sum, h->checkpoint_seal);
	sum = fnv_word(sum, h->boot_count);
	for (i = 0; i < STATE_BUCKETS; i++)
		sum = fnv_word(sum, table[i].word);
	return sum;
}

uint64_t
state_table_sum(const struct state_header *h)
{
	return table_sum_at(h, state_bucket((struct state_header *)h, 0));
}

int
state_word_valid(uint64_t word, uint32_t ckpt)
{
	return (uint32_t)word <= ID_COUNTERS &&
	    word >> 32 <= (uint64_t)ckpt + 1;
}

_Static_assert(sizeof(struct state_header) == STATE_HEADER_SIZE, "header size");
_Static_assert(offsetof(struct state_header, compat) == STATE_V3_HEADER_SIZE,
    "layout 4 starts with layout 3's header");
_Static_assert(sizeof(struct state_bucket) == 64, "one bucket a cache line");
_Static_assert(sizeof(struct state_worker) == 128, "worker slot size");

size_t
state_size(void)
{
	return sizeof(struct state_header) +
	    STATE_BUCKETS * sizeof(struct state_bucket) +
	    STATE_WORKERS * sizeof(struct state_worker);
}

size_t
state_size_v3(void)
{
	return STATE_V3_HEADER_SIZE +
	    STATE_BUCKETS * sizeof(struct state_bucket) +
	    STATE_WORKERS * sizeof(struct state_worker);
}

unsigned
state_layout(const void *p, size_t len)
{
	const struct state_header *h = p;

	if (len < offsetof(struct state_header, version) + sizeof(h->version) ||
	    h->magic != STATE_MAGIC)
		return 0;
	return h->version;
}

/*
 * Sets the sizes and offsets of layout 4 (the tables right after the
 * header), its version and its compat.
 */
static void
set_layout(struct state_header *h)
{
	h->version = STATE_VERSION;
	h->compat = STATE_VERSION;
	h->header_size = sizeof(*h);
	h->total_size = state_size();
	h->bucket_off = sizeof(*h);
	h->bucket_size = sizeof(struct state_bucket);
	h->bucket_count = STATE_BUCKETS;
	h->worker_off = h->bucket_off + STATE_BUCKETS * h->bucket_size;
	h->worker_size = sizeof(struct state_worker);
	h->worker_count = STATE_WORKERS;
}

void
state_init(struct state_header *h, const struct state_identity *id, int64_t now)
{
	unsigned i;

	memset(h, 0, state_size());
	h->magic = STATE_MAGIC;
	set_layout(h);
	h->zone = id->zone;
	h->dc = id->dc;
	h->machine = id->machine;
	h->epoch = id->epoch;
	h->created = now;
	for (i = 0; i < STATE_WORKERS; i++)
		state_worker(h, i)->exit_status = -1;
	h->header_sum = state_header_sum(h);
	h->checkpoint_seal = state_seal(h, 0);
}

/* Every field a genid reads back lies in its range; err says which not. */
static int
check_ranges(const struct state_header *h, char *err, size_t errlen)
{
	static const struct {
		const char *name;
		size_t off, size;
		uint64_t max;
	} fields[] = {
#define FIELD(f, max)                                                          \
	{#f, offsetof(struct state_header, f),                                 \
	    sizeof(((struct state_header *)0)->f), max}
	    FIELD(zone, ID_ZONE_MAX),
	    FIELD(dc, ID_DC_MAX),
	    FIELD(machine, ID_MACHINE_MAX),
	    FIELD(epoch, INT64_MAX),
	    FIELD(checkpoint, UINT32_MAX),
	    FIELD(checkpoint_safe, UINT32_MAX),
	    FIELD(workers, STATE_WORKERS),
	    FIELD(max_ahead, STATE_MAX_AHEAD),
	    FIELD(clean, 1),
	    FIELD(serving, SERVING_STATES - 1),
	    FIELD(identity, CLAIM_STATES - 1),
	    FIELD(allowance, UINT32_MAX),
	    FIELD(slew_rate_ppm, 999999),
#undef FIELD
	};
	size_t i;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const char *p = (const char *)h + fields[i].off;
		uint64_t v;

		if (fields[i].size == 4) {
			uint32_t v32;

			memcpy(&v32, p, sizeof(v32));
			v = v32;
		} else {
			memcpy(&v, p, sizeof(v));
		}
		if (v > fields[i].max) {
			snprintf(err, errlen,
			    "state file is damaged: its %s is %llu, out of "
			    "range 0..%llu",
			    fields[i].name, (unsigned long long)v,
			    (unsigned long long)fields[i].max);
			return -1;
		}
	}
	return 0;
}

/*
 * Whether a file of another layout than this genid's is refused (1, with
 * what to do in err) or used as it is (0: a newer layout whose compat
 * allows this one).
 */
static int
refused_layout(
    const struct state_header *h, size_t len, char *err, size_t errlen)
{
	char who[64];

	if (h->version < STATE_VERSION_OLDEST) {
		snprintf(err, errlen,
		    "state file layout %u was made by a genid older than any"
		    " this one converts (layouts %u to %u)",
		    h->version, STATE_VERSION_OLDEST, STATE_VERSION);
		return 1;
	}
	if (h->version < STATE_VERSION) {
		snprintf(err, errlen,
		    "state file layout %u was made by an older genid: this"
		    " genid converts it to layout %u when it starts on it"
		    " (genid(7), \"COMPATIBILITY\")",
		    h->version, STATE_VERSION);
		return 1;
	}
	if (len >= sizeof(*h) && h->compat >= STATE_VERSION &&
	    h->compat <= STATE_VERSION)
		return 0;
	if (len >= sizeof(*h))
		state_writer(h, who, sizeof(who));
	else
		snprintf(who, sizeof(who), "a newer genid");
	snprintf(err, errlen,
	    "state file layout %u was written by %s, and this genid reads"
	    " layouts %u to %u: start it with that genid (or a newer one), or"
	    " convert it back with that genid's --state-layout %u while the"
	    " node is stopped",
	    h->version, who, STATE_VERSION_OLDEST, STATE_VERSION,
	    STATE_VERSION);
	return 1;
}

int
state_check(const struct state_header *h, size_t len,
    const struct state_identity *want, char *err, size_t errlen)
{
	if (len < sizeof(h->magic) || h->magic != STATE_MAGIC) {
		snprintf(err, errlen, "not a genid state file (bad magic)");
		return -1;
	}
	if (len >=
		offsetof(struct state_header, version) + sizeof(h->version) &&
	    h->version != STATE_VERSION && refused_layout(h, len, err, errlen))
		return -1;
	if (len < state_size()) {
		snprintf(err, errlen,
		    "state file is damaged (truncated): %zu bytes, layout %u "
		    "has %zu",
		    len, STATE_VERSION, state_size());
		return -1;
	}
	if (h->header_size != sizeof(*h) || h->total_size != state_size() ||
	    h->bucket_off != sizeof(*h) ||
	    h->bucket_size != sizeof(struct state_bucket) ||
	    h->bucket_count != STATE_BUCKETS ||
	    h->worker_off != h->bucket_off + STATE_BUCKETS * h->bucket_size ||
	    h->worker_size != sizeof(struct state_worker) ||
	    h->worker_count != STATE_WORKERS) {
		snprintf(err, errlen,
		    "state file is damaged: its sizes do not match layout %u"
		    " (%zu bytes, header says %llu)",
		    STATE_VERSION, len, (unsigned long long)h->total_size);
		return -1;
	}
	if (h->header_sum != state_header_sum(h)) {
		snprintf(err, errlen,
		    "state file is damaged: its header fails its checksum");
		return -1;
	}
	if (check_ranges(h, err, errlen) == -1)
		return -1;
	if (h->compat < STATE_VERSION || h->compat > h->version) {
		snprintf(err, errlen,
		    "state file is damaged: its compat is %u, out of range"
		    " %u..%u",
		    h->compat, STATE_VERSION, h->version);
		return -1;
	}
	if (state_seal(h, (uint32_t)(state_load(&h->checkpoint_seal) >> 32)) !=
	    state_load(&h->checkpoint_seal)) {
		snprintf(err, errlen,
		    "state file is damaged: its checkpoint fails its checksum");
		return -1;
	}
	if (want != NULL &&
	    (h->zone != want->zone || h->dc != want->dc ||
		h->machine != want->machine || h->epoch != want->epoch)) {
		snprintf(err, errlen,
		    "state file was made for zone %u dc %u machine %u epoch "
		    "%lld,"
		    " the configuration says zone %u dc %u machine %u epoch "
		    "%lld",
		    h->zone, h->dc, h->machine, (long long)h->epoch, want->zone,
		    want->dc, want->machine, (long long)want->epoch);
		return -1;
	}
	return 0;
}

struct state_bucket *
state_bucket(struct state_header *h, unsigned i)
{
	/*
	 * The layout state_check accepted, not the header's copy of it: a
	 * header written over under a running node must not move the table.
	 */
	return (struct state_bucket *)(void *)((char *)h + sizeof(*h) +
	    (size_t)i * sizeof(struct state_bucket));
}

struct state_worker *
state_worker(struct state_header *h, unsigned i)
{
	return (struct state_worker *)(void *)((char *)h + sizeof(*h) +
	    STATE_BUCKETS * sizeof(struct state_bucket) +
	    (size_t)i * sizeof(struct state_worker));
}

unsigned
state_bucket_owner(unsigned b, unsigned n)
{
	return b % n;
}

uint64_t
state_raise(uint64_t *field, uint64_t v)
{
	uint64_t cur = __atomic_load_n(field, __ATOMIC_ACQUIRE);

	while (cur < v) {
		if (__atomic_compare_exchange_n(
			field, &cur, v, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			return v;
	}
	return cur;
}

int
state_upgrade(const void *old, size_t len, struct state_header *out,
    int64_t now, char *err, size_t errlen)
{
	const char *o = old;
	const struct state_bucket *table;
	uint32_t ckpt;
	int clean;

	memset(out, 0, state_size());
	if (state_layout(old, len) != 3) {
		snprintf(err, errlen, "not a state file of layout 3");
		return -1;
	}
	if (len != state_size_v3()) {
		snprintf(err, errlen,
		    "state file is damaged: %zu bytes, layout 3 has %zu", len,
		    state_size_v3());
		return -1;
	}
	/* Layout 3's header is layout 4's first STATE_V3_HEADER_SIZE bytes. */
	memcpy(out, o, STATE_V3_HEADER_SIZE);
	table = (const struct state_bucket *)(const void *)(o +
	    STATE_V3_HEADER_SIZE);
	if (out->header_size != STATE_V3_HEADER_SIZE ||
	    out->total_size != state_size_v3() ||
	    out->bucket_off != STATE_V3_HEADER_SIZE ||
	    out->bucket_size != sizeof(struct state_bucket) ||
	    out->bucket_count != STATE_BUCKETS ||
	    out->worker_off !=
		STATE_V3_HEADER_SIZE + STATE_BUCKETS * out->bucket_size ||
	    out->worker_size != sizeof(struct state_worker) ||
	    out->worker_count != STATE_WORKERS) {
		snprintf(err, errlen,
		    "state file is damaged: its sizes do not match layout 3");
		return -1;
	}
	if (out->header_sum != state_header_sum(out)) {
		snprintf(err, errlen,
		    "state file is damaged: its header fails its checksum");
		return -1;
	}
	if (check_ranges(out, err, errlen) == -1)
		return -1;
	if (state_unseal(out, out->checkpoint_seal, &ckpt) == -1) {
		snprintf(err, errlen,
		    "state file is damaged: its checkpoint fails its checksum");
		return -1;
	}
	clean = out->clean == 1 && out->table_sum == table_sum_at(out, table);
	memcpy(state_bucket(out, 0), table,
	    STATE_BUCKETS * sizeof(struct state_bucket));
	memcpy(state_worker(out, 0),
	    o + STATE_V3_HEADER_SIZE + STATE_BUCKETS * sizeof(*table),
	    STATE_WORKERS * sizeof(struct state_worker));
	set_layout(out);
	out->upgraded_from = 3;
	out->upgraded = now;
	out->header_sum = state_header_sum(out);
	out->checkpoint_seal = state_seal(out, ckpt);
	/* A table the old file did not vouch for is not vouched for now. */
	out->clean = clean ? 1 : 0;
	out->table_sum = clean ? state_table_sum(out) : 0;
	return 0;
}

void
state_downgrade(const struct state_header *h, void *out)
{
	struct state_header *d = out;
	char *o = out;
	uint32_t ckpt = (uint32_t)(state_load(&h->checkpoint_seal) >> 32);
	int clean = h->clean == 1 && h->table_sum == state_table_sum(h);

	memset(out, 0, state_size_v3());
	memcpy(out, h, STATE_V3_HEADER_SIZE);
	memcpy(o + STATE_V3_HEADER_SIZE,
	    state_bucket((struct state_header *)h, 0),
	    STATE_BUCKETS * sizeof(struct state_bucket) +
		STATE_WORKERS * sizeof(struct state_worker));
	d->version = 3;
	d->header_size = STATE_V3_HEADER_SIZE;
	d->total_size = state_size_v3();
	d->bucket_off = STATE_V3_HEADER_SIZE;
	d->worker_off =
	    STATE_V3_HEADER_SIZE + STATE_BUCKETS * sizeof(struct state_bucket);
	/* A time of this boot's monotonic clock; layout 3 read a length. */
	d->slew_end_ms = 0;
	d->header_sum = state_header_sum(d);
	d->checkpoint_seal = state_seal(d, ckpt);
	d->clean = clean ? 1 : 0;
	d->table_sum = clean
	    ? table_sum_at(d,
		  (const struct state_bucket *)(const void *)(o +
		      STATE_V3_HEADER_SIZE))
	    : 0;
}

void
state_set_writer(struct state_header *h, const char *version)
{
	char text[sizeof(h->written_by)];

	memset(text, 0, sizeof(text));
	snprintf(text, sizeof(text), "genid %s", version);
	memcpy(h->written_by, text, sizeof(text));
}

void
state_writer(const struct state_header *h, char *buf, size_t len)
{
	char text[sizeof(h->written_by) + 1];
	size_t i;

	memcpy(text, h->written_by, sizeof(h->written_by));
	text[sizeof(h->written_by)] = '\0';
	for (i = 0; text[i] != '\0'; i++)
		if (text[i] < 0x20 || text[i] > 0x7e)
			text[i] = '?';
	snprintf(buf, len, "%s", text[0] != '\0' ? text : "an unknown genid");
}
