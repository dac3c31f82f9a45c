/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * notify.c - the sd_notify protocol (systemd's sd_notify(3) documents it
 * as stable): one AF_UNIX datagram of "NAME=value" lines per message, sent
 * to the socket named by $NOTIFY_SOCKET.  A leading '@' names a socket in
 * the abstract namespace.  Written out rather than linked from libsystemd:
 * it is a socket and a sendto, and genid stays free of a dependency that
 * only systemd hosts have.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"

/* notify_status sends no more often than this. */
#define STATUS_INTERVAL_S 5

static struct {
	int fd;
	struct sockaddr_un sun;
	char name[sizeof(((struct sockaddr_un *)0)->sun_path)];
	socklen_t len;
	int warned;
	time_t last_status;
} n = {.fd = -1};

static time_t
mono_seconds(void)
{
	struct timespec ts;

	clock_mono(&ts);
	return ts.tv_sec;
}

int
notify_init(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	size_t len;

	if (path == NULL || path[0] == '\0')
		return 0;
	len = strlen(path);
	memset(&n.sun, 0, sizeof(n.sun));
	n.sun.sun_family = AF_UNIX;
	if ((path[0] != '/' && path[0] != '@') || len < 2 ||
	    len > sizeof(n.sun.sun_path) - 1) {
		log_warnx("NOTIFY_SOCKET \"%s\" is neither an absolute path nor"
			  " @name of at most %zu bytes: systemd will not hear"
			  " that genid is ready",
		    path, sizeof(n.sun.sun_path) - 1);
		unsetenv("NOTIFY_SOCKET");
		return -1;
	}
	memcpy(n.sun.sun_path, path, len);
	memcpy(n.name, path, len + 1);
	/* An abstract name starts with a NUL and is not NUL-terminated. */
	if (path[0] == '@')
		n.sun.sun_path[0] = '\0';
	n.len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
	    (path[0] == '/'));
	if ((n.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("socket for NOTIFY_SOCKET %s", path);
		unsetenv("NOTIFY_SOCKET");
		return -1;
	}
	unsetenv("NOTIFY_SOCKET");
	return 0;
}

static int
send_text(const char *text, size_t len)
{
	if (sendto(n.fd, text, len, MSG_NOSIGNAL, (struct sockaddr *)&n.sun,
		n.len) == (ssize_t)len)
		return 0;
	if (!n.warned) {
		n.warned = 1;
		log_warn("sendto NOTIFY_SOCKET %s (the supervisor may not"
			 " learn genid's state; logged once)",
		    n.name);
	}
	return -1;
}

int
notify_send(const char *fmt, ...)
{
	char text[512];
	va_list ap;
	int len;

	if (n.fd == -1)
		return 0;
	va_start(ap, fmt);
	len = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (len < 0)
		return -1;
	if ((size_t)len >= sizeof(text))
		len = sizeof(text) - 1;
	return send_text(text, (size_t)len);
}

int
notify_reloading(void)
{
	struct timespec ts;

	clock_mono(&ts);
	return notify_send("RELOADING=1\nMONOTONIC_USEC=%lld",
	    (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

void
notify_status(const struct state_header *h)
{
	static struct metrics_snap s;
	time_t now;

	if (n.fd == -1)
		return;
	now = mono_seconds();
	if (n.last_status != 0 && now - n.last_status < STATUS_INTERVAL_S)
		return;
	n.last_status = now;
	metrics_read(&s, h);
	notify_send("STATUS=serving: %llu connections, checkpoint %lld s"
		    " ahead, lead %lld s",
	    (unsigned long long)metrics_sum(
		&s, offsetof(struct state_bucket, conns), -1),
	    (long long)s.h.checkpoint - (long long)s.now_ts, (long long)s.lead);
}
