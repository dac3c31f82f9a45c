/*
 * conn.h - one client connection: frames in, IDs out.
 */
#ifndef GENID_CONN_H
#define GENID_CONN_H

#include <ev.h>
#include <stdint.h>

struct worker;

struct conn {
	ev_io io; /* first: the watcher is the connection */
	struct worker *w;
	struct conn *prev; /* the worker's activity list */
	struct conn *next;
	struct conn *next_wait; /* the worker's list of CMD 0 waiting */
	uint8_t *in;  /* input not served yet (whole frames while output is
			 pending or a CMD 0 waits, else half a frame) */
	uint8_t *out; /* output not written yet, only while some is left */
	uint32_t in_len;
	uint32_t out_len;
	uint32_t out_off;
	ev_tstamp last_active; /* for the idle timeout */
	uint8_t bucket;	       /* index into the state bucket table */
	uint8_t slot;	       /* index into the worker's own bucket list */
	uint8_t waiting : 1;   /* a CMD 0 waits for the clock */
	uint8_t closing : 1;   /* bad request: close once the output is out */
	uint8_t draining : 1;  /* shutdown: read no more, serve what was read */
};

/* Sets up a connection on an accepted socket and starts reading. */
struct conn *conn_new(struct worker *w, int fd, unsigned slot);

/* Serves input that was held back (clock wait over); may close c. */
void conn_resume(struct conn *c);

/* Closes the socket and frees everything the connection holds. */
void conn_close(struct conn *c);

/* On shutdown: read no more; serve and write what was read, then close. */
void conn_shutdown(struct conn *c);

#endif
