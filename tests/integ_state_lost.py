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

New file: without --new-node the IDs start above 2 * max_ahead_s + 1
seconds ahead of the clock, what a predecessor with the same identity may
have issued before its file was lost; with --new-node at the clock.
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
    d = harness.Daemon(t, workers=2, checkpoint_interval_ms=200).start()
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
    d.start(args=["--wait-clock"])
    out = d.output()
    t.check("first start" not in out and "new state file" not in out,
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


def fresh(t):
    d = harness.Daemon(t, workers=1)
    d.new_node = False
    t0 = time.time()
    d.start()
    with harness.connect(d.addr) as s:
        first = harness.decode(harness.get_id(s))
    out = d.output()
    d.stop()
    d.spawn()
    try:
        d.wait_ready(15)
        t.check(True, "a restart right after that first start serves")
    except harness.Failure as e:
        t.check(False, "a restart right after that first start serves",
                str(e))
    d.stop()
    reach = int(t0) + 2 * d.max_ahead + 1
    t.check(first.ts > reach, "new state file without --new-node: the first "
            "ID's second %d is above clock + 2 * max_ahead_s + 1 = %d"
            % (first.ts, reach))
    t.check("--new-node" in out, "the log says how to skip that",
            out.strip())

    d = harness.Daemon(t, workers=1)
    d.start()
    with harness.connect(d.addr) as s:
        first = harness.decode(harness.get_id(s))
    d.stop()
    t.check(first.ts <= time.time() + 1, "with --new-node the first ID is "
            "at the clock (%+.0f s)" % (first.ts - time.time()))


def test(t):
    deleted(t, "clean stop")
    deleted(t, "kill -9")
    fresh(t)


harness.run(test, control=True)
