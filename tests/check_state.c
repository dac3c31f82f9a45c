/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * check_state.c - layout, validation and indexing of the state region.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_core.h"
#include "claim.h"
#include "serving.h"
#include "state.h"

#define NOW INT64_C(1795000000)
#define MAPPED 8192 /* state_size() rounded up to whole 4 KiB pages */

static const struct state_identity ident = {3, 2, 5, INT64_C(1700000000)};

static struct state_header *region(void);
static struct state_header *prefix(const struct state_header *h, size_t len);
static void assert_refused(const struct state_header *h, size_t len,
    const struct state_identity *want, const char *part1, const char *part2);

/* A formatted region on the alignment mmap gives, first filled with junk
 * so that state_init has to clear it. */
static struct state_header *
region(void)
{
	struct state_header *h;

	ck_assert_uint_le(state_size(), MAPPED);
	h = aligned_alloc(4096, MAPPED);
	ck_assert_ptr_nonnull(h);
	memset(h, 0xa5, state_size());
	state_init(h, &ident, NOW);
	return h;
}

/* The first len bytes of h alone, so that valgrind or ASan catch a read
 * past what the file holds. */
static struct state_header *
prefix(const struct state_header *h, size_t len)
{
	struct state_header *p;

	p = malloc(len > 0 ? len : 1);
	ck_assert_ptr_nonnull(p);
	memcpy(p, h, len);
	return p;
}

static void
assert_refused(const struct state_header *h, size_t len,
    const struct state_identity *want, const char *part1, const char *part2)
{
	char err[512] = "";

	ck_assert_int_eq(state_check(h, len, want, err, sizeof(err)), -1);
	ck_assert_msg(
	    strstr(err, part1) != NULL, "\"%s\" lacks \"%s\"", err, part1);
	if (part2 != NULL)
		ck_assert_msg(strstr(err, part2) != NULL, "\"%s\" lacks \"%s\"",
		    err, part2);
}

START_TEST(test_state_size)
{
	/* Layout version 4: a 1024-byte header (layout 3's 384 bytes, then
	 * its own fields and room to grow), 32 bucket slots of 64 bytes, 32
	 * worker slots of 128.  A change here needs a new version. */
	ck_assert_uint_eq(sizeof(struct state_header), 1024);
	ck_assert_uint_eq(offsetof(struct state_header, compat), 384);
	ck_assert_uint_eq(sizeof(struct state_bucket), 64);
	ck_assert_uint_eq(sizeof(struct state_worker), 128);
	ck_assert_uint_eq(state_size(), 1024 + 32 * 64 + 32 * 128);
	ck_assert_uint_eq(state_size(), 7168);
	ck_assert_uint_eq(state_size_v3(), 6528);
	ck_assert_uint_eq(STATE_VERSION, 4);
	ck_assert_uint_eq(STATE_BUCKETS, 32);
	ck_assert_uint_eq(STATE_WORKERS, 32);
}
END_TEST

START_TEST(test_state_init)
{
	struct state_header *h = region(), *copy;
	char err[512] = "";
	unsigned i;

	ck_assert_msg(
	    state_check(h, state_size(), &ident, err, sizeof(err)) == 0, "%s",
	    err);
	ck_assert_int_eq(
	    state_check(h, state_size(), NULL, err, sizeof(err)), 0);
	ck_assert_uint_eq(h->magic, STATE_MAGIC);
	ck_assert_uint_eq(h->version, STATE_VERSION);
	ck_assert_uint_eq(h->header_size, 1024);
	ck_assert_uint_eq(h->total_size, 7168);
	ck_assert_uint_eq(h->bucket_off, 1024);
	ck_assert_uint_eq(h->bucket_size, 64);
	ck_assert_uint_eq(h->bucket_count, 32);
	ck_assert_uint_eq(h->worker_off, 1024 + 32 * 64);
	ck_assert_uint_eq(h->compat, 4);
	ck_assert_uint_eq(h->upgraded_from, 0);
	ck_assert_uint_eq(h->worker_size, 128);
	ck_assert_uint_eq(h->worker_count, 32);
	ck_assert_uint_eq(h->zone, 3);
	ck_assert_uint_eq(h->dc, 2);
	ck_assert_uint_eq(h->machine, 5);
	ck_assert_int_eq(h->epoch, 1700000000);
	ck_assert_int_eq(h->created, NOW);
	ck_assert_uint_eq(h->checkpoint, 0);
	ck_assert_uint_eq(h->boot_count, 0);
	ck_assert_uint_eq(h->header_sum, state_header_sum(h));
	ck_assert_uint_eq(h->checkpoint_seal, state_seal(h, 0));
	for (i = 0; i < STATE_WORKERS; i++)
		ck_assert_int_eq(state_worker(h, i)->exit_status, -1);

	/* Everything else, header fields to come included, starts at 0. */
	copy = prefix(h, state_size());
	for (i = 0; i < STATE_WORKERS; i++)
		state_worker(copy, i)->exit_status = 0;
	copy->magic = copy->total_size = 0;
	copy->version = copy->header_size = copy->compat = 0;
	copy->bucket_off = copy->bucket_size = copy->bucket_count = 0;
	copy->worker_off = copy->worker_size = copy->worker_count = 0;
	copy->zone = copy->dc = copy->machine = 0;
	copy->epoch = copy->created = 0;
	copy->header_sum = copy->checkpoint_seal = 0;
	for (i = 0; i < state_size(); i++)
		if (((unsigned char *)copy)[i] != 0)
			ck_abort_msg("byte %u is 0x%02x after state_init", i,
			    ((unsigned char *)copy)[i]);
	free(copy);
	free(h);
}
END_TEST

