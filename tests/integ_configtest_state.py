#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
integ_configtest_state.py - genid -t reports what a start would refuse in
the state file and the listening addresses, in the start's own words:
  - a clean node (state file made by genid --init, free port): exit 0,
    "FILE: configuration OK" and nothing else;
  - a state file made for another identity: exit 0, a note of what the
    start does (keeps it aside, makes a new one); one too short to be a
    state file: exit 73, one line, the very line a start refuses it with;
  - no state file: exit 73, the start's line naming --init and
    --init-lost; none with coordination.etcd, where the start makes it;
  - a running genid on the state file: exit 0, a note on stdout naming
    its pid and one for the address it serves, "configuration OK";
  - listen and metrics_listen addresses held by another process (plain
    sockets of this test): exit 73, a line each naming the address and
    the key; once the sockets are closed, exit 0.
"""

import os
import socket
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "integration"))
import harness  # noqa: E402


def run_t(d):
    d.write_config()
    return subprocess.run([harness.genid_path(), "-t", "-c", d.conf_path],
                          capture_output=True, text=True, timeout=20,
                          cwd=d.dir)


def ok(r, d):
    return (r.returncode == 0 and r.stderr == "" and
            r.stdout.endswith("%s: configuration OK\n" % d.conf_path))


def detail(r):
    return "exit %d, stdout %r, stderr %r" % (r.returncode, r.stdout,
                                               r.stderr)


def refused_start(d):
    """Starts genid on d's configuration, which must refuse: (exit, the
    lines it printed without the log's time stamp and name)."""
    d.spawn()
    rc = d.wait_exit(15)
    if rc is None:
        d.cleanup()
    lines = [line.split("genid: ", 1)[-1].split("]: ", 1)[-1]
             for line in d.output().splitlines()]
    return rc, lines


def t_line(r):
    """The one line -t printed on stderr, without "genid: "."""
    lines = r.stderr.splitlines()
    return lines[0][len("genid: "):] if len(lines) == 1 else None


def clean(t, d):
    rc, out = d.init_state()
    t.require(rc == 0, "genid --init", "exit %d, %s" % (rc, out))
    r = run_t(d)
    t.check(ok(r, d) and r.stdout == "%s: configuration OK\n" % d.conf_path,
            "-t on a clean node: configuration OK, exit 0, nothing else",
            detail(r))


def other_identity(t, d):
    d.set(machine_id=harness.MACHINE + 1, why="a state file made for "
          "another machine_id: -t must say what the start does with it")
    r = run_t(d)
    kept = "%s.zone%d-dc%d-machine%d-epoch%d" % (
        d.state_path, harness.ZONE, harness.DC, harness.MACHINE, d.epoch)
    t.check(ok(r, d) and d.state_path in r.stdout and
            "machine %d" % (harness.MACHINE + 1) in r.stdout and
            "keeps it as %s" % kept in r.stdout and
            "makes a new state file" in r.stdout,
            "-t on another machine's state file: exit 0, a note naming "
            "both identities, the name the start keeps the file under and "
            "that it makes a new one (integ_identity_change starts it)",
            detail(r))
    t.check(not os.path.exists(kept), "-t moves nothing")
    d.set(machine_id=harness.MACHINE, why="back to the file's identity")


def too_short(t, d):
    with open(d.state_path, "rb") as f:
        whole = f.read()
    with open(d.state_path, "wb") as f:
        f.write(whole[:100])
    r = run_t(d)
    line = t_line(r)
    t.check(r.returncode == harness.EX_CANTCREAT and line is not None and
            "100 bytes is too short for a genid state file" in line and
            "--init-lost" in line,
            "-t on a state file cut to 100 bytes: exit 73, one line with "
            "what to do", detail(r))
    rc, lines = refused_start(d)
    t.check(rc == harness.EX_DATAERR and line in lines,
            "-t says it in the words of the start that refuses it (65)",
            "start exit %r, %r; -t %r" % (rc, lines, line))
    with open(d.state_path, "wb") as f:
        f.write(whole)
    r = run_t(d)
    t.check(ok(r, d), "-t on the file restored: OK again", detail(r))


def no_file(t, d):
    aside = d.state_path + ".aside"
    os.rename(d.state_path, aside)
    r = run_t(d)
    line = t_line(r)
    t.check(r.returncode == harness.EX_CANTCREAT and line is not None and
            "no state file" in line and
            "genid -c %s --init." % d.conf_path in line and
            "genid -c %s --init-lost" % d.conf_path in line,
            "-t without a state file: exit 73, one line naming --init and "
            "--init-lost", detail(r))
    d.init = False
    rc, lines = refused_start(d)
    d.init = True
    t.check(rc == harness.EX_NOINPUT and line in lines,
            "-t says it in the words of the start that refuses it (66)",
            "start exit %r, %r; -t %r" % (rc, lines, line))

    d.set(coordination={"etcd": ["127.0.0.1:1"]}, why="with etcd a start "
          "makes the state file: -t must not ask for genid --init")
    r = run_t(d)
    t.check(ok(r, d) and "no state file" not in r.stdout,
            "-t with coordination.etcd and no state file: OK, exit 0",
            detail(r))
    d.set(coordination=None, why="back to the shipped configuration: no etcd")
    os.rename(aside, d.state_path)


def running(t, d):
    d.start()
    pid = d.master_pid()
    # -t beside the node, on the address it serves.
    d.set(port=d.port)
    r = run_t(d)
    notes = r.stdout.splitlines()
    want = ("genid: note: %s is in use by a running genid, pid %d: "
            % (d.state_path, pid))
    t.check(ok(r, d) and any(n.startswith(want) for n in notes),
            "-t beside a running genid: a note naming its pid, exit 0, "
            "configuration OK", detail(r))
    want = ("genid: note: listen: bind 127.0.0.1:%d: Address already in "
            "use, presumably by the running genid, pid %d" % (d.port, pid))
    t.check(want in notes, "-t: the address the running genid serves is "
            "a note, not a failure", "want %r in %r" % (want, notes))
    d.stop()
    d.set(port=0)


def held_ports(t, d):
    socks = []
    for _ in range(2):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        socks.append(s)
    port, mport = (s.getsockname()[1] for s in socks)
    d.set(port=port, metrics_listen="127.0.0.1:%d" % mport,
          why={"metrics_listen": "an address another process holds: -t "
               "must name it"})
    try:
        r = run_t(d)
    finally:
        for s in socks:
            s.close()
    lines = r.stderr.splitlines()
    want = ['genid: listen: bind 127.0.0.1:%d: Address already in use: '
            'another process listens there (stop it, or change "listen")'
            % port,
            'genid: metrics_listen: bind 127.0.0.1:%d: Address already in '
            'use: another process listens there (stop it, or change '
            '"metrics_listen")' % mport]
    t.check(r.returncode == harness.EX_CANTCREAT and r.stdout == "" and
            lines == want,
            "-t with both addresses held by another process: exit 73, a "
            "line each naming the address and the key", detail(r))
    r = run_t(d)
    t.check(ok(r, d), "-t once the sockets are closed: OK, exit 0",
            detail(r))


def test(t):
    d = harness.Daemon(t)
    clean(t, d)
    other_identity(t, d)
    too_short(t, d)
    no_file(t, d)
    running(t, d)
    held_ports(t, d)


harness.run(test, control=True, timeout=120)
