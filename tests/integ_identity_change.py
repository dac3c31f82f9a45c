#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
integ_identity_change.py - the node's identity changed after it ran, as an
operator does after installing the package (genid(8), "Changing the
identity"), and the state file's layout converted both ways (genid(7),
"COMPATIBILITY"):

  - a node runs and issues IDs; its machine_id is changed: genid -t says
    the start keeps the old file as PATH.zoneZ-dcD-machineM-epochE and
    makes a new one; the start does so (a warning says it), serves as the
    new machine from the current second, and the old file is kept whole;
  - only the epoch changed, to a later one: refused (its IDs would count
    from a lower second and reach those the machine issued), nothing
    moved; with another machine as well: a third file, the second kept;
  - back to the first identity: -t says the start takes its file back; the
    start does, and every ID is above all its bucket issued before;
  - the name a file would be kept under held by another file: -t and the
    start refuse (exit 73) naming it, and nothing is moved;
  - genid --state-layout 3 on the stopped node writes a layout-3 file;
    refused (exit 75) while genid runs; -t notes the conversion; the start
    converts it back to layout 4 before its first ID, says so, and every
    ID is above all its bucket issued before;
  - the file of a clean stop under another kernel boot (copied from
    another host): the start says so and warns about twins;
  - a start with another identity right after a kill -9 of the master
    waits for its workers' lock and switches.
