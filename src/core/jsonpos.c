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

/* The start of a top-level key's value, or of item index in it. */
static const char *
find_value(const char *text, const char *key, int index)
{
	size_t klen = strlen(key);
	const char *p = skip_space(text);

	if (*p != '{')
		return text;
	p = skip_space(p + 1);
	while (*p == '"') {
		const char *name = p + 1, *end = skip_string(p);
		int match = (size_t)(end - 1 - name) == klen &&
		    strncmp(name, key, klen) == 0;

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
