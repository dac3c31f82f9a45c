/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * counters.h - the one list of the bucket and worker counters of the state
 * file (struct state_bucket, struct state_worker in state.h): their JSON
 * keys, Prometheus families, help texts and text-screen columns.
 *
 * genidctl stats (text and --json), genidctl stats --prometheus and the
 * master's /metrics all print these tables row by row, in table order.
 * Adding a counter is one field in state.h and one row here.
 */
#ifndef GENID_CORE_COUNTERS_H
#define GENID_CORE_COUNTERS_H

#include <stddef.h>
#include <stdint.h>

/* The Prometheus type of a counter. */
enum counters_type {
	COUNTERS_COUNTER, /* only goes up (reset by a new state file) */
	COUNTERS_GAUGE,	  /* a value now, goes up and down */
};

/* Which slot of the state file a table describes, or a row reads. */
enum counters_slot {
	COUNTERS_BUCKET, /* struct state_bucket */
	COUNTERS_WORKER, /* struct state_worker */
};

/* One counter: the field it reads and how each reader shows it. */
struct counters_def {
	const char *json; /* key in genidctl stats --json */
	const char *prom; /* Prometheus family, labelled bucket= or worker= */
	const char *help; /* its HELP line */
	enum counters_type type;
	/*
	 * The slot off points into.  A row of the worker table that reads
	 * COUNTERS_BUCKET shows that bucket field summed over the buckets
	 * the worker owns.
	 */
	enum counters_slot in;
	size_t off;	    /* offsetof the 64-bit field in its struct */
	const char *column; /* text-screen heading, NULL: not on the screen */
	int width;	    /* that column's width */
	/*
	 * Bucket table only: the phrase after the sum over all buckets on
	 * the screen's total line (NULL: not on it); with total_aside, in
	 * parentheses after the previous phrase instead of after a comma.
	 */
	const char *total;
	int total_aside;
};

/* The rows of the table for slot, in print order; *n is set to their
 * number. */
const struct counters_def *counters_table(enum counters_slot slot, size_t *n);

/* The 64-bit field at offset off of slot (a struct state_bucket or
 * state_worker, as a row's in says). */
uint64_t counters_field(const void *slot, size_t off);

/* "counter" or "gauge", as the Prometheus TYPE line spells it. */
const char *counters_type_name(enum counters_type type);

#endif
