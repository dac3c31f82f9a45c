#!/usr/bin/env python3
"""
integ_metrics_emfile.py - review finding: scrape.c accept_cb logs
and returns when accept4(2) fails with EMFILE/ENFILE/ENOBUFS/ENOMEM; the
listening socket stays readable, libev calls accept_cb again at once, and
the master's loop spins at 100% CPU writing one "metrics: accept: Too many
open files" line per iteration (tens of MB of log per second) for as long
as a connection waits in the backlog.

The descriptor shortage is made by lowering the master's RLIMIT_NOFILE
(prlimit on the pid this test started) to what it holds now plus two.

Expected: the master backs off (stop the listener for a while, or accept
and close with a reserve fd like nginx/libevent) and rate-limits the log.
"""

import os
import shutil
import socket
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "integration"))
import harness  # noqa: E402



def cpu_s(pid):
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def test(t):
    if not shutil.which("prlimit"):
        raise harness.Skip("no prlimit(1)")
    d = harness.Daemon(t, workers=1, metrics_listen="127.0.0.1:0").start()
    port = harness.metrics_port(d)
    master = d.master_pid()
    nfd = len(os.listdir("/proc/%d/fd" % master))
    subprocess.check_call(["prlimit", "--pid", str(master),
                           "--nofile=%d:%d" % (nfd + 2, nfd + 2)])
    socks = [socket.create_connection(("127.0.0.1", port))
             for _ in range(4)]
    try:
        time.sleep(0.3)
        c0, l0 = cpu_s(master), os.path.getsize(d.log_path)
        time.sleep(2)
        cpu, grew = cpu_s(master) - c0, os.path.getsize(d.log_path) - l0
    finally:
        for s in socks:
            s.close()
    t.check(cpu < 0.5, "the master does not spin while accept fails "
            "(EMFILE)", "%.2f s of CPU in 2 s" % cpu)
    t.check(grew < 100000, "the log is rate-limited while accept fails",
            "the log grew by %d bytes in 2 s" % grew)
    d.stop()


harness.run(test, control=True)
