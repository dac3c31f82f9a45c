#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
integ_refuse.py - the start-ups genid must refuse, with the right exit
code and a message an operator can act on:
  - the state file's checkpoint is two days ahead of the clock (made by
    running genid under faketime +2d when faketime is installed, and by
    editing the checkpoint field of the file), beyond what a start slews
    without a recorded slew (max_slew_s 86400 + 2 * max_ahead_s 5 + 2):
    exit 75, one line naming both times (and --wait-clock); with
    --wait-clock it waits instead; a day ahead is within it, and the node
    starts at once;
  - a state file made for the same machine under an earlier epoch (the
    IDs would repeat), or of a newer layout whose compat excludes this
    genid: exit 65, naming both epochs, or the layout and its writer;
  - a second genid on the same state file: exit 69, the first one goes on;
  - configuration errors: exit 78 with FILE:LINE:COL: "key"; -t; bad flags.
"""

import calendar
import os
import re
import shutil
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "integration"))
import harness  # noqa: E402

ISO_RE = re.compile(r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)Z?")
PREFIX_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\s+")


def message_lines(text):
    """Output lines without the log line's own leading time stamp."""
    return [PREFIX_RE.sub("", line) for line in text.splitlines()
            if line.strip()]


def times_in(line):
    """Unix times written in a line, ISO 8601 or 9-10 digit seconds."""
    out = [calendar.timegm(tuple(int(x) for x in m.groups()))
           for m in ISO_RE.finditer(line)]
    out += [int(x) for x in re.findall(r"(?<![\d.])\d{9,10}(?![\d.])",
                                       ISO_RE.sub(" ", line))]
    return out


def has_seq(nums, seq):
    k = len(seq)
    return any(tuple(nums[i:i + k]) == tuple(seq)
               for i in range(len(nums) - k + 1))


def refused(t, d, want, what, deadline=20, args=None, prefix=()):
    """Starts genid and expects it to exit with want; returns the output."""
    d.spawn(args=args, prefix=prefix)
    rc = d.wait_exit(deadline)
    out = d.output().strip()
    if rc is None:
        d.cleanup()
    t.check(rc == want, "%s: exit %d" % (what, want),
            "got %s; output:\n%s" % ("no exit within %d s" % deadline
                                     if rc is None else rc, out))
    t.note("%s: %s" % (what, out.replace("\n", "\n    ")))
    t.check(out != "", "%s: says why" % what)
    return out


def clock_behind(t, d, how):
    """d's state file holds a checkpoint about two days ahead."""
    st = d.state()
    cp = st.h.checkpoint + st.h.epoch
    now = time.time()
    t.check(172600 < cp - now < 173100, "%s: the checkpoint is 2 d ahead "
            "(%+.0f s)" % (how, cp - now))
    refused(t, d, harness.EX_TEMPFAIL,
            "%s: start with the clock behind the checkpoint" % how)
    now = time.time()
    err = [line for line in d.stderr().splitlines() if line.strip()]
    hits = []
    for line in message_lines("\n".join(err)):
        ts = times_in(line)
        if any(abs(x - cp) <= 2 for x in ts) and \
                any(abs(x - now) <= 10 for x in ts):
            hits.append(line)
    t.check(len(err) == 1 and len(hits) == 1, "%s: stderr is one line "
            "naming the checkpoint (%s) and the clock" % (
                how, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(cp))),
            "%d lines on stderr, %d naming both times" % (len(err),
                                                          len(hits)))
    t.check(any("--wait-clock" in line for line in hits),
            "%s: the line names the fix (--wait-clock)" % how)
    t.check(d.state().h.checkpoint == st.h.checkpoint,
            "%s: the refused start leaves the checkpoint alone" % how)
    t.check(not os.path.exists(d.pid_path),
            "%s: no pid file left behind" % how)


