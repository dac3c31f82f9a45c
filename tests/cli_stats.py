#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""genidctl stats: a missing or foreign state file (clear error, exit
code), then, when src/genid is built, a real daemon on port 0 in a
temporary directory: identity, liveness, the counters after a known
number of IDs (text, --json, --prometheus), --watch with rates, and the
state after the daemon stopped.  The daemon is always killed."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "integration"))
from cli_lib import (EX_DATAERR, EX_NOINPUT, EX_USAGE, GENID, GENIDCTL,  # noqa
                     WRAP, check, ctl, equal, finish, poll,
                     require_genidctl, tempdir)
from harness import Daemon  # noqa: E402

SAMPLE_RE = re.compile(r'^(genid_[a-z_]+)(\{[a-z]+="[^"]*"(,[a-z]+="[^"]*")*'
                       r'\})? (-?[0-9.]+)$')


def parse_prometheus(text):
    """{(name, labels): value}; checks the exposition format on the way."""
    samples = {}
    declared = []
    current = None
    for line in text.splitlines():
        if line.startswith("# HELP "):
            current = line.split()[2]
            check(current not in declared, "prometheus: %s declared once"
                  % current)
            declared.append(current)
            continue
        if line.startswith("# TYPE "):
            f = line.split()
            check(f[2] == current and f[3] in ("counter", "gauge"),
                  "prometheus: TYPE of %s follows its HELP" % f[2])
            continue
        m = SAMPLE_RE.match(line)
        if not check(m is not None and m.group(1) == current,
                     "prometheus: sample line %r" % line):
            continue
        samples[(m.group(1), m.group(2) or "")] = float(m.group(4))
    return samples


def test_files(d):
    missing = os.path.join(d, "missing.state")
    r = ctl("stats", "-s", missing)
    equal((r.rc, r.err), (EX_NOINPUT, "genidctl: open %s: No such file or"
                          " directory\n" % missing),
          "stats: a missing state file: exit 66, named")
    junk = os.path.join(d, "junk.state")
    with open(junk, "wb") as f:
        f.write(b"x" * 8192)
    r = ctl("stats", "-s", junk)
    check(r.rc == EX_DATAERR and junk in r.err and
          "not a genid state file" in r.err,
          "stats: not a state file: exit 65: %r" % r)
    r = ctl("stats", "-s", junk, "-c", "x.json")
    equal(r.rc, EX_USAGE, "stats: -s and -c together: exit 64")
    r = ctl("stats", "--watch", "0", "-s", junk)
    equal(r.rc, EX_USAGE, "stats: --watch 0: exit 64")
    r = ctl("stats", "--watch", "1", "--prometheus", "-s", junk)
    equal(r.rc, EX_USAGE, "stats: --watch with --prometheus: exit 64")
    conf = os.path.join(d, "bad.json")
    with open(conf, "w") as f:
        f.write('{"machine_id": 8}\n')
    r = ctl("stats", "-c", conf)
    check(r.rc == 78 and "bad.json:1:" in r.err,
          "stats -c with a bad config: exit 78: %r" % r)


def test_noperm():
    """A state file kept for genid's user and group: the error says whose
    it is and how to read it (run as nobody, which root can become)."""
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None:
        print("skip: not root or no setpriv; no permission test")
        return
    as_nobody = [setpriv, "--reuid=nobody", "--regid=nogroup",
                 "--clear-groups", GENIDCTL]
    # A directory of its own that nobody may pass through, as /var/lib is.
    d = tempfile.mkdtemp(prefix="genid-cli-perm-")
    try:
        os.chmod(d, 0o711)
        state = os.path.join(d, "genid.state")
        with open(state, "wb") as f:
            f.write(b"\0" * 8192)
        os.chmod(state, 0o640)
        for mode, hint in ((0o640, "it is readable by user root and group"
                            " root: run genidctl stats as root or as a"
                            " member of group root, or pass -s FILE"),
                           (0o600, "it is readable by user root only: run"
                            " genidctl stats as root, or pass -s FILE")):
            os.chmod(state, mode)
            p = subprocess.run(as_nobody + ["stats", "-s", state],
                               capture_output=True, text=True, timeout=60)
            check(p.returncode == 77 and p.stderr.startswith(
                "genidctl: open %s: Permission denied: %s" % (state, hint)),
                "stats as nobody, mode %o: exit 77, whose file and what to"
                " do: %r" % (mode, p.stderr))
    finally:
        shutil.rmtree(d)


