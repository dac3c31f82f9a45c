/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * statewatch.c - the master's watch over the state file (genid(8)): a
 * file cut short, replaced or written over stops the node and is replaced
 * by one written from the master's memory; a deleted one is restored.
 */
#include <limits.h>
#include <sysexits.h>
#include <unistd.h>

#include "bucket.h"
#include "clock.h"
#include "log.h"
#include "statewatch.h"

static int written_over(struct statewatch *w);

void
statewatch_init(
    struct statewatch *w, struct statefile *sf, unsigned interval_ms)
{
	w->sf = sf;
	w->interval_ms = interval_ms;
	w->head = *sf->h;
	w->ckpt_seen = (uint32_t)state_load(&sf->h->checkpoint_safe);
	proto_guard_init(&w->guard, sf->h);
	w->guard.started_ms = clock_mono_ms();
}

/*
 * The checkpoint the restored copy of a deleted state file, or the new
 * file after damage, must hold now: beyond anything a worker may issue
 * under before the next tick, raises of its own included (allowance + 1
 * ahead).
 */
uint32_t
statewatch_floor(const struct statewatch *w, int64_t now, uint32_t allowance)
{
	uint64_t f =
	    (uint64_t)now + allowance + 1 + (w->interval_ms + 999) / 1000;

	return f > UINT32_MAX ? UINT32_MAX : (uint32_t)f;
}

/*
 * The last resort when the file is cut between a check and a read: a
 * message on stderr (only async-signal-safe calls here) and the exit
 * status statewatch_damaged() would have given.  The workers die with the
 * master.
 */
void
statewatch_sigbus(int sig)
{
	static const char msg[] =
	    "genid: SIGBUS: the state file was cut short while genid ran;"
	    " stopping (see genid(8), A state file changed under a running"
	    " node)\n";

	(void)sig;
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) == -1)
		_exit(EX_IOERR);
	_exit(EX_IOERR);
}

/*
 * A state file cut short while running (a stray truncate, a copy over it)
 * took the bucket table with it: every access to the lost pages is a
 * SIGBUS, and a worker that read zeroes would repeat IDs.  The node stops
 * at once, loudly, and leaves the file as it is for the operator.
 */
int
statewatch_damaged(struct statewatch *w)
{
	long long size = 0;
	enum statefile_health health;

	health = statefile_health(w->sf, &size);
	if (health == STATEFILE_TRUNCATED)
		log_warnx("%s was truncated to %lld bytes while genid ran (it"
			  " needs %zu): its bucket table is lost, so no worker"
			  " may issue another ID from it",
		    w->sf->path, size, state_size());
	else if (health == STATEFILE_REPLACED)
		log_warnx("%s is another file now (renamed or copied over"
			  " it while genid ran): a restart would read that"
			  " file, not the one this node issued under",
		    w->sf->path);
	else
		return written_over(w);
	return 1;
}

/*
 * Compares the file with the master's own memory of it: the identity, a
 * checkpoint that never falls, and bucket words that only rise and never
 * pass the checkpoint.  Damage stops the node as a cut does; the words
 * that pass are what a new worker is handed.
 */
static int
written_over(struct statewatch *w)
{
	struct state_header *h = w->sf->h;
	uint32_t safe = (uint32_t)state_load(&h->checkpoint_safe);
	unsigned b;

	if (h->zone != w->guard.zone || h->dc != w->guard.dc ||
	    h->machine != w->guard.machine || h->epoch != w->guard.epoch) {
		log_warnx("%s now names zone %u dc %u machine %u epoch %lld,"
			  " not this node's: it was written over while genid"
			  " ran",
		    w->sf->path, h->zone, h->dc, h->machine,
		    (long long)h->epoch);
		return 1;
	}
	if (safe < w->ckpt_seen) {
		log_warnx("%s: the checkpoint fell from %u to %u while genid"
			  " ran: the file was written over",
		    w->sf->path, w->ckpt_seen, safe);
		return 1;
	}
	w->ckpt_seen = safe;
	for (b = 0; b < STATE_BUCKETS; b++) {
		uint64_t word = state_load(&state_bucket(h, b)->word);

		if (bucket_trust(word, w->guard.own[b], safe) ==
		    BUCKET_TRUSTED) {
			w->guard.own[b] = word;
			continue;
		}
		log_warnx("%s: bucket %u holds second %u counter %u, where"
			  " it held second %u counter %u under the checkpoint"
			  " %u: the file was written over while genid ran",
		    w->sf->path, b, bucket_ts(word), bucket_next(word),
		    bucket_ts(w->guard.own[b]), bucket_next(w->guard.own[b]),
		    safe);
		return 1;
	}
	return 0;
}

/*
 * After damage: a new state file at the path, made from the master's
 * memory alone, with its checkpoint beyond anything a worker may have
 * issued, so that a plain restart resumes above every issued ID (as after
 * a crash).  The damaged file is kept beside it for the operator.
 */
void
statewatch_rescue(struct statewatch *w, uint32_t floor)
{
	uint32_t ckpt = floor > w->ckpt_seen ? floor : w->ckpt_seen;
	char err[1024], aside[PATH_MAX + 32];
	long long size = 0;

	/*
	 * A worker raises the file's checkpoint before it issues under it,
	 * maybe since the last tick: taking the file's too when it is higher
	 * covers that.  A higher one that is garbage makes the start refuse,
	 * loudly, never repeat.  The header's page is readable unless the
	 * file is empty.
	 */
	statefile_health(w->sf, &size);
	if (size > 0) {
		uint64_t c = state_load(&w->sf->h->checkpoint);

		if (c > ckpt && c <= UINT32_MAX)
			ckpt = (uint32_t)c;
	}
	if (statefile_rescue(w->sf, &w->head, ckpt, aside, sizeof(aside), err,
		sizeof(err)) == -1) {
		log_warnx("cannot write a new state file: %s; before starting"
			  " again, %s (this node's checkpoint was second %u)",
		    err, statefile_damaged_rule, ckpt);
		return;
	}
	log_warnx("wrote a new %s from memory, checkpoint second %u, beyond"
		  " every ID issued: a restart resumes above it.  The damaged"
		  " file is kept as %s: find out what changed it",
	    w->sf->path, ckpt,
	    aside[0] != '\0' ? aside : "(none: it was gone)");
}

/*
 * The state file lost its name (rm, a clean-up job): a restart would find
 * none and start afresh.  The mapping still holds everything: it is
 * written back under the path and, since the workers go on writing the
 * old inode, copied there again on every tick and at the stop.
 */
void
statewatch_restore(struct statewatch *w, uint32_t floor)
{
	char err[1024];

	log_warnx("%s was deleted while genid runs: restoring it from memory;"
		  " find out what deleted it",
	    w->sf->path);
	w->sf->mirror_floor = floor;
	if (statefile_restore(w->sf, err, sizeof(err)) == -1)
		log_warnx("cannot restore the state file: %s; a restart will"
			  " find no state file and start as a new node"
			  " (genid(8))",
		    err);
	else
		log_warnx("%s restored; genid keeps it up to date until it"
			  " stops",
		    w->sf->path);
}
