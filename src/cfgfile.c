/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cfgfile.c - the text of genid.json: reading it, and reading values that
 * name their place in it when they are wrong (cfgfile.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfgfile.h"
#include "jsonpos.h"

static const char *text_at(const char *text, int line, int col);
static void where_find(const struct cfg_where *w, int *line, int *col);
static const char *syntax_known(const char *text, const json_error_t *jerr);

/* The byte at line:col of text (as jsonpos counts them). */
static const char *
text_at(const char *text, int line, int col)
{
	const char *p = text;
	int l = 1, c = 1;

	while (*p != '\0' && (l < line || c < col)) {
		if (*p == '\n') {
			l++;
			c = 1;
		} else
			c++;
		p++;
	}
	return p;
}

/*
 * Where the value of w starts: that of a top-level key, or of a key of the
 * object that is the value of the top-level key w->parent.
 */
static void
where_find(const struct cfg_where *w, int *line, int *col)
{
	int l, c;

	if (w->parent == NULL) {
		jsonpos_find(w->text, w->key, w->index, line, col);
		return;
	}
	jsonpos_find(w->text, w->parent, -1, &l, &c);
	jsonpos_find(text_at(w->text, l, c), w->key, w->index, line, col);
	*col = *line == 1 ? c + *col - 1 : *col;
	*line += l - 1;
}

/*
 * Copies in to out (len bytes) with each control character written as
 * JSON writes it (\n, \t, \u0001 ...): the message stays one line
 * whatever a caller quoted in it unescaped.
 */
static void
escape_controls(const char *in, char *out, size_t len)
{
	size_t o = 0;

	for (; *in != '\0' && o + 7 < len; in++) {
		unsigned char c = (unsigned char)*in;

		if (c == '\n')
			o += (size_t)snprintf(out + o, len - o, "\\n");
		else if (c == '\t')
			o += (size_t)snprintf(out + o, len - o, "\\t");
		else if (c == '\r')
			o += (size_t)snprintf(out + o, len - o, "\\r");
		else if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(out + o, len - o, "\\u%04x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
}

int
cfgfile_fail(
    struct cfg_where *w, char *err, size_t errlen, const char *fmt, ...)
{
	char key[CFG_KEY_SHOWN], msg[1024];
	int line, col, n;
	va_list ap;

	where_find(w, &line, &col);
	/* A key may hold quotes or line breaks: it is shown as JSON has it. */
	jsonpos_escape(w->key, key, sizeof(key));
	if (w->parent != NULL)
		n = snprintf(err, errlen, "%s:%d:%d: \"%s.%s\"", w->file, line,
		    col, w->parent, key);
	else
		n = snprintf(
		    err, errlen, "%s:%d:%d: \"%s\"", w->file, line, col, key);
	if (w->index >= 0 && n > 0 && (size_t)n < errlen)
		n += snprintf(err + n, errlen - (size_t)n, "[%d]", w->index);
	if (n > 0 && (size_t)n < errlen - 2) {
		err[n++] = ':';
		err[n++] = ' ';
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		escape_controls(msg, err + n, errlen - (size_t)n);
	}
	return -1;
}

/*
 * What is wrong with text where jansson stopped (jerr), when it is one of
 * the things other formats allow and JSON does not; NULL otherwise.
 * jansson's position is the byte after the token it could not take.
 */
static const char *
syntax_known(const char *text, const json_error_t *jerr)
{
	static const char bom[] = "\xef\xbb\xbf";
	size_t pos = (size_t)jerr->position, i;

	if (strncmp(text, bom, sizeof(bom) - 1) == 0)
		return "a UTF-8 byte order mark at the start: save the file"
		       " without it (as UTF-8 without BOM)";
	if (jerr->position <= 0 || pos > strlen(text))
		return NULL;
	switch (text[pos - 1]) {
	case '#':
		return "JSON has no comments: remove the \"#\" comment";
	case '/':
		if (text[pos] == '/')
			return "JSON has no comments: remove the \"//\" "
			       "comment";
		if (text[pos] == '*')
			return "JSON has no comments: remove the \"/* */\""
			       " comment";
		return NULL;
	case '}':
	case ']':
		for (i = pos - 1; i > 0 && strchr(" \t\r\n", text[i - 1]);)
			i--;
		if (i > 0 && text[i - 1] == ',')
			return text[pos - 1] == '}'
			    ? "a trailing comma before }: remove it"
			    : "a trailing comma before ]: remove it";
		return NULL;
	default:
		return NULL;
	}
}

int
cfgfile_syntax(const char *path, const char *text, const json_error_t *jerr,
    char *err, size_t errlen)
{
	char why[JSON_ERROR_TEXT_LENGTH * 2];
	const char *known = syntax_known(text, jerr);

	/* jansson quotes the text near the error: keep it one line. */
	if (known == NULL)
		jsonpos_escape(jerr->text, why, sizeof(why));
	snprintf(err, errlen, "%s:%d:%d: %s", path, jerr->line, jerr->column,
	    known != NULL ? known : why);
	return -1;
}

const char *
cfgfile_type(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a real number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "null";
	}
}

int
cfgfile_string(
    json_t *v, struct cfg_where *w, char *err, size_t errlen, const char **s)
{
	if (!json_is_string(v))
		return cfgfile_fail(
		    w, err, errlen, "is %s, want a string", cfgfile_type(v));
	*s = json_string_value(v);
	return 0;
}

int
cfgfile_strings(json_t *v, long long min, long long max, struct cfg_where *w,
    char *err, size_t errlen,
    int (*each)(struct cfg *, const char *, unsigned, struct cfg_where *,
	char *, size_t),
    struct cfg *c)
{
	size_t i;
	json_t *item;

	if (!json_is_array(v))
		return cfgfile_fail(w, err, errlen,
		    "is %s, want an array of strings", cfgfile_type(v));
	if (json_array_size(v) < (size_t)min ||
	    json_array_size(v) > (size_t)max)
		return cfgfile_fail(w, err, errlen,
		    "has %zu items, want %lld..%lld", json_array_size(v), min,
		    max);
	json_array_foreach(v, i, item)
	{
		w->index = (int)i;
		if (!json_is_string(item))
			return cfgfile_fail(w, err, errlen,
			    "is %s, want a string", cfgfile_type(item));
		if (each(c, json_string_value(item), (unsigned)i, w, err,
			errlen) == -1)
			return -1;
	}
	w->index = -1;
	return 0;
}

char *
cfgfile_read(const char *path, char *err, size_t errlen)
{
	FILE *f;
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "open %s: %s", path, strerror(errno));
		return NULL;
	}
	do {
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap + 65536);

			if (nb == NULL) {
				snprintf(err, errlen, "read %s: out of memory",
				    path);
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
			cap += 65536;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
	} while (n > 0);
	if (ferror(f)) {
		snprintf(err, errlen, "read %s: %s", path, strerror(errno));
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	buf[len] = '\0';
	return buf;
}
