#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
clock-steps.py - what a step back of the wall clock costs a node under
full bulk load, at the shipped defaults (max_ahead_s 5, max_slew_s,
clock_slew 0.25, checkpoint_interval_ms 1000), and what a fresh node
issues in its first 30 s.

usage: clock-steps.py [BUILDDIR | path/to/genid]

Each case is one genid, made with genid --init in a temporary directory,
listening on a loopback port the kernel picks, under libfaketime (an offset
file rewritten to step its wall clock; the monotonic clock stays real).
32 connections of CMD 1 n=255, 16 in flight each, one on each bucket, ask
for more than the node's 2^21 IDs/s, so the buckets set the pace; every ID
is checked as it comes (strictly increasing per connection) and kept as
runs of consecutive IDs, which must not overlap (no duplicate).

- fresh: the step comes as soon as every bucket is used up in the node's
  first seconds (it borrowed max_ahead_s ahead); "before" is the time
  since the start, borrowing included;
- ran: a step back of 10 s first, its slew run to its end (40 s), then
  10 s more; "before" is those 10 s.

For each, "after" is the 10 s after the master noticed the step.  The
table shows IDs/s before and after, their ratio, "after" as a share of the
capacity of the loaded buckets, the slowest second after, the longest
wait of a CMD 0 after (one connection asking one at a time), the INFO
states seen (asked every 50 ms) and the duplicates found.  Environment:
GENID (the daemon), GENID_SRCDIR (the source tree, default the one this
file is in), CLOCK_STEPS (the step sizes in seconds, default "10 3600
7200 86400").  Exit status: 0 when every case ran and found no duplicate,
1 otherwise.  Takes about 7 minutes.
"""

import os
import sys
import tempfile
import shutil
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.environ.get("GENID_SRCDIR") or os.path.join(HERE, "..", "..")
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(SRCDIR, "tests", "integration"))
import harness  # noqa: E402
import clocksteps as cs  # noqa: E402

CONNS = int(os.environ.get("CLOCK_STEPS_CONNS", "32"))
AFTER_S = 10
FIRST_S = 30
NAMES = {10: "10 s", 3600: "1 h", 7200: "2 h", 86400: "1 day"}


class Tally:
    """Stands in for a test: keeps what failed, prints nothing else."""

    def __init__(self):
        self.failures = []

    def check(self, cond, what, detail=None):
        if not cond:
            self.failures.append("%s%s" % (what, ": %s" % detail
                                           if detail else ""))
        return bool(cond)

    def require(self, cond, what, detail=None):
        if not self.check(cond, what, detail):
            raise harness.Failure(what)

    def note(self, msg):
        pass


class Node:
    """One genid at the shipped defaults under libfaketime, loaded."""

    def __init__(self, lib, top):
        self.dir = tempfile.mkdtemp(prefix="case-", dir=top)
        self.d = harness.Daemon(None, dir=self.dir)
        self.rc_path = os.path.join(self.dir, "faketime.rc")
        self.offset = 0
        cs.set_offset(self.rc_path, 0)
        self.d.start(env=cs.faketime_env(lib, self.rc_path))
        self.started = time.monotonic()
        self.load = cs.BulkLoad(self.d.addr, conns=CONNS)
        self.load.start()
        harness.poll(lambda: len(self.load.buckets()) == CONNS, 10, 0.01)
        self.cap = len(self.load.buckets()) * cs.CAPACITY_PER_BUCKET
        self.rec = cs.Recorder(self.d, self.load, lambda: self.offset)
        self.rec.buckets = self.load.buckets()
        self.rec.start()
        self.probe = cs.Cmd0Probe(self.d.addr)
        self.probe.start()

    def until(self, t):
        harness.poll(lambda: time.monotonic() >= t, t - time.monotonic() + 1,
                     0.05)

    def used_up(self, deadline=10):
        def full():
            s = self.rec.samples[-1] if self.rec.samples else None
            return s and s.lead_ts >= 5 and \
                cs.shorts_share(self.rec, s.mono - 1, s.mono) == 1.0
        harness.poll(full, deadline, 0.05)

    def step(self, size):
        """Steps the clock back by size s: (when, when the master saw it,
        the step counters before)."""
        h = self.d.state().h
        n0 = h.slews + h.slews_far
        t0 = time.monotonic()
        self.offset -= size
        cs.set_offset(self.rc_path, self.offset)

        def seen():
            h = self.d.state().h
            return h.slews + h.slews_far > n0
        harness.poll(seen, 5, 0.005)
        return t0, time.monotonic()

    def finish(self):
        """Stops everything; (IDs, duplicate or order problems)."""
        self.probe.stop()
        self.load.stop_event.set()
        self.load.join(30)
        self.rec.stop()
        tally = Tally()
        n, dups = cs.check_runs(tally, self.load.runs +
                                [self.probe.run_ids], harness.node_bits(
                                    self.d.zone, self.d.dc, self.d.machine),
                                "ids")
        self.d.stop()
        self.d.cleanup()
        return n, dups, tally.failures


def row(n, label, since, t0, t1):
    """The figures of one step: before [since, t0), after [t1, t1 + 10)."""
    rec = n.rec
    t2 = t1 + AFTER_S
    before = rec.rate(since, t0)
    after = rec.rate(t1, t2)
    secs = rec.windows(t1, t2)
    states = rec.states(t0 - 1, t2)
    s1, s2 = rec.at(t1), rec.at(t2)
    fell = rec.slope(t1 + 1, t2, "lead_mean")
    return {
        "case": label, "before_s": t0 - since, "before": before,
        "after": after, "ratio": after / before if before else 0.0,
        "share": after / n.cap, "slowest": min(secs) / n.cap if secs else 0,
        "cmd0": n.probe.longest(t1 + 1, t2), "seen": t1 - t0,
        "gap": n.load.longest_gap(t1 + 1, t2),
        "full": cs.shorts_share(rec, t0 - 1, t0),
        "states": ",".join("%s:%d" % kv for kv in sorted(states.items())),
        "lead": "%.0f->%.0f" % (s1.lead_mean, s2.lead_mean),
        "fell": -fell if fell is not None else 0.0,
        "far": s2.slews_far > s1.slews_far or
        (s2.slews_far and s2.slews == s1.slews),
    }


def case_fresh(lib, top, size):
    n = Node(lib, top)
    try:
        n.used_up()
        t0, t1 = n.step(size)
        n.until(t1 + AFTER_S + 0.2)
        r = row(n, "%s, fresh" % NAMES.get(size, "%d s" % size), n.started,
                t0, t1)
    finally:
        ids, dups, bad = n.finish()
    r["dups"] = dups
    r["ids"] = ids
    return r, bad


def case_ran(lib, top, size):
    n = Node(lib, top)
    try:
        n.used_up()
        _, s1 = n.step(10)
        harness.poll(lambda: n.d.state().h.slew_extra_ms == 0,
                     s1 + 40 - time.monotonic() + 10, 0.1)
        since = time.monotonic()
        n.until(since + 10)
        t0, t1 = n.step(size)
        n.until(t1 + AFTER_S + 0.2)
        r = row(n, "%s, ran %.0f s" % (NAMES.get(size, "%d s" % size),
                                       t0 - n.started), since, t0, t1)
    finally:
        ids, dups, bad = n.finish()
    r["dups"] = dups
    r["ids"] = ids
    return r, bad


def first_seconds(lib, top):
    """IDs/s and the highest lead of a bucket, per second of a fresh
    node's first FIRST_S s."""
    n = Node(lib, top)
    try:
        n.until(n.started + FIRST_S + 0.2)
        out = []
        for k in range(FIRST_S):
            a, b = n.started + k, n.started + k + 1
            ss = n.rec.between(a, b)
            out.append((k, n.rec.rate(a, b),
                        max((s.lead_ts for s in ss), default=0),
                        max((s.lead_mean for s in ss), default=0)))
    finally:
        ids, dups, bad = n.finish()
    return out, ids, bad


def main():
    if len(sys.argv) > 1 and not os.environ.get("GENID"):
        arg = sys.argv[1]
        os.environ["GENID"] = arg if os.path.isfile(arg) else \
            os.path.join(arg, "src", "genid")
    g = harness.genid_path()
    if not g or not os.access(g, os.X_OK):
        print("clock-steps: no genid at %r (give BUILDDIR or set GENID)" % g)
        return 1
    lib = harness.libfaketime()
    if not lib:
        print("clock-steps: libfaketime is not installed (Debian: faketime)")
        return 1
    sizes = [int(x) for x in os.environ.get(
        "CLOCK_STEPS", "10 3600 7200 86400").split()]
    top = tempfile.mkdtemp(prefix="genid-clock-steps-")
    rows, problems, failed = [], [], False
    try:
        print("# genid %s, shipped defaults, %d connections of CMD 1 n=255"
              " x 16, capacity of the loaded buckets %d IDs/s" % (
                  g, CONNS, CONNS * cs.CAPACITY_PER_BUCKET))
        sys.stdout.flush()
        for size in sizes:
            for case in (case_fresh, case_ran):
                try:
                    r, bad = case(lib, top, size)
                except (harness.Failure, OSError) as e:
                    failed = True
                    problems.append("%s %d s: %s" % (case.__name__, size, e))
                    continue
                rows.append(r)
                problems += ["%s: %s" % (r["case"], b) for b in bad]
                print("# %s done" % r["case"])
                sys.stdout.flush()
        first, ids, bad = first_seconds(lib, top)
        problems += ["first 30 s: %s" % b for b in bad]
    finally:
        shutil.rmtree(top, ignore_errors=True)
    print()
    print("%-17s %6s %5s %10s %10s %6s %6s %7s %6s %6s %5s %11s %6s  %s" % (
        "step back", "before", "full", "IDs/s bef", "IDs/s aft", "ratio",
        "of cap", "slowest", "wait", "CMD 0", "seen", "lead s", "lead/s",
        "INFO states seen; duplicates"))
    for r in rows:
        print("%-17s %5.1fs %4.0f%% %10.0f %10.0f %5.0f%% %5.0f%% %6.0f%% "
              "%5.2fs %5.2fs %4.1fs %11s %6.3f  %s; dups %d%s" % (
                  r["case"], r["before_s"], 100 * r["full"], r["before"],
                  r["after"], 100 * r["ratio"], 100 * r["share"],
                  100 * r["slowest"], r["gap"], r["cmd0"], r["seen"],
                  r["lead"], r["fell"], r["states"], r["dups"],
                  " (counted far)" if r["far"] else ""))
    print("""
before: the window before the step (fresh: since the start, borrowing
max_ahead_s ahead included); full: share of the loaded buckets used up
(short replies) in the second before the step; ratio: after / before;
of cap: after / the loaded buckets' capacity; slowest: the slowest 1 s
window after, of capacity; wait: the longest a bulk connection went
without IDs after; CMD 0: the longest round of 250 pipelined CMD 0 on a
used-up bucket after; seen: until the master counted the step; lead:
the buckets' mean lead over genid's clock when it was seen and 10 s
later, and how fast it fell (s/s; clock_slew is 0.25).""")
    print()
    print("first %d s of a fresh node (genid --init): IDs/s, the highest "
          "lead of a bucket's second over the clock's, and the buckets' "
          "mean lead (their second and counter over the clock):" % FIRST_S)
    for k, rate, lead, mean in first:
        print("  s %2d: %9.0f IDs/s (%3.0f%% of 2^21), max lead %d s, "
              "mean %.1f s" % (k, rate, 100 * rate / 2 ** 21, lead, mean))
    print("  %d IDs, %s" % (ids, "no duplicate" if not bad else
                            "PROBLEMS: %s" % "; ".join(bad)))
    for p in problems:
        print("PROBLEM: %s" % p)
    return 1 if failed or problems else 0


if __name__ == "__main__":
    sys.exit(main())
