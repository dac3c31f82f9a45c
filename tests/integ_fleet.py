#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
integ_fleet.py - eight nodes of one data centre tested together (issue 9).

Nodes 0..7 (machine_id = N) listen on 127.0.0.(N+1), all on the same port
as real hosts would, each listing the other seven as peers.  The HAProxy
sample runs in front of them (that part is skipped, and said so, without
haproxy).  Clients fetch throughout: harness.Load through HAProxy
(reconnecting), two Python clients through HAProxy and four libgenid
clients failing over along all eight addresses, each call timed.  While
they fetch:

- nodes 1 and 2 are killed with SIGKILL and started again;
- node 5's clock steps back an hour (libfaketime): the decaying
  allowance keeps it serving (a drained bucket gets full replies, INFO
  says serving, HAProxy keeps it in); its clock restored, it serves on;
- a ninth node with node 3's machine_id is refused (exit 78, naming the
  peer), and one whose clock is 30 s off is refused (exit 75, naming the
  skew; the dc is full, so it is a node of dc 3 listing the eight: the
  clocks of every peer that answers count).

Every ID from every client: 0 duplicates, strictly increasing on each
connection (and, for the clients that fail over, within each bucket in
the order received).  The longest wait of a client call is reported.
"""

import os
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "integration"))
sys.path.insert(0, os.path.join(HERE, "clients"))
sys.path.insert(0, os.path.join(HERE, "..", "contrib", "clients", "python",
                                "src"))
import harness  # noqa: E402

# Why a node of the fleet differs from the shipped configuration.
FLEET = {"workers": "eight nodes and their clients on one small machine: "
                    "one worker each",
         "machine_id": "the nodes of one data centre, told apart by machine",
         "dc_id": "a node of another data centre",
         "listen": "each node on a loopback address of its own, as on a "
                   "host of its own",
         "peers": "the nodes check each other's identity and clock"}
import haproxy  # noqa: E402

BUILD = os.environ.get("GENID_BUILDDIR", ".")
NODES = 8
LOAD_S = 25
# The bits of an ID that name its machine, and its machine and bucket
# (genid(7)).  The clients take some ten million IDs: the checks mask
# them through map() at C speed, which on a busy two-core machine takes
# seconds where decoding each in Python took a minute.
MACHINE = 7 << 21
NODE_BUCKET = 0xFF << 16


def common_port():
    """A port free on 127.0.0.1 .. 127.0.0.9."""
    for _ in range(50):
        port = haproxy.free_port()
        try:
            for n in range(1, NODES + 2):
                with socket.socket() as s:
                    s.bind(("127.0.0.%d" % n, port))
            return port
        except OSError:
            continue
    raise harness.Failure("no port free on 127.0.0.1..9")


def set_offset(path, offset):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(offset + "\n")
    os.rename(tmp, path)


class Calls:
    """What the timed clients saw: IDs in the order received, the longest
    wait of one call, failed calls."""

    def __init__(self, name):
        self.name = name
        self.ids = []
        self.runs = []  # per connection (HAProxy clients)
        self.longest = 0.0
        self.longest_at = 0.0  # when that call began (monotonic)
        self.calls = 0
        self.failures = []

    def timed(self, fn):
        t0 = time.monotonic()
        try:
            return fn()
        finally:
            if time.monotonic() - t0 > self.longest:
                self.longest = time.monotonic() - t0
                self.longest_at = t0
            self.calls += 1


def haproxy_client(addr, calls, stop):
    """CMD 1 n=50 on one connection through HAProxy, reconnecting at once
    when it breaks; a call's wait includes its reconnects."""
    sock, run = None, []
    while not stop.is_set():
        def once():
            nonlocal sock, run
            end = time.monotonic() + 15
            while time.monotonic() < end:
                try:
                    if sock is None:
                        sock = harness.connect(addr, timeout=3)
                        run = []
                        calls.runs.append(run)
                    got = harness.get_ids(sock, 50)
                    if got:
                        return got
                except (OSError, EOFError):
                    if sock is not None:
                        sock.close()
                    sock = None
                # A short reply (the bucket is dry) or a broken
                # connection: ask again a little later, as a client would.
                time.sleep(0.01)
            raise harness.Failure("no IDs for 15 s")
        try:
            got = calls.timed(once)
        except harness.Failure as e:
            calls.failures.append(str(e))
            continue
        run.extend(got)
        calls.ids.extend(got)
        time.sleep(0.002)
    if sock is not None:
        sock.close()


