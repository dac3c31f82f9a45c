/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * master.c - the master process after nginx's cycle: forks the workers,
 * respawns one that dies (backing off when it keeps dying), moves the
 * checkpoint ahead of the clock on a timer, watches the clock for steps,
 * and on SIGTERM stops the workers, escalating to SIGKILL.  Signal
 * handlers only note what happened; the loop acts.
 */
#include <bsd/unistd.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

#include "clock.h"
#include "bucket.h"
#include "checkpoint.h"
#include "children.h"
#include "identity.h"
#include "lease.h"
#include "log.h"
#include "master.h"
#include "notify.h"
#include "peercheck.h"
#include "scrape.h"
#include "serving.h"
#include "slew.h"
#include "steps.h"
#include "statewatch.h"
#include "worker.h"

/* How often the peers are asked who they are (genid(8)). */
#define PEERS_INTERVAL_S 60.0

/* The master's state, reached from its loop (ev_userdata). */
struct master {
	const struct cfg *cfg;
	struct statefile *sf;
	const int *fds;
	unsigned nfds;
	struct child *workers[STATE_WORKERS];
	struct child *peer_check;   /* the process asking the peers */
	struct child *coordination; /* the process renewing the etcd lease */
	ev_signal sig_term, sig_int, sig_hup;
	ev_timer checkpoint_timer, peers_timer, watchdog_timer;
	const char *listen; /* the served addresses as JSON, for etcd */
	int stopping;
	int raise_failed; /* the timer's last checkpoint raise failed */
	int published;	  /* the serving state was published this boot */
	int lost; /* the state file was cut short: do not touch the mapping */
	int code;
	/* The id was another node's meanwhile: not a clean stop (genid(8)). */
	int resume_above;
	struct statewatch watch; /* the master's own memory of the node */
};

static int file_lost(struct ev_loop *loop);
static void stop_damaged(struct ev_loop *loop);
static void rescue(struct ev_loop *loop);
static int stop_pending(const struct master *m);
static void begin_stop(struct ev_loop *loop, const char *why);
static void spawn_worker(struct ev_loop *loop, struct child *ch);
static void worker_body(struct child *ch);
static void worker_exited(struct ev_loop *loop, struct child *ch);
static void peers_body(struct child *ch);
static void coord_body(struct child *ch);
static void spawn_coordinator(struct ev_loop *loop, struct child *ch);
static void coord_exited(struct ev_loop *loop, struct child *ch);

/* The master's children: a body, a respawn rule and the master's policy. */
static const struct child_spec worker_spec = {CHILD_WORKER, CHILD_BACKOFF, NULL,
    worker_body, spawn_worker, worker_exited};
static const struct child_spec peers_spec = {
    CHILD_HELPER, CHILD_ONCE, "peer check", peers_body, NULL, NULL};
static const struct child_spec coord_spec = {CHILD_HELPER, CHILD_AFTER_1S,
    "coordination", coord_body, spawn_coordinator, coord_exited};

/*
 * Whether the state file was lost or damaged while genid ran (genid(8)):
 * then the node stops at once.
 */
static int
file_lost(struct ev_loop *loop)
{
	struct master *m = ev_userdata(loop);
	if (m->lost)
		return 1;
	if (!statewatch_damaged(&m->watch))
		return 0;
	stop_damaged(loop);
	return 1;
}

/*
 * The node stops at once, loudly: the workers are killed before they can
 * issue from the damaged file, and the master leaves the mapping alone.
 * master_run then writes a new file from its memory (statewatch_rescue).
 */
static void
stop_damaged(struct ev_loop *loop)
{
	struct master *m = ev_userdata(loop);
	log_warnx("killing the workers and stopping (exit %d)", EX_IOERR);
	m->lost = 1;
	m->stopping = 1;
	m->code = EX_IOERR;
	children_kill(CHILD_WORKER, SIGKILL);
	ev_break(loop, EVBREAK_ALL);
}

/* Whether the workers issue nothing for a leased identity now. */
static int
fenced(struct state_header *h)
{
	int64_t fence = (int64_t)state_load((uint64_t *)&h->fence_ms);

	return __atomic_load_n(&h->identity, __ATOMIC_ACQUIRE) == CLAIM_LOST ||
	    (fence != 0 && clock_mono_ms() >= fence);
}