"""

import os
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "integration"))
import harness  # noqa: E402
from harness import decode  # noqa: E402

WHY = "the test is about changing the node's identity after it ran"
EPOCH2 = 1767225600  # 2026-01-01: a recent epoch, as genid.json(5) advises


def genid_t(d):
    d.write_config()
    return subprocess.run([harness.genid_path(), "-t", "-c", d.conf_path],
                          capture_output=True, text=True, timeout=20,
                          cwd=d.dir)


def layout(path):
    """The layout version a state file declares, and its size."""
    with open(path, "rb") as f:
        head = f.read(12)
    return int.from_bytes(head[8:12], "little"), os.path.getsize(path)


def kept(d, zone, dc, machine, epoch):
    return "%s.zone%d-dc%d-machine%d-epoch%d" % (d.state_path, zone, dc,
                                                 machine, epoch)


def fetch(t, d, n=2000):
    """n IDs over four connections: they must come from d's identity."""
    ids = []
    for _ in range(4):
        s = harness.connect(d.addr)
        try:
            for _ in range(n // 4 // 250):
                ids += harness.get_ids(s, 250)
        finally:
            s.close()
    bad = [i for i in ids if (decode(i).zone, decode(i).dc,
                              decode(i).machine) != (d.zone, d.dc,
                                                     d.machine)]
    t.check(ids and not bad, "IDs carry zone %d dc %d machine %d"
            % (d.zone, d.dc, d.machine), bad[:1] and decode(bad[0]))
    return ids


def check_above(t, before, after, what):
    """Every ID of after is above every ID of before from the same bucket
    of the same node: what a restart promises (a bucket resumes above its
    own IDs; within one second a lower bucket's IDs lie below a higher
    one's, so "above all" across buckets is not the rule), and none is
    repeated."""
    top = {}
    for i in before:
        k = i & ~0xFFFF & ~(0xFFFFFFFF << 32)  # zone, dc, machine, bucket
        top[k] = max(top.get(k, 0), i)
    low = [i for i in after
           if i <= top.get(i & ~0xFFFF & ~(0xFFFFFFFF << 32), 0)]
    t.check(after and not low, "%s: every ID is above all its bucket "
            "issued before" % what, "%d of %d not, e.g. %#x" % (
                len(low), len(after), low[0]) if low else None)
    harness.check_unique(t, before + after, what)


def run_once(t, d, what):
    d.start()
    ids = fetch(t, d)
    rc, _ = d.stop()
    t.check(rc == 0, "%s: the node stops with 0" % what, "exit %r" % rc)
    return ids


def change_machine(t, d, first):
    old = kept(d, d.zone, d.dc, d.machine, d.epoch)
    d.set(machine_id=harness.MACHINE + 1, why=WHY)
    r = genid_t(d)
    t.check(r.returncode == 0 and old in r.stdout and
            "makes a new state file" in r.stdout and
            "configuration OK" in r.stdout,
            "-t after machine_id changed: exit 0, a note that the start "
            "keeps the old file as %s and makes a new one" % old,
            "exit %d: %r %r" % (r.returncode, r.stdout, r.stderr))
    t0 = time.time()
    ids = run_once(t, d, "machine changed")
    t1 = time.time()
    t.check("identity changed" in d.output() and old in d.output(),
            "the start's warning names the change and the kept file",
            d.output()[-600:])
    t.check(os.path.exists(old) and layout(old)[0] == 4 and
            harness.State(old).h.machine == harness.MACHINE,
            "the old file is kept whole as %s" % old)
    ts = [decode(i).ts for i in ids]
    t.check(min(ts) >= int(t0) - d.epoch and
            max(ts) <= int(t1) - d.epoch + d.max_ahead,
            "the new identity's IDs count from the current second, as at "
            "a first start", "seconds %d..%d, the clock %d..%d" % (
                min(ts), max(ts), int(t0) - d.epoch, int(t1) - d.epoch))
    harness.check_unique(t, first + ids, "both identities")
    return ids


def change_epoch(t, d):
    """A later epoch for the same machine numbers its IDs from a lower
    second, and would reach those it issued: refused, nothing moved.  With
    a machine of its own the new epoch starts its file."""
    here = harness.State(d.state_path).h
    d.set(epoch=EPOCH2, why=WHY)
    r = genid_t(d)
    t.check(r.returncode == harness.EX_CANTCREAT and
            "would repeat those" in r.stderr and
            "give the new epoch a machine_id of its own" in r.stderr,
            "-t with only the epoch changed to a later one: exit 73, it "
            "would repeat IDs, and what to do",
            "exit %d: %r" % (r.returncode, r.stderr))
    d.spawn()
    rc = d.wait_exit(15)
    if rc is None:
        d.cleanup()
    t.check(rc == harness.EX_DATAERR and "would repeat those" in d.output(),
            "the start refuses it (65), saying why", "exit %r: %s"
            % (rc, d.output()[-500:]))
    h = harness.State(d.state_path).h
    t.check((h.machine, h.epoch, h.boot_count) ==
            (here.machine, here.epoch, here.boot_count) and not
            os.path.exists(kept(d, d.zone, d.dc, d.machine, 0)),
            "...and moves nothing")
    old = kept(d, d.zone, d.dc, d.machine, 0)
    d.set(machine_id=harness.MACHINE + 2, why=WHY)
    run_once(t, d, "epoch and machine changed")
    t.check(os.path.exists(old),
            "a new epoch with a machine of its own: the second file is "
            "kept as %s" % old)


def change_back(t, d, first):
    mine = kept(d, harness.ZONE, harness.DC, harness.MACHINE, 0)
    d.set(machine_id=harness.MACHINE, epoch=None, why=WHY)
    r = genid_t(d)
    t.check(r.returncode == 0 and "takes back %s" % mine in r.stdout,
            "-t after the identity changed back: the start takes back %s"
            % mine, "exit %d: %r %r" % (r.returncode, r.stdout, r.stderr))
    ids = run_once(t, d, "identity changed back")
    t.check("took back %s" % mine in d.output(),
            "the start says it took back the first identity's file",
            d.output()[-600:])
    t.check(not os.path.exists(mine), "...which is at the path again")
    check_above(t, first, ids, "after the change back")
    return first + ids


def name_taken(t, d):
    """The name the current file would be kept under holds another
    file: nothing is moved, -t and the start say which."""
    taken = kept(d, d.zone, d.dc, d.machine, d.epoch)
    with open(taken, "wb") as f:
        f.write(b"another file")
    d.set(machine_id=harness.MACHINE - 1, why=WHY)
    r = genid_t(d)
    t.check(r.returncode == harness.EX_CANTCREAT and taken in r.stderr,
            "-t with the kept name taken: exit 73 naming it",
            "exit %d: %r" % (r.returncode, r.stderr))
    before = layout(d.state_path)
    d.spawn()
    rc = d.wait_exit(15)
    if rc is None:
        d.cleanup()
    t.check(rc == harness.EX_CANTCREAT and taken in d.output(),
            "the start refuses it too (73), naming it", "exit %r: %s"
            % (rc, d.output()[-400:]))
    t.check(layout(d.state_path) == before and
            harness.State(d.state_path).h.machine == harness.MACHINE,
            "...and leaves the file at the path as it was")
    os.unlink(taken)
    d.set(machine_id=harness.MACHINE, why=WHY)


def layouts(t, d, before):
    d.start()
    d.write_config()
    r = subprocess.run([harness.genid_path(), "-c", d.conf_path,
                        "--state-layout", "3"], capture_output=True,
                       text=True, timeout=20, cwd=d.dir)
    t.check(r.returncode == 75 and "converted only while no genid runs"
            in r.stderr, "--state-layout 3 beside a running genid: exit "
            "75, and why", "exit %d: %r" % (r.returncode, r.stderr))
    ids = fetch(t, d)
    d.stop()
    r = subprocess.run([harness.genid_path(), "-c", d.conf_path,
                        "--state-layout", "3"], capture_output=True,
                       text=True, timeout=20, cwd=d.dir)
    t.check(r.returncode == 0 and layout(d.state_path) == (3, 6528),
            "--state-layout 3 on the stopped node: a layout-3 file of "
            "6528 bytes", "exit %d: %r %r, %r" % (
                r.returncode, r.stdout, r.stderr, layout(d.state_path)))
    r = genid_t(d)
    t.check(r.returncode == 0 and "of layout 3" in r.stdout and
            "converts it to layout 4" in r.stdout,
            "-t on a layout-3 file: a note that the start converts it",
            "exit %d: %r %r" % (r.returncode, r.stdout, r.stderr))
    d.start()
    t.check("converted from layout 3 to layout 4" in d.output() and
            "bucket words of its clean stop carried over" in d.output(),
            "the start converts it and says so, the clean stop's bucket "
            "words carried over", d.output()[-600:])
    t.check(layout(d.state_path) == (4, 7168),
            "the file is layout 4 again", layout(d.state_path))
    after = fetch(t, d)
    d.stop()
    check_above(t, before + ids, after, "after the conversion")
    return before + ids + after


def moved(t, d, before):
    """The file copied to another host after a clean stop: its kernel boot
    is another one's.  The start resumes and says what to watch for."""
    harness.patch_bytes(d.state_path, harness.header_offset("kernel_boot"),
                        bytes([0x11] * 16))
    d.start()
    t.check("after a clean stop, then a reboot or a move from another "
            "host" in d.output() and "twins repeat IDs" in d.output(),
            "a file stopped cleanly under another kernel boot: the start "
            "says it may have moved, and that a copy must not run "
            "elsewhere", d.output()[-600:])
    after = fetch(t, d)
    d.stop()
    check_above(t, before, after, "after the move")


def killed(t, d):
    """The master killed with SIGKILL and a start with another identity at
    once, while its workers may still hold the lock: the start waits for
    them, as any start does, and switches."""
    d.start()
    d.signal_master(signal.SIGKILL)
    d.proc.wait(10)
    old = kept(d, d.zone, d.dc, d.machine, d.epoch)
    d.set(machine_id=harness.MACHINE - 1, why=WHY)
    d.start()
    t.check("identity changed" in d.output() and os.path.exists(old),
            "a start with another identity right after a kill -9 keeps the "
            "old file as %s and serves" % old, d.output()[-500:])
    fetch(t, d, 1000)
    d.stop()


def test(t):
    d = harness.Daemon(t)
    first = run_once(t, d, "first identity")
    change_machine(t, d, first)
    change_epoch(t, d)
    first = change_back(t, d, first)
    name_taken(t, d)
    moved(t, d, layouts(t, d, first))
    killed(t, d)


harness.run(test, control=True, timeout=180)
