#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
integ_serving.py - a node says whether it can issue now (issue 9), in
INFO, /metrics and genidctl stats, and says it again once it can.

The clock steps back a minute (libfaketime reading its offset from a
file), at the shipped max_slew_s: every bucket is then ahead of the
clock by more than max_ahead_s, and one bucket drained by CMD 1 until a
short reply: a step back costs capacity, not availability, so the node
stays "serving" in a slew, INFO sampled throughout never says
otherwise (clock-behind is for a bucket no slew covers: check_serving).
The clock back to real time: "serving".  msync failing
(tests/msync_fail.c): "checkpoint-stuck", then "serving" once it works
again.  Skips a part whose shim is missing.
"""

import json
import os
import re
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "integration"))
import harness  # noqa: E402

BUILD = os.environ.get("GENID_BUILDDIR", ".")


def msync_shim():
    path = os.path.join(BUILD, "tests", ".libs", "msync_fail.so")
    return path if os.path.exists(path) else None


def set_offset(path, offset):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(offset + "\n")
    os.rename(tmp, path)


def info_state(d):
    with harness.connect(d.addr, timeout=5) as s:
        return harness.info(s)


def metrics(port):
    reply, err = harness.http_exchange(
        port, b"GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
    if err is not None:
        raise harness.Failure("GET /metrics: %s" % err)
    return reply.decode()


def stats_json(d):
    ctl = os.path.join(BUILD, "cli", "genidctl")
    if not os.access(ctl, os.X_OK):
        return None
    p = subprocess.run([ctl, "stats", "--json", "-s", d.state_path],
                       capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        raise harness.Failure("genidctl stats: rc %d, %s"
                              % (p.returncode, p.stderr.strip()))
    return json.loads(p.stdout)


def expect_state(t, d, port, want, what):
    """Waits for INFO to say want, then checks the metrics and stats."""
    got = harness.poll(lambda: info_state(d)["state"] == want, 10, 0.05)
    inf = info_state(d)
    t.check(got, "%s: INFO state is %r" % (what, want),
            "INFO %s" % inf)
    text = metrics(port)
    serving = re.search(r"^genid_serving (\d)$", text, re.M)
    label = re.findall(r'^genid_state\{state="([a-z-]+)"\} 1$', text, re.M)
    t.check(serving and serving.group(1) == ("1" if want == "serving"
                                             else "0"),
            "%s: genid_serving is %s" % (what, int(want == "serving")),
            serving.group(0) if serving else "no genid_serving sample")
    t.check(label == [want], "%s: genid_state{state=%r} 1" % (what, want),
            "labels %s" % label)
    st = stats_json(d)
    if st is not None:
        t.check(st.get("state") == want
                and st.get("serving") == (want == "serving"),
                "%s: genidctl stats --json says %r" % (what, want),
                "state %r serving %r" % (st.get("state"), st.get("serving")))
    return inf


def drain_bucket(d, deadline=20):
    """CMD 1 on one connection, 16 in flight, until a short reply: its
    bucket is dry.  In a slew the bucket's top moves on at 75% of its
    65,536 IDs a second, which a slow client (a sanitizer build) may not
    outrun at first: it tries until the deadline.  Returns the number of
    IDs it took."""
    got = 0
    end = time.monotonic() + deadline
    with harness.connect(d.addr, timeout=5) as s:
        while time.monotonic() < end:
            s.sendall(b"\x01\xff" * 16)
            short = False
            for _ in range(16):
                n = len(harness.read_ids_reply(s))
                got += n
                short = short or n < 255
            if short:
                return got
    raise harness.Failure("no short reply after %d IDs in %d s"
                          % (got, deadline))


def test(t):
    faketime = harness.libfaketime()
    shim = msync_shim()
    if not faketime and not shim:
        t.skip("neither libfaketime nor tests/.libs/msync_fail.so")
    d = harness.Daemon(t, metrics_listen="127.0.0.1:0", why={
        "metrics_listen": "the state is checked in /metrics too, which "
                          "the shipped configuration does not serve"})
    rc_path = os.path.join(d.dir, "faketime.rc")
    flag = os.path.join(d.dir, "fail")
    set_offset(rc_path, "+0")
    preload = [p for p in (faketime, shim) if p]
    env = {"LD_PRELOAD": " ".join(preload),
           "FAKETIME_TIMESTAMP_FILE": rc_path, "FAKETIME_NO_CACHE": "1",
           "FAKETIME_DONT_FAKE_MONOTONIC": "1",
           "GENID_MSYNC_FAIL": flag,
           "GENID_MSYNC_COUNT": os.path.join(d.dir, "count"),
           "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") +
           ":verify_asan_link_order=0"}
    d.start(env=env)
    port = harness.metrics_port(d)
    inf = expect_state(t, d, port, "serving", "at start")
    t.check(isinstance(inf.get("lead_s"), int), "INFO has lead_s",
            "INFO %s" % inf)

    if faketime:
        # Every bucket issues at the real time before the step.
        conns = [harness.connect(d.addr, timeout=5) for _ in range(64)]
        for s in conns:
            harness.get_id(s)
        for s in conns:
            s.close()
        set_offset(rc_path, "-60")
        seen = harness.poll(lambda: info_state(d)["lead_s"] >= 55, 10, 0.05)
        t.check(seen, "a step back of 60 s shows as lead_s",
                "INFO %s" % info_state(d))
        t.check(info_state(d)["state"] == "serving",
                "ahead of the clock with room left is still serving",
                "INFO %s" % info_state(d))
        n = drain_bucket(d)
        t.note("drained one bucket with %d IDs" % n)
        states = set()
        end = time.monotonic() + 3
        while time.monotonic() < end:
            states.add(info_state(d)["state"])
        t.check(states == {"serving"}, "a dry bucket 60 s ahead in a slew:"
                " INFO says serving throughout", "states %s" % states)
        expect_state(t, d, port, "serving", "a dry bucket 60 s ahead")
        t.check("slew starts" in d.output() and
                "not serving" not in d.output(),
                "the log says a slew started, and never 'not serving'")
        set_offset(rc_path, "+0")
        expect_state(t, d, port, "serving", "the clock back")
    else:
        t.note("libfaketime is not installed: clock-behind not tested")

    if shim:
        open(flag, "w").close()
        expect_state(t, d, port, "checkpoint-stuck", "msync failing")
        os.unlink(flag)
        expect_state(t, d, port, "serving", "msync working again")
    else:
        t.note("tests/.libs/msync_fail.so missing: checkpoint-stuck not"
               " tested")
    rc, _ = d.stop()
    t.check(rc == 0, "exit 0", "exit %r" % rc)


harness.run(test, control=True)
