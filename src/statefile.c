/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * statefile.c - the state file on disk: create, lock, map, sync.
 *
 * A new file is written whole under a temporary name and linked into
 * place, so a crash never leaves a half-made state file behind.  The lock
 * is a flock(2) on the open file description that the master shares with
 * its workers: it is held until the last process of a genid is gone, so a
 * new master cannot start beside workers left over from a killed one.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "statefile.h"

/* How long a switch waits for the processes of a killed genid to go. */
#define SWITCH_LOCK_WAIT_MS 2000

const char statefile_damaged_rule[] =
    "restore it from a copy taken while genid was stopped, if genid has"
    " not run since, or move it away and make a new one with genid"
    " --init-lost, which starts above what this node may have issued"
    " (genid(8), \"A lost state file\"); genid --init is only for a node"
    " that never issued IDs";

static int create_file(const char *path, const struct state_identity *id,
    int64_t now, char *err, size_t errlen);
static int write_new(const char *path, const struct state_identity *id,
    int64_t now, char *tmp, size_t tmplen, char *err, size_t errlen);
static int sync_dir(const char *path, char *err, size_t errlen);
static int same_file(const char *a, const char *b);
static int lock_file(
    int fd, const char *path, unsigned wait_ms, char *err, size_t errlen);
static int replaced(const struct statefile *sf);
static int keep_aside(
    const char *path, char *aside, size_t asidelen, char *err, size_t errlen);
static int map_whole(struct statefile *sf, int prot, char *err, size_t errlen);
static int upgrade_copy(struct statefile *sf, char *err, size_t errlen);
static int upgrade_file(struct statefile *sf, char *err, size_t errlen);
static int fchmod_like(int fd, int like);
static int map_checked(struct statefile *sf, int prot,
    const struct state_identity *id, char *err, size_t errlen);

static int
create_file(const char *path, const struct state_identity *id, int64_t now,
    char *err, size_t errlen)
{
	char tmp[PATH_MAX + 16];

	if (write_new(path, id, now, tmp, sizeof(tmp), err, errlen) == -1)
		return -1;
	/* link(2) fails when another genid made the file first: use theirs. */
	if (link(tmp, path) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "link %s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	unlink(tmp);
	/* The name must be as durable as the content before the first ID. */
	return sync_dir(path, err, errlen);
}

/*
 * Writes a new state file for id beside path, under a temporary name put
 * in tmp, synced.  0, or -1 with the reason in err (nothing left behind).
 */
static int
write_new(const char *path, const struct state_identity *id, int64_t now,
    char *tmp, size_t tmplen, char *err, size_t errlen)
{
	struct state_header *h;
	size_t len = state_size();
	int fd, rc;

	snprintf(tmp, tmplen, "%s.%ld.tmp", path, (long)getpid());
	if ((fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640)) ==
	    -1) {
		snprintf(err, errlen, "create %s: %s", tmp, strerror(errno));
		return -1;
	}
	/*
	 * Allocated, not sparse: a full file system fails here with a
	 * message, not later with SIGBUS on a store through the mapping.
	 */
	if ((rc = posix_fallocate(fd, 0, (off_t)len)) != 0) {
		snprintf(err, errlen, "allocate %zu bytes for %s: %s%s", len,
		    tmp, strerror(rc),
		    rc == ENOSPC ? " (make room there, or point state_file at"
				   " another file system)"
				 : "");
		goto fail;
	}
	h = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (h == MAP_FAILED) {
		snprintf(err, errlen, "mmap %s: %s", tmp, strerror(errno));
		goto fail;
	}
	state_init(h, id, now);
	if (msync(h, len, MS_SYNC) == -1 || fsync(fd) == -1) {
		snprintf(err, errlen, "sync %s: %s", tmp, strerror(errno));
		munmap(h, len);
		goto fail;
	}
	munmap(h, len);
	close(fd);
	return 0;
fail:
	close(fd);
	unlink(tmp);
	return -1;
}

