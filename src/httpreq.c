/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * httpreq.c - gather an HTTP request to the end of its headers, keeping
 * only its start, and route its request line.  No I/O: scrape.c reads
 * the socket and hands the bytes over.
 */
#include <string.h>

#include "httpreq.h"

static int asks_for(const char *target, const char *path);

int
httpreq_feed(struct httpreq *r, const char *buf, size_t n)
{
	char window[sizeof(r->tail) + HTTPREQ_FEED_MAX];
	size_t len, keep;

	keep = sizeof(r->line) - 1 - r->line_len;
	keep = n < keep ? n : keep;
	memcpy(r->line + r->line_len, buf, keep);
	r->line_len += keep;
	r->line[r->line_len] = '\0';
	/* The end may straddle two reads: look at the last bytes too. */
	memcpy(window, r->tail, r->tail_len);
	memcpy(window + r->tail_len, buf, n);
	len = r->tail_len + n;
	r->tail_len = len < sizeof(r->tail) ? len : sizeof(r->tail);
	memcpy(r->tail, window + len - r->tail_len, r->tail_len);
	/* memmem: a NUL byte in the request must not hide its end. */
	return memmem(window, len, "\r\n\r\n", 4) != NULL ||
	    memmem(window, len, "\n\n", 2) != NULL;
}

int
httpreq_not_http(const struct httpreq *r)
{
	return r->line_len > 0 && (r->line[0] < 'A' || r->line[0] > 'Z');
}

/* Whether the request target is path, whatever its query string. */
static int
asks_for(const char *target, const char *path)
{
	size_t n = strlen(path);

	return strncmp(target, path, n) == 0 &&
	    strchr(" ?\r\n", target[n]) != NULL;
}

enum httpreq_route
httpreq_route(const struct httpreq *r, int *head_only)
{
	const char *target = strchr(r->line, ' ');

	*head_only = strncmp(r->line, "HEAD ", 5) == 0;
	if (strncmp(r->line, "GET ", 4) != 0 && !*head_only)
		return HTTPREQ_BAD_METHOD;
	if (target != NULL && asks_for(target + 1, "/metrics"))
		return HTTPREQ_METRICS;
	return HTTPREQ_NOT_FOUND;
}
