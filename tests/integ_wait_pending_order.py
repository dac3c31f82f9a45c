#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
integ_wait_pending_order.py - a CMD 0 has to wait for the clock in
the very pass whose replies the socket cannot take any more (the client
does not read): the connection is on the wait list AND has output pending.
When the wait timer resumes it a second later, the client still is not
reading.  The replies served then must queue behind the pending ones:
every reply exactly once, in request order.

Sibling of the "waiting CMD 0 pushed on the wait list twice" fix: wait_cb()
calls conn_resume() without looking at c->out; feed() then serves the held
frames and send_out(c, w->out, n) writes them to the socket directly and
replaces c->out, so the replies that were pending are lost (and leaked).

How the wait is put into the pass that fills the socket: a first connection
sends [CMD 1 x 600][INFO x 20000] without reading and we note how many
requests genid served before the socket was full (the last pass served is
the one whose replies went pending).  Then the test connection sends the
same stream, cut a little before that point, followed by CMD 0 frames; its
own CMD 1 frames have used up the bucket's second (max_ahead_s 0), so the
first CMD 0 waits in the pass that fills the socket.
"""

import os
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "integration"))
import harness  # noqa: E402

MANY = 600      # CMD 1 n=255 frames: 153,000 IDs, more than 2 s of a bucket
INFOS = 20000   # about 4 MB of INFO replies: more than the socket holds
ONES = 4000     # CMD 0 frames after the cut
OFFSETS = (5, 20, 60, 150, 300)


def requests(d):
    return sum(b.requests for b in d.state().buckets)


def waits(d):
    return sum(b.waits for b in d.state().buckets)


def stalled_count(d, base, deadline=5):
    """Requests served once the count stops moving for 0.3 s."""
    last, same = -1, 0
    def steady():
        nonlocal last, same
        n = requests(d) - base
        same = same + 1 if n == last else 0
        last = n
        return same >= 30
    harness.poll(steady, deadline, 0.01)
    return last


def second_start(t):
    """Polls the clock until a wall-clock second has just begun, so that
    the CMD 1 frames below take exactly one second's 65,536 IDs."""
    t.require(harness.poll(lambda: 0.01 < time.time() % 1 < 0.15, 2, 0.002),
              "the clock turns a second")


def open_conn(d):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(10)
    s.connect(("127.0.0.1", d.port))
    return s


def send_bg(s, data):
    th = threading.Thread(target=lambda: s.sendall(data), daemon=True)
    th.start()
    return th


def read_replies(t, s, ninfo, label):
    """Reads MANY CMD 1 replies, ninfo INFO replies and ONES IDs; returns
    the IDs of the CMD 1 and CMD 0 replies in order, or None when the
    stream is short or malformed."""
    s.settimeout(4)
    ids = []
    try:
        for _ in range(MANY):
            m = harness.recv_exact(s, 1)[0]
            data = harness.recv_exact(s, 8 * m)
            ids += [int.from_bytes(data[i:i + 8], "big")
                    for i in range(0, len(data), 8)]
        for i in range(ninfo):
            size = int.from_bytes(harness.recv_exact(s, 2), "big")
            body = harness.recv_exact(s, size)
            if not body.startswith(b"{") or not body.endswith(b"}"):
                t.check(False, "%s: INFO reply %d is whole (not cut short"
                        " by IDs served after the wait)" % (label, i),
                        repr(body[:40]))
                return None
        data = harness.recv_exact(s, 8 * ONES)
        ids += [int.from_bytes(data[i:i + 8], "big")
                for i in range(0, len(data), 8)]
    except (socket.timeout, OSError, harness.Failure, EOFError) as e:
        t.check(False, "%s: every reply arrives" % label,
                "%s: %s" % (type(e).__name__, e))
        return None
    return ids


def test(t):
    d = harness.Daemon(t, max_ahead_s=0, why="no borrowing ahead of the "
                       "clock: the connection's own CMD 1 frames use up "
                       "its bucket's second, so its CMD 0 waits").start()
    workers = d.wait_workers()
    head = b"\x01\xff" * MANY
    # Calibration: where does genid stop serving this stream when the
    # client reads nothing?
    base = requests(d)
    c0 = open_conn(d)
    second_start(t)
    send_bg(c0, head + b"\x02\x00" * INFOS)
    served = stalled_count(d, base)
    c0.close()
    t.require(MANY + 1000 < served < MANY + INFOS,
              "calibration: genid stalls inside the INFO frames",
              "served %d" % served)
    t.note("calibration: %d requests served before the socket was full"
           % served)
    for rnd, off in enumerate(OFFSETS):
        ninfo = served - MANY - off
        label = "round %d (cut %d before the stall)" % (rnd, off)
        w0 = waits(d)
        base = requests(d)
        s = open_conn(d)
        second_start(t)
        send_bg(s, head + b"\x02\x00" * ninfo + b"\x00\x00" * ONES)
        total = MANY + ninfo + ONES
        # Not reading: the first CMD 0 waits, the wait timer resumes it a
        # second later and the rest is served.
        done = harness.poll(lambda: requests(d) - base >= total, 5, 0.01)
        waited = waits(d) > w0
        t.note("%s: waited %s, served %d of %d"
               % (label, waited, requests(d) - base, total))
        if not done:
            # The socket filled before the CMD 0 frames: not this cut.
            s.close()
            continue
        ids = read_replies(t, s, ninfo, label)
        s.close()
        if ids is None:
            break
        bad = harness.first_not_increasing(ids)
        t.check(bad == -1, "%s: the IDs strictly increase" % label,
                "%s" % (bad,))
        t.check(len(ids) == len(set(ids)), "%s: no ID twice" % label)
    t.check(d.workers_now() == workers, "the worker survived",
            "was %s, now %s" % (workers, d.workers_now()))
    rc, _ = d.stop()
    t.check(rc == 0, "SIGTERM: exit 0", "got %r" % rc)


harness.run(test, control=True, timeout=40)
