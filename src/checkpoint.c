/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * checkpoint.c - keep every issued timestamp at or below a durable mark.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sysexits.h>
#include <time.h>

#include "clock.h"
#include "bucket.h"
#include "checkpoint.h"
#include "id.h"
#include "log.h"
#include "ratelimit.h"
#include "slew.h"
#include "timefmt.h"

/* After a failed msync, how long raises fail without trying again. */
#define RAISE_RETRY_MS 100
/* The least time between two messages about failing raises. */
#define WARN_EVERY_S 10.0

/*
 * The failures of this process: a disk that returns EIO would otherwise
 * be asked again on every request, and logged as often.
 */
static struct {
	int64_t failed_ms; /* last failed msync, 0 = none since it worked */
	int error;
	struct ratelimit log;
	unsigned long failures; /* since the last message */
} fails = {0, 0, {WARN_EVERY_S, 0, 0, 0}, 0};

int
checkpoint_raise(struct statefile *sf, uint32_t target)
{
	struct state_header *h = sf->h;
	int64_t now_ms;

	if (state_load(&h->checkpoint_safe) >= target)
		return 0;
	state_raise(&h->checkpoint, target);
	state_raise(&h->checkpoint_seal, state_seal(h, target));
	now_ms = clock_mono_ms();
	if (fails.failed_ms != 0 && now_ms - fails.failed_ms < RAISE_RETRY_MS) {
		fails.failures++;
		errno = fails.error;
		return -1;
	}
	/*
	 * Another process may have raised it further meanwhile; syncing the
	 * page covers its value too, and workers may then use ours.
	 */
	if (statefile_sync(sf) == -1) {
		fails.failed_ms = now_ms;
		fails.error = errno;
		fails.failures++;
		return -1;
	}
	if (fails.failed_ms != 0) {
		log_notice("msync %s works again", sf->path);
		fails.failed_ms = 0;
	}
	state_raise(&h->checkpoint_safe, target);
	state_store(&h->checkpoint_syncs, state_load(&h->checkpoint_syncs) + 1);
	state_store(
	    (uint64_t *)&h->checkpoint_synced, (uint64_t)clock_real_s());
	return 0;
}

void
checkpoint_warn(const struct statefile *sf, const char *what)
{
	unsigned held;

	if (!ratelimit_allow(&fails.log, clock_mono_ms() / 1000.0, &held))
		return;
	log_warnx("msync %s (%s): %s: the checkpoint cannot move; workers stop"
		  " issuing once it is reached (%lu failed raises since the"
		  " last message)",
	    sf->path, what, strerror(fails.error), fails.failures);
	fails.failures = 0;
}

int64_t
checkpoint_now(int64_t epoch)
{
	return id_ts_of(clock_real_s(), epoch);
}

static void
reset_counters(struct state_header *h)
{
	unsigned i;

	for (i = 0; i < STATE_BUCKETS; i++) {
		struct state_bucket *b = state_bucket(h, i);

		memset((char *)b + sizeof(b->word), 0,
		    sizeof(*b) - sizeof(b->word));
	}
	for (i = 0; i < STATE_WORKERS; i++) {
		struct state_worker *w = state_worker(h, i);

		memset(w, 0, sizeof(*w));
		w->exit_status = -1;
	}
	h->worker_restarts = 0;
	h->clock_steps_back = 0;
	h->clock_steps_forward = 0;
	h->clock_step_last_ns = 0;
	h->clock_step_max_back_ns = 0;
}

static int
wait_for_clock(struct state_header *h, uint32_t ckpt,
    const struct slew_conf *sc, int wait_clock, int64_t *now, char *err,
    size_t errlen)
{
	char t_now[TIMEFMT_LEN], t_ckpt[TIMEFMT_LEN];
	/*
	 * A slew the last boot recorded carries its lead whatever its size:
	 * a restart or a kill -9 in a slew goes on slewing.
	 */
	uint64_t recorded = (state_load(&h->slew_extra_ms) + 999) / 1000;
	uint32_t slew = recorded > sc->max_slew
	    ? (uint32_t)(recorded > UINT32_MAX / 2 ? UINT32_MAX / 2 : recorded)
	    : sc->max_slew;
	int logged = 0;

	for (;;) {
		if ((*now = checkpoint_now(h->epoch)) == -1) {
			snprintf(err, errlen,
			    "the clock is before the epoch %lld: set the clock",
			    (long long)h->epoch);
			return EX_TEMPFAIL;
		}
		if (clock_start_rule((uint32_t)*now, ckpt, sc->max_ahead,
			slew) != CLOCK_START_BEHIND)
			return 0;
		timefmt_iso(*now + h->epoch, t_now, sizeof(t_now));
		timefmt_iso((int64_t)ckpt + h->epoch, t_ckpt, sizeof(t_ckpt));
		if (!wait_clock) {
			snprintf(err, errlen,
			    "clock %s is %lld s behind the checkpoint %s (this"
			    " node may have issued IDs up to then), more than"
			    " max_slew_s + 2 * max_ahead_s + 2 = %llu, and no"
			    " slew recorded in the state file explains it:"
			    " correct the clock, or start with --wait-clock to"
			    " wait for it",
			    t_now, (long long)(ckpt - *now), t_ckpt,
			    (unsigned long long)slew + 2ull * sc->max_ahead +
				2);
			return EX_TEMPFAIL;
		}
		if (!logged++)
			log_warnx("clock %s is %lld s behind the checkpoint %s:"
				  " waiting for it (--wait-clock)",
			    t_now, (long long)(ckpt - *now), t_ckpt);
		nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
	}
}

