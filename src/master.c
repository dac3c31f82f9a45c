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
#include <sys/prctl.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

#include "bucket.h"
#include "checkpoint.h"
#include "log.h"
#include "master.h"
#include "peers.h"
#include "scrape.h"
#include "worker.h"

/* A clock step smaller than this is timer jitter, not a step. */
#define STEP_TOLERANCE_NS (250 * 1000 * 1000LL)
/* Back-off of a worker that keeps dying: first delay and the cap. */
#define RESPAWN_FIRST_S 0.1
#define RESPAWN_MAX_S 10.0
/* A worker that lived this long was not crash-looping. */
#define RESPAWN_STABLE_S 2.0
/* How often the peers are asked who they are (SPEC 7). */
#define PEERS_INTERVAL_S 60.0
/* Shutdown: first TERM check, doubling; KILL once this much has passed. */
#define STOP_FIRST_S 0.05
#define STOP_KILL_S 1.5

struct child {
	pid_t pid;
	ev_child watcher;
	ev_timer respawn;
	double started;
	double backoff;
	int fatal;
};

static struct {
	const struct cfg *cfg;
	struct statefile *sf;
	const int *fds;
	unsigned nfds;
	struct child children[STATE_WORKERS];
	ev_signal sig_term, sig_int, sig_hup;
	ev_timer checkpoint_timer, stop_timer, peers_timer;
	ev_child peers_child; /* the process asking the peers, if any */
	int stopping;
	int code;
	double stop_waited, stop_delay;
	struct timespec real, mono; /* last clock samples */
	pid_t master;
} m;

static void spawn(unsigned i);

static void
sample_clocks(struct timespec *real, struct timespec *mono)
{
	clock_gettime(CLOCK_REALTIME, real);
	clock_gettime(CLOCK_MONOTONIC, mono);
}

static int64_t
ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

static void
watch_clock(struct state_header *h)
{
	struct timespec real, mono;
	int64_t step;

	sample_clocks(&real, &mono);
	step = clock_step_ns(
	    ns(&m.real), ns(&m.mono), ns(&real), ns(&mono), STEP_TOLERANCE_NS);
	m.real = real;
	m.mono = mono;
	if (step == 0)
		return;
	state_store((uint64_t *)&h->clock_step_last_ns, (uint64_t)step);
	if (step > 0) {
		state_add(&h->clock_steps_forward, 1);
		log_warnx("the clock stepped forward by %.3f s", step / 1e9);
		return;
	}
	state_add(&h->clock_steps_back, 1);
	if ((uint64_t)-step > state_load(&h->clock_step_max_back_ns))
		state_store(&h->clock_step_max_back_ns, (uint64_t)-step);
	log_warnx(
	    "the clock stepped back by %.3f s: buckets go on counting in"
	    " their own second until the clock catches up, no ID is repeated",
	    -step / 1e9);
}

static void
checkpoint_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	static double last_warned;
	struct state_header *h = m.sf->h;
	int64_t now;

	watch_clock(h);
	if ((now = checkpoint_now(h->epoch)) == -1)
		return;
	if (checkpoint_raise(m.sf,
		bucket_checkpoint_target((uint32_t)now, m.cfg->max_ahead_s)) ==
		-1 &&
	    ev_now(loop) - last_warned > 60) {
		last_warned = ev_now(loop);
		log_warn("msync %s: the checkpoint cannot move; workers stop"
			 " issuing once it is reached",
		    m.sf->path);
	}
}

