#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
integ_worker_hang.py - a worker that stops running (SIGSTOP stands for a
hang) must not block the node.

Accepts: once its heartbeat is a second old, the other workers no longer
leave new connections to it, so 20 new connections are all served at once
(4 of 20 used to wait for the stopped worker).

Watchdog: a worker whose heartbeat is older than worker_timeout_ms is
killed and respawned by the master, which says so in its log; healthy idle
workers are left alone.
"""

import os
import signal
import socket
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "integration"))
import harness  # noqa: E402


def beat_age_ms(d, pid):
    st = d.state()
    for w in st.workers:
        if w.pid == pid:
            if w.beat == 0:
                return None
            return time.monotonic() * 1000 - w.beat
    return None


def accepts(t):
    d = harness.Daemon(t, workers=2, worker_timeout_ms=60000, why={
        "workers": "two workers whatever the CPUs: one hangs, the other "
                   "must take the new connections",
        "worker_timeout_ms": "the watchdog must not end the stopped "
                             "worker while the accepts are checked"}).start()
    workers = d.wait_workers()
    t.check(workers, "2 workers run")
    victim = workers[0]
    t.check(harness.poll(lambda: beat_age_ms(d, victim) is not None, 5),
            "the worker publishes a heartbeat")
    os.kill(victim, signal.SIGSTOP)
    try:
        stale = harness.poll(lambda: (beat_age_ms(d, victim) or 0) > 1300,
                             10)
        t.check(stale, "the stopped worker's heartbeat grows old")
        conns, slow = [], []
        for n in range(20):
            s = harness.connect(d.addr, timeout=2.0)
            conns.append(s)
            t0 = time.monotonic()
            try:
                harness.get_id(s)
            except (socket.timeout, EOFError, OSError) as e:
                slow.append("%d: %s" % (n, e))
                continue
            if time.monotonic() - t0 > 1.0:
                slow.append("%d: %.2f s" % (n, time.monotonic() - t0))
        t.check(not slow, "20 new connections are all served within 1 s "
                "while a worker is stopped", "; ".join(slow))
        for s in conns:
            s.close()
    finally:
        os.kill(victim, signal.SIGCONT)
    out = d.output()
    t.check("gave no sign of life" not in out, "with worker_timeout_ms "
            "60000 a 2 s stop is not killed", out.strip())
    d.stop()


def watchdog(t):
    d = harness.Daemon(t, workers=2, worker_timeout_ms=1000, why={
        "workers": "two workers whatever the CPUs: one hangs, one is left "
                   "alone",
        "worker_timeout_ms": "the watchdog case sees a hang found within "
                             "a second"}).start()
    workers = d.wait_workers()
    # Healthy idle workers beat on their own and are left alone.
    quiet = harness.poll(lambda: "gave no sign of life" in d.output(), 2.5)
    t.check(not quiet and sorted(d.workers_now()) == sorted(workers),
            "idle workers are not taken for hung", d.output().strip())
    victim = workers[1]
    os.kill(victim, signal.SIGSTOP)
    t0 = time.monotonic()
    killed = harness.poll(lambda: not harness.alive(victim), 5)
    took = time.monotonic() - t0
    t.check(killed, "the stopped worker is killed (%.1f s, timeout 1 s)"
            % took)
    if not killed:
        os.kill(victim, signal.SIGCONT)
    out = d.output()
    t.check("gave no sign of life" in out and str(victim) in out,
            "the master logs which worker it killed and why", out.strip())
    again = d.wait_workers(exclude=(victim,))
    t.check(again, "a new worker takes its place", d.workers_now())
    with harness.connect(d.addr) as s:
        ids = harness.get_ids(s, 100)
    t.check(len(ids) > 0, "the node serves")
    rc, _ = d.stop()
    t.check(rc == 0, "exit 0", "exit %r" % rc)


def test(t):
    accepts(t)
    watchdog(t)


harness.run(test, control=True)
