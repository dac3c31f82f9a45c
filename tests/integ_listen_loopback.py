#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
integ_listen_loopback.py - genid listens on 127.0.0.1:3778 and [::1]:3778
as shipped (etc/genid.json, and the default of "listen", genid.json(5)),
and a loopback address the host lacks is skipped, as Redis 7 skips
"-::1", while every other failure to listen stays fatal:
  - a host without IPv6 loopback (a network namespace of the test's own,
    lo up with IPv6 off): the shipped configuration starts, listens on
    127.0.0.1:3778 only, serves there, and warns once, naming [::1]:3778
    and why; genid -t prints the same and says configuration OK;
  - there, a "listen" of [::1] alone leaves nothing: the start fails (71)
    and -t fails (73), both naming [::1]:3778;
  - an address beyond loopback the host lacks (192.0.2.1) is fatal, by
    -t too, though 127.0.0.1 binds;
  - [::1] held by another socket is fatal, by -t too (on this host, when
    it has ::1).
The namespace parts need unshare(1), ip(8) and root; they skip otherwise.
Every port is on loopback: the namespace's own 3778, or an ephemeral one.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "integration"))
import harness  # noqa: E402

# The namespace: its own loopback, up for IPv4, without IPv6; the command
# genid runs as is appended ("$@"), and exec keeps genid's pid the one the
# harness started.
NO_IPV6 = ("ip link set lo up && "
           "sysctl -qw net.ipv6.conf.lo.disable_ipv6=1 && exec \"$@\"")

ONLY_V6 = ("a host without IPv6 loopback and only [::1] to listen on: the "
           "start has nothing left and must fail")
LACKING = ("an address beyond loopback this host lacks (TEST-NET-1): its "
           "failure stays fatal")
SHIPPED = ("the shipped addresses themselves, 3778 included: the "
           "namespace has them free")
HELD = ("[::1] on a port another socket holds: in use stays fatal")

SKIP_RE = re.compile(r"warning: .*\[::1\]:3778: Cannot assign requested "
                     r"address: this host has no such loopback address")
LISTENING_ON_RE = re.compile(r"\]: \w+: listening on (\S+)$", re.M)


def netns_prefix(t):
    """The command prefix that runs genid in a namespace without IPv6
    loopback, or None (noted) when this host cannot make one."""
    unshare, ip = shutil.which("unshare"), shutil.which("ip")
    if not unshare or not ip or os.geteuid() != 0:
        t.note("namespace parts skipped: need unshare, ip and root")
        return None
    prefix = [unshare, "-n", "sh", "-c", NO_IPV6, "sh"]
    r = subprocess.run(prefix + ["true"], capture_output=True, text=True,
                       timeout=20)
    if r.returncode != 0:
        t.note("namespace parts skipped: %s" % r.stderr.strip())
        return None
    return prefix


def run_t(d, prefix):
    """genid -t on d's configuration, in the namespace of prefix."""
    r = subprocess.run(list(prefix) + [harness.genid_path(), "-t", "-c",
                                       d.conf_path],
                       capture_output=True, text=True, timeout=30,
                       cwd=d.dir)
    return r.returncode, r.stdout, r.stderr


def get_inside(pid):
    """The machine of an ID fetched from 127.0.0.1:3778 inside the network
    namespace of pid, or the error."""
    code = ("import sys; sys.path.insert(0, %r); import harness; "
            "s = harness.connect(('127.0.0.1', 3778)); "
            "print(harness.decode(harness.get_id(s)).machine)"
            % os.path.dirname(os.path.abspath(harness.__file__)))
    r = subprocess.run(["nsenter", "-t", str(pid), "-n", sys.executable,
                        "-c", code], capture_output=True, text=True,
                       timeout=30)
    return r.stdout.strip() if r.returncode == 0 else r.stderr.strip()


def init(t, d, prefix):
    """Makes d's state file, as an operator does before the first start."""
    rc, out = d.init_state(prefix=prefix)
    t.require(rc == 0, "genid --init", "exit %d: %s" % (rc, out.strip()))


def stop(d):
    """SIGTERM to the master and its exit status (None: it did not stop in
    time).  genid runs as the process the harness spawned (exec in the
    namespace), which the harness would take for a wrapper of it."""
    os.kill(d.proc.pid, signal.SIGTERM)
    return d.wait_exit(30)


