#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
torture.py - a fault campaign against a real genid (issue 8, part 3).

Makes the state file with genid --init, as an operator does for a new
node, and starts genid in a temporary directory (its state directory a
small tmpfs when the campaign may mount one), drives mixed load from several client
processes (pipelined CMD 0, CMD 1 of random sizes, INFO) and injects
faults at random moments:

  worker-kill     kill -9 of one worker
  group-kill      kill -9 of the whole process group, immediate restart
  worker-stop     SIGSTOP of one worker for 2-4 s, then SIGCONT
  group-term      SIGTERM to the whole group (systemd's KillMode), restart
  clock-step      the wall clock steps by +-1 s, +-10 s or +-1 h under
                  libfaketime (each step is undone by a later one)
  disk-full       the state directory's tmpfs filled while genid runs
  disk-full-init  genid --init on a full tmpfs (once, at the start): it
                  fails cleanly and leaves nothing behind
  power-loss      SIGSTOP of the group, kill -9, the state file put back
                  to what its last successful sync made durable (the
                  tests/powerloss shim keeps that copy), a new kernel boot
                  id, restart
  state-truncate  the state file cut (os.truncate) to 0 bytes, the header
                  size, a size inside the bucket table, 4096 or another
                  page boundary below its size
  state-rewrite   the bucket table zeroed, or an older copy of the file
                  (a plain read taken earlier in the run) written over
                  it, in place: same inode, the mapping sees it

After a state-truncate or state-rewrite the master must exit 74
(EX_IOERR) within GUARD_DEADLINE, naming the file in its log, having put
a fresh state file at the path (the damaged one kept beside it as
PATH.damaged-UNIXTIME, moved out of the state directory by the campaign); then
genid is restarted with the same arguments.

Every client records every ID with its connection, compactly: IDs of a
connection come from one bucket in increasing order, so each client keeps
runs of consecutive IDs (lo, hi, connection) and checks order and the
zone/dc/machine/bucket bits on the fly.  At the end the runs of all
clients are merged: any overlap is a duplicate.  One table is printed.

Usage: torture.py [--seconds S] [--ids N] [--clients C] [--conns K]
                  [--powerloss-rounds R] [--stale-round]
Environment: GENID (the daemon), POWERLOSS_SO (the shim), TORTURE_KEEP=1
keeps the temporary directory.  Exit 0 when every check held.
Python 3 standard library only; run as root for the tmpfs faults
(they are skipped otherwise, and the table says so).
"""

import argparse
import array
import glob
import json
import multiprocessing
import os
import random
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter

ZONE, DC, MACHINE = 5, 3, 6
NODE = (ZONE << 6) | (DC << 3) | MACHINE
UNPACK = [struct.Struct(">%dQ" % m) for m in range(256)]
DEPTH = 16  # frames in flight per connection
MAX_SLEW = 7300  # a step of 1 h and its return stay within the slew

FAULTS = ("worker-kill", "group-kill", "worker-stop", "group-term",
          "clock-step", "disk-full", "power-loss", "state-truncate",
          "state-rewrite")
EX_IOERR = 74  # sysexits.h: what the master exits with on a damaged file
GUARD_DEADLINE = 15  # s for the master to stop after the file is damaged
# The fields struct state_header (src/core/state.h) starts with in every
# layout, and that state_check() validates on each attach: magic,
# version, header_size, total_size, bucket_off, bucket_size,
# bucket_count.  The campaign reads the layout from the file genid wrote
# rather than from a copy of state.h.
STATE_HEAD = struct.Struct("<QIIQIII")
STATE_MAGIC = 0x31545344494e4547  # "GENIDST1"
REWRITES = ("older copy", "zeroed table")  # the variants of state-rewrite
STEPS = (1, -1, 10, -10, 3600, -3600)


def log(msg):
    sys.stderr.write("torture %s %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


# ------------------------------------------------------------ clients

class Conn:
    """One client connection: frames in flight and runs of its IDs."""

    def __init__(self, cid, sock):
        self.cid = cid
        self.sock = sock
        self.buf = bytearray()
        self.pending = []  # (kind, n, sent_at)
        self.last = None  # last ID on this connection
        self.bits = None  # ID bits 31..16 (node and bucket) of its IDs
        self.lo = self.hi = None  # the current run of consecutive IDs
        self.head = 0  # read position in pending


class Client:
    """A client process: K connections driven by one selector loop."""

    def __init__(self, idx, port, args, out_path, totals, errors, stop):
        self.idx = idx
        self.port = port
        self.args = args
        self.out = open(out_path, "wb")
        self.totals = totals
        self.errors = errors
        self.stop = stop
        self.rng = random.Random(args.seed * 1000 + idx)
        self.sel = selectors.DefaultSelector()
        self.conns = []
        self.next_cid = idx << 40
        self.ids = 0
        self.runs = array.array("Q")
        self.max_wait = 0.0
        self.max_gap = 0.0
        self.bad = []  # protocol or property violations, text
        self.reconnects = 0

    def fail(self, text):
        if len(self.bad) < 20:
            self.bad.append(text)
        self.errors[self.idx] += 1

    def flush_run(self, c):
        if c.lo is not None:
            self.runs.extend((c.lo, c.hi, c.cid))
            c.lo = c.hi = None
        if len(self.runs) >= 3 * 4096:
            self.runs.tofile(self.out)
            del self.runs[:]

    def connect(self):
        end = time.monotonic() + 60
        delay = 0.005
        while not self.stop.is_set():
            try:
                s = socket.create_connection(("127.0.0.1", self.port), 2)
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                s.setblocking(False)
                c = Conn(self.next_cid, s)
                self.next_cid += 1
                return c
            except OSError:
                if time.monotonic() > end:
                    self.fail("no connection for 60 s")
                    return None
                time.sleep(delay)
                delay = min(delay * 2, 0.1)
        return None

    def open(self, since=None):
        while True:
            c = self.connect()
            if c is None:
                return
            try:
                self.fill(c)
                break
            except OSError:
                # The server went away again (a fault): try anew.
                c.sock.close()
                time.sleep(0.01)
        # A connection that replaces a broken one inherits its last ID
        # time: the gap a client saw spans the reconnection.
        c.last_id_at = since if since is not None else time.monotonic()
        self.conns.append(c)
        self.sel.register(c.sock, selectors.EVENT_READ, c)

    def drop(self, c):
        gap_from = c.last_id_at
        self.flush_run(c)
        try:
            self.sel.unregister(c.sock)
        except (KeyError, ValueError):
            pass
        c.sock.close()
        self.conns.remove(c)
        self.reconnects += 1
        if not self.stop.is_set():
            self.open(since=gap_from)

    def fill(self, c):
        frames = bytearray()
        now = time.monotonic()
        while len(c.pending) - c.head < DEPTH:
            r = self.rng.random()
            if r < 0.3:
                frames += b"\x00\x00"
                c.pending.append((0, 1, now))
            elif r < 0.999:
                n = self.rng.choice((255, 255, 255, self.rng.randint(0, 255)))
                frames += bytes((1, n))
                c.pending.append((1, n, now))
            else:
                frames += b"\x02\x00"
                c.pending.append((2, 0, now))
        try:
            c.sock.sendall(frames)
        except (BlockingIOError, InterruptedError):
            # The socket buffer is full: the server is slow; blocking
            # here is fine (2-byte frames, 16 in flight).
            c.sock.setblocking(True)
            c.sock.settimeout(30)
            try:
                c.sock.sendall(frames)
            finally:
                c.sock.setblocking(False)
        if c.head > 1024:
            del c.pending[:c.head]
            c.head = 0

    def take(self, c, ids):
        """Checks and records the IDs of one reply."""
        m = len(ids)
        first = ids[0]
        if c.last is not None and first <= c.last:
            self.fail("conn %x: ID %d after %d" % (c.cid, first, c.last))
        if m > 1 and not all(a < b for a, b in zip(ids, ids[1:])):
            self.fail("conn %x: IDs not increasing in one reply" % c.cid)
        bits_lo = (first >> 16) & 0xFFFF
        bits_hi = (ids[-1] >> 16) & 0xFFFF
        if c.bits is None:
            c.bits = bits_lo
            if (bits_lo >> 5) != NODE:
                self.fail("conn %x: node bits %d, want %d"
                          % (c.cid, bits_lo >> 5, NODE))
        if bits_lo != c.bits or bits_hi != c.bits:
            self.fail("conn %x: IDs of bucket/node bits %d..%d, first %d"
                      % (c.cid, bits_lo, bits_hi, c.bits))
        c.last = ids[-1]
        if ids[-1] - first == m - 1:
            runs = ((first, ids[-1]),)
        else:
            runs = []
            lo = prev = first
            for i in ids[1:]:
                if i != prev + 1:
                    runs.append((lo, prev))
                    lo = i
                prev = i
            runs.append((lo, prev))
        for lo, hi in runs:
            if c.lo is not None and lo == c.hi + 1:
                c.hi = hi
            else:
                self.flush_run(c)
                c.lo, c.hi = lo, hi
        self.ids += m

    def parse(self, c):
        buf = c.buf
        pos = 0
        now = time.monotonic()
        got = False
        while c.head < len(c.pending):
            kind, n, sent = c.pending[c.head]
            if kind == 0:
                if len(buf) - pos < 8:
                    break
                self.take(c, UNPACK[1].unpack_from(buf, pos))
                pos += 8
                got = True
            elif kind == 1:
                if len(buf) - pos < 1:
                    break
                m = buf[pos]
                if len(buf) - pos < 1 + 8 * m:
                    break
                if m > n:
                    self.fail("conn %x: %d IDs for CMD 1 of %d"
                              % (c.cid, m, n))
                if m:
                    self.take(c, UNPACK[m].unpack_from(buf, pos + 1))
                    got = True
                pos += 1 + 8 * m
            else:
                if len(buf) - pos < 2:
                    break
                (length,) = struct.unpack_from(">H", buf, pos)
                if len(buf) - pos < 2 + length:
                    break
                try:
                    doc = json.loads(bytes(buf[pos + 2:pos + 2 + length]))
                    if (doc.get("zone"), doc.get("dc"),
                            doc.get("machine")) != (ZONE, DC, MACHINE):
                        self.fail("INFO says %r" % doc)
                except ValueError as e:
                    self.fail("INFO is no JSON: %s" % e)
                pos += 2 + length
            self.max_wait = max(self.max_wait, now - sent)
            c.head += 1
        if pos:
            del buf[:pos]
        if got:
            self.max_gap = max(self.max_gap, now - c.last_id_at)
            c.last_id_at = now
        return got

    def run(self):
        for _ in range(self.args.conns):
            self.open()
        report_at = time.monotonic()
        while not self.stop.is_set() and self.conns:
            for key, _ in self.sel.select(0.2):
                c = key.data
                try:
                    data = c.sock.recv(262144)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    data = b""
                if not data:
                    self.drop(c)
                    continue
                c.buf += data
                self.parse(c)
                try:
                    self.fill(c)
                except OSError:
                    self.drop(c)
            now = time.monotonic()
            if now - report_at > 0.05:
                self.totals[self.idx] = self.ids
                report_at = now
        for c in list(self.conns):
            self.flush_run(c)
            c.sock.close()
        self.totals[self.idx] = self.ids
        self.runs.tofile(self.out)
        self.out.close()
        return {"ids": self.ids, "max_wait": self.max_wait,
                "max_gap": self.max_gap, "bad": self.bad,
                "reconnects": self.reconnects}


def client_main(idx, port, args, out_path, totals, errors, stop, result_path):
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    cl = Client(idx, port, args, out_path, totals, errors, stop)
    try:
        res = cl.run()
    except Exception as e:  # a client bug must not hide the IDs it saw
        for c in cl.conns:
            cl.flush_run(c)
        cl.runs.tofile(cl.out)
        cl.out.close()
        res = {"ids": cl.ids, "max_wait": cl.max_wait, "max_gap": cl.max_gap,
               "bad": cl.bad + ["client %d failed: %r" % (idx, e)],
               "reconnects": cl.reconnects}
    with open(result_path, "w") as f:
        json.dump(res, f)


# ------------------------------------------------------------ the server

def fill_up(path):
    """Writes path until its file system is full."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)


class Layout:
    """Where the parts of a state file are, read from its header."""

    def __init__(self, data):
        (self.magic, self.version, self.header_size, self.total_size,
         self.bucket_off, self.bucket_size,
         self.bucket_count) = STATE_HEAD.unpack_from(data)
        self.table_end = self.bucket_off + self.bucket_count * self.bucket_size

    def whole(self, data):
        """Whether data is a whole state file of this layout (not cut, not
        a stray file)."""
        return (len(data) == self.total_size and
                len(data) >= STATE_HEAD.size and
                STATE_HEAD.unpack_from(data)[:4] == (
                    self.magic, self.version, self.header_size,
                    self.total_size))


def read_layout(path):
    """The Layout of the state file at path, or None when it is no whole
    state file."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    if len(data) < STATE_HEAD.size:
        return None
    lay = Layout(data)
    if lay.magic != STATE_MAGIC or not lay.whole(data) or \
            lay.header_size < STATE_HEAD.size or \
            lay.table_end > lay.total_size or lay.bucket_off < lay.header_size:
        return None
    return lay


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def libfaketime():
    for p in ("/usr/lib/*/faketime/libfaketime.so.1",
              "/usr/lib/faketime/libfaketime.so.1"):
        found = sorted(glob.glob(p))
        if found:
            return found[0]
    return None


def children(pid):
    kids = set()
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                kids.update(int(x) for x in f.read().split())
    except OSError:
        pass
    return sorted(kids)


def group_alive(pgid):
    """Whether a process of group pgid runs (zombies do not count: an
    orphaned worker may wait a while for its reaper)."""
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                rest = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(rest[2]) == pgid and rest[0] not in ("Z", "X"):
            return True
    return False


def pstate(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


class Server:
    """The genid under test: its files, its process group, restarts."""

    def __init__(self, args, top):
        self.args = args
        self.top = top
        self.port = free_port()
        self.statedir = os.path.join(top, "state")
        os.mkdir(self.statedir)
        self.tmpfs = self.had_tmpfs = False
        if args.tmpfs and os.geteuid() == 0:
            r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k",
                                "genid-torture", self.statedir],
                               capture_output=True, text=True)
            self.tmpfs = self.had_tmpfs = r.returncode == 0
            if not self.tmpfs:
                log("no tmpfs for the state directory: %s" % r.stderr.strip())
        self.state = os.path.join(self.statedir, "genid.state")
        self.copy = os.path.join(top, "durable.state")
        self.boot_id = os.path.join(top, "boot_id")
        self.clock = os.path.join(top, "faketime.rc")
        self.log = os.path.join(top, "genid.log")
        self.out = os.path.join(top, "stderr.log")
        self.conf = os.path.join(top, "genid.json")
        self.offset = 0
        self.set_clock(0)
        with open("/proc/sys/kernel/random/boot_id") as f:
            real_boot = f.read()
        with open(self.boot_id, "w") as f:
            f.write(real_boot)
        conf = {"listen": ["127.0.0.1"], "port": self.port,
                "zone_id": ZONE, "dc_id": DC, "machine_id": MACHINE,
                "workers": args.workers, "state_file": self.state,
                "pid_file": os.path.join(top, "genid.pid"),
                "log_file": self.log, "log_level": "info",
                "max_slew_s": MAX_SLEW}
        # max_slew_s (genid(7)) is newer than some genids: probe for it.
        with open(self.conf, "w") as f:
            json.dump(conf, f)
        self.slew = subprocess.run([args.genid, "-t", "-c", self.conf],
                                   capture_output=True).returncode == 0
        if not self.slew:
            del conf["max_slew_s"]
            with open(self.conf, "w") as f:
                json.dump(conf, f)
        self.proc = None
        self.env = dict(os.environ)
        preload = []
        lib = libfaketime()
        if lib:
            preload.append(lib)
            self.env.update({"FAKETIME_TIMESTAMP_FILE": self.clock,
                             "FAKETIME_DONT_FAKE_MONOTONIC": "1",
                             "FAKETIME_CACHE_DURATION": "1"})
        self.faketime = lib is not None
        if args.powerloss_so and os.path.exists(args.powerloss_so):
            preload.insert(0, args.powerloss_so)
            self.env.update({"POWERLOSS_FILE": self.state,
                             "POWERLOSS_COPY": self.copy,
                             "POWERLOSS_BOOT_ID": self.boot_id})
        self.powerloss = bool(args.powerloss_so and
                              os.path.exists(args.powerloss_so))
        if preload:
            self.env["LD_PRELOAD"] = " ".join(preload)
            self.env["ASAN_OPTIONS"] = (
                os.environ.get("ASAN_OPTIONS", "") +
                ":verify_asan_link_order=0").lstrip(":")
        self.undo_clock = None
        self.starts = 0
        self.refused = []  # (exit code, last lines) of failed starts

    def init(self):
        """genid --init: the state file of a node that never issued IDs,
        made once, before the first start (genid(8))."""
        r = subprocess.run([self.args.genid, "-c", self.conf, "--init"],
                           stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=60)
        if r.returncode != 0:
            raise SystemExit("genid --init exited with %d: %s"
                             % (r.returncode, (r.stdout + r.stderr).strip()))
        log(r.stdout.strip())

    def set_clock(self, offset):
        self.offset = offset
        tmp = self.clock + ".tmp"
        with open(tmp, "w") as f:
            f.write("%+d\n" % offset)
        os.rename(tmp, self.clock)

    def log_size(self):
        try:
            return os.path.getsize(self.log)
        except OSError:
            return 0

    def log_since(self, off):
        try:
            with open(self.log, "rb") as f:
                f.seek(off)
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def start(self, deadline=20):
        """Starts genid and waits until it answers; retries a refused
        start (counted) for a while."""
        end = time.monotonic() + deadline
        while True:
            off = self.log_size()
            with open(self.out, "ab") as out:
                self.proc = subprocess.Popen(
                    [self.args.genid, "-c", self.conf],
                    stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                    env=self.env, start_new_session=True)
            self.starts += 1
            while time.monotonic() < end:
                if self.proc.poll() is not None:
                    break
                if "ready:" in self.log_since(off):
                    return True
                time.sleep(0.01)
            rc = self.proc.poll()
            if rc is None:
                self.kill_group(signal.SIGKILL)
                self.wait_gone(5)
                rc = "not ready"
            tail = (self.log_since(off).strip().splitlines()[-2:] +
                    self.err_tail())
            # Refused with the clock stepped back: what genid(7) asks for.
            self.refused.append((rc, tail, rc == 75 and self.offset < 0))
            log("genid start failed (%s): %s" % (rc, " | ".join(tail)))
            if time.monotonic() >= end:
                return False
            if rc == 75 and self.undo_clock:
                # The clock is behind what the node issued: refused by
                # design (genid(7)).  Put the clock back and start again.
                log("start refused with the clock %+d s: undoing the step"
                    % self.offset)
                self.undo_clock()
            time.sleep(0.5)

    def err_tail(self):
        try:
            with open(self.out, "rb") as f:
                return f.read().decode(errors="replace").strip(
                    ).splitlines()[-1:]
        except OSError:
            return []

    def workers(self):
        return children(self.proc.pid) if self.proc else []

    def kill_group(self, sig):
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass

    def wait_gone(self, deadline):
        """Waits for the master and its group to be gone."""
        end = time.monotonic() + deadline
        pgid = self.proc.pid
        while time.monotonic() < end:
            self.proc.poll()
            if not group_alive(pgid):
                return True
            time.sleep(0.005)
        return False

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.kill_group(signal.SIGCONT)
            self.kill_group(signal.SIGTERM)
            if not self.wait_gone(15):
                self.kill_group(signal.SIGKILL)
                self.wait_gone(5)
        return self.proc.returncode if self.proc else None

    def cleanup(self):
        if self.proc:
            self.kill_group(signal.SIGCONT)
            self.kill_group(signal.SIGKILL)
            self.wait_gone(5)
        if self.tmpfs:
            subprocess.run(["umount", self.statedir])
            self.tmpfs = False


# ------------------------------------------------------------ faults

class Campaign:
    def __init__(self, args, top):
        self.args = args
        self.top = top
        self.rng = random.Random(args.seed)
        self.srv = Server(args, top)
        self.count = {f: 0 for f in FAULTS + ("disk-full-init",)}
        self.notes = []  # findings, text
        self.failures = []  # broken guarantees that fail the run, text
        self.steps = []  # (size, time) of clock steps, monotonic
        self.samples = []  # (monotonic, total IDs)
        self.pending_steps = []  # steps to undo later
        self.hour_stepped = False  # an hour step was made (one per run)
        self.history = []  # (monotonic, durable copy) for --stale-round
        self.layout = None  # of the state file, read after the first start
        self.copies = []  # (monotonic, plain read of the state file)
        self.first_copy = None  # the read right after the first start
        self.variants = {"state-truncate": Counter(),
                         "state-rewrite": Counter()}
        self.guarded = 0  # damaged files that stopped the node as genid(8) says
        self.damaged = os.path.join(top, "damaged")  # PATH.damaged-UNIXTIME moved
        self.filler = os.path.join(self.srv.statedir, "filler")
        self.srv.undo_clock = self.undo_clock

    def undo_clock(self):
        """Undoes the steps still pending (counted as steps too)."""
        while self.pending_steps:
            size = self.pending_steps.pop()
            self.count["clock-step"] += 1
            self.sample()
            self.srv.set_clock(self.srv.offset + size)
            self.steps.append((size, time.monotonic()))

    def note(self, text):
        log("FINDING: " + text)
        self.notes.append(text)

    def fail(self, text):
        log("FAILURE: " + text)
        self.failures.append(text)

    def total(self):
        return sum(self.totals)

    def sample(self):
        self.samples.append((time.monotonic(), self.total()))

    def disk_full_init(self):
        """genid --init on a file system that is already full."""
        if os.geteuid() != 0 or not self.args.tmpfs:
            return
        d = os.path.join(self.top, "full")
        os.mkdir(d)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k",
                            "genid-torture-full", d], capture_output=True)
        if r.returncode != 0:
            return
        try:
            fill_up(os.path.join(d, "filler"))
            conf = json.load(open(self.srv.conf))
            conf["state_file"] = os.path.join(d, "genid.state")
            path = os.path.join(self.top, "full.json")
            with open(path, "w") as f:
                json.dump(conf, f)
            try:
                r = subprocess.run([self.args.genid, "-c", path, "--init"],
                                   capture_output=True, text=True, timeout=20)
                rc, text = r.returncode, r.stdout + r.stderr
            except subprocess.TimeoutExpired:
                rc, text = "timeout", ""
            self.count["disk-full-init"] += 1
            left = [n for n in os.listdir(d) if n != "filler"]
            ok = (rc not in (0, "timeout") and (rc is None or rc > 0) and
                  "No space left on device" in text and not left)
            self.full_init = (rc, ok)
            if not ok:
                self.note("genid --init on a full file system: exit %s, "
                          "message "
                          "%r, files left %s (want an exit > 0 naming "
                          "'No space left on device', no temp file)"
                          % (rc, text.strip()[-200:], left))
        finally:
            subprocess.run(["umount", d])

    def fault(self, kind):
        srv = self.srv
        self.count[kind] += 1
        log("fault %s (%d)" % (kind, self.count[kind]))
        if kind == "worker-kill":
            w = srv.workers()
            if w:
                os.kill(self.rng.choice(w), signal.SIGKILL)
        elif kind == "worker-stop":
            w = srv.workers()
            if w:
                pid = self.rng.choice(w)
                os.kill(pid, signal.SIGSTOP)
                self.idle(self.rng.uniform(2, 4))
                try:
                    os.kill(pid, signal.SIGCONT)
                except ProcessLookupError:
                    pass
        elif kind == "group-kill":
            srv.kill_group(signal.SIGKILL)
            srv.wait_gone(10)
            if not srv.start():
                self.note("no restart after kill -9 of the group")
        elif kind == "group-term":
            off = srv.log_size()
            srv.kill_group(signal.SIGTERM)
            gone = srv.wait_gone(15)
            rc = srv.proc.wait(5) if gone else None
            if not gone or rc != 0:
                self.note("SIGTERM to the group: master exit %r, group "
                          "gone %s" % (rc, gone))
                srv.kill_group(signal.SIGKILL)
                srv.wait_gone(5)
            # A worker started during the shutdown: genid(7) says never.
            respawned = [ln for ln in srv.log_since(off).splitlines()
                         if "started, pid" in ln]
            if respawned:
                self.note("SIGTERM to the group: %d worker(s) respawned "
                          "during the shutdown: %s"
                          % (len(respawned), respawned[0].strip()))
            if not srv.start():
                self.note("no restart after SIGTERM")
        elif kind == "clock-step":
            if self.pending_steps:
                size = self.pending_steps.pop()
            else:
                size = self.rng.choice(STEPS)
                # One hour step (and its undoing) per run: the buckets
                # stay ahead of the clock through the slew that follows
                # (hours at clock_slew), and a second hour on top would
                # put them beyond max_slew_s, where a restart is refused
                # by design (genid(7)).
                if abs(size) == 3600 and self.hour_stepped:
                    size = 10 if size > 0 else -10
                self.hour_stepped |= abs(size) == 3600
                # Without max_slew_s a forward hour is only undone by
                # waiting an hour: take it as the undoing of a step back.
                if size == 3600 and not srv.slew:
                    size = -3600
                self.pending_steps.append(-size)
            if not srv.faketime:
                return
            self.sample()
            srv.set_clock(srv.offset + size)
            self.steps.append((size, time.monotonic()))
        elif kind == "disk-full":
            if not srv.tmpfs:
                return
            fill_up(self.filler)
            before = self.total()
            self.idle(self.rng.uniform(2, 4))
            if self.total() == before:
                self.note("no ID served while the state file system was "
                          "full")
            os.unlink(self.filler)
        elif kind == "power-loss":
            if not self.power_loss(stale=None):
                self.count[kind] -= 1
        elif kind == "state-truncate":
            self.state_truncate()
        elif kind == "state-rewrite":
            self.state_rewrite()

    def state_truncate(self):
        """Cuts the live state file to 0 bytes, the header, a size inside
        the bucket table, 4096 or another page boundary below its size."""
        srv, lay = self.srv, self.layout
        size = os.path.getsize(srv.state)
        cut = self.rng.randrange(lay.bucket_off + 1, lay.table_end)
        sizes = {0: "0", lay.header_size: "header %d" % lay.header_size,
                 cut: "in the bucket table"}
        for page in range(4096, size, 4096):
            sizes.setdefault(page, "page %d" % page)
        to = self.rng.choice(sorted(s for s in sizes if s < size))
        self.variants["state-truncate"][sizes[to]] += 1
        off = srv.log_size()
        os.truncate(srv.state, to)
        self.after_damage("state-truncate", "cut from %d to %d bytes"
                          % (size, to), off)

    def state_rewrite(self):
        """Writes zeroes over the bucket table, or an older copy of the
        state file over all of it, in place (same inode: the mapping of
        the running genid sees it)."""
        srv, lay = self.srv, self.layout
        made = self.variants["state-rewrite"]
        least = min(made[v] for v in REWRITES)
        variant = self.rng.choice([v for v in REWRITES if made[v] == least])
        made[variant] += 1
        if variant == "older copy":
            # A copy a few seconds old, or the first of the run.
            old = [(t, d) for t, d in self.copies
                   if t <= time.monotonic() - 2]
            if not old or self.rng.random() < 0.3:
                old = [self.first_copy]
            t, data = self.rng.choice(old)
            at = 0
            what = "an older copy (%.1f s old) written over it" % (
                time.monotonic() - t)
        else:
            data = bytes(lay.table_end - lay.bucket_off)
            at = lay.bucket_off
            what = "its bucket table zeroed (bytes %d..%d)" % (
                lay.bucket_off, lay.table_end - 1)
        off = srv.log_size()
        fd = os.open(srv.state, os.O_WRONLY)
        try:
            n = 0
            while n < len(data):
                n += os.pwrite(fd, data[n:], at + n)
        finally:
            os.close(fd)
        self.after_damage("state-rewrite", what, off)

    def after_damage(self, kind, what, off):
        """What genid(8) promises once the state file is damaged under a
        running node: the master exits 74 naming the file, leaves a fresh
        state file at the path and the damaged one beside it; a restart
        with the same arguments then serves again."""
        srv = self.srv
        try:
            rc = srv.proc.wait(GUARD_DEADLINE)
        except subprocess.TimeoutExpired:
            rc = None
            self.fail("%s (%s): the master still runs %d s later (want exit "
                      "%d); killed" % (kind, what, GUARD_DEADLINE, EX_IOERR))
            srv.kill_group(signal.SIGKILL)
        if not srv.wait_gone(10):
            self.fail("%s: processes of the group left 10 s after the "
                      "master" % kind)
            srv.kill_group(signal.SIGKILL)
            srv.wait_gone(5)
        said = srv.log_since(off) + "\n".join(srv.err_tail())
        ok = rc == EX_IOERR
        if rc is not None and rc != EX_IOERR:
            self.fail("%s (%s): master exit %s, want %d; it said: %s"
                      % (kind, what, rc, EX_IOERR, said.strip()[-300:]))
        if rc is not None and srv.state not in said:
            ok = False
            self.fail("%s (%s): the log does not name %s: %s"
                      % (kind, what, srv.state, said.strip()[-300:]))
        kept = sorted(glob.glob(glob.escape(srv.state) + ".damaged*"))
        if rc == EX_IOERR:
            if read_layout(srv.state) is None:
                ok = False
                self.fail("%s (%s): no fresh state file at %s after exit "
                          "%d; it said: %s" % (kind, what, srv.state, rc,
                                               said.strip()[-300:]))
            if not kept:
                ok = False
                self.fail("%s (%s): the damaged file is not kept beside "
                          "%s" % (kind, what, srv.state))
        # Out of the small tmpfs, kept for TORTURE_KEEP.
        os.makedirs(self.damaged, exist_ok=True)
        for path in kept:
            shutil.move(path, self.damaged)
        self.guarded += ok
        if not srv.start():
            self.fail("no restart after %s (%s)" % (kind, what))

    def keep_copy(self):
        """Plain reads of the live state file, one a second (the last
        20 s): the older copies a state-rewrite writes back."""
        now = time.monotonic()
        if self.copies and now - self.copies[-1][0] < 1:
            return
        try:
            with open(self.srv.state, "rb") as f:
                data = f.read()
        except OSError:
            return
        if not self.layout or not self.layout.whole(data):
            return
        self.copies.append((now, data))
        if self.first_copy is None:
            self.first_copy = self.copies[-1]
        while now - self.copies[0][0] > 20:
            del self.copies[0]

    def power_loss(self, stale):
        """Freeze, kill, put back the durable copy, new boot, restart.
        stale: None, "prev" (the copy of the sync before the last) or a
        number of seconds (a copy at least that old)."""
        srv = self.srv
        copy = srv.copy + (".prev" if stale == "prev" else "")
        if not srv.powerloss or not os.path.exists(copy):
            log("power-loss skipped: no durable copy yet")
            return False
        srv.kill_group(signal.SIGSTOP)
        srv.kill_group(signal.SIGKILL)
        srv.wait_gone(10)
        if stale not in (None, "prev"):
            old = [d for t, d in self.history
                   if t <= time.monotonic() - float(stale)]
            if not old:
                log("power-loss: no copy %s s old" % stale)
                return False
            with open(srv.state + ".restore", "wb") as f:
                f.write(old[-1])
        else:
            shutil.copyfile(copy, srv.state + ".restore")
        os.rename(srv.state + ".restore", srv.state)
        with open(srv.boot_id, "w") as f:
            f.write(str(uuid.uuid4()) + "\n")
        if not srv.start():
            self.note("no restart after a power loss%s"
                      % (" (stale copy)" if stale else ""))
        return True

    def idle(self, secs):
        end = time.monotonic() + secs
        while time.monotonic() < end:
            self.sample()
            self.keep_history()
            self.keep_copy()
            time.sleep(0.05)

    def keep_history(self):
        """Keeps the durable copy every 0.5 s for a stale round."""
        if not self.args.stale_round:
            return
        now = time.monotonic()
        if self.history and now - self.history[-1][0] < 0.5:
            return
        try:
            with open(self.srv.copy, "rb") as f:
                self.history.append((now, f.read()))
        except OSError:
            return
        while self.history and now - self.history[0][0] > 60:
            del self.history[0]

    def run(self):
        args = self.args
        self.disk_full_init()
        self.srv.init()
        if not self.srv.start():
            raise SystemExit("genid does not start: %r"
                             % (self.srv.refused[-1:],))
        self.layout = read_layout(self.srv.state)
        if self.layout is None:
            raise SystemExit("%s: no genid state file after the start"
                             % self.srv.state)
        self.keep_copy()
        ctx = multiprocessing.get_context("fork")
        self.totals = ctx.RawArray("Q", args.clients)
        self.errors = ctx.RawArray("Q", args.clients)
        stop = ctx.Event()
        procs = []
        for i in range(args.clients):
            p = ctx.Process(target=client_main, args=(
                i, self.srv.port, args, os.path.join(self.top, "ids.%d" % i),
                self.totals, self.errors, stop,
                os.path.join(self.top, "result.%d" % i)))
            p.start()
            procs.append(p)
        t0 = time.monotonic()
        # Every kind once (state-rewrite once a variant), in random
        # order, then at random.
        plan = [] if args.powerloss_rounds else (
            list(FAULTS) + ["state-rewrite"] * (len(REWRITES) - 1))
        self.rng.shuffle(plan)
        kills = {"worker-kill": 0, "whole": 0}
        try:
            while True:
                el = time.monotonic() - t0
                done_time = el >= args.seconds
                done_ids = args.ids and self.total() >= args.ids
                quota = (kills["worker-kill"] >= args.min_worker_kills and
                         kills["whole"] >= args.min_group_kills and
                         not plan and not self.pending_steps)
                if args.powerloss_rounds:
                    quota = self.count["power-loss"] >= args.powerloss_rounds
                    done_time = True
                if (done_time or done_ids) and quota:
                    break
                if el > args.seconds * 3 + 120:
                    self.note("the campaign overran its time (%.0f s)" % el)
                    break
                self.idle(self.rng.uniform(args.gap / 2, args.gap * 1.5))
                if args.powerloss_rounds:
                    kind = "power-loss"
                elif self.pending_steps and self.rng.random() < 0.5:
                    kind = "clock-step"
                elif plan:
                    kind = plan.pop()
                elif kills["worker-kill"] < args.min_worker_kills and \
                        self.rng.random() < 0.3:
                    kind = "worker-kill"
                elif kills["whole"] < args.min_group_kills and \
                        self.rng.random() < 0.3:
                    kind = "group-kill"
                else:
                    kind = self.rng.choice(FAULTS)
                self.fault(kind)
                if kind == "worker-kill":
                    kills["worker-kill"] += 1
                if kind in ("group-kill", "group-term", "power-loss"):
                    kills["whole"] += 1
                if self.srv.proc.poll() is not None:
                    self.fail("genid is down after %s (exit %s): the "
                              "campaign ends"
                              % (kind, self.srv.proc.returncode))
                    break
            self.idle(1)
            if args.stale_round:
                self.stale = self.stale_round()
        finally:
            stop.set()
            for p in procs:
                p.join(60)
                if p.is_alive():
                    p.kill()
            self.elapsed = time.monotonic() - t0
            self.sample()
            self.exit_code = self.srv.stop()
            self.srv.cleanup()
        return self.report()

    def stale_round(self):
        """Power loss with a copy older than the last sync: duplicates
        are expected, and counted apart (see the closing note)."""
        before = self.total()
        if not self.power_loss(stale=self.args.stale_round):
            return None
        self.idle(3)
        return self.total() - before

    def rates(self, at, span=2.0):
        """IDs/s over span seconds before and after monotonic time at."""
        def total_at(t):
            best = None
            for ts, n in self.samples:
                if ts <= t:
                    best = n
            return best if best is not None else 0
        # genid sees a new offset within a second (libfaketime caches
        # the file for FAKETIME_CACHE_DURATION=1 s).
        before = (total_at(at) - total_at(at - span)) / span
        after = (total_at(at + 1.5 + span) - total_at(at + 1.5)) / span
        return before, after

    def report(self):
        results = []
        for i in range(self.args.clients):
            try:
                with open(os.path.join(self.top, "result.%d" % i)) as f:
                    results.append(json.load(f))
            except (OSError, ValueError):
                results.append({"ids": self.totals[i], "max_wait": 0,
                                "max_gap": 0,
                                "bad": ["client %d left no result" % i],
                                "reconnects": 0})
        runs = array.array("Q")
        for i in range(self.args.clients):
            with open(os.path.join(self.top, "ids.%d" % i), "rb") as f:
                data = f.read()
            runs.frombytes(data[:len(data) // 24 * 24])
        triples = sorted(zip(runs[0::3], runs[1::3], runs[2::3]))
        ids = sum(hi - lo + 1 for lo, hi, _ in triples)
        dups = 0
        first_dups = []
        max_hi = -1
        for lo, hi, cid in triples:
            if lo <= max_hi:
                dups += min(hi, max_hi) - lo + 1
                if len(first_dups) < 5:
                    first_dups.append("%d..%d (conn %x)" % (lo, hi, cid))
            max_hi = max(max_hi, hi)
        bad = [b for r in results for b in r["bad"]]
        # A genid built with --enable-sanitizers reports on its stderr.
        try:
            with open(self.srv.out, "rb") as f:
                err = f.read().decode(errors="replace")
        except OSError:
            err = ""
        for line in err.splitlines():
            if ("ERROR: AddressSanitizer" in line or "runtime error:" in line
                    or "ERROR: LeakSanitizer" in line):
                bad.append("genid: " + line.strip())
        rows = [("IDs checked", "%d" % ids),
                ("ID runs recorded (lo, hi, connection)", "%d" % len(triples)),
                ("client processes x connections",
                 "%d x %d" % (self.args.clients, self.args.conns)),
                ("seconds", "%.0f" % self.elapsed),
                ("IDs/s overall", "%.0f" % (ids / max(self.elapsed, 1e-9)))]
        for k in ("disk-full-init",) + FAULTS:
            rows.append(("faults: " + k, "%d" % self.count[k]))
            if self.variants.get(k):
                rows.append(("  of which", ", ".join(
                    "%s x%d" % kv for kv in sorted(self.variants[k].items()))))
        damage = self.count["state-truncate"] + self.count["state-rewrite"]
        if damage:
            rows.append(("  damaged files that stopped the node (exit %d, "
                         "fresh file)" % EX_IOERR,
                         "%d of %d" % (self.guarded, damage)))
        expected = sum(1 for r in self.srv.refused if r[2])
        rows += [("genid starts", "%d" % self.srv.starts),
                 ("  refused, clock stepped back (by design)",
                  "%d" % expected),
                 ("  refused or failed otherwise",
                  "%d" % (len(self.srv.refused) - expected)),
                 ("reconnects", "%d" % sum(r["reconnects"] for r in results)),
                 ("duplicates", "%d" % dups),
                 ("order/bits/protocol violations", "%d" % len(bad)),
                 ("longest wait for a reply (s)",
                  "%.3f" % max(r["max_wait"] for r in results)),
                 ("longest gap without IDs on a connection (s)",
                  "%.3f" % max(r["max_gap"] for r in results))]
        if not self.srv.faketime:
            rows.append(("clock steps", "skipped: no libfaketime"))
        if not self.srv.had_tmpfs:
            rows.append(("disk-full", "skipped: no tmpfs (--no-tmpfs, or not root)"))
        for size, at in self.steps:
            b, a = self.rates(at)
            rows.append(("IDs/s before/after step %+d s" % size,
                         "%.0f / %.0f" % (b, a)))
        stale = getattr(self, "stale", None)
        if self.args.stale_round:
            rows.append(("stale-copy round (%s), IDs after it"
                         % self.args.stale_round,
                         "%d" % stale if stale is not None else "skipped"))
        width = max(len(r[0]) for r in rows)
        print("%-*s  %s" % (width, "genid torture", "result"))
        print("-" * (width + 20))
        for k, v in rows:
            print("%-*s  %s" % (width, k, v))
        for b in bad[:10]:
            print("violation: " + b)
        for d in first_dups:
            print("duplicate run: " + d)
        for n in self.notes:
            print("finding: " + n)
        for n in self.failures:
            print("failure: " + n)
        others = {}
        for rc, tail, exp in self.srv.refused:
            if not exp:
                others.setdefault(rc, []).append(tail)
        for rc, tails in sorted(others.items(), key=str):
            print("start refused or failed %d times (exit %s), the first: %s"
                  % (len(tails), rc, " | ".join(tails[0])[-300:]))
        sys.stdout.flush()
        ok = dups == 0 and not bad and ids > 0 and not self.failures
        if self.args.stale_round:
            # The stale round is meant to break the guarantee: its
            # duplicates are the measurement, not a failure.
            ok = not bad and ids > 0 and not self.failures
        if self.args.min_ids and ids < self.args.min_ids:
            print("FAIL: %d IDs, want at least %d" % (ids, self.args.min_ids))
            ok = False
        missing = [k for k in FAULTS if self.count[k] == 0 and
                   not self.args.powerloss_rounds]
        if self.count["state-rewrite"]:
            missing += ["state-rewrite (%s)" % v for v in REWRITES
                        if not self.variants["state-rewrite"][v]]
        if missing and self.args.require_all:
            print("FAIL: faults never injected: %s" % ", ".join(missing))
            ok = False
        if self.args.strict and self.notes:
            ok = False
        print("torture: %s" % ("PASS" if ok else "FAIL"))
        return 0 if ok else 1


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--ids", type=int, default=0,
                    help="run until this many IDs too")
    ap.add_argument("--min-ids", type=int, default=0,
                    help="fail with fewer IDs checked")
    ap.add_argument("--min-worker-kills", type=int, default=0)
    ap.add_argument("--min-group-kills", type=int, default=0)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--conns", type=int, default=4)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--gap", type=float, default=3.0,
                    help="mean seconds between faults")
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--no-tmpfs", dest="tmpfs", action="store_false")
    ap.add_argument("--powerloss-rounds", type=int, default=0,
                    help="only power losses, this many rounds")
    ap.add_argument("--stale-round", metavar="prev|SECONDS",
                    help="end with a power loss that puts back a copy "
                    "older than the last sync: the one before it, or one "
                    "at least SECONDS old (duplicates expected)")
    ap.add_argument("--require-all", action="store_true",
                    help="fail unless every fault kind was injected")
    ap.add_argument("--strict", action="store_true",
                    help="fail on any finding too")
    ap.add_argument("--genid", default=os.environ.get("GENID"))
    ap.add_argument("--powerloss-so", default=os.environ.get("POWERLOSS_SO"))
    args = ap.parse_args()
    if not args.genid:
        ap.error("set GENID or --genid to the genid binary")
    log("seed %d" % args.seed)
    top = tempfile.mkdtemp(prefix="genid-torture.")
    camp = Campaign(args, top)
    try:
        rc = camp.run()
    finally:
        camp.srv.cleanup()
        if os.environ.get("TORTURE_KEEP"):
            log("kept %s" % top)
        else:
            shutil.rmtree(top, ignore_errors=True)
    sys.exit(rc)


if __name__ == "__main__":
    main()
