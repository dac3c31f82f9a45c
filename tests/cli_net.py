#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""genidctl info and get against a fake genid of genid(7) (the wire frames
checked), short replies, a connection that breaks midway, IPv6, and the
errors: connection refused, timeouts, a closed connection, malformed
replies, IDs that go down."""

import json
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "integration"))
from cli_lib import (EX_NOHOST, EX_PROTOCOL, EX_UNAVAILABLE, EX_USAGE,  # noqa
                     GENID, FakeGenid, check, ctl, decode, equal, finish,
                     free_port, require_genidctl, tempdir)
from harness import Daemon, metrics_port  # noqa: E402


def ints(out):
    return [int(x) for x in out.split()]


def test_info():
    f = FakeGenid()
    try:
        r = ctl("info", f.addr())
        equal(r.rc, 0, "info: exit 0")
        rows = dict(line.split(None, 1) for line in r.out.splitlines())
        equal((rows["zone"], rows["dc"], rows["machine"], rows["bucket"]),
              ("3", "2", "5", "17"), "info: one key a line")
        equal(rows["epoch"], "0 (1970-01-01T00:00:00Z)", "info: epoch in ISO")
        equal(rows["now"], "1795000000 (2026-11-18T11:06:40Z)",
              "info: now in ISO")
        equal(list(rows)[:3], ["version", "zone", "dc"],
              "info: the server's order")
        equal(f.frames, [(2, 0)], "info: sends CMD 2")
        r = ctl("info", "--json", f.addr())
        equal(json.loads(r.out), f.info, "info --json: the JSON as sent")
    finally:
        f.close()

    f = FakeGenid(info=b"not json")
    try:
        r = ctl("info", f.addr())
        check(r.rc == EX_PROTOCOL and "not a JSON object" in r.err,
              "info: malformed INFO: exit 76: %r" % r)
    finally:
        f.close()


def test_get():
    f = FakeGenid()
    try:
        r = ctl("get", f.addr())
        equal((r.rc, ints(r.out)), (0, [f.next - 1]), "get: one ID")
        # libgenid asks INFO on a new connection: is the node serving?
        equal(f.frames, [(2, 0), (0, 0)], "get: INFO, then one CMD 0")

        f.frames.clear()
        start = f.next
        r = ctl("get", "-n", 1000, f.addr())
        equal(ints(r.out), list(range(start, start + 1000)),
              "get -n 1000: the IDs in order")
        equal(f.frames, [(2, 0)] + [(1, 255)] * 3 + [(1, 235)],
              "get -n 1000: INFO, then CMD 1 in chunks of 255")

        r = ctl("get", "-n", 2, "--decode", f.addr())
        rows = r.out.splitlines()
        check(len(rows) == 2 and "zone 3 " in rows[0] and
              "bucket 17" in rows[0] and "2026-11-18T11:06:40Z" in rows[0],
              "get --decode: %r" % r.out)
    finally:
        f.close()

    # --decode takes the epoch from INFO.
    f = FakeGenid(epoch=1767225600)
    try:
        r = ctl("get", "--decode", f.addr())
        check("2026-11-18T11:06:40Z" in r.out,
              "get --decode: the server's epoch: %r" % r.out)
        equal(f.frames, [(2, 0), (0, 0)], "get --decode: INFO, then CMD 0")
    finally:
        f.close()

    # Short and empty replies (an exhausted bucket): asked again; after a
    # window of empty replies, one CMD 0 waits for the clock in the server.
    for short in (100, 0):
        f = FakeGenid(short=short)
        try:
            start = f.next
            try:
                r = ctl("get", "-n", 3000, f.addr(), timeout=30)
            except subprocess.TimeoutExpired:
                check(False, "get with short replies (%d): hangs" % short)
                continue
            equal((r.rc, ints(r.out)), (0, list(range(start, start + 3000))),
                  "get with short replies (%d): all IDs, once" % short)
            check(all(n <= 255 for c, n in f.frames),
                  "get: no frame asks for more than 255")
            if short == 0:
                check((0, 0) in f.frames,
                      "get: a CMD 0 after a window of empty replies")
        finally:
            f.close()

    # The first ID is good; the second is below it and is not handed out.
    f = FakeGenid(broken=True)
    try:
        start = f.next
        r = ctl("get", "-n", 3, f.addr())
        check(r.rc == EX_PROTOCOL and "is not above the one before" in r.err,
              "get: IDs that go down: exit 76: %r" % r)
        equal(ints(r.out), [start],
              "get: the IDs before the one that goes down are printed, no"
              " later one")
    finally:
        f.close()

    # The server closes the connection after the first 32 requests and 4
    # more: get connects again and fetches the rest there.
    f = FakeGenid(close_after=36 * 255)
    try:
        start = f.next
        r = ctl("get", "-n", 10000, f.addr())
        equal((r.rc, ints(r.out)), (0, list(range(start, start + 10000))),
              "get: a connection closed midway: all IDs, once, in order")
        equal(len(f.conns), 2, "get: connects a second time")
    finally:
        f.close()


def test_ipv6():
    try:
        f = FakeGenid(family=socket.AF_INET6)
    except OSError:
        print("skip: no IPv6 loopback")
        return
    try:
        r = ctl("get", "-n", 5, "[::1]:%d" % f.port)
        equal((r.rc, len(ints(r.out))), (0, 5), "get [::1]:port")
    finally:
        f.close()
    port = free_port()
    r = ctl("info", "[::1]:%d" % port)
    if r.rc == EX_UNAVAILABLE:
        equal(r.err, "genidctl: connect [::1]:%d: Connection refused\n"
              % port, "info [::1]: refused, address in brackets")


def test_errors():
    port = free_port()
    r = ctl("info", "127.0.0.1:%d" % port)
    equal((r.rc, r.err), (EX_UNAVAILABLE, "genidctl: connect 127.0.0.1:%d:"
                          " Connection refused\n" % port),
          "info: connection refused")
    r = ctl("get", "-n", 10, "127.0.0.1:%d" % port)
    equal(r.rc, EX_UNAVAILABLE, "get: connection refused: exit 69")

    # A server that accepts and never answers: the read times out.
    f = FakeGenid(silent=True)
    try:
        t = time.monotonic()
        r = ctl("info", "--timeout", 300, f.addr())
        took = time.monotonic() - t
        equal((r.rc, r.err), (EX_UNAVAILABLE,
                              "genidctl: read %s: timed out after 300 ms\n"
                              % f.addr()), "info: read timeout")
        check(took < 10, "info: the timeout is honoured (%.1fs)" % took)
        r = ctl("get", "-T", 200, "-n", 600, f.addr())
        check(r.rc == EX_UNAVAILABLE and "timed out after 200 ms" in r.err,
              "get: read timeout: %r" % r)
    finally:
        f.close()

    # A server that closes at once (allow list, connection limit).
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(4)
    addr = "127.0.0.1:%d" % s.getsockname()[1]
    try:
        import threading

        def close_all():
            for _ in range(2):
                c, _ = s.accept()
                c.close()

        th = threading.Thread(target=close_all, daemon=True)
        th.start()
        hint = "by the server (allow list or connection limit? or not a genid port (metrics_listen?))\n"
        r = ctl("info", addr)
        check(r.rc == EX_UNAVAILABLE and r.err.endswith(hint) and
              addr in r.err, "info: closed by the server: %r" % r)
        r = ctl("get", addr)
        check(r.rc == EX_UNAVAILABLE and r.err.endswith(hint) and
              addr in r.err, "get: closed by the server: %r" % r)
    finally:
        s.close()

    # A label over 63 bytes fails in the resolver before any query leaves
    # the host: the test asks no name server.
    host = "x" * 64 + ".invalid"
    r = ctl("info", host)
    check(r.rc == EX_NOHOST and ("resolve %s:3778: " % host) in r.err,
          "info: unknown host: exit 68: %r" % r)
    for bad in ("127.0.0.1:99999", "127.0.0.1:", "127.0.0.1:0", "[::1",
                ":3778", "127.0.0.1:port"):
        r = ctl("info", bad)
        equal(r.rc, EX_USAGE, "info %r: exit 64" % bad)
    r = ctl("get", "-n", 0, "127.0.0.1")
    equal(r.rc, EX_USAGE, "get -n 0: exit 64")
    r = ctl("info")
    check(r.rc == EX_USAGE and "usage: genidctl info" in r.err,
          "info without address: usage")


def test_metrics_port():
    """info and get pointed at genid's metrics port by mistake: the HTTP
    server answers the frame at once and both say what they reached, with
    the default timeout (no race with the server's wait for a request)."""
    if not os.access(GENID, os.X_OK):
        print("skip: %s is not built; no metrics port test" % GENID)
        return
    with tempdir() as d:
        g = Daemon(None, dir=d, metrics_listen="127.0.0.1:0",
                   why="the test points genidctl at the metrics port,"
                   " which the shipped configuration does not serve")
        try:
            g.start()
            addr = "127.0.0.1:%d" % metrics_port(g)
            for verb in ("info", "get"):
                r = ctl(verb, addr)
                check(r.rc == EX_PROTOCOL and r.err == (
                    "genidctl: read %s: an HTTP server answered (\"HTTP/1.0"
                    " 400 Bad Request\"), not genid: this is likely a"
                    " metrics_listen port; give the address of genid's"
                    " \"listen\" instead\n" % addr),
                    "%s on the metrics port: exit 76, an HTTP server: %r"
                    % (verb, r))
        finally:
            g.stop()


def main():
    require_genidctl()
    test_info()
    test_get()
    test_ipv6()
    test_errors()
    test_metrics_port()
    finish()


if __name__ == "__main__":
    main()