/* fsyncs the directory that holds path: its entries reach the disk. */
static int
sync_dir(const char *path, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd, rc;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		snprintf(
		    err, errlen, "open directory %s: %s", dir, strerror(errno));
		return -1;
	}
	if ((rc = fsync(fd)) == -1)
		snprintf(err, errlen, "fsync directory %s: %s", dir,
		    strerror(errno));
	close(fd);
	return rc;
}

static int
lock_file(int fd, const char *path, unsigned wait_ms, char *err, size_t errlen)
{
	struct timespec pause = {0, 10 * 1000 * 1000};
	unsigned waited = 0;

	/*
	 * Workers of a master that was just killed die with it
	 * (PR_SET_PDEATHSIG) but need a moment; poll for them briefly.
	 */
	while (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK) {
			snprintf(
			    err, errlen, "flock %s: %s", path, strerror(errno));
			return EX_CANTCREAT;
		}
		if (waited >= wait_ms) {
			snprintf(err, errlen,
			    "%s is locked: another genid is running on it (stop"
			    " it, or give this one another state_file)",
			    path);
			return EX_UNAVAILABLE;
		}
		nanosleep(&pause, NULL);
		waited += 10;
	}
	return 0;
}

/*
 * Maps all of the open sf->fd with prot into sf->h and sf->len: 0; -1
 * with err filled when fstat or mmap fails; 1 for a file too short to
 * hold a header, its size in sf->len and nothing mapped (err is left to
 * the caller, whose wording it is).
 */
static int
map_whole(struct statefile *sf, int prot, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(sf->fd, &st) == -1) {
		snprintf(
		    err, errlen, "fstat %s: %s", sf->path, strerror(errno));
		return -1;
	}
	sf->len = (size_t)st.st_size;
	if (sf->len < sizeof(struct state_header))
		return 1;
	sf->h = mmap(NULL, sf->len, prot, MAP_SHARED, sf->fd, 0);
	if (sf->h == MAP_FAILED) {
		snprintf(err, errlen, "mmap %s: %s", sf->path, strerror(errno));
		sf->h = NULL;
		return -1;
	}
	if (state_layout(sf->h, sf->len) >= STATE_VERSION_OLDEST &&
	    state_layout(sf->h, sf->len) < STATE_VERSION)
		return upgrade_copy(sf, err, errlen);
	return 0;
}

/*
 * Replaces the mapping of an older layout by a copy converted to this
 * one in memory: 0, or -1 with why in err (the file's damage).
 */
static int
upgrade_copy(struct statefile *sf, char *err, size_t errlen)
{
	struct state_header *c;
	char why[512];

	if ((c = calloc(1, state_size())) == NULL) {
		snprintf(err, errlen, "%s: out of memory", sf->path);
		return -1;
	}
	/* upgraded stays 0 until the conversion is on disk. */
	if (state_upgrade(sf->h, sf->len, c, 0, why, sizeof(why)) == -1) {
		free(c);
		snprintf(err, errlen, "%s: %s; refusing to reuse it: %s",
		    sf->path, why, statefile_damaged_rule);
		return -2;
	}
	sf->upgraded_from = sf->h->version;
	munmap(sf->h, sf->len);
	sf->h = c;
	sf->len = state_size();
	sf->copy = 1;
	return 0;
}

/*
 * Puts the converted copy of an older layout in the file's place,
 * durably, and maps it in sf, still locked: 0, or EX_CANTCREAT with the
 * reason in err (the old file stays as it was).
 */
