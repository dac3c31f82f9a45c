# SPDX-License-Identifier: BSD-2-Clause
"""haproxy.py - the HAProxy sample (contrib/haproxy/genid.cfg) run by a
test: the sample itself, with the test's addresses put in.

    hp = haproxy.HAProxy(t, [("genid1", ("127.0.0.2", 3778)), ...])
    hp.start()                  # waits until the stats socket answers
    hp.wait_status("genid1", "UP", 10)
    sock = harness.connect(hp.addr)
    hp.stop()                   # SIGTERM to its pid; harness.run() also

The frontend listens on an ephemeral port of 127.0.0.1; the stats socket
and the generated config live in the test's directory.  Nothing from the
sample is changed but the addresses, the stats socket path and the
syslog line (a test has no syslog).
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import time

import harness

SAMPLE = "contrib/haproxy/genid.cfg"


def binary():
    """The haproxy program, or None."""
    return shutil.which("haproxy") or (
        "/usr/sbin/haproxy" if os.access("/usr/sbin/haproxy", os.X_OK)
        else None)


def free_port(host="127.0.0.1"):
    """A port nobody listens on at host (bound, then released)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def config(sample, port, stats_path, servers):
    """The sample's text with the test's frontend port, stats socket and
    servers [(name, (host, port))] in place of its own."""
    out = []
    for line in sample.splitlines():
        stripped = line.strip()
        if stripped.startswith("log /dev/log"):
            continue
        if stripped.startswith("stats socket "):
            line = re.sub(r"stats socket \S+", "stats socket " + stats_path,
                          line)
        if stripped.startswith("bind "):
            line = re.sub(r"bind \S+", "bind 127.0.0.1:%d" % port, line)
        if stripped.startswith("server "):
            continue
        out.append(line)
    text = "\n".join(out).rstrip("\n") + "\n"
    for name, (host, p) in servers:
        text += "\tserver %s %s:%d check\n" % (name, host, p)
    return text


class HAProxy:
    def __init__(self, t, servers, dir=None):
        self.t = t
        self.dir = dir or t.tmpdir()
        self.servers = list(servers)
        self.port = free_port()
        self.stats_path = os.path.join(self.dir, "haproxy.sock")
        self.cfg_path = os.path.join(self.dir, "haproxy.cfg")
        self.out_path = os.path.join(self.dir, "haproxy.out")
        self.proc = None

    @property
    def addr(self):
        return ("127.0.0.1", self.port)

    def start(self, deadline=10):
        with open(harness.source_path(SAMPLE)) as f:
            text = config(f.read(), self.port, self.stats_path,
                          self.servers)
        with open(self.cfg_path, "w") as f:
            f.write(text)
        out = open(self.out_path, "ab")
        # -db: in the foreground, so that the pid is HAProxy's own.
        self.proc = subprocess.Popen([binary(), "-db", "-f", self.cfg_path],
                                     stdin=subprocess.DEVNULL, stdout=out,
                                     stderr=out, cwd=self.dir)
        out.close()
        # Stopped with the test's daemons, whatever ends the test.
        harness._daemons.append(self)
        up = harness.poll(self._answers, deadline, 0.02)
        if not up:
            raise harness.Failure("haproxy did not start: %s"
                                  % self.output()[-2000:])
        return self

    def _answers(self):
        if self.proc.poll() is not None:
            raise harness.Failure("haproxy exited with %d: %s"
                                  % (self.proc.returncode,
                                     self.output()[-2000:]))
        try:
            return bool(self.stat())
        except OSError:
            return False

    def output(self):
        try:
            with open(self.out_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def command(self, cmd):
        """One command on the stats socket; its reply."""
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(5)
            s.connect(self.stats_path)
            s.sendall(cmd.encode() + b"\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    return data.decode(errors="replace")
                data += chunk

    def stat(self):
        """{server name: status} of the backend ("UP", "DOWN", ...)."""
        lines = self.command("show stat").splitlines()
        if not lines or not lines[0].startswith("# "):
            return {}
        head = lines[0][2:].split(",")
        res = {}
        for line in lines[1:]:
            row = dict(zip(head, line.split(",")))
            if row.get("pxname") == "genid_nodes" and \
                    row.get("svname") not in ("BACKEND", "FRONTEND"):
                res[row["svname"]] = row.get("status", "")
        return res

    def wait_status(self, name, status, deadline):
        """Waits until server name's status starts with status."""
        return harness.poll(
            lambda: self.stat().get(name, "").startswith(status),
            deadline, 0.05)

    def cleanup(self):
        self.stop()

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def fetch_one(addr, timeout=5.0):
    """A new connection, one ID, closed: the ID, or the exception."""
    t0 = time.monotonic()
    try:
        with harness.connect(addr, timeout=timeout) as s:
            return harness.get_id(s), time.monotonic() - t0
    except (OSError, EOFError, harness.Failure) as e:
        return e, time.monotonic() - t0
