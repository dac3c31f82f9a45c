#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
integ_group_term.py - SIGTERM to the whole process group (systemd's
KillMode=control-group): the workers exit 0 before the master has seen
its own SIGTERM.  The master is stopped while the signal goes out, so that
its loop sees the workers' exits and its SIGTERM in the same turn; it must
respawn none of them and exit 0.
"""

import os
import signal
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "integration"))
import harness  # noqa: E402


def zombie(pid):
    st = harness.proc_stat(pid)
    return st is None or st[0] in ("Z", "X")


def test(t):
    d = harness.Daemon(t, workers=4, why="more workers than a small "
                       "machine's default: several exits reach the master "
                       "in the same turn as its SIGTERM")
    d.new_session = True
    d.start()
    master = d.master_pid()
    workers = d.wait_workers(4)
    t.check(workers, "4 workers run")
    with harness.connect(d.addr) as s:
        harness.get_id(s)
    before = d.output()
    os.kill(master, signal.SIGSTOP)
    try:
        os.killpg(master, signal.SIGTERM)
        gone = harness.poll(lambda: all(zombie(p) for p in workers), 10)
        t.check(gone, "every worker exits on the group's SIGTERM while the "
                "master is stopped")
    finally:
        os.kill(master, signal.SIGCONT)
    rc = d.wait_exit(10)
    t.check(rc == 0, "the master exits 0", "exit %r; output:\n%s"
            % (rc, d.output().strip()))
    after = d.output()[len(before):]
    started = [ln for ln in after.splitlines() if " started, pid " in ln]
    t.check(not started, "no worker is respawned during the shutdown",
            "\n".join(started))
    t.check("respawning" not in after, "no respawn is scheduled",
            after.strip())
    t.check(not any(harness.alive(p) for p in d.workers_now()),
            "no process of the group is left")


harness.run(test, control=True)
