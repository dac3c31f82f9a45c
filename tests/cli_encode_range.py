#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""genidctl encode and range: the example, encode/decode round trips,
range bounds checked against a reference over sample IDs (the node filter
included), --json, and every error with its exit code."""

import json
import os
import random
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cli_lib import (EX_DATAERR, EX_USAGE, check, ctl, decode, encode,  # noqa
                     equal, finish, require_genidctl)

EPOCH = 1767225600  # 2026-01-01T00:00:00Z


def encode_args(ts, zone, dc, machine, bucket, counter, epoch=0):
    return ["encode", "--time", str(epoch + ts), "--zone", zone, "--dc", dc,
            "--machine", machine, "--bucket", bucket, "--counter", counter,
            "--epoch", epoch]


def test_encode(rnd):
    r = ctl("encode", "--time", "2026-11-18T11:06:40Z", "--zone", 3, "--dc",
            2, "--machine", 5, "--bucket", 17, "--counter", 4242)
    equal((r.rc, r.out), (0, "7709466296767811730\n"), "encode: the example")
    r = ctl("encode", "-t", "1795000000", "-z", 3, "-d", 2, "-m", 5, "-b", 17,
            "-n", 4242, "--hex")
    equal(r.out, "0x6afd86c01ab11092\n", "encode --hex, short options")
    r = ctl("encode", "-t", "1795000000", "-z", 3, "-d", 2, "-m", 5)
    equal(r.out, "%d\n" % encode(1795000000, 3, 2, 5, 0, 0),
          "encode: bucket and counter default to 0")

    # Round trips: encode, then decode --json gives the same fields.
    cases = [(0, 0, 0, 0, 0, 0), ((1 << 32) - 1, 31, 7, 7, 31, 65535)]
    cases += [(rnd.randrange(1 << 32), rnd.randrange(32), rnd.randrange(8),
               rnd.randrange(8), rnd.randrange(32), rnd.randrange(65536))
              for _ in range(20)]
    for epoch in (0, EPOCH):
        for f in cases:
            r = ctl(*encode_args(*f, epoch=epoch))
            if not check(r.rc == 0, "encode %r epoch %d: %r" % (f, epoch, r)):
                continue
            i = int(r.out)
            equal(decode(i), f, "encode %r epoch %d: reference decode"
                  % (f, epoch))
            d = json.loads(ctl("decode", "--json", "--epoch", epoch,
                               i).out)
            equal((d["ts"], d["zone"], d["dc"], d["machine"], d["bucket"],
                   d["counter"], d["unix"]), f + (epoch + f[0],),
                  "encode %r epoch %d: decode --json round trip"
                  % (f, epoch))

    # Errors: out of range fields (64), times the ID cannot hold (65).
    base = ["encode", "--time", "1795000000", "--zone", 3, "--dc", 2,
            "--machine", 5]
    for opt, v, rng in (("--zone", 32, "0..31"), ("--dc", 8, "0..7"),
                        ("--machine", 8, "0..7"), ("--bucket", 32, "0..31"),
                        ("--counter", 65536, "0..65535")):
        r = ctl(*(base + [opt, v]))
        equal(r.rc, EX_USAGE, "encode %s %s: exit 64" % (opt, v))
        check("%s %s: out of range %s" % (opt, v, rng) in r.err,
              "encode %s %s: reason: %r" % (opt, v, r.err))
    r = ctl(*(base + ["--zone", "three"]))
    check(r.rc == EX_USAGE and '--zone "three": not a decimal number'
          in r.err, "encode --zone three: %r" % r)
    r = ctl("encode", "--time", "2025-12-31T23:59:59Z", "--epoch", EPOCH,
            "-z", 0, "-d", 0, "-m", 0)
    check(r.rc == EX_DATAERR and "before the epoch" in r.err,
          "encode: a time before the epoch: %r" % r)
    r = ctl("encode", "--time", str(EPOCH + (1 << 32)), "--epoch", EPOCH,
            "-z", 0, "-d", 0, "-m", 0)
    check(r.rc == EX_DATAERR and "the last second" in r.err,
          "encode: a time after epoch + 2^32 - 1: %r" % r)
    r = ctl("encode", "--time", str(EPOCH + (1 << 32) - 1), "--epoch",
            EPOCH, "-z", 0, "-d", 0, "-m", 0)
    equal(r.out, "%d\n" % (((1 << 32) - 1) << 32),
          "encode: the last second is allowed")
    r = ctl("encode", "--time", "tomorrow", "-z", 0, "-d", 0, "-m", 0)
    equal(r.rc, EX_USAGE, "encode: an unreadable time: exit 64")
    r = ctl("encode", "--time", "1795000000", "--zone", 3)
    check(r.rc == EX_USAGE and "usage: genidctl encode" in r.err,
          "encode: missing --dc/--machine: usage, exit 64")
    # An ID of 2^63 or more gets a note about signed columns.
    r = ctl("encode", "--time", "2040-01-01", "-z", 0, "-d", 0, "-m", 0)
    check(r.rc == 0 and "2^63" in r.err, "encode: note on IDs >= 2^63")


def parse_range(out):
    lines = out.splitlines()
    m1 = re.match(r"^min (\d+)\s+(\S+)$", lines[0])
    m2 = re.match(r"^max (\d+)\s+(\S+)$", lines[1])
    return int(m1.group(1)), int(m2.group(1)), lines[2]


def where_matches(where, i):
    """Evaluates the printed WHERE clause on ID i (no SQL at hand)."""
    m = re.match(r"^WHERE id BETWEEN (\d+) AND (\d+)"
                 r"(?: AND \(\(id >> (\d+)\) & (\d+)\) = (\d+))?$", where)
    if m is None:
        raise AssertionError("unexpected WHERE clause %r" % where)
    lo, hi = int(m.group(1)), int(m.group(2))
    ok = lo <= i <= hi
    if m.group(3):
        ok = ok and (i >> int(m.group(3))) & int(m.group(4)) == \
            int(m.group(5))
    return ok


def test_range(rnd):
    r = ctl("range", "1795000000", "2026-11-18T11:06:40Z")
    equal(r.rc, 0, "range: one second: exit 0")
    lo, hi, where = parse_range(r.out)
    equal((lo, hi), (1795000000 << 32, (1795000000 << 32) | 0xFFFFFFFF),
          "range: one second, all nodes")
    equal(where, "WHERE id BETWEEN %d AND %d" % (lo, hi),
          "range: the SQL line")
    equal(r.err, "", "range: no note")

    # Property: for sample IDs near and inside the span, the WHERE clause
    # is true exactly for the IDs of the span (and node, when narrowed).
    t0 = 1795000000
    spans = [(t0, t0), (t0, t0 + 2), (t0 - 86400, t0)]
    nodes = [(), (3,), (3, 2), (3, 2, 5), (0,), (31, 7, 7)]
    for epoch in (0, EPOCH):
        for a, b in spans:
            for node in nodes:
                args = ["range", a, b, "--epoch", epoch]
                for opt, v in zip(("--zone", "--dc", "--machine"), node):
                    args += [opt, v]
                r = ctl(*args)
                what = "range %s %s epoch %d node %r" % (a, b, epoch, node)
                if not check(r.rc == 0, what + ": exit 0 %r" % r):
                    continue
                lo, hi, where = parse_range(r.out)
                full = list(node) + [0] * (5 - len(node))
                top = list(node) + [31, 7, 7, 31, 65535][len(node):]
                equal((lo, hi), (encode(a - epoch, *full),
                                 encode(b - epoch, *top)),
                      what + ": the node's smallest and largest ID")
                exact = a == b or not node
                check(("note:" in r.err) == (not exact),
                      what + ": a note exactly when inexact")
                samples = [lo, hi, lo - 1, hi + 1]
                for _ in range(300):
                    ts = rnd.randint(a - epoch - 2, b - epoch + 2)
                    f = [ts, rnd.randrange(32), rnd.randrange(8),
                         rnd.randrange(8), rnd.randrange(32),
                         rnd.choice((0, 1, 65534, 65535,
                                     rnd.randrange(65536)))]
                    if node and rnd.random() < 0.5:
                        f[1:1 + len(node)] = node
                    samples.append(encode(*f))
                bad = []
                for i in samples:
                    ts, zone, dc, machine = decode(i)[:4]
                    want = (a - epoch <= ts <= b - epoch and
                            (zone, dc, machine)[:len(node)] == node)
                    if where_matches(where, i) != want:
                        bad.append(i)
                equal(bad, [], what + ": WHERE selects exactly the span")

    r = ctl("range", "--json", "2026-11-18", "2026-11-18T23:59:59Z",
            "--zone", 3)
    d = json.loads(r.out)
    equal((d["from"], d["to"], d["from_unix"], d["to_unix"], d["exact"],
           d["node_test"]),
          ("2026-11-18T00:00:00Z", "2026-11-18T23:59:59Z", 1794960000,
           1795046399, False, "((id >> 27) & 31) = 3"), "range --json")
    check(d["where"].startswith("WHERE id BETWEEN %s AND %s AND "
                                % (d["min"], d["max"])), "range --json where")

    r = ctl("range", "1795000001", "1795000000")
    equal(r.rc, EX_DATAERR, "range: FROM after TO: exit 65")
    r = ctl("range", "--dc", 2, "1795000000", "1795000000")
    equal(r.rc, EX_USAGE, "range: --dc without --zone: exit 64")
    r = ctl("range", "--zone", 3, "--machine", 2, "1795000000", "1795000000")
    equal(r.rc, EX_USAGE, "range: --machine without --dc: exit 64")
    r = ctl("range", "1795000000")
    equal(r.rc, EX_USAGE, "range: one operand: exit 64")
    r = ctl("range", "--epoch", EPOCH, "2025-01-01", "2026-06-01")
    check(r.rc == EX_DATAERR and "before the epoch" in r.err,
          "range: FROM before the epoch: exit 65")
    r = ctl("range", "2040-01-01", "2040-01-02")
    check(r.rc == 0 and "2^63" in r.err, "range: note on IDs >= 2^63")


def main():
    require_genidctl()
    rnd = random.Random(20261118)
    test_encode(rnd)
    test_range(rnd)
    finish()


if __name__ == "__main__":
    main()
