#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
integ_state_truncate_load.py - the state file cut short under bulk load
(issue 17).

A fault campaign cut the state file of a loaded node to its header: the
bucket table on the same page read as zeroes, and until the master's
timer noticed, the workers restarted every bucket at the current second
with counter 0 and repeated millions of IDs.  Here the cut comes while
16 connections pipeline CMD 1 n=255 and CMD 0, for each size: 0, the
header, half of the bucket table, all of it, 4096 and every page boundary
below the file's size (all computed from the layout state.h declares).
Every ID is kept, as runs of consecutive IDs per connection, its order
checked as it arrives; after the cut the load goes on until the node
stops.  Whatever the cut: not one duplicate, IDs strictly increasing on
each connection, the master exits 74 (EX_IOERR) and names the file,
nothing died of SIGBUS, no worker is left.  Two more nodes get an older
copy of a state file written over theirs in place, and renamed onto its
path.  After each stop the master has written a new state file at the
path and kept the one it found beside it, and a plain restart issues only
IDs in a later second than any recorded before.  The figures of each
fault are printed as "# FIGURES:" lines.

The nodes run the shipped defaults and start as an operator's new node
does, after genid --init: their first IDs are of the current second, and
while a bucket issues from that second no cut can repeat what it issued
before it.  All nodes are started first; each is loaded and cut only once
the clock has passed the second of the nodes' first IDs, one after
another.
"""

import array
import ctypes
import glob
import operator
import os
import selectors
import struct
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "integration"))
import harness  # noqa: E402

EX_IOERR = 74
CONNS = 16
CMD0_EVERY = 4  # every 4th connection pipelines CMD 0, the others CMD 1
CMD1_DEPTH = 4
CMD0_DEPTH = 64
# IDs a node issues under the load before its cut, about 30000 a bucket:
# the buckets count well into the second they restart at.
BEFORE = 500000
LEAD_DEADLINE = 40  # a busy machine's start-up of the nodes, and more
BEFORE_DEADLINE = 20
EXIT_DEADLINE = 10
LOAD_DEADLINE = 15
UNPACK = [struct.Struct(">%dQ" % m) for m in range(256)]


class Conn:
    """One connection: its requests in flight and its current run."""

    __slots__ = ("sock", "cid", "cmd0", "buf", "outstanding", "last",
                 "lo", "hi")

    def __init__(self, sock, cid, cmd0):
        self.sock = sock
        self.cid = cid
        self.cmd0 = cmd0
        self.buf = bytearray()
        self.outstanding = 0
        self.last = None
        self.lo = self.hi = None


class CutLoad:
    """CONNS pipelining connections driven by one thread (selectors).

    Every ID is recorded as runs (lo, hi, connection) of consecutive IDs,
    a connection's order checked as its replies come.  A connection the
    node closes is opened anew; the load ends when a new connection is
    refused on every slot (the node is gone), or on stop."""

    def __init__(self, addr, epoch):
        self.addr = addr
        self.epoch = epoch
        self.runs = array.array("Q")
        self.total = 0
        self.order_violations = []  # (connection, ID, the one before)
        self.protocol_errors = []
        self.max_ts = 0
        # How far a connection's first ID was ahead of the clock, at most.
        self.first_lead = None
        self.conns_opened = 0
        self.answered = set()  # connections that had a reply
        self.stop = threading.Event()
        self.finished = threading.Event()
        self.exc = None
        self._thread = None

    def _open(self, sel, cmd0):
        try:
            s = harness.connect(self.addr, timeout=2)
        except OSError:
            return None
        s.setblocking(False)
        c = Conn(s, self.conns_opened, cmd0)
        self.conns_opened += 1
        sel.register(s, selectors.EVENT_READ, c)
        return c

    def _send(self, c):
        frames = (b"\x00\x00" * CMD0_DEPTH if c.cmd0
                  else b"\x01\xff" * CMD1_DEPTH)
        # Two-byte frames, a few in flight: they fit the socket buffer.
        c.sock.sendall(frames)
        c.outstanding = CMD0_DEPTH if c.cmd0 else CMD1_DEPTH

    def _flush(self, c):
        if c.lo is not None:
            self.runs.extend((c.lo, c.hi, c.cid))
            c.lo = c.hi = None

    def _take(self, c, ids):
        """Checks the order of the IDs of one reply and records them."""
        m = len(ids)
        self.total += m
        self.answered.add(c.cid)
        if c.last is None:
            lead = (ids[0] >> 32) - (int(time.time()) - self.epoch)
            if self.first_lead is None or lead > self.first_lead:
                self.first_lead = lead
        elif ids[0] <= c.last:
            self.order_violations.append((c.cid, ids[0], c.last))
        if ids[-1] - ids[0] == m - 1 and (
                m == 1 or all(map(operator.lt, ids, ids[1:]))):
            pieces = ((ids[0], ids[-1]),)
        else:
            pieces = []
            lo = prev = ids[0]
            for i in ids[1:]:
                if i <= prev:
                    self.order_violations.append((c.cid, i, prev))
                if i != prev + 1:
                    pieces.append((lo, prev))
                    lo = i
                prev = i
            pieces.append((lo, prev))
        for lo, hi in pieces:
            if c.lo is not None and lo == c.hi + 1:
                c.hi = hi
            else:
                self._flush(c)
                c.lo, c.hi = lo, hi
        c.last = ids[-1]
        ts = ids[-1] >> 32
        if ts > self.max_ts:
            self.max_ts = ts

    def _parse(self, c):
        buf = c.buf
        n = len(buf)
        pos = 0
        if c.cmd0:
            k = min(c.outstanding, n // 8)
            if k:
                self._take(c, UNPACK[k].unpack_from(buf, 0))
                pos = 8 * k
                c.outstanding -= k
        else:
            while c.outstanding and pos < n:
                m = buf[pos]
                end = pos + 1 + 8 * m
                if end > n:
                    break
                if m:
                    self._take(c, UNPACK[m].unpack_from(buf, pos + 1))
                pos = end
                c.outstanding -= 1
        if pos:
            del buf[:pos]
        if c.outstanding == 0 and buf:
            self.protocol_errors.append("conn %d: %d bytes after the last "
                                        "reply" % (c.cid, len(buf)))

    def _close(self, sel, c):
        self._flush(c)
        sel.unregister(c.sock)
        c.sock.close()

    def _run(self):
        sel = selectors.DefaultSelector()
        for i in range(CONNS):
            c = self._open(sel, i % CMD0_EVERY == 0)
            if c is None:
                raise harness.Failure("cannot connect to %s:%d"
                                      % self.addr)
            self._send(c)
        while sel.get_map() and not self.stop.is_set():
            for key, _ in sel.select(0.05):
                c = key.data
                try:
                    data = c.sock.recv(262144)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    data = b""
                if data:
                    c.buf += data
                    self._parse(c)
                    if c.outstanding:
                        continue
                    try:
                        self._send(c)
                        continue
                    except OSError:
                        pass
                # The node closed it: the slot goes on with a new
                # connection until the node refuses one.
                self._close(sel, c)
                n = self._open(sel, c.cmd0)
                if n is not None:
                    try:
                        self._send(n)
                    except OSError:
                        self._close(sel, n)
        for key in list(sel.get_map().values()):
            self._close(sel, key.data)
        sel.close()

    def run(self):
        try:
            self._run()
        except BaseException as e:
            self.exc = e
        finally:
            self.finished.set()

    def start(self):
        self._thread = threading.Thread(target=self.run, daemon=True)
        self._thread.start()
        return self

    def join(self):
        self._thread.join()
        if self.exc is not None:
            raise self.exc

    def duplicates(self):
        """(IDs received more than once counting each extra copy, a few
        of them as text), from the runs of all connections."""
        r = self.runs
        runs = sorted(zip(r[0::3], r[1::3], r[2::3]))
        dups = 0
        seen = []
        max_hi = -1
        for lo, hi, cid in runs:
            # Every run before this one starts at or below lo, so all of
            # lo..max_hi was received before.
            if lo <= max_hi:
                dups += min(hi, max_hi) - lo + 1
                if len(seen) < 3:
                    seen.append("%#x..%#x on conn %d %s"
                                % (lo, min(hi, max_hi), cid,
                                   harness.decode(lo)))
            max_hi = max(max_hi, hi)
        return dups, seen


def cut_sizes(path):
    """The sizes to cut to, from the layout of the file at path."""
    st = harness.State(path)
    h = st.h
    header = ctypes.sizeof(harness.StateHeader)
    table_end = h.bucket_off + h.bucket_count * h.bucket_size
    size = (header + h.bucket_count * ctypes.sizeof(harness.StateBucket) +
            h.worker_count * ctypes.sizeof(harness.StateWorker))
    if size != h.total_size or os.path.getsize(path) != size:
        raise harness.Failure("%s: %d bytes, total_size %d, the layout "
                              "says %d" % (path, os.path.getsize(path),
                                           h.total_size, size))
    page = os.sysconf("SC_PAGE_SIZE")
    names = {0: "nothing", header: "the header",
             h.bucket_off + h.bucket_count // 2 * h.bucket_size:
             "half the bucket table", table_end: "the bucket table",
             4096: "4 KiB"}
    for p in range(page, size, page):
        names.setdefault(p, "a page boundary")
    return [(s, names[s]) for s in sorted(names) if s < size], size


def start_node(t):
    # The shipped configuration; the harness runs genid --init first, as
    # an operator does for a new node.
    d = harness.Daemon(t)
    d.start()
    with harness.connect(d.addr) as s:
        first = harness.get_id(s)
    return d, first >> 32


def truncate_to(size):
    return lambda d: os.truncate(d.state_path, size)


def copy_over(snapshot):
    """An older copy written over the file in place (same inode)."""
    def act(d):
        fd = os.open(d.state_path, os.O_WRONLY)
        try:
            os.pwrite(fd, snapshot, 0)
        finally:
            os.close(fd)
    return act


def rename_over(snapshot):
    """An older copy renamed onto the path (another inode)."""
    def act(d):
        tmp = d.state_path + ".other"
        with open(tmp, "wb") as f:
            f.write(snapshot)
        os.rename(tmp, d.state_path)
    return act


def restarts_above(t, d, label, load, size):
    """After the stop: a new state file at the path, the one found there
    kept beside it, and a plain restart whose IDs are all above every ID
    recorded before."""
    out = d.output()
    kept = glob.glob(d.state_path + ".damaged-*")
    t.check("wrote a new" in out and
            os.path.getsize(d.state_path) == size,
            "%s: a new state file of %d bytes is written at the path" %
            (label, size), out.strip())
    t.check(len(kept) == 1, "%s: the file found there is kept beside it" %
            label, "found %s" % kept)
    try:
        d.start()
    except harness.Failure as e:
        t.check(False, "%s: a plain restart starts" % label, str(e))
        return
    ids = []
    for _ in range(8):
        with harness.connect(d.addr) as s:
            ids += harness.get_ids(s, 255)
    low = min(ids) >> 32
    t.check(low > load.max_ts, "%s: every ID after the restart (%d on 8 "
            "connections) is in a later second than any before it" %
            (label, len(ids)),
            "lowest second %d, highest before %d" % (low, load.max_ts))
    d.stop()


def cut(t, d, act, label, size):
    workers = d.wait_workers()
    master = d.master_pid()
    load = CutLoad(d.addr, d.epoch).start()
    ready = harness.poll(
        lambda: load.finished.is_set() or (
            load.total >= BEFORE and len(load.answered) >= CONNS),
        BEFORE_DEADLINE)
    if load.finished.is_set() or not ready:
        load.stop.set()
        load.join()
        raise harness.Failure("%s: the load did not get going (%d IDs on "
                              "%d connections)" % (label, load.total,
                                                   len(load.answered)))
    ahead = load.max_ts - (int(time.time()) - d.epoch)
    before = load.total
    t_cut = time.monotonic()
    act(d)
    rc = d.wait_exit(EXIT_DEADLINE)
    took = time.monotonic() - t_cut
    if rc is None:
        d.kill_all()
    # The node is gone: every slot's next connection is refused.
    gone = load.finished.wait(LOAD_DEADLINE - took)
    load.stop.set()
    load.join()
    out = d.output()
    dups, seen = load.duplicates()
    t.note("FIGURES: %s: %d IDs recorded (%d after the cut) on %d "
           "connections, %d duplicates, %d order violations, exit %r "
           "%.2f s after the cut; the highest ID %+d s from the clock then"
           % (label, load.total, load.total - before, load.conns_opened,
              dups, len(load.order_violations), rc, took, ahead))
    # Borrowing under the load may take the buckets ahead again; they
    # passed through the second they restart at when the table is lost.
    t.check(load.first_lead <= 0, "%s: no start-up lead left: the "
            "load's first IDs came from the clock's second" % label,
            "%+d s ahead of the clock" % load.first_lead)
    t.check(dups == 0, "%s: no duplicate among %d IDs" % (label, load.total),
            "%d duplicates, e.g. %s" % (dups, "; ".join(seen)))
    t.check(not load.order_violations, "%s: IDs strictly increase on each "
            "of %d connections" % (label, load.conns_opened),
            "%d violations, e.g. %s" % (
                len(load.order_violations), "; ".join(
                    "conn %d: %#x after %#x" % v
                    for v in load.order_violations[:3])))
    t.check(not load.protocol_errors, "%s: replies are well-formed" % label,
            "; ".join(load.protocol_errors[:3]))
    t.check(rc == EX_IOERR, "%s: the master exits 74 (EX_IOERR) within %d s"
            % (label, EXIT_DEADLINE), "exit %r (master %d); output:\n%s"
            % (rc, master, out.strip()))
    t.check(d.state_path in out, "%s: the output names the state file"
            % label, out.strip())
    t.check("killed by signal 7" not in out, "%s: nothing died of SIGBUS"
            % label, out.strip())
    left = harness.poll(lambda: not any(harness.alive(p) for p in workers),
                        5)
    t.check(left, "%s: no worker is left" % label,
            "alive: %s" % [p for p in workers if harness.alive(p)])
    t.check(gone, "%s: the node refuses connections once it stopped"
            % label)
    if rc == EX_IOERR:
        restarts_above(t, d, label, load, size)


def test(t):
    first, first_ts = start_node(t)
    sizes, size = cut_sizes(first.state_path)
    t.note("state file of %d bytes; cuts to %s" % (
        size, ", ".join(str(s) for s, _ in sizes)))
    faults = [(truncate_to(s), "cut to %d bytes (%s)" % (s, what))
              for s, what in sizes]
    # Copies taken now are older than what the nodes issue under load.
    with open(first.state_path, "rb") as f:
        older = f.read()
    faults += [(copy_over(older), "an older copy written over it"),
               (rename_over(older), "an older copy renamed onto it")]
    nodes = [(first, first_ts)] + [start_node(t) for _ in faults[1:]]
    last = max(ts for _, ts in nodes)
    # Until the clock passes the second of the nodes' first IDs, their
    # buckets issue from the seconds they started at, which a cut cannot
    # repeat.
    epoch = first.epoch
    t.require(harness.poll(lambda: time.time() - epoch >= last + 1,
                           LEAD_DEADLINE, 0.05),
              "the clock passes the first IDs' second %d within %d s"
              % (last, LEAD_DEADLINE),
              "the clock is at %d" % (time.time() - epoch))
    for (d, _), (act, label) in zip(nodes, faults):
        cut(t, d, act, label, size)


harness.run(test, control=True, timeout=120)
