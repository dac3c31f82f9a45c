/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * powerloss.c - an LD_PRELOAD shim (test code only) that keeps what a
 * power loss would leave of genid's state file.
 *
 * After power loss a file holds no more than its syncs made durable.
 * Around every msync, fsync and fdatasync genid makes, the shim reads the
 * state file as it is before the call (what the call makes durable at the
 * least) and, when the call succeeded, keeps it in POWERLOSS_COPY: the
 * whole file after fsync or fdatasync, only the pages an msync covered
 * otherwise (the rest stays as the copy had it).  genid maps the file
 * from offset 0 and msyncs from the mapping's start, so an msync of len
 * bytes covers the file's first len bytes, rounded up to pages.  The copy
 * is written to a temp file and renamed; the one before it stays as
 * POWERLOSS_COPY.prev.  A lock file serialises the processes of the
 * group, so the copy always follows the syncs in their order.
 *
 * It also lets a test make genid see a new kernel boot: when
 * POWERLOSS_BOOT_ID names a file, genid reading the kernel's boot id
 * reads that file instead.
 *
 * Environment: POWERLOSS_FILE (the state file), POWERLOSS_COPY (the copy
 * to keep), POWERLOSS_BOOT_ID (optional).  Without POWERLOSS_FILE the
 * shim only passes the calls on.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* RTLD_NEXT */
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define BOOT_ID_PATH "/proc/sys/kernel/random/boot_id"
#define IMAGE_MAX (1 << 20)

int msync(void *addr, size_t len, int flags);
int fsync(int fd);
int fdatasync(int fd);
FILE *fopen(const char *path, const char *mode);
FILE *fopen64(const char *path, const char *mode);

static char image[IMAGE_MAX], old[IMAGE_MAX];

static void *
real(const char *name)
{
	void *f = dlsym(RTLD_NEXT, name);

	if (f == NULL) {
		fprintf(stderr, "powerloss: dlsym %s: %s\n", name, dlerror());
		abort();
	}
	return f;
}

/* Reads a file into buf; its length, or -1. */
static ssize_t
slurp(const char *path, char *buf)
{
	ssize_t n, len = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	while (len < IMAGE_MAX &&
	    (n = pread(fd, buf + len, IMAGE_MAX - (size_t)len, len)) > 0)
		len += n;
	close(fd);
	return len;
}

/*
 * Keeps image as the copy, but for the bytes from upto on, which stay as
 * the copy had them; the copy before it becomes COPY.prev.
 */
static void
keep(const char *copy, ssize_t len, size_t upto)
{
	char tmp[4096], prev[4096];
	ssize_t off = 0, n, had;
	int fd;

	if (upto < (size_t)len && (had = slurp(copy, old)) > (ssize_t)upto)
		memcpy(image + upto, old + upto,
		    (size_t)(had < len ? had : len) - upto);

	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", copy, (long)getpid());
	snprintf(prev, sizeof(prev), "%s.prev", copy);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) ==
	    -1)
		return;
	while (
	    off < len && (n = write(fd, image + off, (size_t)(len - off))) > 0)
		off += n;
	close(fd);
	if (off != len) {
		unlink(tmp);
		return;
	}
	(void)rename(copy, prev);
	(void)rename(tmp, copy);
}

/* Runs a sync call between a snapshot and keeping it, under the lock. */
static int
synced(int (*call)(void *, long, int), void *a, long b, int c, int is_state,
    size_t upto)
{
	const char *path = getenv("POWERLOSS_FILE");
	const char *copy = getenv("POWERLOSS_COPY");
	char lock[4096];
	ssize_t len = -1;
	int lfd = -1, rc, saved;

	if (path == NULL || copy == NULL || !is_state)
		return call(a, b, c);
	snprintf(lock, sizeof(lock), "%s.lock", copy);
	if ((lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) != -1)
		(void)flock(lfd, LOCK_EX);
	len = slurp(path, image);
	rc = call(a, b, c);
	saved = errno;
	if (rc == 0 && len > 0)
		keep(copy, len, upto);
	if (lfd != -1)
		close(lfd); /* drops the lock */
	errno = saved;
	return rc;
}

static int
call_msync(void *addr, long len, int flags)
{
	static int (*f)(void *, size_t, int);

	if (f == NULL)
		f = real("msync");
	return f(addr, (size_t)len, flags);
}

static int
call_fsync(void *unused, long fd, int data)
{
	(void)unused;
	static int (*fs)(int), (*fds)(int);

	if (fs == NULL) {
		fs = real("fsync");
		fds = real("fdatasync");
	}
	return data ? fds((int)fd) : fs((int)fd);
}

/* Whether fd is the state file. */
static int
is_state_fd(int fd)
{
	const char *path = getenv("POWERLOSS_FILE");
	struct stat a, b;

	return path != NULL && fstat(fd, &a) == 0 && stat(path, &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

int
msync(void *addr, size_t len, int flags)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t upto = (len + (size_t)page - 1) / (size_t)page * (size_t)page;

	/* genid maps no other file; only a synchronous msync is durable. */
	return synced(
	    call_msync, addr, (long)len, flags, flags & MS_SYNC, upto);
}

int
fsync(int fd)
{
	return synced(call_fsync, NULL, fd, 0, is_state_fd(fd), SIZE_MAX);
}

int
fdatasync(int fd)
{
	return synced(call_fsync, NULL, fd, 1, is_state_fd(fd), SIZE_MAX);
}

/* The boot id file genid reads, or the test's stand-in for it. */
static const char *
boot_path(const char *path)
{
	const char *boot = getenv("POWERLOSS_BOOT_ID");

	return boot != NULL && strcmp(path, BOOT_ID_PATH) == 0 ? boot : path;
}

FILE *
fopen(const char *path, const char *mode)
{
	static FILE *(*f)(const char *, const char *);

	if (f == NULL)
		f = real("fopen");
	return f(boot_path(path), mode);
}

FILE *
fopen64(const char *path, const char *mode)
{
	static FILE *(*f)(const char *, const char *);

	if (f == NULL)
		f = real("fopen64");
	return f(boot_path(path), mode);
}
