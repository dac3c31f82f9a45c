#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
integ_metrics.py - metrics_listen (metrics): the master serves the
Prometheus text at /metrics, read from the state file.  One daemon (two
workers, metrics on 127.0.0.1:0) serves every case below in turn; each
case names the behaviour it checks.  The counter families and their
values are checked row by row against the counter table of
src/core/counters.c, as the harness reads it.
"""

import json
import os
import re
import resource
import socket
import subprocess
import sys
import time
import traceback

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "integration"))
import harness  # noqa: E402

SAMPLE_RE = re.compile(r'^([a-z_]+)(\{[^}]*\})? (\S+)$')
SLOT_RE = re.compile(r'^\{(bucket|worker)="(\d+)"\}$')

# The families of the node itself, printed besides the counter table's.
NODE_FAMILIES = ("genid_info", "genid_up", "genid_start_time_seconds",
                 "genid_boots_total", "genid_workers",
                 "genid_bucket_lead_seconds", "genid_worker_up",
                 "genid_clock_steps_back_total",
                 "genid_clock_steps_forward_total", "genid_lead_seconds",
                 "genid_checkpoint_age_seconds",
                 "genid_timestamp_left_seconds")

# The families of the master process itself, only in /metrics.
MASTER_FAMILIES = ("genid_build_info", "process_cpu_seconds_total",
                   "process_start_time_seconds",
                   "process_virtual_memory_bytes",
                   "process_resident_memory_bytes", "process_open_fds",
                   "process_max_fds")


class Exposition:
    """The parsed text of one /metrics reply."""

    def __init__(self, text):
        self.help, self.type, self.samples = {}, {}, {}
        for line in text.splitlines():
            if line.startswith("# HELP "):
                name, _, help_text = line[7:].partition(" ")
                self.help[name] = help_text
            elif line.startswith("# TYPE "):
                _, _, name, kind = line.split(" ")
                self.type[name] = kind
            elif line:
                m = SAMPLE_RE.match(line)
                if not m:
                    raise harness.Failure("not an exposition line: %r"
                                          % line)
                self.samples[(m.group(1), m.group(2) or "")] = \
                    float(m.group(3))

    def sum(self, name):
        return sum(v for (n, _), v in self.samples.items() if n == name)

    def slot(self, name, label, i):
        return self.samples.get((name, '{%s="%d"}' % (label, i)))


def http_get(port, path, method="GET"):
    """Returns (status line, headers text, body) of one HTTP/1.0 request."""
    data, err = harness.http_exchange(
        port, ("%s %s HTTP/1.0\r\nHost: x\r\n\r\n" % (method, path)).encode())
    if err is not None:
        raise harness.Failure("%s %s: %s" % (method, path, err))
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    return lines[0], "\n".join(lines[1:]), body.decode()


def scrape(port):
    """The reply to GET /metrics, or what cut it short."""
    data, err = harness.http_exchange(port, b"GET /metrics HTTP/1.0\r\n\r\n")
    return data if err is None else repr(err).encode()


def status(port, request):
    """The status line of the reply to a raw request."""
    data, _ = harness.http_exchange(port, request)
    return data.split(b"\r\n", 1)[0].decode()


def metrics(port):
    st, _, body = http_get(port, "/metrics")
    if st != "HTTP/1.0 200 OK":
        raise harness.Failure("GET /metrics: %s" % st)
    return Exposition(body)


def scrape_conns(d, port):
    """How many metrics connections the master holds now."""
    return len(harness.tcp_sockets(port)[1] & harness.socket_inodes(d.master_pid()))


def ctl(*args):
    ctl = os.environ.get("GENIDCTL")
    if not ctl or not os.access(ctl, os.X_OK):
        raise harness.Skip("GENIDCTL is not set or not built")
    return subprocess.run([ctl] + list(args), capture_output=True,
                          text=True, timeout=10)


def quiet(d):
    """Waits until no client connection is open on d, so that its
    counters hold still; returns the State."""
    def idle():
        s = d.state()
        busy = sum(b.conns for b in s.buckets) + sum(
            w.conns for w in s.workers[:s.h.workers])
        return s if busy == 0 else None
    s = harness.poll(idle, 5)
    if not s:
        raise harness.Failure("connections still counted open after 5 s")
    return s


# ------------------------------------------------------------ the cases

def case_exposition(t, d, port):
    """GET /metrics answers 200 in the exposition format with every family
    of the counter table and of the node, typed and described as the table
    says, and genid_up 1."""
    st, headers, body = http_get(port, "/metrics")
    t.check(st == "HTTP/1.0 200 OK", "GET /metrics: 200", st)
    t.check("text/plain; version=0.0.4" in headers,
            "GET /metrics: the exposition content type", headers)
    e = Exposition(body)
    for row in harness.counter_rows():
        t.check(e.type.get(row.prom) == row.type and
                e.help.get(row.prom) == row.help,
                "family %s is served as a %s with the table's help"
                % (row.prom, row.type),
                "TYPE %r HELP %r" % (e.type.get(row.prom),
                                     e.help.get(row.prom)))
    for name in NODE_FAMILIES:
        t.check(name in e.type, "family %s is served" % name)
    table = {r.prom for r in harness.counter_rows()}
    per_slot = {n for (n, labels) in e.samples if SLOT_RE.match(labels)}
    t.check(per_slot - table <= set(NODE_FAMILIES),
            "every per-bucket and per-worker family is in the counter "
            "table or a node family", "%s" % sorted(per_slot - table))
    t.check(e.samples.get(("genid_up", "")) == 1, "genid_up 1")


def case_counters_follow_traffic(t, d, port):
    """The counters move with the traffic: IDs and requests grow by what
    was handed out, an open connection is counted while it is open, an
    unknown command is counted as a bad request."""
    before = metrics(port)
    with harness.connect(d.addr) as s:
        got = len(harness.get_ids(s, 255)) + 1
        harness.get_id(s)
        during = metrics(port)
        t.check(during.sum("genid_worker_connections") == 1,
                "one connection open is counted",
                "%s" % during.sum("genid_worker_connections"))
    with harness.connect(d.addr) as s:
        s.sendall(b"\x07\x00")
        harness.wait_closed(s)
    quiet(d)
    after = harness.poll(lambda: (lambda e: e if e.sum(
        "genid_worker_bad_requests_total") > before.sum(
        "genid_worker_bad_requests_total") else None)(metrics(port)), 5)
    t.require(after, "an unknown command is counted in "
              "genid_worker_bad_requests_total")
    for name in ("genid_bucket_ids_total", "genid_worker_ids_total"):
        delta = after.sum(name) - before.sum(name)
        t.check(delta == got, "%s grew by the %d IDs handed out"
                % (name, got), "grew by %d" % delta)
    for name in ("genid_bucket_requests_total",
                 "genid_worker_requests_total"):
        delta = after.sum(name) - before.sum(name)
        t.check(delta == 2, "%s grew by the two requests" % name,
                "grew by %d" % delta)
    delta = (after.sum("genid_worker_connections_total") -
             before.sum("genid_worker_connections_total"))
    t.check(delta == 2, "genid_worker_connections_total counts both "
            "connections", "grew by %d" % delta)


def text_columns(text, first):
    """{slot number: {heading: value}} of the table on the genidctl stats
    screen whose heading line starts with first."""
    lines = text.splitlines()
    heads = [i for i, line in enumerate(lines) if line.split()[:1] == [first]]
    if len(heads) != 1:
        raise harness.Failure("stats text: no %r table" % first)
    heading = lines[heads[0]].split()
    out = {}
    for line in lines[heads[0] + 1:]:
        cols = line.split()
        if not cols or not cols[0].isdigit():
            break
        out[int(cols[0])] = dict(zip(heading, cols))
    return out


def text_total(state, rows):
    """The total line the stats screen should print for state."""
    parts = []
    for row in rows:
        if row.total is None:
            continue
        v = sum(getattr(b, row.member) for b in state.buckets)
        if row.total_aside:
            parts[-1] += " (%d %s)" % (v, row.total)
        else:
            parts.append("%d %s" % (v, row.total))
    return "total       " + ", ".join(parts)


def slots(state):
    """The bucket and worker slots of state, the heartbeats left out."""
    raw = bytearray(state.raw[state.h.bucket_off:])
    beat = harness.StateWorker.beat.offset
    for i in range(state.h.worker_count):
        at = (state.h.worker_off - state.h.bucket_off +
              i * state.h.worker_size + beat)
        raw[at:at + 8] = bytes(8)
    return bytes(raw)


def readings(d, port):
    """The state file, /metrics, stats --json, stats text and stats
    --prometheus, all of one unchanging moment."""
    for _ in range(5):
        s0 = quiet(d)
        e = metrics(port)
        j = ctl("stats", "-s", d.state_path, "--json")
        txt = ctl("stats", "-s", d.state_path)
        p = ctl("stats", "-s", d.state_path, "--prometheus")
        # The master moves the header's checkpoint; the slots hold still,
        # but for the workers' heartbeats, which no reader shows.
        if slots(d.state()) == slots(s0):
            return s0, e, json.loads(j.stdout), txt.stdout, \
                Exposition(p.stdout)
    raise harness.Failure("the state file kept changing while idle")


def case_readers_agree(t, d, port):
    """Every row of the counter table shows the value of the state file
    in /metrics, genidctl stats --prometheus, --json and on the text
    screen, for every bucket, every worker and the totals."""
    # Spread traffic over the buckets, with a different count on each
    # connection, so that a value read from the wrong slot shows.
    conns = [harness.connect(d.addr) for _ in range(64)]
    try:
        for n, s in enumerate(conns):
            harness.get_ids(s, 1 + n * 3)
    finally:
        for s in conns:
            s.close()
    st, e, j, text, p = readings(d, port)
    nw = st.h.workers
    bad = []
    screen = {"bucket": text_columns(text, "bucket"),
              "worker": text_columns(text, "worker")}
    for row in harness.counter_rows():
        slots = range(32) if row.table == "bucket" else range(nw)
        jslots = j[row.table]
        for i in slots:
            want = st.counter(row, i)
            got = {"/metrics": e.slot(row.prom, row.table, i),
                   "--prometheus": p.slot(row.prom, row.table, i),
                   "--json": jslots[i].get(row.json)}
            cols = screen[row.table].get(i)
            if row.column is not None and cols is not None:
                got["text"] = int(cols.get(row.column, -1))
            for reader, v in got.items():
                if v != want:
                    bad.append("%s %s %d: %s %r, state file %d" % (
                        row.table, row.json, i, reader, v, want))
        if row.table == "bucket" and j["totals"].get(row.json) != sum(
                st.counter(row, i) for i in slots):
            bad.append("totals %s: --json %r" % (row.json,
                                                 j["totals"].get(row.json)))
    t.check(not bad, "all readers show the state file's counters, row by "
            "row of the table", "; ".join(bad[:6]))
    used = [b for b in st.buckets if b.ids > 0]
    t.check(len(used) >= 16 and len({b.ids for b in used}) > 1,
            "the compared counters differ from bucket to bucket",
            "%d buckets used" % len(used))
    line = text_total(st, harness.counter_rows("bucket"))
    t.check(line in text.splitlines(), "the stats screen's total line "
            "sums the bucket counters", "want %r" % line)
    t.check(set(p.type) == set(e.type) - set(MASTER_FAMILIES),
            "genidctl stats --prometheus prints the families of /metrics "
            "but those of the master process",
            "%s" % (set(p.type) ^ (set(e.type) - set(MASTER_FAMILIES))))


def case_methods_and_paths(t, d, port):
    """Another path is a 404, POST a 405, HEAD gives the headers of the
    GET and no body, also with a query string."""
    st, _, _ = http_get(port, "/nothing")
    t.check(st.startswith("HTTP/1.0 404"), "another path: 404", st)
    st, _, _ = http_get(port, "/metrics", method="POST")
    t.check(st.startswith("HTTP/1.0 405"), "POST: 405", st)
    st, headers, body = http_get(port, "/metrics", method="HEAD")
    t.check(st == "HTTP/1.0 200 OK" and body == "",
            "HEAD /metrics: headers only", "%s, %d bytes" % (st, len(body)))
    get = status(port, b"GET /metrics?x=1 HTTP/1.0\r\n\r\n")
    head = status(port, b"HEAD /metrics?x=1 HTTP/1.0\r\n\r\n")
    t.check(get == "HTTP/1.0 200 OK", "GET /metrics?x=1: 200", get)
    t.check(head == get, "HEAD /metrics?x=1 has the status of the GET",
            "GET %r, HEAD %r" % (get, head))


def case_long_requests(t, d, port):
    """A request head longer than the master reads (2 KB) and a request
    with a body get their whole reply and a clean close, not a reset."""
    small = (b"GET /metrics HTTP/1.1\r\nHost: x\r\n"
             b"Authorization: Bearer " + b"a" * 100 + b"\r\n\r\n")
    data, err = harness.http_exchange(port, small)
    t.check(err is None and data.startswith(b"HTTP/1.0 200"),
            "a small request gets 200", "%r %r" % (data[:40], err))
    # About what a Kubernetes service-account token adds to a scrape.
    big = (b"GET /metrics HTTP/1.1\r\nHost: x\r\n"
           b"Authorization: Bearer " + b"a" * 2100 + b"\r\n\r\n")
    cut = []
    for _ in range(5):
        data, err = harness.http_exchange(port, big)
        if err is not None or not data.startswith(b"HTTP/1.0 "):
            cut.append("%r %r" % (data[:40], err))
    t.check(not cut, "a request head over 2 KB gets a reply, not a "
            "connection reset", "%d of 5 were cut: %s" % (len(cut),
                                                          cut[:1]))
    data, err = harness.http_exchange(
        port, b"POST /metrics HTTP/1.0\r\nContent-Length: 4096\r\n\r\n" +
        b"x" * 4096)
    t.check(err is None and data.startswith(b"HTTP/1.0 405"),
            "a POST with a body gets its 405, not a reset",
            "%r %r" % (data[:40], err))


def case_idle_connections(t, d, port):
    """A scrape is served while idle connections fill every slot (16), and
    turning connections away is logged rate-limited."""
    t.require(harness.poll(lambda: scrape_conns(d, port) == 0, 10),
              "the master holds no metrics connection before the case")
    before = d.output().count("connections at once")
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(16)]
    try:
        t.require(harness.poll(lambda: scrape_conns(d, port) >= 16, 5),
                  "the master accepted the 16 idle connections",
                  "%d accepted" % scrape_conns(d, port))
        got = scrape(port)
        t.check(got.startswith(b"HTTP/1.0 200"),
                "a scrape is served while 16 idle connections are open",
                got[:60])
        for _ in range(2000):
            try:
                socket.create_connection(("127.0.0.1", port)).close()
            except OSError:
                pass
        # The master works through the 2000 at its own pace, slower on a
        # busy machine; a master that never logs them still fails.
        harness.poll(lambda: d.output().count("connections at once") >
                     before, 10)
        lines = d.output().count("connections at once") - before
        t.check(0 < lines < 50, "turning connections away is logged "
                "rate-limited", "%d warning lines for 2000 connections"
                % lines)
    finally:
        for s in idle:
            s.close()


def case_clients_that_never_read(t, d, port):
    """A scrape is served while every slot (16) holds a client that sent a
    whole request and then neither reads its reply nor closes."""
    t.require(harness.poll(lambda: scrape_conns(d, port) == 0, 10),
              "the master holds no metrics connection before the case")
    stuck = []
    try:
        for _ in range(16):
            c = socket.socket()
            # A small receive buffer, so that the reply stays unread.
            c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
            c.connect(("127.0.0.1", port))
            c.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
            stuck.append(c)
        t.require(harness.poll(lambda: scrape_conns(d, port) >= 16, 5),
                  "the master accepted the 16 clients that do not read",
                  "%d accepted" % scrape_conns(d, port))
        got = scrape(port)
        t.check(got.startswith(b"HTTP/1.0 200"),
                "a scrape is served while 16 clients do not read their "
                "replies", got[:60])
    finally:
        for c in stuck:
            c.close()


def case_workers_hold_no_metrics_socket(t, d, port):
    """Only the master holds the metrics socket; no worker does."""
    listening, _ = harness.tcp_sockets(port)
    t.require(listening is not None, "the metrics socket is listening")
    t.check(listening in harness.socket_inodes(d.master_pid()),
            "the master holds the metrics socket")
    for w in d.workers_now():
        t.check(listening not in harness.socket_inodes(w), "worker %d does not hold "
                "the metrics socket" % w)


def cpu_s(pid):
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def case_out_of_descriptors(t, d, port):
    """While accept fails for want of descriptors the master neither spins
    nor floods the log, and it serves scrapes again once descriptors are
    free.  The shortage is made by lowering the soft RLIMIT_NOFILE of the
    master this test started to what it holds plus two; the case restores
    it, so it can share the daemon (it runs last all the same)."""
    master = d.master_pid()
    t.require(harness.poll(lambda: scrape_conns(d, port) == 0, 10),
              "the master holds no metrics connection before the case")
    limit = resource.prlimit(master, resource.RLIMIT_NOFILE)
    nfd = len(os.listdir("/proc/%d/fd" % master))
    resource.prlimit(master, resource.RLIMIT_NOFILE, (nfd + 2, limit[1]))
    socks = []
    try:
        socks = [socket.create_connection(("127.0.0.1", port))
                 for _ in range(6)]
        t.require(harness.poll(lambda: "metrics: accept" in d.output(), 5),
                  "the failed accept is logged")
        c0, l0 = cpu_s(master), os.path.getsize(d.log_path)
        # A measuring window, not a wait for an event.
        time.sleep(2)
        cpu, grew = cpu_s(master) - c0, os.path.getsize(d.log_path) - l0
    finally:
        for s in socks:
            s.close()
        resource.prlimit(master, resource.RLIMIT_NOFILE, limit)
    t.check(cpu < 0.5, "the master does not spin while accept fails "
            "(EMFILE)", "%.2f s of CPU in 2 s" % cpu)
    t.check(grew < 100000, "the log is rate-limited while accept fails",
            "the log grew by %d bytes in 2 s" % grew)
    got = harness.poll(lambda: (lambda r: r if r.startswith(
        b"HTTP/1.0 200") else None)(scrape(port)), 10)
    t.check(got, "scrapes are served again once descriptors are free")


def proc_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def case_master_process(t, d, port):
    """genid_build_info names the version genid -V prints; the process_*
    families describe the master: its start time, resident memory, open
    descriptors, descriptor limit and CPU time as /proc shows them."""
    version = subprocess.run([harness.genid_path(), "-V"],
                             capture_output=True, text=True,
                             timeout=10).stdout.split()[-1]
    # The connections of the cases before are closed, but the master may
    # not have seen that yet (a busy machine): its descriptors are
    # compared with the scrape's own count below.
    t.require(harness.poll(lambda: scrape_conns(d, port) == 0, 10),
              "the master holds no metrics connection before the case")
    e = metrics(port)
    t.check(e.samples.get(("genid_build_info", '{version="%s"}' % version))
            == 1, "genid_build_info{version=\"%s\"} 1" % version,
            "%s" % [k for k in e.samples if k[0] == "genid_build_info"])
    for name in MASTER_FAMILIES:
        t.check(name in e.type and e.help.get(name),
                "family %s is served, typed and described" % name)
    m = d.master_pid()
    fields = open("/proc/%d/stat" % m).read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    btime = [int(line.split()[1]) for line in open("/proc/stat")
             if line.startswith("btime ")][0]
    start = btime + int(fields[19]) / ticks
    got = e.samples.get(("process_start_time_seconds", ""))
    t.check(got is not None and abs(got - start) < 0.02,
            "process_start_time_seconds is the master's start",
            "%r, /proc says %.2f" % (got, start))
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    got = e.samples.get(("process_cpu_seconds_total", ""))
    t.check(got is not None and 0 <= got <= cpu + 0.02,
            "process_cpu_seconds_total is the master's CPU time so far",
            "%r, /proc says %.2f after" % (got, cpu))
    rss = int(fields[21]) * os.sysconf("SC_PAGESIZE")
    got = e.samples.get(("process_resident_memory_bytes", ""))
    t.check(got is not None and rss / 2 <= got <= rss * 2,
            "process_resident_memory_bytes is about the master's RSS",
            "%r, /proc says %d" % (got, rss))
    # The scrape's own connection is open while the reply is made.
    idle = proc_fds(m)
    got = e.samples.get(("process_open_fds", ""))
    t.check(got is not None and idle <= got <= idle + 1,
            "process_open_fds counts the master's descriptors",
            "%r, %d open when idle" % (got, idle))
    soft = resource.prlimit(m, resource.RLIMIT_NOFILE)[0]
    t.check(e.samples.get(("process_max_fds", "")) == soft,
            "process_max_fds is the master's descriptor limit",
            "%r, limit %d" % (e.samples.get(("process_max_fds", "")), soft))


def case_not_a_genid_port(t, d, port):
    """genidctl get pointed at the metrics port by mistake: the HTTP server
    answers the genid frame with 400 at once, and the message says that an
    HTTP server answered, naming metrics_listen."""
    r = ctl("get", "127.0.0.1:%d" % port)
    t.check(r.returncode == 76 and r.stderr.endswith(
        "an HTTP server answered (\"HTTP/1.0 400 Bad Request\"), not genid:"
        " this is likely a metrics_listen port; give the address of genid's"
        " \"listen\" instead\n"),
        "get on the metrics port: exit 76, an HTTP server (metrics_listen)",
        "exit %d, %r" % (r.returncode, r.stderr))


CASES = (case_exposition, case_counters_follow_traffic, case_readers_agree,
         case_methods_and_paths, case_long_requests, case_idle_connections,
         case_clients_that_never_read,
         case_workers_hold_no_metrics_socket, case_out_of_descriptors,
         case_master_process, case_not_a_genid_port)


def test(t):
    d = harness.Daemon(t, metrics_listen="127.0.0.1:0", why='the test reads /metrics, which the shipped configuration does not serve').start()
    port = harness.metrics_port(d)
    for case in CASES:
        t.note("%s: %s" % (case.__name__, " ".join(case.__doc__.split())))
        try:
            case(t, d, port)
        except harness.Failure as e:
            # A failed require() has printed its check already.
            if str(e) not in t.failures:
                t.check(False, "%s: %s" % (case.__name__, e))
        except harness.Skip as e:
            t.note("%s skipped: %s" % (case.__name__, e))
        except Exception:
            t.check(False, "%s: unexpected exception" % case.__name__,
                    traceback.format_exc())
    rc, took = d.stop()
    t.check(rc == 0, "SIGTERM: exit 0", "got %r" % rc)


harness.run(test, control=True, timeout=120)