/* state.h: the magic reads "GENIDST1" on disk (a little-endian host). */
START_TEST(test_state_magic_bytes)
{
	struct state_header *h = region();

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	ck_assert_msg(memcmp(h, "GENIDST1", 8) == 0,
	    "magic on disk is \"%.8s\"", (const char *)h);
#endif
	free(h);
}
END_TEST

START_TEST(test_state_bad_magic)
{
	struct state_header *h = region();
	struct state_header *zero;

	h->magic ^= 1;
	assert_refused(h, state_size(), &ident, "magic", NULL);
	h->magic = 0;
	assert_refused(h, state_size(), NULL, "not a genid state file", NULL);

	zero = calloc(1, state_size());
	ck_assert_ptr_nonnull(zero);
	assert_refused(zero, state_size(), NULL, "magic", NULL);
	free(zero);
	free(h);
}
END_TEST

/* A header's version changed, its checksums made again to match. */
static void
set_version(struct state_header *h, uint32_t version, uint32_t compat)
{
	h->version = version;
	h->compat = compat;
	h->header_sum = state_header_sum(h);
	h->checkpoint_seal = state_seal(h, 0);
}

START_TEST(test_state_other_version)
{
	struct state_header *h = region();
	char err[512] = "";

	/* A newer layout that layout 4 may not use names who wrote it. */
	state_set_writer(h, "9.1.0");
	set_version(h, 5, 5);
	assert_refused(h, state_size(), &ident,
	    "layout 5 was written by genid 9.1.0", "--state-layout 4");
	assert_refused(h, state_size(), &ident, "reads layouts 3 to 4", NULL);
	/* One whose compat allows layout 4 is used as it is. */
	set_version(h, 5, 4);
	ck_assert_msg(
	    state_check(h, state_size(), &ident, err, sizeof(err)) == 0, "%s",
	    err);
	set_version(h, UINT32_MAX, 4);
	ck_assert_int_eq(state_check(h, MAPPED, &ident, err, sizeof(err)), 0);
	/* Layout 3 is converted by the start, not used in place. */
	set_version(h, 3, 4);
	assert_refused(h, state_size(), &ident,
	    "layout 3 was made by an older genid", "converts it to layout 4");
	set_version(h, 2, 4);
	assert_refused(h, state_size(), &ident,
	    "layout 2 was made by a genid older than any", "layouts 3 to 4");
	set_version(h, 0, 4);
	assert_refused(h, state_size(), NULL, "layout 0", "layouts 3 to 4");
	/* compat out of its range is damage. */
	set_version(h, 4, 3);
	assert_refused(h, state_size(), NULL, "damaged", "compat is 3");
	set_version(h, 4, 5);
	assert_refused(h, state_size(), NULL, "damaged", "compat is 5");
	free(h);
}
END_TEST

/*
 * A file of another layout version usually has another size too.  Its
 * version is the problem to name (genid(7): "a file made for another ...
 * version is refused with a clear error"), not damage: calling an older
 * or newer genid's file truncated sends the operator the wrong way.
 */
START_TEST(test_state_other_version_other_size)
{
	struct state_header *h = region(), *p;

	set_version(h, 5, 5);
	p = prefix(h, 2048);
	assert_refused(p, 2048, &ident, "layout 5", "reads layouts 3 to 4");
	free(p);
	/* Too short for compat: refused as a newer layout all the same. */
	p = prefix(h, 256);
	assert_refused(p, 256, &ident, "layout 5", "reads layouts 3 to 4");
	free(p);
	set_version(h, 0, 4);
	p = prefix(h, 4096);
	assert_refused(p, 4096, &ident, "layout 0", "layouts 3 to 4");
	free(p);
	free(h);
}
END_TEST

/* A file cut short, even inside its header, still starts with the right
 * magic: it is a damaged genid state file, not a file with a bad magic. */
