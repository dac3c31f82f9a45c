#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
integ_etcd.py - machine ids leased from a real etcd (issue 10).

A single-member etcd (tests/integration/etcd.py: Debian's etcd-server,
its data in the test's directory, on ephemeral ports of 127.0.0.1) and
genid nodes with "machine_id": "auto", lease_ttl_s 3, all of zone 3 dc 2,
each with its own directory and state file, on ephemeral ports of
127.0.0.1.  One client per node fetches (CMD 1) throughout, recording
when each reply came.

  a. eight auto nodes started together get eight distinct machine ids
     (INFO "machine" and the keys P/machines/3/2/M in etcd, each under a
     lease of 3 s, naming the node's pid); the time from start to
     serving (INFO) is reported;
  b. a ninth auto node exits 75 with a message saying dc 2 is full;
  e. a node with a fixed machine_id an auto node holds exits 78, naming
     the holder;
  c. a node killed with SIGKILL and started again at once on its state
     file gets its own id back, well before the lease could expire;
     another one killed: a newcomer (a new state file) is refused while
     the dead node's key is held, and once its lease has expired gets
     exactly that id and issues above the checkpoint the dead node left
     in etcd (the takeover time is reported);
  d. etcd stopped under the running nodes: each node's INFO says
     "identity-lost" within about the TTL, a client gets no ID from it
     (CMD 1 answers 0 IDs, CMD 0 no ID), nothing is received after
     the lease could have expired; a new auto node exits 69 naming the
     endpoint, one with --wait-coordination waits; etcd back on the
     same ports and data: every node serves again and issues, and the
     waiting node serves (machine 0 of dc 1);
  f. every ID received in all of it: no duplicate, strictly increasing on
     each connection, its machine the one the node held (INFO on the same
     connection), and each machine's checkpoint key in etcd at or above
     the second of every ID that machine issued.
  g. SIGHUPs while the coordination process starts again (killed): none
     of them kills it.

The figures (claim time min/median/max, fence time, takeover time,
recovery time) are printed as "# FIGURES:" lines.  Skips (77) without
etcd.
"""

import functools
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "integration"))
import harness  # noqa: E402
import etcd  # noqa: E402
import idclients  # noqa: E402

NODES = 8
TTL = 3
PREFIX = "/genid-test"
ZONE, DC = harness.ZONE, harness.DC
# What a clock tick, the poll of the test and a busy machine add to an
# instant the test measures.
SLACK = 0.5
# The "# FIGURES:" lines, printed at the end.
figures = []


machine_key = functools.partial(idclients.machine_key, PREFIX)
checkpoint_key = functools.partial(idclients.checkpoint_key, PREFIX)
held_keys = functools.partial(idclients.held_keys, prefix=PREFIX)
info_of = functools.partial(idclients.info_of, timeout=2)
Client = idclients.Client


# Why a node here differs from the shipped configuration.
NODE = {"workers": "up to nine nodes on one small machine: one worker each",
        "machine_id": '"auto", an id leased from etcd, unless a case says '
                      "otherwise: the test is about the leases",
        "coordination": "the test is about etcd's leases and checkpoints; "
                        "a short TTL, so that a lease runs out within it",
        "dc_id": "a node of another data centre, which has its own ids"}


def node(t, e, **extra):
    d = harness.Daemon(t, workers=1, machine_id="auto", coordination={
        "etcd": [e.endpoint], "prefix": PREFIX, "lease_ttl_s": TTL},
        why=NODE)
    return d.set(why=NODE, **extra)


def start_all(ds, deadline=30):
    """Spawns every node at once and waits until each serves or exits:
    ({index: seconds from its spawn to its first INFO saying "serving"},
    {index: (exit status, its output)})."""
    for d in ds:
        d.spawn()
    ready, took, failed = set(), {}, {}
    end = time.monotonic() + deadline
    while len(took) + len(failed) < len(ds):
        for k, d in enumerate(ds):
            if k in took or k in failed:
                continue
            if d.proc.poll() is not None:
                failed[k] = (d.proc.returncode, d.output().strip())
                continue
            if k not in ready:
                text = d.output()
                if harness.LISTEN_ANY_RE.search(text) and \
                        harness.READY_RE.search(text):
                    ready.add(k)
                    d.wait_ready(1)
            if k in ready:
                inf = info_of(d, timeout=1)
                if inf and inf.get("state") == "serving":
                    took[k] = time.monotonic() - d.started_at
        if time.monotonic() > end:
            raise harness.Failure(
                "auto nodes %s not serving within %d s (ready: %s)" % (
                    sorted(set(range(len(ds))) - set(took)), deadline,
                    sorted(ready)))
        time.sleep(0.005)
    return took, failed


def spawn_exit(d, deadline=20):
    """Starts d, which should refuse: (exit status or None, stderr)."""
    d.spawn()
    rc = d.wait_exit(deadline)
    if rc is None:
        d.stop()
    return rc, d.stderr().strip()


def fmt(xs):
    xs = sorted(xs)
    return "min %.0f ms, median %.0f ms, max %.0f ms" % (
        xs[0] * 1000, statistics.median(xs) * 1000, xs[-1] * 1000)


def test(t):
    if etcd.binary() is None:
        t.skip(etcd.MISSING)
    e = etcd.Etcd(t).start()
    t.note("etcd %s at %s, data in %s" % (
        e.status().get("version"), e.endpoint, e.data_dir))
    stop_all = threading.Event()
    clients = []

    # a. Eight auto nodes started together.
    nodes = [node(t, e) for _ in range(NODES)]
    claim, failed = start_all(nodes)
    t.check(not failed, "eight auto nodes started together all serve",
            "; ".join("node%d exited with %d:\n%s" % (k, rc, out[-1500:])
                      for k, (rc, out) in sorted(failed.items())))
    if failed:
        # The rest of the test needs eight nodes: the ones that failed
        # are started again, one after another (and that is reported).
        alone = []
        for k in sorted(failed):
            t0 = time.monotonic()
            nodes[k].start(deadline=30)
            alone.append(time.monotonic() - t0)
            t.note("node%d started again alone: ready in %.0f ms" % (
                k, alone[-1] * 1000))
        figures.append("%d auto nodes that failed together started again "
                       "one after another, start to ready: %s"
                       % (len(alone), fmt(alone)))
    held = {}  # node name -> the machine it holds
    names = {}
    for k, d in enumerate(nodes):
        inf = info_of(d)
        t.require(inf is not None, "auto node %d answers INFO" % k)
        names[d] = "node%d" % k
        held[names[d]] = inf.get("machine")
        t.check(inf.get("state") == "serving",
                "auto node %d serves (INFO state %r)" % (k, inf.get("state")))
        t.check(inf.get("zone") == ZONE and inf.get("dc") == DC,
                "auto node %d is of zone %d dc %d" % (k, ZONE, DC),
                "INFO %s" % inf)
    machines = sorted(held.values(), key=str)
    t.check(machines == list(range(NODES)),
            "eight auto nodes got eight distinct machine ids 0..7",
            "INFO machines %s" % machines)
    keys = held_keys(e)
    t.check(sorted(keys, key=str) == list(range(NODES)),
            "etcd holds the eight keys %s/machines/%d/%d/0..7"
            % (PREFIX, ZONE, DC), "keys %s" % sorted(keys, key=str))
    pids = {d.proc.pid: held[names[d]] for d in nodes}
    owners = {m: v.get("pid") if isinstance(v, dict) else None
              for m, (v, _) in keys.items()}
    t.check(all(owners.get(m) == p for p, m in pids.items()),
            "each key's value names the pid of the node holding it",
            "keys %s, nodes %s" % (owners, pids))
    # genidctl fleet lists the same, from the node's configuration.
    ctl = os.environ.get("GENIDCTL")
    if ctl:
        r = subprocess.run([ctl, "fleet", "-c", nodes[0].conf_path,
                            "--json"], capture_output=True, text=True,
                           timeout=10)
        try:
            rows = json.loads(r.stdout) if r.returncode == 0 else []
        except ValueError:
            rows = []
        listed = {row["machine"]: (row.get("holder") or {}).get("pid")
                  for row in rows if row.get("held") and
                  (row["zone"], row["dc"]) == (ZONE, DC)}
        t.check(listed == {m: p for p, m in pids.items()},
                "genidctl fleet --json lists the eight ids with the pid "
                "holding each", "exit %d, %s %s" % (
                    r.returncode, listed, r.stderr.strip()))
    ttls = {m: e.lease_ttl(lease) if lease else None
            for m, (_, lease) in keys.items()}
    t.check(all(v and v[1] == TTL and 0 <= v[0] <= TTL
                for v in ttls.values()),
            "each key is held under a lease of %d s" % TTL,
            "(left, granted) %s" % ttls)
    t.note("claim times: %s" % ", ".join(
        "node%d %.0f ms" % (k, claim[k] * 1000) for k in sorted(claim)))
    if claim:
        figures.insert(0, "%d of 8 auto nodes started together served, "
                       "start to serving: %s" % (len(claim),
                                                 fmt(claim.values())))

    for d in nodes:
        c = Client(d, names[d], stop_all)
        clients.append(c)
        c.thread.start()
    t0 = time.monotonic()
    t.check(harness.poll(lambda: all(c.received_after(t0) for c in clients),
                         10, 0.05),
            "a client gets IDs from each of the eight nodes")

    # b. A ninth auto node: the dc is full.
    ninth = node(t, e)
    rc, err = spawn_exit(ninth)
    t.check(rc == harness.EX_TEMPFAIL and "full" in err
            and "dc %d" % DC in err,
            "a ninth auto node exits 75 saying dc %d is full" % DC,
            "exit %r: %s" % (rc, err))
    t.note("ninth node: %s" % (err.splitlines()[-1] if err else "(silent)"))
    t.check(sorted(held_keys(e), key=str) == list(range(NODES)),
            "the refused node left the eight keys as they were")

    # e. A fixed machine_id that an auto node holds.
    holder = nodes[0]
    m0 = held[names[holder]]
    twin = node(t, e, machine_id=m0)
    rc, err = spawn_exit(twin)
    t.check(rc == harness.EX_CONFIG and (
        str(holder.proc.pid) in err or
        "%s:%d" % holder.addr in err),
        "a node with the fixed machine_id %r held by node0 exits 78 naming"
        " the holder (pid %d, %s:%d)" % ((m0, holder.proc.pid) +
                                         holder.addr),
        "exit %r: %s" % (rc, err))
    t.note("fixed-id twin: %s" % (err.splitlines()[-1] if err
                                   else "(silent)"))

    # c. Killed and started again at once: its own id back, at once.
    a = nodes[1]
    ma = held[names[a]]
    a.kill_all()
    t_kill = time.monotonic()
    a.start(deadline=15)
    back = time.monotonic() - t_kill
    inf = info_of(a)
    t.check(inf is not None and inf.get("machine") == ma,
            "node1, killed and restarted at once on its state file, gets "
            "its machine id %r back" % ma, "INFO %s" % inf)
    t.check(back < TTL - SLACK,
            "...at once: %.0f ms from the kill to ready, well within the "
            "lease (%d s)" % (back * 1000, TTL))
    figures.append("kill -9 and restart on the same state file: own id "
                   "back, %.0f ms from the kill to ready" % (back * 1000))
    v = held_keys(e).get(ma)
    t.check(v and isinstance(v[0], dict) and v[0].get("pid") == a.proc.pid,
            "its key names the new pid %d" % a.proc.pid, "key %s" % (v,))

    # c. Killed: a newcomer gets the id only once the lease has expired.
    b = nodes[2]
    mb = held[names[b]]
    b_client = [c for c in clients if c.d is b][0]
    b.kill_all()
    t_kill = time.monotonic()
    b_client.stop.set()
    got = e.get_json(checkpoint_key(mb))
    ck_b = got[0].get("checkpoint") if got and isinstance(got[0], dict) \
        else None
    newcomer = node(t, e)
    rc, err = spawn_exit(newcomer)
    still = held_keys(e).get(mb)
    t.check(rc == harness.EX_TEMPFAIL and "full" in err,
            "a newcomer right after the kill of node2 is refused (exit 75,"
            " dc full)", "exit %r: %s" % (rc, err))
    t.check(still is not None,
            "...while node2's key %s was still held" % machine_key(mb),
            "the key was gone %.1f s after the kill"
            % (time.monotonic() - t_kill))
    gone = harness.poll(lambda: mb not in held_keys(e), TTL + 5, 0.02)
    expired = time.monotonic() - t_kill
    t.require(gone, "node2's key expires with its lease (within %d s)"
              % (TTL + 5))
    t.check(expired <= TTL + SLACK + 0.5,
            "...%.0f ms after the kill (lease %d s)" % (expired * 1000,
                                                        TTL))
    t0 = time.monotonic()
    newcomer.start(deadline=15)
    took_over = time.monotonic() - t_kill
    figures.append("a newcomer taking a free id in a dc of eight, start "
                   "to ready: %.0f ms" % ((time.monotonic() - t0) * 1000))
    inf = info_of(newcomer)
    t.check(inf is not None and inf.get("machine") == mb
            and inf.get("state") == "serving",
            "the newcomer, started after the expiry, serves with exactly"
            " node2's machine id %r" % mb, "INFO %s" % inf)
    names[newcomer] = "newcomer"
    held["newcomer"] = inf.get("machine") if inf else None
    nodes[2] = newcomer
    c = Client(newcomer, "newcomer", stop_all)
    clients.append(c)
    c.thread.start()
    figures.append("kill -9, newcomer takes the id: lease gone %.0f ms "
                   "after the kill, newcomer ready %.0f ms after it (TTL "
                   "%d s)" % (expired * 1000, took_over * 1000, TTL))

    t1 = time.monotonic()
    live = [c for c in clients if not c.stop.is_set()]
    t.check(harness.poll(lambda: all(c.received_after(t1) for c in live),
                         10, 0.05),
            "all eight nodes issue after the kills")

    # A fixed machine_id with its state file (made while etcd was up) is
    # to start without etcd, unconfirmed, and be held once etcd is back.
    fixed = node(t, e, dc_id=3, machine_id=6)
    fixed.start()
    rc, _ = fixed.stop()
    t.check(rc == 0, "a node with a fixed machine_id 6 (dc 3) made its "
            "state file with etcd up", "got %r" % rc)

    # d. etcd stopped under the running nodes.
    e.stop()
    t_stop = time.monotonic()
    fenced = idclients.wait_fenced(nodes, t_stop, TTL + 5)
    t.check(len(fenced) == len(nodes),
            "etcd stopped: every node's INFO says identity-lost",
            "not fenced after %d s: %s; their INFO: %s" % (
                TTL + 5, [names[d] for d in nodes if d not in fenced],
                [info_of(d) for d in nodes if d not in fenced]))
    if fenced:
        t.check(max(fenced.values()) <= TTL + SLACK,
                "...within the lease (%d s) of the stop: %s" % (
                    TTL, fmt(fenced.values())))
        figures.append("etcd stopped, node fenced (INFO identity-lost) "
                       "after: %s (TTL %d s)" % (fmt(fenced.values()), TTL))
    for d in fenced:
        idclients.check_no_id(t, d, names[d])
    # An auto node cannot start without etcd: it exits 69 naming the
    # endpoint; with --wait-coordination it waits (a node of dc 1: dc 2
    # is full).
    lone = node(t, e)
    rc, err = spawn_exit(lone)
    t.check(rc == harness.EX_UNAVAILABLE and e.endpoint in err,
            "etcd down: an auto node exits 69 naming %s" % e.endpoint,
            "exit %r: %s" % (rc, err))
    t.note("etcd down, auto node: %s" % (err.splitlines()[-1] if err
                                          else "(silent)"))
    waiter = node(t, e, dc_id=1)
    waiter.spawn(["--wait-coordination"], why="the test is about "
                 "--wait-coordination: it waits for etcd")
    fixed.start()
    inf = info_of(fixed) or {}
    t.check(inf.get("state") == "serving" and
            inf.get("identity") == "unconfirmed" and inf.get("machine") == 6,
            "etcd down: the fixed machine_id 6 with its state file starts "
            "and serves, identity unconfirmed", "INFO %s" % inf)
    t.check("unconfirmed" in fixed.output(),
            "...and its log says the id is unconfirmed",
            fixed.output()[-400:])
    # Stay down a little longer than the lease, so that a node that
    # still issued would show.
    harness.poll(lambda: time.monotonic() - t_stop > TTL + 1.5, TTL + 2,
                 0.05)
    t_back = time.monotonic()
    late = [(c.name, round(when - t_stop, 2), len(b))
            for c in clients for conn in c.conns
            for when, b in conn.batches
            if t_stop + TTL + SLACK < when < t_back]
    t.check(not late, "no ID received from %.1f s after the stop of etcd "
            "until it came back" % (TTL + SLACK),
            "(node, s after the stop, IDs) %s" % late[:8])
    last = [max([when for conn in c.conns for when, _ in conn.batches
                 if t_stop <= when < t_back] or [t_stop]) - t_stop
            for c in live]
    figures.append("etcd stopped, last ID a client received from each "
                   "node after: %s" % fmt(last))
    e.start()
    t_up = time.monotonic()
    recovered = {}

    def all_serving():
        for d in nodes:
            if d not in recovered:
                inf = info_of(d, timeout=1)
                if inf and inf.get("state") == "serving":
                    recovered[d] = time.monotonic() - t_up
        return len(recovered) == len(nodes)

    harness.poll(all_serving, TTL + 15, 0.02)
    t.check(len(recovered) == len(nodes),
            "etcd back (in %.0f ms): every node serves again"
            % ((t_up - t_back) * 1000),
            "still not serving: %s" % [
                (names[d], info_of(d)) for d in nodes
                if d not in recovered])
    if recovered:
        figures.append("etcd back, node serving again after: %s"
                       % fmt(recovered.values()))
    held6 = harness.poll(
        lambda: (info_of(fixed) or {}).get("identity") == "held" and
        e.get_json("%s/machines/%d/3/6" % (PREFIX, ZONE)), TTL + 10, 0.05)
    t.check(held6 and held6[0].get("pid") == fixed.proc.pid,
            "etcd back: the fixed node claims machine 6 (INFO identity "
            "held, its key names it)", "key %s, INFO %s" % (
                held6, info_of(fixed)))
    with harness.connect(fixed.addr) as s:
        t.check(len(harness.get_ids(s, 5)) == 5,
                "...and issues under its lease")
    rc, _ = fixed.stop()
    t.check(rc == 0 and e.get_json("%s/machines/%d/3/6" % (PREFIX, ZONE))
            is None, "...and a clean stop frees machine 6 at once",
            "exit %r" % rc)
    try:
        waiter.wait_ready(15)
        inf = harness.poll(lambda: (info_of(waiter) or {}).get("state")
                           == "serving" and info_of(waiter), 10, 0.05)
    except harness.Failure as ex:
        inf = str(ex)
    t.check(isinstance(inf, dict) and inf.get("machine") == 0 and
            inf.get("dc") == 1,
            "a node started with --wait-coordination while etcd was down "
            "serves once it is back, as machine 0 of dc 1", "%s" % inf)
    if isinstance(inf, dict):
        with harness.connect(waiter.addr) as s:
            got = harness.get_ids(s, 10)
        f = [harness.decode(i) for i in got]
        t.check(len(got) == 10 and all(
            (x.zone, x.dc, x.machine) == (ZONE, 1, 0) for x in f),
            "...and issues IDs of zone %d dc 1 machine 0" % ZONE,
            "%s" % f[:3])
    rc, _ = waiter.stop()
    t.check(rc == 0, "the node of dc 1 stops with 0", "got %r" % rc)
    inf_after = {names[d]: (info_of(d) or {}).get("machine") for d in nodes}
    keys = held_keys(e)
    owners = {m: v.get("pid") if isinstance(v, dict) else None
              for m, (v, _) in keys.items()}
    want = {held[names[d]]: d.proc.pid for d in nodes}
    t.check(owners == want, "etcd back: the eight keys name the nodes "
            "holding them", "keys %s, nodes %s" % (owners, want))
    t.check(all(inf_after[n] == held[n] for n in inf_after),
            "...each with the machine id it held before",
            "before %s, after %s" % (held, inf_after))
    t2 = time.monotonic()
    t.check(harness.poll(lambda: all(c.received_after(t2) for c in live),
                         10, 0.05),
            "...and issues: the clients of all eight nodes get IDs again",
            "nothing from %s" % [c.name for c in live
                                 if not c.received_after(t2)])

    # f. Every ID.
    stop_all.set()
    for c in clients:
        c.thread.join(10)
    conns = [conn for c in clients for conn in c.conns]
    every = [i for conn in conns for i in conn.ids()]
    harness.check_unique(t, every, "all clients, all nodes, all cases")
    bad_order = [(conn.node, harness.first_not_increasing(conn.ids()))
                 for conn in conns
                 if harness.first_not_increasing(conn.ids()) >= 0]
    t.check(not bad_order, "IDs strictly increase on each of %d "
            "connections" % len(conns), bad_order[:5])
    wrong_info = [(conn.node, conn.machine, held[conn.node])
                  for conn in conns if conn.machine != held[conn.node]]
    t.check(not wrong_info, "INFO on every connection named the machine "
            "its node held", wrong_info[:5])
    wrong = []
    for conn in conns:
        for i in conn.ids():
            f = harness.decode(i)
            if (f.zone, f.dc, f.machine) != (ZONE, DC, conn.machine):
                wrong.append("%s: %#x %s" % (conn.node, i, f))
                break
    t.check(not wrong, "every ID carries zone %d, dc %d and the machine "
            "its node held" % (ZONE, DC), "; ".join(wrong[:5]))
    by_machine = {}
    for i in every:
        f = harness.decode(i)
        by_machine[f.machine] = max(by_machine.get(f.machine, 0), f.ts)
    t.check(sorted(by_machine) == list(range(NODES)),
            "IDs came from all eight machine ids", sorted(by_machine))
    low = []
    for m, top in sorted(by_machine.items()):
        got = e.get_json(checkpoint_key(m))
        ck = got[0].get("checkpoint") if got and isinstance(got[0], dict) \
            else None
        if ck is None or ck < top or got[1] != 0:
            low.append("%s = %s, IDs up to second %d" % (
                checkpoint_key(m), got, top))
    t.check(not low, "each machine's checkpoint key (no lease) is at or "
            "above the second of every ID it issued", "; ".join(low))
    b_ids = [i for conn in b_client.conns for i in conn.ids()]
    n_ids = [i for c in clients if c.name == "newcomer"
             for conn in c.conns for i in conn.ids()]
    t.check(ck_b is not None and b_ids and
            max(b_ids) >> 32 <= ck_b,
            "node2's checkpoint key at its kill (%s) covers the seconds of"
            " its IDs" % ck_b, "IDs up to second %s" % (
                max(b_ids) >> 32 if b_ids else None))
    t.check(ck_b is not None and n_ids and min(n_ids) >> 32 > ck_b,
            "the newcomer taking node2's id issues above that checkpoint",
            "its first ID of second %s" % (min(n_ids) >> 32 if n_ids
                                           else None))
    t.note("%d IDs on %d connections, %d duplicates" % (
        len(every), len(conns), len(every) - len(set(every))))

    for d in nodes:
        rc, _ = d.stop()
        t.check(rc == 0, "%s stops with 0" % names[d], "got %r" % rc)
    e.stop()


def hup_while_starting(t):
    """SIGHUPs (the master passes each on) while the coordination process
    starts again: one that came before it had its handler used to end it
    (killed by signal 1), and a run of them fenced the node."""
    e = etcd.Etcd(t).start()
    d = node(t, e).start(deadline=30)
    master = d.master_pid()
    try:
        for _ in range(3):
            helper = [k for k in harness.children(master)
                      if "coordination" in harness.cmdline(k)]
            if helper:
                os.kill(helper[0], signal.SIGKILL)
            # It starts again in a second.
            end = time.monotonic() + 1.5
            while time.monotonic() < end:
                d.signal_master(signal.SIGHUP)
                time.sleep(0.002)
        killed = re.findall(r".*killed by signal %d\b.*" % signal.SIGHUP,
                            d.output())
        t.check(not killed, "SIGHUP while the coordination process starts: "
                "it is not killed by it", "\n".join(killed[:5]))
    finally:
        rc, _ = d.stop()
        e.stop()
    t.check(rc == 0, "SIGHUP while starting: SIGTERM: exit 0", "got %r" % rc)


def main(t):
    """The test, then its figures, however far it got."""
    try:
        test(t)
        hup_while_starting(t)
    finally:
        for f in figures:
            t.note("FIGURES: " + f)


harness.run(main, control=True, timeout=120)
