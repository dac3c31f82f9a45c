# SPDX-License-Identifier: BSD-2-Clause
"""
harness.py - run the real genid daemon for the integration tests.

Each tests/integ_*.py imports this module, starts genid in the foreground
on an ephemeral loopback port with a temporary directory (config, state
file, pid file and log file all live there), talks to it over the wire
protocol of genid(7), and stops it in a finally block.  Only processes the
harness started are ever signalled: the master it spawned and the worker
processes found as that master's children.

Set GENID_TEST_ADDR=host:port to point the tests that do not need to
control the process at an already running genid (like memcached's
T_MEMD_USE_DAEMON); tests that kill or restart the daemon then skip.
Set GENID_TEST_KEEP=1 to keep the temporary directories.

The layout of the state file and the table of its counters are read from
the sources, src/core/state.h and src/core/counters.c, under GENID_SRCDIR
or else the tree this file sits in; there is no copy of either here.

Exit status of a test script: 0 pass, 1 fail, 77 skip.  Python standard
library only.
"""

import array
import atexit
import ctypes
import glob
import itertools
import json
import operator
import os
import pwd
import re
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter, namedtuple

EX_OK = 0
EX_USAGE = 64
EX_DATAERR = 65
EX_NOINPUT = 66
EX_UNAVAILABLE = 69
EX_OSERR = 71
EX_CANTCREAT = 73
EX_TEMPFAIL = 75
EX_CONFIG = 78
SKIP = 77

# The identity every test daemon gets instead of the shipped 0/0/0, and
# why (the one setting the harness itself changes for the tests' sake).
ZONE, DC, MACHINE = 3, 2, 5
IDENTITY_WHY = ("non-zero zone/dc/machine: a field of an ID not encoded, "
                "or encoded in the wrong place, shows")

# Every test daemon starts from the configuration genid ships.  The
# harness moves only where it listens and where its files are (PLUMBING);
# any other setting a test changes away from the shipped one carries a
# one-line reason (Daemon(..., why=...), Daemon.set), or spawn fails.
# "port" is never a change of behaviour: a loopback port the test picks.
SHIPPED_CONFIG = "etc/genid.json"
PLUMBING = ("listen", "port", "state_file", "pid_file", "log_file")
FREE_KEYS = ("port",)
# Flags besides -c that change how genid starts: each carries a reason
# too (spawn(..., why=...)).
BEHAVIOUR_FLAGS = ("--wait-clock", "--wait-coordination", "--init-lost")

INFO_KEYS = ("version", "zone", "dc", "machine", "epoch", "buckets",
             "workers", "pid", "uptime_s", "now", "checkpoint", "bucket",
             "state", "lead_s")

# The states INFO may report (issue 9): "serving", or why not.
INFO_STATES = ("serving", "clock-behind", "checkpoint-stuck", "stopping",
               "peer-conflict")

LISTEN_RE = re.compile(r"listening on 127\.0\.0\.1:(\d+)")
# Any loopback address: a node of a fleet listens on 127.0.0.N.
LISTEN_ANY_RE = re.compile(r"listening on (127\.\d+\.\d+\.\d+):(\d+)")
READY_RE = re.compile(r"ready: (\d+) workers?")


class Skip(Exception):
    pass


class Failure(Exception):
    pass


class TestTimeout(BaseException):
    pass


# ---------------------------------------------------------------- IDs

ID = namedtuple("ID", "ts zone dc machine bucket counter")


def decode(i):
    """The fields of an ID (genid(7)); ts is seconds since the epoch."""
    return ID(i >> 32, (i >> 27) & 31, (i >> 24) & 7, (i >> 21) & 7,
              (i >> 16) & 31, i & 0xFFFF)


def node_bits(zone, dc, machine):
    """Bits 31..21 of an ID as a number: zone, dc, machine."""
    return (zone << 6) | (dc << 3) | machine


# ------------------------------------------------------------ protocol

_UNPACK = [struct.Struct(">%dQ" % m) for m in range(256)]


def recv_exact(sock, n):
    """Reads exactly n bytes; raises EOFError when the peer closes."""
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError("connection closed after %d of %d bytes"
                           % (len(buf), n))
        buf += chunk
    return bytes(buf)