START_TEST(test_state_truncated)
{
	const size_t hs = sizeof(struct state_header);
	const size_t lens[] = {state_size() - 1, hs + 32 * 64, hs, 256, 100, 8};
	struct state_header *h = region(), *p;
	char err[512], says[32];
	size_t i;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		snprintf(says, sizeof(says), "%zu bytes", lens[i]);
		p = prefix(h, lens[i]);
		assert_refused(p, lens[i], &ident, "damaged", says);
		free(p);
	}
	/* Too short to hold even the magic. */
	p = prefix(h, 7);
	ck_assert_int_eq(state_check(p, 7, &ident, err, sizeof(err)), -1);
	ck_assert_int_eq(state_check(p, 0, &ident, err, sizeof(err)), -1);
	free(p);
	/* A longer mapping (page rounding) is fine. */
	ck_assert_int_eq(state_check(h, MAPPED, &ident, err, sizeof(err)), 0);
	free(h);
}
END_TEST

/* Every size field of the header is checked against the layout. */
START_TEST(test_state_damaged_header)
{
	static const size_t fields[] = {
	    offsetof(struct state_header, header_size),
	    offsetof(struct state_header, bucket_off),
	    offsetof(struct state_header, bucket_size),
	    offsetof(struct state_header, bucket_count),
	    offsetof(struct state_header, worker_off),
	    offsetof(struct state_header, worker_size),
	    offsetof(struct state_header, worker_count),
	};
	struct state_header *h = region();
	size_t i;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		uint32_t *f = (uint32_t *)(void *)((char *)h + fields[i]);
		uint32_t saved = *f;

		*f += 8;
		assert_refused(h, state_size(), &ident, "damaged", NULL);
		*f = saved;
	}
	h->total_size += 64;
	assert_refused(
	    h, state_size() + 64, &ident, "damaged", "header says 7232");
	h->total_size -= 64;
	ck_assert_int_eq(state_check(h, state_size(), &ident, NULL, 0), 0);
	free(h);
}
END_TEST

/* Any change to a field fixed at creation fails the header's checksum. */
START_TEST(test_state_header_sum)
{
	struct state_header *h = region();
	size_t i, bit;

	for (i = offsetof(struct state_header, zone);
	     i < offsetof(struct state_header, checkpoint); i++) {
		for (bit = 0; bit < 8; bit++) {
			((unsigned char *)h)[i] ^= (unsigned char)(1u << bit);
			assert_refused(h, state_size(), NULL,
			    "header fails its checksum", NULL);
			((unsigned char *)h)[i] ^= (unsigned char)(1u << bit);
		}
	}
	h->created++;
	assert_refused(
	    h, state_size(), &ident, "header fails its checksum", NULL);
	h->created--;
	h->header_sum ^= 1;
	assert_refused(
	    h, state_size(), &ident, "header fails its checksum", NULL);
	h->header_sum ^= 1;
	ck_assert_int_eq(state_check(h, state_size(), &ident, NULL, 0), 0);
	free(h);
}
END_TEST

/* Every field a boot reads back is range checked. */
START_TEST(test_state_field_ranges)
{
	struct state_header *h = region();

	h->checkpoint = UINT64_C(1) << 32;
	assert_refused(h, state_size(), &ident, "checkpoint is 4294967296",
	    "0..4294967295");
	h->checkpoint = UINT32_MAX;
	ck_assert_int_eq(state_check(h, state_size(), &ident, NULL, 0), 0);
	h->checkpoint = 0;
	h->checkpoint_safe = UINT64_MAX;
	assert_refused(h, state_size(), &ident, "checkpoint_safe", NULL);
	h->checkpoint_safe = 0;
	h->clean = 2;
	assert_refused(h, state_size(), &ident, "clean is 2", "0..1");
	h->clean = 1;
	ck_assert_int_eq(state_check(h, state_size(), &ident, NULL, 0), 0);
	h->clean = 0;
	h->workers = STATE_WORKERS + 1;
	assert_refused(h, state_size(), &ident, "workers is 33", NULL);
	h->workers = STATE_WORKERS;
	h->max_ahead = STATE_MAX_AHEAD + 1;
	assert_refused(h, state_size(), &ident, "max_ahead is 3601", NULL);
	h->max_ahead = STATE_MAX_AHEAD;
	h->serving = SERVING_STATES;
	assert_refused(h, state_size(), &ident, "serving is 6", "0..5");
	h->serving = SERVING_STATES - 1;
	ck_assert_int_eq(state_check(h, state_size(), &ident, NULL, 0), 0);
	h->identity = CLAIM_STATES;
	assert_refused(h, state_size(), &ident, "identity is 4", "0..3");
	h->identity = CLAIM_STATES - 1;
	ck_assert_int_eq(state_check(h, state_size(), &ident, NULL, 0), 0);
	/* A slew of any size is granted: up to the whole ts range. */
	h->allowance = (uint64_t)UINT32_MAX + 1;
	assert_refused(
	    h, state_size(), &ident, "allowance is 4294967296", NULL);
	h->allowance = UINT32_MAX;
	ck_assert_int_eq(state_check(h, state_size(), &ident, NULL, 0), 0);
	h->slew_rate_ppm = 1000000;
	assert_refused(
	    h, state_size(), &ident, "slew_rate_ppm is 1000000", "0..999999");
	h->slew_rate_ppm = 250000;
	ck_assert_int_eq(state_check(h, state_size(), &ident, NULL, 0), 0);
	free(h);
}
END_TEST

