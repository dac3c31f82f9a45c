/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * base64.c - base64 with padding (base64.h).
 */
#include <stdint.h>
#include <string.h>

#include "base64.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

long
base64_encode(const void *in, size_t n, char *out, size_t room)
{
	const uint8_t *p = in;
	size_t i, o = 0;

	if (room < BASE64_LEN(n))
		return -1;
	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v =
		    (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];

		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = alphabet[v >> 6 & 63];
		out[o++] = alphabet[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)p[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = i + 1 < n ? alphabet[v >> 6 & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
	return (long)o;
}

/* The value of a character, or -1 outside the alphabet. */
static int
value(char c)
{
	const char *at = c == '\0' ? NULL : strchr(alphabet, c);

	return at == NULL ? -1 : (int)(at - alphabet);
}

long
base64_decode(const char *s, void *out, size_t room)
{
	uint8_t *p = out;
	size_t len = strlen(s), i, o = 0;

	if (len % 4 != 0)
		return -1;
	for (i = 0; i < len; i += 4) {
		int a = value(s[i]), b = value(s[i + 1]), c = value(s[i + 2]),
		    d = value(s[i + 3]);
		int last = i + 4 == len;
		unsigned bytes = 3;
		uint32_t v;

		/* Padding only at the end: "x=" or "xy=" of the last quad. */
		if (last && s[i + 3] == '=') {
			bytes = s[i + 2] == '=' ? 1 : 2;
			d = 0;
			if (bytes == 1)
				c = 0;
		}
		if (a < 0 || b < 0 || c < 0 || d < 0)
			return -1;
		if (o + bytes > room)
			return -1;
		v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 |
		    (uint32_t)d;
		p[o++] = (uint8_t)(v >> 16);
		if (bytes > 1)
			p[o++] = (uint8_t)(v >> 8);
		if (bytes > 2)
			p[o++] = (uint8_t)v;
	}
	return (long)o;
}