def test_daemon(d):
    # The harness's identity, zone 3 dc 2 machine 5.
    g = Daemon(None, dir=d, workers=2, why="two workers whatever the "
               "CPUs: the per-worker lines and bucket owners are checked "
               "for two")
    try:
        g.start()
        addr = "%s:%d" % g.addr
        r = ctl("get", "-n", 1000, addr)
        equal((r.rc, len(r.out.split())), (0, 1000), "get 1000 IDs")
        r = ctl("get", addr)
        equal(r.rc, 0, "get 1 ID")

        # The counters are written by the workers before the replies
        # leave, but poll anyway: a reader must not depend on that.
        def totals():
            s = json.loads(ctl("stats", "-s", g.state_path, "--json").out)
            return s if s["totals"]["ids"] >= 1001 else None

        s = poll(totals, 10, "1001 IDs in the state file")
        equal((s["zone"], s["dc"], s["machine"], s["epoch"]), (3, 2, 5, 0),
              "stats --json: identity")
        equal((s["master"]["pid"], s["master"]["alive"],
               s["master"]["locked"]), (g.proc.pid, True, True),
              "stats --json: the master runs and holds the lock")
        equal(s["workers"], 2, "stats --json: workers")
        equal([w["alive"] for w in s["worker"]], [True, True],
              "stats --json: both workers alive")
        equal([w["buckets"] for w in s["worker"]],
              [list(range(0, 32, 2)), list(range(1, 32, 2))],
              "stats --json: bucket b belongs to worker b % 2")
        equal(s["totals"]["ids"], 1001, "stats --json: IDs issued")
        # Each genidctl get asks INFO first (is the node serving?).
        equal(s["totals"]["requests"], 7,
              "stats --json: requests (4 CMD 1 + 1 CMD 0 + 2 INFO)")
        equal(sum(w["ids"] for w in s["worker"]), 1001,
              "stats --json: worker IDs sum up")
        equal(sum(b["ids"] for b in s["bucket"]), 1001,
              "stats --json: bucket IDs sum up")
        check(all(b["owner"] == b["bucket"] % 2 for b in s["bucket"]),
              "stats --json: bucket owners")
        check(s["checkpoint"]["ahead_s"] >= 0,
              "stats --json: the checkpoint is not behind the clock")
        equal(s["boot_count"], 1, "stats --json: first boot")

        r = ctl("stats", "-c", g.conf_path, cwd=g.dir)
        equal(r.rc, 0, "stats -c: exit 0")
        check(re.search(r"^node +zone 3 dc 2 machine 5", r.out, re.M),
              "stats text: identity")
        check(re.search(r"^master +pid %d alive, state file locked"
                        % g.proc.pid, r.out, re.M), "stats text: master")
        check(re.search(r"^total +1001 IDs, 7 requests", r.out, re.M),
              "stats text: totals")
        workers = [line.split() for line in r.out.splitlines()
                   if re.match(r"^ +[01] +\d+ +(yes|no) ", line)]
        equal([(w[0], w[2], w[3]) for w in workers],
              [("0", "yes", "16"), ("1", "yes", "16")],
              "stats text: worker lines")

        r = ctl("stats", "-s", g.state_path, "--prometheus")
        equal(r.rc, 0, "stats --prometheus: exit 0")
        p = parse_prometheus(r.out)
        equal(p.get(("genid_up", "")), 1.0, "prometheus: genid_up 1")
        equal(sum(v for (n, _), v in p.items()
                  if n == "genid_bucket_ids_total"), 1001.0,
              "prometheus: bucket IDs sum up")
        equal(sum(v for (n, _), v in p.items()
                  if n == "genid_worker_ids_total"), 1001.0,
              "prometheus: worker IDs sum up")
        equal(p.get(("genid_info", '{zone="3",dc="2",machine="5",'
                                   'epoch="0"}')), 1.0, "prometheus: info")
        for name in ("genid_clock_steps_back_total", "genid_lead_seconds",
                     "genid_checkpoint_age_seconds",
                     "genid_timestamp_left_seconds",
                     "genid_worker_restarts_total",
                     "genid_worker_rejected_connections_total",
                     "genid_worker_bad_requests_total",
                     "genid_bucket_waits_total",
                     "genid_bucket_short_replies_total"):
            check(any(n == name for n, _ in p), "prometheus: %s" % name)

        r = ctl("stats", "-s", g.state_path, "--json", "--watch", "0.05",
                "--count", 3)
        rows = [json.loads(line) for line in r.out.splitlines()]
        equal(len(rows), 3, "stats --watch --count 3: three readings")
        check("ids_per_s" not in rows[0]["totals"] and
              all("ids_per_s" in x["totals"] for x in rows[1:]),
              "stats --watch: rates from the second reading on")
        r = ctl("stats", "-s", g.state_path, "--watch", "0.05", "--count", 2)
        equal(r.out.count("state file  "), 2, "stats --watch text: two")
        check("IDs/s" in r.out, "stats --watch text: rates")

        # --watch without --count runs until SIGINT, then exits 0.
        w = subprocess.Popen(WRAP + [GENIDCTL, "stats", "-s", g.state_path,
                                     "--json", "--watch", "0.05"],
                             stdout=subprocess.PIPE, text=True)
        try:
            first = w.stdout.readline()
            check(json.loads(first)["zone"] == 3, "stats --watch: a reading")
            w.send_signal(signal.SIGINT)
            equal(w.wait(timeout=30), 0, "stats --watch: SIGINT ends it, 0")
        finally:
            if w.poll() is None:
                w.kill()
                w.wait()
            w.stdout.close()

        g.stop()
        r = ctl("stats", "-s", g.state_path, "--json")
        s = json.loads(r.out)
        equal((s["master"]["alive"], s["master"]["locked"]), (False, False),
              "stats after stop: master gone, lock free")
        equal(s["totals"]["ids"], 1001, "stats after stop: counters kept")
    finally:
        g.cleanup()


def main():
    require_genidctl()
    with tempdir() as d:
        test_files(d)
        test_noperm()
        if os.access(GENID, os.X_OK):
            os.mkdir(os.path.join(d, "node"))
            test_daemon(os.path.join(d, "node"))
        else:
            print("skip: %s is not built; no live daemon test" % GENID)
    finish()


if __name__ == "__main__":
    main()