/*
 * Where a bucket resumes.  After a clean stop its word is durable.  After
 * any other stop only the checkpoint is to be trusted, even within the
 * same kernel boot: a file system shut down and remounted, or a state
 * file restored from a copy, loses stores the page cache held.  Every
 * bucket then restarts above the checkpoint, and never below its stored
 * word, which may have been issued; the lead this gives is what the
 * boot's slew carries.
 */
static uint64_t
resume_word(uint64_t word, uint32_t ckpt, int clean)
{
	uint64_t above = bucket_restart_word(ckpt);

	if (clean || word > above)
		return word;
	return above;
}

/*
 * The table as the last boot left it must be one a genid could have
 * written: every word valid under the checkpoint and, after a clean stop,
 * the table's checksum.  Damage is refused, never repaired by a guess.
 */
static int
check_table(
    struct statefile *sf, uint32_t ckpt, int clean, char *err, size_t errlen)
{
	struct state_header *h = sf->h;
	unsigned i;

	if (clean && state_load(&h->table_sum) != state_table_sum(h)) {
		snprintf(err, errlen,
		    "%s: the bucket table fails the checksum written at its"
		    " clean stop: the state file is damaged; refusing to reuse"
		    " it: %s",
		    sf->path, statefile_damaged_rule);
		return EX_DATAERR;
	}
	for (i = 0; i < STATE_BUCKETS; i++) {
		uint64_t word = state_load(&state_bucket(h, i)->word);

		if (state_word_valid(word, ckpt))
			continue;
		snprintf(err, errlen,
		    "%s: bucket %u holds second %u counter %u, impossible under"
		    " the checkpoint %u: the state file is damaged; refusing"
		    " to reuse it: %s",
		    sf->path, i, bucket_ts(word), bucket_next(word), ckpt,
		    statefile_damaged_rule);
		return EX_DATAERR;
	}
	return 0;
}

/*
 * A new state file knows nothing of what this identity issued before: a
 * predecessor whose file was lost may have issued up to 2 * max_ahead + 1
 * seconds ahead of the clock, what an earlier genid's worker could raise
 * the checkpoint to.  The buckets start above that, and the boot's slew
 * lets them issue at once.
 */
int
checkpoint_init_lost(struct statefile *sf, int64_t now, unsigned max_ahead,
    char *err, size_t errlen)
{
	uint64_t reach = (uint64_t)now + 2 * (uint64_t)max_ahead + 1;
	uint32_t ckpt = (uint32_t)state_load(&sf->h->checkpoint);

	if (reach > UINT32_MAX)
		reach = UINT32_MAX;
	if (reach <= ckpt)
		return 0;
	if (checkpoint_raise(sf, (uint32_t)reach) == -1) {
		snprintf(
		    err, errlen, "msync %s: %s", sf->path, strerror(errno));
		return EX_IOERR;
	}
	return 0;
}

/*
 * How the last boot ended, for the log only: the words are trusted after
 * a clean stop whatever the kernel boot, and never after a crash.  The
 * kernel boot is told only when both ids are known, never guessed.
 */
static const char *
last_stop(const uint64_t was[2], const uint64_t now[2], int clean)
{
	if (clean && (was[0] | was[1]) != 0 && (now[0] | now[1]) != 0 &&
	    (was[0] != now[0] || was[1] != now[1]))
		return "after a clean stop, then a reboot or a move from"
		       " another host (a copy of this file must not run"
		       " anywhere else: twins repeat IDs)";
	if (clean)
		return "after a clean stop";
	if (now[0] == 0 && now[1] == 0)
		return "after a crash (a reboot since is unknown: the kernel's"
		       " boot id is unreadable)";
	if (was[0] == 0 && was[1] == 0)
		return "after a crash (a reboot since is unknown: the state"
		       " file holds no kernel boot id)";
	if (was[0] == now[0] && was[1] == now[1])
		return "after a crash";
	return "after a crash and a reboot";
}