/*
 * Judges whether the node can issue now and publishes it in the header
 * for INFO, the metrics and the health checks; a change is logged.
 */
static void
publish_serving(struct master *m, struct state_header *h, int64_t now)
{
	uint64_t words[STATE_BUCKETS];
	struct serving_input in;
	unsigned i, old = h->serving, state;

	for (i = 0; i < STATE_BUCKETS; i++)
		words[i] = state_load(&state_bucket(h, i)->word);
	in.now = now < 0 ? 0 : (uint32_t)now;
	/* How far a bucket may borrow ahead of the clock now: the slew's. */
	in.allowance = state_allowance(h);
	in.stopping = m->stopping;
	in.checkpoint_failed = m->raise_failed;
	in.peer_conflicts = state_load(&h->peer_conflicts);
	in.identity_lost = fenced(h);
	in.words = words;
	in.nwords = STATE_BUCKETS;
	state = serving_judge(&in);
	if (m->published && state == old)
		return;
	__atomic_store_n(&h->serving, state, __ATOMIC_RELEASE);
	state_store((uint64_t *)&h->serving_since, (uint64_t)clock_real_s());
	if (!m->published++ && state == SERVING)
		return;
	if (state == SERVING)
		log_notice("serving again (was %s)", serving_name(old));
	else if (state != SERVING_STOPPING)
		log_warnx("not serving: %s, %s; INFO, the metrics and the"
			  " health checks say so until it clears",
		    serving_name(state),
		    state == SERVING_CLOCK_BEHIND
			? "a bucket is ahead of the clock beyond max_ahead_s"
			  " and used up: its clients wait for the clock"
			: state == SERVING_CHECKPOINT_STUCK
			? "the checkpoint cannot be synced to disk"
			: state == SERVING_IDENTITY_LOST
			? "the etcd lease on its machine id may have ended:"
			  " nothing is issued until it holds the id again"
			: "a peer reports this node's zone, dc and machine");
}

static void
checkpoint_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct master *m = ev_userdata(loop);
	static double mirror_warned;
	struct state_header *h = m->sf->h;
	long long size;
	uint32_t allowance, floor;
	int64_t now;

	if (file_lost(loop))
		return;
	allowance = steps_tick();
	if (!m->stopping)
		notify_status(h);
	if ((now = checkpoint_now(h->epoch)) == -1)
		return;
	floor = statewatch_floor(&m->watch, now, allowance);
	if (statefile_health(m->sf, &size) == STATEFILE_DELETED)
		statewatch_restore(&m->watch, floor);
	if (m->sf->mirror_fd != -1 && statefile_mirror(m->sf, floor) == -1 &&
	    ev_now(loop) - mirror_warned > 60) {
		mirror_warned = ev_now(loop);
		log_warn("write the restored %s", m->sf->path);
	}
	m->raise_failed =
	    checkpoint_raise(m->sf,
		bucket_checkpoint_target((uint32_t)now, allowance)) == -1;
	if (m->raise_failed)
		checkpoint_warn(m->sf, "the checkpoint timer");
	publish_serving(m, h, now);
}

/*
 * A worker that is stopped (SIGSTOP), hung or spinning holds its buckets
 * and its connections hostage: its clients wait without an error.  One
 * whose heartbeat is older than worker_timeout_ms is killed;
 * worker_exited respawns it.  A worker that never beat (an older worker)
 * is left alone.
 */
static void
watchdog_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct master *m = ev_userdata(loop);
	unsigned i;

	if (m->stopping || file_lost(loop))
		return;
	/* A step is seen within a quarter of a second, not a whole tick. */
	(void)steps_tick();
	for (i = 0; i < m->cfg->workers; i++) {
		struct child *ch = m->workers[i];
		int64_t age;

		if (ch->pid == 0 || ch->hung ||
		    (age = statefile_beat_age(m->sf, i)) == -1 ||
		    age <= (int64_t)m->cfg->worker_timeout_ms)
			continue;
		log_warnx("worker %u (pid %ld) gave no sign of life for %.1f s"
			  " (worker_timeout_ms %u): killing it",
		    i, (long)ch->pid, age / 1000.0, m->cfg->worker_timeout_ms);
		ch->hung = 1;
		kill(ch->pid, SIGKILL);
	}
}

