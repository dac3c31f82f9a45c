/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * suggest.h - the name a mistyped word was most likely meant to be, for
 * "did you mean" hints: an edit distance and the closest of a list.
 */
#ifndef GENID_CORE_SUGGEST_H
#define GENID_CORE_SUGGEST_H

#include <stddef.h>

/* Words longer than this are never compared (their distance is huge). */
#define SUGGEST_MAX_LEN 64

/*
 * The number of single-character insertions, deletions, substitutions and
 * swaps of two neighbours that turn a into b (optimal string alignment),
 * ignoring ASCII case; SUGGEST_MAX_LEN + 1 when either is longer than
 * SUGGEST_MAX_LEN.
 */
unsigned suggest_distance(const char *a, const char *b);

/*
 * The index of the name in names[0..n-1] closest to word, when it is close
 * enough to be a typo of it (at most a third of the longer of the two
 * differs, give or take one character); the first of equally close ones.
 * -1 when no name is that close, or word is one of the names.
 */
int suggest_closest(const char *word, const char *const *names, size_t n);

#endif