def connect(addr, timeout=10.0):
    s = socket.create_connection(addr, timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def get_id(sock):
    """CMD 0: one ID."""
    sock.sendall(b"\x00\x00")
    return struct.unpack(">Q", recv_exact(sock, 8))[0]


def read_ids_reply(sock):
    """Reads one CMD 1 reply: 1 byte m, then exactly 8*m bytes."""
    m = recv_exact(sock, 1)[0]
    if m == 0:
        return ()
    return _UNPACK[m].unpack(recv_exact(sock, 8 * m))


def get_ids(sock, n):
    """CMD 1: up to n IDs (m <= n of them)."""
    sock.sendall(bytes((1, n)))
    return read_ids_reply(sock)


def info(sock):
    """CMD 2: the INFO JSON, decoded."""
    sock.sendall(b"\x02\x00")
    (length,) = struct.unpack(">H", recv_exact(sock, 2))
    return json.loads(recv_exact(sock, length).decode("utf-8"))


def wait_closed(sock, deadline=5.0):
    """Reads until EOF or reset; returns (closed, bytes read)."""
    sock.settimeout(0.2)
    got = bytearray()
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return True, bytes(got)
        if not chunk:
            return True, bytes(got)
        got += chunk
    return False, bytes(got)


def first_not_increasing(ids):
    """Index i where ids[i] <= ids[i-1], or -1 when strictly increasing."""
    if all(map(operator.lt, ids, itertools.islice(ids, 1, None))):
        return -1
    for i in range(1, len(ids)):
        if ids[i] <= ids[i - 1]:
            return i
    return -1


# ------------------------------------------------------------ processes

def proc_stat(pid):
    """(state, ppid) of a process, or None when it does not exist."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            data = f.read()
    except OSError:
        return None
    rest = data[data.rfind(b")") + 2:].split()
    return rest[0].decode(), int(rest[1])


def start_time(pid):
    """The start time of pid (clock ticks since boot), or None."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            data = f.read()
    except OSError:
        return None
    return int(data[data.rfind(b")") + 2:].split()[19])


def alive(pid):
    """Whether pid runs (a zombie does not count)."""
    st = proc_stat(pid)
    return st is not None and st[0] not in ("Z", "X")


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def children(pid):
    """Live child processes of pid."""
    kids = set()
    try:
        tasks = os.listdir("/proc/%d/task" % pid)
    except OSError:
        tasks = []
    found = False
    for tid in tasks:
        try:
            with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                kids.update(int(x) for x in f.read().split())
            found = True
        except OSError:
            pass
    if not found:
        for name in os.listdir("/proc"):
            if name.isdigit():
                st = proc_stat(int(name))
                if st and st[1] == pid:
                    kids.add(int(name))
    return sorted(k for k in kids if alive(k))


def rss_kb(pid):
    """VmRSS of pid in kB, or None."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


METRICS_RE = re.compile(r"metrics on 127\.0\.0\.1:(\d+)")


def metrics_port(d):
    """The port of d's /metrics endpoint, from its log."""
    m = METRICS_RE.search(d.output())
    if not m:
        raise Failure("the log names no metrics address")
    return int(m.group(1))


def http_exchange(port, request, timeout=5):
    """Sends the raw request to 127.0.0.1:port and reads until the server
    closes: (the reply, the exception that cut it short or None)."""
    data = b""
    try:
        with socket.create_connection(("127.0.0.1", port),
                                      timeout=timeout) as s:
            s.sendall(request)
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    return data, None
                data += chunk
    except OSError as e:
        return data, e


def socket_inodes(pid):
    """The inodes of the sockets pid holds."""
    out = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if link.startswith("socket:["):
            out.add(link[8:-1])
    return out


def tcp_sockets(port):
    """(listening inode or None, inodes of the connections accepted on
    port), asked of the kernel through ss(8) (sock_diag): /proc/net/tcp
    is read in pieces and misses sockets while others come and go, which
    a busy machine with many connections does all the time."""
    r = subprocess.run(["ss", "-Htane", "sport = :%d" % port],
                       capture_output=True, text=True, timeout=10)
    if r.returncode != 0:
        raise Failure("ss: %s" % r.stderr.strip())
    listening, accepted = None, set()
    for line in r.stdout.splitlines():
        m = re.search(r"\bino:(\d+)", line)
        if not m or m.group(1) == "0":
            continue
        if line.split()[0] == "LISTEN":
            listening = m.group(1)
        else:
            accepted.add(m.group(1))
    return listening, accepted


def libfaketime():
    """The path of libfaketime (Debian: faketime), or None."""
    for pattern in ("/usr/lib/*/faketime/libfaketime.so.1",
                    "/usr/lib/faketime/libfaketime.so.1",
                    "/usr/local/lib/faketime/libfaketime.so.1",
                    "/usr/lib64/faketime/libfaketime.so.1"):
        found = sorted(glob.glob(pattern))
        if found:
            return found[0]
    return None


def closed_port():
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def user_nobody(t):
    """The passwd entry of the user nobody, for the parts of a test that
    run as root and give files to nobody; None, noted as skipped, when not
    root or there is no such user."""
    if os.geteuid() != 0:
        t.note("user parts skipped: not root")
        return None
    try:
        return pwd.getpwnam("nobody")
    except KeyError:
        t.note("user parts skipped: no user nobody")
        return None


def poll(cond, deadline_s, interval=0.01):
    """Calls cond() until it returns a true value or the deadline passes;
    returns that value (or the last false one)."""
    end = time.monotonic() + deadline_s
    while True:
        v = cond()
        if v or time.monotonic() >= end:
            return v
        time.sleep(interval)


# ------------------------------------------------------------ state file

_CTYPES = {"uint32_t": ctypes.c_uint32, "int32_t": ctypes.c_int32,
           "uint64_t": ctypes.c_uint64, "int64_t": ctypes.c_int64}

_STRUCT_NAMES = ("state_header", "state_bucket", "state_worker")


def source_path(rel):
    """The path of rel in the genid source tree: GENID_SRCDIR, or the tree
    this file sits in (tests/integration/harness.py)."""
    src = os.environ.get("GENID_SRCDIR") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..")
    path = os.path.join(src, rel)
    if not os.path.exists(path):
        raise RuntimeError("%s not found: set GENID_SRCDIR to the genid "
                           "source tree" % path)
    return path


def _parse_state_h(path):
    """The member lists of the three structs declared in state.h:
    {struct name: [(member, C type, count)]}."""
    with open(path) as f:
        text = re.sub(r"/\*.*?\*/", "", f.read(), flags=re.S)
    layout = {}
    for name in _STRUCT_NAMES:
        m = re.search(r"struct\s+%s\s*\{(.*?)\};" % name, text, re.S)
        if not m:
            raise RuntimeError("%s: no struct %s" % (path, name))
        fields = []
        for decl in m.group(1).split(";"):
            decl = decl.strip()
            if not decl:
                continue
            d = re.fullmatch(r"(u?int(?:32|64)_t)\s+(\w+)\s*(?:\[(\d+)\])?",
                             decl)
            if not d:
                raise RuntimeError("%s: struct %s: cannot read %r"
                                   % (path, name, decl))
            fields.append((d.group(2), d.group(1), int(d.group(3) or 1)))
        layout[name] = fields
    return layout


def _make_structs():
    """ctypes structures of the layout src/core/state.h declares."""
    layout = _parse_state_h(source_path("src/core/state.h"))
    out = {}
    for name, fields in layout.items():
        cf = []
        for fname, ctype, count in fields:
            t = _CTYPES[ctype]
            cf.append((fname, t * count if count > 1 else t))
        out[name] = type(name, (ctypes.LittleEndianStructure,),
                         {"_fields_": cf})
    return out


# One row of the counter tables of src/core/counters.c.  table and source
# are "bucket" or "worker": the table the row is in, and the struct member
# (a field of state_<source>) it reads; a worker row that reads a bucket
# field shows it summed over the buckets the worker owns.  column and
# total are the text screen's heading and total-line phrase, or None.
CounterRow = namedtuple("CounterRow", "table json prom help type source "
                        "member column total total_aside")

_C_STRING = r'"(?:[^"\\]|\\.)*"'


def _parse_counters_c(path):
    """The rows of the bucket and the worker table in counters.c."""
    with open(path) as f:
        text = re.sub(r"/\*.*?\*/", "", f.read(), flags=re.S)
    rows = []
    for table in ("bucket", "worker"):
        m = re.search(r"struct\s+counters_def\s+%s_rows\[\]\s*=\s*\{(.*?)"
                      r"\n\};" % table, text, re.S)
        if not m:
            raise RuntimeError("%s: no %s_rows table" % (path, table))
        for body in re.findall(r"\{([^{}]*)\}", m.group(1)):
            f = {}
            for key, val in re.findall(
                    r"\.(\w+)\s*=\s*((?:%s\s*)+|offsetof\s*\([^)]*\)|\w+)"
                    % _C_STRING, body):
                if val.startswith('"'):
                    val = "".join(json.loads(lit) for lit in
                                  re.findall(_C_STRING, val))
                f[key] = None if val == "NULL" else val
            off = re.fullmatch(r"offsetof\s*\(\s*struct\s+state_(\w+)\s*,"
                               r"\s*(\w+)\s*\)", f.get("off", ""))
            if not off or not {"json", "prom", "help", "type"} <= set(f):
                raise RuntimeError("%s: cannot read the row {%s}"
                                   % (path, body.strip()))
            rows.append(CounterRow(
                table, f["json"], f["prom"], f["help"],
                f["type"].replace("COUNTERS_", "").lower(), off.group(1),
                off.group(2), f.get("column"), f.get("total"),
                f.get("total_aside", "0") != "0"))
    return rows


def counter_rows(table=None):
    """The rows of src/core/counters.c, in print order; only those of the
    "bucket" or "worker" table when table is given."""
    return [r for r in COUNTER_ROWS if table is None or r.table == table]


STRUCTS = _make_structs()
StateHeader = STRUCTS["state_header"]
StateBucket = STRUCTS["state_bucket"]
StateWorker = STRUCTS["state_worker"]
COUNTER_ROWS = _parse_counters_c(source_path("src/core/counters.c"))


def header_offset(field):
    """Byte offset of a state_header field in the file."""
    return getattr(StateHeader, field).offset


class State:
    """A snapshot of a genid state file."""

    def __init__(self, path):
        with open(path, "rb") as f:
            self.raw = f.read()
        if len(self.raw) < ctypes.sizeof(StateHeader):
            raise Failure("%s: %d bytes, shorter than a state header"
                          % (path, len(self.raw)))
        self.h = StateHeader.from_buffer_copy(self.raw)
        if self.h.header_size != ctypes.sizeof(StateHeader):
            raise Failure("%s: header_size %d but the harness computes %d "
                          "from state.h" % (path, self.h.header_size,
                                            ctypes.sizeof(StateHeader)))
        self.buckets = [
            StateBucket.from_buffer_copy(
                self.raw, self.h.bucket_off + i * self.h.bucket_size)
            for i in range(self.h.bucket_count)]
        self.workers = [
            StateWorker.from_buffer_copy(
                self.raw, self.h.worker_off + i * self.h.worker_size)
            for i in range(self.h.worker_count)]

    def bad_requests(self):
        return sum(w.bad_requests for w in self.workers)

    def counter(self, row, i):
        """The value of a counter_rows() row for bucket or worker slot i,
        as the readers show it: a worker row reading a bucket field sums
        it over the buckets the worker owns (bucket b is worker
        b % workers's)."""
        if row.table == row.source:
            slots = self.buckets if row.table == "bucket" else self.workers
            return getattr(slots[i], row.member)
        n = self.h.workers
        return sum(getattr(b, row.member)
                   for k, b in enumerate(self.buckets) if k % n == i)


def patch_bytes(path, offset, data):
    """Overwrites bytes of a state file in place."""
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def has_header_field(field):
    return hasattr(StateHeader, field)


def bucket_word_offset(state, i):
    """Byte offset of bucket i's state word in the file of state."""
    return (state.h.bucket_off + i * state.h.bucket_size
            + StateBucket.word.offset)


_FNV_OFFSET = 0xcbf29ce484222325
_FNV_PRIME = 0x100000001b3
_M64 = (1 << 64) - 1


def fnv(total, data):
    """FNV-1a 64 as src/core/state.c sums the state file."""
    for b in data:
        total = ((total ^ b) * _FNV_PRIME) & _M64
    return total


def header_sum(raw):
    """state_header_sum() of the file content raw."""
    return fnv(_FNV_OFFSET, raw[:header_offset("checkpoint")])


def seal(raw, ckpt):
    """state_seal(): the checkpoint_seal word of second ckpt."""
    h = StateHeader.from_buffer_copy(raw)
    total = fnv(h.header_sum ^ _FNV_OFFSET, struct.pack("<Q", ckpt))
    return ckpt << 32 | ((total ^ (total >> 32)) & 0xffffffff)


def table_sum(raw):
    """state_table_sum() of the file content raw."""
    h = StateHeader.from_buffer_copy(raw)
    total = fnv(h.header_sum ^ _FNV_OFFSET,
                struct.pack("<QQ", h.checkpoint_seal, h.boot_count))
    for i in range(h.bucket_count):
        off = h.bucket_off + i * h.bucket_size + StateBucket.word.offset
        total = fnv(total, raw[off:off + 8])
    return total


def patch_state(path, field, value):
    """Overwrites one state_header field in place (little-endian).  The
    checkpoint is written with its seal (and, after a clean stop, the
    table's checksum), as genid writes it."""
    if field == "checkpoint" and has_header_field("checkpoint_seal"):
        with open(path, "rb") as f:
            raw = f.read()
        patch_state(path, "checkpoint_seal", seal(raw, value))
        with open(path, "rb") as f:
            raw = f.read()
        if StateHeader.from_buffer_copy(raw).clean == 1:
            patch_state(path, "table_sum", table_sum(raw))
    ctype = getattr(StateHeader, field)
    fmt = "<Q" if ctype.size == 8 else "<I"
    if field in ("epoch", "created", "checkpoint_synced", "master_pid",
                 "started"):
        fmt = fmt.lower()
    with open(path, "r+b") as f:
        f.seek(ctype.offset)
        f.write(struct.pack(fmt, value))
        f.flush()
        os.fsync(f.fileno())


# ------------------------------------------------------------ the test

_daemons = []
_tmpdirs = []


class Test:
    """Counts checks and failures and prints what was checked."""

    def __init__(self, name):
        self.name = name
        self.checks = 0
        self.failures = []
        self.external = os.environ.get("GENID_TEST_ADDR") or None

    def check(self, cond, what, detail=None):
        self.checks += 1
        if cond:
            print("ok - %s" % what)
        else:
            print("not ok - %s%s" % (what, ": %s" % detail if detail
                                     else ""))
            self.failures.append(what)
        sys.stdout.flush()
        return bool(cond)

    def require(self, cond, what, detail=None):
        if not self.check(cond, what, detail):
            raise Failure(what)

    def note(self, msg):
        for line in str(msg).splitlines() or [""]:
            print("# " + line)
        sys.stdout.flush()

    def skip(self, why):
        raise Skip(why)

    def tmpdir(self):
        d = tempfile.mkdtemp(prefix="genid-%s-" % self.name)
        _tmpdirs.append(d)
        return d


def shipped_config():
    """etc/genid.json of the source tree, decoded."""
    with open(source_path(SHIPPED_CONFIG)) as f:
        return json.load(f)


def genid_path():
    p = os.environ.get("GENID")
    if not p and os.environ.get("GENID_BUILDDIR"):
        p = os.path.join(os.environ["GENID_BUILDDIR"], "src", "genid")
    return p


def _cleanup():
    for d in list(_daemons):
        try:
            d.cleanup()
        except Exception:
            traceback.print_exc()


def run(fn, control=False, timeout=60):
    """Runs fn(test) and exits 0, 1 or 77.  control: the test starts,
    kills or restarts genid itself, so it cannot use GENID_TEST_ADDR."""
    name = os.path.splitext(os.path.basename(sys.argv[0]))[0]
    t = Test(name)
    if t.external:
        if control:
            print("# SKIP: %s controls the daemon; GENID_TEST_ADDR is set"
                  % name)
            sys.exit(SKIP)
    else:
        g = genid_path()
        if not g or not os.access(g, os.X_OK):
            print("# SKIP: no genid binary at %r (set GENID)" % g)
            sys.exit(SKIP)

    def on_alarm(signum, frame):
        raise TestTimeout("test took longer than %d s" % timeout)

    def backstop():
        print("# FATAL: %s still running %d s after its timeout"
              % (name, 20))
        sys.stdout.flush()
        _cleanup()
        os._exit(1)

    def on_term(signum, frame):
        raise TestTimeout("stopped by signal %d" % signum)

    # Whatever ends the test, the daemons it started are stopped.
    atexit.register(_cleanup)
    signal.signal(signal.SIGALRM, on_alarm)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)
    signal.alarm(timeout)
    hard = threading.Timer(timeout + 20, backstop)
    hard.daemon = True
    hard.start()
    rc = 0
    t0 = time.monotonic()
    try:
        fn(t)
    except Skip as e:
        print("# SKIP: %s" % e)
        rc = SKIP
    except Failure as e:
        # A failed require() has printed its check already.
        if str(e) not in t.failures:
            t.check(False, str(e))
    except TestTimeout as e:
        t.check(False, str(e))
    except Exception:
        t.check(False, "unexpected exception", traceback.format_exc())
    finally:
        signal.alarm(0)
        _cleanup()
        hard.cancel()
    keep = bool(t.failures) or os.environ.get("GENID_TEST_KEEP")
    for d in _tmpdirs:
        if keep:
            print("# kept %s" % d)
        else:
            shutil.rmtree(d, ignore_errors=True)
    if t.failures:
        rc = 1
    print("# %s: %d checks, %d failed, %.1f s%s"
          % (name, t.checks, len(t.failures), time.monotonic() - t0,
             " (skipped)" if rc == SKIP else ""))
    for f in t.failures:
        print("# FAILED: %s" % f)
    sys.stdout.flush()
    sys.exit(rc)


