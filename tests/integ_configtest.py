#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
integ_configtest.py - genid -t checks what a start would trip on besides
the file itself, and says which key to look at:
  - the directory of state_file, pid_file or log_file is missing: exit 73,
    one line a path naming it and (check "KEY"), no library function;
  - with "user" (nobody) set: a directory of state_file, pid_file or
    log_file that user may not write, a directory above it may not enter,
    a state file it may not read and write (genid --init as root makes
    one), or a log file it may not write, is named with (check "KEY" and
    "user"), what genid does there as that user and what to do (chown
    nobody PATH, chmod o+x DIR); once they belong to it, -t says
    configuration OK and exit 0;
  - a start on a missing pid directory says (check "pid_file"), not
    pidfile_open; genid --init on a missing state directory (check
    "state_file").
The parts with "user" need root and the user nobody; they skip otherwise.
"""

import json
import os
import re
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "integration"))
import harness  # noqa: E402


def run_t(conf_path, cwd):
    return subprocess.run([harness.genid_path(), "-t", "-c", conf_path],
                          capture_output=True, text=True, timeout=20,
                          cwd=cwd)


def write(path, conf):
    with open(path, "w") as f:
        json.dump(conf, f)


def missing_dirs(t, top):
    conf = os.path.join(top, "genid.json")
    gone = os.path.join(top, "gone")
    paths = {"state_file": os.path.join(gone, "genid.state"),
             "pid_file": os.path.join(gone, "genid.pid"),
             "log_file": os.path.join(gone, "genid.log")}
    write(conf, dict(paths, port=0))
    r = run_t(conf, top)
    lines = r.stderr.splitlines()
    t.check(r.returncode == harness.EX_CANTCREAT and r.stdout == "",
            "-t on missing directories: exit 73, no 'configuration OK'",
            "exit %d, %r" % (r.returncode, r.stdout + r.stderr))
    for key, path in paths.items():
        want = ("genid: %s: directory %s: No such file or directory "
                "(check \"%s\")" % (path, gone, key))
        t.check(want in lines, "-t names %s's missing directory and the key"
                % key, "want %r in %r" % (want, lines))
    t.check(len(lines) == 3 and "pidfile" not in r.stderr,
            "-t: one line a problem, no library function named",
            repr(lines))

    # The start itself names the key of the pid file, not pidfile_open.
    os.mkdir(os.path.join(top, "state"))
    d = harness.Daemon(t, dir=os.path.join(top, "state"))
    d.set(pid_file=paths["pid_file"], log_file="", why={
        "pid_file": "a pid directory that does not exist: the start must "
                    "name the key"})
    d.spawn()
    rc = d.wait_exit(15)
    out = d.output()
    if rc is None:
        d.cleanup()
    t.check(rc == harness.EX_CANTCREAT and
            "open %s: No such file or directory (check \"pid_file\")"
            % paths["pid_file"] in out and "pidfile_open" not in out,
            "a start on a missing pid directory: exit 73, names the key",
            "exit %r, %r" % (rc, out))

    # And genid --init that of the state file.
    d.set(state_file=paths["state_file"], why="a state directory that "
          "does not exist: genid --init must name the key")
    rc, out = d.init_state()
    t.check(rc == harness.EX_CANTCREAT and re.search(
        r'%s.*: No such file or directory \(check "state_file"\)$'
        % re.escape(gone), out, re.M),
            "genid --init on a missing state directory: exit 73, names "
            "the key", "exit %r, %r" % (rc, out))


def user_line(lines, head, fix):
    """The line of lines that starts with head and says fix, or None."""
    hits = [x for x in lines if x.startswith(head) and fix in x]
    return hits[0] if len(hits) == 1 else None


def as_user(t, top):
    nobody = harness.user_nobody(t)
    if nobody is None:
        return
    # nobody may pass through top, but not write to it.
    os.chmod(top, 0o711)
    run = os.path.join(top, "run")
    os.mkdir(run, 0o755)
    conf = os.path.join(top, "user.json")
    paths = {"state_file": os.path.join(run, "genid.state"),
             "pid_file": os.path.join(run, "genid.pid"),
             "log_file": os.path.join(run, "genid.log")}
    # What genid does in each directory as nobody, as -t says it.
    does = {"state_file": "writes a new state file there",
            "pid_file": "removes the pid file there",
            "log_file": "makes the log file anew there"}
    write(conf, dict(paths, port=0, user="nobody"))
    r = run_t(conf, top)
    lines = r.stderr.splitlines()
    t.check(r.returncode == harness.EX_CANTCREAT,
            "-t, user nobody, a root-owned directory: exit 73",
            "exit %d, %r" % (r.returncode, r.stdout + r.stderr))
    for key, path in paths.items():
        head = ("genid: %s: directory %s is not writable by user nobody "
                "(check \"%s\" and \"user\"): genid, running as nobody, %s"
                % (path, run, key, does[key]))
        line = user_line(lines, head, "; chown nobody %s if the directory "
                         "is genid's own, or set \"%s\"" % (run, key))
        t.check(line, "-t names %s, its directory, the user, what genid "
                "does there and what to do when nobody may not write it"
                % key, "want %r in %r" % (head, lines))
    t.note("\n".join(lines))

    os.chown(run, nobody.pw_uid, nobody.pw_gid)
    # genid --init as root makes a state file of root's (0640).
    r = subprocess.run([harness.genid_path(), "-c", conf, "--init"],
                       capture_output=True, text=True, timeout=20, cwd=top)
    t.require(r.returncode == 0, "genid --init for user nobody's node",
              "exit %d, %r" % (r.returncode, r.stdout + r.stderr))
    with open(paths["log_file"], "w"):
        pass
    os.chmod(paths["log_file"], 0o600)
    r = run_t(conf, top)
    lines = r.stderr.splitlines()
    state = user_line(
        lines, "genid: %s is not readable and writable by user nobody "
        "(check \"state_file\" and \"user\"): " % paths["state_file"],
        "; chown nobody %s" % paths["state_file"])
    log = user_line(
        lines, "genid: %s is not writable by user nobody (check "
        "\"log_file\" and \"user\"): genid, running as that user, reopens "
        "it on SIGHUP" % paths["log_file"],
        "; chown nobody %s" % paths["log_file"])
    t.check(r.returncode == harness.EX_CANTCREAT and state and log and
            len(lines) == 2,
            "-t: a state file nobody may not read and write, and a log "
            "file it may not reopen, are named with what to do, nothing "
            "else", "exit %d, %r" % (r.returncode, lines))
    t.note("\n".join(lines))

    os.chown(paths["log_file"], nobody.pw_uid, nobody.pw_gid)
    r = run_t(conf, top)
    lines = r.stderr.splitlines()
    t.check(r.returncode == harness.EX_CANTCREAT and len(lines) == 1 and
            lines[0].startswith("genid: %s is not readable and writable"
                                % paths["state_file"]),
            "-t: once the log file is nobody's, the state file is left",
            "exit %d, %r" % (r.returncode, lines))

    os.chown(paths["state_file"], nobody.pw_uid, nobody.pw_gid)
    r = run_t(conf, top)
    t.check(r.returncode == 0 and r.stderr == "" and
            r.stdout == "%s: configuration OK\n" % conf,
            "-t: once the directory, state file and log belong to nobody, "
            "OK, exit 0",
            "exit %d, %r" % (r.returncode, r.stdout + r.stderr))

    os.chmod(top, 0o700)
    r = run_t(conf, top)
    head = ("genid: %s: user nobody may not enter directory %s (check "
            "\"state_file\" and \"user\"): " % (paths["state_file"], top))
    t.check(r.returncode == harness.EX_CANTCREAT and
            user_line(r.stderr.splitlines(), head, "chmod o+x %s" % top),
            "-t: a directory above that nobody may not enter is named, "
            "with what to do", "exit %d, %r" % (r.returncode, r.stderr))


def test(t):
    missing_dirs(t, t.tmpdir())
    as_user(t, t.tmpdir())


harness.run(test, control=True, timeout=60)
