/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * addr.h - the address strings of the configuration and the command line:
 * "host", "host:port", "[v6]", "[v6]:port" and a bare IPv6 address;
 * host:port for messages; and whether a host is loopback.
 */
#ifndef GENID_CORE_ADDR_H
#define GENID_CORE_ADDR_H

#include <stddef.h>

/*
 * Splits s into host (hostlen bytes with the NUL) and port.  Without a
 * port *has_port is 0 and *port untouched.  0, or -1 with the reason in
 * err.  The host may be empty (":3778": any address).
 */
int addr_parse(const char *s, char *host, size_t hostlen, unsigned *port,
    int *has_port, char *err, size_t errlen);

/*
 * Writes host and port to buf (len bytes, cut to fit) as "host:port", or
 * "[host]:port" for an IPv6 host, which has colons; returns buf.
 */
const char *addr_format(const char *host, unsigned port, char *buf, size_t len);

/*
 * Whether host is a loopback address: 127.0.0.0/8, ::1 (or an IPv4-mapped
 * 127.x), or the name "localhost".  The empty host (any address) and
 * every other name are not.  1 or 0.
 */
int addr_is_loopback(const char *host);

#endif
