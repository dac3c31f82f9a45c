# SPDX-License-Identifier: BSD-2-Clause
"""python3 -m genid64 get|decode|info: the genid clients from the shell."""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from typing import List, Optional

from . import Client, GenidError, decode, parse_id

EX_USAGE = 64
EX_DATAERR = 65
EX_UNAVAILABLE = 69


def _time(unix: int) -> str:
    t = datetime.datetime.fromtimestamp(unix, datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _describe(id_: int, epoch: int, as_json: bool) -> str:
    f = decode(id_)
    unix = f.ts + epoch
    if as_json:
        return json.dumps({"id": str(id_), "hex": "0x%016x" % id_,
                           "time": _time(unix), "unix": unix, "ts": f.ts,
                           "epoch": epoch, "zone": f.zone, "dc": f.dc,
                           "machine": f.machine, "bucket": f.bucket,
                           "counter": f.counter}, separators=(",", ":"))
    return "%-20d  %s  zone %-2d  dc %d  machine %d  bucket %-2d  counter %d" \
        % (id_, _time(unix), f.zone, f.dc, f.machine, f.bucket, f.counter)


def cmd_get(args: argparse.Namespace) -> int:
    if args.count < 1:
        print("genid64 get: -n wants a count of at least 1", file=sys.stderr)
        return EX_USAGE
    try:
        with Client(args.address, connect_timeout=args.timeout,
                    io_timeout=args.timeout, epoch=args.epoch) as c:
            ids = [c.next()] if args.count == 1 else c.bulk(args.count)
    except ValueError as e:
        print("genid64 get: %s" % e, file=sys.stderr)
        return EX_USAGE
    except GenidError as e:
        for id_ in e.ids:
            print(_describe(id_, args.epoch, False) if args.decode else id_)
        print("genid64 get: %s" % e, file=sys.stderr)
        return EX_UNAVAILABLE
    for id_ in ids:
        print(_describe(id_, args.epoch, False) if args.decode else id_)
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    try:
        with Client(args.address, connect_timeout=args.timeout,
                    io_timeout=args.timeout) as c:
            info = c.info()
            print("# %s" % c.server)
    except ValueError as e:
        print("genid64 info: %s" % e, file=sys.stderr)
        return EX_USAGE
    except GenidError as e:
        print("genid64 info: %s" % e, file=sys.stderr)
        return EX_UNAVAILABLE
    print(json.dumps(info, indent=2, sort_keys=True))
    return 0


def cmd_decode(args: argparse.Namespace) -> int:
    texts = args.id or [line for line in sys.stdin if line.strip()]
    rc = 0
    for text in texts:
        try:
            print(_describe(parse_id(text), args.epoch, args.json))
        except ValueError as e:
            print("genid64 decode: %s" % e, file=sys.stderr)
            rc = EX_DATAERR
    return rc


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python3 -m genid64",
                                description="genid IDs from the shell.")
    sub = p.add_subparsers(dest="verb", required=True)
    g = sub.add_parser("get", help="fetch IDs, one a line")
    g.add_argument("-n", "--count", type=int, default=1)
    g.add_argument("-D", "--decode", action="store_true",
                   help="print the fields of each ID too")
    g.add_argument("-T", "--timeout", type=float, default=1.0,
                   help="connect and read timeout in seconds (1)")
    g.add_argument("--epoch", type=int, default=0,
                   help="the servers' epoch, for --decode (0)")
    g.add_argument("address", nargs="+",
                   help="HOST[:PORT], tried in order")
    g.set_defaults(fn=cmd_get)
    i = sub.add_parser("info", help="a server's INFO as JSON")
    i.add_argument("-T", "--timeout", type=float, default=1.0)
    i.add_argument("address", nargs="+")
    i.set_defaults(fn=cmd_info)
    d = sub.add_parser("decode", help="the fields of IDs (stdin when none)")
    d.add_argument("--epoch", type=int, default=0)
    d.add_argument("--json", action="store_true")
    d.add_argument("id", nargs="*", help="decimal or 0x-hex")
    d.set_defaults(fn=cmd_decode)
    args = p.parse_args(argv)
    return int(args.fn(args))


if __name__ == "__main__":
    sys.exit(main())