/* Readers borrow under the allowance the master wrote, never below
 * max_ahead. */
START_TEST(test_state_allowance)
{
	struct state_header *h = region();

	h->max_ahead = 5;
	ck_assert_uint_eq(state_allowance(h), 5);
	h->allowance = 3;
	ck_assert_uint_eq(state_allowance(h), 5);
	h->allowance = 3605;
	ck_assert_uint_eq(state_allowance(h), 3605);
	free(h);
}
END_TEST

/* A checkpoint zeroed or made up does not pass for a real one. */
START_TEST(test_state_seal)
{
	struct state_header *h = region(), *other;
	uint32_t ckpt = 1;
	struct state_identity id2 = ident;

	ck_assert_int_eq(state_unseal(h, h->checkpoint_seal, &ckpt), 0);
	ck_assert_uint_eq(ckpt, 0);
	h->checkpoint_seal = state_seal(h, 95000000);
	ck_assert_int_eq(state_unseal(h, h->checkpoint_seal, &ckpt), 0);
	ck_assert_uint_eq(ckpt, 95000000);
	ck_assert_int_eq(state_check(h, state_size(), &ident, NULL, 0), 0);
	/* Raising the sealed word as a number raises the second. */
	ck_assert_uint_gt(state_seal(h, 95000001), state_seal(h, 95000000));
	ck_assert_uint_gt(
	    state_seal(h, 95000001), state_seal(h, 95000000) | 0xffffffffu);

	h->checkpoint_seal = 0;
	assert_refused(
	    h, state_size(), &ident, "checkpoint fails its checksum", NULL);
	h->checkpoint_seal = UINT64_C(0x0eadbeef) << 32;
	assert_refused(
	    h, state_size(), &ident, "checkpoint fails its checksum", NULL);
	ck_assert_int_eq(state_unseal(h, h->checkpoint_seal, &ckpt), -1);
	h->checkpoint_seal = state_seal(h, 95000000) + (UINT64_C(1) << 32);
	assert_refused(
	    h, state_size(), &ident, "checkpoint fails its checksum", NULL);

	/* A seal is bound to its file: another identity's does not pass. */
	id2.machine = 6;
	other = region();
	state_init(other, &id2, NOW);
	h->checkpoint_seal = state_seal(other, 95000000);
	assert_refused(
	    h, state_size(), &ident, "checkpoint fails its checksum", NULL);
	free(other);
	free(h);
}
END_TEST

START_TEST(test_state_table_sum)
{
	struct state_header *h = region();
	uint64_t sum;
	unsigned i;

	for (i = 0; i < STATE_BUCKETS; i++)
		state_bucket(h, i)->word = (UINT64_C(95000000) + i) << 32 | i;
	sum = state_table_sum(h);
	/* Counters are not part of it; words, boot count, checkpoint are. */
	state_bucket(h, 3)->ids += 7;
	ck_assert_uint_eq(state_table_sum(h), sum);
	for (i = 0; i < STATE_BUCKETS; i++) {
		state_bucket(h, i)->word ^= UINT64_C(1) << 40;
		ck_assert_uint_ne(state_table_sum(h), sum);
		state_bucket(h, i)->word ^= UINT64_C(1) << 40;
	}
	h->boot_count++;
	ck_assert_uint_ne(state_table_sum(h), sum);
	h->boot_count--;
	h->checkpoint_seal = state_seal(h, 95000040);
	ck_assert_uint_ne(state_table_sum(h), sum);
	free(h);
}
END_TEST

START_TEST(test_state_word_valid)
{
	const uint32_t c = 95000000;

	ck_assert_int_eq(state_word_valid(0, c), 1);
	ck_assert_int_eq(state_word_valid((uint64_t)c << 32 | 65536, c), 1);
	ck_assert_int_eq(state_word_valid((uint64_t)(c + 1) << 32, c), 1);
	ck_assert_int_eq(state_word_valid((uint64_t)(c + 2) << 32, c), 0);
	ck_assert_int_eq(state_word_valid((uint64_t)c << 32 | 65537, c), 0);
	ck_assert_int_eq(state_word_valid(UINT64_MAX, c), 0);
	ck_assert_int_eq(
	    state_word_valid((uint64_t)UINT32_MAX << 32 | 65536, UINT32_MAX),
	    1);
}
END_TEST

