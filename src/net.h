/*
 * net.h - the blocking client side of the wire protocol (SPEC 2): connect
 * with a timeout, whole reads and writes, INFO.  genidctl and the daemon's
 * peer check use it.
 *
 * Functions return 0 or an exit code from sysexits.h (EX_NOHOST,
 * EX_UNAVAILABLE, EX_PROTOCOL ...) with the reason in err.
 */
#ifndef GENID_NET_H
#define GENID_NET_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "peer.h"

#define NET_DEFAULT_PORT 3778
#define NET_TIMEOUT_MS 2000
#define NET_HOST_LEN 256

struct net_addr {
	char host[NET_HOST_LEN];
	unsigned port;
};

struct net_conn {
	int fd;
	int timeout_ms;
	char peer[NET_HOST_LEN + 16]; /* the numeric address, for messages */
};

/*
 * Parses HOST, HOST:PORT, [IPV6] or [IPV6]:PORT (a bare IPv6 address has
 * no port).  0, or -1 with the reason in err.
 */
int net_parse_addr(const char *s, struct net_addr *a, char *err, size_t errlen);

/* HOST:PORT, with brackets around an IPv6 host (static buffer). */
const char *net_addr_str(const struct net_addr *a);

/* Resolves a and connects to the first address that answers in time. */
int net_connect(struct net_conn *c, const struct net_addr *a, int timeout_ms,
    char *err, size_t errlen);

/* Writes all of buf. */
int net_write(
    struct net_conn *c, const void *buf, size_t len, char *err, size_t errlen);

/* Reads exactly len bytes, waiting at most timeout_ms for each part. */
int net_read(
    struct net_conn *c, void *buf, size_t len, char *err, size_t errlen);

/* Sends CMD 2 and reads the INFO reply into a malloc'ed string. */
int net_info_text(
    struct net_conn *c, char **text, size_t *len, char *err, size_t errlen);

/*
 * Connects to a, asks for INFO, and returns the JSON object in *info
 * (and, when text is not NULL, the reply as received).
 */
int net_info(const struct net_addr *a, int timeout_ms, json_t **info,
    char **text, char *err, size_t errlen);

/*
 * Connects to a, asks for INFO and reads the node's identity into id.
 * 0, or the sysexits.h code that fits with the reason in err.
 */
int net_identity(const struct net_addr *a, int timeout_ms,
    struct peer_identity *id, char *err, size_t errlen);

/* Closes the connection. */
void net_close(struct net_conn *c);

#endif
