/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * genidctl.h - the verbs of the admin CLI and the helpers they share.
 *
 * Each verb takes its own argv (argv[0] is the verb's name) and returns an
 * exit code from sysexits.h.
 */
#ifndef GENID_CLI_GENIDCTL_H
#define GENID_CLI_GENIDCTL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "id.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

/* The configuration file of check when -c names none. */
#define CTL_DEFAULT_CONFIG SYSCONFDIR "/genid.json"

/* Width of a uint64_t in decimal. */
#define CTL_U64_LEN 21

/* The default --timeout of the verbs that ask a server, in ms. */
#define CTL_TIMEOUT_MS 2000

/* Decodes IDs given as arguments or read from stdin. */
int ctl_decode(int argc, char **argv);

/* Packs fields into an ID. */
int ctl_encode(int argc, char **argv);

/* The smallest and largest ID of a time span, for SQL. */
int ctl_range(int argc, char **argv);

/* Prints the counters of a state file. */
int ctl_stats(int argc, char **argv);

/* Asks a running genid for its INFO. */
int ctl_info(int argc, char **argv);

/* Fetches IDs from a running genid. */
int ctl_get(int argc, char **argv);

/* Validates a configuration file, and optionally asks its peers. */
int ctl_check(int argc, char **argv);

struct cfg;

/*
 * Reads the configuration at path (NULL: the built-in defaults) into a
 * new struct cfg, as genid does: it, or NULL with the reason printed and
 * the exit code in *code (EX_CONFIG, EX_OSERR).  free() it.
 */
struct cfg *ctl_config(const char *path, int *code);

/* Lists the machine ids held in etcd (coordination). */
int ctl_fleet(int argc, char **argv);

/*
 * Prints a verb's usage line (and with full, its options) to stdout when
 * asked for help, else the usage line to stderr.  Returns the exit code:
 * 0 for help, EX_USAGE otherwise.
 */
int ctl_usage(const char *verb, int help);

/* Resets getopt_long for a verb's own argv. */
void ctl_getopt_reset(void);

/*
 * Parses the value of option name, a number in min..max (decimal or
 * 0x-hex).  0, or -1 with the reason already printed (exit EX_USAGE).
 */
int ctl_parse_uint(
    const char *name, const char *s, uint64_t min, uint64_t max, uint64_t *v);

/* Parses a --timeout value in milliseconds (1..3600000); as above. */
int ctl_parse_timeout(const char *s, uint64_t *ms);

/*
 * Parses an --epoch value: Unix seconds or ISO 8601, neither negative nor
 * in the future (genid refuses such an epoch).  0, or -1 with the reason
 * already printed (exit EX_USAGE).
 */
int ctl_parse_epoch(const char *s, int64_t *epoch);

/* The epoch of the IDs a verb works on, as its options give it. */
struct ctl_epoch {
	const char *arg;    /* --epoch as given, or NULL */
	const char *config; /* -c as given, or NULL */
	int64_t epoch;	    /* the result: 0 when neither is given */
};

/*
 * Sets e->epoch from --epoch or from the configuration -c names (read as
 * genid reads it), not both.  0, or the exit code with the reason already
 * printed: EX_USAGE for a bad or doubly given epoch, EX_CONFIG for a bad
 * configuration.
 */
int ctl_epoch_resolve(struct ctl_epoch *e);

/*
 * Warns once a run, on stderr, when id's time with this epoch lies before
 * 2000 or well in the future: the epoch likely is not the IDs' own.
 */
void ctl_note_time(uint64_t id, int64_t epoch);

/* Copies s into buf for an error message: control bytes as '?', cut. */
const char *ctl_quote(const char *s, char *buf, size_t len);

/* Formats the decoded fields of id on one aligned line (no newline). */
void ctl_id_line(FILE *out, uint64_t id, int64_t epoch);

/* Prints the decoded fields of id as one JSON object on one line. */
int ctl_id_json(FILE *out, uint64_t id, int64_t epoch);

/* Flushes stdout; returns code, or EX_IOERR when writing failed. */
int ctl_finish(int code);

#endif