def libgenid_client(lg, addrs, calls, stop):
    h = lg.open(addrs, {"io_timeout_ms": 500})
    try:
        while not stop.is_set():
            try:
                got = calls.timed(lambda: lg.bulk(h, 50))
            except Exception as e:  # conformance.ClientFailure
                calls.failures.append(str(e))
                got = list(getattr(e, "ids", []) or [])
            calls.ids.extend(got)
            time.sleep(0.002)
    finally:
        lg.close(h)


def increasing_per_bucket(ids):
    """The first (machine, bucket) whose IDs, in the order received, do
    not strictly increase, or None."""
    last = {}
    for i in ids:
        k = (i >> 16) & 0xFF
        if i <= last.get(k, -1):
            return "%#x after %#x" % (i, last[k])
        last[k] = i
    return None


def start_node(t, n, port, peers, lib, rc_dir):
    d = harness.Daemon(t, workers=1, machine_id=n,
                       listen=["127.0.0.%d" % (n + 1)], port=port,
                       peers=peers, why=FLEET)
    env = None
    if n == 5 and lib:
        rc_path = os.path.join(d.dir, "faketime.rc")
        set_offset(rc_path, "+0")
        env = {"LD_PRELOAD": lib, "FAKETIME_TIMESTAMP_FILE": rc_path,
               "FAKETIME_NO_CACHE": "1",
               "FAKETIME_DONT_FAKE_MONOTONIC": "1"}
        d.rc_path = rc_path
    d.env = env
    return d.start(env=env, deadline=30)


def info_of(addr):
    with harness.connect(addr, timeout=3) as s:
        return harness.info(s)


def test(t):
    events = []
    try:
        fleet(t, events)
    finally:
        # Where the time went, also when the test ran out of it.
        t.note("timeline: " + "; ".join(events))


