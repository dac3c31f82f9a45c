/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * msync_fail.c - test-only LD_PRELOAD shim: while the file named by
 * GENID_MSYNC_FAIL exists, msync(2) fails with EIO, as on a failing disk,
 * and each failed call appends one byte to the file named by
 * GENID_MSYNC_COUNT (when set), so that a test can count the attempts.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int
msync(void *addr, size_t len, int flags)
{
	static int (*real)(void *, size_t, int);
	const char *flag = getenv("GENID_MSYNC_FAIL");
	const char *count = getenv("GENID_MSYNC_COUNT");
	int fd;

	if (flag != NULL && access(flag, F_OK) == 0) {
		if (count != NULL &&
		    (fd = open(count, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
			 0600)) != -1) {
			if (write(fd, "x", 1) == -1)
				errno = 0;
			close(fd);
		}
		errno = EIO;
		return -1;
	}
	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "msync");
	return real(addr, len, flags);
}
