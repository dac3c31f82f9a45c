#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""run_genid.py - run the real genid of the build for a client's tests.

    python3 tests/clients/run_genid.py [--genid PATH] [--machine 5]
        [--zone 3] [--dc 2] [--epoch 0] [--workers N]
        [--set KEY=JSON --why KEY=REASON] [--lifetime 600]

Starts genid (PATH, or $GENID) in the foreground on an ephemeral port of
127.0.0.1 with a temporary directory for its config, state, pid and log
files, through tests/integration/harness.py (the integration tests' own
Daemon: the shipped etc/genid.json, genid --init before the first start),
waits until it serves, and prints the port alone on a line.  Every --set
needs a --why with the reason the test changes that key (the harness
refuses a changed setting without one).

Then it reads commands, one a line, on stdin:

  kill      SIGKILL the master and every worker; waits until they are
            gone; prints "killed"
  start     starts genid again on the same port and state file; prints
            the port when it serves
  restart   kill, then start; prints the port
  stop      SIGTERM, waits for the exit; prints "stopped STATUS"
  log       prints the daemon's log and stderr so far, then "end"

End of stdin, SIGTERM or SIGINT stop genid (SIGKILL when SIGTERM is not
enough), remove the directory (kept with GENID_TEST_KEEP=1) and exit:
give this process a pipe as its stdin and keep it open while genid is
needed.  An error prints "error: WHAT" and, before the first port line,
exits 1.  Exit 77 when no genid binary is found (a test skips).  Python 3
standard library only.
"""

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import harness  # noqa: E402

SKIP = 77


class Owner:
    """What harness.Daemon needs of a test: a place for its files."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="genid-client-")
        self.name = "clients"

    def tmpdir(self):
        return self.dir


def setting(text):
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError("--set wants KEY=JSON, like "
                                         "max_ahead_s=2")
    try:
        return key, json.loads(value)
    except ValueError:
        raise argparse.ArgumentTypeError("--set %s: %r is not JSON"
                                         % (key, value))


def reason(text):
    key, sep, why = text.partition("=")
    if not sep or not key or not why.strip():
        raise argparse.ArgumentTypeError("--why wants KEY=REASON, like "
                                         "max_ahead_s='the clients set the "
                                         "pace'")
    return key, why


# Why the runner's own options change the shipped configuration.
OPTIONS_WHY = {
    "zone_id": "the client's test decodes the identity it asked for",
    "dc_id": "the client's test decodes the identity it asked for",
    "machine_id": "the client's test decodes the identity it asked for",
    "epoch": "the client's test decodes the epoch it asked for",
    "workers": "the client's test asked for this many workers (--workers)",
}


def say(line):
    print(line, flush=True)


def main():
    p = argparse.ArgumentParser(
        description="Run the real genid on an ephemeral loopback port.")
    p.add_argument("--genid", default=os.environ.get("GENID")
                   or harness.genid_path(), help="the genid binary ($GENID)")
    p.add_argument("--zone", type=int, default=harness.ZONE)
    p.add_argument("--dc", type=int, default=harness.DC)
    p.add_argument("--machine", type=int, default=harness.MACHINE)
    p.add_argument("--epoch", type=int, default=0)
    p.add_argument("--workers", type=int, default=None,
                   help="workers (default: the shipped one per CPU)")
    p.add_argument("--set", type=setting, action="append", default=[],
                   metavar="KEY=JSON", help="any other genid.json key")
    p.add_argument("--why", type=reason, action="append", default=[],
                   metavar="KEY=REASON", help="why the test --sets KEY")
    p.add_argument("--lifetime", type=float, default=600,
                   help="seconds before genid is stopped anyway (600)")
    args = p.parse_args()
    if not args.genid or not os.access(args.genid, os.X_OK):
        say("error: no genid binary at %r: build it, then pass --genid or "
            "set GENID" % args.genid)
        return SKIP
    os.environ["GENID"] = os.path.abspath(args.genid)

    owner = Owner()
    daemon = harness.Daemon(owner, zone_id=args.zone, dc_id=args.dc,
                            machine_id=args.machine, epoch=args.epoch,
                            workers=args.workers, why=OPTIONS_WHY)
    # The reasons come with the settings, from the command line.
    why, settings = dict(args.why), dict(args.set)
    daemon.set(why=why, **settings)
    done = threading.Event()

    def finish(*_):
        done.set()
        try:
            daemon.cleanup()
        finally:
            if os.environ.get("GENID_TEST_KEEP"):
                print("kept %s" % owner.dir, file=sys.stderr)
            else:
                shutil.rmtree(owner.dir, ignore_errors=True)
        os._exit(0)

    signal.signal(signal.SIGTERM, finish)
    signal.signal(signal.SIGINT, finish)
    # A safety net only: the test that started us ends us.
    timer = threading.Timer(args.lifetime, finish)
    timer.daemon = True
    timer.start()

    try:
        daemon.start()
    except harness.Failure as e:
        say("error: %s" % str(e).replace("\n", " | "))
        daemon.cleanup()
        shutil.rmtree(owner.dir, ignore_errors=True)
        return 1
    # Restarts reuse the port, as a node restarted in place does.
    daemon.set(port=daemon.port)
    say(daemon.port)

    for line in sys.stdin:
        cmd = line.strip()
        try:
            if cmd == "kill":
                daemon.kill_all()
                say("killed")
            elif cmd == "start":
                daemon.start()
                say(daemon.port)
            elif cmd == "restart":
                daemon.kill_all()
                daemon.start()
                say(daemon.port)
            elif cmd == "stop":
                rc, _ = daemon.stop()
                say("stopped %s" % rc)
            elif cmd == "log":
                sys.stdout.write(daemon.output())
                say("end")
            elif cmd:
                say("error: unknown command %r (kill, start, restart, "
                    "stop, log)" % cmd)
        except harness.Failure as e:
            say("error: %s" % str(e).replace("\n", " | "))
    finish()
    return 0


if __name__ == "__main__":
    sys.exit(main())
