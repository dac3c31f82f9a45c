#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
integ_clock_slew.py - at the shipped defaults, a step back of the clock
under full bulk load costs capacity, not availability (genid(7), SPEC
sections 3, 5 and 12): genid under libfaketime (an offset file the test
rewrites; the monotonic clock stays real, so genid tells a step from
elapsed time).

4 connections of CMD 1 n=255 (16 in flight each) land one on each of 4
buckets and ask for far more than 65,536 IDs a second each, so the
buckets, not the client, set the pace (each answers short replies when it
is used up; checked); 4 of the 32 buckets, because the Python client
gets their 262,144 IDs/s with room to spare even beside two CPU hogs on
a two-core machine (contrib/test.sh's part busy), where it got 370,000
to 570,000 IDs/s: 8 buckets' 524,288 were not always used up there, and
all 32's 2^21 are far beyond it (contrib/bench/clock-steps.py loads all
32).  One more connection pipelines CMD 0, 250 at a time, more than its
bucket gives.
Three nodes, each made with genid --init and left
at the shipped defaults (max_ahead_s 5, max_slew_s, clock_slew 0.25,
checkpoint_interval_ms 1000):

- a: fresh, a step back of 10 s as soon as every bucket is used up (in
  its first seconds); the slew runs to its end (about 44 s), and the log says "slew ends" only with the buckets back
  within max_ahead_s; then, the node having run a while, a step back of
  an hour, and a kill -9 of the whole node in that slew: the restart
  serves at once and slews on, above every ID before;
- b: fresh, a step back of an hour as soon as every bucket is used up;
- c: run 20 s, then a step back of 10 s.

