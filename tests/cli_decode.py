#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""genidctl decode: known IDs, field boundaries, hex, stdin, --json,
--epoch, and malformed input (message naming the input, exit 65, the
other IDs still decoded)."""

import json
import os
import re
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cli_lib import (EX_CONFIG, EX_DATAERR, EX_USAGE, check, ctl,  # noqa
                     decode, encode, equal, finish, iso, require_genidctl)

LINE_RE = re.compile(r"^(\d+)\s+(\S+)\s+zone (\d+)\s+dc (\d+)\s+"
                     r"machine (\d+)\s+bucket (\d+)\s+counter (\d+)$")


def parse_lines(out):
    """The decode text lines as (id, time, zone, dc, machine, bucket,
    counter); None for a line that does not match."""
    rows = []
    for line in out.splitlines():
        m = LINE_RE.match(line)
        rows.append(m and (int(m.group(1)), m.group(2)) +
                    tuple(int(g) for g in m.groups()[2:]))
    return rows


def expect_id(i, epoch=0):
    ts, zone, dc, machine, bucket, counter = decode(i)
    return (i, iso(epoch + ts), zone, dc, machine, bucket, counter)


def main():
    require_genidctl()

    # The example of genid(7).
    r = ctl("decode", "7709466296767811730")
    equal(r.rc, 0, "decode example: exit 0")
    equal(parse_lines(r.out), [(7709466296767811730, "2026-11-18T11:06:40Z",
                                3, 2, 5, 17, 4242)],
          "decode example: fields")
    equal(r.err, "", "decode example: nothing on stderr")
    check("zone 3 " in r.out and "counter 4242" in r.out,
          "decode example: 'zone 3' and 'counter 4242' as words")

    # Field boundaries: each field at its maximum alone, and all of them.
    edges = [0, 1, 0xFFFF, 0x1F << 16, 7 << 21, 7 << 24, 31 << 27,
             0xFFFFFFFF, 1 << 32, (1 << 63) - 1, 1 << 63, (1 << 64) - 1]
    r = ctl("decode", *edges)
    equal(r.rc, 0, "boundaries: exit 0")
    equal(parse_lines(r.out), [expect_id(i) for i in edges],
          "boundaries: every field decodes to its own bits")

    # Hex, either case of the prefix and the digits.
    r = ctl("decode", "0x6afd86c01ab11092", "0X6AFD86C01AB11092")
    equal(parse_lines(r.out), [expect_id(7709466296767811730)] * 2,
          "hex input")

    # stdin: one a line, blank lines and CRLF skipped or stripped.
    r = ctl("decode", stdin="7709466296767811730\n\n   \r\n0x10\r\n"
            "  42  \n")
    equal(r.rc, 0, "stdin: exit 0")
    equal(parse_lines(r.out), [expect_id(7709466296767811730),
                               expect_id(16), expect_id(42)],
          "stdin: three IDs, blank lines skipped")

    # Malformed and overflowing input: the rest is still decoded.
    bad = ["abc", "-abc", "18446744073709551616", "0x", "12x", "0x1g",
           "99999999999999999999999", "-9223372036854775809", ""]
    r = ctl("decode", "--", "1", *bad, "2")
    equal(r.rc, EX_DATAERR, "malformed: exit 65 (EX_DATAERR)")
    equal(parse_lines(r.out), [expect_id(1), expect_id(2)],
          "malformed: the good IDs are decoded")
    errs = [e for e in r.err.splitlines()
            if not e.startswith("genidctl: note: ")]
    equal(len(errs), len(bad), "malformed: one message per bad input")
    for b, e in zip(bad, errs):
        check(e.startswith("genidctl: ") and '"%s"' % b in e,
              "malformed: message names %r: %r" % (b, e))
    check("larger than 18446744073709551615" in r.err,
          "malformed: overflow gives the reason")
    check(re.search(r'"abc": not a decimal number', r.err),
          "malformed: 'not a decimal number'")

    r = ctl("decode", stdin="1\nnope\n\n3\n")
    equal(r.rc, EX_DATAERR, "stdin malformed: exit 65")
    equal(parse_lines(r.out), [expect_id(1), expect_id(3)],
          "stdin malformed: the good IDs are decoded")
    check('stdin line 2: "nope"' in r.err,
          "stdin malformed: names the line: %r" % r.err)

    # A signed 64-bit column shows IDs from 2^63 on as negative numbers.
    r = ctl("decode", "--", "-1", "-9223372036854775808")
    equal(parse_lines(r.out), [expect_id((1 << 64) - 1), expect_id(1 << 63)],
          "negative decimal: two's complement of a BIGINT")
    # A negative number is said to be one, not blamed on the epoch.
    check("genidctl: note: -1 is negative: read as a signed 64-bit integer"
          " (SQL BIGINT, Java long) it is ID 18446744073709551615; genid's"
          " IDs stay below 2^63 until 2038-01-19T03:14:08Z (2^31 s after"
          " epoch 0), so genid has not issued it" in r.err and
          "another epoch" not in r.err and r.rc == 0,
          "negative decimal: a note that says what it is: %r" % r)
    r = ctl("decode", "-e", "1000", "--", "-1")
    check("until 2038-01-19T03:30:48Z (2^31 s after epoch 1000)" in r.err,
          "negative decimal: the limit follows the epoch: %r" % r.err)
    r = ctl("decode", stdin="-2\n")
    equal(parse_lines(r.out), [expect_id((1 << 64) - 2)],
          "negative decimal on stdin")

    # A control character in the input is not echoed raw to the terminal.
    r = ctl("decode", "1\x1b[2J")
    check("\x1b" not in r.err and r.rc == EX_DATAERR,
          "control characters are not echoed")

    # --json: one object a line.
    r = ctl("decode", "--json", "7709466296767811730", "0")
    equal(r.rc, 0, "json: exit 0")
    objs = [json.loads(line) for line in r.out.splitlines()]
    equal(len(objs), 2, "json: one object a line")
    equal(objs[0], {"id": "7709466296767811730", "hex": "0x6afd86c01ab11092",
                    "time": "2026-11-18T11:06:40Z", "unix": 1795000000,
                    "ts": 1795000000, "epoch": 0, "zone": 3, "dc": 2,
                    "machine": 5, "bucket": 17, "counter": 4242},
          "json: the example's object")
    r = ctl("decode", "--json", str((1 << 64) - 1))
    equal(json.loads(r.out)["id"], str((1 << 64) - 1),
          "json: an ID above 2^63 is exact")

    # --epoch shifts the time, not the fields; ISO or seconds, options
    # after the operands.
    epoch = 1767225600  # 2026-01-01T00:00:00Z
    i = (1000 << 32) | 7
    for e in (str(epoch), "2026-01-01T00:00:00Z", "2026-01-01"):
        r = ctl("decode", str(i), "--epoch", e)
        equal(parse_lines(r.out), [expect_id(i, epoch)],
              "epoch %s: time is epoch + ts" % e)
    r = ctl("decode", "--epoch", "yesterday", "1")
    equal(r.rc, EX_USAGE, "bad --epoch: exit 64")
    check("--epoch" in r.err, "bad --epoch: names the option")

    # A future epoch is refused as genid refuses it; one in milliseconds
    # says so.
    r = ctl("decode", "--epoch", str(int(time.time()) + 3600), "1")
    check(r.rc == EX_USAGE and "in the future; genid refuses" in r.err and
          r.out == "", "future --epoch: exit 64, said: %r" % r.err)
    r = ctl("decode", "--epoch", "1767225600000", "1")
    check(r.rc == EX_USAGE and r.err == (
        "genidctl: --epoch 1767225600000 looks like milliseconds: the epoch"
        " is in Unix seconds (1767225600?)\n"),
        "--epoch in milliseconds: said: %r" % r.err)

    # -c takes the epoch from a configuration, as genid reads it.
    with tempfile.TemporaryDirectory() as d:
        conf = os.path.join(d, "genid.json")
        with open(conf, "w") as f:
            f.write('{"epoch": %d, "machine_id": 3}\n' % epoch)
        r = ctl("decode", "-c", conf, str(i))
        equal((r.rc, parse_lines(r.out), r.err),
              (0, [expect_id(i, epoch)], ""),
              "decode -c: the configuration's epoch")
        r = ctl("decode", "--json", "--config", conf, str(i))
        equal(json.loads(r.out)["epoch"], epoch, "decode --config --json")
        r = ctl("range", "-c", conf, "2026-02-01", "2026-02-01")
        lo = encode(31 * 86400, 0, 0, 0, 0, 0)
        check(r.rc == 0 and r.out.startswith("min %-20d" % lo),
              "range -c: bounds with the configuration's epoch: %r" % r.out)
        r = ctl("decode", "-c", conf, "--epoch", "0", "1")
        check(r.rc == EX_USAGE and "use one of them" in r.err,
              "decode -c and --epoch: exit 64: %r" % r.err)
        with open(conf, "w") as f:
            f.write('{"epoch": "2026"}\n')
        r = ctl("decode", "-c", conf, "1")
        check(r.rc == EX_CONFIG and conf + ':1:11: "epoch"' in r.err,
              "decode -c with a bad configuration: exit 78: %r" % r.err)

    # A time before 2000 or in the future: the epoch is likely not the
    # IDs' own.  One note a run, after the ID's line.
    r = ctl("decode", "1", "2")
    equal(len(parse_lines(r.out)), 2, "implausible: still decoded")
    equal(r.err, "genidctl: note: ID 1 is from 1970-01-01T00:00:00Z, before"
          " 2000: was it made with another epoch? (this one is 0; give the"
          " IDs' own with --epoch or -c)\n", "implausible: one note")
    late = (int(time.time()) + 30 * 86400) << 32
    r = ctl("decode", "--json", str(late))
    check(r.rc == 0 and "in the future: was it made with another epoch?"
          in r.err, "a time in the future: noted: %r" % r.err)
    now = int(time.time()) << 32
    r = ctl("decode", str(now), str(now + (3600 << 32)))
    equal((r.rc, r.err), (0, ""), "a time of now or borrowed ahead: no note")

    # Usage.
    r = ctl("decode", "--help")
    check(r.rc == 0 and "usage: genidctl decode" in r.out, "decode --help")
    r = ctl("decode", "--bogus", "1")
    check(r.rc == EX_USAGE and "usage: genidctl decode" in r.err and
          r.err.startswith("genidctl: "), "decode --bogus: usage, exit 64")
    r = ctl("-V")
    check(re.fullmatch(r"genidctl [0-9]+\.[0-9]+\.[0-9]+\n", r.out),
          "-V prints genidctl VERSION: " + repr(r.out))
    r = ctl("--help")
    check(r.rc == 0 and all(v in r.out for v in (
        "decode", "encode", "range", "stats", "info", "get", "check")),
        "--help lists every command")
    r = ctl()
    equal(r.rc, EX_USAGE, "no command: exit 64")
    r = ctl("frobnicate")
    check(r.rc == EX_USAGE and 'unknown command "frobnicate"' in r.err,
          "unknown command: exit 64 and named")
    finish()


if __name__ == "__main__":
    main()
