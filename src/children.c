/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * children.c - the master's process table after nginx's ngx_process.c:
 * each child is a kind (worker or helper), a body and a respawn rule; the
 * table forks, reaps, backs off and describes exits, the master decides.
 */
#include <bsd/unistd.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "children.h"
#include "log.h"

/* Back-off of a child that keeps dying: first delay and the cap. */
#define RESPAWN_FIRST_S 0.1
#define RESPAWN_MAX_S 10.0
/* A child that lived this long was not crash-looping. */
#define RESPAWN_STABLE_S 2.0
/* Shutdown: first TERM check, doubling; KILL once this much has passed. */
#define STOP_FIRST_S 0.05
#define STOP_KILL_S 1.5
/* The master's own watchers a new worker stops. */
#define INHERITED_MAX 16

static struct {
	struct child table[CHILDREN_MAX];
	unsigned n;
	pid_t master;
	const int *fds;
	unsigned nfds;
	void (*at_fork)(struct ev_loop *loop);
	struct {
		int type;
		void *w;
	} inherited[INHERITED_MAX];
	unsigned ninherited;
	ev_timer stop_timer;
	double stop_waited, stop_delay;
} t;

static void reap_cb(struct ev_loop *loop, ev_child *w, int revents);
static void respawn_cb(struct ev_loop *loop, ev_timer *w, int revents);
static void schedule(struct ev_loop *loop, struct child *ch, double delay);
static void become_worker(struct ev_loop *loop);
static void become_helper(const struct child *ch);
static void stop_cb(struct ev_loop *loop, ev_timer *w, int revents);

void
children_init(struct ev_loop *loop, const int *fds, unsigned nfds,
    void (*at_fork)(struct ev_loop *loop))
{
	(void)loop;
	t.master = getpid();
	t.fds = fds;
	t.nfds = nfds;
	t.at_fork = at_fork;
	ev_init(&t.stop_timer, stop_cb);
}

void
children_inherited(int type, void *w)
{
	if (t.ninherited == INHERITED_MAX)
		fatalx(70, "children_inherited: more than %d watchers",
		    INHERITED_MAX);
	t.inherited[t.ninherited].type = type;
	t.inherited[t.ninherited++].w = w;
}

struct child *
children_add(const struct child_spec *spec, const char *name, unsigned index)
{
	struct child *ch;

	if (t.n == CHILDREN_MAX)
		return NULL;
	ch = &t.table[t.n++];
	ch->spec = spec;
	snprintf(ch->name, sizeof(ch->name), "%s", name);
	ch->index = index;
	ev_init(&ch->watcher, reap_cb);
	ch->watcher.data = ch;
	ev_init(&ch->respawn, respawn_cb);
	ch->respawn.data = ch;
	return ch;
}

pid_t
children_spawn(struct ev_loop *loop, struct child *ch)
{
	pid_t pid;

	if ((pid = fork()) == -1) {
		if (ch->spec->kind == CHILD_WORKER)
			log_warn("fork %s", ch->name);
		else
			log_warn("fork the %s", ch->spec->title);
		if (ch->spec->respawn == CHILD_BACKOFF && ch->backoff == 0)
			ch->backoff = RESPAWN_FIRST_S;
		schedule(loop, ch,
		    ch->spec->respawn == CHILD_BACKOFF ? ch->backoff : 1);
		return -1;
	}
	if (pid == 0) {
		t.at_fork(loop);
		if (ch->spec->kind == CHILD_WORKER)
			become_worker(loop);
		else
			become_helper(ch);
		ch->spec->body(ch);
	}
	ch->pid = pid;
	ch->hung = 0;
	ch->started = ev_now(loop);
	ev_child_set(&ch->watcher, pid, 0);
	ev_child_start(loop, &ch->watcher);
	return pid;
}

/*
 * In a new worker: the master's watchers are not the worker's to run.  Its
 * signal watchers stay until the worker has its own (children_signals_taken).
 */
static void
become_worker(struct ev_loop *loop)
{
	unsigned i;

	for (i = 0; i < t.ninherited; i++) {
		if (t.inherited[i].type == EV_SIGNAL)
			continue;
		if (t.inherited[i].type == EV_TIMER)
			ev_timer_stop(loop, t.inherited[i].w);
		else
			ev_io_stop(loop, t.inherited[i].w);
	}
	ev_timer_stop(loop, &t.stop_timer);
	for (i = 0; i < t.n; i++) {
		ev_child_stop(loop, &t.table[i].watcher);
		ev_timer_stop(loop, &t.table[i].respawn);
	}
	ev_loop_fork(loop);
}

void
children_hup_ready(void)
{
	sigset_t hup;

	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	sigprocmask(SIG_UNBLOCK, &hup, NULL);
}

void
children_signals_taken(struct ev_loop *loop)
{
	unsigned i;

	for (i = 0; i < t.ninherited; i++)
		if (t.inherited[i].type == EV_SIGNAL)
			ev_signal_stop(loop, t.inherited[i].w);
}

