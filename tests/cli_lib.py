# SPDX-License-Identifier: BSD-2-Clause
"""
cli_lib.py - shared by the tests/cli_*.py scripts: run the built genidctl,
record failures, and a fake genid speaking the protocol of genid(7).  The real
daemon is started through tests/integration/harness.py, the one launcher.

GENIDCTL is the binary under test, GENID the daemon (the parts that need
it are skipped when it is not built).  GENIDCTL_WRAP runs every genidctl
under a wrapper, e.g. GENIDCTL_WRAP="valgrind -q --error-exitcode=99
--leak-check=full".  Exit status of a script: 0 pass, 1 fail, 77 skip.
Python standard library only; no sleeps as synchronisation, every wait
polls for its condition with a deadline.
"""

import json
import os
import re
import shlex
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

EX_USAGE = 64
EX_DATAERR = 65
EX_NOINPUT = 66
EX_NOHOST = 68
EX_UNAVAILABLE = 69
EX_PROTOCOL = 76
EX_CONFIG = 78

HERE = os.path.dirname(os.path.abspath(__file__))
GENIDCTL = os.environ.get("GENIDCTL") or os.path.join(HERE, "..", "cli",
                                                      "genidctl")
GENID = os.environ.get("GENID") or os.path.join(HERE, "..", "src", "genid")
WRAP = shlex.split(os.environ.get("GENIDCTL_WRAP", ""))

failures = []


def check(cond, what):
    """Records a failed expectation; the script goes on and fails at the end."""
    if cond:
        print("ok: " + what)
    else:
        print("FAIL: " + what)
        failures.append(what)
    return cond


def equal(got, want, what):
    if got != want:
        return check(False, "%s: got %r, want %r" % (what, got, want))
    return check(True, what)


def finish():
    if failures:
        print("%d check(s) failed" % len(failures))
        sys.exit(1)
    sys.exit(0)


def require_genidctl():
    if not os.access(GENIDCTL, os.X_OK):
        print("SKIP: %s is not built" % GENIDCTL)
        sys.exit(77)


class Result:
    def __init__(self, p):
        self.rc = p.returncode
        self.out = p.stdout
        self.err = p.stderr

    def __repr__(self):
        return "rc=%d out=%r err=%r" % (self.rc, self.out[:300],
                                        self.err[:300])


def ctl(*args, stdin=None, cwd=None, timeout=60):
    """Runs genidctl with args; returns rc, out, err (text)."""
    p = subprocess.run(WRAP + [GENIDCTL] + [str(a) for a in args],
                       input=stdin, capture_output=True, text=True,
                       cwd=cwd, timeout=timeout)
    return Result(p)


def poll(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %gs waiting for %s"
                                 % (timeout, what))
        time.sleep(0.02)


def decode(i):
    """Reference decoder of the ID layout of genid(7): (ts, zone, dc,
    machine, bucket, counter)."""
    return (i >> 32, (i >> 27) & 31, (i >> 24) & 7, (i >> 21) & 7,
            (i >> 16) & 31, i & 0xFFFF)


def encode(ts, zone, dc, machine, bucket, counter):
    return (ts << 32 | zone << 27 | dc << 24 | machine << 21 | bucket << 16
            | counter)


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


# ---------------------------------------------------------- fake server

class FakeGenid:
    """
    A genid of genid(7) in a thread, on 127.0.0.1 (or ::1) and a free port.
    short: CMD 1 replies hold at most this many IDs (exhaustion); with 0,
    the bucket is used up: CMD 1 gets empty replies except for the three
    after a CMD 0 (which waits for the clock in the real server).  info:
    the INFO object, or bytes sent as they are.  broken: IDs go down.
    silent: never answers.  close_after: a connection is closed once it
    has been sent this many IDs (the replies up to there arrive whole).
    """

    def __init__(self, family=socket.AF_INET, short=None, info=None,
                 broken=False, silent=False, epoch=0, close_after=None):
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("::1" if family == socket.AF_INET6 else "127.0.0.1",
                        0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.short = short
        self.broken = broken
        self.silent = silent
        self.close_after = close_after
        self.epoch = epoch
        self.info = info if info is not None else {
            "version": "0.1.0", "zone": 3, "dc": 2, "machine": 5,
            "epoch": epoch, "buckets": 32, "workers": 2, "pid": 1,
            "uptime_s": 7, "now": 1795000000, "checkpoint": 1795000006,
            "bucket": 17}
        self.next = encode(1795000000 - epoch, 3, 2, 5, 17, 0)
        self.frames = []
        self.stopping = False
        self.conns = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)
            threading.Thread(target=self._serve, args=(c,),
                             daemon=True).start()

    def _ids(self, n):
        out = []
        for _ in range(n):
            out.append(self.next)
            self.next += -1 if self.broken else 1
        return out

    def _serve(self, c):
        buf = b""
        fresh = 0
        sent = 0
        with c:
            while True:
                try:
                    data = c.recv(4096)
                except OSError:
                    return
                if not data:
                    return
                if self.silent:
                    continue
                buf += data
                out = b""
                while len(buf) >= 2:
                    cmd, n = buf[0], buf[1]
                    buf = buf[2:]
                    self.frames.append((cmd, n))
                    if cmd == 0:
                        out += struct.pack(">Q", self._ids(1)[0])
                        fresh = 3
                    elif cmd == 1:
                        m = n
                        if self.short == 0:
                            m = n if fresh > 0 else 0
                            fresh -= 1
                        elif self.short is not None:
                            m = min(n, self.short)
                        ids = self._ids(m)
                        out += bytes((m,)) + struct.pack(">%dQ" % m, *ids)
                        sent += m
                    elif cmd == 2:
                        body = self.info if isinstance(self.info, bytes) \
                            else json.dumps(self.info).encode()
                        out += struct.pack(">H", len(body)) + body
                    else:
                        c.sendall(out)
                        return
                    if self.close_after is not None and \
                            sent >= self.close_after:
                        # Close the sending side only: a close with
                        # requests unread would reset the connection and
                        # could lose the replies in flight.
                        c.sendall(out)
                        c.shutdown(socket.SHUT_WR)
                        while c.recv(4096):
                            pass
                        return
                c.sendall(out)

    def addr(self):
        if self.sock.family == socket.AF_INET6:
            return "[::1]:%d" % self.port
        return "127.0.0.1:%d" % self.port

    def close(self):
        # shutdown wakes the accept() of the thread, which must be gone
        # before the fd is closed: a new listener could reuse the number.
        self.stopping = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.thread.join(10)
        self.sock.close()
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass


def free_port():
    """A port nobody listens on: bound, then closed."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def tempdir():
    return tempfile.TemporaryDirectory(prefix="genid-cli-")
