/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * addr.c - split address strings into host and port, and join them.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

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