/*
 * In a new helper.  It holds the state file's lock too: it goes with the
 * master.  It is not a copy of the master: default signals (libev blocked
 * them for its signalfd), and none of its sockets, so that the port
 * closes when the master closes it.  SIGHUP stays blocked: the default
 * ends the process, and one the master passes on before the helper has
 * its handler waits for it (children_hup_ready).
 */
static void
become_helper(const struct child *ch)
{
	static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGCHLD};
	sigset_t hup;
	unsigned i;

	/*
	 * Blocked before its disposition goes back to the default: libev's
	 * default loop catches signals with a handler, not a blocked mask,
	 * and a SIGHUP between the two would end the helper.
	 */
	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	sigprocmask(SIG_SETMASK, &hup, NULL);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != t.master)
		_exit(1);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_DFL);
	for (i = 0; i < t.nfds; i++)
		close(t.fds[i]);
	setproctitle("%s", ch->spec->title);
}

static void
reap_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	struct child *ch = w->data;

	(void)revents;
	ev_child_stop(loop, w);
	ch->last_pid = w->rpid;
	ch->status = w->rstatus;
	ch->pid = 0;
	if (ch->spec->exited != NULL)
		ch->spec->exited(loop, ch);
	else if (!WIFEXITED(ch->status) || WEXITSTATUS(ch->status) != 0)
		children_describe_exit(ch);
}

double
children_respawn(struct ev_loop *loop, struct child *ch)
{
	double lived = ev_now(loop) - ch->started;

	if (ch->spec->respawn == CHILD_ONCE)
		return -1;
	if (ch->spec->respawn == CHILD_AFTER_1S) {
		schedule(loop, ch, 1);
		return 1;
	}
	/* A child that keeps dying at once is respawned ever more slowly. */
	if (lived < RESPAWN_STABLE_S)
		ch->backoff = ch->backoff == 0	      ? RESPAWN_FIRST_S
		    : ch->backoff * 2 > RESPAWN_MAX_S ? RESPAWN_MAX_S
						      : ch->backoff * 2;
	else
		ch->backoff = 0;
	if (ch->backoff == 0) {
		ch->spec->due(loop, ch);
		return 0;
	}
	schedule(loop, ch, ch->backoff);
	return ch->backoff;
}

static void
schedule(struct ev_loop *loop, struct child *ch, double delay)
{
	if (ch->spec->respawn == CHILD_ONCE)
		return;
	ev_timer_set(&ch->respawn, delay, 0);
	ev_timer_start(loop, &ch->respawn);
}

static void
respawn_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct child *ch = w->data;

	(void)revents;
	ch->spec->due(loop, ch);
}

void
children_describe_exit(const struct child *ch)
{
	int status = ch->status;

	if (WIFEXITED(status))
		log_notice("%s (pid %ld) exited with code %d", ch->name,
		    (long)ch->last_pid, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		log_warnx("%s (pid %ld) was killed by signal %d%s", ch->name,
		    (long)ch->last_pid, WTERMSIG(status),
		    WCOREDUMP(status) ? " (core dumped)" : "");
}

unsigned
children_running(enum child_kind kind)
{
	unsigned i, n = 0;

	for (i = 0; i < t.n; i++)
		n += t.table[i].spec->kind == kind && t.table[i].pid != 0;
	return n;
}

void
children_kill(enum child_kind kind, int sig)
{
	unsigned i;

	for (i = 0; i < t.n; i++)
		if (t.table[i].spec->kind == kind && t.table[i].pid != 0)
			kill(t.table[i].pid, sig);
}

void
children_kill_wait(struct ev_loop *loop, struct child *ch)
{
	int status;

	ev_timer_stop(loop, &ch->respawn);
	if (ch->pid == 0)
		return;
	kill(ch->pid, SIGKILL);
	if (waitpid(ch->pid, &status, 0) == ch->pid) {
		ch->last_pid = ch->pid;
		ch->status = status;
		ch->pid = 0;
	}
	ev_child_stop(loop, &ch->watcher);
}

unsigned
children_stop_workers(struct ev_loop *loop)
{
	unsigned i, n;

	for (i = 0; i < t.n; i++)
		if (t.table[i].spec->kind == CHILD_WORKER)
			ev_timer_stop(loop, &t.table[i].respawn);
	children_kill(CHILD_WORKER, SIGTERM);
	if ((n = children_running(CHILD_WORKER)) == 0)
		return 0;
	t.stop_delay = STOP_FIRST_S;
	ev_timer_set(&t.stop_timer, t.stop_delay, 0);
	ev_timer_start(loop, &t.stop_timer);
	return n;
}

static void
stop_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)revents;
	t.stop_waited += t.stop_delay;
	if (t.stop_waited >= STOP_KILL_S) {
		log_warnx("%u workers did not stop in %.1f s: killing them",
		    children_running(CHILD_WORKER), STOP_KILL_S);
		children_kill(CHILD_WORKER, SIGKILL);
		return;
	}
	t.stop_delay *= 2;
	ev_timer_set(w, t.stop_delay, 0);
	ev_timer_start(loop, w);
}
