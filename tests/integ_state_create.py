#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
integ_state_create.py - making a new state file.

Durable before the first ID: after the file is linked into place its
directory is fsynced (a reboot must not lose the name and leave only the
temporary file), before genid listens.  Checked with strace -f -y; skipped
when strace is missing.

A full disk: the file is allocated, not sparse, so a file system without
room fails the start with "No space left on device" and the path instead
of a SIGBUS, and leaves no temporary file behind.  Checked on a tmpfs of
4 KiB mounted for the test; skipped when mounting is not permitted.
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
    d = harness.Daemon(t, workers=1)
    trace = os.path.join(d.dir, "strace.out")
    # LeakSanitizer cannot run under ptrace: no leak check in this start.
    asan = os.environ.get("ASAN_OPTIONS", "")
    d.start(prefix=[strace, "-f", "-y", "-o", trace, "-e",
                    "trace=link,linkat,fsync,fdatasync,listen"],
            env={"ASAN_OPTIONS": (asan + ":" if asan else "")
                 + "detect_leaks=0"})
    d.stop()
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
    listen = [i for i, ln in enumerate(lines) if "listen(" in ln]
    t.check(dirsync, "its directory is fsynced after the link",
            "\n".join(lines))
    t.check(dirsync and listen and dirsync[0] < listen[0],
            "before genid listens", "\n".join(lines))
    return True


def full_disk(t):
    d = harness.Daemon(t, workers=1)
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
        d.set(state_file=path)
        d.spawn()
        rc = d.wait_exit(15)
        out = d.output()
        t.check(rc is not None and rc > 0, "genid fails to start on a full "
                "file system, with an exit code and no signal",
                "exit %r" % rc)
        t.check("No space left on device" in out and small in out,
                "the message says \"No space left on device\" and names the "
                "path", out.strip())
        left = os.listdir(small)
        t.check(left == [], "no file is left behind", left)
    finally:
        if d.running():
            d.kill_all()
        subprocess.run(["umount", small])
    return True


def test(t):
    ran = durable(t)
    ran = full_disk(t) or ran
    if not ran:
        t.skip("neither strace nor a tmpfs mount is available")


harness.run(test, control=True)
