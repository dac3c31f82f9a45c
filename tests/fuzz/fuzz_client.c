/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_client.c - libgenid's reply parser (src/client/client.c) fed by a
 * fake peer.
 *
 * client.c is included with socket() and connect() replaced: the client
 * "connects" to one end of a socketpair whose other end has already sent
 * the input and shut down its side.  Only one connection is possible.
 * The first 4 input bytes pick the calls (genid_next, genid_bulk of some
 * size, genid_info into a buffer of some size, with or without prefetch);
 * the rest is what the server says.  Properties: the IDs handed out
 * strictly increase (one connection), genid_bulk never returns more than
 * asked, genid_info leaves a terminated string that fits the buffer, and a
 * failure has a message.
 */
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"

static int fuzz_socket(int domain, int type, int protocol);
static int fuzz_connect(int fd, const void *addr, unsigned len);

#define socket(d, t, p) fuzz_socket(d, t, p)
#define connect(f, a, l) fuzz_connect(f, a, l)
#include "../../src/client/client.c"
#undef socket
#undef connect

static const uint8_t *stream;
static size_t stream_len;
static int peer = -1, sockets;

static int
fuzz_socket(int domain, int type, int protocol)
{
	int sv[2];

	if (sockets++ > 0) {
		errno = ECONNREFUSED;
		return -1;
	}
	if (socketpair(AF_UNIX, type, 0, sv) == -1)
		return -1;
	peer = sv[1];
	if (stream_len > 0 &&
	    write(peer, stream, stream_len) != (ssize_t)stream_len)
		abort();
	shutdown(peer, SHUT_WR);
	return sv[0];
}

static int
fuzz_connect(int fd, const void *addr, unsigned len)
{
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const addrs[] = {"127.0.0.1:3778"};
	struct genid_options opt = {0};
	struct genid_client *c;
	uint64_t ids[600], id, last = 0;
	char info[400];
	size_t seen = 0;
	uint32_t ctl;
	int op, i;
	ssize_t n;

	if (size < 4 || size > 65536)
		return 0;
	ctl = (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 |
	    (uint32_t)data[2] << 8 | data[3];
	stream = data + 4;
	stream_len = size - 4;
	sockets = 0;
	opt.io_timeout_ms = 50;
	opt.connect_timeout_ms = 50;
	opt.prefetch = ctl & 1 ? (ctl >> 1) % 300 : 0;
	if ((c = genid_open(addrs, 1, &opt)) == NULL)
		return 0;
	for (op = 0; op < 6; op++) {
		unsigned k = (ctl >> (8 + op * 4)) & 15;

		if (k < 6) {
			if (genid_next(c, &id) == -1)
				break;
			FUZZ_ASSERT(seen == 0 || id > last,
			    "ID %llu after %llu", (unsigned long long)id,
			    (unsigned long long)last);
			last = id;
			seen++;
		} else if (k < 12) {
			size_t want = (k - 6) * 100 + (ctl >> 24) % 100;

			n = genid_bulk(c, ids, want);
			FUZZ_ASSERT(n >= -1 && n <= (ssize_t)want,
			    "%zd IDs for %zu asked", n, want);
			for (i = 0; i < n; i++) {
				FUZZ_ASSERT(seen == 0 || ids[i] > last,
				    "ID %llu after %llu",
				    (unsigned long long)ids[i],
				    (unsigned long long)last);
				last = ids[i];
				seen++;
			}
			if (n < (ssize_t)want)
				break;
		} else {
			size_t len = (k - 12) * 100 + (ctl >> 16) % 64;

			memset(info, 'x', sizeof(info));
			if (genid_info(c, info, len) == -1)
				break;
			if (len > 0)
				FUZZ_ASSERT(memchr(info, '\0', len) != NULL,
				    "INFO not terminated in %zu bytes", len);
		}
	}
	if (op < 6)
		FUZZ_ASSERT(genid_strerror(c)[0] != '\0',
		    "failure without a "
		    "message after op %d",
		    op);
	genid_close(c);
	if (peer != -1)
		close(peer);
	peer = -1;
	return 0;
}
