#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
integ_peers.py - the peer check at start-up (genid(8)): a peer with this
node's zone, dc and machine stops the start with a message naming it; a
peer of another data centre and an unreachable peer are warnings only.
"""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "integration"))
import harness  # noqa: E402

# The one reason of every node here: what the test is about.
PEERS = ("the peer check compares the identities of nodes that name each "
         "other as peers")


def test(t):
    a = harness.Daemon(t, why=PEERS, zone_id=3, dc_id=2,
                       machine_id=5).start()
    peer_a = "127.0.0.1:%d" % a.port
    nobody = "127.0.0.1:%d" % harness.closed_port()

    twin = harness.Daemon(t, why=PEERS, zone_id=3, dc_id=2, machine_id=5,
                          peers=[nobody, peer_a])
    proc = twin.spawn()
    rc = proc.wait(timeout=20)
    err = twin.stderr()
    t.check(rc == 78, "a peer with the same identity: exit 78 (EX_CONFIG)",
            "got %r: %s" % (rc, err))
    t.check(peer_a in err and "machine_id" in err,
            "the message names the peer and what to change", err)

    other = harness.Daemon(t, why=PEERS, zone_id=3, dc_id=2, machine_id=4,
                           peers=[nobody, peer_a]).start()
    log = other.output()
    t.check(nobody in log and "warning" in log,
            "an unreachable peer is a warning", log)
    t.check(other.state().h.peer_conflicts == 0,
            "the state file records no conflict")
    t.check(other.state().h.peer_checked > 0,
            "the state file records when the peers were asked")
    with harness.connect(other.addr) as s:
        t.check(harness.decode(harness.get_id(s)).machine == 4,
                "the node with its own machine_id serves")
    rc, _ = other.stop()
    t.check(rc == 0, "it stops with 0", "got %r" % rc)

    far = harness.Daemon(t, why=PEERS, zone_id=4, dc_id=2, machine_id=5,
                         peers=[peer_a]).start()
    log = far.output()
    t.check("is in zone 3 dc 2" in log,
            "a peer of another data centre is a warning naming its zone and"
            " dc", log)
    rc, _ = far.stop()
    t.check(rc == 0, "it stops with 0", "got %r" % rc)
    rc, _ = a.stop()
    t.check(rc == 0, "the first node stops with 0", "got %r" % rc)
    later_conflict(t)


def later_conflict(t):
    """A twin that starts after the node is found by the check every
    minute; libfaketime runs the node's clocks 60 times as fast, so that
    minute passes in one second."""
    lib = harness.libfaketime()
    if not lib:
        t.note("libfaketime is not installed: the check every minute is"
               " not tested")
        return
    twin_port = harness.closed_port()
    node = harness.Daemon(t, why=PEERS, zone_id=3, dc_id=2, machine_id=4,
                          peers=["127.0.0.1:%d" % twin_port])
    node.start(env={"LD_PRELOAD": lib, "FAKETIME": "+0 x60",
                    "FAKETIME_NO_CACHE": "1"})
    t.check(node.state().h.peer_conflicts == 0,
            "no conflict while the twin is down")
    twin = harness.Daemon(t, why=PEERS, zone_id=3, dc_id=2, machine_id=4,
                          port=twin_port).start()
    found = harness.poll(lambda: node.state().h.peer_conflicts == 1, 15,
                         0.05)
    t.check(found, "the check every minute finds the twin: one conflict in"
            " the state file")
    t.check(harness.poll(lambda: "CONFLICT: peer 127.0.0.1:%d" % twin_port
                         in node.output(), 5, 0.05),
            "...and a loud line in the log naming it")
    with harness.connect(node.addr) as s:
        state = harness.poll(
            lambda: harness.info(s)["state"] == "peer-conflict", 5, 0.05)
        t.check(state, "INFO says the node is not serving: peer-conflict",
                "INFO %s" % harness.info(s))
    for d in (twin, node):
        rc, _ = d.stop()
        t.check(rc == 0, "stops with 0", "got %r" % rc)


harness.run(test, control=True)
