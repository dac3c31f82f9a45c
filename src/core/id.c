/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * id.c - encode, decode and parse 64-bit genid IDs.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "id.h"

uint64_t
id_base(unsigned zone, unsigned dc, unsigned machine, unsigned bucket)
{
	return (uint64_t)zone << ID_ZONE_SHIFT | (uint64_t)dc << ID_DC_SHIFT |
	    (uint64_t)machine << ID_MACHINE_SHIFT |
	    (uint64_t)bucket << ID_BUCKET_SHIFT;
}

uint64_t
id_encode(const struct id_fields *f)
{
	return (uint64_t)f->ts << ID_TS_SHIFT |
	    id_base(f->zone, f->dc, f->machine, f->bucket) | f->counter;
}

void
id_decode(uint64_t id, struct id_fields *f)
{
	f->ts = (uint32_t)(id >> ID_TS_SHIFT);
	f->zone = (unsigned)(id >> ID_ZONE_SHIFT) & ID_ZONE_MAX;
	f->dc = (unsigned)(id >> ID_DC_SHIFT) & ID_DC_MAX;
	f->machine = (unsigned)(id >> ID_MACHINE_SHIFT) & ID_MACHINE_MAX;
	f->bucket = (unsigned)(id >> ID_BUCKET_SHIFT) & ID_BUCKET_MAX;
	f->counter = (unsigned)id & ID_COUNTER_MAX;
}

int
id_check(const struct id_fields *f, char *err, size_t errlen)
{
	static const struct {
		const char *name;
		size_t off;
		unsigned max;
	} fields[] = {
	    {"zone", offsetof(struct id_fields, zone), ID_ZONE_MAX},
	    {"dc", offsetof(struct id_fields, dc), ID_DC_MAX},
	    {"machine", offsetof(struct id_fields, machine), ID_MACHINE_MAX},
	    {"bucket", offsetof(struct id_fields, bucket), ID_BUCKET_MAX},
	    {"counter", offsetof(struct id_fields, counter), ID_COUNTER_MAX},
	};
	size_t i;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		unsigned v = *(const unsigned *)(const void *)((const char *)f +
		    fields[i].off);

		if (v > fields[i].max) {
			snprintf(err, errlen, "%s %u is out of range 0..%u",
			    fields[i].name, v, fields[i].max);
			return -1;
		}
	}
	return 0;
}

int
id_parse_uint(
    const char *s, uint64_t max, uint64_t *v, char *err, size_t errlen)
{
	unsigned long long n;
	const char *p;
	char *end;
	int base = 10;

	while (isspace((unsigned char)*s))
		s++;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	/*
	 * strtoull accepts a sign, blanks and a second "0x"; a number here
	 * is digits only.
	 */
	if (!(base == 16 ? isxdigit((unsigned char)*s)
			 : isdigit((unsigned char)*s))) {
		snprintf(err, errlen, "not a %s number",
		    base == 16 ? "hexadecimal" : "decimal");
		return -1;
	}
	for (p = s; *p != '\0' && !isspace((unsigned char)*p); p++) {
		if (base == 16 ? !isxdigit((unsigned char)*p)
			       : !isdigit((unsigned char)*p)) {
			snprintf(err, errlen,
			    "unexpected character '%c' in a %s"
			    " number",
			    *p, base == 16 ? "hexadecimal" : "decimal");
			return -1;
		}
	}
	errno = 0;
	n = strtoull(s, &end, base);
	while (isspace((unsigned char)*end))
		end++;
	if (*end != '\0') {
		snprintf(err, errlen, "unexpected character '%c'", *end);
		return -1;
	}
	if (errno == ERANGE || n > max) {
		snprintf(
		    err, errlen, "larger than %llu", (unsigned long long)max);
		return -1;
	}
	*v = n;
	return 0;
}

int
id_parse(const char *s, uint64_t *id, char *err, size_t errlen)
{
	return id_parse_uint(s, UINT64_MAX, id, err, errlen);
}

int64_t
id_unix_time(uint64_t id, int64_t epoch)
{
	return epoch + (int64_t)(id >> ID_TS_SHIFT);
}

int64_t
id_ts_of(int64_t unix_s, int64_t epoch)
{
	uint64_t since;

	if (unix_s < epoch)
		return -1;
	/* Unsigned, so that the difference of any two int64_t is exact. */
	since = (uint64_t)unix_s - (uint64_t)epoch;
	return since > ID_TS_MAX ? (int64_t)ID_TS_MAX : (int64_t)since;
}
