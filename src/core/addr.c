/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * addr.c - split address strings into host and port, join them, and
 * tell loopback hosts.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "addr.h"
#include "id.h"

int
addr_parse(const char *s, char *host, size_t hostlen, unsigned *port,
    int *has_port, char *err, size_t errlen)
{
	const char *start = s, *p = NULL, *colon;
	char why[128];
	size_t len;
	uint64_t v;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || (close[1] != '\0' && close[1] != ':')) {
			snprintf(err, errlen, "want [IPv6] or [IPv6]:port");
			return -1;
		}
		start = s + 1;
		len = (size_t)(close - start);
		if (close[1] == ':')
			p = close + 2;
	} else if ((colon = strchr(s, ':')) != NULL &&
	    strchr(colon + 1, ':') == NULL) {
		len = (size_t)(colon - s);
		p = colon + 1;
	} else {
		/* No colon, or several: a host alone (a bare IPv6 address). */
		len = strlen(s);
	}
	if (len >= hostlen) {
		snprintf(err, errlen, "host name too long");
		return -1;
	}
	memcpy(host, start, len);
	host[len] = '\0';
	*has_port = p != NULL;
	if (p == NULL)
		return 0;
	if (id_parse_uint(p, 65535, &v, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "port \"%s\": %s", p, why);
		return -1;
	}
	*port = (unsigned)v;
	return 0;
}

const char *
addr_format(const char *host, unsigned port, char *buf, size_t len)
{
	snprintf(buf, len, strchr(host, ':') != NULL ? "[%s]:%u" : "%s:%u",
	    host, port);
	return buf;
}

int
addr_is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (strcasecmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6) ||
		    (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
	return 0;
}
