/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * idkeys.h - the etcd keys of machine ids and their records, as genid
 * writes them and genidctl fleet reads them (genid(8), "Identity").
 *
 * Under coordination.prefix P, the key P/machines/Z/D/M names the node
 * holding machine M of dc D in zone Z, as a JSON object {"node", "host",
 * "boot", "pid", "listen", "since", "lease"}; a lease holds it, so it goes
 * when its node stops renewing.  P/checkpoints/Z/D/M has no lease: its
 * {"checkpoint", "node"} keeps the highest second (Unix time) machine M's
 * holders may have issued, and which node wrote it.
 */
#ifndef GENID_IDKEYS_H
#define GENID_IDKEYS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "claim.h"

/* The two kinds of key. */
#define IDKEYS_MACHINES "machines"
#define IDKEYS_CHECKPOINTS "checkpoints"

/* Writes the key P/kind/Z/D/M to key (len bytes, cut to fit). */
void idkeys_key(char *key, size_t len, const char *prefix, const char *kind,
    unsigned zone, unsigned dc, unsigned machine);

/* Writes the start of every key of kind, "P/kind/", to out. */
void idkeys_kind_dir(
    char *out, size_t len, const char *prefix, const char *kind);

/* Writes the start of the keys of kind of one dc, "P/kind/Z/D/", to out. */
void idkeys_dc_dir(char *out, size_t len, const char *prefix, const char *kind,
    unsigned zone, unsigned dc);

/*
 * Reads zone, dc and machine from a key of kind under prefix: 0, or -1
 * for any other key.
 */
int idkeys_parse(const char *key, const char *prefix, const char *kind,
    unsigned *zone, unsigned *dc, unsigned *machine);

/*
 * The machine key's value for node self, whose process pid holds it with
 * lease and serves listen (a JSON array of addresses): a string to free,
 * or NULL (out of memory).
 */
char *idkeys_holder_value(const struct claim_node *self, pid_t pid,
    const char *listen, int64_t lease);

/*
 * Reads the holder a machine key's value names into *by, desc (for
 * messages: "node N on HOST (pid P, ADDR)") and addr (its first address,
 * "" when none): 0, or -1 when the value is not genid's.
 */
int idkeys_parse_holder(const char *value, struct claim_node *by, char *desc,
    size_t desc_len, char *addr, size_t addr_len);

/* Writes the checkpoint key's value (at in Unix time, by node) to out. */
void idkeys_checkpoint_value(char *out, size_t len, int64_t at, uint64_t node);

/*
 * Reads a checkpoint key's value: *at (0 when it has no integer
 * "checkpoint") and *node (its writer, 0 when none); 0, or -1 when the
 * value is not genid's record.
 */
int idkeys_parse_checkpoint(const char *value, int64_t *at, uint64_t *node);

#endif
