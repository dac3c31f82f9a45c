#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
integ_seed_client.py - the original project's Python client (the class in
the seed README, CMD 0 and CMD 1, unchanged: it reads with bare recv calls
and no loop for the single ID, as the real client does) against the real
daemon: counts 0, 1, 20 and 255, the configured zone/dc/machine in every
ID, strictly increasing IDs on one connection, the time field near now,
and INFO (CMD 2) with the keys of genid(7).  A second daemon with a recent
epoch checks the time field counts from the configured epoch.
"""

import os
import struct
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "integration"))
import harness  # noqa: E402
from harness import decode  # noqa: E402
from seed_client import IDGeneratorClient  # noqa: E402


def exercise(t, d, label):
    """The seed client against daemon d; returns nothing, records checks."""
    host, port = d.addr
    node = (d.zone, d.dc, d.machine)
    t0 = time.time()
    client = IDGeneratorClient(host, port)
    client.sock.settimeout(10)
    seen = []
    counts = {}
    try:
        one = client.get_id()
        seen.append(one)
        for n in (0, 1, 20, 255):
            ids = client.get_ids(n)
            counts[n] = len(ids)
            seen.extend(ids)
            seen.append(client.get_id())
        for _ in range(100):
            seen.extend(client.get_ids(20))
        for _ in range(50):
            seen.append(client.get_id())
    except (struct.error, OSError) as e:
        t.check(False, "%s: seed client round trips" % label,
                "%s: %s" % (type(e).__name__, e))
        return
    finally:
        client.close()
    t1 = time.time()
    t.check(counts == {0: 0, 1: 1, 20: 20, 255: 255},
            "%s: CMD 1 with counts 0, 1, 20, 255 returns that many IDs"
            % label, "got %s" % counts)
    t.check(len(seen) == 1 + 0 + 1 + 20 + 255 + 4 + 2000 + 50,
            "%s: %d IDs read by the seed client" % (label, len(seen)))
    i = harness.first_not_increasing(seen)
    t.check(i < 0, "%s: IDs on one connection strictly increase" % label,
            "id[%d]=%#x %s after %#x %s" % (
                i, seen[i], decode(seen[i]), seen[i - 1],
                decode(seen[i - 1])) if i >= 0 else None)
    t.check(len(set(seen)) == len(seen), "%s: no duplicate" % label)
    fields = {(decode(x).zone, decode(x).dc, decode(x).machine)
              for x in seen}
    t.check(fields == {node}, "%s: zone/dc/machine %d/%d/%d in every ID"
            % ((label,) + node), "got %s" % sorted(fields))
    buckets = {decode(x).bucket for x in seen}
    t.check(len(buckets) == 1, "%s: one bucket for the connection's life"
            % label, "got buckets %s" % sorted(buckets))
    ts = [decode(x).ts + d.epoch for x in seen]
    lo, hi = int(t0) - 2, int(t1) + d.max_ahead + 2
    t.check(lo <= min(ts) and max(ts) <= hi,
            "%s: time field (epoch %d) within a few seconds of now"
            % (label, d.epoch),
            "ts+epoch %d..%d, now %d..%d" % (min(ts), max(ts), t0, t1))
    t.note("%s: first ID %d = %s" % (label, seen[0], decode(seen[0])))


def check_info(t, d, label):
    with harness.connect(d.addr) as s:
        first = harness.get_id(s)
        t0 = time.time()
        try:
            inf = harness.info(s)
        except (ValueError, EOFError, OSError) as e:
            t.check(False, "%s: INFO returns JSON" % label, str(e))
            return
        after = harness.get_id(s)
    t.note("%s: INFO %s" % (label, inf))
    t.check(isinstance(inf, dict), "%s: INFO is a JSON object" % label)
    missing = [k for k in harness.INFO_KEYS if k not in inf]
    t.check(not missing, "%s: INFO has the keys of genid(7)" % label,
            "missing %s" % missing)
    t.check((inf.get("zone"), inf.get("dc"), inf.get("machine"))
            == (d.zone, d.dc, d.machine),
            "%s: INFO zone/dc/machine = %d/%d/%d"
            % ((label, d.zone, d.dc, d.machine)))
    t.check(inf.get("epoch") == d.epoch, "%s: INFO epoch = %d"
            % (label, d.epoch), "got %r" % inf.get("epoch"))
    t.check(inf.get("bucket") == decode(first).bucket,
            "%s: INFO bucket is the bucket of this connection's IDs"
            % label, "INFO %r, IDs %d" % (inf.get("bucket"),
                                          decode(first).bucket))
    t.check(after > first, "%s: IDs go on increasing after INFO" % label)
    b = inf.get("buckets")
    t.check(b == 32 or (isinstance(b, list) and b
                        and set(b) <= set(range(32))),
            "%s: INFO buckets is 32 (or a list of buckets)" % label,
            "got %r" % b)
    if isinstance(d, harness.Daemon):
        t.check(inf.get("workers") == d.workers,
                "%s: INFO workers = %d" % (label, d.workers),
                "got %r" % inf.get("workers"))
        pids = set(d.workers_now()) | {d.master_pid()}
        t.check(inf.get("pid") in pids,
                "%s: INFO pid is the master's or a worker's" % label,
                "got %r, ours %s" % (inf.get("pid"), sorted(pids)))
    now = inf.get("now")
    if isinstance(now, (int, float)):
        # "now" may be Unix time or seconds since the epoch.
        t.check(abs(now - t0) <= 3 or abs(now + d.epoch - t0) <= 3,
                "%s: INFO now is the current time" % label,
                "now %r, clock %d" % (now, t0))
    else:
        t.check(False, "%s: INFO now is a number" % label, repr(now))
    t.check(inf.get("state") == "serving",
            "%s: INFO state is \"serving\"" % label,
            "got %r" % inf.get("state"))
    # A new state file starts its buckets above 2 * max_ahead_s + 1.
    most = 2 * d.max_ahead + 2 if isinstance(d, harness.Daemon) else 3600
    t.check(isinstance(inf.get("lead_s"), int)
            and 0 <= inf["lead_s"] <= most,
            "%s: INFO lead_s is a lead of 0..%d s" % (label, most),
            "got %r" % inf.get("lead_s"))
    cp = inf.get("checkpoint")
    ts = decode(after).ts
    if isinstance(cp, (int, float)):
        t.check(cp >= ts or cp - d.epoch >= ts,
                "%s: INFO checkpoint >= the timestamp of issued IDs"
                % label, "checkpoint %r, ts %d" % (cp, ts))
    else:
        t.check(False, "%s: INFO checkpoint is a number" % label, repr(cp))
    t.check(isinstance(inf.get("uptime_s"), (int, float))
            and 0 <= inf["uptime_s"] < 86400 * 365,
            "%s: INFO uptime_s is a number" % label,
            repr(inf.get("uptime_s")))
    t.check(isinstance(inf.get("version"), str) and inf["version"],
            "%s: INFO version is a string" % label,
            repr(inf.get("version")))


def test(t):
    d = harness.serve(t)
    exercise(t, d, "epoch 0")
    check_info(t, d, "epoch 0")
    # Several seed clients at once, each on its own connection.
    clients = [IDGeneratorClient(*d.addr) for _ in range(8)]
    got = []
    for c in clients:
        c.sock.settimeout(10)
        got.extend(c.get_ids(255))
        got.append(c.get_id())
    for c in clients:
        c.close()
    t.check(len(set(got)) == len(got) == 8 * 256,
            "8 seed clients at once: %d IDs, no duplicate" % len(got))
    if isinstance(d, harness.Daemon):
        d2 = harness.Daemon(t, epoch=1600000000, why="a second node with "
                            "an epoch: INFO and the IDs report it").start()
        exercise(t, d2, "epoch 1600000000")
        check_info(t, d2, "epoch 1600000000")
        rc, took = d2.stop()
        t.check(rc == 0, "second daemon stops with 0", "got %r" % rc)


harness.run(test)