/* Notes the boot's slew in the header, where the master takes it up. */
static void
boot_slew(struct state_header *h, const struct slew_conf *sc, uint32_t extra)
{
	int64_t now = clock_mono_ms();
	struct slew s;

	slew_start(&s, sc, now, (int64_t)extra * 1000);
	state_store(&h->allowance, slew_allowance(&s, sc, now));
	state_store(&h->slew_extra_ms, (uint64_t)slew_extra_ms(&s, sc, now));
	state_store(&h->slew_end_ms, (uint64_t)s.end_ms);
	state_store(&h->slew_rate_ppm, sc->rate_ppm);
	state_store(&h->slews, extra > 0);
	state_store(&h->slews_far, 0);
	if (extra > 0)
		log_notice("the buckets resume %u s ahead of the clock: slewing"
			   " back to it over %.0f s, at %.0f%% of capacity"
			   " meanwhile (clock_slew %g)",
		    extra + sc->max_ahead, (double)slew_left_ms(&s, now) / 1000,
		    100.0 - sc->rate_ppm / 1e4, sc->rate_ppm / 1e6);
}

int
checkpoint_boot(struct statefile *sf, const struct slew_conf *sc,
    int wait_clock, uint32_t floor, char *err, size_t errlen)
{
	struct state_header *h = sf->h;
	uint32_t ckpt, target, highest = 0;
	int clean = state_load(&h->clean) == 1;
	uint64_t boot[2];
	const char *stop;
	int64_t now;
	unsigned i;
	int rc;

	/* The seal was checked when the file was opened. */
	ckpt = (uint32_t)(state_load(&h->checkpoint_seal) >> 32);
	if ((rc = check_table(sf, ckpt, clean, err, errlen)) != 0)
		return rc;
	/*
	 * Another node held this identity (etcd's checkpoint, genid(8)):
	 * resume above what it may have issued, as after a crash.
	 */
	if (floor > ckpt) {
		ckpt = floor;
		clean = 0;
	}
	if ((rc = wait_for_clock(h, ckpt, sc, wait_clock, &now, err, errlen)) !=
	    0)
		return rc;
	/* A raise cut short by a crash may have moved only this copy. */
	state_store(&h->checkpoint, ckpt);
	statefile_kernel_boot(boot);
	stop = last_stop(h->kernel_boot, boot, state_load(&h->clean) == 1);
	h->kernel_boot[0] = boot[0];
	h->kernel_boot[1] = boot[1];
	for (i = 0; i < STATE_BUCKETS; i++) {
		struct state_bucket *b = state_bucket(h, i);
		uint64_t word = resume_word(state_load(&b->word), ckpt, clean);

		state_store(&b->word, word);
		if (bucket_ts(word) > highest)
			highest = bucket_ts(word);
	}
	reset_counters(h);
	/* The safe mark restarts at the durable one and moves up from there. */
	state_store(&h->checkpoint_safe, ckpt);
	state_store(&h->boot_count, state_load(&h->boot_count) + 1);
	state_store(&h->clean, 0);
	h->max_ahead = sc->max_ahead;
	boot_slew(h, sc, slew_boot_extra((uint32_t)now, highest, sc));
	/*
	 * The buckets must be able to issue at once: the mark goes to the
	 * allowance ahead of the clock, which covers the highest bucket
	 * second.  The sync also makes the cleared flag durable before
	 * anything is issued.
	 */
	target = bucket_checkpoint_target((uint32_t)now, state_allowance(h));
	if (target < ckpt)
		target = ckpt; /* a floor from etcd is made durable here too */
	if (checkpoint_raise(sf, target) == -1 ||
	    (target <= ckpt && statefile_sync(sf) == -1)) {
		snprintf(
		    err, errlen, "msync %s: %s", sf->path, strerror(errno));
		return EX_IOERR;
	}
	log_info("boot %llu, %s: buckets resume %s; checkpoint %lld s ahead"
		 " of the clock",
	    (unsigned long long)h->boot_count,
	    h->boot_count == 1 ? "first start" : stop,
	    clean	    ? "where they stood"
		: ckpt == 0 ? "at the clock (no ID issued before)"
			    : "above the checkpoint",
	    (long long)state_load(&h->checkpoint) - (long long)now);
	return 0;
}

int
checkpoint_shutdown(struct statefile *sf)
{
	if (msync(sf->h, sf->len, MS_SYNC) == -1)
		return -1;
	state_store(&sf->h->table_sum, state_table_sum(sf->h));
	state_store(&sf->h->clean, 1);
	return statefile_sync(sf);
}