static void
describe_exit(const char *who, pid_t pid, int status)
{
	if (WIFEXITED(status))
		log_notice("%s (pid %ld) exited with code %d", who, (long)pid,
		    WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		log_warnx("%s (pid %ld) was killed by signal %d%s", who,
		    (long)pid, WTERMSIG(status),
		    WCOREDUMP(status) ? " (core dumped)" : "");
}

static int
live_children(void)
{
	unsigned i;
	int n = 0;

	for (i = 0; i < m.cfg->workers; i++)
		n += m.children[i].pid != 0;
	return n;
}

static void
child_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	struct child *ch = w->data;
	unsigned i = (unsigned)(ch - m.children);
	struct state_worker *slot = state_worker(m.sf->h, i);
	int status = w->rstatus;
	double lived = ev_now(loop) - ch->started;
	char who[32];

	ev_child_stop(loop, w);
	snprintf(who, sizeof(who), "worker %u", i);
	describe_exit(who, ch->pid, status);
	ch->pid = 0;
	state_store((uint64_t *)&slot->pid, 0);
	state_store((uint64_t *)&slot->exit_status, (uint64_t)status);
	if (m.stopping) {
		if (live_children() == 0)
			ev_break(loop, EVBREAK_ALL);
		return;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == WORKER_EXIT_FATAL) {
		log_warnx("worker %u exited with the fatal code %d and is not"
			  " respawned",
		    i, WORKER_EXIT_FATAL);
		ch->fatal = 1;
		if (live_children() == 0) {
			log_warnx("no worker left: stopping");
			m.code = EX_SOFTWARE;
			ev_break(loop, EVBREAK_ALL);
		}
		return;
	}
	/* A worker that keeps dying at once is respawned ever more slowly. */
	if (lived < RESPAWN_STABLE_S)
		ch->backoff = ch->backoff == 0	      ? RESPAWN_FIRST_S
		    : ch->backoff * 2 > RESPAWN_MAX_S ? RESPAWN_MAX_S
						      : ch->backoff * 2;
	else
		ch->backoff = 0;
	state_add(&slot->restarts, 1);
	state_add(&m.sf->h->worker_restarts, 1);
	if (ch->backoff == 0) {
		spawn(i);
		return;
	}
	log_notice("respawning worker %u in %.1f s", i, ch->backoff);
	ev_timer_set(&ch->respawn, ch->backoff, 0);
	ev_timer_start(loop, &ch->respawn);
}

static void
respawn_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct child *ch = t->data;

	if (!m.stopping)
		spawn((unsigned)(ch - m.children));
}

/* In a new worker: the master's watchers are not the worker's to run. */
static void
forget_master_watchers(struct ev_loop *loop)
{
	unsigned i;

	ev_signal_stop(loop, &m.sig_term);
	ev_signal_stop(loop, &m.sig_int);
	ev_signal_stop(loop, &m.sig_hup);
	ev_timer_stop(loop, &m.checkpoint_timer);
	ev_timer_stop(loop, &m.stop_timer);
	ev_timer_stop(loop, &m.peers_timer);
	ev_child_stop(loop, &m.peers_child);
	for (i = 0; i < STATE_WORKERS; i++) {
		ev_child_stop(loop, &m.children[i].watcher);
		ev_timer_stop(loop, &m.children[i].respawn);
	}
	scrape_stop(loop);
	ev_loop_fork(loop);
}

static void
spawn(unsigned i)
{
	struct ev_loop *loop = EV_DEFAULT;
	struct child *ch = &m.children[i];
	pid_t pid;

	if ((pid = fork()) == -1) {
		log_warn("fork worker %u", i);
		ch->backoff = ch->backoff == 0 ? RESPAWN_FIRST_S : ch->backoff;
		ev_timer_set(&ch->respawn, ch->backoff, 0);
		ev_timer_start(loop, &ch->respawn);
		return;
	}
	if (pid == 0) {
		forget_master_watchers(loop);
		worker_run(m.cfg, m.sf, m.fds, m.nfds, i);
	}
	ch->pid = pid;
	ch->started = ev_now(loop);
	/*
	 * Noted here and not only by the worker, so that the others see it
	 * running (and leave it its share of connections) before it is.
	 */
	state_store((uint64_t *)&state_worker(m.sf->h, i)->pid, (uint64_t)pid);
	ev_child_set(&ch->watcher, pid, 0);
	ev_child_start(loop, &ch->watcher);
	log_info("worker %u started, pid %ld", i, (long)pid);
}

/* Default dispositions and an empty mask for a child that runs no loop. */
static void
forget_master_signals(void)
{
	static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGCHLD};
	sigset_t none;
	unsigned i;

	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static void
peers_done_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	ev_child_stop(loop, w);
	if (!WIFEXITED(w->rstatus) || WEXITSTATUS(w->rstatus) != 0)
		describe_exit("the peer check", w->rpid, w->rstatus);
}

/*
 * Asks the peers in a child process: a peer that does not answer costs
 * the master's loop nothing.  The child is the only writer of the peer
 * fields of the state file while it runs.
 */
