#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
integ_upgrade.py - the genid of the last release, then the tree's, on one
state file and one configuration (issue 20, section 2).

The release is commit RELEASE, built from the repository's history by
contrib/build-release.sh (or taken from GENID_RELEASE_DIR, a directory of
that script's output).  Both genids read the same configuration file:
the release's etc/genid.json, which is what an upgraded node still runs
with, moved onto 127.0.0.1 port 0 and a temporary directory.

Two rounds, each on a new state file: the release's genid serves eight
connections (CMD 0 and CMD 1 n=255), every ID recorded, and is stopped
under that load, with SIGTERM in round 1 and with SIGKILL of its process
group in round 2.  The tree's genid then starts on the same file: it must
say "serving" in INFO within SERVE_DEADLINE_S, and of the IDs it issues
in its first seconds, on 40 connections, none may repeat one issued
before, and each must be above every ID the release issued on its bucket.
After the crash every one must also be above the checkpoint of the file
and so above every ID the release issued (all buckets resume above the
checkpoint); after the clean stop some must be below that checkpoint
(each bucket resumes where it stood, its word carried over), and so may
be below IDs the release issued on other buckets, which is no repeat
(genid(8), RESTART SAFETY).

Then the other way: the release's genid on a state file the tree's genid
made.  When that file's layout is newer, the release must refuse it,
naming the layout, and leave every byte of it as it was; when the
tree's genid can write an older layout (--state-layout), the file is
converted back and the release must serve above everything issued.

The layout version each file has (magic u64 at 0, version u32 at 8,
little-endian) is logged before and after each start.

    GENID_BUILDDIR=build python3 tests/integ_upgrade.py

GENID (or GENID_BUILDDIR, else ./build) names the tree's genid.  Exit
status 0 pass, 1 fail (a release that cannot be built is a failure, not
a skip).
"""

import hashlib
import json
import os
import re
import signal
import struct
import subprocess
import sys
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(HERE, "integration"))
import harness  # noqa: E402

# The last release: the commit issue 20 starts from.
RELEASE = "f30e53c"
# Why --new-node, away from how the 0.1.0 package started genid: it is the
# release's genid --init (a node that never issued IDs), the first start
# this tree's package makes.  Without it the release's first start stamps
# IDs 12-14 s ahead of the clock (the flaw issue 19 removed; measured: ts
# 1796695421 against a wall clock of ..417), and the test's timestamp
# checks would fail the release, not the upgrade.
RELEASE_FIRST_START = "--new-node"
# The layout the release writes and reads (src/core/state.h there).
RELEASE_LAYOUT = 3
STATE_MAGIC = 0x31545344494e4547

# How soon after its process starts the tree's genid must say "serving":
# the state file's checkpoint is kept max_ahead_s + 1 = 6 s ahead of the
# clock (shipped max_ahead_s 5), and after a crash the buckets resume 2 s
# beyond that, so a start that waited for the clock to catch up would
# take 6 s or more; a start takes about 0.1 s here (integ_restart holds
# the first ID to 1 s), which leaves 30 times that on a busy machine.
SERVE_DEADLINE_S = 3.0
# IDs fetched from the release before it is stopped: 75000 a connection,
# more than a bucket's 65536 a second, so that buckets borrow seconds
# ahead of the clock (the case a restart must get right) unless the
# machine spreads the load over more seconds.
LOAD_BEFORE = 600000
# IDs fetched from the tree's genid after the start: "its first seconds".
LOAD_AFTER = 300000
# Connections of the load before the stop, and after the start: more
# than the 32 buckets of a node, so that every bucket the release used
# serves some (a worker puts a connection on its least loaded bucket).
CONNS = 8
CONNS_AFTER = 40


# ------------------------------------------------------------ the builds

def release_dir(t):
    """The release's build (src/genid, etc/genid.json ...): GENID_RELEASE_DIR,
    or built now from the repository's history (cached)."""
    d = os.environ.get("GENID_RELEASE_DIR")
    if not d:
        t0 = time.monotonic()
        r = subprocess.run(["sh", os.path.join(TOP, "contrib",
                                               "build-release.sh"), RELEASE],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=1800)
        t.note(re.sub(r"(?m)^# ", "", r.stderr.strip()))
        if r.returncode == 77:
            t.skip("the release %s is not in this clone's history, so the "
                   "upgrade from it cannot be tested here: %s"
                   % (RELEASE, r.stderr.strip().splitlines()[-1]))
        t.require(r.returncode == 0 and r.stdout.strip(),
                  "the genid of release %s is built from the repository's "
                  "history" % RELEASE, "contrib/build-release.sh exited %d"
                  % r.returncode)
        d = r.stdout.strip().splitlines()[-1]
        t.note("release build: %s (%.0f s)" % (d, time.monotonic() - t0))
    for rel in ("src/genid", "etc/genid.json"):
        t.require(os.path.exists(os.path.join(d, rel)),
                  "the release build has %s" % rel, d)
    return d


def tree_genid():
    return os.path.abspath(harness.genid_path())


def mentions_state_layout(genid):
    """Whether the tree's genid can write an older layout: its --help or
    its man page names --state-layout."""
    r = subprocess.run([genid, "--help"], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=30)
    with open(os.path.join(TOP, "man", "genid.8")) as f:
        man = f.read()
    return ("--state-layout" in r.stdout + r.stderr or
            "state\\-layout" in man or "--state-layout" in man)


# ------------------------------------------------------------ the file

def layout(path):
    """(magic, version) from the state file's header."""
    with open(path, "rb") as f:
        head = f.read(12)
    if len(head) < 12:
        return None, None
    return struct.unpack("<QI", head)


def log_layout(t, path, when):
    magic, version = layout(path)
    t.note("%s: layout %s (magic %#x%s)" % (
        when, version, magic or 0,
        "" if magic == STATE_MAGIC else ", not GENIDST1"))
    return version


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def write_config(t, release, d):
    """The one configuration both genids read: the release's shipped file,
    on 127.0.0.1 port 0 with its files in d; returns its path."""
    with open(os.path.join(release, "etc", "genid.json")) as f:
        conf = json.load(f)
    conf.update({
        "listen": ["127.0.0.1"],
        "port": 0,
        "state_file": os.path.join(d, "genid.state"),
        "pid_file": os.path.join(d, "genid.pid"),
        "log_file": os.path.join(d, "genid.log"),
    })
    # The one setting changed from the shipped one (harness.IDENTITY_WHY).
    conf.update(zone_id=harness.ZONE, dc_id=harness.DC,
                machine_id=harness.MACHINE)
    path = os.path.join(d, "genid.json")
    with open(path, "w") as f:
        json.dump(conf, f, indent=2)
        f.write("\n")
    return path


# ------------------------------------------------------------ a node

class Node:
    """One genid master this test started, leading its own process group
    (start_new_session), so that its workers can be killed with it."""

    def __init__(self, t, genid, conf, name):
        self.t = t
        self.genid = genid
        self.conf = conf
        self.dir = os.path.dirname(conf)
        self.name = name
        self.log_path = os.path.join(self.dir, "genid.log")
        self.out_path = os.path.join(self.dir, "stderr.%s.log" % name)
        self.proc = None
        self.started_at = None
        self.port = None
        self.workers = {}  # pid -> start time, as seen while running
        self._log_off = 0
        # harness.run stops every registered daemon, whatever ends the
        # test (cleanup()).
        harness._daemons.append(self)

    def spawn(self, args=()):
        try:
            self._log_off = os.path.getsize(self.log_path)
        except OSError:
            self._log_off = 0
        with open(self.out_path, "ab") as out:
            self.started_at = time.monotonic()
            self.proc = subprocess.Popen(
                [self.genid, "-c", self.conf] + list(args),
                stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                cwd=self.dir, start_new_session=True)
        return self

    def output(self):
        """What this run wrote to the log file, and to its stderr."""
        text = ""
        for path, off in ((self.log_path, self._log_off),
                          (self.out_path, 0)):
            try:
                with open(path, "rb") as f:
                    f.seek(off)
                    text += f.read().decode(errors="replace")
            except OSError:
                pass
        return text

    def wait_listening(self, deadline):
        """The port, once the log says "listening on" and "ready:"."""
        def up():
            text = self.output()
            m = harness.LISTEN_RE.search(text)
            if m and harness.READY_RE.search(text):
                return int(m.group(1))
            if self.proc.poll() is not None:
                raise harness.Failure("%s genid exited with %d:\n%s" % (
                    self.name, self.proc.returncode, text.strip()))
            return None
        self.port = harness.poll(up, deadline, 0.005)
        if not self.port:
            raise harness.Failure("%s genid not listening within %.0f s:\n%s"
                                  % (self.name, deadline,
                                     self.output().strip()))
        self.note_workers()
        return self.port

    @property
    def addr(self):
        return ("127.0.0.1", self.port)

    def note_workers(self):
        for w in harness.children(self.proc.pid):
            self.workers.setdefault(w, harness.start_time(w))

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, deadline=15):
        """SIGTERM to the master, then waits for it: the exit status, or
        None when it still runs after deadline."""
        self.note_workers()
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            return self.proc.wait(timeout=deadline)
        except subprocess.TimeoutExpired:
            return None

    def kill9(self):
        """SIGKILL to the process group this test started (master and
        workers), then waits until all of them are gone."""
        self.note_workers()
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=15)
        return harness.poll(lambda: not self.workers_alive(), 15, 0.005)

    def workers_alive(self):
        return [w for w, st in self.workers.items()
                if harness.alive(w) and harness.start_time(w) == st]

    def cleanup(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            # The master is not reaped, so its pid is still its group's.
            self.note_workers()
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        for w in self.workers_alive():
            try:
                os.kill(w, signal.SIGKILL)
            except OSError:
                pass


def serving_within(t, node, deadline, what):
    """Polls INFO from the start of node until it says "serving"; checks
    it does within deadline (from the process start) and returns the
    seconds it took."""
    last = {}

    def serving():
        try:
            with harness.connect(node.addr, timeout=2) as s:
                last.update(harness.info(s))
        except (OSError, EOFError, ValueError):
            return False
        return last.get("state") == "serving"
    end = node.started_at + deadline
    port = harness.poll(lambda: node.port or _listening(node), deadline, 0.005)
    ok = bool(port) and harness.poll(
        serving, max(end - time.monotonic(), 0), 0.005)
    took = time.monotonic() - node.started_at
    t.check(ok, "%s: INFO says \"serving\" %.3f s after the start "
            "(deadline %.0f s)" % (what, took, deadline),
            "last INFO %s\n%s" % (json.dumps(last), node.output().strip()))
    return took


def _listening(node):
    try:
        return node.wait_listening(0)
    except harness.Failure:
        return None


def load_until(t, node, amount, what):
    """Runs harness.Load on CONNS connections until amount IDs came."""
    load = harness.Load(node.addr, conns=CONNS, target=10 ** 9,
                        time_limit=60)
    load.start()
    t.require(harness.poll(lambda: load.total >= amount or
                           load.finished.is_set(), 60, 0.01),
              "%s: %d IDs under load on %d connections" % (
                  what, amount, CONNS), "got %d" % load.total)
    return load


def check_above(t, before, after, what, globally, who="the release"):
    """Every ID in after is above every ID in before of its bucket
    (what genid promises of each bucket: no ID again), and with globally,
    above the largest of before (unsigned, as IDs are).  Returns the
    number of IDs in after that are not above that largest one."""
    bmax = {}
    for x in before:
        b = (x >> 16) & 31
        if x > bmax.get(b, 0):
            bmax[b] = x
    top = max(before)
    same = [x for x in after if (x >> 16) & 31 in bmax]
    bad = ["bucket %d: %#x <= %#x" % ((x >> 16) & 31, x, bmax[(x >> 16) & 31])
           for x in same if x <= bmax[(x >> 16) & 31]]
    t.check(same and not bad, "%s: each of the %d IDs on the %d buckets %s "
            "used is above every ID %s issued on its bucket" % (
                what, len(same), len(bmax), who, who),
            "%d not, e.g. %s" % (len(bad), "; ".join(bad[:5])) if bad
            else "no ID after the start on those buckets")
    low = [x for x in after if x <= top]
    if globally:
        t.check(not low, "%s: every one of %d IDs is above the largest %s "
                "issued, %#x (ts %d)" % (what, len(after), who, top,
                                         top >> 32),
                "%d not, e.g. %s" % (len(low), ", ".join(
                    "%#x %s" % (x, harness.decode(x)) for x in low[:3])))
    return len(low)


def checkpoint_of(t, release, state):
    """The checkpoint (s since the epoch) of a stopped node's state file,
    as the release's own genidctl reads it."""
    r = subprocess.run([os.path.join(release, "cli", "genidctl"), "stats",
                        "-s", state, "--json"], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=30)
    t.require(r.returncode == 0, "the release's genidctl stats reads the "
              "stopped file", r.stdout + r.stderr)
    return json.loads(r.stdout)["checkpoint"]["ts"]


def ids_after(t, node, what):
    """IDs from the tree's genid in its first seconds: one at once, then
    LOAD_AFTER on CONNS connections, checked per connection."""
    with harness.connect(node.addr) as s:
        first = harness.get_ids(s, 255)
    load = harness.Load(node.addr, conns=CONNS_AFTER, target=LOAD_AFTER,
                        time_limit=20)
    load.run()
    t.check(not load.errors and not load.protocol_errors,
            "%s: %d connections served" % (what, CONNS_AFTER),
            "; ".join((load.errors + load.protocol_errors)[:5]))
    return first, load


# ------------------------------------------------------------ the rounds

def old_then_new(t, release, genid, kill, n):
    """Round n: the release under load, stopped (kill: SIGKILL of its
    process group, else SIGTERM), then the tree's genid on its file."""
    what = "round %d (%s)" % (n, "kill -9" if kill else "SIGTERM")
    d = t.tmpdir()
    conf = write_config(t, release, d)
    state = os.path.join(d, "genid.state")
    load = release_under_load(t, release, conf, kill, what)
    log_layout(t, state, "%s: after the release stopped" % what)
    ckpt = checkpoint_of(t, release, state)
    t.note("%s: the stopped file's checkpoint: %d, %d s ahead of the "
           "clock" % (what, ckpt, ckpt - int(time.time())))

    # The tree's genid starts at once: the checks of the release's IDs
    # wait, so that the start comes well within the checkpoint's lead.
    new = Node(t, genid, conf, "tree")
    new.spawn()
    took = serving_within(t, new, SERVE_DEADLINE_S, "%s: the tree's genid"
                          % what)
    version = log_layout(t, state, "%s: the tree's genid serving" % what)
    t.check(version in (RELEASE_LAYOUT, RELEASE_LAYOUT + 1),
            "%s: the file is layout 3 or 4 after the start" % what,
            "layout %r" % version)
    first, after_load = ids_after(t, new, what)
    rc = new.stop()
    t.check(rc == 0, "%s: the tree's genid exits 0 on SIGTERM" % what,
            "exit %r" % rc)

    node = harness.node_bits(harness.ZONE, harness.DC, harness.MACHINE)
    before = load.all_ids()
    harness.check_segments(t, load.segments, node, 0, load.wall_start,
                           load.wall_end, 5, "%s: the release" % what)
    after = after_load.all_ids()
    after.extend(first)
    harness.check_segments(t, after_load.segments, node, 0,
                           after_load.wall_start, after_load.wall_end,
                           5 + 3, "%s: the tree's genid" % what)
    # After a crash every bucket resumes above the durable checkpoint,
    # which every ID issued was at or below: all IDs after the start are
    # above all IDs before.  After a clean stop each bucket resumes where
    # it stood, which is only above its own IDs (genid(8), RESTART SAFETY).
    low = check_above(t, before, after, what, globally=kill)
    under = [x for x in after if x >> 32 <= ckpt]
    if kill:
        t.check(not under, "%s: after a crash every ID is above the "
                "checkpoint %d (the checkpoint carried over)" % (what, ckpt),
                "%d not, e.g. %s" % (len(under), ", ".join(
                    "%#x %s" % (x, harness.decode(x)) for x in under[:3])))
    else:
        t.check(under, "%s: after a clean stop the buckets resume where "
                "they stood (the bucket words carried over): %d of %d IDs "
                "at or below the checkpoint %d" % (
                    what, len(under), len(after), ckpt))
        t.note("%s: %d of %d IDs after the start are at or below the "
               "largest the release issued, on other buckets" % (
                   what, low, len(after)))
    harness.check_unique(t, before + after, what)
    t.note("%s: %d IDs from the release, %d from the tree's genid; serving "
           "%.3f s after the start" % (what, len(before), len(after), took))


def release_under_load(t, release, conf, kill, what):
    """The release's genid on a new state file, serving CONNS connections
    until it is stopped under that load; returns the load (its IDs)."""
    old = Node(t, os.path.join(release, "src", "genid"), conf, "release")
    old.spawn([RELEASE_FIRST_START]).wait_listening(30)
    log_layout(t, os.path.join(old.dir, "genid.state"),
               "%s: the release's new state file" % what)
    load = load_until(t, old, LOAD_BEFORE, "%s: the release" % what)
    t0 = time.monotonic()
    if kill:
        gone = old.kill9()
        t.check(gone, "%s: the release's master and %d workers are gone" % (
            what, len(old.workers)))
    else:
        rc = old.stop()
        t.check(rc == 0, "%s: the release exits 0 under load" % what,
                "exit %r\n%s" % (rc, old.output().strip()))
    t.note("%s: the release stopped in %.2f s" % (what,
                                                  time.monotonic() - t0))
    load.join(30)
    t.check(not load.protocol_errors, "%s: the release's replies are "
            "well-formed" % what, "; ".join(load.protocol_errors[:5]))
    return load


def new_then_old(t, release, genid):
    """The release's genid on a file the tree's genid made and used."""
    what = "downgrade"
    d = t.tmpdir()
    conf = write_config(t, release, d)
    state = os.path.join(d, "genid.state")
    r = subprocess.run([genid, "-c", conf, "--init"], cwd=d, timeout=60,
                       stdin=subprocess.DEVNULL, capture_output=True,
                       text=True)
    t.require(r.returncode == 0, "%s: genid --init makes a state file"
              % what, r.stdout + r.stderr)
    new = Node(t, genid, conf, "tree")
    new.spawn().wait_listening(30)
    load = load_until(t, new, LOAD_AFTER, "%s: the tree's genid" % what)
    rc = new.stop()
    load.join(30)
    t.check(rc == 0, "%s: the tree's genid exits 0" % what, "exit %r" % rc)
    before = load.all_ids()
    version = log_layout(t, state, "%s: the tree's genid's file" % what)
    release_genid = os.path.join(release, "src", "genid")
    if version is not None and version > RELEASE_LAYOUT:
        refuses_newer(t, release_genid, conf, state, version)
    else:
        t.note("%s: refusal of a newer layout skipped: the tree's genid "
               "writes layout %s, the release's %d" % (what, version,
                                                       RELEASE_LAYOUT))
    if not mentions_state_layout(genid):
        t.note("%s: converting back is not yet possible: the tree's genid "
               "has no --state-layout (not a pass)" % what)
        return
    r = subprocess.run([genid, "-c", conf, "--state-layout",
                        str(RELEASE_LAYOUT)], cwd=d, timeout=60,
                       stdin=subprocess.DEVNULL, capture_output=True,
                       text=True)
    t.check(r.returncode == 0, "%s: genid --state-layout %d exits 0" % (
        what, RELEASE_LAYOUT), r.stdout + r.stderr)
    version = log_layout(t, state, "%s: after --state-layout %d" % (
        what, RELEASE_LAYOUT))
    t.require(version == RELEASE_LAYOUT, "%s: the file is layout %d" % (
        what, RELEASE_LAYOUT), "layout %r" % version)
    old = Node(t, release_genid, conf, "release")
    old.spawn()
    serving_within(t, old, SERVE_DEADLINE_S, "%s: the release" % what)
    first, after_load = ids_after(t, old, "%s: the release" % what)
    after = after_load.all_ids()
    after.extend(first)
    check_above(t, before, after, "%s: the release" % what, globally=False,
                who="the tree's genid")
    node = harness.node_bits(harness.ZONE, harness.DC, harness.MACHINE)
    harness.check_segments(t, after_load.segments, node, 0,
                           after_load.wall_start, after_load.wall_end,
                           5 + 3, "%s: the release" % what)
    harness.check_unique(t, before + after, what)
    rc = old.stop()
    t.check(rc == 0, "%s: the release exits 0 on SIGTERM" % what,
            "exit %r" % rc)


def refuses_newer(t, release_genid, conf, state, version):
    """The release's genid on a file of a newer layout: exits non-zero
    naming the layout, and changes no byte of the file."""
    what = "downgrade"
    before = digest(state)
    old = Node(t, release_genid, conf, "refused").spawn()
    try:
        rc = old.proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        rc = None
    out = old.output().strip()
    t.note("%s: the release says: %s" % (what, out))
    t.check(rc not in (0, None), "%s: the release refuses a layout %d file "
            "(exit %r)" % (what, version, rc), out)
    t.check(re.search(r"layout[^\n]*\b%d\b" % version, out),
            "%s: its message names layout %d" % (what, version), out)
    t.check(digest(state) == before, "%s: the file's bytes are unchanged"
            % what)


def test(t):
    release = release_dir(t)
    genid = tree_genid()
    t.note("release %s: %s; tree: %s" % (RELEASE, release, genid))
    t.note("configuration: the release's etc/genid.json (what an upgraded "
           "node runs with) on 127.0.0.1 port 0 in a temporary directory; "
           "zone/dc/machine %d/%d/%d (%s)" % (
               harness.ZONE, harness.DC, harness.MACHINE,
               harness.IDENTITY_WHY))
    old_then_new(t, release, genid, kill=False, n=1)
    old_then_new(t, release, genid, kill=True, n=2)
    new_then_old(t, release, genid)


if __name__ == "__main__":
    if not harness.genid_path() and os.path.exists(
            os.path.join(TOP, "build", "src", "genid")):
        os.environ["GENID"] = os.path.join(TOP, "build", "src", "genid")
    harness.run(test, control=True, timeout=1800)
