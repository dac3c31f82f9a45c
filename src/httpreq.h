/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * httpreq.h - the request side of the metrics endpoint (metrics), apart
 * from the sockets: gathering a request to the end of its headers, and
 * what its request line asks for.  Pure code, fuzzed in tests/fuzz.
 */
#ifndef GENID_HTTPREQ_H
#define GENID_HTTPREQ_H

#include <stddef.h>

#define HTTPREQ_LINE_MAX 512
/* The most bytes one httpreq_feed call takes. */
#define HTTPREQ_FEED_MAX 4096

/* A request being read: its start, and the last bytes seen. */
struct httpreq {
	char line[HTTPREQ_LINE_MAX]; /* the start of the request, a string */
	size_t line_len;
	char tail[3];
	size_t tail_len;
};

enum httpreq_route {
	HTTPREQ_METRICS,    /* GET or HEAD of /metrics, any query */
	HTTPREQ_NOT_FOUND,  /* GET or HEAD of anything else */
	HTTPREQ_BAD_METHOD, /* neither GET nor HEAD */
};

/*
 * Takes n (at most HTTPREQ_FEED_MAX) more bytes of a request that r
 * (zeroed at first) has read so far.  Returns 1 once the bytes read hold
 * the end of the headers (an empty line), else 0.
 */
int httpreq_feed(struct httpreq *r, const char *buf, size_t n);

/*
 * Whether the bytes r has read cannot start an HTTP request: a request
 * line starts with a method in capitals, where a genid frame starts with
 * a command byte.  1 or 0.
 */
int httpreq_not_http(const struct httpreq *r);

/* What the request asks for; *head_only is set for a HEAD request. */
enum httpreq_route httpreq_route(const struct httpreq *r, int *head_only);

#endif
