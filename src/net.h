/*
 * net.h - what the daemon and genidctl ask a genid server, through
 * libgenid (src/client): its INFO, the identity in it, and the exit code
 * that fits a failure.  Nothing here logs: the callers decide how loud to
 * be.
 */
#ifndef GENID_NET_H
#define GENID_NET_H

#include <stddef.h>

#include <jansson.h>

#include "peer.h"

struct genid_client;

/* The sysexits.h code for the errno of a failed libgenid call. */
int net_exit_code(int errnum);

/* Writes host:port, with brackets around an IPv6 host, to buf; returns buf. */
const char *net_name(const char *host, unsigned port, char *buf, size_t len);

/*
 * Asks the server of c for INFO.  Returns 0 with the JSON object in *info
 * and, when text is not NULL, the reply as received in a malloc'ed
 * string; or the sysexits.h code that fits with the reason in err.
 */
int net_info(struct genid_client *c, json_t **info, char **text, char *err,
    size_t errlen);

/*
 * Asks the genid at addr ("host:port") for INFO, waiting at most
 * timeout_ms to connect and for the reply, and reads the node's identity
 * into id.  0, or the sysexits.h code that fits with the reason in err.
 */
int net_identity(const char *addr, int timeout_ms, struct peer_identity *id,
    char *err, size_t errlen);

#endif
