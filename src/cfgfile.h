/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cfgfile.h - the text of genid.json and the places of its values, for
 * errors like genid.json:12:5: "machine_id": 9 is out of range 0..7.
 * jansson keeps no positions: the core's jsonpos finds them in the text.
 */
#ifndef GENID_CFGFILE_H
#define GENID_CFGFILE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "config.h"

/* Where a value sits in the file, for messages. */
struct cfg_where {
	const char *file;
	const char *text;
	const char *parent; /* the top-level object key is in, or NULL */
	const char *key;
	int index;   /* array item, or -1 for the whole value */
	int64_t now; /* the latest epoch allowed */
};

/* The text of the file path, to free; NULL with "open PATH: reason". */
char *cfgfile_read(const char *path, char *err, size_t errlen);

/*
 * Writes "file:line:col: "key": " and the message to err, naming the
 * place of w (and "parent.key", "[index]" when set); returns -1.
 */
int cfgfile_fail(struct cfg_where *w, char *err, size_t errlen, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

/*
 * Writes "file:line:col: " and what is wrong with text that jansson could
 * not parse (jerr) to err, naming what editors and other formats put in
 * JSON that it has not (a byte order mark, comments, a trailing comma).
 * Returns -1.
 */
int cfgfile_syntax(const char *path, const char *text, const json_error_t *jerr,
    char *err, size_t errlen);

/* The JSON type of v for messages: "an object", "a string", ... */
const char *cfgfile_type(const json_t *v);

/* The string v into *s: 0, or -1 with err naming w. */
int cfgfile_string(
    json_t *v, struct cfg_where *w, char *err, size_t errlen, const char **s);

/*
 * Reads v, an array of min..max strings, calling each() for every item
 * with its index (w names the item meanwhile): 0, or -1 with err.
 */
int cfgfile_strings(json_t *v, long long min, long long max,
    struct cfg_where *w, char *err, size_t errlen,
    int (*each)(struct cfg *, const char *, unsigned, struct cfg_where *,
	char *, size_t),
    struct cfg *c);

#endif
