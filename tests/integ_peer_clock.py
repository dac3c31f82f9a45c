#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
integ_peer_clock.py - the peers compare clocks (issue 9, genid(8)).

A node whose clock is 30 s behind its peer's refuses to start with exit
75 and one line naming the skew and the peer; an unreachable peer is only
a warning.  With --wait-clock it waits instead, and starts once its clock
is right again.  A node whose clock runs 60 times as fast (libfaketime
"x60", so that the check every minute comes after a second) drifts away
from its peer: the minute's check logs it loudly and the metrics show
genid_peer_clock_skew_seconds.  Skips without libfaketime.
"""

import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "integration"))
import harness  # noqa: E402

# Why the nodes here differ from the shipped configuration.
NODES = {"machine_id": "nodes of one data centre, told apart by machine",
         "peers": "the test is about the clock check against the peers",
         "metrics_listen": "the skew is checked in /metrics too, which the "
                           "shipped configuration does not serve"}


def set_offset(path, offset):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(offset + "\n")
    os.rename(tmp, path)


def faked(d, lib, offset):
    rc_path = os.path.join(d.dir, "faketime.rc")
    set_offset(rc_path, offset)
    return rc_path, {"LD_PRELOAD": lib, "FAKETIME_TIMESTAMP_FILE": rc_path,
                     "FAKETIME_NO_CACHE": "1",
                     "FAKETIME_DONT_FAKE_MONOTONIC": "1"}


def test(t):
    lib = harness.libfaketime()
    if not lib:
        t.skip("libfaketime is not installed (Debian: faketime)")
    a = harness.Daemon(t, machine_id=1, why=NODES).start()
    peer_a = "127.0.0.1:%d" % a.port
    nobody = "127.0.0.1:%d" % harness.closed_port()

    behind = harness.Daemon(t, machine_id=2, peers=[nobody, peer_a],
                            why=NODES)
    _, env = faked(behind, lib, "-30")
    rc = behind.spawn(env=env).wait(timeout=30)
    err = behind.stderr().strip()
    t.check(rc == 75, "a clock 30 s behind the peer's: exit 75",
            "got %r: %s" % (rc, err))
    last = err.splitlines()[-1] if err else ""
    t.note("refused: %s" % last)
    m = re.search(r"is ([0-9.]+) s behind the median of 1 peer\b", last)
    t.check(m and 28 <= float(m.group(1)) <= 32 and peer_a in last,
            "one line names the skew (about 30 s) and the peer", last)
    t.check(nobody in behind.output() and "warning" in behind.output(),
            "the unreachable peer is a warning")

    waiting = harness.Daemon(t, machine_id=2, peers=[peer_a], why=NODES)
    rc_path, env = faked(waiting, lib, "-30")
    waiting.spawn(args=["--wait-clock"], env=env, why="the test is about "
                  "--wait-clock: it waits until the clock is right")
    saw = harness.poll(lambda: "waiting for the clock (--wait-clock)"
                       in waiting.output(), 15, 0.05)
    t.check(saw, "--wait-clock: it says it waits for the clock",
            waiting.output()[-500:])
    t.check(waiting.proc.poll() is None, "...and waits, not exits")
    set_offset(rc_path, "+0")
    waiting.wait_ready()
    t.check("within 5 s of the peers' again" in waiting.output(),
            "once the clock is right it starts and says so")
    with harness.connect(waiting.addr) as s:
        t.check(harness.decode(harness.get_id(s)).machine == 2,
                "the node that waited serves")
    rc, _ = waiting.stop()
    t.check(rc == 0, "it stops with 0", "got %r" % rc)

    fast = harness.Daemon(t, machine_id=3, peers=[peer_a],
                          metrics_listen="127.0.0.1:0", why=NODES)
    fast.start(env={"LD_PRELOAD": lib, "FAKETIME": "+0 x60",
                    "FAKETIME_NO_CACHE": "1"})
    loud = harness.poll(lambda: "CLOCK: this clock is" in fast.output(),
                        20, 0.05)
    t.check(loud, "the check every minute logs a drifting clock loudly",
            fast.output()[-800:])
    h = fast.state().h
    t.check(h.peer_clocks == 1 and h.peer_skew_ms > 5000,
            "the state file holds the skew ahead of the peer",
            "peer_clocks %d skew %d ms" % (h.peer_clocks, h.peer_skew_ms))
    reply, e = harness.http_exchange(
        harness.metrics_port(fast),
        b"GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
    m = re.search(rb"^genid_peer_clock_skew_seconds (-?[0-9.]+)$", reply,
                  re.M)
    t.check(e is None and m and float(m.group(1)) > 5,
            "genid_peer_clock_skew_seconds shows it",
            m.group(0) if m else reply[-300:])
    for d in (fast, a):
        rc, _ = d.stop()
        t.check(rc == 0, "stops with 0", "got %r" % rc)


harness.run(test, control=True)