def fleet(t, events):
    t_start = time.monotonic()

    def event(what):
        events.append("%.1f s %s" % (time.monotonic() - t_start, what))

    lib = harness.libfaketime()
    port = common_port()
    addrs = ["127.0.0.%d:%d" % (n + 1, port) for n in range(NODES)]
    nodes = []
    for n in range(NODES):
        peers = [a for i, a in enumerate(addrs) if i != n]
        nodes.append(start_node(t, n, port, peers, lib, None))
    event("eight nodes up")
    t.note("eight nodes on 127.0.0.1..8:%d" % port)
    t.check(all(d.state().h.peer_conflicts == 0 for d in nodes),
            "no node sees a conflict among its peers")
    skews = [d.state().h.peer_skew_ms for d in nodes[1:]]
    t.check(all(abs(s) < 2000 for s in skews),
            "the nodes that found peers up measured their clocks within"
            " 2 s", "skews %s ms" % skews)

    hp = None
    if haproxy.binary():
        hp = haproxy.HAProxy(t, [("genid%d" % n, nodes[n].addr)
                                 for n in range(NODES)]).start()
        up = all(hp.wait_status("genid%d" % n, "UP", 15)
                 for n in range(NODES))
        t.require(up, "HAProxy sees all eight nodes up", hp.stat())
    else:
        t.note("SKIPPED the HAProxy part: haproxy is not installed and"
               " could not be (apt-get install haproxy)")

    lg = None
    so = os.path.join(BUILD, "src", "client", ".libs", "libgenid.so")
    if os.path.exists(so):
        import libgenid_cases
        lg = libgenid_cases.Libgenid(so)
    else:
        t.note("libgenid.so is not built: no libgenid clients")

    stop = threading.Event()
    clients, threads = [], []
    if hp is not None:
        load = harness.Load(hp.addr, conns=8, target=5 * 10 ** 6,
                            cmd0_depth=8, cmd1_depth=1, reconnect=True,
                            time_limit=LOAD_S + 30)
        load.start()
        for i in range(2):
            c = Calls("haproxy-%d" % i)
            clients.append(c)
            threads.append(threading.Thread(
                target=haproxy_client, args=(hp.addr, c, stop),
                daemon=True))
    else:
        load = None
    if lg is not None:
        for i in range(4):
            c = Calls("libgenid-%d" % i)
            clients.append(c)
            order = addrs[2 * i:] + addrs[:2 * i]
            threads.append(threading.Thread(
                target=libgenid_client, args=(lg, order, c, stop),
                daemon=True))
    for th in threads:
        th.start()
    t0 = time.monotonic()
    event("clients start")
    extra = []  # IDs taken directly from node 5

    def progress(deadline):
        before = sum(len(c.ids) for c in clients)
        return harness.poll(lambda: sum(len(c.ids) for c in clients)
                            > before + 1000, deadline, 0.05)

    t.check(progress(10), "the clients get IDs")
    # Every node serves the clients before anything happens to it.  On a
    # busy machine the clients' first replies come late: a node killed
    # before its first reply gets no connection back (those that broke
    # went to the nodes that stayed up, and nothing moves them back), so
    # "IDs came from all eight nodes" failed; and node 5 stepped back
    # before it used a bucket shows no lead (a bucket never used starts
    # at the clock, stepped or not), so "an hour ahead" failed with
    # lead_s 0.  The state files count what each node issued.  15 s: the
    # clients connect at once, and even on a busy two-core machine the
    # first replies come within a second or two.
    served = harness.poll(lambda: all(
        sum(b.ids for b in d.state().buckets) > 0 for d in nodes), 15, 0.05)
    t.check(served, "every node has issued IDs to the clients",
            [sum(b.ids for b in d.state().buckets) for d in nodes])

    # kill -9 two nodes, then start them again on their state files.
    event("kill -9 nodes 1 and 2")
    for n in (1, 2):
        nodes[n].kill_all()
    t.check(progress(10), "the clients go on while nodes 1 and 2 are down")
    if hp is not None:
        t.check(hp.wait_status("genid1", "DOWN", 10),
                "HAProxy takes node 1 out", hp.stat())
    event("restart nodes 1 and 2")
    for n in (1, 2):
        nodes[n].start(env=nodes[n].env, deadline=30)
    if hp is not None:
        t.check(hp.wait_status("genid1", "UP", 15) and
                hp.wait_status("genid2", "UP", 15),
                "the restarted nodes are taken back", hp.stat())

    # Node 5's clock steps back an hour.
    if lib:
        five = nodes[5]
        event("node 5's clock back 1 h")
        set_offset(five.rc_path, "-3600")
        stepped = harness.poll(
            lambda: info_of(five.addr)["lead_s"] > 3000, 10, 0.05)
        t.check(stepped, "node 5's buckets are an hour ahead of its clock",
                "INFO %s" % info_of(five.addr))
        # The decaying allowance: a step back of an hour costs no outage.
        # A bucket drained for a few seconds gets full replies, and node
        # 5 stays serving and in HAProxy.
        short = 0
        with harness.connect(five.addr, timeout=5) as s:
            for _ in range(200):
                got = harness.get_ids(s, 255)
                extra.extend(got)
                short += len(got) < 255
        t.check(short == 0, "node 5 serves through the step (no short "
                "reply in 200 CMD 1)", "%d short replies" % short)
        t.check(info_of(five.addr)["state"] == "serving",
                "node 5 reports serving during the slew",
                "INFO %s" % info_of(five.addr))
        if hp is not None:
            t.check(hp.wait_status("genid5", "UP", 2),
                    "HAProxy keeps node 5 in", hp.stat())
        t.check(progress(10), "the clients go on meanwhile")
        event("node 5 in its slew; clock restored")
        set_offset(five.rc_path, "+0")
        t.check(harness.poll(lambda: info_of(five.addr)["state"]
                             == "serving", 10, 0.05),
                "its clock restored, node 5 serves on")
        if hp is not None:
            t.check(hp.wait_status("genid5", "UP", 10),
                    "...and HAProxy keeps it in", hp.stat())
    else:
        t.note("libfaketime is not installed: no clock step on node 5")

    event("ninth nodes")
    # A ninth node with node 3's machine_id.
    twin = harness.Daemon(t, workers=1, machine_id=3, listen=["127.0.0.9"],
                          port=port, peers=addrs, why=FLEET)
    rc = twin.spawn().wait(timeout=30)
    err = twin.stderr().strip()
    t.check(rc == 78 and addrs[3] in err,
            "a ninth node with machine_id 3 is refused (exit 78), naming"
            " %s" % addrs[3], "exit %r: %s" % (rc, err))
    if lib:
        off = harness.Daemon(t, workers=1, dc_id=3, machine_id=0,
                             listen=["127.0.0.9"], port=port, peers=addrs,
                             why=FLEET)
        rc_path = os.path.join(off.dir, "faketime.rc")
        set_offset(rc_path, "+30")
        rc = off.spawn(env={"LD_PRELOAD": lib,
                            "FAKETIME_TIMESTAMP_FILE": rc_path,
                            "FAKETIME_NO_CACHE": "1"}).wait(timeout=60)
        err = off.stderr().strip()
        t.check(rc == 75 and "ahead of the median of 8 peers" in err,
                "a ninth node with a clock 30 s off is refused (exit 75),"
                " naming the skew and the eight peers",
                "exit %r: %s" % (rc, err))
        t.note("refused: %s" % err.splitlines()[-1] if err else "")

    # The rest of the load time, then everything is checked.
    left = LOAD_S - (time.monotonic() - t0)
    if left > 0:
        time.sleep(left)  # the length of the load, not a synchronisation
    event("clients stop")
    stop.set()
    for th in threads:
        th.join(30)
    all_ids = list(extra)
    if load is not None:
        load.stop_event.set()
        load.join(30)
        segs = [s for s in load.segments if s.ids]
        bad = [(k, harness.first_not_increasing(s.ids))
               for k, s in enumerate(segs)
               if harness.first_not_increasing(s.ids) >= 0]
        t.check(not bad, "Load through HAProxy: IDs strictly increase on"
                " each of its %d connections" % len(segs), bad[:3])
        t.check(all(len(set(map(NODE_BUCKET.__and__, s.ids))) == 1
                    for s in segs),
                "Load through HAProxy: one node and bucket per connection")
        t.note("Load through HAProxy: %d IDs, %d reconnects, %d short"
               " replies" % (load.total, load.reconnects, load.shorts))
        all_ids.extend(load.all_ids())
    longest = 0.0
    for c in clients:
        all_ids.extend(c.ids)
        longest = max(longest, c.longest)
        t.note("%s: %d calls, %d IDs, longest wait %.0f ms at %.1f s, %d"
               " failed calls" % (c.name, c.calls, len(c.ids),
                                  c.longest * 1000, c.longest_at - t0,
                                  len(c.failures)))
        if c.runs:
            bad = [r for r in c.runs
                   if harness.first_not_increasing(r) >= 0]
            t.check(not bad, "%s: IDs strictly increase on each of its %d"
                    " connections" % (c.name, len(c.runs)))
        b = increasing_per_bucket(c.ids)
        t.check(b is None, "%s: IDs of each bucket strictly increase in the"
                " order received" % c.name, b)
        t.check(not c.failures, "%s: no call failed" % c.name,
                "; ".join(c.failures[:3]))
    event("clients checked")
    machines = {m >> 21 for m in set(map(MACHINE.__and__, all_ids))}
    t.check(machines == set(range(NODES)),
            "IDs came from all eight nodes", sorted(machines))
    unique = harness.check_unique(t, all_ids, "all clients, all nodes")
    t.note("FIGURES: %d IDs from %d nodes, %s, longest client wait %.0f ms"
           % (len(all_ids), len(machines),
              "no duplicate" if unique else "duplicates (above)",
              longest * 1000))
    event("all IDs checked")
    if hp is not None:
        hp.stop()
    for d in nodes:
        rc, _ = d.stop()
        t.check(rc == 0, "node %d stops with 0" % d.machine, "got %r" % rc)
    event("nodes stopped")


# A backstop for a hang, not a measure: every wait above has its own
# deadline.  Eight starts, LOAD_S of load and the checks of some ten
# million IDs take about a minute idle, two or more on a busy two-core
# machine (the timeline note says where the time went).
harness.run(test, control=True, timeout=300)
