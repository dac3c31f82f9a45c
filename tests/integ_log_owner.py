#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
integ_log_owner.py - the log file and "user", and syslog without a
syslog daemon:
  - started as root with "user": "nobody", genid creates the log file
    owned by nobody (it opens it as root, before switching);
  - SIGHUP after the log was moved away while nobody may no longer write
    its directory: the failure is logged once for the node, by the
    master, naming the path and the user, never once per worker; once the
    directory is writable again, a SIGHUP reopens the log in every process
    (each worker's descriptor is seen on the new file), which shows the
    workers had handled the first SIGHUP too;
  - "log_file": "syslog" where no syslog socket (/dev/log) exists: a
    warning on stderr says the messages are lost and to set log_file.
The user parts need root and the user nobody, the syslog part a machine
without /dev/log; each skips otherwise.
"""

import os
import signal
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "integration"))
import harness  # noqa: E402

WORKERS = 3


def log_fds(pid, path):
    """How many descriptors of pid are open on path."""
    n = 0
    fd_dir = "/proc/%d/fd" % pid
    try:
        for fd in os.listdir(fd_dir):
            try:
                if os.readlink(os.path.join(fd_dir, fd)) == path:
                    n += 1
            except OSError:
                pass
    except OSError:
        pass
    return n


def owner_and_reopen(t):
    nobody = harness.user_nobody(t)
    if nobody is None:
        return
    top = t.tmpdir()
    os.chmod(top, 0o711)
    logs = os.path.join(top, "logs")
    os.mkdir(logs, 0o755)
    os.chown(logs, nobody.pw_uid, nobody.pw_gid)
    log = os.path.join(logs, "genid.log")
    d = harness.Daemon(t, workers=WORKERS, dir=top, why="several workers "
                       "whatever the CPUs: the SIGHUP must reach every "
                       "process")
    d.log_path = log
    d.set(log_file=log, user="nobody", why="the test is about the log "
          "file of a genid that runs as user nobody")
    d.start()
    try:
        st = os.stat(log)
        t.check(st.st_uid == nobody.pw_uid and st.st_gid == nobody.pw_gid,
                "the log file genid created belongs to user nobody",
                "uid %d gid %d" % (st.st_uid, st.st_gid))
        workers = d.wait_workers(WORKERS)
        t.require(workers, "%d workers run" % WORKERS)

        # logrotate moved the file; nobody may not create a new one.
        old = log + ".1"
        os.rename(log, old)
        os.chown(logs, 0, 0)
        d.signal_master(signal.SIGHUP)
        want = ("SIGHUP: reopen %s as user nobody: Permission denied" % log)
        got = harness.poll(lambda: want in open(old).read(), 10)
        t.check(got, "a failed reopen is logged naming the path and user",
                open(old).read()[-600:])

        # Writable again: the next SIGHUP reaches every process, after the
        # first one (signals of one process are handled in order).
        os.chown(logs, nobody.pw_uid, nobody.pw_gid)
        d.signal_master(signal.SIGHUP)
        moved = harness.poll(lambda: all(
            log_fds(w, log) >= 1 for w in workers) and log_fds(
            d.master_pid(), log) >= 1, 10)
        t.check(moved, "after the second SIGHUP every process writes the "
                "new log file",
                "%s; workers now %s" % ({w: log_fds(w, log) for w in workers},
                                        d.workers_now()))
        text = open(old).read()
        n = text.count("reopen %s as user nobody" % log)
        t.check(n == 1, "the failed reopen is logged once, not once per "
                "process (%d workers)" % WORKERS,
                "%d times:\n%s" % (n, text[-1500:]))
        t.check(os.stat(log).st_uid == nobody.pw_uid,
                "the reopened log file belongs to nobody")
    finally:
        rc, _ = d.stop()
    t.check(rc == 0, "SIGTERM: exit 0", "got %r" % rc)


def syslog_missing(t):
    if os.path.exists("/dev/log"):
        t.note("syslog part skipped: /dev/log exists")
        return
    d = harness.Daemon(t)
    d.set(log_file="syslog", why="the test is about syslog without "
          "/dev/log")
    d.spawn()
    want = ("no syslog socket at /dev/log: log messages are lost until a "
            "syslog daemon listens there; set \"log_file\" to log to a file")
    try:
        got = harness.poll(lambda: want in d.stderr(), 10)
        t.check(got, "syslog without /dev/log: a warning on stderr",
                d.stderr())
        # A worker runs once the master watches its signals.
        t.check(d.wait_workers(), "syslog: the workers run")
    finally:
        rc, _ = d.stop()
    t.check(rc == 0, "syslog: SIGTERM: exit 0", "got %r" % rc)

    # -d without a log file logs to syslog: said before stderr is gone.
    d = harness.Daemon(t)
    d.set(log_file="")
    d.spawn(args=["-d"])
    rc = d.wait_exit(15)
    pid = harness.poll(lambda: open(d.pid_path).read().strip()
                       if os.path.exists(d.pid_path) else None, 10)
    try:
        t.check(rc == 0 and "-d logs to syslog, and there is no syslog "
                "socket at /dev/log" in d.stderr(),
                "-d without log_file or /dev/log: a warning before it "
                "detaches", "exit %r, %r" % (rc, d.stderr()))
    finally:
        if pid:
            os.kill(int(pid), signal.SIGTERM)
            t.check(harness.poll(lambda: not harness.alive(int(pid)), 10),
                    "the daemon stops on SIGTERM")


def test(t):
    owner_and_reopen(t)
    syslog_missing(t)


harness.run(test, control=True, timeout=90)