def shipped_without_ipv6(t, prefix):
    d = harness.Daemon(t)
    d.set(listen=d.shipped["listen"], port=None, why=SHIPPED)
    init(t, d, prefix)
    rc, out, err = run_t(d, prefix)
    t.check(rc == 0 and "configuration OK" in out,
            "-t without IPv6 loopback: configuration OK, exit 0",
            "exit %d: %s%s" % (rc, out, err))
    t.check(len(SKIP_RE.findall(out)) == 1 and "a start skips it" in out,
            "-t without IPv6 loopback: one warning names [::1]:3778 and why",
            out + err)

    d.spawn(prefix=prefix)
    ready = harness.poll(lambda: harness.READY_RE.search(d.output()), 30)
    out = d.output()
    t.require(ready, "without IPv6 loopback the shipped configuration "
              "starts", out.strip())
    t.check(LISTENING_ON_RE.findall(out) == ["127.0.0.1:3778"],
            "without IPv6 loopback: listens on 127.0.0.1:3778 only",
            LISTENING_ON_RE.findall(out))
    skips = SKIP_RE.findall(out)
    t.check(len(skips) == 1, "without IPv6 loopback: one warning names "
            "[::1]:3778 and why", out.strip())
    t.note("\n".join(line for line in out.splitlines() if "::1" in line))
    t.check(get_inside(d.proc.pid) == str(harness.MACHINE),
            "without IPv6 loopback: serves IDs on 127.0.0.1:3778",
            get_inside(d.proc.pid))
    rc = stop(d)
    t.check(rc == 0, "without IPv6 loopback: stops with 0", "got %r" % rc)


def refused(t, d, prefix, what, start_rc, words):
    """d fails to start (exit start_rc) and -t fails (73) in the namespace
    of prefix; both say each of words."""
    init(t, d, prefix)
    rc, out, err = run_t(d, prefix)
    t.check(rc == harness.EX_CANTCREAT and "configuration OK" not in out,
            "-t, %s: exit 73" % what, "exit %d: %s%s" % (rc, out, err))
    for w in words:
        t.check(w in err, "-t, %s: says %s" % (what, w), err.strip())
    d.spawn(prefix=prefix)
    rc = d.wait_exit(30)
    out = d.output()
    if rc is None:
        d.cleanup()
    t.check(rc == start_rc, "start, %s: exit %d" % (what, start_rc),
            "got %r: %s" % (rc, out.strip()))
    for w in words:
        t.check(w in out, "start, %s: says %s" % (what, w), out.strip())
    t.check(not harness.READY_RE.search(out), "start, %s: never ready"
            % what, out.strip())


def only_ipv6(t, prefix):
    d = harness.Daemon(t, listen=["[::1]:3778"], why=ONLY_V6)
    d.set(port=None)
    refused(t, d, prefix, "only [::1] without IPv6 loopback",
            harness.EX_OSERR, ("[::1]:3778", "Cannot assign requested "
                               "address", "no such loopback address"))


def lacking_beyond(t, prefix):
    d = harness.Daemon(t, listen=["127.0.0.1:3778", "192.0.2.1:3778"],
                       why=LACKING)
    d.set(port=None)
    refused(t, d, prefix, "192.0.2.1 beyond loopback, lacking",
            harness.EX_OSERR, ("bind 192.0.2.1:3778: Cannot assign "
                               "requested address",))


def held_ipv6(t):
    try:
        holder = socket.socket(socket.AF_INET6)
        holder.bind(("::1", 0))
    except OSError as e:
        t.note("this host has no IPv6 loopback (%s): [::1] in use not "
               "checked" % e)
        return
    with holder:
        holder.listen()
        port = holder.getsockname()[1]
        d = harness.Daemon(t, listen=["127.0.0.1:%d" % port,
                                      "[::1]:%d" % port], why=HELD)
        refused(t, d, (), "[::1]:%d held by another socket" % port,
                harness.EX_OSERR, ("[::1]:%d: Address already in use"
                                   % port,))


def test(t):
    prefix = netns_prefix(t)
    if prefix:
        shipped_without_ipv6(t, prefix)
        only_ipv6(t, prefix)
        lacking_beyond(t, prefix)
    held_ipv6(t)


harness.run(test, control=True, timeout=120)
