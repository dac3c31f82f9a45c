/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nodefields.h - a node's own fields in one table, for /metrics and --json.
 */
#ifndef GENID_NODEFIELDS_H
#define GENID_NODEFIELDS_H

#include <stddef.h>
#include <stdint.h>

#include "counters.h"

struct metrics_snap;

/* How a node row's value is read and shown. */
enum nodefield_kind {
	NODEFIELD_INT,	  /* a signed integer */
	NODEFIELD_UINT,	  /* an unsigned integer */
	NODEFIELD_U32,	  /* an unsigned 32-bit field of the header */
	NODEFIELD_REAL,	  /* "%.*f" with digits in /metrics, a JSON real */
	NODEFIELD_BOOL,	  /* 0 or 1 in /metrics, a JSON true or false */
	NODEFIELD_STRING, /* a JSON string; {label="it"} 1 in /metrics */
	NODEFIELD_LABELS, /* a whole label set: {it} 1 in /metrics */
};

/* A node row's value, in the member its kind says. */
struct nodefield_value {
	int64_t i;  /* INT, BOOL */
	uint64_t u; /* UINT, U32 */
	double d;   /* REAL */
	char s[96]; /* STRING, LABELS */
};

/*
 * One node-level value of the state file (its header, or what the reader
 * derives from it): where /metrics and genidctl stats --json show it.
 * Rows are in the print order of both; a row with both prom and json is
 * shown by both, and where their orders, or what they show of a field,
 * differ the field has a row for each.
 */
struct nodefield {
	const char *prom; /* family in /metrics, NULL: not there */
	const char *help; /* its HELP line */
	enum counters_type type;
	const char *label; /* NODEFIELD_STRING: the label of /metrics */
	int digits;	   /* NODEFIELD_REAL: decimals in /metrics */
	int tail; /* in /metrics after the bucket and worker families */
	const char *group; /* JSON: the object the key is in, NULL: the top */
	const char *json;  /* JSON key, NULL: not in the JSON */
	enum nodefield_kind kind;
	/*
	 * The value: computed by get, or without one the header field at
	 * off (offsetof struct state_header), divided by scale for REAL.
	 */
	void (*get)(const struct metrics_snap *s, struct nodefield_value *v);
	size_t off;
	double scale;
};

/* The rows of the node table, in print order; *n is set to their number. */
const struct nodefield *nodefields_table(size_t *n);

/* Row r's value in s. */
void nodefields_value(const struct metrics_snap *s, const struct nodefield *r,
    struct nodefield_value *v);

#endif
