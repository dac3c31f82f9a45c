/*
 * state.c - format, check and index the shared state region.
 */
#include <stdio.h>
#include <string.h>

#include "state.h"

_Static_assert(sizeof(struct state_header) % 64 == 0, "header cache lines");
_Static_assert(sizeof(struct state_bucket) == 64, "one bucket a cache line");
_Static_assert(sizeof(struct state_worker) == 128, "worker slot size");

size_t
state_size(void)
{
	return sizeof(struct state_header) +
	    STATE_BUCKETS * sizeof(struct state_bucket) +
	    STATE_WORKERS * sizeof(struct state_worker);
}

void
state_init(struct state_header *h, const struct state_identity *id, int64_t now)
{
	unsigned i;

	memset(h, 0, state_size());
	h->magic = STATE_MAGIC;
	h->version = STATE_VERSION;
	h->header_size = sizeof(*h);
	h->total_size = state_size();
	h->bucket_off = sizeof(*h);
	h->bucket_size = sizeof(struct state_bucket);
	h->bucket_count = STATE_BUCKETS;
	h->worker_off = h->bucket_off + STATE_BUCKETS * h->bucket_size;
	h->worker_size = sizeof(struct state_worker);
	h->worker_count = STATE_WORKERS;
	h->zone = id->zone;
	h->dc = id->dc;
	h->machine = id->machine;
	h->epoch = id->epoch;
	h->created = now;
	for (i = 0; i < STATE_WORKERS; i++)
		state_worker(h, i)->exit_status = -1;
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
	    h->version != STATE_VERSION) {
		snprintf(err, errlen,
		    "state file layout version %u, this genid reads version %u",
		    h->version, STATE_VERSION);
		return -1;
	}
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
	return (struct state_bucket *)(void *)((char *)h + h->bucket_off +
	    (size_t)i * h->bucket_size);
}

struct state_worker *
state_worker(struct state_header *h, unsigned i)
{
	return (struct state_worker *)(void *)((char *)h + h->worker_off +
	    (size_t)i * h->worker_size);
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
