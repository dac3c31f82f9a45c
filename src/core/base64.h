/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * base64.h - the standard base64 alphabet with padding (RFC 4648), as
 * etcd's JSON gateway carries keys and values.
 */
#ifndef GENID_CORE_BASE64_H
#define GENID_CORE_BASE64_H

#include <stddef.h>

/* The room base64_encode needs for n bytes, its NUL included. */
#define BASE64_LEN(n) (((n) + 2) / 3 * 4 + 1)

/*
 * Encodes in[0..n) into out, NUL-terminated; returns the length without
 * the NUL, or -1 when room is less than BASE64_LEN(n).
 */
long base64_encode(const void *in, size_t n, char *out, size_t room);

/*
 * Decodes the NUL-terminated s into out[0..room); returns the bytes
 * written, or -1 for a character outside the alphabet, a bad length or
 * padding, or too little room.
 */
long base64_decode(const char *s, void *out, size_t room);

#endif
