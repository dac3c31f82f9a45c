#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
integ_worker_kill.py - kill -9 one worker while 64 clients pipeline
requests.  The master respawns it (a new child pid within a deadline),
clients reconnect on error, and over the whole run there is no duplicate,
IDs strictly increase on every connection, and on every bucket the IDs
of connections opened after the respawn are above every ID seen before
the kill.
"""

import os
import signal
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "integration"))
import harness  # noqa: E402

TARGET = 1500000
AFTER = 500000


def test(t):
    d = harness.Daemon(t).start()
    master = d.master_pid()
    workers = d.wait_workers()
    t.require(workers, "%d workers run" % d.workers,
              "got %s" % d.workers_now())
    # The target is set once the respawn is seen: AFTER more IDs then.
    load = harness.Load(d.addr, conns=64, target=10 ** 9, reconnect=True,
                        time_limit=45)
    load.start()
    t.require(harness.poll(lambda: load.total >= 300000 or
                           load.finished.is_set(), 30),
              "load under way before the kill", "%d IDs" % load.total)
    victim = workers[0]
    before = dict(load.bucket_max)
    killed_at = time.monotonic()
    os.kill(victim, signal.SIGKILL)
    t.note("killed worker %d with SIGKILL after %d IDs" % (victim,
                                                           load.total))
    new = d.wait_workers(deadline=10, exclude=(victim,))
    respawned_at = time.monotonic()
    t.check(new and victim not in new and workers[1] in new,
            "the master respawns the worker within 10 s",
            "workers now %s" % d.workers_now())
    if new:
        t.note("new worker %s after %.3f s" % (
            sorted(set(new) - {workers[1]}), respawned_at - killed_at))
    t.check(d.master_pid() == master and d.running(),
            "the master survives")
    at_respawn = load.total
    load.target = max(TARGET, at_respawn + AFTER)
    load.join(60)
    t.note("%d IDs in %.2f s (%.0f IDs/s), %d reconnects, %d after the "
           "respawn, %d short CMD 1 replies"
           % (load.total, load.elapsed, load.rate(), load.reconnects,
              load.total - at_respawn, load.shorts))
    t.check(not load.timed_out, "load finished within 45 s")
    t.check(load.total >= TARGET, "at least %d IDs" % TARGET,
            "got %d" % load.total)
    t.check(load.total - at_respawn >= AFTER,
            "at least %d IDs after the respawn" % AFTER,
            "got %d" % (load.total - at_respawn))
    t.check(load.reconnects > 0, "clients reconnected after the kill")
    t.check(not load.protocol_errors, "replies are well-formed",
            "; ".join(load.protocol_errors[:5]))
    unexpected = [e for e in load.errors
                  if "closed" not in e and "reset" not in e.lower()
                  and "Broken pipe" not in e]
    t.check(not unexpected, "only the killed worker's connections failed",
            "; ".join(unexpected[:5]))
    ids = load.all_ids()
    harness.check_unique(t, ids, "whole run")
    node = harness.node_bits(d.zone, d.dc, d.machine)
    buckets = harness.check_segments(
        t, load.segments, node, d.epoch, load.wall_start, load.wall_end,
        d.max_ahead, "whole run")
    t.check(buckets == set(range(32)), "all 32 buckets used",
            "missing %s" % sorted(set(range(32)) - buckets))
    # New connections after the respawn: on the buckets of the killed
    # worker's slot, every ID is above what that bucket issued before.
    st = d.state()
    victim_buckets = set()
    for i, w in enumerate(st.workers[:d.workers]):
        if w.pid not in workers:
            victim_buckets = {b for b in range(32) if b % d.workers == i}
    t.check(victim_buckets, "the state file names the respawned worker",
            "worker slots %s, workers before %s, now %s" % (
                [w.pid for w in st.workers[:d.workers]], workers, new))
    bad = []
    hit = set()
    probes = [harness.connect(d.addr) for _ in range(32)]
    for s in probes:
        ids = harness.get_ids(s, 255)
        if not ids:
            continue
        b = (ids[0] >> 16) & 31
        if b in victim_buckets:
            hit.add(b)
            if b in before and ids[0] <= before[b]:
                bad.append("bucket %d: %#x <= %#x" % (b, ids[0], before[b]))
    for s in probes:
        s.close()
    t.check(hit and not bad, "new connections on the respawned worker's "
            "buckets %s get IDs above every ID of their bucket before the "
            "kill" % sorted(hit), "; ".join(bad[:5]) or "none reached it")
    t.check(st.h.worker_restarts >= 1 or
            sum(w.restarts for w in st.workers) >= 1,
            "the state file counts the restart",
            "worker_restarts %d" % st.h.worker_restarts)
    rc, took = d.stop()
    t.check(rc == 0, "SIGTERM after the run: exit 0", "got %r" % rc)


harness.run(test, control=True)
