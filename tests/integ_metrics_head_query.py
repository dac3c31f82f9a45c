#!/usr/bin/env python3
"""
integ_metrics_head_query.py - review finding (minor): scrape.c
respond() accepts "GET /metrics?..." but matches HEAD only against
"/metrics " (req + 5), so "HEAD /metrics?x=1" is a 404 while the GET of the
same URL is a 200; HEAD must give the headers of the GET.
"""

import os
import re
import socket
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "integration"))
import harness  # noqa: E402

METRICS_RE = re.compile(r"metrics on 127\.0\.0\.1:(\d+)")


def status(port, request):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(request)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return data.split(b"\r\n", 1)[0].decode()


def test(t):
    d = harness.Daemon(t, workers=1, metrics_listen="127.0.0.1:0").start()
    port = int(METRICS_RE.search(d.output()).group(1))
    get = status(port, b"GET /metrics?x=1 HTTP/1.0\r\n\r\n")
    head = status(port, b"HEAD /metrics?x=1 HTTP/1.0\r\n\r\n")
    t.check(get == "HTTP/1.0 200 OK", "GET /metrics?x=1: 200", get)
    t.check(head == get, "HEAD /metrics?x=1 has the status of the GET",
            "GET %r, HEAD %r" % (get, head))
    d.stop()


harness.run(test, control=True)
