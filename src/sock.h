/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sock.h - listening sockets and the names of socket addresses (after
 * Redis' anet): nothing here logs but sock_listen's "WHAT on HOST:PORT"
 * and its warning about a loopback address it skips.
 */
#ifndef GENID_SOCK_H
#define GENID_SOCK_H

#include <stddef.h>

#include "config.h"

/* Room for any socket address name: "[" host "]:" port. */
#define SOCK_NAME_LEN 64
/* Listening sockets one address list may give (a name may give two). */
#define SOCK_MAX_FDS (CFG_MAX_LISTEN * 2)

enum sock_end {
	SOCK_LOCAL,  /* the address the socket is bound to */
	SOCK_REMOTE, /* the address of the peer */
};

/*
 * Binds and listens on every address of addrs (a host name may give
 * several), logging "WHAT on HOST:PORT" for each.  A loopback address the
 * host lacks (::1 without IPv6: EADDRNOTAVAIL, EAFNOSUPPORT) is skipped
 * with a warning when another address is bound; every other failure fails
 * the call.  Returns the number of sockets put in fds, or -1 with the
 * reason in err.
 */
int sock_listen(const struct cfg_addr *addrs, unsigned naddrs, const char *what,
    int *fds, size_t maxfds, char *err, size_t errlen);

/*
 * Binds and listens on address a as sock_listen would, and closes the
 * sockets at once (genid -t).  Returns the number of sockets it could
 * bind, each loopback address the host lacks being a line of skipped
 * instead (0: all of them), or -1 with the reason in err and *in_use set
 * when another socket holds the address.
 */
int sock_probe(const struct cfg_addr *a, int *in_use, char *skipped,
    size_t skippedlen, char *err, size_t errlen);

/*
 * Names one end of socket fd as host:port ([host]:port for IPv6) in buf,
 * or "fd N" when the address cannot be had.  Returns buf.
 */
const char *sock_name(int fd, enum sock_end end, char *buf, size_t len);

#endif
