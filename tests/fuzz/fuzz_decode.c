/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_decode.c - genidctl's ID and time parsers (cli/decode.c) and the
 * decode, encode and range verbs on arbitrary arguments.
 *
 * decode.c is included so that its static parsers can be called.  The
 * first byte picks the mode, the rest is the text (cut into arguments at
 * newlines for a verb).  Properties: an ID that parses prints back (in
 * decimal and in hex) to a text that parses to the same ID; a time that
 * parses formats back (ISO 8601) to the same time; the verbs only return
 * exit codes of sysexits.h.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "../../cli/decode.c"
#include "fuzz.h"

#define MAX_ARGS 16

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int fd = open("/dev/null", O_RDWR);

	/*
	 * The verbs print; stdin must be empty for "decode" alone.  Their
	 * warnings on stderr are dropped by run.sh's -close_fd_mask=2, so
	 * the properties are told on a copy of stderr.
	 */
	if (fd == -1 || dup2(fd, 0) == -1 || dup2(fd, 1) == -1) {
		perror("/dev/null");
		exit(1);
	}
	close(fd);
	if ((fd = dup(2)) != -1)
		fuzz_report = fdopen(fd, "w");
	return 0;
}

static void
check_id(const char *s)
{
	uint64_t id, again;
	char err[128], buf[32];
	int neg;

	/* A negative decimal is read as a signed 64-bit column shows it. */
	if (parse_id(s, &id, &neg, err, sizeof(err)) == -1) {
		FUZZ_ASSERT(err[0] != '\0', "no reason for \"%s\"", s);
		return;
	}
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)id);
	FUZZ_ASSERT(parse_id(buf, &again, &neg, err, sizeof(err)) == 0 &&
		again == id && !neg,
	    "\"%s\" -> %s does not parse back: %s", s, buf, err);
	snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)id);
	FUZZ_ASSERT(parse_id(buf, &again, &neg, err, sizeof(err)) == 0 &&
		again == id && !neg,
	    "\"%s\" -> %s does not parse back: %s", s, buf, err);
}

static void
check_time(const char *s, int64_t epoch)
{
	char err[160], iso[TIMEFMT_LEN];
	int64_t t, again;
	uint32_t ts;

	if (timefmt_parse(s, &t, err, sizeof(err)) == -1) {
		FUZZ_ASSERT(err[0] != '\0', "no reason for \"%s\"", s);
		FUZZ_ASSERT(parse_time("--time", s, epoch, &ts) == EX_USAGE,
		    "parse_time takes \"%s\"", s);
		return;
	}
	/* Beyond year 9999 the ISO form has more digits than it parses. */
	timefmt_iso(t, iso, sizeof(iso));
	if (t >= 0 && t <= 253402300799LL)
		FUZZ_ASSERT(timefmt_parse(iso, &again, err, sizeof(err)) == 0 &&
			again == t,
		    "\"%s\" = %lld -> %s does not parse back (%s)", s,
		    (long long)t, iso, err);
	if (parse_time("--time", s, epoch, &ts) == 0)
		FUZZ_ASSERT((int64_t)ts + epoch == t, "\"%s\": ts %u", s, ts);
}

static int
sysexit(int code)
{
	return code == 0 || (code >= EX__BASE && code <= EX__MAX);
}

static void
run_verb(int (*verb)(int, char **), const char *name, char *text)
{
	char *argv[MAX_ARGS + 2], *p;
	int argc = 1, code;

	argv[0] = (char *)name;
	for (p = strtok(text, "\n"); p != NULL && argc <= MAX_ARGS;
	     p = strtok(NULL, "\n"))
		argv[argc++] = p;
	argv[argc] = NULL;
	code = verb(argc, argv);
	FUZZ_ASSERT(sysexit(code), "%s exits %d", name, code);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int64_t epochs[] = {0, 1700000000, 4294967295LL};
	char *text;

	if (size < 1 || size > 4096)
		return 0;
	if ((text = strndup((const char *)data + 1, size - 1)) == NULL)
		return 0;
	switch (data[0] % 6) {
	case 0:
		check_id(text);
		break;
	case 1:
		check_time(text, epochs[(data[0] / 6) % 3]);
		break;
	case 2:
		run_verb(ctl_decode, "decode", text);
		break;
	case 3:
		run_verb(ctl_range, "range", text);
		break;
	case 4:
		run_verb(ctl_encode, "encode", text);
		break;
	default:
		/* decode reads IDs from stdin when given none. */
		check_id(text);
		check_time(text, 0);
		break;
	}
	free(text);
	return 0;
}