START_TEST(test_state_other_identity)
{
	static const char made[] =
	    "made for zone 3 dc 2 machine 5 epoch 1700000000";
	struct state_header *h = region();
	struct state_identity want;

	want = ident;
	want.zone = 4;
	assert_refused(h, state_size(), &want, made,
	    "says zone 4 dc 2 machine 5 epoch 1700000000");
	want = ident;
	want.dc = 0;
	assert_refused(h, state_size(), &want, made,
	    "says zone 3 dc 0 machine 5 epoch 1700000000");
	want = ident;
	want.machine = 7;
	assert_refused(h, state_size(), &want, made,
	    "says zone 3 dc 2 machine 7 epoch 1700000000");
	want = ident;
	want.epoch = 0;
	assert_refused(
	    h, state_size(), &want, made, "says zone 3 dc 2 machine 5 epoch 0");
	want = ident;
	want.epoch = 1700000001;
	assert_refused(h, state_size(), &want, made,
	    "says zone 3 dc 2 machine 5 epoch 1700000001");
	/* Without an identity to compare, any identity is accepted. */
	ck_assert_int_eq(state_check(h, state_size(), NULL, NULL, 0), 0);
	free(h);
}
END_TEST

START_TEST(test_state_slots)
{
	struct state_header *h = region();
	char *lo = (char *)h, *hi = lo + state_size();
	char err[512] = "";
	unsigned i;

	for (i = 0; i < STATE_BUCKETS; i++) {
		char *p = (char *)state_bucket(h, i);

		ck_assert_ptr_eq(p, lo + 1024 + 64 * i);
		ck_assert(p >= lo + sizeof(*h));
		ck_assert(
		    p + sizeof(struct state_bucket) <= lo + h->worker_off);
		ck_assert_uint_eq((uintptr_t)p % 64, 0);
		ck_assert_uint_eq((uintptr_t)&state_bucket(h, i)->word % 8, 0);
		memset(p, 0xff, sizeof(struct state_bucket));
	}
	for (i = 0; i < STATE_WORKERS; i++) {
		char *p = (char *)state_worker(h, i);

		ck_assert_ptr_eq(p, lo + 1024 + 32 * 64 + 128 * i);
		ck_assert(p + sizeof(struct state_worker) <= hi);
		ck_assert_uint_eq((uintptr_t)p % 64, 0);
		memset(p, 0xff, sizeof(struct state_worker));
	}
	/* Filling every slot leaves the header intact. */
	ck_assert_msg(
	    state_check(h, state_size(), &ident, err, sizeof(err)) == 0, "%s",
	    err);

	/* Every 64-bit field of the header is naturally aligned. */
	ck_assert_uint_eq(offsetof(struct state_header, magic) % 8, 0);
	ck_assert_uint_eq(offsetof(struct state_header, total_size) % 8, 0);
	ck_assert_uint_eq(offsetof(struct state_header, epoch) % 8, 0);
	ck_assert_uint_eq(offsetof(struct state_header, created) % 8, 0);
	ck_assert_uint_eq(offsetof(struct state_header, checkpoint) % 8, 0);
	ck_assert_uint_eq(
	    offsetof(struct state_header, checkpoint_safe) % 8, 0);
	ck_assert_uint_eq(offsetof(struct state_header, boot_count) % 8, 0);
	ck_assert_uint_eq(offsetof(struct state_header, master_pid) % 8, 0);
	ck_assert_uint_eq(
	    offsetof(struct state_header, clock_step_last_ns) % 8, 0);
	ck_assert_uint_eq(
	    offsetof(struct state_header, clock_step_max_back_ns) % 8, 0);
	ck_assert_uint_eq(offsetof(struct state_bucket, word), 0);
	ck_assert_uint_eq(offsetof(struct state_worker, pid), 0);
	free(h);
}
END_TEST

START_TEST(test_state_bucket_owner)
{
	unsigned n, b, owned[STATE_WORKERS];

	for (n = 1; n <= STATE_WORKERS; n++) {
		memset(owned, 0, sizeof(owned));
		for (b = 0; b < STATE_BUCKETS; b++) {
			unsigned w = state_bucket_owner(b, n);

			ck_assert_uint_lt(w, n);
			ck_assert_uint_eq(w, b % n);
			owned[w]++;
		}
		/* Every worker has a bucket, and the split is even. */
		for (b = 0; b < n; b++) {
			ck_assert_uint_ge(owned[b], STATE_BUCKETS / n);
			ck_assert_uint_le(
			    owned[b], (STATE_BUCKETS + n - 1) / n);
		}
	}
	ck_assert_uint_eq(state_bucket_owner(5, 1), 0);
	ck_assert_uint_eq(state_bucket_owner(31, 32), 31);
	ck_assert_uint_eq(state_bucket_owner(7, 3), 1);
}
END_TEST

