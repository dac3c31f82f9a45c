#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
integ_bad_input.py - clients that misbehave:
  - unknown commands: genid closes that connection (no reply) and counts
    the event (bad_requests in the state file) or logs it;
  - a half frame then close; frames split across writes;
  - 1 MB of random bytes (three clients);
  - clients that pipeline CMD 1 n=255 without reading their replies: one
    with 200,000 requests, eight more with 20,000 each, with small receive
    buffers so that the kernel cannot absorb the replies for genid, and
    one that tries to send 48 MB of them: genid must stop reading it (it
    takes less than half).
In every case the workers survive (same pids), other connections keep
being served, and while the non-reading clients are connected each
worker's VmRSS stays under 64 MB and the workers do not spin.
"""

import os
import random
import re
import select
import socket
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "integration"))
import harness  # noqa: E402

RSS_LIMIT_KB = 64 * 1024
FLOOD_FRAMES = 24 * 1000 * 1000


class Bystanders:
    """Well-behaved connections opened first; each must keep working."""

    def __init__(self, t, addr, n=4):
        self.t = t
        self.addr = addr
        self.socks = [harness.connect(addr, timeout=10) for _ in range(n)]
        self.last = [0] * n

    def check(self, label, limit=1.0):
        bad = []
        slow = 0.0
        for i, s in enumerate(self.socks):
            t0 = time.monotonic()
            try:
                ids = harness.get_ids(s, 1)
                inf = harness.info(s)
            except (OSError, EOFError, ValueError) as e:
                bad.append("connection %d: %s" % (i, e))
                continue
            slow = max(slow, time.monotonic() - t0)
            if ids and ids[0] <= self.last[i]:
                bad.append("connection %d: %#x after %#x" % (
                    i, ids[0], self.last[i]))
            if ids:
                self.last[i] = ids[0]
            if not isinstance(inf, dict):
                bad.append("connection %d: INFO %r" % (i, inf))
        try:
            with harness.connect(self.addr, timeout=10) as s:
                t0 = time.monotonic()
                # A bucket a non-reading client used up may give fewer.
                harness.get_ids(s, 255)
                harness.info(s)
                slow = max(slow, time.monotonic() - t0)
        except (OSError, EOFError, ValueError) as e:
            bad.append("new connection: %s" % e)
        self.t.check(not bad and slow < limit,
                     "%s: other connections are served (slowest %.3f s)"
                     % (label, slow), "; ".join(bad))

    def close(self):
        for s in self.socks:
            s.close()


def cpu_ticks(pid):
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            data = f.read()
    except OSError:
        return 0
    rest = data[data.rfind(b")") + 2:].split()
    return int(rest[11]) + int(rest[12])


def pipeline_without_reading(addr, nreq, rcvbuf=16384, stall=2.0):
    """Connects with a small receive buffer and sends nreq CMD 1 n=255
    frames without reading, until all are sent or none could be for stall
    seconds; returns (socket, bytes sent)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(10)
    s.connect(addr)
    s.setblocking(False)
    data = memoryview(b"\x01\xff" * nreq)
    sent = 0
    last = time.monotonic()
    while sent < len(data) and time.monotonic() - last < stall:
        _, w, _ = select.select([], [s], [], 0.1)
        if not w:
            continue
        try:
            n = s.send(data[sent:sent + 65536])
        except BlockingIOError:
            continue
        if n:
            sent += n
            last = time.monotonic()
    return s, sent


