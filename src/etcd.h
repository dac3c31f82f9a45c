/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * etcd.h - the few calls genid makes to etcd's v3 JSON gateway (lease
 * grant, keep-alive and revoke, range, transaction), over HTTP with
 * libcurl.  Blocking, with short timeouts: the start-up claim and the
 * coordination process call it, never the master's loop or a worker.
 */
#ifndef GENID_ETCD_H
#define GENID_ETCD_H

#include <jansson.h>
#include <stdint.h>

#include "config.h"

#define ETCD_KEY_LEN 384 /* coordination.prefix (< 256) and what genid adds */
#define ETCD_VALUE_LEN 1024

struct etcd {
	void *curl; /* CURL * */
	char urls[CFG_MAX_ETCD][CFG_HOST_LEN + 32];
	unsigned n;
	unsigned cur;	 /* the endpoint that answered last */
	long timeout_ms; /* one request to one endpoint */
	int unreachable; /* the last call failed: no endpoint answered */
	char err[512];	 /* why the last call failed */
	/* Set when a call moved on to another endpoint: why the ones before
	 * failed, and which one answered.  The caller logs and clears it. */
	char failover[600];
};

struct etcd_kv {
	char key[ETCD_KEY_LEN];
	char value[ETCD_VALUE_LEN];
	int64_t lease;
	int64_t create_revision;
	int64_t mod_revision;
};

/* Once per process, before any thread (curl_global_init); 0 or -1. */
int etcd_global_init(void);

/*
 * Sets up a client of the endpoints of c (coordination.etcd); 0, or -1
 * with the reason in e->err.  Each process opens its own.
 */
int etcd_open(struct etcd *e, const struct cfg *c, long timeout_ms);
void etcd_close(struct etcd *e);

/* A lease of ttl seconds: 0 with its id in *lease, or -1. */
int etcd_grant(struct etcd *e, unsigned ttl, int64_t *lease);

/* Renews lease: 0 with the seconds granted in *ttl (0: the lease is gone,
 * expired or revoked), or -1 when etcd did not answer. */
int etcd_keepalive(struct etcd *e, int64_t lease, int64_t *ttl);

/* Ends lease and deletes its keys: 0, or -1. */
int etcd_revoke(struct etcd *e, int64_t lease);

/*
 * The keys from key up to end (exclusive; NULL: key alone) into kvs, at
 * most max: the number of keys (maybe more than max), or -1.
 */
long etcd_range(struct etcd *e, const char *key, const char *end,
    struct etcd_kv *kvs, unsigned max);

/* The end of the range of every key that starts with prefix. */
void etcd_prefix_end(const char *prefix, char *end, size_t len);

/*
 * The pieces of a transaction, built with jansson (each returns a new
 * reference, NULL only when memory runs out).
 */
json_t *etcd_cmp_created(const char *key, int64_t create_revision);
json_t *etcd_cmp_modified(const char *key, int64_t mod_revision);
json_t *etcd_cmp_lease(const char *key, int64_t lease);
json_t *etcd_op_put(const char *key, const char *value, int64_t lease);
json_t *etcd_op_range(const char *key);

/*
 * Runs the transaction "if every compare holds, success, else failure"
 * (the arrays are taken over).  0 with *succeeded and, when kvs is not
 * NULL, the first key that a range operation of the branch taken returned
 * in *kvs (kvs->key[0] == '\0' when none); -1 when etcd did not answer or
 * refused the transaction.
 */
int etcd_txn(struct etcd *e, json_t *compare, json_t *success, json_t *failure,
    int *succeeded, struct etcd_kv *kvs);

#endif
