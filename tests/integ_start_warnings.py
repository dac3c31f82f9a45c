#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""
integ_start_warnings.py - the warnings genid gives at start-up.

Descriptors: each worker holds only its share of max_connections, so the
limit of one process is compared with that share (plus the few the process
needs itself), not with the whole node's max_connections.  genid runs
under a hard limit of 1024 it may not raise (setpriv drops
CAP_SYS_RESOURCE): 4 workers sharing 2000 connections fit, 1 worker with
2000 does not and is warned about.

The signed limit: after 2038 (epoch 0, the clock set to 2040 by
libfaketime) the warning says the IDs already passed 2^63, never "in -N
days".  Skips the parts whose tools (setpriv, prlimit, libfaketime) are
missing.
"""

import os
import re
import shutil
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "integration"))
import harness  # noqa: E402

# Why the descriptor cases set workers and max_connections.
SHARE = ("the warning compares each worker's share of max_connections "
         "with the limit: 4 x 500 fit under 1024, 1 x 2000 does not")



def descriptors(t):
    setpriv, prlimit = shutil.which("setpriv"), shutil.which("prlimit")
    if not setpriv or not prlimit:
        t.note("setpriv or prlimit missing: descriptor warning not checked")
        return False
    prefix = [prlimit, "--nofile=1024:1024", setpriv,
              "--bounding-set=-sys_resource", "--inh-caps=-sys_resource"]
    d = harness.Daemon(t, workers=4, max_connections=2000, why=SHARE)
    d.start(prefix=prefix)
    out = d.output()
    d.stop()
    t.check("the limit is 1024" not in out, "4 workers x 500 connections "
            "under a limit of 1024: no descriptor warning", out.strip())
    d = harness.Daemon(t, workers=1, max_connections=2000, why=SHARE)
    d.start(prefix=prefix)
    out = d.output()
    d.stop()
    t.check("the limit is 1024" in out, "1 worker x 2000 connections "
            "under a limit of 1024: warned", out.strip())
    return True


def signed_limit(t):
    lib = harness.libfaketime()
    if lib is None:
        t.note("libfaketime is not installed: the signed-limit warning is "
               "not checked")
        return False
    d = harness.Daemon(t)
    d.start(env={"LD_PRELOAD": lib, "FAKETIME": "@2040-01-01 00:00:00",
                 "FAKETIME_DONT_FAKE_MONOTONIC": "1"})
    out = d.output()
    d.stop()
    line = [ln for ln in out.splitlines() if "2^63" in ln]
    t.check(line, "in 2040 genid warns that IDs no longer fit a signed "
            "64-bit column", out.strip())
    t.check(line and not re.search(r"in -\d+ days", line[0]),
            "the warning gives no negative number of days", line)
    t.check(line and "2038-01-19" in line[0],
            "the warning names the day the limit was passed", line)
    return True


def test(t):
    ran = descriptors(t)
    ran = signed_limit(t) or ran
    if not ran:
        t.skip("neither setpriv/prlimit nor libfaketime is installed")


harness.run(test, control=True)
