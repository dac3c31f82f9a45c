#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
integ_msync_fail.py - msync failing (EIO, a dying disk) under load.

The checkpoint cannot move, so the workers soon need a raise on every
request.  After a failed msync a process must not try again at once: over
3 s of load the attempts stay in the tens (they were hundreds of thousands
a second), and the master says so at most once per 10 s.  When msync works
again the master logs it and the node serves again.  The shim
(tests/msync_fail.c, LD_PRELOAD) fails msync while a flag file exists.
"""

import os
import socket
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "integration"))
import harness  # noqa: E402


def shim():
    build = os.environ.get("GENID_BUILDDIR", ".")
    path = os.path.join(build, "tests", ".libs", "msync_fail.so")
    return path if os.path.exists(path) else None


def hammer(addr, seconds):
    """CMD 1 requests for seconds; returns the IDs received."""
    got = 0
    end = time.monotonic() + seconds
    s = harness.connect(addr, timeout=0.5)
    while time.monotonic() < end:
        try:
            got += len(harness.get_ids(s, 255))
        except (socket.timeout, EOFError, OSError):
            s.close()
            s = harness.connect(addr, timeout=0.5)
    s.close()
    return got


def test(t):
    lib = shim()
    if lib is None:
        t.skip("tests/.libs/msync_fail.so was not built")
    d = harness.Daemon(t, max_ahead_s=0, checkpoint_interval_ms=100, why={
        "max_ahead_s": "no lead: the workers need a raise at every new "
                       "second, so failed msyncs show within the 3 s",
        "checkpoint_interval_ms": "the master tries its raises often "
                                  "too, so that a retry storm would show"})
    flag = os.path.join(d.dir, "fail")
    count = os.path.join(d.dir, "count")
    env = {"LD_PRELOAD": lib, "GENID_MSYNC_FAIL": flag,
           "GENID_MSYNC_COUNT": count,
           "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") +
           ":verify_asan_link_order=0"}
    d.start(env=env)
    t.check(hammer(d.addr, 0.3) > 0, "the node serves before the failure")
    before = d.output()
    open(flag, "w").close()
    t0 = time.monotonic()
    hammer(d.addr, 3.0)
    took = time.monotonic() - t0
    os.unlink(flag)
    n = os.path.getsize(count) if os.path.exists(count) else 0
    t.check(0 < n < 60 * took, "failed msync attempts over %.1f s of load: "
            "%d, a few a second per process" % (took, n), "%d attempts" % n)
    out = d.output()[len(before):]
    master = [ln for ln in out.splitlines() if "the checkpoint timer" in ln]
    t.check(1 <= len(master) <= 1 + int(took / 10),
            "the master says so once per 10 s", "\n".join(master))
    t.check(any("cannot move" in ln for ln in master),
            "its message says what it costs", "\n".join(master))
    workers = [ln for ln in out.splitlines() if "msync" in ln and
               "the checkpoint timer" not in ln]
    t.note("lines about msync from the workers: %d (conn.c take())"
           % len(workers))
    again = harness.poll(lambda: "works again" in d.output(), 5)
    t.check(again, "the log says when msync works again")
    t.check(hammer(d.addr, 0.5) > 0, "the node serves again")
    rc, _ = d.stop()
    t.check(rc == 0, "exit 0", "exit %r" % rc)


harness.run(test, control=True)
