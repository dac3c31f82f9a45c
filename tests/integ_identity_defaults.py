#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
integ_identity_defaults.py - safe by default (issue 10, genid.json(5)):
  - a configuration without "machine_id" on 127.0.0.1 starts, serves IDs
    of machine 0, and warns about nothing; one without "listen" at all
    listens on 127.0.0.1 and ::1 (the default; ::1 where the host has
    it), never on every address;
  - "listen" beyond loopback ("0.0.0.0", "" = any address, "[::]")
    without "machine_id" is refused at configuration load, with and
    without -t: exit 78, FILE:LINE:COL: "listen"[i] pointing at the item,
    naming machine_id; no state file, no pid file, nothing bound;
    "machine_id": "auto" without coordination.etcd: exit 78 at machine_id;
  - the two start-up warnings of a node beyond loopback: no peers and no
    etcd (nothing checks machine_id), and an empty "allow".  Each warning
    goes away with the setting it names.  No test here accepts a
    connection beyond loopback: the node has no state file (no genid
    --init, and a directory that does not exist), which a node without
    etcd opens before it listens (exit 66), and where unshare(1) may make a network namespace genid runs
    in one of its own, which has nothing but a loopback interface that is
    down.  A node with coordination.etcd binds before it claims its id (and
    opens its state file), so that case runs only in such a namespace.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "integration"))
import harness  # noqa: E402

# Why beyond_warned's nodes change what they change.
BEYOND = ("a node on every address with the case's peers, allow or "
          "coordination: which warnings it gets is the test")
NO_STATE = ("a state file in a directory that does not exist: the node "
            "stops before it binds, whatever its address")

WARNING_RE = re.compile(r"\]: warning: ")
IDENTITY_WARNING = "nothing checks that machine_id"
ALLOW_WARNING = "\"allow\" is empty"
# The log line of a socket genid listens on.
LISTENING_RE = re.compile(r"\]: \w+: listening on ")
LISTENING_ON_RE = re.compile(r"\]: \w+: listening on (\S+):(\d+)$", re.M)


def warnings(out):
    return [line for line in out.splitlines() if WARNING_RE.search(line)]


def netns_prefix():
    """unshare -n when it can make a network namespace here, else None."""
    unshare = shutil.which("unshare")
    if not unshare:
        return None
    r = subprocess.run([unshare, "-n", "true"], capture_output=True,
                       timeout=10)
    return [unshare, "-n"] if r.returncode == 0 else None


def loopback_without_machine(t):
    d = harness.Daemon(t, machine_id=None, why="the test is about a "
                       "configuration without machine_id")
    d.start()
    with harness.connect(d.addr) as s:
        ids = harness.get_ids(s, 10)
    t.check(ids and all(harness.decode(i).machine == 0 and
                        harness.decode(i).zone == harness.ZONE and
                        harness.decode(i).dc == harness.DC for i in ids),
            "127.0.0.1 without machine_id: starts and serves IDs of "
            "zone %d dc %d machine 0" % (harness.ZONE, harness.DC),
            [harness.decode(i) for i in ids])
    out = d.output()
    rc, _ = d.stop()
    t.check(rc == 0, "127.0.0.1 without machine_id: stops with 0",
            "got %r" % rc)
    t.check(warnings(out) == [], "127.0.0.1 without machine_id, peers or "
            "allow: no warning", "\n".join(warnings(out)))

    # No "listen" key at all: the default addresses, loopback only.
    d = harness.Daemon(t, machine_id=None, listen=None, why="the test is "
                       "about a configuration without machine_id and "
                       "listen")
    d.start()
    t.check(d.host == "127.0.0.1", "no \"listen\": listens on 127.0.0.1",
            "listens on %s" % d.host)
    bound = listening(d.output())
    want = ["127.0.0.1"] + (["[::1]"] if ipv6_loopback() else [])
    t.check([host for host, _ in bound] == want,
            "no \"listen\": the default addresses %s, no other"
            % " and ".join(want), bound)
    if not ipv6_loopback():
        t.note("this host has no IPv6 loopback: [::1] skipped")
    for host, port in bound:
        r = subprocess.run(["ss", "-Htln", "sport = :%d" % port],
                           capture_output=True, text=True, timeout=10)
        local = [line.split()[3] for line in r.stdout.splitlines()
                 if len(line.split()) > 3]
        t.check(r.returncode == 0 and local == ["%s:%d" % (host, port)],
                "no \"listen\": the kernel has one listening socket on "
                "port %d, bound to %s" % (port, host),
                "ss: %r %s" % (local, r.stderr))
    with harness.connect(d.addr) as s:
        t.check(harness.decode(harness.get_id(s)).machine == 0,
                "no \"listen\": serves on the default address")
    rc, _ = d.stop()
    t.check(rc == 0, "no \"listen\": stops with 0", "got %r" % rc)


def listening(out):
    """[(host, port)] of genid's "listening on" lines in out, in order;
    an IPv6 host in brackets, as genid names it."""
    return [(m.group(1), int(m.group(2))) for m in
            LISTENING_ON_RE.finditer(out)]


def ipv6_loopback():
    """Whether this host can bind ::1."""
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def position(text, needle):
    """LINE:COL of the first needle in text, as an editor counts."""
    at = text.index(needle)
    line = text.count("\n", 0, at) + 1
    return line, at - (text.rfind("\n", 0, at) + 1) + 1


