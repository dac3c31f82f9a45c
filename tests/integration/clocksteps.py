# SPDX-License-Identifier: BSD-2-Clause
"""
clocksteps.py - what tests/integ_clock_slew.py and
contrib/bench/clock-steps.py share: a genid at the shipped defaults under
libfaketime (an offset file rewritten to step its wall clock; the
monotonic clock stays real, so genid tells a step from elapsed time),
a bulk load that saturates the node's buckets and checks every ID as it
comes, keeping runs of consecutive IDs instead of each one, and a
recorder that samples the load, the state file, INFO and the log while
the clock steps.

A node has 32 buckets of 65,536 IDs a second (genid(7)); N connections
of CMD 1 n=255, 16 in flight each, land one on each of N buckets and ask
for far more than that, so the buckets, not the client, set the pace:
every bucket answers short replies (its shorts in the state file)
whenever it is used up.  Python standard library only.
"""

import bisect
import itertools
import operator
import os
import socket
import struct
import threading
import time
from collections import Counter

import harness

CAPACITY_PER_BUCKET = 65536

# A connection that waits longer than this for its next IDs is noted.
GAP_S = 0.25

def slew_left_ms(h):
    """How long until the slew ends, ms: the header holds the monotonic
    millisecond it ends at (slew_end_ms; Python's time.monotonic() reads
    the same CLOCK_MONOTONIC, which libfaketime leaves alone here)."""
    end = h.slew_end_ms
    return max(end - time.monotonic() * 1000, 0) if end else 0