static int
upgrade_file(struct statefile *sf, char *err, size_t errlen)
{
	char tmp[PATH_MAX + 16];
	struct state_header *c = sf->h;
	size_t len = state_size();
	int fd;

	c->upgraded = clock_real_s();
	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", sf->path, (long)getpid());
	if ((fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640)) ==
	    -1) {
		snprintf(err, errlen, "create %s: %s", tmp, strerror(errno));
		return EX_CANTCREAT;
	}
	/* The new name is locked before it takes the path. */
	if (pwrite(fd, c, len, 0) != (ssize_t)len || fsync(fd) == -1 ||
	    flock(fd, LOCK_EX | LOCK_NB) == -1 ||
	    fchmod_like(fd, sf->fd) == -1) {
		snprintf(err, errlen, "write %s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (rename(tmp, sf->path) == -1) {
		snprintf(err, errlen, "rename %s to %s: %s", tmp, sf->path,
		    strerror(errno));
		goto fail;
	}
	if (sync_dir(sf->path, err, errlen) == -1) {
		close(sf->fd);
		sf->fd = fd;
		return EX_CANTCREAT;
	}
	close(sf->fd);
	sf->fd = fd;
	sf->h = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (sf->h == MAP_FAILED) {
		sf->h = c;
		snprintf(err, errlen, "mmap %s: %s", sf->path, strerror(errno));
		return EX_CANTCREAT;
	}
	free(c);
	sf->copy = 0;
	sf->len = len;
	return 0;
fail:
	close(fd);
	unlink(tmp);
	return EX_CANTCREAT;
}

/* Gives fd the owner and mode of the file at like (a converted file
 * keeps what the operator set).  0, or -1 with errno set. */
static int
fchmod_like(int fd, int like)
{
	struct stat st;

	if (fstat(like, &st) == -1)
		return -1;
	if (fchown(fd, st.st_uid, st.st_gid) == -1 && errno != EPERM)
		return -1;
	return fchmod(fd, st.st_mode & 07777);
}