static void
worker_body(struct child *ch)
{
	struct master *m = ev_userdata(EV_DEFAULT);
	worker_run(m->cfg, m->sf, &m->watch.guard, m->fds, m->nfds, ch->index);
}

static void
spawn_worker(struct ev_loop *loop, struct child *ch)
{
	struct master *m = ev_userdata(loop);
	struct state_worker *slot = state_worker(m->sf->h, ch->index);
	pid_t pid;

	if (m->stopping || file_lost(loop) ||
	    (pid = children_spawn(loop, ch)) == -1)
		return;
	/* The old worker's heartbeat is not the new one's. */
	state_store((uint64_t *)&slot->beat, 0);
	/*
	 * Noted here and not only by the worker, so that the others see it
	 * running (and leave it its share of connections) before it is.
	 */
	state_store((uint64_t *)&slot->pid, (uint64_t)pid);
	log_info("worker %u started, pid %ld", ch->index, (long)pid);
}

static void
worker_exited(struct ev_loop *loop, struct child *ch)
{
	struct master *m = ev_userdata(loop);
	unsigned i = ch->index;
	struct state_worker *slot;
	int status = ch->status;
	double delay;

	children_describe_exit(ch);
	if (!m->lost && WIFEXITED(status) &&
	    WEXITSTATUS(status) == WORKER_EXIT_DAMAGED) {
		log_warnx("worker %u found %s changed under the running node",
		    i, m->sf->path);
		stop_damaged(loop);
		return;
	}
	if (file_lost(loop))
		return;
	slot = state_worker(m->sf->h, i);
	state_store((uint64_t *)&slot->pid, 0);
	state_store((uint64_t *)&slot->exit_status, (uint64_t)status);
	/*
	 * A SIGTERM to the whole process group (systemd's KillMode) reaches
	 * the workers too: their exits may come in before the master's own
	 * signal is handled, in the same loop turn.  A worker that exits 0
	 * was told to stop, and nothing is respawned once a stop is pending.
	 */
	if (!m->stopping && stop_pending(m)) {
		begin_stop(loop, "SIGTERM (pending)");
		return;
	}
	if (m->stopping) {
		if (children_running(CHILD_WORKER) == 0)
			ev_break(loop, EVBREAK_ALL);
		return;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		log_warnx("worker %u exited 0: it was told to stop, it is not"
			  " respawned",
		    i);
		if (children_running(CHILD_WORKER) == 0)
			begin_stop(loop, "no worker left");
		return;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == WORKER_EXIT_FATAL) {
		log_warnx("worker %u exited with the fatal code %d and is not"
			  " respawned",
		    i, WORKER_EXIT_FATAL);
		if (children_running(CHILD_WORKER) == 0) {
			log_warnx("no worker left: stopping");
			m->code = EX_SOFTWARE;
			ev_break(loop, EVBREAK_ALL);
		}
		return;
	}
	state_add(&slot->restarts, 1);
	state_add(&m->sf->h->worker_restarts, 1);
	if ((delay = children_respawn(loop, ch)) > 0)
		log_notice("respawning worker %u in %.1f s", i, delay);
}

/* The peer check's process (peercheck.h). */
static void
peers_body(struct child *ch)
{
	struct master *m = ev_userdata(EV_DEFAULT);
	peercheck_run(m->cfg, m->sf);
}

/*
 * Asks the peers in a child process: a peer that does not answer costs
 * the master's loop nothing.
 */
static void
peers_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct master *m = ev_userdata(loop);
	if (!m->stopping && m->peer_check->pid == 0 && !file_lost(loop))
		children_spawn(loop, m->peer_check);
}

/* The process that keeps the etcd lease (identity.h). */
static void
coord_body(struct child *ch)
{
	struct master *m = ev_userdata(EV_DEFAULT);
	lease_run(m->cfg, m->sf, m->listen);
}

static void
spawn_coordinator(struct ev_loop *loop, struct child *ch)
{
	struct master *m = ev_userdata(loop);
	if (!m->stopping && !file_lost(loop))
		children_spawn(loop, ch);
}

/*
 * The coordination process is gone: again in a second (the fence stops
 * the workers meanwhile if need be), or, when the id it held again was
 * another node's meanwhile, a restart that resumes above that node.
 */
