#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
integ_first_start.py - the first start of a new node, as an operator makes
it: the shipped configuration (nothing changed but the listen address and
the files, the identity included), genid --init, then a start.

  - the seed client's first IDs (CMD 0) carry a timestamp within
    max_ahead_s of the clock;
  - bulk load from the first second (pipelined CMD 1 n=255 and CMD 0 on
    64 connections, harness.Load) never makes a bucket stop for the
    clock: for LOAD_S seconds the state file's per-bucket waits and
    shorts stay 0 and every bucket's second stays within max_ahead_s of
    the clock.  The load asks for at most half the format's capacity
    (32 buckets of 65,536 IDs a second; a fast client asks for more, and
    then a short reply is the format's limit, not a stop for the clock).
    No IDs/s figure is asserted: the machine may be busy, and the
    format's capacity, not the client's speed, is what is checked.
  - genid --init-lost, then a start: the IDs start above the clock at the
    init + 2 * max_ahead_s + 1, none repeated, and the buckets' seconds
    lie beyond max_ahead_s of the clock: the check of the first start
    tells the two apart.
"""

import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "integration"))
import harness  # noqa: E402
from harness import decode  # noqa: E402
from seed_client import IDGeneratorClient  # noqa: E402

LOAD_S = 10
# Half of what the format issues a second: 32 buckets of 65,536 IDs.
RATE = 32 * 65536 // 2


def shipped(t):
    """A node at the shipped configuration: the shipped identity too, not
    the harness's (the shipped file names none: the defaults 0)."""
    d = harness.Daemon(t, zone_id=None, dc_id=None, machine_id=None)
    t.require(d.overrides() == [], "the shipped configuration: nothing "
              "changed but the listen address and the files",
              d.overrides())
    return d


def lead(d):
    """The state file's buckets: (the most seconds one is ahead of the
    clock, waits, shorts).  The clock is read after the file, so a lead is
    never overstated."""
    st = d.state()
    now = int(time.time()) - d.epoch
    return (max((b.word >> 32) - now for b in st.buckets),
            sum(b.waits for b in st.buckets),
            sum(b.shorts for b in st.buckets))


def first_ids(t, d):
    t0 = time.time()
    c = IDGeneratorClient(*d.addr)
    c.sock.settimeout(10)
    try:
        ids = [c.get_id() for _ in range(5)]
    finally:
        c.close()
    t1 = time.time()
    lo = int(t0) - d.epoch - d.max_ahead
    hi = int(t1) - d.epoch + d.max_ahead
    ts = [decode(i).ts for i in ids]
    t.check(all(lo <= x <= hi for x in ts), "the seed client's first IDs "
            "(CMD 0) are within max_ahead_s (%d) of the clock" % d.max_ahead,
            "seconds %s, the clock %d..%d" % (ts, int(t0) - d.epoch,
                                              int(t1) - d.epoch))
    t.check(all(a < b for a, b in zip(ids, ids[1:])),
            "...and increase", [hex(i) for i in ids])


def bulk(t, d):
    load = harness.Load(d.addr, target=10 ** 12, time_limit=LOAD_S + 30)
    load.start()
    worst, samples = None, 0
    t0 = time.monotonic()
    next_sample = t0
    try:
        while time.monotonic() - t0 < LOAD_S and not load.finished.is_set():
            # No more than RATE IDs a second asked for, on average.
            now = time.monotonic()
            if load.total > RATE * (now - t0):
                load.pause.set()
            else:
                load.pause.clear()
            if now >= next_sample:
                next_sample = now + 0.1
                ahead, waits, shorts = lead(d)
                samples += 1
                if worst is None or ahead > worst[0]:
                    worst = (ahead, now - t0)
                if waits or shorts:
                    break
            time.sleep(0.005)  # the pace's step, not a wait for a state
    finally:
        load.pause.clear()
        load.stop_event.set()
        load.join(60)
    ahead, waits, shorts = lead(d)
    t.note("FIGURES: %d IDs in %.1f s on %d connections, %d samples; the "
           "most a bucket was ahead: %+d s (at %.1f s)"
           % (load.total, load.elapsed, load.nconns, samples, worst[0],
              worst[1]))
    t.check(load.total > 0 and not load.errors and not load.protocol_errors,
            "the load ran without an error", "%d IDs, errors %s %s" % (
                load.total, load.errors[:3], load.protocol_errors[:3]))
    t.check(samples >= LOAD_S and worst[0] <= d.max_ahead,
            "for %d s of load from the first second every bucket stays "
            "within max_ahead_s (%d) of the clock" % (LOAD_S, d.max_ahead),
            "%d samples, a bucket %+d s ahead at %.1f s" % (
                samples, worst[0], worst[1]))
    t.check(waits == 0 and shorts == 0 and load.shorts == 0,
            "no bucket stopped for the clock: the buckets' waits and "
            "shorts are 0", "waits %d, shorts %d (the client saw %d)"
            % (waits, shorts, load.shorts))
    harness.check_unique(t, load.all_ids(), "first start under load")


def first_start(t):
    d = shipped(t)
    rc, out = d.init_state()
    t.require(rc == 0, "genid --init: exit 0", "exit %r: %s" % (rc, out))
    d.start()
    first_ids(t, d)
    bulk(t, d)
    rc, _ = d.stop()
    t.check(rc == 0, "the node stops with 0", "exit %r" % rc)


def init_lost(t):
    d = shipped(t)
    t0 = time.time()
    rc, out = d.init_state(lost=True, why="the case of a node whose state "
                           "file was lost")
    t.require(rc == 0, "genid --init-lost: exit 0", "exit %r: %s"
              % (rc, out))
    d.start()
    reach = int(t0) - d.epoch + 2 * d.max_ahead + 1
    ahead, _, _ = lead(d)
    t.check(ahead > d.max_ahead, "after --init-lost the buckets lie beyond "
            "max_ahead_s of the clock (%+d s), which the first start's "
            "check would catch" % ahead)
    load = harness.Load(d.addr, conns=8, target=200000, time_limit=30)
    load.start()
    load.join(60)
    ids = load.all_ids()
    low = [i for i in ids if decode(i).ts <= reach]
    t.check(ids and not low, "after --init-lost every ID's second is above "
            "the clock at the init + 2 * max_ahead_s + 1 = %d" % reach,
            "%d of %d not, e.g. %s" % (len(low), len(ids),
                                       low[:1] and decode(low[0])))
    harness.check_unique(t, ids, "after --init-lost")
    rc, _ = d.stop()
    t.check(rc == 0, "the node stops with 0", "exit %r" % rc)


def test(t):
    first_start(t)
    init_lost(t)


# A backstop for a hang, not a measure: every wait above has its own
# deadline.  The ten million IDs of the load are checked for duplicates
# in one set, which takes seconds on an idle machine and a minute or more
# on a busy two-core one (139 s in all beside two CPU hogs).
harness.run(test, control=True, timeout=300)
