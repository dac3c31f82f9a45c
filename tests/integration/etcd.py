# SPDX-License-Identifier: BSD-2-Clause
"""
etcd.py - a real etcd for the integration tests (issue 10): one member,
or a cluster of three.

    if not etcd.binary():
        t.skip(etcd.MISSING)
    with etcd.Etcd(t) as e:       # starts, waits until /health answers
        genid_conf["coordination"] = {"etcd": [e.endpoint], ...}
        e.range_prefix("/genid-test/")   # [(key, value, lease), ...]
        e.lease_ttl(lease)               # (ttl left, granted ttl)
        e.stop()                  # SIGTERM to its pid; etcd is gone
        e.start()                 # same ports, same data directory

Debian's etcd-server (the etcd binary) runs in the foreground with its data
directory in the test's temporary directory, its client and peer URLs on
ports of 127.0.0.1 that were free when it started (bound to port 0, then
released; chosen again if etcd finds one taken meanwhile), and its output
in etcd.log there.  start() after stop() reuses the ports and the data,
so that a test can take etcd away under running nodes and bring it back.
Only the process this class started is ever signalled, by its pid, and
harness.run() stops it whatever ends the test.  GENID_TEST_ETCD=PATH runs
another etcd binary; a PATH that is not a program makes the tests skip
as on a host without etcd.

The helpers speak etcd's v3 JSON gateway (keys and values in base64) with
urllib: nothing beyond the Python standard library.

A cluster of members on 127.0.0.1, one process each, all in one
directory (member NAME: data in NAME.data, output in NAME.log):

    with etcd.Cluster(t, size=3) as c:   # starts all, waits for /health
        c.endpoints               # ["127.0.0.1:port", ...], member order
        c.members[1].stop()       # one member: SIGTERM to its pid
        c.members[1].start()      # back on its ports and data, /health
        lead = c.leader()         # the member the others follow, or None
        lead.kill()               # SIGKILL to its pid
        c.wait_leader(10, other_than=lead)
        m.start(wait="up")        # only until it answers (no quorum yet)
        c.wait_healthy(20)        # every running member has a leader
        c.client().range_prefix(...)  # any member that answers

Each member is an Etcd: the key helpers work on any of them.  The ports
(a client and a peer port per member) are chosen before the first start,
since every member must know every peer URL; when one is taken before
its member binds it, the whole cluster starts again on new ports.

Run directly (python3 tests/integration/etcd.py) it checks itself against
the installed etcd: start, put under a lease, range, TTL, restart, stop;
then a cluster of three: a member stopped and started again, the leader
killed and another one elected, no quorum and back.
"""

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import harness

MISSING = ("etcd is not installed: these tests need a real etcd "
           "(Debian: apt-get install etcd-server)")


def binary():
    """The etcd program (GENID_TEST_ETCD, else etcd on PATH or in
    /usr/bin), or None."""
    if "GENID_TEST_ETCD" in os.environ:
        p = os.environ["GENID_TEST_ETCD"]
        return p if p and os.access(p, os.X_OK) else None
    return shutil.which("etcd") or (
        "/usr/bin/etcd" if os.access("/usr/bin/etcd", os.X_OK) else None)