def refused_config(t, d, what, key, needle, words):
    """d's configuration is refused at load, with and without -t."""
    d.write_config()
    with open(d.conf_path) as f:
        text = f.read()
    line, col = position(text, needle)
    for args in ([], ["-t"]):
        label = "%s%s" % (what, " (-t)" if args else "")
        d.spawn(args=args, write_config=False)
        rc = d.wait_exit(10)
        if rc is None:
            d.cleanup()
        out = d.output()
        t.check(rc == harness.EX_CONFIG, "%s: exit 78" % label,
                "got %r; output:\n%s" % (rc, out.strip()))
        want = "%s:%d:%d: %s: " % (d.conf_path, line, col, key)
        hits = [x for x in out.splitlines() if want in x]
        t.check(len(hits) == 1, "%s: one line %s" % (label, want),
                out.strip())
        for w in words:
            t.check(hits and w in hits[0], "%s: says %s" % (label, w),
                    out.strip())
        t.check(not LISTENING_RE.search(out), "%s: nothing bound" % label,
                out.strip())
        t.note(out.strip())
    t.check(not os.path.exists(d.state_path) and
            not os.path.exists(d.pid_path),
            "%s: no state file or pid file" % what)


def beyond_refused(t):
    for host in ("0.0.0.0", "", "[::]"):
        d = harness.Daemon(t, machine_id=None, listen=["127.0.0.1", host],
                           why="the test is about a listener beyond "
                           "loopback without machine_id: refused")
        refused_config(t, d, "listen %s without machine_id" % json.dumps(
            host), '"listen"[1]', '"%s"' % host,
            ("beyond loopback", '"machine_id" is not set', "same IDs",
             "dc %d of zone %d" % (harness.DC, harness.ZONE), '"auto"'))
    d = harness.Daemon(t, machine_id="auto", why='the test is about '
                       '"auto" without coordination: refused')
    refused_config(t, d, "machine_id \"auto\" without coordination",
                   '"machine_id"', '"auto"', ("coordination", "etcd"))


def beyond_warned(t):
    """Warnings of a node on every address ("") that stops before it
    binds: it has no state file."""
    netns = netns_prefix()
    cases = [
        # (what, settings, identity warning, allow warning)
        ("no peers, no allow", {}, True, True),
        ("peers, no allow", {"peers": ["127.0.0.1:%d" % harness.closed_port()]},
         False, True),
        ("allow, no peers", {"allow": ["127.0.0.0/8"]}, True, False),
    ]
    if netns:
        etcd = "127.0.0.1:%d" % harness.closed_port()
        cases.append(("coordination.etcd and allow",
                      {"coordination": {"etcd": [etcd]},
                       "allow": ["127.0.0.0/8"]}, False, False))
    else:
        t.note("unshare -n is not possible here: the warnings are checked "
               "without a namespace of their own, and not with "
               "coordination.etcd (that node binds before it stops)")
    for what, settings, want_id, want_allow in cases:
        d = harness.Daemon(t, listen=[""], why=BEYOND, **settings)
        d.set(state_file=os.path.join(d.dir, "gone", "genid.state"),
              why=NO_STATE)
        d.init = False
        d.spawn(prefix=netns or ())
        rc = d.wait_exit(10)
        if rc is None:
            d.cleanup()
        out = d.output()
        label = "listen \"\" (any address), %s" % what
        if "coordination" not in settings:
            t.check(not LISTENING_RE.search(out), "%s: stops before it "
                    "binds" % label, out.strip())
        t.check(rc not in (None, 0), "%s: exits (no state file)" % label,
                "got %r" % rc)
        warned = warnings(out)
        ident = [w for w in warned if IDENTITY_WARNING in w]
        allow = [w for w in warned if ALLOW_WARNING in w]
        if want_id:
            t.check(len(ident) == 1, "%s: one identity warning" % label,
                    out.strip())
            for word in ("*:0", "beyond loopback", "machine_id %d"
                         % harness.MACHINE, "zone %d dc %d" % (harness.ZONE,
                                                             harness.DC),
                         "same IDs", '"peers"', "coordination.etcd"):
                t.check(ident and word in ident[0], "%s: the identity "
                        "warning says %s" % (label, word), ident)
        else:
            t.check(ident == [], "%s: no identity warning" % label, ident)
        if want_allow:
            t.check(len(allow) == 1, "%s: one allow warning" % label,
                    out.strip())
            for word in ("*:0", "any host", "set \"allow\""):
                t.check(allow and word in allow[0], "%s: the allow warning "
                        "says %s" % (label, word), allow)
        else:
            t.check(allow == [], "%s: no allow warning" % label, allow)
        t.note("\n".join(warned))

    # The control: the same failed start on loopback warns about neither.
    d = harness.Daemon(t)
    d.set(state_file=os.path.join(d.dir, "gone", "genid.state"),
          why=NO_STATE)
    d.init = False
    d.spawn()
    rc = d.wait_exit(10)
    out = d.output()
    t.check(rc == harness.EX_NOINPUT and warnings(out) == [],
            "127.0.0.1 without a state file: exit 66, no warning",
            "got %r: %s" % (rc, out.strip()))


def test(t):
    loopback_without_machine(t)
    beyond_refused(t)
    beyond_warned(t)


harness.run(test, control=True)
