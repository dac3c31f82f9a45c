#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""genidctl check: good and bad configurations written to a temporary
directory (file:line:col messages, exit 78), and --peers against fake
peers: same identity (error), other data centre and unreachable
(warnings)."""

import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cli_lib import (EX_CONFIG, EX_PROTOCOL, EX_USAGE, FakeGenid,  # noqa
                     check, ctl, equal, finish, free_port, require_genidctl,
                     tempdir)


def write(d, name, text):
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def main():
    require_genidctl()
    with tempdir() as d:
        # The original configuration stays valid (genid.json(5)).
        good = write(d, "good.json", '{"port":3778,"zone_id":0,"dc_id":0,'
                     '"machine_id":0}\n')
        r = ctl("check", "-c", good)
        equal((r.rc, r.out), (0, "%s: configuration OK\n" % good),
              "check: the original configuration is OK")
        r = ctl("check", "--config", "good.json", cwd=d)
        equal(r.out, "good.json: configuration OK\n",
              "check: names the file as given")

        bad = write(d, "genid.json", '{\n  "port": 3778,\n  "machine_id": 9\n'
                    '}\n')
        r = ctl("check", "-c", bad)
        equal(r.rc, EX_CONFIG, "check: out of range: exit 78")
        check(re.search(r'^genidctl: \S*genid\.json:3:17: "machine_id": 9 is'
                        r' out of range 0\.\.7$', r.err, re.M),
              "check: file:line:col message: %r" % r.err)
        equal(r.out, "", "check: nothing on stdout on error")

        unknown = write(d, "unknown.json", '{"port": 3778,\n "zone": 1}\n')
        r = ctl("check", "-c", unknown)
        check(r.rc == EX_CONFIG and
              re.search(r'unknown\.json:2:\d+: "zone"', r.err),
              "check: unknown key with position: %r" % r.err)
        check(r.err.endswith('"zone": unknown key; did you mean "zone_id"?'
                             ' (see genid.json(5) for the keys)\n'),
              "check: an unknown key suggests the closest: %r" % r.err)
        typo = write(d, "typo.json", '{"machineid": 1}\n')
        r = ctl("check", "-c", typo)
        check(r.rc == EX_CONFIG and
              'did you mean "machine_id"?' in r.err,
              "check: machineid suggests machine_id: %r" % r.err)
        far = write(d, "far.json", '{"colour": "blue"}\n')
        r = ctl("check", "-c", far)
        check(r.rc == EX_CONFIG and "did you mean" not in r.err and
              '"colour": unknown key (see genid.json(5)' in r.err,
              "check: a key like none suggests nothing: %r" % r.err)
        ms = write(d, "ms.json", '{"epoch": 1767225600000}\n')
        r = ctl("check", "-c", ms)
        check(r.rc == EX_CONFIG and re.search(
            r'ms\.json:1:11: "epoch": 1767225600000 looks like milliseconds:'
            r' the epoch is in Unix seconds \(1767225600\?\)$', r.err, re.M),
            "check: an epoch in milliseconds says so: %r" % r.err)
        future = write(d, "future.json", '{"epoch": 99999999999}\n')
        r = ctl("check", "-c", future)
        check(r.rc == EX_CONFIG and "milliseconds" not in r.err and
              "may not lie in the future" in r.err,
              "check: a future epoch in seconds is only in the future: %r"
              % r.err)

        syntax = write(d, "syntax.json", '{"port": 3778,\n "zone_id": }\n')
        r = ctl("check", "-c", syntax)
        check(r.rc == EX_CONFIG and re.search(r"syntax\.json:2:\d+: ", r.err),
              "check: JSON syntax error with position: %r" % r.err)

        wrongtype = write(d, "type.json", '{"port": "3778"}\n')
        r = ctl("check", "-c", wrongtype)
        check(r.rc == EX_CONFIG and re.search(r'type\.json:1:\d+: "port"',
                                              r.err),
              "check: wrong type with position: %r" % r.err)

        r = ctl("check", "-c", os.path.join(d, "missing.json"))
        check(r.rc == EX_CONFIG and "missing.json" in r.err,
              "check: a missing file: exit 78, named: %r" % r.err)
        r = ctl("check", "-c", good, "extra")
        equal(r.rc, EX_USAGE, "check: an extra operand: exit 64")

        # --peers: same identity, another dc, and nobody listening.
        same = FakeGenid(info={"zone": 3, "dc": 2, "machine": 5})
        other = FakeGenid(info={"zone": 3, "dc": 4, "machine": 1})
        sibling = FakeGenid(info={"zone": 3, "dc": 2, "machine": 6})
        notgenid = FakeGenid(info=b"not json")
        down = free_port()
        try:
            def conf(name, peers):
                return write(d, name, json.dumps({
                    "zone_id": 3, "dc_id": 2, "machine_id": 5,
                    "peers": peers}))

            r = ctl("check", "--peers", "-c", conf("p1.json", [
                sibling.addr(), other.addr(), "127.0.0.1:%d" % down]))
            equal(r.rc, 0, "check --peers: warnings only: exit 0 %r" % r)
            check(r.out.endswith("p1.json: configuration OK\n"),
                  "check --peers: OK after the peers: %r" % r.out)
            check("peer %s: OK, machine 6" % sibling.addr() in r.out,
                  "check --peers: a good sibling")
            check(re.search(r"warning: peer %s is in zone 3 dc 4"
                            % re.escape(other.addr()), r.err),
                  "check --peers: another dc is a warning: %r" % r.err)
            check("warning: peer 127.0.0.1:%d: connect 127.0.0.1:%d:"
                  " Connection refused" % (down, down) in r.err,
                  "check --peers: unreachable is a warning")

            r = ctl("check", "-P", "-c", conf("p2.json", [same.addr()]))
            equal(r.rc, EX_CONFIG, "check --peers: same identity: exit 78")
            check("conflict" in r.err and same.addr() in r.err,
                  "check --peers: names the conflicting peer: %r" % r.err)
            # A conflict fails the check: no "configuration OK" after it.
            check("configuration OK" not in r.out and
                  re.search(r"p2\.json: not OK: a peer hands out the IDs of"
                            r" this node: give one of the two a machine_id",
                            r.err),
                  "check --peers: a conflict is not OK: %r" % r)

            r = ctl("check", "-P", "-c", conf("p3.json", [notgenid.addr()]))
            check(r.rc == EX_PROTOCOL and "configuration OK" not in r.out and
                  "p3.json: not OK: a peer did not answer as genid" in r.err,
                  "check --peers: a peer that is no genid is not OK: %r" % r)

            r = ctl("check", "--peers", "-c", good)
            check(r.rc == 0 and "no peers" in r.out,
                  "check --peers without peers")
        finally:
            same.close()
            other.close()
            sibling.close()
            notgenid.close()
    finish()


if __name__ == "__main__":
    main()
