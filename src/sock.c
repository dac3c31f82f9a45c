/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sock.c - listening sockets and the names of socket addresses.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
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
static int lacks_loopback(const struct addrinfo *ai, int error);
static void add_line(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int listen_all(const struct cfg_addr *addrs, unsigned naddrs, int *fds,
    size_t maxfds, char *skipped, size_t skippedlen, char *err, size_t errlen);

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

/* A socket listening on ai, or -1 with the reason in err and errno. */
static int
listen_one(
    const struct addrinfo *ai, const char *name, char *err, size_t errlen)
{
	const char *call = "socket";
	int fd, one = 1, saved;

	if ((fd = socket(ai->ai_family,
		 ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		 ai->ai_protocol)) == -1)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ai->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	call = "bind";
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) == -1)
		goto fail;
	call = "listen";
	if (listen(fd, SOCK_BACKLOG) == -1)
		goto fail;
	return fd;
fail:
	saved = errno;
	snprintf(err, errlen, "%s %s: %s", call, name, strerror(saved));
	if (fd != -1)
		close(fd);
	errno = saved;
	return -1;
}

/*
 * Whether a socket on ai failed with error because this host has no such
 * loopback address: ::1 where IPv6 is off or absent (EADDRNOTAVAIL,
 * EAFNOSUPPORT).  Such an address is skipped, as Redis skips "-::1".
 */
static int
lacks_loopback(const struct addrinfo *ai, int error)
{
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;

	if (error != EADDRNOTAVAIL && error != EAFNOSUPPORT)
		return 0;
	if (ai->ai_family == AF_INET) {
		sin = (const struct sockaddr_in *)(const void *)ai->ai_addr;
		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	}
	if (ai->ai_family == AF_INET6) {
		sin6 = (const struct sockaddr_in6 *)(const void *)ai->ai_addr;
		return IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
	}
	return 0;
}

/* Appends one line to the lines in buf. */
static void
add_line(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used > 0 && used + 1 < len) {
		buf[used++] = '\n';
		buf[used] = '\0';
	}
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

/*
 * Binds and listens on every address of addrs, logging nothing: the
 * number of sockets put in fds (0 when every one was skipped), or -1 with
 * the reason in err.  A loopback address this host lacks is skipped, a
 * line of skipped saying which and why; every other failure is one.
 */
static int
listen_all(const struct cfg_addr *addrs, unsigned naddrs, int *fds,
    size_t maxfds, char *skipped, size_t skippedlen, char *err, size_t errlen)
{
	struct addrinfo hints, *res, *ai;
	char port[8], name[CFG_HOST_LEN + 16];
	unsigned i;
	int n = 0, rc, fd, saved;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	skipped[0] = '\0';
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
			if ((fd = listen_one(ai, name, err, errlen)) != -1) {
				fds[n++] = fd;
				continue;
			}
			if (!lacks_loopback(ai, errno)) {
				freeaddrinfo(res);
				goto fail;
			}
			add_line(skipped, skippedlen, "%s", err);
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
	char bound[SOCK_NAME_LEN], skipped[1024], *line, *next;
	int i, n;

	if ((n = listen_all(addrs, naddrs, fds, maxfds, skipped,
		 sizeof(skipped), err, errlen)) == -1)
		return -1;
	for (line = skipped; line[0] != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		else
			next = line + strlen(line);
		if (n == 0) {
			snprintf(err, errlen,
			    "%s: this host has no such loopback address, and"
			    " no other address is given to listen on",
			    line);
			return -1;
		}
		log_warnx("%s: %s: this host has no such loopback address:"
			  " skipped, genid listens on the others",
		    what, line);
	}
	for (i = 0; i < n; i++)
		log_info("%s on %s", what,
		    sock_name(fds[i], SOCK_LOCAL, bound, sizeof(bound)));
	return n;
}

int
sock_probe(const struct cfg_addr *a, int *in_use, char *skipped,
    size_t skippedlen, char *err, size_t errlen)
{
	int fds[SOCK_MAX_FDS], n, bound;

	*in_use = 0;
	errno = 0;
	if ((n = listen_all(a, 1, fds, SOCK_MAX_FDS, skipped, skippedlen, err,
		 errlen)) == -1) {
		*in_use = errno == EADDRINUSE;
		return -1;
	}
	bound = n;
	while (n > 0)
		close(fds[--n]);
	return bound;
}
