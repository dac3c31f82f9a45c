#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
integ_signals.py - SIGTERM and SIGINT: exit 0 within 2 s with a client
connected, workers gone, pid file removed.  SIGHUP: after the log file was
renamed (as logrotate does) genid writes a new one, the workers' lines go
there too, and nothing restarts; SIGHUPs while workers start (the master
passes each on) kill none of them.
"""

import os
import re
import signal
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "integration"))
import harness  # noqa: E402


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode(errors="replace")
    except OSError:
        return None


def stop_with(t, d, sig, name):
    with open(d.pid_path) as f:
        pidtext = f.read().strip()
    master = d.master_pid()
    t.check(pidtext == str(master), "%s: the pid file holds the master's "
            "pid" % name, "pid file %r, master %d" % (pidtext, master))
    workers = d.wait_workers(2)
    t.check(workers, "%s: 2 workers run" % name)
    idle = harness.connect(d.addr)
    busy = harness.connect(d.addr)
    first = harness.get_id(idle)
    harness.get_ids(busy, 255)
    t0 = time.monotonic()
    d.signal_master(sig)
    rc = d.wait_exit(2.0)
    took = time.monotonic() - t0
    t.check(rc == 0, "%s: exit 0 within 2 s with clients connected "
            "(%.3f s)" % (name, took),
            "exit %r after %.3f s; output:\n%s" % (rc, took,
                                                   d.output().strip()))
    if rc is None:
        rc = d.wait_exit(10)
        t.note("%s: exit %r after %.3f s" % (name, rc,
                                             time.monotonic() - t0))
    gone = harness.poll(lambda: not any(harness.alive(p) for p in workers),
                        2)
    t.check(gone, "%s: the workers are gone" % name,
            "alive: %s" % [p for p in workers if harness.alive(p)])
    t.check(not os.path.exists(d.pid_path), "%s: pid file removed" % name)
    closed, got = harness.wait_closed(idle, 2.0)
    t.check(closed and got == b"", "%s: an idle client sees the connection "
            "closed" % name, "closed %s, %r" % (closed, got[:16]))
    idle.close()
    busy.close()
    return first


def test(t):
    d = harness.Daemon(t).start()
    stop_with(t, d, signal.SIGTERM, "SIGTERM")
    d.start()
    stop_with(t, d, signal.SIGINT, "SIGINT")

    # SIGHUP: reopen the log file.
    d.start()
    master = d.master_pid()
    workers = d.wait_workers()
    with harness.connect(d.addr) as s:
        before_id = harness.get_id(s)
    old = d.log_path + ".1"
    os.rename(d.log_path, old)
    old_size = os.path.getsize(old)
    d.signal_master(signal.SIGHUP)
    appeared = harness.poll(lambda: os.path.exists(d.log_path), 5)
    t.check(appeared, "SIGHUP: a new log file appears")
    lines = harness.poll(lambda: (read(d.log_path) or "").strip(), 3)
    how = "on its own"
    if not lines:
        # Make the master write something: a worker dies.
        victim = workers[0]
        os.kill(victim, signal.SIGKILL)
        workers = d.wait_workers(exclude=(victim,)) or d.workers_now()
        lines = harness.poll(lambda: (read(d.log_path) or "").strip(), 5)
        how = "after a worker was killed"
    t.check(lines, "SIGHUP: the new log file gets lines (%s)" % how)
    t.note("new log: %s" % (lines or "").replace("\n", "\n    "))
    t.check(d.master_pid() == master and d.running(),
            "SIGHUP: the master goes on")
    # A worker's own line (a bad request) must go to the new file too.
    new_size = os.path.getsize(d.log_path)
    old_now = os.path.getsize(old)
    with harness.connect(d.addr) as s:
        s.sendall(b"\x09\x00")
        harness.wait_closed(s)

    def worker_line():
        new = (read(d.log_path) or "")[new_size:]
        was = (read(old) or "")[old_now:]
        return new.strip() or was.strip()
    harness.poll(worker_line, 3)
    new = (read(d.log_path) or "")[new_size:]
    was = (read(old) or "")[old_now:]
    if was.strip():
        t.check(False, "SIGHUP: workers write to the new log file",
                "after the reopen, lines went to the renamed file:\n%s"
                % was.strip())
    elif new.strip():
        t.check(True, "SIGHUP: workers write to the new log file")
    else:
        t.note("a bad request logs nothing at log_level info: the "
               "workers' log file is not checked")
    t.note("old log grew by %d bytes between rename and reopen"
           % (old_now - old_size))
    with harness.connect(d.addr) as s:
        after_id = harness.get_id(s)
    t.check(after_id != before_id, "SIGHUP: still serving")
    t.check(sorted(d.workers_now()) == sorted(workers),
            "SIGHUP: no worker restarted", "was %s, now %s" % (
                workers, d.workers_now()))
    rc, took = d.stop()
    t.check(rc == 0, "SIGTERM after SIGHUP: exit 0 (%.3f s)" % took,
            "got %r" % rc)

    hup_while_starting(t)


def hup_while_starting(t):
    """A worker gets the master's SIGHUP from its fork on: one that came
    before the worker watched SIGHUP used to end it (killed by signal 1,
    respawned), as logrotate could at any respawn."""
    d = harness.Daemon(t).start()
    t.require(d.wait_workers(), "SIGHUP while starting: the workers run")
    for _ in range(3):
        old = d.workers_now()
        for w in old:
            os.kill(w, signal.SIGKILL)
        # SIGHUPs until both new workers run, and a moment after.
        end = time.monotonic() + 20
        settled = None
        while time.monotonic() < end:
            d.signal_master(signal.SIGHUP)
            time.sleep(0.002)
            now = d.workers_now()
            if len(now) == 2 and not set(now) & set(old):
                settled = settled or time.monotonic()
                if time.monotonic() - settled > 0.3:
                    break
            else:
                settled = None
    killed = re.findall(r".*killed by signal %d\b.*" % signal.SIGHUP,
                        d.output())
    t.check(not killed, "SIGHUP while workers start: none is killed by it",
            "\n".join(killed[:5]))
    rc, _ = d.stop()
    t.check(rc == 0, "SIGHUP while starting: SIGTERM: exit 0", "got %r" % rc)


harness.run(test, control=True)