def free_port(host="127.0.0.1"):
    """A port nobody listened on at host a moment ago (bound to port 0,
    then released: someone may take it before etcd binds it; start()
    notices and picks another)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def b64(text):
    """A key or value as the JSON gateway wants it: base64 of its bytes."""
    if isinstance(text, str):
        text = text.encode()
    return base64.b64encode(text).decode("ascii")


def unb64(text):
    """A key or value from the JSON gateway, as a str."""
    return base64.b64decode(text or "").decode("utf-8", errors="replace")


def prefix_end(prefix):
    """The range_end that makes a range read every key under prefix: the
    prefix with its last byte one higher (etcdctl get --prefix)."""
    p = bytearray(prefix.encode() if isinstance(prefix, str) else prefix)
    while p:
        if p[-1] < 0xFF:
            p[-1] += 1
            return bytes(p)
        p.pop()
    return b"\0"  # every key


class EtcdError(harness.Failure):
    """etcd did not answer as the test expected (or not at all)."""


def _make_dir(t):
    """(the directory of a test's etcd, whether cleanup() removes it)."""
    if t is not None:
        return t.tmpdir(), False
    return tempfile.mkdtemp(prefix="genid-etcd-"), True


class Etcd:
    """One etcd started by a test, with its data and log in dir.  t may be
    None (then dir must be given, or a temporary one is made and removed by
    cleanup()).  cluster: the Cluster this is a member of (None: a cluster
    of one); its ports are then set by the Cluster."""

    def __init__(self, t=None, dir=None, name="genid-test", cluster=None):
        self.t = t
        self._own_dir = False
        if dir is None:
            dir, self._own_dir = _make_dir(t)
        self.dir = dir
        self.name = name
        self.cluster = cluster
        if cluster is None:
            self.data_dir = os.path.join(dir, "etcd.data")
            self.log_path = os.path.join(dir, "etcd.log")
        else:
            self.data_dir = os.path.join(dir, name + ".data")
            self.log_path = os.path.join(dir, name + ".log")
        self.host = "127.0.0.1"
        self.client_port = None
        self.peer_port = None
        self.proc = None
        self.started = 0  # how many times etcd was started
        self._log_off = 0
        harness._daemons.append(self)

    # ---------------------------------------------------------- addresses

    @property
    def endpoint(self):
        """host:port of the client URL, as genid.json's coordination.etcd
        lists it."""
        return "%s:%d" % (self.host, self.client_port)

    @property
    def client_url(self):
        return "http://%s:%d" % (self.host, self.client_port)

    @property
    def peer_url(self):
        return "http://%s:%d" % (self.host, self.peer_port)

    # ---------------------------------------------------------- process

    def _command(self):
        if self.cluster is not None:
            initial = self.cluster.initial_cluster()
            token = self.cluster.token
        else:
            initial = "%s=%s" % (self.name, self.peer_url)
            token = "genid-test-%d" % os.getpid()
        return [binary(),
                "--name", self.name,
                "--data-dir", self.data_dir,
                "--listen-client-urls", self.client_url,
                "--advertise-client-urls", self.client_url,
                "--listen-peer-urls", self.peer_url,
                "--initial-advertise-peer-urls", self.peer_url,
                "--initial-cluster", initial,
                "--initial-cluster-state", "new",
                "--initial-cluster-token", token,
                "--logger", "zap", "--log-outputs", "stderr"]

    def _env(self):
        # ETCD_* variables of the caller's environment would override the
        # flags (etcd reads its whole configuration from them too).
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("ETCD_")}
        return env

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def output(self):
        """What etcd wrote since it was last started."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self._log_off)
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def _spawn(self):
        try:
            self._log_off = os.path.getsize(self.log_path)
        except OSError:
            self._log_off = 0
        out = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(
                self._command(), stdin=subprocess.DEVNULL, stdout=out,
                stderr=out, cwd=self.dir, env=self._env())
        finally:
            out.close()
        self.started += 1

    def _wait_healthy(self, deadline, cond=None):
        """Polls cond (default: /health) until it holds, etcd exits or the
        deadline passes: True, or the exit status, or None."""
        cond = cond or self.healthy
        end = time.monotonic() + deadline
        while True:
            rc = self.proc.poll()
            if rc is not None:
                return rc
            if cond():
                return True
            if time.monotonic() >= end:
                return None
            time.sleep(0.02)

    def _failed(self, got, deadline):
        """The EtcdError for a start that did not get healthy: got is the
        exit status, or None for the deadline."""
        what = ("did not answer %s/health within %d s" %
                (self.client_url, deadline) if got is None
                else "exited with %d" % got)
        return EtcdError("etcd %s %s (ports %d/%d, data %s):\n%s"
                         % (self.name, what, self.client_port,
                            self.peer_port, self.data_dir,
                            self.output().strip()[-3000:]))

    def start(self, deadline=20, wait="healthy"):
        """Starts etcd (on the ports of the previous start, if any) and
        waits until it answers /health (wait="healthy"), until it answers
        at all (wait="up": a member without quorum has no leader, so it is
        not healthy), or not at all (wait=None).  Returns self."""
        if self.running():
            raise EtcdError("etcd %s start while it runs (pid %d)"
                            % (self.name, self.proc.pid))
        if binary() is None:
            raise harness.Skip(MISSING)
        if self.cluster is not None and self.client_port is None:
            raise EtcdError("etcd %s: a cluster member gets its ports from "
                            "Cluster.start()" % self.name)
        cond = {"healthy": self.healthy, "up": self.answers}.get(wait)
        fixed = self.client_port is not None
        end = time.monotonic() + deadline
        tries = 0
        while True:
            tries += 1
            if not fixed:
                self.client_port = free_port(self.host)
                self.peer_port = free_port(self.host)
                while self.peer_port == self.client_port:
                    self.peer_port = free_port(self.host)
            self._spawn()
            if wait is None:
                return self
            got = self._wait_healthy(max(0.5, end - time.monotonic()), cond)
            if got is True:
                return self
            text = self.output()
            in_use = "address already in use" in text
            if got is None:
                self.kill()
            if in_use and time.monotonic() < end and tries < 20:
                # Someone took a port between its choice and etcd's bind
                # (or, on a restart, still holds it): choose again, or
                # wait for the same ports a little.
                if fixed:
                    time.sleep(0.1)
                continue
            raise self._failed(got, deadline)

    def stop(self, deadline=10, sig=signal.SIGTERM):
        """Stops etcd (SIGTERM to its pid, SIGKILL after deadline) and
        waits until its client port refuses connections.  Returns the exit
        status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=deadline)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def kill(self):
        """SIGKILL to etcd's pid (a crash, or a host gone)."""
        return self.stop(deadline=10, sig=signal.SIGKILL)

    def cleanup(self):
        self.stop(deadline=5)
        if self._own_dir and not os.environ.get("GENID_TEST_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        if not self.running():
            self.start()
        return self

    def __exit__(self, *exc):
        self.cleanup()
        return False

    # ---------------------------------------------------------- HTTP

    def _request(self, path, body=None, timeout=5):
        """One request to the client URL: the decoded JSON reply.  body
        None: GET; else POST of body as JSON."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.client_url + path, data=data,
            headers={"Content-Type": "application/json"} if data else {})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return json.loads(r.read().decode() or "{}")
        except urllib.error.HTTPError as e:
            raise EtcdError("etcd %s: HTTP %d: %s" % (
                path, e.code, e.read().decode(errors="replace")[:500]))
        except (OSError, ValueError) as e:
            raise EtcdError("etcd %s: %s" % (path, e))

    def post(self, path, body):
        """A v3 JSON gateway call: POST body to path (e.g. /v3/kv/range)."""
        return self._request(path, body)

    def healthy(self):
        """Whether GET /health says true (False when etcd does not answer:
        stopped, starting, or without a leader yet)."""
        try:
            r = self._request("/health", timeout=1)
        except EtcdError:
            return False
        return str(r.get("health")) == "true"

    def answers(self):
        """Whether etcd answers HTTP at all (GET /version), leader or
        not."""
        try:
            self._request("/version", timeout=1)
        except EtcdError:
            return False
        return True

    def status(self, timeout=5):
        """/v3/maintenance/status: version, leader, raft index..."""
        return self._request("/v3/maintenance/status", {}, timeout=timeout)

    def member_id(self):
        """This member's id (header.member_id of its status, as the
        decimal string the gateway gives), or None if it does not
        answer."""
        try:
            return str(self.status(timeout=1)["header"]["member_id"])
        except (EtcdError, KeyError, TypeError):
            return None

    # ---------------------------------------------------------- keys

    def range_prefix(self, prefix):
        """Every key under prefix, in key order: [(key, value, lease)],
        key and value as str, lease an int (0: none)."""
        r = self.post("/v3/kv/range", {"key": b64(prefix),
                                       "range_end": b64(prefix_end(prefix))})
        return [(unb64(kv.get("key")), unb64(kv.get("value")),
                 int(kv.get("lease", 0) or 0)) for kv in r.get("kvs", [])]

    def get(self, key):
        """(value, lease) of key, or None when it does not exist."""
        r = self.post("/v3/kv/range", {"key": b64(key)})
        kvs = r.get("kvs", [])
        if not kvs:
            return None
        return unb64(kvs[0].get("value")), int(kvs[0].get("lease", 0) or 0)

    def get_json(self, key):
        """The value of key decoded as JSON (and its lease), or None."""
        got = self.get(key)
        if got is None:
            return None
        try:
            return json.loads(got[0]), got[1]
        except ValueError:
            raise EtcdError("etcd key %s: not JSON: %r" % (key, got[0]))

    def put(self, key, value, lease=0):
        body = {"key": b64(key), "value": b64(value)}
        if lease:
            body["lease"] = str(lease)
        return self.post("/v3/kv/put", body)

    def delete_prefix(self, prefix):
        """Deletes every key under prefix; returns how many."""
        r = self.post("/v3/kv/deleterange",
                      {"key": b64(prefix),
                       "range_end": b64(prefix_end(prefix))})
        return int(r.get("deleted", 0) or 0)

    def grant(self, ttl):
        """A new lease of ttl seconds: its ID."""
        r = self.post("/v3/lease/grant", {"TTL": str(ttl)})
        return int(r["ID"])

    def lease_ttl(self, lease):
        """(seconds left, granted TTL) of a lease; (-1, 0) when it has
        expired or never existed (as etcd says it)."""
        r = self.post("/v3/lease/timetolive", {"ID": str(lease)})
        return int(r.get("TTL", -1)), int(r.get("grantedTTL", 0) or 0)

    def key_ttl(self, key):
        """(seconds left, granted TTL) of the lease key is held under;
        None when the key does not exist or has no lease."""
        got = self.get(key)
        if got is None or not got[1]:
            return None
        return self.lease_ttl(got[1])


class Cluster:
    """size etcd members started by a test, one process each, on ports of
    127.0.0.1, their data and logs in one directory (see the top)."""

    def __init__(self, t=None, size=3, dir=None, name="genid-test"):
        self.t = t
        self._own_dir = False
        if dir is None:
            dir, self._own_dir = _make_dir(t)
        self.dir = dir
        self.token = "%s-%d-%d" % (name, os.getpid(), id(self))
        self.members = [Etcd(t, dir=dir, name="%s%d" % (name, k),
                             cluster=self)
                        for k in range(size)]

    @property
    def endpoints(self):
        """Every member's host:port, in member order, as genid.json's
        coordination.etcd lists them."""
        return [m.endpoint for m in self.members]

    def initial_cluster(self):
        return ",".join("%s=%s" % (m.name, m.peer_url) for m in self.members)

    def _choose_ports(self):
        """A client and a peer port per member, all different."""
        taken = set()
        for m in self.members:
            for attr in ("client_port", "peer_port"):
                p = free_port(m.host)
                while p in taken:
                    p = free_port(m.host)
                taken.add(p)
                setattr(m, attr, p)

    def start(self, deadline=30):
        """Starts every member at once (a new cluster needs a quorum of
        them to elect a leader) and waits until each is healthy.  A port
        taken meanwhile: all stop, their data goes, and all start again
        on new ports.  Returns self."""
        if binary() is None:
            raise harness.Skip(MISSING)
        end = time.monotonic() + deadline
        tries = 0
        while True:
            tries += 1
            self._choose_ports()
            for m in self.members:
                m.start(wait=None)
            bad = None
            for m in self.members:
                got = m._wait_healthy(max(0.5, end - time.monotonic()))
                if got is not True:
                    bad = (m, got)
                    break
            if bad is None:
                return self
            m, got = bad
            in_use = any("address already in use" in x.output()
                         for x in self.members)
            for x in self.members:
                x.kill()
            if in_use and time.monotonic() < end and tries < 10:
                for x in self.members:
                    shutil.rmtree(x.data_dir, ignore_errors=True)
                continue
            raise m._failed(got, deadline)

    def running(self):
        return [m for m in self.members if m.running()]

    def statuses(self):
        """{member: (its member id, the leader id it knows: "0" when none)}
        of the running members that answer."""
        out = {}
        for m in self.running():
            try:
                st = m.status(timeout=1)
                out[m] = (str(st["header"]["member_id"]),
                          str(st.get("leader", "0")))
            except (EtcdError, KeyError, TypeError):
                pass
        return out

    def leader(self):
        """The member that leads, as every running member that answers
        says (and itself), or None: no leader, or they disagree (an
        election under way)."""
        st = self.statuses()
        leaders = {lead for _, lead in st.values()}
        if len(leaders) != 1:
            return None
        lead = leaders.pop()
        for m, (mid, _) in st.items():
            if mid == lead:
                return m
        return None

    def wait_leader(self, deadline, other_than=None):
        """Polls until a leader (not other_than) is agreed on and is
        healthy: the member, or None after deadline."""
        def led():
            m = self.leader()
            return m if m is not None and m is not other_than and \
                m.healthy() else None
        return harness.poll(led, deadline, 0.02)

    def wait_healthy(self, deadline):
        """Polls until every running member says healthy: True or
        False."""
        return bool(harness.poll(
            lambda: all(m.healthy() for m in self.running()), deadline,
            0.02))

    def client(self):
        """A running member that is healthy (for the key helpers), or
        EtcdError."""
        for m in self.running():
            if m.healthy():
                return m
        raise EtcdError("no member of the etcd cluster at %s is healthy"
                        % " ".join(self.endpoints))

    def stop(self):
        for m in self.members:
            m.stop()

    def cleanup(self):
        for m in self.members:
            m.cleanup()
        if self._own_dir and not os.environ.get("GENID_TEST_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        if not self.running():
            self.start()
        return self

    def __exit__(self, *exc):
        self.cleanup()
        return False


def _selftest():
    """Checks this module against the installed etcd; exit 0 or 1, 77
    without etcd."""
    import sys
    if binary() is None:
        print("# SKIP: " + MISSING)
        sys.exit(harness.SKIP)
    with Etcd() as e:
        t0 = time.monotonic()
        print("etcd up at %s (peer %s), data in %s" % (
            e.endpoint, e.peer_url, e.data_dir))
        print("version %s" % e.status().get("version"))
        lease = e.grant(5)
        e.put("/selftest/a", '{"x": 1}', lease)
        e.put("/selftest/b", "plain")
        e.put("/selftesu", "outside the prefix")
        kvs = e.range_prefix("/selftest/")
        assert [k for k, _, _ in kvs] == ["/selftest/a", "/selftest/b"], kvs
        assert kvs[0][2] == lease and kvs[1][2] == 0, kvs
        assert e.get_json("/selftest/a") == ({"x": 1}, lease)
        left, granted = e.key_ttl("/selftest/a")
        assert granted == 5 and 0 < left <= 5, (left, granted)
        assert e.key_ttl("/selftest/b") is None
        port = e.client_port
        e.stop()
        assert not e.healthy()
        e.start()
        assert e.client_port == port
        assert e.get("/selftest/b") == ("plain", 0), e.get("/selftest/b")
        assert e.delete_prefix("/selftest/") == 2
        assert e.range_prefix("/selftest/") == []
        e.kill()
        assert not e.running()
        print("ok: etcd harness works (%.1f s)" % (time.monotonic() - t0))
    with Cluster(size=3) as c:
        t0 = time.monotonic()
        print("cluster up at %s" % " ".join(c.endpoints))
        lead = c.wait_leader(10)
        assert lead is not None, c.statuses()
        ids = {m.member_id() for m in c.members}
        assert len(ids) == 3 and None not in ids, ids
        print("leader %s (%s)" % (lead.name, lead.member_id()))
        lead.put("/selftest/c", "three")
        follower = [m for m in c.members if m is not lead][0]
        follower.stop()
        assert not follower.answers()
        assert c.client().get("/selftest/c") == ("three", 0)
        follower.start()
        assert follower.get("/selftest/c") == ("three", 0)
        lead.kill()
        t1 = time.monotonic()
        new = c.wait_leader(15, other_than=lead)
        assert new is not None and new is not lead, c.statuses()
        print("leader killed: %s elected in %.0f ms" % (
            new.name, (time.monotonic() - t1) * 1000))
        lead.start()
        others = [m for m in c.members if m is not new]
        for m in others:
            m.stop()
        assert harness.poll(lambda: not new.healthy(), 10, 0.05), \
            "a member alone says healthy"
        for m in others:
            m.start(wait="up")
        assert c.wait_healthy(15), c.statuses()
        assert c.client().delete_prefix("/selftest/") == 1
        print("ok: etcd cluster harness works (%.1f s)"
              % (time.monotonic() - t0))


if __name__ == "__main__":
    _selftest()
