/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * jsonpos.c - find where a top-level key's value (or one item of an array
 * value) starts in the text of a JSON object.  A small scanner, not a
 * parser: the text was already parsed and validated by jansson.
 */
#include <string.h>

#include "jsonpos.h"

static const char *skip_string(const char *p);
static const char *skip_space(const char *p);
static const char *skip_value(const char *p);
static const char *find_value(const char *text, const char *key, int index);
static int name_is(const char *name, const char *key);
static int hex4(const char *p, unsigned *v);
static size_t utf8(unsigned cp, char *out);

/*
 * Skips a JSON string starting at the quote p; returns the character after
 * the closing quote.
 */
static const char *
skip_string(const char *p)
{
	for (p++; *p != '\0' && *p != '"'; p++)
		if (*p == '\\' && p[1] != '\0')
			p++;
	return *p == '"' ? p + 1 : p;
}

static const char *
skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* Skips one JSON value at p; returns the character after it. */
static const char *
skip_value(const char *p)
{
	int depth = 0;

	while (*p != '\0') {
		if (*p == '"') {
			p = skip_string(p);
			if (depth == 0)
				return p;
			continue;
		}
		if (*p == '{' || *p == '[')
			depth++;
		else if (*p == '}' || *p == ']') {
			if (depth == 0)
				return p;
			if (--depth == 0)
				return p + 1;
		} else if (depth == 0 && strchr(",: \t\r\n", *p) != NULL)
			return p;
		p++;
	}
	return p;
}

/* Reads 4 hex digits at p into *v; 0, or -1 when they are not. */
static int
hex4(const char *p, unsigned *v)
{
	unsigned i, d;

	*v = 0;
	for (i = 0; i < 4; i++) {
		if (p[i] >= '0' && p[i] <= '9')
			d = (unsigned)(p[i] - '0');
		else if (p[i] >= 'a' && p[i] <= 'f')
			d = (unsigned)(p[i] - 'a' + 10);
		else if (p[i] >= 'A' && p[i] <= 'F')
			d = (unsigned)(p[i] - 'A' + 10);
		else
			return -1;
		*v = *v << 4 | d;
	}
	return 0;
}

/* Writes code point cp as UTF-8 to out (4 bytes of room); the length. */
static size_t
utf8(unsigned cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * Whether the JSON string whose text starts after its opening quote at
 * name decodes to key: jansson gave the key decoded, the text has it as
 * written (\u0070ort is "port").
 */
static int
name_is(const char *name, const char *key)
{
	static const char plain[] = "\"\\/bfnrt", real[] = "\"\\/\b\f\n\r\t";
	const char *p = name, *q;
	char buf[4];
	unsigned cp, lo;
	size_t n;

	while (*p != '"' && *p != '\0') {
		if (*p != '\\') {
			buf[0] = *p++;
			n = 1;
		} else if (p[1] == 'u' && hex4(p + 2, &cp) == 0) {
			p += 6;
			if (cp >= 0xd800 && cp < 0xdc00 && p[0] == '\\' &&
			    p[1] == 'u' && hex4(p + 2, &lo) == 0 &&
			    lo >= 0xdc00 && lo < 0xe000) {
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (lo - 0xdc00);
				p += 6;
			}
			n = utf8(cp, buf);
		} else if (p[1] != '\0' && (q = strchr(plain, p[1])) != NULL) {
			buf[0] = real[q - plain];
			n = 1;
			p += 2;
		} else
			return 0;
		if (strncmp(key, buf, n) != 0)
			return 0;
		key += n;
	}
	return *p == '"' && *key == '\0';
}

/* The start of a top-level key's value, or of item index in it. */
static const char *
find_value(const char *text, const char *key, int index)
{
	const char *p = skip_space(text);

	if (*p != '{')
		return text;
	p = skip_space(p + 1);
	while (*p == '"') {
		const char *end = skip_string(p);
		int match = name_is(p + 1, key);

		p = skip_space(end);
		if (*p != ':')
			break;
		p = skip_space(p + 1);
		if (match) {
			int i;

			if (index < 0 || *p != '[')
				return p;
			p = skip_space(p + 1);
			for (i = 0; i < index; i++) {
				p = skip_space(skip_value(p));
				if (*p != ',')
					break;
				p = skip_space(p + 1);
			}
			return p;
		}
		p = skip_space(skip_value(p));
		if (*p == ',')
			p = skip_space(p + 1);
	}
	return text;
}

size_t
jsonpos_escape(const char *s, char *out, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;
	char esc[7];
	size_t k, i;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			k = 2;
		} else if (c == '\n' || c == '\t' || c == '\r') {
			esc[0] = '\\';
			esc[1] = c == '\n' ? 'n' : c == '\t' ? 't' : 'r';
			k = 2;
		} else if (c < 0x20 || c == 0x7f) {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			k = 6;
		} else {
			esc[0] = (char)c;
			k = 1;
		}
		for (i = 0; i < k; i++, n++)
			if (n + 1 < len)
				out[n] = esc[i];
	}
	if (len > 0)
		out[n < len ? n : len - 1] = '\0';
	return n;
}

void
jsonpos_find(const char *text, const char *key, int index, int *line, int *col)
{
	const char *at = find_value(text, key, index), *p;

	*line = 1;
	*col = 1;
	for (p = text; p < at; p++) {
		if (*p == '\n') {
			(*line)++;
			*col = 1;
		} else
			(*col)++;
	}
}
