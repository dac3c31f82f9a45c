/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sock.c - listening sockets and the names of socket addresses.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "log.h"
#include "sock.h"

/* The backlog of a listening socket; the kernel caps it at somaxconn. */
#define SOCK_BACKLOG 4096

static int listen_one(
    const struct addrinfo *ai, const char *name, char *err, size_t errlen);
static int listen_all(const struct cfg_addr *addrs, unsigned naddrs, int *fds,
    size_t maxfds, char *err, size_t errlen);

const char *
sock_name(int fd, enum sock_end end, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	char host[NI_MAXHOST], port[NI_MAXSERV];
	int rc;

	rc = end == SOCK_LOCAL
	    ? getsockname(fd, (struct sockaddr *)&ss, &sslen)
	    : getpeername(fd, (struct sockaddr *)&ss, &sslen);
	if (rc == -1 ||
	    getnameinfo((struct sockaddr *)&ss, sslen, host, sizeof(host), port,
		sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(buf, len, "fd %d", fd);
		return buf;
	}
	return addr_format(host, (unsigned)strtoul(port, NULL, 10), buf, len);
}

static int
listen_one(
    const struct addrinfo *ai, const char *name, char *err, size_t errlen)
{
	int fd, one = 1;

	if ((fd = socket(ai->ai_family,
		 ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		 ai->ai_protocol)) == -1) {
		snprintf(err, errlen, "socket %s: %s", name, strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ai->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
		snprintf(err, errlen, "bind %s: %s", name, strerror(errno));
		close(fd);
		return -1;
	}
	if (listen(fd, SOCK_BACKLOG) == -1) {
		snprintf(err, errlen, "listen %s: %s", name, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Binds and listens on every address of addrs, logging nothing: the
 * number of sockets put in fds, or -1 with the reason in err.
 */
static int
listen_all(const struct cfg_addr *addrs, unsigned naddrs, int *fds,
    size_t maxfds, char *err, size_t errlen)
{
	struct addrinfo hints, *res, *ai;
	char port[8], name[CFG_HOST_LEN + 16];
	unsigned i;
	int n = 0, rc, fd, saved;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	for (i = 0; i < naddrs; i++) {
		const struct cfg_addr *a = &addrs[i];

		snprintf(port, sizeof(port), "%u", a->port);
		addr_format(
		    a->host[0] ? a->host : "*", a->port, name, sizeof(name));
		if ((rc = getaddrinfo(a->host[0] ? a->host : NULL, port, &hints,
			 &res)) != 0) {
			snprintf(err, errlen, "resolve %s: %s", name,
			    gai_strerror(rc));
			goto fail;
		}
		for (ai = res; ai != NULL; ai = ai->ai_next) {
			if ((size_t)n == maxfds) {
				snprintf(err, errlen,
				    "listen %s: more than %zu sockets", name,
				    maxfds);
				freeaddrinfo(res);
				goto fail;
			}
			if ((fd = listen_one(ai, name, err, errlen)) == -1) {
				freeaddrinfo(res);
				goto fail;
			}
			fds[n++] = fd;
		}
		freeaddrinfo(res);
	}
	return n;
fail:
	saved = errno;
	while (n > 0)
		close(fds[--n]);
	errno = saved;
	return -1;
}

int
sock_listen(const struct cfg_addr *addrs, unsigned naddrs, const char *what,
    int *fds, size_t maxfds, char *err, size_t errlen)
{
	char bound[SOCK_NAME_LEN];
	int i, n;

	if ((n = listen_all(addrs, naddrs, fds, maxfds, err, errlen)) == -1)
		return -1;
	for (i = 0; i < n; i++)
		log_info("%s on %s", what,
		    sock_name(fds[i], SOCK_LOCAL, bound, sizeof(bound)));
	return n;
}

int
sock_probe(const struct cfg_addr *a, int *in_use, char *err, size_t errlen)
{
	int fds[SOCK_MAX_FDS], n;

	*in_use = 0;
	errno = 0;
	if ((n = listen_all(a, 1, fds, SOCK_MAX_FDS, err, errlen)) == -1) {
		*in_use = errno == EADDRINUSE;
		return -1;
	}
	while (n > 0)
		close(fds[--n]);
	return 0;
}
