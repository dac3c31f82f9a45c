#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
integ_restart_after_raise.py - a restart right after a crash is not
refused when a worker raised the checkpoint itself.

With checkpoint_interval_ms 5000 the master's raises come late, and one
connection pulling CMD 1 at full speed makes its bucket borrow: the worker
raises the checkpoint itself (genid before proto.c's fix raised it to the
borrowed second + max_ahead_s + 1, up to 2 * max_ahead_s + 1 ahead of the
clock).  kill -9 of the whole node, then an immediate restart: it must
serve (it was refused with exit 75, "the clock is behind the checkpoint"),
and repeat no ID.
"""

import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "integration"))
import harness  # noqa: E402


def test(t):
    d = harness.Daemon(t, workers=1, max_ahead_s=1,
                       checkpoint_interval_ms=5000, why={
                           "workers": "one worker: the one connection's "
                                      "bucket is the one it raises for",
                           "max_ahead_s": "a short lead: the bucket "
                                          "borrows, and needs a raise, "
                                          "within a second of load",
                           "checkpoint_interval_ms": "the master's raises "
                                                     "come late, so the "
                                                     "worker raises "
                                                     "itself"}).start()
    ids = []
    raised = False
    end = time.monotonic() + 20
    with harness.connect(d.addr) as s:
        while time.monotonic() < end:
            for _ in range(64):
                s.sendall(bytes((1, 255)))
            for _ in range(64):
                ids.extend(harness.read_ids_reply(s))
            st = d.state()
            ahead = st.h.checkpoint - time.time()
            if sum(w.checkpoint_raises for w in st.workers) > 0:
                raised = True
                break
    t.check(raised, "the worker raised the checkpoint itself (%d IDs, "
            "%.1f s ahead)" % (len(ids), ahead))
    before = set(ids)
    d.kill_all()
    d.spawn()
    try:
        d.wait_ready(15)
        started = True
    except harness.Failure as e:
        started = False
        t.check(False, "the restart right after the crash serves", str(e))
    if started:
        t.check(True, "the restart right after the crash serves")
        with harness.connect(d.addr) as s:
            after = list(harness.get_ids(s, 255))
        t.check(after and not before & set(after),
                "no ID repeated after the restart")
        d.stop()


harness.run(test, control=True)
