#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
integ_load.py - 64 concurrent connections, at least 2 million IDs in all:
half pipeline CMD 0 (64 frames per write, 512 bytes read back), half
pipeline CMD 1 n=255.  No duplicate overall, strictly increasing IDs per
connection, all 32 buckets used, zone/dc/machine right.  Prints the
measured IDs/s (the client is Python: a floor, not a benchmark).
"""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "integration"))
import harness  # noqa: E402

TARGET = 2000000


def test(t):
    d = harness.serve(t)
    load = harness.Load(d.addr, conns=64, target=TARGET, cmd0_depth=64,
                        cmd1_depth=4, time_limit=40, min_cmd0=TARGET // 8)
    load.run()
    ids = load.all_ids()
    cmd0 = sum(len(s.ids) for s in load.segments if s.mode == 0)
    t.note("%d IDs in %.2f s: %.0f IDs/s over 64 connections "
           "(%d by CMD 0, %d by CMD 1, %d short CMD 1 replies)"
           % (load.total, load.elapsed, load.rate(), cmd0,
              load.total - cmd0, load.shorts))
    t.check(not load.timed_out, "load finished within 40 s")
    t.check(not load.errors, "no connection error under load",
            "; ".join(load.errors[:5]))
    t.check(not load.protocol_errors, "replies are well-formed",
            "; ".join(load.protocol_errors[:5]))
    t.check(len(ids) >= TARGET, "at least %d IDs" % TARGET,
            "got %d" % len(ids))
    t.check(cmd0 >= TARGET // 8 and len(ids) - cmd0 >= TARGET // 2,
            "both CMD 0 (>= %d) and CMD 1 (>= %d) served"
            % (TARGET // 8, TARGET // 2), "CMD 0 %d" % cmd0)
    harness.check_unique(t, ids, "64 connections")
    node = harness.node_bits(d.zone, d.dc, d.machine)
    buckets = harness.check_segments(
        t, load.segments, node, d.epoch, load.wall_start, load.wall_end,
        d.max_ahead, "64 connections")
    t.check(buckets == set(range(32)), "all 32 buckets used",
            "missing %s" % sorted(set(range(32)) - buckets))
    if isinstance(d, harness.Daemon):
        ws = d.workers_now()
        t.check(len(ws) == d.workers, "all %d workers still run"
                % d.workers, "got %s" % ws)
        rc, took = d.stop()
        t.check(rc == 0, "SIGTERM after the load: exit 0", "got %r" % rc)


harness.run(test)
