/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench.c - the latency histogram, clock and option parsing every bench
 * program uses (bench.h).
 */
#include <err.h>
#include <errno.h>
#include <stdlib.h>
#include <sysexits.h>
#include <time.h>

#include "bench.h"

unsigned
hist_index(uint64_t v)
{
	unsigned shift;

	if (v < 2 * HIST_SUB)
		return (unsigned)v;
	/* At most 57: the index stays below HIST_BUCKETS for any v. */
	shift = (unsigned)(63 - __builtin_clzll(v)) - HIST_SUB_BITS;
	return (shift + 1) * HIST_SUB + (unsigned)(v >> shift) - HIST_SUB;
}

uint64_t
hist_value(unsigned i)
{
	unsigned shift, sub;

	if (i < 2 * HIST_SUB)
		return i;
	shift = i / HIST_SUB - 1;
	sub = i % HIST_SUB + HIST_SUB;
	return (((uint64_t)sub + 1) << shift) - 1;
}

double
hist_quantile(const uint64_t *h, double q)
{
	uint64_t total = 0, want, sum = 0;
	unsigned i;

	for (i = 0; i < HIST_BUCKETS; i++)
		total += h[i];
	if (total == 0)
		return 0;
	/* q 0 wants the first sample, not none: the smallest one. */
	want = (uint64_t)(q * (double)total + 0.999999);
	if (want == 0)
		want = 1;
	for (i = 0; i < HIST_BUCKETS; i++) {
		sum += h[i];
		if (sum >= want)
			return (double)hist_value(i);
	}
	return (double)hist_value(HIST_BUCKETS - 1);
}

uint64_t
hist_max(const uint64_t *h)
{
	unsigned i = HIST_BUCKETS;

	while (i-- > 0)
		if (h[i] != 0)
			return hist_value(i);
	return 0;
}

int64_t
bench_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

unsigned
bench_parse_uint(const char *s, const char *what, unsigned max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 || v > max)
		errx(EX_USAGE, "%s: %s is not a number in 0..%u", what, s, max);
	return (unsigned)v;
}
