/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * timefmt.h - Unix time to and from ISO 8601 UTC, and spans of time for a
 * person, without the C library's time zone state (pure: the same input
 * gives the same output anywhere).
 */
#ifndef GENID_CORE_TIMEFMT_H
#define GENID_CORE_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

/* Size of a buffer that holds any timefmt_iso result. */
#define TIMEFMT_LEN 32

/* Writes t as YYYY-MM-DDTHH:MM:SSZ into buf; returns buf. */
char *timefmt_iso(int64_t t, char *buf, size_t len);

/*
 * Writes a span of secs seconds for a person into buf: seconds below two
 * minutes ("45s"), then minutes and seconds ("3m07s"), hours and minutes
 * below two days ("5h02m"), days and hours below two years ("3d04h"),
 * else whole years ("129 years"); "-" before a negative span.  Returns
 * buf.
 */
char *timefmt_span(int64_t secs, char *buf, size_t len);

/*
 * Parses Unix seconds ("1795000000", "@1795000000") or ISO 8601 UTC
 * ("2026-11-18", "2026-11-18T11:06:40Z", "2026-11-18 11:06:40", an
 * optional "+00:00").  0, or -1 with the reason in err.
 */
int timefmt_parse(const char *s, int64_t *t, char *err, size_t errlen);

#endif