static void
peers_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct state_header *h = m.sf->h;
	struct peer_identity self = {h->zone, h->dc, h->machine, h->instance};
	char err[1024];
	unsigned i;
	pid_t pid;

	if (m.stopping || ev_is_active(&m.peers_child))
		return;
	if ((pid = fork()) == -1) {
		log_warn("fork the peer check");
		return;
	}
	if (pid == 0) {
		/* It holds the state file's lock too: it goes with the master.
		 */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 ||
		    getppid() != m.master)
			_exit(1);
		/*
		 * Not a copy of the master: default signals (libev blocked
		 * them for its signalfd), and none of its sockets, so that the
		 * port closes when the master closes it.
		 */
		forget_master_signals();
		for (i = 0; i < m.nfds; i++)
			close(m.fds[i]);
		scrape_stop(loop);
		setproctitle("peer check");
		state_store(&h->peer_conflicts,
		    peers_check(m.cfg, &self, err, sizeof(err)));
		state_store((uint64_t *)&h->peer_checked, (uint64_t)time(NULL));
		_exit(0);
	}
	ev_child_set(&m.peers_child, pid, 0);
	ev_child_start(loop, &m.peers_child);
}

static void
signal_workers(int sig)
{
	unsigned i;

	for (i = 0; i < m.cfg->workers; i++)
		if (m.children[i].pid != 0)
			kill(m.children[i].pid, sig);
}

static void
stop_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	m.stop_waited += m.stop_delay;
	if (m.stop_waited >= STOP_KILL_S) {
		log_warnx("%d workers did not stop in %.1f s: killing them",
		    live_children(), STOP_KILL_S);
		signal_workers(SIGKILL);
		return;
	}
	m.stop_delay *= 2;
	ev_timer_set(t, m.stop_delay, 0);
	ev_timer_start(loop, t);
}

static void
term_cb(struct ev_loop *loop, ev_signal *s, int revents)
{
	unsigned i;

	if (m.stopping)
		return;
	log_notice("%s: stopping", s->signum == SIGINT ? "SIGINT" : "SIGTERM");
	m.stopping = 1;
	for (i = 0; i < m.nfds; i++)
		close(m.fds[i]);
	scrape_stop(loop);
	for (i = 0; i < m.cfg->workers; i++)
		ev_timer_stop(loop, &m.children[i].respawn);
	signal_workers(SIGTERM);
	if (live_children() == 0) {
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	m.stop_delay = STOP_FIRST_S;
	ev_timer_set(&m.stop_timer, m.stop_delay, 0);
	ev_timer_start(loop, &m.stop_timer);
}

static void
hup_cb(struct ev_loop *loop, ev_signal *s, int revents)
{
	if (log_reopen() == -1)
		log_warn("reopen the log file");
	else
		log_notice("SIGHUP: log file reopened");
	signal_workers(SIGHUP);
}

int
master_run(const struct cfg *cfg, struct statefile *sf, const int *fds,
    unsigned nfds, const int *metrics_fds, unsigned nmetrics)
{
	struct ev_loop *loop = EV_DEFAULT;
	double interval = cfg->checkpoint_interval_ms / 1000.0;
	unsigned i;

	m.cfg = cfg;
	m.sf = sf;
	m.master = getpid();
	m.fds = fds;
	m.nfds = nfds;
	setproctitle("master");
	signal(SIGPIPE, SIG_IGN);
	ev_signal_init(&m.sig_term, term_cb, SIGTERM);
	ev_signal_init(&m.sig_int, term_cb, SIGINT);
	ev_signal_init(&m.sig_hup, hup_cb, SIGHUP);
	ev_signal_start(loop, &m.sig_term);
	ev_signal_start(loop, &m.sig_int);
	ev_signal_start(loop, &m.sig_hup);
	sample_clocks(&m.real, &m.mono);
	ev_timer_init(&m.checkpoint_timer, checkpoint_cb, interval, interval);
	ev_timer_start(loop, &m.checkpoint_timer);
	ev_init(&m.stop_timer, stop_cb);
	ev_init(&m.peers_child, peers_done_cb);
	ev_timer_init(
	    &m.peers_timer, peers_cb, PEERS_INTERVAL_S, PEERS_INTERVAL_S);
	if (cfg->npeers > 0)
		ev_timer_start(loop, &m.peers_timer);
	for (i = 0; i < STATE_WORKERS; i++) {
		ev_init(&m.children[i].watcher, child_cb);
		m.children[i].watcher.data = &m.children[i];
		ev_init(&m.children[i].respawn, respawn_cb);
		m.children[i].respawn.data = &m.children[i];
	}
	scrape_start(loop, metrics_fds, nmetrics, sf);
	for (i = 0; i < cfg->workers; i++)
		spawn(i);
	log_notice("ready: %u workers", cfg->workers);
	ev_run(loop, 0);
	if (checkpoint_shutdown(sf) == -1)
		log_warn("msync %s: the next start counts as after a crash",
		    sf->path);
	log_notice("stopped");
	return m.code;
}
