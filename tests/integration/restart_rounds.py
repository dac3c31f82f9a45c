# SPDX-License-Identifier: BSD-2-Clause
"""
restart_rounds.py - kill -9 of the whole server and restart at once, in
rounds; shared by integ_restart.py and integ_restart_loop.py.
"""

import array
import socket
import time

import harness


def first_id(addr, deadline=5.0):
    """Connects (retrying while refused) and gets one ID; (id, seconds)."""
    t0 = time.monotonic()
    end = t0 + deadline
    last = None
    while time.monotonic() < end:
        try:
            with socket.create_connection(addr, timeout=2) as s:
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                return harness.get_id(s), time.monotonic()
        except (OSError, EOFError) as e:
            last = e
            time.sleep(0.002)
    raise harness.Failure("no ID from %s:%d within %.0f s: %s"
                          % (addr + (deadline, last)))


def simulate_reboot(t, d, st0, n):
    """Makes the state file look like a crash followed by a reboot: the
    kernel boot it was written under is another one, and the bucket table
    rolled back to what it held at the start of the round (pages written
    since then lost with the power).  Returns whether it could."""
    if not harness.has_header_field("kernel_boot"):
        t.note("round %d: state.h has no kernel_boot: reboot not simulated"
               % n)
        return False
    harness.patch_bytes(d.state_path, harness.header_offset("kernel_boot"),
                        b"\x5a" * 16)
    for i, b in enumerate(st0.buckets):
        harness.patch_bytes(d.state_path, harness.bucket_word_offset(st0, i),
                            harness.struct.pack("<Q", b.word))
    return True


def told_stop(reboot):
    """How the restart's log tells the last stop: the kernel boot is
    compared only when this host's boot id can be read."""
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            known = len(f.read().strip()) == 36
    except OSError:
        known = False
    if not known:
        return "after a crash (a reboot since is unknown"
    return "after a crash and a reboot:" if reboot else "after a crash:"


