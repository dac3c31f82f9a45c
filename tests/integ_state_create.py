#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
integ_state_create.py - making a new state file (genid --init).

Durable before genid --init says it is made: after the file is linked
into place its directory is fsynced (a reboot must not lose the name and
leave only the temporary file), before the line on stdout and exit 0.
Checked with strace -f -y; skipped when strace is missing.

A full disk: the file is allocated, not sparse, so genid --init on a file
system without room fails with "No space left on device" and the path
instead of a SIGBUS, and leaves no temporary file behind.  Checked on a
tmpfs of 4 KiB mounted for the test; skipped when mounting is not
permitted.
"""

import os
import re
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "integration"))
import harness  # noqa: E402


def durable(t):
    strace = shutil.which("strace")
    if strace is None:
        t.note("strace is not installed: the directory fsync is not "
               "checked")
        return False
    d = harness.Daemon(t)
    trace = os.path.join(d.dir, "strace.out")
    # LeakSanitizer cannot run under ptrace: no leak check in this run.
    asan = os.environ.get("ASAN_OPTIONS", "")
    rc, out = d.init_state(
        prefix=[strace, "-f", "-y", "-s", "256", "-o", trace, "-e",
                "trace=link,linkat,fsync,fdatasync,write"],
        env={"ASAN_OPTIONS": (asan + ":" if asan else "")
             + "detect_leaks=0"})
    t.check(rc == 0 and "state file made" in out, "genid --init: exit 0, "
            "says the file is made", "exit %r: %s" % (rc, out))
    with open(trace) as f:
        lines = f.read().splitlines()
    name = re.escape(d.state_path)
    linked = [i for i, ln in enumerate(lines)
              if re.search(r"link(at)?\(.*%s\"" % name, ln)
              and ln.rstrip().endswith("= 0")]
    t.check(linked, "the state file is linked into place", "\n".join(lines))
    if not linked:
        return True
    dirsync = [i for i, ln in enumerate(lines[linked[0]:], linked[0])
               if re.search(r"f(data)?sync\(\d+<%s>\) = 0"
                            % re.escape(d.dir), ln)]
    said = [i for i, ln in enumerate(lines)
            if re.search(r"write\(1\b.*state file made", ln)]
    t.check(dirsync, "its directory is fsynced after the link",
            "\n".join(lines))
    t.check(dirsync and said and dirsync[0] < said[0],
            "before genid --init says the file is made", "\n".join(lines))
    return True


def full_disk(t):
    d = harness.Daemon(t)
    small = os.path.join(d.dir, "small")
    os.mkdir(small)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4k", "tmpfs",
                        small], capture_output=True, text=True)
    if r.returncode != 0:
        t.note("cannot mount a tmpfs (%s): full disk not checked"
               % r.stderr.strip())
        return False
    try:
        path = os.path.join(small, "genid.state")
        d.set(state_file=path, why="a file system without room for the "
              "state file")
        rc, out = d.init_state()
        t.check(rc > 0, "genid --init fails on a full file system, with "
                "an exit code and no signal", "exit %r" % rc)
        t.check("No space left on device" in out and small in out,
                "the message says \"No space left on device\" and names the "
                "path", out.strip())
        left = os.listdir(small)
        t.check(left == [], "no file is left behind", left)
    finally:
        subprocess.run(["umount", small])
    return True


def test(t):
    ran = durable(t)
    ran = full_disk(t) or ran
    if not ran:
        t.skip("neither strace nor a tmpfs mount is available")


harness.run(test, control=True)
