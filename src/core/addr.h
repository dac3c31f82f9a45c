/*
 * addr.h - the address strings of the configuration and the command line:
 * "host", "host:port", "[v6]", "[v6]:port" and a bare IPv6 address.
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

#endif
