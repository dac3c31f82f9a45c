/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz.h - what the libFuzzer targets under tests/fuzz share.
 *
 * A broken property is reported like a crash: the message, then abort(),
 * which libFuzzer catches, saves the input and fails make fuzz.
 */
#ifndef GENID_FUZZ_H
#define GENID_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/*
 * Where a broken property is told: stderr, or a copy of it kept by a
 * target whose code under test prints (run with -close_fd_mask=2).
 */
static FILE *fuzz_report;

/* Fails the run when a property does not hold. */
#define FUZZ_ASSERT(cond, ...)                                                 \
	do {                                                                   \
		if (!(cond)) {                                                 \
			FILE *out_ = fuzz_report ? fuzz_report : stderr;       \
			fprintf(out_, "PROPERTY BROKEN %s:%d: %s: ", __FILE__, \
			    __LINE__, #cond);                                  \
			fprintf(out_, __VA_ARGS__);                            \
			fputc('\n', out_);                                     \
			fflush(out_);                                          \
			abort();                                               \
		}                                                              \
	} while (0)

#endif
