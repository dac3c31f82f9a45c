#!/usr/bin/env python3
"""
integ_metrics_big_request.py - review finding: a GET /metrics whose
request head is longer than scrape.c's 2 KB buffer (e.g. a scraper sending
an Authorization: Bearer token) is answered, but the master closes the
socket with the rest of the request unread, so the kernel sends a RST and
the client gets ECONNRESET instead of the exposition.  The same happens to
any bytes a client sends after the blank line (a body, a pipelined request).

Expected: the full 200 reply (or a clean 431/400), never a reset.
"""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "integration"))
import harness  # noqa: E402



def test(t):
    d = harness.Daemon(t, workers=1, metrics_listen="127.0.0.1:0").start()
    port = harness.metrics_port(d)

    small = (b"GET /metrics HTTP/1.1\r\nHost: x\r\n"
             b"Authorization: Bearer " + b"a" * 100 + b"\r\n\r\n")
    data, err = harness.http_exchange(port, small)
    t.check(err is None and data.startswith(b"HTTP/1.0 200"),
            "a small request gets 200", "%r %r" % (data[:40], err))

    # About what a Kubernetes service-account token adds to a scrape.
    big = (b"GET /metrics HTTP/1.1\r\nHost: x\r\n"
           b"Authorization: Bearer " + b"a" * 2100 + b"\r\n\r\n")
    resets = 0
    for _ in range(5):
        data, err = harness.http_exchange(port, big)
        if err is not None or not data.startswith(b"HTTP/1.0 "):
            resets += 1
    t.check(resets == 0, "a request head over 2 KB gets a reply, not a "
            "connection reset", "%d of 5 were cut: %r" % (resets, err))

    # A request with a body: the body is never read, then close() resets.
    body = b"x" * 4096
    data, err = harness.http_exchange(port, b"POST /metrics HTTP/1.0\r\nContent-Length: "
                      b"4096\r\n\r\n" + body)
    t.check(err is None and data.startswith(b"HTTP/1.0 405"),
            "a POST with a body gets its 405, not a reset",
            "%r %r" % (data[:40], err))
    d.stop()


harness.run(test, control=True)