int
statefile_open(struct statefile *sf, const char *path,
    const struct state_identity *id, int64_t now, int create,
    unsigned lock_wait_ms, char *err, size_t errlen)
{
	int rc;

	memset(sf, 0, sizeof(*sf));
	sf->fd = -1;
	sf->mirror_fd = -1;
	snprintf(sf->path, sizeof(sf->path), "%s", path);
	if (access(path, F_OK) == -1 && errno == ENOENT) {
		if (!create) {
			snprintf(err, errlen, "%s: no such state file", path);
			return EX_NOINPUT;
		}
		if (create_file(path, id, now, err, errlen) == -1)
			return EX_CANTCREAT;
	}
	if ((sf->fd = open(path, O_RDWR | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "open %s: %s", path, strerror(errno));
		return EX_CANTCREAT;
	}
	if ((rc = lock_file(sf->fd, path, lock_wait_ms, err, errlen)) != 0)
		goto fail;
	if ((rc = map_checked(sf, PROT_READ | PROT_WRITE, id, err, errlen)) !=
	    0)
		goto fail;
	if (sf->copy && (rc = upgrade_file(sf, err, errlen)) != 0)
		goto fail;
	return 0;
fail:
	statefile_close(sf);
	return rc;
}

/*
 * Maps the open sf->fd with prot and checks it as a start does: its size
 * and layout, then, unless id is NULL, that it was made for id.  0, or
 * EX_DATAERR with the reason and what to do in err.
 */
static int
map_checked(struct statefile *sf, int prot, const struct state_identity *id,
    char *err, size_t errlen)
{
	char reason[512];
	int mapped;

	if ((mapped = map_whole(sf, prot, err, errlen)) == 1)
		snprintf(err, errlen,
		    "%s: %lld bytes is too short for a genid state file;"
		    " refusing to reuse it: %s",
		    sf->path, (long long)sf->len, statefile_damaged_rule);
	if (mapped != 0)
		return EX_DATAERR;
	if (state_check(sf->h, sf->len, NULL, err, errlen) == -1) {
		snprintf(reason, sizeof(reason), "%s", err);
		/* A newer genid's file is not damaged: it says what to do. */
		if (state_layout(sf->h, sf->len) > STATE_VERSION)
			snprintf(err, errlen, "%s: %s", sf->path, reason);
		else
			snprintf(err, errlen,
			    "%s: %s; refusing to reuse it: %s", sf->path,
			    reason, statefile_damaged_rule);
		return EX_DATAERR;
	}
	if (id != NULL && state_check(sf->h, sf->len, id, err, errlen) == -1) {
		snprintf(reason, sizeof(reason), "%s", err);
		snprintf(err, errlen,
		    "%s: %s; refusing to reuse it (correct the configuration,"
		    " or give this identity a state_file of its own)",
		    sf->path, reason);
		return EX_DATAERR;
	}
	return 0;
}

int
statefile_check(struct statefile *sf, const char *path,
    const struct state_identity *id, char *err, size_t errlen)
{
	int rc;

	memset(sf, 0, sizeof(*sf));
	sf->mirror_fd = -1;
	snprintf(sf->path, sizeof(sf->path), "%s", path);
	if ((sf->fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		rc = errno == ENOENT ? EX_NOINPUT : EX_CANTCREAT;
		snprintf(err, errlen, "open %s: %s", path, strerror(errno));
		return rc;
	}
	if ((rc = map_checked(sf, PROT_READ, id, err, errlen)) != 0)
		statefile_close(sf);
	return rc;
}

int
statefile_open_ro(
    struct statefile *sf, const char *path, char *err, size_t errlen)
{
	int mapped;

	memset(sf, 0, sizeof(*sf));
	sf->mirror_fd = -1;
	snprintf(sf->path, sizeof(sf->path), "%s", path);
	if ((sf->fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "open %s: %s", path, strerror(errno));
		return -1;
	}
	if ((mapped = map_whole(sf, PROT_READ, err, errlen)) == 1)
		snprintf(err, errlen, "%s: not a genid state file (%lld bytes)",
		    path, (long long)sf->len);
	if (mapped != 0)
		goto fail;
	if (state_check(sf->h, sf->len, NULL, err, errlen) == -1) {
		char reason[512];

		snprintf(reason, sizeof(reason), "%s", err);
		snprintf(err, errlen, "%s: %s", path, reason);
		goto fail;
	}
	return 0;
fail:
	statefile_close(sf);
	return -1;
}

int
statefile_in_use(const struct statefile *sf)
{
	if (flock(sf->fd, LOCK_SH | LOCK_NB) == -1)
		return errno == EWOULDBLOCK;
	flock(sf->fd, LOCK_UN);
	return 0;
}

int
statefile_sync(struct statefile *sf)
{
	/* The header, checkpoint included, lies in the first page. */
	return msync(sf->h, sizeof(struct state_header), MS_SYNC);
}

void
statefile_kernel_boot(uint64_t id[2])
{
	char text[64];
	unsigned i, n = 0;
	FILE *f;

	id[0] = id[1] = 0;
	if ((f = fopen("/proc/sys/kernel/random/boot_id", "r")) == NULL)
		return;
	if (fgets(text, sizeof(text), f) != NULL) {
		for (i = 0; text[i] != '\0' && n < 32; i++) {
			int v = text[i] >= '0' && text[i] <= '9' ? text[i] - '0'
			    : text[i] >= 'a' && text[i] <= 'f'
			    ? text[i] - 'a' + 10
			    : -1;

			if (v < 0)
				continue;
			id[n / 16] = id[n / 16] << 4 | (uint64_t)v;
			n++;
		}
	}
	fclose(f);
	if (n != 32)
		id[0] = id[1] = 0;
}

void
statefile_beat(struct statefile *sf, unsigned slot)
{
	state_store((uint64_t *)&state_worker(sf->h, slot)->beat,
	    (uint64_t)clock_mono_ms());
}

int64_t
statefile_beat_age(const struct statefile *sf, unsigned slot)
{
	struct state_worker *w = state_worker(sf->h, slot);
	int64_t beat = (int64_t)state_load((const uint64_t *)&w->beat);

	if (state_load((const uint64_t *)&w->pid) == 0 || beat == 0)
		return -1;
	return clock_mono_ms() - beat;
}

int
statefile_worker_live(const struct statefile *sf, unsigned slot)
{
	struct state_worker *w = state_worker(sf->h, slot);
	int64_t age;

	if (state_load((const uint64_t *)&w->pid) == 0)
		return 0;
	/* Not beaten yet: just started, give it its share. */
	if ((age = statefile_beat_age(sf, slot)) == -1)
		return 1;
	return age <= STATEFILE_LIVE_MS;
}

/*
 * Whether the path names a file other than the one genid runs on (or the
 * copy it restored after a deletion): a rename or a copy over the name.
 */
static int
replaced(const struct statefile *sf)
{
	struct stat at, ours;
	int fd = sf->mirror_fd != -1 ? sf->mirror_fd : sf->fd;

	if (stat(sf->path, &at) == -1 || fstat(fd, &ours) == -1)
		return 0;
	return at.st_ino != ours.st_ino || at.st_dev != ours.st_dev;
}

enum statefile_health
statefile_health(const struct statefile *sf, long long *size)
{
	struct stat st;

	/* fstat failing tells nothing about the file: go on as before. */
	if (fstat(sf->fd, &st) == -1)
		return STATEFILE_OK;
	*size = (long long)st.st_size;
	if ((size_t)st.st_size < state_size())
		return STATEFILE_TRUNCATED;
	if (replaced(sf))
		return STATEFILE_REPLACED;
	if (st.st_nlink == 0 &&
	    (sf->mirror_fd == -1 ||
		(fstat(sf->mirror_fd, &st) == 0 && st.st_nlink == 0)))
		return STATEFILE_DELETED;
	return STATEFILE_OK;
}

/* A copy of the mapping with the checkpoint raised to floor, resealed. */
static void
copy_state(const struct statefile *sf, struct state_header *c, uint32_t floor)
{
	uint32_t ckpt;
	unsigned i;

	/* Field by field in one access each, as every reader does. */
	for (i = 0; i < state_size() / sizeof(uint64_t); i++)
		((uint64_t *)(void *)c)[i] =
		    state_load(&((uint64_t *)(void *)sf->h)[i]);
	ckpt = (uint32_t)(c->checkpoint_seal >> 32);
	if (floor > ckpt) {
		c->checkpoint = floor;
		c->checkpoint_seal = state_seal(c, floor);
	}
	/*
	 * The copy's table lags the workers by up to a tick, which a restart
	 * after a crash never trusts (only the raised checkpoint); after a
	 * clean stop the copy is exact.  Its kernel boot stays this one's:
	 * a restart tells a crash from a crash and a reboot by it.
	 */
	if (c->clean == 1)
		c->table_sum = state_table_sum(c);
}

int
statefile_mirror(struct statefile *sf, uint32_t floor)
{
	static uint64_t buf[8192 / sizeof(uint64_t)];
	struct state_header *c = (struct state_header *)(void *)buf;
	size_t len = state_size();

	_Static_assert(
	    sizeof(buf) >= STATE_HEADER_SIZE + 6144, "mirror buffer");
	copy_state(sf, c, floor);
	if (pwrite(sf->mirror_fd, c, len, 0) != (ssize_t)len ||
	    fdatasync(sf->mirror_fd) == -1)
		return -1;
	sf->mirror_floor = floor;
	return 0;
}

int
statefile_restore(struct statefile *sf, char *err, size_t errlen)
{
	char tmp[PATH_MAX + 16];
	size_t len = state_size();
	int fd, rc;

	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", sf->path, (long)getpid());
	if ((fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640)) ==
	    -1) {
		snprintf(err, errlen, "create %s: %s", tmp, strerror(errno));
		return -1;
	}
	if ((rc = posix_fallocate(fd, 0, (off_t)len)) != 0) {
		snprintf(err, errlen, "allocate %s: %s", tmp, strerror(rc));
		goto fail;
	}
	if (sf->mirror_fd != -1)
		close(sf->mirror_fd);
	sf->mirror_fd = fd;
	if (statefile_mirror(sf, sf->mirror_floor) == -1) {
		snprintf(err, errlen, "write %s: %s", tmp, strerror(errno));
		goto fail;
	}
	/* Locked like the original: no other genid may start on it. */
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		snprintf(err, errlen, "flock %s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (link(tmp, sf->path) == -1) {
		snprintf(err, errlen, "link %s: %s%s", sf->path,
		    strerror(errno),
		    errno == EEXIST ? " (another file took its place)" : "");
		goto fail;
	}
	unlink(tmp);
	return sync_dir(sf->path, err, errlen);
fail:
	close(fd);
	sf->mirror_fd = -1;
	unlink(tmp);
	return -1;
}

/*
 * Links the file at path to a new name beside it, PATH.damaged-UNIXTIME
 * (with .1, .2 ... when that is taken), written to aside.  0, or -1.
 */
static int
keep_aside(
    const char *path, char *aside, size_t asidelen, char *err, size_t errlen)
{
	long long now = (long long)clock_real_s();
	unsigned n;

	for (n = 0; n < 100; n++) {
		if (n == 0)
			snprintf(aside, asidelen, "%s.damaged-%lld", path, now);
		else
			snprintf(aside, asidelen, "%s.damaged-%lld.%u", path,
			    now, n);
		if (link(path, aside) == 0)
			return 0;
		if (errno != EEXIST)
			break;
	}
	snprintf(
	    err, errlen, "link %s to %s: %s", path, aside, strerror(errno));
	aside[0] = '\0';
	return -1;
}

int
statefile_rescue(const struct statefile *sf, const struct state_header *head,
    uint32_t ckpt, char *aside, size_t asidelen, char *err, size_t errlen)
{
	static uint64_t buf[8192 / sizeof(uint64_t)];
	struct state_header *c = (struct state_header *)(void *)buf;
	char tmp[PATH_MAX + 16];
	size_t len = state_size();
	unsigned i;
	int fd;

	_Static_assert(
	    sizeof(buf) >= STATE_HEADER_SIZE + 6144, "rescue buffer");
	memset(buf, 0, sizeof(buf));
	memcpy(c, head, sizeof(*c));
	for (i = 0; i < STATE_WORKERS; i++)
		state_worker(c, i)->exit_status = -1;
	c->checkpoint = ckpt;
	c->checkpoint_safe = ckpt;
	c->checkpoint_seal = state_seal(c, ckpt);
	c->clean = 0;
	c->table_sum = 0;
	aside[0] = '\0';
	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", sf->path, (long)getpid());
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640)) ==
	    -1) {
		snprintf(err, errlen, "create %s: %s", tmp, strerror(errno));
		return -1;
	}
	if (pwrite(fd, c, len, 0) != (ssize_t)len || fsync(fd) == -1) {
		snprintf(err, errlen, "write %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	/* The old name stays on the damaged file; the new one replaces it
	 * at the path in one step. */
	if (access(sf->path, F_OK) == 0 &&
	    keep_aside(sf->path, aside, asidelen, err, errlen) == -1) {
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, sf->path) == -1) {
		snprintf(err, errlen, "rename %s to %s: %s", tmp, sf->path,
		    strerror(errno));
		unlink(tmp);
		return -1;
	}
	return sync_dir(sf->path, err, errlen);
}