def set_offset(path, offset):
    """Steps the wall clock of every process reading path to real time +
    offset s (libfaketime's FAKETIME_TIMESTAMP_FILE), atomically."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("%+d\n" % offset)
    os.rename(tmp, path)


def faketime_env(lib, rc_path):
    """The environment that puts genid under libfaketime reading rc_path;
    the monotonic clock stays real."""
    return {"LD_PRELOAD": lib, "FAKETIME_TIMESTAMP_FILE": rc_path,
            "FAKETIME_NO_CACHE": "1", "FAKETIME_DONT_FAKE_MONOTONIC": "1"}


def consecutive(ids, lo, hi, out):
    """Appends to out the runs [first, last] of consecutive values that
    make up ids[lo..hi], a strictly increasing sequence: ids[lo..hi] is
    one run exactly when its ends differ by hi - lo."""
    if ids[hi] - ids[lo] == hi - lo:
        if out and out[-1][1] + 1 == ids[lo]:
            out[-1][1] = ids[hi]
        else:
            out.append([ids[lo], ids[hi]])
        return
    mid = (lo + hi) // 2
    consecutive(ids, lo, mid, out)
    consecutive(ids, mid + 1, hi, out)


class ConnRun:
    """What one connection got, checked as it comes: strictly increasing,
    one bucket and this node's bits; the first and last ID, how many; and
    every ID, held as runs of consecutive values (a bucket hands out
    consecutive counters within a second, so a connection's IDs are a few
    runs a second: minutes of 2^21 IDs a second fit, where a set of them
    would not)."""

    __slots__ = ("key", "first", "last", "count", "bad", "ts_min",
                 "ts_max", "seen", "gaps", "spans")

    def __init__(self):
        self.key = None
        self.first = self.last = None
        self.count = 0
        self.bad = []
        self.ts_min = self.ts_max = None
        self.seen = None
        self.gaps = []  # (monotonic, s) of each wait over GAP_S for IDs
        self.spans = []  # [first, last] of each run of consecutive IDs

    def add(self, ids):
        now = time.monotonic()
        if self.seen is not None and now - self.seen > GAP_S:
            self.gaps.append((now, now - self.seen))
        self.seen = now
        first, last = ids[0], ids[-1]
        if self.last is not None and first <= self.last:
            self.bad.append("%#x after %#x" % (first, self.last))
        if all(map(operator.lt, ids, itertools.islice(ids, 1, None))):
            consecutive(ids, 0, len(ids) - 1, self.spans)
        else:
            i = harness.first_not_increasing(ids)
            self.bad.append("%#x after %#x" % (ids[i], ids[i - 1]))
            self.spans += [[x, x] for x in ids]
        # Increasing IDs with the same second at both ends share the bits
        # between the second and the counter; else look at each.
        if first >> 32 == last >> 32 and (first >> 16) == (last >> 16):
            keys = {(first >> 16) & 0xFFFF}
        else:
            keys = {(x >> 16) & 0xFFFF for x in ids}
        if self.key is None:
            self.key = min(keys)
        if keys != {self.key}:
            self.bad.append("bucket/node bits %s on one connection" % sorted(
                "%#x" % k for k in keys | {self.key}))
        if self.first is None:
            self.first = first
            self.ts_min = first >> 32
        self.last = last
        self.ts_max = last >> 32
        self.count += len(ids)


class BulkLoad(harness.Load):
    """harness.Load with every connection on CMD 1 n=255 and the IDs
    checked as they come and kept as runs of consecutive values
    (ConnRun), not one by one."""

    def __init__(self, addr, conns=32, depth=16, time_limit=600):
        super().__init__(addr, conns=conns, target=10 ** 12,
                         cmd1_depth=depth, time_limit=time_limit)
        self.runs = []
        self._run_of = {}

    def _open(self, sel, mode):
        c = super()._open(sel, 1)
        if c is not None:
            r = ConnRun()
            self._run_of[c] = r
            self.runs.append(r)
        return c

    def _parse(self, c):
        got = super()._parse(c)
        if got:
            self._run_of[c].add(c.ids)
            del c.ids[:]
        return got

    def longest_gap(self, t0, t1):
        """The longest any connection waited for IDs, ending between t0
        and t1, s."""
        return max((g for r in self.runs for t, g in r.gaps
                    if t0 <= t <= t1), default=0.0)

    def buckets(self):
        """The buckets the connections landed on."""
        return sorted({r.key & 31 for r in self.runs if r.key is not None})

    def bucket_top(self):
        """{bucket: the highest ID it gave this load}."""
        top = {}
        for r in self.runs:
            if r.last is not None:
                b = r.key & 31
                top[b] = max(top.get(b, 0), r.last)
        return top


def check_runs(t, runs, node, what):
    """Every connection's IDs strictly increase on one bucket of this node,
    and no ID came twice over all of them: the runs of consecutive IDs of
    all connections, sorted, do not overlap.  Returns the number of IDs
    and of IDs found twice."""
    bad = ["conn %d: %s" % (i, "; ".join(r.bad[:2]))
           for i, r in enumerate(runs) if r.bad]
    t.check(not bad, "%s: IDs strictly increase on each of %d connections,"
            " one bucket each" % (what, len(runs)), "; ".join(bad[:5]))
    wrong = sorted({r.key >> 5 for r in runs if r.key is not None} - {node})
    t.check(not wrong, "%s: zone/dc/machine right" % what,
            "node bits %s" % wrong)
    spans = sorted(sp for r in runs for sp in r.spans)
    dups, seen = [], []
    top = -1
    for first, last in spans:
        if first <= top:
            dups.append(min(last, top) - first + 1)
            if len(seen) < 5:
                seen.append("%#x..%#x %s" % (first, min(last, top),
                                            harness.decode(first)))
        top = max(top, last)
    n = sum(r.count for r in runs)
    t.check(not dups, "%s: %d IDs, no duplicate" % (what, n),
            "%d IDs twice, e.g. %s" % (sum(dups), "; ".join(seen)))
    return n, sum(dups)


class Sample:
    __slots__ = ("mono", "real", "total", "shorts", "allowance", "extra_ms",
                 "left_ms", "slews", "slews_far", "lead_mean", "lead_max",
                 "lead_ts", "bucket_shorts", "ckpt")


class Recorder(threading.Thread):
    """Samples, every interval s: the load's count, the state file (the
    slew's fields, the buckets' lead over genid's clock, their shorts);
    and, on its own connection, INFO every info_interval s (state,
    uptime_s, pid).  offset() is genid's clock minus the real one."""

    def __init__(self, d, load, offset, interval=0.1, info_interval=0.05):
        super().__init__(daemon=True)
        self.d = d
        self.load = load
        self.offset = offset
        self.interval = interval
        self.info_interval = info_interval
        self.samples = []
        self.infos = []  # (monotonic, state, uptime_s, pid, slew_left_s)
        self.info_errors = Counter()
        self.stop_event = threading.Event()
        self._sock = None
        self._last_info = 0.0
        self.buckets = None
        self.slew_ends = []  # (monotonic, lead_ts) when the log says so
        self._log_off = os.path.getsize(d.log_path) \
            if os.path.exists(d.log_path) else 0

    def stop(self):
        self.stop_event.set()
        self.join(10)
        if self._sock:
            self._sock.close()

    def run(self):
        while not self.stop_event.is_set():
            now = time.monotonic()
            try:
                s = self.sample()
                self.samples.append(s)
                self._log(s)
            except (OSError, harness.Failure):
                pass
            if now - self._last_info >= self.info_interval:
                self._last_info = now
                self._info()
            self.stop_event.wait(min(self.interval, self.info_interval))

    def sample(self):
        st = self.d.state()
        s = Sample()
        s.mono = time.monotonic()
        s.real = time.time()
        s.total = self.load.total if self.load else 0
        s.shorts = self.load.shorts if self.load else 0
        h = st.h
        s.allowance = h.allowance
        s.extra_ms = h.slew_extra_ms
        s.left_ms = slew_left_ms(h)
        s.slews = h.slews
        s.slews_far = h.slews_far
        s.ckpt = h.checkpoint
        clock = s.real + self.offset() - self.d.epoch
        bs = self.buckets or [i for i, b in enumerate(st.buckets) if b.ids]
        leads = [(st.buckets[b].word >> 32) +
                 (st.buckets[b].word & 0xFFFFFFFF) / CAPACITY_PER_BUCKET -
                 clock for b in bs]
        s.lead_mean = sum(leads) / len(leads) if leads else 0.0
        s.lead_max = max(leads) if leads else 0.0
        # The lead as genid counts it: the highest second of a loaded
        # bucket less the clock's second.
        s.lead_ts = max((st.buckets[b].word >> 32 for b in bs),
                        default=0) - int(clock)
        s.bucket_shorts = [st.buckets[b].shorts for b in bs]
        return s

    def _log(self, s):
        """Notes each "slew ends" genid logs, with the lead of the sample
        taken just after."""
        with open(self.d.log_path, "rb") as f:
            f.seek(self._log_off)
            data = f.read()
        cut = data.rfind(b"\n") + 1
        self._log_off += cut
        for line in data[:cut].decode(errors="replace").splitlines():
            if "slew ends" in line:
                self.slew_ends.append((s.mono, s.lead_ts, line))

    def _info(self):
        try:
            if self._sock is None:
                self._sock = harness.connect(self.d.addr, timeout=2)
            i = harness.info(self._sock)
            self.infos.append((time.monotonic(), i.get("state"),
                               i.get("uptime_s"), i.get("pid"),
                               i.get("slew_left_s")))
        except (OSError, EOFError, ValueError) as e:
            self.info_errors[type(e).__name__] += 1
            if self._sock:
                self._sock.close()
            self._sock = None

    # -- what the samples say over a window of monotonic time

    def between(self, t0, t1):
        return [s for s in self.samples if t0 <= s.mono <= t1]

    def at(self, t):
        """The first sample at or after t (the last one if none)."""
        i = bisect.bisect_left([s.mono for s in self.samples], t)
        return self.samples[min(i, len(self.samples) - 1)]

    def rate(self, t0, t1):
        """IDs a second the load got between the samples nearest t0, t1."""
        a, b = self.at(t0), self.at(t1)
        return (b.total - a.total) / (b.mono - a.mono) if b.mono > a.mono \
            else 0.0

    def windows(self, t0, t1, width=1.0, step=0.1):
        """IDs a second in each window of width s sliding by step s."""
        out = []
        t = t0
        while t + width <= t1:
            out.append(self.rate(t, t + width))
            t += step
        return out

    def slope(self, t0, t1, field):
        """The least-squares slope of field over time (per s)."""
        pts = [(s.mono, getattr(s, field)) for s in self.between(t0, t1)]
        if len(pts) < 2:
            return None
        mx = sum(p[0] for p in pts) / len(pts)
        my = sum(p[1] for p in pts) / len(pts)
        sxx = sum((p[0] - mx) ** 2 for p in pts)
        sxy = sum((p[0] - mx) * (p[1] - my) for p in pts)
        return sxy / sxx if sxx else None

    def states(self, t0=0, t1=float("inf")):
        return Counter(i[1] for i in self.infos if t0 <= i[0] <= t1)

    def uptime_faults(self):
        """INFO answers whose uptime_s is negative or below the one
        before from the same master."""
        bad = []
        last = {}
        for mono, _, up, pid, _ in self.infos:
            if up is None:
                continue
            if up < 0 or (pid in last and up < last[pid]):
                bad.append("pid %s: uptime_s %s after %s" % (
                    pid, up, last.get(pid)))
            last[pid] = up
        return bad


