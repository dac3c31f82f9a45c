#!/usr/bin/env python3
"""
integ_peers_child.py - review finding (minor): the periodic peer
check child (master.c peers_cb) is a bare fork of the master.  It keeps
libev's signal handlers, so SIGTERM/SIGINT/SIGHUP sent to it are caught and
only poke the master's (shared) eventfd: the child cannot be stopped
except by SIGKILL.  It also keeps every descriptor of the master: the ID
listening socket, the metrics listener, open scrape connections, the pid
file and the epoll/eventfd of the master's loop, so after SIGTERM closed
the listeners the port still accepts connections while the child lives.

Takes about 65 s: the first periodic check is 60 s after the start.
Expected: the child resets the signal dispositions and closes what it
does not need (or is spawned with only what it needs).
"""

import os
import socket
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "integration"))
import harness  # noqa: E402


def socket_inodes(pid):
    out = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if link.startswith("socket:["):
            out.add(link)
    return out


def listening_inode(port):
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            cols = line.split()
            if int(cols[1].split(":")[1], 16) == port and cols[3] == "0A":
                return "socket:[%s]" % cols[9]
    return None


def test(t):
    # A peer that accepts and never answers keeps the check busy ~1 s each.
    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(16)
    peer = "127.0.0.1:%d" % hole.getsockname()[1]
    d = harness.Daemon(t, workers=1, machine_id=4,
                       peers=[peer, peer, peer, peer]).start()
    master = d.master_pid()
    workers = set(d.workers_now())
    child = None
    end = time.monotonic() + 75
    while time.monotonic() < end and child is None:
        kids = [k for k in harness.children(master) if k not in workers
                and "peer check" in harness.cmdline(k)]
        child = kids[0] if kids else None
        time.sleep(0.02)  # a poll interval: the child is looked for
    t.require(child is not None, "the periodic peer check child ran")
    try:
        held = socket_inodes(child)
    except OSError:
        held = set()
    lst = listening_inode(d.port)
    t.check(lst not in held, "the peer check child does not hold the ID "
            "listening socket", "%s in %s" % (lst, sorted(held)))
    os.kill(child, 15)  # our own grandchild: the harness started genid
    t.check(harness.poll(lambda: not harness.alive(child), 2),
            "the peer check child stops on "
            "SIGTERM", "pid %d still alive" % child)
    hole.close()
    d.stop()


harness.run(test, control=True, timeout=110)
