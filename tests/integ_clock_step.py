#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
integ_clock_step.py - the wall clock steps back and forward under load
(genid(7): a step back is absorbed, never turned into duplicates; steps are
counted).  genid runs with libfaketime preloaded, reading its offset from
a file the test rewrites (the monotonic clock stays real, so genid can
tell a step from elapsed time).  64 clients pipeline requests throughout;
the clock goes +0, -2 s, +0, -4 s, +0, each offset held until genid
has noticed the step.  No duplicate, IDs strictly
increase on every connection, and the state file counts the steps.
Skips when libfaketime is not installed.
"""

import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "integration"))
import harness  # noqa: E402

# (offset, IDs to fetch under it, step it makes: -1 back, +1 forward).
PHASES = (("+0", 300000, 0), ("-2", 300000, -1), ("+0", 200000, 1),
          ("-4", 100000, -1), ("+0", 200000, 1))


def set_offset(path, offset):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(offset + "\n")
    os.rename(tmp, path)


def test(t):
    lib = harness.libfaketime()
    if not lib:
        t.skip("libfaketime is not installed (Debian: faketime)")
    d = harness.Daemon(t, workers=2, why="two workers whatever the CPUs: "
                       "the load is spread over two processes' buckets")
    rc_path = os.path.join(d.dir, "faketime.rc")
    set_offset(rc_path, "+0")
    env = {"LD_PRELOAD": lib, "FAKETIME_TIMESTAMP_FILE": rc_path,
           "FAKETIME_NO_CACHE": "1", "FAKETIME_DONT_FAKE_MONOTONIC": "1"}
    d.start(env=env)
    with harness.connect(d.addr) as s:
        first = harness.get_id(s)
    t.check(abs((first >> 32) - time.time()) <= 2,
            "with offset +0 genid issues IDs of the real time")
    load = harness.Load(d.addr, conns=64, target=10 ** 9, time_limit=45)
    load.start()
    timeline = []
    for offset, amount, step in PHASES:
        h0 = d.state().h
        load.pause.clear()
        set_offset(rc_path, offset)
        start = load.total
        t0 = time.monotonic()
        ok = harness.poll(lambda: load.total - start >= amount or
                          load.finished.is_set(), 20, 0.005)
        took = time.monotonic() - t0
        timeline.append("%s: %d IDs in %.2f s" % (offset, load.total - start,
                                                  took))
        t.check(ok and not load.finished.is_set(),
                "clock %s s: %d IDs served" % (offset, amount),
                "got %d in %.1f s" % (load.total - start, took))
        # Hold the offset, without more load, until genid noticed it.
        load.pause.set()
        if step:
            field = "clock_steps_back" if step < 0 else "clock_steps_forward"
            seen = harness.poll(lambda: getattr(d.state().h, field) >
                                getattr(h0, field), 5, 0.02)
            t.check(seen, "clock %s s: the state file counts the step %s"
                    % (offset, "back" if step < 0 else "forward"),
                    "%s stays %d" % (field, getattr(h0, field)))
    load.pause.clear()
    load.stop_event.set()
    load.join(30)
    t.note("; ".join(timeline))
    t.note("%d IDs, %d short CMD 1 replies" % (load.total, load.shorts))
    t.check(not load.errors and not load.protocol_errors,
            "no connection or protocol error across the steps",
            "; ".join((load.errors + load.protocol_errors)[:5]))
    harness.check_unique(t, load.all_ids(), "across the clock steps")
    node = harness.node_bits(d.zone, d.dc, d.machine)
    harness.check_segments(t, load.segments, node, d.epoch,
                           load.wall_start - 8, load.wall_end, d.max_ahead,
                           "across the clock steps")
    h = d.state().h
    t.note("steps back %d, forward %d, last %+.3f s, largest back %.3f s"
           % (h.clock_steps_back, h.clock_steps_forward,
              h.clock_step_last_ns / 1e9, h.clock_step_max_back_ns / 1e9))
    logged = [line for line in d.output().replace(d.dir, "").splitlines()
              if "step" in line]
    t.check(logged, "the steps are logged")
    for line in logged[:4]:
        t.note(line)
    rc, _ = d.stop()
    t.check(rc == 0, "SIGTERM at the end: exit 0", "got %r" % rc)


harness.run(test, control=True)
