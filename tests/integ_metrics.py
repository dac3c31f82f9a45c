#!/usr/bin/env python3
"""
integ_metrics.py - metrics_listen (SPEC 8b): the master serves the
Prometheus text at /metrics, read from the state file; the counters move
with the IDs handed out, and `genidctl stats --prometheus` prints the same
families.
"""

import os
import re
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "integration"))
import harness  # noqa: E402

SAMPLE_RE = re.compile(r"^([a-z_]+)(\{[^}]*\})? (\S+)$")


def http_get(port, path, method="GET"):
    """Returns (status line, headers text, body) of one HTTP/1.0 request."""
    data, err = harness.http_exchange(
        port, ("%s %s HTTP/1.0\r\nHost: x\r\n\r\n" % (method, path)).encode())
    if err is not None:
        raise harness.Failure("%s %s: %s" % (method, path, err))
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    return lines[0], "\n".join(lines[1:]), body.decode()


def samples(text):
    """{name: sum of its samples} and the set of TYPE'd families."""
    sums, families = {}, set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            families.add(line.split()[2])
            continue
        if line.startswith("#") or not line:
            continue
        m = SAMPLE_RE.match(line)
        if not m:
            raise harness.Failure("not an exposition line: %r" % line)
        sums[m.group(1)] = sums.get(m.group(1), 0) + float(m.group(3))
    return sums, families


def listening_inode(port):
    """The inode of the IPv4 socket listening on port, from /proc/net/tcp."""
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            cols = line.split()
            if int(cols[1].split(":")[1], 16) == port and cols[3] == "0A":
                return cols[9]
    return None


def test(t):
    d = harness.Daemon(t, workers=2, metrics_listen="127.0.0.1:0").start()
    port = harness.metrics_port(d)

    status, headers, body = http_get(port, "/metrics")
    t.check(status == "HTTP/1.0 200 OK", "GET /metrics: 200", status)
    t.check("text/plain; version=0.0.4" in headers,
            "GET /metrics: the exposition content type", headers)
    before, families = samples(body)
    for name in ("genid_bucket_ids_total", "genid_bucket_requests_total",
                 "genid_worker_connections", "genid_worker_rejected_"
                 "connections_total", "genid_worker_bad_requests_total",
                 "genid_clock_steps_back_total", "genid_clock_steps_"
                 "forward_total", "genid_lead_seconds",
                 "genid_checkpoint_age_seconds", "genid_bucket_waits_total",
                 "genid_bucket_short_replies_total",
                 "genid_worker_restarts_total",
                 "genid_timestamp_seconds_left"):
        t.check(name in families, "family %s is served" % name)
    t.check(before.get("genid_up") == 1, "genid_up 1")

    with harness.connect(d.addr) as s:
        got = len(harness.get_ids(s, 255)) + 1
        harness.get_id(s)
        status, _, body = http_get(port, "/metrics")
        after, _ = samples(body)
        t.check(after.get("genid_worker_connections") == 1,
                "one connection open is counted",
                "%s" % after.get("genid_worker_connections"))
    delta = after["genid_bucket_ids_total"] - before["genid_bucket_ids_total"]
    t.check(delta == got, "genid_bucket_ids_total grew by the %d IDs "
            "handed out" % got, "grew by %d" % delta)
    t.check(after["genid_bucket_requests_total"] -
            before["genid_bucket_requests_total"] == 2,
            "two requests counted")

    status, _, _ = http_get(port, "/nothing")
    t.check(status.startswith("HTTP/1.0 404"), "another path: 404", status)
    status, _, _ = http_get(port, "/metrics", method="POST")
    t.check(status.startswith("HTTP/1.0 405"), "POST: 405", status)
    status, headers, body = http_get(port, "/metrics", method="HEAD")
    t.check(status == "HTTP/1.0 200 OK" and body == "",
            "HEAD /metrics: headers only", "%s, %d bytes" % (status,
                                                             len(body)))

    ctl = os.environ.get("GENIDCTL")
    if ctl and os.access(ctl, os.X_OK):
        out = subprocess.run([ctl, "stats", "-s", d.state_path,
                              "--prometheus"], capture_output=True,
                             text=True, timeout=10)
        t.check(out.returncode == 0, "genidctl stats --prometheus runs",
                out.stderr)
        _, ctl_families = samples(out.stdout)
        _, srv_families = samples(http_get(port, "/metrics")[2])
        t.check(ctl_families == srv_families, "genidctl stats --prometheus "
                "prints the same families as /metrics",
                "%s" % (ctl_families ^ srv_families))
    inode = listening_inode(port)
    t.check(inode is not None, "the metrics socket is listening")
    for w in d.workers_now():
        links = [os.readlink("/proc/%d/fd/%s" % (w, f))
                 for f in os.listdir("/proc/%d/fd" % w)]
        t.check("socket:[%s]" % inode not in links, "worker %d does not hold "
                "the metrics socket" % w)
    rc, took = d.stop()
    t.check(rc == 0, "SIGTERM: exit 0", "got %r" % rc)


harness.run(test, control=True)
