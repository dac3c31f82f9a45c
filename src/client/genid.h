/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * genid.h - client library of the genid 64-bit unique ID service.
 *
 * A client holds one TCP connection at a time to one of a list of genid
 * servers and fails over to the next address when a server cannot be
 * reached, times out or closes the connection.  IDs strictly increase on
 * one connection only: after a failover they come from another bucket or
 * node, unique but ordered against the earlier ones only by their
 * timestamps.
 *
 * There is no global state.  A client is used by one thread at a time;
 * give each thread its own.  See libgenid(3).
 */
#ifndef GENID_H
#define GENID_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The port of an address given without one. */
#define GENID_PORT 3778

/* The most IDs genid_open accepts for prefetch (one bucket's second). */
#define GENID_PREFETCH_MAX 65536

/* Settings of genid_open; a field left 0 takes its default. */
struct genid_options {
	int connect_timeout_ms; /* per address and attempt (1000) */
	int io_timeout_ms;	/* longest wait for the server to move (1000) */
	size_t prefetch;	/* IDs fetched ahead for genid_next (0: none) */
	int64_t epoch;		/* the servers' epoch in Unix seconds (0) */
};

/* The fields of an ID (bit 63 first): 32, 5, 3, 3, 5 and 16 bits. */
struct genid_fields {
	uint32_t ts;	  /* seconds since the epoch */
	unsigned zone;	  /* 0..31 */
	unsigned dc;	  /* 0..7 */
	unsigned machine; /* 0..7 */
	unsigned bucket;  /* 0..31 */
	unsigned counter; /* 0..65535 */
};

struct genid_client;

/*
 * Makes a client for the n addresses ("host", "host:port", "[v6]:port");
 * opt may be NULL.  No connection is made before the first request.
 * Returns NULL with errno EINVAL (bad argument) or ENOMEM.
 */
struct genid_client *genid_open(
    const char *const *addrs, size_t n, const struct genid_options *opt);

/* Stores one ID in *id.  0, or -1 when no server answered. */
int genid_next(struct genid_client *c, uint64_t *id);

/*
 * Stores n IDs in ids.  Returns n; fewer (the IDs got before the last
 * server failed, all valid), or -1 when none came and no server answered.
 */
ssize_t genid_bulk(struct genid_client *c, uint64_t *ids, size_t n);

/*
 * Asks a server for its INFO JSON and copies it, truncated to len - 1
 * bytes and NUL-terminated, to json.  Returns its full length, or -1.
 */
int genid_info(struct genid_client *c, char *json, size_t len);

/* The text of the last error of c ("no error" before the first). */
const char *genid_strerror(const struct genid_client *c);

/* The address of the server c is connected to, or NULL. */
const char *genid_server(const struct genid_client *c);

/* Closes the connection and frees c; NULL is ignored. */
void genid_close(struct genid_client *c);

/* Splits an ID into its fields. */
void genid_decode(uint64_t id, struct genid_fields *f);

/*
 * Packs fields into an ID.  A field out of range gives 0 with errno
 * EINVAL (set errno to 0 first to tell it from the ID 0).
 */
uint64_t genid_encode(const struct genid_fields *f);

/* The Unix time of an ID's timestamp under the epoch of c's options. */
int64_t genid_time(const struct genid_client *c, uint64_t id);

#ifdef __cplusplus
}
#endif

#endif
