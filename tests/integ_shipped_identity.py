#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
integ_shipped_identity.py - the shipped configuration makes the identity
a decision (issue 20, genid.json(5)).  etc/genid.json names no zone_id,
dc_id, machine_id or epoch, so an operator who changes only "listen" to
serve the network:
  - is refused, by genid -t and by the start (exit 78), at "listen", with
    the file named and the keys to set: machine_id (a number or "auto"),
    dc_id, zone_id, epoch; no state file is made and nothing is bound;
  - once machine_id is set (genid --init for it), -t says configuration
    OK and prints one warning that "epoch" is not set, suggesting the
    first second of this year, and that every node of the fleet shares
    it and it cannot change for an existing state file; the start gives
    the same warning once, listens and serves IDs of that machine;
  - with "epoch" set too, the warning is gone.
The node listens on 0.0.0.0:3778 in a network namespace of the test's own
(unshare -n, its loopback up), so nothing beyond this host's loopback is
ever reachable; the test skips without one (not root, no unshare or ip).
"""

import calendar
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "integration"))
import harness  # noqa: E402

# The one change of the operator in this test.
NETWORK = ["0.0.0.0:3778"]
WHY_NETWORK = ("the operator's one change: serve the network (0.0.0.0 in "
               "a namespace of the test's own)")
WHY_MACHINE = "the operator's decision: this node is machine 3"
WHY_EPOCH = "the fleet's epoch, as the warning suggests"
MACHINE = 3

# The namespace: its own loopback, up; genid is exec'd ("$@"), so the
# process the harness spawned is genid's master.
NETNS = "ip link set lo up && exec \"$@\""

EPOCH_WARNING = '"epoch" is not set'
LISTENING_ON_RE = re.compile(r"\]: \w+: listening on (\S+)$", re.M)


def netns_prefix(t):
    unshare, ip = shutil.which("unshare"), shutil.which("ip")
    if not unshare or not ip or os.geteuid() != 0:
        t.skip("needs unshare, ip and root for a network namespace: the "
               "node listens on 0.0.0.0")
    prefix = [unshare, "-n", "sh", "-c", NETNS, "sh"]
    r = subprocess.run(prefix + ["true"], capture_output=True, text=True,
                       timeout=20)
    if r.returncode != 0:
        t.skip("no network namespace here: %s" % r.stderr.strip())
    return prefix


def run_t(d, prefix):
    r = subprocess.run(list(prefix) + [harness.genid_path(), "-t", "-c",
                                       d.conf_path],
                       capture_output=True, text=True, timeout=30,
                       cwd=d.dir)
    return r.returncode, r.stdout, r.stderr


def year_start():
    """The first second of this year (UTC), the epoch genid suggests."""
    return calendar.timegm((time.gmtime().tm_year, 1, 1, 0, 0, 0))


def epoch_warnings(text):
    return [line for line in text.splitlines() if EPOCH_WARNING in line]


def check_epoch_warning(t, label, text):
    lines = epoch_warnings(text)
    t.check(len(lines) == 1, "%s: one warning that \"epoch\" is not set"
            % label, text.strip())
    suggest = year_start()
    iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(suggest))
    for word in ("0.0.0.0:3778", "%d (%s)" % (suggest, iso),
                 "every node of the fleet", "existing state file",
                 "2038-01-19", "CHOOSING THE EPOCH"):
        t.check(lines and word in lines[0], "%s: the epoch warning says %s"
                % (label, word), lines)


def refused(t, d, prefix):
    d.init = False
    d.write_config()
    wants = ('"listen"[0]: 0.0.0.0:3778 is beyond loopback',
             '"machine_id" is not set',
             "choose this node's identity in %s" % d.conf_path,
             '"dc_id", "zone_id"', '"auto"', '"epoch"')
    rc, out, err = run_t(d, prefix)
    t.check(rc == harness.EX_CONFIG and "configuration OK" not in out,
            "-t, shipped file with only listen changed: exit 78",
            "exit %d: %s%s" % (rc, out, err))
    t.check(err.startswith("genid: %s:" % d.conf_path),
            "-t: the refusal names the file", err.strip())
    for w in wants:
        t.check(w in err, "-t: the refusal says %s" % w, err.strip())
    t.note(err.strip())

    d.spawn(prefix=prefix)
    rc = d.wait_exit(30)
    out = d.output()
    if rc is None:
        d.cleanup()
    t.check(rc == harness.EX_CONFIG, "start, shipped file with only listen "
            "changed: exit 78", "got %r: %s" % (rc, out.strip()))
    for w in wants:
        t.check(w in out, "start: the refusal says %s" % w, out.strip())
    t.check(not LISTENING_ON_RE.search(out) and
            not os.path.exists(d.state_path),
            "start: nothing bound, no state file", out.strip())


def with_machine(t, d, prefix):
    d.set(machine_id=MACHINE, why=WHY_MACHINE)
    d.init = True
    rc, out = d.init_state(prefix=prefix)
    t.require(rc == 0, "genid --init for machine %d" % MACHINE,
              "exit %d: %s" % (rc, out.strip()))
    rc, out, err = run_t(d, prefix)
    t.check(rc == 0 and out.endswith("%s: configuration OK\n" % d.conf_path),
            "-t with machine_id: configuration OK, exit 0",
            "exit %d: %s%s" % (rc, out, err))
    check_epoch_warning(t, "-t with machine_id", err)

    d.spawn(prefix=prefix)
    ready = harness.poll(lambda: harness.READY_RE.search(d.output()), 30)
    out = d.output()
    t.require(ready, "with machine_id the node starts", out.strip())
    t.check(LISTENING_ON_RE.findall(out) == ["0.0.0.0:3778"],
            "with machine_id: listens on 0.0.0.0:3778",
            LISTENING_ON_RE.findall(out))
    check_epoch_warning(t, "start with machine_id", out)
    t.note("\n".join(epoch_warnings(out)))
    got = get_inside(d.proc.pid)
    t.check(got == str(MACHINE), "with machine_id: serves IDs of machine "
            "%d" % MACHINE, got)
    os.kill(d.proc.pid, signal.SIGTERM)
    rc = d.wait_exit(30)
    t.check(rc == 0, "with machine_id: stops with 0", "got %r" % rc)

    d.set(epoch=year_start(), why=WHY_EPOCH)
    d.write_config()
    rc, out, err = run_t(d, prefix)
    t.check(epoch_warnings(out + err) == [],
            "-t with epoch set too: no epoch warning", out + err)


def get_inside(pid):
    """The machine of an ID from 127.0.0.1:3778 inside the network
    namespace of pid, or the error."""
    code = ("import sys; sys.path.insert(0, %r); import harness; "
            "s = harness.connect(('127.0.0.1', 3778)); "
            "print(harness.decode(harness.get_id(s)).machine)"
            % os.path.dirname(os.path.abspath(harness.__file__)))
    r = subprocess.run(["nsenter", "-t", str(pid), "-n", sys.executable,
                        "-c", code], capture_output=True, text=True,
                       timeout=30)
    return r.stdout.strip() if r.returncode == 0 else r.stderr.strip()


def test(t):
    prefix = netns_prefix(t)
    d = harness.Daemon(t)
    # The shipped identity: none (the harness gives every node its own).
    d.set(zone_id=None, dc_id=None, machine_id=None)
    d.set(listen=NETWORK, port=None, why=WHY_NETWORK)
    changed = [(k, v) for k, v, _ in d.overrides()]
    t.require(changed == [("listen", NETWORK)], "the shipped configuration "
              "with only \"listen\" changed (besides the files)", changed)
    refused(t, d, prefix)
    with_machine(t, d, prefix)


harness.run(test, control=True, timeout=120)