void
statefile_kept_name(
    const char *path, const struct state_identity *id, char *buf, size_t len)
{
	snprintf(buf, len, "%s.zone%u-dc%u-machine%u-epoch%lld", path, id->zone,
	    id->dc, id->machine, (long long)id->epoch);
}

/* Whether the names a and b are links to one file (1) or not (0). */
static int
same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
	    sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev;
}

int
statefile_identity(const char *path, struct state_identity *id)
{
	struct statefile sf;
	char err[1024];

	if (statefile_open_ro(&sf, path, err, sizeof(err)) == -1)
		return -1;
	*id = (struct state_identity){
	    sf.h->zone, sf.h->dc, sf.h->machine, sf.h->epoch};
	statefile_close(&sf);
	return 0;
}

/*
 * Whether the file at file, of id's zone, dc and machine but another
 * epoch, issued IDs that id's would reach: its checkpoint (a second of
 * its epoch) at or above the second id's IDs start at now.  1 with why
 * in err, else 0.
 */
static int
epoch_clash(const char *file, const struct state_identity *id, int64_t now,
    char *err, size_t errlen)
{
	struct statefile sf;
	char why[1024];
	int64_t start = now - id->epoch, ckpt;
	int64_t e1;

	if (statefile_open_ro(&sf, file, why, sizeof(why)) == -1)
		return 0;
	ckpt = (int64_t)(state_load(&sf.h->checkpoint_seal) >> 32);
	e1 = sf.h->epoch;
	if (sf.h->zone != id->zone || sf.h->dc != id->dc ||
	    sf.h->machine != id->machine || e1 == id->epoch ||
	    start > ckpt + 1) {
		statefile_close(&sf);
		return 0;
	}
	statefile_close(&sf);
	snprintf(err, errlen,
	    "the epoch of zone %u dc %u machine %u changes from %lld to %lld,"
	    " and %s shows it issued IDs under epoch %lld up to second %lld:"
	    " its IDs under epoch %lld start at second %lld, and would repeat"
	    " those once they reach it.  Keep epoch %lld, or give the new"
	    " epoch a machine_id of its own; only if this node never issued"
	    " an ID under epoch %lld (a fresh install), move %s away and"
	    " start again",
	    id->zone, id->dc, id->machine, (long long)e1, (long long)id->epoch,
	    file, (long long)e1, (long long)ckpt, (long long)id->epoch,
	    (long long)start, (long long)e1, (long long)e1, file);
	return 1;
}

