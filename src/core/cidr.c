/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cidr.c - parse address prefixes and match addresses against them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"

static int prefix_match(const uint8_t *a, const uint8_t *b, unsigned bits);

int
cidr_parse(const char *s, struct cidr *c, char *err, size_t errlen)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t hlen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	unsigned long p;
	unsigned max;
	char *end;

	if (hlen >= sizeof(host)) {
		snprintf(err, errlen, "\"%s\" is not an address/prefix", s);
		return -1;
	}
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	memset(c->addr, 0, sizeof(c->addr));
	if (inet_pton(AF_INET, host, c->addr) == 1) {
		c->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, host, c->addr) == 1) {
		c->family = AF_INET6;
		max = 128;
	} else {
		snprintf(err, errlen,
		    "\"%s\" is not a numeric IPv4 or IPv6 address (CIDR like"
		    " 127.0.0.0/8 or ::1/128)",
		    s);
		return -1;
	}
	c->prefix = max;
	if (slash == NULL)
		return 0;
	errno = 0;
	p = strtoul(slash + 1, &end, 10);
	if (slash[1] == '\0' || *end != '\0' || errno != 0 || p > max) {
		snprintf(
		    err, errlen, "\"%s\": prefix length must be 0..%u", s, max);
		return -1;
	}
	c->prefix = (unsigned)p;
	return 0;
}

static int
prefix_match(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((a[full] ^ b[full]) & (0xff << (8 - rest))) == 0;
}

int
cidr_match(const struct cidr *list, unsigned n, const struct sockaddr *sa)
{
	static const uint8_t mapped[12] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	const uint8_t *addr;
	int family = sa->sa_family;
	unsigned i;

	if (family == AF_INET)
		addr = (const uint8_t *)&(
		    (const struct sockaddr_in *)(const void *)sa)
			   ->sin_addr;
	else if (family == AF_INET6) {
		addr = ((const struct sockaddr_in6 *)(const void *)sa)
			   ->sin6_addr.s6_addr;
		/* An IPv4 client on an IPv6 socket matches IPv4 entries. */
		if (memcmp(addr, mapped, sizeof(mapped)) == 0) {
			addr += 12;
			family = AF_INET;
		}
	} else
		return 0;
	for (i = 0; i < n; i++)
		if (list[i].family == family &&
		    prefix_match(list[i].addr, addr, list[i].prefix))
			return 1;
	return 0;
}