START_TEST(test_state_raise)
{
	uint64_t f = 10;

	ck_assert_uint_eq(state_raise(&f, 5), 10);
	ck_assert_uint_eq(f, 10);
	ck_assert_uint_eq(state_raise(&f, 10), 10);
	ck_assert_uint_eq(f, 10);
	ck_assert_uint_eq(state_raise(&f, 11), 11);
	ck_assert_uint_eq(f, 11);
	ck_assert_uint_eq(state_raise(&f, 0), 11);
	ck_assert_uint_eq(f, 11);
	ck_assert_uint_eq(state_raise(&f, UINT64_MAX), UINT64_MAX);
	ck_assert_uint_eq(state_raise(&f, UINT64_MAX - 1), UINT64_MAX);
	ck_assert_uint_eq(f, UINT64_MAX);
	f = 0;
	ck_assert_uint_eq(state_raise(&f, 0), 0);
	ck_assert_uint_eq(f, 0);
}
END_TEST

START_TEST(test_state_access)
{
	uint64_t f = 0;

	state_store(&f, 41);
	ck_assert_uint_eq(state_load(&f), 41);
	state_add(&f, 1);
	ck_assert_uint_eq(f, 42);
	state_add(&f, 0);
	ck_assert_uint_eq(state_load(&f), 42);
}
END_TEST

/*
 * A layout-3 file as genid 0.1.0 wrote it, made here field by field with
 * FNV-1a written again, so that the conversion is not checked against
 * its own idea of layout 3.
 */
#define V3_SIZE 6528u
#define V3_HEADER 384u
#define V3_CKPT 95000040u

static uint64_t
fnv_bytes(uint64_t sum, const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		sum = (sum ^ b[i]) * UINT64_C(0x100000001b3);
	return sum;
}