int
statefile_epoch_clash(const char *path, const struct state_identity *id,
    int64_t now, char *err, size_t errlen)
{
	char pattern[PATH_MAX + 64];
	glob_t g;
	size_t i;
	int clash;

	if ((clash = epoch_clash(path, id, now, err, errlen)) != 0)
		return clash;
	snprintf(pattern, sizeof(pattern), "%s.zone%u-dc%u-machine%u-epoch*",
	    path, id->zone, id->dc, id->machine);
	if (glob(pattern, GLOB_NOSORT, NULL, &g) != 0)
		return 0;
	for (i = 0; i < g.gl_pathc && !clash; i++)
		clash = epoch_clash(g.gl_pathv[i], id, now, err, errlen);
	globfree(&g);
	return clash;
}

int
statefile_switch(const char *path, const struct state_identity *id, int64_t now,
    struct statefile_switch *sw, char *err, size_t errlen)
{
	struct statefile sf;
	char tmp[PATH_MAX + 16];
	int rc = 0;

	memset(sw, 0, sizeof(*sw));
	statefile_kept_name(path, id, sw->took, sizeof(sw->took));
	memset(&sf, 0, sizeof(sf));
	sf.mirror_fd = -1;
	snprintf(sf.path, sizeof(sf.path), "%s", path);
	if ((sf.fd = open(path, O_RDWR | O_CLOEXEC)) == -1) {
		/* No file, but one kept for this identity: it is the node's. */
		if (errno != ENOENT || access(sw->took, F_OK) == -1)
			return 0;
		if (rename(sw->took, path) == -1) {
			snprintf(err, errlen, "rename %s to %s: %s", sw->took,
			    path, strerror(errno));
			return EX_CANTCREAT;
		}
		sw->done = STATEFILE_TOOK_BACK;
		return sync_dir(path, err, errlen) == -1 ? EX_CANTCREAT : 0;
	}
	/*
	 * Locked, damaged or this identity's own: statefile_open says so.
	 * The lock is held to the end: nobody starts on the file meanwhile.
	 * The workers of a master just killed get the time statefile_open
	 * gives them, so that a restart right after a kill -9 switches too.
	 */
	if (lock_file(sf.fd, path, SWITCH_LOCK_WAIT_MS, err, errlen) != 0 ||
	    map_checked(&sf, PROT_READ, NULL, err, errlen) != 0 ||
	    (sf.h->zone == id->zone && sf.h->dc == id->dc &&
		sf.h->machine == id->machine && sf.h->epoch == id->epoch))
		goto out;
	sw->was = (struct state_identity){
	    sf.h->zone, sf.h->dc, sf.h->machine, sf.h->epoch};
	statefile_kept_name(path, &sw->was, sw->kept, sizeof(sw->kept));
	if (statefile_epoch_clash(path, id, now, err, errlen)) {
		rc = EX_DATAERR;
		goto out;
	}
	/* A link left by a switch cut short is this one's. */
	if (link(path, sw->kept) == -1 &&
	    (errno != EEXIST || !same_file(path, sw->kept))) {
		snprintf(err, errlen,
		    "%s was made for zone %u dc %u machine %u epoch %lld, and"
		    " cannot be kept as %s: %s%s",
		    path, sw->was.zone, sw->was.dc, sw->was.machine,
		    (long long)sw->was.epoch, sw->kept, strerror(errno),
		    errno == EEXIST ? " (another file of that identity is"
				      " there: keep the one that genid ran"
				      " on last, and move the other away)"
				    : "");
		rc = EX_CANTCREAT;
		goto out;
	}
	if (access(sw->took, F_OK) == 0) {
		if (rename(sw->took, path) == -1) {
			snprintf(err, errlen, "rename %s to %s: %s", sw->took,
			    path, strerror(errno));
			rc = EX_CANTCREAT;
			goto out;
		}
		sw->done = STATEFILE_TOOK_BACK;
	} else {
		if (write_new(path, id, now, tmp, sizeof(tmp), err, errlen) ==
		    -1) {
			rc = EX_CANTCREAT;
			goto out;
		}
		if (rename(tmp, path) == -1) {
			snprintf(err, errlen, "rename %s to %s: %s", tmp, path,
			    strerror(errno));
			unlink(tmp);
			rc = EX_CANTCREAT;
			goto out;
		}
		sw->took[0] = '\0';
		sw->done = STATEFILE_MADE;
	}
	if (sync_dir(path, err, errlen) == -1)
		rc = EX_CANTCREAT;
out:
	if (rc == 0 && sw->done == STATEFILE_UNCHANGED)
		err[0] = '\0';
	statefile_close(&sf);
	return rc;
}

