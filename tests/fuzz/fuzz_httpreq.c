/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_httpreq.c - the metrics endpoint's request parser (src/httpreq.c).
 *
 * The input is a request as a client sends it; the first byte picks how
 * it is cut into reads.  Properties: the parser sees the end of the
 * headers in the read that completes the first empty line ("\r\n\r\n" or
 * "\n\n") of the whole stream, whatever the cuts; it keeps exactly the
 * first bytes as the request line; a route other than BAD_METHOD is a GET
 * or HEAD, and METRICS names /metrics.
 */
#include <string.h>

#include "fuzz.h"
#include "httpreq.h"

/* The offset just past the first empty line of d, or 0 when none. */
static size_t
first_end(const uint8_t *d, size_t n)
{
	const uint8_t *a = memmem(d, n, "\r\n\r\n", 4);
	const uint8_t *b = memmem(d, n, "\n\n", 2);
	size_t ea = a != NULL ? (size_t)(a - d) + 4 : 0;
	size_t eb = b != NULL ? (size_t)(b - d) + 2 : 0;

	if (ea == 0 || (eb != 0 && eb < ea))
		return eb;
	return ea;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct httpreq r;
	size_t off = 0, cut, end, kept;
	uint32_t seed;
	int done = 0, head_only;
	enum httpreq_route route;

	if (size < 1)
		return 0;
	seed = data[0] * 2654435761u + 1;
	data++;
	size--;
	end = first_end(data, size);
	memset(&r, 0, sizeof(r));
	while (off < size && !done) {
		seed = seed * 1103515245u + 12345u;
		/* Mostly small reads, sometimes a whole buffer. */
		cut = (seed >> 16) % 8 == 0 ? HTTPREQ_FEED_MAX
					    : 1 + (seed >> 16) % 7;
		if (cut > size - off)
			cut = size - off;
		done = httpreq_feed(&r, (const char *)data + off, cut);
		off += cut;
		FUZZ_ASSERT(done == (end != 0 && end <= off),
		    "headers end at %zu of %zu, parser says %d after %zu bytes",
		    end, size, done, off);
	}
	FUZZ_ASSERT(done || end == 0, "end at %zu never seen", end);
	kept = off < HTTPREQ_LINE_MAX - 1 ? off : HTTPREQ_LINE_MAX - 1;
	FUZZ_ASSERT(r.line_len == kept && memcmp(r.line, data, kept) == 0 &&
		r.line[kept] == '\0',
	    "kept %zu bytes of the request line, want %zu", r.line_len, kept);
	route = httpreq_route(&r, &head_only);
	FUZZ_ASSERT(head_only == (strncmp(r.line, "HEAD ", 5) == 0),
	    "head_only %d", head_only);
	if (route != HTTPREQ_BAD_METHOD)
		FUZZ_ASSERT(head_only || strncmp(r.line, "GET ", 4) == 0,
		    "route %d for a request that is no GET or HEAD", route);
	if (route == HTTPREQ_METRICS)
		FUZZ_ASSERT(strstr(r.line, " /metrics") != NULL,
		    "METRICS for \"%.60s\"", r.line);
	return 0;
}
