/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conn.h - a worker's client connections: bytes read are served by
 * proto_serve and the replies written, with reading paused while replies
 * are pending and a CMD 0 parked while it waits for the clock.
 */
#ifndef GENID_CONN_H
#define GENID_CONN_H

#include <ev.h>

#include "proto.h"

struct conns;

/* What a worker is told by its connections. */
struct conns_hooks {
	/* A connection began to wait for the clock: call conns_wake soon. */
	void (*wait)(void *arg);
	/* A connection was closed and its counters updated. */
	void (*gone)(void *arg);
	/* The state file changed under the node (PROTO_DAMAGED): the worker
	 * must issue nothing more; it does not return. */
	void (*damaged)(void *arg, const struct proto_damage *d);
};

/*
 * A set of connections served in loop from node; the hooks get arg.
 * Returns NULL when out of memory.
 */
struct conns *conns_new(struct ev_loop *loop, const struct proto_node *node,
    const struct conns_hooks *hooks, void *arg);

/* Serves accepted socket fd from bucket.  0, or -1 when out of memory. */
int conn_open(struct conns *cs, int fd, unsigned bucket);

/* The connections open now. */
unsigned conns_count(const struct conns *cs);

/* The reads served since the last call (how busy the loop is). */
unsigned conns_reads(struct conns *cs);

/*
 * Closes the connections idle for timeout seconds or more.  Returns the
 * seconds until the next one may be.
 */
double conns_close_idle(struct conns *cs, double timeout);

/* Lets every connection waiting for the clock try again. */
void conns_wake(struct conns *cs);

/*
 * Stops reading on every connection; each is closed once what it read was
 * answered and written.
 */
void conns_shutdown(struct conns *cs);

#endif