# ------------------------------------------------------------ the daemon

class Daemon:
    """One genid master started by a test, with its files in dir: the one
    launcher of every test that starts genid (tests in other languages
    reach it through tests/clients/run_genid.py).  t may be None outside
    harness.run; then dir must be given.

    The configuration is etc/genid.json with the PLUMBING keys moved into
    dir and onto 127.0.0.1 port 0, and the settings given here or with
    set(): each one that differs from the shipped value needs a reason,
    why="..." (for all of them) or why={"key": "..."}, or spawn() raises.

    Before a start without a state file, spawn() runs genid --init, what
    an operator does for a new node; set init = False for a test of the
    start without one, or call init_state() yourself."""

    def __init__(self, t, dir=None, why=None, **settings):
        self.t = t
        self.dir = dir or t.tmpdir()
        self.conf_path = os.path.join(self.dir, "genid.json")
        self.pid_path = os.path.join(self.dir, "genid.pid")
        self.log_path = os.path.join(self.dir, "genid.log")
        self.out_path = os.path.join(self.dir, "stderr.log")
        self.shipped = shipped_config()
        self.conf = json.loads(json.dumps(self.shipped))
        self.conf.update({
            "listen": ["127.0.0.1"],
            "port": 0,
            "state_file": os.path.join(self.dir, "genid.state"),
            "pid_file": self.pid_path,
            "log_file": self.log_path,
        })
        self.baseline = json.loads(json.dumps(self.conf))
        self.reasons = {}
        self.set(zone_id=ZONE, dc_id=DC, machine_id=MACHINE,
                 why=IDENTITY_WHY)
        self.set(why=why, **settings)
        self.proc = None
        self.host = "127.0.0.1"
        self.port = None
        # True: genid leads its own process group (killpg reaches only it).
        self.new_session = False
        # False: no genid --init before a start without a state file.
        self.init = True
        self.pids = {}  # pid -> start time, every one of ours seen
        self.started_at = None
        self.ready_workers = None
        self._log_off = 0
        self._out_off = 0
        _daemons.append(self)

    def _own(self, pid):
        if pid not in self.pids:
            self.pids[pid] = start_time(pid)

    def set(self, why=None, **kw):
        """Changes settings (None removes the key).  why: the reason, one
        line, for all of them, or a dict of a reason per key."""
        for k, v in kw.items():
            if v is None:
                self.conf.pop(k, None)
            else:
                self.conf[k] = v
            reason = why.get(k) if isinstance(why, dict) else why
            if reason:
                self.reasons[k] = reason
        return self

    def overrides(self):
        """[(key, value or None when removed, reason or None)]: the
        settings that differ both from the shipped configuration and from
        the harness's PLUMBING of it."""
        out = []
        for k in sorted(set(self.baseline) | set(self.conf)):
            v = self.conf.get(k)
            if (k in FREE_KEYS or v == self.baseline.get(k) or
                    v == self.shipped.get(k)):
                continue
            out.append((k, self.conf.get(k), self.reasons.get(k)))
        return out

    def check_overrides(self, args=(), why=None):
        """Raises Failure naming every changed setting or behaviour flag
        in args that has no reason."""
        bare = ["%s=%s" % (k, json.dumps(v)) for k, v, r in
                self.overrides() if not r]
        for a in args:
            if a in BEHAVIOUR_FLAGS and not (
                    why.get(a) if isinstance(why, dict) else why):
                bare.append(a)
        if bare:
            raise Failure("harness: %s differ%s from what operators run "
                          "(%s and its defaults) without a reason: give "
                          "why=... (tests/lint_overrides.py lists them)"
                          % (", ".join(bare), "s" if len(bare) == 1 else "",
                             SHIPPED_CONFIG))

    @property
    def state_path(self):
        return os.path.join(self.dir, self.conf.get("state_file",
                                                     "genid.state"))

    @property
    def addr(self):
        return (self.host, self.port)

    @property
    def zone(self):
        return self.conf.get("zone_id", 0)

    @property
    def dc(self):
        return self.conf.get("dc_id", 0)

    @property
    def machine(self):
        return self.conf.get("machine_id", 0)

    @property
    def epoch(self):
        return self.conf.get("epoch", 0)

    @property
    def max_ahead(self):
        return self.conf.get("max_ahead_s", 5)

    @property
    def workers(self):
        """The number of workers: the configured one, or the shipped
        default, one per online CPU (1..32, genid.json(5))."""
        if "workers" in self.conf:
            return self.conf["workers"]
        return min(max(os.sysconf("SC_NPROCESSORS_ONLN"), 1), 32)

    def write_config(self, text=None):
        with open(self.conf_path, "w") as f:
            f.write(text if text is not None
                    else json.dumps(self.conf, indent=2) + "\n")

    def _size(self, path):
        try:
            return os.path.getsize(path)
        except OSError:
            return 0

    def init_state(self, lost=False, why=None, env=None, prefix=(),
                   write_config=True):
        """Runs genid -c CONFIG --init (lost: --init-lost, which needs
        why) as an operator makes the state file of a node; returns
        (exit status, what it printed)."""
        flag = "--init-lost" if lost else "--init"
        if write_config:
            self.check_overrides([flag], why)
            self.write_config()
        full_env = None
        if env:
            full_env = dict(os.environ)
            full_env.update(env)
        r = subprocess.run(list(prefix) + [genid_path(), "-c",
                                           self.conf_path, flag],
                           stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, cwd=self.dir, env=full_env,
                           timeout=60)
        return r.returncode, r.stdout + r.stderr

    def _needs_init(self):
        """Whether a start would find no state file that genid --init can
        make: with machine_id "auto" or etcd genid makes it itself."""
        coord = self.conf.get("coordination") or {}
        return (self.init and not os.path.exists(self.state_path) and
                self.conf.get("machine_id") != "auto" and
                not coord.get("etcd"))

    def spawn(self, args=None, prefix=(), write_config=True, env=None,
              why=None):
        """Starts genid -c CONFIG [args] without waiting for anything;
        first genid --init when there is no state file (see init).  why:
        the reason for a BEHAVIOUR_FLAGS flag in args (a string, or a
        dict by flag)."""
        if self.proc and self.proc.poll() is None:
            raise Failure("spawn while the previous master still runs")
        args = list(args or [])
        if write_config:
            self.check_overrides(args, why)
            self.write_config()
            if self._needs_init():
                rc, out = self.init_state(env=env, prefix=prefix,
                                          write_config=False)
                if rc != 0:
                    raise Failure("genid --init exited with %d:\n%s"
                                  % (rc, out.strip()))
        self._log_off = self._size(self.log_path)
        self._out_off = self._size(self.out_path)
        out = open(self.out_path, "ab")
        cmd = list(prefix) + [genid_path(), "-c", self.conf_path] + args
        self.started_at = time.monotonic()
        full_env = None
        if env:
            full_env = dict(os.environ)
            full_env.update(env)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=out, stderr=out, cwd=self.dir,
                                     env=full_env,
                                     start_new_session=self.new_session)
        out.close()
        self._own(self.proc.pid)
        # A fixed port is known at once; port 0 waits for the log line.
        self.port = self.conf.get("port") or None
        return self.proc

    def output(self):
        """What this run wrote to its log file and to stderr so far."""
        text = ""
        for path, off in ((self.log_path, self._log_off),
                          (self.out_path, self._out_off)):
            try:
                with open(path, "rb") as f:
                    f.seek(off)
                    text += f.read().decode(errors="replace")
            except OSError:
                pass
        return text

    def stderr(self):
        """What this run wrote to stderr so far."""
        try:
            with open(self.out_path, "rb") as f:
                f.seek(self._out_off)
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def start(self, args=None, prefix=(), deadline=15, write_config=True,
              env=None, why=None):
        """Starts genid and waits for "listening on" and "ready:"."""
        self.spawn(args, prefix, write_config, env, why)
        self.wait_ready(deadline)
        return self

    def wait_ready(self, deadline=15):
        end = time.monotonic() + deadline
        while True:
            text = self.output()
            m = LISTEN_ANY_RE.search(text)
            r = READY_RE.search(text)
            if m and r:
                self.host = m.group(1)
                self.port = int(m.group(2))
                self.ready_workers = int(r.group(1))
                break
            rc = self.proc.poll()
            if rc is not None:
                raise Failure("genid exited with %d before it was ready:\n%s"
                              % (rc, text.strip()))
            if time.monotonic() > end:
                raise Failure("genid not ready within %d s:\n%s"
                              % (deadline, text.strip()))
            time.sleep(0.005)
        self.workers_now()
        return self

    def master_pid(self):
        """The master: the process we spawned, or its genid child when a
        wrapper (faketime) sits in between."""
        if self.proc is None:
            return None
        kids = [k for k in children(self.proc.pid)
                if "genid" in cmdline(k)] if self._wrapped() else []
        pid = kids[0] if kids else self.proc.pid
        self._own(pid)
        return pid

    def _wrapped(self):
        return os.path.basename(self.proc.args[0]) != os.path.basename(
            genid_path())

    def workers_now(self):
        """The live worker pids: children of the master."""
        m = self.master_pid()
        if m is None or not alive(m):
            return []
        ws = children(m)
        for w in ws:
            self._own(w)
        return ws

    def wait_workers(self, n=None, deadline=10, exclude=()):
        """Polls until n workers run (none of them in exclude); n: all
        of them (workers)."""
        n = self.workers if n is None else n

        def ok():
            ws = self.workers_now()
            return ws if len(ws) == n and not set(ws) & set(exclude) \
                else None
        return poll(ok, deadline)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def wait_exit(self, deadline):
        """The exit status, or None if still running after deadline."""
        try:
            return self.proc.wait(timeout=deadline)
        except subprocess.TimeoutExpired:
            return None

    def signal_master(self, sig):
        os.kill(self.master_pid(), sig)

    def stop(self, deadline=10, sig=signal.SIGTERM):
        """SIGTERM, wait up to deadline, then SIGKILL.  Returns the exit
        status (negative for a signal) and the seconds it took."""
        if not self.running():
            return (self.proc.returncode if self.proc else None), 0.0
        t0 = time.monotonic()
        self.signal_master(sig)
        rc = self.wait_exit(deadline)
        took = time.monotonic() - t0
        if rc is None:
            self.kill_all()
            rc = self.proc.returncode
        return rc, took

    def kill_all(self):
        """SIGKILL the master and every worker, and waits until they are
        gone.  Returns the pids killed."""
        pids = []
        m = self.master_pid()
        if m and alive(m):
            ws = self.workers_now()
            pids = [m] + ws
        for p in pids:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.proc:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        poll(lambda: not any(alive(p) for p in pids), 10, 0.001)
        return pids

    def cleanup(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.stop(deadline=5)
            except Exception:
                pass
        for p, started in self.pids.items():
            # The same pid and start time: not a recycled pid.
            if alive(p) and start_time(p) == started:
                try:
                    os.kill(p, signal.SIGKILL)
                except OSError:
                    pass
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def state(self):
        return State(self.state_path)


class External:
    """A genid somebody else runs (GENID_TEST_ADDR=host:port)."""

    def __init__(self, spec):
        host, _, port = spec.rpartition(":")
        self.addr = (host.strip("[]") or "127.0.0.1", int(port))
        with connect(self.addr) as s:
            i = info(s)
        self.zone, self.dc, self.machine = i["zone"], i["dc"], i["machine"]
        self.epoch = i.get("epoch", 0)
        self.max_ahead = 5
        self.workers = i.get("workers")

    def workers_now(self):
        return []


def serve(t, why=None, **settings):
    """The daemon a test talks to: GENID_TEST_ADDR's, or a fresh one
    (settings and why as for Daemon)."""
    if t.external:
        t.note("using the daemon at %s (GENID_TEST_ADDR)" % t.external)
        return External(t.external)
    return Daemon(t, why=why, **settings).start()


# ------------------------------------------------------------ load

Segment = namedtuple("Segment", "mode ids start end error")


class _Conn:
    __slots__ = ("sock", "mode", "buf", "outstanding", "ids", "start",
                 "shorts", "waiting_since")

    def __init__(self, sock, mode):
        self.sock = sock
        self.mode = mode
        self.buf = bytearray()
        self.outstanding = 0
        self.ids = array.array("Q")
        self.start = time.monotonic()
        self.shorts = 0


class Load:
    """Many pipelining clients in one thread (selectors).

    Half the connections send 64 CMD 0 frames at a time and read 512
    bytes, the other half send cmd1_depth CMD 1 n=255 frames at a time.
    Every ID is kept per connection (a Segment per connection life).  With
    reconnect, a connection that fails is replaced by a new one."""

    def __init__(self, addr, conns=64, target=2000000, cmd0_depth=64,
                 cmd1_depth=4, reconnect=False, time_limit=40.0,
                 min_cmd0=0):
        self.addr = addr
        self.min_cmd0 = min_cmd0
        self.cmd0_total = 0
        self.nconns = conns
        self.target = target
        self.cmd0_depth = cmd0_depth
        self.cmd1_depth = cmd1_depth
        self.reconnect = reconnect
        self.time_limit = time_limit
        self.segments = []
        self.total = 0
        self.shorts = 0
        self.errors = []
        self.reconnects = 0
        self.protocol_errors = []
        self.bucket_max = {}
        self.stop_event = threading.Event()
        # While set, connections send nothing new (they wait, connected).
        self.pause = threading.Event()
        self.finished = threading.Event()
        self.timed_out = False
        self.elapsed = 0.0
        self.t_start = None
        self.t_end = None
        self.wall_start = None
        self.wall_end = None
        self._thread = None
        self._exc = None

    # One round of requests on a connection.
    def _send_round(self, c):
        if c.mode == 0:
            c.sock.sendall(b"\x00\x00" * self.cmd0_depth)
            c.outstanding = self.cmd0_depth
        else:
            c.sock.sendall(b"\x01\xff" * self.cmd1_depth)
            c.outstanding = self.cmd1_depth

    def _parse(self, c):
        buf = c.buf
        n = len(buf)
        pos = 0
        before = len(c.ids)
        if c.mode == 0:
            k = min(c.outstanding, n // 8)
            if k:
                c.ids.extend(_UNPACK[k].unpack_from(buf, 0))
                pos = 8 * k
                c.outstanding -= k
        else:
            while c.outstanding and pos < n:
                m = buf[pos]
                end = pos + 1 + 8 * m
                if end > n:
                    break
                if m:
                    c.ids.extend(_UNPACK[m].unpack_from(buf, pos + 1))
                if m < 255:
                    c.shorts += 1
                    self.shorts += 1
                pos = end
                c.outstanding -= 1
        if pos:
            del buf[:pos]
        if c.outstanding == 0 and buf:
            self.protocol_errors.append(
                "%d unexpected bytes after the last reply" % len(buf))
        got = len(c.ids) - before
        if got:
            self.total += got
            if c.mode == 0:
                self.cmd0_total += got
            last = c.ids[-1]
            b = (last >> 16) & 31
            if last > self.bucket_max.get(b, 0):
                self.bucket_max[b] = last
        return got

    def _open(self, sel, mode):
        try:
            s = connect(self.addr, timeout=5)
        except OSError as e:
            self.errors.append("connect: %s" % e)
            return None
        c = _Conn(s, mode)
        sel.register(s, selectors.EVENT_READ, c)
        return c

    def _close(self, sel, c, error=None):
        try:
            sel.unregister(c.sock)
        except (KeyError, ValueError):
            pass
        c.sock.close()
        self.segments.append(Segment(c.mode, c.ids, c.start,
                                     time.monotonic(), error))
        if error:
            self.errors.append(error)

    def run(self):
        try:
            self._run()
        except BaseException as e:
            self._exc = e
            raise
        finally:
            self.finished.set()

    def _run(self):
        sel = selectors.DefaultSelector()
        self.t_start = time.monotonic()
        self.wall_start = time.time()
        conns = []
        for i in range(self.nconns):
            c = self._open(sel, i % 2)
            if c is None:
                raise Failure("cannot connect to %s:%d: %s"
                              % (self.addr + (self.errors[-1],)))
            conns.append(c)
        for c in conns:
            self._send_round(c)
        live = len(conns)
        pending = []  # (time, mode) of connections to reopen
        parked = []  # connections waiting for the pause to end
        last_progress = time.monotonic()
        while live or pending:
            now = time.monotonic()
            if self.pause.is_set():
                last_progress = now
            elif parked:
                for c in parked:
                    try:
                        self._send_round(c)
                    except OSError as e:
                        self._close(sel, c, "send: %s" % e)
                        live -= 1
                parked = []
            stopping = ((self.total >= self.target and
                         self.cmd0_total >= self.min_cmd0)
                        or self.stop_event.is_set()
                        or now - self.t_start > self.time_limit)
            if now - self.t_start > self.time_limit:
                self.timed_out = True
            if stopping:
                pending = []
                for c in parked:
                    self._close(sel, c)
                    live -= 1
                parked = []
            for when, mode in list(pending):
                if now >= when:
                    pending.remove((when, mode))
                    c = self._open(sel, mode)
                    if c is None:
                        pending.append((now + 0.01, mode))
                        continue
                    self.reconnects += 1
                    live += 1
                    try:
                        self._send_round(c)
                    except OSError as e:
                        self._close(sel, c, "send: %s" % e)
                        live -= 1
                        pending.append((now + 0.01, mode))
            if stopping and live and now - last_progress > 5:
                # Drain: replies to requests already sent.
                for key in list(sel.get_map().values()):
                    self._close(sel, key.data, "no reply within 5 s "
                                "after the load stopped")
                live = 0
                break
            if now - last_progress > 15:
                raise Failure("load stalled: no reply for 15 s (%d IDs)"
                              % self.total)
            for key, _ in sel.select(0.05):
                c = key.data
                try:
                    data = c.sock.recv(262144)
                except OSError as e:
                    data = None
                    err = "recv: %s" % e
                else:
                    err = "connection closed by genid"
                if not data:
                    self._close(sel, c, err)
                    live -= 1
                    if self.reconnect and not stopping:
                        pending.append((time.monotonic(), c.mode))
                    continue
                c.buf += data
                if self._parse(c):
                    last_progress = time.monotonic()
                if c.outstanding == 0:
                    if stopping:
                        self._close(sel, c)
                        live -= 1
                        continue
                    if self.pause.is_set():
                        parked.append(c)
                        continue
                    try:
                        self._send_round(c)
                    except OSError as e:
                        self._close(sel, c, "send: %s" % e)
                        live -= 1
                        if self.reconnect:
                            pending.append((time.monotonic(), c.mode))
            if stopping and not live:
                break
        sel.close()
        self.t_end = time.monotonic()
        self.wall_end = time.time()
        self.elapsed = self.t_end - self.t_start

    def start(self):
        self._thread = threading.Thread(target=self.run, daemon=True)
        self._thread.start()
        return self

    def join(self, deadline=60):
        end = time.monotonic() + deadline
        while not self.finished.wait(0.1):
            if time.monotonic() > end:
                self.stop_event.set()
                raise Failure("load did not finish within %d s" % deadline)
        self._thread.join()
        if self._exc is not None:
            raise self._exc

    def rate(self):
        return self.total / self.elapsed if self.elapsed else 0.0

    def all_ids(self):
        out = array.array("Q")
        for s in self.segments:
            out.extend(s.ids)
        return out


def check_unique(t, ids, what):
    """No ID twice; prints a few duplicates when there are some."""
    n = len(ids)
    distinct = len(set(ids))
    if distinct == n:
        return t.check(True, "%s: %d IDs, no duplicate" % (what, n))
    dups = [(i, c) for i, c in Counter(ids).items() if c > 1][:5]
    return t.check(False, "%s: %d IDs, no duplicate" % (what, n),
                   "%d duplicates, e.g. %s" % (
                       n - distinct, ", ".join(
                           "%#x x%d %s" % (i, c, decode(i)) for i, c in dups)))


def check_segments(t, segments, node, epoch, wall_start, wall_end,
                   max_ahead, what):
    """Per connection: strictly increasing, one bucket, the node's zone/
    dc/machine, timestamps near the wall clock.  Returns the buckets."""
    buckets = set()
    bad_order = []
    bad_bits = []
    bad_time = []
    lo = int(wall_start) - epoch - 2
    hi = int(wall_end) - epoch + max_ahead + 2
    for n, s in enumerate(segments):
        ids = s.ids
        if not ids:
            continue
        i = first_not_increasing(ids)
        if i >= 0:
            bad_order.append("conn %d: id[%d]=%#x after %#x" % (
                n, i, ids[i], ids[i - 1]))
        mids = {(x >> 16) & 0xFFFF for x in ids}
        if len(mids) != 1:
            bad_bits.append("conn %d: %d buckets/identities on one "
                            "connection: %s" % (n, len(mids), sorted(
                                "%#x" % m for m in mids)[:4]))
        for m in mids:
            if m >> 5 != node:
                bad_bits.append("conn %d: zone/dc/machine %d/%d/%d, want "
                                "%d/%d/%d" % (n, m >> 10, (m >> 7) & 7,
                                              (m >> 5) & 7, node >> 6,
                                              (node >> 3) & 7, node & 7))
            buckets.add(m & 31)
        last = max(ids) >> 32
        if min(ids) >> 32 < lo or last > hi:
            bad_time.append("conn %d: ts %d..%d outside %d..%d" % (
                n, min(ids) >> 32, last, lo, hi))
    t.check(not bad_order, "%s: IDs strictly increase on each of %d "
            "connections" % (what, len(segments)), "; ".join(bad_order[:5]))
    t.check(not bad_bits, "%s: one bucket per connection and zone/dc/"
            "machine right" % what, "; ".join(bad_bits[:5]))
    t.check(not bad_time, "%s: timestamps within the wall clock "
            "(+max_ahead_s)" % what, "; ".join(bad_time[:5]))
    return buckets