def test(t):
    d = harness.serve(t)
    local = isinstance(d, harness.Daemon)
    workers = d.wait_workers() if local else []
    if local:
        t.require(workers, "%d workers run" % d.workers,
                  "got %s" % d.workers_now())
        master = d.master_pid()
        bad_before = d.state().bad_requests()
    by = Bystanders(t, d.addr)
    by.check("at start")

    # Unknown commands.
    nbad = 0
    for cmd in (3, 7, 0x42, 0x80, 0xFF):
        with harness.connect(d.addr) as s:
            s.sendall(bytes((cmd, 1)))
            closed, got = harness.wait_closed(s)
        nbad += 1
        t.check(closed and got == b"", "CMD %d: connection closed without "
                "a reply" % cmd, "closed %s, got %r" % (closed, got[:16]))
    with harness.connect(d.addr) as s:
        s.sendall(b"\x00\x00\x01\x02\x09\x00\x00\x00")
        closed, got = harness.wait_closed(s)
    nbad += 1
    t.check(closed and len(got) in (0, 8, 8 + 17),
            "valid frames then CMD 9: connection closed, at most the "
            "replies to the frames before it (%d bytes)" % len(got),
            "closed %s, %d bytes" % (closed, len(got)))
    by.check("after unknown commands")
    if local:
        seen = harness.poll(lambda: d.state().bad_requests() - bad_before
                            >= nbad, 5)
        logged = [line for line in d.output().splitlines()
                  if re.search(r"unknown command|bad request|invalid "
                               r"command", line, re.I)]
        t.check(seen or logged, "bad requests are counted or logged",
                "bad_requests %d -> %d, %d log lines" % (
                    bad_before, d.state().bad_requests(), len(logged)))
        t.note("bad_requests %d -> %d; log: %s" % (
            bad_before, d.state().bad_requests(),
            logged[:2] if logged else "nothing"))

    # Half frames.
    for frag in (b"\x00", b"\x01", b"\x02"):
        s = harness.connect(d.addr)
        s.sendall(frag)
        s.close()
    by.check("after half frames and close")
    with harness.connect(d.addr) as s:
        s.sendall(b"\x01")
        time.sleep(0.02)  # two segments, not synchronisation
        s.sendall(b"\x05\x00")
        time.sleep(0.02)
        s.sendall(b"\x00\x01")
        time.sleep(0.02)
        s.sendall(b"\xff")
        m = harness.recv_exact(s, 1)[0]
        five = harness.recv_exact(s, 8 * m)
        single = harness.recv_exact(s, 8)
        m2 = harness.recv_exact(s, 1)[0]
        rest = harness.recv_exact(s, 8 * m2)
    t.check(m == 5 and m2 == 255 and len(five) == 40 and len(single) == 8
            and len(rest) == 8 * 255,
            "frames split across writes are put together",
            "m %d, m2 %d" % (m, m2))

    # Random bytes.
    for seed in (1, 2, 3):
        blob = random.Random(seed).randbytes(1 << 20)
        s = harness.connect(d.addr)
        try:
            s.sendall(blob)
        except (BrokenPipeError, ConnectionResetError):
            pass
        closed, got = harness.wait_closed(s, 10)
        s.close()
        t.check(closed, "1 MB of random bytes (seed %d): connection closed "
                "(%d reply bytes first)" % (seed, len(got)))
    by.check("after random bytes")

    # Clients that do not read.
    t0 = time.monotonic()
    big, sent = pipeline_without_reading(d.addr, 200000)
    t.note("non-reading client: %d of %d request bytes accepted in %.2f s"
           % (sent, 400000, time.monotonic() - t0))
    others = [pipeline_without_reading(d.addr, 20000) for _ in range(8)]
    # One more sends up to 48 MB of requests: genid must stop reading it
    # once its replies back up, so the kernel buffers (a few MB) fill and
    # the sending stalls.  A genid that kept reading would take it all.
    t0 = time.monotonic()
    flood, fsent = pipeline_without_reading(d.addr, FLOOD_FRAMES, stall=1.0)
    t.note("flooding client: %.1f of %.1f MB of requests accepted in %.2f s"
           % (fsent / 1e6, FLOOD_FRAMES * 2 / 1e6, time.monotonic() - t0))
    t.check(fsent < FLOOD_FRAMES, "genid stops reading a client that does "
            "not read its replies (%.1f MB of %.0f MB taken)" % (
                fsent / 1e6, FLOOD_FRAMES * 2 / 1e6))
    others.append((flood, fsent))
    by.check("while 10 clients do not read")
    if local:
        peak = {}
        ticks0 = {p: cpu_ticks(p) for p in workers}
        w0 = time.monotonic()
        end = w0 + 2.0
        while time.monotonic() < end:
            for p in workers:
                r = harness.rss_kb(p) or 0
                peak[p] = max(peak.get(p, 0), r)
            time.sleep(0.05)
        window = time.monotonic() - w0
        ticks = {p: cpu_ticks(p) - ticks0[p] for p in workers}
        hz = os.sysconf("SC_CLK_TCK")
        t.note("worker VmRSS peak over %.1f s: %s" % (window, ", ".join(
            "%d: %.1f MB" % (p, peak[p] / 1024.0) for p in workers)))
        t.check(all(0 < peak[p] < RSS_LIMIT_KB for p in workers),
                "each worker's VmRSS stays under 64 MB while 10 clients "
                "do not read")
        busy = max(ticks.values()) / float(hz) / window
        t.check(busy < 0.5, "workers do not spin on clients that do not "
                "read (busiest %.0f%% CPU)" % (busy * 100))
        by.check("after the window")
    # Read some of the big client's replies: well-formed, increasing.
    big.setblocking(True)
    big.settimeout(10)
    prev = 0
    ok = True
    total = 0
    shorts = 0
    try:
        for _ in range(2000):
            ids = harness.read_ids_reply(big)
            total += len(ids)
            if len(ids) < 255:
                shorts += 1
            if ids and (ids[0] <= prev or
                        harness.first_not_increasing(ids) >= 0):
                ok = False
            if ids:
                prev = ids[-1]
    except (OSError, EOFError) as e:
        ok = False
        t.note("reading the non-reading client's replies: %s" % e)
    t.check(ok, "the non-reading client's first 2000 replies are "
            "well-formed and increasing (%d IDs, %d short)" % (total,
                                                               shorts))
    # Closing with replies unread makes genid's writes fail (EPIPE or
    # ECONNRESET); the workers must take it.
    big.close()
    for s, _ in others:
        s.close()
    by.check("after the non-reading clients closed")
    by.close()
    if local:
        t.check(d.workers_now() == workers and d.master_pid() == master,
                "the same master and workers run throughout",
                "workers %s, now %s" % (workers, d.workers_now()))
        st = d.state()
        restarts = [w.restarts for w in st.workers[:d.workers]]
        t.check(not any(restarts), "no worker restarted",
                "restarts %s" % restarts)
        rc, _ = d.stop()
        t.check(rc == 0, "SIGTERM at the end: exit 0", "got %r" % rc)


harness.run(test)
