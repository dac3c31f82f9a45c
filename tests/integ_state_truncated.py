#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
integ_state_truncated.py - the state file cut short while genid runs.

The bucket table is gone with the cut: nothing may be issued from it, and
no process may die of SIGBUS in silence.  A scrape of /metrics after the
cut gets an error reply, not a dead master; the master stops the node
within a few seconds with exit 74 (EX_IOERR) and a message naming the file
and the cut.  Both a cut inside the table and one to 0 bytes.
"""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "integration"))
import harness  # noqa: E402

EX_IOERR = 74


def cut(t, size):
    d = harness.Daemon(t, metrics_listen="127.0.0.1:0",
                       why="a scrape of /metrics after the cut is one of "
                       "the checks; the shipped config serves none").start()
    port = harness.metrics_port(d)
    with harness.connect(d.addr) as s:
        harness.get_ids(s, 10)
    workers = d.wait_workers()
    master = d.master_pid()
    os.truncate(d.state_path, size)
    reply, _ = harness.http_exchange(port, b"GET /metrics HTTP/1.0\r\n\r\n")
    t.check(not reply.startswith(b"HTTP/1.0 200") and
            not reply.startswith(b"HTTP/1.1 200"),
            "cut to %d bytes: a scrape gets no exposition read from the "
            "missing pages" % size, reply[:80])
    rc = d.wait_exit(10)
    out = d.output()
    t.check(rc == EX_IOERR, "cut to %d bytes: the master exits 74 "
            "(EX_IOERR), not by a signal" % size,
            "exit %r (master %d); output:\n%s" % (rc, master, out.strip()))
    t.check("truncated" in out and d.state_path in out,
            "cut to %d bytes: the log says the file was truncated and names "
            "it" % size, out.strip())
    gone = harness.poll(lambda: not any(harness.alive(p) for p in workers),
                        5)
    t.check(gone, "cut to %d bytes: no worker is left" % size)
    t.check("killed by signal 7" not in out,
            "cut to %d bytes: nothing died of SIGBUS" % size, out.strip())
    if rc is None:
        d.kill_all()


def test(t):
    cut(t, 4096)
    cut(t, 0)


harness.run(test, control=True)
