/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * jsonpos.h - where a value sits in the text of a JSON object, for error
 * messages ("genid.json:12:5: ..."): jansson keeps no positions.
 */
#ifndef GENID_CORE_JSONPOS_H
#define GENID_CORE_JSONPOS_H

#include <stddef.h>

/*
 * The line and column (both from 1; a column counts bytes) at which the
 * value of the top-level key of the JSON object text starts or, when
 * index is not negative and the value is an array, item index of it.
 * The text should be valid JSON; where the key is missing or the text is
 * no object it gives 1:1, and for an item past the end the place the
 * array stops.
 */
void jsonpos_find(
    const char *text, const char *key, int index, int *line, int *col);

/*
 * Writes s to out as it would stand between the quotes of a JSON string
 * (quote, backslash and control characters escaped), cut to len - 1 bytes
 * and terminated.  Returns the length the whole of it needs.
 */
size_t jsonpos_escape(const char *s, char *out, size_t len);

#endif
