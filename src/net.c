/*
 * net.c - the blocking client side of the wire protocol (SPEC 2): connect
 * with a timeout, read and write whole frames, ask for INFO.  Used by
 * genidctl and by the daemon's peer check.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sysexits.h>
#include <unistd.h>

#include "addr.h"
#include "net.h"

static int connect_one(
    struct net_conn *c, const struct addrinfo *ai, char *err, size_t errlen);
static int wait_fd(struct net_conn *c, short events, const char *what,
    char *err, size_t errlen);

int
net_parse_addr(const char *s, struct net_addr *a, char *err, size_t errlen)
{
	int has_port;

	if (addr_parse(s, a->host, sizeof(a->host), &a->port, &has_port, err,
		errlen) == -1)
		return -1;
	if (a->host[0] == '\0') {
		snprintf(err, errlen, "no host");
		return -1;
	}
	if (!has_port)
		a->port = NET_DEFAULT_PORT;
	else if (a->port == 0) {
		snprintf(err, errlen, "port 0: want 1..65535");
		return -1;
	}
	return 0;
}

const char *
net_addr_str(const struct net_addr *a)
{
	static char buf[NET_HOST_LEN + 16];

	snprintf(buf, sizeof(buf),
	    strchr(a->host, ':') != NULL ? "[%s]:%u" : "%s:%u", a->host,
	    a->port);
	return buf;
}

int
net_connect(struct net_conn *c, const struct net_addr *a, int timeout_ms,
    char *err, size_t errlen)
{
	struct addrinfo hints, *res, *ai;
	char port[8];
	int r, code = EX_UNAVAILABLE;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(port, sizeof(port), "%u", a->port);
	if ((r = getaddrinfo(a->host, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "resolve %s: %s", a->host,
		    r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
		return EX_NOHOST;
	}
	c->fd = -1;
	c->timeout_ms = timeout_ms;
	for (ai = res; ai != NULL; ai = ai->ai_next)
		if ((code = connect_one(c, ai, err, errlen)) == 0)
			break;
	freeaddrinfo(res);
	return code;
}

static int
connect_one(
    struct net_conn *c, const struct addrinfo *ai, char *err, size_t errlen)
{
	char host[NI_MAXHOST], serv[NI_MAXSERV];
	int one = 1, soerr = 0, code;
	socklen_t sl = sizeof(soerr);

	if (getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof(host), serv,
		sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		snprintf(host, sizeof(host), "?");
	snprintf(c->peer, sizeof(c->peer),
	    ai->ai_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, serv);
	c->fd = socket(ai->ai_family,
	    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	if (c->fd == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return EX_OSERR;
	}
	if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) == -1) {
		if (errno != EINPROGRESS) {
			snprintf(err, errlen, "connect %s: %s", c->peer,
			    strerror(errno));
			net_close(c);
			return EX_UNAVAILABLE;
		}
		if ((code = wait_fd(c, POLLOUT, "connect", err, errlen)) != 0) {
			net_close(c);
			return code;
		}
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == -1)
			soerr = errno;
		if (soerr != 0) {
			snprintf(err, errlen, "connect %s: %s", c->peer,
			    strerror(soerr));
			net_close(c);
			return EX_UNAVAILABLE;
		}
	}
	/* Small frames go out at once, as the protocol expects. */
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return 0;
}

/* Waits until fd is ready for events, at most the connection's timeout. */
static int
wait_fd(struct net_conn *c, short events, const char *what, char *err,
    size_t errlen)
{
	struct pollfd pfd = {.fd = c->fd, .events = events};
	int r;

	do
		r = poll(&pfd, 1, c->timeout_ms);
	while (r == -1 && errno == EINTR);
	if (r == -1) {
		snprintf(err, errlen, "poll: %s", strerror(errno));
		return EX_OSERR;
	}
	if (r == 0) {
		snprintf(err, errlen, "%s %s: timed out after %d ms", what,
		    c->peer, c->timeout_ms);
		return EX_UNAVAILABLE;
	}
	return 0;
}

int
net_write(
    struct net_conn *c, const void *buf, size_t len, char *err, size_t errlen)
{
	const char *p = buf;
	ssize_t n;
	int code;

