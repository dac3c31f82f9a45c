/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cidr.h - address prefixes ("127.0.0.0/8", "::1/128", "127.0.0.1") and
 * whether a client's address falls in one of them (the "allow" list).
 */
#ifndef GENID_CORE_CIDR_H
#define GENID_CORE_CIDR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct cidr {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	unsigned prefix; /* bits that must match */
};

/*
 * Reads a numeric IPv4 or IPv6 address with an optional /prefix (the
 * whole address without one) into c.  0, or -1 with the reason, which
 * quotes s, in err.
 */
int cidr_parse(const char *s, struct cidr *c, char *err, size_t errlen);

/*
 * Whether the address of sa (AF_INET or AF_INET6; an IPv4-mapped IPv6
 * address counts as IPv4) falls in one of the n prefixes of list.
 * Another family matches nothing.
 */
int cidr_match(const struct cidr *list, unsigned n, const struct sockaddr *sa);

#endif