static void
coord_exited(struct ev_loop *loop, struct child *ch)
{
	struct master *m = ev_userdata(loop);
	if (m->stopping)
		return;
	if (WIFEXITED(ch->status) &&
	    WEXITSTATUS(ch->status) == IDENTITY_EXIT_RESTART) {
		m->code = EX_TEMPFAIL;
		m->resume_above = 1;
		begin_stop(loop,
		    "coordination: machine id used by another node meanwhile,"
		    " exiting with 75 for a restart above its checkpoint");
		return;
	}
	children_describe_exit(ch);
	log_warnx("the coordination process is gone: a new one in 1 s");
	children_respawn(loop, ch);
}

/* After the last worker: the coordination process goes, the lease ends. */
static void
stop_coordinator(struct ev_loop *loop)
{
	struct master *m = ev_userdata(loop);
	if (m->cfg->netcd == 0)
		return;
	children_kill_wait(loop, m->coordination);
	/* Kept for the restart, which takes it back at once. */
	if (!m->resume_above)
		identity_release(m->cfg, m->sf);
}

/*
 * After damage: waits for the workers just killed (nothing may run while
 * the new state file is written) and writes it from memory.
 */
static void
rescue(struct ev_loop *loop)
{
	struct master *m = ev_userdata(loop);
	int64_t now;
	unsigned i;

	for (i = 0; i < m->cfg->workers; i++)
		children_kill_wait(loop, m->workers[i]);
	now = checkpoint_now(m->watch.guard.epoch);
	/* The allowance is the master's own slew, not the file's copy. */
	statewatch_rescue(&m->watch,
	    now >= 0 ? statewatch_floor(&m->watch, now, steps_allowance()) : 0);
}

/*
 * Whether SIGTERM or SIGINT has arrived but its watcher has not run yet:
 * already queued by the loop, or still pending in the kernel (libev's
 * signalfd leaves it there until it reads it).
 */
static int
stop_pending(const struct master *m)
{
	sigset_t set;

	if (ev_is_pending(&m->sig_term) || ev_is_pending(&m->sig_int))
		return 1;
	return sigpending(&set) == 0 &&
	    (sigismember(&set, SIGTERM) == 1 || sigismember(&set, SIGINT) == 1);
}

static void
term_cb(struct ev_loop *loop, ev_signal *s, int revents)
{
	struct master *m = ev_userdata(loop);
	if (!m->stopping)
		begin_stop(loop, s->signum == SIGINT ? "SIGINT" : "SIGTERM");
}

/* Stops the node: no more accepts, TERM to the workers, KILL later. */
static void
begin_stop(struct ev_loop *loop, const char *why)
{
	struct master *m = ev_userdata(loop);
	unsigned i;

	log_notice("%s: stopping", why);
	notify_send("STOPPING=1\nSTATUS=stopping");
	m->stopping = 1;
	if (!file_lost(loop))
		publish_serving(m, m->sf->h, checkpoint_now(m->sf->h->epoch));
	for (i = 0; i < m->nfds; i++)
		close(m->fds[i]);
	scrape_stop(loop);
	if (children_stop_workers(loop) == 0)
		ev_break(loop, EVBREAK_ALL);
}

static void
hup_cb(struct ev_loop *loop, ev_signal *s, int revents)
{
	struct master *m = ev_userdata(loop);
	char err[1024];

	notify_reloading();
	if (log_reopen(err, sizeof(err)) == -1)
		log_warnx("SIGHUP: %s", err);
	else
		log_notice("SIGHUP: log file reopened");
	children_kill(CHILD_WORKER, SIGHUP);
	if (m->coordination != NULL && m->coordination->pid != 0)
		kill(m->coordination->pid, SIGHUP);
	notify_send("READY=1");
}

