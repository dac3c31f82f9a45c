/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_config.c - the configuration loader (cfg_load, src/config.c) on
 * arbitrary text.
 *
 * Properties besides "no crash": every error starts with "FILE:LINE:COL: "
 * and the position lies inside the text; an error about a JSON object
 * that parses names one of its keys right after the position (genid.json(5):
 * "file, line, column and key"), and the position is where a JSON value
 * can start (not the object's own opening brace); the error is one line.
 * FUZZ_CONFIG_LAX=1 leaves out the last two, which config.c breaks today
 * (tests/fuzz/repro/fuzz_config), to look for other bugs past them.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "jsonpos.h"
#include "fuzz.h"

static char path[64];
static int lax;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[] = "/dev/shm/genid-fuzz-config.XXXXXX";

	/* A file in memory: each input is written to it. */
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/genid.json", dir);
	lax = getenv("FUZZ_CONFIG_LAX") != NULL;
	return 0;
}

/*
 * Whether err names key k of the object: "k": or "k"[i]:, or "k.sub" for
 * a key of the object k holds, with k escaped as JSON writes it and cut
 * as config.c cuts it.
 */
static int
names_key(const char *p, const char *k)
{
	char esc[CFG_KEY_SHOWN];
	size_t n;

	jsonpos_escape(k, esc, sizeof(esc));
	n = strlen(esc);
	return p[0] == '"' && strncmp(p + 1, esc, n) == 0 &&
	    ((p[n + 1] == '"' && (p[n + 2] == ':' || p[n + 2] == '[')) ||
		p[n + 1] == '.');
}

/* The byte at line:col of text, or NULL when the position is outside. */
static const char *
at(const char *text, long line, long col)
{
	const char *p = text;
	long l = 1, c = 1;

	while (*p != '\0' && (l < line || c < col)) {
		if (*p == '\n') {
			if (l == line)
				return NULL;
			l++;
			c = 1;
		} else
			c++;
		p++;
	}
	return l == line && c == col ? p : NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg c;
	char err[1024], *text, *rest;
	const char *key, *pos;
	json_t *root, *v;
	long line, col;
	size_t plen = strlen(path);
	FILE *f;
	int rc, named = 0;

	if ((f = fopen(path, "w")) == NULL)
		return 0;
	fwrite(data, 1, size, f);
	fclose(f);
	err[0] = '\0';
	rc = cfg_load(&c, path, 1800000000, err, sizeof(err));
	if (rc == 0)
		return 0;
	FUZZ_ASSERT(rc == -1, "rc %d", rc);
	FUZZ_ASSERT(lax || strchr(err, '\n') == NULL,
	    "error of several lines: \"%s\"", err);
	FUZZ_ASSERT(strncmp(err, path, plen) == 0 && err[plen] == ':',
	    "error does not start with the file: \"%s\"", err);
	line = strtol(err + plen + 1, &rest, 10);
	FUZZ_ASSERT(line >= 1 && *rest == ':', "no line: \"%s\"", err);
	col = strtol(rest + 1, &rest, 10);
	/* jansson counts the column of a syntax error from 0. */
	FUZZ_ASSERT(col >= 0 && rest[0] == ':' && rest[1] == ' ',
	    "no column: \"%s\"", err);
	/* cfg_load reads the text up to its first NUL byte. */
	if ((text = strndup((const char *)data, size)) == NULL)
		return 0;
	root = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	if (json_is_object(root)) {
		json_object_foreach(root, key, v) named |=
		    names_key(rest + 2, key);
		FUZZ_ASSERT(
		    named, "error names no key of the object: \"%s\"", err);
		pos = at(text, line, col);
		/* Lax: config.c gives 1:1 for a key it cannot find (repro). */
		if (lax && line == 1 && col == 1)
			pos = NULL;
		else {
			FUZZ_ASSERT(pos != NULL && *pos != '\0' &&
				strchr("\"{[-0123456789tfn", *pos) != NULL,
			    "%ld:%ld is no value's start: \"%s\"", line, col,
			    err);
			FUZZ_ASSERT(pos != text + strspn(text, " \t\r\n"),
			    "%ld:%ld is the object, not the key's value: "
			    "\"%s\"",
			    line, col, err);
		}
	}
	json_decref(root);
	free(text);
	return 0;
}
