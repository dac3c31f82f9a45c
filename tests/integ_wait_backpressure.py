#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
integ_wait_backpressure.py - a CMD 0 that waits for the clock while the
client is not reading its replies either: the connection is on the
worker's wait list and has output pending at once.  Each reply must come
exactly once, in order, and the worker must survive.
"""

import os
import socket
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "integration"))
import harness  # noqa: E402

FRAMES = 70000  # more than one bucket's 65,536 IDs of a second
INFOS = 20000   # about 7 MB of INFO replies first, more than socket buffers


def test(t):
    d = harness.Daemon(t, max_ahead_s=0, why="no borrowing ahead of the "
                       "clock: a CMD 0 after the second's IDs waits for "
                       "the next second").start()
    workers = d.wait_workers()
    for round_ in range(3):
        # A small receive buffer, so that the replies back up in genid.
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.settimeout(10)
            s.connect(("127.0.0.1", d.port))
            s.sendall(b"\x02\x00" * INFOS + b"\x00\x00" * FRAMES)
            for _ in range(INFOS):
                size = int.from_bytes(harness.recv_exact(s, 2), "big")
                harness.recv_exact(s, size)
            # Not reading: the replies back up while the bucket runs dry.
            harness.poll(lambda: sum(b.waits for b in d.state().buckets) >
                         round_, 3, 0.01)
            data = harness.recv_exact(s, 8 * FRAMES)
        ids = [int.from_bytes(data[i:i + 8], "big")
               for i in range(0, len(data), 8)]
        bad = harness.first_not_increasing(ids)
        t.check(bad == -1, "round %d: %d replies, strictly increasing"
                % (round_, FRAMES), "%s" % (bad,))
        t.check(len({i >> 32 for i in ids}) >= 2,
                "round %d: the replies span two seconds (the wait happened)"
                % round_)
    t.check(d.workers_now() == workers, "the worker survived",
            "was %s, now %s" % (workers, d.workers_now()))
    rc, _ = d.stop()
    t.check(rc == 0, "SIGTERM: exit 0", "got %r" % rc)


harness.run(test, control=True)
