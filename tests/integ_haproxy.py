#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
integ_haproxy.py - the HAProxy sample in front of three nodes, with the
real haproxy (issue 9), and libgenid and the Python client beside it.

The sample (contrib/haproxy/genid.cfg, only its addresses replaced) takes
a node out while its INFO says it is not serving (msync failing on node
2: "checkpoint-stuck") and back once it serves.  Right after a kill -9
of node 3, new connections through HAProxy all get an ID (retries 2 and
option redispatch 1).  libgenid and the Python client, given node 2 (not
serving) first, get their IDs from the next node at once, and both work
through HAProxy.  Skips without haproxy.
"""

import os
import sys
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "integration"))
sys.path.insert(0, os.path.join(HERE, "clients"))
sys.path.insert(0, os.path.join(HERE, "..", "contrib", "clients", "python",
                                "src"))
import harness  # noqa: E402
import haproxy  # noqa: E402

BUILD = os.environ.get("GENID_BUILDDIR", ".")


def libgenid():
    path = os.path.join(BUILD, "src", "client", ".libs", "libgenid.so")
    if not os.path.exists(path):
        return None
    import libgenid_cases
    return libgenid_cases.Libgenid(path)


def machines(addr, n):
    """The machine of one ID from each of n new connections, and the
    failures."""
    got, failed = [], []
    for _ in range(n):
        r, _ = haproxy.fetch_one(addr)
        if isinstance(r, Exception):
            failed.append(repr(r))
        else:
            got.append(harness.decode(r).machine)
    return got, failed


def test(t):
    if not haproxy.binary():
        t.skip("haproxy is not installed (Debian: apt-get install haproxy)")
    shim = os.path.join(BUILD, "tests", ".libs", "msync_fail.so")
    if not os.path.exists(shim):
        shim = None
        t.note("tests/.libs/msync_fail.so was not built: node 2 is made"
               " not serving by stopping it instead")
    nodes = []
    for m in (1, 2, 3):
        d = harness.Daemon(t, machine_id=m, checkpoint_interval_ms=100,
                           why={"machine_id": "three nodes behind HAProxy, "
                                "told apart by machine",
                                "checkpoint_interval_ms": "node 2's failing"
                                " msync is met, and reported, within "
                                "HAProxy's check deadlines"})
        env = None
        if m == 2 and shim:
            env = {"LD_PRELOAD": shim,
                   "GENID_MSYNC_FAIL": os.path.join(d.dir, "fail"),
                   "GENID_MSYNC_COUNT": os.path.join(d.dir, "count"),
                   "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") +
                   ":verify_asan_link_order=0"}
        nodes.append(d.start(env=env))
    hp = haproxy.HAProxy(t, [("genid%d" % (i + 1), d.addr)
                             for i, d in enumerate(nodes)]).start()
    up = all(hp.wait_status("genid%d" % i, "UP", 10) for i in (1, 2, 3))
    t.require(up, "the health check of the sample passes for three"
              " serving nodes", hp.stat())
    got, failed = machines(hp.addr, 60)
    t.check(not failed and set(got) == {1, 2, 3},
            "60 connections through HAProxy reach all three nodes",
            "machines %s, failures %s" % (sorted(set(got)), failed[:3]))

    flag = os.path.join(nodes[1].dir, "fail")
    if shim:
        open(flag, "w").close()
    else:
        nodes[1].stop()
    down = hp.wait_status("genid2", "DOWN", 10)
    t.check(down, "node 2, %s, is taken out by the check"
            % ("checkpoint-stuck" if shim else "stopped"), hp.stat())
    got, failed = machines(hp.addr, 60)
    t.check(not failed and 2 not in got,
            "while it is out no connection reaches it",
            "machines %s, failures %s" % (sorted(set(got)), failed[:3]))

    lg = libgenid()
    import genid64
    direct = ["%s:%d" % nodes[1].addr, "%s:%d" % nodes[0].addr]
    with genid64.Client(direct) as c:
        t0 = time.monotonic()
        ids = c.bulk(100) + [c.next()]
        took = time.monotonic() - t0
    t.check({harness.decode(i).machine for i in ids} == {1} and took < 0.9,
            "the Python client given node 2 first gets its IDs from node 1"
            " at once (%.0f ms)" % (took * 1000))
    if lg is not None:
        h = lg.open(direct, {})
        t0 = time.monotonic()
        ids = lg.bulk(h, 100) + [lg.next(h)]
        took = time.monotonic() - t0
        lg.close(h)
        t.check({harness.decode(i).machine for i in ids} == {1}
                and took < 0.9,
                "libgenid given node 2 first gets its IDs from node 1 at"
                " once (%.0f ms)" % (took * 1000))
    else:
        t.note("libgenid.so not built: its part is not tested")

    if shim:
        os.unlink(flag)
    else:
        nodes[1].set(port=nodes[1].port)  # where HAProxy expects it
        nodes[1].start()
    t.check(hp.wait_status("genid2", "UP", 10),
            "node 2 serving again is taken back", hp.stat())

    nodes[2].kill_all()
    t0 = time.monotonic()
    got, failed = machines(hp.addr, 100)
    took = time.monotonic() - t0
    t.check(not failed and 3 not in got,
            "right after kill -9 of node 3, 100 new connections through"
            " HAProxy all get an ID (%.2f s)" % took,
            "failures %d: %s" % (len(failed), failed[:3]))
    t.note("after the kill: machines %s; HAProxy says %s"
           % (sorted(set(got)), hp.stat()))

    hp_addr = ["%s:%d" % hp.addr]
    with genid64.Client(hp_addr) as c:
        ids = c.bulk(1000)
    t.check(len(ids) == 1000 and harness.first_not_increasing(ids) == -1,
            "the Python client through HAProxy: 1000 increasing IDs")
    if lg is not None:
        h = lg.open(hp_addr, {})
        ids = lg.bulk(h, 1000)
        lg.close(h)
        t.check(len(ids) == 1000 and
                harness.first_not_increasing(ids) == -1,
                "libgenid through HAProxy: 1000 increasing IDs")
    hp.stop()
    for d in nodes[:2]:
        rc, _ = d.stop()
        t.check(rc == 0, "node stops with 0", "got %r" % rc)


harness.run(test, control=True)
