#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
integ_clock_slew.py - a step back of the clock costs no outage (genid(7)):
steps back of 10 s and then of an hour under load, genid under
libfaketime (an offset file the test rewrites; the monotonic clock stays
real, so genid tells a step from elapsed time).

Two connections (one CMD 0, one CMD 1) pinned to two buckets pull as fast
as they can, so that the buckets, not the client, set the pace when the
client is fast enough: 65,536 IDs a second each, borrowing max_ahead_s 1
ahead.  For each step: the IDs per second over the 30 s after the step
must be at least 70% of the 10 s before (the slew allows 75% at most once
the buckets are out of room; a client slower than that is not slowed);
the allowance in the state file rises by the step and falls at
clock_slew (0.25) of real time, and the buckets' lead follows it; the
10 s slew ends after 40 s and says so in the log.  Then kill -9 of the
whole node in the slew of an hour and a restart at once: it serves within
a second and slews on, above the checkpoint.  No duplicate, IDs strictly
increase on each connection, none above a durable checkpoint.  checkpoint_interval_ms is 250, so
that the master sees a step within a quarter of a second (with the
default 1000 the buckets stall up to a second after a step).  Runs about
100 s.  Skips when libfaketime is not installed.
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

MAX_AHEAD = 1
RATE = 0.25
WHY = {"workers": "two workers whatever the CPUs: the two connections' "
                  "buckets",
       "max_ahead_s": "a short lead: the buckets run out of room soon, so "
                      "the slew, not the client, sets the pace",
       "checkpoint_interval_ms": "the master sees a step within a quarter "
                                 "of a second",
       "metrics_listen": "the slew is checked in /metrics too"}
BEFORE_S = 10
AFTER_S = 30


def set_offset(path, offset):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("%+d\n" % offset)
    os.rename(tmp, path)


def lead(d, offset, buckets):
    """The largest lead of the loaded buckets over genid's clock, s."""
    st = d.state()
    now = time.time() + offset - d.epoch
    return max((st.buckets[b].word >> 32) - now for b in buckets)


def rate(load, seconds):
    """IDs a second the load gets over the next seconds."""
    n0, t0 = load.total, time.monotonic()
    time.sleep(seconds)
    return (load.total - n0) / (time.monotonic() - t0)


def used_buckets(d):
    st = d.state()
    return [i for i, b in enumerate(st.buckets) if b.ids > 0]


def step(t, d, load, rc_path, offset, size, samples):
    """Steps genid's clock back by size s (to offset) and measures."""
    h0 = d.state().h
    buckets = used_buckets(d)
    before = rate(load, BEFORE_S)
    t0 = time.monotonic()
    set_offset(rc_path, offset)
    seen = harness.poll(lambda: d.state().h.slews + d.state().h.slews_refused
                        > h0.slews + h0.slews_refused, 5, 0.01)
    t.check(seen, "step back %d s: genid starts a slew" % size)
    h1 = d.state().h
    a1, e1, m1 = h1.allowance, h1.slew_extra_ms, time.monotonic()
    t.check(abs(h1.allowance - (MAX_AHEAD + size)) <= 1,
            "step back %d s: the allowance rises by the step (%d s)"
            % (size, h1.allowance))
    windows = []
    end = t0 + AFTER_S
    n0 = load.total
    while time.monotonic() < end:
        windows.append(rate(load, 5))
        samples.append((time.monotonic() - t0, d.state().h.allowance,
                        lead(d, offset, buckets)))
    after = (load.total - n0) / (time.monotonic() - t0)
    h2 = d.state().h
    fell = (e1 - h2.slew_extra_ms) / 1000 / (time.monotonic() - m1)
    t.note("step back %d s: %.0f IDs/s in the %d s before, %.0f in the %d s"
           " after (%.0f%%); 5 s windows: %s" % (
               size, before, BEFORE_S, after, AFTER_S, 100 * after / before,
               ", ".join("%.0f" % w for w in windows)))
    t.check(after >= 0.7 * before, "step back %d s: IDs/s after the step "
            ">= 70%% of before (%.0f%%)" % (size, 100 * after / before))
    t.note("step back %d s: allowance %d -> %d s in %.1f s: falls %.3f s/s"
           ", slew left %.0f s" % (size, a1, h2.allowance,
                                   time.monotonic() - m1, fell,
                                   h2.slew_left_ms / 1000))
    t.check(abs(fell - RATE) <= 0.03, "step back %d s: the allowance falls "
            "at clock_slew %.2f s/s (%.3f)" % (size, RATE, fell))
    t.check(abs(h2.slew_left_ms / 1000 - (h2.slew_extra_ms / 1000) / RATE)
            <= 1, "step back %d s: the time left is extra / clock_slew"
            % size)
    ld = lead(d, offset, buckets)
    t.check(ld <= h2.allowance + 1, "step back %d s: the buckets lead the "
            "clock by %.1f s, within the allowance %d" % (size, ld,
                                                        h2.allowance))
    return before, after


def visible(t, d):
    """The slew in genidctl stats (text, --json) and /metrics."""
    ctl = os.environ.get("GENIDCTL") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "cli", "genidctl")
    h = d.state().h
    r = subprocess.run([ctl, "stats", "--json", "-s", d.state_path],
                       capture_output=True, text=True, timeout=30)
    slew = json.loads(r.stdout).get("slew", {}) if r.returncode == 0 else {}
    t.check(abs(slew.get("allowance_s", 0) - h.allowance) <= 1 and
            abs(slew.get("remaining_s", 0) - h.slew_left_ms / 1000) <= 5 and
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
            3500 / RATE and
            float(metrics.get("genid_clock_slew_rate", 0)) == RATE,
            "/metrics: genid_clock_allowance_seconds, "
            "genid_clock_slew_remaining_seconds, genid_clock_slew_rate",
            "%s" % metrics)


