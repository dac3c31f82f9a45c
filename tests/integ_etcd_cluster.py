#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
integ_etcd_cluster.py - machine ids leased from a real etcd cluster of
three members (issue 10).

Three etcd members (tests/integration/etcd.py Cluster: Debian's
etcd-server, one process each, on ephemeral ports of 127.0.0.1, their data
in the test's directory) and three genid nodes with "machine_id": "auto",
lease_ttl_s 5, all three client addresses in coordination.etcd, each node
with its own directory and state file.  F1, F2 are the followers and L the
leader when the cluster is up; the nodes list them as

    node0: F1 L F2    node1: F1 F2 L    node2: L F1 F2

so that the first member of two nodes' lists is a follower, and of the
third the leader.  One client per node fetches (CMD 1) throughout,
recording every reply and when it came.

  a. F1 stopped (the member node0 and node1 talk to first; genid fails
     over to the next endpoint of its list): every node renews its lease
     after the stop (the fence deadline it publishes in its state file
     moves past the stop + TTL - 1 s), keeps its machine id and serves;
     the longest pause of its client is reported.  A fourth node whose
     first endpoint is F1 starts meanwhile: its claim fails over too, it
     gets machine 3 and issues; stopped.  F1 started again.
  b. the leader killed with SIGKILL: another member is elected; every
     node renews after the kill, has its machine id and serves again
     within the lease; the time to the new leader, and from the kill to
     serving again, are reported.  The old leader started again.
  c. two members stopped (the leader first, then one other: no quorum):
     every node's INFO says "identity-lost" within TTL + 1 s, a fenced
     node gives no ID (CMD 1: 0 IDs, CMD 0: none), and no request a
     client sends from the fence deadline the node published until the
     two come back is answered with IDs, and its warning says why each endpoint failed; then every
     node renews and serves again with its machine id; the time to fence
     and the time from the restart to serving again are reported.
  d. every ID received in all of it: no duplicate, strictly increasing on
     each connection, its zone, dc and machine those of the node that
     held it (INFO on the same connection), and each machine's
     checkpoint key at or above the second of every ID it issued.

The figures are printed as "# FIGURES:" lines.  Skips (77) without etcd.
"""

import functools
import os
import sys
import threading
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "integration"))
import harness  # noqa: E402
import etcd  # noqa: E402
import idclients  # noqa: E402

NODES = 3
TTL = 5
# The coordination process says "did not answer" at most once in this
# long (lease.c).
WARN_EVERY = 10
PREFIX = "/genid-cluster-test"
ZONE, DC = harness.ZONE, harness.DC
# Why a node here differs from the shipped configuration.
NODE = {"workers": "four nodes and a cluster of three etcd on one small "
                   "machine: one worker each",
        "machine_id": '"auto": the test is about ids leased from etcd',
        "coordination": "the test is about a cluster of etcd: each node "
                        "names the members in its own order; a short TTL"}
# What a clock tick, the poll of the test and a busy machine add to an
# instant the test measures.
SLACK = 0.5
# The workers stop issuing this long before the lease may end (genid(8)).
FENCE_MARGIN = 1.0
figures = []


machine_key = functools.partial(idclients.machine_key, PREFIX)
checkpoint_key = functools.partial(idclients.checkpoint_key, PREFIX)
held_keys = functools.partial(idclients.held_keys, prefix=PREFIX)
info_of = functools.partial(idclients.info_of, timeout=1)
Client = idclients.Client


def fence_of(d):
    """The fence deadline node d publishes in its state file, in seconds
    of time.monotonic() (both are CLOCK_MONOTONIC): it issues nothing from
    then on unless a renewal moves it."""
    return d.state().h.fence_ms / 1000.0


def wait_renewed(t, nodes, clients, names, held, t_event, deadline, what):
    """Waits until every node has renewed its lease after t_event (its
    fence deadline moves past t_event + TTL - 1 s), its INFO says
    serving with the machine id it held, and its client got IDs after
    that.  Returns {node name: seconds from t_event until then}; checks
    each."""
    done = {}
    end = time.monotonic() + deadline
    renewed = {}
    while len(done) < len(nodes) and time.monotonic() < end:
        for d, c in zip(nodes, clients):
            n = names[d]
            if n in done:
                continue
            if n not in renewed:
                try:
                    f = fence_of(d)
                except (OSError, harness.Failure):
                    continue
                if f > t_event + TTL - FENCE_MARGIN:
                    renewed[n] = time.monotonic()
                else:
                    continue
            inf = info_of(d)
            if not inf or inf.get("state") != "serving":
                continue
            if inf.get("machine") != held[n]:
                done[n] = None  # checked below
                continue
            got = c.good_after(renewed[n])
            if got is not None:
                done[n] = got - t_event
        time.sleep(0.02)
    for d in nodes:
        n = names[d]
        inf = info_of(d) or {}
        t.check(done.get(n) is not None,
                "%s: %s renews its lease after it, serves and issues with "
                "its machine id %s within %d s" % (what, n, held[n],
                                                   deadline),
                "renewed: %s, INFO %s" % (
                    "%.0f ms after" % ((renewed[n] - t_event) * 1000)
                    if n in renewed else "no (fence %s)" % fence_or(d),
                    inf))
    return done


def fence_or(d):
    try:
        return "%.1f s from now" % (fence_of(d) - time.monotonic())
    except (OSError, harness.Failure) as e:
        return str(e)


def fmt_ms(x):
    return "none" if x is None else "%.0f ms" % (x * 1000)


def report(what, clients, t_event, t_end):
    """Figures of each node's service from t_event to t_end."""
    parts = []
    worst = 0.0
    for c in clients:
        again, pause = c.outage(t_event, t_end)
        worst = max(worst, pause)
        parts.append("%s %s (longest pause %s)" % (
            c.name, "kept serving" if again == 0.0 else
            "serving again after %s" % fmt_ms(again), fmt_ms(pause)))
    figures.append("%s: %s" % (what, ", ".join(parts)))
    return worst


def test(t):
    if etcd.binary() is None:
        t.skip(etcd.MISSING)
    cl = etcd.Cluster(t, size=3).start()
    lead = cl.wait_leader(15)
    t.require(lead is not None, "the etcd cluster of three elects a leader",
              "status %s" % {m.name: v for m, v in cl.statuses().items()})
    t.note("etcd %s members %s, leader %s, data in %s" % (
        lead.status().get("version"),
        " ".join("%s=%s" % (m.name, m.endpoint) for m in cl.members),
        lead.name, cl.dir))
    f1, f2 = [m for m in cl.members if m is not lead]
    orders = [[f1, lead, f2], [f1, f2, lead], [lead, f1, f2]]
    stop_all = threading.Event()

    nodes, names, held = [], {}, {}
    for k, order in enumerate(orders):
        d = harness.Daemon(t, workers=1, machine_id="auto", coordination={
            "etcd": [m.endpoint for m in order], "prefix": PREFIX,
            "lease_ttl_s": TTL}, why=NODE)
        names[d] = "node%d" % k
        t0 = time.monotonic()
        d.start(deadline=20)
        inf = harness.poll(
            lambda: (info_of(d) or {}).get("state") == "serving" and
            info_of(d), 10, 0.02)
        t.require(inf, "%s (etcd %s) serves" % (
            names[d], " ".join(m.name for m in order)),
            "INFO %s" % info_of(d))
        held[names[d]] = inf.get("machine")
        t.note("%s: machine %s, serving %.0f ms after its start" % (
            names[d], held[names[d]], (time.monotonic() - t0) * 1000))
        nodes.append(d)
    t.check(sorted(held.values(), key=str) == list(range(NODES)),
            "three auto nodes hold machine ids 0, 1, 2", "%s" % held)

    def keys_name_the_nodes(what):
        keys = held_keys(cl.client())
        owners = {m: v.get("pid") if isinstance(v, dict) else None
                  for m, (v, _) in keys.items()}
        want = {held[names[d]]: d.proc.pid for d in nodes}
        t.check(owners == want, "%s: the keys %s/machines/%d/%d/M name the "
                "pid of the node holding each" % (what, PREFIX, ZONE, DC),
                "keys %s, nodes %s" % (owners, want))

    keys_name_the_nodes("at the start")
    clients = [Client(d, names[d], stop_all) for d in nodes]
    for c in clients:
        c.thread.start()
    t0 = time.monotonic()
    t.require(harness.poll(lambda: all(c.good_after(t0) for c in clients),
                           10, 0.02),
              "a client gets IDs from each of the three nodes")

    # a. F1 stopped: the member node0 and node1 talk to first.
    was_leader = cl.leader() is f1
    t_a = time.monotonic()
    f1.stop()
    t_a_done = time.monotonic()
    t.note("a: %s (%s) stopped in %.0f ms%s" % (
        f1.name, f1.endpoint, (t_a_done - t_a) * 1000,
        " (it had become the leader)" if was_leader else ""))
    done = wait_renewed(t, nodes, clients, names, held, t_a_done, TTL,
                        "first endpoint stopped")
    t_end = time.monotonic()
    worst = report("a. first endpoint (%s) of node0 and node1 stopped"
                   % f1.name, clients, t_a, t_end)
    t.check(worst < TTL - FENCE_MARGIN,
            "...no client paused longer than the lease allows (%.0f ms, "
            "lease %d s)" % (worst * 1000, TTL))
    if done:
        figures.append("a. first endpoint stopped, every node renewed its "
                       "lease (at another member) and issued within %s"
                       % fmt_ms(
                           max([x for x in done.values() if x is not None]
                               or [None])))
    # The coordination process of a node that talked to F1 says so once.
    moved = [names[d] for d in nodes if orders[nodes.index(d)][0] is f1 and
             "etcd endpoint failed: http://" + f1.endpoint in d.output()]
    talked = [names[d] for d in nodes if orders[nodes.index(d)][0] is f1]
    t.check(sorted(moved) == sorted(talked),
            "...and each node whose first endpoint it was logs the failover"
            " naming it", "logged: %s, expected: %s" % (moved, talked))
    # The claim at start fails over too: a fourth node whose first
    # endpoint is the stopped member gets the lowest free id.
    late = harness.Daemon(t, workers=1, machine_id="auto", coordination={
        "etcd": [m.endpoint for m in orders[0]], "prefix": PREFIX,
        "lease_ttl_s": TTL}, why=NODE)
    t0 = time.monotonic()
    try:
        late.start(deadline=15)
        inf = harness.poll(lambda: (info_of(late) or {}).get("state") ==
                           "serving" and info_of(late), 10, 0.02) or {}
    except harness.Failure as ex:
        inf = {"error": str(ex)[-800:]}
    took = time.monotonic() - t0
    got = []
    if inf.get("machine") is not None:
        with harness.connect(late.addr) as s:
            got = [harness.decode(i) for i in harness.get_ids(s, 10)]
    t.check(inf.get("machine") == NODES and len(got) == 10 and all(
        (f.zone, f.dc, f.machine) == (ZONE, DC, NODES) for f in got),
            "a: a node started while its first endpoint is down claims "
            "machine %d through the next one and issues with it" % NODES,
            "INFO %s, IDs %s" % (inf, got[:2]))
    figures.append("a. node started while its first endpoint is down: "
                   "serving after %s" % fmt_ms(took))
    rc, _ = late.stop()
    t.check(rc == 0 and NODES not in held_keys(cl.client()),
            "...and its clean stop frees machine %d" % NODES,
            "exit %r" % rc)
    f1.start()
    t.check(cl.wait_healthy(15), "%s started again: the cluster is healthy"
            % f1.name)

    # b. The leader killed.
    lead = cl.leader() or cl.wait_leader(10)
    t.require(lead is not None, "b: the cluster has a leader")
    t.note("b: killing the leader %s (%s), first endpoint of %s" % (
        lead.name, lead.endpoint, ", ".join(
            names[d] for d, o in zip(nodes, orders) if o[0] is lead)
        or "no node"))
    t_b = time.monotonic()
    lead.kill()
    new = cl.wait_leader(15, other_than=lead)
    elected = time.monotonic() - t_b
    t.require(new is not None and new is not lead,
              "b: leader %s killed: another member is elected" % lead.name,
              "status %s" % {m.name: v for m, v in cl.statuses().items()})
    t.note("b: %s elected %.0f ms after the kill" % (new.name,
                                                      elected * 1000))
    done = wait_renewed(t, nodes, clients, names, held, t_b, TTL,
                        "leader killed")
    t_end = time.monotonic()
    report("b. leader %s killed (kill -9), %s elected after %.0f ms"
           % (lead.name, new.name, elected * 1000), clients, t_b, t_end)
    if done:
        figures.append("b. leader killed, every node renewed its lease "
                       "and issued within %s" % fmt_ms(
                           max([x for x in done.values() if x is not None]
                               or [None])))
    keys_name_the_nodes("after the kill of the leader")
    lead.start()
    t.check(cl.wait_healthy(15), "the killed member %s started again on "
            "its data: the cluster is healthy" % lead.name)

    # c. Two of three stopped: no quorum.
    lead = cl.leader() or cl.wait_leader(10)
    t.require(lead is not None, "c: the cluster has a leader")
    other = [m for m in cl.members if m is not lead][0]
    left = [m for m in cl.members if m is not lead and m is not other][0]
    lead.stop()
    # The quorum is gone from when the second member is told to stop.
    t_c = time.monotonic()
    logged = {names[d]: len(d.output()) for d in nodes}
    other.stop()
    t_gone = time.monotonic()
    t.note("c: %s (the leader) and %s stopped (the second in %.0f ms); %s "
           "alone" % (lead.name, other.name, (t_gone - t_c) * 1000,
                      left.name))
    fence_at = {}

    def seen(d):
        fence_at[names[d]] = fence_of(d)

    fenced = {names[d]: v for d, v in idclients.wait_fenced(
        nodes, t_c, TTL + 5, seen).items()}
    t.check(len(fenced) == len(nodes),
            "c: no quorum: every node's INFO says identity-lost",
            "not fenced after %d s: %s" % (TTL + 5, [
                (names[d], info_of(d), fence_or(d)) for d in nodes
                if names[d] not in fenced]))
    for n in sorted(fenced):
        t.check(fenced[n] <= TTL + 1,
                "...%s within TTL + 1 s (%.0f ms after the stop; its "
                "fence deadline %.0f ms after it)" % (
                    n, fenced[n] * 1000, (fence_at[n] - t_c) * 1000))
    if fenced:
        figures.append("c. no quorum, node fenced (INFO identity-lost) "
                       "after: %s; fence deadline %s after the stop "
                       "(TTL %d s)" % (
                           ", ".join("%s %s" % (n, fmt_ms(fenced[n]))
                                     for n in sorted(fenced)),
                           ", ".join("%s %s" % (n, fmt_ms(fence_at[n] - t_c))
                                     for n in sorted(fence_at)), TTL))
    for d in nodes:
        if names[d] in fenced:
            idclients.check_no_id(t, d, names[d])
    # Stay without quorum a second longer, so that a node that still
    # issued would show.
    hold = time.monotonic() + 1.0
    harness.poll(lambda: time.monotonic() >= hold, 2, 0.05)
    t_back = time.monotonic()
    for d, c in zip(nodes, clients):
        n = names[d]
        if n not in fence_at:
            continue
        # By when the request was sent, not when its reply was read: the
        # client's thread may read a reply issued before the fence a
        # second late beside CPU hogs.  SLACK covers a worker that read
        # the clock, then the request (the lease outlives the fence by
        # FENCE_MARGIN).
        late = c.answered(fence_at[n] + SLACK, t_back)
        t.check(not late, "c: no request sent to %s from its fence deadline "
                "(+%.1f s) until the quorum came back was answered with "
                "IDs" % (n, SLACK),
                "(s after the fence deadline it was sent, IDs) %s" % [
                    (round(w - fence_at[n], 2), k) for w, k in late[:8]])
        moved = fence_of(d)
        t.check(moved == fence_at[n], "...and its fence deadline did not "
                "move without quorum", "%.3f then %.3f" % (fence_at[n],
                                                           moved))
    # The warning of the coordination process says why each endpoint
    # failed (two refuse connections, one has no leader), not only the
    # last one tried.  It is logged once in WARN_EVERY s: one from the
    # stops (a member that stops answers for a moment) holds back the one
    # of the lost quorum.
    def says_why(d):
        warn = [x for x in d.output()[logged[names[d]]:].splitlines()
                if "coordination: etcd" in x and "did not answer" in x]
        return [x for x in warn if all(
            ("http://%s:" % m.endpoint) in x.split("did not answer")[-1]
            for m in cl.members)]

    # A warning while the second member stops (which takes seconds on a
    # busy machine) holds the next back WARN_EVERY s from then; the next
    # attempt fails on all three within TTL / 2 (each endpoint's timeout
    # is a sixth of the TTL), so TTL after that leaves room.
    for d in nodes:
        end = t_gone + WARN_EVERY + TTL
        t.check(harness.poll(lambda: says_why(d),
                             max(end - time.monotonic(), 0.1)),
                "c: %s's warning says why each of the three endpoints "
                "failed" % names[d],
                [x for x in d.output()[logged[names[d]]:].splitlines()
                 if "did not answer" in x][-2:] or "no warning")
    t_up = time.monotonic()
    for m in (lead, other):
        m.start(wait="up")
    t.check(cl.wait_healthy(20), "c: %s and %s started again: the cluster "
            "is healthy (%.0f ms after their start)" % (
                lead.name, other.name, (time.monotonic() - t_up) * 1000))
    t_healthy = time.monotonic()
    done = wait_renewed(t, nodes, clients, names, held, t_up, TTL + 10,
                        "quorum back")
    t_end = time.monotonic()
    report("c. no quorum for %.1f s" % (t_up - t_c), clients, t_c, t_end)
    figures.append("c. quorum back (two members started, cluster healthy "
                   "%s after their start): node renewed and issuing again "
                   "%s after their start" % (
                       fmt_ms(t_healthy - t_up), ", ".join(
                           "%s %s" % (n, fmt_ms(done[n]))
                           for n in sorted(done))))
    keys_name_the_nodes("after the quorum came back")

    # d. Every ID.
    t2 = time.monotonic()
    t.check(harness.poll(lambda: all(c.good_after(t2) for c in clients),
                         10, 0.02),
            "the clients of all three nodes still get IDs at the end")
    stop_all.set()
    for c in clients:
        c.thread.join(10)
    conns = [conn for c in clients for conn in c.conns]
    every = [i for conn in conns for i in conn.ids()]
    t.check(len(every) > 1000, "d: the clients received IDs throughout "
            "(%d)" % len(every))
    harness.check_unique(t, every, "d: all clients, all nodes, all cases")
    bad_order = [(conn.node, harness.first_not_increasing(conn.ids()))
                 for conn in conns
                 if harness.first_not_increasing(conn.ids()) >= 0]
    t.check(not bad_order, "d: IDs strictly increase on each of %d "
            "connections" % len(conns), bad_order[:5])
    wrong_info = [(conn.node, conn.machine, held[conn.node])
                  for conn in conns if conn.machine != held[conn.node]]
    t.check(not wrong_info, "d: INFO on every connection named the machine "
            "its node held", wrong_info[:5])
    wrong = []
    for conn in conns:
        for i in conn.ids():
            f = harness.decode(i)
            if (f.zone, f.dc, f.machine) != (ZONE, DC, held[conn.node]):
                wrong.append("%s: %#x %s" % (conn.node, i, f))
                break
    t.check(not wrong, "d: every ID carries zone %d, dc %d and the machine "
            "its node held" % (ZONE, DC), "; ".join(wrong[:5]))
    by_machine = {}
    for i in every:
        f = harness.decode(i)
        by_machine[f.machine] = max(by_machine.get(f.machine, 0), f.ts)
    e = cl.client()
    low = []
    for m, top in sorted(by_machine.items()):
        got = e.get_json(checkpoint_key(m))
        ck = got[0].get("checkpoint") if got and isinstance(got[0], dict) \
            else None
        if ck is None or ck < top or got[1] != 0:
            low.append("%s = %s, IDs up to second %d" % (
                checkpoint_key(m), got, top))
    t.check(not low, "d: each machine's checkpoint key (no lease) is at or "
            "above the second of every ID it issued", "; ".join(low))
    t.note("%d IDs on %d connections, %d duplicates" % (
        len(every), len(conns), len(every) - len(set(every))))

    for d in nodes:
        lines = [x for x in d.output().splitlines() if "coordination" in x]
        t.note("%s: %d log lines of its coordination process%s" % (
            names[d], len(lines), ", e.g.:" if lines else ""))
        for x in lines[:3] + (["..."] + lines[-2:] if len(lines) > 5
                              else lines[3:]):
            t.note("  " + x[:300])
    for d in nodes:
        rc, _ = d.stop()
        t.check(rc == 0, "%s stops with 0" % names[d], "got %r" % rc)
    t.check(held_keys(e) == {}, "a clean stop of the three nodes frees "
            "their machine ids at once", "%s" % held_keys(e))
    cl.stop()


def main(t):
    """The test, then its figures, however far it got."""
    try:
        test(t)
    finally:
        for f in figures:
            t.note("FIGURES: " + f)


harness.run(main, control=True, timeout=120)