class Cmd0Probe(threading.Thread):
    """One more connection, on a bucket of its own, asking depth CMD 0 at
    a time as fast as it can: more than its bucket's 65,536 a second, so
    its requests wait for the clock whenever the bucket is used up.  Keeps
    how long each round took (monotonic time sent, seconds) and checks its
    IDs like the load's."""

    def __init__(self, addr, depth=250):
        super().__init__(daemon=True)
        self.addr = addr
        self.depth = depth
        self.waits = []
        self.errors = []
        self.run_ids = ConnRun()
        self.stop_event = threading.Event()

    def run(self):
        try:
            s = harness.connect(self.addr, timeout=30)
        except OSError as e:
            self.errors.append("connect: %s" % e)
            return
        frames = b"\x00\x00" * self.depth
        unpack = struct.Struct(">%dQ" % self.depth).unpack
        with s:
            while not self.stop_event.is_set():
                t0 = time.monotonic()
                try:
                    s.sendall(frames)
                    ids = unpack(harness.recv_exact(s, 8 * self.depth))
                except (OSError, EOFError) as e:
                    self.errors.append("CMD 0: %s" % e)
                    return
                self.waits.append((t0, time.monotonic() - t0))
                self.run_ids.add(ids)

    def stop(self):
        self.stop_event.set()
        self.join(35)

    def longest(self, t0, t1):
        """The longest round of CMD 0 sent between t0 and t1, s."""
        return max((w for s, w in self.waits if t0 <= s <= t1), default=0.0)


def shorts_share(rec, t0, t1):
    """The share of the loaded buckets that answered a short reply in the
    window (the bucket, not the client, was the limit there)."""
    a, b = rec.at(t0), rec.at(t1)
    if not a.bucket_shorts or len(a.bucket_shorts) != len(b.bucket_shorts):
        return 0.0
    hit = sum(1 for x, y in zip(a.bucket_shorts, b.bucket_shorts) if y > x)
    return hit / len(a.bucket_shorts)


def one_id(addr):
    """One CMD 0 on a new connection, or None."""
    try:
        with harness.connect(addr, timeout=2) as s:
            return harness.get_id(s)
    except (OSError, EOFError, socket.timeout):
        return None
