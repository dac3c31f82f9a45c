#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
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


def test(t):
    # A peer that accepts and never answers keeps the check busy ~1 s each:
    # eight of them keep the child alive long enough to be signalled.
    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(16)
    peer = "127.0.0.1:%d" % hole.getsockname()[1]
    d = harness.Daemon(t, peers=[peer] * 8, why="eight peers that never "
                       "answer keep the peer check child alive long "
                       "enough to be signalled").start(deadline=30)
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
        held = harness.socket_inodes(child)
    except OSError:
        held = set()
    lst = harness.tcp_sockets(d.port)[0]
    t.require(lst is not None, "the ID port's listening socket is found")
    t.check(lst not in held, "the peer check child does not hold the ID "
            "listening socket", "%s in %s" % (lst, sorted(held)))
    try:
        os.kill(child, 15)  # our own grandchild: the harness started genid
    except ProcessLookupError:
        raise harness.Failure("the peer check child %d ended before it "
                              "could be signalled" % child)
    t.check(harness.poll(lambda: not harness.alive(child), 2),
            "the peer check child stops on "
            "SIGTERM", "pid %d still alive" % child)
    hole.close()
    d.stop()


harness.run(test, control=True, timeout=110)
