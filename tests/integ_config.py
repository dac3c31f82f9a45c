#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
integ_config.py - configuration keys of genid.json(5) that change what the
daemon does on the wire:
  - listen on IPv4 and IPv6 loopback at once ("[::1]"), pid_file "" (none);
  - allow: a client outside the list (source 127.0.0.2) is closed at
    accept and counted as rejected, a client inside it is served;
  - max_connections: with one worker and a limit of 4, the fifth
    connection is closed at accept, and a freed slot is usable again;
  - idle_timeout_s: an idle connection is closed, not before it was idle
    that long (even when its last request came at the end of a second),
    and a busy one is not closed.
"""

import os
import re
import socket
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "integration"))
import harness  # noqa: E402
from harness import decode  # noqa: E402

LISTEN6_RE = re.compile(r"listening on \[::1\]:(\d+)")


def has_ipv6():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def closed_at_accept(t, addr, what, source=None):
    """Connects (from source) and expects a close without any reply."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(5)
    if source:
        s.bind((source, 0))
    s.connect(addr)
    try:
        s.sendall(b"\x00\x00")
    except OSError:
        pass
    closed, got = harness.wait_closed(s, 5)
    s.close()
    t.check(closed and got == b"", "%s: closed without a reply" % what,
            "closed %s, got %r" % (closed, got[:16]))


def test_listen(t):
    if not has_ipv6():
        t.note("no IPv6 loopback here: the [::1] listener is not checked")
        return
    d = harness.Daemon(t, listen=["127.0.0.1", "[::1]"], pid_file="", why={
        "listen": "the test is about an IPv6 listener beside the IPv4 one",
        "pid_file": 'the test checks that pid_file "" writes none'})
    d.start()
    m = LISTEN6_RE.search(d.output())
    t.check(m, "listen [::1]: logs listening on [::1]:PORT",
            d.output().strip())
    if m:
        p6 = int(m.group(1))
        with socket.create_connection(("::1", p6), timeout=10) as s6, \
                harness.connect(d.addr) as s4:
            a = harness.get_ids(s6, 20) + (harness.get_id(s6),)
            b = harness.get_ids(s4, 20) + (harness.get_id(s4),)
        t.check(len(a) == len(b) == 21 and not set(a) & set(b),
                "IPv6 and IPv4 clients both served, no ID shared")
        t.check({(decode(x).zone, decode(x).dc, decode(x).machine)
                 for x in a} == {(d.zone, d.dc, d.machine)},
                "IDs over IPv6 carry the node's zone/dc/machine")
    t.check(not os.path.exists(d.pid_path), 'pid_file "": no pid file')
    rc, _ = d.stop()
    t.check(rc == 0, "IPv6 daemon stops with 0", "got %r" % rc)


def test_allow(t):
    d = harness.Daemon(t, allow=["127.0.0.1/32"], why="the test is about "
                       "allow: 127.0.0.2 is refused").start()
    with harness.connect(d.addr) as s:
        harness.get_id(s)
    t.check(True, "allow 127.0.0.1/32: a client from 127.0.0.1 is served")
    closed_at_accept(t, d.addr, "allow 127.0.0.1/32: a client from "
                     "127.0.0.2", source="127.0.0.2")
    rejected = harness.poll(
        lambda: sum(w.rejected for w in d.state().workers), 5)
    t.check(rejected >= 1, "the refused client is counted as rejected",
            "rejected %d" % rejected)
    with harness.connect(d.addr) as s:
        harness.get_id(s)
    t.check(True, "clients from 127.0.0.1 are still served")
    rc, _ = d.stop()
    t.check(rc == 0, "allow daemon stops with 0", "got %r" % rc)


def test_max_connections(t):
    d = harness.Daemon(t, workers=1, max_connections=4, why={
        "workers": "one worker holds all of max_connections (each holds "
                   "its share), so the fifth connection is the refused one",
        "max_connections": "the test is about the limit: four fit, the "
                           "fifth is refused"}).start()
    held = [harness.connect(d.addr) for _ in range(4)]
    for s in held:
        harness.get_id(s)
    t.check(True, "max_connections 4: four connections served")
    closed_at_accept(t, d.addr, "max_connections 4: the fifth connection")
    rejected = sum(w.rejected for w in d.state().workers)
    t.check(rejected >= 1, "the fifth connection is counted as rejected",
            "rejected %d" % rejected)
    for s in held:
        harness.get_id(s)
    t.check(True, "the four connections go on being served")
    held.pop().close()

    def served():
        try:
            with harness.connect(d.addr, timeout=2) as s:
                harness.get_id(s)
            return True
        except (OSError, EOFError):
            return False
    t.check(harness.poll(served, 5, 0.05),
            "after one closed, a new connection is served")
    for s in held:
        s.close()
    rc, _ = d.stop()
    t.check(rc == 0, "max_connections daemon stops with 0", "got %r" % rc)


def test_idle_timeout(t):
    d = harness.Daemon(t, idle_timeout_s=1, why="the test is about the "
                       "idle timeout: one second to wait for").start()
    # The idle client's last request comes just before a second of the
    # wall clock ends: a timeout counted in whole seconds of the clock
    # would close it well before it was idle for 1 s.  Both connections
    # open after the wait, which would otherwise idle them out already.
    harness.poll(lambda: time.time() % 1.0 >= 0.97, 2, 0.001)
    idle = harness.connect(d.addr)
    busy = harness.connect(d.addr)
    last = harness.get_id(busy)
    harness.get_id(idle)
    t0 = time.monotonic()
    busy_ok = True
    idle_closed_at = None
    idle.settimeout(0.25)
    while time.monotonic() - t0 < 4.0:
        try:
            if idle_closed_at is None and idle.recv(16) == b"":
                idle_closed_at = time.monotonic() - t0
        except socket.timeout:
            pass
        except OSError:
            idle_closed_at = time.monotonic() - t0
        try:
            x = harness.get_id(busy)
            busy_ok = busy_ok and x > last
            last = x
        except (OSError, EOFError):
            busy_ok = False
            break
    t.check(idle_closed_at is not None and idle_closed_at <= 3.0,
            "idle_timeout_s 1: an idle connection is closed (after %s s)"
            % ("%.2f" % idle_closed_at if idle_closed_at else "-"))
    t.check(idle_closed_at is None or idle_closed_at >= 0.95,
            "idle_timeout_s 1: ...but not before it was idle for 1 s",
            "closed %.3f s after its last request" % (idle_closed_at or 0))
    t.check(busy_ok, "idle_timeout_s 1: a connection with a request every "
            "0.25 s stays open for 4 s")
    idle.close()
    busy.close()
    rc, _ = d.stop()
    t.check(rc == 0, "idle-timeout daemon stops with 0", "got %r" % rc)


def test(t):
    test_listen(t)
    test_allow(t)
    test_max_connections(t)
    test_idle_timeout(t)


harness.run(test, control=True)
