/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * suggest.c - edit distance and the closest name, for "did you mean".
 */
#include <string.h>

#include "suggest.h"

static int
lower(int ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch;
}

static unsigned
min3(unsigned a, unsigned b, unsigned c)
{
	unsigned m = a < b ? a : b;

	return m < c ? m : c;
}

unsigned
suggest_distance(const char *a, const char *b)
{
	/* Three rows of the table: the one before last, the last, this. */
	unsigned rows[3][SUGGEST_MAX_LEN + 1];
	unsigned *pp, *p, *cur, *t;
	size_t la = strlen(a), lb = strlen(b), i, j;

	if (la > SUGGEST_MAX_LEN || lb > SUGGEST_MAX_LEN)
		return SUGGEST_MAX_LEN + 1;
	pp = rows[0];
	p = rows[1];
	cur = rows[2];
	for (j = 0; j <= lb; j++)
		p[j] = (unsigned)j;
	for (i = 1; i <= la; i++) {
		cur[0] = (unsigned)i;
		for (j = 1; j <= lb; j++) {
			unsigned cost = lower(a[i - 1]) != lower(b[j - 1]);

			cur[j] =
			    min3(p[j] + 1, cur[j - 1] + 1, p[j - 1] + cost);
			if (i > 1 && j > 1 &&
			    lower(a[i - 1]) == lower(b[j - 2]) &&
			    lower(a[i - 2]) == lower(b[j - 1]) &&
			    pp[j - 2] + 1 < cur[j])
				cur[j] = pp[j - 2] + 1;
		}
		t = pp;
		pp = p;
		p = cur;
		cur = t;
	}
	return p[lb];
}

int
suggest_closest(const char *word, const char *const *names, size_t n)
{
	unsigned best = SUGGEST_MAX_LEN + 1, d;
	size_t i, longer;
	int pick = -1;

	for (i = 0; i < n; i++) {
		if (strcmp(word, names[i]) == 0)
			return -1;
		d = suggest_distance(word, names[i]);
		longer = strlen(word) > strlen(names[i]) ? strlen(word)
							 : strlen(names[i]);
		if (d < best && 3 * (size_t)d <= longer + 3) {
			best = d;
			pick = (int)i;
		}
	}
	return pick;
}