static uint64_t
fnv_le(uint64_t sum, uint64_t v)
{
	unsigned char b[8];
	unsigned i;

	for (i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	return fnv_bytes(sum, b, 8);
}

static uint64_t
v3_word(const char *f, size_t off)
{
	uint64_t v;

	memcpy(&v, f + off, sizeof(v));
	return v;
}

static uint64_t
v3_seal(uint64_t header_sum, uint32_t ckpt)
{
	uint64_t sum = fnv_le(header_sum ^ UINT64_C(0xcbf29ce484222325), ckpt);

	return (uint64_t)ckpt << 32 | (uint32_t)(sum ^ sum >> 32);
}

static uint64_t
v3_table_sum(const char *f)
{
	const struct state_header *h = (const void *)f;
	uint64_t sum = h->header_sum ^ UINT64_C(0xcbf29ce484222325);
	unsigned i;

	sum = fnv_le(sum, h->checkpoint_seal);
	sum = fnv_le(sum, h->boot_count);
	for (i = 0; i < 32; i++)
		sum = fnv_le(sum, v3_word(f, V3_HEADER + 64 * i));
	return sum;
}

static char *
v3_file(void)
{
	char *f = aligned_alloc(4096, MAPPED);
	struct state_header *h = (void *)f;
	unsigned i;

	ck_assert_ptr_nonnull(f);
	memset(f, 0, MAPPED);
	h->magic = STATE_MAGIC;
	h->version = 3;
	h->header_size = V3_HEADER;
	h->total_size = V3_SIZE;
	h->bucket_off = V3_HEADER;
	h->bucket_size = 64;
	h->bucket_count = 32;
	h->worker_off = V3_HEADER + 32 * 64;
	h->worker_size = 128;
	h->worker_count = 32;
	h->zone = ident.zone;
	h->dc = ident.dc;
	h->machine = ident.machine;
	h->epoch = ident.epoch;
	h->created = NOW - 86400;
	h->header_sum = fnv_bytes(UINT64_C(0xcbf29ce484222325), f,
	    offsetof(struct state_header, checkpoint));
	h->checkpoint = V3_CKPT;
	h->checkpoint_safe = V3_CKPT;
	h->checkpoint_seal = v3_seal(h->header_sum, V3_CKPT);
	h->boot_count = 7;
	h->max_ahead = 12;
	h->allowance = 12;
	h->slews = 2;
	for (i = 0; i < 32; i++) {
		uint64_t w = (UINT64_C(95000000) + i) << 32 | (i * 100);

		memcpy(f + V3_HEADER + 64 * i, &w, sizeof(w));
		w = 1000 + i; /* ids */
		memcpy(f + V3_HEADER + 64 * i + 8, &w, sizeof(w));
	}
	for (i = 0; i < 32; i++) {
		int64_t pid = 0, exit_status = -1, restarts = i;

		memcpy(f + V3_HEADER + 2048 + 128 * i, &pid, 8);
		memcpy(f + V3_HEADER + 2048 + 128 * i + 16, &restarts, 8);
		memcpy(f + V3_HEADER + 2048 + 128 * i + 64, &exit_status, 8);
	}
	h->clean = 1;
	h->table_sum = v3_table_sum(f);
	return f;
}

/* Layout 3 to 4: every field and both tables carried over, resealed. */
START_TEST(test_state_upgrade)
{
	char *f = v3_file(), err[512] = "";
	struct state_header *out = region();
	uint32_t ckpt = 0;
	unsigned i;

	ck_assert_uint_eq(state_layout(f, V3_SIZE), 3);
	ck_assert_msg(
	    state_upgrade(f, V3_SIZE, out, NOW, err, sizeof(err)) == 0, "%s",
	    err);
	ck_assert_msg(
	    state_check(out, state_size(), &ident, err, sizeof(err)) == 0, "%s",
	    err);
	ck_assert_uint_eq(out->version, 4);
	ck_assert_uint_eq(out->compat, 4);
	ck_assert_uint_eq(out->upgraded_from, 3);
	ck_assert_int_eq(out->upgraded, NOW);
	ck_assert_int_eq(out->created, NOW - 86400);
	ck_assert_uint_eq(out->boot_count, 7);
	ck_assert_uint_eq(out->max_ahead, 12);
	ck_assert_uint_eq(out->slews, 2);
	ck_assert_int_eq(state_unseal(out, out->checkpoint_seal, &ckpt), 0);
	ck_assert_uint_eq(ckpt, V3_CKPT);
	ck_assert_uint_eq(out->checkpoint, V3_CKPT);
	/* The clean stop is kept: the bucket words are trusted. */
	ck_assert_uint_eq(out->clean, 1);
	ck_assert_uint_eq(out->table_sum, state_table_sum(out));
	for (i = 0; i < STATE_BUCKETS; i++) {
		ck_assert_uint_eq(
		    state_bucket(out, i)->word, v3_word(f, V3_HEADER + 64 * i));
		ck_assert_uint_eq(state_bucket(out, i)->ids, 1000 + i);
	}
	for (i = 0; i < STATE_WORKERS; i++) {
		ck_assert_uint_eq(state_worker(out, i)->restarts, i);
		ck_assert_int_eq(state_worker(out, i)->exit_status, -1);
	}
	/* The room to grow is zero. */
	for (i = 0; i < sizeof(out->reserved) / sizeof(out->reserved[0]); i++)
		ck_assert_uint_eq(out->reserved[i], 0);
	free(out);
	free(f);
}
END_TEST

/* A table the old file did not vouch for is not trusted after either. */
START_TEST(test_state_upgrade_unclean)
{
	char *f = v3_file(), err[512] = "";
	struct state_header *out = region();
	uint64_t w = UINT64_C(95000039) << 32;

	memcpy(f + V3_HEADER + 64 * 5, &w, sizeof(w));
	ck_assert_int_eq(
	    state_upgrade(f, V3_SIZE, out, NOW, err, sizeof(err)), 0);
	ck_assert_uint_eq(out->clean, 0);
	ck_assert_uint_eq(out->table_sum, 0);
	ck_assert_uint_eq(state_bucket(out, 5)->word, w);
	free(f);
	f = v3_file();
	((struct state_header *)(void *)f)->clean = 0;
	ck_assert_int_eq(
	    state_upgrade(f, V3_SIZE, out, NOW, err, sizeof(err)), 0);
	ck_assert_uint_eq(out->clean, 0);
	free(out);
	free(f);
}
END_TEST

/* A damaged layout-3 file is refused, as state_check would. */
START_TEST(test_state_upgrade_damaged)
{
	char *f = v3_file(), err[512] = "";
	struct state_header *out = region(), *h = (void *)f;

	ck_assert_int_eq(
	    state_upgrade(f, V3_SIZE - 1, out, NOW, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "6527 bytes") != NULL, "%s", err);
	h->created++;
	ck_assert_int_eq(
	    state_upgrade(f, V3_SIZE, out, NOW, err, sizeof(err)), -1);
	ck_assert_msg(
	    strstr(err, "header fails its checksum") != NULL, "%s", err);
	h->created--;
	h->checkpoint_seal ^= UINT64_C(1) << 40;
	ck_assert_int_eq(
	    state_upgrade(f, V3_SIZE, out, NOW, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "checkpoint fails") != NULL, "%s", err);
	h->checkpoint_seal ^= UINT64_C(1) << 40;
	h->slew_rate_ppm = 1000000;
	ck_assert_int_eq(
	    state_upgrade(f, V3_SIZE, out, NOW, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "slew_rate_ppm") != NULL, "%s", err);
	h->slew_rate_ppm = 0;
	h->bucket_off += 64;
	ck_assert_int_eq(
	    state_upgrade(f, V3_SIZE, out, NOW, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "sizes") != NULL, "%s", err);
	h->bucket_off -= 64;
	ck_assert_int_eq(
	    state_upgrade(f, V3_SIZE, out, NOW, err, sizeof(err)), 0);
	h->version = 4;
	ck_assert_int_eq(
	    state_upgrade(f, V3_SIZE, out, NOW, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "layout 3") != NULL, "%s", err);
	free(out);
	free(f);
}
END_TEST

/* Layout 4 back to 3: byte for byte the file it came from, and after a
 * boot under layout 4 a file whose sums layout 3's own rules accept. */
START_TEST(test_state_downgrade)
{
	char *f = v3_file(), *down = aligned_alloc(4096, MAPPED), err[512];
	struct state_header *out = region(), *d = (void *)down;
	unsigned i;

	ck_assert_ptr_nonnull(down);
	ck_assert_int_eq(
	    state_upgrade(f, V3_SIZE, out, NOW, err, sizeof(err)), 0);
	memset(down, 0xa5, MAPPED);
	state_downgrade(out, down);
	for (i = 0; i < V3_SIZE; i++)
		if (down[i] != f[i])
			ck_abort_msg("byte %u is 0x%02x, was 0x%02x", i,
			    (unsigned char)down[i], (unsigned char)f[i]);
	/* A boot and a clean stop under layout 4, then back. */
	out->boot_count++;
	out->checkpoint = V3_CKPT + 100;
	out->checkpoint_seal = state_seal(out, V3_CKPT + 100);
	for (i = 0; i < STATE_BUCKETS; i++)
		state_bucket(out, i)->word = (UINT64_C(95000100) + i) << 32;
	out->slew_end_ms = 123456;
	out->table_sum = state_table_sum(out);
	state_downgrade(out, down);
	ck_assert_uint_eq(d->version, 3);
	ck_assert_uint_eq(d->header_size, V3_HEADER);
	ck_assert_uint_eq(d->total_size, V3_SIZE);
	ck_assert_uint_eq(d->worker_off, V3_HEADER + 2048);
	ck_assert_uint_eq(d->header_sum,
	    fnv_bytes(UINT64_C(0xcbf29ce484222325), down,
		offsetof(struct state_header, checkpoint)));
	ck_assert_uint_eq(
	    d->checkpoint_seal, v3_seal(d->header_sum, V3_CKPT + 100));
	ck_assert_uint_eq(d->clean, 1);
	ck_assert_uint_eq(d->table_sum, v3_table_sum(down));
	ck_assert_uint_eq(d->slew_end_ms, 0);
	ck_assert_uint_eq(
	    v3_word(down, V3_HEADER + 64 * 31), (UINT64_C(95000131)) << 32);
	/* The round trip takes it back to layout 4 whole. */
	ck_assert_int_eq(
	    state_upgrade(down, V3_SIZE, out, NOW, err, sizeof(err)), 0);
	ck_assert_uint_eq(out->clean, 1);
	ck_assert_uint_eq(
	    state_bucket(out, 31)->word, UINT64_C(95000131) << 32);
	free(down);
	free(out);
	free(f);
}
END_TEST

START_TEST(test_state_writer)
{
	struct state_header *h = region();
	char buf[64];

	state_writer(h, buf, sizeof(buf));
	ck_assert_str_eq(buf, "an unknown genid");
	state_set_writer(h, "0.2.0");
	state_writer(h, buf, sizeof(buf));
	ck_assert_str_eq(buf, "genid 0.2.0");
	/* At most 31 characters: the last byte stays NUL. */
	state_set_writer(h, "0123456789012345678901234567890123456789");
	state_writer(h, buf, sizeof(buf));
	ck_assert_str_eq(buf, "genid 0123456789012345678901234");
	/* What the file says is shown, never obeyed. */
	memcpy(h->written_by, "genid \x1b[2J", 10);
	state_writer(h, buf, sizeof(buf));
	ck_assert_str_eq(buf, "genid ?[2J456789012345678901234");
	free(h);
}
END_TEST

Suite *
make_state_suite(void)
{
	Suite *s = suite_create("state");
	TCase *tc;

	tc = tcase_create("layout");
	tcase_add_test(tc, test_state_size);
	tcase_add_test(tc, test_state_init);
	tcase_add_test(tc, test_state_magic_bytes);
	tcase_add_test(tc, test_state_slots);
	tcase_add_test(tc, test_state_bucket_owner);
	tcase_add_test(tc, test_state_raise);
	tcase_add_test(tc, test_state_access);
	suite_add_tcase(s, tc);

	tc = tcase_create("check");
	tcase_add_test(tc, test_state_bad_magic);
	tcase_add_test(tc, test_state_other_version);
	tcase_add_test(tc, test_state_other_version_other_size);
	tcase_add_test(tc, test_state_truncated);
	tcase_add_test(tc, test_state_damaged_header);
	tcase_add_test(tc, test_state_other_identity);
	tcase_add_test(tc, test_state_header_sum);
	tcase_add_test(tc, test_state_field_ranges);
	tcase_add_test(tc, test_state_allowance);
	tcase_add_test(tc, test_state_seal);
	tcase_add_test(tc, test_state_table_sum);
	tcase_add_test(tc, test_state_word_valid);
	suite_add_tcase(s, tc);

	tc = tcase_create("compat");
	tcase_add_test(tc, test_state_upgrade);
	tcase_add_test(tc, test_state_upgrade_unclean);
	tcase_add_test(tc, test_state_upgrade_damaged);
	tcase_add_test(tc, test_state_downgrade);
	tcase_add_test(tc, test_state_writer);
	suite_add_tcase(s, tc);
	return s;
}