def test_clock(t):
    if shutil.which("faketime"):
        d = harness.Daemon(t)
        d.start(prefix=["faketime", "-f", "+2d"])
        with harness.connect(d.addr) as s:
            i = harness.get_id(s)
        t.check(172700 < (i >> 32) - time.time() < 173100,
                "faketime +2d: the daemon issues IDs two days ahead")
        rc, _ = d.stop()
        t.check(rc == 0, "faketime +2d: stops with 0", "got %r" % rc)
        clock_behind(t, d, "faketime")
    else:
        t.note("faketime is not installed: only the edited state file")

    d = harness.Daemon(t)
    d.start()
    rc, _ = d.stop()
    t.check(rc == 0, "plain run stops with 0", "got %r" % rc)
    # A day ahead is what a node a step of max_slew_s back holds: it
    # starts.
    target = int(time.time()) + 86400 - d.epoch
    harness.patch_state(d.state_path, "checkpoint", target)
    d.start()
    with harness.connect(d.addr) as s:
        i = harness.get_id(s)
    t.check(abs((i >> 32) + d.epoch - time.time()) < 10,
            "checkpoint a day ahead, buckets with the clock: starts at "
            "once and issues IDs of now")
    rc, _ = d.stop()
    t.check(rc == 0, "the run a day ahead stops with 0", "got %r" % rc)
    target = int(time.time()) + 172800 - d.epoch
    harness.patch_state(d.state_path, "checkpoint", target)
    t.note("checkpoint field at offset %d set to %d"
           % (harness.header_offset("checkpoint"), target))
    clock_behind(t, d, "edited checkpoint")

    # --wait-clock: waits (does not serve, does not exit), and a SIGTERM
    # still stops it.
    d.spawn(args=["--wait-clock"], why="the test is about --wait-clock: "
            "it waits where a start is refused")
    t0 = time.monotonic()
    early = harness.poll(lambda: d.proc.poll() is not None or
                         harness.READY_RE.search(d.output()), 1.5)
    t.check(not early, "--wait-clock with the clock two days behind: waits "
            "instead of exiting or serving",
            "rc %r, output:\n%s" % (d.proc.poll(), d.output()))
    if d.running():
        rc, took = d.stop(deadline=5)
        t.check(took < 5, "--wait-clock: SIGTERM while waiting stops it "
                "in %.2f s (exit %r)" % (took, rc))
        t.check(not os.path.exists(d.pid_path), "--wait-clock: no pid "
                "file left behind after SIGTERM while waiting")
    t.note("--wait-clock ran %.1f s" % (time.monotonic() - t0))


def reseal(path):
    """The header's checksum, the checkpoint's seal and the clean stop's
    table sum made again after a header field was patched."""
    with open(path, "rb") as f:
        raw = f.read()
    harness.patch_state(path, "header_sum", harness.header_sum(raw))
    ckpt = harness.State(path).h.checkpoint_seal >> 32
    harness.patch_state(path, "checkpoint", ckpt)


def test_identity(t):
    d = harness.Daemon(t)
    d.start()
    rc, _ = d.stop()
    t.check(rc == 0, "machine 5 run stops with 0", "got %r" % rc)
    before = d.state().h

    # Another machine is not refused: the start keeps the file aside
    # (integ_identity_change).  A later epoch for the same machine is.
    d.set(epoch=1600000000, why="a later epoch than the state file's for "
          "the same machine: the start is refused")
    out = refused(t, d, harness.EX_DATAERR,
                  "state file of epoch 0 under epoch 1600000000")
    t.check("1600000000" in out and "would repeat" in out and
            os.path.basename(d.state_path) in out,
            "the message names the epochs, the file, and that the IDs "
            "would repeat", out)
    after = d.state().h
    t.check((after.zone, after.dc, after.machine, after.epoch,
             after.checkpoint, after.boot_count) ==
            (before.zone, before.dc, before.machine, before.epoch,
             before.checkpoint, before.boot_count) and
            not [n for n in os.listdir(d.dir) if ".zone" in n],
            "the refused state file is left as it was, nothing kept aside")

    # Back to the shipped epoch: the file names none (the default 0).
    d.set(epoch=None)
    # A newer layout whose compat excludes this genid's, sums made again
    # so that it is a whole file of that layout, not a damaged one.
    version = d.state().h.version
    harness.patch_state(d.state_path, "version", version + 1)
    harness.patch_state(d.state_path, "compat", version + 1)
    reseal(d.state_path)
    out = refused(t, d, harness.EX_DATAERR,
                  "state file of layout version %d" % (version + 1))
    t.check("layout %d was written by genid" % (version + 1) in out and
            "--state-layout %d" % version in out and "damaged" not in out,
            "the message names the layout and its writer, and what to do; "
            "a newer file is not called damaged", out)
    harness.patch_state(d.state_path, "version", version)
    harness.patch_state(d.state_path, "compat", version)
    reseal(d.state_path)
    d.start()
    t.check(True, "the same file with its own identity and version starts")
    d.stop()


def test_locked(t):
    d = harness.Daemon(t).start()
    with harness.connect(d.addr) as s:
        first = harness.get_id(s)
    d2 = harness.Daemon(t, state_file=d.state_path, why="a second genid "
                        "on the state file the first one holds")
    t0 = time.monotonic()
    out = refused(t, d2, harness.EX_UNAVAILABLE,
                  "second genid on the same state file")
    t.note("refused after %.2f s" % (time.monotonic() - t0))
    t.check(d.state_path in out or os.path.basename(d.state_path) in out,
            "the message names the state file")
    t.check(d.running(), "the first genid still runs")
    with harness.connect(d.addr) as s:
        again = harness.get_id(s)
    t.check(again != first, "the first genid still serves")
    with open(d.pid_path) as f:
        pid = f.read().strip()
    t.check(pid == str(d.master_pid()),
            "the first genid's pid file is intact", "contains %r" % pid)
    rc, _ = d.stop()
    t.check(rc == 0, "first genid stops with 0", "got %r" % rc)


