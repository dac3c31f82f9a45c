#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
ops_notify.py - genid as a systemd Type=notify service, without systemd:
a datagram socket of this test stands in for $NOTIFY_SOCKET.  READY=1
comes from the master once its port accepts and serves; STATUS= follows
with connections and leads; SIGHUP sends RELOADING=1 (with MONOTONIC_USEC)
then READY=1; SIGTERM sends STOPPING=1 before genid exits 0.  The same for
an abstract socket ("@name").  A NOTIFY_SOCKET genid cannot use is a
warning, not a failed start.
"""

import os
import re
import signal
import socket
import struct
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "integration"))
import harness  # noqa: E402


class Listener:
    """The supervisor's end: a datagram socket that records each message
    with the pid of its sender (SCM_CREDENTIALS)."""

    def __init__(self, name):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        if name.startswith("@"):
            self.sock.bind("\0" + name[1:])
        else:
            self.sock.bind(name)
        self.name = name
        self.messages = []  # (sender pid, {NAME: value}, text)

    def _read(self, timeout):
        self.sock.settimeout(max(timeout, 0.001))
        try:
            data, anc, _, _ = self.sock.recvmsg(
                4096, socket.CMSG_SPACE(struct.calcsize("3i")))
        except socket.timeout:
            return False
        pid = None
        for level, kind, payload in anc:
            if level == socket.SOL_SOCKET and \
                    kind == socket.SCM_CREDENTIALS:
                pid = struct.unpack("3i", payload[:12])[0]
        text = data.decode(errors="replace")
        fields = dict(line.split("=", 1) for line in text.split("\n")
                      if "=" in line)
        self.messages.append((pid, fields, text))
        return True

    def wait_for(self, key, deadline=10, after=0):
        """The first message from index after on that sets key, or None
        after deadline seconds; returns (index, message)."""
        end = time.monotonic() + deadline
        i = after
        while True:
            while i < len(self.messages):
                if key in self.messages[i][1]:
                    return i, self.messages[i]
                i += 1
            left = end - time.monotonic()
            if left <= 0:
                return None, None
            self._read(left)

    def close(self):
        self.sock.close()
        if not self.name.startswith("@"):
            try:
                os.unlink(self.name)
            except OSError:
                pass


def port_serves(d):
    """Whether the port in the log accepts a connection and answers CMD 0
    at once (the master logs "listening on" before it can notify)."""
    m = harness.LISTEN_RE.search(d.output())
    if not m:
        return False, "no 'listening on' line in the log yet"
    try:
        with harness.connect(("127.0.0.1", int(m.group(1))), 2.0) as s:
            return harness.get_id(s) > 0, "port %s" % m.group(1)
    except (OSError, EOFError) as e:
        return False, "port %s: %s" % (m.group(1), e)


def run_one(t, d, name, label):
    lis = Listener(name)
    try:
        d.spawn(env={"NOTIFY_SOCKET": name})
        i, msg = lis.wait_for("READY", 15)
        t.require(msg is not None, "%s: READY=1 arrives" % label,
                  "messages %r; output:\n%s" % (lis.messages, d.output()))
        serves, how = port_serves(d)
        t.check(serves, "%s: when READY=1 arrives, the port accepts and "
                "serves" % label, how)
        master = d.master_pid()
        t.check(msg[0] == master, "%s: READY=1 comes from the master "
                "(NotifyAccess=main)" % label,
                "sender %r, master %r" % (msg[0], master))
        t.check(harness.READY_RE.search(d.output()),
                "%s: READY=1 after the 'ready:' log line" % label)
        d.wait_ready(5)

        j, st = lis.wait_for("STATUS", 10, i + 1)
        t.check(st is not None and
                re.search(r"\d+ connections, checkpoint -?\d+ s ahead, "
                          r"lead -?\d+ s", st[1]["STATUS"]),
                "%s: STATUS= names connections and leads" % label,
                "got %r" % (st,))

        n = len(lis.messages)
        d.signal_master(signal.SIGHUP)
        r, rel = lis.wait_for("RELOADING", 10, n)
        t.check(rel is not None and
                re.fullmatch(r"\d+", rel[1].get("MONOTONIC_USEC", "")),
                "%s: SIGHUP sends RELOADING=1 with MONOTONIC_USEC" % label,
                "got %r" % lis.messages[n:])
        if rel is not None:
            k, again = lis.wait_for("READY", 10, r + 1)
            t.check(again is not None, "%s: then READY=1 again" % label,
                    "got %r" % lis.messages[n:])

        n = len(lis.messages)
        d.signal_master(signal.SIGTERM)
        s, stop = lis.wait_for("STOPPING", 10, n)
        t.check(stop is not None and stop[0] == master,
                "%s: SIGTERM sends STOPPING=1 from the master" % label,
                "got %r" % lis.messages[n:])
        rc = d.wait_exit(10)
        t.check(rc == 0, "%s: genid exits 0" % label, "exit %r" % rc)
        later = [m for m in lis.messages[n:] if "READY" in m[1] or
                 m[1].get("STATUS", "").startswith("serving")]
        t.check(not later, "%s: no READY or serving STATUS after "
                "STOPPING" % label, "got %r" % later)
        others = [m for m in lis.messages if m[0] != master]
        t.check(not others, "%s: no message from a worker" % label,
                "got %r" % others)
    finally:
        if d.running():
            d.stop()
        lis.close()


def test(t):
    tmp = t.tmpdir()
    d = harness.Daemon(t)
    run_one(t, d, os.path.join(tmp, "notify.sock"), "path socket")
    run_one(t, d, "@genid-test-notify-%d" % os.getpid(), "abstract socket")

    # A NOTIFY_SOCKET that is not a path: a warning, and genid serves.
    d.start(env={"NOTIFY_SOCKET": "relative/notify.sock"})
    t.check(port_serves(d)[0], "a bad NOTIFY_SOCKET does not stop the start")
    t.check("NOTIFY_SOCKET" in d.output(), "a bad NOTIFY_SOCKET is logged",
            d.output())
    rc, _ = d.stop()
    t.check(rc == 0, "bad NOTIFY_SOCKET: exit 0", "exit %r" % rc)


harness.run(test, control=True, timeout=90)
