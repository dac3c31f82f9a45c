#!/usr/bin/env python3
"""launch.py - starts one genid through the harness's Daemon, for tests
written in other languages (tests/client_test.c, the clients' suites).

    python3 launch.py --dir DIR [--machine N] [--set KEY=JSON ...]

Prints "127.0.0.1:PORT MASTER_PID" once genid serves, then waits for the
master to exit and exits with its status (128 + N for signal N).  On
SIGTERM or SIGINT it stops genid (SIGTERM, then SIGKILL after 10 s) and
exits the same way.  Run it in a process group of its own: killing the
group leaves nothing of genid behind.
"""

import argparse
import json
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def status_code(rc):
    return rc if rc >= 0 else 128 - rc


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", required=True, help="folder for its files")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--zone", type=int, default=harness.ZONE)
    ap.add_argument("--dc", type=int, default=harness.DC)
    ap.add_argument("--machine", type=int, default=harness.MACHINE)
    ap.add_argument("--set", action="append", default=[],
                    metavar="KEY=JSON", help="any other configuration key")
    a = ap.parse_args()
    conf = {"zone_id": a.zone, "dc_id": a.dc, "machine_id": a.machine}
    for kv in a.set:
        key, sep, value = kv.partition("=")
        if not sep:
            ap.error("--set %r: want KEY=JSON" % kv)
        conf[key] = json.loads(value)
    if not harness.genid_path():
        ap.error("no genid binary: set GENID")
    d = harness.Daemon(None, workers=a.workers, dir=a.dir, **conf)

    def on_signal(signum, frame):
        rc, _ = d.stop(deadline=10)
        sys.exit(status_code(rc if rc is not None else -signum))

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        d.start()
    except harness.Failure as e:
        print(e, file=sys.stderr)
        d.cleanup()
        sys.exit(1)
    print("%s:%d %d" % (d.addr[0], d.addr[1], d.master_pid()), flush=True)
    sys.exit(status_code(d.proc.wait()))


if __name__ == "__main__":
    main()
