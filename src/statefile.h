/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * statefile.h - open, lock, map and sync the state file.  Shared by the
 * daemon (read-write, locked) and genidctl (read-only).
 */
#ifndef GENID_STATEFILE_H
#define GENID_STATEFILE_H

#include <limits.h>
#include <stdint.h>
#include <stddef.h>

#include "state.h"

struct statefile {
	int fd;
	struct state_header *h;
	size_t len;
	char path[PATH_MAX];
	/*
	 * After the file was deleted under a running genid: the new file
	 * restored at path from the mapping, kept current by the master
	 * (statefile_mirror), or -1.
	 */
	int mirror_fd;
	uint32_t mirror_floor; /* the checkpoint the copy gets at least */
	/*
	 * The layout the file had when it was opened, when older than this
	 * genid's: statefile_open converted it on disk; the read-only opens
	 * hold a converted copy in memory (copy set), not a mapping.
	 */
	unsigned upgraded_from;
	int copy;
};

/*
 * What to do with a state file refused as unreadable or damaged, worded
 * once for every refusal and as genid(8) says it ("A damaged state file").
 */
extern const char statefile_damaged_rule[];

/*
 * Opens path read-write, creating it (and formatting it for id) when
 * missing and create is set (else EX_NOINPUT), takes the exclusive lock (waiting up to lock_wait_ms for a
 * previous genid's processes to let go), maps it MAP_SHARED and checks it
 * against id.  0, or the sysexits.h code that fits (EX_UNAVAILABLE: locked,
 * EX_DATAERR: made for another identity or layout, EX_CANTCREAT: cannot
 * create or open) with the reason in err.
 */
int statefile_open(struct statefile *sf, const char *path,
    const struct state_identity *id, int64_t now, int create,
    unsigned lock_wait_ms, char *err, size_t errlen);

/*
 * Opens path read-only and maps it, checking it as statefile_open does
 * (size and layout, then id unless NULL) but neither locking nor writing
 * it: genid -t.  0, or the code statefile_open would return (EX_NOINPUT:
 * missing, EX_CANTCREAT: cannot open, EX_DATAERR: damaged or made for
 * another identity or layout) with the reason in err.
 */
int statefile_check(struct statefile *sf, const char *path,
    const struct state_identity *id, char *err, size_t errlen);

/* Opens path read-only, maps it and checks its layout (any identity);
 * 0, or -1 with the reason in err. */
int statefile_open_ro(
    struct statefile *sf, const char *path, char *err, size_t errlen);

/* Whether some genid holds the lock on the file (1), or not (0). */
int statefile_in_use(const struct statefile *sf);

/* Writes the header to disk (msync MS_SYNC); 0, or -1 with errno set. */
int statefile_sync(struct statefile *sf);

enum statefile_health {
	STATEFILE_OK,
	STATEFILE_DELETED,   /* no name left: a restart would not find it */
	STATEFILE_TRUNCATED, /* shorter than the mapping: reads would SIGBUS */
	STATEFILE_REPLACED,  /* the path names another file now */
};

/* How the file under the mapping stands now (fstat); its size in *size. */
enum statefile_health statefile_health(
    const struct statefile *sf, long long *size);

/*
 * Writes what the mapping holds to a new file at the path, its checkpoint
 * raised to sf->mirror_floor, durably (file and directory entry), locks
 * it and keeps it as sf->mirror_fd.  0, or -1 with the reason in err.
 */
int statefile_restore(struct statefile *sf, char *err, size_t errlen);

/*
 * Brings the restored file up to the mapping, its checkpoint raised to at
 * least floor (what the workers may issue under before the next call; 0
 * once they are gone), and syncs it.  0, or -1 with errno set.
 */
int statefile_mirror(struct statefile *sf, uint32_t floor);

/* How often a worker should call statefile_beat, in seconds. */
#define STATEFILE_BEAT_S 0.25
/* A worker whose last beat is older than this is not given connections. */
#define STATEFILE_LIVE_MS 1000

/*
 * The kernel's boot id (Linux; the header keeps the last one), or zeroes
 * when it cannot be read.
 */
void statefile_kernel_boot(uint64_t id[2]);

/* Publishes worker slot's heartbeat (the worker calls it from a timer). */
void statefile_beat(struct statefile *sf, unsigned slot);

/*
 * Milliseconds since worker slot's last heartbeat, or -1 when the slot has
 * no process or has not beaten yet.
 */
int64_t statefile_beat_age(const struct statefile *sf, unsigned slot);

/* Whether worker slot runs and beat within STATEFILE_LIVE_MS (1 or 0). */
int statefile_worker_live(const struct statefile *sf, unsigned slot);

/*
 * After the file was damaged under the running node: writes a new state
 * file at the path from head (the header as the boot left it, so the same
 * identity and creation), its checkpoint at ckpt, not a clean stop, so
 * that a start resumes every bucket above ckpt.  The file at the path, if
 * any, is kept as PATH.damaged-UNIXTIME, named in aside ("" if none).  0,
 * or -1 with the reason in err.
 */
int statefile_rescue(const struct statefile *sf,
    const struct state_header *head, uint32_t ckpt, char *aside,
    size_t asidelen, char *err, size_t errlen);

/* The name the file of identity id is kept under beside path (genid(8),
 * "Changing the identity"): PATH.zoneZ-dcD-machineM-epochE. */
void statefile_kept_name(
    const char *path, const struct state_identity *id, char *buf, size_t len);

/* The identity the state file at path was made for: 0, or -1. */
int statefile_identity(const char *path, struct state_identity *id);

enum statefile_switched {
	STATEFILE_UNCHANGED, /* the file at the path is id's, or none */
	STATEFILE_TOOK_BACK, /* id's kept file is at the path again */
	STATEFILE_MADE,	     /* a new file for id, a first start */
};

struct statefile_switch {
	enum statefile_switched done;
	struct state_identity was; /* the identity the file was made for */
	char kept[PATH_MAX];	   /* where that file is kept now */
	char took[PATH_MAX];	   /* the kept file taken back, or "" */
};

/*
 * Whether id would repeat IDs of a file at path, or kept beside it, made
 * for the same zone, dc and machine under another epoch: its seconds
 * start, at now, at or below what that file issued up to (an ID is its
 * second since the epoch, so a later epoch numbers its IDs from lower).
 * 1 with why and what to do in err, else 0.
 */
int statefile_epoch_clash(const char *path, const struct state_identity *id,
    int64_t now, char *err, size_t errlen);

/*
 * Before a start: when the file at path was made for another identity
 * than id, keeps it beside under its identity's name (statefile_kept_name)
 * and puts at path id's file kept there before, or a new one for id when
 * there is none; when there is no file at path, takes back id's kept one
 * if any.  Refused (EX_DATAERR) when only the epoch changes in a way that
 * would repeat IDs (statefile_epoch_clash).  What it did in *sw.  A file that is locked, damaged or id's own
 * is left alone for statefile_open to judge.  0, or a sysexits.h code
 * with the reason in err.
 */
int statefile_switch(const char *path, const struct state_identity *id,
    int64_t now, struct statefile_switch *sw, char *err, size_t errlen);

/*
 * genid --state-layout 3: rewrites the state file at path, which no genid
 * may hold, in layout 3 for an older genid, durably.  0 (also when it is
 * layout 3 already, or missing: *what says which), or a sysexits.h code
 * with the reason in err (EX_UNAVAILABLE: a genid runs on it).
 */
int statefile_downgrade(
    const char *path, const char **what, char *err, size_t errlen);

/* Unmaps and closes; the lock goes with the last process holding it. */
void statefile_close(struct statefile *sf);

#endif
