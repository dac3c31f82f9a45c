#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
integ_shutdown_wait.py - SIGTERM finishes the replies to requests already
read, a CMD 0 that waits for the clock included: the client gets its ID
(from the next second), then the connection closes, and genid exits 0.
"""

import os
import signal
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "integration"))
import harness  # noqa: E402

MANY = 300  # CMD 1 n=255: 76,500 IDs asked, more than a bucket's second


def test(t):
    d = harness.Daemon(t, max_ahead_s=0, why="no borrowing ahead of the "
                       "clock: a CMD 0 after the second's IDs waits for "
                       "the next second").start()
    for attempt in range(3):
        # Start just after a second begins, so that it all fits in it.
        harness.poll(lambda: time.time() % 1.0 < 0.2, 2, 0.001)
        with harness.connect(d.addr, timeout=5) as s:
            s.sendall(b"\x01\xff" * MANY)
            last = 0
            for _ in range(MANY):
                ids = harness.read_ids_reply(s)
                last = ids[-1] if ids else last
            waits = sum(b.waits for b in d.state().buckets)
            s.sendall(b"\x00\x00" * 3)
            if not harness.poll(lambda: sum(b.waits for b in
                                            d.state().buckets) > waits,
                                0.5, 0.001):
                continue  # the second turned before the CMD 0 came
            d.signal_master(signal.SIGTERM)
            data = harness.recv_exact(s, 24)
            ids = [int.from_bytes(data[i:i + 8], "big") for i in (0, 8, 16)]
            t.check(ids[0] > last and ids[0] < ids[1] < ids[2],
                    "the waiting CMD 0 frames are answered after SIGTERM, "
                    "in order", "%s after %d" % (ids, last))
            t.check((ids[0] >> 32) > (last >> 32),
                    "...from the next second (they did wait)")
            closed, extra = harness.wait_closed(s, 3)
            t.check(closed and not extra, "then the connection is closed",
                    "closed %s, %d bytes more" % (closed, len(extra)))
        rc = d.wait_exit(3)
        t.check(rc == 0, "genid exits 0", "got %r" % rc)
        return
    t.skip("could not get a CMD 0 to wait within one second in 3 tries")


harness.run(test, control=True)