For each step, once the master has noticed it (within a tick): the load
gets at least 70% of what it got before, or of the loaded buckets'
capacity if that is less (a fresh node's first seconds borrow up to
max_ahead_s ahead, above it), and in every second (no empty second, no
connection or CMD 0 waiting a whole second); INFO, asked every 50 ms,
says "serving" throughout; the allowance rises by the step and the
slew's extra, and the buckets' lead over genid's clock, fall at
clock_slew 0.25 s a second; the slew's end is extra / clock_slew away.
INFO's uptime_s never goes negative or back.  No ID twice, IDs strictly
increase on every connection.  Runs about 2 minutes, most of it the
clock's own time.  Skips when libfaketime is not installed.
"""

import json
import os
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "integration"))
import harness  # noqa: E402
import clocksteps as cs  # noqa: E402

RATE = 0.25             # clock_slew, shipped
MAX_AHEAD = 5           # max_ahead_s, shipped
TICK_S = 1.0            # checkpoint_interval_ms, shipped: the master's tick
# Bulk connections, one on each of as many buckets: see above.
CONNS = 4
AFTER_S = 10            # measured after the master noticed a step
FLOOR = 0.70            # of the rate before: the slew allows 0.75
SECOND_FLOOR = 0.40     # of it in any one second: no empty second
# A used-up bucket makes its clients wait for the next second, up to one;
# more, with room for a busy machine, means a second went empty.
WAIT_MAX = 1.3


class Node:
    """A genid at the shipped defaults under libfaketime, its load and a
    recorder of both."""

    def __init__(self, t, lib, name):
        self.t = t
        self.name = name
        self.d = harness.Daemon(t, metrics_listen="127.0.0.1:0",
                                why="the slew is checked in /metrics too")
        self.rc_path = os.path.join(self.d.dir, "faketime.rc")
        self.offset = 0
        cs.set_offset(self.rc_path, 0)
        self.env = cs.faketime_env(lib, self.rc_path)
        self.d.start(env=self.env)  # after genid --init, as operators do
        self.started = time.monotonic()
        self.cap = CONNS * cs.CAPACITY_PER_BUCKET
        self.runs = []
        self.load = self.rec = self.probe = None
        self.begin_load()
        self.rec = cs.Recorder(self.d, self.load, lambda: self.offset)
        self.rec.buckets = self.load.buckets()
        self.rec.start()

    def begin_load(self):
        self.load = cs.BulkLoad(self.d.addr, conns=CONNS)
        self.load.start()
        got = harness.poll(lambda: len(self.load.buckets()) == CONNS, 10,
                           0.01)
        self.t.check(got, "%s: the load's %d connections are on %d buckets"
                     % (self.name, CONNS, len(self.load.buckets())))
        self.cap = len(self.load.buckets()) * cs.CAPACITY_PER_BUCKET
        if self.rec:
            self.rec.load = self.load
            self.rec.buckets = self.load.buckets()
        self.probe = cs.Cmd0Probe(self.d.addr)
        self.probe.start()

    def end_load(self):
        self.probe.stop()
        self.load.stop_event.set()
        self.load.join(30)
        self.runs += self.load.runs + [self.probe.run_ids]

    def used_up(self, deadline=30):
        """Waits until every loaded bucket borrowed up to max_ahead_s (in
        a fresh node's first seconds) and answered a short reply.  The
        lead grows by what the client takes beyond a bucket's 65,536 IDs
        a second: a second a second when it takes twice that, far less
        when it barely outruns the bucket, as on a busy machine (10 s
        was not enough there); a node that never lets its buckets borrow
        max_ahead_s fails at any deadline."""
        def full():
            s = self.rec.samples[-1] if self.rec.samples else None
            return s and s.lead_ts >= MAX_AHEAD and \
                cs.shorts_share(self.rec, s.mono - 1, s.mono) == 1.0
        t0 = time.monotonic()
        ok = harness.poll(full, deadline, 0.05)
        self.t.check(ok, "%s: every bucket used up, max_ahead_s ahead, "
                     "%.1f s after the start (%.1f s)" % (
                         self.name, time.monotonic() - self.started,
                         time.monotonic() - t0))

    def step(self, size, since):
        """Steps genid's clock back by size s; measures from since (or 10 s
        before) to AFTER_S after the master noticed.  Returns a row."""
        t, d, rec = self.t, self.d, self.rec
        what = "%s: step back %d s" % (self.name, size)
        h0 = d.state().h
        n0 = h0.slews + h0.slews_far
        extra0 = h0.slew_extra_ms / 1000
        t0 = time.monotonic()
        since = max(since, t0 - 10)
        self.offset -= size
        cs.set_offset(self.rc_path, self.offset)

        def noticed():
            h = d.state().h
            return h.slews + h.slews_far > n0
        seen = harness.poll(noticed, 5, 0.005)
        t1 = time.monotonic()
        t.check(seen and t1 - t0 <= TICK_S + 0.5, "%s: the master notices "
                "it within a tick (%.2f s)" % (what, t1 - t0))
        h1 = d.state().h
        t.check(abs(h1.slew_extra_ms / 1000 - extra0 - size) <= 1.5,
                "%s: the slew's extra rises by the step (%.1f s -> %.1f s,"
                " allowance %d s)" % (what, extra0, h1.slew_extra_ms / 1000,
                                      h1.allowance))
        harness.poll(lambda: time.monotonic() >= t1 + AFTER_S + 0.2,
                     AFTER_S + 1, 0.05)
        t2 = t1 + AFTER_S
        return self.judge(what, since, t0, t1, t2)

    def judge(self, what, since, t0, t1, t2):
        t, rec = self.t, self.rec
        before = rec.rate(since, t0)
        ref = min(before, self.cap)
        after = rec.rate(t1, t2)
        secs = rec.windows(t1, t2)
        low = min(secs) if secs else 0.0
        t.note("%s: %.0f IDs/s before (%.1f s), %.0f after (%.0f%% of "
               "%.0f, the capacity of the loaded buckets %d); slowest "
               "second %.0f; seconds after: %s" % (
                   what, before, t0 - since, after, 100 * after / ref, ref,
                   self.cap, low, " ".join("%.2f" % (r / self.cap) for r in
                                           rec.windows(t1, t2, 1.0, 1.0))))
        t.check(cs.shorts_share(rec, t0 - 1, t0) == 1.0, "%s: in the "
                "second before it every loaded bucket was used up (short "
                "replies): the buckets, not the client, set the pace" % what)
        t.check(after >= FLOOR * ref, "%s: IDs/s after >= %d%% of before "
                "(%.0f%%)" % (what, 100 * FLOOR, 100 * after / ref))
        t.check(low >= SECOND_FLOOR * ref, "%s: no empty second: every "
                "second after it >= %d%% of before (the slowest %.0f%%)"
                % (what, 100 * SECOND_FLOOR, 100 * low / ref))
        # Before: a wait that started just before the step may run into
        # the time until the master notices it.
        gap, gap0 = self.load.longest_gap(t1 + 1, t2), \
            self.load.longest_gap(t0 - 3, t0)
        t.check(gap < WAIT_MAX, "%s: no connection waits %.1f s or more "
                "for IDs (the longest %.2f s; %.2f s in the 3 s before)"
                % (what, WAIT_MAX, gap, gap0))
        wait, wait0 = self.probe.longest(t1 + 1, t2), \
            self.probe.longest(t0 - 4, t0 - 2)
        t.check(wait < WAIT_MAX, "%s: no CMD 0 waits %.1f s or more (the "
                "longest %.2f s; %.2f s in 2 s well before)" % (
                    what, WAIT_MAX, wait, wait0))
        states = rec.states(t0 - 1, t2)
        t.check(set(states) == {"serving"}, "%s: INFO says serving "
                "throughout (%d answers: %s)" % (what, sum(states.values()),
                                                 dict(states)))
        fell = rec.slope(t1 + 0.5, t2, "extra_ms")
        fell = -fell / 1000 if fell is not None else 0.0
        lead = rec.slope(t1 + 1, t2, "lead_mean")
        lead = -lead if lead is not None else 0.0
        s1, s2 = rec.at(t1), rec.at(t2)
        t.note("%s: extra %.1f -> %.1f s (falls %.3f s/s), allowance "
               "%d -> %d s, the buckets' lead %.1f -> %.1f s (falls %.3f "
               "s/s), the slew ends in %.0f s" % (
                   what, s1.extra_ms / 1000, s2.extra_ms / 1000, fell,
                   s1.allowance, s2.allowance, s1.lead_mean, s2.lead_mean,
                   lead, s2.left_ms / 1000))
        t.check(abs(fell - RATE) <= 0.03, "%s: the slew's extra falls at "
                "clock_slew %.2f s/s (%.3f)" % (what, RATE, fell))
        t.check(abs(lead - RATE) <= 0.08, "%s: the buckets' lead falls at "
                "clock_slew %.2f s/s (%.3f)" % (what, RATE, lead))
        t.check(abs(s2.left_ms / 1000 - s2.extra_ms / 1000 / RATE) <= 2,
                "%s: the slew ends in extra / clock_slew (%.1f s; %.1f s)"
                % (what, s2.left_ms / 1000, s2.extra_ms / 1000 / RATE))
        info = [i for i in rec.infos if t2 - 1 <= i[0] <= t2]
        said = info[-1][4] if info else None
        t.check(said is not None and abs(said - s2.extra_ms / 1000 / RATE)
                <= 2, "%s: INFO's slew_left_s says so too (%s)"
                % (what, said))
        over = [s for s in rec.between(t1, t2)
                if s.lead_ts > s.allowance + 1]
        t.check(not over, "%s: the buckets stay within the allowance"
                % what, "%d samples over" % len(over))
        return before, after

    def wait_slew_end(self, size, stepped):
        """Until the slew of size s that began at stepped ends."""
        t, d = self.t, self.d
        end = stepped + size / RATE
        ended = harness.poll(lambda: d.state().h.slew_extra_ms == 0,
                             max(end - time.monotonic(), 0) + 15, 0.1)
        h = d.state().h
        t.check(ended and h.allowance == MAX_AHEAD, "%s: the slew of %d s "
                "ends after about %.0f s (%.0f s), allowance back to "
                "max_ahead_s"
                % (self.name, size, size / RATE,
                   time.monotonic() - stepped),
                "allowance %d, extra %d ms" % (h.allowance, h.slew_extra_ms))
        harness.poll(lambda: self.rec.slew_ends, 2, 0.05)
        ends = self.rec.slew_ends
        t.check(ends and all(lead <= MAX_AHEAD for _, lead, _ in ends),
                "%s: the log says \"slew ends\" with the buckets back "
                "within max_ahead_s" % self.name, "; ".join(
                    "lead %d s: %s" % (lead, line) for _, lead, line in ends)
                or "not said")
        return ended

    def stop(self):
        self.end_load()
        self.rec.stop()
        states = self.rec.states()
        self.t.check(set(states) == {"serving"}, "%s: INFO said serving "
                     "every time it was asked (%s)" % (self.name,
                                                       dict(states)))
        bad = self.rec.uptime_faults()
        self.t.check(not bad, "%s: INFO's uptime_s never negative nor "
                     "going back (%d answers)" % (self.name,
                                                  len(self.rec.infos)),
                     "; ".join(bad[:5]))
        cs.check_runs(self.t, self.runs, harness.node_bits(
            self.d.zone, self.d.dc, self.d.machine), self.name)
        rc, _ = self.d.stop()
        self.t.check(rc == 0, "%s: SIGTERM at the end: exit 0" % self.name,
                     "got %r" % rc)


def visible(t, n, size):
    """The slew in genidctl stats (text, --json) and /metrics."""
    d = n.d
    ctl = os.environ.get("GENIDCTL") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "cli", "genidctl")
    h = d.state().h
    left = h.slew_extra_ms / 1000 / RATE
    r = subprocess.run([ctl, "stats", "--json", "-s", d.state_path],
                       capture_output=True, text=True, timeout=30)
    slew = json.loads(r.stdout).get("slew", {}) if r.returncode == 0 else {}
    t.check(abs(slew.get("allowance_s", 0) - h.allowance) <= 1 and
            abs(slew.get("remaining_s", 0) - left) <= 10 and
            slew.get("clock_slew") == RATE,
            "genidctl stats --json: the allowance, the time left and the "
            "slew (%s)" % slew, r.stderr)
    r = subprocess.run([ctl, "stats", "-s", d.state_path],
                       capture_output=True, text=True, timeout=30)
    line = [x for x in r.stdout.splitlines() if x.startswith("slew")]
    t.check(line and "meets the clock in" in line[0],
            "genidctl stats: a slew line (%s)" % (line[0] if line else ""))
    reply, _ = harness.http_exchange(harness.metrics_port(d),
                                     b"GET /metrics HTTP/1.0\r\n\r\n")
    metrics = dict(x.split(" ", 1) for x in reply.decode().splitlines()
                   if x.startswith("genid_clock_"))
    t.check(abs(float(metrics.get("genid_clock_allowance_seconds", 0)) -
                h.allowance) <= 1 and
            float(metrics.get("genid_clock_slew_remaining_seconds", 0)) >
            (size - 100) / RATE and
            float(metrics.get("genid_clock_slew_rate", 0)) == RATE,
            "/metrics: genid_clock_allowance_seconds, "
            "genid_clock_slew_remaining_seconds, genid_clock_slew_rate",
            "%s" % metrics)


def kill_in_slew(t, n, size):
    """kill -9 of the whole node, under load, in the middle of the slew of
    size s, and a restart at once: it serves within a second, slews on,
    above every ID before on each bucket and above the checkpoint."""
    d = n.d
    extra = d.state().h.slew_extra_ms
    port = d.port
    d.set(port=port)  # the same port again, for the clients
    n.probe.stop()
    d.kill_all()
    n.load.join(30)  # its connections end with the node
    n.runs += n.load.runs + [n.probe.run_ids]
    k = time.monotonic()
    cp = d.state().h.checkpoint
    top = n.load.bucket_top()
    over = [b for b, x in top.items() if x >> 32 > cp]
    t.check(top and not over, "kill -9 in the slew: every ID before it at"
            " or below the durable checkpoint", "buckets %s above" % over)
    d.spawn(env=n.env)
    got = harness.poll(lambda: cs.one_id(("127.0.0.1", port)), 5, 0.002)
    took = time.monotonic() - d.started_at
    t.check(got and took < 1.0, "kill -9 in the slew: the restart serves "
            "at once (%.3f s)" % took, d.output())
    d.wait_ready(5)
    h = d.state().h
    lost = (extra - h.slew_extra_ms) / 1000
    t.check(lost <= 5 + RATE * (time.monotonic() - k), "kill -9 in the "
            "slew: the restart slews on (extra %.1f s before, %.1f s "
            "after)" % (extra / 1000, h.slew_extra_ms / 1000))
    t.check(got and got >> 32 > cp, "kill -9 in the slew: the first ID "
            "after the restart is above the checkpoint (an unclean stop)")
    n.begin_load()
    t1 = time.monotonic()
    harness.poll(lambda: time.monotonic() >= t1 + 5, 6, 0.05)
    after = n.rec.rate(t1 + 0.5, t1 + 5)
    states = n.rec.states(t1, t1 + 5)
    t.note("kill -9 in the slew: %.0f IDs/s after the restart (%.0f%% of "
           "capacity); INFO %s" % (after, 100 * after / n.cap,
                                   dict(states)))
    t.check(after >= FLOOR * n.cap, "kill -9 in the slew: the restart "
            "issues at >= %d%% of capacity (%.0f%%)" % (
                100 * FLOOR, 100 * after / n.cap))
    t.check(set(states) == {"serving"}, "kill -9 in the slew: INFO says "
            "serving after the restart (%s)" % dict(states))
    low = [r for r in n.load.runs if r.ts_min is not None and
           r.ts_min <= cp]
    t.check(not low, "kill -9 in the slew: every ID of the load after the "
            "restart above the checkpoint", "%d connections not" % len(low))
    fell = n.rec.slope(t1, t1 + 5, "extra_ms")
    fell = -fell / 1000 if fell is not None else 0.0
    t.check(abs(fell - RATE) <= 0.05, "kill -9 in the slew: the extra "
            "falls on at clock_slew (%.3f s/s)" % fell)


def test(t):
    lib = harness.libfaketime()
    if not lib:
        t.skip("libfaketime is not installed (Debian: faketime)")
    t0 = time.monotonic()

    # a: fresh, 10 s; the slew ends; then an hour and kill -9.
    a = Node(t, lib, "a")
    a.used_up()
    stepped = time.monotonic()
    a.step(10, a.started)
    a.wait_slew_end(10, stepped)
    since = time.monotonic()
    harness.poll(lambda: time.monotonic() >= since + 10, 11, 0.05)
    a.step(3600, since)
    visible(t, a, 3600)
    kill_in_slew(t, a, 3600)
    a.stop()
    t.note("a: %.0f s" % (time.monotonic() - t0))

    # b: fresh, an hour.
    b = Node(t, lib, "b")
    b.used_up()
    b.step(3600, b.started)
    b.stop()

    # c: run a while, then 10 s.
    c = Node(t, lib, "c")
    harness.poll(lambda: time.monotonic() >= c.started + 20, 21, 0.05)
    c.step(10, c.started + 10)
    c.stop()


# About 110 s of it is the clock's own time; the backstop leaves room for
# a busy machine.
harness.run(test, control=True, timeout=300)
