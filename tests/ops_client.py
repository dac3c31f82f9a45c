#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""contrib/python/genid_client.py against real genid daemons.

Failover from an address nobody listens on to a live node, get_ids(600)
strictly increasing on one connection, info() fields, decode(), and
failover to a second node when the first one stops.  Every wait polls for
its condition with a deadline.
"""

import os
import socket
import sys
import tempfile
import time

GENID = os.environ.get("GENID", "")
SRCDIR = os.environ.get("GENID_SRCDIR",
                        os.path.join(os.path.dirname(__file__), ".."))
EPOCH = 1767225600  # 2026-01-01T00:00:00Z
INFO_KEYS = {"version", "zone", "dc", "machine", "epoch", "buckets",
             "workers", "pid", "uptime_s", "now", "checkpoint", "bucket",
             "state", "lead_s"}

sys.path.insert(0, os.path.join(SRCDIR, "contrib", "python"))
import genid_client  # noqa: E402
sys.path.insert(0, os.path.join(SRCDIR, "tests", "integration"))
import harness  # noqa: E402


# Why the two nodes differ from the shipped configuration.
NODE_WHY = {"machine_id": "two nodes told apart by machine: the IDs show "
                          "which one a client failed over to",
            "epoch": "the client's decode() and encode() are checked "
                     "with an epoch"}


class Node:
    """genid in the foreground on 127.0.0.1 and a port the kernel picks,
    started by the integration tests' harness: the shipped configuration,
    genid --init before the first start."""

    def __init__(self, tmp, name, machine):
        dir = os.path.join(tmp, name)
        os.mkdir(dir)
        self.machine = machine
        self.d = harness.Daemon(None, dir=dir, machine_id=machine,
                                epoch=EPOCH, why=NODE_WHY)
        self.pidfile = self.d.pid_path
        self.log = self.d.out_path
        self.address = None

    @property
    def proc(self):
        return self.d.proc

    def start(self):
        try:
            self.d.start(deadline=20)
        except harness.Failure as e:
            raise AssertionError(str(e))
        self.port = self.d.port
        self.address = "127.0.0.1:%d" % self.port

    def text(self):
        return self.d.output()

    def stop(self):
        """SIGTERM; returns the exit status."""
        if self.d.proc is None:
            return 0
        rc, took = self.d.stop(deadline=20)
        if took >= 20:
            raise AssertionError("genid did not stop within 20 s on SIGTERM")
        return rc


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


# The identity of the first node: the harness's zone and dc, machine 6.
IDENTITY = (harness.ZONE, harness.DC, 6)


def test_failover_from_dead_address(live, dead):
    client = genid_client.GenidClient([dead, live.address],
                                      connect_timeout=2, read_timeout=5)
    with client:
        first = client.get_id()
        check(client.connected_to == ("127.0.0.1", live.port),
              "connected to %r, not the live node" % (client.connected_to,))

        ids = client.get_ids(600)
        check(len(ids) == 600, "get_ids(600) returned %d IDs" % len(ids))
        check(ids[0] > first, "get_ids after get_id went down")
        check(all(a < b for a, b in zip(ids, ids[1:])),
              "get_ids(600) is not strictly increasing")
        last = client.get_id()
        check(last > ids[-1], "get_id after get_ids went down")
        check(client.get_ids(0) == [], "get_ids(0) is not empty")

        info = client.info()
        missing = INFO_KEYS - set(info)
        check(not missing, "info() lacks %s: %r" % (sorted(missing), info))
        check((info["zone"], info["dc"], info["machine"]) == IDENTITY,
              "info() identity %r" % (info,))
        check(info["epoch"] == EPOCH, "info() epoch %r" % info["epoch"])
        check(info["workers"] == live.d.workers,
              "info() workers %r" % info["workers"])
        check(info["pid"] == live.proc.pid,
              "info() pid %r, the master is %d" % (info["pid"], live.proc.pid))
        check(info["buckets"] == 32, "info() buckets %r" % info["buckets"])
        check(info["uptime_s"] >= 0, "info() uptime_s %r" % info["uptime_s"])
        check(0 <= info["bucket"] <= 31, "info() bucket %r" % info["bucket"])
        now = time.time()
        check(abs(info["now"] - now) < 5,
              "info() now %r, the clock says %d" % (info["now"], now))

        for id_ in [first, last] + ids:
            d = genid_client.decode(id_, EPOCH)
            check((d["zone"], d["dc"], d["machine"]) == IDENTITY,
                  "ID %d decodes to %r" % (id_, d))
            check(d["bucket"] == info["bucket"],
                  "ID %d is from bucket %d, the connection's is %d"
                  % (id_, d["bucket"], info["bucket"]))
            check(now - 60 < d["unix"] < now + 60,
                  "ID %d has time %s" % (id_, d["time"]))
            check(d["unix"] <= info["checkpoint"],
                  "ID %d is above the checkpoint %d" % (id_, info["checkpoint"]))
            check(genid_client.encode(d["unix"], d["zone"], d["dc"],
                                      d["machine"], d["bucket"], d["counter"],
                                      EPOCH) == id_,
                  "encode(decode(%d)) differs" % id_)
    return [first, last] + ids


def test_failover_to_second_node(a, b):
    client = genid_client.GenidClient([a.address, b.address],
                                      connect_timeout=2, read_timeout=5)
    with client:
        before = client.get_id()
        check(genid_client.decode(before, EPOCH)["machine"] == a.machine,
              "first ID not from the first node")
        rc = a.stop()
        check(rc == 0, "genid exited %d on SIGTERM" % rc)
        check(not os.path.exists(a.pidfile),
              "%s left behind after SIGTERM" % a.pidfile)
        after = client.get_ids(10)
        check(client.connected_to == ("127.0.0.1", b.port),
              "not failed over to the second node")
        check(all(genid_client.decode(i, EPOCH)["machine"] == b.machine
                  for i in after), "IDs after failover not from node 2")
    return [before] + after


def test_nobody_answers(dead):
    client = genid_client.GenidClient([dead, dead], connect_timeout=1)
    try:
        client.get_id()
    except genid_client.GenidError as e:
        check("no genid server answered" in str(e), "error %r" % str(e))
    else:
        raise AssertionError("get_id from dead addresses succeeded")


def main():
    if not GENID or not os.access(GENID, os.X_OK):
        print("SKIP: genid is not built (%r)" % GENID)
        return 77
    daemons = []
    # A bound socket that never listens: connections to it are refused.
    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    dead = "127.0.0.1:%d" % hole.getsockname()[1]
    with tempfile.TemporaryDirectory(prefix="genid-client.") as tmp:
        try:
            a = Node(tmp, "a", machine=6)
            daemons.append(a)
            a.start()
            seen = test_failover_from_dead_address(a, dead)
            print("ok: failover from a dead address, get_ids(600), info()")
            b = Node(tmp, "b", machine=7)
            daemons.append(b)
            b.start()
            seen += test_failover_to_second_node(a, b)
            print("ok: failover to the second node when the first stops")
            test_nobody_answers(dead)
            print("ok: GenidError when no address answers")
            check(len(seen) == len(set(seen)), "duplicate IDs")
        except AssertionError as e:
            print("FAIL: %s" % e)
            for d in daemons:
                if os.path.exists(d.log):
                    print("--- %s\n%s" % (d.log, d.text()))
            return 1
        finally:
            for d in daemons:
                d.stop()
            hole.close()
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