	while (len > 0) {
		n = send(c->fd, p, len, MSG_NOSIGNAL);
		if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
			if ((code = wait_fd(
				 c, POLLOUT, "write", err, errlen)) != 0)
				return code;
			continue;
		}
		if (n == -1) {
			snprintf(err, errlen, "write %s: %s", c->peer,
			    strerror(errno));
			return EX_UNAVAILABLE;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
net_read(struct net_conn *c, void *buf, size_t len, char *err, size_t errlen)
{
	char *p = buf;
	ssize_t n;
	int code;

	while (len > 0) {
		n = recv(c->fd, p, len, 0);
		if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
			if ((code = wait_fd(c, POLLIN, "read", err, errlen)) !=
			    0)
				return code;
			continue;
		}
		if (n == -1 && errno != ECONNRESET) {
			snprintf(err, errlen, "read %s: %s", c->peer,
			    strerror(errno));
			return EX_UNAVAILABLE;
		}
		if (n <= 0) {
			/*
			 * genid closes a connection it refuses (allow list,
			 * connection limit) without a word, which resets it
			 * when our request is already there: say so.
			 */
			snprintf(err, errlen,
			    "read %s: connection %s by the server (allow list"
			    " or connection limit?)",
			    c->peer, n == 0 ? "closed" : "reset");
			return EX_UNAVAILABLE;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
net_info_text(
    struct net_conn *c, char **text, size_t *len, char *err, size_t errlen)
{
	static const unsigned char req[2] = {2, 0};
	unsigned char hdr[2];
	int code;

	*text = NULL;
	if ((code = net_write(c, req, sizeof(req), err, errlen)) != 0 ||
	    (code = net_read(c, hdr, sizeof(hdr), err, errlen)) != 0)
		return code;
	*len = (size_t)hdr[0] << 8 | hdr[1];
	if ((*text = malloc(*len + 1)) == NULL) {
		snprintf(err, errlen, "malloc: %s", strerror(errno));
		return EX_OSERR;
	}
	if ((code = net_read(c, *text, *len, err, errlen)) != 0) {
		free(*text);
		*text = NULL;
		return code;
	}
	(*text)[*len] = '\0';
	return 0;
}

int
net_info(const struct net_addr *a, int timeout_ms, json_t **info, char **text,
    char *err, size_t errlen)
{
	struct net_conn c;
	json_error_t je;
	char *buf;
	size_t len;
	int code;

	*info = NULL;
	if ((code = net_connect(&c, a, timeout_ms, err, errlen)) != 0)
		return code;
	code = net_info_text(&c, &buf, &len, err, errlen);
	if (code == 0) {
		*info = json_loadb(buf, len, 0, &je);
		if (*info == NULL || !json_is_object(*info)) {
			snprintf(err, errlen,
			    "INFO from %s is not a JSON object: %s", c.peer,
			    *info == NULL ? je.text : "another type");
			json_decref(*info);
			*info = NULL;
			code = EX_PROTOCOL;
		}
	}
	net_close(&c);
	if (code == 0 && text != NULL)
		*text = buf;
	else
		free(buf);
	return code;
}

int
net_identity(const struct net_addr *a, int timeout_ms, struct peer_identity *id,
    char *err, size_t errlen)
{
	const char *instance = NULL;
	json_int_t zone, dc, machine;
	json_t *info;
	int code;

	if ((code = net_info(a, timeout_ms, &info, NULL, err, errlen)) != 0)
		return code;
	if (json_unpack(info, "{s:I, s:I, s:I, s?s}", "zone", &zone, "dc", &dc,
		"machine", &machine, "instance", &instance) == -1) {
		snprintf(err, errlen, "INFO from %s lacks zone, dc or machine",
		    net_addr_str(a));
		json_decref(info);
		return EX_PROTOCOL;
	}
	id->zone = zone;
	id->dc = dc;
	id->machine = machine;
	id->instance = instance != NULL ? strtoull(instance, NULL, 16) : 0;
	json_decref(info);
	return 0;
}

void
net_close(struct net_conn *c)
{
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
}
