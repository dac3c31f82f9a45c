#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
integ_exhaustion.py - a bucket's 65,536 IDs per second run out.  With
max_ahead_s 0 (no borrowing) and one worker:
  - one connection pipelines 1000 CMD 1 n=255 (255,000 IDs, more than
    fit in a second or two): short replies (m < n) occur, no duplicate,
    IDs increase, at most 65,536 per second and exactly 65,536 (counters
    0..65535) in the second that ran out, no timestamp ahead of the clock;
  - CMD 0 sent right after the bucket ran out waits for the next second
    instead of duplicating, while other connections on the same worker
    are still served at once.
"""

import os
import select
import struct
import sys
import time
from collections import Counter

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "integration"))
import harness  # noqa: E402
from harness import decode  # noqa: E402


def flood(t, d):
    with harness.connect(d.addr, timeout=15) as s:
        s.sendall(b"\x01\xff" * 1000)
        replies = []
        late = []
        for _ in range(1000):
            ids = harness.read_ids_reply(s)
            replies.append(ids)
            if ids:
                late.append((ids[-1] >> 32, int(time.time()) - d.epoch))
    ids = [x for r in replies for x in r]
    ms = [len(r) for r in replies]
    shorts = [i for i, m in enumerate(ms) if m < 255]
    t.note("1000 x CMD 1 n=255: %d IDs, %d short replies (m: %s)" % (
        len(ids), len(shorts), sorted(Counter(ms).items())[:6]))
    t.check(shorts, "short replies (m < n) occur when the bucket runs out")
    t.check(len(set(ids)) == len(ids), "no duplicate in %d IDs" % len(ids))
    i = harness.first_not_increasing(ids)
    t.check(i < 0, "IDs strictly increase on the connection",
            "id[%d] %s after %s" % (i, decode(ids[i]), decode(ids[i - 1]))
            if i >= 0 else None)
    per = Counter(x >> 32 for x in ids)
    t.check(max(per.values()) <= 65536, "at most 65,536 IDs per second",
            "per second: %s" % dict(per))
    ahead = [(ts, now) for ts, now in late if ts > now]
    t.check(not ahead, "no timestamp ahead of the clock with max_ahead_s 0",
            "ts vs clock: %s" % ahead[:5])
    if shorts:
        first_short = shorts[0]
        prev = [x for r in replies[:first_short + 1] for x in r]
        ts = prev[-1] >> 32
        counters = sorted(x & 0xFFFF for x in ids if x >> 32 == ts)
        t.check(counters == list(range(65536)),
                "the second that ran out (%d) used counters 0..65535 once "
                "each" % ts, "%d counters, %d..%d" % (
                    len(counters), counters[0], counters[-1]))
        t.note("first short reply: #%d, m=%d" % (first_short,
                                                 ms[first_short]))


def wait_case(t, d, other):
    """One try: (decided, passed).  Not decided when the second turned
    over before the bucket ran out."""
    s = harness.connect(d.addr, timeout=15)
    try:
        s.sendall(b"\x01\xff" * 600 + b"\x00\x00" * 3)
        replies = [harness.read_ids_reply(s) for _ in range(600)]
        exhausted_at = time.time()
        pending = not select.select([s], [], [], 0)[0]
        ids = [x for r in replies for x in r]
        if len(replies[-1]) == 255 or not ids:
            return False, False
        ts = ids[-1] >> 32
        # Another connection of the same (only) worker, meanwhile.
        t0 = time.monotonic()
        oid = harness.get_id(other)
        olat = time.monotonic() - t0
        still = not select.select([s], [], [], 0)[0]
        single = [struct.unpack(">Q", harness.recv_exact(s, 8))[0]]
        arrived = time.time() - d.epoch
        single += [struct.unpack(">Q", harness.recv_exact(s, 8))[0]
                   for _ in range(2)]
    finally:
        s.close()
    if not pending or int(exhausted_at) - d.epoch != ts:
        return False, False
    t.note("bucket %d ran out in second %d; CMD 0 answered at %.3f with "
           "%s" % (decode(ids[-1]).bucket, ts, arrived,
                   [str(decode(x)) for x in single[:1]]))
    t.check(all(x >> 32 >= ts + 1 for x in single),
            "CMD 0 after the bucket ran out gets an ID of the next second",
            "ran out in %d, got %s" % (ts, [decode(x) for x in single]))
    t.check(arrived >= ts + 1, "...and the reply came once that second "
            "began (%.3f >= %d)" % (arrived, ts + 1))
    t.check(arrived < ts + 2, "...and within that second, not later "
            "(%.3f < %d)" % (arrived, ts + 2))
    t.check(single[0] > ids[-1] and single[0] < single[1] < single[2],
            "the waiting CMD 0 replies go on increasing")
    t.check(len(set(ids + single)) == len(ids) + 3,
            "no duplicate around the wait")
    if still:
        t.check(olat < 0.5, "another connection of the worker is served "
                "while CMD 0 waits (%.3f s, %s)" % (olat, decode(oid)))
    return True, True


def test(t):
    if t.external:
        t.skip("needs max_ahead_s 0 and one worker")
    d = harness.Daemon(t, workers=1, max_ahead_s=0, why={
        "workers": "one worker: the other connection is on the worker "
                   "whose bucket ran out",
        "max_ahead_s": "no borrowing ahead of the clock: a bucket runs out within its second"})
    d.start()
    flood(t, d)
    other = harness.connect(d.addr)
    harness.get_id(other)
    decided = False
    for attempt in range(5):
        decided, _ = wait_case(t, d, other)
        if decided:
            break
        t.note("try %d: the second turned over before the bucket ran out"
               % (attempt + 1))
    other.close()
    t.check(decided, "a CMD 0 was sent while its bucket was used up")
    st = d.state()
    waits = sum(b.waits for b in st.buckets)
    shorts = sum(b.shorts for b in st.buckets)
    t.check(waits >= 1 and shorts >= 1, "the state file counts waits (%d) "
            "and short replies (%d)" % (waits, shorts))
    rc, _ = d.stop()
    t.check(rc == 0, "SIGTERM at the end: exit 0", "got %r" % rc)


harness.run(test)
