#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
integ_state_lost.py - a state file deleted while genid runs, and a node
that starts on a new state file.

Deleted: the master notices on its checkpoint timer, says so in the log,
and writes the file back from its mapping; a restart after a clean stop or
after kill -9 repeats no ID issued before (the next start used to be a
"first start"), and the restart after kill -9 says "after a crash", not
"after a crash and a reboot" (the restored file used to lose its kernel
boot).

No file: a start is refused (exit 66) with a message naming both ways
forward.  genid --init-lost makes a file whose IDs start above 2 *
max_ahead_s + 1 seconds ahead of the clock at the init, what a predecessor
with the same identity may have issued before its file was lost; genid
--init one whose first start issues IDs of the current second; --init on
an existing file exits 73.
"""

import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "integration"))
import harness  # noqa: E402


def fetch(d, conns=4, n=200):
    ids = []
    for _ in range(conns):
        with harness.connect(d.addr) as s:
            ids += harness.get_ids(s, n)
            ids.append(harness.get_id(s))
    return ids


def no_repeat(t, what, before, after):
    dup = set(before) & set(after)
    t.check(not dup, "%s: no ID repeated" % what,
            "%d repeated, first %s" % (len(dup), dup and
                                       harness.decode(min(dup))))
    top = {}
    for i in before:
        b = harness.decode(i).bucket
        top[b] = max(top.get(b, 0), i)
    low = [i for i in after if i <= top.get(harness.decode(i).bucket, -1)]
    t.check(not low, "%s: every bucket resumes above what it issued"
            % what, "%d below, first %s" % (len(low), low[:1]))


def deleted(t, how):
    d = harness.Daemon(t).start()
    before = fetch(d)
    os.unlink(d.state_path)
    back = harness.poll(lambda: os.path.exists(d.state_path), 5)
    t.check(back, "%s: the deleted state file is restored within 5 s" % how)
    out = d.output()
    t.check("was deleted while genid runs" in out and d.state_path in out,
            "%s: the log says the file was deleted, and names it" % how,
            out.strip())
    before += fetch(d)
    # Let a tick copy the latest state, then issue some more after it.
    harness.poll(lambda: harness.State(d.state_path).h.checkpoint
                 >= max(before) >> 32, 5)
    before += fetch(d)
    if how == "kill -9":
        d.kill_all()
    else:
        rc, _ = d.stop()
        t.check(rc == 0, "%s: exit 0" % how, "exit %r" % rc)
    st = harness.State(d.state_path)
    t.check(st.h.checkpoint >= max(before) >> 32,
            "%s: the restored file's checkpoint covers every ID issued"
            % how, "checkpoint %d, highest ts %d" % (st.h.checkpoint,
                                                     max(before) >> 32))
    d.start()
    out = d.output()
    t.check("first start" not in out,
            "%s: the restart is not a first start" % how, out.strip())
    if how == "clean stop":
        t.check("after a clean stop" in out,
                "%s: the restart resumes after a clean stop" % how,
                out.strip())
    else:
        # The restored file keeps the kernel boot: no reboot happened.
        t.check("after a crash:" in out,
                "%s: the restart says after a crash, not a reboot" % how,
                out.strip())
    after = fetch(d)
    no_repeat(t, how, before, after)
    d.stop()


def refused(t):
    """No state file and no genid --init: the start is refused."""
    d = harness.Daemon(t)
    d.init = False
    d.spawn()
    rc = d.wait_exit(15)
    if rc is None:
        d.cleanup()
    out = d.output()
    t.check(rc == harness.EX_NOINPUT, "a start without a state file: "
            "exit 66 (EX_NOINPUT)", "exit %r: %s" % (rc, out.strip()))
    t.check("genid -c %s --init" % d.conf_path in out and
            "genid -c %s --init-lost" % d.conf_path in out and
            d.state_path in out, "the message names the file and both "
            "ways forward, --init and --init-lost", out.strip())
    t.check(not harness.LISTEN_ANY_RE.search(out), "nothing was bound",
            out.strip())
    t.check(not os.path.exists(d.state_path) and
            not os.path.exists(d.pid_path),
            "no state file and no pid file left behind",
            sorted(os.listdir(d.dir)))


def init_lost(t):
    """genid --init-lost: the IDs start above what a predecessor whose
    file was lost may have issued, 2 * max_ahead_s + 1 ahead of the
    clock at the time of the init."""
    d = harness.Daemon(t)
    t0 = time.time()
    rc, out = d.init_state(lost=True, why="the test is about a node whose "
                           "state file was lost")
    t.check(rc == 0 and os.path.exists(d.state_path), "genid --init-lost: "
            "exit 0 and a state file", "exit %r: %s" % (rc, out.strip()))
    rc, again = d.init_state()
    t.check(rc == harness.EX_CANTCREAT and d.state_path in again,
            "genid --init on an existing file: exit 73, names it",
            "exit %r: %s" % (rc, again.strip()))
    d.start()
    with harness.connect(d.addr) as s:
        before = [harness.get_id(s)] + list(harness.get_ids(s, 255))
    d.stop()
    first = harness.decode(before[0])
    reach = int(t0) + 2 * d.max_ahead + 1
    t.check(first.ts > reach, "after --init-lost the first ID's second %d "
            "is above the clock at the init + 2 * max_ahead_s + 1 = %d"
            % (first.ts, reach))
    d.spawn()
    try:
        d.wait_ready(15)
        t.check(True, "a restart right after that first start serves")
    except harness.Failure as e:
        t.check(False, "a restart right after that first start serves",
                str(e))
    with harness.connect(d.addr) as s:
        later = list(harness.get_ids(s, 255))
    d.stop()
    no_repeat(t, "--init-lost, then a restart", before, later)


def init(t):
    """genid --init: a node that never issued IDs; its first start
    issues IDs of the current second."""
    d = harness.Daemon(t)
    rc, out = d.init_state()
    t.check(rc == 0 and "current second" in out, "genid --init: exit 0, "
            "says the first start issues from the current second",
            "exit %r: %s" % (rc, out.strip()))
    d.start()
    lo = int(time.time()) - d.epoch
    with harness.connect(d.addr) as s:
        first = harness.decode(harness.get_id(s))
    hi = int(time.time()) - d.epoch
    out = d.output()
    d.stop()
    t.check(lo <= first.ts <= hi, "after --init the first ID is of the "
            "current second (%d, the clock %d..%d)" % (first.ts, lo, hi))
    t.check("first start" in out, "the log says first start", out.strip())


def test(t):
    deleted(t, "clean stop")
    deleted(t, "kill -9")
    refused(t)
    init_lost(t)
    init(t)


harness.run(test, control=True)