def restart_in_slew(t, d, env, before):
    """kill -9 of the whole node in the middle of the slew of an hour, and
    a restart at once: it serves within a second, with the allowance the
    buckets' lead needs, above every ID issued before on each bucket."""
    port = d.port
    d.set(port=port)
    d.kill_all()
    cp = d.state().h.checkpoint
    over = [x for x in before if x >> 32 > cp]
    t.check(not over, "kill -9 in the slew: every ID before it at or below "
            "the durable checkpoint (%d above)" % len(over))
    d.spawn(env=env)
    t0 = time.monotonic()
    got = harness.poll(lambda: _one_id(("127.0.0.1", port)), 5, 0.002)
    took = time.monotonic() - t0
    t.check(got, "kill -9 in the slew: the restart serves at once (%.3f s)"
            % took, d.output())
    d.wait_ready(5)
    h = d.state().h
    t.check(h.allowance > 3500, "kill -9 in the slew: the restart slews on "
            "(allowance %d s, %.0f s left)" % (h.allowance,
                                              h.slew_left_ms / 1000))
    with harness.connect(d.addr) as s:
        after = list(harness.get_ids(s, 255))
    if got:
        after.append(got)
    top = {}
    for x in before:
        b = (x >> 16) & 31
        top[b] = max(top.get(b, 0), x)
    bad = [x for x in after if x <= top.get((x >> 16) & 31, 0)]
    t.check(after and not bad, "kill -9 in the slew: every ID after the "
            "restart above every ID before on its bucket", "%d not" % len(bad))
    low = [x for x in after if x >> 32 <= cp]
    t.check(not low, "kill -9 in the slew: every ID after the restart above "
            "the checkpoint (an unclean stop)", "%d not" % len(low))
    return after


def _one_id(addr):
    try:
        with harness.connect(addr) as s:
            return harness.get_id(s)
    except (OSError, EOFError):
        return None


def test(t):
    lib = harness.libfaketime()
    if not lib:
        t.skip("libfaketime is not installed (Debian: faketime)")
    d = harness.Daemon(t, workers=2, max_ahead_s=MAX_AHEAD,
                       checkpoint_interval_ms=250,
                       metrics_listen="127.0.0.1:0", why=WHY)
    rc_path = os.path.join(d.dir, "faketime.rc")
    set_offset(rc_path, 0)
    env = {"LD_PRELOAD": lib, "FAKETIME_TIMESTAMP_FILE": rc_path,
           "FAKETIME_NO_CACHE": "1", "FAKETIME_DONT_FAKE_MONOTONIC": "1"}
    d.start(env=env)
    load = harness.Load(d.addr, conns=2, cmd1_depth=16, target=10 ** 10,
                        time_limit=150)
    load.start()
    # Until the buckets are out of room, if the client is fast enough.
    harness.poll(lambda: used_buckets(d) and
                 lead(d, 0, used_buckets(d)) >= MAX_AHEAD, 10, 0.1)
    samples = []
    step(t, d, load, rc_path, -10, 10, samples)
    ended = harness.poll(lambda: d.state().h.slew_extra_ms == 0,
                         10 / RATE + 5 - AFTER_S, 0.1)
    t.check(ended and d.state().h.allowance == MAX_AHEAD,
            "the slew of 10 s ends after about 40 s, allowance back to "
            "max_ahead_s", "allowance %d, extra %d ms" % (
                d.state().h.allowance, d.state().h.slew_extra_ms))
    logged = [line for line in d.output().splitlines() if "slew" in line]
    t.check(any("slew starts" in x for x in logged) and
            any("slew ends" in x for x in logged),
            "the log says when the slew starts and ends")
    for line in logged:
        t.note(line.replace(d.dir, ""))
    # The rate before the next step is measured with the buckets back at
    # max_ahead_s, not while they catch up with the last second of the slew.
    t.check(harness.poll(lambda: lead(d, -10, used_buckets(d)) <= MAX_AHEAD,
                         5, 0.05), "after the slew the buckets lead the clock"
            " by max_ahead_s at most")
    step(t, d, load, rc_path, -3610, 3600, samples)
    visible(t, d)
    t.note("lead samples (s after the step, allowance, lead): %s" % "; ".join(
        "%.0f %d %.1f" % s for s in samples))
    load.stop_event.set()
    load.join(30)
    t.note("%d IDs, %d short CMD 1 replies, %d CMD 0 waits" % (
        load.total, load.shorts,
        sum(b.waits for b in d.state().buckets)))
    t.check(not load.errors and not load.protocol_errors,
            "no connection or protocol error across the steps",
            "; ".join((load.errors + load.protocol_errors)[:5]))
    after = restart_in_slew(t, d, env, load.all_ids())
    harness.check_unique(t, list(load.all_ids()) + after,
                         "across the steps and the restart")
    node = harness.node_bits(d.zone, d.dc, d.machine)
    harness.check_segments(t, load.segments, node, d.epoch,
                           load.wall_start - 15, load.wall_end, d.max_ahead,
                           "across the steps")
    rc, _ = d.stop()
    t.check(rc == 0, "SIGTERM at the end: exit 0", "got %r" % rc)


# About 125 s of it is the clock's own time (the loads before and after
# each step, the slews); the backstop leaves room for a busy machine, where
# a distcheck run beside other work took 150 s.
harness.run(test, control=True, timeout=300)