def run_rounds(t, rounds, rapid):
    """Kills and restarts genid once per round.  rounds: (label, IDs to
    fetch under load before the kill, 0 for none, "crash" or "reboot").
    A "crash" restarts under the same kernel boot, a "reboot" also rolls
    the bucket table back (simulate_reboot).  Either way the stop was
    unclean: only the checkpoint is trusted, every ID after the restart
    must have a timestamp above it (genid(7)) and stay above every ID issued
    before on its bucket; the lead this gives (2 s a crash) is carried by
    the boot's slew, so the restart serves at once.  rapid: kill again
    right after the restart; otherwise wait until that slew is over and
    the clock is within max_ahead_s + 1 of the checkpoint."""
    d = harness.Daemon(t).start()
    port = d.port
    # Restart on the same port, as an init system would.
    d.set(port=port)
    history = []  # arrays of IDs of every round, in order
    node = harness.node_bits(d.zone, d.dc, d.machine)
    restart_times = []
    for n, (label, amount, mode) in enumerate(rounds, 1):
        if n > 1 and not rapid:
            t0 = time.monotonic()
            ok = harness.poll(lambda: d.state().h.checkpoint + d.epoch -
                              int(time.time()) <= d.max_ahead + 1, 15, 0.05)
            t.check(ok, "round %d: the clock comes within max_ahead_s + 1 "
                    "of the checkpoint (%.2f s)" % (n, time.monotonic() - t0))
        st0 = d.state()
        load = None
        if amount:
            load = harness.Load(d.addr, conns=64, target=10 ** 9,
                                time_limit=30)
            load.start()
            t.require(harness.poll(lambda: load.total >= amount or
                                   load.finished.is_set(), 30),
                      "round %d: %d IDs before the kill" % (n, amount),
                      "got %d" % load.total)
        with harness.connect(d.addr) as s:
            probe = harness.get_ids(s, 255)
        killed = d.kill_all()
        cp = d.state().h.checkpoint
        t.note("round %d (%s): killed %s with SIGKILL; checkpoint %d"
               % (n, label, killed, cp))
        t.check(len(killed) == 3, "round %d: master and 2 workers killed"
                % n, "killed %s" % killed)
        reboot = mode == "reboot" and simulate_reboot(t, d, st0, n)
        d.spawn()
        t0 = d.started_at
        try:
            fid, t1 = first_id(("127.0.0.1", port))
        except harness.Failure as e:
            t.check(False, "round %d: serving again after the restart" % n,
                    "%s\n%s" % (e, d.output().strip()))
            raise
        took = t1 - t0
        restart_times.append(took)
        t.check(took < 1.0, "round %d: first ID %.3f s after the restart "
                "(< 1 s)" % (n, took))
        d.wait_ready(5)
        t.check(told_stop(reboot) in d.output(), "round %d: the log says "
                "%r" % (n, told_stop(reboot)), d.output().strip())
        if load:
            load.join(30)
            t.check(not load.protocol_errors,
                    "round %d: replies before the kill are well-formed" % n,
                    "; ".join(load.protocol_errors[:5]))
            before = load.all_ids()
            harness.check_segments(t, load.segments, node, d.epoch,
                                   load.wall_start, load.wall_end,
                                   d.max_ahead, "round %d before the kill"
                                   % n)
        else:
            before = array.array("Q")
        before.extend(probe)
        over = [x for x in before if x >> 32 > cp]
        t.check(not over, "round %d: every ID before the kill has ts <= the "
                "durable checkpoint %d" % (n, cp),
                "%d above, e.g. %#x ts %d" % (
                    len(over), over[0], over[0] >> 32) if over else None)
        after_load = harness.Load(d.addr, conns=64, target=300000,
                                  time_limit=30)
        after_load.run()
        t.check(not after_load.errors and not after_load.protocol_errors,
                "round %d: 64 connections served after the restart" % n,
                "; ".join((after_load.errors + after_load.protocol_errors)
                          [:5]))
        after = after_load.all_ids()
        after.append(fid)
        bmax = {}
        for x in before:
            b = (x >> 16) & 31
            if x > bmax.get(b, 0):
                bmax[b] = x
        bad = []
        for x in after:
            b = (x >> 16) & 31
            if b in bmax and x <= bmax[b]:
                bad.append("bucket %d: %#x <= %#x" % (b, x, bmax[b]))
        abuckets = {(x >> 16) & 31 for x in after}
        t.check(not bad, "round %d: on each bucket (%d before, %d after) "
                "every ID after the restart > every ID before" % (
                    n, len(bmax), len(abuckets)), "; ".join(bad[:5]))
        low = [x for x in after if x >> 32 <= cp]
        t.check(not low, "round %d: after an unclean stop (%s) every ID "
                "has ts > the checkpoint %d" % (n, mode, cp),
                "%d not, e.g. %#x ts %d" % (len(low), low[0], low[0] >> 32)
                if low else None)
        for line in d.output().splitlines():
            if "resume" in line:
                t.note("round %d: %s" % (n, line))
        # Each crash in a row adds 2 s of lead, which the slew takes back.
        harness.check_segments(t, after_load.segments, node, d.epoch,
                               after_load.wall_start, after_load.wall_end,
                               d.max_ahead + 2 * n + 1, "round %d after" % n)
        st1 = d.state()
        t.check(st1.h.boot_count == st0.h.boot_count + 1,
                "round %d: boot_count %d -> %d" % (
                    n, st0.h.boot_count, st1.h.boot_count))
        t.check(st1.h.checkpoint >= cp, "round %d: the checkpoint never "
                "decreases (%d -> %d)" % (n, cp, st1.h.checkpoint))
        history.append(before)
        history.append(after)
        t.note("round %d: %d IDs before, %d after" % (n, len(before),
                                                      len(after)))
    everything = array.array("Q")
    for h in history:
        everything.extend(h)
    harness.check_unique(t, everything, "all rounds")
    t.note("restart to first ID: %s s" % ", ".join(
        "%.3f" % x for x in restart_times))
    rc, took = d.stop()
    t.check(rc == 0, "SIGTERM at the end: exit 0", "got %r" % rc)
