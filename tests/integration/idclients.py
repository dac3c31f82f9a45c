# SPDX-License-Identifier: BSD-2-Clause
"""What the tests of leased identities share (integ_etcd, integ_etcd_cluster):
genid's keys in etcd, INFO that may not answer, and clients that fetch
from one node throughout, recording every ID with its time and the machine
INFO named on its connection."""

import json
import threading
import time

import harness


def machine_key(prefix, m, zone=harness.ZONE, dc=harness.DC):
    return "%s/machines/%d/%d/%d" % (prefix, zone, dc, m)


def checkpoint_key(prefix, m, zone=harness.ZONE, dc=harness.DC):
    return "%s/checkpoints/%d/%d/%d" % (prefix, zone, dc, m)


def held_keys(e, prefix, zone=harness.ZONE, dc=harness.DC):
    """{machine: (value as JSON or the raw text, lease)} of the machine
    keys of the dc in etcd (e: an etcd.Etcd, or a cluster's client)."""
    out = {}
    base = "%s/machines/%d/%d/" % (prefix, zone, dc)
    for key, value, lease in e.range_prefix(base):
        try:
            m = int(key[len(base):])
        except ValueError:
            m = key
        try:
            value = json.loads(value)
        except ValueError:
            pass
        out[m] = (value, lease)
    return out


def info_of(d, timeout=2):
    """INFO of node d on a new connection, or None if it does not
    answer."""
    if d.port is None:
        return None
    try:
        with harness.connect(d.addr, timeout=timeout) as s:
            return harness.info(s)
    except (OSError, EOFError, ValueError):
        return None


def wait_fenced(nodes, since, deadline, seen=None):
    """Polls the nodes' INFO until each says "identity-lost" or deadline
    seconds pass: {node: seconds from since (time.monotonic()) to its first
    such INFO}; seen(node), when given, is called as each is found."""
    fenced = {}

    def all_fenced():
        for d in nodes:
            if d not in fenced:
                inf = info_of(d, timeout=1)
                if inf and inf.get("state") == "identity-lost":
                    fenced[d] = time.monotonic() - since
                    if seen is not None:
                        seen(d)
        return len(fenced) == len(nodes)

    harness.poll(all_fenced, deadline, 0.02)
    return fenced


def check_no_id(t, d, name):
    """Checks that node d, fenced, gives no ID: CMD 1 answers 0 IDs, CMD 0
    none (it blocks or the connection closes)."""
    try:
        with harness.connect(d.addr, timeout=2) as s:
            got1 = harness.get_ids(s, 10)
    except (OSError, EOFError) as ex:
        got1 = ex
    try:
        with harness.connect(d.addr, timeout=0.5) as s:
            got0 = harness.get_id(s)
    except (OSError, EOFError) as ex:
        got0 = ex  # blocked (timed out) or closed: no ID
    t.check(got1 == () and isinstance(got0, Exception),
            "%s, fenced, gives no ID (CMD 1: 0 IDs, CMD 0: none)" % name,
            "CMD 1 %r, CMD 0 %r" % (got1, got0))


class Conn:
    """One client connection: the node's name, the machine INFO named on
    it, the replies with IDs [(monotonic time, ids)], and how it ended."""

    def __init__(self, node, machine):
        self.node = node
        self.machine = machine
        self.batches = []
        # [(monotonic time the request was sent, IDs in its reply)]
        self.asked = []
        self.empty = 0
        self.error = None

    def ids(self):
        return [i for _, b in self.batches for i in b]


class Client:
    """Fetches from one node (CMD 1 n=32) in a thread until stop or
    stop_all is set, reconnecting while the node is down; INFO first on
    each connection.  Every reply lands in the timeline: (time, True) with
    IDs, (time, False) without (fenced, or the node did not answer)."""

    def __init__(self, d, name, stop_all):
        self.d = d
        self.name = name
        self.conns = []
        self.timeline = []
        self.stop = threading.Event()
        self.stop_all = stop_all
        self.thread = threading.Thread(target=self.run, daemon=True)

    def stopped(self):
        return self.stop.is_set() or self.stop_all.is_set()

    def _failed(self):
        self.timeline.append((time.monotonic(), False))
        time.sleep(0.02)

    def run(self):
        while not self.stopped():
            try:
                s = harness.connect(self.d.addr, timeout=2)
            except (OSError, TypeError):
                # Down, restarting (no port known yet) or refusing.
                self._failed()
                continue
            with s:
                try:
                    inf = harness.info(s)
                except (OSError, EOFError, ValueError):
                    self._failed()
                    continue
                c = Conn(self.name, inf.get("machine"))
                self.conns.append(c)
                while not self.stopped():
                    sent = time.monotonic()
                    try:
                        got = harness.get_ids(s, 32)
                    except (OSError, EOFError) as e:
                        c.error = str(e)
                        self.timeline.append((time.monotonic(), False))
                        break
                    now = time.monotonic()
                    self.timeline.append((now, bool(got)))
                    c.asked.append((sent, len(got)))
                    if got:
                        c.batches.append((now, got))
                        time.sleep(0.005)
                    else:
                        c.empty += 1
                        time.sleep(0.02)

    def received_after(self, t):
        """How many IDs arrived after t."""
        return sum(len(b) for c in self.conns for when, b in c.batches
                   if when > t)

    def answered(self, t0, t1):
        """[(time sent, number of IDs)] of the requests sent between t0 and
        t1 that were answered with IDs.  A reply can reach the client late
        on a busy machine; a request sent after an instant cannot have
        been served before it."""
        return [(when, n) for c in self.conns for when, n in c.asked
                if t0 < when < t1 and n > 0]

    def good_after(self, t):
        """The time of the first reply with IDs after t, or None."""
        for when, good in list(self.timeline):
            if when > t and good:
                return when
        return None

    def outage(self, t_event, t_end):
        """How the node served from t_event to t_end, as its client saw
        it: (seconds from t_event to the first reply with IDs after the
        last reply without, or 0.0 when every reply had IDs; the longest
        pause between two replies with IDs, the last one before t_event
        included)."""
        tl = list(self.timeline)
        bad = [w for w, g in tl if t_event < w <= t_end and not g]
        again = 0.0
        if bad:
            back = self.good_after(bad[-1])
            again = (back - t_event) if back is not None else None
        goods = [w for w, g in tl if g and w <= t_end]
        before = [w for w in goods if w <= t_event]
        span = ([before[-1]] if before else []) + \
            [w for w in goods if w > t_event]
        pause = max([b - a for a, b in zip(span, span[1:])] or [0.0])
        return again, pause