BAD_CONFIGS = [
    # (what, text, line, key)
    ("machine_id out of range",
     '{\n  "listen": ["127.0.0.1"],\n  "port": 0,\n  "machine_id": 9,\n'
     '  "state_file": "genid.state"\n}\n', 4, "machine_id"),
    ("unknown key",
     '{\n  "port": 0,\n  "state_file": "genid.state",\n'
     '  "machine": 1\n}\n', 4, "machine"),
    ("wrong type",
     '{\n  "port": 0,\n  "workers": "two",\n'
     '  "state_file": "genid.state"\n}\n', 3, "workers"),
    ("epoch in the future",
     '{\n  "port": 0,\n  "state_file": "genid.state",\n'
     '  "epoch": %d\n}\n' % (time.time() + 86400 * 365), 4, "epoch"),
    ("zone_id out of range",
     '{"port": 0, "state_file": "genid.state",\n "zone_id": 32}\n', 2,
     "zone_id"),
    ("clock_slew of 1",
     '{"port": 0, "state_file": "genid.state",\n "clock_slew": 1}\n', 2,
     "clock_slew"),
    ("clock_slew of 0",
     '{"port": 0, "state_file": "genid.state",\n\n "clock_slew": 0.0}\n',
     3, "clock_slew"),
    ("clock_slew not a number",
     '{"port": 0, "state_file": "genid.state", "clock_slew": "0.25"}\n', 1,
     "clock_slew"),
    ("max_slew_s out of range",
     '{"port": 0, "state_file": "genid.state",\n "max_slew_s": 316224001}\n', 2,
     "max_slew_s"),
]


def test_config(t):
    d = harness.Daemon(t)
    for what, text, line, key in BAD_CONFIGS:
        d.write_config(text)
        for args in ([], ["-t"]):
            label = "config %s%s" % (what, " with -t" if args else "")
            d.spawn(args=args, write_config=False)
            rc = d.wait_exit(10)
            out = d.output()
            if rc is None:
                d.cleanup()
            t.check(rc == harness.EX_CONFIG, "%s: exit 78" % label,
                    "got %r; output:\n%s" % (rc, out))
            pat = re.compile(r'(^|[\s:])(%s|%s):%d:(\d+): "%s"' % (
                re.escape(d.conf_path), re.escape("genid.json"), line,
                re.escape(key)), re.M)
            m = pat.search(out)
            t.check(m, '%s: says FILE:%d:COL: "%s"' % (label, line, key),
                    "output:\n%s" % out.strip())
            t.note(out.strip())
    t.check(not os.path.exists(d.state_path) and
            not os.path.exists(d.pid_path),
            "config errors create no state or pid file")

    d.write_config('{\n  "port": 0,\n  "zone_id": 1\n  "dc_id": 1\n}\n')
    d.spawn(write_config=False)
    rc = d.wait_exit(10)
    out = d.output()
    t.check(rc == harness.EX_CONFIG and
            re.search(r"genid\.json:[34]:\d+:", out),
            "JSON syntax error: exit 78 with FILE:LINE:COL",
            "got %r, %s" % (rc, out.strip()))
    t.note(out.strip())

    # The original project's configuration stays valid.  Its state and
    # pid files are the built-in defaults, which this machine may lack,
    # and its port is fixed: -t may name those (integ_configtest.py and
    # integ_configtest_state.py check them), and nothing else.
    d.write_config('{"port":3778,"zone_id":0,"dc_id":0,"machine_id":0}\n')
    d.spawn(args=["-t"], write_config=False)
    rc = d.wait_exit(10)
    out = d.output()
    lines = message_lines(out)
    t.check((rc == 0 and "configuration OK" in out) or (
        rc == harness.EX_CANTCREAT and lines and all(
            line.endswith(('(check "state_file")', '(check "pid_file")',
                           '"The first start")',
                           'or change "listen")'))
            for line in lines)),
            "-t on the original project's config: configuration OK, exit 0,"
            " or only the default paths, state file and port named",
            "got %r, %s" % (rc, out.strip()))
    # -t also wants the state file a start would open, and a free port.
    d.write_config('{"state_file": "genid.state", "pid_file": ""}\n')
    rc, out = d.init_state(write_config=False)
    t.require(rc == 0, "genid --init for the -t of the slew settings",
              "exit %d, %s" % (rc, out.strip()))
    for slew in ('"clock_slew": 0.5, "max_slew_s": 0',
                 '"clock_slew": 0.999, "max_slew_s": 86400'):
        text = ('{"state_file": "genid.state", "pid_file": "", "port": 0, '
                '%s}\n' % slew)
        d.write_config(text)
        d.spawn(args=["-t"], write_config=False)
        rc = d.wait_exit(10)
        out = d.output()
        t.check(rc == 0 and "configuration OK" in out,
                "-t on %s: configuration OK, exit 0" % text.strip(),
                "got %r, %s" % (rc, out.strip()))

    d.spawn(args=["--no-such-flag"])
    rc = d.wait_exit(10)
    t.check(rc == harness.EX_USAGE, "an unknown flag: exit 64",
            "got %r, %s" % (rc, d.output().strip()))


def test(t):
    test_config(t)
    test_identity(t)
    test_locked(t)
    test_clock(t)


harness.run(test, control=True)
