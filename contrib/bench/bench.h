/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench.h - what the bench programs share: the latency histogram, the
 * monotonic clock in nanoseconds and the parsing of a number option.
 */
#ifndef GENID_BENCH_H
#define GENID_BENCH_H

#include <stdint.h>

#define NS 1000000000LL

/*
 * Latency histogram: 64 linear sub-buckets per power of two (1.6%), enough
 * buckets for any 64-bit value.
 */
#define HIST_SUB_BITS 6
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_BUCKETS (64 * HIST_SUB)

/* The histogram bucket value v (ns) falls in. */
unsigned hist_index(uint64_t v);

/* The highest value that falls in bucket i. */
uint64_t hist_value(unsigned i);

/* The value below or at which a fraction q of the samples of h lie (q 0:
 * the smallest sample), in ns; 0 when h is empty. */
double hist_quantile(const uint64_t *h, double q);

/* The largest sample of h (its bucket's highest value), 0 when empty. */
uint64_t hist_max(const uint64_t *h);

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t bench_mono_ns(void);

/* The decimal s in 0..max; exits with EX_USAGE, naming what, otherwise. */
unsigned bench_parse_uint(const char *s, const char *what, unsigned max);

#endif
