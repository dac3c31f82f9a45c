#!/usr/bin/env python3
"""
integ_metrics_head_query.py - review finding (minor): scrape.c
respond() accepts "GET /metrics?..." but matches HEAD only against
"/metrics " (req + 5), so "HEAD /metrics?x=1" is a 404 while the GET of the
same URL is a 200; HEAD must give the headers of the GET.
"""

import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "integration"))
import harness  # noqa: E402



def status(port, request):
    """The status line of the reply to a raw request."""
    data, _ = harness.http_exchange(port, request)
    return data.split(b"\r\n", 1)[0].decode()


def test(t):
    d = harness.Daemon(t, workers=1, metrics_listen="127.0.0.1:0").start()
    port = harness.metrics_port(d)
    get = status(port, b"GET /metrics?x=1 HTTP/1.0\r\n\r\n")
    head = status(port, b"HEAD /metrics?x=1 HTTP/1.0\r\n\r\n")
    t.check(get == "HTTP/1.0 200 OK", "GET /metrics?x=1: 200", get)
    t.check(head == get, "HEAD /metrics?x=1 has the status of the GET",
            "GET %r, HEAD %r" % (get, head))
    d.stop()


harness.run(test, control=True)