int
statefile_downgrade(
    const char *path, const char **what, char *err, size_t errlen)
{
	static uint64_t buf[8192 / sizeof(uint64_t)];
	struct statefile sf;
	char tmp[PATH_MAX + 16];
	size_t len = state_size_v3();
	int fd = -1, rc;

	_Static_assert(sizeof(buf) >= STATE_V3_HEADER_SIZE + 6144, "buffer");
	memset(&sf, 0, sizeof(sf));
	sf.mirror_fd = -1;
	snprintf(sf.path, sizeof(sf.path), "%s", path);
	if ((sf.fd = open(path, O_RDWR | O_CLOEXEC)) == -1 && errno == ENOENT) {
		*what = "no state file there: nothing to convert";
		return 0;
	}
	if (sf.fd == -1) {
		snprintf(err, errlen, "open %s: %s", path, strerror(errno));
		return EX_CANTCREAT;
	}
	if ((rc = lock_file(sf.fd, path, 0, err, errlen)) != 0)
		goto out;
	if ((rc = map_checked(&sf, PROT_READ, NULL, err, errlen)) != 0)
		goto out;
	if (sf.copy && sf.upgraded_from == 3) {
		*what = "layout 3 already: nothing to convert";
		goto out;
	}
	state_downgrade(sf.h, buf);
	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640)) ==
	    -1) {
		snprintf(err, errlen, "create %s: %s", tmp, strerror(errno));
		rc = EX_CANTCREAT;
		goto out;
	}
	if (pwrite(fd, buf, len, 0) != (ssize_t)len || fsync(fd) == -1 ||
	    fchmod_like(fd, sf.fd) == -1 || rename(tmp, path) == -1) {
		snprintf(err, errlen, "write %s: %s", tmp, strerror(errno));
		unlink(tmp);
		rc = EX_CANTCREAT;
		goto out;
	}
	if (sync_dir(path, err, errlen) == -1)
		rc = EX_CANTCREAT;
	*what = "converted to layout 3";
out:
	if (fd != -1)
		close(fd);
	statefile_close(&sf);
	return rc;
}

void
statefile_close(struct statefile *sf)
{
	if (sf->h != NULL && sf->copy)
		free(sf->h);
	else if (sf->h != NULL)
		munmap(sf->h, sf->len);
	sf->copy = 0;
	if (sf->fd != -1)
		close(sf->fd);
	if (sf->mirror_fd != -1)
		close(sf->mirror_fd);
	sf->h = NULL;
	sf->fd = -1;
	sf->mirror_fd = -1;
}
