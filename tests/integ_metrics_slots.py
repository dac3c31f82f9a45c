#!/usr/bin/env python3
"""
integ_metrics_slots.py - review findings on scrape.c's connection
limit (SCRAPE_MAX_CONNS 16, SCRAPE_TIMEOUT_S 5):

1. 16 connections that send nothing hold every slot for 5 s each; a real
   scrape meanwhile is closed at accept (the scraper sees a reset), and a
   client that reconnects every 5 s keeps /metrics down for good.
2. Every connection turned away writes one warning line, without any rate
   limit: a local connect loop fills the log (SPEC 2 rate-limits the log of
   bad requests for this reason).

Expected: a scrape gets its reply while idle connections are open (e.g. a
short timeout for the request head, or close the oldest idle connection),
and the "scrapes at once" warning is rate-limited.
"""

import os
import socket
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "integration"))
import harness  # noqa: E402



def scrape(port):
    """The reply to GET /metrics, or what cut it short."""
    data, err = harness.http_exchange(port, b"GET /metrics HTTP/1.0\r\n\r\n")
    return data if err is None else repr(err).encode()


def test(t):
    d = harness.Daemon(t, workers=1, metrics_listen="127.0.0.1:0").start()
    port = harness.metrics_port(d)

    master = d.master_pid()
    fds = len(os.listdir("/proc/%d/fd" % master))
    before = d.output().count("connections at once")
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(16)]
    try:
        t.require(harness.poll(lambda: len(os.listdir(
            "/proc/%d/fd" % master)) >= fds + 16, 5),
            "the master accepted the 16 idle connections")
        got = scrape(port)
        t.check(got.startswith(b"HTTP/1.0 200"),
                "a scrape is served while 16 idle connections are open",
                got[:60])

        for _ in range(2000):
            try:
                socket.create_connection(("127.0.0.1", port)).close()
            except OSError:
                pass
        harness.poll(lambda: d.output().count("connections at once") >
                     before, 3)
        lines = d.output().count("connections at once") - before
        t.check(0 < lines < 50, "turning connections away is logged "
                "rate-limited", "%d warning lines for 2000 connections"
                % lines)
    finally:
        for s in idle:
            s.close()
    d.stop()


harness.run(test, control=True)
