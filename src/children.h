/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * children.h - the master's process table (nginx's ngx_process_t): forks,
 * reaps and respawns the children; the master decides when.
 */
#ifndef GENID_CHILDREN_H
#define GENID_CHILDREN_H

#include <sys/types.h>

#include <ev.h>

/* The most children the table holds: the workers and two helpers. */
#define CHILDREN_MAX 40

struct child;

/* What a child is, apart from the master. */
enum child_kind {
	/* Serves the listening sockets with a loop of its own. */
	CHILD_WORKER,
	/*
	 * Runs no loop and holds no socket of the master's, dies with the
	 * master (PR_SET_PDEATHSIG) and has the default signal dispositions,
	 * SIGHUP blocked until it calls children_hup_ready.
	 */
	CHILD_HELPER,
};

/* When a child is started again once the master has let it go. */
enum child_respawn {
	CHILD_ONCE,    /* never: a job done once */
	CHILD_BACKOFF, /* at once, or ever more slowly while it keeps dying */
	CHILD_AFTER_1S /* in a second */
};

/* A kind of child: what it runs, and the master's policy for it. */
struct child_spec {
	enum child_kind kind;
	enum child_respawn respawn;
	const char *title; /* a helper's process title */
	/* Runs in the new child; never returns. */
	void (*body)(struct child *ch);
	/* Its respawn delay is over: the master starts it again, or not. */
	void (*due)(struct ev_loop *loop, struct child *ch);
	/*
	 * It was reaped (pid is 0, status says how it went); NULL: a child
	 * that did not exit 0 is logged.
	 */
	void (*exited)(struct ev_loop *loop, struct child *ch);
};

/* One child of the master, running or not. */
struct child {
	const struct child_spec *spec;
	char name[32];	  /* in the log: "worker 3", "the peer check" */
	unsigned index;	  /* the worker's number */
	pid_t pid;	  /* 0 when not running */
	pid_t last_pid;	  /* the one reaped last */
	int status;	  /* how it exited, as from wait(2) */
	int hung;	  /* killed for a stale heartbeat, not yet reaped */
	double started;	  /* ev_now of its fork */
	double backoff;	  /* the next respawn's delay (CHILD_BACKOFF) */
	ev_child watcher; /* its exit */
	ev_timer respawn; /* its respawn delay */
};

/*
 * Sets up the table in the master: fds are the listening sockets a helper
 * closes, at_fork drops what no child may hold (run in every new child).
 */
void children_init(struct ev_loop *loop, const int *fds, unsigned nfds,
    void (*at_fork)(struct ev_loop *loop));

/*
 * Notes w, a watcher of the master's of libev type type (EV_SIGNAL,
 * EV_TIMER, EV_IO): a new worker stops it (libev: a signal can be
 * watched in one loop only).
 */
void children_inherited(int type, void *w);

/*
 * In a new worker that has started its own signal watchers: stops the
 * master's.  Until then they keep the signals blocked, so that a SIGHUP or
 * SIGTERM sent since the fork waits for the worker's watchers: libev
 * unblocks a signal no watcher is left for, and its disposition is the
 * default, which ends the process.
 */
void children_signals_taken(struct ev_loop *loop);

/*
 * In a helper that has its SIGHUP handler: unblocks SIGHUP, so that one
 * sent since the fork reaches the handler now.
 */
void children_hup_ready(void);

/*
 * Adds a child of kind spec, named name in the log, to the table; NULL
 * when it is full.  Not started.
 */
struct child *children_add(
    const struct child_spec *spec, const char *name, unsigned index);

/*
 * Forks ch and runs its body there.  Returns the child's pid, or -1
 * (logged) with its respawn scheduled by its kind's rule.
 */
pid_t children_spawn(struct ev_loop *loop, struct child *ch);

/*
 * Schedules ch, just reaped, by its kind's rule: a back-off that doubles
 * while it dies young, or a second.  Returns the delay in seconds, 0 when
 * it was started again at once (through its due callback), -1 for never.
 */
double children_respawn(struct ev_loop *loop, struct child *ch);

/* Logs how ch exited last: its code, or the signal and a core dump. */
void children_describe_exit(const struct child *ch);

/* The number of running children of kind kind. */
unsigned children_running(enum child_kind kind);

/* Sends sig to every running child of kind kind. */
void children_kill(enum child_kind kind, int sig);

/*
 * Stops the workers: no respawn, SIGTERM now, SIGKILL to those left
 * after a while (checked on a doubling timer).  Returns how many run.
 */
unsigned children_stop_workers(struct ev_loop *loop);

/*
 * Kills ch (SIGKILL) if it runs and waits for it, without its exit
 * callback: nothing of it runs on return.
 */
void children_kill_wait(struct ev_loop *loop, struct child *ch);

#endif