/* The master's signals and timers; a new worker stops them. */
static void
start_watchers(struct ev_loop *loop)
{
	struct master *m = ev_userdata(loop);
	double interval = m->cfg->checkpoint_interval_ms / 1000.0;
	double every = m->cfg->worker_timeout_ms / 4000.0;

	ev_signal_init(&m->sig_term, term_cb, SIGTERM);
	ev_signal_init(&m->sig_int, term_cb, SIGINT);
	ev_signal_init(&m->sig_hup, hup_cb, SIGHUP);
	ev_signal_start(loop, &m->sig_term);
	ev_signal_start(loop, &m->sig_int);
	ev_signal_start(loop, &m->sig_hup);
	ev_timer_init(&m->checkpoint_timer, checkpoint_cb, interval, interval);
	ev_timer_start(loop, &m->checkpoint_timer);
	ev_timer_init(
	    &m->peers_timer, peers_cb, PEERS_INTERVAL_S, PEERS_INTERVAL_S);
	if (m->cfg->npeers > 0 || m->cfg->netcd > 0)
		ev_timer_start(loop, &m->peers_timer);
	every = every > STATEFILE_BEAT_S ? STATEFILE_BEAT_S : every;
	ev_timer_init(&m->watchdog_timer, watchdog_cb, every, every);
	if (m->cfg->worker_timeout_ms > 0)
		ev_timer_start(loop, &m->watchdog_timer);
	children_inherited(EV_SIGNAL, &m->sig_term);
	children_inherited(EV_SIGNAL, &m->sig_int);
	children_inherited(EV_SIGNAL, &m->sig_hup);
	children_inherited(EV_TIMER, &m->checkpoint_timer);
	children_inherited(EV_TIMER, &m->peers_timer);
	children_inherited(EV_TIMER, &m->watchdog_timer);
}

/* The process table: the workers, the peer check and coordination. */
static void
add_children(struct ev_loop *loop)
{
	struct master *m = ev_userdata(loop);
	char name[32];
	unsigned i;

	/* The /metrics sockets are the master's alone. */
	children_init(loop, m->fds, m->nfds, scrape_stop);
	for (i = 0; i < m->cfg->workers; i++) {
		snprintf(name, sizeof(name), "worker %u", i);
		m->workers[i] = children_add(&worker_spec, name, i);
	}
	m->peer_check = children_add(&peers_spec, "the peer check", 0);
	m->coordination =
	    children_add(&coord_spec, "the coordination process", 0);
}

/* After the loop: the lease, and the state file left clean. */
static void
finish(struct ev_loop *loop)
{
	struct master *m = ev_userdata(loop);
	stop_coordinator(loop);
	/*
	 * Not clean when the id was another node's meanwhile: the start
	 * resumes above the checkpoint the coordination process raised.
	 */
	if (m->resume_above)
		log_notice("not a clean stop: the next start resumes above"
			   " the checkpoint");
	else if (checkpoint_shutdown(m->sf) == -1)
		log_warn("msync %s: the next start counts as after a crash",
		    m->sf->path);
	else if (m->sf->mirror_fd != -1 && statefile_mirror(m->sf, 0) == -1)
		log_warn("write the restored %s: the next start counts as"
			 " after a crash",
		    m->sf->path);
	log_notice("stopped");
}

int
master_run(const struct cfg *cfg, struct statefile *sf, const int *fds,
    unsigned nfds, const int *metrics_fds, unsigned nmetrics,
    const char *listen)
{
	static struct master master;
	struct master *m = &master;
	struct ev_loop *loop = EV_DEFAULT;
	struct slew_conf slew_conf;
	unsigned i;

	/* Every callback finds the master's state through its loop. */
	ev_set_userdata(loop, m);
	m->cfg = cfg;
	m->sf = sf;
	m->fds = fds;
	m->nfds = nfds;
	m->listen = listen;
	statewatch_init(&m->watch, sf, cfg->checkpoint_interval_ms);
	setproctitle("master");
	notify_init();
	signal(SIGPIPE, SIG_IGN);
	signal(SIGBUS, statewatch_sigbus);
	/* The boot's slew (checkpoint_boot) starts now. */
	cfg_slew(cfg, &slew_conf);
	steps_start(sf->h, &slew_conf);
	start_watchers(loop);
	add_children(loop);
	if (cfg->netcd > 0)
		spawn_coordinator(loop, m->coordination);
	scrape_start(loop, metrics_fds, nmetrics, sf);
	publish_serving(m, sf->h, checkpoint_now(sf->h->epoch));
	for (i = 0; i < cfg->workers; i++)
		spawn_worker(loop, m->workers[i]);
	log_notice("ready: %u workers", cfg->workers);
	notify_send("READY=1\nSTATUS=serving: %u workers", cfg->workers);
	ev_run(loop, 0);
	if (m->lost)
		rescue(loop);
	else
		finish(loop);
	return m->code;
}
