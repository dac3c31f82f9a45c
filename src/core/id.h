/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * id.h - the 64-bit genid ID: layout, encode, decode, parsing.
 *
 * bit 63..32 timestamp (seconds since the epoch), 31..27 zone, 26..24 dc,
 * 23..21 machine, 20..16 bucket, 15..0 counter.
 */
#ifndef GENID_CORE_ID_H
#define GENID_CORE_ID_H

#include <stddef.h>
#include <stdint.h>

#define ID_TS_SHIFT 32
#define ID_ZONE_SHIFT 27
#define ID_DC_SHIFT 24
#define ID_MACHINE_SHIFT 21
#define ID_BUCKET_SHIFT 16

#define ID_TS_MAX UINT32_MAX
/*
 * The first timestamp whose IDs are 2^63 or more: from it on an ID no
 * longer fits a signed 64-bit integer (SQL BIGINT, Java long).
 */
#define ID_TS_SIGNED_LIMIT (INT64_C(1) << 31)
#define ID_ZONE_MAX 31u
#define ID_DC_MAX 7u
#define ID_MACHINE_MAX 7u
#define ID_BUCKET_MAX 31u
#define ID_COUNTER_MAX 65535u

#define ID_COUNTERS (ID_COUNTER_MAX + 1)

struct id_fields {
	uint32_t ts; /* seconds since the epoch */
	unsigned zone;
	unsigned dc;
	unsigned machine;
	unsigned bucket;
	unsigned counter;
};

/* Packs fields into an ID; fields must be valid (see id_check). */
uint64_t id_encode(const struct id_fields *f);

/* Unpacks an ID into its fields; every 64-bit value decodes. */
void id_decode(uint64_t id, struct id_fields *f);

/* The ID bits for zone/dc/machine/bucket: OR in (ts << 32) | counter. */
uint64_t id_base(unsigned zone, unsigned dc, unsigned machine, unsigned bucket);

/* Checks every field's range; 0, or -1 with the reason in err. */
int id_check(const struct id_fields *f, char *err, size_t errlen);

/* Parses a decimal or 0x-hex ID; 0, or -1 with the reason in err. */
int id_parse(const char *s, uint64_t *id, char *err, size_t errlen);

/* Parses an unsigned number (decimal or 0x-hex) no larger than max. */
int id_parse_uint(
    const char *s, uint64_t max, uint64_t *v, char *err, size_t errlen);

/* Unix time of an ID's timestamp field under the given epoch. */
int64_t id_unix_time(uint64_t id, int64_t epoch);

/*
 * The ID timestamp of the Unix second unix_s under epoch: the seconds
 * since the epoch, ID_TS_MAX for any later second (the field is used up),
 * or -1 for a second before the epoch, which has no timestamp; the caller
 * decides what such a clock means.
 */
int64_t id_ts_of(int64_t unix_s, int64_t epoch);

#endif
